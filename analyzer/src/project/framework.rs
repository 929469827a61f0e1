//! Framework projects: uni-app and Taro write the mini-program from sources of their own
//! (`.vue` single-file components, `.jsx`/`.tsx`) into a build folder that the next build
//! overwrites.
//!
//! [`layout`] decides where discovery starts. In a framework's source folder (uni-app:
//! `manifest.json` + `pages.json`; Taro: `config/index.js`) the built mini-program is found by
//! the framework's own rules: uni-app writes `unpackage/dist/{build,dev}/mp-weixin/` (HBuilderX)
//! or `dist/{build,dev}/mp-weixin/` (CLI, sources in `src/`), each with its own
//! `project.config.json`; Taro writes `outputRoot` (`dist/`), which the root
//! `project.config.json` names as `miniprogramRoot`. A folder that is itself such a build (its
//! runtime files say which framework wrote it) is analyzed from the source folder above it when
//! there is one, so both give the same report.

use std::path::{Path, PathBuf};

use serde::Serialize;
use swc_ecma_ast::{Expr, Lit, Prop, PropName};
use swc_ecma_visit::{Visit, VisitWith};

use super::app::norm_dir;
use crate::diagnostic::Diagnostic;
use crate::json_doc::{self, Json};
use crate::source::{self, FileKind};
use crate::span::FileId;

/// The frameworks whose builds are recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrameworkName {
    UniApp,
    Taro,
}

impl FrameworkName {
    /// The name as the framework writes it.
    pub fn title(self) -> &'static str {
        match self {
            FrameworkName::UniApp => "uni-app",
            FrameworkName::Taro => "Taro",
        }
    }

    /// The source files a developer edits, for messages.
    fn source_kinds(self) -> &'static str {
        match self {
            FrameworkName::UniApp => "`.vue` files and the scripts beside them",
            FrameworkName::Taro => "`.jsx`/`.tsx` files and the scripts beside them",
        }
    }
}

/// The framework that built the mini-program, and where its sources and its output are.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Framework {
    pub name: FrameworkName,
    /// The framework's version, where the project pins one (`package.json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Project-relative folder of the sources (empty: the project folder itself); absent when
    /// the build output was analyzed without the sources above it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_root: Option<String>,
    /// Project-relative folder of the built mini-program (the `miniprogramRoot`).
    pub output_root: String,
    /// Project-relative folder the framework builds into (`unpackage`, `dist`): never sources.
    #[serde(skip)]
    build_dir: String,
}

/// Folders at the top of a uni-app source root that hold no sources the build compiles
/// (`static/` is copied as it is).
const UNI_APP_NOT_SOURCES: &[&str] = &["static", "node_modules", "unpackage", "dist"];

impl Framework {
    /// Whether the project file at `path` is one of the framework's sources: a script or
    /// single-file component under the source root, outside the build folder.
    pub fn is_source(&self, path: &str, kind: FileKind) -> bool {
        let Some(root) = &self.source_root else {
            return false;
        };
        let scripts = match self.name {
            FrameworkName::UniApp => matches!(kind, FileKind::Vue | FileKind::Js | FileKind::Ts),
            FrameworkName::Taro => matches!(
                kind,
                FileKind::Js | FileKind::Ts | FileKind::Jsx | FileKind::Tsx
            ),
        };
        if !scripts || path.ends_with(".d.ts") {
            return false;
        }
        let Some(rel) = under(path, root) else {
            return false;
        };
        if under(path, &self.build_dir).is_some() || under(path, &self.output_root).is_some() {
            return false;
        }
        match rel.split_once('/') {
            // In HBuilderX's layout the source root is the project folder: of the scripts at
            // its top only the entry is a source (not `vue.config.js` and other tool config).
            None if root.is_empty() => matches!(rel, "main.js" | "main.ts" | "App.vue"),
            None => true,
            Some((top, _)) => {
                self.name != FrameworkName::UniApp || !UNI_APP_NOT_SOURCES.contains(&top)
            }
        }
    }

    /// The info diagnostic every framework project gets: rewrites belong in the sources.
    pub(super) fn note(&self) -> Diagnostic {
        let title = self.name.title();
        let out = shown(&self.output_root);
        match &self.source_root {
            Some(src) => Diagnostic::info(
                "framework/built-output",
                format!(
                    "this is a {title} project: the mini-program in `{out}` is built from the sources in `{}` and is overwritten by the next build",
                    shown(src)
                ),
            )
            .help(format!(
                "make the changes in the sources ({}), not in `{out}`; each finding names the source file and line it was built from (`sourceLoc` in the JSON report)",
                self.name.source_kinds()
            )),
            None => Diagnostic::info(
                "framework/built-output",
                format!(
                    "this folder is a mini-program built by {title}, and no {title} sources were found above it: the next build overwrites it"
                ),
            )
            .help(format!(
                "analyze the {title} project folder instead, and make the changes in its sources ({})",
                self.name.source_kinds()
            )),
        }
    }
}

