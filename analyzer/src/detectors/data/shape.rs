//! The shape of a data value, its record count and a collection name.
//!
//! - An array whose elements are all objects is a collection (one document per record);
//!   `fields` are the keys present in at least half of the records, in first-seen order.
//! - An object of three or more members whose values are all objects sharing most of their
//!   keys (e.g. `{ "110000": {name, …}, "120000": {…} }`) is a *record map*: also a collection,
//!   one document per member, the member key becoming the `_id`.
//! - Any other object is one config document.
//! - Arrays of scalars, of mixed values or of arrays are a list (one document holding it).

use std::borrow::Cow;

use swc_common::Spanned;
use swc_ecma_ast::{Expr, ExprOrSpread, Prop, PropName, PropOrSpread};

use crate::findings::{DataShape, NestedRecords};
use crate::js::JsFile;
use crate::json_doc::Json;
use crate::literal::unwrap;

/// A data value read in place: a JSON node or a pure JS literal, so shapes are measured without
/// copying the data into another tree.
#[derive(Clone, Copy)]
pub(super) enum Node<'a> {
    Json(&'a Json),
    Js(&'a JsFile, &'a Expr),
}

fn key_of(p: &PropName) -> Option<Cow<'_, str>> {
    match p {
        PropName::Ident(i) => Some(Cow::Borrowed(&*i.sym)),
        PropName::Str(s) => Some(match s.value.as_str() {
            Some(v) => Cow::Borrowed(v),
            None => s.value.to_string_lossy(),
        }),
        PropName::Num(n) => Some(Cow::Owned(n.value.to_string())),
        _ => None,
    }
}

impl<'a> Node<'a> {
    pub(super) fn is_object(self) -> bool {
        match self {
            Node::Json(j) => j.is_object(),
            Node::Js(_, e) => matches!(unwrap(e), Expr::Object(_)),
        }
    }

