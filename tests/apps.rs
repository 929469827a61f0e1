//! Each sample app under `fixtures/apps/` has a snapshot of its JSON report
//! (`tests/snapshots/apps__<app>.snap`). A change in what the analyzer finds shows up as a
//! snapshot diff to review (`cargo insta review`).

use std::path::Path;
use std::process::Command;

fn report(app: &str) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/apps")
        .join(app);
    let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["analyze", "--format", "json"])
        .arg(&dir)
        .output()
        .expect("run migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

macro_rules! app_snapshot {
    ($name:ident, $app:literal) => {
        #[test]
        fn $name() {
            let r = report($app);
            insta::assert_json_snapshot!($app, r, { ".tool.version" => "[version]" });
        }
    };
}

app_snapshot!(bus_ride, "bus-ride");
app_snapshot!(shop, "shop");
app_snapshot!(ts_news, "ts-news");
app_snapshot!(messy, "messy");
app_snapshot!(half_cloud, "half-cloud");
app_snapshot!(webpack_sdk, "webpack-sdk");
