//! Cin7 Core (formerly DEAR Inventory) simulator.
//!
//! **The real system.** Cin7 Core is cloud inventory and order management. Its External API v2
//! lives at `https://inventory.dearsystems.com/ExternalApi/v2/`; every call carries two headers,
//! `api-auth-accountid` and `api-auth-applicationkey` (both GUIDs, created under Integrations →
//! API), and each API application may make 60 calls in any 60 seconds. Purchases are a master
//! task with sub-documents (Order, StockReceived, Invoice, CreditNote), each with its own status
//! (`NOT AVAILABLE` → `DRAFT` → `AUTHORISED` (→ `PAID`) → `VOIDED`) and a top-level `Status`
//! derived from them; Simple purchases hold one of each, Advanced purchases many. Webhooks
//! (the Automation add-on) are unsigned JSON POSTs with customer-configured headers.
//!
//! **What this module reproduces.** Everything marked **[C]** in the fact sheet
//! (`shared/research/cin7.md`) is reproduced as documented; each **[I]**/**[U]** behaviour is a
//! switch in [`Cin7Switches`] defaulting to the fact sheet's §9 best guess. The files:
//!
//! | file | what |
//! |---|---|
//! | `api.rs` | base path, case-insensitive routes and query keys, auth, rate limit, answers |
//! | `purchases.rs` | `purchaseList`, `advanced-purchase`, legacy `purchase`, sub-documents |
//! | `reference.rs` | `supplier`, `ref/account`, `ref/paymentterm`, `ref/tax` |
//! | `webhooks.rs` | `webhooks` CRUD, payloads, delivery with retries and deactivation |
//! | `model.rs` | records, arithmetic, status derivation |
//! | `state.rs` | the account, rate-limit windows, error bodies |
//! | `scenario/` | JSON scenario, Rust builders, the generated engineering firm |
//! | `switches.rs` | the switches and their defaults |
//!
//! **Routes** (under `/ExternalApi/v2/`, any casing): `GET purchaseList`;
//! `GET|POST|PUT|DELETE advanced-purchase`; `GET|POST advanced-purchase/order`;
//! `GET|POST|DELETE advanced-purchase/{stock,invoice,creditnote}`; `POST advanced-purchase/payment`;
//! `GET|POST|PUT|DELETE purchase` (legacy); `GET|POST purchase/{order,stock,invoice,creditnote}`;
//! `POST purchase/payment`; `GET|POST|PUT supplier`; `GET|POST|PUT|DELETE ref/account`;
//! `GET ref/paymentterm`; `GET ref/tax`; `GET|POST|PUT|DELETE webhooks`.
//!
//! **Control actions** (`POST /__sim/actions/{name}`): `consume_calls` `{n, application_key?}`
//! ("another integration used N calls just now"), `rate_limit` (window counts and totals per
//! application), `add_application` `{key, name?}`, `flush_webhooks` (attempt every pending
//! delivery now), `webhook_deliveries`, `set_webhook_active` `{id, active}`, `fire_event`
//! `{type, purchase_id | order_number | supplier_id, task_id?}` (announce without changing
//! anything: a duplicate delivery), `touch_purchase` `{purchase_id | order_number}` (a change made
//! in the web app: new `LastUpdatedDate`, `Purchase/Updated`), `authorise_invoice`
//! `{purchase_id | order_number, task_id?}` (a clerk authorises a draft bill in the web app).
//!
//! Not modelled: sales, products, stock levels, put-away, unstock, manual journals,
//! attachments, `purchaseCreditNoteList`, the daily cap (fact sheet open question 1).

pub mod api;
pub mod model;
pub mod purchases;
pub mod reference;
pub mod scenario;
pub mod state;
pub mod switches;
pub mod webhooks;
mod writes;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::common::json::scalar_text;
use crate::common::{BoxFuture, ResetTo, SimClock, SimError, SimHandle, SimKit, SimSystem};
use api::Event;
pub use scenario::{Cin7Scenario, PurchaseBuilder, demo, engineering_firm};
pub use state::{Application, Cin7State};
pub use switches::Cin7Switches;
pub use webhooks::Delivery;

const NAME: &str = "cin7";

