//! HTTP clients made from the npm packages of the mini-program world: an axios instance
//! (`axios.create({ baseURL, adapter })`, whose adapter calls `wx.request`; or the default
//! `axios` once `axios.defaults.adapter` is set), flyio (`new Fly()`, `fly.config.baseURL = …`)
//! and luch-request (`new Request({ baseURL })`).
//!
//! A client is recognised by what makes it: the package's `create` or constructor, reached
//! through an import of the package (by its name, or a file under a folder of that name such as
//! `miniprogram_npm/flyio/`). What each method of the client sends is the package's documented
//! behaviour, written down here once ([`Request`]): the method name gives the HTTP verb, the
//! instance's `baseURL` joins the path. The request leaves through the client's transport: the
//! axios adapter (a function of the project or of an adapter package, given the merged config),
//! or the package's own function that calls `wx.request`.

use rustc_hash::FxHashMap as HashMap;

use swc_atoms::Atom;
use swc_common::{BytePos, Spanned};
use swc_ecma_ast::*;

use super::endpoint::Ev;
use super::value::{Entry, Part, Val, get_simple, merge, or, to_parts};
use super::world::{Gfn, Reached, Target, World};
use crate::findings::NetworkApi;
use crate::js::syntax::{as_member, prop_is, unwrap_expr};
use crate::span::Span;
use crate::summary::MemberSet;

/// The packages whose clients are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Package {
    /// `axios` (with an adapter), and `axios-miniprogram` (same API, its own `wx.request`).
    Axios {
        own_transport: bool,
    },
    Fly,
    Luch,
}

/// The package of this name.
fn package_named(name: &str) -> Option<Package> {
    Some(match name {
        "axios" => Package::Axios {
            own_transport: false,
        },
        "axios-miniprogram" => Package::Axios {
            own_transport: true,
        },
        "flyio" => Package::Fly,
        "luch-request" => Package::Luch,
        _ => return None,
    })
}

/// The package of a specifier (`flyio/dist/npm/wx` → flyio) or of the file it resolves to (a
/// folder of the package's name on its path: `miniprogram_npm/luch-request/index.js`,
/// `js_sdk/luch-request/request.js`), with that folder as the package's root.
fn package_of(spec: &str, resolved: Option<&str>) -> Option<(Package, Option<String>)> {
    let root = |path: &str| {
        let mut at = 0;
        for seg in path.split('/') {
            at += seg.len() + 1;
            if let Some(p) = package_named(seg) {
                return Some((p, path[..at.min(path.len())].to_string()));
            }
        }
        None
    };
    if !spec.starts_with('.') && !spec.starts_with('/') {
        let name = spec.split('/').next().unwrap_or(spec);
        if let Some(p) = package_named(name) {
            let r = resolved.and_then(|path| root(path).map(|(_, r)| r));
            return Some((p, r));
        }
    }
    let (p, r) = root(resolved?)?;
    Some((p, Some(r)))
}

/// One client instance.
pub(super) struct Client<'a> {
    pub package: Package,
    /// The instance's configuration: `create(config)` / `new Request(config)`, then
    /// `x.defaults.k = v` / `x.config.k = v` assignments.
    pub defaults: Val,
    /// The axios adapter expression and its file.
    adapter: Option<(usize, &'a Expr)>,
    /// Folder of the package's files (`miniprogram/miniprogram_npm/flyio/`).
    pub root: Option<String>,
}

/// How a client's transport is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Transport {
    /// A function given the merged axios config (`adapter: wxAdapter`).
    Adapter(Gfn),
    /// The package's own function calling the network API.
    Package(Gfn),
}

impl Transport {
    pub(super) fn gfn(self) -> Gfn {
        match self {
            Transport::Adapter(g) | Transport::Package(g) => g,
        }
    }
}

