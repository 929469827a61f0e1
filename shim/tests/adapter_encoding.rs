//! Runs the Node unit tests of the `wx.cloud` adapter's wire encoding
//! (`tests/node-adapter/encoding.test.js`, no server needed) as part of `cargo test`.

use std::path::Path;
use std::process::Command;

#[test]
fn adapter_encoding_matches_the_sdk_captures() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let out = Command::new("node")
        .arg("--test")
        .arg("tests/node-adapter/encoding.test.js")
        .current_dir(repo)
        .output()
        .expect("node must be on PATH to test the adapter");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("# fail 0"), "{stdout}");
    assert!(
        !stdout.contains("# pass 0"),
        "no adapter test ran:\n{stdout}"
    );
}
