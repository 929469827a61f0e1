//! Project discovery on small projects written into temporary folders: config keys, overrides,
//! packages, packOptions, and bad input that must be reported, never panic.

use std::fs;
use std::path::Path;

use analyzer::{Project, Severity};

fn write(root: &Path, rel: &str, text: &[u8]) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn codes(p: &Project) -> Vec<&'static str> {
    p.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn legacy_client_key_private_override_and_subpackages() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "project.config.json", br#"{"client":"client/","setting":{"useCompilerPlugins":[]},
        "packOptions":{"ignore":[{"type":"folder","value":"design"},{"type":"suffix","value":".gif"}],
                       "include":[{"type":"file","value":"design/keep.png"}]}}"#);
    write(
        r,
        "project.private.config.json",
        br#"{"setting":{"useCompilerPlugins":["typescript"]}}"#,
    );
    write(r, "client/app.json", br#"{"pages":["pages/index/index"],"subPackages":[{"root":"pkg/","pages":["a/a"],"independent":true}]}"#);
    write(r, "client/app.ts", b"App({})");
    write(r, "client/pages/index/index.ts", b"Page({})");
    write(r, "client/pages/index/index.wxml", b"<view/>");
    write(r, "client/pkg/a/a.js", b"Page({})");
    write(r, "client/design/big.png", &[0u8; 100]);
    write(r, "client/design/keep.png", &[0u8; 10]);
    write(r, "client/images/spin.gif", &[0u8; 10]);
    write(r, "client/fonts/a.ttf", &[0u8; 10]);
    write(r, "client/typings/wx.d.ts", b"declare const wx: any");
    write(r, "server/index.js", b"// not part of the package");
    let p = Project::discover(r).unwrap();
    assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
    assert_eq!(p.mp_root, "client");
    assert_eq!(p.settings.compiler_plugins, ["typescript"]);
    assert_eq!(p.packages.len(), 2);
    assert!(p.packages[1].independent);
    let f = |path: &str| p.file(*p.by_path.get(path).unwrap_or_else(|| panic!("{path}")));
    assert_eq!(f("client/pkg/a/a.js").package, Some(1));
    assert_eq!(f("client/pages/index/index.ts").package, Some(0));
    assert!(
        f("client/app.ts").uploaded,
        "a .ts file is compiled with the typescript plugin"
    );
    assert!(!f("client/design/big.png").uploaded);
    assert!(f("client/design/keep.png").uploaded, "include beats ignore");
    assert!(!f("client/images/spin.gif").uploaded);
    assert!(
        f("client/fonts/a.ttf")
            .excluded_by
            .as_deref()
            .unwrap()
            .contains("whitelist")
    );
    assert!(!f("client/typings/wx.d.ts").uploaded);
    assert_eq!(f("server/index.js").package, None);
}

#[test]
fn cloudfunction_root_inside_the_package_is_not_counted() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "project.config.json",
        br#"{"cloudfunctionRoot":"cloudfunctions/"}"#,
    );
    write(r, "app.json", br#"{"pages":["index"]}"#);
    write(r, "index.js", b"Page({})");
    write(
        r,
        "cloudfunctions/login/index.js",
        b"exports.main = async () => ({})",
    );
    let p = Project::discover(r).unwrap();
    let cf = p.file(p.by_path["cloudfunctions/login/index.js"]);
    assert_eq!(cf.package, None);
    assert!(!cf.uploaded);
    assert_eq!(cf.excluded_by.as_deref(), Some("cloudfunctionRoot"));
}

#[test]
fn bad_config_is_reported_with_spans_and_discovery_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "project.config.json",
        b"{ \"miniprogramRoot\": \"mp/\", ",
    );
    write(
        r,
        "app.json",
        br#"{"pages": ["index"], "subpackages": [{"pages": []}], }"#,
    );
    let p = Project::discover(r).unwrap();
    let c = codes(&p);
    assert!(c.contains(&"config/invalid-json"), "{c:?}");
    // project.config.json is broken, so the defaults hold: the folder itself is the root, where
    // app.json is broken too (a trailing comma); that error carries a span.
    let app_err = p
        .diagnostics
        .iter()
        .find(|d| d.path.as_deref() == Some("app.json"))
        .expect("app.json diagnostic");
    assert_eq!(app_err.severity, Severity::Error);
    assert!(app_err.span.is_some());
}

#[test]
fn missing_folder_and_missing_project_are_errors() {
    assert!(Project::discover(Path::new("/nonexistent/migrate-test")).is_err());
    let dir = tempfile::tempdir().unwrap();
    let err = Project::discover(dir.path()).unwrap_err();
    assert!(err.to_string().contains("no mini-program"), "{err}");
}

#[test]
fn missing_app_json_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "project.config.json",
        br#"{"miniprogramRoot":"src/"}"#,
    );
    write(dir.path(), "src/index.js", b"");
    let p = Project::discover(dir.path()).unwrap();
    assert_eq!(codes(&p), ["config/no-app-json"]);
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(r, "app.json", br#"{"pages":["index"]}"#);
    write(r, "index.js", b"Page({})");
    write(r, "a/b/x.js", b"");
    std::os::unix::fs::symlink("../..", r.join("a/b/up")).unwrap();
    let p = Project::discover(r).unwrap();
    assert!(codes(&p).contains(&"fs/symlink-loop"), "{:?}", codes(&p));
    assert!(p.by_path.contains_key("a/b/x.js"));
}

/// With `setting.ignoreUploadUnusedFiles` the uploader leaves out what nothing uses: an unused
/// file still shows as unused but no longer counts toward its package or the verdict.
#[test]
fn ignore_upload_unused_files_takes_unused_files_out_of_the_size() {
    let size = |ignore: bool| {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::write(
            r.join("project.config.json"),
            format!(r#"{{"setting":{{"ignoreUploadUnusedFiles":{ignore}}}}}"#),
        )
        .unwrap();
        fs::write(r.join("app.json"), r#"{"pages":["index"]}"#).unwrap();
        fs::write(r.join("index.js"), "Page({})").unwrap();
        fs::write(r.join("old.js"), "x".repeat(3 << 20)).unwrap();
        let a = analyzer::analyze(Project::discover(r).unwrap(), analyzer::Options::default());
        let s = analyzer::sizes::SizeReport::new(&a);
        let main = &s.packages[0];
        (main.bytes, main.over_limit, s.unused.len())
    };
    let (kept, over_kept, unused_kept) = size(false);
    let (dropped, over_dropped, unused_dropped) = size(true);
    assert!(kept > 3 << 20 && over_kept, "{kept}");
    assert!(dropped < 1024 && !over_dropped, "{dropped}");
    assert_eq!((unused_kept, unused_dropped), (1, 1));
}
