//! The webpack-sdk app (`fixtures/apps/webpack-sdk`) against its `EXPECTED.md`: every call site
//! of the `## Backend call sites` tables is reported once, at its line (and column, where the
//! table gives one), with its method and URL; nothing else is; the wrappers are the ones of the
//! `## Wrappers` table; the SDKs' initial `'-'` is never taken for part of a URL.
//!
//! Run with `--nocapture` for the found / present count per mechanism.

use std::path::Path;

mod common;
use common::{report, url_shape};

use serde_json::Value;

const APP: &str = "webpack-sdk";

/// The letters the tables use for base URLs. The SDKs' sub-domain and tenant are set at run
/// time (`init`), so they are placeholders, not the values the app passes.
const BASES: [(&str, &str); 3] = [
    ("B", "https://api.mallkit.example.cn/{subDomain}"),
    ("R", "https://api.mallkit.example.cn"),
    ("M", "https://member.mallkit.example.cn/v1/{tenant}"),
];

fn app_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/apps")
        .join(APP)
}

/// A call site of EXPECTED.md.
#[derive(Debug)]
struct Site {
    /// The `###` heading of its table.
    mechanism: String,
    /// Under `miniprogram/`.
    path: String,
    line: u64,
    column: Option<u64>,
    method: String,
    /// Without its query; placeholders as `{}`.
    url: String,
}

/// The cells of a Markdown table row.
fn cells(row: &str) -> Vec<&str> {
    let row = row.trim().trim_start_matches('|').trim_end_matches('|');
    row.split('|').map(str::trim).collect()
}

/// The single-backticked pieces of a cell.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect()
}

/// `path:line` or `path:line:column`.
fn site_of(span: &str) -> Option<(String, u64, Option<u64>)> {
    let mut parts = span.split(':');
    let path = parts.next()?;
    let line = parts.next()?.parse().ok()?;
    let column = parts.next().and_then(|c| c.parse().ok());
    path.ends_with(".js")
        .then(|| (path.to_string(), line, column))
}

fn expected_sites(text: &str) -> Vec<Site> {
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Backend call sites"))
        .expect("a `## Backend call sites` section");
    let mut sites = Vec::new();
    for table in section.split("\n### ").skip(1) {
        let mechanism = table.lines().next().unwrap_or("").to_string();
        let mut rows = table.lines().filter(|l| l.starts_with('|'));
        let header = cells(rows.next().expect("a table header"));
        let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
        let (method_col, url_col) = (col("method"), col("URL"));
        for row in rows.skip(1) {
            let c = cells(row);
            let (path, line, column) = code_spans(c[0])
                .into_iter()
                .find_map(site_of)
                .expect("a `file:line` site");
            let method = ["GET", "POST", "PUT", "DELETE"]
                .into_iter()
                .find(|m| c[method_col].contains(m))
                .expect("a method")
                .to_string();
            let cell = c[url_col];
            let spans = code_spans(cell);
            let url = match BASES
                .iter()
                .find(|(k, _)| cell.starts_with(&format!("{k}`")))
            {
                Some((_, base)) => format!("{base}{}", spans[0]),
                None => spans
                    .iter()
                    .find(|s| s.starts_with("https://"))
                    .expect("a URL")
                    .to_string(),
            };
            sites.push(Site {
                mechanism: mechanism.clone(),
                path,
                line,
                column,
                method,
                url: url_shape(&url),
            });
        }
    }
    sites
}

/// The `file:line` of each row of the `## Wrappers` table.
fn expected_wrappers(text: &str) -> Vec<(String, u64)> {
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Wrappers"))
        .expect("a `## Wrappers` section");
    section
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2)
        .filter_map(|row| {
            let cell = cells(row)[0];
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

fn matches(s: &Site, c: &Value) -> bool {
    c["loc"]["path"] == format!("miniprogram/{}", s.path)
        && c["loc"]["line"] == s.line
        && s.column.is_none_or(|col| c["loc"]["column"] == col)
        && c["method"] == s.method
        && url_shape(c["endpoint"]["url"].as_str().unwrap_or("")) == s.url
}

#[test]
fn webpack_sdk_call_sites_match_expected() {
    let text = std::fs::read_to_string(app_dir().join("EXPECTED.md")).expect("EXPECTED.md");
    let sites = expected_sites(&text);
    assert_eq!(sites.len(), 51, "EXPECTED.md lists 51 call sites");
    let r = report(APP);
    let calls = r["findings"]["backendCalls"]
        .as_array()
        .expect("backendCalls");

    let mut table: Vec<(String, usize, usize)> = Vec::new();
    let mut missing = Vec::new();
    for s in &sites {
        let found = calls.iter().filter(|c| matches(s, c)).count() == 1;
        if !found {
            missing.push(s);
        }
        match table.iter_mut().find(|(m, ..)| *m == s.mechanism) {
            Some(row) => {
                row.1 += usize::from(found);
                row.2 += 1;
            }
            None => table.push((s.mechanism.clone(), usize::from(found), 1)),
        }
    }
    println!("found / present, per mechanism:");
    for (m, found, present) in &table {
        println!("{found:>3} / {present:<3} {m}");
    }
    assert!(missing.is_empty(), "not found: {missing:#?}");
    let extra: Vec<&Value> = calls
        .iter()
        .filter(|c| !sites.iter().any(|s| matches(s, c)))
        .collect();
    assert!(extra.is_empty(), "reported but not expected: {extra:#?}");

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
