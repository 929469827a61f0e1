//! Query engine: compile a MongoDB-style filter document into a [`Filter`] and match documents.
//!
//! Follows CloudBase, which runs MongoDB semantics on what the SDK sends (cloud-api.md §2.4,
//! §2.6): the SDK has already flattened nested plain objects into dot paths, so `{"a.b": 1}`
//! is what arrives. Dot paths traverse arrays of documents; a condition on an array field
//! matches if the array itself or any element matches; comparisons are type-bracketed (`$gt: 5`
//! only matches numbers) with numbers compared across int32/int64/double.
//!
//! Supported: `$eq $ne $lt $lte $gt $gte $in $nin $and $or $nor $not $exists $size $mod $all
//! $elemMatch $regex/$options` and regex values (on the linear-time `regex` crate: options
//! `i m s x`; look-around and back-references are rejected), `$expr` (aggregation
//! expressions), geo `$nearSphere $geoWithin $geoIntersects` on Points and (Multi)Polygons
//! (and `$geoWithin: {$centerSphere}`).

use crate::db::error::{DbError, DbResult};
use crate::db::expr::{eval_expr, truthy, validate_expr};
use crate::db::fields::lookup_all;
use crate::db::geo::{self, Geometry};
use crate::db::value::{as_num, compare, type_rank, values_equal};
use bson::{Bson, Document};
use std::cmp::Ordering;

/// A compiled filter.
#[derive(Debug, Clone)]
pub enum Filter {
    /// Matches everything.
    All,
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Nor(Vec<Filter>),
    /// Conditions on one dot path (all must hold).
    Field {
        path: Vec<String>,
        conds: Vec<Cond>,
    },
    /// `$expr` with an aggregation expression.
    Expr(Bson),
}

/// A condition on the value(s) at a path.
#[derive(Debug, Clone)]
pub enum Cond {
    Eq(Bson),
    Ne(Bson),
    Gt(Bson),
    Gte(Bson),
    Lt(Bson),
    Lte(Bson),
    In(Vec<InItem>),
    Nin(Vec<InItem>),
    Exists(bool),
    Size(i64),
    Mod(i64, i64),
    All(Vec<Bson>),
    /// `$elemMatch` with a document filter (elements are documents).
    ElemMatchDoc(Box<Filter>),
    /// `$elemMatch` with operator conditions on the elements themselves.
    ElemMatchValue(Vec<Cond>),
    Regex(CompiledRegex),
    Not(Vec<Cond>),
    Near {
        point: (f64, f64),
        min: Option<f64>,
        max: Option<f64>,
    },
    GeoWithin(Geometry),
    /// `$geoWithin: {$centerSphere: [[lng, lat], radians]}`.
    WithinSphere {
        center: (f64, f64),
        radians: f64,
    },
    GeoIntersects(Geometry),
}

/// An `$in`/`$nin` item: a value or a regex.
#[derive(Debug, Clone)]
pub enum InItem {
    Value(Bson),
    Regex(CompiledRegex),
}

/// A compiled regex with its source.
#[derive(Debug, Clone)]
pub struct CompiledRegex {
    pub pattern: String,
    pub options: String,
    pub re: regex::Regex,
}

/// Compile a MongoDB regex (pattern + options) on the `regex` crate.
pub fn compile_regex(pattern: &str, options: &str) -> DbResult<CompiledRegex> {
    let mut b = regex::RegexBuilder::new(pattern);
    for c in options.chars() {
        match c {
            'i' => {
                b.case_insensitive(true);
            }
            'm' => {
                b.multi_line(true);
            }
            's' => {
                b.dot_matches_new_line(true);
            }
            'x' => {
                b.ignore_whitespace(true);
            }
            'u' | 'l' => {}
            other => {
                return Err(DbError::invalid(format!(
                    "invalid regex option '{other}' (supported: i, m, s, x)"
                )));
            }
        }
    }
    b.size_limit(1 << 20);
    let re = b.build().map_err(|e| {
        DbError::invalid(format!(
            "invalid or unsupported regular expression /{pattern}/: {} \
             (look-around and back-references are not supported)",
            first_line(&e.to_string())
        ))
    })?;
    Ok(CompiledRegex {
        pattern: pattern.to_string(),
        options: options.to_string(),
        re,
    })
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_else(|| s.lines().last().unwrap_or(s))
        .trim()
        .to_string()
}

