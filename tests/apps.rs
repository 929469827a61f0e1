//! Each sample app under `fixtures/apps/` has a snapshot of its JSON report
//! (`tests/snapshots/apps__<app>.snap`). A change in what the analyzer finds shows up as a
//! snapshot diff to review (`cargo insta review`).

use std::path::Path;

mod common;
use common::{report, url_shape};

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

/// A call site listed in an app's `EXPECTED.md`, under `## Backend call sites`.
#[derive(Debug)]
struct ExpectedSite {
    /// The `###` heading of its table (the mechanism).
    mechanism: String,
    /// File (under the package folder) and line.
    path: String,
    line: u64,
    /// The HTTP methods the site may send.
    methods: Vec<String>,
    /// The URL without its query, unknown parts as `{}`.
    url: String,
}

/// The cells of a Markdown table row (`\|` is a pipe inside a cell).
fn cells(row: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = row.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out.pop();
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// The backticked pieces of a cell.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// Every site of the `## Backend call sites` tables. `bases` are the letters the tables use
/// for base URLs (`A` followed by a path), with their release values.
fn expected_sites(app: &str, bases: &[(&str, &str)]) -> Vec<ExpectedSite> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/apps")
        .join(app)
        .join("EXPECTED.md");
    let text = std::fs::read_to_string(path).expect("EXPECTED.md");
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("Backend call sites"))
        .expect("a `## Backend call sites` section");
    let mut sites = Vec::new();
    for table in section.split("\n### ").skip(1) {
        let mechanism = table.lines().next().unwrap_or("").to_string();
        let mut rows = table.lines().filter(|l| l.starts_with('|'));
        let header = cells(rows.next().expect("a table header"));
        let col = |name: &str| header.iter().position(|h| h == name);
        let (method_col, url_col) = (col("method").unwrap(), col("URL").unwrap());
        for row in rows.skip(1) {
            let c = cells(row);
            let site = code_spans(&c[0])
                .into_iter()
                .find_map(|s| {
                    let (p, l) = s.rsplit_once(':')?;
                    Some((p.to_string(), l.parse::<u64>().ok()?))
                })
                .expect("a `file:line` site");
            let methods = c[method_col]
                .split(|ch: char| !ch.is_ascii_uppercase())
                .filter(|w| ["GET", "POST", "PUT", "DELETE", "PATCH"].contains(w))
                .map(str::to_string)
                .collect();
            let cell = &c[url_col];
            let first = code_spans(cell).first().copied().unwrap_or("");
            let url = match bases
                .iter()
                .find(|(k, _)| cell.starts_with(&format!("{k}`")))
            {
                Some((_, base)) => format!("{base}{first}"),
                None => code_spans(cell)
                    .into_iter()
                    .find(|s| s.starts_with("https://"))
                    .unwrap_or(first)
                    .to_string(),
            };
            sites.push(ExpectedSite {
                mechanism: mechanism.clone(),
                path: site.0,
                line: site.1,
                methods,
                url: url_shape(&url),
            });
        }
    }
    sites
}

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
    let sites = expected_sites("axios-ts", &bases);
    let r = report("axios-ts");
    let calls = r["findings"]["backendCalls"]
        .as_array()
        .expect("backendCalls");
    let matches = |s: &ExpectedSite, c: &serde_json::Value| {
        let mut methods: Vec<String> = c["method"]
            .as_str()
            .unwrap_or("")
            .split('|')
            .map(str::to_string)
            .collect();
        methods.sort();
        let mut want = s.methods.clone();
        want.sort();
        c["loc"]["path"] == format!("miniprogram/{}", s.path)
            && c["loc"]["line"] == s.line
            && methods == want
            && url_shape(c["endpoint"]["url"].as_str().unwrap_or("")) == s.url
    };
    let mut table: Vec<(String, usize, usize)> = Vec::new();
    let mut missing = Vec::new();
    for s in &sites {
        let found = calls.iter().any(|c| matches(s, c));
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
    for (m, found, present) in &table {
        eprintln!("{found:>3} / {present:<3} {m}");
    }
    assert_eq!(sites.len(), 25, "EXPECTED.md lists 25 sites");
    assert!(missing.is_empty(), "not found: {missing:#?}");
    let extra: Vec<_> = calls
        .iter()
        .filter(|c| !sites.iter().any(|s| matches(s, c)))
        .collect();
    assert!(extra.is_empty(), "reported but not expected: {extra:#?}");
}
