//! Symbolic values: what an expression is known to hold, with the unknown parts named.
//!
//! A wrapper's URL is kept in terms of its parameters (`config.baseUrl + url` is
//! `"https://…/v2" + param 0`); a call site substitutes its arguments into it.

use std::borrow::Cow;

use crate::span::Span;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Part {
    Lit(String),
    /// A parameter of the function being summarised (position, property path, name, span).
    Param(u32, Vec<String>, String, Span),
    /// Unknown statically: a placeholder name and the expression it comes from.
    Unknown(String, Span),
    /// A run-time value with a constant fallback (`wx.getStorageSync('host') || DEFAULT_HOST`):
    /// the fallback's text, and the name and span of the run-time part.
    Fallback(String, String, Span),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Entry {
    Kv(String, Val),
    Spread(Val),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    /// A string, as a concatenation.
    Str(Vec<Part>),
    Obj(Vec<Entry>),
    Param(u32, Vec<String>, String, Span),
    /// `a || b`, a default: `a` when it is there, else `b`.
    Or(Box<Val>, Box<Val>),
    /// One of several values (`c ? a : b`).
    Alt(Vec<Val>),
    /// `c ? a : b` where `c` reads a parameter (`needSubDomain ? '/' + sub : ''`): decided
    /// when a call site gives the parameter a value (see [`subst_with`]), else one of both.
    If(Box<Val>, Box<Val>, Box<Val>),
    /// Absent (a missing argument, a key an object does not have, `undefined`).
    Missing,
    Unknown(String, Span),
    /// A whole module (`const m = require('x')`, `import * as m`): index into the world's files.
    Module(usize),
    /// `wx.getExtConfigSync()` (and the dotted path read from it so far).
    Ext(String),
}

impl Val {
    pub(super) fn lit(s: impl Into<String>) -> Val {
        Val::Str(vec![Part::Lit(s.into())])
    }

    pub(super) fn has_param(&self) -> bool {
        match self {
            Val::Str(ps) => ps.iter().any(|p| matches!(p, Part::Param(..))),
            Val::Param(..) => true,
            Val::Or(a, b) => a.has_param() || b.has_param(),
            Val::Alt(vs) => vs.iter().any(Val::has_param),
            Val::If(t, a, b) => t.has_param() || a.has_param() || b.has_param(),
            Val::Obj(es) => es.iter().any(|e| match e {
                Entry::Kv(_, v) | Entry::Spread(v) => v.has_param(),
            }),
            _ => false,
        }
    }

    /// Whether the value is known without running the program: no parameter, no unknown part
    /// (a run-time value with a constant fallback counts as known).
    pub(super) fn known(&self) -> bool {
        match self {
            Val::Str(ps) => ps
                .iter()
                .all(|p| matches!(p, Part::Lit(_) | Part::Fallback(..))),
            Val::Obj(es) => es.iter().all(|e| match e {
                Entry::Kv(_, v) | Entry::Spread(v) => v.known(),
            }),
            Val::Param(..) | Val::Unknown(..) | Val::If(..) => false,
            Val::Or(a, b) => match &**a {
                Val::Unknown(..) => b.as_lit().is_some(),
                a => a.known() && b.known(),
            },
            Val::Alt(vs) => vs.iter().all(Val::known),
            Val::Missing | Val::Module(_) | Val::Ext(_) => true,
        }
    }

    /// Whether the value is truthy, when that is known.
    fn truthy(&self) -> Option<bool> {
        match self {
            Val::Missing => Some(false),
            Val::Obj(_) | Val::Module(_) => Some(true),
            Val::Str(_) => {
                let l = self.as_lit()?;
                Some(!matches!(
                    l.as_str(),
                    "" | "false" | "0" | "null" | "undefined" | "NaN"
                ))
            }
            _ => None,
        }
    }

    /// The literal text, when the whole value is known.
    pub(super) fn as_lit(&self) -> Option<String> {
        match self {
            Val::Str(ps) => {
                let mut s = String::new();
                for p in ps {
                    match p {
                        Part::Lit(l) => s.push_str(l),
                        _ => return None,
                    }
                }
                Some(s)
            }
            Val::Or(a, b) => a.as_lit().or_else(|| b.as_lit()),
            _ => None,
        }
    }
}

/// `a || b` with what is known folded away.
pub(super) fn or(a: Val, b: Val) -> Val {
    match a {
        Val::Missing => b,
        Val::Str(_) | Val::Obj(_) | Val::Module(_) if !a.has_param() => a,
        Val::Str(ref ps) if ps.first().is_some_and(|p| matches!(p, Part::Lit(_))) => a,
        _ if b == Val::Missing => a,
        _ => Val::Or(Box::new(a), Box::new(b)),
    }
}

/// Member `key` of a value already evaluated (objects, parameters, alternatives).
pub(super) fn get_simple(v: &Val, key: &str) -> Option<Val> {
    Some(match v {
        Val::Obj(entries) => obj_get(entries, key),
        Val::Param(i, path, _, span) => {
            let mut path = path.clone();
            path.push(key.to_string());
            Val::Param(*i, path, key.to_string(), *span)
        }
        Val::Or(a, b) => or(get_simple(a, key)?, get_simple(b, key)?),
        Val::Alt(vs) => Val::Alt(
            vs.iter()
                .map(|v| get_simple(v, key))
                .collect::<Option<_>>()?,
        ),
        Val::If(t, a, b) => Val::If(
            t.clone(),
            Box::new(get_simple(a, key)?),
            Box::new(get_simple(b, key)?),
        ),
        Val::Missing | Val::Str(_) => Val::Missing,
        Val::Unknown(_, s) => Val::Unknown(key.to_string(), *s),
        Val::Module(_) | Val::Ext(_) => return None,
    })
}

fn obj_get(entries: &[Entry], key: &str) -> Val {
    let Some((last, rest)) = entries.split_last() else {
        return Val::Missing;
    };
    match last {
        Entry::Kv(k, v) if k == key => v.clone(),
        Entry::Kv(..) => obj_get(rest, key),
        Entry::Spread(s) => {
            let from_spread = get_simple(s, key).unwrap_or(Val::Missing);
            or(from_spread, obj_get(rest, key))
        }
    }
}

/// Replaces parameters by the call's arguments.
pub(super) fn subst(v: &Val, args: &[Val], depth: u32) -> Val {
    subst_with(
        v,
        &|i| args.get(i as usize).cloned().unwrap_or(Val::Missing),
        depth,
    )
}

/// [`subst`], with the arguments read on demand (`args(i)`: the `i`th, or `Missing`).
pub(super) fn subst_with(v: &Val, args: &dyn Fn(u32) -> Val, depth: u32) -> Val {
    if depth > 16 {
        return Val::Missing;
    }
    match v {
        Val::Param(i, path, _, _) => {
            let mut out = args(*i);
            for k in path {
                out = get_simple(&out, k).unwrap_or(Val::Missing);
            }
            out
        }
        Val::Str(ps) => {
            let mut out = Vec::new();
            for p in ps {
                match p {
                    Part::Param(i, path, name, span) => {
                        let val = subst_with(
                            &Val::Param(*i, path.clone(), name.clone(), *span),
                            args,
                            depth + 1,
                        );
                        out.extend(to_parts(&val, name, *span).into_owned());
                    }
                    other => out.push(other.clone()),
                }
            }
            Val::Str(merge(out))
        }
        Val::Obj(es) => Val::Obj(
            es.iter()
                .map(|e| match e {
                    Entry::Kv(k, v) => Entry::Kv(k.clone(), subst_with(v, args, depth + 1)),
                    Entry::Spread(v) => Entry::Spread(subst_with(v, args, depth + 1)),
                })
                .collect(),
        ),
        Val::Or(a, b) => or(
            subst_with(a, args, depth + 1),
            subst_with(b, args, depth + 1),
        ),
        Val::Alt(vs) => Val::Alt(vs.iter().map(|v| subst_with(v, args, depth + 1)).collect()),
        Val::If(t, a, b) => {
            let t = subst_with(t, args, depth + 1);
            match t.truthy() {
                Some(true) => subst_with(a, args, depth + 1),
                Some(false) => subst_with(b, args, depth + 1),
                None if t.has_param() => Val::If(
                    Box::new(t),
                    Box::new(subst_with(a, args, depth + 1)),
                    Box::new(subst_with(b, args, depth + 1)),
                ),
                None => Val::Alt(vec![
                    subst_with(a, args, depth + 1),
                    subst_with(b, args, depth + 1),
                ]),
            }
        }
        other => other.clone(),
    }
}

/// At most this many conditions are kept apart in one concatenation (see [`concat`]).
const MAX_IFS: u32 = 3;

fn ifs(v: &Val) -> u32 {
    match v {
        Val::If(_, a, b) => 1 + ifs(a).max(ifs(b)),
        _ => 0,
    }
}

/// `l + r`, as string parts; a parameter-dependent condition on either side is kept as one
/// condition around the whole concatenation (`base + (sub ? '/' + s : '') + url` is
/// `sub ? base + '/' + s + url : base + url`), so a call site decides it. `names` and `spans`
/// label what cannot be a string.
pub(super) fn concat(l: &Val, r: &Val, names: (&str, &str), spans: (Span, Span)) -> Val {
    if ifs(l) + ifs(r) <= MAX_IFS {
        if let Val::If(t, a, b) = l {
            return Val::If(
                t.clone(),
                Box::new(concat(a, r, names, spans)),
                Box::new(concat(b, r, names, spans)),
            );
        }
        if let Val::If(t, a, b) = r {
            return Val::If(
                t.clone(),
                Box::new(concat(l, a, names, spans)),
                Box::new(concat(l, b, names, spans)),
            );
        }
    }
    let mut parts = to_parts(l, names.0, spans.0).into_owned();
    parts.extend(to_parts(r, names.1, spans.1).into_owned());
    Val::Str(merge(parts))
}

/// A value as string parts (borrowed when it is a string already), for concatenation; `name`/`span` label what cannot be a string.
pub(super) fn to_parts<'v>(v: &'v Val, name: &str, span: Span) -> Cow<'v, [Part]> {
    match v {
        Val::Str(ps) => Cow::Borrowed(ps),
        Val::Param(i, path, n, s) => Cow::Owned(vec![Part::Param(*i, path.clone(), n.clone(), *s)]),
        Val::Unknown(n, s) => Cow::Owned(vec![Part::Unknown(n.clone(), *s)]),
        Val::Missing => Cow::Borrowed(&[]),
        Val::Or(a, b) => match &**a {
            Val::Missing => to_parts(b, name, span),
            Val::Unknown(n, s) => match b.as_lit() {
                Some(l) => Cow::Owned(vec![Part::Fallback(l, n.clone(), *s)]),
                None => to_parts(a, name, span),
            },
            _ => to_parts(a, name, span),
        },
        // `qs ? '?' + qs : ''`: an optional query string, left out.
        Val::Alt(vs)
            if vs.iter().any(|v| v.as_lit().as_deref() == Some(""))
                && vs.iter().all(|v| match v {
                    Val::Str(ps) => match ps.first() {
                        Some(Part::Lit(l)) => l.is_empty() || l.starts_with(['?', '&', '#']),
                        _ => ps.is_empty(),
                    },
                    _ => false,
                }) =>
        {
            Cow::Borrowed(&[])
        }
        Val::Alt(vs) => match pick_production(vs) {
            Some(v) => to_parts(v, name, span),
            None => Cow::Owned(vec![Part::Unknown(name.to_string(), span)]),
        },
        Val::If(_, a, b) => {
            let both = [(**a).clone(), (**b).clone()];
            match pick_production(&both) {
                Some(v) => Cow::Owned(to_parts(v, name, span).into_owned()),
                None => Cow::Owned(vec![Part::Unknown(name.to_string(), span)]),
            }
        }
        _ => Cow::Owned(vec![Part::Unknown(name.to_string(), span)]),
    }
}

