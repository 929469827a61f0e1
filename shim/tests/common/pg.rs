//! A throwaway PostgreSQL server for the tests, started once per test binary, and a fresh
//! database per test.
//!
//! The server: `MIGRATE_TEST_PG_URL` if set (a URL whose user may create databases), else a
//! cluster made with the local PostgreSQL binaries (`pg_config --bindir`,
//! `/usr/lib/postgresql/*/bin` or `PATH`) in a temporary folder, listening only on a Unix
//! socket there, with `fsync` on; as root it runs as the `postgres` user (`initdb` refuses
//! root). A detached watchdog stops it (`pg_ctl stop -m immediate`) and removes the folder once
//! the test process has exited. Without binaries the PostgreSQL tests fail, saying what to
//! install, unless `MIGRATE_SKIP_PG=1`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// Where tests find the server.
pub(crate) struct Server {
    /// A connection string to the server without a database name (`dbname=` is appended).
    base: String,
    /// True for a server given by `MIGRATE_TEST_PG_URL` (a URL, not a key-value string).
    external: bool,
    /// A local cluster's binaries, data folder, server options and log (to restart it).
    local: Option<Local>,
}

struct Local {
    bin: PathBuf,
    data: PathBuf,
    opts: String,
    log: PathBuf,
}

/// Are the PostgreSQL tests to be skipped (`MIGRATE_SKIP_PG=1`)?
pub(crate) fn skip() -> bool {
    let s = std::env::var("MIGRATE_SKIP_PG").is_ok_and(|v| v == "1");
    if s {
        eprintln!("MIGRATE_SKIP_PG=1: skipping a PostgreSQL test");
    }
    s
}

/// Can [`server`] give a server: `MIGRATE_TEST_PG_URL` is set or the PostgreSQL binaries
/// (`initdb`, `pg_ctl`) are found (benchmarks skip PostgreSQL otherwise).
pub(crate) fn available() -> bool {
    std::env::var("MIGRATE_TEST_PG_URL").is_ok_and(|u| !u.is_empty()) || bindir().is_some()
}

fn bindir() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("pg_ctl").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has(&d) {
            return Some(d);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let d = e.path().join("bin");
            has(&d).then_some((v, d))
        })
        .collect();
    versions.sort();
    if let Some((_, d)) = versions.pop() {
        return Some(d);
    }
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).find(|d| has(d)))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Run `bin` with `args`, as the `postgres` user when we are root.
fn run_pg(bin: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()))
}

fn start_local() -> Server {
    let Some(bin) = bindir() else {
        panic!(
            "the PostgreSQL store tests need the PostgreSQL server binaries (initdb, pg_ctl): \
             install the Debian package `postgresql` (apt-get install postgresql), or set \
             MIGRATE_TEST_PG_URL to a server's URL, or MIGRATE_SKIP_PG=1 to skip these tests"
        );
    };
    let dir = tempfile::Builder::new()
        .prefix("shim-pg-")
        .tempdir()
        .expect("tempdir")
        .keep();
    if is_root() {
        let name = std::ffi::CString::new("postgres").unwrap();
        // SAFETY: getpwnam with a valid C string; the result is read at once.
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        assert!(
            !pw.is_null(),
            "running as root: the PostgreSQL tests need the user `postgres` (the Debian \
             package `postgresql` creates it)"
        );
        // SAFETY: pw is not null.
        let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).expect("chown the cluster folder");
    }
    let data = dir.join("data");
    let (d, s) = (data.to_str().unwrap(), dir.to_str().unwrap());
    let out = run_pg(
        &bin.join("initdb"),
        &[
            "-D",
            d,
            "--no-locale",
            "-E",
            "UTF8",
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-instructions",
        ],
    );
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = dir.join("server.log");
    let opts = format!(
        "-c listen_addresses='' -k {s} -c max_connections=400 -c fsync=on \
         -c shared_buffers=64MB"
    );
    let out = run_pg(
        &bin.join("pg_ctl"),
        &[
            "-D",
            d,
            "-l",
            log.to_str().unwrap(),
            "-w",
            "-o",
            &opts,
            "start",
        ],
    );
    assert!(
        out.status.success(),
        "pg_ctl start failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    // The watchdog: once this process is gone, stop the server and remove its folder.
    let stop = if is_root() {
        format!(
            "runuser -u postgres -- {} -D {d} stop -m immediate",
            bin.join("pg_ctl").display()
        )
    } else {
        format!("{} -D {d} stop -m immediate", bin.join("pg_ctl").display())
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {s}",
        pid = std::process::id()
    );
    use std::os::unix::process::CommandExt;
    // Detached on purpose (its own process group, outliving this process): never waited for.
    #[allow(clippy::zombie_processes)]
    let _watchdog = Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn the PostgreSQL watchdog");
    Server {
        base: format!("host={s} user=postgres"),
        external: false,
        local: Some(Local {
            bin,
            data,
            opts,
            log,
        }),
    }
}