impl Filter {
    /// Compile a filter document (after the shape checks of [`crate::db::limits`]).
    pub fn parse(doc: &Document) -> DbResult<Filter> {
        crate::db::limits::check_request("query", doc)?;
        Filter::parse_checked(doc)
    }

    /// Compile a filter document whose shape was already checked (a part of a bigger one).
    fn parse_checked(doc: &Document) -> DbResult<Filter> {
        let mut parts = Vec::new();
        for (k, v) in doc {
            parts.push(parse_entry(k, v)?);
        }
        Ok(match parts.len() {
            0 => Filter::All,
            1 => parts.pop().unwrap_or(Filter::All),
            _ => Filter::And(parts),
        })
    }

    /// Does `doc` match?
    pub fn matches(&self, doc: &Document) -> bool {
        match self {
            Filter::All => true,
            Filter::And(fs) => fs.iter().all(|f| f.matches(doc)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(doc)),
            Filter::Nor(fs) => !fs.iter().any(|f| f.matches(doc)),
            Filter::Field { path, conds } => {
                let p: Vec<&str> = path.iter().map(String::as_str).collect();
                let mut vals = Vec::new();
                lookup_all(doc, &p, &mut vals);
                conds.iter().all(|c| cond_matches(c, &vals))
            }
            Filter::Expr(e) => eval_expr(e, doc).map(|v| truthy(&v)).unwrap_or(false),
        }
    }

    /// The `$nearSphere` condition, if the filter has one at top level: results are then
    /// ordered by distance (as MongoDB does) unless a sort is given.
    pub fn near(&self) -> Option<(Vec<String>, (f64, f64))> {
        match self {
            Filter::Field { path, conds } => conds.iter().find_map(|c| match c {
                Cond::Near { point, .. } => Some((path.clone(), *point)),
                _ => None,
            }),
            Filter::And(fs) => fs.iter().find_map(Filter::near),
            _ => None,
        }
    }

    /// Top-level conjunct conditions on a path (used by the store's index planner).
    pub fn conjuncts(&self) -> Vec<(&[String], &Cond)> {
        let mut out = Vec::new();
        self.collect_conjuncts(&mut out);
        out
    }

    fn collect_conjuncts<'a>(&'a self, out: &mut Vec<(&'a [String], &'a Cond)>) {
        match self {
            Filter::And(fs) => fs.iter().for_each(|f| f.collect_conjuncts(out)),
            Filter::Field { path, conds } => {
                for c in conds {
                    out.push((path.as_slice(), c));
                }
            }
            _ => {}
        }
    }
}

fn parse_entry(k: &str, v: &Bson) -> DbResult<Filter> {
    match k {
        "$and" | "$or" | "$nor" => {
            let Bson::Array(items) = v else {
                return Err(DbError::invalid(format!("{k} needs an array")));
            };
            if items.is_empty() {
                return Err(DbError::invalid(format!("{k} needs a non-empty array")));
            }
            let mut fs = Vec::new();
            for it in items {
                let Bson::Document(d) = it else {
                    return Err(DbError::invalid(format!("{k} entries must be objects")));
                };
                fs.push(Filter::parse_checked(d)?);
            }
            Ok(match k {
                "$and" => Filter::And(fs),
                "$or" => Filter::Or(fs),
                _ => Filter::Nor(fs),
            })
        }
        "$expr" => {
            validate_expr(v)?;
            Ok(Filter::Expr(v.clone()))
        }
        _ if k.starts_with('$') => Err(DbError::invalid(format!("unknown query operator {k}"))),
        _ => {
            if k.is_empty() || k.split('.').any(str::is_empty) {
                return Err(DbError::invalid(format!("invalid field path \"{k}\"")));
            }
            Ok(Filter::Field {
                path: k.split('.').map(str::to_string).collect(),
                conds: parse_value_conds(v)?,
            })
        }
    }
}

fn is_operator_doc(v: &Bson) -> Option<&Document> {
    match v {
        Bson::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')) => Some(d),
        _ => None,
    }
}

/// Conditions for a field's value: an operator document, a regex, or a value to equal.
fn parse_value_conds(v: &Bson) -> DbResult<Vec<Cond>> {
    if let Some(d) = is_operator_doc(v) {
        // `$tcb_server_date` is a value, not an operator; other `$` docs are operators.
        if crate::db::ejson::server_date_offset(v).is_some() {
            return Ok(vec![Cond::Eq(v.clone())]);
        }
        return parse_operators(d);
    }
    Ok(vec![eq_cond(v)?])
}

