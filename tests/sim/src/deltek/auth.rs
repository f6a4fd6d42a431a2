//! `POST {base}/token` and bearer authentication (fact sheet §2).
//!
//! Reproduced **[C]**: form-encoded password grant with Deltek's keys `Username`, `Password`,
//! `grant_type=password`, `Integrated`, `database`, `Client_Id`, `client_secret`, optional
//! `culture`; the answer `{"access_token","token_type":"bearer","expires_in":1799,
//! "refresh_token"}` with a ~400-char URL-safe access token and a ~64-char base64 refresh token;
//! `grant_type=refresh_token` with `refresh_token`, `database`, `client_id`, `client_secret`
//! **[C-code SCJ]**; OAuth-shaped 400s, including "Your login has been disabled.  Please contact
//! your system administrator." (two spaces) **[C-code]**; `Authorization: Bearer` with any
//! scheme casing; 401 on a missing, expired or revoked token.
//!
//! Inferred **[I]**, with switches: form keys are case-insensitive (SCJ's lower-case keys work);
//! a wrong password or secret is `invalid_grant` ("The user name or password is incorrect.");
//! a wrong database is `invalid_grant` ("The database specified is not valid."); refresh rotates
//! the refresh token and it lives 24 h (`rotate_refresh_token`, `refresh_token_lifetime_secs`);
//! an unticked "Allow Password Grant Type" answers `unauthorized_client`
//! (`allow_password_grant`); a missing `culture` is refused only when `require_culture`;
//! `Integrated=Y` (Windows/Azure AD) is not available in the simulator (`invalid_grant`).

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::state::DeltekState;

/// An issued token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    /// Whose it is.
    pub username: String,
    /// When it stops working (simulated time).
    pub expires_at: DateTime<Utc>,
}

/// A token-endpoint failure: OAuth body, status 400.
#[derive(Debug, Clone, PartialEq)]
pub struct OAuthError {
    /// `invalid_grant`, `unsupported_grant_type`, ...
    pub error: &'static str,
    /// Optional description.
    pub description: Option<String>,
}

impl OAuthError {
    fn new(error: &'static str, description: &str) -> Self {
        OAuthError { error, description: Some(description.to_string()) }
    }

    fn bare(error: &'static str) -> Self {
        OAuthError { error, description: None }
    }

    /// The 400 answer.
    pub fn response(&self) -> Response {
        let body = match &self.description {
            Some(d) => json!({ "error": self.error, "error_description": d }),
            None => json!({ "error": self.error }),
        };
        json_response(400, &body)
    }
}

/// Text of a disabled login **[C-code]** (note the two spaces).
pub const DISABLED_LOGIN: &str = "Your login has been disabled.  Please contact your system administrator.";
/// Wrong user name or password **[I]**.
pub const BAD_PASSWORD: &str = "The user name or password is incorrect.";
/// Wrong database **[I]**.
pub const BAD_DATABASE: &str = "The database specified is not valid.";
/// Wrong client id or secret **[I]**.
pub const BAD_CLIENT: &str = "The client id or client secret is not valid.";

fn json_response(status: u16, v: &Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        out.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    out.truncate(n);
    out
}

fn new_access_token() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(300))
}

fn new_refresh_token() -> String {
    // 47 bytes → 64 base64 characters ending in '=', like the real ones.
    base64::engine::general_purpose::STANDARD.encode(random_bytes(47))
}

