//! A real S3-compatible server for the tests: moto (`pip install 'moto[server]'`, or
//! `scripts/s3-test-server`), started on a free loopback port the first time a test asks for
//! it and shared by the tests of the binary; each test gets a bucket of its own.
//!
//! Where the server is looked for: `$MIGRATE_MOTO_SERVER` (the path of a `moto_server`), the
//! virtualenv `scripts/s3-test-server` makes (`target/s3-test-server/venv/bin/moto_server`,
//! under `$CARGO_TARGET_DIR` when set), then `moto_server` on the `PATH`. None found: the test
//! fails, saying how to install it, unless `MIGRATE_SKIP_S3=1` is set, when [`bucket`]
//! returns `None` and the test passes without running.
//!
//! The settings (endpoint, region, dummy credentials, plain HTTP, path-style addressing) go to
//! the store builder explicitly ([`Bucket::settings`]), never into the process environment,
//! which the tests running in parallel share. The server runs under a small `sh` that watches
//! its standard input, a pipe from the test process: when the process ends, however it ends,
//! the pipe closes and the server is killed; [`S3Server`]'s `Drop` does the same for a server
//! started on its own.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How to get the server, said when it is missing.
pub(crate) const INSTALL_HINT: &str = "the S3 tests need moto's server: run `scripts/s3-test-server` \
     (a virtualenv under target/) or `pip install 'moto[server]'`, or set MIGRATE_MOTO_SERVER \
     to the path of a moto_server; MIGRATE_SKIP_S3=1 skips these tests";

/// How long the server may take to answer after it starts (moto imports a lot; two shared
/// cores under a build make it slow).
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// The watcher: runs the command given after the log file, and kills it when standard input
/// closes (the test process ended) or exits with it.
const WATCHER: &str = r#"
log=$1; shift
exec 3<&0
"$@" >"$log" 2>&1 </dev/null &
pid=$!
( cat <&3 >/dev/null; kill "$pid" 2>/dev/null ) &
watcher=$!
wait "$pid"
status=$?
kill "$watcher" 2>/dev/null
exit "$status"
"#;

/// A running S3-compatible server on loopback.
pub(crate) struct S3Server {
    child: Child,
    stdin: Option<ChildStdin>,
    port: u16,
    _logs: tempfile::TempDir,
}

impl S3Server {
    /// The server shared by this test binary, started on first use. `None` when no server is
    /// installed and `MIGRATE_SKIP_S3=1`; panics (the test fails) when none is installed
    /// otherwise, or when it does not start.
    pub(crate) fn shared() -> Option<&'static S3Server> {
        static SERVER: OnceLock<Result<S3Server, String>> = OnceLock::new();
        let skip = std::env::var("MIGRATE_SKIP_S3").is_ok_and(|v| v == "1");
        if skip && find_server().is_none() {
            eprintln!("MIGRATE_SKIP_S3=1 and no moto server: skipping an S3 test");
            return None;
        }
        match SERVER.get_or_init(S3Server::start) {
            Ok(server) => Some(server),
            Err(e) => panic!("{e}"),
        }
    }

    /// Start a server of its own (killed on drop).
    pub(crate) fn start() -> Result<S3Server, String> {
        let command = find_server().ok_or_else(|| INSTALL_HINT.to_string())?;
        let mut last_error = String::new();
        // A free port can be taken by someone else before the server binds it: try again.
        for _ in 0..3 {
            match S3Server::start_on(&command, free_port()) {
                Ok(server) => return Ok(server),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    fn start_on(command: &[String], port: u16) -> Result<S3Server, String> {
        let logs = tempfile::tempdir().map_err(|e| e.to_string())?;
        let log = logs.path().join("moto.log");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHER)
            .arg("sh")
            .arg(&log)
            .args(command)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh to start {command:?}: {e}"))?;
        let stdin = child.stdin.take();
        let mut server = S3Server {
            child,
            stdin,
            port,
            _logs: logs,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let out = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!(
                    "the S3 test server {command:?} exited ({status}) on port {port}:\n{out}\n{INSTALL_HINT}"
                ));
            }
            if server.request("GET", "/", b"").is_ok() {
                return Ok(server);
            }
            if started.elapsed() > START_TIMEOUT {
                let out = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!(
                    "the S3 test server {command:?} did not answer on port {port} within {}s:\n{out}",
                    START_TIMEOUT.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One HTTP/1.1 request without credentials (moto does not check them): the status and
    /// the body.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, String)> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            self.port,
            body.len()
        )?;
        stream.write_all(body)?;
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply)?;
        let text = String::from_utf8_lossy(&reply).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .or_else(|| text.strip_prefix("HTTP/1.0 "))
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP reply: {text:.200}")))?;
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// A new, empty bucket on this server.
    pub(crate) fn bucket(&'static self, prefix: &str) -> Bucket {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "shim-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let (status, body) = self
            .request("PUT", &format!("/{name}"), b"")
            .unwrap_or_else(|e| panic!("cannot create bucket {name}: {e}"));
        assert_eq!(status, 200, "cannot create bucket {name}: {body}");
        Bucket {
            server: self,
            name,
            prefix: prefix.trim_matches('/').to_string(),
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        // Closing the pipe makes the watcher kill the server and exit.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bucket of the test server, and the prefix the shim's objects go under.
pub(crate) struct Bucket {
    pub(crate) server: &'static S3Server,
    pub(crate) name: String,
    pub(crate) prefix: String,
}

impl Bucket {
    /// The storage URL: `s3://<bucket>/<prefix>`.
    pub(crate) fn url(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.name)
        } else {
            format!("s3://{}/{}", self.name, self.prefix)
        }
    }

    /// The settings a store needs for this server, as `AmazonS3ConfigKey` names.
    pub(crate) fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("aws_endpoint", self.server.endpoint()),
            ("aws_region", "us-east-1".into()),
            ("aws_access_key_id", "testing".into()),
            ("aws_secret_access_key", "testing".into()),
            ("aws_allow_http", "true".into()),
            ("aws_virtual_hosted_style_request", "false".into()),
        ]
    }

    /// The same settings as environment variables (for a child process).
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.server.endpoint()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// The bucket itself, without the prefix, to look at what the shim wrote.
    pub(crate) fn raw_store(&self) -> object_store::aws::AmazonS3 {
        let mut b = object_store::aws::AmazonS3Builder::new().with_bucket_name(&self.name);
        for (k, v) in self.settings() {
            b = b.with_config(k.parse().unwrap(), v);
        }
        b.build().unwrap()
    }
}

/// A bucket with the shim's objects under `prefix`, on the shared server; `None` when S3
/// tests are skipped (see the module documentation).
pub(crate) fn bucket(prefix: &str) -> Option<Bucket> {
    S3Server::shared().map(|s| s.bucket(prefix))
}

/// The command that runs the server, without its host and port arguments.
fn find_server() -> Option<Vec<String>> {
    if let Some(path) = std::env::var_os("MIGRATE_MOTO_SERVER").filter(|p| !p.is_empty()) {
        return Some(vec![path.to_string_lossy().into_owned()]);
    }
    let mut targets = vec![super::repo_root().join("target")];
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        targets.insert(0, PathBuf::from(dir));
    }
    for target in targets {
        let venv = target.join("s3-test-server/venv/bin/moto_server");
        if venv.is_file() {
            return Some(vec![venv.to_string_lossy().into_owned()]);
        }
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.is_file())
        .map(|p| vec![p.to_string_lossy().into_owned()])
}

/// A loopback port nobody listens on (at the time of asking).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
