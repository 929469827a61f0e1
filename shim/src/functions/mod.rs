//! Cloud-function runner: runs the project's unmodified Node.js cloud functions
//! (`<cloudfunctionRoot>/<name>/index.js` exporting `main(event, context)`) in warm Node worker
//! processes, with the environment `wx-server-sdk` reads so that its database, storage and
//! function calls come back to this shim (`TCB_CONTEXT_CNFG`, sdk-wire-protocol.md §1.2).
//!
//! Layout: `error.rs` (what a call can fail with, and its CloudBase code), `log.rs` (the console
//! lines functions print, tagged with their call), `worker.rs` (one Node process, its framed
//! stdin/fd-3 protocol, console forwarding), this file (the public [`FunctionRunner`],
//! per-function pools, per-call environment). The Node side of the protocol is
//! `shim/js/runner/worker.js`.
//!
//! Each call gets a process to itself: `wx-server-sdk` reads the caller's identity from
//! `process.env` (`getWXContext`), so a worker serves one call at a time and is reused warm
//! afterwards. Each function has a small pool that grows on demand up to
//! [`FunctionsConfig::max_workers_per_function`]; further calls wait for a free worker.
//! Editing a function's files (outside `node_modules`) retires its warm workers: the next
//! call cold-starts the new code.

mod error;
mod log;
mod worker;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{Semaphore, broadcast};

pub use error::FunctionError;
pub use log::{LogLine, LogStream};
use worker::{SpawnSpec, Worker};

/// How the runner finds and runs functions.
#[derive(Debug, Clone)]
pub struct FunctionsConfig {
    /// The project's `cloudfunctionRoot`: one folder per function.
    pub root: PathBuf,
    /// Base URL of the running shim, e.g. `http://127.0.0.1:8788`; functions' SDK calls go to
    /// `<shim_url>/admin`.
    pub shim_url: String,
    /// The environment id (`TCB_ENV`, `SCF_NAMESPACE`, `getWXContext().ENV`).
    pub env_id: String,
    /// Per-call time limit; a call running longer is killed with its worker.
    pub timeout: Duration,
    /// The Node.js executable.
    pub node: PathBuf,
    /// Upper bound on concurrent calls (and warm processes) per function.
    pub max_workers_per_function: usize,
    /// Memory size of a function, in MB: the V8 heap limit of each worker and the context's
    /// `memory_limit_in_mb` (CloudBase's default is 256).
    pub memory_mb: u64,
    /// `TENCENTCLOUD_SECRETID` handed to functions (the shim's `--admin-token` when set).
    pub secret_id: String,
    /// `TENCENTCLOUD_SECRETKEY` handed to functions (the shim's `--admin-key` when set).
    pub secret_key: String,
}

impl FunctionsConfig {
    /// Defaults: 20 s timeout, 256 MB, `node` from `PATH`, up to 4 workers per function.
    pub fn new(
        root: impl Into<PathBuf>,
        shim_url: impl Into<String>,
        env_id: impl Into<String>,
    ) -> Self {
        FunctionsConfig {
            root: root.into(),
            shim_url: shim_url.into(),
            env_id: env_id.into(),
            timeout: Duration::from_secs(20),
            node: PathBuf::from("node"),
            max_workers_per_function: 4,
            memory_mb: 256,
            secret_id: "AKIDmigrateShimLocal".to_string(),
            secret_key: "migrateShimLocalSecretKey".to_string(),
        }
    }
}

/// Who is calling, as the platform would tell the function.
#[derive(Debug, Clone, Default)]
pub struct InvokeContext {
    pub openid: Option<String>,
    pub appid: Option<String>,
    pub unionid: Option<String>,
    pub client_ip: Option<String>,
    /// `TCB_SOURCE` / `getWXContext().SOURCE`: `wx_client`, `wx_devtools`, `wx_http`, `scf`…
    /// Empty means `wx_client`.
    pub source: String,
    /// The call's request id (`context.request_id`, `TCB_SEQID`, log tag); empty → generated.
    pub request_id: String,
}

/// Runs cloud functions in warm, reused Node worker processes.
pub struct FunctionRunner {
    config: FunctionsConfig,
    /// Environment every worker process starts with.
    base_env: Vec<(String, String)>,
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    logs: broadcast::Sender<LogLine>,
    seq: AtomicU64,
    /// Calls in progress by request id, so SDK requests a function makes can be traced back
    /// to the caller it serves (see [`FunctionRunner::caller_for_seq_id`]).
    active: Mutex<HashMap<String, InvokeContext>>,
    closed: AtomicBool,
}

