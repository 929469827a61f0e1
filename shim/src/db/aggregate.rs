//! Aggregation: pipelines and the expression language used by `$project`, `$group`,
//! `$addFields` and `$expr`.
//!
//! Stages: `$match $project $addFields/$set $unset $sort $skip $limit $count $group $unwind
//! $replaceRoot/$replaceWith $sortByCount $lookup` (equality form) `$sample $bucket $geoNear`.
//! Not supported (clear `INVALID_PARAM`): `$bucketAuto $facet $graphLookup $out` and others.
//!
//! Expressions: field paths `"$a.b"`, `$$ROOT`/`$$CURRENT`, `$literal`, arithmetic
//! (`$add $subtract $multiply $divide $mod $abs $ceil $floor $round $trunc`), strings
//! (`$concat $toUpper $toLower $substr $substrCP $strLenCP $split $trim $toString`),
//! comparison (`$eq $ne $gt $gte $lt $lte $cmp`), logic (`$and $or $not $cond $ifNull
//! $switch`), arrays (`$size $arrayElemAt $in $concatArrays $isArray $slice $first $last`),
//! and `$sum $avg $min $max` over arrays. A missing field evaluates to "missing" (internally
//! `Undefined`), which `$project`/`$addFields` omit, as MongoDB does.

use crate::db::error::{DbError, DbResult};
use crate::db::path::{get_path, lookup_all, set_path, unset_path};
use crate::db::query::Filter;
use crate::db::sort::{compare_by_sort, sort_spec};
use crate::db::value::{Num, as_num, compare, values_equal};
use crate::store::keys;
use bson::{Bson, Document};
use std::cmp::Ordering;
use std::collections::HashMap;

/// Build a stage document from the wire form `{stageKey, stageValue}` (`stageValue` is an
/// EJSON string, e.g. `"3"` for `$limit`).
pub fn stage_from_wire(stage_key: &str, stage_value: &str) -> DbResult<Document> {
    let v = crate::db::ejson::parse_value(stage_value)?;
    let mut d = Document::new();
    d.insert(stage_key, v);
    Ok(d)
}

/// Is a value "true" in the MongoDB sense (not false, null, missing or 0)?
pub fn truthy(v: &Bson) -> bool {
    match v {
        Bson::Boolean(b) => *b,
        Bson::Null | Bson::Undefined => false,
        Bson::Int32(i) => *i != 0,
        Bson::Int64(i) => *i != 0,
        Bson::Double(f) => *f != 0.0,
        _ => true,
    }
}

const OPS: &[&str] = &[
    "$literal",
    "$add",
    "$subtract",
    "$multiply",
    "$divide",
    "$mod",
    "$abs",
    "$ceil",
    "$floor",
    "$round",
    "$trunc",
    "$concat",
    "$toUpper",
    "$toLower",
    "$substr",
    "$substrCP",
    "$strLenCP",
    "$split",
    "$trim",
    "$toString",
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$cmp",
    "$and",
    "$or",
    "$not",
    "$cond",
    "$ifNull",
    "$switch",
    "$size",
    "$arrayElemAt",
    "$in",
    "$concatArrays",
    "$isArray",
    "$slice",
    "$first",
    "$last",
    "$sum",
    "$avg",
    "$min",
    "$max",
];

/// Check an expression for unknown operators (so bad input fails up front).
pub fn validate_expr(e: &Bson) -> DbResult<()> {
    match e {
        Bson::Document(d) => {
            if let Some((k, v)) = op_of(d) {
                if !OPS.contains(&k) {
                    return Err(DbError::invalid(format!("unknown expression operator {k}")));
                }
                if k == "$literal" {
                    return Ok(());
                }
                validate_expr(v)
            } else {
                d.values().try_for_each(validate_expr)
            }
        }
        Bson::Array(a) => a.iter().try_for_each(validate_expr),
        _ => Ok(()),
    }
}

fn op_of(d: &Document) -> Option<(&str, &Bson)> {
    if d.len() == 1 {
        let (k, v) = d.iter().next()?;
        if k.starts_with('$') {
            return Some((k.as_str(), v));
        }
    }
    None
}

fn field_value(doc: &Document, path: &str) -> Bson {
    let parts: Vec<&str> = path.split('.').collect();
    // Without arrays on the way, a single value; through arrays, the array of found values.
    let mut cur: Option<&Bson> = doc.get(parts[0]);
    for (i, p) in parts.iter().enumerate().skip(1) {
        match cur {
            Some(Bson::Document(d)) => cur = d.get(*p),
            Some(Bson::Array(_)) => {
                let mut out = Vec::new();
                lookup_all(doc, &parts, &mut out);
                let _ = i;
                return Bson::Array(out.into_iter().cloned().collect());
            }
            _ => return Bson::Undefined,
        }
    }
    cur.cloned().unwrap_or(Bson::Undefined)
}