/// A method of a client called: `http.get`, `http(…)`, `fly.request`, `http.middleware`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ClientCall {
    pub client: u32,
    pub verb: Verb,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
    /// The instance called as a function, `request`, `middleware`: a config (or a URL first).
    Config,
    /// `get(url, config)`-style: the URL first, no body (axios `get/delete/head/options`,
    /// luch-request `get`).
    NoBody(&'static str),
    /// `post(url, data, config)`-style (flyio: every verb).
    Body(&'static str),
    /// flyio `request(url, data, options)`: the method comes from the options.
    UrlData,
    /// luch-request `upload(url, config)` / `download(url, config)`.
    File(NetworkApi),
}

/// The verb a member name is on a client of `package` (`None` for the instance itself called).
fn verb(package: Package, name: Option<&str>) -> Option<Verb> {
    let upper = |m: &str| -> Option<&'static str> {
        Some(match m {
            "get" => "GET",
            "delete" => "DELETE",
            "head" => "HEAD",
            "options" => "OPTIONS",
            "post" | "postForm" => "POST",
            "put" | "putForm" => "PUT",
            "patch" | "patchForm" => "PATCH",
            "connect" => "CONNECT",
            "trace" => "TRACE",
            _ => return None,
        })
    };
    match (package, name) {
        (Package::Axios { .. }, None | Some("request")) => Some(Verb::Config),
        (Package::Axios { .. }, Some(m @ ("get" | "delete" | "head" | "options"))) => {
            Some(Verb::NoBody(upper(m)?))
        }
        (
            Package::Axios { .. },
            Some(m @ ("post" | "put" | "patch" | "postForm" | "putForm" | "patchForm")),
        ) => Some(Verb::Body(upper(m)?)),
        (Package::Fly, Some("request")) => Some(Verb::UrlData),
        (Package::Fly, Some(m @ ("get" | "post" | "put" | "patch" | "head" | "delete"))) => {
            Some(Verb::Body(upper(m)?))
        }
        (Package::Luch, Some("request" | "middleware")) => Some(Verb::Config),
        (Package::Luch, Some("get")) => Some(Verb::NoBody("GET")),
        (
            Package::Luch,
            Some(m @ ("post" | "put" | "delete" | "head" | "options" | "connect" | "trace")),
        ) => Some(Verb::Body(upper(m)?)),
        (Package::Luch, Some("upload")) => Some(Verb::File(NetworkApi::UploadFile)),
        (Package::Luch, Some("download")) => Some(Verb::File(NetworkApi::DownloadFile)),
        _ => None,
    }
}

/// What one client call sends, in terms of the calling function's parameters.
pub(super) struct Request {
    pub api: NetworkApi,
    /// The URL joined with the base URL.
    pub url: Val,
    pub method: Val,
    /// The config an axios adapter is given (the instance's merged with the call's).
    pub config: Val,
}

/// Every client of the project.
pub(super) struct Clients<'a> {
    pub list: Vec<Client<'a>>,
    /// The expression making a client, by (file, span of the expression).
    at: HashMap<(usize, BytePos, BytePos), u32>,
    /// The default `axios`, when something sets its defaults.
    default_axios: Option<u32>,
}

