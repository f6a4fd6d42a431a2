//! End to end on the Cin7 → Deltek flow, through both Lambda handlers:
//! Cin7 simulator webhook → (loopback API Gateway stand-in) → webhook handler → SQS (moto) →
//! poster handler → Deltek simulator.
//!
//! What it proves:
//! - a real Cin7 `Purchase/InvoiceAuthorised` delivery (the simulator's own body and the secret
//!   header it was registered with, sent over HTTP) is shaped as an API Gateway v2 request, accepted
//!   by `mlc_fn_webhook::handle` with 202, and becomes exactly one hint on the SQS queue;
//! - the poster, fed that message as the SQS event source mapping would (and deleting what it does
//!   not report, as Lambda does), posts exactly one AP voucher to Deltek for the supplier invoice,
//!   on the vendor paired by the vendors flow, with the invoice's amount; the work item in DynamoDB
//!   is `posted` with the Deltek voucher's ids and has an audit trail;
//! - credentials come from Secrets Manager (moto), read by each function's own store;
//! - the same delivery again is acknowledged (202) and enqueues nothing (delivery dedupe); a delivery
//!   of the same event with a new delivery id is enqueued, and the poster prevents a second voucher
//!   (the item is already posted: no second create request reaches Deltek);
//! - a wrong or missing secret header answers 401 and enqueues nothing.
//!
//! DynamoDB, SQS and Secrets Manager are a serialised moto (see `mlc_aws::testing`); the test fails
//! with the install hint when moto is missing. Nothing leaves 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{NaiveDate, Utc};
use lambda_http::{Body, Request};
use lambda_runtime::{Context, LambdaEvent};
use mlc_aws::testing::{serialized_moto, unique};
use mlc_aws::{SecretsManagerStore, SqsQueue};
use mlc_cin7::Cin7Connection;
use mlc_core::engine::model::{ItemFilter, ItemState, WorkItem};
use mlc_core::engine::ports::{Queue, SecretStore, SystemClock};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_core::secret::Credentials;
use mlc_flows::config::{ConnectionSettings, FlowSettings};
use mlc_flows::{BuildError, Cadence, Config, Runtime};
use mlc_fn_poster::{Poster, Rebuild};
use mlc_sim::cin7::api::Event;
use mlc_sim::cin7::model::{DocStatus, Supplier};
use mlc_sim::cin7::scenario::{Cin7Scenario, PurchaseBuilder, line, supplier};
use mlc_sim::cin7::{Cin7Sim, Cin7Switches};
use mlc_sim::common::{SimClock, SimHandle};
use mlc_sim::deltek::DeltekSim;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const AP: &str = "cin7-deltek-ap";
const VENDORS: &str = "cin7-deltek-vendors";
/// A Cin7 direct-cost code and the Deltek account it maps to (subconsultants, survey).
const SURVEY_CODE: &str = "461";
const SURVEY_ACCOUNT: &str = "52300";
/// A regular Deltek demo project at its lowest level.
const PROJECT: &str = "2024003.00|01";
/// The Deltek demo vendor the Cin7 supplier pairs with (same name).
const VENDOR: &str = "CASCSURV";
const PURCHASE: &str = "e2e00000-0000-4000-8000-0000000000e2";
const INVOICE: &str = "CLS-E2E-1";
const AMOUNT: i64 = 1875;
/// Deltek's AP file create: one per voucher written.
const CREATE: (&str, &str) = ("POST", "/DataEntry/apControl");

fn day(d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2025, 6, d)
}

/// The Deltek demo vendor `CASCSURV`, as a Cin7 supplier (same name: the vendor flow pairs them).
fn cascade() -> Supplier {
    let mut s = supplier("Cascade Land Surveying LLC");
    s.id = "5a1e0000-0000-4000-8000-000000000001".into();
    s
}

