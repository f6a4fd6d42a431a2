//! A Coupa connection's settings and credentials.
//!
//! ```toml
//! [connections.coupa]
//! system = "coupa"
//! base_url = "https://acme.coupahost.com"   # the instance root; the API is under /api
//! api_version = "R39"              # sent as X-Coupa-API-Version on every call (Coupa ignores it;
//!                                  # what we read is pinned by the `fields` parameter)
//! scopes = ["core.invoice.read", "core.invoice.write", ...]   # default: what the flows need
//! client_auth = "form"             # form | basic: where client_id/client_secret go on /oauth2/token
//! requests_per_second = 20         # client-side pace (Coupa: 25/s, burst 20)
//! burst = 10
//! page_size = 50                   # 1..=50 (Coupa's cap)
//! timeout_secs = 30
//! token_activation_wait_ms = 5000  # after a 401, wait this long before using the new token
//! token_refresh_after_secs = 72000 # renew tokens after 20 h (they last 24 h)
//! retry_base_ms = 500              # first backoff step of retried reads
//! webhook_signature_header = "X-MLC-Signature"
//! webhook_tolerance_secs = 300
//! webhook_url = "https://…/webhooks/coupa"   # optional: where the call-out posts (for ping)
//! ```
//!
//! Settings are read with `deny_unknown_fields`: a typo is an error naming the key and the known
//! keys, a wrong value names the key and what it takes. Credentials: `client_id`,
//! `client_secret`; optional `webhook_secret` (+ `webhook_secret_previous` during a rotation).

use std::time::Duration;

use mlc_core::connect::ConnectionSpec;
use mlc_core::secret::{Credentials, Redacted};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::errors::CoupaError;

/// The version header's default: the release whose schema the field lists were written against.
pub const DEFAULT_API_VERSION: &str = "R39";

/// Scopes the three flows need: read invoices, POs, suppliers, reference data and accounts;
/// write invoices and POs (the export flag and the voucher-id custom field); integration history.
pub const DEFAULT_SCOPES: &[&str] = &[
    "core.invoice.read",
    "core.invoice.write",
    "core.purchase_order.read",
    "core.purchase_order.write",
    "core.supplier.read",
    "core.common.read",
    "core.accounting.read",
];

/// Where the client id and secret go on the token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMode {
    /// Form fields, as Coupa's own code sends them.
    Form,
    /// HTTP Basic.
    Basic,
}

/// Everything about a Coupa connection except its secrets.
#[derive(Debug, Clone)]
pub struct CoupaSettings {
    pub connection: String,
    /// Instance root (`https://acme.coupahost.com/`), ending in `/`.
    pub base_url: Url,
    pub api_version: String,
    pub scopes: Vec<String>,
    pub client_auth: ClientAuthMode,
    pub requests_per_second: f64,
    pub burst: u32,
    pub page_size: u32,
    pub timeout: Duration,
    pub token_activation_wait: Duration,
    pub token_refresh_after: Duration,
    pub retry_base: Duration,
    pub webhook_signature_header: String,
    pub webhook_tolerance_secs: i64,
    pub webhook_url: Option<String>,
}

/// Scopes as a list or one space-separated string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Scopes {
    List(Vec<String>),
    Text(String),
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    base_url: Option<String>,
    #[serde(default)]
    api_version: Option<String>,
    #[serde(default)]
    scopes: Option<Scopes>,
    #[serde(default)]
    client_auth: Option<String>,
    #[serde(default)]
    requests_per_second: Option<f64>,
    #[serde(default)]
    burst: Option<u32>,
    #[serde(default)]
    page_size: Option<u32>,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    token_activation_wait_ms: Option<u64>,
    #[serde(default)]
    token_refresh_after_secs: Option<u64>,
    #[serde(default)]
    retry_base_ms: Option<u64>,
    #[serde(default)]
    webhook_signature_header: Option<String>,
    #[serde(default)]
    webhook_tolerance_secs: Option<i64>,
    #[serde(default)]
    webhook_url: Option<String>,
}

