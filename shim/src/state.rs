//! The state every request handler shares ([`AppState`]) and the request helpers they use
//! ([`read_body`], [`query_param`]). Handlers import this module, never the router in
//! [`crate::server`], which imports them; the state is opened from a configuration by
//! [`AppState::open`] (in `server.rs`, with the rest of the start-up).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use crate::auth::{CodeExchange, Sessions};
use crate::config::ShimConfig;
use crate::error::{ShimError, ShimResult};
use crate::functions::FunctionRunner;
use crate::service::Database;
use crate::storage::Storage;

/// Everything a request handler needs.
pub struct AppState {
    /// The configuration the shim runs with.
    pub config: ShimConfig,
    /// The database service.
    pub db: Arc<Database>,
    /// File storage.
    pub storage: Storage,
    /// The cloud-function runner (`None` when the project has no functions directory).
    pub functions: Option<Arc<FunctionRunner>>,
    /// Sign-in mode's session tokens and code exchange (`None` in development mode).
    pub sign_in: Option<SignInState>,
    /// Requests answered, for the periodic log summary.
    pub(crate) traffic: Arc<Traffic>,
    request_prefix: String,
    request_counter: AtomicU64,
}

/// What sign-in mode needs at run time.
#[derive(Debug, Clone)]
pub struct SignInState {
    /// Issues and checks the session tokens (its secret shared through the database).
    pub sessions: Sessions,
    /// Exchanges `wx.login` codes for openids.
    pub exchange: CodeExchange,
}

/// Counters of the requests answered since the last log summary.
#[derive(Debug, Default)]
pub(crate) struct Traffic {
    pub(crate) requests: AtomicU64,
    pub(crate) server_errors: AtomicU64,
    pub(crate) refused: AtomicU64,
}

impl Traffic {
    /// Count one answered request with its HTTP status.
    pub(crate) fn count(&self, status: u16) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            self.server_errors.fetch_add(1, Ordering::Relaxed);
        } else if status == 403 || status == 415 {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Take the counts since the last call: `(requests, 5xx, refused)`.
    pub(crate) fn take(&self) -> (u64, u64, u64) {
        (
            self.requests.swap(0, Ordering::Relaxed),
            self.server_errors.swap(0, Ordering::Relaxed),
            self.refused.swap(0, Ordering::Relaxed),
        )
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("storage", &self.storage)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// State from already-opened parts (tests build it this way).
    pub fn new(
        config: ShimConfig,
        db: Arc<Database>,
        storage: Storage,
        functions: Option<Arc<FunctionRunner>>,
    ) -> Self {
        let prefix: u32 = rand::random();
        AppState {
            config,
            db,
            storage,
            functions,
            sign_in: None,
            traffic: Arc::default(),
            request_prefix: format!("{prefix:08x}"),
            request_counter: AtomicU64::new(1),
        }
    }

    /// The same state in sign-in mode.
    pub fn with_sign_in(mut self, sign_in: SignInState) -> Self {
        self.sign_in = Some(sign_in);
        self
    }

    /// A fresh request id (`<instance>-<counter>`).
    pub fn next_request_id(&self) -> String {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:x}", self.request_prefix)
    }
}

/// Read a body up to `limit` bytes.
pub(crate) async fn read_body(body: Body, limit: u64) -> ShimResult<Bytes> {
    let mut body = body;
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ShimError::InvalidParam(format!("reading body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if (buf.len() + data.len()) as u64 > limit {
                return Err(ShimError::PayloadTooLarge { limit });
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}

/// One query parameter, percent-decoded.
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params() {
        let q = Some("env=e1&seqId=abc-1a2_3&x");
        assert_eq!(query_param(q, "seqId").as_deref(), Some("abc-1a2_3"));
        assert_eq!(query_param(q, "env").as_deref(), Some("e1"));
        assert_eq!(query_param(q, "x"), None);
        assert_eq!(
            query_param(Some("&eventId=1&seqId=a%20b"), "seqId").as_deref(),
            Some("a b")
        );
        assert_eq!(query_param(None, "seqId"), None);
    }
}
