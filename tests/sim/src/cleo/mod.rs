//! Cleo Integration Cloud (CIC) simulator.
//!
//! **The real system.** CIC is Cleo's hosted B2B integration platform; trading partners reach it
//! through *Partner Mailboxes* (FTP/SFTP, or the Cleo Portal over HTTPS) whose named folders carry
//! Upload and/or Download permissions. Harmony, VLTrader and LexiCom (the on-premises products)
//! share one code base, "VersaLex", and its REST API: `POST /api/authentication` (a password
//! grant for a bearer token), collections `{totalResults, resources}` paged with
//! `startIndex`/`count` and filtered SCIM-style (`alias eq "x"`), HAL `_links.self.href` with
//! server-relative hrefs, 201/200/204, errors as `{"message": …}`. The tenant URL is
//! `https://{tenant}.cleointegration.com` (a second Cleo domain exists, so the base URL is a full
//! configuration value). The file endpoints, token lifetime and rate limit are not public.
//!
//! **What this module reproduces.** Every **[C]** of the fact sheet (`shared/research/cleo.md`)
//! exactly; every **[I]**/**[U]** behaviour is a switch in [`CleoSwitches`] with the sheet's
//! default; the faults of the kit's [`crate::common::FaultTable`] plus Cleo's own (tokens revoked
//! mid-stream, truncated downloads, files arriving between pages); a scripted trading partner per
//! mailbox that collects our 810s and answers with 997s and sends its own 810s, all through
//! `mlc-x12`. Time comes only from the kit clock (token expiry, the sliding rate window, the
//! partners' polls), so a manual clock runs a day in milliseconds.
//!
//! | file | what |
//! |---|---|
//! | `api.rs` | routes, per-path rate limit, bearer check, answers |
//! | `auth.rs` | `POST /api/authentication`: password and refresh grants, 2FA, lockout, expiry |
//! | `files.rs` | mailboxes, folders, files: listing, upload, download, delete, permissions |
//! | `partner.rs` | the scripted trading partner (997s for our 810s, 810s of its own) |
//! | `state.rs` | the tenant, ids, rate windows, `{"message"}` errors |
//! | `scenario.rs` | JSON scenario and the deterministic demo company |
//! | `deltek_seed.rs` | the Deltek side of the demo company (clients, projects, AR, vendor) |
//! | `switches.rs` | the switches and their defaults |
//!
//! **Control actions** (`POST /__sim/actions/{name}`): `partner_tick` `{mailbox?}` (every partner,
//! or one, polls now), `partner_send_810` `{mailbox, count?, variant?: valid|broken|duplicate|
//! renamed_duplicate}`, `partner_log` `{mailbox}`, `drop_file` `{mailbox, folder, name, text |
//! base64}`, `files` `{mailbox, folder}` (names, sizes, hashes), `revoke_tokens` (every token
//! refused from now: a 401 mid-stream), `truncate_downloads` `{n}`, `add_between_pages`
//! `{mailbox, folder, n}` (n files appear right after the next listing page of that folder),
//! `set_user` `{username, password?, two_factor?, password_expired?, mailboxes?, unlock?}`,
//! `rate_limit`, `grants` (grant types seen at the token endpoint).

pub mod api;
pub mod auth;
pub mod deltek_seed;
pub mod files;
pub mod partner;
pub mod scenario;
pub mod state;
pub mod switches;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use axum::Router;
use axum::http::Method;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::common::json::scalar_text;
use crate::common::{BoxFuture, ResetTo, SimClock, SimError, SimHandle, SimKit, SimSystem};
pub use scenario::{CleoScenario, DemoCompany, DemoPartner, demo, demo_company};
pub use state::{CleoState, Folder, Mailbox, StoredFile, User};
pub use switches::CleoSwitches;

const NAME: &str = "cleo";

/// What a Cleo client needs (the shape `credentials` takes in `mlc sim` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleoCredentials {
    /// `http://127.0.0.1:PORT` (the API is under `/api`).
    pub base_url: String,
    pub username: String,
    pub password: String,
}

/// The Cleo Integration Cloud simulator.
pub struct CleoSim {
    kit: SimKit,
    state: Mutex<CleoState>,
    initial: CleoScenario,
    initial_switches: CleoSwitches,
}

