//! Running a plan: the SQL that reads the rows of each [`Source`], a cheap rejection on the raw
//! bytes before decoding ([`RawPrefilter`]), and the counters of how queries were answered
//! ([`PlanStats`]).

use super::planner::Source;
use super::rows::decode;
use super::schema::CollMeta;
use crate::db::error::{DbError, DbResult};
use crate::db::keys;
use crate::db::limits::Budget;
use crate::db::query::{Cond, Filter};
use crate::store::interface::OPENID_ARRAY;
use bson::{Bson, Document, RawDocument};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of how queries were answered (for tests and benchmarks).
#[derive(Debug, Default)]
pub struct PlanStats {
    /// Queries answered by `_id` lookups.
    pub id_lookups: AtomicU64,
    /// Queries answered through a declared index or the `_openid` column.
    pub index_lookups: AtomicU64,
    /// Queries ordered by walking a declared index.
    pub index_sorts: AtomicU64,
    /// Queries that scanned a whole collection.
    pub full_scans: AtomicU64,
    /// Documents read and decoded to answer queries (before the Rust filter).
    pub docs_examined: AtomicU64,
    /// Stored documents skipped because they nest deeper than
    /// [`crate::db::limits::MAX_DEPTH`] (written by an older version; never decoded).
    pub skipped_too_deep: AtomicU64,
}

/// The statements the planner uses, by name (for [`super::SqliteStore::explain_plans`]).
pub(super) const PLANNED: &[(&str, &str)] = &[
    (
        "get_by_id",
        "SELECT seq, body FROM docs WHERE cid = ?1 AND id = ?2",
    ),
    (
        "by_openid",
        "SELECT seq, body FROM docs WHERE cid = ?1 AND openid = ?2 ORDER BY seq",
    ),
    (
        "index_range",
        "SELECT seq FROM idx WHERE iid = ?1 AND key >= ?2 AND key <= ?3",
    ),
    ("by_seq", "SELECT body FROM docs WHERE seq = ?1"),
    (
        "index_range_docs",
        "SELECT seq, body FROM docs WHERE seq IN (SELECT seq FROM idx WHERE iid = ?1 AND key >= ?2 AND key <= ?3) ORDER BY seq",
    ),
    (
        "index_order_asc",
        "SELECT i.seq, d.body FROM idx i JOIN docs d ON d.seq = i.seq WHERE i.iid = ?1 ORDER BY i.key ASC, i.seq ASC",
    ),
    (
        "index_order_desc",
        "SELECT i.key, i.seq FROM idx i WHERE i.iid = ?1 ORDER BY i.key DESC, i.seq DESC",
    ),
    (
        "collection_scan",
        "SELECT seq, body FROM docs INDEXED BY docs_cid WHERE cid = ?1 ORDER BY seq",
    ),
    (
        "index_delete",
        "DELETE FROM idx WHERE iid = ?1 AND key = ?2 AND seq = ?3",
    ),
];

/// Cheap rejection on the stored bytes before decoding: top-level `field: scalar` equalities
/// of the filter, checked with `RawDocument::get`. Arrays and documents are left to the full
/// filter (an array may contain the value).
struct RawPrefilter {
    /// (top-level field, condition) pairs; conditions are `$eq` and comparisons on scalars.
    conds: Vec<(String, Cond)>,
}

impl RawPrefilter {
    fn new(filter: &Filter) -> Self {
        let conds = filter
            .conjuncts()
            .into_iter()
            .filter_map(|(p, c)| match c {
                Cond::Eq(v) | Cond::Gt(v) | Cond::Gte(v) | Cond::Lt(v) | Cond::Lte(v)
                    if p.len() == 1 && keys::indexable(v) =>
                {
                    Some((p[0].clone(), c.clone()))
                }
                _ => None,
            })
            .collect();
        RawPrefilter { conds }
    }

    /// True when the document certainly does not match.
    fn rejects(&self, raw: &[u8]) -> bool {
        if self.conds.is_empty() {
            return false;
        }
        let Ok(doc) = RawDocument::from_bytes(raw) else {
            return false;
        };
        self.conds.iter().any(|(k, c)| match doc.get(k) {
            Ok(None) => true,
            Ok(Some(bson::RawBsonRef::Array(_) | bson::RawBsonRef::Document(_))) | Err(_) => false,
            Ok(Some(r)) => match Bson::try_from(r) {
                Ok(b) => !crate::db::query::cond_matches_scalar(c, &b),
                Err(_) => false,
            },
        })
    }
}

