//! Systems and connections: how a connector registers itself, and what a live connection offers.
//!
//! A customer may hold two Deltek databases or two Cin7 accounts, so the unit ml-connector works
//! with is the **connection** (a name from the configuration), not the system. Each connection is
//! built from its settings ([`ConnectionSpec`]) and its credentials by the builder its system
//! registered.
//!
//! **One registration per system.** A connector crate declares everything the platform needs to
//! know about its system in one [`SystemEntry`], in its own folder, with [`register_system!`]:
//! the settings check, the credential fields `mlc credentials set` prompts for, the connection
//! builder (which brings ping, the webhook source and API counters). Nothing central lists the
//! systems: the runtime, `mlc credentials`, `mlc ping`, `mlc config` and the demo find them
//! through [`systems`]. (The registrations are gathered at link time by `linkme`; a connector crate
//! is linked when a flow file uses it.)
//!
//! ```text
//! mlc_core::register_system!(ACUMATICA, SystemEntry {
//!     name: "acumatica",
//!     title: "Acumatica",
//!     aliases: &[],
//!     credential_fields: &[CredentialField::secret("password", "API user's password"), ...],
//!     check: |spec| AcumaticaSettings::from_spec(spec).map(|_| ()).map_err(|e| e.to_string()),
//!     build: |spec, creds| Ok(Arc::new(AcumaticaConnection::new(spec, creds)?)),
//! });
//! ```

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::engine::intake::WebhookSource;
use crate::ping::PingCheck;
use crate::secret::Credentials;

#[doc(hidden)]
pub use linkme;

/// One configured connection's settings, as a connector receives them: the connection's name,
/// its system, the base URL, and the system-specific options (everything else in its
/// `[connections.<name>]` table). Credentials are never here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSpec {
    /// The connection's name in the configuration (`deltek`, `deltek-east`, `cin7-au` ...).
    pub name: String,
    /// The system it connects to (`deltek`, `cin7`, `acumatica`, `procore`, `coupa`, `cleo`).
    pub system: String,
    pub base_url: String,
    /// System-specific settings; a connector reads them with `deny_unknown_fields`.
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
}

impl ConnectionSpec {
    pub fn new(name: &str, system: &str, base_url: &str) -> Self {
        ConnectionSpec {
            name: name.to_string(),
            system: system.to_string(),
            base_url: base_url.to_string(),
            options: BTreeMap::new(),
        }
    }

    pub fn with_option(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.options.insert(key.to_string(), value.into());
        self
    }

    /// The options as one JSON object (base URL included as `base_url`), for a connector's
    /// `#[serde(deny_unknown_fields)]` settings struct.
    pub fn options_json(&self) -> serde_json::Value {
        let mut m: serde_json::Map<String, serde_json::Value> =
            self.options.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        m.insert("base_url".into(), serde_json::Value::String(self.base_url.clone()));
        serde_json::Value::Object(m)
    }
}

/// One credential field a system's connector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CredentialField {
    pub name: &'static str,
    /// Whether the connection cannot be built without it.
    pub required: bool,
    /// Typed at a hidden prompt (passwords, keys) rather than an echoing one (user names, ids).
    pub secret: bool,
    /// One line for the person typing it: where to find the value.
    pub help: &'static str,
}

impl CredentialField {
    pub const fn secret(name: &'static str, help: &'static str) -> Self {
        CredentialField { name, required: true, secret: true, help }
    }
    pub const fn plain(name: &'static str, help: &'static str) -> Self {
        CredentialField { name, required: true, secret: false, help }
    }
    pub const fn optional(self) -> Self {
        CredentialField { required: false, ..self }
    }
}

/// API call counters of one connection (for reports: "API calls per system").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCounters {
    pub calls: u64,
    pub retries: u64,
    pub throttled: u64,
    pub auth_refreshes: u64,
}

/// Why a connection (or a flow on it) could not be built, in one line naming the setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BuildError(pub String);

/// A live connection to one system, built from its settings and credentials.
#[async_trait]
pub trait Connection: Send + Sync + 'static {
    /// The system (`deltek`).
    fn system(&self) -> &str;
    /// Check credentials, rights and reachability: one line per check, with the fix.
    async fn ping(&self) -> Vec<PingCheck>;
    /// How this connection's webhooks are verified and read, when the system sends any.
    fn webhook_source(&self) -> Option<Arc<dyn WebhookSource>> {
        None
    }
    fn counters(&self) -> ApiCounters {
        ApiCounters::default()
    }
    /// For source/target builders to reach the concrete client.
    fn as_any(&self) -> &dyn Any;
}

