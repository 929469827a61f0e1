//! Small syntax helpers shared by the detectors: seeing through wrappers, naming keys.

use swc_atoms::Atom;
use swc_ecma_ast::{Expr, Lit, MemberProp, OptChainBase, PropName, TplElement};

/// Strips parentheses, TypeScript-only wrappers and literal-led sequences (`(0, f)`, which
/// compilers write to call `f` without a `this`) around an expression.
pub fn unwrap_expr(mut e: &Expr) -> &Expr {
    loop {
        e = match e {
            Expr::Paren(p) => &p.expr,
            Expr::Seq(s)
                if s.exprs.len() > 1
                    && s.exprs[..s.exprs.len() - 1]
                        .iter()
                        .all(|x| matches!(&**x, Expr::Lit(_))) =>
            {
                &s.exprs[s.exprs.len() - 1]
            }
            Expr::TsAs(t) => &t.expr,
            Expr::TsSatisfies(t) => &t.expr,
            Expr::TsNonNull(t) => &t.expr,
            Expr::TsTypeAssertion(t) => &t.expr,
            Expr::TsConstAssertion(t) => &t.expr,
            _ => return e,
        }
    }
}

/// A property key as a string (identifier, string or number keys); `None` for computed keys.
pub fn prop_name(p: &PropName) -> Option<String> {
    match p {
        PropName::Ident(i) => Some(i.sym.to_string()),
        PropName::Str(s) => Some(s.value.to_string_lossy().into_owned()),
        PropName::Num(n) => Some(n.value.to_string()),
        _ => None,
    }
}

/// Whether a property key is `name` (what [`prop_name`] would return), without allocating.
pub fn prop_is(p: &PropName, name: &str) -> bool {
    match p {
        PropName::Ident(i) => i.sym == *name,
        PropName::Str(s) => s.value.to_string_lossy() == name,
        PropName::Num(n) => n.value.to_string() == name,
        _ => false,
    }
}

/// The text of a template literal piece: its cooked value, or the raw text when escapes make
/// it uncookable.
pub fn quasi_text(q: &TplElement) -> String {
    q.cooked
        .as_ref()
        .map(|c| c.to_string_lossy().into_owned())
        .unwrap_or_else(|| q.raw.to_string())
}

/// `obj.prop` / `obj?.prop` / `obj['prop']` as (object, property).
pub fn member(e: &Expr) -> Option<(&Expr, &MemberProp)> {
    let m = match unwrap_expr(e) {
        Expr::Member(m) => m,
        Expr::OptChain(o) => match &*o.base {
            OptChainBase::Member(m) => m,
            OptChainBase::Call(_) => return None,
        },
        _ => return None,
    };
    Some((&m.obj, &m.prop))
}

/// `obj.prop` / `obj?.prop` / `obj['prop']` as (object, property name).
pub fn as_member(e: &Expr) -> Option<(&Expr, Atom)> {
    let (obj, prop) = member(e)?;
    let name = match prop {
        MemberProp::Ident(p) => p.sym.clone(),
        MemberProp::Computed(c) => match unwrap_expr(&c.expr) {
            Expr::Lit(Lit::Str(s)) => Atom::from(&*s.value.to_string_lossy()),
            _ => return None,
        },
        MemberProp::PrivateName(_) => return None,
    };
    Some((obj, name))
}

/// A call found at an offset of a script (see [`call_at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAt {
    /// The callee, file-relative (`uni.request` of `uni.request({…})`; without type arguments).
    pub callee: crate::Span,
    /// The keys of the first argument when it is an object literal (`...` for a spread, which
    /// may bring any key); `None` when the first argument is not one.
    pub option_keys: Option<Vec<String>>,
}

/// The innermost call of `js` whose callee spans `offset`: what a location mapped back from a
/// build (which points into the callee) names.
pub fn call_at(js: &crate::js::JsFile, offset: u32) -> Option<CallAt> {
    use swc_ecma_ast::{CallExpr, Callee, ObjectLit, Prop, PropOrSpread};
    use swc_ecma_visit::{Visit, VisitWith};

    struct Find<'a> {
        js: &'a crate::js::JsFile,
        offset: u32,
        found: Option<CallAt>,
    }
    fn keys(o: &ObjectLit) -> Vec<String> {
        o.props
            .iter()
            .map(|p| match p {
                PropOrSpread::Spread(_) => "...".to_string(),
                PropOrSpread::Prop(p) => match &**p {
                    Prop::Shorthand(i) => i.sym.to_string(),
                    Prop::KeyValue(kv) => prop_name(&kv.key).unwrap_or_default(),
                    Prop::Method(m) => prop_name(&m.key).unwrap_or_default(),
                    Prop::Getter(g) => prop_name(&g.key).unwrap_or_default(),
                    Prop::Setter(s) => prop_name(&s.key).unwrap_or_default(),
                    Prop::Assign(a) => a.key.sym.to_string(),
                },
            })
            .collect()
    }
    impl Visit for Find<'_> {
        fn visit_call_expr(&mut self, c: &CallExpr) {
            if let Callee::Expr(callee) = &c.callee {
                let sp = self.js.span(callee.span());
                if sp.start <= self.offset && self.offset < sp.end.max(sp.start + 1) {
                    let option_keys = c.args.first().and_then(|a| match unwrap_expr(&a.expr) {
                        Expr::Object(o) if a.spread.is_none() => Some(keys(o)),
                        _ => None,
                    });
                    // An inner call spanning the offset too (`a.b(c).d(…)`) replaces it below.
                    self.found = Some(CallAt {
                        callee: sp,
                        option_keys,
                    });
                }
            }
            c.visit_children_with(self);
        }
    }
    use swc_common::Spanned;
    let mut f = Find {
        js,
        offset,
        found: None,
    };
    js.program.visit_with(&mut f);
    f.found
}

/// The offset just past the last top-level `import` declaration of a module (`None` without
/// one): where a statement that needs the imports goes.
pub fn after_imports(js: &crate::js::JsFile) -> Option<u32> {
    use swc_common::Spanned;
    use swc_ecma_ast::{ModuleDecl, ModuleItem, Program};
    let Program::Module(m) = &js.program else {
        return None;
    };
    m.body
        .iter()
        .filter_map(|item| match item {
            ModuleItem::ModuleDecl(ModuleDecl::Import(i)) => Some(js.span(i.span()).end),
            _ => None,
        })
        .max()
}
