//! Where and how a consumer file uses imported data: one walk of the file that keeps track of
//! the enclosing `Page`/`Component` data key, lifecycle method, handler or function, and
//! records every read of the imported bindings (and every `this.data.key` read, so data placed
//! into page data can be followed to where the page reads it again).

use std::collections::HashMap;

use swc_ecma_ast::*;
use swc_ecma_visit::{Visit, VisitWith};

use crate::findings::DataUsage;
use crate::js::{BindingId, JsFile};
use crate::literal::{LIFECYCLE, prop_name, unwrap};
use crate::span::Span;

/// One use of a tracked binding (`target` is the caller's index for it).
#[derive(Debug, Clone)]
pub(super) struct Use {
    pub target: usize,
    pub usage: DataUsage,
    pub span: Span,
    /// The import (specifier span) the use goes through.
    pub import: Span,
    /// The binding used (`None` for a binding-less `require('x')` call).
    pub binding: Option<BindingId>,
}

/// One `this.data.key` read (or `const { key } = this.data`).
#[derive(Debug, Clone)]
pub(super) struct ThisDataRead {
    pub key: String,
    pub usage: DataUsage,
    pub span: Span,
}

#[derive(Debug, Default)]
pub(super) struct Uses {
    pub uses: Vec<Use>,
    pub this_data: Vec<ThisDataRead>,
    /// Calls of named functions and `this.method(…)`: (callee, where the call is).
    pub calls: Vec<(String, DataUsage)>,
}

