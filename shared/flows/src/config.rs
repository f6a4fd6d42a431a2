//! Configuration: connections, flows and engine settings.
//!
//! The same model is read from a TOML file by `mlc` and from the environment/JSON by the Lambda
//! functions. Credentials never appear here: a connection names a secret-store entry (its own
//! name by default) and the values live encrypted (local file or Secrets Manager).
//!
//! ```toml
//! [connections.deltek]
//! system = "deltek"
//! base_url = "https://acme.deltekfirst.com/Acme/api"
//! database = "C000001234P_1_ACME"        # system-specific options sit beside the common keys
//!
//! [flows.cin7-deltek-ap]
//! source = "cin7"
//! target = "deltek"
//! every = "15m"
//! options = { project_source = "location" }
//! ```
//!
//! Errors are one line: the file, the line and column, and what was wrong, e.g.
//! `mlc.toml line 7, column 1: unknown field `evry`, expected one of ...`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::schedule::Cadence;

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the embedded store, queue and encrypted credentials live (local home only).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    #[serde(default)]
    pub engine: EngineSettings,
    #[serde(default)]
    pub server: ServerSettings,
    #[serde(default)]
    pub connections: BTreeMap<String, ConnectionSettings>,
    #[serde(default)]
    pub flows: BTreeMap<String, FlowSettings>,
}

/// Engine tunables; every field optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSettings {
    /// Claim lock, seconds.
    pub lock_ttl_secs: u64,
    pub max_attempts: u32,
    /// Seconds to wait after a lost create answer before trusting a negative lookup.
    pub in_doubt_settle_secs: u64,
    /// Concurrent deliveries the local worker handles.
    pub workers: usize,
    /// First retry delay after a retryable failure, milliseconds (full jitter, doubling).
    pub retry_base_ms: u64,
    /// Longest retry delay, seconds.
    pub retry_cap_secs: u64,
    /// How soon to look again at an item another worker holds, milliseconds.
    pub busy_retry_ms: u64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        let d = mlc_core::EngineConfig::default();
        EngineSettings {
            lock_ttl_secs: d.lock_ttl.as_secs(),
            max_attempts: d.max_attempts,
            in_doubt_settle_secs: d.in_doubt_settle.as_secs(),
            workers: 4,
            retry_base_ms: d.retry_base.as_millis() as u64,
            retry_cap_secs: d.retry_cap.as_secs(),
            busy_retry_ms: d.busy_retry.as_millis() as u64,
        }
    }
}

impl EngineSettings {
    pub fn engine_config(&self) -> mlc_core::EngineConfig {
        mlc_core::EngineConfig {
            lock_ttl: Duration::from_secs(self.lock_ttl_secs.max(5)),
            max_attempts: self.max_attempts.max(1),
            in_doubt_settle: Duration::from_secs(self.in_doubt_settle_secs),
            retry_base: Duration::from_millis(self.retry_base_ms.max(1)),
            retry_cap: Duration::from_secs(self.retry_cap_secs.max(1)),
            busy_retry: Duration::from_millis(self.busy_retry_ms.max(100)),
            ..Default::default()
        }
    }
}

/// The local webhook listener (`mlc serve`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub listen: String,
    pub max_body_bytes: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings { listen: "127.0.0.1:8080".into(), max_body_bytes: 1024 * 1024 }
    }
}

/// One connection to one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionSettings {
    /// `deltek`, `cin7`, `acumatica`, `procore`, `coupa`, `cleo`.
    pub system: String,
    pub base_url: String,
    /// Secret-store entry holding this connection's credentials (defaults to the connection name).
    #[serde(default)]
    pub credentials: Option<String>,
    /// Everything else: system-specific settings, read by the connector.
    #[serde(flatten)]
    pub options: BTreeMap<String, serde_json::Value>,
}

