//! The configuration and the timing facts a Lambda function reads from its environment (what the
//! SAM template sets), checked the same way `mlc config` checks them before a deploy.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `MLC_CONFIG_JSON` | the configuration (connections, flows, engine) as JSON: the stack's `ConnectorConfig` | — |
//! | `MLC_CONFIG_FILE` | or a TOML file packaged with the function | — |
//! | `MLC_FUNCTION_TIMEOUT_SECS` | this function's timeout (the template passes its own `Timeout`) | none |
//! | `MLC_QUEUE_VISIBILITY_SECS` | the work queue's visibility timeout | none |
//! | `MLC_MAX_RECEIVES` | receives before SQS dead-letters a work message | none |
//!
//! Neither configuration variable set: an empty configuration (no connections, no flows). The
//! timing rule ([`mlc_core::engine::timing`]) is checked with whatever timing facts are set; an
//! unsafe combination is refused with one line saying which value to change.
//!
//! A function builds its runtime once per container and keeps it in a [`Reloadable`]: rebuilt
//! (every secret read again, at most once per [`SECRET_REREAD_INTERVAL`]) when a credential is
//! rejected or a flow is unavailable because its connection had no secret yet. A connection whose
//! secret is missing or rejected stops only its own flows; [`log_unavailable`] says which and why.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mlc_core::budget::RateBudget;
use mlc_core::engine::timing::{CLOCK_SKEW, Timing};

use crate::config::{Config, ConfigError};
use crate::runtime::{HomeLimits, Runtime, SECRET_REREAD_INTERVAL};
use mlc_core::connect::BuildError;

