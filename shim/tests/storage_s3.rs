//! Storage on a bucket of a real S3-compatible server (moto, on loopback; `common::s3`), through
//! the HTTP layer in process: the cases the local directory passes in `http_inprocess.rs`
//! (shared in `common::storage_cases`), then what is particular to a bucket: the layout under
//! the prefix, what a bucket holds that a directory cannot, its key length limit, opening from
//! `ShimConfig::storage_url` and the `AWS_*` environment, and errors at start.
//!
//! Needs moto's server: `scripts/s3-test-server` or `pip install 'moto[server]'`; without it
//! every test here fails saying so, unless `MIGRATE_SKIP_S3=1`.

mod common;

use axum::http::StatusCode;
use common::http::{Backend, action, assert_error, get};
use common::s3::{self, Bucket};
use common::storage_cases::{self, download, file_id_of, project, upload};
use object_store::path::Path as ObjPath;
use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::json;
use shim::AppState;
use shim::storage::{Signer, Storage};

/// A bucket with the shim's objects under `shim/data`, or `None` when S3 tests are skipped.
fn bucket() -> Option<Bucket> {
    s3::bucket("shim/data")
}

macro_rules! on_s3 {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let Some(bucket) = bucket() else { return };
            storage_cases::$name(Backend::S3(&bucket)).await;
        }
    )*};
}

on_s3!(
    upload_download_range_etag,
    signatures_expiry_and_forgery,
    rejects_traversal,
    upload_limit_and_multipart,
    client_may_not_delete_others_files,
    copy_and_move,
    big_files,
    seeding_survives_restarts,
    empty_file,
    odd_keys,
);

#[tokio::test]
async fn a_bucket_without_a_prefix_works_too() {
    let Some(bucket) = s3::bucket("") else { return };
    storage_cases::upload_download_range_etag(Backend::S3(&bucket)).await;
    let keys = list(&bucket, None).await;
    assert!(keys.iter().any(|k| k == "objects/img/seed.txt"), "{keys:?}");
}

/// Every key in the bucket below `prefix`.
async fn list(bucket: &Bucket, prefix: Option<&str>) -> Vec<String> {
    use futures_util::TryStreamExt;
    let store = bucket.raw_store();
    let prefix = prefix.map(ObjPath::from);
    let mut keys: Vec<String> = store
        .list(prefix.as_ref())
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    keys.sort();
    keys
}

#[tokio::test]
async fn objects_and_owner_records_sit_under_the_prefix() {
    let Some(bucket) = bucket() else { return };
    let s = common::http::shim_on(Backend::S3(&bucket), 1 << 20, 1 << 20).await;
    upload(&s.app, "docs/report.pdf", b"%PDF-1.7").await;
    let client = axum::http::Request::post("/client")
        .header("x-wx-openid", "o-user")
        .body(axum::body::Body::from(
            json!({"action": "storage.getUploadMetadata", "path": "mine/n.json"}).to_string(),
        ))
        .unwrap();
    let v = common::http::send(&s.app, client).await.json();
    let url = v["data"]["url"].as_str().unwrap().to_string();
    let r = storage_cases::put(&s.app, &url, b"{}".to_vec()).await;
    assert_eq!(r.status, StatusCode::OK);

    assert_eq!(
        list(&bucket, None).await,
        [
            "shim/data/meta/docs/report.pdf",
            "shim/data/meta/img/seed.txt",
            "shim/data/meta/mine/n.json",
            "shim/data/objects/docs/report.pdf",
            "shim/data/objects/img/seed.txt",
            "shim/data/objects/mine/n.json",
        ]
    );
    let store = bucket.raw_store();
    let record = store
        .get(&ObjPath::from("shim/data/meta/mine/n.json"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&record).unwrap();
    assert_eq!(record["owner"], "o-user", "{record}");
    assert!(
        record["uploadedAt"].as_u64().unwrap() > 1_700_000_000,
        "{record}"
    );
    // The object carries its Content-Type, for whatever else reads the bucket.
    let object = store
        .get(&ObjPath::from("shim/data/objects/docs/report.pdf"))
        .await
        .unwrap();
    assert_eq!(
        object
            .attributes
            .get(&object_store::Attribute::ContentType)
            .map(|v| v.as_ref()),
        Some("application/pdf")
    );
    assert_eq!(object.bytes().await.unwrap().as_ref(), b"%PDF-1.7");
}

#[tokio::test]
async fn a_bucket_holds_a_file_beside_a_folder_of_the_same_name() {
    // The local directory refuses both orders (hardening_misc.rs); a bucket has no folders.
    let Some(bucket) = bucket() else { return };
    let s = common::http::shim_on(Backend::S3(&bucket), 1 << 20, 1 << 20).await;
    let a = upload(&s.app, "a", b"file a").await;
    let ab = upload(&s.app, "a/b", b"file a/b").await;
    let c = upload(&s.app, "c/d", b"file c/d").await;
    let cc = upload(&s.app, "c", b"file c").await;
    for (id, body) in [
        (a, "file a"),
        (ab, "file a/b"),
        (c, "file c/d"),
        (cc, "file c"),
    ] {
        assert_eq!(download(&s.app, &id).await, body.as_bytes());
    }
    let long = "n".repeat(300);
    let id = upload(&s.app, &format!("{long}/x.txt"), b"long component").await;
    assert_eq!(download(&s.app, &id).await, b"long component");
}

#[tokio::test]
async fn a_key_longer_than_the_bucket_holds_is_refused() {
    let Some(bucket) = bucket() else { return };
    let s = common::http::shim_on(Backend::S3(&bucket), 1 << 20, 1 << 20).await;
    // 850 bytes (CloudBase's limit) of `#`, each stored as `%23`: over S3's 1024.
    let key = "#".repeat(850);
    let v = action(
        &s.app,
        json!({"action": "storage.getUploadMetadata", "path": key, "method": "put"}),
    )
    .await;
    assert_error(&v, "INVALID_PARAM");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("at most 1024 bytes"), "{msg}");
    assert!(
        msg.contains("over the 1014 bytes the bucket holds"),
        "{msg}"
    );
    assert!(msg.contains(&bucket.url()), "{msg}");
    // A long key that fits is accepted.
    let key = format!("{}/end.txt", "k".repeat(800));
    let id = upload(&s.app, &key, b"fits").await;
    assert_eq!(download(&s.app, &id).await, b"fits");
    assert_eq!(id, file_id_of(&key));
}

