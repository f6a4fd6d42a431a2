//! The transport every Cleo call goes through: the HTTP kit with Cleo's auth, error and pacing
//! rules, href navigation, collection walking and error translation. It knows nothing of
//! mailboxes or files (those are [`crate::folders`] and [`crate::files`]).
//!
//! - **Hrefs are server-relative** (`/api/mailboxes/…`) and are followed as given, joined to the
//!   tenant's origin **[C: RESTJ navigates by href]**, never rebuilt from ids.
//! - **Per-path budget**: Cleo is said to allow about 5 requests per second *per API path*. The
//!   kit keeps one token bucket per path template ([`PATH_TEMPLATES`], `mlc_http::PerPath`),
//!   4/s by default with a burst of 1 (against a sliding one-second window of 5, a bucket of rate
//!   r and burst b lets b + r calls into one second, so only b = 1 keeps r = 4 under 5), named
//!   after the tenant so every client of one tenant shares it. A 429 (with or without
//!   `Retry-After`) or a 503 is retried by the kit with full-jitter backoff, honouring
//!   `Retry-After`; a long wait parks the item instead of sleeping.
//! - **Answers**: a 2xx HTML page (an SSO or proxy page) is never data; file content is accepted
//!   as any bytes; refusals are `{"message": …}` (or empty, or a proxy's HTML), quoted in errors.
//! - **Collections** are walked with the kit's offset paging (`startIndex`/`count`, advancing by
//!   what was received **[C]**, to `totalResults`, never trusting a short page since the page
//!   size limit is unknown); Cleo's own addition is the walk *policy*: files that arrive between
//!   pages shift the offsets, so repeats are dropped by id and the walk starts again when the
//!   total moved; a server that ignores `startIndex` is noticed instead of looped on.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use mlc_http::{
    Answer, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, HttpError, Paging, PerPath, RateLimit,
    Request, Response, RetryPolicy, Verdict,
};
use serde_json::Value;
use url::Url;

use crate::auth::{auth_error, password_grant};
use crate::errors::{CleoError, server_message};
use crate::model::CollectionPage;
use crate::settings::{CleoCredentials, CleoSettings};

/// The API's path templates, one rate budget each (relative to the tenant root).
pub const PATH_TEMPLATES: [&str; 8] = [
    "api/authentication",
    "api/mailboxes",
    "api/mailboxes/{mailbox}",
    "api/mailboxes/{mailbox}/folders",
    "api/mailboxes/{mailbox}/folders/{folder}",
    "api/mailboxes/{mailbox}/folders/{folder}/files",
    "api/mailboxes/{mailbox}/folders/{folder}/files/{file}",
    "api/mailboxes/{mailbox}/folders/{folder}/files/{file}/content",
];

/// How many times a walk starts again when the collection changed under it.
const MAX_PASSES: usize = 3;

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
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport").field("connection", &self.inner.settings.connection).finish_non_exhaustive()
    }
}

impl Transport {
    /// Build the transport (no call is made).
    pub fn new(settings: CleoSettings, creds: &CleoCredentials) -> Result<Self, CleoError> {
        let mut config = ConnectionConfig::new("cleo", settings.base_url.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .retry(RetryPolicy {
                max_attempts: settings.max_attempts,
                base: settings.retry_base,
                cap: Duration::from_secs(30),
                park_after: Duration::from_secs(60),
            });
        if settings.requests_per_second > 0.0 {
            config = config
                .rate_limit(RateLimit::TokenBucket { per_second: settings.requests_per_second, burst: 1 })
                .rate_limit_per_path(PerPath::new(PATH_TEMPLATES))
                .budget(format!("cleo {}", settings.base_url));
        }
        let auth = password_grant(&settings, creds);
        let http = HttpClient::new(config, Arc::new(auth), Arc::new(CleoClassifier::default())).map_err(|e| {
            CleoError::Config {
                connection: settings.connection.clone(),
                key: if settings.requests_per_second > 0.0 { "requests_per_second" } else { "base_url" }.into(),
                problem: e.to_string(),
            }
        })?;
        Ok(Transport { inner: Arc::new(Inner { settings, username: creds.username.clone(), http }) })
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

    /// Send one request (paced by its path's budget), with errors translated.
    pub async fn send(&self, req: Request, what: &str) -> Result<Response, CleoError> {
        self.inner.http.send(req).await.map_err(|e| self.error(e, what))
    }

    /// GET an href as JSON.
    pub async fn get_json(&self, href: &str, what: &str) -> Result<Value, CleoError> {
        let r = self.send(Request::get(self.url_of(href)).header("Accept", JSON), what).await?;
        r.json::<Value>().map_err(CleoError::Http)
    }

    /// Every resource of a collection (optionally filtered with `<attr> eq "<value>"`).
    pub async fn collection(
        &self,
        href: &str,
        filter: Option<(&str, &str)>,
        what: &str,
    ) -> Result<Vec<Value>, CleoError> {
        let size = u32::try_from(self.inner.settings.page_size).unwrap_or(100);
        // The page size limit is not known, so a short page proves nothing: walk to the total.
        let paging =
            Paging::offset("startIndex", "count", size).items_at("resources").total_at("totalResults").until_empty();
        let mut first = Request::get(self.url_of(href)).header("Accept", JSON);
        if let Some((attr, value)) = filter {
            first = first.query("filter", format!("{attr} eq \"{}\"", value.replace('"', "\\\"")));
        }
        let key = |v: &Value| {
            v.get("id")
                .map(|x| x.to_string())
                .or_else(|| crate::model::link(v, "self"))
                .unwrap_or_else(|| v.to_string())
        };
        let unexpected = |detail: String| CleoError::Unexpected { call: format!("GET {href}"), detail };
        let mut seen: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        for _ in 0..MAX_PASSES {
            let mut next = Some(paging.first_request(first.clone()));
            let (mut first_total, mut last_total) = (None, None);
            let mut this_pass: HashSet<String> = HashSet::new();
            let (mut read, mut pages) = (0u64, 0usize);
            while let Some(req) = next.take() {
                let r = self.send(req.clone(), what).await?;
                let v: Value = r.json().map_err(CleoError::Http)?;
                let page = CollectionPage::from_json(&v).ok_or_else(|| {
                    unexpected(format!("{what}: the answer is not a collection ({{totalResults, resources}})"))
                })?;
                pages += 1;
                first_total.get_or_insert(page.total);
                last_total = Some(page.total);
                let got = page.resources.len();
                let mut new_this_pass = 0;
                for item in page.resources {
                    let k = key(&item);
                    if this_pass.insert(k.clone()) {
                        new_this_pass += 1;
                    }
                    if seen.insert(k) {
                        out.push(item);
                    }
                }
                if pages > 1 && got > 0 && new_this_pass == 0 && first_total == Some(page.total) {
                    return Err(unexpected(format!(
                        "{what}: a later page repeated the first one, so this server ignores startIndex; {} item(s) \
                         were read and the rest could not be reached: raise page_size above the collection's size",
                        out.len()
                    )));
                }
                read += got as u64;
                if pages > page.total / size.max(1) as usize + 2 * MAX_PASSES + 2 {
                    return Err(unexpected(format!("{what}: the listing did not end after {pages} pages")));
                }
                next = paging
                    .next_request(&req, &r, got, Some(page.total as u64), read)
                    .map_err(|e| self.error(e, what))?;
            }
            if first_total == last_total {
                break;
            }
        }
        Ok(out)
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