fn eq_cond(v: &Bson) -> DbResult<Cond> {
    Ok(match v {
        Bson::RegularExpression(r) => {
            Cond::Regex(compile_regex(r.pattern.as_str(), r.options.as_str())?)
        }
        other => Cond::Eq(other.clone()),
    })
}

fn in_items(op: &str, v: &Bson) -> DbResult<Vec<InItem>> {
    let Bson::Array(a) = v else {
        return Err(DbError::invalid(format!("{op} needs an array")));
    };
    if a.len() > crate::db::limits::MAX_IN {
        return Err(DbError::invalid(format!(
            "{op} lists {} values, more than the limit of {}; split the query into several",
            a.len(),
            crate::db::limits::MAX_IN
        )));
    }
    a.iter()
        .map(|x| match x {
            Bson::RegularExpression(r) => Ok(InItem::Regex(compile_regex(
                r.pattern.as_str(),
                r.options.as_str(),
            )?)),
            other => Ok(InItem::Value(other.clone())),
        })
        .collect()
}

fn int_arg(op: &str, v: &Bson) -> DbResult<i64> {
    match as_num(v) {
        Some(n) => {
            let f = n.as_f64();
            if f.fract() != 0.0 || !f.is_finite() {
                return Err(DbError::invalid(format!("{op} needs an integer")));
            }
            Ok(f as i64)
        }
        None => Err(DbError::invalid(format!("{op} needs a number"))),
    }
}

fn parse_operators(d: &Document) -> DbResult<Vec<Cond>> {
    let mut conds = Vec::new();
    let options = d.get("$options");
    for (op, arg) in d {
        let c = match op.as_str() {
            "$eq" => eq_cond(arg)?,
            "$ne" | "$neq" => match arg {
                Bson::RegularExpression(_) => Cond::Not(vec![eq_cond(arg)?]),
                _ => Cond::Ne(arg.clone()),
            },
            "$gt" => Cond::Gt(arg.clone()),
            "$gte" => Cond::Gte(arg.clone()),
            "$lt" => Cond::Lt(arg.clone()),
            "$lte" => Cond::Lte(arg.clone()),
            "$in" => Cond::In(in_items(op, arg)?),
            "$nin" => Cond::Nin(in_items(op, arg)?),
            "$exists" => Cond::Exists(truthy(arg)),
            "$size" => {
                let n = int_arg(op, arg)?;
                if n < 0 {
                    return Err(DbError::invalid("$size must not be negative"));
                }
                Cond::Size(n)
            }
            "$mod" => {
                let Bson::Array(a) = arg else {
                    return Err(DbError::invalid("$mod needs [divisor, remainder]"));
                };
                if a.len() != 2 {
                    return Err(DbError::invalid("$mod needs [divisor, remainder]"));
                }
                let div = int_arg(op, &a[0])?;
                if div == 0 {
                    return Err(DbError::invalid("$mod divisor must not be 0"));
                }
                Cond::Mod(div, int_arg(op, &a[1])?)
            }
            "$all" => {
                let Bson::Array(a) = arg else {
                    return Err(DbError::invalid("$all needs an array"));
                };
                Cond::All(a.clone())
            }
            "$elemMatch" => {
                let Bson::Document(m) = arg else {
                    return Err(DbError::invalid("$elemMatch needs an object"));
                };
                let value_ops = !m.is_empty()
                    && m.keys().all(|k| {
                        k.starts_with('$')
                            && !matches!(k.as_str(), "$and" | "$or" | "$nor" | "$expr")
                    });
                if value_ops {
                    Cond::ElemMatchValue(parse_operators(m)?)
                } else {
                    Cond::ElemMatchDoc(Box::new(Filter::parse_checked(m)?))
                }
            }
            "$regex" => {
                let opts = match options {
                    Some(Bson::String(s)) => s.as_str(),
                    Some(_) => return Err(DbError::invalid("$options must be a string")),
                    None => "",
                };
                match arg {
                    Bson::String(p) => Cond::Regex(compile_regex(p, opts)?),
                    Bson::RegularExpression(r) => {
                        let o = if opts.is_empty() {
                            r.options.as_str()
                        } else {
                            opts
                        };
                        Cond::Regex(compile_regex(r.pattern.as_str(), o)?)
                    }
                    _ => return Err(DbError::invalid("$regex needs a string")),
                }
            }
            "$options" => {
                if !d.contains_key("$regex") {
                    return Err(DbError::invalid("$options without $regex"));
                }
                continue;
            }
            "$regularExpression" => {
                // A relaxed-parse leftover: {"$regularExpression": {pattern, options}}.
                let Bson::Document(r) = arg else {
                    return Err(DbError::invalid(
                        "$regularExpression needs {pattern, options}",
                    ));
                };
                let p = r
                    .get_str("pattern")
                    .map_err(|_| DbError::invalid("$regularExpression needs a string pattern"))?;
                Cond::Regex(compile_regex(p, r.get_str("options").unwrap_or(""))?)
            }
            "$not" => match arg {
                Bson::Document(m) => Cond::Not(parse_operators(m)?),
                Bson::RegularExpression(_) => Cond::Not(vec![eq_cond(arg)?]),
                _ => return Err(DbError::invalid("$not needs an operator object or a regex")),
            },
            "$nearSphere" | "$near" => parse_near(arg)?,
            "$geoWithin" => match arg {
                Bson::Document(g) if g.contains_key("$centerSphere") => parse_center_sphere(g)?,
                _ => Cond::GeoWithin(geometry_arg(op, arg)?),
            },
            "$geoIntersects" => Cond::GeoIntersects(geometry_arg(op, arg)?),
            other => return Err(DbError::invalid(format!("unknown query operator {other}"))),
        };
        conds.push(c);
    }
    Ok(conds)
}