impl std::fmt::Debug for CleoSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CleoSim").finish_non_exhaustive()
    }
}

/// Builds a [`CleoSim`].
#[derive(Debug, Clone, Default)]
pub struct CleoSimBuilder {
    kit: Option<SimKit>,
    clock: Option<SimClock>,
    scenario: Option<CleoScenario>,
    switches: Option<CleoSwitches>,
    port: u16,
}

impl CleoSimBuilder {
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
    pub fn scenario(mut self, s: CleoScenario) -> Self {
        self.scenario = Some(s);
        self
    }

    /// Only the demo logins: no mailboxes.
    pub fn empty(self) -> Self {
        self.scenario(CleoScenario::logins_only())
    }

    /// Starting switches.
    pub fn switches(mut self, s: CleoSwitches) -> Self {
        self.switches = Some(s);
        self
    }

    /// Port on 127.0.0.1 (0 = any free one).
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }

    /// Build without serving.
    pub fn build(self) -> Result<Arc<CleoSim>, SimError> {
        let kit = self.kit.unwrap_or_else(|| SimKit::new(self.clock.unwrap_or_default()));
        let scenario = self.scenario.unwrap_or_else(|| demo(scenario::DEFAULT_SEED));
        let switches = self.switches.unwrap_or_default();
        switches.check().map_err(|e| SimError::bad(NAME, e))?;
        let mut st = CleoState::empty(switches);
        scenario.apply(&mut st, kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        let initial_switches = st.switches.clone();
        Ok(Arc::new(CleoSim { kit, state: Mutex::new(st), initial: scenario, initial_switches }))
    }

    /// Build and serve; the scripted partners start polling on the simulated clock.
    pub async fn start(self) -> Result<SimHandle<CleoSim>, SimError> {
        let port = self.port;
        let sim = self.build()?;
        let kit = sim.kit.clone();
        spawn_partners(Arc::downgrade(&sim), kit.clone());
        crate::common::start(sim, kit, port).await
    }
}

/// The partners' poll loop: every `partner_interval_secs` of simulated time, while `partner_auto`.
fn spawn_partners(sim: Weak<CleoSim>, kit: SimKit) {
    tokio::spawn(async move {
        loop {
            let interval = match sim.upgrade() {
                Some(s) => s.lock().switches.partner_interval_secs,
                None => return,
            };
            tokio::select! {
                _ = kit.clock.sleep(chrono::Duration::seconds(interval as i64)) => {}
                _ = kit.shutdown.wait() => return,
            }
            let Some(s) = sim.upgrade() else { return };
            let now = kit.clock.now();
            let mut st = s.lock();
            if st.switches.partner_auto {
                partner::tick_all(&mut st, now);
            }
        }
    });
}

impl CleoSim {
    /// A builder with the defaults: real clock, the demo company.
    pub fn builder() -> CleoSimBuilder {
        CleoSimBuilder::default()
    }

    /// Lock the tenant for in-process seeding or inspection. Do not hold it across an await.
    pub fn lock(&self) -> MutexGuard<'_, CleoState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The kit (clock, faults, calls).
    pub fn kit(&self) -> &SimKit {
        &self.kit
    }

    /// The current switches.
    pub fn switches(&self) -> CleoSwitches {
        self.lock().switches.clone()
    }

    /// Change switches in process.
    pub fn set_switch(&self, f: impl FnOnce(&mut CleoSwitches)) {
        f(&mut self.lock().switches);
    }

    /// Merge a scenario built in Rust.
    pub fn seed_scenario(&self, s: &CleoScenario) -> Result<(), SimError> {
        let now = self.kit.clock.now();
        s.apply(&mut self.lock(), now).map_err(|e| SimError::bad(NAME, e))
    }

    /// Typed credentials (the demo service account) for a base URL.
    pub fn typed_credentials(&self, base_url: &str) -> CleoCredentials {
        CleoCredentials {
            base_url: base_url.into(),
            username: scenario::demo::USERNAME.into(),
            password: scenario::demo::PASSWORD.into(),
        }
    }

