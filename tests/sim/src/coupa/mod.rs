//! Coupa (Core REST API) simulator, for Coupa → Deltek Vantagepoint (issue 15).
//!
//! **The real system.** Coupa is a procure-to-pay suite. Each customer has an instance
//! (`https://{instance}.coupahost.com`) whose REST API lives under `/api/`: invoices, purchase
//! orders, suppliers, accounts and the rest, in JSON with kebab-case keys and no root wrapper,
//! lists as bare arrays of at most 50 records, decimals as strings, datetimes with the instance's
//! UTC offset. Integrations authenticate with OAuth 2.0 client credentials (`/oauth2/token`,
//! scopes `core.invoice.read` …, 24-hour tokens, no refresh token) and follow Coupa's
//! *export-flag pattern*: read `status=approved&exported=false`, post to the ERP, then
//! `PUT /api/invoices/{id}?exported=true` in a request of its own. The budget is 25 requests per
//! second with bursts of 20. Coupa sends no signed webhooks; a Process Automator call-out can
//! call out on document events. The facts, with their confidence, are in
//! `shared/research/coupa.md`.
//!
//! **What this module reproduces.** Every **[C]** of the fact sheet as documented; every
//! **[I]**/**[U]** behaviour is a switch in [`CoupaSwitches`] defaulting to the sheet's §13 guess.
//! Time is the kit's clock (token expiry, activation delay, event retries; the rate bucket refills
//! by the larger of real and simulated time). Faults come from the kit's `FaultTable` (5xx, 429
//! with or without `Retry-After`, resets, commit-then-timeout on the export PUT) plus two of
//! Coupa's own (action `inject_page_fault`): a record duplicated across pages and a truncated JSON
//! answer.
//!
//! | file | what |
//! |---|---|
//! | `api.rs` | routing, Accept, bearer check, rate bucket, scopes, body checks, dispatch |
//! | `auth.rs` | `/oauth2/token`, tokens, activation delay, the dead API key |
//! | `query.rs` | operators, associations, paging, ordering, `fields`, `return_object` |
//! | `invoices.rs` | invoices, states, credit notes, export flag, custom-field write-back |
//! | `purchase_orders.rs` | POs and lines, revisions (version bump, export reset) |
//! | `suppliers.rs` | suppliers, remit-to addresses, supplier information |
//! | `reference.rs` | accounts, payment terms, currencies, embedded shapes |
//! | `integration.rs` | integration history records |
//! | `events.rs` | signed event push and call-out mode |
//! | `model.rs`, `state.rs` | records, the instance, error envelopes |
//! | `scenario.rs` | JSON seed and the generated architecture firm |
//! | `deltek_seed.rs` | the matching Deltek side (projects, GL accounts, vendors) |
//! | `switches.rs` | the switches and their defaults |
//!
//! **Control actions** (`POST /__sim/actions/{name}`): `revoke_tokens` `{client_id?}`,
//! `expire_tokens`, `add_client` `{client_id, client_secret, scopes, login?}`,
//! `set_client_scopes` `{client_id, scopes}`, `drain_rate_limit` `{client_id?}` (a burst of
//! another integration: the next calls get 429), `rate_limit` (counts), `headers_seen`
//! (`X-Coupa-API-Version` values), `create_invoice`, `submit_invoice`, `approve_invoice`,
//! `void_invoice`, `create_credit_note`, `ui_edit_invoice` (`{id | invoice_number, …}`),
//! `revise_po` `{id | po_number, changes, add_lines}`, `update_supplier` `{id | number, name?,
//! remit_to?, …}`, `set_account_active` `{id | code, active}`, `configure_events` (see
//! `events.rs`), `send_event` `{event, id | invoice_number | po_number | number, forge?,
//! timestamp_offset_secs?, repeat?, sign_with_both?}`, `event_deliveries`, `call_out_errors`,
//! `inject_page_fault` `{kind, route?, times?}`, `define_custom_field`, `set_response_filter`
//! `{name, fields, default_for?}`.
//!
//! Not modelled: XML, GraphQL, creating invoices or POs over the API, approvals chains (approval
//! is an action), payments, attachments, `/api/purchase_order_changes`, the CSP supplier API.

