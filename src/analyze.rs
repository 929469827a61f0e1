//! `migrate analyze <project>`: discover, analyze, report, and decide the exit status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use analyzer::report::{self, Report, human::HumanOptions};
use analyzer::{Options, Project};
use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Args, ValueEnum};
use miette::{IntoDiagnostic, WrapErr};

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Human,
    Json,
    Sarif,
}

/// The `--fail-on` values, from the analyzer's table of finding kinds.
fn fail_on_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(
        report::fail_on_values()
            .into_iter()
            .map(|(name, help)| PossibleValue::new(name).help(help)),
    )
}

#[derive(Args)]
pub(crate) struct AnalyzeArgs {
    /// The project folder (the one holding project.config.json).
    project: PathBuf,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Exit with status 1 when this is found (repeatable).
    #[arg(long, value_parser = fail_on_parser())]
    fail_on: Vec<String>,
    /// Exit with status 1 when the main package exceeds this size (e.g. 1.5MB).
    #[arg(long, value_parser = parse_size)]
    max_main: Option<u64>,
    /// Exit with status 1 when any package exceeds this size.
    #[arg(long, value_parser = parse_size)]
    max_package: Option<u64>,
    /// Exit with status 1 when all packages together exceed this size.
    #[arg(long, value_parser = parse_size)]
    max_total: Option<u64>,
    /// The per-package limit [default: 2MB].
    #[arg(long, value_parser = parse_size)]
    package_limit: Option<u64>,
    /// The limit for all packages together [default: 30MB; 20MB with --third-party].
    #[arg(long, value_parser = parse_size)]
    total_limit: Option<u64>,
    /// A mini-program built by a third-party service provider (20MB total limit).
    #[arg(long)]
    third_party: bool,
    /// Images, audio and video over this size are large assets [default: 200KB].
    #[arg(long, value_parser = parse_size)]
    asset_threshold: Option<u64>,
    /// Fonts over this size are large assets [default: 50KB].
    #[arg(long, value_parser = parse_size)]
    font_threshold: Option<u64>,
    /// Data literals and JSON data files from this size are reported [default: 4KB].
    #[arg(long, value_parser = parse_size)]
    data_threshold: Option<u64>,
    /// Show every finding in the human report, not the first few of each kind.
    #[arg(long)]
    all: bool,
    /// Colour in the human report.
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
}

#[derive(Copy, Clone, PartialEq, Eq, ValueEnum)]
pub(crate) enum Color {
    Auto,
    Always,
    Never,
}

/// Parses `2MB`, `1.5 MB`, `200KB`, `200k`, `512` (bytes). Units are binary (1 KB = 1024 B), as
/// WeChat counts package sizes.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (try 2MB, 200KB or 512)"))?;
    let mult = match unit.trim() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}` (use B, KB, MB or GB)"
            ));
        }
    };
    Ok((n * mult).round() as u64)
}

impl AnalyzeArgs {
    fn options(&self) -> Options {
        let mut o = Options::default();
        if self.third_party {
            o.limits.total = 20 * 1024 * 1024;
        }
        if let Some(v) = self.package_limit {
            o.limits.package = v;
        }
        if let Some(v) = self.total_limit {
            o.limits.total = v;
        }
        if let Some(v) = self.asset_threshold {
            o.image_threshold = v;
            o.audio_threshold = v;
            o.video_threshold = v;
        }
        if let Some(v) = self.font_threshold {
            o.font_threshold = v;
        }
        if let Some(v) = self.data_threshold {
            o.data_threshold = v;
        }
        o
    }
}

/// Which `--fail-on` conditions and budgets the report trips, as messages.
fn failures(args: &AnalyzeArgs, r: &Report<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for f in &args.fail_on {
        if r.trips(f) {
            out.push(format!("--fail-on {f}"));
        }
    }
    let main = r.sizes.packages.first().map_or(0, |p| p.bytes);
    if let Some(max) = args.max_main
        && main > max
    {
        out.push(format!(
            "main package is {} (budget {})",
            report::human_bytes(main),
            report::human_bytes(max)
        ));
    }
    if let Some(max) = args.max_package {
        for p in r.sizes.packages.iter().filter(|p| p.bytes > max) {
            out.push(format!(
                "package `{}` is {} (budget {})",
                p.name,
                report::human_bytes(p.bytes),
                report::human_bytes(max)
            ));
        }
    }
    if let Some(max) = args.max_total
        && r.sizes.total_bytes > max
    {
        out.push(format!(
            "all packages are {} (budget {})",
            report::human_bytes(r.sizes.total_bytes),
            report::human_bytes(max)
        ));
    }
    out
}

pub(crate) fn run(args: AnalyzeArgs) -> miette::Result<ExitCode> {
    let project = Project::discover(&args.project)?;
    let analysis = analyzer::analyze(project, args.options());
    let report = Report::new(&analysis);
    // The JSON report (the large one) is written out in pieces as it is rendered.
    let text = match args.format {
        Format::Json => None,
        Format::Sarif => Some(report::sarif::render(&report)),
        Format::Human => {
            let to_tty = args.output.is_none() && std::io::stdout().is_terminal();
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => to_tty && std::env::var_os("NO_COLOR").is_none(),
            };
            Some(report::human::render(
                &analysis,
                &report,
                &HumanOptions {
                    color,
                    width: 110,
                    all: args.all,
                },
            ))
        }
    };
    let emit = |mut w: &mut dyn Write| match &text {
        None => report::json::write(&report, &mut w),
        Some(text) => w.write_all(text.as_bytes()),
    };
    match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|mut f| emit(&mut f))
            .into_diagnostic()
            .wrap_err_with(|| format!("could not write the report to {}", path.display()))?,
        None => {
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = emit(&mut std::io::stdout().lock());
        }
    }
    let failed = failures(&args, &report);
    drop(report);
    // The process ends right after this: freeing hundreds of MB of syntax trees node by node
    // would only delay the exit (compilers skip it the same way).
    std::mem::forget(analysis);
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for f in &failed {
            eprintln!("migrate: failing because of {f}");
        }
        Ok(ExitCode::from(1))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2MB"), Ok(2 * 1024 * 1024));
        assert_eq!(parse_size("1.5 mb"), Ok(1_572_864));
        assert_eq!(parse_size("200k"), Ok(204_800));
        assert_eq!(parse_size("512"), Ok(512));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("MB").is_err());
    }
}
