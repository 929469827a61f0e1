//! The cloud-function runner against real Node and the small functions in
//! `shim/tests/functions/` (copied into a temporary folder so module resolution only sees
//! what each test puts there).

mod common;

use common::copy_dir;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use shim::functions::{FunctionError, FunctionRunner, FunctionsConfig, InvokeContext, LogStream};

/// A temp project: `<tmp>/project/cloudfunctions/<fixtures>`.
fn project() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project").join("cloudfunctions");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/functions");
    copy_dir(&fixtures, &root);
    (tmp, root)
}

fn runner(root: &Path, timeout: Duration, max_workers: usize) -> FunctionRunner {
    let mut cfg = FunctionsConfig::new(root, "http://127.0.0.1:9/", "test-env-1a2b3c");
    cfg.timeout = timeout;
    cfg.max_workers_per_function = max_workers;
    FunctionRunner::new(cfg)
}

fn caller(openid: &str, request_id: &str) -> InvokeContext {
    InvokeContext {
        openid: Some(openid.to_string()),
        appid: Some("wx0123456789abcdef".to_string()),
        unionid: None,
        client_ip: Some("10.1.2.3".to_string()),
        source: "wx_client".to_string(),
        request_id: request_id.to_string(),
    }
}

async fn call(
    r: &FunctionRunner,
    name: &str,
    event: Value,
    ctx: InvokeContext,
) -> Result<Value, FunctionError> {
    r.invoke(name, &event.to_string(), ctx)
        .await
        .map(|text| serde_json::from_str(&text).expect("runner returns JSON text"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn result_round_trips_and_the_platform_context_is_set() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 2);
    let event = json!({"a": 1, "s": "x", "nested": {"list": [1.5, null, true]}, "u": "ünï"});
    let out = call(&r, "echo", event, caller("oOpenidA", "req-1"))
        .await
        .unwrap();

    assert_eq!(out["event"]["a"], 1);
    assert_eq!(out["event"]["nested"], json!({"list": [1.5, null, true]}));
    assert_eq!(out["event"]["u"], "ünï");
    assert_eq!(
        out["event"]["userInfo"],
        json!({"appId": "wx0123456789abcdef", "openId": "oOpenidA"})
    );
    assert_eq!(
        out["wxContext"],
        json!({"OPENID": "oOpenidA", "APPID": "wx0123456789abcdef", "CLIENTIP": "10.1.2.3",
               "ENV": "test-env-1a2b3c", "SOURCE": "wx_client"})
    );
    let ctx = &out["context"];
    assert_eq!(ctx["request_id"], "req-1");
    assert_eq!(ctx["function_name"], "echo");
    assert_eq!(ctx["namespace"], "test-env-1a2b3c");
    assert_eq!(ctx["time_limit_in_ms"], 20000);
    let environment: Value = serde_json::from_str(ctx["environment"].as_str().unwrap()).unwrap();
    assert_eq!(environment["WX_OPENID"], "oOpenidA");
    assert_eq!(environment["TCB_ENV"], "test-env-1a2b3c");

    let env = &out["env"];
    assert_eq!(env["TENCENTCLOUD_RUNENV"], "SCF");
    assert_eq!(
        env["TCB_CONTEXT_CNFG"],
        r#"{"URL":"http://127.0.0.1:9/admin"}"#
    );
    assert_eq!(env["TCB_CONTEXT_KEYS"], "TCB_ENV,TCB_SEQID,TCB_SOURCE");
    assert_eq!(
        env["WX_CONTEXT_KEYS"],
        "WX_OPENID,WX_APPID,WX_UNIONID,WX_CLIENTIP"
    );
    assert_eq!(env["TCB_SEQID"], "req-1");
    assert_eq!(env["SCF_NAMESPACE"], "test-env-1a2b3c");
    assert!(
        env["TENCENTCLOUD_SECRETID"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(
        env["TENCENTCLOUD_SECRETKEY"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    // The function runs in its own folder, as on the platform (/var/user).
    assert!(
        out["cwd"]
            .as_str()
            .unwrap()
            .ends_with("cloudfunctions/echo")
    );

    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_alternate_on_one_warm_worker() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 1);
    let mut pids = Vec::new();
    for (i, openid) in ["oAlice", "oBob", "oAlice", "oBob"].iter().enumerate() {
        let out = call(
            &r,
            "echo",
            json!({"i": i}),
            caller(openid, &format!("req-{i}")),
        )
        .await
        .unwrap();
        assert_eq!(out["wxContext"]["OPENID"], *openid);
        assert_eq!(out["event"]["userInfo"]["openId"], *openid);
        assert_eq!(out["env"]["TCB_SEQID"], format!("req-{i}"));
        assert_eq!(
            out["calls"],
            i + 1,
            "module state survives: the function was loaded once"
        );
        pids.push(out["pid"].as_i64().unwrap());
    }
    assert!(
        pids.windows(2).all(|w| w[0] == w[1]),
        "one warm process: {pids:?}"
    );
    assert_eq!(r.idle_workers("echo"), 1);

    // An HTTP-API style caller has no openid: OPENID disappears from getWXContext and
    // userInfo only carries the appId.
    let ctx = InvokeContext {
        openid: None,
        source: "wx_http".into(),
        ..caller("unused", "req-http")
    };
    let out = call(&r, "echo", json!({}), ctx).await.unwrap();
    assert!(
        out["wxContext"].get("OPENID").is_none(),
        "{}",
        out["wxContext"]
    );
    assert_eq!(out["wxContext"]["SOURCE"], "wx_http");
    assert_eq!(
        out["event"]["userInfo"],
        json!({"appId": "wx0123456789abcdef"})
    );
    assert_eq!(out["pid"].as_i64().unwrap(), pids[0]);
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throw_fails_the_call_with_its_message_and_the_worker_stays_warm() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 1);
    let err = call(
        &r,
        "throws",
        json!({"why": "bad input"}),
        caller("o1", "r1"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "FUNCTIONS_EXECUTE_FAIL");
    assert_eq!(err.errcode(), -504002);
    assert_eq!(err.message(), "boom: bad input");
    match &err {
        FunctionError::Execution { stack, load, .. } => {
            assert!(!load);
            assert!(
                stack.as_deref().unwrap_or("").contains("index.js"),
                "{stack:?}"
            );
        }
        other => panic!("expected an execution error, got {other:?}"),
    }
    assert_eq!(
        r.idle_workers("throws"),
        1,
        "a throw does not cost the warm worker"
    );

    let err = call(&r, "callback", json!({"fail": true}), caller("o1", "r2"))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "callback failure");
    let ok = call(&r, "callback", json!({"a": 2, "b": 3}), caller("o1", "r3"))
        .await
        .unwrap();
    assert_eq!(ok, json!({"viaCallback": true, "sum": 5}));
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_call_times_out_and_the_next_call_gets_a_fresh_worker() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_millis(1500), 1);
    let first = call(&r, "hang", json!({"quick": true}), caller("o1", "r0"))
        .await
        .unwrap();
    let started = Instant::now();
    let err = call(&r, "hang", json!({}), caller("o1", "r1"))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.code(), "FUNCTIONS_EXECUTE_FAIL");
    assert_eq!(err.message(), "Task timed out after 1.50 seconds");
    assert!(
        waited >= Duration::from_millis(1400) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    assert_eq!(
        r.idle_workers("hang"),
        0,
        "the stuck worker was killed, not kept"
    );
    let pid = first["pid"].as_i64().unwrap();
    #[cfg(target_os = "linux")]
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid),
        "worker {pid} still running"
    );

    let next = call(&r, "hang", json!({"quick": true}), caller("o1", "r2"))
        .await
        .unwrap();
    assert_ne!(next["pid"].as_i64().unwrap(), pid);

    let err = call(&r, "hang_async", json!({}), caller("o1", "r3"))
        .await
        .unwrap_err();
    assert!(err.is_timeout());
    r.shutdown().await;
}

