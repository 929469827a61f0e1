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
//!   (see [`crate::service::permissions`]);
//! * `db.serverDate()` (§2.7): `$tcb_server_date` markers become now + offset in inserted
//!   documents, set documents, update values, and query filters/stages;
//! * `update` data must not contain `_id`; `set` data must not contain update operators (§2.6).
//! * the literal `'{openid}'` in a client filter means the caller's openid (security-rules
//!   style queries, §2.9);
//! * `createCollection` on an existing collection fails (`DATABASE_COLLECTION_ALREADY_EXIST`);
//! * transactions (server side only) hold the single writer. One that ran no operation for
//!   [`Database::TRANSACTION_IDLE_TIMEOUT`], or is older than [`Database::TRANSACTION_TIMEOUT`],
//!   is rolled back by the next request that needs the lock, including a write waiting for it:
//!   a function that died mid-transaction blocks writes for seconds, not until something else
//!   starts a transaction. At most [`Database::MAX_WAITING_WRITERS`] writes wait for an open
//!   transaction at once; further ones are answered `DATABASE_TRANSACTION_CONFLICT` at once
//!   (the error the SDK's `runTransaction` retries) instead of queueing.

use crate::db::aggregate::has_limit;
use crate::db::ejson::{resolve_server_dates, to_canonical_string};
use crate::db::error::{DbError, DbResult};
use crate::db::update::Update;
use crate::service::caller::Caller;
use crate::service::permissions::{Access, Permissions};
use crate::store::{Find, Store, StoreTxn, UpdateOpts, UpdateResult, new_id};
use bson::{Bson, Document};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// `database.startTransaction` (server side only). Reply: [`DbReply::TransactionStarted`];
    /// the SDK expects its id as a **top-level** `transactionId`, not inside `data`.
    StartTransaction,
    /// `database.commitTransaction`.
    CommitTransaction { id: String },
    /// `database.abortTransaction`.
    AbortTransaction { id: String },
    /// Any request carrying a `transactionId`: `Insert`, `Get`, `Count`, `Modify`,
    /// `ModifyAndReturn` or `Remove` run inside that transaction.
    InTransaction { id: String, op: Box<DbOp> },
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
    /// `database.addCollection` (always `created: true`; an existing collection is the error
    /// `DATABASE_COLLECTION_ALREADY_EXIST`, as in CloudBase).
    CollectionAdded { created: bool },
    /// A transaction was opened; put `id` in the reply's top-level `transactionId`.
    TransactionStarted { id: String },
    /// A transaction was committed or aborted.
    TransactionEnded,
}

type TxnSlot = Arc<parking_lot::Mutex<Option<Box<dyn StoreTxn>>>>;

/// An open transaction: the store transaction, when it began and when it was last used.
struct OpenTxn {
    slot: TxnSlot,
    begun: Instant,
    last_used: Instant,
}

/// The database service.
pub struct Database {
    store: Arc<dyn Store>,
    permissions: parking_lot::RwLock<Permissions>,
    clock: fn() -> i64,
    transactions: parking_lot::Mutex<HashMap<String, OpenTxn>>,
    /// Signalled when a transaction ends, for the writes waiting for it.
    txn_ended: parking_lot::Condvar,
    /// Writes waiting for an open transaction to end.
    waiting_writers: std::sync::atomic::AtomicUsize,
}

