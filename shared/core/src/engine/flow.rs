//! The `Flow` trait: a flow is *declared* as six answers, and the engine runs them in a fixed order
//! with claims, look-before-post, the in-doubt rule and the audit trail around them.
//!
//! 1. `discover`   — what changed in the source since the cursor (a page of hints + the next cursor).
//! 2. `read_back`  — the record a hint names, re-read from the source (hints are never trusted);
//!    one record may hold several documents (a purchase with two supplier invoices).
//! 3. `eligibility`— is this document ready (authorised, approved) or skipped, and why.
//! 4. `map`        — source codes → target codes, using the mapping keys it declared it needs.
//! 5. `lookup`     — is it already in the target (by natural key)?
//! 6. `create` (or `update`) — write it.
//!
//! Connectors turn their errors into [`StepError`] with an [`ErrorClass`]; that class is all the
//! engine needs to decide between retrying, parking, failing for a person, and the in-doubt rule.
//!
//! Flows are usually not written against this trait directly: a flow file declares a
//! [`crate::engine::parts::FlowDef`] (eligibility + mapping) between a shared
//! [`crate::engine::parts::Source`] and [`crate::engine::parts::Target`], and
//! [`crate::engine::parts::Composed`] implements `Flow` from the three. Tests and small tools may
//! still implement `Flow` whole.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::engine::model::{Cursor, DocFacts, Hint, ItemSummary, TargetRef};
use crate::mapping::{MappingKey, MappingSet};

/// Static facts about a flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct FlowSpec {
    /// The flow's name in the configuration (`cin7-deltek-ap`, `cin7-deltek-ap-east` ...).
    pub name: String,
    /// Its kind (`cin7-deltek-ap`); equal to the name unless the configuration names instances.
    #[serde(default)]
    pub kind: String,
    pub source_system: String,
    pub target_system: String,
    /// The shared source it reads (`cin7/purchase`), empty for a flow that reads on its own.
    #[serde(default)]
    pub source: String,
    /// The target connection: natural keys are unique per target connection, so two flows posting
    /// into one database share the natural-key lock and the "already posted" check. Empty: the
    /// target system's name.
    #[serde(default)]
    pub target_connection: String,
    /// How far back a first poll looks (`None`: everything the source has).
    #[serde(default)]
    pub lookback: Option<Duration>,
    /// Mapping scope (`cin7-deltek`), shared by the flows between the same two systems.
    pub mapping_scope: String,
    /// One line for people: `Cin7 Core authorised supplier invoices → Deltek AP vouchers`.
    pub description: String,
    /// Whether the source announces changes by webhook (for the webhook gap meter).
    pub has_webhooks: bool,
    /// Documents dated before this day (their `summary.document_date`: the invoice date of an AP
    /// document) are skipped with [`crate::engine::model::codes::BEFORE_DATE_FLOOR`], so turning a
    /// flow on for an old account does not post last year's bills. A document without a date is
    /// not affected. Set from the flow's `invoice_date_floor` setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_floor: Option<chrono::NaiveDate>,
}

/// One source document, as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDoc<R> {
    /// Source entity of the document (`purchase-invoice`, `supplier` ...).
    pub entity: String,
    /// Document id, unique within the flow's source (`<purchase id>/<invoice task id>`).
    pub id: String,
    /// Version of the document: last-modified stamp, or a hash of the fields the flow uses (so
    /// an unrelated change in the source record does not create a new work item).
    pub version: String,
    pub summary: ItemSummary,
    pub record: R,
}

impl FlowSpec {
    /// Where this flow's natural keys are unique (its target connection).
    pub fn nk_scope(&self) -> &str {
        if self.target_connection.is_empty() { &self.target_system } else { &self.target_connection }
    }
}

/// Why something was skipped or held: a stable code (what reports group by) and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: String,
    pub text: String,
}

