//! Order-preserving byte encoding of values (memcmp order = MongoDB comparison order).
//!
//! Used by the store for the `_id` column and secondary index keys, and by the engine for
//! `$group` keys, so it sits with the values, below both. Numbers of every type share one
//! encoding (8 bytes of order-preserving f64, then the exact integer for integral values), so
//! `1`, `1i64` and `1.0` encode identically, as MongoDB treats them as equal.
//! Strings are escaped (`00` → `00 FF`) and terminated (`00 00`) so nested values stay ordered.

use crate::db::value::{Num, as_num, type_rank};
use bson::Bson;

fn tag(v: &Bson) -> u8 {
    0x10 + type_rank(v)
}

/// The tag byte that starts every key of `v`'s type bracket.
pub(crate) fn bracket_start(v: &Bson) -> Vec<u8> {
    vec![tag(v)]
}

/// A key just above every key of `v`'s type bracket.
pub(crate) fn bracket_end(v: &Bson) -> Vec<u8> {
    vec![tag(v) + 1]
}

/// Encode one value.
pub(crate) fn encode(v: &Bson) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    encode_into(v, &mut out);
    out
}

fn escaped(s: &[u8], out: &mut Vec<u8>) {
    for &b in s {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    out.extend_from_slice(&[0, 0]);
}

fn f64_bits(f: f64) -> [u8; 8] {
    if f.is_nan() {
        return [0; 8];
    }
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = f.to_bits();
    let bits = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    bits.to_be_bytes()
}

fn i64_be(i: i64) -> [u8; 8] {
    ((i as u64) ^ (1 << 63)).to_be_bytes()
}

/// Append the encoding of `v` to `out`.
pub(crate) fn encode_into(v: &Bson, out: &mut Vec<u8>) {
    out.push(tag(v));
    match v {
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
            match as_num(v) {
                Some(Num::Int(i)) => {
                    out.extend_from_slice(&f64_bits(i as f64));
                    out.extend_from_slice(&i64_be(i));
                }
                Some(Num::Float(f)) => {
                    out.extend_from_slice(&f64_bits(f));
                    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18 {
                        out.extend_from_slice(&i64_be(f as i64));
                    }
                }
                None => out.extend_from_slice(&[0; 8]),
            }
        }
        Bson::String(s) | Bson::Symbol(s) => escaped(s.as_bytes(), out),
        Bson::Document(d) => {
            for (k, x) in d {
                out.push(tag(x));
                escaped(k.as_bytes(), out);
                encode_into(x, out);
            }
            out.push(0);
        }
        Bson::Array(a) => {
            for x in a {
                encode_into(x, out);
            }
            out.push(0);
        }
        Bson::Binary(b) => {
            out.extend_from_slice(&(b.bytes.len() as u32).to_be_bytes());
            out.push(u8::from(b.subtype));
            out.extend_from_slice(&b.bytes);
        }
        Bson::ObjectId(o) => out.extend_from_slice(&o.bytes()),
        Bson::Boolean(b) => out.push(*b as u8),
        Bson::DateTime(d) => out.extend_from_slice(&i64_be(d.timestamp_millis())),
        Bson::Timestamp(t) => {
            out.extend_from_slice(&t.time.to_be_bytes());
            out.extend_from_slice(&t.increment.to_be_bytes());
        }
        Bson::RegularExpression(r) => {
            escaped(r.pattern.as_str().as_bytes(), out);
            escaped(r.options.as_str().as_bytes(), out);
        }
        Bson::Null | Bson::Undefined | Bson::MinKey | Bson::MaxKey => {}
        other => escaped(other.to_string().as_bytes(), out),
    }
}

/// Can an index answer an equality/range on this value? (Scalars only; arrays, documents and
/// null are left to the full filter.)
pub(crate) fn indexable(v: &Bson) -> bool {
    matches!(
        v,
        Bson::Int32(_)
            | Bson::Int64(_)
            | Bson::Double(_)
            | Bson::String(_)
            | Bson::ObjectId(_)
            | Bson::Boolean(_)
            | Bson::DateTime(_)
    )
}
