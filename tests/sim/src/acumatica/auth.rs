//! Sign-in (fact sheet §2): the OAuth 2.0 token endpoint, the legacy cookie login and logout,
//! and the licence's session cap (§2.3).
//!
//! Reproduced **[C]**: `POST <instance>/identity/connect/token` with a form body; the password
//! grant takes `client_id` (`<GUID>@<Tenant>`: the suffix names the tenant), `client_secret`,
//! `username`, `password`, `scope=api offline_access`; the answer
//! `{"access_token","expires_in":3600,"token_type":"Bearer","scope","refresh_token"}` (a
//! refresh token only with `offline_access`); `grant_type=refresh_token` returns a new refresh
//! token; the chain ends 30 days after the password grant; no client-credentials grant. The
//! cookie login `POST <instance>/entity/auth/login` (JSON or form: `name`, `password`, `tenant`
//! or its older alias `company`, `branch`, `locale`) answers 204 with `.ASPXAUTH`,
//! `ASP.NET_SessionId` and `UserBranch` cookies; bad credentials are a 500 PXException
//! "Error: Invalid credentials. Please try again."; an unknown tenant a 500
//! `PXUndefinedCompanyException`; an empty tenant lands on the default one. Logout answers 204
//! and wants `Content-Length: 0` (411 without it). Cookie sessions end after 10 idle minutes.
//! Every sign-in counts against the licence's API sessions; one more is refused with 429 and a
//! body containing "API Login Limit". With `api` and without `api:concurrent_access` one OAuth
//! grant is one session, reused by its refreshes, closed when its token expires.
//!
//! Inferred **[I]**, with switches where they matter: IdentityServer-style token errors
//! (`invalid_client`, `invalid_grant` with `invalid_username_or_password`, `invalid_scope`,
//! `unsupported_grant_type` for client credentials); a used refresh token stops working
//! (`refresh_token_one_time`); the 401 body "You are not logged in."; an unknown branch at
//! login is a 500 PXException.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::state::{AcuState, ApiError, IIS_TEXT, PX_EXCEPTION};
use super::switches::LoginLimitBody;

/// An issued access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessToken {
    /// Whose.
    pub user: String,
    /// The API session it belongs to.
    pub session: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// An issued refresh token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshToken {
    /// Whose.
    pub user: String,
    /// The chain (one per password grant).
    pub chain: String,
    /// When the chain began (it ends `refresh_chain_days` later).
    pub chain_started: DateTime<Utc>,
    /// The client it was issued to.
    pub client_id: String,
    /// Granted scopes.
    pub scope: String,
}

/// How a session was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    /// `entity/auth/login`.
    Cookie,
    /// An OAuth grant.
    OAuth,
}

/// One API session (what the licence counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Id.
    pub id: String,
    /// Whose.
    pub user: String,
    /// How it was opened.
    pub kind: SessionKind,
    /// When.
    pub opened: DateTime<Utc>,
    /// Last call.
    pub last_seen: DateTime<Utc>,
    /// OAuth: when its current token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Logged out.
    pub closed: bool,
    /// Cookie sessions: the `.ASPXAUTH` value.
    pub aspxauth: Option<String>,
    /// Cookie sessions: the `ASP.NET_SessionId` value.
    pub session_cookie: Option<String>,
    /// OAuth sessions: the refresh chain.
    pub chain: Option<String>,
}

impl Session {
    /// Whether it still counts and still works.
    pub fn active(&self, now: DateTime<Utc>, idle_secs: i64) -> bool {
        if self.closed {
            return false;
        }
        match self.kind {
            SessionKind::Cookie => now - self.last_seen < Duration::seconds(idle_secs),
            SessionKind::OAuth => self.expires_at.is_some_and(|t| now < t),
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// User name.
    pub user: String,
    /// Session id.
    pub session: String,
}

fn random_token(bytes: usize) -> String {
    let mut out = String::new();
    while out.len() < bytes * 2 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string().to_uppercase());
    }
    out.truncate(bytes * 2);
    out
}

/// A token-endpoint refusal: OAuth JSON with status 400 (or a 429 for the session cap).
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    /// Status.
    pub status: u16,
    /// Body.
    pub body: Value,
    /// Plain-text body instead (IIS).
    pub text: Option<&'static str>,
}

