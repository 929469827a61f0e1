//! The module graph of the whole app: which file reaches which, by what kind of reference, and
//! so which files nothing reaches. Roots are what the framework loads by itself: `app.*`,
//! every page listed in app.json, global components, tabBar icons, the sitemap and theme files,
//! workers.

pub mod resolve;

use rayon::prelude::*;
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::files::{FileData, Parsed};
use crate::js::ImportKind;
use crate::json_doc::Json;
use crate::project::{Project, components};
use crate::span::{FileId, Span};
use crate::{wxml, wxss};

pub use resolve::Resolver;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    Script(ImportKind),
    /// A page or component's sibling file (`.js`, `.wxml`, `.wxss`, `.json`).
    Sibling,
    Component,
    WxmlImport,
    WxmlInclude,
    Wxs,
    WxssImport,
    /// A reference to an asset (image, audio, …) by path.
    Asset,
    /// Listed in app.json (page, sitemap, theme, tabBar icon, worker).
    Config,
}

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub from: FileId,
    pub to: FileId,
    pub kind: EdgeKind,
    #[serde(skip)]
    pub span: Option<Span>,
}

/// What building the graph reads, and the diagnostics it writes.
struct BuildCx<'a> {
    project: &'a Project,
    files: &'a [FileData],
    diags: &'a mut Vec<Diagnostic>,
    /// Page and component bases already followed (components may be shared or cyclic).
    seen: std::collections::HashSet<String>,
}

#[derive(Debug, Default)]
pub struct ModuleGraph {
    pub resolver: Resolver,
    pub edges: Vec<Edge>,
    /// Outgoing edge indices per file.
    pub out: Vec<Vec<usize>>,
    /// Incoming edge indices per file.
    pub incoming: Vec<Vec<usize>>,
    /// Files the framework loads by itself.
    pub roots: Vec<FileId>,
    /// Whether a file is reachable from a root.
    pub reached: Vec<bool>,
}

const PAGE_EXTS: [&str; 7] = [".js", ".ts", ".wxml", ".wxss", ".json", ".less", ".scss"];

/// The files of a page or component (`base` + each of [`PAGE_EXTS`]).
type UnitFiles = [Option<FileId>; PAGE_EXTS.len()];

fn unit_files(project: &Project, base: &str) -> UnitFiles {
    let mut path = String::with_capacity(base.len() + 5);
    PAGE_EXTS.map(|ext| {
        path.clear();
        path.push_str(base);
        path.push_str(ext);
        project.mp_file(&path)
    })
}

impl ModuleGraph {
    /// Builds the graph from the project config and every parsed file; `extra` holds
    /// references found by other passes (WXML/WXSS dependencies, asset references).
    pub fn build(
        project: &Project,
        files: &[FileData],
        diags: &mut Vec<Diagnostic>,
    ) -> ModuleGraph {
        let mut g = ModuleGraph {
            resolver: Resolver::new(project),
            out: vec![Vec::new(); project.files.len()],
            incoming: vec![Vec::new(); project.files.len()],
            reached: vec![false; project.files.len()],
            ..ModuleGraph::default()
        };
        g.config_roots(&mut BuildCx {
            project,
            files,
            diags,
            seen: Default::default(),
        });
        // Each file's references are resolved in parallel, then added in file order.
        let resolver = &g.resolver;
        let per_file: Vec<Vec<Link>> = (0..files.len())
            .into_par_iter()
            .map(|i| links(resolver, project, FileId(i as u32), &files[i]))
            .collect();
        for (i, links) in per_file.into_iter().enumerate() {
            let from = FileId(i as u32);
            for l in links {
                match l {
                    Link::Edge(to, kind, span) => {
                        g.add(from, to, kind, span);
                        if let EdgeKind::Script(_) = kind
                            && let Some(manifest) = npm_manifest(project, to)
                        {
                            g.add(to, manifest, EdgeKind::Config, None);
                        }
                    }
                    Link::Unresolved(d) => diags.push(d),
                }
            }
        }
        g
    }

