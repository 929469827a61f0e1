//! The shape of a data value, its record count and a collection name.
//!
//! - An array whose elements are all objects is a collection (one document per record);
//!   `fields` are the keys present in at least half of the records, in first-seen order.
//! - An object of three or more members whose values are all objects sharing most of their
//!   keys (e.g. `{ "110000": {name, …}, "120000": {…} }`) is a *record map*: also a collection,
//!   one document per member, the member key becoming the `_id`.
//! - Any other object is one config document.
//! - Arrays of scalars, of mixed values or of arrays are a list (one document holding it).

use std::collections::HashMap;

use crate::findings::{DataShape, NestedRecords};
use crate::json::{Json, JsonKind};

/// The shape of a value and how many records it holds (1 for a document).
pub fn shape(v: &Json) -> (DataShape, u64) {
    match &v.kind {
        JsonKind::Array(items) => {
            let objects: Vec<&Json> = items.iter().filter(|i| i.is_object()).collect();
            if !items.is_empty() && objects.len() == items.len() {
                let (fields, homogeneous) = fields_of(&objects);
                (
                    DataShape::Collection {
                        fields,
                        homogeneous,
                    },
                    items.len() as u64,
                )
            } else {
                (DataShape::List, items.len() as u64)
            }
        }
        JsonKind::Object(members) => {
            let values: Vec<&Json> = members.iter().map(|m| &m.value).collect();
            if is_record_map(&values) {
                let (fields, homogeneous) = fields_of(&values);
                (
                    DataShape::Collection {
                        fields,
                        homogeneous,
                    },
                    members.len() as u64,
                )
            } else {
                (
                    DataShape::Document {
                        keys: members.iter().map(|m| m.key.clone()).collect(),
                    },
                    1,
                )
            }
        }
        _ => (DataShape::Document { keys: Vec::new() }, 1),
    }
}

/// The records of a collection-shaped value (array elements or record-map values).
pub fn records(v: &Json) -> Vec<&Json> {
    match &v.kind {
        JsonKind::Array(items) => items.iter().collect(),
        JsonKind::Object(members) => members.iter().map(|m| &m.value).collect(),
        _ => Vec::new(),
    }
}

fn is_record_map(values: &[&Json]) -> bool {
    if values.len() < 3 || !values.iter().all(|v| v.is_object()) {
        return false;
    }
    let (fields, _) = fields_of(values);
    if fields.is_empty() {
        return false;
    }
    // Most values must carry most of the common fields.
    let sets: Vec<Vec<&str>> = values
        .iter()
        .map(|v| v.members().iter().map(|m| m.key.as_str()).collect())
        .collect();
    let close = sets
        .iter()
        .filter(|s| {
            let shared = fields.iter().filter(|f| s.contains(&f.as_str())).count();
            shared * 2 >= fields.len().max(s.len())
        })
        .count();
    close * 5 >= values.len() * 4
}

/// Keys present in at least half the records (first-seen order), and whether every record
/// has exactly the same key set.
fn fields_of(records: &[&Json]) -> (Vec<String>, bool) {
    let mut order: Vec<&str> = Vec::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut first: Option<Vec<&str>> = None;
    let mut homogeneous = true;
    for r in records {
        let mut keys: Vec<&str> = r.members().iter().map(|m| m.key.as_str()).collect();
        for k in &keys {
            let c = counts.entry(k).or_insert(0);
            if *c == 0 {
                order.push(k);
            }
            *c += 1;
        }
        keys.sort_unstable();
        match &first {
            None => first = Some(keys),
            Some(f) => homogeneous &= *f == keys,
        }
    }
    let fields = order
        .into_iter()
        .filter(|k| counts[k] * 2 >= records.len())
        .map(str::to_string)
        .collect();
    (fields, homogeneous)
}

/// Records nested in array-of-object fields of the records (`stops`, `children.children`),
/// summed over all records, up to three levels deep; for a document, its own array-of-object
/// fields (`groups`, `groups.items`).
pub fn nested(v: &Json) -> Vec<NestedRecords> {
    let mut out: Vec<NestedRecords> = Vec::new();
    match shape(v).0 {
        DataShape::Collection { .. } => walk(&records(v), "", 0, &mut out),
        // A document holding collections (`{ version, groups: [{ items: […] }] }`).
        DataShape::Document { .. } => walk(&[v], "", 0, &mut out),
        DataShape::List => {}
    }
    out
}

