//! What the envelope segments say, as plain values: the release a group declares, the ISA, GS and
//! ST headers, a trailer's count and control number, and how to read invoices. Everything above
//! the lexer uses these; they know nothing of parsing.
//!
//! Control numbers are kept as written (`000000001`) so acknowledgments echo them exactly, and
//! compared numerically ([`same_control`]) because partners pad on one side and not the other
//! (`000003438` in ISA13, `3438` in IEA02, seen in real files).

use std::ops::Range;

use chrono::NaiveDate;
use serde::Serialize;

use mlc_core::money::{Currency, Tolerance};

use crate::error::Location;
use crate::values;

/// The X12 release a group declares in GS08.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, serde::Deserialize, Default)]
#[serde(into = "String", from = "String")]
pub enum Release {
    #[default]
    V004010,
    V005010,
    /// Anything else, as written (`008010`, `003050`); read with the 004010 rules.
    Other(String),
}

impl Release {
    /// From GS08: `004010`, `004010VICS`, `005010X...` → the release; others kept as written.
    pub fn from_gs08(gs08: &str) -> Release {
        let t = gs08.trim();
        if t.starts_with("00401") {
            Release::V004010
        } else if t.starts_with("00501") {
            Release::V005010
        } else {
            Release::Other(t.to_string())
        }
    }

    /// GS08 value to write: `004010` / `005010`.
    pub fn gs08(&self) -> &str {
        match self {
            Release::V004010 => "004010",
            Release::V005010 => "005010",
            Release::Other(s) => s,
        }
    }

    /// ISA12 value to write: `00401` / `00501`.
    pub fn isa12(&self) -> &str {
        match self {
            Release::V004010 => "00401",
            Release::V005010 => "00501",
            Release::Other(s) => s.get(..5).unwrap_or("00401"),
        }
    }

    pub fn is_5010(&self) -> bool {
        *self == Release::V005010
    }
}

/// Written as GS08 (`"004010"`), so profiles read naturally.
impl From<Release> for String {
    fn from(r: Release) -> String {
        r.gs08().to_string()
    }
}

impl From<String> for Release {
    fn from(s: String) -> Release {
        Release::from_gs08(&s)
    }
}

/// Whether TXI tax is part of TDS01: partners differ (§7 item 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaxInTds {
    /// Accept either; the AP total includes tax either way.
    #[default]
    Auto,
    Included,
    Excluded,
}

/// How to read invoices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    pub tax_in_tds: TaxInTds,
    /// Allowed difference between TDS01 and the computed total before a warning.
    pub tolerance: Tolerance,
    /// Currency when an invoice has no CUR segment.
    pub default_currency: Currency,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { tax_in_tds: TaxInTds::Auto, tolerance: Tolerance::default(), default_currency: Currency::USD }
    }
}

/// ISA fields, trimmed of padding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct IsaHeader {
    pub authorization_qualifier: String,
    pub authorization: String,
    pub security_qualifier: String,
    pub security: String,
    pub sender_qualifier: String,
    pub sender_id: String,
    pub receiver_qualifier: String,
    pub receiver_id: String,
    pub date: Option<NaiveDate>,
    /// ISA09 as written (YYMMDD), echoed in a TA1.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub date_raw: String,
    pub time: String,
    /// ISA11 as written: `U` (004010 standards id) or the repetition separator.
    pub isa11: String,
    pub version: String,
    /// ISA13 as written (`000000001`).
    pub control: String,
    /// ISA14: `1` asks the receiver for a TA1.
    pub ack_requested: String,
    /// ISA15: `P` production, `T` test, `I` information.
    pub usage: String,
}

impl IsaHeader {
    /// The sending trading partner as `qualifier:id` (`ZZ:GRANITESUP`): the key a store of
    /// recently received interchanges is kept under.
    pub fn partner_key(&self) -> String {
        format!("{}:{}", self.sender_qualifier, self.sender_id)
    }

    /// ISA14 = 1.
    pub fn wants_ta1(&self) -> bool {
        self.ack_requested == "1"
    }
}

/// GS fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct GsHeader {
    /// GS01: `IN` invoices, `FA` acknowledgments, `PO` purchase orders ...
    pub functional_id: String,
    pub sender: String,
    pub receiver: String,
    pub date: Option<NaiveDate>,
    pub time: String,
    /// GS06 as written.
    pub control: String,
    pub agency: String,
    /// GS08 as written.
    pub version: String,
}

/// ST fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct StHeader {
    /// ST01: `810`, `997`, `850` ...
    pub id: String,
    /// ST02 as written.
    pub control: String,
    /// ST03 (005010 implementation convention reference).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation: Option<String>,
}

/// A trailer's count and control number (SE, GE, IEA).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trailer {
    pub count: Option<u64>,
    pub control: String,
    pub location: Location,
}

/// Compares control numbers numerically when both are digits, as trimmed text otherwise.
pub fn same_control(a: &str, b: &str) -> bool {
    match (values::unsigned(a.as_bytes()), values::unsigned(b.as_bytes())) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

/// A control number as a lookup key: digits compare numerically (`0001` = `1`), text as trimmed.
pub fn control_key(c: &str) -> String {
    match values::unsigned(c.as_bytes()) {
        Ok(n) => n.to_string(),
        Err(_) => c.trim().to_string(),
    }
}

/// A byte range in the input, for serialising where a level starts and ends.
pub type Span = Range<usize>;
