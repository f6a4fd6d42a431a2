//! Acumatica Cloud ERP simulator: the contract-based REST API of one tenant.
//!
//! **The real system.** Acumatica serves each tenant's data at
//! `https://<host>[/<instance>]/entity/<Endpoint>/<Version>/<Entity>` (the system endpoint
//! `Default`, versions `20.200.001` … `25.200.001` in Contract Version 4; `26.200.001` is
//! Contract Version 5). Field values are wrapped (`{"value": …}`, `{}` for empty), records
//! carry `id` (their NoteID), `rowNumber`, `note`, `custom` and `_links`; lists take OData v3
//! `$filter`, `$select`, `$expand`, `$top`, `$skip`. Writes are PUT upserts located by id, key
//! fields or `$filter`; `If-None-Match: *` makes a PUT insert-only. Sign-in is OAuth 2.0
//! (password grant, rotating refresh tokens, one-hour access tokens) or a legacy session
//! cookie; the licence caps API sessions, concurrent requests and requests per minute (a queue
//! that delays, then declines with 429). Push notifications POST JSON to a configured URL with
//! one custom header, at most five attempts.
//!
//! **What this module reproduces.** Every **[C]** of `shared/research/acumatica.md` as the sheet
//! states it; every **[I]**/**[U]** is a switch in [`AcumaticaSwitches`] defaulting to the
//! sheet's §7 guess. Time comes only from the kit clock: token expiry, idle sessions, the
//! per-minute window, the 10-minute queue limit, long operations and push retries all run in
//! milliseconds under a manual or scaled clock.
//!
//! | file | what |
//! |---|---|
//! | `api.rs` | routes under the instance path, the generic list/get/PUT/DELETE/action operations, `GET /entity`, swagger, 404s |
//! | `schema.rs` | entities, fields, types, versions, drop-down lists |
//! | `record.rs` | stored values, `{"value":…}` rendering (CV4 and CV5), `$select`/`$expand`, reading PUT bodies |
//! | `query.rs` | `$filter` |
//! | `auth.rs` | OAuth token endpoint, cookie login/logout, sessions and the session cap |
//! | `throttle.rs` | the licence queue and the per-minute delay formula |
//! | `vendors.rs`, `bills.rs`, `orders.rs`, `gl.rs` | what each entity means: defaults, checks, numbering, state machines, `ReleaseBill`, `CompaniesStructure` |
//! | `push.rs` | push notifications |
//! | `state.rs` | the tenant and the error bodies |
//! | `scenario.rs` | the JSON scenario, snapshot/restore, the wholesale distributor generator |
//! | `cin7_seed.rs` | the same distributor on the Cin7 Core side (for the two-system demo) |
//! | `switches.rs` | the switches |
//!
//! **Entities**: `Vendor`, `Bill` (+ `Details`, `TaxDetails`, `Applications`), `PurchaseOrder`
//! (+ `Details`, `TaxDetails`), `Account`, `Subaccount`, and branches through the
//! `CompaniesStructure` inquiry — the `Default` endpoint has **no `Branch` entity** (a GET is a
//! 404) **[C: §0.1]**, so neither does the simulator.
//!
//! **Control actions** (`POST /__sim/actions/{name}`): `expire_tokens`, `revoke_tokens`,
//! `sessions`, `close_sessions`, `licence` (throttle counters and queue), `long_operations`,
//! `set_rights` `{user, entity, rights: none|read|edit}`, `configure_push` `{name, url,
//! header_name, header_value, queries:[{name, entity}]}`, `remove_push` `{name}`,
//! `push_deliveries`, `redeliver_push` `{id}` (a duplicate delivery), `edit_record` `{entity,
//! id | keys:[…], fields:{Field: {"value": …}}}` (a clerk's edit in the web app: no checks,
//! new `LastModifiedDateTime`, a push), `release_bill` `{ref, type?}`, `pay_bill` `{ref, type?,
//! amount?}`, `receive_po` `{nbr, type?}`, `cancel_po` `{nbr, type?}`, `approve` `{entity, id |
//! keys}`.
//!
//! Not modelled: files and attachments, `$adHocSchema`, `$custom` and `cf.*` custom fields,
//! `PATCH`, `ReverseBill`/`ReleaseRetainage`, taxes (every document is tax-free), receipts
//! (the `receive_po` action stands in), the authorization-code and implicit flows,
//! `api:concurrent_access`, archived records.

