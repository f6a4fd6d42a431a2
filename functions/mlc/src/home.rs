//! Where `mlc` keeps its state, and how it opens it.
//!
//! - Configuration: `--config`, else `$MLC_CONFIG`, else `./mlc.toml` when it exists, else none
//!   (operator commands like `status` work without one).
//! - Data directory: `--data-dir`, else `$MLC_DATA_DIR`, else the config's `data_dir`, else
//!   `./.mlc`. It holds `mlc.sqlite` (work items, audit, mappings, cursors and the queue, in WAL
//!   mode) and `credentials.enc` (AES-256-GCM), whose key is `$MLC_SECRET_KEY` or `secret.key`
//!   (mode 0600) next to it. The key file is created on first use; back it up — without it the
//!   stored credentials cannot be read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use mlc_core::Engine;
use mlc_core::engine::ports::{Clock, Queue, SecretStore, Store, SystemClock};
use mlc_flows::{Config, Runtime};
use mlc_local::{FileSecretStore, SqliteQueue, SqliteStore};

/// Options every command shares.
#[derive(Debug, Clone, Default)]
pub struct Globals {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
}

/// Deliveries after which a hint goes to the dead-letter list (`mlc status` shows them).
pub const MAX_RECEIVES: u32 = 25;

/// An opened local home: configuration, stores, and an engine over them.
pub struct Home {
    pub config: Config,
    /// Where the state lives (shown by `mlc status`).
    pub data_dir: PathBuf,
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub local_queue: SqliteQueue,
    pub secrets: Arc<dyn SecretStore>,
    pub clock: Arc<dyn Clock>,
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
        let dir = data_dir(g, &config);
        Home::open_at(config, dir, Arc::new(SystemClock)).await
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
        let local_queue = SqliteQueue::new(&sqlite, clock.clone(), MAX_RECEIVES);
        let secrets: Arc<dyn SecretStore> = Arc::new(open_secrets(&dir)?);
        let store: Arc<dyn Store> = Arc::new(sqlite);
        let queue: Arc<dyn Queue> = Arc::new(local_queue.clone());
        let engine = Engine::new(store.clone(), queue.clone(), clock.clone(), config.engine.engine_config())
            .with_worker(format!("mlc-{}", std::process::id()));
        Ok(Home { config, data_dir: dir, engine, store, queue, local_queue, secrets, clock })
    }

    /// The full runtime (connections, flows, intake) over this home's stores.
    pub async fn runtime(&self) -> anyhow::Result<Runtime> {
        let rt = Runtime::build(
            self.config.clone(),
            self.store.clone(),
            self.queue.clone(),
            self.secrets.clone(),
            self.clock.clone(),
        )
        .await?;
        Ok(rt)
    }
}
