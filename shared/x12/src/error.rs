//! Errors and warnings, each naming where it happened.
//!
//! An [`X12Error`] is a hard problem: the file, an envelope or a transaction set is broken and must
//! be rejected (or, with [`Severity::Noted`], accepted with the error reported in the 997). A
//! [`Warning`] is a soft finding (§7 of the fact sheet): the data is usable but something a person
//! should look at, such as a TDS total that does not match the lines.
//!
//! Every error carries a [`Location`]: the segment id, its 1-based position in the file, its byte
//! offset, its position inside the transaction set (ST = 1, as a 997 AK3 counts it), and the element
//! (and component) when the problem is in one element; plus the expected and found values when the
//! problem is a mismatch.

use std::fmt;

use serde::Serialize;

/// Where a problem is. Positions are 1-based; `index` 0 means "before the first segment".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Segment id as found (`SE`, `IT1`); empty when the problem is not in a segment.
    pub segment: String,
    /// 1-based ordinal of the segment in the file.
    pub index: usize,
    /// Byte offset of the segment's first byte in the file.
    pub offset: usize,
    /// 1-based position inside the transaction set (ST = 1), as AK302 reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_position: Option<usize>,
    /// 1-based element number (SE01 = 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub element: Option<usize>,
    /// 1-based component number inside a composite element.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<usize>,
}

impl Location {
    /// A location at a byte offset outside any segment (delimiter detection, trailing data).
    pub fn at_offset(offset: usize) -> Self {
        Location { offset, ..Location::default() }
    }

    /// The same location narrowed to one element.
    pub fn element(mut self, element: usize) -> Self {
        self.element = Some(element);
        self
    }

    /// `BIG02`, `SE01`; the bare segment id when no element is set.
    pub fn label(&self) -> String {
        match self.element {
            Some(e) if !self.segment.is_empty() => match self.component {
                Some(c) => format!("{}{:02}-{:02}", self.segment, e, c),
                None => format!("{}{:02}", self.segment, e),
            },
            _ => self.segment.clone(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segment.is_empty() {
            return write!(f, "byte {}", self.offset);
        }
        write!(f, "{} at segment {} (byte {}", self.label(), self.index, self.offset)?;
        if let Some(p) = self.set_position {
            write!(f, ", position {p} in the transaction set")?;
        }
        f.write_str(")")
    }
}

/// What kind of hard error. Each maps onto the 997 code a partner expects (AK304/AK403/AK502/AK905).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The ISA could not be read, so the delimiters are unknown. Fatal for the file.
    Delimiters,
    /// The input does not start with an ISA (or a bare ST) after an optional BOM and whitespace.
    NoInterchange,
    /// A segment id that is not 2–3 upper-case letters/digits starting with a letter.
    InvalidSegmentId,
    /// A segment where it may not be: outside an envelope, or out of place in a transaction set.
    UnexpectedSegment,
    /// A mandatory segment (BIG, TDS, AK1 ...) is missing.
    MissingSegment,
    /// A trailer (SE, GE, IEA) is missing: the file ended or the next header came first.
    MissingTrailer,
    /// SE01 / GE01 / IEA01 does not match what was counted.
    CountMismatch,
    /// SE02 / GE02 / IEA02 does not match its header's control number.
    ControlNumberMismatch,
    /// The same control number twice where it must be unique (ST02 within a group, GS06 within
    /// an interchange).
    DuplicateControlNumber,
    /// An ISA13 this partner already sent (a re-sent interchange): TA1 note 025.
    DuplicateInterchange,
    /// A mandatory element is empty or absent.
    MissingElement,
    /// A number that is not one (bad characters, too many digits, overflow).
    InvalidNumber,
    /// A date that is not CCYYMMDD/YYMMDD or not a real day.
    InvalidDate,
    /// A time that is not HHMM[SS[D..]].
    InvalidTime,
    /// A value not in the element's code list, or of the wrong shape for an id.
    InvalidCode,
    /// A value shorter than the element's minimum length.
    TooShort,
    /// A value longer than the element's maximum length.
    TooLong,
    /// A syntax note of kind P, R, C or L is not met (an element its note requires is absent).
    ConditionalRequired,
    /// A syntax note of kind E is not met (elements that exclude each other are both present).
    ExclusionViolated,
    /// More elements than the segment defines.
    TooManyElements,
    /// A loop or segment repeated more often than the standard allows (IT1 loop > 200 000 ...).
    LimitExceeded,
    /// A transaction set of a type its group does not carry (an 850 inside an `IN` group): the
    /// set is rejected alone. (Sets this library does not read, in a group of their own kind,
    /// are not errors: they are reported as not handled.)
    UnsupportedTransactionSet,
}

impl ErrorKind {
    /// AK304 Segment Syntax Error Code for an error inside a segment of a set.
    pub fn ak3_code(self) -> &'static str {
        match self {
            ErrorKind::InvalidSegmentId => "1",
            ErrorKind::UnexpectedSegment => "2",
            ErrorKind::MissingSegment => "3",
            ErrorKind::LimitExceeded => "4",
            _ => "8",
        }
    }

