//! Update engine: replacement documents and update operators.

use bson::Document;

/// A validated update.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Replace the whole document (keeping `_id`): `doc.set`.
    Replace(Document),
    /// Apply update operators (`$set`, `$inc`, ...).
    Operators(Document),
}