/// A simple purchase from `sup` charged to [`PROJECT`], one survey line of `amount`.
fn purchase(sup: &Supplier, id: &str, amount: i64) -> PurchaseBuilder {
    PurchaseBuilder::simple(sup, "Port Harbor HQ")
        .id(id)
        .attribute(1, PROJECT)
        .line(line("Boundary survey", SURVEY_CODE, Decimal::ONE, Decimal::from(amount)))
        .order(DocStatus::Authorised)
}

/// Both connections at the simulators, both flows, quick retries (as the `mlc` end-to-end tests).
fn config(deltek: &SimHandle<DeltekSim>, cin7: &SimHandle<Cin7Sim>, database: &str) -> Config {
    let mut config = Config::default();
    config.engine.lock_ttl_secs = 10;
    config.engine.in_doubt_settle_secs = 1;
    // Simulators answer in milliseconds: a short HTTP timeout and margin keep the timing rule.
    config.engine.http_timeout_secs = 0;
    config.engine.settle_margin_ms = 1000;
    config.engine.retry_base_ms = 200;
    config.engine.retry_cap_secs = 2;
    config.engine.busy_retry_ms = 200;
    let opts =
        |pairs: &[(&str, Value)]| pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>();
    config.connections.insert(
        "deltek".into(),
        ConnectionSettings {
            system: "deltek".into(),
            base_url: deltek.base_url().into(),
            credentials: None,
            options: opts(&[
                ("database", json!(database)),
                ("batch_linger_ms", json!(20)),
                ("max_calls_per_second", json!(500)),
                ("timeout_secs", json!(5)),
                ("retry_base_ms", json!(20)),
            ]),
        },
    );
    config.connections.insert(
        "cin7".into(),
        ConnectionSettings {
            system: "cin7".into(),
            base_url: cin7.base_url().into(),
            credentials: None,
            options: opts(&[("rate_limit_calls", json!(60)), ("rate_limit_window_secs", json!(0.5))]),
        },
    );
    let flow = |o: &[(&str, Value)]| FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: "cin7".into(),
        target: "deltek".into(),
        every: Cadence(Duration::from_secs(900)),
        options: opts(o),
    };
    config.flows.insert(VENDORS.into(), flow(&[]));
    config.flows.insert(AP.into(), flow(&[("initial_lookback_days", json!(0))]));
    config
}

/// An API Gateway HTTP API (payload 2.0) request for `POST /webhooks/{system}`, as the webhook
/// function receives it: header names lower-cased, a JSON body as text.
fn apigw_request(system: &str, headers: &[(String, String)], body: &[u8]) -> Request {
    let mut headers: serde_json::Map<String, Value> =
        headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone()))).collect();
    headers.insert("content-length".into(), Value::String(body.len().to_string()));
    let body = std::str::from_utf8(body).expect("Cin7 sends JSON text");
    let path = format!("/webhooks/{system}");
    let event = json!({
        "version": "2.0",
        "routeKey": "POST /webhooks/{system}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "cin7-webhooks"
            },
            "requestId": "e2e-cin7-deltek",
            "routeKey": "POST /webhooks/{system}",
            "stage": "$default",
            "time": "02/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1793610000000u64
        },
        "pathParameters": { "system": system },
        "body": body,
        "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("an API Gateway v2 request")
}

fn text(resp: &lambda_http::Response<Body>) -> String {
    match resp.body() {
        Body::Empty => String::new(),
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// One request the API Gateway stand-in passed to the webhook handler, and its answer.
#[derive(Debug, Clone)]
struct Delivered {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    status: u16,
    answer: String,
}

#[derive(Clone)]
struct Gateway {
    rt: Arc<Runtime>,
    seen: Arc<Mutex<Vec<Delivered>>>,
}

/// The API Gateway stand-in: what Cin7 POSTs becomes an API Gateway v2 request for the webhook
/// handler, whose answer goes back to Cin7.
async fn gateway(
    State(g): State<Gateway>,
    Path(system): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string())))
        .collect();
    let resp = mlc_fn_webhook::handle(&g.rt, apigw_request(&system, &headers, &body)).await;
    let (status, answer) = (resp.status().as_u16(), text(&resp));
    g.seen.lock().unwrap().push(Delivered { headers, body: body.to_vec(), status, answer: answer.clone() });
    (StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), answer)
}

