//! End-to-end analysis speed against a parse-only pass over the same files.
//!
//! Generates a large synthetic mini-program (by default ≥ 20 MB of JS/TS in thousands of
//! files, plus WXML/WXSS/JSON), then runs each mode in a child process of this binary so that
//! wall time, CPU time (→ cores used) and peak memory (VmHWM) are each mode's own:
//!
//! - `parse`: discovery + read and parse every file, with scope resolution and the import scan
//!   (`analyzer::files::load_all`; the per-file summary of the backend-calls detector, built
//!   at load time in a full analysis, is not)
//! - `full`: discovery + the whole analysis + the JSON report
//!
//! Run: `cargo bench -p analyzer --bench analyze` (options after `--`: `--mb 20`, `--runs 3`,
//! `--keep DIR` to reuse a generated corpus).

use std::path::{Path, PathBuf};

// The same allocator as the `migrate` binary, so the figures are the tool's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::Command;
use std::time::Instant;

#[path = "corpus/mod.rs"]
mod corpus;
use corpus::generate;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1], Path::new(&args[i + 2]));
        return;
    }
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mb: usize = opt("--mb").and_then(|v| v.parse().ok()).unwrap_or(20);
    let runs: usize = opt("--runs").and_then(|v| v.parse().ok()).unwrap_or(3);
    let dir = match opt("--keep") {
        Some(d) => PathBuf::from(d),
        None => std::env::temp_dir().join(format!("migrate-bench-{mb}mb")),
    };
    let (files, script_bytes, total_bytes) = generate(&dir, mb * 1024 * 1024);
    println!(
        "corpus: {} files, {:.1} MB of JS/TS, {:.1} MB in all, at {}",
        files,
        script_bytes as f64 / 1048576.0,
        total_bytes as f64 / 1048576.0,
        dir.display()
    );
    let exe = std::env::current_exe().expect("bench binary path");
    let mut best: Vec<(String, f64, f64, u64, String)> = Vec::new();
    // The two modes alternate, run by run, so that a slow spell of the machine (this VM's
    // kernel sometimes stalls for a while zeroing pages) weighs on both alike.
    let modes = ["parse", "full"];
    let mut all: Vec<Vec<(f64, String)>> = vec![Vec::new(); modes.len()];
    for _ in 0..runs {
        for (m, mode) in modes.iter().enumerate() {
            let start = Instant::now();
            let out = Command::new(&exe)
                .args(["--child", mode])
                .arg(&dir)
                .output()
                .expect("run child");
            let wall = start.elapsed().as_secs_f64();
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if !out.status.success() {
                eprintln!(
                    "{mode} child failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                std::process::exit(1);
            }
            all[m].push((wall, text));
        }
    }
    for (mode, mut samples) in modes.iter().zip(all) {
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (wall, text) = samples.swap_remove(0);
        let field = |k: &str| -> f64 {
            text.split_whitespace()
                .find_map(|t| t.strip_prefix(&format!("{k}=")))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let cpu = field("cpu_s");
        let hwm = field("hwm_kb") as u64;
        best.push((mode.to_string(), wall, cpu, hwm, text.trim().to_string()));
    }
    println!(
        "{:<6} {:>9} {:>9} {:>7} {:>10} {:>12}",
        "mode", "wall s", "MB/s", "cores", "peak MB", ""
    );
    for (mode, wall, cpu, hwm, text) in &best {
        println!(
            "{:<6} {:>9.3} {:>9.1} {:>7.2} {:>10.1}   {}",
            mode,
            wall,
            total_bytes as f64 / 1048576.0 / wall,
            cpu / wall,
            *hwm as f64 / 1024.0,
            text
        );
    }
    let ratio = best[1].1 / best[0].1;
    println!("full / parse-only time: {ratio:.2}x (target ≤ 1.5x)");
}

/// Runs one mode and prints `key=value` figures: findings counts, CPU seconds, peak memory.
fn child(mode: &str, dir: &Path) {
    let project = analyzer::Project::discover(dir).expect("discover");
    let summary = match mode {
        "parse" => {
            let (files, _) = analyzer::files::load_all(&project);
            let parsed = files
                .iter()
                .filter(|f| !matches!(f.parsed, analyzer::files::Parsed::None))
                .count();
            // Like `migrate analyze`, exit without tearing the syntax trees down.
            std::mem::forget(files);
            format!("parsed={parsed}")
        }
        _ => {
            let a = analyzer::analyze(project, analyzer::Options::default());
            let report_start = std::time::Instant::now();
            let r = analyzer::report::Report::new(&a);
            // Written out in pieces, the way `migrate analyze --format json` writes it.
            let mut json = Counted(0);
            analyzer::report::json::write(&r, &mut json).expect("render the report");
            let report_s = report_start.elapsed().as_secs_f64();
            let phases: Vec<String> = a
                .timings
                .iter()
                .map(|(n, d)| format!("{n}={:.3}", d.as_secs_f64()))
                .chain(std::iter::once(format!("report={report_s:.3}")))
                .collect();
            eprintln!("phases: {}", phases.join(" "));
            let line = format!(
                "calls={} data={} assets={} report_bytes={}",
                r.findings.backend_calls.len(),
                r.findings.static_data.len(),
                r.findings.large_assets.len(),
                json.0
            );
            drop(r);
            // Like `migrate analyze`, exit without tearing the syntax trees down.
            std::mem::forget(a);
            line
        }
    };
    println!("{summary} cpu_s={:.3} hwm_kb={}", cpu_seconds(), peak_kb());
}

/// A writer that only counts the bytes.
struct Counted(usize);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn proc_status(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

fn peak_kb() -> u64 {
    proc_status("VmHWM:").unwrap_or(0)
}

/// User + system CPU seconds of this process (all threads), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the `(comm)`; utime and stime are fields 14 and 15 (1-based).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}
