//! The engine's records: hints, work items and their states, audit entries, cursors.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::mapping::MappingKey;
use crate::money::Currency;

/// How a record came to our attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A vendor webhook named it (unsigned hint; read back before acting).
    Webhook,
    /// A scheduled poll found it changed since the cursor.
    Poll,
    /// A person asked to run it again.
    Replay,
    /// A mapping it was waiting for was added.
    MappingAdded,
    /// The sweep found it waiting with no message left to settle it (a lost or dead-lettered
    /// message, a worker that died between steps).
    Sweep,
}

impl Origin {
    pub fn as_str(&self) -> &'static str {
        match self {
            Origin::Webhook => "webhook",
            Origin::Poll => "poll",
            Origin::Replay => "replay",
            Origin::MappingAdded => "mapping_added",
            Origin::Sweep => "sweep",
        }
    }
}

/// "Look at this record": what webhooks and polls put on the queue. A hint only names a record;
/// the poster reads the record back from the source before acting on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hint {
    /// The flow this hint is for, or empty: a hint from a shared source (a poll or a webhook)
    /// is for every flow reading that source, which read the record back once between them.
    pub flow: String,
    /// The source the record comes from (`<connection>/<record family>`, e.g. `cin7/purchase`);
    /// empty on hints written before sources were shared (their flow names the source).
    #[serde(default)]
    pub source: String,
    /// Source system id (the source connection's name for hints from shared sources).
    pub system: String,
    /// Source entity (`purchase`, `supplier` ...), as the flow's `read_back` understands it.
    pub entity: String,
    /// Source record id.
    pub id: String,
    pub origin: Origin,
    /// The version the discoverer saw (e.g. Cin7 `LastUpdatedDate`), when it saw one. A hint whose
    /// observed version was already processed is acknowledged without a read-back.
    #[serde(default)]
    pub observed_version: Option<String>,
    /// Webhook delivery id, when the sender gave one.
    #[serde(default)]
    pub delivery_id: Option<String>,
    /// Why a person replayed it.
    #[serde(default)]
    pub reason: Option<String>,
    /// The work item this hint re-runs (replay, mapping release). If the read-back no longer
    /// yields that item's version, the item is closed as superseded.
    #[serde(default)]
    pub rerun_of: Option<ItemKey>,
    /// Where to resume reading a large record (a file of 500 invoices is read and worked in
    /// chunks; each chunk's hint carries the next chunk's position). Opaque to the engine.
    #[serde(default)]
    pub part: Option<String>,
    /// Where a poll listed the record (`None` for webhooks and hints written before listings were
    /// kept): a failed read-back holds that cursor at this listing (see [`crate::engine::cursor`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed: Option<Listing>,
    pub at: DateTime<Utc>,
}

/// Where a poll listed a record: the cursor it listed it under and the position that poll
/// started from. While the record's read-back has failed, the cursor is held at this position, so
/// it never passes a record still unaccounted for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The cursor's name (`cin7/purchase`, or a flow that reads on its own).
    pub cursor: String,
    /// The cursor value the listing poll started from; `None`: a first poll (no cursor yet).
    #[serde(default)]
    pub from: Option<String>,
    /// Where that poll started when it had no cursor (`initial_lookback`); `None` = everything.
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// When the listing poll began (earlier listings hold the cursor further back).
    pub at: DateTime<Utc>,
}

impl Hint {
    pub fn new(flow: &str, system: &str, entity: &str, id: &str, origin: Origin, at: DateTime<Utc>) -> Self {
        Hint {
            flow: flow.to_string(),
            source: String::new(),
            system: system.to_string(),
            entity: entity.to_string(),
            id: id.to_string(),
            origin,
            observed_version: None,
            delivery_id: None,
            reason: None,
            rerun_of: None,
            part: None,
            listed: None,
            at,
        }
    }

