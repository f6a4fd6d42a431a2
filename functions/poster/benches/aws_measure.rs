//! Measurements of the AWS home, printed as tables (no assertions):
//!
//! 1. release binary sizes of the three functions (host build, see below);
//! 2. process start-to-ready of each binary against a local Lambda Runtime API emulator (this
//!    bench answers `GET /2018-06-01/runtime/invocation/next`; "ready" = that first request, i.e.
//!    init done: SDK config, clients, runtime built);
//! 3. webhook handler latency p50/p99 for verify + dedupe + enqueue, against moto;
//! 4. calls per invoice through webhook → SQS → poster (and the poll that finds the same invoice),
//!    counted by wrappers around the store and queue ports, and an AWS cost estimate per 10,000
//!    invoices from them at us-east-1 list prices (stated below as assumptions).
//!
//! Run (tests/aws-tools.sh first, for moto):
//! ```text
//! CARGO_TARGET_DIR=/work/target-aws cargo build --release -p mlc-fn-webhook -p mlc-fn-poller -p mlc-fn-poster
//! CARGO_TARGET_DIR=/work/target-aws cargo bench -p mlc-fn-poster --bench aws_measure
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};
use mlc_aws::testing::moto;
use mlc_core::engine::intake::{Intake, IntakeError, WebhookEvent, WebhookRequest};
use mlc_core::engine::model::{
    AuditEntry, Claim, Cursor, Hint, ItemFilter, ItemKey, NewItem, StateCount, Transition, WorkItem,
};
use mlc_core::engine::ports::{ClaimResult, Delivery, Queue, QueueDepth, Store, StoreError, SystemClock};
use mlc_core::mapping::{Mapping, MappingKey};
use mlc_core::secret::Redacted;
use mlc_core::{Engine, EngineConfig, FlowRegistry};
use mlc_flows::Runtime;
use mlc_fn_poster::Poster;
use mlc_webhooks::{HeaderSecret, Source};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// ---------------------------------------------------------------- counting wrappers

