//! [`ProcoreClient`]: the transport every Procore call goes through, and paging.
//!
//! - **One budget per app and company.** Procore counts calls per app (client id) and company,
//!   so every client of the pair shares the kit's budget `procore <host>:<port> <client_id>
//!   <company_id>` (environments have their own budgets)
//!   (across processes once the runtime hands the kit a shared budget store).
//! - **Budget.** The kit keeps the spike window (`spike_limit` per `spike_window_secs`, default
//!   25 per 10 s, with a 5 % margin) and reads `X-Rate-Limit-Limit/-Remaining/-Reset` from every
//!   answer: what Procore says is left in the window it is closest to exhausting — spike or
//!   hourly — tightens the budget until that window resets, counting calls in flight. A wait
//!   longer than `max_wait_secs` is not slept: the call fails as over budget with the wait, and
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
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mlc_core::secret::Credentials;
use mlc_http::fault::vendor_words;
use mlc_http::paging::link_rel;
use mlc_http::{
    Answer, CallStats, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, RateHeaders, RateLimit, Request,
    Response, RetryPolicy, Verdict, retry_after,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::{ProcoreCredentials, webhook_secrets};
use crate::errors::{INSTALL_FIX, ProcoreError};
use crate::settings::ProcoreSettings;

/// Procore's answer rules: a 429 waits for `Retry-After`, or when Procore sends none, for
/// `X-Rate-Limit-Reset`; every other 4xx is handed to the connector to read.
struct ProcoreRules(DefaultClassifier);

impl Classifier for ProcoreRules {
    fn classify(&self, a: &Answer<'_>) -> Verdict {
        if a.status.as_u16() == 429 {
            let wait = retry_after(a.headers, SystemTime::now()).or_else(|| reset_wait(a.headers));
            return Verdict::RateLimited { retry_after: wait };
        }
        match self.0.classify(a) {
            Verdict::Rejected { .. } if a.status.is_client_error() => Verdict::Ok,
            v => v,
        }
    }
}

/// Time until `X-Rate-Limit-Reset` (Unix seconds), read against the answer's `Date` when our
/// clock disagrees with it by more than two seconds (a server on another clock), else against
/// ours (which keeps the fraction `Date` lacks).
fn reset_wait(headers: &http::HeaderMap) -> Option<Duration> {
    let reset: i64 = headers.get("x-rate-limit-reset")?.to_str().ok()?.trim().parse().ok()?;
    let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let local = secs(SystemTime::now());
    let server = headers
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .map(secs);
    let now = match server {
        Some(s) if (s - local).abs() > 2.0 => s,
        _ => local,
    };
    let left = reset as f64 - now;
    Some(if left > 0.0 { Duration::from_secs_f64(left) } else { Duration::ZERO })
}

/// A connection to one Procore company. Cheap to clone.
#[derive(Clone)]
pub struct ProcoreClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) settings: ProcoreSettings,
    pub(crate) creds: Credentials,
    http: HttpClient,
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

/// One page of a list (see [`ProcoreClient::list_page`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub rows: Vec<Value>,
    /// The `Total` header (rows in the whole listing), when sent.
    pub total: Option<u64>,
    /// The next page, when `Link` names one.
    pub next: Option<u32>,
}

/// Most pages one listing may take (a loop guard).
const MAX_PAGES: u32 = 10_000;

