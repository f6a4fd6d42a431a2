//! Outbound webhooks, shared by every simulator that calls the product back (Deltek workflow
//! webhooks now; Cin7, Procore and Coupa events later).
//!
//! A delivery POSTs a body to a target with optional Basic credentials and extra headers (a system
//! that signs its webhooks computes the signature header itself), waits `timeout_ms` real
//! milliseconds for an answer, and on failure (no answer, or a non-2xx status) retries up to
//! `retries` times, `retry_delay_secs` apart on the *simulated* clock, so a test moves retries
//! along by advancing the clock. Every attempt is recorded in the [`WebhookLog`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::SimKit;

/// Where and how to deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookTarget {
    /// Absolute URL.
    pub url: String,
    /// Basic-auth user name (sent only with `password`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Basic-auth password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Extra headers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Extra attempts after the first failure.
    #[serde(default)]
    pub retries: u32,
    /// Per-attempt timeout in real milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Simulated seconds between attempts.
    #[serde(default = "default_retry_delay")]
    pub retry_delay_secs: u64,
}

fn default_timeout_ms() -> u64 {
    5_000
}
fn default_retry_delay() -> u64 {
    30
}

impl WebhookTarget {
    /// A target with the defaults (no auth, no retries, 5 s timeout, 30 s between retries).
    pub fn new(url: impl Into<String>) -> Self {
        WebhookTarget {
            url: url.into(),
            username: None,
            password: None,
            headers: BTreeMap::new(),
            retries: 0,
            timeout_ms: default_timeout_ms(),
            retry_delay_secs: default_retry_delay(),
        }
    }
}

/// One try.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Simulated time it was sent.
    pub at: DateTime<Utc>,
    /// Status answered, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Transport error or timeout, if no status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Real milliseconds it took.
    pub elapsed_ms: u64,
}

/// One delivery and its attempts.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    /// 1-based id.
    pub id: u64,
    /// What the system called this event (`"workflow:ApprovedVoucher"`).
    pub event: String,
    /// Target URL.
    pub url: String,
    /// The body sent (as JSON when it parses, else as a string).
    pub body: Value,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    /// The attempts so far.
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Default)]
struct Log {
    deliveries: Vec<Delivery>,
    next: u64,
}

/// All deliveries of one simulator; clones share it.
#[derive(Debug, Clone, Default)]
pub struct WebhookLog(Arc<Mutex<Log>>);

impl WebhookLog {
    fn lock(&self) -> MutexGuard<'_, Log> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every delivery, oldest first.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.lock().deliveries.clone()
    }

    /// One delivery.
    pub fn get(&self, id: u64) -> Option<Delivery> {
        self.lock().deliveries.iter().find(|d| d.id == id).cloned()
    }

    /// Forget everything.
    pub fn clear(&self) {
        self.lock().deliveries.clear();
    }

    /// The log as the control API shows it.
    pub fn describe(&self) -> Value {
        json!({ "deliveries": self.deliveries() })
    }

    fn open(&self, event: &str, url: &str, body: Value) -> u64 {
        let mut l = self.lock();
        l.next += 1;
        let id = l.next;
        l.deliveries.push(Delivery {
            id,
            event: event.into(),
            url: url.into(),
            body,
            state: "pending".into(),
            attempts: Vec::new(),
        });
        id
    }

    fn update(&self, id: u64, f: impl FnOnce(&mut Delivery)) {
        if let Some(d) = self.lock().deliveries.iter_mut().find(|d| d.id == id) {
            f(d);
        }
    }
}

/// The HTTP client used for webhooks: no proxy (targets are on loopback). Built once; no idle
/// pooling, so it is safe to share across runtimes (each test has its own).
fn client() -> reqwest::Client {
    static C: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    C.get_or_init(|| reqwest::Client::builder().no_proxy().pool_max_idle_per_host(0).build().unwrap_or_default())
        .clone()
}

/// Start delivering `body` (with `content_type`) to `target` in the background. Returns the
/// delivery id and a handle that resolves to the final [`Delivery`].
pub fn send(
    kit: &SimKit,
    event: &str,
    target: WebhookTarget,
    content_type: &str,
    body: Vec<u8>,
) -> (u64, tokio::task::JoinHandle<Option<Delivery>>) {
    let shown = serde_json::from_slice(&body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    let id = kit.webhooks.open(event, &target.url, shown);
    let kit = kit.clone();
    let content_type = content_type.to_string();
    let handle = tokio::spawn(async move {
        let http = client();
        let mut attempt = 0u32;
        loop {
            let at = kit.clock.now();
            let started = Instant::now();
            let mut req = http
                .post(&target.url)
                .timeout(StdDuration::from_millis(target.timeout_ms.max(1)))
                .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                .body(body.clone());
            if let (Some(u), Some(p)) = (&target.username, &target.password) {
                req = req.basic_auth(u, Some(p));
            }
            for (k, v) in &target.headers {
                req = req.header(k.as_str(), v.as_str());
            }
            let result = tokio::select! {
                r = req.send() => Some(r),
                _ = kit.shutdown.wait() => None,
            };
            let Some(result) = result else { break };
            let (status, error) = match result {
                Ok(r) => (Some(r.status().as_u16()), None),
                Err(e) => (None, Some(if e.is_timeout() { "timeout".to_string() } else { e.to_string() })),
            };
            let ok = status.is_some_and(|s| (200..300).contains(&s));
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let last = ok || attempt >= target.retries;
            kit.webhooks.update(id, |d| {
                d.attempts.push(Attempt { at, status, error, elapsed_ms });
                if ok {
                    d.state = "delivered".into();
                } else if last {
                    d.state = "failed".into();
                }
            });
            if last {
                break;
            }
            attempt += 1;
            tokio::select! {
                _ = kit.clock.sleep(Duration::seconds(target.retry_delay_secs as i64)) => {}
                _ = kit.shutdown.wait() => break,
            }
        }
        kit.webhooks.get(id)
    });
    (id, handle)
}

/// [`send`] with a JSON body.
pub fn send_json(
    kit: &SimKit,
    event: &str,
    target: WebhookTarget,
    body: &Value,
) -> (u64, tokio::task::JoinHandle<Option<Delivery>>) {
    send(kit, event, target, "application/json; charset=utf-8", serde_json::to_vec(body).unwrap_or_default())
}