    /// Array elements (empty for anything else).
    pub(super) fn items(self) -> Vec<Node<'a>> {
        match self {
            Node::Json(j) => j.as_array().unwrap_or(&[]).iter().map(Node::Json).collect(),
            Node::Js(js, e) => match unwrap(e) {
                Expr::Array(a) => a
                    .elems
                    .iter()
                    .flatten()
                    .map(|ExprOrSpread { expr, .. }| Node::Js(js, expr))
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    pub(super) fn is_array(self) -> bool {
        match self {
            Node::Json(j) => j.as_array().is_some(),
            Node::Js(_, e) => matches!(unwrap(e), Expr::Array(_)),
        }
    }

    /// Object members in source order (empty for anything else).
    pub(super) fn members(self) -> Vec<(Cow<'a, str>, Node<'a>)> {
        match self {
            Node::Json(j) => j
                .members()
                .iter()
                .map(|m| (Cow::Borrowed(m.key.as_str()), Node::Json(&m.value)))
                .collect(),
            Node::Js(js, e) => match unwrap(e) {
                Expr::Object(o) => o
                    .props
                    .iter()
                    .filter_map(|p| match p {
                        PropOrSpread::Prop(p) => match &**p {
                            Prop::KeyValue(kv) => Some((key_of(&kv.key)?, Node::Js(js, &kv.value))),
                            _ => None,
                        },
                        PropOrSpread::Spread(_) => None,
                    })
                    .collect(),
                _ => Vec::new(),
            },
        }
    }

    /// Calls `f` with each object member, without collecting them.
    pub(super) fn each_member(self, mut f: impl FnMut(Cow<'a, str>, Node<'a>)) {
        match self {
            Node::Json(j) => {
                for m in j.members() {
                    f(Cow::Borrowed(m.key.as_str()), Node::Json(&m.value));
                }
            }
            Node::Js(js, e) => {
                if let Expr::Object(o) = unwrap(e) {
                    for p in &o.props {
                        if let PropOrSpread::Prop(p) = p
                            && let Prop::KeyValue(kv) = &**p
                            && let Some(k) = key_of(&kv.key)
                        {
                            f(k, Node::Js(js, &kv.value));
                        }
                    }
                }
            }
        }
    }

    /// The text of a string value (a JSON string, a JS string literal or a template literal
    /// without expressions).
    pub(super) fn as_str(self) -> Option<Cow<'a, str>> {
        match self {
            Node::Json(j) => j.as_str().map(Cow::Borrowed),
            Node::Js(_, e) => match unwrap(e) {
                Expr::Lit(swc_ecma_ast::Lit::Str(s)) => Some(s.value.to_string_lossy()),
                Expr::Tpl(t) if t.exprs.is_empty() => t
                    .quasis
                    .first()
                    .map(|q| Cow::Owned(crate::js::syntax::quasi_text(q))),
                _ => None,
            },
        }
    }

    /// Byte range of the value in its file.
    pub(super) fn range(self) -> (u32, u32) {
        match self {
            Node::Json(j) => (j.start, j.end),
            Node::Js(js, e) => {
                let s = js.span(unwrap(e).span());
                (s.start, s.end)
            }
        }
    }
}

/// What a literal is when it is code or build metadata rather than configuration data (the
/// sources of a WebGL shader, a protobuf descriptor, a webpack runtime's chunk map), for the
/// detector to leave out; `None` for data.
pub(super) fn not_data(v: Node<'_>) -> Option<&'static str> {
    if has_shader_source(v, 3) {
        return Some("shader sources");
    }
    if is_protobuf_descriptor(v) {
        return Some("a protobuf descriptor");
    }
    if is_chunk_map(v) {
        return Some("a webpack chunk map");
    }
    None
}

/// A GLSL program in a string at most `depth` levels down.
fn has_shader_source(v: Node<'_>, depth: u32) -> bool {
    if let Some(s) = v.as_str() {
        let glsl = ["gl_FragColor", "gl_Position", "gl_FragCoord"]
            .iter()
            .any(|k| s.contains(k))
            || (s.contains("void main")
                && ["precision ", "uniform ", "varying ", "attribute "]
                    .iter()
                    .any(|k| s.contains(k)));
        return glsl;
    }
    if depth == 0 {
        return false;
    }
    v.items()
        .into_iter()
        .any(|i| has_shader_source(i, depth - 1))
        || v.members()
            .into_iter()
            .any(|(_, m)| has_shader_source(m, depth - 1))
}

/// protobuf.js's JSON descriptor: `{ nested: { pkg: { nested: { Msg: { fields: { id: { type,
/// id } } } } } } }` (or `options`/`values` of enums beside it).
fn is_protobuf_descriptor(v: Node<'_>) -> bool {
    fn fields_here(v: Node<'_>, depth: u32) -> bool {
        let members = v.members();
        let fields = members.iter().find(|(k, _)| k == "fields").map(|(_, f)| *f);
        if let Some(f) = fields {
            let fm = f.members();
            if !fm.is_empty()
                && fm.iter().all(|(_, d)| {
                    let dm = d.members();
                    dm.iter().any(|(k, _)| k == "type") && dm.iter().any(|(k, _)| k == "id")
                })
            {
                return true;
            }
        }
        depth > 0
            && members
                .iter()
                .filter(|(k, _)| k == "nested")
                .flat_map(|(_, n)| n.members())
                .any(|(_, m)| fields_here(m, depth - 1))
    }
    v.members().iter().any(|(k, _)| k == "nested") && fields_here(v, 6)
}

/// `{ "12": "a1b2c3d4", "pages-index": "9f8e7d6c", … }`: chunk ids (numbers, or chunk names
/// with `-`, `_`, `~` or `/`) to content hashes of 8 to 32 hex digits (a colour table, keyed by
/// names and six digits long, is not one).
fn is_chunk_map(v: Node<'_>) -> bool {
    let members = v.members();
    members.len() >= 3
        && members.iter().all(|(k, h)| {
            let chunk_id = k.bytes().all(|b| b.is_ascii_digit())
                || k.bytes().any(|b| matches!(b, b'-' | b'_' | b'~' | b'/'));
            chunk_id
                && h.as_str().is_some_and(|s| {
                    (8..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
                })
        })
}

/// The shape of a value and how many records it holds (1 for a document).
pub(super) fn shape(v: Node<'_>) -> (DataShape, u64) {
    if v.is_array() {
        let items = v.items();
        {
            if !items.is_empty() && items.iter().all(|i| i.is_object()) {
                let (fields, homogeneous) = fields_of(&items);
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
    } else if v.is_object() {
        let members = v.members();
        {
            let values: Vec<Node<'_>> = members.iter().map(|m| m.1).collect();
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
                        keys: members.iter().map(|m| m.0.to_string()).collect(),
                    },
                    1,
                )
            }
        }
    } else {
        (DataShape::Document { keys: Vec::new() }, 1)
    }
}

/// The records of a collection-shaped value (array elements or record-map values).
pub(super) fn records(v: Node<'_>) -> Vec<Node<'_>> {
    if v.is_array() {
        v.items()
    } else {
        v.members().into_iter().map(|m| m.1).collect()
    }
}

fn is_record_map(values: &[Node<'_>]) -> bool {
    if values.len() < 3 || !values.iter().all(|v| v.is_object()) {
        return false;
    }
    let (fields, _) = fields_of(values);
    if fields.is_empty() {
        return false;
    }
    // Most values must carry most of the common fields.
    let close = values
        .iter()
        .filter(|v| {
            let (mut shared, mut len) = (0, 0);
            v.each_member(|k, _| {
                len += 1;
                if fields.iter().any(|f| *f == k) {
                    shared += 1;
                }
            });
            shared * 2 >= fields.len().max(len)
        })
        .count();
    close * 5 >= values.len() * 4
}

/// Keys present in at least half the records (first-seen order), and whether every record
/// has exactly the same key set.
fn fields_of<'a>(records: &[Node<'a>]) -> (Vec<String>, bool) {
    // Records have few keys: a small vector beats hashing.
    let mut counts: Vec<(Cow<'a, str>, usize)> = Vec::new();
    for r in records {
        r.each_member(|k, _| match counts.iter_mut().find(|(c, _)| *c == k) {
            Some((_, n)) => *n += 1,
            None => counts.push((k, 1)),
        });
    }
    // Every record has every key seen: the key sets are identical.
    let homogeneous = counts.iter().all(|(_, n)| *n == records.len());
    let fields = counts
        .into_iter()
        .filter(|(_, n)| n * 2 >= records.len())
        .map(|(k, _)| k.into_owned())
        .collect();
    (fields, homogeneous)
}

/// Records nested in array-of-object fields of the records (`stops`, `children.children`),
/// summed over all records, up to three levels deep; for a document, its own array-of-object
/// fields (`groups`, `groups.items`).
pub(super) fn nested(v: Node<'_>, shape: &DataShape) -> Vec<NestedRecords> {
    let mut out: Vec<NestedRecords> = Vec::new();
    match shape {
        DataShape::Collection { .. } => walk(&records(v), "", 0, &mut out),
        // A document holding collections (`{ version, groups: [{ items: […] }] }`).
        DataShape::Document { .. } => walk(&[v], "", 0, &mut out),
        DataShape::List => {}
    }
    out
}

fn walk(records: &[Node<'_>], prefix: &str, depth: usize, out: &mut Vec<NestedRecords>) {
    if depth >= 3 {
        return;
    }
    let mut by_field: Vec<(Cow<'_, str>, Vec<Node<'_>>)> = Vec::new();
    for r in records {
        r.each_member(|key, value| {
            if !value.is_array() {
                return;
            }
            let items = value.items();
            if !items.is_empty() && items.iter().all(|i| i.is_object()) {
                match by_field.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, v)) => v.extend(items),
                    None => by_field.push((key, items)),
                }
            }
        });
    }
    for (key, items) in by_field {
        let path = if prefix.is_empty() {
            key.into_owned()
        } else {
            format!("{prefix}.{key}")
        };
        out.push(NestedRecords {
            path: path.clone(),
            records: items.len() as u64,
        });
        walk(&items, &path, depth + 1, out);
    }
}

/// `busLines`, `bus-lines`, `BusLines` → `bus_lines`; a name that does not start with a letter
/// gets a `data_` prefix.
pub(super) fn snake_case(name: &str) -> String {
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
pub(super) fn file_stem_name(path: &str) -> String {
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
    use crate::json_doc::parse;

    #[test]
    fn shapes() {
        let shape = |j: &Json| super::shape(Node::Json(j));
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
        let n = nested(Node::Json(&v), &super::shape(Node::Json(&v)).0);
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
