//! Reading literal values out of expressions.

pub use super::imports::unwrap_expr;