    /// A hint from a shared source: for every flow that reads `source` (`cin7/purchase`).
    pub fn for_source(source: &str, system: &str, entity: &str, id: &str, origin: Origin, at: DateTime<Utc>) -> Self {
        let mut h = Hint::new("", system, entity, id, origin, at);
        h.source = source.to_string();
        h
    }

    /// The same hint, for one flow only (replays, mapping releases and retries of one flow's items).
    pub fn for_flow(mut self, flow: &str) -> Self {
        self.flow = flow.to_string();
        self
    }

    pub fn with_version(mut self, v: impl Into<String>) -> Self {
        self.observed_version = Some(v.into());
        self
    }

    /// The record this hint names (scoped to its flow, or to its source for shared hints).
    pub fn record_key(&self) -> String {
        if self.flow.is_empty() {
            format!("src#{}#{}#{}", self.source, self.entity, self.id)
        } else {
            format!("{}#{}#{}#{}", self.flow, self.system, self.entity, self.id)
        }
    }

    /// The record key a flow's own seen-version is stored under (the pre-shared-source form).
    pub fn flow_record_key(&self, flow: &str) -> String {
        format!("{}#{}#{}#{}", flow, self.system, self.entity, self.id)
    }

    /// Whether a queue may fold `other` into this waiting hint: same record, same origin (the
    /// webhook gap meter counts origins) and the same re-run target (each re-run closes its own
    /// stale item).
    pub fn collapses_with(&self, other: &Hint) -> bool {
        self.origin == other.origin
            && self.rerun_of == other.rerun_of
            && self.part == other.part
            && self.record_key() == other.record_key()
    }

    /// The hint a waiting message becomes when `newer` is folded into it. The observed version is
    /// kept only when both agree: a merged hint stands for several sightings, so it must be read
    /// back rather than skipped as "already seen" on the strength of one of them.
    pub fn merged_with(&self, newer: &Hint) -> Hint {
        let mut merged = newer.clone();
        if self.observed_version != newer.observed_version {
            merged.observed_version = None;
        }
        merged
    }
}

/// A work item's idempotency key: `flow#system#id#version`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemKey(pub String);

impl ItemKey {
    pub fn new(flow: &str, system: &str, doc_id: &str, version: &str) -> Self {
        ItemKey(format!("{flow}#{system}#{doc_id}#{version}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an item stands. `Posted` and `Skipped` are terminal; the rest wait for something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    Pending,
    Posted,
    Skipped,
    NeedsMapping,
    Failed,
    InDoubt,
    /// Held for a person: the target already holds a *different* document under the same natural
    /// key (a possible duplicate), shown side by side with the ways out (`mlc review`).
    NeedsReview,
}

impl ItemState {
    pub const ALL: [ItemState; 7] = [
        ItemState::Pending,
        ItemState::Posted,
        ItemState::Skipped,
        ItemState::NeedsMapping,
        ItemState::Failed,
        ItemState::InDoubt,
        ItemState::NeedsReview,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            ItemState::Pending => "pending",
            ItemState::Posted => "posted",
            ItemState::Skipped => "skipped",
            ItemState::NeedsMapping => "needs_mapping",
            ItemState::Failed => "failed",
            ItemState::InDoubt => "in_doubt",
            ItemState::NeedsReview => "needs_review",
        }
    }

    /// Nothing more will happen to a terminal item unless a person replays it.
    pub fn is_terminal(&self) -> bool {
        matches!(self, ItemState::Posted | ItemState::Skipped)
    }
}

impl fmt::Display for ItemState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown state {0:?}: expected pending, posted, skipped, needs_mapping, needs_review, failed or in_doubt")]
pub struct UnknownState(pub String);

impl FromStr for ItemState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ItemState::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s.trim()) || st.as_str().replace('_', "-") == s.trim())
            .ok_or_else(|| UnknownState(s.to_string()))
    }
}

/// Whether a failure can clear by itself (retry later) or needs a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    Retryable,
    Permanent,
}

