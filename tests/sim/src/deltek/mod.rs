//! Deltek Vantagepoint simulator.
//!
//! **The real system.** Vantagepoint (formerly "Deltek for Professional Services") is the ERP of
//! architecture and engineering firms. Its REST API is ASP.NET Web API behind IIS (behind an AWS
//! load balancer in Deltek's cloud), rooted at `https://{tenant}.deltekfirst.com/{Tenant}/api` in
//! the cloud or `https://{host}/vantagepoint/api` on premises. A client logs in with an OAuth2
//! password grant (`POST {base}/token`, form keys `Username`, `Password`, `grant_type`,
//! `Integrated`, `database`, `Client_Id`, `client_secret`) and sends the bearer token on every
//! call. GETs answer bare JSON arrays, even by key. AP vouchers are entered as *files* in the
//! Transaction Center (`DataEntry/apControl` with `apMaster[]`/`apDetail[]`) and become ledger
//! rows only when the file is posted (`PUT DataEntry/PostTransFile`). There are no idempotency
//! keys, no documented rate limits and no signed webhooks: workflow "Webhook" actions POST
//! arguments to a URL with optional Basic credentials.
//!
//! **What this module reproduces.** Everything marked **[C]** in the fact sheet
//! (`shared/research/deltek.md`) is reproduced as documented; each **[I]**/**[U]** behaviour is a
//! switch in [`DeltekSwitches`] whose default is the fact sheet's best guess. The files:
//!
//! | file | what |
//! |---|---|
//! | `api.rs` | base path (`/{Tenant}/api`, `/vantagepoint/api`, `/api`), case-insensitive routes, answers |
//! | `auth.rs` | token endpoint (password + refresh grants), bearer auth, 401 |
//! | `query.rs` | paging, `fieldFilter`, `order`, filterHash |
//! | `hubs.rs` | `firm` (+ addresses), `project`, `Accounts`, `Settings/*` |
//! | `transactions.rs` | AP and JE files, landing, posting, approvals |
//! | `ar.rs` | posted ledgers, `ARReview/*`, `ledger/IN` |
//! | `errors.rs` | error bodies and message texts |
//! | `scenario.rs` | JSON scenario, Rust builders, the demo consultancy |
//! | `switches.rs` | the switches and their defaults |
//!
//! **Switches** (see [`DeltekSwitches`] for the fact behind each): `allow_password_grant`,
//! `require_culture`, `access_token_lifetime_secs`, `rotate_refresh_token`,
//! `refresh_token_lifetime_secs`, `error_shape`, `double_messages`, `post_status`,
//! `zero_money_fields`, `strict_duplicate_invoice`, `approvals`, `ignore_control_totals`,
//! `je_balance_on_create`, `require_lowest_wbs_level`, `project_default_wbstype`,
//! `dataentry_rejects_limit`, `ledger_ap_includes_invoice`, `ar_review_bare_object`,
//! `like_adds_wildcards`, `unknown_filter_column_errors`.
//!
//! **Control actions** (`POST /__sim/actions/{name}`): `revoke_tokens`, `expire_tokens`,
//! `set_user`, `set_approval_status`, `set_period_closed`, `configure_workflow_webhook`,
//! `fire_workflow_webhook`, `touch_ar_invoice`.
//!
//! Not modelled (fact sheet open question 9 and beyond the connector's needs): AP Invoice
//! Approvals (`APInvoiceApprovals`), payments (`ledger/PP`), cash receipts entry, billing
//! (`InteractiveDetail`), UDICs, `InvokeCustom`, metadata and code tables; they answer 404.

