//! The poster handler called directly with SQS batch events; DynamoDB and SQS are moto (a
//! serialised one: records of one batch race for the same claims, as they do on DynamoDB).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use lambda_runtime::{Context, LambdaEvent};
use mlc_aws::testing::serialized_moto as moto;
use mlc_aws::{DynamoStore, SqsQueue};
use mlc_core::engine::intake::Intake;
use mlc_core::engine::model::{FailureClass, ItemKey, ItemState};
use mlc_core::engine::ports::{Queue, Store, SystemClock};
use mlc_core::{Engine, EngineConfig, FlowRegistry};
use mlc_flows::Runtime;
use mlc_flows::env::{Builder, Reloadable};
use mlc_fn_poster::Poster;

use crate::common::{FLOW, TestFlow, hint};

const FIXTURE: &str = include_str!("../fixtures/sqs_batch.json");

struct Setup {
    poster: Poster,
    store: Arc<DynamoStore>,
    queue: Arc<SqsQueue>,
    creates: Arc<AtomicUsize>,
    builds: Arc<AtomicUsize>,
}

async fn setup() -> Setup {
    let m = moto();
    let store = Arc::new(m.store().await);
    let queue = Arc::new(m.queue(5).await.leave_acks_to_lambda());
    let secrets = Arc::new(m.secrets().await);
    let creates = Arc::new(AtomicUsize::new(0));
    let builds = Arc::new(AtomicUsize::new(0));
    let build = {
        let (store, queue, secrets, creates) = (store.clone(), queue.clone(), secrets.clone(), creates.clone());
        move |creds_ok: bool| {
            let engine = Engine::new(store.clone(), queue.clone(), Arc::new(SystemClock), EngineConfig::default());
            let mut flows = FlowRegistry::new();
            flows.add(Arc::new(TestFlow::new(creds_ok, creates.clone())));
            Runtime::with_flows(engine, flows, Intake::new(), secrets.clone())
        }
    };
    // The first build sees the old credentials; every later one (a rebuild) the rotated ones.
    let builder: Builder = {
        let (build, builds) = (build.clone(), builds.clone());
        Arc::new(move || {
            let n = builds.fetch_add(1, Ordering::SeqCst);
            let rt = build(n > 0);
            Box::pin(async move { Ok(rt) })
        })
    };
    let live = Reloadable::start("poster", builder).await.unwrap().with_interval(Duration::ZERO);
    Setup { poster: Poster::new(live), store, queue, creates, builds }
}

/// Send hints through the queue adapter, receive them with the SDK, and shape them as the Lambda
/// SQS event source mapping does.
async fn batch_from_queue(q: &SqsQueue, ids: &[&str]) -> (SqsEvent, Vec<(String, String)>) {
    q.enqueue(&ids.iter().map(|i| hint(i)).collect::<Vec<_>>()).await.unwrap();
    let client = aws_sdk_sqs::Client::new(&moto().sdk_config().await);
    let mut records = Vec::new();
    let mut by_id = Vec::new();
    while records.len() < ids.len() {
        let out = client
            .receive_message()
            .queue_url(q.queue_url())
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            let body = m.body().unwrap();
            let h: mlc_core::engine::model::Hint = serde_json::from_str(body).unwrap();
            by_id.push((h.id.clone(), m.message_id().unwrap().to_string()));
            let attrs: serde_json::Map<String, serde_json::Value> = m
                .attributes()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), serde_json::Value::String(v.clone())))
                .collect();
            records.push(serde_json::json!({
                "messageId": m.message_id(),
                "receiptHandle": m.receipt_handle(),
                "body": body,
                "attributes": attrs,
                "messageAttributes": {},
                "md5OfBody": m.md5_of_body(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:mlc-work",
                "awsRegion": "us-east-1"
            }));
        }
    }
    let event: SqsEvent = serde_json::from_value(serde_json::json!({ "Records": records })).unwrap();
    (event, by_id)
}

fn id_of<'a>(by_id: &'a [(String, String)], record: &str) -> &'a str {
    &by_id.iter().find(|(r, _)| r == record).unwrap().1
}

fn item(id: &str) -> ItemKey {
    ItemKey::new(FLOW, "src", id, "v1")
}

#[tokio::test]
async fn partial_batch_failure_reports_only_retryable_records() {
    let s = setup().await;
    let (event, by_id) = batch_from_queue(&s.queue, &["ok-1", "retry-1", "bad-1", "auth-1", "skip-1", "gone-1"]).await;
    let resp = mlc_fn_poster::handle(&s.poster, LambdaEvent::new(event, Context::default())).await.unwrap();
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"batchItemFailures": [{"itemIdentifier": id_of(&by_id, "retry-1")}]}),
        "only the retryable record is reported"
    );
    // Permanent failure: recorded for a person, message deleted (not reported).
    let bad = s.store.get_item(&item("bad-1")).await.unwrap().unwrap();
    assert_eq!((bad.state, bad.failure), (ItemState::Failed, Some(FailureClass::Permanent)));
    assert_eq!(s.store.get_item(&item("ok-1")).await.unwrap().unwrap().state, ItemState::Posted);
    assert_eq!(s.store.get_item(&item("skip-1")).await.unwrap().unwrap().state, ItemState::Skipped);
    // Rejected credentials: the runtime was rebuilt once (secrets re-read) and the record re-run.
    assert_eq!(s.builds.load(Ordering::SeqCst), 2, "the first build and one rebuild");
    let auth = s.store.get_item(&item("auth-1")).await.unwrap().unwrap();
    assert_eq!(auth.state, ItemState::Posted, "{:?}", auth.reason);
    assert_eq!(auth.attempts, 2);
    assert_eq!(s.creates.load(Ordering::SeqCst), 2);
    // The retryable record's visibility was set to its retry delay (7 s): not visible now.
    let d = s.queue.depth().await.unwrap();
    assert_eq!(d.ready, 0, "{d:?}");
    assert!(s.queue.receive(10, Duration::from_secs(1)).await.unwrap().is_empty());
}

