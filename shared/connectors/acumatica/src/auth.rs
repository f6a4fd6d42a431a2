//! Signing in to Acumatica (fact sheet §2): the OAuth password grant (recommended) or the
//! legacy session cookie, both as the kit's [`Auth`] so every call refreshes before expiry and
//! once on a 401.
//!
//! **OAuth** ([`OAuthGrant`]): the kit's [`PasswordGrant`] against `<instance>/identity/connect/token`
//! with `scope=api offline_access` (a refresh token; no `api:concurrent_access`, so one licence
//! session per grant, reused by its refreshes). Refresh tokens rotate: the newest one is always
//! kept (the kit replaces it with each answer) and the token is renewed `refresh_before_secs`
//! before expiry (the sheet: when less than 5 minutes are left). When the licence's session cap
//! is reached, the token endpoint answers 429 or a body containing "API Login Limit": that is
//! *throttling*, not bad credentials, so it becomes a retryable error with a wait (sessions
//! free up when their tokens expire or after 10 idle minutes).
//!
//! **Cookie** ([`CookieSession`]): `POST <instance>/entity/auth/login` with `name`, `password`,
//! `tenant`, `branch`; the `Set-Cookie` answer (`.ASPXAUTH`, `ASP.NET_SessionId`, `UserBranch`)
//! is sent back as one `Cookie` header. Bad credentials come back as a **500** PXException
//! "Invalid credentials" (and an unknown tenant as `PXUndefinedCompanyException`), which is an
//! auth error here, not a server fault. Every session is logged out
//! ([`CookieSession::logout`], called by the client's `close`) with an explicit
//! `Content-Length: 0` (IIS answers 411 without it, and an empty body alone does not send one):
//! unclosed sessions count against the licence for 10 minutes and cannot be force-closed.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http::{HeaderMap, HeaderValue, header};
use mlc_core::secret::Redacted;
use mlc_http::{
    Answer, Auth, AuthHeaders, Classifier, ConnectionConfig, DefaultClassifier, HttpClient, HttpError, PasswordGrant,
    Request, RetryPolicy, TokenClient, Verdict,
};
use serde_json::json;
use tokio::sync::Mutex;
use url::Url;

use crate::settings::{AcumaticaCredentials, AcumaticaSettings};

/// How long to wait before signing in again after "API Login Limit": longer than the client's
/// `park_after`, so the call is not slept in-process but handed back to the engine to park
/// (idle sessions lapse after 10 minutes, OAuth ones when their hour is up).
pub const LOGIN_LIMIT_WAIT: Duration = Duration::from_secs(180);

/// Whether an answer's text is the licence's session cap.
pub fn is_login_limit(text: &str) -> bool {
    text.to_ascii_lowercase().contains("api login limit")
}

/// OAuth 2.0 password grant with the session cap read as throttling.
#[derive(Debug)]
pub struct OAuthGrant {
    inner: PasswordGrant,
}

impl OAuthGrant {
    /// For these settings and credentials.
    pub fn new(s: &AcumaticaSettings, c: &AcumaticaCredentials) -> Result<Self, HttpError> {
        let token_url = s.instance_url.join("identity/connect/token").map_err(|e| HttpError::Invalid {
            system: "acumatica".into(),
            message: format!("the token URL cannot be built from {}: {e}", s.instance_url),
        })?;
        let grant = PasswordGrant::new(token_url, c.username.clone(), c.password.clone())
            .client(c.client_id.clone().unwrap_or_default(), c.client_secret.clone().unwrap_or_default())
            .login_extra("scope", "api offline_access")
            .refresh_skew(s.refresh_before);
        Ok(OAuthGrant { inner: grant })
    }
}

fn login_limit(e: HttpError) -> HttpError {
    match e {
        HttpError::Auth { system, message } if is_login_limit(&message) => HttpError::RateLimited {
            system,
            method: "POST".into(),
            url: "identity/connect/token".into(),
            retry_after: Some(LOGIN_LIMIT_WAIT),
            snippet: format!(
                "{message} (the licence's API sessions are all in use: sign out unused sessions, or wait for them to expire)"
            ),
        },
        HttpError::RateLimited { system, method, url, retry_after, snippet } => {
            HttpError::RateLimited { system, method, url, retry_after: retry_after.or(Some(LOGIN_LIMIT_WAIT)), snippet }
        }
        other => other,
    }
}

#[async_trait]
impl Auth for OAuthGrant {
    async fn authorize(&self, tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        self.inner.authorize(tokens).await.map_err(login_limit)
    }
    async fn invalidate(&self, generation: u64) -> bool {
        self.inner.invalidate(generation).await
    }
    fn secrets(&self) -> Vec<Redacted<String>> {
        self.inner.secrets()
    }
}

/// No headers, but secrets to scrub: the sign-in client's auth (its bodies carry the password).
#[derive(Debug, Clone)]
pub struct ScrubOnly(pub Vec<Redacted<String>>);

#[async_trait]
impl Auth for ScrubOnly {
    async fn authorize(&self, _tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        Ok(AuthHeaders { headers: HeaderMap::new(), generation: 0, refreshed: false })
    }
    async fn invalidate(&self, _generation: u64) -> bool {
        false
    }
    fn secrets(&self) -> Vec<Redacted<String>> {
        self.0.clone()
    }
}

/// The sign-in calls' rules: a 500 PXException or a 4xx at login is a refusal to read, not a
/// server fault; a 429 ("API Login Limit") is throttling; everything else as usual. Bodies may
/// be empty (204) or IIS text.
#[derive(Debug, Clone)]
struct LoginRules;

