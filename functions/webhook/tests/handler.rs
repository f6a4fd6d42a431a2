//! The webhook handler called directly with API Gateway v2 fixture events; DynamoDB (delivery
//! dedup) and SQS (hints) are moto. Verification uses the `mlc-webhooks` schemes; the body parser
//! here is a generic JSON shape (each connector brings the vendor's real one).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request};
use mlc_aws::SqsQueue;
use mlc_aws::testing::moto;
use mlc_core::engine::intake::{Intake, IntakeError, WebhookEvent, WebhookRequest};
use mlc_core::engine::model::Origin;
use mlc_core::engine::ports::{ManualClock, Queue};
use mlc_core::secret::Redacted;
use mlc_core::testkit::t0;
use mlc_core::{Engine, EngineConfig, FlowRegistry};
use mlc_flows::Runtime;
use mlc_webhooks::basic::BasicPair;
use mlc_webhooks::signed::header_value;
use mlc_webhooks::{AuthorizationHeader, BasicAuth, HeaderSecret, SignedTimestamp, Source};

const PLAIN: &str = include_str!("fixtures/apigw_v2_plain.json");
const BASE64: &str = include_str!("fixtures/apigw_v2_base64.json");
const COUPA_SECRET: &str = "whsec_example_0123456789";
const COUPA_OLD_SECRET: &str = "whsec_previous_secret";

