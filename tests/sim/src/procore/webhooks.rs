//! Webhooks (fact sheet §9): hooks and triggers per namespace, event payloads, and delivery.
//!
//! API: `POST|GET /rest/v1.0/webhooks/hooks`, `GET|PATCH|DELETE …/hooks/{id}`,
//! `POST|GET …/hooks/{id}/triggers`, `GET|DELETE …/triggers/{trigger_id}`,
//! `GET …/hooks/{id}/deliveries` (`filters[status]=any|successful|failing|discarded`,
//! `page_size`, `page_start`) and `GET /rest/v1.0/webhooks/resources`. A hook is company- or
//! project-scoped; a company hook hears every project of its company. The namespace is
//! lowercase `a-z 0-9 -` **[C]**. Trigger lists spell `event_type` upper case **[C]** (switch).
//! Only the app that made a hook sees it (the namespace isolates apps).
//!
//! Delivery **[C]**: an HTTPS POST of the payload with the hook's configured `Authorization`
//! header, success = 2xx within 5 s; deliveries to a hook are sent in order, one at a time; a
//! failure pauses the hook's queue and retries with exponential backoff from 1 s to 1 h on the
//! simulated clock; after 12 h of failures the queue is flushed and its events marked
//! `discarded`; a success resets the backoff. Payloads carry ids only: `v2.0` (default), `v3.0`
//! (+ `related_resources` for line items) or `v4.0` (string ids, `reason`, `resource_type`).
//! Events are at-least-once and unordered: switches drop a share (`webhook_drop_share`), send a
//! share twice (`webhook_duplicate_share`) or queue new events first (`webhook_out_of_order`).
//! Requisitions send no events unless `requisition_webhooks` is on **[U]**.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::ProcoreSim;
use super::api::{Call, PageRules, Reply, Route, project};
use super::model::{Hook, Id, Trigger, WEBHOOK_RESOURCES};
use super::state::{ApiError, DeliveryRecord, HookQueue, ProcoreState, Queued};
use crate::common::{WebhookTarget, webhook};

/// A change something may announce.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub resource_name: String,
    pub resource_id: Id,
    /// `create`, `update` or `delete`.
    pub event_type: String,
    pub company_id: Id,
    pub project_id: Option<Id>,
    pub source_user_id: Option<Id>,
    pub source_application_id: Option<Id>,
    /// The parent of a line-item event (`v3.0` `related_resources`).
    pub related: Option<(Id, String)>,
}

impl Event {
    pub fn new(resource: &str, id: Id, event_type: &str, company_id: Id, project_id: Option<Id>) -> Self {
        Event {
            resource_name: resource.to_string(),
            resource_id: id,
            event_type: event_type.to_string(),
            company_id,
            project_id,
            source_user_id: None,
            source_application_id: None,
            related: None,
        }
    }

    /// Caused by the calling app (its service account user and application id).
    pub fn by(mut self, call: &Call) -> Self {
        self.source_user_id = Some(call.user_id);
        self.source_application_id = Some(call.application_id);
        self
    }
}