/// What a Cin7 client needs (the shape `credentials` takes in `mlc sim` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cin7Credentials {
    /// `http://127.0.0.1:PORT/ExternalApi/v2`.
    pub base_url: String,
    /// `api-auth-accountid`.
    pub account_id: String,
    /// `api-auth-applicationkey`.
    pub application_key: String,
    /// The demo webhook secret (for the receiving side; the simulator does not check it).
    pub webhook_secret: String,
    /// The header the demo puts it in.
    pub webhook_header: String,
}

/// The Cin7 Core simulator.
pub struct Cin7Sim {
    kit: SimKit,
    state: Mutex<Cin7State>,
    initial: Cin7Scenario,
    initial_switches: Cin7Switches,
    flush: watch::Sender<u64>,
}

impl std::fmt::Debug for Cin7Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cin7Sim").finish_non_exhaustive()
    }
}

/// Builds a [`Cin7Sim`].
#[derive(Debug, Clone, Default)]
pub struct Cin7SimBuilder {
    kit: Option<SimKit>,
    clock: Option<SimClock>,
    scenario: Option<Cin7Scenario>,
    switches: Option<Cin7Switches>,
    port: u16,
}

impl Cin7SimBuilder {
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
    pub fn scenario(mut self, s: Cin7Scenario) -> Self {
        self.scenario = Some(s);
        self
    }

    /// Only the reference data (accounts, terms, tax rules, locations): no suppliers or purchases.
    pub fn empty(self) -> Self {
        self.scenario(Cin7Scenario::reference_data())
    }

    /// Starting switches.
    pub fn switches(mut self, s: Cin7Switches) -> Self {
        self.switches = Some(s);
        self
    }

    /// Port on 127.0.0.1 (0 = any free one).
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }

    /// Build without serving.
    pub fn build(self) -> Result<Arc<Cin7Sim>, SimError> {
        let kit = self.kit.unwrap_or_else(|| SimKit::new(self.clock.unwrap_or_default()));
        let scenario =
            self.scenario.unwrap_or_else(|| engineering_firm(scenario::DEFAULT_SEED, scenario::DEFAULT_PURCHASES));
        let switches = self.switches.unwrap_or_default();
        let mut st = fresh(&switches);
        scenario.apply(&mut st, kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        let initial_switches = st.switches.clone();
        Ok(Arc::new(Cin7Sim {
            kit,
            state: Mutex::new(st),
            initial: scenario,
            initial_switches,
            flush: watch::channel(0).0,
        }))
    }

    /// Build and serve.
    pub async fn start(self) -> Result<SimHandle<Cin7Sim>, SimError> {
        let port = self.port;
        let sim = self.build()?;
        let kit = sim.kit.clone();
        crate::common::start(sim, kit, port).await
    }
}

fn fresh(switches: &Cin7Switches) -> Cin7State {
    let mut st = Cin7State::empty(demo::ACCOUNT_ID, demo::APPLICATION_KEY, switches.clone());
    st.applications.push(Application { key: demo::OTHER_APPLICATION_KEY.into(), name: "Other integration".into() });
    st
}

/// The whole state as JSON (the shape [`Cin7Scenario::from_json`] reads back).
pub fn snapshot(st: &Cin7State) -> Value {
    json!({
        "account_id": st.account_id,
        "applications": st.applications,
        "base_currency": st.base_currency,
        "switches": st.switches,
        "accounts": st.accounts.iter().map(reference::account_json).collect::<Vec<_>>(),
        "payment_terms": st.payment_terms.iter().map(|t| json!({"Name": t.name, "Days": t.days, "IsActive": t.active})).collect::<Vec<_>>(),
        "tax_rules": st.tax_rules.iter().map(|t| json!({"Name": t.name, "TaxPercent": model::num(t.percent), "IsActive": t.active})).collect::<Vec<_>>(),
        "locations": st.locations,
        "suppliers": st.suppliers.iter().map(|s| reference::supplier_json(st, s)).collect::<Vec<_>>(),
        "purchases": st.purchases.iter().map(|p| purchases::advanced_json(st, p, false)).collect::<Vec<_>>(),
        "webhooks": st.webhooks.iter().map(webhooks::webhook_json).collect::<Vec<_>>(),
        "rate_limit": { "window": st.window_counts(Instant::now()), "totals": st.rate_stats },
        "webhook_deliveries": st.deliveries.deliveries,
    })
}

