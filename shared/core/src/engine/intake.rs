//! Webhook intake: verify, dedupe, enqueue a hint, answer fast.
//!
//! Shared by the Lambda webhook function and `mlc serve`'s listener, so both homes accept exactly
//! the same requests. The order matters and is fixed here:
//! 1. size cap (413) — before anything else touches the body;
//! 2. verification over the RAW body bytes, in constant time, by the system's [`WebhookSource`]
//!    (401 with no detail on failure: a prober learns nothing);
//! 3. only then parse the body (400 naming what was wrong);
//! 4. drop repeated deliveries by delivery id (vendors redeliver; duplicates are expected) — a
//!    read only: the id is recorded *after* the delivery's hints are durably enqueued, so a
//!    delivery whose enqueue failed (or whose request was cut) is taken again on the vendor's retry;
//! 5. turn each event into a hint for the source (every flow reading it) and enqueue them in one go.
//!
//! **Caps.** One authenticated body can name thousands of records, and each hint costs a read-back
//! from the source (hours of Cin7's budget). A delivery's events beyond `max_events_per_delivery`,
//! and a connection's hints beyond `max_hints_per_minute` (per process), are not enqueued: they are
//! counted as `left_to_poll` (the scheduled poll finds them) and logged. The answer stays fast.
//!
//! Vendor payloads are hints only: Cin7, Procore and Deltek webhooks are unsigned, so the poster
//! always reads the record back from the source before acting on it.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use subtle::ConstantTimeEq;

use crate::engine::Engine;
use crate::engine::model::{Hint, Origin};
use crate::engine::ports::StoreError;

/// An inbound webhook request, as both homes see it.
#[derive(Debug, Clone)]
pub struct WebhookRequest<'a> {
    /// From the route `/webhooks/{connection}`: the connection the delivery is for.
    pub connection: &'a str,
    /// Header names lower-cased. Repeated headers may arrive comma-joined (API Gateway v2).
    pub headers: &'a [(String, String)],
    /// The raw body, exactly as received (already base64-decoded on Lambda).
    pub body: &'a [u8],
    pub received_at: DateTime<Utc>,
}

impl WebhookRequest<'_> {
    /// First value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One change a webhook announced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookEvent {
    /// The vendor's event name (`Purchase/InvoiceAuthorised`, `invoice.approved` ...).
    pub event_type: String,
    /// Source entity the hint names (must match what the flows' `read_back` expects).
    pub entity: String,
    pub id: String,
    /// A delivery id for dedup, when the sender gives one (or a hash of the body when it doesn't).
    pub delivery_id: Option<String>,
    /// A version stamp, when the payload carries one.
    pub observed_version: Option<String>,
}

/// Why a webhook was refused. `status()` is what the caller answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntakeError {
    /// Verification failed. The message is for our logs only, never for the response.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("body of {size} bytes is over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    /// Verified but unreadable.
    #[error("{0}")]
    BadBody(String),
    /// No connection by that name takes webhooks. The answer does not say which ones do.
    #[error("no webhook source is configured for connection {0:?}")]
    UnknownConnection(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl IntakeError {
    pub fn status(&self) -> u16 {
        match self {
            IntakeError::Unauthorized(_) => 401,
            IntakeError::TooLarge { .. } => 413,
            IntakeError::BadBody(_) => 400,
            IntakeError::UnknownConnection(_) => 404,
            IntakeError::Store(_) => 503,
        }
    }

    /// The response body: nothing for a failed verification.
    pub fn public_message(&self) -> String {
        match self {
            IntakeError::Unauthorized(_) => String::new(),
            IntakeError::UnknownConnection(_) => "not found".into(),
            IntakeError::Store(_) => "temporarily unavailable; retry".into(),
            other => other.to_string(),
        }
    }
}

/// A system's webhook rules: how to verify a delivery and what it announces.
pub trait WebhookSource: Send + Sync {
    fn system(&self) -> &str;
    /// Check the request's credentials/signature over the raw body. Must compare in constant time.
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError>;
    /// Read the (verified) body into events.
    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError>;
}

/// Constant-time equality for secrets and signatures.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// What intake did with one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IntakeReport {
    pub events: usize,
    pub enqueued: usize,
    /// Deliveries already seen (vendor redelivery).
    pub duplicates: usize,
    /// Events no enabled flow consumes.
    pub ignored: usize,
    /// Events over the caps, left for the scheduled poll to find.
    pub left_to_poll: usize,
}

