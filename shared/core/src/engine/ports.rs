//! Ports: what the engine needs from the world. Each has an embedded adapter (`mlc-local`: SQLite,
//! encrypted file), an AWS adapter (`mlc-aws`: DynamoDB, SQS, Secrets Manager) and an in-memory
//! twin here ([`crate::engine::memory`]) for tests. [`crate::testkit`] holds the conformance suites
//! every adapter must pass, so the three behave alike.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::engine::model::{
    AuditEntry, Claim, Cursor, Hint, ItemFilter, ItemKey, NewItem, StateCount, Transition, WorkItem,
};
use crate::mapping::{Mapping, MappingKey};
use crate::secret::Credentials;

/// A store or queue failure. `Unavailable` is worth retrying; the others are bugs or bad state
/// that a person must see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The claim this worker relied on is gone (lapsed and taken by another worker). The other
    /// worker owns the item now; this one must stop touching it.
    #[error("claim on {key} lost: now held by {holder}")]
    ClaimLost { key: String, holder: String },
    #[error("no work item {0}")]
    NotFound(String),
    /// Transient: database busy, throttled, network. Retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The stored data cannot be read (corrupt file, schema from a newer version ...).
    #[error("store corrupt or unreadable: {0}")]
    Corrupt(String),
    #[error("store error: {0}")]
    Other(String),
}

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimResult {
    /// The caller owns the item until the lock expires. `attempts` was incremented.
    Acquired(WorkItem),
    /// Another worker holds a live claim.
    Held { owner: String, until: DateTime<Utc> },
    /// The item is terminal (posted/skipped): nothing to do.
    Finished(WorkItem),
}

/// Durable state: work items with claims and audit trails, cursors, mappings, delivery dedup.
#[async_trait]
pub trait Store: Send + Sync {
    /// Insert a pending item if its key is new; otherwise note the hint's origin on the existing
    /// item (seen by webhook / by poll) and move its `read_at` forward to the new read. Returns the stored item and whether it was created now.
    async fn register(&self, item: NewItem, now: DateTime<Utc>) -> Result<(WorkItem, bool), StoreError>;