struct Pool {
    dir: PathBuf,
    idle: Mutex<Vec<Worker>>,
    permits: Arc<Semaphore>,
    /// Code generation: bumped when the function's files change; workers of an older
    /// generation are retired instead of reused, so edits take effect on the next call.
    code: Mutex<CodeStamp>,
    /// Held while a [`FunctionRunner::prewarm`] starts a worker: a call that finds no idle
    /// worker waits for it rather than starting a second one.
    warming: tokio::sync::Mutex<()>,
}

struct CodeStamp {
    generation: u64,
    fingerprint: Option<(SystemTime, usize)>,
    checked: Option<Instant>,
}

/// How often a pool looks for edited function files.
const CODE_CHECK_INTERVAL: Duration = Duration::from_millis(500);

impl Pool {
    /// The current code generation, rechecking the files at most every
    /// [`CODE_CHECK_INTERVAL`].
    fn generation(&self) -> u64 {
        let Ok(mut code) = self.code.lock() else {
            return 0;
        };
        let due = code
            .checked
            .is_none_or(|t| t.elapsed() >= CODE_CHECK_INTERVAL);
        if due {
            let now = fingerprint(&self.dir);
            if code.checked.is_some() && now != code.fingerprint {
                code.generation += 1;
                if let Ok(mut idle) = self.idle.lock() {
                    idle.clear(); // dropping a worker kills it
                }
            }
            code.fingerprint = now;
            code.checked = Some(Instant::now());
        }
        code.generation
    }
}

/// Newest modification time and file count under a function folder (without
/// `node_modules` and dot-folders), bounded so a huge folder cannot stall a call.
fn fingerprint(dir: &Path) -> Option<(SystemTime, usize)> {
    let mut newest = UNIX_EPOCH;
    let mut count = 0usize;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).ok()?.flatten() {
            count += 1;
            if count > 5000 {
                return Some((newest, count));
            }
            let name = entry.file_name();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if name != "node_modules" && !name.to_string_lossy().starts_with('.') {
                    stack.push(entry.path());
                }
            } else if let Ok(m) = meta.modified() {
                newest = newest.max(m);
            }
        }
    }
    Some((newest, count))
}

impl FunctionRunner {
    pub fn new(config: FunctionsConfig) -> Self {
        let shim_url = config.shim_url.trim_end_matches('/');
        let cnfg = serde_json::json!({ "URL": format!("{shim_url}/admin") }).to_string();
        let base_env = [
            // SCF mode: the SDK skips its metadata-host probe (sdk-wire-protocol.md §1.1).
            ("TENCENTCLOUD_RUNENV", "SCF"),
            ("TENCENTCLOUD_REGION", "ap-shanghai"),
            ("TENCENTCLOUD_SECRETID", config.secret_id.as_str()),
            ("TENCENTCLOUD_SECRETKEY", config.secret_key.as_str()),
            ("TENCENTCLOUD_SESSIONTOKEN", "migrateShimLocalSessionToken"),
            ("TCB_CONTEXT_CNFG", cnfg.as_str()),
            ("SCF_NAMESPACE", config.env_id.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (logs, _) = broadcast::channel(1024);
        FunctionRunner {
            config,
            base_env,
            pools: Mutex::new(HashMap::new()),
            logs,
            seq: AtomicU64::new(0),
            active: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
        }
    }

    pub fn config(&self) -> &FunctionsConfig {
        &self.config
    }

    /// Console output of every function, as it is printed (also sent to `tracing`).
    pub fn subscribe_logs(&self) -> broadcast::Receiver<LogLine> {
        self.logs.subscribe()
    }

    /// Names of the functions under the root (folders holding an `index.js`), sorted.
    pub fn function_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.config.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("index.js").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    /// Invoke function `name` with `event_json` (the caller's `data`, JSON text) and return
    /// the JSON text of its return value (`null` for `undefined`).
    pub async fn invoke(
        &self,
        name: &str,
        event_json: &str,
        ctx: InvokeContext,
    ) -> Result<String, FunctionError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(shutting_down());
        }
        let pool = self.pool(name)?;
        let request_id = if ctx.request_id.is_empty() {
            self.new_request_id()
        } else {
            ctx.request_id.clone()
        };
        let request = self.request_json(name, event_json, &ctx, &request_id);
        let frame = worker::frame(request.as_bytes());
        let _active = ActiveCall::register(&self.active, &request_id, &ctx);

        let _permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(|_| shutting_down())?;
        let generation = pool.generation();
        let no_idle = pool.idle.lock().map(|i| i.is_empty()).unwrap_or(true);
        if no_idle && pool.warming.try_lock().is_err() {
            // A warm-up is starting this function's worker: it is further along than a
            // worker started now would be.
            drop(pool.warming.lock().await);
        }
        let mut worker = loop {
            let candidate = pool.idle.lock().ok().and_then(|mut idle| idle.pop());
            match candidate {
                Some(mut w) => {
                    if w.is_usable() {
                        break w;
                    }
                }
                None => break self.spawn_worker(&pool, name, generation)?,
            }
        };
        let result = worker.call(&frame, &request_id, self.config.timeout).await;
        if worker.is_usable()
            && worker.generation() == pool.generation()
            && let Ok(mut idle) = pool.idle.lock()
        {
            idle.push(worker);
        }
        result
    }

