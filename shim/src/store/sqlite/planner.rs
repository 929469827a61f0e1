//! The query planner: which rows a query reads ([`Source`]), chosen from the filter's
//! top-level conditions, the declared indexes and the sort. [`super::scan`] turns the choice
//! into SQL; the full filter still runs on every candidate.

use super::schema::CollMeta;
use crate::db::keys;
use crate::db::query::{Cond, Filter, InItem};
use bson::Bson;

/// Where candidate documents come from.
pub(super) enum Source {
    Ids(Vec<Bson>),
    Openid(String),
    /// Documents with a key in any of the ranges (`intersect` false) or in every range
    /// (`intersect` true: separate bounds on a multikey index).
    Index {
        iid: i64,
        ranges: Vec<KeyRange>,
        intersect: bool,
    },
    IndexOrder(i64, bool),
    Scan,
}

/// A range of index keys. Key equality is value equality for indexable scalars, so exclusive
/// bounds are exact.
pub(super) struct KeyRange {
    pub(super) lo: Vec<u8>,
    pub(super) lo_incl: bool,
    pub(super) hi: Vec<u8>,
    pub(super) hi_incl: bool,
}

fn eq_range(v: &Bson) -> KeyRange {
    let k = keys::encode(v);
    KeyRange {
        lo: k.clone(),
        lo_incl: true,
        hi: k,
        hi_incl: true,
    }
}

/// The literal prefix of an anchored, case-sensitive, single-line regex (`^abc...`), if it has
/// one of at least one character.
fn literal_prefix(pattern: &str, options: &str) -> Option<String> {
    // `|` anywhere may be a top-level alternative without the anchor.
    if options.contains('i')
        || options.contains('m')
        || options.contains('x')
        || pattern.contains('|')
    {
        return None;
    }
    let rest = pattern.strip_prefix('^')?;
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if "\\.+*?()|[]{}^$".contains(c) {
            break;
        }
        // A char followed by `*`, `?` or `{` is optional: the prefix stops before it.
        if matches!(chars.peek(), Some('*' | '?' | '{')) {
            break;
        }
        out.push(c);
    }
    (!out.is_empty() && !out.contains('\0')).then_some(out)
}

/// The bracket end matching an upper-bound half-range (its `lo` is the bracket start).
fn keys_bracket_end_of(h: &KeyRange) -> Vec<u8> {
    h.lo.first().map(|t| vec![t + 1]).unwrap_or_default()
}

