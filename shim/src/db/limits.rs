//! The limits of the database engine, in one place.
//!
//! **Shape limits** (MongoDB's, which CloudBase inherits): a document nests at most
//! [`MAX_DEPTH`] levels, and a field path (`"a.b.c"`, `"$a.b.c"`) has at most
//! [`MAX_PATH_PARTS`] parts. The engine builds nesting from dotted paths (`$set`, `$addFields`),
//! so both are checked on every request document before any work is done
//! ([`check_request`]), on every document before it is encoded for storage
//! ([`check_depth`]), and on every stored body before it is decoded ([`raw_too_deep`]: bson's
//! decoder recurses, so a too-deep body written by an older version is skipped, never decoded).
//! All checks here are iterative: they never recurse over the data they check.

use crate::db::error::{DbError, DbResult};
use bson::raw::{RawBsonRef, RawDocument, RawIter};
use bson::{Bson, Document};
use std::time::{Duration, Instant};

/// The most values an `$in` or `$nin` may list.
pub const MAX_IN: usize = 1000;

/// What one query or pipeline may spend. **Work budgets**: every read, count, update, removal
/// and aggregation gets a [`Budget`] from these; exceeding one is `DATABASE_REQUEST_FAILED`
/// naming the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// Wall time of one operation (checked in the scan loop and in pipeline stages).
    pub query_time: Duration,
    /// Estimated in-memory bytes one query may hold (matched documents kept for sorting) or
    /// one pipeline stage may build (`$unwind`, `$lookup`, `$group`, ...).
    pub memory_bytes: usize,
    /// The largest document a pipeline may build (MongoDB's 16 MB document limit), e.g. one
    /// `$group` result with `$push`, or one `$lookup` result.
    pub document_bytes: usize,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            query_time: Duration::from_secs(10),
            memory_bytes: 128 << 20,
            document_bytes: 16 << 20,
        }
    }
}

/// The running account of one operation against its [`Budgets`].
#[derive(Debug)]
pub struct Budget {
    limits: Budgets,
    deadline: Instant,
    used: usize,
    ticks: u32,
}

impl Budget {
    /// Start the clock.
    pub fn new(limits: Budgets) -> Self {
        Budget {
            limits,
            deadline: Instant::now() + limits.query_time,
            used: 0,
            ticks: 0,
        }
    }

    /// The limits this budget runs under.
    pub fn limits(&self) -> Budgets {
        self.limits
    }

    /// One unit of work: fails once the time budget is spent (the clock is read every 32
    /// calls).
    pub fn tick(&mut self) -> DbResult<()> {
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks.is_multiple_of(32) && Instant::now() > self.deadline {
            return Err(DbError::failed(format!(
                "the query ran longer than its time budget of {} s (query_time); narrow the \
                 filter, add an index or a limit",
                self.limits.query_time.as_secs_f64()
            )));
        }
        Ok(())
    }

    /// Account `bytes` more held in memory (and one unit of work).
    pub fn charge(&mut self, bytes: usize) -> DbResult<()> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limits.memory_bytes {
            return Err(DbError::failed(format!(
                "the query needs more than its memory budget of {} MB (memory_bytes); narrow \
                 the filter, add a limit or a $project before this stage",
                self.limits.memory_bytes >> 20
            )));
        }
        self.tick()
    }

    /// A new pipeline stage starts: what earlier stages built is accounted anew.
    pub fn next_stage(&mut self) {
        self.used = 0;
    }

    /// Refuse a document of `bytes` built by `what` above the document budget.
    pub fn check_document(&self, what: &str, bytes: usize) -> DbResult<()> {
        if bytes > self.limits.document_bytes {
            return Err(DbError::failed(format!(
                "{what} would build a document of more than {} MB (the 16 MB document limit, \
                 document_bytes); group into smaller results or $project fewer fields",
                self.limits.document_bytes >> 20
            )));
        }
        Ok(())
    }
}

/// An estimate of the memory a value takes (its data plus the bookkeeping of each field and
/// element), computed without recursion.
pub fn mem_size(v: &Bson) -> usize {
    let mut total = 0usize;
    let mut stack: Vec<&Bson> = vec![v];
    while let Some(v) = stack.pop() {
        // The value itself (a `Bson` is about 100 bytes with its allocation overhead).
        total += 48;
        match v {
            Bson::String(s) | Bson::Symbol(s) | Bson::JavaScriptCode(s) => total += s.len(),
            Bson::Binary(b) => total += b.bytes.len(),
            Bson::RegularExpression(r) => total += r.pattern.len() + r.options.len(),
            Bson::Document(d) => {
                total += 96;
                for (k, x) in d {
                    total += k.len() + 64;
                    stack.push(x);
                }
            }
            Bson::Array(a) => {
                total += 24;
                stack.extend(a.iter());
            }
            _ => {}
        }
    }
    total
}

