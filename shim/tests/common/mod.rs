//! Shared helpers for the shim's tests.
#![allow(dead_code)]

pub(crate) mod crash;
pub(crate) mod http;
pub(crate) mod pg;
pub(crate) mod s3;
pub(crate) mod storage_cases;
pub(crate) mod wechat;

use std::path::{Path, PathBuf};

use bson::{Bson, Document};
use shim::db::ejson;

/// Parse an EJSON object (test input is trusted).
pub(crate) fn d(text: &str) -> Document {
    ejson::parse_document(text).unwrap_or_else(|e| panic!("bad test EJSON {text}: {e}"))
}

/// The `_id`s of documents, as strings.
pub(crate) fn ids(docs: &[Document]) -> Vec<String> {
    docs.iter()
        .map(|x| match x.get("_id") {
            Some(Bson::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => "<none>".into(),
        })
        .collect()
}

/// The workspace folder (the shim crate's parent).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// Copies a folder tree (test fixtures into a temporary folder).
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}
