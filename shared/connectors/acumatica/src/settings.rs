//! An Acumatica connection's settings and credentials.
//!
//! ```toml
//! [connections.acumatica]
//! system = "acumatica"
//! base_url = "https://acme.acumatica.com/AcmeERP"   # the instance URL (site + instance path)
//! tenant = "AcmeWholesale"        # Login Name on Tenants (SM203520); the client id's @suffix
//! branch = "HQ"                   # the branch documents default to (checked by ping)
//! endpoint = "Default"            # the system endpoint, or a custom one extending it
//! version = "24.200.001"          # pinned contract version (CV4: 20.200.001 … 25.200.001)
//! auth = "oauth"                  # oauth (password grant, recommended) | cookie (legacy sign-in)
//! requests_per_minute = 150       # half the licence's "max requests per minute": never delayed
//! rate_window_ms = 60000          # the window requests_per_minute counts in (the demo compresses time)
//! max_concurrent = 2              # at most the licence's concurrent requests
//! page_size = 100                 # $top per list page (1..=1000)
//! timeout_secs = 60
//! refresh_before_secs = 300       # refresh the token when less than this is left
//! long_operation_timeout_secs = 600
//! long_operation_poll_ms = 1000
//! retry_base_ms = 500             # first backoff ceiling after a 429/5xx (doubles, full jitter)
//! po_reference_field = "VendorRef"  # where the Cin7 order number lives on a PO (VendorRef | Description)
//! push_header = "x-mlc-webhook-secret"  # the push destination's header name
//! ```
//!
//! `base_url` may also be a full endpoint URL (`…/entity/Default/24.200.001/`): the instance,
//! endpoint and version are then read from it. Settings are read with
//! `#[serde(deny_unknown_fields)]`; every error names the connection, the key and what is
//! expected. Credentials: `username`, `password`, and for OAuth `client_id` (`<GUID>@<Tenant>`)
//! and `client_secret`; `webhook_secret` (the push header's value) for push notifications.

use std::time::Duration;

use mlc_core::connect::ConnectionSpec;
use mlc_core::secret::{Credentials, Redacted};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _};
use serde_json::Value;
use url::Url;

use crate::errors::AcumaticaError;

/// How the connection signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// OAuth 2.0 resource-owner password grant with `api offline_access` (recommended).
    #[default]
    OAuth,
    /// The legacy `entity/auth/login` session cookie, always logged out ("to be discontinued").
    Cookie,
}

/// Where the Cin7 order number of a PO is kept (and looked up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoReferenceField {
    /// `VendorRef` (the vendor reference): filterable, shown on the form, rarely edited. Default.
    #[default]
    VendorRef,
    /// `Description`.
    Description,
}

impl PoReferenceField {
    /// The contract field name.
    pub fn field(self) -> &'static str {
        match self {
            PoReferenceField::VendorRef => "VendorRef",
            PoReferenceField::Description => "Description",
        }
    }
}

/// Everything about a connection except its secrets.
#[derive(Debug, Clone)]
pub struct AcumaticaSettings {
    /// Connection name.
    pub connection: String,
    /// The instance URL, ending in `/` (`https://host/Instance/`).
    pub instance_url: Url,
    /// Tenant login name.
    pub tenant: String,
    /// Default branch of documents.
    pub branch: Option<String>,
    /// Endpoint name.
    pub endpoint: String,
    /// Pinned version.
    pub version: String,
    /// Sign-in mode.
    pub auth: AuthMode,
    /// Client-side requests per rolling window (0: no pacing).
    pub requests_per_minute: u32,
    /// The window `requests_per_minute` counts in (60 s; shorter only to compress time).
    pub rate_window: Duration,
    /// First backoff ceiling of retried calls.
    pub retry_base: Duration,
    /// Requests in flight at once.
    pub max_concurrent: u32,
    /// `$top` per page.
    pub page_size: u32,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// Refresh the access token when less than this is left.
    pub refresh_before: Duration,
    /// Give up waiting for a long operation after this.
    pub long_operation_timeout: Duration,
    /// Between polls of a long operation.
    pub long_operation_poll: Duration,
    /// Where the Cin7 order number lives on a PO.
    pub po_reference_field: PoReferenceField,
    /// The push destination's header name.
    pub push_header: String,
}

/// The options as written, before checks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    base_url: String,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    branch: Option<String>,
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default, deserialize_with = "auth_mode")]
    auth: Option<AuthMode>,
    #[serde(default, deserialize_with = "whole")]
    requests_per_minute: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    rate_window_ms: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    retry_base_ms: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    max_concurrent: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    page_size: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    timeout_secs: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    refresh_before_secs: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    long_operation_timeout_secs: Option<u64>,
    #[serde(default, deserialize_with = "whole")]
    long_operation_poll_ms: Option<u64>,
    #[serde(default, deserialize_with = "po_field")]
    po_reference_field: Option<PoReferenceField>,
    #[serde(default)]
    push_header: Option<String>,
}

fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => {
            n.as_u64().map(Some).ok_or_else(|| D::Error::custom(format!("must be a whole number, not {n}")))
        }
        Value::String(s) => {
            s.trim().parse().map(Some).map_err(|_| D::Error::custom(format!("must be a whole number, not {s:?}")))
        }
        other => Err(D::Error::custom(format!("must be a whole number, not {other}"))),
    }
}

fn auth_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AuthMode>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    match s.as_deref().map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("oauth") => Ok(Some(AuthMode::OAuth)),
        Some("cookie") => Ok(Some(AuthMode::Cookie)),
        Some(other) => Err(D::Error::custom(format!("must be \"oauth\" or \"cookie\", not {other:?}"))),
    }
}

fn po_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PoReferenceField>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("VendorRef") => Ok(Some(PoReferenceField::VendorRef)),
        Some(v) if v.eq_ignore_ascii_case("Description") => Ok(Some(PoReferenceField::Description)),
        Some(other) => Err(D::Error::custom(format!("must be \"VendorRef\" or \"Description\", not {other:?}"))),
    }
}

/// The option names, for messages.
pub const KNOWN: &[&str] = &[
    "base_url",
    "tenant",
    "branch",
    "endpoint",
    "version",
    "auth",
    "requests_per_minute",
    "rate_window_ms",
    "retry_base_ms",
    "max_concurrent",
    "page_size",
    "timeout_secs",
    "refresh_before_secs",
    "long_operation_timeout_secs",
    "long_operation_poll_ms",
    "po_reference_field",
    "push_header",
];

/// Whether a version looks like `24.200.001` (system endpoints) or `1.0.0` (a tenant's own).
pub fn valid_version(v: &str) -> bool {
    let p: Vec<&str> = v.split('.').collect();
    p.len() == 3 && p.iter().all(|x| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit()))
}

impl AcumaticaSettings {
    /// Read and check a connection's settings.
    pub fn from_spec(spec: &ConnectionSpec) -> Result<Self, AcumaticaError> {
        Self::from_options(&spec.name, &spec.options_json())
    }

    /// Read and check an options object (`base_url` included).
    pub fn from_options(connection: &str, options: &Value) -> Result<Self, AcumaticaError> {
        let err = |key: &str, problem: String| AcumaticaError::Config {
            connection: connection.into(),
            key: key.into(),
            problem,
        };
        let Value::Object(m) = options else { return Err(err("(options)", "must be a table of settings".into())) };
        if let Some(k) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(err(k, format!("is not an Acumatica option (known: {})", KNOWN.join(", "))));
        }
        // One key at a time, so an error names the key it is about.
        for (k, v) in m {
            if k == "base_url" {
                continue;
            }
            let mut one = serde_json::Map::new();
            one.insert("base_url".into(), Value::String("https://x/".into()));
            one.insert(k.clone(), v.clone());
            if let Err(e) = serde_json::from_value::<Raw>(Value::Object(one)) {
                let msg = e.to_string();
                let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                return Err(err(k, msg));
            }
        }
        let raw: Raw = serde_json::from_value(options.clone()).map_err(|e| {
            let msg = e.to_string();
            let key = msg.split('`').nth(1).unwrap_or("base_url").to_string();
            err(&key, if msg.starts_with("missing field") { "is required".into() } else { msg })
        })?;
        let (instance_url, url_endpoint, url_version) = instance(connection, &raw.base_url)?;
        let endpoint = raw.endpoint.or(url_endpoint).map(|s| s.trim().to_string()).unwrap_or_else(|| "Default".into());
        if endpoint.is_empty() || endpoint.contains('/') {
            return Err(err("endpoint", format!("must be an endpoint name such as \"Default\", not {endpoint:?}")));
        }
        let version = raw.version.or(url_version).map(|s| s.trim().to_string()).unwrap_or_else(|| "24.200.001".into());
        if !valid_version(&version) {
            return Err(err("version", format!("must look like \"24.200.001\", not {version:?}")));
        }
        let tenant = raw.tenant.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).ok_or_else(|| {
            err(
                "tenant",
                "is required: the tenant's Login Name (Tenants, SM203520), the part after @ in the client id".into(),
            )
        })?;
        let range = |key: &str, v: Option<u64>, default: u64, lo: u64, hi: u64| -> Result<u64, AcumaticaError> {
            let n = v.unwrap_or(default);
            if (lo..=hi).contains(&n) { Ok(n) } else { Err(err(key, format!("must be from {lo} to {hi}, not {n}"))) }
        };
        let push_header = raw
            .push_header
            .map(|h| h.trim().to_ascii_lowercase())
            .unwrap_or_else(|| mlc_webhooks::header_secret::DEFAULT_HEADER.into());
        if push_header.is_empty() || !push_header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(err(
                "push_header",
                format!("must be a header name such as \"x-mlc-webhook-secret\", not {push_header:?}"),
            ));
        }
        Ok(AcumaticaSettings {
            connection: connection.to_string(),
            instance_url,
            tenant,
            branch: raw.branch.map(|b| b.trim().to_string()).filter(|b| !b.is_empty()),
            endpoint,
            version,
            auth: raw.auth.unwrap_or_default(),
            requests_per_minute: range("requests_per_minute", raw.requests_per_minute, 150, 0, 100_000)? as u32,
            rate_window: Duration::from_millis(range("rate_window_ms", raw.rate_window_ms, 60_000, 10, 3_600_000)?),
            retry_base: Duration::from_millis(range("retry_base_ms", raw.retry_base_ms, 500, 1, 60_000)?),
            max_concurrent: range("max_concurrent", raw.max_concurrent, 2, 1, 64)? as u32,
            page_size: range("page_size", raw.page_size, 100, 1, 1000)? as u32,
            timeout: Duration::from_secs(range("timeout_secs", raw.timeout_secs, 60, 1, 900)?),
            refresh_before: Duration::from_secs(range("refresh_before_secs", raw.refresh_before_secs, 300, 0, 3000)?),
            long_operation_timeout: Duration::from_secs(range(
                "long_operation_timeout_secs",
                raw.long_operation_timeout_secs,
                600,
                1,
                3600,
            )?),
            long_operation_poll: Duration::from_millis(range(
                "long_operation_poll_ms",
                raw.long_operation_poll_ms,
                1000,
                1,
                60_000,
            )?),
            po_reference_field: raw.po_reference_field.unwrap_or_default(),
            push_header,
        })
    }

    /// `<instance>/entity/<endpoint>/<version>/`.
    pub fn endpoint_url(&self) -> Url {
        let mut u = self.instance_url.clone();
        let path = format!("{}entity/{}/{}/", u.path(), self.endpoint, self.version);
        u.set_path(&path);
        u
    }
}

