//! The operations on one connection inside a transaction, on a collection already resolved
//! to its `cid` ([`Shared`]): find, count, insert, update, remove and the seed upsert. The
//! store runs them in a transaction of their own; an open [`super::txn::PgTxn`] runs them in a
//! savepoint of its transaction.

use super::conn::PgConn;
use super::planner::Plan;
use super::rows::{self, Row, decode};
use super::scan::{PgStats, Rows, scan, warn_too_deep};
use crate::db::error::{DbError, DbResult};
use crate::db::keys;
use crate::db::limits::{Budget, Budgets, doc_mem_size};
use crate::db::projection::Projection;
use crate::db::query::Filter;
use crate::db::sort::{order_and_page, sort_spec};
use crate::db::update::Update;
use crate::store::{Find, UpdateOpts, UpdateResult, UpsertCounts, upsert_document, with_id};
use bson::{Bson, Document};
use std::collections::HashMap;

/// State shared by the store and its open transactions.
pub(super) struct Shared {
    pub(super) stats: PgStats,
    /// What each operation may spend.
    pub(super) budgets: Budgets,
}

/// The first fetch of a read that may stop after `want` documents.
fn first_batch(want: Option<u64>) -> usize {
    match want {
        Some(w) => (w.saturating_add(1) as usize).clamp(16, 1024),
        None => 1024,
    }
}

