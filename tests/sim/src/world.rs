//! A world of simulators, one per connection, turned into what ml-connector is configured with.
//!
//! `mlc demo`, the end-to-end tests and the benches all need the same wiring: start some
//! simulators, seed them, and produce the configuration's `[connections.*]` and each connection's
//! credentials from the simulators' own [`SimConnection`]s. This is that wiring, once.
//!
//! ```no_run
//! # async fn demo() -> Result<(), mlc_sim::common::SimError> {
//! use mlc_sim::common::SimClock;
//! use mlc_sim::world::SimWorld;
//! let mut world = SimWorld::new(SimClock::manual_default());
//! world.start("deltek", "deltek").await?;                       // demo scenario
//! let cin7 = world.add("cin7", mlc_sim::cin7::Cin7Sim::builder().start().await?); // a configured one
//! world.set_option("cin7", "rate_limit_window_secs", serde_json::json!(1.0));
//! let config = world.config();            // [connections.deltek], [connections.cin7]
//! # let _ = (cin7, config); Ok(()) }
//! ```

use std::any::Any;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use mlc_core::engine::ports::SecretStore;
use mlc_core::secret::Credentials;
use mlc_flows::config::{Config, ConnectionSettings};
use serde_json::Value;

use crate::common::{ResetTo, SimClock, SimConnection, SimError, SimHandle, SimSystem};

struct Entry {
    handle: SimHandle<dyn SimSystem>,
    typed: Arc<dyn Any + Send + Sync>,
    options: BTreeMap<String, Value>,
}

/// Simulators by connection name.
pub struct SimWorld {
    pub clock: SimClock,
    entries: BTreeMap<String, Entry>,
    /// Options set before their connection was added, applied when it is.
    pending: BTreeMap<String, BTreeMap<String, Value>>,
}

impl SimWorld {
    pub fn new(clock: SimClock) -> Self {
        SimWorld { clock, entries: BTreeMap::new(), pending: BTreeMap::new() }
    }

    /// Add a running simulator as connection `connection`; returns its typed system for seeding
    /// and inspection.
    pub fn add<T: SimSystem>(&mut self, connection: &str, handle: SimHandle<T>) -> Arc<T> {
        let typed = handle.system().clone();
        let options = self.pending.remove(connection).unwrap_or_default();
        self.entries.insert(connection.to_string(), Entry { handle: handle.into_dyn(), typed: typed.clone(), options });
        typed
    }

    /// Start `system`'s simulator with its demo scenario on the world's clock, as `connection`.
    pub async fn start(&mut self, connection: &str, system: &str) -> Result<(), SimError> {
        let handle = crate::start(system, 0, self.clock.clone()).await?;
        let typed: Arc<dyn Any + Send + Sync> = Arc::new(handle.system().clone());
        let options = self.pending.remove(connection).unwrap_or_default();
        self.entries.insert(connection.to_string(), Entry { handle, typed, options });
        Ok(())
    }

    /// A connection setting beyond what the simulator says (a compressed rate window, a folder map).
    /// Set before the connection is added, it is kept until it is.
    pub fn set_option(&mut self, connection: &str, key: &str, value: Value) {
        match self.entries.get_mut(connection) {
            Some(e) => {
                e.options.insert(key.to_string(), value);
            }
            None => {
                self.pending.entry(connection.to_string()).or_default().insert(key.to_string(), value);
            }
        }
    }

    /// The typed simulator behind a connection (added with [`SimWorld::add`]).
    pub fn system<T: SimSystem>(&self, connection: &str) -> Option<Arc<T>> {
        let e = self.entries.get(connection)?;
        e.typed.clone().downcast::<T>().ok()
    }

    pub fn handle(&self, connection: &str) -> Option<&SimHandle<dyn SimSystem>> {
        self.entries.get(connection).map(|e| &e.handle)
    }

    /// Connection names, sorted.
    pub fn connections(&self) -> Vec<&str> {
        self.entries.keys().map(String::as_str).collect()
    }

    /// How ml-connector connects to `connection`'s simulator.
    pub fn connection(&self, connection: &str) -> Option<SimConnection> {
        self.entries.get(connection).map(|e| e.handle.connection())
    }

    /// `[connections.<name>]` for every simulator.
    pub fn connection_settings(&self) -> BTreeMap<String, ConnectionSettings> {
        self.entries
            .iter()
            .map(|(name, e)| {
                let c = e.handle.connection();
                let mut options: BTreeMap<String, Value> = c.settings.into_iter().collect();
                options.extend(e.options.clone());
                (
                    name.clone(),
                    ConnectionSettings { system: c.system, base_url: c.base_url, credentials: None, options },
                )
            })
            .collect()
    }

    /// A configuration holding the world's connections (add flows and engine settings to it).
    pub fn config(&self) -> Config {
        Config { connections: self.connection_settings(), ..Config::default() }
    }

    /// Each connection's credentials, as `mlc credentials set` would store them.
    pub fn credentials(&self) -> Vec<(String, Credentials)> {
        self.entries
            .iter()
            .map(|(name, e)| {
                let mut creds = Credentials::new();
                for (k, v) in e.handle.connection().credentials {
                    let text = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    creds.set(&k, text);
                }
                (name.clone(), creds)
            })
            .collect()
    }

    /// Store every connection's credentials.
    pub async fn store_credentials(&self, secrets: &dyn SecretStore) -> Result<(), SimError> {
        for (name, creds) in self.credentials() {
            secrets
                .put(&name, &creds)
                .await
                .map_err(|e| SimError::bad("world", format!("cannot store the credentials of {name}: {e}")))?;
        }
        Ok(())
    }

    /// Keep every simulator's state in `dir` (one `<connection>.json` each), so a later run can
    /// continue where this one left off.
    pub fn save(&self, dir: &Path) -> Result<(), SimError> {
        std::fs::create_dir_all(dir)?;
        for (name, e) in &self.entries {
            let path = dir.join(format!("{name}.json"));
            let tmp = dir.join(format!("{name}.json.tmp"));
            let body = serde_json::to_vec(&e.handle.system().snapshot())
                .map_err(|err| SimError::bad("world", format!("cannot serialise {name}: {err}")))?;
            std::fs::write(&tmp, body)?;
            std::fs::rename(&tmp, &path)?;
        }
        Ok(())
    }

    /// Whether `dir` holds a saved world (every connection's snapshot).
    pub fn saved_in(&self, dir: &Path) -> bool {
        !self.entries.is_empty() && self.entries.keys().all(|n| dir.join(format!("{n}.json")).exists())
    }

    /// Restore every simulator's state from `dir` (see [`SimWorld::save`]).
    pub fn restore(&self, dir: &Path) -> Result<(), SimError> {
        for (name, e) in &self.entries {
            let path = dir.join(format!("{name}.json"));
            let text = std::fs::read(&path)?;
            let snap: Value = serde_json::from_slice(&text).map_err(|err| {
                SimError::bad("world", format!("{} is not a simulator snapshot ({err}); start over", path.display()))
            })?;
            let sys = e.handle.system();
            match sys.restore(&snap) {
                Ok(()) => {}
                // Systems whose scenario format is their snapshot format restore by reset.
                Err(_) => sys.reset(ResetTo::Scenario(snap))?,
            }
        }
        Ok(())
    }

    /// Stop every simulator.
    pub async fn shutdown(self) {
        for (_, e) in self.entries {
            e.handle.shutdown().await;
        }
    }
}
