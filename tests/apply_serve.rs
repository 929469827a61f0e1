//! After `migrate apply`, `migrate serve` runs the result: the seeds apply wrote are loaded,
//! the moved assets are in storage, and the generated cloud functions run on the real
//! `wx-server-sdk` (from `tests/node`, installed by `scripts/test`), one of them forwarding a
//! call to the legacy backend, here a loopback server of this test
//! (`tests/node/migrated.js`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

mod common;
use common::copy_dir;

/// A legacy backend: answers every request with its URL, its `X-Trace`, `X-WX-OPENID` and
/// `Content-Type` headers and its body (as text) as JSON, with an `X-Legacy` header of its own;
/// a `status=<code>` in the query answers with that status. With `delay`, it reads the request
/// and then waits that long before answering (a slow backend).
fn legacy_backend(delay: Duration) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(64) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let url = first.split_whitespace().nth(1).unwrap_or("").to_string();
            let mut trace = String::new();
            let mut openid = String::new();
            let mut content_type = String::new();
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("x-trace:") {
                    trace = v.trim().to_string();
                }
                if lower.starts_with("x-wx-openid:") {
                    openid = line["x-wx-openid:".len()..].trim().to_string();
                }
                if lower.starts_with("content-type:") {
                    content_type = line["content-type:".len()..].trim().to_string();
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let status = url
                .split_once("status=")
                .and_then(|(_, s)| s.get(..3))
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or(200);
            let reply = serde_json::json!({
                "url": url,
                "trace": trace,
                "openid": openid,
                "contentType": content_type,
                "body": String::from_utf8_lossy(&body),
            })
            .to_string();
            std::thread::sleep(delay);
            let _ = write!(
                s,
                "HTTP/1.1 {status} Legacy\r\nContent-Type: application/json\r\nX-Legacy: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                reply.len()
            );
        }
    });
    port
}

