//! Imports and exports of one module: ES `import`/`export`, CommonJS `require` and
//! `module.exports`/`exports.x`, `require.async` and dynamic `import()`.

use swc_ecma_ast::*;
use swc_ecma_visit::{Visit, VisitWith};

use super::file::{
    BindingId, Export, Import, ImportBinding, ImportKind, Imported, JsFile, ModuleInfo,
};
use super::syntax::{prop_name, quasi_text, unwrap_expr};
use crate::diagnostic::Diagnostic;

pub(super) fn collect(js: &JsFile, path: &str) -> (ModuleInfo, Vec<Diagnostic>) {
    let mut c = Collector {
        js,
        path,
        info: ModuleInfo::default(),
        diags: Vec::new(),
        handled_requires: Vec::new(),
        inits: Vec::new(),
        require_aliases: Vec::new(),
    };
    match &js.program {
        Program::Module(m) => {
            c.info.is_esm = m
                .body
                .iter()
                .any(|i| matches!(i, ModuleItem::ModuleDecl(_)));
            for item in &m.body {
                match item {
                    ModuleItem::ModuleDecl(decl) => c.module_decl(decl),
                    ModuleItem::Stmt(s) => c.top_stmt(s),
                }
            }
        }
        Program::Script(s) => {
            for stmt in &s.body {
                c.top_stmt(stmt);
            }
        }
    }
    js.program.visit_with(&mut c);
    (c.info, c.diags)
}

struct Collector<'a> {
    js: &'a JsFile,
    path: &'a str,
    info: ModuleInfo,
    diags: Vec<Diagnostic>,
    /// Spans of `require` calls already recorded with their bindings.
    handled_requires: Vec<swc_common::Span>,
    /// Local names bound to `require` itself (`var r = require`).
    require_aliases: Vec<BindingId>,
    /// Variables initialised with a string of known beginning, and that beginning, for reading
    /// the static part of a computed `require` path.
    inits: Vec<(BindingId, String)>,
}

fn str_value(s: &Str) -> String {
    s.value.to_string_lossy().into_owned()
}

fn module_export_name(n: &ModuleExportName) -> String {
    match n {
        ModuleExportName::Ident(i) => i.sym.to_string(),
        ModuleExportName::Str(s) => str_value(s),
    }
}

