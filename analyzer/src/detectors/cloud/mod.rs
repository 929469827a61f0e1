//! Cloud development the app already uses: `wx.cloud.init` (and the env it names),
//! `wx.cloud.callFunction` (the function), the collections read through `wx.cloud.database()`,
//! the storage calls, and the function folders under `cloudfunctionRoot`. `uni.cloud` and
//! `Taro.cloud` are the same API, and so is a local holding it (`const cloud = wx.cloud`). What is found is kept apart from the moves: the proposed
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
        let per_file: Vec<Vec<CloudUse>> = scripts
            .par_iter()
            .map(|js| {
                let mut v = Uses {
                    js,
                    found: Vec::new(),
                    database: false,
                    collections: Vec::new(),
                    aliases: Vec::new(),
                    on_locals: Vec::new(),
                };
                js.program.visit_with(&mut v);
                v.finish();
                let package = cx.package_name(js.file);
                let mut uses: Vec<CloudUse> = v
                    .found
                    .into_iter()
                    .chain(
                        // `db.collection('news')` counts in a file that opens the database.
                        v.database
                            .then_some(v.collections)
                            .into_iter()
                            .flatten()
                            .map(|(span, name)| (CloudApi::Collection, span, Some(name))),
                    )
                    .map(|(api, span, target)| CloudUse {
                        id: String::new(),
                        loc: cx.loc(js.span(span)),
                        api,
                        target,
                        package: package.clone(),
                    })
                    .collect();
                uses.sort_by(|a, b| (&a.loc.path, a.loc.start).cmp(&(&b.loc.path, b.loc.start)));
                uses
            })
            .collect();
        for u in per_file {
            out.cloud_uses.extend(u);
        }
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
                });
            }
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

    fn note(&mut self, call: Call) {
        match call {
            Call::Use(api, span, target) => self.found.push((api, span, target)),
            Call::Database => self.database = true,
        }
    }

    /// Every use of the cloud API, the calls through its aliases included.
    fn finish(&mut self) {
        for (b, call) in std::mem::take(&mut self.on_locals) {
            if self.aliases.contains(&b) {
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
    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        d.visit_children_with(self);
        let Some(init) = &d.init else { return };
        match &d.name {
            Pat::Ident(b) if self.is_cloud(init) => {
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
                self.note(call);
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
