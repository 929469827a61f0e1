//! A document's fields by dot path (`"a.b.0.c"`): reading with MongoDB's array traversal
//! ([`lookup_all`]), reading one value ([`get_path`]), setting with intermediate documents
//! ([`set_path`]) and removing ([`unset_path`]).

use crate::db::error::{DbError, DbResult};
use crate::db::value::kind_name;
use bson::{Bson, Document};

/// Every value reachable at `path` under `doc`, traversing arrays of documents like MongoDB
/// (`"a.b"` looks into each document element of array `a`; a numeric component indexes an array).
/// Arrays reached at the end of the path are returned whole; callers decide whether to look at
/// their elements.
pub(crate) fn lookup_all<'a>(doc: &'a Document, path: &[&str], out: &mut Vec<&'a Bson>) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if let Some(v) = doc.get(*first) {
        lookup_value(v, rest, out);
    }
}

fn lookup_value<'a>(v: &'a Bson, path: &[&str], out: &mut Vec<&'a Bson>) {
    let Some((first, rest)) = path.split_first() else {
        out.push(v);
        return;
    };
    match v {
        Bson::Document(d) => {
            if let Some(x) = d.get(*first) {
                lookup_value(x, rest, out);
            }
        }
        Bson::Array(arr) => {
            if let Ok(i) = first.parse::<usize>()
                && let Some(x) = arr.get(i)
            {
                lookup_value(x, rest, out);
            }
            for e in arr {
                if let Bson::Document(d) = e
                    && let Some(x) = d.get(*first)
                {
                    lookup_value(x, rest, out);
                }
            }
        }
        _ => {}
    }
}

/// The single value at `path` without array fan-out (numeric components index arrays).
pub(crate) fn get_path<'a>(doc: &'a Document, path: &str) -> Option<&'a Bson> {
    let mut parts = path.split('.');
    let mut cur = doc.get(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Bson::Document(d) => d.get(p)?,
            Bson::Array(a) => a.get(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Set `path` to `v`, creating intermediate documents.
pub(crate) fn set_path(doc: &mut Document, path: &str, v: Bson) -> DbResult<()> {
    // Each part may create a level of nesting (and `set_in_doc` recurses once per part).
    crate::db::limits::check_path("field", path)?;
    let parts: Vec<&str> = path.split('.').collect();
    set_in_doc(doc, &parts, v, path)
}

fn set_in_doc(doc: &mut Document, parts: &[&str], v: Bson, full: &str) -> DbResult<()> {
    let (first, rest) = parts
        .split_first()
        .ok_or_else(|| DbError::failed("empty path"))?;
    if rest.is_empty() {
        doc.insert(first.to_string(), v);
        return Ok(());
    }
    if !doc.contains_key(*first) {
        doc.insert(first.to_string(), Document::new());
    }
    let child = doc
        .get_mut(*first)
        .ok_or_else(|| DbError::internal("path vanished"))?;
    set_in_value(child, rest, v, full)
}

fn set_in_value(cur: &mut Bson, parts: &[&str], v: Bson, full: &str) -> DbResult<()> {
    match cur {
        Bson::Document(d) => set_in_doc(d, parts, v, full),
        Bson::Array(a) => {
            let (first, rest) = parts
                .split_first()
                .ok_or_else(|| DbError::failed("empty path"))?;
            let i: usize = first.parse().map_err(|_| {
                DbError::failed(format!(
                    "cannot use the part '{first}' of '{full}' to traverse an array"
                ))
            })?;
            if i > 100_000 {
                return Err(DbError::failed("array index too large"));
            }
            while a.len() <= i {
                a.push(Bson::Null);
            }
            if rest.is_empty() {
                a[i] = v;
                Ok(())
            } else {
                if matches!(a[i], Bson::Null) {
                    a[i] = Bson::Document(Document::new());
                }
                set_in_value(&mut a[i], rest, v, full)
            }
        }
        other => Err(DbError::failed(format!(
            "cannot create field in element of type {} for path '{full}'",
            kind_name(other)
        ))),
    }
}

/// Remove `path`. Returns whether something was removed. Array elements become null, as
/// MongoDB's `$unset` does.
pub(crate) fn unset_path(doc: &mut Document, path: &str) -> bool {
    if crate::db::limits::path_too_many_parts(path) {
        // Nothing can be that deep: documents nest at most MAX_DEPTH levels.
        return false;
    }
    let parts: Vec<&str> = path.split('.').collect();
    unset_in_doc(doc, &parts)
}

fn unset_in_doc(doc: &mut Document, parts: &[&str]) -> bool {
    let Some((first, rest)) = parts.split_first() else {
        return false;
    };
    if rest.is_empty() {
        return doc.remove(*first).is_some();
    }
    match doc.get_mut(*first) {
        Some(v) => unset_in_value(v, rest),
        None => false,
    }
}

fn unset_in_value(v: &mut Bson, parts: &[&str]) -> bool {
    match v {
        Bson::Document(d) => unset_in_doc(d, parts),
        Bson::Array(a) => {
            let Some((first, rest)) = parts.split_first() else {
                return false;
            };
            let Ok(i) = first.parse::<usize>() else {
                return false;
            };
            match a.get_mut(i) {
                Some(e) if rest.is_empty() => {
                    *e = Bson::Null;
                    true
                }
                Some(e) => unset_in_value(e, rest),
                None => false,
            }
        }
        _ => false,
    }
}