impl<'a> Clients<'a> {
    /// Finds every client: the values of variables and exports, and instance properties, that
    /// a client's package makes; then the assignments to their configuration.
    pub(super) fn build(w: &World<'a>) -> Clients<'a> {
        let mut c = Clients {
            list: Vec::new(),
            at: HashMap::default(),
            default_axios: None,
        };
        for (fi, f) in w.files.iter().enumerate() {
            let values = f
                .vars
                .values()
                .copied()
                .chain(f.exports.values().filter_map(|e| match e {
                    crate::summary::ExportDef::Expr(e) => Some(*e),
                    _ => None,
                }))
                .chain(f.member_sets.iter().map(|m| m.value));
            for e in values {
                if let Some((package, config, root)) = made_client(w, fi, e) {
                    let defaults = match config {
                        Some(cfg) => Ev::new(w).expr(fi, cfg, None, 0),
                        None => Val::Obj(Vec::new()),
                    };
                    let adapter = config.and_then(|cfg| prop(cfg, "adapter")).map(|a| (fi, a));
                    c.add(
                        (fi, e.span().lo, e.span().hi),
                        Client {
                            package,
                            defaults,
                            adapter,
                            root,
                        },
                    );
                }
            }
        }
        // `axios.defaults.x = …` on the default instance, `http.defaults.x = …`,
        // `fly.config.x = …`, luch-request's `http.setConfig((config) => { config.x = …})`.
        for (fi, f) in w.files.iter().enumerate() {
            for m in &f.member_sets {
                c.configure(w, fi, m);
            }
        }
        if c.list.iter().any(|c| c.package == Package::Luch) {
            for (fi, f) in w.files.iter().enumerate() {
                for call in &f.calls {
                    c.set_config(w, fi, call.callee, call.args);
                }
            }
        }
        c
    }

    /// luch-request's `http.setConfig((config) => { config.baseURL = …; return config })`: the
    /// keys the function sets on its parameter, or returns in an object literal.
    fn set_config(&mut self, w: &World<'a>, fi: usize, callee: &Expr, args: &'a [ExprOrSpread]) {
        let Some((obj, name)) = as_member(callee) else {
            return;
        };
        let (Expr::Ident(root), Some(arg)) = (unwrap_expr(obj), args.first()) else {
            return;
        };
        if name != *"setConfig" {
            return;
        }
        let Some(id) = self.client_of(w, fi, &(root.sym.clone(), root.ctxt)) else {
            return;
        };
        if self.list[id as usize].package != Package::Luch {
            return;
        }
        let (param, stmts, body): (Option<&Pat>, &[Stmt], Option<&Expr>) =
            match unwrap_expr(&arg.expr) {
                Expr::Arrow(a) => match &*a.body {
                    ArrowFunctionBody::FunctionBody(b) => (a.params.first(), &b.stmts, None),
                    ArrowFunctionBody::Expr(e) => (a.params.first(), &[], Some(&**e)),
                },
                Expr::Fn(f) => (
                    f.function.params.first().map(|p| &p.pat),
                    f.function.body.as_ref().map_or(&[][..], |b| &b.stmts),
                    None,
                ),
                _ => return,
            };
        let Some(Pat::Ident(param)) = param else {
            return;
        };
        let ev = Ev::new(w);
        let mut set = Vec::new();
        for stmt in stmts {
            match stmt {
                Stmt::Expr(e) => {
                    if let Expr::Assign(a) = unwrap_expr(&e.expr)
                        && let AssignTarget::Simple(SimpleAssignTarget::Member(m)) = &a.left
                        && matches!(unwrap_expr(&m.obj), Expr::Ident(i) if i.sym == param.id.sym && i.ctxt == param.id.ctxt)
                        && let MemberProp::Ident(k) = &m.prop
                    {
                        set.push(Entry::Kv(k.sym.to_string(), ev.expr(fi, &a.right, None, 0)));
                    }
                }
                Stmt::Return(r) => set.extend(literal_keys(&ev, fi, r.arg.as_deref())),
                _ => {}
            }
        }
        set.extend(literal_keys(&ev, fi, body));
        if let Val::Obj(entries) = &mut self.list[id as usize].defaults {
            entries.extend(set);
        }
    }

    fn add(&mut self, key: (usize, BytePos, BytePos), client: Client<'a>) {
        if self.at.contains_key(&key) {
            return;
        }
        self.at.insert(key, self.list.len() as u32);
        self.list.push(client);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The client an expression makes.
    pub(super) fn at(&self, fi: usize, e: &Expr) -> Option<u32> {
        let sp = e.span();
        self.at.get(&(fi, sp.lo, sp.hi)).copied()
    }

    /// An assignment to a client's configuration.
    fn configure(&mut self, w: &World<'a>, fi: usize, m: &MemberSet<'a>) {
        let (key, rest) = match m.path.as_slice() {
            [k, rest @ ..] if *k == *"defaults" || *k == *"config" => (k, rest),
            _ => return,
        };
        let f = &w.files[fi];
        // The default axios: the root is an import of the package.
        let default = match f.imports.get(&m.root) {
            Some((spec, _)) if *key == *"defaults" => {
                match package_of(spec, w.resolve_spec(fi, spec).map(|t| path_of(w, t))) {
                    Some((package @ Package::Axios { .. }, root)) => Some((package, root)),
                    _ => None,
                }
            }
            _ => None,
        };
        let id = match default {
            Some((package, root)) => Some(*self.default_axios.get_or_insert_with(|| {
                self.list.push(Client {
                    package,
                    defaults: Val::Obj(Vec::new()),
                    adapter: None,
                    root,
                });
                self.list.len() as u32 - 1
            })),
            None => self.client_of(w, fi, &m.root),
        };
        let Some(id) = id else { return };
        let client = &mut self.list[id as usize];
        let expected = match client.package {
            Package::Axios { .. } => "defaults",
            Package::Fly | Package::Luch => "config",
        };
        if *key != *expected {
            return;
        }
        let value = Ev::new(w).expr(fi, m.value, m.owner, 0);
        let Val::Obj(entries) = &mut client.defaults else {
            return;
        };
        match rest {
            [] => entries.push(Entry::Spread(value)),
            [k] => {
                if *k == *"adapter" {
                    client.adapter = Some((fi, m.value));
                }
                entries.push(Entry::Kv(k.to_string(), value));
            }
            _ => {}
        }
    }

    /// The client a binding of file `fi` holds (`fly` of `const fly = new Fly()`, an imported
    /// instance).
    fn client_of(&self, w: &World<'a>, fi: usize, b: &crate::js::BindingId) -> Option<u32> {
        let f = &w.files[fi];
        let path = if let Some(init) = f.vars.get(b) {
            if let Some(id) = self.at(fi, init) {
                return Some(id);
            }
            return None;
        } else if f.imports.contains_key(b) {
            vec![b.0.clone()]
        } else {
            return None;
        };
        match w.reach(fi, path, &|f, e| self.at(f, e).is_some())? {
            Reached::Value(f, e, rest) if rest.is_empty() => self.at(f, e),
            _ => None,
        }
    }

    /// The client call a value reached by a callee is: `rest` is what the callee reads from
    /// the client (`[]` for `http(…)`, `["get"]`).
    pub(super) fn call(&self, fi: usize, e: &Expr, rest: &[Atom]) -> Option<ClientCall> {
        let client = self.at(fi, e)?;
        let name = match rest {
            [] => None,
            [n] => Some(&**n),
            _ => return None,
        };
        Some(ClientCall {
            client,
            verb: verb(self.list[client as usize].package, name)?,
        })
    }

    /// A call on the default axios instance (`axios.get(…)`, `axios({…})`), when something
    /// sets its defaults: the callee's root is an import of the package.
    pub(super) fn default_call(
        &self,
        w: &World<'a>,
        fi: usize,
        callee: &Expr,
    ) -> Option<ClientCall> {
        let client = self.default_axios?;
        let (root, name) = match unwrap_expr(callee) {
            Expr::Ident(i) => (i, None),
            e => {
                let (obj, name) = as_member(e)?;
                let Expr::Ident(i) = unwrap_expr(obj) else {
                    return None;
                };
                (i, Some(name))
            }
        };
        let (spec, _) = w.files[fi].imports.get(&(root.sym.clone(), root.ctxt))?;
        let resolved = w.resolve_spec(fi, spec).map(|t| path_of(w, t));
        if !matches!(package_of(spec, resolved), Some((Package::Axios { .. }, _))) {
            return None;
        }
        Some(ClientCall {
            client,
            verb: verb(self.list[client as usize].package, name.as_deref())?,
        })
    }

    /// The transport of each client: the axios adapter when it resolves to a function, else
    /// the first function (by file, then position) of the package's files that calls a network
    /// API itself (`sinks`: the functions that do, with their file's path).
    pub(super) fn transports(
        &self,
        w: &World<'a>,
        sinks: &[(Gfn, &str)],
    ) -> Vec<Option<Transport>> {
        self.list
            .iter()
            .map(|c| {
                let adapter = match c.package {
                    Package::Axios { own_transport } if !own_transport => {
                        let own = c.adapter.or_else(|| {
                            self.default_axios
                                .and_then(|d| self.list[d as usize].adapter)
                        });
                        own.and_then(|(fi, e)| adapter_fn(w, fi, e))
                    }
                    _ => None,
                };
                if let Some(g) = adapter {
                    return Some(Transport::Adapter(g));
                }
                let root = c.root.as_deref()?;
                sinks
                    .iter()
                    .filter(|(_, path)| path.starts_with(root))
                    .min_by_key(|(g, path)| (*path, w.files[g.0].fns[g.1].span.lo))
                    .map(|(g, _)| Transport::Package(*g))
            })
            .collect()
    }

    /// What a client call sends. `arg(i)` is the call's `i`th argument; `at` is the call.
    pub(super) fn request(&self, cc: ClientCall, arg: &dyn Fn(u32) -> Val, at: Span) -> Request {
        let client = &self.list[cc.client as usize];
        let inherited = match (client.package, self.default_axios) {
            (Package::Axios { .. }, Some(d)) if d != cc.client => {
                Some(self.list[d as usize].defaults.clone())
            }
            _ => None,
        };
        let mut entries = Vec::new();
        entries.extend(inherited.map(Entry::Spread));
        entries.push(Entry::Spread(client.defaults.clone()));
        let (api, url, method) = match cc.verb {
            Verb::Config => {
                let first = arg(0);
                if matches!(first, Val::Str(_)) {
                    // `http('/a', config)`, `http.request('/a', config)`.
                    entries.push(Entry::Spread(arg(1)));
                    entries.push(Entry::Kv("url".into(), first.clone()));
                    (NetworkApi::Request, first, None)
                } else {
                    let url = get_simple(&first, "url").unwrap_or(Val::Missing);
                    entries.push(Entry::Spread(first));
                    (NetworkApi::Request, url, None)
                }
            }
            Verb::NoBody(m) => {
                entries.push(Entry::Spread(arg(1)));
                (NetworkApi::Request, arg(0), Some(m))
            }
            Verb::Body(m) => {
                entries.push(Entry::Spread(arg(2)));
                entries.push(Entry::Kv("data".into(), arg(1)));
                (NetworkApi::Request, arg(0), Some(m))
            }
            Verb::UrlData => {
                entries.push(Entry::Spread(arg(2)));
                entries.push(Entry::Kv("data".into(), arg(1)));
                (NetworkApi::Request, arg(0), None)
            }
            Verb::File(api) => {
                entries.push(Entry::Spread(arg(1)));
                (
                    api,
                    arg(0),
                    Some("POST").filter(|_| api == NetworkApi::UploadFile),
                )
            }
        };
        entries.push(Entry::Kv("url".into(), url.clone()));
        if let Some(m) = method {
            entries.push(Entry::Kv("method".into(), Val::lit(m)));
        }
        let config = Val::Obj(entries);
        let method = or(
            get_simple(&config, "method").unwrap_or(Val::Missing),
            Val::lit("GET"),
        );
        let base = get_simple(&config, "baseURL").unwrap_or(Val::Missing);
        Request {
            api,
            url: join(base, url, at),
            method,
            config,
        }
    }
}

/// The project path of a file of the world.
fn path_of<'w>(w: &'w World<'_>, fi: usize) -> &'w str {
    &w.cx.project.file(w.files[fi].js.file).path
}

/// `base` + `url`, as the clients join them: an absolute URL stands alone, one slash between.
/// `at` (the call) labels a part that is no string.
fn join(base: Val, url: Val, at: Span) -> Val {
    let absolute = |v: &Val| match v {
        Val::Str(ps) => matches!(ps.first(), Some(Part::Lit(l))
            if l.starts_with("http://") || l.starts_with("https://") || l.starts_with("//")),
        _ => false,
    };
    if absolute(&url) || base == Val::Missing {
        return url;
    }
    let mut parts = to_parts(&base, "baseURL", at).into_owned();
    let mut tail = to_parts(&url, "url", at).into_owned();
    if let (Some(Part::Lit(a)), Some(Part::Lit(b))) = (parts.last_mut(), tail.first_mut())
        && a.ends_with('/')
        && b.starts_with('/')
    {
        a.pop();
    }
    parts.append(&mut tail);
    Val::Str(merge(parts))
}

/// The `key: value` members of an object literal, evaluated.
fn literal_keys(ev: &Ev<'_, '_>, fi: usize, e: Option<&Expr>) -> Vec<Entry> {
    let Some(Expr::Object(o)) = e.map(unwrap_expr) else {
        return Vec::new();
    };
    o.props
        .iter()
        .filter_map(|p| match p {
            PropOrSpread::Prop(p) => match &**p {
                Prop::KeyValue(kv) => Some(Entry::Kv(
                    crate::js::syntax::prop_name(&kv.key)?,
                    ev.expr(fi, &kv.value, None, 0),
                )),
                _ => None,
            },
            PropOrSpread::Spread(_) => None,
        })
        .collect()
}

/// The value of property `name` of an object literal.
fn prop<'a>(e: &'a Expr, name: &str) -> Option<&'a Expr> {
    let Expr::Object(o) = unwrap_expr(e) else {
        return None;
    };
    o.props.iter().rev().find_map(|p| match p {
        PropOrSpread::Prop(p) => match &**p {
            Prop::KeyValue(kv) if prop_is(&kv.key, name) => Some(&*kv.value),
            _ => None,
        },
        PropOrSpread::Spread(_) => None,
    })
}

