//! The storage URLs: COS-like upload (`PUT` raw body, `POST` multipart field `file`) and download
//! (`GET`/`HEAD` with strong ETag, `If-None-Match`, single `Range`, `Cache-Control`,
//! `Content-Type` from the extension). Every URL carries a signature made by the shim
//! ([`super::Storage::upload_url`], [`super::Storage::download_url`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use object_store::{GetOptions, GetRange};
use percent_encoding::percent_decode_str;

use super::sign::{Op, now_secs};
use super::{CloudPath, Storage};
use crate::error::{ShimError, ShimResult};
use crate::state::{AppState, query_param, read_body};

/// Objects up to this size are read into memory in one go; larger ones are streamed.
pub(crate) const READ_WHOLE_LIMIT: u64 = 4 << 20;

/// Query string of a signed URL.
#[derive(Debug, Default)]
struct Signed {
    sign: String,
    t: u64,
    owner: String,
}

fn parse_query(q: Option<&str>) -> Signed {
    let param = |name| query_param(q, name);
    Signed {
        sign: param("sign").unwrap_or_default(),
        t: param("t").and_then(|t| t.parse().ok()).unwrap_or(0),
        owner: param("owner").unwrap_or_default(),
    }
}

/// The key in a storage URL, checked against the signature. The SDK's `downloadFile` runs
/// `encodeURI` over the URL it was given, which escapes `%` a second time; a key that only
/// verifies after a second decoding is accepted too (the signature still has to match).
fn verified_key(
    storage: &Storage,
    raw_path: &str,
    op: Op,
    signed: &Signed,
) -> ShimResult<CloudPath> {
    let once = percent_decode_str(raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let first = CloudPath::parse(&once).and_then(|key| {
        storage
            .signer()
            .verify(op, key.as_str(), signed.t, &signed.owner, &signed.sign)
            .map(|()| key)
    });
    match first {
        Ok(k) => Ok(k),
        Err(e) if once.contains('%') => {
            let twice = percent_decode_str(&once).decode_utf8_lossy().into_owned();
            let key = CloudPath::parse(&twice).map_err(|_| e)?;
            storage
                .signer()
                .verify(op, key.as_str(), signed.t, &signed.owner, &signed.sign)?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

/// `PUT`/`POST /storage/upload/<key>?t=..&owner=..&sign=..`.
pub async fn upload(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let request_id = state.next_request_id();
    match upload_inner(&state, req).await {
        Ok(()) => {
            let mut resp = StatusCode::OK.into_response();
            if let Ok(v) = HeaderValue::from_str(&request_id) {
                resp.headers_mut().insert("x-cos-request-id", v);
            }
            resp
        }
        Err(e) => e.into_cos_response(&request_id),
    }
}

async fn upload_inner(state: &AppState, req: Request) -> ShimResult<()> {
    let storage = &state.storage;
    let raw = req
        .uri()
        .path()
        .strip_prefix("/storage/upload/")
        .unwrap_or("")
        .to_string();
    let signed = parse_query(req.uri().query());
    let key = verified_key(storage, &raw, Op::Write, &signed)?;
    let limit = storage.max_upload();
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    {
        // Multipart adds a little framing around the file.
        let framing = if req.method() == Method::POST {
            64 << 10
        } else {
            0
        };
        if len > limit + framing {
            return Err(ShimError::PayloadTooLarge { limit });
        }
    }
    let bytes = if req.method() == Method::POST {
        read_multipart_file(req, limit).await?
    } else {
        read_body(req.into_body(), limit).await?
    };
    storage.put(&key, bytes, &signed.owner).await
}

async fn read_multipart_file(req: Request, limit: u64) -> ShimResult<Bytes> {
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| ShimError::InvalidParam(format!("multipart: {}", e.body_text())))?;
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| ShimError::InvalidParam(format!("multipart: {}", e.body_text())))?
    {
        if field.name() != Some("file") {
            continue;
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| ShimError::InvalidParam(format!("multipart: {}", e.body_text())))?
        {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(ShimError::PayloadTooLarge { limit });
            }
            buf.extend_from_slice(&chunk);
        }
        return Ok(buf.freeze());
    }
    Err(ShimError::InvalidParam(
        "multipart upload without a `file` field".into(),
    ))
}

/// `GET`/`HEAD /storage/file/<key>?sign=..&t=..`.
pub async fn download(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (req, _body) = req.into_parts();
    match download_inner(&state, &req).await {
        Ok(resp) => resp,
        Err(e) => {
            let request_id = state.next_request_id();
            let mut resp = e.into_cos_response(&request_id);
            if req.method == Method::HEAD {
                *resp.body_mut() = Body::empty();
            }
            resp
        }
    }
}

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
    pub size: u64,
    /// Quoted strong ETag.
    pub etag: String,
    pub modified: std::time::SystemTime,
}

