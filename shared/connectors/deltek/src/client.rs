//! [`DeltekClient`]: one connection to one Vantagepoint database, and the call helpers every
//! operation uses (paged reads, filterHash queries, writes, turning refusals into errors).
//!
//! The operations themselves live beside their subject: [`crate::firms`] (vendor firms),
//! [`crate::reference`] (accounts, projects, periods), [`crate::ap`] (AP vouchers in batched
//! files), [`crate::lookup`] (finding an AP invoice), [`crate::journal`], [`crate::ar`] and
//! [`crate::ping`].
//!
//! Vantagepoint's 4xx answers carry the business rule that failed ("Vendor X does not exist.",
//! "Period 202505 is closed."), sometimes as long SQL Server texts. The connector needs all of it
//! (to tell which voucher of a file was refused), so this connection's classifier hands 4xx
//! answers (other than 401, 408 and 429) back as answers and [`DeltekClient`] turns them into
//! [`DeltekError::Refused`] here, with the message read from any of the bodies Vantagepoint
//! sends: `{"Message"}`, `{"message","detail"}`, OAuth `{"error","error_description"}`, an HTML
//! page, or plain text. Everything else (401 refresh, 429/5xx backoff, the in-doubt rule for
//! writes, HTML with status 200 never being data) is the HTTP kit's standard behaviour.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use mlc_core::secret::Credentials;
use mlc_http::{
    Answer, CallStats, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, HttpError, RateLimit, Request,
    Response, RetryPolicy, Verdict,
};
use serde_json::Value;

use crate::decode::{Row, rows, undouble};
use crate::errors::{DeltekError, closed_period_in, fix_for};
use crate::settings::{DeltekCredentials, DeltekSettings};

/// A connection to Deltek Vantagepoint. Cheap to clone; clones share the HTTP connection, the
/// token, the per-run caches and the voucher batcher.
#[derive(Clone)]
pub struct DeltekClient {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for DeltekClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltekClient")
            .field("connection", &self.inner.settings.connection)
            .field("base_url", &self.inner.settings.base_url.as_str())
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub settings: DeltekSettings,
    pub creds: DeltekCredentials,
    pub http: HttpClient,
    pub secrets: Vec<String>,
    pub reference: crate::reference::ReferenceCache,
    pub vendors: crate::firms::VendorCache,
    pub index: crate::lookup::ApIndex,
    pub batcher: crate::ap::Batcher,
    pub visibility: crate::ap::Visibility,
    /// Files created by this client, for unique file names within a second.
    pub file_seq: AtomicU64,
}

/// Vantagepoint's 4xx answers are data for the connector (see the module docs).
struct DeltekClassifier(DefaultClassifier);

impl Classifier for DeltekClassifier {
    fn classify(&self, a: &Answer<'_>) -> Verdict {
        let s = a.status.as_u16();
        if (400..500).contains(&s) && !matches!(s, 401 | 408 | 429) {
            return Verdict::Ok;
        }
        self.0.classify(a)
    }
}

impl DeltekClient {
    /// Build the connection. Nothing is sent until the first call.
    pub fn new(settings: DeltekSettings, credentials: Credentials) -> Result<Self, DeltekError> {
        let creds = DeltekCredentials::from_credentials(&settings.connection, &credentials)?;
        let mut config = ConnectionConfig::new("deltek", settings.base_url.clone())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .retry(RetryPolicy { base: settings.retry_base, ..RetryPolicy::default() })
            .header("Accept", "application/json");
        if settings.max_calls_per_second > 0 {
            let per_second = settings.max_calls_per_second as f64;
            let burst = u32::try_from(settings.max_calls_per_second).unwrap_or(u32::MAX).max(1);
            // Vantagepoint counts nothing: this is our own courtesy cap, kept per worker (not in
            // the home's shared store, which would cost a write per call on AWS).
            config = config.rate_limit(RateLimit::TokenBucket { per_second, burst }).per_worker_budget();
        }
        let auth = crate::auth::password_grant(&settings, &creds);
        let http = HttpClient::new(config, Arc::new(auth), Arc::new(DeltekClassifier(DefaultClassifier::new())))?;
        let secrets = creds.secrets();
        Ok(DeltekClient {
            inner: Arc::new(Inner {
                reference: Default::default(),
                vendors: Default::default(),
                index: Default::default(),
                batcher: Default::default(),
                visibility: Default::default(),
                file_seq: AtomicU64::new(0),
                settings,
                creds,
                http,
                secrets,
            }),
        })
    }

    /// The connection's settings.
    pub fn settings(&self) -> &DeltekSettings {
        &self.inner.settings
    }

    /// Calls made so far (token calls excluded), retries, throttles, refreshes, statuses.
    pub fn stats(&self) -> CallStats {
        self.inner.http.stats()
    }

    /// The API user's name (for messages about its role).
    pub fn username(&self) -> &str {
        &self.inner.creds.username
    }

