//! The shared simulator kit.
//!
//! Every vendor simulator (Deltek today; Cin7, Acumatica, Procore, Coupa, Cleo later) is a type
//! implementing [`SimSystem`]: it owns its state and answers its vendor's API through an axum
//! [`Router`]. The kit supplies everything that is the same for all of them:
//!
//! - [`server::start`] binds `127.0.0.1:<port or 0>`, wraps the system's router with the call log
//!   and fault layer, mounts the `/__sim` control API ([`control`]) and returns a [`SimHandle`]
//!   (base URL, credentials, clock, faults, calls, the typed system for in-process seeding, and
//!   graceful shutdown);
//! - [`SimClock`]: the injectable clock (real, manual, scaled);
//! - [`FaultTable`]: latency, 5xx/429 with or without `Retry-After`, an HTML 502, connection
//!   reset, and commit-then-timeout, per route pattern and method, for N calls or a probability;
//! - [`CallLog`]: requests per route;
//! - [`webhook`]: outbound webhook delivery with retries on the simulated clock;
//! - [`json`]: tolerant serde helpers for vendor quirks (numbers as strings, case-insensitive keys).
//!
//! To add a system: implement [`SimSystem`] in `src/<system>/` ([`template::CounterSim`] is the
//! smallest working example; `deltek` the full one), give it a builder that takes a [`SimKit`]
//! (or makes one) and calls [`server::start`], register it with [`crate::register_simulator!`]
//! in its own module. The system owns its state behind a `Mutex` (never held across an await),
//! reads time only from `kit.clock`, answers unknown routes itself, and returns a route template
//! from [`SimSystem::route_of`] so faults and call counts can name routes without tenant prefixes.
//!
//! A test starts a system with its builder (`DeltekSim::builder().clock(SimClock::manual_default())
//! .start().await?`), seeds it in process (`handle.system().seed_scenario(..)`) or over HTTP
//! (`POST /__sim/seed`), injects faults (`handle.faults().add(FaultRule::new(..))`), moves time
//! (`handle.clock().advance(..)`) and asserts on `handle.calls().count(method, route)`.

pub mod calls;
pub mod clock;
pub mod conn;
pub mod control;
pub mod faults;
pub mod json;
pub mod rng;
pub mod server;
pub mod template;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use serde_json::Value;
use tokio::sync::watch;

pub use calls::{CallLog, CallRecord};
pub use clock::{ClockMode, SimClock};
pub use conn::ConnKill;
pub use faults::{AfterHold, Fault, FaultRule, FaultTable};
pub use server::{SimHandle, start};
pub use webhook::{WebhookLog, WebhookTarget};

/// A boxed future, for the object-safe async methods of [`SimSystem`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Errors of the kit and of control-API calls.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// `run_standalone`/`start` was given a system name it does not know.
    #[error("unknown simulator system '{0}' (known: {known})", known = crate::systems().join(", "))]
    UnknownSystem(String),
    /// Binding or serving failed.
    #[error("simulator I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A scenario, switch set or action argument could not be understood.
    #[error("{system} simulator: bad request: {message}")]
    BadRequest {
        /// System name.
        system: &'static str,
        /// What was wrong.
        message: String,
    },
    /// A control action the system does not have.
    #[error("{system} simulator has no action '{action}'")]
    UnknownAction {
        /// System name.
        system: &'static str,
        /// The action asked for.
        action: String,
    },
}

impl SimError {
    /// Shorthand for [`SimError::BadRequest`].
    pub fn bad(system: &'static str, message: impl Into<String>) -> Self {
        SimError::BadRequest { system, message: message.into() }
    }
}

/// How ml-connector connects to a simulator: settings and credentials, kept apart.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimConnection {
    pub system: String,
    pub base_url: String,
    /// The connector's settings beyond `base_url` (`database` for Deltek).
    pub settings: serde_json::Map<String, Value>,
    /// The credential fields (`mlc credentials set` takes exactly these).
    pub credentials: serde_json::Map<String, Value>,
}

/// What `/__sim/reset` resets a system to.
#[derive(Debug, Clone)]
pub enum ResetTo {
    /// The scenario the simulator was started with.
    Initial,
    /// No data at all (users and credentials stay).
    Empty,
    /// The built-in demo scenario.
    Demo,
    /// This scenario (the system's JSON scenario format), on an empty state.
    Scenario(Value),
}

