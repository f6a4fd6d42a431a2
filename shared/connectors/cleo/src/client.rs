//! The transport every Cleo call goes through: the HTTP kit with Cleo's auth and error rules, the
//! per-path limiter, href navigation, collection walking and error translation. It knows
//! nothing of mailboxes or files (those are [`crate::folders`] and [`crate::files`]).
//!
//! - **Hrefs are server-relative** (`/api/mailboxes/…`) and are followed as given, joined to the
//!   tenant's origin **[C: RESTJ navigates by href]**, never rebuilt from ids.
//! - **Per-path budget**: Cleo is said to allow about 5 requests per second *per API path*; each
//!   call names its path template and waits for that path's token bucket
//!   ([`crate::kit_pending::PathLimiter`], default 4/s) so steady state never sees a 429. A 429
//!   (with or without `Retry-After`) or a 503 is retried by the kit with full-jitter backoff,
//!   honouring `Retry-After`; a long wait parks the item instead of sleeping.
//! - **Answers**: a 2xx HTML page (an SSO or proxy page) is never data; file content is accepted
//!   as any bytes; refusals are `{"message": …}` (or empty, or a proxy's HTML), quoted in errors.
//! - **Collections** are walked with `startIndex`/`count`, advancing by what was received
//!   **[C]**, dropping repeats and walking again when the total moved mid-walk.

use std::sync::Arc;
use std::time::Duration;

use mlc_http::{
    Answer, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, HttpError, Request, Response, RetryPolicy,
    Verdict,
};
use serde_json::Value;
use url::Url;

use crate::auth::{auth_error, password_grant};
use crate::errors::{CleoError, server_message};
use crate::kit_pending::{OffsetPage, PathLimiter, walk_offsets};
use crate::model::CollectionPage;
use crate::settings::{CleoCredentials, CleoSettings};

/// What JSON calls accept; file content is asked for with `*/*` (a content endpoint could
/// refuse a JSON-only `Accept` with 406).
pub const JSON: &str = "application/json";

/// Cleo's answer rules: the kit's defaults, any body accepted on success (file content), except
/// an HTML page, which on a 2xx is a login or proxy page, never data or a file.
#[derive(Debug, Clone)]
pub struct CleoClassifier {
    inner: DefaultClassifier,
}

impl Default for CleoClassifier {
    fn default() -> Self {
        CleoClassifier { inner: DefaultClassifier::new().any_body() }
    }
}

impl Classifier for CleoClassifier {
    fn classify(&self, a: &Answer<'_>) -> Verdict {
        if a.status.is_success() {
            let ct = a.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
            let head = String::from_utf8_lossy(&a.body[..a.body.len().min(256)]).to_ascii_lowercase();
            let html = ct.contains("text/html")
                || head.trim_start().starts_with("<!doctype html")
                || head.trim_start().starts_with("<html");
            if html && !ct.contains("octet-stream") {
                return Verdict::Unexpected { reason: format!("answered {} with an HTML page, not the API", a.status) };
            }
        }
        self.inner.classify(a)
    }
}

/// One connection's transport. Cheap to clone.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    settings: CleoSettings,
    username: String,
    http: HttpClient,
    limiter: Option<PathLimiter>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("connection", &self.inner.settings.connection).finish_non_exhaustive()
    }
}

