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
