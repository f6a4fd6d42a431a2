//! End-to-end tests of the kit against a scripted axum server on 127.0.0.1, and a log capture.
//!
//! The server issues numbered tokens (`access-N-tokensecret`), refuses tokens numbered below
//! `valid_from` with a 401 that echoes the Authorization header (as careless servers do), and
//! answers other paths from per-path scripts of canned answers, falling back to a JSON body that
//! echoes the credentials it was sent. Echoing is deliberate: the secrets tests check the kit
//! scrubs what servers send back.

mod auth;
mod limits;
mod paging;
mod retry;
mod secrets;

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body as AxBody;
use axum::extract::State;
use axum::http::HeaderMap as AxHeaders;
use mlc_core::secret::Redacted;
use url::Url;

use crate::{ConnectionConfig, FieldNames, PasswordGrant, RetryPolicy};

pub(crate) const PASSWORD: &str = "pw-Hunter2-secret";
pub(crate) const CLIENT_SECRET: &str = "cs-Swordfish-secret";
pub(crate) const API_KEY: &str = "key-0342a546-e0c2-0dff";
/// Every token the server issues contains this.
pub(crate) const TOKEN_MARK: &str = "tokensecret";

/// A canned answer.
#[derive(Debug, Clone)]
pub(crate) struct Canned {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

impl Canned {
    pub(crate) fn json(status: u16, body: &str) -> Self {
        Canned {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
    pub(crate) fn html(status: u16, body: &str) -> Self {
        Canned { headers: vec![("content-type".into(), "text/html".into())], ..Canned::json(status, body) }
    }
    pub(crate) fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
    pub(crate) fn delay(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

/// The scripted server's state, shared with the test.
#[derive(Default)]
pub(crate) struct Sim {
    /// Forms posted to /token, in order.
    pub token_forms: Mutex<Vec<HashMap<String, String>>>,
    /// The Authorization header of each /token call.
    pub token_basic: Mutex<Vec<Option<String>>>,
    issued: AtomicU32,
    /// Tokens numbered below this answer 401.
    pub valid_from: AtomicU32,
    pub refuse_refresh: AtomicBool,
    /// When set, /token answers this instead of issuing.
    pub token_answer: Mutex<Option<Canned>>,
    scripts: Mutex<HashMap<String, VecDeque<Canned>>>,
    hits: Mutex<HashMap<String, u32>>,
    /// Headers of every non-token request.
    pub seen_headers: Mutex<Vec<AxHeaders>>,
}

impl Sim {
    pub(crate) fn script(&self, path: &str, answers: impl IntoIterator<Item = Canned>) {
        self.scripts.lock().unwrap().entry(path.into()).or_default().extend(answers);
    }
    pub(crate) fn hits(&self, path: &str) -> u32 {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
    pub(crate) fn grant_types(&self) -> Vec<String> {
        self.token_forms.lock().unwrap().iter().map(|f| f.get("grant_type").cloned().unwrap_or_default()).collect()
    }
    pub(crate) fn revoke_all_but_new(&self) {
        self.valid_from.store(self.issued.load(Ordering::SeqCst) + 1, Ordering::SeqCst);
    }
}

fn answer(c: &Canned) -> axum::response::Response {
    let mut b = axum::response::Response::builder().status(c.status);
    for (k, v) in &c.headers {
        b = b.header(k, v);
    }
    b.body(AxBody::from(c.body.clone())).unwrap()
}

async fn handle(State(sim): State<Arc<Sim>>, req: axum::extract::Request) -> axum::response::Response {
    let path = req.uri().path().to_string();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), usize::MAX).await.unwrap();
    *sim.hits.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);

    if path == "/token" {
        let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
        let grant = form.get("grant_type").cloned().unwrap_or_default();
        sim.token_forms.lock().unwrap().push(form.clone());
        sim.token_basic.lock().unwrap().push(auth);
        if let Some(c) = sim.token_answer.lock().unwrap().clone() {
            return answer(&c);
        }
        if grant == "refresh_token" && sim.refuse_refresh.load(Ordering::SeqCst) {
            return answer(&Canned::json(
                400,
                r#"{"error":"invalid_grant","error_description":"refresh token expired"}"#,
            ));
        }
        let n = sim.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let body = serde_json::json!({
            "access_token": format!("access-{n}-{TOKEN_MARK}"),
            "refresh_token": format!("refresh-{n}-{TOKEN_MARK}"),
            "token_type": "bearer",
            "expires_in": 1799,
        });
        return answer(&Canned::json(200, &body.to_string()));
    }

    sim.seen_headers.lock().unwrap().push(headers.clone());
    if let Some(bearer) = auth.as_deref().and_then(|a| a.strip_prefix("Bearer access-")) {
        let n: u32 = bearer.split('-').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        if n < sim.valid_from.load(Ordering::SeqCst) {
            let echo = serde_json::json!({"Message": "Authorization has been denied for this request.", "sent": auth});
            return answer(&Canned::json(401, &echo.to_string()));
        }
    }
    let next = sim.scripts.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front);
    match next {
        Some(c) => {
            tokio::time::sleep(c.delay).await;
            answer(&c)
        }
        None => {
            let key = headers.get("api-auth-applicationkey").and_then(|v| v.to_str().ok());
            let echo = serde_json::json!({"ok": true, "path": path, "authorization": auth, "key": key});
            answer(&Canned::json(200, &echo.to_string()))
        }
    }
}

/// Start the server; returns its root URL.
pub(crate) async fn start(sim: Arc<Sim>) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(handle).with_state(sim);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Url::parse(&format!("http://{addr}/")).unwrap()
}

/// A connection to `root/api/` with tiny timeouts and backoff.
pub(crate) fn config(root: &Url) -> ConnectionConfig {
    ConnectionConfig::new("testsys", root.join("api").unwrap())
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(1))
        .retry(RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(5),
            cap: Duration::from_millis(20),
            park_after: Duration::from_secs(2),
        })
}

/// Deltek's spelling of the password grant.
pub(crate) fn deltek_grant(root: &Url) -> PasswordGrant {
    PasswordGrant::new(root.join("token").unwrap(), "api-user", Redacted::new(PASSWORD.to_string()))
        .field_names(FieldNames::new("Username", "Password", "Client_Id", "client_secret"))
        .client("client-1", Redacted::new(CLIENT_SECRET.to_string()))
        .extra("database", "DB_1")
        .login_extra("Integrated", "N")
}

/// Captures the tracing output of the current thread (a tokio test runs its tasks there).
///
/// One global subscriber writes into a per-thread sink: a subscriber per test (`set_default`)
/// races with tracing's per-callsite interest cache when tests run in parallel and drops lines.
#[derive(Clone, Default)]
pub(crate) struct Logs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static SINK: std::cell::RefCell<Option<Logs>> = const { std::cell::RefCell::new(None) };
}

/// Stops capturing on this thread when dropped.
pub(crate) struct LogsGuard;

impl Drop for LogsGuard {
    fn drop(&mut self) {
        SINK.with(|s| *s.borrow_mut() = None);
    }
}

struct ThreadSink;

impl std::io::Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|s| {
            if let Some(logs) = &*s.borrow() {
                logs.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub(crate) fn start() -> (Logs, LogsGuard) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let sub = tracing_subscriber::fmt()
                .with_writer(|| ThreadSink)
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(sub).unwrap();
        });
        let logs = Logs::default();
        SINK.with(|s| *s.borrow_mut() = Some(logs.clone()));
        (logs, LogsGuard)
    }
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
