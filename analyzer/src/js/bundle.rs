//! The module tables of bundled code, as syntax: a webpack bootstrap applied to its module
//! factories (or, in webpack 5, declaring them as `__webpack_modules__`), a webpack chunk
//! pushed onto a chunk registry (`webpackJsonp`, `webpackChunk…`),
//! the DevTools npm build's `__DEFINE__(id, factory, map)`, and a UMD header around its
//! factory. Each factory is a module of its own (see `crate::summary`); this file only says
//! where the factories are and under which ids.

use swc_atoms::Atom;
use swc_common::{Span, SyntaxContext};
use swc_ecma_ast::*;

use super::syntax::{prop_name, unwrap_expr};

/// Whether a script's text names a bundle runtime (`__webpack_require__`, `webpackJsonp`,
/// `webpackChunk…`, or, in DevTools' npm output under `miniprogram_npm/`, `__DEFINE__`): only
/// then are calls looked at as bundle shapes.
pub fn names_bundle_runtime(path: &str, text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memmem::find(b, b"webpack").is_some()
        || (path.contains("miniprogram_npm/") && memchr::memmem::find(b, b"__DEFINE__").is_some())
}

/// A module factory: a function expression or an arrow.
#[derive(Clone, Copy)]
pub enum Factory<'a> {
    Fn(&'a Function),
    Arrow(&'a ArrowExpr),
}

impl<'a> Factory<'a> {
    fn of(e: &'a Expr) -> Option<Factory<'a>> {
        match unwrap_expr(e) {
            Expr::Fn(f) => Some(Factory::Fn(&f.function)),
            Expr::Arrow(a) => Some(Factory::Arrow(a)),
            _ => None,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Factory::Fn(f) => f.span,
            Factory::Arrow(a) => a.span,
        }
    }

    /// The scope of the factory's parameters and of what its body declares.
    pub fn ctxt(&self) -> SyntaxContext {
        match self {
            Factory::Fn(f) => f.ctxt,
            Factory::Arrow(a) => a.ctxt,
        }
    }

    /// The parameter at `i`, when it is a plain name.
    pub fn param(&self, i: usize) -> Option<&'a Ident> {
        let pat = match self {
            Factory::Fn(f) => &f.params.get(i)?.pat,
            Factory::Arrow(a) => a.params.get(i)?,
        };
        match pat {
            Pat::Ident(b) => Some(&b.id),
            _ => None,
        }
    }

    /// The statements of the body (none for an arrow with an expression body).
    pub fn stmts(&self) -> &'a [Stmt] {
        match self {
            Factory::Fn(f) => f.body.as_ref().map_or(&[][..], |b| &b.stmts[..]),
            Factory::Arrow(a) => match &*a.body {
                ArrowFunctionBody::FunctionBody(b) => &b.stmts[..],
                ArrowFunctionBody::Expr(_) => &[],
            },
        }
    }

    /// The body, as the node a walk starts from.
    pub fn body(&self) -> Option<&'a FunctionBody> {
        match self {
            Factory::Fn(f) => f.body.as_ref(),
            Factory::Arrow(a) => match &*a.body {
                ArrowFunctionBody::FunctionBody(b) => Some(b),
                ArrowFunctionBody::Expr(_) => None,
            },
        }
    }
}

/// Module factories under their ids.
pub type Table<'a> = Vec<(String, Factory<'a>)>;

/// A DevTools `__DEFINE__`: the module's id, its factory, and the map from the specifiers its
/// `require` is called with to the ids of the package's other modules.
pub struct Define<'a> {
    pub id: String,
    pub factory: Factory<'a>,
    pub map: Vec<(String, String)>,
}

/// Module factories under their ids: `[f0, , f2]` (ids are positions, holes count) or
/// `{ "./src/a.js": f, 16: g }`. `None` unless every entry is a factory (or a hole).
fn table(e: &Expr) -> Option<Table<'_>> {
    let mut out = Vec::new();
    match unwrap_expr(e) {
        Expr::Array(a) => {
            for (i, el) in a.elems.iter().enumerate() {
                let Some(el) = el else { continue };
                if el.spread.is_some() {
                    return None;
                }
                out.push((i.to_string(), Factory::of(&el.expr)?));
            }
        }
        Expr::Object(o) => {
            for p in &o.props {
                let PropOrSpread::Prop(p) = p else {
                    return None;
                };
                match &**p {
                    Prop::KeyValue(kv) => out.push((prop_name(&kv.key)?, Factory::of(&kv.value)?)),
                    Prop::Method(m) => out.push((prop_name(&m.key)?, Factory::Fn(&m.function))),
                    _ => return None,
                }
            }
        }
        _ => return None,
    }
    Some(out)
}