pub mod api;
pub mod auth;
pub mod bills;
pub mod cin7_seed;
pub mod gl;
pub mod orders;
pub mod push;
pub mod query;
pub mod record;
pub mod scenario;
pub mod schema;
pub mod state;
pub mod switches;
pub mod throttle;
pub mod vendors;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::Method;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::json::scalar_text;
use crate::common::{BoxFuture, ResetTo, SimClock, SimError, SimHandle, SimKit, SimSystem};
pub use scenario::{DEFAULT_SEED, demo, distributor};
pub use state::AcuState;
pub use switches::AcumaticaSwitches;

use push::Commit;
use record::{Record, Scalar, Values};

const NAME: &str = "acumatica";

/// What an Acumatica client needs (the shape `credentials` takes in `mlc sim` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcumaticaCredentials {
    /// `http://127.0.0.1:PORT/AcumaticaERP` (the instance URL).
    pub base_url: String,
    /// Endpoint name.
    pub endpoint: String,
    /// The newest Contract Version 4 version served.
    pub version: String,
    /// Tenant login name.
    pub tenant: String,
    /// Branch.
    pub branch: String,
    /// API user.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Connected application (`<GUID>@<Tenant>`).
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// The demo push-notification header value (checked by the receiving connector).
    pub webhook_secret: String,
    /// The header that carries it.
    pub webhook_header: String,
}

/// The Acumatica simulator.
pub struct AcumaticaSim {
    pub(crate) kit: SimKit,
    state: Mutex<AcuState>,
    pub(crate) gate: throttle::Gate,
    initial: Value,
    initial_switches: AcumaticaSwitches,
}

impl std::fmt::Debug for AcumaticaSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcumaticaSim").finish_non_exhaustive()
    }
}

/// Builds an [`AcumaticaSim`].
#[derive(Debug, Clone, Default)]
pub struct AcumaticaSimBuilder {
    kit: Option<SimKit>,
    clock: Option<SimClock>,
    scenario: Option<Value>,
    switches: Option<AcumaticaSwitches>,
    port: u16,
}

impl AcumaticaSimBuilder {
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

    /// Seed this JSON scenario instead of the demo distributor.
    pub fn scenario(mut self, s: Value) -> Self {
        self.scenario = Some(s);
        self
    }

    /// Only the tenant's configuration and reference data: no vendors, bills or orders.
    pub fn empty(self) -> Self {
        self.scenario(scenario::reference_data(DEFAULT_SEED))
    }

    /// Starting switches (a scenario's `switches` are applied on top).
    pub fn switches(mut self, s: AcumaticaSwitches) -> Self {
        self.switches = Some(s);
        self
    }

    /// Port on 127.0.0.1 (0 = any free one).
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }

    /// Build without serving.
    pub fn build(self) -> Result<Arc<AcumaticaSim>, SimError> {
        let kit = self.kit.unwrap_or_else(|| SimKit::new(self.clock.unwrap_or_default()));
        let scenario = self.scenario.unwrap_or_else(|| distributor(DEFAULT_SEED));
        let switches = self.switches.unwrap_or_default();
        let mut st = scenario::fresh(switches.clone());
        scenario::apply(&mut st, &scenario, kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        let initial_switches = st.switches.clone();
        Ok(Arc::new(AcumaticaSim {
            kit,
            state: Mutex::new(st),
            gate: throttle::Gate::default(),
            initial: scenario,
            initial_switches,
        }))
    }

    /// Build and serve.
    pub async fn start(self) -> Result<SimHandle<AcumaticaSim>, SimError> {
        let port = self.port;
        let sim = self.build()?;
        let kit = sim.kit.clone();
        crate::common::start(sim, kit, port).await
    }
}

impl AcumaticaSim {
    /// A builder with the defaults: real clock, the demo distributor.
    pub fn builder() -> AcumaticaSimBuilder {
        AcumaticaSimBuilder::default()
    }

    /// Lock the tenant for in-process seeding or inspection. Do not hold it across an await.
    pub fn lock(&self) -> MutexGuard<'_, AcuState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current switches.
    pub fn switches(&self) -> AcumaticaSwitches {
        self.lock().switches.clone()
    }

    /// Change switches in process.
    pub fn set_switch(&self, f: impl FnOnce(&mut AcumaticaSwitches)) {
        f(&mut self.lock().switches);
    }