/// Choose where the candidates of `filter` (sorted by `sort`, if given) come from; the steps
/// are tried in the order of the module doc of [`super`].
pub(super) fn plan(
    meta: &CollMeta,
    filter: &Filter,
    sort: Option<&[(Vec<String>, i32)]>,
) -> Source {
    let conj = filter.conjuncts();
    let joined = |p: &[String]| p.join(".");
    // 1. _id equality / $in
    for (p, c) in &conj {
        if p.len() == 1 && p[0] == "_id" {
            match c {
                Cond::Eq(v) if !matches!(v, Bson::Array(_) | Bson::Null) => {
                    return Source::Ids(vec![v.clone()]);
                }
                Cond::In(items) if items.iter().all(|i| matches!(i, InItem::Value(v) if !matches!(v, Bson::Array(_) | Bson::Null))) => {
                    return Source::Ids(
                        items
                            .iter()
                            .filter_map(|i| match i {
                                InItem::Value(v) => Some(v.clone()),
                                _ => None,
                            })
                            .collect(),
                    );
                }
                _ => {}
            }
        }
    }
    let iid_of = |p: &[String]| {
        let j = joined(p);
        meta.indexes
            .iter()
            .find(|(ip, _)| *ip == j)
            .map(|(_, i)| *i)
    };
    // 2. equality / $in on a declared index
    for (p, c) in &conj {
        let Some(iid) = iid_of(p) else { continue };
        match c {
            Cond::Eq(v) if keys::indexable(v) => {
                return Source::Index {
                    iid,
                    ranges: vec![eq_range(v)],
                    intersect: false,
                };
            }
            Cond::In(items)
                if !items.is_empty()
                    && items
                        .iter()
                        .all(|i| matches!(i, InItem::Value(v) if keys::indexable(v))) =>
            {
                return Source::Index {
                    iid,
                    ranges: items
                        .iter()
                        .filter_map(|i| match i {
                            InItem::Value(v) => Some(eq_range(v)),
                            _ => None,
                        })
                        .collect(),
                    intersect: false,
                };
            }
            _ => {}
        }
    }
    // 3. _openid equality
    for (p, c) in &conj {
        if p.len() == 1
            && p[0] == "_openid"
            && let Cond::Eq(Bson::String(s)) = c
        {
            return Source::Openid(s.clone());
        }
    }
    // 4. range on a declared index. Each bound is a half-range within its type bracket; on a
    //    single-valued index both bounds make one key range, on a multikey index (different
    //    array elements may satisfy different bounds, as in MongoDB) the half-ranges are
    //    intersected per document.
    for (p, _) in &conj {
        let Some(iid) = iid_of(p) else { continue };
        let mut lo: Option<KeyRange> = None;
        let mut hi: Option<KeyRange> = None;
        for (q, c) in &conj {
            if q != p {
                continue;
            }
            match c {
                Cond::Gt(v) | Cond::Gte(v) if keys::indexable(v) => {
                    let r = KeyRange {
                        lo: keys::encode(v),
                        lo_incl: matches!(c, Cond::Gte(_)),
                        hi: keys::bracket_end(v),
                        hi_incl: false,
                    };
                    if lo
                        .as_ref()
                        .is_none_or(|l| r.lo > l.lo || (r.lo == l.lo && !r.lo_incl))
                    {
                        lo = Some(r);
                    }
                }
                Cond::Lt(v) | Cond::Lte(v) if keys::indexable(v) => {
                    let r = KeyRange {
                        lo: keys::bracket_start(v),
                        lo_incl: true,
                        hi: keys::encode(v),
                        hi_incl: matches!(c, Cond::Lte(_)),
                    };
                    if hi
                        .as_ref()
                        .is_none_or(|h| r.hi < h.hi || (r.hi == h.hi && !r.hi_incl))
                    {
                        hi = Some(r);
                    }
                }
                _ => {}
            }
        }
        let multikey = meta.multikey.read().contains(&iid);
        let (ranges, intersect) = match (lo, hi) {
            (None, None) => continue,
            (Some(r), None) | (None, Some(r)) => (vec![r], false),
            (Some(l), Some(h)) if !multikey && l.hi == keys_bracket_end_of(&h) => (
                vec![KeyRange {
                    lo: l.lo,
                    lo_incl: l.lo_incl,
                    hi: h.hi,
                    hi_incl: h.hi_incl,
                }],
                false,
            ),
            (Some(l), Some(h)) => (vec![l, h], true),
        };
        return Source::Index {
            iid,
            ranges,
            intersect,
        };
    }
    // 4b. anchored case-sensitive regex (`/^abc/`) on a declared index: a prefix range
    for (p, c) in &conj {
        let Some(iid) = iid_of(p) else { continue };
        if let Cond::Regex(r) = c
            && let Some(prefix) = literal_prefix(&r.pattern, &r.options)
        {
            let mut lo = keys::bracket_start(&Bson::String(String::new()));
            lo.extend_from_slice(prefix.as_bytes());
            let mut hi = lo.clone();
            hi.push(0xFF); // UTF-8 never contains 0xFF; the terminator is 0x00
            let mut ranges = vec![KeyRange {
                lo,
                lo_incl: true,
                hi,
                hi_incl: false,
            }];
            // A stored regex value equal to the query regex matches too.
            if let Ok(re) = crate::db::ejson::make_regex(&r.pattern, &r.options) {
                ranges.push(eq_range(&Bson::RegularExpression(re)));
            }
            return Source::Index {
                iid,
                ranges,
                intersect: false,
            };
        }
    }
    // 5. sort whose first key is a declared index (later keys order each group in memory)
    if let Some([(path, dir), ..]) = sort
        && let Some(iid) = iid_of(path)
    {
        return Source::IndexOrder(iid, *dir < 0);
    }
    Source::Scan
}