#[cfg(target_os = "linux")]
fn is_zombie(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split_whitespace().nth(2) == Some("Z"))
        .unwrap_or(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_exit_and_async_crashes_fail_only_their_call() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 1);

    let err = call(&r, "exits", json!({}), caller("o1", "r1"))
        .await
        .unwrap_err();
    assert!(matches!(err, FunctionError::Crashed { .. }), "{err:?}");
    assert_eq!(err.code(), "FUNCTIONS_EXECUTE_FAIL");
    assert!(
        err.message().contains("exited with code 1"),
        "{}",
        err.message()
    );
    assert!(
        call(&r, "exits", json!({"ok": true}), caller("o1", "r2"))
            .await
            .is_ok()
    );

    let err = call(&r, "stray_rejection", json!({}), caller("o1", "r3"))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "nobody handles this");
    assert_eq!(err.code(), "FUNCTIONS_EXECUTE_FAIL");
    let a = call(
        &r,
        "stray_rejection",
        json!({"ok": true}),
        caller("o1", "r4"),
    )
    .await
    .unwrap();

    let err = call(&r, "async_throw", json!({}), caller("o1", "r5"))
        .await
        .unwrap_err();
    assert_eq!(err.message(), "thrown from a timer");
    let b = call(&r, "async_throw", json!({"ok": true}), caller("o1", "r6"))
        .await
        .unwrap();
    assert!(a["pid"].is_i64() && b["pid"].is_i64());
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_output_is_forwarded_with_the_request_id() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 1);
    let mut logs = r.subscribe_logs();
    let out = call(&r, "logs", json!({"n": 7}), caller("o1", "req-log-7"))
        .await
        .unwrap();
    assert_eq!(
        out,
        json!({"logged": true}),
        "console output stays off the result"
    );
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.len() < 2 && Instant::now() < deadline {
        if let Ok(Ok(line)) = tokio::time::timeout(Duration::from_millis(200), logs.recv()).await {
            seen.push(line);
        }
    }
    let out_line = seen
        .iter()
        .find(|l| l.stream == LogStream::Stdout)
        .expect("stdout line");
    assert_eq!(out_line.line, "hello from call 7");
    assert_eq!(out_line.request_id, "req-log-7");
    assert_eq!(out_line.function, "logs");
    let err_line = seen
        .iter()
        .find(|l| l.stream == LogStream::Stderr)
        .expect("stderr line");
    assert_eq!(err_line.line, "a warning from call 7");
    assert_eq!(err_line.request_id, "req-log-7");
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_run_in_parallel_workers_up_to_the_limit() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 3);
    // Warm three workers first so the timing below measures calls, not Node start-up.
    let warm = futures_join(&r, 3, 10).await;
    assert_eq!(warm.len(), 3);
    let started = Instant::now();
    let pids = futures_join(&r, 3, 400).await;
    let took = started.elapsed();
    let mut distinct = pids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "three calls, three processes: {pids:?}");
    assert!(
        took < Duration::from_millis(1100),
        "calls overlapped: {took:?}"
    );
    assert_eq!(r.idle_workers("slow"), 3);

    // Over the limit: the fourth call waits for a free worker instead of spawning one.
    let pids = futures_join(&r, 6, 50).await;
    let mut distinct = pids.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() <= 3, "{pids:?}");
    r.shutdown().await;
    assert_eq!(r.idle_workers("slow"), 0);
    #[cfg(target_os = "linux")]
    for pid in distinct {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid),
            "worker {pid} survived shutdown"
        );
    }
    // After shutdown the runner refuses work instead of spawning new processes.
    let err = call(&r, "slow", json!({"ms": 1}), caller("o", "late"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "SYS_ERR", "{err:?}");
}

