//! Document rows: one row per document in `shim_docs` (the body as BSON bytes, its `jsonb`
//! projection, the key of `_id` and the `_openid` beside it). Every write of a document goes
//! through here, so the columns always agree with the body.

use super::conn::PgConn;
use super::json::doc_json;
use crate::db::error::{DbError, DbResult};
use crate::db::keys;
use crate::db::value::id_display;
use bson::{Bson, Document, RawDocument};
use serde_json::Value;
use std::collections::HashSet;

use crate::store::interface::OPENID_ARRAY;

/// Rows written by one statement at most (and about this many bytes of bodies).
const CHUNK_ROWS: usize = 1000;
const CHUNK_BYTES: usize = 32 << 20;

/// A stored body (BSON bytes) decoded.
pub(super) fn decode(bytes: &[u8]) -> DbResult<Document> {
    let raw = RawDocument::from_bytes(bytes).map_err(DbError::internal)?;
    Document::try_from(raw).map_err(DbError::internal)
}

/// The `openid` column: the string `_openid`, the array marker, or none.
fn openid_of(doc: &Document) -> Option<String> {
    match doc.get("_openid") {
        Some(Bson::String(s) | Bson::Symbol(s)) if !s.contains('\0') => Some(s.clone()),
        // A string PostgreSQL text cannot hold, or an array: read by every `_openid` lookup.
        Some(Bson::String(_) | Bson::Symbol(_) | Bson::Array(_)) => Some(OPENID_ARRAY.into()),
        _ => None,
    }
}

/// A document ready to be written.
pub(super) struct Row {
    pub(super) key: Vec<u8>,
    openid: Option<String>,
    body: Vec<u8>,
    json: Value,
}

impl Row {
    /// The row of `doc`; an `_id` that is missing, an array, null or a regex, or a document
    /// BSON cannot hold, is refused.
    pub(super) fn of(doc: &Document) -> DbResult<Row> {
        let id = doc
            .get("_id")
            .ok_or_else(|| DbError::internal("document without _id"))?;
        if matches!(id, Bson::Array(_) | Bson::Null | Bson::RegularExpression(_)) {
            return Err(DbError::invalid(
                "_id must not be an array, null or a regex",
            ));
        }
        // Checked before encoding: a body too deep could not be decoded again.
        crate::db::limits::check_depth("the document", doc)?;
        let body = doc
            .to_vec()
            .map_err(|e| DbError::invalid(format!("document cannot be stored: {e}")))?;
        Ok(Row {
            key: keys::encode(id),
            openid: openid_of(doc),
            body,
            json: doc_json(doc),
        })
    }
}

/// Split rows into statements of bounded size.
fn chunks(rows: &[Row]) -> Vec<&[Row]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, r) in rows.iter().enumerate() {
        if i > start && (i - start >= CHUNK_ROWS || bytes + r.body.len() > CHUNK_BYTES) {
            out.push(&rows[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += r.body.len();
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// Insert `rows` (built from `docs`, in order) into collection `cid`, in natural order. A
/// row whose `_id` is already stored, or repeated in `docs`, fails the whole write with
/// `DuplicateId` for the first such document, as inserting them one by one would. The caller
/// owns the transaction (and rolls it back on error).
pub(super) fn insert(conn: &mut PgConn, cid: i64, docs: &[Document], rows: &[Row]) -> DbResult<()> {
    let sql = format!(
        "INSERT INTO shim_docs(cid, id, openid, body, j) \
         SELECT {cid}, u.id, u.openid, u.body, u.j \
         FROM unnest($1::bytea[], $2::text[], $3::bytea[], $4::jsonb[]) WITH ORDINALITY \
              AS u(id, openid, body, j, ord) \
         ORDER BY u.ord \
         ON CONFLICT (cid, id) DO NOTHING RETURNING id"
    );
    let mut offset = 0;
    for chunk in chunks(rows) {
        let ids: Vec<&[u8]> = chunk.iter().map(|r| r.key.as_slice()).collect();
        let openids: Vec<Option<&str>> = chunk.iter().map(|r| r.openid.as_deref()).collect();
        let bodies: Vec<&[u8]> = chunk.iter().map(|r| r.body.as_slice()).collect();
        let js: Vec<&Value> = chunk.iter().map(|r| &r.json).collect();
        let inserted = conn.query(&sql, &[&ids, &openids, &bodies, &js])?;
        if inserted.len() != chunk.len() {
            let got: HashSet<Vec<u8>> = inserted.iter().map(|r| r.get(0)).collect();
            let mut seen = HashSet::new();
            for (i, r) in chunk.iter().enumerate() {
                if !got.contains(&r.key) || !seen.insert(&r.key) {
                    let id = docs[offset + i].get("_id").unwrap_or(&Bson::Null);
                    return Err(DbError::DuplicateId(id_display(id)));
                }
            }
            return Err(DbError::internal("insert: rows missing without a conflict"));
        }
        offset += chunk.len();
    }
    Ok(())
}

/// Replace the documents of rows `seqs[i]` with `rows[i]` (their `_id` is unchanged).
pub(super) fn replace(conn: &mut PgConn, seqs: &[i64], rows: &[Row]) -> DbResult<()> {
    let sql = "UPDATE shim_docs d SET openid = u.openid, body = u.body, j = u.j \
               FROM unnest($1::bigint[], $2::text[], $3::bytea[], $4::jsonb[]) \
                    AS u(seq, openid, body, j) \
               WHERE d.seq = u.seq";
    let mut offset = 0;
    for chunk in chunks(rows) {
        let s = &seqs[offset..offset + chunk.len()];
        let openids: Vec<Option<&str>> = chunk.iter().map(|r| r.openid.as_deref()).collect();
        let bodies: Vec<&[u8]> = chunk.iter().map(|r| r.body.as_slice()).collect();
        let js: Vec<&Value> = chunk.iter().map(|r| &r.json).collect();
        conn.execute(sql, &[&s, &openids, &bodies, &js])?;
        offset += chunk.len();
    }
    Ok(())
}

/// Delete the rows `seqs`.
pub(super) fn delete(conn: &mut PgConn, seqs: &[i64]) -> DbResult<()> {
    for chunk in seqs.chunks(10_000) {
        conn.execute(
            "DELETE FROM shim_docs WHERE seq = ANY($1::bigint[])",
            &[&chunk],
        )?;
    }
    Ok(())
}