impl Cin7Sim {
    /// A builder with the defaults: real clock, the demo engineering firm.
    pub fn builder() -> Cin7SimBuilder {
        Cin7SimBuilder::default()
    }

    /// Lock the account for in-process seeding or inspection. Do not hold it across an await.
    pub fn lock(&self) -> MutexGuard<'_, Cin7State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current switches.
    pub fn switches(&self) -> Cin7Switches {
        self.lock().switches.clone()
    }

    /// Change switches in process.
    pub fn set_switch(&self, f: impl FnOnce(&mut Cin7Switches)) {
        f(&mut self.lock().switches);
    }

    /// Merge a scenario built in Rust.
    pub fn seed_scenario(&self, s: &Cin7Scenario) -> Result<(), SimError> {
        let now = self.kit.clock.now();
        s.apply(&mut self.lock(), now).map_err(|e| SimError::bad(NAME, e))
    }

    /// Typed credentials for a base URL.
    pub fn typed_credentials(&self, base_url: &str) -> Cin7Credentials {
        let st = self.lock();
        Cin7Credentials {
            base_url: base_url.into(),
            account_id: st.account_id.clone(),
            application_key: st.applications.first().map(|a| a.key.clone()).unwrap_or_default(),
            webhook_secret: demo::WEBHOOK_SECRET.into(),
            webhook_header: demo::WEBHOOK_HEADER.into(),
        }
    }

    /// The kit (clock, faults, calls, webhooks).
    pub fn kit(&self) -> &SimKit {
        &self.kit
    }

