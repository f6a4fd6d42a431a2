//! [`HttpClient`]: one connection to one system, and the attempt loop every call goes through.
//!
//! Per attempt: wait for the rate limiter, get credentials from the auth, send, record the
//! exchange, classify the answer, then either hand back the response, wait and go again, or stop
//! with an [`HttpError`]. Whether "go again" is allowed depends on the [`CallKind`]: a read goes
//! again on any transient trouble, a write only when nothing can have been applied (see the crate
//! docs for the in-doubt rule).

use std::sync::Arc;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use tokio::time::Instant;
use url::Url;

use crate::auth::{Auth, AuthHeaders, TokenClient};
use crate::classify::{Answer, Classifier, Verdict};
use crate::config::{CallKind, ConnectionConfig, RetryPolicy};
use crate::error::HttpError;
use crate::limit::Limiter;
use crate::record::{Attempt, Scrubber, audit_url, short_url};
use crate::request::{Body, CallContext, Request, Response, base_url_fix};
use crate::retry::{Wait, plan};
use crate::stats::{CallStats, Counters};

/// A connection to one system. Cheap to clone; clones share the HTTP connection pool, the
/// credentials, the rate limiter and the stats.
#[derive(Clone)]
pub struct HttpClient {
    inner: Arc<Inner>,
}

struct Inner {
    system: String,
    base_url: Url,
    retry: RetryPolicy,
    /// The request timeout: a wait before a call must leave room for it ([`crate::finish_by`]).
    timeout: std::time::Duration,
    http: reqwest::Client,
    auth: Arc<dyn Auth>,
    classifier: Arc<dyn Classifier>,
    limiter: Option<Limiter>,
    counters: Counters,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("system", &self.inner.system)
            .field("base_url", &self.inner.base_url)
            .finish()
    }
}

impl HttpClient {
    /// Build the connection. Fails (naming the system) on a base URL that is not http(s) or
    /// carries credentials, an impossible rate limit, or a bad default header.
    pub fn new(
        config: ConnectionConfig,
        auth: Arc<dyn Auth>,
        classifier: Arc<dyn Classifier>,
    ) -> Result<Self, HttpError> {
        let config = match crate::config::HomeLimits::current() {
            Some(home) => home.apply(config),
            None => config,
        };
        let system = config.system.clone();
        let invalid = |message: String| HttpError::Invalid { system: system.clone(), message };
        let mut base = config.base_url.clone();
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(invalid(format!("base URL {base} is not an http(s) URL")));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(invalid("the base URL carries credentials; give them to the connection's auth instead".into()));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);

