//! Bounded load on loopback, SQLite against PostgreSQL (`cargo bench -p shim --bench load`).
//!
//! The shim runs in a child process (this binary again, as the way `migrate serve` runs it:
//! `AppState::open` and `shim::serve` on 127.0.0.1, 2 tokio workers), so that its resident
//! memory can be read from `/proc/<pid>/status` without the load generator's. The parent
//! seeds the database through the store, starts the child, warms it up for 3 s, then holds
//! `BENCH_CONNECTIONS` (default 256) keep-alive HTTP/1.1 connections busy for `BENCH_SECS`
//! (default 60) seconds. Each connection cycles through ten requests: 2 gets by `_id` (10k
//! documents), 2 indexed equality queries with limit 10 and 1 count (50k documents, 5 per
//! key), 2 single-document inserts, 2 `$inc` updates by `_id`, and 1 warm cloud-function call
//! through `/admin` `functions.invokeFunction`. A request counts as an error unless it is HTTP
//! 200 with a `data` envelope.
//!
//! Printed per store: requests/s (total, first 10 s, last 10 s), p50/p99 per operation,
//! errors (with the first few), the shim's RSS sampled every second (first-10 s average,
//! last-10 s average, peak; its anonymous part and, on SQLite, SQLite's own heap as
//! `sqlite3_memory_used` reports it, which the child writes to a file in its data dir), its
//! function workers' RSS, and the acknowledged inserts against the documents found after the
//! run. Then a table of SQLite against PostgreSQL.
//!
//! PostgreSQL is a throwaway local cluster (`tests/common/pg.rs`: Unix socket, `fsync` on) or
//! `MIGRATE_TEST_PG_URL`; without `initdb`/`pg_ctl` it is skipped with a line saying so.
//! `BENCH_STORES=sqlite` (or `postgres`) runs one. On a 2-core machine the server, the load
//! generator and PostgreSQL share the cores, so the figures include the generator's cost.

#[path = "../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bson::{Document, doc};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use shim::store::{PostgresStore, SqliteStore, Store};
use shim::{AppState, ShimConfig};

const FUNCTION: &str = "exports.main = async (event) => ({ echo: event.n })\n";
const ENV: &str = "bench-env";
const DOCS: u64 = 10_000;
const BIG: u64 = 50_000;
const BIG_KEYS: u64 = 10_000;
const COUNTERS: u64 = 1_000;
const WARMUP: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Get,
    Query,
    Count,
    Insert,
    Update,
    Function,
}

const OPS: [Op; 6] = [
    Op::Get,
    Op::Query,
    Op::Count,
    Op::Insert,
    Op::Update,
    Op::Function,
];

/// What one connection sends, in order, over and over.
const CYCLE: [Op; 10] = [
    Op::Get,
    Op::Query,
    Op::Insert,
    Op::Get,
    Op::Count,
    Op::Update,
    Op::Query,
    Op::Insert,
    Op::Update,
    Op::Function,
];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Get => "get by id",
            Op::Query => "indexed query",
            Op::Count => "count",
            Op::Insert => "insert",
            Op::Update => "update ($inc)",
            Op::Function => "function call",
        }
    }

    fn index(self) -> usize {
        OPS.iter().position(|o| *o == self).unwrap()
    }

    /// The `/admin` body of the `n`th request of connection `conn`.
    fn body(self, conn: usize, n: u64) -> String {
        let x = n.wrapping_mul(7919).wrapping_add(conn as u64 * 104_729);
        let v = match self {
            Op::Get => serde_json::json!({
                "collectionName": "docs", "query": format!("{{\"_id\":\"id-{}\"}}", x % DOCS),
                "queryType": "DOC", "multi": false, "action": "database.getDocument"
            }),
            Op::Query => serde_json::json!({
                "collectionName": "big",
                "query": format!("{{\"k\":{{\"$numberInt\":\"{}\"}}}}", x % BIG_KEYS),
                "queryType": "WHERE", "limit": 10, "action": "database.getDocument"
            }),
            Op::Count => serde_json::json!({
                "collectionName": "big",
                "query": format!("{{\"k\":{{\"$numberInt\":\"{}\"}}}}", x % BIG_KEYS),
                "queryType": "WHERE", "action": "database.calculateDocument"
            }),
            Op::Insert => serde_json::json!({
                "collectionName": "writes",
                "data": [format!(
                    "{{\"conn\":{{\"$numberInt\":\"{conn}\"}},\"n\":{{\"$numberLong\":\"{n}\"}},\"title\":\"load\"}}"
                )],
                "action": "database.insertDocument"
            }),
            Op::Update => serde_json::json!({
                "collectionName": "counters",
                "query": format!("{{\"_id\":\"c-{}\"}}", x % COUNTERS),
                "queryType": "DOC", "data": "{\"$inc\":{\"hits\":{\"$numberInt\":\"1\"}}}",
                "multi": false, "merge": true, "upsert": false,
                "action": "database.modifyDocument"
            }),
            Op::Function => serde_json::json!({
                "action": "functions.invokeFunction", "function_name": "echo",
                "request_data": format!("{{\"n\":{n}}}")
            }),
        };
        v.to_string()
    }
}

