//! [`ProcoreClient`]: the transport every Procore call goes through, and paging.
//!
//! - **One HTTP client and one budget per app and company in the process.** Procore counts calls
//!   per app (client id) and company; every connection built for the same base URL, client id
//!   and company shares one [`HttpClient`] (pacing, token, counters) and one [`RateGate`].
//! - **Budget.** Two layers: the kit's rolling-window limiter keeps the spike window
//!   (`spike_limit` per `spike_window_secs`, default 25 per 10 s, with a 5 % margin), and the
//!   [`RateGate`] reads `X-Rate-Limit-Limit/-Remaining/-Reset` from *every* answer (including
//!   429s and retries, through the classifier) and holds a call back when the window the server
//!   is closest to exhausting — spike or hourly — would drop below `rate_limit_reserve`. A wait
//!   longer than `max_wait_secs` is not slept: the call fails as rate limited with the wait, and
//!   the engine parks the item. So steady state sees no 429.
//! - **429 and 503.** A 429 waits for `Retry-After`, or, when Procore sends none, for
//!   `X-Rate-Limit-Reset` read against the answer's `Date`; a 503 with `Retry-After` likewise
//!   (and may be retried even for a write: Procore refused it). Other 5xx: backoff for reads, the
//!   in-doubt rule for writes.
//! - **Answers.** 4xx bodies are read here so errors quote Procore's words: 403 "App is not
//!   connected to this company." → [`ProcoreError::NotConnected`]; other 403s (project not
//!   permitted, tool not granted) → [`ProcoreError::Forbidden`]; 404 → "not found" (`None` from
//!   the `get_*` reads); 409/422/400 → [`ProcoreError::Refused`].
//! - **Paging** ([`ProcoreClient::list_all`]): `page` + `per_page` (always sent), follow while the
//!   `Link` header has `rel="next"` (never by guessing from counts), with our own query (the
//!   link's URL shape is not relied on; its `page` number is). If `Total` changes between pages,
//!   or a row comes back twice in one pass, records were added, removed or moved while we read:
//!   the listing is read again (up to three passes); the first pass without movement is the
//!   answer, and if every pass moved, their union by id (the latest copy of each row). A removal balanced by an addition within one read leaves no trace in
//!   the answers and is not detected; the flows' overlapping poll windows and the nightly
//!   reconciliation cover that case.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, SystemTime};

use mlc_core::secret::Credentials;
use mlc_http::{
    Answer, CallStats, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, HttpError, RateLimit, Request,
    Response, RetryPolicy, Verdict, retry_after,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{ProcoreCredentials, webhook_secrets};
use crate::errors::{INSTALL_FIX, ProcoreError, server_message};
use crate::kit_pending::{RateGate, WaitTooLong, link, reset_wait};
use crate::settings::ProcoreSettings;

/// Procore's answer rules: budget headers observed on every answer, 429 with `Retry-After` or
/// the reset time, and every other 4xx handed to the connector to read.
struct ProcoreRules {
    base: DefaultClassifier,
    gate: Arc<RateGate>,
}

impl Classifier for ProcoreRules {
    fn classify(&self, a: &Answer<'_>) -> Verdict {
        self.gate.observe(a.headers);
        if a.status.as_u16() == 429 {
            let wait = retry_after(a.headers, SystemTime::now()).or_else(|| reset_wait(a.headers));
            return Verdict::RateLimited { retry_after: wait };
        }
        match self.base.classify(a) {
            Verdict::Rejected { .. } if a.status.is_client_error() => Verdict::Ok,
            v => v,
        }
    }
}

struct Shared {
    http: HttpClient,
    gate: Arc<RateGate>,
}

/// One HTTP client and gate per app + company + base URL in the process.
fn shared(
    settings: &ProcoreSettings,
    creds: &ProcoreCredentials,
    all: &Credentials,
) -> Result<Arc<Shared>, ProcoreError> {
    static SHARED: OnceLock<Mutex<HashMap<String, Weak<Shared>>>> = OnceLock::new();
    let key =
        format!("{}|{}|{}", settings.base_url.as_str().to_ascii_lowercase(), creds.client_id, settings.company_id);
    let map = SHARED.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned map only means another thread panicked mid-insert; the entries stay usable.
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    m.retain(|_, w| w.strong_count() > 0);
    if let Some(s) = m.get(&key).and_then(Weak::upgrade) {
        return Ok(s);
    }
    let gate = Arc::new(RateGate::new(settings.rate_limit_reserve));
    let mut config = ConnectionConfig::new("procore", settings.base_url.clone())
        .timeout(settings.timeout)
        .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
        .header("Accept", "application/json")
        // Required on every call, /me and /companies included (fact sheet §2.3).
        .header("Procore-Company-Id", settings.company_id.to_string())
        .retry(RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(20),
            park_after: settings.max_wait,
        });
    if let Some((calls, window)) = settings.spike {
        // Requests reach Procore a little after they leave us, not always in order.
        let margin = (window / 20).max(Duration::from_millis(50));
        config = config.rate_limit(RateLimit::Window { max: calls, per: window + margin });
    }
    let rules = ProcoreRules { base: DefaultClassifier::new(), gate: gate.clone() };
    let http = HttpClient::new(config, Arc::new(creds.auth(settings, webhook_secrets(all))), Arc::new(rules))?;
    let s = Arc::new(Shared { http, gate });
    m.insert(key, Arc::downgrade(&s));
    Ok(s)
}

