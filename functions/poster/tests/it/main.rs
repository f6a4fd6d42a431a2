//! The poster's integration tests, one binary: the handler against moto (DynamoDB, SQS, Secrets
//! Manager) and the vendor simulators over HTTP.
//!
//! - `batch`: partial batch failures, unreadable records, duplicates in one batch.
//! - `e2e_cin7_deltek`: a Cin7 webhook through both Lambda handlers into one Deltek voucher.
//! - `read_faults`: a failed detail read on each source system holds the cursor, posts once later.
//! - `scale`: eight posters (tasks, processes) on the shared DynamoDB and SQLite budgets against
//!   Cin7's strictest limit.

#[path = "../common/mod.rs"]
mod common;
mod lambda_api;
mod support;

mod artefacts;
mod batch;
mod e2e_cin7_deltek;
mod isolation;
mod read_faults;
mod rules;
mod scale;
mod scene;
