//! `migrate verify <original> <migrated>`: runs both apps' pages in Node with the page runtime
//! of `artifacts` (`js/mp-runtime/`), the original against its own backend and the migrated one
//! against a local shim started here on the migrated project (seeds, storage, functions), and
//! shows page by page whether users get the same page data; exit 1 on any difference. The
//! original gets a local shim of its own folder too: `wx.cloud` exists on every client, and an
//! app already (partly) on cloud development keeps its own functions and collections.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use miette::{IntoDiagnostic, WrapErr, miette};
use serde_json::Value;

/// How the result is printed.
#[derive(Copy, Clone, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Per page and step, what differs, for a person.
    Human,
    /// The whole report as one JSON document (docs/verify.md).
    Json,
}

/// Arguments of `migrate verify`.
#[derive(clap::Args)]
pub(crate) struct VerifyArgs {
    /// The mini-program before the migration.
    pub original: PathBuf,
    /// The same mini-program after `migrate apply`.
    pub migrated: PathBuf,
    /// Pages, queries and steps to run (JSON; docs/verify.md); without it every page of
    /// app.json opens with an empty query.
    #[arg(long, value_name = "FILE")]
    pub script: Option<PathBuf>,
    /// Where a backend origin of the apps is reached instead (`https://api.example.com=http://127.0.0.1:8080`),
    /// for a backend that runs elsewhere in a test (repeatable).
    #[arg(long, value_name = "ORIGIN=URL")]
    pub backend: Vec<String>,
    /// The cloud env id the migrated app was applied with (file IDs name it).
    #[arg(long, default_value = shim::config::DEFAULT_ENV)]
    pub env: String,
    /// How long one step may take before it is reported as not settling, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 20_000)]
    pub timeout_ms: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

/// The local cloud of the migrated app, served on a thread of this process until dropped.
struct Shim {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Seeds loaded and listening, from the start.
    ready_s: f64,
}

impl Shim {
    fn start(project: &Path, data_dir: &Path, env: &str) -> miette::Result<Shim> {
        let started = Instant::now();
        let mut config = shim::ShimConfig::from_project(project).into_diagnostic()?;
        config.data_dir = data_dir.to_path_buf();
        config.env_id = env.to_string();
        // The pages' first calls find a warm worker instead of each waiting for one.
        config.prewarm_functions = true;
        let (tx, rx) = std::sync::mpsc::channel::<Result<String, String>>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind(("127.0.0.1", 0)).await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = tx.send(Err(format!("cannot listen on loopback: {e}")));
                        return;
                    }
                };
                let Ok(addr) = listener.local_addr() else {
                    let _ = tx.send(Err("no local address".into()));
                    return;
                };
                let url = shim::server::url_of(addr);
                config.public_url = Some(url.clone());
                let state = match shim::AppState::open(config).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = tx.send(Err(e.detail()));
                        return;
                    }
                };
                let _ = tx.send(Ok(url));
                let _ = shim::serve(
                    listener,
                    async move {
                        let _ = stopped.await;
                    },
                    state,
                )
                .await;
            });
        });
        let url = rx
            .recv()
            .map_err(|_| miette!("the local cloud stopped before it started"))?
            .map_err(|e| miette!("cannot start the local cloud for the migrated app: {e}"))?;
        Ok(Shim {
            url,
            stop: Some(stop),
            thread: Some(thread),
            ready_s: started.elapsed().as_secs_f64(),
        })
    }
}

