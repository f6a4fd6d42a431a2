//! [`RateBudget`] in the SQLite file: one row per vendor budget (`rate_budgets`), so several
//! `mlc` processes on one machine (`mlc serve` and an operator's `mlc run`, or workers started
//! side by side on the same data directory) keep one count per vendor key between them.
//!
//! Each acquire is one `BEGIN IMMEDIATE` transaction: read the budget's ledger, compute the answer
//! ([`mlc_core::budget::ledger`], the same arithmetic as the DynamoDB adapter), write it back. The
//! write lock makes the read-compute-write atomic across processes; a refusal (`NotBefore`) and an
//! observation that changes nothing write nothing. Times are this machine's clock, so every
//! process agrees on them. An answer is handed over when its transaction has committed: its wait
//! is shortened by the commit's time, and a grant the commit made too late to use (a disk stalled
//! for seconds; [`Grant::aged`]) is asked again, its slot left counted. Slots are planned no
//! earlier than answers have lately taken to come back ([`WriteLead`], as on DynamoDB): a slow
//! disk, or a process starved of CPU on a busy machine (whose answers wait for a thread to run
//! them), loses one slot to lateness and then plans ahead, instead of asking again until it gives
//! up. Only answers that keep getting slower than the last ones, eight times in a row, end in
//! "unavailable".

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use mlc_core::budget::ledger::Ledger;
use mlc_core::budget::{BudgetError, BudgetRule, Grant, Observed, RateBudget, WriteLead};
use mlc_core::engine::ports::StoreError;
use rusqlite::{OptionalExtension, Transaction, params};

use crate::SqliteStore;
use crate::db::{Db, db_err, ns};

/// How many grants in a row may come back too late before an acquire answers "unavailable".
const MAX_LATE: usize = 8;

/// The SQLite rate budget. Shares the store's file and connection.
#[derive(Clone)]
pub struct SqliteBudget {
    db: Db,
    /// How long answers have lately taken to come back (shared by clones).
    lead: Arc<WriteLead>,
}

impl std::fmt::Debug for SqliteBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteBudget").field("file", &self.db.label()).finish()
    }
}

fn load(tx: &Transaction<'_>, label: &str, budget: &str) -> Result<Ledger, StoreError> {
    let text: Option<String> = tx
        .query_row("SELECT ledger FROM rate_budgets WHERE name = ?1", params![budget], |r| r.get(0))
        .optional()
        .map_err(|e| db_err(label, e))?;
    Ledger::decode(text.as_deref()).map_err(|e| StoreError::Corrupt(format!("{label}: rate budget {budget}: {e}")))
}

fn save(tx: &Transaction<'_>, label: &str, budget: &str, ledger: &Ledger) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO rate_budgets (name, ledger, updated_ns) VALUES (?1, ?2, ?3)
         ON CONFLICT (name) DO UPDATE SET ledger = excluded.ledger, updated_ns = excluded.updated_ns",
        params![budget, ledger.encode(), ns(Utc::now())],
    )
    .map_err(|e| db_err(label, e))?;
    Ok(())
}

fn budget_error(budget: &str, e: StoreError) -> BudgetError {
    BudgetError::Unavailable { budget: budget.to_string(), cause: e.to_string() }
}

impl SqliteBudget {
    pub fn new(store: &SqliteStore) -> Self {
        SqliteBudget { db: store.db.clone(), lead: Arc::default() }
    }
}

