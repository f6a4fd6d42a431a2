//! The work-item engine: one pipeline for every flow, in every home (Lambda or `mlc`).
//!
//! For each hint taken off the queue the engine:
//! 1. skips it without a read-back when its observed source version was already processed;
//! 2. reads the record back from the source (never trusting the hint) — one record may hold several
//!    documents, each a work item keyed `flow#system#doc#version`;
//! 3. registers each document (a webhook and a poll that find the same version collapse here) and
//!    supersedes older open versions of it;
//! 4. claims it with a lock that lapses if this worker dies;
//! 5. checks eligibility, loads the mappings the flow declared and maps (missing mappings park the
//!    item in `needs_mapping`, indexed by key, until [`Engine::add_mapping`] releases it);
//! 6. looks the document up in the target by natural key before writing anything;
//! 7. writes an `in_doubt` marker, sends the create, and records `posted` with the target's ids —
//!    a crash or a lost answer between the two leaves the item `in_doubt`, and the next attempt
//!    resolves it by lookup (after a settle delay) instead of sending the create again.
//!
//! Every state change goes to the item's audit trail with the HTTP exchanges that caused it.
//! Read-back happens before the claim: it is a safe read, and it is what tells us the version that
//! forms the key. Store errors abort the hint (it is retried); they never leave a half-written state
//! because each store call is atomic and each step is re-entrant.

pub mod capture;
pub mod cursor;
pub mod flow;
pub mod intake;
pub mod ledger;
pub mod memory;
pub mod model;
pub mod parts;
pub mod ports;
pub mod sequence;
pub mod timing;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tracing::{Instrument, info_span, warn};

use crate::mapping::{Mapping, MappingKey, MappingSet};
use capture::capture;
use flow::{
    DiscoverContext, DiscoveryPage, Eligibility, ErrorClass, Flow, FlowSpec, MapError, Plan, ReadBack, SourceDoc,
    StepError,
};
use model::{
    AuditEntry, BodyRef, Conflict, Cursor, DocFacts, Exchange, FailureClass, Hint, ItemFilter, ItemKey, ItemState,
    NewItem, Origin, Resolution, TargetRef, Transition, WorkItem, codes,
};
use parts::{Discoverer, FlowDef, GroupBuilder, ReadContext, SourceRunner, StoreBlobs};
use ports::{ClaimResult, Clock, Delivery, Queue, Store, StoreError};

/// Tunables. Defaults suit production; tests shorten them.
#[derive(Debug, Clone, Serialize)]
pub struct EngineConfig {
    /// How long a claim lasts. Longer than the slowest step (HTTP timeouts are 30 s).
    pub lock_ttl: Duration,
    /// Attempts before a retryable failure is given up and left for a person.
    pub max_attempts: u32,
    /// How long after a lost create answer the engine trusts a negative lookup.
    pub in_doubt_settle: Duration,
    /// Backoff for retryable failures: full jitter over `base * 2^(attempt-1)`, capped.
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Delay after a credentials failure.
    pub auth_retry: Duration,
    /// How soon to look again when another worker holds the item or its natural key (it normally
    /// finishes in moments; waiting for its lock to lapse would stall the record).
    pub busy_retry: Duration,
    /// Bodies larger than this are stored once by hash instead of inline in the audit entry.
    pub inline_body_limit: usize,
    /// How long webhook delivery ids are remembered for dedup.
    pub delivery_ttl: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            lock_ttl: Duration::from_secs(300),
            max_attempts: 8,
            in_doubt_settle: Duration::from_secs(60),
            retry_base: Duration::from_secs(30),
            retry_cap: Duration::from_secs(3600),
            auth_retry: Duration::from_secs(300),
            busy_retry: Duration::from_secs(5),
            inline_body_limit: 4096,
            delivery_ttl: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Failures of the engine itself (not of a document).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("flow {flow}: discovery failed: {error}")]
    Discovery { flow: String, error: StepError },
    #[error("flow {flow}: the cursor was moved by another poller; this poll stopped after enqueueing")]
    CursorMoved { flow: String },
    #[error("unknown flow {0:?}")]
    UnknownFlow(String),
    #[error("flow {flow} is not available: {reason}")]
    Unavailable { flow: String, reason: String },
    #[error("item {key} is {state}, not waiting for review")]
    NotReviewable { key: String, state: ItemState },
}

/// A person's decision on a possible duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// Both are real bills: post this one under another number (e.g. with a suffix).
    PostAs(String),
    /// Leave it out.
    Skip,
    /// It is the bill the target already holds.
    SameDocument,
}

/// What happened to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DocOutcome {
    Posted,
    /// Ineligible, or already in the target (written by someone else).
    Skipped,
    /// Already done by ml-connector (terminal item, or posted under another version): a duplicate prevented.
    Duplicate,
    NeedsMapping,
    /// Held for a person: a different document already holds its natural key in the target.
    NeedsReview,
    FailedRetryable,
    FailedPermanent,
    InDoubt,
    /// Another worker holds the claim.
    Busy,
}

/// What handling one hint did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HintReport {
    pub docs: Vec<(ItemKey, DocOutcome)>,
    /// Put the hint back on the queue for this long (something is retryable).
    pub retry_after: Option<Duration>,
    /// Why nothing was done, when nothing was.
    pub note: Option<String>,
}

/// What a poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PollReport {
    /// The cursor polled: a shared source (`cin7/purchase`) or a flow that reads on its own.
    pub flow: String,
    pub pages: u32,
    pub hints: usize,
    pub cursor: Option<String>,
    /// Stopped at the engine's poll deadline before listing another page (every page listed was
    /// enqueued and its cursor saved; the next poll goes on from there).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub cut_short: bool,
}

/// What adding a mapping released.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseReport {
    /// Items re-queued because nothing else is missing.
    pub released: Vec<ItemKey>,
    /// Items still waiting for other mappings.
    pub still_waiting: Vec<ItemKey>,
}

/// What a sweep re-enqueued.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    pub requeued: Vec<ItemKey>,
}

/// What a replay request did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplayReport {
    pub requeued: Vec<ItemKey>,
    /// Posted items are not replayed (they are in the target already).
    pub not_replayed: Vec<(ItemKey, String)>,
}

/// What draining the queue did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    pub hints: u64,
    pub outcomes: BTreeMap<DocOutcome, u64>,
    pub retried_hints: u64,
    pub errors: Vec<String>,
}

/// The state of everything, for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    pub counts: Vec<model::StateCount>,
    /// Sources' and flows' cursors (the engine's own counters and memories are left out).
    pub cursors: Vec<Cursor>,
    /// Each flow's last run ledger.
    pub ledgers: Vec<ledger::FlowLedger>,
    pub queue: ports::QueueDepth,
    /// (flow, state, since) of the longest-waiting non-terminal group.
    pub oldest_open: Option<(String, ItemState, DateTime<Utc>)>,
}

/// A flow with its types erased, so one registry can hold them all.
#[async_trait]
pub trait FlowRunner: Send + Sync {
    fn spec(&self) -> &FlowSpec;
    async fn handle(&self, engine: &Engine, hint: &Hint) -> Result<HintReport, EngineError>;
    async fn poll(&self, engine: &Engine) -> Result<PollReport, EngineError>;
}

#[async_trait]
impl<F: Flow> FlowRunner for F {
    fn spec(&self) -> &FlowSpec {
        Flow::spec(self)
    }
    async fn handle(&self, engine: &Engine, hint: &Hint) -> Result<HintReport, EngineError> {
        engine.handle(self, hint).await
    }
    async fn poll(&self, engine: &Engine) -> Result<PollReport, EngineError> {
        engine.poll(self).await
    }
}

/// The flows a runtime runs, by name, and the shared sources they read, by key.
#[derive(Clone, Default)]
pub struct FlowRegistry {
    flows: BTreeMap<String, Arc<dyn FlowRunner>>,
    sources: BTreeMap<String, Arc<dyn SourceRunner>>,
}

/// Builds a [`FlowRegistry`]: flows made of parts share their sources' groups.
#[derive(Default)]
pub struct RegistryBuilder {
    flows: BTreeMap<String, Arc<dyn FlowRunner>>,
    groups: GroupBuilder,
}

impl RegistryBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a flow declared as source + [`FlowDef`] + target. Flows whose sources have the same
    /// key (connection + record family) read each record once between them.
    pub fn add_parts<D: FlowDef>(
        &mut self,
        def: D,
        source: Arc<D::Source>,
        target: Arc<D::Target>,
    ) -> Result<(), String> {
        let flow = Arc::new(parts::Composed::new(def, source, target));
        let name = Flow::spec(flow.as_ref()).name.clone();
        if self.flows.contains_key(&name) {
            return Err(format!("flow {name} is defined twice"));
        }
        self.groups.add(flow.clone())?;
        self.flows.insert(name, flow);
        Ok(())
    }

    /// Add a flow that reads on its own (tests, tools).
    pub fn add(&mut self, flow: Arc<dyn FlowRunner>) {
        self.flows.insert(flow.spec().name.clone(), flow);
    }

    pub fn build(self) -> FlowRegistry {
        FlowRegistry { flows: self.flows, sources: self.groups.finish() }
    }
}

impl FlowRegistry {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, flow: Arc<dyn FlowRunner>) {
        self.flows.insert(flow.spec().name.clone(), flow);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn FlowRunner>> {
        self.flows.get(name)
    }

