//! Re-sent interchanges: an ISA13 a partner already sent.
//!
//! X12.5 makes ISA13 unique per sender; a second interchange with a number the partner used
//! before is a re-send (a VAN retry, a partner re-running a batch) or a number reused by mistake.
//! Either way its invoices must not be posted twice: the interchange is rejected with TA1 note
//! `025` (duplicate interchange control number).
//!
//! The library does not store anything. The inbound flow keeps the last N interchanges per
//! partner (key [`IsaHeader::partner_key`], `ISA05:ISA06`) and calls [`check`] with them at each
//! interchange's start (the streaming reader's `InterchangeStart`, or a parsed file's
//! interchanges), then [`mark`] to record the finding so the TA1, the 997s and the status of every
//! set in it say so. The optional digest (SHA-256 of the interchange bytes, as
//! [`crate::X12File::interchange_bytes`] gives them) tells an identical re-send from a reused
//! number.

use serde::{Deserialize, Serialize};

use crate::envelope::Interchange;
use crate::error::{ErrorKind, X12Error};
use crate::headers::{IsaHeader, control_key};

/// What the flow's store remembers of one interchange a partner sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeenInterchange {
    /// ISA13 as written.
    pub control: String,
    /// SHA-256 (hex) of the interchange's bytes, when known.
    #[serde(default)]
    pub digest: Option<String>,
}

/// An interchange whose ISA13 the partner already sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resent {
    pub partner: String,
    pub control: String,
    /// `Some(true)`: the same bytes again; `Some(false)`: the number reused for other content;
    /// `None`: no digest to compare.
    pub same_content: Option<bool>,
}

/// Whether `header`'s ISA13 is among `recent` (the same partner's last interchanges), compared
/// numerically (`000000042` = `42`).
pub fn check(header: &IsaHeader, digest: Option<&str>, recent: &[SeenInterchange]) -> Option<Resent> {
    let key = control_key(&header.control);
    let seen = recent.iter().find(|s| control_key(&s.control) == key)?;
    let same_content = match (digest, seen.digest.as_deref()) {
        (Some(a), Some(b)) => Some(a.eq_ignore_ascii_case(b)),
        _ => None,
    };
    Some(Resent { partner: header.partner_key(), control: header.control.clone(), same_content })
}

impl Resent {
    /// The rejecting error on the interchange (ISA13, TA1 note 025).
    pub fn error(&self, ic: &Interchange<'_>) -> X12Error {
        let what = match self.same_content {
            Some(true) => "an identical interchange was already received",
            Some(false) => "the number was already used for a different interchange",
            None => "the number was already received",
        };
        X12Error::new(
            ErrorKind::DuplicateInterchange,
            ic.location.clone().element(13),
            format!("interchange control number {} from {}: {what}", self.control, self.partner),
        )
        .with_found(self.control.clone())
    }
}

/// Records a re-send on the interchange: it is rejected (TA1 `R 025`), and so are the sets in it.
pub fn mark(ic: &mut Interchange<'_>, resent: &Resent) {
    let e = resent.error(ic);
    ic.findings.error(e);
}
