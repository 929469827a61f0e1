//! The HTTP layer in process (router + `tower::ServiceExt::oneshot`): the action envelope,
//! bad input, the client caller, and storage URLs (signatures, Range, ETag, limits, traversal).

mod common;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::http::{Reply, action, assert_error, get, post, send, shim, shim_with};
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

async fn upload_url(app: &Router, path: &str) -> (String, String) {
    let v = action(
        app,
        json!({"action": "storage.getUploadMetadata", "path": path, "method": "put"}),
    )
    .await;
    (
        v["data"]["url"]
            .as_str()
            .unwrap_or_else(|| panic!("{v}"))
            .to_string(),
        v["data"]["fileId"].as_str().unwrap().to_string(),
    )
}

async fn put(app: &Router, url: &str, body: Vec<u8>) -> Reply {
    let path = url.strip_prefix("http://shim.test").unwrap();
    send(app, Request::put(path).body(Body::from(body)).unwrap()).await
}

async fn temp_url(app: &Router, file_id: &str, max_age: Option<i64>) -> Value {
    let mut item = json!({"fileid": file_id});
    if let Some(m) = max_age {
        item["max_age"] = json!(m);
    }
    let v = action(
        app,
        json!({"action": "storage.batchGetDownloadUrl", "file_list": [item]}),
    )
    .await;
    v["data"]["download_list"][0].clone()
}

#[tokio::test]
async fn storage_upload_download_range_etag() {
    let s = shim().await;
    let (url, file_id) = upload_url(&s.app, "dir/a.txt").await;
    assert!(file_id.starts_with("cloud://test-env."), "{file_id}");
    let r = put(&s.app, &url, b"hello world".to_vec()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.body.is_empty());

    let item = temp_url(&s.app, &file_id, Some(120)).await;
    assert_eq!(item["code"], "SUCCESS");
    assert_eq!(item["maxAge"], 120);
    let dl = item["tempFileURL"].as_str().unwrap().to_string();

    let r = get(&s.app, &dl, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, b"hello world");
    assert_eq!(r.headers[header::CONTENT_TYPE], "text/plain");
    let cc = r.headers[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cc.starts_with("private, max-age="), "{cc}");
    let max_age: u64 = cc.rsplit('=').next().unwrap().parse().unwrap();
    assert!((100..=120).contains(&max_age), "{cc}");
    let etag = r.headers[header::ETAG].to_str().unwrap().to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong etag {etag}"
    );

    let r = get(&s.app, &dl, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    let r = get(&s.app, &dl, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(r.status, StatusCode::OK);

    for (range, status, body, content_range) in [
        ("bytes=0-4", 206, &b"hello"[..], Some("bytes 0-4/11")),
        ("bytes=6-", 206, b"world", Some("bytes 6-10/11")),
        ("bytes=-5", 206, b"world", Some("bytes 6-10/11")),
        ("bytes=6-100", 206, b"world", Some("bytes 6-10/11")),
        ("bytes=10-10", 206, b"d", Some("bytes 10-10/11")),
        ("bytes=11-", 416, b"", Some("bytes */11")),
        ("bytes=-0", 416, b"", Some("bytes */11")),
        ("bytes=0-1,3-4", 200, b"hello world", None),
        ("lines=1-2", 200, b"hello world", None),
    ] {
        let r = get(&s.app, &dl, &[("range", range)]).await;
        assert_eq!(r.status.as_u16(), status, "{range}");
        if status != 416 {
            assert_eq!(r.body, body, "{range}");
        } else {
            assert!(r.text().contains("<Code>InvalidRange</Code>"), "{range}");
        }
        assert_eq!(
            r.headers
                .get(header::CONTENT_RANGE)
                .map(|v| v.to_str().unwrap()),
            content_range,
            "{range}"
        );
    }

    // HEAD: headers, no body.
    let path = dl.strip_prefix("http://shim.test").unwrap();
    let r = send(&s.app, Request::head(path).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_LENGTH], "11");
    assert!(r.body.is_empty());

    // Overwrite on the same key changes content and ETag.
    let (url2, _) = upload_url(&s.app, "dir/a.txt").await;
    assert_eq!(
        put(&s.app, &url2, b"second".to_vec()).await.status,
        StatusCode::OK
    );
    let r = get(&s.app, &dl, &[]).await;
    assert_eq!(r.body, b"second");
    assert_ne!(r.headers[header::ETAG].to_str().unwrap(), etag);

    // Delete, then the file is gone everywhere.
    let v = action(
        &s.app,
        json!({"action": "storage.batchDeleteFile", "fileid_list": [file_id]}),
    )
    .await;
    assert_eq!(v["data"]["delete_list"][0]["code"], "SUCCESS", "{v}");
    let r = get(&s.app, &dl, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("<Code>NoSuchKey</Code>"));
    assert_eq!(
        temp_url(&s.app, &file_id, None).await["code"],
        "STORAGE_FILE_NONEXIST"
    );
    let v = action(
        &s.app,
        json!({"action": "storage.batchDeleteFile", "fileid_list": [file_id]}),
    )
    .await;
    assert_eq!(v["data"]["delete_list"][0]["code"], "STORAGE_FILE_NONEXIST");
}

