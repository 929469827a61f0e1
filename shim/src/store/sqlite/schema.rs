//! The SQLite schema and what is read from it at start: the tables (see the module doc of
//! [`super`]), the migration of files written by earlier versions, the connection settings,
//! and the catalog of collections and their indexes ([`CollMeta`]).

use crate::db::error::{DbError, DbResult};
use crate::store::interface::OPENID_ARRAY;
use parking_lot::RwLock;
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::Arc;

/// What the catalog tables say about one collection.
#[derive(Debug, Clone)]
pub(super) struct CollMeta {
    pub(super) cid: i64,
    /// (path, iid)
    pub(super) indexes: Vec<(String, i64)>,
    /// Indexes where some document has several keys (an array value): range bounds on them
    /// cannot be combined into one key range. Shared by every clone of this metadata.
    pub(super) multikey: Arc<RwLock<std::collections::HashSet<i64>>>,
}

/// The tables and indexes (`IF NOT EXISTS`: run on every open).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS collections(cid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS indexes(iid INTEGER PRIMARY KEY, cid INTEGER NOT NULL, path TEXT NOT NULL, multikey INTEGER NOT NULL DEFAULT 0, UNIQUE(cid, path));
CREATE TABLE IF NOT EXISTS docs(seq INTEGER PRIMARY KEY, cid INTEGER NOT NULL, id BLOB NOT NULL, openid TEXT, body BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS docs_id ON docs(cid, id);
CREATE INDEX IF NOT EXISTS docs_openid ON docs(cid, openid);
CREATE INDEX IF NOT EXISTS docs_cid ON docs(cid);
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idx(iid INTEGER NOT NULL, key BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY(iid, key, seq)) WITHOUT ROWID;
";

/// Settings of the writer connection: WAL, `synchronous=FULL`, a busy timeout, and [`tune`].
pub(super) fn configure(c: &Connection) -> DbResult<()> {
    c.busy_timeout(std::time::Duration::from_secs(10))?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "synchronous", "FULL")?;
    c.pragma_update(None, "foreign_keys", "OFF")?;
    tune(c)
}

/// Per-connection read tuning: memory-mapped I/O (no read() syscall per page) and a larger
/// page cache.
pub(super) fn tune(c: &Connection) -> DbResult<()> {
    c.set_prepared_statement_cache_capacity(64);
    c.pragma_update(None, "mmap_size", 1i64 << 30)?;
    c.pragma_update(None, "cache_size", -32_000i64)?;
    Ok(())
}

/// Create the tables of a new file, or bring an existing file up to date.
pub(super) fn create_or_migrate(writer: &Connection) -> DbResult<()> {
    writer.execute_batch(SCHEMA)?;
    // Files from before the multikey flag: mark their indexes multikey (always safe).
    let has_flag = writer
        .prepare("SELECT 1 FROM pragma_table_info('indexes') WHERE name = 'multikey'")?
        .exists([])?;
    if !has_flag {
        writer
            .execute_batch("ALTER TABLE indexes ADD COLUMN multikey INTEGER NOT NULL DEFAULT 1")?;
    }
    // Files from before version 1 left the `openid` column empty for an array `_openid`, so
    // `_openid` lookups missed those documents: give them the marker (once per file).
    let version: i64 = writer.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 1 {
        let tx = writer.unchecked_transaction()?;
        let mut arrays = Vec::new();
        {
            let mut st = tx.prepare("SELECT seq, body FROM docs WHERE openid IS NULL")?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                let body = r.get_ref(1)?.as_blob().map_err(DbError::internal)?;
                let is_array = bson::RawDocument::from_bytes(body)
                    .ok()
                    .and_then(|d| d.get("_openid").ok().flatten())
                    .is_some_and(|v| v.element_type() == bson::spec::ElementType::Array);
                if is_array {
                    arrays.push(r.get::<_, i64>(0)?);
                }
            }
        }
        let mut st = tx.prepare("UPDATE docs SET openid = ?1 WHERE seq = ?2")?;
        for seq in arrays {
            st.execute(rusqlite::params![OPENID_ARRAY, seq])?;
        }
        drop(st);
        tx.execute_batch("PRAGMA user_version = 1")?;
        tx.commit()?;
    }
    Ok(())
}

/// The collections and their indexes, by collection name.
pub(super) fn load_catalog(conn: &Connection) -> DbResult<HashMap<String, CollMeta>> {
    let mut m = HashMap::new();
    let mut st = conn.prepare("SELECT cid, name FROM collections")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (cid, name) = row?;
        m.insert(
            name,
            CollMeta {
                cid,
                indexes: Vec::new(),
                multikey: Arc::default(),
            },
        );
    }
    let mut st = conn.prepare(
        "SELECT i.iid, i.path, c.name, i.multikey FROM indexes i JOIN collections c ON c.cid = i.cid",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, bool>(3)?,
        ))
    })?;
    for row in rows {
        let (iid, path, name, multi) = row?;
        if let Some(c) = m.get_mut(&name) {
            c.indexes.push((path, iid));
            if multi {
                c.multikey.write().insert(iid);
            }
        }
    }
    Ok(m)
}
