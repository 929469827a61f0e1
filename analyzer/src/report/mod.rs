//! Reports: the same [`Report`] rendered as JSON (the versioned schema the rewriter reads), SARIF
//! 2.1.0 (code-scanning UIs) or human text (miette diagnostics plus a summary table).

pub mod human;
pub mod json;
pub mod sarif;

use serde::Serialize;

use crate::analysis::Analysis;
use crate::diagnostic::Severity;
use crate::files::loc;
use crate::findings::{FindingsView, Loc};
use crate::project::{Package, Settings};
use crate::sizes::SizeReport;

/// The version of the JSON report schema (`docs/report-schema.md`). Bumped on any change that
/// is not a pure addition.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report<'a> {
    pub schema_version: u32,
    pub tool: Tool,
    pub project: ProjectSummary<'a>,
    pub options: &'a crate::options::Options,
    pub summary: Summary,
    pub sizes: SizeReport,
    pub findings: FindingsView<'a>,
    pub diagnostics: Vec<DiagnosticOut>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectSummary<'a> {
    /// The folder name of the project (absolute paths are left out so reports are portable).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appid: Option<&'a str>,
    pub miniprogram_root: &'a str,
    /// Project-relative path of app.json.
    pub app_json: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloudfunction_root: Option<&'a str>,
    /// The framework that built the mini-program (uni-app, Taro), when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<&'a crate::project::Framework>,
    pub settings: &'a Settings,
    pub packages: &'a [Package],
    pub files: usize,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub static_data: usize,
    pub static_data_records: u64,
    pub large_assets: usize,
    pub inline_assets: usize,
    pub backend_calls: usize,
    pub dynamic_endpoints: usize,
    pub wrappers: usize,
    pub proposed_functions: usize,
    pub unused_files: usize,
    pub packages_over_limit: usize,
    pub packages_over_limit_after_moves: usize,
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DiagnosticOut {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loc: Option<Loc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl<'a> Report<'a> {
    pub fn new(a: &'a Analysis) -> Report<'a> {
        let sizes = SizeReport::new(a);
        let f = &a.findings;
        let diagnostics: Vec<DiagnosticOut> = a
            .diagnostics
            .iter()
            .map(|d| DiagnosticOut {
                severity: d.severity,
                code: d.code,
                message: d.message.clone(),
                path: d.path.clone(),
                loc: d.span.map(|s| loc(&a.project, &a.files, s)),
                help: d.help.clone(),
            })
            .collect();
        let summary = Summary {
            static_data: f.static_data.len(),
            static_data_records: f.static_data.iter().map(|d| d.records).sum(),
            large_assets: f.large_assets.len(),
            inline_assets: f.inline_assets.len(),
            backend_calls: f.backend_calls.len(),
            dynamic_endpoints: f
                .backend_calls
                .iter()
                .filter(|c| c.endpoint.resolution == crate::findings::Resolution::Dynamic)
                .count(),
            wrappers: f.wrappers.len(),
            proposed_functions: f.proposed_functions.len(),
            unused_files: sizes.unused.len(),
            packages_over_limit: sizes.packages.iter().filter(|p| p.over_limit).count(),
            packages_over_limit_after_moves: sizes
                .packages
                .iter()
                .filter(|p| p.over_limit_after_moves)
                .count(),
            errors: diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count(),
            warnings: diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Warning)
                .count(),
        };
        let name = a
            .project
            .root
            .canonicalize()
            .ok()
            .as_deref()
            .unwrap_or(&a.project.root)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".".into());
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool {
                name: "migrate",
                version: env!("CARGO_PKG_VERSION"),
            },
            project: ProjectSummary {
                name,
                appid: a.project.appid.as_deref(),
                miniprogram_root: &a.project.mp_root,
                app_json: a.project.mp_to_project("app.json"),
                cloudfunction_root: a.project.cloudfunction_root.as_deref(),
                framework: a.project.framework.as_ref(),
                settings: &a.project.settings,
                packages: &a.project.packages,
                files: a.project.files.len(),
            },
            options: &a.options,
            summary,
            sizes,
            findings: f.view(),
            diagnostics,
        }
    }
}

/// Formats a byte count the way the limits are written (`2.00 MB`, `312.4 KB`).
pub fn human_bytes(n: u64) -> String {
    const KB: f64 = 1024.0;
    let f = n as f64;
    if f >= KB * KB {
        format!("{:.2} MB", f / KB / KB)
    } else if f >= KB {
        format!("{:.1} KB", f / KB)
    } else {
        format!("{n} B")
    }
}
