//! Update engine: replacement documents (`doc.set`) and update operators.
//!
//! Operators (cloud-api.md §2.5): `$set $unset $inc $mul $min $max $rename $push` (with
//! `$each $position $sort $slice`) `$pop $pull $pullAll $addToSet` (with `$each`). Dot paths
//! create intermediate documents (numeric components index arrays, padding with null); `_id`
//! cannot be changed; two operators on the same or overlapping paths are rejected, as MongoDB
//! does. `$bit` and `$currentDate` are not supported (`INVALID_PARAM`).

use crate::db::error::{DbError, DbResult};
use crate::db::fields::{get_path, set_path, unset_path};
use crate::db::query::element_matches;
use crate::db::sort::{compare_by_sort, sort_spec};
use crate::db::value::{Num, as_num, compare, values_equal};
use bson::{Bson, Document};

/// A validated update.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// Replace the whole document (keeping `_id`): `doc.set`.
    Replace(Document),
    /// Apply update operators (`$set`, `$inc`, ...).
    Operators(Document),
}

const OPS: &[&str] = &[
    "$set",
    "$unset",
    "$inc",
    "$mul",
    "$min",
    "$max",
    "$rename",
    "$push",
    "$pop",
    "$pull",
    "$pullAll",
    "$addToSet",
];

impl Update {
    /// A replacement document: no top-level operators (SDK: "update operator complicit").
    pub fn replace(doc: Document) -> DbResult<Update> {
        crate::db::limits::check_keys("set data", &doc)?;
        if let Some(k) = doc.keys().find(|k| k.starts_with('$')) {
            return Err(DbError::invalid(format!(
                "set data must not contain update operators (found {k})"
            )));
        }
        check_keys(&doc)?;
        Ok(Update::Replace(doc))
    }

    /// An operator update. Every key must be a known operator whose value is an object; `_id`
    /// may not be touched; paths may not overlap.
    pub fn operators(doc: Document) -> DbResult<Update> {
        crate::db::limits::check_keys("update", &doc)?;
        let mut paths: Vec<String> = Vec::new();
        for (op, arg) in &doc {
            if !OPS.contains(&op.as_str()) {
                return Err(DbError::invalid(if op.starts_with('$') {
                    format!("unknown update operator {op}")
                } else {
                    format!("update mixes operators and plain field \"{op}\"")
                }));
            }
            let Bson::Document(fields) = arg else {
                return Err(DbError::invalid(format!("{op} needs an object")));
            };
            for (path, v) in fields {
                check_path(path)?;
                if path == "_id" || path.starts_with("_id.") {
                    return Err(DbError::invalid("_id cannot be updated"));
                }
                let mut mine = vec![path.clone()];
                if op == "$rename" {
                    let Bson::String(to) = v else {
                        return Err(DbError::invalid("$rename target must be a string"));
                    };
                    check_path(to)?;
                    if to == "_id" || to == path {
                        return Err(DbError::invalid("invalid $rename target"));
                    }
                    mine.push(to.clone());
                }
                for p in mine {
                    if let Some(other) = paths.iter().find(|q| overlaps(q, &p)) {
                        return Err(DbError::invalid(format!(
                            "updating the path '{p}' would create a conflict at '{other}'"
                        )));
                    }
                    paths.push(p);
                }
                validate_arg(op, v)?;
            }
        }
        Ok(Update::Operators(doc))
    }

    /// The update a `database.modifyDocument` asks for: `merge` → operators (plain top-level
    /// fields go into `$set`, as the SDK's `update()` already does); else a replacement.
    pub fn from_data(data: Document, merge: bool) -> DbResult<Update> {
        if !merge {
            return Update::replace(data);
        }
        let mut ops = Document::new();
        let mut set = Document::new();
        for (k, v) in data {
            if k.starts_with('$') {
                ops.insert(k, v);
            } else {
                set.insert(k, v);
            }
        }
        if !set.is_empty() {
            match ops.get_mut("$set") {
                Some(Bson::Document(s)) => s.extend(set),
                _ => {
                    ops.insert("$set", set);
                }
            }
        }
        if ops.is_empty() {
            return Err(DbError::invalid("update data is empty"));
        }
        Update::operators(ops)
    }

