//! Behaviour tests of the Acumatica simulator over real HTTP (manual clocks unless a test needs
//! time to run on its own).

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use chrono::Duration;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use super::scenario::{self, DEFAULT_SEED, Side, demo};
use super::switches::AcumaticaSwitches;
use super::{AcumaticaSim, AcumaticaSimBuilder};
use crate::common::{Fault, FaultRule, SimClock, SimHandle};

const V: &str = "24.200.001";

fn client() -> Client {
    static C: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(StdDuration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    })
    .clone()
}

fn builder() -> AcumaticaSimBuilder {
    AcumaticaSim::builder().clock(SimClock::manual_default()).switches(AcumaticaSwitches::unthrottled())
}

async fn start() -> SimHandle<AcumaticaSim> {
    builder().start().await.expect("start")
}

/// An OAuth token for the demo user.
async fn token(h: &SimHandle<AcumaticaSim>) -> String {
    let (s, v) = token_form(h, &password_form("api offline_access")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["access_token"].as_str().expect("token").to_string()
}

fn password_form(scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "password".into()),
        ("client_id", demo::CLIENT_ID.into()),
        ("client_secret", demo::CLIENT_SECRET.into()),
        ("username", demo::USERNAME.into()),
        ("password", demo::PASSWORD.into()),
        ("scope", scope.into()),
    ]
}

