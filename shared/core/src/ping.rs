//! `mlc ping` results: one line per check, with the fix when it fails. Connectors produce them;
//! the CLI prints them. "Add your credentials, ping your real systems, and see if we fit."

use serde::Serialize;

/// One check of a connection: what was checked, whether it passed, and what to change if not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PingCheck {
    pub check: String,
    pub ok: bool,
    pub detail: String,
    /// What a person should change when `ok` is false.
    pub fix: Option<String>,
}

impl PingCheck {
    pub fn pass(check: impl Into<String>, detail: impl Into<String>) -> Self {
        PingCheck { check: check.into(), ok: true, detail: detail.into(), fix: None }
    }

    pub fn fail(check: impl Into<String>, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        PingCheck { check: check.into(), ok: false, detail: detail.into(), fix: Some(fix.into()) }
    }
}