    /// The kit (clock, faults, calls, webhooks).
    pub fn kit(&self) -> &SimKit {
        &self.kit
    }

    /// Typed credentials for a base URL.
    pub fn typed_credentials(&self, base_url: &str) -> AcumaticaCredentials {
        let st = self.lock();
        let user = st.users.first();
        let app = st.apps.first();
        let newest = st
            .switches
            .versions
            .iter()
            .max_by_key(|v| schema::version_number(v).unwrap_or(0))
            .cloned()
            .unwrap_or_else(|| "24.200.001".into());
        AcumaticaCredentials {
            base_url: base_url.into(),
            endpoint: "Default".into(),
            version: newest,
            tenant: st.tenant.name.clone(),
            branch: user.map(|u| u.branch.clone()).unwrap_or_default(),
            username: user.map(|u| u.name.clone()).unwrap_or_default(),
            password: user.map(|u| u.password.clone()).unwrap_or_default(),
            client_id: app.map(|a| a.client_id.clone()).unwrap_or_default(),
            client_secret: app.map(|a| a.secret.clone()).unwrap_or_default(),
            webhook_secret: demo::PUSH_SECRET.into(),
            webhook_header: demo::PUSH_HEADER.into(),
        }
    }

    /// Merge a JSON scenario.
    pub fn seed_json(&self, v: &Value) -> Result<(), SimError> {
        let now = self.kit.clock.now();
        scenario::apply(&mut self.lock(), v, now).map_err(|e| SimError::bad(NAME, e))
    }

    /// Records of an entity (for test assertions).
    pub fn records(&self, entity: &str) -> Vec<Record> {
        let st = self.lock();
        st.records.get(entity).cloned().unwrap_or_default()
    }

