//! The project model: where the mini-program lives, its packages, and every file in it.
//!
//! Discovery follows WeChat DevTools: `project.config.json` (with `project.private.config.json`
//! overriding it) names the mini-program root (`miniprogramRoot`, or the legacy `client` key),
//! `app.json` there names pages and subpackages, and every file under the root lands in the
//! subpackage whose root holds it, or else in the main package. A uni-app or Taro project is
//! discovered from its source folder or its build ([`framework`]).

mod app;
pub mod framework;
mod pack_options;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use app::{
    AppConfig, Located, SubpackageDecl, TabBar, TabBarItem, TabIcon, components, norm_dir,
};
pub use framework::{Framework, FrameworkName};
pub use pack_options::PackRule;

use crate::diagnostic::Diagnostic;
use crate::json_doc::{self, Json};
use crate::source::{self, FileKind, SourceFile};
use crate::span::{FileId, Span};

/// Package size limits in bytes (miniprogram-layout.md §1.7).
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    pub package: u64,
    pub total: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            package: 2 * 1024 * 1024,
            total: 30 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Package {
    /// `main`, or the subpackage's `name` / root.
    pub name: String,
    /// Root folder relative to the mini-program root; empty for the main package.
    pub root: String,
    pub independent: bool,
    /// Page paths relative to the mini-program root, without extension.
    pub pages: Vec<String>,
}

impl Package {
    pub fn is_main(&self) -> bool {
        self.root.is_empty()
    }
}

/// Settings from project.config.json that change what is built and uploaded.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub compiler_plugins: Vec<String>,
    pub ignore_upload_unused_files: bool,
    pub minified: Option<bool>,
    pub minify_wxml: Option<bool>,
    pub minify_wxss: Option<bool>,
}

/// A discovered project. Built by [`Project::discover`]; read by everything after it.
#[derive(Debug)]
pub struct Project {
    /// The folder holding project.config.json (or app.json when there is none).
    pub root: PathBuf,
    /// The mini-program root relative to `root`, without trailing `/` (empty: the same folder).
    pub mp_root: String,
    pub cloudfunction_root: Option<String>,
    pub appid: Option<String>,
    pub settings: Settings,
    pub pack_ignore: Vec<PackRule>,
    pub pack_include: Vec<PackRule>,
    pub app: AppConfig,
    pub packages: Vec<Package>,
    pub files: Vec<SourceFile>,
    /// Project-relative path → file.
    pub by_path: rustc_hash::FxHashMap<String, FileId>,
    pub app_json: Option<FileId>,
    pub project_config: Option<FileId>,
    /// `ext.json` values (third-party platform builds): `ext` object, flattened to strings.
    pub ext: Vec<(String, String)>,
    /// The framework that built the mini-program from sources elsewhere in the project.
    pub framework: Option<Framework>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Why discovery could not start at all. Everything short of this is a [`Diagnostic`].
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ProjectError {
    #[error("`{0}` does not exist or is not a folder")]
    #[diagnostic(
        code(migrate::project::not_a_folder),
        help("pass the folder that holds project.config.json")
    )]
    NotAFolder(PathBuf),
    #[error("no mini-program in `{0}`: neither project.config.json nor app.json is there")]
    #[diagnostic(
        code(migrate::project::not_found),
        help(
            "pass the folder that holds project.config.json or app.json, or a uni-app project (manifest.json and pages.json) or Taro project (config/index.js) that has been built"
        )
    )]
    NotFound(PathBuf),
    #[error(
        "`{dir}` is a {framework} project, but its mini-program has not been built: there is nothing in {looked_in}"
    )]
    #[diagnostic(
        code(migrate::project::not_built),
        help(
            "build it for WeChat first (uni-app: HBuilderX → 运行 → 运行到小程序模拟器 → 微信, or `npm run build:mp-weixin`; Taro: `npm run build:weapp`), then run this again"
        )
    )]
    NotBuilt {
        dir: PathBuf,
        framework: &'static str,
        looked_in: String,
    },
}

