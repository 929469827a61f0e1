//! Helpers the binary's end-to-end tests share: copying a sample app, starting `migrate serve`.

#![allow(dead_code)]

pub(crate) mod expected;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

/// Copies a folder (symlinks as symlinks, so a sample app's symlink loop stays a loop).
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            #[cfg(unix)]
            if let Ok(target) = std::fs::read_link(&p) {
                let _ = std::os::unix::fs::symlink(target, to.join(e.file_name()));
            }
        } else if ft.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A running `migrate serve --port 0` over `project`: the process, its URL (from the first line
/// it prints) and the rest of its standard output.
pub(crate) fn serve(project: &Path) -> (Child, String, BufReader<ChildStdout>) {
    serve_with(project, &[])
}

/// [`serve`] with more arguments (`--host`, `--admin-token`...). The URL is the one to reach the
/// shim from this machine.
pub(crate) fn serve_with(project: &Path, args: &[&str]) -> (Child, String, BufReader<ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["serve", "--port", "0"])
        .args(args)
        .arg(project)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let listening = first
        .trim()
        .strip_prefix("migrate serve: listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
    let url = listening
        .split_once("from this machine: ")
        .map_or(listening, |(_, url)| url)
        .to_string();
    (child, url, stdout)
}

/// `migrate analyze --format json` of the sample app `app` (under `fixtures/apps/`).
pub(crate) fn report(app: &str) -> serde_json::Value {
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

/// A URL without its query string, each `{placeholder}` as `{}` (to compare a reported URL
/// with one written in an `EXPECTED.md`).
pub(crate) fn url_shape(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or("");
    let mut out = String::new();
    let mut depth = 0;
    for ch in url.chars() {
        match ch {
            '{' => {
                depth += 1;
                if depth == 1 {
                    out.push_str("{}");
                }
            }
            '}' => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}
