//! Connection settings (`[connections.<name>]`, system `procore`), read with
//! `deny_unknown_fields` so a typo is refused in one line naming the key.
//!
//! ```toml
//! [connections.procore]
//! system = "procore"
//! base_url = "https://api.procore.com"       # API root of the environment
//! # login_url = "https://login.procore.com"  # default: derived from base_url (see below)
//! company_id = 4264807                       # the company the app is installed in
//! # projects = [2783400100, 2783400101]      # default: every active project the app may see
//! # requisitions_api = "v1.1"                # "v1.1" (vendor_id, items) or "v1.0" (vendor_name, /detail)
//! # page_size = 100                          # per_page of list reads, 1..=1000
//! # spike_limit = 25                         # calls per spike window, kept by pacing (0 = Procore's headers only)
//! # spike_window_secs = 10
//! # max_wait_secs = 60                       # longer waits go back to the engine (parked item)
//! # timeout_secs = 30
//! # token_refresh_secs = 300                 # fetch a new token this long before expiry
//! # webhook_namespace = "ml-connector"
//! ```
//!
//! The login host is derived: `api.procore.com` → `login.procore.com`, `sandbox.procore.com` →
//! `login-sandbox.procore.com`, `api-monthly.procore.com` → `login-sandbox-monthly.procore.com`
//! (fact sheet §1); any other host (a simulator, a proxy) serves both.

use std::time::Duration;

use mlc_core::connect::ConnectionSpec;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::errors::ProcoreError;

/// Which requisitions resource version to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum RequisitionsApi {
    /// `/rest/v1.1/requisitions` with `view=extended`: `vendor_id` and `items[]` in one read.
    #[default]
    #[serde(rename = "v1.1")]
    V11,
    /// `/rest/v1.0/requisitions`: `vendor_name` only; lines from `…/{id}/detail`.
    #[serde(rename = "v1.0")]
    V10,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    base_url: String,
    #[serde(default)]
    login_url: Option<String>,
    company_id: Value,
    #[serde(default)]
    projects: Option<Vec<Value>>,
    #[serde(default)]
    requisitions_api: Option<String>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    spike_limit: Option<u32>,
    #[serde(default)]
    spike_window_secs: Option<f64>,
    #[serde(default)]
    max_wait_secs: Option<f64>,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    token_refresh_secs: Option<u64>,
    #[serde(default)]
    webhook_namespace: Option<String>,
}

/// The keys, for messages.
pub const KEYS: &[&str] = &[
    "base_url",
    "login_url",
    "company_id",
    "projects",
    "requisitions_api",
    "page_size",
    "spike_limit",
    "spike_window_secs",
    "max_wait_secs",
    "timeout_secs",
    "token_refresh_secs",
    "webhook_namespace",
];

/// Everything about a Procore connection except its credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcoreSettings {
    /// Connection name, for messages.
    pub connection: String,
    /// API root, ending in `/`.
    pub base_url: Url,
    /// `…/oauth/token` on the login host.
    pub token_url: Url,
    pub company_id: i64,
    /// Projects to read (`None`: every active project the app may see).
    pub projects: Option<Vec<i64>>,
    pub requisitions_api: RequisitionsApi,
    pub page_size: u32,
    /// Pacing of the spike window (`None`: Procore's headers and its documented hourly budget).
    pub spike: Option<(u32, Duration)>,
    pub max_wait: Duration,
    pub timeout: Duration,
    pub token_refresh: Duration,
    pub webhook_namespace: String,
}

impl ProcoreSettings {
    /// From a connection's spec (options plus `base_url`).
    pub fn from_spec(spec: &ConnectionSpec) -> Result<Self, ProcoreError> {
        Self::from_options(&spec.name, &spec.options_json())
    }