/// The id a module is asked for by: `2`, `"./src/http.js"`, `__webpack_require__.s = 0`.
pub fn module_id(e: &Expr) -> Option<String> {
    match unwrap_expr(e) {
        Expr::Lit(Lit::Num(n)) => Some(n.value.to_string()),
        Expr::Lit(Lit::Str(s)) => Some(s.value.to_string_lossy().into_owned()),
        Expr::Assign(a) if a.op == AssignOp::Assign => module_id(&a.right),
        _ => None,
    }
}

/// A webpack bootstrap applied to its module table, `(function(modules){ … })([f0, f1])`:
/// the factories, and the entry module when the bootstrap ends in
/// `return __webpack_require__(__webpack_require__.s = 0)`.
pub fn bootstrap(c: &CallExpr) -> Option<(Option<String>, Table<'_>)> {
    let Callee::Expr(callee) = &c.callee else {
        return None;
    };
    let [arg] = &c.args[..] else { return None };
    let boot = Factory::of(callee)?;
    boot.param(0)?;
    let factories = table(&arg.expr)?;
    if factories.is_empty() {
        return None;
    }
    let entry = match boot.stmts().last() {
        Some(Stmt::Return(ReturnStmt { arg: Some(r), .. })) => match unwrap_expr(r) {
            Expr::Call(rc) => rc.args.first().and_then(|a| module_id(&a.expr)),
            _ => None,
        },
        _ => None,
    };
    Some((entry, factories))
}

/// Webpack 5's bootstrap, `var __webpack_modules__ = ({ "./src/a.js": (module, exports,
/// __webpack_require__) => { … } })` in the IIFE that also declares `__webpack_require__`: the
/// scope of both, and the factories.
pub fn modules_var(d: &VarDeclarator) -> Option<(SyntaxContext, Table<'_>)> {
    let Pat::Ident(b) = &d.name else { return None };
    if b.id.sym != *"__webpack_modules__" {
        return None;
    }
    let factories = table(d.init.as_deref()?)?;
    (!factories.is_empty()).then_some((b.id.ctxt, factories))
}

/// The name of a chunk registry written `X["webpackJsonp"]`, `X.webpackChunkapp`.
fn registry_name(m: &MemberExpr) -> Option<Atom> {
    let name: Atom = match &m.prop {
        MemberProp::Ident(p) => p.sym.clone(),
        MemberProp::Computed(c) => match unwrap_expr(&c.expr) {
            Expr::Lit(Lit::Str(s)) => Atom::from(&*s.value.to_string_lossy()),
            _ => return None,
        },
        MemberProp::PrivateName(_) => return None,
    };
    (name.starts_with("webpackJsonp") || name.starts_with("webpackChunk")).then_some(name)
}

/// A webpack chunk, `(wx["webpackJsonp"] = wx["webpackJsonp"] || []).push([["pages/a"], {…}])`
/// (also `self["webpackChunk…"]`, `global`, `window`): the registry's name and the chunk's
/// factories, which modules of every chunk of that registry require by id.
pub fn chunk(c: &CallExpr) -> Option<(Atom, Table<'_>)> {
    let Callee::Expr(callee) = &c.callee else {
        return None;
    };
    let Expr::Member(m) = unwrap_expr(callee) else {
        return None;
    };
    if !matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"push") {
        return None;
    }
    let name = match unwrap_expr(&m.obj) {
        Expr::Assign(a) => match &a.left {
            AssignTarget::Simple(SimpleAssignTarget::Member(t)) => registry_name(t)?,
            _ => return None,
        },
        Expr::Member(r) => registry_name(r)?,
        _ => return None,
    };
    let Expr::Array(arr) = unwrap_expr(&c.args.first()?.expr) else {
        return None;
    };
    let modules = arr.elems.get(1)?.as_ref()?;
    Some((name, table(&modules.expr)?))
}

/// `__DEFINE__(1742281304512, function(require, module, exports){ … }, function(modId) { var
/// map = {"./a.js": 1742281304513}; return __REQUIRE__(map[modId], modId); })`, DevTools' npm
/// build.
pub fn define(c: &CallExpr) -> Option<Define<'_>> {
    let Callee::Expr(callee) = &c.callee else {
        return None;
    };
    if !matches!(unwrap_expr(callee), Expr::Ident(i) if i.sym == *"__DEFINE__") {
        return None;
    }
    let id = module_id(&c.args.first()?.expr)?;
    let factory = Factory::of(&c.args.get(1)?.expr)?;
    let mut map = Vec::new();
    if let Some(req) = c.args.get(2).and_then(|a| Factory::of(&a.expr)) {
        for s in req.stmts() {
            let Stmt::Decl(Decl::Var(v)) = s else {
                continue;
            };
            for d in &v.decls {
                let Some(Expr::Object(o)) = d.init.as_deref().map(unwrap_expr) else {
                    continue;
                };
                for p in &o.props {
                    if let PropOrSpread::Prop(p) = p
                        && let Prop::KeyValue(kv) = &**p
                        && let (Some(k), Some(v)) = (prop_name(&kv.key), module_id(&kv.value))
                    {
                        map.push((k, v));
                    }
                }
            }
        }
    }
    Some(Define { id, factory, map })
}