    /// Conditional claim: succeeds when the item is not terminal and has no live claim (none, or
    /// lapsed before `now`). On success the claim is `owner` until `until` and `attempts` + 1;
    /// an audit entry `claimed` is written in the same step.
    async fn claim(
        &self,
        key: &ItemKey,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimResult, StoreError>;

    /// Change state, fenced by the claim: allowed when `owner` holds the claim, or when nobody
    /// holds a live one. Writes `t.audit` in the same step. Returns the updated item.
    async fn transition(
        &self,
        key: &ItemKey,
        owner: &str,
        t: Transition,
        now: DateTime<Utc>,
    ) -> Result<WorkItem, StoreError>;

    async fn get_item(&self, key: &ItemKey) -> Result<Option<WorkItem>, StoreError>;

    /// Several items by key, in any order; keys with no item are left out. The default reads
    /// them one by one; a store that can read many in one request (DynamoDB's `BatchGetItem`)
    /// says so.
    async fn get_items(&self, keys: &[ItemKey]) -> Result<Vec<WorkItem>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(item) = self.get_item(k).await? {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// Items passing `filter`, most recently updated first, at most `filter.limit`.
    async fn list_items(&self, filter: &ItemFilter) -> Result<Vec<WorkItem>, StoreError>;

    /// Counts per flow and state with the oldest `updated_at` of each group.
    async fn state_counts(&self) -> Result<Vec<StateCount>, StoreError>;

    /// Items in `needs_mapping` whose missing keys include `key`.
    async fn items_waiting_for(&self, key: &MappingKey) -> Result<Vec<WorkItem>, StoreError>;

    /// Items holding this natural key in the target connection `scope`, whichever flow wrote
    /// them: posted, or in doubt (a create whose answer was lost). Items written before natural keys
    /// were scoped (no `nk_scope`) are found through `legacy_flow`, the flow asking.
    async fn holding_natural_key(
        &self,
        scope: &str,
        legacy_flow: &str,
        natural_key: &str,
    ) -> Result<Vec<WorkItem>, StoreError>;

    /// Non-terminal items for the same source document (other versions), for superseding,
    /// leaving out `except` (the caller's own item: a store that finds only that one reads no item).
    async fn open_versions(
        &self,
        flow: &str,
        system: &str,
        doc_id: &str,
        except: Option<&ItemKey>,
    ) -> Result<Vec<WorkItem>, StoreError>;

    /// Append a line to an item's trail without changing its state.
    async fn append_audit(&self, key: &ItemKey, entry: AuditEntry) -> Result<(), StoreError>;

    /// The item's trail, oldest first.
    async fn audit_trail(&self, key: &ItemKey) -> Result<Vec<AuditEntry>, StoreError>;

    /// Keep a large body once, by its SHA-256 (hex). Idempotent.
    async fn put_blob(&self, sha256: &str, body: &[u8]) -> Result<(), StoreError>;
    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;

    async fn get_cursor(&self, flow: &str) -> Result<Option<Cursor>, StoreError>;

    /// Set the cursor to `new` only if it currently equals `expected` (`None` = no cursor yet).
    /// Returns false, changing nothing, when another poller moved it first.
    async fn cas_cursor(&self, flow: &str, expected: Option<&str>, new: &Cursor) -> Result<bool, StoreError>;

    async fn list_cursors(&self) -> Result<Vec<Cursor>, StoreError>;

    async fn put_mapping(&self, mapping: &Mapping) -> Result<(), StoreError>;
    async fn get_mappings(&self, keys: &[MappingKey]) -> Result<Vec<Mapping>, StoreError>;
    /// All mappings, or those of one scope, ordered by key.
    async fn list_mappings(&self, scope: Option<&str>) -> Result<Vec<Mapping>, StoreError>;
    async fn delete_mapping(&self, key: &MappingKey) -> Result<bool, StoreError>;

    /// Take a named lock until `until` unless another owner holds a live one. Returns `None` when
    /// acquired (or re-acquired by the same owner), otherwise the current holder. The engine locks
    /// a target natural key from lookup to the recorded outcome, so two items (two versions of a
    /// document, or two documents with the same supplier invoice number) cannot both create it.
    async fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError>;

    /// Release a lock held by `owner` (a no-op if someone else holds it now).
    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError>;

    /// Whether a webhook delivery id was recorded (and has not expired) — read only. Intake asks
    /// this first and records the id only after the delivery's hints are enqueued, so a delivery
    /// whose enqueue failed is taken again when the vendor retries it. The default says "not seen"
    /// (an adapter without it enqueues a repeat once more: harmless, the claims dedupe).
    async fn delivery_seen(&self, system: &str, delivery_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let _ = (system, delivery_id, now);
        Ok(false)
    }

    /// Record a webhook delivery id; true the first time it is seen within `ttl`, false for a repeat.
    async fn first_delivery(
        &self,
        system: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// The last observed source version fully processed for a record (see [`Hint::observed_version`]).
    async fn seen_version(&self, record_key: &str) -> Result<Option<String>, StoreError>;
    async fn set_seen_version(&self, record_key: &str, version: &str) -> Result<(), StoreError>;
}

/// A message taken off a queue, to be acknowledged or retried later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Opaque handle for `ack` / `retry_later` (SQS receipt handle, local lease token).
    pub receipt: String,
    pub hint: Hint,
    /// How many times this message has been handed out, this time included.
    pub receive_count: u32,
}

/// How many messages wait where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueueDepth {
    /// Ready to be received now.
    pub ready: u64,
    /// Received and not yet acknowledged.
    pub in_flight: u64,
    /// Waiting for a delay to pass.
    pub delayed: u64,
    /// Given up after too many receives (dead-letter).
    pub dead: u64,
}

/// The work queue between intake (webhook, poll, replay) and the poster.
#[async_trait]
pub trait Queue: Send + Sync {
    /// Durably add hints. A hint that [`Hint::collapses_with`] a message that is waiting (ready,
    /// not in flight) is folded into it: the waiting message becomes [`Hint::merged_with`].
    async fn enqueue(&self, hints: &[Hint]) -> Result<(), StoreError>;

    /// Take up to `max` ready messages, hidden from other receivers for `lease`.
    async fn receive(&self, max: usize, lease: Duration) -> Result<Vec<Delivery>, StoreError>;

    /// Done with it: remove.
    async fn ack(&self, delivery: &Delivery) -> Result<(), StoreError>;

    /// Make it visible again after `delay`.
    async fn retry_later(&self, delivery: &Delivery, delay: Duration) -> Result<(), StoreError>;

    async fn depth(&self) -> Result<QueueDepth, StoreError>;
}

/// Where connection credentials live (encrypted file locally, Secrets Manager on AWS).
#[async_trait]
pub trait SecretStore: Send + Sync {
    async fn get(&self, connection: &str) -> Result<Option<Credentials>, StoreError>;
    async fn put(&self, connection: &str, credentials: &Credentials) -> Result<(), StoreError>;
    async fn list(&self) -> Result<Vec<String>, StoreError>;
    async fn delete(&self, connection: &str) -> Result<bool, StoreError>;
}

/// The time. Injected so tests (and simulators) can move it.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Wall-clock time.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock(Arc::new(Mutex::new(start)))
    }

    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *t += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
