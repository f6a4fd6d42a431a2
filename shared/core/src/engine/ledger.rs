//! The run ledger: every record a run saw, and what became of it.
//!
//! "Every record accounted for" is structural: a source turns every row it lists into a hint
//! before its cursor moves; a hint read back yields documents, or a visible failed item (read
//! failed, or the record is gone), or "no document for this flow"; each document ends posted,
//! held for a person (mapping, possible duplicate), failed, skipped with its reason, or still in
//! progress (in doubt, waiting for a retry). The ledger counts each of those per flow for one run
//! (`mlc run`, each `mlc serve` poll, each Lambda poll or batch), and checks the two invariants:
//!
//! ```text
//! records listed  = records worked (documents | no document | already processed | unread) + still queued
//! documents seen  = posted + held + failed + skipped + in progress
//! ```
//!
//! A break is named record by record (`unaccounted`), never summed away. The same figures feed
//! `mlc status`, the demo report and the console's queue.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::model::{FailureClass, ItemKey, ItemState, WorkItem, codes};
use crate::engine::ports::{Store, StoreError};

/// What became of one record a flow worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// It held documents (each becomes a work item).
    Documents,
    /// It holds nothing for this flow (a purchase with no supplier invoice for an AP flow).
    NoDocument,
    /// Its observed version was processed before: nothing to read.
    AlreadyProcessed,
    /// The read-back failed or found it gone: a visible failed item stands for it.
    Unread,
}

/// One flow's figures for one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowLedger {
    pub flow: String,
    /// Records the run's polls listed from this flow's source.
    pub records_listed: u64,
    /// Records read back (or found already processed) for this flow, from polls and webhooks.
    pub records_worked: u64,
    pub records_with_documents: u64,
    pub records_without_documents: u64,
    pub records_already_processed: u64,
    pub records_unread: u64,
    /// Listed records whose hint is still queued (a retry delay, a rate-limit wait).
    pub records_queued: u64,
    /// Documents the run worked (distinct work items).
    pub seen: u64,
    pub posted: u64,
    /// Waiting for a person: a mapping, a review of a possible duplicate.
    pub held: u64,
    pub failed: u64,
    pub skipped: u64,
    /// In doubt, or waiting for a retry: the next pass settles them.
    pub in_progress: u64,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub held_by_reason: BTreeMap<String, u64>,
    pub failed_by_reason: BTreeMap<String, u64>,
    /// Records or documents that break an invariant, each named. Empty in a sound run.
    pub unaccounted: Vec<String>,
}

impl FlowLedger {
    /// Whether both invariants hold.
    pub fn balances(&self) -> bool {
        self.unaccounted.is_empty()
            && self.seen == self.posted + self.held + self.failed + self.skipped + self.in_progress
    }

    /// `seen 230 = posted 200 + held 4 + failed 2 + skipped 24 + in progress 0`.
    pub fn equation(&self) -> String {
        format!(
            "seen {} = posted {} + held {} + failed {} + skipped {} + in progress {}",
            self.seen, self.posted, self.held, self.failed, self.skipped, self.in_progress
        )
    }
}

/// A run's ledger, per flow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunLedger {
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub flows: BTreeMap<String, FlowLedger>,
}

impl RunLedger {
    pub fn balances(&self) -> bool {
        self.flows.values().all(FlowLedger::balances)
    }
}

#[derive(Default)]
struct Tally {
    /// Source key → records listed by polls.
    listed: BTreeMap<String, BTreeSet<String>>,
    /// Flow → its source key.
    source_of: BTreeMap<String, String>,
    /// Flow → record id → outcome.
    worked: BTreeMap<String, BTreeMap<String, RecordOutcome>>,
    /// Flow → documents touched.
    items: BTreeMap<String, BTreeSet<ItemKey>>,
}

/// Collects a run's ledger as the engine works (cheap: ids in memory); [`LedgerRecorder::finish`]
/// reads each touched document's final state from the store.
#[derive(Clone, Default)]
pub struct LedgerRecorder {
    tally: Arc<Mutex<Tally>>,
    started_at: Option<DateTime<Utc>>,
}

