//! The webhook function: `POST /webhooks/{connection}` behind an API Gateway HTTP API (payload 2.0).
//!
//! Thin by design: turn the API Gateway request into a [`WebhookRequest`] (header names
//! lower-cased, the body as raw bytes — `lambda_http` has already undone API Gateway's base64),
//! hand it to [`Runtime::webhook`] (size cap → verify over the raw body → parse → dedupe by
//! delivery id → enqueue a hint to SQS), and shape the answer:
//!
//! | outcome | status | body |
//! |---|---|---|
//! | accepted (including duplicates and events no flow wants) | 202 | the intake report as JSON |
//! | signature/credentials wrong | 401 | empty |
//! | body over the cap | 413 | one line |
//! | verified but unreadable | 400 | one line |
//! | no source configured for the system | 404 | one line |
//! | store/queue unavailable | 503 | "temporarily unavailable; retry" (vendors redeliver) |
//! | not POST | 405 | empty |
//!
//! **Rotated secrets reach a warm container.** A delivery that fails verification makes the
//! runtime read that connection's secret again — at most once per `SECRET_REREAD_INTERVAL`, so a
//! flood of forged deliveries costs one Secrets Manager read, not one per request — and check the
//! delivery once more: a sender that switched to a new secret is accepted without a cold start
//! (and with two secrets held during a rotation, deliveries signed with either pass meanwhile).
//! A delivery for a connection with no webhook source while some flows are unavailable (the
//! connection's secret was missing at start) rebuilds the runtime, at most as often, and tries again.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use mlc_core::engine::intake::WebhookRequest;
use mlc_flows::Runtime;
use mlc_flows::env::Reloadable;
use tracing::{info, warn};

/// Handle one request with the container's runtime, rebuilding it once (at most once per
/// interval) when a connection's webhook source may have appeared since (see the module docs).
pub async fn handle_live(live: &Reloadable, req: Request) -> Response<Body> {
    let rt = live.current().await;
    let first = handle(&rt, req.clone()).await;
    if first.status() != StatusCode::NOT_FOUND || rt.unavailable.is_empty() {
        return first;
    }
    match live.rebuild("a webhook for a connection that was unavailable").await {
        Some(fresh) => handle(&fresh, req).await,
        None => first,
    }
}

/// Handle one API Gateway request. Never fails: every outcome is an HTTP answer.
pub async fn handle(rt: &Runtime, req: Request) -> Response<Body> {
    if req.method() != lambda_http::http::Method::POST {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "", "text/plain");
    }
    let Some(system) = system_of(&req) else {
        return reply(StatusCode::NOT_FOUND, "expected POST /webhooks/{system}", "text/plain");
    };
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let wreq = WebhookRequest {
        connection: &system,
        headers: &headers,
        body: req.body().as_ref(),
        received_at: rt.engine.clock.now(),
    };
    match rt.webhook(&wreq).await {
        Ok(report) => {
            info!(system = %system, events = report.events, enqueued = report.enqueued, duplicates = report.duplicates, ignored = report.ignored, "webhook accepted");
            let body = serde_json::to_string(&report).unwrap_or_else(|_| "{}".into());
            reply(StatusCode::ACCEPTED, &body, "application/json")
        }
        Err(e) => {
            // The full reason goes to our log only; the caller gets `public_message` (nothing for 401).
            warn!(system = %system, status = e.status(), error = %e, "webhook refused");
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            reply(status, &e.public_message(), "text/plain")
        }
    }
}

/// `{system}` from the route's path parameters, or from the raw path.
fn system_of(req: &Request) -> Option<String> {
    if let Some(s) = req.path_parameters_ref().and_then(|p| p.first("system")) {
        return Some(s.to_string()).filter(|s| !s.is_empty());
    }
    let path = req.raw_http_path();
    let rest = path.trim_end_matches('/').rsplit_once("/webhooks/")?.1;
    (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_string())
}

fn reply(status: StatusCode, body: &str, content_type: &str) -> Response<Body> {
    let mut r = Response::new(if body.is_empty() { Body::Empty } else { Body::Text(body.to_string()) });
    *r.status_mut() = status;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert("content-type", v);
    }
    r
}