/// The record a target holds for an item: what was created, or what was found already there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetRef {
    pub system: String,
    pub entity: String,
    /// The target's key for the record (Deltek `Batch|MasterPKey`, Acumatica id ...).
    pub id: String,
    /// Human-readable ids (`file 3F2A…, voucher 0001234`).
    #[serde(default)]
    pub display: Option<String>,
    /// The target's own status for the record (`draft (N)`, `pending approval`): reported, not an error.
    #[serde(default)]
    pub status: Option<String>,
}

/// Whether `item` holds `natural_key` in `scope` for [`crate::engine::ports::Store::holding_natural_key`]
/// (every store filters with this, so all three agree).
pub fn holds_natural_key(item: &WorkItem, scope: &str, legacy_flow: &str, natural_key: &str) -> bool {
    matches!(item.state, ItemState::Posted | ItemState::InDoubt)
        && item.natural_key.as_deref() == Some(natural_key)
        && match item.nk_scope.as_deref() {
            Some(s) => s == scope,
            None => item.flow == legacy_flow,
        }
}

/// What people see in lists: a short label and the money, for tie-outs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ItemSummary {
    /// `INV-1042 from Acme Steel` / `supplier Acme Steel`.
    pub label: String,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub amount: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub document_date: Option<chrono::NaiveDate>,
}

/// A live claim on an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub owner: String,
    pub until: DateTime<Utc>,
}

/// One unit of work: one source document version flowing to one target document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    pub key: ItemKey,
    pub flow: String,
    pub system: String,
    pub entity: String,
    /// Source document id (may differ from the record id in the hint when one record holds
    /// several documents, e.g. a Cin7 purchase with two supplier invoices).
    pub doc_id: String,
    pub version: String,
    /// The hint that first produced this item; replays re-enqueue it.
    pub hint: Hint,
    pub state: ItemState,
    #[serde(default)]
    pub failure: Option<FailureClass>,
    /// Skip reason, failure message, in-doubt cause or posting note.
    #[serde(default)]
    pub reason: Option<String>,
    /// Mappings this item waits for (state `needs_mapping`).
    #[serde(default)]
    pub missing: Vec<MappingKey>,
    #[serde(default)]
    pub target: Option<TargetRef>,
    /// The target-side natural key (vendor + invoice number, file name ...).
    #[serde(default)]
    pub natural_key: Option<String>,
    /// Where the natural key is unique: the target connection (two flows posting into one Deltek
    /// database share it). `None` on items from before connections were the identity.
    #[serde(default)]
    pub nk_scope: Option<String>,
    /// Why the item is where it is, as a stable code (`order_stage`, `possible_duplicate`,
    /// `gone_at_source` ...; see [`codes`]); `reason` is the sentence for people.
    #[serde(default)]
    pub code: Option<String>,
    /// For `needs_review`: the two documents side by side.
    #[serde(default)]
    pub conflict: Option<Conflict>,
    /// A person's decision on a held item (post under another number, or skip), applied on its next run.
    #[serde(default)]
    pub resolution: Option<Resolution>,
    #[serde(default)]
    pub summary: ItemSummary,
    pub attempts: u32,
    #[serde(default)]
    pub claim: Option<Claim>,
    #[serde(default)]
    pub seen_by_webhook: bool,
    #[serde(default)]
    pub seen_by_poll: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When this version was last read back from the source. A version read later is the
    /// fresher truth and closes open versions read before it.
    pub read_at: DateTime<Utc>,
    #[serde(default)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the item last entered `in_doubt` (a create whose answer was lost).
    #[serde(default)]
    pub in_doubt_since: Option<DateTime<Utc>>,
}