fn args(v: &Bson) -> Vec<&Bson> {
    match v {
        Bson::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

fn eval_args(v: &Bson, doc: &Document) -> DbResult<Vec<Bson>> {
    args(v).into_iter().map(|a| eval_expr(a, doc)).collect()
}

fn nargs<const N: usize>(op: &str, v: &Bson, doc: &Document) -> DbResult<[Bson; N]> {
    let a = eval_args(v, doc)?;
    a.try_into()
        .map_err(|_| DbError::invalid(format!("{op} takes {N} argument(s)")))
}

fn num_result(f: f64, all_int: bool) -> Bson {
    if all_int && f.fract() == 0.0 && f.abs() < 9.0e15 {
        let i = f as i64;
        match i32::try_from(i) {
            Ok(x) => Bson::Int32(x),
            Err(_) => Bson::Int64(i),
        }
    } else {
        Bson::Double(f)
    }
}

fn is_nullish(v: &Bson) -> bool {
    matches!(v, Bson::Null | Bson::Undefined)
}

fn arith(op: &str, vals: &[Bson]) -> DbResult<Bson> {
    if vals.iter().any(is_nullish) {
        return Ok(Bson::Null);
    }
    let mut date: Option<i64> = None;
    let mut nums = Vec::new();
    for v in vals {
        match v {
            Bson::DateTime(d) if date.is_none() && (op == "$add" || op == "$subtract") => {
                date = Some(d.timestamp_millis())
            }
            Bson::DateTime(d) if op == "$subtract" && date.is_some() => {
                nums.push(Num::Int(d.timestamp_millis()))
            }
            other => nums
                .push(as_num(other).ok_or_else(|| {
                    DbError::invalid(format!("{op} only supports numeric types"))
                })?),
        }
    }
    let all_int = nums.iter().all(|n| matches!(n, Num::Int(_)));
    let f: Vec<f64> = nums.iter().map(|n| n.as_f64()).collect();
    let r = match op {
        "$add" => f.iter().sum(),
        "$multiply" => f.iter().product(),
        "$subtract" => {
            if let Some(d) = date {
                let sub = f.first().copied().unwrap_or(0.0);
                if matches!(vals.get(1), Some(Bson::DateTime(_))) {
                    return Ok(Bson::Int64(d.saturating_sub(sub as i64)));
                }
                return Ok(Bson::DateTime(bson::DateTime::from_millis(
                    d.saturating_sub(sub as i64),
                )));
            }
            f.first().copied().unwrap_or(0.0) - f.get(1).copied().unwrap_or(0.0)
        }
        "$divide" => {
            let d = f.get(1).copied().unwrap_or(0.0);
            if d == 0.0 {
                return Err(DbError::invalid("$divide by zero"));
            }
            return Ok(Bson::Double(f.first().copied().unwrap_or(0.0) / d));
        }
        "$mod" => {
            let d = f.get(1).copied().unwrap_or(0.0);
            if d == 0.0 {
                return Err(DbError::invalid("$mod by zero"));
            }
            f.first().copied().unwrap_or(0.0) % d
        }
        _ => 0.0,
    };
    if let Some(d) = date {
        return Ok(Bson::DateTime(bson::DateTime::from_millis(
            d.saturating_add(r as i64),
        )));
    }
    Ok(num_result(r, all_int))
}

fn to_string(v: &Bson) -> Bson {
    match v {
        Bson::String(s) => Bson::String(s.clone()),
        Bson::Null | Bson::Undefined => Bson::Null,
        Bson::Int32(i) => Bson::String(i.to_string()),
        Bson::Int64(i) => Bson::String(i.to_string()),
        Bson::Double(f) => Bson::String(f.to_string()),
        Bson::Boolean(b) => Bson::String(b.to_string()),
        Bson::ObjectId(o) => Bson::String(o.to_hex()),
        Bson::DateTime(d) => Bson::String(
            d.try_to_rfc3339_string()
                .unwrap_or_else(|_| d.timestamp_millis().to_string()),
        ),
        other => Bson::String(other.to_string()),
    }
}

/// Evaluate an aggregation expression against a document.
pub fn eval_expr(e: &Bson, doc: &Document) -> DbResult<Bson> {
    match e {
        Bson::String(s) if s.starts_with("$$") => match s.as_str() {
            "$$ROOT" | "$$CURRENT" => Ok(Bson::Document(doc.clone())),
            _ if s.starts_with("$$ROOT.") || s.starts_with("$$CURRENT.") => {
                let rest = s.split_once('.').map(|x| x.1).unwrap_or("");
                Ok(field_value(doc, rest))
            }
            _ => Err(DbError::invalid(format!("unknown variable {s}"))),
        },
        Bson::String(s) if s.len() > 1 && s.starts_with('$') => Ok(field_value(doc, &s[1..])),
        Bson::Array(a) => Ok(Bson::Array(
            a.iter()
                .map(|x| eval_expr(x, doc))
                .collect::<DbResult<_>>()?,
        )),
        Bson::Document(d) => match op_of(d) {
            Some((op, arg)) => eval_op(op, arg, doc),
            None => {
                let mut out = Document::new();
                for (k, v) in d {
                    let r = eval_expr(v, doc)?;
                    if !matches!(r, Bson::Undefined) {
                        out.insert(k.clone(), r);
                    }
                }
                Ok(Bson::Document(out))
            }
        },
        other => Ok(other.clone()),
    }
}

fn eval_op(op: &str, arg: &Bson, doc: &Document) -> DbResult<Bson> {
    Ok(match op {
        "$literal" => arg.clone(),
        "$add" | "$subtract" | "$multiply" | "$divide" | "$mod" => {
            arith(op, &eval_args(arg, doc)?)?
        }
        "$abs" | "$ceil" | "$floor" | "$round" | "$trunc" => {
            let a = eval_args(arg, doc)?;
            let Some(v) = a.first() else {
                return Err(DbError::invalid(format!("{op} needs an argument")));
            };
            if is_nullish(v) {
                return Ok(Bson::Null);
            }
            let n = as_num(v)
                .ok_or_else(|| DbError::invalid(format!("{op} only supports numeric types")))?;
            let is_int = matches!(n, Num::Int(_));
            let f = n.as_f64();
            let r = match op {
                "$abs" => f.abs(),
                "$ceil" => f.ceil(),
                "$floor" => f.floor(),
                "$trunc" => f.trunc(),
                _ => {
                    let places = a.get(1).and_then(as_num).map(|p| p.as_f64()).unwrap_or(0.0);
                    let m = 10f64.powi(places as i32);
                    (f * m).round() / m
                }
            };
            if is_int {
                num_result(r, true)
            } else {
                Bson::Double(r)
            }
        }
        "$concat" => {
            let mut s = String::new();
            for v in eval_args(arg, doc)? {
                match v {
                    Bson::String(x) => s.push_str(&x),
                    Bson::Null | Bson::Undefined => return Ok(Bson::Null),
                    _ => return Err(DbError::invalid("$concat only supports strings")),
                }
            }
            Bson::String(s)
        }
        "$toUpper" | "$toLower" => {
            let [v] = nargs::<1>(op, arg, doc)?;
            let s = match to_string(&v) {
                Bson::String(s) => s,
                _ => String::new(),
            };
            Bson::String(if op == "$toUpper" {
                s.to_uppercase()
            } else {
                s.to_lowercase()
            })
        }
        "$toString" => to_string(&nargs::<1>(op, arg, doc)?[0]),
        "$substr" | "$substrCP" => {
            let [s, start, len] = nargs::<3>(op, arg, doc)?;
            let s = match s {
                Bson::String(s) => s,
                _ => String::new(),
            };
            let start = as_num(&start)
                .map(|n| n.as_f64().max(0.0) as usize)
                .unwrap_or(0);
            let len = as_num(&len).map(|n| n.as_f64()).unwrap_or(-1.0);
            let chars = s.chars().skip(start);
            Bson::String(if len < 0.0 {
                chars.collect()
            } else {
                chars.take(len as usize).collect()
            })
        }
        "$strLenCP" => match &nargs::<1>(op, arg, doc)?[0] {
            Bson::String(s) => Bson::Int32(s.chars().count() as i32),
            _ => return Err(DbError::invalid("$strLenCP needs a string")),
        },
        "$split" => {
            let [s, sep] = nargs::<2>(op, arg, doc)?;
            match (s, sep) {
                (Bson::String(s), Bson::String(sep)) if !sep.is_empty() => Bson::Array(
                    s.split(sep.as_str())
                        .map(|x| Bson::String(x.to_string()))
                        .collect(),
                ),
                (Bson::Null | Bson::Undefined, _) => Bson::Null,
                _ => return Err(DbError::invalid("$split needs two strings")),
            }
        }
        "$trim" => {
            let Bson::Document(d) = arg else {
                return Err(DbError::invalid("$trim needs {input}"));
            };
            match eval_expr(d.get("input").unwrap_or(&Bson::Null), doc)? {
                Bson::String(s) => Bson::String(s.trim().to_string()),
                _ => Bson::Null,
            }
        }
        "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte" | "$cmp" => {
            let [a, b] = nargs::<2>(op, arg, doc)?;
            let a = if matches!(a, Bson::Undefined) {
                Bson::Null
            } else {
                a
            };
            let b = if matches!(b, Bson::Undefined) {
                Bson::Null
            } else {
                b
            };
            let o = compare(&a, &b);
            match op {
                "$eq" => Bson::Boolean(o == Ordering::Equal),
                "$ne" => Bson::Boolean(o != Ordering::Equal),
                "$gt" => Bson::Boolean(o == Ordering::Greater),
                "$gte" => Bson::Boolean(o != Ordering::Less),
                "$lt" => Bson::Boolean(o == Ordering::Less),
                "$lte" => Bson::Boolean(o != Ordering::Greater),
                _ => Bson::Int32(o as i32),
            }
        }
        "$and" => Bson::Boolean(eval_args(arg, doc)?.iter().all(truthy)),
        "$or" => Bson::Boolean(eval_args(arg, doc)?.iter().any(truthy)),
        "$not" => Bson::Boolean(!eval_args(arg, doc)?.first().is_some_and(truthy)),
        "$cond" => {
            let (c, t, f) = match arg {
                Bson::Document(d) => (
                    d.get("if").cloned().unwrap_or(Bson::Null),
                    d.get("then").cloned().unwrap_or(Bson::Null),
                    d.get("else").cloned().unwrap_or(Bson::Null),
                ),
                Bson::Array(a) if a.len() == 3 => (a[0].clone(), a[1].clone(), a[2].clone()),
                _ => {
                    return Err(DbError::invalid(
                        "$cond needs {if, then, else} or [if, then, else]",
                    ));
                }
            };
            if truthy(&eval_expr(&c, doc)?) {
                eval_expr(&t, doc)?
            } else {
                eval_expr(&f, doc)?
            }
        }
        "$ifNull" => {
            let a = args(arg);
            for x in &a {
                let v = eval_expr(x, doc)?;
                if !is_nullish(&v) {
                    return Ok(v);
                }
            }
            Bson::Null
        }
        "$switch" => {
            let Bson::Document(d) = arg else {
                return Err(DbError::invalid("$switch needs {branches, default}"));
            };
            if let Ok(branches) = d.get_array("branches") {
                for b in branches {
                    if let Bson::Document(b) = b {
                        let c = eval_expr(b.get("case").unwrap_or(&Bson::Null), doc)?;
                        if truthy(&c) {
                            return eval_expr(b.get("then").unwrap_or(&Bson::Null), doc);
                        }
                    }
                }
            }
            match d.get("default") {
                Some(x) => eval_expr(x, doc)?,
                None => {
                    return Err(DbError::invalid(
                        "$switch: no branch matched and no default",
                    ));
                }
            }
        }
        "$size" => match &nargs::<1>(op, arg, doc)?[0] {
            Bson::Array(a) => Bson::Int32(a.len() as i32),
            _ => return Err(DbError::invalid("$size needs an array")),
        },
        "$isArray" => Bson::Boolean(matches!(nargs::<1>(op, arg, doc)?[0], Bson::Array(_))),
        "$arrayElemAt" => {
            let [a, i] = nargs::<2>(op, arg, doc)?;
            match (a, as_num(&i)) {
                (Bson::Array(a), Some(n)) => {
                    let n = n.as_f64() as i64;
                    let idx = if n < 0 { a.len() as i64 + n } else { n };
                    if idx >= 0 {
                        a.get(idx as usize).cloned().unwrap_or(Bson::Undefined)
                    } else {
                        Bson::Undefined
                    }
                }
                (Bson::Null | Bson::Undefined, _) => Bson::Null,
                _ => return Err(DbError::invalid("$arrayElemAt needs [array, index]")),
            }
        }
        "$first" | "$last" => match &nargs::<1>(op, arg, doc)?[0] {
            Bson::Array(a) => {
                let x = if op == "$first" { a.first() } else { a.last() };
                x.cloned().unwrap_or(Bson::Undefined)
            }
            _ => Bson::Null,
        },
        "$slice" => {
            let a = eval_args(arg, doc)?;
            let Some(Bson::Array(arr)) = a.first() else {
                return Ok(Bson::Null);
            };
            let n1 = a
                .get(1)
                .and_then(as_num)
                .map(|n| n.as_f64() as i64)
                .unwrap_or(0);
            let (skip, n) = match a.get(2).and_then(as_num) {
                Some(n) => (n1, n.as_f64() as i64),
                None if n1 < 0 => (arr.len() as i64 + n1, n1.saturating_neg()),
                None => (0, n1),
            };
            let skip = if skip < 0 {
                (arr.len() as i64 + skip).max(0)
            } else {
                skip
            } as usize;
            Bson::Array(
                arr.iter()
                    .skip(skip)
                    .take(n.max(0) as usize)
                    .cloned()
                    .collect(),
            )
        }
        "$in" => {
            let [x, a] = nargs::<2>(op, arg, doc)?;
            match a {
                Bson::Array(a) => Bson::Boolean(a.iter().any(|e| values_equal(e, &x))),
                _ => {
                    return Err(DbError::invalid(
                        "$in needs an array as its second argument",
                    ));
                }
            }
        }
        "$concatArrays" => {
            let mut out = Vec::new();
            for v in eval_args(arg, doc)? {
                match v {
                    Bson::Array(a) => out.extend(a),
                    Bson::Null | Bson::Undefined => return Ok(Bson::Null),
                    _ => return Err(DbError::invalid("$concatArrays needs arrays")),
                }
            }
            Bson::Array(out)
        }
        "$sum" | "$avg" | "$min" | "$max" => {
            let vals = eval_args(arg, doc)?;
            let flat: Vec<Bson> = if vals.len() == 1 {
                match vals.into_iter().next() {
                    Some(Bson::Array(a)) => a,
                    Some(v) => vec![v],
                    None => vec![],
                }
            } else {
                vals
            };
            let mut acc = Acc::new(op);
            for v in &flat {
                acc.add(v);
            }
            acc.finish()
        }
        other => {
            return Err(DbError::invalid(format!(
                "unknown expression operator {other}"
            )));
        }
    })
}

/// A `$group` accumulator.
#[derive(Debug, Clone)]
enum Acc {
    Sum { total: f64, all_int: bool },
    Avg { total: f64, n: u64 },
    Min(Option<Bson>),
    Max(Option<Bson>),
    First(Option<Bson>),
    Last(Option<Bson>),
    Push(Vec<Bson>),
    AddToSet(Vec<Bson>),
    Count(u64),
}

impl Acc {
    fn new(op: &str) -> Acc {
        match op {
            "$sum" => Acc::Sum {
                total: 0.0,
                all_int: true,
            },
            "$avg" => Acc::Avg { total: 0.0, n: 0 },
            "$min" => Acc::Min(None),
            "$max" => Acc::Max(None),
            "$first" => Acc::First(None),
            "$last" => Acc::Last(None),
            "$push" => Acc::Push(Vec::new()),
            "$addToSet" => Acc::AddToSet(Vec::new()),
            _ => Acc::Count(0),
        }
    }

    fn add(&mut self, v: &Bson) {
        match self {
            Acc::Sum { total, all_int } => {
                if let Some(n) = as_num(v) {
                    *all_int &= matches!(n, Num::Int(_));
                    *total += n.as_f64();
                }
            }
            Acc::Avg { total, n } => {
                if let Some(x) = as_num(v) {
                    *total += x.as_f64();
                    *n += 1;
                }
            }
            Acc::Min(m) => {
                if !is_nullish(v) && m.as_ref().is_none_or(|c| compare(v, c) == Ordering::Less) {
                    *m = Some(v.clone());
                }
            }
            Acc::Max(m) => {
                if !is_nullish(v)
                    && m.as_ref()
                        .is_none_or(|c| compare(v, c) == Ordering::Greater)
                {
                    *m = Some(v.clone());
                }
            }
            Acc::First(f) => {
                if f.is_none() {
                    *f = Some(if matches!(v, Bson::Undefined) {
                        Bson::Null
                    } else {
                        v.clone()
                    });
                }
            }
            Acc::Last(l) => {
                *l = Some(if matches!(v, Bson::Undefined) {
                    Bson::Null
                } else {
                    v.clone()
                })
            }
            Acc::Push(a) => {
                if !matches!(v, Bson::Undefined) {
                    a.push(v.clone())
                }
            }
            Acc::AddToSet(a) => {
                if !matches!(v, Bson::Undefined) && !a.iter().any(|x| values_equal(x, v)) {
                    a.push(v.clone())
                }
            }
            Acc::Count(n) => *n += 1,
        }
    }

    fn finish(self) -> Bson {
        match self {
            Acc::Sum { total, all_int } => num_result(total, all_int),
            Acc::Avg { total, n } => {
                if n == 0 {
                    Bson::Null
                } else {
                    Bson::Double(total / n as f64)
                }
            }
            Acc::Min(m) | Acc::Max(m) | Acc::First(m) | Acc::Last(m) => m.unwrap_or(Bson::Null),
            Acc::Push(a) | Acc::AddToSet(a) => Bson::Array(a),
            Acc::Count(n) => num_result(n as f64, true),
        }
    }
}

/// Loads another collection's documents (for `$lookup`).
pub type Loader<'a> = &'a dyn Fn(&str) -> DbResult<Vec<Document>>;

/// The result of parsing a pipeline: does it set its own `$limit`?
pub fn has_limit(pipeline: &[Document]) -> bool {
    pipeline.iter().any(|s| s.contains_key("$limit"))
}

/// Run a pipeline over `docs`.
pub fn run_pipeline(
    mut docs: Vec<Document>,
    pipeline: &[Document],
    lookup: Loader<'_>,
) -> DbResult<Vec<Document>> {
    for stage in pipeline {
        let Some((name, arg)) = (if stage.len() == 1 {
            stage.iter().next()
        } else {
            None
        }) else {
            return Err(DbError::invalid(
                "each aggregation stage must have exactly one key",
            ));
        };
        docs = run_stage(docs, name, arg, lookup)?;
    }
    Ok(docs)
}

fn as_doc<'a>(stage: &str, v: &'a Bson) -> DbResult<&'a Document> {
    match v {
        Bson::Document(d) => Ok(d),
        _ => Err(DbError::invalid(format!("{stage} needs an object"))),
    }
}

