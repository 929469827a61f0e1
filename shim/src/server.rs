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
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, TraceLayer};
use tracing::Level;

use crate::auth::{CodeExchange, Sessions};
use crate::config::ShimConfig;
use crate::error::{ShimError, ShimResult};
use crate::functions::{FunctionRunner, FunctionsConfig};
use crate::service::{Caller, Database, Permissions};
use crate::state::{AppState, SignInState, query_param, read_body};
use crate::storage::{Signer, Storage};
use crate::store::{PostgresStore, SqliteStore, Store};

/// Opening: the parts the configuration names, assembled into the shared state.
impl AppState {
    /// Storage at `config.storage_url` (by default `<data dir>/storage`) with the signing
    /// secret of the data dir.
    pub fn open_storage(config: &ShimConfig) -> ShimResult<Storage> {
        let signer = Signer::load_or_create(&config.secret_file()).map_err(ShimError::internal)?;
        Self::open_storage_signed(config, signer)
    }

    /// The URL signing secret every instance on the database shares: the one the database
    /// holds, else this data dir's (created if missing), which it then holds for the others.
    /// A URL one instance signed is then good at every other. Blocking.
    pub fn shared_signer(config: &ShimConfig, store: &dyn Store) -> ShimResult<Signer> {
        let local = Signer::load_or_create(&config.secret_file()).map_err(ShimError::internal)?;
        Ok(Signer::new(shared_key(
            store,
            "storage-secret",
            local.key(),
        )?))
    }

    /// Sign-in mode's parts, when the configuration asks for it: the session tokens, signed
    /// with a secret every instance on the database shares (store meta `session-secret`,
    /// created by the first), and the code exchange. Blocking.
    pub fn open_sign_in(config: &ShimConfig, store: &dyn Store) -> ShimResult<Option<SignInState>> {
        let Some(sign_in) = &config.sign_in else {
            return Ok(None);
        };
        if config.admin_token.is_none() || config.admin_key.is_none() {
            // Users who cannot choose their openid, behind an /admin anyone may call, would
            // be no protection at all.
            return Err(ShimError::internal(
                "sign-in mode needs the admin credentials /admin checks (admin token and key)",
            ));
        }
        let key = shared_key(store, "session-secret", rand::random())?;
        let exchange = CodeExchange::new(&sign_in.code2session_url, &config.appid, &sign_in.secret)
            .map_err(ShimError::internal)?;
        Ok(Some(SignInState {
            sessions: Sessions::new(key, sign_in.session_ttl),
            exchange,
        }))
    }

    /// Storage at `config.storage_url` (by default `<data dir>/storage`) signing with `signer`.
    pub fn open_storage_signed(config: &ShimConfig, signer: Signer) -> ShimResult<Storage> {
        let (env, max_upload) = (config.env_id.clone(), config.max_upload);
        match &config.storage_url {
            Some(url) => Storage::open_url(url, signer, env, max_upload),
            None => Storage::open_local(&config.storage_root(), signer, env, max_upload),
        }
    }

    /// The database the configuration names: PostgreSQL at [`ShimConfig::database_url`], else
    /// the SQLite file in the data dir. Blocking (call it off the async workers).
    pub fn open_store(config: &ShimConfig) -> ShimResult<Arc<dyn Store>> {
        let cannot = |e: crate::db::DbError| {
            ShimError::internal(format!(
                "cannot open database {}: {}",
                config.database_shown(),
                e.detail()
            ))
        };
        Ok(match &config.database_url {
            Some(url) => Arc::new(PostgresStore::connect(url).map_err(cannot)?),
            None => Arc::new(
                SqliteStore::open(config.database_file())
                    .map(|s| s.with_group_commit(config.group_commit))
                    .map_err(cannot)?,
            ),
        })
    }

    /// Open everything the configuration names: the database ([`Self::open_store`], loading
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
        let cfg = config.clone();
        let store = tokio::task::spawn_blocking(move || Self::open_store(&cfg))
            .await
            .map_err(ShimError::internal)??;
        let (report, signer, sign_in) = {
            let (store, cfg) = (Arc::clone(&store), config.clone());
            tokio::task::spawn_blocking(move || {
                let report =
                    crate::seed::load_dir_once(store.as_ref(), &cfg.seed_database_dir, cfg.reseed);
                let signer = Self::shared_signer(&cfg, store.as_ref())?;
                let sign_in = Self::open_sign_in(&cfg, store.as_ref())?;
                Ok::<_, ShimError>((report, signer, sign_in))
            })
            .await
            .map_err(ShimError::internal)??
        };
        if !report.skipped.is_empty() {
            tracing::info!(
                collections = %report.skipped.join(", "),
                "seed files loaded before and unchanged: left as the database has them (--reseed loads them again)"
            );
        }
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
        let storage = Self::open_storage_signed(&config, signer)?;
        storage.check_access().await?;
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
                let mut fc =
                    FunctionsConfig::new(root.clone(), shim_url.clone(), config.env_id.clone());
                if let Some(token) = &config.admin_token {
                    // The functions' SDK calls back into /admin with the token as secret id
                    // (and signs with the key).
                    fc.secret_id = token.clone();
                }
                if let Some(key) = &config.admin_key {
                    fc.secret_key = key.clone();
                }
                fc.memory_mb = config.function_memory_mb;
                Arc::new(FunctionRunner::new(fc))
            });
        let state = AppState::new(config, db, storage, functions);
        Ok(Arc::new(match sign_in {
            Some(s) => state.with_sign_in(s),
            None => state,
        }))
    }
}

