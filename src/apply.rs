//! `migrate plan <project>` and `migrate apply <project>`: make the plan, carry it out after
//! review, undo it.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use analyzer::{Analysis, Options, Project};
use clap::Args;
use miette::{IntoDiagnostic, LabeledSpan, NamedSource, WrapErr, miette};
use rewriter::changeset::Changeset;
use rewriter::git::{self, TreeState};
use rewriter::plan::{Plan, PlanError};
use rewriter::review::Palette;
use rewriter::summary::{PackageSize, Summary, Written};
use rewriter::{Applicability, journal, prompt, session, transform};

use crate::analyze::Color;

#[derive(Args)]
pub(crate) struct PlanArgs {
    /// The project folder (the one holding project.config.json).
    project: PathBuf,
    /// Write the plan here instead of standard output.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The cloud environment id (from the CloudBase console).
    #[arg(long)]
    env: Option<String>,
}

#[derive(Args)]
pub(crate) struct ApplyArgs {
    /// The project folder (the one holding project.config.json).
    project: PathBuf,
    /// The plan to carry out (`migrate plan` writes one); without it, the default plan.
    #[arg(long)]
    plan: Option<PathBuf>,
    /// The cloud environment id, for the default plan.
    #[arg(long)]
    env: Option<String>,
    /// Print the whole diff and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Apply the safe rewrites without asking.
    #[arg(long, short)]
    yes: bool,
    /// Also apply the rewrites that need review (with --yes), or offer them (interactive).
    #[arg(long = "unsafe")]
    unsafe_: bool,
    /// Apply even when the git tree has uncommitted changes.
    #[arg(long)]
    allow_dirty: bool,
    /// Undo the last apply (also one that stopped halfway) and exit.
    #[arg(long)]
    undo: bool,
    /// Colour in the diff.
    #[arg(long, value_enum, default_value = "auto")]
    color: Color,
    /// `human`, or `json` (with --dry-run or --yes): one JSON document of the changes, what
    /// was left and the sizes on standard output (docs/apply-schema.md).
    #[arg(long, value_enum, default_value = "human")]
    format: ApplyFormat,
}

/// How `apply` reports.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ApplyFormat {
    Human,
    Json,
}

fn analyze(dir: &Path) -> miette::Result<Analysis> {
    let project = Project::discover(dir)?;
    Ok(analyzer::analyze(project, Options::default()))
}

/// A plan's problems as one miette report pointing into the plan file.
fn plan_report(path: &Path, text: &str, errors: Vec<PlanError>) -> miette::Report {
    let n = errors.len();
    let first = errors[0].help.clone();
    let labels: Vec<LabeledSpan> = errors
        .iter()
        .map(|e| {
            LabeledSpan::at(
                e.start..e.end.max(e.start + 1).min(text.len().max(1)),
                format!("{} ({})", e.message, e.help),
            )
        })
        .collect();
    miette!(
        labels = labels,
        help = if n == 1 {
            first
        } else {
            "fix each marked place, then run `migrate apply` again".to_string()
        },
        "the plan {} has {n} problem{}",
        path.display(),
        if n == 1 { "" } else { "s" }
    )
    .with_source_code(NamedSource::new(
        path.display().to_string(),
        text.to_string(),
    ))
}

fn load_plan(
    args_plan: Option<&Path>,
    env: Option<String>,
    analysis: &Analysis,
) -> miette::Result<Plan> {
    let Some(path) = args_plan else {
        return Ok(Plan::propose(&analysis.findings, env));
    };
    let text = std::fs::read_to_string(path)
        .into_diagnostic()
        .wrap_err_with(|| format!("could not read the plan {}", path.display()))?;
    Plan::parse(&text, &analysis.findings).map_err(|errors| plan_report(path, &text, errors))
}

pub(crate) fn plan(args: PlanArgs) -> miette::Result<ExitCode> {
    let analysis = analyze(&args.project)?;
    let text = Plan::propose(&analysis.findings, args.env).to_json();
    match &args.output {
        Some(p) => std::fs::write(p, &text)
            .into_diagnostic()
            .wrap_err_with(|| format!("could not write the plan to {}", p.display()))?,
        None => print!("{text}"),
    }
    std::mem::forget(analysis);
    Ok(ExitCode::SUCCESS)
}

fn palette(color: Color) -> Palette {
    let on = match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    if on {
        Palette::color()
    } else {
        Palette::plain()
    }
}

fn print_left(cs: &Changeset) {
    if cs.left.is_empty() {
        return;
    }
    println!("\nLeft for you ({}):", cs.left.len());
    for l in &cs.left {
        println!("  {}: {}\n    next: {}", l.at, l.why, l.next);
    }
}

fn sizes_line(a: &Analysis) -> Vec<(String, u64)> {
    let report = analyzer::report::Report::new(a);
    report
        .sizes
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.bytes))
        .collect()
}

