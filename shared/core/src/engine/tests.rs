//! Engine tests against a fake source and target. The property test at the bottom drives random
//! interleavings of duplicate hints, polls, two concurrent workers, crashes at every await point of
//! the store and the flow, and lost create answers, then checks the engine's promises: never two
//! creates for one natural key, never a lost record, every item ends in a visible terminal state.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::flow::*;
use super::memory::{MemoryQueue, MemoryStore};
use super::model::*;
use super::ports::*;
use super::*;
use crate::mapping::{Mapping, MappingKey, MappingKind, MappingSet, Resolver};
use crate::testkit::t0;

// ------------------------------------------------------------------ a crash fuse

/// Counts await points; when it reaches zero the current worker "crashes": every later await on
/// a fused operation never completes, and the driver drops the future.
#[derive(Default)]
struct Fuse {
    left: AtomicI64,
    armed: AtomicBool,
    blown: AtomicBool,
}

impl Fuse {
    fn arm(&self, after: i64) {
        self.left.store(after, Ordering::SeqCst);
        self.blown.store(false, Ordering::SeqCst);
        self.armed.store(true, Ordering::SeqCst);
    }
    fn disarm(&self) {
        self.armed.store(false, Ordering::SeqCst);
        self.blown.store(false, Ordering::SeqCst);
    }
    async fn tick(&self) {
        tokio::task::yield_now().await;
        if self.blown.load(Ordering::SeqCst) {
            std::future::pending::<()>().await;
        }
        if self.armed.load(Ordering::SeqCst) && self.left.fetch_sub(1, Ordering::SeqCst) <= 0 {
            self.blown.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
    }
    fn is_blown(&self) -> bool {
        self.blown.load(Ordering::SeqCst)
    }
}

/// A store whose key operations pass through the fuse before and after they take effect.
struct FusedStore {
    inner: MemoryStore,
    fuse: Arc<Fuse>,
}

#[async_trait]
impl Store for FusedStore {
    async fn register(&self, item: NewItem, now: DateTime<Utc>) -> Result<(WorkItem, bool), StoreError> {
        self.fuse.tick().await;
        let r = self.inner.register(item, now).await;
        self.fuse.tick().await;
        r
    }
    async fn claim(
        &self,
        key: &ItemKey,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimResult, StoreError> {
        self.fuse.tick().await;
        let r = self.inner.claim(key, owner, now, until).await;
        self.fuse.tick().await;
        r
    }
    async fn transition(
        &self,
        key: &ItemKey,
        owner: &str,
        t: Transition,
        now: DateTime<Utc>,
    ) -> Result<WorkItem, StoreError> {
        self.fuse.tick().await;
        let r = self.inner.transition(key, owner, t, now).await;
        self.fuse.tick().await;
        r
    }
    async fn get_item(&self, key: &ItemKey) -> Result<Option<WorkItem>, StoreError> {
        self.inner.get_item(key).await
    }
    async fn list_items(&self, f: &ItemFilter) -> Result<Vec<WorkItem>, StoreError> {
        self.inner.list_items(f).await
    }
    async fn state_counts(&self) -> Result<Vec<StateCount>, StoreError> {
        self.inner.state_counts().await
    }
    async fn items_waiting_for(&self, key: &MappingKey) -> Result<Vec<WorkItem>, StoreError> {
        self.inner.items_waiting_for(key).await
    }
    async fn holding_natural_key(&self, scope: &str, flow: &str, nk: &str) -> Result<Vec<WorkItem>, StoreError> {
        self.fuse.tick().await;
        self.inner.holding_natural_key(scope, flow, nk).await
    }
    async fn open_versions(
        &self,
        flow: &str,
        system: &str,
        doc_id: &str,
        except: Option<&ItemKey>,
    ) -> Result<Vec<WorkItem>, StoreError> {
        self.fuse.tick().await;
        self.inner.open_versions(flow, system, doc_id, except).await
    }
    async fn append_audit(&self, key: &ItemKey, e: AuditEntry) -> Result<(), StoreError> {
        self.inner.append_audit(key, e).await
    }
    async fn audit_trail(&self, key: &ItemKey) -> Result<Vec<AuditEntry>, StoreError> {
        self.inner.audit_trail(key).await
    }
    async fn put_blob(&self, h: &str, b: &[u8]) -> Result<(), StoreError> {
        self.inner.put_blob(h, b).await
    }
    async fn get_blob(&self, h: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.get_blob(h).await
    }
    async fn get_cursor(&self, flow: &str) -> Result<Option<Cursor>, StoreError> {
        self.inner.get_cursor(flow).await
    }
    async fn cas_cursor(&self, flow: &str, expected: Option<&str>, new: &Cursor) -> Result<bool, StoreError> {
        self.inner.cas_cursor(flow, expected, new).await
    }
    async fn list_cursors(&self) -> Result<Vec<Cursor>, StoreError> {
        self.inner.list_cursors().await
    }
    async fn put_mapping(&self, m: &Mapping) -> Result<(), StoreError> {
        self.inner.put_mapping(m).await
    }
    async fn get_mappings(&self, keys: &[MappingKey]) -> Result<Vec<Mapping>, StoreError> {
        self.fuse.tick().await;
        self.inner.get_mappings(keys).await
    }
    async fn list_mappings(&self, scope: Option<&str>) -> Result<Vec<Mapping>, StoreError> {
        self.inner.list_mappings(scope).await
    }
    async fn delete_mapping(&self, key: &MappingKey) -> Result<bool, StoreError> {
        self.inner.delete_mapping(key).await
    }
    async fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        self.fuse.tick().await;
        let r = self.inner.try_lock(name, owner, now, until).await;
        self.fuse.tick().await;
        r
    }
    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        self.fuse.tick().await;
        self.inner.unlock(name, owner).await
    }
    async fn first_delivery(&self, s: &str, d: &str, now: DateTime<Utc>, ttl: Duration) -> Result<bool, StoreError> {
        self.inner.first_delivery(s, d, now, ttl).await
    }
    async fn seen_version(&self, rk: &str) -> Result<Option<String>, StoreError> {
        self.inner.seen_version(rk).await
    }
    async fn set_seen_version(&self, rk: &str, v: &str) -> Result<(), StoreError> {
        self.fuse.tick().await;
        self.inner.set_seen_version(rk, v).await
    }
}

