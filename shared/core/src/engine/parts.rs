//! Sources and targets as parts; a flow file joins them.
//!
//! A **source** ([`Source`]) is one record family of one connection (`cin7/purchase`,
//! `cin7/supplier`, `procore/requisition`, `cleo/inbound-file`): it discovers what changed since a
//! cursor and reads a record back by id. A **target** ([`Target`]) is one document type of one
//! connection (Deltek AP voucher, Deltek vendor firm, Acumatica bill): it knows the document's
//! natural key, looks it up, checks the target's rules before a write, creates and updates. Both
//! are written once per system and entity, in the connector's folder, and serve every flow.
//!
//! A **flow file** declares a [`FlowDef`]: which source and target, how a source record splits into
//! documents, which documents are eligible, the mappings they need and how they map.
//! [`Composed`] turns the three into the engine's [`Flow`].
//!
//! **One read feeds every flow.** Flows that read the same source (the same connection and record
//! family) share one [`SourceGroup`]: one cursor, one poll, one read-back per record version, handed
//! to every flow in the group, each of which keeps its own work items. Cin7's 60 calls a minute are
//! not spent twice because a purchase feeds both a Deltek and an Acumatica flow.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::engine::capture::capture;
use crate::engine::flow::{
    DiscoverContext, DiscoveryPage, Eligibility, Flow, FlowSpec, Found, MapError, Plan, ReadBack, SourceDoc, StepError,
};
use crate::engine::model::{Cursor, DocFacts, Exchange, Hint, TargetRef};
use crate::engine::ports::{Store, StoreError};
use crate::engine::{Engine, EngineError, HintReport, PollReport};
use crate::mapping::{MappingKey, MappingSet};

/// What a source is.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct SourceSpec {
    /// The connection it reads (`cin7`, `cin7-east`).
    pub connection: String,
    /// The connection's system (`cin7`).
    pub system: String,
    /// The record family (`purchase`, `supplier`): with the connection, the source's identity.
    pub family: String,
    /// Hint entities this source reads back (`purchase`, `purchase-task`); webhooks naming one of
    /// them become hints for this source.
    pub entities: Vec<String>,
    /// Whether the system announces changes by webhook (for the webhook gap meter).
    pub has_webhooks: bool,
}

impl SourceSpec {
    /// `<connection>/<family>`: the cursor's name and what hints from this source carry.
    pub fn key(&self) -> String {
        format!("{}/{}", self.connection, self.family)
    }

    /// A hint for a record this source listed (or a webhook announced).
    pub fn hint(&self, entity: &str, id: &str, origin: crate::engine::model::Origin, at: DateTime<Utc>) -> Hint {
        Hint::for_source(&self.key(), &self.connection, entity, id, origin, at)
    }
}

/// One record as a source read it back.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord<R> {
    pub entity: String,
    /// The record's id at the source.
    pub id: String,
    /// Its version (last-modified stamp or a content hash).
    pub version: String,
    pub record: R,
}

/// Large bodies a source keeps while it works through them (a downloaded EDI file read in chunks),
/// stored once by content hash in the engine's store.
#[async_trait]
pub trait Blobs: Send + Sync {
    /// Keep `body`; returns its SHA-256 (hex), by which it is read back.
    async fn put(&self, body: &[u8]) -> Result<String, StoreError>;
    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// [`Blobs`] over the engine's store.
pub struct StoreBlobs<'a>(pub &'a dyn Store);

#[async_trait]
impl Blobs for StoreBlobs<'_> {
    async fn put(&self, body: &[u8]) -> Result<String, StoreError> {
        let hash = hex::encode(Sha256::digest(body));
        self.0.put_blob(&hash, body).await?;
        Ok(hash)
    }
    async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get_blob(sha256).await
    }
}

/// What a read-back may use besides the hint.
pub struct ReadContext<'a> {
    pub now: DateTime<Utc>,
    pub blobs: &'a dyn Blobs,
}

