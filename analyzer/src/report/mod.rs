//! Reports: the same [`Report`] rendered as JSON (the versioned schema the rewriter reads), SARIF
//! 2.1.0 (code-scanning UIs) or human text (miette diagnostics plus a summary table). Every
//! kind of finding is rendered from its [`Kind`] declaration ([`crate::kinds`]), the same way
//! in each format.

pub mod human;
pub mod json;
pub mod sarif;
pub mod snippet;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::analysis::Analysis;
use crate::diagnostic::Severity;
use crate::files::loc;
use crate::findings::{FindingsView, Kind, Loc, Visit};
use crate::project::{Package, Settings};
use crate::sizes::{OverLimit, SizeReport, UnusedFile};

pub use crate::kinds::human_bytes;

/// The version of the JSON report schema (`docs/report-schema.md`). Bumped on any change that
/// is not a pure addition. 2: findings have ids, and refer to each other by them.
pub const SCHEMA_VERSION: u32 = 2;

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
    /// The size verdicts as findings (the JSON report has them in `sizes`).
    #[serde(skip)]
    pub over_limit: Vec<OverLimit>,
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

/// Counts of what the report holds: each kind's counts as the kind declares them
/// ([`Kind::COUNTS`]), in report order, then the input problems. Serialized as one flat object.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The kinds' counts, in report order.
    pub counts: Vec<SummaryCount>,
    /// Input problems of severity error.
    pub errors: usize,
    /// Input problems of severity warning.
    pub warnings: usize,
}

/// One count of [`Summary`].
#[derive(Debug, Clone, Copy)]
pub struct SummaryCount {
    /// The rule id of the kind counted.
    pub rule: &'static str,
    /// The key in `summary` (`staticData`).
    pub key: &'static str,
    /// What it counts, for one and for several.
    pub what: [&'static str; 2],
    /// The number.
    pub n: u64,
}

impl Summary {
    /// A count by its key (`backendCalls`).
    pub fn get(&self, key: &str) -> Option<u64> {
        self.counts.iter().find(|c| c.key == key).map(|c| c.n)
    }
}

impl Serialize for Summary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.counts.len() + 2))?;
        for c in &self.counts {
            m.serialize_entry(c.key, &c.n)?;
        }
        m.serialize_entry("errors", &self.errors)?;
        m.serialize_entry("warnings", &self.warnings)?;
        m.end()
    }
}

/// Calls `v` once per kind of finding, in report order: the findings' lists, then the size
/// verdicts (unused files, limits). Adding a kind of finding outside [`crate::findings`]
/// means a line here.
fn each_kind(
    findings: FindingsView<'_>,
    unused: &[UnusedFile],
    over_limit: &[OverLimit],
    v: &mut impl Visit,
) {
    findings.each(v);
    v.kind(unused);
    v.kind(over_limit);
}

/// The `--fail-on` values, each with what it fails on: `errors`, each kind's
/// [`Kind::FAIL_ON`] name, then `any`.
pub fn fail_on_values() -> Vec<(&'static str, &'static str)> {
    struct Names(Vec<(&'static str, &'static str)>);
    impl Visit for Names {
        fn kind<K: Kind>(&mut self, _: &[K]) {
            if let Some(name) = K::FAIL_ON {
                self.0.push((name, K::TITLE));
            }
        }
    }
    let mut names = Names(vec![(
        "errors",
        "Errors in the input (bad config, unparseable files)",
    )]);
    each_kind(FindingsView::default(), &[], &[], &mut names);
    names
        .0
        .push(("any", "Any finding of the kinds above but over-limit"));
    names.0
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
        let app_json = a.project.mp_to_project("app.json");
        let over_limit = sizes.over_limit(&app_json);
        struct Counts(Vec<SummaryCount>);
        impl Visit for Counts {
            fn kind<K: Kind>(&mut self, items: &[K]) {
                self.0.extend(K::COUNTS.iter().map(|c| SummaryCount {
                    rule: K::RULE,
                    key: c.key,
                    what: c.what,
                    n: (c.of)(items),
                }));
            }
        }
        let mut counts = Counts(Vec::new());
        each_kind(f.view(), &sizes.unused, &over_limit, &mut counts);
        let summary = Summary {
            counts: counts.0,
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
                app_json,
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
            over_limit,
        }
    }

    /// Calls `v` once per kind of finding, in report order, with the report's findings of it.
    pub fn each_kind(&self, v: &mut impl Visit) {
        each_kind(self.findings, &self.sizes.unused, &self.over_limit, v);
    }

    /// Whether the report trips a `--fail-on` value (one of [`fail_on_values`]).
    pub fn trips(&self, fail_on: &str) -> bool {
        struct Trips<'n> {
            name: &'n str,
            hit: bool,
        }
        impl Visit for Trips<'_> {
            fn kind<K: Kind>(&mut self, items: &[K]) {
                let named = match self.name {
                    "any" => K::FAIL_ON.is_some() && K::IN_ANY,
                    name => K::FAIL_ON == Some(name),
                };
                self.hit |= named && !items.is_empty();
            }
        }
        if fail_on == "errors" {
            return self.summary.errors > 0;
        }
        let mut t = Trips {
            name: fail_on,
            hit: false,
        };
        self.each_kind(&mut t);
        t.hit
    }
}