/// Visit candidate documents (seq, doc) in the order the plan gives; `visit` returns false
/// to stop.
#[allow(clippy::too_many_arguments)] // the plan, its target and the budget travel together
pub(super) fn scan(
    conn: &Connection,
    stats: &PlanStats,
    coll: &str,
    meta: &CollMeta,
    source: &Source,
    filter: &Filter,
    budget: &mut Budget,
    visit: &mut dyn FnMut(i64, Document, &mut Budget) -> DbResult<bool>,
) -> DbResult<()> {
    let mut examined = 0u64;
    let pre = RawPrefilter::new(filter);
    let mut visit = |seq: i64, raw: &[u8]| {
        examined += 1;
        budget.tick()?;
        if pre.rejects(raw) {
            return Ok(true);
        }
        if crate::db::limits::raw_too_deep(raw) {
            warn_too_deep(stats, coll, raw);
            return Ok(true);
        }
        visit(seq, decode(raw)?, budget)
    };
    let r = read_source(conn, stats, meta, source, &mut visit);
    stats.docs_examined.fetch_add(examined, Ordering::Relaxed);
    r
}

/// Report a stored body too deep to decode (it is skipped, never fatal).
pub(super) fn warn_too_deep(stats: &PlanStats, coll: &str, raw: &[u8]) {
    stats.skipped_too_deep.fetch_add(1, Ordering::Relaxed);
    let id = crate::db::limits::raw_id_display(raw);
    tracing::warn!(
        collection = coll,
        id = %id,
        "skipping a stored document nested more than {} levels deep (written by an older \
         version; it cannot be read safely): remove it with a raw SQLite tool or restore it \
         from an export",
        crate::db::limits::MAX_DEPTH
    );
}

