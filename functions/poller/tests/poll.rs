//! The poller handler called directly with Scheduler input; DynamoDB and SQS are moto.

// The test flow the poster's tests use (discover reports ok-1..ok-3; the cursor is a count).
#[path = "../../poster/tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use lambda_runtime::{Context, LambdaEvent};
use mlc_aws::SqsQueue;
use mlc_aws::testing::moto;
use mlc_core::engine::intake::Intake;
use mlc_core::engine::ports::{Queue, Store, SystemClock};
use mlc_core::{Engine, EngineConfig, FlowRegistry};
use mlc_flows::Runtime;

const SCHEDULER: &str = include_str!("fixtures/scheduler_input.json");
const ENVELOPE: &str = include_str!("fixtures/eventbridge_envelope.json");

async fn runtime(store: Arc<dyn Store>, queue: Arc<dyn Queue>) -> Runtime {
    let engine = Engine::new(store, queue, Arc::new(SystemClock), EngineConfig::default());
    let mut flows = FlowRegistry::new();
    flows.add(Arc::new(common::TestFlow::new(true, Arc::new(AtomicUsize::new(0)))));
    Runtime::with_flows(engine, flows, Intake::new(), Arc::new(moto().secrets().await))
}

fn event(json: &str) -> LambdaEvent<serde_json::Value> {
    LambdaEvent::new(serde_json::from_str(json).unwrap(), Context::default())
}

#[tokio::test]
async fn scheduler_input_polls_enqueues_then_moves_the_cursor() {
    let store = Arc::new(moto().store().await);
    let queue = Arc::new(moto().queue(5).await);
    let rt = runtime(store.clone(), queue.clone()).await;
    let out = mlc_fn_poller::handle(&rt, event(SCHEDULER)).await.unwrap();
    assert_eq!((out["hints"].as_u64(), out["cursor"].as_str()), (Some(3), Some("3")), "{out}");
    assert_eq!(queue.depth().await.unwrap().ready, 3);
    assert_eq!(store.get_cursor(common::FLOW).await.unwrap().unwrap().value, "3");
    let got = queue.receive(10, Duration::from_secs(30)).await.unwrap();
    let mut ids: Vec<&str> = got.iter().map(|d| d.hint.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["ok-1", "ok-2", "ok-3"]);
    // Nothing new since the cursor: nothing enqueued, cursor unchanged. The EventBridge envelope works too.
    let out = mlc_fn_poller::handle(&rt, event(ENVELOPE)).await.unwrap();
    assert_eq!((out["hints"].as_u64(), out["cursor"].as_str()), (Some(0), Some("3")), "{out}");
}

#[tokio::test]
async fn the_cursor_stays_when_the_enqueue_fails() {
    let store = Arc::new(moto().store().await);
    let client = aws_sdk_sqs::Client::new(&moto().sdk_config().await);
    let missing = SqsQueue::new(client, format!("{}/123456789012/no-such-queue", moto().endpoint()), None);
    let rt = runtime(store.clone(), Arc::new(missing)).await;
    let e = mlc_fn_poller::handle(&rt, event(SCHEDULER)).await.unwrap_err().to_string();
    assert!(e.contains("no-such-queue"), "{e}");
    assert_eq!(store.get_cursor(common::FLOW).await.unwrap(), None, "never before the enqueue succeeded");
}

#[tokio::test]
async fn unknown_flows_and_inputs_without_a_flow_are_errors() {
    let rt = runtime(Arc::new(moto().store().await), Arc::new(moto().queue(5).await)).await;
    let e = mlc_fn_poller::handle(&rt, event(r#"{"flow": "nope"}"#)).await.unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
    let e = mlc_fn_poller::handle(&rt, event(r#"{"detail-type": "Scheduled Event"}"#)).await.unwrap_err().to_string();
    assert!(e.contains("names no flow"), "{e}");
}
