//! The world of the backend-calls detector: every script's summary, callees resolved across
//! modules (aliases, imports, exports, `getApp()`, `require`), and which values are the global
//! `wx` or made from it.

use rustc_hash::FxHashMap as HashMap;

use rayon::prelude::*;
use swc_atoms::{Atom, atom};
use swc_ecma_ast::*;

use crate::detectors::context::Context;
use crate::files::Script;
use crate::findings::NetworkApi;
use crate::js::Imported;
use crate::js::syntax::{as_member, unwrap_expr};
use crate::span::FileId;
use crate::summary::{ExportDef, FileIndex, LocalPath, Path, sink_api};

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
        let files: Vec<Summary<'a>> = scripts
            .par_iter()
            .map(|s| match s.calls_index() {
                Some(ix) => Summary::Shared(ix),
                None => Summary::Owned(Box::new(FileIndex::build(s))),
            })
            .collect();
        let by_file = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.js.file, i))
            .collect();
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

    /// `path#name` (made for every backend call's function: no formatting machinery).
    pub(super) fn fn_id(&self, g: Gfn) -> String {
        let f = &self.files[g.0];
        let path = &self.cx.project.file(f.js.file).path;
        let name = &f.fns[g.1].name;
        let mut id = String::with_capacity(path.len() + 1 + name.len());
        id.push_str(path);
        id.push('#');
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
            Expr::Call(c) => c.args.iter().any(
                |a| matches!(unwrap_expr(&a.expr), Expr::Ident(i) if f.js.is_global_named(i, "wx")),
            ),
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
