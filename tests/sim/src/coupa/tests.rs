//! Coupa simulator tests, over HTTP against a running simulator (manual clock unless a test needs
//! real time).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use chrono::Duration;
use serde_json::{Value, json};

use super::*;
use crate::common::{Fault, FaultRule, SimClock, SimHandle, SimSystem};

const ID: &str = demo::CLIENT_ID;
const SECRET: &str = demo::CLIENT_SECRET;

/// Two suppliers, three accounts (one inactive), a PO with two lines, and invoices: 1001
/// approved on the PO, 1002 approved without PO (two lines on two projects), 1003 draft, 1004
/// approved and already exported, 1005 pending approval (on the inactive account).
fn small() -> CoupaScenario {
    CoupaScenario::from_json(&json!({
        "clients": serde_json::to_value(scenario::demo_clients()).unwrap(),
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
             "remit-to-addresses": [{"id": 50, "remit-to-code": "RT-1", "name": "Cascadia", "active": true,
                 "address": {"street1": "PO Box 1", "city": "Seattle", "state": "WA", "postal_code": "98111", "country": "US"}}]},
            {"id": 6, "name": "Fishy Supply Co", "number": "S-2", "status": "active", "updated-at": "2025-06-02T17:00:00Z"}
        ],
        "supplier-information": [{"id": 60, "supplier-id": 5, "federal-tax-num": "91-1234567",
            "addresses": [{"id": 61, "kind": "RTA", "bank-account-number": "000123", "bank-routing-number": "125000000"}]}],
        "purchase-orders": [{"id": 7, "po-number": "4500001", "status": "issued", "version": 1, "supplier-id": 5,
            "currency-code": "USD", "exported": true,
            "lines": [{"id": 70, "line-num": "1", "kind": "amount", "description": "Design", "price": "10000", "account-id": 10},
                      {"id": 71, "line-num": "2", "kind": "quantity", "description": "Site visits", "quantity": "4", "price": "250", "account-id": 10}]}],
        "invoices": [
            {"id": 1001, "invoice-number": "CSE-1", "status": "approved", "document-type": "Invoice", "supplier-id": 5,
             "currency-code": "USD", "invoice-date": "2025-06-01", "payment-term-id": 1, "remit-to-id": 50,
             "updated-at": "2025-06-03T17:00:00Z",
             "lines": [{"id": 901, "line-num": 1, "kind": "amount", "description": "Design 50%", "price": "5000", "account-id": 10, "order-line-id": 70}],
             "tax-lines": [{"id": 1, "amount": "12.50", "rate": "10.25", "code": "WA"}],
             "charges": [{"id": 2, "kind": "shipping", "line-num": 1, "total": "20"}]},
            {"id": 1002, "invoice-number": "FSC-9", "status": "approved", "document-type": "Invoice", "supplier-id": 6,
             "currency-code": "USD", "invoice-date": "2025-06-02", "updated-at": "2025-06-04T17:00:00Z",
             "lines": [{"id": 902, "line-num": 1, "kind": "quantity", "description": "Prints", "quantity": "3", "price": "3.335", "account-id": 10},
                       {"id": 903, "line-num": 2, "kind": "amount", "description": "Boards", "price": "40", "account-id": 11}]},
            {"id": 1003, "invoice-number": "CSE-2", "status": "draft", "document-type": "Invoice", "supplier-id": 5,
             "currency-code": "USD", "lines": [{"id": 904, "line-num": 1, "kind": "amount", "price": "100", "account-id": 10}]},
            {"id": 1004, "invoice-number": "CSE-0", "status": "approved", "document-type": "Invoice", "supplier-id": 5,
             "currency-code": "USD", "exported": true, "lines": [{"id": 905, "line-num": 1, "kind": "amount", "price": "70", "account-id": 10}]},
            {"id": 1005, "invoice-number": "CSE-3", "status": "pending_approval", "document-type": "Invoice", "supplier-id": 5,
             "currency-code": "USD", "lines": [{"id": 906, "line-num": 1, "kind": "amount", "price": "80", "account-id": 12}]}
        ],
        "custom-fields": [
            {"resource": "invoices", "name": "cf-deltek-voucher-id", "api-editable": true, "max-length": 12},
            {"resource": "invoices", "name": "cf-approval-route", "api-editable": false}
        ]
    }))
    .expect("small scenario")
}

struct T {
    h: SimHandle<CoupaSim>,
    c: reqwest::Client,
    token: String,
}

async fn start_with(s: CoupaScenario, rate_limit: bool) -> T {
    let h = CoupaSim::builder().clock(SimClock::manual_default()).scenario(s).start().await.expect("start");
    h.system().set_switch(|sw| sw.rate_limit_enabled = rate_limit);
    let c = reqwest::Client::builder().no_proxy().build().expect("client");
    let mut t = T { h, c, token: String::new() };
    t.token = t.mint(ID, SECRET, None).await;
    t
}

async fn start() -> T {
    start_with(small(), false).await
}