    /// Does the update write `path` (or a parent/child of it)?
    pub fn touches(&self, path: &str) -> bool {
        match self {
            Update::Replace(d) => d.contains_key(path.split('.').next().unwrap_or(path)),
            Update::Operators(d) => d.iter().any(|(op, arg)| {
                let Bson::Document(f) = arg else { return false };
                f.iter().any(|(p, v)| {
                    overlaps(p, path)
                        || (op == "$rename" && matches!(v, Bson::String(t) if overlaps(t, path)))
                })
            }),
        }
    }

    /// Apply to `doc` in place. Returns whether the document changed.
    pub fn apply(&self, doc: &mut Document) -> DbResult<bool> {
        let before = doc.clone();
        match self {
            Update::Replace(new) => {
                let id = doc.get("_id").cloned();
                if let (Some(old), Some(n)) = (&id, new.get("_id"))
                    && !values_equal(old, n)
                {
                    return Err(DbError::failed("_id cannot be changed"));
                }
                let mut out = Document::new();
                if let Some(id) = id {
                    out.insert("_id", id);
                }
                for (k, v) in new {
                    if k != "_id" {
                        out.insert(k.clone(), v.clone());
                    }
                }
                *doc = out;
            }
            Update::Operators(ops) => {
                for (op, arg) in ops {
                    let Bson::Document(fields) = arg else {
                        continue;
                    };
                    for (path, v) in fields {
                        apply_op(doc, op, path, v)?;
                    }
                }
            }
        }
        Ok(*doc != before)
    }
}

fn check_path(p: &str) -> DbResult<()> {
    if p.is_empty() || p.split('.').any(|s| s.is_empty() || s.starts_with('$')) {
        return Err(DbError::invalid(format!("invalid field path \"{p}\"")));
    }
    Ok(())
}

fn check_keys(d: &Document) -> DbResult<()> {
    for (k, v) in d {
        if k.is_empty() || k.contains('.') && !k.starts_with('$') {
            return Err(DbError::invalid(format!("invalid field name \"{k}\"")));
        }
        if let Bson::Document(sub) = v
            && crate::db::ejson::server_date_offset(v).is_none()
        {
            check_keys(sub)?;
        }
    }
    Ok(())
}

fn overlaps(a: &str, b: &str) -> bool {
    a == b
        || (a.len() > b.len() && a.starts_with(b) && a.as_bytes()[b.len()] == b'.')
        || (b.len() > a.len() && b.starts_with(a) && b.as_bytes()[a.len()] == b'.')
}

