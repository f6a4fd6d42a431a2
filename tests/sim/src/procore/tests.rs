//! Behaviour tests of the Procore simulator over real HTTP (manual clocks, tiny windows).

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use chrono::Duration;
use reqwest::{Client, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::model::{
    ChangeOrder, Commitment, CommitmentKind, CostCode, DirectCost, LineItem, Project, Requisition, RequisitionItem,
    Vendor,
};
use super::scenario::{self, ProcoreScenario, demo};
use super::{ProcoreSim, ProcoreSimBuilder};
use crate::common::{Fault, FaultRule, SimClock, SimHandle};

const P1: i64 = 2_783_400_100;
const P2: i64 = 2_783_400_101;
const WO: i64 = 562_949_953_421_400;
const PO: i64 = 562_949_953_421_401;
const REQ1: i64 = 4_400_000_001;
const REQ2: i64 = 4_400_000_002;
const DC1: i64 = 160_000_001;
const DC2: i64 = 160_000_002;
const ACME: i64 = 17_700_001;

fn client() -> Client {
    static C: std::sync::OnceLock<Client> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .timeout(StdDuration::from_secs(10))
            .build()
            .expect("client")
    })
    .clone()
}

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn builder() -> ProcoreSimBuilder {
    ProcoreSim::builder().clock(SimClock::manual_default())
}