impl T {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.h.base_url())
    }

    async fn token_call(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
        let mut r = self.c.post(self.url("/oauth2/token")).form(form);
        if let Some((id, secret)) = basic {
            r = r.basic_auth(id, Some(secret));
        }
        let resp = r.send().await.expect("send");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn mint(&self, id: &str, secret: &str, scope: Option<&str>) -> String {
        let mut form = vec![("grant_type", "client_credentials"), ("client_id", id), ("client_secret", secret)];
        if let Some(s) = scope {
            form.push(("scope", s));
        }
        let (status, v) = self.token_call(&form, None).await;
        assert_eq!(status, 200, "{v}");
        v["access_token"].as_str().expect("token").to_string()
    }

    async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, HeaderMap, String) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut r = self.c.request(m, self.url(path)).header("Accept", "application/json");
        if !token.is_empty() {
            r = r.header("Authorization", format!("Bearer {token}"));
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("send");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.expect("text"))
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = self.call("GET", path, &self.token, None).await;
        (s, serde_json::from_str(&b).unwrap_or(Value::String(b)))
    }

    async fn put(&self, path: &str, body: Option<Value>) -> (u16, Value) {
        let (s, _, b) = self.call("PUT", path, &self.token, body).await;
        (s, serde_json::from_str(&b).unwrap_or(Value::String(b)))
    }

    async fn action(&self, name: &str, args: Value) -> Value {
        self.h.system().clone().action(name.into(), args).await.expect("action")
    }
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array().expect("array").iter().filter_map(|x| x["id"].as_i64()).collect()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn token_endpoint_grants_client_credentials_and_refuses_like_oauth() {
    let t = start().await;
    let (s, v) = t
        .token_call(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", ID),
                ("client_secret", SECRET),
                ("scope", "core.invoice.read core.supplier.read"),
            ],
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!((v["token_type"].as_str(), v["expires_in"].as_u64()), (Some("bearer"), Some(86_399)));
    assert_eq!(v["scope"], "core.invoice.read core.supplier.read");
    assert!(v.get("refresh_token").is_none(), "client credentials carry no refresh token");
    assert_eq!(v["access_token"].as_str().unwrap().split('.').count(), 3, "JWT-shaped");
    // HTTP Basic client auth [I], and the switch that refuses it.
    let (s, _) = t.token_call(&[("grant_type", "client_credentials")], Some((ID, SECRET))).await;
    assert_eq!(s, 200);
    t.h.system().set_switch(|sw| sw.basic_client_auth = false);
    let (s, v) = t.token_call(&[("grant_type", "client_credentials")], Some((ID, SECRET))).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    // Refusals.
    let (s, v) =
        t.token_call(&[("grant_type", "client_credentials"), ("client_id", ID), ("client_secret", "nope")], None).await;
    assert_eq!((s, v["error"].as_str()), (401, Some("invalid_client")));
    let (s, v) = t
        .token_call(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", ID),
                ("client_secret", SECRET),
                ("scope", "core.invoice.read core.payroll.admin"),
            ],
            None,
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_scope")));
    let (s, v) = t.token_call(&[("grant_type", "password"), ("client_id", ID), ("client_secret", SECRET)], None).await;
    assert_eq!((s, v["error"].as_str()), (400, Some("unsupported_grant_type")));
    // A read-only client cannot be granted a write scope.
    let (s, _) = t
        .token_call(
            &[
                ("grant_type", "client_credentials"),
                ("client_id", demo::READ_ONLY_CLIENT_ID),
                ("client_secret", demo::READ_ONLY_CLIENT_SECRET),
                ("scope", "core.invoice.write"),
            ],
            None,
        )
        .await;
    assert_eq!(s, 400);
    // Omitted scope: all of the client's (default), none, or an error.
    let all = t.mint(ID, SECRET, None).await;
    assert_eq!(t.call("GET", "/api/accounts", &all, None).await.0, 200);
    t.h.system().set_switch(|sw| sw.omitted_scope = switches::OmittedScope::None);
    let none = t.mint(ID, SECRET, None).await;
    assert_eq!(t.call("GET", "/api/accounts", &none, None).await.0, 403);
    t.h.system().set_switch(|sw| sw.omitted_scope = switches::OmittedScope::Error);
    let (s, _) =
        t.token_call(&[("grant_type", "client_credentials"), ("client_id", ID), ("client_secret", SECRET)], None).await;
    assert_eq!(s, 400);
    // The Swagger's /oauth2/access_tokens is a doc artefact unless switched on; string expires_in.
    assert_eq!(t.c.post(t.url("/oauth2/access_tokens")).send().await.unwrap().status(), 404);
    t.h.system().set_switch(|sw| {
        sw.access_tokens_alias = true;
        sw.expires_in_as_string = true;
        sw.token_extra_keys = false;
    });
    let r =
        t.c.post(t.url("/oauth2/access_tokens"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", ID),
                ("client_secret", SECRET),
                ("scope", "core.invoice.read"),
            ])
            .send()
            .await
            .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["expires_in"], "86399");
    assert!(v.get("scope").is_none() && v.get("created_at").is_none());
    t.h.shutdown().await;
}

#[tokio::test]
async fn bearer_tokens_expire_activate_and_are_scoped_on_the_simulated_clock() {
    let t = start().await;
    assert_eq!(t.get("/api/invoices?limit=1").await.0, 200);
    // No token, the dead API key, a lower-case scheme.
    let (s, h, b) = t.call("GET", "/api/invoices", "", None).await;
    assert_eq!(s, 401);
    assert_eq!(h["www-authenticate"], "Bearer error=\"invalid_token\"");
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap(),
        json!({"errors": {"error": ["Invalid or expired access token"]}})
    );
    let r =
        t.c.get(t.url("/api/invoices"))
            .header("Accept", "application/json")
            .header("X-COUPA-API-KEY", "a".repeat(40))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("API keys are no longer supported"));
    let r =
        t.c.get(t.url("/api/invoices"))
            .header("Accept", "application/json")
            .header("Authorization", format!("bearer {}", t.token))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    // Expiry at 86399 s on the simulated clock.
    t.h.clock().advance(Duration::seconds(86_398));
    assert_eq!(t.get("/api/invoices?limit=1").await.0, 200);
    t.h.clock().advance(Duration::seconds(1));
    assert_eq!(t.get("/api/invoices?limit=1").await.0, 401);
    // Revocation.
    let fresh = t.mint(ID, SECRET, None).await;
    assert_eq!(t.call("GET", "/api/invoices", &fresh, None).await.0, 200);
    t.action("revoke_tokens", json!({})).await;
    assert_eq!(t.call("GET", "/api/invoices", &fresh, None).await.0, 401);
    // Activation delay: a new token answers 401 until it has aged.
    t.h.system().set_switch(|sw| sw.token_activation_ms = 5_000);
    let young = t.mint(ID, SECRET, None).await;
    assert_eq!(t.call("GET", "/api/invoices", &young, None).await.0, 401);
    t.h.clock().advance(Duration::milliseconds(5_000));
    assert_eq!(t.call("GET", "/api/invoices", &young, None).await.0, 200);
    // Scopes: a token for reads only cannot write; the status is a switch.
    let reader = t.mint(ID, SECRET, Some("core.invoice.read")).await;
    t.h.clock().advance(Duration::seconds(5));
    let (s, _, b) = t.call("PUT", "/api/invoices/1001?exported=true", &reader, None).await;
    assert_eq!(s, 403);
    assert!(b.contains("core.invoice.write"), "{b}");
    assert_eq!(t.call("GET", "/api/suppliers", &reader, None).await.0, 403);
    t.h.system().set_switch(|sw| sw.missing_scope_status = 401);
    assert_eq!(t.call("GET", "/api/suppliers", &reader, None).await.0, 401);
    t.h.shutdown().await;
}

