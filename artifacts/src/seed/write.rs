//! Writing collection files.

use super::Document;
use std::borrow::Borrow;

/// The file name of `collection`'s seed: `<collection>.json`.
pub fn collection_file_name(collection: &str) -> String {
    format!("{collection}.json")
}

/// Render documents as a collection file: JSON Lines, one compact document per line, keys in
/// each document's order (so the same documents give the same bytes), non-ASCII text as UTF-8
/// rather than escapes, every line ending in `\n`. Values are written as the Extended JSON
/// they hold: a date should be `{"$date": "<ISO-8601>"}`, the form CloudBase imports. No
/// documents give an empty file. Takes documents or references to them.
pub fn to_json_lines<D: Borrow<Document>>(documents: impl IntoIterator<Item = D>) -> String {
    let mut text = String::new();
    for d in documents {
        let line =
            serde_json::to_string(d.borrow()).expect("a map of JSON values always serialises");
        text.push_str(&line);
        text.push('\n');
    }
    text
}
