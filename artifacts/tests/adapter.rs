//! The `wx.cloud` adapter in Node: its wire-encoding unit tests
//! (`tests/node-adapter/encoding.test.js`, no server needed; the session tests against a real
//! shim run from the shim's `adapter_session` test), and the compiled-in copy written out the
//! way the rewriter ships it.

use artifacts::WX_CLOUD_SHIM;
use std::path::Path;
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
}

#[test]
fn adapter_encoding_matches_the_sdk_captures() {
    let out = Command::new("node")
        .arg("--test")
        .arg("tests/node-adapter/encoding.test.js")
        .current_dir(repo())
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

#[test]
fn the_compiled_in_adapter_loads_under_its_name_and_installs_into_wx() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(WX_CLOUD_SHIM.name), WX_CLOUD_SHIM.source).unwrap();
    // What a page does: require it by name, install it into a `wx` that has a `cloud`.
    let script = r#"
        const wx = { cloud: {} };
        const handle = require('./wx-cloud-shim').install(
            { wx, url: 'http://127.0.0.1:1', openid: 'o', appid: 'a', env: 'e' });
        const apis = ['init', 'database', 'callFunction', 'uploadFile', 'getTempFileURL'];
        const missing = apis.filter((k) => typeof wx.cloud[k] !== 'function');
        if (missing.length) throw new Error('not installed: ' + missing.join(', '));
        handle.uninstall();
        if (Object.keys(wx.cloud).length) throw new Error('uninstall left ' + Object.keys(wx.cloud));
        console.log('installed');
    "#;
    let out = Command::new("node")
        .arg("-e")
        .arg(script)
        .current_dir(tmp.path())
        .output()
        .expect("node must be on PATH to test the adapter");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "installed",
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
