//! HTTP load benchmark of the shim on loopback (`cargo bench -p shim --bench http`).
//!
//! One process: the shim (`shim::serve` on 127.0.0.1:0) and a load generator (hyper HTTP/1.1
//! clients, one keep-alive connection per task) share one 2-worker tokio runtime, so on a
//! 2-core machine the numbers include the generator's own cost. Each case runs for
//! `BENCH_SECS` seconds (default 5) and prints requests/s, p50 and p99.
//!
//! Cases: doc get by id (64 connections), an indexed equality query on a 100k-document
//! collection, single-document inserts, a warm cloud-function call through `/admin` next to the
//! same call straight on the runner (the difference is the HTTP overhead), and a 100 KB file
//! GET through a signed URL. When an `nginx` binary is on `PATH` (or in `/usr/sbin`), the same
//! 100 KB file is also fetched from an nginx started on a loopback port with a temporary
//! config, for the ratio. `mixed` is 256 connections cycling through gets, indexed and
//! unindexed queries, counts and inserts, and prints the process's peak resident memory and
//! thread count while it runs (sampled from `/proc/self/status` every 20 ms).
//! `BENCH_CASES=get,query,...` picks cases; `BENCH_GROUP_COMMIT=0` turns group commit off.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bson::{Document, doc};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use shim::functions::InvokeContext;
use shim::store::Store;
use shim::store::sqlite::SqliteStore;
use shim::{AppState, ShimConfig};

const FUNCTION: &str = "exports.main = async (event) => ({ echo: event.n })\n";

#[derive(Clone)]
enum Method {
    Post,
    Get,
}

/// One benchmark case: the requests each connection cycles through.
struct Case {
    name: &'static str,
    connections: usize,
    method: Method,
    host: String,
    /// (path, body) pairs; connections take them round-robin from different offsets.
    requests: Arc<Vec<(String, Bytes)>>,
}

struct Outcome {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    /// Latency of each answered request with the index of its request in the case's list.
    by_request: Vec<(u32, u32)>,
}

impl Outcome {
    fn empty() -> Self {
        Outcome {
            requests: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latencies_us: Vec::new(),
            by_request: Vec::new(),
        }
    }
    fn merge(&mut self, other: Outcome) {
        self.requests += other.requests;
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.latencies_us.extend(other.latencies_us);
        self.by_request.extend(other.by_request);
    }
    /// p50 and p99 (ms) of the requests whose index `pick` selects.
    fn pct_of(&self, pick: impl Fn(usize) -> bool) -> (f64, f64) {
        let mut v: Vec<u32> = self
            .by_request
            .iter()
            .filter(|(i, _)| pick(*i as usize))
            .map(|(_, us)| *us)
            .collect();
        v.sort_unstable();
        let at = |p: f64| {
            v.get(((v.len().max(1) - 1) as f64 * p).round() as usize)
                .map_or(f64::NAN, |us| f64::from(*us) / 1000.0)
        };
        (at(0.5), at(0.99))
    }
    fn finish(&mut self) {
        self.latencies_us.sort_unstable();
    }
    fn pct(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[i]) / 1000.0
    }
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
    fn print(&self, name: &str, connections: usize) {
        println!(
            "{name:<44} {connections:>4} conn {:>9.0} req/s   p50 {:>7.3} ms   p99 {:>7.3} ms   errors {}",
            self.rps(),
            self.pct(0.50),
            self.pct(0.99),
            self.errors
        );
    }
}

fn is_error(status: u16, body: &[u8], post: bool) -> bool {
    if post {
        // The action envelope: HTTP 200 with `data`, or `code` on error.
        status != 200 || !body.starts_with(b"{\"requestId\"")
    } else {
        status != 200
    }
}

async fn run_case(case: &Case, secs: f64) -> Outcome {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..case.connections {
        let host = case.host.clone();
        let requests = Arc::clone(&case.requests);
        let method = case.method.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(&host)
                .await
                .expect("connect");
            stream.set_nodelay(true).ok();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(conn);
            let mut lat = Vec::with_capacity(1 << 16);
            let mut by_request = Vec::with_capacity(1 << 16);
            let mut errors = 0usize;
            let mut i = c * 7919;
            while Instant::now() < deadline {
                let index = i % requests.len();
                let (path, body) = &requests[index];
                i += 1;
                let builder = Request::builder().uri(path.as_str()).header("host", &host);
                let req = match method {
                    Method::Post => builder
                        .method("POST")
                        .header("content-type", "application/json")
                        .body(Full::new(body.clone())),
                    Method::Get => builder.method("GET").body(Full::new(Bytes::new())),
                }
                .expect("request");
                let t = Instant::now();
                let resp = match sender.send_request(req).await {
                    Ok(r) => r,
                    Err(_) => {
                        errors += 1;
                        break;
                    }
                };
                let status = resp.status().as_u16();
                let body = resp.into_body().collect().await.map(|b| b.to_bytes());
                let us = t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                match body {
                    Ok(b) if !is_error(status, &b, matches!(method, Method::Post)) => {
                        lat.push(us);
                        by_request.push((index as u32, us));
                    }
                    _ => errors += 1,
                }
            }
            (lat, by_request, errors)
        }));
    }
    let mut latencies_us = Vec::new();
    let mut by_request = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, by, e) = t.await.expect("client task");
        latencies_us.extend(lat);
        by_request.extend(by);
        errors += e;
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Outcome {
        requests: latencies_us.len(),
        errors,
        elapsed,
        latencies_us,
        by_request,
    }
}