/// One line for the human report: which framework built the mini-program, from where.
pub fn describe(fw: &Framework) -> String {
    let version = fw
        .version
        .as_ref()
        .map_or(String::new(), |v| format!(" {v}"));
    let title = fw.name.title();
    let out = shown(&fw.output_root);
    match &fw.source_root {
        Some(src) => format!(
            "Built by {title}{version}: the mini-program `{out}` is built from the sources in `{}`; make changes there, not in `{out}`.",
            shown(src)
        ),
        None => format!(
            "Built by {title}{version}: the sources of this mini-program were not found; the next build overwrites it."
        ),
    }
}

/// A project-relative folder as messages show it.
fn shown(dir: &str) -> &str {
    if dir.is_empty() { "." } else { dir }
}

/// `path` relative to the folder `dir` (empty: the project folder), if it is inside it.
fn under<'a>(path: &'a str, dir: &str) -> Option<&'a str> {
    if dir.is_empty() {
        return Some(path);
    }
    path.strip_prefix(dir)?.strip_prefix('/')
}

/// Why no layout was found: no mini-program at all, or a framework project never built.
#[derive(Debug)]
pub(super) enum NoLayout {
    NotFound,
    NotBuilt {
        framework: &'static str,
        looked_in: String,
    },
}

/// Where discovery starts.
#[derive(Debug)]
pub(super) struct Layout {
    /// The project folder.
    pub root: PathBuf,
    /// Project-relative folder whose `project.config.json` is read (empty: the project folder).
    pub config_dir: String,
    /// The mini-program root when `project.config.json` names none.
    pub default_mp_root: String,
    pub framework: Option<Framework>,
    /// Said about the layout before anything else (the folder given was a build output).
    pub notes: Vec<Diagnostic>,
}

impl Layout {
    fn plain(root: PathBuf) -> Layout {
        Layout {
            root,
            config_dir: String::new(),
            default_mp_root: String::new(),
            framework: None,
            notes: Vec::new(),
        }
    }
}

/// Decides the project folder, the folder of its `project.config.json` and the framework, for
/// the folder `dir` the user named (an existing folder).
pub(super) fn layout(dir: &Path) -> Result<Layout, NoLayout> {
    if let Some(l) = sources_layout(dir, None)? {
        return Ok(l);
    }
    let has_app = dir.join("app.json").is_file() || dir.join("project.config.json").is_file();
    if has_app && let Some(name) = built_by(dir) {
        return Ok(output_layout(dir, name));
    }
    if !has_app {
        return Err(NoLayout::NotFound);
    }
    Ok(Layout::plain(dir.to_path_buf()))
}

/// The layout of a framework's source folder `dir`, if it is one. `output`: the build folder
/// to analyze (project-relative), when the user named it.
fn sources_layout(dir: &Path, output: Option<&str>) -> Result<Option<Layout>, NoLayout> {
    if let Some(src) = uni_app_sources(dir) {
        return uni_app_layout(dir, src, output).map(Some);
    }
    if is_taro_root(dir) {
        return taro_layout(dir, output).map(Some);
    }
    Ok(None)
}

/// uni-app's source root in `dir`: empty for HBuilderX's layout (`manifest.json` and
/// `pages.json` in the folder, and no mini-program of its own), `src` for the CLI's.
fn uni_app_sources(dir: &Path) -> Option<&'static str> {
    let marked = |d: &Path| d.join("manifest.json").is_file() && d.join("pages.json").is_file();
    if marked(dir) && !dir.join("app.json").is_file() {
        return Some("");
    }
    (marked(&dir.join("src")) && dir.join("package.json").is_file()).then_some("src")
}

fn uni_app_layout(dir: &Path, src: &str, output: Option<&str>) -> Result<Layout, NoLayout> {
    let build_dir = if src.is_empty() {
        "unpackage/dist"
    } else {
        "dist"
    };
    let candidates = [
        format!("{build_dir}/build/mp-weixin"),
        format!("{build_dir}/dev/mp-weixin"),
    ];
    let out = match output {
        Some(o) => o.to_string(),
        None => candidates
            .iter()
            .find(|c| dir.join(c.as_str()).join("app.json").is_file())
            .cloned()
            .ok_or_else(|| NoLayout::NotBuilt {
                framework: FrameworkName::UniApp.title(),
                looked_in: candidates.join(", "),
            })?,
    };
    let mut notes = Vec::new();
    if output.is_none()
        && let Some(other) = candidates
            .iter()
            .find(|c| **c != out && dir.join(c.as_str()).join("app.json").is_file())
    {
        notes.push(Diagnostic::info(
            "framework/other-build",
            format!("analyzing the release build `{out}`; the development build `{other}` is there too"),
        ).help(format!("to analyze the development build, pass its folder: `migrate analyze {other}`")));
    }
    let config_dir = if dir.join(&out).join("project.config.json").is_file() {
        out.clone()
    } else {
        String::new()
    };
    let version = package_version(dir, &["@dcloudio/uni-app", "@dcloudio/uni-mp-weixin"]);
    Ok(Layout {
        root: dir.to_path_buf(),
        config_dir,
        default_mp_root: out.clone(),
        framework: Some(Framework {
            name: FrameworkName::UniApp,
            version,
            source_root: Some(src.to_string()),
            output_root: out,
            build_dir: build_dir.split('/').next().unwrap_or(build_dir).to_string(),
        }),
        notes,
    })
}