/// The instance URL from `base_url` (a full endpoint URL gives endpoint and version too).
fn instance(connection: &str, base: &str) -> Result<(Url, Option<String>, Option<String>), AcumaticaError> {
    let err =
        |problem: String| AcumaticaError::Config { connection: connection.into(), key: "base_url".into(), problem };
    let mut u = Url::parse(base.trim()).map_err(|e| err(format!("{base:?} is not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.cannot_be_a_base() {
        return Err(err(format!("{base:?} is not an http(s) URL")));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(err("must not carry credentials; give them to `mlc credentials set`".into()));
    }
    let segs: Vec<String> = u.path().split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let (site, endpoint, version) = match segs.iter().position(|s| s.eq_ignore_ascii_case("entity")) {
        Some(i) => (segs[..i].to_vec(), segs.get(i + 1).cloned(), segs.get(i + 2).cloned()),
        None => (segs, None, None),
    };
    let path = if site.is_empty() { "/".to_string() } else { format!("/{}/", site.join("/")) };
    u.set_path(&path);
    u.set_query(None);
    u.set_fragment(None);
    Ok((u, endpoint, version))
}

/// The credentials a connection uses.
#[derive(Debug, Clone)]
pub struct AcumaticaCredentials {
    /// API user.
    pub username: String,
    /// Its password.
    pub password: Redacted<String>,
    /// OAuth client id (`<GUID>@<Tenant>`).
    pub client_id: Option<String>,
    /// OAuth client secret.
    pub client_secret: Option<Redacted<String>>,
    /// Push-notification header value (current, then the one being rotated out).
    pub webhook_secrets: Vec<Redacted<String>>,
    /// Every field, for scrubbing.
    pub all: Credentials,
}

impl AcumaticaCredentials {
    /// Read and check the credentials for these settings.
    pub fn from_credentials(s: &AcumaticaSettings, creds: &Credentials) -> Result<Self, AcumaticaError> {
        let get = |k: &str| creds.get(k).map(|v| v.expose().trim().to_string()).filter(|v| !v.is_empty());
        let mut missing = Vec::new();
        for k in ["username", "password"] {
            if get(k).is_none() {
                missing.push(k.to_string());
            }
        }
        if s.auth == AuthMode::OAuth {
            for k in ["client_id", "client_secret"] {
                if get(k).is_none() {
                    missing.push(k.to_string());
                }
            }
        }
        if !missing.is_empty() {
            return Err(AcumaticaError::MissingCredential { connection: s.connection.clone(), fields: missing });
        }
        let client_id = get("client_id");
        if let Some(id) = &client_id {
            match id.rsplit_once('@') {
                Some((_, t)) if t.eq_ignore_ascii_case(&s.tenant) => {}
                Some((_, t)) => {
                    return Err(AcumaticaError::Config {
                        connection: s.connection.clone(),
                        key: "tenant".into(),
                        problem: format!(
                            "is {:?} but the credential client_id ends with @{t}: the suffix decides the tenant; use the client id of a Connected Application (SM303010) in tenant {}",
                            s.tenant, s.tenant
                        ),
                    });
                }
                None if s.auth == AuthMode::OAuth => {
                    return Err(AcumaticaError::Config {
                        connection: s.connection.clone(),
                        key: "tenant".into(),
                        problem: format!(
                            "cannot be checked: the credential client_id has no @<tenant> suffix; Connected Applications (SM303010) shows it as <GUID>@{}",
                            s.tenant
                        ),
                    });
                }
                None => {}
            }
        }
        let mut webhook_secrets = Vec::new();
        for k in ["webhook_secret", "webhook_secret_previous"] {
            if let Some(v) = creds.get(k).filter(|v| !v.expose().is_empty()) {
                webhook_secrets.push(v.clone());
            }
        }
        Ok(AcumaticaCredentials {
            username: get("username").unwrap_or_default(),
            password: creds.get("password").cloned().unwrap_or_default(),
            client_id,
            client_secret: creds.get("client_secret").cloned(),
            webhook_secrets,
            all: creds.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_read_with_defaults_and_endpoint_urls() {
        let s = AcumaticaSettings::from_options(
            "acu",
            &json!({"base_url": "https://acme.acumatica.com/AcmeERP", "tenant": "Acme"}),
        )
        .unwrap();
        assert_eq!(s.instance_url.as_str(), "https://acme.acumatica.com/AcmeERP/");
        assert_eq!(s.endpoint_url().as_str(), "https://acme.acumatica.com/AcmeERP/entity/Default/24.200.001/");
        assert_eq!((s.auth, s.requests_per_minute, s.max_concurrent, s.page_size), (AuthMode::OAuth, 150, 2, 100));
        let s = AcumaticaSettings::from_options(
            "acu",
            &json!({"base_url": "https://h/entity/Default/23.200.001/", "tenant": "T", "auth": "Cookie", "page_size": "500",
                    "po_reference_field": "description", "requests_per_minute": 0}),
        )
        .unwrap();
        assert_eq!(
            (s.instance_url.as_str(), s.version.as_str(), s.endpoint.as_str()),
            ("https://h/", "23.200.001", "Default")
        );
        assert_eq!(
            (s.auth, s.page_size, s.po_reference_field, s.requests_per_minute),
            (AuthMode::Cookie, 500, PoReferenceField::Description, 0)
        );
    }

    #[test]
    fn bad_settings_name_the_key_in_one_line() {
        for (bad, key, says) in [
            (json!({"base_url": "https://h", "tenant": "T", "pagesize": 5}), "pagesize", "not an Acumatica option"),
            (json!({"base_url": "https://h", "tenant": "T", "page_size": 0}), "page_size", "from 1 to 1000"),
            (json!({"base_url": "https://h", "tenant": "T", "page_size": "many"}), "page_size", "whole number"),
            (json!({"base_url": "https://h", "tenant": "T", "auth": "saml"}), "auth", "\"oauth\" or \"cookie\""),
            (json!({"base_url": "https://h", "tenant": "T", "version": "24.2"}), "version", "24.200.001"),
            (json!({"base_url": "ftp://h", "tenant": "T"}), "base_url", "http(s)"),
            (json!({"base_url": "https://h"}), "tenant", "is required"),
            (json!({"tenant": "T"}), "base_url", "is required"),
            (
                json!({"base_url": "https://h", "tenant": "T", "po_reference_field": "Note"}),
                "po_reference_field",
                "VendorRef",
            ),
        ] {
            let e = AcumaticaSettings::from_options("acu", &bad).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("Acumatica connection acu: option {key} "))
                    && e.contains(says)
                    && !e.contains('\n'),
                "{e}"
            );
        }
    }

    #[test]
    fn credentials_are_checked_against_the_tenant() {
        let s = AcumaticaSettings::from_options("acu", &json!({"base_url": "https://h", "tenant": "Acme"})).unwrap();
        let c = Credentials::new()
            .with("username", "api")
            .with("password", "pw")
            .with("client_id", "ABC@Acme")
            .with("client_secret", "s");
        assert!(AcumaticaCredentials::from_credentials(&s, &c).is_ok());
        let e = AcumaticaCredentials::from_credentials(&s, &c.clone().with("client_id", "ABC@Other"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("option tenant") && e.contains("@Other"), "{e}");
        let e = AcumaticaCredentials::from_credentials(&s, &Credentials::new().with("username", "api"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("password, client_id, client_secret"), "{e}");
    }
}
