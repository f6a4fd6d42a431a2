//! The flows, declared one per file, and what both homes (Lambda and `mlc`) need to run them:
//! configuration ([`config`]), poll cadences ([`schedule`]), the catalogs of systems
//! ([`systems`]) and flow kinds ([`catalog`]), and the [`runtime::Runtime`] that wires them
//! around one engine.
//!
//! A flow file implements [`mlc_core::engine::flow::Flow`]: source discovery, read-back,
//! eligibility, mapping, target lookup and target create. The engine does everything around them.

pub mod catalog;
pub mod cin7_deltek_ap;
pub mod cin7_deltek_vendors;
pub mod config;
pub mod runtime;
pub mod schedule;
pub mod suggest;
pub mod systems;

pub use config::{Config, ConfigError, ConnectionSettings, FlowSettings};
pub use runtime::{BuildError, Connection, Connections, PingCheck, Runtime};
pub use schedule::Cadence;
