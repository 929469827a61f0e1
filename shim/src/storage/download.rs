//! What a download answers, decided from the object's metadata and the request headers: a
//! strong ETag against `If-None-Match` (304), a single `Range` (206, or 416 when it cannot be
//! satisfied), `HEAD` (no body). The HTTP handler ([`super::http`]) and the local fast path
//! ([`super::Storage::read_local`]) both decide with [`Conditions::decide`].

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};

use crate::error::{ShimError, ShimResult};

/// Objects up to this size are read into memory in one go; larger ones are streamed.
pub(crate) const READ_WHOLE_LIMIT: u64 = 4 << 20;

/// A parsed `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByteRange {
    /// `bytes=a-b` (inclusive) or `bytes=a-` (`end` = None).
    From { start: u64, end: Option<u64> },
    /// `bytes=-n`.
    Suffix(u64),
}

/// Parse a single-range `Range` header. `Ok(None)`: no usable range (absent, not `bytes`,
/// several ranges or unparsable), so the whole object is served, as RFC 9110 allows.
fn parse_range(headers: &HeaderMap) -> Option<ByteRange> {
    let v = headers.get(header::RANGE)?.to_str().ok()?.trim();
    let spec = v.strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        return b.parse().ok().map(ByteRange::Suffix);
    }
    let start = a.parse().ok()?;
    let end = if b.is_empty() {
        None
    } else {
        let end: u64 = b.parse().ok()?;
        if end < start {
            return None;
        }
        Some(end)
    };
    Some(ByteRange::From { start, end })
}

/// Resolve a range against the object size into `start..end` (exclusive), or 416.
fn resolve_range(r: ByteRange, size: u64) -> ShimResult<std::ops::Range<u64>> {
    let unsat = ShimError::RangeNotSatisfiable { size };
    match r {
        ByteRange::From { start, end } => {
            if start >= size {
                return Err(unsat);
            }
            let end = end.map_or(size, |e| (e + 1).min(size));
            Ok(start..end)
        }
        ByteRange::Suffix(n) => {
            if n == 0 || size == 0 {
                return Err(unsat);
            }
            Ok(size.saturating_sub(n)..size)
        }
    }
}

fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    if_none_match.trim() == "*"
        || if_none_match
            .split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == etag)
}

/// What a download will answer, decided from the object's metadata and the request headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// `If-None-Match` matched: 304, no body.
    NotModified,
    /// 200 or 206 for `span`; `body` false for `HEAD` (or an empty span).
    Serve {
        status: StatusCode,
        span: std::ops::Range<u64>,
        body: bool,
    },
}

/// The metadata a download needs.
#[derive(Debug, Clone)]
pub(crate) struct FileMeta {
    pub(crate) size: u64,
    /// Quoted strong ETag.
    pub(crate) etag: String,
    pub(crate) modified: std::time::SystemTime,
}

impl FileMeta {
    /// The metadata of an object as the store reports it. The store's ETag, quoted (S3: the
    /// MD5 of the bytes, or of the parts' MD5s with `-<parts>` for a multipart upload); a
    /// store that reports none gets one made of the size and the modification time.
    pub(crate) fn of(object: &object_store::ObjectMeta) -> FileMeta {
        let modified = std::time::SystemTime::from(object.last_modified);
        let etag = match object
            .e_tag
            .as_deref()
            .map(|t| t.trim_start_matches("W/").replace('"', ""))
        {
            Some(tag) if !tag.is_empty() => format!("\"{tag}\""),
            _ => {
                let micros = object.last_modified.timestamp_micros();
                format!("\"{:x}-{micros:x}\"", object.size)
            }
        };
        FileMeta {
            size: object.size,
            etag,
            modified,
        }
    }
}

/// The inputs of [`Conditions::decide`] taken from the request.
#[derive(Debug, Clone)]
pub(crate) struct Conditions {
    if_none_match: Option<String>,
    range: Option<ByteRange>,
    is_head: bool,
}

impl Conditions {
    /// The conditions of a download request: `If-None-Match`, `Range`, and whether it is `HEAD`.
    pub(crate) fn from_request(req: &Parts) -> Self {
        Conditions {
            if_none_match: req
                .headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            range: parse_range(&req.headers),
            is_head: req.method == Method::HEAD,
        }
    }

    /// A `GET` with no `Range` and no `If-None-Match`: whatever the metadata, it serves the
    /// whole object.
    pub(crate) fn is_plain_get(&self) -> bool {
        !self.is_head && self.range.is_none() && self.if_none_match.is_none()
    }

    pub(crate) fn decide(&self, meta: &FileMeta) -> ShimResult<Decision> {
        if let Some(inm) = &self.if_none_match
            && etag_matches(inm, &meta.etag)
        {
            return Ok(Decision::NotModified);
        }
        let (status, span) = match self.range {
            Some(r) => (StatusCode::PARTIAL_CONTENT, resolve_range(r, meta.size)?),
            None => (StatusCode::OK, 0..meta.size),
        };
        let body = !self.is_head && !span.is_empty();
        Ok(Decision::Serve { status, span, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn hdr(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range(&hdr("bytes=0-9")),
            Some(ByteRange::From {
                start: 0,
                end: Some(9)
            })
        );
        assert_eq!(
            parse_range(&hdr("bytes=5-")),
            Some(ByteRange::From {
                start: 5,
                end: None
            })
        );
        assert_eq!(parse_range(&hdr("bytes=-3")), Some(ByteRange::Suffix(3)));
        assert_eq!(parse_range(&hdr("bytes=0-1,4-5")), None);
        assert_eq!(parse_range(&hdr("items=0-1")), None);
        assert_eq!(parse_range(&hdr("bytes=9-2")), None);
        assert_eq!(parse_range(&hdr("bytes=x-2")), None);

        assert_eq!(
            resolve_range(
                ByteRange::From {
                    start: 0,
                    end: Some(99)
                },
                10
            )
            .unwrap(),
            0..10
        );
        assert_eq!(resolve_range(ByteRange::Suffix(3), 10).unwrap(), 7..10);
        assert_eq!(resolve_range(ByteRange::Suffix(30), 10).unwrap(), 0..10);
        assert!(
            resolve_range(
                ByteRange::From {
                    start: 10,
                    end: None
                },
                10
            )
            .is_err()
        );
        assert!(resolve_range(ByteRange::Suffix(0), 10).is_err());
    }

    #[test]
    fn etags() {
        assert!(etag_matches("\"a\"", "\"a\""));
        assert!(etag_matches("\"b\", W/\"a\"", "\"a\""));
        assert!(etag_matches("*", "\"a\""));
        assert!(!etag_matches("\"b\"", "\"a\""));
    }
}