impl Reason {
    pub fn new(code: &str, text: impl Into<String>) -> Self {
        Reason { code: code.to_string(), text: text.into() }
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Self {
        Reason { code: crate::engine::model::codes::INELIGIBLE.into(), text }
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Self {
        Reason::from(text.to_string())
    }
}

/// Is a document ready to go?
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eligibility {
    Eligible,
    /// Not for this flow (draft, voided, order stage ...): the reason is recorded with its code.
    Skip(Reason),
}

impl Eligibility {
    /// Skip with a stable code: `Eligibility::skip("order_stage", "purchase PO-1 has no invoice yet")`.
    pub fn skip(code: &str, text: impl Into<String>) -> Self {
        Eligibility::Skip(Reason::new(code, text))
    }
}

/// What reading a record back found.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadBack<T> {
    /// The record's documents (or, for a large record read in chunks, this chunk's), and where
    /// the next chunk starts.
    Found { items: Vec<T>, continuation: Option<String> },
    /// The source no longer has the record it listed (deleted, or "not found" for an id it had
    /// just shown): a visible outcome, never a silent skip.
    Gone(String),
}

impl<T> ReadBack<T> {
    pub fn found(items: Vec<T>) -> Self {
        ReadBack::Found { items, continuation: None }
    }
}

/// What a discovery call knows besides the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverContext {
    pub now: DateTime<Utc>,
    /// Where a first poll (no cursor yet) starts: `None` = everything the source has.
    pub start: Option<DateTime<Utc>>,
}

/// Why `map` could not produce a target document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapError {
    /// Mappings nobody has made yet. The item waits in `needs_mapping` and is released when they are added.
    Missing(Vec<MappingKey>),
    /// The document cannot be mapped at all (bad data): a permanent failure a person must fix at source.
    Invalid(String),
}

/// What `lookup` found in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub target: TargetRef,
    /// True when the found record already matches what we would write (for update-capable flows).
    pub up_to_date: bool,
    /// What the target's record is (source memo, amount, date), to compare before calling it a duplicate.
    pub facts: DocFacts,
}

impl Found {
    pub fn new(target: TargetRef) -> Self {
        Found { target, up_to_date: true, facts: DocFacts::default() }
    }

    pub fn with_facts(mut self, facts: DocFacts) -> Self {
        self.facts = facts;
        self
    }
}

/// What to do given the lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    Create,
    /// Update the found record (master data flows).
    Update(TargetRef),
    /// The target holds a record under this document's key: the engine compares before it calls
    /// it a duplicate (the same document, or a different one held for review).
    AlreadyPresent(TargetRef),
    /// Master data found and already as it would be written: nothing to do.
    Matched(TargetRef),
}

/// How an error should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorClass {
    /// Try again later (rate limit, 5xx, network before the request went out). `after` = the
    /// server's Retry-After when it gave one.
    Retryable { after: Option<Duration> },
    /// Credentials rejected or expired. Retried later (after the credentials are fixed or rotated),
    /// reported as a credentials problem.
    Auth,
    /// A person must fix something (validation error, closed period, unknown vendor ...).
    Permanent,
    /// A write was sent and its answer lost: it may or may not have happened. Resolved by lookup.
    InDoubt,
}

/// An error from a flow step, already classified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    pub class: ErrorClass,
    /// Names the system, entity and id, and says what to do when a person must act.
    pub message: String,
    /// The reason code the item records (`sync_conflict` ...), when the part knows a more precise
    /// one than its class gives (`retryable`, `target_refused` ...). See [`super::model::codes`].
    pub code: Option<String>,
}

impl StepError {
    pub fn retryable(message: impl Into<String>) -> Self {
        StepError { class: ErrorClass::Retryable { after: None }, message: message.into(), code: None }
    }
    pub fn retry_after(message: impl Into<String>, after: Duration) -> Self {
        StepError { class: ErrorClass::Retryable { after: Some(after) }, message: message.into(), code: None }
    }
    pub fn permanent(message: impl Into<String>) -> Self {
        StepError { class: ErrorClass::Permanent, message: message.into(), code: None }
    }
    pub fn in_doubt(message: impl Into<String>) -> Self {
        StepError { class: ErrorClass::InDoubt, message: message.into(), code: None }
    }
    pub fn auth(message: impl Into<String>) -> Self {
        StepError { class: ErrorClass::Auth, message: message.into(), code: None }
    }
    /// The same error, recorded on the item under `code` instead of its class's code.
    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_string());
        self
    }
}

/// One page of discovery.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DiscoveryPage {
    pub hints: Vec<Hint>,
    /// Cursor after this page (`None`: leave it where it is).
    pub next_cursor: Option<String>,
    /// Call `discover` again with the new cursor.
    pub has_more: bool,
}

