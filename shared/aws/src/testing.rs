//! Test harness (feature `testing`): a moto server on loopback for the whole test process, and
//! fresh, uniquely named tables, queues and secret prefixes on it, so tests run in parallel
//! without `POST /moto-api/reset`.
//!
//! - `MLC_TEST_AWS_ENDPOINT=http://127.0.0.1:5000` uses a moto that is already running.
//! - Otherwise `<repo>/.venv/bin/moto_server -H 127.0.0.1 -p <free port>` is started once per
//!   test process (`MLC_VENV` names another venv), through its Python entry point with werkzeug's
//!   threading off: moto does not serialise conditional writes, DynamoDB does, and the claim and
//!   cursor race tests need DynamoDB's behaviour. It is stopped when the process exits: it runs
//!   under a tiny shell that kills it when its stdin (a pipe held by this process) closes, which
//!   the kernel does on any exit, even a panic or a kill.
//! - Tests whose concurrent conditional writes must be serialised as DynamoDB does use
//!   [`serialized_moto`], which never uses a threaded server named by `MLC_TEST_AWS_ENDPOINT`.
//! - No moto: the test FAILS with "moto is not installed: run tests/aws-tools.sh (or tests/run.sh)".
//!   Nothing is skipped silently.
//!
//! Nothing here talks to real AWS: the endpoint is loopback and the credentials are dummies.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_sqs::types::QueueAttributeName;

use crate::{AwsSettings, DynamoStore, SecretsManagerStore, SqsQueue};

/// The message a test fails with when moto is missing.
pub const NOT_INSTALLED: &str = "moto is not installed: run tests/aws-tools.sh (or tests/run.sh)";

/// Runs `moto_server` (same arguments) on a single-threaded werkzeug server.
const SINGLE_THREADED_MOTO: &str = r#"
import sys
import moto.server as server
run = server.run_simple
def single_threaded(*args, **kwargs):
    kwargs["threaded"] = False
    return run(*args, **kwargs)
server.run_simple = single_threaded
server.main(sys.argv[1:])
"#;

/// A running moto server.
pub struct Moto {
    endpoint: String,
    // Held for the life of the process; dropping it (process exit) stops the server.
    _guard: Option<Mutex<(Child, ChildStdin)>>,
}

static MOTO: OnceLock<Moto> = OnceLock::new();
static SERIALIZED: OnceLock<Moto> = OnceLock::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The process-wide moto server, started on first use (or the one `MLC_TEST_AWS_ENDPOINT` names).
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| external().unwrap_or_else(start_local))
}

/// A moto server whose writes are serialised like DynamoDB's, for tests where concurrent
/// conditional writes race (claims, cursors, duplicate deliveries processed at once). The server
/// this harness starts is; one named by `MLC_TEST_AWS_ENDPOINT` may be a threaded `moto_server`
/// (where two racing conditional puts can both succeed), so in that case a private one is started.
pub fn serialized_moto() -> &'static Moto {
    if external().is_some() { SERIALIZED.get_or_init(start_local) } else { moto() }
}

/// A serialised moto server of the caller's own, stopped when dropped: for tests whose timing
/// (a function timeout, a drain deadline) must not depend on how hard the other tests of the
/// binary load the shared server.
pub fn private_moto() -> Moto {
    start_local()
}

fn external() -> Option<Moto> {
    let endpoint = std::env::var("MLC_TEST_AWS_ENDPOINT").ok()?;
    let endpoint = endpoint.trim().trim_end_matches('/');
    (!endpoint.is_empty()).then(|| Moto { endpoint: endpoint.to_string(), _guard: None })
}

fn venv() -> PathBuf {
    match std::env::var_os("MLC_VENV") {
        Some(v) => PathBuf::from(v),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv"),
    }
}

