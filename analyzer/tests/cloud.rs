//! Cloud development an app already uses, in its pages and in its cloud functions
//! (`tests/fixtures/functions/<case>/`).

use std::path::Path;

use analyzer::findings::CloudApi;
use analyzer::{Options, Project, analyze};

fn run(case: &str) -> analyzer::Analysis {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/functions")
        .join(case);
    let project = Project::discover(&dir).expect("fixture project");
    analyze(
        project,
        Options {
            data_threshold: 400,
            ..Options::default()
        },
    )
}

/// The collections, functions and storage the cloud functions use are found in their code
/// (`wx-server-sdk`, `@cloudbase/node-sdk`, a helper module given the app), never in their
/// `node_modules`; a `cloud.init` inside a function is not the app's env; and a data set moved
/// by the migration keeps clear of a collection only a function uses.
#[test]
fn uses_inside_cloud_functions() {
    let a = run("cloud-uses");
    let f = &a.findings;
    let in_functions: Vec<(String, CloudApi, Option<String>, u32)> = f
        .cloud_uses
        .iter()
        .filter_map(|u| Some((u.in_function.clone()?, u.api, u.target.clone(), u.loc.line)))
        .collect();
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        in_functions,
        vec![
            ("orderList".into(), CloudApi::Collection, s("orders"), 10),
            ("orderList".into(), CloudApi::Collection, s("cities"), 16),
            ("orderList".into(), CloudApi::CallFunction, s("stats"), 17),
            ("stats".into(), CloudApi::Collection, s("stats_events"), 9),
            ("stats".into(), CloudApi::Storage, None, 11),
            ("stats".into(), CloudApi::Collection, s("stats_counters"), 5),
        ]
    );
    assert!(
        f.cloud_uses
            .iter()
            .all(|u| !u.loc.path.contains("node_modules")
                && u.target.as_deref() != Some("not-a-collection")),
        "{:#?}",
        f.cloud_uses
    );
    // The app's env is the page's init, the only one.
    let inits: Vec<_> = f
        .cloud_uses
        .iter()
        .filter(|u| u.api == CloudApi::Init)
        .map(|u| (u.loc.path.as_str(), u.target.as_deref()))
        .collect();
    assert_eq!(inits, vec![("miniprogram/app.js", Some("shop-9f8e7d"))]);
    // `data/cities.js` would be collection `cities`, which `orderList` reads already.
    let cities = f
        .static_data
        .iter()
        .find(|d| d.loc.path == "miniprogram/data/cities.js")
        .expect("the cities table is a data set");
    assert_ne!(cities.collection, "cities");
    assert!(
        cities.collection.starts_with("cities"),
        "{}",
        cities.collection
    );
    let human = analyzer::report::human::render(
        &a,
        &analyzer::report::Report::new(&a),
        &analyzer::report::human::HumanOptions {
            color: false,
            width: 100,
            all: true,
        },
    );
    assert!(
        human.contains("cloud function `orderList` uses cloud collection `cities`"),
        "{human}"
    );
}
