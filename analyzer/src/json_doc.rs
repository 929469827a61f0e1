//! JSON with byte ranges, for config files (errors point at the key) and data files (records
//! are counted and measured where they stand).
//!
//! Parsing is done by `jsonc-parser`; its borrowed AST is turned into the owned [`Json`] tree
//! so it can live beside the file text.

use jsonc_parser::{CollectOptions, ParseOptions, ast};

/// A JSON value and the byte range of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    pub start: u32,
    pub end: u32,
    pub kind: JsonKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    /// The number as written, and its value.
    Number(String, f64),
    String(String),
    Array(Vec<Json>),
    /// Members in source order; the key's own range is kept for error spans.
    Object(Vec<JsonMember>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonMember {
    pub key: String,
    pub key_start: u32,
    pub key_end: u32,
    pub value: Json,
}

/// A syntax error with the byte range it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub start: u32,
    pub end: u32,
    pub message: String,
}

/// Parses strict JSON (what `JSON.parse` and DevTools accept): no comments, no trailing commas.
pub fn parse(text: &str) -> Result<Json, JsonError> {
    parse_with(text, false)
}

/// Parses JSON that may carry comments and trailing commas (`project.config.json` is read
/// leniently by DevTools).
pub fn parse_lenient(text: &str) -> Result<Json, JsonError> {
    parse_with(text, true)
}

fn parse_with(text: &str, lenient: bool) -> Result<Json, JsonError> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let shift = (text.len() - body.len()) as u32;
    let opts = ParseOptions {
        allow_comments: lenient,
        allow_loose_object_property_names: false,
        allow_trailing_commas: lenient,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed =
        jsonc_parser::parse_to_ast(body, &CollectOptions::default(), &opts).map_err(|e| {
            let r = e.range();
            JsonError {
                start: r.start as u32 + shift,
                end: r.end.max(r.start + 1) as u32 + shift,
                message: e.kind().to_string(),
            }
        })?;
    match parsed.value {
        Some(v) => Ok(convert(v, shift)),
        None => Err(JsonError {
            start: shift,
            end: text.len() as u32,
            message: "the file holds no JSON value".into(),
        }),
    }
}

fn convert(v: ast::Value<'_>, shift: u32) -> Json {
    let (range, kind) = match v {
        ast::Value::NullKeyword(n) => (n.range, JsonKind::Null),
        ast::Value::BooleanLit(b) => (b.range, JsonKind::Bool(b.value)),
        ast::Value::NumberLit(n) => (
            n.range,
            JsonKind::Number(n.value.to_string(), n.value.parse().unwrap_or(f64::NAN)),
        ),
        ast::Value::StringLit(s) => (s.range, JsonKind::String(s.value.into_owned())),
        ast::Value::Array(a) => (
            a.range,
            JsonKind::Array(a.elements.into_iter().map(|e| convert(e, shift)).collect()),
        ),
        ast::Value::Object(o) => (
            o.range,
            JsonKind::Object(
                o.properties
                    .into_iter()
                    .map(|p| {
                        let key_range = match &p.name {
                            ast::ObjectPropName::String(s) => s.range,
                            ast::ObjectPropName::Word(w) => w.range,
                        };
                        JsonMember {
                            key: p.name.into_string(),
                            key_start: key_range.start as u32 + shift,
                            key_end: key_range.end as u32 + shift,
                            value: convert(p.value, shift),
                        }
                    })
                    .collect(),
            ),
        ),
    };
    Json {
        start: range.start as u32 + shift,
        end: range.end as u32 + shift,
        kind,
    }
}

impl Json {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.member(key).map(|m| &m.value)
    }

    pub fn member(&self, key: &str) -> Option<&JsonMember> {
        match &self.kind {
            JsonKind::Object(members) => members.iter().find(|m| m.key == key),
            _ => None,
        }
    }

    pub fn members(&self) -> &[JsonMember] {
        match &self.kind {
            JsonKind::Object(members) => members,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            JsonKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match &self.kind {
            JsonKind::Number(_, n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match &self.kind {
            JsonKind::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.kind, JsonKind::Object(_))
    }

    /// A short name for the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(..) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "an array",
            JsonKind::Object(_) => "an object",
        }
    }

    pub fn len_bytes(&self) -> u64 {
        u64::from(self.end - self.start)
    }

    /// Converts to a `serde_json::Value` (numbers keep their written form where they fit).
    pub fn to_value(&self) -> serde_json::Value {
        match &self.kind {
            JsonKind::Null => serde_json::Value::Null,
            JsonKind::Bool(b) => serde_json::Value::Bool(*b),
            JsonKind::Number(raw, n) => raw
                .parse::<i64>()
                .map(serde_json::Value::from)
                .unwrap_or_else(|_| serde_json::Value::from(*n)),
            JsonKind::String(s) => serde_json::Value::String(s.clone()),
            JsonKind::Array(items) => items.iter().map(Json::to_value).collect(),
            JsonKind::Object(members) => serde_json::Value::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone(), m.value.to_value()))
                    .collect(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_point_into_the_text() {
        let text = "{\"pages\": [\"a/b\"], \"n\": 1.5}";
        let v = parse(text).unwrap();
        let pages = v.get("pages").unwrap();
        assert_eq!(&text[pages.start as usize..pages.end as usize], "[\"a/b\"]");
        let m = v.member("n").unwrap();
        assert_eq!(&text[m.key_start as usize..m.key_end as usize], "\"n\"");
        assert_eq!(m.value.as_f64(), Some(1.5));
    }

    #[test]
    fn strict_rejects_comments_lenient_accepts() {
        let text = "{\n // c\n \"a\": 1,\n}";
        let err = parse(text).unwrap_err();
        assert!(err.start >= 2, "{err:?}");
        assert_eq!(
            parse_lenient(text).unwrap().get("a").unwrap().as_f64(),
            Some(1.0)
        );
    }

    #[test]
    fn bom_is_counted_in_offsets() {
        let text = "\u{feff}{\"a\": true}";
        let v = parse(text).unwrap();
        assert_eq!(v.start, 3);
        assert_eq!(v.get("a").unwrap().as_bool(), Some(true));
    }

    #[test]
    fn empty_file_is_an_error() {
        assert!(parse("   ").is_err());
    }
}
