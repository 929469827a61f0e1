//! The webpack-sdk app (`fixtures/apps/webpack-sdk`) against its `EXPECTED.md`: every call site
//! of the `## Backend call sites` tables is reported once, at its line (and column, where the
//! table gives one), with its method and URL; nothing else is; the wrappers are the ones of the
//! `## Wrappers` table; the SDKs' initial `'-'` is never taken for part of a URL.
//!
//! Run with `--nocapture` for the found / present count per mechanism.

mod common;
use common::expected::{self, cells, check_sites, code_spans, expected_sites, section, site_of};
use common::report;

const APP: &str = "webpack-sdk";

/// The letters the tables use for base URLs. The SDKs' sub-domain and tenant are set at run
/// time (`init`), so they are placeholders, not the values the app passes.
const BASES: [(&str, &str); 3] = [
    ("B", "https://api.mallkit.example.cn/{subDomain}"),
    ("R", "https://api.mallkit.example.cn"),
    ("M", "https://member.mallkit.example.cn/v1/{tenant}"),
];

/// The `file:line` of each row of the `## Wrappers` table.
fn expected_wrappers(text: &str) -> Vec<(String, u64)> {
    section(text, "Wrappers")
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .filter_map(|row| {
            let row = cells(row);
            let cell = &row[0];
            let span = code_spans(cell).into_iter().next()?;
            match site_of(span) {
                Some((p, l, _)) => Some((p, l)),
                // `vendor/analytics.min.js` line 10, …
                None => {
                    let line = cell
                        .split("line ")
                        .nth(1)?
                        .split(|c: char| !c.is_ascii_digit());
                    Some((span.to_string(), line.into_iter().next()?.parse().ok()?))
                }
            }
        })
        .collect()
}

#[test]
fn webpack_sdk_call_sites_match_expected() {
    let text = expected::read(APP);
    let sites = expected_sites(&text, &BASES);
    assert_eq!(sites.len(), 51, "EXPECTED.md lists 51 call sites");
    let r = report(APP);
    let calls = r["findings"]["backendCalls"]
        .as_array()
        .expect("backendCalls");
    check_sites(&sites, calls);

    // The SDKs' `'-'` is the value before `init` runs, never part of a URL.
    for c in calls {
        let url = c["endpoint"]["url"].as_str().unwrap_or("");
        assert!(!url.contains("/-"), "{url}");
    }
    let sub = calls
        .iter()
        .find(|c| c["loc"]["path"] == "miniprogram/pages/index/index.js" && c["loc"]["line"] == 56)
        .expect("pages/index/index.js:56");
    let dynamic = &sub["endpoint"]["dynamic"][0];
    assert_eq!(
        (dynamic["path"].as_str(), dynamic["line"].as_u64()),
        (
            Some("miniprogram/miniprogram_npm/mallkit-wxapi/index.js"),
            Some(528)
        ),
        "the placeholder names the assignment in `init`"
    );

    let mut wrappers: Vec<(String, u64)> = r["findings"]["wrappers"]
        .as_array()
        .expect("wrappers")
        .iter()
        .map(|w| {
            let path = w["loc"]["path"].as_str().unwrap_or("");
            (
                path.trim_start_matches("miniprogram/").to_string(),
                w["loc"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    wrappers.sort();
    let mut want = expected_wrappers(&text);
    want.sort();
    assert_eq!(wrappers, want);
}
