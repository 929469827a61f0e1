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