        let limiter = match config.rate_limit {
            Some(l) => {
                let name = config.budget.clone().unwrap_or_else(|| format!("{system} {base}"));
                Some(
                    Limiter::new(
                        &system,
                        name,
                        l,
                        config.budget_store.clone(),
                        config.per_path.clone(),
                        config.rate_headers.clone(),
                    )
                    .map_err(&invalid)?,
                )
            }
            None => None,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let (n, v) = header(name, value).map_err(&invalid)?;
            headers.append(n, v);
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.as_str())
            .default_headers(headers)
            // Redirects are answers to judge, not to follow: one could carry the credentials to
            // another host, and Cin7 redirects unknown paths in circles.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| invalid(format!("the HTTP client could not be built: {e}")))?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                system,
                base_url: base,
                retry: config.retry,
                timeout: config.timeout,
                http,
                auth,
                classifier,
                limiter,
                counters: Counters::default(),
            }),
        })
    }

    pub fn system(&self) -> &str {
        &self.inner.system
    }

    /// The base URL, always ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// Counters since the client was built (shared by all clones).
    pub fn stats(&self) -> CallStats {
        self.inner.counters.snapshot()
    }

    /// Send a request with the connection's auth, rate limit, retry and error rules.
    pub async fn send(&self, req: Request) -> Result<Response, HttpError> {
        let inner = &*self.inner;
        let (url, headers) = inner.prepare(&req)?;
        let method = req.method.as_str();
        let budget = inner
            .limiter
            .as_ref()
            .map(|l| l.budget_for(method, url.path().strip_prefix(inner.base_url.path()).unwrap_or(url.path())));
        let mut attempt: u32 = 1;
        let mut replayed_after_401 = false;
        loop {
            // Read again on every attempt: the time left before `finish_by` shrinks.
            let retry = inner.retry.within_finish_by(inner.timeout);
            if let (Some(l), Some(b)) = (&inner.limiter, &budget)
                && let Err(refusal) = l.acquire(b, retry.park_after).await
            {
                let shown = short_url(&url, &Scrubber::new(&inner.auth.secrets()));
                if matches!(refusal, crate::limit::Refusal::NotBefore(_)) {
                    inner.counters.parked();
                }
                return Err(refusal.into_error(&inner.system, method, &shown, b));
            }
            let mut scrubber = Scrubber::new(&inner.auth.secrets());
            let authorized = {
                let tokens = TokenClient {
                    http: &inner.http,
                    system: &inner.system,
                    limiter: inner.limiter.as_ref(),
                    park_after: retry.park_after,
                    scrubber: &scrubber,
                };
                inner.auth.authorize(&tokens).await
            };
            let auth = match authorized {
                Ok(a) => a,
                Err(e) => {
                    // Nothing of this request went out, so even a write may wait for the token
                    // endpoint to recover.
                    let server_wait = match &e {
                        HttpError::RateLimited { retry_after, .. } | HttpError::Transient { retry_after, .. } => {
                            *retry_after
                        }
                        _ => return Err(e),
                    };
                    match plan(&retry, attempt, server_wait) {
                        Wait::Sleep(d) => {
                            inner.wait(d, attempt, "token endpoint unavailable").await;
                            attempt += 1;
                            continue;
                        }
                        Wait::Park(after) => return Err(with_retry_after(e, after)),
                    }
                }
            };
            if auth.refreshed {
                inner.counters.auth_refresh();
                // The new token is a secret too: an answer may echo it.
                scrubber = Scrubber::new(&inner.auth.secrets());
            }
            let call = Arc::new(CallContext {
                system: inner.system.clone(),
                method: method.to_string(),
                url: short_url(&url, &scrubber),
                base_url: inner.base_url.to_string(),
                scrubber,
            });
            inner.counters.call();
            let outcome = inner.attempt(&req, &url, &headers, &auth, &call, attempt).await;
            if let (Some(l), Some(b)) = (&inner.limiter, &budget) {
                l.observe(b, outcome.as_ref().ok().map(|(_, h, _)| h)).await;
            }

            let (status, answer_headers, body) = match outcome {
                Ok(answer) => answer,
                Err(e) => {
                    inner.counters.transport_error();
                    let cause = call.scrubber.text(&describe_transport(&e));
                    // A connect error means not a byte of the request left; anything later may
                    // have reached the server.
                    if req.kind == CallKind::Write && !e.is_connect() {
                        return Err(inner.in_doubt(&call, cause));
                    }
                    match plan(&retry, attempt, None) {
                        Wait::Sleep(d) => {
                            inner.wait(d, attempt, &cause).await;
                            attempt += 1;
                            continue;
                        }
                        Wait::Park(after) => return Err(call.transient(after, cause)),
                    }
                }
            };
            inner.counters.status(status.as_u16());
            let verdict = inner.classifier.classify(&Answer {
                method: &req.method,
                kind: req.kind,
                status,
                headers: &answer_headers,
                body: &body,
            });
            match verdict {
                Verdict::Ok => return Ok(Response::new(status, answer_headers, body, call)),
                Verdict::Unauthorized => {
                    if !replayed_after_401 && inner.auth.invalidate(auth.generation).await {
                        // A 401 means the server refused the call, so replaying once is safe even
                        // for a write.
                        replayed_after_401 = true;
                        inner.counters.retry();
                        continue;
                    }
                    let why = if replayed_after_401 {
                        "again with freshly obtained credentials"
                    } else {
                        "and these credentials cannot be renewed"
                    };
                    return Err(HttpError::Auth {
                        system: inner.system.clone(),
                        message: format!(
                            "{method} {} answered {status} {why}: {}",
                            call.url,
                            call.scrubber.snippet(&body)
                        ),
                    });
                }
                Verdict::RateLimited { retry_after } => {
                    inner.counters.throttled();
                    match plan(&retry, attempt, retry_after) {
                        Wait::Sleep(d) => {
                            inner.wait(d, attempt, "rate limited").await;
                            attempt += 1;
                        }
                        Wait::Park(after) => {
                            return Err(HttpError::RateLimited {
                                system: call.system.clone(),
                                method: call.method.clone(),
                                url: call.url.clone(),
                                retry_after: after,
                                snippet: call.scrubber.snippet(&body),
                            });
                        }
                    }
                }
                Verdict::Transient { retry_after, refused } => {
                    let cause = format!("answered {status}: {}", call.scrubber.snippet(&body));
                    if req.kind == CallKind::Write && !refused {
                        return Err(inner.in_doubt(&call, cause));
                    }
                    match plan(&retry, attempt, retry_after) {
                        Wait::Sleep(d) => {
                            inner.wait(d, attempt, &cause).await;
                            attempt += 1;
                        }
                        Wait::Park(after) => return Err(call.transient(after, cause)),
                    }
                }
                Verdict::Rejected { reason } => {
                    return Err(HttpError::Rejected {
                        system: call.system.clone(),
                        method: call.method.clone(),
                        url: call.url.clone(),
                        status: status.as_u16(),
                        detail: format!("{reason}: {}", call.scrubber.snippet(&body)),
                    });
                }
                Verdict::Unexpected { reason } => {
                    // A web page with a 2xx status: the base URL points at the web app, not the API.
                    return Err(HttpError::Unexpected {
                        system: call.system.clone(),
                        method: call.method.clone(),
                        url: call.url.clone(),
                        detail: format!("{reason}: {}", call.scrubber.snippet(&body)),
                        fix: status.is_success().then(|| base_url_fix(&call.base_url)),
                    });
                }
            }
        }
    }
}