    /// Files of a mailbox folder: `(name, bytes)` in storage order.
    pub fn files(&self, mailbox: &str, folder: &str) -> Vec<(String, Vec<u8>)> {
        let st = self.lock();
        st.mailbox_by_alias(mailbox)
            .and_then(|m| st.mailboxes[m].folder(folder))
            .map(|f| f.files.iter().map(|x| (x.name.clone(), x.content.clone())).collect())
            .unwrap_or_default()
    }

    /// Every partner polls now.
    pub fn partner_tick(&self) -> Value {
        let now = self.kit.clock.now();
        partner::tick_all(&mut self.lock(), now)
    }

    fn reset_to(&self, scenario: Option<&CleoScenario>) -> Result<(), SimError> {
        let mut st = CleoState::empty(self.initial_switches.clone());
        if let Some(s) = scenario {
            s.apply(&mut st, self.kit.clock.now()).map_err(|e| SimError::bad(NAME, e))?;
        }
        *self.lock() = st;
        Ok(())
    }

    fn mailbox_arg(st: &CleoState, args: &Value) -> Result<usize, SimError> {
        let alias = args.get("mailbox").map(scalar_text).unwrap_or_default();
        st.mailbox_by_alias(&alias).ok_or_else(|| SimError::bad(NAME, format!("no mailbox '{alias}'")))
    }

    fn run_action(&self, name: &str, args: &Value) -> Result<Value, SimError> {
        let s = |k: &str| args.get(k).map(scalar_text).unwrap_or_default();
        let now = self.kit.clock.now();
        let bad = |m: String| SimError::bad(NAME, m);
        match name {
            "partner_tick" => {
                let mut st = self.lock();
                if s("mailbox").is_empty() {
                    Ok(partner::tick_all(&mut st, now))
                } else {
                    let m = Self::mailbox_arg(&st, args)?;
                    Ok(partner::tick(&mut st, m, now))
                }
            }
            "partner_send_810" => {
                let mut st = self.lock();
                let m = Self::mailbox_arg(&st, args)?;
                let count = args.get("count").and_then(Value::as_u64).unwrap_or(1) as usize;
                let variant = partner::Variant::parse(&s("variant"))
                    .ok_or_else(|| bad(format!("unknown variant '{}'", s("variant"))))?;
                partner::send_810(&mut st, m, count, variant, now).map_err(bad)
            }
            "partner_log" => {
                let st = self.lock();
                let m = Self::mailbox_arg(&st, args)?;
                Ok(serde_json::to_value(&st.mailboxes[m].partner).unwrap_or(Value::Null))
            }
            "drop_file" => {
                let mut st = self.lock();
                let m = Self::mailbox_arg(&st, args)?;
                let content = match args.get("base64").and_then(Value::as_str) {
                    Some(b) => base64::engine::general_purpose::STANDARD
                        .decode(b.trim())
                        .map_err(|e| bad(format!("drop_file: base64: {e}")))?,
                    None => s("text").into_bytes(),
                };
                let (folder, file) = (s("folder"), s("name"));
                if let Some(p) = files::bad_name(&file) {
                    return Err(bad(format!("drop_file: {p}")));
                }
                let id = partner::drop_file(&mut st, m, &folder, &file, content, now)
                    .ok_or_else(|| bad(format!("no folder '{folder}'")))?;
                Ok(json!({ "id": id }))
            }
            "files" => {
                let st = self.lock();
                let m = Self::mailbox_arg(&st, args)?;
                let folder = s("folder");
                let f = st.mailboxes[m].folder(&folder).ok_or_else(|| bad(format!("no folder '{folder}'")))?;
                let list: Vec<Value> = f
                    .files
                    .iter()
                    .map(|x| {
                        json!({ "id": x.id, "name": x.name, "size": x.content.len(),
                                     "sha256": state::sha256_hex(&x.content), "origin": x.origin })
                    })
                    .collect();
                Ok(json!({ "files": list }))
            }
            "revoke_tokens" => {
                let mut st = self.lock();
                let n = st.tokens.len() + st.refresh_tokens.len();
                st.tokens.clear();
                st.refresh_tokens.clear();
                Ok(json!({ "revoked": n }))
            }
            "truncate_downloads" => {
                let n = args.get("n").and_then(Value::as_u64).unwrap_or(1) as u32;
                self.lock().truncate_downloads = n;
                Ok(json!({ "truncate_downloads": n }))
            }
            "add_between_pages" => {
                let mut st = self.lock();
                let m = Self::mailbox_arg(&st, args)?;
                let folder = s("folder");
                let id = st.mailboxes[m]
                    .folder(&folder)
                    .map(|f| f.id.clone())
                    .ok_or_else(|| bad(format!("no folder '{folder}'")))?;
                let n = args.get("n").and_then(Value::as_u64).unwrap_or(1) as u32;
                st.growth.push(state::Growth { folder_id: id, n });
                Ok(json!({ "armed": n }))
            }
            "set_user" => {
                let mut st = self.lock();
                let username = s("username");
                if username.is_empty() {
                    return Err(bad("set_user needs 'username'".into()));
                }
                let mut u =
                    st.user_idx(&username).map(|i| st.users[i].clone()).unwrap_or_else(|| User::new(&username, ""));
                if let Some(p) = args.get("password").and_then(Value::as_str) {
                    u.password = p.into();
                }
                if let Some(b) = args.get("two_factor").and_then(Value::as_bool) {
                    u.two_factor = b;
                }
                if let Some(b) = args.get("password_expired").and_then(Value::as_bool) {
                    u.password_expired = b;
                }
                if let Some(list) = args.get("mailboxes").and_then(Value::as_array) {
                    u.mailboxes = list.iter().map(scalar_text).collect();
                }
                if args.get("unlock").and_then(Value::as_bool) == Some(true) {
                    u.locked_until = None;
                    u.failures.clear();
                }
                st.put_user(u.clone());
                Ok(serde_json::to_value(u).unwrap_or(Value::Null))
            }
            "rate_limit" => Ok(api::rate_view(&self.lock(), now)),
            "grants" => Ok(json!({ "grants": self.lock().grants })),
            other => Err(SimError::UnknownAction { system: NAME, action: other.into() }),
        }
    }
}