/// The 32-byte secret the database holds under meta `name`, which `mine` becomes when it holds
/// none yet (the first instance's). Blocking.
fn shared_key(store: &dyn Store, name: &str, mine: [u8; 32]) -> ShimResult<[u8; 32]> {
    let held = store
        .init_meta(name, &hex::encode(mine))
        .map_err(|e| ShimError::internal(format!("cannot share the {name}: {}", e.detail())))?;
    hex::decode(&held)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ShimError::internal(format!("the database holds a malformed {name}")))
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
    if let Err(e) = crate::guard::check_admin(req.headers(), &state.config) {
        let status = match e {
            ShimError::Forbidden(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        };
        tracing::warn!(
            host = ?req.headers().get(axum::http::header::HOST),
            origin = ?req.headers().get(axum::http::header::ORIGIN),
            "refused an /admin request: {}",
            e.public_message()
        );
        let mut resp = e.into_envelope(&state.next_request_id());
        *resp.status_mut() = status;
        return resp;
    }
    let (parts, body) = req.into_parts();
    match read_body(body, state.config.max_body as u64).await {
        Ok(bytes) => {
            if let Err(e) = crate::guard::check_admin_signature(
                parts.method.as_str(),
                &parts.uri,
                &parts.headers,
                &bytes,
                &state.config,
            ) {
                let mut resp = e.into_envelope(&state.next_request_id());
                *resp.status_mut() = StatusCode::FORBIDDEN;
                return resp;
            }
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
    let traffic = Arc::clone(&state.traffic);
    let body_timeout = state.config.connections.body_timeout;
    Router::new()
        .route(
            "/storage/upload/{*key}",
            put(upload).post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/storage/file/{*key}", get(download).head(download))
        .route("/client", post(crate::client::handler))
        .route("/client/signin", post(crate::client::sign_in))
        .route("/client/{*rest}", post(crate::client::handler))
        .fallback(admin_handler)
        .layer(DefaultBodyLimit::disable())
        // A body that stalls longer than this between chunks fails its read (and its request).
        .layer(RequestBodyTimeoutLayer::new(body_timeout))
        .layer(
            // One debug line per request; at the default level only the summary of
            // `log_summaries` is written.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::DEBUG))
                .on_request(())
                .on_response(
                    move |resp: &Response, latency: Duration, _span: &tracing::Span| {
                        traffic.count(resp.status().as_u16());
                        tracing::debug!(
                            status = resp.status().as_u16(),
                            latency_ms = latency.as_secs_f64() * 1000.0,
                            "answered"
                        );
                    },
                ),
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

/// Serve an opened `state` on `listener` until `shutdown` completes; then stop accepting,
/// let requests in flight finish for up to the configured grace period (closing the
/// connections still open after it), and stop the function workers.
///
/// Each connection gets the configured head timeout (which is also its keep-alive idle
/// timeout); at most `max_connections` are served at once (fewer when the open-files limit is
/// lower), the others wait in the listen backlog.
pub async fn serve(
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    state: Arc<AppState>,
) -> ShimResult<()> {
    let limits = state.config.connections.clone();
    let max_connections = connection_cap(limits.max_connections);
    let app = router(Arc::clone(&state));
    let slots = Arc::new(Semaphore::new(max_connections));
    let (close_tx, close_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let summaries = tokio::spawn(log_summaries(Arc::clone(&state)));
    if state.config.prewarm_functions
        && let Some(functions) = state.functions.clone()
    {
        // One at a time: each is a Node process loading its modules, competing with the
        // first requests for the CPU.
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            functions.prewarm_all(1).await;
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                "function workers warmed"
            );
        });
    }
    let mut shutdown = std::pin::pin!(shutdown);
    let mut full_warned = false;
    loop {
        if slots.available_permits() == 0 && !full_warned {
            full_warned = true;
            tracing::warn!(
                max_connections,
                "connection limit reached; new connections wait until one closes"
            );
        }
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.map_err(ShimError::internal)?,
            () = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, a connection reset before accept: wait a moment
                    // rather than spin, and go on serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if slots.available_permits() > 0 {
            full_warned = false;
        }
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut close = close_rx.clone();
        let header_timeout = limits.header_timeout;
        connections.spawn(async move {
            let _slot = slot;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("connection ended: {e}");
                    }
                }
                _ = close.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = close_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still open {:?} after shutdown began; closing them",
            limits.shutdown_grace
        );
        connections.shutdown().await;
    }
    summaries.abort();
    if let Some(functions) = &state.functions {
        functions.shutdown().await;
    }
    Ok(())
}

/// Descriptors kept free of connections: the database, storage files, function workers' pipes.
const RESERVED_DESCRIPTORS: u64 = 64;

/// `wanted` lowered to fit the process's open-files limit, keeping [`RESERVED_DESCRIPTORS`].
fn connection_cap(wanted: usize) -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct it is given.
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        u64::MAX
    };
    let fits = soft.saturating_sub(RESERVED_DESCRIPTORS).max(8);
    wanted
        .min(usize::try_from(fits).unwrap_or(usize::MAX))
        .max(1)
}

/// Raise the soft open-files limit to the hard one (what a server is allowed to hold); returns
/// the soft limit in force afterwards.
pub fn raise_open_files_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    Some(limit.rlim_cur)
}

/// Every minute with traffic, one info line: how many requests, how many failed or were refused.
async fn log_summaries(state: Arc<AppState>) {
    const EVERY: Duration = Duration::from_secs(60);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + EVERY, EVERY);
    loop {
        tick.tick().await;
        let (requests, server_errors, refused) = state.traffic.take();
        if requests > 0 {
            tracing::info!(
                requests,
                server_errors,
                refused,
                "requests in the last {}s",
                EVERY.as_secs()
            );
        }
    }
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