impl WorkItem {
    /// A fresh pending item for a document seen through `hint`.
    pub fn new(new: NewItem, now: DateTime<Utc>) -> Self {
        let key = ItemKey::new(&new.hint.flow, &new.hint.system, &new.doc_id, &new.version);
        WorkItem {
            key,
            flow: new.hint.flow.clone(),
            system: new.hint.system.clone(),
            entity: new.entity,
            doc_id: new.doc_id,
            version: new.version,
            seen_by_webhook: new.hint.origin == Origin::Webhook,
            seen_by_poll: new.hint.origin == Origin::Poll,
            hint: new.hint,
            state: ItemState::Pending,
            failure: None,
            reason: None,
            missing: Vec::new(),
            target: None,
            natural_key: None,
            nk_scope: None,
            code: None,
            conflict: None,
            resolution: None,
            summary: new.summary,
            attempts: 0,
            claim: None,
            created_at: now,
            updated_at: now,
            read_at: new.read_at,
            next_attempt_at: None,
            in_doubt_since: None,
        }
    }

    /// True when a claim is held and has not lapsed at `now`.
    pub fn is_claimed_at(&self, now: DateTime<Utc>) -> bool {
        self.claim.as_ref().is_some_and(|c| c.until > now)
    }

    /// `failed (retryable)` / `posted` ...: the state as a person reads it.
    pub fn state_label(&self) -> String {
        match (self.state, self.failure) {
            (ItemState::Failed, Some(FailureClass::Retryable)) => "failed (retryable)".into(),
            (ItemState::Failed, Some(FailureClass::Permanent)) => "failed (permanent)".into(),
            (s, _) => s.as_str().into(),
        }
    }

    /// Apply a transition's fields (stores call this so every adapter changes items the same way).
    pub fn apply(&mut self, t: &Transition, now: DateTime<Utc>) {
        if t.to == ItemState::InDoubt && self.state != ItemState::InDoubt {
            self.in_doubt_since = Some(now);
        }
        if t.to != ItemState::InDoubt {
            self.in_doubt_since = None;
        }
        self.state = t.to;
        self.failure = if t.to == ItemState::Failed { t.failure.or(Some(FailureClass::Retryable)) } else { None };
        self.reason = t.reason.clone();
        self.code = t.code.clone();
        self.conflict = if t.to == ItemState::NeedsReview { t.conflict.clone() } else { None };
        if let Some(r) = &t.resolution {
            self.resolution = r.clone();
        }
        self.missing = if t.to == ItemState::NeedsMapping { t.missing.clone() } else { Vec::new() };
        if let Some(target) = &t.target {
            self.target = Some(target.clone());
        }
        if let Some(nk) = &t.natural_key {
            self.natural_key = Some(nk.clone());
        }
        if let Some(scope) = &t.nk_scope {
            self.nk_scope = Some(scope.clone());
        }
        if let Some(s) = &t.summary {
            self.summary = s.clone();
        }
        self.next_attempt_at = t.next_attempt_at;
        if t.reset_attempts {
            self.attempts = 0;
        } else if t.undo_attempt {
            self.attempts = self.attempts.saturating_sub(1);
        }
        if t.release_claim {
            self.claim = None;
        }
        self.updated_at = now;
    }
}

/// What the engine registers when it first meets a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewItem {
    pub hint: Hint,
    pub entity: String,
    pub doc_id: String,
    pub version: String,
    pub summary: ItemSummary,
    /// When the document was read back.
    pub read_at: DateTime<Utc>,
}

impl NewItem {
    pub fn key(&self) -> ItemKey {
        ItemKey::new(&self.hint.flow, &self.hint.system, &self.doc_id, &self.version)
    }
}

/// A state change, written atomically with its audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub to: ItemState,
    pub failure: Option<FailureClass>,
    pub reason: Option<String>,
    pub missing: Vec<MappingKey>,
    pub target: Option<TargetRef>,
    pub natural_key: Option<String>,
    pub nk_scope: Option<String>,
    /// Stable reason code (see [`codes`]).
    pub code: Option<String>,
    pub conflict: Option<Conflict>,
    /// `Some(x)` sets the item's resolution to `x` (`Some(None)` clears it).
    pub resolution: Option<Option<Resolution>>,
    pub summary: Option<ItemSummary>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub reset_attempts: bool,
    /// This claim was not an attempt (it only found the natural key locked by another item):
    /// give back the attempt the claim counted, so waiting never makes an item give up.
    pub undo_attempt: bool,
    /// Let go of the claim (everything except the in-doubt marker written just before a create).
    pub release_claim: bool,
    pub audit: AuditEntry,
}