    /// Forget every per-run cache: reference data, vendors, and the AP lookup indexes.
    pub async fn refresh(&self) {
        self.inner.reference.clear().await;
        self.inner.vendors.clear();
        self.inner.index.clear().await;
        self.inner.visibility.reset();
    }

    // ------------------------------------------------------------------ call helpers

    /// One GET, its rows.
    pub(crate) async fn get_rows(&self, path: &str, query: &Query, what: &str) -> Result<Vec<Row>, DeltekError> {
        let mut req = Request::get(path);
        for (k, v) in &query.0 {
            req = req.query(k.clone(), v);
        }
        let v = self.answer(req, &format!("GET {path}"), what).await?;
        Ok(rows(v))
    }

    /// Every page of a list (`pageSize` + `page`: `limit` is refused by some endpoints, and a
    /// short page is the end since there is no count or next link).
    pub(crate) async fn get_all(&self, path: &str, query: &Query, what: &str) -> Result<Vec<Row>, DeltekError> {
        let size = self.inner.settings.page_size;
        let mut out: Vec<Row> = Vec::new();
        let mut previous_first: Option<Row> = None;
        for page in 1..=10_000usize {
            let q = query.clone().param("pageSize", size).param("page", page);
            let batch = self.get_rows(path, &q, what).await?;
            let n = batch.len();
            // A server that ignores paging answers the same rows again: stop instead of looping.
            if page > 1 && n > 0 && batch.first() == previous_first.as_ref() {
                tracing::warn!(
                    system = "deltek",
                    path,
                    "paging ignored by the server; stopped after page {}",
                    page - 1
                );
                break;
            }
            previous_first = batch.first().cloned();
            out.extend(batch);
            if n < size {
                break;
            }
        }
        Ok(out)
    }

    /// Send a write (`call` names it in errors: `POST DataEntry/apControl`); its JSON answer.
    ///
    /// An answer that cannot be Vantagepoint's (an HTML page with status 200 from a proxy) or a
    /// 2xx body that does not decode says nothing about whether the write was applied: it is in
    /// doubt, like a lost answer, and the lookup settles it.
    pub(crate) async fn write(&self, req: Request, call: &str, what: &str) -> Result<Value, DeltekError> {
        match self.answer(req, call, what).await {
            Err(DeltekError::Http(e @ (HttpError::Unexpected { .. } | HttpError::Decode { .. }))) => {
                Err(DeltekError::InDoubt { what: format!("{what} ({call})"), detail: e.to_string() })
            }
            other => other,
        }
    }

    async fn answer(&self, req: Request, call: &str, what: &str) -> Result<Value, DeltekError> {
        let resp = self.inner.http.send(req).await?;
        self.judge(resp, call, what)
    }

    fn judge(&self, resp: Response, call: &str, what: &str) -> Result<Value, DeltekError> {
        let status = resp.status().as_u16();
        let body = resp.bytes();
        if resp.status().is_success() {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return resp.json::<Value>().map_err(DeltekError::from);
        }
        let server = self.scrub(&server_message(body, resp.header("content-type").unwrap_or("")));
        if let Some(period) = closed_period_in(&server) {
            return Err(DeltekError::PeriodClosed {
                what: what.to_string(),
                period,
                fix: format!(
                    "open period {period} for this company in Vantagepoint, or post to the active period \
                     (connection option period_mode = \"active\"); Vantagepoint said: \"{server}\""
                ),
            });
        }
        let fix = fix_for(&server).or_else(|| match status {
            403 => Some(format!("the API user's role may not do this ({call}); give it the rights `mlc ping` lists")),
            404 => Some("check the record exists and base_url ends in /api".into()),
            _ => None,
        });
        Err(DeltekError::Refused { what: what.to_string(), call: call.to_string(), status, server, fix })
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        mlc_core::secret::scrub(text, self.inner.secrets.iter().map(String::as_str))
    }
}

/// A list query: filterHash clauses (numbered in order), projection and other parameters.
#[derive(Debug, Clone, Default)]
pub(crate) struct Query(pub Vec<(String, String)>, usize);

impl Query {
    pub fn new() -> Self {
        Query::default()
    }

    /// `filterHash[i][name|opp|value]`; `opp` is `=`, `!=`, `like`, `>=`, `<` ...
    pub fn filter(self, name: &str, opp: &str, value: &str) -> Self {
        self.filter_typed(name, opp, value, None)
    }

    /// A clause with `[type]` (`datetime` makes the server compare dates, not text).
    pub fn filter_typed(mut self, name: &str, opp: &str, value: &str, kind: Option<&str>) -> Self {
        let i = self.1;
        self.1 += 1;
        self.0.push((format!("filterHash[{i}][name]"), name.to_string()));
        self.0.push((format!("filterHash[{i}][value]"), value.to_string()));
        self.0.push((format!("filterHash[{i}][opp]"), opp.to_string()));
        if let Some(k) = kind {
            self.0.push((format!("filterHash[{i}][type]"), k.to_string()));
        }
        self
    }

