//! The `jsonb` projection of a document (column `j`) and the containment patterns the
//! planner tests it with.
//!
//! The projection only has to be *consistent*: values that queries consider equal
//! ([`crate::db::value::values_equal`]) must project to equal `jsonb` values, so that a
//! containment test on the projection never rejects a true match. Distinct values may
//! collide (a string and an ObjectId rendered as `{"$oid": ...}`): that only lets through a
//! candidate that the Rust filter then rejects. Hence: every number is a JSON number of its
//! exact value (integral doubles below 2^63 printed as integers, so that `5`, `5i64` and
//! `5.0` are one `jsonb` numeric, as they are one value), other types are tagged objects,
//! and strings with NUL (which `jsonb` cannot hold) get a stand-in.

use crate::db::value::{Num, as_num};
use bson::{Bson, Document};
use serde_json::{Map, Value};

/// The projection of a document.
pub(super) fn doc_json(d: &Document) -> Value {
    let mut m = Map::with_capacity(d.len());
    for (k, v) in d {
        m.insert(k.clone(), to_json(v));
    }
    Value::Object(m)
}

fn tagged(tag: &str, v: Value) -> Value {
    let mut m = Map::with_capacity(1);
    m.insert(tag.to_string(), v);
    Value::Object(m)
}

const TWO_63: f64 = 9_223_372_036_854_775_808.0;

fn number(n: Num) -> Value {
    match n {
        Num::Int(i) => Value::from(i),
        // Every integral double in [-2^63, 2^63) is exactly an i64.
        Num::Float(f) if f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f) => {
            Value::from(f as i64)
        }
        Num::Float(f) => match serde_json::Number::from_f64(f) {
            Some(x) => Value::Number(x),
            None => tagged("$numberDouble", Value::from(f.to_string())),
        },
    }
}

fn string(s: &str) -> Value {
    if s.contains('\0') {
        Value::String(s.replace('\0', "\\u0000"))
    } else {
        Value::String(s.to_string())
    }
}

/// The projection of one value.
pub(super) fn to_json(v: &Bson) -> Value {
    match v {
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            match as_num(v) {
                Some(n) => number(n),
                None => tagged("$numberDecimal", Value::from(v.to_string())),
            }
        }
        Bson::String(s) | Bson::Symbol(s) => string(s),
        Bson::Boolean(b) => Value::Bool(*b),
        Bson::Null | Bson::Undefined => Value::Null,
        Bson::Document(d) => doc_json(d),
        Bson::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Bson::ObjectId(o) => tagged("$oid", Value::from(o.to_hex())),
        Bson::DateTime(d) => tagged("$date", Value::from(d.timestamp_millis())),
        Bson::Binary(b) => {
            let mut m = Map::new();
            m.insert("$binary".into(), Value::from(hex::encode(&b.bytes)));
            m.insert("$type".into(), Value::from(u8::from(b.subtype)));
            Value::Object(m)
        }
        Bson::Timestamp(t) => tagged(
            "$timestamp",
            Value::from(vec![Value::from(t.time), Value::from(t.increment)]),
        ),
        Bson::RegularExpression(r) => {
            let mut m = Map::new();
            m.insert("$regex".into(), string(r.pattern.as_str()));
            m.insert("$options".into(), string(r.options.as_str()));
            Value::Object(m)
        }
        Bson::JavaScriptCode(c) => tagged("$code", string(c)),
        Bson::JavaScriptCodeWithScope(c) => tagged("$code", string(&c.code)),
        Bson::MinKey => tagged("$minKey", Value::from(1)),
        Bson::MaxKey => tagged("$maxKey", Value::from(1)),
        other => tagged("$other", string(&other.to_string())),
    }
}

/// Query values a containment test may stand for: the scalars an index key can (no null,
/// which also matches a missing field; no NaN or infinity).
pub(super) fn pushable(v: &Bson) -> bool {
    match v {
        Bson::Double(f) => f.is_finite(),
        _ => crate::db::keys::indexable(v),
    }
}

/// Most containment patterns one condition may expand to; past this it is not pushed down.
pub(super) const MAX_PATTERNS: usize = 256;

/// The patterns `p` such that every document where `rest` (the path after its first
/// component, below `j -> first`) reaches a value equal to `x` or an array holding it has
/// `(j -> first) @> p` for at least one of them, following the traversal of
/// [`crate::db::fields::lookup_all`]: a component is a key of a document, a key of the
/// documents in an array, or (when numeric) a position in an array; the value reached is
/// `x` or an array containing `x`. `jsonb` containment lets an array contain a scalar only
/// at the top of the tested value (`'["a"]' @> '"a"'`), so deeper levels spell `[x]` out.
pub(super) fn patterns(rest: &[String], x: &Value, top: bool, out: &mut Vec<Value>) -> bool {
    match rest.split_first() {
        None => {
            let primitive = !matches!(x, Value::Object(_) | Value::Array(_));
            out.push(x.clone());
            if !(top && primitive) {
                out.push(Value::Array(vec![x.clone()]));
            }
        }
        Some((c, rest)) => {
            let mut inner = Vec::new();
            if !patterns(rest, x, false, &mut inner) {
                return false;
            }
            let numeric = c.parse::<usize>().is_ok();
            for p in inner {
                let obj = tagged(c, p.clone());
                out.push(Value::Array(vec![obj.clone()]));
                out.push(obj);
                if numeric {
                    out.push(Value::Array(vec![p]));
                }
            }
        }
    }
    out.len() <= MAX_PATTERNS
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    #[test]
    fn equal_numbers_project_alike() {
        for v in [Bson::Int32(5), Bson::Int64(5), Bson::Double(5.0)] {
            assert_eq!(to_json(&v).to_string(), "5");
        }
        assert_eq!(to_json(&Bson::Double(-0.0)).to_string(), "0");
        assert_eq!(to_json(&Bson::Double(2.5)).to_string(), "2.5");
        assert_eq!(
            to_json(&Bson::Double(2f64.powi(60))).to_string(),
            to_json(&Bson::Int64(1 << 60)).to_string()
        );
        assert_eq!(
            to_json(&Bson::Double(f64::NAN)).to_string(),
            r#"{"$numberDouble":"NaN"}"#
        );
        assert_eq!(
            doc_json(&doc! {"s": "a\0b"}).to_string(),
            r#"{"s":"a\\u0000b"}"#
        );
    }

    #[test]
    fn patterns_follow_array_traversal() {
        let x = Value::from("v");
        let mut out = Vec::new();
        assert!(patterns(&[], &x, true, &mut out));
        assert_eq!(out, vec![x.clone()]);
        let mut out = Vec::new();
        patterns(&["b".to_string()], &x, true, &mut out);
        let s: Vec<String> = out.iter().map(|v| v.to_string()).collect();
        assert_eq!(
            s,
            [
                r#"[{"b":"v"}]"#,
                r#"{"b":"v"}"#,
                r#"[{"b":["v"]}]"#,
                r#"{"b":["v"]}"#
            ]
        );
        let mut out = Vec::new();
        patterns(&["1".to_string()], &x, true, &mut out);
        assert!(out.contains(&Value::Array(vec![x.clone()])));
    }
}
