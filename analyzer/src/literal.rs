//! Pure literals in JS/TS: what the static-data detector and the reference collection can read
//! without running code. A pure literal is a string, number, boolean, `null`, a template
//! literal without expressions, a unary minus on a number, or an array/object made only of
//! those. It is turned into the same spanned [`Json`] tree that JSON files give, so shapes are
//! measured one way.

use std::collections::HashMap;

use swc_common::Spanned;
use swc_ecma_ast::*;

use crate::js::{BindingId, JsFile};
use crate::json_doc::{Json, JsonKind, JsonMember};

pub(crate) use crate::js::syntax::{prop_name, quasi_text, unwrap_expr as unwrap};

/// The string value of an expression-free template literal.
pub(crate) fn tpl_str(t: &Tpl) -> Option<String> {
    if t.exprs.is_empty() {
        t.quasis.first().map(quasi_text)
    } else {
        None
    }
}

/// The string value of a string literal or an expression-free template literal.
pub(crate) fn str_value(e: &Expr) -> Option<String> {
    match unwrap(e) {
        Expr::Lit(Lit::Str(s)) => Some(s.value.to_string_lossy().into_owned()),
        Expr::Tpl(t) => tpl_str(t),
        _ => None,
    }
}

fn num_text(n: &Number) -> String {
    match &n.raw {
        Some(raw) => raw.to_string(),
        None => n.value.to_string(),
    }
}

/// Whether an expression is a pure literal, without building anything.
pub(crate) fn is_pure(e: &Expr) -> bool {
    match unwrap(e) {
        Expr::Lit(Lit::Str(_) | Lit::Num(_) | Lit::Bool(_) | Lit::Null(_)) => true,
        Expr::Tpl(t) => t.exprs.is_empty(),
        Expr::Unary(u) => {
            u.op == UnaryOp::Minus && matches!(unwrap(&u.arg), Expr::Lit(Lit::Num(_)))
        }
        Expr::Array(a) => a.elems.iter().all(|el| match el {
            Some(ExprOrSpread { spread: None, expr }) => is_pure(expr),
            Some(_) => false,
            None => true,
        }),
        Expr::Object(o) => o.props.iter().all(|p| match p {
            PropOrSpread::Prop(p) => match &**p {
                Prop::KeyValue(kv) => {
                    matches!(
                        kv.key,
                        PropName::Ident(_) | PropName::Str(_) | PropName::Num(_)
                    ) && is_pure(&kv.value)
                }
                _ => false,
            },
            PropOrSpread::Spread(_) => false,
        }),
        _ => false,
    }
}

/// Converts a pure literal into spanned JSON; `None` if any part is not pure.
pub(crate) fn to_json(js: &JsFile, e: &Expr) -> Option<Json> {
    let e = unwrap(e);
    let sp = js.span(e.span());
    let kind = match e {
        Expr::Lit(Lit::Str(_)) | Expr::Tpl(_) => JsonKind::String(str_value(e)?),
        Expr::Lit(Lit::Num(n)) => JsonKind::Number(num_text(n), n.value),
        Expr::Lit(Lit::Bool(b)) => JsonKind::Bool(b.value),
        Expr::Lit(Lit::Null(_)) => JsonKind::Null,
        Expr::Unary(u) if u.op == UnaryOp::Minus => match unwrap(&u.arg) {
            Expr::Lit(Lit::Num(n)) => JsonKind::Number(format!("-{}", num_text(n)), -n.value),
            _ => return None,
        },
        Expr::Array(a) => {
            let mut items = Vec::with_capacity(a.elems.len());
            for el in &a.elems {
                match el {
                    Some(ExprOrSpread { spread: None, expr }) => items.push(to_json(js, expr)?),
                    Some(_) => return None,
                    None => items.push(Json {
                        start: sp.start,
                        end: sp.start,
                        kind: JsonKind::Null,
                    }),
                }
            }
            JsonKind::Array(items)
        }
        Expr::Object(o) => {
            let mut members = Vec::with_capacity(o.props.len());
            for p in &o.props {
                let PropOrSpread::Prop(p) = p else {
                    return None;
                };
                let Prop::KeyValue(kv) = &**p else {
                    return None;
                };
                let key = prop_name(&kv.key)?;
                let ks = js.span(kv.key.span());
                members.push(JsonMember {
                    key,
                    key_start: ks.start,
                    key_end: ks.end,
                    value: to_json(js, &kv.value)?,
                });
            }
            JsonKind::Object(members)
        }
        _ => return None,
    };
    Some(Json {
        start: sp.start,
        end: sp.end,
        kind,
    })
}

/// The statements at the top level of a script or module (not its import/export declarations).
pub(crate) fn top_level_stmts(js: &JsFile) -> Vec<&Stmt> {
    match &js.program {
        Program::Module(m) => m
            .body
            .iter()
            .filter_map(|i| match i {
                ModuleItem::Stmt(s) => Some(s),
                _ => None,
            })
            .collect(),
        Program::Script(s) => s.body.iter().collect(),
    }
}

