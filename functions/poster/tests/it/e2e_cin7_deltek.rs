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
//! - the simulators are wired once, by `mlc_sim::world::SimWorld` (connection settings and
//!   credentials from each simulator's own description), as the demo and the benches wire them;
//! - the same delivery again is acknowledged (202) and enqueues nothing (delivery dedupe); a delivery
//!   of the same event with a new delivery id is enqueued, and the poster prevents a second voucher
//!   (the item is already posted: no second create request reaches Deltek);
//! - a wrong or missing secret header answers 401 and enqueues nothing.
//!
//! DynamoDB, SQS and Secrets Manager are a serialised moto (see `mlc_aws::testing`); the test fails
//! with the install hint when moto is missing. Nothing leaves 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{NaiveDate, Utc};
use mlc_cin7::Cin7Connection;
use mlc_core::engine::model::{ItemFilter, ItemState, WorkItem};
use mlc_core::engine::ports::{Queue, SystemClock};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_flows::config::FlowSettings;
use mlc_flows::{Cadence, Config, Runtime};
use mlc_fn_poster::Poster;
use mlc_sim::cin7::Cin7Sim;
use mlc_sim::cin7::api::Event;
use mlc_sim::cin7::model::{DocStatus, Supplier};
use mlc_sim::cin7::scenario::{Cin7Scenario, PurchaseBuilder, line, supplier};
use mlc_sim::common::SimClock;
use mlc_sim::deltek::DeltekSim;
use mlc_sim::world::SimWorld;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::support::{Aws, apigw_request, template_timing, text};

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

/// Both connections at the simulators (the world's), both flows, quick retries (as the `mlc`
/// end-to-end tests).
fn config(world: &SimWorld) -> Config {
    let mut config = world.config();
    config.engine.lock_ttl_secs = 300;
    config.engine.in_doubt_settle_secs = 35;
    config.engine.retry_base_ms = 200;
    config.engine.retry_cap_secs = 2;
    config.engine.busy_retry_ms = 200;
    let flow = |o: &[(&str, Value)]| FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: "cin7".into(),
        target: "deltek".into(),
        every: Cadence(Duration::from_secs(900)),
        options: o.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(),
    };
    config.flows.insert(VENDORS.into(), flow(&[]));
    config.flows.insert(AP.into(), flow(&[("initial_lookback_days", json!(0))]));
    config
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

/// Work the queue as the SQS event source mapping does, until it is empty; how many records the
/// poster reported for a retry.
async fn pump(poster: &Arc<Poster>, aws: &Aws) -> u64 {
    aws.esm().drain(std::slice::from_ref(poster), &aws.queue, Duration::from_secs(60), "e2e").await.reported
}

async fn queued(aws: &Aws) -> u64 {
    aws.esm().depth(&aws.queue).await
}

async fn items(rt: &Runtime, flow: &str) -> Vec<WorkItem> {
    rt.engine.find(&ItemFilter { flow: Some(flow.into()), ..Default::default() }).await.expect("items")
}

/// Deltek vouchers for a supplier invoice number: (file, master key, vendor, total of the lines).
fn vouchers(deltek: &DeltekSim, invoice: &str) -> Vec<(String, String, String, Decimal)> {
    deltek.lock().vouchers_for(invoice).into_iter().map(|v| (v.batch, v.master_pkey, v.vendor, v.total)).collect()
}