/// One record family of one connection.
#[async_trait]
pub trait Source: Send + Sync + 'static {
    /// A record as read back (kept in memory only).
    type Record: Send + Sync + Clone + 'static;

    fn spec(&self) -> &SourceSpec;

    /// What changed since `cursor` (`None`: a first poll, starting at `ctx.start`). Hints are
    /// made with [`SourceSpec::hint`]; a listed record is never dropped here: every row becomes a
    /// hint, and the record's own read-back says what became of it.
    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError>;

    /// Re-read the record a hint names (hints are never trusted). A record the source no longer
    /// has is [`ReadBack::Gone`]; a read that fails is an error with its class; a large record may
    /// be returned in chunks (`continuation` is the next chunk's `hint.part`).
    async fn read_back(
        &self,
        hint: &Hint,
        ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Self::Record>>, StepError>;
}

/// What a target is.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct TargetSpec {
    /// The connection it writes to (`deltek`, `deltek-east`): natural keys are unique per connection.
    pub connection: String,
    pub system: String,
    /// The document type (`ap-voucher`, `vendor-firm`, `journal-entry`).
    pub entity: String,
}

/// One document type of one connection.
#[async_trait]
pub trait Target: Send + Sync + 'static {
    /// The document to write, as a flow maps it.
    type Doc: Send + Sync + 'static;

    fn spec(&self) -> &TargetSpec;

    /// The key the target is searched by (`VENDOR#INVOICE`).
    fn natural_key(&self, doc: &Self::Doc) -> String;

    /// What the document is, to compare with a record the target holds under the same key.
    fn facts(&self, _doc: &Self::Doc) -> DocFacts {
        DocFacts::default()
    }

    /// Give the document another number (a person's decision on a possible duplicate).
    fn rekey(&self, _doc: &mut Self::Doc, number: &str) -> Result<(), String> {
        Err(format!("a {} cannot be posted under another number ({number})", self.spec().entity))
    }

    /// Look before you post: the record holding this document's natural key, if any.
    async fn lookup(&self, doc: &Self::Doc) -> Result<Option<Found>, StepError>;

    /// [`Target::lookup`] trusting nothing cached. The engine asks for it when a write of this
    /// key may have landed after the target's caches were filled: an in-doubt create, perhaps
    /// made by another process (another poster container, a crashed `mlc`) whose writes this
    /// process's caches never saw. Default: `lookup` (a target that caches overrides it).
    async fn lookup_fresh(&self, doc: &Self::Doc) -> Result<Option<Found>, StepError> {
        self.lookup(doc).await
    }

    /// The target's own rules that can be read before a write (open period, active vendor,
    /// allowed currency ...): a failure names the rule and holds the document.
    async fn preflight(&self, _doc: &Self::Doc) -> Result<(), StepError> {
        Ok(())
    }

    /// Write it. Never retried by itself once the request may have arrived: a lost answer is
    /// `ErrorClass::InDoubt`, resolved by lookup.
    async fn create(&self, doc: &Self::Doc) -> Result<TargetRef, StepError>;

    /// Update a found record (master data). Default: refuses.
    async fn update(&self, _doc: &Self::Doc, existing: &TargetRef) -> Result<TargetRef, StepError> {
        Err(StepError::permanent(format!(
            "a {} in {} cannot be updated ({} {}): this target only creates",
            self.spec().entity,
            self.spec().connection,
            existing.entity,
            existing.id
        )))
    }
}

