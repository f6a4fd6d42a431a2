//! Coupa client tests against the Coupa simulator over real HTTP (manual clock unless a test
//! needs the simulated clock to run with real time).

mod auth;
mod limits;
mod paging;
mod ping;
mod reads;
mod registration;
mod webhooks;
mod writes;

use mlc_core::secret::Credentials;
use mlc_coupa::{CoupaClient, CoupaSettings};
use mlc_sim::common::{SimClock, SimHandle, SimSystem};
use mlc_sim::coupa::{CoupaScenario, CoupaSim, demo};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

/// Two suppliers, three accounts (one inactive), a PO with two lines, invoices 1001 (approved, on
/// the PO, tax and shipping), 1002 (approved, two projects, split), 1003 (draft), 1004 (approved,
/// exported), 1005 (pending approval, on the inactive account), 1006 (voided, not exported).
pub fn small() -> CoupaScenario {
    CoupaScenario::from_json(&json!({
        "clients": serde_json::to_value(mlc_sim::coupa::scenario::demo_clients()).unwrap(),
        "currencies": [{"id": 1, "code": "USD", "decimals": 2, "enabled": true}],
        "payment-terms": [{"id": 1, "code": "Net 30", "days-for-net-payment": 30, "active": true}],
        "charts": [{"id": 1, "name": "Main COA", "currency-code": "USD"}],
        "accounts": [
            {"id": 10, "name": "Structural / SEA / Library", "segments": ["5110", "100", "2023014"], "active": true, "account-type-id": 1},
            {"id": 11, "name": "Structural / SEA / Pavilion", "segments": ["5110", "100", "2024022"], "active": true, "account-type-id": 1},
            {"id": 12, "name": "Old account", "segments": ["5999", "100", "0000000"], "active": false, "account-type-id": 1}
        ],
        "suppliers": [
            {"id": 5, "name": "Cascadia Structural Engineers", "number": "S-1", "status": "active", "tax-id": "91-1234567",
             "payment-term-id": 1, "updated-at": "2025-06-01T17:00:00Z",
             "primary-address": {"street1": "1 Main St", "city": "Seattle", "state": "WA", "postal-code": "98101", "country": "US"},
             "primary-contact": {"email": "ann@cascadia.example", "name-given": "Ann", "name-family": "Okafor", "phone": "(206) 555-0100"},
             "remit-to-addresses": [{"id": 50, "remit-to-code": "RT-1", "name": "Cascadia", "active": true,
                 "address": {"street1": "PO Box 1", "city": "Seattle", "state": "WA", "postal-code": "98111", "country": "US"}}]},
            {"id": 6, "name": "Fishy Supply Co", "number": "S-2", "status": "active", "updated-at": "2025-06-02T17:00:00Z"}
        ],
        "supplier-information": [{"id": 60, "supplier-id": 5, "federal-tax-num": "91-1234567", "status": "approved",
            "addresses": [{"id": 61, "kind": "RTA", "bank-account-number": "000123", "bank-routing-number": "125000000",
                           "bank-name": "First Sound Bank"}]}],
        "purchase-orders": [{"id": 7, "po-number": "4500001", "status": "issued", "version": 1, "supplier-id": 5,
            "currency-code": "USD", "exported": true, "updated-at": "2025-06-01T18:00:00Z",
            "lines": [{"id": 70, "line-num": "1", "kind": "amount", "description": "Design", "price": "10000", "account-id": 10},
                      {"id": 71, "line-num": "2", "kind": "quantity", "description": "Site visits", "quantity": "4", "price": "250", "account-id": 10}]}],
        "invoices": [
            {"id": 1001, "invoice-number": "CSE-1", "status": "approved", "document-type": "Invoice", "supplier-id": 5,
             "currency-code": "USD", "invoice-date": "2025-06-01", "payment-term-id": 1, "remit-to-id": 50,
             "updated-at": "2025-06-03T17:00:00Z",
             "lines": [{"id": 901, "line-num": 1, "kind": "amount", "description": "Design 50%", "price": "5000", "account-id": 10,
                        "order-line-id": 70, "custom-fields": {"project-number": "2023014.00"}}],
             "tax-lines": [{"id": 1, "amount": "12.50", "rate": "10.25", "code": "WA"}],
             "charges": [{"id": 2, "kind": "shipping", "line-num": 1, "total": "20", "account-id": 10}]},
            {"id": 1002, "invoice-number": "FSC-9", "status": "approved", "document-type": "Invoice", "supplier-id": 6,
             "currency-code": "USD", "invoice-date": "2025-06-02", "updated-at": "2025-06-04T17:00:00Z",
             "lines": [{"id": 902, "line-num": 1, "kind": "quantity", "description": "Prints", "quantity": "3", "price": "3.335", "account-id": 10},
                       {"id": 903, "line-num": 2, "kind": "amount", "description": "Boards", "price": "100", "account-id": 11,
                        "allocations": [{"id": 1, "account-id": 10, "amount": "60", "pct": "60"}, {"id": 2, "account-id": 11, "amount": "40", "pct": "40"}]}]},
            {"id": 1003, "invoice-number": "CSE-2", "status": "draft", "document-type": "Invoice", "supplier-id": 5,
             "currency-code": "USD", "lines": [{"id": 904, "line-num": 1, "kind": "amount", "price": "100", "account-id": 10}]},
            {"id": 1004, "invoice-number": "CSE-0", "status": "approved", "document-type": "Invoice", "supplier-id": 5,
             "currency-code": "USD", "exported": true, "lines": [{"id": 905, "line-num": 1, "kind": "amount", "price": "70", "account-id": 10}]},
            {"id": 1005, "invoice-number": "CSE-3", "status": "pending_approval", "document-type": "Invoice", "supplier-id": 5,
             "currency-code": "USD", "lines": [{"id": 906, "line-num": 1, "kind": "amount", "price": "80", "account-id": 12}]},
            {"id": 1006, "invoice-number": "FSC-1", "status": "voided", "document-type": "Invoice", "supplier-id": 6,
             "currency-code": "USD", "lines": [{"id": 907, "line-num": 1, "kind": "amount", "price": "15", "account-id": 11}]}
        ],
        "custom-fields": [
            {"resource": "invoices", "name": "cf-deltek-voucher-id", "api-editable": true, "max-length": 12},
            {"resource": "invoices", "name": "cf-approval-route", "api-editable": false}
        ]
    }))
    .expect("small scenario")
}

