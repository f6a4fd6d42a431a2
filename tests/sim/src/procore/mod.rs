//! Procore simulator (`mlc sim procore`).
//!
//! **The real system.** Procore is construction project management. A general contractor runs
//! its subcontracts (work order contracts), purchase orders, change orders, subcontractor
//! invoices (requisitions, G702/G703) and direct costs per project there; accounting lives
//! elsewhere (Deltek here). The REST API is `https://api.procore.com/rest/v1.{0,1}/…` (resources
//! versioned independently), login `https://login.procore.com/oauth/token` (client credentials
//! for a Developer Managed Service Account installed by a company admin, 90-minute tokens), every
//! call names its company in `Procore-Company-Id`, ids are 64-bit integers, money comes as
//! strings, lists page with `page`/`per_page` and `Total`/`Per-Page`/`Link` headers, two rate
//! windows (hourly and a 10-second spike) per app and company are reported in
//! `X-Rate-Limit-*` headers, and webhooks are unsigned JSON POSTs carrying a configured
//! `Authorization` header and only ids.
//!
//! **What this module reproduces.** Every **[C]** of the fact sheet (`shared/research/procore.md`)
//! as documented; each **[I]**/**[U]** behaviour is a switch in [`ProcoreSwitches`] defaulting to
//! the sheet's §12. One server answers both hosts (point the client's base URL and login URL at
//! it). The files:
//!
//! | file | what |
//! |---|---|
//! | `api.rs` | routes, bearer check, budget windows, company header, paging, filters |
//! | `auth.rs` | `/oauth/token` (form, multipart, JSON, Basic), `/oauth/token/info`, `/oauth/revoke` |
//! | `directory.rs` | `/me`, companies, projects, vendors, cost codes, cost types |
//! | `financials.rs` | requisitions v1.0/v1.1 (+ `/detail`, write-back PATCH), direct costs (+ line items, PATCH) |
//! | `commitments.rs` | work order and purchase order contracts, `/commitments`, change order packages, commitment change orders |
//! | `webhooks.rs` | hooks, triggers, resources, deliveries log; payloads v2/v3/v4; per-hook queues with backoff |
//! | `model.rs` | records (also the scenario and snapshot shape), totals, money styles |
//! | `state.rs` | the system, rate windows, ids, error answers |
//! | `scenario.rs` | JSON scenario and the generated general contractor |
//! | `deltek_seed.rs` | the matching Deltek scenario (projects, GL accounts, vendor firms) |
//! | `switches.rs` | the switches and their defaults |
//!
//! **Control actions** (`POST /__sim/actions/{name}`):
//! - `expire_tokens` / `revoke_tokens` `{client_id?}`: bearer tokens stop working (expired: the
//!   "expired" 401; revoked: the "invalid" one);
//! - `consume_calls` `{n, client_id?, company_id?, spike_only?}`: another integration used the
//!   budget just now; `rate_limit`: windows and counters per app + company;
//! - `set_status` `{resource, id, status}`, `update` `{resource, id, fields}`, `create`
//!   `{resource, record}`, `delete` `{resource, id}`: a person working in Procore's web app (the
//!   record's `updated_at` moves to now and the matching webhook event is sent); `resource` is
//!   one of `vendor`, `project`, `cost_code`, `line_item_type`, `commitment`, `change_order`,
//!   `requisition`, `direct_cost`; records use the scenario shape;
//! - `fire_event` `{resource_name, resource_id, event_type?, project_id?, company_id?}`: an event
//!   with no change behind it (a duplicate or late delivery);
//! - `flush_webhooks`: retry every paused hook now; `deliveries` `{hook_id?}`: the delivery log;
//! - `set_install` `{client_id?, company_id?, projects?, tools?}`: change what the company admin
//!   granted (`projects: null` = all); `uninstall` `{client_id?, company_id?}`: disconnect the app.
//!
//! Not modelled: the v2.0 REST family, sync (`…/sync`) endpoints, attachments, budgets, prime
//! contracts and owner invoices, standard cost code lists, the ERP Integrations tool.

pub mod api;
pub mod auth;
pub mod commitments;
pub mod deltek_seed;
pub mod directory;
pub mod financials;
pub mod model;
pub mod scenario;
pub mod state;
pub mod switches;
pub mod webhooks;