#[async_trait]
impl RateBudget for SqliteBudget {
    async fn acquire(
        &self,
        budget: &str,
        rule: &BudgetRule,
        cost: u32,
        max_wait: Duration,
    ) -> Result<Grant, BudgetError> {
        for _ in 0..MAX_LATE {
            let (name, rule_copy, lead) = (budget.to_string(), *rule, self.lead.for_rule(rule));
            let (grant, computed) = self
                .db
                .write(move |tx, label| {
                    let mut ledger = load(tx, label, &name)?;
                    let before = ledger.clone();
                    let computed = std::time::Instant::now();
                    let now = Utc::now().timestamp_millis();
                    let grant = ledger.acquire_ahead(&name, &rule_copy, cost, max_wait, now, lead);
                    if let Ok(Grant::Go | Grant::Wait(_)) = grant
                        && ledger != before
                    {
                        save(tx, label, &name, &ledger)?;
                    }
                    Ok((grant, computed))
                })
                .await
                .map_err(|e| budget_error(budget, e))?;
            let took = computed.elapsed();
            self.lead.took(took);
            if let Some(grant) = grant?.aged(took, rule) {
                return Ok(grant);
            }
            tracing::debug!(
                budget,
                "a rate-budget grant was committed too late to use; asking again (its slot stays counted)"
            );
        }
        Err(BudgetError::Unavailable {
            budget: budget.to_string(),
            cause: format!(
                "{MAX_LATE} grants in a row came back too late to use, each slower than the last (the data directory's disk \
                 is stalling, or this machine is too busy to run ml-connector on time); retry later"
            ),
        })
    }

    async fn observe(&self, budget: &str, rule: &BudgetRule, seen: Option<Observed>) -> Result<(), BudgetError> {
        if seen.is_none() {
            return Ok(());
        }
        let (name, rule_copy) = (budget.to_string(), *rule);
        self.db
            .write(move |tx, label| {
                let mut ledger = load(tx, label, &name)?;
                if ledger.observe(&rule_copy, seen, Utc::now().timestamp_millis()) {
                    save(tx, label, &name, &ledger)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| budget_error(budget, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(max: u32, ms: u64) -> BudgetRule {
        BudgetRule::Window { max, per: Duration::from_millis(ms) }
    }

    #[tokio::test]
    async fn a_store_from_before_budgets_is_migrated_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mlc.sqlite");
        {
            // A file as version 2 left it: no rate_budgets table.
            let old = SqliteStore::open(&path).unwrap();
            old.db.with_conn(|c| c.execute_batch("DROP TABLE rate_budgets; PRAGMA user_version = 2;").unwrap());
        }
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.db.schema_version(), crate::db::SCHEMA_VERSION);
        let b = SqliteBudget::new(&store);
        assert_eq!(b.acquire("x", &window(1, 1000), 1, Duration::ZERO).await.unwrap(), Grant::Go);
    }

    #[tokio::test]
    async fn two_handles_on_one_file_share_one_count() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mlc.sqlite");
        // Two opens of the file: two connections, as two processes would have.
        let a = SqliteBudget::new(&SqliteStore::open(&path).unwrap());
        let b = SqliteBudget::new(&SqliteStore::open(&path).unwrap());
        let rule = window(3, 60_000);
        let never = Duration::ZERO;
        assert_eq!(a.acquire("cin7 app", &rule, 1, never).await.unwrap(), Grant::Go);
        assert_eq!(b.acquire("cin7 app", &rule, 1, never).await.unwrap(), Grant::Go);
        assert_eq!(a.acquire("cin7 app", &rule, 1, never).await.unwrap(), Grant::Go);
        let Grant::NotBefore(w) = b.acquire("cin7 app", &rule, 1, never).await.unwrap() else { panic!("full") };
        assert!(w > Duration::from_secs(59) && w <= Duration::from_secs(60), "{w:?}");
        // A patient caller reserves the slot; other budgets are apart.
        assert!(matches!(a.acquire("cin7 app", &rule, 1, Duration::from_secs(61)).await.unwrap(), Grant::Wait(_)));
        assert_eq!(b.acquire("coupa x", &rule, 1, never).await.unwrap(), Grant::Go);
        let e = a.acquire("bad", &window(0, 1), 1, never).await.unwrap_err();
        assert!(e.to_string().contains("rate budget bad"), "{e}");
    }
}
