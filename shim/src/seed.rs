//! Seed data: load `cloud/database/*.json` into a store at start, and export it back.
//!
//! The files' format (JSON Lines of Extended JSON records, `_indexes.json`) is defined, read
//! and written by [`artifacts::seed`]; this module turns its records into BSON documents and
//! puts them in a [`Store`].
//!
//! Loading is idempotent: each record is upserted by `_id` (replaced if it changed, inserted if
//! new, never duplicated). A record without `_id` gets a deterministic one: the first 32 hex
//! digits of a BLAKE3 hash of the collection name, the record's line and its canonical
//! content, so loading the same file again finds the same ids. (Editing such a record gives it
//! a new id, so the old version stays in the database: give records an `_id` to edit them in
//! place; [`export`] writes every `_id` out.) A bad record is reported with
//! `file:line` and skipped; the rest of the file and the other files still load.
//!
//! Collections named in `_indexes.json` are created if missing, and equality, `$in`, range
//! filters and single-field sorts on the declared paths use the index. `_id` and `_openid` are
//! always indexed. `_permissions.json` is read by [`crate::service::Permissions`].

use crate::db::ejson;
use crate::db::error::{DbError, DbResult};
use crate::store::Store;
use artifacts::seed::{self, CollectionSeed, INDEXES_FILE};
use bson::{Bson, Document};
use serde_json::Value;
use std::path::{Path, PathBuf};

pub use artifacts::seed::SeedError;

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
    /// Collections whose seed file the database had loaded already, unchanged
    /// ([`load_dir_once`]).
    pub skipped: Vec<String>,
    pub errors: Vec<SeedError>,
}

/// Load every `<collection>.json` and `_indexes.json` under `dir` (usually
/// `<project>/cloud/database`). A missing directory loads nothing.
pub fn load_dir(store: &dyn Store, dir: &Path) -> SeedReport {
    load(store, dir, Reload::Always)
}

