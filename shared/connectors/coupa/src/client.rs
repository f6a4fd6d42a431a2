//! [`CoupaClient`]: the transport every resource module builds on. It knows Coupa's conventions
//! (headers, answers, error envelopes, the rate budget), not its resources.
//!
//! Every call carries `Accept: application/json`, `X-Coupa-API-Version: <api_version>` (the
//! version the customer pins; Coupa ignores the header and versions by release, so what we read is
//! pinned by the `fields` parameter each resource module sends) and a bearer token from
//! [`crate::auth::CoupaAuth`]; writes also carry `Content-Type: application/json`, even without a
//! body, as Coupa asks.
//!
//! Answers are judged by [`CoupaRules`]: 2xx must be JSON (a web page means a wrong base URL);
//! 401 refreshes the token once; 429 — or any refusal saying "Rate limit exceeded", since the
//! status is undocumented and one tap saw 403 — waits `Retry-After` or backs off with jitter;
//! 5xx are transient (a write answered 5xx or not at all is in doubt, never re-sent); other 4xx
//! with a JSON body are read here, so errors quote Coupa's envelope whole (the kit's
//! `fault::vendor_words`, scrubbed). A 2xx read whose JSON is cut short is read again (twice at
//! most): a truncated answer is a transport accident.
//!
//! The pace (`requests_per_second`, `burst`) is kept under the kit budget `coupa <host>:<port>`:
//! Coupa's limit is per instance, so every client of one instance in the process counts against
//! one budget.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use mlc_core::secret::Credentials;
use mlc_http::{
    Answer, CallKind, CallStats, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, HttpError, RateLimit,
    Request, Response, RetryPolicy, Verdict, looks_like_json,
};
use serde_json::Value;

use crate::auth::CoupaAuth;
use crate::errors::{CoupaError, scope_in};
use crate::settings::{CoupaCredentials, CoupaSettings};

/// How many times a read whose JSON arrived cut short is tried in all.
const TRUNCATED_ATTEMPTS: u32 = 3;

/// Coupa's answer rules (see the module docs).
#[derive(Debug, Clone)]
pub struct CoupaRules(DefaultClassifier);

impl CoupaRules {
    pub fn new() -> Self {
        CoupaRules(DefaultClassifier::new().rate_limited_when_body_contains("rate limit exceeded"))
    }
}

impl Default for CoupaRules {
    fn default() -> Self {
        Self::new()
    }
}

impl Classifier for CoupaRules {
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

/// A connection to one Coupa instance. Cheap to clone.
#[derive(Clone)]
pub struct CoupaClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) settings: CoupaSettings,
    pub(crate) creds: CoupaCredentials,
    pub(crate) http: HttpClient,
}

impl std::fmt::Debug for CoupaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoupaClient")
            .field("connection", &self.inner.settings.connection)
            .field("base_url", &self.inner.settings.base_url.as_str())
            .finish()
    }
}

impl CoupaClient {
    /// Build a client from settings and the connection's credentials.
    pub fn new(settings: CoupaSettings, credentials: Credentials) -> Result<Self, CoupaError> {
        let creds = CoupaCredentials::from_credentials(&settings.connection, &credentials)?;
        // Coupa's budget is per instance: every client of one instance in the process shares it.
        let instance = settings.base_url.host_str().unwrap_or("instance").to_ascii_lowercase();
        let config = ConnectionConfig::new("coupa", settings.base_url.clone())
            .rate_limit(RateLimit::TokenBucket { per_second: settings.requests_per_second, burst: settings.burst })
            .budget(format!("coupa {instance}:{}", settings.base_url.port_or_known_default().unwrap_or(443)))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .header("Accept", "application/json")
            .header("X-Coupa-API-Version", settings.api_version.clone())
            .retry(RetryPolicy {
                max_attempts: 4,
                base: settings.retry_base,
                cap: Duration::from_secs(30),
                park_after: Duration::from_secs(60),
            });
        let auth = CoupaAuth::new(&settings, &creds);
        let http = HttpClient::new(config, Arc::new(auth), Arc::new(CoupaRules::new()))?;
        Ok(CoupaClient { inner: Arc::new(Inner { settings, creds, http }) })
    }

    pub fn settings(&self) -> &CoupaSettings {
        &self.inner.settings
    }

    /// Call counters since the client was built.
    pub fn stats(&self) -> CallStats {
        self.inner.http.stats()
    }

    /// GET and read JSON (a bare array for lists, an object for shows).
    pub(crate) async fn get(&self, path: &str, query: &[(String, String)], what: &str) -> Result<Value, CoupaError> {
        let mut req = Request::get(path);
        for (k, v) in query {
            req = req.query(k.as_str(), v);
        }
        self.read_with_retry(req, path, what).await.map(|(_, v)| v)
    }

    /// Send a read and judge its answer; a 2xx body cut short is read again (at most
    /// [`TRUNCATED_ATTEMPTS`] in all). Returns the response too (the pager steps on it).
    pub(crate) async fn read_with_retry(
        &self,
        req: Request,
        path: &str,
        what: &str,
    ) -> Result<(Response, Value), CoupaError> {
        let call = format!("GET /{}", path.trim_start_matches('/'));
        let mut last = String::new();
        for attempt in 1..=TRUNCATED_ATTEMPTS {
            let resp = self.inner.http.send(req.clone()).await?;
            match read(&resp, &call, what)? {
                Read::Json(v) => return Ok((resp, v)),
                Read::Truncated(e) => {
                    tracing::debug!(system = "coupa", attempt, what, "answer cut short; reading again");
                    last = e;
                }
            }
        }
        Err(CoupaError::Http(HttpError::Transient {
            system: "coupa".into(),
            method: "GET".into(),
            url: call,
            retry_after: None,
            cause: format!("the answer was cut short {TRUNCATED_ATTEMPTS} times: {last}"),
        }))
    }