/// A UMD header, `!function(e, t){ "object" == typeof exports && … ? module.exports = t() : … }
/// (this, function(){ … return api })`: the factory whose returned value is the module's
/// exports. `is_module` says whether an identifier is the global `module`.
pub fn umd<'a>(c: &'a CallExpr, is_module: &dyn Fn(&Ident) -> bool) -> Option<Factory<'a>> {
    let Callee::Expr(callee) = &c.callee else {
        return None;
    };
    let header = Factory::of(callee)?;
    let (k, factory) = c
        .args
        .iter()
        .enumerate()
        .find_map(|(k, a)| Factory::of(&a.expr).map(|f| (k, f)))?;
    let param = header.param(k)?;
    let mut found = false;
    for s in header.stmts() {
        exports_call_of(s, param, is_module, &mut found, 0);
    }
    found.then_some(factory)
}

/// Looks through a UMD header's statement for `module.exports = factory()`.
fn exports_call_of(
    s: &Stmt,
    param: &Ident,
    is_module: &dyn Fn(&Ident) -> bool,
    found: &mut bool,
    depth: u32,
) {
    if *found || depth > 8 {
        return;
    }
    match s {
        Stmt::Expr(e) => exports_call_in(&e.expr, param, is_module, found, depth + 1),
        Stmt::If(i) => {
            exports_call_in(&i.test, param, is_module, found, depth + 1);
            exports_call_of(&i.cons, param, is_module, found, depth + 1);
            if let Some(alt) = &i.alt {
                exports_call_of(alt, param, is_module, found, depth + 1);
            }
        }
        Stmt::Block(b) => {
            for s in &b.stmts {
                exports_call_of(s, param, is_module, found, depth + 1);
            }
        }
        _ => {}
    }
}

fn exports_call_in(
    e: &Expr,
    param: &Ident,
    is_module: &dyn Fn(&Ident) -> bool,
    found: &mut bool,
    depth: u32,
) {
    if *found || depth > 16 {
        return;
    }
    match unwrap_expr(e) {
        Expr::Assign(a) => {
            if let AssignTarget::Simple(SimpleAssignTarget::Member(t)) = &a.left
                && matches!(unwrap_expr(&t.obj), Expr::Ident(m) if is_module(m))
                && matches!(&t.prop, MemberProp::Ident(p) if p.sym == *"exports")
                && let Expr::Call(call) = unwrap_expr(&a.right)
                && let Callee::Expr(f) = &call.callee
                && matches!(unwrap_expr(f),
                    Expr::Ident(i) if i.sym == param.sym && i.ctxt == param.ctxt)
            {
                *found = true;
                return;
            }
            exports_call_in(&a.right, param, is_module, found, depth + 1);
        }
        Expr::Cond(c) => {
            exports_call_in(&c.test, param, is_module, found, depth + 1);
            exports_call_in(&c.cons, param, is_module, found, depth + 1);
            exports_call_in(&c.alt, param, is_module, found, depth + 1);
        }
        Expr::Bin(b) => {
            exports_call_in(&b.left, param, is_module, found, depth + 1);
            exports_call_in(&b.right, param, is_module, found, depth + 1);
        }
        Expr::Seq(s) => {
            for e in &s.exprs {
                exports_call_in(e, param, is_module, found, depth + 1);
            }
        }
        _ => {}
    }
}

/// Webpack's var injection, the whole body of a factory wrapped as
/// `(function(uni) { … }.call(this, __webpack_require__(1)["default"]))`: the inner function and
/// the values its parameters take (after `this`).
pub fn var_injection(stmts: &[Stmt]) -> Option<(&Function, &[ExprOrSpread])> {
    let mut rest = stmts.iter().filter(|s| !is_directive(s));
    let (Some(Stmt::Expr(e)), None) = (rest.next(), rest.next()) else {
        return None;
    };
    let Expr::Call(c) = unwrap_expr(&e.expr) else {
        return None;
    };
    let Callee::Expr(callee) = &c.callee else {
        return None;
    };
    let Expr::Member(m) = unwrap_expr(callee) else {
        return None;
    };
    if !matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"call") {
        return None;
    }
    let Expr::Fn(f) = unwrap_expr(&m.obj) else {
        return None;
    };
    if !matches!(
        c.args.first().map(|a| unwrap_expr(&a.expr)),
        Some(Expr::This(_))
    ) {
        return None;
    }
    Some((&f.function, &c.args[1..]))
}

/// `"use strict";`
fn is_directive(s: &Stmt) -> bool {
    matches!(s, Stmt::Expr(e) if matches!(&*e.expr, Expr::Lit(Lit::Str(_))))
}