#[tokio::test]
async fn json_conventions_accept_content_type_and_the_ignored_version_header() {
    let t = start().await;
    let (s, inv) = t.get("/api/invoices/1001").await;
    assert_eq!(s, 200);
    assert_eq!(inv["invoice-number"], "CSE-1");
    assert_eq!(inv["total-with-taxes"], "5032.50", "decimals as strings: 5000 + 20 shipping + 12.50 tax");
    assert_eq!(inv["shipping-amount"], "20.00");
    assert!(inv.get("total").is_none(), "no header total");
    assert_eq!(inv["invoice-date"], "2025-06-01T00:00:00-07:00");
    assert_eq!(inv["supplier"]["remit-to-addresses"][0]["remit-to-code"], "RT-1", "associations embedded in full");
    assert_eq!(inv["invoice-lines"][0]["po-number"], "4500001");
    assert_eq!(inv["invoice-lines"][0]["order-line-num"], "1");
    assert_eq!(inv["invoice-lines"][0]["account"]["segment-3"], "2023014");
    assert_eq!(inv["invoice-lines"][0]["account"]["code"], "5110-100-2023014");
    assert_eq!(inv["remit-to-address"]["country"]["code"], "US");
    assert_eq!(inv["net-due-date"], "2025-07-01T00:00:00-07:00");
    let (_, fsc) = t.get("/api/invoices/1002").await;
    assert_eq!(fsc["invoice-lines"][0]["total"], "10.01", "3 × 3.335 rounded half away from zero");
    assert!(t.get("/api/invoices").await.1.is_array(), "bare JSON arrays");
    // The variants the client must also read.
    t.h.system().set_switch(|sw| {
        sw.numbers_as_numbers = true;
        sw.datetime_style = switches::DatetimeStyle::Zulu;
    });
    let (_, inv) = t.get("/api/invoices/1001").await;
    assert_eq!(inv["total-with-taxes"], json!(5032.5));
    assert_eq!(inv["invoice-date"], "2025-06-01T07:00:00Z");
    // Accept, Content-Type, body, path.
    let r = t.c.get(t.url("/api/invoices")).bearer_auth(&t.token).send().await.unwrap();
    assert_eq!(r.status(), 406, "no Accept: XML would be the default; the simulator does not do XML");
    t.h.system().set_switch(|sw| sw.missing_accept = switches::MissingAccept::Json);
    assert_eq!(t.c.get(t.url("/api/invoices")).bearer_auth(&t.token).send().await.unwrap().status(), 200);
    let r =
        t.c.put(t.url("/api/invoices/1001"))
            .bearer_auth(&t.token)
            .header("Accept", "application/json")
            .header("Content-Type", "text/plain")
            .body("comments=x")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 415);
    let r =
        t.c.put(t.url("/api/invoices/1001"))
            .bearer_auth(&t.token)
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 400);
    let (s, _, b) = t.call("GET", "/api/nothing_here", &t.token, None).await;
    assert_eq!(s, 404);
    assert!(b.contains("doesn't exist"));
    assert_eq!(
        t.get("/api/invoices/999999").await,
        (404, json!({"errors": {"error": ["No results match your search criteria."]}}))
    );
    // X-Coupa-API-Version is ignored, only counted.
    let r =
        t.c.get(t.url("/api/invoices?limit=1"))
            .bearer_auth(&t.token)
            .header("Accept", "application/json")
            .header("X-Coupa-API-Version", "R39")
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 200);
    let seen = t.action("headers_seen", json!({})).await;
    assert_eq!(seen["x-coupa-api-version"]["R39"], 1);
    t.h.shutdown().await;
}

