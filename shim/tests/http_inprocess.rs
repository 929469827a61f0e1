//! The HTTP layer in process (router + `tower::ServiceExt::oneshot`): the action envelope,
//! bad input, the client caller, and storage URLs (signatures, Range, ETag, limits, traversal).

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::http::{Backend, action, assert_error, get, post, send, shim, shim_with};
use common::storage_cases::{self, put, temp_url, upload_url};
use serde_json::{Value, json};
use shim::{AppState, ShimConfig};

#[tokio::test]
async fn malformed_requests_get_the_envelope() {
    let s = shim().await;
    for body in [
        "{not json",
        "[1,2]",
        "\"x\"",
        "",
        "{\"action\": 5}",
        "{\"collectionName\":\"c\"}",
    ] {
        let r = post(&s.app, "/admin", body.to_string()).await;
        assert_eq!(r.status, StatusCode::OK, "{body}");
        assert_error(&r.json(), "INVALID_PARAM");
    }
    let req = Request::post("/admin")
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=xx")
        .body(Body::from("--xx--\r\n"))
        .unwrap();
    assert_error(&send(&s.app, req).await.json(), "INVALID_ACTION");
    let v = action(&s.app, json!({"action": "nosuch.thing"})).await;
    assert_error(&v, "INVALID_ACTION");
    let v = action(
        &s.app,
        json!({"action": "database.fly", "collectionName": "c"}),
    )
    .await;
    assert_error(&v, "INVALID_ACTION");
    // Bad EJSON inside a database argument.
    action(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "c"}),
    )
    .await;
    let v = action(
        &s.app,
        json!({"action": "database.getDocument", "collectionName": "c", "queryType": "WHERE", "query": "{\"a\":{\"$numberInt\":\"x\"}}"}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM");
    // The server is still up and serving.
    let v = action(
        &s.app,
        json!({"action": "database.calculateDocument", "collectionName": "c", "queryType": "WHERE"}),
    )
    .await;
    assert_eq!(v["data"]["total"], 0, "{v}");
}

#[tokio::test]
async fn oversized_body_is_rejected_in_the_envelope() {
    let s = shim_with(1 << 20, 4096).await;
    let big = json!({"action": "database.insertDocument", "collectionName": "c", "data": ["x".repeat(10_000)]});
    let r = post(&s.app, "/admin", big.to_string()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_error(&r.json(), "INVALID_PARAM");
    let v = action(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "c"}),
    )
    .await;
    assert!(v.get("code").is_none(), "{v}");
}

#[tokio::test]
async fn any_path_and_absolute_form_reach_the_action_protocol() {
    let s = shim().await;
    for (i, path) in [
        "/admin?env=e&seqId=1",
        "/",
        "/some/prefix/admin",
        "http://tcb-admin.tencentyun.com/admin?&eventId=1&seqId=2",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"action": "database.addCollection", "collectionName": format!("c{i}")})
            .to_string();
        let r = post(&s.app, path, body).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        let v = r.json();
        assert!(v["data"].is_object(), "{path}: {v}");
    }
    let r = get(&s.app, "/", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("env test-env"), "{}", r.text());
    let r = get(&s.app, "/admin", &[]).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_error(&r.json(), "INVALID_PARAM");
}

#[tokio::test]
async fn database_round_trip_and_missing_collection() {
    let s = shim().await;
    let v = action(
        &s.app,
        json!({"action": "database.getDocument", "collectionName": "nope", "queryType": "WHERE", "limit": 100}),
    )
    .await;
    assert_error(&v, "DATABASE_COLLECTION_NOT_EXIST");

    action(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "todos"}),
    )
    .await;
    let v = action(
        &s.app,
        json!({
            "action": "database.insertDocument", "collectionName": "todos",
            "data": ["{\"_id\":\"d1\",\"n\":{\"$numberInt\":\"1\"}}", "{\"n\":{\"$numberInt\":\"2\"}}"]
        }),
    )
    .await;
    let ids = v["data"]["insertedIds"].as_array().expect("insertedIds");
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], "d1");
    let v = action(
        &s.app,
        json!({
            "action": "database.getDocument", "collectionName": "todos", "queryType": "WHERE",
            "query": "{\"n\":{\"$gte\":{\"$numberInt\":\"1\"}}}", "order": "{\"n\":{\"$numberInt\":\"-1\"}}", "limit": 10
        }),
    )
    .await;
    let list = v["data"]["list"].as_array().expect("list");
    assert_eq!(list.len(), 2);
    let first: Value = serde_json::from_str(list[0].as_str().expect("EJSON string")).unwrap();
    assert_eq!(first["n"], json!({"$numberInt": "2"}));
}