    /// AK403 Data Element Syntax Error Code.
    pub fn ak4_code(self) -> &'static str {
        match self {
            ErrorKind::MissingElement => "1",
            ErrorKind::ConditionalRequired => "2",
            ErrorKind::TooManyElements => "3",
            ErrorKind::TooShort => "4",
            ErrorKind::TooLong => "5",
            ErrorKind::InvalidNumber => "6",
            ErrorKind::InvalidCode => "7",
            ErrorKind::InvalidDate => "8",
            ErrorKind::InvalidTime => "9",
            ErrorKind::ExclusionViolated => "10",
            _ => "6",
        }
    }

    /// AK502 Transaction Set Syntax Error Code for an error about a whole set.
    pub fn ak5_code(self) -> &'static str {
        match self {
            ErrorKind::UnsupportedTransactionSet => "1",
            ErrorKind::MissingTrailer => "2",
            ErrorKind::ControlNumberMismatch => "3",
            ErrorKind::CountMismatch => "4",
            ErrorKind::DuplicateControlNumber => "23",
            _ => "5",
        }
    }

    /// AK905 Functional Group Syntax Error Code for an error about a whole group.
    pub fn ak9_code(self) -> &'static str {
        match self {
            ErrorKind::MissingTrailer => "3",
            ErrorKind::ControlNumberMismatch => "4",
            ErrorKind::CountMismatch => "5",
            ErrorKind::InvalidNumber | ErrorKind::MissingElement | ErrorKind::TooLong | ErrorKind::TooShort => "6",
            ErrorKind::DuplicateControlNumber => "19",
            _ => "1",
        }
    }

    /// TA105 Interchange Note Code for an error about the interchange envelope, given the element
    /// it is in (ISA05 → 005 ...; IEA01 → 021; IEA02 → 001).
    pub fn ta1_code(self, segment: &str, element: Option<usize>) -> &'static str {
        match (self, segment, element) {
            (ErrorKind::DuplicateInterchange, _, _) => "025",
            (ErrorKind::MissingTrailer, _, _) => "023",
            (ErrorKind::ControlNumberMismatch, _, _) => "001",
            (ErrorKind::CountMismatch, _, _) => "021",
            (_, "IEA", Some(1)) => "021",
            (_, "IEA", Some(2)) => "001",
            (_, "ISA", Some(1)) => "010",
            (_, "ISA", Some(2)) => "011",
            (_, "ISA", Some(3)) => "012",
            (_, "ISA", Some(4)) => "013",
            (_, "ISA", Some(5)) => "005",
            (_, "ISA", Some(6)) => "006",
            (_, "ISA", Some(7)) => "007",
            (_, "ISA", Some(8)) => "008",
            (_, "ISA", Some(9)) => "014",
            (_, "ISA", Some(10)) => "015",
            (_, "ISA", Some(11)) => "016",
            (_, "ISA", Some(12)) => "017",
            (_, "ISA", Some(13)) => "018",
            (_, "ISA", Some(14)) => "019",
            (_, "ISA", Some(15)) => "020",
            (_, "ISE", Some(1)) => "028",
            (_, "ISE", Some(2)) => "029",
            (_, "ISE", Some(3)) => "030",
            (_, "ISB", _) => "031",
            _ => "024",
        }
    }
}

/// Whether an error rejects what it is in, or is reported while the data is still accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The set (or group, interchange) cannot be used: 997 AK5 `R`.
    Reject,
    /// The set is usable; the error is reported: 997 AK5 `E`. Used for elements the invoice does
    /// not depend on (a bad date in a DTM, a malformed N4).
    Noted,
}

/// A hard error with its location and, for mismatches, the expected and found values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct X12Error {
    pub kind: ErrorKind,
    pub severity: Severity,
    /// Boxed to keep `Result<_, X12Error>` small.
    pub location: Box<Location>,
    /// What was being checked, in words: `segment count`, `invoice date`.
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
}

impl X12Error {
    pub fn new(kind: ErrorKind, location: Location, detail: impl Into<String>) -> Self {
        X12Error {
            kind,
            severity: Severity::Reject,
            location: Box::new(location),
            detail: detail.into(),
            expected: None,
            found: None,
        }
    }

    /// A mismatch: `expected` vs `found`.
    pub fn mismatch(
        kind: ErrorKind,
        location: Location,
        detail: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        X12Error {
            kind,
            severity: Severity::Reject,
            location: Box::new(location),
            detail: detail.into(),
            expected: Some(expected.into()),
            found: Some(found.into()),
        }
    }

    pub fn with_found(mut self, found: impl Into<String>) -> Self {
        self.found = Some(found.into());
        self
    }

    pub fn with_expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn noted(mut self) -> Self {
        self.severity = Severity::Noted;
        self
    }

    pub fn rejects(&self) -> bool {
        self.severity == Severity::Reject
    }
}

