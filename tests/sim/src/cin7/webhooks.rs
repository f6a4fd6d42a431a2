//! Webhooks (the Automation module, fact sheet §7): `webhooks` CRUD with at most 5 of one type,
//! the event payloads, and delivery.
//!
//! Delivery **[C]**: a JSON POST to `ExternalURL` with the configured `ExternalHeaders` and
//! Basic/Bearer credentials and no signature; first attempt about a minute after the event, then
//! retries 5, 10, 15, 20 and 25 minutes apart; when the last attempt fails the webhook is
//! deactivated (`IsActive=false`). Timing runs on the simulated clock (switches
//! `webhook_first_delay_secs`, `webhook_retry_minutes`), so a test on a manual clock moves a
//! delivery along by advancing time; the `flush_webhooks` action sends everything due at once.
//! Success = any 2xx within `webhook_timeout_ms` real ms **[U]**. A share of deliveries can be
//! lost on purpose (`webhook_drop_share`): the scheduled poll must backfill them.
//!
//! Every attempt also appears in the kit's `/__sim/webhooks` log; the Cin7-level view (one entry
//! per delivery with its attempts, pending/delivered/failed/dropped/cancelled) is the
//! `webhook_deliveries` action and [`super::Cin7Sim::deliveries`].

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::Cin7Sim;
use super::api::{Call, Event};
use super::model::{Obj, Webhook, event_name, event_type, new_id, same_id};
use super::purchases;
use super::reference::{address_json, contact_json, supplier_json};
use super::state::{ApiError, Cin7State};
use super::switches::{SupplierNesting, WebhookPostShape, WebhookTaskId};
use crate::common::{WebhookTarget, webhook};

/// Most webhooks of one type **[C]**.
pub const MAX_PER_TYPE: usize = 5;

/// A webhook as answered.
pub fn webhook_json(w: &Webhook) -> Value {
    json!({
        "ID": w.id, "Type": w.kind, "Name": event_name(&w.kind), "IsActive": w.is_active, "ExternalURL": w.url,
        "ExternalAuthorizationType": w.auth_type, "ExternalUserName": w.username, "ExternalPassword": w.password,
        "ExternalBearerToken": w.bearer,
        "ExternalHeaders": w.headers.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>(),
    })
}

/// `GET webhooks` → `{"Webhooks": [...]}`.
pub fn list(st: &Cin7State) -> Value {
    json!({ "Webhooks": st.webhooks.iter().map(webhook_json).collect::<Vec<_>>() })
}

/// Read a webhook object onto `w`, checking what Cin7 would refuse.
pub fn apply(o: &Obj<'_>, w: &mut Webhook) -> Result<(), ApiError> {
    if let Some(t) = o.text("Type") {
        w.kind =
            event_type(&t).ok_or_else(|| ApiError::bad(format!("Type '{t}' is not a valid webhook type")))?.to_string();
    }
    if let Some(u) = o.text("ExternalURL") {
        w.url = u;
    }
    if let Some(b) = o.boolean("IsActive") {
        w.is_active = b;
    }
    if let Some(a) = o.text("ExternalAuthorizationType") {
        let a = a.to_ascii_lowercase();
        if !matches!(a.as_str(), "noauth" | "basicauth" | "bearerauth") {
            return Err(ApiError::bad(format!(
                "ExternalAuthorizationType '{a}' is not valid (noauth, basicauth, bearerauth)"
            )));
        }
        w.auth_type = a;
    }
    for (k, f) in [
        ("ExternalUserName", &mut w.username),
        ("ExternalPassword", &mut w.password),
        ("ExternalBearerToken", &mut w.bearer),
    ] {
        if let Some(v) = o.text(k) {
            *f = v;
        }
    }
    if o.has("ExternalHeaders") {
        w.headers =
            o.objects("ExternalHeaders").iter().filter_map(|h| Some((h.text("Key")?, h.str("Value")))).collect();
    }
    if w.kind.is_empty() {
        return Err(ApiError::bad("Type is required"));
    }
    let url_ok = url::Url::parse(&w.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if !url_ok {
        return Err(ApiError::bad(format!("ExternalURL '{}' is not a valid URL", w.url)));
    }
    match w.auth_type.as_str() {
        "basicauth" if w.username.is_empty() || w.password.is_empty() => {
            Err(ApiError::bad("ExternalUserName and ExternalPassword are required for basicauth"))
        }
        "bearerauth" if w.bearer.is_empty() => Err(ApiError::bad("ExternalBearerToken is required for bearerauth")),
        _ => Ok(()),
    }
}

fn check_count(st: &Cin7State, w: &Webhook) -> Result<(), ApiError> {
    let same = st.webhooks.iter().filter(|x| x.kind == w.kind && !same_id(&x.id, &w.id)).count();
    if same >= MAX_PER_TYPE {
        return Err(ApiError::bad(format!("Maximum number of webhooks of type '{}' is {MAX_PER_TYPE}", w.kind)));
    }
    Ok(())
}

fn answer(st: &Cin7State, w: &Webhook) -> Value {
    match st.switches.webhook_post_shape {
        WebhookPostShape::Wrapped => json!({ "Webhooks": [webhook_json(w)] }),
        WebhookPostShape::Bare => webhook_json(w),
    }
}

/// `POST webhooks`.
pub fn create(st: &mut Cin7State, call: &Call) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a webhook object"))?;
    let mut w = Webhook { id: new_id(), is_active: true, auth_type: "noauth".into(), ..Default::default() };
    apply(&o, &mut w)?;
    check_count(st, &w)?;
    st.webhooks.push(w.clone());
    Ok(answer(st, &w))
}