#[derive(Default)]
struct Counts(Mutex<BTreeMap<&'static str, u64>>);

impl Counts {
    fn add(&self, k: &'static str) {
        *self.0.lock().unwrap().entry(k).or_default() += 1;
    }
    fn take(&self) -> BTreeMap<&'static str, u64> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct CountingStore(Arc<dyn Store>, Arc<Counts>);
struct CountingQueue(Arc<dyn Queue>, Arc<Counts>);

#[async_trait]
impl Store for CountingStore {
    async fn register(&self, i: NewItem, now: DateTime<Utc>) -> Result<(WorkItem, bool), StoreError> {
        let r = self.0.register(i, now).await;
        self.1.add(if matches!(r, Ok((_, true))) { "register (new)" } else { "register (existing)" });
        r
    }
    async fn claim(&self, k: &ItemKey, o: &str, n: DateTime<Utc>, u: DateTime<Utc>) -> Result<ClaimResult, StoreError> {
        self.1.add("claim");
        self.0.claim(k, o, n, u).await
    }
    async fn transition(&self, k: &ItemKey, o: &str, t: Transition, n: DateTime<Utc>) -> Result<WorkItem, StoreError> {
        self.1.add("transition");
        self.0.transition(k, o, t, n).await
    }
    async fn get_item(&self, k: &ItemKey) -> Result<Option<WorkItem>, StoreError> {
        self.1.add("get_item");
        self.0.get_item(k).await
    }
    async fn list_items(&self, f: &ItemFilter) -> Result<Vec<WorkItem>, StoreError> {
        self.1.add("list_items");
        self.0.list_items(f).await
    }
    async fn state_counts(&self) -> Result<Vec<StateCount>, StoreError> {
        self.1.add("state_counts");
        self.0.state_counts().await
    }
    async fn items_waiting_for(&self, k: &MappingKey) -> Result<Vec<WorkItem>, StoreError> {
        self.1.add("items_waiting_for");
        self.0.items_waiting_for(k).await
    }
    async fn holding_natural_key(&self, s: &str, f: &str, nk: &str) -> Result<Vec<WorkItem>, StoreError> {
        self.1.add("holding_natural_key");
        self.0.holding_natural_key(s, f, nk).await
    }
    async fn open_versions(
        &self,
        f: &str,
        s: &str,
        d: &str,
        except: Option<&ItemKey>,
    ) -> Result<Vec<WorkItem>, StoreError> {
        self.1.add("open_versions");
        self.0.open_versions(f, s, d, except).await
    }
    async fn append_audit(&self, k: &ItemKey, e: AuditEntry) -> Result<(), StoreError> {
        self.1.add("append_audit");
        self.0.append_audit(k, e).await
    }
    async fn audit_trail(&self, k: &ItemKey) -> Result<Vec<AuditEntry>, StoreError> {
        self.1.add("audit_trail");
        self.0.audit_trail(k).await
    }
    async fn put_blob(&self, s: &str, b: &[u8]) -> Result<(), StoreError> {
        self.1.add("put_blob");
        self.0.put_blob(s, b).await
    }
    async fn get_blob(&self, s: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.1.add("get_blob");
        self.0.get_blob(s).await
    }
    async fn get_cursor(&self, f: &str) -> Result<Option<Cursor>, StoreError> {
        self.1.add("get_cursor");
        self.0.get_cursor(f).await
    }
    async fn cas_cursor(&self, f: &str, e: Option<&str>, n: &Cursor) -> Result<bool, StoreError> {
        self.1.add("cas_cursor");
        self.0.cas_cursor(f, e, n).await
    }
    async fn list_cursors(&self) -> Result<Vec<Cursor>, StoreError> {
        self.1.add("list_cursors");
        self.0.list_cursors().await
    }
    async fn put_mapping(&self, m: &Mapping) -> Result<(), StoreError> {
        self.1.add("put_mapping");
        self.0.put_mapping(m).await
    }
    async fn get_mappings(&self, k: &[MappingKey]) -> Result<Vec<Mapping>, StoreError> {
        self.1.add("get_mappings");
        self.0.get_mappings(k).await
    }
    async fn list_mappings(&self, s: Option<&str>) -> Result<Vec<Mapping>, StoreError> {
        self.1.add("list_mappings");
        self.0.list_mappings(s).await
    }
    async fn delete_mapping(&self, k: &MappingKey) -> Result<bool, StoreError> {
        self.1.add("delete_mapping");
        self.0.delete_mapping(k).await
    }
    async fn try_lock(
        &self,
        n: &str,
        o: &str,
        now: DateTime<Utc>,
        u: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        self.1.add("try_lock");
        self.0.try_lock(n, o, now, u).await
    }
    async fn unlock(&self, n: &str, o: &str) -> Result<(), StoreError> {
        self.1.add("unlock");
        self.0.unlock(n, o).await
    }
    async fn first_delivery(&self, s: &str, d: &str, n: DateTime<Utc>, t: Duration) -> Result<bool, StoreError> {
        self.1.add("first_delivery");
        self.0.first_delivery(s, d, n, t).await
    }
    async fn seen_version(&self, r: &str) -> Result<Option<String>, StoreError> {
        self.1.add("seen_version");
        self.0.seen_version(r).await
    }
    async fn set_seen_version(&self, r: &str, v: &str) -> Result<(), StoreError> {
        self.1.add("set_seen_version");
        self.0.set_seen_version(r, v).await
    }
}

#[async_trait]
impl Queue for CountingQueue {
    async fn enqueue(&self, h: &[Hint]) -> Result<(), StoreError> {
        for _ in 0..h.len().div_ceil(10) {
            self.1.add("sqs SendMessageBatch");
        }
        self.0.enqueue(h).await
    }
    async fn receive(&self, m: usize, l: Duration) -> Result<Vec<Delivery>, StoreError> {
        self.1.add("sqs ReceiveMessage");
        self.0.receive(m, l).await
    }
    async fn ack(&self, d: &Delivery) -> Result<(), StoreError> {
        self.1.add("queue ack (no request in Lambda)");
        self.0.ack(d).await
    }
    async fn retry_later(&self, d: &Delivery, l: Duration) -> Result<(), StoreError> {
        self.1.add("sqs ChangeMessageVisibility");
        self.0.retry_later(d, l).await
    }
    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        self.1.add("sqs GetQueueAttributes");
        self.0.depth().await
    }
}

// ---------------------------------------------------------------- helpers

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn generic_json(req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> {
    let v: serde_json::Value =
        serde_json::from_slice(req.body).map_err(|e| IntakeError::BadBody(format!("not JSON: {e}")))?;
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    Ok(vec![WebhookEvent {
        event_type: "updated".into(),
        entity: s("entity").unwrap_or_else(|| "doc".into()),
        id: s("id").ok_or_else(|| IntakeError::BadBody("no id".into()))?,
        delivery_id: s("delivery"),
        observed_version: None,
    }])
}

const PLAIN: &str = include_str!("../../webhook/tests/fixtures/apigw_v2_plain.json");

fn webhook_request(id: &str, delivery: &str) -> lambda_http::Request {
    let mut v: serde_json::Value = serde_json::from_str(PLAIN).unwrap();
    v["rawPath"] = "/webhooks/src".into();
    v["pathParameters"]["system"] = "src".into();
    v["body"] = serde_json::json!({"id": id, "entity": "doc", "delivery": delivery}).to_string().into();
    lambda_http::request::from_str(&v.to_string()).unwrap()
}

// ---------------------------------------------------------------- 2. start-to-ready

/// Spawn `bin` with a Runtime API on loopback; the time until it asks for its first invocation.
async fn start_to_ready(bin: &PathBuf, settings: &mlc_aws::AwsSettings) -> Option<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.ok()?;
    let api = listener.local_addr().ok()?;
    let start = Instant::now();
    let mut child = Command::new(bin)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", moto().endpoint())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("MLC_TABLE", &settings.table)
        .env("MLC_QUEUE_URL", &settings.queue_url)
        .env("MLC_SECRET_PREFIX", &settings.secret_prefix)
        .env("MLC_CONFIG_JSON", "{}")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let ready = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let (mut sock, _) = listener.accept().await.ok()?;
            let mut buf = vec![0u8; 4096];
            let n = sock.read(&mut buf).await.ok()?;
            let req = String::from_utf8_lossy(&buf[..n]);
            if req.starts_with("GET /2018-06-01/runtime/invocation/next") {
                let at = start.elapsed();
                let _ = sock.write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n").await;
                return Some(at);
            }
            let _ = sock.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n").await;
        }
    })
    .await
    .ok()
    .flatten();
    let _ = child.kill();
    let _ = child.wait();
    ready
}

