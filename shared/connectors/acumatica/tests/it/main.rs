//! Client tests against the Acumatica simulator over real HTTP (manual clocks unless a test needs
//! time to run on its own).

mod auth;
mod calls;
mod limits;
mod ping;
mod reads;
mod registration;
mod webhook;
mod writes;

use mlc_acumatica::{AcumaticaClient, AcumaticaSettings};
use mlc_core::secret::Credentials;
use mlc_sim::acumatica::{AcumaticaSim, AcumaticaSimBuilder, AcumaticaSwitches};
use mlc_sim::common::{SimClock, SimHandle};
use serde_json::{Value, json};

pub type Sim = SimHandle<AcumaticaSim>;

/// A simulator on a manual clock with the licence limits off (tests that need them set them).
pub fn sim() -> AcumaticaSimBuilder {
    AcumaticaSim::builder().clock(SimClock::manual_default()).switches(AcumaticaSwitches::unthrottled())
}

pub async fn start() -> Sim {
    sim().start().await.expect("start")
}

/// The simulator's credentials as the connector reads them.
pub fn creds(h: &Sim) -> Credentials {
    let c = h.system().typed_credentials(h.base_url());
    Credentials::new()
        .with("username", c.username)
        .with("password", c.password)
        .with("client_id", c.client_id)
        .with("client_secret", c.client_secret)
        .with("webhook_secret", c.webhook_secret)
}

/// Options for the simulator: no client pacing, fast long-operation polls.
pub fn options(h: &Sim) -> Value {
    let c = h.system().typed_credentials(h.base_url());
    json!({"base_url": h.base_url(), "tenant": c.tenant, "branch": c.branch, "requests_per_minute": 0,
           "long_operation_poll_ms": 1, "timeout_secs": 10})
}

pub fn client_with(h: &Sim, extra: Value) -> AcumaticaClient {
    let mut o = options(h);
    if let (Value::Object(m), Value::Object(x)) = (&mut o, extra) {
        m.extend(x);
    }
    let s = AcumaticaSettings::from_options("acumatica", &o).expect("settings");
    AcumaticaClient::new(s, creds(h)).expect("client")
}

pub fn client(h: &Sim) -> AcumaticaClient {
    client_with(h, json!({}))
}

pub fn d(s: &str) -> rust_decimal::Decimal {
    s.parse().expect("decimal")
}

/// A `/__sim` action.
pub async fn action(h: &Sim, name: &str, args: Value) -> Value {
    let r = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(format!("{}/actions/{name}", h.control_url()))
        .json(&args)
        .send()
        .await
        .expect("send");
    let ok = r.status().is_success();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert!(ok, "{name}: {v}");
    v
}

/// Count answers of a status on a route in the simulator's call log.
pub fn answered(h: &Sim, route: &str, status: u16) -> usize {
    h.calls().records().iter().filter(|c| c.route.as_deref() == Some(route) && c.status == Some(status)).count()
}

/// A small bill for tests outside `writes`.
pub fn writes_bill(vendor_ref: &str) -> mlc_acumatica::model::BillDraft {
    use mlc_acumatica::model::{BillDraft, BillLineDraft, BillType};
    BillDraft {
        kind: BillType::Bill,
        vendor: "V10002".into(),
        vendor_ref: vendor_ref.into(),
        date: None,
        due_date: None,
        description: None,
        hold: true,
        branch: None,
        terms: None,
        currency: None,
        lines: vec![BillLineDraft { amount: Some(d("10")), account: Some("60000".into()), ..Default::default() }],
    }
}
