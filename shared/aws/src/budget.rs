//! [`RateBudget`] on the DynamoDB table: one item per vendor budget, shared by every Lambda
//! container (up to five posters, the poller and the webhook function), so together they keep
//! Cin7's 60 calls per rolling minute per API application, Coupa's per-instance bucket, Procore's
//! per-app-and-company count, Acumatica's per-tenant window.
//!
//! | record | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | budget | `BUDGET#<budget name>` | `#BUDGET` | `data` (the [`Ledger`] as JSON), `rev`, `expires_at` (TTL: a day after last use) |
//!
//! **One conditional write per acquire, or per small batch.** The ledger is computed in the
//! container from its last copy of the item and written back with `rev = :rev`. When another
//! container wrote first, the failed condition returns the current item
//! (`ReturnValuesOnConditionCheckFailure = ALL_OLD`), so the retry needs no extra read; a container
//! reads the item only the first time it uses a budget. Within a container the acquires of one
//! budget take turns, and those that arrive while a write is in flight are answered together by
//! the next one (a poster's batch of ten records asking at once costs two writes, not ten, and no
//! races among themselves). A refusal (`NotBefore`) writes nothing. A header-driven observation writes only when it changes
//! an answer ([`Ledger::observe`]), so Procore's steady state costs no extra writes.
//!
//! **Clocks.** Each container's clock, but never earlier than the newest moment the item holds
//! (see [`mlc_core::budget::ledger`]). An answer is computed before its write and handed over
//! after it. So the slot is planned no earlier than the write is expected to return (the lead: the
//! recent writes' time, rising at once with a slow one and easing off slowly), the wait is
//! shortened by the time the write really took, and a grant whose slot still passed too long ago
//! for the call to keep the vendor's count ([`Grant::aged`]: a write far slower than the ones
//! before it) is asked again in the next write, its slot left counted ([`BudgetStats::late`]).
//!
//! **What a refusal was about** ([`refusals`]): the poster runs each SQS record inside
//! [`refusals::watch`], and every `NotBefore` this budget answers while that record runs is noted
//! there (budget name, wait), so the poster can write "waiting for <budget> until T" on the item
//! and hold back the records that would meet the same refusal.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use chrono::Utc;
use mlc_core::budget::ledger::Ledger;
use mlc_core::budget::{BudgetError, BudgetRule, Grant, Observed, RateBudget, WriteLead};
use tokio::sync::oneshot;

use crate::sdk_error;

type Attrs = HashMap<String, AttributeValue>;

/// How many times an acquire recomputes after losing a race before answering "unavailable".
const MAX_RACES: usize = 32;
/// How long an unused budget item lives (its TTL; a fresh one starts empty, which is right for
/// any window shorter than a day).
const IDLE_TTL_SECS: i64 = 86_400;

/// Requests and races, for the measurements.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BudgetStats {
    pub acquires: u64,
    /// Conditional writes that succeeded.
    pub writes: u64,
    /// Conditional writes that lost to another container (each also costs a write unit).
    pub conflicts: u64,
    pub reads: u64,
    /// Answers that were `NotBefore` (nothing written).
    pub refusals: u64,
    /// Grants whose write returned too late to use them: asked again.
    pub late: u64,
}

#[derive(Default)]
struct Counters {
    acquires: AtomicU64,
    writes: AtomicU64,
    conflicts: AtomicU64,
    reads: AtomicU64,
    refusals: AtomicU64,
    late: AtomicU64,
}

/// One acquire waiting for the next write of its budget.
struct Ask {
    rule: BudgetRule,
    cost: u32,
    max_wait: Duration,
    answer: oneshot::Sender<Result<Grant, BudgetError>>,
}

/// A budget's queue of acquires and the turn to write.
#[derive(Default)]
struct Lane {
    asks: Mutex<Vec<Ask>>,
    turn: tokio::sync::Mutex<()>,
}

/// The DynamoDB rate budget. Cheap to share (`Arc`); each instance keeps its last copy of every
/// budget item it used.
pub struct DynamoBudget {
    client: Client,
    table: String,
    copies: Mutex<HashMap<String, (i64, Ledger)>>,
    lanes: Mutex<HashMap<String, std::sync::Arc<Lane>>>,
    counters: Counters,
    /// How long a budget write is expected to take: the lead answers are planned with.
    lead: WriteLead,
}

impl std::fmt::Debug for DynamoBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoBudget").field("table", &self.table).finish()
    }
}

fn key(budget: &str) -> Attrs {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("BUDGET#{budget}"))),
        ("sk".to_string(), AttributeValue::S("#BUDGET".into())),
    ])
}

enum Written {
    Done,
    /// Another container wrote first: its item (revision, ledger).
    Lost(i64, Ledger),
}