impl Uses {
    /// The lifecycle methods and handlers from which a use inside `usage` is reached, following
    /// calls of named functions and `this.method(…)` within the file (`findNearestCity` ←
    /// `locate` ← `onLoad` gives `["locate", "onLoad"]`). Empty for uses already in one.
    pub(super) fn entry_points(&self, usage: &DataUsage) -> Vec<String> {
        let start = match usage {
            DataUsage::Function { name } | DataUsage::Handler { name } => name.clone(),
            _ => return Vec::new(),
        };
        let mut seen = vec![start.clone()];
        let mut queue = vec![start];
        let mut out = Vec::new();
        while let Some(f) = queue.pop() {
            for (callee, caller) in &self.calls {
                if *callee != f {
                    continue;
                }
                let next = match caller {
                    DataUsage::Lifecycle { name } => {
                        out.push(name.clone());
                        None
                    }
                    DataUsage::Handler { name } => {
                        out.push(name.clone());
                        Some(name)
                    }
                    DataUsage::Function { name } => Some(name),
                    DataUsage::TopLevel => {
                        out.push("(top level)".into());
                        None
                    }
                    _ => None,
                };
                if let Some(n) = next
                    && !seen.contains(n)
                {
                    seen.push(n.clone());
                    queue.push(n.clone());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

enum Frame {
    PageData(String),
    Method { name: String, lifecycle: bool },
    Function(String),
}

/// Imported local bindings → (import specifier span, targets).
pub(super) type Bindings = HashMap<BindingId, (Span, Vec<usize>)>;

/// Whole-module bindings of a barrel (`import * as t from './barrel'`, `const t =
/// require('./barrel')`) → (import specifier span, the barrel's data by exported name): `t.x`
/// reads the data exported as `x`, `const { x } = t` too, and `t` alone reads all of it.
pub(super) type Namespaces = HashMap<BindingId, (Span, HashMap<String, Vec<usize>>)>;

/// Every datum a barrel exports, once each, in order.
pub(super) fn all_data(names: &HashMap<String, Vec<usize>>) -> Vec<usize> {
    let mut all: Vec<usize> = names.values().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// Walks `js` once. `bindings` maps imported local bindings to targets; `namespaces` maps
/// whole-barrel bindings; `requires` maps the specifier span of a binding-less `require('x')`
/// to targets (the call itself is the use).
pub(super) fn find(
    js: &JsFile,
    bindings: &Bindings,
    namespaces: &Namespaces,
    requires: &HashMap<Span, Vec<usize>>,
) -> Uses {
    let mut v = Finder {
        js,
        bindings,
        namespaces,
        requires,
        frames: Vec::new(),
        out: Uses::default(),
    };
    js.program.visit_with(&mut v);
    v.out
}

struct Finder<'a> {
    js: &'a JsFile,
    bindings: &'a Bindings,
    namespaces: &'a Namespaces,
    requires: &'a HashMap<Span, Vec<usize>>,
    frames: Vec<Frame>,
    out: Uses,
}

impl Finder<'_> {
    fn usage(&self) -> DataUsage {
        match self.frames.last() {
            None => DataUsage::TopLevel,
            Some(Frame::PageData(k)) => DataUsage::InPageData { key: k.clone() },
            Some(Frame::Method { name, lifecycle }) => {
                if *lifecycle {
                    DataUsage::Lifecycle { name: name.clone() }
                } else {
                    DataUsage::Handler { name: name.clone() }
                }
            }
            Some(Frame::Function(n)) => DataUsage::Function { name: n.clone() },
        }
    }

    fn record(&mut self, id: &Ident, usage: Option<DataUsage>) -> bool {
        let key = (id.sym.clone(), id.ctxt);
        let span = self.js.span(id.span);
        if let Some((import, targets)) = self.bindings.get(&key) {
            let import = *import;
            self.push_uses(&key, import, targets, span, usage);
            return true;
        }
        // A whole barrel used as a value: all of its data.
        let Some((import, names)) = self.namespaces.get(&key) else {
            return false;
        };
        let all = all_data(names);
        let import = *import;
        self.push_uses(&key, import, &all, span, usage);
        true
    }

    /// `ns.name` or `ns['name']` of a whole-barrel binding: the data exported as `name`.
    fn record_member(&mut self, m: &MemberExpr) -> bool {
        let Expr::Ident(id) = unwrap(&m.obj) else {
            return false;
        };
        let key = (id.sym.clone(), id.ctxt);
        let Some((import, names)) = self.namespaces.get(&key) else {
            return false;
        };
        let name = match &m.prop {
            MemberProp::Ident(p) => Some(p.sym.to_string()),
            MemberProp::Computed(c) => match unwrap(&c.expr) {
                Expr::Lit(Lit::Str(s)) => Some(s.value.to_string_lossy().into_owned()),
                _ => None,
            },
            MemberProp::PrivateName(_) => None,
        };
        // A computed name the walk cannot read: it may be any of the data.
        let targets: Vec<usize> = match name {
            Some(n) => names.get(&n).cloned().unwrap_or_default(),
            None => all_data(names),
        };
        let span = self.js.span(m.span);
        let import = *import;
        self.push_uses(&key, import, &targets, span, None);
        true
    }

    fn push_uses(
        &mut self,
        key: &BindingId,
        import: Span,
        targets: &[usize],
        span: Span,
        usage: Option<DataUsage>,
    ) {
        let usage = usage.unwrap_or_else(|| self.usage());
        for &t in targets {
            self.out.uses.push(Use {
                target: t,
                usage: usage.clone(),
                span,
                import,
                binding: Some(key.clone()),
            });
        }
    }

    fn with<F: FnOnce(&mut Self)>(&mut self, frame: Frame, f: F) {
        self.frames.push(frame);
        f(self);
        self.frames.pop();
    }

    /// The options object of `Page`/`Component`/`App`/`Behavior`.
    fn options(&mut self, obj: &ObjectLit, lifecycle_only: bool) {
        for p in &obj.props {
            let PropOrSpread::Prop(p) = p else {
                p.visit_with(self);
                continue;
            };
            match &**p {
                Prop::KeyValue(kv) => {
                    let key = prop_name(&kv.key).unwrap_or_default();
                    let value = unwrap(&kv.value);
                    match (key.as_str(), value) {
                        ("data", Expr::Object(data)) if !lifecycle_only => self.page_data(data),
                        ("methods" | "observers", Expr::Object(o)) => self.options(o, false),
                        ("lifetimes" | "pageLifetimes", Expr::Object(o)) => self.options(o, true),
                        (_, Expr::Fn(_) | Expr::Arrow(_)) => {
                            let lifecycle = lifecycle_only || LIFECYCLE.contains(&key.as_str());
                            self.with(
                                Frame::Method {
                                    name: key.clone(),
                                    lifecycle,
                                },
                                |s| value.visit_with(s),
                            );
                        }
                        _ => value.visit_with(self),
                    }
                }
                Prop::Method(m) => {
                    let key = prop_name(&m.key).unwrap_or_default();
                    let lifecycle = lifecycle_only || LIFECYCLE.contains(&key.as_str());
                    self.with(
                        Frame::Method {
                            name: key,
                            lifecycle,
                        },
                        |s| m.function.visit_with(s),
                    );
                }
                other => other.visit_with(self),
            }
        }
    }

    fn page_data(&mut self, data: &ObjectLit) {
        for p in &data.props {
            match p {
                PropOrSpread::Prop(p) => match &**p {
                    Prop::KeyValue(kv) => {
                        let key = prop_name(&kv.key).unwrap_or_default();
                        self.with(Frame::PageData(key), |s| kv.value.visit_with(s));
                    }
                    Prop::Shorthand(id) => {
                        self.record(
                            id,
                            Some(DataUsage::InPageData {
                                key: id.sym.to_string(),
                            }),
                        );
                    }
                    other => other.visit_with(self),
                },
                PropOrSpread::Spread(s) => s.visit_with(self),
            }
        }
    }

    fn this_data_member(&self, e: &Expr) -> bool {
        matches!(unwrap(e), Expr::Member(m)
            if matches!(unwrap(&m.obj), Expr::This(_))
            && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"data"))
    }
}

impl Visit for Finder<'_> {
    fn visit_call_expr(&mut self, call: &CallExpr) {
        // f(…) and this.m(…): remembered to find where helper functions are reached from.
        if let Callee::Expr(callee) = &call.callee {
            let name = match unwrap(callee) {
                Expr::Ident(i) => Some(i.sym.to_string()),
                Expr::Member(m) if matches!(unwrap(&m.obj), Expr::This(_)) => match &m.prop {
                    MemberProp::Ident(p) => Some(p.sym.to_string()),
                    _ => None,
                },
                _ => None,
            };
            if let Some(name) = name {
                let usage = self.usage();
                self.out.calls.push((name, usage));
            }
        }
        if let Callee::Expr(callee) = &call.callee
            && let Expr::Ident(id) = unwrap(callee)
        {
            let is_options = ["Page", "Component", "App", "Behavior"]
                .iter()
                .any(|k| self.js.is_global_named(id, k));
            if is_options && let Some(Expr::Object(o)) = call.args.first().map(|a| unwrap(&a.expr))
            {
                self.options(o, false);
                for a in call.args.iter().skip(1) {
                    a.visit_with(self);
                }
                return;
            }
            if self.js.is_global_named(id, "require")
                && let Some(Expr::Lit(Lit::Str(s))) = call.args.first().map(|a| unwrap(&a.expr))
                && let Some(targets) = self.requires.get(&self.js.span(s.span))
            {
                let usage = self.usage();
                let span = self.js.span(call.span);
                let import = self.js.span(s.span);
                for &t in targets {
                    self.out.uses.push(Use {
                        target: t,
                        usage: usage.clone(),
                        span,
                        import,
                        binding: None,
                    });
                }
            }
        }
        call.visit_children_with(self);
    }

    fn visit_expr(&mut self, e: &Expr) {
        if let Expr::Ident(id) = e {
            self.record(id, None);
            return;
        }
        e.visit_children_with(self);
    }

    fn visit_prop(&mut self, p: &Prop) {
        if let Prop::Shorthand(id) = p {
            self.record(id, None);
            return;
        }
        p.visit_children_with(self);
    }

    fn visit_member_expr(&mut self, m: &MemberExpr) {
        if self.this_data_member(&m.obj)
            && let MemberProp::Ident(key) = &m.prop
        {
            let usage = self.usage();
            self.out.this_data.push(ThisDataRead {
                key: key.sym.to_string(),
                usage,
                span: self.js.span(m.span),
            });
        }
        if self.record_member(m) {
            // the object is the barrel binding; a computed property may still read other data
            if let MemberProp::Computed(c) = &m.prop {
                c.visit_with(self);
            }
            return;
        }
        m.visit_children_with(self);
    }

    fn visit_fn_decl(&mut self, f: &FnDecl) {
        self.with(Frame::Function(f.ident.sym.to_string()), |s| {
            f.function.visit_with(s)
        });
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        // const { a, b } = this.data
        if let (Pat::Object(obj), Some(init)) = (&d.name, &d.init)
            && self.this_data_member(init)
        {
            let usage = self.usage();
            for p in &obj.props {
                let key = match p {
                    ObjectPatProp::Assign(a) => Some(a.key.id.sym.to_string()),
                    ObjectPatProp::KeyValue(kv) => prop_name(&kv.key),
                    ObjectPatProp::Rest(_) => None,
                };
                if let Some(key) = key {
                    self.out.this_data.push(ThisDataRead {
                        key,
                        usage: usage.clone(),
                        span: self.js.span(d.span),
                    });
                }
            }
        }
        // const { a, b: c } = barrel: the data exported as `a` and `b`.
        if let (Pat::Object(obj), Some(Expr::Ident(id))) = (&d.name, d.init.as_deref().map(unwrap))
            && let key = (id.sym.clone(), id.ctxt)
            && let Some((import, names)) = self.namespaces.get(&key)
        {
            let import = *import;
            let span = self.js.span(d.span);
            let mut targets: Vec<usize> = Vec::new();
            for p in &obj.props {
                let name = match p {
                    ObjectPatProp::Assign(a) => Some(a.key.id.sym.to_string()),
                    ObjectPatProp::KeyValue(kv) => prop_name(&kv.key),
                    ObjectPatProp::Rest(_) => None,
                };
                match name {
                    Some(n) => targets.extend(names.get(&n).into_iter().flatten()),
                    None => targets.extend(names.values().flatten()),
                }
            }
            targets.sort_unstable();
            targets.dedup();
            self.push_uses(&key, import, &targets, span, None);
            return;
        }
        match (&d.name, d.init.as_deref().map(unwrap)) {
            (Pat::Ident(b), Some(init @ (Expr::Fn(_) | Expr::Arrow(_)))) => {
                self.with(Frame::Function(b.id.sym.to_string()), |s| {
                    init.visit_with(s)
                });
            }
            _ => d.visit_children_with(self),
        }
    }

    fn visit_class_method(&mut self, m: &ClassMethod) {
        let name = prop_name(&m.key).unwrap_or_default();
        self.with(Frame::Function(name), |s| m.function.visit_with(s));
    }

    fn visit_assign_expr(&mut self, a: &AssignExpr) {
        // module.exports = x / exports.y = x: passing the data on.
        if let AssignTarget::Simple(SimpleAssignTarget::Member(t)) = &a.left
            && is_exports_target(self.js, t)
            && let Expr::Ident(id) = unwrap(&a.right)
            && self.record(id, Some(DataUsage::Reexport))
        {
            return;
        }
        a.visit_children_with(self);
    }

    fn visit_export_default_expr(&mut self, e: &ExportDefaultExpr) {
        if let Expr::Ident(id) = unwrap(&e.expr)
            && self.record(id, Some(DataUsage::Reexport))
        {
            return;
        }
        e.visit_children_with(self);
    }

    fn visit_export_named_specifier(&mut self, s: &ExportNamedSpecifier) {
        if let ModuleExportName::Ident(id) = &s.orig {
            self.record(id, Some(DataUsage::Reexport));
        }
    }
}

fn is_exports_target(js: &JsFile, t: &MemberExpr) -> bool {
    let global =
        |e: &Expr, name: &str| matches!(unwrap(e), Expr::Ident(i) if js.is_global_named(i, name));
    if global(&t.obj, "module") || global(&t.obj, "exports") {
        return true;
    }
    matches!(unwrap(&t.obj), Expr::Member(inner) if global(&inner.obj, "module"))
}
