//! Behaviour tests of the Cin7 simulator over real HTTP (manual clocks, tiny windows).

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use chrono::{DateTime, Utc};
use reqwest::{Client, Method, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::model::{DocStatus, PurchaseKind};
use super::scenario::{self, Cin7Scenario, PurchaseBuilder, demo, line};
use super::{Cin7Sim, Cin7SimBuilder};
use crate::common::{Fault, FaultRule, SimClock, SimHandle};

fn client() -> Client {
    static C: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        Client::builder().no_proxy().pool_max_idle_per_host(0).timeout(Duration::from_secs(10)).build().expect("client")
    })
    .clone()
}

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn builder() -> Cin7SimBuilder {
    Cin7Sim::builder().clock(SimClock::manual_default())
}

async fn start_with(s: Cin7Scenario) -> SimHandle<Cin7Sim> {
    builder().scenario(s).start().await.expect("start")
}

/// Reference data, two suppliers and three purchases: a simple invoiced one, an advanced one with
/// two invoices (one draft), a stock-first one with its order authorised.
fn small() -> Cin7Scenario {
    let mut acme = scenario::supplier("Acme Survey Supply");
    acme.id = "11111111-1111-4111-8111-111111111111".into();
    acme.tax_rule = "WA Sales Tax".into();
    acme.contacts.push(super::model::SupplierContact {
        id: "c1".into(),
        name: "Ann Acme".into(),
        email: "ann@acme.test".into(),
        default: true,
        ..Default::default()
    });
    let mut geo = scenario::supplier("Granite Geotechnical, Inc.");
    geo.id = "22222222-2222-4222-8222-222222222222".into();
    let t = |s: &str| s.parse::<DateTime<Utc>>().expect("time");
    let simple = PurchaseBuilder::simple(&acme, "Port Harbor HQ")
        .id("aaaaaaaa-0000-4000-8000-000000000001")
        .order_number("PO-00001")
        .updated(t("2025-06-01T10:00:00.1234567Z"))
        .line(line("Survey stakes", "472", d("10"), d("4.50")))
        .order(DocStatus::Authorised)
        .invoice("ACME-1", DocStatus::Authorised, None, None)
        .build();
    let adv = PurchaseBuilder::advanced(&geo, "Tacoma Office")
        .id("aaaaaaaa-0000-4000-8000-000000000002")
        .order_number("PO-00002")
        .updated(t("2025-06-02T10:00:00Z"))
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
        .id("aaaaaaaa-0000-4000-8000-000000000003")
        .order_number("PO-00003")
        .approach(super::model::Approach::Stock)
        .updated(t("2025-06-03T10:00:00Z"))
        .line(line("Marking paint", "472", d("2"), d("80")))
        .order(DocStatus::Authorised)
        .build();
    Cin7Scenario::reference_data().supplier(acme).supplier(geo).purchase(simple).purchase(adv).purchase(stock)
}

async fn call(
    h: &SimHandle<Cin7Sim>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    call_as(h, demo::ACCOUNT_ID, demo::APPLICATION_KEY, method, path, body).await
}

