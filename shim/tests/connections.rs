//! The shim over a real socket as an outsider would probe it: who may use `/admin` (content
//! type, `Host`, `Origin`, the admin token), and what slow or idle connections get (head and
//! body timeouts, the connection cap, the shutdown deadline).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use shim::config::ConnectionLimits;
use shim::{AppState, ShimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<shim::ShimResult<()>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Trigger shutdown and wait for `serve` to return; how long that took.
    async fn stop(mut self) -> Duration {
        let started = Instant::now();
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(30), &mut self.task)
            .await
            .expect("serve returned")
            .unwrap()
            .unwrap();
        started.elapsed()
    }
}

async fn start(limits: ConnectionLimits, token: Option<&str>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    std::fs::create_dir_all(project.join("cloud/database")).unwrap();
    let docs: String = (0..6)
        .map(|i| format!("{{\"_id\":\"c{i}\",\"name\":\"city {i}\"}}\n"))
        .collect();
    std::fs::write(project.join("cloud/database/cities.json"), docs).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut config = ShimConfig::from_project(project).unwrap();
    config.public_url = Some(format!("http://{addr}"));
    config.connections = limits;
    config.admin_token = token.map(str::to_string);
    let state = AppState::open(config).await.unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(shim::serve(
        listener,
        async move {
            let _ = rx.await;
        },
        state,
    ));
    Server {
        addr,
        stop: Some(tx),
        task,
        _dir: dir,
    }
}

fn quick() -> ConnectionLimits {
    ConnectionLimits {
        max_connections: 8,
        header_timeout: Duration::from_millis(800),
        body_timeout: Duration::from_millis(800),
        shutdown_grace: Duration::from_secs(1),
    }
}