impl Shared {
    /// Read: prefilter in SQL, filter, sort, skip, limit, project in Rust. `rows` is where
    /// the candidates come from; `None` reads collection `cid` on `conn`.
    pub(super) fn find_budgeted(
        &self,
        rows: Rows<'_>,
        coll: &str,
        find: &Find,
        budget: &mut Budget,
    ) -> DbResult<Vec<Document>> {
        let filter = Filter::parse(&find.filter)?;
        let sort = match &find.sort {
            Some(s) if !s.is_empty() => Some(sort_spec(s)?),
            _ => None,
        };
        let projection = find
            .projection
            .as_ref()
            .map(Projection::parse)
            .transpose()?;
        let near = if sort.is_none() { filter.near() } else { None };
        let ordered_by_source = sort.is_none() && near.is_none();
        let want = find.limit.map(|l| l.saturating_add(find.skip));
        let batch = first_batch(want.filter(|_| ordered_by_source));
        let mut out: Vec<Document> = Vec::new();
        scan(
            rows,
            &self.stats,
            coll,
            Plan::of(&filter),
            batch,
            budget,
            &mut |_, d, budget| {
                if filter.matches(&d) {
                    budget.charge(doc_mem_size(&d))?;
                    out.push(d);
                    if ordered_by_source && want.is_some_and(|w| out.len() as u64 >= w) {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )?;
        Ok(order_and_page(
            out,
            sort.as_deref(),
            near.as_ref(),
            false,
            (find.skip, find.limit),
            projection.as_ref(),
        ))
    }

    /// Count the documents `rows` yields that match `filter`.
    pub(super) fn count_rows(&self, rows: Rows<'_>, coll: &str, f: &Filter) -> DbResult<u64> {
        let mut n = 0u64;
        let mut budget = Budget::new(self.budgets);
        scan(
            rows,
            &self.stats,
            coll,
            Plan::of(f),
            1024,
            &mut budget,
            &mut |_, d, _| {
                if f.matches(&d) {
                    n += 1;
                }
                Ok(true)
            },
        )?;
        Ok(n)
    }

    /// Count in collection `cid` (an empty filter counts the rows in SQL, without reading).
    pub(super) fn count_on(
        &self,
        c: &mut PgConn,
        cid: i64,
        coll: &str,
        filter: &Document,
    ) -> DbResult<u64> {
        let f = Filter::parse(filter)?;
        if matches!(f, Filter::All) {
            let rows = c.query(
                &format!("SELECT count(*) FROM shim_docs WHERE cid = {cid}"),
                &[],
            )?;
            return Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64);
        }
        self.count_rows(Rows::Cid(c, cid), coll, &f)
    }

    /// The matching rows (the first only unless `multi`), for updates and removals.
    fn matching(
        &self,
        c: &mut PgConn,
        cid: i64,
        coll: &str,
        filter: &Filter,
        multi: bool,
    ) -> DbResult<Vec<(i64, Document)>> {
        let mut out = Vec::new();
        let mut budget = Budget::new(self.budgets);
        scan(
            Rows::Cid(c, cid),
            &self.stats,
            coll,
            Plan::of(filter),
            if multi { 1024 } else { 16 },
            &mut budget,
            &mut |seq, d, budget| {
                if filter.matches(&d) {
                    budget.charge(doc_mem_size(&d))?;
                    out.push((seq, d));
                    if !multi {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )?;
        Ok(out)
    }

    /// Insert into collection `cid`, giving documents without `_id` a new one.
    pub(super) fn insert_on(
        &self,
        c: &mut PgConn,
        cid: i64,
        docs: Vec<Document>,
    ) -> DbResult<Vec<Bson>> {
        let prepared: Vec<Document> = docs.into_iter().map(with_id).collect();
        let rows = prepared.iter().map(Row::of).collect::<DbResult<Vec<_>>>()?;
        rows::insert(c, cid, &prepared, &rows)?;
        Ok(prepared
            .iter()
            .map(|d| d.get("_id").cloned().unwrap_or(Bson::Null))
            .collect())
    }

    /// Update in collection `cid`, inserting on `upsert` when nothing matched.
    pub(super) fn update_on(
        &self,
        c: &mut PgConn,
        cid: i64,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult> {
        let f = Filter::parse(filter)?;
        let found = self.matching(c, cid, coll, &f, opts.multi)?;
        let mut res = UpdateResult {
            matched: found.len() as u64,
            ..UpdateResult::default()
        };
        let (mut seqs, mut new_rows) = (Vec::new(), Vec::new());
        for (seq, old) in found {
            let mut new = old.clone();
            if update.apply(&mut new)? {
                new_rows.push(Row::of(&new)?);
                seqs.push(seq);
                res.updated += 1;
            }
            if opts.return_doc {
                res.doc = Some(new);
            }
        }
        rows::replace(c, &seqs, &new_rows)?;
        if res.matched == 0 && opts.upsert {
            let base = upsert_document(filter, update)?;
            rows::insert(c, cid, std::slice::from_ref(&base), &[Row::of(&base)?])?;
            res.upserted_id = base.get("_id").cloned();
            if opts.return_doc {
                res.doc = Some(base);
            }
        }
        Ok(res)
    }

    /// Remove from collection `cid`.
    pub(super) fn remove_on(
        &self,
        c: &mut PgConn,
        cid: i64,
        coll: &str,
        filter: &Document,
        multi: bool,
    ) -> DbResult<u64> {
        let f = Filter::parse(filter)?;
        let found = self.matching(c, cid, coll, &f, multi)?;
        let seqs: Vec<i64> = found.iter().map(|(s, _)| *s).collect();
        rows::delete(c, &seqs)?;
        Ok(found.len() as u64)
    }

    /// Write `docs` by `_id` into collection `cid`: replace or insert, in order, as if one
    /// by one (a repeated `_id` replaces what the earlier one wrote).
    pub(super) fn upsert_by_id_on(
        &self,
        c: &mut PgConn,
        cid: i64,
        coll: &str,
        docs: Vec<Document>,
    ) -> DbResult<UpsertCounts> {
        let mut ks = Vec::with_capacity(docs.len());
        for d in &docs {
            let id = d
                .get("_id")
                .ok_or_else(|| DbError::invalid("upsert_by_id: document without _id"))?;
            ks.push(keys::encode(id));
        }
        // What is stored under each key: (seq, body) of the row.
        let mut stored: HashMap<Vec<u8>, (i64, Option<Document>)> = HashMap::new();
        for chunk in ks.chunks(1000) {
            let rows = c.query(
                &format!(
                    "SELECT id, seq, body FROM shim_docs WHERE cid = {cid} AND id = ANY($1::bytea[])"
                ),
                &[&chunk],
            )?;
            for r in rows {
                let body: &[u8] = r.get(2);
                let doc = if crate::db::limits::raw_too_deep(body) {
                    // Too deep to decode: replaced whole.
                    warn_too_deep(&self.stats, coll, body);
                    None
                } else {
                    Some(decode(body)?)
                };
                stored.insert(r.get(0), (r.get(1), doc));
            }
        }
        let mut counts = UpsertCounts::default();
        // Per key, the index in `docs` of the version to write, and whether it is new.
        let mut plan: HashMap<&[u8], (usize, bool)> = HashMap::new();
        let mut order: Vec<&[u8]> = Vec::new();
        for (i, (d, k)) in docs.iter().zip(&ks).enumerate() {
            match plan.get_mut(k.as_slice()) {
                Some((at, _)) => {
                    if docs[*at] == *d {
                        counts.unchanged += 1;
                    } else {
                        *at = i;
                        counts.updated += 1;
                    }
                }
                None => {
                    let new = match stored.get(k) {
                        Some((_, Some(old))) if old == d => {
                            counts.unchanged += 1;
                            plan.insert(k, (i, false));
                            // Nothing to write unless a later version differs.
                            order.push(k);
                            continue;
                        }
                        Some(_) => {
                            counts.updated += 1;
                            false
                        }
                        None => {
                            counts.inserted += 1;
                            true
                        }
                    };
                    plan.insert(k, (i, new));
                    order.push(k);
                }
            }
        }
        let (mut ins_docs, mut ins_rows) = (Vec::new(), Vec::new());
        let (mut seqs, mut upd_rows) = (Vec::new(), Vec::new());
        for k in order {
            let (i, new) = plan[k];
            let d = &docs[i];
            if new {
                ins_rows.push(Row::of(d)?);
                ins_docs.push(d.clone());
            } else if let Some((seq, old)) = stored.get(k)
                && old.as_ref() != Some(d)
            {
                upd_rows.push(Row::of(d)?);
                seqs.push(*seq);
            }
        }
        rows::replace(c, &seqs, &upd_rows)?;
        rows::insert(c, cid, &ins_docs, &ins_rows)?;
        Ok(counts)
    }
}