/// [`mem_size`] of a document.
pub fn doc_mem_size(d: &Document) -> usize {
    let mut total = 96usize;
    for (k, x) in d {
        total += k.len() + 64 + mem_size(x);
    }
    total
}

/// The deepest nesting of a document: the top level is 1, each embedded document or array
/// adds one (MongoDB: "Nested Depth for BSON Documents: 100 levels").
pub const MAX_DEPTH: usize = 100;

/// The most parts a dotted field path may have (`"a.b.c"` has 3).
pub const MAX_PATH_PARTS: usize = 100;

/// The smallest encoding of one nesting level (type byte, empty key's NUL, length, trailing
/// NUL): a stored body shorter than `MAX_DEPTH * 7` bytes cannot be too deep.
const MIN_LEVEL_BYTES: usize = 7;

fn too_deep(what: &str) -> DbError {
    DbError::invalid(format!(
        "{what} is nested more than {MAX_DEPTH} levels deep (the document depth limit); \
         flatten the data or split it into several documents"
    ))
}

fn path_too_long(what: &str, path: &str) -> DbError {
    let shown: String = path.chars().take(40).collect();
    DbError::invalid(format!(
        "{what}: the field path \"{shown}...\" has more than {MAX_PATH_PARTS} parts \
         (the field path limit of {MAX_PATH_PARTS}); use a shorter path"
    ))
}

/// Does `path` have more than [`MAX_PATH_PARTS`] dot-separated parts? (Counts without
/// splitting.)
pub fn path_too_many_parts(path: &str) -> bool {
    path.len() >= MAX_PATH_PARTS && path.bytes().filter(|b| *b == b'.').count() >= MAX_PATH_PARTS
}

/// Refuse a field path with more than [`MAX_PATH_PARTS`] parts.
pub fn check_path(what: &str, path: &str) -> DbResult<()> {
    if path_too_many_parts(path) {
        return Err(path_too_long(what, path));
    }
    Ok(())
}

/// Refuse a document nested deeper than [`MAX_DEPTH`] (checked without recursion).
pub fn check_depth(what: &str, doc: &Document) -> DbResult<()> {
    walk(doc, MAX_DEPTH, |_| Ok(()), &mut |_, _| Ok(())).map_err(|e| match e {
        Walk::TooDeep => too_deep(what),
        Walk::Err(e) => e,
    })
}

/// The checks of a request document (a filter, update, projection, sort or stage) before any
/// work: nesting at most [`MAX_DEPTH`], and every key and every `$`-prefixed string (a field
/// path in an expression, `"$a.b"`, `"$$ROOT.a"`) at most [`MAX_PATH_PARTS`] parts.
pub fn check_request(what: &str, doc: &Document) -> DbResult<()> {
    let on_key = |k: &str| check_path(what, k);
    let mut on_value = |_: &str, v: &Bson| match v {
        Bson::String(s) if s.starts_with('$') => check_path(what, s),
        _ => Ok(()),
    };
    walk(doc, MAX_DEPTH, on_key, &mut on_value).map_err(|e| match e {
        Walk::TooDeep => too_deep(what),
        Walk::Err(e) => e,
    })
}

/// The checks of a document whose values are data, not expressions (an update's arguments):
/// nesting at most [`MAX_DEPTH`] and every key at most [`MAX_PATH_PARTS`] parts.
pub fn check_keys(what: &str, doc: &Document) -> DbResult<()> {
    walk(doc, MAX_DEPTH, |k| check_path(what, k), &mut |_, _| Ok(())).map_err(|e| match e {
        Walk::TooDeep => too_deep(what),
        Walk::Err(e) => e,
    })
}

/// Check a request value that is not a document (e.g. a `$unwind` path string).
pub fn check_request_value(what: &str, v: &Bson) -> DbResult<()> {
    match v {
        Bson::Document(d) => check_request(what, d),
        other => {
            let mut d = Document::new();
            d.insert("v", other.clone());
            check_request(what, &d)
        }
    }
}

enum Walk {
    TooDeep,
    Err(DbError),
}

impl From<DbError> for Walk {
    fn from(e: DbError) -> Self {
        Walk::Err(e)
    }
}

