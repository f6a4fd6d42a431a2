//! The runtime both homes share: from configuration and credentials to connections, flows and the
//! webhook intake, around one [`Engine`].
//!
//! - The Lambda functions build a `Runtime` once per container (store = DynamoDB, queue = SQS,
//!   secrets = Secrets Manager) and call [`Runtime::webhook`], [`Runtime::poll`] and
//!   [`Runtime::settle`] per event.
//! - `mlc` builds one on the embedded store and runs the same three in one process.
//!
//! Systems are found through their registrations ([`mlc_core::connect::systems`]) and flow kinds
//! through theirs ([`crate::catalog`]): adding either touches nothing here. **A connection that
//! cannot be built** (credentials missing or rejected at build, a bad setting) **stops only its
//! own flows**: they are listed in [`Runtime::unavailable`] with the reason and the fix, and every
//! other flow runs.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlc_core::connect::{ApiCounters, BuildError, Connection, Connections};
use mlc_core::engine::intake::{Intake, IntakeError, IntakeReport, WebhookRequest};
use mlc_core::engine::ports::{Clock, Delivery, Queue, SecretStore, Store};
use mlc_core::engine::{HintReport, PollReport, RegistryBuilder};
pub use mlc_core::ping::PingCheck;
use mlc_core::{Engine, EngineError, FlowRegistry};
pub use mlc_http::HomeLimits;
use serde::Serialize;
use tokio::sync::RwLock;

use crate::catalog::{FlowContext, SourcePool};
use crate::config::Config;

/// How often a failed webhook verification may re-read one connection's secret (a rotated secret
/// is picked up; a flood of forged requests cannot make every request re-read the secret store).
pub const SECRET_REREAD_INTERVAL: Duration = Duration::from_secs(30);

/// A flow that could not be built, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unavailable {
    pub flow: String,
    /// The connection at fault, when one is.
    pub connection: Option<String>,
    pub reason: String,
}

/// Engine + flows + intake + connections.
pub struct Runtime {
    pub config: Config,
    pub engine: Engine,
    pub flows: FlowRegistry,
    pub connections: Connections,
    /// Flows that are configured and enabled but could not be built (their connection is missing
    /// credentials, say). The rest run.
    pub unavailable: Vec<Unavailable>,
    intake: RwLock<Intake>,
    secrets: Arc<dyn SecretStore>,
    last_reread: Mutex<BTreeMap<String, Instant>>,
    /// The shared rate-budget store and wait cap every connection's client is built with.
    home: HomeLimits,
}

