//! [`Cin7Client`]: settings, the shared pacing, and every call the flows make.
//!
//! ```toml
//! [connections.cin7]
//! system = "cin7"
//! base_url = "https://inventory.dearsystems.com/ExternalApi/v2/"
//! rate_limit_calls = 60          # per rolling window, per API application (Cin7: 60)
//! rate_limit_window_secs = 60    # the demo compresses it to match the simulator (e.g. 1)
//! page_size = 100                # 1..=1000; FEED keeps 100 on purchaseList (1000 unconfirmed there)
//! timeout_secs = 30
//! purchase_endpoint = "auto"     # auto | advanced | legacy
//! ```
//!
//! Credentials: `account_id`, `application_key`; for webhooks `webhook_secret` (+ optional
//! `webhook_header`, default `x-mlc-webhook-secret`, and `webhook_secret_previous` during a
//! rotation).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mlc_core::secret::Credentials;
use mlc_http::{
    Answer, CallStats, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, HttpError, RateLimit, Request,
    RetryPolicy, Verdict, looks_like_json,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::auth::{Cin7Credentials, looks_like_guid};
use crate::errors::{Cin7Error, exceptions, fix_for};
use crate::model::{
    Account, Endpoint, Page, Purchase, PurchaseSummary, Supplier, Webhook, account_from, norm_id, purchase_from,
    query_stamp, same_guid, summary_from, supplier_from, webhook_from,
};

/// Which purchase endpoint `get_purchase` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseEndpoint {
    /// `advanced-purchase` (all three types; arrays), falling back to legacy `purchase` only when
    /// the account's API answers as if `advanced-purchase` did not exist. The default.
    Auto,
    /// `advanced-purchase` only.
    Advanced,
    /// Legacy `purchase` first (Simple purchases only), then `advanced-purchase` when Cin7 says
    /// "Please use AdvancedPurchase endpoint".
    Legacy,
}

/// Everything about a Cin7 connection except its credentials.
#[derive(Debug, Clone)]
pub struct Cin7Settings {
    /// Connection name, for messages.
    pub connection: String,
    /// API root, ending in `/ExternalApi/v2/`.
    pub base_url: Url,
    /// Calls per window per API application (Cin7: 60).
    pub rate_limit_calls: u32,
    /// The rolling window (Cin7: 60 s).
    pub rate_limit_window: Duration,
    /// `Limit` of list reads (1..=1000).
    pub page_size: u32,
    /// Whole-request timeout.
    pub timeout: Duration,
    pub purchase_endpoint: PurchaseEndpoint,
}

const KNOWN: &[&str] =
    &["base_url", "rate_limit_calls", "rate_limit_window_secs", "page_size", "timeout_secs", "purchase_endpoint"];
/// Keys a whole connection table carries besides the options: not ours to read.
const IGNORED: &[&str] = &["system", "credentials"];

impl Cin7Settings {
    /// Defaults for a base URL.
    pub fn new(connection: &str, base_url: &str) -> Result<Self, Cin7Error> {
        Ok(Cin7Settings {
            connection: connection.to_string(),
            base_url: api_root(connection, base_url)?,
            rate_limit_calls: 60,
            rate_limit_window: Duration::from_secs(60),
            page_size: 100,
            timeout: Duration::from_secs(30),
            purchase_endpoint: PurchaseEndpoint::Auto,
        })
    }