/// Send raw bytes and read until the server closes (or 10 s pass): the whole reply.
async fn exchange(addr: SocketAddr, raw: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// A `POST /admin` with `headers` (each `Name: value`), `Connection: close`.
async fn admin(addr: SocketAddr, headers: &[&str], body: &str) -> String {
    let mut raw = format!("POST /admin?env=local-dev HTTP/1.1\r\nHost: {addr}\r\n");
    for h in headers {
        raw.push_str(h);
        raw.push_str("\r\n");
    }
    raw.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    exchange(addr, raw.as_bytes()).await
}

/// Like [`admin`] but with `Host` taken from `headers` (no default one).
async fn admin_with_host(addr: SocketAddr, headers: &[&str], body: &str) -> String {
    let mut raw = "POST /admin?env=local-dev HTTP/1.1\r\n".to_string();
    for h in headers {
        raw.push_str(h);
        raw.push_str("\r\n");
    }
    raw.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    exchange(addr, raw.as_bytes()).await
}

const JSON: &str = "Content-Type: application/json";
const REMOVE_ALL: &str = r#"{"action":"database.deleteDocument","collectionName":"cities","query":"{}","queryType":"WHERE","multi":true}"#;
const COUNT: &str =
    r#"{"action":"database.calculateDocument","collectionName":"cities","queryType":"WHERE"}"#;

async fn count(addr: SocketAddr) -> String {
    admin(addr, &[JSON], COUNT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_refuses_what_a_web_page_can_send() {
    let server = start(ConnectionLimits::default(), None).await;
    let addr = server.addr;
    assert!(count(addr).await.contains(r#""total":6"#));

    // A plain-text POST (what a page sends without a CORS preflight): refused, nothing deleted.
    let reply = admin(
        addr,
        &["Content-Type: text/plain;charset=UTF-8"],
        REMOVE_ALL,
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 415"), "{reply}");
    assert!(reply.contains("application/json"), "{reply}");
    let reply = admin(addr, &[], REMOVE_ALL).await;
    assert!(reply.starts_with("HTTP/1.1 415"), "{reply}");
    let reply = admin(
        addr,
        &["Content-Type: application/x-www-form-urlencoded"],
        REMOVE_ALL,
    )
    .await;
    assert!(reply.starts_with("HTTP/1.1 415"), "{reply}");

    // A foreign Origin, even with a JSON content type.
    let reply = admin(addr, &[JSON, "Origin: https://evil.example"], REMOVE_ALL).await;
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    assert!(reply.contains(r#""code":"PERMISSION_DENIED""#), "{reply}");
    let reply = admin(addr, &[JSON, "Origin: null"], REMOVE_ALL).await;
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");

    // DNS rebinding: the page's own name in Host.
    let reply = admin_with_host(addr, &["Host: evil.example:8721", JSON], REMOVE_ALL).await;
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    assert!(reply.contains("evil.example"), "{reply}");

    assert!(
        count(addr).await.contains(r#""total":6"#),
        "nothing deleted"
    );

    // What the SDKs send still works: JSON, the shim's address, localhost, the proxy host.
    let reply = admin_with_host(addr, &["Host: localhost", JSON], COUNT).await;
    assert!(reply.contains(r#""total":6"#), "{reply}");
    let reply = admin_with_host(addr, &["Host: tcb-admin.tencentyun.com", JSON], COUNT).await;
    assert!(reply.contains(r#""total":6"#), "{reply}");
    let reply = admin(
        addr,
        &["Content-Type: application/json; charset=utf-8"],
        COUNT,
    )
    .await;
    assert!(reply.contains(r#""total":6"#), "{reply}");
    // A same-origin Origin (the shim's own page) is allowed.
    let origin = format!("Origin: http://{addr}");
    let reply = admin(addr, &[JSON, &origin], COUNT).await;
    assert!(reply.contains(r#""total":6"#), "{reply}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_token_is_the_sdk_secret_id() {
    let server = start(ConnectionLimits::default(), Some("s3cret-token")).await;
    let addr = server.addr;
    let reply = admin(addr, &[JSON], REMOVE_ALL).await;
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    assert!(reply.contains("admin token"), "{reply}");
    let wrong = "Authorization: TC3-HMAC-SHA256 Credential=AKIDother/2026-12-03/tcb/tc3_request, SignedHeaders=content-type;host, Signature=00";
    let reply = admin(addr, &[JSON, wrong], REMOVE_ALL).await;
    assert!(reply.starts_with("HTTP/1.1 403"), "{reply}");
    let right = "Authorization: TC3-HMAC-SHA256 Credential=s3cret-token/2026-12-03/tcb/tc3_request, SignedHeaders=content-type;host, Signature=00";
    let reply = admin(addr, &[JSON, right], COUNT).await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply.contains(r#""total":6"#),
        "nothing was deleted: {reply}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed() {
    let server = start(quick(), None).await;
    let addr = server.addr;

    // Connected, nothing sent: closed after the head timeout.
    let started = Instant::now();
    let reply = exchange(addr, b"").await;
    let idle = started.elapsed();
    assert!(reply.is_empty(), "{reply}");
    assert!(idle < Duration::from_secs(5), "idle socket held {idle:?}");

    // Half a request head.
    let started = Instant::now();
    let _ = exchange(addr, b"POST /admin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-").await;
    assert!(started.elapsed() < Duration::from_secs(5));

    // A body that stalls: the request fails and the connection closes.
    let started = Instant::now();
    let raw = format!(
        "POST /admin HTTP/1.1\r\nHost: {addr}\r\n{JSON}\r\nContent-Length: 100\r\n\r\n{{\"action\":"
    );
    let reply = exchange(addr, raw.as_bytes()).await;
    assert!(started.elapsed() < Duration::from_secs(5), "{reply}");
    assert!(!reply.contains(r#""total""#), "{reply}");

    // A keep-alive connection idle after its answer is closed too.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /admin HTTP/1.1\r\nHost: {addr}\r\n{JSON}\r\nContent-Length: {}\r\n\r\n{COUNT}",
        COUNT.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
        .await
        .expect("keep-alive connection closed once idle")
        .unwrap();
    assert!(String::from_utf8_lossy(&out).contains(r#""total":6"#));
    assert!(started.elapsed() >= Duration::from_millis(500));

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_past_the_cap_do_not_lock_out_requests() {
    let server = start(quick(), None).await;
    let addr = server.addr;
    // 3x the connection cap of idle sockets.
    let mut idle = Vec::new();
    for _ in 0..24 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    let started = Instant::now();
    let reply = tokio::time::timeout(Duration::from_secs(10), count(addr))
        .await
        .expect("answered");
    assert!(reply.contains(r#""total":6"#), "{reply}");
    // Waits for the idle ones to time out (0.8 s per wave of 8), not forever.
    assert!(started.elapsed() < Duration::from_secs(8));
    drop(idle);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_does_not_wait_for_a_half_sent_request() {
    let limits = ConnectionLimits {
        header_timeout: Duration::from_secs(60),
        body_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_millis(500),
        ..ConnectionLimits::default()
    };
    let server = start(limits, None).await;
    let addr = server.addr;
    let mut half = TcpStream::connect(addr).await.unwrap();
    let raw = format!(
        "POST /admin HTTP/1.1\r\nHost: {addr}\r\n{JSON}\r\nContent-Length: 100\r\n\r\n{{\"a"
    );
    half.write_all(raw.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = server.stop().await;
    assert!(took < Duration::from_secs(3), "shutdown took {took:?}");
    drop(half);
}

/// This process's thread count.
fn threads() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_queries_do_not_take_a_thread_each() {
    let server = start(ConnectionLimits::default(), None).await;
    let addr = server.addr;
    // A collection whose unindexed query takes a while to scan.
    let docs: Vec<String> = (0..3000)
        .map(|i| {
            format!("{{\\\"n\\\":{{\\\"$numberInt\\\":\\\"{i}\\\"}},\\\"name\\\":\\\"row {i}\\\"}}")
        })
        .map(|d| format!("\"{d}\""))
        .collect();
    let insert = format!(
        r#"{{"action":"database.insertDocument","collectionName":"rows","data":[{}]}}"#,
        docs.join(",")
    );
    let add = r#"{"action":"database.addCollection","collectionName":"rows"}"#;
    assert!(admin(addr, &[JSON], add).await.starts_with("HTTP/1.1 200"));
    let reply = admin(addr, &[JSON], &insert).await;
    assert!(
        reply.contains("insertedIds"),
        "{}",
        &reply[..reply.len().min(400)]
    );

    let before = threads();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(threads(), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let query = r#"{"action":"database.getDocument","collectionName":"rows","query":"{\"name\":{\"$regex\":\"9$\"}}","queryType":"WHERE","limit":1000}"#;
    let clients: Vec<_> = (0..200)
        .map(|_| tokio::spawn(async move { admin(addr, &[JSON], query).await }))
        .collect();
    for c in clients {
        let reply = c.await.unwrap();
        assert!(
            reply.contains(r#""list""#) || reply.contains("row"),
            "{reply}"
        );
    }
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    // The database slots (2 + 4 + 3 + 2) bound the threads held by database work; 200
    // requests at once would otherwise add a thread each.
    assert!(
        peak <= before + 16,
        "threads grew from {before} to {peak} for 200 concurrent queries"
    );
    server.stop().await;
}