impl OAuthError {
    fn new(error: &str, description: Option<&str>) -> Self {
        let body = match description {
            Some(d) => json!({ "error": error, "error_description": d }),
            None => json!({ "error": error }),
        };
        OAuthError { status: 400, body, text: None }
    }

    /// The answer.
    pub fn response(&self) -> Response {
        match self.text {
            Some(t) => ApiError::text(self.status, t).render(),
            None => {
                let mut r = Response::new(Body::from(self.body.to_string()));
                *r.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                r
            }
        }
    }
}

/// The session-cap refusal (login and token endpoint).
fn login_limit(st: &mut AcuState) -> (u16, Option<&'static str>, Value) {
    st.licence.login_refused += 1;
    match st.switches.login_limit_body {
        LoginLimitBody::Json => (
            429,
            None,
            json!({"message": "API Login Limit", "exceptionMessage": "You have reached the API Login Limit of your license. Sign out of unused sessions or wait until they expire.", "exceptionType": PX_EXCEPTION}),
        ),
        LoginLimitBody::IisText => (429, Some(IIS_TEXT), Value::Null),
    }
}

/// Sessions that still count.
pub fn active_sessions(st: &AcuState, now: DateTime<Utc>) -> usize {
    let idle = st.switches.session_idle_timeout_secs;
    st.sessions.iter().filter(|s| s.active(now, idle)).count()
}

fn cap_reached(st: &AcuState, now: DateTime<Utc>) -> bool {
    let max = st.switches.licence_max_sessions;
    max > 0 && active_sessions(st, now) >= max as usize
}

/// Forget sessions and tokens that can no longer matter, so a long demo does not accumulate them.
pub fn sweep(st: &mut AcuState, now: DateTime<Utc>) {
    let idle = st.switches.session_idle_timeout_secs;
    let days = st.switches.refresh_chain_days;
    st.access_tokens.retain(|_, t| t.expires_at > now);
    st.refresh_tokens.retain(|_, t| t.chain_started + Duration::days(days) > now);
    let keep_after = now - Duration::days(1);
    st.sessions.retain(|s| s.active(now, idle) || s.last_seen > keep_after);
}

/// `POST /identity/connect/token`.
pub fn token(st: &mut AcuState, form: &[(String, String)], now: DateTime<Utc>) -> Result<Value, OAuthError> {
    sweep(st, now);
    let get = |k: &str| form.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v.trim().to_string());
    let grant = get("grant_type").unwrap_or_default();
    let client_id = get("client_id").unwrap_or_default();
    let client_secret = get("client_secret").unwrap_or_default();
    match grant.as_str() {
        "password" | "refresh_token" => {}
        "client_credentials" => return Err(OAuthError::new("unsupported_grant_type", None)),
        "authorization_code" => return Err(OAuthError::new("invalid_grant", None)),
        _ => return Err(OAuthError::new("unsupported_grant_type", None)),
    }
    let app = st.apps.iter().find(|a| a.client_id.eq_ignore_ascii_case(&client_id)).cloned();
    let tenant_ok = client_id.rsplit_once('@').is_some_and(|(_, t)| t.eq_ignore_ascii_case(&st.tenant.name));
    let Some(app) = app.filter(|a| a.secret == client_secret && tenant_ok) else {
        return Err(OAuthError::new("invalid_client", None));
    };
    let lifetime = st.switches.access_token_lifetime_secs;
    if grant == "password" {
        if !app.password_flow {
            return Err(OAuthError::new("unauthorized_client", None));
        }
        let scope = get("scope").unwrap_or_default();
        let scopes: Vec<&str> = scope.split_whitespace().collect();
        if !scopes.contains(&"api") {
            return Err(OAuthError::new("invalid_scope", None));
        }
        let (username, password) = (get("username").unwrap_or_default(), get("password").unwrap_or_default());
        let ok = st.user(&username).is_some_and(|u| u.active && u.password == password);
        if !ok {
            return Err(OAuthError::new("invalid_grant", Some("invalid_username_or_password")));
        }
        if cap_reached(st, now) {
            let (status, text, body) = login_limit(st);
            return Err(OAuthError { status, body, text });
        }
        let user = st.user(&username).map(|u| u.name.clone()).unwrap_or(username);
        let chain = random_token(8);
        let session = open_session(st, &user, SessionKind::OAuth, now, Some(now + Duration::seconds(lifetime)));
        if let Some(s) = st.sessions.iter_mut().find(|s| s.id == session) {
            s.chain = Some(chain.clone());
        }
        let refresh = scopes.contains(&"offline_access").then(|| {
            let t = random_token(32);
            st.refresh_tokens.insert(
                t.clone(),
                RefreshToken {
                    user: user.clone(),
                    chain: chain.clone(),
                    chain_started: now,
                    client_id: app.client_id.clone(),
                    scope: scope.clone(),
                },
            );
            t
        });
        return Ok(issue(st, &user, &session, &scopes.join(" "), refresh, now));
    }
    let presented = get("refresh_token").unwrap_or_default();
    let Some(rt) = st.refresh_tokens.get(&presented).cloned() else {
        return Err(OAuthError::new("invalid_grant", None));
    };
    if !rt.client_id.eq_ignore_ascii_case(&app.client_id)
        || rt.chain_started + Duration::days(st.switches.refresh_chain_days) <= now
        || !st.user(&rt.user).is_some_and(|u| u.active)
    {
        st.refresh_tokens.remove(&presented);
        return Err(OAuthError::new("invalid_grant", None));
    }
    let idle = st.switches.session_idle_timeout_secs;
    let live = st.sessions.iter().position(|s| s.chain.as_deref() == Some(rt.chain.as_str()) && s.active(now, idle));
    let session = match live {
        Some(i) => {
            st.sessions[i].expires_at = Some(now + Duration::seconds(lifetime));
            st.sessions[i].last_seen = now;
            st.sessions[i].id.clone()
        }
        None => {
            if cap_reached(st, now) {
                let (status, text, body) = login_limit(st);
                return Err(OAuthError { status, body, text });
            }
            let id = open_session(st, &rt.user, SessionKind::OAuth, now, Some(now + Duration::seconds(lifetime)));
            if let Some(s) = st.sessions.iter_mut().find(|s| s.id == id) {
                s.chain = Some(rt.chain.clone());
            }
            id
        }
    };
    if st.switches.refresh_token_one_time {
        st.refresh_tokens.remove(&presented);
    }
    let next = random_token(32);
    st.refresh_tokens.insert(next.clone(), rt.clone());
    Ok(issue(st, &rt.user, &session, &rt.scope, Some(next), now))
}

