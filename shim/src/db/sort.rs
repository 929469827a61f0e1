//! Sorting documents: sort documents (`{path: 1 | -1}`) parsed into specs ([`sort_spec`]) and
//! MongoDB's sort order ([`compare_by_sort`]): arrays sort by their smallest element ascending
//! and their largest descending, a missing field sorts as null.

use crate::db::error::{DbError, DbResult};
use crate::db::fields::lookup_all;
use crate::db::value::{as_num, compare};
use bson::{Bson, Document};
use std::cmp::Ordering;

/// Parse a sort document (`{path: 1 | -1}`) into a sort spec.
pub(crate) fn sort_spec(d: &Document) -> DbResult<Vec<(Vec<String>, i32)>> {
    crate::db::limits::check_request("sort", d)?;
    d.iter()
        .map(|(k, v)| {
            let dir = match as_num(v).map(|n| n.as_f64()) {
                Some(1.0) => 1,
                Some(-1.0) => -1,
                _ => match v {
                    Bson::String(s) if s.eq_ignore_ascii_case("asc") => 1,
                    Bson::String(s) if s.eq_ignore_ascii_case("desc") => -1,
                    _ => {
                        return Err(DbError::invalid(format!(
                            "sort direction for {k} must be 1 or -1"
                        )));
                    }
                },
            };
            if k.is_empty() || k.split('.').any(str::is_empty) {
                return Err(DbError::invalid(format!("invalid sort field \"{k}\"")));
            }
            Ok((k.split('.').map(str::to_string).collect(), dir))
        })
        .collect()
}

/// Value used when sorting a document by `path` in direction `dir` (1 or −1): arrays sort by
/// their smallest element ascending and their largest descending; a missing field sorts as null.
pub(crate) fn sort_key(doc: &Document, path: &[&str], dir: i32) -> Bson {
    let mut found = Vec::new();
    lookup_all(doc, path, &mut found);
    let mut best: Option<&Bson> = None;
    let mut flat: Vec<&Bson> = Vec::new();
    for v in &found {
        match v {
            Bson::Array(a) if a.is_empty() => flat.push(&Bson::Undefined),
            Bson::Array(a) => flat.extend(a.iter()),
            other => flat.push(other),
        }
    }
    for v in flat {
        best = match best {
            None => Some(v),
            Some(b) => {
                let o = compare(v, b);
                if (dir >= 0 && o == Ordering::Less) || (dir < 0 && o == Ordering::Greater) {
                    Some(v)
                } else {
                    Some(b)
                }
            }
        };
    }
    best.cloned().unwrap_or(Bson::Null)
}

/// Compare two documents by a sort specification (`[(path, dir)]`).
pub(crate) fn compare_by_sort(a: &Document, b: &Document, spec: &[(Vec<String>, i32)]) -> Ordering {
    for (path, dir) in spec {
        let p: Vec<&str> = path.iter().map(|s| s.as_str()).collect();
        let ka = sort_key(a, &p, *dir);
        let kb = sort_key(b, &p, *dir);
        let o = compare(&ka, &kb);
        if o != Ordering::Equal {
            return if *dir < 0 { o.reverse() } else { o };
        }
    }
    Ordering::Equal
}

/// The last steps of a find, the same in every store: order the matches (by `sort`, else by
/// distance for a `$near` filter, else as read; `ordered`: they arrive in the right order
/// already), then skip, limit (the find's `(skip, limit)`) and project.
pub(crate) fn order_and_page(
    mut out: Vec<Document>,
    sort: Option<&[(Vec<String>, i32)]>,
    near: Option<&(Vec<String>, (f64, f64))>,
    ordered: bool,
    (skip, limit): (u64, Option<u64>),
    projection: Option<&crate::db::projection::Projection>,
) -> Vec<Document> {
    if !ordered {
        if let Some(spec) = sort {
            out.sort_by(|a, b| compare_by_sort(a, b, spec));
        } else if let Some((path, pt)) = near {
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            let dist = |d: &Document| {
                let mut vals = Vec::new();
                crate::db::fields::lookup_all(d, &p, &mut vals);
                vals.iter()
                    .filter_map(|v| crate::db::geo::point_of(v))
                    .map(|q| crate::db::geo::haversine_m(*pt, q))
                    .fold(f64::INFINITY, f64::min)
            };
            out.sort_by(|a, b| dist(a).total_cmp(&dist(b)));
        }
    }
    let it = out.into_iter().skip(skip as usize);
    let it: Box<dyn Iterator<Item = Document>> = match limit {
        Some(l) => Box::new(it.take(l as usize)),
        None => Box::new(it),
    };
    match projection {
        Some(p) => it.map(|d| p.apply(&d)).collect(),
        None => it.collect(),
    }
}
