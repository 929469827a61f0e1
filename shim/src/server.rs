//! The HTTP server: shared state, the router, and [`run`] (a listener and a shutdown future in,
//! mini-redis style).
//!
//! Routes:
//! * `PUT|POST /storage/upload/<key>?t=&owner=&sign=`: signed uploads ([`crate::storage::http`]);
//! * `GET|HEAD /storage/file/<key>?sign=&t=`: signed downloads;
//! * `POST /client[/...]`: the `wx.cloud` adapter's endpoint ([`crate::client`]);
//! * `POST` on any other path (`/admin` by default, absolute-form targets too): the `/admin`
//!   action protocol ([`crate::admin`]).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use tokio::net::TcpListener;

use crate::config::ShimConfig;
use crate::db::{Caller, Database};
use crate::error::{ShimError, ShimResult};
use crate::storage::{Signer, Storage};

/// Everything a request handler needs.
pub struct AppState {
    /// The configuration the shim runs with.
    pub config: ShimConfig,
    /// The database service.
    pub db: Arc<Database>,
    /// File storage.
    pub storage: Storage,
    request_prefix: String,
    request_counter: AtomicU64,
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
    pub fn new(config: ShimConfig, db: Arc<Database>, storage: Storage) -> Self {
        let prefix: u32 = rand::random();
        AppState {
            config,
            db,
            storage,
            request_prefix: format!("{prefix:08x}"),
            request_counter: AtomicU64::new(1),
        }
    }

    /// Storage in `<data dir>/storage` with the signing secret of the data dir.
    pub fn open_storage(config: &ShimConfig) -> ShimResult<Storage> {
        let signer = Signer::load_or_create(&config.secret_file()).map_err(ShimError::internal)?;
        Storage::open_local(
            &config.storage_root(),
            signer,
            config.env_id.clone(),
            config.max_upload,
        )
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

async fn admin_handler(State(state): State<Arc<AppState>>, req: Request) -> Response {
    if req.method() != Method::POST {
        let request_id = state.next_request_id();
        let mut resp = ShimError::InvalidParam(format!(
            "{} is not supported here; the action protocol is POST with a JSON body",
            req.method()
        ))
        .into_envelope(&request_id);
        *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
        return resp;
    }
    let (parts, body) = req.into_parts();
    match read_body(body, state.config.max_body as u64).await {
        Ok(bytes) => crate::admin::respond(&state, Caller::Admin, &parts.headers, bytes).await,
        Err(e) => e.into_envelope(&state.next_request_id()),
    }
}

/// The router over `state`, for [`run`] and for in-process tests.
pub fn router(state: Arc<AppState>) -> Router {
    use crate::storage::http::{download, upload};
    Router::new()
        .route(
            "/storage/upload/{*key}",
            put(upload).post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/storage/file/{*key}", get(download).head(download))
        .route("/client", post(crate::client::handler))
        .route("/client/{*rest}", post(crate::client::handler))
        .fallback(admin_handler)
        .layer(DefaultBodyLimit::disable())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serve `state` on `listener` until `shutdown` completes, then finish in-flight requests.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    state: Arc<AppState>,
) -> std::io::Result<()> {
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