// ------------------------------------------------------------------ a fake source + target

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Bill {
    vendor: String,
    invoice: String,
    account: String,
    cents: i64,
    authorised: bool,
}

#[derive(Debug, Clone, Serialize)]
struct Voucher {
    nk: String,
    account: String,
    cents: i64,
}

/// What the fake target does with the next create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CreateFault {
    None,
    /// The write commits, the answer is lost.
    CommitThenLose,
    /// The connection drops before the server processes it; the client cannot tell.
    LoseBeforeCommit,
    /// Refused before sending (rate limit).
    Throttled,
    /// Refused before sending, come back in a minute.
    ThrottledMinute,
    /// Rejected by validation.
    Rejected,
}

#[derive(Default)]
struct World {
    /// id → (version, bill)
    source: BTreeMap<String, (u32, Bill)>,
    /// natural key → (voucher id, cents)
    target: BTreeMap<String, (String, i64)>,
    creates: BTreeMap<String, u32>,
    faults: Vec<CreateFault>,
    read_back_fails: bool,
    lookups: u32,
    /// Records that change right after their next read (a concurrent edit in the source).
    change_after_read: Vec<String>,
    /// The target's lookups answer from a cache filled before the last write (another process
    /// wrote since): plain lookups miss, fresh ones see the truth.
    stale_cache: bool,
}

struct FakeFlow {
    spec: FlowSpec,
    world: Arc<Mutex<World>>,
    fuse: Arc<Fuse>,
    /// The second source names the world's bill `B1` as `X1`: its own document, same bill.
    other_source: bool,
}

/// The second flow: another source posting the same bills into the same target connection.
const OTHER_FLOW: &str = "fake-ap-2";

impl FakeFlow {
    fn new(world: Arc<Mutex<World>>, fuse: Arc<Fuse>) -> Self {
        Self::reading(world, fuse, false)
    }

    fn reading(world: Arc<Mutex<World>>, fuse: Arc<Fuse>, other_source: bool) -> Self {
        FakeFlow {
            other_source,
            spec: FlowSpec {
                name: if other_source { OTHER_FLOW } else { "fake-ap" }.into(),
                source_system: if other_source { "src2" } else { "src" }.into(),
                target_connection: "tgt".into(),
                target_system: "tgt".into(),
                mapping_scope: "src-tgt".into(),
                description: "fake bills → fake vouchers".into(),
                has_webhooks: true,
                ..Default::default()
            },
            world,
            fuse,
        }
    }
    fn w(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap()
    }
    /// This source's id for the world's bill `B1` (`X1` in the other source).
    fn doc_id(&self, bill: &str) -> String {
        if self.other_source { bill.replacen('B', "X", 1) } else { bill.to_string() }
    }
    /// The world's bill behind this source's id.
    fn bill_id(&self, doc: &str) -> String {
        if self.other_source { doc.replacen('X', "B", 1) } else { doc.to_string() }
    }
}

#[async_trait]
impl Flow for FakeFlow {
    type Record = Bill;
    type Target = Voucher;

    fn spec(&self) -> &FlowSpec {
        &self.spec
    }

    async fn discover(&self, _cursor: Option<&Cursor>, now: DateTime<Utc>) -> Result<DiscoveryPage, StepError> {
        let w = self.w();
        let hints = w
            .source
            .iter()
            .map(|(id, (v, _))| {
                Hint::new(&self.spec.name, &self.spec.source_system, "bill", &self.doc_id(id), Origin::Poll, now)
                    .with_version(v.to_string())
            })
            .collect();
        Ok(DiscoveryPage { hints, next_cursor: Some(now.to_rfc3339()), has_more: false })
    }

    async fn read_back(&self, hint: &Hint) -> Result<Vec<SourceDoc<Bill>>, StepError> {
        self.fuse.tick().await;
        crate::engine::capture::record(fake_exchange("src", "GET", &format!("http://src/bills/{}", hint.id)));
        let mut w = self.w();
        if w.read_back_fails {
            return Err(StepError::permanent(format!("src bill {}: answer was not JSON", hint.id)));
        }
        let bill = self.bill_id(&hint.id);
        let read = w.source.get(&bill).cloned();
        if let Some(pos) = w.change_after_read.iter().position(|id| id == &bill) {
            w.change_after_read.remove(pos);
            if let Some((v, b)) = w.source.get_mut(&bill) {
                *v += 1;
                b.cents += 1;
            }
        }
        Ok(read
            .as_ref()
            .map(|(v, b)| SourceDoc {
                entity: "bill".into(),
                id: hint.id.clone(),
                version: v.to_string(),
                summary: ItemSummary { label: format!("{} from {}", b.invoice, b.vendor), ..Default::default() },
                record: b.clone(),
            })
            .into_iter()
            .collect())
    }