#[tokio::test]
async fn queries_operators_associations_fields_and_paging_cap() {
    let t = start().await;
    assert_eq!(ids(&t.get("/api/invoices?status=approved&exported=false").await.1), [1001, 1002]);
    assert_eq!(ids(&t.get("/api/invoices?status%5Bin%5D=draft,pending_approval").await.1), [1003, 1005]);
    assert_eq!(ids(&t.get("/api/invoices?supplier%5Bname%5D%5Bcontains%5D=fishy").await.1), [1002]);
    assert_eq!(ids(&t.get("/api/invoices?invoice_lines%5Baccount%5D%5Bsegment-3%5D=2024022").await.1), [1002]);
    let after = enc("2025-06-03T10:00:00-07:00");
    assert_eq!(
        ids(&t.get(&format!("/api/invoices?updated-at%5Bgt_or_eq%5D={after}&status=approved")).await.1),
        [1001, 1002]
    );
    assert_eq!(ids(&t.get(&format!("/api/invoices?updated_at%5Bgt%5D={after}&status=approved")).await.1), [1002]);
    assert_eq!(ids(&t.get("/api/invoices?order_by=invoice_number&dir=desc&limit=2").await.1), [1002, 1005]);
    assert_eq!(ids(&t.get("/api/invoices?offset=4").await.1), [1005]);
    assert_eq!(t.get("/api/invoices?offset=50").await.1, json!([]));
    assert_eq!(ids(&t.get("/api/purchase_orders?po-number=4500001").await.1), [7]);
    assert_eq!(ids(&t.get("/api/supplier_information?supplier-id=5").await.1), [60]);
    // fields: nested associations, `_` or `-`, answers in kebab-case.
    let f = enc(
        r#"["id","invoice_number",{"supplier":["id","name"]},{"invoice_lines":["line_num",{"account":["segment_1"]}]},{"custom_fields":{}}]"#,
    );
    let (_, v) = t.get(&format!("/api/invoices/1001?fields={f}")).await;
    assert_eq!(
        v,
        json!({"id": 1001, "invoice-number": "CSE-1", "supplier": {"id": 5, "name": "Cascadia Structural Engineers"},
               "invoice-lines": [{"line-num": 1, "account": {"segment-1": "5110"}}], "custom-fields": {}})
    );
    assert_eq!(t.get("/api/invoices?status=draft&return_object=limited").await.1, json!([{"id": 1003}]));
    let (_, shallow) = t.get("/api/invoices/1001?return_object=shallow").await;
    assert_eq!(shallow["supplier"], json!({"id": 5, "name": "Cascadia Structural Engineers", "number": "S-1"}));
    // Named and default response filters (an admin can silently change the default shape).
    t.action("set_response_filter", json!({"name": "thin", "fields": ["id", "status"], "default_for": "invoices"}))
        .await;
    assert_eq!(t.get("/api/invoices/1003").await.1, json!({"id": 1003, "status": "draft"}));
    assert_eq!(t.get("/api/invoices/1003?filter=nope").await.0, 400);
    // Bad filters are refused with the envelope; the switch ignores them instead.
    let (s, v) = t.get("/api/invoices?colour=red").await;
    assert_eq!((s, v["errors"]["error"][0].as_str()), (400, Some("Unknown attribute colour in query")));
    t.h.system().set_switch(|sw| sw.unknown_filter = switches::UnknownFilter::Ignore);
    assert_eq!(t.get("/api/invoices?colour=red").await.0, 200);
    assert_eq!(t.get("/api/invoices?updated-at%5Bcontains%5D=2025").await.0, 400);
    // 120 invoices: pages of at most 50.
    let sup = json!({"supplier_id": 6, "lines": [{"amount": "1"}], "status": "approved"});
    for n in 0..120 {
        let mut a = sup.clone();
        a["invoice_number"] = json!(format!("BULK-{n}"));
        t.action("create_invoice", a).await;
    }
    let page = |o: usize, l: usize| format!("/api/invoices?status=approved&exported=false&offset={o}&limit={l}");
    assert_eq!(t.get(&page(0, 60)).await.1.as_array().unwrap().len(), 50, "limit above 50 is capped");
    assert_eq!(t.get(&page(100, 50)).await.1.as_array().unwrap().len(), 22);
    t.h.system().set_switch(|sw| sw.limit_over_max = switches::LimitOverMax::Error);
    assert_eq!(t.get(&page(0, 60)).await.0, 400);
    t.h.shutdown().await;
}

#[tokio::test]
async fn export_flag_is_its_own_request_and_custom_fields_are_validated() {
    let t = start().await;
    let before = t.get("/api/invoices/1001").await.1;
    t.h.clock().advance(Duration::minutes(5));
    let f = enc(r#"["id","exported"]"#);
    let (s, v) = t.put(&format!("/api/invoices/1001?exported=true&fields={f}"), None).await;
    assert_eq!((s, v), (200, json!({"id": 1001, "exported": true})));
    let after = t.get("/api/invoices/1001").await.1;
    assert_ne!(after["updated-at"], before["updated-at"], "bumps updated-at (switch default)");
    assert_eq!(after["last-exported-at"], "2025-06-16T07:35:00-07:00");
    assert_eq!(ids(&t.get("/api/invoices?status=approved&exported=false").await.1), [1002]);
    // Other changes in the same request are ignored (or refused by switch).
    let (s, v) = t.put("/api/invoices/1002?exported=true", Some(json!({"comments": "sneaky"}))).await;
    assert_eq!((s, v["exported"].as_bool(), v["comments"].clone()), (200, Some(true), Value::Null));
    t.h.system().set_switch(|sw| {
        sw.exported_with_other_changes = switches::ExportedWithOtherChanges::Error;
        sw.exported_bumps_updated_at = false;
    });
    let (s, v) = t.put("/api/invoices/1002?exported=false", Some(json!({"comments": "sneaky"}))).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["invoice_header"][0].as_str().unwrap().contains("own request"), "{v}");
    let stamp = t.get("/api/invoices/1002").await.1["updated-at"].clone();
    t.h.clock().advance(Duration::minutes(1));
    t.put("/api/invoices/1002?exported=false", None).await;
    assert_eq!(t.get("/api/invoices/1002").await.1["updated-at"], stamp, "switch: not bumped");
    // Custom-field write-back: validated, never touches exported.
    let (s, v) = t.put("/api/invoices/1001", Some(json!({"custom-fields": {"cf-deltek-voucher-id": "V-100"}}))).await;
    assert_eq!(
        (s, v["custom-fields"]["cf-deltek-voucher-id"].as_str(), v["exported"].as_bool()),
        (200, Some("V-100"), Some(true))
    );
    for (body, says) in [
        (json!({"custom-fields": {"cf-nope": "x"}}), "Custom field cf-nope does not exist"),
        (
            json!({"custom-fields": {"cf-approval-route": "x"}}),
            "Custom field cf-approval-route is not editable via the API",
        ),
        (json!({"custom-fields": {"cf-deltek-voucher-id": "V-1234567890123"}}), "too long (maximum is 12 characters)"),
    ] {
        let (s, v) = t.put("/api/invoices/1001", Some(body)).await;
        assert_eq!(s, 400);
        assert!(v["errors"]["invoice_header"][0].as_str().unwrap().contains(says), "{v}");
    }
    // "Enforce all invoice validations": an invoice on an inactive account refuses even the export PUT.
    t.action("approve_invoice", json!({"id": 1005})).await;
    assert_eq!(t.put("/api/invoices/1005?exported=true", None).await.0, 200);
    t.h.system().set_switch(|sw| sw.enforce_invoice_validations = true);
    let (s, v) = t.put("/api/invoices/1005?exported=false", None).await;
    assert_eq!(s, 400);
    assert_eq!(v["errors"]["invoice_header"][0], "Line 1: Account 5999-100-0000000 is inactive");
    // return_object=none: an empty answer.
    let (s, _, b) = t.call("PUT", "/api/invoices/1002?exported=true&return_object=none", &t.token, None).await;
    assert_eq!((s, b.as_str()), (200, ""));
    // POs: same flag.
    let (s, v) = t.put("/api/purchase_orders/7?exported=false", None).await;
    assert_eq!((s, v["exported"].as_bool()), (200, Some(false)));
    t.h.shutdown().await;
}

