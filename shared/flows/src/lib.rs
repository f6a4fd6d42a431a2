//! The flows, declared one per file, and what both homes (Lambda and `mlc`) need to run them:
//! configuration ([`config`]), poll cadences ([`schedule`]).
//!
//! A flow file implements [`mlc_core::engine::flow::Flow`]: source discovery, read-back,
//! eligibility, mapping, target lookup and target create. The engine does everything around them.

pub mod config;
pub mod schedule;

pub use config::{Config, ConfigError, ConnectionSettings, FlowSettings};
pub use schedule::Cadence;
