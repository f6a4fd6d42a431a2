//! Push notifications through the connector's source: real deliveries from the simulator,
//! verified over the raw body in constant time, parsed into hints; forged and duplicate ones.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use mlc_acumatica::webhook::{ENTITY_BILL, ENTITY_VENDOR, HintTarget, hint_target, webhook_source};
use mlc_acumatica::{AcumaticaCredentials, AcumaticaSettings};
use mlc_core::engine::intake::{WebhookRequest, WebhookSource};
use mlc_sim::acumatica::demo;
use serde_json::json;

use crate::{action, client, creds, options, start};

type Got = Arc<Mutex<Vec<(Vec<(String, String)>, Vec<u8>)>>>;

async fn receiver() -> (String, Got) {
    async fn hook(State(got): State<Got>, headers: HeaderMap, body: axum::body::Bytes) -> axum::http::StatusCode {
        let h = headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
        got.lock().expect("lock").push((h, body.to_vec()));
        axum::http::StatusCode::OK
    }
    let got: Got = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new().route("/webhooks/acumatica", post(hook)).with_state(got.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/webhooks/acumatica", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (url, got)
}

async fn wait(got: &Got, n: usize) {
    for _ in 0..400 {
        if got.lock().expect("lock").len() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("only {} deliveries", got.lock().expect("lock").len());
}

#[tokio::test]
async fn deliveries_verified_parsed_forged_and_duplicated() {
    let h = start().await;
    let (url, got) = receiver().await;
    action(&h, "configure_push", demo::push_destination(&url)).await;
    let s = AcumaticaSettings::from_options("acumatica", &options(&h)).expect("settings");
    let c = AcumaticaCredentials::from_credentials(&s, &creds(&h)).expect("creds");
    let source = webhook_source(&s, &c).expect("source");
    assert_eq!(source.header(), demo::PUSH_HEADER);
    let acu = client(&h);
    let v = acu
        .create_vendor(&mlc_acumatica::model::VendorDraft {
            vendor_id: "V30001".into(),
            name: Some("Pushy Co".into()),
            ..Default::default()
        })
        .await
        .expect("create");
    wait(&got, 1).await;
    let (headers, body) = got.lock().expect("lock")[0].clone();
    let req =
        WebhookRequest { connection: "acumatica", headers: &headers, body: &body, received_at: chrono::Utc::now() };
    source.verify(&req).expect("the header matches");
    let events = source.parse(&req).expect("parsed");
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].entity.as_str(), events[0].id.as_str()), (ENTITY_VENDOR, v.id.as_str()));
    assert_eq!(hint_target(&events[0].id), HintTarget::Id(v.id.clone()));
    // The hint reads back to the record.
    assert_eq!(acu.get_vendor_by_id(&events[0].id).await.expect("read").map(|x| x.vendor_id), Some("V30001".into()));
    // Forged: wrong or missing header → refused before parsing.
    let forged: Vec<(String, String)> = vec![(demo::PUSH_HEADER.into(), "guess".into())];
    let e = source
        .verify(&WebhookRequest {
            connection: "acumatica",
            headers: &forged,
            body: &body,
            received_at: chrono::Utc::now(),
        })
        .expect_err("forged");
    assert_eq!(e.status(), 401);
    assert!(
        source
            .verify(&WebhookRequest {
                connection: "acumatica",
                headers: &[],
                body: &body,
                received_at: chrono::Utc::now()
            })
            .is_err()
    );
    // A redelivery is byte-for-byte the same notification: the same delivery id, so intake drops it.
    let deliveries = action(&h, "push_deliveries", json!({})).await;
    let first = deliveries["deliveries"][0]["id"].as_u64().expect("id");
    action(&h, "redeliver_push", json!({"id": first})).await;
    wait(&got, 2).await;
    let (h2, b2) = got.lock().expect("lock")[1].clone();
    let again = source
        .parse(&WebhookRequest { connection: "acumatica", headers: &h2, body: &b2, received_at: chrono::Utc::now() })
        .expect("parsed");
    assert_eq!(again[0].delivery_id, events[0].delivery_id);
    // A bill, then a deleted vendor.
    let _ = acu.create_bill_once(&crate::writes_bill("PUSH-1")).await.expect("bill");
    wait(&got, 3).await;
    let (h3, b3) = got.lock().expect("lock")[2].clone();
    let ev = source
        .parse(&WebhookRequest { connection: "acumatica", headers: &h3, body: &b3, received_at: chrono::Utc::now() })
        .expect("parsed");
    assert_eq!(ev[0].entity, ENTITY_BILL);
    acu.delete(&format!("Vendor/{}", v.id), "vendor V30001").await.expect("delete");
    wait(&got, 4).await;
    let (h4, b4) = got.lock().expect("lock")[3].clone();
    let ev = source
        .parse(&WebhookRequest { connection: "acumatica", headers: &h4, body: &b4, received_at: chrono::Utc::now() })
        .expect("parsed");
    assert!(ev[0].event_type.ends_with(":deleted") && ev[0].id == v.id, "{ev:?}");
    assert!(acu.get_vendor_by_id(&v.id).await.expect("read").is_none(), "a hint for a gone record reads back as none");
    h.shutdown().await;
}