async fn call_as(
    h: &SimHandle<Cin7Sim>,
    account: &str,
    key: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, HeaderMap, Value) {
    let url = format!("{}/{}", h.base_url(), path.trim_start_matches('/'));
    let mut rb =
        client().request(method, url).header("api-auth-accountid", account).header("api-auth-applicationkey", key);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("send");
    let (s, hd) = (r.status(), r.headers().clone());
    let text = r.text().await.unwrap_or_default();
    (s, hd, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn get(h: &SimHandle<Cin7Sim>, path: &str) -> (StatusCode, Value) {
    let (s, _, v) = call(h, Method::GET, path, None).await;
    (s, v)
}

async fn send(h: &SimHandle<Cin7Sim>, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
    let (s, _, v) = call(h, method, path, Some(body)).await;
    (s, v)
}

fn exception(v: &Value) -> String {
    v[0]["Exception"].as_str().or(v["Exception"].as_str()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn routing_auth_unknown_paths_and_errors() {
    let h = start_with(small()).await;
    // Case-insensitive paths and query keys.
    for p in ["purchaseList?page=1&limit=2", "PURCHASELIST?PAGE=1&LIMIT=2", "purchaselist/?Page=1&Limit=2"] {
        let (s, v) = get(&h, p).await;
        assert_eq!(s, StatusCode::OK, "{p}: {v}");
        assert_eq!((v["Total"].as_u64(), v["PurchaseList"].as_array().map(Vec::len)), (Some(3), Some(2)), "{p}");
    }
    let url = format!("{}/externalapi/V2/Supplier?name=acme", h.root_url());
    let r = client()
        .get(url)
        .header("API-AUTH-ACCOUNTID", demo::ACCOUNT_ID)
        .header("Api-Auth-ApplicationKey", demo::APPLICATION_KEY.to_uppercase())
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.expect("json")["SupplierList"][0]["Name"], "Acme Survey Supply");

    // Credentials: wrong, missing → 403 with an error array.
    let (s, _, v) =
        call_as(&h, demo::ACCOUNT_ID, "00000000-1111-2222-3333-444444444444", Method::GET, "purchaseList", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(v, json!([{ "ErrorCode": 403, "Exception": "Incorrect credentials!" }]));
    let r = client()
        .get(format!("{}/purchaseList", h.base_url()))
        .header("api-auth-accountid", demo::ACCOUNT_ID)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (s, _, _) =
        call_as(&h, "4d1f6a2e-0000-0000-0000-000000000000", demo::APPLICATION_KEY, Method::GET, "purchaseList", None)
            .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Unknown path: 200 with an HTML page (v1 path too), or 404 by switch.
    for p in [format!("{}/saleListt", h.base_url()), format!("{}/ExternalApi/purchaseList", h.root_url())] {
        let r = client().get(p).send().await.expect("send");
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
        assert!(r.text().await.unwrap_or_default().contains("Page not found"));
    }
    h.system().set_switch(|s| s.unknown_path = super::switches::UnknownPath::NotFound);
    let r = client().get(format!("{}/nothing", h.base_url())).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // 405 for PUT purchase/order [C]; non-JSON body → 400.
    let (s, v) = send(&h, Method::PUT, "purchase/order", json!({"TaskID": "x"})).await;
    assert_eq!((s, v[0]["ErrorCode"].as_u64()), (StatusCode::METHOD_NOT_ALLOWED, Some(405)));
    let r = client()
        .post(format!("{}/advanced-purchase", h.base_url()))
        .header("api-auth-accountid", demo::ACCOUNT_ID)
        .header("api-auth-applicationkey", demo::APPLICATION_KEY)
        .body("<xml/>")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Error objects instead of arrays, by switch.
    h.system().set_switch(|s| s.error_shape = super::switches::ErrorShape::Object);
    let (s, v) = get(&h, "advanced-purchase?ID=aaaaaaaa-0000-4000-8000-00000000dead").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v.is_object() && exception(&v).contains("not found"), "{v}");
    h.shutdown().await;
}

#[tokio::test]
async fn rate_limit_modes_retry_after_applications_and_rolling_window() {
    let h = start_with(small()).await;
    let sim = h.system().clone();
    sim.set_switch(|s| {
        s.rate_limit_calls = 3;
        s.rate_limit_window_ms = 60_000;
    });
    for _ in 0..3 {
        assert_eq!(get(&h, "purchaseList").await.0, StatusCode::OK);
    }
    let (s, hd, v) = call(&h, Method::GET, "purchaseList", None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(v, json!([{ "ErrorCode": 429, "Exception": "You reached 60 calls per minute API limit" }]));
    assert!(hd.get("retry-after").is_none(), "no Retry-After by default");
    // Another application on the same account has its own budget.
    let (s, _, _) = call_as(&h, demo::ACCOUNT_ID, demo::OTHER_APPLICATION_KEY, Method::GET, "purchaseList", None).await;
    assert_eq!(s, StatusCode::OK);

    sim.set_switch(|s| s.rate_limit_answer = super::switches::RateLimitAnswer::ServiceUnavailable);
    let (s, _, v) = call(&h, Method::GET, "supplier", None).await;
    assert_eq!((s, v[0]["ErrorCode"].as_u64()), (StatusCode::SERVICE_UNAVAILABLE, Some(503)));
    assert!(exception(&v).contains("calls per minute"));

    sim.set_switch(|s| s.rate_limit_answer = super::switches::RateLimitAnswer::Purchase400);
    let (s, _, v) = call(&h, Method::GET, "advanced-purchase?ID=aaaaaaaa-0000-4000-8000-000000000001", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v, json!([{ "ErrorCode": 400, "Exception": "You have reached 60 calls per 60 seconds API limit." }]));
    let (s, _, _) = call(&h, Method::GET, "purchase?ID=aaaaaaaa-0000-4000-8000-000000000001", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, _) = call(&h, Method::GET, "purchaseList", None).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "lists answer 503 in this mode");

    sim.set_switch(|s| {
        s.retry_after = true;
        s.rate_limit_answer = super::switches::RateLimitAnswer::TooManyRequests;
    });
    let (s, hd, _) = call(&h, Method::GET, "purchaseList", None).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let ra: u64 = hd["retry-after"].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&ra), "{ra}");
    sim.set_switch(|s| s.retry_after_secs = Some(7));
    let (_, hd, _) = call(&h, Method::GET, "purchaseList", None).await;
    assert_eq!(hd["retry-after"], "7");
    let totals = sim.lock().rate_stats.get(&demo::APPLICATION_KEY.to_ascii_lowercase()).copied().expect("stats");
    assert_eq!((totals.accepted, totals.rejected), (3, 7));

    // A rolling window in real time: 2 calls per 150 ms; rejected calls count too.
    sim.set_switch(|s| {
        s.rate_limit_calls = 2;
        s.rate_limit_window_ms = 150;
        s.retry_after = false;
    });
    tokio::time::sleep(Duration::from_millis(160)).await;
    assert_eq!(get(&h, "supplier").await.0, StatusCode::OK);
    assert_eq!(get(&h, "supplier").await.0, StatusCode::OK);
    assert_eq!(get(&h, "supplier").await.0, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(Duration::from_millis(160)).await;
    assert_eq!(get(&h, "supplier").await.0, StatusCode::OK);
    // "Another integration consumed N calls just now", via the control API.
    let r = client()
        .post(format!("{}/actions/consume_calls", h.control_url()))
        .json(&json!({"n": 5}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(get(&h, "supplier").await.0, StatusCode::TOO_MANY_REQUESTS);
    h.shutdown().await;
}

#[tokio::test]
async fn paging_envelope_limits_and_list_filters() {
    let h = start_with(small()).await;
    let (_, v) = get(&h, "purchaseList?Page=2&Limit=2").await;
    assert_eq!((v["Total"].as_u64(), v["Page"].as_u64()), (Some(3), Some(2)));
    assert_eq!(v["PurchaseList"].as_array().map(Vec::len), Some(1));
    let (_, v) = get(&h, "purchaseList?Page=9&Limit=2").await;
    assert_eq!((v["Total"].as_u64(), v["PurchaseList"].as_array().map(Vec::len)), (Some(3), Some(0)));
    for bad in ["Limit=0", "Limit=1001", "Page=0", "Limit=x"] {
        let (s, v) = get(&h, &format!("purchaseList?{bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
    }
    h.system().set_switch(|s| s.limit_out_of_range = super::switches::OutOfRange::Clamp);
    assert_eq!(get(&h, "purchaseList?Limit=5000").await.0, StatusCode::OK);

    // Sorted by LastUpdatedDate; UpdatedSince is strictly after.
    let (_, v) = get(&h, "purchaseList").await;
    let rows = v["PurchaseList"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        rows.iter().map(|r| r["OrderNumber"].as_str().unwrap_or("")).collect::<Vec<_>>(),
        ["PO-00001", "PO-00002", "PO-00003"]
    );
    assert_eq!(rows[0]["LastUpdatedDate"], "2025-06-01T10:00:00.1234567Z");
    let (_, v) = get(&h, "purchaseList?UpdatedSince=2025-06-01T10:00:00.1234567Z").await;
    assert_eq!(v["Total"], 2, "a record stamped exactly at the cursor is not after it");
    let (_, v) = get(&h, "purchaseList?UpdatedSince=2025-06-01T10:00:00.123").await;
    assert_eq!(v["Total"], 3, "zone-less, 3 digits, earlier: included");
    let (_, v) = get(&h, "purchaseList?UpdatedSince=2025-06-02T10:00:00&UpdatedUntil=2025-06-03T10:00:00Z").await;
    assert_eq!(v["Total"], 1);
    let (s, _) = get(&h, "purchaseList?UpdatedSince=last-tuesday").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Other filters.
    let total = |v: &Value| v["Total"].as_u64().unwrap_or(99);
    assert_eq!(total(&get(&h, "purchaseList?Search=gg-2").await.1), 1, "search finds invoice numbers of any task");
    assert_eq!(total(&get(&h, "purchaseList?Search=acme").await.1), 2);
    assert_eq!(total(&get(&h, "purchaseList?Status=ORDERED").await.1), 1);
    assert_eq!(total(&get(&h, "purchaseList?InvoiceStatus=DRAFT").await.1), 1);
    assert_eq!(total(&get(&h, "purchaseList?InvoiceStatus=NOT%20AVAILABLE").await.1), 1);
    assert_eq!(total(&get(&h, "purchaseList?OrderStatus=AUTHORISED").await.1), 3);
    let (_, v) = get(&h, "purchaseList?Search=PO-00002").await;
    let row = &v["PurchaseList"][0];
    assert_eq!(row["Type"], "Advanced Purchase");
    assert_eq!(row["CombinedInvoiceStatus"], "PARTIALLY INVOICED");
    assert_eq!(row["Status"], "PARTIALLY INVOICED");
    assert!(row.get("Approach").is_none(), "no Approach in list items [C]");

    // Stamp styles.
    h.system().set_switch(|s| s.stamp_style = super::switches::StampStyle::Plain);
    let (_, v) = get(&h, "purchaseList?Limit=1").await;
    assert_eq!(v["PurchaseList"][0]["LastUpdatedDate"], "2025-06-01T10:00:00");
    h.shutdown().await;
}

#[tokio::test]
async fn simple_purchase_lifecycle_preconditions_and_legacy_shapes() {
    let h = start_with(small()).await;
    let acme = "11111111-1111-4111-8111-111111111111";
    // Header POST: lines ignored [C], DRAFT, PO number, every document NOT AVAILABLE.
    let (s, p) = send(&h, Method::POST, "advanced-purchase", json!({
        "SupplierID": acme, "Approach": "Stock", "Location": "port harbor hq", "PurchaseType": "Simple",
        "Lines": [{"Name": "ignored", "Quantity": 1, "Price": 1}], "AdditionalAttributes": {"AdditionalAttribute1": "2024011.00|01"}
    })).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["Status"].as_str(), p["Approach"].as_str(), p["Location"].as_str()),
        (Some("DRAFT"), Some("STOCK"), Some("Port Harbor HQ"))
    );
    assert_eq!(p["OrderNumber"], "PO-00004");
    assert_eq!(p["Order"]["Lines"], json!([]));
    assert_eq!(p["Invoice"], json!([]));
    assert_eq!(p["CombinedPaymentStatus"], "UNPAID");
    assert_eq!(p["AdditionalAttributes"]["AdditionalAttribute1"], "2024011.00|01");
    let id = p["ID"].as_str().expect("id").to_string();
    let stamp0 = p["LastUpdatedDate"].as_str().expect("stamp").to_string();
    let (s, v) = send(&h, Method::POST, "advanced-purchase", json!({"SupplierID": acme, "Location": "Nowhere"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(exception(&v).contains("Approach is required"), "{v}");

    // Invoice before the order is authorised: refused [C].
    let inv = json!({"TaskID": id, "InvoiceNumber": "A-77", "Status": "DRAFT", "Lines": [{"Name": "Stakes", "Quantity": 10, "Price": 4.5, "Account": "472", "Total": 45}]});
    let (s, v) = send(&h, Method::POST, "purchase/invoice", inv.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(exception(&v).contains("Order status should be AUTHORISED"), "{v}");
    // Order draft, then authorised (lines kept when the authorising POST has none).
    let (s, v) = send(&h, Method::POST, "purchase/order", json!({"TaskID": id, "Status": "DRAFT", "Lines": [{"SKU": "SUP-STAKE", "Name": "Stakes", "Quantity": 10, "Price": 4.5, "Total": 45}]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(get(&h, &format!("advanced-purchase?ID={id}")).await.1["Status"], "ORDERING");
    let (s, v) = send(&h, Method::POST, "purchase/order", json!({"TaskID": id, "Status": "AUTHORISED"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["TaskID"].as_str(), v["Total"].as_f64()), (Some(id.as_str()), Some(49.55)), "{v}");
    let (s, v) = send(&h, Method::POST, "purchase/order", json!({"TaskID": id, "Status": "DRAFT"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an authorised order cannot be posted again: {v}");
    // STOCK approach: stock must be authorised before the invoice [C].
    let (s, v) = send(&h, Method::POST, "purchase/invoice", inv.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(exception(&v).contains("STOCK"), "{v}");
    let (s, v) =
        send(&h, Method::POST, "purchase/stock", json!({"TaskID": id, "Status": "AUTHORISED", "Lines": []})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let p = get(&h, &format!("advanced-purchase?ID={id}")).await.1;
    assert_eq!(
        (p["Status"].as_str(), p["CombinedReceivingStatus"].as_str()),
        (Some("RECEIVED"), Some("FULLY RECEIVED"))
    );
    // Invoice: draft, then authorised by posting the same task again; then refused.
    let (s, v) = send(&h, Method::POST, "purchase/invoice", inv).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["InvoiceNumber"].as_str(), v["Total"].as_f64(), v["Tax"].as_f64()),
        (Some("A-77"), Some(49.55), Some(4.55))
    );
    let (s, v) = send(&h, Method::POST, "purchase/invoice", json!({"TaskID": id, "Status": "AUTHORISED"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = send(&h, Method::POST, "purchase/invoice", json!({"TaskID": id, "Status": "AUTHORISED"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(exception(&v).contains("DRAFT or NOT AVAILABLE"), "{v}");
    let p = get(&h, &format!("advanced-purchase?ID={id}")).await.1;
    assert_eq!((p["Status"].as_str(), p["CombinedInvoiceStatus"].as_str()), (Some("COMPLETED"), Some("INVOICED")));
    assert_eq!(p["Invoice"][0]["TaskID"], id.as_str());
    assert_eq!(p["Invoice"][0]["Lines"][0]["Account"], "472");
    assert!(p["LastUpdatedDate"].as_str().expect("stamp") > stamp0.as_str(), "every write bumps LastUpdatedDate");
    // Payment → PAID.
    let (s, v) = send(
        &h,
        Method::POST,
        "purchase/payment",
        json!({"TaskID": id, "Type": "PAYMENT", "Amount": 49.55, "DatePaid": "2025-06-16", "Account": "090"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["Status"], "PAID");
    let p = get(&h, &format!("purchase?ID={id}")).await.1;
    assert_eq!(p["CombinedPaymentStatus"], "PAID");
    // Legacy shape: single objects and the documented typo.
    assert!(p["Invoice"].is_object() && p["StockReceived"].is_object() && p["CreditNote"].is_object(), "{p}");
    assert_eq!(p["Invoice"]["InvocieNumber"], "A-77");
    assert!(p["Invoice"].get("InvoiceNumber").is_none());
    assert_eq!(p["CreditNote"]["Status"], "NOT AVAILABLE");
    h.system().set_switch(|s| s.legacy_invoice_number_key = super::switches::LegacyInvoiceKey::Both);
    let p = get(&h, &format!("purchase?ID={id}")).await.1;
    assert_eq!(
        (p["Invoice"]["InvocieNumber"].as_str(), p["Invoice"]["InvoiceNumber"].as_str()),
        (Some("A-77"), Some("A-77"))
    );
    // The legacy endpoint refuses Advanced purchases [C].
    let (s, v) = get(&h, "purchase?ID=aaaaaaaa-0000-4000-8000-000000000002").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(exception(&v).ends_with("Please use AdvancedPurchase endpoint"), "{v}");
    // Voiding a paid purchase is refused; undo of the stock-first order works.
    let (s, _) = send(&h, Method::DELETE, &format!("advanced-purchase?ID={id}&Void=true"), json!(null)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    h.shutdown().await;
}

#[tokio::test]
async fn advanced_purchase_invoices_credit_notes_void_and_undo() {
    let h = start_with(small()).await;
    let id = "aaaaaaaa-0000-4000-8000-000000000002";
    let p = get(&h, &format!("advanced-purchase?ID={id}")).await.1;
    let invs = p["Invoice"].as_array().cloned().unwrap_or_default();
    assert_eq!(invs.len(), 2);
    assert_eq!(invs[0]["TaskID"], id, "the first task takes the purchase id");
    let second = invs[1]["TaskID"].as_str().expect("task").to_string();
    assert_ne!(second, id);
    assert_eq!((invs[0]["Total"].as_f64(), invs[1]["Status"].as_str()), (Some(2160.0), Some("DRAFT")));
    // Authorise the second invoice through the flat advanced body.
    let (s, v) = send(
        &h,
        Method::POST,
        "advanced-purchase/invoice",
        json!({"PurchaseID": id, "TaskID": second.to_uppercase(), "Status": "AUTHORISED"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["PurchaseID"], id);
    assert_eq!(v["Invoices"][1]["Status"], "AUTHORISED");
    let p = get(&h, &format!("advanced-purchase?ID={id}")).await.1;
    assert_eq!((p["Status"].as_str(), p["CombinedInvoiceStatus"].as_str()), (Some("INVOICED"), Some("INVOICED")));
    assert_eq!(p["CombinedReceivingStatus"], "NOT RECEIVED");
    // A third invoice: new task (TaskID omitted or all-zero).
    let (s, v) = send(&h, Method::POST, "advanced-purchase/invoice", json!({"PurchaseID": id, "TaskID": "00000000-0000-0000-0000-000000000000", "InvoiceNumber": "GG-3", "Status": "DRAFT", "Lines": [{"Name": "Extra", "Quantity": 1, "Price": 100, "Account": "462"}]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["Invoices"].as_array().map(Vec::len), Some(3));
    // Credit note on the authorised invoices.
    let (s, v) = send(&h, Method::POST, "advanced-purchase/creditnote", json!({"PurchaseID": id, "CreditNoteNumber": "CN-9", "Status": "AUTHORISED", "Lines": [{"Name": "Credit: hours", "Quantity": 1, "Price": 180, "Account": "462"}]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["CreditNotes"][0]["TaskID"], id);
    let p = get(&h, &format!("advanced-purchase?ID={id}")).await.1;
    assert_eq!(
        (p["Status"].as_str(), p["CombinedInvoiceStatus"].as_str()),
        (Some("CREDITED"), Some("INVOICED / CREDITED"))
    );
    // Void one invoice, undo another, then void everything.
    let (s, v) =
        send(&h, Method::DELETE, &format!("advanced-purchase/invoice?TaskID={second}&Void=false"), json!(null)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["Invoices"][1]["Status"], "DRAFT");
    let (s, v) =
        send(&h, Method::DELETE, &format!("advanced-purchase/invoice?TaskID={second}&Void=true"), json!(null)).await;
    assert_eq!((s, v["Invoices"][1]["Status"].as_str()), (StatusCode::OK, Some("VOIDED")));
    let (s, v) = send(
        &h,
        Method::DELETE,
        "advanced-purchase/invoice?TaskID=aaaaaaaa-0000-4000-8000-000000000001&Void=true",
        json!(null),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "not for simple purchases [C]: {v}");
    let (s, v) = send(&h, Method::DELETE, &format!("advanced-purchase?ID={id}&Void=true"), json!(null)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["Status"].as_str(), v["CombinedPaymentStatus"].as_str()), (Some("VOIDED"), Some("VOIDED")));
    assert!(v["Invoice"].as_array().expect("arr").iter().all(|i| i["Status"] == "VOIDED"));
    // CombineAdditionalCharges folds charges into lines.
    let sid = "aaaaaaaa-0000-4000-8000-000000000003";
    let (s, v) = send(&h, Method::POST, "purchase/stock", json!({"TaskID": sid, "Status": "AUTHORISED"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = send(
        &h,
        Method::POST,
        "purchase/invoice",
        json!({"TaskID": sid, "Status": "AUTHORISED", "InvoiceNumber": "A-2",
        "Lines": [{"Name": "Marking paint", "Quantity": 2, "Price": 80, "Account": "472"}],
        "AdditionalCharges": [{"Description": "Freight", "Price": 25, "Quantity": 1, "Account": "474"}]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let p = get(&h, &format!("advanced-purchase?ID={sid}&CombineAdditionalCharges=true")).await.1;
    assert_eq!(p["Invoice"][0]["Lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(p["Invoice"][0]["AdditionalCharges"], json!([]));
    h.shutdown().await;
}

#[tokio::test]
async fn line_validation_and_reporting() {
    let h = start_with(small()).await;
    let sid = "aaaaaaaa-0000-4000-8000-000000000003";
    send(&h, Method::POST, "purchase/stock", json!({"TaskID": sid, "Status": "AUTHORISED"})).await;
    let post = |lines: Value| {
        send(&h, Method::POST, "purchase/invoice", json!({"TaskID": sid, "Status": "DRAFT", "Lines": lines}))
    };
    let (s, v) = post(json!([{"Name": "Paint", "Quantity": 2, "Price": 80}])).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(exception(&v), "Invoice line 1: Account is required");
    let (_, v) = post(json!([{"Name": "Paint", "Quantity": 2, "Price": 80, "Account": "999"}])).await;
    assert!(exception(&v).contains("'999' was not found"), "{v}");
    let (_, v) = post(json!([{"Name": "Paint", "Quantity": 2, "Price": 80, "Account": "472", "Total": 150}])).await;
    assert!(exception(&v).contains("does not match"), "{v}");
    let (_, v) =
        post(json!([{"Name": "Paint", "Quantity": 0.5, "Price": 80, "Account": "472", "TaxRule": "Nope"}])).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "Cin7 reports one problem at a time");
    h.system().set_switch(|s| s.report_all_validation_errors = true);
    let (_, v) =
        post(json!([{"Name": "Paint", "Quantity": 0.5, "Price": 80, "Account": "472", "TaxRule": "Nope"}])).await;
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
    h.system().set_switch(|s| {
        s.validate_line_totals = false;
        s.validate_references = false;
    });
    let (s, v) = post(json!([{"Name": "Paint", "Quantity": 2, "Price": 80, "Account": "999", "Total": 1}])).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["Lines"][0]["Total"].as_f64(), Some(160.0), "the server's own total wins");
    h.shutdown().await;
}

#[tokio::test]
async fn suppliers_and_accounts() {
    let h = start_with(small()).await;
    let (_, v) = get(&h, "supplier?Name=GRAN").await;
    assert_eq!(
        (v["Total"].as_u64(), v["SupplierList"][0]["Name"].as_str()),
        (Some(1), Some("Granite Geotechnical, Inc."))
    );
    let new = json!({"Name": "Delta Drafting", "Currency": "usd", "PaymentTerm": "Net 60", "AccountPayable": "800", "TaxRule": "Tax Exempt",
        "Addresses": [{"Line1": "1 Main St", "Country": "United States", "Type": "Business"}], "Contacts": [{"Name": "Dee", "Email": "dee@delta.test"}]});
    let (s, v) = send(&h, Method::POST, "supplier", new.clone()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(exception(&v), "Active payment term with name 'Net 60' was not found");
    let mut ok = new.clone();
    ok["PaymentTerm"] = json!("Net 30");
    ok["AccountPayable"] = json!("090");
    let (_, v) = send(&h, Method::POST, "supplier", ok.clone()).await;
    assert!(exception(&v).contains("Accounts payable"), "{v}");
    ok["AccountPayable"] = json!("800");
    let (s, v) = send(&h, Method::POST, "supplier", ok.clone()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["Total"].as_u64(), v["Page"].as_u64()), (Some(1), Some(1)), "writes answer in the paged envelope");
    let card = v["SupplierList"][0].clone();
    let (_, v) = send(&h, Method::POST, "supplier", ok).await;
    assert!(exception(&v).contains("already exists"), "{v}");
    // PUT: an address with its ID is updated, one without is added; Deprecated hides it.
    let addr = card["Addresses"][0]["ID"].as_str().expect("addr id");
    let (s, v) = send(
        &h,
        Method::PUT,
        "supplier",
        json!({"ID": card["ID"], "Status": "Deprecated", "Addresses": [
        {"ID": addr, "City": "Port Harbor"}, {"Line1": "PO Box 9", "Country": "United States", "Type": "Billing"}]}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let a = v["SupplierList"][0]["Addresses"].as_array().cloned().unwrap_or_default();
    assert_eq!((a.len(), a[0]["City"].as_str()), (2, Some("Port Harbor")));
    assert_eq!(get(&h, "supplier?Name=delta").await.1["Total"], 0);
    assert_eq!(get(&h, "supplier?Name=delta&IncludeDeprecated=true").await.1["Total"], 1);
    let since = card["LastModifiedOn"].as_str().expect("stamp");
    let (_, v) = get(&h, &format!("supplier?ModifiedSince={since}&IncludeDeprecated=true")).await;
    assert_eq!(v["Total"], 1, "the PUT moved it past its creation stamp: {v}");

    // Accounts.
    let (_, v) = get(&h, "ref/account?Limit=1000").await;
    assert!(v["AccountsList"].as_array().is_some_and(|a| a.len() > 20));
    let ap = v["AccountsList"].as_array().expect("list").iter().find(|a| a["Code"] == "800").cloned().expect("800");
    assert_eq!(
        (ap["SystemAccountCode"].as_str(), ap["DisplayName"].as_str()),
        (Some("CREDITORS"), Some("800: Accounts Payable"))
    );
    let (s, v) = get(&h, "ref/account?Code=12345").await;
    assert_eq!((s, exception(&v)), (StatusCode::BAD_REQUEST, "Account with specified ID not found".to_string()));
    assert_eq!(get(&h, "ref/account?Code=462").await.1["AccountsList"][0]["Name"], "Subconsultants - Geotechnical");
    assert_eq!(get(&h, "ref/account?Class=EXPENSE&Status=ACTIVE").await.1["Total"], 21);
    let (s, _) = send(
        &h,
        Method::POST,
        "ref/account",
        json!({"Code": "999", "Name": "New", "Type": "EXPENSE", "Class": "EXPENSE"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    h.system().set_switch(|s| s.accounting_integration = true);
    let (s, v) = send(&h, Method::PUT, "ref/account", json!({"Code": "999", "Name": "Renamed"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(exception(&v).contains("Xero or Quickbooks"), "{v}");
    h.shutdown().await;
}

#[tokio::test]
async fn webhook_crud_limits_shapes_and_automation() {
    let h = start_with(small()).await;
    let hook = |t: &str| json!({"Type": t, "ExternalURL": "http://127.0.0.1:9/hook", "ExternalHeaders": [{"Key": "x-mlc-webhook-secret", "Value": "s"}]});
    let (s, v) = send(&h, Method::POST, "webhooks", hook("purchase/invoiceauthorised")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let w = &v["Webhooks"][0];
    assert_eq!(
        (w["Type"].as_str(), w["IsActive"].as_bool(), w["Name"].as_str()),
        (Some("Purchase/InvoiceAuthorised"), Some(true), Some("Purchase invoice has been authorised"))
    );
    for _ in 0..4 {
        assert_eq!(send(&h, Method::POST, "webhooks", hook("Purchase/InvoiceAuthorised")).await.0, StatusCode::OK);
    }
    let (s, v) = send(&h, Method::POST, "webhooks", hook("Purchase/InvoiceAuthorised")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(exception(&v).contains("Maximum"), "{v}");
    let (s, _) = send(&h, Method::POST, "webhooks", hook("Purchase/Created")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "there is no Purchase/Created [C]");
    h.system().set_switch(|s| s.webhook_post_shape = super::switches::WebhookPostShape::Bare);
    let (_, v) = send(&h, Method::POST, "webhooks", hook("Supplier/Updated")).await;
    let id = v["ID"].as_str().expect("bare object").to_string();
    let (s, v) = send(
        &h,
        Method::PUT,
        "webhooks",
        json!({"ID": id, "IsActive": false, "ExternalAuthorizationType": "bearerauth", "ExternalBearerToken": "tok"}),
    )
    .await;
    assert_eq!((s, v["IsActive"].as_bool()), (StatusCode::OK, Some(false)));
    let (s, _) = send(&h, Method::DELETE, &format!("webhooks?ID={id}"), json!(null)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(get(&h, "webhooks").await.1["Webhooks"].as_array().map(Vec::len), Some(5));
    h.system().set_switch(|s| s.automation_enabled = false);
    let (s, v) = get(&h, "webhooks").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(exception(&v).contains("Automation"), "{v}");
    h.shutdown().await;
}

/// A webhook receiver: records (headers, body) and answers `status`.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
    status: Arc<AtomicU16>,
}

async fn receiver() -> Receiver {
    type S = (Arc<Mutex<Vec<(HeaderMap, Value)>>>, Arc<AtomicU16>);
    async fn hook(
        State((got, status)): State<S>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::http::StatusCode {
        got.lock().expect("lock").push((headers, serde_json::from_slice(&body).unwrap_or(Value::Null)));
        axum::http::StatusCode::from_u16(status.load(Ordering::SeqCst)).unwrap_or(axum::http::StatusCode::OK)
    }
    let got = Arc::new(Mutex::new(Vec::new()));
    let status = Arc::new(AtomicU16::new(200));
    let app = Router::new().route("/hook", post(hook)).with_state((got.clone(), status.clone()));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/hook", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    Receiver { url, got, status }
}

async fn wait_for(sim: &Arc<Cin7Sim>, what: &str, f: impl Fn(&[super::Delivery]) -> bool) {
    for _ in 0..500 {
        if f(&sim.deliveries()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}: {:#?}", sim.deliveries());
}

#[tokio::test]
async fn webhook_delivery_headers_payloads_and_timing_on_a_manual_clock() {
    let h = start_with(small()).await;
    let sim = h.system().clone();
    let rx = receiver().await;
    for (t, auth) in [
        (
            "Purchase/InvoiceAuthorised",
            json!({"ExternalAuthorizationType": "noauth", "ExternalHeaders": [{"Key": "x-mlc-webhook-secret", "Value": "s3cret"}]}),
        ),
        (
            "Purchase/Updated",
            json!({"ExternalAuthorizationType": "basicauth", "ExternalUserName": "u", "ExternalPassword": "p"}),
        ),
        ("Supplier/Updated", json!({"ExternalAuthorizationType": "bearerauth", "ExternalBearerToken": "tok-1"})),
    ] {
        let mut body = json!({"Type": t, "ExternalURL": rx.url});
        for (k, v) in auth.as_object().expect("obj") {
            body[k] = v.clone();
        }
        assert_eq!(send(&h, Method::POST, "webhooks", body).await.0, StatusCode::OK);
    }
    // A clerk authorises the draft second invoice of the advanced purchase.
    let id = "aaaaaaaa-0000-4000-8000-000000000002";
    let task = get(&h, &format!("advanced-purchase?ID={id}")).await.1["Invoice"][1]["TaskID"]
        .as_str()
        .expect("task")
        .to_string();
    let (s, v) = send(
        &h,
        Method::POST,
        "advanced-purchase/invoice",
        json!({"PurchaseID": id, "TaskID": task, "Status": "AUTHORISED"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(rx.got.lock().expect("lock").is_empty(), "nothing before the first minute");
    assert_eq!(sim.deliveries().len(), 2);
    h.clock().advance(chrono::Duration::seconds(61));
    wait_for(&sim, "both delivered", |d| d.iter().all(|x| x.state == "delivered")).await;
    let got = rx.got.lock().expect("lock").clone();
    let inv = got.iter().find(|(_, b)| b["EventType"] == "Purchase/InvoiceAuthorised").expect("invoice event");
    assert_eq!(inv.0["x-mlc-webhook-secret"], "s3cret");
    assert_eq!(inv.0["content-type"], "application/json; charset=utf-8");
    assert_eq!(inv.1["TaskID"], task.to_uppercase(), "sub-task id, upper case (defaults)");
    assert_eq!(
        (inv.1["PurchaseOrderNumber"].as_str(), inv.1["InvoiceNumber"].as_str()),
        (Some("PO-00002"), Some("GG-2"))
    );
    assert!(inv.1.get("SupplierContactName").is_some());
    let upd = got.iter().find(|(_, b)| b["EventType"] == "Purchase/Updated").expect("updated event");
    assert!(upd.0["authorization"].to_str().unwrap_or("").starts_with("Basic "));
    assert_eq!(upd.1["NumberOfPurchase"], 1);
    let header = &upd.1["CustomerDetailsList"][0];
    assert_eq!(
        (header["ID"].as_str(), header["Status"].as_str()),
        (Some(id.to_uppercase().as_str()), Some("INVOICED"))
    );
    assert!(header["LastUpdatedDate"].is_string() && header.get("Invoice").is_none());

    // Supplier/Updated: nested by default, flat by switch; bearer auth.
    let (s, _) = send(
        &h,
        Method::PUT,
        "supplier",
        json!({"ID": "22222222-2222-4222-8222-222222222222", "Comments": "preferred"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    sim.set_switch(|s| {
        s.supplier_updated_nesting = super::switches::SupplierNesting::Flat;
        s.webhook_task_id = super::switches::WebhookTaskId::Purchase;
        s.purchase_updated_list_key = "PurchaseList".into();
    });
    let (s, _) =
        send(&h, Method::PUT, "supplier", json!({"ID": "22222222-2222-4222-8222-222222222222", "Comments": "again"}))
            .await;
    assert_eq!(s, StatusCode::OK);
    sim.flush_webhooks();
    wait_for(&sim, "supplier events delivered", |d| d.len() == 4 && d.iter().all(|x| x.state == "delivered")).await;
    let got = rx.got.lock().expect("lock").clone();
    let sups: Vec<&(HeaderMap, Value)> = got.iter().filter(|(_, b)| b["EventType"] == "Supplier/Updated").collect();
    assert_eq!(sups.len(), 2);
    assert!(sups.iter().all(|(h, _)| h["authorization"] == "Bearer tok-1"));
    // Both were flushed together, so either may arrive first.
    let nested = sups.iter().find(|(_, b)| b["SupplierDetailsList"][0].get("Supplier").is_some()).expect("nested");
    assert_eq!(nested.1["SupplierDetailsList"][0]["Supplier"]["ID"], "22222222-2222-4222-8222-222222222222");
    assert!(nested.1["SupplierDetailsList"][0]["Addresses"].is_array());
    let flat = sups.iter().find(|(_, b)| b["SupplierDetailsList"][0].get("Supplier").is_none()).expect("flat");
    assert_eq!(flat.1["SupplierDetailsList"][0]["ID"], "22222222-2222-4222-8222-222222222222");
    // fire_event (no change, duplicate announcement) with the purchase id as TaskID.
    let r = client()
        .post(format!("{}/actions/fire_event", h.control_url()))
        .json(&json!({"type": "Purchase/InvoiceAuthorised", "order_number": "PO-00002", "task_id": task}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    sim.flush_webhooks();
    wait_for(&sim, "fired", |d| d.len() == 5 && d.iter().all(|x| x.state == "delivered")).await;
    let last = rx.got.lock().expect("lock").last().cloned().expect("last");
    assert_eq!(last.1["TaskID"], id.to_uppercase());
    assert_eq!(h.kit().webhooks.deliveries().len(), 5, "the kit's log shows every attempt");
    h.shutdown().await;
}

#[tokio::test]
async fn webhook_retries_then_deactivation_and_lost_deliveries() {
    let h = start_with(small()).await;
    let sim = h.system().clone();
    sim.set_switch(|s| s.webhook_timeout_ms = 2_000);
    let rx = receiver().await;
    rx.status.store(500, Ordering::SeqCst);
    let (_, v) = send(&h, Method::POST, "webhooks", json!({"Type": "Purchase/Updated", "ExternalURL": rx.url})).await;
    let wid = v["Webhooks"][0]["ID"].as_str().expect("id").to_string();
    let r = client()
        .post(format!("{}/actions/touch_purchase", h.control_url()))
        .json(&json!({"order_number": "PO-00001"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let t0 = h.clock().now();
    // First attempt at +1 min, then +5, +10, +15, +20, +25 min.
    let mut expected = vec![chrono::Duration::minutes(1)];
    for m in [5, 10, 15, 20, 25] {
        expected.push(*expected.last().expect("last") + chrono::Duration::minutes(m));
    }
    for (n, at) in expected.iter().enumerate() {
        h.clock().set(t0 + *at - chrono::Duration::seconds(1));
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(sim.deliveries()[0].attempts.len(), n, "not yet at {at}");
        h.clock().set(t0 + *at);
        wait_for(&sim, "an attempt", |d| d[0].attempts.len() == n + 1).await;
        assert_eq!(sim.deliveries()[0].attempts[n].at, t0 + *at);
        assert_eq!(sim.deliveries()[0].attempts[n].status, Some(500));
    }
    wait_for(&sim, "failed", |d| d[0].state == "failed").await;
    let (_, v) = get(&h, "webhooks").await;
    assert_eq!(
        (v["Webhooks"][0]["ID"].as_str(), v["Webhooks"][0]["IsActive"].as_bool()),
        (Some(wid.as_str()), Some(false)),
        "deactivated after the last failure"
    );
    assert_eq!(rx.got.lock().expect("lock").len(), 6);
    // An inactive webhook gets nothing.
    send(&h, Method::PUT, "supplier", json!({"ID": "22222222-2222-4222-8222-222222222222", "Comments": "x"})).await;
    let r = client()
        .post(format!("{}/actions/touch_purchase", h.control_url()))
        .json(&json!({"order_number": "PO-00001"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.json::<Value>().await.expect("json")["deliveries"], 0);

    // Lost deliveries: all of them, then a deterministic share.
    rx.status.store(200, Ordering::SeqCst);
    send(&h, Method::PUT, "webhooks", json!({"ID": wid, "IsActive": true})).await;
    sim.set_switch(|s| s.webhook_drop_share = 1.0);
    client()
        .post(format!("{}/actions/touch_purchase", h.control_url()))
        .json(&json!({"order_number": "PO-00001"}))
        .send()
        .await
        .expect("send");
    assert_eq!(sim.deliveries().last().map(|d| d.state.clone()), Some("dropped".into()));
    let r = client()
        .post(format!("{}/switches", h.control_url()))
        .json(&json!({"webhook_drop_share": 0.5, "webhook_drop_seed": 42}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    for _ in 0..40 {
        client()
            .post(format!("{}/actions/touch_purchase", h.control_url()))
            .json(&json!({"order_number": "PO-00002"}))
            .send()
            .await
            .expect("send");
    }
    let dropped = sim.deliveries().iter().rev().take(40).filter(|d| d.state == "dropped").count();
    assert!((8..=32).contains(&dropped), "{dropped} of 40 dropped");
    h.shutdown().await;
}

#[tokio::test]
async fn commit_then_reset_applies_the_write() {
    let h = start_with(small()).await;
    h.faults().add(FaultRule::new("POST", "/webhooks", Fault::commit_then_reset(50)).times(1));
    let url = format!("{}/webhooks", h.base_url());
    let r = client()
        .post(url)
        .header("api-auth-accountid", demo::ACCOUNT_ID)
        .header("api-auth-applicationkey", demo::APPLICATION_KEY)
        .json(&json!({"Type": "Purchase/Updated", "ExternalURL": "http://127.0.0.1:9/x"}))
        .send()
        .await;
    assert!(r.is_err(), "the answer is lost");
    assert_eq!(get(&h, "webhooks").await.1["Webhooks"].as_array().map(Vec::len), Some(1), "but the webhook exists");
    assert_eq!(h.calls().count("POST", "/webhooks"), 1);
    h.faults().add(FaultRule::new("GET", "/purchaseList", Fault::status(503)).times(1));
    let (s, v) = get(&h, "purchaseList").await;
    assert_eq!((s, v[0]["ErrorCode"].as_u64()), (StatusCode::SERVICE_UNAVAILABLE, Some(503)));
    h.shutdown().await;
}

#[tokio::test]
async fn generated_firm_covers_every_state_deterministically() {
    let s = scenario::engineering_firm(scenario::DEFAULT_SEED, scenario::DEFAULT_PURCHASES);
    let again = scenario::engineering_firm(scenario::DEFAULT_SEED, scenario::DEFAULT_PURCHASES);
    assert_eq!(s.purchases, again.purchases);
    assert_eq!(s.suppliers.len(), 40);
    assert!(s.purchases.len() >= 300);
    let sim = builder().scenario(s.clone()).build().expect("build");
    let st = sim.lock();
    let statuses: std::collections::BTreeSet<String> = st.purchases.iter().map(|p| p.status()).collect();
    for want in [
        "DRAFT",
        "ORDERING",
        "ORDERED",
        "RECEIVING",
        "RECEIVED",
        "INVOICED",
        "COMPLETED",
        "PARTIALLY INVOICED",
        "VOIDED",
        "CREDITED",
    ] {
        assert!(statuses.contains(want), "{want} missing from {statuses:?}");
    }
    let docs: std::collections::BTreeSet<&str> =
        st.purchases.iter().flat_map(|p| p.invoices.iter().map(|i| i.status.as_str())).collect();
    assert!(["DRAFT", "AUTHORISED", "PAID", "VOIDED"].iter().all(|x| docs.contains(x)), "{docs:?}");
    let cns: std::collections::BTreeSet<&str> =
        st.purchases.iter().flat_map(|p| p.credit_notes.iter().map(|c| c.status.as_str())).collect();
    assert!(cns.contains("DRAFT") && cns.contains("AUTHORISED"));
    for k in [PurchaseKind::Simple, PurchaseKind::Advanced, PurchaseKind::Service] {
        assert!(st.purchases.iter().any(|p| p.kind == k), "{k:?}");
    }
    assert!(st.purchases.iter().any(|p| p.kind == PurchaseKind::Advanced && p.invoices.len() >= 3));
    assert!(st.purchases.iter().filter(|p| p.kind == PurchaseKind::Advanced && p.invoices.len() >= 2).count() >= 5);
    for a in [super::model::Approach::Invoice, super::model::Approach::Stock] {
        assert!(st.purchases.iter().any(|p| p.approach == a));
    }
    for l in scenario::LOCATIONS {
        assert!(st.purchases.iter().filter(|p| p.location == l).count() > 50, "{l}");
    }
    let codes: std::collections::BTreeSet<&str> = st
        .purchases
        .iter()
        .flat_map(|p| p.invoices.iter().flat_map(|i| i.lines.iter().map(|l| l.account.as_str())))
        .collect();
    assert!(codes.len() >= 15, "{codes:?}");
    assert!(codes.iter().all(|c| st.account(c).is_some()), "every line account exists");
    assert!(st.purchases.iter().any(|p| p.supplier_currency == "CAD"));
    assert!(st.purchases.iter().all(|p| p.last_updated <= scenario::anchor()));
    let mut stamps: Vec<_> = st.purchases.iter().map(|p| p.last_updated).collect();
    stamps.sort();
    stamps.dedup();
    assert_eq!(stamps.len(), st.purchases.len(), "stamps are unique");
    let pos: std::collections::BTreeSet<&str> = st.purchases.iter().map(|p| p.order_number.as_str()).collect();
    assert_eq!(pos.len(), st.purchases.len());
    // Every invoiced purchase's numbers add up and every invoice has lines with accounts.
    for p in st.purchases.iter().filter(|p| !p.invoices.is_empty()) {
        for i in &p.invoices {
            assert!(!i.lines.is_empty() && i.lines.iter().all(|l| !l.account.is_empty()), "{}", p.order_number);
            assert!(!i.invoice_number.is_empty());
        }
    }
    for p in st.purchases.iter().filter(|p| p.invoices.iter().any(|i| i.status == DocStatus::Paid)) {
        assert!(
            matches!(p.combined_payment(), "PAID" | "PARTIALLY PAID" | "OVERPAID / CREDITED"),
            "{} {}",
            p.order_number,
            p.combined_payment()
        );
    }
    // Hints line up with the generated suppliers.
    let hints = scenario::supplier_hints(scenario::DEFAULT_SEED);
    assert_eq!(hints.iter().filter(|h| h.deltek_vendor.is_some()).count(), 28);
    assert!(hints.iter().all(|h| st.supplier_idx(&h.id).is_some()));
    drop(st);
    // JSON round trip: export, read back, same answers.
    let now = scenario::anchor();
    let json = s.to_json(now).expect("json");
    let back = Cin7Scenario::from_json(&json).expect("from json");
    let again = back.to_json(now).expect("json");
    assert_eq!(first_diff(&again, &json, ""), None);
}

/// Where two JSON values first differ.
fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                let (va, vb) = (x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null));
                if let Some(d) = first_diff(va, vb, &format!("{path}.{k}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (va, vb))| first_diff(va, vb, &format!("{path}[{i}]")))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} != {b}")),
    }
}

#[tokio::test]
async fn json_seed_reset_and_standalone() {
    let h = builder().empty().start().await.expect("start");
    assert_eq!(get(&h, "purchaseList").await.1["Total"], 0);
    let seed = json!({
        "suppliers": [{"ID": "33333333-3333-4333-8333-333333333333", "Name": "Seeded Co", "Currency": "USD", "PaymentTerm": "Net 30",
                        "AccountPayable": "800", "TaxRule": "Tax Exempt", "LastModifiedOn": "2025-05-01T08:00:00"}],
        "purchases": [{"ID": "bbbbbbbb-0000-4000-8000-000000000001", "Type": "Simple Purchase", "SupplierID": "33333333-3333-4333-8333-333333333333",
                        "Approach": "INVOICE", "Location": "Tacoma Office", "OrderNumber": "PO-00500", "LastUpdatedDate": "2025-05-02T09:00:00.5Z",
                        "Order": {"Status": "AUTHORISED", "Lines": [{"Name": "Thing", "Quantity": 2, "Price": 10}]},
                        "Invoice": {"TaskID": "bbbbbbbb-0000-4000-8000-000000000001", "InvocieNumber": "S-1", "Status": "AUTHORISED",
                                    "Lines": [{"Name": "Thing", "Quantity": 2, "Price": 10, "Account": "453"}]}}]
    });
    let r = client().post(format!("{}/seed", h.control_url())).json(&seed).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    let p = get(&h, "advanced-purchase?ID=BBBBBBBB-0000-4000-8000-000000000001").await.1;
    assert_eq!(
        (p["Status"].as_str(), p["Invoice"][0]["InvoiceNumber"].as_str(), p["Invoice"][0]["Total"].as_f64()),
        (Some("INVOICED"), Some("S-1"), Some(20.0))
    );
    assert_eq!(p["Supplier"], "Seeded Co");
    // A new purchase continues the order numbers.
    let (_, v) = send(
        &h,
        Method::POST,
        "advanced-purchase",
        json!({"Supplier": "seeded co", "Approach": "INVOICE", "Location": "Tacoma Office"}),
    )
    .await;
    assert_eq!(v["OrderNumber"], "PO-00501");
    let r =
        client().post(format!("{}/reset", h.control_url())).json(&json!({"to": "initial"})).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(get(&h, "purchaseList").await.1["Total"], 0);
    let info: Value = client().get(h.control_url()).send().await.expect("send").json().await.expect("json");
    assert_eq!(info["system"], "cin7");
    assert!(info["actions"].as_array().is_some_and(|a| a.iter().any(|x| x == "consume_calls")));
    h.shutdown().await;

    let mut out = Vec::new();
    crate::run_standalone_with("cin7", 0, &mut out, async {}).await.expect("standalone");
    let first: Value =
        serde_json::from_slice(out.split(|b| *b == b'\n').next().unwrap_or_default()).expect("json line");
    assert_eq!(first["system"], "cin7");
    assert!(first["base_url"].as_str().is_some_and(|u| u.ends_with("/ExternalApi/v2")));
    assert_eq!(first["credentials"]["account_id"], demo::ACCOUNT_ID);
}
