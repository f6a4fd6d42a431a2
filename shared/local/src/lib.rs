//! The embedded home's adapters of the core ports, for the `mlc` binary on one machine:
//!
//! - [`SqliteStore`] ([`mlc_core::engine::ports::Store`]): work items, claims, audit trails,
//!   cursors, mappings, delivery dedup, seen versions and named locks in one SQLite file.
//! - [`SqliteQueue`] ([`mlc_core::engine::ports::Queue`]): the durable work queue, in the same
//!   file and on the same connection as the store, with leases, delays and dead letters.
//! - [`SqliteBudget`] ([`mlc_core::budget::RateBudget`]): the vendors' rate budgets, one row each
//!   in the same file, shared by every process on the machine.
//! - [`FileSecretStore`] ([`mlc_core::engine::ports::SecretStore`]): every connection's
//!   credentials in one AES-256-GCM encrypted file.
//!
//! They pass the same conformance suites ([`mlc_core::testkit`]) as the in-memory twins and the
//! AWS adapters, so the engine behaves the same in both homes. Opening problems are
//! [`LocalError`]s that name the file and say what to do; later failures are
//! [`mlc_core::engine::ports::StoreError`]s (busy → `Unavailable`, damage → `Corrupt`).
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use mlc_core::engine::ports::SystemClock;
//! # fn main() -> Result<(), mlc_local::LocalError> {
//! let store = mlc_local::SqliteStore::open("/var/lib/mlc/mlc.db")?;
//! let queue = mlc_local::SqliteQueue::new(&store, Arc::new(SystemClock), 5);
//! let secrets = mlc_local::FileSecretStore::open("/var/lib/mlc")?;
//! # Ok(()) }
//! ```

mod budget;
mod db;
mod error;
mod queue;
mod secrets;
mod store;

pub use budget::SqliteBudget;
pub use error::LocalError;
pub use queue::{DeadLetter, SqliteQueue};
pub use secrets::{DATA_FILE_NAME, FileSecretStore, KEY_ENV, KEY_FILE_NAME, SecretKey};
pub use store::SqliteStore;

#[cfg(test)]
mod tests;