    /// The shared source a flow reads (when it reads one).
    pub fn source_of(&self, flow: &str) -> Option<&Arc<dyn SourceRunner>> {
        let key = &self.flows.get(flow)?.spec().source;
        self.sources.get(key)
    }

    pub fn source(&self, key: &str) -> Option<&Arc<dyn SourceRunner>> {
        self.sources.get(key)
    }

    /// The shared sources, by key.
    pub fn sources(&self) -> impl Iterator<Item = (&str, &Arc<dyn SourceRunner>)> {
        self.sources.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// One poll of the cursor `flow` moves: its shared source (which serves every flow on it),
    /// or the flow itself.
    pub async fn poll(&self, engine: &Engine, flow: &str) -> Result<PollReport, EngineError> {
        if let Some(src) = self.source_of(flow) {
            return src.poll(engine).await;
        }
        let f = self.flows.get(flow).ok_or_else(|| EngineError::UnknownFlow(flow.to_string()))?;
        f.poll(engine).await
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.flows.keys().map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn FlowRunner>> {
        self.flows.values()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }
}

/// The engine: ports plus configuration. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    pub config: EngineConfig,
    /// This worker's name in claims and audit entries.
    pub worker: String,
    /// When set, everything this engine works is counted in a run ledger.
    pub ledger: Option<ledger::LedgerRecorder>,
    /// When set, a poll lists no page after this instant ([`Engine::with_poll_deadline`]).
    pub poll_deadline: Option<tokio::time::Instant>,
}

/// Where each flow's last run ledger is kept (`memo#ledger#<flow>`).
const LEDGER_MEMO: &str = "ledger#";

/// The version of the item that stands for a record whose read-back failed or found it gone.
pub(crate) const UNREAD: &str = "unread";

/// A flow that reads on its own, as a [`Discoverer`].
struct FlowDiscoverer<'a, F: Flow>(&'a F);