#[tokio::test]
async fn invoice_states_credit_notes_and_ui_edits() {
    let t = start().await;
    let (s, v) = t.put("/api/invoices/1003/submit", None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("pending_approval")));
    let (s, v) = t.put("/api/invoices/1003/submit", None).await;
    assert_eq!(s, 400);
    assert!(v["errors"]["invoice_header"][0].as_str().unwrap().contains("cannot move from pending_approval"));
    t.action("approve_invoice", json!({"invoice_number": "CSE-2"})).await;
    assert_eq!(t.get("/api/invoices/1003").await.1["status"], "approved");
    let (s, v) = t.put("/api/invoices/1003/void", None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("voided")));
    assert_eq!(t.put("/api/invoices/1003/void", None).await.0, 400);
    let cn = t.action("create_credit_note", json!({"id": 1001, "amount": "500"})).await["id"].as_i64().unwrap();
    let (_, v) = t.get(&format!("/api/invoices/{cn}")).await;
    assert_eq!(
        (v["document-type"].as_str(), v["original-invoice-number"].as_str()),
        (Some("Credit Note"), Some("CSE-1"))
    );
    assert_eq!(v["total-with-taxes"], "-500.00");
    // UI edits reset the flag only when Support switched that on.
    t.action("ui_edit_invoice", json!({"id": 1004})).await;
    assert_eq!(t.get("/api/invoices/1004").await.1["exported"], true);
    t.h.system().set_switch(|sw| sw.reset_exported_on_ui_change = true);
    t.action("ui_edit_invoice", json!({"id": 1004})).await;
    assert_eq!(t.get("/api/invoices/1004").await.1["exported"], false);
    // Voiding an exported invoice keeps the flag, unless the instance resets it [U].
    assert_eq!(t.put("/api/invoices/1004?exported=true", None).await.0, 200);
    t.action("void_invoice", json!({"id": 1004})).await;
    assert_eq!(t.get("/api/invoices/1004").await.1["exported"], true);
    t.h.system().set_switch(|sw| sw.void_resets_exported = true);
    assert_eq!(t.put("/api/invoices/1002?exported=true", None).await.0, 200);
    t.action("void_invoice", json!({"id": 1002})).await;
    let (_, v) = t.get("/api/invoices/1002").await;
    assert_eq!((v["exported"].as_bool(), v["last-exported-at"].is_string()), (Some(false), true));
    t.h.shutdown().await;
}

#[tokio::test]
async fn po_revisions_bump_version_reset_export_and_hide_deleted_lines() {
    let t = start().await;
    let (_, po) = t.get("/api/purchase_orders/7").await;
    assert_eq!((po["version"].as_i64(), po["exported"].as_bool()), (Some(1), Some(true)));
    assert_eq!(po["total-with-estimated-tax"], "11000.00");
    assert_eq!(po["order-lines"][0]["line-num"], "1", "line-num is a string on POs");
    t.action("revise_po", json!({"po_number": "4500001", "changes": [{"line_num": "2", "delete": true}, {"line_num": "1", "price": "12000"}]}))
        .await;
    let (_, po) = t.get("/api/purchase_orders/7").await;
    assert_eq!(
        (po["version"].as_i64(), po["exported"].as_bool(), po["change-type"].as_str()),
        (Some(2), Some(false), Some("revision"))
    );
    assert_eq!(po["order-lines"].as_array().unwrap().len(), 1);
    assert_eq!(po["total-with-estimated-tax"], "12000.00");
    let (_, all) = t.get("/api/purchase_orders/7?show_deleted_lines=true").await;
    assert_eq!(all["order-lines"][1]["status"], "deleted");
    assert_eq!(ids(&t.get("/api/purchase_orders?exported=false").await.1), [7], "the export pass sees it again");
    assert_eq!(t.get("/api/purchase_order_lines/71").await.1["order-header-number"], "4500001");
    // The total key is unknown [U]: every variant.
    for (key, present) in [
        (switches::PoTotalKey::Total, Some("total")),
        (switches::PoTotalKey::InvoiceTotal, Some("invoice-total")),
        (switches::PoTotalKey::None, None),
    ] {
        t.h.system().set_switch(|sw| sw.po_total_key = key);
        let (_, po) = t.get("/api/purchase_orders/7").await;
        for k in ["total", "invoice-total", "total-with-estimated-tax"] {
            assert_eq!(po.get(k).is_some(), Some(k) == present, "{key:?} {k}");
        }
    }
    t.h.shutdown().await;
}

