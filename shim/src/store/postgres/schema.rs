//! The PostgreSQL schema: the tables (see the module doc of [`super`]), their creation on
//! every connect under an advisory lock, the advisory lock keys, the names and DDL of the
//! indexes declared with `ensure_index`, and the sweep of indexes left by dropped collections.

use super::conn::PgConn;
use crate::db::error::{DbError, DbResult};

/// The version of the tables this code writes (`shim_meta.schema_version`).
pub(super) const SCHEMA_VERSION: i64 = 1;

/// The first key of the store's two-key advisory locks ("shim").
const LOCK_NS: i32 = 0x7368_696d;
/// Second keys: schema creation, and the lock every open transaction holds.
const LOCK_SCHEMA: i32 = 0;
const LOCK_TXN: i32 = 1;

/// `SELECT pg_advisory_xact_lock(...)` of the transaction lock (taken by `begin()` and by
/// `ensure_index`, before any collection lock).
pub(super) fn txn_lock_sql() -> String {
    format!("SELECT pg_advisory_xact_lock({LOCK_NS}, {LOCK_TXN})")
}

/// The one-key advisory lock of a collection name: 64 bits of a hash of the name. (One-key
/// and two-key advisory locks never conflict.) Two names sharing a key only serialise their
/// writes together.
pub(super) fn coll_lock_key(name: &str) -> i64 {
    let h = blake3::hash(format!("migrate-shim collection {name}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    i64::from_be_bytes(b)
}

/// `SELECT pg_advisory_xact_lock(key)` for a collection name.
pub(super) fn coll_lock_sql(name: &str) -> String {
    format!("SELECT pg_advisory_xact_lock({})", coll_lock_key(name))
}

/// A string literal (the session has `standard_conforming_strings = on`). `None` for text
/// holding NUL, which PostgreSQL text cannot.
pub(super) fn literal(s: &str) -> Option<String> {
    (!s.contains('\0')).then(|| format!("'{}'", s.replace('\'', "''")))
}

/// `SELECT cid FROM shim_collections WHERE name = '...'`.
pub(super) fn cid_sql(name: &str) -> DbResult<String> {
    let lit = literal(name).ok_or_else(|| DbError::CollectionNotExist(name.to_string()))?;
    Ok(format!(
        "SELECT cid FROM shim_collections WHERE name = {lit}"
    ))
}

/// The tables and their indexes (`IF NOT EXISTS`: run on every connect).
const DDL: &str = "
CREATE TABLE IF NOT EXISTS shim_meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS shim_collections(cid bigserial PRIMARY KEY, name text NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS shim_indexes(iid bigserial PRIMARY KEY,
    cid bigint NOT NULL REFERENCES shim_collections(cid) ON DELETE CASCADE,
    path text NOT NULL, UNIQUE(cid, path));
CREATE TABLE IF NOT EXISTS shim_docs(seq bigserial PRIMARY KEY, cid bigint NOT NULL,
    id bytea NOT NULL, openid text, body bytea NOT NULL, j jsonb NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS shim_docs_id ON shim_docs(cid, id);
CREATE INDEX IF NOT EXISTS shim_docs_openid ON shim_docs(cid, openid);
CREATE INDEX IF NOT EXISTS shim_docs_cid_seq ON shim_docs(cid, seq);
";

/// Create the tables if needed (serialised between processes by an advisory lock: two
/// concurrent `CREATE TABLE IF NOT EXISTS` of one table can fail) and check that they are of
/// a version this code knows.
pub(super) fn create(conn: &mut PgConn) -> DbResult<()> {
    let v: i64 = conn
        .query("SELECT current_setting('server_version_num')::bigint", &[])?
        .first()
        .map(|r| r.get(0))
        .unwrap_or(0);
    if v < 110000 {
        return Err(DbError::internal(format!(
            "PostgreSQL {v} is too old: the store needs PostgreSQL 11 or later"
        )));
    }
    let sql = format!(
        "BEGIN; SELECT pg_advisory_xact_lock({LOCK_NS}, {LOCK_SCHEMA}); {DDL}
         INSERT INTO shim_meta VALUES ('schema_version', '{SCHEMA_VERSION}') ON CONFLICT DO NOTHING;
         COMMIT"
    );
    if let Err(e) = conn.batch(&sql) {
        conn.rollback();
        return Err(e);
    }
    let rows = conn.query(
        "SELECT value FROM shim_meta WHERE key = 'schema_version'",
        &[],
    )?;
    let found: i64 = rows
        .first()
        .and_then(|r| r.get::<_, String>(0).parse().ok())
        .unwrap_or(0);
    if found > SCHEMA_VERSION {
        return Err(DbError::internal(format!(
            "the database holds store tables of version {found}, newer than this version of \
             migrate knows ({SCHEMA_VERSION}): upgrade migrate"
        )));
    }
    Ok(())
}

/// The name of the PostgreSQL index that serves the declared indexes of collection `cid`
/// whose paths start with `first` (one per collection and first path component).
pub(super) fn index_name(cid: i64, first: &str) -> String {
    let h = blake3::hash(first.as_bytes());
    format!("shim_ix_{cid}_{}", hex::encode(&h.as_bytes()[..8]))
}

/// The DDL of that index: a GIN `jsonb_path_ops` index on the value of the first path
/// component, partial to the collection (the planner's containment tests are written on
/// exactly this expression). Without `fastupdate`: new entries go into the index at once
/// instead of a pending list that every lookup would scan until the next vacuum.
pub(super) fn index_ddl(cid: i64, first: &str) -> Option<String> {
    let key = literal(first)?;
    Some(format!(
        "CREATE INDEX IF NOT EXISTS {} ON shim_docs USING gin ((j -> {key}) jsonb_path_ops) \
         WITH (fastupdate = off) WHERE cid = {cid}",
        index_name(cid, first)
    ))
}

/// Drop the indexes of collections that no longer exist, without blocking other sessions
/// (`DROP INDEX CONCURRENTLY`, which cannot run in a transaction). Best effort: an index left
/// behind is empty (its collection's `cid` is never used again) and is retried next time.
pub(super) fn sweep_orphan_indexes(conn: &mut PgConn) {
    let rows = match conn.query(
        "SELECT i.indexname::text FROM pg_indexes i \
         WHERE i.schemaname = current_schema() AND i.tablename = 'shim_docs' \
           AND i.indexname LIKE 'shim\\_ix\\_%' \
           AND NOT EXISTS (SELECT 1 FROM shim_collections c \
                           WHERE i.indexname LIKE 'shim\\_ix\\_' || c.cid || '\\_%')",
        &[],
    ) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(
                "postgres store: listing orphan indexes failed: {}",
                e.detail()
            );
            return;
        }
    };
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    if names.is_empty() {
        return;
    }
    if conn.batch("SET lock_timeout = '1s'").is_err() {
        return;
    }
    for n in names {
        // Names are ours (shim_ix_<digits>_<hex>): safe to inline.
        if !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if let Err(e) = conn.batch(&format!("DROP INDEX CONCURRENTLY IF EXISTS {n}")) {
            tracing::debug!("postgres store: dropping index {n} failed: {}", e.detail());
        }
    }
    let _ = conn.batch("RESET lock_timeout");
}
