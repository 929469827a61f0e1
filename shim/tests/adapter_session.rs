//! End to end: the mini-program `wx.cloud` adapter (`artifacts/js/wx-cloud-shim.js`)
//! against a real shim. Starts the shim on 127.0.0.1:0 over a copy of
//! `tests/node-adapter/project`, then runs `node --test tests/node-adapter` with `SHIM_URL`
//! set, so the adapter's database, function and storage calls go through `/client`.

mod common;

use common::{copy_dir, repo_root};
use std::process::Stdio;
use std::time::Duration;

use shim::db::permissions::Permissions;
use shim::{AppState, ShimConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wx_cloud_adapter_session_against_the_shim() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("project");
    copy_dir(&repo_root().join("tests/node-adapter/project"), &project);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut config = ShimConfig::from_project(&project).unwrap();
    config.public_url = Some(url.clone());
    let env_id = config.env_id.clone();
    let seeds = config.seed_database_dir.clone();
    let state = AppState::open(config).await.unwrap();
    // The project's seed records and collection permissions. Loading is idempotent (upsert by
    // `_id`), so this stays right whether or not `AppState::open` loads them itself.
    let report = shim::seed::load_dir(state.db.store().as_ref(), &seeds);
    assert!(report.errors.is_empty(), "{report:?}");
    let permissions = Permissions::load(&seeds.join("_permissions.json")).unwrap();
    state.db.set_permissions(permissions);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(shim::server::serve(
        listener,
        async move {
            let _ = stop_rx.await;
        },
        state,
    ));

    let node = tokio::process::Command::new("node")
        .arg("--test")
        .arg("tests/node-adapter")
        .current_dir(repo_root())
        .env("SHIM_URL", &url)
        .env("SHIM_ENV", &env_id)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), node)
        .await
        .expect("node --test finished in time")
        .expect("node must be on PATH");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);

    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;

    assert!(
        out.status.success(),
        "node --test failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("# fail 0"), "{stdout}");
    assert!(
        stdout.contains("# skipped 0"),
        "the session tests must run, not skip:\n{stdout}"
    );
}