fn as_count(stage: &str, v: &Bson) -> DbResult<usize> {
    match as_num(v) {
        Some(n) if n.as_f64() >= 0.0 && n.as_f64().fract() == 0.0 => Ok(n.as_f64() as usize),
        _ => Err(DbError::invalid(format!(
            "{stage} needs a non-negative integer"
        ))),
    }
}

fn run_stage(
    docs: Vec<Document>,
    name: &str,
    arg: &Bson,
    lookup: Loader<'_>,
) -> DbResult<Vec<Document>> {
    Ok(match name {
        "$match" => {
            let f = Filter::parse(as_doc(name, arg)?)?;
            docs.into_iter().filter(|d| f.matches(d)).collect()
        }
        "$project" => {
            let spec = as_doc(name, arg)?;
            crate::db::projection::validate_aggregate_project(spec)?;
            docs.into_iter()
                .map(|d| crate::db::projection::aggregate_project(&d, spec))
                .collect::<DbResult<_>>()?
        }
        "$addFields" | "$set" => {
            let spec = as_doc(name, arg)?;
            validate_expr(arg)?;
            let mut out = Vec::with_capacity(docs.len());
            for mut d in docs {
                let mut vals = Vec::new();
                for (k, e) in spec {
                    vals.push((k.clone(), eval_expr(e, &d)?));
                }
                for (k, v) in vals {
                    if matches!(v, Bson::Undefined) {
                        continue;
                    }
                    set_path(&mut d, &k, v)?;
                }
                out.push(d);
            }
            out
        }
        "$unset" => {
            let fields: Vec<String> = match arg {
                Bson::String(s) => vec![s.clone()],
                Bson::Array(a) => a
                    .iter()
                    .map(|x| match x {
                        Bson::String(s) => Ok(s.clone()),
                        _ => Err(DbError::invalid("$unset needs field names")),
                    })
                    .collect::<DbResult<_>>()?,
                _ => return Err(DbError::invalid("$unset needs field names")),
            };
            docs.into_iter()
                .map(|mut d| {
                    for f in &fields {
                        unset_path(&mut d, f);
                    }
                    d
                })
                .collect()
        }
        "$sort" => {
            let spec = sort_spec(as_doc(name, arg)?)?;
            let mut docs = docs;
            docs.sort_by(|a, b| compare_by_sort(a, b, &spec));
            docs
        }
        "$skip" => {
            let n = as_count(name, arg)?;
            docs.into_iter().skip(n).collect()
        }
        "$limit" => {
            let n = as_count(name, arg)?;
            docs.into_iter().take(n).collect()
        }
        "$count" => {
            let Bson::String(field) = arg else {
                return Err(DbError::invalid("$count needs a field name"));
            };
            if field.is_empty() || field.starts_with('$') || field.contains('.') {
                return Err(DbError::invalid("$count needs a plain field name"));
            }
            if docs.is_empty() {
                Vec::new()
            } else {
                let mut d = Document::new();
                d.insert(field.clone(), num_result(docs.len() as f64, true));
                vec![d]
            }
        }
        "$group" => group(docs, as_doc(name, arg)?)?,
        "$sortByCount" => {
            validate_expr(arg)?;
            let mut g = Document::new();
            g.insert("_id", arg.clone());
            let mut c = Document::new();
            c.insert("$sum", 1);
            g.insert("count", c);
            let mut out = group(docs, &g)?;
            out.sort_by(|a, b| {
                compare(
                    b.get("count").unwrap_or(&Bson::Null),
                    a.get("count").unwrap_or(&Bson::Null),
                )
            });
            out
        }
        "$unwind" => unwind(docs, arg)?,
        "$replaceRoot" | "$replaceWith" => {
            let e = if name == "$replaceRoot" {
                as_doc(name, arg)?
                    .get("newRoot")
                    .ok_or_else(|| DbError::invalid("$replaceRoot needs newRoot"))?
            } else {
                arg
            };
            validate_expr(e)?;
            docs.iter()
                .map(|d| match eval_expr(e, d)? {
                    Bson::Document(nd) => Ok(nd),
                    _ => Err(DbError::invalid(
                        "$replaceRoot: newRoot must evaluate to an object",
                    )),
                })
                .collect::<DbResult<_>>()?
        }
        "$sample" => {
            let size = as_doc(name, arg)?
                .get("size")
                .map(|v| as_count(name, v))
                .transpose()?
                .ok_or_else(|| DbError::invalid("$sample needs {size: n}"))?;
            let mut docs = docs;
            let mut rng = rand::rng();
            rand::seq::SliceRandom::shuffle(docs.as_mut_slice(), &mut rng);
            docs.truncate(size);
            docs
        }
        "$geoNear" => geo_near(docs, as_doc(name, arg)?)?,
        "$bucket" => bucket(docs, as_doc(name, arg)?)?,
        "$lookup" => {
            let spec = as_doc(name, arg)?;
            let get = |k: &str| {
                spec.get_str(k).map_err(|_| {
                    DbError::invalid(format!(
                        "$lookup needs a string {k} (pipeline form is not supported)"
                    ))
                })
            };
            let (from, local, foreign, as_field) = (
                get("from")?,
                get("localField")?,
                get("foreignField")?,
                get("as")?,
            );
            let others = lookup(from)?;
            let fp: Vec<&str> = foreign.split('.').collect();
            let lp: Vec<&str> = local.split('.').collect();
            let mut out = Vec::with_capacity(docs.len());
            for mut d in docs {
                let mut lv = Vec::new();
                lookup_all(&d, &lp, &mut lv);
                let lvals: Vec<Bson> = expand(&lv);
                let lvals = if lvals.is_empty() {
                    vec![Bson::Null]
                } else {
                    lvals
                };
                let matched: Vec<Bson> = others
                    .iter()
                    .filter(|o| {
                        let mut fv = Vec::new();
                        lookup_all(o, &fp, &mut fv);
                        let fvals = expand(&fv);
                        let fvals = if fvals.is_empty() {
                            vec![Bson::Null]
                        } else {
                            fvals
                        };
                        lvals
                            .iter()
                            .any(|l| fvals.iter().any(|f| values_equal(l, f)))
                    })
                    .map(|o| Bson::Document(o.clone()))
                    .collect();
                set_path(&mut d, as_field, Bson::Array(matched))?;
                out.push(d);
            }
            out
        }
        other => {
            return Err(DbError::invalid(format!(
                "aggregation stage {other} is not supported by the local shim"
            )));
        }
    })
}