/// Whether `dir` is a Taro project folder: `config/index.js`, and `package.json` naming
/// `@tarojs/` packages or the config naming an `outputRoot`.
fn is_taro_root(dir: &Path) -> bool {
    let config = dir.join("config/index.js");
    if !config.is_file() {
        return false;
    }
    let in_package =
        std::fs::read_to_string(dir.join("package.json")).is_ok_and(|t| t.contains("\"@tarojs/"));
    in_package || std::fs::read_to_string(&config).is_ok_and(|t| t.contains("outputRoot"))
}

fn taro_layout(dir: &Path, output: Option<&str>) -> Result<Layout, NoLayout> {
    let (source_root, output_root) = taro_roots(&dir.join("config/index.js"));
    let out = output.map_or(output_root, str::to_string);
    let root_config = dir.join("project.config.json").is_file();
    let out_config = dir.join(&out).join("project.config.json").is_file();
    if !root_config && !dir.join(&out).join("app.json").is_file() {
        return Err(NoLayout::NotBuilt {
            framework: FrameworkName::Taro.title(),
            looked_in: out,
        });
    }
    let config_dir = if !root_config && out_config {
        out.clone()
    } else {
        String::new()
    };
    Ok(Layout {
        root: dir.to_path_buf(),
        config_dir,
        default_mp_root: out.clone(),
        framework: Some(Framework {
            name: FrameworkName::Taro,
            version: package_version(dir, &["@tarojs/taro", "@tarojs/cli"]),
            source_root: Some(source_root),
            build_dir: out.clone(),
            output_root: out,
        }),
        notes: Vec::new(),
    })
}

/// `sourceRoot` and `outputRoot` of a Taro `config/index.js` (`src` and `dist` when it names
/// none), read from the string values of those keys in its object literals.
fn taro_roots(config: &Path) -> (String, String) {
    struct Roots {
        source: Option<String>,
        output: Option<String>,
    }
    impl Visit for Roots {
        fn visit_prop(&mut self, p: &Prop) {
            if let Prop::KeyValue(kv) = p {
                let key = match &kv.key {
                    PropName::Ident(i) => Some(i.sym.as_str()),
                    PropName::Str(s) => s.value.as_str(),
                    _ => None,
                };
                let value = match &*kv.value {
                    Expr::Lit(Lit::Str(s)) => s.value.as_str().map(norm_dir),
                    _ => None,
                };
                match (key, value) {
                    (Some("sourceRoot"), Some(v)) => self.source = self.source.take().or(Some(v)),
                    (Some("outputRoot"), Some(v)) => self.output = self.output.take().or(Some(v)),
                    _ => {}
                }
            }
            p.visit_children_with(self);
        }
    }
    let mut roots = Roots {
        source: None,
        output: None,
    };
    if let Ok(text) = source::read_text(config) {
        let (js, _) = crate::js::parse(FileId(0), "config/index.js", FileKind::Js, &text.text);
        if let Some(js) = js {
            js.program.visit_with(&mut roots);
        }
    }
    (
        roots.source.unwrap_or_else(|| "src".into()),
        roots.output.unwrap_or_else(|| "dist".into()),
    )
}

/// The version `package.json` in `dir` gives the first of `packages` it depends on.
fn package_version(dir: &Path, packages: &[&str]) -> Option<String> {
    let text = source::read_text(&dir.join("package.json")).ok()?;
    let json: Json = json_doc::parse_lenient(&text.text).ok()?;
    packages.iter().find_map(|p| {
        ["dependencies", "devDependencies"].iter().find_map(|d| {
            json.get(d)?
                .get(p)?
                .as_str()
                .map(|v| v.trim_start_matches(['^', '~', '=']).to_string())
        })
    })
}