    fn reset_to(&self, scenario: Option<&Value>) -> Result<(), SimError> {
        let mut st = scenario::fresh(self.initial_switches.clone());
        if let Some(s) = scenario {
            scenario::apply(&mut st, s, self.kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        }
        *self.lock() = st;
        Ok(())
    }

    /// Announce commits made outside the API (control actions).
    fn announce(&self, st: &mut AcuState, commits: &[Commit]) {
        let now = self.kit.clock.now();
        let out = push::prepare(st, commits, now);
        push::send(&self.kit, out);
    }

    fn run_action(self: &Arc<Self>, name: &str, args: &Value) -> Result<Value, SimError> {
        let s = |k: &str| args.get(k).map(scalar_text).unwrap_or_default();
        let now = self.kit.clock.now();
        let mut st = self.lock();
        match name {
            "expire_tokens" => Ok(json!({ "expired": auth::expire_tokens(&mut st, now) })),
            "revoke_tokens" => Ok(json!({ "revoked": auth::revoke_all(&mut st) })),
            "sessions" => {
                let idle = st.switches.session_idle_timeout_secs;
                let list: Vec<Value> = st
                    .sessions
                    .iter()
                    .map(|x| json!({"id": x.id, "user": x.user, "kind": x.kind, "active": x.active(now, idle), "closed": x.closed}))
                    .collect();
                Ok(json!({ "active": auth::active_sessions(&st, now), "sessions": list }))
            }
            "close_sessions" => {
                let n = st.sessions.iter().filter(|x| !x.closed).count();
                for x in &mut st.sessions {
                    x.closed = true;
                }
                st.access_tokens.clear();
                Ok(json!({ "closed": n }))
            }
            "licence" => {
                let (running, waiting) = self.gate.load();
                Ok(json!({ "counters": st.licence, "running": running, "waiting": waiting,
                           "window": st.window.len(), "sessions": auth::active_sessions(&st, now) }))
            }
            "long_operations" => Ok(json!({ "operations": st.operations })),
            "set_rights" => {
                let (user, entity) = (s("user"), s("entity"));
                let rights: state::Rights = serde_json::from_value(json!(s("rights")))
                    .map_err(|_| SimError::bad(NAME, "rights must be none, read or edit"))?;
                let u = st
                    .users
                    .iter_mut()
                    .find(|u| u.name.eq_ignore_ascii_case(&user))
                    .ok_or_else(|| SimError::bad(NAME, format!("no user '{user}'")))?;
                let e = schema::entity(&entity).ok_or_else(|| SimError::bad(NAME, format!("no entity '{entity}'")))?;
                u.rights.insert(e.name.to_string(), rights);
                Ok(json!({ "user": u.name, "rights": u.rights }))
            }
            "configure_push" => {
                let d: push::Destination = serde_json::from_value(args.clone())
                    .map_err(|e| SimError::bad(NAME, format!("configure_push: {e}")))?;
                st.push.retain(|x| !x.name.eq_ignore_ascii_case(&d.name));
                st.push.push(d.clone());
                Ok(serde_json::to_value(d).unwrap_or(Value::Null))
            }
            "remove_push" => {
                let before = st.push.len();
                st.push.retain(|x| !x.name.eq_ignore_ascii_case(&s("name")));
                Ok(json!({ "removed": before - st.push.len() }))
            }
            "push_deliveries" => {
                let all: Vec<_> =
                    self.kit.webhooks.deliveries().into_iter().filter(|d| d.event.starts_with("push:")).collect();
                Ok(json!({ "deliveries": all }))
            }
            "redeliver_push" => {
                let id = args
                    .get("id")
                    .and_then(Value::as_u64)
                    .ok_or_else(|| SimError::bad(NAME, "redeliver_push needs 'id'"))?;
                let d = self.kit.webhooks.get(id).ok_or_else(|| SimError::bad(NAME, format!("no delivery {id}")))?;
                let dest = st
                    .push
                    .iter()
                    .find(|x| x.url == d.url)
                    .cloned()
                    .ok_or_else(|| SimError::bad(NAME, "that delivery's destination is gone"))?;
                let mut headers = std::collections::BTreeMap::new();
                if !dest.header_name.is_empty() {
                    headers.insert(dest.header_name.clone(), dest.header_value.clone());
                }
                let target = crate::common::WebhookTarget {
                    url: dest.url,
                    username: None,
                    password: None,
                    headers,
                    retries: 0,
                    timeout_ms: st.switches.push_timeout_ms,
                    retry_delay_secs: 0,
                };
                let body = serde_json::to_vec(&d.body).unwrap_or_default();
                let (nid, _) =
                    crate::common::webhook::send(&self.kit, &d.event, target, "application/json; charset=utf-8", body);
                Ok(json!({ "delivery": nid }))
            }
            "edit_record" => {
                let e = schema::entity(&s("entity"))
                    .ok_or_else(|| SimError::bad(NAME, "edit_record needs a known 'entity'"))?;
                let i = find_record(&st, e, args)?;
                let old = st.list(e)[i].clone();
                let mode =
                    record::ReadMode { version: 25_200, offset: st.offset(), seed: true, convert_offset_dates: false };
                let fields = args.get("fields").cloned().unwrap_or_else(|| json!({}));
                let ch = record::read_body(e, &fields, &mode, true)
                    .map_err(|b| SimError::bad(NAME, format!("{}: {}", b.key, b.message)))?;
                let mut rec = old.clone();
                record::apply_obj(&mut rec.main, &ch.main);
                let t = st.stamp(now);
                rec.set("LastModifiedDateTime", Scalar::Time(t));
                st.list_mut(e)[i] = rec.clone();
                let out = record::render(
                    e,
                    &rec,
                    1,
                    &record::View {
                        version: 25_200,
                        offset: st.offset(),
                        links_base: "",
                        select: None,
                        expand: &vec![],
                        errors: None,
                        only: None,
                    },
                );
                self.announce(&mut st, &[Commit { entity: e, old: Some(old), new: Some(rec), user: "clerk".into() }]);
                Ok(out)
            }
            "release_bill" | "pay_bill" | "receive_po" | "cancel_po" | "approve" => {
                let e = match name {
                    "release_bill" | "pay_bill" => &schema::BILL,
                    "receive_po" | "cancel_po" => &schema::PURCHASE_ORDER,
                    _ => schema::entity(&s("entity")).ok_or_else(|| SimError::bad(NAME, "approve needs 'entity'"))?,
                };
                let i = find_record(&st, e, args)?;
                let old = st.list(e)[i].clone();
                let mut commits = Vec::new();
                match name {
                    "release_bill" => {
                        bills::check_release(&old).map_err(|m| SimError::bad(NAME, m))?;
                        for p in bills::release(&mut st, i) {
                            let before = st.list(&schema::PURCHASE_ORDER)[p].clone();
                            let t = st.stamp(now);
                            st.list_mut(&schema::PURCHASE_ORDER)[p].set("LastModifiedDateTime", Scalar::Time(t));
                            let after = st.list(&schema::PURCHASE_ORDER)[p].clone();
                            commits.push(Commit {
                                entity: &schema::PURCHASE_ORDER,
                                old: Some(before),
                                new: Some(after),
                                user: "clerk".into(),
                            });
                        }
                    }
                    "pay_bill" => {
                        let r = &mut st.list_mut(e)[i];
                        if r.s("Status") != "N" {
                            return Err(SimError::bad(NAME, "only an Open bill can be paid"));
                        }
                        let amount = args
                            .get("amount")
                            .and_then(|a| scalar_text(a).parse::<rust_decimal::Decimal>().ok())
                            .unwrap_or_else(|| r.d("Balance"));
                        let bal = (r.d("Balance") - amount).max(rust_decimal::Decimal::ZERO);
                        r.set("Balance", Scalar::Dec(bal));
                        if bal.is_zero() {
                            r.set_s("Status", "C");
                        }
                        let mut row = record::Row { id: record::new_guid(), ..Default::default() };
                        row.set_s("DocType", "Check");
                        row.set_s("ReferenceNbr", format!("CHK{:05}", st.seq.contact + 1));
                        row.set("AmountPaid", Scalar::Dec(amount));
                        row.set("Balance", Scalar::Dec(bal));
                        row.set_s("Status", "Closed");
                        st.seq.contact += 1;
                        st.list_mut(e)[i].rows_mut("Applications").push(row);
                    }
                    "receive_po" => orders::receive(&mut st.list_mut(e)[i]).map_err(|m| SimError::bad(NAME, m))?,
                    "cancel_po" => {
                        let r = &mut st.list_mut(e)[i];
                        orders::editable(r).map_err(|m| SimError::bad(NAME, m))?;
                        r.set_s("Status", "L");
                        for l in r.rows_mut("Details") {
                            l.set("Cancelled", Scalar::Bool(true));
                        }
                    }
                    _ => {
                        let r = &mut st.list_mut(e)[i];
                        match (e.name, r.s("Status").as_str()) {
                            ("Bill", "D") => r.set_s("Status", "B"),
                            ("PurchaseOrder", "P") => r.set_s("Status", "N"),
                            (_, other) => {
                                return Err(SimError::bad(NAME, format!("nothing to approve: status {other}")));
                            }
                        }
                    }
                }
                let t = st.stamp(now);
                st.list_mut(e)[i].set("LastModifiedDateTime", Scalar::Time(t));
                let after = st.list(e)[i].clone();
                commits.insert(0, Commit { entity: e, old: Some(old), new: Some(after.clone()), user: "clerk".into() });
                self.announce(&mut st, &commits);
                let status =
                    e.field("Status", 25_200).map(|f| f.label_of(&after.s("Status")).to_string()).unwrap_or_default();
                Ok(json!({ "id": after.main.id, "status": status }))
            }
            other => Err(SimError::UnknownAction { system: NAME, action: other.into() }),
        }
    }
}

fn find_record(st: &AcuState, e: &'static schema::Entity, args: &Value) -> Result<usize, SimError> {
    let s = |k: &str| args.get(k).map(scalar_text).unwrap_or_default();
    if !s("id").is_empty() {
        return st
            .by_id(e, &s("id"))
            .ok_or_else(|| SimError::bad(NAME, format!("no {} with id '{}'", e.name, s("id"))));
    }
    let mut keys: Vec<String> = match args.get("keys") {
        Some(Value::Array(a)) => a.iter().map(scalar_text).collect(),
        _ => Vec::new(),
    };
    if keys.is_empty() {
        let (kind, default_kind, nbr) = match e.name {
            "Bill" => (s("type"), "INV", s("ref")),
            "PurchaseOrder" => (s("type"), "RO", s("nbr")),
            _ => (String::new(), "", String::new()),
        };
        if !nbr.is_empty() {
            keys = vec![if kind.is_empty() { default_kind.to_string() } else { kind }, nbr];
        }
    }
    let stored: Vec<String> = e
        .keys
        .iter()
        .zip(&keys)
        .map(|(k, v)| match e.field(k, 25_200) {
            Some(f) if matches!(f.ty, schema::Ty::Drop(_)) => {
                f.code_of(v, true).map(str::to_string).unwrap_or_else(|| v.clone())
            }
            _ => v.clone(),
        })
        .collect();
    st.by_keys(e, &stored).ok_or_else(|| SimError::bad(NAME, format!("no {} with keys {keys:?}", e.name)))
}

impl SimSystem for AcumaticaSim {
    fn name(&self) -> &'static str {
        NAME
    }