/// Where an operation runs: straight on the store, or inside an open transaction.
enum Exec<'a> {
    Store(&'a dyn Store),
    Txn(&'a mut dyn StoreTxn),
}

impl Exec<'_> {
    fn insert(&mut self, coll: &str, docs: Vec<Document>) -> DbResult<Vec<Bson>> {
        match self {
            Exec::Store(s) => s.insert(coll, docs),
            Exec::Txn(t) => t.insert(coll, docs),
        }
    }
    fn find(&mut self, coll: &str, find: &Find) -> DbResult<Vec<Document>> {
        match self {
            Exec::Store(s) => s.find(coll, find),
            Exec::Txn(t) => t.find(coll, find),
        }
    }
    fn count(&mut self, coll: &str, filter: &Document) -> DbResult<u64> {
        match self {
            Exec::Store(s) => s.count(coll, filter),
            Exec::Txn(t) => t.count(coll, filter),
        }
    }
    fn update(
        &mut self,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult> {
        match self {
            Exec::Store(s) => s.update(coll, filter, update, opts),
            Exec::Txn(t) => t.update(coll, filter, update, opts),
        }
    }
    fn remove(&mut self, coll: &str, filter: &Document, multi: bool) -> DbResult<u64> {
        match self {
            Exec::Store(s) => s.remove(coll, filter, multi),
            Exec::Txn(t) => t.remove(coll, filter, multi),
        }
    }
    fn store(&self) -> DbResult<&dyn Store> {
        match self {
            Exec::Store(s) => Ok(*s),
            Exec::Txn(_) => Err(DbError::invalid(
                "aggregate and addCollection cannot run inside a transaction",
            )),
        }
    }
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
            transactions: parking_lot::Mutex::new(HashMap::new()),
            txn_ended: parking_lot::Condvar::new(),
            waiting_writers: std::sync::atomic::AtomicUsize::new(0),
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

    /// How long a transaction may stay open in all before it is rolled back.
    pub const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(30);
    /// How long a transaction may go without an operation before it is rolled back (measured
    /// from the end of its last operation).
    pub const TRANSACTION_IDLE_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long a write waits for open transactions to end (or expire) before it is answered
    /// busy.
    pub const WRITE_WAIT: Duration = Duration::from_secs(10);
    /// Writes that may wait for an open transaction at once; one more is answered busy at once.
    /// Kept below the HTTP layer's write slots (`admin/database.rs`), so that a burst of
    /// writes behind a transaction drains as immediate busy answers instead of a queue.
    pub const MAX_WAITING_WRITERS: usize = 2;

    /// Run one operation for `caller`.
    pub fn execute(&self, caller: &Caller, op: DbOp) -> DbResult<DbReply> {
        self.expire_transactions();
        if takes_write_lock(&op) {
            self.wait_for_transactions()?;
        }
        let admin_only = |what: &str| match caller {
            Caller::Admin => Ok(()),
            Caller::Client { .. } | Caller::Anonymous { .. } => Err(DbError::PermissionDenied(
                format!("{what} is only available on the server side"),
            )),
        };
        match op {
            DbOp::StartTransaction => {
                admin_only("startTransaction")?;
                let txn = self.store.begin()?;
                let id = new_id();
                let now = Instant::now();
                self.transactions.lock().insert(
                    id.clone(),
                    OpenTxn {
                        slot: Arc::new(parking_lot::Mutex::new(Some(txn))),
                        begun: now,
                        last_used: now,
                    },
                );
                Ok(DbReply::TransactionStarted { id })
            }
            DbOp::CommitTransaction { id } => {
                admin_only("commitTransaction")?;
                self.take_transaction(&id)?.commit()?;
                Ok(DbReply::TransactionEnded)
            }
            DbOp::AbortTransaction { id } => {
                admin_only("abortTransaction")?;
                self.take_transaction(&id)?.abort()?;
                Ok(DbReply::TransactionEnded)
            }
            DbOp::InTransaction { id, op } => {
                admin_only("transactions")?;
                if matches!(
                    *op,
                    DbOp::StartTransaction
                        | DbOp::CommitTransaction { .. }
                        | DbOp::AbortTransaction { .. }
                        | DbOp::InTransaction { .. }
                ) {
                    return Err(DbError::invalid("transactions cannot be nested"));
                }
                let slot = self.touch(&id).ok_or_else(|| unknown_txn(&id))?;
                let mut guard = slot.lock();
                let txn = guard.as_mut().ok_or_else(|| unknown_txn(&id))?;
                let r = self.run(caller, *op, &mut Exec::Txn(txn.as_mut()));
                drop(guard);
                // Idle time counts from the end of the last operation.
                self.touch(&id);
                r
            }
            other => self.run(caller, other, &mut Exec::Store(self.store.as_ref())),
        }
    }

    /// Mark transaction `id` as used now; its slot, if it is open.
    fn touch(&self, id: &str) -> Option<TxnSlot> {
        let mut map = self.transactions.lock();
        let t = map.get_mut(id)?;
        t.last_used = Instant::now();
        Some(t.slot.clone())
    }

    fn take_transaction(&self, id: &str) -> DbResult<Box<dyn StoreTxn>> {
        let open = self
            .transactions
            .lock()
            .remove(id)
            .ok_or_else(|| unknown_txn(id))?;
        self.txn_ended.notify_all();
        let txn = open.slot.lock().take();
        txn.ok_or_else(|| unknown_txn(id))
    }

    /// Roll back transactions idle for [`Self::TRANSACTION_IDLE_TIMEOUT`] or open longer than
    /// [`Self::TRANSACTION_TIMEOUT`] (a cloud function that crashed mid-transaction must not
    /// hold the write lock). One running an operation right now is left alone.
    fn expire_transactions(&self) {
        let expired: Vec<Box<dyn StoreTxn>> = {
            let mut map = self.transactions.lock();
            let old: Vec<String> = map
                .iter()
                .filter(|(_, t)| {
                    t.last_used.elapsed() > Self::TRANSACTION_IDLE_TIMEOUT
                        || t.begun.elapsed() > Self::TRANSACTION_TIMEOUT
                })
                .map(|(k, _)| k.clone())
                .collect();
            let mut out = Vec::new();
            for k in old {
                // Busy with an operation (its slot is locked): not idle.
                let Some(mut guard) = map.get(&k).and_then(|t| t.slot.try_lock()) else {
                    continue;
                };
                let txn = guard.take();
                drop(guard);
                map.remove(&k);
                if let Some(txn) = txn {
                    tracing::warn!(transaction = %k, "rolled back an idle transaction");
                    out.push(txn);
                }
            }
            out
        };
        if !expired.is_empty() {
            for t in expired {
                let _ = t.abort();
            }
            self.txn_ended.notify_all();
        }
    }

    /// Before a write outside a transaction: wait (at most [`Self::WRITE_WAIT`]) until no
    /// transaction holds the write lock, rolling back the ones that went idle meanwhile, so
    /// the waiting write itself reclaims the lock from an abandoned transaction. Only
    /// [`Self::MAX_WAITING_WRITERS`] writes wait at once; the next is answered busy at once.
    fn wait_for_transactions(&self) -> DbResult<()> {
        use std::sync::atomic::Ordering;
        if self.transactions.lock().is_empty() {
            return Ok(());
        }
        let waiting = self.waiting_writers.fetch_add(1, Ordering::AcqRel);
        let _leave = scopeguard(|| {
            self.waiting_writers.fetch_sub(1, Ordering::AcqRel);
        });
        if waiting >= Self::MAX_WAITING_WRITERS {
            return Err(DbError::Transaction(format!(
                "the database is busy: a transaction holds the write lock and {waiting} writes \
                 are already waiting for it; retry later"
            )));
        }
        let deadline = Instant::now() + Self::WRITE_WAIT;
        loop {
            self.expire_transactions();
            let mut map = self.transactions.lock();
            if map.is_empty() {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DbError::Transaction(format!(
                    "the database is busy: a transaction held the write lock for the {} s this \
                     write waited; retry later",
                    Self::WRITE_WAIT.as_secs()
                )));
            }
            // Wake when a transaction ends, or when the first one may have gone idle.
            let next_idle = map
                .values()
                .map(|t| t.last_used + Self::TRANSACTION_IDLE_TIMEOUT)
                .min()
                .unwrap_or(deadline);
            let wake = next_idle
                .max(now + Duration::from_millis(10))
                .min(deadline)
                .min(now + Duration::from_millis(500));
            self.txn_ended.wait_until(&mut map, wake);
        }
    }

    fn run(&self, caller: &Caller, op: DbOp, exec: &mut Exec<'_>) -> DbResult<DbReply> {
        let now = (self.clock)();
        match op {
            DbOp::Insert {
                collection,
                mut docs,
            } => {
                if docs.is_empty() {
                    return Err(DbError::invalid("nothing to insert"));
                }
                if let Some(openid) = self.writer(caller, &collection)? {
                    for d in &mut docs {
                        // The client may not choose `_openid`: it is always the caller's.
                        d.insert("_openid", openid);
                    }
                }
                for d in &mut docs {
                    resolve_server_dates(d, now);
                }
                // A client may choose `_id` (cloud-api.md §2.8), so an insert (or a `doc.set`
                // upsert) can collide with a record the presets hide from it. It must stay an
                // error, and the outcome necessarily tells "this `_id` is taken": hiding even
                // that would mean refusing every chosen `_id`, which CloudBase allows. So the
                // answer is CloudBase's own, `DATABASE_DUPLICATE_WRITE` (its documented code for
                // a duplicate `_id`), with a message naming only the `_id` the caller sent: the
                // same whether the existing record is the caller's, another user's or an
                // admin's, and nothing of its content or owner.
                let ids = exec.insert(&collection, docs)?;
                Ok(DbReply::Inserted { ids })
            }
            DbOp::Get {
                collection,
                filter,
                order,
                offset,
                limit,
                projection,
            } => {
                let limit = self.read_limit(caller, limit);
                let filter = self.read_filter(caller, &collection, with_dates(filter, now))?;
                let list = exec.find(
                    &collection,
                    &Find {
                        filter,
                        sort: order,
                        skip: offset,
                        limit: Some(limit),
                        projection,
                    },
                )?;
                Ok(DbReply::Documents {
                    list,
                    offset,
                    limit,
                })
            }
            DbOp::Count { collection, filter } => {
                let filter = self.read_filter(caller, &collection, with_dates(filter, now))?;
                Ok(DbReply::Count {
                    total: exec.count(&collection, &filter)?,
                })
            }
            DbOp::Modify {
                collection,
                filter,
                mut data,
                multi,
                merge,
                upsert,
            } => {
                resolve_server_dates(&mut data, now);
                if merge && data.contains_key("_id") {
                    return Err(DbError::invalid("update data must not contain _id"));
                }
                let (filter, update) =
                    self.prepare_write(caller, &collection, with_dates(filter, now), data, merge)?;
                let r = exec.update(
                    &collection,
                    &filter,
                    &update,
                    UpdateOpts {
                        multi,
                        upsert,
                        return_doc: false,
                    },
                )?;
                Ok(DbReply::Modified {
                    matched: r.matched,
                    updated: r.updated,
                    upserted_id: r.upserted_id,
                })
            }
            DbOp::ModifyAndReturn {
                collection,
                filter,
                mut data,
            } => {
                resolve_server_dates(&mut data, now);
                if data.contains_key("_id") {
                    return Err(DbError::invalid("update data must not contain _id"));
                }
                let (filter, update) =
                    self.prepare_write(caller, &collection, with_dates(filter, now), data, true)?;
                let r = exec.update(
                    &collection,
                    &filter,
                    &update,
                    UpdateOpts {
                        multi: false,
                        upsert: false,
                        return_doc: true,
                    },
                )?;
                Ok(DbReply::ModifiedDoc {
                    updated: r.updated,
                    doc: r.doc,
                })
            }
            DbOp::Remove {
                collection,
                filter,
                multi,
            } => {
                let filter = with_dates(filter, now);
                let filter = match self.writer(caller, &collection)? {
                    None => filter,
                    Some(openid) => {
                        let mut filter = filter;
                        substitute_openid(&mut filter, openid);
                        and_openid(filter, openid)
                    }
                };
                Ok(DbReply::Removed {
                    deleted: exec.remove(&collection, &filter, multi)?,
                })
            }
            DbOp::Aggregate {
                collection,
                mut stages,
            } => {
                for st in &mut stages {
                    resolve_server_dates(st, now);
                }
                if caller.is_client() {
                    let openid = openid_of(caller);
                    // `$lookup` reads another collection: a client may only join collections
                    // everyone can read (the implicit `_openid` filter cannot reach inside it).
                    for st in &stages {
                        if let Some(Bson::Document(l)) = st.get("$lookup") {
                            let from = l.get_str("from").unwrap_or_default();
                            if self.permissions.read().preset(from).read() != Access::All {
                                return Err(DbError::PermissionDenied(format!(
                                    "$lookup from collection {from} needs it to be readable by all users"
                                )));
                            }
                        }
                    }
                    match self.client_read(caller, &collection) {
                        Access::All => {}
                        Access::Own => {
                            let mut m = Document::new();
                            m.insert("$match", doc_openid(openid));
                            stages.insert(0, m);
                        }
                        Access::Denied => {
                            return Err(DbError::PermissionDenied(format!(
                                "no read permission on collection {collection}"
                            )));
                        }
                    }
                }
                if !has_limit(&stages) {
                    let mut l = Document::new();
                    l.insert("$limit", Self::AGGREGATE_DEFAULT_LIMIT as i64);
                    stages.push(l);
                }
                Ok(DbReply::Aggregated {
                    list: exec.store()?.aggregate(&collection, &stages)?,
                })
            }
            DbOp::StartTransaction
            | DbOp::CommitTransaction { .. }
            | DbOp::AbortTransaction { .. }
            | DbOp::InTransaction { .. } => Err(DbError::invalid("transactions cannot be nested")),
            DbOp::AddCollection { collection } => {
                if caller.is_client() {
                    return Err(DbError::PermissionDenied(
                        "collections can only be created from the server side".into(),
                    ));
                }
                // Real createCollection fails when the collection exists.
                if !exec.store()?.create_collection(&collection)? {
                    return Err(DbError::CollectionExists(collection));
                }
                Ok(DbReply::CollectionAdded { created: true })
            }
        }
    }

    fn read_limit(&self, caller: &Caller, limit: Option<u64>) -> u64 {
        let (default, max) = match caller {
            Caller::Admin => (Self::ADMIN_DEFAULT_LIMIT, Self::ADMIN_MAX_LIMIT),
            Caller::Client { .. } | Caller::Anonymous { .. } => {
                (Self::CLIENT_LIMIT, Self::CLIENT_LIMIT)
            }
        };
        match limit {
            None | Some(0) => default,
            Some(n) => n.min(max),
        }
    }

    fn read_filter(&self, caller: &Caller, coll: &str, mut filter: Document) -> DbResult<Document> {
        if !caller.is_client() {
            return Ok(filter);
        }
        let openid = openid_of(caller);
        substitute_openid(&mut filter, openid);
        match self.client_read(caller, coll) {
            Access::All => Ok(filter),
            Access::Own => Ok(and_openid(filter, openid)),
            Access::Denied => Err(DbError::PermissionDenied(format!(
                "no read permission on collection {coll}"
            ))),
        }
    }

    /// A client's read access to `coll`: its preset's, except that a caller who has not
    /// signed in reads only what every user may read.
    fn client_read(&self, caller: &Caller, coll: &str) -> Access {
        match (caller, self.permissions.read().preset(coll).read()) {
            (Caller::Anonymous { .. }, Access::Own) => Access::Denied,
            (_, access) => access,
        }
    }

    /// Who a write to `coll` is restricted to: `None` for the server side, the caller's openid
    /// for a client whose preset allows writes; an error for the others (a caller who has not
    /// signed in never writes).
    fn writer<'c>(&self, caller: &'c Caller, coll: &str) -> DbResult<Option<&'c str>> {
        let denied = || {
            Err(DbError::PermissionDenied(format!(
                "no write permission on collection {coll}"
            )))
        };
        match caller {
            Caller::Admin => Ok(None),
            Caller::Anonymous { .. } => denied(),
            Caller::Client { openid, .. } => match self.permissions.read().preset(coll).write() {
                Access::Denied => denied(),
                _ => Ok(Some(openid)),
            },
        }
    }

    fn prepare_write(
        &self,
        caller: &Caller,
        coll: &str,
        filter: Document,
        mut data: Document,
        merge: bool,
    ) -> DbResult<(Document, Update)> {
        match self.writer(caller, coll)? {
            None => Ok((filter, Update::from_data(data, merge)?)),
            Some(openid) => {
                let mut filter = filter;
                substitute_openid(&mut filter, openid);
                if !merge {
                    // A client `set` keeps the record the caller's.
                    data.insert("_openid", openid);
                }
                let update = Update::from_data(data, merge)?;
                if merge && update.touches("_openid") {
                    return Err(DbError::PermissionDenied(
                        "_openid cannot be modified".into(),
                    ));
                }
                Ok((and_openid(filter, openid), update))
            }
        }
    }
}