/// What the connections measured.
#[derive(Default)]
struct Tally {
    latencies_us: [Vec<u32>; OPS.len()],
    errors: [usize; OPS.len()],
    /// The first few failures: operation, status, start of the body.
    samples: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for i in 0..OPS.len() {
            self.latencies_us[i].extend(&other.latencies_us[i]);
            self.errors[i] += other.errors[i];
        }
        for s in other.samples {
            if self.samples.len() < 5 {
                self.samples.push(s);
            }
        }
    }

    fn pct(&self, op: Op, p: f64) -> f64 {
        let v = &self.latencies_us[op.index()];
        if v.is_empty() {
            return f64::NAN;
        }
        f64::from(v[((v.len() - 1) as f64 * p).round() as usize]) / 1000.0
    }

    fn answered(&self) -> usize {
        self.latencies_us.iter().map(Vec::len).sum()
    }

    fn errors(&self) -> usize {
        self.errors.iter().sum()
    }
}

/// One store's run.
struct Report {
    store: &'static str,
    rps: f64,
    rps_first: f64,
    rps_last: f64,
    tally: Tally,
    /// Server RSS in MB: at start (before warm-up), first-10 s average, last-10 s average, peak.
    rss: (f64, f64, f64, f64),
    /// The anonymous part of the server's RSS (MB): first-10 s average, last-10 s, peak.
    anon: (f64, f64, f64),
    /// On SQLite: SQLite's own heap, and the anonymous memory beside it (MB), first-10 s
    /// average, last-10 s, peak.
    sqlite_heap: Option<(FirstLastPeak, FirstLastPeak)>,
    /// The server's RSS at the end of each 10 s (MB), space-separated.
    every_10s: String,
    /// The SQLite file with its WAL at the end (MB), or `None` on PostgreSQL.
    file_mb: Option<f64>,
    /// The same for the function workers together.
    workers_rss: (f64, f64, f64, f64),
    inserts_acked: usize,
    inserts_found: u64,
}

fn seed(store: &dyn Store) {
    store.create_collection("docs").expect("create docs");
    let docs: Vec<Document> = (0..DOCS)
        .map(|i| doc! { "_id": format!("id-{i}"), "n": i as i64, "title": format!("document {i}"), "tags": ["a", "b"] })
        .collect();
    store.insert("docs", docs).expect("insert docs");
    store.create_collection("big").expect("create big");
    store.ensure_index("big", "k").expect("index");
    for chunk in 0..BIG / 1000 {
        let docs: Vec<Document> = (0..1000)
            .map(|j| {
                let i = chunk * 1000 + j;
                doc! { "k": (i % BIG_KEYS) as i32, "i": i as i64, "name": format!("row {i}"), "score": (i * 37 % 1000) as i32 }
            })
            .collect();
        store.insert("big", docs).expect("insert big");
    }
    store
        .create_collection("counters")
        .expect("create counters");
    let counters: Vec<Document> = (0..COUNTERS)
        .map(|i| doc! { "_id": format!("c-{i}"), "hits": 0 })
        .collect();
    store.insert("counters", counters).expect("insert counters");
    store.create_collection("writes").expect("create writes");
}

