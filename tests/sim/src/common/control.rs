//! The `/__sim` control API, the same for every simulator. Real clients never call it; tests and
//! `mlc demo` use it to seed, inspect, inject faults, drive the clock and fire webhooks.
//!
//! | Method | Path | Body / query | Does |
//! |---|---|---|---|
//! | GET | `/__sim` | | `{system, base_url, credentials, clock, actions}` |
//! | GET | `/__sim/state` | | the system's whole state |
//! | POST | `/__sim/seed` | scenario JSON | merge a scenario into the state |
//! | POST | `/__sim/reset` | `{"to": "initial" \| "empty" \| "demo"}` or `{"scenario": {...}}` | reset state; clear faults, calls, webhook log |
//! | GET/POST/DELETE | `/__sim/faults` | a rule or an array of rules (POST) | list / add / clear faults |
//! | DELETE | `/__sim/faults/{id}` | | remove one rule |
//! | POST | `/__sim/faults/seed` | `{"seed": n}` | reseed the probability generator |
//! | GET/POST | `/__sim/clock` | `{"mode": "real"\|"manual"\|"scaled", "ms_per_minute": n, "now": rfc3339}` | read / set the clock |
//! | POST | `/__sim/clock/advance` | `{"seconds": n}` (or `minutes`, `hours`, `ms`) | move simulated time |
//! | GET/DELETE | `/__sim/calls` | `?method=POST&route=*/apControl` | request log with counts / clear |
//! | GET/POST | `/__sim/switches` | partial switch object (POST) | read / change behaviour switches |
//! | POST | `/__sim/actions/{name}` | action arguments | a system-specific action |
//! | GET/DELETE | `/__sim/webhooks` | | outbound webhook deliveries / clear |

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{ClockMode, FaultRule, ResetTo, SimError, SimKit, SimSystem};

#[derive(Clone)]
struct Ctl {
    system: Arc<dyn SimSystem>,
    kit: SimKit,
    info: Value,
}

/// The control router (its paths include the `/__sim` prefix; merge it at the root).
pub fn router(system: Arc<dyn SimSystem>, kit: SimKit, info: Value) -> Router {
    Router::new()
        .route("/__sim", get(info_handler))
        .route("/__sim/", get(info_handler))
        .route("/__sim/state", get(state))
        .route("/__sim/seed", post(seed))
        .route("/__sim/reset", post(reset))
        .route("/__sim/faults", get(faults_list).post(faults_add).delete(faults_clear))
        .route("/__sim/faults/seed", post(faults_seed))
        .route("/__sim/faults/{id}", delete(faults_remove))
        .route("/__sim/clock", get(clock_get).post(clock_set))
        .route("/__sim/clock/advance", post(clock_advance))
        .route("/__sim/calls", get(calls_get).delete(calls_clear))
        .route("/__sim/switches", get(switches_get).post(switches_set).patch(switches_set).put(switches_set))
        .route("/__sim/actions/{name}", post(action))
        .route("/__sim/webhooks", get(webhooks_get).delete(webhooks_clear))
        .with_state(Ctl { system, kit, info })
}

fn body_json(body: &Bytes) -> Result<Value, String> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))
}

fn bad(msg: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": msg.into() }))).into_response()
}

fn sim_err(e: SimError) -> Response {
    let status = match e {
        SimError::UnknownAction { .. } => StatusCode::NOT_FOUND,
        SimError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    (status, Json(json!({ "error": e.to_string() }))).into_response()
}

async fn info_handler(State(c): State<Ctl>) -> Json<Value> {
    let mut v = c.info.clone();
    if let Value::Object(m) = &mut v {
        m.insert("clock".into(), c.kit.clock.describe());
        m.insert("actions".into(), json!(c.system.actions()));
    }
    Json(v)
}

async fn state(State(c): State<Ctl>) -> Json<Value> {
    Json(c.system.snapshot())
}

async fn seed(State(c): State<Ctl>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return bad(r),
    };
    match c.system.seed(&v) {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => sim_err(e),
    }
}

async fn reset(State(c): State<Ctl>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return bad(r),
    };
    let to = if let Some(s) = v.get("scenario").filter(|s| s.is_object()) {
        ResetTo::Scenario(s.clone())
    } else {
        match v.get("to").or_else(|| v.get("scenario")).and_then(Value::as_str).unwrap_or("initial") {
            "initial" => ResetTo::Initial,
            "empty" => ResetTo::Empty,
            "demo" => ResetTo::Demo,
            other => return bad(format!("unknown reset target '{other}' (initial, empty, demo)")),
        }
    };
    if let Err(e) = c.system.reset(to) {
        return sim_err(e);
    }
    c.kit.faults.clear();
    c.kit.calls.clear();
    c.kit.webhooks.clear();
    Json(json!({ "ok": true })).into_response()
}