/// Of several alternative values (a stage switch), the one that looks like production: an
/// `https` URL that does not name a development or test host. `None` when they all agree on
/// nothing better.
pub(super) fn pick_production(vs: &[Val]) -> Option<&Val> {
    let lits: Vec<Option<String>> = vs.iter().map(Val::as_lit).collect();
    if let Some(first) = lits.first().cloned().flatten()
        && lits.iter().all(|l| l.as_deref() == Some(first.as_str()))
    {
        return vs.first();
    }
    let is_prod = |s: &str| {
        let s = s.to_ascii_lowercase();
        s.starts_with("https://")
            && ![
                "localhost",
                "127.0.0.1",
                "dev",
                "test",
                "staging",
                "uat",
                "mock",
            ]
            .iter()
            .any(|w| s.contains(w))
    };
    let prod: Vec<usize> = lits
        .iter()
        .enumerate()
        .filter(|(_, l)| l.as_deref().is_some_and(is_prod))
        .map(|(i, _)| i)
        .collect();
    match prod.as_slice() {
        [i] => vs.get(*i),
        _ => None,
    }
}

/// Joins adjacent literals.
pub(super) fn merge(parts: Vec<Part>) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::with_capacity(parts.len());
    for p in parts {
        if let (Part::Lit(b), Some(Part::Lit(a))) = (&p, out.last_mut()) {
            a.push_str(b);
            continue;
        }
        if matches!(&p, Part::Lit(l) if l.is_empty()) {
            continue;
        }
        out.push(p);
    }
    out
}
