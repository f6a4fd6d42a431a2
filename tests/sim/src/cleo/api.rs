//! Routing of the simulated Cleo REST API: the `/api` root, the per-path rate limit, the bearer
//! check, body limits, and the answers.
//!
//! Order of checks for a request: unknown path → 404 `{"message": "Not Found"}`; over the path's
//! rate budget → 429 `{"message": "Too Many Requests"}` with `Retry-After` when the
//! `rate_limit_retry_after` switch has a value **[U]**; known path with another method → 405;
//! then `POST /api/authentication`, or the bearer check (401 `{"message": "Unauthorized"}`) and
//! the route.
//!
//! Routes (fact sheet §3 conventions **[C]**, file paths §4 assumptions **[I]**):
//!
//! | method | path |
//! |---|---|
//! | POST | `/api/authentication` |
//! | GET | `/api/mailboxes` (collection; `filter=alias eq "X"`) |
//! | GET | `/api/mailboxes/{mailbox}` |
//! | GET | `/api/mailboxes/{mailbox}/folders` (collection; `filter=name eq "X"`) |
//! | GET | `/api/mailboxes/{mailbox}/folders/{folder}` |
//! | GET, POST | `/api/mailboxes/{mailbox}/folders/{folder}/files` (collection; upload) |
//! | GET, DELETE | `/api/mailboxes/{mailbox}/folders/{folder}/files/{file}` |
//! | GET | `/api/mailboxes/{mailbox}/folders/{folder}/files/{file}/content` |

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::state::{ApiError, CleoState, json_response};
use super::switches::RateKey;
use super::{CleoSim, auth, files};

/// One API route.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Route {
    Authentication,
    Mailboxes,
    Mailbox { mailbox: String },
    Folders { mailbox: String },
    Folder { mailbox: String, folder: String },
    Files { mailbox: String, folder: String },
    File { mailbox: String, folder: String, file: String },
    Content { mailbox: String, folder: String, file: String },
}

/// The route of a path, its template, and the methods it serves.
pub fn resolve(path: &str) -> Option<(Route, &'static str, &'static [&'static str])> {
    let segs: Vec<String> = path.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let owned = |x: &str| x.to_string();
    Some(match s.as_slice() {
        ["api", "authentication"] => (Route::Authentication, "/api/authentication", &["POST"]),
        ["api", "mailboxes"] => (Route::Mailboxes, "/api/mailboxes", &["GET"]),
        ["api", "mailboxes", m] => (Route::Mailbox { mailbox: owned(m) }, "/api/mailboxes/{mailbox}", &["GET"]),
        ["api", "mailboxes", m, "folders"] => {
            (Route::Folders { mailbox: owned(m) }, "/api/mailboxes/{mailbox}/folders", &["GET"])
        }
        ["api", "mailboxes", m, "folders", f] => (
            Route::Folder { mailbox: owned(m), folder: owned(f) },
            "/api/mailboxes/{mailbox}/folders/{folder}",
            &["GET"],
        ),
        ["api", "mailboxes", m, "folders", f, "files"] => (
            Route::Files { mailbox: owned(m), folder: owned(f) },
            "/api/mailboxes/{mailbox}/folders/{folder}/files",
            &["GET", "POST"],
        ),
        ["api", "mailboxes", m, "folders", f, "files", id] => (
            Route::File { mailbox: owned(m), folder: owned(f), file: owned(id) },
            "/api/mailboxes/{mailbox}/folders/{folder}/files/{file}",
            &["GET", "DELETE"],
        ),
        ["api", "mailboxes", m, "folders", f, "files", id, "content"] => (
            Route::Content { mailbox: owned(m), folder: owned(f), file: owned(id) },
            "/api/mailboxes/{mailbox}/folders/{folder}/files/{file}/content",
            &["GET"],
        ),
        _ => return None,
    })
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Query pairs.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// First value of a query key (exact spelling: VersaLex keys are camelCase).
pub fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A request, read.
#[derive(Debug)]
pub struct Call {
    pub method: String,
    pub query: Vec<(String, String)>,
    pub content_type: String,
    pub body: axum::body::Bytes,
    pub now: DateTime<Utc>,
    pub user: String,
}

/// What a handler answers.
#[derive(Debug)]
pub enum Reply {
    Json(u16, Value),
    Bytes { name: String, content: Vec<u8> },
    NoContent,
}

/// The API handler (every path outside `/__sim`).
pub async fn handle(State(sim): State<Arc<CleoSim>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_ascii_uppercase();
    let Some((route, template, methods)) = resolve(parts.uri.path()) else {
        return ApiError::not_found("Not Found").render();
    };
    let now = sim.kit().clock.now();
    {
        let mut st = sim.lock();
        let key = match st.switches.rate_limit_key {
            RateKey::Template => template.to_string(),
            RateKey::Path => parts.uri.path().to_string(),
        };
        if !st.admit(&key, now) {
            let mut e = ApiError::new(429, "Too Many Requests");
            e.retry_after = st.switches.rate_limit_retry_after;
            return e.render();
        }
        if !methods.contains(&method.as_str()) {
            return ApiError::new(405, format!("Method {method} is not allowed on {template}")).render();
        }
    }
    let limit = sim.switches().max_upload_bytes.saturating_add(64 << 10);
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => return ApiError::new(413, "The upload is larger than this tenant accepts").render(),
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let query = query_pairs(parts.uri.query().unwrap_or(""));
    let mut st = sim.lock();
    if route == Route::Authentication {
        if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            ApiError::bad("Content-Type must be application/x-www-form-urlencoded").render()
        } else {
            let form = query_pairs(&String::from_utf8_lossy(&bytes));
            match auth::authenticate(&mut st, &form, now) {
                Ok(v) => json_response(200, &v),
                Err(e) => e.render(),
            }
        }
    } else {
        match auth::bearer_user(&st, &parts.headers, now) {
            Err(e) => e.render(),
            Ok(user) => {
                let call = Call { method, query, content_type, body: bytes, now, user };
                match files::route(&mut st, &call, route) {
                    Ok(r) => render(r),
                    Err(e) => e.render(),
                }
            }
        }
    }
}

fn render(r: Reply) -> Response {
    match r {
        Reply::Json(status, v) => json_response(status, &v),
        Reply::NoContent => {
            let mut resp = Response::new(Body::empty());
            *resp.status_mut() = StatusCode::NO_CONTENT;
            resp
        }
        Reply::Bytes { name, content } => {
            let mut resp = Response::new(Body::from(content));
            resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
            let safe: String = name.chars().filter(|c| *c != '"' && !c.is_control()).collect();
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
                resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
    }
}

/// The rate-limit state as the control API shows it.
pub fn rate_view(st: &CleoState, now: DateTime<Utc>) -> Value {
    let windows: serde_json::Map<String, Value> = st
        .windows
        .iter()
        .map(|(k, q)| (k.clone(), Value::from(q.iter().filter(|t| now - **t < chrono::Duration::seconds(1)).count())))
        .collect();
    serde_json::json!({ "per_second": st.switches.rate_limit_per_second, "throttled": st.throttled, "windows": windows })
}