/// Whether `e` makes a client: `axios.create(config)`, `new Fly()`, `new Request(config)` with
/// the callee reached through an import of the package. The package, the config expression and
/// the package's folder.
fn made_client<'a>(
    w: &World<'a>,
    fi: usize,
    e: &'a Expr,
) -> Option<(Package, Option<&'a Expr>, Option<String>)> {
    let (callee, args, is_new) = match unwrap_expr(e) {
        Expr::Call(c) => match &c.callee {
            Callee::Expr(callee) => (&**callee, &c.args[..], false),
            _ => return None,
        },
        Expr::New(n) => (&*n.callee, n.args.as_deref().unwrap_or(&[]), true),
        _ => return None,
    };
    let (binding, create) = match unwrap_expr(callee) {
        Expr::Ident(i) if is_new => (i, false),
        other if !is_new => {
            let (obj, name) = as_member(other)?;
            if name != *"create" {
                return None;
            }
            let Expr::Ident(i) = unwrap_expr(obj) else {
                return None;
            };
            (i, true)
        }
        _ => return None,
    };
    let f = &w.files[fi];
    let (spec, _) = f.imports.get(&(binding.sym.clone(), binding.ctxt))?;
    let resolved = w.resolve_spec(fi, spec).map(|t| path_of(w, t));
    let (package, root) = package_of(spec, resolved)?;
    let fits = match package {
        Package::Axios { .. } => create,
        Package::Fly | Package::Luch => !create,
    };
    fits.then(|| (package, args.first().map(|a| &*a.expr), root))
}

/// The function an axios `adapter` expression names: a function of the project, or the default
/// export of an adapter package (`require('axios-miniprogram-adapter')`).
fn adapter_fn(w: &World<'_>, fi: usize, e: &Expr) -> Option<Gfn> {
    if let Some(Target::Fn(g)) = w.resolve_callee(fi, e, None) {
        return Some(g);
    }
    let Expr::Call(c) = unwrap_expr(e) else {
        return None;
    };
    let Some(Expr::Lit(Lit::Str(s))) = c.args.first().map(|a| unwrap_expr(&a.expr)) else {
        return None;
    };
    let t = w.resolve_spec(fi, &s.value.to_string_lossy())?;
    w.lookup(t, vec![Atom::from("default")])
}
