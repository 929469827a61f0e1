//! The `migrate` binary as a user runs it: formats, output files, exit status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn app(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/apps")
        .join(name)
}

fn migrate(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrate"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run migrate")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn human_report_has_the_size_table() {
    let o = migrate(&["analyze", app("bus-ride").to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    assert!(out.contains("Packages of `bus-ride`"), "{out}");
    // The main package is over 2 MB and the table says so.
    let main_row = out
        .lines()
        .find(|l| l.trim_start().starts_with("main "))
        .expect("main row");
    assert!(main_row.contains("OVER"), "{main_row}");
}

#[test]
fn json_report_is_versioned_and_written_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.json");
    let o = migrate(&[
        "analyze",
        app("shop").to_str().unwrap(),
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stdout.is_empty());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["schemaVersion"], 2);
    assert_eq!(v["tool"]["name"], "migrate");
    let names: Vec<&str> = v["sizes"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["main", "goods", "user"]);
    assert_eq!(v["sizes"]["packages"][0]["bytes"], 1_910_807);
}

#[test]
fn json_output_is_deterministic() {
    let a = stdout(&migrate(&[
        "analyze",
        app("messy").to_str().unwrap(),
        "--format",
        "json",
    ]));
    let b = stdout(&migrate(&[
        "analyze",
        app("messy").to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(a, b);
}

#[test]
fn sarif_is_2_1_0_with_rules_and_regions() {
    let o = migrate(&[
        "analyze",
        app("messy").to_str().unwrap(),
        "--format",
        "sarif",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert!(rules.contains(&id), "result rule {id} is declared");
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
        if !id.contains('/') {
            // A finding (not an input problem): a place, and its id as the fingerprint.
            assert!(!r["locations"].as_array().unwrap().is_empty(), "{r}");
            assert!(r["partialFingerprints"]["migrateId/v1"].is_string(), "{r}");
        }
    }
    // The syntax error in messy is a result with a line.
    let syntax = results
        .iter()
        .find(|r| r["ruleId"] == "js/syntax-error")
        .expect("syntax error result");
    let region = &syntax["locations"][0]["physicalLocation"]["region"];
    assert!(region["startLine"].as_u64().unwrap() >= 1);
}

#[test]
fn fail_on_and_budgets_set_the_exit_status() {
    let bus = app("bus-ride");
    let bus = bus.to_str().unwrap();
    assert_eq!(
        migrate(&[
            "analyze",
            bus,
            "--format",
            "json",
            "--fail-on",
            "over-limit"
        ])
        .status
        .code(),
        Some(1)
    );
    assert_eq!(
        migrate(&["analyze", bus, "--format", "json", "--max-main", "4MB"])
            .status
            .code(),
        Some(0)
    );
    let o = migrate(&["analyze", bus, "--format", "json", "--max-main", "1.5MB"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("main package is"));
    assert_eq!(
        migrate(&[
            "analyze",
            bus,
            "--format",
            "json",
            "--package-limit",
            "8MB",
            "--fail-on",
            "over-limit"
        ])
        .status
        .code(),
        Some(0)
    );
    // Each finding kind by its name, from the analyzer's table: bus-ride has calls, no inline assets.
    for (kind, code) in [
        ("backend-call", 1),
        ("static-data", 1),
        ("inline-asset", 0),
        ("any", 1),
    ] {
        let o = migrate(&["analyze", bus, "--format", "json", "--fail-on", kind]);
        assert_eq!(o.status.code(), Some(code), "--fail-on {kind}");
    }
    let messy = app("messy");
    assert_eq!(
        migrate(&[
            "analyze",
            messy.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "errors"
        ])
        .status
        .code(),
        Some(1)
    );
}

#[test]
fn not_a_project_is_exit_2_with_help() {
    let dir = tempfile::tempdir().unwrap();
    let o = migrate(&["analyze", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no mini-program"), "{err}");
    assert!(err.contains("project.config.json"), "{err}");
    let o = migrate(&["analyze", "--max-main", "lots", "x"]);
    assert_eq!(o.status.code(), Some(2));
}