#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use axum::Router;
use axum::http::Method;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::common::json::scalar_text;
use crate::common::{BoxFuture, ResetTo, SimClock, SimError, SimHandle, SimKit, SimSystem};
use model::{Id, Install};
pub use scenario::{ProcoreScenario, demo, demo_company, general_contractor};
pub use state::ProcoreState;
pub use switches::ProcoreSwitches;
use webhooks::Event;

const NAME: &str = "procore";

/// What a Procore client needs (the shape `credentials` takes in `mlc sim` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcoreCredentials {
    /// The API root (`http://127.0.0.1:PORT`); the login host is the same server.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The company the app is installed in.
    pub company_id: i64,
    /// The `Authorization` value the demo registers its webhook hook with.
    pub webhook_authorization: String,
}

/// The Procore simulator.
pub struct ProcoreSim {
    kit: SimKit,
    state: Mutex<ProcoreState>,
    initial: ProcoreScenario,
    initial_switches: ProcoreSwitches,
    wake: watch::Sender<u64>,
    workers: Mutex<HashSet<Id>>,
    me: Weak<ProcoreSim>,
}

impl std::fmt::Debug for ProcoreSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcoreSim").finish_non_exhaustive()
    }
}

/// Builds a [`ProcoreSim`].
#[derive(Debug, Clone, Default)]
pub struct ProcoreSimBuilder {
    kit: Option<SimKit>,
    clock: Option<SimClock>,
    scenario: Option<ProcoreScenario>,
    switches: Option<ProcoreSwitches>,
    port: u16,
}

impl ProcoreSimBuilder {
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

    /// Seed this scenario instead of the demo company.
    pub fn scenario(mut self, s: ProcoreScenario) -> Self {
        self.scenario = Some(s);
        self
    }

    /// Only the apps, the companies and the cost types: no projects.
    pub fn empty(self) -> Self {
        self.scenario(ProcoreScenario::base())
    }

    /// Starting switches.
    pub fn switches(mut self, s: ProcoreSwitches) -> Self {
        self.switches = Some(s);
        self
    }

    /// Port on 127.0.0.1 (0 = any free one).
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }

    /// Build without serving.
    pub fn build(self) -> Result<Arc<ProcoreSim>, SimError> {
        let kit = self.kit.unwrap_or_else(|| SimKit::new(self.clock.unwrap_or_default()));
        let scenario = self.scenario.unwrap_or_else(demo_company);
        let switches = self.switches.unwrap_or_default();
        switches.check().map_err(|e| SimError::bad(NAME, e))?;
        let mut st = ProcoreState::empty(switches);
        scenario.apply(&mut st, kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        let initial_switches = st.switches.clone();
        Ok(Arc::new_cyclic(|me| ProcoreSim {
            kit,
            state: Mutex::new(st),
            initial: scenario,
            initial_switches,
            wake: watch::channel(0).0,
            workers: Mutex::new(HashSet::new()),
            me: me.clone(),
        }))
    }

    /// Build and serve.
    pub async fn start(self) -> Result<SimHandle<ProcoreSim>, SimError> {
        let port = self.port;
        let sim = self.build()?;
        let kit = sim.kit.clone();
        sim.start_workers();
        crate::common::start(sim, kit, port).await
    }
}

impl ProcoreScenario {
    /// The demo apps and companies and the cost types, nothing else: a base for test scenarios.
    pub fn base() -> Self {
        let full = general_contractor(scenario::DEFAULT_SEED, 0);
        ProcoreScenario {
            apps: full.apps,
            companies: full.companies,
            line_item_types: full.line_item_types,
            ..Default::default()
        }
    }
}

/// A person in the web app (the source user of events the control actions cause).
const WEB_USER_ID: Id = 9_000_001;

impl ProcoreSim {
    /// A builder with the defaults: real clock, the demo general contractor.
    pub fn builder() -> ProcoreSimBuilder {
        ProcoreSimBuilder::default()
    }

    /// Lock the state for in-process seeding or inspection. Do not hold it across an await.
    pub fn lock(&self) -> MutexGuard<'_, ProcoreState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The kit (clock, faults, calls, webhooks).
    pub fn kit(&self) -> &SimKit {
        &self.kit
    }

    /// The current switches.
    pub fn switches(&self) -> ProcoreSwitches {
        self.lock().switches.clone()
    }

    /// Change switches in process.
    pub fn set_switch(&self, f: impl FnOnce(&mut ProcoreSwitches)) {
        f(&mut self.lock().switches);
    }