fn make_project(root: &Path) -> PathBuf {
    let project = root.to_path_buf();
    std::fs::create_dir_all(project.join("cloudfunctions/echo")).expect("function dir");
    std::fs::write(project.join("cloudfunctions/echo/index.js"), FUNCTION).expect("function");
    std::fs::write(
        project.join("project.config.json"),
        r#"{"appid":"wxbench","cloudfunctionRoot":"cloudfunctions/"}"#,
    )
    .expect("project.config.json");
    project
}

/// The server side, in the child: serve `LOAD_BENCH_PROJECT` (on `LOAD_BENCH_DB` when set)
/// until stdin closes; print the address first.
fn child_main(project: &str) {
    let mut config = ShimConfig::from_project(Path::new(project)).expect("config");
    config.env_id = ENV.into();
    config.database_url = std::env::var("LOAD_BENCH_DB")
        .ok()
        .filter(|u| !u.is_empty());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        config.public_url = Some(format!("http://{addr}"));
        let sqlite_mem = config
            .database_url
            .is_none()
            .then(|| config.data_dir.join("sqlite-memory"));
        let state = AppState::open(config).await.expect("open shim");
        if let Some(file) = sqlite_mem {
            // SQLite's own heap (page caches of all connections, statements), for the parent.
            std::thread::spawn(move || {
                loop {
                    // SAFETY: sqlite3_memory_used takes no arguments and only reads a counter.
                    let used = unsafe { rusqlite::ffi::sqlite3_memory_used() };
                    let tmp = file.with_extension("tmp");
                    if std::fs::write(&tmp, used.to_string()).is_ok() {
                        let _ = std::fs::rename(&tmp, &file);
                    }
                    std::thread::sleep(Duration::from_millis(500));
                }
            });
        }
        println!("listening {addr}");
        std::io::stdout().flush().ok();
        let stdin_closed = async {
            let _ = tokio::task::spawn_blocking(|| {
                let mut sink = Vec::new();
                let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            })
            .await;
        };
        shim::serve(listener, stdin_closed, state)
            .await
            .expect("serve");
    });
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `RssAnon`; 0 once the process is gone).
fn status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmRSS")
}

/// The RSS of `pid`'s child processes (the function workers) together, in KiB.
fn children_rss_kb(pid: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            // `/proc/<p>/stat`: `pid (comm) state ppid ...`; comm may hold spaces.
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = &s[s.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .map(rss_kb)
        .sum()
}

/// One per-second sample of the server.
struct Sample {
    /// Resident memory of the shim, KiB.
    rss: u64,
    /// Of it, anonymous memory (heap, stacks; not the memory-mapped database file), KiB.
    anon: u64,
    /// Resident memory of the function workers together, KiB.
    workers: u64,
    /// SQLite's own heap in the shim (`sqlite3_memory_used`), KiB; 0 on PostgreSQL.
    sqlite: u64,
    /// Requests answered so far.
    answered: u64,
}

struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<Sample>>,
}

impl Sampler {
    fn start(pid: u32, answered: Arc<AtomicU64>, sqlite_memory: Option<PathBuf>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            let mut next = Instant::now() + Duration::from_secs(1);
            while !flag.load(Ordering::Relaxed) {
                let now = Instant::now();
                if now < next {
                    std::thread::sleep((next - now).min(Duration::from_millis(50)));
                    continue;
                }
                next += Duration::from_secs(1);
                samples.push(Sample {
                    rss: rss_kb(pid),
                    anon: status_kb(pid, "RssAnon"),
                    workers: children_rss_kb(pid),
                    sqlite: sqlite_memory
                        .as_ref()
                        .and_then(|f| std::fs::read_to_string(f).ok()?.trim().parse::<u64>().ok())
                        .map_or(0, |b| b / 1024),
                    answered: answered.load(Ordering::Relaxed),
                });
            }
            samples
        });
        Sampler { stop, thread }
    }

    fn stop(self) -> Vec<Sample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// A series in MB: first-10 s average, last-10 s average, peak.
type FirstLastPeak = (f64, f64, f64);

/// First-10 average, last-10 average and peak of `v`, KiB to MB.
fn first_last_peak(v: &[u64]) -> FirstLastPeak {
    let avg = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len().max(1) as f64 / 1024.0;
    let n = v.len().min(10);
    (
        avg(&v[..n]),
        avg(&v[v.len() - n..]),
        v.iter().copied().max().unwrap_or(0) as f64 / 1024.0,
    )
}