pub mod api;
pub mod ar;
pub mod auth;
pub mod errors;
pub mod hubs;
pub mod model;
pub mod query;
pub mod scenario;
pub mod state;
pub mod switches;
#[cfg(test)]
mod tests;
pub mod transactions;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::Method;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::json::scalar_text;
use crate::common::{BoxFuture, ResetTo, SimClock, SimError, SimHandle, SimKit, SimSystem, WebhookTarget, webhook};
pub use scenario::{DeltekScenario, demo, demo_login, demo_scenario};
pub use state::{ApiAuthorization, DeltekState, User};
pub use switches::{Approvals, DeltekSwitches, ErrorShape, WbsDefault};

const NAME: &str = "deltek";

/// What a Deltek client needs to connect (the shape `credentials` takes in `mlc sim` output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeltekCredentials {
    /// API root, e.g. `http://127.0.0.1:PORT/HarborPine/api`.
    pub base_url: String,
    /// `Username`.
    pub username: String,
    /// `Password`.
    pub password: String,
    /// `database`.
    pub database: String,
    /// `Client_Id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: String,
    /// `Integrated` (`N`).
    pub integrated: String,
    /// `culture`.
    pub culture: String,
}

/// Merge a partial switch object into a switch set.
pub fn merge_switches(current: &DeltekSwitches, patch: &Value) -> Result<DeltekSwitches, String> {
    let Value::Object(p) = patch else { return Err("switches must be a JSON object".into()) };
    let mut v = serde_json::to_value(current).map_err(|e| e.to_string())?;
    if let Value::Object(m) = &mut v {
        for (k, val) in p {
            m.insert(k.clone(), val.clone());
        }
    }
    serde_json::from_value(v).map_err(|e| format!("bad switches: {e}"))
}

/// The Deltek Vantagepoint simulator.
pub struct DeltekSim {
    kit: SimKit,
    tenant: String,
    on_premise: bool,
    state: Mutex<DeltekState>,
    initial: DeltekScenario,
    initial_switches: DeltekSwitches,
    login: (ApiAuthorization, Vec<User>),
}

impl std::fmt::Debug for DeltekSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltekSim").field("tenant", &self.tenant).finish_non_exhaustive()
    }
}

/// Builds a [`DeltekSim`].
#[derive(Debug, Clone)]
pub struct DeltekSimBuilder {
    tenant: String,
    on_premise: bool,
    kit: Option<SimKit>,
    clock: Option<SimClock>,
    scenario: Option<DeltekScenario>,
    switches: DeltekSwitches,
    port: u16,
}

impl Default for DeltekSimBuilder {
    fn default() -> Self {
        DeltekSimBuilder {
            tenant: demo::TENANT.into(),
            on_premise: false,
            kit: None,
            clock: None,
            scenario: None,
            switches: DeltekSwitches::default(),
            port: 0,
        }
    }
}

impl DeltekSimBuilder {
    /// The tenant segment of the cloud base path (default `HarborPine`).
    pub fn tenant(mut self, t: &str) -> Self {
        self.tenant = t.into();
        self
    }

    /// Report the on-premise base URL (`/api`) instead of `/{Tenant}/api`. Both are always served.
    pub fn on_premise(mut self, yes: bool) -> Self {
        self.on_premise = yes;
        self
    }

    /// Use this clock (default: the real clock).
    pub fn clock(mut self, c: SimClock) -> Self {
        self.clock = Some(c);
        self
    }

    /// Use this kit (clock, faults, calls) — to share one clock among several simulators.
    pub fn kit(mut self, k: SimKit) -> Self {
        self.kit = Some(k);
        self
    }

    /// Seed this scenario instead of the demo one. Its `auth`/`users` replace the demo login.
    pub fn scenario(mut self, s: DeltekScenario) -> Self {
        self.scenario = Some(s);
        self
    }

    /// Start with no data (the demo login only).
    pub fn empty(self) -> Self {
        self.scenario(DeltekScenario::new())
    }

    /// Starting switches.
    pub fn switches(mut self, s: DeltekSwitches) -> Self {
        self.switches = s;
        self
    }