    /// Webhook deliveries so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.deliveries.clone()
    }

    /// Attempt every pending webhook delivery now.
    pub fn flush_webhooks(&self) {
        self.flush.send_modify(|n| *n += 1);
    }

    /// Announce events as if records changed (without changing them).
    pub fn announce(self: &Arc<Self>, events: &[Event]) -> usize {
        let now = self.kit.clock.now();
        let pending = webhooks::prepare(&mut self.lock(), events, now);
        let n = pending.len();
        webhooks::schedule(self, pending);
        n
    }

    fn reset_to(&self, scenario: Option<&Cin7Scenario>) -> Result<(), SimError> {
        let mut st = fresh(&self.initial_switches);
        if let Some(s) = scenario {
            s.apply(&mut st, self.kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        }
        *self.lock() = st;
        Ok(())
    }

    fn find_purchase(st: &Cin7State, args: &Value) -> Result<usize, SimError> {
        let s = |k: &str| args.get(k).map(scalar_text).unwrap_or_default();
        if !s("purchase_id").is_empty() {
            return st
                .purchase_idx(&s("purchase_id"))
                .ok_or_else(|| SimError::bad(NAME, format!("no purchase '{}'", s("purchase_id"))));
        }
        let n = s("order_number");
        st.purchases
            .iter()
            .position(|p| !n.is_empty() && p.order_number.eq_ignore_ascii_case(&n))
            .ok_or_else(|| SimError::bad(NAME, "name the purchase with 'purchase_id' or 'order_number'"))
    }

    fn run_action(self: &Arc<Self>, name: &str, args: &Value) -> Result<Value, SimError> {
        let s = |k: &str| args.get(k).map(scalar_text).unwrap_or_default();
        let now = self.kit.clock.now();
        match name {
            "consume_calls" => {
                let n = args
                    .get("n")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| SimError::bad(NAME, "consume_calls needs 'n'"))?;
                let mut st = self.lock();
                let key = if s("application_key").is_empty() {
                    st.applications.first().map(|a| a.key.clone()).unwrap_or_default()
                } else {
                    s("application_key")
                };
                st.consume(&key, usize::try_from(n).unwrap_or(usize::MAX), Instant::now());
                Ok(json!({ "window": st.window_counts(Instant::now()) }))
            }
            "rate_limit" => {
                let st = self.lock();
                Ok(json!({ "window": st.window_counts(Instant::now()), "totals": st.rate_stats,
                           "calls": st.switches.rate_limit_calls, "window_ms": st.switches.rate_limit_window_ms }))
            }
            "add_application" => {
                let key = s("key");
                if key.is_empty() {
                    return Err(SimError::bad(NAME, "add_application needs 'key'"));
                }
                let name = if s("name").is_empty() { "application".to_string() } else { s("name") };
                self.lock().applications.push(Application { key: key.clone(), name });
                Ok(json!({ "key": key }))
            }
            "flush_webhooks" => {
                self.flush_webhooks();
                let pending = self.lock().deliveries.deliveries.iter().filter(|d| d.state == "pending").count();
                Ok(json!({ "pending": pending }))
            }
            "webhook_deliveries" => Ok(json!({ "deliveries": self.deliveries() })),
            "set_webhook_active" => {
                let id = s("id");
                let active = args.get("active").and_then(Value::as_bool).unwrap_or(true);
                let mut st = self.lock();
                let w = st
                    .webhooks
                    .iter_mut()
                    .find(|w| model::same_id(&w.id, &id))
                    .ok_or_else(|| SimError::bad(NAME, format!("no webhook '{id}'")))?;
                w.is_active = active;
                Ok(webhooks::webhook_json(w))
            }
            "fire_event" => {
                let kind = model::event_type(&s("type"))
                    .ok_or_else(|| SimError::bad(NAME, "fire_event needs a known 'type'"))?;
                let ev = {
                    let st = self.lock();
                    if kind == "Supplier/Updated" {
                        let id = s("supplier_id");
                        st.supplier_idx(&id).ok_or_else(|| SimError::bad(NAME, format!("no supplier '{id}'")))?;
                        Event::SupplierUpdated(id)
                    } else {
                        let p = &st.purchases[Self::find_purchase(&st, args)?];
                        match kind {
                            "Purchase/Updated" => Event::PurchaseUpdated(p.id.clone()),
                            "Purchase/OrderAuthorised"
                            | "Purchase/InvoiceAuthorised"
                            | "Purchase/StockReceivedAuthorised"
                            | "Purchase/CreditNoteAuthorised" => {
                                let task = if s("task_id").is_empty() { p.id.clone() } else { s("task_id") };
                                let number = match kind {
                                    "Purchase/InvoiceAuthorised" => p
                                        .invoices
                                        .iter()
                                        .find(|i| model::same_id(&i.task_id, &task))
                                        .or(p.invoices.last())
                                        .map(|i| i.invoice_number.clone()),
                                    "Purchase/CreditNoteAuthorised" => p
                                        .credit_notes
                                        .iter()
                                        .find(|c| model::same_id(&c.task_id, &task))
                                        .or(p.credit_notes.last())
                                        .map(|c| c.credit_note_number.clone()),
                                    _ => None,
                                };
                                let event = match kind {
                                    "Purchase/OrderAuthorised" => "Purchase/OrderAuthorised",
                                    "Purchase/InvoiceAuthorised" => "Purchase/InvoiceAuthorised",
                                    "Purchase/StockReceivedAuthorised" => "Purchase/StockReceivedAuthorised",
                                    _ => "Purchase/CreditNoteAuthorised",
                                };
                                Event::Task { event, purchase: p.id.clone(), task, number }
                            }
                            other => return Err(SimError::bad(NAME, format!("fire_event cannot announce '{other}'"))),
                        }
                    }
                };
                let n = self.announce(&[ev]);
                Ok(json!({ "deliveries": n }))
            }
            "touch_purchase" => {
                let id = {
                    let mut st = self.lock();
                    let i = Self::find_purchase(&st, args)?;
                    let t = st.stamp(now);
                    st.purchases[i].last_updated = t;
                    st.purchases[i].id.clone()
                };
                let n = self.announce(&[Event::PurchaseUpdated(id.clone())]);
                Ok(json!({ "purchase_id": id, "deliveries": n }))
            }
            "authorise_invoice" => {
                let events = {
                    let mut st = self.lock();
                    let i = Self::find_purchase(&st, args)?;
                    let task = s("task_id");
                    let p = &mut st.purchases[i];
                    let inv = p
                        .invoices
                        .iter_mut()
                        .find(|x| {
                            if task.is_empty() {
                                x.status == model::DocStatus::Draft
                            } else {
                                model::same_id(&x.task_id, &task)
                            }
                        })
                        .ok_or_else(|| {
                            SimError::bad(
                                NAME,
                                format!("purchase {} has no draft invoice to authorise", p.order_number),
                            )
                        })?;
                    if inv.status != model::DocStatus::Draft {
                        return Err(SimError::bad(
                            NAME,
                            format!("invoice {} is {}, not DRAFT", inv.invoice_number, inv.status.as_str()),
                        ));
                    }
                    inv.status = model::DocStatus::Authorised;
                    let ev = Event::Task {
                        event: "Purchase/InvoiceAuthorised",
                        purchase: p.id.clone(),
                        task: inv.task_id.clone(),
                        number: Some(inv.invoice_number.clone()),
                    };
                    let id = p.id.clone();
                    let t = st.stamp(now);
                    st.purchases[i].last_updated = t;
                    vec![ev, Event::PurchaseUpdated(id)]
                };
                let n = self.announce(&events);
                Ok(json!({ "deliveries": n }))
            }
            other => Err(SimError::UnknownAction { system: NAME, action: other.into() }),
        }
    }
}