/// Drive `connections` connections at `host` until `deadline`.
async fn load(
    host: &str,
    connections: usize,
    deadline: Instant,
    answered: Arc<AtomicU64>,
    inserts: Arc<AtomicU64>,
) -> Tally {
    let mut tasks = Vec::new();
    for c in 0..connections {
        let host = host.to_string();
        let answered = Arc::clone(&answered);
        let inserts = Arc::clone(&inserts);
        tasks.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            let stream = match tokio::net::TcpStream::connect(&host).await {
                Ok(s) => s,
                Err(e) => {
                    tally.errors[0] += 1;
                    tally.samples.push(format!("connect: {e}"));
                    return tally;
                }
            };
            stream.set_nodelay(true).ok();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(conn);
            // Connections start at different places in the cycle.
            let mut n = c as u64;
            while Instant::now() < deadline {
                let op = CYCLE[(n % CYCLE.len() as u64) as usize];
                let req = Request::post("/admin")
                    .header("host", &host)
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(op.body(c, n))))
                    .expect("request");
                n += 1;
                let t = Instant::now();
                let resp = match sender.send_request(req).await {
                    Ok(r) => r,
                    Err(e) => {
                        tally.errors[op.index()] += 1;
                        tally.samples.push(format!("{}: {e}", op.name()));
                        break;
                    }
                };
                let status = resp.status().as_u16();
                let body = resp.into_body().collect().await.map(|b| b.to_bytes());
                let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                match body {
                    // The action envelope: `{"requestId":..,"data":..}`, or `{"code":..}` on error.
                    Ok(b) if status == 200 && b.starts_with(b"{\"requestId\"") => {
                        tally.latencies_us[op.index()].push(us);
                        answered.fetch_add(1, Ordering::Relaxed);
                        if op == Op::Insert {
                            inserts.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    other => {
                        tally.errors[op.index()] += 1;
                        if tally.samples.len() < 5 {
                            let text = match &other {
                                Ok(b) => {
                                    String::from_utf8_lossy(&b[..b.len().min(200)]).into_owned()
                                }
                                Err(e) => e.to_string(),
                            };
                            tally
                                .samples
                                .push(format!("{}: HTTP {status}: {text}", op.name()));
                        }
                    }
                }
            }
            tally
        }));
    }
    let mut tally = Tally::default();
    for t in tasks {
        tally.merge(t.await.expect("client task"));
    }
    for v in &mut tally.latencies_us {
        v.sort_unstable();
    }
    tally
}

/// The documents in `writes` after the run, through a fresh `/admin` count.
async fn count_writes(host: &str) -> u64 {
    let stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("handshake");
    tokio::spawn(conn);
    let body = serde_json::json!({
        "collectionName": "writes", "queryType": "WHERE", "action": "database.calculateDocument"
    });
    let req = Request::post("/admin")
        .header("host", host)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("request");
    let resp = sender.send_request(req).await.expect("count");
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    v["data"]["total"]
        .as_u64()
        .unwrap_or_else(|| panic!("count of writes: {v}"))
}

