//! The systems ml-connector can connect to: system name → connection builder.
//! A new system adds its connector crate and one line here.

pub mod cin7;
pub mod deltek;

use crate::runtime::ConnectionBuilder;

const SYSTEMS: &[(&str, ConnectionBuilder)] = &[("cin7", cin7::build), ("deltek", deltek::build)];

/// The builder for a system, if it is known.
pub fn builder(system: &str) -> Option<ConnectionBuilder> {
    SYSTEMS.iter().find(|(s, _)| s.eq_ignore_ascii_case(system)).map(|(_, b)| *b)
}

/// Names of the known systems.
pub fn known() -> Vec<&'static str> {
    SYSTEMS.iter().map(|(s, _)| *s).collect()
}