/// Which framework wrote the mini-program in `dir`, from its runtime files: uni-app's webpack
/// chunks (`common/runtime.js`, `common/vendor.js` pushing onto `webpackJsonp`), Taro's
/// `taro.js` chunk beside `runtime.js`.
fn built_by(dir: &Path) -> Option<FrameworkName> {
    let head = |rel: &str| -> Option<String> {
        use std::io::Read;
        let mut buf = vec![0u8; 4096];
        let mut f = std::fs::File::open(dir.join(rel)).ok()?;
        let n = f.read(&mut buf).ok()?;
        buf.truncate(n);
        Some(String::from_utf8_lossy(&buf).into_owned())
    };
    let chunk = |rel: &str| head(rel).is_some_and(|h| h.contains("webpackJsonp"));
    if dir.join("common/runtime.js").is_file() && chunk("common/vendor.js") {
        return Some(FrameworkName::UniApp);
    }
    if dir.join("runtime.js").is_file() && chunk("taro.js") {
        return Some(FrameworkName::Taro);
    }
    None
}

/// How many folders above a build output its sources are looked for (uni-app's
/// `unpackage/dist/dev/mp-weixin` is four below its project).
const UPWARDS: usize = 5;

/// The layout for a build output `dir` written by `name`: its project's source folder above it
/// when there is one, else the folder itself.
fn output_layout(dir: &Path, name: FrameworkName) -> Layout {
    let abs = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for up in abs.ancestors().skip(1).take(UPWARDS) {
        let found = match name {
            FrameworkName::UniApp => uni_app_sources(up).is_some(),
            FrameworkName::Taro => is_taro_root(up),
        };
        if !found {
            continue;
        }
        let Ok(rel) = abs.strip_prefix(up) else {
            continue;
        };
        let rel: Vec<_> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect();
        let rel = rel.join("/");
        if let Ok(Some(mut l)) = sources_layout(up, Some(&rel)) {
            let project = up.file_name().map_or_else(
                || up.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            l.notes.push(
                Diagnostic::info(
                    "framework/sources-found",
                    format!(
                        "`{}` is the {} build `{rel}` of the project `{project}`: analyzing that project, with this build",
                        dir.display(),
                        name.title()
                    ),
                )
                .help("paths in this report are relative to the project folder; pass it directly next time"),
            );
            return l;
        }
    }
    let mut l = Layout::plain(dir.to_path_buf());
    l.framework = Some(Framework {
        name,
        version: None,
        source_root: None,
        output_root: String::new(),
        build_dir: String::new(),
    });
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/apps")
            .join(name)
    }

    #[test]
    fn uni_app_root_takes_its_build() {
        let l = layout(&app("uni-app")).unwrap();
        let fw = l.framework.unwrap();
        assert_eq!(fw.name, FrameworkName::UniApp);
        assert_eq!(fw.source_root.as_deref(), Some(""));
        assert_eq!(fw.output_root, "unpackage/dist/dev/mp-weixin");
        assert_eq!(l.config_dir, "unpackage/dist/dev/mp-weixin");
        assert!(fw.is_source("pages/index/index.vue", FileKind::Vue));
        assert!(fw.is_source("common/http.js", FileKind::Js));
        assert!(fw.is_source("main.js", FileKind::Js));
        assert!(!fw.is_source(
            "unpackage/dist/dev/mp-weixin/common/vendor.js",
            FileKind::Js
        ));
        assert!(!fw.is_source("static/logo.png", FileKind::Image));
    }

    #[test]
    fn uni_app_build_folder_finds_its_sources() {
        let l = layout(&app("uni-app/unpackage/dist/dev/mp-weixin")).unwrap();
        assert!(l.root.ends_with("uni-app"));
        let fw = l.framework.unwrap();
        assert_eq!(fw.output_root, "unpackage/dist/dev/mp-weixin");
        assert_eq!(l.notes[0].code, "framework/sources-found");
    }

    #[test]
    fn taro_root_reads_its_config() {
        let l = layout(&app("taro")).unwrap();
        assert_eq!(l.config_dir, "");
        let fw = l.framework.unwrap();
        assert_eq!(fw.name, FrameworkName::Taro);
        assert_eq!(fw.version.as_deref(), Some("3.6.25"));
        assert_eq!(fw.source_root.as_deref(), Some("src"));
        assert_eq!(fw.output_root, "dist");
        assert!(fw.is_source("src/pages/index/index.tsx", FileKind::Tsx));
        assert!(!fw.is_source("config/index.js", FileKind::Js));
        assert!(!fw.is_source("babel.config.js", FileKind::Js));
        assert!(!fw.is_source("dist/common.js", FileKind::Js));
    }

    #[test]
    fn taro_dist_finds_its_sources() {
        let l = layout(&app("taro/dist")).unwrap();
        assert!(l.root.ends_with("taro"));
        assert_eq!(l.framework.unwrap().output_root, "dist");
    }

    #[test]
    fn a_native_app_has_no_framework() {
        let l = layout(&app("shop")).unwrap();
        assert!(l.framework.is_none());
        assert_eq!(l.config_dir, "");
    }
}
