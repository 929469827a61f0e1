//! The database service: CloudBase semantics above a [`Store`].
//!
//! The HTTP layer decodes a request (`database.insertDocument`, `getDocument`, ...) into a
//! [`DbOp`], calls [`Database::execute`] with the [`Caller`], and renders the [`DbReply`] with
//! [`DbReply::to_wire_data`] (the `data` object the SDK reads) or a [`DbError`] with its
//! `code()`/`message()`.
//!
//! Rules copied from CloudBase (cloud-api.md §2):
//! * limits (§2.3): server (admin) reads default to 100 and are capped at 1000; client reads
//!   default to and are capped at 20; aggregate without `$limit` returns at most 20;
//! * `_openid` (§2.9): stamped with the caller's openid on client inserts (whatever the client
//!   sent), never changeable by a client; admin inserts get none;
//! * permissions (§2.9): presets enforced for clients only, as an implicit `_openid` filter
//!   (see [`crate::db::permissions`]);
//! * `db.serverDate()` (§2.7): `$tcb_server_date` markers become now + offset in inserted
//!   documents, set documents and update values;
//! * `update` data must not contain `_id`; `set` data must not contain update operators (§2.6).

use crate::db::error::{DbError, DbResult};
use crate::db::permissions::Permissions;
use crate::store::Store;
use bson::{Bson, Document};
use std::sync::Arc;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// Server side (cloud functions through wx-server-sdk / node-sdk): trusted, no permission
    /// checks, read limit default 100, cap 1000.
    Admin,
    /// A mini-program user through the generated `wx.cloud` adapter: read limit 20, `_openid`
    /// stamped on inserts, collection presets enforced.
    Client { openid: String, appid: String },
}

/// A database request, decoded from the wire (every document already parsed from EJSON with
/// [`crate::db::ejson`]).
#[derive(Debug, Clone, PartialEq)]
pub enum DbOp {
    /// `database.insertDocument`: one or many documents.
    Insert {
        collection: String,
        docs: Vec<Document>,
    },
    /// `database.getDocument` (`doc.get` sends the filter `{_id: id}`).
    Get {
        collection: String,
        filter: Document,
        /// `{path: 1 | -1}` in call order.
        order: Option<Document>,
        offset: u64,
        /// `None` = the caller's default.
        limit: Option<u64>,
        projection: Option<Document>,
    },
    /// `database.calculateDocument`.
    Count {
        collection: String,
        filter: Document,
    },
    /// `database.modifyDocument`. `doc.update`: merge, !multi, !upsert; `doc.set`: !merge,
    /// upsert (data is the whole document); `where.update`: merge, multi.
    Modify {
        collection: String,
        filter: Document,
        data: Document,
        multi: bool,
        merge: bool,
        upsert: bool,
    },
    /// `database.modifyAndReturnDoc`: update the first match, return it after the update.
    ModifyAndReturn {
        collection: String,
        filter: Document,
        data: Document,
    },
    /// `database.removeDocument`.
    Remove {
        collection: String,
        filter: Document,
        multi: bool,
    },
    /// `database.aggregateDocuments`: one document per stage, e.g. `{"$match": {...}}`
    /// (build them with [`crate::db::aggregate::stage_from_wire`]).
    Aggregate {
        collection: String,
        stages: Vec<Document>,
    },
    /// `database.addCollection`.
    AddCollection { collection: String },
}

/// The result of a [`DbOp`].
#[derive(Debug, Clone, PartialEq)]
pub enum DbReply {
    /// `insertedIds`.
    Inserted { ids: Vec<Bson> },
    /// `list` (documents), with the `offset`/`limit` that were applied.
    Documents {
        list: Vec<Document>,
        offset: u64,
        limit: u64,
    },
    /// `total`.
    Count { total: u64 },
    /// `updated`, `upsert_id`.
    Modified {
        matched: u64,
        updated: u64,
        upserted_id: Option<Bson>,
    },
    /// `updated`, `doc` (the document after the update, `None` when nothing matched).
    ModifiedDoc { updated: u64, doc: Option<Document> },
    /// `deleted`.
    Removed { deleted: u64 },
    /// `list` of an aggregation.
    Aggregated { list: Vec<Document> },
    /// `database.addCollection` (`created` false when it already existed).
    CollectionAdded { created: bool },
}

/// The database service.
pub struct Database {
    store: Arc<dyn Store>,
    permissions: parking_lot::RwLock<Permissions>,
    clock: fn() -> i64,
}

fn system_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Database {
    /// Server (admin) default read limit.
    pub const ADMIN_DEFAULT_LIMIT: u64 = 100;
    /// Server (admin) maximum read limit.
    pub const ADMIN_MAX_LIMIT: u64 = 1000;
    /// Client default and maximum read limit.
    pub const CLIENT_LIMIT: u64 = 20;
    /// Aggregate results without an explicit `$limit`.
    pub const AGGREGATE_DEFAULT_LIMIT: u64 = 20;

    /// A service over `store` with default permissions.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Database {
            store,
            permissions: parking_lot::RwLock::new(Permissions::default()),
            clock: system_now_ms,
        }
    }

    /// Replace the permission table (e.g. after `_permissions.json` changed).
    pub fn set_permissions(&self, p: Permissions) {
        *self.permissions.write() = p;
    }

    /// Use a fixed clock (tests of `serverDate`).
    pub fn with_clock(mut self, clock: fn() -> i64) -> Self {
        self.clock = clock;
        self
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Run one operation for `caller`.
    pub fn execute(&self, caller: &Caller, op: DbOp) -> DbResult<DbReply> {
        let _ = (caller, op);
        Err(DbError::internal("not implemented yet"))
    }
}