    /// Port on 127.0.0.1 (0 = any free one).
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }

    /// Build without serving (for in-process use of the state).
    pub fn build(self) -> Result<Arc<DeltekSim>, SimError> {
        let kit = self.kit.unwrap_or_else(|| SimKit::new(self.clock.unwrap_or_default()));
        let today = kit.clock.now().date_naive();
        let scenario = self.scenario.unwrap_or_else(|| demo_scenario(today));
        let (mut auth, mut users) = demo_login();
        if let Some(a) = &scenario.auth {
            auth = a.clone();
        }
        if !scenario.users.is_empty() {
            users = scenario.users.clone();
        }
        let mut st = DeltekState::empty(auth.clone(), users.clone(), self.switches.clone());
        scenario.apply(&mut st, kit.clock.now().naive_utc()).map_err(|e| SimError::bad(NAME, e))?;
        let initial_switches = st.switches.clone();
        Ok(Arc::new(DeltekSim {
            kit,
            tenant: self.tenant,
            on_premise: self.on_premise,
            state: Mutex::new(st),
            initial: scenario,
            initial_switches,
            login: (auth, users),
        }))
    }

    /// Build and serve.
    pub async fn start(self) -> Result<SimHandle<DeltekSim>, SimError> {
        let port = self.port;
        let sim = self.build()?;
        let kit = sim.kit.clone();
        crate::common::start(sim, kit, port).await
    }
}

impl DeltekSim {
    /// A builder with the defaults: tenant `HarborPine`, real clock, demo scenario.
    pub fn builder() -> DeltekSimBuilder {
        DeltekSimBuilder::default()
    }

    /// Lock the database for in-process seeding or inspection. Do not hold it across an await.
    pub fn lock(&self) -> MutexGuard<'_, DeltekState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current switches.
    pub fn switches(&self) -> DeltekSwitches {
        self.lock().switches.clone()
    }

    /// Change switches in process with a closure.
    pub fn set_switch(&self, f: impl FnOnce(&mut DeltekSwitches)) {
        f(&mut self.lock().switches);
    }

    /// Merge a scenario built in Rust.
    pub fn seed_scenario(&self, s: &DeltekScenario) -> Result<(), SimError> {
        let now = self.kit.clock.now().naive_utc();
        s.apply(&mut self.lock(), now).map_err(|e| SimError::bad(NAME, e))
    }

    /// Typed credentials for a base URL.
    pub fn typed_credentials(&self, base_url: &str) -> DeltekCredentials {
        let st = self.lock();
        let user = st.users.iter().find(|u| !u.disabled && !u.hide_amounts).or(st.users.first());
        DeltekCredentials {
            base_url: base_url.into(),
            username: user.map(|u| u.username.clone()).unwrap_or_default(),
            password: user.map(|u| u.password.clone()).unwrap_or_default(),
            database: st.auth.database.clone(),
            client_id: st.auth.client_id.clone(),
            client_secret: st.auth.client_secret.clone(),
            integrated: "N".into(),
            culture: "en-US".into(),
        }
    }

    /// The kit (clock, faults, calls, webhooks).
    pub fn kit(&self) -> &SimKit {
        &self.kit
    }

    fn fresh_state(&self) -> DeltekState {
        DeltekState::empty(self.login.0.clone(), self.login.1.clone(), self.initial_switches.clone())
    }

    fn reset_to(&self, scenario: Option<&DeltekScenario>) -> Result<(), SimError> {
        let mut st = self.fresh_state();
        if let Some(s) = scenario {
            s.apply(&mut st, self.kit.clock.now().naive_utc()).map_err(|e| SimError::bad(NAME, e))?;
        }
        *self.lock() = st;
        Ok(())
    }

