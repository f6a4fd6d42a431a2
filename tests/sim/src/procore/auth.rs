//! `/oauth/token` (client credentials), `/oauth/token/info` and `/oauth/revoke` (fact sheet §2).
//!
//! The token endpoint takes `grant_type=client_credentials`, `client_id`, `client_secret` as a
//! URL-encoded form, a multipart form or a JSON body **[C]**, and the client as HTTP Basic when
//! `accept_basic_client_auth` is on **[I]**. It answers `{"access_token","token_type":"bearer",
//! "expires_in":5400,"created_at":<unix s>}` with no `refresh_token` **[C]** (switch
//! `token_refresh_token`); tokens are opaque and expire on the simulated clock. Refusals use
//! Doorkeeper's RFC 6749 bodies **[I]**.

use axum::http::{HeaderMap, header};
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::ProcoreSim;
use super::api::Route;
use super::model::Token;
use super::state::{ApiError, TokenProblem, json_response};

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json_response(status, &json!({ "error": error, "error_description": description }))
}

const UNKNOWN_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, \
                              or unsupported authentication method.";

/// The `/oauth/*` routes.
pub fn handle(sim: &ProcoreSim, route: Route, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Response {
    match route {
        Route::Token => token(sim, headers, body, now),
        Route::TokenInfo => info(sim, headers, now),
        Route::Revoke => revoke(sim, headers, body),
        _ => ApiError::not_found().render(),
    }
}

/// The fields of a form, multipart or JSON body.
pub fn body_fields(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if ct.contains("json") || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m
                .into_iter()
                .map(|(k, v)| {
                    let s = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, s)
                })
                .collect(),
            _ => Vec::new(),
        };
    }
    if ct.starts_with("multipart/form-data") {
        let boundary = ct.split("boundary=").nth(1).map(|b| b.trim_matches('"').to_string());
        // The boundary is case-sensitive: take it from the original header.
        let original = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let boundary = original
            .split("boundary=")
            .nth(1)
            .map(|b| b.split(';').next().unwrap_or(b).trim_matches('"').to_string())
            .or(boundary);
        return boundary.map(|b| multipart(body, &b)).unwrap_or_default();
    }
    url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A minimal multipart/form-data reader (text fields only).
fn multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let delim = format!("--{boundary}");
    let mut out = Vec::new();
    for part in text.split(delim.as_str()) {
        let part = part.trim_start_matches("\r\n");
        if part.starts_with("--") || part.trim().is_empty() {
            continue;
        }
        let Some((head, value)) = part.split_once("\r\n\r\n") else { continue };
        let name = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .and_then(|l| l.split("name=\"").nth(1))
            .and_then(|n| n.split('"').next());
        if let Some(n) = name {
            out.push((n.to_string(), value.trim_end_matches("\r\n").to_string()));
        }
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let enc = v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD.decode(enc.trim()).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn token(sim: &ProcoreSim, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Response {
    let fields = body_fields(headers, body);
    let mut st = sim.lock();
    let (id, secret) = match (field(&fields, "client_id"), field(&fields, "client_secret")) {
        (Some(i), Some(s)) => (i.to_string(), s.to_string()),
        _ => match basic(headers).filter(|_| st.switches.accept_basic_client_auth) {
            Some(pair) => pair,
            None => return oauth_error(401, "invalid_client", UNKNOWN_CLIENT),
        },
    };
    match field(&fields, "grant_type") {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            );
        }
        None => {
            return oauth_error(400, "invalid_request", "Missing required parameter: grant_type.");
        }
    }
    let Some(app) = st.app(&id).filter(|a| a.client_secret == secret).cloned() else {
        return oauth_error(401, "invalid_client", UNKNOWN_CLIENT);
    };
    st.issued += 1;
    let life = i64::try_from(st.switches.token_lifetime_secs).unwrap_or(5400);
    let access = format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzUxMiJ9.{}", uuid::Uuid::new_v4().simple());
    st.tokens.retain(|t| t.expires_at + Duration::days(1) > now);
    st.tokens.push(Token {
        token: access.clone(),
        client_id: app.client_id.clone(),
        created_at: now,
        expires_at: now + Duration::seconds(life),
    });
    let mut v = json!({
        "access_token": access,
        "token_type": "bearer",
        "expires_in": life,
        "created_at": now.timestamp(),
    });
    if st.switches.token_refresh_token {
        v["refresh_token"] = json!(uuid::Uuid::new_v4().simple().to_string());
    }
    json_response(200, &v)
}

fn info(sim: &ProcoreSim, headers: &HeaderMap, now: DateTime<Utc>) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim()
        .to_string();
    let st = sim.lock();
    match st.token_app(&bearer, now) {
        Ok(app) => {
            let t = st.tokens.iter().find(|t| t.token == bearer);
            let left = t.map(|t| (t.expires_at - now).num_seconds()).unwrap_or(0);
            json_response(
                200,
                &json!({
                    "resource_owner_id": app.user_id,
                    "scope": [],
                    "expires_in": left,
                    "application": { "uid": app.client_id },
                    "created_at": t.map(|t| t.created_at.timestamp()),
                }),
            )
        }
        Err(p) => {
            let text = match p {
                TokenProblem::Invalid => "The access token is invalid",
                TokenProblem::Expired => "The access token expired",
            };
            ApiError::errors(401, json!(text))
                .header(
                    "www-authenticate",
                    format!("Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"{text}\""),
                )
                .render()
        }
    }
}

/// Always 200, even for an unknown token **[C]**.
fn revoke(sim: &ProcoreSim, headers: &HeaderMap, body: &[u8]) -> Response {
    let fields = body_fields(headers, body);
    if let Some(t) = field(&fields, "token") {
        sim.lock().tokens.retain(|x| x.token != t);
    }
    json_response(200, &json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn multipart_and_json_and_form_bodies() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("multipart/form-data; boundary=XyZ"));
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--XyZ\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\nabc\r\n--XyZ--\r\n";
        let f = body_fields(&h, body.as_bytes());
        assert_eq!(field(&f, "grant_type"), Some("client_credentials"));
        assert_eq!(field(&f, "client_id"), Some("abc"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        assert_eq!(field(&body_fields(&h, br#"{"client_id":"j","n":5}"#), "n"), Some("5"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        assert_eq!(field(&body_fields(&h, b"client_id=a%20b"), "client_id"), Some("a b"));
    }
}