    /// `fieldFilter=A,B`: only these columns (smaller answers for index reads).
    pub fn fields(self, cols: &[&str]) -> Self {
        self.param("fieldFilter", cols.join(","))
    }

    pub fn param(mut self, k: &str, v: impl ToString) -> Self {
        self.0.push((k.to_string(), v.to_string()));
        self
    }
}

/// Vantagepoint's message from an error body, whatever its shape (see the module docs).
pub(crate) fn server_message(body: &[u8], content_type: &str) -> String {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    if t.is_empty() {
        return "(empty answer)".to_string();
    }
    if let Ok(v) = serde_json::from_str::<Value>(t)
        && let Some(m) = json_message(&v)
    {
        return undouble(&m);
    }
    let looks_html = content_type.to_ascii_lowercase().contains("html") || t.starts_with('<');
    let out = if looks_html { html_text(t) } else { t.to_string() };
    let out = undouble(&out);
    if out.chars().count() > 600 { format!("{}…", out.chars().take(600).collect::<String>()) } else { out }
}

fn json_message(v: &Value) -> Option<String> {
    let text = |k: &str| {
        v.as_object()
            .and_then(|m| m.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)))
            .and_then(|(_, v)| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Array(a) => a.iter().find_map(json_message),
        Value::Object(_) => {
            if let Some(e) = text("error") {
                return Some(match text("error_description") {
                    Some(d) => format!("{e}: {d}"),
                    None => e,
                });
            }
            let main = text("ExceptionMessage").or_else(|| text("Message")).or_else(|| text("error_description"));
            let detail = text("detail").or_else(|| text("MessageDetail"));
            match (main, detail) {
                (Some(m), Some(d)) if !m.contains(&d) => Some(format!("{m} ({d})")),
                (Some(m), _) => Some(m),
                (None, Some(d)) => Some(d),
                (None, None) => v.get("errors").and_then(json_message),
            }
        }
        _ => None,
    }
}

/// The readable text of an HTML error page: its paragraphs, else its title, else all text.
fn html_text(html: &str) -> String {
    let strip = |s: &str| {
        let mut out = String::new();
        let mut in_tag = false;
        for c in s.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        let out = out
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&");
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let lower = html.to_ascii_lowercase();
    let between = |open: &str, close: &str| -> Vec<String> {
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(i) = lower[from..].find(open) {
            let start = from + i;
            let Some(gt) = lower[start..].find('>') else { break };
            let body_start = start + gt + 1;
            let Some(end) = lower[body_start..].find(close) else { break };
            found.push(strip(&html[body_start..body_start + end]));
            from = body_start + end;
        }
        found
    };
    let paragraphs: Vec<String> = between("<p", "</p>").into_iter().filter(|p| !p.is_empty()).collect();
    if !paragraphs.is_empty() {
        return paragraphs.join(" ");
    }
    let titles = between("<title", "</title>");
    match titles.into_iter().find(|t| !t.is_empty()) {
        Some(t) => t,
        None => strip(html),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_every_shape() {
        let m = |b: &str, ct: &str| server_message(b.as_bytes(), ct);
        assert_eq!(m(r#"{"Message":"Vendor X does not exist."}"#, "application/json"), "Vendor X does not exist.");
        assert_eq!(m(r#"{"message":"Bad","detail":"more"}"#, "application/json"), "Bad (more)");
        assert_eq!(m(r#"{"message":"Bad","detail":""}"#, "application/json"), "Bad");
        assert_eq!(
            m(r#"{"error":"invalid_grant","error_description":"The user name or password is incorrect."}"#, ""),
            "invalid_grant: The user name or password is incorrect."
        );
        assert_eq!(
            m(
                "<!DOCTYPE html><html><head><title>Error 400</title></head><body><h2>Server Error</h2><p>Account 1 is inactive.</p></body></html>",
                "text/html"
            ),
            "Account 1 is inactive."
        );
        assert_eq!(m("<html><head><title>Bad Request</title></head><body></body></html>", "text/html"), "Bad Request");
        assert_eq!(m(r#""Period 202505 is closed.""#, "application/json"), "Period 202505 is closed.");
        assert_eq!(m("plain words", "text/plain"), "plain words");
        assert_eq!(m(r#"{"Message":"A. A."}"#, ""), "A.");
    }

    #[test]
    fn query_numbers_clauses() {
        let q =
            Query::new().filter("Vendor", "=", "ACME").filter_typed("TransDate", ">=", "2025-01-01", Some("datetime"));
        assert!(q.0.contains(&("filterHash[1][type]".into(), "datetime".into())));
        assert!(q.0.contains(&("filterHash[0][value]".into(), "ACME".into())));
    }
}