impl Drop for Shim {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Run `migrate verify`.
pub(crate) fn run(args: VerifyArgs) -> miette::Result<ExitCode> {
    for (what, dir) in [("original", &args.original), ("migrated", &args.migrated)] {
        if !dir.is_dir() {
            return Err(miette!(
                help = "pass the project folders: `migrate verify <original> <migrated>`",
                "the {what} app `{}` is not a folder",
                dir.display()
            ));
        }
    }
    let work = tempfile::tempdir().into_diagnostic()?;
    let driver = artifacts::runtime::write_runtime(&work.path().join("js"))
        .into_diagnostic()
        .wrap_err("cannot write the page runtime to a temporary folder")?;
    let shim = Shim::start(&args.migrated, &work.path().join("shim"), &args.env)?;
    let original_shim = Shim::start(
        &args.original,
        &work.path().join("shim-original"),
        &args.env,
    )
    .wrap_err("cannot start the local cloud of the original app (its own functions and seeds)")?;
    let mut node = Command::new("node");
    node.arg(&driver)
        .arg("--original")
        .arg(&args.original)
        .arg("--migrated")
        .arg(&args.migrated)
        .arg("--shim")
        .arg(&shim.url)
        .arg("--original-shim")
        .arg(&original_shim.url)
        .arg("--env")
        .arg(&args.env)
        .arg("--timeout-ms")
        .arg(args.timeout_ms.to_string());
    if let Some(s) = &args.script {
        node.arg("--script").arg(s);
    }
    for b in &args.backend {
        node.arg("--backend").arg(b);
    }
    let started = Instant::now();
    let out = node.output().map_err(|e| {
        miette!(
            help = "install Node.js 18 or later; verify runs the pages in it",
            "cannot run node: {e}"
        )
    })?;
    let run_s = started.elapsed().as_secs_f64();
    let ready_s = shim.ready_s;
    drop(shim);
    drop(original_shim);
    if out.status.code() == Some(3) {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(miette!(
            "cannot verify these apps as they are: {}",
            why.trim().trim_start_matches("verify: ")
        ));
    }
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(miette!(
            "the page runtime failed (exit {:?}):\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut report: Value = serde_json::from_slice(&out.stdout)
        .into_diagnostic()
        .wrap_err("the page runtime printed no report")?;
    report["timings"] = serde_json::json!({ "shimReadyS": ready_s, "runS": run_s });
    let equal = report["equal"].as_bool().unwrap_or(false);
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let text = serde_json::to_string_pretty(&report).into_diagnostic()?;
            writeln!(stdout, "{text}").into_diagnostic()?;
        }
        Format::Human => human(&mut stdout, &report).into_diagnostic()?,
    }
    Ok(if equal {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn human(w: &mut impl Write, r: &Value) -> std::io::Result<()> {
    let empty = Vec::new();
    let pages = r["pages"].as_array().unwrap_or(&empty);
    let mut differing = 0;
    for p in pages {
        let route = p["route"].as_str().unwrap_or("?");
        let query = match &p["query"] {
            Value::Object(q) if !q.is_empty() => format!(" {}", Value::Object(q.clone())),
            _ => String::new(),
        };
        for e in p["notRun"].as_array().unwrap_or(&empty) {
            differing += 1;
            writeln!(w, "  NOT RUN  {route}{query}: {}", short(e))?;
        }
        for s in p["steps"].as_array().unwrap_or(&empty) {
            let step = s["step"].as_str().unwrap_or("?");
            let diffs = s["differences"].as_array().unwrap_or(&empty);
            let reqs = |side: &str| s["requests"][side].as_array().map_or(0, Vec::len);
            if s["equal"].as_bool().unwrap_or(false) {
                writeln!(
                    w,
                    "  same  {route}{query} {step} ({} requests before, {} after)",
                    reqs("original"),
                    reqs("migrated")
                )?;
                continue;
            }
            differing += 1;
            writeln!(w, "  DIFF  {route}{query} {step}")?;
            for d in diffs {
                writeln!(
                    w,
                    "        {}: {} → {}",
                    d["path"].as_str().unwrap_or(""),
                    short(&d["original"]),
                    short(&d["migrated"])
                )?;
            }
            for side in ["original", "migrated"] {
                for e in s["errors"][side].as_array().unwrap_or(&empty) {
                    writeln!(w, "        error ({side}): {}", short(e))?;
                }
            }
        }
    }
    for e in r["errors"].as_array().unwrap_or(&empty) {
        writeln!(w, "  error: {}", short(e))?;
    }
    writeln!(w)?;
    if let Some(before) = r["packages"]["original"].as_object() {
        for (name, b) in before {
            writeln!(
                w,
                "  package {name}: {b} → {} bytes",
                r["packages"]["migrated"][name]
            )?;
        }
    }
    if differing == 0 && r["equal"].as_bool().unwrap_or(false) {
        writeln!(
            w,
            "verify: the migrated app shows the same data on every page and step"
        )
    } else {
        writeln!(w, "verify: {differing} step(s) differ")
    }
}

/// A JSON value on one line, cut to a readable length.
fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    };
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}