/// The URL of a fresh database on the server, from async code; `None` when the PostgreSQL
/// tests are skipped ([`skip`]).
pub(crate) async fn fresh_url() -> Option<String> {
    if skip() {
        return None;
    }
    Some(
        tokio::task::spawn_blocking(|| server().url(&fresh_db()))
            .await
            .unwrap(),
    )
}

/// The server, started on first use.
pub(crate) fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var("MIGRATE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Server {
            base: url,
            external: true,
            local: None,
        },
        _ => start_local(),
    })
}

impl Server {
    /// Crash the local server (`pg_ctl stop -m immediate`: every process quits at once, no
    /// checkpoint, so the next start runs crash recovery from the WAL) and start it again.
    /// `false` for a server of `MIGRATE_TEST_PG_URL`, which the tests may not stop.
    pub(crate) fn crash_and_restart(&self) -> bool {
        let Some(l) = &self.local else {
            return false;
        };
        let d = l.data.to_str().unwrap();
        let out = run_pg(
            &l.bin.join("pg_ctl"),
            &["-D", d, "-w", "-m", "immediate", "stop"],
        );
        assert!(
            out.status.success(),
            "pg_ctl stop -m immediate failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = run_pg(
            &l.bin.join("pg_ctl"),
            &[
                "-D",
                d,
                "-l",
                l.log.to_str().unwrap(),
                "-w",
                "-o",
                &l.opts,
                "start",
            ],
        );
        assert!(
            out.status.success(),
            "pg_ctl start after the crash failed: {}{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&l.log).unwrap_or_default()
        );
        true
    }

    /// The connection string of database `db`.
    pub(crate) fn url(&self, db: &str) -> String {
        if self.external {
            // Replace the path of the URL (the database) with `db`.
            let (head, query) = match self.base.split_once('?') {
                Some((h, q)) => (h, Some(q)),
                None => (self.base.as_str(), None),
            };
            let scheme_end = head.find("://").map_or(0, |i| i + 3);
            let host_end = head[scheme_end..]
                .find('/')
                .map_or(head.len(), |i| scheme_end + i);
            let mut u = format!("{}/{db}", &head[..host_end]);
            if let Some(q) = query {
                u.push('?');
                u.push_str(q);
            }
            u
        } else {
            format!("{} dbname={db}", self.base)
        }
    }

    /// A connection to the maintenance database.
    pub(crate) fn admin(&self) -> postgres::Client {
        let url = if self.external {
            self.base.clone()
        } else {
            self.url("postgres")
        };
        postgres::Client::connect(&url, postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL server: {e}"))
    }

    /// A connection to database `db` (for checks beside a store).
    pub(crate) fn client(&self, db: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(db), postgres::NoTls)
            .unwrap_or_else(|e| panic!("cannot connect to test database {db}: {e}"))
    }
}

/// A new, empty database: its name.
pub(crate) fn fresh_db() -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "t_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    server()
        .admin()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
    name
}

/// The database standing for folder `dir` (created the first time it is asked for): a test
/// that opens a store on one folder twice gets the same database, on two folders two.
pub(crate) fn db_for(dir: &Path) -> String {
    static DBS: OnceLock<Mutex<HashMap<PathBuf, String>>> = OnceLock::new();
    let mut m = DBS.get_or_init(Default::default).lock().unwrap();
    m.entry(dir.to_path_buf()).or_insert_with(fresh_db).clone()
}

/// A PostgreSQL store on the database standing for `dir`.
pub(crate) fn store_for(dir: &Path) -> shim::store::PostgresStore {
    let url = server().url(&db_for(dir));
    shim::store::PostgresStore::connect(&url).unwrap_or_else(|e| panic!("{}", e.detail()))
}
