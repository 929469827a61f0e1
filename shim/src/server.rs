//! The HTTP server: opening the shared state ([`AppState::open`]), the router, and [`run`] (a
//! listener and a shutdown future in, mini-redis style). The state itself and the request
//! helpers the handlers use are in `state.rs`.
//!
//! Routes:
//! * `PUT|POST /storage/upload/<key>?t=&owner=&sign=`: signed uploads (`storage/http.rs`);
//! * `GET|HEAD /storage/file/<key>?sign=&t=`: signed downloads;
//! * `POST /client[/...]`: the `wx.cloud` adapter's endpoint (`client/`);
//! * `POST` on any other path (`/admin` by default, absolute-form targets too): the `/admin`
//!   action protocol (`admin/`);
//! * `GET /`: a plain-text line naming the env and the endpoints (a readiness check).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tokio::net::TcpListener;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::config::ShimConfig;
use crate::error::{ShimError, ShimResult};
use crate::functions::{FunctionRunner, FunctionsConfig};
use crate::service::{Caller, Database, Permissions};
use crate::state::{AppState, query_param, read_body};
use crate::storage::{Signer, Storage};
use crate::store::sqlite::SqliteStore;

/// Opening: the parts the configuration names, assembled into the shared state.
impl AppState {
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

    /// Open everything the configuration names: the SQLite database in the data dir (loading
    /// the project's `cloud/database/*.json` seeds), storage (copying in `cloud/storage/`), and
    /// the function runner when the project has a functions directory. `config.public_url`
    /// must be the URL the shim will be reachable at (functions call back to it).
    pub async fn open(config: ShimConfig) -> ShimResult<Arc<AppState>> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            ShimError::internal(format!(
                "cannot create data dir {}: {e}",
                config.data_dir.display()
            ))
        })?;
        let store = SqliteStore::open(config.database_file()).map_err(|e| {
            ShimError::internal(format!(
                "cannot open database {}: {}",
                config.database_file().display(),
                e.detail()
            ))
        })?;
        let store = Arc::new(store);
        let report = crate::seed::load_dir(store.as_ref(), &config.seed_database_dir);
        for f in &report.files {
            tracing::info!(
                collection = %f.collection,
                inserted = f.inserted,
                updated = f.updated,
                unchanged = f.unchanged,
                "loaded seed"
            );
        }
        for e in &report.errors {
            tracing::warn!("seed: {e}");
        }
        let db = Database::new(store);
        let permissions_file = config.seed_database_dir.join("_permissions.json");
        if permissions_file.is_file() {
            match Permissions::load(&permissions_file) {
                Ok(p) => db.set_permissions(p),
                Err(e) => tracing::warn!(
                    file = %permissions_file.display(),
                    "ignoring permissions file: {}",
                    e.message()
                ),
            }
        }
        let db = Arc::new(db);
        let storage = Self::open_storage(&config)?;
        let copied = storage.seed_from_dir(&config.seed_storage_dir).await?;
        if copied > 0 {
            tracing::info!(copied, dir = %config.seed_storage_dir.display(), "copied initial storage content");
        }
        let shim_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1".to_string());
        let functions = config
            .functions_root
            .as_ref()
            .filter(|root| root.is_dir())
            .map(|root| {
                Arc::new(FunctionRunner::new(FunctionsConfig::new(
                    root.clone(),
                    shim_url.clone(),
                    config.env_id.clone(),
                )))
            });
        Ok(Arc::new(AppState::new(config, db, storage, functions)))
    }
}

async fn admin_handler(State(state): State<Arc<AppState>>, req: Request) -> Response {
    if req.method() == Method::GET && req.uri().path() == "/" {
        // A readiness check and a hint for someone opening the URL in a browser.
        let c = &state.config;
        return (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            format!(
                "migrate serve: local CloudBase for env {}\n\
                 POST /admin   the action protocol of wx-server-sdk / @cloudbase/node-sdk\n\
                 POST /client  the mini-program wx.cloud adapter\n",
                c.env_id
            ),
        )
            .into_response();
    }
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
        Ok(bytes) => {
            let seq_id = query_param(parts.uri.query(), "seqId");
            crate::admin::respond(
                &state,
                Caller::Admin,
                &parts.headers,
                seq_id.as_deref(),
                bytes,
            )
            .await
        }
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
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// The base URL clients reach a listener at (`0.0.0.0`/`::` become loopback).
pub fn url_of(addr: std::net::SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    format!("http://{}", std::net::SocketAddr::new(ip, addr.port()))
}

/// Serve an opened `state` on `listener` until `shutdown` completes, let in-flight requests
/// finish, then stop the function workers.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    state: Arc<AppState>,
) -> ShimResult<()> {
    let app = router(Arc::clone(&state));
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(functions) = &state.functions {
        functions.shutdown().await;
    }
    result.map_err(|e| ShimError::internal(format!("server error: {e}")))
}

/// Open the shim for `config` and serve it on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    mut config: ShimConfig,
) -> ShimResult<()> {
    let addr = listener.local_addr().map_err(ShimError::internal)?;
    if config.public_url.is_none() {
        config.public_url = Some(url_of(addr));
    }
    let state = AppState::open(config).await?;
    serve(listener, shutdown, state).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_of_listeners() {
        assert_eq!(
            url_of("0.0.0.0:8721".parse().unwrap()),
            "http://127.0.0.1:8721"
        );
        assert_eq!(url_of("[::]:80".parse().unwrap()), "http://[::1]:80");
        assert_eq!(url_of("192.0.2.7:9".parse().unwrap()), "http://192.0.2.7:9");
    }
}