/// A simulator on a manual clock, with the rate bucket off unless a test turns it on.
pub async fn start(s: CoupaScenario) -> SimHandle<CoupaSim> {
    start_on(s, SimClock::manual_default()).await
}

pub async fn start_on(s: CoupaScenario, clock: SimClock) -> SimHandle<CoupaSim> {
    let h = CoupaSim::builder().clock(clock).scenario(s).start().await.expect("start");
    h.system().set_switch(|sw| sw.rate_limit_enabled = false);
    h
}

pub fn credentials() -> Credentials {
    Credentials::new()
        .with("client_id", demo::CLIENT_ID)
        .with("client_secret", demo::CLIENT_SECRET)
        .with("webhook_secret", demo::WEBHOOK_SECRET)
}

/// Options for the simulator: short timeouts and backoffs, a short activation wait.
pub fn options(h: &SimHandle<CoupaSim>, extra: Value) -> Value {
    let mut o =
        json!({"base_url": h.base_url(), "timeout_secs": 5, "retry_base_ms": 20, "token_activation_wait_ms": 200});
    if let (Some(m), Value::Object(e)) = (o.as_object_mut(), extra) {
        m.extend(e);
    }
    o
}

pub fn client(h: &SimHandle<CoupaSim>, extra: Value) -> CoupaClient {
    client_with(h, extra, credentials())
}

pub fn client_with(h: &SimHandle<CoupaSim>, extra: Value, creds: Credentials) -> CoupaClient {
    CoupaClient::new(CoupaSettings::from_options("coupa", &options(h, extra)).expect("settings"), creds)
        .expect("client")
}

/// Run a simulator control action.
pub async fn act(h: &SimHandle<CoupaSim>, name: &str, args: Value) -> Value {
    h.system().clone().action(name.into(), args).await.expect("action")
}