/// A flow file: source + eligibility + mapping + target, declared.
#[async_trait]
pub trait FlowDef: Send + Sync + 'static {
    type Source: Source;
    type Target: Target;
    /// One document of a source record, as this flow sees it (a Cin7 purchase holds one document
    /// per supplier invoice for the AP flow, one purchase order for a PO flow).
    type Doc: Send + Sync + Clone + 'static;

    /// Name, kind, description, mapping scope and lookback; [`Composed`] fills in the source and
    /// target parts.
    fn describe(&self) -> FlowSpec;

    /// Split a record into this flow's documents (empty: none for this flow).
    fn documents(&self, record: &SourceRecord<<Self::Source as Source>::Record>) -> Vec<SourceDoc<Self::Doc>>;

    fn eligibility(&self, doc: &SourceDoc<Self::Doc>) -> Eligibility;

    /// Every mapping key `map` may ask for; the engine loads them in one go.
    fn required_mappings(&self, doc: &SourceDoc<Self::Doc>) -> Vec<MappingKey>;

    fn map(&self, doc: &SourceDoc<Self::Doc>, mappings: &MappingSet)
    -> Result<<Self::Target as Target>::Doc, MapError>;

    /// Decide what to do given the lookup. Default: create when absent, otherwise leave it.
    fn plan(&self, _doc: &<Self::Target as Target>::Doc, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            Some(f) => Plan::AlreadyPresent(f.target),
        }
    }

    /// Mappings learnt from a write (supplier S1 → vendor V0042), added by the engine.
    fn pairings(&self, _doc: &SourceDoc<Self::Doc>, _target: &TargetRef) -> Vec<(MappingKey, String)> {
        Vec::new()
    }

    /// The document is in the target: tell the source (see [`Flow::after_settled`]).
    async fn after_settled(&self, _doc: &SourceDoc<Self::Doc>, _target: &TargetRef) -> Result<(), StepError> {
        Ok(())
    }
}

/// A flow made of its parts: what the engine runs.
pub struct Composed<D: FlowDef> {
    pub def: D,
    pub source: Arc<D::Source>,
    pub target: Arc<D::Target>,
    spec: FlowSpec,
}

impl<D: FlowDef> Composed<D> {
    pub fn new(def: D, source: Arc<D::Source>, target: Arc<D::Target>) -> Self {
        let mut spec = def.describe();
        if spec.kind.is_empty() {
            spec.kind = spec.name.clone();
        }
        let (s, t) = (source.spec(), target.spec());
        spec.source_system = s.system.clone();
        spec.target_system = t.system.clone();
        spec.source = s.key();
        spec.target_connection = t.connection.clone();
        spec.has_webhooks = s.has_webhooks;
        Composed { def, source, target, spec }
    }

    fn docs(&self, records: &[SourceRecord<<D::Source as Source>::Record>]) -> Vec<SourceDoc<D::Doc>> {
        records.iter().flat_map(|r| self.def.documents(r)).collect()
    }

    fn context(&self, now: DateTime<Utc>) -> DiscoverContext {
        DiscoverContext {
            now,
            start: self.spec.lookback.and_then(|l| chrono::Duration::from_std(l).ok()).map(|l| now - l),
        }
    }
}

#[async_trait]
impl<D: FlowDef> Flow for Composed<D> {
    type Record = D::Doc;
    type Target = <D::Target as Target>::Doc;