fn geometry_arg(op: &str, arg: &Bson) -> DbResult<Geometry> {
    let Bson::Document(d) = arg else {
        return Err(DbError::invalid(format!("{op} needs {{$geometry: ...}}")));
    };
    let g = d
        .get("$geometry")
        .ok_or_else(|| DbError::invalid(format!("{op} needs {{$geometry: ...}}")))?;
    Geometry::from_bson(g)
        .ok_or_else(|| DbError::invalid(format!("{op}: invalid GeoJSON geometry")))
}

fn parse_center_sphere(g: &Document) -> DbResult<Cond> {
    let bad = || DbError::invalid("$centerSphere needs [[lng, lat], radiusInRadians]");
    let Some(Bson::Array(a)) = g.get("$centerSphere") else {
        return Err(bad());
    };
    if a.len() != 2 {
        return Err(bad());
    }
    let center = geo::point_of(&a[0]).ok_or_else(bad)?;
    let radians = as_num(&a[1]).map(|n| n.as_f64()).ok_or_else(bad)?;
    Ok(Cond::WithinSphere { center, radians })
}

fn parse_near(arg: &Bson) -> DbResult<Cond> {
    let Bson::Document(d) = arg else {
        return Err(DbError::invalid("$nearSphere needs {$geometry: Point}"));
    };
    let g = d
        .get("$geometry")
        .and_then(Geometry::from_bson)
        .ok_or_else(|| DbError::invalid("$nearSphere needs {$geometry: Point}"))?;
    let Geometry::Point(p) = g else {
        return Err(DbError::invalid("$nearSphere needs a Point geometry"));
    };
    let num = |k: &str| d.get(k).and_then(as_num).map(|n| n.as_f64());
    Ok(Cond::Near {
        point: p,
        min: num("$minDistance"),
        max: num("$maxDistance"),
    })
}