    /// From an options object (`base_url` included).
    pub fn from_options(connection: &str, options: &Value) -> Result<Self, ProcoreError> {
        let err = |key: &str, problem: String| ProcoreError::Config {
            connection: connection.into(),
            key: key.into(),
            problem,
        };
        let raw: Raw = serde_json::from_value(options.clone()).map_err(|e| {
            let m = e.to_string();
            match m.split('`').nth(1) {
                Some(k) if m.starts_with("unknown field") => {
                    err(k, format!("is not a Procore setting (known: {})", KEYS.join(", ")))
                }
                Some(k) if m.starts_with("missing field") => err(k, "is required".into()),
                _ => err("(settings)", m),
            }
        })?;
        let base_url = api_root(&raw.base_url).map_err(|p| err("base_url", p))?;
        let token_url = match &raw.login_url {
            Some(l) => api_root(l).map_err(|p| err("login_url", p))?,
            None => login_for(&base_url),
        }
        .join("oauth/token")
        .map_err(|e| err("login_url", e.to_string()))?;
        let id = |v: &Value| -> Option<i64> {
            match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }
            .filter(|n| *n > 0)
        };
        let company_id = id(&raw.company_id).ok_or_else(|| {
            err("company_id", format!("must be the company's numeric id (e.g. 4264807), not {}", raw.company_id))
        })?;
        let projects = match raw.projects {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|v| id(v).ok_or_else(|| err("projects", format!("must list numeric project ids, not {v}"))))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let page_size = raw.page_size.unwrap_or(100);
        if !(1..=1000).contains(&page_size) {
            return Err(err("page_size", format!("must be from 1 to 1000, not {page_size}")));
        }
        let secs = |k: &str, v: Option<f64>, default: f64| -> Result<Duration, ProcoreError> {
            let s = v.unwrap_or(default);
            if s.is_finite() && s > 0.0 && s <= 86_400.0 {
                Ok(Duration::from_secs_f64(s))
            } else {
                Err(err(k, format!("must be a number of seconds above 0, not {s}")))
            }
        };
        let spike_limit = raw.spike_limit.unwrap_or(25);
        let spike_window = secs("spike_window_secs", raw.spike_window_secs, 10.0)?;
        let timeout = raw.timeout_secs.unwrap_or(30);
        if !(1..=600).contains(&timeout) {
            return Err(err("timeout_secs", format!("must be from 1 to 600, not {timeout}")));
        }
        let requisitions_api = match raw.requisitions_api.as_deref().map(str::trim) {
            None | Some("v1.1") | Some("1.1") => RequisitionsApi::V11,
            Some("v1.0") | Some("1.0") => RequisitionsApi::V10,
            Some(other) => return Err(err("requisitions_api", format!("must be \"v1.1\" or \"v1.0\", not {other:?}"))),
        };
        let namespace = raw.webhook_namespace.unwrap_or_else(|| "ml-connector".into());
        if namespace.is_empty() || !namespace.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(
                "webhook_namespace",
                format!("must be lowercase letters, digits and dashes, not {namespace:?}"),
            ));
        }
        Ok(ProcoreSettings {
            connection: connection.to_string(),
            base_url,
            token_url,
            company_id,
            projects,
            requisitions_api,
            page_size,
            spike: (spike_limit > 0).then_some((spike_limit, spike_window)),
            max_wait: secs("max_wait_secs", raw.max_wait_secs, 60.0)?,
            timeout: Duration::from_secs(timeout),
            token_refresh: Duration::from_secs(raw.token_refresh_secs.unwrap_or(300)),
            webhook_namespace: namespace,
        })
    }
}

/// An http(s) root ending in `/`, no query.
fn api_root(s: &str) -> Result<Url, String> {
    let mut u = Url::parse(s.trim()).map_err(|e| format!("{s:?} is not a URL: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("{s:?} is not an http(s) URL"));
    }
    let path = u.path().trim_end_matches('/').trim_end_matches("/rest/v1.0").trim_end_matches("/rest").to_string();
    u.set_path(&format!("{path}/"));
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

/// The login host of an API host (fact sheet §1).
fn login_for(api: &Url) -> Url {
    let host = api.host_str().unwrap_or("");
    let login = match host {
        "api.procore.com" | "app.procore.com" => Some("login.procore.com"),
        "sandbox.procore.com" => Some("login-sandbox.procore.com"),
        "api-monthly.procore.com" | "api-sandbox-monthly.procore.com" => Some("login-sandbox-monthly.procore.com"),
        _ => None,
    };
    let mut u = api.clone();
    if let Some(l) = login {
        let _ = u.set_host(Some(l));
        u.set_path("/");
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_hosts_and_refusals() {
        let s = ProcoreSettings::from_options(
            "p",
            &json!({"base_url": "https://api.procore.com", "company_id": "4264807"}),
        )
        .unwrap();
        assert_eq!(s.token_url.as_str(), "https://login.procore.com/oauth/token");
        assert_eq!((s.company_id, s.page_size, s.spike), (4_264_807, 100, Some((25, Duration::from_secs(10)))));
        let s = ProcoreSettings::from_options(
            "p",
            &json!({"base_url": "https://sandbox.procore.com/rest/v1.0/", "company_id": 1}),
        )
        .unwrap();
        assert_eq!(
            (s.base_url.as_str(), s.token_url.as_str()),
            ("https://sandbox.procore.com/", "https://login-sandbox.procore.com/oauth/token")
        );
        let s = ProcoreSettings::from_options(
            "p",
            &json!({"base_url": "http://127.0.0.1:9", "company_id": 1, "spike_limit": 0, "requisitions_api": "v1.0"}),
        )
        .unwrap();
        assert_eq!(
            (s.token_url.as_str(), s.spike, s.requisitions_api),
            ("http://127.0.0.1:9/oauth/token", None, RequisitionsApi::V10)
        );
        let e = |v: serde_json::Value| ProcoreSettings::from_options("procore-east", &v).unwrap_err().to_string();
        let m = e(json!({"base_url": "https://api.procore.com", "company_id": 1, "page_sise": 5}));
        assert!(m.starts_with("Procore connection procore-east: option page_sise is not a Procore setting"), "{m}");
        assert!(e(json!({"base_url": "https://api.procore.com"})).contains("option company_id is required"));
        assert!(
            e(json!({"base_url": "https://api.procore.com", "company_id": "acme"}))
                .contains("company_id must be the company's numeric id")
        );
        assert!(e(json!({"base_url": "ftp://x", "company_id": 1})).contains("base_url"));
        assert!(
            e(json!({"base_url": "https://api.procore.com", "company_id": 1, "page_size": 0}))
                .contains("page_size must be from 1 to 1000")
        );
        assert!(
            e(json!({"base_url": "https://api.procore.com", "company_id": 1, "requisitions_api": "v2"}))
                .contains("requisitions_api")
        );
        assert!(
            e(json!({"base_url": "https://api.procore.com", "company_id": 1, "webhook_namespace": "My NS"}))
                .contains("webhook_namespace")
        );
        assert!(
            e(json!({"base_url": "https://api.procore.com", "company_id": 1, "projects": ["x"]}))
                .contains("projects must list")
        );
    }
}
