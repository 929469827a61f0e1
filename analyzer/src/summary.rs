//! Per-file summary (built in parallel, one walk per file): the functions a file declares at
//! top level (functions, arrow constants, object-literal members, class methods), their
//! parameters, every call with the function it sits in, local constants, exports, and the
//! `this.x = …` assignments of constructors.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use swc_atoms::{Atom, atom};
use swc_common::BytePos;
use swc_ecma_ast::*;
use swc_ecma_visit::{Visit, VisitWith};

use crate::findings::{NetworkApi, WrapperKind};
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
    pub fns: Vec<FnDef<'a>>,
    pub fn_by_name: HashMap<String, usize>,
    fn_by_span: HashMap<(BytePos, BytePos), usize>,
    /// Every `const/let/var x = init` of the file, in any scope.
    pub vars: HashMap<BindingId, &'a Expr>,
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
        (name.clone(), self.js.top_level)
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
                if i.ctxt == self.js.top_level || self.imports.contains_key(&b) {
                    rest.insert(0, i.sym.clone());
                    return Some(LocalPath::Here(rest));
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
                // require('x'), getApp()
                let Callee::Expr(callee) = &c.callee else {
                    return None;
                };
                let Expr::Ident(i) = unwrap_expr(callee) else {
                    return None;
                };
                if self.js.is_global_named(i, "getApp") {
                    rest.insert(0, atom!("App"));
                    return Some(LocalPath::App(rest));
                }
                if !self.js.is_global_named(i, "require") {
                    return None;
                }
                let Some(Expr::Lit(Lit::Str(s))) = c.args.first().map(|a| unwrap_expr(&a.expr))
                else {
                    return None;
                };
                rest.insert(0, atom!("*"));
                Some(LocalPath::Required(
                    s.value.to_string_lossy().into_owned(),
                    rest,
                ))
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
    pub(crate) fn build(js: &'a JsFile) -> FileIndex<'a> {
        let mut ix = FileIndex {
            js,
            fns: Vec::new(),
            fn_by_name: HashMap::default(),
            fn_by_span: HashMap::default(),
            vars: HashMap::default(),
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
        };
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
        // Parameters of registered functions.
        for owner in 0..ix.fns.len() {
            let params = ix.fns[owner].params.clone();
            for (i, pat) in params.into_iter().enumerate() {
                ix.param(owner, i as u32, pat, Vec::new(), None);
            }
        }
        let mut w = Walker {
            ix: &mut ix,
            owner: None,
        };
        js.program.visit_with(&mut w);
        ix.held_by = ix.functions_held_by_objects();
        // Decided now, while the tree is in cache: the detector reads each call's callee again
        // only for the calls that may resolve.
        let calls = std::mem::take(&mut ix.calls);
        let (mut kept, mut this_calls) = (Vec::new(), Vec::new());
        for c in calls {
            if !ix.surely_foreign(c.callee, c.owner) {
                kept.push(c);
            } else if ix.of_this_member(c.callee) {
                this_calls.push(c);
            }
        }
        ix.calls = kept;
        ix.this_calls = this_calls;
        ix
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
        let mut names: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        for _ in 0..8 {
            match e {
                Expr::Ident(i) => {
                    let b = (i.sym.clone(), i.ctxt);
                    // `lookup` tries a top-level name's whole dotted path as a function first
                    // (`exports.f = …` registers `f` whatever `const f` holds).
                    if self.imports.contains_key(&b)
                        || (i.ctxt == self.js.top_level
                            && self.names_function(std::iter::once(&*i.sym), &names))
                    {
                        return false;
                    }
                    match self.vars.get(&b) {
                        Some(init) => {
                            e = unwrap_expr(init);
                            initializer = true;
                        }
                        None => return i.ctxt != self.js.top_level,
                    }
                }
                // `getApp().x`, `require('…').x`; `promisify(wx.request)(…)` when outermost; a
                // local made by a module's function (`const http = axios.create(…)`,
                // `const shop = createRequest('/shop')`).
                Expr::Call(c) => {
                    return !outermost
                        && !matches!(&c.callee, Callee::Expr(f) if matches!(unwrap_expr(f),
                            Expr::Ident(i) if self.js.is_global_named(i, "getApp")
                                || self.js.is_global_named(i, "require"))
                            || (initializer && self.made_by_module(f)));
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
                Expr::This(_) => return self.this_foreign(owner, &names),
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
        let mut names: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        for _ in 0..8 {
            match e {
                Expr::Ident(i) => {
                    let b = (i.sym.clone(), i.ctxt);
                    return self.imports.contains_key(&b)
                        || (i.ctxt == self.js.top_level
                            && self.names_function(std::iter::once(&*i.sym), &names));
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
        let mut key = String::new();
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
            Expr::Object(o) if depth < MAX_OBJECT_DEPTH => {
                self.objects.entry(name.to_string()).or_insert(e);
                for p in &o.props {
                    let PropOrSpread::Prop(p) = p else { continue };
                    match &**p {
                        Prop::KeyValue(kv) => {
                            if let Some(k) = prop_name(&kv.key) {
                                self.value(
                                    &format!("{name}.{k}"),
                                    &kv.value,
                                    Some(name),
                                    depth + 1,
                                );
                            }
                        }
                        Prop::Method(m) => {
                            if let Some(k) = prop_name(&m.key) {
                                self.function(
                                    format!("{name}.{k}"),
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
                name: format!("{cname}.{name}"),
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
            Stmt::Expr(e) => self.top_expr(&e.expr),
            _ => {}
        }
    }

    fn is_global(&self, e: &Expr, name: &str) -> bool {
        matches!(unwrap_expr(e), Expr::Ident(i) if self.js.is_global_named(i, name))
    }

    fn top_expr(&mut self, e: &'a Expr) {
        match unwrap_expr(e) {
            Expr::Assign(a) if a.op == AssignOp::Assign => {
                let AssignTarget::Simple(SimpleAssignTarget::Member(t)) = &a.left else {
                    return;
                };
                let MemberProp::Ident(prop) = &t.prop else {
                    return;
                };
                let name = if self.is_global(&t.obj, "module") && prop.sym == *"exports" {
                    "default".to_string()
                } else if self.is_global(&t.obj, "exports")
                    || matches!(unwrap_expr(&t.obj), Expr::Member(m)
                        if self.is_global(&m.obj, "module")
                        && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"exports"))
                {
                    prop.sym.to_string()
                } else {
                    return;
                };
                self.value(&name, &a.right, None, 0);
                self.exports.insert(name, ExportDef::Expr(&a.right));
            }
            Expr::Call(c) => {
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

/// The one walk over a file: calls with their enclosing registered function, variables,
/// constructor `this` assignments, `new C()` and `promisifyAll(wx, x)` aliases.
struct Walker<'i, 'a> {
    ix: &'i mut FileIndex<'a>,
    owner: Option<usize>,
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
        if let Expr::Ident(i) = unwrap_expr(callee)
            && self.ix.js.is_global_named(i, "require")
            && let Some(Expr::Lit(Lit::Str(s))) = args.first().map(|a| unwrap_expr(&a.expr))
        {
            self.ix
                .required
                .push(s.value.to_string_lossy().into_owned());
        }
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
        c.visit_children_with(self);
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
        d.visit_children_with(self);
        if let (Pat::Ident(b), Some(init)) = (&d.name, &d.init) {
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
