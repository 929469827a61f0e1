//! Per-file summary (built in parallel, one walk per file): the functions a file declares at
//! top level (functions, arrow constants, object-literal members, class methods, the functions
//! of module-pattern IIFEs), their parameters, every call with the function it sits in, local
//! constants and what is assigned to them later, exports, and the `this.x = …` assignments of
//! constructors.
//!
//! A bundle's module factories (webpack's, in a bootstrap's table or a chunk; DevTools'
//! `__DEFINE__`) are modules of their own: each is summarised like a file, with the factory's
//! parameters standing for `module`, `exports` and `require`, and is found by its id in its
//! table ([`ModuleKey`]). The file's summary holds them in [`FileIndex::modules`].

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use swc_atoms::{Atom, atom};
use swc_common::{BytePos, SyntaxContext};
use swc_ecma_ast::*;
use swc_ecma_visit::{Visit, VisitWith};

use crate::findings::{NetworkApi, WrapperKind};
use crate::js::bundle::{self, Factory};
use crate::js::syntax::{as_member, member, prop_name, unwrap_expr};
use crate::js::{BindingId, Imported, JsFile};

/// Nested object literals registered as `a.b.c` members, at most this deep.
const MAX_OBJECT_DEPTH: u32 = 4;

pub(crate) struct FnDef<'a> {
    /// Dotted name inside the file: `request`, `Http.get`, `goodsApi.list`, `default.list`.
    pub name: String,
    pub kind: WrapperKind,
    pub span: swc_common::Span,
    /// The class a method belongs to (for `this.x`).
    pub class: Option<Atom>,
    /// The dotted name of the object literal a member belongs to (for `this.x`).
    pub object: Option<String>,
    /// The same name as a path (`Page`, `goodsApi`, `default.sub`).
    pub object_path: Vec<Atom>,
    pub params: Vec<&'a Pat>,
    /// The returned expression of a one-expression function (`(id) => `${base}/a/${id}``).
    pub ret: Option<&'a Expr>,
    /// For a function a factory returns (`createRequest().get`, `createRequest()`): the
    /// factory, whose parameters it reads as captured values.
    pub parent: Option<usize>,
}

/// The value a function body returns when it ends in `return expr` and returns nowhere else
/// at its top level (or an arrow's expression body). Locals it reads are in `vars`.
fn returned(body: Option<&FunctionBody>) -> Option<&Expr> {
    let (last, rest) = body?.stmts.split_last()?;
    if rest.iter().any(|s| matches!(s, Stmt::Return(_))) {
        return None;
    }
    match last {
        Stmt::Return(r) => r.arg.as_deref(),
        _ => None,
    }
}

fn arrow_ret(a: &ArrowExpr) -> Option<&Expr> {
    match &*a.body {
        ArrowFunctionBody::Expr(e) => Some(e),
        ArrowFunctionBody::FunctionBody(b) => returned(Some(b)),
    }
}

/// Where a parameter binding comes from: the function, the position and the property path
/// (for destructured parameters), and its default.
pub(crate) struct ParamRef<'a> {
    pub owner: usize,
    pub index: u32,
    pub path: Vec<String>,
    pub default: Option<&'a Expr>,
    pub name: String,
}

pub(crate) enum ExportDef<'a> {
    /// `export { a }`, `export const a`, `export default a`.
    Local(Atom),
    /// `module.exports = expr`, `exports.a = expr`, `export default expr`.
    Expr(&'a Expr),
    /// `export { a } from 'x'`: specifier and name there.
    From(String, String),
}

/// A table of modules that are found by id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Registry {
    /// The table a webpack bootstrap is applied to, numbered in its file.
    Bundle(u32),
    /// The `__DEFINE__` table of DevTools' npm build, one per file.
    Define,
    /// A chunk registry (`webpackJsonp`, `webpackChunk…`) that every chunk file of the project
    /// pushes its modules onto.
    Chunks(Atom),
}

impl Registry {
    /// Whether modules of other files are in it too.
    pub(crate) fn shared(&self) -> bool {
        matches!(self, Registry::Chunks(_))
    }
}

/// A module of a [`Registry`]: the table and the module's id there (`2`, `./src/http.js`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ModuleKey {
    pub registry: Registry,
    pub id: String,
}

/// What a `require`-like call loads.
pub(crate) enum Spec {
    /// A file, by the specifier `require('…')` is given.
    File(String),
    /// A module of a bundle, by id.
    Module(ModuleKey),
}

/// What the `require` of a factory loads.
enum Loader {
    /// Modules of the registry the factory belongs to (`__webpack_require__(2)`).
    Table(Registry),
    /// DevTools' `require`: a module of the file's `__DEFINE__` table when its map names the
    /// specifier, else a file.
    Define(Vec<(String, String)>),
}

/// How a module's `module`, `exports` and `require` are bound: the globals in a file, the
/// parameters in a factory.
#[derive(Default)]
struct Env {
    module: Option<BindingId>,
    exports: Option<BindingId>,
    require: Option<(BindingId, Loader)>,
}

/// `x = value` (or `x += value`) on a plain name, with the function it is written in.
pub(crate) struct Assign<'a> {
    pub value: &'a Expr,
    pub span: swc_common::Span,
    pub owner: Option<usize>,
    /// `=` (not `+=`, `||=`, …).
    pub plain: bool,
}

/// A call that may be a backend call or a call of a project function: [`FileIndex::build`]
/// leaves out the calls this file alone shows to be neither (see
/// [`FileIndex::surely_foreign`]).
pub(crate) struct CallSite<'a> {
    /// The registered function the call sits in (`None`: module top level, `Page({…})` methods).
    pub owner: Option<usize>,
    pub span: swc_common::Span,
    pub callee: &'a Expr,
    pub args: &'a [ExprOrSpread],
}

pub(crate) struct FileIndex<'a> {
    pub js: &'a JsFile,
    /// The scope of this module's top level: the file's, or a factory's.
    pub top_level: SyntaxContext,
    /// For a factory: its table and id (`None` for the file itself).
    pub unit: Option<ModuleKey>,
    env: Env,
    /// The factories written in this file, each summarised as a module (only in the file's own
    /// summary; nested factories are listed here too).
    pub modules: Vec<FileIndex<'a>>,
    /// Webpack bootstraps applied to their table (by the call's span): the entry module.
    bundles: HashMap<(BytePos, BytePos), ModuleKey>,
    /// Webpack 5 bootstraps: the scope declaring `__webpack_modules__` and the
    /// `__webpack_require__` that loads from them.
    loaders: HashMap<SyntaxContext, Registry>,
    pub fns: Vec<FnDef<'a>>,
    pub fn_by_name: HashMap<String, usize>,
    fn_by_span: HashMap<(BytePos, BytePos), usize>,
    /// Functions declared inside module-pattern IIFEs, by binding (their names are not top
    /// level).
    fn_by_binding: HashMap<BindingId, usize>,
    /// Every `const/let/var x = init` of the module, in any scope (and a var injection's
    /// parameters, with the values they are given).
    pub vars: HashMap<BindingId, &'a Expr>,
    /// Assignments to names of the module's top level, and to names declared without a value
    /// (`let x`, `let x = null`), in source order.
    pub assigns: HashMap<BindingId, Vec<Assign<'a>>>,
    pub params: HashMap<BindingId, ParamRef<'a>>,
    pub imports: HashMap<BindingId, (String, Imported)>,
    pub exports: HashMap<String, ExportDef<'a>>,
    /// `this.x = expr` inside a constructor, or a field `x = expr`: (class, x) → (expr,
    /// constructor fn whose parameters it may read).
    pub this_assigns: HashMap<(Atom, String), (&'a Expr, Option<usize>)>,
    /// Bindings filled by `promisifyAll(wx, wxp)`-style calls.
    pub wx_aliases: HashSet<BindingId>,
    /// The argument of `App({…})`.
    pub app_object: Option<&'a Expr>,
    /// Object literals whose members are registered, by dotted name (for `this.x` inside them).
    pub objects: HashMap<String, &'a Expr>,
    /// Functions declared on their own that one of those objects holds by name (`{ request(o)
    /// {…}, get, post }` with `function get(url) { return this.request(…) }`): the object's
    /// dotted name, which their `this` is.
    pub held_by: HashMap<usize, String>,
    /// `new C(args)` with an identifier callee, first one per class.
    pub news: HashMap<Atom, &'a [ExprOrSpread]>,
    pub calls: Vec<CallSite<'a>>,
    /// Calls of a member of a member of `this` (`this.$http.get(…)`) that this file alone shows
    /// to be no method of its own: they may be a framework's instance property, which only the
    /// whole project tells (a Vue app's `Vue.prototype.$http = …`). Indexed after `calls` by
    /// [`FileIndex::call`].
    pub this_calls: Vec<CallSite<'a>>,
    /// The specifiers of `require('…')` calls with a literal argument, in order.
    pub required: Vec<String>,
    /// `a.b.c = value` assignments to members of an import or a top-level binding (`fly.config
    /// .baseURL = …`, `Vue.prototype.$http = …`), and the instance properties of a Vue app held
    /// anywhere (see [`MemberSet::instance`]).
    pub member_sets: Vec<MemberSet<'a>>,
}

/// An assignment to a member path of a binding: `root.path[0].path[1] = value`.
pub(crate) struct MemberSet<'a> {
    pub root: BindingId,
    pub path: Vec<Atom>,
    pub value: &'a Expr,
    /// The registered function the assignment sits in.
    pub owner: Option<usize>,
    /// Whether it sets what every component's `this` has ([`instance_property`]) on an
    /// imported Vue, a parameter (a plugin's `install(Vue)`) or a local made by a call
    /// (`const app = createApp(App)`, babel's `_vue = _interopRequireDefault(…)`); not on the
    /// prototype of a constructor declared in the file.
    pub instance: bool,
}