async fn futures_join(r: &FunctionRunner, n: usize, ms: u64) -> Vec<i64> {
    let calls = (0..n).map(|i| call(r, "slow", json!({"ms": ms}), caller("o", &format!("c{i}"))));
    let mut pids = Vec::new();
    for out in join_all(calls).await {
        pids.push(out.unwrap()["pid"].as_i64().unwrap());
    }
    pids
}

/// Poll a set of futures to completion concurrently (no extra crates needed).
async fn join_all<F: std::future::Future>(futs: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("completed")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_functions_and_bad_modules_are_reported_clearly() {
    let (tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 1);

    for name in ["nope", "../project", "", "echo/../echo"] {
        let err = call(&r, name, json!({}), caller("o", "r"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, FunctionError::NotFound { .. }),
            "{name}: {err:?}"
        );
        assert_eq!(err.code(), "FUNCTIONS_REQUEST_FAIL");
        assert_eq!(err.errcode(), -504001);
    }

    let err = call(&r, "needs_deps", json!({}), caller("o", "r"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FunctionError::Execution { load: true, .. }),
        "{err:?}"
    );
    let msg = err.message();
    assert!(
        msg.contains("Cannot find module 'wx-server-sdk-not-installed-here'"),
        "{msg}"
    );
    assert!(
        msg.contains("has a package.json but no node_modules"),
        "{msg}"
    );
    assert!(msg.contains("run `npm install` in"), "{msg}");
    assert!(msg.contains("needs_deps"), "{msg}");

    // A dependency installed in an ancestor folder resolves, as Node resolves it.
    let dep = tmp.path().join("project/node_modules/shared-dep");
    std::fs::create_dir_all(&dep).unwrap();
    std::fs::write(
        dep.join("index.js"),
        "exports.name = 'shared-dep from the project root';",
    )
    .unwrap();
    let out = call(&r, "uses_ancestor", json!({}), caller("o", "r"))
        .await
        .unwrap();
    assert_eq!(out, json!({"dep": "shared-dep from the project root"}));

    let err = call(&r, "no_main", json!({}), caller("o", "r"))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("does not export a main function"),
        "{err:?}"
    );

    let err = call(&r, "bad_syntax", json!({}), caller("o", "r"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, FunctionError::Execution { load: true, .. }),
        "{err:?}"
    );
    assert!(
        err.message().contains("Unexpected token"),
        "{}",
        err.message()
    );

    assert_eq!(r.function_names().len(), 16);
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_node_binary_is_a_clear_internal_error() {
    let (_tmp, root) = project();
    let mut cfg = FunctionsConfig::new(&root, "http://127.0.0.1:9", "e");
    cfg.node = PathBuf::from("/nonexistent/bin/node");
    let r = FunctionRunner::new(cfg);
    let err = call(&r, "echo", json!({}), caller("o", "r"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "SYS_ERR");
    assert!(
        err.message()
            .contains("cannot start Node.js (/nonexistent/bin/node)"),
        "{}",
        err.message()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_event_and_undefined_result() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 1);
    let out = r.invoke("echo", "", caller("o", "r")).await.unwrap();
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(out["event"]["userInfo"]["openId"], "o");
    let err = r
        .invoke("echo", "{not json", caller("o", "r"))
        .await
        .unwrap_err();
    assert!(err.message().starts_with("invalid event JSON"), "{err:?}");
    assert_eq!(
        r.invoke("returns_nothing", "{}", caller("o", "r"))
            .await
            .unwrap(),
        "null"
    );
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_a_function_takes_effect_on_the_next_call() {
    let (_tmp, root) = project();
    let r = runner(&root, Duration::from_secs(20), 1);
    let first = call(&r, "echo", json!({}), caller("o", "r1"))
        .await
        .unwrap();
    let again = call(&r, "echo", json!({}), caller("o", "r2"))
        .await
        .unwrap();
    assert_eq!(again["calls"], 2, "unchanged code stays warm");
    assert_eq!(first["pid"], again["pid"]);

    std::fs::write(
        root.join("echo/index.js"),
        "exports.main = async () => ({ edited: true, pid: process.pid });",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let edited = call(&r, "echo", json!({}), caller("o", "r3"))
        .await
        .unwrap();
    assert_eq!(edited["edited"], true);
    assert_ne!(
        edited["pid"], first["pid"],
        "a fresh worker loaded the new code"
    );
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_requests_of_a_running_call_map_back_to_its_caller() {
    let (_tmp, root) = project();
    let r = std::sync::Arc::new(runner(&root, Duration::from_secs(20), 1));
    let r2 = std::sync::Arc::clone(&r);
    let running = tokio::spawn(async move {
        r2.invoke("peek", r#"{"ms":400}"#, caller("oCarol", "rq-7f-3"))
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    // wx-server-sdk sends seqId=<TCB_SEQID>-<hex ms>_<hex counter>.
    let who = r
        .caller_for_seq_id("rq-7f-3-1a20b85b514_1")
        .expect("call in progress");
    assert_eq!(who.openid.as_deref(), Some("oCarol"));
    assert_eq!(who.request_id, "rq-7f-3");
    assert!(r.caller_for_seq_id("other-1a20b85b514_1").is_none());
    let out: Value = serde_json::from_str(&running.await.unwrap().unwrap()).unwrap();
    assert_eq!(out["seq"], "rq-7f-3");
    assert!(
        r.caller_for_seq_id("rq-7f-3-1a20b85b514_2").is_none(),
        "forgotten once the call ends"
    );
    r.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prewarmed_worker_has_its_module_loaded_and_serves_the_first_call() {
    let (_tmp, root) = project();
    let dir = root.join("loads");
    std::fs::create_dir_all(&dir).unwrap();
    // Module-level code runs when the module loads: at the prewarm, not at the call.
    std::fs::write(
        dir.join("index.js"),
        "const loadedAt = Date.now();\nexports.main = async () => ({ pid: process.pid, loadedAt, calledAt: Date.now() });\n",
    )
    .unwrap();
    let r = runner(&root, Duration::from_secs(10), 2);
    assert_eq!(r.idle_workers("loads"), 0);
    r.prewarm("loads").await.unwrap();
    assert_eq!(r.idle_workers("loads"), 1);
    // A second prewarm keeps the one warm worker.
    r.prewarm("loads").await.unwrap();
    assert_eq!(r.idle_workers("loads"), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let first = call(&r, "loads", json!({}), caller("o1", "req-w1"))
        .await
        .unwrap();
    assert!(
        first["calledAt"].as_i64().unwrap() - first["loadedAt"].as_i64().unwrap() >= 40,
        "the module loaded at the prewarm, before the call: {first}"
    );
    let second = call(&r, "loads", json!({}), caller("o1", "req-w2"))
        .await
        .unwrap();
    assert_eq!(first["pid"], second["pid"], "the same warm worker");
    assert_eq!(r.idle_workers("loads"), 1);
    // A module that does not load is reported by the prewarm, and still by each call.
    let e = r.prewarm("bad_syntax").await.unwrap_err();
    assert!(e.to_string().contains("Unexpected token"), "{e}");
    let e = call(&r, "bad_syntax", json!({}), caller("o1", "req-w3"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("Unexpected token"), "{e}");
    // Unknown functions are refused as a call would be.
    assert!(r.prewarm("no_such_function").await.is_err());
    // A call arriving while a warm-up starts the function's worker waits for that worker
    // instead of starting a second one.
    let r = std::sync::Arc::new(runner(&root, Duration::from_secs(10), 2));
    let warming = {
        let r = std::sync::Arc::clone(&r);
        tokio::spawn(async move { r.prewarm("loads").await })
    };
    tokio::time::sleep(Duration::from_millis(30)).await;
    let during = call(&r, "loads", json!({}), caller("o1", "req-w4"))
        .await
        .unwrap();
    warming.await.unwrap().unwrap();
    assert_eq!(r.idle_workers("loads"), 1, "one worker, not two: {during}");
    r.shutdown().await;
    // prewarm_all warms every function that loads and goes past those that do not.
    let r = runner(&root, Duration::from_secs(10), 2);
    r.prewarm_all(2).await;
    assert_eq!(r.idle_workers("loads"), 1);
    assert_eq!(r.idle_workers("echo"), 1);
    assert_eq!(r.idle_workers("bad_syntax"), 0);
    r.shutdown().await;
}
