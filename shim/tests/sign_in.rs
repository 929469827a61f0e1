//! Sign-in mode (`ShimConfig::sign_in`): `wx.login` codes exchanged at a code-to-session
//! endpoint (a fake one on loopback here) for the shim's own session tokens, `/client` acting
//! only for the token's openid, and the four permission presets holding for real users: a
//! table of preset × operation × owner / other user / anonymous, on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::http::{Reply, send};
use common::wechat::{APPID, FakeWeChat, SECRET, fake_wechat};
use serde_json::{Value, json};
use shim::config::SignIn;
use shim::{AppState, ShimConfig};

/// The four presets, one collection each, each holding `d1` created by alice.
const PRESETS: [(&str, &str); 4] = [
    ("c_readonly", "ALL_READ_CREATOR_WRITE"),
    ("c_private", "CREATOR_READ_WRITE"),
    ("c_adminwrite", "ALL_READ_ADMIN_WRITE"),
    ("c_adminonly", "ADMIN_ONLY"),
];

struct SignInShim {
    app: axum::Router,
    state: Arc<AppState>,
    wechat: FakeWeChat,
    _dir: tempfile::TempDir,
}

async fn sign_in_shim(database_url: Option<String>, ttl: Duration) -> SignInShim {
    let wechat = fake_wechat().await;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    let seeds = project.join("cloud/database");
    std::fs::create_dir_all(&seeds).unwrap();
    std::fs::write(
        project.join("project.config.json"),
        format!(r#"{{"appid":"{APPID}"}}"#),
    )
    .unwrap();
    let mut permissions = serde_json::Map::new();
    for (coll, preset) in PRESETS {
        permissions.insert(coll.into(), preset.into());
        std::fs::write(
            seeds.join(format!("{coll}.json")),
            r#"{"_id":"d1","_openid":"o-alice","n":1}"#,
        )
        .unwrap();
    }
    std::fs::write(
        seeds.join("_permissions.json"),
        Value::Object(permissions).to_string(),
    )
    .unwrap();
    // A function reporting who called it, as wx-server-sdk's getWXContext() reads it.
    let whoami = project.join("cloudfunctions/whoami");
    std::fs::create_dir_all(&whoami).unwrap();
    std::fs::write(
        whoami.join("index.js"),
        "exports.main = async () => ({ openid: process.env.WX_OPENID, appid: process.env.WX_APPID })\n",
    )
    .unwrap();
    let mut config = ShimConfig::from_project(project).unwrap();
    config.env_id = "test-env".into();
    config.public_url = Some("http://shim.test".into());
    config.database_url = database_url;
    config.admin_token = Some("AKIDsignintest".into());
    config.admin_key = Some("signin-test-key".into());
    config.sign_in = Some(SignIn {
        secret: SECRET.into(),
        code2session_url: wechat.url.clone(),
        session_ttl: ttl,
    });
    let state = AppState::open(config).await.unwrap();
    SignInShim {
        app: shim::router(Arc::clone(&state)),
        state,
        wechat,
        _dir: dir,
    }
}

async fn client(
    app: &axum::Router,
    token: Option<&str>,
    extra: &[(&str, &str)],
    body: Value,
) -> Reply {
    let mut b = Request::post("/client").header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    send(app, b.body(Body::from(body.to_string())).unwrap()).await
}

async fn sign_in(app: &axum::Router, code: &str) -> Value {
    let req = Request::post("/client/signin")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "code": code }).to_string()))
        .unwrap();
    let r = send(app, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn token(app: &axum::Router, code: &str) -> String {
    let v = sign_in(app, code).await;
    v["data"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {v}"))
        .to_string()
}

/// What an operation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Done; the number is the documents read, counted, inserted, updated or removed.
    Ok(u64),
    /// `DATABASE_PERMISSION_DENIED`.
    Denied,
    /// HTTP 401 `UNAUTHENTICATED`: sign in first.
    SignIn,
}
use Outcome::{Denied, Ok as Done, SignIn as Login};

#[derive(Debug, Clone, Copy)]
enum Op {
    Get,
    Count,
    Insert,
    Update,
    Remove,
}

fn body_of(op: Op, coll: &str) -> Value {
    let doc_d1 = r#"{"_id":"d1"}"#;
    match op {
        Op::Get => json!({"action": "database.getDocument", "collectionName": coll,
            "queryType": "WHERE", "query": "{}"}),
        Op::Count => json!({"action": "database.calculateDocument", "collectionName": coll,
            "queryType": "WHERE", "query": "{}"}),
        Op::Insert => json!({"action": "database.insertDocument", "collectionName": coll,
            "data": [r#"{"n":{"$numberInt":"5"}}"#]}),
        Op::Update => json!({"action": "database.modifyDocument", "collectionName": coll,
            "queryType": "DOC", "query": doc_d1, "data": r#"{"$set":{"n":{"$numberInt":"2"}}}"#,
            "multi": false, "merge": true, "upsert": false}),
        Op::Remove => json!({"action": "database.removeDocument", "collectionName": coll,
            "queryType": "DOC", "query": doc_d1, "multi": false}),
    }
}

fn outcome(op: Op, r: &Reply) -> Outcome {
    let v = r.json();
    if r.status == StatusCode::UNAUTHORIZED {
        assert_eq!(v["code"], "UNAUTHENTICATED", "{v}");
        return Login;
    }
    assert_eq!(r.status, StatusCode::OK, "{v}");
    if let Some(code) = v["code"].as_str() {
        assert_eq!(code, "DATABASE_PERMISSION_DENIED", "{v}");
        return Denied;
    }
    let data = &v["data"];
    Done(match op {
        Op::Get => data["list"].as_array().map_or(0, |l| l.len() as u64),
        Op::Count => data["total"].as_u64().unwrap(),
        Op::Insert => data["insertedIds"].as_array().map_or(0, |l| l.len() as u64),
        Op::Update => data["updated"].as_u64().unwrap(),
        Op::Remove => data["deleted"].as_u64().unwrap(),
    })
}

/// The table: for each preset, each operation as (anonymous, bob: another user, alice: the
/// owner of `d1`), run in that order so the owner's remove comes last.
fn expected(preset: &str, op: Op) -> [Outcome; 3] {
    match (preset, op) {
        // Everyone reads; only the creator writes.
        ("ALL_READ_CREATOR_WRITE", Op::Get | Op::Count) => [Done(1), Done(1), Done(1)],
        ("ALL_READ_CREATOR_WRITE", Op::Insert) => [Login, Done(1), Done(1)],
        ("ALL_READ_CREATOR_WRITE", Op::Update | Op::Remove) => [Login, Done(0), Done(1)],
        // Only the creator reads and writes.
        ("CREATOR_READ_WRITE", Op::Get | Op::Count) => [Login, Done(0), Done(1)],
        ("CREATOR_READ_WRITE", Op::Insert) => [Login, Done(1), Done(1)],
        ("CREATOR_READ_WRITE", Op::Update | Op::Remove) => [Login, Done(0), Done(1)],
        // Everyone reads; no client writes.
        ("ALL_READ_ADMIN_WRITE", Op::Get | Op::Count) => [Done(1), Done(1), Done(1)],
        ("ALL_READ_ADMIN_WRITE", _) => [Login, Denied, Denied],
        // No client access at all.
        ("ADMIN_ONLY", _) => [Login, Denied, Denied],
        _ => unreachable!(),
    }
}

async fn presets_hold_for_real_users(database_url: Option<String>) {
    let shim = sign_in_shim(database_url, Duration::from_secs(3600)).await;
    let app = &shim.app;
    let alice = token(app, "code-alice").await;
    let bob = token(app, "code-bob").await;
    let mut failures = Vec::new();
    for (coll, preset) in PRESETS {
        for op in [Op::Get, Op::Count, Op::Insert, Op::Update, Op::Remove] {
            // Reads before the writes: the counts are of `d1` alone.
            let want = expected(preset, op);
            for (i, (who, tok)) in [
                ("anonymous", None),
                ("other", Some(&bob)),
                ("owner", Some(&alice)),
            ]
            .into_iter()
            .enumerate()
            {
                let r = client(app, tok.map(String::as_str), &[], body_of(op, coll)).await;
                let got = outcome(op, &r);
                // Inserts add records; reads and counts of the others' view run first.
                if got != want[i] {
                    failures.push(format!(
                        "{preset} {op:?} as {who}: want {:?}, got {got:?}",
                        want[i]
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The records written say who wrote them: bob's inserts carry his openid, not one he chose.
    let r = client(
        app,
        Some(&bob),
        &[("x-wx-openid", "o-alice")],
        json!({"action": "database.getDocument", "collectionName": "c_private",
            "queryType": "WHERE", "query": "{}"}),
    )
    .await;
    let list = r.json()["data"]["list"].as_array().cloned().unwrap();
    assert_eq!(list.len(), 1, "bob sees only his own insert: {list:?}");
    let doc: Value = serde_json::from_str(list[0].as_str().unwrap()).unwrap();
    assert_eq!(doc["_openid"], "o-bob", "{doc}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presets_hold_for_real_users_on_sqlite() {
    presets_hold_for_real_users(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presets_hold_for_real_users_on_postgres() {
    let Some(url) = common::pg::fresh_url().await else {
        return;
    };
    presets_hold_for_real_users(Some(url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_can_choose_its_openid() {
    let shim = sign_in_shim(None, Duration::from_secs(3600)).await;
    let app = &shim.app;
    let read_private = json!({"action": "database.getDocument", "collectionName": "c_private",
        "queryType": "WHERE", "query": "{}"});
    // The development-mode headers do nothing here: without a token the caller is anonymous.
    let r = client(
        app,
        None,
        &[("x-wx-openid", "o-alice")],
        read_private.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    // A forged token, an altered one, and one signed by another shim.
    let alice = token(app, "code-alice").await;
    let (signed, _mac) = alice.rsplit_once('.').unwrap();
    let other = shim::auth::Sessions::new([9; 32], Duration::from_secs(60)).issue(
        "o-alice",
        APPID,
        None,
        shim::storage::now_secs(),
    );
    for bad in [
        "v1.e30.AAAA".to_string(),
        format!("{signed}.{}", "A".repeat(43)),
        other,
        alice[..alice.len() - 1].to_string(),
    ] {
        let r = client(app, Some(&bad), &[], read_private.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}: {}", r.text());
        assert_eq!(r.json()["code"], "UNAUTHENTICATED");
        // Even for what anonymous callers may do: a bad token is never taken as none.
        let r = client(
            app,
            Some(&bad),
            &[],
            json!({"action": "database.calculateDocument", "collectionName": "c_readonly",
                "queryType": "WHERE", "query": "{}"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{bad}: {}", r.text());
    }
    let r = client(app, Some(&alice), &[], read_private).await;
    assert_eq!(r.json()["data"]["list"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_exchanged_and_refusals_reported() {
    let shim = sign_in_shim(None, Duration::from_secs(7200)).await;
    let app = &shim.app;
    let v = sign_in(app, "code-carol").await;
    assert_eq!(v["data"]["expiresIn"], 7200, "{v}");
    assert_eq!(shim.wechat.calls.load(Ordering::SeqCst), 1);
    // The token carries no secret: the session key WeChat answered stays with the shim.
    assert!(!v.to_string().contains("\"sk\""), "{v}");
    for (code, errcode) in [("code-used", "40163"), ("garbage", "40029")] {
        let v = sign_in(app, code).await;
        assert_eq!(v["code"], "LOGIN_FAILED", "{v}");
        assert!(v["message"].as_str().unwrap().contains(errcode), "{v}");
        assert!(!v.to_string().contains(SECRET), "{v}");
    }
    // No code, an oversized one, not JSON.
    for body in [
        json!({}),
        json!({"code": "x".repeat(300)}),
        json!("code-alice"),
    ] {
        let req = Request::post("/client/signin")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let v = send(app, req).await.json();
        assert_eq!(v["code"], "INVALID_PARAM", "{v}");
    }
    assert_eq!(shim.wechat.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire() {
    let shim = sign_in_shim(None, Duration::from_secs(1)).await;
    let app = &shim.app;
    let alice = token(app, "code-alice").await;
    let count = json!({"action": "database.calculateDocument", "collectionName": "c_private",
        "queryType": "WHERE", "query": "{}"});
    let r = client(app, Some(&alice), &[], count.clone()).await;
    assert_eq!(r.json()["data"]["total"], 1, "{}", r.text());
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = client(app, Some(&alice), &[], count.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert!(r.json()["message"].as_str().unwrap().contains("expired"));
    // Signing in again gives a working token.
    let again = token(app, "code-alice").await;
    let r = client(app, Some(&again), &[], count).await;
    assert_eq!(r.json()["data"]["total"], 1, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_read_public_files_only_and_admin_needs_credentials() {
    let shim = sign_in_shim(None, Duration::from_secs(3600)).await;
    let app = &shim.app;
    // Storage: no uploads, no deletes, no functions without a session.
    for body in [
        json!({"action": "storage.getUploadMetadata", "path": "a/b.txt"}),
        json!({"action": "storage.batchDeleteFile", "fileid_list": ["cloud://test-env.x/a/b.txt"]}),
        json!({"action": "functions.invokeFunction", "function_name": "f", "request_data": "{}"}),
    ] {
        let r = client(app, None, &[], body.clone()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{body}: {}", r.text());
    }
    let alice = token(app, "code-alice").await;
    let r = client(
        app,
        Some(&alice),
        &[],
        json!({"action": "storage.getUploadMetadata", "path": "a/b.txt"}),
    )
    .await;
    assert!(r.json()["data"]["url"].is_string(), "{}", r.text());
    // A function runs for the signed-in user, whatever openid the request names.
    let r = client(
        app,
        Some(&alice),
        &[("x-wx-openid", "o-mallory")],
        json!({"action": "functions.invokeFunction", "function_name": "whoami", "request_data": "{}"}),
    )
    .await;
    let who: Value =
        serde_json::from_str(r.json()["data"]["response_data"].as_str().unwrap()).unwrap();
    assert_eq!(
        who,
        json!({"openid": "o-alice", "appid": APPID}),
        "{}",
        r.text()
    );
    // Download URLs are for everyone (the storage preset: all read, creator writes).
    let r = client(
        app,
        None,
        &[],
        json!({"action": "storage.batchGetDownloadUrl",
            "file_list": [{"fileid": "cloud://test-env.x/a/missing.txt"}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.json()["data"]["download_list"][0]["code"],
        "STORAGE_FILE_NONEXIST"
    );
    // /admin without credentials, with the secret id but no signature, with a wrong Bearer.
    let count = json!({"action": "database.calculateDocument", "collectionName": "c_private",
        "queryType": "WHERE", "query": "{}"})
    .to_string();
    for auth in [
        None,
        Some(
            "TC3-HMAC-SHA256 Credential=AKIDsignintest/2026-12-04/tcb/tc3_request, SignedParams=action, SignedHeaders=content-type;host, Signature=00",
        ),
        Some("Bearer AKIDsignintest"),
        Some("Bearer wrong"),
    ] {
        let mut b = Request::post("/admin?env=test-env&seqId=1")
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(a) = auth {
            b = b.header(header::AUTHORIZATION, a);
        }
        let r = send(app, b.body(Body::from(count.clone())).unwrap()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{auth:?}: {}", r.text());
    }
    // The access key itself as Bearer (node-sdk's `accessKey`) is the credential.
    let r = send(
        app,
        Request::post("/admin?env=test-env&seqId=1")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, "Bearer signin-test-key")
            .body(Body::from(count))
            .unwrap(),
    )
    .await;
    assert_eq!(r.json()["data"]["total"], 1, "{}", r.text());
}

/// The `wx.cloud` adapter in Node against this shim over HTTP
/// (`tests/node-adapter/signin-client.js`): it signs in on the first refusal, shares one sign-in
/// between concurrent refusals, signs in again when the session expires, and reports a refused
/// code once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapter_signs_in_with_wx_login() {
    const STEPS: &[&str] = &[
        "public reads need no sign-in",
        "a write signs in with wx.login, then goes through as the signed-in user",
        "concurrent refusals share one sign-in",
        "an expired session signs in again",
        "a refused code fails the call once, with the reason",
        "signIn: false reports the 401 as it is",
    ];
    let shim = sign_in_shim(None, Duration::from_secs(2)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(shim::serve(
        listener,
        async move {
            let _ = stop_rx.await;
        },
        Arc::clone(&shim.state),
    ));
    let root = common::repo_root();
    let out = tokio::process::Command::new("node")
        .arg(root.join("tests/node-adapter/signin-client.js"))
        .env("SHIM_URL", &url)
        .env("SESSION_TTL", "2")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), out)
        .await
        .expect("signin-client.js finished in time")
        .expect("node must be on PATH");
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for step in STEPS {
        assert!(
            stdout.lines().any(|l| l == format!("ok {step}")),
            "step `{step}` did not pass:\n{report}"
        );
    }
    assert!(out.status.success(), "{report}");
}
