//! Stateless instances: two shims on one PostgreSQL database and one storage location, each
//! with its own data dir. A write through one is read through the other; seeds load once (not
//! per instance, not again at a restart, unless `reseed`); a URL one signed is good at the
//! other (the signing secret is kept with the data).

mod common;

use common::http::{action, get, post};
use common::storage_cases::{put, temp_url, upload_url};
use serde_json::{Value, json};
use shim::{AppState, ShimConfig};
use std::path::Path;
use std::sync::Arc;

struct Instance {
    app: axum::Router,
    _data: tempfile::TempDir,
}

async fn instance(project: &Path, db: &str, storage: &Path, reseed: bool) -> Instance {
    instance_with(project, db, storage, reseed, None).await
}

async fn instance_with(
    project: &Path,
    db: &str,
    storage: &Path,
    reseed: bool,
    sign_in: Option<shim::config::SignIn>,
) -> Instance {
    let data = tempfile::tempdir().unwrap();
    let mut config = ShimConfig::from_project(project).unwrap();
    config.env_id = "test-env".into();
    config.public_url = Some("http://shim.test".into());
    config.data_dir = data.path().to_path_buf();
    config.database_url = Some(db.to_string());
    config.storage_url = Some(storage.display().to_string());
    config.reseed = reseed;
    if sign_in.is_some() {
        config.admin_token = Some("AKIDinstances".into());
        config.admin_key = Some("instances-key".into());
        config.appid = common::wechat::APPID.into();
    }
    config.sign_in = sign_in;
    let state = AppState::open(config).await.unwrap();
    Instance {
        app: shim::router(Arc::clone(&state)),
        _data: data,
    }
}

async fn book_title(app: &axum::Router, id: &str) -> String {
    let v = action(
        app,
        json!({
            "action": "database.getDocument", "collectionName": "books", "queryType": "DOC",
            "query": {"_id": id}
        }),
    )
    .await;
    let list = v["data"]["list"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"));
    let doc: Value = serde_json::from_str(list[0].as_str().unwrap()).unwrap();
    doc["title"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_database_and_one_storage() {
    let Some(db) = common::pg::fresh_url().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    common::copy_dir(&common::repo_root().join("shim/tests/project"), &project);
    let storage = tmp.path().join("shared-storage");
    let seeded = "Dream of the Red Chamber";

    let a = instance(&project, &db, &storage, false).await;
    assert_eq!(book_title(&a.app, "book-1").await, seeded);
    // The app changes a seeded record and writes a new one through A.
    let v = action(
        &a.app,
        json!({
            "collectionName": "books", "data": {"$set": {"title": "红楼梦"}},
            "query": {"_id": "book-1"}, "queryType": "DOC", "multi": false, "merge": true,
            "upsert": false, "action": "database.updateDocument"
        }),
    )
    .await;
    assert_eq!(v["data"]["updated"], 1, "{v}");
    action(
        &a.app,
        json!({"action": "database.addCollection", "collectionName": "orders"}),
    )
    .await;
    let v = action(
        &a.app,
        json!({
            "action": "database.insertDocument", "collectionName": "orders",
            "data": ["{\"_id\":\"o1\",\"total\":{\"$numberInt\":\"42\"}}"]
        }),
    )
    .await;
    assert_eq!(v["data"]["insertedIds"][0], "o1", "{v}");

    // B starts later, on the same database: it sees both, and its start did not put the
    // seed record back.
    let b = instance(&project, &db, &storage, false).await;
    assert_eq!(book_title(&b.app, "book-1").await, "红楼梦");
    assert_eq!(book_title(&a.app, "book-1").await, "红楼梦");
    let v = action(
        &b.app,
        json!({"action": "database.countDocument", "collectionName": "orders", "queryType": "WHERE"}),
    )
    .await;
    assert_eq!(v["data"]["total"], 1, "{v}");

    // A file uploaded through B, its temp URL signed by B, downloaded through A.
    let (url, file_id) = upload_url(&b.app, "shared/report.txt").await;
    let r = put(&b.app, &url, b"from instance b".to_vec()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let item = temp_url(&b.app, &file_id, Some(60)).await;
    let r = get(&a.app, item["tempFileURL"].as_str().unwrap(), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.body, b"from instance b");

    // A restart (a new data dir even) keeps the app's change; `reseed` puts the file back.
    drop(a);
    let a = instance(&project, &db, &storage, false).await;
    assert_eq!(book_title(&a.app, "book-1").await, "红楼梦");
    drop(a);
    let a = instance(&project, &db, &storage, true).await;
    assert_eq!(book_title(&a.app, "book-1").await, seeded);
    assert_eq!(book_title(&b.app, "book-1").await, seeded);
}

/// In sign-in mode a session token one instance issued is good at the other (the session
/// secret is kept in the shared database), and a second instance does not replace it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_one_instance_is_good_at_the_other() {
    let Some(db) = common::pg::fresh_url().await else {
        return;
    };
    let wechat = common::wechat::fake_wechat().await;
    let sign_in = shim::config::SignIn {
        secret: common::wechat::SECRET.into(),
        code2session_url: wechat.url.clone(),
        session_ttl: std::time::Duration::from_secs(600),
    };
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    common::copy_dir(&common::repo_root().join("shim/tests/project"), &project);
    let storage = tmp.path().join("shared-storage");
    let a = instance_with(&project, &db, &storage, false, Some(sign_in.clone())).await;
    let b = instance_with(&project, &db, &storage, false, Some(sign_in)).await;
    let r = post(
        &a.app,
        "/client/signin",
        json!({"code": "code-alice"}).to_string(),
    )
    .await;
    let token = r.json()["data"]["token"].as_str().unwrap().to_string();
    let count = json!({"action": "database.calculateDocument", "collectionName": "books",
        "queryType": "WHERE", "query": "{}"})
    .to_string();
    for app in [&a.app, &b.app] {
        let req = axum::http::Request::post("/client")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::from(count.clone()))
            .unwrap();
        let r = common::http::send(app, req).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.json()["data"]["total"].is_u64(), "{}", r.text());
    }
}
