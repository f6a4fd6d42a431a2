//! What the poster's tests share: the SQS event source mapping, played against moto (receive a
//! batch, shape it as Lambda does, call the handler, delete what it did not report), API Gateway
//! requests for the webhook handler, and posters built the way `main.rs` builds them.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::SqsEvent;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use lambda_http::{Body, Request};
use lambda_runtime::{Context, LambdaEvent};
use mlc_aws::{DynamoBudget, DynamoStore, SecretsManagerStore, SqsQueue};
use mlc_core::engine::ports::{Clock, Queue};
use mlc_flows::env::{Builder, Reloadable, StackTiming};
use mlc_flows::{Config, Runtime};
use mlc_fn_poster::Poster;
use serde_json::{Value, json};

use crate::lambda_api::{Environment, Outcome};

/// The SQS event source mapping of one queue.
#[derive(Clone)]
pub struct Esm {
    pub client: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub batch_size: i32,
    /// The visibility a receive sets (the queue's own, in Lambda's case).
    pub visibility: i32,
}

/// How often [`Esm::receive`] looks at the queue while it waits for a batch.
pub const SHORT_POLL_EVERY: Duration = Duration::from_millis(200);

/// What working a queue took.
#[derive(Debug, Default, Clone, Copy)]
pub struct Worked {
    pub batches: u64,
    pub records: u64,
    /// Records the handler reported (they come back after their visibility delay).
    pub reported: u64,
}

impl Esm {
    pub fn new(client: aws_sdk_sqs::Client, queue: &SqsQueue) -> Self {
        Esm { client, queue_url: queue.queue_url().to_string(), batch_size: 10, visibility: 360 }
    }

    /// Receive one batch (waiting up to `wait_secs` for it), shaped as the event Lambda sends, with
    /// each record's receipt by message id. `None` when nothing was there.
    ///
    /// The wait is played here, as short polls [`SHORT_POLL_EVERY`] apart, not as SQS long polling:
    /// moto answers a long poll by sleeping in its request thread, and on the single-threaded
    /// server the tests use (to serialise conditional writes as DynamoDB does) that stops every
    /// DynamoDB call of every poster for up to `wait_secs`. SQS long polling blocks nobody else.
    pub async fn receive(&self, wait_secs: i32) -> Option<(Value, BTreeMap<String, String>)> {
        let until = Instant::now() + Duration::from_secs(wait_secs.max(0) as u64);
        let out = loop {
            let out = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(self.batch_size)
                .visibility_timeout(self.visibility)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive from moto");
            if !out.messages().is_empty() {
                break out;
            }
            if Instant::now() + SHORT_POLL_EVERY > until {
                return None;
            }
            tokio::time::sleep(SHORT_POLL_EVERY).await;
        };
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
        Some((json!({ "Records": records }), receipts))
    }

    /// Lambda's part after an invocation: delete every record not reported as failed (`None`: the
    /// invocation failed or timed out, so every record stays and comes back).
    pub async fn settle(&self, receipts: &BTreeMap<String, String>, failed: Option<&[String]>) -> Worked {
        let Some(failed) = failed else {
            return Worked { batches: 1, records: receipts.len() as u64, reported: receipts.len() as u64 };
        };
        for (id, receipt) in receipts {
            if !failed.contains(id) {
                self.client
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .expect("delete a settled record");
            }
        }
        Worked { batches: 1, records: receipts.len() as u64, reported: failed.len() as u64 }
    }

    /// One batch through the poster handler in this process.
    pub async fn once(&self, poster: &Poster, wait_secs: i32) -> Option<Worked> {
        let (event, receipts) = self.receive(wait_secs).await?;
        let event: SqsEvent = serde_json::from_value(event).expect("an SQS event");
        let resp = mlc_fn_poster::handle(poster, LambdaEvent::new(event, Context::default()))
            .await
            .expect("the poster answers every batch");
        let failed: Vec<String> = resp.batch_item_failures.iter().map(|f| f.item_identifier.clone()).collect();
        Some(self.settle(&receipts, Some(&failed)).await)
    }

