//! The human report: input problems and findings as miette diagnostics (source snippet, label,
//! help), then a summary table of package sizes and proposed moves.

use std::fmt::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic};

use super::snippet::Snippet;
use super::{Report, human_bytes};
use crate::analysis::Analysis;
use crate::diagnostic::Severity;
use crate::findings::{Kind, Level, Loc, Place, Visit};

/// How many findings of one kind are shown before "… and N more".
const PER_KIND: usize = 12;

pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
    /// Show every finding instead of the first few of each kind.
    pub all: bool,
}

/// Renders diagnostics one after the other into `out`.
pub struct Renderer<'a> {
    analysis: &'a Analysis,
    handler: GraphicalReportHandler,
    out: String,
}

impl<'a> Renderer<'a> {
    /// A renderer for the findings of `analysis`.
    pub fn new(analysis: &'a Analysis, opts: &HumanOptions) -> Renderer<'a> {
        let theme = if opts.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        Renderer {
            analysis,
            handler: GraphicalReportHandler::new_themed(theme)
                .with_width(opts.width)
                .with_links(false),
            out: String::new(),
        }
    }

    /// What has been rendered.
    pub fn finish(self) -> String {
        self.out
    }

    /// The window of source text around `loc`.
    fn snippet(&self, loc: &Loc) -> Option<Snippet> {
        let span = loc.span?;
        let text = self.analysis.files.get(span.file.index())?.text.as_ref()?;
        Snippet::new(&loc.path, &text.text, loc)
    }

    /// Renders one finding: its message, the snippet of its first place in the source, its help.
    pub fn finding<K: Kind>(&mut self, item: &K) {
        let at = item.places().into_iter().find_map(|p| match p {
            Place::At(l) => Some(l),
            Place::File(_) => None,
        });
        let severity = match K::LEVEL {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
            Level::Note => miette::Severity::Advice,
        };
        self.emit(
            severity,
            &format!("migrate::{}", K::RULE),
            item.message(),
            at,
            item.label(),
            Some(item.help()),
        );
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
        let snippet = loc.and_then(|l| self.snippet(l));
        let rendered = match snippet {
            Some(src) => {
                let (offset, len) = src.label();
                let with_source = diag
                    .clone()
                    .with_label(LabeledSpan::new(label, offset, len));
                self.render(miette::Report::new(with_source).with_source_code(src))
            }
            None => None,
        };
        // Without its snippet when that could not be rendered: the finding is still shown.
        let text = rendered
            .or_else(|| self.render(miette::Report::new(diag.clone())))
            .unwrap_or_else(|| format!("{diag}\n"));
        self.out.push_str(&text);
        self.out.push('\n');
    }

    fn render(&self, report: miette::Report) -> Option<String> {
        render_caught(&self.handler, report)
    }
}

/// Renders a diagnostic, or `None` when the renderer fails (or panics, as miette does on a
/// column past 65,535: one finding's snippet never takes the report down).
fn render_caught(handler: &GraphicalReportHandler, report: miette::Report) -> Option<String> {
    let mut out = String::new();
    match catch_unwind(AssertUnwindSafe(|| {
        handler.render_report(&mut out, report.as_ref())
    })) {
        Ok(Ok(())) => Some(out),
        _ => None,
    }
}

pub fn render(analysis: &Analysis, report: &Report<'_>, opts: &HumanOptions) -> String {
    let mut r = Renderer::new(analysis, opts);
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

    struct Findings<'r, 'a> {
        r: &'r mut Renderer<'a>,
        limit: usize,
    }
    impl Visit for Findings<'_, '_> {
        fn kind<K: Kind>(&mut self, items: &[K]) {
            for item in items.iter().take(self.limit) {
                self.r.finding(item);
            }
            more(&mut self.r.out, items.len(), self.limit, K::NOUN);
        }
    }
    report.each_kind(&mut Findings { r: &mut r, limit });

    summary(&mut r.out, report);
    r.out
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
    // What was found: a line per kind, with the counts the kind declares.
    let m = &report.summary;
    let _ = writeln!(out, "Found:");
    let mut rule = "";
    let mut line = String::new();
    for c in &m.counts {
        if c.rule != rule && !line.is_empty() {
            let _ = writeln!(out, "  {line}");
            line.clear();
        }
        rule = c.rule;
        if !line.is_empty() {
            line.push_str(", ");
        }
        let _ = write!(line, "{} {}", c.n, c.what[usize::from(c.n != 1)]);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(
        out,
        "  {} and {} in the input",
        crate::kinds::count(m.errors, "error", "errors"),
        crate::kinds::count(m.warnings, "warning", "warnings")
    );
    // Said plainly: how far the app is on cloud development already.
    let n = |key: &str| m.counts.iter().find(|c| c.key == key).map_or(0, |c| c.n);
    let (cloud, calls) = (n("cloudUses"), n("backendCalls"));
    if cloud > 0 && calls == 0 {
        let _ = writeln!(
            out,
            "\nThis app is already on cloud development: no call to a backend server is left to move."
        );
    } else if cloud > 0 {
        let _ = writeln!(
            out,
            "\nThis app is partly on cloud development: {} still go to its own servers.",
            crate::kinds::count(calls as usize, "backend call", "backend calls")
        );
    }
}

#[cfg(test)]
mod tests {
    use miette::{GraphicalReportHandler, LabeledSpan, MietteDiagnostic, NamedSource};

    use super::render_caught;

    #[test]
    fn a_renderer_panic_is_caught() {
        // A whole 900 KB line as the source: miette panics on the column (past u16::MAX).
        let mut text = "a".repeat(320_000);
        let at = text.len();
        text.push_str("wx.request(o)");
        text.push_str(&"b".repeat(600_000));
        let diag = MietteDiagnostic::new("m").with_label(LabeledSpan::new(None, at, 13));
        let report = miette::Report::new(diag).with_source_code(NamedSource::new("a.js", text));
        let handler = GraphicalReportHandler::new().with_width(110);
        assert_eq!(render_caught(&handler, report), None);
        let plain = miette::Report::new(MietteDiagnostic::new("m"));
        assert!(render_caught(&handler, plain).is_some_and(|t| t.contains('m')));
    }
}
