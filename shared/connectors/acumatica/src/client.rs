//! [`AcumaticaClient`]: the transport every resource module uses — settings, sign-in, pacing,
//! the version probe, the answer rules, and the generic calls (get, list, PUT, actions with long
//! operations, delete). It knows nothing of vendors or bills; `vendors.rs`, `bills.rs`,
//! `orders.rs` and `gl.rs` build on it.
//!
//! **Probe first.** Before its first call the client reads `GET <instance>/entity` (no sign-in
//! needed) and fails fast when the pinned endpoint/version is not listed, naming the versions
//! the tenant offers ([`AcumaticaError::VersionMissing`]); a custom endpoint is looked for again
//! signed in (tenants list their custom endpoints only to signed-in callers). A missing version
//! would otherwise surface as a bare 404 on every call.
//!
//! **Answers.** 4xx answers (other than 401/429) and 500s carrying a `PX.*` exception are
//! Acumatica *refusing* something, not failing: they are read and quoted (a 422 per field, a
//! missing record — a 500 `NoEntitySatisfiesTheConditionException`, never a 404 — as "not
//! found"). Other 5xx are transient: reads are retried, writes are in doubt. "The previous
//! operation has not been completed yet" (a long operation running in this session) is a refusal
//! that may be retried, even for a write. 429 has no `Retry-After`: backoff with full jitter.
//!
//! **Pacing.** The licence delays requests past 50 % of its per-minute limit and declines them
//! once more than 20 wait, so the client keeps `requests_per_minute` (a rolling window shared by
//! every client of the same tenant through the kit's budget `acumatica <host> <tenant>`) and at
//! most `max_concurrent` requests in flight.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use mlc_core::secret::{Credentials, Redacted};
use mlc_http::{
    Answer, Auth, CallStats, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, HttpError, RateLimit,
    Request, Response, RetryPolicy, Verdict,
};
use serde_json::Value as Json;
use tokio::sync::{Mutex, Semaphore};
use url::Url;

use crate::auth::{CookieSession, OAuthGrant, root_client};
use crate::errors::AcumaticaError;
use crate::model::{Contract, field_errors};
use crate::settings::{AcumaticaCredentials, AcumaticaSettings, AuthMode};

/// The answer rules (see the module docs).
#[derive(Debug, Clone)]
pub struct AcumaticaRules;

/// Exception types that mean "refused", not "failed".
fn refusal(body: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&body[..body.len().min(8192)]);
    let Ok(v) = serde_json::from_str::<Json>(&head) else { return false };
    let t = v.get("exceptionType").and_then(Json::as_str).unwrap_or_default();
    t.starts_with("PX.") || t.starts_with("System.Argument") || t.contains("OData")
}

/// The text of a long operation still holding the form in this session.
pub const BUSY: &str = "previous operation has not been completed";

impl Classifier for AcumaticaRules {
    fn classify(&self, a: &Answer<'_>) -> Verdict {
        let status = a.status.as_u16();
        if status == 500 && String::from_utf8_lossy(&a.body[..a.body.len().min(4096)]).contains(BUSY) {
            // Refused, not applied: even a write may go again after a short wait.
            return Verdict::Transient { retry_after: Some(Duration::from_secs(1)), refused: true };
        }
        if (500..600).contains(&status) && refusal(a.body) {
            return Verdict::Ok;
        }
        match DefaultClassifier::new().classify(a) {
            Verdict::Rejected { .. } => Verdict::Ok,
            v => v,
        }
    }
}

/// What `GET /entity` said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ServerInfo {
    /// `acumaticaBuildVersion`.
    pub build: Option<String>,
    /// `(endpoint, version)` pairs listed.
    pub endpoints: Vec<(String, String)>,
}

impl ServerInfo {
    /// Versions listed for an endpoint name, oldest first.
    pub fn versions_of(&self, endpoint: &str) -> Vec<String> {
        let mut v: Vec<String> =
            self.endpoints.iter().filter(|(n, _)| n.eq_ignore_ascii_case(endpoint)).map(|(_, v)| v.clone()).collect();
        v.sort_by_key(|x| x.split('.').map(|p| p.parse::<u32>().unwrap_or(0)).collect::<Vec<_>>());
        v.dedup();
        v
    }

