//! The one error type of the HTTP layer, rendered once: into the CloudBase action envelope
//! (`{code, message, requestId}`, always HTTP 200) for `/admin` and `/client`, and into COS-style
//! XML (`<Error><Code>..`) with a real HTTP status for the storage URLs.
//!
//! Public messages never carry internals (file-system paths, SQL, worker output): those stay in
//! [`ShimError::detail`] and go to the log.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Everything that can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    /// A request that could not be understood: bad JSON, bad EJSON, a missing or mistyped field.
    #[error("INVALID_PARAM: {0}")]
    InvalidParam(String),
    /// An action this shim does not implement.
    #[error("INVALID_ACTION: {0}")]
    InvalidAction(String),
    /// The request body is larger than allowed.
    #[error("payload too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: u64 },
    /// A storage object that does not exist.
    #[error("STORAGE_FILE_NONEXIST: {0}")]
    FileNotExist(String),
    /// A client touching a file it does not own.
    #[error("STORAGE_EXCEED_AUTHORITY: {0}")]
    StorageDenied(String),
    /// A request refused before it is read: a foreign `Host` or `Origin`, a missing admin token.
    #[error("PERMISSION_DENIED: {0}")]
    Forbidden(String),
    /// A `/client` caller without a valid session where one is needed (sign-in mode): no
    /// token for an operation that needs a user, or a token that is forged or expired. HTTP
    /// 401; the adapter signs in again (`wx.login`) and retries once.
    #[error("UNAUTHENTICATED: {0}")]
    Unauthenticated(String),
    /// Signing in failed: WeChat refused the `wx.login` code, or its endpoint failed.
    #[error("LOGIN_FAILED: {0}")]
    LoginFailed(String),
    /// A storage URL whose signature is missing, forged or expired.
    #[error("signature: {0}")]
    BadSignature(&'static str),
    /// An unsatisfiable `Range` (HTTP 416); carries the object size.
    #[error("range not satisfiable")]
    RangeNotSatisfiable { size: u64 },
    /// An error from the database service (its own code and public message).
    #[error("{0}")]
    Db(#[from] crate::db::DbError),
    /// A cloud function call that failed (missing function, threw, timed out, crashed).
    #[error("{0}")]
    Function(#[from] crate::functions::FunctionError),
    /// Functions are not available (the project has no `cloudfunctionRoot`).
    #[error("no cloud functions: {0}")]
    NoFunctions(String),
    /// Anything else. The public message is generic; `detail` is logged.
    #[error("internal error: {detail}")]
    Internal { detail: String },
}

impl ShimError {
    /// Wrap an internal failure (logged, never shown).
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ShimError::Internal {
            detail: detail.to_string(),
        }
    }

    /// The TCB backend's string code (`sdk-wire-protocol.md` §2.2, `cloud-api.md` §1.6).
    pub fn code(&self) -> &'static str {
        match self {
            ShimError::InvalidParam(_) => "INVALID_PARAM",
            ShimError::InvalidAction(_) => "INVALID_ACTION",
            ShimError::PayloadTooLarge { .. } => "INVALID_PARAM",
            ShimError::FileNotExist(_) => "STORAGE_FILE_NONEXIST",
            ShimError::StorageDenied(_) => "STORAGE_EXCEED_AUTHORITY",
            ShimError::Forbidden(_) => "PERMISSION_DENIED",
            ShimError::Unauthenticated(_) => "UNAUTHENTICATED",
            ShimError::LoginFailed(_) => "LOGIN_FAILED",
            ShimError::BadSignature(_) => "STORAGE_SIGN_PARAM_INVALID",
            ShimError::RangeNotSatisfiable { .. } => "INVALID_PARAM",
            ShimError::Db(e) => e.code(),
            ShimError::Function(e) => e.code(),
            ShimError::NoFunctions(_) => "FUNCTIONS_REQUEST_FAIL",
            ShimError::Internal { .. } => "SYS_ERR",
        }
    }

    /// The message safe to show to the caller.
    pub fn public_message(&self) -> String {
        match self {
            ShimError::InvalidParam(m) => m.clone(),
            ShimError::InvalidAction(a) => format!("action not supported by the local shim: {a}"),
            ShimError::PayloadTooLarge { limit } => {
                format!("request body larger than the limit of {limit} bytes")
            }
            ShimError::FileNotExist(f) => format!("storage file not exists: {f}"),
            ShimError::StorageDenied(f) => format!("no permission to modify {f}"),
            ShimError::Forbidden(m) | ShimError::Unauthenticated(m) | ShimError::LoginFailed(m) => {
                m.clone()
            }
            ShimError::BadSignature(why) => format!("signature invalid: {why}"),
            ShimError::RangeNotSatisfiable { size } => {
                format!("range not satisfiable (size {size})")
            }
            ShimError::Db(e) => e.message(),
            ShimError::Function(crate::functions::FunctionError::Internal { .. }) => {
                "internal error while running the function".to_string()
            }
            ShimError::Function(e) => e.message(),
            ShimError::NoFunctions(name) => {
                format!("function {name} not found: the project has no cloud functions directory")
            }
            ShimError::Internal { .. } => "internal server error".to_string(),
        }
    }

    /// Detail for the log (includes internals).
    pub fn detail(&self) -> String {
        match self {
            ShimError::Internal { detail } => detail.clone(),
            ShimError::Db(e) => e.detail(),
            ShimError::Function(e) => e.to_string(),
            other => other.public_message(),
        }
    }

    fn log(&self, request_id: &str) {
        match self {
            ShimError::Internal { .. } => {
                tracing::error!(request_id, code = self.code(), detail = %self.detail(), "request failed")
            }
            ShimError::Db(crate::db::DbError::Internal { .. })
            | ShimError::Function(crate::functions::FunctionError::Internal { .. }) => {
                tracing::error!(request_id, code = self.code(), detail = %self.detail(), "request failed")
            }
            _ => {
                tracing::debug!(request_id, code = self.code(), detail = %self.detail(), "request failed")
            }
        }
    }

    /// The action envelope: `{"code", "message", "requestId"}`, with HTTP 200 as CloudBase
    /// answers, except 401 for [`ShimError::Unauthenticated`] (the shim's own sign-in).
    pub fn into_envelope(self, request_id: &str) -> Response {
        self.log(request_id);
        let status = match self {
            ShimError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::OK,
        };
        let body = serde_json::json!({
            "code": self.code(),
            "message": self.public_message(),
            "requestId": request_id,
        });
        json_response(status, body.to_string())
    }

    /// COS-style XML error with a real status, for the storage URLs (upload, download).
    pub fn into_cos_response(self, request_id: &str) -> Response {
        self.log(request_id);
        let (status, code) = match &self {
            ShimError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "EntityTooLarge"),
            ShimError::FileNotExist(_) => (StatusCode::NOT_FOUND, "NoSuchKey"),
            ShimError::BadSignature(_) => (StatusCode::FORBIDDEN, "AccessDenied"),
            ShimError::StorageDenied(_) | ShimError::Forbidden(_) => {
                (StatusCode::FORBIDDEN, "AccessDenied")
            }
            ShimError::RangeNotSatisfiable { .. } => {
                (StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange")
            }
            ShimError::InvalidParam(_) | ShimError::InvalidAction(_) => {
                (StatusCode::BAD_REQUEST, "InvalidArgument")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"),
        };
        let body = format!(
            "<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n<Code>{code}</Code>\n<Message>{}</Message>\n<RequestId>{}</RequestId>\n<TraceId>{}</TraceId>\n</Error>\n",
            xml_escape(&self.public_message()),
            xml_escape(request_id),
            xml_escape(request_id),
        );
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        if let ShimError::RangeNotSatisfiable { size } = self
            && let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}"))
        {
            resp.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        resp
    }
}

/// A JSON response with the given pre-rendered body.
pub(crate) fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    resp
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Result alias of the HTTP layer.
pub type ShimResult<T> = Result<T, ShimError>;