/// The inputs of [`decide`] taken from the request.
#[derive(Debug, Clone)]
pub(crate) struct Conditions {
    if_none_match: Option<String>,
    range: Option<ByteRange>,
    is_head: bool,
}

impl Conditions {
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

async fn download_inner(state: &AppState, req: &Parts) -> ShimResult<Response> {
    let storage = &state.storage;
    let raw = req.uri.path().strip_prefix("/storage/file/").unwrap_or("");
    let signed = parse_query(req.uri.query());
    let key = verified_key(storage, raw, Op::Read, &signed)?;
    let conditions = Conditions {
        if_none_match: req
            .headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        range: parse_range(&req.headers),
        is_head: req.method == Method::HEAD,
    };

    // Local backend: metadata, decision and a small read in one blocking call.
    let (meta, decision, body) = match storage.read_local(&key, conditions.clone()).await {
        Some(result) => result?,
        None => {
            let meta = storage.head(&key).await?;
            let meta = FileMeta {
                size: meta.size,
                etag: format!(
                    "\"{}\"",
                    meta.e_tag.as_deref().unwrap_or("").replace('"', "")
                ),
                modified: std::time::SystemTime::from(meta.last_modified),
            };
            let decision = conditions.decide(&meta)?;
            (meta, decision, None)
        }
    };

    let content_type = mime_guess::from_path(key.as_str())
        .first_raw()
        .unwrap_or("application/octet-stream");
    let max_age = signed.t.saturating_sub(now_secs()).min(86_400);
    let mut builder = Response::builder()
        .header(header::ETAG, &meta.etag)
        .header(
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(meta.modified),
        )
        .header(header::CACHE_CONTROL, format!("private, max-age={max_age}"))
        .header(header::ACCEPT_RANGES, "bytes");

    let (status, span, want_body) = match decision {
        Decision::NotModified => {
            return builder
                .status(StatusCode::NOT_MODIFIED)
                .body(Body::empty())
                .map_err(ShimError::internal);
        }
        Decision::Serve { status, span, body } => (status, span, body),
    };
    builder = builder.header(header::CONTENT_TYPE, content_type);
    if status == StatusCode::PARTIAL_CONTENT {
        builder = builder.header(
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", span.start, span.end - 1, meta.size),
        );
    }
    builder = builder
        .status(status)
        .header(header::CONTENT_LENGTH, span.end - span.start);
    if !want_body {
        return builder.body(Body::empty()).map_err(ShimError::internal);
    }
    if let Some(bytes) = body {
        return builder.body(Body::from(bytes)).map_err(ShimError::internal);
    }
    let options = GetOptions {
        range: conditions
            .range
            .is_some()
            .then(|| GetRange::Bounded(span.clone())),
        ..GetOptions::default()
    };
    let result = storage.get(&key, options).await?;
    let body = if span.end - span.start <= READ_WHOLE_LIMIT {
        Body::from(result.bytes().await.map_err(ShimError::internal)?)
    } else {
        Body::from_stream(result.into_stream())
    };
    builder.body(body).map_err(ShimError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

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