pub mod api;
pub mod auth;
pub mod deltek_seed;
pub mod events;
pub mod integration;
pub mod invoices;
pub mod model;
pub mod purchase_orders;
pub mod query;
pub mod reference;
pub mod scenario;
pub mod state;
pub mod suppliers;
pub mod switches;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::http::Method;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::json::scalar_text;
use crate::common::{BoxFuture, ResetTo, SimClock, SimError, SimHandle, SimKit, SimSystem};
use events::{Event, SendOptions};
use model::{CustomFieldDef, Invoice, InvoiceLine, LineKind, OAuthClient};
pub use scenario::{CoupaScenario, DEFAULT_INVOICES, DEFAULT_SEED, architecture_firm, demo};
pub use state::{CoupaState, EventConfig, EventMode, PageFault, PageFaultKind};
pub use switches::CoupaSwitches;

const NAME: &str = "coupa";

/// What a Coupa client needs (the shape `credentials` takes in `mlc sim` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoupaCredentials {
    /// The instance root, `http://127.0.0.1:PORT` (the API is under `/api`).
    pub base_url: String,
    /// OAuth client identifier.
    pub client_id: String,
    /// OAuth client secret.
    pub client_secret: String,
    /// The shared secret of the signed event push (for the receiving side).
    pub webhook_secret: String,
}

/// The Coupa simulator.
pub struct CoupaSim {
    kit: SimKit,
    state: Mutex<CoupaState>,
    initial: CoupaScenario,
    initial_switches: CoupaSwitches,
    callout_token: Mutex<Option<(String, DateTime<Utc>)>>,
    callout_errors: Mutex<Vec<Value>>,
}

impl std::fmt::Debug for CoupaSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoupaSim").finish_non_exhaustive()
    }
}

/// Builds a [`CoupaSim`].
#[derive(Debug, Clone, Default)]
pub struct CoupaSimBuilder {
    kit: Option<SimKit>,
    clock: Option<SimClock>,
    scenario: Option<CoupaScenario>,
    switches: Option<CoupaSwitches>,
    port: u16,
}

impl CoupaSimBuilder {
    /// Use this clock (default: the real clock).
    pub fn clock(mut self, c: SimClock) -> Self {
        self.clock = Some(c);
        self
    }

    /// Use this kit (to share a clock with other simulators).
    pub fn kit(mut self, k: SimKit) -> Self {
        self.kit = Some(k);
        self
    }

    /// Seed this scenario instead of the demo firm.
    pub fn scenario(mut self, s: CoupaScenario) -> Self {
        self.scenario = Some(s);
        self
    }

    /// Only the demo OAuth clients, no records.
    pub fn empty(self) -> Self {
        self.scenario(CoupaScenario::clients_only())
    }

    /// Starting switches.
    pub fn switches(mut self, s: CoupaSwitches) -> Self {
        self.switches = Some(s);
        self
    }

    /// Port on 127.0.0.1 (0 = any free one).
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }

    /// Build without serving.
    pub fn build(self) -> Result<Arc<CoupaSim>, SimError> {
        let kit = self.kit.unwrap_or_else(|| SimKit::new(self.clock.unwrap_or_default()));
        let scenario = self.scenario.unwrap_or_else(|| architecture_firm(DEFAULT_SEED, DEFAULT_INVOICES));
        let mut st = CoupaState::empty(self.switches.unwrap_or_default());
        scenario.apply(&mut st).map_err(|e| SimError::bad(NAME, e))?;
        let initial_switches = st.switches.clone();
        Ok(Arc::new(CoupaSim {
            kit,
            state: Mutex::new(st),
            initial: scenario,
            initial_switches,
            callout_token: Mutex::new(None),
            callout_errors: Mutex::new(Vec::new()),
        }))
    }

    /// Build and serve.
    pub async fn start(self) -> Result<SimHandle<CoupaSim>, SimError> {
        let port = self.port;
        let sim = self.build()?;
        let kit = sim.kit.clone();
        crate::common::start(sim, kit, port).await
    }
}

fn num(args: &Value, key: &str) -> Option<i64> {
    args.get(key).and_then(|v| v.as_i64().or_else(|| v.as_str()?.trim().parse().ok()))
}

fn text(args: &Value, key: &str) -> Option<String> {
    args.get(key).map(scalar_text).filter(|s| !s.trim().is_empty())
}

