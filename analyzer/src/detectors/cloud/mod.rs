//! Cloud development the app already uses: `wx.cloud.init` (and the env it names),
//! `wx.cloud.callFunction` (the function), the collections read through `wx.cloud.database()`,
//! the storage calls, and the function folders under `cloudfunctionRoot`. `uni.cloud` and
//! `Taro.cloud` are the same API, and so is a local holding it (`const cloud = wx.cloud`).
//! The functions' own code is read too (`require('wx-server-sdk')`, the app
//! `require('@cloudbase/node-sdk').init()` returns, a helper module opening the database of the
//! app it is given; never their `node_modules`): each use names its function (`inFunction`),
//! and a function's `cloud.init` is not the app's env. What is found is kept apart from the moves: the proposed
//! functions and collections take other names (see `Findings::assign_ids`), and a project with
//! cloud use and no backend call left is said to be on cloud development already.

use rayon::prelude::*;
use swc_ecma_ast::*;
use swc_ecma_visit::{Visit, VisitWith};

use super::context::{Context, Detector, Stage};
use crate::findings::{CloudApi, CloudUse, Findings, Loc};
use crate::js::syntax::{as_member, prop_is, unwrap_expr};
use crate::js::{BindingId, JsFile};

pub(crate) struct CloudUseDetector;