#[cfg(unix)]
#[test]
fn serve_runs_what_apply_wrote() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let node_modules = repo.join("tests/node/node_modules");
    assert!(
        node_modules.join("wx-server-sdk/package.json").is_file(),
        "run `npm ci --prefix tests/node` first (scripts/test does)"
    );
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("bus-ride");
    copy_dir(&repo.join("fixtures/apps/bus-ride"), &app);
    std::os::unix::fs::symlink(&node_modules, tmp.path().join("node_modules")).unwrap();
    let env = "local-dev";
    let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["apply", "--yes", "--unsafe", "--allow-dirty", "--env", env])
        .arg(&app)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The generated functions forward to the legacy backends of this test: `GET
    // /v2/stations/nearby` (called below, and by the client) and the upload to one that answers
    // at once, `GET /v2/stations/:id/arrivals` to one that answers after the function's timeout
    // (cut to 1 s here), the `lines` routes to a port nobody listens on.
    let port = legacy_backend(Duration::ZERO);
    let slow = legacy_backend(Duration::from_secs(4));
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut route = String::new();
    for f in ["stations", "upload", "lines"] {
        let routes_path = app.join(format!("cloudfunctions/{f}/routes.json"));
        let mut routes: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&routes_path).unwrap()).unwrap();
        if f == "stations" {
            route = routes["routes"][0]["id"].as_str().unwrap().to_string();
            routes["timeoutMs"] = serde_json::json!(1000);
        }
        for r in routes["routes"].as_array_mut().unwrap() {
            let to = match (f, r["path"].as_str().unwrap()) {
                ("lines", _) => dead,
                (_, "/v2/stations/:id/arrivals") => slow,
                _ => port,
            };
            r["target"] = serde_json::json!(format!("http://127.0.0.1:{to}"));
        }
        std::fs::write(&routes_path, routes.to_string()).unwrap();
    }
    let path = route.split_once(' ').unwrap().1.to_string();

    let count = |name: &str| {
        std::fs::read_to_string(app.join(format!("cloud/database/{name}.json")))
            .unwrap()
            .lines()
            .count()
    };
    let cities = count("cities");
    let image = "images/banner/banner-1.jpg";
    let hex: String = env.bytes().take(2).map(|b| format!("{b:02x}")).collect();
    let expect = serde_json::json!({
        "collections": { "cities": cities, "faqs": count("faqs") },
        "cityFields": ["code", "name", "pinyin", "province", "lat", "lng", "hot"],
        "fn": "stations",
        "route": route,
        "path": path,
        "fileID": format!("cloud://{env}.{hex}-{env}/{image}"),
        "fileBytes": std::fs::metadata(app.join("cloud/storage").join(image)).unwrap().len(),
    });
    assert_eq!(cities, 2600);

    // With an admin token: the SDK below passes it as its secret id, and the functions the
    // shim runs get it as theirs (their database calls come back through /admin).
    let (mut serve, url, mut stdout) =
        common::serve_with(&app, &["--admin-token", "AKIDlocalshim"]);
    // Drain the banner in the background so the server never blocks on a full pipe.
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stdout.read_to_string(&mut sink);
    });

    let out = Command::new("node")
        .arg(repo.join("tests/node/migrated.js"))
        .current_dir(repo.join("tests/node"))
        .env("EXPECT", expect.to_string())
        .env("TCB_CONTEXT_CNFG", format!("{{\"URL\":\"{url}/admin\"}}"))
        .env("SCF_NAMESPACE", env)
        .env("TENCENTCLOUD_RUNENV", "SCF")
        .env("TENCENTCLOUD", "true")
        .env("TENCENTCLOUD_REGION", "ap-shanghai")
        .env("TENCENTCLOUD_SECRETID", "AKIDlocalshim")
        .env("TENCENTCLOUD_SECRETKEY", "localshimkey")
        .output()
        .expect("node must be on PATH");
    let client = Command::new("node")
        .arg(repo.join("tests/node-adapter/migrated-client.js"))
        .env("SHIM_URL", &url)
        .env("SHIM_ENV", env)
        .env("APP_DIR", &app)
        .env("ORIGINAL_DIR", repo.join("fixtures/apps/bus-ride"))
        .output()
        .expect("node must be on PATH");
    let _ = serve.kill();
    let _ = serve.wait();
    let client_out = String::from_utf8_lossy(&client.stdout);
    let client_report = format!("{client_out}\n{}", String::from_utf8_lossy(&client.stderr));
    for step in [
        "a big set read through the data function equals the module",
        "a config document read from the database equals the JSON file",
        "a second load costs no round trip",
        "an upload reaches the old endpoint as the same multipart form",
        "a proxied call carries the caller's openid, not one put in its headers",
        "an error status of the old backend reaches success, as wx.request gives it",
        "a slow old backend ends in fail after the function's timeout",
        "an old backend nobody listens on ends in fail, saying so",
        "calls after the failures are served as before",
    ] {
        assert!(
            client_out.lines().any(|l| l == format!("ok {step}")),
            "client step `{step}` failed:\n{client_report}"
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for step in [
        "seeded collections",
        "records keep their order and fields",
        "data function pages a big collection",
        "routing function forwards to the legacy backend",
        "moved asset is in storage",
    ] {
        assert!(
            stdout.lines().any(|l| l == format!("ok {step}")),
            "step `{step}` failed:\n{report}"
        );
    }
    assert!(out.status.success(), "{report}");
    // The stored copy of the upload was only the way in: the function deleted it.
    let objects = app.join(".migrate/storage/objects");
    assert!(
        objects.join("images").is_dir(),
        "the moved assets are in {}",
        objects.display()
    );
    let uploads = objects.join("migrate-uploads");
    let left = std::fs::read_dir(&uploads).map_or(0, |d| d.count());
    assert_eq!(
        left,
        0,
        "uploads left in storage under {}",
        uploads.display()
    );
}
