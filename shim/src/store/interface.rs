//! The persistence interface: the [`Store`] trait and its open transactions ([`StoreTxn`]),
//! what a read asks for ([`Find`]), how an update applies ([`UpdateOpts`]) and what it did
//! ([`UpdateResult`]), and the CloudBase document id form ([`new_id`]).

use crate::db::error::DbResult;
use crate::db::update::{Update, upsert_base};
use bson::{Bson, Document};

/// A read: `filter` (MongoDB-style query document, already decoded), `sort` as an ordered
/// `{path: 1 | -1}` document, `skip`, `limit` (`None` = no limit) and an optional projection.
#[derive(Debug, Clone, Default)]
pub struct Find {
    pub filter: Document,
    pub sort: Option<Document>,
    pub skip: u64,
    pub limit: Option<u64>,
    pub projection: Option<Document>,
}

impl Find {
    /// A find with just a filter.
    pub fn filter(filter: Document) -> Self {
        Find {
            filter,
            ..Find::default()
        }
    }
}

/// How an update applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateOpts {
    /// Update every matching document (else the first in natural order).
    pub multi: bool,
    /// Insert when nothing matches (the new document's `_id` is taken from an `_id` equality in
    /// the filter, else generated).
    pub upsert: bool,
    /// Return the document after the update in [`UpdateResult::doc`] (single-document only).
    pub return_doc: bool,
}

/// Outcome of an update.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateResult {
    /// Documents the filter matched.
    pub matched: u64,
    /// Documents actually changed (a no-op `$set` counts as matched, not updated).
    pub updated: u64,
    /// `_id` of the inserted document when an upsert created one.
    pub upserted_id: Option<Bson>,
    /// The updated (or upserted) document, when `return_doc` was asked for.
    pub doc: Option<Document>,
}

/// Outcome of [`Store::upsert_by_id`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub inserted: u64,
    /// Replaced with different content.
    pub updated: u64,
    /// Already stored exactly so.
    pub unchanged: u64,
}