impl Detector for CloudUseDetector {
    fn name(&self) -> &'static str {
        "cloud-use"
    }

    fn stage(&self) -> Stage {
        Stage::Modules
    }

    fn run(&self, cx: &Context<'_>, out: &mut Findings) {
        let scripts: Vec<_> = cx.scripts().collect();
        let per_file: Vec<(Vec<CloudUse>, Vec<Wrapper>)> = scripts
            .par_iter()
            .map(|js| {
                if !may_name_cloud(cx, js) {
                    return (Vec::new(), Vec::new());
                }
                let mut v = Uses::new(js, false);
                js.program.visit_with(&mut v);
                let by_param = std::mem::take(&mut v.by_param);
                // Wrappers are read before aliases add their calls at the end of `found`.
                let wrappers: Vec<Wrapper> = by_param
                    .into_iter()
                    .filter(|(i, _, _)| *i < v.found.len())
                    .map(|(_, f, param)| Wrapper {
                        file: js.file,
                        names: js
                            .module
                            .exports
                            .iter()
                            .filter(|e| e.local.as_ref() == Some(&f))
                            .map(|e| e.name.clone())
                            .chain(
                                js.module
                                    .object_members
                                    .iter()
                                    .filter(|(_, b)| b.as_ref() == Some(&f))
                                    .map(|(k, _)| k.clone()),
                            )
                            .collect(),
                        binding: f,
                        param,
                    })
                    .collect();
                v.finish();
                let package = cx.package_name(js.file);
                let mut uses: Vec<CloudUse> = v
                    .uses()
                    .map(|(api, span, target)| CloudUse {
                        id: String::new(),
                        loc: cx.loc(js.span(span)),
                        api,
                        target,
                        package: package.clone(),
                        in_function: None,
                    })
                    .collect();
                uses.sort_by(|a, b| (&a.loc.path, a.loc.start).cmp(&(&b.loc.path, b.loc.start)));
                (uses, wrappers)
            })
            .collect();
        let mut wrappers = Vec::new();
        for (u, w) in per_file {
            out.cloud_uses.extend(u);
            wrappers.extend(w);
        }
        if !wrappers.is_empty() {
            let mut sites = through_wrappers(cx, &scripts, &wrappers);
            sites.sort_by(|a, b| (&a.loc.path, a.loc.start).cmp(&(&b.loc.path, b.loc.start)));
            out.cloud_uses.extend(sites);
        }
        // What the functions themselves use (`cloud.database().collection('news')`).
        let mut in_functions: Vec<CloudUse> = cx
            .function_scripts()
            .collect::<Vec<_>>()
            .par_iter()
            .flat_map_iter(|js| {
                let mut v = Uses::new(js, true);
                js.program.visit_with(&mut v);
                v.finish();
                // `<cloudfunctionRoot>/<name>/…`
                let path = &cx.project.file(js.file).path;
                let function = cx.project.cloudfunction_root.as_deref().and_then(|root| {
                    let rest = path.strip_prefix(root.trim_end_matches('/'))?;
                    rest.strip_prefix('/')?
                        .split('/')
                        .next()
                        .map(str::to_string)
                });
                v.uses()
                    .map(|(api, span, target)| CloudUse {
                        id: String::new(),
                        loc: cx.loc(js.span(span)),
                        api,
                        target,
                        package: "-".into(),
                        in_function: function.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        in_functions.sort_by(|a, b| (&a.loc.path, a.loc.start).cmp(&(&b.loc.path, b.loc.start)));
        out.cloud_uses.extend(in_functions);
        // The function folders: `<cloudfunctionRoot>/<name>/index.js`.
        if let Some(root) = &cx.project.cloudfunction_root {
            let root = format!("{}/", root.trim_end_matches('/'));
            let mut folders: Vec<(&str, &str)> = cx
                .project
                .by_path
                .keys()
                .filter_map(|p| {
                    let rest = p.strip_prefix(&root)?;
                    let name = rest.strip_suffix("/index.js")?;
                    (!name.contains('/')).then_some((p.as_str(), name))
                })
                .collect();
            folders.sort();
            for (path, name) in folders {
                out.cloud_uses.push(CloudUse {
                    id: String::new(),
                    loc: Loc {
                        path: path.to_string(),
                        start: 0,
                        end: 0,
                        line: 1,
                        column: 1,
                        source: None,
                        span: None,
                    },
                    api: CloudApi::Function,
                    target: Some(name.to_string()),
                    package: "-".into(),
                    in_function: None,
                });
            }
        }
    }
}

/// Whether an app script may use the cloud API: every use reads a `cloud` (`wx.cloud`,
/// `wx['cloud']`, `const { cloud } = wx`), which the text holds as is, or written with escapes
/// (`wx['\x63loud']`). A script with neither is not walked: it can have no use, no wrapper.
fn may_name_cloud(cx: &Context<'_>, js: &JsFile) -> bool {
    cx.files
        .get(js.file.index())
        .and_then(|f| f.text.as_ref())
        .is_none_or(|t| {
            let b = t.text.as_bytes();
            memchr::memchr(b'\\', b).is_some() || memchr::memmem::find(b, b"cloud").is_some()
        })
}

/// A function that calls `wx.cloud.callFunction` with the name its parameter `param` gets
/// (`callCloud(name, data)`).
struct Wrapper {
    file: crate::span::FileId,
    binding: BindingId,
    /// The names other modules import it by.
    names: Vec<String>,
    param: usize,
}

/// The calls of the wrappers (in their own file, and in the files that import them by name)
/// that pass the function's name as a string: each a `callFunction` use of that function.
fn through_wrappers(
    cx: &Context<'_>,
    scripts: &[&crate::files::Script],
    wrappers: &[Wrapper],
) -> Vec<CloudUse> {
    scripts
        .par_iter()
        .flat_map_iter(|js| {
            // The locals of this file that are one of the wrappers, with its parameter.
            let mut targets: Vec<(BindingId, usize)> = Vec::new();
            for w in wrappers {
                if w.file == js.file {
                    targets.push((w.binding.clone(), w.param));
                    continue;
                }
                for imp in &js.module.imports {
                    if w.names.is_empty() || cx.resolve(js.file, &imp.specifier) != Some(w.file) {
                        continue;
                    }
                    for b in &imp.bindings {
                        if let crate::js::Imported::Named(n) = &b.imported
                            && w.names.contains(n)
                        {
                            targets.push((b.local.clone(), w.param));
                        }
                    }
                }
            }
            let mut found = Vec::new();
            if !targets.is_empty() {
                let mut v = CallsOf {
                    targets: &targets,
                    found: &mut found,
                };
                js.program.visit_with(&mut v);
            }
            let package = cx.package_name(js.file);
            found
                .into_iter()
                .map(|(span, name)| CloudUse {
                    id: String::new(),
                    loc: cx.loc(js.span(span)),
                    api: CloudApi::CallFunction,
                    target: Some(name),
                    package: package.clone(),
                    in_function: None,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Calls of `targets` whose argument at the target's index is a string.
struct CallsOf<'t> {
    targets: &'t [(BindingId, usize)],
    found: &'t mut Vec<(swc_common::Span, String)>,
}

impl Visit for CallsOf<'_> {
    fn visit_call_expr(&mut self, c: &CallExpr) {
        c.visit_children_with(self);
        let Callee::Expr(callee) = &c.callee else {
            return;
        };
        let Expr::Ident(i) = unwrap_expr(callee) else {
            return;
        };
        let Some((_, param)) = self
            .targets
            .iter()
            .find(|(b, _)| b.0 == i.sym && b.1 == i.ctxt)
        else {
            return;
        };
        if let Some(name) = c.args.get(*param).and_then(|a| string(&a.expr)) {
            self.found.push((c.span, name));
        }
    }
}

/// Globals whose `cloud` is the cloud development API.
const HOSTS: [&str; 4] = ["wx", "uni", "Taro", "qq"];

/// What one call on the cloud API is.
enum Call {
    Use(CloudApi, swc_common::Span, Option<String>),
    /// `wx.cloud.database()`: the file's `.collection('…')` calls are its collections.
    Database,
}

struct Uses<'j> {
    js: &'j JsFile,
    found: Vec<(CloudApi, swc_common::Span, Option<String>)>,
    /// Whether the file calls `wx.cloud.database()`.
    database: bool,
    /// `x.collection('<name>')` calls.
    collections: Vec<(swc_common::Span, String)>,
    /// Locals holding the cloud API (`const cloud = wx.cloud`, `const { cloud } = wx`).
    aliases: Vec<BindingId>,
    /// Calls on a local, counted at the end if the local is one of `aliases`.
    on_locals: Vec<(BindingId, Call)>,
    /// The named functions being visited, innermost last, with their parameters.
    fns: Vec<(BindingId, Vec<Option<BindingId>>)>,
    /// `callFunction({ name })` whose name is parameter `.2` of function `.1`: the index in
    /// `found` of the use, and the function, resolved at its call sites (see [`through_wrappers`]).
    by_param: Vec<(usize, BindingId, usize)>,
    /// A cloud function's script: the API is `require('wx-server-sdk')` (or the app
    /// `require('@cloudbase/node-sdk').init()` returns), and its `init` is not the app's env.
    server: bool,
    /// Locals holding `require('@cloudbase/node-sdk')`, whose `init()` returns the API.
    node_sdks: Vec<BindingId>,
}

/// The server SDKs a cloud function reaches cloud development through.
const SERVER_SDK: &str = "wx-server-sdk";
const NODE_SDKS: [&str; 2] = ["@cloudbase/node-sdk", "tcb-admin-node"];

impl<'j> Uses<'j> {
    fn new(js: &'j JsFile, server: bool) -> Self {
        let mut aliases = Vec::new();
        let mut node_sdks = Vec::new();
        if server {
            for imp in &js.module.imports {
                let whole = imp.bindings.iter().filter(|b| {
                    matches!(
                        b.imported,
                        crate::js::Imported::Whole | crate::js::Imported::Default
                    )
                });
                if imp.specifier == SERVER_SDK {
                    aliases.extend(whole.map(|b| b.local.clone()));
                } else if NODE_SDKS.contains(&imp.specifier.as_str()) {
                    node_sdks.extend(whole.map(|b| b.local.clone()));
                }
            }
        }
        Uses {
            js,
            found: Vec::new(),
            database: false,
            collections: Vec::new(),
            aliases,
            on_locals: Vec::new(),
            fns: Vec::new(),
            by_param: Vec::new(),
            server,
            node_sdks,
        }
    }

    /// Every use found, `db.collection('news')` counted in a file that opens the database.
    fn uses(self) -> impl Iterator<Item = (CloudApi, swc_common::Span, Option<String>)> {
        let collections = self.database.then_some(self.collections);
        self.found.into_iter().chain(
            collections
                .into_iter()
                .flatten()
                .map(|(span, name)| (CloudApi::Collection, span, Some(name))),
        )
    }
}

impl Uses<'_> {
    fn is_host(&self, e: &Expr) -> bool {
        matches!(unwrap_expr(e), Expr::Ident(i)
            if HOSTS.iter().any(|h| self.js.is_global_named(i, h)))
    }

    /// `wx.cloud`, `wx['cloud']`, `uni.cloud`, …
    fn is_cloud(&self, e: &Expr) -> bool {
        as_member(e).is_some_and(|(obj, prop)| prop == "cloud" && self.is_host(obj))
    }

    /// `tcb.init({…})` on a local holding `require('@cloudbase/node-sdk')`.
    fn is_node_sdk_app(&self, e: &Expr) -> bool {
        let Expr::Call(c) = unwrap_expr(e) else {
            return false;
        };
        let Callee::Expr(callee) = &c.callee else {
            return false;
        };
        as_member(callee).is_some_and(|(obj, prop)| {
            prop == "init"
                && matches!(unwrap_expr(obj), Expr::Ident(i)
                    if self.node_sdks.iter().any(|b| b.0 == i.sym && b.1 == i.ctxt))
        })
    }

    fn note(&mut self, call: Call) {
        match call {
            // A function's `cloud.init` says nothing of the app's env.
            Call::Use(CloudApi::Init, ..) if self.server => {}
            Call::Use(api, span, target) => self.found.push((api, span, target)),
            Call::Database => self.database = true,
        }
    }

    /// For a `callFunction` whose options name the function by a local: when that local is a
    /// parameter of the named function the call is in (`function callCloud(name, data)`), the
    /// use is resolved at the wrapper's call sites.
    fn note_param(&mut self, args: &[ExprOrSpread]) {
        if self.server {
            return;
        }
        let Some(local) = option_local(args, "name") else {
            return;
        };
        let Some((f, params)) = self.fns.last() else {
            return;
        };
        if let Some(i) = params.iter().position(|p| p.as_ref() == Some(&local)) {
            self.by_param.push((self.found.len() - 1, f.clone(), i));
        }
    }

    fn with_fn(
        &mut self,
        name: BindingId,
        params: Vec<Option<BindingId>>,
        visit: impl FnOnce(&mut Self),
    ) {
        self.fns.push((name, params));
        visit(self);
        self.fns.pop();
    }

    /// Every use of the cloud API, the calls through its aliases included.
    fn finish(&mut self) {
        for (b, call) in std::mem::take(&mut self.on_locals) {
            // A function's helper module opens the database on the app it is passed.
            if self.aliases.contains(&b) || (self.server && matches!(call, Call::Database)) {
                self.note(call);
            }
        }
    }
}

/// The cloud API's method `name` called with `args` at `span`.
fn classify(name: &str, span: swc_common::Span, args: &[ExprOrSpread]) -> Option<Call> {
    Some(match name {
        "init" => Call::Use(CloudApi::Init, span, option(args, "env")),
        "callFunction" => Call::Use(CloudApi::CallFunction, span, option(args, "name")),
        "database" => Call::Database,
        "uploadFile" | "downloadFile" | "getTempFileURL" | "deleteFile" => {
            Call::Use(CloudApi::Storage, span, None)
        }
        _ => return None,
    })
}

/// The local a property of the first (options object) argument names (`{ name }`,
/// `{ name: fnName }`).
fn option_local(args: &[ExprOrSpread], key: &str) -> Option<BindingId> {
    let Expr::Object(o) = unwrap_expr(&args.first()?.expr) else {
        return None;
    };
    o.props.iter().find_map(|p| match p {
        PropOrSpread::Prop(p) => match &**p {
            Prop::Shorthand(i) if i.sym == *key => Some((i.sym.clone(), i.ctxt)),
            Prop::KeyValue(kv) if prop_is(&kv.key, key) => match unwrap_expr(&kv.value) {
                Expr::Ident(i) => Some((i.sym.clone(), i.ctxt)),
                _ => None,
            },
            _ => None,
        },
        PropOrSpread::Spread(_) => None,
    })
}

/// The locals a parameter list binds, by position (`name`, `data = {}`); `None` for a
/// destructured one.
fn param_locals<'p>(pats: impl Iterator<Item = &'p Pat>) -> Vec<Option<BindingId>> {
    pats.map(|p| match p {
        Pat::Ident(b) => Some((b.id.sym.clone(), b.id.ctxt)),
        Pat::Assign(a) => match &*a.left {
            Pat::Ident(b) => Some((b.id.sym.clone(), b.id.ctxt)),
            _ => None,
        },
        _ => None,
    })
    .collect()
}

/// The string a property of the first (options object) argument holds.
fn option(args: &[ExprOrSpread], key: &str) -> Option<String> {
    let Expr::Object(o) = unwrap_expr(&args.first()?.expr) else {
        return None;
    };
    o.props.iter().find_map(|p| match p {
        PropOrSpread::Prop(p) => match &**p {
            Prop::KeyValue(kv) if prop_is(&kv.key, key) => string(&kv.value),
            _ => None,
        },
        PropOrSpread::Spread(_) => None,
    })
}

fn string(e: &Expr) -> Option<String> {
    match unwrap_expr(e) {
        Expr::Lit(Lit::Str(s)) => Some(s.value.to_string_lossy().into_owned()),
        Expr::Tpl(t) if t.exprs.is_empty() => t.quasis.first().map(crate::js::syntax::quasi_text),
        _ => None,
    }
}

impl Visit for Uses<'_> {
    fn visit_fn_decl(&mut self, f: &FnDecl) {
        let params = param_locals(f.function.params.iter().map(|p| &p.pat));
        self.with_fn((f.ident.sym.clone(), f.ident.ctxt), params, |v| {
            f.visit_children_with(v)
        });
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        let named_fn = match (&d.name, d.init.as_deref().map(unwrap_expr)) {
            (Pat::Ident(b), Some(Expr::Arrow(a))) => {
                Some(((b.id.sym.clone(), b.id.ctxt), param_locals(a.params.iter())))
            }
            (Pat::Ident(b), Some(Expr::Fn(f))) => Some((
                (b.id.sym.clone(), b.id.ctxt),
                param_locals(f.function.params.iter().map(|p| &p.pat)),
            )),
            _ => None,
        };
        match named_fn {
            Some((name, params)) => self.with_fn(name, params, |v| d.visit_children_with(v)),
            None => d.visit_children_with(self),
        }
        let Some(init) = &d.init else { return };
        match &d.name {
            Pat::Ident(b) if self.is_cloud(init) || self.is_node_sdk_app(init) => {
                self.aliases.push((b.id.sym.clone(), b.id.ctxt));
            }
            Pat::Object(o) if self.is_host(init) => {
                for p in &o.props {
                    match p {
                        ObjectPatProp::Assign(a) if a.key.sym == "cloud" => {
                            self.aliases.push((a.key.sym.clone(), a.key.ctxt));
                        }
                        ObjectPatProp::KeyValue(kv) if prop_is(&kv.key, "cloud") => {
                            if let Pat::Ident(b) = &*kv.value {
                                self.aliases.push((b.id.sym.clone(), b.id.ctxt));
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn visit_call_expr(&mut self, c: &CallExpr) {
        c.visit_children_with(self);
        let Callee::Expr(callee) = &c.callee else {
            return;
        };
        let Some((obj, name)) = as_member(callee) else {
            return;
        };
        if self.is_cloud(obj) {
            if let Some(call) = classify(&name, c.span, &c.args) {
                let by_name = matches!(call, Call::Use(CloudApi::CallFunction, _, None));
                self.note(call);
                if by_name {
                    self.note_param(&c.args);
                }
            }
        } else if let Expr::Ident(i) = unwrap_expr(obj)
            && !self.js.is_global(i)
            && let Some(call) = classify(&name, c.span, &c.args)
        {
            self.on_locals.push(((i.sym.clone(), i.ctxt), call));
        } else if &*name == "collection"
            && let Some(n) = c.args.first().and_then(|a| string(&a.expr))
        {
            self.collections.push((c.span, n));
        }
    }
}