    fn eligibility(&self, doc: &SourceDoc<Bill>) -> Eligibility {
        if doc.record.authorised {
            Eligibility::Eligible
        } else {
            Eligibility::Skip("draft: not authorised yet".into())
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<Bill>) -> Vec<MappingKey> {
        vec![MappingKey::new("src-tgt", MappingKind::ACCOUNT, &doc.record.account)]
    }

    fn map(&self, doc: &SourceDoc<Bill>, set: &MappingSet) -> Result<Voucher, MapError> {
        let mut r = Resolver::new(set, "src-tgt");
        let account = r.resolve(MappingKind::ACCOUNT, &doc.record.account);
        r.finish().map_err(MapError::Missing)?;
        Ok(Voucher {
            nk: format!("{}#{}", doc.record.vendor, doc.record.invoice),
            account: account.unwrap_or_default(),
            cents: doc.record.cents,
        })
    }

    fn natural_key(&self, t: &Voucher) -> String {
        t.nk.clone()
    }

    fn facts(&self, t: &Voucher) -> DocFacts {
        DocFacts { amount: Some(rust_decimal::Decimal::new(t.cents, 2)), ..Default::default() }
    }

    fn rekey(&self, t: &mut Voucher, number: &str) -> Result<(), String> {
        let vendor = t.nk.split('#').next().unwrap_or_default().to_string();
        t.nk = format!("{vendor}#{number}");
        Ok(())
    }

    async fn lookup(&self, t: &Voucher) -> Result<Option<Found>, StepError> {
        if self.w().stale_cache {
            self.fuse.tick().await;
            return Ok(None);
        }
        self.lookup_fresh(t).await
    }

    async fn lookup_fresh(&self, t: &Voucher) -> Result<Option<Found>, StepError> {
        self.fuse.tick().await;
        let mut w = self.w();
        w.lookups += 1;
        Ok(w.target.get(&t.nk).map(|(id, cents)| {
            Found::new(TargetRef {
                system: "tgt".into(),
                entity: "voucher".into(),
                id: id.clone(),
                display: None,
                status: None,
            })
            .with_facts(DocFacts { amount: Some(rust_decimal::Decimal::new(*cents, 2)), ..Default::default() })
        }))
    }

    async fn create(&self, t: &Voucher) -> Result<TargetRef, StepError> {
        self.fuse.tick().await;
        crate::engine::capture::record(fake_exchange("tgt", "POST", "http://tgt/vouchers"));
        let fault = {
            let mut w = self.w();
            if w.faults.is_empty() { CreateFault::None } else { w.faults.remove(0) }
        };
        let commit = |w: &mut World| {
            let id = format!("V{:04}", w.target.len() + 1);
            w.target.insert(t.nk.clone(), (id.clone(), t.cents));
            *w.creates.entry(t.nk.clone()).or_default() += 1;
            id
        };
        match fault {
            CreateFault::Throttled => return Err(StepError::retry_after("tgt: 429", Duration::from_secs(2))),
            CreateFault::ThrottledMinute => {
                return Err(StepError::retry_after("tgt: 429", Duration::from_secs(60)).with_code("tgt_budget"));
            }
            CreateFault::Rejected => {
                return Err(StepError::permanent(format!("tgt: account {} is inactive", t.account)));
            }
            CreateFault::LoseBeforeCommit => return Err(StepError::in_doubt("tgt: connection reset")),
            CreateFault::CommitThenLose => {
                commit(&mut self.w());
                return Err(StepError::in_doubt("tgt: timed out after sending"));
            }
            CreateFault::None => {}
        }
        let id = commit(&mut self.w());
        self.fuse.tick().await;
        Ok(TargetRef {
            system: "tgt".into(),
            entity: "voucher".into(),
            id,
            display: None,
            status: Some("draft".into()),
        })
    }
}

// ------------------------------------------------------------------ harness

struct Harness {
    clock: ManualClock,
    store: MemoryStore,
    queue: MemoryQueue,
    fuse: Arc<Fuse>,
    world: Arc<Mutex<World>>,
    flows: FlowRegistry,
    engines: Vec<Engine>,
    /// Everything both workers do is counted in one run ledger.
    ledger: ledger::LedgerRecorder,
}

fn config() -> EngineConfig {
    EngineConfig {
        lock_ttl: Duration::from_secs(60),
        max_attempts: 1000,
        in_doubt_settle: Duration::from_secs(30),
        retry_base: Duration::from_secs(1),
        retry_cap: Duration::from_secs(10),
        auth_retry: Duration::from_secs(20),
        busy_retry: Duration::from_secs(2),
        inline_body_limit: 64,
        delivery_ttl: Duration::from_secs(3600),
    }
}

impl Harness {
    fn new() -> Self {
        let clock = ManualClock::new(t0());
        let store = MemoryStore::new();
        let queue = MemoryQueue::new(Arc::new(clock.clone()), 10_000);
        let fuse = Arc::new(Fuse::default());
        let world = Arc::new(Mutex::new(World::default()));
        let mut flows = FlowRegistry::new();
        flows.add(Arc::new(FakeFlow::new(world.clone(), fuse.clone())));
        flows.add(Arc::new(FakeFlow::reading(world.clone(), fuse.clone(), true)));
        let fused: Arc<dyn Store> = Arc::new(FusedStore { inner: store.clone(), fuse: fuse.clone() });
        let ledger = ledger::LedgerRecorder::new(t0());
        let engines = ["w1", "w2"]
            .iter()
            .map(|w| {
                Engine::new(fused.clone(), Arc::new(queue.clone()), Arc::new(clock.clone()), config())
                    .with_worker(*w)
                    .with_ledger(ledger.clone())
            })
            .collect();
        Harness { clock, store, queue, fuse, world, flows, engines, ledger }
    }

    fn bill(&self, id: &str, vendor: &str, invoice: &str, account: &str, authorised: bool) {
        let b =
            Bill { vendor: vendor.into(), invoice: invoice.into(), account: account.into(), cents: 10_000, authorised };
        self.world.lock().unwrap().source.insert(id.into(), (1, b));
    }

    fn bump(&self, id: &str) {
        if let Some((v, b)) = self.world.lock().unwrap().source.get_mut(id) {
            *v += 1;
            b.cents += 1;
        }
    }

    async fn map_account(&self, code: &str) -> ReleaseReport {
        let m = Mapping {
            key: MappingKey::new("src-tgt", MappingKind::ACCOUNT, code),
            target: format!("GL{code}"),
            note: None,
            updated_at: self.clock.now(),
        };
        self.engines[0].add_mapping(m).await.unwrap()
    }

    async fn webhook(&self, id: &str) {
        self.engines[0]
            .queue
            .enqueue(&[Hint::new("fake-ap", "src", "bill", id, Origin::Webhook, self.clock.now())])
            .await
            .unwrap();
    }

    async fn drain(&self) -> DrainReport {
        self.engines[0].drain(&self.flows, 4).await.unwrap()
    }

    async fn item(&self, id: &str, version: u32) -> WorkItem {
        self.store
            .get_item(&ItemKey::new("fake-ap", "src", id, &version.to_string()))
            .await
            .unwrap()
            .expect("item exists")
    }

    async fn events(&self, id: &str, version: u32) -> Vec<String> {
        let key = ItemKey::new("fake-ap", "src", id, &version.to_string());
        self.store.audit_trail(&key).await.unwrap().into_iter().map(|e| e.event).collect()
    }

    fn creates(&self, nk: &str) -> u32 {
        self.world.lock().unwrap().creates.get(nk).copied().unwrap_or(0)
    }
}

// ------------------------------------------------------------------ scenarios

#[tokio::test]
async fn webhook_then_poll_posts_once_and_counts_the_duplicate() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.webhook("B1").await;
    let r = h.drain().await;
    assert_eq!(r.outcomes.get(&DocOutcome::Posted), Some(&1));
    let item = h.item("B1", 1).await;
    assert_eq!(item.state, ItemState::Posted);
    assert_eq!(item.target.as_ref().unwrap().status.as_deref(), Some("draft"), "target status is reported");
    assert_eq!(h.events("B1", 1).await, ["claimed", "read_back", "write_sent", "posted"]);