impl Collector<'_> {
    /// The literal beginning of a string expression: a literal, a template's head, the left
    /// side of `+`, or a variable initialised with one of those.
    fn static_prefix(&self, e: &Expr, depth: u8) -> Option<String> {
        if depth > 4 {
            return None;
        }
        match unwrap_expr(e) {
            Expr::Lit(Lit::Str(s)) => Some(str_value(s)),
            Expr::Tpl(t) => t.quasis.first().map(quasi_text),
            Expr::Bin(b) if b.op == BinaryOp::Add => self.static_prefix(&b.left, depth + 1),
            Expr::Ident(i) => {
                let id = self.binding(i);
                self.inits
                    .iter()
                    .rev()
                    .find(|(b, _)| *b == id)
                    .map(|(_, p)| p.clone())
            }
            _ => None,
        }
    }

    fn binding(&self, i: &Ident) -> BindingId {
        (i.sym.clone(), i.ctxt)
    }

    /// `require('x')` with the global `require` and a literal specifier.
    fn require_call<'e>(&self, e: &'e Expr) -> Option<(&'e CallExpr, &'e Str)> {
        let Expr::Call(call) = unwrap_expr(e) else {
            return None;
        };
        let Callee::Expr(callee) = &call.callee else {
            return None;
        };
        let Expr::Ident(id) = &**callee else {
            return None;
        };
        if !self.js.is_global_named(id, "require") {
            return None;
        }
        match call.args.first().map(|a| unwrap_expr(&a.expr)) {
            Some(Expr::Lit(Lit::Str(s))) => Some((call, s)),
            _ => None,
        }
    }

    fn add_import(&mut self, kind: ImportKind, s: &Str, bindings: Vec<ImportBinding>) {
        self.info.imports.push(Import {
            kind,
            specifier: str_value(s),
            span: self.js.span(s.span),
            bindings,
        });
    }

    fn module_decl(&mut self, decl: &ModuleDecl) {
        match decl {
            ModuleDecl::Import(imp) => {
                if imp.type_only {
                    return;
                }
                let bindings = imp
                    .specifiers
                    .iter()
                    .filter_map(|s| match s {
                        ImportSpecifier::Named(n) if !n.is_type_only => Some(ImportBinding {
                            local: self.binding(&n.local),
                            imported: Imported::Named(
                                n.imported
                                    .as_ref()
                                    .map(module_export_name)
                                    .unwrap_or_else(|| n.local.sym.to_string()),
                            ),
                        }),
                        ImportSpecifier::Named(_) => None,
                        ImportSpecifier::Default(d) => Some(ImportBinding {
                            local: self.binding(&d.local),
                            imported: Imported::Default,
                        }),
                        ImportSpecifier::Namespace(n) => Some(ImportBinding {
                            local: self.binding(&n.local),
                            imported: Imported::Whole,
                        }),
                    })
                    .collect();
                self.add_import(ImportKind::Import, &imp.src, bindings);
            }
            ModuleDecl::ExportDecl(ed) => match &ed.decl {
                Decl::Var(v) => {
                    for d in &v.decls {
                        if let Pat::Ident(b) = &d.name {
                            self.info.exports.push(Export {
                                name: b.id.sym.to_string(),
                                local: Some(self.binding(&b.id)),
                                span: self
                                    .js
                                    .span(d.init.as_ref().map(|i| i.span()).unwrap_or(d.span)),
                                from: None,
                            });
                        }
                    }
                }
                Decl::Fn(f) => self.info.exports.push(Export {
                    name: f.ident.sym.to_string(),
                    local: Some(self.binding(&f.ident)),
                    span: self.js.span(f.function.span),
                    from: None,
                }),
                Decl::Class(c) => self.info.exports.push(Export {
                    name: c.ident.sym.to_string(),
                    local: Some(self.binding(&c.ident)),
                    span: self.js.span(c.class.span),
                    from: None,
                }),
                _ => {}
            },
            ModuleDecl::ExportNamed(named) => {
                if named.type_only {
                    return;
                }
                if let Some(src) = &named.src {
                    self.add_import(ImportKind::Reexport, src, Vec::new());
                }
                for s in &named.specifiers {
                    match s {
                        ExportSpecifier::Named(n) if !n.is_type_only => {
                            let orig = module_export_name(&n.orig);
                            let name = n
                                .exported
                                .as_ref()
                                .map(module_export_name)
                                .unwrap_or_else(|| orig.clone());
                            let local = match (&n.orig, &named.src) {
                                (ModuleExportName::Ident(i), None) => Some(self.binding(i)),
                                _ => None,
                            };
                            self.info.exports.push(Export {
                                name,
                                local,
                                span: self.js.span(n.span),
                                from: named.src.as_ref().map(|s| {
                                    // `export { a as b } from 'x'`: remember the original name.
                                    format!("{}#{}", str_value(s), orig)
                                }),
                            });
                        }
                        ExportSpecifier::Default(d) => self.info.exports.push(Export {
                            name: d.exported.sym.to_string(),
                            local: None,
                            span: self.js.span(d.exported.span),
                            from: named
                                .src
                                .as_ref()
                                .map(|s| format!("{}#default", str_value(s))),
                        }),
                        ExportSpecifier::Namespace(ns) => self.info.exports.push(Export {
                            name: module_export_name(&ns.name),
                            local: None,
                            span: self.js.span(ns.span),
                            from: named.src.as_ref().map(|s| format!("{}#*", str_value(s))),
                        }),
                        _ => {}
                    }
                }
            }
            ModuleDecl::ExportDefaultDecl(d) => {
                let (local, span) = match &d.decl {
                    DefaultDecl::Fn(f) => {
                        (f.ident.as_ref().map(|i| self.binding(i)), f.function.span)
                    }
                    DefaultDecl::Class(c) => {
                        (c.ident.as_ref().map(|i| self.binding(i)), c.class.span)
                    }
                    DefaultDecl::TsInterfaceDecl(_) => return,
                };
                self.info.exports.push(Export {
                    name: "default".into(),
                    local,
                    span: self.js.span(span),
                    from: None,
                });
            }
            ModuleDecl::ExportDefaultExpr(e) => {
                let local = match unwrap_expr(&e.expr) {
                    Expr::Ident(i) => Some(self.binding(i)),
                    _ => None,
                };
                self.info.exports.push(Export {
                    name: "default".into(),
                    local,
                    span: self.js.span(e.expr.span()),
                    from: None,
                });
            }
            ModuleDecl::ExportAll(all) => {
                if all.type_only {
                    return;
                }
                self.add_import(ImportKind::Reexport, &all.src, Vec::new());
                self.info.exports.push(Export {
                    name: "*".into(),
                    local: None,
                    span: self.js.span(all.span),
                    from: Some(format!("{}#*", str_value(&all.src))),
                });
            }
            _ => {}
        }
    }

    /// Top-level statements: `const x = require('y')` bindings and CommonJS exports.
    fn top_stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Decl(Decl::Var(v)) => {
                for d in &v.decls {
                    self.var_require(d);
                }
            }
            Stmt::Expr(e) => self.commonjs_export(&e.expr),
            _ => {}
        }
    }

    fn var_require(&mut self, d: &VarDeclarator) {
        let Some(init) = &d.init else { return };
        let init = unwrap_expr(init);
        // const x = require('y').member
        if let Expr::Member(m) = init
            && let Some((call, s)) = self.require_call(&m.obj)
            && let (MemberProp::Ident(prop), Pat::Ident(b)) = (&m.prop, &d.name)
        {
            self.handled_requires.push(call.span);
            let binding = ImportBinding {
                local: self.binding(&b.id),
                imported: Imported::Named(prop.sym.to_string()),
            };
            self.add_import(ImportKind::Require, s, vec![binding]);
            return;
        }
        let Some((call, s)) = self.require_call(init) else {
            return;
        };
        self.handled_requires.push(call.span);
        let bindings = match &d.name {
            Pat::Ident(b) => vec![ImportBinding {
                local: self.binding(&b.id),
                imported: Imported::Whole,
            }],
            Pat::Object(obj) => obj
                .props
                .iter()
                .filter_map(|p| match p {
                    ObjectPatProp::Assign(a) => Some(ImportBinding {
                        local: self.binding(&a.key.id),
                        imported: Imported::Named(a.key.id.sym.to_string()),
                    }),
                    ObjectPatProp::KeyValue(kv) => match (&*kv.value, prop_name(&kv.key)) {
                        (Pat::Ident(b), Some(name)) => Some(ImportBinding {
                            local: self.binding(&b.id),
                            imported: Imported::Named(name),
                        }),
                        _ => None,
                    },
                    ObjectPatProp::Rest(_) => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        self.add_import(ImportKind::Require, s, bindings);
    }

    /// `module.exports = v`, `module.exports.a = v`, `exports.a = v`.
    fn commonjs_export(&mut self, e: &Expr) {
        let Expr::Assign(a) = unwrap_expr(e) else {
            return;
        };
        if a.op != AssignOp::Assign {
            return;
        }
        let AssignTarget::Simple(SimpleAssignTarget::Member(target)) = &a.left else {
            return;
        };
        let name = if self.is_module_exports(&target.obj) {
            // module.exports.a = v
            match &target.prop {
                MemberProp::Ident(p) => p.sym.to_string(),
                _ => return,
            }
        } else if matches!(&*target.obj, Expr::Ident(i) if self.js.is_global_named(i, "module"))
            && matches!(&target.prop, MemberProp::Ident(p) if p.sym == *"exports")
        {
            "default".to_string()
        } else if matches!(&*target.obj, Expr::Ident(i) if self.js.is_global_named(i, "exports")) {
            match &target.prop {
                MemberProp::Ident(p) => p.sym.to_string(),
                _ => return,
            }
        } else {
            return;
        };
        let value = unwrap_expr(&a.right);
        let local = match value {
            Expr::Ident(i) => Some(self.binding(i)),
            _ => None,
        };
        if let (true, Expr::Object(o)) = (name == "default", value) {
            for p in &o.props {
                let PropOrSpread::Prop(p) = p else { continue };
                let member = match &**p {
                    Prop::Shorthand(i) => Some((i.sym.to_string(), Some(self.binding(i)))),
                    Prop::KeyValue(kv) => prop_name(&kv.key).map(|k| {
                        let local = match unwrap_expr(&kv.value) {
                            Expr::Ident(i) => Some(self.binding(i)),
                            _ => None,
                        };
                        (k, local)
                    }),
                    Prop::Method(m) => prop_name(&m.key).map(|k| (k, None)),
                    _ => None,
                };
                self.info.object_members.extend(member);
            }
        }
        self.info.exports.push(Export {
            name,
            local,
            span: self.js.span(value.span()),
            from: None,
        });
    }

    fn is_module_exports(&self, e: &Expr) -> bool {
        matches!(unwrap_expr(e), Expr::Member(m)
            if matches!(&*m.obj, Expr::Ident(i) if self.js.is_global_named(i, "module"))
            && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"exports"))
    }
}

use swc_common::Spanned;

impl Visit for Collector<'_> {
    fn visit_call_expr(&mut self, call: &CallExpr) {
        call.visit_children_with(self);
        match &call.callee {
            Callee::Import(_) => {
                if let Some(Expr::Lit(Lit::Str(s))) =
                    call.args.first().map(|a| unwrap_expr(&a.expr))
                {
                    self.add_import(ImportKind::Dynamic, s, Vec::new());
                }
            }
            Callee::Expr(callee) => {
                let callee = unwrap_expr(callee);
                // require.async('x')
                if let Expr::Member(m) = callee
                    && matches!(&*m.obj, Expr::Ident(i) if self.js.is_global_named(i, "require"))
                    && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"async")
                {
                    if let Some(Expr::Lit(Lit::Str(s))) =
                        call.args.first().map(|a| unwrap_expr(&a.expr))
                    {
                        self.add_import(ImportKind::RequireAsync, s, Vec::new());
                    }
                    return;
                }
                let Expr::Ident(id) = callee else { return };
                let is_require = self.js.is_global_named(id, "require")
                    || self.require_aliases.contains(&self.binding(id));
                if !is_require || self.handled_requires.contains(&call.span) {
                    return;
                }
                match call.args.first().map(|a| unwrap_expr(&a.expr)) {
                    Some(Expr::Lit(Lit::Str(s))) => {
                        let kind = if call.args.len() > 1 {
                            ImportKind::RequireAsync
                        } else {
                            ImportKind::Require
                        };
                        self.add_import(kind, s, Vec::new());
                    }
                    Some(other) => {
                        let span = self.js.span(other.span());
                        let prefix = self.static_prefix(other, 0).filter(|p| !p.is_empty());
                        self.info.dynamic_requires.push((span, prefix));
                        self.diags.push(
                            Diagnostic::warning(
                                "js/dynamic-require",
                                "`require` is called with a computed path; DevTools cannot follow it and neither can this analysis",
                            )
                            .at(self.path, Some(span))
                            .help("require each module with a literal path, e.g. a `switch` over the literal paths"),
                        );
                    }
                    None => {}
                }
            }
            Callee::Super(_) => {}
        }
    }

    fn visit_var_declarator(&mut self, d: &VarDeclarator) {
        d.visit_children_with(self);
        if let (Pat::Ident(b), Some(init)) = (&d.name, &d.init)
            && let Some(prefix) = self.static_prefix(init, 0)
        {
            self.inits.push((self.binding(&b.id), prefix));
        }
        // `const r = require` aliases the loader, which DevTools cannot follow.
        if let Some(init) = &d.init
            && let Expr::Ident(i) = unwrap_expr(init)
            && self.js.is_global_named(i, "require")
        {
            if let Pat::Ident(b) = &d.name {
                self.require_aliases.push(self.binding(&b.id));
            }
            self.diags.push(
                Diagnostic::warning(
                    "js/aliased-require",
                    "`require` is aliased; DevTools cannot follow modules loaded through the alias",
                )
                .at(self.path, Some(self.js.span(d.span)))
                .help("call `require` directly with a literal path (this analysis follows the alias, the DevTools dependency analysis does not)"),
            );
        }
    }
}
