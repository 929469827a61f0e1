//! The human report: input problems and findings as miette diagnostics (source snippet, label,
//! help), then a summary table of package sizes and proposed moves.

use std::fmt::Write;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use super::{Report, human_bytes};
use crate::analysis::Analysis;
use crate::diagnostic::Severity;
use crate::findings::{Loc, Resolution};

/// How many findings of one kind are shown before "… and N more".
const PER_KIND: usize = 12;

pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
    /// Show every finding instead of the first few of each kind.
    pub all: bool,
}

struct Renderer<'a> {
    analysis: &'a Analysis,
    handler: GraphicalReportHandler,
    out: String,
}

impl Renderer<'_> {
    fn source(&self, loc: &Loc) -> Option<NamedSource<String>> {
        let span = loc.span?;
        let text = self.analysis.files.get(span.file.index())?.text.as_ref()?;
        Some(NamedSource::new(&loc.path, text.text.clone()))
    }

    fn emit(
        &mut self,
        severity: miette::Severity,
        code: &str,
        message: String,
        loc: Option<&Loc>,
        label: Option<String>,
        help: Option<String>,
    ) {
        let mut diag = MietteDiagnostic::new(message)
            .with_severity(severity)
            .with_code(code.to_string());
        // A finding in a framework's build is shown in the source it was built from.
        let help = match loc.and_then(|l| Some((l, l.source.as_deref()?))) {
            Some((built, _)) => Some(format!(
                "{}(built into {}:{}:{}, which the next build overwrites)",
                help.map_or(String::new(), |h| h + "\n"),
                built.path,
                built.line,
                built.column
            )),
            None => help,
        };
        let loc = loc.map(|l| l.source.as_deref().unwrap_or(l));
        if let Some(h) = help {
            diag = diag.with_help(h);
        }
        let source = loc.and_then(|l| self.source(l));
        if let (Some(l), Some(src)) = (loc, &source) {
            diag = diag.with_label(LabeledSpan::new(
                label,
                l.start as usize,
                clipped_len(src.inner(), l),
            ));
        }
        let report = match source {
            Some(src) => miette::Report::new(diag).with_source_code(src),
            None => miette::Report::new(diag),
        };
        if self
            .handler
            .render_report(&mut self.out, report.as_ref())
            .is_err()
        {
            let _ = writeln!(self.out, "{report}");
        }
        self.out.push('\n');
    }
}

pub fn render(analysis: &Analysis, report: &Report<'_>, opts: &HumanOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let mut r = Renderer {
        analysis,
        handler: GraphicalReportHandler::new_themed(theme)
            .with_width(opts.width)
            .with_links(false),
        out: String::new(),
    };
    let limit = if opts.all { usize::MAX } else { PER_KIND };

    for d in report.diagnostics.iter().take(limit.saturating_mul(4)) {
        let sev = match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        };
        r.emit(
            sev,
            d.code,
            d.message.clone(),
            d.loc.as_ref(),
            None,
            d.help.clone(),
        );
    }
    more(
        &mut r.out,
        report.diagnostics.len(),
        limit.saturating_mul(4),
        "input problems",
    );

    let f = report.findings;
    for d in f.static_data.iter().take(limit) {
        let consumers = d.consumers.len();
        r.emit(
            miette::Severity::Warning,
            "migrate::static-data",
            format!(
                "{}: {} records ({}) of static data in package `{}`",
                d.id,
                d.records,
                human_bytes(d.bytes),
                d.package
            ),
            Some(&d.loc),
            Some(format!("→ collection `{}`", d.collection)),
            Some(format!(
                "move it into the cloud collection `{}`; {consumers} consumer(s) to rewrite",
                d.collection
            )),
        );
    }
    more(
        &mut r.out,
        f.static_data.len(),
        limit,
        "static data findings",
    );
    for a in f.large_assets.iter().take(limit) {
        let first = a.references.first().map(|x| &x.loc);
        r.emit(
            miette::Severity::Warning,
            "migrate::large-asset",
            format!(
                "{} is {} in package `{}` ({} reference(s))",
                a.path,
                human_bytes(a.bytes),
                a.package,
                a.references.len()
            ),
            first,
            first.map(|_| "referenced here".to_string()),
            Some(format!(
                "move it to cloud storage ({:?}); saves {}",
                a.target,
                human_bytes(a.saves)
            )),
        );
    }
    more(&mut r.out, f.large_assets.len(), limit, "large assets");
    for a in f.inline_assets.iter().take(limit) {
        r.emit(
            miette::Severity::Advice,
            "migrate::inline-asset",
            format!("{} data URI of {} inlined", a.mime, human_bytes(a.bytes)),
            Some(&a.loc),
            None,
            Some("serve it from cloud storage over HTTPS instead".into()),
        );
    }
    more(&mut r.out, f.inline_assets.len(), limit, "inline assets");
    for c in f.backend_calls.iter().take(limit) {
        let via = if c.via.is_empty() {
            String::new()
        } else {
            format!(" via {}", c.via.join(" → "))
        };
        let what = match c.endpoint.resolution {
            Resolution::Dynamic => "dynamic URL".to_string(),
            _ => format!(
                "{} {}",
                c.method.as_deref().unwrap_or("GET"),
                c.endpoint.url
            ),
        };
        r.emit(
            miette::Severity::Advice,
            "migrate::backend-call",
            format!("{:?}{via}: {what}", c.api),
            Some(&c.loc),
            None,
            None,
        );
    }
    more(&mut r.out, f.backend_calls.len(), limit, "backend calls");

    summary(&mut r.out, report);
    r.out
}

