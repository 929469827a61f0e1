//! The expression language of aggregation stages (`$project`, `$group`, `$addFields`), of
//! `$expr` in queries and of computed projections.
//!
//! Expressions: field paths `"$a.b"`, `$$ROOT`/`$$CURRENT`, `$literal`, arithmetic
//! (`$add $subtract $multiply $divide $mod $abs $ceil $floor $round $trunc`), strings
//! (`$concat $toUpper $toLower $substr $substrCP $strLenCP $split $trim $toString`),
//! comparison (`$eq $ne $gt $gte $lt $lte $cmp`), logic (`$and $or $not $cond $ifNull
//! $switch`), arrays (`$size $arrayElemAt $in $concatArrays $isArray $slice $first $last`),
//! and `$sum $avg $min $max` over arrays. A missing field evaluates to "missing" (internally
//! `Undefined`), which `$project`/`$addFields` omit, as MongoDB does. The accumulators
//! ([`Acc`]) are shared with `$group`.

use crate::db::error::{DbError, DbResult};
use crate::db::fields::lookup_all;
use crate::db::value::{Num, as_num, compare, values_equal};
use bson::{Bson, Document};
use std::cmp::Ordering;

/// Is a value "true" in the MongoDB sense (not false, null, missing or 0)?
pub(crate) fn truthy(v: &Bson) -> bool {
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
pub(crate) fn validate_expr(e: &Bson) -> DbResult<()> {
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

pub(crate) fn op_of(d: &Document) -> Option<(&str, &Bson)> {
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

pub(crate) fn num_result(f: f64, all_int: bool) -> Bson {
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
pub(crate) fn eval_expr(e: &Bson, doc: &Document) -> DbResult<Bson> {
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
pub(crate) enum Acc {
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
    pub(crate) fn new(op: &str) -> Acc {
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

    pub(crate) fn add(&mut self, v: &Bson) {
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

    pub(crate) fn finish(self) -> Bson {
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
