//! Client tests against the Procore simulator over real HTTP (the generated general contractor,
//! manual clocks for token expiry and webhook retries, real clocks with one-second windows for
//! the budget).

mod auth;
mod limits;
mod ping;
mod reads;
mod registration;
mod webhooks;
mod writes;

use mlc_core::secret::Credentials;
use mlc_procore::{ProcoreClient, ProcoreSettings};
use mlc_sim::common::{SimClock, SimHandle};
use mlc_sim::procore::ProcoreSim;
use mlc_sim::procore::scenario::{self, ProcoreScenario, demo};
use serde_json::{Value, json};

/// The demo company with two active job sites (and the closed one).
pub fn company() -> ProcoreScenario {
    scenario::general_contractor(scenario::DEFAULT_SEED, 2)
}

pub fn p1() -> i64 {
    scenario::project_id(0)
}

/// A simulator without budget pressure (the budget tests set their own windows): a manual
/// clock never ends a window by itself.
pub async fn start_on(s: ProcoreScenario, clock: SimClock) -> SimHandle<ProcoreSim> {
    let h = ProcoreSim::builder().clock(clock).scenario(s).start().await.expect("start");
    h.system().set_switch(|s| {
        s.spike_limit = 0;
        s.hourly_limit = 1_000_000;
    });
    h
}

pub async fn start(s: ProcoreScenario) -> SimHandle<ProcoreSim> {
    start_on(s, SimClock::manual_default()).await
}

pub fn credentials() -> Credentials {
    Credentials::new()
        .with("client_id", demo::CLIENT_ID)
        .with("client_secret", demo::CLIENT_SECRET)
        .with("webhook_authorization", demo::WEBHOOK_AUTHORIZATION)
}

/// A client for the simulator; `opts` are extra connection settings.
pub fn client(h: &SimHandle<ProcoreSim>, opts: Value) -> ProcoreClient {
    client_with(h, opts, credentials())
}

pub fn options(h: &SimHandle<ProcoreSim>, opts: Value) -> Value {
    let mut o = json!({"base_url": h.base_url(), "company_id": demo::COMPANY_ID, "timeout_secs": 5, "spike_limit": 0});
    if let (Some(m), Value::Object(extra)) = (o.as_object_mut(), opts) {
        m.extend(extra);
    }
    o
}

pub fn client_with(h: &SimHandle<ProcoreSim>, opts: Value, creds: Credentials) -> ProcoreClient {
    let settings = ProcoreSettings::from_options("procore", &options(h, opts)).expect("settings");
    ProcoreClient::new(settings, creds).expect("client")
}

/// Run a simulator control action in process.
pub async fn action(h: &SimHandle<ProcoreSim>, name: &str, args: Value) -> Value {
    use mlc_sim::common::SimSystem;
    h.system().clone().action(name.to_string(), args).await.expect("action")
}

/// Calls the simulator refused for the budget (demo app, demo company).
pub fn rejected(h: &SimHandle<ProcoreSim>) -> u64 {
    let key = format!("{}|{}", demo::CLIENT_ID, demo::COMPANY_ID);
    h.system().lock().rate_stats.get(&key).map(|s| s.rejected).unwrap_or(0)
}