/// `$geoNear`: order by distance from `near` (metres, spherical), write it to
/// `distanceField`, honour `maxDistance`/`minDistance`/`query`; `key` names the location
/// field (default: the first GeoJSON Point field of each document).
fn geo_near(docs: Vec<Document>, spec: &Document) -> DbResult<Vec<Document>> {
    use crate::db::geo;
    let near = spec
        .get("near")
        .and_then(geo::point_of)
        .ok_or_else(|| DbError::invalid("$geoNear needs near: a GeoJSON Point"))?;
    let field = spec
        .get_str("distanceField")
        .map_err(|_| DbError::invalid("$geoNear needs distanceField"))?;
    let num = |k: &str| spec.get(k).and_then(as_num).map(|n| n.as_f64());
    let (max, min) = (num("maxDistance"), num("minDistance"));
    let mul = num("distanceMultiplier").unwrap_or(1.0);
    let query = match spec.get("query") {
        Some(Bson::Document(q)) => Some(Filter::parse(q)?),
        Some(_) => return Err(DbError::invalid("$geoNear query must be an object")),
        None => None,
    };
    let key = spec.get_str("key").ok();
    let include_locs = spec.get_str("includeLocs").ok();
    let mut out: Vec<(f64, Document)> = Vec::new();
    for mut d in docs {
        if query.as_ref().is_some_and(|q| !q.matches(&d)) {
            continue;
        }
        let loc = match key {
            Some(k) => get_path(&d, k).and_then(geo::point_of),
            None => d.values().find_map(|v| match geo::Geometry::from_bson(v) {
                Some(geo::Geometry::Point(p)) => Some(p),
                _ => None,
            }),
        };
        let Some(p) = loc else { continue };
        let dist = geo::haversine_m(near, p);
        if max.is_some_and(|m| dist > m) || min.is_some_and(|m| dist < m) {
            continue;
        }
        set_path(&mut d, field, Bson::Double(dist * mul))?;
        if let Some(f) = include_locs {
            let mut pt = Document::new();
            pt.insert("type", "Point");
            pt.insert("coordinates", vec![Bson::Double(p.0), Bson::Double(p.1)]);
            set_path(&mut d, f, Bson::Document(pt))?;
        }
        out.push((dist, d));
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

/// `$bucket`: group by which `[boundaries[i], boundaries[i+1])` the `groupBy` value falls in.
fn bucket(docs: Vec<Document>, spec: &Document) -> DbResult<Vec<Document>> {
    let group_by = spec
        .get("groupBy")
        .ok_or_else(|| DbError::invalid("$bucket needs groupBy"))?;
    validate_expr(group_by)?;
    let bounds = spec
        .get_array("boundaries")
        .map_err(|_| DbError::invalid("$bucket needs boundaries"))?;
    if bounds.len() < 2
        || bounds
            .windows(2)
            .any(|w| compare(&w[0], &w[1]) != Ordering::Less)
    {
        return Err(DbError::invalid(
            "$bucket boundaries must be at least two ascending values",
        ));
    }
    let default = spec.get("default").cloned();
    let output = match spec.get("output") {
        Some(Bson::Document(o)) => o.clone(),
        Some(_) => return Err(DbError::invalid("$bucket output must be an object")),
        None => {
            let mut o = Document::new();
            let mut c = Document::new();
            c.insert("$sum", 1);
            o.insert("count", c);
            o
        }
    };
    // Compute each document's bucket, then reuse $group with those keys.
    let mut bucket_keys = Vec::with_capacity(docs.len());
    for d in &docs {
        let v = eval_expr(group_by, d)?;
        let slot = bounds
            .windows(2)
            .find(|w| compare(&v, &w[0]) != Ordering::Less && compare(&v, &w[1]) == Ordering::Less)
            .map(|w| w[0].clone());
        bucket_keys.push(match (slot, &default) {
            (Some(b), _) => b,
            (None, Some(def)) => def.clone(),
            (None, None) => {
                return Err(DbError::invalid(
                    "$bucket: a value falls outside the boundaries and there is no default",
                ));
            }
        });
    }
    let mut g = Document::new();
    g.insert("_id", Bson::Null);
    g.extend(output);
    let mut out = group_keyed(docs, Some(bucket_keys), &g)?;
    out.sort_by(|a, b| {
        compare(
            a.get("_id").unwrap_or(&Bson::Null),
            b.get("_id").unwrap_or(&Bson::Null),
        )
    });
    Ok(out)
}

fn expand(vals: &[&Bson]) -> Vec<Bson> {
    let mut out = Vec::new();
    for v in vals {
        match v {
            Bson::Array(a) => out.extend(a.iter().cloned()),
            other => out.push((*other).clone()),
        }
    }
    out
}

fn group(docs: Vec<Document>, spec: &Document) -> DbResult<Vec<Document>> {
    group_keyed(docs, None, spec)
}

/// `$group`, with the group keys precomputed when `keys` is given (one per document).
fn group_keyed(
    docs: Vec<Document>,
    precomputed: Option<Vec<Bson>>,
    spec: &Document,
) -> DbResult<Vec<Document>> {
    let id_expr = spec
        .get("_id")
        .ok_or_else(|| DbError::invalid("$group needs an _id"))?;
    validate_expr(id_expr)?;
    let mut accs: Vec<(String, &'static str, Bson)> = Vec::new();
    for (k, v) in spec {
        if k == "_id" {
            continue;
        }
        let Some((op, arg)) = (match v {
            Bson::Document(d) => op_of(d),
            _ => None,
        }) else {
            return Err(DbError::invalid(format!(
                "$group field {k} must be an accumulator object"
            )));
        };
        let op: &'static str = match op {
            "$sum" => "$sum",
            "$avg" => "$avg",
            "$min" => "$min",
            "$max" => "$max",
            "$first" => "$first",
            "$last" => "$last",
            "$push" => "$push",
            "$addToSet" => "$addToSet",
            "$count" => "$count",
            other => {
                return Err(DbError::invalid(format!(
                    "unknown group accumulator {other}"
                )));
            }
        };
        validate_expr(arg)?;
        accs.push((k.clone(), op, arg.clone()));
    }
    let mut order: Vec<(Bson, Vec<Acc>)> = Vec::new();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    for (n, d) in docs.iter().enumerate() {
        let mut key = match &precomputed {
            Some(k) => k.get(n).cloned().unwrap_or(Bson::Null),
            None => eval_expr(id_expr, d)?,
        };
        if matches!(key, Bson::Undefined) {
            key = Bson::Null;
        }
        let enc = keys::encode(&key);
        let slot = match index.get(&enc) {
            Some(i) => *i,
            None => {
                order.push((key, accs.iter().map(|(_, op, _)| Acc::new(op)).collect()));
                index.insert(enc, order.len() - 1);
                order.len() - 1
            }
        };
        for (i, (_, op, arg)) in accs.iter().enumerate() {
            let v = if *op == "$count" {
                Bson::Null
            } else {
                eval_expr(arg, d)?
            };
            order[slot].1[i].add(&v);
        }
    }
    Ok(order
        .into_iter()
        .map(|(key, states)| {
            let mut out = Document::new();
            out.insert("_id", key);
            for ((name, _, _), st) in accs.iter().zip(states) {
                out.insert(name.clone(), st.finish());
            }
            out
        })
        .collect())
}

fn unwind(docs: Vec<Document>, arg: &Bson) -> DbResult<Vec<Document>> {
    let (path, index_field, preserve) = match arg {
        Bson::String(s) => (s.clone(), None, false),
        Bson::Document(d) => (
            d.get_str("path")
                .map_err(|_| DbError::invalid("$unwind needs a path"))?
                .to_string(),
            d.get_str("includeArrayIndex").ok().map(str::to_string),
            d.get_bool("preserveNullAndEmptyArrays").unwrap_or(false),
        ),
        _ => return Err(DbError::invalid("$unwind needs a path")),
    };
    let Some(field) = path.strip_prefix('$') else {
        return Err(DbError::invalid("$unwind path must start with $"));
    };
    let mut out = Vec::new();
    for d in docs {
        let v = get_path(&d, field).cloned();
        match v {
            Some(Bson::Array(a)) if !a.is_empty() => {
                for (i, e) in a.into_iter().enumerate() {
                    let mut nd = d.clone();
                    set_path(&mut nd, field, e)?;
                    if let Some(f) = &index_field {
                        nd.insert(f.clone(), Bson::Int64(i as i64));
                    }
                    out.push(nd);
                }
            }
            Some(Bson::Array(_)) | None | Some(Bson::Null) => {
                if preserve {
                    let mut nd = d;
                    if let Some(f) = &index_field {
                        nd.insert(f.clone(), Bson::Null);
                    }
                    out.push(nd);
                }
            }
            Some(_) => {
                let mut nd = d;
                if let Some(f) = &index_field {
                    nd.insert(f.clone(), Bson::Null);
                }
                out.push(nd);
            }
        }
    }
    Ok(out)
}
