//! Client tests against the Cin7 simulator over real HTTP (manual clocks, tiny rate windows).

mod limits;
mod ping;
mod reads;
mod webhooks;
mod writes;

use chrono::{DateTime, Utc};
use mlc_cin7::{Cin7Client, Cin7Settings};
use mlc_core::secret::Credentials;
use mlc_sim::cin7::model::{Approach, DocStatus, Supplier, SupplierContact};
use mlc_sim::cin7::scenario::{self, Cin7Scenario, PurchaseBuilder, line};
use mlc_sim::cin7::{Cin7Sim, demo};
use mlc_sim::common::{SimClock, SimHandle};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub const SIMPLE: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const ADVANCED: &str = "aaaaaaaa-0000-4000-8000-000000000002";
pub const STOCK: &str = "aaaaaaaa-0000-4000-8000-000000000003";
pub const CREDITED: &str = "aaaaaaaa-0000-4000-8000-000000000004";
pub const ACME: &str = "11111111-1111-4111-8111-111111111111";
pub const GRANITE: &str = "22222222-2222-4222-8222-222222222222";

pub fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().expect("time")
}

pub fn acme() -> Supplier {
    let mut s = scenario::supplier("Acme Survey Supply");
    s.id = ACME.into();
    s.tax_rule = "WA Sales Tax".into();
    s.tax_number = Some("91-1234567".into());
    s.contacts.push(SupplierContact {
        id: "c1".into(),
        name: "Ann Acme".into(),
        email: "ann@acme.test".into(),
        phone: "555-0100".into(),
        default: true,
        ..Default::default()
    });
    s.last_modified = t("2025-05-01T08:00:00Z");
    s
}

/// Reference data, two suppliers (one deprecated) and four purchases: a simple invoiced one, an
/// advanced one with two invoices (one draft), a stock-first one with its order authorised, and
/// a simple one with an authorised credit note.
pub fn small() -> Cin7Scenario {
    let acme = acme();
    let mut geo = scenario::supplier("Granite Geotechnical, Inc.");
    geo.id = GRANITE.into();
    geo.status = "Deprecated".into();
    geo.last_modified = t("2025-05-02T08:00:00Z");
    let simple = PurchaseBuilder::simple(&acme, "Port Harbor HQ")
        .id(SIMPLE)
        .order_number("PO-00001")
        .updated(t("2025-06-01T10:00:00.123Z"))
        .attribute(1, "2024011.00|01")
        .line(line("Survey stakes", "472", d("10"), d("4.50")))
        .order(DocStatus::Authorised)
        .invoice("ACME-1", DocStatus::Authorised, Some(t("2025-05-30T00:00:00Z").date_naive()), None)
        .build();
    let adv = PurchaseBuilder::advanced(&geo, "Tacoma Office")
        .id(ADVANCED)
        .order_number("PO-00002")
        .updated(t("2025-06-02T10:00:00.1234567Z"))
        .attribute(1, "2024003.00|01")
        .line(line("Geotechnical engineer - hourly", "462", d("20"), d("180")))
        .order(DocStatus::Authorised)
        .invoice_lines(
            "GG-1",
            DocStatus::Authorised,
            None,
            None,
            vec![line("Geotechnical engineer - hourly", "462", d("12"), d("180"))],
            vec![],
        )
        .invoice_lines(
            "GG-2",
            DocStatus::Draft,
            None,
            None,
            vec![line("Geotechnical engineer - hourly", "462", d("8"), d("180"))],
            vec![],
        )
        .build();
    let stock = PurchaseBuilder::simple(&acme, "Port Harbor HQ")
        .id(STOCK)
        .order_number("PO-00003")
        .approach(Approach::Stock)
        .updated(t("2025-06-03T10:00:00Z"))
        .line(line("Marking paint", "472", d("2"), d("80")))
        .order(DocStatus::Authorised)
        .build();
    let credited = PurchaseBuilder::simple(&acme, "Tacoma Office")
        .id(CREDITED)
        .order_number("PO-00004")
        .updated(t("2025-06-04T10:00:00Z"))
        .line(line("Prism pole", "472", d("2"), d("300")))
        .order(DocStatus::Authorised)
        .invoice("ACME-2", DocStatus::Authorised, None, None)
        .credit_note("CN-1", DocStatus::Authorised, None, vec![line("Returned prism pole", "472", d("1"), d("300"))])
        .build();
    Cin7Scenario::reference_data()
        .supplier(acme)
        .supplier(geo)
        .purchase(simple)
        .purchase(adv)
        .purchase(stock)
        .purchase(credited)
}

pub async fn start(s: Cin7Scenario) -> SimHandle<Cin7Sim> {
    Cin7Sim::builder().clock(SimClock::manual_default()).scenario(s).start().await.expect("start")
}

pub fn credentials(h: &SimHandle<Cin7Sim>) -> Credentials {
    let c = h.system().typed_credentials(h.base_url());
    Credentials::new()
        .with("account_id", c.account_id)
        .with("application_key", c.application_key)
        .with("webhook_secret", c.webhook_secret)
}

/// A client for the simulator; `opts` are extra connection options.
pub fn client(h: &SimHandle<Cin7Sim>, opts: Value) -> Cin7Client {
    client_with(h, opts, credentials(h))
}

pub fn client_with(h: &SimHandle<Cin7Sim>, opts: Value, creds: Credentials) -> Cin7Client {
    let mut o = json!({"base_url": h.base_url(), "timeout_secs": 5});
    if let (Some(m), Value::Object(extra)) = (o.as_object_mut(), opts) {
        m.extend(extra);
    }
    Cin7Client::new(Cin7Settings::from_options("cin7", &o).expect("settings"), creds).expect("client")
}

/// Set the simulator's budget and return matching client options.
pub fn budget(h: &SimHandle<Cin7Sim>, calls: u32, window_ms: u64) -> Value {
    h.system().set_switch(|s| {
        s.rate_limit_calls = calls;
        s.rate_limit_window_ms = window_ms;
    });
    json!({"rate_limit_calls": calls, "rate_limit_window_secs": window_ms as f64 / 1000.0})
}

/// Calls the simulator refused for the rate limit, for the demo application.
pub fn rejected(h: &SimHandle<Cin7Sim>) -> u64 {
    h.system().lock().rate_stats.get(&demo::APPLICATION_KEY.to_ascii_lowercase()).map(|s| s.rejected).unwrap_or(0)
}