    fn spec(&self) -> &FlowSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, now: DateTime<Utc>) -> Result<DiscoveryPage, StepError> {
        self.source.discover(cursor, &self.context(now)).await
    }

    async fn discover_in(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.source.discover(cursor, ctx).await
    }

    async fn read_back(&self, _hint: &Hint) -> Result<Vec<SourceDoc<D::Doc>>, StepError> {
        Err(StepError::permanent(format!(
            "{}: a composed flow reads back through its source with a read context",
            self.spec.name
        )))
    }

    async fn read_back_in(&self, hint: &Hint, ctx: &ReadContext<'_>) -> Result<ReadBack<SourceDoc<D::Doc>>, StepError> {
        Ok(match self.source.read_back(hint, ctx).await? {
            ReadBack::Found { items, continuation } => ReadBack::Found { items: self.docs(&items), continuation },
            ReadBack::Gone(why) => ReadBack::Gone(why),
        })
    }

    fn eligibility(&self, doc: &SourceDoc<D::Doc>) -> Eligibility {
        match self.def.eligibility(doc) {
            Eligibility::Eligible => date_floor(&self.spec, doc),
            skip => skip,
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<D::Doc>) -> Vec<MappingKey> {
        self.def.required_mappings(doc)
    }

    fn map(&self, doc: &SourceDoc<D::Doc>, mappings: &MappingSet) -> Result<Self::Target, MapError> {
        self.def.map(doc, mappings)
    }

    fn natural_key(&self, target: &Self::Target) -> String {
        self.target.natural_key(target)
    }

    fn facts(&self, target: &Self::Target) -> DocFacts {
        self.target.facts(target)
    }

    fn rekey(&self, target: &mut Self::Target, number: &str) -> Result<(), String> {
        self.target.rekey(target, number)
    }

    async fn lookup(&self, target: &Self::Target) -> Result<Option<Found>, StepError> {
        self.target.lookup(target).await
    }
    async fn lookup_fresh(&self, target: &Self::Target) -> Result<Option<Found>, StepError> {
        self.target.lookup_fresh(target).await
    }

    async fn preflight(&self, target: &Self::Target) -> Result<(), StepError> {
        self.target.preflight(target).await
    }

    fn plan(&self, target: &Self::Target, found: Option<Found>) -> Plan {
        self.def.plan(target, found)
    }

    async fn create(&self, target: &Self::Target) -> Result<TargetRef, StepError> {
        self.target.create(target).await
    }

    async fn update(&self, target: &Self::Target, existing: &TargetRef) -> Result<TargetRef, StepError> {
        self.target.update(target, existing).await
    }

    fn pairings(&self, doc: &SourceDoc<D::Doc>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        self.def.pairings(doc, target)
    }

    async fn after_settled(&self, doc: &SourceDoc<D::Doc>, target: &TargetRef) -> Result<(), StepError> {
        self.def.after_settled(doc, target).await
    }
}

/// The flow's invoice-date floor, for every flow alike: a document dated before it is skipped
/// with the floor named (after the flow's own rules, so a draft stays skipped as a draft).
fn date_floor<T>(spec: &FlowSpec, doc: &SourceDoc<T>) -> Eligibility {
    match (spec.date_floor, doc.summary.document_date) {
        (Some(floor), Some(date)) if date < floor => Eligibility::skip(
            crate::engine::model::codes::BEFORE_DATE_FLOOR,
            format!(
                "{} is dated {date}, before this flow's invoice_date_floor {floor}: lower the floor in the flow's settings to post it",
                if doc.summary.label.is_empty() { doc.id.as_str() } else { doc.summary.label.as_str() }
            ),
        ),
        _ => Eligibility::Eligible,
    }
}

/// A flow definition with an invoice-date floor set from the configuration (the flow's
/// `invoice_date_floor`): the same flow, whose [`FlowSpec::date_floor`] says the floor, so
/// [`Composed`] skips older documents for every flow kind in one place.
pub struct WithDateFloor<D> {
    pub def: D,
    pub floor: Option<chrono::NaiveDate>,
}

impl<D> WithDateFloor<D> {
    pub fn new(def: D, floor: Option<chrono::NaiveDate>) -> Self {
        WithDateFloor { def, floor }
    }
}

#[async_trait]
impl<D: FlowDef> FlowDef for WithDateFloor<D> {
    type Source = D::Source;
    type Target = D::Target;
    type Doc = D::Doc;

    fn describe(&self) -> FlowSpec {
        let mut spec = self.def.describe();
        if self.floor.is_some() {
            spec.date_floor = self.floor;
        }
        spec
    }

    fn documents(&self, record: &SourceRecord<<Self::Source as Source>::Record>) -> Vec<SourceDoc<Self::Doc>> {
        self.def.documents(record)
    }

    fn eligibility(&self, doc: &SourceDoc<Self::Doc>) -> Eligibility {
        self.def.eligibility(doc)
    }

    fn required_mappings(&self, doc: &SourceDoc<Self::Doc>) -> Vec<MappingKey> {
        self.def.required_mappings(doc)
    }

    fn map(
        &self,
        doc: &SourceDoc<Self::Doc>,
        mappings: &MappingSet,
    ) -> Result<<Self::Target as Target>::Doc, MapError> {
        self.def.map(doc, mappings)
    }

    fn plan(&self, doc: &<Self::Target as Target>::Doc, found: Option<Found>) -> Plan {
        self.def.plan(doc, found)
    }