/// `{"id"|"delivery": delivery id, "event", "entity"|"resource", "record_id"|"resource-id"|"id"}`.
fn generic_json(req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> {
    let v: serde_json::Value = serde_json::from_slice(req.body)
        .map_err(|e| IntakeError::BadBody(format!("{} webhook body is not JSON: {e}", req.connection)))?;
    let text = |k: &str| match v.get(k) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let entity = text("entity").or_else(|| text("resource")).ok_or_else(|| IntakeError::BadBody("no entity".into()))?;
    let (id, delivery) = match text("resource-id") {
        Some(rid) => (rid, text("id")),
        None => (text("id").ok_or_else(|| IntakeError::BadBody("no id".into()))?, text("delivery")),
    };
    Ok(vec![WebhookEvent {
        event_type: text("event").unwrap_or_default(),
        entity,
        id,
        delivery_id: delivery,
        observed_version: None,
    }])
}

fn r(s: &str) -> Redacted<String> {
    Redacted::new(s.to_string())
}

struct Setup {
    rt: Runtime,
    queue: Arc<SqsQueue>,
}

async fn setup() -> Setup {
    let m = moto();
    let store = Arc::new(m.store().await);
    let queue = Arc::new(m.queue(5).await);
    let clock = Arc::new(ManualClock::new(t0()));
    let engine = Engine::new(store, queue.clone(), clock, EngineConfig::default());
    let mut intake = Intake::new();
    intake.max_body = 4096;
    intake.add_source(
        "coupa",
        Arc::new(Source::new("coupa", SignedTimestamp::new(vec![r(COUPA_SECRET), r(COUPA_OLD_SECRET)]), generic_json)),
    );
    intake.add_source(
        "cin7",
        Arc::new(Source::new(
            "cin7",
            HeaderSecret::new("x-mlc-webhook-secret", vec![r("cin7-shared-secret-value")]),
            generic_json,
        )),
    );
    intake.add_source(
        "acumatica",
        Arc::new(Source::new(
            "acumatica",
            HeaderSecret::new("x-acumatica-secret", vec![r("acu-secret")]),
            generic_json,
        )),
    );
    intake.add_source(
        "procore",
        Arc::new(Source::new("procore", AuthorizationHeader::new(vec![r("Bearer pc-token")]), generic_json)),
    );
    intake.add_source(
        "deltek",
        Arc::new(Source::new(
            "deltek",
            BasicAuth::new(vec![BasicPair { username: r("vp-hook"), password: r("vp-pass") }]),
            generic_json,
        )),
    );
    intake.route("coupa", "invoices", "coupa-deltek-ap");
    intake.route("cin7", "purchase", "cin7-deltek-ap");
    for sys in ["acumatica", "procore", "deltek"] {
        intake.route(sys, "bill", &format!("{sys}-flow"));
    }
    let secrets = Arc::new(m.secrets().await);
    Setup { rt: Runtime::with_flows(engine, FlowRegistry::new(), intake, secrets), queue }
}

fn request(fixture: &str) -> Request {
    lambda_http::request::from_str(fixture).expect("fixture is an API Gateway v2 request")
}

/// A fixture with its body (plain) and headers replaced.
fn with(fixture: &str, system: &str, headers: &[(&str, &str)], body: &str) -> Request {
    let mut v: serde_json::Value = serde_json::from_str(fixture).unwrap();
    v["rawPath"] = format!("/webhooks/{system}").into();
    v["pathParameters"]["system"] = system.into();
    v["body"] = body.into();
    v["isBase64Encoded"] = false.into();
    v["headers"].as_object_mut().unwrap().retain(|k, _| !k.starts_with("x-mlc") && k != "authorization");
    for (k, val) in headers {
        v["headers"][*k] = (*val).into();
    }
    request(&v.to_string())
}

fn text(resp: &lambda_http::Response<Body>) -> String {
    match resp.body() {
        Body::Empty => String::new(),
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

async fn waiting(q: &SqsQueue) -> u64 {
    q.depth().await.unwrap().ready
}

#[tokio::test]
async fn plain_body_with_the_shared_secret_is_accepted_and_enqueued() {
    let s = setup().await;
    let resp = mlc_fn_webhook::handle(&s.rt, request(PLAIN)).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED, "{}", text(&resp));
    let report: serde_json::Value = serde_json::from_str(&text(&resp)).unwrap();
    assert_eq!(report["enqueued"], 1);
    let got = s.queue.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.len(), 1);
    let h = &got[0].hint;
    assert_eq!(
        (h.flow.as_str(), h.system.as_str(), h.entity.as_str(), h.id.as_str()),
        ("cin7-deltek-ap", "cin7", "purchase", "P-100")
    );
    assert_eq!(h.origin, Origin::Webhook);
    assert_eq!(h.delivery_id.as_deref(), Some("c7-0001"));
}

#[tokio::test]
async fn base64_body_with_a_good_coupa_signature_is_accepted() {
    let s = setup().await;
    let resp = mlc_fn_webhook::handle(&s.rt, request(BASE64)).await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED, "{}", text(&resp));
    let got = s.queue.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].hint.entity.as_str(), got[0].hint.id.as_str()), ("invoices", "123"));
    assert_eq!(got[0].hint.delivery_id.as_deref(), Some("d-1001"));
}

#[tokio::test]
async fn signatures_bad_expired_and_rotated() {
    let s = setup().await;
    let body = r#"{"id":"d-2","event":"invoice.approved","resource":"invoices","resource-id":7}"#;
    let t = t0().timestamp();
    let sig = |secret: &str, at: i64| header_value(&[secret.as_bytes()], at, body.as_bytes());
    let cases: Vec<(String, &str, StatusCode)> = vec![
        (sig("wrong-secret", t), "bad signature", StatusCode::UNAUTHORIZED),
        (sig(COUPA_SECRET, t - 301), "expired timestamp", StatusCode::UNAUTHORIZED),
        (sig(COUPA_SECRET, t + 600), "timestamp from the future", StatusCode::UNAUTHORIZED),
        (sig(COUPA_SECRET, t).replace("v1=", "v1=0"), "mangled", StatusCode::UNAUTHORIZED),
        (sig(COUPA_OLD_SECRET, t - 10), "previous secret during rotation", StatusCode::ACCEPTED),
        (
            header_value(&[b"retired-secret", COUPA_SECRET.as_bytes()], t, body.as_bytes()),
            "two signatures while the sender rotates",
            StatusCode::ACCEPTED,
        ),
    ];
    for (header, why, want) in cases {
        let resp = mlc_fn_webhook::handle(&s.rt, with(BASE64, "coupa", &[("x-mlc-signature", &header)], body)).await;
        assert_eq!(resp.status(), want, "{why}");
        if want == StatusCode::UNAUTHORIZED {
            assert_eq!(text(&resp), "", "{why}: a 401 says nothing");
        }
    }
    // The rotated-secret request and the two-signature one carry the same delivery id: one hint.
    assert_eq!(waiting(&s.queue).await, 1);
    let resp = mlc_fn_webhook::handle(&s.rt, with(BASE64, "coupa", &[], body)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "no signature header");
}