impl Project {
    /// Discovers the project in `dir`. Only a missing folder or a folder with no mini-program in
    /// it is an error; bad config is reported in `diagnostics` and discovery carries on.
    pub fn discover(dir: &Path) -> Result<Project, ProjectError> {
        if !dir.is_dir() {
            return Err(ProjectError::NotAFolder(dir.to_path_buf()));
        }
        let layout = framework::layout(dir).map_err(|e| match e {
            framework::NoLayout::NotFound => ProjectError::NotFound(dir.to_path_buf()),
            framework::NoLayout::NotBuilt {
                framework,
                looked_in,
            } => ProjectError::NotBuilt {
                dir: dir.to_path_buf(),
                framework,
                looked_in,
            },
        })?;
        let root = layout.root;
        let config_dir = layout.config_dir;
        let mut diags = layout.notes;
        let has_config = root.join(&config_dir).join("project.config.json").is_file();
        let config = if has_config {
            read_project_config(&root, &config_dir, &mut diags)
        } else {
            if layout.framework.is_none() {
                diags.push(
                    Diagnostic::warning(
                        "config/no-project-config",
                        "no project.config.json; taking this folder as the mini-program root",
                    )
                    .help("open the project in WeChat DevTools once to create project.config.json"),
                );
            }
            None
        };
        let cfg = config.as_ref().map(|(_, j)| j);
        // Folders project.config.json names are relative to the folder that holds it.
        let str_key = |k: &str| {
            cfg.and_then(|c| c.get(k))
                .and_then(Json::as_str)
                .map(|v| join_dir(&config_dir, &norm_dir(v)))
        };
        let mp_root = str_key("miniprogramRoot")
            .or_else(|| str_key("client"))
            .unwrap_or(layout.default_mp_root);
        let cloudfunction_root = str_key("cloudfunctionRoot").filter(|s| !s.is_empty());
        let framework = layout.framework.map(|mut fw| {
            if fw.source_root.is_some() {
                fw.output_root = mp_root.clone();
            }
            diags.push(fw.note());
            fw
        });
        let appid = cfg
            .and_then(|c| c.get("appid"))
            .and_then(Json::as_str)
            .map(str::to_string);
        let setting = cfg.and_then(|c| c.get("setting"));
        let sbool = |k: &str| setting.and_then(|s| s.get(k)).and_then(Json::as_bool);
        let settings = Settings {
            compiler_plugins: setting
                .and_then(|s| s.get("useCompilerPlugins"))
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            ignore_upload_unused_files: sbool("ignoreUploadUnusedFiles").unwrap_or(false),
            minified: sbool("minified"),
            minify_wxml: sbool("minifyWXML"),
            minify_wxss: sbool("minifyWXSS"),
        };
        let (pack_ignore, pack_include) = match &config {
            Some((path, c)) => (
                pack_rules(
                    c.get("packOptions").and_then(|p| p.get("ignore")),
                    path,
                    &mut diags,
                ),
                pack_rules(
                    c.get("packOptions").and_then(|p| p.get("include")),
                    path,
                    &mut diags,
                ),
            ),
            None => (Vec::new(), Vec::new()),
        };

        let mut project = Project {
            root,
            mp_root,
            cloudfunction_root,
            appid,
            settings,
            pack_ignore,
            pack_include,
            app: AppConfig::default(),
            packages: Vec::new(),
            files: Vec::new(),
            by_path: Default::default(),
            app_json: None,
            project_config: None,
            ext: Vec::new(),
            framework,
            diagnostics: diags,
        };
        let config_path = join_dir(&config_dir, "project.config.json");
        if !project.root.join(&project.mp_root).is_dir() {
            project.diagnostics.push(
                Diagnostic::error(
                    "config/missing-root",
                    format!("the mini-program root `{}` does not exist", project.mp_root),
                )
                .at(config_path.clone(), None)
                .help("fix `miniprogramRoot` in project.config.json"),
            );
        }
        project.inventory();
        project.project_config = project.by_path.get(&config_path).copied();
        project.read_app();
        project.assign_packages();
        project.read_ext();
        Ok(project)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.index()]
    }

    /// The file at a path relative to the mini-program root.
    pub fn mp_file(&self, mp_path: &str) -> Option<FileId> {
        // Looked up for every path the analysis resolves: no key is made when the root is the
        // project folder.
        if self.mp_root.is_empty() {
            return self.by_path.get(mp_path.trim_start_matches('/')).copied();
        }
        self.by_path.get(&self.mp_to_project(mp_path)).copied()
    }

    /// Turns a mini-program-relative path into a project-relative one.
    pub fn mp_to_project(&self, mp_path: &str) -> String {
        let mp_path = mp_path.trim_start_matches('/');
        if self.mp_root.is_empty() {
            return mp_path.to_string();
        }
        let mut path = String::with_capacity(self.mp_root.len() + 1 + mp_path.len());
        path.push_str(&self.mp_root);
        path.push('/');
        path.push_str(mp_path);
        path
    }

    /// Walks the project folder: every file, with its kind, size and whether it is uploaded.
    fn inventory(&mut self) {
        let walker = walkdir::WalkDir::new(&self.root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let name = e.file_name().to_string_lossy();
                e.depth() == 0
                    || !(name == "node_modules"
                        || name == ".git"
                        || name == ".migrate"
                        || (name.starts_with('.') && e.file_type().is_dir()))
            });
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let rel = err
                        .path()
                        .map(|p| self.rel(p))
                        .unwrap_or_else(|| ".".into());
                    let (code, msg, help) = if err.loop_ancestor().is_some() {
                        (
                            "fs/symlink-loop",
                            format!(
                                "`{rel}` is a symbolic link that loops back to one of its parent folders; skipped"
                            ),
                            "remove the link, or point it at a folder outside its own parents",
                        )
                    } else {
                        (
                            "fs/unreadable",
                            format!("`{rel}` could not be read: {err}"),
                            "check the file's permissions, or whether a link points at something missing",
                        )
                    };
                    self.diagnostics
                        .push(Diagnostic::warning(code, msg).at(rel, None).help(help));
                    continue;
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let rel = self.rel(entry.path());
            let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
            let id = FileId(self.files.len() as u32);
            let mp_path = self.mp_relative(&rel);
            self.by_path.insert(rel.clone(), id);
            self.files.push(SourceFile {
                id,
                kind: FileKind::from_path(&rel),
                path: rel,
                mp_path,
                abs: entry.path().to_path_buf(),
                bytes,
                package: None,
                uploaded: false,
                excluded_by: None,
            });
        }
    }

    fn rel(&self, p: &Path) -> String {
        p.strip_prefix(&self.root)
            .unwrap_or(p)
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    }

    fn mp_relative(&self, rel: &str) -> Option<String> {
        if let Some(cf) = &self.cloudfunction_root
            && (rel == cf || rel.starts_with(&format!("{cf}/")))
        {
            return None;
        }
        if self.mp_root.is_empty() {
            return Some(rel.to_string());
        }
        rel.strip_prefix(&self.mp_root)
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_string)
    }

    /// Reads a small config file of the project through the inventory.
    fn read_json(&mut self, rel: &str, lenient: bool) -> Option<(FileId, Json)> {
        let id = *self.by_path.get(rel)?;
        let text = match source::read_text(&self.files[id.index()].abs) {
            Ok(t) => t,
            Err(e) => {
                self.diagnostics.push(
                    Diagnostic::error("fs/unreadable", format!("`{rel}` could not be read: {e}"))
                        .at(rel, None),
                );
                return None;
            }
        };
        let parsed = if lenient {
            json_doc::parse_lenient(&text.text)
        } else {
            json_doc::parse(&text.text)
        };
        match parsed {
            Ok(j) => Some((id, j)),
            Err(e) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        "config/invalid-json",
                        format!("`{rel}` is not valid JSON: {}", e.message),
                    )
                    .at(rel, Some(Span::new(id, e.start as usize, e.end as usize)))
                    .help("fix the JSON syntax; DevTools will refuse to compile it too"),
                );
                None
            }
        }
    }

    fn read_app(&mut self) {
        let app_path = self.mp_to_project("app.json");
        if !self.by_path.contains_key(&app_path) {
            self.diagnostics.push(
                Diagnostic::error("config/no-app-json", format!("`{app_path}` is missing"))
                    .at(app_path.clone(), None)
                    .help("check `miniprogramRoot` in project.config.json: it must name the folder that holds app.json"),
            );
            return;
        }
        let Some((app_id, app_json)) = self.read_json(&app_path, false) else {
            return;
        };
        self.app_json = Some(app_id);
        let theme = app_json
            .get("themeLocation")
            .and_then(Json::as_str)
            .map(|t| self.mp_to_project(&norm_dir(t)))
            .and_then(|p| self.read_json(&p, false).map(|(id, j)| (id, p, j)));
        let mut diags = Vec::new();
        self.app = AppConfig::from_json(
            app_id,
            &app_path,
            &app_json,
            theme.as_ref().map(|(id, p, j)| (*id, p.as_str(), j)),
            &mut diags,
        );
        self.diagnostics.extend(diags);
    }

    fn read_ext(&mut self) {
        let path = self.mp_to_project("ext.json");
        if !self.by_path.contains_key(&path) {
            return;
        }
        if let Some((_, j)) = self.read_json(&path, false)
            && let Some(ext) = j.get("ext")
        {
            flatten_strings("", ext, &mut self.ext);
        }
    }

    /// Puts each file under the mini-program root into its package and decides whether the
    /// uploader takes it.
    fn assign_packages(&mut self) {
        let mut packages = vec![Package {
            name: "main".into(),
            root: String::new(),
            independent: false,
            pages: self.app.pages.iter().map(|p| p.value.clone()).collect(),
        }];
        let mut seen_roots: Vec<String> = Vec::new();
        for sub in &self.app.subpackages {
            let root = sub.root.value.clone();
            if root.is_empty() {
                self.diagnostics.push(
                    Diagnostic::error("config/invalid-value", "a subpackage root is empty")
                        .at(self.mp_to_project("app.json"), Some(sub.root.span)),
                );
                continue;
            }
            if let Some(outer) = seen_roots.iter().find(|r| {
                root.starts_with(&format!("{r}/"))
                    || r.starts_with(&format!("{root}/"))
                    || **r == root
            }) {
                self.diagnostics.push(
                    Diagnostic::error(
                        "config/nested-subpackage",
                        format!("subpackage root `{root}` overlaps `{outer}`; a subpackage root may not sit inside another"),
                    )
                    .at(self.mp_to_project("app.json"), Some(sub.root.span)),
                );
                continue;
            }
            if sub.pages.is_empty() {
                self.diagnostics.push(
                    Diagnostic::warning(
                        "config/empty-subpackage",
                        format!("subpackage `{root}` lists no pages"),
                    )
                    .at(self.mp_to_project("app.json"), Some(sub.root.span))
                    .help("add its pages, or remove the subpackage from app.json"),
                );
            }
            seen_roots.push(root.clone());
            packages.push(Package {
                name: sub.name.clone().unwrap_or_else(|| root.clone()),
                pages: sub
                    .pages
                    .iter()
                    .map(|p| format!("{root}/{}", p.value))
                    .collect(),
                root,
                independent: sub.independent,
            });
        }
        for f in &mut self.files {
            let Some(mp) = &f.mp_path else {
                f.excluded_by = Some(
                    if f.path
                        .starts_with(self.cloudfunction_root.as_deref().unwrap_or("\0"))
                    {
                        "cloudfunctionRoot".into()
                    } else {
                        "outside miniprogramRoot".into()
                    },
                );
                continue;
            };
            let pkg = packages
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, p)| mp.starts_with(&format!("{}/", p.root)))
                .map(|(i, _)| i)
                .unwrap_or(0);
            f.package = Some(pkg);
            let name = mp.rsplit('/').next().unwrap_or(mp);
            let tool_config = matches!(
                mp.as_str(),
                "project.config.json"
                    | "project.private.config.json"
                    | "package-lock.json"
                    | "tsconfig.json"
            ) || name.ends_with(".d.ts");
            if tool_config {
                f.excluded_by = Some("tool config".into());
            } else if !source::on_upload_whitelist(mp, &self.settings.compiler_plugins) {
                f.excluded_by = Some(format!(
                    "`.{}` is not on the upload whitelist",
                    source::extension(mp)
                ));
            } else if let Some(rule) = self
                .pack_ignore
                .iter()
                .find(|r| r.matches(mp) || r.matches(&f.path))
                && !self
                    .pack_include
                    .iter()
                    .any(|r| r.matches(mp) || r.matches(&f.path))
            {
                f.excluded_by = Some(rule.describe());
            } else {
                f.uploaded = true;
            }
        }
        self.packages = packages;
    }
}