impl SimSystem for CleoSim {
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
        api::resolve(path).map(|(_, t, _)| t.to_string())
    }

    fn seed(&self, scenario: &Value) -> Result<(), SimError> {
        let s = CleoScenario::from_json(scenario).map_err(|e| SimError::bad(NAME, e))?;
        self.seed_scenario(&s)
    }

    fn snapshot(&self) -> Value {
        serde_json::to_value(&*self.lock()).unwrap_or(Value::Null)
    }

    fn restore(&self, snapshot: &Value) -> Result<(), SimError> {
        let mut st: CleoState =
            serde_json::from_value(snapshot.clone()).map_err(|e| SimError::bad(NAME, format!("bad snapshot: {e}")))?;
        st.switches.check().map_err(|e| SimError::bad(NAME, e))?;
        st.assign_ids();
        *self.lock() = st;
        Ok(())
    }

    fn reset(&self, to: ResetTo) -> Result<(), SimError> {
        match to {
            ResetTo::Initial => self.reset_to(Some(&self.initial.clone())),
            ResetTo::Empty => self.reset_to(Some(&CleoScenario::logins_only())),
            ResetTo::Demo => self.reset_to(Some(&demo(scenario::DEFAULT_SEED))),
            ResetTo::Scenario(v) => {
                let s = CleoScenario::from_json(&v).map_err(|e| SimError::bad(NAME, e))?;
                self.reset_to(Some(&s))
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
            "partner_tick",
            "partner_send_810",
            "partner_log",
            "drop_file",
            "files",
            "revoke_tokens",
            "truncate_downloads",
            "add_between_pages",
            "set_user",
            "rate_limit",
            "grants",
        ]
    }

    fn action(self: Arc<Self>, name: String, args: Value) -> BoxFuture<'static, Result<Value, SimError>> {
        let result = self.run_action(&name, &args);
        Box::pin(async move { result })
    }

    fn fault_body(&self, status: u16) -> (String, String) {
        let reason =
            axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
        ("application/json".into(), json!({ "message": reason }).to_string())
    }
}

crate::register_simulator!(
    CLEO,
    crate::SimEntry {
        name: "cleo",
        aliases: &["cleo-integration-cloud", "cic", "harmony"],
        start: |port, clock| {
            Box::pin(async move { Ok(CleoSim::builder().clock(clock).port(port).start().await?.into_dyn()) })
        },
    }
);