fn start_local() -> Moto {
    let server = venv().join("bin/moto_server");
    assert!(server.is_file(), "{NOT_INSTALLED} ({} not found)", server.display());
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port");
    let log = std::env::temp_dir().join(format!("mlc-moto-{}-{port}.log", std::process::id()));
    // moto_server's own entry point, with werkzeug's `threaded` turned off: moto does not lock
    // around conditional writes, so on a threaded server two racing conditional puts can both
    // pass, which DynamoDB (serialising writes per item) never allows.
    let python = venv().join("bin/python");
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(r#""$1" -c "$4" -H 127.0.0.1 -p "$2" >"$3" 2>&1 & m=$!; read -r _ || true; kill "$m" 2>/dev/null; wait "$m" 2>/dev/null"#)
        .arg("moto-guard")
        .arg(&python)
        .arg(port.to_string())
        .arg(&log)
        .arg(SINGLE_THREADED_MOTO)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
    let stdin = child.stdin.take().expect("piped stdin");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut text = String::new();
            let _ = std::fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut text));
            panic!("moto_server exited ({status}) before listening on port {port}: {text}");
        }
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on 127.0.0.1:{port} within 60 s (log {})",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto { endpoint: format!("http://127.0.0.1:{port}"), _guard: Some(Mutex::new((child, stdin))) }
}

/// A name no other test in any process uses (`<prefix>-<pid>-<n>-<time>`), valid for tables,
/// queues and secrets.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{prefix}-{}-{n}-{t}", std::process::id())
}

impl Moto {
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// SDK configuration for moto: loopback endpoint, us-east-1, dummy credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .load()
            .await
    }

    /// A store on a new table.
    pub async fn store(&self) -> DynamoStore {
        let client = aws_sdk_dynamodb::Client::new(&self.sdk_config().await);
        let table = unique("mlc-t");
        DynamoStore::create_table(&client, &table).await.expect("create table on moto");
        DynamoStore::new(client, table)
    }

    /// A new queue with a dead-letter queue after `max_receives` receives.
    pub async fn queue(&self, max_receives: u32) -> SqsQueue {
        let client = aws_sdk_sqs::Client::new(&self.sdk_config().await);
        let name = unique("mlc-q");
        let dlq = client.create_queue().queue_name(format!("{name}-dlq")).send().await.expect("create DLQ on moto");
        let dlq_url = dlq.queue_url().expect("DLQ url").to_string();
        let arn = client
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("DLQ attributes")
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("DLQ arn");
        let redrive = format!(r#"{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"{max_receives}"}}"#);
        let q = client
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::RedrivePolicy, redrive)
            .attributes(QueueAttributeName::VisibilityTimeout, "30")
            .send()
            .await
            .expect("create queue on moto");
        SqsQueue::new(client, q.queue_url().expect("queue url"), Some(dlq_url))
    }

    /// A secret store under a new prefix.
    pub async fn secrets(&self) -> SecretsManagerStore {
        SecretsManagerStore::new(aws_sdk_secretsmanager::Client::new(&self.sdk_config().await), unique("mlc-s"))
    }

    /// Settings naming a fresh table, queue and secret prefix (what the template would set).
    pub async fn settings(&self, max_receives: u32) -> AwsSettings {
        let store = self.store().await;
        let queue = self.queue(max_receives).await;
        AwsSettings {
            table: store.table().to_string(),
            queue_url: queue.queue_url().to_string(),
            dlq_url: queue.dlq_url().map(str::to_string),
            secret_prefix: unique("mlc-s"),
            secrets_kms_key: None,
            sqs_wait_secs: 0,
        }
    }
}

/// A relay in front of moto that counts the AWS calls passing through it, by service and action
/// (`DynamoDB GetItem`, `SQS ReceiveMessage`, `SecretsManager GetSecretValue`, from the request's
/// `X-Amz-Target`): what a test or bench asserts or prints about how many requests a piece of
/// work costs. Every request is forwarded unchanged; it listens on loopback and lives as long as
/// the runtime that started it. [`CountingRelay::slow_down`] holds an action's answers back, as a
/// loaded table answers.
pub struct CountingRelay {
    url: String,
    /// Per action: calls, and the time moto took to answer them (µs, summed).
    counts: std::sync::Arc<Mutex<std::collections::BTreeMap<String, (u64, u64)>>>,
    /// Per action: how long its answers are held back.
    delays: std::sync::Arc<Mutex<std::collections::HashMap<String, Duration>>>,
}

