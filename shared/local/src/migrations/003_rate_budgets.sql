-- Migration 3: rate budgets shared by every process on this machine (`SqliteBudget`). One row per
-- vendor budget (Cin7's API application, Coupa's instance ...): its ledger as JSON, the arithmetic
-- of `mlc_core::budget::ledger`. Rows are scratch state: dropping them only forgets recent calls.
CREATE TABLE rate_budgets (
    name       TEXT PRIMARY KEY,
    ledger     TEXT NOT NULL,
    updated_ns INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