fn dec(v: &Value) -> Option<Decimal> {
    scalar_text(v).trim().parse().ok()
}

impl CoupaSim {
    /// A builder with the defaults: real clock, the demo architecture firm.
    pub fn builder() -> CoupaSimBuilder {
        CoupaSimBuilder::default()
    }

    /// Lock the instance for in-process seeding or inspection. Do not hold it across an await.
    pub fn lock(&self) -> MutexGuard<'_, CoupaState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The kit (clock, faults, calls, webhooks).
    pub fn kit(&self) -> &SimKit {
        &self.kit
    }

    /// The current switches.
    pub fn switches(&self) -> CoupaSwitches {
        self.lock().switches.clone()
    }

    /// Change switches in process.
    pub fn set_switch(&self, f: impl FnOnce(&mut CoupaSwitches)) {
        f(&mut self.lock().switches);
    }

    /// Merge a scenario built in Rust.
    pub fn seed_scenario(&self, s: &CoupaScenario) -> Result<(), SimError> {
        s.apply(&mut self.lock()).map_err(|e| SimError::bad(NAME, e))
    }

    /// Typed credentials for a base URL (ml-connector's demo client).
    pub fn typed_credentials(&self, base_url: &str) -> CoupaCredentials {
        let st = self.lock();
        let c = st.clients.iter().find(|c| c.client_id == demo::CLIENT_ID).or(st.clients.first());
        CoupaCredentials {
            base_url: base_url.into(),
            client_id: c.map(|c| c.client_id.clone()).unwrap_or_default(),
            client_secret: c.map(|c| c.client_secret.clone()).unwrap_or_default(),
            webhook_secret: st.events.as_ref().map_or(demo::WEBHOOK_SECRET.to_string(), |e| e.secret.clone()),
        }
    }

    /// Announce events (deliveries go out in the background when a receiver is configured).
    pub fn announce(self: &Arc<Self>, events: &[Event], opts: SendOptions) -> usize {
        let now = self.kit.clock.now();
        let out = events::prepare(&self.lock(), events, now, opts);
        let n = out.len();
        events::dispatch(self, out);
        n
    }