/// Messages waiting, in flight or delayed on the work queue.
async fn queued(q: &SqsQueue) -> u64 {
    let d = q.depth().await.expect("queue depth");
    d.ready + d.in_flight + d.delayed
}

/// Work the queue the way the SQS event source mapping does, until it is empty: receive a batch
/// with the SDK, shape it as an `SqsEvent`, call the poster handler, delete the records it did
/// not report (Lambda's part with `ReportBatchItemFailures`); reported ones come back when the
/// engine's retry delay has passed. Returns how many records were reported for a retry.
async fn pump(poster: &Poster, queue: &SqsQueue, client: &aws_sdk_sqs::Client) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut retried = 0;
    let mut last_failures = Vec::new();
    loop {
        if queued(queue).await == 0 {
            return retried;
        }
        assert!(
            Instant::now() < deadline,
            "the poster did not settle the queue within 60 s; last batchItemFailures: {last_failures:?}"
        );
        let out = client
            .receive_message()
            .queue_url(queue.queue_url())
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive from moto");
        if out.messages().is_empty() {
            continue;
        }
        let mut receipts = BTreeMap::new();
        let records: Vec<Value> = out
            .messages()
            .iter()
            .map(|m| {
                let id = m.message_id().expect("message id").to_string();
                receipts.insert(id.clone(), m.receipt_handle().expect("receipt").to_string());
                let attrs: serde_json::Map<String, Value> = m
                    .attributes()
                    .map(|a| a.iter().map(|(k, v)| (k.as_str().to_string(), Value::String(v.clone()))).collect())
                    .unwrap_or_default();
                json!({
                    "messageId": id,
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attrs,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:mlc-work",
                    "awsRegion": "us-east-1"
                })
            })
            .collect();
        let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).expect("an SQS event");
        let resp = mlc_fn_poster::handle(poster, LambdaEvent::new(event, Context::default()))
            .await
            .expect("the poster answers every batch");
        let failed: Vec<String> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        for (id, receipt) in &receipts {
            if !failed.contains(id) {
                client
                    .delete_message()
                    .queue_url(queue.queue_url())
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("delete a settled record");
            }
        }
        retried += failed.len();
        if !failed.is_empty() {
            last_failures = failed;
        }
    }
}

async fn items(rt: &Runtime, flow: &str) -> Vec<WorkItem> {
    rt.engine.find(&ItemFilter { flow: Some(flow.into()), ..Default::default() }).await.expect("items")
}

/// Deltek vouchers for a supplier invoice number: (file, master key, vendor, total of the lines).
fn vouchers(deltek: &SimHandle<DeltekSim>, invoice: &str) -> Vec<(String, String, String, Decimal)> {
    let st = deltek.system().lock();
    let mut out = Vec::new();
    for f in &st.ap_files {
        for m in f.masters.iter().filter(|m| m.invoice == invoice) {
            let total = f.details.iter().filter(|d| d.master_pkey == m.master_pkey).map(|d| d.amount).sum();
            out.push((m.batch.clone(), m.master_pkey.clone(), m.vendor.clone(), total));
        }
    }
    out
}

