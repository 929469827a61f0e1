//! `migrate serve` as a user runs it: `--port 0` prints the bound URL, the shim answers the
//! action protocol with the project's seeds loaded, SIGTERM stops it cleanly, and `--export`
//! writes the database back out.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

mod common;

fn write_project(dir: &Path) {
    std::fs::create_dir_all(dir.join("cloud/database")).unwrap();
    std::fs::write(
        dir.join("project.config.json"),
        r#"{"appid":"wxclitest","miniprogramRoot":"miniprogram/"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("cloud/database/cities.json"),
        "{\"_id\":\"sh\",\"name\":\"Shanghai\"}\n{\"_id\":\"bj\",\"name\":\"Beijing\"}\n",
    )
    .unwrap();
}

fn post(addr: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /admin?env=local-dev&seqId=1 HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[cfg(unix)]
#[test]
fn serve_prints_url_answers_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("app");
    write_project(&project);
    let (mut child, url, mut stdout) = common::serve(&project);
    let addr = url.strip_prefix("http://").unwrap().to_string();
    let mut banner = String::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        banner.push_str(&line);
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    assert!(
        banner.contains(&format!("TCB_CONTEXT_CNFG='{{\"URL\":\"{url}/admin\"}}'")),
        "{banner}"
    );

    let reply = post(
        &addr,
        r#"{"action":"database.calculateDocument","collectionName":"cities","queryType":"WHERE"}"#,
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""data":{"total":2}"#), "{reply}");
    let reply = post(&addr, "{broken");
    assert!(reply.contains(r#""code":"INVALID_PARAM""#), "{reply}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut waited = 0;
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(waited < 100, "migrate serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    };
    assert!(exit.success(), "exit status {exit:?}");
    assert!(project.join(".migrate/db.sqlite").is_file());

    let export = tmp.path().join("export");
    let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["serve", "--export"])
        .arg(&export)
        .arg(&project)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(export.join("cities.json")).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("Shanghai"), "{text}");
}

#[test]
fn serve_reports_a_missing_project() {
    let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["serve", "--port", "0", "/definitely/not/here"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn serve_off_loopback_needs_sign_in() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("app");
    write_project(&project);
    let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["serve", "--port", "0", "--host", "0.0.0.0"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("loopback only"), "{err}");
    assert!(err.contains("--secret"), "{err}");
    // Sign-in mode needs the admin credentials that /admin will check.
    let out = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["serve", "--port", "0", "--secret", "s3cr3t"])
        .arg(&project)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--admin-key"), "{err}");
}

#[cfg(unix)]
#[test]
fn serve_on_every_interface_in_sign_in_mode_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("app");
    write_project(&project);
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["serve", "--port", "0", "--host", "0.0.0.0"])
        .args(["--secret", "s3cr3t", "--admin-token", "AKIDcli"])
        .env("MIGRATE_ADMIN_KEY", "cli-admin-key")
        .arg(&project)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    // The real address, and the one to use from this machine.
    assert!(
        first.starts_with("migrate serve: listening on 0.0.0.0:"),
        "{first}"
    );
    assert!(first.contains("every network interface"), "{first}");
    let url = first.trim().rsplit("from this machine: ").next().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");
    let mut second = String::new();
    stdout.read_line(&mut second).unwrap();
    assert!(
        second.starts_with("sign-in mode: wx.login codes for appid wxclitest"),
        "{second}"
    );
    // /admin without the SDK's signature is refused; the secret never reaches the output.
    let reply = post(
        url.strip_prefix("http://").unwrap(),
        r#"{"action":"database.calculateDocument","collectionName":"cities","queryType":"WHERE"}"#,
    );
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let all = format!(
        "{first}{second}{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !all.contains("s3cr3t") && !all.contains("cli-admin-key"),
        "{all}"
    );
}

#[cfg(unix)]
#[test]
fn default_log_has_no_line_per_request() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("app");
    write_project(&project);
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(["serve", "--port", "0"])
        .arg(&project)
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first.trim().rsplit(' ').next().unwrap().to_string();
    let addr = url.strip_prefix("http://").unwrap();
    for _ in 0..50 {
        let reply = post(
            addr,
            r#"{"action":"database.calculateDocument","collectionName":"cities","queryType":"WHERE"}"#,
        );
        assert!(reply.contains(r#""total":2"#), "{reply}");
    }
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // Start-up (the seed loaded) and shutdown lines only, whatever the number of requests.
    assert!(err.lines().count() < 8, "{err}");
}