impl Inner {
    /// The full URL and the per-call headers, or why the request cannot be sent.
    fn prepare(&self, req: &Request) -> Result<(Url, HeaderMap), HttpError> {
        let invalid = |message: String| HttpError::Invalid { system: self.system.clone(), message };
        let target = req.target.trim();
        if let Some(problem) = &req.problem {
            return Err(invalid(format!("{} {target}: {problem}", req.method)));
        }
        let mut url = if target.contains("://") {
            let u = Url::parse(target).map_err(|e| invalid(format!("{} {target}: not a URL: {e}", req.method)))?;
            if u.origin() != self.base_url.origin() {
                let scrubber = Scrubber::new(&self.auth.secrets());
                return Err(invalid(format!(
                    "{} {}: absolute URLs must be on {}, where this connection's credentials belong",
                    req.method,
                    audit_url(&u, &scrubber),
                    self.base_url.origin().ascii_serialization()
                )));
            }
            u
        } else {
            // Relative to the base path even with a leading '/', which `Url::join` would treat
            // as host-absolute and so drop the base path.
            self.base_url
                .join(target.trim_start_matches('/'))
                .map_err(|e| invalid(format!("{} {target}: not a usable path: {e}", req.method)))?
        };
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&req.query);
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &req.headers {
            let (n, v) = header(name, value).map_err(&invalid)?;
            headers.append(n, v);
        }
        if let Body::Text { content_type, .. } = &req.body {
            let (n, v) = header(CONTENT_TYPE.as_str(), content_type).map_err(&invalid)?;
            headers.insert(n, v);
        }
        Ok((url, headers))
    }

    /// Send once, read the whole answer, record the exchange and log one line.
    async fn attempt(
        &self,
        req: &Request,
        url: &Url,
        headers: &HeaderMap,
        auth: &AuthHeaders,
        call: &CallContext,
        attempt: u32,
    ) -> Result<(StatusCode, HeaderMap, Bytes), reqwest::Error> {
        let mut rb = self.http.request(req.method.clone(), url.clone()).headers(headers.clone());
        rb = rb.headers(auth.headers.clone());
        rb = match &req.body {
            Body::None => rb,
            Body::Json(v) => rb.json(v),
            Body::Form(pairs) => rb.form(pairs),
            Body::Text { text, .. } => rb.body(text.clone()),
        };
        if let Some(t) = req.timeout {
            rb = rb.timeout(t);
        }
        let at = chrono::Utc::now();
        let started = Instant::now();
        let result = async {
            let r = rb.send().await?;
            let status = r.status();
            let headers = r.headers().clone();
            let body = r.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let scrubber = &call.scrubber;
        let request = req.body_text().map(|t| scrubber.audit_body(t.as_bytes()));
        let (status, response, error) = match &result {
            Ok((status, _, body)) => {
                tracing::debug!(
                    system = %call.system, method = %call.method, url = %call.url, attempt,
                    status = status.as_u16(), ms, "http call"
                );
                (Some(status.as_u16()), Some(body), None)
            }
            Err(e) => {
                let cause = scrubber.text(&describe_transport(e));
                tracing::debug!(
                    system = %call.system, method = %call.method, url = %call.url, attempt,
                    ms, error = %cause, "http call failed"
                );
                (None, None, Some(cause))
            }
        };
        Attempt {
            at,
            system: &call.system,
            method: &call.method,
            url: audit_url(url, scrubber),
            status,
            duration_ms: ms,
            request,
            response,
            error,
        }
        .record(scrubber);
        result
    }

    async fn wait(&self, d: std::time::Duration, attempt: u32, why: &str) {
        tracing::debug!(system = %self.system, attempt, wait_ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX), why, "retrying");
        self.counters.retry();
        tokio::time::sleep(d).await;
    }

    fn in_doubt(&self, call: &CallContext, cause: String) -> HttpError {
        self.counters.in_doubt();
        tracing::debug!(system = %call.system, method = %call.method, url = %call.url, cause = %cause, "write in doubt");
        HttpError::InDoubt { system: call.system.clone(), method: call.method.clone(), url: call.url.clone(), cause }
    }
}

