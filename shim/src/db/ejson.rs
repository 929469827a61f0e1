//! Wire encodings of documents.
//!
//! * **Current protocol** (node-sdk 3.x, wx-server-sdk 4.x): every query, update, order,
//!   projection and stage is a string of *canonical* Extended JSON v2 (`{"$numberInt":"1"}`,
//!   `{"$date":{"$numberLong":"..."}}`, `{"$regularExpression":{...}}`); relaxed EJSON is
//!   accepted too (bson's parser reads both, even mixed). Replies carry documents as canonical
//!   EJSON strings, which the SDK `EJSON.parse`s. See sdk-wire-protocol.md §4.1.
//! * **Legacy protocol** (tcb-admin-node 1.x): plain JSON numbers, `{"$date": <ms>}`,
//!   `{"$date":{"offset":n}}` for serverDate, `{"$regex":"..","$options":".."}`.
//! * `db.serverDate({offset})` travels as `{"$tcb_server_date":{"offset":n}}` and is replaced by
//!   the server's time + offset wherever it appears ([`resolve_server_dates`]).

use crate::db::error::{DbError, DbResult};
use crate::db::value::kind_name;
use bson::{Bson, DateTime, Document, Regex};
use serde_json::{Map, Value};

/// Parse a canonical or relaxed EJSON string holding an object.
pub fn parse_document(text: &str) -> DbResult<Document> {
    match parse_value(text)? {
        Bson::Document(d) => Ok(d),
        other => Err(DbError::invalid(format!(
            "expected a JSON object, found {}",
            kind_name(&other)
        ))),
    }
}

/// Parse a canonical or relaxed EJSON string holding any value (e.g. a `$limit` stage `"3"`).
pub fn parse_value(text: &str) -> DbResult<Bson> {
    let v: Value = serde_json::from_str(text)
        .map_err(|e| DbError::invalid(format!("malformed EJSON: {e}")))?;
    from_json(v)
}

/// Convert an already-parsed JSON value holding EJSON (canonical or relaxed) into a [`Bson`].
pub fn from_json(v: Value) -> DbResult<Bson> {
    Bson::try_from(v).map_err(|e| DbError::invalid(format!("malformed EJSON: {e}")))
}

/// Convert an already-parsed JSON object holding EJSON into a [`Document`].
pub fn document_from_json(v: Value) -> DbResult<Document> {
    match from_json(v)? {
        Bson::Document(d) => Ok(d),
        other => Err(DbError::invalid(format!(
            "expected a JSON object, found {}",
            kind_name(&other)
        ))),
    }
}

/// Render a document as a canonical EJSON string (what `data.list` items must be).
pub fn to_canonical_string(doc: &Document) -> String {
    Bson::Document(doc.clone())
        .into_canonical_extjson()
        .to_string()
}

/// Render a document as canonical EJSON, consuming it (avoids a clone).
pub fn into_canonical_string(doc: Document) -> String {
    Bson::Document(doc).into_canonical_extjson().to_string()
}

/// Render a value as relaxed EJSON (`{"$date":"<ISO>"}`, plain numbers): the import/export
/// format of the CloudBase console.
pub fn to_relaxed_json(v: &Bson) -> Value {
    v.clone().into_relaxed_extjson()
}