/// `PUT webhooks` (by `ID`).
pub fn update(st: &mut Cin7State, call: &Call) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a webhook object"))?;
    let id = o.text("ID").ok_or_else(|| ApiError::bad("ID is required"))?;
    let pos = st
        .webhooks
        .iter()
        .position(|w| same_id(&w.id, &id))
        .ok_or_else(|| ApiError::bad(format!("Webhook with ID '{id}' not found")))?;
    let mut w = st.webhooks[pos].clone();
    apply(&o, &mut w)?;
    check_count(st, &w)?;
    st.webhooks[pos] = w.clone();
    Ok(answer(st, &w))
}

/// `DELETE webhooks?ID=`.
pub fn delete(st: &mut Cin7State, call: &Call) -> Result<(), ApiError> {
    let id = call
        .params
        .get("ID")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad("ID is required"))?;
    let pos = st
        .webhooks
        .iter()
        .position(|w| same_id(&w.id, id))
        .ok_or_else(|| ApiError::bad(format!("Webhook with ID '{id}' not found")))?;
    st.webhooks.remove(pos);
    Ok(())
}

fn guid(st: &Cin7State, id: &str) -> String {
    if st.switches.webhook_upper_case_ids { id.to_ascii_uppercase() } else { id.to_string() }
}