    /// One batch through a function process (a built `bootstrap` in the Runtime API emulator).
    pub async fn once_in(&self, env: &mut Environment, wait_secs: i32) -> Option<Worked> {
        let (event, receipts) = self.receive(wait_secs).await?;
        let failed: Option<Vec<String>> = match env.invoke(event).await {
            Outcome::Response(v) => Some(
                v["batchItemFailures"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
            ),
            other => {
                eprintln!("{}: invocation ended {other:?}", env.name);
                None
            }
        };
        Some(self.settle(&receipts, failed.as_deref()).await)
    }

    /// Messages waiting, in flight or delayed.
    pub async fn depth(&self, queue: &SqsQueue) -> u64 {
        let d = queue.depth().await.expect("queue depth");
        d.ready + d.in_flight + d.delayed
    }

    /// Work the queue with each poster as its own invocation loop (concurrency = posters), until
    /// the queue is empty or `deadline` passes (then it panics with `what`).
    pub async fn drain(&self, posters: &[Arc<Poster>], queue: &SqsQueue, deadline: Duration, what: &str) -> Worked {
        let end = Instant::now() + deadline;
        let mut tasks = Vec::new();
        for p in posters {
            let (esm, p, q) = (self.clone(), p.clone(), queue.clone());
            tasks.push(tokio::spawn(async move {
                let mut w = Worked::default();
                loop {
                    match esm.once(&p, 1).await {
                        Some(got) => {
                            w.batches += got.batches;
                            w.records += got.records;
                            w.reported += got.reported;
                        }
                        None if esm.depth(&q).await == 0 => return w,
                        None => {}
                    }
                    if Instant::now() > end {
                        return w;
                    }
                }
            }));
        }
        let mut total = Worked::default();
        for t in tasks {
            let w = t.await.expect("a poster loop");
            total.batches += w.batches;
            total.records += w.records;
            total.reported += w.reported;
        }
        assert!(
            Instant::now() <= end || self.depth(queue).await == 0,
            "{what}: the queue was not worked off in {deadline:?}"
        );
        total
    }
}

impl Esm {
    /// [`Esm::drain`] with function processes: each environment is one concurrent execution.
    pub async fn drain_envs(
        &self,
        envs: Vec<Environment>,
        queue: &SqsQueue,
        deadline: Duration,
    ) -> (Worked, Vec<Environment>) {
        let end = Instant::now() + deadline;
        let mut tasks = Vec::new();
        for mut env in envs {
            let (esm, q) = (self.clone(), queue.clone());
            tasks.push(tokio::spawn(async move {
                let mut w = Worked::default();
                loop {
                    match esm.once_in(&mut env, 1).await {
                        Some(got) => {
                            w.batches += got.batches;
                            w.records += got.records;
                            w.reported += got.reported;
                        }
                        None if esm.depth(&q).await == 0 => return (w, env),
                        None => {}
                    }
                    if Instant::now() > end {
                        return (w, env);
                    }
                }
            }));
        }
        let mut total = Worked::default();
        let mut back = Vec::new();
        for t in tasks {
            let (w, env) = t.await.expect("a function loop");
            total.batches += w.batches;
            total.records += w.records;
            total.reported += w.reported;
            back.push(env);
        }
        (total, back)
    }
}

/// The AWS side of a test: a table, a queue with its DLQ, a secret prefix, on moto.
pub struct Aws {
    pub sdk: aws_config::SdkConfig,
    pub store: Arc<DynamoStore>,
    pub queue: SqsQueue,
    pub prefix: String,
    /// Every budget copy handed out (one per function container), for their counters.
    pub budgets: std::sync::Mutex<Vec<Arc<DynamoBudget>>>,
    /// The moto server this side lives on (what function processes are pointed at).
    pub endpoint: String,
    /// The test's own moto server, when it has one ([`Aws::private`]).
    _moto: Option<mlc_aws::testing::Moto>,
    /// The relay every call goes through, when counted ([`Aws::counted`]).
    pub relay: Option<mlc_aws::testing::CountingRelay>,
}

impl Aws {
    /// On the binary's shared (serialised) moto server.
    pub async fn new(max_receives: u32) -> Aws {
        Self::on(mlc_aws::testing::serialized_moto(), max_receives).await
    }

    /// On a moto server of this test's own: for tests with deadlines (a function timeout, "done
    /// while Cin7 is down") that the scale tests' load on the shared server must not decide.
    pub async fn private(max_receives: u32) -> Aws {
        let m = mlc_aws::testing::private_moto();
        let mut aws = Self::on(&m, max_receives).await;
        aws._moto = Some(m);
        aws
    }

    /// On the binary's shared (serialised) moto server, every call through a [`CountingRelay`]
    /// (`aws.relay`): for benches that print the AWS requests a piece of work cost.
    ///
    /// [`CountingRelay`]: mlc_aws::testing::CountingRelay
    pub async fn counted(max_receives: u32) -> Aws {
        let relay = mlc_aws::testing::CountingRelay::start(mlc_aws::testing::serialized_moto().endpoint()).await;
        let mut aws = Self::on(&relay.moto(), max_receives).await;
        aws.relay = Some(relay);
        aws
    }

    async fn on(m: &mlc_aws::testing::Moto, max_receives: u32) -> Aws {
        let sdk = m.sdk_config().await;
        Aws {
            store: Arc::new(m.store().await),
            queue: m.queue(max_receives).await,
            prefix: mlc_aws::testing::unique("mlc-s"),
            sdk,
            budgets: Default::default(),
            endpoint: m.endpoint().to_string(),
            _moto: None,
            relay: None,
        }
    }