#[tokio::test]
async fn suppliers_remit_to_supplier_information_and_the_updated_at_watermark() {
    let t = start().await;
    let (_, addrs) = t.get("/api/suppliers/5/addresses").await;
    assert_eq!(addrs[0]["remit-to-code"], "RT-1");
    assert_eq!(t.get("/api/suppliers/5/addresses/50").await.1["postal-code"], "98111");
    assert_eq!(t.get("/api/suppliers/99/addresses").await.0, 404);
    assert_eq!(ids(&t.get("/api/invoices/1001/remit_to_addresses").await.1), [50]);
    let (_, info) = t.get("/api/supplier_information/60").await;
    assert_eq!(info["supplier-information-addresses"][0]["bank-account-number"], "000123");
    let (_, s) = t.get("/api/suppliers/5").await;
    assert!(s.get("exported").is_none(), "suppliers have no exported flag");
    let watermark = enc(s["updated-at"].as_str().unwrap());
    let q = format!("/api/suppliers?updated-at%5Bgt%5D={watermark}&order_by=updated_at&dir=asc");
    assert_eq!(ids(&t.get(&q).await.1), [6]);
    t.h.clock().advance(Duration::hours(1));
    t.action("update_supplier", json!({"number": "S-1", "remit_to": {"remit_to_code": "RT-1", "street1": "PO Box 77", "city": "Tacoma", "state": "WA", "postal_code": "98401"}}))
        .await;
    assert_eq!(ids(&t.get(&q).await.1), [6, 5], "the changed supplier comes after the watermark, in updated-at order");
    assert_eq!(t.get("/api/suppliers/5/addresses/50").await.1["city"], "Tacoma");
    t.h.shutdown().await;
}

#[tokio::test]
async fn rate_limit_bucket_and_its_answers() {
    let t = start_with(small(), true).await;
    // Burst of 20 on the frozen clock (the real clock refills 25/s, so count quickly is not
    // guaranteed: drain first, then measure with the simulated clock only).
    t.action("drain_rate_limit", json!({})).await;
    let (s, h, b) = t.call("GET", "/api/invoices?limit=1", &t.token, None).await;
    assert_eq!((s, b.as_str()), (429, "Rate limit exceeded"));
    assert_eq!(h["retry-after"], "1");
    assert!(h["content-type"].to_str().unwrap().starts_with("text/plain"));
    t.h.clock().advance(Duration::seconds(1));
    assert_eq!(t.get("/api/invoices?limit=1").await.0, 200, "one simulated second refills it");
    // Variants: no Retry-After, JSON body, 403.
    t.h.system().set_switch(|sw| {
        sw.rate_limit_retry_after_secs = None;
        sw.rate_limit_body = switches::RateLimitBody::Json;
        sw.rate_limit_status = 403;
    });
    t.action("drain_rate_limit", json!({})).await;
    let (s, h, b) = t.call("GET", "/api/invoices?limit=1", &t.token, None).await;
    assert_eq!(s, 403);
    assert!(h.get("retry-after").is_none());
    assert_eq!(serde_json::from_str::<Value>(&b).unwrap(), json!({"errors": {"error": ["Rate limit exceeded"]}}));
    let stats = t.action("rate_limit", json!({})).await;
    assert!(stats["stats"]["throttled"].as_u64().unwrap() >= 2);
    // Per client: another client's bucket is full; with one bucket per instance it is not.
    let other = t.mint(demo::READ_ONLY_CLIENT_ID, demo::READ_ONLY_CLIENT_SECRET, None).await;
    t.h.clock().advance(Duration::seconds(1));
    t.action("drain_rate_limit", json!({"client_id": ID})).await;
    assert_eq!(t.call("GET", "/api/invoices?limit=1", &t.token, None).await.0, 403);
    assert_eq!(t.call("GET", "/api/invoices?limit=1", &other, None).await.0, 200);
    t.h.system().set_switch(|sw| sw.rate_limit_key = switches::RateLimitKey::Instance);
    t.action("drain_rate_limit", json!({})).await;
    assert_eq!(t.call("GET", "/api/invoices?limit=1", &other, None).await.0, 403);
    t.h.shutdown().await;
}