impl Runtime {
    /// Build from configuration. The configuration must be valid (it was checked at load);
    /// connections whose credentials are missing or whose build fails make their flows
    /// unavailable, not the runtime.
    pub async fn build(
        config: Config,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Runtime, BuildError> {
        Self::build_in(config, store, queue, secrets, clock, HomeLimits::default()).await
    }

    /// [`Runtime::build`] with every connection's client built in `home`: its rate budgets counted
    /// in the home's shared store (DynamoDB on AWS, SQLite locally) and its in-process waits capped.
    pub async fn build_in(
        config: Config,
        store: Arc<dyn Store>,
        queue: Arc<dyn Queue>,
        secrets: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
        home: HomeLimits,
    ) -> Result<Runtime, BuildError> {
        config.check("configuration").map_err(|e| BuildError(e.0))?;
        let engine = Engine::new(store, queue, clock, config.engine.engine_config());
        let (connections, broken) = build_connections(&config, secrets.as_ref(), &home).await;
        let (flows, unavailable) = build_flows(&config, &engine, &connections, &broken);
        let intake = build_intake(&config, &connections, &flows);
        Ok(Runtime {
            config,
            engine,
            flows,
            connections,
            unavailable,
            intake: RwLock::new(intake),
            secrets,
            last_reread: Mutex::new(BTreeMap::new()),
            home,
        })
    }

    /// A runtime around explicit flows (tests, or embedding without a config file).
    pub fn with_flows(engine: Engine, flows: FlowRegistry, intake: Intake, secrets: Arc<dyn SecretStore>) -> Runtime {
        Runtime {
            config: Config::default(),
            engine,
            flows,
            connections: Connections::default(),
            unavailable: Vec::new(),
            intake: RwLock::new(intake),
            secrets,
            last_reread: Mutex::new(BTreeMap::new()),
            home: HomeLimits::default(),
        }
    }

    /// Handle one webhook request. When verification fails, that connection's credentials are
    /// re-read (the secret may have been rotated since this process started) at most once per
    /// [`SECRET_REREAD_INTERVAL`], and the request is checked once more.
    pub async fn webhook(&self, req: &WebhookRequest<'_>) -> Result<IntakeReport, IntakeError> {
        let first = self.intake.read().await.handle(&self.engine, req).await;
        let Err(IntakeError::Unauthorized(_)) = &first else { return first };
        let conn = req.connection;
        if !self.config.connections.contains_key(conn) || !self.may_reread(conn) {
            return first;
        }
        let Ok(fresh) = connect_one_in(&self.config, conn, self.secrets.as_ref(), &self.home).await else {
            return first;
        };
        let Some(source) = fresh.webhook_source() else { return first };
        let mut intake = self.intake.read().await.clone();
        intake.add_source(conn, source);
        let again = intake.handle(&self.engine, req).await;
        if again.is_ok() {
            *self.intake.write().await = intake;
        }
        again
    }

    fn may_reread(&self, connection: &str) -> bool {
        let mut last = self.last_reread.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match last.get(connection) {
            Some(t) if now.duration_since(*t) < SECRET_REREAD_INTERVAL => false,
            _ => {
                last.insert(connection.to_string(), now);
                true
            }
        }
    }

    /// One poll of a flow's source (discover → enqueue → advance the cursor). A shared source
    /// serves every flow reading it, so polling one polls for all of them.
    pub async fn poll(&self, flow: &str) -> Result<PollReport, EngineError> {
        if let Some(u) = self.unavailable.iter().find(|u| u.flow == flow) {
            return Err(EngineError::Unavailable { flow: flow.to_string(), reason: u.reason.clone() });
        }
        self.flows.poll(&self.engine, flow).await
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

/// Build one configured connection with its stored credentials (what `mlc ping` checks).
pub async fn connect_one(
    config: &Config,
    name: &str,
    secrets: &dyn SecretStore,
) -> Result<Arc<dyn Connection>, BuildError> {
    connect_one_in(config, name, secrets, &HomeLimits::default()).await
}

/// [`connect_one`] with the connection's clients built in `home` (see [`Runtime::build_in`]).
pub async fn connect_one_in(
    config: &Config,
    name: &str,
    secrets: &dyn SecretStore,
    home: &HomeLimits,
) -> Result<Arc<dyn Connection>, BuildError> {
    let settings = config.connections.get(name).ok_or_else(|| {
        let known: Vec<&str> = config.connections.keys().map(String::as_str).collect();
        BuildError(format!(
            "no connection named {name:?} in the configuration (defined: {})",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ))
    })?;
    let Some(system) = mlc_core::connect::system(&settings.system) else {
        return Err(BuildError(format!(
            "connections.{name}: unknown system {:?} (known: {})",
            settings.system,
            mlc_core::connect::system_names().join(", ")
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
    home.scope(|| (system.build)(&settings.spec(name), creds))
}

/// Every connection that can be built, and why the others cannot.
async fn build_connections(
    config: &Config,
    secrets: &dyn SecretStore,
    home: &HomeLimits,
) -> (Connections, BTreeMap<String, String>) {
    let mut conns = Connections::default();
    let mut broken = BTreeMap::new();
    for name in config.connections.keys() {
        match connect_one_in(config, name, secrets, home).await {
            Ok(c) => conns.insert(name, c),
            Err(e) => {
                broken.insert(name.clone(), e.0);
            }
        }
    }
    (conns, broken)
}

fn build_flows(
    config: &Config,
    engine: &Engine,
    connections: &Connections,
    broken: &BTreeMap<String, String>,
) -> (FlowRegistry, Vec<Unavailable>) {
    let mut registry = RegistryBuilder::new();
    let mut sources = SourcePool::default();
    let mut unavailable = Vec::new();
    for (name, settings) in config.flows.iter().filter(|(_, f)| f.enabled) {
        let bad_conn = [&settings.source, &settings.target].into_iter().find(|c| broken.contains_key(*c));
        if let Some(c) = bad_conn {
            unavailable.push(Unavailable {
                flow: name.clone(),
                connection: Some(c.clone()),
                reason: format!("connection {c} is not available: {}", broken[c]),
            });
            continue;
        }
        let Some(kind) = config.kind_of(name) else {
            unavailable.push(Unavailable {
                flow: name.clone(),
                connection: None,
                reason: format!("unknown flow kind (known: {})", crate::catalog::kind_names().join(", ")),
            });
            continue;
        };
        let mut ctx =
            FlowContext { name, engine, settings, connections, sources: &mut sources, registry: &mut registry };
        if let Err(e) = (kind.build)(&mut ctx) {
            unavailable.push(Unavailable {
                flow: name.clone(),
                connection: None,
                reason: format!("flows.{name}: {e}"),
            });
        }
    }
    (registry.build(), unavailable)
}

fn build_intake(config: &Config, connections: &Connections, flows: &FlowRegistry) -> Intake {
    let mut intake = Intake::new();
    intake.max_body = config.server.max_body_bytes;
    for (name, c) in connections.iter() {
        if let Some(src) = c.webhook_source() {
            intake.add_source(name, src);
        }
    }
    for (key, source) in flows.sources() {
        let spec = source.spec();
        if !spec.has_webhooks {
            continue;
        }
        for entity in &spec.entities {
            intake.route_to_source(&spec.connection, entity, key);
        }
    }
    intake
}