    fn fire_webhook(self: Arc<Self>, args: Value) -> BoxFuture<'static, Result<Value, SimError>> {
        Box::pin(async move {
            let target = match args.get("url").and_then(Value::as_str) {
                Some(_) => webhook_target(&args)?,
                None => {
                    let name = args.get("name").and_then(Value::as_str).unwrap_or("default");
                    self.lock()
                        .workflow_webhooks
                        .get(name)
                        .cloned()
                        .ok_or_else(|| SimError::bad(NAME, format!("no workflow webhook named '{name}'")))?
                }
            };
            let payload = match args.get("args") {
                Some(Value::Object(m)) => Value::Object(m.clone()),
                None | Some(Value::Null) => json!({}),
                Some(_) => return Err(SimError::bad(NAME, "'args' must be an object of argument name → value")),
            };
            let event = format!("workflow:{}", args.get("workflow").and_then(Value::as_str).unwrap_or("webhook"));
            let (id, handle) = webhook::send_json(&self.kit, &event, target, &payload);
            if args.get("wait").and_then(Value::as_bool).unwrap_or(false) {
                let delivery = handle.await.ok().flatten();
                return Ok(json!({ "delivery_id": id, "delivery": delivery }));
            }
            Ok(json!({ "delivery_id": id }))
        })
    }
}

/// Read a workflow webhook definition. Vantagepoint's dialog allows 0–10 retries and a 1–60 s
/// timeout (default 0 and 5) **[C]**; the delay between retries is not documented **[U]**
/// (default 30 simulated seconds).
fn webhook_target(v: &Value) -> Result<WebhookTarget, SimError> {
    let url = v.get("url").and_then(Value::as_str).ok_or_else(|| SimError::bad(NAME, "webhook needs 'url'"))?;
    let retries = v.get("retries").and_then(Value::as_u64).unwrap_or(0);
    let timeout = v.get("timeout_secs").and_then(Value::as_u64).unwrap_or(5);
    if retries > 10 {
        return Err(SimError::bad(NAME, "Retries must be between 0 and 10"));
    }
    if !(1..=60).contains(&timeout) {
        return Err(SimError::bad(NAME, "Timeout must be between 1 and 60 seconds"));
    }
    let mut t = WebhookTarget::new(url);
    t.retries = retries as u32;
    t.timeout_ms = v.get("timeout_ms").and_then(Value::as_u64).unwrap_or(timeout * 1000);
    t.retry_delay_secs = v.get("retry_delay_secs").and_then(Value::as_u64).unwrap_or(30);
    t.username = v.get("username").and_then(Value::as_str).map(String::from);
    t.password = v.get("password").and_then(Value::as_str).map(String::from);
    Ok(t)
}