/// The persistence interface. Implementations are shared between threads; reads may run in
/// parallel, writes are serialised by the implementation.
pub trait Store: Send + Sync {
    /// Create a collection. `Ok(false)` if it already existed.
    fn create_collection(&self, name: &str) -> DbResult<bool>;
    /// Drop a collection with its documents and indexes. `Ok(false)` if it did not exist.
    fn drop_collection(&self, name: &str) -> DbResult<bool>;
    /// Names of all collections, sorted.
    fn list_collections(&self) -> DbResult<Vec<String>>;
    /// Does the collection exist?
    fn has_collection(&self, name: &str) -> DbResult<bool>;
    /// Declare an index on a dot path (equality, range and sort on that field use it).
    /// `Ok(false)` if it already existed. Missing collection → `CollectionNotExist`.
    fn ensure_index(&self, coll: &str, field_path: &str) -> DbResult<bool>;
    /// Indexed field paths of a collection.
    fn list_indexes(&self, coll: &str) -> DbResult<Vec<String>>;
    /// Insert documents atomically (all or none). Documents without `_id` get a generated one
    /// (32 lowercase hex chars). A duplicate `_id` fails with `DuplicateId`.
    fn insert(&self, coll: &str, docs: Vec<Document>) -> DbResult<Vec<Bson>>;
    /// Read matching documents.
    fn find(&self, coll: &str, find: &Find) -> DbResult<Vec<Document>>;
    /// Count matching documents.
    fn count(&self, coll: &str, filter: &Document) -> DbResult<u64>;
    /// Apply an update to the matching documents.
    fn update(
        &self,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult>;
    /// Remove matching documents (all when `multi`, else the first). Returns how many.
    fn remove(&self, coll: &str, filter: &Document, multi: bool) -> DbResult<u64>;
    /// Write documents by `_id` in one transaction: replace the stored document with the same
    /// `_id`, or insert it. Every document must have an `_id`. Used to load seeds idempotently.
    fn upsert_by_id(&self, coll: &str, docs: Vec<Document>) -> DbResult<UpsertCounts>;
    /// Start a transaction. It holds the store's write lock until it is committed or aborted
    /// (dropping it aborts); writes outside it wait (and fail with `Transaction` after a
    /// timeout); reads outside it see the state before it.
    fn begin(&self) -> DbResult<Box<dyn StoreTxn>>;
    /// Run an aggregation pipeline (`[{ "$match": {...} }, ...]`).
    fn aggregate(&self, coll: &str, pipeline: &[Document]) -> DbResult<Vec<Document>>;
    /// A value the shim keeps about itself beside the data, not a document (the seed files
    /// loaded, the URL signing secret): shared by every instance on the same database.
    fn get_meta(&self, key: &str) -> DbResult<Option<String>>;
    /// Set a [`Store::get_meta`] value.
    fn set_meta(&self, key: &str, value: &str) -> DbResult<()>;
    /// Set `key` to `value` unless it has a value already; returns the value it has then (the
    /// first writer's, when several instances start at once).
    fn init_meta(&self, key: &str, value: &str) -> DbResult<String>;
    /// Whether writes running at once share one commit (SQLite's group commit): then many in
    /// flight make the store faster, not slower, and callers let more of them run.
    fn commits_in_groups(&self) -> bool {
        false
    }
}

/// An open transaction ([`Store::begin`]). Each operation is atomic on its own (a failed one
/// leaves no trace); all of them become visible together at [`StoreTxn::commit`].
pub trait StoreTxn: Send {
    fn insert(&mut self, coll: &str, docs: Vec<Document>) -> DbResult<Vec<Bson>>;
    fn find(&mut self, coll: &str, find: &Find) -> DbResult<Vec<Document>>;
    fn count(&mut self, coll: &str, filter: &Document) -> DbResult<u64>;
    fn update(
        &mut self,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult>;
    fn remove(&mut self, coll: &str, filter: &Document, multi: bool) -> DbResult<u64>;
    /// Make every change visible.
    fn commit(self: Box<Self>) -> DbResult<()>;
    /// Discard every change.
    fn abort(self: Box<Self>) -> DbResult<()>;
}

/// Generate a document id in the CloudBase form: 32 lowercase hex characters, with the Unix
/// time in seconds in hex digits 9–16 like the observed ids (cloud-api.md §2.8).
pub fn new_id() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as u32)
        .unwrap_or(0);
    let a: u32 = rng.random();
    let b: u64 = rng.random();
    format!("{a:08x}{secs:08x}{b:016x}")
}

/// What both stores keep in their `openid` column for a document whose `_openid` is an
/// array (and PostgreSQL for a string its text type cannot hold): an equality on `_openid`
/// may match an element, so `_openid` lookups read these rows too and the filter decides.
pub(crate) const OPENID_ARRAY: &str = "\u{1}";

/// The document an upsert inserts: the filter's equalities with the update applied, `_id`
/// first (from an `_id` equality in the filter, else generated).
pub(crate) fn upsert_document(filter: &Document, update: &Update) -> DbResult<Document> {
    let mut base = upsert_base(filter)?;
    // A replacement drops the filter's fields, `_id` too: that one is put back first.
    let filter_id = base.get("_id").cloned();
    update.apply(&mut base)?;
    if let (Update::Replace(_), Some(id)) = (update, filter_id) {
        let mut nd = Document::new();
        nd.insert("_id", id);
        nd.extend(base.into_iter().filter(|(k, _)| k != "_id"));
        base = nd;
    }
    Ok(with_id(base))
}

/// `doc`, or `doc` after a new `_id` (first) when it has none.
pub(crate) fn with_id(doc: Document) -> Document {
    if doc.contains_key("_id") {
        return doc;
    }
    let mut nd = Document::new();
    nd.insert("_id", new_id());
    nd.extend(doc);
    nd
}