impl fmt::Display for X12Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.detail)?;
        match (&self.expected, &self.found) {
            (Some(e), Some(v)) => write!(f, ": expected {e}, found {v}"),
            (Some(e), None) => write!(f, ": expected {e}"),
            (None, Some(v)) => write!(f, ": found {v}"),
            (None, None) => Ok(()),
        }
    }
}

/// What kind of soft finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A segment the 810 grammar does not define; kept, not mapped.
    UnknownSegment,
    /// TDS01 differs from lines + charges − allowances (+ tax).
    TotalMismatch,
    /// TDS01 matches the lines only when read as whole currency units (§8 item 9).
    TotalInWholeUnits,
    /// CTT01 differs from the number of IT1 segments.
    LineCountMismatch,
    /// CTT02 differs from the hash of IT102 quantities.
    HashTotalMismatch,
    /// An N2 (implied-decimal) element carried an explicit decimal point; read as written.
    ExplicitDecimalInImpliedField,
    /// The ISA is not the fixed 106 bytes; delimiters were found by counting separators.
    NonFixedWidthIsa,
    /// ISA12 and GS08 disagree, or a version this library does not know.
    VersionMismatch,
    /// GS01 is not the functional id for the set inside (IN for 810, FA for 997).
    FunctionalIdMismatch,
    /// Empty segments (two terminators in a row) were skipped.
    EmptySegment,
    /// Transaction sets without an ISA/GS envelope.
    NoEnvelope,
    /// Text that is not UTF-8 was read as Latin-1.
    TextNotUtf8,
    /// Bytes after the last interchange were ignored.
    TrailingData,
    /// A segment out of the standard order (read anyway).
    SegmentOrder,
    /// IT1 with some but not all of quantity, unit and price.
    IncompleteLine,
    /// A value that was read with a lenient rule (YYMMDD in a CCYYMMDD field, padded number).
    LenientValue,
    /// An allowance/charge or tax without an amount, left out of the totals.
    AmountMissing,
    /// A date that contradicts another (due date before invoice date), dropped.
    InconsistentDate,
    /// A dictionary comment or semantic note is not met (`ITD06 or ITD07 when ITD01 is 05`):
    /// advice, not a syntax rule, so the data is read as sent.
    Comment,
    /// An interchange-level service segment (ISB, ISE, ISX, TA3) or TA1 out of its place.
    ServiceSegment,
    /// More findings than are kept; the rest were counted, not stored.
    Suppressed,
}

/// A soft finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    pub kind: WarningKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    pub message: String,
}

impl Warning {
    pub fn new(kind: WarningKind, location: Option<Location>, message: impl Into<String>) -> Self {
        Warning { kind, location, message: message.into() }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(l) => write!(f, "{l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// How many errors and warnings one collector keeps; the rest are counted in one `Suppressed`
/// warning, so hostile input cannot make the report grow without bound.
pub const MAX_KEPT: usize = 100;

/// Errors and warnings of one envelope level, capped at [`MAX_KEPT`] each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    pub errors: Vec<X12Error>,
    pub warnings: Vec<Warning>,
    /// Errors beyond the cap (counted only). Any dropped error still makes the level invalid.
    #[serde(skip_serializing_if = "is_zero")]
    pub dropped_errors: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub dropped_warnings: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Findings {
    pub fn error(&mut self, e: X12Error) {
        if self.errors.len() < MAX_KEPT {
            self.errors.push(e);
        } else {
            self.dropped_errors += 1;
        }
    }

    pub fn warn(&mut self, w: Warning) {
        if self.warnings.len() < MAX_KEPT {
            self.warnings.push(w);
        } else {
            self.dropped_warnings += 1;
        }
    }

    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || self.dropped_errors > 0
    }

    pub fn rejects(&self) -> bool {
        self.dropped_errors > 0 || self.errors.iter().any(X12Error::rejects)
    }

    /// Human lines for the suppressed counts, if any.
    pub fn suppressed_note(&self) -> Option<String> {
        if self.dropped_errors == 0 && self.dropped_warnings == 0 {
            return None;
        }
        Some(format!(
            "{} more errors and {} more warnings not shown (limit {MAX_KEPT} each)",
            self.dropped_errors, self.dropped_warnings
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_segment_position_element_and_values() {
        let loc = Location {
            segment: "SE".into(),
            index: 14,
            offset: 512,
            set_position: Some(12),
            element: Some(1),
            component: None,
        };
        let e = X12Error::mismatch(ErrorKind::CountMismatch, loc, "segment count", "12", "11");
        assert_eq!(
            e.to_string(),
            "SE01 at segment 14 (byte 512, position 12 in the transaction set): segment count: expected 12, found 11"
        );
    }

    #[test]
    fn findings_are_capped() {
        let mut f = Findings::default();
        for i in 0..(MAX_KEPT + 5) {
            f.error(X12Error::new(ErrorKind::InvalidNumber, Location::at_offset(i), "x").noted());
        }
        assert_eq!(f.errors.len(), MAX_KEPT);
        assert_eq!(f.dropped_errors, 5);
        assert!(f.rejects(), "dropped errors count as rejecting: their severity is unknown");
    }
}