    pub(crate) fn note_callout_error(&self, e: Value) {
        self.callout_errors.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    pub(crate) fn cached_callout_token(&self) -> Option<(String, DateTime<Utc>)> {
        self.callout_token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn cache_callout_token(&self, token: String, until: DateTime<Utc>) {
        *self.callout_token.lock().unwrap_or_else(|p| p.into_inner()) = Some((token, until));
    }

    fn reset_to(&self, scenario: &CoupaScenario) -> Result<(), SimError> {
        let mut st = CoupaState::empty(self.initial_switches.clone());
        scenario.apply(&mut st).map_err(|e| SimError::bad(NAME, e))?;
        *self.lock() = st;
        *self.callout_token.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.callout_errors.lock().unwrap_or_else(|p| p.into_inner()).clear();
        Ok(())
    }

    fn find_invoice(st: &CoupaState, args: &Value) -> Result<usize, SimError> {
        if let Some(id) = num(args, "id") {
            return st.invoice_idx(id).ok_or_else(|| SimError::bad(NAME, format!("no invoice {id}")));
        }
        let n = text(args, "invoice_number")
            .ok_or_else(|| SimError::bad(NAME, "name the invoice: id or invoice_number"))?;
        st.invoices
            .iter()
            .position(|i| i.invoice_number.eq_ignore_ascii_case(&n))
            .ok_or_else(|| SimError::bad(NAME, format!("no invoice numbered {n}")))
    }

    fn find_po(st: &CoupaState, args: &Value) -> Result<usize, SimError> {
        if let Some(id) = num(args, "id") {
            return st.po_idx(id).ok_or_else(|| SimError::bad(NAME, format!("no purchase order {id}")));
        }
        let n = text(args, "po_number").ok_or_else(|| SimError::bad(NAME, "name the PO: id or po_number"))?;
        st.purchase_orders
            .iter()
            .position(|p| p.po_number == n)
            .ok_or_else(|| SimError::bad(NAME, format!("no purchase order {n}")))
    }

    fn find_supplier(st: &CoupaState, args: &Value) -> Result<usize, SimError> {
        if let Some(id) = num(args, "id").or_else(|| num(args, "supplier_id")) {
            return st.supplier_idx(id).ok_or_else(|| SimError::bad(NAME, format!("no supplier {id}")));
        }
        let n = text(args, "number")
            .or_else(|| text(args, "supplier_number"))
            .ok_or_else(|| SimError::bad(NAME, "name the supplier: id or number"))?;
        st.suppliers
            .iter()
            .position(|s| s.number.as_deref() == Some(n.as_str()))
            .ok_or_else(|| SimError::bad(NAME, format!("no supplier numbered {n}")))
    }

    /// `create_invoice`: `{supplier_id | supplier_number, invoice_number, status?, invoice_date?,
    /// document_type?, lines: [{description, amount | quantity + price, account_id | account_code,
    /// order_line_id | po_number + line_num, custom_fields?}]}`.
    fn create_invoice(st: &mut CoupaState, args: &Value, now: DateTime<Utc>) -> Result<i64, SimError> {
        let si = Self::find_supplier(st, args)?;
        let supplier = st.suppliers[si].clone();
        let number =
            text(args, "invoice_number").ok_or_else(|| SimError::bad(NAME, "create_invoice needs invoice_number"))?;
        let date = match text(args, "invoice_date") {
            Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|e| SimError::bad(NAME, format!("invoice_date: {e}")))?,
            None => now.date_naive(),
        };
        let stamp = CoupaState::stamp(now);
        let mut lines = Vec::new();
        for (n, l) in args.get("lines").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let account_id = match (num(l, "account_id"), text(l, "account_code")) {
                (Some(id), _) => Some(id),
                (None, Some(code)) => Some(
                    st.accounts
                        .iter()
                        .find(|a| a.code() == code)
                        .map(|a| a.id)
                        .ok_or_else(|| SimError::bad(NAME, format!("no account {code}")))?,
                ),
                _ => None,
            };
            let order_line_id = match (num(l, "order_line_id"), text(l, "po_number")) {
                (Some(id), _) => Some(id),
                (None, Some(po)) => {
                    let line_num = text(l, "line_num").unwrap_or_else(|| "1".into());
                    let p = st
                        .purchase_orders
                        .iter()
                        .find(|p| p.po_number == po)
                        .ok_or_else(|| SimError::bad(NAME, format!("no purchase order {po}")))?;
                    Some(
                        p.lines
                            .iter()
                            .find(|x| x.line_num == line_num)
                            .map(|x| x.id)
                            .ok_or_else(|| SimError::bad(NAME, format!("PO {po} has no line {line_num}")))?,
                    )
                }
                _ => None,
            };
            let account_id =
                account_id.or_else(|| order_line_id.and_then(|o| st.order_line(o)).and_then(|(_, x)| x.account_id));
            let (kind, quantity, price) = match (l.get("quantity").and_then(dec), l.get("price").and_then(dec)) {
                (Some(q), Some(p)) => (LineKind::Quantity, Some(q), p),
                _ => (LineKind::Amount, None, l.get("amount").and_then(dec).unwrap_or_default()),
            };
            lines.push(InvoiceLine {
                id: st.next_id("invoice_line"),
                line_num: n as i64 + 1,
                kind,
                description: text(l, "description").unwrap_or_else(|| "Services".into()),
                quantity,
                price,
                account_id,
                order_line_id,
                custom_fields: l.get("custom_fields").and_then(Value::as_object).cloned().unwrap_or_default(),
                created_at: stamp,
                updated_at: stamp,
                ..InvoiceLine::default()
            });
        }
        if lines.is_empty() {
            return Err(SimError::bad(NAME, "create_invoice needs at least one line"));
        }
        let id = st.next_id("invoice");
        st.invoices.push(Invoice {
            id,
            invoice_number: number,
            invoice_date: Some(date),
            status: text(args, "status").unwrap_or_else(|| "draft".into()),
            document_type: text(args, "document_type").unwrap_or_else(|| "Invoice".into()),
            currency_code: text(args, "currency").unwrap_or_else(|| "USD".into()),
            supplier_id: supplier.id,
            remit_to_id: supplier.remit_to_addresses.first().map(|r| r.id),
            payment_term_id: supplier.payment_term_id,
            lines,
            created_at: stamp,
            updated_at: stamp,
            ..Invoice::default()
        });
        Ok(id)
    }

