//! Issue 12 hardening, through the in-process router: storage keys a file system cannot hold,
//! a chosen `_id` that would reveal a hidden document, transactions that block writes.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::http::{Reply, action, assert_error, send, shim};
use serde_json::{Value, json};

// ---- item 8: storage keys ----

async fn upload_metadata(app: &Router, path: &str) -> Value {
    action(
        app,
        json!({"action": "storage.getUploadMetadata", "path": path, "method": "put"}),
    )
    .await
}

async fn put(app: &Router, url: &str, body: &[u8]) -> Reply {
    let path = url.strip_prefix("http://shim.test").unwrap();
    send(
        app,
        Request::put(path).body(Body::from(body.to_vec())).unwrap(),
    )
    .await
}

/// Upload `body` under `path` through the metadata action and the signed URL.
async fn upload(app: &Router, path: &str, body: &[u8]) -> String {
    let v = upload_metadata(app, path).await;
    let url = v["data"]["url"].as_str().unwrap_or_else(|| panic!("{v}"));
    let r = put(app, url, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    v["data"]["fileId"].as_str().unwrap().to_string()
}

/// The bytes of `file_id`, through a temporary URL.
async fn download(app: &Router, file_id: &str) -> Vec<u8> {
    let v = action(
        app,
        json!({"action": "storage.batchGetDownloadUrl", "file_list": [{"fileid": file_id}]}),
    )
    .await;
    let url = v["data"]["download_list"][0]["tempFileURL"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string();
    let path = url.strip_prefix("http://shim.test").unwrap();
    let r = send(app, Request::get(path).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    r.body
}

#[tokio::test]
async fn storage_refuses_a_file_beside_a_folder_of_the_same_name() {
    let s = shim().await;
    let ab = upload(&s.app, "a/b.txt", b"under a").await;
    // `a/b.txt` exists: `a/b.txt` cannot also be a folder, nor `a` a file.
    for path in ["a", "a/b.txt/c"] {
        let v = upload_metadata(&s.app, path).await;
        assert_error(&v, "INVALID_PARAM");
        let m = v["message"].as_str().unwrap();
        assert!(m.contains("file and a folder"), "{m}");
        assert!(!m.contains(".migrate"), "no host path: {m}");
    }
    assert_eq!(download(&s.app, &ab).await, b"under a");
    // A sibling is still fine.
    let sib = upload(&s.app, "a/c.txt", b"sibling").await;
    assert_eq!(download(&s.app, &sib).await, b"sibling");

    // At the upload itself: a URL handed out before the conflicting file appeared.
    let v = upload_metadata(&s.app, "x/y.txt").await;
    let late_url = v["data"]["url"].as_str().unwrap().to_string();
    let x = upload(&s.app, "x", b"x is a file").await;
    let r = put(&s.app, &late_url, b"too late").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(
        r.text().contains("<Code>InvalidArgument</Code>"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("file and a folder"), "{}", r.text());
    assert_eq!(download(&s.app, &x).await, b"x is a file");

    // A copy onto a conflicting destination fails as that item, not the whole request.
    let v = action(
        &s.app,
        json!({"action": "storage.batchCopyFile", "file_list": [
            {"src_path": x, "dst_path": "a", "overwrite": true}
        ]}),
    )
    .await;
    assert_eq!(v["data"]["copy_list"][0]["code"], "INVALID_PARAM", "{v}");
    assert_eq!(download(&s.app, &ab).await, b"under a");
}

#[tokio::test]
async fn storage_refuses_a_path_component_too_long_for_a_file_name() {
    let s = shim().await;
    let kept = upload(&s.app, "long/keep.txt", b"kept").await;
    let too_long = [
        format!("long/{}.txt", "n".repeat(300)),
        // 100 characters, 300 bytes of UTF-8, 900 bytes once percent-encoded on disk.
        format!("long/{}", "图".repeat(100)),
    ];
    for path in &too_long {
        let v = upload_metadata(&s.app, path).await;
        assert_error(&v, "INVALID_PARAM");
        let m = v["message"].as_str().unwrap();
        assert!(m.contains("247 bytes"), "{m}");
    }
    assert_eq!(download(&s.app, &kept).await, b"kept");
    // Just within the limit: accepted and served.
    let fits = format!("long/{}", "m".repeat(247));
    let id = upload(&s.app, &fits, b"fits").await;
    assert_eq!(download(&s.app, &id).await, b"fits");
    let fits = format!("long/{}", "图".repeat(27));
    let id = upload(&s.app, &fits, b"fits too").await;
    assert_eq!(download(&s.app, &id).await, b"fits too");
}

// ---- item 11: a chosen `_id` must not reveal a hidden document ----

async fn client(app: &Router, openid: &str, body: Value) -> Value {
    let req = Request::post("/client")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-wx-openid", openid)
        .body(Body::from(body.to_string()))
        .unwrap();
    let r = send(app, req).await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()
}

fn insert(id: &str, note: &str) -> Value {
    json!({"action": "database.insertDocument", "collectionName": "notes",
           "data": [json!({"_id": id, "note": note}).to_string()]})
}

fn get_by_id(id: &str) -> Value {
    json!({"action": "database.getDocument", "collectionName": "notes", "queryType": "DOC",
           "query": json!({"_id": id}).to_string()})
}

fn set_by_id(id: &str, note: &str) -> Value {
    json!({"action": "database.modifyDocument", "collectionName": "notes", "queryType": "DOC",
           "query": json!({"_id": id}).to_string(), "data": json!({"note": note}).to_string(),
           "multi": false, "merge": false, "upsert": true})
}

#[tokio::test]
async fn chosen_id_of_a_hidden_document_is_refused_without_revealing_it() {
    let s = shim().await;
    action(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "notes"}),
    )
    .await;
    // Default preset CREATOR_READ_WRITE: B cannot read A's records.
    let v = client(&s.app, "user-a", insert("id-hidden", "A's secret")).await;
    assert_eq!(v["data"]["insertedIds"][0], "id-hidden", "{v}");
    let v = client(&s.app, "user-b", get_by_id("id-hidden")).await;
    assert_eq!(v["data"]["list"], json!([]), "B cannot see it: {v}");

    // B chooses A's _id.
    let hidden = client(&s.app, "user-b", insert("id-hidden", "B's")).await;
    // B collides with its own record.
    let v = client(&s.app, "user-b", insert("id-own", "B's first")).await;
    assert_eq!(v["data"]["insertedIds"][0], "id-own", "{v}");
    let own = client(&s.app, "user-b", insert("id-own", "B's second")).await;
    // The same answer as for the caller's own record: CloudBase's code, and a message that
    // names only the `_id` the caller sent (nothing of the hidden record, not whose it is).
    assert_error(&hidden, "DATABASE_DUPLICATE_WRITE");
    assert_error(&own, "DATABASE_DUPLICATE_WRITE");
    let m_hidden = hidden["message"].as_str().unwrap();
    let m_own = own["message"].as_str().unwrap();
    assert_eq!(
        m_hidden.replace("id-hidden", "ID"),
        m_own.replace("id-own", "ID")
    );
    for secret in ["user-a", "A's secret", "permission", "another"] {
        assert!(!m_hidden.contains(secret), "{m_hidden}");
    }
    // `doc(id).set()` from B (an upsert under the implicit `_openid` filter) answers the same
    // and does not overwrite A's record.
    let set_hidden = client(&s.app, "user-b", set_by_id("id-hidden", "B's set")).await;
    assert_eq!(set_hidden["code"], hidden["code"], "{set_hidden}");
    assert_eq!(set_hidden["message"], hidden["message"], "{set_hidden}");

    // A's record is intact, still A's, still hidden from B.
    let v = client(&s.app, "user-a", get_by_id("id-hidden")).await;
    let list = v["data"]["list"].as_array().expect("list");
    assert_eq!(list.len(), 1, "{v}");
    let doc: Value = serde_json::from_str(list[0].as_str().unwrap()).unwrap();
    assert_eq!(doc["note"], "A's secret");
    assert_eq!(doc["_openid"], "user-a");
    let v = client(&s.app, "user-b", get_by_id("id-hidden")).await;
    assert_eq!(v["data"]["list"], json!([]), "{v}");
    let v = action(
        &s.app,
        json!({"action": "database.calculateDocument", "collectionName": "notes",
               "query": json!({"_id": "id-hidden"}).to_string()}),
    )
    .await;
    assert_eq!(v["data"]["total"], 1, "{v}");
}

// ---- item 3: transactions must not block everything ----

/// The HTTP layer's database slots are per process: the two transaction tests, each holding
/// write slots for a while, run one at a time so they do not take each other's.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn insert_admin(note: &str) -> Value {
    json!({"action": "database.insertDocument", "collectionName": "t",
           "data": [json!({"note": note}).to_string()]})
}

async fn start_transaction(app: &Router) -> String {
    let v = action(app, json!({"action": "database.startTransaction"})).await;
    v["transactionId"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string()
}

async fn count_t(app: &Router) -> u64 {
    let v = action(
        app,
        json!({"action": "database.calculateDocument", "collectionName": "t", "query": "{}"}),
    )
    .await;
    v["data"]["total"].as_u64().unwrap_or_else(|| panic!("{v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_transaction_stops_blocking_writes_after_the_idle_timeout() {
    let _serial = SERIAL.lock().await;
    let s = shim().await;
    action(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "t"}),
    )
    .await;
    let id = start_transaction(&s.app).await;
    let mut in_txn = insert_admin("in the abandoned transaction");
    in_txn["transactionId"] = json!(id);
    let v = action(&s.app, in_txn).await;
    assert!(v["data"]["insertedIds"].is_array(), "{v}");
    // Nobody commits. A plain write waits for the idle timeout (5 s since the transaction's
    // last operation), then rolls the transaction back itself and goes through.
    let t = std::time::Instant::now();
    let v = action(&s.app, insert_admin("plain")).await;
    let waited = t.elapsed();
    assert!(v["data"]["insertedIds"].is_array(), "{v}");
    assert!(
        waited < std::time::Duration::from_secs(7),
        "plain write waited {waited:?}"
    );
    println!("plain write behind an idle transaction answered after {waited:?}");
    // The abandoned transaction is gone, and so is what it wrote.
    let v = action(
        &s.app,
        json!({"action": "database.commitTransaction", "transactionId": id}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM");
    assert!(
        v["message"].as_str().unwrap().contains("rolled back"),
        "{v}"
    );
    assert_eq!(count_t(&s.app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_writes_behind_a_transaction_gets_fast_busy_answers() {
    let _serial = SERIAL.lock().await;
    let s = shim().await;
    action(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "t"}),
    )
    .await;
    let id = start_transaction(&s.app).await;
    let burst_start = std::time::Instant::now();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let app = s.app.clone();
        tasks.push(tokio::spawn(async move {
            let t = std::time::Instant::now();
            let v = action(&app, insert_admin(&format!("burst {i}"))).await;
            (v, t.elapsed())
        }));
    }
    // The server keeps answering meanwhile.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let t = std::time::Instant::now();
    let r = send(&s.app, Request::get("/").body(Body::empty()).unwrap()).await;
    let root_took = t.elapsed();
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        root_took < std::time::Duration::from_millis(500),
        "GET / took {root_took:?}"
    );
    // The transaction is still usable and commits.
    let mut in_txn = insert_admin("committed");
    in_txn["transactionId"] = json!(id);
    let v = action(&s.app, in_txn).await;
    assert!(v["data"]["insertedIds"].is_array(), "{v}");
    let v = action(
        &s.app,
        json!({"action": "database.commitTransaction", "transactionId": id}),
    )
    .await;
    assert!(v.get("code").is_none(), "{v}");

    let (mut ok, mut busy, mut slowest_busy) = (0, 0, std::time::Duration::ZERO);
    for t in tasks {
        let (v, took) = t.await.unwrap();
        if v["data"]["insertedIds"].is_array() {
            ok += 1;
        } else {
            assert_error(&v, "DATABASE_TRANSACTION_CONFLICT");
            busy += 1;
            slowest_busy = slowest_busy.max(took);
        }
    }
    println!(
        "200 writes behind a transaction: {ok} waited and went through, {busy} busy (slowest busy answer {slowest_busy:?}); GET / {root_took:?}; all done in {:?}",
        burst_start.elapsed()
    );
    assert_eq!(ok + busy, 200);
    assert!(busy >= 190, "{busy} busy");
    assert!(
        slowest_busy < std::time::Duration::from_secs(1),
        "slowest busy answer {slowest_busy:?}"
    );
    assert_eq!(count_t(&s.app).await, 1 + ok as u64);
}
