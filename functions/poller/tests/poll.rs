//! The poller handler called directly with Scheduler input; DynamoDB and SQS are moto.
//!
//! What it proves: a tick polls exactly the sources that are due by their flows' cadence and
//! remembers when (`polled#<source>`), so a second tick within the cadence polls nothing; a poll
//! cut off by the tick's time budget keeps its cursor's page and the next tick continues from it,
//! with every record enqueued and none skipped; the sweep re-enqueues an item whose message was
//! lost; a flow whose connection has no secret is reported, not fatal; `{"flow": ...}` polls now;
//! a failed enqueue never moves the cursor.

// The test flow the poster's tests use (discover reports ok-1..ok-3; the cursor is a count).
#[path = "../../poster/tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};
use mlc_aws::testing::moto;
use mlc_aws::{DynamoStore, SqsQueue};
use mlc_core::engine::flow::{DiscoveryPage, Eligibility, Flow, FlowSpec, MapError, SourceDoc, StepError};
use mlc_core::engine::intake::Intake;
use mlc_core::engine::model::{Cursor, Hint, ItemState, Origin, TargetRef};
use mlc_core::engine::ports::{Clock, ManualClock, Queue, Store, SystemClock};
use mlc_core::mapping::{MappingKey, MappingSet};
use mlc_core::{Engine, EngineConfig, FlowRegistry, FlowRunner};
use mlc_flows::Runtime;
use mlc_flows::env::Reloadable;
use mlc_fn_poller::TickOptions;
use serde_json::Value;

const SCHEDULER: &str = include_str!("fixtures/scheduler_input.json");
const ENVELOPE: &str = include_str!("fixtures/eventbridge_envelope.json");
const TICK_ENVELOPE: &str = r#"{"version":"0","id":"t","detail-type":"Scheduled Event","source":"aws.events","time":"2026-11-02T09:00:00Z","detail":{}}"#;

fn runtime(
    store: Arc<dyn Store>,
    queue: Arc<dyn Queue>,
    clock: Arc<dyn Clock>,
    flows: Vec<Arc<dyn FlowRunner>>,
) -> Runtime {
    let engine = Engine::new(store, queue, clock, EngineConfig::default());
    let mut registry = FlowRegistry::new();
    for f in flows {
        registry.add(f);
    }
    Runtime::with_flows(engine, registry, Intake::new(), Arc::new(mlc_core::engine::memory::MemorySecrets::default()))
}

fn test_flow() -> Arc<dyn FlowRunner> {
    Arc::new(common::TestFlow::new(true, Arc::new(AtomicUsize::new(0))))
}

fn event(json: &str) -> LambdaEvent<Value> {
    LambdaEvent::new(serde_json::from_str(json).unwrap(), Context::default())
}

async fn queued_ids(queue: &SqsQueue) -> Vec<String> {
    let mut ids = Vec::new();
    loop {
        let got = queue.receive(10, Duration::from_secs(60)).await.unwrap();
        if got.is_empty() {
            break;
        }
        for d in got {
            ids.push(d.hint.id.clone());
            queue.ack(&d).await.unwrap();
        }
    }
    ids.sort();
    ids
}