fn walk(records: &[&Json], prefix: &str, depth: usize, out: &mut Vec<NestedRecords>) {
    if depth >= 3 {
        return;
    }
    let mut by_field: Vec<(String, Vec<&Json>)> = Vec::new();
    for r in records {
        for m in r.members() {
            if let JsonKind::Array(items) = &m.value.kind
                && !items.is_empty()
                && items.iter().all(Json::is_object)
            {
                let path = if prefix.is_empty() {
                    m.key.clone()
                } else {
                    format!("{prefix}.{}", m.key)
                };
                match by_field.iter_mut().find(|(p, _)| *p == path) {
                    Some((_, v)) => v.extend(items.iter()),
                    None => by_field.push((path, items.iter().collect())),
                }
            }
        }
    }
    for (path, items) in by_field {
        out.push(NestedRecords {
            path: path.clone(),
            records: items.len() as u64,
        });
        walk(&items, &path, depth + 1, out);
    }
}

/// `busLines`, `bus-lines`, `BusLines` → `bus_lines`; a name that does not start with a letter
/// gets a `data_` prefix.
pub fn snake_case(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out
    } else {
        format!("data_{out}").trim_end_matches('_').to_string()
    }
}

/// A name for data that lives in a file: its stem, or the folder for `index.*`.
pub fn file_stem_name(path: &str) -> String {
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    if stem == "index"
        && let Some(dir) = parts.next()
    {
        return snake_case(dir);
    }
    snake_case(stem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    #[test]
    fn shapes() {
        let (s, n) = shape(&parse(r#"[{"a":1,"b":2},{"a":3,"b":4}]"#).unwrap());
        assert_eq!(n, 2);
        assert!(
            matches!(s, DataShape::Collection { ref fields, homogeneous: true } if fields == &["a", "b"])
        );
        let (s, _) = shape(&parse(r#"[{"a":1,"b":2},{"a":3},{"a":1,"c":1}]"#).unwrap());
        assert!(
            matches!(s, DataShape::Collection { ref fields, homogeneous: false } if fields == &["a"])
        );
        let (s, n) = shape(&parse(r#"[1, "x", {"a":1}]"#).unwrap());
        assert!(matches!(s, DataShape::List) && n == 3);
        let (s, n) = shape(&parse(r#"{"version":1,"cities":{"a":{}}}"#).unwrap());
        assert!(matches!(s, DataShape::Document { ref keys } if keys.len() == 2) && n == 1);
        let map = r#"{"110000":{"name":"北京","lat":1},"120000":{"name":"天津","lat":2},"130000":{"name":"河北","lat":3,"x":1}}"#;
        let (s, n) = shape(&parse(map).unwrap());
        assert!(
            matches!(
                s,
                DataShape::Collection {
                    homogeneous: false,
                    ..
                }
            ) && n == 3
        );
        let (s, n) = shape(&parse("[]").unwrap());
        assert!(matches!(s, DataShape::List) && n == 0);
    }

    #[test]
    fn nested_tree() {
        let v = parse(r#"[{"c":[{"c":[{"x":1},{"x":2}]}]},{"c":[{"c":[]},{"y":1}]}]"#).unwrap();
        let n = nested(&v);
        assert_eq!(n.len(), 2);
        assert_eq!((n[0].path.as_str(), n[0].records), ("c", 3));
        assert_eq!((n[1].path.as_str(), n[1].records), ("c.c", 2));
    }

    #[test]
    fn names() {
        assert_eq!(snake_case("busLines"), "bus_lines");
        assert_eq!(snake_case("fare-rules"), "fare_rules");
        assert_eq!(snake_case("FAQ_LIST"), "faq_list");
        assert_eq!(snake_case("110000"), "data_110000");
        assert_eq!(file_stem_name("miniprogram/data/cities.js"), "cities");
        assert_eq!(file_stem_name("a/regions/index.ts"), "regions");
    }
}
