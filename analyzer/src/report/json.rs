//! `--format json`: the [`super::Report`] as pretty JSON. The schema is documented in
//! `docs/report-schema.md` and versioned by [`super::SCHEMA_VERSION`].

use super::Report;

pub fn render(report: &Report<'_>) -> String {
    // Serialising plain data structures cannot fail.
    let mut s =
        serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}