async fn token_form(h: &SimHandle<AcumaticaSim>, form: &[(&str, String)]) -> (StatusCode, Value) {
    let r = client().post(format!("{}/identity/connect/token", h.base_url())).form(form).send().await.expect("send");
    let s = r.status();
    let t = r.text().await.unwrap_or_default();
    (s, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

async fn call(
    h: &SimHandle<AcumaticaSim>,
    tok: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let url = format!("{}/entity/Default/{V}/{}", h.base_url(), path.trim_start_matches('/'));
    let mut rb = client().request(method, url).bearer_auth(tok);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("send");
    let (s, hd) = (r.status(), r.headers().clone());
    let t = r.text().await.unwrap_or_default();
    (s, hd, serde_json::from_str(&t).unwrap_or(Value::String(t)))
}

async fn get(h: &SimHandle<AcumaticaSim>, tok: &str, path: &str) -> (StatusCode, Value) {
    let (s, _, v) = call(h, tok, Method::GET, path, None, &[]).await;
    (s, v)
}

async fn put(
    h: &SimHandle<AcumaticaSim>,
    tok: &str,
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let (s, _, v) = call(h, tok, Method::PUT, path, Some(body), headers).await;
    (s, v)
}

fn w<T: serde::Serialize>(x: T) -> Value {
    json!({ "value": x })
}

fn exception(v: &Value) -> String {
    v["exceptionMessage"].as_str().or(v["message"].as_str()).unwrap_or_default().to_string()
}

#[tokio::test]
async fn entity_list_versions_and_not_found_answers() {
    let h = start().await;
    let v: Value =
        client().get(format!("{}/entity", h.base_url())).send().await.expect("send").json().await.expect("json");
    let versions: Vec<&str> = v["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .filter(|e| e["name"] == "Default")
        .filter_map(|e| e["version"].as_str())
        .collect();
    assert_eq!(versions, ["20.200.001", "22.200.001", "23.200.001", "24.200.001"]);
    assert!(v["version"]["acumaticaBuildVersion"].is_string());
    let tok = token(&h).await;
    // A version the tenant does not serve, an unknown entity, and Branch (absent from Default [C]).
    for path in
        ["/entity/Default/99.200.001/Vendor", "/entity/Default/24.200.001/Nope", "/entity/Default/24.200.001/Branch"]
    {
        let r = client().get(format!("{}{path}", h.base_url())).bearer_auth(&tok).send().await.expect("send");
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: Value = r.json().await.expect("json");
        assert!(
            body["message"].as_str().is_some_and(|m| m.starts_with("No HTTP resource was found") && m.contains(path)),
            "{body}"
        );
    }
    // Unauthenticated requests to a wrong version are still 404 (routing comes first).
    let r = client().get(format!("{}/entity/Default/19.100.001/Vendor", h.base_url())).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    h.system().set_switch(|s| {
        s.serve_cv5 = true;
        s.entity_list_shape = super::switches::EntityListShape::Array;
        s.not_found_body = super::switches::NotFoundBody::Empty;
    });
    let v: Value =
        client().get(format!("{}/entity", h.base_url())).send().await.expect("send").json().await.expect("json");
    assert!(v.as_array().is_some_and(|a| a.iter().any(|e| e["version"] == "26.200.001")), "{v}");
    let r = client().get(format!("{}/entity/Default/99.200.001/Vendor", h.base_url())).send().await.expect("send");
    assert_eq!((r.status(), r.text().await.unwrap_or_default()), (StatusCode::NOT_FOUND, String::new()));
    // Custom endpoints are listed only to signed-in callers.
    h.system().seed_json(&json!({"custom_endpoints": [{"name": "MLConnector", "version": "1.0.0"}]})).expect("seed");
    h.system().set_switch(|s| s.entity_list_shape = super::switches::EntityListShape::Object);
    let anon: Value =
        client().get(format!("{}/entity", h.base_url())).send().await.expect("send").json().await.expect("json");
    let signed: Value = client()
        .get(format!("{}/entity", h.base_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let has = |v: &Value| v["endpoints"].as_array().is_some_and(|a| a.iter().any(|e| e["name"] == "MLConnector"));
    assert!(!has(&anon) && has(&signed));
    assert!(anon["features"].is_array(), "2026 R2 lists features with CV5");
    h.shutdown().await;
}

#[tokio::test]
async fn oauth_password_refresh_expiry_and_refusals() {
    let h = start().await;
    let (s, v) = token_form(&h, &password_form("api offline_access")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!((v["expires_in"].as_i64(), v["token_type"].as_str()), (Some(3600), Some("Bearer")));
    assert_eq!(v["scope"], "api offline_access");
    let (access, refresh) =
        (v["access_token"].as_str().expect("a").to_string(), v["refresh_token"].as_str().expect("r").to_string());
    assert_eq!(get(&h, &access, "Vendor?$top=1").await.0, StatusCode::OK);
    // No offline_access: no refresh token.
    let (_, v) = token_form(&h, &password_form("api")).await;
    assert!(v.get("refresh_token").is_none(), "{v}");
    // Refusals.
    let mut bad = password_form("api");
    bad[4].1 = "wrong".into();
    assert_eq!(
        token_form(&h, &bad).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_grant", "error_description": "invalid_username_or_password"})
        )
    );
    let mut other_tenant = password_form("api");
    other_tenant[1].1 = demo::CLIENT_ID.replace("@HarborWholesale", "@OtherTenant");
    assert_eq!(token_form(&h, &other_tenant).await.1["error"], "invalid_client");
    assert_eq!(token_form(&h, &password_form("openid")).await.1["error"], "invalid_scope");
    let cc = vec![
        ("grant_type", "client_credentials".to_string()),
        ("client_id", demo::CLIENT_ID.into()),
        ("client_secret", demo::CLIENT_SECRET.into()),
    ];
    assert_eq!(token_form(&h, &cc).await, (StatusCode::BAD_REQUEST, json!({"error": "unsupported_grant_type"})));
    // Expiry after 3600 s: 401 with the HttpError body.
    h.clock().advance(Duration::seconds(3601));
    let (s, v) = get(&h, &access, "Vendor?$top=1").await;
    assert_eq!((s, v["message"].as_str()), (StatusCode::UNAUTHORIZED, Some("You are not logged in.")));
    // Refresh rotates; the used refresh token stops working.
    let refresh_form = |r: &str| {
        vec![
            ("grant_type", "refresh_token".to_string()),
            ("client_id", demo::CLIENT_ID.into()),
            ("client_secret", demo::CLIENT_SECRET.into()),
            ("refresh_token", r.to_string()),
        ]
    };
    let (s, v) = token_form(&h, &refresh_form(&refresh)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let new_refresh = v["refresh_token"].as_str().expect("rotated").to_string();
    assert_ne!(new_refresh, refresh);
    assert_eq!(get(&h, v["access_token"].as_str().expect("a"), "Vendor?$top=1").await.0, StatusCode::OK);
    assert_eq!(token_form(&h, &refresh_form(&refresh)).await.1["error"], "invalid_grant");
    // The chain ends 30 days after the password grant.
    h.clock().advance(Duration::days(30));
    assert_eq!(token_form(&h, &refresh_form(&new_refresh)).await.1["error"], "invalid_grant");
    h.shutdown().await;
}

#[tokio::test]
async fn licence_session_cap_counts_oauth_grants_and_cookie_sessions() {
    let h = builder()
        .switches(AcumaticaSwitches { licence_max_sessions: 2, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let (s, v) = token_form(&h, &password_form("api offline_access")).await;
    assert_eq!(s, StatusCode::OK);
    let refresh = v["refresh_token"].as_str().expect("r").to_string();
    // A cookie login takes the second session.
    let login =
        json!({"name": demo::USERNAME, "password": demo::PASSWORD, "tenant": demo::TENANT, "branch": demo::BRANCH});
    let r = client().post(format!("{}/entity/auth/login", h.base_url())).json(&login).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    // A third sign-in is refused with 429 "API Login Limit" [C].
    let (s, v) = token_form(&h, &password_form("api")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(v.to_string().contains("API Login Limit"), "{v}");
    // A refresh reuses its grant's session: no new session needed.
    let form = vec![
        ("grant_type", "refresh_token".to_string()),
        ("client_id", demo::CLIENT_ID.into()),
        ("client_secret", demo::CLIENT_SECRET.into()),
        ("refresh_token", refresh),
    ];
    assert_eq!(token_form(&h, &form).await.0, StatusCode::OK);
    // IIS text variant.
    h.system().set_switch(|s| s.login_limit_body = super::switches::LoginLimitBody::IisText);
    let r = client().post(format!("{}/entity/auth/login", h.base_url())).json(&login).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text().await.unwrap_or_default(), super::state::IIS_TEXT);
    // Idle cookie sessions lapse after 10 minutes; expired tokens free theirs after an hour.
    h.clock().advance(Duration::seconds(3601));
    assert_eq!(token_form(&h, &password_form("api")).await.0, StatusCode::OK);
    let st: Value = client()
        .post(format!("{}/actions/licence", h.control_url()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(st["counters"]["login_refused"].as_u64() >= Some(2), "{st}");
    h.shutdown().await;
}

#[tokio::test]
async fn cookie_login_logout_idle_and_refusals() {
    let h = start().await;
    let url = |p: &str| format!("{}{p}", h.base_url());
    let login = |body: Value| client().post(url("/entity/auth/login")).json(&body).send();
    let r = login(
        json!({"name": demo::USERNAME, "password": demo::PASSWORD, "tenant": demo::TENANT, "branch": demo::BRANCH}),
    )
    .await
    .expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .collect();
    for name in [".ASPXAUTH=", "ASP.NET_SessionId=", "UserBranch="] {
        assert!(cookies.iter().any(|c| c.starts_with(name)), "{name} in {cookies:?}");
    }
    let cookie = cookies.join("; ");
    let with_cookie = |m: Method, p: &str| client().request(m, url(p)).header("cookie", cookie.clone());
    assert_eq!(
        with_cookie(Method::GET, &format!("/entity/Default/{V}/Vendor?$top=1")).send().await.expect("send").status(),
        StatusCode::OK
    );
    // Bad credentials: 500 PXException [C]; unknown tenant: PXUndefinedCompanyException [C]; no tenant: the default one.
    let r: Value =
        login(json!({"name": demo::USERNAME, "password": "nope"})).await.expect("send").json().await.expect("json");
    assert_eq!(
        (r["exceptionMessage"].as_str(), r["exceptionType"].as_str()),
        (Some("Error: Invalid credentials. Please try again."), Some("PX.Data.PXException"))
    );
    let r =
        login(json!({"name": demo::USERNAME, "password": demo::PASSWORD, "tenant": "Nowhere"})).await.expect("send");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.text().await.unwrap_or_default().contains("PXUndefinedCompanyException"));
    let r = login(json!({"name": demo::USERNAME, "password": demo::PASSWORD, "company": demo::TENANT}))
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "company is the older alias of tenant");
    // Logout wants Content-Length: 0 [C: IIS 411]; an empty body alone does not send it.
    let r =
        client().post(url("/entity/auth/logout")).header("cookie", cookie.clone()).body("").send().await.expect("send");
    assert_eq!(r.status(), StatusCode::LENGTH_REQUIRED);
    let r = client()
        .post(url("/entity/auth/logout"))
        .header("cookie", cookie.clone())
        .header("content-length", "0")
        .body("")
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        with_cookie(Method::GET, &format!("/entity/Default/{V}/Vendor")).send().await.expect("send").status(),
        StatusCode::UNAUTHORIZED
    );
    // Idle timeout.
    let r = login(json!({"name": demo::USERNAME, "password": demo::PASSWORD})).await.expect("send");
    let cookie2: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .collect();
    let c2 = cookie2.join("; ");
    h.clock().advance(Duration::minutes(9));
    let g = |c: &str| {
        client().get(url(&format!("/entity/Default/{V}/Vendor?$top=1"))).header("cookie", c.to_string()).send()
    };
    assert_eq!(g(&c2).await.expect("send").status(), StatusCode::OK, "9 idle minutes: still signed in");
    h.clock().advance(Duration::minutes(11));
    assert_eq!(g(&c2).await.expect("send").status(), StatusCode::UNAUTHORIZED, "11 idle minutes: gone");
    h.shutdown().await;
}

#[tokio::test]
async fn logout_without_content_length_is_411() {
    let h = start().await;
    let addr = h.addr();
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(b"POST /AcumaticaERP/entity/auth/logout HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 411"), "{text}");
    h.shutdown().await;
}

#[tokio::test]
async fn representation_filters_select_expand_and_paging() {
    let h = start().await;
    let tok = token(&h).await;
    let (s, list) = get(&h, &tok, "Vendor?$top=3").await;
    assert_eq!(s, StatusCode::OK);
    let a = list.as_array().expect("bare array");
    assert_eq!(a.len(), 3);
    let first = &a[0];
    assert!(
        first["id"].is_string() && first["rowNumber"] == 1 && first["note"].is_object() && first["custom"] == json!({}),
        "{first}"
    );
    assert!(
        first["_links"]["self"]
            .as_str()
            .is_some_and(|l| l.starts_with("/AcumaticaERP/entity/Default/24.200.001/Vendor/"))
    );
    assert_eq!(first["VendorID"]["value"], "V10001");
    assert!(first.get("MainContact").is_none(), "linked entities only with $expand");
    assert!(
        first["LastModifiedDateTime"]["value"].as_str().is_some_and(|t| t.ends_with("-04:00")),
        "tenant offset: {first}"
    );
    assert_eq!(first["PaymentMethod"]["value"], "CHECK");
    assert_eq!(first["ReceivingBranch"], json!({}), "empty fields are {{}}");
    // $skip/$top page in key order; past the end is [].
    let (_, p2) = get(&h, &tok, "Vendor?$top=3&$skip=3").await;
    assert_eq!(p2[0]["VendorID"]["value"], "V10004");
    assert_eq!(p2[0]["rowNumber"], 1);
    assert_eq!(get(&h, &tok, "Vendor?$skip=500").await.1, json!([]));
    // $select and $expand.
    let (_, sel) = get(&h, &tok, "Vendor?$top=1&$select=VendorID,MainContact/Email&$expand=MainContact").await;
    let o = sel[0].as_object().expect("obj");
    assert!(o.contains_key("VendorID") && !o.contains_key("VendorName"), "{o:?}");
    assert!(sel[0]["MainContact"]["Email"]["value"].is_string() && sel[0]["MainContact"].get("Phone1").is_none());
    let (_, po) = get(&h, &tok, "PurchaseOrder?$top=1&$expand=Details").await;
    assert!(po[0]["Details"][0]["OrderQty"]["value"].is_number(), "decimals are numbers: {}", po[0]["Details"][0]);
    assert_eq!(po[0]["Type"]["value"], "Normal", "drop-downs show labels");
    // $filter: delta, labels, codes, linked paths, functions.
    let all = get(&h, &tok, "Bill").await.1.as_array().expect("a").len();
    let (_, open) = get(&h, &tok, "Bill?$filter=Status eq 'Open'").await;
    assert!(
        open.as_array()
            .is_some_and(|a| !a.is_empty() && a.len() < all && a.iter().all(|b| b["Status"]["value"] == "Open"))
    );
    assert_eq!(
        get(&h, &tok, "Bill?$filter=Status eq 'N'").await.1.as_array().map(Vec::len),
        open.as_array().map(Vec::len)
    );
    let since = "2025-06-01T00:00:00+00:00";
    let url = format!("{}/entity/Default/{V}/Vendor", h.base_url());
    let r: Value = client()
        .get(&url)
        .bearer_auth(&tok)
        .query(&[("$filter", format!("LastModifiedDateTime gt datetimeoffset'{since}'"))])
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        r.as_array().map(|a| a.iter().map(|v| v["VendorID"]["value"].clone()).collect::<Vec<_>>()),
        Some(vec![json!(demo::BOTH_EDITED)])
    );
    // The offset's '+' sent raw becomes a space: refused, naming the fix.
    let raw = format!("{url}?$filter=LastModifiedDateTime%20gt%20datetimeoffset'2025-06-01T00:00:00+00:00'");
    let r = client().get(raw).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.text().await.unwrap_or_default().contains("%2B"));
    let (_, v) = get(&h, &tok, "Vendor?$filter=MainContact/Email eq 'orders@atlantic.example'").await;
    assert_eq!(v[0]["VendorID"]["value"], "V10001");
    let (_, v) = get(&h, &tok, "Vendor?$filter=startswith(VendorName,'Harbor') and Status eq 'Active'").await;
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    // Unknown fields: the HttpError names the field [I: status 500].
    let (s, v) = get(&h, &tok, "Vendor?$filter=Colour eq 'red'").await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(exception(&v).contains("'Colour'"), "{v}");
    let (s, v) = get(&h, &tok, "Vendor?$select=VendorID,LegalName").await;
    assert_eq!(s, StatusCode::OK, "LegalName exists in 24.200: {v}");
    let r = client()
        .get(format!("{}/entity/Default/20.200.001/Vendor?$select=LegalName", h.base_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR, "LegalName is not in 20.200");
    let (s, v) = get(&h, &tok, "Bill?$expand=Lines").await;
    assert!(s == StatusCode::INTERNAL_SERVER_ERROR && exception(&v).contains("Lines"), "{v}");
    // Get by key and by id; a missing key is a 500 NoEntitySatisfiesTheCondition, not 404 [C].
    let (s, v) = get(&h, &tok, "Bill/Bill/000001?$expand=Details").await;
    assert_eq!(s, StatusCode::OK);
    let id = v["id"].as_str().expect("id").to_string();
    assert!(v["Details"].as_array().is_some_and(|d| !d.is_empty()));
    assert_eq!(get(&h, &tok, &format!("Bill/{id}")).await.1["ReferenceNbr"]["value"], "000001");
    assert_eq!(get(&h, &tok, "Bill/Bill|000001").await.1["id"], id.as_str(), "'|' separates keys");
    let (s, v) = get(&h, &tok, "Vendor/NOPE").await;
    assert_eq!((s, v["exceptionType"].as_str()), (StatusCode::INTERNAL_SERVER_ERROR, Some(super::api::NO_ENTITY_TYPE)));
    // Optimisation failure on list reads.
    h.system().set_switch(|s| s.optimization_error_fields = vec!["Bill.Details".into()]);
    let (s, v) = get(&h, &tok, "Bill?$expand=Details").await;
    assert!(
        s == StatusCode::INTERNAL_SERVER_ERROR
            && exception(&v).starts_with("Optimization cannot be performed.The following fields cause the error:"),
        "{v}"
    );
    assert_eq!(get(&h, &tok, &format!("Bill/{id}?$expand=Details")).await.0, StatusCode::OK, "per key still works");
    // Contract Version 5 shapes.
    h.system().set_switch(|s| s.serve_cv5 = true);
    let r: Value = client()
        .get(format!("{}/entity/Default/26.200.001/Bill/{id}", h.base_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["Type"]["value"], json!({"id": "INV", "description": "Bill"}));
    assert!(r["Date"]["value"].as_str().is_some_and(|d| d.len() == 10), "DateOnlyValue: {}", r["Date"]);
    h.shutdown().await;
}

#[tokio::test]
async fn put_upsert_preconditions_numbering_and_errors() {
    let h = start().await;
    let tok = token(&h).await;
    let vendor = json!({"VendorID": w("V20001"), "VendorName": w("New Supplier LLC"), "MainContact": {"Email": w("ap@new.example")}});
    let inm = [("If-None-Match", "*")];
    let (s, v) = put(&h, &tok, "Vendor", vendor.clone(), &inm).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["Status"]["value"].as_str(), v["Terms"]["value"].as_str()),
        (Some("Active"), Some("30D")),
        "defaults from the tenant"
    );
    assert_eq!(v["MainContact"]["DisplayName"]["value"], "New Supplier LLC");
    let id = v["id"].as_str().expect("id").to_string();
    // Insert-only again: 412; update-only of a missing one: 412.
    assert_eq!(put(&h, &tok, "Vendor", vendor.clone(), &inm).await.0, StatusCode::PRECONDITION_FAILED);
    let (s, _) =
        put(&h, &tok, "Vendor", json!({"VendorID": w("V29999"), "VendorName": w("x")}), &[("If-Match", "*")]).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    // Update by key and by id; stamps move forward.
    let (s, v1) = put(
        &h,
        &tok,
        "Vendor",
        json!({"VendorID": w("V20001"), "VendorName": w("New Supplier, LLC")}),
        &[("If-Match", "*")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, v2) = put(&h, &tok, "Vendor", json!({"id": id, "TaxRegistrationID": w("12-3456789")}), &[]).await;
    assert!(v2["LastModifiedDateTime"]["value"].as_str() > v1["LastModifiedDateTime"]["value"].as_str());
    assert_eq!(v2["VendorName"]["value"], "New Supplier, LLC");
    // A bare value cannot be bound: 400 with modelState.
    let (s, v) = put(&h, &tok, "Vendor", json!({"VendorID": "V20002"}), &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(v["modelState"]["entity.VendorID"].is_array(), "{v}");
    // 422: the entity echo with errors on the entity and the fields [C].
    let (s, v) = put(
        &h,
        &tok,
        "Vendor",
        json!({"VendorID": w("V20003"), "VendorClass": w("NOPE"), "Status": w("Sleeping")}),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(v["error"].as_str().is_some_and(|e| e.contains("raised at least one error")), "{v}");
    assert_eq!(v["VendorClass"]["error"], "Vendor Class 'NOPE' cannot be found in the system.");
    assert!(v["VendorName"]["error"].as_str().is_some_and(|e| e.contains("cannot be empty")));
    assert!(v["Status"]["error"].as_str().is_some_and(|e| e.contains("Valid values")), "{v}");
    // Bills: auto-numbered, <NEW> in a 422, line errors on the line.
    let bad = json!({"Type": w("Bill"), "Vendor": w("V10002"), "VendorRef": w("X-1"), "Details": [
        {"TransactionDescription": w("ok"), "Qty": w(1), "UnitCost": w(10), "Account": w("60000")},
        {"TransactionDescription": w("bad"), "Qty": w(1), "UnitCost": w(5), "Account": w("99999")}]});
    let (s, v) = put(&h, &tok, "Bill", bad, &inm).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["ReferenceNbr"]["value"], "<NEW>");
    assert_eq!(v["Details"][1]["Account"]["error"], "Account '99999' cannot be found in the system.");
    assert!(v["Details"][0]["Account"].get("error").is_none());
    let good = json!({"Type": w("Bill"), "Vendor": w("V10002"), "VendorRef": w("X-1"), "Date": w("2025-06-16"), "Details": [
        {"TransactionDescription": w("dock lights"), "Qty": w(3), "UnitCost": w(12.5), "Account": w("61000")}]});
    let (s, v) = put(&h, &tok, "Bill", good.clone(), &inm).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["ReferenceNbr"]["value"], "000011");
    assert_eq!(
        (v["Status"]["value"].as_str(), v["Hold"]["value"].as_bool()),
        (Some("On Hold"), Some(true)),
        "hold on entry"
    );
    assert_eq!(v["Amount"]["value"], 37.5);
    assert_eq!(v["PostPeriod"]["value"], "062025");
    assert_eq!(v["Details"][0]["ExtendedCost"]["value"], 37.5);
    // The same body again (no key, no If-None-Match) inserts a second bill: PUT without keys is not idempotent.
    let (_, again) = put(&h, &tok, "Bill", good, &[]).await;
    assert_eq!(again["ReferenceNbr"]["value"], "000012");
    // Details merge: update a line by id, add one, delete one.
    let bid = v["id"].as_str().expect("id");
    let line = v["Details"][0]["id"].as_str().expect("line id");
    let (s, v) = put(&h, &tok, "Bill?$expand=Details", json!({"id": bid, "Details": [
        {"id": line, "Qty": w(4)}, {"TransactionDescription": w("bulbs"), "Qty": w(1), "UnitCost": w(2), "Account": w("61000")}]}), &[]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["Details"].as_array().map(Vec::len), v["Amount"]["value"].as_f64()), (Some(2), Some(52.0)));
    let second = v["Details"][1]["id"].as_str().expect("id");
    let (_, v) =
        put(&h, &tok, "Bill?$expand=Details", json!({"id": bid, "Details": [{"id": second, "delete": true}]}), &[])
            .await;
    assert_eq!((v["Details"].as_array().map(Vec::len), v["Amount"]["value"].as_f64()), (Some(1), Some(50.0)));
    // Closed period and missing vendor reference.
    let (s, v) =
        put(&h, &tok, "Bill", json!({"Vendor": w("V10002"), "Date": w("2025-03-10"), "Details": []}), &[]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["PostPeriod"]["error"], "The 03-2025 financial period is closed.");
    assert!(v["VendorRef"]["error"].as_str().is_some_and(|e| e.contains("cannot be empty")));
    // PUT answers with only what was sent when the docs' behaviour is switched on.
    h.system().set_switch(|s| s.put_echo = super::switches::PutEcho::SentOnly);
    let (_, v) = put(&h, &tok, "Vendor", json!({"VendorID": w("V20001"), "TaxZone": w("NY")}), &[]).await;
    let o = v.as_object().expect("obj");
    assert!(o.contains_key("TaxZone") && o.contains_key("VendorID") && !o.contains_key("VendorName"), "{o:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn bill_and_po_state_machines_release_as_long_operation() {
    let h = builder()
        .switches(AcumaticaSwitches { long_op_polls: 2, ..AcumaticaSwitches::unthrottled() })
        .start()
        .await
        .expect("start");
    let tok = token(&h).await;
    // A PO for two stock lines, on hold, then open.
    let po = json!({"Type": w("Normal"), "VendorID": w("V10003"), "Hold": w(true), "VendorRef": w("PO-00042"), "Details": [
        {"InventoryID": w("BOX-12X12"), "OrderQty": w(100), "UnitCost": w(0.9)},
        {"InventoryID": w("FREIGHT"), "OrderQty": w(1), "UnitCost": w(80)}]});
    let (s, v) = put(&h, &tok, "PurchaseOrder?$expand=Details", po, &[("If-None-Match", "*")]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["Status"]["value"].as_str(), v["OrderNbr"]["value"].as_str()), (Some("On Hold"), Some("PO000013")));
    assert_eq!(
        (v["Details"][0]["LineType"]["value"].as_str(), v["Details"][1]["LineType"]["value"].as_str()),
        (Some("Goods for IN"), Some("Non-Stock"))
    );
    assert_eq!(
        (v["Details"][0]["LineNbr"]["value"].as_i64(), v["OrderTotal"]["value"].as_f64()),
        (Some(1), Some(170.0))
    );
    assert_eq!(v["Details"][0]["WarehouseID"]["value"], "MAIN");
    let po_id = v["id"].as_str().expect("id").to_string();
    let (_, v) = put(&h, &tok, "PurchaseOrder", json!({"id": po_id, "Hold": w(false)}), &[]).await;
    assert_eq!(v["Status"]["value"], "Open");
    // Open POs still take changes.
    let (s, v) = put(
        &h,
        &tok,
        "PurchaseOrder?$expand=Details",
        json!({"id": po_id, "Details": [{"InventoryID": w("TAPE-48"), "OrderQty": w(10), "UnitCost": w(2)}]}),
        &[],
    )
    .await;
    assert_eq!((s, v["Details"][2]["LineNbr"]["value"].as_i64()), (StatusCode::OK, Some(3)));
    // A bill for the PO: the lines come from the PO [C: DOC].
    let bill = json!({"Type": w("Bill"), "Vendor": w("V10003"), "VendorRef": w("INV-9001"), "Hold": w(false), "Details": [
        {"POOrderType": w("Normal"), "POOrderNbr": w("PO000013"), "POLine": w(1)}, {"POOrderNbr": w("PO000013"), "POLine": w(2)}]});
    let (s, v) = put(&h, &tok, "Bill?$expand=Details", bill, &[("If-None-Match", "*")]).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["Status"]["value"], "Balanced");
    assert_eq!(v["Details"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        (v["Details"][0]["Qty"]["value"].as_f64(), v["Details"][0]["POLine"]["value"].as_i64()),
        (Some(100.0), Some(1))
    );
    assert_eq!(v["Details"][0]["UnitCost"]["value"], 0.9, "price data from the PO line");
    assert_eq!(v["Amount"]["value"], 170.0);
    let (bill_id, bill_nbr) =
        (v["id"].as_str().expect("id").to_string(), v["ReferenceNbr"]["value"].as_str().expect("nbr").to_string());
    // Another vendor's PO cannot be billed.
    let (s, v) = put(
        &h,
        &tok,
        "Bill",
        json!({"Vendor": w("V10004"), "VendorRef": w("Z"), "Details": [{"POOrderNbr": w("PO000013")}]}),
        &[],
    )
    .await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY
            && v["Details"][0]["POOrderNbr"]["error"].as_str().is_some_and(|e| e.contains("another vendor")),
        "{v}"
    );
    // ReleaseBill: 202 + Location, polled: 202, 202, then 204 [C].
    let action = |b: Value| {
        client().post(format!("{}/entity/Default/{V}/Bill/ReleaseBill", h.base_url())).bearer_auth(&tok).json(&b).send()
    };
    let r = action(json!({"entity": {"id": bill_id}})).await.expect("send");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let loc = r.headers().get("location").and_then(|l| l.to_str().ok()).expect("location").to_string();
    assert!(loc.starts_with("/AcumaticaERP/entity/Default/24.200.001/Bill/ReleaseBill/status/"), "{loc}");
    // While it runs, other writes on Bill in this session fail [C].
    let (s, v) = put(&h, &tok, "Bill", json!({"id": bill_id, "Description": w("x")}), &[]).await;
    assert!(s == StatusCode::INTERNAL_SERVER_ERROR && exception(&v).contains("previous operation"), "{v}");
    let poll = || client().get(format!("{}{loc}", h.root_url())).bearer_auth(&tok).send();
    assert_eq!(poll().await.expect("send").status(), StatusCode::ACCEPTED);
    assert_eq!(poll().await.expect("send").status(), StatusCode::ACCEPTED);
    assert_eq!(poll().await.expect("send").status(), StatusCode::NO_CONTENT);
    let (_, v) = get(&h, &tok, &format!("Bill/Bill/{bill_nbr}")).await;
    assert_eq!((v["Status"]["value"].as_str(), v["Balance"]["value"].as_f64()), (Some("Open"), Some(170.0)));
    // Released: no more edits, no second release.
    let (s, v) = put(&h, &tok, "Bill", json!({"id": bill_id, "Description": w("late")}), &[]).await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY && v["error"].as_str().is_some_and(|e| e.contains("status is Open")),
        "{v}"
    );
    let r = action(json!({"entity": {"Type": w("Bill"), "ReferenceNbr": w(&bill_nbr)}})).await.expect("send");
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(r.text().await.unwrap_or_default().contains("already been released"));
    // On hold: cannot be released.
    let (_, held) =
        put(&h, &tok, "Bill", json!({"Vendor": w("V10003"), "VendorRef": w("INV-9002"), "Details": []}), &[]).await;
    let r = action(json!({"entity": {"id": held["id"]}})).await.expect("send");
    assert!(r.text().await.unwrap_or_default().contains("on hold"));
    // The PO: received (sim action) → Completed; billed in full and released → Closed; no edits then.
    let r = client()
        .post(format!("{}/actions/receive_po", h.control_url()))
        .json(&json!({"nbr": "PO000013"}))
        .send()
        .await
        .expect("send");
    let st: Value = r.json().await.expect("json");
    assert_eq!(st["status"], "Completed", "lines 1-2 billed, line 3 not: {st}");
    let (s, v) = put(&h, &tok, "PurchaseOrder", json!({"id": po_id, "Description": w("change")}), &[]).await;
    assert!(
        s == StatusCode::UNPROCESSABLE_ENTITY
            && v["error"].as_str().is_some_and(|e| e.contains("cannot be changed because its status is Completed")),
        "{v}"
    );
    let (_, b2) = put(&h, &tok, "Bill", json!({"Vendor": w("V10003"), "VendorRef": w("INV-9003"), "Hold": w(false), "Details": [{"POOrderNbr": w("PO000013"), "POLine": w(3)}]}), &[]).await;
    h.system().set_switch(|s| s.long_op_polls = 0);
    let r = action(json!({"entity": {"id": b2["id"]}})).await.expect("send");
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "a quick operation answers 204 at once");
    assert_eq!(get(&h, &tok, &format!("PurchaseOrder/{po_id}")).await.1["Status"]["value"], "Closed");
    // Approvals.
    h.system().set_switch(|s| s.bill_approvals = true);
    let (_, v) = put(
        &h,
        &tok,
        "Bill",
        json!({"Vendor": w("V10005"), "VendorRef": w("A-1"), "Hold": w(false), "Details": []}),
        &[],
    )
    .await;
    assert_eq!(v["Status"]["value"], "Pending Approval");
    h.shutdown().await;
}

#[tokio::test]
async fn rights_inquiry_and_long_operation_timeout() {
    let h = start().await;
    let tok = token(&h).await;
    let r = client()
        .put(format!("{}/entity/Default/{V}/CompaniesStructure?$expand=Results", h.base_url()))
        .bearer_auth(&tok)
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    let v: Value = r.json().await.expect("json");
    let ids: Vec<&str> =
        v["Results"].as_array().expect("results").iter().filter_map(|b| b["BranchID"]["value"].as_str()).collect();
    assert_eq!(ids, ["HWS", "HWSOLD"]);
    assert_eq!(v["Results"][1]["BranchStatus"]["value"], "Inactive");
    let r = client()
        .post(format!("{}/actions/set_rights", h.control_url()))
        .json(&json!({"user": demo::USERNAME, "entity": "Bill", "rights": "read"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(get(&h, &tok, "Bill?$top=1").await.0, StatusCode::OK);
    let (s, v) = put(&h, &tok, "Bill", json!({"Vendor": w("V10002")}), &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(v["message"].as_str().is_some_and(|m| m.contains("AP301000")), "{v}");
    client()
        .post(format!("{}/actions/set_rights", h.control_url()))
        .json(&json!({"user": demo::USERNAME, "entity": "Account", "rights": "none"}))
        .send()
        .await
        .expect("send");
    assert_eq!(get(&h, &tok, "Account").await.0, StatusCode::FORBIDDEN);
    // A long operation also completes on the clock, without polls.
    let bill = get(&h, &tok, "Bill?$filter=Status eq 'Balanced'&$top=1").await.1;
    let id = bill[0]["id"].as_str().expect("id").to_string();
    client()
        .post(format!("{}/actions/set_rights", h.control_url()))
        .json(&json!({"user": demo::USERNAME, "entity": "Bill", "rights": "edit"}))
        .send()
        .await
        .expect("send");
    let r = client()
        .post(format!("{}/entity/Default/{V}/Bill/ReleaseBill", h.base_url()))
        .bearer_auth(&tok)
        .json(&json!({"entity": {"id": id}}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    h.clock().advance(Duration::seconds(6));
    assert_eq!(get(&h, &tok, &format!("Bill/{id}")).await.1["Status"]["value"], "Open");
    h.shutdown().await;
}

#[tokio::test]
async fn licence_queue_delays_then_declines_with_429_and_no_retry_after() {
    let h = AcumaticaSim::builder()
        .clock(SimClock::manual_default())
        .switches(AcumaticaSwitches {
            licence_requests_per_minute: 2,
            licence_queue_limit: 2,
            licence_max_concurrent: 1,
            ..AcumaticaSwitches::default()
        })
        .start()
        .await
        .expect("start");
    let tok = token(&h).await; // the first request of the minute
    let url = format!("{}/entity/Default/{V}/Vendor?$top=1", h.base_url());
    // Two more are held (the per-minute formula on a frozen clock), the fourth is declined.
    let held: Vec<_> = (0..2)
        .map(|_| {
            let (u, t) = (url.clone(), tok.clone());
            tokio::spawn(async move { client().get(u).bearer_auth(t).send().await.map(|r| r.status()) })
        })
        .collect();
    let sim = h.system().clone();
    for _ in 0..200 {
        if sim.gate.load().1 == 2 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    assert_eq!(sim.gate.load().1, 2, "two requests wait in the queue");
    let r = client().get(&url).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_none(), "no Retry-After [U: none documented]");
    // The minute passes: the held ones are served.
    h.clock().advance(Duration::seconds(61));
    for j in held {
        assert_eq!(j.await.expect("join").expect("send"), StatusCode::OK);
    }
    // A wait longer than the limit is declined at once.
    h.system().set_switch(|s| {
        s.licence_max_wait_secs = 30;
        s.throttle_body = super::switches::ThrottleBody::IisText;
    });
    let r = client().get(&url).bearer_auth(&tok).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.text().await.unwrap_or_default(), super::state::IIS_TEXT);
    let st: Value = client()
        .post(format!("{}/actions/licence", h.control_url()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert!(st["counters"]["declined"].as_u64() >= Some(2) && st["counters"]["delayed"].as_u64() >= Some(2), "{st}");
    assert!(st["counters"]["peak_running"].as_u64() <= Some(1), "{st}");
    h.shutdown().await;
}

#[tokio::test]
async fn faults_commit_then_reset_applies_the_write() {
    let h = start().await;
    let tok = token(&h).await;
    h.faults().add(FaultRule::new("PUT", "/Bill", Fault::commit_then_reset(10)).times(1));
    let body = json!({"Vendor": w("V10006"), "VendorRef": w("LOST-1"), "Details": []});
    let r =
        client().put(format!("{}/entity/Default/{V}/Bill", h.base_url())).bearer_auth(&tok).json(&body).send().await;
    assert!(r.is_err(), "the answer is lost");
    let (_, v) = get(&h, &tok, "Bill?$filter=Vendor eq 'V10006' and VendorRef eq 'LOST-1'").await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "but the bill was saved");
    h.faults().add(FaultRule::new("GET", "/Vendor", Fault::status(429)).times(1));
    let (s, v) = get(&h, &tok, "Vendor").await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(v["message"].as_str().is_some_and(|m| m.contains("request limit")), "{v}");
    assert_eq!(h.calls().count("PUT", "/Bill"), 1);
    h.shutdown().await;
}

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
    let app = Router::new().route("/push", post(hook)).with_state((got.clone(), status.clone()));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/push", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    Receiver { url, got, status }
}

async fn wait_until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn count(rx: &Receiver) -> usize {
    rx.got.lock().expect("lock").len()
}

#[tokio::test]
async fn push_notifications_payload_header_retries_and_duplicates() {
    let h = start().await;
    let tok = token(&h).await;
    let rx = receiver().await;
    let r = client()
        .post(format!("{}/actions/configure_push", h.control_url()))
        .json(&demo::push_destination(&rx.url))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    // Insert: only Inserted (Deleted present but empty by default).
    let (_, v) = put(&h, &tok, "Vendor", json!({"VendorID": w("V30001"), "VendorName": w("Pushy Co")}), &[]).await;
    let id = v["id"].as_str().expect("id").to_string();
    wait_until("the insert notification", || rx.got.lock().expect("lock").len() == 1).await;
    let (hd, body) = rx.got.lock().expect("lock")[0].clone();
    assert_eq!(hd.get(demo::PUSH_HEADER).and_then(|v| v.to_str().ok()), Some(demo::PUSH_SECRET));
    assert_eq!((body["Query"].as_str(), body["CompanyId"].as_str()), (Some("MLC-Vendors"), Some(demo::TENANT)));
    assert_eq!(body["Deleted"], json!([]));
    assert_eq!(body["Inserted"][0]["Vendor_acctCD"], "V30001");
    assert_eq!(body["Inserted"][0]["Vendor_noteID"], id.as_str());
    assert!(
        body["Inserted"][0]["Vendor_lastModifiedDateTime"]
            .as_str()
            .is_some_and(|t| !t.contains('+') && !t.ends_with('Z')),
        "no offset: {body}"
    );
    assert!(body["TimeStamp"].as_i64().is_some_and(|t| t > 638_000_000_000_000_000), "{body}");
    assert!(body["Id"].as_str().is_some_and(|g| g.len() == 36));
    // Update: old row in Deleted, new in Inserted.
    put(&h, &tok, "Vendor", json!({"id": id, "VendorName": w("Pushy Company")}), &[]).await;
    wait_until("the update notification", || rx.got.lock().expect("lock").len() == 2).await;
    let body = rx.got.lock().expect("lock")[1].1.clone();
    assert_eq!(
        (body["Deleted"][0]["Vendor_acctName"].as_str(), body["Inserted"][0]["Vendor_acctName"].as_str()),
        (Some("Pushy Co"), Some("Pushy Company"))
    );
    // A failing receiver: at most five attempts in total [C], spaced on the simulated clock.
    rx.status.store(500, Ordering::SeqCst);
    h.system().set_switch(|s| s.push_empty_arrays = false);
    put(&h, &tok, "Vendor", json!({"id": id, "TaxZone": w("NY")}), &[]).await;
    wait_until("the first attempt", || rx.got.lock().expect("lock").len() == 3).await;
    for n in 4..=7 {
        h.clock().advance(Duration::seconds(61));
        wait_until("the next attempt", || rx.got.lock().expect("lock").len() == n).await;
    }
    let d: Value = client()
        .post(format!("{}/actions/push_deliveries", h.control_url()))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let last = d["deliveries"].as_array().and_then(|a| a.last().cloned()).expect("delivery");
    assert_eq!((last["state"].as_str(), last["attempts"].as_array().map(Vec::len)), (Some("failed"), Some(5)));
    assert!(last["body"].get("Inserted").is_some() && last["body"].get("Deleted").is_some(), "an update has both");
    // Duplicates: on demand, and by share.
    rx.status.store(200, Ordering::SeqCst);
    let first = d["deliveries"][0]["id"].as_u64().expect("id");
    client()
        .post(format!("{}/actions/redeliver_push", h.control_url()))
        .json(&json!({"id": first}))
        .send()
        .await
        .expect("send");
    wait_until("the redelivery", || rx.got.lock().expect("lock").len() == 8).await;
    let (a, b) = {
        let g = rx.got.lock().expect("lock");
        (g[0].1.clone(), g[7].1.clone())
    };
    assert_eq!(a["Id"], b["Id"], "a duplicate carries the same Id");
    h.system().set_switch(|s| s.push_duplicate_share = 1.0);
    let tok = token(&h).await;
    let (_, b) = put(&h, &tok, "Bill", json!({"Vendor": w("V10002"), "VendorRef": w("D-1"), "Details": []}), &[]).await;
    assert!(b["ReferenceNbr"]["value"].is_string(), "{b}");
    wait_until("both copies", || count(&rx) == 10).await;
    let (c8, c9) = {
        let g = rx.got.lock().expect("lock");
        (g[8].1.clone(), g[9].1.clone())
    };
    assert_eq!(c8["Id"], c9["Id"]);
    assert_eq!(c8["Query"], "MLC-Bills");
    assert_eq!(c8["Inserted"][0]["APInvoice_refNbr"], b["ReferenceNbr"]["value"]);
    assert!(c8.get("Deleted").is_none(), "empty arrays omitted when switched");
    h.shutdown().await;
}

#[tokio::test]
async fn clerk_actions_edit_records_and_announce_them() {
    let h = start().await;
    let tok = token(&h).await;
    let before = get(&h, &tok, "Vendor/V10002").await.1;
    let r = client().post(format!("{}/actions/edit_record", h.control_url())).json(&json!({"entity": "Vendor", "keys": ["V10002"], "fields": {"VendorName": w("Bayside Janitorial Supply Inc.")}})).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let after = get(&h, &tok, "Vendor/V10002").await.1;
    assert_eq!(after["VendorName"]["value"], "Bayside Janitorial Supply Inc.");
    assert!(after["LastModifiedDateTime"]["value"].as_str() > before["LastModifiedDateTime"]["value"].as_str());
    let r: Value = client()
        .post(format!("{}/actions/pay_bill", h.control_url()))
        .json(&json!({"ref": "000005"}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(r["status"], "Closed");
    let r = client()
        .post(format!("{}/actions/cancel_po", h.control_url()))
        .json(&json!({"nbr": "PO000001"}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(get(&h, &tok, "PurchaseOrder/Normal/PO000001").await.1["Status"]["value"], "Canceled");
    let r = client().post(format!("{}/actions/nope", h.control_url())).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn demo_company_is_deterministic_and_covers_every_stage() {
    let a = scenario::distributor(DEFAULT_SEED);
    assert_eq!(a, scenario::distributor(DEFAULT_SEED), "same seed, same company");
    assert_ne!(a["records"]["Vendor"], scenario::distributor(7)["records"]["Vendor"]);
    let h = start().await;
    let sim = h.system();
    let vendors = sim.records("Vendor");
    assert_eq!(vendors.len(), 40);
    use super::record::Values;
    let statuses = |e: &str| {
        let mut s: Vec<String> = sim.records(e).iter().map(|r| r.s("Status")).collect();
        s.sort();
        s.dedup();
        s
    };
    assert_eq!(statuses("Vendor"), ["A", "H", "I"]);
    assert_eq!(statuses("PurchaseOrder"), ["C", "H", "L", "M", "N"]);
    assert_eq!(statuses("Bill"), ["B", "C", "H", "N"]);
    assert!(sim.records("Bill").iter().any(|b| b.s("Type") == "ADR"), "a debit adjustment");
    let hints = scenario::supplier_hints(DEFAULT_SEED);
    assert_eq!(hints.iter().filter(|h| h.side == Side::Both).count(), 37);
    assert_eq!(hints.iter().filter(|h| h.side == Side::AcumaticaOnly).count(), 3);
    assert_eq!(hints.iter().filter(|h| h.side == Side::Cin7Only).count(), 3);
    // Totals add up.
    for b in sim.records("Bill") {
        let sum: rust_decimal::Decimal = b.rows("Details").iter().map(|l| l.d("Amount")).sum();
        assert_eq!(b.d("Amount"), sum, "bill {}", b.s("ReferenceNbr"));
    }
    // The Cin7 side loads into the Cin7 simulator and shares the codes.
    let c = super::cin7_seed::cin7_distributor(DEFAULT_SEED);
    let cs = crate::cin7::Cin7Scenario::from_json(&c).expect("cin7 scenario");
    assert_eq!(cs.suppliers.len(), 40);
    let cin7 = crate::cin7::Cin7Sim::builder().clock(SimClock::manual_default()).scenario(cs).build().expect("cin7");
    let (shared, unmapped) = {
        let st = cin7.lock();
        let shared = st
            .suppliers
            .iter()
            .filter(|s| {
                s.additional_attributes
                    .get("AdditionalAttribute1")
                    .is_some_and(|c| vendors.iter().any(|v| &v.s("VendorID") == c))
            })
            .count();
        let unmapped =
            st.purchases.iter().any(|p| p.invoices.iter().any(|i| i.lines.iter().any(|l| l.account == "477")));
        (shared, unmapped)
    };
    assert_eq!(shared, 37);
    assert!(unmapped, "one bill on the unmapped account");
    h.shutdown().await;
}

#[tokio::test]
async fn json_seed_snapshot_restore_reset_and_standalone() {
    let h = builder().empty().start().await.expect("start");
    let tok = token(&h).await;
    assert_eq!(get(&h, &tok, "Vendor").await.1, json!([]));
    let seed = json!({"records": {"Vendor": [{"VendorID": w("S1"), "VendorName": w("Seeded"), "LastModifiedDateTime": w("2025-05-01T08:00:00-04:00")}],
        "PurchaseOrder": [{"VendorID": w("S1"), "Status": w("Open"), "Details": [{"InventoryID": w("BOX-12X12"), "OrderQty": w(4), "UnitCost": w(1.25)}]}]}});
    let r = client().post(format!("{}/seed", h.control_url())).json(&seed).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap_or_default());
    let po = get(&h, &tok, "PurchaseOrder?$expand=Details").await.1;
    assert_eq!(
        (po[0]["OrderNbr"]["value"].as_str(), po[0]["OrderTotal"]["value"].as_f64()),
        (Some("PO000001"), Some(5.0))
    );
    assert_eq!(get(&h, &tok, "Vendor/S1").await.1["LastModifiedDateTime"]["value"], "2025-05-01T08:00:00.000-04:00");
    let bad = client()
        .post(format!("{}/seed", h.control_url()))
        .json(&json!({"records": {"Branch": []}}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    // Snapshot → change → restore gives the snapshot back, internal values included.
    let (_, b) = put(
        &h,
        &tok,
        "Bill",
        json!({"Vendor": w("S1"), "VendorRef": w("R-1"), "Hold": w(false), "Details": [{"POOrderNbr": w("PO000001")}]}),
        &[],
    )
    .await;
    let rel = client()
        .post(format!("{}/actions/release_bill", h.control_url()))
        .json(&json!({"id": b["id"]}))
        .send()
        .await
        .expect("send");
    assert_eq!(rel.status(), StatusCode::OK);
    let snap: Value =
        client().get(format!("{}/state", h.control_url())).send().await.expect("send").json().await.expect("json");
    put(&h, &tok, "Vendor", json!({"VendorID": w("S2"), "VendorName": w("Later")}), &[]).await;
    h.system().restore(&snap).expect("restore");
    use crate::common::SimSystem;
    let again = h.system().snapshot();
    assert_eq!(again["records"], snap["records"]);
    assert_eq!(snap["records"]["PurchaseOrder"][0]["Details"][0]["_hidden"]["_BilledQty"], 4);
    // A new bill after the restore continues the numbering (access tokens are not kept).
    let tok = token(&h).await;
    let (_, b2) = put(&h, &tok, "Bill", json!({"Vendor": w("S1"), "VendorRef": w("R-2"), "Details": []}), &[]).await;
    assert_eq!(b2["ReferenceNbr"]["value"], "000002");
    let r =
        client().post(format!("{}/reset", h.control_url())).json(&json!({"to": "initial"})).send().await.expect("send");
    assert_eq!(r.status(), StatusCode::OK);
    let tok = token(&h).await;
    assert_eq!(get(&h, &tok, "Vendor").await.1, json!([]));
    h.shutdown().await;

    let mut out = Vec::new();
    crate::run_standalone_with("acumatica", 0, &mut out, async {}).await.expect("standalone");
    let first: Value =
        serde_json::from_slice(out.split(|b| *b == b'\n').next().unwrap_or_default()).expect("json line");
    assert_eq!(first["system"], "acumatica");
    assert!(first["base_url"].as_str().is_some_and(|u| u.ends_with("/AcumaticaERP")));
    assert_eq!(first["credentials"]["client_id"], demo::CLIENT_ID);
    // Settings and credentials apart, as a customer writes them (config file vs `mlc credentials set`).
    assert_eq!(first["settings"]["version"], "24.200.001");
    assert_eq!(first["settings"]["tenant"], demo::TENANT);
    assert!(
        first["credentials"].get("version").is_none() && first["credentials"]["webhook_secret"] == demo::PUSH_SECRET
    );
}

#[tokio::test]
async fn currencies_are_listed_when_served_and_a_document_in_another_is_refused() {
    let h = start().await;
    let tok = token(&h).await;
    let (s, v) = get(&h, &tok, "Currency").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let codes: Vec<&str> =
        v.as_array().expect("rows").iter().filter_map(|r| r["CurrencyID"]["value"].as_str()).collect();
    assert_eq!(codes, ["USD", "CAD", "EUR"]);
    // A bill in a currency the tenant does not have: the selector error on CurrencyID.
    let bill = json!({"Type": w("Bill"), "Vendor": w("V10002"), "VendorRef": w("X-GBP"), "Date": w("2025-06-16"),
        "CurrencyID": w("GBP"), "Details": [
        {"TransactionDescription": w("dock lights"), "Qty": w(3), "UnitCost": w(12.5), "Account": w("61000")}]});
    let (s, v) = put(&h, &tok, "Bill", bill, &[("If-None-Match", "*")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["CurrencyID"]["error"], "Currency 'GBP' cannot be found in the system.");
    // Switched off: a 404, as for any entity the endpoint lacks.
    h.system().set_switch(|s| s.serve_currencies = false);
    assert_eq!(get(&h, &tok, "Currency").await.0, StatusCode::NOT_FOUND);
}
