//! Projections: `field()` in queries and the `$project` stage.
//!
//! Find projections (cloud-api.md §2.4): `{a: 1}` inclusion (plus `_id` unless `_id: 0`),
//! `{a: 0}` exclusion, dot paths (through arrays of documents), `{arr: {$slice: n | [skip, n]}}`
//! and `{arr: {$elemMatch: cond}}` (first matching element). Mixing inclusion and exclusion
//! (other than `_id`) is an error, as in MongoDB.

use crate::db::error::{DbError, DbResult};
use crate::db::expr::{eval_expr, truthy, validate_expr};
use crate::db::query::Filter;
use crate::db::value::as_num;
use bson::{Bson, Document};

#[derive(Debug, Clone)]
enum Item {
    Include,
    Exclude,
    Slice(i64, Option<i64>),
    ElemMatch(Filter),
}

/// A compiled find projection.
#[derive(Debug, Clone)]
pub(crate) struct Projection {
    items: Vec<(String, Item)>,
    inclusion: bool,
    exclude_id: bool,
}

impl Projection {
    /// Compile a projection document.
    pub(crate) fn parse(spec: &Document) -> DbResult<Projection> {
        crate::db::limits::check_request("projection", spec)?;
        let mut items = Vec::new();
        let (mut inc, mut exc) = (false, false);
        let mut exclude_id = false;
        let mut id_only = false;
        for (k, v) in spec {
            if k.is_empty() || k.starts_with('$') || k.split('.').any(str::is_empty) {
                return Err(DbError::invalid(format!(
                    "invalid projection field \"{k}\""
                )));
            }
            let item = match v {
                Bson::Document(d) if d.len() == 1 && d.contains_key("$slice") => {
                    let a = d.get("$slice").unwrap_or(&Bson::Null);
                    match a {
                        Bson::Array(p) if p.len() == 2 => {
                            let s = as_num(&p[0]).map(|n| n.as_f64() as i64);
                            let n = as_num(&p[1]).map(|n| n.as_f64() as i64);
                            match (s, n) {
                                (Some(s), Some(n)) if n > 0 => Item::Slice(s, Some(n)),
                                _ => return Err(DbError::invalid("$slice needs [skip, n>0]")),
                            }
                        }
                        other => match as_num(other) {
                            Some(n) => Item::Slice(n.as_f64() as i64, None),
                            None => return Err(DbError::invalid("$slice needs n or [skip, n]")),
                        },
                    }
                }
                Bson::Document(d) if d.len() == 1 && d.contains_key("$elemMatch") => {
                    let Some(Bson::Document(c)) = d.get("$elemMatch") else {
                        return Err(DbError::invalid("$elemMatch needs an object"));
                    };
                    inc = true;
                    Item::ElemMatch(Filter::parse(c)?)
                }
                Bson::Document(_) | Bson::Array(_) | Bson::String(_) => {
                    return Err(DbError::invalid(format!(
                        "projection value for \"{k}\" must be 1, 0, true, false, $slice or $elemMatch"
                    )));
                }
                other => {
                    if truthy(other) {
                        Item::Include
                    } else {
                        Item::Exclude
                    }
                }
            };
            if k == "_id" {
                match item {
                    Item::Exclude => exclude_id = true,
                    _ => id_only = true,
                }
                continue;
            }
            match item {
                Item::Include => inc = true,
                Item::Exclude => exc = true,
                _ => {}
            }
            items.push((k.clone(), item));
        }
        if inc && exc {
            return Err(DbError::invalid(
                "projection cannot mix inclusion and exclusion (except _id)",
            ));
        }
        // `{_id: 1}` alone projects only `_id`.
        let inclusion = inc || (id_only && !exc && items.is_empty());
        Ok(Projection {
            items,
            inclusion,
            exclude_id,
        })
    }

    /// Apply to a document.
    pub(crate) fn apply(&self, doc: &Document) -> Document {
        let mut out = if self.inclusion {
            let mut out = Document::new();
            if !self.exclude_id
                && let Some(id) = doc.get("_id")
            {
                out.insert("_id", id.clone());
            }
            for (k, item) in &self.items {
                let parts: Vec<&str> = k.split('.').collect();
                match item {
                    Item::Include | Item::Slice(..) => include_path(doc, &parts, &mut out),
                    Item::ElemMatch(f) => {
                        if let Some(Bson::Array(a)) = doc.get(k)
                            && let Some(e) = a
                                .iter()
                                .find(|e| matches!(e, Bson::Document(d) if f.matches(d)))
                        {
                            out.insert(k.clone(), Bson::Array(vec![e.clone()]));
                        }
                    }
                    Item::Exclude => {}
                }
            }
            out
        } else {
            let mut out = doc.clone();
            if self.exclude_id {
                out.remove("_id");
            }
            for (k, item) in &self.items {
                if let Item::Exclude = item {
                    exclude_path(&mut out, &k.split('.').collect::<Vec<_>>());
                }
            }
            out
        };
        for (k, item) in &self.items {
            if let Item::Slice(s, n) = item
                && let Some(Bson::Array(a)) = get_mut(&mut out, k)
            {
                slice(a, *s, *n);
            }
        }
        out
    }
}