#[tokio::test]
async fn storage_signatures_expiry_and_forgery() {
    let s = shim().await;
    let seeded = "cloud://test-env.7465-test-env-1250000000/img/seed.txt";
    let item = temp_url(&s.app, seeded, Some(60)).await;
    let dl = item["tempFileURL"].as_str().unwrap().to_string();
    assert_eq!(get(&s.app, &dl, &[]).await.body, b"0123456789");

    // Forged signature, changed expiry, another key with the same signature, no signature.
    let forged = regex_replace(&dl, "sign=", 32, &"0".repeat(32));
    assert_eq!(
        get(&s.app, &forged, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let t: u64 = dl.rsplit("t=").next().unwrap().parse().unwrap();
    let extended = dl.replace(&format!("t={t}"), &format!("t={}", t + 1000));
    let r = get(&s.app, &extended, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("<Code>AccessDenied</Code>"));
    let other = dl.replace("img/seed.txt", "img/other.txt");
    assert_eq!(get(&s.app, &other, &[]).await.status, StatusCode::FORBIDDEN);
    let bare = dl.split('?').next().unwrap().to_string();
    assert_eq!(get(&s.app, &bare, &[]).await.status, StatusCode::FORBIDDEN);

    // maxAge 0: already expired by the time it is used.
    let item = temp_url(&s.app, seeded, Some(0)).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = get(&s.app, item["tempFileURL"].as_str().unwrap(), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("expired"), "{}", r.text());

    // A download signature does not authorize an upload.
    let upload = dl.replace("/storage/file/", "/storage/upload/");
    assert_eq!(
        put(&s.app, &upload, b"x".to_vec()).await.status,
        StatusCode::FORBIDDEN
    );
}

fn regex_replace(s: &str, marker: &str, len: usize, with: &str) -> String {
    let i = s.find(marker).unwrap() + marker.len();
    format!("{}{}{}", &s[..i], with, &s[i + len..])
}

#[tokio::test]
async fn storage_rejects_traversal() {
    let s = shim().await;
    for path in [
        "../escape.txt",
        "a/../../b",
        "/abs.txt",
        "a\\b",
        "a//b",
        "a/./b",
        "",
    ] {
        let v = action(
            &s.app,
            json!({"action": "storage.getUploadMetadata", "path": path}),
        )
        .await;
        assert_error(&v, "INVALID_PARAM");
    }
    for id in [
        "cloud://test-env.bucket/../secret",
        "cloud://test-env.bucket/a/%2e%2e/b",
        "not-a-file-id",
    ] {
        let item = temp_url(&s.app, id, None).await;
        assert_ne!(item["code"], "SUCCESS", "{id}");
    }
    // Raw traversal in a storage URL path: no valid signature can exist, and the key is checked.
    for path in [
        "/storage/file/../storage.secret?sign=00&t=9999999999",
        "/storage/file/%2e%2e/storage.secret?sign=00&t=9999999999",
        "/storage/file/a%00b?sign=00&t=9999999999",
    ] {
        let r = get(&s.app, path, &[]).await;
        assert!(
            r.status == StatusCode::FORBIDDEN
                || r.status == StatusCode::BAD_REQUEST
                || r.status == StatusCode::NOT_FOUND,
            "{path}: {}",
            r.status
        );
        assert!(!r.text().contains("storage.secret") || r.text().contains("<Error>"));
    }
}

#[tokio::test]
async fn storage_upload_limit_and_multipart() {
    let s = shim_with(1000, 1 << 20).await;
    let (url, file_id) = upload_url(&s.app, "big.bin").await;
    let r = put(&s.app, &url, vec![7u8; 1001]).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.text().contains("<Code>EntityTooLarge</Code>"),
        "{}",
        r.text()
    );
    assert_ne!(temp_url(&s.app, &file_id, None).await["code"], "SUCCESS");
    // Chunked (no content-length) over the limit.
    let path = url.strip_prefix("http://shim.test").unwrap().to_string();
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![Ok(vec![1u8; 600]), Ok(vec![2u8; 600])];
    let body = Body::from_stream(futures_util::stream::iter(chunks));
    let r = send(&s.app, Request::put(path.as_str()).body(body).unwrap()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Multipart POST, field `file` (tcb-admin-node's way).
    let boundary = "XyZboundary";
    let mut body = Vec::new();
    for (name, value) in [("key", "big.bin"), ("x-cos-security-token", "t")] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(&[9u8; 500]);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = Request::post(path.as_str())
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    let r = send(&s.app, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let item = temp_url(&s.app, &file_id, None).await;
    let r = get(&s.app, item["tempFileURL"].as_str().unwrap(), &[]).await;
    assert_eq!(r.body, vec![9u8; 500]);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/octet-stream");
}

#[tokio::test]
async fn client_may_not_delete_others_files() {
    let s = shim().await;
    let client = |openid: &'static str, body: Value| {
        Request::post("/client")
            .header("x-wx-openid", openid)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let v = send(
        &s.app,
        client(
            "owner",
            json!({"action": "storage.getUploadMetadata", "path": "mine.txt"}),
        ),
    )
    .await
    .json();
    let url = v["data"]["url"].as_str().unwrap().to_string();
    let file_id = v["data"]["fileId"].as_str().unwrap().to_string();
    assert_eq!(
        put(&s.app, &url, b"x".to_vec()).await.status,
        StatusCode::OK
    );
    let v = send(
        &s.app,
        client(
            "intruder",
            json!({"action": "storage.batchDeleteFile", "fileid_list": [file_id]}),
        ),
    )
    .await
    .json();
    assert_eq!(
        v["data"]["delete_list"][0]["code"], "STORAGE_EXCEED_AUTHORITY",
        "{v}"
    );
    let v = send(
        &s.app,
        client(
            "owner",
            json!({"action": "storage.batchDeleteFile", "fileid_list": [file_id]}),
        ),
    )
    .await
    .json();
    assert_eq!(v["data"]["delete_list"][0]["code"], "SUCCESS", "{v}");
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