/// The payload a webhook of this event type carries (`None`: the record is gone).
pub fn payload(st: &Cin7State, ev: &Event) -> Option<(&'static str, Value)> {
    match ev {
        Event::Task { event, purchase, task, number } => {
            let p = &st.purchases[st.purchase_idx(purchase)?];
            let contact = st.supplier_idx(&p.supplier_id).and_then(|i| {
                let s = &st.suppliers[i];
                s.contacts.iter().find(|c| c.default).or(s.contacts.first()).cloned()
            });
            let task_id = match st.switches.webhook_task_id {
                WebhookTaskId::Subtask => task.as_str(),
                WebhookTaskId::Purchase => p.id.as_str(),
            };
            let mut v = json!({
                "TaskID": guid(st, task_id),
                "PurchaseOrderNumber": p.order_number,
                "SupplierName": p.supplier,
                "SupplierContactName": contact.as_ref().map(|c| c.name.clone()),
                "SupplierContactEmail": contact.as_ref().map(|c| c.email.clone()),
                "EventType": event,
            });
            if let Value::Object(m) = &mut v {
                match *event {
                    "Purchase/InvoiceAuthorised" => {
                        m.insert("InvoiceNumber".into(), json!(number));
                    }
                    "Purchase/StockReceivedAuthorised" => {
                        m.insert("InvoiceNumber".into(), json!(p.invoices.last().map(|i| i.invoice_number.clone())));
                    }
                    "Purchase/CreditNoteAuthorised" => {
                        m.insert("CreditNoteNumber".into(), json!(number));
                    }
                    _ => {}
                }
            }
            Some((event, v))
        }
        Event::PurchaseUpdated(id) => {
            let p = &st.purchases[st.purchase_idx(id)?];
            let mut header = purchases::advanced_json(st, p, false);
            if let Value::Object(m) = &mut header {
                for k in [
                    "Order",
                    "StockReceived",
                    "PutAway",
                    "Invoice",
                    "CreditNote",
                    "ManualJournals",
                    "Attachments",
                    "InventoryMovements",
                ] {
                    m.remove(k);
                }
                for k in ["ID", "SupplierID"] {
                    if let Some(Value::String(s)) = m.get(k) {
                        let g = guid(st, s);
                        m.insert(k.into(), json!(g));
                    }
                }
            }
            let mut v = serde_json::Map::new();
            v.insert("NumberOfPurchase".into(), json!(1));
            v.insert(st.switches.purchase_updated_list_key.clone(), json!([header]));
            v.insert("EventType".into(), json!("Purchase/Updated"));
            Some(("Purchase/Updated", Value::Object(v)))
        }
        Event::SupplierUpdated(id) => {
            let s = &st.suppliers[st.supplier_idx(id)?];
            let mut card = supplier_json(st, s);
            if let Value::Object(m) = &mut card {
                m.insert("ID".into(), json!(guid(st, &s.id)));
            }
            let entry = match st.switches.supplier_updated_nesting {
                SupplierNesting::Nested => {
                    if let Value::Object(m) = &mut card {
                        m.remove("Addresses");
                        m.remove("Contacts");
                    }
                    json!({
                        "Supplier": card,
                        "Addresses": s.addresses.iter().map(|a| address_json(s, a)).collect::<Vec<_>>(),
                        "Contacts": s.contacts.iter().map(contact_json).collect::<Vec<_>>(),
                    })
                }
                SupplierNesting::Flat => card,
            };
            Some((
                "Supplier/Updated",
                json!({ "NumberOfSuppliers": 1, "SupplierDetailsList": [entry], "EventType": "Supplier/Updated" }),
            ))
        }
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryAttempt {
    /// Simulated time it was sent.
    pub at: DateTime<Utc>,
    /// Status answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Error when there was no answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One event delivered (or not) to one webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// 1-based.
    pub id: u64,
    /// Webhook id.
    pub webhook_id: String,
    /// Event type.
    pub event_type: String,
    /// Target URL.
    pub url: String,
    /// The JSON sent.
    pub body: Value,
    /// `pending`, `delivered`, `failed` (the webhook was deactivated), `dropped` (lost on
    /// purpose), `cancelled` (webhook deleted or deactivated meanwhile).
    pub state: String,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// When the next attempt is due (pending only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Attempts so far.
    pub attempts: Vec<DeliveryAttempt>,
}

/// Deliveries of one simulator.
#[derive(Debug, Default)]
pub struct DeliveryLog {
    /// All deliveries, oldest first.
    pub deliveries: Vec<Delivery>,
    next: u64,
}

impl DeliveryLog {
    fn open(&mut self, d: Delivery) -> u64 {
        self.next += 1;
        let id = self.next;
        self.deliveries.push(Delivery { id, ..d });
        id
    }

    fn update(&mut self, id: u64, f: impl FnOnce(&mut Delivery)) {
        if let Some(d) = self.deliveries.iter_mut().find(|d| d.id == id) {
            f(d);
        }
    }
}

/// A delivery to start once the state lock is released.
#[derive(Debug, Clone)]
pub struct Pending {
    id: u64,
    webhook_id: String,
    event: String,
    body: Vec<u8>,
    due: DateTime<Utc>,
}

/// Turn events into deliveries for every active webhook of their type; lost ones are logged as
/// `dropped`. Called under the state lock, right after the write, so payloads show that state.
pub fn prepare(st: &mut Cin7State, events: &[Event], now: DateTime<Utc>) -> Vec<Pending> {
    let mut out = Vec::new();
    let delay = Duration::seconds(i64::try_from(st.switches.webhook_first_delay_secs).unwrap_or(i64::MAX / 1000));
    for ev in events {
        let Some((kind, body)) = payload(st, ev) else { continue };
        let hooks: Vec<Webhook> = st.webhooks.iter().filter(|w| w.is_active && w.kind == kind).cloned().collect();
        for w in hooks {
            let dropped = st.draw_drop();
            let d = Delivery {
                id: 0,
                webhook_id: w.id.clone(),
                event_type: kind.to_string(),
                url: w.url.clone(),
                body: body.clone(),
                state: if dropped { "dropped".into() } else { "pending".into() },
                created_at: now,
                next_attempt_at: (!dropped).then_some(now + delay),
                attempts: Vec::new(),
            };
            let id = st.deliveries.open(d);
            if !dropped {
                out.push(Pending {
                    id,
                    webhook_id: w.id,
                    event: kind.to_string(),
                    body: serde_json::to_vec(&body).unwrap_or_default(),
                    due: now + delay,
                });
            }
        }
    }
    out
}

/// Start the deliveries in the background.
pub fn schedule(sim: &Arc<Cin7Sim>, pending: Vec<Pending>) {
    for p in pending {
        // Subscribe now, not in the task: a flush right after this call must reach it.
        let flush = sim.flush.subscribe();
        tokio::spawn(run(Arc::clone(sim), p, flush));
    }
}

fn target(w: &Webhook, timeout_ms: u64) -> WebhookTarget {
    let mut t = WebhookTarget::new(w.url.clone());
    t.timeout_ms = timeout_ms.max(1);
    t.retries = 0;
    let mut headers = BTreeMap::new();
    for (k, v) in &w.headers {
        headers.insert(k.clone(), v.clone());
    }
    match w.auth_type.as_str() {
        "basicauth" => {
            t.username = Some(w.username.clone());
            t.password = Some(w.password.clone());
        }
        "bearerauth" => {
            headers.insert("Authorization".into(), format!("Bearer {}", w.bearer));
        }
        _ => {}
    }
    t.headers = headers;
    t
}

async fn run(sim: Arc<Cin7Sim>, p: Pending, mut flush: tokio::sync::watch::Receiver<u64>) {
    let kit = sim.kit.clone();
    let mut due = p.due;
    let mut retry = 0usize;
    loop {
        tokio::select! {
            _ = kit.clock.sleep_until(due) => {}
            _ = flush.changed() => {}
            _ = kit.shutdown.wait() => return,
        }
        let (target, gaps) = {
            let mut st = sim.lock();
            match st.webhooks.iter().find(|w| same_id(&w.id, &p.webhook_id)) {
                Some(w) if w.is_active => {
                    (target(w, st.switches.webhook_timeout_ms), st.switches.webhook_retry_minutes.clone())
                }
                _ => {
                    st.deliveries.update(p.id, |d| {
                        d.state = "cancelled".into();
                        d.next_attempt_at = None;
                    });
                    return;
                }
            }
        };
        let at = kit.clock.now();
        let (_, handle) = webhook::send(&kit, &p.event, target, "application/json; charset=utf-8", p.body.clone());
        let last = handle.await.ok().flatten().and_then(|d| d.attempts.last().cloned());
        let (status, error) = match last {
            Some(a) => (a.status, a.error),
            None => (None, Some("not sent: the simulator is shutting down".to_string())),
        };
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let mut st = sim.lock();
        let attempt = DeliveryAttempt { at, status, error };
        if ok {
            st.deliveries.update(p.id, |d| {
                d.attempts.push(attempt);
                d.state = "delivered".into();
                d.next_attempt_at = None;
            });
            return;
        }
        if retry >= gaps.len() {
            st.deliveries.update(p.id, |d| {
                d.attempts.push(attempt);
                d.state = "failed".into();
                d.next_attempt_at = None;
            });
            // The last attempt failed: Cin7 deactivates the webhook [C].
            if let Some(w) = st.webhooks.iter_mut().find(|w| same_id(&w.id, &p.webhook_id)) {
                w.is_active = false;
            }
            return;
        }
        due = kit.clock.now() + Duration::minutes(i64::try_from(gaps[retry]).unwrap_or(i64::MAX / 60_000));
        retry += 1;
        st.deliveries.update(p.id, |d| {
            d.attempts.push(attempt);
            d.next_attempt_at = Some(due);
        });
    }
}