    fn base_path(&self) -> String {
        api::SITE.into()
    }

    fn credentials(&self, base_url: &str) -> Value {
        serde_json::to_value(self.typed_credentials(base_url)).unwrap_or(Value::Null)
    }

    /// Settings: `endpoint`, `version`, `tenant`, `branch`, `push_header`; credentials:
    /// `username`, `password`, `client_id`, `client_secret`, `webhook_secret` (the connection's
    /// own split, so a world's configuration is what a customer would write).
    fn connection(&self, base_url: &str) -> crate::common::SimConnection {
        let c = self.typed_credentials(base_url);
        let mut settings = serde_json::Map::new();
        for (k, v) in [
            ("endpoint", c.endpoint),
            ("version", c.version),
            ("tenant", c.tenant),
            ("branch", c.branch),
            ("push_header", c.webhook_header),
        ] {
            settings.insert(k.into(), Value::String(v));
        }
        let mut credentials = serde_json::Map::new();
        for (k, v) in [
            ("username", c.username),
            ("password", c.password),
            ("client_id", c.client_id),
            ("client_secret", c.client_secret),
            ("webhook_secret", c.webhook_secret),
        ] {
            credentials.insert(k.into(), Value::String(v));
        }
        crate::common::SimConnection { system: NAME.into(), base_url: base_url.into(), settings, credentials }
    }

    fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(api::handle).with_state(self)
    }

    fn route_of(&self, method: &Method, path: &str) -> Option<String> {
        let segs = api::split_site(path)?;
        api::parse_route(&method.as_str().to_ascii_uppercase(), &segs).map(|(_, t)| t)
    }

    fn seed(&self, scenario: &Value) -> Result<(), SimError> {
        self.seed_json(scenario)
    }

    fn snapshot(&self) -> Value {
        scenario::snapshot(&self.lock())
    }

    fn reset(&self, to: ResetTo) -> Result<(), SimError> {
        match to {
            ResetTo::Initial => self.reset_to(Some(&self.initial.clone())),
            ResetTo::Empty => self.reset_to(Some(&scenario::reference_data(DEFAULT_SEED))),
            ResetTo::Demo => self.reset_to(Some(&distributor(DEFAULT_SEED))),
            ResetTo::Scenario(v) => self.reset_to(Some(&v)),
        }
    }

    fn restore(&self, snapshot: &Value) -> Result<(), SimError> {
        let mut st = scenario::fresh(self.initial_switches.clone());
        scenario::apply(&mut st, snapshot, self.kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        *self.lock() = st;
        Ok(())
    }

    fn switches(&self) -> Value {
        serde_json::to_value(self.lock().switches.clone()).unwrap_or(Value::Null)
    }

    fn set_switches(&self, patch: &Value) -> Result<Value, SimError> {
        let mut st = self.lock();
        let next = st.switches.merged(patch).map_err(|e| SimError::bad(NAME, e))?;
        if next.push_duplicate_seed != st.switches.push_duplicate_seed {
            st.push_rng = next.push_duplicate_seed.max(1);
        }
        st.switches = next;
        Ok(serde_json::to_value(st.switches.clone()).unwrap_or(Value::Null))
    }

    fn actions(&self) -> Vec<&'static str> {
        vec![
            "expire_tokens",
            "revoke_tokens",
            "sessions",
            "close_sessions",
            "licence",
            "long_operations",
            "set_rights",
            "configure_push",
            "remove_push",
            "push_deliveries",
            "redeliver_push",
            "edit_record",
            "release_bill",
            "pay_bill",
            "receive_po",
            "cancel_po",
            "approve",
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

/// Simulated-time helper for tests and the demo: the token lifetime as a duration.
pub fn token_lifetime(sim: &AcumaticaSim) -> Duration {
    Duration::seconds(sim.lock().switches.access_token_lifetime_secs)
}

crate::register_simulator!(
    ACUMATICA,
    crate::SimEntry {
        name: "acumatica",
        aliases: &["acumatica-erp", "myob-acumatica"],
        start: |port, clock| {
            Box::pin(async move { Ok(AcumaticaSim::builder().clock(clock).port(port).start().await?.into_dyn()) })
        },
    }
);
