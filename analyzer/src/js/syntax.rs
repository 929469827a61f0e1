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