    fn run_action(self: &Arc<Self>, name: &str, args: &Value) -> Result<Value, SimError> {
        let now = self.kit.clock.now();
        let bad = |e: state::ApiError| SimError::bad(NAME, e.messages.join("; "));
        let mut events = Vec::new();
        let mut opts = SendOptions::default();
        let out = {
            let mut st = self.lock();
            match name {
                "revoke_tokens" => {
                    let who = text(args, "client_id");
                    let mut n = 0;
                    for t in st.tokens.iter_mut().filter(|t| who.as_ref().is_none_or(|w| *w == t.client_id)) {
                        t.revoked = true;
                        n += 1;
                    }
                    json!({ "revoked": n })
                }
                "expire_tokens" => {
                    for t in &mut st.tokens {
                        t.expires_at = t.expires_at.min(now);
                    }
                    json!({ "expired": st.tokens.len() })
                }
                "add_client" => {
                    let c: OAuthClient = OAuthClient {
                        client_id: text(args, "client_id")
                            .ok_or_else(|| SimError::bad(NAME, "add_client needs client_id"))?,
                        client_secret: text(args, "client_secret").unwrap_or_default(),
                        scopes: serde_json::from_value(args.get("scopes").cloned().unwrap_or(json!([])))
                            .map_err(|e| SimError::bad(NAME, format!("scopes: {e}")))?,
                        login: text(args, "login").unwrap_or_else(|| "api".into()),
                        active: args.get("active").and_then(Value::as_bool).unwrap_or(true),
                    };
                    st.clients.retain(|x| x.client_id != c.client_id);
                    st.clients.push(c.clone());
                    json!({ "client_id": c.client_id })
                }
                "set_client_scopes" => {
                    let id = text(args, "client_id")
                        .ok_or_else(|| SimError::bad(NAME, "set_client_scopes needs client_id"))?;
                    let scopes: Vec<String> = serde_json::from_value(args.get("scopes").cloned().unwrap_or(json!([])))
                        .map_err(|e| SimError::bad(NAME, format!("scopes: {e}")))?;
                    let c = st
                        .clients
                        .iter_mut()
                        .find(|c| c.client_id == id)
                        .ok_or_else(|| SimError::bad(NAME, format!("no client {id}")))?;
                    c.scopes = scopes;
                    json!({ "client_id": id, "scopes": c.scopes })
                }
                "drain_rate_limit" => {
                    let only = text(args, "client_id");
                    st.drain_buckets(only.as_deref(), Instant::now(), now);
                    json!({ "drained": only.unwrap_or_else(|| "all".into()) })
                }
                "rate_limit" => json!({ "stats": st.rate_stats, "per_second": st.switches.rate_limit_per_second,
                                        "burst": st.switches.rate_limit_burst }),
                "headers_seen" => json!({ "x-coupa-api-version": st.api_versions_seen }),
                "create_invoice" => {
                    let id = Self::create_invoice(&mut st, args, now)?;
                    if st.invoices.iter().any(|i| i.id == id && i.status == "approved") {
                        events.push(Event::InvoiceApproved(id));
                    }
                    json!({ "id": id })
                }
                "submit_invoice" | "approve_invoice" | "void_invoice" => {
                    let i = Self::find_invoice(&st, args)?;
                    let id = st.invoices[i].id;
                    let to = match name {
                        "submit_invoice" => "pending_approval",
                        "approve_invoice" => "approved",
                        _ => "voided",
                    };
                    invoices::transition(&mut st, id, to, now).map_err(bad)?;
                    match to {
                        "approved" => events.push(Event::InvoiceApproved(id)),
                        "voided" => events.push(Event::InvoiceVoided(id)),
                        _ => {}
                    }
                    json!({ "id": id, "status": to })
                }
                "create_credit_note" => {
                    let i = Self::find_invoice(&st, args)?;
                    let orig = st.invoices[i].id;
                    let amount = args.get("amount").and_then(dec);
                    let id = invoices::credit_note(&mut st, orig, text(args, "number"), amount, now).map_err(bad)?;
                    events.push(Event::InvoiceApproved(id));
                    json!({ "id": id })
                }
                "ui_edit_invoice" => {
                    let i = Self::find_invoice(&st, args)?;
                    let id = st.invoices[i].id;
                    invoices::ui_edit(&mut st, id, now).map_err(bad)?;
                    json!({ "id": id, "exported": st.invoices[i].exported })
                }
                "revise_po" => {
                    let i = Self::find_po(&st, args)?;
                    let id = st.purchase_orders[i].id;
                    let version = purchase_orders::revise(&mut st, id, args, now).map_err(bad)?;
                    events.push(Event::PoRevised(id));
                    json!({ "id": id, "version": version })
                }
                "update_supplier" => {
                    let i = Self::find_supplier(&st, args)?;
                    let id = st.suppliers[i].id;
                    suppliers::update(&mut st, id, args, now).map_err(bad)?;
                    events.push(Event::SupplierUpdated(id));
                    json!({ "id": id })
                }
                "set_account_active" => {
                    let active = args.get("active").and_then(Value::as_bool).unwrap_or(true);
                    let id = num(args, "id");
                    let code = text(args, "code");
                    let a = st
                        .accounts
                        .iter_mut()
                        .find(|a| Some(a.id) == id || code.as_deref() == Some(a.code().as_str()))
                        .ok_or_else(|| SimError::bad(NAME, "set_account_active: no such account (id or code)"))?;
                    a.active = active;
                    a.updated_at = CoupaState::stamp(now);
                    json!({ "id": a.id, "active": active })
                }
                "configure_events" => {
                    let cfg: EventConfig = serde_json::from_value(args.clone())
                        .map_err(|e| SimError::bad(NAME, format!("configure_events: {e}")))?;
                    if cfg.mode == EventMode::Callout && cfg.token_url.is_none() {
                        return Err(SimError::bad(NAME, "call-out mode needs token_url"));
                    }
                    st.events = Some(cfg);
                    *self.callout_token.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    json!({ "ok": true })
                }
                "send_event" => {
                    let ev = text(args, "event").ok_or_else(|| SimError::bad(NAME, "send_event needs event"))?;
                    let id = match ev.split('.').next() {
                        Some("invoice") => st.invoices[Self::find_invoice(&st, args)?].id,
                        Some("purchase_order") => st.purchase_orders[Self::find_po(&st, args)?].id,
                        _ => st.suppliers[Self::find_supplier(&st, args)?].id,
                    };
                    let e = Event::parse(&ev, id).ok_or_else(|| {
                        SimError::bad(
                            NAME,
                            format!("unknown event {ev} (invoice.approved, invoice.voided, purchase_order.revised, supplier.updated)"),
                        )
                    })?;
                    if st.events.is_none() {
                        return Err(SimError::bad(NAME, "no receiver: call configure_events first"));
                    }
                    events.push(e);
                    opts = SendOptions {
                        forge: args.get("forge").and_then(Value::as_bool).unwrap_or(false),
                        timestamp_offset_secs: num(args, "timestamp_offset_secs").unwrap_or(0),
                        repeat: num(args, "repeat").map_or(1, |n| n.clamp(1, 10) as u32),
                        sign_with_both: args.get("sign_with_both").and_then(Value::as_bool),
                    };
                    json!({ "event": ev, "resource-id": id })
                }
                "event_deliveries" => self.kit.webhooks.describe(),
                "call_out_errors" => {
                    json!({ "errors": *self.callout_errors.lock().unwrap_or_else(|p| p.into_inner()) })
                }
                "inject_page_fault" => {
                    let f: PageFault = serde_json::from_value(args.clone())
                        .map_err(|e| SimError::bad(NAME, format!("inject_page_fault: {e}")))?;
                    st.page_faults.push(f);
                    json!({ "page_faults": st.page_faults })
                }
                "define_custom_field" => {
                    let d: CustomFieldDef = serde_json::from_value(args.clone())
                        .map_err(|e| SimError::bad(NAME, format!("define_custom_field: {e}")))?;
                    st.custom_fields.retain(|x| !(x.resource == d.resource && x.name == d.name));
                    st.custom_fields.push(d);
                    json!({ "custom_fields": st.custom_fields })
                }
                "set_response_filter" => {
                    let name =
                        text(args, "name").ok_or_else(|| SimError::bad(NAME, "set_response_filter needs name"))?;
                    let fields = args
                        .get("fields")
                        .filter(|f| f.is_array())
                        .cloned()
                        .ok_or_else(|| SimError::bad(NAME, "set_response_filter needs fields (a JSON array)"))?;
                    st.response_filters.insert(name.clone(), fields);
                    if let Some(r) = text(args, "default_for") {
                        st.default_filters.insert(r, name.clone());
                    }
                    json!({ "name": name })
                }
                other => return Err(SimError::UnknownAction { system: NAME, action: other.into() }),
            }
        };
        if !events.is_empty() {
            self.announce(&events, opts);
        }
        Ok(out)
    }
}

