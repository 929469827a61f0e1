//! `migrate serve <project>`: run the local cloud (database, storage, functions) for a rewritten
//! project, or with `--export DIR` write its database back out as seed files and exit.

use std::path::PathBuf;

use miette::{IntoDiagnostic, WrapErr, miette};
use shim::ShimConfig;

/// Arguments of `migrate serve`.
#[derive(clap::Args, Debug)]
pub(crate) struct ServeArgs {
    /// The (rewritten) mini-program project directory.
    pub project: PathBuf,
    /// Port to listen on; 0 picks a free one (the bound URL is printed).
    #[arg(long, default_value_t = 8721)]
    pub port: u16,
    /// Address to listen on. Anything but loopback needs sign-in mode (`--secret`): without
    /// it the shim trusts the openid a caller sends.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Where the shim keeps its database, files and signing secret [default: <project>/.migrate].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Openid of mini-program callers that send none (the `/client` endpoint).
    #[arg(long)]
    pub openid: Option<String>,
    /// CloudBase env id to answer as (fileIDs, functions' `ENV`).
    #[arg(long, default_value = shim::config::DEFAULT_ENV)]
    pub env: String,
    /// Largest upload, in MiB.
    #[arg(long, default_value_t = 50)]
    pub max_upload_mb: u64,
    /// Require this token on `/admin`: callers pass it as the SDK's secret id
    /// (`TENCENTCLOUD_SECRETID`, `init({ secretId })`); the project's functions get it.
    #[arg(long, value_name = "TOKEN")]
    pub admin_token: Option<String>,
    /// The secret key that goes with `--admin-token` (the SDK's `secretKey`,
    /// `TENCENTCLOUD_SECRETKEY`): every `/admin` request's TC3 signature is checked with it,
    /// and a `Bearer` access key must be it. Required in sign-in mode.
    #[arg(
        long,
        value_name = "KEY",
        env = "MIGRATE_ADMIN_KEY",
        hide_env_values = true
    )]
    pub admin_key: Option<String>,
    /// The mini-program's appid for sign-in [default: `appid` of project.config.json].
    #[arg(long)]
    pub appid: Option<String>,
    /// The mini-program's app secret: turns on sign-in mode, where users sign in with
    /// `wx.login` (the code is exchanged at the code-to-session endpoint), `/client` acts only
    /// for the openid of the caller's session token, and `/admin` needs `--admin-token` and
    /// `--admin-key`.
    #[arg(
        long,
        value_name = "SECRET",
        env = "MIGRATE_APP_SECRET",
        hide_env_values = true
    )]
    pub secret: Option<String>,
    /// The code-to-session endpoint (a stand-in for WeChat's, in tests or behind a gateway).
    #[arg(long, value_name = "URL", default_value = shim::auth::DEFAULT_CODE2SESSION_URL)]
    pub code2session_url: String,
    /// How long a session token lives, in hours.
    #[arg(long, value_name = "HOURS", default_value_t = 24)]
    pub session_hours: u64,
    /// A host name `/admin` answers to besides IP addresses and localhost (repeatable), for a
    /// shim reached by name on a LAN.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    /// Memory of one cloud function worker, in MB: its heap limit, as CloudBase's function
    /// memory setting (a function that needs more fails with a clear error).
    #[arg(long, value_name = "MB", default_value_t = 256)]
    pub function_memory_mb: u64,
    /// The database: a PostgreSQL URL (`postgres://user:password@host:port/db`, or the
    /// key-value form `host=... dbname=...`) that several instances can share [default: the
    /// SQLite file `db.sqlite` in the data dir].
    #[arg(long, value_name = "URL", env = "MIGRATE_DB_URL")]
    pub db: Option<String>,
    /// File storage: `s3://bucket/prefix` for an S3-compatible bucket (endpoint, region and
    /// credentials from the usual `AWS_*` variables), or a directory [default: the data
    /// dir's `storage`].
    #[arg(long, value_name = "URL", env = "MIGRATE_STORAGE_URL")]
    pub storage: Option<String>,
    /// Load every `cloud/database` seed file again, also those the database has loaded
    /// before (their records go back to what the files say). Without it only new or changed
    /// files load, so a restart never undoes what the app changed.
    #[arg(long)]
    pub reseed: bool,
    /// Start a warm worker per cloud function once listening (CloudBase's provisioned
    /// concurrency, one instance each), one at a time in the background, so a function's first
    /// call does not wait for Node and `wx-server-sdk` to load. Each costs a Node process
    /// (about 40 MB); while they start they compete with the first requests for the CPU.
    #[arg(long)]
    pub prewarm: bool,
    /// Write the database out as `cloud/database`-style seed files into DIR, then exit.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
}