/// Set in the child process of [`opens_from_the_config_and_the_environment`].
const CHILD: &str = "MIGRATE_S3_TEST_CHILD";

/// `ShimConfig::storage_url` through `AppState::open`, with the store configured the way a
/// user configures it: `AWS_*` environment variables. The environment is per process, so the
/// test runs itself again as a child with the variables set (and the parent's own `AWS_*`
/// variables removed), and the child does the work.
#[tokio::test]
async fn opens_from_the_config_and_the_environment() {
    if let Ok(spec) = std::env::var(CHILD) {
        let (url, project_dir) = spec.split_once('\n').unwrap();
        let mut config = shim::ShimConfig::from_project(std::path::Path::new(project_dir)).unwrap();
        config.env_id = "test-env".into();
        config.public_url = Some("http://shim.test".into());
        config.storage_url = Some(url.to_string());
        let state = AppState::open(config).await.unwrap();
        assert_eq!(state.storage.location(), url);
        let app = shim::router(state);
        assert_eq!(
            download(&app, &file_id_of("img/seed.txt")).await,
            b"0123456789"
        );
        let id = upload(&app, "from/env.txt", b"configured by AWS_*").await;
        assert_eq!(download(&app, &id).await, b"configured by AWS_*");
        return;
    }
    let Some(bucket) = bucket() else { return };
    let (dir, _config) = project(&[("img/seed.txt", b"0123456789")], 1 << 20);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap());
    child
        .args([
            "--exact",
            "opens_from_the_config_and_the_environment",
            "--nocapture",
        ])
        .env(CHILD, format!("{}\n{}", bucket.url(), dir.path().display()));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            child.env_remove(key);
        }
    }
    for (key, value) in bucket.env() {
        child.env(key, value);
    }
    let out = child.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = list(&bucket, Some("shim/data/objects")).await;
    assert_eq!(
        keys,
        [
            "shim/data/objects/from/env.txt",
            "shim/data/objects/img/seed.txt"
        ]
    );
}

#[tokio::test]
async fn bad_storage_urls_fail_at_open_naming_the_url() {
    // No server needed.
    for url in [
        "gs://bucket/x",
        "s3://",
        "s3:///prefix",
        "s3://bucket?endpoint=x",
    ] {
        let (_dir, mut config) = project(&[], 1 << 20);
        config.storage_url = Some(url.into());
        let e = AppState::open(config).await.unwrap_err();
        let msg = e.detail();
        assert!(msg.contains(&format!("`{url}`")), "{url}: {msg}");
        assert!(msg.contains("s3://bucket[/prefix]"), "{url}: {msg}");
    }
    let e = Storage::open_url_with(
        "s3://bucket",
        [("aws_no_such_setting", "1")],
        Signer::new([1; 32]),
        "e".into(),
        1,
    )
    .unwrap_err();
    assert!(e.detail().contains("aws_no_such_setting"), "{}", e.detail());
}

