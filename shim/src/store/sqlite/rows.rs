//! Document rows: one row per document in `docs` (the body as BSON bytes, `_id` and `_openid`
//! beside it) with its entries in `idx`, one per key of each declared index. Every write of a
//! document goes through here, so the index entries always match the body.

use super::schema::CollMeta;
use crate::db::error::{DbError, DbResult};
use crate::db::fields::lookup_all;
use crate::db::keys;
use crate::db::value::id_display;
use crate::store::interface::OPENID_ARRAY;
use bson::{Bson, Document, RawDocument};
use rusqlite::{Connection, params};
use std::collections::BTreeSet;

/// A stored document body (BSON bytes) decoded.
pub(super) fn decode(bytes: &[u8]) -> DbResult<Document> {
    let raw = RawDocument::from_bytes(bytes).map_err(DbError::internal)?;
    Document::try_from(raw).map_err(DbError::internal)
}

/// A document as stored BSON bytes; a document BSON cannot hold is `INVALID_PARAM`.
fn encode_doc(doc: &Document) -> DbResult<Vec<u8>> {
    // Checked before encoding: a body too deep could not be decoded again.
    crate::db::limits::check_depth("the document", doc)?;
    doc.to_vec()
        .map_err(|e| DbError::invalid(format!("document cannot be stored: {e}")))
}

/// The `openid` column of a document: its string `_openid`, the array marker
/// ([`OPENID_ARRAY`]), or none.
pub(super) fn openid_of(doc: &Document) -> Option<&str> {
    match doc.get("_openid") {
        Some(Bson::String(s)) => Some(s.as_str()),
        Some(Bson::Array(_)) => Some(OPENID_ARRAY),
        _ => None,
    }
}

/// Index keys of `doc` for `path`: each value (array elements each), null when missing.
pub(super) fn index_keys(doc: &Document, path: &str) -> BTreeSet<Vec<u8>> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut vals = Vec::new();
    lookup_all(doc, &parts, &mut vals);
    let mut out = BTreeSet::new();
    for v in vals {
        match v {
            Bson::Array(a) if a.is_empty() => {
                out.insert(keys::encode(&Bson::Null));
            }
            Bson::Array(a) => {
                for e in a {
                    out.insert(keys::encode(e));
                }
            }
            other => {
                out.insert(keys::encode(other));
            }
        }
    }
    if out.is_empty() {
        out.insert(keys::encode(&Bson::Null));
    }
    out
}

/// Flag an index as multikey (before the entries are written, so a concurrent planner that
/// could see them also sees the flag).
fn note_multikey(conn: &Connection, meta: &CollMeta, iid: i64, keys: usize) -> DbResult<()> {
    if keys > 1 && !meta.multikey.read().contains(&iid) {
        meta.multikey.write().insert(iid);
        conn.prepare_cached("UPDATE indexes SET multikey = 1 WHERE iid = ?1")?
            .execute(params![iid])?;
    }
    Ok(())
}

/// Insert one document (with its `_id`) and its index entries; returns its `seq`.
pub(super) fn insert_one(conn: &Connection, meta: &CollMeta, doc: &Document) -> DbResult<i64> {
    let id = doc
        .get("_id")
        .ok_or_else(|| DbError::internal("document without _id"))?;
    if matches!(id, Bson::Array(_) | Bson::Null | Bson::RegularExpression(_)) {
        return Err(DbError::invalid(
            "_id must not be an array, null or a regex",
        ));
    }
    let body = encode_doc(doc)?;
    let mut st =
        conn.prepare_cached("INSERT INTO docs(cid, id, openid, body) VALUES (?1, ?2, ?3, ?4)")?;
    match st.execute(params![meta.cid, keys::encode(id), openid_of(doc), body]) {
        Ok(_) => {}
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(DbError::DuplicateId(id_display(id)));
        }
        Err(e) => return Err(e.into()),
    }
    let seq = conn.last_insert_rowid();
    let mut ist =
        conn.prepare_cached("INSERT OR IGNORE INTO idx(iid, key, seq) VALUES (?1, ?2, ?3)")?;
    for (path, iid) in &meta.indexes {
        let ks = index_keys(doc, path);
        note_multikey(conn, meta, *iid, ks.len())?;
        for k in ks {
            ist.execute(params![iid, k, seq])?;
        }
    }
    Ok(seq)
}

/// Replace the document in row `seq` (`old` is what it held), updating the index entries that
/// changed.
pub(super) fn replace_row(
    conn: &Connection,
    meta: &CollMeta,
    seq: i64,
    old: &Document,
    new: &Document,
) -> DbResult<()> {
    let body = encode_doc(new)?;
    conn.prepare_cached("UPDATE docs SET openid = ?1, body = ?2 WHERE seq = ?3")?
        .execute(params![openid_of(new), body, seq])?;
    let mut del =
        conn.prepare_cached("DELETE FROM idx WHERE iid = ?1 AND key = ?2 AND seq = ?3")?;
    let mut ins =
        conn.prepare_cached("INSERT OR IGNORE INTO idx(iid, key, seq) VALUES (?1, ?2, ?3)")?;
    for (path, iid) in &meta.indexes {
        let (ok, nk) = (index_keys(old, path), index_keys(new, path));
        note_multikey(conn, meta, *iid, nk.len())?;
        for k in ok.difference(&nk) {
            del.execute(params![iid, k, seq])?;
        }
        for k in nk.difference(&ok) {
            ins.execute(params![iid, k, seq])?;
        }
    }
    Ok(())
}

/// Replace the body of row `seq` when its old body cannot be decoded (too deep): its index
/// entries are found by `seq` instead of by the old keys.
pub(super) fn replace_unreadable_row(
    conn: &Connection,
    meta: &CollMeta,
    seq: i64,
    new: &Document,
) -> DbResult<()> {
    let body = encode_doc(new)?;
    conn.prepare_cached("UPDATE docs SET openid = ?1, body = ?2 WHERE seq = ?3")?
        .execute(params![openid_of(new), body, seq])?;
    conn.prepare_cached("DELETE FROM idx WHERE seq = ?1")?
        .execute(params![seq])?;
    let mut ins =
        conn.prepare_cached("INSERT OR IGNORE INTO idx(iid, key, seq) VALUES (?1, ?2, ?3)")?;
    for (path, iid) in &meta.indexes {
        let nk = index_keys(new, path);
        note_multikey(conn, meta, *iid, nk.len())?;
        for k in nk {
            ins.execute(params![iid, k, seq])?;
        }
    }
    Ok(())
}

/// Delete row `seq` (`old` is what it held) and its index entries.
pub(super) fn delete_row(
    conn: &Connection,
    meta: &CollMeta,
    seq: i64,
    old: &Document,
) -> DbResult<()> {
    conn.prepare_cached("DELETE FROM docs WHERE seq = ?1")?
        .execute(params![seq])?;
    let mut del =
        conn.prepare_cached("DELETE FROM idx WHERE iid = ?1 AND key = ?2 AND seq = ?3")?;
    for (path, iid) in &meta.indexes {
        for k in index_keys(old, path) {
            del.execute(params![iid, k, seq])?;
        }
    }
    Ok(())
}
