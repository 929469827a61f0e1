//! Aggregation pipelines. Expressions inside stages (`$project`, `$group`, `$addFields`) are
//! evaluated by `expr.rs`.
//!
//! Stages: `$match $project $addFields/$set $unset $sort $skip $limit $count $group $unwind
//! $replaceRoot/$replaceWith $sortByCount $lookup` (equality form) `$sample $bucket $geoNear`.
//! Not supported (clear `INVALID_PARAM`): `$bucketAuto $facet $graphLookup $out` and others.

use crate::db::error::{DbError, DbResult};
use crate::db::expr::{Acc, eval_expr, num_result, op_of, validate_expr};
use crate::db::fields::{get_path, lookup_all, set_path, unset_path};
use crate::db::keys;
use crate::db::limits::{Budget, Budgets, doc_mem_size};
use crate::db::query::Filter;
use crate::db::sort::{compare_by_sort, sort_spec};
use crate::db::value::{as_num, compare, values_equal};
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

/// Loads another collection's documents (for `$lookup`).
pub type Loader<'a> = &'a dyn Fn(&str) -> DbResult<Vec<Document>>;

/// The result of parsing a pipeline: does it set its own `$limit`?
pub fn has_limit(pipeline: &[Document]) -> bool {
    pipeline.iter().any(|s| s.contains_key("$limit"))
}

/// Run a pipeline over `docs` within the default [`Budgets`].
pub fn run_pipeline(
    docs: Vec<Document>,
    pipeline: &[Document],
    lookup: Loader<'_>,
) -> DbResult<Vec<Document>> {
    run_pipeline_budgeted(docs, pipeline, lookup, &mut Budget::new(Budgets::default()))
}

/// Run a pipeline over `docs` within `budget`: time across all stages, memory per stage.
pub fn run_pipeline_budgeted(
    mut docs: Vec<Document>,
    pipeline: &[Document],
    lookup: Loader<'_>,
    budget: &mut Budget,
) -> DbResult<Vec<Document>> {
    // Shape checks of every stage before any work (crate::db::limits).
    for stage in pipeline {
        crate::db::limits::check_request("aggregate stage", stage)?;
    }
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
        budget.next_stage();
        docs = run_stage(docs, name, arg, lookup, budget)?;
        if deepens(name) {
            for d in &docs {
                crate::db::limits::check_depth(&format!("a document built by {name}"), d)?;
            }
        }
    }
    Ok(docs)
}

/// Stages whose output may nest deeper than their input.
fn deepens(stage: &str) -> bool {
    !matches!(
        stage,
        "$match" | "$sort" | "$skip" | "$limit" | "$count" | "$sample" | "$unset" | "$unwind"
    )
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
    budget: &mut Budget,
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
                budget.tick()?;
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
        "$group" => group(docs, as_doc(name, arg)?, budget)?,
        "$sortByCount" => {
            validate_expr(arg)?;
            let mut g = Document::new();
            g.insert("_id", arg.clone());
            let mut c = Document::new();
            c.insert("$sum", 1);
            g.insert("count", c);
            let mut out = group(docs, &g, budget)?;
            out.sort_by(|a, b| {
                compare(
                    b.get("count").unwrap_or(&Bson::Null),
                    a.get("count").unwrap_or(&Bson::Null),
                )
            });
            out
        }
        "$unwind" => unwind(docs, arg, budget)?,
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
        "$bucket" => bucket(docs, as_doc(name, arg)?, budget)?,
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
                budget.tick()?;
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
                let added: usize = matched.iter().map(crate::db::limits::mem_size).sum();
                budget.check_document("$lookup", doc_mem_size(&d) + added)?;
                budget.charge(added)?;
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
fn bucket(docs: Vec<Document>, spec: &Document, budget: &mut Budget) -> DbResult<Vec<Document>> {
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
    let mut out = group_keyed(docs, Some(bucket_keys), &g, budget)?;
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

fn group(docs: Vec<Document>, spec: &Document, budget: &mut Budget) -> DbResult<Vec<Document>> {
    group_keyed(docs, None, spec, budget)
}

/// `$group`, with the group keys precomputed when `keys` is given (one per document).
fn group_keyed(
    docs: Vec<Document>,
    precomputed: Option<Vec<Bson>>,
    spec: &Document,
    budget: &mut Budget,
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
    // The estimated size of each group's result so far ($push and $addToSet grow it).
    let mut sizes: Vec<usize> = Vec::new();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    for (n, d) in docs.iter().enumerate() {
        budget.tick()?;
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
                let size = crate::db::limits::mem_size(&key) + 64;
                budget.charge(size)?;
                sizes.push(size);
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
            if matches!(*op, "$push" | "$addToSet") {
                let grown = crate::db::limits::mem_size(&v);
                sizes[slot] += grown;
                budget.check_document(&format!("$group {op}"), sizes[slot])?;
                budget.charge(grown)?;
            }
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

fn unwind(docs: Vec<Document>, arg: &Bson, budget: &mut Budget) -> DbResult<Vec<Document>> {
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
                // Each copy is made without the array (one element replaces it).
                let mut base = d;
                set_path(&mut base, field, Bson::Null)?;
                let base_size = doc_mem_size(&base);
                for (i, e) in a.into_iter().enumerate() {
                    budget.charge(base_size + crate::db::limits::mem_size(&e))?;
                    let mut nd = base.clone();
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