/// Samples this process's resident memory and thread count until stopped; keeps the peaks.
struct Sampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<(u64, u64)>,
}

impl Sampler {
    fn start() -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let (mut rss, mut threads) = (0u64, 0u64);
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                for line in status.lines() {
                    let value = |l: &str| {
                        l.split_whitespace()
                            .nth(1)
                            .and_then(|v| v.parse::<u64>().ok())
                            .unwrap_or(0)
                    };
                    if line.starts_with("VmRSS:") {
                        rss = rss.max(value(line));
                    } else if line.starts_with("Threads:") {
                        threads = threads.max(value(line));
                    }
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (rss, threads)
        });
        Sampler { stop, thread }
    }

    /// `(peak RSS in KiB, peak threads)`.
    fn stop(self) -> (u64, u64) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or((0, 0))
    }
}

fn action(body: serde_json::Value) -> Bytes {
    Bytes::from(body.to_string())
}

fn seed_database(path: &Path) {
    let store = SqliteStore::open(path).expect("open store");
    store.create_collection("docs").expect("create docs");
    let docs: Vec<Document> = (0..10_000)
        .map(|i| doc! { "_id": format!("id-{i}"), "n": i, "title": format!("document {i}"), "tags": ["a", "b"] })
        .collect();
    store.insert("docs", docs).expect("insert docs");
    store.create_collection("big").expect("create big");
    store.ensure_index("big", "k").expect("index");
    for chunk in 0..100 {
        let docs: Vec<Document> = (0..1000)
            .map(|j| {
                let i = chunk * 1000 + j;
                doc! { "k": i % 20_000, "i": i, "name": format!("row {i}"), "score": (i * 37 % 1000) }
            })
            .collect();
        store.insert("big", docs).expect("insert big");
    }
    store.create_collection("writes").expect("create writes");
}

fn find_nginx() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
}