/// Whether a member path is where a Vue app keeps what every component's `this` has:
/// `prototype.name` (Vue 2) or `config.globalProperties.name` (Vue 3).
pub(crate) fn instance_property(path: &[Atom]) -> Option<&Atom> {
    match path {
        [p, name] if *p == *"prototype" => Some(name),
        // `_vue.default.prototype.$http`: babel's default-import interop.
        [d, p, name] if *d == *"default" && *p == *"prototype" => Some(name),
        [c, g, name] if *c == *"config" && *g == *"globalProperties" => Some(name),
        _ => None,
    }
}

impl<'a> FileIndex<'a> {
    pub(crate) fn top(&self, name: &Atom) -> BindingId {
        (name.clone(), self.top_level)
    }

    /// Whether `e` is this module's `module` (the global, or a factory's parameter).
    fn is_module(&self, e: &Expr) -> bool {
        match (unwrap_expr(e), &self.env.module) {
            (Expr::Ident(i), Some(b)) => i.sym == b.0 && i.ctxt == b.1,
            (Expr::Ident(i), None) => self.js.is_global_named(i, "module"),
            _ => false,
        }
    }

    /// Whether `e` is this module's `exports` (or `module.exports`).
    fn is_exports(&self, e: &Expr) -> bool {
        match (unwrap_expr(e), &self.env.exports) {
            (Expr::Ident(i), Some(b)) => i.sym == b.0 && i.ctxt == b.1,
            (Expr::Ident(i), None) => self.js.is_global_named(i, "exports"),
            (Expr::Member(m), _) => {
                self.is_module(&m.obj)
                    && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"exports")
            }
            _ => false,
        }
    }

    /// Whether `b` is one of a factory's `module`, `exports`, `require` parameters.
    fn is_env(&self, b: &BindingId) -> bool {
        self.env.module.as_ref() == Some(b)
            || self.env.exports.as_ref() == Some(b)
            || self.env.require.as_ref().is_some_and(|(r, _)| r == b)
    }

    /// What a call loads, when it is a `require`: the global `require('x')`, a factory's
    /// `__webpack_require__(2)` or `require('./a')`, a webpack 5 bootstrap's own
    /// `__webpack_require__("./src/index.js")`, DevTools' `__REQUIRE__(id)`.
    pub(crate) fn load_spec(&self, c: &CallExpr) -> Option<Spec> {
        let Callee::Expr(callee) = &c.callee else {
            return None;
        };
        let Expr::Ident(i) = unwrap_expr(callee) else {
            return None;
        };
        let arg = &c.args.first()?.expr;
        let file = |e: &Expr| match unwrap_expr(e) {
            Expr::Lit(Lit::Str(s)) => Some(s.value.to_string_lossy().into_owned()),
            _ => None,
        };
        if self.js.is_global_named(i, "require") {
            return file(arg).map(Spec::File);
        }
        if let Some((b, loader)) = &self.env.require
            && i.sym == b.0
            && i.ctxt == b.1
        {
            return match loader {
                Loader::Table(r) => Some(Spec::Module(ModuleKey {
                    registry: r.clone(),
                    id: bundle::module_id(arg)?,
                })),
                Loader::Define(map) => {
                    let spec = file(arg)?;
                    Some(match map.iter().find(|(k, _)| *k == spec) {
                        Some((_, id)) => Spec::Module(ModuleKey {
                            registry: Registry::Define,
                            id: id.clone(),
                        }),
                        None => Spec::File(spec),
                    })
                }
            };
        }
        if !self.loaders.is_empty()
            && i.sym == *"__webpack_require__"
            && let Some(r) = self.loaders.get(&i.ctxt)
        {
            return Some(Spec::Module(ModuleKey {
                registry: r.clone(),
                id: bundle::module_id(arg)?,
            }));
        }
        if self.js.bundled && i.sym == *"__REQUIRE__" && !self.js.is_global(i) {
            return Some(Spec::Module(ModuleKey {
                registry: Registry::Define,
                id: bundle::module_id(arg)?,
            }));
        }
        None
    }

    /// The entry module a webpack bootstrap call returns, when `c` is one.
    pub(crate) fn bundle_entry(&self, c: &CallExpr) -> Option<&ModuleKey> {
        if self.bundles.is_empty() {
            return None;
        }
        self.bundles.get(&(c.span.lo, c.span.hi))
    }

    /// A call that returns its argument as far as this analysis goes: `Object(f)` (how webpack
    /// calls an imported function), Babel's `_interopRequireDefault(m)` and
    /// `_interopRequireWildcard(m)`.
    pub(crate) fn passes_through<'c>(&self, c: &'c CallExpr) -> Option<&'c Expr> {
        let Callee::Expr(callee) = &c.callee else {
            return None;
        };
        let [arg] = &c.args[..] else { return None };
        let Expr::Ident(i) = unwrap_expr(callee) else {
            return None;
        };
        let through = self.js.is_global_named(i, "Object")
            || (!self.js.is_global(i)
                && (i.sym == *"_interopRequireDefault" || i.sym == *"_interopRequireWildcard"));
        (through && arg.spread.is_none()).then_some(&*arg.expr)
    }

    /// `__webpack_require__.n(m)`: the `m` whose default export the getter returns.
    pub(crate) fn default_getter<'c>(&self, c: &'c CallExpr) -> Option<&'c Expr> {
        let (b, _) = self.env.require.as_ref()?;
        let Callee::Expr(callee) = &c.callee else {
            return None;
        };
        let (obj, name) = as_member(callee)?;
        let [arg] = &c.args[..] else { return None };
        (name == *"n"
            && matches!(unwrap_expr(obj), Expr::Ident(i) if i.sym == b.0 && i.ctxt == b.1))
        .then_some(&*arg.expr)
    }

    /// Whether a call's value may be something [`local_path`](Self::local_path) follows (a
    /// module, an IIFE's value, `getApp()`).
    fn call_may_resolve(&self, c: &CallExpr) -> bool {
        let getapp = matches!(&c.callee, Callee::Expr(f)
            if matches!(unwrap_expr(f), Expr::Ident(i) if self.js.is_global_named(i, "getApp")));
        getapp
            || self.load_spec(c).is_some()
            || self.bundle_entry(c).is_some()
            || Self::iife_value(c).is_some()
            || self.passes_through(c).is_some()
            || self.default_getter(c).is_some()
    }

    /// The value an IIFE returns (`(function () { …; return api })()`, minified `return
    /// e.prototype.get = …, e`), when `c` is one whose body runs straight to that `return`
    /// (declarations and expressions before it, no branch that could return something else).
    pub(crate) fn iife_value(c: &CallExpr) -> Option<&Expr> {
        let Callee::Expr(callee) = &c.callee else {
            return None;
        };
        let body = match unwrap_expr(callee) {
            Expr::Fn(f) => f.function.body.as_ref()?,
            Expr::Arrow(a) => match &*a.body {
                ArrowFunctionBody::Expr(e) => return Some(seq_value(e)),
                ArrowFunctionBody::FunctionBody(b) => b,
            },
            _ => return None,
        };
        let (_, before) = body.stmts.split_last()?;
        if !before
            .iter()
            .all(|s| matches!(s, Stmt::Decl(_) | Stmt::Expr(_) | Stmt::Empty(_)))
        {
            return None;
        }
        returned(Some(body)).map(seq_value)
    }

    /// A callee expression as a dotted path of names, as far as this file tells; `rest` is
    /// what follows it.
    pub(crate) fn local_path(
        &self,
        e: &Expr,
        owner: Option<usize>,
        mut rest: Path,
        depth: u32,
    ) -> Option<LocalPath> {
        if depth > 12 {
            return None;
        }
        match unwrap_expr(e) {
            Expr::Ident(i) => {
                let b = (i.sym.clone(), i.ctxt);
                if i.ctxt == self.top_level || self.imports.contains_key(&b) {
                    rest.insert(0, i.sym.clone());
                    return Some(LocalPath::Here(rest));
                }
                // A function of a module-pattern IIFE, by its registered name.
                if !self.fn_by_binding.is_empty()
                    && let Some(&k) = self.fn_by_binding.get(&b)
                {
                    let mut path: Path = self.fns[k].name.split('.').map(Atom::from).collect();
                    path.extend(rest);
                    return Some(LocalPath::Here(path));
                }
                // A local alias: `const h = this.http`, `const api = require('…')` in a function.
                let init = self.vars.get(&b)?;
                self.local_with_rest(init, owner, rest, depth + 1)
            }
            Expr::This(_) => {
                let def = &self.fns[owner?];
                if let Some(c) = &def.class {
                    rest.insert(0, c.clone());
                    return Some(LocalPath::Here(rest));
                }
                let mut p = match &def.object {
                    Some(_) => def.object_path.clone(),
                    // `this` of a function an object holds by name: what the object holds by
                    // name too (`{ request, get }`), else its methods (`{ request(o) {…}, get }`).
                    None => {
                        let name = self.held_by.get(&owner?)?;
                        if let Some(obj) = self.objects.get(name)
                            && let Some(found) =
                                self.local_with_rest(obj, owner, rest.clone(), depth + 1)
                        {
                            return Some(found);
                        }
                        name.split('.').map(Atom::from).collect()
                    }
                };
                p.extend(rest);
                Some(LocalPath::Here(p))
            }
            Expr::New(n) => match unwrap_expr(&n.callee) {
                Expr::Ident(i) => {
                    rest.insert(0, i.sym.clone());
                    Some(LocalPath::Here(rest))
                }
                _ => None,
            },
            Expr::Call(c) => {
                // A bootstrap returns its entry module.
                if let Some(key) = self.bundle_entry(c) {
                    rest.insert(0, atom!("*"));
                    return Some(LocalPath::Module(key.clone(), rest));
                }
                if let Some(v) = Self::iife_value(c) {
                    return self.local_with_rest(v, owner, rest, depth + 1);
                }
                if let Some(v) = self.passes_through(c) {
                    return self.local_path(v, owner, rest, depth + 1);
                }
                // `__webpack_require__.n(m)`: a getter of `m`'s default export, read as `.a`.
                if let Some(m) = self.default_getter(c) {
                    if rest.first().is_some_and(|a| *a == *"a") {
                        rest[0] = atom!("default");
                    }
                    return self.local_path(m, owner, rest, depth + 1);
                }
                let Callee::Expr(callee) = &c.callee else {
                    return None;
                };
                if let Expr::Ident(i) = unwrap_expr(callee) {
                    if self.js.is_global_named(i, "getApp") {
                        rest.insert(0, atom!("App"));
                        return Some(LocalPath::App(rest));
                    }
                    // `m_default()`, the getter called.
                    if let Some(Expr::Call(g)) = self
                        .vars
                        .get(&(i.sym.clone(), i.ctxt))
                        .map(|e| unwrap_expr(e))
                        && let Some(m) = self.default_getter(g)
                    {
                        rest.insert(0, atom!("default"));
                        return self.local_path(m, owner, rest, depth + 1);
                    }
                }
                rest.insert(0, atom!("*"));
                match self.load_spec(c)? {
                    Spec::File(spec) => Some(LocalPath::Required(spec, rest)),
                    Spec::Module(key) => Some(LocalPath::Module(key, rest)),
                }
            }
            _ => {
                let (obj, name) = as_member(e)?;
                rest.insert(0, name);
                self.local_path(obj, owner, rest, depth + 1)
            }
        }
    }

    /// Like [`local_path`](Self::local_path), but an object literal is entered by the first
    /// name of `rest`.
    pub(crate) fn local_with_rest(
        &self,
        e: &Expr,
        owner: Option<usize>,
        mut rest: Path,
        depth: u32,
    ) -> Option<LocalPath> {
        if let Expr::Object(o) = unwrap_expr(e) {
            let first = rest.first()?.clone();
            for p in o.props.iter().rev() {
                let PropOrSpread::Prop(p) = p else { continue };
                match &**p {
                    Prop::KeyValue(kv) if crate::js::syntax::prop_is(&kv.key, &first) => {
                        rest.remove(0);
                        return self.local_with_rest(&kv.value, owner, rest, depth + 1);
                    }
                    // `{ a }`: the path goes on from `a` itself.
                    Prop::Shorthand(i) if i.sym == first => return Some(LocalPath::Here(rest)),
                    _ => {}
                }
            }
            return None;
        }
        self.local_path(e, owner, rest, depth)
    }
}