    pub fn add(&mut self, from: FileId, to: FileId, kind: EdgeKind, span: Option<Span>) {
        if from == to {
            return;
        }
        let i = self.edges.len();
        self.edges.push(Edge {
            from,
            to,
            kind,
            span,
        });
        self.out[from.index()].push(i);
        self.incoming[to.index()].push(i);
    }

    fn root(&mut self, id: FileId) {
        if !self.roots.contains(&id) {
            self.roots.push(id);
        }
    }

    /// Adds the files of a page or component (`base` relative to the mini-program root, no
    /// extension) with an edge from `from`, and follows its JSON's `usingComponents`.
    fn unit(
        &mut self,
        cx: &mut BuildCx<'_>,
        from: Option<FileId>,
        base: &str,
        kind: EdgeKind,
        span: Option<Span>,
    ) -> bool {
        let files = unit_files(cx.project, base);
        self.unit_of(cx, from, base, files, kind, span)
    }

    /// [`unit`](Self::unit) with its files already looked up.
    fn unit_of(
        &mut self,
        cx: &mut BuildCx<'_>,
        from: Option<FileId>,
        base: &str,
        files: UnitFiles,
        kind: EdgeKind,
        span: Option<Span>,
    ) -> bool {
        let project = cx.project;
        let mut found = false;
        let mut json_file = None;
        for (ext, id) in PAGE_EXTS.iter().zip(files) {
            if let Some(id) = id {
                found = true;
                match from {
                    Some(f) => self.add(f, id, kind, span),
                    None => self.root(id),
                }
                if *ext == ".json" {
                    json_file = Some(id);
                }
            }
        }
        if !cx.seen.insert(base.to_string()) {
            return found;
        }
        if let Some(jid) = json_file
            && let Parsed::Json(json) = &cx.files[jid.index()].parsed
            && let Some(comps) = json.get("usingComponents")
        {
            let path = project.file(jid).path.clone();
            for (_, target) in components(jid, &path, comps, cx.diags) {
                self.component(cx, jid, &target.value, target.span);
            }
        }
        found
    }

    fn component(&mut self, cx: &mut BuildCx<'_>, from: FileId, spec: &str, span: Span) {
        let project = cx.project;
        if spec.starts_with("plugin://") || spec.starts_with("plugin-private://") {
            return;
        }
        // Resolve through the `.json` of the component, then take its folder + name as base.
        let resolved = self.resolver.resolve_with(
            project,
            from,
            spec,
            &[".json", "/index.json", ".js", ".ts", ".wxml"],
        );
        let Some(id) = resolved else {
            if project.app.is_extended_lib(spec) {
                // Provided by the platform (`useExtendedLib`): no file in the package, no size.
                return;
            }
            cx.diags.push(
                Diagnostic::warning(
                    "graph/missing-component",
                    format!("component `{spec}` cannot be found"),
                )
                .at(project.file(from).path.clone(), Some(span))
                .help(
                    "fix the path in usingComponents, or build npm in DevTools if it is a package",
                ),
            );
            return;
        };
        if let Some(manifest) = npm_manifest(project, id) {
            self.add(id, manifest, EdgeKind::Config, None);
        }
        let mp = project.file(id).mp_path.clone().unwrap_or_default();
        let base = mp
            .rsplit_once('.')
            .map_or(mp.as_str(), |(b, _)| b)
            .to_string();
        self.unit(cx, Some(from), &base, EdgeKind::Component, Some(span));
    }