/// The HTTP timeout assumed for a connection whose settings do not name one (`timeout_secs`): the
/// kit's default. A connector with a longer default of its own (Acumatica and Cleo wait 60 s)
/// should be given `timeout_secs` explicitly so the timing rule is checked with it; the system
/// registration does not declare its default yet.
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The configuration text the template hands over: `MLC_CONFIG_JSON`, else `MLC_CONFIG_FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigText {
    /// Names the text in error messages (`MLC_CONFIG_JSON`, or the file path).
    pub origin: String,
    pub text: String,
    /// JSON (from `MLC_CONFIG_JSON`) or TOML (a file).
    pub json: bool,
}

impl ConfigText {
    /// From the process environment; `None` when neither variable is set.
    pub fn from_env() -> Result<Option<Self>, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        if let Some(text) = get("MLC_CONFIG_JSON").filter(|t| !t.trim().is_empty()) {
            return Ok(Some(ConfigText { origin: "MLC_CONFIG_JSON".into(), text, json: true }));
        }
        match get("MLC_CONFIG_FILE") {
            Some(path) if !path.trim().is_empty() => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError(format!("MLC_CONFIG_FILE {path}: cannot read: {e}")))?;
                Ok(Some(ConfigText { origin: path, text, json: false }))
            }
            _ => Ok(None),
        }
    }

    /// Parse and check it.
    pub fn parse(&self) -> Result<Config, ConfigError> {
        if self.json {
            let c: Config = serde_json::from_str(&self.text).map_err(|e| {
                ConfigError(format!("{}: not the JSON form of mlc.toml (`mlc config` prints it): {e}", self.origin))
            })?;
            c.check(&self.origin)?;
            Ok(c)
        } else {
            Config::parse(&self.text, &self.origin)
        }
    }
}

/// The configuration every function runs with (see the module docs).
pub fn load_config() -> Result<Config, ConfigError> {
    match ConfigText::from_env()? {
        None => Ok(Config::default()),
        Some(t) => t.parse(),
    }
}

/// The longest HTTP timeout of the configured connections: each one's `timeout_secs` setting, or
/// `engine.http_timeout_secs` ([`DEFAULT_HTTP_TIMEOUT`] unless set) where it has none.
pub fn http_timeout(config: &Config) -> Duration {
    let default = Duration::from_secs(config.engine.http_timeout_secs);
    config
        .connections
        .values()
        .map(|c| match c.options.get("timeout_secs").and_then(serde_json::Value::as_f64) {
            Some(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s),
            _ => default,
        })
        .max()
        .unwrap_or(default)
}

/// What a deployment says about time: the function's timeout and the queue's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackTiming {
    pub function_timeout: Option<Duration>,
    pub visibility_timeout: Option<Duration>,
    pub max_receives: Option<u32>,
}

impl StackTiming {
    /// From the process environment (see the module docs).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let num = |k: &str| -> Result<Option<u64>, ConfigError> {
            match get(k).filter(|v| !v.trim().is_empty()) {
                None => Ok(None),
                Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                    ConfigError(format!("{k} must be a whole number (the SAM template sets it), got {v:?}"))
                }),
            }
        };
        Ok(StackTiming {
            function_timeout: num("MLC_FUNCTION_TIMEOUT_SECS")?.map(Duration::from_secs),
            visibility_timeout: num("MLC_QUEUE_VISIBILITY_SECS")?.map(Duration::from_secs),
            max_receives: num("MLC_MAX_RECEIVES")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
        })
    }

    /// The timing facts for the rule, with this configuration's HTTP timeout.
    pub fn timing(&self, config: &Config) -> Timing {
        Timing {
            http_timeout: http_timeout(config),
            function_timeout: self.function_timeout,
            visibility_timeout: self.visibility_timeout,
            max_receives: self.max_receives,
            settle_margin: Duration::from_millis(config.engine.settle_margin_ms),
            // Functions run on many machines: a claim must outlast the work by the skew between them.
            clock_skew: CLOCK_SKEW,
        }
    }

    /// Check the timing rule for `config` in this deployment; the error is one line naming the
    /// value to change.
    pub fn check(&self, config: &Config, origin: &str) -> Result<(), ConfigError> {
        config
            .engine
            .engine_config()
            .check_timing(&self.timing(config))
            .map_err(|e| ConfigError(format!("{origin}: {e}")))
    }
}

/// How long before its timeout a function stops starting calls (answer, settle, log).
pub const FUNCTION_MARGIN: Duration = Duration::from_secs(5);

impl StackTiming {
    /// The longest a call may wait in process in this function (a budget slot, a server's
    /// `Retry-After`, backoff): what is left of the function's time after the longest HTTP call
    /// and a margin, at least a second. `None` where the function has no timeout (the local home).
    /// Longer waits park the work item (see [`mlc_http::HomeLimits`]).
    pub fn max_wait(&self, config: &Config) -> Option<Duration> {
        let f = self.function_timeout?;
        Some(f.saturating_sub(http_timeout(config) + FUNCTION_MARGIN).max(Duration::from_secs(1)))
    }

    /// The home limits a function builds its runtime with: the shared budget store, the wait cap.
    pub fn home(&self, config: &Config, budget: Arc<dyn RateBudget>) -> HomeLimits {
        HomeLimits { budget_store: Some(budget), max_wait: self.max_wait(config) }
    }
}

/// Builds a function's runtime (reading every connection's secret).
pub type Builder = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Runtime, BuildError>> + Send>> + Send + Sync>;

/// A function's runtime, rebuilt (every secret read again) when it may be stale: a credential
/// was rejected, or a flow is unavailable because its connection had no secret when the container
/// started. At most once per [`SECRET_REREAD_INTERVAL`], so a flood of failures cannot turn into
/// a flood of Secrets Manager reads.
pub struct Reloadable {
    current: tokio::sync::RwLock<Arc<Runtime>>,
    build: Option<Builder>,
    last: Mutex<Instant>,
    interval: Duration,
    /// Which function this is, for log lines.
    function: &'static str,
}

impl Reloadable {
    /// Build the first runtime and log what is unavailable.
    pub async fn start(function: &'static str, build: Builder) -> Result<Reloadable, BuildError> {
        let rt = build().await?;
        log_unavailable(function, &rt);
        Ok(Reloadable {
            current: tokio::sync::RwLock::new(Arc::new(rt)),
            build: Some(build),
            last: Mutex::new(Instant::now()),
            interval: SECRET_REREAD_INTERVAL,
            function,
        })
    }

    /// A runtime that is never rebuilt (tests, tools).
    pub fn fixed(function: &'static str, rt: Runtime) -> Reloadable {
        Reloadable {
            current: tokio::sync::RwLock::new(Arc::new(rt)),
            build: None,
            last: Mutex::new(Instant::now()),
            interval: SECRET_REREAD_INTERVAL,
            function,
        }
    }

    /// Rebuild at most once per `interval` (tests shorten it).
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    pub async fn current(&self) -> Arc<Runtime> {
        self.current.read().await.clone()
    }

    /// Rebuild now unless a rebuild happened within the interval; `Some` (the new runtime) when it
    /// rebuilt. A failed build keeps the current runtime.
    pub async fn rebuild(&self, why: &str) -> Option<Arc<Runtime>> {
        let build = self.build.as_ref()?;
        {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < self.interval {
                return None;
            }
            *last = Instant::now();
        }
        match build().await {
            Ok(rt) => {
                tracing::warn!(function = self.function, why, "runtime rebuilt with every secret read again");
                log_unavailable(self.function, &rt);
                let rt = Arc::new(rt);
                *self.current.write().await = rt.clone();
                Some(rt)
            }
            Err(e) => {
                tracing::error!(function = self.function, why, error = %e, "the runtime could not be rebuilt; keeping the current one");
                None
            }
        }
    }
}

/// One error line per flow that cannot run, naming the connection and the fix; the others run.
pub fn log_unavailable(function: &str, rt: &Runtime) {
    for u in &rt.unavailable {
        tracing::error!(
            function,
            flow = %u.flow,
            connection = u.connection.as_deref().unwrap_or(""),
            reason = %u.reason,
            "flow unavailable (its connection cannot be built); every other flow runs. Set the connection's \
             secret with `mlc credentials set <connection> --backend aws`: it is read again within a minute"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn config_from_json_or_nothing_and_errors_name_the_origin() {
        assert_eq!(ConfigText::from_lookup(lookup(&[])).unwrap(), None);
        let t =
            ConfigText::from_lookup(lookup(&[("MLC_CONFIG_JSON", "{\"engine\":{\"workers\":3}}")])).unwrap().unwrap();
        assert_eq!(t.parse().unwrap().engine.workers, 3);
        let bad = ConfigText::from_lookup(lookup(&[("MLC_CONFIG_JSON", "{\"enigne\":{}}")])).unwrap().unwrap();
        let e = bad.parse().unwrap_err().to_string();
        assert!(e.starts_with("MLC_CONFIG_JSON:") && e.contains("enigne"), "{e}");
        let e = ConfigText::from_lookup(lookup(&[("MLC_CONFIG_FILE", "/nonexistent/mlc.toml")])).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/mlc.toml"), "{e}");
    }

    #[test]
    fn timing_from_the_environment_is_checked_in_one_line() {
        let e = StackTiming::from_lookup(lookup(&[("MLC_MAX_RECEIVES", "five")])).unwrap_err().to_string();
        assert!(e.contains("MLC_MAX_RECEIVES") && e.contains("five"), "{e}");
        // Today's template before this change: poster 30 s, visibility 180 s, 5 receives.
        let old = StackTiming::from_lookup(lookup(&[
            ("MLC_FUNCTION_TIMEOUT_SECS", "30"),
            ("MLC_QUEUE_VISIBILITY_SECS", "180"),
            ("MLC_MAX_RECEIVES", "5"),
        ]))
        .unwrap();
        let e = old.check(&Config::default(), "poster").unwrap_err().to_string();
        assert!(
            e.starts_with("poster: the HTTP timeout (30 s) must be shorter than the function timeout (30 s)"),
            "{e}"
        );
        assert!(!e.contains('\n'));
        // The template's defaults pass with the engine's defaults.
        let new = StackTiming {
            function_timeout: Some(Duration::from_secs(120)),
            visibility_timeout: Some(Duration::from_secs(360)),
            max_receives: Some(10),
        };
        new.check(&Config::default(), "poster").unwrap();
    }

    #[test]
    fn the_longest_connection_timeout_counts() {
        let mut c = Config::default();
        assert_eq!(http_timeout(&c), DEFAULT_HTTP_TIMEOUT);
        let conn = |t: Option<u64>| crate::config::ConnectionSettings {
            system: "deltek".into(),
            base_url: "http://x".into(),
            credentials: None,
            options: t.map(|t| ("timeout_secs".to_string(), serde_json::json!(t))).into_iter().collect(),
        };
        c.connections.insert("a".into(), conn(Some(20)));
        assert_eq!(http_timeout(&c), Duration::from_secs(20));
        c.connections.insert("b".into(), conn(Some(45)));
        assert_eq!(http_timeout(&c), Duration::from_secs(45));
        c.connections.insert("c".into(), conn(None));
        assert_eq!(http_timeout(&c), Duration::from_secs(45), "an unnamed timeout counts as the kit's 30 s");
        c.connections.insert("d".into(), conn(Some(90)));
        assert_eq!(http_timeout(&c), Duration::from_secs(90));
    }
}