/// Run `migrate serve`.
pub(crate) fn run(args: ServeArgs) -> miette::Result<()> {
    init_tracing();
    let mut config = ShimConfig::from_project(&args.project).into_diagnostic()?;
    if let Some(d) = &args.data_dir {
        config.data_dir = d.clone();
    }
    if let Some(o) = args.openid.as_ref().filter(|o| !o.is_empty()) {
        config.default_openid = o.clone();
    }
    config.env_id = args.env.clone();
    config.max_upload = args.max_upload_mb.saturating_mul(1 << 20);
    config.admin_token = args.admin_token.clone().filter(|t| !t.is_empty());
    config.admin_key = args.admin_key.clone().filter(|k| !k.is_empty());
    if config.admin_key.is_some() && config.admin_token.is_none() {
        return Err(miette!(
            "--admin-key needs --admin-token: the token is the secretId the SDKs sign with, the key their secretKey"
        ));
    }
    if let Some(appid) = args.appid.as_ref().filter(|a| !a.is_empty()) {
        config.appid = appid.clone();
    }
    if let Some(secret) = args.secret.as_ref().filter(|s| !s.is_empty()) {
        if args.appid.is_none() && config.appid == "wx-local-dev" {
            return Err(miette!(
                "sign-in needs the mini-program's appid: pass --appid (project.config.json has none)"
            ));
        }
        if config.admin_key.is_none() {
            return Err(miette!(
                "in sign-in mode /admin checks the server SDKs' signatures: pass --admin-token (their secretId) and --admin-key (their secretKey, or MIGRATE_ADMIN_KEY)"
            ));
        }
        config.sign_in = Some(shim::config::SignIn {
            secret: secret.clone(),
            code2session_url: args.code2session_url.clone(),
            session_ttl: std::time::Duration::from_secs(
                args.session_hours.clamp(1, 24 * 365) * 3600,
            ),
        });
    }
    config.allowed_hosts = args.allow_host.clone();
    config.function_memory_mb = args.function_memory_mb.max(16);
    config.storage_url = args.storage.clone().filter(|s| !s.trim().is_empty());
    config.reseed = args.reseed;
    config.prewarm_functions = args.prewarm;
    config.database_url = match args.db.as_deref().map(str::trim) {
        None | Some("") => None,
        // The URL form, or libpq's key-value form (`host=/run/postgresql dbname=app`).
        Some(url)
            if url.starts_with("postgres://")
                || url.starts_with("postgresql://")
                || url.contains('=') =>
        {
            Some(url.to_string())
        }
        Some(other) => {
            return Err(miette!(
                "--db {}: not a PostgreSQL URL (postgres://user:password@host:port/db); leave it out for the SQLite file in the data dir",
                shim::store::postgres::redact(other)
            ));
        }
    };

    if let Some(dir) = &args.export {
        return export(&config, dir);
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()?;
    shim::server::raise_open_files_limit();
    runtime.block_on(async move {
        if config.sign_in.is_none() && !is_loopback(&args.host).await {
            return Err(miette!(
                "not listening on {}: without sign-in the shim trusts the openid a caller sends, so it listens on loopback only (the default --host 127.0.0.1). To serve other machines, turn on sign-in: --secret <app secret> with --admin-token and --admin-key",
                args.host
            ));
        }
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot listen on {}:{}", args.host, args.port))?;
        let addr = listener.local_addr().into_diagnostic()?;
        let url = shim::server::url_of(addr);
        config.public_url = Some(url.clone());
        let state = shim::AppState::open(config)
            .await
            .map_err(|e| miette!("cannot start the shim: {}", e.detail()))?;
        print_banner(addr, &url, &state);
        shim::serve(listener, shutdown_signal(), state)
            .await
            .map_err(|e| miette!("{}", e.detail()))?;
        eprintln!("migrate serve: stopped");
        Ok(())
    })
}

fn export(config: &ShimConfig, dir: &std::path::Path) -> miette::Result<()> {
    // A SQLite file not created yet: nothing served, the database is what the seeds say.
    let fresh = config.database_url.is_none() && !config.database_file().exists();
    std::fs::create_dir_all(&config.data_dir)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot create {}", config.data_dir.display()))?;
    let store = shim::AppState::open_store(config).map_err(|e| miette!("{}", e.detail()))?;
    let store = store.as_ref();
    if fresh {
        let report = shim::seed::load_dir(store, &config.seed_database_dir);
        for e in &report.errors {
            eprintln!("warning: seed: {e}");
        }
    }
    let written =
        shim::seed::export(store, dir).map_err(|e| miette!("export failed: {}", e.detail()))?;
    for p in &written {
        println!("{}", p.display());
    }
    eprintln!(
        "migrate serve: exported {} file(s) to {}",
        written.len(),
        dir.display()
    );
    Ok(())
}

/// Whether every address `host` resolves to is a loopback one.
async fn is_loopback(host: &str) -> bool {
    match tokio::net::lookup_host((host, 0)).await {
        Ok(addrs) => {
            let addrs: Vec<_> = addrs.collect();
            !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback())
        }
        Err(_) => false,
    }
}

