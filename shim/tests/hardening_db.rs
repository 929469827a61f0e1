//! Issue 12 items 1 and 2 through the HTTP endpoints (in-process router): deep dotted paths and
//! deep documents are refused before any work, too-deep documents already stored are skipped,
//! and queries and pipelines run within budgets.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shim::{AppState, ShimConfig};
use tower::ServiceExt;

struct Shim {
    app: Router,
    state: Arc<AppState>,
    dir: tempfile::TempDir,
}

async fn open_at(dir: tempfile::TempDir) -> Shim {
    let mut config = ShimConfig::from_project(dir.path()).unwrap();
    config.env_id = "test-env".into();
    config.public_url = Some("http://shim.test".into());
    config.max_body = 8 << 20;
    let state = AppState::open(config).await.unwrap();
    Shim {
        app: shim::router(Arc::clone(&state)),
        state,
        dir,
    }
}

async fn shim() -> Shim {
    open_at(tempfile::tempdir().unwrap()).await
}

/// Close the shim and open it again on the same files (a restart).
async fn restart(s: Shim) -> Shim {
    let Shim { app, state, dir } = s;
    drop(app);
    drop(state);
    open_at(dir).await
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, v)
}

/// One `/admin` action; the reply envelope.
async fn admin(app: &Router, body: Value) -> Value {
    let req = Request::post("/admin?env=test-env&seqId=1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, v) = send(app, req).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

/// One `/client` action as user `openid`.
async fn client(app: &Router, openid: &str, body: Value) -> Value {
    let req = Request::post("/client")
        .header("x-wx-openid", openid)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (status, v) = send(app, req).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v
}

fn assert_error(v: &Value, code: &str, needle: &str) {
    assert_eq!(v["code"], code, "{v}");
    let m = v["message"].as_str().unwrap_or_default();
    assert!(m.contains(needle), "message should mention {needle:?}: {v}");
    assert!(v.get("data").is_none(), "{v}");
}

fn assert_ok(v: &Value) {
    assert!(
        v.get("code").is_none_or(|c| c.is_null() || c == ""),
        "expected success: {v}"
    );
}

fn path(parts: usize) -> String {
    vec!["a"; parts].join(".")
}

/// `{"a":{"a":...{"x":1}}}`, `levels` objects deep.
fn nested_json(levels: usize) -> String {
    let mut s = String::new();
    for _ in 1..levels {
        s.push_str("{\"a\":");
    }
    s.push_str("{\"x\":1}");
    for _ in 1..levels {
        s.push('}');
    }
    s
}

async fn create(app: &Router, coll: &str) {
    let v = admin(
        app,
        json!({"action": "database.addCollection", "collectionName": coll}),
    )
    .await;
    assert_ok(&v);
}

async fn insert(app: &Router, coll: &str, docs: &[Value]) -> Value {
    let data: Vec<String> = docs.iter().map(Value::to_string).collect();
    admin(
        app,
        json!({"action": "database.insertDocument", "collectionName": coll, "data": data}),
    )
    .await
}

/// The documents of a `getDocument` (parsed from their EJSON strings).
async fn get(app: &Router, coll: &str, query: Value) -> Vec<Value> {
    let v = admin(
        app,
        json!({"action": "database.getDocument", "collectionName": coll, "queryType": "WHERE",
               "query": query.to_string(), "limit": 1000}),
    )
    .await;
    list(&v)
}

fn list(v: &Value) -> Vec<Value> {
    v["data"]["list"]
        .as_array()
        .unwrap_or_else(|| panic!("no list: {v}"))
        .iter()
        .map(|s| serde_json::from_str(s.as_str().unwrap()).unwrap())
        .collect()
}

async fn aggregate(app: &Router, coll: &str, stages: &[(&str, Value)]) -> Value {
    let stages: Vec<Value> = stages
        .iter()
        .map(|(k, v)| json!({"stageKey": k, "stageValue": v.to_string()}))
        .collect();
    admin(
        app,
        json!({"action": "database.aggregateDocuments", "collectionName": coll, "stages": stages}),
    )
    .await
}

async fn modify(app: &Router, coll: &str, query: Value, data: Value) -> Value {
    admin(
        app,
        json!({"action": "database.modifyDocument", "collectionName": coll,
               "query": query.to_string(), "data": data.to_string(), "multi": true}),
    )
    .await
}

/// A get by `_id` still answers (the server survived).
async fn still_answers(app: &Router, coll: &str, id: &str) {
    let docs = get(app, coll, json!({"_id": id})).await;
    assert_eq!(docs.len(), 1, "the server should still answer: {docs:?}");
}

// ---- item 1: deep paths and deep documents ----

#[tokio::test]
async fn add_fields_with_a_5000_part_path_is_refused() {
    let s = shim().await;
    create(&s.app, "c").await;
    insert(&s.app, "c", &[json!({"_id": "one", "n": 1})]).await;
    let v = aggregate(&s.app, "c", &[("$addFields", json!({ path(5000): 1 }))]).await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    // The same through /client, from a page.
    let v = client(
        &s.app,
        "u1",
        json!({"action": "database.aggregateDocuments", "collectionName": "c",
               "stages": [{"stageKey": "$addFields", "stageValue": json!({ path(5000): 1 }).to_string()}]}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    // A field path expression and a $lookup `as` path, both 5000 parts.
    let v = aggregate(
        &s.app,
        "c",
        &[("$project", json!({"x": format!("${}", path(5000))}))],
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    let v = aggregate(
        &s.app,
        "c",
        &[(
            "$lookup",
            json!({"from": "c", "localField": "n", "foreignField": "n", "as": path(5000)}),
        )],
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    // Repeated $addFields of 60 parts each would nest 120 deep: refused, not built.
    let step = json!({ path(60): "$$ROOT" });
    let v = aggregate(
        &s.app,
        "c",
        &[("$addFields", step.clone()), ("$addFields", step)],
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "100 levels");
    // A path within the limit still works.
    let v = aggregate(&s.app, "c", &[("$addFields", json!({ path(50): 1 }))]).await;
    assert_ok(&v);
    assert_eq!(list(&v).len(), 1);
    still_answers(&s.app, "c", "one").await;
}

#[tokio::test]
async fn set_with_thousands_of_parts_is_refused_and_nothing_is_stored() {
    let s = shim().await;
    create(&s.app, "c").await;
    insert(&s.app, "c", &[json!({"_id": "one", "n": 1})]).await;
    for parts in [4000, 2000, 101] {
        let v = modify(
            &s.app,
            "c",
            json!({"_id": "one"}),
            json!({"$set": { path(parts): 1 }}),
        )
        .await;
        assert_error(&v, "INVALID_PARAM", "more than 100 parts");
        // Plain fields of update data become $set too.
        let v = modify(
            &s.app,
            "c",
            json!({"_id": "one"}),
            json!({ path(parts): 1 }),
        )
        .await;
        assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    }
    // A $set of 60 parts whose value nests 50 more: the result would be 110 levels deep.
    let v = modify(
        &s.app,
        "c",
        json!({"_id": "one"}),
        json!({"$set": { path(60): 1 }}),
    )
    .await;
    assert_ok(&v);
    let v = modify(
        &s.app,
        "c",
        json!({"_id": "one"}),
        json!({"$set": { path(60): serde_json::from_str::<Value>(&nested_json(50)).unwrap() }}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "100 levels");
    // Nothing of the refused updates was stored, and the document reads back after a restart.
    let s = restart(s).await;
    let docs = get(&s.app, "c", json!({})).await;
    assert_eq!(docs.len(), 1);
    let mut depth = 0;
    let mut cur = &docs[0];
    while let Some(next) = cur.get("a") {
        depth += 1;
        cur = next;
    }
    assert_eq!(depth, 60, "only the accepted $set was stored");
    assert_eq!(docs[0]["n"], json!({"$numberInt": "1"}));
}

#[tokio::test]
async fn too_deep_documents_are_refused_on_insert() {
    let s = shim().await;
    create(&s.app, "c").await;
    for levels in [150, 110, 101] {
        let data = vec![nested_json(levels)];
        let v = admin(
            &s.app,
            json!({"action": "database.insertDocument", "collectionName": "c", "data": data}),
        )
        .await;
        assert_eq!(v["code"], "INVALID_PARAM", "{levels}: {v}");
        // A set (replace) of such a document is refused too.
        let v = admin(
            &s.app,
            json!({"action": "database.modifyDocument", "collectionName": "c",
                   "query": "{\"_id\":\"x\"}", "data": nested_json(levels), "merge": false, "upsert": true}),
        )
        .await;
        assert_eq!(v["code"], "INVALID_PARAM", "{levels}: {v}");
    }
    let v = insert(
        &s.app,
        "c",
        &[serde_json::from_str(&nested_json(110)).unwrap()],
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "100 levels");
    assert_eq!(get(&s.app, "c", json!({})).await.len(), 0, "nothing stored");
    // 100 levels is the limit, and is accepted.
    let v = insert(
        &s.app,
        "c",
        &[serde_json::from_str(&nested_json(100)).unwrap()],
    )
    .await;
    assert_ok(&v);
    assert_eq!(get(&s.app, "c", json!({})).await.len(), 1);
}

#[tokio::test]
async fn query_projection_and_sort_paths_of_5000_parts_are_refused() {
    let s = shim().await;
    create(&s.app, "c").await;
    insert(&s.app, "c", &[json!({"_id": "one", "n": 1})]).await;
    let long = path(5000);
    let v = admin(
        &s.app,
        json!({"action": "database.getDocument", "collectionName": "c", "queryType": "WHERE",
               "query": json!({ &long: 1 }).to_string()}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    let v = admin(
        &s.app,
        json!({"action": "database.getDocument", "collectionName": "c", "queryType": "WHERE",
               "query": "{}", "projection": json!({ &long: 1 }).to_string()}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    let v = admin(
        &s.app,
        json!({"action": "database.getDocument", "collectionName": "c", "queryType": "WHERE",
               "query": "{}", "order": json!({ &long: 1 }).to_string()}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    let v = admin(
        &s.app,
        json!({"action": "database.calculateDocument", "collectionName": "c",
               "query": json!({ &long: {"$exists": true} }).to_string()}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    let v = admin(
        &s.app,
        json!({"action": "database.removeDocument", "collectionName": "c",
               "query": json!({"$or": [{ &long: 1 }]}).to_string()}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    let v = client(
        &s.app,
        "u1",
        json!({"action": "database.getDocument", "collectionName": "c", "queryType": "WHERE",
               "query": json!({ &long: 1 }).to_string()}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "more than 100 parts");
    still_answers(&s.app, "c", "one").await;
}

/// The stored body of a document nested `levels` deep under `"a"`, with `_id`, as BSON bytes,
/// built without recursion (as an older version could have written it).
fn deep_bson(id: &str, levels: usize) -> Vec<u8> {
    fn doc(elements: &[u8]) -> Vec<u8> {
        let mut out = ((elements.len() + 5) as i32).to_le_bytes().to_vec();
        out.extend_from_slice(elements);
        out.push(0);
        out
    }
    // innermost: {"x": int32 1}
    let mut inner = doc(&[0x10, b'x', 0, 1, 0, 0, 0]);
    for _ in 1..levels {
        let mut el = vec![0x03, b'a', 0];
        el.extend_from_slice(&inner);
        inner = doc(&el);
    }
    // top level: {_id: id, tag: "deep", a: inner}
    let mut el = vec![0x02];
    el.extend_from_slice(b"_id\0");
    el.extend_from_slice(&((id.len() + 1) as i32).to_le_bytes());
    el.extend_from_slice(id.as_bytes());
    el.push(0);
    el.push(0x02);
    el.extend_from_slice(b"tag\0");
    el.extend_from_slice(&5i32.to_le_bytes());
    el.extend_from_slice(b"deep\0");
    el.push(0x03);
    el.extend_from_slice(b"a\0");
    el.extend_from_slice(&inner);
    doc(&el)
}

/// Replace the stored body of the document whose `_id` is `id` with `body`, in the SQLite
/// file, behind the shim's back.
fn plant(db_file: &Path, id: &str, body: &[u8]) {
    let c = rusqlite::Connection::open(db_file).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    let rows: Vec<(i64, Vec<u8>)> = c
        .prepare("SELECT seq, body FROM docs")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let seq = rows
        .iter()
        .find(|(_, b)| {
            bson::RawDocument::from_bytes(b)
                .ok()
                .and_then(|d| d.get_str("_id").ok())
                == Some(id)
        })
        .map(|r| r.0)
        .expect("row to plant into");
    c.execute(
        "UPDATE docs SET body = ?1 WHERE seq = ?2",
        rusqlite::params![body, seq],
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_deep_stored_documents_are_skipped_not_fatal() {
    let s = shim().await;
    create(&s.app, "c").await;
    let v = admin(
        &s.app,
        json!({"action": "database.addCollection", "collectionName": "other"}),
    )
    .await;
    assert_ok(&v);
    insert(
        &s.app,
        "c",
        &[
            json!({"_id": "ok1", "tag": "ok", "k": 1}),
            json!({"_id": "deep", "tag": "deep", "k": 1}),
            json!({"_id": "ok2", "tag": "ok", "k": 1}),
        ],
    )
    .await;
    insert(&s.app, "other", &[json!({"_id": "o", "k": 1})]).await;
    let db_file = s.state.config.database_file();
    // 5000 levels: decoding this body recursively overflows the stack.
    plant(&db_file, "deep", &deep_bson("deep", 5000));
    // After a restart too: the planted row is read on every path, and skipped.
    let s = restart(s).await;
    let ids = |docs: &[Value]| -> Vec<String> {
        docs.iter()
            .map(|d| d["_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&get(&s.app, "c", json!({})).await), ["ok1", "ok2"]);
    assert_eq!(
        ids(&get(&s.app, "c", json!({"k": 1})).await),
        ["ok1", "ok2"]
    );
    assert!(get(&s.app, "c", json!({"_id": "deep"})).await.is_empty());
    let v = admin(
        &s.app,
        json!({"action": "database.calculateDocument", "collectionName": "c", "query": "{\"k\":1}"}),
    )
    .await;
    assert_eq!(v["data"]["total"], 2, "{v}");
    let v = aggregate(
        &s.app,
        "c",
        &[("$match", json!({})), ("$sort", json!({"_id": 1}))],
    )
    .await;
    assert_eq!(ids(&list(&v)), ["ok1", "ok2"]);
    // $lookup reads the other collection through the same guard.
    let v = aggregate(
        &s.app,
        "other",
        &[(
            "$lookup",
            json!({"from": "c", "localField": "k", "foreignField": "k", "as": "m"}),
        )],
    )
    .await;
    assert_eq!(list(&v)[0]["m"].as_array().map(Vec::len), Some(2), "{v}");
    // An index built over the collection skips it too.
    assert!(s.state.db.store().ensure_index("c", "k").unwrap());
    assert_eq!(
        ids(&get(&s.app, "c", json!({"k": 1})).await),
        ["ok1", "ok2"]
    );
    // Updates and removals skip it: the others are changed, the deep row stays.
    let v = modify(&s.app, "c", json!({}), json!({"$set": {"seen": true}})).await;
    assert_eq!(v["data"]["updated"], 2, "{v}");
    let v = admin(
        &s.app,
        json!({"action": "database.removeDocument", "collectionName": "c", "query": "{}", "multi": true}),
    )
    .await;
    assert_eq!(v["data"]["deleted"], 2, "{v}");
    assert!(get(&s.app, "c", json!({})).await.is_empty());
    let c = rusqlite::Connection::open(&db_file).unwrap();
    let left: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM docs d JOIN collections c ON c.cid = d.cid WHERE c.name = 'c'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 1, "the too-deep row is left alone, not deleted");
    still_answers(&s.app, "other", "o").await;
}

// ---- item 2: budgets ----

/// Insert `n` documents made by `make`, in batches of `batch`.
async fn fill(app: &Router, coll: &str, n: usize, batch: usize, make: impl Fn(usize) -> Value) {
    let mut i = 0;
    while i < n {
        let docs: Vec<Value> = (i..(i + batch).min(n)).map(&make).collect();
        let v = insert(app, coll, &docs).await;
        assert_ok(&v);
        i += batch;
    }
}

fn regexes(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"$regularExpression": {"pattern": format!("^nomatch{i}x"), "options": ""}}))
        .collect()
}

#[tokio::test]
async fn in_of_20000_regexes_is_refused_fast() {
    let s = shim().await;
    create(&s.app, "c").await;
    fill(
        &s.app,
        "c",
        1000,
        500,
        |i| json!({"_id": format!("d{i}"), "s": format!("item-{i}")}),
    )
    .await;
    let t = Instant::now();
    let v = admin(
        &s.app,
        json!({"action": "database.getDocument", "collectionName": "c", "queryType": "WHERE",
               "query": json!({"s": {"$in": regexes(20_000)}}).to_string()}),
    )
    .await;
    let took = t.elapsed();
    eprintln!(
        "$in of 20,000 regexes over 1,000 docs: {took:?}: {}",
        v["code"]
    );
    assert_error(&v, "INVALID_PARAM", "1000");
    // ~0.2 s when refused up front; the bound only catches running the 20M matches.
    assert!(took < Duration::from_secs(5), "refused fast: {took:?}");
    let v = admin(
        &s.app,
        json!({"action": "database.calculateDocument", "collectionName": "c",
               "query": json!({"s": {"$nin": regexes(1001)}}).to_string()}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM", "1000");
    // 1,000 is allowed.
    let v = admin(
        &s.app,
        json!({"action": "database.calculateDocument", "collectionName": "c",
               "query": json!({"s": {"$nin": regexes(1000)}}).to_string()}),
    )
    .await;
    assert_eq!(v["data"]["total"], 1000, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_unwind_of_a_1000_element_array_hits_the_memory_budget() {
    let s = shim().await;
    create(&s.app, "c").await;
    let arr: Vec<usize> = (0..1000).collect();
    insert(&s.app, "c", &[json!({"_id": "x", "a": arr, "b": arr})]).await;
    let t = Instant::now();
    let v = aggregate(
        &s.app,
        "c",
        &[
            ("$unwind", json!("$a")),
            ("$unwind", json!("$b")),
            ("$count", json!("n")),
        ],
    )
    .await;
    let took = t.elapsed();
    eprintln!("double $unwind of 1,000 x 1,000: {took:?}: {v:.200}");
    assert_error(&v, "DATABASE_REQUEST_FAILED", "memory budget");
    assert!(took < Duration::from_secs(5), "stopped early: {took:?}");
    // A single $unwind of the same document is fine.
    let v = aggregate(
        &s.app,
        "c",
        &[("$unwind", json!("$a")), ("$count", json!("n"))],
    )
    .await;
    assert_eq!(list(&v)[0]["n"], json!({"$numberInt": "1000"}), "{v}");
    still_answers(&s.app, "c", "x").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_push_root_over_a_big_collection_hits_the_document_budget() {
    let s = shim().await;
    create(&s.app, "big").await;
    let filler = "x".repeat(20_000);
    fill(
        &s.app,
        "big",
        1000,
        100,
        |i| json!({"_id": format!("d{i}"), "k": i % 2, "f": filler}),
    )
    .await;
    let t = Instant::now();
    let stages: Vec<Value> = [("$group", json!({"_id": null, "all": {"$push": "$$ROOT"}}))]
        .iter()
        .map(|(k, v)| json!({"stageKey": k, "stageValue": v.to_string()}))
        .collect();
    let req = Request::post("/admin?env=test-env&seqId=1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"action": "database.aggregateDocuments", "collectionName": "big", "stages": stages})
                .to_string(),
        ))
        .unwrap();
    let resp = s.app.clone().oneshot(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    let took = t.elapsed();
    eprintln!(
        "$group $push $$ROOT over 1,000 x 20 KB: {took:?}, reply {} bytes",
        body.len()
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_error(&v, "DATABASE_REQUEST_FAILED", "16 MB");
    assert!(body.len() < 10_000, "no huge reply");
    // Smaller groups are fine.
    let v = aggregate(
        &s.app,
        "big",
        &[
            ("$match", json!({"_id": {"$in": ["d1", "d2", "d3"]}})),
            ("$group", json!({"_id": "$k", "all": {"$push": "$$ROOT"}})),
        ],
    )
    .await;
    assert_eq!(list(&v).len(), 2, "{v:.300}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_by_id_answers_while_slow_queries_run() {
    let s = shim().await;
    create(&s.app, "c").await;
    fill(
        &s.app,
        "c",
        20_000,
        2000,
        |i| json!({"_id": format!("d{i}"), "s": format!("item-{i}-{}", "y".repeat(200))}),
    )
    .await;
    // Slow: every document against 300 regexes, nothing matches (a full scan).
    let slow = json!({"s": {"$in": regexes(300)}}).to_string();
    let t = Instant::now();
    let v = admin(
        &s.app,
        json!({"action": "database.getDocument", "collectionName": "c", "queryType": "WHERE",
               "query": slow}),
    )
    .await;
    let one = t.elapsed();
    eprintln!("one slow query alone: {one:?}: {}", v["code"]);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let app = s.app.clone();
        let q = slow.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            let v = admin(
                &app,
                json!({"action": "database.getDocument", "collectionName": "c",
                       "queryType": "WHERE", "query": q}),
            )
            .await;
            (t.elapsed(), v)
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    let v = admin(
        &s.app,
        json!({"action": "database.getDocument", "collectionName": "c", "queryType": "DOC",
               "query": "{\"_id\":\"d7\"}"}),
    )
    .await;
    let got = t.elapsed();
    assert_eq!(list(&v).len(), 1, "{v:.300}");
    let mut slow_times = Vec::new();
    for t in tasks {
        let (took, v) = t.await.unwrap();
        slow_times.push((took, v["code"].clone()));
    }
    eprintln!("get by id during 6 slow queries: {got:?}; slow ones: {slow_times:?}");
    assert!(got < Duration::from_secs(1), "get by id took {got:?}");
}

/// The time budget, at the store (the default is 10 s; here 200 ms to keep the test short).
#[test]
fn a_scan_past_its_time_budget_stops_with_a_clear_error() {
    use shim::db::limits::Budgets;
    use shim::store::{Find, SqliteStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("db.sqlite"))
        .unwrap()
        .with_budgets(Budgets {
            query_time: Duration::from_millis(200),
            ..Budgets::default()
        });
    store.create_collection("c").unwrap();
    let docs: Vec<bson::Document> = (0..20_000)
        .map(|i| bson::doc! {"s": format!("item-{i}-{}", "y".repeat(200))})
        .collect();
    store.insert("c", docs).unwrap();
    let regs: Vec<bson::Bson> = (0..300)
        .map(|i| {
            bson::Bson::RegularExpression(bson::Regex {
                pattern: format!("^nomatch{i}x").try_into().unwrap(),
                options: String::new().try_into().unwrap(),
            })
        })
        .collect();
    let t = Instant::now();
    let err = store
        .find("c", &Find::filter(bson::doc! {"s": {"$in": regs}}))
        .unwrap_err();
    let took = t.elapsed();
    assert_eq!(err.code(), "DATABASE_REQUEST_FAILED", "{err}");
    assert!(err.message().contains("time budget"), "{err}");
    assert!(
        took < Duration::from_secs(2),
        "stopped at the budget: {took:?}"
    );
    // Cheap work still runs under the same budget.
    assert_eq!(store.count("c", &bson::doc! {}).unwrap(), 20_000);
}