    let report = h.flows.get("fake-ap").unwrap().poll(&h.engines[0]).await.unwrap();
    assert!(report.cursor.is_some());
    let r = h.drain().await;
    assert_eq!(h.creates("ACME#INV-1"), 1);
    assert_eq!(r.outcomes.get(&DocOutcome::Duplicate), Some(&1), "{r:?}");
    let item = h.item("B1", 1).await;
    assert!(item.seen_by_webhook && item.seen_by_poll, "both origins noted on one item");
}

#[tokio::test]
async fn drafts_are_skipped_with_the_reason() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", false);
    h.webhook("B1").await;
    h.drain().await;
    let item = h.item("B1", 1).await;
    assert_eq!(item.state, ItemState::Skipped);
    assert_eq!(item.reason.as_deref(), Some("draft: not authorised yet"));
    assert_eq!(h.creates("ACME#INV-1"), 0);
}

#[tokio::test]
async fn missing_mapping_parks_the_item_and_adding_it_releases_exactly_those_items() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "300", true);
    h.bill("B2", "ACME", "INV-2", "300", true);
    h.bill("B3", "ACME", "INV-3", "400", true);
    for id in ["B1", "B2", "B3"] {
        h.webhook(id).await;
    }
    h.drain().await;
    for id in ["B1", "B2", "B3"] {
        assert_eq!(h.item(id, 1).await.state, ItemState::NeedsMapping);
    }
    let b1 = h.item("B1", 1).await;
    assert_eq!(b1.missing, vec![MappingKey::new("src-tgt", MappingKind::ACCOUNT, "300")]);
    assert!(b1.reason.unwrap().contains("\"300\""));

    let released = h.map_account("300").await;
    assert_eq!(released.released.len(), 2, "{released:?}");
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::Posted);
    assert_eq!(h.item("B2", 1).await.state, ItemState::Posted);
    assert_eq!(h.item("B3", 1).await.state, ItemState::NeedsMapping, "B3 waits for another code");
    assert!(h.events("B1", 1).await.contains(&"released".to_string()));
}

#[tokio::test]
async fn a_lost_answer_after_commit_is_resolved_by_lookup_without_a_second_create() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.world.lock().unwrap().faults.push(CreateFault::CommitThenLose);
    h.webhook("B1").await;
    h.drain().await;
    let item = h.item("B1", 1).await;
    assert_eq!(item.state, ItemState::InDoubt);
    assert!(item.reason.as_deref().unwrap().contains("answer was lost"), "{:?}", item.reason);
    h.clock.advance(Duration::from_secs(31));
    h.drain().await;
    let item = h.item("B1", 1).await;
    assert_eq!(item.state, ItemState::Posted, "{:?}", item.reason);
    assert!(item.reason.unwrap().contains("earlier create landed"));
    assert_eq!(h.creates("ACME#INV-1"), 1);
}

#[tokio::test]
async fn an_in_doubt_create_is_resolved_by_a_lookup_that_trusts_no_cache() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.world.lock().unwrap().faults.push(CreateFault::CommitThenLose);
    h.webhook("B1").await;
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::InDoubt);
    // Another process picks the item up later; its target caches were filled before the write.
    h.world.lock().unwrap().stale_cache = true;
    h.clock.advance(Duration::from_secs(61));
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::Posted);
    assert_eq!(h.creates("ACME#INV-1"), 1, "a cached miss never decides an in-doubt create");
}

#[tokio::test]
async fn a_lost_request_that_never_landed_is_created_after_the_settle_delay() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.world.lock().unwrap().faults.push(CreateFault::LoseBeforeCommit);
    h.webhook("B1").await;
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::InDoubt);
    // Before the settle delay a negative lookup is not trusted.
    h.clock.advance(Duration::from_secs(5));
    h.webhook("B1").await;
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::InDoubt);
    assert_eq!(h.creates("ACME#INV-1"), 0);
    h.clock.advance(Duration::from_secs(30));
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::Posted);
    assert_eq!(h.creates("ACME#INV-1"), 1);
}

#[tokio::test]
async fn a_document_keyed_by_hand_is_skipped_with_its_target_ids() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.world.lock().unwrap().target.insert("ACME#INV-1".into(), ("HAND-1".into(), 10_000));
    h.webhook("B1").await;
    let r = h.drain().await;
    assert_eq!(r.outcomes.get(&DocOutcome::Skipped), Some(&1));
    let item = h.item("B1", 1).await;
    assert_eq!(item.state, ItemState::Skipped);
    assert!(item.reason.as_deref().unwrap().starts_with("already in tgt"), "{:?}", item.reason);
    assert_eq!(item.target.unwrap().id, "HAND-1");
}

#[tokio::test]
async fn throttled_creates_retry_and_rejections_wait_for_a_replay() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.world.lock().unwrap().faults.extend([CreateFault::Throttled, CreateFault::Rejected]);
    h.webhook("B1").await;
    h.drain().await;
    let item = h.item("B1", 1).await;
    assert_eq!(item.state_label(), "failed (retryable)");
    h.clock.advance(Duration::from_secs(3));
    h.drain().await;
    let item = h.item("B1", 1).await;
    assert_eq!(item.state_label(), "failed (permanent)");
    assert!(item.reason.as_deref().unwrap().contains("inactive"));
    // Nothing happens by itself now.
    h.clock.advance(Duration::from_secs(3600));
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::Failed);
    // A person fixes the account and replays.
    let rep = h.engines[0].replay(vec![h.item("B1", 1).await], "account re-activated").await.unwrap();
    assert_eq!(rep.requeued.len(), 1);
    h.drain().await;
    let item = h.item("B1", 1).await;
    assert_eq!(item.state, ItemState::Posted);
    assert!(h.events("B1", 1).await.contains(&"replay_requested".to_string()));
    // Replaying a posted item does nothing.
    let rep = h.engines[0].replay(vec![item], "again").await.unwrap();
    assert_eq!(rep.not_replayed.len(), 1);
    assert_eq!(h.creates("ACME#INV-1"), 1);
}