    /// A secret store as a function has it: no cache, every build reads Secrets Manager.
    pub fn secrets(&self) -> SecretsManagerStore {
        SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&self.sdk), self.prefix.clone())
            .with_max_age(Duration::ZERO)
    }

    pub fn budget(&self) -> Arc<DynamoBudget> {
        let b = Arc::new(DynamoBudget::new(aws_sdk_dynamodb::Client::new(&self.sdk), self.store.table()));
        self.budgets.lock().unwrap_or_else(|p| p.into_inner()).push(b.clone());
        b
    }

    /// The budget copies' counters, summed.
    pub fn budget_totals(&self) -> mlc_aws::BudgetStats {
        let all = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        all.iter().map(|b| b.stats()).fold(mlc_aws::BudgetStats::default(), |t, s| mlc_aws::BudgetStats {
            acquires: t.acquires + s.acquires,
            writes: t.writes + s.writes,
            conflicts: t.conflicts + s.conflicts,
            reads: t.reads + s.reads,
            refusals: t.refusals + s.refusals,
            late: t.late + s.late,
        })
    }

    /// The environment the template gives a function (what `AwsSettings` and `StackTiming` read),
    /// pointing at moto.
    pub fn function_env(&self, config: &Config, timing: &StackTiming) -> Vec<(String, String)> {
        let mut v = vec![
            ("AWS_ENDPOINT_URL".to_string(), self.endpoint.clone()),
            ("MLC_TABLE".into(), self.store.table().to_string()),
            ("MLC_QUEUE_URL".into(), self.queue.queue_url().to_string()),
            ("MLC_DLQ_URL".into(), self.queue.dlq_url().unwrap_or_default().to_string()),
            ("MLC_SECRET_PREFIX".into(), self.prefix.clone()),
            ("MLC_CONFIG_JSON".into(), serde_json::to_string(config).expect("config as JSON")),
        ];
        if let Some(t) = timing.function_timeout {
            v.push(("MLC_FUNCTION_TIMEOUT_SECS".into(), t.as_secs().to_string()));
        }
        if let Some(t) = timing.visibility_timeout {
            v.push(("MLC_QUEUE_VISIBILITY_SECS".into(), t.as_secs().to_string()));
        }
        if let Some(r) = timing.max_receives {
            v.push(("MLC_MAX_RECEIVES".into(), r.to_string()));
        }
        v
    }

    pub fn esm(&self) -> Esm {
        Esm::new(aws_sdk_sqs::Client::new(&self.sdk), &self.queue)
    }

    /// A poster built as `main.rs` builds it (its own secret store and budget copy, acks left to
    /// Lambda, every client on the shared budget with the function's wait cap), on `clock`.
    pub async fn poster(&self, config: &Config, timing: StackTiming, clock: Arc<dyn Clock>) -> Poster {
        let queue: Arc<dyn Queue> = Arc::new(self.queue.clone().leave_acks_to_lambda());
        let secrets = Arc::new(self.secrets());
        let home = timing.home(config, self.budget());
        let (config, store) = (config.clone(), self.store.clone());
        let build: Builder = Arc::new(move || {
            let (config, store, queue, secrets, home, clock) =
                (config.clone(), store.clone(), queue.clone(), secrets.clone(), home.clone(), clock.clone());
            Box::pin(async move { Runtime::build_in(config, store, queue, secrets, clock, home).await })
        });
        Poster::new(Reloadable::start("poster", build).await.expect("poster runtime"))
            .with_max_receives(timing.max_receives)
    }
}

/// The poster's timing in the template's defaults.
pub fn template_timing() -> StackTiming {
    StackTiming {
        function_timeout: Some(Duration::from_secs(120)),
        visibility_timeout: Some(Duration::from_secs(360)),
        max_receives: Some(10),
    }
}

/// An API Gateway HTTP API (payload 2.0) request for `POST /webhooks/{connection}`, as the webhook
/// function receives it: header names lower-cased, a JSON body as text.
pub fn apigw_request(connection: &str, headers: &[(String, String)], body: &[u8]) -> Request {
    lambda_http::request::from_str(&apigw_event(connection, headers, body).to_string())
        .expect("an API Gateway v2 request")
}

/// The same request as the JSON event Lambda hands a function.
pub fn apigw_event(connection: &str, headers: &[(String, String)], body: &[u8]) -> Value {
    let mut headers: serde_json::Map<String, Value> =
        headers.iter().map(|(k, v)| (k.to_ascii_lowercase(), Value::String(v.clone()))).collect();
    headers.insert("content-length".into(), Value::String(body.len().to_string()));
    let body = std::str::from_utf8(body).expect("a JSON text body");
    let path = format!("/webhooks/{connection}");
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
                "userAgent": "vendor-webhooks"
            },
            "requestId": "test",
            "routeKey": "POST /webhooks/{system}",
            "stage": "$default",
            "time": "02/Nov/2026:09:00:00 +0000",
            "timeEpoch": 1793610000000u64
        },
        "pathParameters": { "system": connection },
        "body": body,
        "isBase64Encoded": false
    });
    event
}

pub fn text(resp: &lambda_http::Response<Body>) -> String {
    match resp.body() {
        Body::Empty => String::new(),
        Body::Text(t) => t.clone(),
        Body::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}
