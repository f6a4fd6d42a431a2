//! Event push, in ml-connector's documented scheme (fact sheet §13.4; `infra/README.md`).
//!
//! **Coupa has no signed outbound webhooks** [C]: what a customer can configure is a Process
//! Automator "API Call Out" (or a relay in front of it). The simulator therefore plays that
//! sender. On `invoice.approved`, `invoice.voided`, `purchase_order.revised` and
//! `supplier.updated` it POSTs, to the URL set by the control action `configure_events`:
//!
//! ```text
//! Content-Type: application/json
//! X-MLC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=<…previous secret>]
//! X-Coupa-Event: invoice.approved
//! X-Coupa-Delivery: <uuid>
//! X-Coupa-Timestamp: <unix seconds>
//!
//! {"id":"<uuid>","event":"invoice.approved","occurred-at":"…","resource":"invoices","resource-id":123,"data":{…}}
//! ```
//!
//! The signature is computed by `mlc_webhooks::signed::header_value`, the same code the
//! receiving side's verifier is tested against, so the two cannot drift apart. The header's name
//! is the switch `signature_header` (the issue spells it `X-Coupa-Signature`; our scheme says
//! `X-MLC-Signature`). The delivery id is in the body (covered by the signature) and repeated in a
//! header. Failed deliveries are retried (`event_retries`, `event_retry_delay_secs` apart on the
//! simulated clock) with the *same* signed request, as a relay resends it: a retry later than the
//! receiver's tolerance is refused and the scheduled poll backfills.
//!
//! **Call-out mode** (`"mode": "callout"`): before sending, the simulator gets a bearer token from
//! the receiver's `token_url` the way Coupa's call-outs do (§9): `POST` with
//! `Authorization: Basic urlsafe_b64(client_id:client_secret)`, form `grant_type=client_credentials`
//! (+ `scope`), expecting `{"access_token":"…","token_type":"bearer","expires_in":86399}`; it
//! caches the token until it expires (simulated clock) and sends `Authorization: Bearer …`
//! besides the signature. Failures are kept, errors only, like Coupa's `/call_outs/<id>` page
//! (action `call_out_errors`).
//!
//! Test knobs (action `send_event`): `forge` signs with a wrong secret, `timestamp_offset_secs`
//! moves `t` (an expired or future signature), `repeat` sends the same delivery again (a
//! duplicate), `sign_with_both` signs with the current and the previous secret.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::state::{CoupaState, EventConfig, EventMode};
use super::{CoupaSim, invoices, purchase_orders, query, suppliers};
use crate::common::WebhookTarget;
use crate::common::webhook;

/// Something an event announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    InvoiceApproved(i64),
    InvoiceVoided(i64),
    PoRevised(i64),
    SupplierUpdated(i64),
}

impl Event {
    /// The event name.
    pub fn name(self) -> &'static str {
        match self {
            Event::InvoiceApproved(_) => "invoice.approved",
            Event::InvoiceVoided(_) => "invoice.voided",
            Event::PoRevised(_) => "purchase_order.revised",
            Event::SupplierUpdated(_) => "supplier.updated",
        }
    }

    /// `(resource, id)`.
    pub fn resource(self) -> (&'static str, i64) {
        match self {
            Event::InvoiceApproved(id) | Event::InvoiceVoided(id) => ("invoices", id),
            Event::PoRevised(id) => ("purchase_orders", id),
            Event::SupplierUpdated(id) => ("suppliers", id),
        }
    }

    /// From a name and a record id (control action `send_event`).
    pub fn parse(name: &str, id: i64) -> Option<Event> {
        Some(match name {
            "invoice.approved" => Event::InvoiceApproved(id),
            "invoice.voided" => Event::InvoiceVoided(id),
            "purchase_order.revised" => Event::PoRevised(id),
            "supplier.updated" => Event::SupplierUpdated(id),
            _ => return None,
        })
    }
}

/// Knobs of one send (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct SendOptions {
    pub forge: bool,
    pub timestamp_offset_secs: i64,
    pub repeat: u32,
    pub sign_with_both: Option<bool>,
}

/// One request ready to go.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub event: String,
    pub delivery: String,
    pub body: Vec<u8>,
    pub headers: BTreeMap<String, String>,
    pub config: EventConfig,
    pub repeat: u32,
}