#[tokio::test]
async fn waiting_for_another_items_write_of_the_same_key_never_uses_up_attempts() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    // Another worker holds the natural-key lock for a long write.
    let lock = "nk#tgt#ACME#INV-1";
    let now = h.clock.now();
    assert!(h.store.try_lock(lock, "other", now, now + chrono::Duration::seconds(600)).await.unwrap().is_none());
    h.webhook("B1").await;
    for _ in 0..30 {
        h.drain().await;
        h.clock.advance(Duration::from_secs(3));
    }
    let item = h.item("B1", 1).await;
    assert_eq!(item.state, ItemState::Pending, "{:?}", item.reason);
    assert!(item.attempts <= 1, "waits counted as attempts: {}", item.attempts);
    assert!(h.events("B1", 1).await.iter().filter(|e| *e == "waiting_for_lock").count() >= 10);
    h.store.unlock(lock, "other").await.unwrap();
    h.clock.advance(Duration::from_secs(3));
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::Posted);
    assert_eq!(h.creates("ACME#INV-1"), 1);
}

/// The race behind a document once left `pending` with no message (the Coupa demo, 1 run in
/// 20): two hints carry the same observed version. Hint A reads a version the other hint never
/// produces (Coupa's "settle again" version, made while the first post was still telling Coupa)
/// and waits for the natural-key lock; hint B finishes meanwhile and records the observed version
/// as processed. A's retry must read again, not trust B's record: only A's read knows about the
/// waiting version, which the re-read then closes as superseded.
#[tokio::test]
async fn a_retried_hint_reads_again_though_another_hint_processed_its_observed_version() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.webhook("B1").await;
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::Posted);

    // Hint A (observed stamp "s7") reads version 2 while another worker holds the natural key.
    h.bump("B1");
    let lock = "nk#tgt#ACME#INV-1";
    let now = h.clock.now();
    assert!(h.store.try_lock(lock, "other", now, now + chrono::Duration::seconds(2)).await.unwrap().is_none());
    h.clock.advance(Duration::from_secs(1));
    let stamped = Hint::new("fake-ap", "src", "bill", "B1", Origin::Webhook, h.clock.now()).with_version("s7");
    h.engines[0].queue.enqueue(std::slice::from_ref(&stamped)).await.unwrap();
    let r = h.drain().await;
    assert_eq!(r.outcomes.get(&DocOutcome::Busy), Some(&1), "{r:?}");
    assert_eq!(h.item("B1", 2).await.state, ItemState::Pending);

    // Hint B, same stamp, read version 1 again and finished: it recorded "s7" as processed.
    h.world.lock().unwrap().source.get_mut("B1").unwrap().0 = 1;
    h.store.set_seen_version(&stamped.flow_record_key("fake-ap"), "s7").await.unwrap();
    h.store.unlock(lock, "other").await.unwrap();
    for _ in 0..5 {
        h.clock.advance(Duration::from_secs(3));
        h.drain().await;
    }
    let waiting = h.item("B1", 2).await;
    assert_eq!(waiting.state, ItemState::Skipped, "left {:?}: {:?}", waiting.state, waiting.reason);
    assert!(waiting.reason.as_deref().unwrap_or_default().contains("superseded"), "{:?}", waiting.reason);
    assert_eq!(h.item("B1", 1).await.state, ItemState::Posted);
    assert_eq!(h.creates("ACME#INV-1"), 1);
    let d = h.engines[0].queue.depth().await.unwrap();
    assert_eq!(d.ready + d.in_flight + d.delayed, 0, "nothing left queued: {d:?}");
}

#[tokio::test]
async fn a_parts_own_reason_code_is_kept_on_the_failed_item() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.world.lock().unwrap().faults.push(CreateFault::ThrottledMinute);
    h.webhook("B1").await;
    h.drain().await;
    let item = h.item("B1", 1).await;
    assert_eq!(item.state_label(), "failed (retryable)");
    assert_eq!(item.code.as_deref(), Some("tgt_budget"), "the part's own reason code is kept");
    h.clock.advance(Duration::from_secs(61));
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::Posted);
    assert_eq!(h.creates("ACME#INV-1"), 1);
}

#[tokio::test]
async fn an_unreadable_record_gets_a_visible_item_that_a_replay_settles() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.world.lock().unwrap().read_back_fails = true;
    h.webhook("B1").await;
    h.drain().await;
    let unread = h.store.get_item(&ItemKey::new("fake-ap", "src", "B1", "unread")).await.unwrap().unwrap();
    assert_eq!(unread.state_label(), "failed (permanent)");
    assert!(unread.reason.as_deref().unwrap().contains("not JSON"));
    h.world.lock().unwrap().read_back_fails = false;
    h.engines[0].replay(vec![unread.clone()], "source fixed").await.unwrap();
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::Posted);
}

#[tokio::test]
async fn a_new_version_supersedes_an_open_older_one() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "300", true);
    h.webhook("B1").await;
    h.drain().await;
    assert_eq!(h.item("B1", 1).await.state, ItemState::NeedsMapping);
    h.bump("B1");
    h.map_account("300").await;
    h.drain().await;
    assert_eq!(h.item("B1", 2).await.state, ItemState::Posted);
    let old = h.item("B1", 1).await;
    assert_eq!(old.state, ItemState::Skipped);
    assert!(old.reason.unwrap().starts_with("superseded"));
    // A later version of a posted document is recognised as ours.
    h.bump("B1");
    h.webhook("B1").await;
    let r = h.drain().await;
    assert_eq!(r.outcomes.get(&DocOutcome::Duplicate), Some(&1));
    assert!(h.item("B1", 3).await.reason.unwrap().contains("already posted by ml-connector"));
    assert_eq!(h.creates("ACME#INV-1"), 1);
}

#[tokio::test]
async fn an_already_processed_version_is_not_read_back_again() {
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    let runner = h.flows.get("fake-ap").unwrap().clone();
    runner.poll(&h.engines[0]).await.unwrap();
    h.drain().await;
    let lookups = h.world.lock().unwrap().lookups;
    runner.poll(&h.engines[0]).await.unwrap();
    let r = h.drain().await;
    assert_eq!(r.hints, 1);
    assert!(r.outcomes.is_empty(), "{r:?}");
    assert_eq!(h.world.lock().unwrap().lookups, lookups);
}

