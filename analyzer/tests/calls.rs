//! Backend-call detector: one small mini-program per request-wrapper pattern under
//! `tests/fixtures/calls/<case>/`, each snapshotted (`backendCalls`, `wrappers`,
//! `proposedFunctions`), plus targeted asserts.

use std::path::{Path, PathBuf};

use analyzer::{Options, Project, analyze};
use serde_json::{Value, json};

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/calls")
        .join(case)
}

/// Runs the analysis on a directory and returns the backend-call part of the findings.
fn run_dir(dir: &Path) -> Value {
    let project = Project::discover(dir).expect("fixture project is discoverable");
    let analysis = analyze(project, Options::default());
    let f = &analysis.findings;
    json!({
        "backendCalls": f.backend_calls,
        "wrappers": f.wrappers,
        "proposedFunctions": f.proposed_functions,
    })
}

fn run(case: &str) -> Value {
    run_dir(&fixture(case))
}

fn calls(v: &Value) -> &Vec<Value> {
    v["backendCalls"]
        .as_array()
        .expect("backendCalls is an array")
}

fn urls(v: &Value) -> Vec<String> {
    calls(v)
        .iter()
        .map(|c| c["endpoint"]["url"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
#[ignore = "prints the findings of the sample apps; run with --ignored --nocapture"]
fn dump_sample_apps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apps");
    let only = std::env::var("APP").ok();
    for app in ["bus-ride", "shop", "ts-news", "messy", "half-cloud"] {
        if only.as_deref().is_some_and(|o| o != app) {
            continue;
        }
        let dir = root.join(app);
        if !dir.join("project.config.json").exists() {
            continue;
        }
        let v = run_dir(&dir);
        println!("==== {app}: {} calls", calls(&v).len());
        for c in calls(&v) {
            let callers: Vec<String> = c["callers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|l| format!("{}:{}", l["path"], l["line"]))
                        .collect()
                })
                .unwrap_or_default();
            println!(
                "{}:{} {} {} {} [{}] via {} callers {}",
                c["loc"]["path"].as_str().unwrap_or(""),
                c["loc"]["line"],
                c["api"],
                c["method"],
                c["endpoint"]["url"].as_str().unwrap_or(""),
                c["endpoint"]["resolution"],
                c["via"],
                callers.join(" ")
            );
        }
        for wr in v["wrappers"].as_array().into_iter().flatten() {
            println!(
                "wrapper {} {} -> {} sites {}",
                wr["id"], wr["kind"], wr["calls"], wr["callSites"]
            );
        }
        for p in v["proposedFunctions"].as_array().into_iter().flatten() {
            println!(
                "fn {} {} {} {}",
                p["name"], p["host"], p["pathPrefix"], p["routes"]
            );
        }
    }
}