/// Parse a value in the legacy plain-JSON dialect of tcb-admin-node 1.x.
pub fn from_legacy_json(v: Value) -> DbResult<Bson> {
    Ok(match v {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                match i32::try_from(i) {
                    Ok(x) => Bson::Int32(x),
                    Err(_) => Bson::Int64(i),
                }
            } else {
                Bson::Double(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Bson::String(s),
        Value::Array(a) => Bson::Array(
            a.into_iter()
                .map(from_legacy_json)
                .collect::<DbResult<Vec<_>>>()?,
        ),
        Value::Object(m) => legacy_object(m)?,
    })
}

fn legacy_object(m: Map<String, Value>) -> DbResult<Bson> {
    if m.len() == 1 {
        if let Some(d) = m.get("$date") {
            match d {
                Value::Number(n) => {
                    let ms = n
                        .as_i64()
                        .or_else(|| n.as_f64().map(|f| f as i64))
                        .unwrap_or(0);
                    return Ok(Bson::DateTime(DateTime::from_millis(ms)));
                }
                Value::Object(o) if o.contains_key("offset") => {
                    let off = o.get("offset").and_then(Value::as_i64).unwrap_or(0);
                    let mut inner = Document::new();
                    inner.insert("offset", Bson::Int64(off));
                    let mut outer = Document::new();
                    outer.insert("$tcb_server_date", inner);
                    return Ok(Bson::Document(outer));
                }
                _ => return from_json(Value::Object(m)),
            }
        }
        if m.contains_key("$oid") || m.contains_key("$numberLong") {
            return from_json(Value::Object(m));
        }
    }
    if let Some(Value::String(p)) = m.get("$regex")
        && m.len() <= 2
    {
        let opts = m.get("$options").and_then(Value::as_str).unwrap_or("");
        return Ok(Bson::RegularExpression(make_regex(p, opts)?));
    }
    let mut d = Document::new();
    for (k, v) in m {
        d.insert(k, from_legacy_json(v)?);
    }
    Ok(Bson::Document(d))
}

/// Parse a legacy-dialect JSON object into a document.
pub fn legacy_document(v: Value) -> DbResult<Document> {
    match from_legacy_json(v)? {
        Bson::Document(d) => Ok(d),
        other => Err(DbError::invalid(format!(
            "expected a JSON object, found {}",
            kind_name(&other)
        ))),
    }
}

/// Convert a legacy `order` (`[{"field":"n","direction":"desc"}, ...]`) into a sort document.
pub fn legacy_order(v: &Value) -> DbResult<Document> {
    let mut d = Document::new();
    let Some(items) = v.as_array() else {
        return Err(DbError::invalid(
            "order must be an array of {field, direction}",
        ));
    };
    for it in items {
        let field = it
            .get("field")
            .and_then(Value::as_str)
            .ok_or_else(|| DbError::invalid("order entry needs a string field"))?;
        let dir = match it.get("direction").and_then(Value::as_str) {
            Some("asc") | None => 1,
            Some("desc") => -1,
            Some(other) => {
                return Err(DbError::invalid(format!(
                    "order direction must be asc or desc, not {other}"
                )));
            }
        };
        d.insert(field, dir);
    }
    Ok(d)
}

/// Render a value in the legacy plain-JSON dialect.
pub fn to_legacy_json(v: &Bson) -> Value {
    match v {
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Boolean(b) => Value::Bool(*b),
        Bson::Int32(i) => Value::from(*i),
        Bson::Int64(i) => Value::from(*i),
        Bson::Double(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Bson::String(s) => Value::String(s.clone()),
        Bson::Array(a) => Value::Array(a.iter().map(to_legacy_json).collect()),
        Bson::Document(d) => Value::Object(
            d.iter()
                .map(|(k, v)| (k.clone(), to_legacy_json(v)))
                .collect(),
        ),
        Bson::DateTime(d) => serde_json::json!({ "$date": d.timestamp_millis() }),
        Bson::RegularExpression(r) => serde_json::json!({
            "$regex": r.pattern.as_str(),
            "$options": r.options.as_str(),
        }),
        other => other.clone().into_relaxed_extjson(),
    }
}

/// Build a BSON regex (options are sorted, as BSON requires).
pub fn make_regex(pattern: &str, options: &str) -> DbResult<Regex> {
    let mut chars: Vec<char> = options.chars().collect();
    chars.sort_unstable();
    chars.dedup();
    let options: String = chars.into_iter().collect();
    Ok(Regex {
        pattern: pattern
            .to_string()
            .try_into()
            .map_err(|_| DbError::invalid("regex pattern contains a NUL byte"))?,
        options: options
            .try_into()
            .map_err(|_| DbError::invalid("regex options contain a NUL byte"))?,
    })
}

/// Is `v` a `{"$tcb_server_date":{"offset":n}}` marker? Returns the offset in ms.
pub fn server_date_offset(v: &Bson) -> Option<i64> {
    let Bson::Document(d) = v else { return None };
    if d.len() != 1 {
        return None;
    }
    let inner = d.get("$tcb_server_date")?;
    match inner {
        Bson::Document(o) => Some(
            o.get("offset")
                .and_then(|x| crate::db::value::as_num(x).map(|n| n.as_f64() as i64))
                .unwrap_or(0),
        ),
        _ => Some(0),
    }
}

/// Replace every `$tcb_server_date` marker in `doc` (at any depth, inside arrays too) with
/// `now_ms + offset` as a date. CloudBase does this for insert data, `$set` values and set docs.
pub fn resolve_server_dates(doc: &mut Document, now_ms: i64) {
    for (_, v) in doc.iter_mut() {
        resolve_value(v, now_ms);
    }
}

fn resolve_value(v: &mut Bson, now_ms: i64) {
    if let Some(off) = server_date_offset(v) {
        *v = Bson::DateTime(DateTime::from_millis(now_ms.saturating_add(off)));
        return;
    }
    match v {
        Bson::Document(d) => resolve_server_dates(d, now_ms),
        Bson::Array(a) => a.iter_mut().for_each(|x| resolve_value(x, now_ms)),
        _ => {}
    }
}
