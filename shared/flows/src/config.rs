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
//!
//! [flows.cin7-deltek-ap-west]              # a second instance of the same kind, on other connections
//! kind = "cin7-deltek-ap"
//! source = "cin7-west"
//! target = "deltek-west"
//! ```
//!
//! Connections are the identity: a flow names its source and target *connections*; a flow's
//! `kind` defaults to its name. Every level is checked at load, by every command: unknown keys,
//! unknown systems and flow kinds, a connection of the wrong system for a flow, each connector's
//! settings and each flow's options (types, allowed values, ranges). Errors are one line: the
//! file, the line, and what was wrong with the expected values, e.g.
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
    pub console: ConsoleSettings,
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
    /// The longest HTTP timeout of the connections, seconds (the connectors' default is 30). The
    /// timing rule is checked against it: see `mlc_core::engine::timing`.
    pub http_timeout_secs: u64,
    /// How long after the HTTP timeout a lost create could still land, milliseconds (5000 for
    /// real systems; the demo's simulators answer in milliseconds).
    pub settle_margin_ms: u64,
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
            http_timeout_secs: 30,
            settle_margin_ms: mlc_core::engine::timing::SETTLE_MARGIN.as_millis() as u64,
        }
    }
}

impl EngineSettings {
    /// The timing rule for the local home (no function timeout; the queue lease is the claim).
    pub fn check_local_timing(&self) -> Result<(), String> {
        let t = mlc_core::engine::timing::Timing {
            http_timeout: Duration::from_secs(self.http_timeout_secs),
            function_timeout: None,
            visibility_timeout: None,
            max_receives: None,
            settle_margin: Duration::from_millis(self.settle_margin_ms),
            // One process, one clock.
            clock_skew: Duration::ZERO,
        };
        self.engine_config().check_timing(&t)
    }

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

/// The operator console (`mlc console`, and its pages under `mlc serve`): how long a browser
/// session lasts. An idle session (no page opened for `idle_timeout`) and any session older than
/// `absolute_timeout` go back to the sign-in page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    pub idle_timeout: Cadence,
    pub absolute_timeout: Cadence,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            idle_timeout: Cadence(std::time::Duration::from_secs(8 * 3600)),
            absolute_timeout: Cadence(std::time::Duration::from_secs(24 * 3600)),
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

impl ConnectionSettings {
    /// The connector's view of this connection.
    pub fn spec(&self, name: &str) -> mlc_core::connect::ConnectionSpec {
        let system = mlc_core::connect::system(&self.system).map(|s| s.name).unwrap_or(&self.system);
        mlc_core::connect::ConnectionSpec {
            name: name.to_string(),
            system: system.to_string(),
            base_url: self.base_url.clone(),
            options: self
                .options
                .iter()
                .filter(|(k, _)| k.as_str() != "credentials")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
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
    /// The flow kind (`cin7-deltek-ap`); defaults to the flow's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The mapping scope its codes are translated in; defaults to the kind's (`cin7-deltek`).
    /// Flows into two different databases need two scopes (vendor numbers and accounts differ).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping_scope: Option<String>,
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

/// The one option every flow takes, besides its kind's own: documents dated before this day are
/// skipped (`before_date_floor`), so turning a flow on for an old account does not post last
/// year's bills. `options = { invoice_date_floor = "2026-01-01" }`.
pub const DATE_FLOOR_OPTION: &str = "invoice_date_floor";

/// A flow's options without the ones every flow takes (what its kind's own options struct reads).
pub fn kind_options(options: &BTreeMap<String, serde_json::Value>) -> BTreeMap<String, serde_json::Value> {
    options.iter().filter(|(k, _)| k.as_str() != DATE_FLOOR_OPTION).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The `invoice_date_floor` option, checked: a `YYYY-MM-DD` date (quoted, or a TOML date).
pub fn date_floor(options: &BTreeMap<String, serde_json::Value>) -> Result<Option<chrono::NaiveDate>, String> {
    let Some(v) = options.get(DATE_FLOOR_OPTION) else {
        return Ok(None);
    };
    // A bare TOML date (`2026-01-01`) reaches a JSON value as toml's private datetime wrapper.
    let text = match v {
        serde_json::Value::String(s) => Some(s.as_str()),
        serde_json::Value::Object(m) if m.len() == 1 => m.values().next().and_then(serde_json::Value::as_str),
        _ => None,
    };
    let bad = || {
        format!(
            "{DATE_FLOOR_OPTION} must be a date like \"2026-01-01\" (documents dated before it are skipped), got {v}"
        )
    };
    let text = text.ok_or_else(bad)?;
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map(Some).map_err(|_| bad())
}

impl FlowSettings {
    /// The flow's invoice-date floor (see [`DATE_FLOOR_OPTION`]).
    pub fn date_floor(&self) -> Result<Option<chrono::NaiveDate>, String> {
        date_floor(&self.options)
    }
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
        cfg.check_located(origin, Some(text))?;
        Ok(cfg)
    }

    /// Every check beyond TOML syntax, without line numbers (for configurations that come from
    /// JSON, e.g. the stack's `ConnectorConfig`).
    pub fn check(&self, origin: &str) -> Result<(), ConfigError> {
        self.check_located(origin, None)
    }

    /// Every check beyond TOML syntax; `text` is the TOML the configuration was read from, to
    /// name the line of what is wrong.
    fn check_located(&self, origin: &str, text: Option<&str>) -> Result<(), ConfigError> {
        let at = |table: &str, key: Option<&str>| -> String {
            match text.and_then(|t| locate(t, table, key)) {
                Some(line) => format!("{origin} line {line}"),
                None => origin.to_string(),
            }
        };
        self.engine.check_local_timing().map_err(|e| ConfigError(format!("{}: [engine] {e}", at("engine", None))))?;
        for (name, c) in &self.connections {
            let table = format!("connections.{name}");
            if c.base_url.trim().is_empty() {
                return Err(ConfigError(format!("{}: {table}.base_url is empty", at(&table, Some("base_url")))));
            }
            let Some(system) = mlc_core::connect::system(&c.system) else {
                return Err(ConfigError(format!(
                    "{}: {table}.system = {:?} is not a system ml-connector knows (expected one of: {})",
                    at(&table, Some("system")),
                    c.system,
                    mlc_core::connect::system_names().join(", ")
                )));
            };
            (system.check)(&c.spec(name)).map_err(|e| ConfigError(format!("{}: {table}: {e}", at(&table, None))))?;
        }
        for (name, f) in &self.flows {
            let table = format!("flows.{name}");
            let kind_name = f.kind.as_deref().unwrap_or(name);
            let Some(kind) = crate::catalog::kind(kind_name) else {
                let what = if f.kind.is_some() { format!("kind = {kind_name:?}") } else { format!("flow {name:?}") };
                return Err(ConfigError(format!(
                    "{}: {table}: {what} is not a flow kind ml-connector knows (expected one of: {}; name an instance with `kind = \"<kind>\"`)",
                    at(&table, f.kind.as_ref().map(|_| "kind")),
                    crate::catalog::kind_names().join(", ")
                )));
            };
            for (role, conn, want) in
                [("source", &f.source, kind.source_system), ("target", &f.target, kind.target_system)]
            {
                let Some(c) = self.connections.get(conn) else {
                    let known: Vec<&str> = self.connections.keys().map(String::as_str).collect();
                    return Err(ConfigError(format!(
                        "{}: {table}.{role} names connection {conn:?}, which is not defined (defined: {})",
                        at(&table, Some(role)),
                        if known.is_empty() { "none".to_string() } else { known.join(", ") }
                    )));
                };
                let system = mlc_core::connect::system(&c.system).map(|s| s.name).unwrap_or(&c.system);
                if system != want {
                    return Err(ConfigError(format!(
                        "{}: {table}.{role} is connection {conn:?}, a {system} connection; {kind_name} needs a {want}                          connection there",
                        at(&table, Some(role))
                    )));
                }
            }
            f.date_floor()
                .map_err(|e| ConfigError(format!("{}: {table}.options: {e}", at(&table, Some("options")))))?;
            (kind.check_options)(&kind_options(&f.options))
                .map_err(|e| ConfigError(format!("{}: {table}.options: {e}", at(&table, Some("options")))))?;
        }
        Ok(())
    }

    /// The flow kind a configured flow is an instance of.
    pub fn kind_of(&self, flow: &str) -> Option<&'static crate::catalog::FlowKind> {
        let f = self.flows.get(flow)?;
        crate::catalog::kind(f.kind.as_deref().unwrap_or(flow))
    }

    /// The secret-store entry of a connection.
    pub fn credentials_name<'a>(&'a self, connection: &'a str) -> &'a str {
        self.connections.get(connection).and_then(|c| c.credentials.as_deref()).unwrap_or(connection)
    }
}

/// The line of `key` inside the TOML table `table` (`flows.x`), or of the table's header when the
/// key is not there (or not asked for). Dotted tables and `[a."b"]` quoting are both found.
fn locate(text: &str, table: &str, key: Option<&str>) -> Option<usize> {
    let want: Vec<String> = table.split('.').map(str::to_string).collect();
    let mut header_line = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') && !t.starts_with("[[") {
            let inner = t.trim_start_matches('[').split(']').next().unwrap_or("");
            let parts: Vec<String> =
                inner.split('.').map(|p| p.trim().trim_matches('"').trim_matches('\'').to_string()).collect();
            if header_line.is_some() {
                break;
            }
            if parts == want {
                header_line = Some(i + 1);
            }
            continue;
        }
        if let (Some(_), Some(k)) = (header_line, key) {
            let lhs = t.split('=').next().unwrap_or("").trim().trim_matches('"');
            if lhs == k {
                return Some(i + 1);
            }
        }
    }
    header_line
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