/// Handle a token request (form body). Returns the 200 answer or an OAuth 400.
pub fn token(state: &mut DeltekState, form: &[(String, String)], now: DateTime<Utc>) -> Result<Response, OAuthError> {
    let get = |k: &str| form.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).map(|(_, v)| v.as_str());
    let check_client = |state: &DeltekState| -> Result<(), OAuthError> {
        if let Some(db) = get("database")
            && !db.eq_ignore_ascii_case(&state.auth.database)
        {
            return Err(OAuthError::new("invalid_grant", BAD_DATABASE));
        }
        if get("database").is_none() {
            return Err(OAuthError::new("invalid_grant", BAD_DATABASE));
        }
        if get("client_id") != Some(state.auth.client_id.as_str())
            || get("client_secret") != Some(state.auth.client_secret.as_str())
        {
            return Err(OAuthError::new("invalid_grant", BAD_CLIENT));
        }
        Ok(())
    };
    match get("grant_type").map(str::trim) {
        Some("password") => {
            check_client(state)?;
            if !state.switches.allow_password_grant {
                return Err(OAuthError::new(
                    "unauthorized_client",
                    "The client is not authorized to use the password grant type.",
                ));
            }
            if state.switches.require_culture && get("culture").is_none_or(|c| c.trim().is_empty()) {
                return Err(OAuthError::new("invalid_grant", "A culture is required."));
            }
            if get("Integrated").is_some_and(|i| i.eq_ignore_ascii_case("Y")) {
                return Err(OAuthError::new("invalid_grant", BAD_PASSWORD));
            }
            let username = get("username").unwrap_or("");
            let password = get("password").unwrap_or("");
            let user = state
                .users
                .iter()
                .find(|u| u.username.eq_ignore_ascii_case(username))
                .ok_or_else(|| OAuthError::new("invalid_grant", BAD_PASSWORD))?;
            if user.password != password {
                return Err(OAuthError::new("invalid_grant", BAD_PASSWORD));
            }
            if user.disabled {
                return Err(OAuthError::new("invalid_grant", DISABLED_LOGIN));
            }
            let username = user.username.clone();
            Ok(issue(state, &username, None, now))
        }
        Some("refresh_token") => {
            check_client(state)?;
            let rt = get("refresh_token").unwrap_or("");
            let tok = state.refresh_tokens.get(rt).cloned().ok_or_else(|| OAuthError::bare("invalid_grant"))?;
            if tok.expires_at <= now {
                state.refresh_tokens.remove(rt);
                return Err(OAuthError::bare("invalid_grant"));
            }
            if state.users.iter().any(|u| u.username == tok.username && u.disabled) {
                return Err(OAuthError::new("invalid_grant", DISABLED_LOGIN));
            }
            let keep = if state.switches.rotate_refresh_token {
                state.refresh_tokens.remove(rt);
                None
            } else {
                Some(rt.to_string())
            };
            Ok(issue(state, &tok.username, keep, now))
        }
        _ => Err(OAuthError::bare("unsupported_grant_type")),
    }
}

fn issue(state: &mut DeltekState, username: &str, keep_refresh: Option<String>, now: DateTime<Utc>) -> Response {
    let lifetime = state.switches.access_token_lifetime_secs;
    let access = new_access_token();
    state
        .access_tokens
        .insert(access.clone(), Token { username: username.into(), expires_at: now + Duration::seconds(lifetime) });
    let refresh = match keep_refresh {
        Some(r) => r,
        None => {
            let r = new_refresh_token();
            let exp = now + Duration::seconds(state.switches.refresh_token_lifetime_secs);
            state.refresh_tokens.insert(r.clone(), Token { username: username.into(), expires_at: exp });
            r
        }
    };
    // Expired tokens are dropped here so a long demo does not accumulate them.
    state.access_tokens.retain(|_, t| t.expires_at > now);
    state.refresh_tokens.retain(|_, t| t.expires_at > now);
    json_response(
        200,
        &json!({ "access_token": access, "token_type": "bearer", "expires_in": lifetime, "refresh_token": refresh }),
    )
}

/// The user an `Authorization` header authenticates, or `None` (→ 401).
pub fn authenticate(state: &DeltekState, authorization: Option<&str>, now: DateTime<Utc>) -> Option<String> {
    let h = authorization?.trim();
    let (scheme, tok) = h.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let t = state.access_tokens.get(tok.trim())?;
    if t.expires_at <= now {
        return None;
    }
    let user = state.users.iter().find(|u| u.username == t.username)?;
    if user.disabled {
        return None;
    }
    Some(user.username.clone())
}
