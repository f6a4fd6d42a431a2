//! A local Lambda Runtime API (the part of Lambda a `provided.al2023` `bootstrap` talks to), so the
//! built functions run as Lambda runs them: one process per execution environment, started with
//! `AWS_LAMBDA_RUNTIME_API` pointing here, asking `GET /2018-06-01/runtime/invocation/next` for
//! each event and answering on `/response` or `/error`. An invocation that outlives the
//! function's timeout gets the process killed (SIGKILL) and a fresh one started, as Lambda does.
//!
//! Endpoints served: `invocation/next` (with `Lambda-Runtime-Aws-Request-Id`,
//! `-Deadline-Ms`, `-Invoked-Function-Arn`, `-Trace-Id`), `invocation/{id}/response`,
//! `invocation/{id}/error`, `init/error`.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, mpsc, oneshot};

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Response(Value),
    /// The function reported an error (`/error`), with the body it sent.
    Error(String),
    /// Past the timeout: the process was killed and replaced.
    TimedOut,
    /// The process could not initialise (`/init/error`, or it exited before asking for work).
    InitFailed(String),
}

struct Invocation {
    id: String,
    event: Value,
    deadline_ms: u64,
    done: oneshot::Sender<Outcome>,
}

struct Shared {
    /// Invocations waiting for the process's next `next` (locked while one waits: a waiter
    /// dropped with its connection releases it).
    queue: Arc<Mutex<mpsc::UnboundedReceiver<Invocation>>>,
    /// The one in progress.
    current: Option<(String, oneshot::Sender<Outcome>)>,
    init_error: Option<String>,
    /// When the process first asked for work (init done).
    ready_at: Option<Instant>,
}

type St = Arc<Mutex<Shared>>;

/// One execution environment of one function.
pub struct Environment {
    pub name: String,
    bin: PathBuf,
    env: Vec<(String, String)>,
    pub timeout: Duration,
    api: String,
    tx: mpsc::UnboundedSender<Invocation>,
    shared: St,
    child: Option<Child>,
    started: Instant,
    log: PathBuf,
    next_id: u64,
    pub cold_starts: u32,
}

async fn next(State(st): State<St>) -> Response {
    let queue = {
        let mut s = st.lock().await;
        if s.ready_at.is_none() {
            s.ready_at = Some(Instant::now());
        }
        s.queue.clone()
    };
    let inv = queue.lock().await.recv().await;
    let mut s = st.lock().await;
    let Some(inv) = inv else { return StatusCode::GONE.into_response() };
    s.current = Some((inv.id.clone(), inv.done));
    let mut h = HeaderMap::new();
    let hv = |v: String| HeaderValue::from_str(&v).unwrap_or(HeaderValue::from_static(""));
    h.insert("lambda-runtime-aws-request-id", hv(inv.id.clone()));
    h.insert("lambda-runtime-deadline-ms", hv(inv.deadline_ms.to_string()));
    h.insert(
        "lambda-runtime-invoked-function-arn",
        HeaderValue::from_static("arn:aws:lambda:us-east-1:123456789012:function:mlc-test"),
    );
    h.insert("lambda-runtime-trace-id", HeaderValue::from_static("Root=1-00000000-000000000000000000000000"));
    h.insert("content-type", HeaderValue::from_static("application/json"));
    (StatusCode::OK, h, inv.event.to_string()).into_response()
}

async fn finish(st: &St, id: &str, outcome: Outcome) -> StatusCode {
    let mut s = st.lock().await;
    match s.current.take() {
        Some((cur, done)) if cur == id => {
            let _ = done.send(outcome);
            StatusCode::ACCEPTED
        }
        other => {
            s.current = other;
            StatusCode::BAD_REQUEST
        }
    }
}

async fn response(State(st): State<St>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    let v = serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    finish(&st, &id, Outcome::Response(v)).await
}

async fn error(State(st): State<St>, Path(id): Path<String>, body: Bytes) -> StatusCode {
    finish(&st, &id, Outcome::Error(String::from_utf8_lossy(&body).into())).await
}

async fn init_error(State(st): State<St>, body: Bytes) -> StatusCode {
    st.lock().await.init_error = Some(String::from_utf8_lossy(&body).into());
    StatusCode::ACCEPTED
}

impl Environment {
    /// Start the Runtime API and the function's process (`env` on top of the Lambda variables).
    pub async fn start(name: &str, bin: PathBuf, env: Vec<(String, String)>, timeout: Duration) -> Environment {
        assert!(bin.is_file(), "{name}: {} is not built", bin.display());
        let (tx, rx) = mpsc::unbounded_channel();
        let shared: St = Arc::new(Mutex::new(Shared {
            queue: Arc::new(Mutex::new(rx)),
            current: None,
            init_error: None,
            ready_at: None,
        }));
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the runtime API");
        let api = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let log = std::env::temp_dir().join(format!("mlc-lambda-{name}-{}.log", mlc_aws::testing::unique("fn")));
        let mut e = Environment {
            name: name.to_string(),
            bin,
            env,
            timeout,
            api,
            tx,
            shared,
            child: None,
            started: Instant::now(),
            log,
            next_id: 0,
            cold_starts: 0,
        };
        e.spawn();
        e
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log file");
        let mut cmd = Command::new(&self.bin);
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &self.api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("log")))
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        self.child =
            Some(cmd.spawn().unwrap_or_else(|e| panic!("{}: cannot start {}: {e}", self.name, self.bin.display())));
        self.started = Instant::now();
        self.cold_starts += 1;
    }

    /// Time from the process's start to its first `next` (init done), waiting up to `within`.
    pub async fn ready(&mut self, within: Duration) -> Result<Duration, String> {
        let end = Instant::now() + within;
        loop {
            {
                let s = self.shared.lock().await;
                if let Some(e) = &s.init_error {
                    return Err(e.clone());
                }
                if let Some(at) = s.ready_at {
                    return Ok(at.duration_since(self.started));
                }
            }
            if let Some(c) = &mut self.child
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!("{} exited during init ({status}); log: {}", self.name, self.tail()));
            }
            if Instant::now() > end {
                return Err(format!("{} did not ask for work within {within:?}; log: {}", self.name, self.tail()));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// The end of the process's log, for failure messages.
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(3000);
        text[text.floor_char_boundary(start)..].to_string()
    }

    /// Invoke with `event`; past the timeout the process is killed and a new one started.
    pub async fn invoke(&mut self, event: Value) -> Outcome {
        if let Err(e) = self.ready(Duration::from_secs(30)).await {
            return Outcome::InitFailed(e);
        }
        self.next_id += 1;
        let id = format!("{}-{:06}", self.name, self.next_id);
        let deadline = std::time::SystemTime::now() + self.timeout;
        let deadline_ms =
            deadline.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default();
        let (done, rx) = oneshot::channel();
        let _ = self.tx.send(Invocation { id, event, deadline_ms, done });
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(o)) => o,
            Ok(Err(_)) => Outcome::Error("the runtime API dropped the invocation".into()),
            Err(_) => {
                self.kill().await;
                {
                    let mut s = self.shared.lock().await;
                    s.current = None;
                    s.ready_at = None;
                }
                self.spawn();
                Outcome::TimedOut
            }
        }
    }

    /// Kill the process (SIGKILL), as Lambda does at the timeout.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }
}