#[async_trait]
impl<F: Flow> Discoverer for FlowDiscoverer<'_, F> {
    async fn discover_page(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.0.discover_in(cursor, ctx).await
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn until(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or(Duration::ZERO)
}

/// Outcome of one document plus how soon to look again.
type DocResult = Result<(DocOutcome, Option<Duration>), EngineError>;

impl Engine {
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>, clock: Arc<dyn Clock>, config: EngineConfig) -> Self {
        let worker = format!("{}-{}", std::process::id(), &uuid::Uuid::new_v4().simple().to_string()[..8]);
        Engine { store, queue, clock, config, worker, ledger: None, poll_deadline: None }
    }

    /// Count what this engine works in `ledger` (a run's ledger).
    pub fn with_ledger(mut self, ledger: ledger::LedgerRecorder) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// Polls stop at `deadline`, between pages: a page whose listing has not returned by then is
    /// abandoned (nothing was enqueued for it), and a page that has returned is always enqueued and
    /// its cursor saved before the poll ends ([`PollReport::cut_short`]). A caller that cut a poll
    /// from outside instead could interrupt it between the enqueue and the cursor move, and the
    /// next poll would list that page again (a second vendor call, duplicate hints).
    pub fn with_poll_deadline(mut self, deadline: tokio::time::Instant) -> Self {
        self.poll_deadline = Some(deadline);
        self
    }

    pub fn with_worker(mut self, worker: impl Into<String>) -> Self {
        self.worker = worker.into();
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A fresh owner token per claim: tasks of one process must not share a claim.
    fn claim_token(&self) -> String {
        format!("{}#{}", self.worker, &uuid::Uuid::new_v4().simple().to_string()[..12])
    }

    /// Who writes to `item`: the claim token when this worker holds its claim, else the worker
    /// name (allowed by the store only while nobody holds a live claim).
    fn owner_for(&self, item: &WorkItem) -> String {
        match &item.claim {
            Some(c) if c.owner.starts_with(&format!("{}#", self.worker)) => c.owner.clone(),
            _ => self.worker.clone(),
        }
    }

    /// When to look again at a natural key another item is writing until `held_until`: soon (that
    /// write normally ends in moments).
    fn busy_wait(&self, now: DateTime<Utc>, held_until: DateTime<Utc>) -> Duration {
        until(now, held_until).min(self.config.busy_retry).max(Duration::from_millis(200))
    }

    /// When to look again at an item whose claim another worker holds until `held_until`: when
    /// that claim lapses. The holder settles the item itself; this message only matters if the
    /// holder died, and then not before its claim lapses. (Retrying sooner only spends queue
    /// receives: on SQS five quick looks would dead-letter the message while the item waits.)
    fn claim_wait(&self, now: DateTime<Utc>, held_until: DateTime<Utc>) -> Duration {
        until(now, held_until) + Duration::from_secs(1)
    }

    /// Full-jitter exponential backoff for the `attempt`-th failure (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.config.retry_base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let cap = exp.min(self.config.retry_cap);
        let ms = cap.as_millis() as u64;
        // At least a second, so a hot loop cannot form.
        Duration::from_millis(rand::random_range(ms / 2..=ms.max(1))).max(Duration::from_secs(1))
    }

    // ---------------------------------------------------------------- poll

    /// Discover changes since the flow's cursor, enqueue them, then advance the cursor — in that
    /// order, page by page, so a crash never moves the cursor past hints that were not enqueued.
    pub async fn poll<F: Flow>(&self, flow: &F) -> Result<PollReport, EngineError> {
        let spec = flow.spec();
        if let Some(l) = &self.ledger {
            l.reads(&spec.name, &spec.name);
        }
        let now = self.now();
        let start = spec.lookback.and_then(|l| chrono::Duration::from_std(l).ok()).map(|l| now - l);
        let ctx = DiscoverContext { now, start };
        self.poll_cursor(&spec.name, &[], &ctx, &FlowDiscoverer(flow)).await
    }

    /// The poll loop behind [`Engine::poll`] and shared sources: page by page, discover since the
    /// cursor named `name`, enqueue, then compare-and-set the cursor. A source with no cursor of its
    /// own yet takes over the cursor of the one flow that polled it alone before sources were shared
    /// (`legacy`), so an upgrade neither re-reads history nor skips anything. `legacy` names the
    /// flows reading this cursor (a flow that reads on its own passes none: it is `name`); their
    /// failed read-backs hold the cursor ([`cursor`] module doc): while one does, the poll lists
    /// from the held position and saves the hold instead of the position it reached.
    pub async fn poll_cursor(
        &self,
        name: &str,
        legacy: &[String],
        ctx: &DiscoverContext,
        source: &dyn Discoverer,
    ) -> Result<PollReport, EngineError> {
        let name = name.to_string();
        let mut report = PollReport { flow: name.clone(), ..Default::default() };
        if self.store.get_cursor(&name).await?.is_none() {
            let mut found = Vec::new();
            for l in legacy {
                if let Some(c) = self.store.get_cursor(l).await? {
                    found.push(c);
                }
            }
            if let [only] = found.as_slice() {
                let adopted = Cursor { flow: name.clone(), value: only.value.clone(), updated_at: self.now() };
                self.store.cas_cursor(&name, None, &adopted).await?;
            }
        }
        let flows: Vec<String> = if legacy.is_empty() { vec![name.clone()] } else { legacy.to_vec() };
        let span = info_span!("poll", cursor = %name);
        async {
            // `stored`: the value in the store (compare-and-set); `pos`: where the next page lists from.
            let mut stored = self.store.get_cursor(&name).await?.map(|c| c.value);
            let held = stored.as_deref().and_then(cursor::CursorHold::parse);
            let (mut pos, ctx) = match &held {
                Some(h) => {
                    let (pos, start) = h.listing_position();
                    let start = if pos.is_some() { ctx.start } else { start };
                    (pos, DiscoverContext { now: ctx.now, start })
                }
                None => (stored.clone(), ctx.clone()),
            };
            // Still held? (Only looked up when the cursor says so: a failed read sets the hold.)
            // The failed reads are retried: their hints go on the queue again.
            let mut hold = None;
            if held.is_some() {
                let (earliest, failed) = self.active_holds(&name, &flows).await?;
                if !failed.is_empty() {
                    let hints: Vec<Hint> = failed.iter().map(|i| i.hint.clone()).collect();
                    self.queue.enqueue(&hints).await?;
                    if let Some(l) = &self.ledger {
                        for h in &hints {
                            l.listed(&name, &h.id);
                        }
                    }
                    report.hints += hints.len();
                }
                hold = earliest.map(|h| cursor::CursorHold { resume: pos.clone(), ..h });
            }
            let listing = model::Listing { cursor: name.clone(), from: pos.clone(), start: ctx.start, at: ctx.now };
            loop {
                let at = pos.as_ref().map(|v| Cursor { flow: name.clone(), value: v.clone(), updated_at: ctx.now });
                let listed = capture(source.discover_page(at.as_ref(), &ctx));
                let (page, _) = match self.poll_deadline {
                    None => listed.await,
                    Some(deadline) => match tokio::time::timeout_at(deadline, listed).await {
                        Ok(page) => page,
                        Err(_) => {
                            report.cut_short = true;
                            report.cursor = stored.clone();
                            return Ok(report);
                        }
                    },
                };
                let mut page = page.map_err(|error| EngineError::Discovery { flow: name.clone(), error })?;
                if !page.hints.is_empty() {
                    for h in page.hints.iter_mut().filter(|h| h.listed.is_none()) {
                        h.listed = Some(listing.clone());
                    }
                    self.queue.enqueue(&page.hints).await?;
                    if let Some(l) = &self.ledger {
                        for h in &page.hints {
                            l.listed(&name, &h.id);
                        }
                    }
                }
                report.pages += 1;
                report.hints += page.hints.len();
                if let Some(next) = page.next_cursor {
                    pos = Some(next.clone());
                    let save = match &mut hold {
                        Some(h) => {
                            h.resume = Some(next);
                            h.to_value()
                        }
                        None => next,
                    };
                    if stored.as_deref() != Some(save.as_str()) {
                        let new = Cursor { flow: name.clone(), value: save.clone(), updated_at: self.now() };
                        if !self.store.cas_cursor(&name, stored.as_deref(), &new).await? {
                            // A read that failed meanwhile held the cursor: the next poll lists from there.
                            let now = self.store.get_cursor(&name).await?;
                            if now.is_some_and(|c| cursor::CursorHold::parse(&c.value).is_some()) {
                                return Ok(report);
                            }
                            return Err(EngineError::CursorMoved { flow: name.clone() });
                        }
                        stored = Some(save);
                    }
                }
                report.cursor = stored.clone();
                if !page.has_more {
                    return Ok(report);
                }
            }
        }
        .instrument(span)
        .await
    }

    /// The records of the cursor `name` (read by `flows`) whose read-back failed and is not
    /// settled, and the hold of the earliest-listed of them.
    async fn active_holds(
        &self,
        name: &str,
        flows: &[String],
    ) -> Result<(Option<cursor::CursorHold>, Vec<WorkItem>), EngineError> {
        let mut best: Option<cursor::CursorHold> = None;
        let mut failed = Vec::new();
        for f in flows {
            let filter = ItemFilter { flow: Some(f.clone()), state: Some(ItemState::Failed), ..Default::default() };
            for item in self.store.list_items(&filter).await? {
                let Some(h) = cursor::CursorHold::of_item(&item, name) else { continue };
                if best.as_ref().is_none_or(|b| (h.listed_at, &h.held_by) < (b.listed_at, &b.held_by)) {
                    best = Some(h);
                }
                failed.push(item);
            }
        }
        Ok((best, failed))
    }

    /// A read-back of a listed record failed: hold the cursor it was listed under at that listing,
    /// unless it is held further back already or has not moved since that listing. `true` when
    /// this record now holds it.
    async fn hold_cursor(&self, listing: &model::Listing, key: &ItemKey) -> Result<bool, EngineError> {
        for _ in 0..3 {
            let Some(current) = self.store.get_cursor(&listing.cursor).await? else { return Ok(false) };
            let mut hold = cursor::CursorHold::at(listing, key);
            match cursor::CursorHold::parse(&current.value) {
                Some(h) if (h.listed_at, &h.held_by) <= (hold.listed_at, &hold.held_by) => return Ok(false),
                Some(h) => hold.resume = h.resume,
                // Not moved since the listing poll began: it has not passed the record.
                None if current.updated_at < listing.at => return Ok(false),
                None => hold.resume = Some(current.value.clone()),
            }
            let new = Cursor { flow: listing.cursor.clone(), value: hold.to_value(), updated_at: self.now() };
            if self.store.cas_cursor(&listing.cursor, Some(&current.value), &new).await? {
                warn!(cursor = %listing.cursor, item = %key, "cursor held at a record whose read-back failed");
                return Ok(true);
            }
        }
        Ok(false)
    }

    // ---------------------------------------------------------------- handle one hint

    /// Handle one hint end to end through one flow (reading the record back for it alone).
    /// `Err` only for failures of the engine's own ports; the hint is then retried as a whole,
    /// which is safe because every step is re-entrant. Hints from shared sources go through
    /// [`SourceRunner::handle`], which reads once for every flow.
    pub async fn handle<F: Flow>(&self, flow: &F, hint: &Hint) -> Result<HintReport, EngineError> {
        let name = &flow.spec().name;
        let span =
            info_span!("hint", flow = %name, system = %hint.system, record = %hint.id, origin = hint.origin.as_str());
        async {
            if let Some(v) = &hint.observed_version
                && self.store.seen_version(&hint.flow_record_key(name)).await?.as_deref() == Some(v.as_str())
            {
                if let Some(l) = &self.ledger {
                    l.worked(name, &hint.id, ledger::RecordOutcome::AlreadyProcessed);
                }
                return Ok(HintReport { note: Some(format!("version {v} already processed")), ..Default::default() });
            }
            let blobs = StoreBlobs(self.store.as_ref());
            let ctx = ReadContext { now: self.now(), blobs: &blobs };
            let (read, exchanges) = capture(flow.read_back_in(hint, &ctx)).await;
            let read_at = self.now();
            if let Ok(ReadBack::Found { continuation: Some(next), .. }) = &read {
                let mut more = hint.clone();
                more.part = Some(next.clone());
                more.observed_version = None;
                self.queue.enqueue(&[more]).await?;
            }
            self.process_read(flow, hint, read, exchanges, read_at).await
        }
        .instrument(span)
        .await
    }

    /// Work what a read-back found (or the error it met) through one flow: register, claim and
    /// post each document. Shared sources call this once per flow with the same read.
    pub async fn process_read<F: Flow>(
        &self,
        flow: &F,
        hint: &Hint,
        read: Result<ReadBack<SourceDoc<F::Record>>, StepError>,
        exchanges: Vec<Exchange>,
        read_at: DateTime<Utc>,
    ) -> Result<HintReport, EngineError> {
        let name = flow.spec().name.clone();
        // From here on the hint is this flow's (items keep it for replays and releases).
        let hint = &if hint.flow == name { hint.clone() } else { hint.clone().for_flow(&name) };
        let record_key = hint.record_key();
        if let Some(l) = &self.ledger {
            let outcome = match &read {
                Ok(ReadBack::Found { items, .. }) if items.is_empty() => ledger::RecordOutcome::NoDocument,
                Ok(ReadBack::Found { .. }) => ledger::RecordOutcome::Documents,
                _ => ledger::RecordOutcome::Unread,
            };
            l.worked(&name, &hint.id, outcome);
        }
        let docs = match read {
            Ok(ReadBack::Found { items, .. }) => items,
            Ok(ReadBack::Gone(why)) => return self.read_back_gone(flow, hint, why, exchanges).await,
            Err(e) => return self.read_back_failed(flow, hint, e, exchanges).await,
        };
        // A record that failed to read earlier has an `unread` item; it is settled now.
        if !docs.iter().any(|d| d.id == hint.id) {
            self.settle_unread(hint).await?;
        }
        // A re-run whose version the source no longer holds is stale: close it.
        if let Some(rerun) = &hint.rerun_of {
            let current = docs.iter().any(|d| &ItemKey::new(&hint.flow, &hint.system, &d.id, &d.version) == rerun);
            if !current
                && let Some(old) = self.store.get_item(rerun).await?
                && !old.state.is_terminal()
                && old.state != ItemState::InDoubt
            {
                self.close_superseded(&old, "the source holds a different version now").await?;
            }
        }
        if docs.is_empty() {
            if let Some(v) = &hint.observed_version {
                self.store.set_seen_version(&record_key, v).await?;
            }
            return Ok(HintReport {
                note: Some("the record holds no documents for this flow".into()),
                ..Default::default()
            });
        }

        let mut report = HintReport::default();
        for doc in docs {
            let key = ItemKey::new(&hint.flow, &hint.system, &doc.id, &doc.version);
            let span = info_span!("item", key = %key);
            let (outcome, retry) = self.process_doc(flow, hint, doc, read_at, &exchanges).instrument(span).await?;
            report.docs.push((key, outcome));
            if let Some(r) = retry {
                report.retry_after = Some(report.retry_after.map_or(r, |x| x.min(r)));
            }
        }
        if report.retry_after.is_none()
            && let Some(v) = &hint.observed_version
        {
            self.store.set_seen_version(&record_key, v).await?;
        }
        Ok(report)
    }

    /// The visible item that stands for a record whose read-back failed or found it gone:
    /// registered (once), claimed, and handed to `then`. `Busy`/`Duplicate` when someone else has it.
    async fn unread_item<F: Flow>(&self, flow: &F, hint: &Hint) -> Result<Result<WorkItem, HintReport>, EngineError> {
        let new = NewItem {
            hint: hint.clone(),
            entity: hint.entity.clone(),
            doc_id: hint.id.clone(),
            version: UNREAD.into(),
            summary: model::ItemSummary {
                label: format!("{} {} {} (could not be read)", flow.spec().source_system, hint.entity, hint.id),
                ..Default::default()
            },
            read_at: self.now(),
        };
        let (item, _) = self.store.register(new, self.now()).await?;
        let key = item.key.clone();
        let now = self.now();
        Ok(match self.store.claim(&key, &self.claim_token(), now, now + to_chrono(self.config.lock_ttl)).await? {
            ClaimResult::Acquired(item) => Ok(item),
            ClaimResult::Held { until: u, .. } => Err(HintReport {
                docs: vec![(key, DocOutcome::Busy)],
                retry_after: Some(self.claim_wait(now, u)),
                note: None,
            }),
            ClaimResult::Finished(_) => {
                Err(HintReport { docs: vec![(key, DocOutcome::Duplicate)], ..Default::default() })
            }
        })
    }

    /// Reading the record back failed. Nothing is lost: the record gets a visible `failed` item
    /// (cause and the source's answer in its trail) that retries by itself when the cause can
    /// clear, and that a person can replay.
    async fn read_back_failed<F: Flow>(
        &self,
        flow: &F,
        hint: &Hint,
        e: StepError,
        exchanges: Vec<Exchange>,
    ) -> Result<HintReport, EngineError> {
        warn!(error = %e.message, "read-back failed");
        let item = match self.unread_item(flow, hint).await? {
            Ok(item) => item,
            Err(report) => return Ok(report),
        };
        if let Some(l) = &self.ledger {
            l.document(&flow.spec().name, &item.key);
        }
        let step = format!("reading {} {} {} back", flow.spec().source_system, hint.entity, hint.id);
        let (outcome, retry) = self.step_failed_coded(&item, &step, e, exchanges, codes::READ_FAILED).await?;
        // Held only as the item now stands (a credentials failure, say, is coded apart and holds
        // nothing): the same test the next poll makes to keep or release the hold.
        if matches!(outcome, DocOutcome::FailedRetryable | DocOutcome::FailedPermanent)
            && let Some(listing) = item.hint.listed.as_ref().or(hint.listed.as_ref())
            && let Some(now) = self.store.get_item(&item.key).await?
            && cursor::CursorHold::of_item(&now, &listing.cursor).is_some()
            && self.hold_cursor(listing, &item.key).await?
        {
            let text = format!(
                "the cursor {} is held at this record's listing until the record is read back, closed or gone                  (`mlc status` shows it)",
                listing.cursor
            );
            self.store.append_audit(&item.key, self.audit(&now, "cursor_held", text)).await?;
        }
        Ok(HintReport { docs: vec![(item.key.clone(), outcome)], retry_after: retry, note: None })
    }

    /// The source no longer has a record it listed: a visible `failed` item coded
    /// `gone_at_source`, looked at again later (a record can reappear: an eventually consistent
    /// list, a restore) and, after the attempts run out, left for a person.
    async fn read_back_gone<F: Flow>(
        &self,
        flow: &F,
        hint: &Hint,
        why: String,
        exchanges: Vec<Exchange>,
    ) -> Result<HintReport, EngineError> {
        let item = match self.unread_item(flow, hint).await? {
            Ok(item) => item,
            Err(report) => return Ok(report),
        };
        if let Some(l) = &self.ledger {
            l.document(&flow.spec().name, &item.key);
        }
        let msg = format!("{} {} {} is gone at the source: {why}", flow.spec().source_system, hint.entity, hint.id);
        let e = StepError::retryable(msg);
        let (outcome, retry) =
            self.step_failed_coded(&item, "reading it back", e, exchanges, codes::GONE_AT_SOURCE).await?;
        Ok(HintReport { docs: vec![(item.key.clone(), outcome)], retry_after: retry, note: None })
    }

    /// Close the `unread` item of a record that has now been read back, if one is open (one
    /// item read by its key). In-doubt items are left alone: their write may have landed.
    async fn settle_unread(&self, hint: &Hint) -> Result<(), EngineError> {
        // The key `unread_item` registers under (`NewItem::key`).
        let key = ItemKey::new(&hint.flow, &hint.system, &hint.id, UNREAD);
        if let Some(old) = self.store.get_item(&key).await?
            && !old.state.is_terminal()
            && old.state != ItemState::InDoubt
        {
            self.close_superseded(&old, "read back successfully").await?;
        }
        Ok(())
    }

    async fn close_superseded(&self, old: &WorkItem, why: &str) -> Result<(), EngineError> {
        let now = self.now();
        if let Some(l) = &self.ledger {
            l.document(&old.flow, &old.key);
        }
        if old.is_claimed_at(now) {
            return Ok(());
        }
        let mut audit = self.audit(old, "superseded", format!("superseded: {why}"));
        audit.to = Some(ItemState::Skipped);
        let t = Transition::to(ItemState::Skipped, audit).reason(format!("superseded: {why}")).code(codes::SUPERSEDED);
        match self.store.transition(&old.key, &self.owner_for(old), t, now).await {
            Ok(_) | Err(StoreError::ClaimLost { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn audit(&self, item: &WorkItem, event: &str, message: impl Into<String>) -> AuditEntry {
        let mut a = AuditEntry::new(self.now(), &self.worker, event, message);
        a.from = Some(item.state);
        a.attempt = item.attempts;
        a
    }

    /// Move large bodies out of line (stored once by hash).
    async fn stash_bodies(&self, mut exchanges: Vec<Exchange>) -> Result<Vec<Exchange>, EngineError> {
        for ex in &mut exchanges {
            for body in [&mut ex.request, &mut ex.response] {
                if let Some(BodyRef::Inline { text }) = body
                    && text.len() > self.config.inline_body_limit
                {
                    let hash = hex::encode(Sha256::digest(text.as_bytes()));
                    self.store.put_blob(&hash, text.as_bytes()).await?;
                    *body = Some(BodyRef::Blob { sha256: hash, len: text.len() });
                }
            }
        }
        Ok(exchanges)
    }

    async fn write(
        &self,
        item: &WorkItem,
        mut t: Transition,
        exchanges: Vec<Exchange>,
    ) -> Result<WorkItem, EngineError> {
        t.audit.to = Some(t.to);
        t.audit.exchanges = self.stash_bodies(exchanges).await?;
        Ok(self.store.transition(&item.key, &self.owner_for(item), t, self.now()).await?)
    }

    async fn fail(
        &self,
        item: &WorkItem,
        class: FailureClass,
        message: String,
        exchanges: Vec<Exchange>,
        next: Option<DateTime<Utc>>,
        code: &str,
    ) -> Result<WorkItem, EngineError> {
        let event = match class {
            FailureClass::Retryable => "failed_retryable",
            FailureClass::Permanent => "failed_permanent",
        };
        let mut t =
            Transition::to(ItemState::Failed, self.audit(item, event, message.clone())).reason(message).code(code);
        t.failure = Some(class);
        t.next_attempt_at = next;
        self.write(item, t, exchanges).await
    }

    /// Record a failed step according to its class and say when to look again.
    async fn step_failed(&self, item: &WorkItem, step: &str, e: StepError, exchanges: Vec<Exchange>) -> DocResult {
        let code = match e.class {
            ErrorClass::Retryable { .. } => codes::RETRYABLE,
            ErrorClass::Auth => codes::CREDENTIALS,
            ErrorClass::Permanent => codes::TARGET_REFUSED,
            ErrorClass::InDoubt => codes::IN_DOUBT,
        };
        self.step_failed_coded(item, step, e, exchanges, code).await
    }

    /// [`Engine::step_failed`] with the reason code to record (credentials problems keep theirs).
    async fn step_failed_coded(
        &self,
        item: &WorkItem,
        step: &str,
        e: StepError,
        exchanges: Vec<Exchange>,
        code: &str,
    ) -> DocResult {
        let now = self.now();
        // A part that knows a more precise reason than its error's class says so.
        let own = e.code.clone();
        let code = own.as_deref().unwrap_or(code);
        if item.attempts > self.config.max_attempts && !matches!(e.class, ErrorClass::Permanent | ErrorClass::InDoubt) {
            let msg = format!(
                "gave up after {} attempts (last: {step} failed: {}); replay it once the cause is fixed",
                item.attempts - 1,
                e.message
            );
            self.fail(item, FailureClass::Permanent, msg, exchanges, None, code).await?;
            return Ok((DocOutcome::FailedPermanent, None));
        }
        match e.class {
            ErrorClass::Retryable { after } => {
                let delay = after.unwrap_or_else(|| self.backoff(item.attempts));
                let next = now + to_chrono(delay);
                let msg =
                    format!("{step} failed, will retry at {}: {}", next.format("%Y-%m-%d %H:%M:%S UTC"), e.message);
                self.fail(item, FailureClass::Retryable, msg, exchanges, Some(next), code).await?;
                Ok((DocOutcome::FailedRetryable, Some(delay)))
            }
            ErrorClass::Auth => {
                let delay = self.config.auth_retry.max(self.backoff(item.attempts));
                let next = now + to_chrono(delay);
                let msg = format!(
                    "{step} failed: credentials rejected: {} (fix with `mlc credentials set`, then it retries by itself at {})",
                    e.message,
                    next.format("%Y-%m-%d %H:%M:%S UTC")
                );
                self.fail(item, FailureClass::Retryable, msg, exchanges, Some(next), codes::CREDENTIALS).await?;
                Ok((DocOutcome::FailedRetryable, Some(delay)))
            }
            ErrorClass::Permanent => {
                let msg = format!("{step} failed: {}", e.message);
                self.fail(item, FailureClass::Permanent, msg, exchanges, None, code).await?;
                Ok((DocOutcome::FailedPermanent, None))
            }
            ErrorClass::InDoubt => {
                let settle = self.config.in_doubt_settle;
                let msg = format!("{step} sent but its answer was lost: {}; will resolve by lookup", e.message);
                let mut t = Transition::to(ItemState::InDoubt, self.audit(item, "in_doubt", msg.clone()))
                    .reason(msg)
                    .code(codes::IN_DOUBT);
                t.next_attempt_at = Some(now + to_chrono(settle));
                self.write(item, t, exchanges).await?;
                Ok((DocOutcome::InDoubt, Some(settle)))
            }
        }
    }

    async fn process_doc<F: Flow>(
        &self,
        flow: &F,
        hint: &Hint,
        doc: SourceDoc<F::Record>,
        read_at: DateTime<Utc>,
        read: &[Exchange],
    ) -> DocResult {
        let spec = flow.spec();
        let now = self.now();
        let new = NewItem {
            hint: hint.clone(),
            entity: doc.entity.clone(),
            doc_id: doc.id.clone(),
            version: doc.version.clone(),
            summary: doc.summary.clone(),
            read_at,
        };
        let (item, _created) = self.store.register(new, now).await?;
        if let Some(l) = &self.ledger {
            l.document(&spec.name, &item.key);
        }
        // Open versions read before this one are stale. Versions read at the same instant are left
        // alone (concurrent reads; the natural-key lock keeps them from both writing).
        for old in self.store.open_versions(&spec.name, &spec.source_system, &doc.id, Some(&item.key)).await? {
            if old.state != ItemState::InDoubt && old.read_at < item.read_at {
                self.close_superseded(&old, &format!("version {} was read since", doc.version)).await?;
            }
        }
        if item.state.is_terminal() {
            return Ok((DocOutcome::Duplicate, None));
        }
        if item.state == ItemState::NeedsReview && item.resolution.is_none() {
            // Waiting for a person's decision: a re-read of the same version changes nothing.
            return Ok((DocOutcome::NeedsReview, None));
        }
        let lock_until = now + to_chrono(self.config.lock_ttl);
        let item = match self.store.claim(&item.key, &self.claim_token(), now, lock_until).await? {
            ClaimResult::Acquired(i) => i,
            ClaimResult::Held { until: u, .. } => return Ok((DocOutcome::Busy, Some(self.claim_wait(now, u)))),
            ClaimResult::Finished(_) => return Ok((DocOutcome::Duplicate, None)),
        };
        if !read.is_empty() {
            // The read-back this attempt decides on: its exchanges lead the attempt's trail.
            let mut a = self.audit(&item, "read_back", format!("read back from {}", spec.source_system));
            a.exchanges = self.stash_bodies(read.to_vec()).await?;
            self.store.append_audit(&item.key, a).await?;
        }
        if item.attempts > self.config.max_attempts {
            let msg = format!(
                "gave up after {} attempts (last: {}); replay it once the cause is fixed",
                item.attempts - 1,
                item.reason.clone().unwrap_or_else(|| "no reason recorded".into())
            );
            self.fail(&item, FailureClass::Permanent, msg, Vec::new(), None, codes::GAVE_UP).await?;
            return Ok((DocOutcome::FailedPermanent, None));
        }

        if let Eligibility::Skip(reason) = flow.eligibility(&doc) {
            let t = Transition::to(ItemState::Skipped, self.audit(&item, "skipped", reason.text.clone()))
                .reason(reason.text)
                .code(&reason.code);
            self.write(&item, t, Vec::new()).await?;
            return Ok((DocOutcome::Skipped, None));
        }

        let keys = flow.required_mappings(&doc);
        let set: MappingSet = if keys.is_empty() {
            MappingSet::new()
        } else {
            self.store.get_mappings(&keys).await?.into_iter().collect()
        };
        let mut target = match flow.map(&doc, &set) {
            Ok(t) => t,
            Err(MapError::Missing(missing)) => {
                let list: Vec<String> = missing.iter().map(|k| k.to_string()).collect();
                let msg = format!("waiting for mappings: {}", list.join(", "));
                let mut t = Transition::to(ItemState::NeedsMapping, self.audit(&item, "needs_mapping", msg.clone()))
                    .reason(msg)
                    .code(codes::NEEDS_MAPPING);
                t.missing = missing;
                self.write(&item, t, Vec::new()).await?;
                return Ok((DocOutcome::NeedsMapping, None));
            }
            Err(MapError::Invalid(msg)) => {
                let msg = format!("cannot map: {msg}");
                self.fail(&item, FailureClass::Permanent, msg, Vec::new(), None, codes::INVALID).await?;
                return Ok((DocOutcome::FailedPermanent, None));
            }
        };
        if let Some(Resolution::PostAs { number, by, .. }) = &item.resolution
            && let Err(e) = flow.rekey(&mut target, number)
        {
            let msg = format!("cannot post it as {number} as {by} decided: {e}");
            self.fail(&item, FailureClass::Permanent, msg, Vec::new(), None, codes::INVALID).await?;
            return Ok((DocOutcome::FailedPermanent, None));
        }
        let nk = flow.natural_key(&target);

        // Only one item at a time may look up and write a given natural key in one target
        // connection: two versions of one document, two documents carrying the same supplier
        // invoice number, or two flows from different sources posting into one database must not
        // both miss on lookup and both create.
        let owner = self.owner_for(&item);
        let lock = format!("nk#{}#{}", spec.nk_scope(), nk);
        if let Some(holder) = self.store.try_lock(&lock, &owner, now, lock_until).await? {
            let wait = self.busy_wait(now, holder.until);
            let msg = format!("another item is writing {nk} right now; trying again shortly");
            let mut t = Transition::to(item.state, self.audit(&item, "waiting_for_lock", msg));
            t.reason = item.reason.clone();
            t.code = item.code.clone();
            t.failure = item.failure;
            t.missing = item.missing.clone();
            t.conflict = item.conflict.clone();
            // Waiting for another item's write is not a try of this one.
            t.undo_attempt = true;
            self.write(&item, t, Vec::new()).await?;
            return Ok((DocOutcome::Busy, Some(wait)));
        }
        let result = self.locked_write(flow, &doc, &item, target, nk).await;
        // A crash before this line leaves the lock to lapse at `lock_until`.
        self.store.unlock(&lock, &owner).await?;
        result
    }

    /// Lookup, then create/update/skip/hold, under the natural-key lock.
    async fn locked_write<F: Flow>(
        &self,
        flow: &F,
        doc: &SourceDoc<F::Record>,
        item: &WorkItem,
        target: F::Target,
        nk: String,
    ) -> DocResult {
        let spec = flow.spec();
        let now = self.now();
        let item = item.clone();
        // Older versions of this document whose create is in doubt are settled by this lookup.
        let older_in_doubt: Vec<WorkItem> = self
            .store
            .open_versions(&spec.name, &spec.source_system, &doc.id, Some(&item.key))
            .await?
            .into_iter()
            .filter(|o| o.state == ItemState::InDoubt)
            .collect();
        // A create of this key may have landed after the target's caches were filled (perhaps
        // by another process): only a lookup that trusts no cache may say it did not.
        let fresh = item.state == ItemState::InDoubt || !older_in_doubt.is_empty();
        let (found, exchanges) =
            capture(async { if fresh { flow.lookup_fresh(&target).await } else { flow.lookup(&target).await } }).await;
        let found = match found {
            Ok(f) => f,
            Err(e) => return self.step_failed(&item, "lookup", e, exchanges).await,
        };
        // An older version's in-doubt write that a worker is resolving right now (or that a crashed
        // worker still holds) must be settled first: wait for that claim to end.
        if let Some(busy_until) =
            older_in_doubt.iter().filter_map(|o| o.claim.as_ref()).filter(|c| c.until > now).map(|c| c.until).min()
        {
            let msg =
                format!("waiting for an earlier version's in-doubt write to {} to be settled", spec.target_system);
            let mut t = Transition::to(item.state, self.audit(&item, "waiting_for_older_write", msg));
            t.reason = item.reason.clone();
            t.code = item.code.clone();
            t.failure = item.failure;
            self.write(&item, t, exchanges).await?;
            return Ok((DocOutcome::Busy, Some(self.claim_wait(now, busy_until))));
        }

        let found_facts = found.as_ref().map(|f| f.facts.clone()).unwrap_or_default();
        let update_of = match flow.plan(&target, found) {
            Plan::Matched(tref) if item.state == ItemState::InDoubt => {
                // Our own create whose answer was lost, found as we would have written it: it
                // landed. This item posted it (not "already there": the ledger counts it posted).
                let msg = format!("the earlier create landed: found {} in {}", describe(&tref), spec.target_system);
                let scope = spec.nk_scope().to_string();
                self.post(&item, tref.clone(), nk, &scope, msg, exchanges).await?;
                self.settled_in_target(flow, doc, &item, &tref).await?;
                return Ok((DocOutcome::Posted, None));
            }
            Plan::Matched(tref) => {
                // Master data found and already as we would write it: nothing to do.
                let msg = format!("already in {}, up to date: {}", spec.target_system, describe(&tref));
                let mut t = Transition::to(ItemState::Skipped, self.audit(&item, "already_present", msg.clone()))
                    .reason(msg)
                    .code(codes::ALREADY_IN_TARGET);
                t.target = Some(tref.clone());
                t.natural_key = Some(nk);
                t.nk_scope = Some(spec.nk_scope().to_string());
                self.write(&item, t, exchanges).await?;
                self.settled_in_target(flow, doc, &item, &tref).await?;
                return Ok((DocOutcome::Skipped, None));
            }
            Plan::AlreadyPresent(tref) => {
                return self
                    .already_present(flow, doc, &item, &target, nk, tref, found_facts, older_in_doubt, exchanges)
                    .await;
            }
            Plan::Create => None,
            Plan::Update(existing) => Some(existing),
        };

        if !older_in_doubt.is_empty() || item.state == ItemState::InDoubt {
            // A lost create may still surface. Wait until the settle delay has passed since the
            // newest in-doubt write before trusting the negative lookup.
            let newest = older_in_doubt.iter().chain(std::iter::once(&item)).filter_map(|o| o.in_doubt_since).max();
            if let Some(since) = newest {
                let ready_at = since + to_chrono(self.config.in_doubt_settle);
                if now < ready_at {
                    let wait = until(now, ready_at).max(Duration::from_secs(1));
                    let msg = format!(
                        "not found in {} yet; waiting until {} before trusting that the lost write did not land",
                        spec.target_system,
                        ready_at.format("%H:%M:%S UTC")
                    );
                    let mut t = Transition::to(item.state, self.audit(&item, "in_doubt_wait", msg.clone())).reason(msg);
                    t.next_attempt_at = Some(ready_at);
                    t.failure = item.failure;
                    t.code = item.code.clone();
                    let outcome = if item.state == ItemState::InDoubt { DocOutcome::InDoubt } else { DocOutcome::Busy };
                    self.write(&item, t, exchanges).await?;
                    return Ok((outcome, Some(wait)));
                }
            }
            for old in &older_in_doubt {
                let why = format!(
                    "its write did not land (lookup found nothing); version {} is written instead",
                    doc.version
                );
                self.close_superseded(old, &why).await?;
            }
        }
        self.write_target(flow, doc, &item, TargetWrite { target: &target, nk, update_of }, exchanges).await
    }

    /// The target holds a record under this document's natural key. It is "already there" only
    /// when it is the same source document (our own earlier write, or a re-send of it) or, for a
    /// record keyed outside ml-connector, when it matches (amount, currency, date). A *different*
    /// document colliding on the key is held for a person (`needs_review`), side by side, never
    /// skipped.
    #[allow(clippy::too_many_arguments)]
    async fn already_present<F: Flow>(
        &self,
        flow: &F,
        doc: &SourceDoc<F::Record>,
        item: &WorkItem,
        target: &F::Target,
        nk: String,
        tref: TargetRef,
        found_facts: DocFacts,
        older_in_doubt: Vec<WorkItem>,
        exchanges: Vec<Exchange>,
    ) -> DocResult {
        let spec = flow.spec();
        let scope = spec.nk_scope().to_string();
        for old in &older_in_doubt {
            self.resolve_posted(old, &tref, "found in the target by a newer version's lookup").await?;
        }
        // Our own items holding this key (posted, or a create in doubt), whichever flow wrote them.
        let ours: Vec<WorkItem> = self
            .store
            .holding_natural_key(&scope, &spec.name, &nk)
            .await?
            .into_iter()
            .filter(|o| o.key != item.key)
            .collect();
        if item.state == ItemState::InDoubt {
            // The record found is this item's lost create, unless another document of ours
            // already owns that very record.
            let owned_by_other = ours.iter().any(|o| {
                o.state == ItemState::Posted
                    && o.doc_id != item.doc_id
                    && o.target.as_ref().is_some_and(|t| t.id == tref.id)
            });
            if !owned_by_other {
                let msg = format!("the earlier create landed: found {} in {}", describe(&tref), spec.target_system);
                self.post(item, tref.clone(), nk, &scope, msg, exchanges).await?;
                self.settled_in_target(flow, doc, item, &tref).await?;
                return Ok((DocOutcome::Posted, None));
            }
        }
        let same_doc = ours.iter().find(|o| o.flow == item.flow && o.doc_id == item.doc_id);
        let mut mine = flow.facts(target);
        if mine.label.is_none() {
            mine.label = Some(item.summary.label.clone());
        }
        let (state, outcome, code, msg, conflict) = if let Some(o) = same_doc {
            let msg = format!("already posted by ml-connector (item {}) as {}", o.key, describe(&tref));
            (ItemState::Skipped, DocOutcome::Duplicate, codes::ALREADY_POSTED, msg, None)
        } else if let Some(o) = older_in_doubt.first() {
            let msg = format!("already posted by ml-connector (item {}) as {}", o.key, describe(&tref));
            (ItemState::Skipped, DocOutcome::Duplicate, codes::ALREADY_POSTED, msg, None)
        } else if let Some(other) = ours
            .iter()
            .find(|o| o.state == ItemState::Posted && o.target.as_ref().is_some_and(|t| t.id == tref.id))
            .or(ours.first())
        {
            let mut existing = found_facts.clone();
            existing.label = Some(other.summary.label.clone());
            if existing.amount.is_none() {
                existing.amount = other.summary.amount;
            }
            let msg = format!(
                "possible duplicate: {} already holds {nk} as {}, written by ml-connector from a different document ({}); \
                 this is {}. Decide: `mlc review {} --post-as <another number>` if both are real bills, or \
                 `--skip --reason ...`",
                spec.target_system,
                describe(&tref),
                other.summary.label,
                item.summary.label,
                item.key
            );
            let conflict = Conflict {
                natural_key: nk.clone(),
                this: mine,
                existing,
                existing_target: Some(tref.clone()),
                existing_item: Some(other.key.clone()),
            };
            (ItemState::NeedsReview, DocOutcome::NeedsReview, codes::POSSIBLE_DUPLICATE, msg, Some(conflict))
        } else {
            match compare_facts(&mine, &found_facts) {
                Ok(why) => {
                    let msg = format!("already in {}: {} ({why})", spec.target_system, describe(&tref));
                    (ItemState::Skipped, DocOutcome::Skipped, codes::ALREADY_IN_TARGET, msg, None)
                }
                Err(why) => {
                    let msg = format!(
                        "possible duplicate: {} already holds {nk} as {}, entered outside ml-connector, and it \
                         differs from this document ({why}); this is {}. Decide: `mlc review {} --post-as <another \
                         number>`, `--same --reason ...` if it is this bill, or `--skip --reason ...`",
                        spec.target_system,
                        describe(&tref),
                        item.summary.label,
                        item.key
                    );
                    let conflict = Conflict {
                        natural_key: nk.clone(),
                        this: mine,
                        existing: found_facts,
                        existing_target: Some(tref.clone()),
                        existing_item: None,
                    };
                    (ItemState::NeedsReview, DocOutcome::NeedsReview, codes::POSSIBLE_DUPLICATE, msg, Some(conflict))
                }
            }
        };
        let event = if state == ItemState::NeedsReview { "possible_duplicate" } else { "already_present" };
        let mut t = Transition::to(state, self.audit(item, event, msg.clone())).reason(msg).code(code);
        t.target = (state == ItemState::Skipped).then(|| tref.clone());
        t.natural_key = Some(nk);
        t.nk_scope = Some(scope);
        t.conflict = conflict;
        self.write(item, t, exchanges).await?;
        if state == ItemState::Skipped {
            // A record found in the target still teaches the pairing (a vendor keyed by hand).
            self.settled_in_target(flow, doc, item, &tref).await?;
        }
        Ok((outcome, None))
    }

    async fn write_target<F: Flow>(
        &self,
        flow: &F,
        doc: &SourceDoc<F::Record>,
        item: &WorkItem,
        write: TargetWrite<'_, F::Target>,
        mut exchanges: Vec<Exchange>,
    ) -> DocResult {
        let TargetWrite { target, nk, update_of } = write;
        let spec = flow.spec();
        let (pre, ex2) = capture(flow.preflight(target)).await;
        exchanges.extend(ex2);
        if let Err(e) = pre {
            let code = if e.class == ErrorClass::Permanent { codes::TARGET_RULE } else { codes::RETRYABLE };
            return self.step_failed_coded(item, "pre-post check", e, exchanges, code).await;
        }
        // The marker: from here until `posted`, a crash or lost answer leaves the item in doubt.
        let verb = if update_of.is_some() { "update" } else { "create" };
        let msg = format!("{verb} sent to {}; awaiting the answer", spec.target_system);
        let mut marker = Transition::to(ItemState::InDoubt, self.audit(item, "write_sent", msg.clone())).reason(msg);
        marker.release_claim = false;
        marker.natural_key = Some(nk.clone());
        marker.nk_scope = Some(spec.nk_scope().to_string());
        marker.code = Some(codes::IN_DOUBT.into());
        let item = self.write(item, marker, exchanges).await?;

        let (res, exchanges) = match &update_of {
            Some(existing) => capture(flow.update(target, existing)).await,
            None => capture(flow.create(target)).await,
        };
        match res {
            Ok(tref) => {
                let msg = format!("{verb}d in {}: {}", spec.target_system, describe(&tref));
                self.post(&item, tref.clone(), nk, spec.nk_scope(), msg, exchanges).await?;
                self.settled_in_target(flow, doc, &item, &tref).await?;
                Ok((DocOutcome::Posted, None))
            }
            Err(e) => self.step_failed(&item, verb, e, exchanges).await,
        }
    }

    /// Add the mappings a flow learnt from a record it wrote or found (releasing waiting items).
    /// The document is in the target (written, or found as this same document): learn the
    /// pairings it teaches and let the flow tell the source it is done.
    async fn settled_in_target<F: Flow>(
        &self,
        flow: &F,
        doc: &SourceDoc<F::Record>,
        item: &WorkItem,
        tref: &TargetRef,
    ) -> Result<(), EngineError> {
        for (key, target) in flow.pairings(doc, tref) {
            let m = Mapping { key, target, note: Some(format!("learnt from {}", item.key)), updated_at: self.now() };
            self.add_mapping(m).await?;
        }
        let (res, exchanges) = capture(flow.after_settled(doc, tref)).await;
        let entry = match res {
            Ok(()) if exchanges.is_empty() => None,
            Ok(()) => Some(("source_told", format!("told {} the document is done", flow.spec().source_system))),
            Err(e) => Some((
                "source_not_told",
                format!(
                    "the document is in {}, but telling {} so failed ({}); the next read of the record tries again",
                    flow.spec().target_system,
                    flow.spec().source_system,
                    e.message
                ),
            )),
        };
        if let Some((event, msg)) = entry {
            let mut a = self.audit(item, event, msg);
            a.exchanges = self.stash_bodies(exchanges).await?;
            self.store.append_audit(&item.key, a).await?;
        }
        Ok(())
    }

    async fn post(
        &self,
        item: &WorkItem,
        tref: TargetRef,
        nk: String,
        scope: &str,
        msg: String,
        exchanges: Vec<Exchange>,
    ) -> Result<(), EngineError> {
        let mut t =
            Transition::to(ItemState::Posted, self.audit(item, "posted", msg.clone())).reason(msg).code(codes::POSTED);
        t.target = Some(tref);
        t.natural_key = Some(nk);
        t.nk_scope = Some(scope.to_string());
        self.write(item, t, exchanges).await?;
        Ok(())
    }

    async fn resolve_posted(&self, old: &WorkItem, tref: &TargetRef, why: &str) -> Result<(), EngineError> {
        if let Some(l) = &self.ledger {
            l.document(&old.flow, &old.key);
        }
        if old.is_claimed_at(self.now()) {
            return Ok(());
        }
        let msg = format!("in-doubt create resolved: {why}: {}", describe(tref));
        let mut t =
            Transition::to(ItemState::Posted, self.audit(old, "posted", msg.clone())).reason(msg).code(codes::POSTED);
        t.target = Some(tref.clone());
        match self.write(old, t, Vec::new()).await {
            Ok(_) | Err(EngineError::Store(StoreError::ClaimLost { .. })) => Ok(()),
            Err(e) => Err(e),
        }
    }

    // ---------------------------------------------------------------- mappings, replay

    /// Add or change a mapping, then release the items that were waiting only for it.
    pub async fn add_mapping(&self, mapping: Mapping) -> Result<ReleaseReport, EngineError> {
        self.store.put_mapping(&mapping).await?;
        let mut report = ReleaseReport::default();
        for item in self.store.items_waiting_for(&mapping.key).await? {
            let present: Vec<MappingKey> =
                self.store.get_mappings(&item.missing).await?.into_iter().map(|m| m.key).collect();
            let still: Vec<MappingKey> = item.missing.iter().filter(|k| !present.contains(k)).cloned().collect();
            if still.is_empty() {
                let msg = format!("released: mapping {} → {} added", mapping.key, mapping.target);
                let mut t = Transition::to(ItemState::Pending, self.audit(&item, "released", msg.clone())).reason(msg);
                t.reset_attempts = true;
                match self.write(&item, t, Vec::new()).await {
                    Ok(_) => {}
                    Err(EngineError::Store(StoreError::ClaimLost { .. })) => continue,
                    Err(e) => return Err(e),
                }
                let mut hint = item.hint.clone().for_flow(&item.flow);
                hint.origin = Origin::MappingAdded;
                hint.observed_version = None;
                hint.at = self.now();
                hint.reason = Some(format!("mapping {} added", mapping.key.id()));
                hint.rerun_of = Some(item.key.clone());
                self.queue.enqueue(&[hint]).await?;
                report.released.push(item.key);
            } else {
                let list: Vec<String> = still.iter().map(|k| k.to_string()).collect();
                let msg = format!("mapping {} added; still waiting for: {}", mapping.key, list.join(", "));
                let mut t = Transition::to(ItemState::NeedsMapping, self.audit(&item, "needs_mapping", msg.clone()))
                    .reason(msg);
                t.missing = still;
                match self.write(&item, t, Vec::new()).await {
                    Ok(_) | Err(EngineError::Store(StoreError::ClaimLost { .. })) => {}
                    Err(e) => return Err(e),
                }
                report.still_waiting.push(item.key);
            }
        }
        Ok(report)
    }

    /// Re-run items through the same path, recording why. Posted items are left alone (they are in
    /// the target); in-doubt items keep their state so the next attempt still looks before posting.
    pub async fn replay(&self, items: Vec<WorkItem>, reason: &str) -> Result<ReplayReport, EngineError> {
        let mut report = ReplayReport::default();
        let now = self.now();
        for item in items {
            if item.state == ItemState::Posted {
                report.not_replayed.push((item.key, "already posted; nothing to replay".into()));
                continue;
            }
            if item.is_claimed_at(now) {
                report.not_replayed.push((item.key, "a worker is on it right now".into()));
                continue;
            }
            let msg = format!("replay requested: {reason}");
            let to = if item.state == ItemState::InDoubt { ItemState::InDoubt } else { ItemState::Pending };
            let mut t = Transition::to(to, self.audit(&item, "replay_requested", msg.clone())).reason(msg);
            t.reset_attempts = true;
            if to == ItemState::InDoubt {
                t.reason = item.reason.clone();
            }
            match self.write(&item, t, Vec::new()).await {
                Ok(_) => {}
                Err(EngineError::Store(StoreError::ClaimLost { .. })) => {
                    report.not_replayed.push((item.key, "a worker took it meanwhile".into()));
                    continue;
                }
                Err(e) => return Err(e),
            }
            let mut hint = item.hint.clone().for_flow(&item.flow);
            hint.origin = Origin::Replay;
            hint.observed_version = None;
            hint.reason = Some(reason.to_string());
            hint.rerun_of = Some(item.key.clone());
            hint.at = now;
            self.queue.enqueue(&[hint]).await?;
            report.requeued.push(item.key);
        }
        Ok(report)
    }

    /// Re-enqueue every item that waits with nothing left to move it: `pending`, `in_doubt` or
    /// `failed (retryable)`, not claimed, whose next attempt was due more than `grace` ago. Its
    /// message was lost, dead-lettered, or its worker died between steps; without the sweep it
    /// would wait forever. A message that still exists only makes the item look once more (claims
    /// make that harmless). Run by both homes on a schedule.
    pub async fn sweep(&self, grace: Duration) -> Result<SweepReport, EngineError> {
        let now = self.now();
        let mut report = SweepReport::default();
        for state in [ItemState::Pending, ItemState::InDoubt, ItemState::Failed] {
            let items = self
                .store
                .list_items(&ItemFilter { state: Some(state), limit: Some(1000), ..Default::default() })
                .await?;
            for item in items {
                if item.state == ItemState::Failed && item.failure != Some(FailureClass::Retryable) {
                    continue;
                }
                let due = item.next_attempt_at.unwrap_or(item.updated_at);
                if item.is_claimed_at(now) || due + to_chrono(grace) > now {
                    continue;
                }
                let mut hint = item.hint.clone().for_flow(&item.flow);
                hint.origin = Origin::Sweep;
                hint.observed_version = None;
                hint.at = now;
                // The re-run must settle this very item (or close it when the source moved on).
                hint.rerun_of = Some(item.key.clone());
                self.queue.enqueue(&[hint]).await?;
                self.store
                    .append_audit(
                        &item.key,
                        self.audit(
                            &item,
                            "swept",
                            format!("found {} with no message left to move it; queued again", item.state_label()),
                        ),
                    )
                    .await?;
                report.requeued.push(item.key);
            }
        }
        Ok(report)
    }

    /// A person's decision on an item held for review (a possible duplicate), recorded with who
    /// decided and why. `PostAs` re-runs it under another number; `Skip` and `SameDocument` close it.
    pub async fn review(
        &self,
        key: &ItemKey,
        decision: ReviewDecision,
        by: &str,
        reason: &str,
    ) -> Result<WorkItem, EngineError> {
        let item = self.store.get_item(key).await?.ok_or_else(|| StoreError::NotFound(key.to_string()))?;
        if item.state != ItemState::NeedsReview {
            return Err(EngineError::NotReviewable { key: key.to_string(), state: item.state });
        }
        let existing =
            item.conflict.as_ref().and_then(|c| c.existing_target.as_ref()).map(describe).unwrap_or_default();
        let t = match &decision {
            ReviewDecision::PostAs(number) => {
                let msg = format!("{by} decided to post it as {number}: {reason}");
                let mut t =
                    Transition::to(ItemState::Pending, self.audit(&item, "review_post_as", msg.clone())).reason(msg);
                t.resolution = Some(Some(Resolution::PostAs {
                    number: number.clone(),
                    by: by.to_string(),
                    reason: reason.to_string(),
                }));
                t.reset_attempts = true;
                t
            }
            ReviewDecision::Skip => {
                let msg = format!("skipped by {by}: {reason}");
                Transition::to(ItemState::Skipped, self.audit(&item, "review_skip", msg.clone()))
                    .reason(msg)
                    .code(codes::SKIPPED_BY_PERSON)
            }
            ReviewDecision::SameDocument => {
                let msg = format!("confirmed by {by} as the same bill as {existing}: {reason}");
                Transition::to(ItemState::Skipped, self.audit(&item, "review_same", msg.clone()))
                    .reason(msg)
                    .code(codes::ALREADY_IN_TARGET)
            }
        };
        let updated = self.write(&item, t, Vec::new()).await?;
        if let ReviewDecision::PostAs(_) = decision {
            let mut hint = item.hint.clone().for_flow(&item.flow);
            hint.origin = Origin::Replay;
            hint.observed_version = None;
            hint.reason = Some(reason.to_string());
            hint.rerun_of = Some(item.key.clone());
            hint.at = self.now();
            self.queue.enqueue(&[hint]).await?;
        }
        Ok(updated)
    }

    /// Record a receiver's acknowledgment of a posted item (an X12 997 for an 810 we sent). An
    /// accepted one stays `posted` with the acknowledgment in its trail; a rejected one becomes
    /// `failed` (permanent, code `rejected_by_receiver`) naming the receiver's errors, so a person
    /// fixes the cause and replays it.
    pub async fn acknowledge(&self, key: &ItemKey, accepted: bool, message: &str) -> Result<WorkItem, EngineError> {
        let item = self.store.get_item(key).await?.ok_or_else(|| StoreError::NotFound(key.to_string()))?;
        if accepted {
            self.store
                .append_audit(key, self.audit(&item, "acknowledged", format!("accepted by the receiver: {message}")))
                .await?;
            return Ok(item);
        }
        let msg = format!("rejected by the receiver: {message}; fix it, then replay");
        let mut t = Transition::to(ItemState::Failed, self.audit(&item, "rejected_by_receiver", msg.clone()))
            .reason(msg)
            .code(codes::REJECTED_BY_RECEIVER);
        t.failure = Some(FailureClass::Permanent);
        t.target = item.target.clone();
        self.write(&item, t, Vec::new()).await
    }

    /// Close a run's ledger: classify what it worked and keep each flow's figures for `status`.
    pub async fn finish_ledger(&self, recorder: &ledger::LedgerRecorder) -> Result<ledger::RunLedger, EngineError> {
        let run = recorder.finish(self.store.as_ref(), self.now()).await?;
        let seq = self.sequences();
        for (flow, l) in &run.flows {
            seq.remember(&format!("{LEDGER_MEMO}{flow}"), &serde_json::to_string(l).unwrap_or_default()).await?;
        }
        Ok(run)
    }

    /// Counters and memories in this engine's store (control numbers, what a partner sent).
    pub fn sequences(&self) -> sequence::Sequences {
        sequence::Sequences::new(self.store.clone(), self.clock.clone())
    }

    /// Counts per flow and state, cursors, queue depth and the oldest open item: `mlc status`.
    pub async fn status(&self) -> Result<StatusReport, EngineError> {
        let counts = self.store.state_counts().await?;
        let all_cursors = self.store.list_cursors().await?;
        let mut ledgers = Vec::new();
        for c in &all_cursors {
            if let Some(flow) = c.flow.strip_prefix(&format!("memo#{LEDGER_MEMO}"))
                && let Ok(l) = serde_json::from_str::<ledger::FlowLedger>(&c.value)
            {
                debug_assert_eq!(flow, l.flow);
                ledgers.push(l);
            }
        }
        let internal = ["memo#", "seq#", "recent#", "polled#", "sync#"];
        let cursors = all_cursors.into_iter().filter(|c| !internal.iter().any(|p| c.flow.starts_with(p))).collect();
        let oldest_open = counts
            .iter()
            .filter(|c| !c.state.is_terminal())
            .filter_map(|c| c.oldest.map(|t| (c.flow.clone(), c.state, t)))
            .min_by_key(|(_, _, t)| *t);
        Ok(StatusReport { counts, cursors, ledgers, queue: self.queue.depth().await?, oldest_open })
    }

    /// Items of `flow` first found since `since` by a poll that no webhook announced: webhooks the
    /// vendor lost. `since` should be when the flow's webhooks were live (before that, every
    /// record is found by polls, and that is no gap).
    pub async fn webhook_gaps(&self, flow: &str, since: DateTime<Utc>) -> Result<Vec<WorkItem>, EngineError> {
        let filter = ItemFilter { flow: Some(flow.to_string()), updated_since: Some(since), ..Default::default() };
        let items = self.store.list_items(&filter).await?;
        Ok(items
            .into_iter()
            .filter(|i| i.created_at >= since && i.seen_by_poll && !i.seen_by_webhook && i.hint.origin == Origin::Poll)
            .collect())
    }

    /// Items matching a filter (for replay and listings).
    pub async fn find(&self, filter: &ItemFilter) -> Result<Vec<WorkItem>, EngineError> {
        Ok(self.store.list_items(filter).await?)
    }

    // ---------------------------------------------------------------- the worker

    /// Handle one delivery and settle it on the queue (ack, or back with a delay).
    ///
    /// A message received again reads its record again even when another hint has marked its
    /// observed version processed meanwhile: its earlier try may have left a document waiting
    /// (for a natural-key lock, say) that only this hint's read produced — a source whose
    /// documents depend on more than the version (Coupa's "settle again" version depends on the
    /// engine's own records) reads differently from one hint to the next. Skipping the read
    /// would leave that document with no message to move it until the sweep.
    pub async fn settle(&self, flows: &FlowRegistry, d: &Delivery) -> Result<HintReport, EngineError> {
        let retried;
        let hint = if d.receive_count > 1 && d.hint.observed_version.is_some() {
            retried = Hint { observed_version: None, ..d.hint.clone() };
            &retried
        } else {
            &d.hint
        };
        let shared = if hint.source.is_empty() { None } else { flows.source(&hint.source) };
        let handled = match (shared, flows.get(&hint.flow)) {
            (Some(src), _) => src.handle(self, hint).await,
            (None, Some(flow)) => flow.handle(self, hint).await,
            (None, None) => {
                // Not lost: it comes back after an hour and dead-letters after the queue's limit.
                self.queue.retry_later(d, Duration::from_secs(3600)).await?;
                let name = if d.hint.flow.is_empty() { &d.hint.source } else { &d.hint.flow };
                return Err(EngineError::UnknownFlow(name.clone()));
            }
        };
        match handled {
            Ok(report) => {
                match report.retry_after {
                    Some(delay) => self.queue.retry_later(d, delay).await?,
                    None => self.queue.ack(d).await?,
                }
                Ok(report)
            }
            Err(e) => {
                let delay = self.backoff(d.receive_count);
                if let Err(qe) = self.queue.retry_later(d, delay).await {
                    warn!(error = %qe, "could not put the hint back; its lease will lapse instead");
                }
                Err(e)
            }
        }
    }

    /// Work the queue until nothing is ready (messages waiting on a delay stay there).
    /// `concurrency` deliveries are handled at once.
    pub async fn drain(&self, flows: &FlowRegistry, concurrency: usize) -> Result<DrainReport, EngineError> {
        self.drain_observed(flows, concurrency, |_| {}).await
    }

    /// [`Engine::drain`], calling `progress` with the running totals after every batch.
    pub async fn drain_observed(
        &self,
        flows: &FlowRegistry,
        concurrency: usize,
        mut progress: impl FnMut(&DrainReport),
    ) -> Result<DrainReport, EngineError> {
        let mut report = DrainReport::default();
        let lease = self.config.lock_ttl;
        loop {
            let batch = self.queue.receive(concurrency.max(1), lease).await?;
            if batch.is_empty() {
                return Ok(report);
            }
            let results = futures::future::join_all(batch.iter().map(|d| self.settle(flows, d))).await;
            for r in results {
                report.hints += 1;
                match r {
                    Ok(h) => {
                        if h.retry_after.is_some() {
                            report.retried_hints += 1;
                        }
                        for (_, o) in h.docs {
                            *report.outcomes.entry(o).or_default() += 1;
                        }
                    }
                    Err(e) => report.errors.push(e.to_string()),
                }
            }
            progress(&report);
        }
    }
}

/// What `write_target` writes: the mapped document, its natural key, and the record to update
/// (`None` = create).
struct TargetWrite<'a, T> {
    target: &'a T,
    nk: String,
    update_of: Option<TargetRef>,
}

/// Is the record the target holds this same document? `Ok(why)` when it is (same source
/// document, or same amount, currency and date), `Err(why not)` when it differs or cannot be told.
pub fn compare_facts(mine: &DocFacts, theirs: &DocFacts) -> Result<String, String> {
    if let (Some(a), Some(b)) = (&mine.source_doc, &theirs.source_doc) {
        return if a == b {
            Ok(format!("the record there names this same source document, {a}"))
        } else {
            Err(format!("the record there was posted from {b}, this is {a}"))
        };
    }
    let mut same = Vec::new();
    match (mine.amount, theirs.amount) {
        (Some(a), Some(b)) if (a - b).abs() < rust_decimal::Decimal::new(5, 3) => same.push("same amount"),
        (Some(a), Some(b)) => return Err(format!("{} there, {} here", b.round_dp(2), a.round_dp(2))),
        (_, None) => return Err("the target does not show the amount of its record, so they cannot be compared".into()),
        (None, Some(_)) => return Err("this document has no amount to compare".into()),
    }
    if let (Some(a), Some(b)) = (&mine.currency, &theirs.currency) {
        if !a.eq_ignore_ascii_case(b) {
            return Err(format!("{b} there, {a} here"));
        }
        same.push("same currency");
    }
    if let (Some(a), Some(b)) = (mine.date, theirs.date) {
        if a != b {
            return Err(format!("dated {b} there, {a} here"));
        }
        same.push("same date");
    }
    Ok(format!("entered outside ml-connector, {}", same.join(", ")))
}

fn describe(t: &TargetRef) -> String {
    let mut s = t.display.clone().unwrap_or_else(|| format!("{} {}", t.entity, t.id));
    if let Some(st) = &t.status {
        s.push_str(&format!(" (status: {st})"));
    }
    s
}

#[cfg(test)]
mod tests;