/// [`load_dir`], but a collection file the database has loaded already, unchanged since, is
/// left alone (unless `reseed`): restarting the shim, or starting a second instance on the
/// same database, never puts back seed records the app has changed since. A file whose bytes
/// changed (a new `migrate apply`) loads again. What was loaded is kept with the data
/// ([`Store::set_meta`], key `seed.<collection>`: the BLAKE3 hash of the file).
pub fn load_dir_once(store: &dyn Store, dir: &Path, reseed: bool) -> SeedReport {
    load(
        store,
        dir,
        if reseed {
            Reload::Always
        } else {
            Reload::WhenChanged
        },
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Reload {
    Always,
    WhenChanged,
}

/// The hash [`load_dir_once`] records for a seed file.
fn file_hash(path: &Path) -> Option<String> {
    std::fs::read(path)
        .ok()
        .map(|b| blake3::hash(&b).to_hex().to_string())
}

fn load(store: &dyn Store, dir: &Path, reload: Reload) -> SeedReport {
    let mut report = SeedReport::default();
    let files = match seed::collection_files(dir) {
        Ok(files) => files,
        Err(e) => {
            report.errors.push(e);
            return report;
        }
    };
    for (collection, path) in &files {
        let key = format!("seed.{collection}");
        let hash = file_hash(path);
        if reload == Reload::WhenChanged
            && hash.is_some()
            && store.get_meta(&key).ok().flatten() == hash
        {
            report.skipped.push(collection.clone());
            continue;
        }
        let errors_before = report.errors.len();
        let loaded = seed::read_collection(collection, path).and_then(|file| {
            load_file(store, file, &mut report.errors)
                .map_err(|e| SeedError::file(path, e.message()))
        });
        match loaded {
            Ok(r) => {
                // Recorded only when every record loaded: a file with a bad record is tried
                // again at the next start.
                if report.errors.len() == errors_before
                    && let Some(h) = &hash
                    && let Err(e) = store.set_meta(&key, h)
                {
                    report.errors.push(SeedError::file(
                        path,
                        format!("cannot record the load: {}", e.message()),
                    ));
                }
                report.files.push(r);
            }
            Err(e) => report.errors.push(e),
        }
    }
    let idx = dir.join(INDEXES_FILE);
    if idx.is_file() {
        load_indexes(store, &idx, &mut report);
    }
    report
}

fn load_indexes(store: &dyn Store, path: &Path, report: &mut SeedReport) {
    let decls = match seed::read_indexes(path) {
        Ok(decls) => decls,
        Err(e) => return report.errors.push(e),
    };
    let err = |m: String| SeedError::file(path, m);
    for decl in decls {
        let decl = match decl {
            Ok(decl) => decl,
            Err(e) => {
                report.errors.push(e);
                continue;
            }
        };
        let coll = &decl.collection;
        if let Err(e) = store.create_collection(coll) {
            report
                .errors
                .push(err(format!("\"{coll}\": {}", e.message())));
            continue;
        }
        for field in decl.paths {
            let field = match field {
                Ok(field) => field,
                Err(e) => {
                    report.errors.push(e);
                    continue;
                }
            };
            match store.ensure_index(coll, &field) {
                Ok(_) => report.indexes.push((coll.clone(), field)),
                Err(e) => report
                    .errors
                    .push(err(format!("\"{coll}\".\"{field}\": {}", e.message()))),
            }
        }
    }
}

/// Put one read collection file into the store; bad records go to `errors` and are skipped.
fn load_file(
    store: &dyn Store,
    file: CollectionSeed,
    errors: &mut Vec<SeedError>,
) -> DbResult<FileReport> {
    let CollectionSeed {
        collection,
        path,
        records,
    } = file;
    store.create_collection(&collection)?;
    let mut docs = Vec::new();
    for rec in records {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let line = rec.line;
        let doc = match ejson::document_from_json(Value::Object(rec.document)) {
            Ok(d) => d,
            Err(e) => {
                errors.push(SeedError::record(&path, line, e.message()));
                continue;
            }
        };
        if let Err(m) = check_keys(&doc) {
            errors.push(SeedError::record(&path, line, m));
            continue;
        }
        docs.push(with_id(&collection, line, doc));
    }
    // Apply per record so one bad record (e.g. an unstorable value) does not sink the file.
    let mut report = FileReport {
        collection: collection.clone(),
        path: path.clone(),
        ..FileReport::default()
    };
    match store.upsert_by_id(&collection, docs.iter().map(|(_, d)| d.clone()).collect()) {
        Ok(c) => {
            report.inserted = c.inserted;
            report.updated = c.updated;
            report.unchanged = c.unchanged;
        }
        Err(_) => {
            for (line, d) in docs {
                match store.upsert_by_id(&collection, vec![d]) {
                    Ok(c) => {
                        report.inserted += c.inserted;
                        report.updated += c.updated;
                        report.unchanged += c.unchanged;
                    }
                    Err(e) => errors.push(SeedError::record(&path, line, e.message())),
                }
            }
        }
    }
    Ok(report)
}

fn check_keys(d: &Document) -> Result<(), String> {
    for (k, v) in d {
        if let Some(problem) = seed::field_name_problem(k) {
            return Err(problem);
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
        Bson::Document(d) => Value::Object(export_document(d)),
        Bson::Array(a) => Value::Array(a.iter().map(export_value).collect()),
        other => ejson::to_relaxed_json(other),
    }
}

/// A document in the export format (see [`export_value`]), as a seed record.
pub fn export_document(d: &Document) -> seed::Document {
    d.iter()
        .map(|(k, x)| (k.clone(), export_value(x)))
        .collect()
}

/// Write every collection to `<dir>/<collection>.json` (one record per line) and the declared
/// indexes to `<dir>/_indexes.json`, each through a temporary file renamed into place.
pub fn export(store: &dyn Store, dir: &Path) -> DbResult<Vec<PathBuf>> {
    let io = |p: &Path, e: std::io::Error| DbError::internal(format!("{}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let mut written = Vec::new();
    let mut indexes = Vec::new();
    for coll in store.list_collections()? {
        let docs = store.find(&coll, &crate::store::Find::default())?;
        let text = seed::to_json_lines(docs.iter().map(export_document));
        let path = dir.join(seed::collection_file_name(&coll));
        write_atomic(&path, text.as_bytes()).map_err(|e| io(&path, e))?;
        written.push(path);
        let idx = store.list_indexes(&coll)?;
        if !idx.is_empty() {
            indexes.push((coll, idx));
        }
    }
    if !indexes.is_empty() {
        let path = dir.join(INDEXES_FILE);
        let text = seed::indexes_to_json(indexes);
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