    /// Whether the pair is listed.
    pub fn serves(&self, endpoint: &str, version: &str) -> bool {
        self.endpoints.iter().any(|(n, v)| n.eq_ignore_ascii_case(endpoint) && v == version)
    }
}

/// Read `GET /entity`: the documented object, or the older bare array.
pub fn server_info(v: &Json) -> Option<ServerInfo> {
    let list = match v {
        Json::Array(a) => a,
        Json::Object(m) => m.get("endpoints").and_then(Json::as_array)?,
        _ => return None,
    };
    let endpoints = list
        .iter()
        .filter_map(|e| Some((e.get("name")?.as_str()?.to_string(), e.get("version")?.as_str()?.to_string())))
        .collect();
    let build =
        v.get("version").and_then(|x| x.get("acumaticaBuildVersion")).and_then(Json::as_str).map(str::to_string);
    Some(ServerInfo { build, endpoints })
}

/// `If-None-Match: *` (insert only), `If-Match: *` (update only), or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Create only: 412 when the record exists.
    InsertOnly,
    /// Update only: 412 when it does not.
    UpdateOnly,
    /// Upsert.
    None,
}

/// A connection to one Acumatica tenant. Cheap to clone.
#[derive(Clone)]
pub struct AcumaticaClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) settings: AcumaticaSettings,
    pub(crate) creds: AcumaticaCredentials,
    pub(crate) http: HttpClient,
    pub(crate) root: HttpClient,
    cookie: Option<Arc<CookieSession>>,
    pub(crate) contract: Contract,
    gate: Semaphore,
    probe: Mutex<Option<Result<ServerInfo, AcumaticaError>>>,
    /// The tenant's currencies once read ([`AcumaticaClient::currencies`]; `Some(None)`: the
    /// tenant does not serve them).
    pub(crate) currencies: Mutex<Option<Option<Arc<Vec<String>>>>>,
}

impl Drop for Inner {
    /// The last clone of a cookie-session client logs its session out in the background (when
    /// a runtime is there to run it): an unclosed session holds a licence slot for 10 minutes.
    /// `close()` is still the way to wait for it.
    fn drop(&mut self) {
        if let Some(c) = self.cookie.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                if let Err(e) = c.logout().await {
                    tracing::debug!(system = "acumatica", error = %e, "logout on drop failed; the session lapses in 10 minutes");
                }
            });
        }
    }
}

impl std::fmt::Debug for AcumaticaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcumaticaClient")
            .field("connection", &self.inner.settings.connection)
            .field("endpoint", &self.inner.settings.endpoint_url().as_str())
            .finish()
    }
}

struct Shared<T>(Arc<T>);

#[async_trait::async_trait]
impl<T: Auth> Auth for Shared<T> {
    async fn authorize(&self, tokens: &mlc_http::TokenClient<'_>) -> Result<mlc_http::AuthHeaders, HttpError> {
        self.0.authorize(tokens).await
    }
    async fn invalidate(&self, generation: u64) -> bool {
        self.0.invalidate(generation).await
    }
    fn secrets(&self) -> Vec<Redacted<String>> {
        self.0.secrets()
    }
}