    fn pairings(&self, doc: &SourceDoc<Self::Doc>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        self.def.pairings(doc, target)
    }

    async fn after_settled(&self, doc: &SourceDoc<Self::Doc>, target: &TargetRef) -> Result<(), StepError> {
        self.def.after_settled(doc, target).await
    }
}

/// One flow of a [`SourceGroup`], with its record type erased to the source's.
#[async_trait]
pub trait Member<R>: Send + Sync {
    fn flow_spec(&self) -> &FlowSpec;
    /// Work what the shared read-back found (or the error it met) through this flow.
    async fn take(
        &self,
        engine: &Engine,
        hint: &Hint,
        read: Result<ReadBack<SourceRecord<R>>, StepError>,
        exchanges: Vec<Exchange>,
        read_at: DateTime<Utc>,
    ) -> Result<HintReport, EngineError>;
}

#[async_trait]
impl<D: FlowDef> Member<<D::Source as Source>::Record> for Composed<D> {
    fn flow_spec(&self) -> &FlowSpec {
        &self.spec
    }

    async fn take(
        &self,
        engine: &Engine,
        hint: &Hint,
        read: Result<ReadBack<SourceRecord<<D::Source as Source>::Record>>, StepError>,
        exchanges: Vec<Exchange>,
        read_at: DateTime<Utc>,
    ) -> Result<HintReport, EngineError> {
        let read = read.map(|rb| match rb {
            ReadBack::Found { items, continuation } => ReadBack::Found { items: self.docs(&items), continuation },
            ReadBack::Gone(why) => ReadBack::Gone(why),
        });
        engine.process_read(self, hint, read, exchanges, read_at).await
    }
}

/// A source and the flows that read it: one poll, one read-back per record version.
#[async_trait]
pub trait SourceRunner: Send + Sync {
    fn spec(&self) -> &SourceSpec;
    /// The flows reading this source.
    fn flows(&self) -> Vec<&FlowSpec>;
    /// Discover → enqueue → advance the source's cursor.
    async fn poll(&self, engine: &Engine) -> Result<PollReport, EngineError>;
    /// Read the hinted record back once and hand it to every flow the hint is for.
    async fn handle(&self, engine: &Engine, hint: &Hint) -> Result<HintReport, EngineError>;
    fn as_any(&self) -> &dyn Any;
}

/// The flows of one source, sharing its reads.
pub struct SourceGroup<S: Source> {
    pub source: Arc<S>,
    members: Vec<Arc<dyn Member<S::Record>>>,
}

impl<S: Source> SourceGroup<S> {
    pub fn new(source: Arc<S>) -> Self {
        SourceGroup { source, members: Vec::new() }
    }

    pub fn add(&mut self, member: Arc<dyn Member<S::Record>>) {
        self.members.push(member);
    }

    /// Where a first poll starts: the widest lookback of the member flows (`None`: everything).
    fn start(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut widest: Option<Duration> = Some(Duration::ZERO);
        for m in &self.members {
            widest = match (widest, m.flow_spec().lookback) {
                (Some(a), Some(b)) => Some(a.max(b)),
                _ => None,
            };
        }
        widest.and_then(|w| chrono::Duration::from_std(w).ok()).map(|w| now - w)
    }
}

#[async_trait]
impl<S: Source> SourceRunner for SourceGroup<S> {
    fn spec(&self) -> &SourceSpec {
        self.source.spec()
    }

    fn flows(&self) -> Vec<&FlowSpec> {
        self.members.iter().map(|m| m.flow_spec()).collect()
    }

    async fn poll(&self, engine: &Engine) -> Result<PollReport, EngineError> {
        let key = self.source.spec().key();
        let legacy: Vec<String> = self.members.iter().map(|m| m.flow_spec().name.clone()).collect();
        let now = engine.clock.now();
        let ctx = DiscoverContext { now, start: self.start(now) };
        if let Some(l) = &engine.ledger {
            for m in &self.members {
                l.reads(&m.flow_spec().name, &key);
            }
        }
        engine.poll_cursor(&key, &legacy, &ctx, self.source.as_ref()).await
    }