/// A connection to one Procore company. Cheap to clone.
#[derive(Clone)]
pub struct ProcoreClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) settings: ProcoreSettings,
    pub(crate) creds: Credentials,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ProcoreClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcoreClient")
            .field("connection", &self.inner.settings.connection)
            .field("base_url", &self.inner.settings.base_url.as_str())
            .field("company_id", &self.inner.settings.company_id)
            .finish()
    }
}

/// `start...end` for `filters[updated_at]` (both ends inclusive).
pub type Span = (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>);

/// A range as Procore's filters want it: `2025-06-01T10:00:00Z...2025-06-02T10:00:00Z`.
pub fn range_param(span: &Span) -> String {
    let f = |t: &chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    format!("{}...{}", f(&span.0), f(&span.1))
}

/// Most pages one listing may take (a loop guard).
const MAX_PAGES: u32 = 10_000;

impl ProcoreClient {
    /// A client for these settings and credentials (`client_id`, `client_secret`).
    pub fn new(settings: ProcoreSettings, creds: Credentials) -> Result<Self, ProcoreError> {
        let c = ProcoreCredentials::from_credentials(&settings.connection, &creds)?;
        let shared = shared(&settings, &c, &creds)?;
        Ok(ProcoreClient { inner: Arc::new(Inner { settings, creds, shared }) })
    }

    pub fn settings(&self) -> &ProcoreSettings {
        &self.inner.settings
    }

    pub fn company_id(&self) -> i64 {
        self.inner.settings.company_id
    }

    /// Call counters (shared by every client of the same app and company).
    pub fn stats(&self) -> CallStats {
        self.inner.shared.http.stats()
    }

    /// Calls the budget gate believes are left in the tighter window.
    pub fn budget_remaining(&self) -> Option<i64> {
        self.inner.shared.gate.remaining()
    }