/// What each key takes, for messages.
const EXPECTED: &[(&str, &str)] = &[
    ("base_url", "the instance root URL, e.g. \"https://acme.coupahost.com\""),
    ("api_version", "a release name such as \"R39\""),
    ("scopes", "a list of scopes such as [\"core.invoice.read\"] (or one space-separated string)"),
    ("client_auth", "\"form\" or \"basic\""),
    ("requests_per_second", "a number above 0, at most 25"),
    ("burst", "a whole number from 1 to 20"),
    ("page_size", "a whole number from 1 to 50"),
    ("timeout_secs", "a whole number of seconds from 1 to 600"),
    ("token_activation_wait_ms", "a whole number of milliseconds from 0 to 60000"),
    ("token_refresh_after_secs", "a whole number of seconds from 60 to 86399"),
    ("retry_base_ms", "a whole number of milliseconds from 1 to 60000"),
    ("webhook_signature_header", "a header name such as \"X-MLC-Signature\""),
    ("webhook_tolerance_secs", "a whole number of seconds from 1 to 3600"),
    ("webhook_url", "the https URL Coupa's call-out posts to"),
];

fn expected(key: &str) -> &'static str {
    EXPECTED.iter().find(|(k, _)| *k == key).map_or("a valid value", |(_, e)| e)
}

impl CoupaSettings {
    /// From a connection spec (`spec.options_json()`).
    pub fn from_spec(spec: &ConnectionSpec) -> Result<Self, CoupaError> {
        Self::from_options(&spec.name, &spec.options_json())
    }