#[tokio::test]
async fn duplicate_delivery_is_acknowledged_once_enqueued_once() {
    let s = setup().await;
    for _ in 0..3 {
        let resp = mlc_fn_webhook::handle(&s.rt, request(PLAIN)).await;
        assert_eq!(resp.status(), StatusCode::ACCEPTED);
    }
    let resp = mlc_fn_webhook::handle(&s.rt, request(PLAIN)).await;
    let report: serde_json::Value = serde_json::from_str(&text(&resp)).unwrap();
    assert_eq!((report["enqueued"].as_u64(), report["duplicates"].as_u64()), (Some(0), Some(1)));
    assert_eq!(waiting(&s.queue).await, 1, "vendors redeliver; one hint");
}

#[tokio::test]
async fn oversize_unparseable_unknown_and_wrong_method() {
    let s = setup().await;
    let secret = [("x-mlc-webhook-secret", "cin7-shared-secret-value")];
    let big = format!(r#"{{"id":"P-1","entity":"purchase","pad":"{}"}}"#, "x".repeat(5000));
    let resp = mlc_fn_webhook::handle(&s.rt, with(PLAIN, "cin7", &[], &big)).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "the size cap comes before verification");
    let resp = mlc_fn_webhook::handle(&s.rt, with(PLAIN, "cin7", &secret, "{not json")).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert!(text(&resp).contains("not JSON"), "{}", text(&resp));
    let resp =
        mlc_fn_webhook::handle(&s.rt, with(PLAIN, "cin7", &[("x-mlc-webhook-secret", "nope")], "{not json")).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "verification before parsing");
    let resp = mlc_fn_webhook::handle(&s.rt, with(PLAIN, "sap", &secret, "{}")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let mut v: serde_json::Value = serde_json::from_str(PLAIN).unwrap();
    v["requestContext"]["http"]["method"] = "GET".into();
    let resp = mlc_fn_webhook::handle(&s.rt, request(&v.to_string())).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(waiting(&s.queue).await, 0);
}

#[tokio::test]
async fn procore_acumatica_and_deltek_schemes() {
    let s = setup().await;
    let body = r#"{"id":"B-1","entity":"bill"}"#;
    let basic =
        |u: &str, p: &str| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}")));
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, StatusCode);
    let cases: Vec<Case> = vec![
        ("procore", vec![("authorization", "Bearer pc-token".into())], StatusCode::ACCEPTED),
        ("procore", vec![("authorization", "Bearer pc-tokem".into())], StatusCode::UNAUTHORIZED),
        ("acumatica", vec![("x-acumatica-secret", "acu-secret".into())], StatusCode::ACCEPTED),
        ("acumatica", vec![("x-acumatica-secret", "acu-secreT".into())], StatusCode::UNAUTHORIZED),
        ("deltek", vec![("authorization", basic("vp-hook", "vp-pass"))], StatusCode::ACCEPTED),
        ("deltek", vec![("authorization", basic("vp-hook", "vp-pas"))], StatusCode::UNAUTHORIZED),
        ("deltek", vec![], StatusCode::UNAUTHORIZED),
    ];
    for (system, headers, want) in cases {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = mlc_fn_webhook::handle(&s.rt, with(PLAIN, system, &h, body)).await;
        assert_eq!(resp.status(), want, "{system} {headers:?}");
    }
    assert_eq!(waiting(&s.queue).await, 3);
}
