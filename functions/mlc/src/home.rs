//! Where `mlc` keeps its state, and how it opens it.
//!
//! - Configuration: `--config`, else `$MLC_CONFIG`, else `./mlc.toml` when it exists, else none
//!   (operator commands like `status` work without one).
//! - Data directory: `--data-dir`, else `$MLC_DATA_DIR`, else the config's `data_dir`, else
//!   `./.mlc`. It holds `mlc.sqlite` (work items, audit, mappings, cursors and the queue, in WAL
//!   mode) and `credentials.enc` (AES-256-GCM), whose key is `$MLC_SECRET_KEY` or `secret.key`
//!   (mode 0600) next to it. The key file is created on first use; back it up — without it the
//!   stored credentials cannot be read.
//! - `--backend aws` (or `MLC_BACKEND=aws`): the deployed stack's DynamoDB table, SQS queues and
//!   Secrets Manager instead, named by the same variables the SAM template hands the functions
//!   (`MLC_TABLE`, `MLC_QUEUE_URL`, `MLC_DLQ_URL`, `MLC_SECRET_PREFIX`, `MLC_SECRETS_KMS_KEY`; the
//!   stack's outputs give each value) and reached with the standard AWS credential chain
//!   (`AWS_PROFILE`, `AWS_REGION`, ...). Operator commands (status, items, audit, replay, mappings,
//!   credentials, ping, run) work the same on both; `serve` and `demo` are local only.
//! - Rate budgets: every connection's client counts its calls in the home's shared budget store —
//!   `mlc.sqlite` locally (so an `mlc serve` and an `mlc run` on one data directory share one count
//!   per vendor key), the stack's DynamoDB table with `--backend aws` (so an operator's poll counts
//!   against the same budget as the functions).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use mlc_aws::{AwsPorts, AwsSettings, SqsQueue};
use mlc_core::Engine;
use mlc_core::budget::RateBudget;
use mlc_core::engine::ports::{Clock, Queue, SecretStore, Store, SystemClock};
use mlc_flows::{Config, HomeLimits, Runtime};
use mlc_local::{FileSecretStore, SqliteBudget, SqliteQueue, SqliteStore};

/// Which home the operator commands act on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// The embedded store in the data directory.
    #[default]
    Local,
    /// The deployed stack: DynamoDB, SQS and Secrets Manager.
    Aws,
}

/// Options every command shares.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub backend: Backend,
}

/// Where an opened home's state lives.
pub enum Place {
    Local { data_dir: PathBuf, queue: SqliteQueue },
    Aws { settings: AwsSettings, queue: Arc<SqsQueue> },
}

impl Place {
    /// One line for `mlc status`.
    pub fn describe(&self) -> String {
        match self {
            Place::Local { data_dir, .. } => data_dir.display().to_string(),
            Place::Aws { settings, .. } => format!(
                "AWS: table {}, queue {}, secrets {}/*",
                settings.table, settings.queue_url, settings.secret_prefix
            ),
        }
    }

    /// Put every dead-lettered hint back on the work queue; how many moved.
    pub async fn requeue_dead(&self) -> anyhow::Result<u64> {
        Ok(match self {
            Place::Local { queue, .. } => queue.requeue_dead().await? as u64,
            Place::Aws { queue, .. } => queue.requeue_dead().await?,
        })
    }

    pub fn is_aws(&self) -> bool {
        matches!(self, Place::Aws { .. })
    }
}

/// Deliveries after which a hint goes to the dead-letter list (`mlc status` shows them).
pub const MAX_RECEIVES: u32 = 25;

/// An opened local home: configuration, stores, and an engine over them.
pub struct Home {
    pub config: Config,
    /// Where the state lives (shown by `mlc status`).
    pub place: Place,
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub secrets: Arc<dyn SecretStore>,
    pub clock: Arc<dyn Clock>,
    /// The rate budgets every connection's client counts against (shared by every process).
    pub budget: Arc<dyn RateBudget>,
}

/// Read the configuration the globals point at (none is fine: an empty config).
pub fn load_config(g: &Globals) -> anyhow::Result<Config> {
    match &g.config {
        Some(p) => Ok(Config::load(p)?),
        None => {
            let default = Path::new("mlc.toml");
            if default.exists() { Ok(Config::load(default)?) } else { Ok(Config::default()) }
        }
    }
}

/// The configuration file the globals point at, if any (as a display string).
pub fn config_origin(g: &Globals) -> Option<String> {
    match &g.config {
        Some(p) => Some(p.display().to_string()),
        None => Path::new("mlc.toml").exists().then(|| "mlc.toml".to_string()),
    }
}

/// The data directory the globals and config choose.
pub fn data_dir(g: &Globals, config: &Config) -> PathBuf {
    g.data_dir.clone().or_else(|| config.data_dir.clone()).unwrap_or_else(|| PathBuf::from(".mlc"))
}