impl AcumaticaClient {
    /// Build a client (no call is made until the first request).
    pub fn new(settings: AcumaticaSettings, credentials: Credentials) -> Result<Self, AcumaticaError> {
        let creds = AcumaticaCredentials::from_credentials(&settings, &credentials)?;
        let mut secrets: Vec<Redacted<String>> = vec![creds.password.clone()];
        secrets.extend(creds.client_secret.clone());
        let root = root_client(&settings, secrets)?;
        let (auth, cookie): (Arc<dyn Auth>, Option<Arc<CookieSession>>) = match settings.auth {
            AuthMode::OAuth => (Arc::new(OAuthGrant::new(&settings, &creds)?), None),
            AuthMode::Cookie => {
                let c = Arc::new(CookieSession::new(&settings, &creds)?);
                (Arc::new(Shared(c.clone())), Some(c))
            }
        };
        let mut config = ConnectionConfig::new("acumatica", settings.endpoint_url())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .header("Accept", "application/json")
            .retry(RetryPolicy {
                max_attempts: 5,
                base: settings.retry_base,
                cap: (settings.retry_base * 40).min(Duration::from_secs(60)),
                park_after: Duration::from_secs(60),
            });
        if settings.requests_per_minute > 0 {
            let host = settings.instance_url.host_str().unwrap_or("").to_ascii_lowercase();
            config = config
                .rate_limit(RateLimit::Window { max: settings.requests_per_minute, per: settings.rate_window })
                .budget(format!(
                    "acumatica {host}{} {}",
                    settings.instance_url.path(),
                    settings.tenant.to_ascii_lowercase()
                ));
        }
        let http = HttpClient::new(config, auth, Arc::new(AcumaticaRules))?;
        let contract = Contract::for_version(&settings.version);
        let gate = Semaphore::new(settings.max_concurrent.max(1) as usize);
        Ok(AcumaticaClient {
            inner: Arc::new(Inner {
                settings,
                creds,
                http,
                root,
                cookie,
                contract,
                gate,
                probe: Mutex::new(None),
                currencies: Mutex::new(None),
            }),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &AcumaticaSettings {
        &self.inner.settings
    }

    /// Call counters of the data client.
    pub fn stats(&self) -> CallStats {
        self.inner.http.stats()
    }

    /// The pinned contract's write conventions.
    pub fn contract(&self) -> Contract {
        self.inner.contract
    }

    /// `GET <instance>/entity`, unauthenticated: build and endpoints. Not cached.
    pub async fn server_info(&self) -> Result<ServerInfo, AcumaticaError> {
        let resp = self.inner.root.send(Request::get("entity")).await?;
        if !resp.status().is_success() {
            return Err(AcumaticaError::Unexpected {
                call: "GET entity".into(),
                detail: format!("answered {} instead of the endpoint list", resp.status().as_u16()),
                fix: Some(base_url_fix(&self.inner.settings)),
            });
        }
        let v: Json = resp.json()?;
        server_info(&v).ok_or_else(|| AcumaticaError::Unexpected {
            call: "GET entity".into(),
            detail: "answered JSON without an endpoint list".into(),
            fix: Some(base_url_fix(&self.inner.settings)),
        })
    }

    /// The same list, signed in (tenant custom endpoints included).
    pub async fn server_info_signed_in(&self) -> Result<ServerInfo, AcumaticaError> {
        let url = self.inner.settings.instance_url.join("entity").map_err(|e| AcumaticaError::Unexpected {
            call: "GET entity".into(),
            detail: e.to_string(),
            fix: None,
        })?;
        let resp = self.inner.http.send(Request::get(url.as_str())).await?;
        let v: Json = resp.json()?;
        server_info(&v).ok_or_else(|| AcumaticaError::Unexpected {
            call: "GET entity".into(),
            detail: "answered JSON without an endpoint list".into(),
            fix: None,
        })
    }

    /// Check once that the pinned endpoint version exists (see the module docs).
    pub async fn probe(&self) -> Result<ServerInfo, AcumaticaError> {
        let mut slot = self.inner.probe.lock().await;
        if let Some(r) = slot.as_ref() {
            return r.clone();
        }
        let s = &self.inner.settings;
        let mut info = self.server_info().await?;
        if !info.serves(&s.endpoint, &s.version) && !s.endpoint.eq_ignore_ascii_case("Default") {
            info = self.server_info_signed_in().await?;
        }
        let r = if info.serves(&s.endpoint, &s.version) {
            Ok(info)
        } else {
            Err(AcumaticaError::VersionMissing {
                url: s.instance_url.to_string(),
                endpoint: s.endpoint.clone(),
                version: s.version.clone(),
                offered: info.versions_of(&s.endpoint),
            })
        };
        *slot = Some(r.clone());
        r
    }

    /// Send through the data client: probe, concurrency gate, then the kit.
    pub(crate) async fn send(&self, req: Request) -> Result<Response, AcumaticaError> {
        self.probe().await?;
        let _permit = self.inner.gate.acquire().await.map_err(|_| AcumaticaError::Unexpected {
            call: "send".into(),
            detail: "the client is shutting down".into(),
            fix: None,
        })?;
        Ok(self.inner.http.send(req).await?)
    }

    /// Read an answer: JSON on success, `None` for a missing record, the refusal otherwise.
    pub(crate) fn judge(&self, resp: &Response, what: &str, call: &str) -> Result<Option<Json>, AcumaticaError> {
        let status = resp.status();
        if status.is_success() {
            if resp.bytes().iter().all(u8::is_ascii_whitespace) {
                return Ok(Some(Json::Null));
            }
            return Ok(Some(resp.json::<Json>()?));
        }
        let body: Json = serde_json::from_slice(resp.bytes()).unwrap_or(Json::Null);
        let words = resp.scrub(&mlc_http::fault::vendor_words(resp.bytes()).join("; "));
        let exception = body.get("exceptionType").and_then(Json::as_str).unwrap_or_default();
        if exception.ends_with("NoEntitySatisfiesTheConditionException") {
            return Ok(None);
        }
        if status == StatusCode::UNPROCESSABLE_ENTITY {
            let (entity, fields) = field_errors(&body);
            let fields = fields
                .into_iter()
                .map(|mut f| {
                    f.message = resp.scrub(&f.message);
                    f.value = f.value.map(|v| resp.scrub(&v));
                    f
                })
                .collect();
            return Err(AcumaticaError::Validation {
                what: what.into(),
                call: call.into(),
                entity: entity.map(|e| resp.scrub(&e)),
                fields,
            });
        }
        let fix = match status.as_u16() {
            403 => Some(format!(
                "give the API user {:?} a role with access to this form (Users SM201010 / Access Rights by Role), then ping again",
                self.inner.creds.username
            )),
            404 => Some(format!(
                "the tenant does not serve this path: check endpoint/version ({}/{}) with `mlc ping`",
                self.inner.settings.endpoint, self.inner.settings.version
            )),
            411 => Some("report this: the request was sent without Content-Length".into()),
            _ => None,
        };
        Err(AcumaticaError::Refused { what: what.into(), call: call.into(), status: status.as_u16(), words, fix })
    }

    /// `GET <path>` → the record, or `None` when Acumatica says none satisfies the condition.
    pub async fn get_json(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<Option<Json>, AcumaticaError> {
        let mut req = Request::get(path);
        for (k, v) in query {
            req = req.query(*k, v);
        }
        let call = format!("GET {path}");
        let resp = self.send(req).await?;
        self.judge(&resp, what, &call)
    }

    /// `GET <entity>?…` → the records (a bare array).
    pub async fn list_json(
        &self,
        entity: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<Json>, AcumaticaError> {
        let v = self.get_json(entity, query, what).await?.unwrap_or(Json::Array(Vec::new()));
        match v {
            Json::Array(a) => Ok(a),
            Json::Null => Ok(Vec::new()),
            other => Err(AcumaticaError::Unexpected {
                call: format!("GET {entity}"),
                detail: format!(
                    "answered {} instead of a list",
                    if other.is_object() { "an object" } else { "a scalar" }
                ),
                fix: None,
            }),
        }
    }

    /// `PUT <entity>` with a precondition; the saved record. A 412 on an insert-only PUT is
    /// [`AcumaticaError::Exists`]; a lost answer is [`AcumaticaError::InDoubt`] with `next_step`.
    pub async fn put_json(
        &self,
        entity: &str,
        body: &Json,
        query: &[(&str, String)],
        pre: Precondition,
        what: &str,
        next_step: &str,
    ) -> Result<Json, AcumaticaError> {
        let mut req = Request::put(entity).json(body);
        for (k, v) in query {
            req = req.query(*k, v);
        }
        match pre {
            Precondition::InsertOnly => req = req.header("If-None-Match", "*"),
            Precondition::UpdateOnly => req = req.header("If-Match", "*"),
            Precondition::None => {}
        }
        let call = format!("PUT {entity}");
        let resp = match self.send(req).await {
            Err(AcumaticaError::Http(HttpError::InDoubt { cause, .. })) => {
                return Err(AcumaticaError::InDoubt { what: what.into(), detail: cause, next_step: next_step.into() });
            }
            other => other?,
        };
        if resp.status() == StatusCode::PRECONDITION_FAILED && pre == Precondition::InsertOnly {
            return Err(AcumaticaError::Exists { what: what.into(), call });
        }
        match self.judge(&resp, what, &call)? {
            Some(v) => Ok(v),
            None => Err(AcumaticaError::Refused {
                what: what.into(),
                call,
                status: resp.status().as_u16(),
                words: "No entity satisfies the condition.".into(),
                fix: Some("the record was deleted or its id is wrong: read it again".into()),
            }),
        }
    }

    /// Run an action (`POST <entity>/<action>` with `{"entity": …}`) and wait for it: 204 done,
    /// 202 polled at its `Location` until 204, within `long_operation_timeout`.
    pub async fn action(&self, entity: &str, action: &str, target: Json, what: &str) -> Result<(), AcumaticaError> {
        let path = format!("{entity}/{action}");
        let call = format!("POST {path}");
        let body = serde_json::json!({ "entity": target, "parameters": {} });
        let resp = match self.send(Request::post(path.as_str()).json(&body)).await {
            Err(AcumaticaError::Http(HttpError::InDoubt { cause, .. })) => {
                return Err(AcumaticaError::InDoubt {
                    what: what.into(),
                    detail: cause,
                    next_step: format!("read {what} again: its status tells whether {action} ran"),
                });
            }
            other => other?,
        };
        if resp.status() == StatusCode::NO_CONTENT || resp.status() == StatusCode::OK {
            return Ok(());
        }
        if resp.status() != StatusCode::ACCEPTED {
            self.judge(&resp, what, &call)?;
            return Err(AcumaticaError::Unexpected {
                call,
                detail: format!("answered {} to an action", resp.status().as_u16()),
                fix: None,
            });
        }
        let location = resp.header("location").map(str::to_string).ok_or_else(|| AcumaticaError::Unexpected {
            call: call.clone(),
            detail: "answered 202 without a Location to poll".into(),
            fix: None,
        })?;
        let url = absolute(&self.inner.settings.instance_url, &location).ok_or_else(|| AcumaticaError::Unexpected {
            call: call.clone(),
            detail: format!("answered 202 with an unusable Location {location:?}"),
            fix: None,
        })?;
        let s = &self.inner.settings;
        let deadline = tokio::time::Instant::now() + s.long_operation_timeout;
        loop {
            tokio::time::sleep(s.long_operation_poll).await;
            let resp = self.send(Request::get(url.as_str())).await?;
            match resp.status() {
                StatusCode::ACCEPTED => {}
                StatusCode::NO_CONTENT | StatusCode::OK => return Ok(()),
                _ => {
                    let e = self.judge(&resp, what, &format!("GET {action} status"));
                    return Err(match e {
                        Err(AcumaticaError::Refused { words, .. }) => AcumaticaError::LongOperation {
                            action: action.into(),
                            what: what.into(),
                            detail: format!("failed: \"{words}\""),
                            running: false,
                        },
                        Err(other) => other,
                        Ok(_) => AcumaticaError::LongOperation {
                            action: action.into(),
                            what: what.into(),
                            detail: "is no longer known to Acumatica (its status answered 404)".into(),
                            running: false,
                        },
                    });
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(AcumaticaError::LongOperation {
                    action: action.into(),
                    what: what.into(),
                    detail: format!(
                        "was still running after {:?}; it may yet finish: read the record again later",
                        s.long_operation_timeout
                    ),
                    running: true,
                });
            }
        }
    }

    /// `DELETE <path>`.
    pub async fn delete(&self, path: &str, what: &str) -> Result<(), AcumaticaError> {
        let call = format!("DELETE {path}");
        let resp = match self.send(Request::delete(path)).await {
            Err(AcumaticaError::Http(HttpError::InDoubt { cause, .. })) => {
                return Err(AcumaticaError::InDoubt {
                    what: what.into(),
                    detail: cause,
                    next_step: format!("read {what} again"),
                });
            }
            other => other?,
        };
        match self.judge(&resp, what, &call)? {
            Some(_) => Ok(()),
            None => Ok(()), // already gone
        }
    }

    /// Sign out: log the cookie session out, or end the OAuth grant's session early, freeing
    /// its licence slot. Safe to call more than once.
    pub async fn close(&self) -> Result<(), AcumaticaError> {
        if let Some(c) = &self.inner.cookie {
            return Ok(c.logout().await?);
        }
        if self.stats().auth_refreshes == 0 {
            return Ok(());
        }
        let url = self.inner.settings.instance_url.join("entity/auth/logout").map_err(|e| {
            AcumaticaError::Unexpected { call: "POST entity/auth/logout".into(), detail: e.to_string(), fix: None }
        })?;
        let req = Request::post(url.as_str()).header("Content-Length", "0").text("application/json", "");
        self.inner.http.send(req).await?;
        Ok(())
    }
}

/// A `Location` (a path on the instance's host, or a full URL) as an absolute URL.
fn absolute(instance: &Url, location: &str) -> Option<Url> {
    if location.contains("://") {
        return Url::parse(location).ok();
    }
    let mut u = instance.clone();
    let (path, query) = location.split_once('?').map_or((location, None), |(p, q)| (p, Some(q)));
    u.set_path(path);
    u.set_query(query);
    Some(u)
}

fn base_url_fix(s: &AcumaticaSettings) -> String {
    format!(
        "base_url must be the instance URL (the address you sign in at, e.g. https://yourco.acumatica.com/YourInstance); {} does not answer GET entity as Acumatica",
        s.instance_url
    )
}

/// A path segment, percent-encoded (keys go in the URL; a key containing `/` must be looked up
/// by `id` or `$filter` instead).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An OData string literal: quotes doubled.
pub fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// An OData `datetimeoffset'…'` literal (milliseconds, UTC offset written out; the kit's query
/// encoding sends its `+` as `%2B` and `:` as `%3A`).
pub fn datetimeoffset(t: chrono::DateTime<chrono::Utc>) -> String {
    format!("datetimeoffset'{}'", t.format("%Y-%m-%dT%H:%M:%S%.3f+00:00"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_info_in_both_shapes() {
        let obj = serde_json::json!({"version": {"acumaticaBuildVersion": "25.093.0036"}, "endpoints": [
            {"name": "Default", "version": "23.200.001"}, {"name": "Default", "version": "20.200.001"}, {"name": "eCommerce", "version": "23.100.001"}]});
        let i = server_info(&obj).unwrap();
        assert_eq!(i.build.as_deref(), Some("25.093.0036"));
        assert_eq!(i.versions_of("default"), ["20.200.001", "23.200.001"]);
        assert!(i.serves("Default", "23.200.001") && !i.serves("Default", "24.200.001"));
        let arr = serde_json::json!([{"name": "Default", "version": "24.200.001", "href": "/x"}]);
        assert!(server_info(&arr).unwrap().serves("Default", "24.200.001"));
        assert!(server_info(&serde_json::json!("x")).is_none());
    }

    #[test]
    fn literals_and_segments() {
        assert_eq!(literal("O'Brien"), "'O''Brien'");
        assert_eq!(segment("V 1/2"), "V%201%2F2");
        let t =
            chrono::DateTime::parse_from_rfc3339("2025-06-16T10:30:00.5-04:00").unwrap().with_timezone(&chrono::Utc);
        assert_eq!(datetimeoffset(t), "datetimeoffset'2025-06-16T14:30:00.500+00:00'");
        let inst = Url::parse("https://h/Inst/").unwrap();
        assert_eq!(
            absolute(&inst, "/Inst/entity/Default/24.200.001/Bill/ReleaseBill/status/x").unwrap().as_str(),
            "https://h/Inst/entity/Default/24.200.001/Bill/ReleaseBill/status/x"
        );
    }
}
