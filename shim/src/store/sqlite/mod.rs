//! The embedded store: one SQLite file (rusqlite, bundled SQLite).
//!
//! Schema: `collections(cid, name)`, `indexes(iid, cid, path)`, one `docs` table
//! (`seq` rowid = natural order, `cid`, `id` = order-preserving key of `_id`, `openid` = the
//! string `_openid` or, for an array, a marker that every `_openid` lookup also reads, `body`
//! = the document as BSON bytes) with a unique index on `(cid, id)` and an index on
//! `(cid, openid)`, and `idx(iid, key, seq)` holding one row per value of a declared index
//! field per document (array elements each; a missing field as null), keys encoded by
//! `db/keys.rs` so that SQL byte order is MongoDB order.
//!
//! Planner: `_id` equality/`$in` → primary lookups; equality/`$in` on a declared index or on
//! `_openid` → index lookups; range or anchored regex (`/^abc/`) on a declared index → index
//! range (bounds intersected per document on multikey indexes); a sort whose first key is a
//! declared index → index-ordered walk that stops once skip+limit results (and the rest of
//! their first-key group) are found; otherwise a scan of the collection, where top-level
//! scalar conditions reject documents on their raw BSON before decoding. The full filter
//! always runs in Rust after the SQL prefilter.
//!
//! Durability and concurrency: WAL with `synchronous=FULL` (an acknowledged write survives a
//! crash or power loss); one writer connection behind a mutex, with group commit (concurrent
//! writes share one transaction and one fsync, each in its own savepoint, each answered once
//! the commit holding it has returned: `txn.rs`), a pool of read connections for
//! parallel reads plus one kept for reads by a single `_id` (slow scans holding every pooled
//! reader never block a point read); prepared statements are cached per connection. Queries
//! and pipelines run under the budgets of `db/limits.rs` (time, memory, document size).
//!
//! Files: `schema.rs` (tables, migration, connection settings, the catalog), `rows.rs` (a
//! document's row and index entries), `planner.rs` (which rows a query reads), `scan.rs` (the
//! SQL that reads them), `ops.rs` (find, count, insert, update, remove on one connection),
//! `txn.rs` (read, write and open transactions), `store.rs` ([`SqliteStore`] and its
//! [`Store`](crate::store::Store) implementation).

mod ops;
mod planner;
mod rows;
mod scan;
mod schema;
mod store;
mod txn;

pub use scan::PlanStats;
pub use store::{SqliteStore, validate_collection_name};