/// Open the encrypted credentials in `dir`, creating a key on first use.
pub fn open_secrets(dir: &Path) -> anyhow::Result<FileSecretStore> {
    let key_file = dir.join("secret.key");
    if std::env::var_os("MLC_SECRET_KEY").is_none() && !key_file.exists() {
        FileSecretStore::init_key(&key_file)?;
        eprintln!(
            "created a new credentials key at {} (mode 0600); back it up: without it stored credentials cannot be read",
            key_file.display()
        );
    }
    Ok(FileSecretStore::open(dir)?)
}

impl Home {
    pub async fn open(g: &Globals) -> anyhow::Result<Home> {
        let config = load_config(g)?;
        match g.backend {
            Backend::Local => {
                let dir = data_dir(g, &config);
                Home::open_at(config, dir, Arc::new(SystemClock)).await
            }
            Backend::Aws => Home::open_aws(config).await,
        }
    }

    /// Open a home that must already hold ml-connector data (every read-only command): a mistyped
    /// `--data-dir` is an error naming the directory, never a new empty store.
    pub async fn open_existing(g: &Globals) -> anyhow::Result<Home> {
        if g.backend == Backend::Local {
            let config = load_config(g)?;
            let dir = data_dir(g, &config);
            if !dir.join("mlc.sqlite").is_file() {
                anyhow::bail!(
                    "no ml-connector data in {} (check --data-dir, MLC_DATA_DIR or data_dir in the config; \
                     `mlc credentials set <connection>` or `mlc mappings import` start a new one)",
                    dir.display()
                );
            }
        }
        Home::open(g).await
    }

    /// Open a home for a command that writes, creating the data directory (and saying so) when
    /// it is new.
    pub async fn open_for_write(g: &Globals) -> anyhow::Result<Home> {
        if g.backend == Backend::Local {
            let config = load_config(g)?;
            let dir = data_dir(g, &config);
            if !dir.join("mlc.sqlite").is_file() {
                eprintln!("starting a new ml-connector data directory in {}", dir.display());
            }
        }
        Home::open(g).await
    }

    /// Open the deployed stack's home (`--backend aws`).
    pub async fn open_aws(config: Config) -> anyhow::Result<Home> {
        let settings = AwsSettings::from_env().map_err(|e| {
            anyhow::anyhow!(
                "{e}. For --backend aws, export MLC_TABLE, MLC_QUEUE_URL, MLC_DLQ_URL and MLC_SECRET_PREFIX \
                 from the stack's outputs (README, \"Operating on AWS\")"
            )
        })?;
        let ports = AwsPorts::from_env(&settings).await;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store: Arc<dyn Store> = ports.store.clone();
        let queue: Arc<dyn Queue> = ports.queue.clone();
        let engine = Engine::new(store.clone(), queue.clone(), clock.clone(), config.engine.engine_config())
            .with_worker(format!("mlc-cli-{}", std::process::id()));
        Ok(Home {
            config,
            place: Place::Aws { settings, queue: ports.queue },
            engine,
            store,
            queue,
            secrets: ports.secrets,
            clock,
            budget: ports.budget,
        })
    }

    /// Open a home in `dir` with an explicit config and clock (the demo uses a scaled clock).
    pub async fn open_at(config: Config, dir: PathBuf, clock: Arc<dyn Clock>) -> anyhow::Result<Home> {
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create data directory {}", dir.display()))?;
        // Audit trails hold supplier bills and amounts: keep the directory private.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
        }
        let db = dir.join("mlc.sqlite");
        let sqlite = SqliteStore::open(&db)?;
        // Work items hold supplier bills and amounts: the database is private like the key file.
        #[cfg(unix)]
        for f in ["mlc.sqlite", "mlc.sqlite-wal", "mlc.sqlite-shm"] {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.join(f);
            if p.exists() {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("cannot make {} private", p.display()))?;
            }
        }
        let local_queue = SqliteQueue::new(&sqlite, clock.clone(), MAX_RECEIVES);
        let budget: Arc<dyn RateBudget> = Arc::new(SqliteBudget::new(&sqlite));
        let secrets: Arc<dyn SecretStore> = Arc::new(open_secrets(&dir)?);
        let store: Arc<dyn Store> = Arc::new(sqlite);
        let queue: Arc<dyn Queue> = Arc::new(local_queue.clone());
        let engine = Engine::new(store.clone(), queue.clone(), clock.clone(), config.engine.engine_config())
            .with_worker(format!("mlc-{}", std::process::id()));
        Ok(Home {
            config,
            place: Place::Local { data_dir: dir, queue: local_queue },
            engine,
            store,
            queue,
            secrets,
            clock,
            budget,
        })
    }

    /// The full runtime (connections, flows, intake) over this home's stores.
    pub async fn runtime(&self) -> anyhow::Result<Runtime> {
        let home = HomeLimits { budget_store: Some(self.budget.clone()), max_wait: None };
        let rt = Runtime::build_in(
            self.config.clone(),
            self.store.clone(),
            self.queue.clone(),
            self.secrets.clone(),
            self.clock.clone(),
            home,
        )
        .await?;
        Ok(rt)
    }
}