    /// From a connection's options object (`base_url` included).
    pub fn from_options(connection: &str, options: &Value) -> Result<Self, CoupaError> {
        let err = |key: &str, problem: String| CoupaError::Config {
            connection: connection.to_string(),
            key: key.to_string(),
            problem,
        };
        let Value::Object(map) = options else {
            return Err(err("(options)", format!("must be a table of settings, not {options}")));
        };
        let mut map = map.clone();
        // Keys of the whole connection table that are not ours to read.
        map.remove("system");
        map.remove("credentials");
        let raw: Raw = match serde_json::from_value(Value::Object(map.clone())) {
            Ok(r) => r,
            Err(e) => {
                // Name the key: serde says "unknown field `x`" itself, but not which key a type
                // error belongs to, so try the keys one at a time.
                let msg = e.to_string();
                if let Some(unknown) = msg.strip_prefix("unknown field `").and_then(|m| m.split('`').next()) {
                    let known: Vec<&str> = EXPECTED.iter().map(|(k, _)| *k).collect();
                    return Err(err(unknown, format!("is not a Coupa option (known: {})", known.join(", "))));
                }
                for (k, v) in &map {
                    let mut one = serde_json::Map::new();
                    one.insert(k.clone(), v.clone());
                    if serde_json::from_value::<Raw>(Value::Object(one)).is_err() {
                        return Err(err(k, format!("must be {}, not {v}", expected(k))));
                    }
                }
                return Err(err("(options)", msg));
            }
        };
        let base = raw
            .base_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| err("base_url", format!("is required: {}", expected("base_url"))))?;
        let base_url = instance_root(base).map_err(|p| err("base_url", p))?;
        let in_range = |key: &str, v: Option<u64>, default: u64, lo: u64, hi: u64| -> Result<u64, CoupaError> {
            match v {
                None => Ok(default),
                Some(n) if (lo..=hi).contains(&n) => Ok(n),
                Some(n) => Err(err(key, format!("must be {}, not {n}", expected(key)))),
            }
        };
        let scopes: Vec<String> = match raw.scopes {
            None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
            Some(Scopes::List(l)) => l.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            Some(Scopes::Text(t)) => {
                t.split([' ', ',']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
            }
        };
        if scopes.is_empty() {
            return Err(err("scopes", format!("must not be empty: {}", expected("scopes"))));
        }
        if let Some(bad) = scopes.iter().find(|s| s.split('.').count() != 3) {
            return Err(err("scopes", format!("has {bad:?}, which is not a service.object.right scope")));
        }
        let client_auth = match raw.client_auth.as_deref().map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            None | Some("form") => ClientAuthMode::Form,
            Some("basic") => ClientAuthMode::Basic,
            Some(other) => {
                return Err(err("client_auth", format!("must be {}, not {other:?}", expected("client_auth"))));
            }
        };
        let rps = raw.requests_per_second.unwrap_or(20.0);
        if !(rps.is_finite() && rps > 0.0 && rps <= 25.0) {
            return Err(err("requests_per_second", format!("must be {}, not {rps}", expected("requests_per_second"))));
        }
        let header = raw.webhook_signature_header.unwrap_or_else(|| "X-MLC-Signature".into());
        if header.trim().is_empty() || !header.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(err(
                "webhook_signature_header",
                format!("must be {}, not {header:?}", expected("webhook_signature_header")),
            ));
        }
        let tolerance = raw.webhook_tolerance_secs.unwrap_or(300);
        if !(1..=3600).contains(&tolerance) {
            return Err(err(
                "webhook_tolerance_secs",
                format!("must be {}, not {tolerance}", expected("webhook_tolerance_secs")),
            ));
        }
        let api_version = raw.api_version.map(|v| v.trim().to_string()).unwrap_or_else(|| DEFAULT_API_VERSION.into());
        if api_version.is_empty() || !api_version.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
            return Err(err("api_version", format!("must be {}, not {api_version:?}", expected("api_version"))));
        }
        Ok(CoupaSettings {
            connection: connection.to_string(),
            base_url,
            api_version,
            scopes,
            client_auth,
            requests_per_second: rps,
            burst: in_range("burst", raw.burst.map(u64::from), 10, 1, 20)? as u32,
            page_size: in_range("page_size", raw.page_size.map(u64::from), 50, 1, 50)? as u32,
            timeout: Duration::from_secs(in_range("timeout_secs", raw.timeout_secs, 30, 1, 600)?),
            token_activation_wait: Duration::from_millis(in_range(
                "token_activation_wait_ms",
                raw.token_activation_wait_ms,
                5_000,
                0,
                60_000,
            )?),
            token_refresh_after: Duration::from_secs(in_range(
                "token_refresh_after_secs",
                raw.token_refresh_after_secs,
                72_000,
                60,
                86_399,
            )?),
            retry_base: Duration::from_millis(in_range("retry_base_ms", raw.retry_base_ms, 500, 1, 60_000)?),
            webhook_signature_header: header.trim().to_string(),
            webhook_tolerance_secs: tolerance,
            webhook_url: raw.webhook_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
        })
    }

    /// `{base}oauth2/token`.
    pub fn token_url(&self) -> Url {
        self.base_url.join("oauth2/token").unwrap_or_else(|_| self.base_url.clone())
    }
}