/// One vendor system's simulator. Object-safe, so the kit and `mlc demo` can hold any of them.
pub trait SimSystem: Send + Sync + 'static {
    /// Short name: `"deltek"`, `"cin7"`, ...
    fn name(&self) -> &'static str;

    /// Path the client's base URL points at, e.g. `/Demo/api` (no trailing slash; `""` for the
    /// server root).
    fn base_path(&self) -> String;

    /// The credentials a client needs, as the system's connector config expects them.
    fn credentials(&self, base_url: &str) -> Value;

    /// A connection to this simulator, split the way ml-connector configures one: the connector's
    /// settings (beyond the base URL) and its credential fields. The default takes every field of
    /// [`SimSystem::credentials`] but `base_url` as a credential; a system whose JSON also holds
    /// settings (Deltek's `database`) or simulator-only facts overrides it.
    fn connection(&self, base_url: &str) -> SimConnection {
        let mut credentials = serde_json::Map::new();
        if let Value::Object(m) = self.credentials(base_url) {
            for (k, v) in m {
                if k != "base_url" {
                    credentials.insert(k, v);
                }
            }
        }
        SimConnection {
            system: self.name().to_string(),
            base_url: base_url.to_string(),
            settings: serde_json::Map::new(),
            credentials,
        }
    }

    /// The vendor API. Receives every request outside `/__sim`.
    fn router(self: Arc<Self>) -> Router;

    /// The route template a request maps to (`/firm/{ClientID}`), for call counts and fault
    /// matching; `None` for unknown routes.
    fn route_of(&self, method: &Method, path: &str) -> Option<String>;

    /// Merge a JSON scenario into the state.
    fn seed(&self, scenario: &Value) -> Result<(), SimError>;

    /// The whole state, for inspection.
    fn snapshot(&self) -> Value;

    /// Reset the state.
    fn reset(&self, to: ResetTo) -> Result<(), SimError>;

    /// Replace the whole state with a [`SimSystem::snapshot`] taken earlier, so a simulated system
    /// can persist between runs (`mlc demo` keeps its simulators' state in its data directory).
    /// Default: not supported.
    fn restore(&self, snapshot: &Value) -> Result<(), SimError> {
        let _ = snapshot;
        Err(SimError::bad(self.name(), "this simulator cannot restore a snapshot"))
    }

    /// The behaviour switches and their current values.
    fn switches(&self) -> Value;

    /// Change some switches (a partial object); returns the full set.
    fn set_switches(&self, patch: &Value) -> Result<Value, SimError>;

    /// A system-specific control action (`revoke_tokens`, `fire_workflow_webhook`, ...).
    fn action(self: Arc<Self>, name: String, args: Value) -> BoxFuture<'static, Result<Value, SimError>>;

    /// The names of the actions [`SimSystem::action`] understands, for `/__sim`.
    fn actions(&self) -> Vec<&'static str> {
        Vec::new()
    }

    /// Body of an injected error status: `(content type, body)`.
    fn fault_body(&self, status: u16) -> (String, String) {
        let reason =
            axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
        ("text/plain; charset=utf-8".into(), reason.into())
    }
}

/// A one-shot broadcast "stop now" signal.
#[derive(Debug, Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown(Arc::new(watch::channel(false).0))
    }
}

impl Shutdown {
    /// Signal every waiter.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }

    /// Whether it was signalled.
    pub fn is_triggered(&self) -> bool {
        *self.0.borrow()
    }

    /// Wait until signalled.
    pub async fn wait(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|v| *v).await;
    }
}

/// The shared pieces of one running simulator; clones share everything.
#[derive(Debug, Clone)]
pub struct SimKit {
    /// The simulated clock.
    pub clock: SimClock,
    /// Fault rules.
    pub faults: FaultTable,
    /// Request log.
    pub calls: CallLog,
    /// Outbound webhook deliveries.
    pub webhooks: WebhookLog,
    /// Stops the server and anything waiting on it (held responses, webhook retries).
    pub shutdown: Shutdown,
}

impl SimKit {
    /// A kit around the given clock.
    pub fn new(clock: SimClock) -> Self {
        SimKit {
            clock,
            faults: FaultTable::default(),
            calls: CallLog::default(),
            webhooks: WebhookLog::default(),
            shutdown: Shutdown::default(),
        }
    }
}

impl Default for SimKit {
    fn default() -> Self {
        Self::new(SimClock::real())
    }
}