/// Hints taken per connection in the current minute (a soft cap, per process).
#[derive(Debug, Default)]
struct MinuteCount {
    minute: i64,
    taken: usize,
}

/// Where an event for one (connection, entity) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    /// A flow that reads on its own.
    Flow(String),
    /// A shared source (`cin7/purchase`): one hint for every flow reading it.
    Source(String),
}

/// The webhook front door: verification per connection, and where each (connection, entity) goes.
#[derive(Clone)]
pub struct Intake {
    sources: BTreeMap<String, Arc<dyn WebhookSource>>,
    routes: BTreeMap<(String, String), Vec<Route>>,
    /// Bodies above this are refused with 413 (default 1 MiB).
    pub max_body: usize,
    /// Events of one delivery beyond this are left to the poll (default 100).
    pub max_events_per_delivery: usize,
    /// Hints per connection per minute beyond this are left to the poll (default 600).
    pub max_hints_per_minute: usize,
    per_minute: Arc<std::sync::Mutex<BTreeMap<String, MinuteCount>>>,
}

impl Default for Intake {
    fn default() -> Self {
        Intake {
            sources: BTreeMap::new(),
            routes: BTreeMap::new(),
            max_body: 1024 * 1024,
            max_events_per_delivery: 100,
            max_hints_per_minute: 600,
            per_minute: Arc::default(),
        }
    }
}

impl Intake {
    pub fn new() -> Self {
        Self::default()
    }

    /// Deliveries to `/webhooks/{connection}` are verified and read by `source`.
    pub fn add_source(&mut self, connection: &str, source: Arc<dyn WebhookSource>) {
        self.sources.insert(connection.to_string(), source);
    }

    /// Events for `entity` on `connection` become hints for `flow` (a flow reading on its own).
    pub fn route(&mut self, connection: &str, entity: &str, flow: &str) {
        self.add_route(connection, entity, Route::Flow(flow.to_string()));
    }

    /// Events for `entity` on `connection` become one hint for the shared source `source_key`.
    pub fn route_to_source(&mut self, connection: &str, entity: &str, source_key: &str) {
        self.add_route(connection, entity, Route::Source(source_key.to_string()));
    }

    fn add_route(&mut self, connection: &str, entity: &str, route: Route) {
        let routes = self.routes.entry((connection.to_string(), entity.to_string())).or_default();
        if !routes.contains(&route) {
            routes.push(route);
        }
    }

    /// The connections that take webhooks.
    pub fn connections(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }

    /// Verify, parse, dedupe and enqueue. Nothing is parsed before verification succeeds.
    pub async fn handle(&self, engine: &Engine, req: &WebhookRequest<'_>) -> Result<IntakeReport, IntakeError> {
        if req.body.len() > self.max_body {
            return Err(IntakeError::TooLarge { size: req.body.len(), limit: self.max_body });
        }
        let source = self
            .sources
            .get(req.connection)
            .ok_or_else(|| IntakeError::UnknownConnection(req.connection.to_string()))?;
        source.verify(req)?;
        let mut events = source.parse(req)?;
        let mut report = IntakeReport { events: events.len(), ..Default::default() };
        if events.len() > self.max_events_per_delivery {
            report.left_to_poll += events.len() - self.max_events_per_delivery;
            events.truncate(self.max_events_per_delivery);
        }
        let mut hints = Vec::new();
        let mut seen_keys = Vec::new();
        for ev in events {
            if let Some(d) = &ev.delivery_id {
                let key = format!("{}#{}#{}", ev.event_type, ev.entity, d);
                if engine.store.delivery_seen(req.connection, &key, req.received_at).await? {
                    report.duplicates += 1;
                    continue;
                }
                seen_keys.push(key);
            }
            let Some(routes) = self.routes.get(&(req.connection.to_string(), ev.entity.clone())) else {
                report.ignored += 1;
                continue;
            };
            for route in routes {
                let mut h = match route {
                    Route::Flow(flow) => {
                        Hint::new(flow, req.connection, &ev.entity, &ev.id, Origin::Webhook, req.received_at)
                    }
                    Route::Source(key) => {
                        Hint::for_source(key, req.connection, &ev.entity, &ev.id, Origin::Webhook, req.received_at)
                    }
                };
                h.delivery_id = ev.delivery_id.clone();
                h.observed_version = ev.observed_version.clone();
                hints.push(h);
            }
        }
        let allowed = self.take_minute_budget(req.connection, hints.len(), req.received_at);
        if allowed < hints.len() {
            report.left_to_poll += hints.len() - allowed;
            hints.truncate(allowed);
            tracing::warn!(
                connection = req.connection,
                left = report.left_to_poll,
                "webhook hints over the per-minute cap are left to the scheduled poll"
            );
        }
        if !hints.is_empty() {
            engine.queue.enqueue(&hints).await?;
        }
        // Only now, with the hints durably queued, is the delivery recorded as seen.
        for key in &seen_keys {
            engine.store.first_delivery(req.connection, key, req.received_at, engine.config.delivery_ttl).await?;
        }
        report.enqueued = hints.len();
        Ok(report)
    }

    /// Take up to `want` hints from the connection's budget for this minute; how many were granted.
    fn take_minute_budget(&self, connection: &str, want: usize, now: DateTime<Utc>) -> usize {
        let minute = now.timestamp() / 60;
        let mut g = self.per_minute.lock().unwrap_or_else(|p| p.into_inner());
        let c = g.entry(connection.to_string()).or_default();
        if c.minute != minute {
            *c = MinuteCount { minute, taken: 0 };
        }
        let granted = want.min(self.max_hints_per_minute.saturating_sub(c.taken));
        c.taken += granted;
        granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::EngineConfig;
    use crate::engine::memory::{MemoryQueue, MemoryStore};
    use crate::engine::ports::{ManualClock, Queue};
    use crate::testkit::t0;

    /// A source that accepts a shared-secret header and a JSON body `{"id": "...", "delivery": "..."}`.
    struct HeaderSecret;

    impl WebhookSource for HeaderSecret {
        fn system(&self) -> &str {
            "src"
        }
        fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
            let got = req.header("x-secret").unwrap_or("");
            if constant_time_eq(got.as_bytes(), b"s3cret-value") {
                Ok(())
            } else {
                Err(IntakeError::Unauthorized("x-secret header missing or wrong".into()))
            }
        }
        fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> {
            let v: serde_json::Value = serde_json::from_slice(req.body)
                .map_err(|e| IntakeError::BadBody(format!("src webhook body is not JSON: {e}")))?;
            let id = v["id"].as_str().ok_or_else(|| IntakeError::BadBody("src webhook body has no \"id\"".into()))?;
            Ok(vec![WebhookEvent {
                event_type: "Thing/Updated".into(),
                entity: v["entity"].as_str().unwrap_or("bill").into(),
                id: id.into(),
                delivery_id: v["delivery"].as_str().map(str::to_string),
                observed_version: None,
            }])
        }
    }

