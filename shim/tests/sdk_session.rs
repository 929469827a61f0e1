//! The real npm SDKs against the shim: starts `shim::run` on `127.0.0.1:0` over a temporary copy
//! of `shim/tests/project` and runs `node tests/node/session.js` (wx-server-sdk 4.0.2,
//! @cloudbase/node-sdk 3.18.3 and tcb-admin-node 1.23.0, unmodified, pointed at the shim through
//! `TCB_CONTEXT_CNFG` and `serviceUrl`). Needs `npm ci --prefix tests/node` first; fails (never skips) without it.
//! Runs on the SQLite store, on PostgreSQL (a throwaway cluster, `common::pg`), and once more
//! with the shim checking every `/admin` request's TC3 signature (`--admin-token`/`--admin-key`,
//! as in sign-in mode): every SDK (they all sign with `@cloudbase/signature-nodejs`, and the
//! `sum` function's wx-server-sdk calling back signs with the key the shim hands it) must be
//! served, a wrong key refused.

mod common;

use common::{copy_dir, repo_root};
use std::time::Duration;

use shim::ShimConfig;

/// Every step `session.js` runs; each must print `ok <name>`.
const STEPS: &[&str] = &[
    "seeded collection readable",
    "createCollection",
    "add",
    "doc.get",
    "where.orderBy.skip.limit",
    "query commands",
    "count",
    "projection",
    "update commands",
    "doc.set",
    "where.update (multi)",
    "aggregate",
    "where.remove (multi)",
    "doc.remove",
    "missing collection -> -502005",
    "doc.get of a missing id fails",
    "callFunction (function uses wx-server-sdk)",
    "callFunction of a missing function fails",
    "uploadFile",
    "downloadFile",
    "downloadFile of a seeded cloud/storage file",
    "getTempFileURL and fetch it",
    "deleteFile",
    "downloadFile of a deleted file fails",
    "node-sdk: add / get / update / count / remove",
    "node-sdk: runTransaction commits",
    "node-sdk: startTransaction + rollback",
    "node-sdk: missing collection error code",
    "node-sdk: callFunction",
    "node-sdk: uploadFile / getTempFileURL / downloadFile / deleteFile",
    "node-sdk: copyFile",
    "tcb-admin-node: add / get / update / count / remove",
    "tcb-admin-node: callFunction",
    "tcb-admin-node: uploadFile (multipart POST) / getTempFileURL / deleteFile",
    "tcb-admin-node: SCF mode through HTTP_PROXY (absolute-form requests)",
];

/// The steps of a session against a shim that checks signatures: all of them, and a refusal.
fn signed_steps() -> Vec<&'static str> {
    let mut steps = STEPS.to_vec();
    steps.push("node-sdk: a wrong secretKey is refused");
    steps.push("tcb-admin-node: its default v2 signature is refused, saying what to do");
    steps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_sdks_against_the_shim() {
    session(None, false).await;
}

/// The same session with `/admin` signatures checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_sdks_against_a_shim_checking_signatures() {
    session(None, true).await;
}

/// The same session with the data in PostgreSQL (`database_url`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_sdks_against_the_shim_on_postgres() {
    if common::pg::skip() {
        return;
    }
    let url = tokio::task::spawn_blocking(|| {
        let db = common::pg::fresh_db();
        common::pg::server().url(&db)
    })
    .await
    .unwrap();
    session(Some(url), false).await;
}

async fn session(database_url: Option<String>, signed: bool) {
    let root = repo_root();
    let node_modules = root.join("tests/node/node_modules");
    assert!(
        node_modules.join("wx-server-sdk/package.json").is_file()
            && node_modules
                .join("@cloudbase/node-sdk/package.json")
                .is_file(),
        "the npm SDKs are not installed: run `npm ci --prefix tests/node` first (looked in {})",
        node_modules.display()
    );

    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    copy_dir(&root.join("shim/tests/project"), &project);
    // The `sum` function `require`s wx-server-sdk: resolve it from the test's node_modules.
    #[cfg(unix)]
    std::os::unix::fs::symlink(&node_modules, tmp.path().join("node_modules")).unwrap();

    let env_id = "shim-test-env";
    let mut config = ShimConfig::from_project(&project).unwrap();
    config.env_id = env_id.to_string();
    config.database_url = database_url;
    if signed {
        config.admin_token = Some("AKIDlocalshim".into());
        config.admin_key = Some("localshimkey".into());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(shim::run(
        listener,
        async {
            let _ = stop_rx.await;
        },
        config,
    ));

    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(root.join("tests/node/session.js"))
        .current_dir(root.join("tests/node"))
        .env("SHIM_URL", &url)
        .env("TCB_CONTEXT_CNFG", format!("{{\"URL\":\"{url}/admin\"}}"))
        .env("SCF_NAMESPACE", env_id)
        .env("TENCENTCLOUD_RUNENV", "SCF")
        .env("TENCENTCLOUD", "true")
        .env("TENCENTCLOUD_REGION", "ap-shanghai")
        .env("TENCENTCLOUD_SECRETID", "AKIDlocalshim")
        .env("TENCENTCLOUD_SECRETKEY", "localshimkey")
        .env("SHIM_SIGNED", if signed { "1" } else { "0" })
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .expect("session.js did not finish within 180 s")
        .expect("cannot run `node` (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    let _ = stop_tx.send(());
    let stopped = tokio::time::timeout(Duration::from_secs(30), server).await;
    assert!(
        matches!(stopped, Ok(Ok(Ok(())))),
        "shim did not shut down cleanly: {stopped:?}"
    );

    let report = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let failed: Vec<&str> = stdout.lines().filter(|l| l.starts_with("not ok")).collect();
    assert!(
        failed.is_empty(),
        "failed steps:\n{}\n{report}",
        failed.join("\n")
    );
    let steps = if signed {
        signed_steps()
    } else {
        STEPS.to_vec()
    };
    for step in steps {
        assert!(
            stdout.lines().any(|l| l == format!("ok {step}")),
            "step `{step}` did not pass\n{report}"
        );
    }
    assert!(output.status.success(), "session.js failed\n{report}");
}