/// Does the condition hold for the values found at the path?
fn cond_matches(c: &Cond, vals: &[&Bson]) -> bool {
    match c {
        Cond::Eq(x) => {
            if matches!(x, Bson::Null) && vals.is_empty() {
                return true;
            }
            any_value(vals, |v| values_equal(v, x))
        }
        Cond::Ne(x) => !cond_matches(&Cond::Eq(x.clone()), vals),
        Cond::Gt(x) => any_value(vals, |v| cmp_same_type(v, x).is_some_and(|o| o.is_gt())),
        Cond::Gte(x) => any_value(vals, |v| cmp_same_type(v, x).is_some_and(|o| o.is_ge())),
        Cond::Lt(x) => any_value(vals, |v| cmp_same_type(v, x).is_some_and(|o| o.is_lt())),
        Cond::Lte(x) => any_value(vals, |v| cmp_same_type(v, x).is_some_and(|o| o.is_le())),
        Cond::In(items) => in_matches(items, vals),
        Cond::Nin(items) => !in_matches(items, vals),
        Cond::Exists(b) => vals.is_empty() != *b,
        Cond::Size(n) => vals
            .iter()
            .any(|v| matches!(v, Bson::Array(a) if a.len() as i64 == *n)),
        Cond::Mod(d, r) => any_value(vals, |v| {
            as_num(v).is_some_and(|n| {
                let f = n.as_f64();
                f.is_finite() && (f.trunc() as i64).wrapping_rem(*d) == *r
            })
        }),
        Cond::All(items) => {
            !items.is_empty()
                && items.iter().all(|it| match is_operator_doc(it) {
                    Some(d) if d.contains_key("$elemMatch") => parse_operators(d)
                        .map(|cs| cs.iter().all(|c| cond_matches(c, vals)))
                        .unwrap_or(false),
                    _ => match eq_cond(it) {
                        Ok(c) => cond_matches(&c, vals),
                        Err(_) => false,
                    },
                })
        }
        Cond::ElemMatchDoc(f) => vals.iter().any(|v| match v {
            Bson::Array(a) => a
                .iter()
                .any(|e| matches!(e, Bson::Document(d) if f.matches(d))),
            _ => false,
        }),
        Cond::ElemMatchValue(cs) => vals.iter().any(|v| match v {
            Bson::Array(a) => a
                .iter()
                .any(|e| cs.iter().all(|c| cond_matches_scalar(c, e))),
            _ => false,
        }),
        Cond::Regex(r) => any_value(vals, |v| regex_matches(r, v)),
        Cond::Not(cs) => !cs.iter().all(|c| cond_matches(c, vals)),
        Cond::Near { point, min, max } => vals.iter().any(|v| {
            geo::point_of(v).is_some_and(|p| {
                let d = geo::haversine_m(*point, p);
                min.is_none_or(|m| d >= m) && max.is_none_or(|m| d <= m)
            })
        }),
        Cond::GeoWithin(g) => vals
            .iter()
            .any(|v| Geometry::from_bson(v).is_some_and(|dg| geo::within(&dg, g))),
        Cond::WithinSphere { center, radians } => vals.iter().any(|v| {
            Geometry::from_bson(v)
                .map(|g| geo::all_points(&g))
                .or_else(|| geo::point_of(v).map(|p| vec![p]))
                .is_some_and(|pts| {
                    !pts.is_empty()
                        && pts
                            .iter()
                            .all(|p| geo::haversine_m(*center, *p) <= radians * geo::EARTH_RADIUS_M)
                })
        }),
        Cond::GeoIntersects(g) => vals
            .iter()
            .any(|v| Geometry::from_bson(v).is_some_and(|dg| geo::intersects(&dg, g))),
    }
}

/// A condition applied to one element value (for `$elemMatch` with operators, `$pull`).
pub fn cond_matches_scalar(c: &Cond, v: &Bson) -> bool {
    cond_matches(c, &[v])
}

/// Does `v` match a `$pull`-style condition: an operator document, a query on document
/// elements, or a plain value?
pub fn element_matches(cond: &Bson, v: &Bson) -> DbResult<bool> {
    if let Some(d) = is_operator_doc(cond) {
        let cs = parse_operators(d)?;
        return Ok(cs.iter().all(|c| cond_matches_scalar(c, v)));
    }
    match (cond, v) {
        (Bson::Document(q), Bson::Document(e)) => Ok(Filter::parse(q)?.matches(e)),
        (Bson::RegularExpression(_), _) => Ok(cond_matches_scalar(&eq_cond(cond)?, v)),
        _ => Ok(values_equal(cond, v)),
    }
}

fn any_value(vals: &[&Bson], f: impl Fn(&Bson) -> bool) -> bool {
    vals.iter().any(|v| {
        f(v) || match v {
            Bson::Array(a) => a.iter().any(&f),
            _ => false,
        }
    })
}

fn in_matches(items: &[InItem], vals: &[&Bson]) -> bool {
    items.iter().any(|it| match it {
        InItem::Value(x) => cond_matches(&Cond::Eq(x.clone()), vals),
        InItem::Regex(r) => any_value(vals, |v| regex_matches(r, v)),
    })
}

fn regex_matches(r: &CompiledRegex, v: &Bson) -> bool {
    match v {
        Bson::String(s) | Bson::Symbol(s) => r.re.is_match(s),
        Bson::RegularExpression(x) => {
            x.pattern.as_str() == r.pattern && x.options.as_str() == r.options
        }
        _ => false,
    }
}

/// Compare within one type bracket (numbers together); `None` across brackets.
fn cmp_same_type(v: &Bson, x: &Bson) -> Option<Ordering> {
    if type_rank(v) != type_rank(x) {
        return None;
    }
    if matches!(v, Bson::Array(_)) {
        return None;
    }
    Some(compare(v, x))
}
