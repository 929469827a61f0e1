//! Seed data: load `cloud/database/*.json` into a store at start, and export it back.
//!
//! # `cloud/database/<collection>.json`
//!
//! The CloudBase console's import/export format (cloud-api.md §5.4): one JSON object per
//! record, JSON Lines style; pretty-printed objects back to back are accepted too. Values are
//! relaxed or canonical Extended JSON: `{"$date": "2024-01-02T03:04:05.678Z"}` (or
//! `{"$date": <ms>}` / `{"$date": {"$numberLong": ".."}}`), `{"$numberLong": ".."}`,
//! `{"$oid": ".."}`, ... Keys may not contain `.`.
//!
//! Loading is idempotent: each record is upserted by `_id` (replaced if it changed, inserted if
//! new, never duplicated). A record without `_id` gets a deterministic one: the first 32 hex
//! digits of a BLAKE3 hash of the collection name, the record's line and its canonical
//! content, so loading the same file again finds the same ids. (Editing such a record gives it
//! a new id, so the old version stays in the database: give records an `_id` to edit them in
//! place; [`export`] writes every `_id` out.) A bad record is reported with
//! `file:line` and skipped; the rest of the file and the other files still load.
//!
//! # `cloud/database/_indexes.json`
//!
//! Declared indexes, one list of dot paths per collection:
//!
//! ```json
//! { "lines": ["city", "lineNo"], "stops": ["loc", "line.id"] }
//! ```
//!
//! Equality, `$in`, range filters and single-field sorts on these paths use the index. `_id`
//! and `_openid` are always indexed. Collections named here are created if missing.
//!
//! Files whose name starts with `_` are configuration (`_indexes.json`,
//! `_permissions.json`, see [`crate::db::permissions`]), not collections.

use crate::db::ejson;
use crate::db::error::{DbError, DbResult};
use crate::store::Store;
use bson::{Bson, Document};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A problem with one record or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedError {
    pub path: PathBuf,
    /// 1-based line where the record starts (0 when the whole file is concerned).
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for SeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)
        }
    }
}

/// What loading one collection file did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    pub collection: String,
    pub path: PathBuf,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// What [`load_dir`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    pub files: Vec<FileReport>,
    /// Indexes declared by `_indexes.json` as `(collection, path)`.
    pub indexes: Vec<(String, String)>,
    pub errors: Vec<SeedError>,
}

/// Load every `<collection>.json` and `_indexes.json` under `dir` (usually
/// `<project>/cloud/database`). A missing directory loads nothing.
pub fn load_dir(store: &dyn Store, dir: &Path) -> SeedReport {
    let mut report = SeedReport::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return report,
        Err(e) => {
            report.errors.push(SeedError {
                path: dir.to_path_buf(),
                line: 0,
                message: format!("cannot read directory: {e}"),
            });
            return report;
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    files.sort();
    for path in &files {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if stem.starts_with('_') {
            continue;
        }
        match load_file(store, stem, path, &mut report.errors) {
            Ok(r) => report.files.push(r),
            Err(e) => report.errors.push(SeedError {
                path: path.clone(),
                line: 0,
                message: e.message(),
            }),
        }
    }
    let idx = dir.join("_indexes.json");
    if idx.is_file() {
        load_indexes(store, &idx, &mut report);
    }
    report
}

fn load_indexes(store: &dyn Store, path: &Path, report: &mut SeedReport) {
    let err = |m: String| SeedError {
        path: path.to_path_buf(),
        line: 0,
        message: m,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return report.errors.push(err(format!("cannot read: {e}"))),
    };
    let v: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return report.errors.push(err(format!("invalid JSON: {e}"))),
    };
    let Some(obj) = v.as_object() else {
        return report
            .errors
            .push(err("expected {\"<collection>\": [\"field\", ...]}".into()));
    };
    for (coll, fields) in obj {
        let Some(list) = fields.as_array() else {
            report
                .errors
                .push(err(format!("\"{coll}\": expected a list of field paths")));
            continue;
        };
        if let Err(e) = store.create_collection(coll) {
            report
                .errors
                .push(err(format!("\"{coll}\": {}", e.message())));
            continue;
        }
        for f in list {
            let Some(field) = f.as_str() else {
                report
                    .errors
                    .push(err(format!("\"{coll}\": field paths must be strings")));
                continue;
            };
            match store.ensure_index(coll, field) {
                Ok(_) => report.indexes.push((coll.clone(), field.to_string())),
                Err(e) => report
                    .errors
                    .push(err(format!("\"{coll}\".\"{field}\": {}", e.message()))),
            }
        }
    }
}

/// Split seed text into records: `(line, Result<json>)`, resynchronising after a bad record
/// at the next line that starts with `{`.
pub fn parse_records(text: &str) -> Vec<(usize, Result<Value, String>)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |pos: usize| line_starts.partition_point(|&s| s <= pos);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < text.len() {
        let rest = &text[pos..];
        let trimmed = rest.trim_start();
        if trimmed.is_empty() {
            break;
        }
        let start = pos + (rest.len() - trimmed.len());
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                out.push((line_of(start), Ok(v)));
                pos = start + stream.byte_offset();
            }
            Some(Err(e)) => {
                let line = line_of(start);
                out.push((line, Err(format!("invalid JSON: {e}"))));
                // Skip to the next line (after this record's first line) that opens an object.
                let mut next = text.len();
                for &ls in line_starts.iter().skip(line) {
                    if ls > start && text[ls..].starts_with('{') {
                        next = ls;
                        break;
                    }
                }
                pos = next;
            }
            None => break,
        }
    }
    out
}