impl Classifier for LoginRules {
    fn classify(&self, a: &Answer<'_>) -> Verdict {
        let text = String::from_utf8_lossy(&a.body[..a.body.len().min(4096)]);
        if is_login_limit(&text) {
            return Verdict::RateLimited { retry_after: Some(LOGIN_LIMIT_WAIT) };
        }
        if a.status.as_u16() == 500 && text.contains("PX.") {
            return Verdict::Ok;
        }
        match DefaultClassifier::new().any_body().classify(a) {
            Verdict::Rejected { .. } => Verdict::Ok,
            v => v,
        }
    }
}

/// A client for the instance root (`GET /entity`, login, logout), without credentials.
pub fn root_client(s: &AcumaticaSettings, secrets: Vec<Redacted<String>>) -> Result<HttpClient, HttpError> {
    let config = ConnectionConfig::new("acumatica", s.instance_url.clone())
        .timeout(s.timeout)
        .connect_timeout(s.timeout.min(Duration::from_secs(10)))
        .header("Accept", "application/json")
        .retry(RetryPolicy { max_attempts: 3, ..RetryPolicy::default() });
    HttpClient::new(config, Arc::new(ScrubOnly(secrets)), Arc::new(LoginRules))
}

#[derive(Debug, Default)]
struct Session {
    cookie: Option<Redacted<String>>,
    generation: u64,
}

/// The legacy cookie session, logged in on demand and logged out on close.
#[derive(Debug)]
pub struct CookieSession {
    root: HttpClient,
    name: String,
    password: Redacted<String>,
    tenant: String,
    branch: Option<String>,
    session: Mutex<Session>,
}

impl CookieSession {
    /// For these settings and credentials.
    pub fn new(s: &AcumaticaSettings, c: &AcumaticaCredentials) -> Result<Self, HttpError> {
        let root = root_client(s, vec![c.password.clone()])?;
        Ok(CookieSession {
            root,
            name: c.username.clone(),
            password: c.password.clone(),
            tenant: s.tenant.clone(),
            branch: s.branch.clone(),
            session: Mutex::new(Session::default()),
        })
    }

    async fn login(&self) -> Result<Redacted<String>, HttpError> {
        let mut body = json!({"name": self.name, "password": self.password.expose(), "tenant": self.tenant});
        if let (Some(b), Some(m)) = (&self.branch, body.as_object_mut()) {
            m.insert("branch".into(), json!(b));
        }
        let resp = self.root.send(Request::post("entity/auth/login").json(&body)).await.map_err(|e| match e {
            // A login sent whose answer was lost leaves at most an idle session behind (it lapses
            // in 10 minutes); signing in again is safe.
            HttpError::InDoubt { system, url, cause, .. } => HttpError::Transient {
                system,
                method: "POST".into(),
                url,
                retry_after: None,
                cause: format!("the sign-in answer was lost ({cause})"),
            },
            other => other,
        })?;
        if !resp.status().is_success() {
            let words = mlc_http::fault::vendor_words(resp.bytes()).join("; ");
            return Err(HttpError::Auth {
                system: "acumatica".into(),
                message: format!(
                    "sign-in (entity/auth/login) answered {}: {}; check username, password and tenant {:?}{}",
                    resp.status().as_u16(),
                    resp.scrub(&words),
                    self.tenant,
                    self.branch.as_deref().map(|b| format!(" and branch {b:?}")).unwrap_or_default()
                ),
            });
        }
        let cookies: Vec<String> = resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|c| c.split(';').next().map(str::trim).map(str::to_string))
            .filter(|c| c.contains('='))
            .collect();
        if !cookies.iter().any(|c| c.starts_with(".ASPXAUTH=") || c.starts_with("ASP.NET_SessionId=")) {
            return Err(HttpError::Auth {
                system: "acumatica".into(),
                message: "sign-in answered without a session cookie; check base_url (the instance URL)".into(),
            });
        }
        Ok(Redacted::new(cookies.join("; ")))
    }

    /// Log the session out (if any). Errors are reported, not fatal: the session lapses anyway.
    pub async fn logout(&self) -> Result<(), HttpError> {
        let cookie = self.session.lock().await.cookie.take();
        let Some(cookie) = cookie else { return Ok(()) };
        let req = Request::post("entity/auth/logout")
            .header("Cookie", cookie.expose().clone())
            .header("Content-Length", "0")
            .text("application/json", "");
        self.root.send(req).await.map(|_| ())
    }
}

#[async_trait]
impl Auth for CookieSession {
    async fn authorize(&self, _tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        let mut s = self.session.lock().await;
        let refreshed = s.cookie.is_none();
        if refreshed {
            s.cookie = Some(self.login().await?);
            s.generation += 1;
        }
        let mut headers = HeaderMap::new();
        if let Some(c) = &s.cookie
            && let Ok(mut v) = HeaderValue::from_str(c.expose())
        {
            v.set_sensitive(true);
            headers.insert(header::COOKIE, v);
        }
        Ok(AuthHeaders { headers, generation: s.generation, refreshed })
    }

    async fn invalidate(&self, generation: u64) -> bool {
        let mut s = self.session.lock().await;
        if s.generation == generation {
            // The server already dropped it (expired or idle): nothing to log out.
            s.cookie = None;
        }
        true
    }

    fn secrets(&self) -> Vec<Redacted<String>> {
        let mut v = vec![self.password.clone()];
        if let Ok(s) = self.session.try_lock()
            && let Some(c) = &s.cookie
        {
            v.push(c.clone());
        }
        v
    }
}

/// The token endpoint's URL for an instance.
pub fn token_url(instance: &Url) -> Option<Url> {
    instance.join("identity/connect/token").ok()
}
