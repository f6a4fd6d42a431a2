//! Helpers shared by the simulator's own HTTP tests.
#![allow(dead_code)]

use std::time::Duration;

use mlc_sim::common::{SimClock, SimHandle};
use mlc_sim::deltek::{DeltekCredentials, DeltekSim, DeltekSimBuilder};
use reqwest::{Client, Method, StatusCode};
use serde_json::Value;

/// A client that never goes through a proxy (everything is on loopback). Built once (building
/// one costs ~100 ms in debug builds); no pooling, so it is safe across the tests' runtimes.
pub fn client() -> Client {
    static C: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        Client::builder().no_proxy().pool_max_idle_per_host(0).timeout(Duration::from_secs(10)).build().expect("client")
    })
    .clone()
}

/// A builder with a manual clock at the default instant (demo scenario).
pub fn builder() -> DeltekSimBuilder {
    DeltekSim::builder().clock(SimClock::manual_default())
}

/// Start the demo Deltek simulator on a manual clock.
pub async fn start() -> SimHandle<DeltekSim> {
    builder().start().await.expect("start")
}

pub fn creds(h: &SimHandle<DeltekSim>) -> DeltekCredentials {
    h.system().typed_credentials(h.base_url())
}

/// The token form exactly as Deltek documents it.
pub fn token_form(c: &DeltekCredentials) -> Vec<(&'static str, String)> {
    vec![
        ("Username", c.username.clone()),
        ("Password", c.password.clone()),
        ("grant_type", "password".into()),
        ("Integrated", "N".into()),
        ("database", c.database.clone()),
        ("Client_Id", c.client_id.clone()),
        ("client_secret", c.client_secret.clone()),
    ]
}

pub async fn post_form(h: &SimHandle<DeltekSim>, form: &[(&str, String)]) -> (StatusCode, Value) {
    let r = client().post(format!("{}/token", h.base_url())).form(form).send().await.expect("send");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// A fresh access token for the demo user.
pub async fn token(h: &SimHandle<DeltekSim>) -> String {
    let (s, v) = post_form(h, &token_form(&creds(h))).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["access_token"].as_str().expect("access_token").to_string()
}

/// Call the API under the base URL; returns status and JSON body (Null when not JSON).
pub async fn call(
    h: &SimHandle<DeltekSim>,
    tok: &str,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/{}", h.base_url(), path.trim_start_matches('/'));
    let mut rb = client().request(method, url).bearer_auth(tok);
    if let Some(b) = body {
        rb = rb.json(b);
    }
    let r = rb.send().await.expect("send");
    let s = r.status();
    let text = r.text().await.unwrap_or_default();
    (s, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub async fn get(h: &SimHandle<DeltekSim>, tok: &str, path: &str) -> (StatusCode, Value) {
    call(h, tok, Method::GET, path, None).await
}

pub async fn post(h: &SimHandle<DeltekSim>, tok: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    call(h, tok, Method::POST, path, Some(body)).await
}

pub async fn put(h: &SimHandle<DeltekSim>, tok: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    call(h, tok, Method::PUT, path, Some(body)).await
}

/// `/__sim` call.
pub async fn ctl(h: &SimHandle<DeltekSim>, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut rb = client().request(method, format!("{}/{}", h.control_url(), path.trim_start_matches('/')));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("send");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// The `Message` of a Vantagepoint error body.
pub fn message(v: &Value) -> String {
    v["Message"].as_str().unwrap_or_default().to_string()
}

/// Decode PostTransFile's JSON-in-a-string answer.
pub fn post_result(v: &Value) -> Value {
    serde_json::from_str(v.as_str().expect("PostTransFile answers a JSON string")).expect("inner JSON")
}

/// A one-voucher AP file body in the shape Deltek's Postman sample uses.
pub fn ap_body(batch: &str, vendor: &str, invoice: &str, lines: &[(&str, &str, &str, &str, f64)]) -> Value {
    let total: f64 = lines.iter().map(|l| l.4).sum();
    let mpk = format!("{batch}M1");
    let details: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (w1, w2, w3, acct, amt))| {
            serde_json::json!({
                "Batch": batch, "MasterPKey": mpk, "PKey": format!("{batch}L{i}"), "Seq": i + 1,
                "Description": format!("line {i}"), "WBS1": w1, "WBS2": w2, "WBS3": w3,
                "Account": acct, "Amount": amt, "NetAmount": amt, "SuppressBill": "N"
            })
        })
        .collect();
    serde_json::json!({
        "Batch": batch, "Description": "API file", "Recurring": "N", "DefaultCurrencyCode": "USD",
        "Total": total, "DefaultLiab": "AP", "Selected": "N", "Posted": "N", "Period": 0,
        "apMaster": [{
            "Batch": batch, "MasterPKey": mpk, "Vendor": vendor, "Invoice": invoice,
            "InvoiceDate": "2025-06-10T00:00:00.000", "TransDate": "2025-06-16T00:00:00.000",
            "LiabCode": "AP", "PayTerms": "30", "Address": "<Default>", "Status": "N"
        }],
        "apDetail": details
    })
}

/// PostTransFile body with `parms` as an object.
pub fn post_parms(batch: &str, tt: &str) -> Value {
    serde_json::json!({"parms": {"batch": batch, "clientcompany": "A0", "description": batch, "period": "", "transtype": tt}})
}