fn print_banner(addr: std::net::SocketAddr, url: &str, state: &shim::AppState) {
    let c = &state.config;
    let functions = state
        .functions
        .as_ref()
        .map(|f| f.function_names().join(", "))
        .unwrap_or_else(|| "none (no cloudfunctionRoot)".into());
    if addr.ip().is_loopback() {
        println!("migrate serve: listening on {url}");
    } else {
        let scope = if addr.ip().is_unspecified() {
            "every network interface"
        } else {
            "a non-loopback address"
        };
        println!("migrate serve: listening on {addr} ({scope}); from this machine: {url}");
    }
    match &c.sign_in {
        Some(s) => println!(
            "sign-in mode: wx.login codes for appid {} are exchanged at {}; /client acts for the \
             caller's session token only, /admin checks TC3 signatures",
            c.appid, s.code2session_url
        ),
        None => println!(
            "development mode: /client trusts the openid a caller sends (loopback only; --secret \
             turns on sign-in)"
        ),
    }
    let secret_id = c.admin_token.as_deref().unwrap_or("local");
    let secret_key = if c.admin_key.is_some() {
        "<--admin-key>"
    } else {
        "local"
    };
    println!("  project    {}", c.project_dir.display());
    println!("  data dir   {}", c.data_dir.display());
    println!("  database   {}", c.database_shown());
    println!("  storage    {}", state.storage.location());
    println!("  env id     {}", c.env_id);
    println!("  functions  {functions}");
    println!();
    println!("Point wx-server-sdk / @cloudbase/node-sdk at it without code changes:");
    println!(
        "  export TCB_CONTEXT_CNFG='{{\"URL\":\"{url}/admin\"}}' SCF_NAMESPACE={env} \\",
        env = c.env_id
    );
    println!(
        "         TENCENTCLOUD_RUNENV=SCF TENCENTCLOUD_SECRETID={secret_id} TENCENTCLOUD_SECRETKEY={secret_key}"
    );
    println!(
        "or in code: init({{ env: '{}', serviceUrl: '{url}/admin', secretId: '{secret_id}', secretKey: '{secret_key}' }})",
        c.env_id
    );
    println!("Mini-program wx.cloud adapter endpoint: {url}/client");
    println!("Press Ctrl-C to stop.");
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colour only on a terminal: logs redirected to a file stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .try_init();
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    eprintln!("migrate serve: shutting down");
}