impl SimSystem for DeltekSim {
    fn name(&self) -> &'static str {
        NAME
    }

    fn base_path(&self) -> String {
        if self.on_premise { "/api".into() } else { format!("/{}/api", self.tenant) }
    }

    fn credentials(&self, base_url: &str) -> Value {
        serde_json::to_value(self.typed_credentials(base_url)).unwrap_or(Value::Null)
    }

    fn connection(&self, base_url: &str) -> crate::common::SimConnection {
        let c = self.typed_credentials(base_url);
        let mut settings = serde_json::Map::new();
        settings.insert("database".into(), Value::String(c.database));
        let mut credentials = serde_json::Map::new();
        for (k, v) in [
            ("username", c.username),
            ("password", c.password),
            ("client_id", c.client_id),
            ("client_secret", c.client_secret),
        ] {
            credentials.insert(k.into(), Value::String(v));
        }
        crate::common::SimConnection { system: NAME.into(), base_url: base_url.into(), settings, credentials }
    }

    fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(api::handle).with_state(self)
    }

    fn route_of(&self, method: &Method, path: &str) -> Option<String> {
        let (_, segs) = api::split_base(path, &self.tenant)?;
        api::resolve(&method.as_str().to_ascii_uppercase(), &segs).map(|(_, t)| t.to_string())
    }

    fn seed(&self, scenario: &Value) -> Result<(), SimError> {
        let s = DeltekScenario::from_json(scenario).map_err(|e| SimError::bad(NAME, e))?;
        self.seed_scenario(&s)
    }

    fn snapshot(&self) -> Value {
        serde_json::to_value(&*self.lock()).unwrap_or(Value::Null)
    }

    fn restore(&self, snapshot: &Value) -> Result<(), SimError> {
        let st: DeltekState = serde_json::from_value(snapshot.clone())
            .map_err(|e| SimError::bad(NAME, format!("not a Deltek simulator snapshot: {e}")))?;
        *self.lock() = st;
        Ok(())
    }

    fn reset(&self, to: ResetTo) -> Result<(), SimError> {
        match to {
            ResetTo::Initial => self.reset_to(Some(&self.initial)),
            ResetTo::Empty => self.reset_to(None),
            ResetTo::Demo => self.reset_to(Some(&demo_scenario(self.kit.clock.now().date_naive()))),
            ResetTo::Scenario(v) => {
                let s = DeltekScenario::from_json(&v).map_err(|e| SimError::bad(NAME, e))?;
                self.reset_to(Some(&s))
            }
        }
    }

    fn switches(&self) -> Value {
        serde_json::to_value(self.lock().switches.clone()).unwrap_or(Value::Null)
    }

    fn set_switches(&self, patch: &Value) -> Result<Value, SimError> {
        let mut st = self.lock();
        st.switches = merge_switches(&st.switches, patch).map_err(|e| SimError::bad(NAME, e))?;
        Ok(serde_json::to_value(st.switches.clone()).unwrap_or(Value::Null))
    }

    fn actions(&self) -> Vec<&'static str> {
        vec![
            "revoke_tokens",
            "expire_tokens",
            "set_user",
            "set_approval_status",
            "set_period_closed",
            "configure_workflow_webhook",
            "fire_workflow_webhook",
            "touch_ar_invoice",
        ]
    }

    fn action(self: Arc<Self>, name: String, args: Value) -> BoxFuture<'static, Result<Value, SimError>> {
        if name == "fire_workflow_webhook" {
            return self.fire_webhook(args);
        }
        let result = self.sync_action(&name, &args);
        Box::pin(async move { result })
    }

    fn fault_body(&self, status: u16) -> (String, String) {
        match status {
            503 => (
                "text/html".into(),
                "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">\r\n<HTML><HEAD><TITLE>Service Unavailable</TITLE></HEAD>\r\n<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n</BODY></HTML>\r\n".into(),
            ),
            429 => ("application/json; charset=utf-8".into(), json!({ "Message": "Too many requests." }).to_string()),
            _ => ("application/json; charset=utf-8".into(), json!({ "Message": "An error has occurred." }).to_string()),
        }
    }
}

