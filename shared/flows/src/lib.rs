//! The flows, declared one per file, and what both homes (Lambda and `mlc`) need to run them:
//! configuration ([`config`]), poll cadences ([`schedule`]), the catalog of flow kinds
//! ([`catalog`]), and the [`runtime::Runtime`] that wires them around one engine.
//!
//! A flow file declares a [`mlc_core::engine::parts::FlowDef`] between a source and a target from
//! the connectors (`mlc_cin7::PurchaseSource` → `mlc_deltek::ApVoucherTarget`): which documents a
//! source record holds, which are eligible, the mappings they need and how they map. It
//! registers its kind with [`register_flow_kind!`]. The engine does everything around it.

pub mod catalog;
pub mod cin7_deltek_ap;
pub mod cin7_deltek_vendors;
pub mod config;
pub mod env;
pub mod runtime;
pub mod schedule;
pub mod suggest;

pub use catalog::{FlowContext, FlowKind};
pub use config::{Config, ConfigError, ConnectionSettings, FlowSettings};
pub use mlc_core::connect::{ApiCounters, BuildError, Connection, Connections};
pub use runtime::{HomeLimits, PingCheck, Runtime, Unavailable, connect_one, connect_one_in};
pub use schedule::Cadence;
