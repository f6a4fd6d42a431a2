//! The flow kinds ml-connector runs: flow name → builder. A new flow adds its file and one line.

use crate::runtime::FlowKind;

const KINDS: &[FlowKind] = &[crate::cin7_deltek_ap::KIND, crate::cin7_deltek_vendors::KIND];

/// All flow kinds.
pub fn kinds() -> &'static [FlowKind] {
    KINDS
}

/// The kind a configured flow name refers to.
pub fn kind(name: &str) -> Option<&'static FlowKind> {
    KINDS.iter().find(|k| k.name == name)
}