impl SimSystem for CoupaSim {
    fn name(&self) -> &'static str {
        NAME
    }

    fn base_path(&self) -> String {
        String::new()
    }

    fn credentials(&self, base_url: &str) -> Value {
        serde_json::to_value(self.typed_credentials(base_url)).unwrap_or(Value::Null)
    }

    fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(api::handle).with_state(self)
    }

    fn route_of(&self, _method: &Method, path: &str) -> Option<String> {
        api::resolve(path, true).map(|(_, t, _)| t.to_string())
    }

    fn seed(&self, scenario: &Value) -> Result<(), SimError> {
        let s = CoupaScenario::from_json(scenario).map_err(|e| SimError::bad(NAME, e))?;
        self.seed_scenario(&s)
    }

    fn snapshot(&self) -> Value {
        serde_json::to_value(&*self.lock()).unwrap_or(Value::Null)
    }

    fn restore(&self, snapshot: &Value) -> Result<(), SimError> {
        let st: CoupaState = serde_json::from_value(snapshot.clone())
            .map_err(|e| SimError::bad(NAME, format!("not a Coupa simulator snapshot: {e}")))?;
        *self.lock() = st;
        Ok(())
    }

    fn reset(&self, to: ResetTo) -> Result<(), SimError> {
        match to {
            ResetTo::Initial => self.reset_to(&self.initial.clone()),
            ResetTo::Empty => self.reset_to(&CoupaScenario::clients_only()),
            ResetTo::Demo => self.reset_to(&architecture_firm(DEFAULT_SEED, DEFAULT_INVOICES)),
            ResetTo::Scenario(v) => {
                let s = CoupaScenario::from_json(&v).map_err(|e| SimError::bad(NAME, e))?;
                self.reset_to(&s)
            }
        }
    }

    fn switches(&self) -> Value {
        serde_json::to_value(self.lock().switches.clone()).unwrap_or(Value::Null)
    }

    fn set_switches(&self, patch: &Value) -> Result<Value, SimError> {
        let mut st = self.lock();
        st.switches = st.switches.merged(patch).map_err(|e| SimError::bad(NAME, e))?;
        Ok(serde_json::to_value(st.switches.clone()).unwrap_or(Value::Null))
    }

    fn actions(&self) -> Vec<&'static str> {
        vec![
            "revoke_tokens",
            "expire_tokens",
            "add_client",
            "set_client_scopes",
            "drain_rate_limit",
            "rate_limit",
            "headers_seen",
            "create_invoice",
            "submit_invoice",
            "approve_invoice",
            "void_invoice",
            "create_credit_note",
            "ui_edit_invoice",
            "revise_po",
            "update_supplier",
            "set_account_active",
            "configure_events",
            "send_event",
            "event_deliveries",
            "call_out_errors",
            "inject_page_fault",
            "define_custom_field",
            "set_response_filter",
        ]
    }

    fn action(self: Arc<Self>, name: String, args: Value) -> BoxFuture<'static, Result<Value, SimError>> {
        let result = self.run_action(&name, &args);
        Box::pin(async move { result })
    }

    fn fault_body(&self, status: u16) -> (String, String) {
        api::fault_body(status)
    }
}

crate::register_simulator!(
    COUPA,
    crate::SimEntry {
        name: "coupa",
        aliases: &["coupahost"],
        start: |port, clock| {
            Box::pin(async move { Ok(CoupaSim::builder().clock(clock).port(port).start().await?.into_dyn()) })
        },
    }
);
