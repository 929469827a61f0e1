//! One record of a collection file.

use serde_json::{Map, Value};

/// A record's document: a JSON object whose values are Extended JSON (`{"$date": …}` etc.),
/// keys in file order.
pub type Document = Map<String, Value>;

/// A record read from a collection file.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based line where the record starts.
    pub line: usize,
    /// The record as written.
    pub document: Document,
}

/// Why `key` cannot name a field of a seed record, if it cannot: it is empty, contains `.`
/// (a dot path, not a name) or starts with `$` (an operator). Apply it to field names, not to
/// the `$` keys of Extended JSON wrappers, which encode values.
pub fn field_name_problem(key: &str) -> Option<String> {
    if key.is_empty() || key.contains('.') || key.starts_with('$') {
        Some(format!(
            "invalid field name \"{key}\" (no '.', not starting with '$')"
        ))
    } else {
        None
    }
}
