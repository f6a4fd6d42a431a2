//! Webhooks: registration (both answer shapes, look-before-create), the source's verification
//! and parsing, and the whole path: Cin7 delivers, the source verifies and reads, the client
//! resolves the hint.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use mlc_cin7::{ENTITY_PURCHASE, ENTITY_PURCHASE_TASK, ENTITY_SUPPLIER, split_task_hint};
use mlc_core::engine::intake::{WebhookEvent, WebhookRequest, WebhookSource};
use mlc_sim::cin7::switches::WebhookPostShape;
use mlc_sim::common::SimSystem;
use serde_json::json;

use super::*;

type Got = Arc<Mutex<Vec<Result<Vec<WebhookEvent>, u16>>>>;

/// An ml-connector webhook endpoint in miniature: verify, then parse, as intake does.
async fn endpoint(source: mlc_cin7::Cin7Webhook) -> (String, Got) {
    async fn hook(
        State((source, got)): State<(Arc<mlc_cin7::Cin7Webhook>, Got)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let hs: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let req = WebhookRequest { connection: "cin7", headers: &hs, body: &body, received_at: chrono::Utc::now() };
        let r = source.verify(&req).and_then(|_| source.parse(&req));
        let status = match &r {
            Ok(_) => 200,
            Err(e) => e.status(),
        };
        got.lock().expect("lock").push(r.map_err(|e| e.status()));
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
    let got: Got = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().route("/webhooks/cin7", post(hook)).with_state((Arc::new(source), got.clone()));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/webhooks/cin7", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, got)
}

async fn wait_for(got: &Got, n: usize) -> Vec<Result<Vec<WebhookEvent>, u16>> {
    for _ in 0..500 {
        if got.lock().expect("lock").len() >= n {
            return got.lock().expect("lock").clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("timed out: {:?}", got.lock().expect("lock"));
}

#[tokio::test]
async fn register_list_delete_in_both_answer_shapes_and_ensure_looks_first() {
    let h = start(small()).await;
    let c = client(&h, json!({}));
    let w = c.ensure_webhook("Purchase/InvoiceAuthorised", "http://127.0.0.1:9/webhooks/cin7").await.expect("ensure");
    assert_eq!(
        (w.event_type.as_str(), w.is_active, w.header_names.clone()),
        ("Purchase/InvoiceAuthorised", true, vec!["x-mlc-webhook-secret".to_string()])
    );
    let again =
        c.ensure_webhook("Purchase/InvoiceAuthorised", "http://127.0.0.1:9/webhooks/cin7").await.expect("ensure");
    assert_eq!(again.id, w.id);
    assert_eq!(h.calls().count("POST", "/webhooks"), 1, "no duplicate registration");
    // The secret travels in ExternalHeaders, as configured.
    assert_eq!(
        h.system().lock().webhooks[0].headers,
        vec![("x-mlc-webhook-secret".to_string(), demo::WEBHOOK_SECRET.to_string())]
    );
    h.system().set_switch(|s| s.webhook_post_shape = WebhookPostShape::Bare);
    let bare = c
        .register_webhook("Supplier/Updated", "http://127.0.0.1:9/x", &[("verification-token", "t")])
        .await
        .expect("bare answer");
    assert_eq!(bare.event_type, "Supplier/Updated");
    assert_eq!(c.list_webhooks().await.expect("list").len(), 2);
    c.delete_webhook(&bare.id.to_uppercase()).await.expect("delete");
    assert_eq!(
        c.list_webhooks().await.expect("list").iter().map(|w| w.id.as_str()).collect::<Vec<_>>(),
        [w.id.as_str()]
    );
    // Cin7's refusal is quoted.
    let e = c.register_webhook("Purchase/Created", "http://127.0.0.1:9/x", &[]).await.unwrap_err();
    assert!(e.to_string().contains("is not a valid webhook type"), "{e}");
    // Without the Automation add-on.
    h.system().set_switch(|s| s.automation_enabled = false);
    let e = c.list_webhooks().await.unwrap_err();
    assert!(e.to_string().contains("Automation"), "{e}");
    h.shutdown().await;
}

#[tokio::test]
async fn the_source_verifies_the_secret_header_before_reading() {
    let creds = Credentials::new().with("webhook_secret", "s3cret-now").with("webhook_secret_previous", "s3cret-old");
    let src = mlc_cin7::webhook_source("cin7", &creds).expect("source");
    assert_eq!(src.system(), "cin7");
    let body = br#"{"TaskID":"8B1538E4-AAAA-BBBB-CCCC-000000000001","PurchaseOrderNumber":"PO-00042","EventType":"Purchase/InvoiceAuthorised"}"#;
    let req = |h: &[(String, String)]| -> Result<Vec<WebhookEvent>, u16> {
        let r = WebhookRequest { connection: "cin7", headers: h, body, received_at: chrono::Utc::now() };
        src.verify(&r).and_then(|_| src.parse(&r)).map_err(|e| e.status())
    };
    let hdr = |v: &str| vec![("x-mlc-webhook-secret".to_string(), v.to_string())];
    assert_eq!(req(&hdr("s3cret-now")).expect("good")[0].id, "8b1538e4-aaaa-bbbb-cccc-000000000001|PO-00042");
    assert!(req(&hdr("s3cret-old")).is_ok(), "the previous secret works during a rotation");
    assert_eq!(req(&hdr("s3cret-nope")), Err(401));
    assert_eq!(req(&hdr("")), Err(401));
    assert_eq!(req(&[("x-other".to_string(), "s3cret-now".to_string())]), Err(401), "missing header");
    // Verified garbage is a 400 naming what was wrong; unverified garbage is a 401.
    let garbage = WebhookRequest {
        connection: "cin7",
        headers: &hdr("s3cret-now"),
        body: b"<xml/>",
        received_at: chrono::Utc::now(),
    };
    src.verify(&garbage).expect("verified");
    let e = src.parse(&garbage).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("cin7 webhook: the body is not JSON"), "{e}");
    // A custom header name, and no secret at all.
    let custom = Credentials::new().with("webhook_secret", "t0k").with("webhook_header", "Verification-Token");
    let src2 = mlc_cin7::webhook_source("cin7", &custom).expect("source");
    let ok = WebhookRequest {
        connection: "cin7",
        headers: &[("verification-token".into(), "t0k".into())],
        body,
        received_at: chrono::Utc::now(),
    };
    src2.verify(&ok).expect("custom header");
    let e = mlc_cin7::webhook_source("cin7", &Credentials::new()).unwrap_err();
    assert!(e.to_string().contains("webhook_secret"), "{e}");
}

#[tokio::test]
async fn delivered_by_cin7_verified_parsed_and_resolved() {
    let h = start(small()).await;
    h.system().set_switch(|s| s.webhook_timeout_ms = 2_000);
    let c = client(&h, json!({}));
    let (url, got) = endpoint(c.webhook_source().expect("source")).await;
    for t in ["Purchase/InvoiceAuthorised", "Purchase/Updated", "Supplier/Updated"] {
        c.ensure_webhook(t, &url).await.expect("register");
    }
    // A clerk authorises the draft second invoice of the Advanced purchase in Cin7.
    let sim: Arc<Cin7Sim> = h.system().clone();
    sim.clone().action("authorise_invoice".into(), json!({"order_number": "PO-00002"})).await.expect("authorise");
    h.clock().advance(chrono::Duration::seconds(61));
    let events: Vec<WebhookEvent> =
        wait_for(&got, 2).await.into_iter().flat_map(|r| r.expect("verified and read")).collect();
    let task = events.iter().find(|e| e.entity == ENTITY_PURCHASE_TASK).expect("task hint");
    assert_eq!(task.event_type, "Purchase/InvoiceAuthorised");
    let (task_id, order) = split_task_hint(&task.id);
    assert_eq!(order.as_deref(), Some("PO-00002"));
    assert_ne!(task_id, ADVANCED, "Cin7 (default switch) names the invoice's own task");
    let p = c.resolve_purchase_task(&task_id, order.as_deref()).await.expect("resolve").expect("found");
    assert_eq!(p.id, ADVANCED);
    assert!(p.invoice(&task_id).is_some_and(|i| i.status.is_authorised()));
    let upd = events.iter().find(|e| e.entity == ENTITY_PURCHASE).expect("purchase hint");
    assert_eq!(upd.id, ADVANCED);
    assert_eq!(upd.observed_version, p.version(), "the webhook's version is the read-back version");

    // Supplier/Updated, and a bad secret: Cin7 gets 401 and will retry later.
    sim.clone()
        .action("fire_event".into(), json!({"type": "Supplier/Updated", "supplier_id": ACME}))
        .await
        .expect("fire");
    c.register_webhook("Purchase/Updated", &url, &[("x-mlc-webhook-secret", "wrong")]).await.expect("register");
    sim.clone().action("touch_purchase".into(), json!({"order_number": "PO-00001"})).await.expect("touch");
    sim.flush_webhooks();
    let all = wait_for(&got, 5).await;
    assert!(all.contains(&Err(401)), "{all:?}");
    let sup = all
        .iter()
        .flat_map(|r| r.clone().unwrap_or_default())
        .find(|e| e.entity == ENTITY_SUPPLIER)
        .expect("supplier hint");
    assert_eq!(sup.id, ACME);
    let s = c.get_supplier(&sup.id).await.expect("read").expect("exists");
    assert_eq!(sup.observed_version, s.version());
    let deliveries = sim.deliveries();
    assert!(
        deliveries.iter().any(|d| d.state == "pending" && d.attempts.first().and_then(|a| a.status) == Some(401)),
        "{deliveries:#?}"
    );
    h.shutdown().await;
}
