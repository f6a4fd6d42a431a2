//! The runtime both homes share: from configuration and credentials to connections, flows and the
//! webhook intake, around one [`Engine`].
//!
//! - The Lambda functions build a `Runtime` once per container (store = DynamoDB, queue = SQS,
//!   secrets = Secrets Manager) and call [`Runtime::webhook`], [`Runtime::poll`] and
//!   [`Runtime::settle`] per event.
//! - `mlc` builds one on the embedded store and runs the same three in one process.
//!
//! Systems and flow kinds are looked up in two catalogs ([`crate::systems`], [`crate::catalog`]):
//! adding a system or a flow adds one line there, nothing here.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::engine::intake::{Intake, IntakeError, IntakeReport, WebhookRequest, WebhookSource};
use mlc_core::engine::ports::{Clock, Delivery, Queue, SecretStore, Store};
use mlc_core::engine::{HintReport, PollReport};
pub use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;
use mlc_core::{Engine, EngineError, FlowRegistry, FlowRunner};
use serde::Serialize;
use tokio::sync::RwLock;

use crate::config::{Config, ConnectionSettings, FlowSettings};

/// API call counters of one connection (for reports: "API calls per system").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ApiCounters {
    pub calls: u64,
    pub retries: u64,
    pub throttled: u64,
    pub auth_refreshes: u64,
}

/// A live connection to one system, built from its settings and credentials.
#[async_trait]
pub trait Connection: Send + Sync + 'static {
    fn system(&self) -> &str;
    /// Check credentials, rights and reachability: one line per check.
    async fn ping(&self) -> Vec<PingCheck>;
    /// How this system's webhooks are verified and read, when it sends any.
    fn webhook_source(&self) -> Option<Arc<dyn WebhookSource>> {
        None
    }
    fn counters(&self) -> ApiCounters {
        ApiCounters::default()
    }
    /// For flow builders to reach the concrete client.
    fn as_any(&self) -> &dyn Any;
}

/// Why a runtime could not be built, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(pub String);

/// Connections by name, for flow builders.
#[derive(Clone, Default)]
pub struct Connections {
    by_name: BTreeMap<String, Arc<dyn Connection>>,
}

