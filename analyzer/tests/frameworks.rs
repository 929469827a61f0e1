//! uni-app and Taro projects (`fixtures/apps/uni-app`, `fixtures/apps/taro`): the framework and
//! its build are found from the source folder and from the build folder, the sources are
//! parsed, and positions in the built chunks map back to the source lines `EXPECTED.md` lists.

use std::path::{Path, PathBuf};

use analyzer::files::{self, FileData, Parsed};
use analyzer::project::FrameworkName;
use analyzer::{Options, Project, Span, analyze};

fn app(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/apps")
        .join(rel)
}

/// The span of the 1-based `line`:`column` (in chars) of a project file, one byte long.
fn at(project: &Project, files: &[FileData], path: &str, line: usize, column: usize) -> Span {
    let id = project.by_path[path];
    let text = &files[id.index()].text.as_ref().expect("chunk is read").text;
    let start: usize = text.split('\n').take(line - 1).map(|l| l.len() + 1).sum();
    let offset = start
        + text[start..]
            .char_indices()
            .nth(column - 1)
            .map_or(0, |(i, _)| i);
    Span::new(id, offset, offset + 1)
}

/// Where the built position `path:line:column` came from, as `path:line:column`.
fn source_of(
    project: &Project,
    files: &[FileData],
    path: &str,
    line: usize,
    column: usize,
) -> Option<String> {
    let loc = files::loc(project, files, at(project, files, path, line, column));
    loc.source
        .map(|s| format!("{}:{}:{}", s.path, s.line, s.column))
}

#[test]
fn uni_app_maps_built_positions_to_vue_and_common_sources() {
    let project = Project::discover(&app("uni-app")).expect("uni-app project");
    assert_eq!(project.mp_root, "unpackage/dist/dev/mp-weixin");
    let (files, diags) = files::load(&project);
    assert!(diags.is_empty(), "{diags:?}");
    let out = "unpackage/dist/dev/mp-weixin";
    // Call sites of EXPECTED.md: built position → source position.
    for (built, line, col, source) in [
        ("common/vendor.js", 470, 7, "common/http.js:18:7"),
        ("common/vendor.js", 549, 14, "common/api.js:8:14"),
        ("pages/mine/mine.js", 172, 7, "pages/mine/mine.vue:39:7"),
        ("common/main.js", 114, 9, "App.vue:16:9"),
        ("pages/index/index.js", 196, 7, "pages/index/index.vue:63:7"),
        (
            "pages/index/index.js",
            201,
            14,
            "pages/index/index.vue:68:14",
        ),
        ("pages/cart/cart.js", 194, 7, "pages/cart/cart.vue:61:7"),
        (
            "pagesOrder/list/list.js",
            188,
            7,
            "pagesOrder/list/list.vue:55:7",
        ),
    ] {
        let path = format!("{out}/{built}");
        assert_eq!(
            source_of(&project, &files, &path, line, col).as_deref(),
            Some(source),
            "{built}:{line}:{col}"
        );
    }
    // `main.js`'s map holds the loader's copy (one line added on top): the line is found in
    // the file itself.
    let main = source_of(&project, &files, &format!("{out}/common/main.js"), 18, 1);
    assert!(
        main.as_deref().is_some_and(|m| m.starts_with("main.js:9:")),
        "{main:?}"
    );
    // Framework code and webpack's glue map to no project file.
    assert_eq!(
        source_of(&project, &files, &format!("{out}/common/vendor.js"), 99, 25),
        None
    );
    assert_eq!(
        source_of(&project, &files, &format!("{out}/app.js"), 1, 1),
        None
    );

    // The sources are parsed (a `.vue` file through its `<script>` at its own offsets), and
    // are not part of the mini-program.
    let vue = project.by_path["pages/index/index.vue"];
    let Parsed::Source(js) = &files[vue.index()].parsed else {
        panic!("index.vue is parsed as a source");
    };
    let default = js.module.export("default").expect("export default");
    let text = &files[vue.index()].text.as_ref().unwrap();
    assert!(text.text[default.span.range()].starts_with('{'));
    assert!(project.file(vue).package.is_none());
}

#[test]
fn taro_maps_built_positions_to_tsx_sources() {
    let project = Project::discover(&app("taro")).expect("Taro project");
    let fw = project.framework.as_ref().expect("Taro is detected");
    assert_eq!(
        (fw.name, fw.output_root.as_str()),
        (FrameworkName::Taro, "dist")
    );
    let (files, diags) = files::load(&project);
    assert!(diags.is_empty(), "{diags:?}");
    for (built, line, col, source) in [
        ("dist/common.js", 1647, 28, "src/services/request.ts:24:3"),
        ("dist/common.js", 1596, 28, "src/services/api.ts:32:35"),
        (
            "dist/pages/mine/index.js",
            32,
            5,
            "src/pages/mine/index.tsx:19:5",
        ),
        (
            "dist/pages/index/index.js",
            38,
            113,
            "src/pages/index/index.tsx:16:66",
        ),
        (
            "dist/pages/menu/index.js",
            43,
            25,
            "src/pages/menu/index.tsx:21:25",
        ),
        (
            "dist/packageUser/pages/coupon/index.js",
            35,
            11,
            "src/packageUser/pages/coupon/index.tsx:25:11",
        ),
    ] {
        assert_eq!(
            source_of(&project, &files, built, line, col).as_deref(),
            Some(source),
            "{built}:{line}:{col}"
        );
    }
    assert_eq!(source_of(&project, &files, "dist/taro.js", 283, 5), None);
    let tsx = project.by_path["src/pages/index/index.tsx"];
    assert!(matches!(files[tsx.index()].parsed, Parsed::Source(_)));
}