#[tokio::test]
async fn storage_that_does_not_answer_fails_the_start() {
    // Nothing listens on the port: refused at once (and retried a few times).
    let port = s3::free_port();
    let storage = Storage::open_url_with(
        "s3://nowhere/prefix",
        [
            ("aws_endpoint", format!("http://127.0.0.1:{port}")),
            ("aws_access_key_id", "k".into()),
            ("aws_secret_access_key", "s".into()),
            ("aws_allow_http", "true".into()),
        ],
        Signer::new([1; 32]),
        "e".into(),
        1,
    )
    .unwrap();
    let started = std::time::Instant::now();
    let e = storage.check_access().await.unwrap_err();
    assert!(e.detail().contains("s3://nowhere/prefix"), "{}", e.detail());
    assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());

    // A bucket that does not exist on a server that answers.
    let Some(bucket) = bucket() else { return };
    let storage = Storage::open_url_with(
        "s3://no-such-bucket-here",
        bucket.settings(),
        Signer::new([1; 32]),
        "e".into(),
        1,
    )
    .unwrap();
    let e = storage.check_access().await.unwrap_err();
    assert!(
        e.detail().contains("s3://no-such-bucket-here"),
        "{}",
        e.detail()
    );
    // The bucket that exists answers.
    let storage = Storage::open_url_with(
        &bucket.url(),
        bucket.settings(),
        Signer::new([1; 32]),
        "e".into(),
        1,
    )
    .unwrap();
    storage.check_access().await.unwrap();
}

#[tokio::test]
async fn a_temp_url_of_a_file_deleted_behind_the_shim_is_not_found() {
    let Some(bucket) = bucket() else { return };
    let s = common::http::shim_on(Backend::S3(&bucket), 1 << 20, 1 << 20).await;
    let id = upload(&s.app, "gone.txt", b"soon gone").await;
    let item = storage_cases::temp_url(&s.app, &id, None).await;
    let dl = item["tempFileURL"].as_str().unwrap().to_string();
    bucket
        .raw_store()
        .delete(&ObjPath::from("shim/data/objects/gone.txt"))
        .await
        .unwrap();
    let r = get(&s.app, &dl, &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.text().contains("<Code>NoSuchKey</Code>"), "{}", r.text());
    let r = get(&s.app, &dl, &[("range", "bytes=0-1")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn big_uploads_and_seeds_go_up_in_parts() {
    // Over 8 MiB: a multipart upload, whose ETag S3 marks with the number of parts.
    let Some(bucket) = bucket() else { return };
    let seeded = storage_cases::pattern((8 << 20) + 1);
    let (_dir, config) = project(&[("seed/big.bin", &seeded)], 32 << 20);
    let app = shim::router(common::http::open_on(Backend::S3(&bucket), config).await);
    let big = storage_cases::pattern((17 << 20) + 5);
    let id = upload(&app, "up/big.bin", &big).await;
    let store = bucket.raw_store();
    for (key, parts) in [("up/big.bin", 3), ("seed/big.bin", 2)] {
        let meta = store
            .head(&ObjPath::from(format!("shim/data/objects/{key}")))
            .await
            .unwrap();
        let etag = meta.e_tag.unwrap();
        assert!(etag.ends_with(&format!("-{parts}\"")), "{key}: {etag}");
    }
    let item = storage_cases::temp_url(&app, &id, None).await;
    let r = get(&app, item["tempFileURL"].as_str().unwrap(), &[]).await;
    assert!(r.body == big);
    let etag = r.headers[axum::http::header::ETAG].to_str().unwrap();
    assert!(etag.ends_with("-3\""), "{etag}");
    // Small ones are one PUT.
    upload(&app, "up/small.bin", b"small").await;
    let meta = store
        .head(&ObjPath::from("shim/data/objects/up/small.bin"))
        .await
        .unwrap();
    assert!(!meta.e_tag.unwrap().contains('-'));
}

/// Upload and download throughput through the HTTP layer in process, the local directory
/// against a bucket of the test server on loopback. A measurement, not a check: run it with
/// `cargo test --release -p shim --test storage_s3 -- --ignored throughput --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; prints figures"]
async fn throughput_local_and_s3() {
    let Some(bucket) = bucket() else { return };
    for (size, count) in [(1usize << 20, 16), (32 << 20, 3)] {
        let body = storage_cases::pattern(size);
        for backend in [Backend::Local, Backend::S3(&bucket)] {
            let name = match backend {
                Backend::Local => "local",
                Backend::S3(_) => "s3",
            };
            let s = common::http::shim_on(backend, 64 << 20, 1 << 20).await;
            let started = std::time::Instant::now();
            let mut ids = Vec::new();
            for i in 0..count {
                ids.push(upload(&s.app, &format!("t/{i}.bin"), &body).await);
            }
            let up = started.elapsed();
            let started = std::time::Instant::now();
            for id in &ids {
                assert_eq!(download(&s.app, id).await.len(), size);
            }
            let down = started.elapsed();
            let mb = (size * count) as f64 / 1e6;
            println!(
                "{name:5} {:>3} MiB x{count:<2}: upload {:7.1} MB/s, download {:7.1} MB/s",
                size >> 20,
                mb / up.as_secs_f64(),
                mb / down.as_secs_f64()
            );
        }
    }
}