/// Top-level `const/let/var x = init` declarations of a file (including `export const`).
pub(crate) fn top_level_inits(js: &JsFile) -> HashMap<BindingId, &Expr> {
    fn add<'a>(v: &'a VarDecl, out: &mut HashMap<BindingId, &'a Expr>) {
        for d in &v.decls {
            if let (Pat::Ident(b), Some(init)) = (&d.name, &d.init) {
                out.insert((b.id.sym.clone(), b.id.ctxt), &**init);
            }
        }
    }
    let mut out = HashMap::new();
    match &js.program {
        Program::Module(m) => {
            for item in &m.body {
                match item {
                    ModuleItem::Stmt(Stmt::Decl(Decl::Var(v)))
                    | ModuleItem::ModuleDecl(ModuleDecl::ExportDecl(ExportDecl {
                        decl: Decl::Var(v),
                        ..
                    })) => add(v, &mut out),
                    _ => {}
                }
            }
        }
        Program::Script(s) => {
            for stmt in &s.body {
                if let Stmt::Decl(Decl::Var(v)) = stmt {
                    add(v, &mut out);
                }
            }
        }
    }
    out
}

/// Follows an identifier to its top-level initializer (one step), else returns the expression.
pub(crate) fn through_const<'a>(inits: &HashMap<BindingId, &'a Expr>, e: &'a Expr) -> &'a Expr {
    match unwrap(e) {
        Expr::Ident(i) => inits
            .get(&(i.sym.clone(), i.ctxt))
            .map_or(e, |init| unwrap(init)),
        other => other,
    }
}

/// Lifecycle methods of App, Page and Component (including `lifetimes`/`pageLifetimes`).
pub(crate) const LIFECYCLE: &[&str] = &[
    "onLaunch",
    "onLoad",
    "onShow",
    "onReady",
    "onHide",
    "onUnload",
    "onPullDownRefresh",
    "onReachBottom",
    "onShareAppMessage",
    "onShareTimeline",
    "onAddToFavorites",
    "onPageScroll",
    "onResize",
    "onTabItemTap",
    "onSaveExitState",
    "onError",
    "onPageNotFound",
    "onUnhandledRejection",
    "onThemeChange",
    "created",
    "attached",
    "ready",
    "moved",
    "detached",
    "error",
];

/// The options object of each `Page({…})`, `Component({…})`, `App({…})` and `Behavior({…})`
/// call made as a top-level statement on the global constructor.
pub(crate) fn options_objects(js: &JsFile) -> Vec<(&'static str, &ObjectLit)> {
    struct Finder<'a, 'b> {
        js: &'a JsFile,
        out: Vec<(&'static str, &'b ObjectLit)>,
    }
    impl<'a, 'b> Finder<'a, 'b> {
        fn check(&mut self, call: &'b CallExpr) {
            let Callee::Expr(callee) = &call.callee else {
                return;
            };
            let Expr::Ident(id) = unwrap(callee) else {
                return;
            };
            let kind = ["Page", "Component", "App", "Behavior"]
                .into_iter()
                .find(|k| self.js.is_global_named(id, k));
            if let (Some(kind), Some(arg)) = (kind, call.args.first())
                && let Expr::Object(o) = unwrap(&arg.expr)
            {
                self.out.push((kind, o));
            }
        }
    }
    // These calls are top-level statements (or `export default Page(…)`).
    let mut f = Finder {
        js,
        out: Vec::new(),
    };
    for s in top_level_stmts(js) {
        let e = match s {
            Stmt::Expr(e) => &*e.expr,
            _ => continue,
        };
        if let Expr::Call(c) = unwrap(e) {
            f.check(c);
        }
    }
    if let Program::Module(m) = &js.program {
        for item in &m.body {
            if let ModuleItem::ModuleDecl(ModuleDecl::ExportDefaultExpr(d)) = item
                && let Expr::Call(c) = unwrap(&d.expr)
            {
                f.check(c);
            }
        }
    }
    f.out
}

/// The largest pure array/object literals anywhere in a file (not nested in one another) of at
/// least `min` bytes.
pub(crate) fn maximal_literals(js: &JsFile, min: u64) -> Vec<Json> {
    use swc_ecma_visit::{Visit, VisitWith};
    struct Finder<'a> {
        js: &'a JsFile,
        min: u64,
        out: Vec<Json>,
    }
    impl Visit for Finder<'_> {
        fn visit_expr(&mut self, e: &Expr) {
            if let Expr::Array(_) | Expr::Object(_) = e {
                let sp = self.js.span(e.span());
                if sp.len() as u64 >= self.min
                    && is_pure(e)
                    && let Some(v) = to_json(self.js, e)
                {
                    self.out.push(v);
                    return;
                }
                if (sp.len() as u64) < self.min {
                    return;
                }
            }
            e.visit_children_with(self);
        }
    }
    let mut f = Finder {
        js,
        min: min.max(1),
        out: Vec::new(),
    };
    js.program.visit_with(&mut f);
    f.out
}

/// A member of an object literal by key.
pub(crate) fn obj_get<'a>(o: &'a ObjectLit, key: &str) -> Option<&'a Expr> {
    o.props.iter().find_map(|p| match p {
        PropOrSpread::Prop(p) => match &**p {
            Prop::KeyValue(kv) if prop_name(&kv.key).as_deref() == Some(key) => {
                Some(unwrap(&kv.value))
            }
            _ => None,
        },
        _ => None,
    })
}