    /// From a connection's options object (`base_url` included).
    pub fn from_options(connection: &str, options: &Value) -> Result<Self, Cin7Error> {
        let Value::Object(m) = options else {
            return Err(Cin7Error::Config {
                connection: connection.into(),
                key: "(options)".into(),
                problem: "must be a table of settings".into(),
            });
        };
        let map: BTreeMap<String, Value> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let base = match m.get("base_url") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            _ => {
                return Err(Cin7Error::Config {
                    connection: connection.into(),
                    key: "base_url".into(),
                    problem: "is required (e.g. base_url = \"https://inventory.dearsystems.com/ExternalApi/v2/\")"
                        .into(),
                });
            }
        };
        Self::from_parts(connection, &base, &map)
    }

    /// From the runtime's connection settings: the base URL and the other options.
    pub fn from_parts(connection: &str, base_url: &str, options: &BTreeMap<String, Value>) -> Result<Self, Cin7Error> {
        let mut s = Self::new(connection, base_url)?;
        let err =
            |key: &str, problem: String| Cin7Error::Config { connection: connection.into(), key: key.into(), problem };
        for (k, v) in options {
            if IGNORED.contains(&k.as_str()) || k == "base_url" {
                continue;
            }
            if !KNOWN.contains(&k.as_str()) {
                return Err(err(k, format!("is not a Cin7 option (known: {})", KNOWN.join(", "))));
            }
            let int = |lo: u64, hi: u64| -> Result<u64, Cin7Error> {
                let n = match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(t) => t.trim().parse().ok(),
                    _ => None,
                };
                n.filter(|n| (lo..=hi).contains(n))
                    .ok_or_else(|| err(k, format!("must be a whole number from {lo} to {hi}, not {v}")))
            };
            match k.as_str() {
                "rate_limit_calls" => s.rate_limit_calls = int(1, 10_000)? as u32,
                "rate_limit_window_secs" => {
                    // Fractions allowed so tests and the demo can compress time (0.25 = 250 ms).
                    let secs = match v {
                        Value::Number(n) => n.as_f64(),
                        Value::String(t) => t.trim().parse().ok(),
                        _ => None,
                    };
                    let secs = secs
                        .filter(|x| x.is_finite() && *x > 0.0 && *x <= 86_400.0)
                        .ok_or_else(|| err(k, format!("must be a number of seconds above 0 (e.g. 60), not {v}")))?;
                    s.rate_limit_window = Duration::from_secs_f64(secs);
                }
                "page_size" => s.page_size = int(1, 1000)? as u32,
                "timeout_secs" => s.timeout = Duration::from_secs(int(1, 600)?),
                "purchase_endpoint" => {
                    s.purchase_endpoint = match v.as_str().map(str::to_ascii_lowercase).as_deref() {
                        Some("auto") => PurchaseEndpoint::Auto,
                        Some("advanced") => PurchaseEndpoint::Advanced,
                        Some("legacy") => PurchaseEndpoint::Legacy,
                        _ => return Err(err(k, format!("must be \"auto\", \"advanced\" or \"legacy\", not {v}"))),
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }
}

/// The API root from what a person typed: a bare host gets `/ExternalApi/v2/`; the deprecated v1
/// root is refused with the fix.
fn api_root(connection: &str, base_url: &str) -> Result<Url, Cin7Error> {
    let err = |problem: String| Cin7Error::Config { connection: connection.into(), key: "base_url".into(), problem };
    let mut u = Url::parse(base_url.trim()).map_err(|e| err(format!("{base_url:?} is not a URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(err(format!("{base_url:?} is not an http(s) URL")));
    }
    let path = u.path().trim_end_matches('/').to_string();
    let lower = path.to_ascii_lowercase();
    if path.is_empty() {
        u.set_path("/ExternalApi/v2/");
    } else if lower.ends_with("/externalapi") {
        return Err(err(format!(
            "{base_url:?} is the deprecated v1 API; use {}/v2/",
            u.as_str().trim_end_matches('/')
        )));
    } else {
        u.set_path(&format!("{path}/"));
    }
    u.set_query(None);
    u.set_fragment(None);
    Ok(u)
}

/// Cin7's answer rules: its three throttle signals (429, 503, or a 400 whose error says "You
/// have reached 60 calls per 60 seconds API limit."), 403 for bad keys, HTML with status 200 for
/// unknown paths (never data), and its own JSON error arrays for other 4xx, which are handed to
/// the connector to read (so errors quote Cin7's `Exception` text in full).
#[derive(Debug, Clone)]
struct Cin7Rules(DefaultClassifier);

impl Cin7Rules {
    fn new() -> Self {
        Cin7Rules(
            DefaultClassifier::new()
                .rate_limited_when_body_contains("calls per 60 seconds")
                .rate_limited_when_body_contains("calls per minute")
                .unauthorized_status(403),
        )
    }
}

impl Classifier for Cin7Rules {
    fn classify(&self, a: &Answer<'_>) -> Verdict {
        match self.0.classify(a) {
            Verdict::Rejected { .. }
                if a.status.is_client_error()
                    && !a.body.iter().all(u8::is_ascii_whitespace)
                    && looks_like_json(a.headers, a.body) =>
            {
                Verdict::Ok
            }
            v => v,
        }
    }
}

/// One HTTP client per API application in the process, so the application's calls share one
/// connection pool and one set of counters. The *budget* does not depend on this sharing: it is
/// the kit's, named after the application (`cin7 <base>|<account>|<sha256 of key>`), so every
/// client built for the same application counts against one budget in the process, and against
/// one across workers once the runtime gives the kit a shared store. Entries die with their last
/// client.
fn shared_http(settings: &Cin7Settings, creds: &Cin7Credentials) -> Result<Arc<HttpClient>, Cin7Error> {
    type Entry = (Weak<HttpClient>, u32, Duration);
    static SHARED: OnceLock<Mutex<HashMap<String, Entry>>> = OnceLock::new();
    let key = format!(
        "{}|{}|{}",
        settings.base_url.as_str().to_ascii_lowercase(),
        norm_id(creds.account_id.expose()),
        hex::encode(Sha256::digest(creds.application_key.expose().as_bytes()))
    );
    let map = SHARED.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned map only means another thread panicked mid-insert; the entries stay usable.
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.retain(|_, (w, _, _)| w.strong_count() > 0);
    if let Some((w, calls, window)) = m.get(&key)
        && let Some(c) = w.upgrade()
    {
        if (*calls, *window) != (settings.rate_limit_calls, settings.rate_limit_window) {
            tracing::warn!(
                system = "cin7",
                connection = %settings.connection,
                "another connection to the same Cin7 API application already set its budget ({calls} calls per {window:?}); \
                 this one shares it and its own rate_limit_* options are not used"
            );
        }
        return Ok(c);
    }
    let window = settings.rate_limit_window;
    // Keep a margin: requests reach Cin7 a little after we let them go, not always in order.
    let margin = (window / 20).max(Duration::from_millis(50));
    let config = ConnectionConfig::new("cin7", settings.base_url.clone())
        .rate_limit(RateLimit::Window { max: settings.rate_limit_calls, per: window + margin })
        .budget(format!("cin7 {key}"))
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
        .header("Accept", "application/json")
        .retry(RetryPolicy {
            // Short backoffs for blips (a 60 s window gives 2, 4, 8 s ceilings); a throttle that
            // outlasts them gets one full-window wait in `call` (Cin7 sends no Retry-After).
            max_attempts: 4,
            base: (window / 10).clamp(Duration::from_millis(50), Duration::from_secs(2)),
            cap: window,
            // Sleep a server's Retry-After up to two windows (at least 5 s: whole seconds are its
            // unit); longer waits go back to the engine, which parks the item.
            park_after: (window * 2).max(Duration::from_secs(5)),
        });
    let http = Arc::new(HttpClient::new(config, Arc::new(creds.headers()), Arc::new(Cin7Rules::new()))?);
    m.insert(key, (Arc::downgrade(&http), settings.rate_limit_calls, settings.rate_limit_window));
    Ok(http)
}

/// A connection to one Cin7 Core account. Cheap to clone.
#[derive(Clone)]
pub struct Cin7Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) settings: Cin7Settings,
    pub(crate) creds: Cin7Credentials,
    pub(crate) http: Arc<HttpClient>,
    /// Endpoint learnt for `get_purchase` in auto mode: 0 unknown, 1 advanced, 2 legacy.
    learnt: AtomicU8,
}

impl std::fmt::Debug for Cin7Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cin7Client")
            .field("connection", &self.inner.settings.connection)
            .field("base_url", &self.inner.settings.base_url.as_str())
            .finish()
    }
}