fn opts() -> TickOptions {
    TickOptions {
        budget: Duration::from_secs(30),
        sweep_grace: Duration::from_secs(60),
        page_grace: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn a_flow_named_in_the_input_is_polled_now_and_a_tick_polls_what_is_due_once_per_cadence() {
    let store = Arc::new(moto().store().await);
    let queue = Arc::new(moto().queue(5).await);
    let clock = ManualClock::new(Utc::now());
    let live =
        Reloadable::fixed("poller", runtime(store.clone(), queue.clone(), Arc::new(clock.clone()), vec![test_flow()]));

    // `{"flow": ...}` polls now.
    let out = mlc_fn_poller::handle(&live, &opts(), event(SCHEDULER)).await.unwrap();
    assert_eq!((out["hints"].as_u64(), out["cursor"].as_str()), (Some(3), Some("3")), "{out}");
    assert_eq!(queued_ids(&queue).await, ["ok-1", "ok-2", "ok-3"]);

    // A tick: the flow was never polled by a tick, so it is due; nothing new since the cursor.
    let out = mlc_fn_poller::handle(&live, &opts(), event(r#"{"tick":"2026-11-02T09:00:00Z"}"#)).await.unwrap();
    assert_eq!(out["polled"][0]["source"], common::FLOW, "{out}");
    assert_eq!(out["polled"][0]["hints"], 0, "{out}");
    let mark = store.get_cursor(&format!("polled#{}", common::FLOW)).await.unwrap().expect("the poll time is kept");
    assert_eq!(DateTime::parse_from_rfc3339(&mark.value).unwrap().timestamp(), clock.now().timestamp());

    // Within the cadence (15 minutes, the default): not due, nothing polled. An EventBridge
    // envelope is a tick too (and names a flow to poll now in its detail).
    clock.advance(Duration::from_secs(14 * 60));
    let out = mlc_fn_poller::handle(&live, &opts(), event(TICK_ENVELOPE)).await.unwrap();
    assert_eq!(out["polled"].as_array().unwrap().len(), 0, "{out}");
    assert!(out["not_due"][common::FLOW].is_string(), "{out}");
    // Past it: due again.
    clock.advance(Duration::from_secs(61));
    let out = mlc_fn_poller::handle(&live, &opts(), event(TICK_ENVELOPE)).await.unwrap();
    assert_eq!(out["polled"].as_array().unwrap().len(), 1, "{out}");
    assert!(queued_ids(&queue).await.is_empty());
    let out = mlc_fn_poller::handle(&live, &opts(), event(ENVELOPE)).await.unwrap();
    assert_eq!(out["flow"], common::FLOW, "{out}");
}

/// A source with many pages, each taking a while: `total` records, `per_page` a page, the cursor
/// is the count enqueued so far.
struct Paging {
    spec: FlowSpec,
    total: usize,
    per_page: usize,
    delay: Duration,
}

#[async_trait]
impl Flow for Paging {
    type Record = String;
    type Target = String;

    fn spec(&self) -> &FlowSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, now: DateTime<Utc>) -> Result<DiscoveryPage, StepError> {
        tokio::time::sleep(self.delay).await;
        let from: usize = cursor.and_then(|c| c.value.parse().ok()).unwrap_or(0);
        let to = (from + self.per_page).min(self.total);
        let hints =
            (from..to).map(|i| Hint::new("paging", "src", "doc", &format!("p-{i:03}"), Origin::Poll, now)).collect();
        Ok(DiscoveryPage { hints, next_cursor: Some(to.to_string()), has_more: to < self.total })
    }

    async fn read_back(&self, _hint: &Hint) -> Result<Vec<SourceDoc<String>>, StepError> {
        Ok(Vec::new())
    }
    fn eligibility(&self, _doc: &SourceDoc<String>) -> Eligibility {
        Eligibility::Eligible
    }
    fn required_mappings(&self, _doc: &SourceDoc<String>) -> Vec<MappingKey> {
        Vec::new()
    }
    fn map(&self, doc: &SourceDoc<String>, _m: &MappingSet) -> Result<String, MapError> {
        Ok(doc.record.clone())
    }
    fn natural_key(&self, target: &String) -> String {
        target.clone()
    }
    async fn lookup(&self, _target: &String) -> Result<Option<mlc_core::engine::flow::Found>, StepError> {
        Ok(None)
    }
    async fn create(&self, target: &String) -> Result<TargetRef, StepError> {
        Ok(TargetRef { system: "tgt".into(), entity: "doc".into(), id: target.clone(), display: None, status: None })
    }
}

/// A poller over one `paging` flow: 25 records, 4 a page, 400 ms a page (about two pages fit in
/// a budget of 1 s).
async fn paging_backfill() -> (Arc<DynamoStore>, Arc<SqsQueue>, Reloadable) {
    let store = Arc::new(moto().store().await);
    let queue = Arc::new(moto().queue(5).await);
    let flow = Paging {
        spec: FlowSpec {
            name: "paging".into(),
            source_system: "src".into(),
            target_system: "tgt".into(),
            ..Default::default()
        },
        total: 25,
        per_page: 4,
        delay: Duration::from_millis(400),
    };
    let rt = runtime(store.clone(), queue.clone(), Arc::new(SystemClock), vec![Arc::new(flow)]);
    (store, queue, Reloadable::fixed("poller", rt))
}

#[tokio::test]
async fn a_poll_cut_off_by_the_time_budget_continues_from_its_page_next_tick() {
    let (store, queue, live) = paging_backfill().await;
    // About two pages fit in a tick.
    let short = TickOptions { budget: Duration::from_millis(1000), ..opts() };
    let mut ticks = 0;
    let mut cut = 0;
    loop {
        ticks += 1;
        assert!(ticks < 20, "the backfill never finished");
        let out = mlc_fn_poller::handle(&live, &short, event(r#"{}"#)).await.unwrap();
        if out["cut_short"].as_array().is_some_and(|a| !a.is_empty()) {
            cut += 1;
            // Cut short: not marked as polled, so due again at once.
            assert!(store.get_cursor("polled#paging").await.unwrap().is_none(), "{out}");
            continue;
        }
        assert_eq!(out["polled"][0]["cursor"], "25", "{out}");
        break;
    }
    assert!(cut >= 3, "the budget cut the backfill into several ticks ({cut} cut)");
    let ids = queued_ids(&queue).await;
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 25, "every record enqueued: {ids:?}");
    // Polls stop between pages, never between a page's enqueue and its cursor move: no page is
    // listed twice, no record enqueued twice.
    assert_eq!(ids.len(), 25, "enqueued once each: {ids:?}");
}

#[tokio::test]
async fn a_nudged_poll_keeps_the_same_time_budget_and_continues_from_its_page() {
    let (_, queue, live) = paging_backfill().await;
    let short = TickOptions { budget: Duration::from_millis(1000), ..opts() };
    let (mut nudges, mut cut) = (0, 0);
    loop {
        nudges += 1;
        assert!(nudges < 20, "the backfill never finished");
        let out = mlc_fn_poller::handle(&live, &short, event(r#"{"flow": "paging"}"#)).await.unwrap();
        if out["cut_short"] == true {
            cut += 1;
            let note = out["note"].as_str().unwrap_or_default();
            assert!(note.contains("budget of 1 s") && note.contains("cursor"), "{out}");
            continue;
        }
        assert_eq!(out["cursor"], "25", "{out}");
        break;
    }
    assert!(cut >= 3, "the budget cut the nudged backfill into several polls ({cut} cut)");
    let ids = queued_ids(&queue).await;
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 25, "every record enqueued: {ids:?}");
    // Polls stop between pages, never between a page's enqueue and its cursor move: no page is
    // listed twice, no record enqueued twice.
    assert_eq!(ids.len(), 25, "enqueued once each: {ids:?}");
}

#[tokio::test]
async fn the_tick_sweeps_an_item_whose_message_was_lost() {
    let store = Arc::new(moto().store().await);
    let queue = Arc::new(moto().queue(5).await);
    let clock = ManualClock::new(Utc::now());
    let mut quiet = common::TestFlow::new(true, Arc::new(AtomicUsize::new(0)));
    quiet.discoverable.clear();
    let rt = runtime(store.clone(), queue.clone(), Arc::new(clock.clone()), vec![Arc::new(quiet)]);
    // A record whose read-back fails (retry in 7 s); then its message is lost.
    queue.enqueue(&[common::hint("retry-1")]).await.unwrap();
    let got = queue.receive(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(got.len(), 1);
    let report = rt.settle(&got[0]).await.unwrap();
    assert!(report.retry_after.is_some(), "{report:?}");
    queue.ack(&got[0]).await.unwrap();
    let items = rt.engine.find(&Default::default()).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].state, ItemState::Failed);
    let live = Reloadable::fixed("poller", rt);
    // Not overdue by the grace yet: left alone.
    let out = mlc_fn_poller::handle(&live, &opts(), event("{}")).await.unwrap();
    assert_eq!(out["swept"], 0, "{out}");
    clock.advance(Duration::from_secs(120));
    let out = mlc_fn_poller::handle(&live, &opts(), event("{}")).await.unwrap();
    assert_eq!(out["swept"], 1, "{out}");
    assert_eq!(queued_ids(&queue).await, ["retry-1"]);
}

#[tokio::test]
async fn a_flow_without_its_connections_secret_is_reported_and_the_tick_goes_on() {
    let store = Arc::new(moto().store().await);
    let queue = Arc::new(moto().queue(5).await);
    let secrets = Arc::new(moto().secrets().await);
    let mut config = mlc_flows::Config::default();
    for (name, system) in [("cin7", "cin7"), ("deltek", "deltek")] {
        config.connections.insert(
            name.into(),
            mlc_flows::ConnectionSettings {
                system: system.into(),
                base_url: "http://127.0.0.1:9/api/".into(),
                credentials: None,
                options: if system == "deltek" {
                    BTreeMap::from([("database".to_string(), serde_json::json!("DB"))])
                } else {
                    BTreeMap::new()
                },
            },
        );
    }
    config.flows.insert(
        "cin7-deltek-ap".into(),
        mlc_flows::FlowSettings {
            kind: None,
            mapping_scope: None,
            enabled: true,
            source: "cin7".into(),
            target: "deltek".into(),
            every: mlc_flows::Cadence(Duration::from_secs(300)),
            options: BTreeMap::new(),
        },
    );
    let rt = Runtime::build(config, store, queue, secrets, Arc::new(SystemClock)).await.unwrap();
    assert_eq!(rt.unavailable.len(), 1);
    let live = Reloadable::fixed("poller", rt);
    let out = mlc_fn_poller::handle(&live, &opts(), event("{}")).await.unwrap();
    let why = out["unavailable"]["cin7-deltek-ap"].as_str().unwrap_or_default();
    assert!(why.contains("no credentials stored for connection") && why.contains("mlc credentials set"), "{out}");
    assert_eq!(out["polled"].as_array().unwrap().len(), 0, "{out}");
    let e = mlc_fn_poller::handle(&live, &opts(), event(r#"{"flow":"cin7-deltek-ap"}"#)).await.unwrap_err().to_string();
    assert!(e.contains("cannot run") && e.contains("credentials"), "{e}");
}

#[tokio::test]
async fn the_cursor_stays_when_the_enqueue_fails() {
    let store = Arc::new(moto().store().await);
    let client = aws_sdk_sqs::Client::new(&moto().sdk_config().await);
    let missing = SqsQueue::new(client, format!("{}/123456789012/no-such-queue", moto().endpoint()), None);
    let live = Reloadable::fixed(
        "poller",
        runtime(store.clone(), Arc::new(missing), Arc::new(SystemClock), vec![test_flow()]),
    );
    let e = mlc_fn_poller::handle(&live, &opts(), event(SCHEDULER)).await.unwrap_err().to_string();
    assert!(e.contains("no-such-queue"), "{e}");
    assert_eq!(store.get_cursor(common::FLOW).await.unwrap(), None, "never before the enqueue succeeded");
    // A tick reports the failure as an error (the alarm fires) and records no poll.
    let e = mlc_fn_poller::handle(&live, &opts(), event("{}")).await.unwrap_err().to_string();
    assert!(e.contains("tick: 1 failed") && e.contains("no-such-queue"), "{e}");
    assert!(store.get_cursor(&format!("polled#{}", common::FLOW)).await.unwrap().is_none());
}

#[tokio::test]
async fn unknown_flows_are_errors() {
    let live = Reloadable::fixed(
        "poller",
        runtime(
            Arc::new(moto().store().await),
            Arc::new(moto().queue(5).await),
            Arc::new(SystemClock),
            vec![test_flow()],
        ),
    );
    let e = mlc_fn_poller::handle(&live, &opts(), event(r#"{"flow": "nope"}"#)).await.unwrap_err().to_string();
    assert!(e.contains("nope") && e.contains("test-flow"), "{e}");
}