pub(crate) fn apply(args: ApplyArgs) -> miette::Result<ExitCode> {
    let root = &args.project;
    if args.undo {
        return match journal::undo(root) {
            Ok(Some(u)) => {
                println!(
                    "Undid {}{}: {} files restored or removed.",
                    u.journal,
                    if u.was_interrupted {
                        " (it had stopped halfway)"
                    } else {
                        ""
                    },
                    u.files
                );
                Ok(ExitCode::SUCCESS)
            }
            Ok(None) => {
                println!(
                    "Nothing to undo: no apply journal under {}.",
                    root.display()
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(miette!(help = e.help(), "{e}")),
        };
    }
    let json = args.format == ApplyFormat::Json;
    if json && !args.dry_run && !args.yes {
        return Err(miette!(
            help = "add --dry-run to see the changes, or --yes (and --unsafe) to make them",
            "--format json does not ask questions: it needs --dry-run or --yes"
        ));
    }
    if !args.dry_run
        && !args.allow_dirty
        && let TreeState::Dirty(paths) = git::tree_state(root)
    {
        return Err(miette!(
            help = "commit or stash them first (so `git diff` shows what the migration did), or pass --allow-dirty",
            "the git tree has uncommitted changes: {}",
            paths.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    let analysis = analyze(root)?;
    let plan = load_plan(args.plan.as_deref(), args.env.clone(), &analysis)?;
    let mut cs = transform::build(&analysis, &plan);
    cs.drop_present(root);
    let level = if args.unsafe_ {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    if args.yes || args.dry_run {
        cs.keep_applicable(level);
    }
    let items = session::items(&cs).map_err(|(p, e)| miette!("{p}: the rewrites disagree: {e}"))?;
    let before = sizes_line(&analysis);
    let pal = palette(args.color);
    // The JSON report is made from the changeset as reviewed, before writing consumes it.
    let mut report = json.then(|| {
        let mut s = Summary::new(&cs, &items, &cs.left, args.unsafe_, args.dry_run);
        s.sizes = before
            .iter()
            .map(|(package, bytes)| PackageSize {
                package: package.clone(),
                before: *bytes,
                after: None,
            })
            .collect();
        s.to_value()
    });
    if items.is_empty() || args.dry_run {
        match &report {
            Some(r) => print!("{}", rewriter::summary::pretty(r)),
            None if items.is_empty() => {
                println!("Nothing to apply: the plan's moves are all done or left for you.");
                print_left(&cs);
            }
            None => {
                print!("{}", session::render(&items, pal));
                print_left(&cs);
                println!(
                    "\n(dry run: nothing written; {} files would change)",
                    items.len()
                );
            }
        }
        std::mem::forget(analysis);
        return Ok(ExitCode::SUCCESS);
    }
    let chosen = if args.yes {
        cs
    } else {
        let questions: Vec<_> = items.iter().map(|i| i.question()).collect();
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        let mut out = std::io::stdout().lock();
        let answers = prompt::ask(
            &questions,
            &mut input as &mut dyn BufRead,
            &mut out as &mut dyn Write,
            pal,
        )
        .into_diagnostic()?;
        session::select(&cs, &items, &answers)
    };
    std::mem::forget(analysis);
    let left = chosen.left.clone();
    let changes = chosen
        .into_changes(root)
        .map_err(|(p, e)| miette!("{p}: the rewrites disagree: {e}"))?;
    if changes.is_empty() {
        match &report {
            Some(r) => print!("{}", rewriter::summary::pretty(r)),
            None => println!("Nothing to write: the project already has every change chosen."),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let applied = journal::apply(root, &changes, &mut |_| Ok(()))
        .map_err(|e| miette!(help = e.help(), "{e}"))?;
    let after_sizes = analyze(root).ok().map(|after| {
        let sizes = sizes_line(&after);
        std::mem::forget(after);
        sizes
    });
    let after_of = |name: &str| {
        after_sizes
            .as_ref()
            .map(|s| s.iter().find(|(n, _)| n == name).map_or(0, |x| x.1))
    };
    if let Some(r) = &mut report {
        r["written"] = serde_json::to_value(Written {
            changes: applied.changes,
            journal: applied.journal.clone(),
        })
        .into_diagnostic()?;
        for s in r["sizes"].as_array_mut().into_iter().flatten() {
            let name = s["package"].as_str().unwrap_or_default().to_string();
            s["after"] = after_of(&name).into();
        }
        print!("{}", rewriter::summary::pretty(r));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Applied {} changes (undo with `migrate apply --undo {}`).",
        applied.changes,
        root.display()
    );
    if after_sizes.is_some() {
        println!("\n{:<24} {:>12} {:>12}", "package", "before", "after");
        for (name, b) in &before {
            println!(
                "{:<24} {:>12} {:>12}",
                name,
                analyzer::report::human_bytes(*b),
                analyzer::report::human_bytes(after_of(name).unwrap_or(0))
            );
        }
    }
    print_left(&Changeset {
        left,
        ..Changeset::default()
    });
    Ok(ExitCode::SUCCESS)
}