/// Route a webhook API call.
pub fn route(st: &mut ProcoreState, call: &Call) -> Result<Reply, ApiError> {
    match (call.route, call.method.as_str()) {
        (Route::WebhookResources, _) => {
            let project_scope = call.params.get("project_id").is_some();
            let rows = WEBHOOK_RESOURCES
                .iter()
                .filter(|(name, _)| *name != "Requisitions" || st.switches.requisition_webhooks)
                .filter(|(_, scope)| !project_scope || *scope == "project")
                .map(|(name, _)| {
                    json!({"api_version": "v2", "resource_name": name, "product_category": "Project Financials",
                           "create": true, "update": true, "delete": true, "except": []})
                })
                .collect();
            Ok(Reply::Json(200, Value::Array(rows)))
        }
        (Route::Hooks, "GET") => {
            let (company, project_id) = scope(st, call, &Value::Null)?;
            let ns = call.params.get("namespace");
            let api = call.params.get("api_version");
            let rows = st
                .hooks
                .iter()
                .filter(|h| h.owned_by_client_id == call.client_id)
                .filter(|h| match project_id {
                    Some(p) => h.project_id == Some(p),
                    None => h.company_id == Some(company),
                })
                .filter(|h| ns.is_none_or(|n| h.namespace == n) && api.is_none_or(|a| h.api_version == a))
                .map(hook_json)
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        (Route::Hooks, _) => {
            let (company, project_id) = scope(st, call, &call.body)?;
            let h = call
                .body
                .get("hook")
                .and_then(Value::as_object)
                .ok_or_else(|| ApiError::bad("the body must hold a \"hook\" object"))?;
            let mut hook = Hook {
                id: st.alloc_id(),
                company_id: if project_id.is_some() { None } else { Some(company) },
                project_id,
                api_version: "v2".into(),
                payload_version: "v2.0".into(),
                owned_by_client_id: call.client_id.clone(),
                owned_by_user_id: Some(call.user_id),
                status: "active".into(),
                ..Default::default()
            };
            apply_hook(&mut hook, h)?;
            if hook.namespace.is_empty() {
                return Err(ApiError::invalid("namespace", "can't be blank"));
            }
            if hook.destination_url.is_empty() {
                return Err(ApiError::invalid("destination_url", "can't be blank"));
            }
            st.hooks.push(hook.clone());
            Ok(Reply::Json(201, hook_json(&hook)))
        }
        (Route::HookShow(id), "GET") => {
            let i = hook_idx(st, call, id)?;
            Ok(Reply::Json(200, hook_json(&st.hooks[i])))
        }
        (Route::HookShow(id), "PATCH") => {
            let i = hook_idx(st, call, id)?;
            let h = call
                .body
                .get("hook")
                .and_then(Value::as_object)
                .ok_or_else(|| ApiError::bad("the body must hold a \"hook\" object"))?;
            let mut hook = st.hooks[i].clone();
            apply_hook(&mut hook, h)?;
            st.hooks[i] = hook.clone();
            Ok(Reply::Json(200, hook_json(&hook)))
        }
        (Route::HookShow(id), _) => {
            let i = hook_idx(st, call, id)?;
            st.hooks.remove(i);
            st.queues.remove(&id);
            Ok(Reply::NoContent)
        }
        (Route::Triggers(id), "GET") => {
            let i = hook_idx(st, call, id)?;
            let upper = st.switches.trigger_event_type_upper;
            let rows = st.hooks[i].triggers.iter().map(|t| trigger_json(t, upper)).collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        (Route::Triggers(id), _) => {
            let i = hook_idx(st, call, id)?;
            let t = call
                .body
                .get("trigger")
                .and_then(Value::as_object)
                .ok_or_else(|| ApiError::bad("the body must hold a \"trigger\" object"))?;
            let name = t.get("resource_name").and_then(Value::as_str).unwrap_or("").trim().to_string();
            if !WEBHOOK_RESOURCES.iter().any(|(r, _)| *r == name) {
                return Err(ApiError::invalid("resource_name", format!("'{name}' is not a valid webhook resource")));
            }
            let et = t.get("event_type").and_then(Value::as_str).unwrap_or("").trim().to_ascii_lowercase();
            if !matches!(et.as_str(), "create" | "update" | "delete") {
                return Err(ApiError::invalid("event_type", "must be create, update or delete"));
            }
            if st.hooks[i].triggers.iter().any(|x| x.resource_name == name && x.event_type == et) {
                return Err(ApiError::invalid("event_type", "has already been taken"));
            }
            let trigger = Trigger { id: st.alloc_id(), resource_name: name, event_type: et };
            st.hooks[i].triggers.push(trigger.clone());
            Ok(Reply::Json(201, trigger_json(&trigger, false)))
        }
        (Route::TriggerShow(id, tid), m) => {
            let i = hook_idx(st, call, id)?;
            let j = st.hooks[i].triggers.iter().position(|t| t.id == tid).ok_or_else(ApiError::not_found)?;
            if m == "GET" {
                return Ok(Reply::Json(
                    200,
                    trigger_json(&st.hooks[i].triggers[j], st.switches.trigger_event_type_upper),
                ));
            }
            st.hooks[i].triggers.remove(j);
            Ok(Reply::NoContent)
        }
        (Route::Deliveries(id), _) => {
            hook_idx(st, call, id)?;
            let status = call.params.get("filters[status]").unwrap_or("any");
            let size = call.params.get("page_size").and_then(|s| s.parse::<usize>().ok()).unwrap_or(100).clamp(1, 1000);
            let start = call.params.get("page_start").and_then(|s| s.parse::<Id>().ok()).unwrap_or(0);
            let rows: Vec<Value> = st
                .deliveries
                .iter()
                .filter(|d| d.hook_id == id && d.outcome != "dropped" && d.id > start)
                .filter(|d| match status {
                    "successful" => d.outcome == "ok",
                    "failing" => d.outcome == "retried" || d.outcome == "failed",
                    "discarded" => d.outcome == "discarded",
                    _ => true,
                })
                .take(size)
                .map(delivery_json)
                .collect();
            Ok(Reply::Json(200, Value::Array(rows)))
        }
        _ => Err(ApiError::not_found()),
    }
}

/// The hook scope of a call: `project_id` or `company_id` from the body or the query.
fn scope(st: &ProcoreState, call: &Call, body: &Value) -> Result<(Id, Option<Id>), ApiError> {
    let company = call.company_id()?;
    let pid = match body.get("project_id").and_then(Value::as_i64) {
        Some(p) => Some(p),
        None => call.params.id("project_id")?,
    };
    if let Some(p) = pid {
        project(st, call, p)?;
    }
    if let Some(c) = body.get("company_id").and_then(Value::as_i64)
        && c != company
    {
        return Err(ApiError::not_connected());
    }
    Ok((company, pid))
}

fn hook_idx(st: &ProcoreState, call: &Call, id: Id) -> Result<usize, ApiError> {
    let company = call.company_id()?;
    st.hooks
        .iter()
        .position(|h| {
            h.id == id
                && h.owned_by_client_id == call.client_id
                && (h.company_id == Some(company)
                    || h.project_id.and_then(|p| st.project(p)).is_some_and(|p| p.company_id == company))
        })
        .ok_or_else(ApiError::not_found)
}

fn apply_hook(hook: &mut Hook, h: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    if let Some(ns) = h.get("namespace").and_then(Value::as_str) {
        if ns.is_empty() || !ns.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(ApiError::invalid("namespace", "may only contain lowercase letters, digits and dashes"));
        }
        hook.namespace = ns.to_string();
    }
    if let Some(u) = h.get("destination_url").and_then(Value::as_str) {
        if !url::Url::parse(u).is_ok_and(|x| matches!(x.scheme(), "http" | "https")) {
            return Err(ApiError::invalid("destination_url", format!("'{u}' is not a valid URL")));
        }
        hook.destination_url = u.to_string();
    }
    if let Some(v) = h.get("api_version").and_then(Value::as_str) {
        hook.api_version = v.to_string();
    }
    if let Some(v) = h.get("payload_version").and_then(Value::as_str) {
        if !matches!(v, "v2.0" | "v3.0" | "v4.0") {
            return Err(ApiError::invalid("payload_version", "must be v2.0, v3.0 or v4.0"));
        }
        hook.payload_version = v.to_string();
    }
    if let Some(s) = h.get("status").and_then(Value::as_str) {
        hook.status = if s == "disabled" { "disabled".into() } else { "active".into() };
    }
    if let Some(hd) = h.get("destination_headers") {
        hook.authorization =
            hd.get("Authorization").or_else(|| hd.get("authorization")).and_then(Value::as_str).map(String::from);
    }
    Ok(())
}

/// A hook as answered: the `Authorization` value masked to its last 5 characters **[C]**.
pub fn hook_json(h: &Hook) -> Value {
    let masked = h.authorization.as_ref().map(|a| {
        let tail: String = a.chars().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        format!("{}{tail}", "*".repeat(a.chars().count().saturating_sub(5)))
    });
    json!({
        "id": h.id, "api_version": h.api_version, "payload_version": h.payload_version, "namespace": h.namespace,
        "destination_url": h.destination_url,
        "destination_headers": masked.map(|m| json!({"Authorization": m})).unwrap_or_else(|| json!({})),
        "owned_by_company_id": h.company_id, "owned_by_project_id": h.project_id,
        "owned_by_user_id": h.owned_by_user_id, "status": h.status,
    })
}

fn trigger_json(t: &Trigger, upper: bool) -> Value {
    let et = if upper { t.event_type.to_ascii_uppercase() } else { t.event_type.clone() };
    json!({"id": t.id, "resource_name": t.resource_name, "event_type": et})
}

fn delivery_json(d: &DeliveryRecord) -> Value {
    json!({
        "id": d.id, "event_id": d.event_id, "event": d.event, "outcome": d.outcome,
        "started_at": d.started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "completed_at": d.completed_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "response_status": d.response_status, "response_headers": {}, "response_body": null,
        "response_error": d.response_error,
    })
}

/// The payload of `ev` for a hook of `version`.
pub fn payload(ev: &Event, event_id: u64, ulid: &str, now: DateTime<Utc>, version: &str, api_version: &str) -> Value {
    let ts = now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let meta = json!({
        "source_user_id": ev.source_user_id, "source_company_id": ev.company_id,
        "source_project_id": ev.project_id, "source_application_id": ev.source_application_id,
        "source_operation_id": null,
    });
    if version == "v4.0" {
        let s = |v: Option<Id>| v.map(|x| Value::String(x.to_string())).unwrap_or(Value::Null);
        let mut v = json!({
            "id": event_id.to_string(), "ulid": ulid, "timestamp": ts, "user_id": s(ev.source_user_id),
            "company_id": ev.company_id.to_string(), "api_version": "v4.0", "reason": ev.event_type,
            "resource_type": ev.resource_name, "resource_id": ev.resource_id.to_string(),
            "metadata": {
                "source_user_id": s(ev.source_user_id), "source_company_id": ev.company_id.to_string(),
                "source_project_id": s(ev.project_id), "source_application_id": s(ev.source_application_id),
                "source_operation_id": null,
            },
        });
        if let Some(p) = ev.project_id {
            v["project_id"] = json!(p.to_string());
        }
        return v;
    }
    let mut v = json!({
        "id": event_id, "ulid": ulid, "timestamp": ts, "user_id": ev.source_user_id,
        "company_id": ev.company_id, "api_version": api_version, "event_type": ev.event_type,
        "resource_name": ev.resource_name, "resource_id": ev.resource_id, "metadata": meta,
    });
    if let Some(p) = ev.project_id {
        v["project_id"] = json!(p);
    }
    if version == "v3.0" {
        v["related_resources"] = match &ev.related {
            Some((id, name)) => json!([{"id": id, "name": name}]),
            None => json!([]),
        };
    }
    v
}

/// Queue `events` for every matching hook and wake the senders.
pub fn dispatch(sim: &Arc<ProcoreSim>, events: Vec<Event>, now: DateTime<Utc>) {
    let hooks = {
        let mut st = sim.lock();
        let mut touched = Vec::new();
        for ev in &events {
            enqueue(&mut st, ev, now, &mut touched);
        }
        touched
    };
    for h in hooks {
        ensure_worker(sim, h);
    }
    sim.wake();
}

fn enqueue(st: &mut ProcoreState, ev: &Event, now: DateTime<Utc>, touched: &mut Vec<Id>) {
    if ev.resource_name == "Requisitions" && !st.switches.requisition_webhooks {
        return;
    }
    let targets: Vec<(Id, String, String)> = st
        .hooks
        .iter()
        .filter(|h| h.status == "active")
        .filter(|h| h.company_id == Some(ev.company_id) || (ev.project_id.is_some() && h.project_id == ev.project_id))
        .filter(|h| {
            h.triggers
                .iter()
                .any(|t| t.resource_name == ev.resource_name && t.event_type.eq_ignore_ascii_case(&ev.event_type))
        })
        .map(|h| (h.id, h.payload_version.clone(), h.api_version.clone()))
        .collect();
    for (hook_id, version, api) in targets {
        let (event_id, ulid) = st.next_event(now);
        let body = payload(ev, event_id, &ulid, now, &version, &api);
        if st.draw() < st.switches.webhook_drop_share {
            let id = st.alloc_id();
            st.deliveries.push(DeliveryRecord {
                id,
                hook_id,
                event_id,
                event: body,
                outcome: "dropped".into(),
                started_at: now,
                completed_at: Some(now),
                response_status: None,
                response_error: Some("lost by the simulator (webhook_drop_share)".into()),
            });
            continue;
        }
        let twice = st.draw() < st.switches.webhook_duplicate_share;
        let front = st.switches.webhook_out_of_order;
        let q = st.queues.entry(hook_id).or_default();
        for _ in 0..(1 + usize::from(twice)) {
            let item = Queued { event_id, body: body.clone() };
            // Out of order: the new event jumps ahead of older ones still waiting (the head may
            // be on its way already).
            if front && !q.items.is_empty() {
                q.items.insert(1, item);
            } else {
                q.items.push_back(item);
            }
        }
        touched.push(hook_id);
    }
}

/// Queue an event without a change behind it (a vendor's duplicate or late delivery).
pub fn announce(sim: &Arc<ProcoreSim>, ev: Event) {
    let now = sim.kit.clock.now();
    dispatch(sim, vec![ev], now);
}

/// Start the hook's sender if it is not running.
pub fn ensure_worker(sim: &Arc<ProcoreSim>, hook_id: Id) {
    let mut w = sim.workers.lock().unwrap_or_else(|p| p.into_inner());
    if w.insert(hook_id) {
        tokio::spawn(worker(Arc::clone(sim), hook_id));
    }
}

enum Step {
    Stop,
    Wait(Option<DateTime<Utc>>),
    Send(Queued, WebhookTarget, String),
}

async fn worker(sim: Arc<ProcoreSim>, hook_id: Id) {
    let kit = sim.kit.clone();
    loop {
        let mut wake = sim.wake_rx();
        let step = {
            let mut st = sim.lock();
            let now = kit.clock.now();
            match st.hooks.iter().find(|h| h.id == hook_id).cloned() {
                None => {
                    st.queues.remove(&hook_id);
                    Step::Stop
                }
                Some(h) => {
                    let timeout = st.switches.webhook_timeout_ms;
                    match st.queues.get(&hook_id) {
                        None => Step::Wait(None),
                        Some(q) if q.items.is_empty() => Step::Wait(None),
                        Some(q) if q.next_attempt_at.is_some_and(|at| now < at) => Step::Wait(q.next_attempt_at),
                        Some(q) => {
                            let item = q.items[0].clone();
                            let mut t = WebhookTarget::new(h.destination_url.clone());
                            t.timeout_ms = timeout.max(1);
                            t.retries = 0;
                            let mut headers = BTreeMap::new();
                            if let Some(a) = &h.authorization {
                                headers.insert("Authorization".to_string(), a.clone());
                            }
                            t.headers = headers;
                            let name = item.body.get("resource_name").or_else(|| item.body.get("resource_type"));
                            let event = format!("procore:{}", name.and_then(Value::as_str).unwrap_or("event"));
                            Step::Send(item, t, event)
                        }
                    }
                }
            }
        };
        match step {
            Step::Stop => break,
            Step::Wait(None) => {
                tokio::select! {
                    _ = wake.changed() => {}
                    _ = kit.shutdown.wait() => break,
                }
            }
            Step::Wait(Some(at)) => {
                tokio::select! {
                    _ = kit.clock.sleep_until(at) => {}
                    _ = wake.changed() => {}
                    _ = kit.shutdown.wait() => break,
                }
            }
            Step::Send(item, target, event) => {
                let started = kit.clock.now();
                let body = serde_json::to_vec(&item.body).unwrap_or_default();
                let (_, handle) = webhook::send(&kit, &event, target, "application/json", body);
                let attempt = tokio::select! {
                    r = handle => r.ok().flatten().and_then(|d| d.attempts.last().cloned()),
                    _ = kit.shutdown.wait() => break,
                };
                let (status, error) = match attempt {
                    Some(a) => (a.status, a.error),
                    None => (None, Some("not sent".to_string())),
                };
                let ok = status.is_some_and(|s| (200..300).contains(&s));
                finish(&mut sim.lock(), hook_id, &item, started, kit.clock.now(), status, error, ok);
            }
        }
    }
    sim.workers.lock().unwrap_or_else(|p| p.into_inner()).remove(&hook_id);
    // A hook re-created with the same id while stopping is picked up by the next dispatch.
}

#[allow(clippy::too_many_arguments)]
fn finish(
    st: &mut ProcoreState,
    hook_id: Id,
    item: &Queued,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
    status: Option<u16>,
    error: Option<String>,
    ok: bool,
) {
    let sw = st.switches.clone();
    let id = st.alloc_id();
    let mut discard = Vec::new();
    let outcome = {
        let q: &mut HookQueue = st.queues.entry(hook_id).or_default();
        if ok {
            if q.items.front().is_some_and(|x| x.event_id == item.event_id) {
                q.items.pop_front();
            } else if let Some(pos) = q.items.iter().position(|x| x.event_id == item.event_id) {
                q.items.remove(pos);
            }
            q.failing_since = None;
            q.next_attempt_at = None;
            q.backoff_secs = 0;
            "ok"
        } else {
            let since = *q.failing_since.get_or_insert(started);
            if now - since >= Duration::seconds(i64::try_from(sw.webhook_discard_after_secs).unwrap_or(i64::MAX / 1000))
            {
                discard = q.items.drain(..).collect();
                q.failing_since = None;
                q.next_attempt_at = None;
                q.backoff_secs = 0;
                "failed"
            } else {
                q.backoff_secs = if q.backoff_secs == 0 {
                    sw.webhook_backoff_initial_secs.max(1)
                } else {
                    (q.backoff_secs * 2).min(sw.webhook_backoff_max_secs.max(1))
                };
                q.next_attempt_at = Some(now + Duration::seconds(i64::try_from(q.backoff_secs).unwrap_or(3600)));
                "retried"
            }
        }
    };
    st.deliveries.push(DeliveryRecord {
        id,
        hook_id,
        event_id: item.event_id,
        event: item.body.clone(),
        outcome: outcome.into(),
        started_at: started,
        completed_at: Some(now),
        response_status: status,
        response_error: error,
    });
    for d in discard {
        let id = st.alloc_id();
        st.deliveries.push(DeliveryRecord {
            id,
            hook_id,
            event_id: d.event_id,
            event: d.body,
            outcome: "discarded".into(),
            started_at: now,
            completed_at: Some(now),
            response_status: None,
            response_error: Some("discarded after 12 hours of failed deliveries".into()),
        });
    }
}
