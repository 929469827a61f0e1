//! The HTTP layer in process for tests: a shim on a temporary project behind its router, and
//! requests sent with `tower::ServiceExt::oneshot`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use shim::storage::{Signer, Storage};
use shim::{AppState, ShimConfig};

use super::s3::Bucket;
use tower::ServiceExt;

/// A shim on a temporary project (`cloud/storage/img/seed.txt` seeded), env `test-env`, URLs
/// under `http://shim.test`.
pub(crate) struct Shim {
    pub(crate) app: Router,
    pub(crate) _dir: tempfile::TempDir,
}

/// Where a test shim keeps its storage objects.
#[derive(Clone, Copy)]
pub(crate) enum Backend<'a> {
    /// The data dir's `storage/` (the default).
    Local,
    /// A bucket of the S3 test server (`common::s3`).
    S3(&'a Bucket),
}

pub(crate) async fn shim_with(max_upload: u64, max_body: usize) -> Shim {
    shim_on(Backend::Local, max_upload, max_body).await
}

/// A shim like [`shim_with`] with its storage on `backend`.
pub(crate) async fn shim_on(backend: Backend<'_>, max_upload: u64, max_body: usize) -> Shim {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    std::fs::create_dir_all(project.join("cloud/storage/img")).unwrap();
    std::fs::write(project.join("cloud/storage/img/seed.txt"), b"0123456789").unwrap();
    let mut config = ShimConfig::from_project(project).unwrap();
    config.env_id = "test-env".into();
    config.public_url = Some("http://shim.test".into());
    config.max_upload = max_upload;
    config.max_body = max_body;
    let state = open_on(backend, config).await;
    Shim {
        app: shim::router(Arc::clone(&state)),
        _dir: dir,
    }
}

/// The state of a shim for `config` with its storage on `backend`. Local: [`AppState::open`].
/// S3: the same steps with the store's settings passed to it rather than read from the
/// environment (shared by the tests running in parallel): database, storage, access check,
/// copy-in of `cloud/storage/`.
pub(crate) async fn open_on(backend: Backend<'_>, mut config: ShimConfig) -> Arc<AppState> {
    let Backend::S3(bucket) = backend else {
        return AppState::open(config).await.unwrap();
    };
    config.storage_url = Some(bucket.url());
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let store = shim::store::sqlite::SqliteStore::open(config.database_file()).unwrap();
    let db = Arc::new(shim::service::Database::new(Arc::new(store)));
    let signer = Signer::load_or_create(&config.secret_file()).unwrap();
    let storage = Storage::open_url_with(
        &bucket.url(),
        bucket.settings(),
        signer,
        config.env_id.clone(),
        config.max_upload,
    )
    .unwrap();
    storage.check_access().await.unwrap();
    storage
        .seed_from_dir(&config.seed_storage_dir)
        .await
        .unwrap();
    Arc::new(AppState::new(config, db, storage, None))
}

pub(crate) async fn shim() -> Shim {
    shim_with(1 << 20, 1 << 20).await
}

/// A response, read whole.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) async fn send(app: &Router, req: Request<Body>) -> Reply {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

pub(crate) async fn post(app: &Router, path: &str, body: impl Into<Body>) -> Reply {
    let req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap();
    send(app, req).await
}

pub(crate) async fn action(app: &Router, body: Value) -> Value {
    let r = post(app, "/admin?env=test-env&seqId=1", body.to_string()).await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()
}

pub(crate) async fn get(app: &Router, url: &str, headers: &[(&str, &str)]) -> Reply {
    let path = url.strip_prefix("http://shim.test").unwrap_or(url);
    let mut b = Request::get(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    send(app, b.body(Body::empty()).unwrap()).await
}

pub(crate) fn assert_error(v: &Value, code: &str) {
    assert_eq!(v["code"], code, "{v}");
    assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    assert!(v["requestId"].as_str().is_some(), "{v}");
    assert!(v.get("data").is_none(), "{v}");
}