#[tokio::test]
async fn client_caller_is_stamped_and_capped() {
    let s = shim().await;
    action(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "notes"}),
    )
    .await;
    let docs: Vec<String> = (0..30)
        .map(|i| format!("{{\"i\":{{\"$numberInt\":\"{i}\"}}}}"))
        .collect();
    let req = Request::post("/client")
        .header("x-wx-openid", "user-a")
        .body(Body::from(
            json!({"action": "database.insertDocument", "collectionName": "notes", "data": docs})
                .to_string(),
        ))
        .unwrap();
    let v = send(&s.app, req).await.json();
    assert_eq!(
        v["data"]["insertedIds"].as_array().map(Vec::len),
        Some(30),
        "{v}"
    );
    let req = Request::post("/client")
        .header("x-wx-openid", "user-a")
        .body(Body::from(
            json!({"action": "database.getDocument", "collectionName": "notes", "queryType": "WHERE", "limit": 100})
                .to_string(),
        ))
        .unwrap();
    let v = send(&s.app, req).await.json();
    let list = v["data"]["list"].as_array().expect("list");
    assert_eq!(list.len(), 20, "client reads are capped at 20");
    let doc: Value = serde_json::from_str(list[0].as_str().unwrap()).unwrap();
    assert_eq!(doc["_openid"], "user-a");
}

// ---- storage, on the local directory (the same cases run on S3 in storage_s3.rs) ----

#[tokio::test]
async fn storage_upload_download_range_etag() {
    storage_cases::upload_download_range_etag(Backend::Local).await;
}

#[tokio::test]
async fn storage_signatures_expiry_and_forgery() {
    storage_cases::signatures_expiry_and_forgery(Backend::Local).await;
}

#[tokio::test]
async fn storage_rejects_traversal() {
    storage_cases::rejects_traversal(Backend::Local).await;
}

#[tokio::test]
async fn storage_upload_limit_and_multipart() {
    storage_cases::upload_limit_and_multipart(Backend::Local).await;
}

#[tokio::test]
async fn client_may_not_delete_others_files() {
    storage_cases::client_may_not_delete_others_files(Backend::Local).await;
}

#[tokio::test]
async fn storage_copy_and_move() {
    storage_cases::copy_and_move(Backend::Local).await;
}

#[tokio::test]
async fn storage_big_files() {
    storage_cases::big_files(Backend::Local).await;
}

#[tokio::test]
async fn storage_seeding_survives_restarts() {
    storage_cases::seeding_survives_restarts(Backend::Local).await;
}

#[tokio::test]
async fn storage_empty_file() {
    storage_cases::empty_file(Backend::Local).await;
}

#[tokio::test]
async fn storage_odd_keys() {
    storage_cases::odd_keys(Backend::Local).await;
}