#[tokio::test]
async fn kit_faults_and_coupas_own_page_faults() {
    let t = start().await;
    t.h.faults().add(FaultRule::new("GET", "/api/invoices", Fault::status(503)).times(1));
    assert_eq!(t.get("/api/invoices").await.0, 503);
    assert_eq!(t.get("/api/invoices").await.0, 200);
    // The ambiguous write: committed, then the connection dies.
    t.h.faults().add(FaultRule::new("PUT", "/api/invoices/{id}", Fault::commit_then_reset(10)).times(1));
    let r =
        t.c.put(t.url("/api/invoices/1002?exported=true"))
            .bearer_auth(&t.token)
            .header("Accept", "application/json")
            .send()
            .await;
    assert!(r.is_err(), "no answer");
    assert_eq!(t.get("/api/invoices/1002").await.1["exported"], true, "but it was applied");
    assert_eq!(t.h.calls().count("PUT", "/api/invoices/{id}"), 1);
    // A record duplicated across pages.
    t.action("inject_page_fault", json!({"kind": "duplicate_across_pages", "route": "/api/invoices"})).await;
    assert_eq!(ids(&t.get("/api/invoices?limit=2").await.1), [1001, 1002], "first pages are never shifted");
    assert_eq!(ids(&t.get("/api/invoices?limit=2&offset=2").await.1), [1002, 1003], "page 2 repeats page 1's last");
    assert_eq!(ids(&t.get("/api/invoices?limit=2&offset=4").await.1), [1004, 1005], "the rest of the walk is shifted");
    assert_eq!(t.get("/api/invoices?limit=2&offset=6").await.1, json!([]), "and nothing is lost");
    assert_eq!(ids(&t.get("/api/invoices?limit=2").await.1), [1001, 1002], "a new walk");
    assert_eq!(ids(&t.get("/api/invoices?limit=2&offset=2").await.1), [1003, 1004], "the fault was used once");
    // Truncated JSON with status 200.
    t.action("inject_page_fault", json!({"kind": "truncated_json", "route": "*invoices"})).await;
    let (s, _, b) = t.call("GET", "/api/invoices", &t.token, None).await;
    assert_eq!(s, 200);
    assert!(serde_json::from_str::<Value>(&b).is_err(), "cut in the middle: {}", &b[..40]);
    assert!(t.get("/api/invoices").await.1.is_array());
    t.h.shutdown().await;
}

type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

/// A receiver that records deliveries and answers `status` (500 for the first `fail_first`).
async fn receiver(fail_first: usize) -> (String, Seen) {
    async fn hook(State((seen, fail)): State<(Seen, usize)>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let mut s = seen.lock().unwrap();
        s.push((headers, body));
        if s.len() <= fail { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::ACCEPTED }
    }
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().route("/webhooks/coupa", post(hook)).with_state((seen.clone(), fail_first));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/coupa", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, seen)
}