#[tokio::test]
async fn gives_up_after_max_attempts_and_says_so() {
    let h = Harness::new();
    let mut e = h.engines[0].clone();
    e.config.max_attempts = 2;
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.map_account("200").await;
    h.world.lock().unwrap().faults.extend([CreateFault::Throttled; 5]);
    h.webhook("B1").await;
    for _ in 0..4 {
        e.drain(&h.flows, 1).await.unwrap();
        h.clock.advance(Duration::from_secs(5));
    }
    let item = h.item("B1", 1).await;
    assert_eq!(item.state_label(), "failed (permanent)");
    assert!(item.reason.unwrap().contains("gave up after 2 attempts"));
}

#[tokio::test]
async fn a_poll_that_cannot_enqueue_does_not_move_the_cursor() {
    struct BrokenQueue;
    #[async_trait]
    impl Queue for BrokenQueue {
        async fn enqueue(&self, _h: &[Hint]) -> Result<(), StoreError> {
            Err(StoreError::Unavailable("queue down".into()))
        }
        async fn receive(&self, _m: usize, _l: Duration) -> Result<Vec<Delivery>, StoreError> {
            Ok(vec![])
        }
        async fn ack(&self, _d: &Delivery) -> Result<(), StoreError> {
            Ok(())
        }
        async fn retry_later(&self, _d: &Delivery, _x: Duration) -> Result<(), StoreError> {
            Ok(())
        }
        async fn depth(&self) -> Result<QueueDepth, StoreError> {
            Ok(QueueDepth::default())
        }
    }
    let h = Harness::new();
    h.bill("B1", "ACME", "INV-1", "200", true);
    let mut e = h.engines[0].clone();
    e.queue = Arc::new(BrokenQueue);
    let err = h.flows.get("fake-ap").unwrap().poll(&e).await.unwrap_err();
    assert!(err.to_string().contains("queue down"));
    assert_eq!(h.store.get_cursor("fake-ap").await.unwrap(), None);
}

/// An exchange as the HTTP kit records it (the fakes make no HTTP calls).
fn fake_exchange(system: &str, method: &str, url: &str) -> Exchange {
    Exchange {
        at: Utc::now(),
        system: system.into(),
        method: method.into(),
        url: url.into(),
        status: Some(200),
        duration_ms: 1,
        request: None,
        response: Some(BodyRef::Inline { text: "{}".into() }),
        error: None,
    }
}

#[tokio::test]
async fn every_transition_carries_the_exchanges_that_caused_it() {
    // Issue 11, defect 4: posted and held items showed no request or response.
    let h = Harness::new();
    h.map_account("200").await;
    h.bill("B1", "ACME", "INV-1", "200", true);
    h.bill("B2", "ACME", "INV-2", "300", true);
    for id in ["B1", "B2"] {
        h.webhook(id).await;
    }
    h.drain().await;
    let calls = |id: &'static str| {
        let h = &h;
        async move {
            let key = h.item(id, 1).await.key;
            h.store
                .audit_trail(&key)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.event, e.exchanges.iter().map(|x| format!("{} {}", x.method, x.url)).collect::<Vec<_>>()))
                .collect::<Vec<_>>()
        }
    };
    let posted = calls("B1").await;
    assert!(posted.contains(&("read_back".into(), vec!["GET http://src/bills/B1".into()])), "{posted:?}");
    assert!(posted.contains(&("posted".into(), vec!["POST http://tgt/vouchers".into()])), "{posted:?}");
    let held = calls("B2").await;
    assert_eq!(h.item("B2", 1).await.state, ItemState::NeedsMapping);
    assert!(held.contains(&("read_back".into(), vec!["GET http://src/bills/B2".into()])), "{held:?}");
}

#[tokio::test]
async fn large_bodies_are_stored_once_by_hash() {
    let h = Harness::new();
    let item = h.store.register(crate::testkit::new_item("fake-ap", "X", "1", Origin::Poll), t0()).await.unwrap().0;
    let body = "x".repeat(1000);
    let ex = Exchange {
        at: t0(),
        system: "tgt".into(),
        method: "POST".into(),
        url: "http://t/x".into(),
        status: Some(201),
        duration_ms: 3,
        request: Some(BodyRef::Inline { text: body.clone() }),
        response: Some(BodyRef::Inline { text: "ok".into() }),
        error: None,
    };
    let t = Transition::to(ItemState::Skipped, AuditEntry::new(t0(), "w", "skipped", "x"));
    h.engines[0].write(&item, t, vec![ex]).await.unwrap();
    let trail = h.store.audit_trail(&item.key).await.unwrap();
    let Some(BodyRef::Blob { sha256, len }) = &trail[0].exchanges[0].request else { panic!("expected a blob ref") };
    assert_eq!(*len, 1000);
    assert_eq!(h.store.get_blob(sha256).await.unwrap().unwrap(), body.as_bytes());
    assert!(matches!(trail[0].exchanges[0].response, Some(BodyRef::Inline { .. })));
}

#[tokio::test]
async fn two_flows_from_different_sources_racing_on_one_natural_key_make_one_voucher() {
    // Two sources hold the same bill (vendor ACME, invoice INV-0) and post it into the same target
    // connection at the same moment, on two workers, with the create's answer sometimes lost.
    for round in 0..40 {
        let h = Harness::new();
        h.bill("B0", "ACME", "INV-0", "200", true);
        h.map_account("200").await;
        if round % 3 == 1 {
            h.world.lock().unwrap().faults.push(CreateFault::CommitThenLose);
        }
        let now = h.clock.now();
        h.queue
            .enqueue(&[
                Hint::new("fake-ap", "src", "bill", "B0", Origin::Webhook, now),
                Hint::new(OTHER_FLOW, "src2", "bill", "X0", Origin::Webhook, now),
            ])
            .await
            .unwrap();
        let deliveries = h.queue.receive(2, Duration::from_secs(60)).await.unwrap();
        assert_eq!(deliveries.len(), 2);
        futures::future::join_all(deliveries.iter().enumerate().map(|(i, d)| h.engines[i % 2].settle(&h.flows, d)))
            .await;
        for _ in 0..6 {
            h.clock.advance(Duration::from_secs(61));
            h.drain().await;
        }
        assert_eq!(h.creates("ACME#INV-0"), 1, "round {round}: one voucher, never two");
        let items = h.store.list_items(&ItemFilter::default()).await.unwrap();
        assert_eq!(items.len(), 2, "round {round}: one item per source document");
        let posted: Vec<_> = items.iter().filter(|i| i.state == ItemState::Posted).collect();
        assert_eq!(posted.len(), 1, "round {round}: {:?}", items.iter().map(|i| i.state).collect::<Vec<_>>());
        let other = items.iter().find(|i| i.state != ItemState::Posted).unwrap();
        assert_eq!(other.state, ItemState::NeedsReview, "round {round}: the other source's copy waits for a person");
        let c = other.conflict.as_ref().expect("both documents side by side");
        assert_eq!(c.existing_item.as_ref(), Some(&posted[0].key), "the conflict names the item that posted");
    }
}

