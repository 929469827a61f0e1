//! Small syntax helpers shared by the detectors: seeing through wrappers, naming keys.

use swc_ecma_ast::PropName;

pub use super::imports::unwrap_expr;

/// A property key as a string (identifier, string or number keys); `None` for computed keys.
pub fn prop_name(p: &PropName) -> Option<String> {
    match p {
        PropName::Ident(i) => Some(i.sym.to_string()),
        PropName::Str(s) => Some(s.value.to_string_lossy().into_owned()),
        PropName::Num(n) => Some(n.value.to_string()),
        _ => None,
    }
}
