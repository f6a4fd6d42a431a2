//! OAuth 2.0 client credentials (fact sheet §2, §13.1).
//!
//! `POST /oauth2/token` with `grant_type=client_credentials`, `scope` (space-separated
//! `service.object.right` names) and the client in the form (`client_id`, `client_secret`, as
//! Coupa's own code sends them) or as HTTP Basic [I]. The answer is `{"access_token": "<JWT>",
//! "token_type": "bearer", "expires_in": 86399}` (+ `scope`, `created_at` by switch), never a
//! refresh token [C]. Refusals are RFC 6749 bodies [I]: `unsupported_grant_type` (400),
//! `invalid_client` (401), `invalid_scope` (400).
//!
//! API calls carry `Authorization: Bearer <token>` (scheme case-insensitive: Coupa's own code
//! sends `bearer`). A missing, unknown, revoked or expired token — or one younger than the
//! activation delay — is a 401 with `WWW-Authenticate: Bearer error="invalid_token"`. The
//! legacy `X-COUPA-API-KEY` is refused (unsupported since R35 [C]). Tokens expire on the
//! simulated clock.

use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::model::Token;
use super::state::{ApiError, CoupaState, json_status};
use super::switches::OmittedScope;

/// Every scope the simulated instance knows (a subset of Coupa's list that matters here).
pub const KNOWN_SCOPES: &[&str] = &[
    "core.invoice.read",
    "core.invoice.write",
    "core.invoice.create",
    "core.purchase_order.read",
    "core.purchase_order.write",
    "core.supplier.read",
    "core.supplier.write",
    "core.common.read",
    "core.common.write",
    "core.accounting.read",
    "core.integration.read",
    "core.integration.write",
    "core.user.read",
];

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    json_status(status, &json!({ "error": error, "error_description": description }))
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty())
}

/// `(client_id, client_secret)` from `Authorization: Basic …`.
fn basic(h: &HeaderMap) -> Option<(String, String)> {
    let v = header(h, "authorization")?;
    let (scheme, rest) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(rest.trim()))
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// `POST /oauth2/token`.
pub fn token(st: &mut CoupaState, headers: &HeaderMap, body: &[u8], now: DateTime<Utc>) -> Response {
    let form: Vec<(String, String)> =
        url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    let field = |k: &str| form.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
    match field("grant_type").as_deref() {
        Some("client_credentials") => {}
        None => return oauth_error(400, "invalid_request", "The request is missing a required parameter: grant_type."),
        Some(_) => {
            return oauth_error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            );
        }
    }
    let invalid_client = || {
        oauth_error(
            401,
            "invalid_client",
            "Client authentication failed due to unknown client, no client authentication included, or unsupported \
             authentication method.",
        )
    };
    let creds = match (basic(headers), field("client_id"), field("client_secret")) {
        (Some(_), _, _) if !st.switches.basic_client_auth => return invalid_client(),
        (Some(b), _, _) => b,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => return invalid_client(),
    };
    let Some(client) =
        st.clients.iter().find(|c| c.client_id == creds.0 && c.client_secret == creds.1 && c.active).cloned()
    else {
        return invalid_client();
    };
    let invalid_scope = || oauth_error(400, "invalid_scope", "The requested scope is invalid, unknown, or malformed.");
    let scopes: Vec<String> = match field("scope").filter(|s| !s.trim().is_empty()) {
        Some(s) => {
            let asked: Vec<String> = s.split(' ').filter(|x| !x.is_empty()).map(str::to_string).collect();
            if asked.iter().any(|a| !client.scopes.contains(a)) {
                return invalid_scope();
            }
            asked
        }
        None => match st.switches.omitted_scope {
            OmittedScope::All => client.scopes.clone(),
            OmittedScope::None => Vec::new(),
            OmittedScope::Error => return invalid_scope(),
        },
    };
    let issued = CoupaState::stamp(now);
    let ttl = st.switches.token_ttl_secs;
    let value = mint(&client.client_id, &scopes, issued, st.tokens.len());
    st.prune_tokens(now);
    st.tokens.push(Token {
        token: value.clone(),
        client_id: client.client_id.clone(),
        scopes: scopes.clone(),
        issued_at: now,
        expires_at: now + Duration::seconds(ttl as i64),
        revoked: false,
    });
    let mut answer = json!({
        "access_token": value,
        "token_type": "bearer",
        "expires_in": if st.switches.expires_in_as_string { json!(ttl.to_string()) } else { json!(ttl) },
    });
    if st.switches.token_extra_keys
        && let Value::Object(m) = &mut answer
    {
        m.insert("scope".into(), json!(scopes.join(" ")));
        m.insert("created_at".into(), json!(issued.timestamp()));
    }
    json_status(200, &answer)
}

/// A JWT-shaped opaque token; its length grows with the scopes, like Coupa's.
fn mint(client: &str, scopes: &[String], at: DateTime<Utc>, n: usize) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let head = b64(&json!({"alg": "RS256", "typ": "JWT"}));
    let body = b64(&json!({"sub": client, "scope": scopes.join(" "), "iat": at.timestamp(), "n": n,
                           "jti": uuid::Uuid::new_v4().to_string()}));
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes());
    format!("{head}.{body}.{sig}")
}

/// Who is calling: the client id and granted scopes of a valid bearer token.
pub fn caller(st: &CoupaState, headers: &HeaderMap, now: DateTime<Utc>) -> Result<(String, Vec<String>), ApiError> {
    let bearer = header(headers, "authorization").and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim().to_string())
    });
    let Some(value) = bearer else {
        if header(headers, "x-coupa-api-key").is_some() {
            return Err(ApiError::new(
                401,
                "error",
                "API keys are no longer supported. Use OAuth 2.0 client credentials (Setup > Integrations > \
                 Oauth2/OpenID Connect Clients).",
            ));
        }
        return Err(ApiError::invalid_token());
    };
    let t = st.token(&value).ok_or_else(ApiError::invalid_token)?;
    if t.revoked || now >= t.expires_at {
        return Err(ApiError::invalid_token());
    }
    let active_at = t.issued_at + Duration::milliseconds(st.switches.token_activation_ms as i64);
    if now < active_at {
        return Err(ApiError::invalid_token());
    }
    Ok((t.client_id.clone(), t.scopes.clone()))
}