impl DynamoBudget {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoBudget {
            client,
            table: table.into(),
            copies: Mutex::new(HashMap::new()),
            lanes: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            lead: WriteLead::default(),
        }
    }

    pub fn stats(&self) -> BudgetStats {
        let c = &self.counters;
        BudgetStats {
            acquires: c.acquires.load(Ordering::Relaxed),
            writes: c.writes.load(Ordering::Relaxed),
            conflicts: c.conflicts.load(Ordering::Relaxed),
            reads: c.reads.load(Ordering::Relaxed),
            refusals: c.refusals.load(Ordering::Relaxed),
            late: c.late.load(Ordering::Relaxed),
        }
    }

    fn unavailable(&self, budget: &str, cause: String) -> BudgetError {
        BudgetError::Unavailable { budget: budget.to_string(), cause: format!("table {}: {cause}", self.table) }
    }

    fn copies(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Ledger)>> {
        self.copies.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn decode(&self, budget: &str, a: &Attrs) -> Result<(i64, Ledger), BudgetError> {
        let rev = a.get("rev").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0);
        let data = a.get("data").and_then(|v| v.as_s().ok()).map(String::as_str);
        let ledger = Ledger::decode(data).map_err(|e| self.unavailable(budget, e))?;
        Ok((rev, ledger))
    }

    /// This container's copy of the budget's item, read on first use.
    async fn current(&self, budget: &str) -> Result<(i64, Ledger), BudgetError> {
        if let Some(c) = self.copies().get(budget) {
            return Ok(c.clone());
        }
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(budget)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.unavailable(budget, sdk_error(&format!("reading budget {budget}"), e).to_string()))?;
        match out.item() {
            None => Ok((0, Ledger::default())),
            Some(a) => self.decode(budget, a),
        }
    }

    /// Write the ledger as revision `rev + 1`, if the item is still at `rev`.
    async fn write(&self, budget: &str, rev: i64, ledger: &Ledger) -> Result<Written, BudgetError> {
        let mut item = key(budget);
        item.insert("data".into(), AttributeValue::S(ledger.encode()));
        item.insert("rev".into(), AttributeValue::N((rev + 1).to_string()));
        item.insert("expires_at".into(), AttributeValue::N((Utc::now().timestamp() + IDLE_TTL_SECS).to_string()));
        let mut b = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let started = std::time::Instant::now();
        b = if rev == 0 {
            b.condition_expression("attribute_not_exists(pk)")
        } else {
            b.condition_expression("#rev = :rev")
                .expression_attribute_names("#rev", "rev")
                .expression_attribute_values(":rev", AttributeValue::N(rev.to_string()))
        };
        let sent = b.send().await;
        self.lead.took(started.elapsed());
        match sent {
            Ok(_) => {
                self.counters.writes.fetch_add(1, Ordering::Relaxed);
                self.copies().insert(budget.to_string(), (rev + 1, ledger.clone()));
                Ok(Written::Done)
            }
            Err(SdkError::ServiceError(se)) if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                self.counters.conflicts.fetch_add(1, Ordering::Relaxed);
                let old = match se.into_err() {
                    PutItemError::ConditionalCheckFailedException(c) => c.item().cloned().unwrap_or_default(),
                    _ => Attrs::new(),
                };
                let (r, l) = if old.is_empty() { (0, Ledger::default()) } else { self.decode(budget, &old)? };
                self.copies().insert(budget.to_string(), (r, l.clone()));
                Ok(Written::Lost(r, l))
            }
            Err(e) => Err(self.unavailable(budget, sdk_error(&format!("writing budget {budget}"), e).to_string())),
        }
    }

    fn lane(&self, budget: &str) -> std::sync::Arc<Lane> {
        let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
        lanes.entry(budget.to_string()).or_default().clone()
    }

    /// Answer every waiting acquire of `budget` with one write (recomputed after a lost race or
    /// for grants the write returned too late to use).
    async fn serve(&self, budget: &str, mut asks: Vec<Ask>) {
        if let Err(e) = self.answer_all(budget, &mut asks).await {
            for ask in asks {
                let _ = ask.answer.send(Err(e.clone()));
            }
        }
    }

    /// Answers `asks`, removing each as it is answered; those left when this fails get the error.
    async fn answer_all(&self, budget: &str, asks: &mut Vec<Ask>) -> Result<(), BudgetError> {
        let (mut rev, mut ledger) = self.current(budget).await?;
        for _ in 0..MAX_RACES {
            let before = ledger.clone();
            let computed = std::time::Instant::now();
            let now = Utc::now().timestamp_millis();
            let lead = self.lead.get();
            let answers: Vec<Result<Grant, BudgetError>> =
                asks.iter().map(|a| ledger.acquire_ahead(budget, &a.rule, a.cost, a.max_wait, now, lead)).collect();
            let writes = ledger != before && answers.iter().any(|a| matches!(a, Ok(Grant::Go | Grant::Wait(_))));
            if writes {
                match self.write(budget, rev, &ledger).await? {
                    Written::Done => rev += 1,
                    Written::Lost(r, l) => {
                        (rev, ledger) = (r, l);
                        continue;
                    }
                }
            }
            let elapsed = computed.elapsed();
            let mut again = Vec::new();
            for (ask, answer) in asks.drain(..).zip(answers) {
                let answer = match answer {
                    Ok(grant) => match grant.aged(elapsed, &ask.rule) {
                        Some(grant) => Ok(grant),
                        None => {
                            self.counters.late.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(
                                budget,
                                write_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
                                ?grant,
                                "a rate-budget grant came back from the table too late to use; asking again (its slot stays counted)"
                            );
                            again.push(ask);
                            continue;
                        }
                    },
                    Err(e) => Err(e),
                };
                if let Ok(Grant::NotBefore(_)) = answer {
                    // The asker notes it for its work (it runs in the asker's task).
                    self.counters.refusals.fetch_add(1, Ordering::Relaxed);
                }
                let _ = ask.answer.send(answer);
            }
            *asks = again;
            if asks.is_empty() {
                return Ok(());
            }
        }
        Err(self.unavailable(
            budget,
            format!("no usable answer in {MAX_RACES} writes of the budget item (lost races, or writes slower than the rule's late allowance); retry later"),
        ))
    }

    /// When `cost` of `budget` could next be spent, from this container's last copy (no request
    /// once the budget was used here; no write ever).
    pub async fn next_free(&self, budget: &str, rule: &BudgetRule, cost: u32) -> Result<Duration, BudgetError> {
        let (_, ledger) = self.current(budget).await?;
        Ok(ledger.next_free(rule, cost, Utc::now().timestamp_millis()))
    }
}