fn validate_arg(op: &str, v: &Bson) -> DbResult<()> {
    match op {
        "$inc" | "$mul" if as_num(v).is_none() => {
            Err(DbError::invalid(format!("{op} needs a number")))
        }
        "$pop" => match as_num(v).map(|n| n.as_f64()) {
            Some(x) if x == 1.0 || x == -1.0 => Ok(()),
            _ => Err(DbError::invalid("$pop needs 1 or -1")),
        },
        "$pullAll" if !matches!(v, Bson::Array(_)) => {
            Err(DbError::invalid("$pullAll needs an array"))
        }
        "$push" | "$addToSet" => {
            if let Bson::Document(d) = v
                && d.contains_key("$each")
            {
                if !matches!(d.get("$each"), Some(Bson::Array(_))) {
                    return Err(DbError::invalid(format!("{op}: $each needs an array")));
                }
                for k in d.keys() {
                    let ok = match op {
                        "$push" => matches!(k.as_str(), "$each" | "$position" | "$sort" | "$slice"),
                        _ => k == "$each",
                    };
                    if !ok {
                        return Err(DbError::invalid(format!("{op}: unknown modifier {k}")));
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn get_mut_path<'a>(doc: &'a mut Document, path: &str) -> Option<&'a mut Bson> {
    let mut parts = path.split('.');
    let mut cur = doc.get_mut(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Bson::Document(d) => d.get_mut(p)?,
            Bson::Array(a) => a.get_mut(p.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn num_op(op: &str, cur: &Bson, arg: &Bson, path: &str) -> DbResult<Bson> {
    let a = as_num(cur).ok_or_else(|| {
        DbError::failed(format!("cannot apply {op} to a non-numeric field '{path}'"))
    })?;
    let b = as_num(arg).ok_or_else(|| DbError::failed(format!("{op} needs a number")))?;
    let wide = matches!(cur, Bson::Int64(_)) || matches!(arg, Bson::Int64(_));
    Ok(match (a, b) {
        (Num::Int(x), Num::Int(y)) if !matches!(cur, Bson::Decimal128(_)) => {
            let r = if op == "$inc" {
                x.checked_add(y)
            } else {
                x.checked_mul(y)
            };
            match r {
                Some(r) if !wide => match i32::try_from(r) {
                    Ok(v) => Bson::Int32(v),
                    Err(_) => Bson::Int64(r),
                },
                Some(r) => Bson::Int64(r),
                None => {
                    return Err(DbError::failed(format!(
                        "{op} on '{path}' overflows a 64-bit integer"
                    )));
                }
            }
        }
        _ => {
            let (x, y) = (a.as_f64(), b.as_f64());
            Bson::Double(if op == "$inc" { x + y } else { x * y })
        }
    })
}

fn zero_like(arg: &Bson) -> Bson {
    match arg {
        Bson::Int32(_) => Bson::Int32(0),
        Bson::Int64(_) => Bson::Int64(0),
        _ => Bson::Double(0.0),
    }
}

fn array_at<'a>(
    doc: &'a mut Document,
    path: &str,
    op: &str,
    create: bool,
) -> DbResult<Option<&'a mut Vec<Bson>>> {
    if get_path(doc, path).is_none() {
        if !create {
            return Ok(None);
        }
        set_path(doc, path, Bson::Array(Vec::new()))?;
    }
    match get_mut_path(doc, path) {
        Some(Bson::Array(a)) => Ok(Some(a)),
        Some(_) => Err(DbError::failed(format!(
            "{op} needs '{path}' to be an array"
        ))),
        None => Ok(None),
    }
}

fn apply_op(doc: &mut Document, op: &str, path: &str, arg: &Bson) -> DbResult<()> {
    match op {
        "$set" => set_path(doc, path, arg.clone())?,
        "$unset" => {
            unset_path(doc, path);
        }
        "$inc" | "$mul" => {
            let new = match get_path(doc, path) {
                Some(cur) => num_op(op, cur, arg, path)?,
                None if op == "$inc" => arg.clone(),
                None => zero_like(arg),
            };
            set_path(doc, path, new)?;
        }
        "$min" | "$max" => {
            let replace = match get_path(doc, path) {
                None => true,
                Some(cur) => {
                    let o = compare(arg, cur);
                    if op == "$min" { o.is_lt() } else { o.is_gt() }
                }
            };
            if replace {
                set_path(doc, path, arg.clone())?;
            }
        }
        "$rename" => {
            let Bson::String(to) = arg else {
                return Err(DbError::failed("$rename target must be a string"));
            };
            if let Some(v) = get_path(doc, path).cloned() {
                unset_path(doc, path);
                set_path(doc, to, v)?;
            }
        }
        "$push" => {
            let (items, position, sort, slice) = match arg {
                Bson::Document(d) if d.contains_key("$each") => (
                    d.get_array("$each").cloned().unwrap_or_default(),
                    d.get("$position")
                        .and_then(as_num)
                        .map(|n| n.as_f64() as i64),
                    d.get("$sort").cloned(),
                    d.get("$slice").and_then(as_num).map(|n| n.as_f64() as i64),
                ),
                other => (vec![other.clone()], None, None, None),
            };
            let Some(arr) = array_at(doc, path, op, true)? else {
                return Ok(());
            };
            let len = arr.len() as i64;
            let pos = match position {
                None => len,
                Some(p) if p < 0 => (len + p).max(0),
                Some(p) => p.min(len),
            } as usize;
            for (i, it) in items.into_iter().enumerate() {
                arr.insert(pos + i, it);
            }
            if let Some(s) = sort {
                match &s {
                    Bson::Document(spec) => {
                        let spec = sort_spec(spec)?;
                        arr.sort_by(|a, b| match (a, b) {
                            (Bson::Document(x), Bson::Document(y)) => compare_by_sort(x, y, &spec),
                            _ => compare(a, b),
                        });
                    }
                    other => {
                        let dir = as_num(other).map(|n| n.as_f64()).unwrap_or(1.0);
                        arr.sort_by(|a, b| {
                            if dir < 0.0 {
                                compare(b, a)
                            } else {
                                compare(a, b)
                            }
                        });
                    }
                }
            }
            if let Some(n) = slice {
                if n >= 0 {
                    arr.truncate(n as usize);
                } else {
                    let keep = n.saturating_neg() as usize;
                    if arr.len() > keep {
                        arr.drain(..arr.len() - keep);
                    }
                }
            }
        }
        "$addToSet" => {
            let items = match arg {
                Bson::Document(d) if d.contains_key("$each") => {
                    d.get_array("$each").cloned().unwrap_or_default()
                }
                other => vec![other.clone()],
            };
            let Some(arr) = array_at(doc, path, op, true)? else {
                return Ok(());
            };
            for it in items {
                if !arr.iter().any(|e| values_equal(e, &it)) {
                    arr.push(it);
                }
            }
        }
        "$pop" => {
            let first = as_num(arg).map(|n| n.as_f64() < 0.0).unwrap_or(false);
            if let Some(arr) = array_at(doc, path, op, false)? {
                if first {
                    if !arr.is_empty() {
                        arr.remove(0);
                    }
                } else {
                    arr.pop();
                }
            }
        }
        "$pull" => {
            if let Some(arr) = array_at(doc, path, op, false)? {
                let mut keep = Vec::with_capacity(arr.len());
                for e in arr.drain(..) {
                    if !element_matches(arg, &e)? {
                        keep.push(e);
                    }
                }
                *arr = keep;
            }
        }
        "$pullAll" => {
            let Bson::Array(items) = arg else {
                return Err(DbError::failed("$pullAll needs an array"));
            };
            if let Some(arr) = array_at(doc, path, op, false)? {
                arr.retain(|e| !items.iter().any(|x| values_equal(x, e)));
            }
        }
        other => return Err(DbError::failed(format!("unknown update operator {other}"))),
    }
    Ok(())
}

/// The document an upsert starts from: the equality conditions of the filter (top-level
/// `field: value`, `{$eq: value}`, and those inside a top-level `$and`).
pub fn upsert_base(filter: &Document) -> DbResult<Document> {
    let mut out = Document::new();
    collect_equalities(filter, &mut out)?;
    Ok(out)
}

fn collect_equalities(filter: &Document, out: &mut Document) -> DbResult<()> {
    for (k, v) in filter {
        if k == "$and" {
            if let Bson::Array(items) = v {
                for it in items {
                    if let Bson::Document(d) = it {
                        collect_equalities(d, out)?;
                    }
                }
            }
            continue;
        }
        if k.starts_with('$') {
            continue;
        }
        let value = match v {
            Bson::Document(d) if d.keys().next().is_some_and(|x| x.starts_with('$')) => {
                match d.get("$eq") {
                    Some(x) if d.len() == 1 => x.clone(),
                    _ => continue,
                }
            }
            Bson::RegularExpression(_) => continue,
            other => other.clone(),
        };
        set_path(out, k, value)?;
    }
    Ok(())
}
