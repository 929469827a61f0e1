//! `_indexes.json`: the declared indexes, one list of dot paths per collection.

use super::SeedError;
use serde_json::Value;
use std::path::Path;

/// The file name of the index declarations, beside the collection files.
pub const INDEXES_FILE: &str = "_indexes.json";

/// One collection's entry in `_indexes.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDecl {
    /// The collection (to be created if missing).
    pub collection: String,
    /// Its indexed dot paths in file order; an entry that is not a string is kept in its
    /// place as its error.
    pub paths: Vec<Result<String, SeedError>>,
}

/// Read `_indexes.json` at `path`: `{"<collection>": ["<dot path>", ...], ...}`. A file that
/// cannot be read, is not JSON or is not an object is one error; a collection whose value is
/// not a list is kept in its place as its error. Every error concerns the whole file (line 0).
pub fn read_indexes(path: &Path) -> Result<Vec<Result<IndexDecl, SeedError>>, SeedError> {
    let err = |m: String| SeedError::file(path, m);
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read: {e}")))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| err(format!("invalid JSON: {e}")))?;
    let Value::Object(obj) = v else {
        return Err(err("expected {\"<collection>\": [\"field\", ...]}".into()));
    };
    Ok(obj
        .into_iter()
        .map(|(collection, fields)| {
            let Value::Array(list) = fields else {
                return Err(err(format!(
                    "\"{collection}\": expected a list of field paths"
                )));
            };
            let paths = list
                .into_iter()
                .map(|f| match f {
                    Value::String(s) => Ok(s),
                    _ => Err(err(format!(
                        "\"{collection}\": field paths must be strings"
                    ))),
                })
                .collect();
            Ok(IndexDecl { collection, paths })
        })
        .collect())
}

/// Render index declarations as `_indexes.json`: a pretty-printed object, collections in the
/// order given, without a trailing newline (as the shim's export has always written it).
pub fn indexes_to_json<C, P>(decls: impl IntoIterator<Item = (C, P)>) -> String
where
    C: Into<String>,
    P: IntoIterator,
    P::Item: Into<String>,
{
    let obj: serde_json::Map<String, Value> = decls
        .into_iter()
        .map(|(c, paths)| {
            let list = paths.into_iter().map(|p| Value::String(p.into())).collect();
            (c.into(), Value::Array(list))
        })
        .collect();
    // `{:#}` is serde_json's pretty printer (`to_string_pretty`), without its error path.
    format!("{:#}", Value::Object(obj))
}
