//! Reading candidates: the SQL of a [`Plan`] on one collection, run through a cursor fetched in
//! batches (so that a query satisfied early stops reading), decoding each body for the Rust
//! filter, and the counters of how queries were answered ([`PgStats`]).

use super::conn::PgConn;
use super::planner::{Param, Plan};
use super::rows::decode;
use crate::db::error::DbResult;
use crate::db::limits::Budget;
use bson::Document;
use postgres::types::ToSql;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of how queries were answered (for tests and benchmarks).
#[derive(Debug, Default)]
pub struct PgStats {
    /// Queries answered by `_id` lookups.
    pub id_lookups: AtomicU64,
    /// Queries whose candidates an SQL prefilter (`_openid`, containment) narrowed.
    pub pushdowns: AtomicU64,
    /// Queries that read a whole collection.
    pub full_scans: AtomicU64,
    /// Documents read and decoded to answer queries (before the Rust filter).
    pub docs_examined: AtomicU64,
    /// Stored documents skipped because they nest deeper than
    /// [`crate::db::limits::MAX_DEPTH`] (never decoded).
    pub skipped_too_deep: AtomicU64,
}

/// The most rows one `FETCH` asks for.
const MAX_BATCH: usize = 4096;

/// The SELECT of `plan` on collection `cid`, in natural order, and its parameters.
pub(super) fn select_sql(cid: i64, plan: Plan) -> (String, Vec<Param>) {
    let (cond, params) = plan.conditions(1);
    (
        format!("SELECT d.seq, d.body FROM shim_docs d WHERE d.cid = {cid}{cond} ORDER BY d.seq"),
        params,
    )
}

/// Where a read's rows come from.
pub(super) enum Rows<'a> {
    /// Collection `cid` on a connection inside a transaction (a cursor is declared there).
    Cid(&'a mut PgConn, i64),
    /// Rows fetched already (an `_id` lookup).
    Fetched(Vec<(i64, Vec<u8>)>),
}

/// Visit the candidates of `plan` (seq, document) in natural order; `visit` returns false to
/// stop. `batch` is the size of the first fetch (later ones double).
pub(super) fn scan(
    rows: Rows<'_>,
    stats: &PgStats,
    coll: &str,
    plan: Plan,
    batch: usize,
    budget: &mut Budget,
    visit: &mut dyn FnMut(i64, Document, &mut Budget) -> DbResult<bool>,
) -> DbResult<()> {
    let counter = if plan.ids.is_some() {
        &stats.id_lookups
    } else if plan.narrows() {
        &stats.pushdowns
    } else {
        &stats.full_scans
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let mut examined = 0u64;
    let mut each = |seq: i64, raw: &[u8], budget: &mut Budget| -> DbResult<bool> {
        examined += 1;
        budget.tick()?;
        if crate::db::limits::raw_too_deep(raw) {
            warn_too_deep(stats, coll, raw);
            return Ok(true);
        }
        visit(seq, decode(raw)?, budget)
    };
    let r = match rows {
        Rows::Fetched(found) => {
            let mut r = Ok(());
            for (seq, body) in found {
                match each(seq, &body, budget) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        r = Err(e);
                        break;
                    }
                }
            }
            r
        }
        Rows::Cid(conn, cid) => {
            let narrow = plan.narrows();
            let (sql, params) = select_sql(cid, plan);
            let p: Vec<&(dyn ToSql + Sync)> = params.iter().map(Param::as_sql).collect();
            cursor(conn, &sql, &p, batch, narrow, &mut |seq, raw| {
                each(seq, raw, budget)
            })
        }
    };
    stats.docs_examined.fetch_add(examined, Ordering::Relaxed);
    r
}

/// Run `sql` (selecting `seq, body`) through a cursor on `conn`, which must be in a
/// transaction, fetching `batch` rows first and twice as many each time after, until `visit`
/// returns false or the rows run out.
///
/// How PostgreSQL plans the cursor: a `narrow` (prefiltered) read plans for all its rows (the
/// session's `cursor_tuple_fraction = 1`, see `conn.rs`), so it looks its few candidates up in
/// an index and sorts them, rather than walking the collection in `seq` order for the first
/// ones; a scan of the collection plans for its first rows (0.1, PostgreSQL's default), as it
/// may stop early.
pub(super) fn cursor(
    conn: &mut PgConn,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    batch: usize,
    narrow: bool,
    visit: &mut dyn FnMut(i64, &[u8]) -> DbResult<bool>,
) -> DbResult<()> {
    if !narrow {
        conn.batch("SET LOCAL cursor_tuple_fraction = 0.1")?;
    }
    conn.execute(
        &format!("DECLARE shim_scan NO SCROLL CURSOR FOR {sql}"),
        params,
    )?;
    let mut n = batch.clamp(1, MAX_BATCH);
    'fetch: loop {
        let rows = conn.query(&format!("FETCH {n} FROM shim_scan"), &[])?;
        for r in &rows {
            let body: &[u8] = r.get(1);
            if !visit(r.get(0), body)? {
                break 'fetch;
            }
        }
        if rows.len() < n {
            break;
        }
        n = (n * 2).min(MAX_BATCH);
    }
    conn.batch(if narrow {
        "CLOSE shim_scan"
    } else {
        "CLOSE shim_scan; SET LOCAL cursor_tuple_fraction = 1"
    })
}

/// Report a stored body too deep to decode (it is skipped, never fatal).
pub(super) fn warn_too_deep(stats: &PgStats, coll: &str, raw: &[u8]) {
    stats.skipped_too_deep.fetch_add(1, Ordering::Relaxed);
    let id = crate::db::limits::raw_id_display(raw);
    tracing::warn!(
        collection = coll,
        id = %id,
        "skipping a stored document nested more than {} levels deep: it cannot be read safely",
        crate::db::limits::MAX_DEPTH
    );
}