    fn setup() -> (Engine, MemoryQueue, Intake) {
        let clock = ManualClock::new(t0());
        let q = MemoryQueue::new(Arc::new(clock.clone()), 5);
        let e =
            Engine::new(Arc::new(MemoryStore::new()), Arc::new(q.clone()), Arc::new(clock), EngineConfig::default());
        let mut intake = Intake::new();
        intake.add_source("src", Arc::new(HeaderSecret));
        intake.route("src", "bill", "flow-a");
        intake.route("src", "bill", "flow-b");
        intake.max_body = 200;
        (e, q, intake)
    }

    fn req<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> WebhookRequest<'a> {
        WebhookRequest { connection: "src", headers, body, received_at: t0() }
    }

    #[tokio::test]
    async fn verified_event_becomes_one_hint_per_flow_and_duplicates_are_dropped() {
        let (e, q, intake) = setup();
        let h = vec![("x-secret".to_string(), "s3cret-value".to_string())];
        let body = br#"{"id":"B1","delivery":"d-1"}"#;
        let r = intake.handle(&e, &req(&h, body)).await.unwrap();
        assert_eq!((r.events, r.enqueued, r.duplicates), (1, 2, 0));
        let r = intake.handle(&e, &req(&h, body)).await.unwrap();
        assert_eq!((r.enqueued, r.duplicates), (0, 1));
        let got = q.receive(10, std::time::Duration::from_secs(5)).await.unwrap();
        let flows: Vec<&str> = got.iter().map(|d| d.hint.flow.as_str()).collect();
        assert_eq!(flows, ["flow-a", "flow-b"]);
        assert!(got.iter().all(|d| d.hint.origin == Origin::Webhook && d.hint.id == "B1"));
    }

    #[tokio::test]
    async fn bad_secret_is_401_with_no_detail_and_body_is_not_parsed() {
        let (e, _q, intake) = setup();
        let h = vec![("x-secret".to_string(), "wrong".to_string())];
        let err = intake.handle(&e, &req(&h, b"not even json")).await.unwrap_err();
        assert_eq!(err.status(), 401, "verification comes before parsing");
        assert_eq!(err.public_message(), "");
    }

    #[tokio::test]
    async fn oversize_is_413_before_verification_and_garbage_after_verification_is_400() {
        let (e, _q, intake) = setup();
        let h = vec![("x-secret".to_string(), "s3cret-value".to_string())];
        let big = vec![b'x'; 201];
        assert_eq!(intake.handle(&e, &req(&[], &big)).await.unwrap_err().status(), 413);
        let err = intake.handle(&e, &req(&h, b"{oops")).await.unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.public_message().contains("not JSON"));
        let unrouted = br#"{"id":"X","entity":"widget"}"#;
        assert_eq!(intake.handle(&e, &req(&h, unrouted)).await.unwrap().ignored, 1);
        let other = WebhookRequest { connection: "nope", headers: &h, body: b"{}", received_at: t0() };
        let err = intake.handle(&e, &other).await.unwrap_err();
        assert_eq!(err.status(), 404);
        assert_eq!(err.public_message(), "not found", "a 404 does not list the connections that exist");
    }

    /// A queue whose next enqueue fails (a cut request, a throttled SQS).
    struct FlakyQueue {
        inner: MemoryQueue,
        fail_next: std::sync::atomic::AtomicBool,
    }

    #[async_trait::async_trait]
    impl Queue for FlakyQueue {
        async fn enqueue(&self, hints: &[Hint]) -> Result<(), StoreError> {
            if self.fail_next.swap(false, std::sync::atomic::Ordering::SeqCst) {
                return Err(StoreError::Unavailable("queue throttled".into()));
            }
            self.inner.enqueue(hints).await
        }
        async fn receive(
            &self,
            max: usize,
            lease: std::time::Duration,
        ) -> Result<Vec<crate::engine::ports::Delivery>, StoreError> {
            self.inner.receive(max, lease).await
        }
        async fn ack(&self, d: &crate::engine::ports::Delivery) -> Result<(), StoreError> {
            self.inner.ack(d).await
        }
        async fn retry_later(
            &self,
            d: &crate::engine::ports::Delivery,
            delay: std::time::Duration,
        ) -> Result<(), StoreError> {
            self.inner.retry_later(d, delay).await
        }
        async fn depth(&self) -> Result<crate::engine::ports::QueueDepth, StoreError> {
            self.inner.depth().await
        }
    }

    #[tokio::test]
    async fn a_delivery_whose_enqueue_failed_is_taken_again_on_the_vendors_retry() {
        let clock = ManualClock::new(t0());
        let inner = MemoryQueue::new(Arc::new(clock.clone()), 5);
        let q = Arc::new(FlakyQueue { inner: inner.clone(), fail_next: true.into() });
        let e = Engine::new(Arc::new(MemoryStore::new()), q, Arc::new(clock), EngineConfig::default());
        let mut intake = Intake::new();
        intake.add_source("src", Arc::new(HeaderSecret));
        intake.route("src", "bill", "flow-a");
        let h = vec![("x-secret".to_string(), "s3cret-value".to_string())];
        let body = br#"{"id":"B1","delivery":"d-1"}"#;
        let err = intake.handle(&e, &req(&h, body)).await.unwrap_err();
        assert_eq!(err.status(), 503, "the vendor is told to retry");
        let r = intake.handle(&e, &req(&h, body)).await.unwrap();
        assert_eq!((r.enqueued, r.duplicates), (1, 0), "the retry is not mistaken for a duplicate");
        let r = intake.handle(&e, &req(&h, body)).await.unwrap();
        assert_eq!((r.enqueued, r.duplicates), (0, 1), "once queued, a repeat is a duplicate");
        assert_eq!(inner.receive(10, std::time::Duration::from_secs(5)).await.unwrap().len(), 1);
    }

    /// A source whose body is a JSON array of ids: one event per id.
    struct Many;

    impl WebhookSource for Many {
        fn system(&self) -> &str {
            "src"
        }
        fn verify(&self, _req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
            Ok(())
        }
        fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> {
            let ids: Vec<String> = serde_json::from_slice(req.body).map_err(|e| IntakeError::BadBody(e.to_string()))?;
            Ok(ids
                .into_iter()
                .map(|id| WebhookEvent {
                    event_type: "Bill/Updated".into(),
                    entity: "bill".into(),
                    delivery_id: Some(format!("d-{id}")),
                    id,
                    observed_version: None,
                })
                .collect())
        }
    }

    #[tokio::test]
    async fn events_over_the_caps_are_left_to_the_poll_and_counted() {
        let clock = ManualClock::new(t0());
        let q = MemoryQueue::new(Arc::new(clock.clone()), 5);
        let e =
            Engine::new(Arc::new(MemoryStore::new()), Arc::new(q.clone()), Arc::new(clock), EngineConfig::default());
        let mut intake = Intake::new();
        intake.add_source("src", Arc::new(Many));
        intake.route("src", "bill", "flow-a");
        intake.max_events_per_delivery = 10;
        intake.max_hints_per_minute = 15;
        let ids: Vec<String> = (0..25).map(|i| format!("B{i}")).collect();
        let body = serde_json::to_vec(&ids).unwrap();
        let r = intake.handle(&e, &req(&[], &body)).await.unwrap();
        assert_eq!((r.events, r.enqueued, r.left_to_poll), (25, 10, 15), "one delivery: at most 10");
        let ids: Vec<String> = (100..110).map(|i| format!("B{i}")).collect();
        let body = serde_json::to_vec(&ids).unwrap();
        let r = intake.handle(&e, &req(&[], &body)).await.unwrap();
        assert_eq!((r.enqueued, r.left_to_poll), (5, 5), "per connection: at most 15 a minute");
        assert_eq!(q.depth().await.unwrap().ready, 15);
    }

    #[test]
    fn constant_time_eq_compares_lengths_and_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