#[tokio::test]
async fn a_cin7_webhook_goes_through_both_lambdas_into_one_deltek_voucher() {
    let started = Instant::now();

    // 1. The simulators, as one world of connections: the Deltek demo company, and a Cin7
    //    account with the demo vendor as a supplier and one purchase whose supplier invoice is
    //    authorised, charged to a mapped project and account.
    let clock = SimClock::manual_default();
    let mut world = SimWorld::new(clock.clone());
    let deltek = world.add("deltek", DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek sim"));
    let s = cascade();
    let scenario = Cin7Scenario::reference_data()
        .supplier(s.clone())
        .purchase(purchase(&s, PURCHASE, AMOUNT).invoice(INVOICE, DocStatus::Authorised, day(2), day(30)).build());
    let cin7 = world.add("cin7", Cin7Sim::builder().clock(clock).scenario(scenario).start().await.expect("cin7 sim"));
    for (k, v) in [
        ("batch_linger_ms", json!(20)),
        ("max_calls_per_second", json!(500)),
        ("timeout_secs", json!(5)),
        ("retry_base_ms", json!(20)),
    ] {
        world.set_option("deltek", k, v);
    }
    world.set_option("cin7", "rate_limit_calls", json!(60));
    world.set_option("cin7", "rate_limit_window_secs", json!(0.5));
    let c = cin7.typed_credentials(world.handle("cin7").expect("cin7").base_url());

    // 2. AWS on moto: the table, the work queue (with its DLQ) and the credentials in Secrets
    //    Manager, written as `mlc credentials set --backend aws` would.
    let aws = Aws::new(5).await;
    world.store_credentials(&aws.secrets()).await.expect("credentials");
    let config = config(&world);

    // The webhook function's runtime, built as its main.rs does (its own secret store).
    let webhook_rt = Runtime::build_in(
        config.clone(),
        aws.store.clone(),
        Arc::new(aws.queue.clone()),
        Arc::new(aws.secrets()),
        Arc::new(SystemClock),
        mlc_flows::HomeLimits { budget_store: Some(aws.budget()), max_wait: None },
    )
    .await
    .expect("webhook runtime");
    let webhook_rt = Arc::new(webhook_rt);

    // The poster's, as its main.rs does: acks left to Lambda, its own budget copy and secrets,
    // rebuilt with re-read secrets after a credentials rejection.
    let poster = Arc::new(aws.poster(&config, template_timing(), Arc::new(SystemClock)).await);

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
    pump(&poster, &aws).await;
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
        let st = cin7.lock();
        let p = st.purchases.iter().find(|p| p.id == PURCHASE).expect("the purchase");
        p.invoices[0].task_id.clone()
    };
    let announced = cin7.announce(&[Event::Task {
        event: "Purchase/InvoiceAuthorised",
        purchase: PURCHASE.into(),
        task,
        number: Some(INVOICE.into()),
    }]);
    assert_eq!(announced, 1, "one registered webhook, one delivery");
    let deadline = Instant::now() + Duration::from_secs(20);
    while cin7.deliveries().iter().any(|d| d.state == "pending") {
        assert!(Instant::now() < deadline, "Cin7 did not deliver: {:#?}", cin7.deliveries());
        cin7.flush_webhooks();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let deliveries = cin7.deliveries();
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
    assert_eq!(queued(&aws).await, 1, "one hint on the queue");

    // 5. The poster takes it from SQS and posts to Deltek.
    let retried = pump(&poster, &aws).await;

    // 6. One voucher, on the paired vendor, for the invoice's amount; the item is posted with its ids.
    let found = vouchers(&deltek, INVOICE);
    assert_eq!(found.len(), 1, "exactly one voucher for {INVOICE}: {found:?}");
    let (batch, master, vendor, total) = found[0].clone();
    assert_eq!((vendor.as_str(), total), (VENDOR, Decimal::from(AMOUNT)));
    assert_eq!(deltek.kit().calls.count(CREATE.0, CREATE.1), 1, "one create request");
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
    assert_eq!(queued(&aws).await, 0, "a redelivery enqueues nothing");

    // 7b. The same event with a new delivery id (Cin7's id is a hash of the body: the same JSON,
    //     formatted differently): enqueued, and the poster does not post it twice.
    let pretty =
        serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(&hook.body).expect("JSON body")).expect("re-encode");
    assert_ne!(pretty, hook.body);
    let resp = mlc_fn_webhook::handle(&webhook_rt, apigw_request("cin7", &hook.headers, &pretty)).await;
    assert_eq!(resp.status().as_u16(), 202, "{}", text(&resp));
    let report: Value = serde_json::from_str(&text(&resp)).expect("the intake report");
    assert_eq!((report["enqueued"].as_u64(), report["duplicates"].as_u64()), (Some(1), Some(0)), "{report}");
    assert_eq!(queued(&aws).await, 1);
    let retried_again = pump(&poster, &aws).await;
    assert_eq!(vouchers(&deltek, INVOICE).len(), 1, "still exactly one voucher");
    assert_eq!(deltek.kit().calls.count(CREATE.0, CREATE.1), 1, "no second create request");
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
    assert_eq!(queued(&aws).await, 0, "refused deliveries enqueue nothing");
    assert_eq!(items(&prt, AP).await.len(), 1);
    assert_eq!(aws.queue.depth().await.expect("queue depth").dead, 0, "nothing ended on the dead-letter queue");

    eprintln!(
        "e2e cin7→deltek: {:.1} s; records reported for retry: {retried} (first post), {retried_again} (second delivery)",
        started.elapsed().as_secs_f64()
    );
}