/// Build the requests for `events` (none when no receiver is configured or it does not take
/// the event). Reads the records under the state lock; sending happens outside it.
pub fn prepare(st: &CoupaState, events: &[Event], now: DateTime<Utc>, opts: SendOptions) -> Vec<Outgoing> {
    let Some(cfg) = st.events.clone().filter(|c| !c.url.is_empty()) else { return Vec::new() };
    let mut out = Vec::new();
    for ev in events {
        if !cfg.events.is_empty() && !cfg.events.iter().any(|e| e == ev.name()) {
            continue;
        }
        let (resource, id) = ev.resource();
        let data = match resource {
            "invoices" => st.invoices.iter().find(|i| i.id == id).map(|i| invoices::invoice_json(st, i)),
            "purchase_orders" => {
                st.purchase_orders.iter().find(|p| p.id == id).map(|p| purchase_orders::po_json(st, p, false))
            }
            _ => st.suppliers.iter().find(|s| s.id == id).map(|s| suppliers::supplier_json(st, s)),
        };
        let Some(mut data) = data else { continue };
        if !cfg.fields.is_empty() {
            data = query::project(&data, &cfg.fields);
        }
        let delivery = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "id": delivery,
            "event": ev.name(),
            "occurred-at": st.style().dt(CoupaState::stamp(now)),
            "resource": resource,
            "resource-id": id,
            "data": data,
        })
        .to_string()
        .into_bytes();
        let t = now.timestamp() + opts.timestamp_offset_secs;
        let mut secrets: Vec<Vec<u8>> =
            vec![if opts.forge { b"forged-not-the-shared-secret".to_vec() } else { cfg.secret.as_bytes().to_vec() }];
        if opts.sign_with_both.unwrap_or(cfg.sign_with_both)
            && let Some(p) = &cfg.previous_secret
            && !opts.forge
        {
            secrets.push(p.as_bytes().to_vec());
        }
        let refs: Vec<&[u8]> = secrets.iter().map(Vec::as_slice).collect();
        let mut headers = BTreeMap::new();
        headers.insert(st.switches.signature_header.clone(), mlc_webhooks::signed::header_value(&refs, t, &body));
        headers.insert("X-Coupa-Event".into(), ev.name().into());
        headers.insert("X-Coupa-Delivery".into(), delivery.clone());
        headers.insert("X-Coupa-Timestamp".into(), t.to_string());
        out.push(Outgoing {
            event: ev.name().into(),
            delivery,
            body,
            headers,
            config: cfg.clone(),
            repeat: opts.repeat.max(1),
        });
    }
    out
}

fn http() -> reqwest::Client {
    static C: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    C.get_or_init(|| reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).build().unwrap_or_default())
        .clone()
}

/// Send prepared requests in the background (call-out mode fetches its token first).
pub fn dispatch(sim: &Arc<CoupaSim>, out: Vec<Outgoing>) {
    for o in out {
        let sim = sim.clone();
        tokio::spawn(async move {
            let mut headers = o.headers.clone();
            if o.config.mode == EventMode::Callout {
                match callout_token(&sim, &o.config).await {
                    Ok(t) => {
                        headers.insert("Authorization".into(), format!("Bearer {t}"));
                    }
                    Err(e) => {
                        sim.note_callout_error(json!({ "event": o.event, "delivery": o.delivery, "error": e,
                                                       "at": sim.kit().clock.now().to_rfc3339() }));
                        return;
                    }
                }
            }
            let sw = sim.switches();
            for _ in 0..o.repeat {
                let mut target = WebhookTarget::new(o.config.url.clone());
                target.headers = headers.clone();
                target.retries = sw.event_retries;
                target.retry_delay_secs = sw.event_retry_delay_secs;
                target.timeout_ms = sw.event_timeout_ms;
                let (_, handle) =
                    webhook::send(sim.kit(), &o.event, target, "application/json; charset=utf-8", o.body.clone());
                if let Ok(Some(d)) = handle.await
                    && d.state == "failed"
                {
                    sim.note_callout_error(json!({ "event": o.event, "delivery": o.delivery, "url": d.url,
                                                   "attempts": d.attempts }));
                }
            }
        });
    }
}

/// The receiver's bearer token, cached until it expires on the simulated clock.
async fn callout_token(sim: &Arc<CoupaSim>, cfg: &EventConfig) -> Result<String, String> {
    let now = sim.kit().clock.now();
    if let Some((t, until)) = sim.cached_callout_token()
        && now < until
    {
        return Ok(t);
    }
    let url = cfg.token_url.clone().ok_or("call-out mode needs token_url")?;
    let id = cfg.client_id.clone().unwrap_or_default();
    let secret = cfg.client_secret.clone().unwrap_or_default();
    let basic = base64::engine::general_purpose::URL_SAFE.encode(format!("{id}:{secret}"));
    let mut form = vec![("grant_type", "client_credentials".to_string())];
    if let Some(s) = &cfg.scope {
        form.push(("scope", s.clone()));
    }
    let resp = http()
        .post(&url)
        .header("Authorization", format!("Basic {basic}"))
        .form(&form)
        .timeout(std::time::Duration::from_secs(10))
        .send()
        .await
        .map_err(|e| format!("token URL {url} unreachable: {e}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.map_err(|e| format!("token URL answered {status} without JSON: {e}"))?;
    if !status.is_success() {
        return Err(format!("token URL answered {status}: {body}"));
    }
    let token = body.get("access_token").and_then(Value::as_str).ok_or("token answer has no access_token")?.to_string();
    if !body.get("token_type").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case("bearer")) {
        return Err("token answer's token_type is not bearer".into());
    }
    let life = body.get("expires_in").and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok())).unwrap_or(3600);
    sim.cache_callout_token(token.clone(), now + Duration::seconds(life.max(1)));
    Ok(token)
}