fn open_session(
    st: &mut AcuState,
    user: &str,
    kind: SessionKind,
    now: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> String {
    let id = random_token(12);
    st.sessions.push(Session {
        id: id.clone(),
        user: user.to_string(),
        kind,
        opened: now,
        last_seen: now,
        expires_at,
        closed: false,
        aspxauth: None,
        session_cookie: None,
        chain: None,
    });
    id
}

fn issue(
    st: &mut AcuState,
    user: &str,
    session: &str,
    scope: &str,
    refresh: Option<String>,
    now: DateTime<Utc>,
) -> Value {
    let lifetime = st.switches.access_token_lifetime_secs;
    let access = random_token(32);
    st.access_tokens.insert(
        access.clone(),
        AccessToken {
            user: user.to_string(),
            session: session.to_string(),
            expires_at: now + Duration::seconds(lifetime),
        },
    );
    let mut v = json!({ "access_token": access, "expires_in": lifetime, "token_type": "Bearer", "scope": scope });
    if let (Some(r), Value::Object(m)) = (refresh, &mut v) {
        m.insert("refresh_token".into(), json!(r));
    }
    v
}

/// `POST /entity/auth/login`: 204 with cookies, or the refusal.
pub fn login(st: &mut AcuState, body: &Value, now: DateTime<Utc>) -> Response {
    sweep(st, now);
    let get = |k: &str| {
        body.as_object()
            .and_then(|m| m.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)))
            .and_then(|(_, v)| v.as_str())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let tenant = get("tenant").or_else(|| get("company"));
    if let Some(t) = &tenant
        && !t.eq_ignore_ascii_case(&st.tenant.name)
    {
        return ApiError::exception(
            500,
            "PX.Data.PXUndefinedCompanyException",
            "A proper company ID cannot be determined for the request.",
        )
        .render();
    }
    let (name, password) = (get("name").unwrap_or_default(), get("password").unwrap_or_default());
    let Some(user) = st.user(&name).filter(|u| u.active && u.password == password).cloned() else {
        return ApiError::px("Error: Invalid credentials. Please try again.").render();
    };
    let branch = get("branch").unwrap_or_else(|| user.branch.clone());
    let branch_no = match st.branches.iter().position(|b| b.branch_id.eq_ignore_ascii_case(&branch)) {
        Some(i) => i + 1,
        None if branch.is_empty() => 1,
        None => return ApiError::px(format!("Branch '{branch}' cannot be found in the system.")).render(),
    };
    if cap_reached(st, now) {
        let (status, text, body) = login_limit(st);
        return match text {
            Some(t) => ApiError::text(status, t).render(),
            None => ApiError { status, body, content_type: "application/json; charset=utf-8" }.render(),
        };
    }
    let id = open_session(st, &user.name, SessionKind::Cookie, now, None);
    let (aspx, sid) = (random_token(48), random_token(12).to_lowercase());
    if let Some(s) = st.sessions.iter_mut().find(|s| s.id == id) {
        s.aspxauth = Some(aspx.clone());
        s.session_cookie = Some(sid.clone());
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    for c in [
        format!(".ASPXAUTH={aspx}; path=/; HttpOnly; SameSite=Lax"),
        format!("ASP.NET_SessionId={sid}; path=/; HttpOnly; SameSite=Lax"),
        format!("UserBranch={branch_no}; path=/"),
        "Locale=Culture=en-US&TimeZone=GMTM0400A; path=/".to_string(),
        format!("requestid={}; path=/", random_token(16)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

/// `POST /entity/auth/logout`: closes the caller's session (cookie or bearer) **[C]**.
pub fn logout(st: &mut AcuState, headers: &HeaderMap, now: DateTime<Utc>) -> Response {
    if st.switches.logout_requires_content_length && headers.get(header::CONTENT_LENGTH).is_none() {
        let mut r = ApiError::text(411, "Length Required").render();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=us-ascii"));
        return r;
    }
    if let Some(i) = session_of(st, headers, now) {
        st.sessions[i].closed = true;
        let sid = st.sessions[i].id.clone();
        st.access_tokens.retain(|_, t| t.session != sid);
    }
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|line| {
        line.split(';').map(str::trim).find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == name).map(|(_, v)| v))
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, tok) = h.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| tok.trim())
}

/// The index of the live session a request carries, if any.
fn session_of(st: &AcuState, headers: &HeaderMap, now: DateTime<Utc>) -> Option<usize> {
    let idle = st.switches.session_idle_timeout_secs;
    if let Some(tok) = bearer(headers) {
        let t = st.access_tokens.get(tok).filter(|t| t.expires_at > now)?;
        return st.sessions.iter().position(|s| s.id == t.session && !s.closed);
    }
    let (aspx, sid) = (cookie(headers, ".ASPXAUTH")?, cookie(headers, "ASP.NET_SessionId")?);
    st.sessions.iter().position(|s| {
        s.kind == SessionKind::Cookie
            && s.aspxauth.as_deref() == Some(aspx)
            && s.session_cookie.as_deref() == Some(sid)
            && s.active(now, idle)
    })
}

/// Authenticate a data call (bearer token or session cookies): the caller, or a 401.
pub fn authenticate(st: &mut AcuState, headers: &HeaderMap, now: DateTime<Utc>) -> Result<Caller, ApiError> {
    let i = session_of(st, headers, now).ok_or_else(ApiError::not_logged_in)?;
    let user = st.sessions[i].user.clone();
    if !st.user(&user).is_some_and(|u| u.active) {
        return Err(ApiError::not_logged_in());
    }
    st.sessions[i].last_seen = now;
    Ok(Caller { user, session: st.sessions[i].id.clone() })
}

/// Make every access token expire now (the next call is a 401; a refresh works).
pub fn expire_tokens(st: &mut AcuState, now: DateTime<Utc>) -> usize {
    let n = st.access_tokens.len();
    for t in st.access_tokens.values_mut() {
        t.expires_at = now;
    }
    for s in st.sessions.iter_mut().filter(|s| s.kind == SessionKind::OAuth) {
        s.expires_at = Some(now);
    }
    n
}

/// Revoke everything: tokens, refresh tokens and sessions (a password change, say).
pub fn revoke_all(st: &mut AcuState) -> usize {
    let n = st.access_tokens.len() + st.refresh_tokens.len();
    st.access_tokens.clear();
    st.refresh_tokens.clear();
    for s in &mut st.sessions {
        s.closed = true;
    }
    n
}