#[async_trait]
impl RateBudget for DynamoBudget {
    async fn acquire(
        &self,
        budget: &str,
        rule: &BudgetRule,
        cost: u32,
        max_wait: Duration,
    ) -> Result<Grant, BudgetError> {
        self.counters.acquires.fetch_add(1, Ordering::Relaxed);
        let lane = self.lane(budget);
        let ask = |lane: &Lane| {
            let (tx, rx) = oneshot::channel();
            lane.asks.lock().unwrap_or_else(|p| p.into_inner()).push(Ask { rule: *rule, cost, max_wait, answer: tx });
            rx
        };
        let mut rx = ask(&lane);
        // Take the turn and answer everyone waiting, unless an earlier turn answered this ask. A
        // turn whose task was cancelled mid-write (a poll cut off by its time budget) drops the
        // asks it took unanswered: those ask again (cancel safety; never a spin on a closed answer).
        let answer = loop {
            match rx.try_recv() {
                Ok(a) => break a,
                Err(oneshot::error::TryRecvError::Closed) => rx = ask(&lane),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let _turn = lane.turn.lock().await;
            match rx.try_recv() {
                Ok(a) => break a,
                Err(oneshot::error::TryRecvError::Closed) => rx = ask(&lane),
                Err(oneshot::error::TryRecvError::Empty) => {}
            }
            let asks = std::mem::take(&mut *lane.asks.lock().unwrap_or_else(|p| p.into_inner()));
            if !asks.is_empty() {
                self.serve(budget, asks).await;
            }
        };
        let grant = answer?;
        if let Grant::NotBefore(wait) = grant {
            refusals::note(budget, wait);
        }
        Ok(grant)
    }

    async fn observe(&self, budget: &str, rule: &BudgetRule, seen: Option<Observed>) -> Result<(), BudgetError> {
        if seen.is_none() {
            return Ok(());
        }
        let (mut rev, mut ledger) = self.current(budget).await?;
        for _ in 0..MAX_RACES {
            if !ledger.observe(rule, seen, Utc::now().timestamp_millis()) {
                return Ok(());
            }
            match self.write(budget, rev, &ledger).await? {
                Written::Done => return Ok(()),
                Written::Lost(r, l) => (rev, ledger) = (r, l),
            }
        }
        Err(self.unavailable(budget, format!("lost {MAX_RACES} races for the budget item in a row; retry later")))
    }
}

/// What the budgets refused while one piece of work ran (see the module docs).
pub mod refusals {
    use std::cell::RefCell;
    use std::future::Future;
    use std::time::Duration;

    use chrono::{DateTime, Utc};

    /// One refusal: the budget and until when it has no room.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Refusal {
        pub budget: String,
        pub until: DateTime<Utc>,
    }

    tokio::task_local! {
        static SEEN: RefCell<Vec<Refusal>>;
    }

    /// Run `work`, collecting the refusals any budget answered while it ran (in this task).
    pub async fn watch<F: Future>(work: F) -> (F::Output, Vec<Refusal>) {
        SEEN.scope(RefCell::new(Vec::new()), async move {
            let out = work.await;
            let seen = SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()));
            (out, seen)
        })
        .await
    }

    /// Note a refusal for the work being watched (nothing when none is).
    pub fn note(budget: &str, wait: Duration) {
        let until = chrono::Duration::from_std(wait)
            .ok()
            .and_then(|w| Utc::now().checked_add_signed(w))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let _ = SEEN.try_with(|s| s.borrow_mut().push(Refusal { budget: budget.to_string(), until }));
    }
}