async fn faults_list(State(c): State<Ctl>) -> Json<Value> {
    Json(c.kit.faults.describe())
}

async fn faults_add(State(c): State<Ctl>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return bad(r),
    };
    let parsed: Result<Vec<FaultRule>, _> = match v {
        Value::Array(_) => serde_json::from_value(v),
        other => serde_json::from_value(other).map(|r| vec![r]),
    };
    let rules = match parsed {
        Ok(r) if !r.is_empty() => r,
        Ok(_) => return bad("expected a fault rule or a non-empty array of rules"),
        Err(e) => {
            return bad(format!("bad fault rule (expected {{\"method\",\"route\",\"fault\":{{\"kind\":...}}}}): {e}"));
        }
    };
    let ids: Vec<u64> = rules.into_iter().map(|r| c.kit.faults.add(r)).collect();
    (StatusCode::CREATED, Json(json!({ "ids": ids }))).into_response()
}

async fn faults_clear(State(c): State<Ctl>) -> Json<Value> {
    c.kit.faults.clear();
    Json(json!({ "ok": true }))
}

async fn faults_remove(State(c): State<Ctl>, Path(id): Path<u64>) -> Response {
    if c.kit.faults.remove(id) {
        Json(json!({ "ok": true })).into_response()
    } else {
        (StatusCode::NOT_FOUND, Json(json!({ "error": format!("no fault rule {id}") }))).into_response()
    }
}

async fn faults_seed(State(c): State<Ctl>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return bad(r),
    };
    match v.get("seed").and_then(Value::as_u64) {
        Some(s) => {
            c.kit.faults.set_seed(s);
            Json(json!({ "ok": true })).into_response()
        }
        None => bad("expected {\"seed\": <u64>}"),
    }
}

async fn clock_get(State(c): State<Ctl>) -> Json<Value> {
    Json(c.kit.clock.describe())
}

async fn clock_set(State(c): State<Ctl>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return bad(r),
    };
    if let Some(now) = v.get("now").and_then(Value::as_str) {
        match DateTime::parse_from_rfc3339(now) {
            Ok(t) => c.kit.clock.set(t.with_timezone(&Utc)),
            Err(e) => return bad(format!("bad 'now': {e}")),
        }
    }
    if v.get("mode").is_some() {
        match serde_json::from_value::<ClockMode>(v.clone()) {
            Ok(m) => c.kit.clock.set_mode(m),
            Err(e) => return bad(format!("bad clock mode: {e}")),
        }
    }
    Json(c.kit.clock.describe()).into_response()
}

async fn clock_advance(State(c): State<Ctl>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return bad(r),
    };
    let num = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let ms = num("ms") + num("seconds") * 1e3 + num("minutes") * 60e3 + num("hours") * 3600e3 + num("days") * 86_400e3;
    if ms == 0.0 {
        return bad("expected {\"seconds\"|\"minutes\"|\"hours\"|\"days\"|\"ms\": n}");
    }
    c.kit.clock.advance(Duration::milliseconds(ms as i64));
    Json(c.kit.clock.describe()).into_response()
}

async fn calls_get(State(c): State<Ctl>, Query(q): Query<HashMap<String, String>>) -> Json<Value> {
    Json(c.kit.calls.describe(q.get("method").map(String::as_str), q.get("route").map(String::as_str)))
}

async fn calls_clear(State(c): State<Ctl>) -> Json<Value> {
    c.kit.calls.clear();
    Json(json!({ "ok": true }))
}

async fn switches_get(State(c): State<Ctl>) -> Json<Value> {
    Json(c.system.switches())
}

async fn switches_set(State(c): State<Ctl>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return bad(r),
    };
    match c.system.set_switches(&v) {
        Ok(all) => Json(all).into_response(),
        Err(e) => sim_err(e),
    }
}

async fn action(State(c): State<Ctl>, Path(name): Path<String>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return bad(r),
    };
    match c.system.clone().action(name, v).await {
        Ok(out) => Json(out).into_response(),
        Err(e) => sim_err(e),
    }
}

async fn webhooks_get(State(c): State<Ctl>) -> Json<Value> {
    Json(c.kit.webhooks.describe())
}

async fn webhooks_clear(State(c): State<Ctl>) -> Json<Value> {
    c.kit.webhooks.clear();
    Json(json!({ "ok": true }))
}