impl DeltekSim {
    fn sync_action(&self, name: &str, args: &Value) -> Result<Value, SimError> {
        let now = self.kit.clock.now();
        let s = |k: &str| args.get(k).map(scalar_text).unwrap_or_default();
        match name {
            // Every token (or one user's) stops working at once: the "token revoked" fault.
            "revoke_tokens" => {
                let mut st = self.lock();
                let user = s("username");
                let before = st.access_tokens.len() + st.refresh_tokens.len();
                if user.is_empty() {
                    st.access_tokens.clear();
                    st.refresh_tokens.clear();
                } else {
                    st.access_tokens.retain(|_, t| !t.username.eq_ignore_ascii_case(&user));
                    st.refresh_tokens.retain(|_, t| !t.username.eq_ignore_ascii_case(&user));
                }
                Ok(json!({ "revoked": before - st.access_tokens.len() - st.refresh_tokens.len() }))
            }
            // Access tokens expire now (refresh tokens stay valid): the client should refresh.
            "expire_tokens" => {
                let mut st = self.lock();
                let n = st.access_tokens.len();
                st.access_tokens.values_mut().for_each(|t| t.expires_at = now - Duration::seconds(1));
                if args.get("refresh").and_then(Value::as_bool).unwrap_or(false) {
                    st.refresh_tokens.values_mut().for_each(|t| t.expires_at = now - Duration::seconds(1));
                }
                Ok(json!({ "expired": n }))
            }
            "set_user" => {
                let username = s("username");
                if username.is_empty() {
                    return Err(SimError::bad(NAME, "set_user needs 'username'"));
                }
                let mut st = self.lock();
                let pos = match st.users.iter().position(|u| u.username.eq_ignore_ascii_case(&username)) {
                    Some(p) => p,
                    None => {
                        st.users.push(User {
                            username: username.clone(),
                            password: String::new(),
                            disabled: false,
                            hide_amounts: false,
                        });
                        st.users.len() - 1
                    }
                };
                let u = &mut st.users[pos];
                if let Some(p) = args.get("password").and_then(Value::as_str) {
                    u.password = p.into();
                }
                if let Some(d) = args.get("disabled").and_then(Value::as_bool) {
                    u.disabled = d;
                }
                if let Some(h) = args.get("hide_amounts").and_then(Value::as_bool) {
                    u.hide_amounts = h;
                }
                Ok(serde_json::to_value(u.clone()).unwrap_or(Value::Null))
            }
            "set_approval_status" => {
                let tt = if s("trans_type").is_empty() { "AP".to_string() } else { s("trans_type") };
                let by = if s("by").is_empty() { "APPROVER".to_string() } else { s("by") };
                transactions::set_approval(&mut self.lock(), &tt, &s("batch"), &s("status"), &by, &s("reason"))
                    .map_err(|e| SimError::bad(NAME, e))?;
                Ok(json!({ "ok": true }))
            }
            "set_period_closed" => {
                let p: i64 =
                    s("period").parse().map_err(|_| SimError::bad(NAME, "set_period_closed needs 'period'"))?;
                let closed = args.get("closed").and_then(Value::as_bool).unwrap_or(true);
                let mut st = self.lock();
                let per = st
                    .periods
                    .iter_mut()
                    .find(|x| x.period == p)
                    .ok_or_else(|| SimError::bad(NAME, format!("no period {p}")))?;
                per.active_company_closed = if closed { "Y".into() } else { "N".into() };
                Ok(json!({ "period": p, "closed": closed }))
            }
            "configure_workflow_webhook" => {
                let t = webhook_target(args)?;
                let name = if s("name").is_empty() { "default".to_string() } else { s("name") };
                self.lock().workflow_webhooks.insert(name.clone(), t.clone());
                Ok(json!({ "name": name, "webhook": t }))
            }
            // An invoice changed (paid, re-posted): its ModDate moves to now, so a cursor read
            // ("ModDate >= last") sees it again.
            "touch_ar_invoice" => {
                let inv = s("invoice");
                let mut st = self.lock();
                let x = st
                    .ar_invoices
                    .iter_mut()
                    .find(|i| i.invoice.eq_ignore_ascii_case(&inv))
                    .ok_or_else(|| SimError::bad(NAME, format!("no invoice '{inv}'")))?;
                if let Some(b) = args.get("balance") {
                    let b: rust_decimal::Decimal =
                        scalar_text(b).parse().map_err(|_| SimError::bad(NAME, "balance must be a number"))?;
                    x.balance = Some(b);
                }
                x.mod_date = Some(now.naive_utc());
                Ok(json!({ "invoice": x.invoice, "ModDate": x.mod_date.as_ref().map(model::fmt_date) }))
            }
            other => Err(SimError::UnknownAction { system: NAME, action: other.into() }),
        }
    }
}

crate::register_simulator!(
    DELTEK,
    crate::SimEntry {
        name: "deltek",
        aliases: &["vantagepoint"],
        start: |port, clock| {
            Box::pin(async move { Ok(DeltekSim::builder().clock(clock).port(port).start().await?.into_dyn()) })
        },
    }
);