fn load_file(
    store: &dyn Store,
    collection: &str,
    path: &Path,
    errors: &mut Vec<SeedError>,
) -> DbResult<FileReport> {
    let bytes = std::fs::read(path).map_err(|e| DbError::invalid(format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| DbError::invalid("not UTF-8 (seeds must be UTF-8)"))?;
    store.create_collection(collection)?;
    let mut docs = Vec::new();
    for (line, rec) in parse_records(&text) {
        let err = |m: String| SeedError {
            path: path.to_path_buf(),
            line,
            message: m,
        };
        let v = match rec {
            Ok(v) => v,
            Err(m) => {
                errors.push(err(m));
                continue;
            }
        };
        if !v.is_object() {
            errors.push(err("a record must be a JSON object".into()));
            continue;
        }
        let doc = match ejson::document_from_json(v) {
            Ok(d) => d,
            Err(e) => {
                errors.push(err(e.message()));
                continue;
            }
        };
        if let Err(m) = check_keys(&doc) {
            errors.push(err(m));
            continue;
        }
        docs.push(with_id(collection, line, doc));
    }
    // Apply per record so one bad record (e.g. an unstorable value) does not sink the file.
    let mut report = FileReport {
        collection: collection.to_string(),
        path: path.to_path_buf(),
        ..FileReport::default()
    };
    match store.upsert_by_id(collection, docs.iter().map(|(_, d)| d.clone()).collect()) {
        Ok(c) => {
            report.inserted = c.inserted;
            report.updated = c.updated;
            report.unchanged = c.unchanged;
        }
        Err(_) => {
            for (line, d) in docs {
                match store.upsert_by_id(collection, vec![d]) {
                    Ok(c) => {
                        report.inserted += c.inserted;
                        report.updated += c.updated;
                        report.unchanged += c.unchanged;
                    }
                    Err(e) => errors.push(SeedError {
                        path: path.to_path_buf(),
                        line,
                        message: e.message(),
                    }),
                }
            }
        }
    }
    Ok(report)
}

fn check_keys(d: &Document) -> Result<(), String> {
    for (k, v) in d {
        if k.is_empty() || k.contains('.') || k.starts_with('$') {
            return Err(format!(
                "invalid field name \"{k}\" (no '.', not starting with '$')"
            ));
        }
        match v {
            Bson::Document(sub) => check_keys(sub)?,
            Bson::Array(a) => {
                for x in a {
                    if let Bson::Document(sub) = x {
                        check_keys(sub)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn with_id(collection: &str, line: usize, doc: Document) -> (usize, Document) {
    if doc.contains_key("_id") {
        return (line, doc);
    }
    let mut h = blake3::Hasher::new();
    h.update(collection.as_bytes());
    h.update(&(line as u64).to_le_bytes());
    h.update(ejson::to_canonical_string(&doc).as_bytes());
    let id: String = h.finalize().to_hex().chars().take(32).collect();
    let mut out = Document::new();
    out.insert("_id", id);
    out.extend(doc);
    (line, out)
}

/// A value in the export format: relaxed EJSON (`{"$date": ISO}`, plain numbers) except that
/// 64-bit integers keep `{"$numberLong": ..}` so a re-import restores their type.
pub fn export_value(v: &Bson) -> Value {
    match v {
        Bson::Int64(i) => serde_json::json!({ "$numberLong": i.to_string() }),
        Bson::Document(d) => Value::Object(
            d.iter()
                .map(|(k, x)| (k.clone(), export_value(x)))
                .collect(),
        ),
        Bson::Array(a) => Value::Array(a.iter().map(export_value).collect()),
        other => ejson::to_relaxed_json(other),
    }
}

/// Write every collection to `<dir>/<collection>.json` (one record per line) and the declared
/// indexes to `<dir>/_indexes.json`, each through a temporary file renamed into place.
pub fn export(store: &dyn Store, dir: &Path) -> DbResult<Vec<PathBuf>> {
    let io = |p: &Path, e: std::io::Error| DbError::internal(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut written = Vec::new();
    let mut indexes = serde_json::Map::new();
    for coll in store.list_collections()? {
        let docs = store.find(&coll, &crate::store::Find::default())?;
        let mut text = String::new();
        for d in &docs {
            text.push_str(&export_value(&Bson::Document(d.clone())).to_string());
            text.push('\n');
        }
        let path = dir.join(format!("{coll}.json"));
        write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, e))?;
        written.push(path);
        let idx = store.list_indexes(&coll)?;
        if !idx.is_empty() {
            indexes.insert(coll.clone(), serde_json::json!(idx));
        }
    }
    if !indexes.is_empty() {
        let path = dir.join("_indexes.json");
        let text =
            serde_json::to_string_pretty(&Value::Object(indexes)).map_err(DbError::internal)?;
        write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
