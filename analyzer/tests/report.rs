//! The JSON report renders its backend calls in parallel and puts them in place: the result
//! must be byte for byte the plain pretty rendering, on every sample app and with many calls.

use std::path::Path;

use analyzer::report::{Report, json};
use analyzer::{Options, Project, analyze};

fn plain(report: &Report<'_>) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("the report serializes");
    s.push('\n');
    s
}

#[test]
fn parallel_json_equals_plain_rendering() {
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/apps");
    for app in ["bus-ride", "shop", "ts-news", "messy", "half-cloud"] {
        let project = Project::discover(&apps.join(app)).expect("sample app is discoverable");
        let mut analysis = analyze(project, Options::default());
        let report = Report::new(&analysis);
        assert_eq!(json::render(&report), plain(&report), "{app}");
        drop(report);

        // Many calls (several chunks), and none at all.
        let calls = analysis.findings.backend_calls.clone();
        if !calls.is_empty() {
            while analysis.findings.backend_calls.len() < 1000 {
                analysis
                    .findings
                    .backend_calls
                    .extend(calls.iter().cloned());
            }
            let report = Report::new(&analysis);
            let many = json::render(&report);
            assert_eq!(many, plain(&report), "{app}, many calls");
            assert!(serde_json::from_str::<serde_json::Value>(&many).is_ok());
        }
        analysis.findings.backend_calls.clear();
        let report = Report::new(&analysis);
        assert_eq!(json::render(&report), plain(&report), "{app}, no calls");
    }
}