impl Transition {
    pub fn to(state: ItemState, audit: AuditEntry) -> Self {
        Transition {
            to: state,
            failure: None,
            reason: None,
            missing: Vec::new(),
            target: None,
            natural_key: None,
            nk_scope: None,
            code: None,
            conflict: None,
            resolution: None,
            summary: None,
            next_attempt_at: None,
            reset_attempts: false,
            undo_attempt: false,
            release_claim: true,
            audit,
        }
    }

    pub fn reason(mut self, r: impl Into<String>) -> Self {
        self.reason = Some(r.into());
        self
    }

    pub fn code(mut self, c: &str) -> Self {
        self.code = Some(c.to_string());
        self
    }
}

/// What a document is, for comparing two documents that share a natural key: the source document
/// it came from, its amount, currency and date. Targets fill what they can read back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocFacts {
    /// The source document (`cin7 purchase P1 invoice T2`), when the record says (our memo).
    #[serde(default)]
    pub source_doc: Option<String>,
    #[serde(default)]
    pub amount: Option<Decimal>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub date: Option<chrono::NaiveDate>,
    /// One line for people: `RENT-202411 from Harbor Realty, USD 17,963.33, 2024-11-01`.
    #[serde(default)]
    pub label: Option<String>,
}

/// A possible duplicate, side by side: this item's document and what already holds its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub natural_key: String,
    pub this: DocFacts,
    pub existing: DocFacts,
    /// The record in the target that holds the key.
    #[serde(default)]
    pub existing_target: Option<TargetRef>,
    /// Our own item that posted it, when ml-connector did.
    #[serde(default)]
    pub existing_item: Option<ItemKey>,
}

/// A person's decision on a held item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Resolution {
    /// Post under this document number instead (e.g. `RENT-202411-2`): a different bill that
    /// collided with another on vendor + number.
    PostAs { number: String, by: String, reason: String },
}

/// Stable reason codes on items (`WorkItem::code`): what reports group by, never matched text.
pub mod codes {
    /// The flow does not take this document (draft, order stage ...): flows add their own codes.
    pub const INELIGIBLE: &str = "ineligible";
    /// The document is dated before the flow's `invoice_date_floor` (an old bill on an account
    /// the flow was just turned on for).
    pub const BEFORE_DATE_FLOOR: &str = "before_date_floor";
    /// ml-connector already posted this same source document (another version, a re-send).
    pub const ALREADY_POSTED: &str = "already_posted";
    /// The target holds it already and it matches (keyed by hand, same amount and date).
    pub const ALREADY_IN_TARGET: &str = "already_in_target";
    /// The target holds a different document under the same key.
    pub const POSSIBLE_DUPLICATE: &str = "possible_duplicate";
    /// A newer version of the document replaced this one.
    pub const SUPERSEDED: &str = "superseded";
    /// A person chose to skip it.
    pub const SKIPPED_BY_PERSON: &str = "skipped_by_person";
    pub const NEEDS_MAPPING: &str = "needs_mapping";
    /// Reading the record back from the source failed.
    pub const READ_FAILED: &str = "read_failed";
    /// The source no longer has the record it listed.
    pub const GONE_AT_SOURCE: &str = "gone_at_source";
    /// The document cannot be mapped (bad data at the source).
    pub const INVALID: &str = "invalid";
    /// A pre-post check of the target's rules held it (closed period, currency, inactive vendor).
    pub const TARGET_RULE: &str = "target_rule";
    pub const TARGET_REFUSED: &str = "target_refused";
    pub const RETRYABLE: &str = "retryable";
    pub const CREDENTIALS: &str = "credentials";
    pub const IN_DOUBT: &str = "in_doubt";
    pub const GAVE_UP: &str = "gave_up";
    /// The receiver of what we posted acknowledged it as rejected (a 997 with errors).
    pub const REJECTED_BY_RECEIVER: &str = "rejected_by_receiver";
    pub const POSTED: &str = "posted";
    pub const UPDATED: &str = "updated";
}

