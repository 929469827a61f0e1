//! Storage behaviours through the HTTP layer in process, each run on a [`Backend`]: the local
//! directory (`http_inprocess.rs`) and an S3 bucket (`storage_s3.rs`) must answer the same.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use shim::ShimConfig;

use super::http::{Backend, Reply, action, assert_error, get, send, shim_on};

pub(crate) async fn upload_url(app: &Router, path: &str) -> (String, String) {
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

pub(crate) async fn put(app: &Router, url: &str, body: Vec<u8>) -> Reply {
    let path = url.strip_prefix("http://shim.test").unwrap();
    send(app, Request::put(path).body(Body::from(body)).unwrap()).await
}

pub(crate) async fn temp_url(app: &Router, file_id: &str, max_age: Option<i64>) -> Value {
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

/// Upload through the upload URL, download through a temp URL: `Content-Type`,
/// `Cache-Control`, ETag and `If-None-Match` (304), `Last-Modified`, `Range` (206, suffix, 416),
/// `HEAD`, overwrite, delete.
pub(crate) async fn upload_download_range_etag(backend: Backend<'_>) {
    let s = shim_on(backend, 1 << 20, 1 << 20).await;
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
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "strong etag {etag}"
    );
    let modified = httpdate::parse_http_date(r.headers[header::LAST_MODIFIED].to_str().unwrap())
        .expect("Last-Modified is an HTTP date");
    let age = std::time::SystemTime::now()
        .duration_since(modified)
        .unwrap_or_default();
    assert!(age.as_secs() < 120, "Last-Modified {modified:?}");
    assert_eq!(r.headers[header::ACCEPT_RANGES], "bytes");

    let r = get(&s.app, &dl, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    let r = get(&s.app, &dl, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(r.status, StatusCode::OK);
    let listed = format!("\"other\", W/{etag}");
    let r = get(&s.app, &dl, &[("if-none-match", &listed)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED, "{listed}");
    let r = get(&s.app, &dl, &[("if-none-match", "*")]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers[header::ETAG].to_str().unwrap(), etag);
    // A conditional ranged request whose ETag no longer matches gets the range.
    let r = get(
        &s.app,
        &dl,
        &[("if-none-match", "\"x\""), ("range", "bytes=0-4")],
    )
    .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, b"hello");

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

/// The seeded file through signed URLs; forged, extended and expired signatures.
pub(crate) async fn signatures_expiry_and_forgery(backend: Backend<'_>) {
    let s = shim_on(backend, 1 << 20, 1 << 20).await;
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

pub(crate) fn regex_replace(s: &str, marker: &str, len: usize, with: &str) -> String {
    let i = s.find(marker).unwrap() + marker.len();
    format!("{}{}{}", &s[..i], with, &s[i + len..])
}

/// Keys that could escape the storage root are refused everywhere.
pub(crate) async fn rejects_traversal(backend: Backend<'_>) {
    let s = shim_on(backend, 1 << 20, 1 << 20).await;
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

/// The upload limit (with and without `Content-Length`) and the multipart `POST` upload.
pub(crate) async fn upload_limit_and_multipart(backend: Backend<'_>) {
    let s = shim_on(backend, 1000, 1 << 20).await;
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

/// The owner record: a client may delete its own file, not another's.
pub(crate) async fn client_may_not_delete_others_files(backend: Backend<'_>) {
    let s = shim_on(backend, 1 << 20, 1 << 20).await;
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

/// A project in a temporary folder with `files` under `cloud/storage/`, and its configuration
/// (env `test-env`, URLs under `http://shim.test`).
pub(crate) fn project(files: &[(&str, &[u8])], max_upload: u64) -> (tempfile::TempDir, ShimConfig) {
    let dir = tempfile::tempdir().unwrap();
    for (path, bytes) in files {
        let file = dir.path().join("cloud/storage").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, bytes).unwrap();
    }
    let mut config = ShimConfig::from_project(dir.path()).unwrap();
    config.env_id = "test-env".into();
    config.public_url = Some("http://shim.test".into());
    config.max_upload = max_upload;
    (dir, config)
}

/// The bytes of `file_id`, read through a temp URL (panics unless 200).
pub(crate) async fn download(app: &Router, file_id: &str) -> Vec<u8> {
    let item = temp_url(app, file_id, None).await;
    assert_eq!(item["code"], "SUCCESS", "{item}");
    let r = get(app, item["tempFileURL"].as_str().unwrap(), &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.body
}

/// Upload `body` to `path` through the upload URL (panics unless 200); returns the fileID.
pub(crate) async fn upload(app: &Router, path: &str, body: &[u8]) -> String {
    let (url, file_id) = upload_url(app, path).await;
    let r = put(app, &url, body.to_vec()).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text());
    file_id
}

pub(crate) fn file_id_of(path: &str) -> String {
    format!("cloud://test-env.7465-test-env-1250000000/{path}")
}

/// `batchCopyFile`: a copy keeps the bytes and the owner record, refuses an existing
/// destination unless `overwrite`, and `remove_original` moves.
pub(crate) async fn copy_and_move(backend: Backend<'_>) {
    let s = shim_on(backend, 1 << 20, 1 << 20).await;
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
            json!({"action": "storage.getUploadMetadata", "path": "src/a.txt"}),
        ),
    )
    .await
    .json();
    let url = v["data"]["url"].as_str().unwrap().to_string();
    assert_eq!(
        put(&s.app, &url, b"payload".to_vec()).await.status,
        StatusCode::OK
    );
    upload(&s.app, "dst/taken.txt", b"taken").await;

    let copy = |src: &str, dst: &str, overwrite: bool, remove: bool| {
        json!({"action": "storage.batchCopyFile", "file_list": [{
            "src_path": src, "dst_path": dst, "overwrite": overwrite, "remove_original": remove
        }]})
    };
    let v = action(&s.app, copy("src/a.txt", "dst/b.txt", false, false)).await;
    assert_eq!(v["data"]["copy_list"][0]["code"], "SUCCESS", "{v}");
    assert_eq!(download(&s.app, &file_id_of("dst/b.txt")).await, b"payload");
    assert_eq!(download(&s.app, &file_id_of("src/a.txt")).await, b"payload");
    // The copy is the owner's: another client may not delete it, the owner may.
    let v = send(
        &s.app,
        client(
            "intruder",
            json!({"action": "storage.batchDeleteFile", "fileid_list": [file_id_of("dst/b.txt")]}),
        ),
    )
    .await
    .json();
    assert_eq!(
        v["data"]["delete_list"][0]["code"], "STORAGE_EXCEED_AUTHORITY",
        "{v}"
    );

    let v = action(&s.app, copy("src/a.txt", "dst/taken.txt", false, false)).await;
    assert_eq!(v["data"]["copy_list"][0]["code"], "INVALID_PARAM", "{v}");
    assert_eq!(
        download(&s.app, &file_id_of("dst/taken.txt")).await,
        b"taken"
    );
    let v = action(&s.app, copy("src/a.txt", "dst/taken.txt", true, false)).await;
    assert_eq!(v["data"]["copy_list"][0]["code"], "SUCCESS", "{v}");
    assert_eq!(
        download(&s.app, &file_id_of("dst/taken.txt")).await,
        b"payload"
    );

    let v = action(
        &s.app,
        copy(&file_id_of("src/a.txt"), "/moved/c.txt", false, true),
    )
    .await;
    assert_eq!(v["data"]["copy_list"][0]["code"], "SUCCESS", "{v}");
    assert_eq!(
        download(&s.app, &file_id_of("moved/c.txt")).await,
        b"payload"
    );
    let item = temp_url(&s.app, &file_id_of("src/a.txt"), None).await;
    assert_eq!(item["code"], "STORAGE_FILE_NONEXIST", "{item}");
    let v = action(&s.app, copy("missing.txt", "x.txt", false, false)).await;
    assert_eq!(
        v["data"]["copy_list"][0]["code"], "STORAGE_FILE_NONEXIST",
        "{v}"
    );
}

/// `n` bytes of a pattern that does not repeat with any power of two.
pub(crate) fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// Files larger than what is read whole (4 MiB) and than a part of a multipart upload
/// (8 MiB): uploaded and seeded, then read whole, by ranges across the parts, by suffix.
pub(crate) async fn big_files(backend: Backend<'_>) {
    let big = pattern((9 << 20) + 123);
    let seeded = pattern((12 << 20) + 7);
    let (_dir, config) = project(&[("video/seeded.bin", &seeded)], 16 << 20);
    let state = super::http::open_on(backend, config).await;
    let app = shim::router(state);

    let id = upload(&app, "video/big.bin", &big).await;
    let item = temp_url(&app, &id, None).await;
    let dl = item["tempFileURL"].as_str().unwrap().to_string();
    let r = get(&app, &dl, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_LENGTH], big.len().to_string());
    assert!(r.body == big, "whole body differs ({} bytes)", r.body.len());
    let etag = r.headers[header::ETAG].to_str().unwrap().to_string();

    let n = big.len();
    for (range, start, end) in [
        ("bytes=1000-6000000".to_string(), 1000, 6_000_001),
        (format!("bytes={}-", (8 << 20) - 10), (8 << 20) - 10, n),
        ("bytes=-100".to_string(), n - 100, n),
        (format!("bytes={}-{}", n - 1, n + 50), n - 1, n),
        ("bytes=0-".to_string(), 0, n),
    ] {
        let r = get(&app, &dl, &[("range", &range)]).await;
        assert_eq!(r.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            r.headers[header::CONTENT_RANGE],
            format!("bytes {start}-{}/{n}", end - 1),
            "{range}"
        );
        assert!(r.body[..] == big[start..end], "{range}: body differs");
    }
    let r = get(&app, &dl, &[("range", &format!("bytes={n}-"))]).await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.headers[header::CONTENT_RANGE], format!("bytes */{n}"));
    let r = get(&app, &dl, &[("if-none-match", &etag)]).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);

    let path = dl.strip_prefix("http://shim.test").unwrap();
    let r = send(&app, Request::head(path).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_LENGTH], n.to_string());
    assert_eq!(r.headers[header::ETAG].to_str().unwrap(), etag);
    assert!(r.body.is_empty());

    let body = download(&app, &file_id_of("video/seeded.bin")).await;
    assert!(body == seeded, "seeded body differs ({} bytes)", body.len());
    let item = temp_url(&app, &file_id_of("video/seeded.bin"), None).await;
    let r = get(
        &app,
        item["tempFileURL"].as_str().unwrap(),
        &[("range", "bytes=-3")],
    )
    .await;
    assert_eq!(r.body, seeded[seeded.len() - 3..]);
}

/// The copy-in of `cloud/storage/`: copied once; an overwrite made through the shim survives a
/// restart, a deleted seed file comes back.
pub(crate) async fn seeding_survives_restarts(backend: Backend<'_>) {
    let many: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| (format!("many/{i}.txt"), format!("file {i}").into_bytes()))
        .collect();
    let mut files: Vec<(&str, &[u8])> = vec![
        ("a.txt", b"seed a"),
        ("deep/er/b.txt", b"seed b"),
        ("c d+e.txt", b"seed c"),
    ];
    files.extend(many.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
    let (_dir, config) = project(&files, 1 << 20);
    let app = shim::router(super::http::open_on(backend, config.clone()).await);
    for (key, body) in &many {
        assert_eq!(&download(&app, &file_id_of(key)).await, body, "{key}");
    }
    assert_eq!(download(&app, &file_id_of("a.txt")).await, b"seed a");
    assert_eq!(
        download(&app, &file_id_of("deep/er/b.txt")).await,
        b"seed b"
    );
    assert_eq!(download(&app, &file_id_of("c d+e.txt")).await, b"seed c");
    upload(&app, "a.txt", b"changed").await;
    let v = action(
        &app,
        json!({"action": "storage.batchDeleteFile", "fileid_list": [file_id_of("deep/er/b.txt")]}),
    )
    .await;
    assert_eq!(v["data"]["delete_list"][0]["code"], "SUCCESS", "{v}");
    drop(app);

    let app = shim::router(super::http::open_on(backend, config).await);
    assert_eq!(download(&app, &file_id_of("a.txt")).await, b"changed");
    assert_eq!(
        download(&app, &file_id_of("deep/er/b.txt")).await,
        b"seed b"
    );
    assert_eq!(download(&app, &file_id_of("c d+e.txt")).await, b"seed c");
}

/// An empty file: 200 with no bytes, `HEAD`, and 416 for any range.
pub(crate) async fn empty_file(backend: Backend<'_>) {
    let s = shim_on(backend, 1 << 20, 1 << 20).await;
    let id = upload(&s.app, "empty.txt", b"").await;
    let item = temp_url(&s.app, &id, None).await;
    let dl = item["tempFileURL"].as_str().unwrap().to_string();
    let r = get(&s.app, &dl, &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_LENGTH], "0");
    assert!(r.body.is_empty());
    let etag = r.headers[header::ETAG].to_str().unwrap().to_string();
    assert_eq!(
        get(&s.app, &dl, &[("if-none-match", &etag)]).await.status,
        StatusCode::NOT_MODIFIED
    );
    for range in ["bytes=0-", "bytes=-1"] {
        let r = get(&s.app, &dl, &[("range", range)]).await;
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(r.headers[header::CONTENT_RANGE], "bytes */0", "{range}");
    }
    let path = dl.strip_prefix("http://shim.test").unwrap();
    let r = send(&s.app, Request::head(path).body(Body::empty()).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_LENGTH], "0");
}

/// Keys with characters that URLs, S3 and file systems treat specially round-trip.
pub(crate) async fn odd_keys(backend: Backend<'_>) {
    let s = shim_on(backend, 1 << 20, 1 << 20).await;
    for (i, key) in [
        "with space/a b.txt",
        "plus+sign.txt",
        "percent%20not-a-space.txt",
        "hash#and?query.txt",
        "tilde~[brackets]{braces}.txt",
        "引用/图片 1.png",
        "emoji-😀.txt",
        "amp&eq=.txt",
        "quote\"s'.txt",
    ]
    .into_iter()
    .enumerate()
    {
        let body = format!("body {i} of {key}");
        let id = upload(&s.app, key, body.as_bytes()).await;
        assert_eq!(download(&s.app, &id).await, body.as_bytes(), "{key}");
        let v = action(
            &s.app,
            json!({"action": "storage.batchDeleteFile", "fileid_list": [id]}),
        )
        .await;
        assert_eq!(v["data"]["delete_list"][0]["code"], "SUCCESS", "{key}: {v}");
    }
}
