//! The world of the backend-calls detector: every script's summary and the summaries of the
//! bundle modules written in it (found by id in their table, across chunk files for a chunk
//! registry), callees resolved across modules (aliases, imports, exports, `getApp()`,
//! `require`, `__webpack_require__`), which values are the global `wx` or made from it, where
//! each file's code comes from (the app, an npm package, a minified vendor file), and which
//! functions some call reaches.

use std::sync::OnceLock;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use rayon::prelude::*;
use swc_atoms::{Atom, atom};
use swc_ecma_ast::*;

use crate::detectors::context::Context;
use crate::files::Script;
use crate::findings::NetworkApi;
use crate::js::Imported;
use crate::js::syntax::{as_member, unwrap_expr};
use crate::span::FileId;
use crate::summary::{ExportDef, FileIndex, LocalPath, ModuleKey, Path, Spec, sink_api};

/// Where a file's code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    App,
    /// Under `miniprogram_npm/`.
    Npm,
    /// `*.min.js` outside `miniprogram_npm/`.
    Minified,
}

impl Origin {
    pub(super) fn of(path: &str) -> Origin {
        if path.starts_with("miniprogram_npm/") || path.contains("/miniprogram_npm/") {
            Origin::Npm
        } else if path.ends_with(".min.js") {
            Origin::Minified
        } else {
            Origin::App
        }
    }
}

/// A registered function: (file index in the world, function index in the file).
pub(super) type Gfn = (usize, usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Sink(NetworkApi),
    Fn(Gfn),
}

const MAX_HOPS: usize = 24;

/// Where [`World::reach`] ends: a registered function, or a value it was asked to stop at (its
/// file, the expression, and the names still to read from it); for a callee
/// ([`World::resolve_reaching`]), a network API too.
pub(super) enum Reached<'a> {
    Sink(NetworkApi),
    Fn(Gfn),
    Value(usize, &'a Expr, Path),
}

/// A file's summary: the one built at load time, or one built here.
pub(super) enum Summary<'a> {
    Shared(&'a FileIndex<'a>),
    Owned(Box<FileIndex<'a>>),
}

impl<'a> std::ops::Deref for Summary<'a> {
    type Target = FileIndex<'a>;
    fn deref(&self) -> &FileIndex<'a> {
        match self {
            Summary::Shared(ix) => ix,
            Summary::Owned(ix) => ix,
        }
    }
}

