//! `POST /api/authentication` and the bearer check on every other call.
//!
//! Confirmed **[C]**: a form body `grant_type=password&username=…&password=…`, no Authorization
//! header, 200 with JSON carrying `access_token`; `Authorization: Bearer …` on everything else.
//! Switchable **[U]**: `expires_in` and its value, a `refresh_token` accepted back with
//! `grant_type=refresh_token` (rotated on use), the status of a refused password (400/401),
//! lockout after repeated failures. A TOTP-2FA user is always refused with its own message, and a
//! user whose password expired with another, so a client can tell a person which fix applies.

use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::state::{ApiError, CleoState, Token};

/// The message a TOTP-2FA user gets **[I]** (the real wording is unknown; the client matches on
/// "two-factor", "2fa", "totp" or "verification code").
pub const TWO_FACTOR_MESSAGE: &str =
    "Two-factor authentication is enabled for this user: a TOTP verification code is required";
/// A locked user.
pub const LOCKED_MESSAGE: &str = "User account is locked due to too many failed login attempts";
/// An expired password.
pub const EXPIRED_MESSAGE: &str = "Password has expired and must be changed in the Cleo Portal";
/// Wrong user or password.
pub const BAD_CREDENTIALS_MESSAGE: &str = "Invalid username or password";

/// Answer a token request.
pub fn authenticate(st: &mut CleoState, form: &[(String, String)], now: DateTime<Utc>) -> Result<Value, ApiError> {
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let grant = get("grant_type").unwrap_or("");
    st.grants.push(grant.to_string());
    match grant {
        "password" => password(st, get("username").unwrap_or(""), get("password").unwrap_or(""), now),
        "refresh_token" if st.switches.issue_refresh_token => {
            let presented = get("refresh_token").unwrap_or("");
            let Some(t) = st.refresh_tokens.remove(presented) else {
                return Err(ApiError::bad("Invalid refresh token"));
            };
            if t.expires_at <= now {
                return Err(ApiError::bad("Refresh token has expired"));
            }
            let still_ok = st.user_idx(&t.username).is_some_and(|i| !st.users[i].password_expired);
            if !still_ok {
                return Err(ApiError::bad("Invalid refresh token"));
            }
            Ok(issue(st, &t.username, now))
        }
        "" => Err(ApiError::bad("grant_type is required")),
        other => Err(ApiError::bad(format!("Unsupported grant_type '{other}'"))),
    }
}

fn password(st: &mut CleoState, username: &str, password: &str, now: DateTime<Utc>) -> Result<Value, ApiError> {
    let status = st.switches.bad_credentials_status;
    let Some(i) = st.user_idx(username) else {
        return Err(ApiError::new(status, BAD_CREDENTIALS_MESSAGE));
    };
    if st.users[i].locked_until.is_some_and(|t| t > now) {
        return Err(ApiError::new(401, LOCKED_MESSAGE));
    }
    if st.users[i].password != password {
        let (after, window, lock) =
            (st.switches.lockout_after, st.switches.lockout_window_secs, st.switches.lockout_secs);
        let u = &mut st.users[i];
        u.failures.retain(|t| now - *t < Duration::seconds(window as i64));
        u.failures.push(now);
        if after > 0 && u.failures.len() >= after as usize {
            u.locked_until = Some(now + Duration::seconds(lock as i64));
            u.failures.clear();
        }
        return Err(ApiError::new(status, BAD_CREDENTIALS_MESSAGE));
    }
    let u = &mut st.users[i];
    u.failures.clear();
    if u.two_factor {
        return Err(ApiError::new(403, TWO_FACTOR_MESSAGE));
    }
    if u.password_expired {
        return Err(ApiError::new(401, EXPIRED_MESSAGE));
    }
    let name = u.username.clone();
    Ok(issue(st, &name, now))
}

fn issue(st: &mut CleoState, username: &str, now: DateTime<Utc>) -> Value {
    let access = format!("cic.{}", uuid::Uuid::new_v4().simple());
    let ttl = st.switches.token_ttl_secs;
    st.tokens
        .insert(access.clone(), Token { username: username.into(), expires_at: now + Duration::seconds(ttl as i64) });
    let mut v = json!({ "access_token": access, "token_type": "bearer" });
    if st.switches.send_expires_in {
        v["expires_in"] = json!(ttl);
    }
    if st.switches.issue_refresh_token {
        let refresh = format!("cicr.{}", uuid::Uuid::new_v4().simple());
        let rttl = st.switches.refresh_ttl_secs;
        st.refresh_tokens.insert(
            refresh.clone(),
            Token { username: username.into(), expires_at: now + Duration::seconds(rttl as i64) },
        );
        v["refresh_token"] = json!(refresh);
    }
    v
}

/// The user a bearer token belongs to, or 401 `{"message": "Unauthorized"}` **[I]**.
pub fn bearer_user(st: &CleoState, headers: &HeaderMap, now: DateTime<Utc>) -> Result<String, ApiError> {
    let unauthorized = || ApiError::new(401, "Unauthorized");
    let value = headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
        .ok_or_else(unauthorized)?;
    let t = st.tokens.get(token).ok_or_else(unauthorized)?;
    if t.expires_at <= now {
        return Err(unauthorized());
    }
    Ok(t.username.clone())
}