/// Reads project.config.json and applies project.private.config.json over it.
/// `dir`: the project-relative folder holding them (empty: the project folder).
fn read_project_config(
    root: &Path,
    dir: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<(String, Json)> {
    let read = |file: &str, diags: &mut Vec<Diagnostic>| -> Option<Json> {
        let name = join_dir(dir, file);
        let name = name.as_str();
        let path = root.join(name);
        let text = match source::read_text(&path) {
            Ok(t) => t,
            Err(_) => return None,
        };
        match json_doc::parse_lenient(&text.text) {
            Ok(j) if j.is_object() => Some(j),
            Ok(j) => {
                diags.push(
                    Diagnostic::error(
                        "config/invalid-value",
                        format!("`{name}` must hold an object, found {}", j.type_name()),
                    )
                    .at(name, None),
                );
                None
            }
            Err(e) => {
                diags.push(
                    Diagnostic::error(
                        "config/invalid-json",
                        format!("`{name}` is not valid JSON: {}", e.message),
                    )
                    .at(name, None)
                    .help("fix the JSON syntax; until then the defaults are used"),
                );
                None
            }
        }
    };
    let path = join_dir(dir, "project.config.json");
    let base = read("project.config.json", diags)?;
    let Some(private) = read("project.private.config.json", diags) else {
        return Some((path, base));
    };
    Some((path, merge_private(base, private)))
}

/// `path` inside the project-relative folder `dir` (empty: the project folder).
fn join_dir(dir: &str, path: &str) -> String {
    match (dir.is_empty(), path.is_empty()) {
        (true, _) => path.to_string(),
        (false, true) => dir.to_string(),
        (false, false) => format!("{dir}/{path}"),
    }
}

/// `project.private.config.json` wins key by key; its `setting` is merged into the base one.
fn merge_private(mut base: Json, private: Json) -> Json {
    use crate::json_doc::JsonKind;
    let JsonKind::Object(base_members) = &mut base.kind else {
        return base;
    };
    let JsonKind::Object(private_members) = private.kind else {
        return base;
    };
    for pm in private_members {
        match base_members.iter_mut().find(|m| m.key == pm.key) {
            Some(bm) if pm.key == "setting" => {
                if let (JsonKind::Object(bs), JsonKind::Object(ps)) =
                    (&mut bm.value.kind, pm.value.kind)
                {
                    for p in ps {
                        match bs.iter_mut().find(|b| b.key == p.key) {
                            Some(b) => b.value = p.value,
                            None => bs.push(p),
                        }
                    }
                }
            }
            Some(bm) => bm.value = pm.value,
            None => base_members.push(pm),
        }
    }
    base
}

fn pack_rules(v: Option<&Json>, path: &str, diags: &mut Vec<Diagnostic>) -> Vec<PackRule> {
    let mut rules = Vec::new();
    for item in v.and_then(Json::as_array).unwrap_or(&[]) {
        let kind = item.get("type").and_then(Json::as_str).unwrap_or("");
        let Some(value) = item.get("value").and_then(Json::as_str) else {
            continue;
        };
        match PackRule::new(kind, value) {
            Ok(r) => rules.push(r),
            Err(msg) => diags.push(
                Diagnostic::warning(
                    "config/invalid-pack-rule",
                    format!("packOptions rule ignored: {msg}"),
                )
                .at(path, None),
            ),
        }
    }
    rules
}

fn flatten_strings(prefix: &str, v: &Json, out: &mut Vec<(String, String)>) {
    for m in v.members() {
        let key = if prefix.is_empty() {
            m.key.clone()
        } else {
            format!("{prefix}.{}", m.key)
        };
        match m.value.as_str() {
            Some(s) => out.push((key, s.to_string())),
            None => flatten_strings(&key, &m.value, out),
        }
    }
}