async fn wait_for(seen: &Seen, n: usize) -> Vec<(HeaderMap, Bytes)> {
    for _ in 0..500 {
        if seen.lock().unwrap().len() >= n {
            return seen.lock().unwrap().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("only {} deliveries", seen.lock().unwrap().len());
}

/// Check a `t=…,v1=…` header against a secret (the receiver's rule, spelled out).
fn signed_with(h: &HeaderMap, body: &[u8], secret: &str) -> (bool, i64) {
    let v = h["x-mlc-signature"].to_str().unwrap();
    let t: i64 = v.split(',').find_map(|p| p.strip_prefix("t=")).unwrap().parse().unwrap();
    let want = mlc_webhooks::signed::sign(secret.as_bytes(), t, body);
    (v.split(',').any(|p| p.strip_prefix("v1=") == Some(want.as_str())), t)
}

#[tokio::test]
async fn signed_event_push_forged_expired_duplicate_rotated_and_retried() {
    let t = start().await;
    let (url, seen) = receiver(1).await;
    t.action("configure_events", json!({"url": url, "secret": "now-secret", "previous_secret": "old-secret"})).await;
    t.action("approve_invoice", json!({"id": 1005})).await;
    wait_for(&seen, 1).await;
    // The first attempt got 500; the retry waits 30 simulated seconds.
    t.h.clock().advance(Duration::seconds(31));
    let got = wait_for(&seen, 2).await;
    assert_eq!(got[0].1, got[1].1, "a retry resends the same signed request");
    let (h, body) = &got[1];
    let (ok, ts) = signed_with(h, body, "now-secret");
    assert!(ok);
    assert_eq!(ts, t.h.clock().now().timestamp() - 31, "t is the sending time");
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(
        (v["event"].as_str(), v["resource"].as_str(), v["resource-id"].as_i64()),
        (Some("invoice.approved"), Some("invoices"), Some(1005))
    );
    assert_eq!(v["data"]["status"], "approved");
    assert_eq!(h["x-coupa-delivery"].to_str().unwrap(), v["id"].as_str().unwrap());
    assert_eq!(h["x-coupa-event"], "invoice.approved");
    // Forged, expired, duplicated, rotated.
    t.action("send_event", json!({"event": "invoice.approved", "id": 1001, "forge": true})).await;
    let got = wait_for(&seen, 3).await;
    assert!(!signed_with(&got[2].0, &got[2].1, "now-secret").0, "forged");
    t.action("send_event", json!({"event": "invoice.approved", "id": 1001, "timestamp_offset_secs": -600})).await;
    let got = wait_for(&seen, 4).await;
    let (ok, ts) = signed_with(&got[3].0, &got[3].1, "now-secret");
    assert!(ok && t.h.clock().now().timestamp() - ts == 600, "validly signed, 10 minutes old");
    t.action("send_event", json!({"event": "supplier.updated", "number": "S-1", "repeat": 2})).await;
    let got = wait_for(&seen, 6).await;
    assert_eq!(got[4].1, got[5].1, "the same delivery twice");
    t.action("send_event", json!({"event": "purchase_order.revised", "po_number": "4500001", "sign_with_both": true}))
        .await;
    let got = wait_for(&seen, 7).await;
    assert!(signed_with(&got[6].0, &got[6].1, "old-secret").0 && signed_with(&got[6].0, &got[6].1, "now-secret").0);
    assert_eq!(got[6].0["x-mlc-signature"].to_str().unwrap().matches("v1=").count(), 2);
    // Unknown events and unconfigured receivers are refused.
    assert!(
        t.h.system().clone().action("send_event".into(), json!({"event": "invoice.paid", "id": 1001})).await.is_err()
    );
    t.h.shutdown().await;
}

#[tokio::test]
async fn call_out_mode_fetches_a_bearer_token_from_the_receiver_first() {
    type Got = Arc<Mutex<Vec<(String, String, String)>>>;
    async fn token(State(got): State<Got>, headers: HeaderMap, body: Bytes) -> axum::Json<Value> {
        let auth = headers["authorization"].to_str().unwrap().to_string();
        got.lock().unwrap().push(("token".into(), auth, String::from_utf8_lossy(&body).into()));
        axum::Json(json!({"access_token": "receiver-issued", "token_type": "bearer", "expires_in": 86399}))
    }
    async fn hook(State(got): State<Got>, headers: HeaderMap, _body: Bytes) -> StatusCode {
        let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        got.lock().unwrap().push(("hook".into(), auth, String::new()));
        StatusCode::OK
    }
    let got: Got = Arc::new(Mutex::new(Vec::new()));
    let app =
        Router::new().route("/oauth/token", post(token)).route("/webhooks/coupa", post(hook)).with_state(got.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    let t = start().await;
    t.action(
        "configure_events",
        json!({"url": format!("{base}/webhooks/coupa"), "secret": "s", "mode": "callout",
               "token_url": format!("{base}/oauth/token"), "client_id": "coupa-callout", "client_secret": "cs", "scope": "hooks"}),
    )
    .await;
    let wait = |n: usize| {
        let got = got.clone();
        async move {
            for _ in 0..300 {
                if got.lock().unwrap().len() >= n {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    };
    t.action("approve_invoice", json!({"id": 1005})).await;
    wait(2).await;
    t.action("send_event", json!({"event": "invoice.approved", "id": 1005})).await;
    wait(3).await;
    let g = got.lock().unwrap().clone();
    assert_eq!(g.iter().filter(|x| x.0 == "token").count(), 1, "the token is cached: {g:?}");
    let basic = base64::engine::general_purpose::URL_SAFE.encode("coupa-callout:cs");
    assert_eq!(g[0].1, format!("Basic {basic}"));
    assert_eq!(g[0].2, "grant_type=client_credentials&scope=hooks");
    assert!(g.iter().filter(|x| x.0 == "hook").all(|x| x.1 == "Bearer receiver-issued"));
    // A token URL that does not answer: the failure is kept, errors only.
    t.action("configure_events", json!({"url": format!("{base}/webhooks/coupa"), "secret": "s", "mode": "callout", "token_url": "http://127.0.0.1:9/none"}))
        .await;
    t.action("send_event", json!({"event": "invoice.approved", "id": 1005})).await;
    for _ in 0..300 {
        if !t.action("call_out_errors", json!({})).await["errors"].as_array().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let errs = t.action("call_out_errors", json!({})).await;
    assert!(errs["errors"][0]["error"].as_str().unwrap().contains("unreachable"), "{errs}");
    t.h.shutdown().await;
}

#[tokio::test]
async fn integration_history_records_are_created_listed_and_resolved() {
    let t = start().await;
    let body = json!({"document-type": "InvoiceHeader", "document-id": 1001, "status": "Error", "contact-alert-type": "Functional",
                      "responses": [{"response-code": "DELTEK-400", "response-message": "Vendor not found"}]});
    let (s, _, b) = t.call("POST", "/api/integration_history_records/create_alert", &t.token, Some(body)).await;
    assert_eq!(s, 201);
    let rec: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        (rec["alert"].as_bool(), rec["responses"][0]["response-message"].as_str()),
        (Some(true), Some("Vendor not found"))
    );
    let id = rec["id"].as_i64().unwrap();
    assert_eq!(t.put(&format!("/api/integration_history_records/{id}/resolve"), None).await.1["resolved"], true);
    assert_eq!(ids(&t.get("/api/integration_history_records?document-id=1001").await.1), [id]);
    let (s, _, b) =
        t.call("POST", "/api/integration_history_records", &t.token, Some(json!({"status": "Maybe"}))).await;
    assert_eq!(s, 400);
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["errors"]["integration_history_record"].as_array().unwrap().len(), 2, "{v}");
    t.h.shutdown().await;
}

#[tokio::test]
async fn snapshot_restore_reset_and_registration() {
    let t = start().await;
    let snap = t.h.system().snapshot();
    t.put("/api/invoices/1001?exported=true", None).await;
    t.action("revise_po", json!({"id": 7})).await;
    t.h.system().restore(&snap).expect("restore");
    assert_eq!(t.get("/api/invoices/1001").await.1["exported"], false);
    assert_eq!(t.get("/api/purchase_orders/7").await.1["version"], 1);
    assert_eq!(t.get("/api/invoices?limit=1").await.0, 200, "tokens survive a restore");
    assert!(t.h.system().restore(&json!({"invoices": "nope"})).is_err());
    // Reset to empty keeps the clients; to the demo firm loads the architecture firm.
    t.h.system().reset(crate::common::ResetTo::Empty).expect("reset");
    let tok = t.mint(ID, SECRET, None).await;
    assert_eq!(t.call("GET", "/api/invoices", &tok, None).await.2, "[]");
    t.h.system().reset(crate::common::ResetTo::Demo).expect("reset");
    assert_eq!(t.h.system().lock().suppliers.len(), 24);
    t.h.shutdown().await;
    // `mlc sim coupa`: registered, demo scenario, credentials in the info line.
    let h = crate::start("coupa", 0, SimClock::manual_default()).await.expect("registered");
    let info: Value = serde_json::from_str(&h.info_line()).unwrap();
    assert_eq!((info["system"].as_str(), info["credentials"]["client_id"].as_str()), (Some("coupa"), Some(ID)));
    assert_eq!(info["credentials"]["webhook_secret"], demo::WEBHOOK_SECRET);
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let r = c
        .post(format!("{}/oauth2/token", h.base_url()))
        .form(&[("grant_type", "client_credentials"), ("client_id", ID), ("client_secret", SECRET)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(crate::systems().contains(&"coupa"));
    h.shutdown().await;
}
