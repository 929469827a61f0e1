//! `--format json`: the [`super::Report`] as pretty JSON. The schema is documented in
//! `docs/report-schema.md` and versioned by [`super::SCHEMA_VERSION`].

use super::Report;

/// Bytes reserved per finding and per diagnostic before rendering. A backend call renders to
/// about 1 KB; reserving generously costs only address space (untouched pages are never
/// faulted in), while growing a 25 MB buffer by doubling copies it several times over.
const BYTES_PER_ITEM: usize = 2048;

pub fn render(report: &Report<'_>) -> String {
    let f = report.findings;
    let items = f.backend_calls.len()
        + f.wrappers.len()
        + f.proposed_functions.len()
        + f.static_data.len()
        + f.large_assets.len()
        + f.inline_assets.len()
        + report.diagnostics.len()
        + report.summary.unused_files;
    let mut buf = Vec::with_capacity(64 * 1024 + items * BYTES_PER_ITEM);
    // Serialising plain data structures cannot fail, and serde_json writes UTF-8.
    let mut s = match serde_json::to_writer_pretty(&mut buf, report) {
        Ok(()) => String::from_utf8(buf).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")),
        Err(e) => format!("{{\"error\":\"{e}\"}}"),
    };
    s.push('\n');
    s
}