/// The openid of a client caller; empty for one who has not signed in (and for the server side,
/// which never asks).
fn openid_of(caller: &Caller) -> &str {
    match caller {
        Caller::Client { openid, .. } => openid,
        Caller::Admin | Caller::Anonymous { .. } => "",
    }
}

/// Replace the literal string `'{openid}'` with the caller's openid anywhere in a client
/// filter, as CloudBase does for queries written against security rules
/// (`where({_openid: '{openid}'})`, cloud-api.md §2.9).
fn substitute_openid(filter: &mut Document, openid: &str) {
    fn walk(v: &mut Bson, openid: &str) {
        match v {
            Bson::String(s) if s == "{openid}" => *s = openid.to_string(),
            Bson::Document(d) => d.iter_mut().for_each(|(_, x)| walk(x, openid)),
            Bson::Array(a) => a.iter_mut().for_each(|x| walk(x, openid)),
            _ => {}
        }
    }
    filter.iter_mut().for_each(|(_, x)| walk(x, openid));
}

/// Filters may carry `db.serverDate()` too (e.g. `_.lt(db.serverDate())`).
fn with_dates(mut filter: Document, now: i64) -> Document {
    resolve_server_dates(&mut filter, now);
    filter
}

fn unknown_txn(id: &str) -> DbError {
    DbError::invalid(format!(
        "transaction {id} does not exist or has ended (a transaction without an operation for {} s is rolled back)",
        Database::TRANSACTION_IDLE_TIMEOUT.as_secs()
    ))
}