// ---------------------------------------------------------------- main

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let m = moto();
    println!(
        "ml-connector AWS home measurements (moto at {}; host {} {})\n",
        m.endpoint(),
        std::env::consts::ARCH,
        std::env::consts::OS
    );

    // 1. sizes
    println!(
        "## 1. Release binary sizes (host {} build: cargo build --release; stripped, thin LTO)",
        std::env::consts::ARCH
    );
    let release = target_dir().join("release");
    for b in ["webhook", "poller", "poster"] {
        match std::fs::metadata(release.join(b)) {
            Ok(md) => println!("  {b:<8} {:>6.2} MB", md.len() as f64 / 1e6),
            Err(_) => println!("  {b:<8} not built: cargo build --release -p mlc-fn-{b}"),
        }
    }

    // 2. start-to-ready
    println!("\n## 2. Process start to first `GET /runtime/invocation/next` (local Runtime API emulator, 10 runs)");
    let settings = m.settings(5).await;
    for b in ["webhook", "poller", "poster"] {
        let bin = release.join(b);
        if !bin.is_file() {
            println!("  {b:<8} not built");
            continue;
        }
        let mut ms = Vec::new();
        for _ in 0..10 {
            if let Some(d) = start_to_ready(&bin, &settings).await {
                ms.push(d.as_secs_f64() * 1000.0);
            }
        }
        if ms.is_empty() {
            println!("  {b:<8} never became ready");
        } else {
            let n = ms.len();
            println!("  {b:<8} p50 {:>6.1} ms   max {:>6.1} ms   ({n} runs)", pct(&mut ms, 0.5), pct(&mut ms, 1.0));
        }
    }

    // 3 + 4 share one runtime around counted ports.
    let counts = Arc::new(Counts::default());
    let store: Arc<dyn Store> = Arc::new(CountingStore(Arc::new(m.store().await), counts.clone()));
    let sqs = m.queue(5).await.leave_acks_to_lambda();
    let queue_url = sqs.queue_url().to_string();
    let queue: Arc<dyn Queue> = Arc::new(CountingQueue(Arc::new(sqs), counts.clone()));
    let n_invoices = 200usize;
    let creates = Arc::new(AtomicUsize::new(0));
    let mut flow = common::TestFlow::new(true, creates.clone());
    flow.discoverable = (0..n_invoices).map(|i| format!("ok-{i}")).collect();
    let engine = Engine::new(store.clone(), queue.clone(), Arc::new(SystemClock), EngineConfig::default());
    let mut flows = FlowRegistry::new();
    flows.add(Arc::new(flow));
    let mut intake = Intake::new();
    intake.add_source(
        "src",
        Arc::new(Source::new(
            "src",
            HeaderSecret::new("x-mlc-webhook-secret", vec![Redacted::new("cin7-shared-secret-value".to_string())]),
            generic_json,
        )),
    );
    intake.route("src", "doc", common::FLOW);
    let rt = Runtime::with_flows(engine, flows, intake, Arc::new(m.secrets().await));

    // 3. webhook latency: verify + dedupe (PutItem) + enqueue (SendMessageBatch), in process.
    println!("\n## 3. Webhook handler latency (verify + dedupe + enqueue; moto on loopback, single-threaded)");
    let mut lat = Vec::new();
    for i in 0..n_invoices {
        let t = Instant::now();
        let resp = mlc_fn_webhook::handle(&rt, webhook_request(&format!("ok-{i}"), &format!("d-{i}"))).await;
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(resp.status().as_u16(), 202);
    }
    let webhook_ms = pct(&mut lat, 0.5);
    println!(
        "  {} requests: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        webhook_ms,
        pct(&mut lat, 0.99),
        pct(&mut lat, 1.0)
    );
    let bad = webhook_request("ok-x", "d-x");
    let (parts, body) = bad.into_parts();
    let headers: Vec<(String, String)> = vec![("x-mlc-webhook-secret".into(), "wrong".into())];
    let _ = parts;
    let t = Instant::now();
    let src = HeaderSecret::new("x-mlc-webhook-secret", vec![Redacted::new("cin7-shared-secret-value".to_string())]);
    for _ in 0..100_000 {
        let req = WebhookRequest { connection: "src", headers: &headers, body: body.as_ref(), received_at: Utc::now() };
        let _ = mlc_webhooks::Verify::verify(&src, &req);
    }
    let hs = t.elapsed().as_secs_f64() * 1e9 / 100_000.0;
    let coupa = mlc_webhooks::SignedTimestamp::new(vec![Redacted::new("s1".into()), Redacted::new("s2".into())]);
    let cbody = vec![b'x'; 2048];
    let sig = mlc_webhooks::signed::header_value(&[b"s2"], Utc::now().timestamp(), &cbody);
    let ch = vec![("x-mlc-signature".to_string(), sig)];
    let t = Instant::now();
    for _ in 0..20_000 {
        let req = WebhookRequest { connection: "coupa", headers: &ch, body: &cbody, received_at: Utc::now() };
        let _ = mlc_webhooks::Verify::verify(&coupa, &req);
    }
    let hm = t.elapsed().as_secs_f64() * 1e6 / 20_000.0;
    println!("  verification alone: shared-secret header {hs:.0} ns; Coupa HMAC over 2 KB with two secrets {hm:.1} µs");
    let webhook_counts = counts.take();

    // 4. poll (finds the same invoices) then the poster over everything queued.
    let t = Instant::now();
    let poll = rt.poll(common::FLOW).await.expect("poll");
    let poll_ms = t.elapsed().as_secs_f64() * 1000.0;
    let poll_counts = counts.take();
    let client = aws_sdk_sqs::Client::new(&m.sdk_config().await);
    let poster = Poster::new(mlc_flows::env::Reloadable::fixed("poster", rt));
    let (mut batches, mut records, mut poster_ms) = (0u64, 0u64, 0.0f64);
    loop {
        let out = client
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(60)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("receive");
        if out.messages().is_empty() {
            break;
        }
        let recs: Vec<serde_json::Value> = out
            .messages()
            .iter()
            .map(|m| {
                serde_json::json!({"messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                    "attributes": {"ApproximateReceiveCount": "1"}, "eventSource": "aws:sqs"})
            })
            .collect();
        records += recs.len() as u64;
        let ev: SqsEvent = serde_json::from_value(serde_json::json!({"Records": recs})).unwrap();
        let t = Instant::now();
        let resp = mlc_fn_poster::handle(&poster, LambdaEvent::new(ev, Context::default())).await.unwrap();
        poster_ms += t.elapsed().as_secs_f64() * 1000.0;
        batches += 1;
        let failed: Vec<&str> = resp.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
        for m in out.messages() {
            if !failed.contains(&m.message_id().unwrap_or("")) {
                let _ = client
                    .delete_message()
                    .queue_url(&queue_url)
                    .set_receipt_handle(m.receipt_handle().map(str::to_string))
                    .send()
                    .await;
            }
        }
    }
    let poster_counts = counts.take();
    let posted = creates.load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "\n## 4. Calls per invoice (webhook + poll both find each invoice; {n_invoices} invoices, {posted} posted)"
    );
    println!(
        "  poll: {} hints in {} page(s), {:.0} ms; poster: {records} records in {batches} batches, {:.1} ms per batch",
        poll.hints,
        poll.pages,
        poll_ms,
        poster_ms / batches.max(1) as f64
    );
    let per = |c: &BTreeMap<&'static str, u64>| -> Vec<(String, f64)> {
        c.iter().map(|(k, v)| (k.to_string(), *v as f64 / n_invoices as f64)).collect()
    };
    for (stage, c) in [("webhook", &webhook_counts), ("poll", &poll_counts), ("poster", &poster_counts)] {
        let line: Vec<String> = per(c).iter().map(|(k, v)| format!("{k} {v:.2}")).collect();
        println!("  {stage:<8} {}", line.join(", "));
    }

    // DynamoDB request units per store operation, as DynamoStore issues them (see its module docs:
    // no transactions, which cost double; one conditional item write per claim or transition
    // after its audit row; index rows only where a state needs them; gsi1 moves only on a state
    // change). Work-item JSON is ~1.3 KB here (2 WRU per write, 1 RRU per consistent read);
    // audit and index rows are < 1 KB (1 WRU); a KEYS_ONLY GSI costs 1 WRU per row written or
    // deleted.
    let wru: BTreeMap<&str, (f64, f64)> = BTreeMap::from([
        // (WRU, RRU)
        ("register (new)", (1.0 + 2.0 + 1.0, 1.0)), // GetItem; DOC# row; item Put; gsi1 row
        ("register (existing)", (2.0, 1.0)),        // GetItem; item Put when an origin flag changes
        ("claim", (1.0 + 2.0, 1.0)),                // GetItem; audit row; item Put (gsi1 unchanged)
        ("transition", (1.0 + 1.0 + 2.0 + 2.0, 1.0)), // GetItem; NK#/WAIT# row; audit row; item Put; gsi1 move (delete + put)
        ("get_item", (0.0, 1.0)),
        ("open_versions", (0.0, 2.0)),       // Query index rows; BatchGetItem
        ("holding_natural_key", (0.0, 2.0)), // Query; BatchGetItem
        ("try_lock", (1.0, 0.0)),
        ("unlock", (1.0, 0.0)),
        ("first_delivery", (1.0, 0.0)),
        ("seen_version", (0.0, 0.5)),
        ("set_seen_version", (1.0, 0.0)),
        ("get_cursor", (0.0, 1.0)),
        ("cas_cursor", (1.0, 0.0)),
        ("get_mappings", (0.0, 1.0)),
    ]);
    let all: Vec<&BTreeMap<&'static str, u64>> = vec![&webhook_counts, &poll_counts, &poster_counts];
    let (mut w, mut r, mut sqs_req) = (0.0, 0.0, 0.0);
    for c in &all {
        for (k, v) in c.iter() {
            let per = *v as f64 / n_invoices as f64;
            if let Some((a, b)) = wru.get(k) {
                w += a * per;
                r += b * per;
            }
            if k.starts_with("sqs ") {
                sqs_req += per;
            }
        }
    }
    // The event source mapping's own SQS calls: one receive and one delete batch per batch.
    let esm = 2.0 * batches as f64 / n_invoices as f64;
    let poster_invocations = batches as f64 / n_invoices as f64;
    println!(
        "  DynamoDB per invoice: {w:.1} WRU, {r:.1} RRU; SQS requests per invoice: {:.2} (+{esm:.2} by the trigger)",
        sqs_req
    );

    // Prices: us-east-1 list prices (on-demand), assumed as of this writing; free tiers ignored.
    let n = 10_000.0;
    let gb = 0.25; // MemorySize 256
    let lambda_gbs =
        n * (webhook_ms / 1000.0 * gb + poster_invocations * (poster_ms / batches.max(1) as f64) / 1000.0 * gb);
    let rows = [
        ("API Gateway HTTP API, $1.00 / M requests", n * 1.0 / 1e6),
        ("Lambda requests, $0.20 / M (webhook + poster batches)", n * (1.0 + poster_invocations) * 0.20 / 1e6),
        ("Lambda arm64 compute, $0.0000133334 / GB-s", lambda_gbs * 0.000_013_333_4),
        ("DynamoDB on-demand writes, $0.625 / M WRU", n * w * 0.625 / 1e6),
        ("DynamoDB on-demand reads, $0.125 / M RRU", n * r * 0.125 / 1e6),
        ("SQS standard, $0.40 / M requests", n * (sqs_req + esm) * 0.40 / 1e6),
    ];
    println!("\n  Estimated cost per 10,000 invoices (durations measured against moto; 256 MB):");
    let mut total = 0.0;
    for (k, v) in rows {
        total += v;
        println!("    {k:<58} ${v:.4}");
    }
    println!("    {:<58} ${total:.4}", "total (variable)");
    println!(
        "    Lambda GB-s: {lambda_gbs:.1}; at one invoice per batch (low traffic) add {:.4} for requests",
        n * (1.0 - poster_invocations).max(0.0) * 2.0 * 0.20 / 1e6
    );
    println!(
        "    Fixed per month, not per invoice: KMS key $1.00, one secret per connection x $0.40, the tick every minute"
    );
    println!("    (43,200 scheduler invocations $0.04, Lambda ~$0.08 at 0.5 s each), CloudWatch alarms 5 x $0.10.");
}