pub(super) struct World<'a> {
    pub cx: &'a Context<'a>,
    pub files: Vec<Summary<'a>>,
    pub by_file: HashMap<FileId, usize>,
    /// The file with `App({…})` and its argument.
    pub app: Option<(usize, &'a Expr)>,
    /// Constructor → the first `new C(args)` of its class (file of the `new`, arguments).
    pub instances: HashMap<Gfn, (usize, &'a [ExprOrSpread])>,
    /// Per file: the specifiers it imports, re-exports from or `require`s with a literal,
    /// resolved once (see [`resolve_spec`](Self::resolve_spec)).
    specs: Vec<HashMap<String, Option<usize>>>,
    /// The modules of bundles, by file (`None` for the project's chunk registries) and key.
    modules: HashMap<(Option<FileId>, ModuleKey), usize>,
    /// The functions some call resolves to (set once the calls are resolved, see
    /// [`runs`](Self::runs)).
    called: OnceLock<HashSet<Gfn>>,
    /// Per file: the app's code, an npm package's, a minified vendor file's.
    origins: Vec<Origin>,
}

/// The specifiers a file names (imports, `export … from`, `require('…')` with a literal),
/// each resolved to a file of the world.
fn resolve_specs(
    cx: &Context<'_>,
    f: &FileIndex<'_>,
    by_file: &HashMap<FileId, usize>,
) -> HashMap<String, Option<usize>> {
    let mut out: HashMap<String, Option<usize>> = HashMap::default();
    let mut add = |spec: &str| {
        if !out.contains_key(spec) {
            let t = cx
                .resolve(f.js.file, spec)
                .and_then(|id| by_file.get(&id).copied());
            out.insert(spec.to_string(), t);
        }
    };
    for (spec, _) in f.imports.values() {
        add(spec);
    }
    for e in f.exports.values() {
        if let ExportDef::From(spec, _) = e {
            add(spec);
        }
    }
    for spec in &f.required {
        add(spec);
    }
    out
}

impl<'a> World<'a> {
    pub(super) fn build(cx: &'a Context<'a>) -> World<'a> {
        let scripts: Vec<&'a Script> = cx.scripts().collect();
        // Summaries are built at load time; a project loaded without them is summarised here.
        // A file's factories follow it, as modules of their own.
        let files: Vec<Summary<'a>> = scripts
            .par_iter()
            .flat_map_iter(|s| {
                let (first, rest): (Summary<'a>, Vec<Summary<'a>>) = match s.calls_index() {
                    Some(ix) => (
                        Summary::Shared(ix),
                        ix.modules.iter().map(Summary::Shared).collect(),
                    ),
                    None => {
                        let mut ix = FileIndex::build(s);
                        let modules = std::mem::take(&mut ix.modules);
                        (
                            Summary::Owned(Box::new(ix)),
                            modules
                                .into_iter()
                                .map(|m| Summary::Owned(Box::new(m)))
                                .collect(),
                        )
                    }
                };
                std::iter::once(first).chain(rest)
            })
            .collect();
        let by_file = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.unit.is_none())
            .map(|(i, f)| (f.js.file, i))
            .collect();
        let mut modules = HashMap::default();
        for (i, f) in files.iter().enumerate() {
            if let Some(key) = &f.unit {
                let file = (!key.registry.shared()).then_some(f.js.file);
                modules.entry((file, key.clone())).or_insert(i);
            }
        }
        let app_paths = [
            cx.project.mp_to_project("app.js"),
            cx.project.mp_to_project("app.ts"),
        ];
        let mut apps: Vec<(usize, &'a Expr)> = files
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.app_object.map(|o| (i, o)))
            .collect();
        apps.sort_by_key(|(i, _)| {
            let path = &cx.project.file(files[*i].js.file).path;
            (!app_paths.contains(path), path.clone())
        });
        let origins = files
            .iter()
            .map(|f| Origin::of(&cx.project.file(f.js.file).path))
            .collect();
        let specs = files
            .par_iter()
            .map(|f| resolve_specs(cx, f, &by_file))
            .collect();
        let mut w = World {
            cx,
            app: apps.first().copied(),
            files,
            by_file,
            instances: HashMap::default(),
            specs,
            modules,
            called: OnceLock::new(),
            origins,
        };
        let mut instances = HashMap::default();
        for (j, f) in w.files.iter().enumerate() {
            let mut news: Vec<_> = f.news.iter().collect();
            news.sort_by(|a, b| a.0.cmp(b.0));
            for (class, args) in news {
                if let Some(g) = w.lookup(j, vec![class.clone(), atom!("constructor")]) {
                    instances.entry(g).or_insert((j, *args));
                }
            }
        }
        w.instances = instances;
        w
    }

    pub(super) fn resolve_spec(&self, fi: usize, spec: &str) -> Option<usize> {
        if let Some(&t) = self.specs[fi].get(spec) {
            return t;
        }
        let id = self.cx.resolve(self.files[fi].js.file, spec)?;
        self.by_file.get(&id).copied()
    }

    /// Where the code of file `fi` comes from.
    pub(super) fn origin(&self, fi: usize) -> Origin {
        self.origins[fi]
    }

    /// The module of a bundle that a module of file `fi` asks for by key.
    pub(super) fn module(&self, fi: usize, key: &ModuleKey) -> Option<usize> {
        let file = (!key.registry.shared()).then_some(self.files[fi].js.file);
        self.modules.get(&(file, key.clone())).copied()
    }

    /// Notes the functions the resolved calls reach (see [`runs`](Self::runs)).
    pub(super) fn set_called(&self, called: HashSet<Gfn>) {
        let _ = self.called.set(called);
    }

    /// Whether code in function `owner` of file `fi` may run: module top level, a function some
    /// call reaches, a page's or component's method (the framework calls those), a
    /// constructor. Before the calls are resolved, everything may.
    pub(super) fn runs(&self, fi: usize, owner: Option<usize>) -> bool {
        let (Some(o), Some(called)) = (owner, self.called.get()) else {
            return true;
        };
        if called.contains(&(fi, o)) {
            return true;
        }
        let name = &self.files[fi].fns[o].name;
        ["Page.", "Component.", "App.", "Behavior."]
            .iter()
            .any(|p| name.starts_with(p))
            || name.ends_with(".constructor")
    }

    /// `path#name`, or `path#id:name` in a module of a bundle (made for every backend call's
    /// function: no formatting machinery).
    pub(super) fn fn_id(&self, g: Gfn) -> String {
        let f = &self.files[g.0];
        let path = &self.cx.project.file(f.js.file).path;
        let name = &f.fns[g.1].name;
        let unit = f.unit.as_ref().map_or("", |k| k.id.as_str());
        let mut id = String::with_capacity(path.len() + 2 + unit.len() + name.len());
        id.push_str(path);
        id.push('#');
        if !unit.is_empty() {
            id.push_str(unit);
            id.push(':');
        }
        id.push_str(name);
        id
    }

    /// Whether `e` is the global `wx` (or `uni`, `Taro`), a member of it (`wx.pro`), or a value
    /// made from it (`promisifyAll(wx)`, the `wxp` filled by `promisifyAll(wx, wxp)`).
    pub(super) fn is_wx_like(&self, fi: usize, e: &Expr, depth: u32) -> bool {
        if depth > 8 {
            return false;
        }
        let f = &self.files[fi];
        match unwrap_expr(e) {
            Expr::Ident(i) => {
                if f.js.is_global_named(i, "wx") || f.js.is_global_named(i, "uni") {
                    return true;
                }
                let b = (i.sym.clone(), i.ctxt);
                if f.wx_aliases.contains(&b) {
                    return true;
                }
                if let Some((spec, imported)) = f.imports.get(&b) {
                    if spec == "@tarojs/taro" {
                        return true;
                    }
                    let Some(t) = self.resolve_spec(fi, spec) else {
                        return false;
                    };
                    let name = match imported {
                        Imported::Whole | Imported::Default => "default",
                        Imported::Named(n) => n.as_str(),
                    };
                    return self.export_is_wx_like(t, name, depth + 1);
                }
                if let Some(init) = f.vars.get(&b) {
                    return self.is_wx_like(fi, init, depth + 1);
                }
                false
            }
            // `wx.pro`, but not `wx.cloud` (already cloud: `wx.cloud.downloadFile`).
            Expr::Member(m) => {
                !matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"cloud")
                    && self.is_wx_like(fi, &m.obj, depth + 1)
            }
            Expr::Call(c) => {
                if c.args.iter().any(
                    |a| matches!(unwrap_expr(&a.expr), Expr::Ident(i) if f.js.is_global_named(i, "wx")),
                ) {
                    return true;
                }
                // Taro's build: `__webpack_require__("./node_modules/@tarojs/taro/index.js")`.
                if let Some(Spec::Module(key)) = f.load_spec(c) {
                    return key.id.contains("/@tarojs/taro/");
                }
                // `__webpack_require__.n(_taro)`: wx-like when `_taro` is.
                if let Some(m) = f.default_getter(c) {
                    return self.is_wx_like(fi, m, depth + 1);
                }
                // `_taro_default()`: that getter, called.
                let Callee::Expr(callee) = &c.callee else {
                    return false;
                };
                c.args.is_empty()
                    && matches!(unwrap_expr(callee), Expr::Ident(i) if f
                        .vars
                        .get(&(i.sym.clone(), i.ctxt))
                        .is_some_and(|init| matches!(unwrap_expr(init), Expr::Call(g) if f.default_getter(g).is_some())))
                    && self.is_wx_like(fi, callee, depth + 1)
            }
            _ => false,
        }
    }

    fn export_is_wx_like(&self, fi: usize, name: &str, depth: u32) -> bool {
        let f = &self.files[fi];
        match f.exports.get(name) {
            Some(ExportDef::Local(a)) => {
                let b = f.top(a);
                f.wx_aliases.contains(&b)
                    || f.vars
                        .get(&b)
                        .is_some_and(|init| self.is_wx_like(fi, init, depth + 1))
            }
            Some(ExportDef::Expr(e)) => self.is_wx_like(fi, e, depth + 1),
            _ => false,
        }
    }

    /// What a call's callee is: a network API or a registered function.
    pub(super) fn resolve_callee(
        &self,
        fi: usize,
        callee: &Expr,
        owner: Option<usize>,
    ) -> Option<Target> {
        match self.resolve_reaching(fi, callee, owner, &|_, _| false)? {
            Reached::Sink(api) => Some(Target::Sink(api)),
            Reached::Fn(g) => Some(Target::Fn(g)),
            Reached::Value(..) => None,
        }
    }

    /// Like [`resolve_callee`](Self::resolve_callee), but the path of names stops at a value
    /// `stop` accepts (see [`reach`](Self::reach)).
    pub(super) fn resolve_reaching(
        &self,
        fi: usize,
        callee: &Expr,
        owner: Option<usize>,
        stop: &dyn Fn(usize, &'a Expr) -> bool,
    ) -> Option<Reached<'a>> {
        if let Some((obj, name)) = as_member(callee)
            && let Some(api) = sink_api(&name)
            && self.is_wx_like(fi, obj, 0)
        {
            return Some(Reached::Sink(api));
        }
        // const request = promisify(wx.request), here or imported
        if let Some(api) = self.promisified_sink(fi, callee, 0) {
            return Some(Reached::Sink(api));
        }
        let (f, path) = self.expr_path(fi, callee, owner)?;
        self.reach(f, path, stop)
    }

    /// `promisify(wx.request)` (through constants and imports): the network API it wraps.
    fn promisified_sink(&self, fi: usize, e: &Expr, depth: u32) -> Option<NetworkApi> {
        if depth > 8 {
            return None;
        }
        let f = &self.files[fi];
        match unwrap_expr(e) {
            Expr::Ident(i) => {
                let b = (i.sym.clone(), i.ctxt);
                let Some((spec, imported)) = f.imports.get(&b) else {
                    return self.promisified_sink(fi, f.vars.get(&b)?, depth + 1);
                };
                let Imported::Named(name) = imported else {
                    return None;
                };
                let t = self.resolve_spec(fi, spec)?;
                let tf = &self.files[t];
                match tf.exports.get(name)? {
                    ExportDef::Local(a) => {
                        let init = tf.vars.get(&tf.top(a))?;
                        self.promisified_sink(t, init, depth + 1)
                    }
                    ExportDef::Expr(e) => self.promisified_sink(t, e, depth + 1),
                    ExportDef::From(..) => None,
                }
            }
            Expr::Call(c) => {
                let arg = c.args.first()?;
                let (obj, name) = as_member(&arg.expr)?;
                let api = sink_api(&name)?;
                self.is_wx_like(fi, obj, 0).then_some(api)
            }
            _ => None,
        }
    }

    /// A callee expression as a dotted path of names in some file.
    pub(super) fn expr_path(
        &self,
        fi: usize,
        e: &Expr,
        owner: Option<usize>,
    ) -> Option<(usize, Path)> {
        let local = self.files[fi].local_path(e, owner, Vec::new(), 0)?;
        self.place(fi, local)
    }

    /// Like [`expr_path`](Self::expr_path), but an object literal is entered by the first name
    /// of `rest`.
    pub(super) fn expr_with_rest(&self, fi: usize, e: &Expr, rest: Path) -> Option<(usize, Path)> {
        let local = self.files[fi].local_with_rest(e, None, rest, 0)?;
        self.place(fi, local)
    }

    /// The file a path written in file `fi` starts from.
    fn place(&self, fi: usize, local: LocalPath) -> Option<(usize, Path)> {
        match local {
            LocalPath::Here(p) => Some((fi, p)),
            LocalPath::Required(spec, p) => Some((self.resolve_spec(fi, &spec)?, p)),
            LocalPath::Module(key, p) => Some((self.module(fi, &key)?, p)),
            LocalPath::App(p) => Some((self.app?.0, p)),
        }
    }

    /// Follows a dotted path through aliases, imports and exports to a registered function.
    pub(super) fn lookup(&self, fi: usize, path: Path) -> Option<Gfn> {
        match self.reach(fi, path, &|_, _| false)? {
            Reached::Fn(g) => Some(g),
            Reached::Sink(_) | Reached::Value(..) => None,
        }
    }

    /// Like [`lookup`](Self::lookup), but stops at the first value a variable or an export
    /// holds that `stop` accepts (`const http = axios.create(…)`), with the rest of the path.
    pub(super) fn reach(
        &self,
        mut fi: usize,
        mut path: Path,
        stop: &dyn Fn(usize, &'a Expr) -> bool,
    ) -> Option<Reached<'a>> {
        let mut tried_default = false;
        let mut key = String::new();
        for _ in 0..MAX_HOPS {
            let f = &self.files[fi];
            let head = path.first()?.clone();
            key.clear();
            for (i, p) in path.iter().enumerate() {
                if i > 0 {
                    key.push('.');
                }
                key.push_str(p);
            }
            if let Some(&i) = f.fn_by_name.get(key.as_str()) {
                return Some(Reached::Fn((fi, i)));
            }
            if head == *"*" {
                path.remove(0);
                let first = path.first()?;
                if !f.exports.contains_key(&**first) {
                    path.insert(0, atom!("default"));
                }
                continue;
            }
            let b = f.top(&head);
            if let Some((spec, imported)) = f.imports.get(&b) {
                let t = self.resolve_spec(fi, spec)?;
                path[0] = match imported {
                    Imported::Whole => atom!("*"),
                    Imported::Default => atom!("default"),
                    Imported::Named(n) => Atom::from(n.as_str()),
                };
                fi = t;
                tried_default = false;
                continue;
            }
            if let Some(&init) = f.vars.get(&b) {
                if stop(fi, init) {
                    return Some(Reached::Value(fi, init, path[1..].to_vec()));
                }
                let (nf, np) = self.expr_with_rest(fi, init, path[1..].to_vec())?;
                if nf == fi && np == path {
                    return None;
                }
                fi = nf;
                path = np;
                continue;
            }
            match f.exports.get(&*head) {
                Some(ExportDef::Local(a)) if *a != head => {
                    path[0] = a.clone();
                    continue;
                }
                Some(&ExportDef::Expr(e)) => {
                    if stop(fi, e) {
                        return Some(Reached::Value(fi, e, path[1..].to_vec()));
                    }
                    let (nf, np) = self.expr_with_rest(fi, e, path[1..].to_vec())?;
                    if nf == fi && np == path {
                        return None;
                    }
                    fi = nf;
                    path = np;
                    continue;
                }
                Some(ExportDef::From(spec, orig)) => {
                    let t = self.resolve_spec(fi, spec)?;
                    path[0] = Atom::from(orig.as_str());
                    fi = t;
                    continue;
                }
                _ => {}
            }
            // A CommonJS module read by name: `module.exports = { a }` then `require(…).a`.
            if head != *"default" && !tried_default && f.exports.contains_key("default") {
                tried_default = true;
                path.insert(0, atom!("default"));
                continue;
            }
            return None;
        }
        None
    }
}
