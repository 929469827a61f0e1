//! The pushdown planner: the SQL prefilter of a query ([`Plan`]), from the filter's top-level
//! conditions. Every condition it turns into SQL only ever keeps a *superset* of the documents
//! that satisfy it; the full filter still runs in Rust on every candidate.

use super::json::{patterns, pushable, to_json};
use super::schema::literal;
use crate::db::keys;
use crate::db::query::{Cond, Filter, InItem};
use bson::Bson;
use postgres::types::ToSql;
use serde_json::Value;

/// What a query's candidates must satisfy in SQL.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// `_id` equality or `$in`: the keys ([`keys::encode`]) of the ids.
    pub(super) ids: Option<Vec<Vec<u8>>>,
    /// `_openid` equality on a string (the `openid` column).
    pub(super) openid: Option<String>,
    /// Equality or `$in` elsewhere: `(j -> first) @> ANY(patterns)`, one entry per condition.
    pub(super) contains: Vec<(String, Vec<Value>)>,
}

/// A bound parameter of a planned statement.
pub(super) enum Param {
    Keys(Vec<Vec<u8>>),
    Texts(Vec<String>),
    Json(Vec<Value>),
}

impl Param {
    pub(super) fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Keys(k) => k,
            Param::Texts(t) => t,
            Param::Json(j) => j,
        }
    }
}

/// `_id` values an id lookup can stand for (as the SQLite planner: not arrays, not null).
fn id_value(v: &Bson) -> bool {
    !matches!(v, Bson::Array(_) | Bson::Null)
}

impl Plan {
    /// The prefilter of `filter`.
    pub(super) fn of(filter: &Filter) -> Plan {
        let mut plan = Plan::default();
        for (path, cond) in filter.conjuncts() {
            if path.len() == 1 && path[0] == "_id" {
                let ids: Option<Vec<&Bson>> = match cond {
                    Cond::Eq(v) if id_value(v) => Some(vec![v]),
                    Cond::In(items) => items
                        .iter()
                        .map(|i| match i {
                            InItem::Value(v) if id_value(v) => Some(v),
                            _ => None,
                        })
                        .collect(),
                    _ => None,
                };
                if let Some(ids) = ids
                    && plan.ids.is_none()
                {
                    let mut ks: Vec<Vec<u8>> = ids.into_iter().map(keys::encode).collect();
                    ks.sort();
                    ks.dedup();
                    plan.ids = Some(ks);
                    continue;
                }
            }
            if path.len() == 1
                && path[0] == "_openid"
                && plan.openid.is_none()
                && let Cond::Eq(Bson::String(s)) = cond
                && !s.contains('\0')
            {
                plan.openid = Some(s.clone());
                continue;
            }
            if let Some(c) = containment(path, cond) {
                plan.contains.push(c);
            }
        }
        plan
    }

    /// Does the plan narrow the collection at all?
    pub(super) fn narrows(&self) -> bool {
        self.ids.is_some() || self.openid.is_some() || !self.contains.is_empty()
    }

    /// The conditions on `shim_docs` (aliased `d`) after `WHERE d.cid = ...`, numbering
    /// parameters from `$first`, and their parameters.
    pub(super) fn conditions(self, first: usize) -> (String, Vec<Param>) {
        let mut sql = String::new();
        let mut params = Vec::new();
        let mut n = first;
        if let Some(ids) = self.ids {
            sql.push_str(&format!(" AND d.id = ANY(${n}::bytea[])"));
            params.push(Param::Keys(ids));
            n += 1;
        }
        if let Some(o) = self.openid {
            // Documents whose `_openid` is an array hold the marker (see `rows::openid_of`).
            sql.push_str(&format!(" AND d.openid = ANY(${n}::text[])"));
            params.push(Param::Texts(vec![
                o,
                crate::store::interface::OPENID_ARRAY.to_string(),
            ]));
            n += 1;
        }
        for (first_key, pats) in self.contains {
            // `first_key` has no NUL (checked in `containment`).
            let key = literal(&first_key).unwrap_or_default();
            sql.push_str(&format!(" AND (d.j -> {key}) @> ANY(${n}::jsonb[])"));
            params.push(Param::Json(pats));
            n += 1;
        }
        (sql, params)
    }
}

/// The containment test of an equality or `$in` on `path`, if it has one.
fn containment(path: &[String], cond: &Cond) -> Option<(String, Vec<Value>)> {
    let (first, rest) = path.split_first()?;
    if path.iter().any(|p| p.contains('\0')) {
        return None;
    }
    let values: Vec<&Bson> = match cond {
        Cond::Eq(v) if pushable(v) => vec![v],
        Cond::In(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                InItem::Value(v) if pushable(v) => Some(v),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    };
    let mut pats = Vec::new();
    for v in values {
        if !patterns(rest, &to_json(v), true, &mut pats) {
            return None;
        }
    }
    let mut seen = std::collections::HashSet::new();
    pats.retain(|p| seen.insert(p.to_string()));
    Some((first.clone(), pats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn plan(f: bson::Document) -> Plan {
        Plan::of(&Filter::parse(&f).unwrap())
    }

    #[test]
    fn what_pushes_down() {
        let p = plan(doc! {"_id": {"$in": ["a", "b", "a"]}, "n": 5});
        assert_eq!(p.ids.as_ref().map(Vec::len), Some(2));
        assert_eq!(p.contains.len(), 1);
        let p = plan(doc! {"_openid": "o", "tags": {"$in": ["x", 1.5]}, "a.b": true});
        assert_eq!(p.openid.as_deref(), Some("o"));
        assert_eq!(p.contains.len(), 2);
        // null matches a missing field; regexes, ranges and NaN are left to Rust
        for f in [
            doc! {"n": null},
            doc! {"n": {"$in": [1, null]}},
            doc! {"n": {"$gt": 1}},
            doc! {"n": {"$regex": "^a"}},
            doc! {"n": f64::NAN},
            doc! {"n": {"$ne": 1}},
            doc! {"$or": [{"n": 1}, {"m": 2}]},
        ] {
            assert!(!plan(f.clone()).narrows(), "{f}");
        }
    }
}