/// Whether `op`, run outside a transaction, needs the single writer.
fn takes_write_lock(op: &DbOp) -> bool {
    matches!(
        op,
        DbOp::Insert { .. }
            | DbOp::Modify { .. }
            | DbOp::ModifyAndReturn { .. }
            | DbOp::Remove { .. }
            | DbOp::AddCollection { .. }
            | DbOp::StartTransaction
    )
}

/// Run `f` when the returned guard is dropped.
fn scopeguard<F: FnOnce()>(f: F) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

fn doc_openid(openid: &str) -> Document {
    let mut d = Document::new();
    d.insert("_openid", openid.to_string());
    d
}

/// `filter AND _openid == openid` (the implicit condition of the presets).
fn and_openid(filter: Document, openid: &str) -> Document {
    if filter.is_empty() {
        return doc_openid(openid);
    }
    let mut d = Document::new();
    d.insert(
        "$and",
        vec![Bson::Document(filter), Bson::Document(doc_openid(openid))],
    );
    d
}

impl DbReply {
    /// The `data` object of the `/admin` reply, as the SDKs read it
    /// (sdk-wire-protocol.md §3.1): documents become canonical EJSON strings.
    pub fn to_wire_data(&self) -> serde_json::Value {
        use serde_json::{Value, json};
        let ids = |v: &Bson| v.clone().into_relaxed_extjson();
        match self {
            DbReply::Inserted { ids: list } => {
                json!({ "insertedIds": list.iter().map(ids).collect::<Vec<_>>() })
            }
            DbReply::Documents {
                list,
                offset,
                limit,
            } => json!({
                "list": list.iter().map(to_canonical_string).collect::<Vec<_>>(),
                "offset": offset,
                "limit": limit,
            }),
            DbReply::Count { total } => json!({ "total": total }),
            DbReply::Modified {
                updated,
                upserted_id,
                ..
            } => {
                let mut m = serde_json::Map::new();
                m.insert("updated".into(), json!(updated));
                if let Some(id) = upserted_id {
                    m.insert("upsert_id".into(), ids(id));
                }
                Value::Object(m)
            }
            DbReply::ModifiedDoc { updated, doc } => json!({
                "updated": updated,
                "doc": doc.as_ref().map(to_canonical_string),
            }),
            DbReply::Removed { deleted } => json!({ "deleted": deleted }),
            DbReply::Aggregated { list } => json!({
                "list": list.iter().map(to_canonical_string).collect::<Vec<_>>(),
            }),
            DbReply::CollectionAdded { .. } => json!({}),
            DbReply::TransactionStarted { .. } | DbReply::TransactionEnded => json!({}),
        }
    }
}