// ------------------------------------------------------------------ the property test

#[derive(Debug, Clone)]
enum Step {
    Webhook(usize),
    Poll,
    /// Work up to two deliveries concurrently on two workers; crash after this many await points.
    Work {
        crash_after: Option<i64>,
    },
    Advance(u64),
    LoseNextCreate {
        committed: bool,
    },
    Update(usize),
    /// The record changes in the source right after its next read-back.
    UpdateDuringRead(usize),
    /// A second source document carrying the same vendor + invoice number as B{i}.
    Twin(usize),
    /// Both a webhook and a poll hint for one record (two origins: both reach the queue).
    Both(usize),
    MapAccount(usize),
    /// The other source announces its copy of B{i} (`X{i}`), to be posted into the same target.
    OtherSource(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0usize..4).prop_map(Step::Webhook),
        1 => Just(Step::Poll),
        4 => proptest::option::weighted(0.6, 0i64..40).prop_map(|c| Step::Work { crash_after: c }),
        2 => (1u64..90).prop_map(Step::Advance),
        1 => any::<bool>().prop_map(|committed| Step::LoseNextCreate { committed }),
        1 => (0usize..4).prop_map(Step::Update),
        1 => (0usize..4).prop_map(Step::UpdateDuringRead),
        1 => (0usize..4).prop_map(Step::Twin),
        2 => (0usize..4).prop_map(Step::Both),
        1 => (0usize..2).prop_map(Step::MapAccount),
        3 => (0usize..4).prop_map(Step::OtherSource),
    ]
}

const ACCOUNTS: [&str; 2] = ["200", "300"];

