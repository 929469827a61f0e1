//! [`ShimConfig`]: what the shim needs to know about the project it serves, read from the project
//! directory with defaults that a command line can override.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default env id when none is given.
pub const DEFAULT_ENV: &str = "local-dev";
/// Default openid for callers of `/client` that send none.
pub const DEFAULT_OPENID: &str = "o-local-dev-openid";
/// Default upload limit (bytes).
pub const DEFAULT_MAX_UPLOAD: u64 = 50 << 20;
/// Default limit of an `/admin` or `/client` request body (bytes).
pub const DEFAULT_MAX_BODY: usize = 8 << 20;

/// Default lifetime of a session token issued at sign-in.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(24 * 3600);

/// Sign-in mode (`--appid/--secret`): mini-program users sign in with `wx.login`, whose code
/// the shim exchanges at the code-to-session endpoint; `/client` then acts for the openid of
/// the caller's session token only, and `/admin` checks the server SDKs' signatures.
#[derive(Clone)]
pub struct SignIn {
    /// The app secret, sent only to the code-to-session endpoint.
    pub secret: String,
    /// The code-to-session endpoint ([`crate::auth::DEFAULT_CODE2SESSION_URL`], WeChat's).
    pub code2session_url: String,
    /// How long a session token lives.
    pub session_ttl: Duration,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("code2session_url", &self.code2session_url)
            .field("session_ttl", &self.session_ttl)
            .finish_non_exhaustive()
    }
}

/// How the HTTP server treats connections: how many it holds open, how long a client may take
/// to send a request, and how long shutdown waits for requests in flight.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Connections served at once; more wait in the listen backlog. Lowered at start to fit
    /// the process's open-files limit.
    pub max_connections: usize,
    /// Time a client has to send a request head, counted from the connection opening or the
    /// previous response (so it is also the keep-alive idle timeout).
    pub header_timeout: Duration,
    /// Longest pause between two chunks of a request body.
    pub body_timeout: Duration,
    /// How long a shutdown waits for requests in flight before closing their connections.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 1024,
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Configuration of one shim instance.
#[derive(Debug, Clone)]
pub struct ShimConfig {
    /// The (rewritten) mini-program project.
    pub project_dir: PathBuf,
    /// The CloudBase env id the shim pretends to be (used in fileIDs, handed to functions).
    pub env_id: String,
    /// The mini-program appid (`project.config.json` `appid`), the default for client callers.
    pub appid: String,
    /// Where the shim keeps its state (database file, storage objects, signing secret).
    pub data_dir: PathBuf,
    /// The cloud functions directory (`project.config.json` `cloudfunctionRoot`), if any.
    pub functions_root: Option<PathBuf>,
    /// Seed data: `cloud/database/*.json`.
    pub seed_database_dir: PathBuf,
    /// Initial storage content: `cloud/storage/`.
    pub seed_storage_dir: PathBuf,
    /// Where storage objects are kept, as a storage URL: `s3://bucket[/prefix]` for a bucket of
    /// an S3-compatible service (endpoint, region and credentials from the `AWS_*` environment
    /// variables, see [`crate::storage::Storage::open_s3`]) or the path of a local directory.
    /// `None`: [`ShimConfig::storage_root`] in the data dir.
    pub storage_url: Option<String>,
    /// Largest upload, in bytes.
    pub max_upload: u64,
    /// Largest `/admin` or `/client` body, in bytes.
    pub max_body: usize,
    /// Openid of `/client` callers that send no `x-wx-openid`.
    pub default_openid: String,
    /// Base URL for the URLs the shim hands out when a request carries no `Host` header
    /// (e.g. `http://127.0.0.1:8721`); set by [`crate::run`] from the bound address.
    pub public_url: Option<String>,
    /// When set, `/admin` callers must send it as the SDK's secret id (`--admin-token`).
    pub admin_token: Option<String>,
    /// The secret key that goes with [`Self::admin_token`] (`--admin-key`): when set, the TC3
    /// signature of every `/admin` request is checked with it (or a `Bearer` access key must
    /// be it), and the project's functions get it as their SDK's secret key.
    pub admin_key: Option<String>,
    /// Sign-in mode (`None`: development mode, where `/client` trusts the openid sent).
    pub sign_in: Option<SignIn>,
    /// Host names besides IP literals and `localhost` that `/admin` answers to (`--allow-host`).
    pub allowed_hosts: Vec<String>,
    /// Connection limits and timeouts of the HTTP server.
    pub connections: ConnectionLimits,
    /// Memory of one cloud function worker, in MB (its V8 heap limit and the context's
    /// `memory_limit_in_mb`; CloudBase's default is 256).
    pub function_memory_mb: u64,
    /// Group commit on the SQLite store (many concurrent writes per fsync, each acknowledged
    /// once durable); off, each write commits alone. On by default.
    pub group_commit: bool,
    /// The database: `None` for the SQLite file in the data dir ([`Self::database_file`]),
    /// or a PostgreSQL URL (`postgres://user:password@host:port/db`) shared by every instance.
    pub database_url: Option<String>,
    /// Start one warm worker per cloud function as the server starts serving
    /// ([`crate::functions::FunctionRunner::prewarm_all`]), so first calls do not wait for
    /// Node and `wx-server-sdk` to load (`migrate serve --prewarm`; `migrate verify` does it
    /// for both apps).
    pub prewarm_functions: bool,
    /// Load every seed file at start, also the ones the database has loaded already (which
    /// puts their records back as the files say). Off: only new or changed files load.
    pub reseed: bool,
}

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The project directory does not exist.
    #[error("project directory {0} does not exist or is not a directory")]
    NoProject(PathBuf),
    /// `project.config.json` exists but is not valid JSON.
    #[error("{path} is not valid JSON: {message}")]
    BadProjectConfig { path: PathBuf, message: String },
}

