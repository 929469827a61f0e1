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
    /// Address to listen on.
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
    config.allowed_hosts = args.allow_host.clone();
    config.function_memory_mb = args.function_memory_mb.max(16);
    config.storage_url = args.storage.clone().filter(|s| !s.trim().is_empty());
    config.reseed = args.reseed;
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
        eprintln!(
            "warning: other machines can reach this shim. /client is development mode: it \
             trusts the openid a caller sends (identity is not verified){}",
            if c.admin_token.is_some() {
                "."
            } else {
                "; /admin takes any secret id: pass --admin-token to require one."
            }
        );
    }
    let secret_id = c.admin_token.as_deref().unwrap_or("local");
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
        "         TENCENTCLOUD_RUNENV=SCF TENCENTCLOUD_SECRETID={secret_id} TENCENTCLOUD_SECRETKEY=local"
    );
    println!(
        "or in code: init({{ env: '{}', serviceUrl: '{url}/admin', secretId: '{secret_id}', secretKey: 'local' }})",
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
