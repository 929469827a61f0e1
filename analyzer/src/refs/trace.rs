//! Tracing `{{ }}` bindings in WXML back to string literals in the page's (or component's)
//! script: `Page({ data })`, `Component({ data, properties })` and `setData({…})` literals are
//! flattened into `path → string` leaves (`banners[].image`, `gallery[]`, `cardImage`), and a
//! WXML expression such as `item.image` inside `wx:for="{{banners}}"` becomes the path
//! `banners[].image`, looked up exactly or as a prefix.

use std::collections::HashMap;

use swc_ecma_ast::*;

use crate::js::{BindingId, JsFile};
use crate::literal::{obj_get, options_objects, prop_name, str_value, unwrap};
use crate::span::Span;
use crate::wxml::{Document, Element};

/// A string leaf of the page's data: its path, value and where the literal is.
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub path: String,
    pub value: String,
    pub span: Span,
}

/// The leaves of `Page`/`Component`/`Behavior` options: `data` and `properties` defaults.
pub(crate) fn options_leaves(js: &JsFile, inits: &HashMap<BindingId, &Expr>) -> Vec<Leaf> {
    let mut out = Vec::new();
    for (kind, obj) in options_objects(js) {
        if !matches!(kind, "Page" | "Component" | "Behavior") {
            continue;
        }
        for p in &obj.props {
            let PropOrSpread::Prop(p) = p else { continue };
            let Prop::KeyValue(kv) = &**p else { continue };
            let key = prop_name(&kv.key).unwrap_or_default();
            let Expr::Object(o) = unwrap(&kv.value) else {
                continue;
            };
            match key.as_str() {
                "data" => flatten_object(js, inits, o, "", &mut out, 0),
                // properties: { icon: { type: String, value: '/images/x.png' } }
                "properties" => {
                    for p in &o.props {
                        let PropOrSpread::Prop(p) = p else { continue };
                        let Prop::KeyValue(kv) = &**p else { continue };
                        let Some(name) = prop_name(&kv.key) else {
                            continue;
                        };
                        if let Expr::Object(def) = unwrap(&kv.value)
                            && let Some(v) = obj_get(def, "value")
                        {
                            flatten(js, inits, v, &name, &mut out, 0);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// The leaves of one `x.setData({…})` call, if `call` is one.
pub(crate) fn setdata_leaves(
    js: &JsFile,
    inits: &HashMap<BindingId, &Expr>,
    call: &CallExpr,
    out: &mut Vec<Leaf>,
) {
    if let Callee::Expr(c) = &call.callee
        && let Expr::Member(m) = unwrap(c)
        && matches!(&m.prop, MemberProp::Ident(p) if p.sym == *"setData")
        && let Some(Expr::Object(o)) = call.args.first().map(|a| unwrap(&a.expr))
    {
        flatten_object(js, inits, o, "", out, 0);
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else if key.starts_with('[') {
        [prefix, key].concat()
    } else {
        [prefix, ".", key].concat()
    }
}

/// Normalises a setData key path (`list[0].icon`, `a.b`) to the leaf path form.
fn norm_key(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut in_idx = false;
    for c in k.chars() {
        match c {
            '[' => {
                in_idx = true;
                out.push_str("[]");
            }
            ']' => in_idx = false,
            _ if in_idx => {}
            _ => out.push(c),
        }
    }
    out
}

fn flatten_object(
    js: &JsFile,
    inits: &HashMap<BindingId, &Expr>,
    o: &ObjectLit,
    prefix: &str,
    out: &mut Vec<Leaf>,
    depth: usize,
) {
    for p in &o.props {
        let PropOrSpread::Prop(p) = p else { continue };
        match &**p {
            Prop::KeyValue(kv) => {
                if let Some(k) = prop_name(&kv.key) {
                    flatten(
                        js,
                        inits,
                        &kv.value,
                        &join(prefix, &norm_key(&k)),
                        out,
                        depth + 1,
                    );
                }
            }
            Prop::Shorthand(id) => {
                if let Some(init) = inits.get(&(id.sym.clone(), id.ctxt)) {
                    flatten(js, inits, init, &join(prefix, &id.sym), out, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn flatten(
    js: &JsFile,
    inits: &HashMap<BindingId, &Expr>,
    e: &Expr,
    path: &str,
    out: &mut Vec<Leaf>,
    depth: usize,
) {
    if depth > 12 {
        return;
    }
    let e = unwrap(e);
    if let Some(s) = str_value(e) {
        out.push(Leaf {
            path: path.to_string(),
            value: s,
            span: js.span(swc_common::Spanned::span(e)),
        });
        return;
    }
    match e {
        Expr::Array(a) => {
            let p = [path, "[]"].concat();
            for el in a.elems.iter().flatten() {
                flatten(js, inits, &el.expr, &p, out, depth + 1);
            }
        }
        Expr::Object(o) => flatten_object(js, inits, o, path, out, depth),
        Expr::Ident(i) => {
            if let Some(init) = inits.get(&(i.sym.clone(), i.ctxt)) {
                flatten(js, inits, init, path, out, depth + 1);
            }
        }
        Expr::Bin(b) if matches!(b.op, BinaryOp::LogicalOr | BinaryOp::NullishCoalescing) => {
            flatten(js, inits, &b.left, path, out, depth + 1);
            flatten(js, inits, &b.right, path, out, depth + 1);
        }
        Expr::Cond(c) => {
            flatten(js, inits, &c.cons, path, out, depth + 1);
            flatten(js, inits, &c.alt, path, out, depth + 1);
        }
        _ => {}
    }
}

/// What a mustache expression mentions: string literals (with their offsets in the
/// expression) and member paths (`item.image`, `list[0].icon` → `list[].icon`).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ExprRefs {
    pub strings: Vec<(String, usize, usize)>,
    pub paths: Vec<String>,
}

const KEYWORDS: &[&str] = &[
    "true",
    "false",
    "null",
    "undefined",
    "typeof",
    "in",
    "instanceof",
];

pub(crate) fn scan_expr(expr: &str) -> ExprRefs {
    let b = expr.as_bytes();
    let mut out = ExprRefs::default();
    let mut i = 0;
    let ident_start = |c: u8| c.is_ascii_alphabetic() || c == b'_' || c == b'$';
    let ident_byte = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$';
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j] != c {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = j.min(b.len());
            out.strings.push((expr[start..end].to_string(), start, end));
            i = end + 1;
        } else if ident_start(c) && (i == 0 || (b[i - 1] != b'.' && !ident_byte(b[i - 1]))) {
            let mut path = String::new();
            let mut j = i;
            loop {
                let s = j;
                while j < b.len() && ident_byte(b[j]) {
                    j += 1;
                }
                path.push_str(&expr[s..j]);
                // .name or [index]
                if j < b.len() && b[j] == b'.' && b.get(j + 1).is_some_and(|&c| ident_start(c)) {
                    path.push('.');
                    j += 1;
                } else if j < b.len() && b[j] == b'[' {
                    match expr[j..].find(']') {
                        Some(k) => {
                            let inner = expr[j + 1..j + k].trim();
                            let q = inner.trim_matches(|c| c == '\'' || c == '"');
                            if q.len() + 2 == inner.len() && !q.is_empty() {
                                path.push('.');
                                path.push_str(q);
                            } else {
                                path.push_str("[]");
                            }
                            j += k + 1;
                            if j < b.len()
                                && b[j] == b'.'
                                && b.get(j + 1).is_some_and(|&c| ident_start(c))
                            {
                                path.push('.');
                                j += 1;
                            } else {
                                break;
                            }
                        }
                        None => break,
                    }
                } else {
                    break;
                }
            }
            if !KEYWORDS.contains(&path.as_str()) {
                out.paths.push(path);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// Rewrites a path that starts with a `wx:for` item (or index) of an enclosing element into a
/// data path: `item.image` inside `wx:for="{{banners}}"` → `banners[].image`.
pub(crate) fn data_path(doc: &Document, el: usize, path: &str) -> Option<String> {
    let mut cur = Some(el);
    while let Some(i) = cur {
        let e: &Element = &doc.elements[i];
        if let Some(list) = e.value("wx:for").or_else(|| e.value("wx:for-items")) {
            let item = e
                .value("wx:for-item")
                .and_then(|v| v.as_static())
                .unwrap_or("item")
                .trim();
            let index = e
                .value("wx:for-index")
                .and_then(|v| v.as_static())
                .unwrap_or("index")
                .trim();
            let head = path.split(['.', '[']).next().unwrap_or(path);
            if head == index {
                return None;
            }
            if head == item {
                let list_expr = list.as_single_mustache()?;
                let refs = scan_expr(list_expr);
                let [list_path] = refs.paths.as_slice() else {
                    return None;
                };
                // The list itself may come from an outer loop's item.
                let parent = e.parent;
                let list_path = match parent {
                    Some(p) => data_path(doc, p, list_path)?,
                    None => list_path.clone(),
                };
                return Some([&list_path, "[]", &path[head.len()..]].concat());
            }
        }
        cur = e.parent;
    }
    Some(path.to_string())
}

/// Leaves at `path` or below it.
pub(crate) fn lookup<'a>(leaves: &'a [Leaf], path: &str) -> impl Iterator<Item = &'a Leaf> + 'a {
    let path = path.to_string();
    leaves.iter().filter(move |l| {
        l.path == path
            || (l.path.starts_with(&path)
                && matches!(l.path.as_bytes().get(path.len()), Some(b'.') | Some(b'[')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_expressions() {
        let r = scan_expr("user.avatar || '/images/logo.png'");
        assert_eq!(r.paths, vec!["user.avatar"]);
        assert_eq!(r.strings[0].0, "/images/logo.png");
        let r = scan_expr("list[0].icon + a['b'].c ? x : true");
        assert_eq!(r.paths, vec!["list[].icon", "a.b.c", "x"]);
    }

    #[test]
    fn for_items_become_list_paths() {
        let (doc, _) = crate::wxml::parse(
            crate::FileId(0),
            "t.wxml",
            r#"<view wx:for="{{groups}}" wx:for-item="g"><image wx:for="{{g.items}}" src="{{item.icon}}"/><text>{{index}}</text></view>"#,
        );
        assert_eq!(
            data_path(&doc, 1, "item.icon").as_deref(),
            Some("groups[].items[].icon")
        );
        assert_eq!(data_path(&doc, 1, "index"), None);
        assert_eq!(data_path(&doc, 0, "title").as_deref(), Some("title"));
    }
}