    /// Send one request through the gate and the kit, and judge the answer. `what` names the
    /// record or list for messages ("requisition 42 of project 7").
    pub async fn send(&self, req: Request, what: &str) -> Result<Response, ProcoreError> {
        let max_wait = self.inner.settings.max_wait;
        if let Err(WaitTooLong(w)) = self.inner.shared.gate.acquire(max_wait).await {
            return Err(ProcoreError::Http(HttpError::RateLimited {
                system: "procore".into(),
                method: req.method().to_string(),
                url: what.to_string(),
                retry_after: Some(w),
                snippet: "held back: the app's budget for this company is spent until the window resets".into(),
            }));
        }
        let method = req.method().to_string();
        let resp = self.inner.shared.http.send(req).await?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(resp);
        }
        let server = server_message(resp.bytes());
        let call = format!("{method} {what}");
        Err(match status {
            403 if server.to_ascii_lowercase().contains("not connected") => ProcoreError::NotConnected {
                company: self.inner.settings.company_id,
                call,
                server,
                fix: INSTALL_FIX.into(),
            },
            403 => ProcoreError::Forbidden {
                what: what.to_string(),
                call,
                server,
                fix: "in Procore, Company Admin → App Management: permit this project for the app and grant its \
                      service account the tool (read-only is enough: Directory, Commitments, Invoicing, Direct Costs, \
                      Admin for cost codes; Webhooks API = Standard to manage hooks)"
                    .into(),
            },
            400 if server.contains("Procore-Company-Id") => ProcoreError::Refused {
                what: what.to_string(),
                call,
                status,
                server,
                fix: Some("report this: the connector sends Procore-Company-Id on every call".into()),
            },
            _ => ProcoreError::Refused { what: what.to_string(), call, status, server, fix: None },
        })
    }

    /// GET and decode.
    pub async fn get_json<T: DeserializeOwned>(&self, req: Request, what: &str) -> Result<T, ProcoreError> {
        let resp = self.send(req, what).await?;
        Ok(resp.json::<T>()?)
    }

    /// GET and decode; 404 → `None`.
    pub async fn get_opt<T: DeserializeOwned>(&self, req: Request, what: &str) -> Result<Option<T>, ProcoreError> {
        match self.send(req, what).await {
            Ok(resp) => Ok(Some(resp.json::<T>()?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every row of a list, across `Link` pages (see the module docs). `query` is sent on every
    /// page; `page` and `per_page` are added.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
        what: &str,
    ) -> Result<Vec<T>, ProcoreError> {
        let per_page = self.inner.settings.page_size;
        // Rows by id in first-seen order; a later pass replaces a row with its fresher copy.
        let mut order: Vec<String> = Vec::new();
        let mut by_id: HashMap<String, Value> = HashMap::new();
        for pass in 0..3 {
            let mut page: u32 = 1;
            let mut first_total: Option<Option<u64>> = None;
            let mut seen_this_pass: BTreeSet<String> = BTreeSet::new();
            let mut drifted = false;
            loop {
                let mut req = Request::get(path);
                for (k, v) in query {
                    req = req.query(k, v);
                }
                req = req.query("page", page).query("per_page", per_page);
                let resp = self.send(req, what).await?;
                let batch: Vec<Value> = resp.json::<Vec<Value>>()?;
                let total = resp.header("total").and_then(|t| t.trim().parse::<u64>().ok());
                match first_total {
                    None => first_total = Some(total),
                    Some(t) if t != total => drifted = true,
                    _ => {}
                }
                for r in batch {
                    let key = match r.get("id") {
                        Some(Value::Number(n)) => n.to_string(),
                        Some(Value::String(s)) => s.clone(),
                        _ => format!("#{}", order.len()),
                    };
                    // A row seen twice in one pass: records were inserted before our offset.
                    if !seen_this_pass.insert(key.clone()) {
                        drifted = true;
                    }
                    if by_id.insert(key.clone(), r).is_none() {
                        order.push(key);
                    }
                }
                let Some(next) = link(resp.headers(), "next") else { break };
                let asked = url::Url::parse(&next)
                    .ok()
                    .and_then(|u| u.query_pairs().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse::<u32>().ok()));
                // Only forward: a link back to an earlier page would loop.
                page = asked.filter(|p| *p > page).unwrap_or(page + 1);
                if page > MAX_PAGES {
                    return Err(ProcoreError::Invalid {
                        what: what.to_string(),
                        problem: format!("more than {MAX_PAGES} pages; narrow the listing"),
                    });
                }
            }
            if !drifted {
                // A pass that saw no movement is the truth: drop rows only earlier passes saw.
                order.retain(|k| seen_this_pass.contains(k));
                break;
            }
            tracing::debug!(system = "procore", what, pass, "the list changed while it was read; reading it again");
        }
        let rows: Vec<Value> = order.into_iter().filter_map(|k| by_id.remove(&k)).collect();
        rows.into_iter()
            .map(|r| {
                let id = r.get("id").cloned().unwrap_or(Value::Null);
                serde_json::from_value::<T>(r).map_err(|e| ProcoreError::Invalid {
                    what: format!("{what}: record {id}"),
                    problem: format!("could not be read: {e}"),
                })
            })
            .collect()
    }
}
