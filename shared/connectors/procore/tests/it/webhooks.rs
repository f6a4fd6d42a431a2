//! Real deliveries from the simulator to a receiver, checked by the connection's webhook source:
//! good, forged, duplicated; a lost delivery is found by the poll instead.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use mlc_core::engine::intake::{IntakeError, WebhookRequest, WebhookSource};
use mlc_core::secret::Redacted;
use mlc_procore::webhook::ENTITY_DIRECT_COST;
use mlc_procore::{DEFAULT_TRIGGERS, DirectCostStatus, split_hint, webhook_source};

use super::*;

type Got = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

async fn receive(State(got): State<Got>, headers: HeaderMap, body: axum::body::Bytes) -> &'static str {
    let h = headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    got.lock().unwrap().push((h, body.to_vec()));
    "ok"
}

async fn receiver() -> (Got, String) {
    let got: Got = Arc::default();
    let app = Router::new().route("/webhooks/procore", post(receive)).with_state(got.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/procore", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.ok() });
    (got, url)
}

async fn wait_for(what: &str, f: impl Fn() -> bool) {
    for _ in 0..300 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn request<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> WebhookRequest<'a> {
    WebhookRequest { connection: "procore", headers, body, received_at: chrono::Utc::now() }
}

#[tokio::test]
async fn deliveries_are_verified_parsed_and_deduplicated() {
    let s = company();
    let dc = s.direct_costs.iter().find(|d| d.project_id == p1() && d.status != "approved").expect("unapproved").id;
    let h = start(s).await;
    let c = client(&h, json!({}));
    let (got, url) = receiver().await;
    let auth = Redacted::new(demo::WEBHOOK_AUTHORIZATION.to_string());
    c.ensure_hook(&url, &auth, DEFAULT_TRIGGERS).await.expect("hook");
    let source = webhook_source("procore", &credentials()).expect("source");

    // A clerk approves a direct cost: one delivery, verified, naming project and record.
    action(&h, "set_status", json!({"resource": "direct_cost", "id": dc, "status": "approved"})).await;
    wait_for("the delivery", || got.lock().unwrap().len() == 1).await;
    let (headers, body) = got.lock().unwrap()[0].clone();
    source.verify(&request(&headers, &body)).expect("genuine");
    let events = source.parse(&request(&headers, &body)).expect("parsed");
    assert_eq!((events[0].entity.as_str(), events[0].event_type.as_str()), (ENTITY_DIRECT_COST, "Direct Costs/update"));
    let (project, id) = split_hint(&events[0].id).expect("hint");
    assert_eq!((project, id), (Some(p1()), dc));
    // The hint is read back, never trusted.
    let read = c.get_direct_cost(p1(), dc).await.unwrap().expect("exists");
    assert_eq!(read.status, DirectCostStatus::Approved);

    // Forged: same body, wrong or missing Authorization.
    for forged in [vec![("authorization".to_string(), "Bearer guess".to_string())], vec![]] {
        let e = source.verify(&request(&forged, &body)).unwrap_err();
        assert!(matches!(e, IntakeError::Unauthorized(_)));
        assert_eq!(e.public_message(), "", "a prober learns nothing");
    }

    // Duplicated: the same event twice carries the same delivery id (intake drops the second).
    h.system().set_switch(|s| s.webhook_duplicate_share = 1.0);
    action(&h, "fire_event", json!({"resource_name": "Direct Costs", "resource_id": dc, "project_id": p1()})).await;
    wait_for("two copies", || got.lock().unwrap().len() == 3).await;
    let ids: Vec<Option<String>> = got.lock().unwrap()[1..]
        .iter()
        .map(|(h, b)| {
            source.verify(&request(h, b)).expect("genuine");
            source.parse(&request(h, b)).expect("parsed")[0].delivery_id.clone()
        })
        .collect();
    assert!(ids[0].is_some() && ids[0] == ids[1], "{ids:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn a_lost_delivery_is_caught_by_the_poll() {
    let s = company();
    let dc = s.direct_costs.iter().find(|d| d.project_id == p1() && d.status != "approved").expect("unapproved").id;
    let h = start(s).await;
    let c = client(&h, json!({}));
    let (got, url) = receiver().await;
    c.ensure_hook(&url, &Redacted::new(demo::WEBHOOK_AUTHORIZATION.to_string()), DEFAULT_TRIGGERS).await.expect("hook");
    h.system().set_switch(|s| s.webhook_drop_share = 1.0);
    let since = h.clock().now() - chrono::Duration::seconds(1);
    action(&h, "set_status", json!({"resource": "direct_cost", "id": dc, "status": "approved"})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(got.lock().unwrap().is_empty(), "the delivery was lost");
    let changed = c.list_direct_costs(p1(), Some(&(since, h.clock().now()))).await.expect("poll");
    assert_eq!(changed.iter().map(|d| d.id).collect::<Vec<_>>(), [dc], "the updated_at window finds it");
    h.shutdown().await;
}
