//! The sample apps' `EXPECTED.md` tables, read: the call sites under `## Backend call sites`
//! (one `###` table per mechanism) and the rows of other tables.

use super::url_shape;

/// A call site listed under `## Backend call sites`.
#[derive(Debug)]
pub(crate) struct ExpectedSite {
    /// The `###` heading of its table (the mechanism).
    pub(crate) mechanism: String,
    /// File (under the package folder) and line, and the column where the table gives one.
    pub(crate) path: String,
    pub(crate) line: u64,
    pub(crate) column: Option<u64>,
    /// The HTTP methods the site may send.
    pub(crate) methods: Vec<String>,
    /// The URL without its query, unknown parts as `{}`.
    pub(crate) url: String,
}

/// The cells of a Markdown table row (`\|` is a pipe inside a cell).
pub(crate) fn cells(row: &str) -> Vec<String> {
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

/// The non-empty backticked pieces of a cell.
pub(crate) fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| !s.is_empty())
        .collect()
}

/// `path:line` or `path:line:column` (not a URL with a port).
pub(crate) fn site_of(span: &str) -> Option<(String, u64, Option<u64>)> {
    if span.contains("//") {
        return None;
    }
    let mut parts = span.split(':');
    let path = parts.next()?;
    let line = parts.next()?.parse().ok()?;
    let column = parts.next().and_then(|c| c.parse().ok());
    Some((path.to_string(), line, column))
}

/// The `EXPECTED.md` of the sample app `app` (under `fixtures/apps/`).
pub(crate) fn read(app: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/apps")
        .join(app)
        .join("EXPECTED.md");
    std::fs::read_to_string(path).expect("EXPECTED.md")
}

/// The text of the `## {heading}` section.
pub(crate) fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    text.split("\n## ")
        .find(|s| s.starts_with(heading))
        .unwrap_or_else(|| panic!("a `## {heading}` section"))
}

/// Every site of the `## Backend call sites` tables. `bases` are the letters the tables use
/// for base URLs (`A` followed by a path), with the values the report should show.
pub(crate) fn expected_sites(text: &str, bases: &[(&str, &str)]) -> Vec<ExpectedSite> {
    let mut sites = Vec::new();
    for table in section(text, "Backend call sites").split("\n### ").skip(1) {
        let mechanism = table.lines().next().unwrap_or("").to_string();
        let mut rows = table.lines().filter(|l| l.starts_with('|'));
        let header = cells(rows.next().expect("a table header"));
        let col = |name: &str| header.iter().position(|h| h == name).expect(name);
        let (method_col, url_col) = (col("method"), col("URL"));
        for row in rows.skip(1) {
            let c = cells(row);
            let (path, line, column) = code_spans(&c[0])
                .into_iter()
                .find_map(site_of)
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
                path,
                line,
                column,
                methods,
                url: url_shape(&url),
            });
        }
    }
    sites
}

/// Whether a reported call (`backendCalls[i]` of the JSON report) is the expected site: its
/// place under `miniprogram/`, its methods (`GET|POST` as a set) and its URL shape.
pub(crate) fn is_site(s: &ExpectedSite, c: &serde_json::Value) -> bool {
    let mut methods: Vec<&str> = c["method"].as_str().unwrap_or("").split('|').collect();
    methods.sort_unstable();
    let mut want: Vec<&str> = s.methods.iter().map(String::as_str).collect();
    want.sort_unstable();
    c["loc"]["path"] == format!("miniprogram/{}", s.path)
        && c["loc"]["line"] == s.line
        && s.column.is_none_or(|col| c["loc"]["column"] == col)
        && methods == want
        && url_shape(c["endpoint"]["url"].as_str().unwrap_or("")) == s.url
}

/// Checks `calls` against `sites`: each site is reported exactly once and nothing else is.
/// Prints found / present per mechanism (`--nocapture` shows it).
pub(crate) fn check_sites(sites: &[ExpectedSite], calls: &[serde_json::Value]) {
    let mut table: Vec<(&str, usize, usize)> = Vec::new();
    let mut missing = Vec::new();
    for s in sites {
        let found = calls.iter().filter(|c| is_site(s, c)).count() == 1;
        if !found {
            missing.push(s);
        }
        match table.iter_mut().find(|(m, ..)| *m == s.mechanism) {
            Some(row) => {
                row.1 += usize::from(found);
                row.2 += 1;
            }
            None => table.push((&s.mechanism, usize::from(found), 1)),
        }
    }
    println!("found / present, per mechanism:");
    for (m, found, present) in &table {
        println!("{found:>3} / {present:<3} {m}");
    }
    assert!(missing.is_empty(), "not found: {missing:#?}");
    let extra: Vec<_> = calls
        .iter()
        .filter(|c| !sites.iter().any(|s| is_site(s, c)))
        .collect();
    assert!(extra.is_empty(), "reported but not expected: {extra:#?}");
}