    /// PUT or POST (a write: never re-sent once it may have arrived). A 2xx whose body is cut
    /// short or empty is `Value::Null`: the write happened; read the record back for its state.
    pub(crate) async fn write(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        what: &str,
    ) -> Result<Value, CoupaError> {
        let mut req = Request::new(method, CallKind::Write, path).header("Content-Type", "application/json");
        for (k, v) in query {
            req = req.query(k.as_str(), v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let call = format!("{} /{}", req.method(), path.trim_start_matches('/'));
        let resp = self.inner.http.send(req).await?;
        match read(&resp, &call, what)? {
            Read::Json(v) => Ok(v),
            Read::Truncated(_) => Ok(Value::Null),
        }
    }
}

enum Read {
    Json(Value),
    Truncated(String),
}

/// Judge a response the classifier let through: 2xx JSON is data, 4xx JSON is Coupa's refusal.
fn read(resp: &Response, call: &str, what: &str) -> Result<Read, CoupaError> {
    let status = resp.status().as_u16();
    let call = call.to_string();
    if (200..300).contains(&status) {
        let body = resp.bytes();
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Read::Json(Value::Null));
        }
        return match serde_json::from_slice::<Value>(body) {
            Ok(v) => Ok(Read::Json(v)),
            Err(e) if e.is_eof() || e.is_syntax() => Ok(Read::Truncated(e.to_string())),
            Err(e) => Err(CoupaError::Decode { call, detail: format!("could not read {what}: {e}") }),
        };
    }
    let server = resp.scrub(&mlc_http::fault::vendor_words(resp.bytes()).join("; "));
    Err(match status {
        403 => CoupaError::Forbidden {
            call,
            fix: match scope_in(&server) {
                Some(scope) => format!(
                    "add the scope {scope} to the OAuth client (Setup > Integrations > Oauth2/OpenID Connect Clients) \
                     and to the connection's scopes setting"
                ),
                None => {
                    "give the OAuth client the scope this call needs, and its technical user the right to it".into()
                }
            },
            server,
        },
        404 => CoupaError::NotFound { what: what.to_string(), call },
        _ => CoupaError::Refused { what: what.to_string(), call, status, fix: fix_for(&server), server },
    })
}

/// What a person should do about a Coupa message, when we recognise it.
fn fix_for(server: &str) -> Option<String> {
    let t = server.to_ascii_lowercase();
    let fix = if t.contains("custom field") && t.contains("does not exist") {
        "create the custom field in Coupa (Setup > Custom Fields) or change the flow's custom-field option"
    } else if t.contains("not editable") {
        "make the custom field editable by the API in Coupa (Setup > Custom Fields: \"Editable by\" integrations)"
    } else if t.contains("inactive") && t.contains("account") {
        "the instance enforces invoice validations on API updates: reactivate the account in Coupa, or ask Coupa \
         Support about \"Enforce all invoice validations on invoice update and submit APIs\""
    } else if t.contains("own request") || t.contains("exported field") {
        "send the exported flag in a request of its own (ml-connector does; report this)"
    } else if t.contains("unknown attribute") {
        "report this: the instance does not know an attribute ml-connector filters on"
    } else {
        return None;
    };
    Some(fix.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue, StatusCode};

    fn judge(status: u16, ct: &str, body: &str) -> Verdict {
        let mut h = HeaderMap::new();
        h.insert("content-type", HeaderValue::from_str(ct).unwrap());
        CoupaRules::new().classify(&Answer {
            method: &Method::GET,
            kind: CallKind::Read,
            status: StatusCode::from_u16(status).unwrap(),
            headers: &h,
            body: body.as_bytes(),
        })
    }

    #[test]
    fn coupa_answers() {
        const J: &str = "application/json";
        assert_eq!(judge(200, J, "[]"), Verdict::Ok);
        assert_eq!(judge(400, J, r#"{"errors":{"invoice_header":["x"]}}"#), Verdict::Ok, "read by the connector");
        assert_eq!(judge(404, J, r#"{"errors":{"error":["No results match your search criteria."]}}"#), Verdict::Ok);
        assert!(matches!(judge(404, "text/html", "<html>doesn't exist</html>"), Verdict::Rejected { .. }));
        assert_eq!(judge(429, "text/plain", "Rate limit exceeded"), Verdict::RateLimited { retry_after: None });
        assert_eq!(judge(403, "text/plain", "Rate limit exceeded"), Verdict::RateLimited { retry_after: None });
        assert_eq!(
            judge(403, J, r#"{"errors":{"error":["Rate limit exceeded"]}}"#),
            Verdict::RateLimited { retry_after: None }
        );
        assert_eq!(judge(401, J, "{}"), Verdict::Unauthorized);
        assert!(matches!(judge(200, "text/html", "<html></html>"), Verdict::Unexpected { .. }));
        assert!(matches!(judge(502, "text/html", "<html>Bad Gateway</html>"), Verdict::Transient { .. }));
    }
}
