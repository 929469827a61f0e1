//! The storage URLs: COS-like upload (`PUT` raw body, `POST` multipart field `file`) and download
//! (`GET`/`HEAD` with strong ETag, `If-None-Match`, single `Range`, `Cache-Control`,
//! `Content-Type` from the extension). Every URL carries a signature made by the shim
//! ([`super::Storage::upload_url`], [`super::Storage::download_url`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use percent_encoding::percent_decode_str;

use super::download::{Conditions, Decision};
use super::objects::{Payload, Read};
use super::sign::{Op, now_secs};
use super::{CloudPath, Storage};
use crate::error::{ShimError, ShimResult};
use crate::state::{AppState, query_param, read_body};

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
pub(crate) async fn upload(State(state): State<Arc<AppState>>, req: Request) -> Response {
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
pub(crate) async fn download(State(state): State<Arc<AppState>>, req: Request) -> Response {
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

async fn download_inner(state: &AppState, req: &Parts) -> ShimResult<Response> {
    let storage = &state.storage;
    let raw = req.uri.path().strip_prefix("/storage/file/").unwrap_or("");
    let signed = parse_query(req.uri.query());
    let key = verified_key(storage, raw, Op::Read, &signed)?;
    let conditions = Conditions::from_request(req);

    let Read {
        meta,
        decision,
        body,
    } = storage.read(&key, &conditions).await?;

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
    let body = match body {
        Some(Payload::Bytes(bytes)) => Body::from(bytes),
        Some(Payload::Stream(stream)) => Body::from_stream(stream),
        None => {
            return Err(ShimError::internal(
                "a download decided to serve a body read none",
            ));
        }
    };
    builder.body(body).map_err(ShimError::internal)
}
