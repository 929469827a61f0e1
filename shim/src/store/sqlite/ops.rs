//! The operations on one connection ([`Shared`]): find, count, insert, update and remove.
//! The store runs them on a reader or in a write transaction on the writer; an open
//! [`super::txn::SqliteTxn`] runs them in a savepoint of its own transaction.

use super::planner::{Source, plan};
use super::rows;
use super::scan::{PlanStats, scan};
use super::schema::CollMeta;
use crate::db::error::{DbError, DbResult};
use crate::db::limits::{Budget, Budgets, doc_mem_size};
use crate::db::projection::Projection;
use crate::db::query::Filter;
use crate::db::sort::{compare_by_sort, order_and_page, sort_key, sort_spec};
use crate::db::update::Update;
use crate::store::{Find, UpdateOpts, UpdateResult, upsert_document, with_id};
use bson::{Bson, Document};
use parking_lot::RwLock;
use rusqlite::{Connection, params};
use std::collections::HashMap;

/// State shared by the store and its open transactions.
pub(super) struct Shared {
    /// The catalog: collections and their indexes, by name.
    pub(super) meta: RwLock<HashMap<String, CollMeta>>,
    pub(super) stats: PlanStats,
    /// What each operation may spend.
    pub(super) budgets: Budgets,
}

impl Shared {
    /// The catalog entry of `name`, or `CollectionNotExist`.
    pub(super) fn coll(&self, name: &str) -> DbResult<CollMeta> {
        self.meta
            .read()
            .get(name)
            .cloned()
            .ok_or_else(|| DbError::CollectionNotExist(name.to_string()))
    }

    /// Read on `conn`: plan, scan, filter, sort, skip, limit, project.
    pub(super) fn find_on(
        &self,
        conn: &Connection,
        coll: &str,
        find: &Find,
    ) -> DbResult<Vec<Document>> {
        self.find_budgeted(conn, coll, find, &mut Budget::new(self.budgets))
    }

    /// [`Self::find_on`] within `budget` (the matched documents held count against it).
    pub(super) fn find_budgeted(
        &self,
        conn: &Connection,
        coll: &str,
        find: &Find,
        budget: &mut Budget,
    ) -> DbResult<Vec<Document>> {
        let meta = self.coll(coll)?;
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
        let source = plan(&meta, &filter, sort.as_deref());
        let index_ordered = matches!(source, Source::IndexOrder(..));
        let ordered_by_source = sort.is_none() && near.is_none() || index_ordered;
        let want = find.limit.map(|l| l.saturating_add(find.skip));
        // With an index walk on the first sort key, documents arrive grouped by that key;
        // extra sort keys only reorder within a group, so stop at a group boundary.
        let first_key = match (&sort, index_ordered) {
            (Some(spec), true) if spec.len() > 1 => Some(&spec[0]),
            _ => None,
        };
        let mut last_group: Option<Bson> = None;
        let mut out: Vec<Document> = Vec::new();
        scan(
            conn,
            &self.stats,
            coll,
            &meta,
            &source,
            &filter,
            budget,
            &mut |_, d, budget| {
                if filter.matches(&d) {
                    budget.charge(doc_mem_size(&d))?;
                    if let Some((path, dir)) = first_key {
                        let p: Vec<&str> = path.iter().map(String::as_str).collect();
                        let k = sort_key(&d, &p, *dir);
                        let new_group = last_group
                            .as_ref()
                            .is_none_or(|g| !crate::db::value::values_equal(g, &k));
                        if new_group && want.is_some_and(|w| out.len() as u64 >= w) {
                            return Ok(false);
                        }
                        last_group = Some(k);
                        out.push(d);
                        return Ok(true);
                    }
                    out.push(d);
                    if ordered_by_source && want.is_some_and(|w| out.len() as u64 >= w) {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )?;
        if first_key.is_some()
            && let Some(spec) = &sort
        {
            out.sort_by(|a, b| compare_by_sort(a, b, spec));
        }
        Ok(order_and_page(
            out,
            sort.as_deref(),
            near.as_ref(),
            ordered_by_source,
            (find.skip, find.limit),
            projection.as_ref(),
        ))
    }

    /// The matching rows (the first only unless `multi`), for updates and removals.
    fn matching(
        &self,
        conn: &Connection,
        coll: &str,
        meta: &CollMeta,
        filter: &Filter,
        multi: bool,
    ) -> DbResult<Vec<(i64, Document)>> {
        let source = plan(meta, filter, None);
        let mut out = Vec::new();
        let mut budget = Budget::new(self.budgets);
        scan(
            conn,
            &self.stats,
            coll,
            meta,
            &source,
            filter,
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

    /// Insert on `c`, giving documents without `_id` a new one.
    pub(super) fn insert_on(
        &self,
        c: &Connection,
        coll: &str,
        docs: Vec<Document>,
    ) -> DbResult<Vec<Bson>> {
        let meta = self.coll(coll)?;
        let prepared: Vec<Document> = docs.into_iter().map(with_id).collect();
        let mut ids = Vec::with_capacity(prepared.len());
        for d in &prepared {
            rows::insert_one(c, &meta, d)?;
            ids.push(d.get("_id").cloned().unwrap_or(Bson::Null));
        }
        Ok(ids)
    }

    /// Count on `c` (an empty filter counts the rows in SQL, without reading them).
    pub(super) fn count_on(&self, c: &Connection, coll: &str, filter: &Document) -> DbResult<u64> {
        let meta = self.coll(coll)?;
        let f = Filter::parse(filter)?;
        if matches!(f, Filter::All) {
            let n: i64 = c
                .prepare_cached("SELECT COUNT(*) FROM docs WHERE cid = ?1")?
                .query_row(params![meta.cid], |r| r.get(0))?;
            return Ok(n as u64);
        }
        let source = plan(&meta, &f, None);
        let mut n = 0u64;
        let mut budget = Budget::new(self.budgets);
        scan(
            c,
            &self.stats,
            coll,
            &meta,
            &source,
            &f,
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

    /// Update on `c`, inserting on `upsert` when nothing matched.
    pub(super) fn update_on(
        &self,
        c: &Connection,
        coll: &str,
        filter: &Document,
        update: &Update,
        opts: UpdateOpts,
    ) -> DbResult<UpdateResult> {
        let meta = self.coll(coll)?;
        let f = Filter::parse(filter)?;
        {
            let found = self.matching(c, coll, &meta, &f, opts.multi)?;
            let mut res = UpdateResult {
                matched: found.len() as u64,
                ..UpdateResult::default()
            };
            for (seq, old) in found {
                let mut new = old.clone();
                if update.apply(&mut new)? {
                    rows::replace_row(c, &meta, seq, &old, &new)?;
                    res.updated += 1;
                }
                if opts.return_doc {
                    res.doc = Some(new);
                }
            }
            if res.matched == 0 && opts.upsert {
                let base = upsert_document(filter, update)?;
                rows::insert_one(c, &meta, &base)?;
                res.upserted_id = base.get("_id").cloned();
                if opts.return_doc {
                    res.doc = Some(base);
                }
            }
            Ok(res)
        }
    }

    /// Remove on `c`.
    pub(super) fn remove_on(
        &self,
        c: &Connection,
        coll: &str,
        filter: &Document,
        multi: bool,
    ) -> DbResult<u64> {
        let meta = self.coll(coll)?;
        let f = Filter::parse(filter)?;
        {
            let found = self.matching(c, coll, &meta, &f, multi)?;
            for (seq, old) in &found {
                rows::delete_row(c, &meta, *seq, old)?;
            }
            Ok(found.len() as u64)
        }
    }
}