/// Two projects, two vendors, a cost code tree, a subcontract with a change order and two
/// applications, a purchase order and two direct costs.
fn small() -> ProcoreScenario {
    let c = demo::COMPANY_ID;
    let project = |id: i64, n: &str| Project {
        id,
        company_id: c,
        name: format!("Job {n}"),
        project_number: Some(format!("25-{n}")),
        active: true,
        ..Default::default()
    };
    let vendor = |id: i64, name: &str, ein: Option<&str>| Vendor {
        id,
        company_id: c,
        name: name.into(),
        is_active: true,
        business_register: ein.map(|e| super::model::BusinessRegister {
            id: id + 1,
            kind: "EIN".into(),
            identifier: e.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let cc = |id: i64, code: &str, parent: Option<i64>| CostCode {
        id,
        project_id: P1,
        code: code.into(),
        name: format!("Code {code}"),
        parent_id: parent,
        ..Default::default()
    };
    let line = |cc: i64, amount: &str| LineItem {
        cost_code_id: Some(cc),
        line_item_type_id: Some(360_102),
        amount: d(amount),
        quantity: Decimal::ONE,
        ..Default::default()
    };
    let item = |kind: &str, sched: &str, prev: &str, this: &str, prev_ret: &str, ret: &str| RequisitionItem {
        item_type: kind.into(),
        cost_code_id: Some(11),
        scheduled_value: d(sched),
        work_completed_from_previous_application: d(prev),
        work_completed_this_period: d(this),
        work_completed_retainage_from_previous: d(prev_ret),
        work_completed_retainage_retained_this_period: d(ret),
        ..Default::default()
    };
    let t = |s: &str| Some(s.parse().expect("time"));
    ProcoreScenario::base()
        .project(project(P1, "101"))
        .project(project(P2, "102"))
        .vendor(vendor(ACME, "Apex Concrete Contractors, Inc.", Some("84-1234501")))
        .vendor(vendor(ACME + 1, "Metro Safety Supply", None))
        .cost_code(cc(10, "03", None))
        .cost_code(cc(11, "300", Some(10)))
        .commitment(Commitment {
            id: WO,
            project_id: P1,
            kind: CommitmentKind::WorkOrderContract,
            number: "SC-001".into(),
            title: Some("Concrete".into()),
            status: "Approved".into(),
            executed: true,
            vendor_id: Some(ACME),
            retainage_percent: Some(d("10")),
            line_items: vec![line(11, "1142000")],
            updated_at: t("2025-06-01T10:00:00Z"),
            ..Default::default()
        })
        .commitment(Commitment {
            id: PO,
            project_id: P1,
            kind: CommitmentKind::PurchaseOrderContract,
            number: "PO-001".into(),
            status: "Processing".into(),
            vendor_id: Some(ACME + 1),
            line_items: vec![LineItem { quantity: d("250"), unit_cost: d("12.50"), ..line(11, "0") }],
            ..Default::default()
        })
        .change_order(ChangeOrder {
            id: 48_500_001,
            contract_id: WO,
            number: "1".into(),
            status: "approved".into(),
            line_items: vec![line(11, "10000")],
            ..Default::default()
        })
        .requisition(Requisition {
            id: REQ1,
            commitment_id: WO,
            number: 1,
            invoice_number: Some("APEX-1".into()),
            status: "approved".into(),
            items: vec![item("contract_item", "1142000", "0", "100000", "0", "10000")],
            updated_at: t("2025-05-01T10:00:00Z"),
            ..Default::default()
        })
        .requisition(Requisition {
            id: REQ2,
            commitment_id: WO,
            number: 2,
            invoice_number: Some("APEX-2".into()),
            status: "under_review".into(),
            items: vec![
                item("contract_item", "1142000", "100000", "50000", "10000", "5000"),
                item("change_order_item", "10000", "0", "10000", "0", "1000"),
            ],
            updated_at: t("2025-06-02T10:00:00Z"),
            ..Default::default()
        })
        .direct_cost(DirectCost {
            id: DC1,
            project_id: P1,
            direct_cost_type: "invoice".into(),
            invoice_number: Some("MSS-1".into()),
            status: "approved".into(),
            vendor_id: Some(ACME + 1),
            line_items: vec![LineItem { quantity: d("3"), unit_cost: d("40.10"), ..line(11, "0") }],
            ..Default::default()
        })
        .direct_cost(DirectCost {
            id: DC2,
            project_id: P1,
            direct_cost_type: "expense".into(),
            status: "draft".into(),
            line_items: vec![line(11, "99")],
            ..Default::default()
        })
}

async fn start_with(s: ProcoreScenario) -> SimHandle<ProcoreSim> {
    builder().scenario(s).start().await.expect("start")
}

async fn token(h: &SimHandle<ProcoreSim>) -> String {
    let r = client()
        .post(format!("{}/oauth/token", h.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    v["access_token"].as_str().expect("access_token").to_string()
}

/// `GET path` with the token and (unless `None`) the company header: status, headers, body.
async fn get_as(
    h: &SimHandle<ProcoreSim>,
    tok: &str,
    company: Option<i64>,
    path: &str,
) -> (StatusCode, HeaderMap, Value) {
    let mut rb = client().get(format!("{}{path}", h.base_url())).bearer_auth(tok);
    if let Some(c) = company {
        rb = rb.header("Procore-Company-Id", c.to_string());
    }
    let r = rb.send().await.expect("send");
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.expect("text");
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn get(h: &SimHandle<ProcoreSim>, tok: &str, path: &str) -> (StatusCode, HeaderMap, Value) {
    get_as(h, tok, Some(demo::COMPANY_ID), path).await
}

async fn send(
    h: &SimHandle<ProcoreSim>,
    tok: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = client()
        .request(method, format!("{}{path}", h.base_url()))
        .bearer_auth(tok)
        .header("Procore-Company-Id", demo::COMPANY_ID.to_string())
        .json(&body)
        .send()
        .await
        .expect("send");
    let s = r.status();
    let text = r.text().await.expect("text");
    (s, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn action(h: &SimHandle<ProcoreSim>, name: &str, args: Value) -> Value {
    let r = client().post(format!("{}/actions/{name}", h.control_url())).json(&args).send().await.expect("send");
    let s = r.status();
    let v: Value = r.json().await.expect("json");
    assert!(s.is_success(), "{name}: {s} {v}");
    v
}

fn hdr<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn oauth_token_encodings_errors_info_expiry_and_revoke() {
    let h = start_with(small()).await;
    let url = format!("{}/oauth/token", h.base_url());
    // Form, JSON, multipart and HTTP Basic all work.
    let form = client()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::CLIENT_ID),
            ("client_secret", demo::CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    let v: Value = form.json().await.unwrap();
    assert_eq!((v["token_type"].as_str(), v["expires_in"].as_i64()), (Some("bearer"), Some(5400)));
    assert_eq!(v["created_at"].as_i64(), Some(h.clock().now().timestamp()));
    assert!(v.get("refresh_token").is_none(), "client credentials carry no refresh token: {v}");
    let json_body =
        json!({"grant_type": "client_credentials", "client_id": demo::CLIENT_ID, "client_secret": demo::CLIENT_SECRET});
    assert_eq!(client().post(&url).json(&json_body).send().await.unwrap().status(), 200);
    let boundary = "XbOuNd";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"client_id\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"client_secret\"\r\n\r\n{}\r\n--{boundary}--\r\n",
        demo::CLIENT_ID,
        demo::CLIENT_SECRET
    );
    let r = client()
        .post(&url)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(multipart)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let basic = client()
        .post(&url)
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    h.system().set_switch(|s| s.accept_basic_client_auth = false);
    let basic = client()
        .post(&url)
        .basic_auth(demo::CLIENT_ID, Some(demo::CLIENT_SECRET))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    // Refusals in Doorkeeper's shape.
    let bad = client()
        .post(&url)
        .form(&[("grant_type", "client_credentials"), ("client_id", demo::CLIENT_ID), ("client_secret", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"], "invalid_client");
    let nogrant = client()
        .post(&url)
        .form(&[("client_id", demo::CLIENT_ID), ("client_secret", demo::CLIENT_SECRET)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        (nogrant.status().as_u16(), nogrant.json::<Value>().await.unwrap()["error"].clone()),
        (400, json!("invalid_request"))
    );
    let other = client()
        .post(&url)
        .form(&[("grant_type", "password"), ("client_id", demo::CLIENT_ID), ("client_secret", demo::CLIENT_SECRET)])
        .send()
        .await
        .unwrap();
    assert_eq!(other.json::<Value>().await.unwrap()["error"], "unsupported_grant_type");

    let tok = token(&h).await;
    let info: Value = client()
        .get(format!("{}/oauth/token/info", h.base_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((info["application"]["uid"].as_str(), info["expires_in"].as_i64()), (Some(demo::CLIENT_ID), Some(5400)));
    assert_eq!(get(&h, &tok, "/rest/v1.0/me").await.0, 200);
    // No token, a made-up token, an expired token: the Doorkeeper 401.
    let (s, hd, body) = get(&h, "nope", "/rest/v1.0/me").await;
    assert_eq!((s.as_u16(), body["errors"].as_str()), (401, Some("The access token is invalid")));
    assert!(hdr(&hd, "www-authenticate").contains("error=\"invalid_token\""));
    h.clock().advance(Duration::seconds(5400));
    let (s, hd, body) = get(&h, &tok, "/rest/v1.0/me").await;
    assert_eq!((s.as_u16(), body["errors"].as_str()), (401, Some("The access token expired")));
    assert!(hdr(&hd, "www-authenticate").starts_with("Bearer realm=\"Doorkeeper\""));
    // Revoke answers 200 even for an unknown token and kills a live one.
    let tok = token(&h).await;
    for t in [tok.as_str(), "unknown"] {
        let r = client().post(format!("{}/oauth/revoke", h.base_url())).form(&[("token", t)]).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(get(&h, &tok, "/rest/v1.0/me").await.0, 401);
    // The lifetime is a switch; expire_tokens ends every token at once.
    h.system().set_switch(|s| s.token_lifetime_secs = 60);
    let tok = token(&h).await;
    action(&h, "expire_tokens", json!({})).await;
    assert_eq!(get(&h, &tok, "/rest/v1.0/me").await.0, 401);
    h.shutdown().await;
}

#[tokio::test]
async fn company_header_installs_permitted_projects_and_tools() {
    let h = start_with(small()).await;
    let tok = token(&h).await;
    // /me and /companies answer without the header (switch), everything else needs it.
    assert_eq!(get_as(&h, &tok, None, "/rest/v1.0/me").await.0, 200);
    let (s, _, companies) = get_as(&h, &tok, None, "/rest/v1.0/companies").await;
    assert_eq!(s, 200);
    assert_eq!(companies.as_array().map(Vec::len), Some(1), "only the company where the app is installed: {companies}");
    let (s, hd, body) = get_as(&h, &tok, None, &format!("/rest/v1.0/projects?company_id={}", demo::COMPANY_ID)).await;
    assert_eq!(s, 400);
    assert!(body["errors"].as_str().unwrap().starts_with("Missing Procore-Company-Id header!"));
    assert!(!hdr(&hd, "x-rate-limit-limit").is_empty(), "rate headers on every answer");
    h.system().set_switch(|s| {
        s.company_header_exempt_me_companies = false;
        s.missing_company_header_status = 404;
        s.missing_company_header_body = super::switches::BodyStyle::Text;
    });
    let (s, _, body) = get_as(&h, &tok, None, "/rest/v1.0/me").await;
    assert_eq!(s, 404);
    assert!(body.as_str().unwrap().starts_with("Missing Procore-Company-Id header!"));
    // Another company: the app is not connected there.
    let (s, _, body) = get_as(&h, &tok, Some(demo::OTHER_COMPANY_ID), "/rest/v1.0/me").await;
    assert_eq!((s.as_u16(), body), (403, json!({"errors": ["App is not connected to this company."]})));
    // Projects: active only by default; permitted projects only.
    let (_, _, list) = get(&h, &tok, &format!("/rest/v1.0/projects?company_id={}", demo::COMPANY_ID)).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    action(&h, "set_install", json!({"projects": [P1]})).await;
    let (_, _, list) = get(&h, &tok, &format!("/rest/v1.1/projects?company_id={}", demo::COMPANY_ID)).await;
    assert_eq!(list.as_array().map(|a| a.iter().map(|p| p["id"].as_i64()).collect::<Vec<_>>()), Some(vec![Some(P1)]));
    let (s, _, body) = get(&h, &tok, &format!("/rest/v1.0/cost_codes?project_id={P2}")).await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(get(&h, &tok, "/rest/v1.0/cost_codes?project_id=999").await.0, 404);
    // Tools: without Direct Costs the direct cost routes are 403, the rest still work.
    action(&h, "set_install", json!({"projects": null, "tools": ["directory", "commitments", "invoicing", "cost_codes", "projects", "webhooks"]})).await;
    let (s, _, body) = get(&h, &tok, &format!("/rest/v1.0/projects/{P1}/direct_costs")).await;
    assert_eq!(s, 403);
    assert!(body["errors"].as_str().unwrap().contains("Direct Costs"), "{body}");
    assert_eq!(get(&h, &tok, &format!("/rest/v1.0/requisitions?project_id={P1}")).await.0, 200);
    // Uninstalled: every call to the company is 403.
    action(&h, "uninstall", json!({})).await;
    assert_eq!(get(&h, &tok, &format!("/rest/v1.0/vendors?company_id={}", demo::COMPANY_ID)).await.0, 403);
    h.shutdown().await;
}

#[tokio::test]
async fn paging_headers_links_and_past_the_end() {
    let h = start_with(small()).await;
    let tok = token(&h).await;
    for i in 0..5 {
        action(&h, "create", json!({"resource": "vendor", "record": {"company_id": demo::COMPANY_ID, "name": format!("V{i}"), "is_active": true}})).await;
    }
    let base = format!("/rest/v1.0/vendors?company_id={}&per_page=2", demo::COMPANY_ID);
    let rels = |hd: &HeaderMap| -> Vec<String> {
        hdr(hd, "link")
            .split(", ")
            .filter_map(|l| l.split("rel=\"").nth(1))
            .map(|r| r.trim_end_matches('"').to_string())
            .collect()
    };
    let (_, hd, p1) = get(&h, &tok, &base).await;
    assert_eq!((hdr(&hd, "total"), hdr(&hd, "per-page"), p1.as_array().map(Vec::len)), ("7", "2", Some(2)));
    assert_eq!(rels(&hd), ["last", "next"]);
    let link = hdr(&hd, "link").to_string();
    assert!(
        link.contains(&format!("/rest/v1.0/vendors?company_id={}&page=4&per_page=2>; rel=\"last\"", demo::COMPANY_ID)),
        "all query params kept, keys sorted: {link}"
    );
    let (_, hd, _) = get(&h, &tok, &format!("{base}&page=2")).await;
    assert_eq!(rels(&hd), ["first", "prev", "last", "next"]);
    let (_, hd, p4) = get(&h, &tok, &format!("{base}&page=4")).await;
    assert_eq!((rels(&hd), p4.as_array().map(Vec::len)), (vec!["first".to_string(), "prev".to_string()], Some(1)));
    let (s, _, p9) = get(&h, &tok, &format!("{base}&page=9")).await;
    assert_eq!((s.as_u16(), p9), (200, json!([])));
    // Variants: no prev, only page/per_page in links, over-max clamped or refused.
    h.system().set_switch(|s| {
        s.link_prev = false;
        s.link_keeps_query = false;
        s.max_per_page = 3;
    });
    let (_, hd, _) = get(&h, &tok, &format!("{base}&page=2")).await;
    assert_eq!(rels(&hd), ["first", "last", "next"]);
    assert!(!hdr(&hd, "link").contains("company_id"), "{}", hdr(&hd, "link"));
    let (_, hd, rows) = get(&h, &tok, &format!("/rest/v1.0/vendors?company_id={}&per_page=50", demo::COMPANY_ID)).await;
    assert_eq!((hdr(&hd, "per-page"), rows.as_array().map(Vec::len)), ("3", Some(3)));
    h.system().set_switch(|s| s.over_max_per_page = super::switches::OverMax::Error);
    assert_eq!(get(&h, &tok, &format!("/rest/v1.0/vendors?company_id={}&per_page=50", demo::COMPANY_ID)).await.0, 400);
    // Per-route defaults: v1.1 requisitions 30, the rest 100.
    h.system().set_switch(|s| s.max_per_page = 1000);
    let (_, hd, _) = get(&h, &tok, &format!("/rest/v1.1/requisitions?project_id={P1}")).await;
    assert_eq!(hdr(&hd, "per-page"), "30");
    let (_, hd, _) = get(&h, &tok, &format!("/rest/v1.0/requisitions?project_id={P1}")).await;
    assert_eq!(hdr(&hd, "per-page"), "100");
    h.shutdown().await;
}

#[tokio::test]
async fn filters_ranges_status_arrays_and_unsupported_ones() {
    let h = start_with(small()).await;
    let tok = token(&h).await;
    let reqs = format!("/rest/v1.0/requisitions?project_id={P1}");
    let ids = |v: &Value| v.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>();
    let (s, _, body) = get(&h, &tok, &format!("{reqs}&filters[updated_at]=2025-06-01T00:00:00Z")).await;
    assert_eq!(s, 400, "a single value is refused: {body}");
    assert!(body["errors"].as_str().unwrap().contains("must be a range"));
    let (_, _, v) = get(&h, &tok, &format!("{reqs}&filters[updated_at]=2025-06-01...2025-06-30")).await;
    assert_eq!(ids(&v), [REQ2]);
    let (_, _, v) =
        get(&h, &tok, &format!("{reqs}&filters[updated_at]=2025-05-01T10:00:00Z...2025-05-01T10:00:00Z")).await;
    assert_eq!(ids(&v), [REQ1], "ranges are inclusive");
    let (_, _, v) = get(&h, &tok, &format!("{reqs}&filters[status]=approved")).await;
    assert_eq!(ids(&v), [REQ1]);
    // The array form of status is dropped: every status comes back.
    let (_, _, v) = get(&h, &tok, &format!("{reqs}&filters[status][]=approved")).await;
    assert_eq!(ids(&v), [REQ1, REQ2]);
    let (_, _, v) = get(&h, &tok, &format!("{reqs}&filters[id][]={REQ2}")).await;
    assert_eq!(ids(&v), [REQ2]);
    // Direct costs have no status filter: ignored.
    let (_, _, v) = get(&h, &tok, &format!("/rest/v1.0/projects/{P1}/direct_costs?filters[status]=approved")).await;
    assert_eq!(ids(&v), [DC1, DC2]);
    // Cost codes have no updated_at filter: ignored (a single value would otherwise be a 400).
    let (s, _, v) = get(&h, &tok, &format!("/rest/v1.0/cost_codes?project_id={P1}&filters[updated_at]=x")).await;
    assert_eq!((s.as_u16(), v.as_array().map(Vec::len)), (200, Some(2)));
    h.system().set_switch(|s| s.unsupported_filters = super::switches::UnsupportedFilter::Error);
    let (s, _, body) = get(&h, &tok, &format!("/rest/v1.0/projects/{P1}/direct_costs?filters[status]=approved")).await;
    assert_eq!(s, 400);
    assert!(body["errors"].as_str().unwrap().contains("filters[status]"));
    // Vendors search by name and by EIN.
    let (_, _, v) =
        get(&h, &tok, &format!("/rest/v1.0/vendors?company_id={}&filters[search]=841234501", demo::COMPANY_ID)).await;
    assert_eq!(ids(&v), [ACME]);
    h.shutdown().await;
}

#[tokio::test]
async fn rate_windows_headers_429_retry_after_and_budget_keys() {
    let h = start_with(small()).await;
    h.system().set_switch(|s| {
        s.spike_limit = 3;
        s.spike_window_ms = 10_000;
        s.hourly_limit = 5;
    });
    let tok = token(&h).await;
    let path = format!("/rest/v1.0/projects?company_id={}", demo::COMPANY_ID);
    let (_, hd, _) = get(&h, &tok, &path).await;
    let reset = h.clock().now().timestamp() + 10;
    assert_eq!((hdr(&hd, "x-rate-limit-limit"), hdr(&hd, "x-rate-limit-remaining")), ("3", "2"));
    assert_eq!(hdr(&hd, "x-rate-limit-reset"), reset.to_string());
    assert!(!hdr(&hd, "date").is_empty());
    get(&h, &tok, &path).await;
    get(&h, &tok, &path).await;
    let (s, hd, body) = get(&h, &tok, &path).await;
    assert_eq!(s, 429);
    assert_eq!(
        body,
        json!("You have surpassed the max number of requests for an hour. Please wait until your limit resets.")
    );
    assert_eq!((hdr(&hd, "retry-after"), hdr(&hd, "x-rate-limit-remaining")), ("10", "0"));
    // Another app in the same company has its own budget.
    let other = client()
        .post(format!("{}/oauth/token", h.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", demo::OTHER_CLIENT_ID),
            ("client_secret", demo::OTHER_CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(get(&h, other["access_token"].as_str().unwrap(), &path).await.0, 200);
    // After the spike window, the hourly one is the tighter: 2 left of 5, then 429 for the hour.
    h.clock().advance(Duration::seconds(10));
    let (_, hd, _) = get(&h, &tok, &path).await;
    assert_eq!((hdr(&hd, "x-rate-limit-limit"), hdr(&hd, "x-rate-limit-remaining")), ("5", "1"));
    get(&h, &tok, &path).await;
    let (s, hd, _) = get(&h, &tok, &path).await;
    assert_eq!(s, 429);
    assert_eq!(hdr(&hd, "retry-after"), "3590");
    // Without Retry-After, JSON body; spike window off.
    h.system().set_switch(|s| {
        s.rate_limit_retry_after = false;
        s.rate_limit_body_json = true;
    });
    let (s, hd, body) = get(&h, &tok, &path).await;
    assert_eq!((s.as_u16(), hdr(&hd, "retry-after")), (429, ""));
    assert!(body["errors"].as_str().unwrap().contains("max number of requests"));
    let stats = action(&h, "rate_limit", json!({})).await;
    let key = format!("{}|{}", demo::CLIENT_ID, demo::COMPANY_ID);
    assert_eq!(stats["stats"][&key]["rejected"], 3);
    assert_eq!(stats["stats"][&key]["rejected_spike"], 1);
    // Injected 503 with Retry-After through the kit's fault table.
    h.clock().advance(Duration::hours(1));
    h.faults().add(FaultRule::new("GET", "/rest/v1.0/projects", Fault::status_retry_after(503, 7)).times(1));
    let (s, hd, _) = get(&h, &tok, &path).await;
    assert_eq!((s.as_u16(), hdr(&hd, "retry-after")), (503, "7"));
    assert_eq!(get(&h, &tok, &path).await.0, 200);
    h.shutdown().await;
}

#[tokio::test]
async fn resource_shapes_versions_money_and_ids() {
    let h = start_with(small()).await;
    let tok = token(&h).await;
    // Requisitions: v1.0 names the vendor, v1.1 adds its id and, with view=extended, the items.
    let (_, _, v10) = get(&h, &tok, &format!("/rest/v1.0/requisitions/{REQ2}?project_id={P1}")).await;
    assert_eq!(v10["vendor_name"], "Apex Concrete Contractors, Inc.");
    assert!(v10.get("vendor_id").is_none() && v10.get("items").is_none(), "{v10}");
    assert_eq!(v10["commitment_type"], "WorkOrderContract");
    let s = &v10["summary"];
    assert_eq!(
        (s["contract_sum_to_date"].as_str(), s["current_payment_due"].as_str()),
        (Some("1152000.00"), Some("54000.00"))
    );
    assert_eq!(
        (s["total_retainage"].as_str(), s["less_previous_certificates_for_payment"].as_str()),
        (Some("16000.00"), Some("90000.00"))
    );
    let (_, _, v11) = get(&h, &tok, &format!("/rest/v1.1/requisitions/{REQ2}?project_id={P1}")).await;
    assert_eq!(v11["vendor_id"], ACME);
    assert!(v11.get("items").is_none());
    let (_, _, v11) = get(&h, &tok, &format!("/rest/v1.1/requisitions?project_id={P1}&view=extended")).await;
    let items = &v11[1]["items"];
    assert_eq!(items.as_array().map(Vec::len), Some(2));
    assert_eq!(
        (items[1]["item_type"].as_str(), items[1]["net_amount"].as_str()),
        (Some("change_order_item"), Some("9000.00"))
    );
    let (_, _, detail) = get(&h, &tok, &format!("/rest/v1.0/requisitions/{REQ2}/detail?project_id={P1}")).await;
    assert_eq!(detail[0]["balance_to_finish"], "992000.00");
    // Direct costs: vendor a string in lists, an object in the v1.1 show with line items.
    let (_, _, list) = get(&h, &tok, &format!("/rest/v1.0/projects/{P1}/direct_costs")).await;
    assert_eq!((list[0]["vendor"].as_str(), list[0]["amount"].as_str()), (Some("Metro Safety Supply"), Some("120.30")));
    let (_, _, show) = get(&h, &tok, &format!("/rest/v1.1/projects/{P1}/direct_costs/{DC1}")).await;
    assert_eq!(show["vendor"], json!({"id": ACME + 1, "name": "Metro Safety Supply"}));
    assert_eq!(show["line_items"][0]["cost_code"]["full_code"], "03-300");
    assert_eq!(show["line_items"][0]["line_item_type"]["base_type"], "commitment");
    let (_, _, show10) = get(&h, &tok, &format!("/rest/v1.0/projects/{P1}/direct_costs/{DC1}")).await;
    assert!(show10.get("line_items").is_none());
    let (_, _, lines) =
        get(&h, &tok, &format!("/rest/v1.0/projects/{P1}/direct_costs/line_items?filters[direct_cost_id]={DC2}")).await;
    assert_eq!(lines.as_array().map(Vec::len), Some(1));
    // Commitments: Title Case statuses per type, Ruby-style money, totals with change orders.
    let (_, _, woc) = get(&h, &tok, &format!("/rest/v1.0/work_order_contracts/{WO}?project_id={P1}")).await;
    assert_eq!((woc["status"].as_str(), woc["grand_total"].as_str()), (Some("Approved"), Some("1142000.0")));
    assert_eq!(
        (woc["approved_change_orders"].as_str(), woc["revised_contract"].as_str()),
        (Some("10000.0"), Some("1152000.0"))
    );
    assert_eq!(woc["line_items"][0]["holder"]["holder_type"], "WorkOrderContract");
    assert_eq!(woc["vendor"]["company"], "Apex Concrete Contractors, Inc.");
    let (_, _, poc) =
        get(&h, &tok, &format!("/rest/v1.0/purchase_order_contracts?project_id={P1}&filters[status]=Processing")).await;
    assert_eq!((poc[0]["id"].as_i64(), poc[0]["grand_total"].as_str()), (Some(PO), Some("3125.0")));
    assert!(WO > i64::from(u32::MAX) && REQ1 > i64::from(i32::MAX), "ids beyond 32 bits");
    let (_, _, cos) =
        get(&h, &tok, &format!("/rest/v1.0/change_order_packages?project_id={P1}&contract_id={WO}")).await;
    assert_eq!((cos[0]["status"].as_str(), cos[0]["grand_total"].as_str()), (Some("approved"), Some("10000.0")));
    let (_, _, cco) =
        get(&h, &tok, &format!("/rest/v1.0/projects/{P1}/commitment_change_orders?filters[vendor_id]={ACME}")).await;
    assert_eq!(cco[0]["legacy_package_id"], 48_500_001);
    // Cost codes: two levels; cost types with a null base type.
    let (_, _, codes) = get(&h, &tok, &format!("/rest/v1.0/cost_codes?project_id={P1}")).await;
    assert_eq!((codes[1]["full_code"].as_str(), codes[1]["parent"]["id"].as_i64()), (Some("03-300"), Some(10)));
    let (_, _, types) = get(&h, &tok, &format!("/rest/v1.0/line_item_types?company_id={}", demo::COMPANY_ID)).await;
    assert!(types.as_array().unwrap().iter().any(|t| t["base_type"].is_null()));
    // Vendors: tax ids only in business_register / business_id.
    let (_, _, v) = get(&h, &tok, &format!("/rest/v1.0/vendors/{ACME}?company_id={}", demo::COMPANY_ID)).await;
    assert_eq!(v["business_register"]["identifier"], "84-1234501");
    assert!(v.get("tax_id").is_none());
    // Money styles.
    h.system().set_switch(|s| s.money_style = super::switches::MoneyStyle::Numbers);
    let (_, _, list) = get(&h, &tok, &format!("/rest/v1.0/projects/{P1}/direct_costs")).await;
    assert_eq!(list[0]["amount"], json!(120.3));
    h.shutdown().await;
}

#[tokio::test]
async fn write_back_locks_the_record_and_refuses_duplicates() {
    let h = start_with(small()).await;
    let tok = token(&h).await;
    let patch = |origin: &str| json!({"project_id": P1, "requisition": {"origin_id": origin}});
    let (s, v) =
        send(&h, &tok, reqwest::Method::PATCH, &format!("/rest/v1.0/requisitions/{REQ1}"), patch("DELTEK-V-1")).await;
    assert_eq!((s.as_u16(), v["origin_id"].as_str()), (200, Some("DELTEK-V-1")));
    let (s, v) = send(&h, &tok, reqwest::Method::PATCH, &format!("/rest/v1.0/requisitions/{REQ1}"), patch("X")).await;
    assert_eq!(s, 422);
    assert!(v["errors"]["base"][0].as_str().unwrap().contains("synced with ERP"));
    let (s, v) =
        send(&h, &tok, reqwest::Method::PATCH, &format!("/rest/v1.0/requisitions/{REQ2}"), patch("DELTEK-V-1")).await;
    assert_eq!((s.as_u16(), v), (422, json!({"errors": {"origin_id": ["has already been taken"]}})));
    h.system().set_switch(|s| s.duplicate_origin_id_status = 409);
    let (s, _) =
        send(&h, &tok, reqwest::Method::PATCH, &format!("/rest/v1.0/requisitions/{REQ2}"), patch("DELTEK-V-1")).await;
    assert_eq!(s, 409);
    let (s, _) = send(
        &h,
        &tok,
        reqwest::Method::PATCH,
        &format!("/rest/v1.0/requisitions/{REQ2}"),
        json!({"project_id": P1, "requisition": {"status": "approved"}}),
    )
    .await;
    assert_eq!(s, 422, "only the write-back fields");
    // The ambiguous write: committed, then the connection dropped.
    h.faults().add(
        FaultRule::new("PATCH", "/rest/v1.0/projects/{project_id}/direct_costs/{id}", Fault::commit_then_reset(50))
            .times(1),
    );
    let r = client()
        .patch(format!("{}/rest/v1.0/projects/{P1}/direct_costs/{DC1}", h.base_url()))
        .bearer_auth(&tok)
        .header("Procore-Company-Id", demo::COMPANY_ID.to_string())
        .json(&json!({"direct_cost": {"origin_id": "DELTEK-V-2"}}))
        .send()
        .await;
    assert!(r.is_err(), "no answer");
    let (_, _, dc) = get(&h, &tok, &format!("/rest/v1.1/projects/{P1}/direct_costs/{DC1}")).await;
    assert_eq!(dc["origin_id"], "DELTEK-V-2", "but the write happened");
    h.shutdown().await;
}

/// A webhook receiver: records `(authorization, body)`, answers the statuses in `plan` (then 200).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, Value)>>>,
    plan: Arc<Mutex<Vec<u16>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    r.got.lock().unwrap().push((auth, serde_json::from_str(&body).unwrap_or(Value::Null)));
    let mut plan = r.plan.lock().unwrap();
    let s = if plan.is_empty() { 200 } else { plan.remove(0) };
    StatusCode::from_u16(s).unwrap()
}

async fn receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let app = Router::new().route("/hook", post(receive)).with_state(r.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    (r, url)
}

async fn wait_for(what: &str, f: impl Fn() -> bool) {
    for _ in 0..300 {
        if f() {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn hook_with_trigger(h: &SimHandle<ProcoreSim>, tok: &str, url: &str, payload_version: &str) -> i64 {
    let (s, hook) = send(
        h,
        tok,
        reqwest::Method::POST,
        "/rest/v1.0/webhooks/hooks",
        json!({"company_id": demo::COMPANY_ID, "hook": {"api_version": "v2", "namespace": "mlc-ap-sync", "destination_url": url,
               "payload_version": payload_version, "destination_headers": {"Authorization": demo::WEBHOOK_AUTHORIZATION}}}),
    )
    .await;
    assert_eq!(s, 201, "{hook}");
    let id = hook["id"].as_i64().unwrap();
    let (s, t) = send(
        h,
        tok,
        reqwest::Method::POST,
        &format!("/rest/v1.0/webhooks/hooks/{id}/triggers"),
        json!({"company_id": demo::COMPANY_ID, "api_version": "v2", "trigger": {"resource_name": "Direct Costs", "event_type": "update"}}),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    id
}

#[tokio::test]
async fn webhook_hooks_triggers_delivery_backoff_and_discard() {
    let h = start_with(small()).await;
    let tok = token(&h).await;
    let (rx, url) = receiver().await;
    // Validation.
    let (s, v) = send(
        &h,
        &tok,
        reqwest::Method::POST,
        "/rest/v1.0/webhooks/hooks",
        json!({"hook": {"namespace": "Bad NS", "destination_url": url}}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let hook = hook_with_trigger(&h, &tok, &url, "v2.0").await;
    let (s, _) = send(
        &h,
        &tok,
        reqwest::Method::POST,
        &format!("/rest/v1.0/webhooks/hooks/{hook}/triggers"),
        json!({"trigger": {"resource_name": "Direct Costs", "event_type": "update"}}),
    )
    .await;
    assert_eq!(s, 422, "a duplicate trigger");
    let (_, _, hooks) =
        get(&h, &tok, &format!("/rest/v1.0/webhooks/hooks?company_id={}&namespace=mlc-ap-sync", demo::COMPANY_ID))
            .await;
    assert_eq!(
        hooks[0]["destination_headers"]["Authorization"].as_str().map(|s| s.ends_with("Rz") && s.starts_with("***")),
        Some(true)
    );
    let (_, _, triggers) =
        get(&h, &tok, &format!("/rest/v1.0/webhooks/hooks/{hook}/triggers?company_id={}", demo::COMPANY_ID)).await;
    assert_eq!(triggers[0]["event_type"], "UPDATE");
    // A change in the web app → one delivery with the configured Authorization and ids only.
    action(&h, "set_status", json!({"resource": "direct_cost", "id": DC2, "status": "approved"})).await;
    wait_for("first delivery", || rx.got.lock().unwrap().len() == 1).await;
    let (auth, body) = rx.got.lock().unwrap()[0].clone();
    assert_eq!(auth, demo::WEBHOOK_AUTHORIZATION);
    assert_eq!(
        (body["resource_name"].as_str(), body["resource_id"].as_i64(), body["event_type"].as_str()),
        (Some("Direct Costs"), Some(DC2), Some("update"))
    );
    assert_eq!(
        (body["project_id"].as_i64(), body["company_id"].as_i64(), body["api_version"].as_str()),
        (Some(P1), Some(demo::COMPANY_ID), Some("v2"))
    );
    assert!(body["id"].as_u64().unwrap() > 1 << 53 && body["ulid"].as_str().unwrap().len() == 26);
    // Events without a trigger are not sent; requisitions send none by default.
    action(&h, "set_status", json!({"resource": "requisition", "id": REQ2, "status": "approved"})).await;
    // A failing receiver: paused, retried after 1 s, 2 s (simulated), then delivered.
    rx.plan.lock().unwrap().extend([500, 503]);
    action(&h, "fire_event", json!({"resource_name": "Direct Costs", "resource_id": DC1, "project_id": P1})).await;
    wait_for("failed attempt", || rx.got.lock().unwrap().len() == 2).await;
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    assert_eq!(rx.got.lock().unwrap().len(), 2, "no retry before the backoff on a frozen clock");
    h.clock().advance(Duration::seconds(1));
    wait_for("second attempt", || rx.got.lock().unwrap().len() == 3).await;
    h.clock().advance(Duration::seconds(2));
    wait_for("delivered", || rx.got.lock().unwrap().len() == 4).await;
    let (_, _, log) =
        get(&h, &tok, &format!("/rest/v1.0/webhooks/hooks/{hook}/deliveries?company_id={}", demo::COMPANY_ID)).await;
    let outcomes: Vec<&str> = log.as_array().unwrap().iter().map(|d| d["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "retried", "retried", "ok"]);
    // Failing for 12 hours: the queue is flushed and the events marked discarded.
    rx.plan.lock().unwrap().extend(std::iter::repeat_n(500, 100));
    action(&h, "fire_event", json!({"resource_name": "Direct Costs", "resource_id": DC1, "project_id": P1})).await;
    action(&h, "fire_event", json!({"resource_name": "Direct Costs", "resource_id": DC2, "project_id": P1})).await;
    wait_for("attempt", || rx.got.lock().unwrap().len() == 5).await;
    let mut seen = 5;
    for _ in 0..40 {
        h.clock().advance(Duration::hours(1));
        action(&h, "flush_webhooks", json!({})).await;
        wait_for("a retry", || rx.got.lock().unwrap().len() > seen).await;
        seen = rx.got.lock().unwrap().len();
        let st = action(&h, "deliveries", json!({"hook_id": hook})).await;
        if st["deliveries"].as_array().unwrap().iter().any(|d| d["outcome"] == "discarded") {
            break;
        }
    }
    let tok = token(&h).await; // the clock moved past the old token's 90 minutes
    let (_, _, discarded) = get(
        &h,
        &tok,
        &format!(
            "/rest/v1.0/webhooks/hooks/{hook}/deliveries?company_id={}&filters[status]=discarded",
            demo::COMPANY_ID
        ),
    )
    .await;
    assert_eq!(discarded.as_array().map(Vec::len), Some(2), "both queued events were discarded: {discarded}");
    h.shutdown().await;
}

#[tokio::test]
async fn webhook_drops_duplicates_order_and_payload_versions() {
    let h = start_with(small()).await;
    let tok = token(&h).await;
    let (rx, url) = receiver().await;
    let hook = hook_with_trigger(&h, &tok, &url, "v4.0").await;
    h.system().set_switch(|s| s.webhook_drop_share = 1.0);
    action(&h, "fire_event", json!({"resource_name": "Direct Costs", "resource_id": DC1, "project_id": P1})).await;
    let st = action(&h, "deliveries", json!({"hook_id": hook})).await;
    assert_eq!(st["deliveries"][0]["outcome"], "dropped");
    tokio::time::sleep(StdDuration::from_millis(50)).await;
    assert!(rx.got.lock().unwrap().is_empty(), "a lost delivery never arrives");
    h.system().set_switch(|s| {
        s.webhook_drop_share = 0.0;
        s.webhook_duplicate_share = 1.0;
    });
    action(&h, "fire_event", json!({"resource_name": "Direct Costs", "resource_id": DC2, "project_id": P1})).await;
    wait_for("two copies", || rx.got.lock().unwrap().len() == 2).await;
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got[0].1["id"], got[1].1["id"], "the same event twice");
    // v4.0: string ids, reason and resource_type.
    assert_eq!(
        (got[0].1["reason"].as_str(), got[0].1["resource_type"].as_str()),
        (Some("update"), Some("Direct Costs"))
    );
    assert_eq!(got[0].1["resource_id"], json!(DC2.to_string()));
    // Out of order: while the receiver fails the head, new events overtake older ones.
    h.system().set_switch(|s| {
        s.webhook_duplicate_share = 0.0;
        s.webhook_out_of_order = true;
    });
    rx.got.lock().unwrap().clear();
    rx.plan.lock().unwrap().push(500);
    for id in [1, 2, 3] {
        action(&h, "fire_event", json!({"resource_name": "Direct Costs", "resource_id": id, "project_id": P1})).await;
    }
    wait_for("the failed head", || !rx.got.lock().unwrap().is_empty()).await;
    action(&h, "flush_webhooks", json!({})).await;
    wait_for("all three", || rx.got.lock().unwrap().len() == 4).await;
    let order: Vec<String> =
        rx.got.lock().unwrap().iter().map(|(_, b)| b["resource_id"].as_str().unwrap().to_string()).collect();
    assert_eq!(order, ["1", "1", "3", "2"]);
    h.shutdown().await;
}

#[tokio::test]
async fn generator_is_deterministic_and_covers_the_demo_story() {
    let a = scenario::general_contractor(scenario::DEFAULT_SEED, 6);
    let b = scenario::general_contractor(scenario::DEFAULT_SEED, 6);
    assert_eq!(a, b);
    assert_ne!(a, scenario::general_contractor(7, 6));
    assert_eq!(a.projects.iter().filter(|p| p.active).count(), 6);
    assert_eq!(a.projects.iter().filter(|p| !p.active).count(), 1);
    let statuses: std::collections::BTreeSet<&str> = a.requisitions.iter().map(|r| r.status.as_str()).collect();
    assert!(statuses.contains("approved") && statuses.len() >= 3, "{statuses:?}");
    assert!(a.requisitions.iter().any(|r| r.items.iter().any(|i| i.item_type == "change_order_item")));
    assert!(a.commitments.iter().any(|c| c.kind == CommitmentKind::PurchaseOrderContract));
    assert!(
        a.change_orders.iter().any(|c| c.status == "approved")
            && a.change_orders.iter().any(|c| c.status != "approved")
    );
    assert!(a.direct_costs.iter().any(|d| d.status == "approved" && d.amount().is_zero()), "a zero-amount invoice");
    let new_sub = a.vendors.iter().find(|v| v.name == scenario::NEW_SUBCONTRACTOR).expect("new subcontractor");
    assert!(a.requisitions.iter().any(|r| r.status == "approved"
        && a.commitments.iter().any(|c| c.id == r.commitment_id && c.vendor_id == Some(new_sub.id))));
    // Every approved requisition's G702 adds up; retainage is held.
    for r in &a.requisitions {
        let s = r.summary(Decimal::TEN);
        assert_eq!(s.current_payment_due, r.items.iter().map(RequisitionItem::net).sum::<Decimal>(), "{}", r.id);
    }
    assert!(a.requisitions.iter().any(|r| r.summary(Decimal::TEN).total_retainage > Decimal::ZERO));
    // It seeds, and the 20-project version too.
    let h = builder().scenario(scenario::general_contractor(1, 20)).start().await.expect("start");
    assert_eq!(h.system().lock().projects.len(), 21);
    h.shutdown().await;
}

#[tokio::test]
async fn seed_errors_snapshot_restore_and_the_registry() {
    let h = start_with(small()).await;
    let c = client();
    let bad = c
        .post(format!("{}/seed", h.control_url()))
        .json(&json!({"commitments": [{"id": 9, "project_id": P1, "kind": "WorkOrderContract", "status": "Received"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let msg = bad.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_string();
    assert!(msg.contains("commitments[0]") && msg.contains("Received"), "{msg}");
    let bad = c.post(format!("{}/seed", h.control_url())).json(&json!({"vendorz": []})).send().await.unwrap();
    assert!(bad.json::<Value>().await.unwrap()["error"].as_str().unwrap().contains("vendorz"));
    // Change something, snapshot, restore into a fresh simulator: the same state.
    let tok = token(&h).await;
    action(&h, "update", json!({"resource": "commitment", "id": WO, "fields": {"line_items": [{"id": 1, "cost_code_id": 11, "amount": "1200000", "quantity": "1"}]}})).await;
    let (_, _, woc) = get(&h, &tok, &format!("/rest/v1.0/work_order_contracts/{WO}?project_id={P1}")).await;
    assert_eq!(woc["grand_total"], "1200000.0", "a revised commitment");
    let snap: Value = c.get(format!("{}/state", h.control_url())).send().await.unwrap().json().await.unwrap();
    let h2 = builder().empty().start().await.expect("start");
    use crate::common::SimSystem;
    h2.system().restore(&snap).expect("restore");
    assert_eq!(h2.system().snapshot(), snap);
    let tok2 = token(&h2).await;
    assert_eq!(get(&h2, &tok, "/rest/v1.0/me").await.0, 200, "tokens survive the restore");
    let (_, _, woc2) = get(&h2, &tok2, &format!("/rest/v1.0/work_order_contracts/{WO}?project_id={P1}")).await;
    assert_eq!(woc2["grand_total"], "1200000.0");
    h2.shutdown().await;
    // The registry starts the demo company.
    let dynh = crate::start("procore", 0, SimClock::manual_default()).await.expect("registered");
    assert_eq!(dynh.credentials()["company_id"], demo::COMPANY_ID);
    let info = dynh.info();
    assert_eq!(
        (info["system"].as_str(), info["settings"]["company_id"].as_i64()),
        (Some("procore"), Some(demo::COMPANY_ID))
    );
    assert_eq!(info["credentials"]["client_id"], demo::CLIENT_ID);
    assert!(info["credentials"].get("company_id").is_none(), "a setting, not a credential");
    dynh.shutdown().await;
    h.shutdown().await;
}