    /// Merge a scenario built in Rust.
    pub fn seed_scenario(&self, s: &ProcoreScenario) -> Result<(), SimError> {
        let now = self.kit.clock.now();
        s.apply(&mut self.lock(), now).map_err(|e| SimError::bad(NAME, e))
    }

    /// Typed credentials for a base URL.
    pub fn typed_credentials(&self, base_url: &str) -> ProcoreCredentials {
        ProcoreCredentials {
            base_url: base_url.into(),
            client_id: demo::CLIENT_ID.into(),
            client_secret: demo::CLIENT_SECRET.into(),
            company_id: demo::COMPANY_ID,
            webhook_authorization: demo::WEBHOOK_AUTHORIZATION.into(),
        }
    }

    /// Wake every hook sender (new events, or a flush).
    pub fn wake(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn wake_rx(&self) -> watch::Receiver<u64> {
        let mut rx = self.wake.subscribe();
        rx.borrow_and_update();
        rx
    }

    /// Start a sender for every hook with queued events (after a restore).
    fn start_workers(&self) {
        let Some(me) = self.me.upgrade() else { return };
        let hooks: Vec<Id> = self.lock().queues.iter().filter(|(_, q)| !q.items.is_empty()).map(|(h, _)| *h).collect();
        if hooks.is_empty() || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        for h in hooks {
            webhooks::ensure_worker(&me, h);
        }
    }

    /// Send events as if records changed (without changing them).
    pub fn announce(&self, events: Vec<Event>) {
        if let Some(me) = self.me.upgrade() {
            webhooks::dispatch(&me, events, self.kit.clock.now());
        }
    }

    /// Retry every paused hook now.
    pub fn flush_webhooks(&self) {
        for q in self.lock().queues.values_mut() {
            q.next_attempt_at = None;
        }
        self.wake();
    }

    fn reset_to(&self, scenario: Option<&ProcoreScenario>) -> Result<(), SimError> {
        let mut st = ProcoreState::empty(self.initial_switches.clone());
        if let Some(s) = scenario {
            s.apply(&mut st, self.kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        }
        *self.lock() = st;
        Ok(())
    }

    /// A record's event: resource name, company and project.
    fn event_for(st: &ProcoreState, resource: &str, id: Id, kind: &str) -> Option<Event> {
        let project_company = |pid: Id| st.project(pid).map(|p| p.company_id);
        let (name, company, project) = match resource {
            "vendor" => ("Company Vendors".to_string(), st.vendor(id)?.company_id, None),
            "project" => ("Projects".to_string(), st.project(id)?.company_id, None),
            "line_item_type" => ("Line Item Types".to_string(), st.line_item_type(id)?.company_id, None),
            "cost_code" => {
                let c = st.cost_code(id)?;
                ("Cost Codes".to_string(), project_company(c.project_id)?, Some(c.project_id))
            }
            "commitment" => {
                let c = st.commitment(id)?;
                (c.kind.resource().to_string(), project_company(c.project_id)?, Some(c.project_id))
            }
            "change_order" => {
                let c = st.change_orders.iter().find(|c| c.id == id)?;
                ("Change Order Packages".to_string(), project_company(c.project_id)?, Some(c.project_id))
            }
            "requisition" => {
                let r = st.requisitions.iter().find(|r| r.id == id)?;
                ("Requisitions".to_string(), project_company(r.project_id)?, Some(r.project_id))
            }
            "direct_cost" => {
                let d = st.direct_costs.iter().find(|d| d.id == id)?;
                ("Direct Costs".to_string(), project_company(d.project_id)?, Some(d.project_id))
            }
            _ => return None,
        };
        let mut e = Event::new(&name, id, kind, company, project);
        e.source_user_id = Some(WEB_USER_ID);
        Some(e)
    }

    fn list_key(resource: &str) -> Result<&'static str, SimError> {
        Ok(match resource {
            "vendor" => "vendors",
            "project" => "projects",
            "cost_code" => "cost_codes",
            "line_item_type" => "line_item_types",
            "commitment" => "commitments",
            "change_order" => "change_orders",
            "requisition" => "requisitions",
            "direct_cost" => "direct_costs",
            other => {
                return Err(SimError::bad(
                    NAME,
                    format!(
                        "unknown resource '{other}' (vendor, project, cost_code, line_item_type, commitment, \
                         change_order, requisition, direct_cost)"
                    ),
                ));
            }
        })
    }

    /// Merge `fields` into a record (scenario shape), stamping `updated_at`, and re-check it.
    fn edit(
        st: &mut ProcoreState,
        resource: &str,
        id: Id,
        fields: &Value,
        now: DateTime<Utc>,
    ) -> Result<Value, SimError> {
        let key = Self::list_key(resource)?;
        let Value::Object(patch) = fields else { return Err(SimError::bad(NAME, "'fields' must be an object")) };
        let all = serde_json::to_value(&*st).map_err(|e| SimError::bad(NAME, e.to_string()))?;
        let mut rec = all[key]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["id"].as_i64() == Some(id)))
            .cloned()
            .ok_or_else(|| SimError::bad(NAME, format!("no {resource} {id}")))?;
        if let Value::Object(m) = &mut rec {
            for (k, v) in patch {
                m.insert(k.clone(), v.clone());
            }
            if !patch.contains_key("updated_at") {
                m.insert("updated_at".into(), json!(scenario::to_second(now)));
            }
        }
        let s = ProcoreScenario::from_json(&json!({ key: [rec.clone()] })).map_err(|e| SimError::bad(NAME, e))?;
        s.apply(st, now).map_err(|e| SimError::bad(NAME, e))?;
        Ok(rec)
    }

    fn resource_args(args: &Value) -> Result<(String, Id), SimError> {
        let resource = args.get("resource").map(scalar_text).unwrap_or_default();
        let id = args
            .get("id")
            .and_then(|v| v.as_i64().or_else(|| scalar_text(v).parse().ok()))
            .ok_or_else(|| SimError::bad(NAME, "name the record with 'resource' and 'id'"))?;
        Ok((resource, id))
    }

    fn client_of(st: &ProcoreState, args: &Value) -> String {
        args.get("client_id")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| st.apps.first().map(|a| a.client_id.clone()).unwrap_or_else(|| demo::CLIENT_ID.into()))
    }

    fn run_action(&self, name: &str, args: &Value) -> Result<(Value, Vec<Event>), SimError> {
        let now = self.kit.clock.now();
        let mut st = self.lock();
        let num = |k: &str| args.get(k).and_then(|v| v.as_i64().or_else(|| scalar_text(v).parse().ok()));
        let mut events = Vec::new();
        let out = match name {
            "expire_tokens" | "revoke_tokens" => {
                let client = args.get("client_id").and_then(Value::as_str).map(String::from);
                let before = st.tokens.len();
                let hit = |c: &str| client.as_deref().is_none_or(|x| x == c);
                if name == "revoke_tokens" {
                    st.tokens.retain(|t| !hit(&t.client_id));
                    json!({ "revoked": before - st.tokens.len() })
                } else {
                    let mut n = 0;
                    for t in st.tokens.iter_mut().filter(|t| hit(&t.client_id)) {
                        t.expires_at = now - chrono::Duration::seconds(1);
                        n += 1;
                    }
                    json!({ "expired": n })
                }
            }
            "consume_calls" => {
                let n = num("n").ok_or_else(|| SimError::bad(NAME, "consume_calls needs 'n'"))?;
                let client = Self::client_of(&st, args);
                let company = num("company_id").unwrap_or(demo::COMPANY_ID);
                let spike_only = args.get("spike_only").and_then(Value::as_bool).unwrap_or(false);
                let key = format!("{client}|{company}");
                st.consume(&key, u32::try_from(n.max(0)).unwrap_or(u32::MAX), now, spike_only);
                json!({ "key": key, "windows": st.rate.get(&key) })
            }
            "rate_limit" => json!({ "windows": st.rate, "stats": st.rate_stats }),
            "set_status" => {
                let (resource, id) = Self::resource_args(args)?;
                let status = args.get("status").map(scalar_text).unwrap_or_default();
                let rec = Self::edit(&mut st, &resource, id, &json!({ "status": status }), now)?;
                events.extend(Self::event_for(&st, &resource, id, "update"));
                rec
            }
            "update" => {
                let (resource, id) = Self::resource_args(args)?;
                let fields = args.get("fields").cloned().unwrap_or(Value::Null);
                let rec = Self::edit(&mut st, &resource, id, &fields, now)?;
                events.extend(Self::event_for(&st, &resource, id, "update"));
                rec
            }
            "create" => {
                let resource = args.get("resource").map(scalar_text).unwrap_or_default();
                let key = Self::list_key(&resource)?;
                let mut rec =
                    args.get("record").cloned().ok_or_else(|| SimError::bad(NAME, "create needs 'record'"))?;
                let id = match rec.get("id").and_then(Value::as_i64) {
                    Some(id) if id > 0 => id,
                    _ => st.alloc_id(),
                };
                if let Value::Object(m) = &mut rec {
                    m.insert("id".into(), json!(id));
                    let t = json!(scenario::to_second(now));
                    m.entry("created_at").or_insert(t.clone());
                    m.entry("updated_at").or_insert(t);
                } else {
                    return Err(SimError::bad(NAME, "'record' must be an object"));
                }
                let s =
                    ProcoreScenario::from_json(&json!({ key: [rec.clone()] })).map_err(|e| SimError::bad(NAME, e))?;
                s.apply(&mut st, now).map_err(|e| SimError::bad(NAME, e))?;
                events.extend(Self::event_for(&st, &resource, id, "create"));
                rec
            }
            "delete" => {
                let (resource, id) = Self::resource_args(args)?;
                let t = json!(scenario::to_second(now));
                events.extend(Self::event_for(&st, &resource, id, "delete"));
                match resource.as_str() {
                    "vendor" => Self::edit(&mut st, &resource, id, &json!({"is_active": false}), now)?,
                    "project" => Self::edit(&mut st, &resource, id, &json!({"active": false}), now)?,
                    "requisition" => {
                        let before = st.requisitions.len();
                        st.requisitions.retain(|r| r.id != id);
                        if before == st.requisitions.len() {
                            return Err(SimError::bad(NAME, format!("no requisition {id}")));
                        }
                        json!({ "deleted": id })
                    }
                    "line_item_type" => {
                        st.line_item_types.retain(|r| r.id != id);
                        json!({ "deleted": id })
                    }
                    _ => Self::edit(&mut st, &resource, id, &json!({"deleted_at": t, "updated_at": t}), now)?,
                }
            }
            "fire_event" => {
                let resource_name = args.get("resource_name").map(scalar_text).unwrap_or_default();
                let resource_id =
                    num("resource_id").ok_or_else(|| SimError::bad(NAME, "fire_event needs 'resource_id'"))?;
                if resource_name.is_empty() {
                    return Err(SimError::bad(NAME, "fire_event needs 'resource_name' (e.g. \"Direct Costs\")"));
                }
                let kind = args
                    .get("event_type")
                    .map(scalar_text)
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "update".into());
                let project = num("project_id");
                let company = match num("company_id") {
                    Some(c) => c,
                    None => project.and_then(|p| st.project(p)).map(|p| p.company_id).unwrap_or(demo::COMPANY_ID),
                };
                let mut e = Event::new(&resource_name, resource_id, &kind, company, project);
                e.source_user_id = Some(WEB_USER_ID);
                events.push(e);
                json!({ "queued": true })
            }
            "flush_webhooks" => {
                for q in st.queues.values_mut() {
                    q.next_attempt_at = None;
                }
                let pending: usize = st.queues.values().map(|q| q.items.len()).sum();
                json!({ "pending": pending })
            }
            "deliveries" => {
                let hook = num("hook_id");
                let list: Vec<&state::DeliveryRecord> =
                    st.deliveries.iter().filter(|d| hook.is_none_or(|h| d.hook_id == h)).collect();
                json!({ "deliveries": list, "queues": st.queues })
            }
            "set_install" | "uninstall" => {
                let client = Self::client_of(&st, args);
                let company = num("company_id").unwrap_or(demo::COMPANY_ID);
                let app = st
                    .apps
                    .iter_mut()
                    .find(|a| a.client_id == client)
                    .ok_or_else(|| SimError::bad(NAME, format!("no app '{client}'")))?;
                if name == "uninstall" {
                    app.installs.retain(|i| i.company_id != company);
                    json!({ "installs": app.installs })
                } else {
                    let pos = match app.installs.iter().position(|i| i.company_id == company) {
                        Some(p) => p,
                        None => {
                            app.installs.push(Install { company_id: company, ..Default::default() });
                            app.installs.len() - 1
                        }
                    };
                    let inst = &mut app.installs[pos];
                    if let Some(p) = args.get("projects") {
                        inst.projects = serde_json::from_value(p.clone()).map_err(|e| {
                            SimError::bad(NAME, format!("'projects' must be null or a list of ids: {e}"))
                        })?;
                    }
                    if let Some(t) = args.get("tools") {
                        let tools: Vec<String> = serde_json::from_value(t.clone())
                            .map_err(|e| SimError::bad(NAME, format!("'tools' must be a list of names: {e}")))?;
                        if let Some(bad) = tools.iter().find(|t| !model::TOOLS.contains(&t.as_str())) {
                            return Err(SimError::bad(
                                NAME,
                                format!("unknown tool '{bad}' (known: {})", model::TOOLS.join(", ")),
                            ));
                        }
                        inst.tools = tools;
                    }
                    json!(inst)
                }
            }
            other => return Err(SimError::UnknownAction { system: NAME, action: other.into() }),
        };
        Ok((out, events))
    }
}

