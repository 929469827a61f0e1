//! Each sample app under `fixtures/apps/` has a snapshot of its JSON report
//! (`tests/snapshots/apps__<app>.snap`). A change in what the analyzer finds shows up as a
//! snapshot diff to review (`cargo insta review`).

mod common;
use common::expected::{self, check_sites, expected_sites};
use common::report;

macro_rules! app_snapshot {
    ($name:ident, $app:literal) => {
        #[test]
        fn $name() {
            let r = report($app);
            insta::assert_json_snapshot!($app, r, { ".tool.version" => "[version]" });
        }
    };
}

app_snapshot!(bus_ride, "bus-ride");
app_snapshot!(shop, "shop");
app_snapshot!(ts_news, "ts-news");
app_snapshot!(messy, "messy");
app_snapshot!(half_cloud, "half-cloud");
app_snapshot!(uni_app, "uni-app");
app_snapshot!(taro, "taro");
app_snapshot!(axios_ts, "axios-ts");
app_snapshot!(webpack_sdk, "webpack-sdk");

/// The axios-ts app: every call site of EXPECTED.md's tables is reported once, at its line,
/// with its method and URL (release hosts), and nothing else is (the clients' transports).
#[test]
fn axios_ts_call_sites_match_expected() {
    // EXPECTED.md, "Base URLs: the stage switch".
    let bases = [
        ("A", "https://api.ledong.example.com/api/v2"),
        ("C", "https://coach.ledong.example.com/api"),
        ("S", "https://lbs.ledong.example.com/v1"),
    ];
    let text = expected::read("axios-ts");
    let sites = expected_sites(&text, &bases);
    assert_eq!(sites.len(), 25, "EXPECTED.md lists 25 sites");
    let r = report("axios-ts");
    check_sites(
        &sites,
        r["findings"]["backendCalls"]
            .as_array()
            .expect("backendCalls"),
    );
}

/// The built call sites of a framework app's EXPECTED.md (`## Backend call sites in the
/// sources`, the last `path:line:column` of a `.js` file in each row, under the built folder
/// `built`; the wrappers' own sinks left out) and those of them that the
/// report has as a call's site or one of its callers (a page calling an API-module function).
fn framework_sites(app: &str, built: &str) -> (Vec<String>, Vec<String>) {
    let text = expected::read(app);
    let section = expected::section(&text, "Backend call sites");
    let section = section
        .split("### Call sites present")
        .next()
        .unwrap_or(section);
    let mut listed = Vec::new();
    // A wrapper's own sink is a wrapper, not a call site.
    for row in section
        .lines()
        .filter(|l| l.starts_with('|') && !l.contains("is the wrapper's sink"))
    {
        let cells = expected::cells(row);
        let Some(last) = cells.last() else { continue };
        if let Some((path, line, _)) = expected::code_spans(last)
            .into_iter()
            .filter_map(expected::site_of)
            .rfind(|(p, _, _)| p.ends_with(".js"))
        {
            listed.push(format!("{built}{path}:{line}"));
        }
    }
    let r = report(app);
    let mut seen = std::collections::BTreeSet::new();
    for c in r["findings"]["backendCalls"].as_array().unwrap() {
        let locs = std::iter::once(&c["loc"]).chain(c["callers"].as_array().into_iter().flatten());
        for l in locs {
            seen.insert(format!("{}:{}", l["path"].as_str().unwrap(), l["line"]));
        }
    }
    let missing = listed
        .iter()
        .filter(|s| !seen.contains(*s))
        .cloned()
        .collect();
    (listed, missing)
}

/// uni-app's build: the `uni` a chunk's code receives from webpack's variable injection is
/// the mini-program API, the `this.$http` plugin and the `this.$api` module are followed to
/// every page, and DCloud's statistics reporter inside `common/vendor.js` is not the app's call.
#[test]
fn uni_app_call_sites_match_expected() {
    let (listed, missing) = framework_sites("uni-app", "unpackage/dist/dev/mp-weixin/");
    assert_eq!(listed.len(), 18, "{listed:#?}");
    assert!(missing.is_empty(), "not reported: {missing:#?}");
    let r = report("uni-app");
    let calls = r["findings"]["backendCalls"].as_array().unwrap();
    assert!(
        calls
            .iter()
            .all(|c| c["endpoint"]["host"] != "tongji.dcloud.io"),
        "uni-stat's report is framework code"
    );
    let routes: usize = r["findings"]["proposedFunctions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["routes"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        routes, 18,
        "17 endpoints reached and the unused GET /addresses"
    );
}

/// Taro's build: `Taro` reached through webpack's default getter
/// (`_tarojs_taro__WEBPACK_IMPORTED_MODULE_0___default().request`), and the `createRequest`
/// instances a module's factory makes from a module it loads into a local.
#[test]
fn taro_call_sites_match_expected() {
    let (listed, missing) = framework_sites("taro", "");
    assert_eq!(listed.len(), 10, "{listed:#?}");
    assert!(missing.is_empty(), "not reported: {missing:#?}");
    let r = report("taro");
    let mut routes: Vec<String> = r["findings"]["proposedFunctions"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["routes"].as_array().unwrap().clone())
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    routes.sort();
    assert_eq!(routes.len(), 10, "{routes:#?}");
    assert!(
        routes.iter().all(|r| !r.contains("{prefix}")),
        "{routes:#?}"
    );
}

/// The half-migrated app: its cloud development is reported (init with its env, the function
/// called, the collections, in the pages and in the functions' code, the storage call, the
/// function folders), the plan reuses the env,
/// and the human report says the app is partly on cloud development.
#[test]
fn half_cloud_existing_cloud_use() {
    let r = report("half-cloud");
    let uses: Vec<(String, String)> = r["findings"]["cloudUses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["api"].as_str().unwrap().to_string(),
                u["target"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    let has = |api: &str, target: &str| uses.iter().any(|(a, t)| a == api && t == target);
    assert!(has("init", "prod-1a2b3c"), "{uses:?}");
    assert!(has("callFunction", "getList"), "{uses:?}");
    assert!(has("collection", "news"), "{uses:?}");
    // `users` is only read by the `userLogin` function, in its own code.
    let users: Vec<&serde_json::Value> = r["findings"]["cloudUses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["target"] == "users")
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert_eq!(users[0]["inFunction"], "userLogin");
    assert_eq!(users[0]["loc"]["path"], "cloudfunctions/userLogin/index.js");
    assert!(has("storage", "?"), "{uses:?}");
    assert!(
        has("function", "getList") && has("function", "userLogin"),
        "{uses:?}"
    );
    assert_eq!(r["summary"]["cloudUses"], uses.len());
    let names: Vec<&str> = r["findings"]["proposedFunctions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        names.iter().all(|n| !["getList", "userLogin"].contains(n)),
        "{names:?}"
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/apps/half-cloud");
    let migrate = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_migrate"))
            .args(args)
            .arg(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let plan: serde_json::Value = serde_json::from_str(&migrate(&["plan"])).unwrap();
    assert_eq!(plan["env"], "prod-1a2b3c");
    let human = migrate(&["analyze"]);
    assert!(
        human.contains("partly on cloud development: 5 backend calls still go to its own servers"),
        "{human}"
    );
}
