//! ml-connector's core: the domain model, money, mapping tables, and the work-item engine with its
//! ports. Nothing here talks to a vendor, AWS or SQLite; adapters implement the ports elsewhere
//! (`mlc-local`, `mlc-aws`), connectors implement flows (`mlc-flows`), and both homes — the Lambda
//! functions and the `mlc` binary — wire them together.
//!
//! - [`money`]: `Decimal` amounts with their currency, explicit rounding, tolerances.
//! - [`connect`]: connections, and how each system's connector registers itself.
//! - [`domain`]: vendors, GL accounts, projects, AP/AR invoices, journal entries, purchase orders,
//!   each validated on construction.
//! - [`mapping`]: typed source → target code tables, and the resolver flows use.
//! - [`secret`]: redacting wrappers and connection credentials.
//! - [`engine`]: work items, states, claims, the pipeline every flow runs through, poll, replay,
//!   mapping release; [`engine::ports`] are the traits adapters implement.
//! - [`testkit`]: conformance suites the adapters run.

pub mod budget;
pub mod connect;
pub mod domain;
pub mod engine;
pub mod mapping;
pub mod money;
pub mod ping;
pub mod secret;
pub mod testkit;
pub mod tieout;

pub use engine::{Engine, EngineConfig, EngineError, FlowRegistry, FlowRunner};