impl SimSystem for ProcoreSim {
    fn name(&self) -> &'static str {
        NAME
    }

    fn base_path(&self) -> String {
        String::new()
    }

    fn credentials(&self, base_url: &str) -> Value {
        serde_json::to_value(self.typed_credentials(base_url)).unwrap_or(Value::Null)
    }

    /// Settings: `company_id`; credentials: `client_id`, `client_secret`, `webhook_authorization`.
    fn connection(&self, base_url: &str) -> crate::common::SimConnection {
        let c = self.typed_credentials(base_url);
        let mut settings = serde_json::Map::new();
        settings.insert("company_id".into(), json!(c.company_id));
        let mut credentials = serde_json::Map::new();
        for (k, v) in [
            ("client_id", c.client_id),
            ("client_secret", c.client_secret),
            ("webhook_authorization", c.webhook_authorization),
        ] {
            credentials.insert(k.into(), Value::String(v));
        }
        crate::common::SimConnection { system: NAME.into(), base_url: base_url.into(), settings, credentials }
    }

    fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(api::handle).with_state(self)
    }

    fn route_of(&self, method: &Method, path: &str) -> Option<String> {
        api::resolve(&method.as_str().to_ascii_uppercase(), path).map(|(_, t, _)| t.to_string())
    }

    fn seed(&self, scenario: &Value) -> Result<(), SimError> {
        let s = ProcoreScenario::from_json(scenario).map_err(|e| SimError::bad(NAME, e))?;
        self.seed_scenario(&s)
    }

    fn snapshot(&self) -> Value {
        serde_json::to_value(&*self.lock()).unwrap_or(Value::Null)
    }

    fn restore(&self, snapshot: &Value) -> Result<(), SimError> {
        let st: ProcoreState =
            serde_json::from_value(snapshot.clone()).map_err(|e| SimError::bad(NAME, format!("bad snapshot: {e}")))?;
        st.switches.check().map_err(|e| SimError::bad(NAME, e))?;
        *self.lock() = st;
        self.start_workers();
        self.wake();
        Ok(())
    }

    fn reset(&self, to: ResetTo) -> Result<(), SimError> {
        match to {
            ResetTo::Initial => self.reset_to(Some(&self.initial)),
            ResetTo::Empty => self.reset_to(Some(&ProcoreScenario::base())),
            ResetTo::Demo => self.reset_to(Some(&demo_company())),
            ResetTo::Scenario(v) => {
                let s = ProcoreScenario::from_json(&v).map_err(|e| SimError::bad(NAME, e))?;
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
        if next.webhook_seed != st.switches.webhook_seed {
            st.rng = next.webhook_seed.max(1);
        }
        st.switches = next;
        Ok(serde_json::to_value(st.switches.clone()).unwrap_or(Value::Null))
    }

    fn actions(&self) -> Vec<&'static str> {
        vec![
            "expire_tokens",
            "revoke_tokens",
            "consume_calls",
            "rate_limit",
            "set_status",
            "update",
            "create",
            "delete",
            "fire_event",
            "flush_webhooks",
            "deliveries",
            "set_install",
            "uninstall",
        ]
    }

    fn action(self: Arc<Self>, name: String, args: Value) -> BoxFuture<'static, Result<Value, SimError>> {
        let result = self.run_action(&name, &args);
        Box::pin(async move {
            let (out, events) = result?;
            if !events.is_empty() {
                webhooks::dispatch(&self, events, self.kit.clock.now());
            }
            if name == "flush_webhooks" {
                self.wake();
            }
            Ok(out)
        })
    }

    fn fault_body(&self, status: u16) -> (String, String) {
        api::fault_body(status)
    }
}

crate::register_simulator!(
    PROCORE,
    crate::SimEntry {
        name: "procore",
        aliases: &[],
        start: |port, clock| {
            Box::pin(async move { Ok(ProcoreSim::builder().clock(clock).port(port).start().await?.into_dyn()) })
        },
    }
);