impl ProcoreClient {
    /// A client for these settings and credentials (`client_id`, `client_secret`).
    pub fn new(settings: ProcoreSettings, creds: Credentials) -> Result<Self, ProcoreError> {
        let c = ProcoreCredentials::from_credentials(&settings.connection, &creds)?;
        let rule = match settings.spike {
            // Requests reach Procore a little after they leave us, not always in order.
            Some((calls, window)) => {
                RateLimit::Window { max: calls, per: window + (window / 20).max(Duration::from_millis(50)) }
            }
            // No pacing of our own: the documented hourly budget, tightened by the headers.
            None => RateLimit::Window { max: 3600, per: Duration::from_secs(3600) },
        };
        let config = ConnectionConfig::new("procore", settings.base_url.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .header("Accept", "application/json")
            // Required on every call, /me and /companies included (fact sheet §2.3).
            .header("Procore-Company-Id", settings.company_id.to_string())
            .rate_limit(rule)
            .rate_limit_headers(RateHeaders::procore())
            // Procore counts per app and company (each environment apart): every client of the
            // pair shares this budget.
            .budget(format!(
                "procore {}:{} {} {}",
                settings.base_url.host_str().unwrap_or(""),
                settings.base_url.port_or_known_default().unwrap_or(0),
                c.client_id,
                settings.company_id
            ))
            .retry(RetryPolicy {
                max_attempts: 4,
                base: Duration::from_millis(500),
                cap: Duration::from_secs(20),
                park_after: settings.max_wait,
            });
        let auth = c.auth(&settings, webhook_secrets(&creds));
        let http = HttpClient::new(config, Arc::new(auth), Arc::new(ProcoreRules(DefaultClassifier::new())))?;
        Ok(ProcoreClient { inner: Arc::new(Inner { settings, creds, http }) })
    }

    pub fn settings(&self) -> &ProcoreSettings {
        &self.inner.settings
    }

    pub fn company_id(&self) -> i64 {
        self.inner.settings.company_id
    }

    /// Call counters of this connection.
    pub fn stats(&self) -> CallStats {
        self.inner.http.stats()
    }

    /// Send one request through the kit (budget, auth, retries) and judge the answer. `what` names the
    /// record or list for messages ("requisition 42 of project 7").
    pub async fn send(&self, req: Request, what: &str) -> Result<Response, ProcoreError> {
        let method = req.method().to_string();
        let resp = self.inner.http.send(req).await?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(resp);
        }
        let server = resp.scrub(&vendor_words(resp.bytes()).join("; "));
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

    /// One page of a list: its rows (raw, for the caller to decode), the `Total` header, and the
    /// page the `Link` header's `rel="next"` names (`None` on the last page). Discovery reads
    /// one page per call so a poll's work stays bounded; [`Self::list_all`] reads every page.
    pub async fn list_page(
        &self,
        path: &str,
        query: &[(String, String)],
        page: u32,
        what: &str,
    ) -> Result<ListPage, ProcoreError> {
        let mut req = Request::get(path);
        for (k, v) in query {
            req = req.query(k, v);
        }
        req = req.query("page", page).query("per_page", self.inner.settings.page_size);
        let resp = self.send(req, what).await?;
        let rows: Vec<Value> = resp.json::<Vec<Value>>()?;
        let total = resp.header("total").and_then(|t| t.trim().parse::<u64>().ok());
        let next = resp
            .headers()
            .get_all(http::header::LINK)
            .iter()
            .find_map(|v| v.to_str().ok().and_then(|t| link_rel(t, "next")))
            .map(|next| {
                let asked = url::Url::parse(&next)
                    .ok()
                    .and_then(|u| u.query_pairs().find(|(k, _)| k == "page").and_then(|(_, v)| v.parse::<u32>().ok()));
                // Only forward: a link back to an earlier page would loop.
                asked.filter(|p| *p > page).unwrap_or(page + 1)
            });
        Ok(ListPage { rows, total, next })
    }

    /// Every row of a list, across `Link` pages (see the module docs). `query` is sent on every
    /// page; `page` and `per_page` are added.
    pub async fn list_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(String, String)],
        what: &str,
    ) -> Result<Vec<T>, ProcoreError> {
        // Rows by id in first-seen order; a later pass replaces a row with its fresher copy.
        let mut order: Vec<String> = Vec::new();
        let mut by_id: HashMap<String, Value> = HashMap::new();
        for pass in 0..3 {
            let mut page: u32 = 1;
            let mut first_total: Option<Option<u64>> = None;
            let mut seen_this_pass: BTreeSet<String> = BTreeSet::new();
            let mut drifted = false;
            loop {
                let ListPage { rows: batch, total, next } = self.list_page(path, query, page, what).await?;
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
                let Some(next) = next else { break };
                page = next;
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

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue};

    #[test]
    fn reset_is_read_against_the_servers_date_only_when_the_clocks_disagree() {
        let mut h = HeaderMap::new();
        let server = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1700000007"));
        h.insert("date", HeaderValue::from_str(&httpdate::fmt_http_date(server)).unwrap());
        assert_eq!(reset_wait(&h), Some(Duration::from_secs(7)), "a server on another clock");
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        h.insert("x-rate-limit-reset", HeaderValue::from_str(&(now + 5).to_string()).unwrap());
        h.insert("date", HeaderValue::from_str(&httpdate::fmt_http_date(SystemTime::now())).unwrap());
        let w = reset_wait(&h).unwrap();
        assert!(w > Duration::from_secs(3) && w <= Duration::from_secs(5), "{w:?}");
        h.insert("x-rate-limit-reset", HeaderValue::from_static("1"));
        assert_eq!(reset_wait(&h), Some(Duration::ZERO));
    }
}