impl SimSystem for Cin7Sim {
    fn name(&self) -> &'static str {
        NAME
    }

    fn base_path(&self) -> String {
        api::BASE_PATH.into()
    }

    fn credentials(&self, base_url: &str) -> Value {
        serde_json::to_value(self.typed_credentials(base_url)).unwrap_or(Value::Null)
    }

    fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(api::handle).with_state(self)
    }

    fn route_of(&self, method: &Method, path: &str) -> Option<String> {
        let segs = api::split_base(path)?;
        api::resolve(&method.as_str().to_ascii_uppercase(), &segs).map(|(_, t, _)| t.to_string())
    }

    fn seed(&self, scenario: &Value) -> Result<(), SimError> {
        let s = Cin7Scenario::from_json(scenario).map_err(|e| SimError::bad(NAME, e))?;
        self.seed_scenario(&s)
    }

    fn snapshot(&self) -> Value {
        snapshot(&self.lock())
    }

    fn reset(&self, to: ResetTo) -> Result<(), SimError> {
        match to {
            ResetTo::Initial => self.reset_to(Some(&self.initial)),
            ResetTo::Empty => self.reset_to(Some(&Cin7Scenario::reference_data())),
            ResetTo::Demo => {
                self.reset_to(Some(&engineering_firm(scenario::DEFAULT_SEED, scenario::DEFAULT_PURCHASES)))
            }
            ResetTo::Scenario(v) => {
                let s = Cin7Scenario::from_json(&v).map_err(|e| SimError::bad(NAME, e))?;
                self.reset_to(Some(&s))
            }
        }
    }

    fn switches(&self) -> Value {
        serde_json::to_value(self.lock().switches.clone()).unwrap_or(Value::Null)
    }

    fn set_switches(&self, patch: &Value) -> Result<Value, SimError> {
        let mut st = self.lock();
        let next = st.switches.merged(patch).map_err(|e| SimError::bad(NAME, e))?;
        if next.webhook_drop_seed != st.switches.webhook_drop_seed {
            st.drop_rng = next.webhook_drop_seed.max(1);
        }
        st.switches = next;
        Ok(serde_json::to_value(st.switches.clone()).unwrap_or(Value::Null))
    }

    fn actions(&self) -> Vec<&'static str> {
        vec![
            "consume_calls",
            "rate_limit",
            "add_application",
            "flush_webhooks",
            "webhook_deliveries",
            "set_webhook_active",
            "fire_event",
            "touch_purchase",
            "authorise_invoice",
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
    CIN7,
    crate::SimEntry {
        name: "cin7",
        aliases: &["cin7core", "dear"],
        start: |port, clock| {
            Box::pin(async move { Ok(Cin7Sim::builder().clock(clock).port(port).start().await?.into_dyn()) })
        },
    }
);
