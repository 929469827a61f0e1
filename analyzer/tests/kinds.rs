//! The table of finding kinds: every kind it declares has a fixture folder that produces it
//! (`tests/fixtures/<detector>/<case>/`) and a snapshot of how the reports word it
//! (`snapshots/kinds__<rule>.snap`: the human diagnostics of its first findings there, then
//! their SARIF text). A new kind without a fixture fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use analyzer::findings::{Kind, Visit};
use analyzer::project::Limits;
use analyzer::report::human::{HumanOptions, Renderer};
use analyzer::report::{Report, fail_on_values};
use analyzer::{Analysis, Options, Project, analyze};

/// Findings of a kind the snapshot shows.
const SHOWN: usize = 3;

/// Small thresholds and limits so the fixture files stay small (as in `assets.rs` and
/// `data.rs`).
fn options() -> Options {
    Options {
        data_threshold: 400,
        image_threshold: 1000,
        audio_threshold: 1000,
        video_threshold: 1000,
        font_threshold: 500,
        inline_threshold: 100,
        limits: Limits {
            package: 16 * 1024,
            ..Options::default().limits
        },
    }
}

/// Every fixture case, `<detector>/<case>`, sorted.
fn cases() -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for group in std::fs::read_dir(&root).unwrap().flatten() {
        for case in std::fs::read_dir(group.path()).unwrap().flatten() {
            let project = ["project.config.json", "app.json"];
            if project.iter().any(|f| case.path().join(f).is_file()) {
                let name = format!(
                    "{}/{}",
                    group.file_name().to_string_lossy(),
                    case.file_name().to_string_lossy()
                );
                out.push((name, case.path()));
            }
        }
    }
    out.sort();
    out
}

/// The rule ids of the table, in report order.
fn rules(report: &Report<'_>) -> Vec<&'static str> {
    struct Rules(Vec<&'static str>);
    impl Visit for Rules {
        fn kind<K: Kind>(&mut self, _: &[K]) {
            self.0.push(K::RULE);
        }
    }
    let mut r = Rules(Vec::new());
    report.each_kind(&mut r);
    r.0
}

/// For one rule: how its first findings read, in the human report and in SARIF.
struct Wording<'a> {
    rule: &'a str,
    analysis: &'a Analysis,
    out: Option<String>,
}

impl Visit for Wording<'_> {
    fn kind<K: Kind>(&mut self, items: &[K]) {
        if K::RULE != self.rule || items.is_empty() {
            return;
        }
        let opts = HumanOptions {
            color: false,
            width: 100,
            all: true,
        };
        let mut human = Renderer::new(self.analysis, &opts);
        let mut sarif = String::new();
        for item in items.iter().take(SHOWN) {
            human.finding(item);
            sarif.push_str(&format!(
                "{}: {}. {}\n",
                item.id(),
                item.message(),
                item.help()
            ));
        }
        self.out = Some(format!("{}SARIF:\n{sarif}", human.finish()));
    }
}

#[test]
fn every_kind_has_a_fixture_and_a_snapshot() {
    let analyses: Vec<(String, Analysis)> = cases()
        .into_iter()
        .map(|(name, dir)| {
            let project = Project::discover(&dir).expect("fixture project");
            (name, analyze(project, options()))
        })
        .collect();
    let reports: Vec<Report<'_>> = analyses.iter().map(|(_, a)| Report::new(a)).collect();
    let all = rules(&reports[0]);
    assert_eq!(
        all.iter().collect::<BTreeSet<_>>().len(),
        all.len(),
        "rule ids are unique: {all:?}"
    );
    for rule in all {
        let found = analyses.iter().zip(&reports).find_map(|((name, a), r)| {
            let mut w = Wording {
                rule,
                analysis: a,
                out: None,
            };
            r.each_kind(&mut w);
            w.out.map(|text| (name, text))
        });
        let Some((case, text)) = found else {
            panic!(
                "no fixture under analyzer/tests/fixtures/<detector>/<case>/ has a `{rule}` \
                 finding: add one"
            );
        };
        insta::assert_snapshot!(rule, format!("fixture: {case}\n\n{text}"));
    }
}

#[test]
fn fail_on_names_are_unique_and_keep_the_flags_users_have() {
    let names: Vec<&str> = fail_on_values().iter().map(|(n, _)| *n).collect();
    let unique: BTreeSet<&&str> = names.iter().collect();
    assert_eq!(unique.len(), names.len(), "{names:?}");
    for old in [
        "errors",
        "over-limit",
        "static-data",
        "large-asset",
        "inline-asset",
        "backend-call",
        "unused",
        "any",
    ] {
        assert!(names.contains(&old), "--fail-on {old} still works");
    }
}
