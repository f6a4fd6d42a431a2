//! Starting a simulator and a client for it, and building invoices.

use chrono::NaiveDate;
use mlc_core::domain::{ApInvoice, ApInvoiceDraft, ApLine, DocumentKind, ProjectRef, SourceRef};
use mlc_core::money::{Currency, Tolerance};
use mlc_core::secret::Credentials;
use mlc_deltek::{DeltekClient, DeltekSettings};
use mlc_sim::common::{SimClock, SimHandle, SimSystem};
use mlc_sim::deltek::{DeltekSim, DeltekSimBuilder};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub struct Env {
    pub sim: SimHandle<DeltekSim>,
    pub client: DeltekClient,
}

impl Env {
    /// Another client on the same simulator (another process, another run).
    pub fn client(&self, extra: Value) -> DeltekClient {
        client_for(&self.sim, extra, None)
    }

    /// A client logging in as another user of the demo tenant.
    pub fn client_as(&self, username: &str, extra: Value) -> DeltekClient {
        client_for(&self.sim, extra, Some(username))
    }

    pub async fn action(&self, name: &str, args: Value) -> Value {
        self.sim.system().clone().action(name.to_string(), args).await.expect("sim action")
    }

    pub fn count(&self, method: &str, route: &str) -> usize {
        self.sim.calls().count(method, route)
    }

    /// Requests to the API, token calls excluded.
    pub fn api_calls(&self) -> usize {
        self.sim.calls().records().iter().filter(|r| !r.path.to_ascii_lowercase().ends_with("/token")).count()
    }
}

pub fn builder() -> DeltekSimBuilder {
    DeltekSim::builder().clock(SimClock::manual_default())
}

pub async fn start() -> Env {
    start_with(builder(), json!({})).await
}

pub async fn start_opts(extra: Value) -> Env {
    start_with(builder(), extra).await
}

pub async fn start_with(b: DeltekSimBuilder, extra: Value) -> Env {
    let sim = b.start().await.expect("simulator starts");
    let client = client_for(&sim, extra, None);
    Env { sim, client }
}

pub fn options(sim: &SimHandle<DeltekSim>, extra: Value) -> Value {
    let creds = sim.system().typed_credentials(sim.base_url());
    let mut o = json!({
        "base_url": sim.base_url(),
        "database": creds.database,
        "liability_code": "AP",
        "vouchers_per_file": 50,
        "batch_linger_ms": 30,
        "retry_base_ms": 2,
        "max_calls_per_second": 0,
        "timeout_secs": 5,
    });
    if let (Value::Object(o), Value::Object(e)) = (&mut o, extra) {
        o.extend(e);
    }
    o
}

pub fn credentials(sim: &SimHandle<DeltekSim>, username: Option<&str>) -> Credentials {
    let c = sim.system().typed_credentials(sim.base_url());
    Credentials::new()
        .with("username", username.unwrap_or(&c.username))
        .with("password", c.password)
        .with("client_id", c.client_id)
        .with("client_secret", c.client_secret)
}

pub fn client_for(sim: &SimHandle<DeltekSim>, extra: Value, username: Option<&str>) -> DeltekClient {
    let settings = DeltekSettings::from_options("deltek", &options(sim, extra)).expect("settings");
    DeltekClient::new(settings, credentials(sim, username)).expect("client")
}

pub fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

pub fn date(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// One line: (account, "WBS1|WBS2|WBS3" or "", net amount).
pub type L<'a> = (&'a str, &'a str, &'a str);

pub fn line(n: u32, (account, project, net): L<'_>) -> ApLine {
    ApLine {
        line_no: n,
        description: format!("line {n}"),
        account: account.into(),
        project: ProjectRef::parse_key(project),
        cost_code: None,
        quantity: None,
        unit_price: None,
        net_amount: d(net),
        tax_amount: Decimal::ZERO,
        po_number: None,
    }
}

pub fn draft(vendor: &str, number: &str, lines: &[L<'_>]) -> ApInvoiceDraft {
    let lines: Vec<ApLine> = lines.iter().enumerate().map(|(i, l)| line(i as u32 + 1, *l)).collect();
    let total = lines.iter().map(ApLine::amount).sum();
    ApInvoiceDraft {
        source: SourceRef { system: "cin7".into(), entity: "purchase".into(), id: number.into(), version: "1".into() },
        kind: DocumentKind::Invoice,
        vendor: vendor.into(),
        vendor_name: None,
        invoice_number: number.into(),
        invoice_date: date(2025, 6, 10),
        due_date: None,
        currency: Currency::USD,
        po_number: None,
        terms: None,
        description: None,
        lines,
        header_tax: Decimal::ZERO,
        total,
        tolerance: Tolerance::default(),
    }
}

pub fn invoice(vendor: &str, number: &str, lines: &[L<'_>]) -> ApInvoice {
    ApInvoice::try_new(draft(vendor, number, lines)).expect("valid invoice")
}

/// A valid survey invoice on a regular project's phase (account type 6).
pub fn survey(number: &str, amount: &str) -> ApInvoice {
    invoice("CASCSURV", number, &[("52300", "2024003.00|01", amount)])
}

/// The AP files in the simulator, as (Batch, masters) pairs.
pub fn files(env: &Env) -> Vec<(String, Vec<mlc_sim::deltek::model::ApMaster>)> {
    env.sim.system().lock().ap_files.iter().map(|f| (f.control.batch.clone(), f.masters.clone())).collect()
}