    /// Start a warm worker for function `name` with its module loaded (and so `wx-server-sdk`
    /// and whatever else it requires at the top), without calling it, and keep it idle for the
    /// first call: CloudBase's provisioned concurrency, one instance. Does nothing when the
    /// function has an idle worker already. A module that fails to load is reported here and
    /// again by each call.
    pub async fn prewarm(&self, name: &str) -> Result<(), FunctionError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(shutting_down());
        }
        let pool = self.pool(name)?;
        let _permit = Arc::clone(&pool.permits)
            .acquire_owned()
            .await
            .map_err(|_| shutting_down())?;
        let _warming = pool.warming.lock().await;
        if pool.idle.lock().map(|i| !i.is_empty()).unwrap_or(true) {
            return Ok(());
        }
        let mut worker = self.spawn_worker(&pool, name, pool.generation())?;
        let id = self.new_request_id();
        let frame = worker::frame(
            serde_json::json!({ "type": "load", "id": id })
                .to_string()
                .as_bytes(),
        );
        worker.call(&frame, &id, self.config.timeout).await?;
        if worker.is_usable()
            && worker.generation() == pool.generation()
            && let Ok(mut idle) = pool.idle.lock()
        {
            idle.push(worker);
        }
        Ok(())
    }

    /// A new worker process for function `name` of `pool`, of code generation `generation`.
    fn spawn_worker(
        &self,
        pool: &Pool,
        name: &str,
        generation: u64,
    ) -> Result<Worker, FunctionError> {
        Worker::spawn(&SpawnSpec {
            node: &self.config.node,
            dir: &pool.dir,
            name,
            env: &self.base_env,
            memory_mb: self.config.memory_mb,
            logs: &self.logs,
            generation,
        })
    }

    /// [`Self::prewarm`] every function, `at_once` at a time; a function that fails to load
    /// is logged and left for its calls to report.
    pub async fn prewarm_all(&self, at_once: usize) {
        use futures_util::StreamExt;
        let names = self.function_names();
        futures_util::stream::iter(names)
            .for_each_concurrent(at_once.max(1), |name| async move {
                if let Err(e) = self.prewarm(&name).await {
                    tracing::warn!(function = %name, "prewarm: {e}");
                }
            })
            .await;
    }

    /// The caller a function's own SDK request acts for, from the `seqId` query parameter
    /// of that request: `wx-server-sdk` prefixes it with `TCB_SEQID`, which the runner sets
    /// to the call's request id (`<request id>-<hex ms>_<hex counter>`). `None` when the
    /// request does not come from a call in progress.
    pub fn caller_for_seq_id(&self, seq_id: &str) -> Option<InvokeContext> {
        let (request_id, _) = seq_id.rsplit_once('-')?;
        let active = self.active.lock().ok()?;
        let mut ctx = active.get(request_id)?.clone();
        ctx.request_id = request_id.to_string();
        Some(ctx)
    }

    /// Kill every idle worker and refuse further calls (they fail with `SYS_ERR`). Calls in
    /// progress finish (or time out) and their workers are then dropped, which kills them.
    pub async fn shutdown(&self) {
        self.closed.store(true, Ordering::Release);
        let pools: Vec<Arc<Pool>> = match self.pools.lock() {
            Ok(mut p) => p.drain().map(|(_, v)| v).collect(),
            Err(_) => Vec::new(),
        };
        for pool in pools {
            pool.permits.close();
            let workers: Vec<Worker> = pool
                .idle
                .lock()
                .map(|mut idle| idle.drain(..).collect())
                .unwrap_or_default();
            for mut w in workers {
                w.kill().await;
            }
        }
    }

    /// Number of warm (idle) workers for `name`; for tests and diagnostics.
    pub fn idle_workers(&self, name: &str) -> usize {
        self.pools
            .lock()
            .ok()
            .and_then(|p| p.get(name).cloned())
            .and_then(|pool| pool.idle.lock().ok().map(|i| i.len()))
            .unwrap_or(0)
    }

    fn pool(&self, name: &str) -> Result<Arc<Pool>, FunctionError> {
        let dir = self.function_dir(name)?;
        let mut pools = self.pools.lock().map_err(|_| FunctionError::Internal {
            message: "function pool lock poisoned".into(),
        })?;
        let pool = pools.entry(name.to_string()).or_insert_with(|| {
            Arc::new(Pool {
                dir,
                idle: Mutex::new(Vec::new()),
                warming: tokio::sync::Mutex::new(()),
                permits: Arc::new(Semaphore::new(self.config.max_workers_per_function.max(1))),
                code: Mutex::new(CodeStamp {
                    generation: 0,
                    fingerprint: None,
                    checked: None,
                }),
            })
        });
        Ok(Arc::clone(pool))
    }

    fn function_dir(&self, name: &str) -> Result<PathBuf, FunctionError> {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains(['/', '\\', '\0'])
            && Path::new(name).components().count() == 1;
        if !plain {
            return Err(FunctionError::NotFound {
                name: name.to_string(),
                detail: "not a valid function name".into(),
            });
        }
        let dir = self.config.root.join(name);
        let entry = dir.join("index.js");
        if !entry.is_file() {
            // The caller sees this: the layout relative to the project, never a host path.
            let root = self
                .config
                .root
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("cloudfunctions");
            return Err(FunctionError::NotFound {
                name: name.to_string(),
                detail: format!("no {root}/{name}/index.js"),
            });
        }
        // Absolute, so the worker's module resolution does not depend on our cwd.
        Ok(std::fs::canonicalize(&dir).unwrap_or(dir))
    }

    fn new_request_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        format!("{ms:x}-{}-{n:x}", std::process::id())
    }

    /// The `invoke` request for the worker: event, per-call environment, context, userInfo.
    fn request_json(
        &self,
        name: &str,
        event_json: &str,
        ctx: &InvokeContext,
        request_id: &str,
    ) -> String {
        let source = if ctx.source.is_empty() {
            "wx_client"
        } else {
            ctx.source.as_str()
        };
        let env_id = self.config.env_id.as_str();
        let opt = |v: &Option<String>| match v {
            Some(s) if !s.is_empty() => serde_json::Value::String(s.clone()),
            _ => serde_json::Value::Null,
        };
        let env = serde_json::json!({
            "WX_CONTEXT_KEYS": "WX_OPENID,WX_APPID,WX_UNIONID,WX_CLIENTIP",
            "WX_OPENID": opt(&ctx.openid),
            "WX_APPID": opt(&ctx.appid),
            "WX_UNIONID": opt(&ctx.unionid),
            "WX_CLIENTIP": opt(&ctx.client_ip),
            "TCB_CONTEXT_KEYS": "TCB_ENV,TCB_SEQID,TCB_SOURCE",
            "TCB_ENV": env_id,
            "TCB_SEQID": request_id,
            "TCB_SOURCE": source,
            "SCF_NAMESPACE": env_id,
        });
        // SCF hands the same variables in `context.environment` (JSON text); node-sdk's
        // parseContext reads it.
        let environment: serde_json::Map<String, serde_json::Value> = env
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let environment = serde_json::Value::Object(environment).to_string();
        let mut user_info = serde_json::Map::new();
        if let Some(a) = ctx.appid.as_ref().filter(|s| !s.is_empty()) {
            user_info.insert("appId".into(), a.clone().into());
        }
        if let Some(o) = ctx.openid.as_ref().filter(|s| !s.is_empty()) {
            user_info.insert("openId".into(), o.clone().into());
        }
        let user_info = if user_info.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::Value::Object(user_info)
        };
        serde_json::json!({
            "type": "invoke",
            "id": request_id,
            "event": event_json,
            "env": env,
            "userInfo": user_info,
            "context": {
                "callbackWaitsForEmptyEventLoop": false,
                "memory_limit_in_mb": self.config.memory_mb,
                "time_limit_in_ms": self.config.timeout.as_millis() as u64,
                "request_id": request_id,
                "function_name": name,
                "function_version": "$LATEST",
                "namespace": env_id,
                "tencentcloud_region": "ap-shanghai",
                "environment": environment,
            },
        })
        .to_string()
    }
}

fn shutting_down() -> FunctionError {
    FunctionError::Internal {
        message: "the function runner is shutting down".into(),
    }
}

/// Registration of a call in [`FunctionRunner::active`] for as long as it runs.
struct ActiveCall<'a> {
    map: &'a Mutex<HashMap<String, InvokeContext>>,
    id: String,
}

impl<'a> ActiveCall<'a> {
    fn register(
        map: &'a Mutex<HashMap<String, InvokeContext>>,
        id: &str,
        ctx: &InvokeContext,
    ) -> Self {
        if let Ok(mut m) = map.lock() {
            m.insert(id.to_string(), ctx.clone());
        }
        ActiveCall {
            map,
            id: id.to_string(),
        }
    }
}

impl Drop for ActiveCall<'_> {
    fn drop(&mut self) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(&self.id);
        }
    }
}

impl Drop for FunctionRunner {
    fn drop(&mut self) {
        // Workers are spawned with kill_on_drop: dropping the pools kills idle processes.
        if let Ok(mut pools) = self.pools.lock() {
            for (_, pool) in pools.drain() {
                pool.permits.close();
            }
        }
    }
}