/// Builds a connection of one system from its settings and credentials.
pub type ConnectionBuilder = fn(&ConnectionSpec, Credentials) -> Result<Arc<dyn Connection>, BuildError>;

/// Everything the platform knows about one system, declared once in its connector's folder.
#[derive(Debug)]
pub struct SystemEntry {
    /// `deltek`, `cin7` ... (what `system = "..."` in the configuration names).
    pub name: &'static str,
    /// Other names accepted for it (`vantagepoint`).
    pub aliases: &'static [&'static str],
    /// `Deltek Vantagepoint`.
    pub title: &'static str,
    /// The fields `mlc credentials set <connection>` prompts for, in prompt order. Fields not
    /// listed are refused, so a typo cannot be stored.
    pub credential_fields: &'static [CredentialField],
    /// Check a connection's settings without credentials (used by `mlc config` and at start-up),
    /// naming the bad key and the expected values in one line.
    pub check: fn(&ConnectionSpec) -> Result<(), String>,
    pub build: ConnectionBuilder,
}

impl SystemEntry {
    pub fn field(&self, name: &str) -> Option<&'static CredentialField> {
        self.credential_fields.iter().find(|f| f.name == name)
    }

    pub fn matches(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// Every registered system. Filled at link time by [`register_system!`].
#[linkme::distributed_slice]
pub static SYSTEMS: [SystemEntry];

/// The registered systems, by name.
pub fn systems() -> Vec<&'static SystemEntry> {
    let mut v: Vec<&'static SystemEntry> = SYSTEMS.iter().collect();
    v.sort_by_key(|s| s.name);
    v
}

/// The system registered under `name` (or one of its aliases).
pub fn system(name: &str) -> Option<&'static SystemEntry> {
    SYSTEMS.iter().find(|s| s.matches(name))
}

/// Names of the registered systems, sorted, for error messages.
pub fn system_names() -> Vec<&'static str> {
    systems().into_iter().map(|s| s.name).collect()
}

/// Register a connector's [`SystemEntry`] (in the connector's own crate):
/// `mlc_core::register_system!(DELTEK, SystemEntry { ... });`
#[macro_export]
macro_rules! register_system {
    ($ident:ident, $entry:expr) => {
        #[$crate::connect::linkme::distributed_slice($crate::connect::SYSTEMS)]
        #[linkme(crate = $crate::connect::linkme)]
        static $ident: $crate::connect::SystemEntry = $entry;
    };
}

/// Connections by name, for the builders of sources and targets.
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

    /// The concrete connection type behind a name, or an error naming what was expected.
    pub fn client<T: 'static>(&self, name: &str, expected_system: &str) -> Result<&T, BuildError> {
        let c = self.by_name.get(name).ok_or_else(|| {
            BuildError(format!("connection {name:?} is not available (not defined, or its credentials are missing)"))
        })?;
        c.as_any().downcast_ref::<T>().ok_or_else(|| {
            BuildError(format!("connection {name:?} is a {} connection; this needs {expected_system}", c.system()))
        })
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<dyn Connection>)> {
        self.by_name.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Toy;

    #[async_trait]
    impl Connection for Toy {
        fn system(&self) -> &str {
            "toy"
        }
        async fn ping(&self) -> Vec<PingCheck> {
            vec![PingCheck::pass("reachable", "toy answers")]
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    crate::register_system!(
        TOY,
        SystemEntry {
            name: "toy",
            aliases: &["toy-system"],
            title: "Toy system (core's own test)",
            credential_fields: &[CredentialField::secret("api_key", "the toy key")],
            check: |spec| if spec.base_url.starts_with("http") {
                Ok(())
            } else {
                Err("base_url must be http(s)".into())
            },
            build: |_spec, _creds| Ok(Arc::new(Toy)),
        }
    );

    #[tokio::test]
    async fn a_system_registered_in_its_own_file_is_found_by_name_and_alias() {
        let s = system("TOY-SYSTEM").expect("registered");
        assert_eq!(s.name, "toy");
        assert!(system_names().contains(&"toy"));
        assert!((s.check)(&ConnectionSpec::new("t", "toy", "ftp://x")).is_err());
        let c = (s.build)(&ConnectionSpec::new("t", "toy", "http://x"), Credentials::new()).unwrap();
        assert!(c.ping().await[0].ok);
        let mut conns = Connections::default();
        conns.insert("t", c);
        assert!(conns.client::<Toy>("t", "toy").is_ok());
        assert!(conns.client::<String>("t", "other").unwrap_err().0.contains("toy connection"));
    }
}