#[tokio::test]
async fn functions_without_a_functions_dir() {
    let s = shim().await;
    let v = action(
        &s.app,
        json!({"action": "functions.invokeFunction", "function_name": "x", "request_data": "{}"}),
    )
    .await;
    assert_error(&v, "FUNCTIONS_REQUEST_FAIL");
    let v = action(
        &s.app,
        json!({"action": "functions.invokeFunction", "function_name": "x", "request_data": "{bad"}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM");
}

#[tokio::test]
async fn legacy_dialect_round_trip() {
    // The bodies tcb-admin-node 1.23.0 sends (sdk-wire-protocol.md §4.4).
    let s = shim().await;
    action(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "todos"}),
    )
    .await;
    let v = action(
        &s.app,
        json!({
            "collectionName": "todos",
            "data": {"title": "hi", "n": 1, "due": {"$date": 1704164645678i64},
                     "createdAt": {"$date": {"offset": 0}}, "re": {"$regex": "^h", "$options": "i"}},
            "action": "database.addDocument", "envName": "test-env", "timestamp": 1795467544597i64,
            "eventId": "1795467544597_1_71885", "sdk_version": "1.23.0",
            "authorization": "q-sign-algorithm=sha1&q-ak=AKIDfake&q-signature=7aba"
        }),
    )
    .await;
    let id = v["data"]["_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string();
    let v = action(
        &s.app,
        json!({
            "collectionName": "todos", "queryType": "WHERE",
            "query": {"title": {"$regex": "^h", "$options": "i"}, "$and": [{"n": {"$gt": 0}}, {"n": {"$lt": 5}}]},
            "order": [{"field": "n", "direction": "desc"}], "offset": 0, "limit": 10, "projection": {},
            "action": "database.queryDocument"
        }),
    )
    .await;
    let doc = &v["data"]["list"][0];
    assert_eq!(doc["_id"], id.as_str(), "{v}");
    assert_eq!(doc["n"], 1);
    assert_eq!(doc["due"], json!({"$date": 1704164645678i64}));
    assert!(
        doc["createdAt"]["$date"].as_i64().is_some(),
        "serverDate resolved: {doc}"
    );
    let v = action(
        &s.app,
        json!({
            "collectionName": "todos", "data": {"$inc": {"n": 1}, "$set": {"o.p": 1}},
            "query": {"_id": id}, "queryType": "DOC", "multi": false, "merge": true, "upsert": false,
            "action": "database.updateDocument"
        }),
    )
    .await;
    assert_eq!(v["data"]["updated"], 1, "{v}");
    let v = action(
        &s.app,
        json!({"collectionName": "todos", "queryType": "WHERE", "query": {"n": {"$gte": 2}}, "action": "database.countDocument"}),
    )
    .await;
    assert_eq!(v["data"]["total"], 1, "{v}");
    let v = action(
        &s.app,
        json!({"collectionName": "todos", "query": {"_id": id}, "queryType": "DOC", "multi": false, "action": "database.deleteDocument"}),
    )
    .await;
    assert_eq!(v["data"]["deleted"], 1, "{v}");
}

#[tokio::test]
async fn storage_over_a_non_local_object_store() {
    // Any object_store backend works (S3 later); the download path without the local fast path.
    let dir = tempfile::tempdir().unwrap();
    let mut config = ShimConfig::from_project(dir.path()).unwrap();
    config.public_url = Some("http://shim.test".into());
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let store = shim::store::sqlite::SqliteStore::open(config.database_file()).unwrap();
    let db = Arc::new(shim::service::Database::new(Arc::new(store)));
    let storage = shim::storage::Storage::new(
        Arc::new(object_store::memory::InMemory::new()),
        shim::storage::Signer::new([3; 32]),
        "mem-env".into(),
        1 << 20,
    );
    let app = shim::router(Arc::new(AppState::new(config, db, storage, None)));
    let (url, file_id) = upload_url(&app, "m/file.json").await;
    assert_eq!(
        put(&app, &url, b"{\"a\":1}".to_vec()).await.status,
        StatusCode::OK
    );
    let dl = temp_url(&app, &file_id, None).await["tempFileURL"]
        .as_str()
        .unwrap()
        .to_string();
    let r = get(&app, &dl, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, b"{\"a\":1}");
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/json");
    let etag = r.headers[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(
        get(&app, &dl, &[("if-none-match", &etag)]).await.status,
        StatusCode::NOT_MODIFIED
    );
    let r = get(&app, &dl, &[("range", "bytes=1-3")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, b"\"a\"");
    assert_eq!(
        get(&app, &dl, &[("range", "bytes=50-")]).await.status,
        StatusCode::RANGE_NOT_SATISFIABLE
    );
}

/// An in-memory store on which, while `races` is above zero, each conditional fetch of an
/// object's bytes (the one after its metadata) is preceded by an overwrite of the object: an
/// upload racing a download.
#[derive(Debug, Default)]
struct Racing {
    inner: object_store::memory::InMemory,
    races: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Display for Racing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Racing")
    }
}

#[async_trait::async_trait]
impl object_store::ObjectStore for Racing {
    async fn put_opts(
        &self,
        location: &object_store::path::Path,
        payload: object_store::PutPayload,
        opts: object_store::PutOptions,
    ) -> object_store::Result<object_store::PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }
    async fn put_multipart_opts(
        &self,
        location: &object_store::path::Path,
        opts: object_store::PutMultipartOptions,
    ) -> object_store::Result<Box<dyn object_store::MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }
    async fn get_opts(
        &self,
        location: &object_store::path::Path,
        options: object_store::GetOptions,
    ) -> object_store::Result<object_store::GetResult> {
        use std::sync::atomic::Ordering;
        if options.if_match.is_some()
            && self
                .races
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            let n = self.races.load(Ordering::SeqCst);
            let bytes = format!("replaced while read, {n} races left");
            object_store::ObjectStoreExt::put(&self.inner, location, bytes.into()).await?;
        }
        self.inner.get_opts(location, options).await
    }
    fn delete_stream(
        &self,
        locations: futures_util::stream::BoxStream<
            'static,
            object_store::Result<object_store::path::Path>,
        >,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::path::Path>>
    {
        self.inner.delete_stream(locations)
    }
    fn list(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> futures_util::stream::BoxStream<'static, object_store::Result<object_store::ObjectMeta>>
    {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(
        &self,
        prefix: Option<&object_store::path::Path>,
    ) -> object_store::Result<object_store::ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(
        &self,
        from: &object_store::path::Path,
        to: &object_store::path::Path,
        options: object_store::CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}

#[tokio::test]
async fn a_download_racing_an_overwrite_serves_one_version_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ShimConfig::from_project(dir.path()).unwrap();
    config.public_url = Some("http://shim.test".into());
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let store = shim::store::sqlite::SqliteStore::open(config.database_file()).unwrap();
    let db = Arc::new(shim::service::Database::new(Arc::new(store)));
    let racing = Arc::new(Racing::default());
    let storage = shim::storage::Storage::new(
        Arc::clone(&racing) as Arc<dyn object_store::ObjectStore>,
        shim::storage::Signer::new([3; 32]),
        "mem-env".into(),
        1 << 20,
    );
    let app = shim::router(Arc::new(AppState::new(config, db, storage, None)));
    let (url, file_id) = upload_url(&app, "r/file.txt").await;
    assert_eq!(
        put(&app, &url, b"the first version".to_vec()).await.status,
        StatusCode::OK
    );
    let dl = temp_url(&app, &file_id, None).await["tempFileURL"]
        .as_str()
        .unwrap()
        .to_string();

    // One race: the range is read again from the new version, with its ETag and size.
    racing.races.store(1, std::sync::atomic::Ordering::SeqCst);
    let r = get(&app, &dl, &[("range", "bytes=0-7")]).await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, b"replaced");
    let new = b"replaced while read, 0 races left";
    assert_eq!(
        r.headers[header::CONTENT_RANGE],
        format!("bytes 0-7/{}", new.len())
    );
    let whole = get(&app, &dl, &[]).await;
    assert_eq!(whole.body, new);
    assert_eq!(whole.headers[header::ETAG], r.headers[header::ETAG]);

    // Races on every attempt: an error rather than a mix of versions.
    racing.races.store(10, std::sync::atomic::Ordering::SeqCst);
    let r = get(&app, &dl, &[("range", "bytes=0-3")]).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text());
}