fn get_mut<'a>(doc: &'a mut Document, path: &str) -> Option<&'a mut Bson> {
    let mut parts = path.split('.');
    let mut cur = doc.get_mut(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Bson::Document(d) => d.get_mut(p)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn slice(a: &mut Vec<Bson>, s: i64, n: Option<i64>) {
    let len = a.len() as i64;
    let (start, count) = match n {
        None if s >= 0 => (0, s),
        None => ((len + s).max(0), s.saturating_neg()),
        Some(n) => (if s < 0 { (len + s).max(0) } else { s.min(len) }, n),
    };
    let v: Vec<Bson> = a
        .iter()
        .skip(start as usize)
        .take(count.max(0) as usize)
        .cloned()
        .collect();
    *a = v;
}

fn include_path(src: &Document, parts: &[&str], out: &mut Document) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    let Some(v) = src.get(*first) else { return };
    if rest.is_empty() {
        out.insert(first.to_string(), v.clone());
        return;
    }
    match v {
        Bson::Document(sd) => {
            let mut sub = match out.get(*first) {
                Some(Bson::Document(d)) => d.clone(),
                _ => Document::new(),
            };
            include_path(sd, rest, &mut sub);
            out.insert(first.to_string(), sub);
        }
        Bson::Array(arr) => {
            let prev = match out.get(*first) {
                Some(Bson::Array(p)) => p.clone(),
                _ => Vec::new(),
            };
            let mut res = Vec::new();
            for (i, e) in arr.iter().enumerate() {
                if let Bson::Document(ed) = e {
                    let mut sub = match prev.get(i) {
                        Some(Bson::Document(d)) => d.clone(),
                        _ => Document::new(),
                    };
                    include_path(ed, rest, &mut sub);
                    res.push(Bson::Document(sub));
                }
            }
            out.insert(first.to_string(), Bson::Array(res));
        }
        _ => {}
    }
}

fn exclude_path(doc: &mut Document, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if rest.is_empty() {
        doc.remove(*first);
        return;
    }
    match doc.get_mut(*first) {
        Some(Bson::Document(d)) => exclude_path(d, rest),
        Some(Bson::Array(a)) => {
            for e in a.iter_mut() {
                if let Bson::Document(d) = e {
                    exclude_path(d, rest);
                }
            }
        }
        _ => {}
    }
}

/// Check a `$project` stage spec.
pub(crate) fn validate_aggregate_project(spec: &Document) -> DbResult<()> {
    let (mut inc, mut exc) = (false, false);
    for (k, v) in spec {
        if k.is_empty() || k.starts_with('$') {
            return Err(DbError::invalid(format!("invalid $project field \"{k}\"")));
        }
        match v {
            Bson::Boolean(_) | Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) => {
                if k != "_id" {
                    if truthy(v) { inc = true } else { exc = true }
                }
            }
            other => {
                validate_expr(other)?;
                inc = true;
            }
        }
    }
    if inc && exc {
        return Err(DbError::invalid(
            "$project cannot mix inclusion and exclusion",
        ));
    }
    Ok(())
}

/// Apply a `$project` stage (inclusion, exclusion or computed fields) to a document.
pub(crate) fn aggregate_project(doc: &Document, spec: &Document) -> DbResult<Document> {
    let exclusion = spec.iter().all(|(k, v)| {
        k == "_id" && !matches!(v, Bson::Document(_) | Bson::String(_) | Bson::Array(_))
            || matches!(v, Bson::Boolean(false))
            || as_num(v).is_some_and(|n| n.as_f64() == 0.0)
    }) && spec.iter().any(|(k, v)| k != "_id" || !truthy(v));
    if exclusion {
        let mut out = doc.clone();
        for (k, _) in spec {
            exclude_path(&mut out, &k.split('.').collect::<Vec<_>>());
        }
        return Ok(out);
    }
    let mut out = Document::new();
    let id_spec = spec.get("_id");
    let id_excluded = id_spec.is_some_and(|v| {
        matches!(v, Bson::Boolean(false)) || as_num(v).is_some_and(|n| n.as_f64() == 0.0)
    });
    if !id_excluded
        && !id_spec.is_some_and(|v| matches!(v, Bson::Document(_) | Bson::String(_)))
        && let Some(id) = doc.get("_id")
    {
        out.insert("_id", id.clone());
    }
    for (k, v) in spec {
        match v {
            Bson::Boolean(_) | Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) => {
                if k != "_id" && truthy(v) {
                    include_path(doc, &k.split('.').collect::<Vec<_>>(), &mut out);
                }
            }
            expr => {
                let r = eval_expr(expr, doc)?;
                if !matches!(r, Bson::Undefined) {
                    crate::db::fields::set_path(&mut out, k, r)?;
                }
            }
        }
    }
    Ok(out)
}