/// One flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSettings {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Connection names.
    pub source: String,
    pub target: String,
    /// Poll cadence: `30s`, `5m`, `1h`, `1d`.
    #[serde(default = "default_every")]
    pub every: Cadence,
    /// Flow-specific options (see each flow's docs).
    #[serde(default)]
    pub options: BTreeMap<String, serde_json::Value>,
}

fn yes() -> bool {
    true
}

fn default_every() -> Cadence {
    Cadence(Duration::from_secs(15 * 60))
}

/// A configuration that cannot be used, in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Read and check a TOML file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read config {}: {e}", path.display())))?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parse and check TOML text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(span) => {
                    let (line, col) = line_col(text, span.start);
                    ConfigError(format!("{origin} line {line}, column {col}: {msg}"))
                }
                None => ConfigError(format!("{origin}: {msg}")),
            }
        })?;
        cfg.check(origin)?;
        Ok(cfg)
    }

    /// Cross-field checks: flows name connections that exist.
    pub fn check(&self, origin: &str) -> Result<(), ConfigError> {
        for (name, f) in &self.flows {
            for (role, conn) in [("source", &f.source), ("target", &f.target)] {
                if !self.connections.contains_key(conn) {
                    let known: Vec<&str> = self.connections.keys().map(String::as_str).collect();
                    return Err(ConfigError(format!(
                        "{origin}: flows.{name}.{role} names connection {conn:?}, which is not defined (defined: {})",
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    )));
                }
            }
        }
        for (name, c) in &self.connections {
            if c.base_url.trim().is_empty() {
                return Err(ConfigError(format!("{origin}: connections.{name}.base_url is empty")));
            }
        }
        Ok(())
    }

    /// The secret-store entry of a connection.
    pub fn credentials_name<'a>(&'a self, connection: &'a str) -> &'a str {
        self.connections.get(connection).and_then(|c| c.credentials.as_deref()).unwrap_or(connection)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
data_dir = "/tmp/mlc"
[engine]
workers = 2

[connections.deltek]
system = "deltek"
base_url = "http://127.0.0.1:9001/Acme/api"
database = "ACME_DB"

[connections.cin7]
system = "cin7"
base_url = "http://127.0.0.1:9002/ExternalApi/v2/"

[flows.cin7-deltek-ap]
source = "cin7"
target = "deltek"
every = "5m"
options = { project_source = "location" }
"#;

    #[test]
    fn parses_a_full_config() {
        let c = Config::parse(GOOD, "mlc.toml").unwrap();
        assert_eq!(c.engine.workers, 2);
        assert_eq!(c.connections["deltek"].options["database"], "ACME_DB");
        assert_eq!(c.flows["cin7-deltek-ap"].every.0, Duration::from_secs(300));
        assert!(c.flows["cin7-deltek-ap"].enabled);
        assert_eq!(c.credentials_name("deltek"), "deltek");
    }

    #[test]
    fn unknown_field_names_file_line_and_field_in_one_line() {
        let bad = GOOD.replace("every = \"5m\"", "evry = \"5m\"");
        let e = Config::parse(&bad, "mlc.toml").unwrap_err().to_string();
        assert!(e.starts_with("mlc.toml line 18, column 1"), "{e}");
        assert!(e.contains("evry"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn bad_cadence_and_missing_connection_are_clear() {
        let bad = GOOD.replace("every = \"5m\"", "every = \"often\"");
        let e = Config::parse(&bad, "mlc.toml").unwrap_err().to_string();
        assert!(e.contains("line 18") && e.contains("often"), "{e}");
        let bad = GOOD.replace("source = \"cin7\"", "source = \"cin8\"");
        let e = Config::parse(&bad, "mlc.toml").unwrap_err().to_string();
        assert!(e.contains("flows.cin7-deltek-ap.source") && e.contains("cin8") && e.contains("cin7, deltek"), "{e}");
    }

    #[test]
    fn missing_file_is_named() {
        let e = Config::load(Path::new("/nonexistent/mlc.toml")).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/mlc.toml"), "{e}");
    }
}