fn run_store(
    store: &'static str,
    project: &Path,
    database_url: Option<String>,
    connections: usize,
    secs: f64,
) -> Report {
    let sqlite_file = database_url.is_none().then(|| {
        ShimConfig::from_project(project)
            .expect("config")
            .database_file()
    });
    let t = Instant::now();
    {
        let opened: Box<dyn Store> = match &database_url {
            None => {
                let config = ShimConfig::from_project(project).expect("config");
                std::fs::create_dir_all(&config.data_dir).expect("data dir");
                Box::new(SqliteStore::open(config.database_file()).expect("open SQLite"))
            }
            Some(url) => {
                Box::new(PostgresStore::connect(url).unwrap_or_else(|e| panic!("{}", e.detail())))
            }
        };
        seed(opened.as_ref());
    }
    println!(
        "\n== {store}: seeded {DOCS} + {BIG} + {COUNTERS} documents in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let mut child = std::process::Command::new(std::env::current_exe().expect("exe"))
        .env("LOAD_BENCH_PROJECT", project)
        .env("LOAD_BENCH_DB", database_url.unwrap_or_default())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the server process");
    let pid = child.id();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the address");
    let host = line
        .trim()
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("the server process said {line:?}"))
        .to_string();
    let rss_start = rss_kb(pid) as f64 / 1024.0;
    let workers_start = children_rss_kb(pid) as f64 / 1024.0;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt.block_on(async {
        let warm = load(
            &host,
            connections,
            Instant::now() + WARMUP,
            Arc::default(),
            Arc::default(),
        )
        .await;
        let answered = Arc::new(AtomicU64::new(0));
        let inserts = Arc::new(AtomicU64::new(0));
        let sampler = Sampler::start(
            pid,
            Arc::clone(&answered),
            sqlite_file
                .as_ref()
                .map(|f| f.with_file_name("sqlite-memory")),
        );
        let started = Instant::now();
        let tally = load(
            &host,
            connections,
            started + Duration::from_secs_f64(secs),
            Arc::clone(&answered),
            Arc::clone(&inserts),
        )
        .await;
        let elapsed = started.elapsed().as_secs_f64();
        let samples = sampler.stop();
        let found = count_writes(&host).await;
        let warm_inserts = warm.latencies_us[Op::Insert.index()].len();
        let rss: Vec<u64> = samples.iter().map(|s| s.rss).collect();
        let anon: Vec<u64> = samples.iter().map(|s| s.anon).collect();
        let workers: Vec<u64> = samples.iter().map(|s| s.workers).collect();
        // Requests answered in the first and last 10 one-second samples.
        let counts: Vec<u64> = samples.iter().map(|s| s.answered).collect();
        let n = counts.len().min(10);
        let rps_first =
            counts.get(n.wrapping_sub(1)).copied().unwrap_or(0) as f64 / n.max(1) as f64;
        let before_last = counts.len().checked_sub(n + 1).map_or(0, |i| counts[i]);
        let rps_last = counts.last().map_or(0, |l| l - before_last) as f64 / n.max(1) as f64;
        let (f, l, p) = first_last_peak(&rss);
        let (wf, wl, wp) = first_last_peak(&workers);
        let (af, al, ap) = first_last_peak(&anon);
        let sqlite: Vec<u64> = samples.iter().map(|s| s.sqlite).collect();
        let beside: Vec<u64> = samples
            .iter()
            .map(|s| s.anon.saturating_sub(s.sqlite))
            .collect();
        let (sf, sl, sp) = first_last_peak(&sqlite);
        let (bf, bl, bp) = first_last_peak(&beside);
        let every_10s = rss
            .iter()
            .skip(9)
            .step_by(10)
            .map(|kb| format!("{:.0}", *kb as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(" ");
        if warm.errors() > 0 {
            println!(
                "warm-up errors: {} (first: {:?})",
                warm.errors(),
                warm.samples
            );
        }
        Report {
            store,
            rps: tally.answered() as f64 / elapsed,
            rps_first,
            rps_last,
            rss: (rss_start, f, l, p),
            anon: (af, al, ap),
            sqlite_heap: sqlite_file.as_ref().map(|_| ((sf, sl, sp), (bf, bl, bp))),
            every_10s,
            workers_rss: (workers_start, wf, wl, wp),
            inserts_acked: inserts.load(Ordering::Relaxed) as usize + warm_inserts,
            inserts_found: found,
            file_mb: sqlite_file.as_ref().map(|f| {
                let len = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
                (len(f.clone()) + len(f.with_extension("sqlite-wal"))) as f64 / 1048576.0
            }),
            tally,
        }
    });
    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(15);
    while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    report
}

fn print_report(r: &Report, connections: usize, secs: f64) {
    println!(
        "{}: {connections} connections, {secs} s after a {} s warm-up",
        r.store,
        WARMUP.as_secs()
    );
    println!(
        "  total {:>8.0} req/s (first 10 s {:.0}, last 10 s {:.0})   errors {}",
        r.rps,
        r.rps_first,
        r.rps_last,
        r.tally.errors()
    );
    for op in OPS {
        println!(
            "  {:<16} {:>8} requests   p50 {:>8.2} ms   p99 {:>8.2} ms   errors {}",
            op.name(),
            r.tally.latencies_us[op.index()].len(),
            r.tally.pct(op, 0.5),
            r.tally.pct(op, 0.99),
            r.tally.errors[op.index()]
        );
    }
    for s in &r.tally.samples {
        println!("  error: {s}");
    }
    let (s, f, l, p) = r.rss;
    println!(
        "  shim RSS (1 s samples): {s:.0} MB at start, first 10 s avg {f:.0} MB, last 10 s avg {l:.0} MB, peak {p:.0} MB"
    );
    let (f, l, p) = r.anon;
    println!(
        "    of which anonymous:   first 10 s avg {f:.0} MB, last 10 s avg {l:.0} MB, peak {p:.0} MB (the rest: file pages, the binary and SQLite's memory-mapped database)"
    );
    if let Some(((f, l, p), (bf, bl, bp))) = r.sqlite_heap {
        println!(
            "      SQLite's own heap:  first 10 s avg {f:.0} MB, last 10 s avg {l:.0} MB, peak {p:.0} MB (sqlite3_memory_used: page caches, statements)"
        );
        println!(
            "      the rest of it:     first 10 s avg {bf:.0} MB, last 10 s avg {bl:.0} MB, peak {bp:.0} MB"
        );
    }
    println!("    RSS at each 10 s:     {} MB", r.every_10s);
    if let Some(mb) = r.file_mb {
        println!("    SQLite file + WAL after the run: {mb:.0} MB");
    }
    let (s, f, l, p) = r.workers_rss;
    println!(
        "  function workers RSS:   {s:.0} MB at start, first 10 s avg {f:.0} MB, last 10 s avg {l:.0} MB, peak {p:.0} MB"
    );
    println!(
        "  inserts acknowledged {} (warm-up included), documents in `writes` after the run {}",
        r.inserts_acked, r.inserts_found
    );
}

fn print_table(reports: &[Report]) {
    println!("\n== SQLite against PostgreSQL, same workload");
    print!("{:<22}", "");
    for r in reports {
        print!("{:>14}", r.store);
    }
    println!();
    let row = |label: &str, f: &dyn Fn(&Report) -> String| {
        print!("{label:<22}");
        for r in reports {
            print!("{:>14}", f(r));
        }
        println!();
    };
    row("requests/s", &|r| format!("{:.0}", r.rps));
    for op in OPS {
        row(&format!("{} p50/p99 ms", op.name()), &|r| {
            format!("{:.1}/{:.1}", r.tally.pct(op, 0.5), r.tally.pct(op, 0.99))
        });
    }
    row("errors", &|r| r.tally.errors().to_string());
    row("RSS first/last/peak MB", &|r| {
        format!("{:.0}/{:.0}/{:.0}", r.rss.1, r.rss.2, r.rss.3)
    });
    row("  anonymous MB", &|r| {
        format!("{:.0}/{:.0}/{:.0}", r.anon.0, r.anon.1, r.anon.2)
    });
    row("    beside SQLite's", &|r| match r.sqlite_heap {
        Some((_, (f, l, p))) => format!("{f:.0}/{l:.0}/{p:.0}"),
        None => "-".into(),
    });
}

fn main() {
    if let Ok(project) = std::env::var("LOAD_BENCH_PROJECT") {
        child_main(&project);
        return;
    }
    // `cargo bench` passes `--bench`; ignore arguments.
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    let connections: usize = std::env::var("BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    let stores = std::env::var("BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    let want = |s: &str| stores.split(',').any(|x| x == s);
    println!(
        "load: {connections} connections for {secs} s per store; per connection: 2 gets, 2 \
         indexed queries, 1 count, 2 inserts, 2 updates, 1 function call in every 10 requests"
    );
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut reports = Vec::new();
    if want("sqlite") {
        let project = make_project(&tmp.path().join("sqlite"));
        let r = run_store("sqlite", &project, None, connections, secs);
        print_report(&r, connections, secs);
        reports.push(r);
    }
    if want("postgres") {
        if pg::available() {
            let project = make_project(&tmp.path().join("postgres"));
            let url = pg::server().url(&pg::fresh_db());
            let r = run_store("postgres", &project, Some(url), connections, secs);
            print_report(&r, connections, secs);
            reports.push(r);
        } else {
            println!(
                "\n== postgres: skipped, no PostgreSQL binaries (initdb, pg_ctl) found and no \
                 MIGRATE_TEST_PG_URL (apt-get install postgresql to include it)"
            );
        }
    }
    if reports.len() > 1 {
        print_table(&reports);
    }
}