impl CallContext {
    fn transient(&self, retry_after: Option<std::time::Duration>, cause: String) -> HttpError {
        HttpError::Transient {
            system: self.system.clone(),
            method: self.method.clone(),
            url: self.url.clone(),
            retry_after,
            cause,
        }
    }
}

fn with_retry_after(e: HttpError, after: Option<std::time::Duration>) -> HttpError {
    match e {
        HttpError::RateLimited { system, method, url, snippet, .. } => {
            HttpError::RateLimited { system, method, url, retry_after: after, snippet }
        }
        HttpError::Transient { system, method, url, cause, .. } => {
            HttpError::Transient { system, method, url, retry_after: after, cause }
        }
        other => other,
    }
}

fn header(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a valid header name"))?;
    let v = HeaderValue::from_str(value)
        .map_err(|_| format!("the value of header {name} has characters a header cannot carry"))?;
    Ok((n, v))
}

/// A transport error in words, without the URL reqwest would add (the caller names the call).
pub(crate) fn describe_transport(e: &reqwest::Error) -> String {
    let what = if e.is_connect() {
        "could not connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "the connection failed"
    };
    let mut chain: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !chain.contains(&text) {
            chain.push(text);
        }
        source = s.source();
    }
    if chain.is_empty() { what.to_string() } else { format!("{what}: {}", chain.join(": ")) }
}
