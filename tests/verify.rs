//! `migrate verify` and the page runtime it runs apps in (`artifacts/js/mp-runtime/`): the
//! runtime's own tests, the verify driver's (bus-ride applied, served and verified equal; a
//! seed edited, an asset swapped and a route pointed elsewhere each caught on the right page
//! and path), and the command itself on every other sample app (messy, half-cloud,
//! webpack-sdk and the TypeScript apps ts-news and axios-ts, compiled on load, verified equal;
//! the framework apps refused with the reason), all in Node
//! (`artifacts/tests/mp-runtime/*.test.js`) with this build's binary as `MIGRATE_BIN` and the
//! real `wx-server-sdk` and `typescript` from `tests/node` (installed by `scripts/test`).

use std::path::Path;
use std::process::Command;

#[test]
fn page_runtime_and_verify_in_node() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert!(
        repo.join("tests/node/node_modules/wx-server-sdk").is_dir(),
        "run `npm ci --prefix tests/node` first (scripts/test does)"
    );
    let out = Command::new("node")
        .arg("--test")
        .arg("--test-concurrency=1")
        .arg(repo.join("artifacts/tests/mp-runtime/"))
        .env("MIGRATE_BIN", env!("CARGO_BIN_EXE_migrate"))
        .output()
        .expect("node must be on PATH to run the page runtime");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("# fail 0") && !stdout.contains("# pass 0"),
        "node --test failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("# skipped") || stdout.contains("# skipped 0"),
        "no test may be skipped here:\n{stdout}"
    );
    for line in stdout.lines().filter(|l| l.contains("verify: ")) {
        println!("{}", line.trim_start_matches(['#', ' ']));
    }
}