#[tokio::test]
async fn a_cin7_webhook_goes_through_both_lambdas_into_one_deltek_voucher() {
    let started = Instant::now();

    // 1. The simulators: the Deltek demo company, and a Cin7 account with the demo vendor as a
    //    supplier and one purchase whose supplier invoice is authorised, charged to a mapped
    //    project and account.
    let clock = SimClock::manual_default();
    let deltek = DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek sim");
    let s = cascade();
    let scenario = Cin7Scenario::reference_data()
        .supplier(s.clone())
        .purchase(purchase(&s, PURCHASE, AMOUNT).invoice(INVOICE, DocStatus::Authorised, day(2), day(30)).build());
    let cin7 = Cin7Sim::builder()
        .clock(clock)
        .scenario(scenario)
        .switches(Cin7Switches::default())
        .start()
        .await
        .expect("cin7 sim");

    // 2. AWS on moto: the table, the work queue (with its DLQ) and the credentials in Secrets
    //    Manager, written as `mlc credentials set --backend aws` would.
    let m = serialized_moto();
    let sdk = m.sdk_config().await;
    let store = Arc::new(m.store().await);
    let queue = m.queue(5).await;
    let prefix = unique("mlc-s");
    let secrets = || SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&sdk), prefix.clone());
    let d = deltek.system().typed_credentials(deltek.base_url());
    let c = cin7.system().typed_credentials(cin7.base_url());
    let writer = secrets();
    writer
        .put(
            "deltek",
            &Credentials::new()
                .with("username", d.username)
                .with("password", d.password)
                .with("client_id", d.client_id)
                .with("client_secret", d.client_secret),
        )
        .await
        .expect("put deltek credentials");
    writer
        .put(
            "cin7",
            &Credentials::new()
                .with("account_id", c.account_id)
                .with("application_key", c.application_key)
                .with("webhook_secret", c.webhook_secret.clone())
                .with("webhook_header", c.webhook_header.clone()),
        )
        .await
        .expect("put cin7 credentials");
    let config = config(&deltek, &cin7, &d.database);

    // The webhook function's runtime, built as its main.rs does (its own secret cache).
    let webhook_rt = Runtime::build(
        config.clone(),
        store.clone(),
        Arc::new(queue.clone()),
        Arc::new(secrets()),
        Arc::new(SystemClock),
    )
    .await
    .expect("webhook runtime");
    let webhook_rt = Arc::new(webhook_rt);

    // The poster's, as its main.rs does: acks left to Lambda, rebuilt with re-read secrets after
    // a credentials rejection.
    let poster_queue = Arc::new(queue.clone().leave_acks_to_lambda());
    let poster_secrets = Arc::new(secrets());
    let rebuild: Rebuild = {
        let (config, store, queue, secrets) =
            (config.clone(), store.clone(), poster_queue.clone(), poster_secrets.clone());
        Arc::new(move || {
            let (config, store, queue, secrets) = (config.clone(), store.clone(), queue.clone(), secrets.clone());
            Box::pin(async move {
                secrets.refresh();
                Runtime::build(config, store, queue, secrets, Arc::new(SystemClock)).await
            }) as _
        })
    };
    let first: Result<Runtime, BuildError> = rebuild().await;
    let poster = Poster::new(first.expect("poster runtime"), Some(rebuild));
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    // Mappings: the survey code to its Deltek account, the Cin7 project attribute to the project.
    for (kind, source, target) in
        [(MappingKind::ACCOUNT, SURVEY_CODE, SURVEY_ACCOUNT), (MappingKind::PROJECT, PROJECT, PROJECT)]
    {
        webhook_rt
            .engine
            .add_mapping(Mapping {
                key: MappingKey::new("cin7-deltek", kind, source),
                target: target.into(),
                note: None,
                updated_at: Utc::now(),
            })
            .await
            .expect("mapping");
    }

    // 3. Setup: the vendors flow pairs the Cin7 supplier with the Deltek vendor (polled as the
    //    scheduler would, settled by the poster).
    let prt = poster.runtime().await;
    prt.poll(VENDORS).await.expect("poll vendors");
    pump(&poster, &queue, &sqs).await;
    let paired = items(&prt, VENDORS).await;
    let v = paired.iter().find(|i| i.summary.label.contains("Cascade Land Surveying")).expect("the supplier's item");
    assert_eq!(v.state, ItemState::Skipped, "{:?}", v.reason);
    assert!(v.reason.as_deref().unwrap_or("").starts_with("already in deltek"), "{:?}", v.reason);
    assert!(items(&prt, AP).await.is_empty(), "no AP work before the webhook");

    // 4. Cin7 delivers `Purchase/InvoiceAuthorised` over HTTP to the API Gateway stand-in, with
    //    the secret header the Cin7 client registered the webhook with.
    let g = Gateway { rt: webhook_rt.clone(), seen: Arc::default() };
    let app = Router::new().route("/webhooks/{system}", post(gateway)).with_state(g.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/webhooks/cin7", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let cin7_client = &prt.connections.client::<Cin7Connection>("cin7", "cin7").expect("cin7 connection").client;
    cin7_client.ensure_webhook("Purchase/InvoiceAuthorised", &url).await.expect("register the webhook");
    let task = {
        let st = cin7.system().lock();
        let p = st.purchases.iter().find(|p| p.id == PURCHASE).expect("the purchase");
        p.invoices[0].task_id.clone()
    };
    let announced = cin7.system().announce(&[Event::Task {
        event: "Purchase/InvoiceAuthorised",
        purchase: PURCHASE.into(),
        task,
        number: Some(INVOICE.into()),
    }]);
    assert_eq!(announced, 1, "one registered webhook, one delivery");
    let deadline = Instant::now() + Duration::from_secs(20);
    while cin7.system().deliveries().iter().any(|d| d.state == "pending") {
        assert!(Instant::now() < deadline, "Cin7 did not deliver: {:#?}", cin7.system().deliveries());
        cin7.system().flush_webhooks();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deliveries = cin7.system().deliveries();
    assert_eq!(deliveries.len(), 1, "{deliveries:#?}");
    assert_eq!(deliveries[0].state, "delivered", "{deliveries:#?}");
    assert_eq!(deliveries[0].attempts.last().and_then(|a| a.status), Some(202), "{deliveries:#?}");
    let delivered = g.seen.lock().unwrap().clone();
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    let hook = delivered[0].clone();
    assert_eq!(hook.status, 202, "{}", hook.answer);
    let report: Value = serde_json::from_str(&hook.answer).expect("the intake report");
    assert_eq!((report["events"].as_u64(), report["enqueued"].as_u64()), (Some(1), Some(1)), "{report}");
    assert!(
        hook.headers.iter().any(|(k, v)| *k == c.webhook_header && *v == c.webhook_secret),
        "Cin7 sent the registered secret header: {:?}",
        hook.headers.iter().map(|(k, _)| k).collect::<Vec<_>>()
    );
    assert_eq!(queued(&queue).await, 1, "one hint on the queue");

    // 5. The poster takes it from SQS and posts to Deltek.
    let retried = pump(&poster, &queue, &sqs).await;

    // 6. One voucher, on the paired vendor, for the invoice's amount; the item is posted with its ids.
    let found = vouchers(&deltek, INVOICE);
    assert_eq!(found.len(), 1, "exactly one voucher for {INVOICE}: {found:?}");
    let (batch, master, vendor, total) = found[0].clone();
    assert_eq!((vendor.as_str(), total), (VENDOR, Decimal::from(AMOUNT)));
    assert_eq!(deltek.calls().count(CREATE.0, CREATE.1), 1, "one create request");
    let ap = items(&prt, AP).await;
    assert_eq!(ap.len(), 1, "{ap:#?}");
    let item = &ap[0];
    assert_eq!(item.state, ItemState::Posted, "{:?}", item.reason);
    assert!(item.seen_by_webhook, "the webhook announced it");
    let target = item.target.as_ref().expect("the Deltek voucher");
    assert_eq!((target.system.as_str(), target.entity.as_str()), ("deltek", "ap-voucher"));
    assert_eq!(target.id, format!("{batch}|{master}"), "{target:?}");
    assert!(target.display.as_deref().unwrap_or("").contains(&batch), "{target:?}");
    let trail = prt.engine.store.audit_trail(&item.key).await.expect("audit trail");
    assert!(!trail.is_empty(), "the item has an audit trail");
    assert!(trail.iter().any(|e| e.event == "posted" && e.to == Some(ItemState::Posted)), "{trail:#?}");

    // 7a. The same delivery again (a vendor redelivery, same delivery id): 202, nothing enqueued.
    let resp = mlc_fn_webhook::handle(&webhook_rt, apigw_request("cin7", &hook.headers, &hook.body)).await;
    assert_eq!(resp.status().as_u16(), 202, "{}", text(&resp));
    let report: Value = serde_json::from_str(&text(&resp)).expect("the intake report");
    assert_eq!((report["enqueued"].as_u64(), report["duplicates"].as_u64()), (Some(0), Some(1)), "{report}");
    assert_eq!(queued(&queue).await, 0, "a redelivery enqueues nothing");

    // 7b. The same event with a new delivery id (Cin7's id is a hash of the body: the same JSON,
    //     formatted differently): enqueued, and the poster does not post it twice.
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&hook.body).expect("JSON body")).expect("re-encode");
    assert_ne!(pretty, hook.body);
    let resp = mlc_fn_webhook::handle(&webhook_rt, apigw_request("cin7", &hook.headers, &pretty)).await;
    assert_eq!(resp.status().as_u16(), 202, "{}", text(&resp));
    let report: Value = serde_json::from_str(&text(&resp)).expect("the intake report");
    assert_eq!((report["enqueued"].as_u64(), report["duplicates"].as_u64()), (Some(1), Some(0)), "{report}");
    assert_eq!(queued(&queue).await, 1);
    let retried_again = pump(&poster, &queue, &sqs).await;
    assert_eq!(vouchers(&deltek, INVOICE).len(), 1, "still exactly one voucher");
    assert_eq!(deltek.calls().count(CREATE.0, CREATE.1), 1, "no second create request");
    let ap = items(&prt, AP).await;
    assert_eq!(ap.len(), 1, "{ap:#?}");
    assert_eq!((ap[0].state, ap[0].target.as_ref()), (ItemState::Posted, Some(target)));

    // 8. A wrong secret, and none: 401 with an empty body, nothing enqueued.
    let wrong: Vec<(String, String)> = hook
        .headers
        .iter()
        .map(
            |(k, v)| if *k == c.webhook_header { (k.clone(), "not-the-secret".into()) } else { (k.clone(), v.clone()) },
        )
        .collect();
    let missing: Vec<(String, String)> = hook.headers.iter().filter(|(k, _)| *k != c.webhook_header).cloned().collect();
    let fresh = br#"{"TaskID":"E2E00000-0000-4000-8000-0000000000E2","EventType":"Purchase/InvoiceAuthorised"}"#;
    for (why, headers, body) in [
        ("wrong secret, replayed body", &wrong, &hook.body[..]),
        ("wrong secret, new body", &wrong, &fresh[..]),
        ("no secret header", &missing, &fresh[..]),
    ] {
        let resp = mlc_fn_webhook::handle(&webhook_rt, apigw_request("cin7", headers, body)).await;
        assert_eq!(resp.status().as_u16(), 401, "{why}: {}", text(&resp));
        assert_eq!(text(&resp), "", "{why}: a 401 says nothing");
    }
    assert_eq!(queued(&queue).await, 0, "refused deliveries enqueue nothing");
    assert_eq!(items(&prt, AP).await.len(), 1);
    assert_eq!(queue.depth().await.expect("queue depth").dead, 0, "nothing ended on the dead-letter queue");

    eprintln!(
        "e2e cin7→deltek: {:.1} s; records reported for retry: {retried} (first post), {retried_again} (second delivery)",
        started.elapsed().as_secs_f64()
    );
}
