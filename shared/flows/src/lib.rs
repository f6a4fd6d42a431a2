//! The flows, declared one per file, and what both homes (Lambda and `mlc`) need to run them:
//! configuration ([`config`]), poll cadences ([`schedule`]), the catalog of flow kinds
//! ([`catalog`]), and the [`runtime::Runtime`] that wires them around one engine.
//!
//! A flow file declares a [`mlc_core::engine::parts::FlowDef`] between a source and a target from
//! the connectors (`mlc_cin7::PurchaseSource` → `mlc_deltek::ApVoucherTarget`): which documents a
//! source record holds, which are eligible, the mappings they need and how they map. It
//! registers its kind with [`register_flow_kind!`]. The engine does everything around it.

pub mod acumatica_cin7_po;
pub mod acumatica_cin7_suppliers;
pub mod catalog;
pub mod cin7_acumatica_bill;
pub mod cin7_acumatica_po;
pub mod cin7_acumatica_vendors;
pub mod cin7_deltek_ap;
pub mod cin7_deltek_vendors;
pub mod cleo_deltek_ap810;
pub mod cleo_deltek_ar997;
pub mod config;
pub mod coupa_deltek_ap;
pub mod coupa_deltek_vendors;
pub mod coupa_deltek_voids;
pub mod deltek_cleo_ar810;
pub mod env;
pub mod procore_deltek;
pub mod procore_deltek_ap_direct;
pub mod procore_deltek_ap_subcontract;
pub mod procore_deltek_commitments;
pub mod procore_deltek_vendors;
pub mod runtime;
pub mod schedule;
pub mod suggest;

pub use catalog::{FlowContext, FlowKind};
pub use config::{Config, ConfigError, ConnectionSettings, FlowSettings};
pub use mlc_core::connect::{ApiCounters, BuildError, Connection, Connections};
pub use runtime::{HomeLimits, PingCheck, Runtime, Unavailable, connect_one, connect_one_in};
pub use schedule::Cadence;