impl ShimConfig {
    /// Configuration for the project in `dir`: `project.config.json` gives `appid` and
    /// `cloudfunctionRoot`; state goes to `<dir>/.migrate/`.
    pub fn from_project(dir: &Path) -> Result<Self, ConfigError> {
        if !dir.is_dir() {
            return Err(ConfigError::NoProject(dir.to_path_buf()));
        }
        let pc_path = dir.join("project.config.json");
        let pc: serde_json::Value = match std::fs::read(&pc_path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| ConfigError::BadProjectConfig {
                    path: pc_path.clone(),
                    message: e.to_string(),
                })?
            }
            Err(_) => serde_json::Value::Null,
        };
        let appid = pc
            .get("appid")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .unwrap_or("wx-local-dev")
            .to_string();
        let functions_root = pc
            .get("cloudfunctionRoot")
            .and_then(|v| v.as_str())
            .map(|r| dir.join(r))
            .or_else(|| {
                let d = dir.join("cloudfunctions");
                d.is_dir().then_some(d)
            });
        Ok(ShimConfig {
            project_dir: dir.to_path_buf(),
            env_id: DEFAULT_ENV.to_string(),
            appid,
            data_dir: dir.join(".migrate"),
            functions_root,
            seed_database_dir: dir.join("cloud").join("database"),
            seed_storage_dir: dir.join("cloud").join("storage"),
            storage_url: None,
            max_upload: DEFAULT_MAX_UPLOAD,
            max_body: DEFAULT_MAX_BODY,
            default_openid: DEFAULT_OPENID.to_string(),
            public_url: None,
            admin_token: None,
            admin_key: None,
            sign_in: None,
            allowed_hosts: Vec::new(),
            function_memory_mb: 256,
            group_commit: true,
            database_url: None,
            reseed: false,
            prewarm_functions: false,
            connections: ConnectionLimits::default(),
        })
    }

    /// Where the data is, for messages: the PostgreSQL URL without its password, or the
    /// SQLite file.
    pub fn database_shown(&self) -> String {
        match &self.database_url {
            Some(url) => crate::store::postgres::redact(url),
            None => self.database_file().display().to_string(),
        }
    }

    /// The SQLite database file (unused with a [`Self::database_url`]).
    pub fn database_file(&self) -> PathBuf {
        self.data_dir.join("db.sqlite")
    }

    /// The root of the storage objects.
    pub fn storage_root(&self) -> PathBuf {
        self.data_dir.join("storage")
    }

    /// The storage URL signing secret.
    pub fn secret_file(&self) -> PathBuf {
        self.data_dir.join("storage.secret")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_project_config() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(
            d.path().join("project.config.json"),
            r#"{"appid":"wx123","cloudfunctionRoot":"fns/"}"#,
        )
        .unwrap();
        let c = ShimConfig::from_project(d.path()).unwrap();
        assert_eq!(c.appid, "wx123");
        assert_eq!(c.functions_root.unwrap(), d.path().join("fns/"));
        assert_eq!(c.data_dir, d.path().join(".migrate"));
        assert_eq!(c.env_id, DEFAULT_ENV);
    }

    #[test]
    fn bad_config_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("project.config.json"), "{nope").unwrap();
        assert!(matches!(
            ShimConfig::from_project(d.path()),
            Err(ConfigError::BadProjectConfig { .. })
        ));
        assert!(ShimConfig::from_project(&d.path().join("missing")).is_err());
    }
}