async fn work_with_crash(h: &Harness, crash_after: Option<i64>) {
    let deliveries = h.queue.receive(2, Duration::from_secs(60)).await.unwrap();
    if deliveries.is_empty() {
        return;
    }
    match crash_after {
        Some(n) => h.fuse.arm(n),
        None => h.fuse.disarm(),
    }
    let work =
        futures::future::join_all(deliveries.iter().enumerate().map(|(i, d)| h.engines[i % 2].settle(&h.flows, d)));
    let crashed = async {
        loop {
            if h.fuse.is_blown() {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::select! {
        _ = work => {}
        _ = crashed => {}
    }
    h.fuse.disarm();
}

async fn run_scenario(n_docs: usize, drafts: Vec<bool>, steps: Vec<Step>) {
    let h = Harness::new();
    for i in 0..n_docs {
        let account = ACCOUNTS[i % 2];
        h.bill(&format!("B{i}"), "ACME", &format!("INV-{i}"), account, !drafts[i]);
    }
    h.map_account("200").await;
    for s in steps {
        match s {
            Step::Webhook(i) if i < n_docs => h.webhook(&format!("B{i}")).await,
            Step::Webhook(_) => {}
            Step::Poll => {
                let _ = h.flows.get("fake-ap").unwrap().poll(&h.engines[1]).await;
            }
            Step::Work { crash_after } => work_with_crash(&h, crash_after).await,
            Step::Advance(s) => h.clock.advance(Duration::from_secs(s)),
            Step::LoseNextCreate { committed } => h.world.lock().unwrap().faults.push(if committed {
                CreateFault::CommitThenLose
            } else {
                CreateFault::LoseBeforeCommit
            }),
            Step::Update(i) if i < n_docs => h.bump(&format!("B{i}")),
            Step::Update(_) => {}
            Step::UpdateDuringRead(i) => h.world.lock().unwrap().change_after_read.push(format!("B{i}")),
            Step::Twin(i) if i < n_docs => {
                let mut w = h.world.lock().unwrap();
                let original = w.source[&format!("B{i}")].1.clone();
                w.source.insert(format!("T{i}"), (1, original));
            }
            Step::Twin(_) => {}
            Step::Both(i) if i < n_docs => {
                let id = format!("B{i}");
                let at = h.clock.now();
                h.queue
                    .enqueue(&[
                        Hint::new("fake-ap", "src", "bill", &id, Origin::Webhook, at),
                        Hint::new("fake-ap", "src", "bill", &id, Origin::Poll, at),
                    ])
                    .await
                    .unwrap();
            }
            Step::Both(_) => {}
            Step::MapAccount(a) => {
                h.map_account(ACCOUNTS[a]).await;
            }
            Step::OtherSource(i) => {
                let hint = Hint::new(OTHER_FLOW, "src2", "bill", &format!("X{i}"), Origin::Webhook, h.clock.now());
                h.queue.enqueue(&[hint]).await.unwrap();
            }
        }
    }

    // Settle: no more crashes or faults; every mapping exists; poll, work and let time pass.
    h.fuse.disarm();
    {
        let mut w = h.world.lock().unwrap();
        w.faults.clear();
        w.change_after_read.clear();
    }
    for a in ACCOUNTS {
        h.map_account(a).await;
    }
    let mut quiet_rounds = 0;
    for _ in 0..30 {
        let _ = h.flows.get("fake-ap").unwrap().poll(&h.engines[0]).await;
        h.drain().await;
        h.clock.advance(Duration::from_secs(61));
        let open = h
            .store
            .list_items(&ItemFilter::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|i| !i.state.is_terminal())
            .count();
        let depth = h.queue.depth().await.unwrap();
        // Two quiet rounds in a row: the second poll finds changes made during the first.
        if open == 0 && depth.ready + depth.in_flight + depth.delayed == 0 {
            quiet_rounds += 1;
            if quiet_rounds == 2 {
                break;
            }
        } else {
            quiet_rounds = 0;
        }
    }

    let items = h.store.list_items(&ItemFilter::default()).await.unwrap();
    // The run ledger balances: every document worked is posted, held, failed, skipped or in
    // progress, and every one of them is an item (nothing counted that is not there).
    let run = h.ledger.finish(&h.store, h.clock.now()).await.unwrap();
    for (name, fl) in &run.flows {
        assert!(fl.balances(), "{name}: {}: {:?}", fl.equation(), fl.unaccounted);
        let made = items.iter().filter(|i| &i.flow == name).count();
        assert_eq!(fl.seen as usize, made, "the ledger saw every item {name} made");
    }
    let w = h.world.lock().unwrap();
    // Never two creates for one natural key.
    for (nk, n) in &w.creates {
        assert!(*n <= 1, "{nk} was created {n} times");
    }
    // Every item ends terminal with a reason a person can read, or waits visibly for a person: a
    // *different* bill that collided with a posted one on vendor + invoice number is held for
    // review with both documents side by side, never skipped as "already posted".
    for i in &items {
        if i.state == ItemState::NeedsReview {
            let c = i.conflict.as_ref().unwrap_or_else(|| panic!("item {} held for review without a conflict", i.key));
            let other = c.existing_item.as_ref().expect("the colliding item is named");
            let other = items.iter().find(|o| &o.key == other).expect("the colliding item exists");
            assert_ne!(other.doc_id, i.doc_id, "item {} held against its own document", i.key);
            assert_eq!(other.state, ItemState::Posted);
            continue;
        }
        assert!(i.state.is_terminal(), "item {} left {} ({:?})", i.key, i.state_label(), i.reason);
        assert!(i.state == ItemState::Posted || i.reason.is_some(), "item {} skipped without a reason", i.key);
        if i.code.as_deref() == Some(codes::ALREADY_POSTED) {
            let posted = items
                .iter()
                .any(|o| o.doc_id == i.doc_id && o.state == ItemState::Posted && o.natural_key == i.natural_key);
            assert!(posted, "item {} skipped as already posted, but its own document never posted", i.key);
        }
    }
    // Nothing lost: every authorised bill is in the target exactly once; no draft is.
    for (id, (_, b)) in &w.source {
        let nk = format!("{}#{}", b.vendor, b.invoice);
        let twin_authorised =
            w.source.values().any(|(_, o)| o.authorised && o.vendor == b.vendor && o.invoice == b.invoice);
        if b.authorised || twin_authorised {
            assert_eq!(w.creates.get(&nk), Some(&1), "authorised bill {id} was not posted");
            let latest = items.iter().find(|i| &i.doc_id == id && i.version == w.source[id].0.to_string());
            assert!(latest.is_some(), "the latest version of {id} has no item");
        }
        if !twin_authorised {
            assert!(!w.target.contains_key(&nk), "draft {id} was posted");
        }
    }
}

proptest! {
    // 256 cases by default; PROPTEST_CASES=20000 for a long soak.
    #[test]
    fn the_engine_never_posts_twice_and_never_loses_a_record(
        n_docs in 1usize..5,
        drafts in proptest::collection::vec(proptest::bool::weighted(0.2), 5),
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        rt.block_on(run_scenario(n_docs, drafts, steps));
    }
}

/// A source of `pages` pages of 3 records, each page taking `each` to list.
struct SlowPages {
    pages: u32,
    each: Duration,
}

#[async_trait]
impl parts::Discoverer for SlowPages {
    async fn discover_page(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        tokio::time::sleep(self.each).await;
        let page: u32 = cursor.map_or(0, |c| c.value.parse().unwrap());
        let hints =
            (0..3).map(|i| Hint::new("slow", "src", "bill", &format!("b{page}-{i}"), Origin::Poll, ctx.now)).collect();
        Ok(DiscoveryPage { hints, next_cursor: Some((page + 1).to_string()), has_more: page + 1 < self.pages })
    }
}

/// A queue whose every enqueue takes `delay` (a slow SQS).
struct SlowQueue {
    inner: MemoryQueue,
    delay: Duration,
}

#[async_trait]
impl Queue for SlowQueue {
    async fn enqueue(&self, hints: &[Hint]) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.enqueue(hints).await
    }
    async fn receive(&self, max: usize, lease: Duration) -> Result<Vec<Delivery>, StoreError> {
        self.inner.receive(max, lease).await
    }
    async fn ack(&self, d: &Delivery) -> Result<(), StoreError> {
        self.inner.ack(d).await
    }
    async fn retry_later(&self, d: &Delivery, delay: Duration) -> Result<(), StoreError> {
        self.inner.retry_later(d, delay).await
    }
    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        self.inner.depth().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_poll_stops_between_pages_at_its_deadline_and_never_lists_a_page_twice() {
    let clock = ManualClock::new(t0());
    let inner = MemoryQueue::new(Arc::new(clock.clone()), 10);
    // The enqueue of the first page (listed at 50 ms) runs past the deadline (120 ms): the page
    // in hand is still enqueued and its cursor saved; the next page is not listed.
    let queue = Arc::new(SlowQueue { inner: inner.clone(), delay: Duration::from_millis(100) });
    let store = MemoryStore::new();
    let engine = Engine::new(Arc::new(store.clone()), queue, Arc::new(clock.clone()), config());
    let source = SlowPages { pages: 5, each: Duration::from_millis(50) };
    let ctx = DiscoverContext { now: t0(), start: None };
    let cut = engine
        .clone()
        .with_poll_deadline(tokio::time::Instant::now() + Duration::from_millis(120))
        .poll_cursor("slow", &[], &ctx, &source)
        .await
        .unwrap();
    assert!(cut.cut_short, "{cut:?}");
    assert_eq!((cut.pages, cut.hints, cut.cursor.as_deref()), (1, 3, Some("1")), "{cut:?}");
    assert_eq!(store.get_cursor("slow").await.unwrap().unwrap().value, "1");

    // A deadline already past lists nothing and keeps the cursor.
    let none = engine
        .clone()
        .with_poll_deadline(tokio::time::Instant::now())
        .poll_cursor("slow", &[], &ctx, &source)
        .await
        .unwrap();
    assert_eq!((none.cut_short, none.pages, none.cursor.as_deref()), (true, 0, Some("1")), "{none:?}");

    let rest = engine.poll_cursor("slow", &[], &ctx, &source).await.unwrap();
    assert!(!rest.cut_short);
    assert_eq!((rest.pages, rest.hints, rest.cursor.as_deref()), (4, 12, Some("5")), "{rest:?}");
    let mut ids = Vec::new();
    while let [d, ..] = inner.receive(1, Duration::from_secs(60)).await.unwrap().as_slice() {
        ids.push(d.hint.id.clone());
        inner.ack(d).await.unwrap();
    }
    ids.sort();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (15, 15), "every record enqueued once: {ids:?}");
}