impl Transport {
    /// Build the transport (no call is made).
    pub fn new(settings: CleoSettings, creds: &CleoCredentials) -> Result<Self, CleoError> {
        let config = ConnectionConfig::new("cleo", settings.base_url.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .retry(RetryPolicy {
                max_attempts: settings.max_attempts,
                base: settings.retry_base,
                cap: Duration::from_secs(30),
                park_after: Duration::from_secs(60),
            });
        let auth = password_grant(&settings, creds);
        let http = HttpClient::new(config, Arc::new(auth), Arc::new(CleoClassifier::default())).map_err(|e| {
            CleoError::Config {
                connection: settings.connection.clone(),
                key: "base_url".into(),
                problem: e.to_string(),
            }
        })?;
        // Burst 1: against a sliding one-second window of N, a bucket of rate r and burst b lets
        // b + r calls into one second, so only b = 1 keeps r = 4 under Cleo's 5.
        let limiter =
            if settings.requests_per_second > 0.0 { PathLimiter::new(settings.requests_per_second, 1) } else { None };
        Ok(Transport { inner: Arc::new(Inner { settings, username: creds.username.clone(), http, limiter }) })
    }

    pub fn settings(&self) -> &CleoSettings {
        &self.inner.settings
    }

    pub fn username(&self) -> &str {
        &self.inner.username
    }

    /// The kit's counters.
    pub fn stats(&self) -> mlc_http::CallStats {
        self.inner.http.stats()
    }

    /// An href as the kit takes it: server-relative hrefs are joined to the tenant's origin,
    /// absolute ones kept (the kit refuses another origin), anything else is relative to the base.
    pub fn url_of(&self, href: &str) -> String {
        let base: &Url = &self.inner.settings.base_url;
        if href.contains("://") {
            href.to_string()
        } else if href.starts_with('/') {
            format!("{}{}", base.origin().ascii_serialization(), href)
        } else {
            href.to_string()
        }
    }

    /// Send one request, paced by its path template, with errors translated.
    pub async fn send(&self, template: &str, req: Request, what: &str) -> Result<Response, CleoError> {
        if let Some(l) = &self.inner.limiter {
            l.acquire(template).await;
        }
        self.inner.http.send(req).await.map_err(|e| self.error(e, what))
    }

    /// GET an href as JSON.
    pub async fn get_json(&self, template: &str, href: &str, what: &str) -> Result<Value, CleoError> {
        let r = self.send(template, Request::get(self.url_of(href)).header("Accept", JSON), what).await?;
        r.json::<Value>().map_err(CleoError::Http)
    }

    /// Every resource of a collection (optionally filtered with `<attr> eq "<value>"`).
    pub async fn collection(
        &self,
        template: &str,
        href: &str,
        filter: Option<(&str, &str)>,
        what: &str,
    ) -> Result<Vec<Value>, CleoError> {
        let filter = filter.map(|(attr, value)| format!("{attr} eq \"{}\"", value.replace('"', "\\\"")));
        let key = |v: &Value| {
            v.get("id")
                .map(|x| x.to_string())
                .or_else(|| crate::model::link(v, "self"))
                .unwrap_or_else(|| v.to_string())
        };
        let (items, report) = walk_offsets(self.inner.settings.page_size, 3, key, |start, count| {
            let mut req =
                Request::get(self.url_of(href)).header("Accept", JSON).query("startIndex", start).query("count", count);
            if let Some(f) = &filter {
                req = req.query("filter", f);
            }
            async move {
                let r = self.send(template, req, what).await?;
                let v: Value = r.json().map_err(CleoError::Http)?;
                let page = CollectionPage::from_json(&v).ok_or_else(|| CleoError::Unexpected {
                    call: format!("GET {href}"),
                    detail: format!("{what}: the answer is not a collection ({{totalResults, resources}})"),
                })?;
                Ok::<_, CleoError>(OffsetPage { total: page.total, items: page.resources })
            }
        })
        .await?;
        if report.repeated_pages > 0 {
            return Err(CleoError::Unexpected {
                call: format!("GET {href}"),
                detail: format!(
                    "{what}: a later page repeated the first one, so this server ignores startIndex; {} item(s) were \
                     read and the rest could not be reached: raise page_size above the collection's size",
                    items.len()
                ),
            });
        }
        Ok(items)
    }

    /// A kit error as a Cleo error about `what`.
    pub fn error(&self, e: HttpError, what: &str) -> CleoError {
        match e {
            HttpError::Auth { .. } => auth_error(&self.inner.settings.connection, &self.inner.username, e),
            HttpError::Rejected { status: 404, .. } => CleoError::NotFound { what: what.to_string(), fix: None },
            HttpError::Rejected { status: 403, ref detail, .. } => CleoError::Forbidden {
                what: what.to_string(),
                server: server_message(detail),
                fix: format!(
                    "give the account {:?} the permission in Cleo (the mailbox's folder permissions: Upload for \
                     outbound folders, Download for inbound ones)",
                    self.inner.username
                ),
            },
            HttpError::Rejected { status, ref detail, ref method, ref url, .. } => CleoError::Refused {
                what: what.to_string(),
                call: format!("{method} {url}"),
                status,
                server: server_message(detail),
            },
            other => CleoError::Http(other),
        }
    }
}