/// Lines of a span the report shows; a longer span (a whole data table) is cut to its first line.
const MAX_LABEL_LINES: usize = 8;

/// The length of the label for `loc`: the span itself, or up to the end of its first line when it
/// covers more than [`MAX_LABEL_LINES`] lines.
fn clipped_len(text: &str, loc: &Loc) -> usize {
    let (start, end) = (loc.start as usize, (loc.end as usize).min(text.len()));
    let Some(span) = text.get(start..end) else {
        return end.saturating_sub(start);
    };
    if span.matches('\n').count() < MAX_LABEL_LINES {
        return span.len();
    }
    span.find('\n').unwrap_or(span.len())
}

fn more(out: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = writeln!(
            out,
            "  … and {} more {what} (use --all, or --format json)\n",
            total - shown
        );
    }
}

fn summary(out: &mut String, report: &Report<'_>) {
    if let Some(fw) = report.project.framework {
        let _ = writeln!(out, "{}\n", crate::project::framework::describe(fw));
    }
    let s = &report.sizes;
    let _ = writeln!(
        out,
        "Packages of `{}` (limit {} each, {} in all)",
        report.project.name,
        human_bytes(report.options.limits.package),
        human_bytes(s.total_limit)
    );
    let rows: Vec<[String; 7]> = s
        .packages
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.files.to_string(),
                human_bytes(p.bytes),
                if p.over_limit {
                    "OVER".into()
                } else {
                    "ok".into()
                },
                human_bytes(p.data_savings),
                human_bytes(p.asset_savings),
                format!(
                    "{}{}",
                    human_bytes(p.after_moves),
                    if p.over_limit_after_moves {
                        " (still over)"
                    } else {
                        ""
                    }
                ),
            ]
        })
        .collect();
    let header = [
        "package",
        "files",
        "size",
        "limit",
        "data → db",
        "assets → storage",
        "after moves",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |out: &mut String, cells: &[String]| {
        let _ = writeln!(
            out,
            "  {}",
            cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
        );
    };
    line(out, &header.map(String::from));
    for row in &rows {
        line(out, row);
    }
    let _ = writeln!(
        out,
        "  total: {} → {} after moves; {} unused file(s) ({})\n",
        human_bytes(s.total_bytes),
        human_bytes(s.total_after_moves),
        s.unused.len(),
        human_bytes(s.unused_bytes)
    );
    let m = &report.summary;
    let _ = writeln!(
        out,
        "Found: {} static data set(s) ({} records), {} large asset(s), {} inline asset(s), {} backend call(s) ({} dynamic) through {} wrapper(s) → {} proposed cloud function(s); {} error(s), {} warning(s) in the input.",
        m.static_data,
        m.static_data_records,
        m.large_assets,
        m.inline_assets,
        m.backend_calls,
        m.dynamic_endpoints,
        m.wrappers,
        m.proposed_functions,
        m.errors,
        m.warnings
    );
    for p in report.findings.proposed_functions {
        let _ = writeln!(
            out,
            "  cloud function `{}`: {}{} ({} route(s), {} call(s))",
            p.name,
            p.host,
            p.path_prefix,
            p.routes.len(),
            p.calls.len()
        );
    }
}
