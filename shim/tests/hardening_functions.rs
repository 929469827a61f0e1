//! Issue 12 hardening of cloud functions, through `/admin` `functions.invokeFunction` on the
//! in-process router with real Node: the heap limit, the process group, capped output, and
//! messages without host paths.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shim::functions::{FunctionRunner, FunctionsConfig};
use shim::{AppState, ShimConfig};
use tower::ServiceExt;

const HOG: &str = r#"
exports.main = async (event) => {
  const keep = [];
  // `event.mb` megabytes of JS heap, 8 MB at a time.
  for (let i = 0; i < event.mb / 8; i++) keep.push(new Array(1 << 20).fill(i + 0.5));
  return { ok: keep.length };
};
"#;

const SPAWNER: &str = r#"
const { spawn } = require('child_process');
exports.main = async (event) => {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  require('fs').writeFileSync(event.pidfile, String(child.pid));
  await new Promise(() => {});
};
"#;

const SHOUT: &str = r#"
exports.main = async (event) => {
  process.stdout.write('x'.repeat(event.mb << 20) + '\n');
  for (let i = 0; i < 400; i++) console.log('line ' + i + ' ' + 'y'.repeat(4000));
  return 'done';
};
"#;

struct Shim {
    app: Router,
    runner: Arc<FunctionRunner>,
    dir: tempfile::TempDir,
}

async fn shim(timeout: Duration) -> Shim {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cloudfunctions");
    for (name, code) in [("hog", HOG), ("spawner", SPAWNER), ("shout", SHOUT)] {
        std::fs::create_dir_all(root.join(name)).unwrap();
        std::fs::write(root.join(name).join("index.js"), code).unwrap();
    }
    let mut config = ShimConfig::from_project(dir.path()).unwrap();
    config.env_id = "test-env".into();
    config.public_url = Some("http://shim.test".into());
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let store = shim::store::sqlite::SqliteStore::open(config.database_file()).unwrap();
    let db = Arc::new(shim::service::Database::new(Arc::new(store)));
    let storage = shim::storage::Storage::open_local(
        &config.storage_root(),
        shim::storage::Signer::new([5; 32]),
        "test-env".into(),
        1 << 20,
    )
    .unwrap();
    let mut fc = FunctionsConfig::new(&root, "http://127.0.0.1:9/", "test-env");
    fc.timeout = timeout;
    fc.max_workers_per_function = 1;
    let runner = Arc::new(FunctionRunner::new(fc));
    let state = Arc::new(AppState::new(
        config,
        db,
        storage,
        Some(Arc::clone(&runner)),
    ));
    Shim {
        app: shim::router(state),
        runner,
        dir,
    }
}

async fn invoke(app: &Router, name: &str, data: Value) -> Value {
    let body = json!({"action": "functions.invokeFunction", "function_name": name,
                      "request_data": data.to_string()});
    let req = Request::post("/admin?env=test-env&seqId=1")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

fn result(v: &Value) -> Value {
    let text = v["data"]["response_data"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"));
    serde_json::from_str(text).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_over_its_memory_size_fails_clearly_and_the_next_call_works() {
    let s = shim(Duration::from_secs(60)).await;
    let t = Instant::now();
    let v = invoke(&s.app, "hog", json!({"mb": 1024})).await;
    let took = t.elapsed();
    assert_eq!(v["code"], "FUNCTIONS_EXECUTE_FAIL", "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("ran out of memory (limit 256 MB)"), "{m}");
    println!("1 GB allocation refused after {took:?}");
    // A fresh worker serves the next call.
    let v = invoke(&s.app, "hog", json!({"mb": 16})).await;
    assert_eq!(result(&v), json!({"ok": 2}), "{v}");
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_a_function_started_die_with_its_worker() {
    let s = shim(Duration::from_secs(2)).await;
    let pidfile = s.dir.path().join("child.pid");
    let v = invoke(
        &s.app,
        "spawner",
        json!({"pidfile": pidfile.to_str().unwrap()}),
    )
    .await;
    assert_eq!(v["code"], "FUNCTIONS_EXECUTE_FAIL", "{v}");
    assert!(v["message"].as_str().unwrap().contains("timed out"), "{v}");
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !alive(pid),
        "the function's `sleep 1000` (pid {pid}) survived the timeout"
    );

    // Shutdown takes the children of idle workers too.
    let s = shim(Duration::from_secs(30)).await;
    let pidfile = s.dir.path().join("child2.pid");
    let app = s.app.clone();
    let pf = pidfile.clone();
    let call = tokio::spawn(async move {
        invoke(&app, "spawner", json!({"pidfile": pf.to_str().unwrap()})).await
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pidfile.exists() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(alive(pid));
    call.abort();
    let _ = call.await;
    s.runner.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        !alive(pid),
        "pid {pid} survived a cancelled call and shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_output_is_truncated_and_the_call_completes() {
    let s = shim(Duration::from_secs(60)).await;
    let mut logs = s.runner.subscribe_logs();
    let v = invoke(&s.app, "shout", json!({"mb": 50})).await;
    assert_eq!(result(&v), json!("done"), "{v}");
    // Console lines arrive on their own: wait for the marker that ends the call's output.
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), logs.recv()).await {
            Ok(Ok(l)) => {
                let end = l.line.contains("further lines dropped");
                lines.push(l.line);
                if end {
                    break;
                }
            }
            Ok(Err(e)) => panic!("log channel: {e}"),
            Err(_) => break,
        }
    }
    let first = &lines[0];
    assert!(
        first.starts_with("xxxx"),
        "{}",
        &first[..40.min(first.len())]
    );
    assert!(first.len() < 4200, "line kept {} bytes", first.len());
    assert!(first.contains("line truncated"), "{first}");
    let total: usize = lines.iter().map(String::len).sum();
    assert!(total <= (1 << 20) + 200, "kept {total} bytes of output");
    assert!(
        lines.last().unwrap().contains("further lines dropped"),
        "{:?}",
        lines.last()
    );
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|st| {
            st.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_string)
        })
        .unwrap_or_default();
    // The shim never held the 50 MB line (the whole test process peaks far below it).
    let peak_kb: u64 = peak
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(peak_kb < 40 << 10, "{peak}");
    println!(
        "50 MB line + 1.6 MB of lines → {} lines, {total} bytes kept; test process peak {peak}",
        lines.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_function_is_named_without_a_host_path() {
    let s = shim(Duration::from_secs(5)).await;
    let v = invoke(&s.app, "nope", json!({})).await;
    assert_eq!(v["code"], "FUNCTIONS_REQUEST_FAIL", "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("function nope not found"), "{m}");
    assert!(m.contains("cloudfunctions/nope/index.js"), "{m}");
    let host = s.dir.path().to_str().unwrap();
    assert!(!m.contains(host) && !m.contains("/tmp"), "{m}");
    assert!(
        !Path::new(m.split(' ').next_back().unwrap()).is_absolute(),
        "{m}"
    );
}