/// Visit every key and value of `doc` with an explicit stack, failing once nesting passes
/// `max`.
fn walk(
    doc: &Document,
    max: usize,
    on_key: impl Fn(&str) -> DbResult<()>,
    on_value: &mut dyn FnMut(&str, &Bson) -> DbResult<()>,
) -> Result<(), Walk> {
    enum It<'a> {
        D(bson::document::Iter<'a>),
        A(std::slice::Iter<'a, Bson>),
    }
    let mut stack: Vec<It<'_>> = vec![It::D(doc.iter())];
    while let Some(top) = stack.last_mut() {
        let (key, v) = match top {
            It::D(it) => match it.next() {
                Some((k, v)) => {
                    on_key(k)?;
                    (k.as_str(), v)
                }
                None => {
                    stack.pop();
                    continue;
                }
            },
            It::A(it) => match it.next() {
                Some(v) => ("", v),
                None => {
                    stack.pop();
                    continue;
                }
            },
        };
        on_value(key, v)?;
        match v {
            Bson::Document(d) => {
                if stack.len() >= max {
                    return Err(Walk::TooDeep);
                }
                stack.push(It::D(d.iter()));
            }
            Bson::Array(a) => {
                if stack.len() >= max {
                    return Err(Walk::TooDeep);
                }
                stack.push(It::A(a.iter()));
            }
            Bson::JavaScriptCodeWithScope(c) => {
                if stack.len() >= max {
                    return Err(Walk::TooDeep);
                }
                stack.push(It::D(c.scope.iter()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Is the stored body `bytes` nested deeper than [`MAX_DEPTH`]? Walks the raw BSON with an
/// explicit stack (bson's own decoder recurses once per level, so a body too deep for the
/// stack must be caught before it is decoded). Malformed bytes count as not too deep: the
/// decoder reports them.
pub fn raw_too_deep(bytes: &[u8]) -> bool {
    if bytes.len() < MAX_DEPTH * MIN_LEVEL_BYTES {
        return false;
    }
    let Ok(doc) = RawDocument::from_bytes(bytes) else {
        return false;
    };
    let mut stack: Vec<RawIter<'_>> = vec![doc.iter_elements()];
    while let Some(top) = stack.last_mut() {
        let Some(el) = top.next() else {
            stack.pop();
            continue;
        };
        let Ok(el) = el else { return false };
        let Ok(v) = el.value() else { return false };
        let inner = match v {
            RawBsonRef::Document(d) => d.iter_elements(),
            RawBsonRef::Array(a) => a.iter_elements(),
            RawBsonRef::JavaScriptCodeWithScope(c) => c.scope.iter_elements(),
            _ => continue,
        };
        if stack.len() >= MAX_DEPTH {
            return true;
        }
        stack.push(inner);
    }
    false
}

/// The `_id` of a stored body, for a message about it, without decoding the body (only a
/// scalar id is converted: converting a document recurses).
pub(crate) fn raw_id_display(raw: &[u8]) -> String {
    bson::RawDocument::from_bytes(raw)
        .ok()
        .and_then(|d| d.get("_id").ok().flatten())
        .map(|v| match v {
            bson::RawBsonRef::Document(_) | bson::RawBsonRef::Array(_) => "(an object)".to_string(),
            other => bson::Bson::try_from(other)
                .map(|b| crate::db::value::id_display(&b))
                .unwrap_or_else(|_| "(unreadable)".into()),
        })
        .unwrap_or_else(|| "(none)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> Document {
        // Built iteratively from the inside out (levels = total depth).
        let mut d = Document::new();
        d.insert("x", 1);
        for _ in 1..levels {
            let mut outer = Document::new();
            outer.insert("a", d);
            d = outer;
        }
        d
    }

    #[test]
    fn depth_limits_in_memory_and_raw() {
        assert!(check_depth("doc", &nested(MAX_DEPTH)).is_ok());
        assert!(check_depth("doc", &nested(MAX_DEPTH + 1)).is_err());
        let ok = nested(MAX_DEPTH).to_vec().unwrap();
        let deep = nested(MAX_DEPTH + 1).to_vec().unwrap();
        assert!(!raw_too_deep(&ok));
        assert!(raw_too_deep(&deep));
        let mut arr = Bson::Int32(1);
        for _ in 0..MAX_DEPTH {
            arr = Bson::Array(vec![arr]);
        }
        let mut d = Document::new();
        d.insert("a", arr);
        assert!(check_depth("doc", &d).is_err());
        assert!(raw_too_deep(&d.to_vec().unwrap()));
    }

    #[test]
    fn path_parts() {
        let p = |n: usize| vec!["a"; n].join(".");
        assert!(check_path("q", &p(MAX_PATH_PARTS)).is_ok());
        assert!(check_path("q", &p(MAX_PATH_PARTS + 1)).is_err());
        let mut d = Document::new();
        d.insert("ok", format!("${}", p(MAX_PATH_PARTS + 1)));
        assert!(check_request("stage", &d).is_err());
        let mut d = Document::new();
        d.insert(p(MAX_PATH_PARTS + 1), 1);
        assert!(check_request("query", &d).is_err());
    }
}