/// An nginx serving `root` on a free loopback port; killed on drop.
struct Nginx {
    child: std::process::Child,
    port: u16,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_nginx(bin: &Path, prefix: &Path, root: &Path) -> Option<Nginx> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    std::fs::create_dir_all(prefix.join("logs")).ok()?;
    let conf = format!(
        "daemon off;\nmaster_process on;\nworker_processes auto;\npid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log error;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 1000000;\n  types {{ application/octet-stream bin; }}\n\
           client_body_temp_path {prefix}/tmp; proxy_temp_path {prefix}/tmp; fastcgi_temp_path {prefix}/tmp; uwsgi_temp_path {prefix}/tmp; scgi_temp_path {prefix}/tmp;\n\
           server {{ listen 127.0.0.1:{port}; root {root}; }}\n}}\n",
        prefix = prefix.display(),
        root = root.display(),
    );
    std::fs::create_dir_all(prefix.join("tmp")).ok()?;
    let conf_path = prefix.join("nginx.conf");
    std::fs::write(&conf_path, conf).ok()?;
    let child = std::process::Command::new(bin)
        .arg("-p")
        .arg(prefix)
        .arg("-c")
        .arg(&conf_path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let nginx = Nginx { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(nginx);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let secs: f64 = std::env::var("BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let wanted: Option<Vec<String>> = std::env::var("BENCH_CASES")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let want = |n: &str| wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == n));

    let tmp = tempfile::tempdir().expect("temp dir");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("cloudfunctions/noop")).expect("function dir");
    std::fs::write(project.join("cloudfunctions/noop/index.js"), FUNCTION).expect("function");
    std::fs::write(
        project.join("project.config.json"),
        r#"{"appid":"wxbench","cloudfunctionRoot":"cloudfunctions/"}"#,
    )
    .expect("project.config.json");
    let file_100k: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
    std::fs::create_dir_all(project.join("cloud/storage/bench")).expect("storage dir");
    std::fs::write(project.join("cloud/storage/bench/100k.bin"), &file_100k).expect("file");

    let mut config = ShimConfig::from_project(&project).expect("config");
    config.env_id = "bench-env".into();
    // `BENCH_GROUP_COMMIT=0`: each write commits alone, for comparison.
    config.group_commit = std::env::var("BENCH_GROUP_COMMIT").map_or(true, |v| v != "0");
    std::fs::create_dir_all(&config.data_dir).expect("data dir");
    let t = Instant::now();
    seed_database(&config.database_file());
    println!(
        "seeded 10k + 100k documents in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let host = addr.to_string();
        config.public_url = Some(format!("http://{host}"));
        let state = AppState::open(config).await.expect("open shim");
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(shim::serve(
            listener,
            async {
                let _ = stop_rx.await;
            },
            Arc::clone(&state),
        ));
        println!(
            "shim on http://{host}; {secs} s per case; 2 tokio workers shared by server and load generator"
        );

        if want("get") {
            let requests: Vec<(String, Bytes)> = (0..10_000)
                .step_by(7)
                .map(|i| {
                    (
                        "/admin?env=bench-env&seqId=1".to_string(),
                        action(serde_json::json!({
                            "collectionName": "docs", "query": format!("{{\"_id\":\"id-{i}\"}}"),
                            "queryType": "DOC", "multi": false, "action": "database.getDocument",
                            "envName": "bench-env"
                        })),
                    )
                })
                .collect();
            let case = Case {
                name: "doc get by id (10k docs)",
                connections: 64,
                method: Method::Post,
                host: host.clone(),
                requests: Arc::new(requests),
            };
            run_case(&case, 0.5).await;
            run_case(&case, secs).await.print(case.name, case.connections);
        }

        if want("query") {
            let requests: Vec<(String, Bytes)> = (0..20_000)
                .step_by(13)
                .map(|k| {
                    (
                        "/admin".to_string(),
                        action(serde_json::json!({
                            "collectionName": "big",
                            "query": format!("{{\"k\":{{\"$numberInt\":\"{k}\"}}}}"),
                            "queryType": "WHERE", "limit": 10, "action": "database.getDocument"
                        })),
                    )
                })
                .collect();
            for conns in [16, 64] {
                let case = Case {
                    name: "indexed query, 5 of 100k docs",
                    connections: conns,
                    method: Method::Post,
                    host: host.clone(),
                    requests: Arc::new(requests.clone()),
                };
                run_case(&case, 0.5).await;
                run_case(&case, secs).await.print(case.name, case.connections);
            }
        }

        if want("insert") {
            let requests: Vec<(String, Bytes)> = (0..1000)
                .map(|i| {
                    (
                        "/admin".to_string(),
                        action(serde_json::json!({
                            "collectionName": "writes",
                            "data": [format!("{{\"i\":{{\"$numberInt\":\"{i}\"}},\"title\":\"new doc\",\"tags\":[\"x\"]}}")],
                            "action": "database.insertDocument"
                        })),
                    )
                })
                .collect();
            for conns in [16, 64] {
                let case = Case {
                    name: "insert one document",
                    connections: conns,
                    method: Method::Post,
                    host: host.clone(),
                    requests: Arc::new(requests.clone()),
                };
                run_case(&case, secs).await.print(case.name, case.connections);
            }
        }

        if want("mixed") {
            let mut requests: Vec<(String, Bytes)> = Vec::new();
            for i in 0..500 {
                let body = match i % 5 {
                    0 => serde_json::json!({
                        "collectionName": "docs", "query": format!("{{\"_id\":\"id-{}\"}}", i * 17 % 10_000),
                        "queryType": "DOC", "multi": false, "action": "database.getDocument"
                    }),
                    1 => serde_json::json!({
                        "collectionName": "big",
                        "query": format!("{{\"k\":{{\"$numberInt\":\"{}\"}}}}", i * 31 % 20_000),
                        "queryType": "WHERE", "limit": 10, "action": "database.getDocument"
                    }),
                    2 => serde_json::json!({
                        "collectionName": "docs",
                        "query": format!("{{\"n\":{{\"$gte\":{{\"$numberInt\":\"{}\"}}}}}}", i * 13 % 9_000),
                        "queryType": "WHERE", "limit": 20, "action": "database.getDocument"
                    }),
                    3 => serde_json::json!({
                        "collectionName": "big",
                        "query": format!("{{\"k\":{{\"$numberInt\":\"{}\"}}}}", i * 7 % 20_000),
                        "queryType": "WHERE", "action": "database.calculateDocument"
                    }),
                    _ => serde_json::json!({
                        "collectionName": "writes",
                        "data": [format!("{{\"i\":{{\"$numberInt\":\"{i}\"}},\"title\":\"mixed\"}}")],
                        "action": "database.insertDocument"
                    }),
                };
                requests.push(("/admin".to_string(), action(body)));
            }
            let case = Case {
                name: "mixed get/query/count/insert",
                connections: 256,
                method: Method::Post,
                host: host.clone(),
                requests: Arc::new(requests),
            };
            let sampler = Sampler::start();
            let out = run_case(&case, secs).await;
            let (peak_rss_kb, peak_threads) = sampler.stop();
            out.print(case.name, case.connections);
            // Every fifth request is an insert.
            let (p50, p99) = out.pct_of(|i| i % 5 == 4);
            println!(
                "{:<44}           p50 {p50:>7.3} ms   p99 {p99:>7.3} ms",
                "  => of which inserts"
            );
            println!(
                "{:<44} peak RSS {:.0} MB, peak threads {}",
                "  => while it ran",
                peak_rss_kb as f64 / 1024.0,
                peak_threads
            );
        }

        if want("function") {
            let runner = state.functions.clone().expect("function runner");
            // Warm the worker.
            runner
                .invoke("noop", "{\"n\":0}", InvokeContext::default())
                .await
                .expect("warm call");
            let deadline = Instant::now() + Duration::from_secs_f64(secs);
            let mut direct = Vec::new();
            let started = Instant::now();
            while Instant::now() < deadline {
                let t = Instant::now();
                runner
                    .invoke("noop", "{\"n\":1}", InvokeContext::default())
                    .await
                    .expect("direct call");
                direct.push(t.elapsed().as_micros() as u32);
            }
            direct.sort_unstable();
            let direct = Outcome {
                requests: direct.len(),
                errors: 0,
                elapsed: started.elapsed(),
                latencies_us: direct,
                by_request: Vec::new(),
            };
            direct.print("warm function, FunctionRunner::invoke", 1);
            let case = Case {
                name: "warm function via /admin invokeFunction",
                connections: 1,
                method: Method::Post,
                host: host.clone(),
                requests: Arc::new(vec![(
                    "/admin".to_string(),
                    action(serde_json::json!({
                        "action": "functions.invokeFunction", "function_name": "noop",
                        "request_data": "{\"n\":1}"
                    })),
                )]),
            };
            let http = run_case(&case, secs).await;
            http.print(case.name, 1);
            println!(
                "{:<44} p50 {:.3} ms (HTTP p50 minus direct p50)",
                "  => /admin overhead on a warm call",
                http.pct(0.5) - direct.pct(0.5)
            );
        }

        if want("file") {
            let key = shim::storage::CloudPath::parse("bench/100k.bin").expect("key");
            let url = state.storage.download_url("", &key, 3600);
            let shim_case = Case {
                name: "100 KB file GET (signed URL)",
                connections: 64,
                method: Method::Get,
                host: host.clone(),
                requests: Arc::new(vec![(url, Bytes::new())]),
            };
            let www = tmp.path().join("www");
            std::fs::create_dir_all(www.join("bench")).expect("www");
            std::fs::write(www.join("bench/100k.bin"), &file_100k).expect("www file");
            let nginx = match find_nginx() {
                None => {
                    println!(
                        "nginx not found: install it (apt-get install -y nginx-light) for the 100 KB comparison"
                    );
                    None
                }
                Some(bin) => {
                    let started = start_nginx(&bin, &tmp.path().join("nginx"), &www);
                    if started.is_none() {
                        println!("nginx at {} did not start", bin.display());
                    }
                    started
                }
            };
            match nginx {
                None => {
                    run_case(&shim_case, 0.5).await;
                    run_case(&shim_case, secs)
                        .await
                        .print(shim_case.name, shim_case.connections);
                }
                Some(nginx) => {
                    let nginx_case = Case {
                        name: "100 KB file GET, nginx (same machine)",
                        connections: 64,
                        method: Method::Get,
                        host: format!("127.0.0.1:{}", nginx.port),
                        requests: Arc::new(vec![("/bench/100k.bin".into(), Bytes::new())]),
                    };
                    run_case(&shim_case, 0.5).await;
                    run_case(&nginx_case, 0.5).await;
                    // Alternate one-second rounds so that both see the same background load.
                    let rounds = secs.ceil().max(1.0) as usize;
                    let mut shim_out = Outcome::empty();
                    let mut nginx_out = Outcome::empty();
                    for _ in 0..rounds {
                        shim_out.merge(run_case(&shim_case, secs / rounds as f64).await);
                        nginx_out.merge(run_case(&nginx_case, secs / rounds as f64).await);
                    }
                    shim_out.finish();
                    nginx_out.finish();
                    shim_out.print(shim_case.name, shim_case.connections);
                    nginx_out.print(nginx_case.name, nginx_case.connections);
                    println!(
                        "{:<44} {:.2}x nginx throughput (alternating 1 s rounds)",
                        "  => shim / nginx",
                        shim_out.rps() / nginx_out.rps()
                    );
                    drop(nginx);
                }
            }
        }

        let _ = stop_tx.send(());
        let _ = server.await;
    });
}