#[test]
fn static_data_of_both_apps_names_its_source() {
    for (dir, source) in [
        ("uni-app", "common/regions.js:5:16"),
        (
            "uni-app/unpackage/dist/dev/mp-weixin",
            "common/regions.js:5:16",
        ),
        ("taro", "src/constants/cities.ts:9:1"),
        ("taro/dist", "src/constants/cities.ts:9:1"),
    ] {
        let project = Project::discover(&app(dir)).expect("framework project");
        let a = analyze(project, Options::default());
        let data = &a.findings.static_data;
        assert_eq!(data.len(), 1, "{dir}");
        let s = data[0]
            .loc
            .source
            .as_deref()
            .expect("the table names its source");
        assert_eq!(
            format!("{}:{}:{}", s.path, s.line, s.column),
            source,
            "{dir}"
        );
        let note = a
            .diagnostics
            .iter()
            .find(|d| d.code == "framework/built-output");
        assert!(
            note.is_some(),
            "{dir}: says that rewrites belong in the sources"
        );
    }
}

#[test]
fn an_unbuilt_framework_project_says_to_build_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.json"), b"{}").unwrap();
    std::fs::write(dir.path().join("pages.json"), b"{\"pages\":[]}").unwrap();
    let err = Project::discover(dir.path()).unwrap_err();
    assert!(
        matches!(err, analyzer::ProjectError::NotBuilt { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("unpackage/dist/build/mp-weixin"));
}

/// Copies a folder, leaving out source maps (`.map` files and uni-app's `.sourcemap/`).
fn copy_without_maps(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let (src, dst) = (entry.path(), to.join(&name));
        if name == ".sourcemap" || name.to_string_lossy().ends_with(".map") {
            continue;
        }
        if src.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_without_maps(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

#[test]
fn without_maps_the_matching_source_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    copy_without_maps(&app("uni-app"), dir.path());
    let project = Project::discover(dir.path()).expect("uni-app project");
    let (files, _) = files::load(&project);
    let out = "unpackage/dist/dev/mp-weixin";
    for (built, line, col, source) in [
        ("common/vendor.js", 470, 7, Some("common/http.js:18:7")),
        (
            "pages/mine/mine.js",
            172,
            7,
            Some("pages/mine/mine.vue:39:7"),
        ),
        // `_this.$http.get(…)` reads differently from `this.$http.get(…)`: no line matches.
        ("pages/index/index.js", 201, 14, None),
        // The vue-loader glue of a page is no source's text.
        ("pages/mine/mine.js", 5, 1, None),
    ] {
        assert_eq!(
            source_of(&project, &files, &format!("{out}/{built}"), line, col).as_deref(),
            source,
            "{built}:{line}:{col}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    copy_without_maps(&app("taro"), dir.path());
    let project = Project::discover(dir.path()).expect("Taro project");
    let (files, _) = files::load(&project);
    // webpack renamed `Taro` in that line: no line of `request.ts` reads the same.
    assert_eq!(
        source_of(&project, &files, "dist/common.js", 1647, 28),
        None
    );
    let loc = files::loc(
        &project,
        &files,
        at(&project, &files, "dist/common.js", 1647, 28),
    );
    assert_eq!((loc.path.as_str(), loc.line), ("dist/common.js", 1647));
}

/// Copies a folder whole.
fn copy_all(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).unwrap();
            copy_all(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Rebuilt after `migrate apply`, a framework app bundles the runtime apply wrote into its
/// sources: the calls that end in it (the source the build maps them to is a generated file)
/// are the moved ones, not calls to report again. Here `src/services/request.ts` stands in for
/// that runtime (its first line made the generated mark; the map's positions below it hold).
#[test]
fn calls_that_end_in_the_generated_runtime_of_a_rebuilt_app_are_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    copy_all(&app("taro"), dir.path());
    let before = analyze(
        Project::discover(dir.path()).expect("Taro project"),
        Options::default(),
    );
    let through = |a: &analyzer::Analysis| {
        a.findings
            .backend_calls
            .iter()
            .filter(|c| {
                c.sink
                    .source
                    .as_ref()
                    .is_some_and(|s| s.path == "src/services/request.ts")
            })
            .count()
    };
    assert!(
        through(&before) > 5,
        "the request wrapper's calls are found"
    );
    let total = before.findings.backend_calls.len();
    let path = dir.path().join("src/services/request.ts");
    let text = std::fs::read_to_string(&path).unwrap();
    let first = text.find('\n').unwrap();
    std::fs::write(
        &path,
        format!("{}{}", analyzer::files::GENERATED_MARK, &text[first..]),
    )
    .unwrap();
    let after = analyze(
        Project::discover(dir.path()).expect("Taro project"),
        Options::default(),
    );
    assert_eq!(through(&after), 0);
    assert_eq!(
        after.findings.backend_calls.len(),
        total - through(&before),
        "the other calls stay"
    );
}