    fn config_roots(&mut self, cx: &mut BuildCx<'_>) {
        let project = cx.project;
        let Some(app_id) = project.app_json else {
            return;
        };
        self.root(app_id);
        let app_path = project.file(app_id).path.clone();
        for name in ["app", "sitemap"] {
            self.unit(cx, None, name, EdgeKind::Config, None);
        }
        for f in [&project.app.sitemap_location, &project.app.theme_location]
            .into_iter()
            .flatten()
        {
            if let Some(id) = project.mp_file(f) {
                self.add(app_id, id, EdgeKind::Config, None);
            }
        }
        // npm metadata DevTools reads to build `miniprogram_npm`.
        for name in ["ext.json", "package.json"] {
            if let Some(id) = project.mp_file(name) {
                self.root(id);
            }
        }
        let pages: Vec<(String, Span)> = project
            .app
            .pages
            .iter()
            .map(|p| (p.value.clone(), p.span))
            .chain(project.app.subpackages.iter().flat_map(|s| {
                s.pages
                    .iter()
                    .map(move |p| (format!("{}/{}", s.root.value, p.value), p.span))
            }))
            .collect();
        // The pages' files are looked up in parallel (thousands of pages in a large app).
        let files: Vec<UnitFiles> = pages
            .par_iter()
            .map(|(page, _)| unit_files(project, page))
            .collect();
        // A subpackage whose folder holds no file at all: one diagnostic for it, not one per
        // page it lists.
        let empty_roots: Vec<(String, Span, usize)> = project
            .app
            .subpackages
            .iter()
            .filter(|s| !s.pages.is_empty())
            .filter_map(|s| {
                let root = s.root.value.trim_matches('/');
                let prefix = format!("{}/", project.mp_to_project(root));
                let any = project.by_path.keys().any(|p| p.starts_with(&prefix));
                (!root.is_empty() && !any).then(|| (root.to_string(), s.root.span, s.pages.len()))
            })
            .collect();
        for (root, span, n) in &empty_roots {
            cx.diags.push(
                Diagnostic::error(
                    "config/missing-subpackage",
                    format!(
                        "subpackage `{root}` lists {} in app.json but its folder has no files",
                        crate::kinds::count(*n, "page", "pages")
                    ),
                )
                .at(app_path.clone(), Some(*span))
                .help("create the subpackage's folder and pages, or remove it from app.json"),
            );
        }
        let in_empty = |page: &str| {
            empty_roots.iter().any(|(root, _, _)| {
                page.trim_start_matches('/')
                    .starts_with(&format!("{root}/"))
            })
        };
        for ((page, span), files) in pages.into_iter().zip(files) {
            if !self.unit_of(cx, Some(app_id), &page, files, EdgeKind::Config, Some(span))
                && !in_empty(&page)
            {
                cx.diags.push(
                    Diagnostic::error(
                        "config/missing-page",
                        format!("page `{page}` is listed in app.json but has no files"),
                    )
                    .at(app_path.clone(), Some(span))
                    .help("create the page, or remove it from app.json"),
                );
            }
        }
        // Global `usingComponents` were followed with app.json itself, in `unit("app")`.
        if let Some(tab) = &project.app.tab_bar {
            for icon in tab.items.iter().flat_map(|i| &i.icons) {
                match self.resolver.resolve_with(
                    project,
                    app_id,
                    &format!("/{}", icon.path.trim_start_matches('/')),
                    &[""],
                ) {
                    Some(id) => self.add(app_id, id, EdgeKind::Config, Some(icon.span)),
                    None => cx.diags.push(
                        Diagnostic::error(
                            "config/missing-icon",
                            format!("tabBar icon `{}` does not exist", icon.path),
                        )
                        .at(app_path.clone(), Some(icon.span)),
                    ),
                }
            }
            if tab.custom {
                self.unit(
                    cx,
                    Some(app_id),
                    "custom-tab-bar/index",
                    EdgeKind::Config,
                    None,
                );
            }
        }
        if let Some(workers) = &project.app.workers {
            let prefix = format!("{workers}/");
            for f in &project.files {
                if f.mp_path.as_deref().is_some_and(|p| p.starts_with(&prefix)) {
                    self.add(app_id, f.id, EdgeKind::Config, None);
                }
            }
        }
    }