/// The instance root from what a person typed: `/api` (or `/api/…`) trailing is dropped, a
/// trailing `/` added; not http(s), or with credentials in it, is refused.
fn instance_root(text: &str) -> Result<Url, String> {
    let mut u =
        Url::parse(text).map_err(|e| format!("{text:?} is not a URL ({e}); it must be {}", expected("base_url")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(format!("{text:?} must be an https URL: {}", expected("base_url")));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry credentials; put client_id and client_secret in the credentials".into());
    }
    let path = u.path().trim_end_matches('/').to_string();
    let root = match path.to_ascii_lowercase().find("/api") {
        Some(i) if path[i..].eq_ignore_ascii_case("/api") || path[i..].to_ascii_lowercase().starts_with("/api/") => {
            path[..i].to_string()
        }
        _ => path,
    };
    u.set_path(&format!("{root}/"));
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

/// The secrets a Coupa connection uses.
#[derive(Clone)]
pub struct CoupaCredentials {
    pub client_id: String,
    pub client_secret: Redacted<String>,
    /// The whole set (the webhook source reads `webhook_secret` and `webhook_secret_previous`).
    pub all: Credentials,
}

impl std::fmt::Debug for CoupaCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoupaCredentials").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

impl CoupaCredentials {
    /// Read `client_id` and `client_secret` (trimmed), naming every missing one.
    pub fn from_credentials(connection: &str, c: &Credentials) -> Result<Self, CoupaError> {
        let field = |k: &str| c.get(k).map(|v| v.expose().trim().to_string()).filter(|v| !v.is_empty());
        let (id, secret) = (field("client_id"), field("client_secret"));
        match (id, secret) {
            (Some(id), Some(secret)) => {
                Ok(CoupaCredentials { client_id: id, client_secret: Redacted::new(secret), all: c.clone() })
            }
            (id, secret) => Err(CoupaError::MissingCredential {
                connection: connection.to_string(),
                fields: [("client_id", id.is_none()), ("client_secret", secret.is_none())]
                    .into_iter()
                    .filter(|(_, missing)| *missing)
                    .map(|(f, _)| f.to_string())
                    .collect(),
            }),
        }
    }

    /// Whether the webhook secret is set.
    pub fn has_webhook_secret(&self) -> bool {
        self.all.get("webhook_secret").is_some_and(|s| !s.expose().trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(extra: Value) -> Value {
        let mut base = json!({"base_url": "https://acme.coupahost.com/api/"});
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            b.extend(e);
        }
        base
    }

    #[test]
    fn defaults_and_the_instance_root() {
        let s = CoupaSettings::from_options("coupa", &opts(json!({}))).unwrap();
        assert_eq!(s.base_url.as_str(), "https://acme.coupahost.com/");
        assert_eq!(s.token_url().as_str(), "https://acme.coupahost.com/oauth2/token");
        assert_eq!(
            (s.api_version.as_str(), s.page_size, s.burst, s.client_auth),
            ("R39", 50, 10, ClientAuthMode::Form)
        );
        assert_eq!(s.scopes.len(), DEFAULT_SCOPES.len());
        let s = CoupaSettings::from_options(
            "c",
            &json!({"base_url": "http://127.0.0.1:9", "scopes": "core.invoice.read core.supplier.read", "client_auth": "Basic", "system": "coupa"}),
        )
        .unwrap();
        assert_eq!(s.scopes, ["core.invoice.read", "core.supplier.read"]);
        assert_eq!((s.base_url.as_str(), s.client_auth), ("http://127.0.0.1:9/", ClientAuthMode::Basic));
    }

    #[test]
    fn every_error_names_the_connection_the_key_and_what_it_takes() {
        let e = |v: Value| CoupaSettings::from_options("coupa-us", &v).unwrap_err().to_string();
        let m = e(opts(json!({"page_sise": 10})));
        assert!(
            m.starts_with("Coupa connection coupa-us: option page_sise is not a Coupa option (known: base_url"),
            "{m}"
        );
        let m = e(opts(json!({"page_size": "lots"})));
        assert_eq!(m, "Coupa connection coupa-us: option page_size must be a whole number from 1 to 50, not \"lots\"");
        let m = e(opts(json!({"page_size": 51})));
        assert!(m.contains("page_size must be a whole number from 1 to 50, not 51"), "{m}");
        assert!(e(json!({})).contains("option base_url is required"));
        assert!(e(json!({"base_url": "ftp://x"})).contains("base_url"));
        assert!(e(opts(json!({"client_auth": "header"}))).contains("\"form\" or \"basic\""));
        assert!(e(opts(json!({"scopes": ["invoices"]}))).contains("service.object.right"));
        assert!(e(opts(json!({"requests_per_second": 40}))).contains("at most 25"));
        assert!(!e(opts(json!({"page_size": "lots"}))).contains('\n'), "one line");
    }

    #[test]
    fn credentials_name_every_missing_field() {
        let e = CoupaCredentials::from_credentials("coupa", &Credentials::new().with("client_id", " "))
            .unwrap_err()
            .to_string();
        assert!(e.contains("client_id, client_secret") && e.contains("mlc credentials set coupa"), "{e}");
        let c = CoupaCredentials::from_credentials(
            "coupa",
            &Credentials::new().with("client_id", "id ").with("client_secret", "s3cret"),
        )
        .unwrap();
        assert_eq!(c.client_id, "id");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(!c.has_webhook_secret());
    }
}