/// A list endpoint's answer.
struct Listed {
    total: u64,
    page: u32,
    items: Vec<Value>,
}

impl Cin7Client {
    /// Build a client. Clients of the same API application share one pacing budget.
    pub fn new(settings: Cin7Settings, credentials: Credentials) -> Result<Self, Cin7Error> {
        let creds = Cin7Credentials::from_credentials(&settings.connection, &credentials)?;
        let http = shared_http(&settings, &creds)?;
        Ok(Cin7Client { inner: Arc::new(Inner { settings, creds, http, learnt: AtomicU8::new(0) }) })
    }

    pub fn settings(&self) -> &Cin7Settings {
        &self.inner.settings
    }

    /// Call counters (shared with every client of the same API application).
    pub fn stats(&self) -> CallStats {
        self.inner.http.stats()
    }

    /// Send, and read a JSON body; Cin7's 4xx error arrays become [`Cin7Error::Refused`].
    pub(crate) async fn call(&self, req: Request, call: &str, what: &str) -> Result<Value, Cin7Error> {
        let req = req.timeout(self.inner.settings.timeout);
        let resp = match self.inner.http.send(req.clone()).await {
            // Still throttled after the kit's short backoffs, and Cin7 said nothing about when to
            // come back (it never does): the window is rolling, so after one full window every
            // call that filled it (ours and other integrations') has left it. A throttled call
            // was not acted on, so even a write may go again.
            Err(HttpError::RateLimited { retry_after: None, .. }) => {
                let window = self.inner.settings.rate_limit_window;
                let jitter = window.mul_f64(
                    f64::from(
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.subsec_nanos() % 1000)
                            .unwrap_or(0),
                    ) / 20_000.0,
                );
                tracing::info!(
                    system = "cin7",
                    call,
                    wait_ms = u64::try_from((window + jitter).as_millis()).unwrap_or(u64::MAX),
                    "rate limited: waiting one full window"
                );
                tokio::time::sleep(window + jitter).await;
                self.inner.http.send(req).await?
            }
            other => other?,
        };
        let status = resp.status();
        if !status.is_success() {
            // Servers echo what they were sent: quote Cin7's words without our key.
            let server = resp.scrub(&exceptions(resp.bytes()).join("; "));
            return Err(Cin7Error::Refused {
                what: what.to_string(),
                call: call.to_string(),
                status: status.as_u16(),
                fix: fix_for(&server),
                server,
            });
        }
        if resp.bytes().iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        Ok(resp.json::<Value>()?)
    }

    async fn list(
        &self,
        path: &str,
        list_key: &str,
        query: Vec<(&str, String)>,
        what: &str,
    ) -> Result<Listed, Cin7Error> {
        let mut req = Request::get(path);
        let mut shown = Vec::new();
        for (k, v) in &query {
            req = req.query(*k, v);
            shown.push(format!("{k}={v}"));
        }
        let call = format!("GET {path}?{}", shown.join("&"));
        let v = self.call(req, &call, what).await?;
        let Value::Object(m) = &v else {
            return Err(Cin7Error::Unexpected {
                call,
                detail: format!("answered {} instead of the {{Total, Page, {list_key}}} envelope", kind_of(&v)),
                fix: "report this: Cin7 changed the list answer's shape".into(),
            });
        };
        let get = |k: &str| m.iter().find(|(x, _)| x.eq_ignore_ascii_case(k)).map(|(_, v)| v);
        let items = match get(list_key) {
            Some(Value::Array(a)) => a.clone(),
            None | Some(Value::Null) => Vec::new(),
            Some(other) => {
                return Err(Cin7Error::Unexpected {
                    call,
                    detail: format!("{list_key} is {}, not a list", kind_of(other)),
                    fix: "report this: Cin7 changed the list answer's shape".into(),
                });
            }
        };
        let num = |k: &str| get(k).and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
        let page = num("Page").and_then(|p| u32::try_from(p).ok()).unwrap_or(1);
        Ok(Listed { total: num("Total").unwrap_or(items.len() as u64), page, items })
    }

    fn limit(&self, limit: u32) -> u32 {
        limit.clamp(1, 1000)
    }

    /// Purchases changed strictly after `since` (`purchaseList?UpdatedSince=`), oldest first as
    /// Cin7 sorts them. `since` is sent at millisecond precision, floored (see
    /// [`crate::model::query_stamp`]). `limit` is clamped to 1..=1000.
    pub async fn list_purchases_changed(
        &self,
        since: Option<DateTime<Utc>>,
        page: u32,
        limit: u32,
    ) -> Result<Page<PurchaseSummary>, Cin7Error> {
        let limit = self.limit(limit);
        let mut q = vec![("Page", page.max(1).to_string()), ("Limit", limit.to_string())];
        if let Some(t) = since {
            q.push(("UpdatedSince", query_stamp(t)));
        }
        self.summaries(q, "the purchases changed since the cursor").await
    }

    /// `purchaseList?Search=` (order number, status, supplier, invoice or credit note number,
    /// substring match).
    pub async fn search_purchases(
        &self,
        search: &str,
        page: u32,
        limit: u32,
    ) -> Result<Page<PurchaseSummary>, Cin7Error> {
        let q = vec![
            ("Page", page.max(1).to_string()),
            ("Limit", self.limit(limit).to_string()),
            ("Search", search.trim().to_string()),
        ];
        self.summaries(q, &format!("purchases matching {search:?}")).await
    }

    async fn summaries(&self, q: Vec<(&str, String)>, what: &str) -> Result<Page<PurchaseSummary>, Cin7Error> {
        let l = self.list("purchaseList", "PurchaseList", q, what).await?;
        let mut items = Vec::with_capacity(l.items.len());
        for v in &l.items {
            match summary_from(v) {
                Some(s) => items.push(s),
                None => tracing::warn!(system = "cin7", row = %truncate(v), "purchaseList row without an ID skipped"),
            }
        }
        Ok(Page { total: l.total, page: l.page, items })
    }

    /// One purchase, Simple, Advanced or Service, normalised; `None` when Cin7 says it does not
    /// exist.
    ///
    /// Endpoint choice: `advanced-purchase` serves all three types (arrays of sub-documents) and
    /// is the non-deprecated one, so it is read first. Legacy `purchase` (Simple only) is read
    /// only when the account's API answers as if `advanced-purchase` were missing (a web page or
    /// a bare 404), and the choice is remembered; `purchase_endpoint = "legacy"` reverses the
    /// order, falling back when Cin7 answers "Please use AdvancedPurchase endpoint". Both shapes
    /// decode into the same model (single objects, `InvocieNumber`).
    pub async fn get_purchase(&self, id: &str) -> Result<Option<Purchase>, Cin7Error> {
        let id = norm_id(id);
        if !looks_like_guid(&id) {
            return Err(Cin7Error::Invalid {
                what: format!("purchase {id:?}"),
                problem: "a purchase ID is a GUID (8-4-4-4-12 hex digits)".into(),
            });
        }
        let learnt = self.inner.learnt.load(Ordering::Relaxed);
        let first = match (self.inner.settings.purchase_endpoint, learnt) {
            (PurchaseEndpoint::Legacy, _) | (PurchaseEndpoint::Auto, 2) => Endpoint::Legacy,
            _ => Endpoint::Advanced,
        };
        match self.read_purchase(&id, first).await {
            Err(e)
                if first == Endpoint::Advanced
                    && self.inner.settings.purchase_endpoint == PurchaseEndpoint::Auto
                    && e.is_missing_endpoint() =>
            {
                tracing::warn!(system = "cin7", error = %e, "advanced-purchase is not answering as an API; reading the legacy purchase endpoint");
                let r = self.read_purchase(&id, Endpoint::Legacy).await;
                if r.is_ok() {
                    self.inner.learnt.store(2, Ordering::Relaxed);
                }
                r
            }
            Err(e)
                if first == Endpoint::Legacy
                    && e.server_text().is_some_and(|s| s.to_ascii_lowercase().contains("advancedpurchase")) =>
            {
                self.read_purchase(&id, Endpoint::Advanced).await
            }
            other => {
                if other.is_ok() && first == Endpoint::Advanced {
                    self.inner.learnt.store(1, Ordering::Relaxed);
                }
                other
            }
        }
    }

    async fn read_purchase(&self, id: &str, endpoint: Endpoint) -> Result<Option<Purchase>, Cin7Error> {
        let path = match endpoint {
            Endpoint::Advanced => "advanced-purchase",
            Endpoint::Legacy => "purchase",
        };
        let call = format!("GET {path}?ID={id}");
        let req = Request::get(path).query("ID", id);
        match self.call(req, &call, &format!("purchase {id}")).await {
            Ok(v) => match purchase_from(&v, endpoint) {
                Some(p) => Ok(Some(p)),
                None if v.is_null() => Ok(None),
                None => Err(Cin7Error::Unexpected {
                    call,
                    detail: format!("answered {} without a purchase ID", kind_of(&v)),
                    fix: "report this: Cin7 changed the purchase answer's shape".into(),
                }),
            },
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The purchase a webhook's `TaskID` points at. For Advanced purchases that id may be a
    /// sub-document's task id rather than the purchase id (fact sheet §7, unknown): try it as a
    /// purchase id first, then find the purchase by its order number (`purchaseList?Search=`,
    /// exact match), preferring the one that owns the task. `None` when neither finds it.
    pub async fn resolve_purchase_task(
        &self,
        task_id: &str,
        order_number: Option<&str>,
    ) -> Result<Option<Purchase>, Cin7Error> {
        let task = norm_id(task_id);
        if looks_like_guid(&task)
            && let Some(p) = self.get_purchase(&task).await?
        {
            return Ok(Some(p));
        }
        let Some(order) = order_number.map(str::trim).filter(|o| !o.is_empty()) else { return Ok(None) };
        let page = self.search_purchases(order, 1, 100).await?;
        let mut first = None;
        for s in page.items.iter().filter(|s| s.order_number.trim().eq_ignore_ascii_case(order)) {
            if let Some(p) = self.get_purchase(&s.id).await? {
                if p.has_task(&task) {
                    return Ok(Some(p));
                }
                first.get_or_insert(p);
            }
        }
        if let Some(p) = &first {
            tracing::warn!(system = "cin7", task = %task, order = %order, purchase = %p.id, "task id not found on the purchase with that order number; using the purchase");
        }
        Ok(first)
    }

    /// Suppliers changed strictly after `since` (`supplier?ModifiedSince=`), deprecated ones
    /// included (a supplier being deprecated is a change the vendor must follow).
    pub async fn list_suppliers_changed(
        &self,
        since: Option<DateTime<Utc>>,
        page: u32,
        limit: u32,
    ) -> Result<Page<Supplier>, Cin7Error> {
        let mut q = vec![
            ("Page", page.max(1).to_string()),
            ("Limit", self.limit(limit).to_string()),
            ("IncludeDeprecated", "true".to_string()),
        ];
        if let Some(t) = since {
            q.push(("ModifiedSince", query_stamp(t)));
        }
        let l = self.list("supplier", "SupplierList", q, "the suppliers changed since the cursor").await?;
        Ok(Page { total: l.total, page: l.page, items: l.items.iter().filter_map(supplier_from).collect() })
    }

    /// One supplier (deprecated ones too); `None` when it does not exist.
    pub async fn get_supplier(&self, id: &str) -> Result<Option<Supplier>, Cin7Error> {
        let id = norm_id(id);
        let q = vec![("ID", id.clone()), ("IncludeDeprecated", "true".to_string())];
        match self.list("supplier", "SupplierList", q, &format!("supplier {id}")).await {
            Ok(l) => Ok(l.items.iter().filter_map(supplier_from).find(|s| same_guid(&s.id, &id))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The whole chart of accounts (`ref/account`, every page). Read-only: ml-connector never
    /// writes accounts (Cin7 refuses while Xero/QuickBooks is connected, and the chart is not ours).
    pub async fn list_accounts(&self) -> Result<Vec<Account>, Cin7Error> {
        let limit = self.inner.settings.page_size;
        let mut out = Vec::new();
        let mut page = 1u32;
        loop {
            let q = vec![("Page", page.to_string()), ("Limit", limit.to_string())];
            let l = self.list("ref/account", "AccountsList", q, "the chart of accounts").await?;
            let n = l.items.len();
            out.extend(l.items.iter().filter_map(account_from));
            if n < limit as usize || out.len() as u64 >= l.total || page >= 10_000 {
                return Ok(out);
            }
            page += 1;
        }
    }

    /// Registered webhooks (`GET webhooks`). Fails with a refusal when the Automation add-on is
    /// missing.
    pub async fn list_webhooks(&self) -> Result<Vec<Webhook>, Cin7Error> {
        let v = self.call(Request::get("webhooks"), "GET webhooks", "the webhooks").await.map_err(automation)?;
        Ok(webhook_items(&v).into_iter().filter_map(webhook_from).collect())
    }

    /// Register a webhook for `event_type` (e.g. `Purchase/InvoiceAuthorised`) posting to `url`
    /// with these extra headers (`ExternalHeaders`). Accepts both answer shapes (`{"Webhooks":
    /// [obj]}` and the bare object). A create: never re-sent after a lost answer
    /// ([`Cin7Error::InDoubt`]; list the webhooks before trying again).
    pub async fn register_webhook(
        &self,
        event_type: &str,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<Webhook, Cin7Error> {
        let body = serde_json::json!({
            "Type": event_type,
            "ExternalURL": url,
            "IsActive": true,
            "ExternalAuthorizationType": "noauth",
            "ExternalHeaders": headers.iter().map(|(k, v)| serde_json::json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
        });
        let what = format!("webhook {event_type} → {url}");
        let v = self.call(Request::post("webhooks").json(&body), "POST webhooks", &what).await.map_err(automation)?;
        webhook_items(&v).into_iter().find_map(webhook_from).ok_or_else(|| Cin7Error::Unexpected {
            call: "POST webhooks".into(),
            detail: format!("answered {} without the created webhook", kind_of(&v)),
            fix: "list the webhooks (`GET webhooks`) to see whether it was created".into(),
        })
    }

    /// Make sure one active webhook of `event_type` posts to `url` with this connection's secret
    /// header: looks first, registers only when none is there (no duplicates, as Cin7 allows 5
    /// per type).
    pub async fn ensure_webhook(&self, event_type: &str, url: &str) -> Result<Webhook, Cin7Error> {
        let (header, secret) = crate::webhook::secret_header(&self.inner.settings.connection, &self.inner.creds.all)?;
        let existing = self.list_webhooks().await?;
        if let Some(w) = existing.into_iter().find(|w| {
            w.is_active
                && w.event_type.eq_ignore_ascii_case(event_type)
                && w.url == url
                && w.header_names.iter().any(|h| h.eq_ignore_ascii_case(&header))
        }) {
            return Ok(w);
        }
        self.register_webhook(event_type, url, &[(header.as_str(), secret.expose().as_str())]).await
    }

    /// Delete a webhook (`DELETE webhooks?ID=`).
    pub async fn delete_webhook(&self, id: &str) -> Result<(), Cin7Error> {
        let id = norm_id(id);
        let req = Request::delete("webhooks").query("ID", &id);
        self.call(req, &format!("DELETE webhooks?ID={id}"), &format!("webhook {id}")).await.map_err(automation)?;
        Ok(())
    }
}

/// A 403 from `webhooks` after the keys worked elsewhere is the Automation add-on missing.
fn automation(e: Cin7Error) -> Cin7Error {
    match e {
        Cin7Error::Auth { message, .. } if message.to_ascii_lowercase().contains("automation") => Cin7Error::Refused {
            what: "the webhooks (Automation module)".into(),
            call: "webhooks".into(),
            status: 403,
            fix: fix_for("automation"),
            server: message,
        },
        other => other,
    }
}

fn webhook_items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(m) => match m.iter().find(|(k, _)| k.eq_ignore_ascii_case("Webhooks")).map(|(_, v)| v) {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(o @ Value::Object(_)) => vec![o],
            _ => vec![v],
        },
        _ => Vec::new(),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn truncate(v: &Value) -> String {
    v.to_string().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_from_options() {
        let s = Cin7Settings::from_options(
            "cin7",
            &json!({"base_url": "https://inventory.dearsystems.com", "system": "cin7"}),
        )
        .unwrap();
        assert_eq!(s.base_url.as_str(), "https://inventory.dearsystems.com/ExternalApi/v2/");
        assert_eq!((s.rate_limit_calls, s.rate_limit_window, s.page_size), (60, Duration::from_secs(60), 100));
        let s = Cin7Settings::from_options(
            "cin7",
            &json!({"base_url": "http://127.0.0.1:9/ExternalApi/v2", "rate_limit_calls": 5, "rate_limit_window_secs": 0.5,
                    "page_size": "1000", "timeout_secs": 5, "purchase_endpoint": "legacy"}),
        )
        .unwrap();
        assert_eq!(s.base_url.as_str(), "http://127.0.0.1:9/ExternalApi/v2/");
        assert_eq!((s.rate_limit_calls, s.rate_limit_window, s.page_size), (5, Duration::from_millis(500), 1000));
        assert_eq!(s.purchase_endpoint, PurchaseEndpoint::Legacy);
        for (bad, key) in [
            (json!({"base_url": "https://x/ExternalApi/v2", "page_size": 0}), "page_size"),
            (json!({"base_url": "https://x/ExternalApi/v2", "pagesize": 10}), "pagesize"),
            (json!({"base_url": "https://x/ExternalApi/"}), "base_url"),
            (json!({"base_url": "ftp://x"}), "base_url"),
            (json!({}), "base_url"),
            (json!({"base_url": "https://x", "rate_limit_window_secs": 0}), "rate_limit_window_secs"),
        ] {
            let e = Cin7Settings::from_options("cin7", &bad).unwrap_err().to_string();
            assert!(e.contains(&format!("option {key}")) && e.contains("Cin7 connection cin7"), "{e}");
        }
    }
}