/// A body kept with an audit entry: inline when small, by content hash when large (stored once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BodyRef {
    Inline { text: String },
    Blob { sha256: String, len: usize },
}

/// One HTTP exchange made while working on an item (secrets already redacted by the HTTP kit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exchange {
    pub at: DateTime<Utc>,
    pub system: String,
    pub method: String,
    /// URL without credentials.
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    #[serde(default)]
    pub request: Option<BodyRef>,
    #[serde(default)]
    pub response: Option<BodyRef>,
    /// Transport error, when there was no response.
    #[serde(default)]
    pub error: Option<String>,
}

/// One line of an item's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// Which worker (process/Lambda request id) wrote it.
    pub actor: String,
    /// Short machine-readable event: `claimed`, `posted`, `skipped`, `lookup_found`, `replay_requested` ...
    pub event: String,
    pub from: Option<ItemState>,
    pub to: Option<ItemState>,
    pub attempt: u32,
    pub message: String,
    #[serde(default)]
    pub exchanges: Vec<Exchange>,
}

impl AuditEntry {
    pub fn new(at: DateTime<Utc>, actor: &str, event: &str, message: impl Into<String>) -> Self {
        AuditEntry {
            at,
            actor: actor.to_string(),
            event: event.to_string(),
            from: None,
            to: None,
            attempt: 0,
            message: message.into(),
            exchanges: Vec::new(),
        }
    }
}

/// A flow's high-water mark. The value is opaque to the engine (a timestamp, a page token ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub flow: String,
    pub value: String,
    pub updated_at: DateTime<Utc>,
}

/// Which items a listing, status view or replay covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemFilter {
    pub flow: Option<String>,
    pub state: Option<ItemState>,
    pub failure: Option<FailureClass>,
    /// Items whose `updated_at` is at or after this.
    pub updated_since: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the key or the label.
    pub text: Option<String>,
    pub limit: Option<usize>,
}

impl ItemFilter {
    /// Whether `item` passes this filter (every store uses this for the parts it cannot index).
    pub fn matches(&self, item: &WorkItem) -> bool {
        if self.flow.as_ref().is_some_and(|f| f != &item.flow) {
            return false;
        }
        if self.state.is_some_and(|s| s != item.state) {
            return false;
        }
        if self.failure.is_some() && self.failure != item.failure {
            return false;
        }
        if self.updated_since.is_some_and(|t| item.updated_at < t) {
            return false;
        }
        if let Some(text) = &self.text {
            let t = text.to_lowercase();
            if !item.key.0.to_lowercase().contains(&t) && !item.summary.label.to_lowercase().contains(&t) {
                return false;
            }
        }
        true
    }
}

/// Count of items per flow and state, with the oldest `updated_at` in the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCount {
    pub flow: String,
    pub state: ItemState,
    pub count: u64,
    pub oldest: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_parse_both_spellings() {
        assert_eq!("needs-mapping".parse::<ItemState>().unwrap(), ItemState::NeedsMapping);
        assert_eq!("IN_DOUBT".parse::<ItemState>().unwrap(), ItemState::InDoubt);
        assert!("done".parse::<ItemState>().is_err());
    }

    #[test]
    fn item_key_shape() {
        assert_eq!(ItemKey::new("f", "cin7", "P1", "v2").as_str(), "f#cin7#P1#v2");
    }
}