/// A flow, declared. See the module docs for the order the engine calls these in.
#[async_trait]
pub trait Flow: Send + Sync + 'static {
    /// The source document after read-back (kept in memory only; the engine never stores it).
    type Record: Send + Sync + Clone + 'static;
    /// The target document after mapping.
    type Target: Send + Sync + 'static;

    fn spec(&self) -> &FlowSpec;

    /// Changes since `cursor` (None: first run — the flow decides how far back to look).
    async fn discover(&self, cursor: Option<&Cursor>, now: DateTime<Utc>) -> Result<DiscoveryPage, StepError>;

    /// [`Flow::discover`] with the context a shared source needs (where a first poll starts).
    async fn discover_in(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.discover(cursor, ctx.now).await
    }

    /// Re-read the record a hint names. An empty vec means the record holds no document for this
    /// flow (the hint is acknowledged with nothing to do).
    async fn read_back(&self, hint: &Hint) -> Result<Vec<SourceDoc<Self::Record>>, StepError>;

    /// [`Flow::read_back`] with the outcomes a source can report: the record is gone, or it is
    /// large and read in chunks (using the context's blob store). The default wraps `read_back`.
    async fn read_back_in(
        &self,
        hint: &Hint,
        _ctx: &crate::engine::parts::ReadContext<'_>,
    ) -> Result<ReadBack<SourceDoc<Self::Record>>, StepError> {
        Ok(ReadBack::found(self.read_back(hint).await?))
    }

    fn eligibility(&self, doc: &SourceDoc<Self::Record>) -> Eligibility;

    /// Every mapping key `map` may ask for; the engine loads them in one go.
    fn required_mappings(&self, doc: &SourceDoc<Self::Record>) -> Vec<MappingKey>;

    fn map(&self, doc: &SourceDoc<Self::Record>, mappings: &MappingSet) -> Result<Self::Target, MapError>;

    /// The key the target is searched by (`VENDOR#INVOICE`), stored with the item.
    fn natural_key(&self, target: &Self::Target) -> String;

    /// What the mapped document is (source document, amount, date), to compare with a record the
    /// target already holds under the same key. Default: nothing known.
    fn facts(&self, _target: &Self::Target) -> DocFacts {
        DocFacts::default()
    }

    /// Give the document another number (a person's decision for a different bill that collided
    /// on vendor + number). Default: the flow cannot.
    fn rekey(&self, _target: &mut Self::Target, number: &str) -> Result<(), String> {
        Err(format!("{} cannot post a document under another number ({number})", self.spec().name))
    }

    /// Look before you post: find the document in the target by its natural key.
    async fn lookup(&self, target: &Self::Target) -> Result<Option<Found>, StepError>;

    /// [`Flow::lookup`] trusting nothing cached (see [`super::parts::Target::lookup_fresh`]).
    async fn lookup_fresh(&self, target: &Self::Target) -> Result<Option<Found>, StepError> {
        self.lookup(target).await
    }

    /// Checks before a write that a person would want enforced (open period, active vendor).
    /// The default has none.
    async fn preflight(&self, _target: &Self::Target) -> Result<(), StepError> {
        Ok(())
    }

    /// Decide what to do given the lookup. Default: create when absent, otherwise leave it.
    fn plan(&self, _target: &Self::Target, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            Some(f) => Plan::AlreadyPresent(f.target),
        }
    }

    /// Write the document. Must not retry by itself once the request may have reached the
    /// server: return `ErrorClass::InDoubt` instead and let the engine resolve it by lookup.
    async fn create(&self, target: &Self::Target) -> Result<TargetRef, StepError>;

    /// Update a found document (master-data flows). Default: refuses.
    async fn update(&self, _target: &Self::Target, existing: &TargetRef) -> Result<TargetRef, StepError> {
        Err(StepError::permanent(format!(
            "{} cannot update {} {}: the flow only creates",
            self.spec().name,
            existing.entity,
            existing.id
        )))
    }

    /// Called once the document is in the target (posted now, or found there as this same
    /// document): tell the source it is done (Coupa's `exported` flag, a custom field with the
    /// voucher id). Best effort: a failure is noted on the item and the next read of the record
    /// tries again (the lookup finds the document, so nothing posts twice). Default: nothing.
    async fn after_settled(&self, _doc: &SourceDoc<Self::Record>, _target: &TargetRef) -> Result<(), StepError> {
        Ok(())
    }

    /// Mappings learnt from a successful write (supplier S1 → vendor firm V0042). The engine adds
    /// them, which releases items waiting for them.
    fn pairings(&self, _doc: &SourceDoc<Self::Record>, _target: &TargetRef) -> Vec<(MappingKey, String)> {
        Vec::new()
    }
}