/// Read the rows of `source` as SQL, in the order it gives, handing each body to `visit`.
fn read_source(
    conn: &Connection,
    stats: &PlanStats,
    meta: &CollMeta,
    source: &Source,
    visit: &mut dyn FnMut(i64, &[u8]) -> DbResult<bool>,
) -> DbResult<()> {
    match source {
        Source::Ids(ids) => {
            stats.id_lookups.fetch_add(1, Ordering::Relaxed);
            let mut st =
                conn.prepare_cached("SELECT seq, body FROM docs WHERE cid = ?1 AND id = ?2")?;
            let mut seen = BTreeSet::new();
            let mut found = Vec::new();
            for id in ids {
                let k = keys::encode(id);
                if !seen.insert(k.clone()) {
                    continue;
                }
                let row: Option<(i64, Vec<u8>)> = st
                    .query_row(params![meta.cid, k], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some(r) = row {
                    found.push(r);
                }
            }
            found.sort_by_key(|r| r.0);
            for (seq, body) in found {
                if !visit(seq, &body)? {
                    break;
                }
            }
        }
        Source::Openid(o) => {
            // The documents of that openid and those whose `_openid` is an array (one of its
            // elements may be it), merged in natural order: two index searches, no sort.
            stats.index_lookups.fetch_add(1, Ordering::Relaxed);
            const BY_OPENID: &str =
                "SELECT seq, body FROM docs WHERE cid = ?1 AND openid = ?2 ORDER BY seq";
            let mut own = conn.prepare_cached(BY_OPENID)?;
            let mut arrays = conn.prepare_cached(BY_OPENID)?;
            let mut own = own.query(params![meta.cid, o])?;
            // (An openid that is the marker itself is read by the first search alone: `= NULL`
            // matches nothing.)
            let marker = (o != OPENID_ARRAY).then_some(OPENID_ARRAY);
            let mut arrays = arrays.query(params![meta.cid, marker])?;
            let (mut a, mut b) = (own.next()?, arrays.next()?);
            loop {
                let seq_of = |r: &rusqlite::Row<'_>| r.get::<_, i64>(0);
                let take_a = match (a, b) {
                    (None, None) => break,
                    (Some(x), Some(y)) => seq_of(x)? <= seq_of(y)?,
                    (x, _) => x.is_some(),
                };
                let r = if take_a { a.unwrap() } else { b.unwrap() };
                let body: &[u8] = r.get_ref(1)?.as_blob().map_err(DbError::internal)?;
                if !visit(seq_of(r)?, body)? {
                    break;
                }
                if take_a {
                    a = own.next()?;
                } else {
                    b = arrays.next()?;
                }
            }
        }
        Source::Index {
            iid,
            ranges,
            intersect,
        } => {
            stats.index_lookups.fetch_add(1, Ordering::Relaxed);
            if let [r] = ranges.as_slice() {
                let sql = match (r.lo_incl, r.hi_incl) {
                    (true, true) => {
                        "SELECT seq, body FROM docs WHERE seq IN (SELECT seq FROM idx WHERE iid = ?1 AND key >= ?2 AND key <= ?3) ORDER BY seq"
                    }
                    (true, false) => {
                        "SELECT seq, body FROM docs WHERE seq IN (SELECT seq FROM idx WHERE iid = ?1 AND key >= ?2 AND key < ?3) ORDER BY seq"
                    }
                    (false, true) => {
                        "SELECT seq, body FROM docs WHERE seq IN (SELECT seq FROM idx WHERE iid = ?1 AND key > ?2 AND key <= ?3) ORDER BY seq"
                    }
                    (false, false) => {
                        "SELECT seq, body FROM docs WHERE seq IN (SELECT seq FROM idx WHERE iid = ?1 AND key > ?2 AND key < ?3) ORDER BY seq"
                    }
                };
                let mut st = conn.prepare_cached(sql)?;
                let mut rows = st.query(params![iid, r.lo, r.hi])?;
                while let Some(row) = rows.next()? {
                    let body: &[u8] = row.get_ref(1)?.as_blob().map_err(DbError::internal)?;
                    if !visit(row.get(0)?, body)? {
                        break;
                    }
                }
                return Ok(());
            }
            let mut seqs: Option<BTreeSet<i64>> = None;
            for r in ranges {
                let sql = match (r.lo_incl, r.hi_incl) {
                    (true, true) => {
                        "SELECT seq FROM idx WHERE iid = ?1 AND key >= ?2 AND key <= ?3"
                    }
                    (true, false) => {
                        "SELECT seq FROM idx WHERE iid = ?1 AND key >= ?2 AND key < ?3"
                    }
                    (false, true) => {
                        "SELECT seq FROM idx WHERE iid = ?1 AND key > ?2 AND key <= ?3"
                    }
                    (false, false) => {
                        "SELECT seq FROM idx WHERE iid = ?1 AND key > ?2 AND key < ?3"
                    }
                };
                let mut st = conn.prepare_cached(sql)?;
                let rows = st.query_map(params![iid, r.lo, r.hi], |r| r.get::<_, i64>(0))?;
                let mut these = BTreeSet::new();
                for s in rows {
                    these.insert(s?);
                }
                seqs = Some(match seqs {
                    None => these,
                    Some(prev) if *intersect => prev.intersection(&these).copied().collect(),
                    Some(mut prev) => {
                        prev.extend(these);
                        prev
                    }
                });
            }
            let seqs = seqs.unwrap_or_default();
            let mut st = conn.prepare_cached("SELECT body FROM docs WHERE seq = ?1")?;
            for seq in seqs {
                let body: Option<Vec<u8>> = st.query_row(params![seq], |r| r.get(0)).optional()?;
                if let Some(b) = body
                    && !visit(seq, &b)?
                {
                    break;
                }
            }
        }
        Source::IndexOrder(iid, desc) => {
            stats.index_sorts.fetch_add(1, Ordering::Relaxed);
            let mut seen = std::collections::HashSet::new();
            if !*desc {
                let mut st = conn.prepare_cached(
                    "SELECT i.seq, d.body FROM idx i JOIN docs d ON d.seq = i.seq WHERE i.iid = ?1 ORDER BY i.key ASC, i.seq ASC",
                )?;
                let mut rows = st.query(params![iid])?;
                while let Some(r) = rows.next()? {
                    let seq: i64 = r.get(0)?;
                    if !seen.insert(seq) {
                        continue;
                    }
                    let body: &[u8] = r.get_ref(1)?.as_blob().map_err(DbError::internal)?;
                    if !visit(seq, body)? {
                        break;
                    }
                }
            } else {
                // Walk keys descending; within one key, keep natural (ascending) order,
                // like a stable sort would.
                let mut st = conn.prepare_cached(
                    "SELECT i.key, i.seq FROM idx i WHERE i.iid = ?1 ORDER BY i.key DESC, i.seq DESC",
                )?;
                let mut body_st = conn.prepare_cached("SELECT body FROM docs WHERE seq = ?1")?;
                let mut rows = st.query(params![iid])?;
                let mut group: Vec<i64> = Vec::new();
                let mut group_key: Option<Vec<u8>> = None;
                let mut stop = false;
                let mut flush = |group: &mut Vec<i64>,
                                 seen: &mut std::collections::HashSet<i64>|
                 -> DbResult<bool> {
                    while let Some(seq) = group.pop() {
                        if !seen.insert(seq) {
                            continue;
                        }
                        let body: Option<Vec<u8>> =
                            body_st.query_row(params![seq], |r| r.get(0)).optional()?;
                        if let Some(b) = body
                            && !visit(seq, &b)?
                        {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                };
                while let Some(r) = rows.next()? {
                    let key: Vec<u8> = r.get(0)?;
                    let seq: i64 = r.get(1)?;
                    if group_key.as_ref().is_some_and(|k| *k != key)
                        && !flush(&mut group, &mut seen)?
                    {
                        stop = true;
                        break;
                    }
                    group_key = Some(key);
                    group.push(seq);
                }
                if !stop {
                    flush(&mut group, &mut seen)?;
                }
            }
        }
        Source::Scan => {
            stats.full_scans.fetch_add(1, Ordering::Relaxed);
            let mut st = conn.prepare_cached(
                "SELECT seq, body FROM docs INDEXED BY docs_cid WHERE cid = ?1 ORDER BY seq",
            )?;
            let mut rows = st.query(params![meta.cid])?;
            while let Some(r) = rows.next()? {
                let body: &[u8] = r.get_ref(1)?.as_blob().map_err(DbError::internal)?;
                if !visit(r.get(0)?, body)? {
                    break;
                }
            }
        }
    }
    Ok(())
}
