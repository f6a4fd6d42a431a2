//! Webhooks end to end: the simulator signs and delivers events, a miniature ml-connector
//! endpoint runs them through the engine's intake with this connector's source (verify over the
//! raw body, parse, dedupe by delivery id, enqueue a hint), and the client reads the record back.
//! Good, forged, expired, duplicated and rotated deliveries, and the call-out mode.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mlc_core::engine::intake::{Intake, IntakeReport, WebhookRequest, WebhookSource};
use mlc_core::engine::memory::{MemoryQueue, MemoryStore};
use mlc_core::engine::ports::ManualClock;
use mlc_core::engine::{Engine, EngineConfig};
use mlc_coupa::{CoupaSettings, ENTITY_INVOICE, ENTITY_SUPPLIER, webhook_source};
use mlc_sim::common::SimClock;

use super::*;

type Got = Arc<Mutex<Vec<Result<IntakeReport, u16>>>>;

#[derive(Clone)]
struct Endpoint {
    intake: Arc<Intake>,
    engine: Arc<Engine>,
    clock: SimClock,
    got: Got,
}

/// ml-connector's webhook endpoint in miniature; its clock is the simulator's.
async fn endpoint(source: Arc<dyn WebhookSource>, clock: SimClock) -> (String, Got, Arc<MemoryQueue>) {
    async fn hook(State(e): State<Endpoint>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let hs: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let req = WebhookRequest { connection: "coupa", headers: &hs, body: &body, received_at: e.clock.now() };
        let r = e.intake.handle(&e.engine, &req).await;
        let status = r.as_ref().map_or_else(|err| err.status(), |_| 202);
        e.got.lock().unwrap().push(r.map_err(|err| err.status()));
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    let mclock = ManualClock::new(mlc_core::testkit::t0());
    let queue = Arc::new(MemoryQueue::new(Arc::new(mclock.clone()), 5));
    let engine = Engine::new(Arc::new(MemoryStore::new()), queue.clone(), Arc::new(mclock), EngineConfig::default());
    let mut intake = Intake::new();
    intake.add_source("coupa", source);
    intake.route("coupa", ENTITY_INVOICE, "coupa-deltek-ap");
    intake.route("coupa", ENTITY_SUPPLIER, "coupa-deltek-vendors");
    let got: Got = Arc::new(Mutex::new(Vec::new()));
    let state = Endpoint { intake: Arc::new(intake), engine: Arc::new(engine), clock, got: got.clone() };
    let app = Router::new().route("/webhooks/coupa", post(hook)).with_state(state);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/coupa", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, got, queue)
}

async fn wait_for(got: &Got, n: usize) -> Vec<Result<IntakeReport, u16>> {
    for _ in 0..500 {
        if got.lock().unwrap().len() >= n {
            return got.lock().unwrap().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("only {:?}", got.lock().unwrap());
}

fn source(h: &SimHandle<CoupaSim>, creds: &Credentials) -> Arc<dyn WebhookSource> {
    let settings = CoupaSettings::from_options("coupa", &options(h, json!({}))).unwrap();
    Arc::new(webhook_source(&settings, creds).expect("source"))
}

#[tokio::test]
async fn signed_deliveries_are_verified_deduped_and_read_back() {
    let h = start(small()).await;
    let creds = credentials().with("webhook_secret_previous", "old-shared-secret");
    let (url, got, _queue) = endpoint(source(&h, &creds), h.clock().clone()).await;
    act(
        &h,
        "configure_events",
        json!({"url": url, "secret": demo::WEBHOOK_SECRET, "previous_secret": "old-shared-secret"}),
    )
    .await;

    // An invoice is approved in Coupa: one signed delivery, one hint.
    act(&h, "approve_invoice", json!({"id": 1005})).await;
    let r = wait_for(&got, 1).await;
    assert_eq!(r[0].as_ref().map(|x| (x.events, x.enqueued, x.duplicates)), Ok((1, 1, 0)));
    // The same delivery again (a relay retrying): dropped by its delivery id.
    act(&h, "send_event", json!({"event": "supplier.updated", "number": "S-1", "repeat": 2})).await;
    let r = wait_for(&got, 3).await;
    assert_eq!(r[1].as_ref().map(|x| (x.enqueued, x.duplicates)), Ok((1, 0)));
    assert_eq!(r[2].as_ref().map(|x| (x.enqueued, x.duplicates)), Ok((0, 1)));
    // Forged and expired: 401, nothing enqueued.
    act(&h, "send_event", json!({"event": "invoice.approved", "id": 1001, "forge": true})).await;
    act(&h, "send_event", json!({"event": "invoice.approved", "id": 1001, "timestamp_offset_secs": -600})).await;
    let r = wait_for(&got, 5).await;
    assert_eq!((r[3].clone().err(), r[4].clone().err()), (Some(401), Some(401)));
    // Rotation: signed with both secrets, or only with the one being retired.
    act(&h, "send_event", json!({"event": "invoice.approved", "id": 1002, "sign_with_both": true})).await;
    act(&h, "configure_events", json!({"url": url, "secret": "old-shared-secret"})).await;
    act(&h, "send_event", json!({"event": "invoice.approved", "id": 1001})).await;
    let r = wait_for(&got, 7).await;
    assert!(r[5].is_ok() && r[6].is_ok(), "{r:?}");
    h.shutdown().await;
}

#[tokio::test]
async fn the_hint_names_the_record_the_client_reads_back() {
    let h = start(small()).await;
    let creds = credentials();
    let src = source(&h, &creds);
    act(&h, "approve_invoice", json!({"id": 1005})).await;
    let (url, got, queue) = endpoint(src.clone(), h.clock().clone()).await;
    act(&h, "configure_events", json!({"url": url, "secret": demo::WEBHOOK_SECRET})).await;
    act(&h, "send_event", json!({"event": "invoice.approved", "id": 1005})).await;
    wait_for(&got, 1).await;
    let hints = mlc_core::engine::ports::Queue::receive(queue.as_ref(), 10, std::time::Duration::from_secs(30))
        .await
        .expect("receive");
    assert_eq!(hints.len(), 1);
    let hint = &hints[0].hint;
    assert_eq!((hint.entity.as_str(), hint.id.as_str()), (ENTITY_INVOICE, "1005"));
    let c = client(&h, json!({}));
    let inv = c.get_invoice(hint.id.parse().unwrap()).await.expect("read").expect("exists");
    assert!(inv.is_approved());
    assert_eq!(hint.observed_version, inv.version(), "the webhook's version is the read-back version");
    h.shutdown().await;
}

#[tokio::test]
async fn call_out_mode_still_carries_the_signature_we_verify() {
    type Tokens = Arc<Mutex<u32>>;
    async fn token(State(n): State<Tokens>) -> axum::Json<serde_json::Value> {
        *n.lock().unwrap() += 1;
        axum::Json(json!({"access_token": "issued-by-receiver", "token_type": "bearer", "expires_in": 86399}))
    }
    let issued: Tokens = Arc::new(Mutex::new(0));
    let app = Router::new().route("/oauth/token", post(token)).with_state(issued.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let token_url = format!("http://{}/oauth/token", l.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    let h = start_on(small(), SimClock::manual_default()).await;
    let (url, got, _q) = endpoint(source(&h, &credentials()), h.clock().clone()).await;
    act(
        &h,
        "configure_events",
        json!({"url": url, "secret": demo::WEBHOOK_SECRET, "mode": "callout",
                                       "token_url": token_url, "client_id": "coupa", "client_secret": "cs"}),
    )
    .await;
    act(&h, "approve_invoice", json!({"id": 1005})).await;
    let r = wait_for(&got, 1).await;
    assert_eq!(r[0].as_ref().map(|x| x.enqueued), Ok(1));
    assert_eq!(*issued.lock().unwrap(), 1, "the simulator fetched a bearer token from the receiver first");
    h.shutdown().await;
}
