//! `migrate`: move a WeChat mini-program onto cloud development.
//!
//! Layout: this file parses the command line and hands each subcommand to its module
//! (`analyze.rs`, `apply.rs` for plan and apply, `serve.rs`, `verify.rs`); the work itself lives in the workspace crates.

mod analyze;
mod apply;
mod serve;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

// Parsing and analysis allocate many small nodes; mimalloc is markedly faster at that than the
// system allocator (see the analyzer benchmark).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "migrate",
    version,
    about = "Move a WeChat mini-program onto cloud development"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Report what could move to the cloud: static data, large assets, backend calls, package sizes.
    Analyze(analyze::AnalyzeArgs),
    /// Write the migration plan (what moves where) as a JSON file to review and edit.
    Plan(apply::PlanArgs),
    /// Carry out the plan: rewrite the project after showing each change, or undo the last apply.
    Apply(apply::ApplyArgs),
    /// Run a local cloud (database, storage, functions) for a rewritten project.
    Serve(serve::ServeArgs),
    /// Run the original and the migrated app's pages in Node and show, page by page, that users get the same data.
    Verify(verify::VerifyArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Plan(args) => apply::plan(args),
        Command::Apply(args) => apply::apply(args),
        Command::Serve(args) => serve::run(args).map(|()| ExitCode::SUCCESS),
        Command::Verify(args) => verify::run(args),
    };
    match result {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}