    async fn handle(&self, engine: &Engine, hint: &Hint) -> Result<HintReport, EngineError> {
        let members: Vec<&Arc<dyn Member<S::Record>>> =
            self.members.iter().filter(|m| hint.flow.is_empty() || m.flow_spec().name == hint.flow).collect();
        if members.is_empty() {
            return Ok(HintReport {
                note: Some(format!("no enabled flow reads {} for this hint", self.source.spec().key())),
                ..Default::default()
            });
        }
        // A version every member already processed needs no read-back at all.
        let mut pending = Vec::with_capacity(members.len());
        for m in members {
            if let Some(v) = &hint.observed_version
                && engine.store.seen_version(&hint.flow_record_key(&m.flow_spec().name)).await?.as_deref()
                    == Some(v.as_str())
            {
                if let Some(l) = &engine.ledger {
                    l.worked(&m.flow_spec().name, &hint.id, crate::engine::ledger::RecordOutcome::AlreadyProcessed);
                }
                continue;
            }
            pending.push(m);
        }
        if pending.is_empty() {
            let v = hint.observed_version.clone().unwrap_or_default();
            return Ok(HintReport { note: Some(format!("version {v} already processed")), ..Default::default() });
        }
        let blobs = StoreBlobs(engine.store.as_ref());
        let ctx = ReadContext { now: engine.clock.now(), blobs: &blobs };
        let (read, exchanges) = capture(self.source.read_back(hint, &ctx)).await;
        let read_at = engine.clock.now();
        if let Ok(ReadBack::Found { continuation: Some(next), .. }) = &read {
            // The next chunk is queued before this one is worked, so a crash loses neither.
            let mut more = hint.clone();
            more.part = Some(next.clone());
            more.observed_version = None;
            engine.queue.enqueue(&[more]).await?;
        }
        let mut report = HintReport::default();
        for m in pending {
            let r = m.take(engine, hint, read.clone(), exchanges.clone(), read_at).await?;
            report.docs.extend(r.docs);
            report.retry_after = match (report.retry_after, r.retry_after) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if report.note.is_none() {
                report.note = r.note;
            }
        }
        Ok(report)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Build-time index of source groups by key, so flows on one source share one group.
#[derive(Default)]
pub struct GroupBuilder {
    groups: BTreeMap<String, Box<dyn GroupSlot>>,
}

/// A `SourceGroup<S>` with `S` erased, until it is finished into a runner.
trait GroupSlot: Send + Sync {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn into_runner(self: Box<Self>) -> Arc<dyn SourceRunner>;
}

impl<S: Source> GroupSlot for SourceGroup<S> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn into_runner(self: Box<Self>) -> Arc<dyn SourceRunner> {
        Arc::new(*self)
    }
}

impl GroupBuilder {
    /// Add a composed flow to its source's group (created on first use). Two flows on the same
    /// connection and record family must use the same source type.
    pub fn add<D: FlowDef>(&mut self, flow: Arc<Composed<D>>) -> Result<(), String> {
        let key = flow.source.spec().key();
        let slot = self.groups.entry(key.clone()).or_insert_with(|| Box::new(SourceGroup::new(flow.source.clone())));
        let group = slot.as_any_mut().downcast_mut::<SourceGroup<D::Source>>().ok_or_else(|| {
            format!("source {key} is read by flows built on different source types; each record family needs one source type")
        })?;
        group.add(flow);
        Ok(())
    }

    /// The groups, ready to run.
    pub fn finish(self) -> BTreeMap<String, Arc<dyn SourceRunner>> {
        self.groups.into_iter().map(|(k, g)| (k, g.into_runner())).collect()
    }
}

/// Anything that can list changes since a cursor: a source, or a flow that reads on its own.
#[async_trait]
pub trait Discoverer: Send + Sync {
    async fn discover_page(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError>;
}

#[async_trait]
impl<S: Source> Discoverer for S {
    async fn discover_page(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.discover(cursor, ctx).await
    }
}