impl LedgerRecorder {
    pub fn new(started_at: DateTime<Utc>) -> Self {
        LedgerRecorder { tally: Arc::default(), started_at: Some(started_at) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Tally) -> T) -> T {
        f(&mut self.tally.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// A poll of `source` listed `record`.
    pub fn listed(&self, source: &str, record: &str) {
        self.with(|t| t.listed.entry(source.to_string()).or_default().insert(record.to_string()));
    }

    /// `flow` reads `source` (so its listings count for it).
    pub fn reads(&self, flow: &str, source: &str) {
        self.with(|t| t.source_of.insert(flow.to_string(), source.to_string()));
    }

    /// `flow` worked `record` with this outcome.
    pub fn worked(&self, flow: &str, record: &str, outcome: RecordOutcome) {
        self.with(|t| {
            let e = t.worked.entry(flow.to_string()).or_default();
            // A record worked twice in a run keeps its most informative outcome.
            let keep = match (e.get(record), outcome) {
                (Some(RecordOutcome::Documents), _) => RecordOutcome::Documents,
                (_, o) => o,
            };
            e.insert(record.to_string(), keep);
        });
    }

    /// `flow` touched this document.
    pub fn document(&self, flow: &str, key: &ItemKey) {
        self.with(|t| t.items.entry(flow.to_string()).or_default().insert(key.clone()));
    }

    /// The ledger, each document classified by its state now.
    pub async fn finish(&self, store: &dyn Store, now: DateTime<Utc>) -> Result<RunLedger, StoreError> {
        let (listed, source_of, worked, items) =
            self.with(|t| (t.listed.clone(), t.source_of.clone(), t.worked.clone(), t.items.clone()));
        let mut ledger = RunLedger { started_at: self.started_at, finished_at: Some(now), flows: BTreeMap::new() };
        let flows: BTreeSet<String> = source_of.keys().chain(worked.keys()).chain(items.keys()).cloned().collect();
        for flow in flows {
            let mut l = FlowLedger { flow: flow.clone(), ..Default::default() };
            let no_records = BTreeMap::new();
            let w = worked.get(&flow).unwrap_or(&no_records);
            let listed_here = source_of.get(&flow).and_then(|s| listed.get(s)).cloned().unwrap_or_default();
            l.records_listed = listed_here.len() as u64;
            l.records_worked = w.len() as u64;
            for o in w.values() {
                match o {
                    RecordOutcome::Documents => l.records_with_documents += 1,
                    RecordOutcome::NoDocument => l.records_without_documents += 1,
                    RecordOutcome::AlreadyProcessed => l.records_already_processed += 1,
                    RecordOutcome::Unread => l.records_unread += 1,
                }
            }
            l.records_queued = listed_here.iter().filter(|r| !w.contains_key(*r)).count() as u64;
            let keys: Vec<ItemKey> = items.get(&flow).cloned().unwrap_or_default().into_iter().collect();
            let mut found: BTreeMap<ItemKey, WorkItem> =
                store.get_items(&keys).await?.into_iter().map(|i| (i.key.clone(), i)).collect();
            for key in keys {
                l.seen += 1;
                match found.remove(&key) {
                    None => l.unaccounted.push(format!("document {key} was worked but is not in the store")),
                    Some(item) => classify(&mut l, &item),
                }
            }
            if l.seen != l.posted + l.held + l.failed + l.skipped + l.in_progress {
                l.unaccounted.push(format!("documents do not add up: {}", l.equation()));
            }
            ledger.flows.insert(flow, l);
        }
        Ok(ledger)
    }
}

fn bump(m: &mut BTreeMap<String, u64>, code: Option<&str>) {
    *m.entry(code.unwrap_or("unknown").to_string()).or_default() += 1;
}

fn classify(l: &mut FlowLedger, item: &WorkItem) {
    match item.state {
        ItemState::Posted => l.posted += 1,
        ItemState::Skipped => {
            l.skipped += 1;
            bump(&mut l.skipped_by_reason, item.code.as_deref());
        }
        ItemState::NeedsMapping => {
            l.held += 1;
            bump(&mut l.held_by_reason, Some(codes::NEEDS_MAPPING));
        }
        ItemState::NeedsReview => {
            l.held += 1;
            bump(&mut l.held_by_reason, item.code.as_deref().or(Some(codes::POSSIBLE_DUPLICATE)));
        }
        // Failed, for a person (permanent) or for a retry by itself (retryable: the cause is named).
        ItemState::Failed => {
            l.failed += 1;
            let code = match item.failure {
                Some(FailureClass::Retryable) => format!("{} (retrying)", item.code.as_deref().unwrap_or("unknown")),
                _ => item.code.clone().unwrap_or_else(|| "unknown".into()),
            };
            *l.failed_by_reason.entry(code).or_default() += 1;
        }
        // An in-doubt write, a pending item: the next pass settles them.
        ItemState::InDoubt | ItemState::Pending => l.in_progress += 1,
    }
}
