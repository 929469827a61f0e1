//! The PostgreSQL store (sync `postgres` client, r2d2 pools): the same documents and the same
//! semantics as the SQLite store, on a database several shim processes may share.
//!
//! Schema (created on every connect with `IF NOT EXISTS`, under an advisory lock so that two
//! processes connecting at once do not race): `shim_meta(key, value)` with the schema version,
//! `shim_collections(cid, name)`, `shim_indexes(iid, cid, path)` (the declared indexes), and one
//! `shim_docs` table: `seq bigserial` (natural order), `cid`, `id bytea` (the order-preserving
//! key of `_id`, `db/keys.rs`, unique per collection), `openid text` (the string `_openid`;
//! a marker when it is an array), `body bytea` (the exact BSON document: types, key order,
//! int vs double survive) and `j jsonb`, a projection of the body used only to prefilter
//! (`json.rs`: equal values project to equal `jsonb`). Indexes: unique `(cid, id)`,
//! `(cid, openid)`, `(cid, seq)`. A declared index on `a.b.c` becomes a GIN `jsonb_path_ops`
//! index on `(j -> 'a')` partial to its collection (`WHERE cid = N`; one per collection and
//! first path component, `fastupdate = off` so lookups never scan a pending list), created in
//! the `ensure_index` transaction (it blocks writes to `shim_docs` while it builds); dropping a collection drops its indexes afterwards with
//! `DROP INDEX CONCURRENTLY` (best effort, retried on the next connect). The collection's
//! `cid` is written into the SQL as a constant so that the planner can match those partial
//! indexes.
//!
//! Pushdown (`planner.rs`): the top-level conjuncts of a filter become an SQL prefilter that
//! keeps a superset of the matches:
//! `_id` equality or `$in` (not arrays, not null) → `id = ANY(keys)` on the unique index;
//! `_openid` equality on a string → `openid = ANY([openid, array marker])` on `(cid, openid)`
//! (documents whose `_openid` is an array carry the marker, as an equality may match an
//! element; the SQLite store does the same);
//! equality or `$in` on any other path with scalar values (numbers, strings, booleans,
//! ObjectIds, dates; not null, which also matches a missing field) →
//! `(j -> 'first') @> ANY(patterns)`, the patterns spelling out MongoDB's traversal of the rest
//! of the path (a key of a document, of the documents in an array, a position in an array; the
//! value itself or an array holding it), which a declared index on that first component
//! answers. Everything else (ranges, regexes, `$ne`, `$or`, `$expr`, geo, null) is not pushed
//! down: those queries read the collection in `seq` order. The full filter, sort, skip, limit
//! and projection always run in Rust afterwards with the `crate::db` engine, under the
//! budgets of `db/limits.rs`, so results are those of the SQLite store; rows come through a
//! cursor fetched in growing batches, so a `limit` without a sort stops reading early (a
//! prefiltered cursor is planned for all its rows, to look its candidates up in an index; a
//! collection scan for its first rows).
//!
//! Transactions and concurrency (`txn.rs`): a read runs in one REPEATABLE READ, READ ONLY
//! snapshot (an `_id` lookup in a single statement that also reads the catalog); a write in
//! one READ COMMITTED transaction holding an advisory lock per collection name, so writes to a
//! collection are serialised across processes as SQLite's single writer serialises them
//! (multi updates, upserts, duplicate ids behave the same); `begin()` takes a global advisory
//! lock, then each collection's lock as it first touches it, reads included (the deadlock
//! argument is in `txn.rs`). Writes outside an open transaction wait for its collections for up
//! to [`WRITE_WAIT`] (`lock_timeout`), then fail with `DATABASE_TRANSACTION_CONFLICT`; reads
//! outside it see the state before it. The catalog is read by every operation (in its snapshot
//! or under its lock), never cached, so stores on one database see each other's collections and
//! writes at once. Commits are durable: every session sets `synchronous_commit = on`.
//! Reads and writes use separate pools (4 + 4 connections by default), so writers waiting on a
//! lock never starve reads.
//!
//! Files: `conn.rs` (connections, the statement cache, error mapping, URL redaction),
//! `schema.rs` (tables, lock keys, index DDL), `json.rs` (the `jsonb` projection and the
//! containment patterns), `planner.rs` (the SQL prefilter), `rows.rs` (a document's row,
//! batched insert/replace/delete), `scan.rs` (the cursor that reads candidates, [`PgStats`]),
//! `ops.rs` (find, count, insert, update, remove, seed upsert on one connection), `txn.rs`
//! (read, write and open transactions, the locks), `store.rs` ([`PostgresStore`] and its
//! [`Store`](crate::store::Store) implementation).

mod conn;
mod json;
mod ops;
mod planner;
mod rows;
mod scan;
mod schema;
mod store;
mod txn;

pub use conn::redact;
pub use scan::PgStats;
pub use store::{PostgresStore, WRITE_WAIT};