    /// Marks everything reachable from the roots.
    pub fn compute_reach(&mut self) {
        let mut stack: Vec<FileId> = self.roots.clone();
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut self.reached[id.index()], true) {
                continue;
            }
            for &e in &self.out[id.index()] {
                let to = self.edges[e].to;
                if !self.reached[to.index()] {
                    stack.push(to);
                }
            }
        }
    }
}

fn is_relative(spec: &str) -> bool {
    spec.starts_with("./") || spec.starts_with("../") || spec.starts_with('/')
}

/// Reads a JSON file's value if it parsed.
pub fn json_of(files: &[FileData], id: FileId) -> Option<&Json> {
    match &files[id.index()].parsed {
        Parsed::Json(j) => Some(j),
        _ => None,
    }
}

/// A reference a file makes: an edge to a file, or a path that leads nowhere.
enum Link {
    Edge(FileId, EdgeKind, Option<Span>),
    Unresolved(Diagnostic),
}

/// The references a file makes: WXML `import`/`include`/`wxs`, WXSS `@import`, script imports.
fn links(resolver: &Resolver, project: &Project, from: FileId, f: &FileData) -> Vec<Link> {
    let mut out = Vec::new();
    let unresolved = |spec: &str, span: Span, what: &str| {
        Link::Unresolved(
            Diagnostic::warning(
                "graph/unresolved",
                format!(
                    "`{spec}` cannot be resolved from `{}`",
                    project.file(from).path
                ),
            )
            .at(project.file(from).path.clone(), Some(span))
            .help(format!("check the path; {what} will fail to load it too")),
        )
    };
    // A path written in WXML/WXSS: an edge, or a warning unless it is a URL or a binding.
    let mut markup = |spec: &str, exts: &[&str], kind: EdgeKind, span: Span| match resolver
        .resolve_with(project, from, spec, exts)
    {
        Some(to) => out.push(Link::Edge(to, kind, Some(span))),
        None if spec.contains("://") || spec.contains("{{") => {}
        None => out.push(unresolved(spec, span, "the page")),
    };
    match &f.parsed {
        Parsed::Wxml(doc) => {
            for (kind, src, span) in wxml::dependencies(doc) {
                let (edge, exts): (EdgeKind, &[&str]) = match kind {
                    wxml::DepKind::Import => (EdgeKind::WxmlImport, &["", ".wxml"]),
                    wxml::DepKind::Include => (EdgeKind::WxmlInclude, &["", ".wxml"]),
                    wxml::DepKind::Wxs => (EdgeKind::Wxs, &["", ".wxs"]),
                };
                markup(&src, exts, edge, span);
            }
        }
        Parsed::Wxss(sheet) => {
            for (src, span) in wxss::imports(sheet) {
                let exts: &[&str] = &["", ".wxss", ".less", ".scss"];
                markup(&src, exts, EdgeKind::WxssImport, span);
            }
        }
        Parsed::Script(js) => {
            for imp in &js.module.imports {
                match resolver.resolve_script(project, from, &imp.specifier) {
                    Some(to) => {
                        out.push(Link::Edge(to, EdgeKind::Script(imp.kind), Some(imp.span)))
                    }
                    None if is_relative(&imp.specifier) => {
                        out.push(unresolved(&imp.specifier, imp.span, "the runtime"))
                    }
                    None => {}
                }
            }
        }
        _ => {}
    }
    out
}

/// A file inside `miniprogram_npm/<package>/` uses that package's `package.json` (its `main`
/// decides what `require('<package>')` loads).
fn npm_manifest(project: &Project, file: FileId) -> Option<FileId> {
    let mp = project.file(file).mp_path.as_deref()?;
    let (before, after) = mp.split_once("miniprogram_npm/")?;
    let mut parts = after.split('/');
    let name = match parts.next() {
        Some(scope) if scope.starts_with('@') => {
            format!("{scope}/{}", parts.next().unwrap_or(""))
        }
        Some(name) => name.to_string(),
        None => return None,
    };
    project.mp_file(&format!("{before}miniprogram_npm/{name}/package.json"))
}