/// A callee as a dotted path of names in some file: `["Http", "get"]`, `["*", "list"]` (a
/// module's exports), `["App", "globalData"]`.
pub(crate) type Path = Vec<Atom>;

/// A [`Path`] and the file it starts from, as one file tells it.
pub(crate) enum LocalPath {
    /// In this file.
    Here(Path),
    /// In the module `require`d by this specifier.
    Required(String, Path),
    /// In a module of a bundle.
    Module(ModuleKey, Path),
    /// In the file with `App({…})` (`getApp().x`).
    App(Path),
}

/// The network API a member of `wx` with this name is (`request` → `wx.request`).
pub(crate) fn sink_api(name: &str) -> Option<NetworkApi> {
    Some(match name {
        "request" => NetworkApi::Request,
        "uploadFile" => NetworkApi::UploadFile,
        "downloadFile" => NetworkApi::DownloadFile,
        "connectSocket" => NetworkApi::ConnectSocket,
        _ => return None,
    })
}

impl<'a> FileIndex<'a> {
    fn empty(
        js: &'a JsFile,
        top_level: SyntaxContext,
        unit: Option<ModuleKey>,
        env: Env,
    ) -> FileIndex<'a> {
        FileIndex {
            js,
            top_level,
            unit,
            env,
            modules: Vec::new(),
            bundles: HashMap::default(),
            loaders: HashMap::default(),
            fns: Vec::new(),
            fn_by_name: HashMap::default(),
            fn_by_span: HashMap::default(),
            fn_by_binding: HashMap::default(),
            vars: HashMap::default(),
            assigns: HashMap::default(),
            params: HashMap::default(),
            imports: HashMap::default(),
            exports: HashMap::default(),
            this_assigns: HashMap::default(),
            wx_aliases: HashSet::default(),
            app_object: None,
            objects: HashMap::default(),
            held_by: HashMap::default(),
            news: HashMap::default(),
            calls: Vec::new(),
            this_calls: Vec::new(),
            required: Vec::new(),
            member_sets: Vec::new(),
        }
    }

    /// The summary of a file, with the factories written in it summarised as modules of their
    /// own ([`modules`](Self::modules)).
    pub(crate) fn build(js: &'a JsFile) -> FileIndex<'a> {
        let mut ix = FileIndex::empty(js, js.top_level, None, Env::default());
        for imp in &js.module.imports {
            for b in &imp.bindings {
                ix.imports
                    .insert(b.local.clone(), (imp.specifier.clone(), b.imported.clone()));
            }
        }
        match &js.program {
            Program::Module(m) => {
                for item in &m.body {
                    match item {
                        ModuleItem::ModuleDecl(d) => ix.module_decl(d),
                        ModuleItem::Stmt(s) => ix.top_stmt(s),
                    }
                }
            }
            Program::Script(s) => {
                for stmt in &s.body {
                    ix.top_stmt(stmt);
                }
            }
        }
        let mut tables = Tables::default();
        ix.finish(&mut tables, |w| js.program.visit_with(w));
        // Factories found while walking a module are summarised after it (a factory's walk
        // finds the factories nested in it).
        while let Some(found) = tables.found.pop_front() {
            let m = FileIndex::factory(js, found, &mut tables);
            ix.modules.push(m);
        }
        ix
    }

    /// The summary of one factory: its body is the module's top level (or, under webpack's var
    /// injection, the body of the function it wraps, whose parameters take the injected
    /// values), its parameters are `module`, `exports` and `require`.
    fn factory(js: &'a JsFile, found: Found<'a>, tables: &mut Tables<'a>) -> FileIndex<'a> {
        let (f, key) = (found.factory, found.key);
        let bind = |i: usize| f.param(i).map(|id| (id.sym.clone(), id.ctxt));
        let env = match found.define {
            // DevTools: `function(require, module, exports)`.
            Some(map) => Env {
                module: bind(1),
                exports: bind(2),
                require: bind(0).map(|b| (b, Loader::Define(map))),
            },
            // webpack: `function(module, exports, __webpack_require__)`.
            None => Env {
                module: bind(0),
                exports: bind(1),
                require: bind(2).map(|b| (b, Loader::Table(key.registry.clone()))),
            },
        };
        let injected = bundle::var_injection(f.stmts());
        let (top, stmts) = match injected {
            Some((inner, _)) => (
                inner.ctxt,
                inner.body.as_ref().map_or(&[][..], |b| &b.stmts[..]),
            ),
            None => (f.ctxt(), f.stmts()),
        };
        let mut ix = FileIndex::empty(js, top, Some(key), env);
        if let Some((inner, args)) = injected {
            for (p, a) in inner.params.iter().zip(args) {
                if let Pat::Ident(b) = &p.pat {
                    let binding = (b.id.sym.clone(), b.id.ctxt);
                    // uni-app injects its runtime as `uni` (a build may inject `wx`): the
                    // mini-program API under the global's name.
                    if matches!(&*b.id.sym, "uni" | "wx") {
                        ix.wx_aliases.insert(binding.clone());
                    }
                    ix.vars.insert(binding, &a.expr);
                }
            }
        }
        for s in stmts {
            ix.top_stmt(s);
        }
        ix.finish(tables, |w| match f {
            Factory::Fn(func) => func.body.visit_with(w),
            Factory::Arrow(a) => a.body.visit_with(w),
        });
        ix
    }

    /// The parameters of the registered functions, then the walk (calls, variables,
    /// assignments, factories), then the calls that may resolve.
    fn finish(&mut self, tables: &mut Tables<'a>, walk: impl FnOnce(&mut Walker<'_, 'a>)) {
        for owner in 0..self.fns.len() {
            let params = self.fns[owner].params.clone();
            for (i, pat) in params.into_iter().enumerate() {
                self.param(owner, i as u32, pat, Vec::new(), None);
            }
        }
        let mut w = Walker {
            ix: self,
            owner: None,
            tables,
            nullish: HashSet::default(),
        };
        walk(&mut w);
        self.held_by = self.functions_held_by_objects();
        // Decided now, while the tree is in cache: the detector reads each call's callee again
        // only for the calls that may resolve.
        let calls = std::mem::take(&mut self.calls);
        let (mut kept, mut this_calls) = (Vec::new(), Vec::new());
        for c in calls {
            if !self.surely_foreign(c.callee, c.owner) {
                kept.push(c);
            } else if self.of_this_member(c.callee) {
                this_calls.push(c);
            }
        }
        self.calls = kept;
        self.this_calls = this_calls;
    }

    /// The call at index `i`: of [`calls`](Self::calls), then of
    /// [`this_calls`](Self::this_calls).
    pub(crate) fn call(&self, i: usize) -> &CallSite<'a> {
        match self.calls.get(i) {
            Some(c) => c,
            None => &self.this_calls[i - self.calls.len()],
        }
    }

    /// Whether a callee is a member of a member of `this` or of a local alias of it
    /// (`this.$http.get`, `_this.$api.goods.detail`).
    fn of_this_member(&self, callee: &Expr) -> bool {
        let mut e = unwrap_expr(callee);
        let mut names = 0;
        for _ in 0..8 {
            match e {
                Expr::This(_) => return names >= 2,
                Expr::Ident(i) => {
                    return names >= 2
                        && self
                            .vars
                            .get(&(i.sym.clone(), i.ctxt))
                            .is_some_and(|init| matches!(unwrap_expr(init), Expr::This(_)));
                }
                _ => match member(e) {
                    Some((obj, MemberProp::Ident(_))) => {
                        names += 1;
                        e = unwrap_expr(obj);
                    }
                    _ => return false,
                },
            }
        }
        false
    }

    /// Whether a callee is surely neither a network API nor a function of the project, as far
    /// as this file tells: a member of a global, a literal or a call's result (`wx.showToast`,
    /// `Math.max`, `TABLE.find` on a constant array, `p.then`), a computed member, a name bound
    /// to nothing this file declares (a global like `Page` or `setTimeout`, a parameter), or a
    /// `this.x` that is no method of the page, object or class (`this.setData`).
    /// These are the cases where the backend-calls detector's callee resolution
    /// (`World::resolve_callee`) finds nothing without looking any further; anything else may
    /// resolve.
    fn surely_foreign(&self, callee: &Expr, owner: Option<usize>) -> bool {
        let mut e = unwrap_expr(callee);
        // Whether `e` is the callee itself (a network API's name, a promisified API), and
        // whether it is a local's initializer (an object literal there is entered by name).
        let mut outermost = true;
        let mut initializer = false;
        // The member names read so far, outermost first.
        let mut names = Names::default();
        for _ in 0..8 {
            match e {
                Expr::Ident(i) => {
                    let b = (i.sym.clone(), i.ctxt);
                    // `lookup` tries a top-level name's whole dotted path as a function first
                    // (`exports.f = …` registers `f` whatever `const f` holds).
                    if self.imports.contains_key(&b)
                        || (!self.fn_by_binding.is_empty() && self.fn_by_binding.contains_key(&b))
                        || (i.ctxt == self.top_level
                            && self.names_function(std::iter::once(&*i.sym), names.get()))
                    {
                        return false;
                    }
                    // A factory's `module`, `exports`, `__webpack_require__` (`require(…).f()`
                    // is a call's callee, below).
                    if self.is_env(&b) {
                        return true;
                    }
                    match self.vars.get(&b) {
                        Some(init) => {
                            e = unwrap_expr(init);
                            initializer = true;
                        }
                        None => return i.ctxt != self.top_level,
                    }
                }
                // `getApp().x`, `require(…).x`, an IIFE's `.x`; `promisify(wx.request)(…)` when
                // outermost; a local made by a module's function (`const http = axios.create(…)`,
                // `const shop = createRequest('/shop')`).
                Expr::Call(c) => {
                    let made_here = initializer
                        && matches!(&c.callee, Callee::Expr(f) if self.made_by_module(f));
                    return !outermost && !self.call_may_resolve(c) && !made_here;
                }
                Expr::Member(_) | Expr::OptChain(_) => {
                    let Some((obj, prop)) = member(e) else {
                        return true;
                    };
                    let name = match prop {
                        MemberProp::Ident(p) => std::borrow::Cow::Borrowed(&*p.sym),
                        MemberProp::Computed(c) => match unwrap_expr(&c.expr) {
                            Expr::Lit(Lit::Str(s)) => s.value.to_string_lossy(),
                            _ => return true,
                        },
                        MemberProp::PrivateName(_) => return true,
                    };
                    if outermost && sink_api(&name).is_some() {
                        return false;
                    }
                    names.push(name);
                    outermost = false;
                    e = unwrap_expr(obj);
                }
                Expr::Lit(_) | Expr::Tpl(_) | Expr::Array(_) => return true,
                Expr::This(_) => return self.this_foreign(owner, names.get()),
                Expr::New(_) => return false,
                _ => return !initializer,
            }
        }
        false
    }

    /// Whether a callee is rooted in an import (`axios.create`, `createRequest` imported) or
    /// names a function of this file: what it returns may be a client or a factory's object.
    fn made_by_module(&self, callee: &Expr) -> bool {
        let mut e = unwrap_expr(callee);
        let mut names = Names::default();
        for _ in 0..8 {
            match e {
                Expr::Ident(i) => {
                    let b = (i.sym.clone(), i.ctxt);
                    return self.imports.contains_key(&b)
                        || (i.ctxt == self.js.top_level
                            && self.names_function(std::iter::once(&*i.sym), names.get()))
                        // A module a bundle's factory loads into a local
                        // (`var _request = __webpack_require__("./src/services/request.ts")`).
                        || self.vars.get(&b).is_some_and(|init| {
                            matches!(unwrap_expr(init), Expr::Call(c) if self.call_may_resolve(c))
                        });
                }
                _ => {
                    let Some((obj, name)) = as_member(e) else {
                        return false;
                    };
                    names.push(std::borrow::Cow::Owned(name.to_string()));
                    e = unwrap_expr(obj);
                }
            }
        }
        false
    }

    /// Whether `head` then the member `names` (read outermost first) is the dotted name of a
    /// function of this file.
    fn names_function<'h>(
        &self,
        head: impl Iterator<Item = &'h str>,
        names: &'h [std::borrow::Cow<'_, str>],
    ) -> bool {
        let mut key = String::with_capacity(64);
        for part in head.chain(names.iter().rev().map(|n| &**n)) {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
        self.fn_by_name.contains_key(key.as_str())
    }

    /// Whether `this.<names>` in function `owner` is surely no function of the project: the
    /// path it makes (the class or object name, then `names`) names no function of this file,
    /// and its head is nothing the detector's `World::lookup` could follow further (an import, a
    /// variable, an export, or a default export read by name).
    fn this_foreign(&self, owner: Option<usize>, names: &[std::borrow::Cow<'_, str>]) -> bool {
        let Some((o, def)) = owner.map(|o| (o, &self.fns[o])) else {
            return true;
        };
        let head: &[Atom] = match (&def.class, &def.object) {
            (Some(c), _) => std::slice::from_ref(c),
            (None, Some(_)) => &def.object_path,
            (None, None) => return !self.held_by.contains_key(&o),
        };
        if self.names_function(head.iter().map(|a| &**a), names) {
            return false;
        }
        let Some(first) = head.first() else {
            return false;
        };
        let b = self.top(first);
        !(self.imports.contains_key(&b)
            || self.vars.contains_key(&b)
            || self.exports.contains_key(&**first)
            || self.exports.contains_key("default"))
    }
}

impl<'a> FileIndex<'a> {
    /// See [`FileIndex::held_by`].
    fn functions_held_by_objects(&self) -> HashMap<usize, String> {
        let mut out = HashMap::default();
        for (name, obj) in &self.objects {
            let Expr::Object(o) = unwrap_expr(obj) else {
                continue;
            };
            for p in &o.props {
                let PropOrSpread::Prop(p) = p else { continue };
                let i = match &**p {
                    Prop::Shorthand(i) => i,
                    Prop::KeyValue(kv) => match unwrap_expr(&kv.value) {
                        Expr::Ident(i) => i,
                        _ => continue,
                    },
                    _ => continue,
                };
                if i.ctxt != self.js.top_level {
                    continue;
                }
                if let Some(&g) = self.fn_by_name.get(&*i.sym) {
                    let def = &self.fns[g];
                    if def.class.is_none() && def.object.is_none() {
                        out.entry(g).or_insert_with(|| name.clone());
                    }
                }
            }
        }
        out
    }

    fn register(&mut self, mut def: FnDef<'a>) {
        if let Some(o) = &def.object {
            def.object_path = o.split('.').map(Atom::from).collect();
        }
        let idx = self.fns.len();
        self.fn_by_span.insert((def.span.lo, def.span.hi), idx);
        self.fn_by_name.entry(def.name.clone()).or_insert(idx);
        self.fns.push(def);
    }

    fn function(&mut self, name: String, kind: WrapperKind, f: &'a Function, obj: Option<String>) {
        let idx = self.fns.len();
        let params = f.params.iter().map(|p| &p.pat).collect();
        self.register(FnDef {
            name,
            kind,
            span: f.span,
            class: None,
            object: obj,
            object_path: Vec::new(),
            params,
            ret: returned(f.body.as_ref()),
            parent: None,
        });
        self.returned_fns(idx, 0);
    }

    /// What function `idx` returns, when that is a function or an object of functions (a
    /// factory: `createRequest(prefix)` returning `{ get, post }`): registered as `name()` and
    /// `name().get`, with `idx` as their parent.
    fn returned_fns(&mut self, idx: usize, depth: u32) {
        let Some(ret) = self.fns[idx].ret else { return };
        let is_fn = |e: &Expr| matches!(unwrap_expr(e), Expr::Arrow(_) | Expr::Fn(_));
        let returns_fns = match unwrap_expr(ret) {
            Expr::Arrow(_) | Expr::Fn(_) => true,
            // An object with a function in it; not a data object (`data() { return {…} }`).
            Expr::Object(o) => o.props.iter().any(|p| match p {
                PropOrSpread::Prop(p) => match &**p {
                    Prop::Method(_) => true,
                    Prop::KeyValue(kv) => is_fn(&kv.value),
                    _ => false,
                },
                PropOrSpread::Spread(_) => false,
            }),
            _ => false,
        };
        if depth >= MAX_OBJECT_DEPTH || !returns_fns {
            return;
        }
        let start = self.fns.len();
        let name = format!("{}()", self.fns[idx].name);
        self.value(&name, ret, None, depth + 1);
        for def in &mut self.fns[start..] {
            def.parent.get_or_insert(idx);
        }
    }

    /// A value bound to `name` at top level: a function, an object of functions, a class.
    fn value(&mut self, name: &str, e: &'a Expr, obj: Option<&str>, depth: u32) {
        let kind = if obj.is_some() {
            WrapperKind::ObjectMember
        } else {
            WrapperKind::Function
        };
        match unwrap_expr(e) {
            Expr::Arrow(a) => {
                let params = a.params.iter().collect();
                let idx = self.fns.len();
                self.register(FnDef {
                    name: name.to_string(),
                    kind,
                    span: a.span,
                    class: None,
                    object: obj.map(str::to_string),
                    object_path: Vec::new(),
                    params,
                    ret: arrow_ret(a),
                    parent: None,
                });
                self.returned_fns(idx, depth);
            }
            Expr::Fn(f) => {
                self.function(name.to_string(), kind, &f.function, obj.map(str::to_string))
            }
            Expr::Class(c) => self.class(name, &c.class),
            // The module pattern: `var api = (function () { function get() {…} return { get }
            // })()`.
            Expr::Call(c) if depth < MAX_OBJECT_DEPTH => {
                let Callee::Expr(callee) = &c.callee else {
                    return;
                };
                let (stmts, ret) = match unwrap_expr(callee) {
                    Expr::Fn(f) => (
                        f.function.body.as_ref().map_or(&[][..], |b| &b.stmts[..]),
                        returned(f.function.body.as_ref()),
                    ),
                    Expr::Arrow(a) => match &*a.body {
                        ArrowFunctionBody::FunctionBody(b) => (&b.stmts[..], arrow_ret(a)),
                        ArrowFunctionBody::Expr(_) => (&[][..], arrow_ret(a)),
                    },
                    _ => return,
                };
                self.scope(name, stmts, depth + 1);
                if let Some(ret) = ret.map(seq_value)
                    && matches!(unwrap_expr(ret), Expr::Object(_))
                {
                    self.value(name, ret, obj, depth + 1);
                }
            }
            Expr::Object(o) if depth < MAX_OBJECT_DEPTH => {
                self.objects.entry(name.to_string()).or_insert(e);
                for p in &o.props {
                    let PropOrSpread::Prop(p) = p else { continue };
                    match &**p {
                        Prop::KeyValue(kv) => {
                            if let Some(k) = prop_name(&kv.key) {
                                self.value(
                                    &[name, ".", &k].concat(),
                                    &kv.value,
                                    Some(name),
                                    depth + 1,
                                );
                            }
                        }
                        Prop::Method(m) => {
                            if let Some(k) = prop_name(&m.key) {
                                self.function(
                                    [name, ".", &k].concat(),
                                    WrapperKind::ObjectMember,
                                    &m.function,
                                    Some(name.to_string()),
                                );
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn class(&mut self, cname: &str, class: &'a Class) {
        let catom = Atom::from(cname);
        // A method of the class: `Class.name`, with the class for `this.x`.
        let method = |ix: &mut Self, name: &str, span, params, ret| {
            ix.register(FnDef {
                name: [cname, ".", name].concat(),
                kind: WrapperKind::Method,
                span,
                class: Some(catom.clone()),
                object: None,
                object_path: Vec::new(),
                params,
                ret,
                parent: None,
            })
        };
        for m in &class.body {
            match m {
                ClassMember::Constructor(c) => {
                    let params = c
                        .params
                        .iter()
                        .filter_map(|p| match p {
                            ParamOrTsParamProp::Param(p) => Some(&p.pat),
                            ParamOrTsParamProp::TsParamProp(_) => None,
                        })
                        .collect();
                    method(self, "constructor", c.span, params, None);
                }
                ClassMember::Method(m) if m.kind == MethodKind::Method => {
                    if let Some(k) = prop_name(&m.key) {
                        let params = m.function.params.iter().map(|p| &p.pat).collect();
                        let ret = returned(m.function.body.as_ref());
                        method(self, &k, m.function.span, params, ret);
                    }
                }
                ClassMember::ClassProp(p) => {
                    if let (Some(k), Some(v)) = (prop_name(&p.key), &p.value)
                        && !p.is_static
                        && !matches!(unwrap_expr(v), Expr::Arrow(_))
                    {
                        self.this_assigns
                            .entry((catom.clone(), k))
                            .or_insert((v, None));
                    } else if let (Some(k), Some(v)) = (prop_name(&p.key), &p.value)
                        && let Expr::Arrow(a) = unwrap_expr(v)
                    {
                        method(self, &k, a.span, a.params.iter().collect(), arrow_ret(a));
                    }
                }
                _ => {}
            }
        }
    }

    fn decl(&mut self, d: &'a Decl, exported: bool) {
        match d {
            Decl::Fn(f) => {
                self.function(
                    f.ident.sym.to_string(),
                    WrapperKind::Function,
                    &f.function,
                    None,
                );
                if exported {
                    self.exports.insert(
                        f.ident.sym.to_string(),
                        ExportDef::Local(f.ident.sym.clone()),
                    );
                }
            }
            Decl::Class(c) => {
                self.class(&c.ident.sym, &c.class);
                if exported {
                    self.exports.insert(
                        c.ident.sym.to_string(),
                        ExportDef::Local(c.ident.sym.clone()),
                    );
                }
            }
            Decl::Var(v) => {
                for d in &v.decls {
                    if let (Pat::Ident(b), Some(init)) = (&d.name, &d.init) {
                        self.value(&b.id.sym, init, None, 0);
                        if exported {
                            self.exports
                                .insert(b.id.sym.to_string(), ExportDef::Local(b.id.sym.clone()));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn top_stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::Decl(d) => self.decl(d, false),
            Stmt::Expr(e) => {
                self.top_expr(&e.expr);
                self.wrapped_exports(&e.expr);
            }
            _ => {}
        }
    }

    /// A file wrapped in an IIFE (`(() => { …; module.exports = __webpack_exports__ })()`, as
    /// webpack 5 writes a library): the CommonJS exports written in it.
    fn wrapped_exports(&mut self, e: &'a Expr) {
        let e = match unwrap_expr(e) {
            Expr::Unary(u) if u.op == UnaryOp::Bang => unwrap_expr(&u.arg),
            e => e,
        };
        let Expr::Call(c) = e else { return };
        if !c.args.is_empty() {
            return;
        }
        let Callee::Expr(callee) = &c.callee else {
            return;
        };
        let stmts = match unwrap_expr(callee) {
            Expr::Fn(f) => f.function.body.as_ref().map_or(&[][..], |b| &b.stmts[..]),
            Expr::Arrow(a) => match &*a.body {
                ArrowFunctionBody::FunctionBody(b) => &b.stmts[..],
                ArrowFunctionBody::Expr(_) => return,
            },
            _ => return,
        };
        for s in stmts {
            if let Stmt::Expr(e) = s
                && let Expr::Assign(a) = unwrap_expr(&e.expr)
            {
                self.cjs_export(a);
            }
        }
    }

    /// `module.exports = v`, `exports.a = v`, `exports["a"] = v`: whether `a` is one.
    fn cjs_export(&mut self, a: &'a AssignExpr) -> bool {
        if a.op != AssignOp::Assign {
            return false;
        }
        let AssignTarget::Simple(SimpleAssignTarget::Member(t)) = &a.left else {
            return false;
        };
        let Some(prop) = member_name(&t.prop) else {
            return false;
        };
        let name = if self.is_module(&t.obj) && prop == "exports" {
            "default".to_string()
        } else if self.is_exports(&t.obj) {
            prop
        } else {
            return false;
        };
        self.value(&name, &a.right, None, 0);
        self.exports.insert(name, ExportDef::Expr(&a.right));
        true
    }

    fn is_global(&self, e: &Expr, name: &str) -> bool {
        matches!(unwrap_expr(e), Expr::Ident(i) if self.js.is_global_named(i, name))
    }

    fn top_expr(&mut self, e: &'a Expr) {
        match unwrap_expr(e) {
            // Minified: `a.x = function …, a.y = function …`.
            Expr::Seq(s) => {
                for e in &s.exprs {
                    self.top_expr(e);
                }
            }
            Expr::Assign(a) if a.op == AssignOp::Assign => {
                if self.cjs_export(a) {
                    return;
                }
                if let AssignTarget::Simple(SimpleAssignTarget::Member(t)) = &a.left
                    && let Some(prop) = member_name(&t.prop)
                {
                    self.member_fn(&t.obj, &prop, &a.right);
                }
            }
            Expr::Call(c) => {
                self.harmony_exports(c);
                self.umd(c);
                let (Callee::Expr(callee), Some(arg)) = (&c.callee, c.args.first()) else {
                    return;
                };
                if self.is_global(callee, "App") {
                    self.app_object = Some(&arg.expr);
                }
                // Page/Component/App/Behavior methods, so that `this.helper(url)` resolves.
                for ctor in ["Page", "Component", "App", "Behavior"] {
                    if self.is_global(callee, ctor) {
                        self.value(ctor, &arg.expr, None, 0);
                    }
                }
            }
            // `!function (e, t) { … }(this, function () { … })`
            Expr::Unary(u) if matches!(u.op, UnaryOp::Bang | UnaryOp::Void | UnaryOp::Plus) => {
                if let Expr::Call(c) = unwrap_expr(&u.arg) {
                    self.umd(c);
                }
            }
            _ => {}
        }
    }

    /// `api.list = (d) => …`, `Http.prototype.get = function …` on a name of the module's top
    /// level (or a function of a module-pattern scope): a function of that object.
    fn member_fn(&mut self, obj: &'a Expr, prop: &str, value: &'a Expr) {
        if !matches!(unwrap_expr(value), Expr::Fn(_) | Expr::Arrow(_)) {
            return;
        }
        let (obj, method) = match unwrap_expr(obj) {
            Expr::Member(m) if matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"prototype") => {
                (unwrap_expr(&m.obj), true)
            }
            o => (o, false),
        };
        let Expr::Ident(i) = obj else { return };
        let path = if i.ctxt == self.top_level {
            i.sym.to_string()
        } else if let Some(&k) = self.fn_by_binding.get(&(i.sym.clone(), i.ctxt)) {
            self.fns[k].name.clone()
        } else {
            return;
        };
        let k = self.fns.len();
        self.value(&[&path, ".", prop].concat(), value, Some(&path), 0);
        if method && let Some(def) = self.fns.get_mut(k) {
            def.kind = WrapperKind::Method;
        }
    }

    /// Webpack's `__webpack_require__.d(exports, "name", function () { return local; })` (or an
    /// object of getters), and `Object.defineProperty(exports, "name", { get … / value … })`.
    fn harmony_exports(&mut self, c: &'a CallExpr) {
        let Callee::Expr(callee) = &c.callee else {
            return;
        };
        let Some((obj, name)) = as_member(callee) else {
            return;
        };
        let getters = name == *"d"
            && matches!((unwrap_expr(obj), &self.env.require), (Expr::Ident(i), Some((b, _)))
                if i.sym == b.0 && i.ctxt == b.1);
        let define = name == *"defineProperty" && self.is_global(obj, "Object");
        if !(getters || define) {
            return;
        }
        let Some((target, rest)) = c.args.split_first() else {
            return;
        };
        if !self.is_exports(&target.expr) {
            return;
        }
        let key = |e: &Expr| match unwrap_expr(e) {
            Expr::Lit(Lit::Str(s)) => Some(s.value.to_string_lossy().into_owned()),
            _ => None,
        };
        match rest {
            [k, getter] if getters => {
                if let Some(k) = key(&k.expr) {
                    self.getter_export(k, &getter.expr);
                }
            }
            [defs] if getters => {
                let Expr::Object(o) = unwrap_expr(&defs.expr) else {
                    return;
                };
                for p in &o.props {
                    let PropOrSpread::Prop(p) = p else { continue };
                    match &**p {
                        Prop::KeyValue(kv) => {
                            if let Some(k) = prop_name(&kv.key) {
                                self.getter_export(k, &kv.value);
                            }
                        }
                        Prop::Method(m) => {
                            if let (Some(k), Some(r)) =
                                (prop_name(&m.key), returned(m.function.body.as_ref()))
                            {
                                self.export_value(k, r);
                            }
                        }
                        _ => {}
                    }
                }
            }
            [k, desc] if define => {
                let (Some(k), Expr::Object(o)) = (key(&k.expr), unwrap_expr(&desc.expr)) else {
                    return;
                };
                if k == "__esModule" {
                    return;
                }
                for p in &o.props {
                    let PropOrSpread::Prop(p) = p else { continue };
                    match &**p {
                        Prop::KeyValue(kv) if crate::js::syntax::prop_is(&kv.key, "get") => {
                            self.getter_export(k.clone(), &kv.value)
                        }
                        Prop::KeyValue(kv) if crate::js::syntax::prop_is(&kv.key, "value") => {
                            self.export_value(k.clone(), &kv.value)
                        }
                        Prop::Method(m) if crate::js::syntax::prop_is(&m.key, "get") => {
                            if let Some(r) = returned(m.function.body.as_ref()) {
                                self.export_value(k.clone(), r);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    /// An export whose getter returns `value`.
    fn getter_export(&mut self, name: String, getter: &'a Expr) {
        let value = match unwrap_expr(getter) {
            Expr::Fn(f) => returned(f.function.body.as_ref()),
            Expr::Arrow(a) => arrow_ret(a),
            _ => None,
        };
        if let Some(v) = value {
            self.export_value(name, v);
        }
    }

    fn export_value(&mut self, name: String, value: &'a Expr) {
        let def = match unwrap_expr(value) {
            Expr::Ident(i) if i.ctxt == self.top_level => ExportDef::Local(i.sym.clone()),
            _ => ExportDef::Expr(value),
        };
        self.exports.insert(name, def);
    }

    /// A UMD header at the top of a file: the factory's body is the module (its functions are
    /// registered, see [`scope`](Self::scope)), what it returns is `module.exports`.
    fn umd(&mut self, c: &'a CallExpr) {
        if self.unit.is_some() {
            return;
        }
        let js = self.js;
        let Some(f) = bundle::umd(c, &|i| js.is_global_named(i, "module")) else {
            return;
        };
        self.scope("", f.stmts(), 0);
        let ret = match f {
            Factory::Fn(func) => returned(func.body.as_ref()),
            Factory::Arrow(a) => arrow_ret(a),
        }
        .map(seq_value);
        if let Some(ret) = ret {
            self.value("default", ret, None, 0);
            self.exports.insert("default".into(), ExportDef::Expr(ret));
        }
    }

    /// The functions of a module-pattern scope (an IIFE's body, a UMD factory's): its function
    /// declarations and function-valued variables, registered as `prefix.name` and found by
    /// binding, and the `f.prototype.m = …` / `f.m = …` assignments on them.
    fn scope(&mut self, prefix: &str, stmts: &'a [Stmt], depth: u32) {
        if depth >= MAX_OBJECT_DEPTH {
            return;
        }
        let named = |n: &str| {
            if prefix.is_empty() {
                n.to_string()
            } else {
                [prefix, ".", n].concat()
            }
        };
        for s in stmts {
            match s {
                Stmt::Decl(Decl::Fn(f)) => {
                    let k = self.fns.len();
                    self.function(
                        named(&f.ident.sym),
                        WrapperKind::Function,
                        &f.function,
                        None,
                    );
                    self.fn_by_binding
                        .insert((f.ident.sym.clone(), f.ident.ctxt), k);
                }
                Stmt::Decl(Decl::Var(v)) => {
                    for d in &v.decls {
                        if let (Pat::Ident(b), Some(init)) = (&d.name, &d.init) {
                            let k = self.fns.len();
                            let name = named(&b.id.sym);
                            self.value(&name, init, None, depth + 1);
                            if self.fns.get(k).is_some_and(|f| f.name == name) {
                                self.fn_by_binding.insert((b.id.sym.clone(), b.id.ctxt), k);
                            }
                        }
                    }
                }
                Stmt::Expr(e) => self.scope_expr(&e.expr),
                // Minified: `return e.prototype.get = function …, e`.
                Stmt::Return(ReturnStmt { arg: Some(r), .. }) => self.scope_expr(r),
                _ => {}
            }
        }
    }

    fn scope_expr(&mut self, e: &'a Expr) {
        match unwrap_expr(e) {
            Expr::Seq(s) => {
                for e in &s.exprs {
                    self.scope_expr(e);
                }
            }
            Expr::Assign(a) if a.op == AssignOp::Assign => {
                if let AssignTarget::Simple(SimpleAssignTarget::Member(t)) = &a.left
                    && let Some(prop) = member_name(&t.prop)
                {
                    self.member_fn(&t.obj, &prop, &a.right);
                }
            }
            _ => {}
        }
    }

    fn module_decl(&mut self, d: &'a ModuleDecl) {
        match d {
            ModuleDecl::ExportDecl(ed) => self.decl(&ed.decl, true),
            ModuleDecl::ExportDefaultDecl(d) => match &d.decl {
                DefaultDecl::Fn(f) => {
                    let name = f
                        .ident
                        .as_ref()
                        .map_or("default".to_string(), |i| i.sym.to_string());
                    self.function(name.clone(), WrapperKind::Function, &f.function, None);
                    if name != "default" {
                        self.exports
                            .insert("default".into(), ExportDef::Local(Atom::from(name)));
                    }
                }
                DefaultDecl::Class(c) => {
                    let name = c
                        .ident
                        .as_ref()
                        .map_or("default".to_string(), |i| i.sym.to_string());
                    self.class(&name, &c.class);
                    if name != "default" {
                        self.exports
                            .insert("default".into(), ExportDef::Local(Atom::from(name)));
                    }
                }
                DefaultDecl::TsInterfaceDecl(_) => {}
            },
            ModuleDecl::ExportDefaultExpr(e) => {
                self.value("default", &e.expr, None, 0);
                self.exports
                    .insert("default".into(), ExportDef::Expr(&e.expr));
            }
            ModuleDecl::ExportNamed(n) => {
                for s in &n.specifiers {
                    let ExportSpecifier::Named(s) = s else {
                        continue;
                    };
                    let orig = match &s.orig {
                        ModuleExportName::Ident(i) => i.sym.to_string(),
                        ModuleExportName::Str(s) => s.value.to_string_lossy().into_owned(),
                    };
                    let name = match &s.exported {
                        Some(ModuleExportName::Ident(i)) => i.sym.to_string(),
                        Some(ModuleExportName::Str(s)) => s.value.to_string_lossy().into_owned(),
                        None => orig.clone(),
                    };
                    let def = match &n.src {
                        Some(src) => {
                            ExportDef::From(src.value.to_string_lossy().into_owned(), orig)
                        }
                        None => ExportDef::Local(Atom::from(orig)),
                    };
                    self.exports.insert(name, def);
                }
            }
            ModuleDecl::Import(_) => {}
            _ => {}
        }
    }

    fn param(
        &mut self,
        owner: usize,
        index: u32,
        pat: &'a Pat,
        path: Vec<String>,
        default: Option<&'a Expr>,
    ) {
        match pat {
            Pat::Ident(b) => {
                self.params.insert(
                    (b.id.sym.clone(), b.id.ctxt),
                    ParamRef {
                        owner,
                        index,
                        path,
                        default,
                        name: b.id.sym.to_string(),
                    },
                );
            }
            Pat::Assign(a) => self.param(owner, index, &a.left, path, Some(&a.right)),
            Pat::Object(o) if path.len() < 4 => {
                for p in &o.props {
                    match p {
                        ObjectPatProp::Assign(a) => {
                            let mut path = path.clone();
                            path.push(a.key.id.sym.to_string());
                            self.params.insert(
                                (a.key.id.sym.clone(), a.key.id.ctxt),
                                ParamRef {
                                    owner,
                                    index,
                                    path,
                                    default: a.value.as_deref(),
                                    name: a.key.id.sym.to_string(),
                                },
                            );
                        }
                        ObjectPatProp::KeyValue(kv) => {
                            if let Some(k) = prop_name(&kv.key) {
                                let mut path = path.clone();
                                path.push(k);
                                self.param(owner, index, &kv.value, path, None);
                            }
                        }
                        ObjectPatProp::Rest(_) => {}
                    }
                }
            }
            _ => {}
        }
    }
}

/// The factories found while walking a file, waiting to be summarised, and the number of the
/// next webpack bootstrap.
#[derive(Default)]
struct Tables<'a> {
    next_bundle: u32,
    found: std::collections::VecDeque<Found<'a>>,
}

struct Found<'a> {
    factory: Factory<'a>,
    key: ModuleKey,
    /// DevTools' specifier map, for a `__DEFINE__` factory.
    define: Option<Vec<(String, String)>>,
}

/// The one walk over a module: calls with their enclosing registered function, variables and
/// what is assigned to them, constructor `this` assignments, `new C()`, `promisifyAll(wx, x)`
/// aliases, and (in a file naming a bundle runtime) the module tables, whose factories are
/// left for their own walk.
struct Walker<'i, 'a> {
    ix: &'i mut FileIndex<'a>,
    owner: Option<usize>,
    tables: &'i mut Tables<'a>,
    /// Names declared without a value (`let x`, `let x = null`, `var x = void 0`).
    nullish: HashSet<BindingId>,
}

impl<'a> Walker<'_, 'a> {
    /// Walks a function's body with it as the owner of the calls inside, when it is a
    /// registered function (otherwise the enclosing owner stays).
    fn within(&mut self, span: swc_common::Span, walk: impl FnOnce(&mut Self)) {
        match self.ix.fn_by_span.get(&(span.lo, span.hi)).copied() {
            Some(idx) => {
                let saved = self.owner.replace(idx);
                walk(self);
                self.owner = saved;
            }
            None => walk(self),
        }
    }

    fn call(&mut self, span: swc_common::Span, callee: &'a Expr, args: &'a [ExprOrSpread]) {
        self.ix.calls.push(CallSite {
            owner: self.owner,
            span,
            callee,
            args,
        });
        // promisifyAll(wx, wxp): `wxp` becomes an alias of `wx`.
        if args
            .iter()
            .any(|a| matches!(unwrap_expr(&a.expr), Expr::Ident(i) if self.ix.js.is_global_named(i, "wx")))
        {
            for a in args {
                if let Expr::Ident(i) = unwrap_expr(&a.expr)
                    && !self.ix.js.is_global(i)
                {
                    self.ix.wx_aliases.insert((i.sym.clone(), i.ctxt));
                }
            }
        }
    }
}

impl<'a> Walker<'_, 'a> {
    /// Records `root.a.b = value` (see [`FileIndex::member_sets`]). The functions of an object
    /// assigned to an instance property (`Vue.prototype.$http = { request(o) {…}, get(u) {…} }`)
    /// are registered first, as `Vue.prototype.$http.request`, so that the calls inside them
    /// (walked next) are theirs.
    fn member_set(&mut self, target: &MemberExpr, value: &'a Expr) {
        // The root first, without collecting the names: most assignments (`e.exports.x = …` in
        // a bundle, `this.x = …`) are to members of nothing recorded.
        let mut e: &Expr = &target.obj;
        let mut depth = 0;
        let root = loop {
            match unwrap_expr(e) {
                Expr::Ident(i) => break i,
                Expr::Member(m) if depth < 4 => {
                    depth += 1;
                    e = &m.obj;
                }
                _ => return,
            }
        };
        if self.ix.js.is_global(root) {
            return;
        }
        let b = (root.sym.clone(), root.ctxt);
        let imported = self.ix.imports.contains_key(&b);
        let top = root.ctxt == self.ix.js.top_level;
        // What may hold a Vue app (see `MemberSet::instance`).
        let app = imported
            || self.ix.params.contains_key(&b)
            || self
                .ix
                .vars
                .get(&b)
                .is_some_and(|init| matches!(unwrap_expr(init), Expr::Call(_)));
        if !(top || app) {
            return;
        }
        let name = |p: &MemberProp| match p {
            MemberProp::Ident(p) => Some(p.sym.clone()),
            MemberProp::Computed(c) => match unwrap_expr(&c.expr) {
                Expr::Lit(Lit::Str(s)) => Some(Atom::from(&*s.value.to_string_lossy())),
                _ => None,
            },
            MemberProp::PrivateName(_) => None,
        };
        let mut path: Vec<Atom> = Vec::with_capacity(depth + 1);
        let Some(last) = name(&target.prop) else {
            return;
        };
        let mut e: &Expr = &target.obj;
        while let Expr::Member(m) = unwrap_expr(e) {
            let Some(n) = name(&m.prop) else { return };
            path.push(n);
            e = &m.obj;
        }
        path.reverse();
        path.push(last);
        let property = app && instance_property(&path).is_some();
        if !(property || top || imported) {
            return;
        }
        if property
            && matches!(
                unwrap_expr(value),
                Expr::Object(_) | Expr::Arrow(_) | Expr::Fn(_)
            )
        {
            let start = self.ix.fns.len();
            let mut dotted = root.sym.to_string();
            for p in &path {
                dotted.push('.');
                dotted.push_str(p);
            }
            self.ix.value(&dotted, value, None, 0);
            for owner in start..self.ix.fns.len() {
                let params = self.ix.fns[owner].params.clone();
                for (i, pat) in params.into_iter().enumerate() {
                    self.ix.param(owner, i as u32, pat, Vec::new(), None);
                }
            }
        }
        self.ix.member_sets.push(MemberSet {
            root: b,
            path,
            value,
            owner: self.owner,
            instance: property,
        });
    }
}

impl<'a> Visit for Walker<'_, 'a> {
    fn visit_function(&mut self, f: &Function) {
        self.within(f.span, |w| f.visit_children_with(w));
    }

    fn visit_arrow_expr(&mut self, a: &ArrowExpr) {
        self.within(a.span, |w| a.visit_children_with(w));
    }

    fn visit_constructor(&mut self, c: &Constructor) {
        self.within(c.span, |w| c.visit_children_with(w));
    }

    fn visit_call_expr(&mut self, c: &CallExpr) {
        if self.ix.js.bundled && self.table(c) {
            return;
        }
        c.visit_children_with(self);
        if let Some(Spec::File(spec)) = self.ix.load_spec(c) {
            self.ix.required.push(spec);
        }
        if let Callee::Expr(callee) = &c.callee {
            // SAFETY: a node of the walked program (see `extend`).
            let (callee, args) = unsafe { extend(callee, &c.args[..]) };
            self.call(c.span, callee, args);
        }
    }

    fn visit_opt_chain_expr(&mut self, o: &OptChainExpr) {
        o.visit_children_with(self);
        if let OptChainBase::Call(c) = &*o.base {
            // SAFETY: a node of the walked program (see `extend`).
            let (callee, args) = unsafe { extend(&c.callee, &c.args[..]) };
            self.call(c.span, callee, args);
        }
    }

    fn visit_new_expr(&mut self, n: &NewExpr) {
        n.visit_children_with(self);
        if let (Expr::Ident(i), Some(args)) = (unwrap_expr(&n.callee), &n.args) {
            // SAFETY: a node of the walked program (see `extend`).
            let (_, args) = unsafe { extend(&n.callee, &args[..]) };
            self.ix.news.entry(i.sym.clone()).or_insert(args);
        }
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        if self.ix.js.bundled && self.modules_var(d) {
            return;
        }
        d.visit_children_with(self);
        let Pat::Ident(b) = &d.name else { return };
        if d.init.as_deref().is_none_or(is_nullish) {
            self.nullish.insert((b.id.sym.clone(), b.id.ctxt));
        }
        if let Some(init) = &d.init {
            // SAFETY: a node of the walked program (see `extend`).
            let (init, _) = unsafe { extend(init, &[]) };
            self.ix.vars.insert((b.id.sym.clone(), b.id.ctxt), init);
        }
    }

    fn visit_assign_expr(&mut self, a: &AssignExpr) {
        if a.op == AssignOp::Assign
            && let AssignTarget::Simple(SimpleAssignTarget::Member(m)) = &a.left
        {
            // SAFETY: a node of the walked program (see `extend`).
            let (right, _) = unsafe { extend(&a.right, &[]) };
            self.member_set(m, right);
        }
        a.visit_children_with(self);
        if let AssignTarget::Simple(SimpleAssignTarget::Ident(b)) = &a.left {
            let record = b.id.ctxt == self.ix.top_level
                || (!self.nullish.is_empty()
                    && self.nullish.contains(&(b.id.sym.clone(), b.id.ctxt)));
            if record {
                let id = (b.id.sym.clone(), b.id.ctxt);
                // SAFETY: a node of the walked program (see `extend`).
                let (value, _) = unsafe { extend(&a.right, &[]) };
                self.ix.assigns.entry(id).or_default().push(Assign {
                    value,
                    span: a.span,
                    owner: self.owner,
                    plain: a.op == AssignOp::Assign,
                });
            }
            return;
        }
        let Some(owner) = self.owner else { return };
        let def = &self.ix.fns[owner];
        if !def.name.ends_with(".constructor") {
            return;
        }
        let Some(class) = def.class.clone() else {
            return;
        };
        if let AssignTarget::Simple(SimpleAssignTarget::Member(m)) = &a.left
            && matches!(&*m.obj, Expr::This(_))
            && let MemberProp::Ident(p) = &m.prop
            && a.op == AssignOp::Assign
        {
            // SAFETY: a node of the walked program (see `extend`).
            let (right, _) = unsafe { extend(&a.right, &[]) };
            // The constructor's assignment wins over a field initialiser.
            let slot = self
                .ix
                .this_assigns
                .entry((class, p.sym.to_string()))
                .or_insert((right, Some(owner)));
            if slot.1.is_none() {
                *slot = (right, Some(owner));
            }
        }
    }
}

impl<'a> Walker<'_, 'a> {
    /// A module table (a webpack bootstrap applied to its factories, a chunk, a `__DEFINE__`):
    /// its factories are queued as modules of their own and not walked as part of this one.
    /// The rest of the call is.
    fn table(&mut self, c: &CallExpr) -> bool {
        // SAFETY: a node of the walked program (see `extend`).
        let c: &'a CallExpr = unsafe { &*(c as *const CallExpr) };
        let mut queue = |factories: bundle::Table<'a>, registry: &Registry| {
            for (id, factory) in factories {
                self.tables.found.push_back(Found {
                    factory,
                    key: ModuleKey {
                        registry: registry.clone(),
                        id,
                    },
                    define: None,
                });
            }
        };
        if let Some((entry, factories)) = bundle::bootstrap(c) {
            let registry = Registry::Bundle(self.tables.next_bundle);
            self.tables.next_bundle += 1;
            queue(factories, &registry);
            if let Some(id) = entry {
                self.ix
                    .bundles
                    .insert((c.span.lo, c.span.hi), ModuleKey { registry, id });
            }
            c.callee.visit_with(self);
            return true;
        }
        if let Some((name, factories)) = bundle::chunk(c) {
            queue(factories, &Registry::Chunks(name));
            c.callee.visit_with(self);
            // A webpack 5 chunk's third element is its runtime part, code of this file.
            if let Some(Expr::Array(a)) = c.args.first().map(|a| unwrap_expr(&a.expr)) {
                for el in a.elems.iter().skip(2) {
                    el.visit_with(self);
                }
            }
            return true;
        }
        if let Some(d) = bundle::define(c) {
            self.tables.found.push_back(Found {
                factory: d.factory,
                key: ModuleKey {
                    registry: Registry::Define,
                    id: d.id,
                },
                define: Some(d.map),
            });
            return true;
        }
        false
    }
}

/// The value of a sequence, its last expression (`(a.x = f, a)` is `a`).
fn seq_value(e: &Expr) -> &Expr {
    match unwrap_expr(e) {
        Expr::Seq(s) => s.exprs.last().map_or(e, |l| seq_value(l)),
        _ => e,
    }
}

/// A member's name: `a.b`, `a["b"]`.
fn member_name(p: &MemberProp) -> Option<String> {
    match p {
        MemberProp::Ident(i) => Some(i.sym.to_string()),
        MemberProp::Computed(c) => match unwrap_expr(&c.expr) {
            Expr::Lit(Lit::Str(s)) => Some(s.value.to_string_lossy().into_owned()),
            _ => None,
        },
        MemberProp::PrivateName(_) => None,
    }
}

impl<'a> Walker<'_, 'a> {
    /// Webpack 5's `var __webpack_modules__ = ({ … })`: its factories are queued as modules of
    /// their own, and the scope's `__webpack_require__` loads them.
    fn modules_var(&mut self, d: &VarDeclarator) -> bool {
        // SAFETY: a node of the walked program (see `extend`).
        let d: &'a VarDeclarator = unsafe { &*(d as *const VarDeclarator) };
        let Some((scope, factories)) = bundle::modules_var(d) else {
            return false;
        };
        let registry = Registry::Bundle(self.tables.next_bundle);
        self.tables.next_bundle += 1;
        for (id, factory) in factories {
            self.tables.found.push_back(Found {
                factory,
                key: ModuleKey {
                    registry: registry.clone(),
                    id,
                },
                define: None,
            });
        }
        self.ix.loaders.insert(scope, registry);
        true
    }
}

/// `null`, `undefined`, `void 0`: a declaration that gives no value yet.
pub(crate) fn is_nullish(e: &Expr) -> bool {
    match unwrap_expr(e) {
        Expr::Lit(Lit::Null(_)) => true,
        Expr::Ident(i) => i.sym == *"undefined",
        Expr::Unary(u) => u.op == UnaryOp::Void && matches!(&*u.arg, Expr::Lit(_)),
        _ => false,
    }
}

/// `Visit` hands out node references with an anonymous lifetime. The walker is only run over
/// `ix.js.program` (see [`build`]), borrowed for `'a`, so every node it sees lives for `'a`.
///
/// # Safety
/// `e` and `args` must be nodes of the program the walker was built over (borrowed for `'a`).
unsafe fn extend<'a>(e: &Expr, args: &[ExprOrSpread]) -> (&'a Expr, &'a [ExprOrSpread]) {
    // SAFETY: the caller guarantees the nodes belong to the `JsFile` borrowed for `'a`; nothing
    // is mutated while the index exists.
    unsafe { (&*(e as *const Expr), &*(args as *const [ExprOrSpread])) }
}

/// The member names a callee reads, outermost first, kept on the stack: the walks over a
/// callee stop after eight steps, each reading at most one name.
#[derive(Default)]
struct Names<'a> {
    items: [std::borrow::Cow<'a, str>; 8],
    len: usize,
}

impl<'a> Names<'a> {
    fn push(&mut self, name: std::borrow::Cow<'a, str>) {
        debug_assert!(self.len < self.items.len());
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = name;
            self.len += 1;
        }
    }

    fn get(&self) -> &[std::borrow::Cow<'a, str>] {
        &self.items[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileKind;
    use crate::span::FileId;

    /// The callees of the calls a file's summary keeps, as source text.
    fn kept(src: &str) -> Vec<String> {
        let (js, _) = crate::js::parse(FileId(0), "pages/a/index.js", FileKind::Js, src);
        let js = js.expect("the test source parses");
        let ix = FileIndex::build(&js);
        ix.calls
            .iter()
            .map(|c| {
                let sp = swc_common::Spanned::span(c.callee);
                src[sp.lo.0 as usize - 1..sp.hi.0 as usize - 1].to_string()
            })
            .collect()
    }

    /// The callees a summary keeps, as source text.
    fn callees(src: &str, ix: &FileIndex<'_>) -> Vec<String> {
        ix.calls
            .iter()
            .map(|c| {
                let sp = swc_common::Spanned::span(c.callee);
                src[sp.lo.0 as usize - 1..sp.hi.0 as usize - 1].to_string()
            })
            .collect()
    }

    #[test]
    fn webpack_factories_are_modules_of_their_own() {
        let src = r#"module.exports = (function (modules) {
  function __webpack_require__(id) { return modules[id].call() }
  return __webpack_require__(__webpack_require__.s = 0)
})([
  function (module, exports, __webpack_require__) {
    var api = __webpack_require__(1)
    __webpack_require__.r(exports)
    api.get('/x')
    module.exports = api
  },
  function (module, __webpack_exports__, __webpack_require__) {
    __webpack_require__.d(__webpack_exports__, "get", function () { return get })
    function get(u) { return wx.request({ url: u }) }
  }
])"#;
        let (js, _) = crate::js::parse(FileId(0), "sdk.js", FileKind::Js, src);
        let js = js.expect("the test source parses");
        let ix = FileIndex::build(&js);
        let ids: Vec<_> = ix
            .modules
            .iter()
            .map(|m| m.unit.as_ref().map(|k| (k.registry.clone(), k.id.clone())))
            .collect();
        assert_eq!(
            ids,
            [
                Some((Registry::Bundle(0), "0".to_string())),
                Some((Registry::Bundle(0), "1".to_string()))
            ]
        );
        // The bootstrap is code of the file (its `__webpack_require__` a function of it); the
        // factories' calls are theirs.
        assert_eq!(callees(src, &ix), ["__webpack_require__"]);
        let (m0, m1) = (&ix.modules[0], &ix.modules[1]);
        assert_eq!(callees(src, m0), ["api.get"], "not `__webpack_require__.r`");
        assert!(m0.exports.contains_key("default"));
        assert!(matches!(m1.exports.get("get"), Some(ExportDef::Local(a)) if a == "get"));
        assert_eq!(callees(src, m1), ["wx.request"]);
        assert!(m1.fn_by_name.contains_key("get"));
    }

    #[test]
    fn calls_that_cannot_resolve_are_left_out() {
        let src = "import { get } from '../../utils/http'
import axios from 'axios'
const api = require('../../api/index.js')
const TABLE = [1, 2]
function local() {}
Page({
  onLoad(options) {
    wx.showToast({ title: 'x' })
    Math.max(1, 2)
    TABLE.find((r) => r === 1).toFixed()
    get('/a').then((res) => res)
    options.cb()
    setTimeout(() => {}, 1)
    this.setData({ a: 1 })
    this.data.list.reduce((a, b) => a + b, 0)
    this.load('/x')
    const that = this
    that.load('/y')
    that.setData({})
    api.list()
    local()
    wx.request({ url: 'https://a.example.com' })
    wx['uploadFile']({})
    getApp().globalData.http.get('/b')
    new Http().get('/c')
    promisify(wx.request)({})
    TABLE[0].x()
    const request = promisify(wx.request)
    request({})
    const http = { get: local }
    http.get('/d')
    const row = TABLE.find((r) => r === 2)
    row.name.trim()
    const BASE = 'https://a.example.com'
    BASE.replace('a', 'b')
    const client = axios.create({ baseURL: BASE })
    client.get('/e')
    const rows = TABLE.filter((r) => r > 1)
    rows.at(0).toFixed()
    fetchItems(42)
    list.all(1)
  },
  load(url) {
    return get(url)
  },
})
exports.fetchItems = function (id) { return wx.request({ url: '/items/' + id }) }
const fetchItems = exports.fetchItems
const list = wx.getStorageSync('list')
exports.list = { all(page) { return get('/all/' + page) } }
class Http {
  get(url) {
    return this.request(url)
  }
  request(url) {
    this.log(url)
    return wx.request({ url })
  }
}
";
        assert_eq!(
            kept(src),
            [
                "get",
                "this.load",
                "that.load",
                "api.list",
                "local",
                "wx.request",
                "wx['uploadFile']",
                "getApp().globalData.http.get",
                "new Http().get",
                "promisify(wx.request)",
                "request",
                "http.get",
                "axios.create",
                "client.get",
                "fetchItems",
                "list.all",
                "get",
                "wx.request",
                "get",
                "this.request",
                "wx.request",
            ]
        );
    }
}