/// Lambda kills a function at its deadline and a killed container answers nothing. A record still
/// running near the deadline (its target does not answer) is stopped and reported for retry, and
/// the batch answers: the other record keeps its outcome, and the stopped one's post is in doubt,
/// to be looked up before its next attempt posts. Without the deadline this batch would wait an
/// hour (the hang guard).
#[tokio::test]
async fn a_record_still_running_near_the_deadline_is_stopped_and_the_batch_answers() {
    let s = setup().await;
    let (event, by_id) = batch_from_queue(&s.queue, &["ok-31", "hang-31"]).await;
    let mut context = Context::default();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    // The poster stops records DEADLINE_MARGIN before this: 8 s from now.
    context.deadline = now_ms + 8_000 + mlc_fn_poster::DEADLINE_MARGIN.as_millis() as u64;
    let resp = tokio::time::timeout(
        Duration::from_secs(300),
        mlc_fn_poster::handle(&s.poster, LambdaEvent::new(event, context)),
    )
    .await
    .expect("the batch answered (hang guard)")
    .unwrap();
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(json, serde_json::json!({"batchItemFailures": [{"itemIdentifier": id_of(&by_id, "hang-31")}]}));
    assert_eq!(s.store.get_item(&item("ok-31")).await.unwrap().unwrap().state, ItemState::Posted);
    let hung = s.store.get_item(&item("hang-31")).await.unwrap().expect("the stopped record's item is kept");
    assert_eq!(hung.state, ItemState::InDoubt, "{hung:?}");
    assert_eq!(s.creates.load(Ordering::SeqCst), 2, "both creates were sent");
}

#[tokio::test]
async fn fixture_batch_shape_and_unreadable_records() {
    let s = setup().await;
    let body = |id: &str| serde_json::to_string(&serde_json::to_string(&hint(id)).unwrap()).unwrap();
    let text = FIXTURE.replace("\"{{BODY_0}}\"", &body("bad-9")).replace("\"{{BODY_1}}\"", &body("retry-9"));
    let event: SqsEvent = serde_json::from_str(&text).unwrap();
    let resp = mlc_fn_poster::handle(&s.poster, LambdaEvent::new(event, Context::default())).await.unwrap();
    // bad-9 is recorded and dropped; retry-9 must be retried (its fake receipt cannot even be
    // re-timed on the queue, which is an engine error: still reported, never lost).
    assert_eq!(
        serde_json::to_string(&resp).unwrap(),
        r#"{"batchItemFailures":[{"itemIdentifier":"2e1424d4-f796-459a-8184-9c92662be6da"}]}"#
    );
    // A record that is not a hint, and a hint for a flow this runtime does not run: reported.
    let text = FIXTURE
        .replace("\"{{BODY_0}}\"", "\"not a hint\"")
        .replace("\"{{BODY_1}}\"", &body("ok-1").replace("test-flow", "other-flow"));
    let event: SqsEvent = serde_json::from_str(&text).unwrap();
    let resp = mlc_fn_poster::handle(&s.poster, LambdaEvent::new(event, Context::default())).await.unwrap();
    let json = serde_json::to_value(&resp).unwrap();
    assert_eq!(json["batchItemFailures"].as_array().unwrap().len(), 2, "{json}");
    // An empty batch answers an empty failure list.
    let resp =
        mlc_fn_poster::handle(&s.poster, LambdaEvent::new(SqsEvent::default(), Context::default())).await.unwrap();
    assert_eq!(serde_json::to_string(&resp).unwrap(), r#"{"batchItemFailures":[]}"#);
}

#[tokio::test]
async fn duplicate_hints_in_one_batch_post_once() {
    let s = setup().await;
    let (event, _) = batch_from_queue(&s.queue, &["ok-7", "ok-7", "ok-7"]).await;
    let resp = mlc_fn_poster::handle(&s.poster, LambdaEvent::new(event, Context::default())).await.unwrap();
    assert_eq!(s.creates.load(Ordering::SeqCst), 1, "claims make duplicates harmless");
    assert_eq!(s.store.get_item(&item("ok-7")).await.unwrap().unwrap().state, ItemState::Posted);
    // A duplicate that found the item claimed is retried later (it will then see it posted).
    assert!(resp.batch_item_failures.len() <= 2);
}