impl Connections {
    pub fn insert(&mut self, name: &str, c: Arc<dyn Connection>) {
        self.by_name.insert(name.to_string(), c);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Connection>> {
        self.by_name.get(name)
    }

    /// The concrete client behind a connection, or an error naming what was expected.
    pub fn client<T: 'static>(&self, name: &str, expected_system: &str) -> Result<&T, BuildError> {
        let c = self.by_name.get(name).ok_or_else(|| BuildError(format!("connection {name:?} is not defined")))?;
        c.as_any().downcast_ref::<T>().ok_or_else(|| {
            BuildError(format!("connection {name:?} is a {} connection; this flow needs {expected_system}", c.system()))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn Connection>)> {
        self.by_name.iter().map(|(k, v)| (k.as_str(), v))
    }
}

/// Everything a flow builder gets.
pub struct FlowContext<'a> {
    pub name: &'a str,
    pub settings: &'a FlowSettings,
    pub connections: &'a Connections,
}

/// Builds a connection of one system.
pub type ConnectionBuilder =
    fn(name: &str, settings: &ConnectionSettings, credentials: Credentials) -> Result<Arc<dyn Connection>, BuildError>;

/// Builds a flow of one kind; also says which (source system, entity) webhooks feed it.
pub struct FlowKind {
    pub name: &'static str,
    pub description: &'static str,
    pub build: fn(&FlowContext<'_>) -> Result<Arc<dyn FlowRunner>, BuildError>,
    /// Webhook entities of the source system that become hints for this flow.
    pub webhook_entities: &'static [&'static str],
}

/// Engine + flows + intake + connections.
pub struct Runtime {
    pub config: Config,
    pub engine: Engine,
    pub flows: FlowRegistry,
    pub connections: Connections,
    intake: RwLock<Intake>,
    secrets: Arc<dyn SecretStore>,
}

impl Runtime {
    /// Build from configuration. Connections whose credentials are missing fail here with the
    /// command that adds them; flows of unknown kinds fail with the list of known ones.
    pub async fn build(
        config: Config,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Runtime, BuildError> {
        let engine = Engine::new(store, queue, clock, config.engine.engine_config());
        let connections = build_connections(&config, secrets.as_ref()).await?;
        let flows = build_flows(&config, &connections)?;
        let intake = build_intake(&config, &connections);
        Ok(Runtime { config, engine, flows, connections, intake: RwLock::new(intake), secrets })
    }

    /// A runtime around explicit flows (tests, or embedding without a config file).
    pub fn with_flows(engine: Engine, flows: FlowRegistry, intake: Intake, secrets: Arc<dyn SecretStore>) -> Runtime {
        Runtime {
            config: Config::default(),
            engine,
            flows,
            connections: Connections::default(),
            intake: RwLock::new(intake),
            secrets,
        }
    }

    /// Handle one webhook request. When verification fails, the credentials are re-read once
    /// (the secret may have been rotated since this process started) before refusing.
    pub async fn webhook(&self, req: &WebhookRequest<'_>) -> Result<IntakeReport, IntakeError> {
        let first = self.intake.read().await.handle(&self.engine, req).await;
        match first {
            Err(IntakeError::Unauthorized(_)) if !self.config.connections.is_empty() => {
                if let Ok(fresh) = build_connections(&self.config, self.secrets.as_ref()).await {
                    let intake = build_intake(&self.config, &fresh);
                    let again = intake.handle(&self.engine, req).await;
                    if again.is_ok() {
                        *self.intake.write().await = intake;
                    }
                    return again;
                }
                first
            }
            other => other,
        }
    }

    /// One poll of a flow (discover → enqueue → advance cursor).
    pub async fn poll(&self, flow: &str) -> Result<PollReport, EngineError> {
        let f = self.flows.get(flow).ok_or_else(|| EngineError::UnknownFlow(flow.to_string()))?;
        f.poll(&self.engine).await
    }

    /// Handle one queue delivery and settle it (ack / retry later).
    pub async fn settle(&self, delivery: &Delivery) -> Result<HintReport, EngineError> {
        self.engine.settle(&self.flows, delivery).await
    }

    /// API counters per connection.
    pub fn counters(&self) -> BTreeMap<String, ApiCounters> {
        self.connections.iter().map(|(n, c)| (n.to_string(), c.counters())).collect()
    }
}

/// Build one configured connection (what `mlc ping` checks), with its stored credentials.
pub async fn build_connection(
    config: &Config,
    name: &str,
    secrets: &dyn SecretStore,
) -> Result<Arc<dyn Connection>, BuildError> {
    let settings = config.connections.get(name).ok_or_else(|| {
        let known: Vec<&str> = config.connections.keys().map(String::as_str).collect();
        BuildError(format!(
            "no connection named {name:?} in the configuration (defined: {})",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ))
    })?;
    let Some(builder) = crate::systems::builder(&settings.system) else {
        return Err(BuildError(format!(
            "connections.{name}: unknown system {:?} (known: {})",
            settings.system,
            crate::systems::known().join(", ")
        )));
    };
    let cred_name = config.credentials_name(name);
    let creds = secrets
        .get(cred_name)
        .await
        .map_err(|e| BuildError(format!("cannot read credentials for {name}: {e}")))?
        .ok_or_else(|| {
            BuildError(format!("no credentials stored for connection {name}: run `mlc credentials set {cred_name}`"))
        })?;
    builder(name, settings, creds)
}

async fn build_connections(config: &Config, secrets: &dyn SecretStore) -> Result<Connections, BuildError> {
    let mut conns = Connections::default();
    for name in config.connections.keys() {
        conns.insert(name, build_connection(config, name, secrets).await?);
    }
    Ok(conns)
}

fn build_flows(config: &Config, connections: &Connections) -> Result<FlowRegistry, BuildError> {
    let mut reg = FlowRegistry::new();
    for (name, settings) in config.flows.iter().filter(|(_, f)| f.enabled) {
        let kind = crate::catalog::kind(name).ok_or_else(|| {
            BuildError(format!(
                "flows.{name}: unknown flow (known: {})",
                crate::catalog::kinds().iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let ctx = FlowContext { name, settings, connections };
        reg.add((kind.build)(&ctx).map_err(|e| BuildError(format!("flows.{name}: {e}")))?);
    }
    Ok(reg)
}

fn build_intake(config: &Config, connections: &Connections) -> Intake {
    let mut intake = Intake::new();
    intake.max_body = config.server.max_body_bytes;
    for (_, c) in connections.iter() {
        if let Some(src) = c.webhook_source() {
            intake.add_source(src);
        }
    }
    for (name, settings) in config.flows.iter().filter(|(_, f)| f.enabled) {
        let (Some(kind), Some(source)) = (crate::catalog::kind(name), config.connections.get(&settings.source)) else {
            continue;
        };
        for entity in kind.webhook_entities {
            intake.route(&source.system, entity, name);
        }
    }
    intake
}