impl CountingRelay {
    /// Start a relay forwarding to `upstream` (a moto endpoint).
    pub async fn start(upstream: &str) -> CountingRelay {
        use std::sync::Arc;
        let counts: Arc<Mutex<std::collections::BTreeMap<String, (u64, u64)>>> = Arc::default();
        let http = reqwest::Client::new();
        let upstream = upstream.trim_end_matches('/').to_string();
        let delays: Arc<Mutex<std::collections::HashMap<String, Duration>>> = Arc::default();
        let (tally, held) = (counts.clone(), delays.clone());
        let relay = move |req: axum::extract::Request| {
            let (tally, held, http, upstream) = (tally.clone(), held.clone(), http.clone(), upstream.clone());
            async move {
                let (parts, body) = req.into_parts();
                let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
                let action = action_name(target);
                let started = Instant::now();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
                let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let mut rb = http.request(parts.method.clone(), format!("{upstream}{path}"));
                for (k, v) in parts.headers.iter() {
                    if k != "host" && k != "content-length" {
                        rb = rb.header(k, v);
                    }
                }
                let mut out = axum::response::Response::new(axum::body::Body::empty());
                match rb.body(bytes).send().await {
                    Ok(resp) => {
                        let (status, headers) = (resp.status(), resp.headers().clone());
                        *out.body_mut() = axum::body::Body::from(resp.bytes().await.unwrap_or_default());
                        *out.status_mut() = status;
                        for (k, v) in headers.iter() {
                            if k != "content-length" && k != "transfer-encoding" {
                                out.headers_mut().insert(k, v.clone());
                            }
                        }
                    }
                    Err(e) => {
                        *out.status_mut() = axum::http::StatusCode::BAD_GATEWAY;
                        *out.body_mut() = axum::body::Body::from(format!("relay: moto did not answer: {e}"));
                    }
                }
                let delay = held.lock().unwrap_or_else(|p| p.into_inner()).get(&action).copied();
                if let Some(d) = delay {
                    tokio::time::sleep(d).await;
                }
                let mut t = tally.lock().unwrap_or_else(|p| p.into_inner());
                let e = t.entry(action).or_default();
                e.0 += 1;
                e.1 += started.elapsed().as_micros() as u64;
                out
            }
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("the relay listens on loopback");
        let url = format!("http://{}", listener.local_addr().expect("relay address"));
        tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(relay)).await });
        CountingRelay { url, counts, delays }
    }

    /// Hold back every later answer to `action` (`"DynamoDB PutItem"`) by `by` (zero: no more).
    pub fn slow_down(&self, action: &str, by: Duration) {
        self.delays.lock().unwrap_or_else(|p| p.into_inner()).insert(action.to_string(), by);
    }

    /// The relay's endpoint (what `AWS_ENDPOINT_URL` or an SDK config points at).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The relay as a [`Moto`]: stores, queues and SDK configs made from it go through the relay.
    pub fn moto(&self) -> Moto {
        Moto { endpoint: self.url.clone(), _guard: None }
    }

    /// Calls of one action so far (`"SecretsManager GetSecretValue"`).
    pub fn count(&self, action: &str) -> u64 {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).get(action).map_or(0, |c| c.0)
    }

    /// Every action's calls so far.
    pub fn counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(k, v)| (k.clone(), v.0)).collect()
    }

    /// Every action's calls so far and the time moto took to answer them, summed.
    pub fn timed_counts(&self) -> std::collections::BTreeMap<String, (u64, Duration)> {
        let t = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        t.iter().map(|(k, v)| (k.clone(), (v.0, Duration::from_micros(v.1)))).collect()
    }
}

/// `DynamoDB_20120810.GetItem` → `DynamoDB GetItem`; `AmazonSQS.SendMessage` → `SQS SendMessage`;
/// `secretsmanager.GetSecretValue` → `SecretsManager GetSecretValue`; no target → `other`.
fn action_name(target: &str) -> String {
    let Some((service, action)) = target.split_once('.') else { return "other".into() };
    let service = match service {
        s if s.starts_with("DynamoDB") => "DynamoDB",
        "AmazonSQS" => "SQS",
        "secretsmanager" => "SecretsManager",
        s => s,
    };
    format!("{service} {action}")
}
