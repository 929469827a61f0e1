//! Shared helpers for the store tests.
#![allow(dead_code)]

use bson::{Bson, Document};
use shim::db::ejson;

/// Parse an EJSON object (test input is trusted).
pub fn d(text: &str) -> Document {
    ejson::parse_document(text).unwrap_or_else(|e| panic!("bad test EJSON {text}: {e}"))
}

/// The `_id`s of documents, as strings.
pub fn ids(docs: &[Document]) -> Vec<String> {
    docs.iter()
        .map(|x| match x.get("_id") {
            Some(Bson::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "<none>".into(),
        })
        .collect()
}
