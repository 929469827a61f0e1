//! Stable ids: every finding of a sample app has an id of its own, the cross-references name
//! findings that exist, and an id does not change when another file of the app is edited or
//! a file is added (on a copy of a sample app).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use analyzer::findings::Findings;
use analyzer::{Options, Project, analyze};

fn app(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/apps")
        .join(name)
}

fn findings(dir: &Path) -> Findings {
    let project = Project::discover(dir).expect("sample app is discoverable");
    analyze(project, Options::default()).findings
}

/// Every id of the findings (references to assets included), in report order.
fn ids(f: &Findings) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    out.extend(f.static_data.iter().map(|d| d.id.clone()));
    for a in &f.large_assets {
        out.push(a.id.clone());
        out.extend(a.references.iter().map(|r| r.id.clone()));
    }
    out.extend(f.inline_assets.iter().map(|a| a.id.clone()));
    out.extend(f.duplicate_assets.iter().map(|d| d.id.clone()));
    out.extend(f.backend_calls.iter().map(|c| c.id.clone()));
    out.extend(f.wrappers.iter().map(|w| w.id.clone()));
    out.extend(f.proposed_functions.iter().map(|p| p.id.clone()));
    out
}

/// Each wrapper's call sites.
fn call_sites(f: &Findings) -> BTreeMap<String, Vec<String>> {
    f.wrappers
        .iter()
        .map(|w| (w.id.clone(), w.call_sites.clone()))
        .collect()
}

#[test]
fn ids_are_unique_and_cross_references_resolve_in_each_sample_app() {
    for name in ["bus-ride", "shop", "ts-news", "messy", "half-cloud"] {
        let f = findings(&app(name));
        let all = ids(&f);
        let unique: BTreeSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "{name}: ids are unique");
        assert!(
            all.iter().all(|id| !id.is_empty()),
            "{name}: every finding has an id"
        );

        let calls: BTreeSet<&str> = f.backend_calls.iter().map(|c| c.id.as_str()).collect();
        let wrappers: BTreeSet<&str> = f.wrappers.iter().map(|w| w.id.as_str()).collect();
        for w in &f.wrappers {
            assert!(
                w.call_sites.iter().all(|c| calls.contains(c.as_str())),
                "{name}: {} names calls that exist",
                w.id
            );
        }
        let mut served = 0;
        for p in &f.proposed_functions {
            assert!(!p.calls.is_empty(), "{name}: {} serves calls", p.id);
            assert!(p.calls.iter().all(|c| calls.contains(c.as_str())));
            served += p.calls.len();
        }
        assert_eq!(
            served,
            f.backend_calls
                .iter()
                .filter(|c| c.function.is_some())
                .count(),
            "{name}: each grouped call is served by one function"
        );
        for c in &f.backend_calls {
            for w in &c.via {
                assert!(wrappers.contains(w.as_str()), "{name}: {} via {w}", c.id);
            }
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.expect("readable fixture");
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            fs::create_dir_all(&dest).unwrap();
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn ids_survive_edits_to_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("bus-ride");
    copy_dir(&app("bus-ride"), &dir);
    let before = findings(&dir);

    // An edit that moves every span of one file, and a new file whose call sorts first.
    let edited = "miniprogram/pages/feedback/feedback.js";
    let path = dir.join(edited);
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, format!("// 反馈页\n{text}")).unwrap();
    let added = "miniprogram/a-first/ping.js";
    fs::create_dir_all(dir.join("miniprogram/a-first")).unwrap();
    fs::write(
        dir.join(added),
        "wx.request({ url: 'https://api.busride.example.com/v2/ping' })\n",
    )
    .unwrap();
    let after = findings(&dir);

    let after_ids: BTreeSet<String> = ids(&after).into_iter().collect();
    let untouched: Vec<String> = ids(&before)
        .into_iter()
        .filter(|id| !id.contains(&format!(":{edited}:")))
        .collect();
    assert!(untouched.len() > 20, "{untouched:?}");
    for id in &untouched {
        assert!(after_ids.contains(id), "{id} is kept");
    }
    // The edited file's calls moved, and so did their ids; the new call has its own.
    let moved = |f: &Findings| -> BTreeSet<String> {
        f.backend_calls
            .iter()
            .filter(|c| c.loc.path.ends_with(edited))
            .map(|c| c.id.clone())
            .collect()
    };
    assert_eq!(moved(&before).len(), moved(&after).len());
    assert!(moved(&before).is_disjoint(&moved(&after)));
    assert!(
        after
            .backend_calls
            .iter()
            .any(|c| c.id.starts_with(&format!("call:{added}:")))
    );

    // Cross-references by id: a wrapper's other call sites are listed as before.
    let (was, now) = (call_sites(&before), call_sites(&after));
    for (w, sites) in &was {
        let kept: Vec<&String> = sites
            .iter()
            .filter(|c| !c.contains(&format!(":{edited}:")))
            .collect();
        let now: Vec<&String> = now[w]
            .iter()
            .filter(|c| !c.contains(&format!(":{edited}:")))
            .collect();
        assert_eq!(kept, now, "{w}");
    }
}
