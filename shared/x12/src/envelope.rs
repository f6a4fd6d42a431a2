//! Envelopes: ISA/IEA interchanges, GS/GE functional groups, ST/SE transaction sets (§4).
//!
//! [`parse`] runs one pass over the lexer's segments with a small state machine (outside →
//! interchange → group → set). Segments inside a set stream into that set's builder (810 or 997)
//! as they arrive, so no set is buffered as segments; only the typed result is kept.
//!
//! Checks, each naming the segment, its position and expected vs found:
//! - SE01 = segments from ST to SE inclusive; SE02 = ST02; ST02 unique in its group;
//! - GE01 = number of sets; GE02 = GS06;
//! - IEA01 = number of groups; IEA02 = ISA13;
//! - a header before its predecessor's trailer (ISA inside an open interchange, GS inside an open
//!   group, ST inside an open set) closes the open level with "trailer missing";
//! - segments outside any set are errors; empty segments and bytes after the last IEA that hold no
//!   segment are warnings.
//!
//! Control numbers compare numerically when both sides are digits (`000003438` = `3438`, seen in
//! real files) and as trimmed text otherwise. Raw values are kept for echoing in a 997.
//!
//! The file structure is kept even when it is broken: every problem lands on the level it belongs
//! to (file, interchange, group, set) so a 997 can say which group and set failed.

use std::collections::HashSet;
use std::ops::Range;

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use mlc_core::money::{Currency, Tolerance};

use crate::ack997::{self, Ack997};
use crate::delimiters::{Delimiters, DetectedIsa};
use crate::error::{ErrorKind, Findings, Location, Warning, WarningKind, X12Error};
use crate::invoice810::{self, Invoice810};
use crate::lexer::{Lexed, Lexer, Segment};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
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
    pub time: String,
    /// ISA11 as written: `U` (004010 standards id) or the repetition separator.
    pub isa11: String,
    pub version: String,
    /// ISA13 as written (`000000001`).
    pub control: String,
    pub ack_requested: String,
    /// ISA15: `P` production, `T` test, `I` information.
    pub usage: String,
}

/// GS fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct GsHeader {
    /// GS01: `IN` invoices, `FA` acknowledgments.
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
    /// ST01: `810`, `997`.
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

/// What a transaction set holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum SetContent<'a> {
    Invoice(Box<Invoice810<'a>>),
    Ack(Box<Ack997>),
    /// A set this library does not read (only 810 and 997 are).
    Unsupported,
    /// An 810 or 997 whose mandatory parts (BIG, TDS, AK1 ...) could not be read; see the errors.
    Unreadable,
}

/// One ST…SE transaction set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionSet<'a> {
    pub header: StHeader,
    pub trailer: Option<Trailer>,
    pub content: SetContent<'a>,
    pub findings: Findings,
    /// Where the ST is.
    pub location: Location,
    /// Segments counted from ST to SE inclusive (or to where the set was cut off).
    pub segment_count: usize,
    /// Byte range from the ST's first byte to the end of the SE's terminator.
    pub bytes: Range<usize>,
}

impl<'a> TransactionSet<'a> {
    pub fn invoice(&self) -> Option<&Invoice810<'a>> {
        match &self.content {
            SetContent::Invoice(i) => Some(i),
            _ => None,
        }
    }

    pub fn ack(&self) -> Option<&Ack997> {
        match &self.content {
            SetContent::Ack(a) => Some(a),
            _ => None,
        }
    }

    /// No error that rejects the set.
    pub fn is_accepted(&self) -> bool {
        !self.findings.rejects()
    }
}

/// One GS…GE functional group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group<'a> {
    pub header: GsHeader,
    pub release: Release,
    pub sets: Vec<TransactionSet<'a>>,
    pub trailer: Option<Trailer>,
    /// Errors about the group itself (GE checks); set errors stay with their set.
    pub findings: Findings,
    pub location: Location,
}

/// One ISA…IEA interchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interchange<'a> {
    pub header: IsaHeader,
    pub delimiters: Delimiters,
    pub fixed_width: bool,
    pub groups: Vec<Group<'a>>,
    pub trailer: Option<Trailer>,
    pub findings: Findings,
    pub location: Location,
}

/// A parsed file: its interchanges, sets without envelope (if the file had none), and file-level
/// findings. Borrows the input so set bytes can be hashed on demand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct X12File<'a> {
    #[serde(skip)]
    pub input: &'a [u8],
    pub interchanges: Vec<Interchange<'a>>,
    /// Transaction sets in a file without ISA/GS (partner samples, test fragments).
    pub loose_sets: Vec<TransactionSet<'a>>,
    pub findings: Findings,
}

/// A reference to one transaction set with its envelope.
#[derive(Debug, Clone, Copy)]
pub struct SetRef<'f, 'a> {
    pub file: &'f X12File<'a>,
    pub interchange: Option<&'f Interchange<'a>>,
    pub group: Option<&'f Group<'a>>,
    pub set: &'f TransactionSet<'a>,
}

impl<'f, 'a> SetRef<'f, 'a> {
    /// The set's bytes, ST through SE.
    pub fn bytes(&self) -> &'a [u8] {
        self.file.input.get(self.set.bytes.clone()).unwrap_or_default()
    }

    /// SHA-256 of the set's bytes, lower-case hex: a content version for idempotency keys.
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.bytes()))
    }

    /// `ISA13/GS06/ST02` (blank levels omitted for sets without envelope).
    pub fn control_path(&self) -> String {
        let mut parts = Vec::with_capacity(3);
        if let Some(i) = self.interchange {
            parts.push(i.header.control.clone());
        }
        if let Some(g) = self.group {
            parts.push(g.header.control.clone());
        }
        parts.push(self.set.header.control.clone());
        parts.join("/")
    }

    /// Whether this set, its group, its interchange or the file has an error that rejects it.
    pub fn is_valid(&self) -> bool {
        !self.set.findings.has_errors()
            && self.group.is_none_or(|g| !g.findings.has_errors())
            && self.interchange.is_none_or(|i| !i.findings.has_errors())
    }
}

impl<'a> X12File<'a> {
    /// Every transaction set with its envelope, in file order.
    pub fn sets(&self) -> Vec<SetRef<'_, 'a>> {
        let mut out = Vec::new();
        for set in &self.loose_sets {
            out.push(SetRef { file: self, interchange: None, group: None, set });
        }
        for i in &self.interchanges {
            for g in &i.groups {
                for set in &g.sets {
                    out.push(SetRef { file: self, interchange: Some(i), group: Some(g), set });
                }
            }
        }
        out
    }

    /// Every 810 in the file.
    pub fn invoices(&self) -> Vec<(SetRef<'_, 'a>, &Invoice810<'a>)> {
        self.sets().into_iter().filter_map(|s| s.set.invoice().map(|inv| (s, inv))).collect()
    }

    /// All errors at every level, in file order (by byte offset).
    pub fn errors(&self) -> Vec<&X12Error> {
        let mut out: Vec<&X12Error> = self.findings.errors.iter().collect();
        for s in &self.loose_sets {
            out.extend(&s.findings.errors);
        }
        for i in &self.interchanges {
            out.extend(&i.findings.errors);
            for g in &i.groups {
                out.extend(&g.findings.errors);
                for s in &g.sets {
                    out.extend(&s.findings.errors);
                }
            }
        }
        out.sort_by_key(|e| (e.location.offset, e.location.index));
        out
    }

    /// All warnings at every level.
    pub fn warnings(&self) -> Vec<&Warning> {
        let mut out: Vec<&Warning> = self.findings.warnings.iter().collect();
        for s in &self.loose_sets {
            out.extend(&s.findings.warnings);
        }
        for i in &self.interchanges {
            out.extend(&i.findings.warnings);
            for g in &i.groups {
                out.extend(&g.findings.warnings);
                for s in &g.sets {
                    out.extend(&s.findings.warnings);
                }
            }
        }
        out
    }

    /// Errors that were counted but not kept (beyond the per-level caps).
    pub fn dropped_errors(&self) -> usize {
        let mut n = self.findings.dropped_errors;
        n += self.loose_sets.iter().map(|s| s.findings.dropped_errors).sum::<usize>();
        for i in &self.interchanges {
            n += i.findings.dropped_errors;
            for g in &i.groups {
                n += g.findings.dropped_errors + g.sets.iter().map(|s| s.findings.dropped_errors).sum::<usize>();
            }
        }
        n
    }

    /// No errors anywhere (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors().is_empty() && self.dropped_errors() == 0
    }
}

/// Parse with default options. Fails only when nothing can be read (no ISA, unusable delimiters
/// in the first ISA); every other problem is recorded in the result.
pub fn parse(input: &[u8]) -> Result<X12File<'_>, X12Error> {
    parse_with(input, &ParseOptions::default())
}

/// How many errors the whole file may collect before parsing stops: a bound on work and memory
/// for hostile input. Each level keeps at most [`crate::error::MAX_KEPT`] of them.
pub const MAX_FILE_ERRORS: usize = 1000;

/// Parse with options.
pub fn parse_with<'a>(input: &'a [u8], opts: &ParseOptions) -> Result<X12File<'a>, X12Error> {
    let mut p = Parser {
        opts,
        file: X12File { input, interchanges: Vec::new(), loose_sets: Vec::new(), findings: Findings::default() },
        ic: None,
        gs: None,
        st: None,
        bare: false,
        errors: 0,
        empty_segments: 0,
        last_end: 0,
        last_unterminated: None,
        st02s: HashSet::new(),
    };
    let mut lexer = Lexer::new(input);
    let mut first = true;
    while let Some(item) = lexer.next() {
        match item {
            Lexed::Error(e) => {
                if first {
                    return Err(e);
                }
                p.file_error(e);
                break;
            }
            Lexed::Empty(_) => p.empty_segments += 1,
            Lexed::Isa(seg, d) => p.isa(seg, d),
            Lexed::Segment(seg) => {
                if first && lexer.bare {
                    p.bare = true;
                    p.file.findings.warn(Warning::new(
                        WarningKind::NoEnvelope,
                        Some(seg.location()),
                        "no ISA/GS envelope: transaction sets read on their own",
                    ));
                }
                p.segment(seg);
            }
        }
        first = false;
        if p.errors > MAX_FILE_ERRORS {
            let e = X12Error::new(
                ErrorKind::LimitExceeded,
                Location::at_offset(p.last_end),
                format!("more than {MAX_FILE_ERRORS} errors; parsing stopped"),
            );
            p.file_error(e);
            break;
        }
    }
    if first {
        return Err(X12Error::new(
            ErrorKind::NoInterchange,
            Location::at_offset(0),
            "input is empty or only whitespace",
        )
        .with_expected("ISA (or a bare ST)"));
    }
    p.finish();
    Ok(p.file)
}

struct OpenSet<'a> {
    set: TransactionSet<'a>,
    builder: Builder<'a>,
}

enum Builder<'a> {
    Invoice(Box<invoice810::Builder<'a>>),
    Ack(Box<ack997::Builder>),
    Unsupported,
}

struct Parser<'o, 'a> {
    opts: &'o ParseOptions,
    file: X12File<'a>,
    ic: Option<Interchange<'a>>,
    gs: Option<Group<'a>>,
    st: Option<OpenSet<'a>>,
    bare: bool,
    /// Errors recorded so far (all levels).
    errors: usize,
    empty_segments: usize,
    last_end: usize,
    last_unterminated: Option<Location>,
    /// ST02s seen in the open group (a set, so the uniqueness check stays linear).
    st02s: HashSet<String>,
}

/// Compares control numbers numerically when both are digits, as trimmed text otherwise.
pub fn same_control(a: &str, b: &str) -> bool {
    match (values::unsigned(a.as_bytes()), values::unsigned(b.as_bytes())) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

fn field_text(raw: &[u8]) -> String {
    values::text(raw).0
}

impl<'o, 'a> Parser<'o, 'a> {
    fn file_error(&mut self, e: X12Error) {
        self.errors += 1;
        self.file.findings.error(e);
    }

    /// An error about a segment that belongs to no set: recorded on the innermost open level.
    fn envelope_error(&mut self, e: X12Error) {
        self.errors += 1;
        if let Some(g) = self.gs.as_mut() {
            g.findings.error(e);
        } else if let Some(i) = self.ic.as_mut() {
            i.findings.error(e);
        } else {
            self.file.findings.error(e);
        }
    }

    fn eof_location(&self, segment: &str) -> Location {
        Location { segment: segment.to_string(), index: 0, offset: self.file.input.len(), ..Location::default() }
    }

    fn isa(&mut self, seg: Segment<'a>, d: DetectedIsa) {
        self.last_end = seg.end;
        let here = seg.location();
        if self.bare {
            self.close_loose_set(&here);
        }
        self.close_interchange_missing(&here);
        let f = seg.fields();
        let mut findings = Findings::default();
        let h = IsaHeader {
            authorization_qualifier: field_text(f.get(1)),
            authorization: field_text(f.get(2)),
            security_qualifier: field_text(f.get(3)),
            security: field_text(f.get(4)),
            sender_qualifier: field_text(f.get(5)),
            sender_id: field_text(f.get(6)),
            receiver_qualifier: field_text(f.get(7)),
            receiver_id: field_text(f.get(8)),
            date: match values::date(f.get(9)) {
                Ok((d, _)) => Some(d),
                Err(v) => {
                    findings.warn(Warning::new(
                        WarningKind::LenientValue,
                        Some(here.clone().element(9)),
                        format!("interchange date is not YYMMDD: found {}", v.found),
                    ));
                    None
                }
            },
            time: field_text(f.get(10)),
            isa11: field_text(f.get(11)),
            version: field_text(f.get(12)),
            control: field_text(f.get(13)),
            ack_requested: field_text(f.get(14)),
            usage: field_text(f.get(15)),
        };
        if let Err(v) = values::unsigned(f.get(13)) {
            self.errors += 1;
            findings.error(
                X12Error::new(v.kind, here.clone().element(13), "interchange control number")
                    .with_expected("9 digits")
                    .with_found(v.found),
            );
        }
        if let Some(b) = d.separator_in_fields {
            findings.warn(Warning::new(
                WarningKind::LenientValue,
                Some(here.clone()),
                format!(
                    "separator {} also occurs inside an ISA field; values containing it may be split",
                    crate::delimiters::show_byte(b)
                ),
            ));
        }
        if !d.fixed_width {
            findings.warn(Warning::new(
                WarningKind::NonFixedWidthIsa,
                Some(here.clone()),
                "ISA is not the fixed 106 bytes; delimiters found by counting separators",
            ));
        }
        if !matches!(h.usage.as_str(), "P" | "T" | "I") {
            findings.warn(Warning::new(
                WarningKind::LenientValue,
                Some(here.clone().element(15)),
                format!("usage indicator should be P, T or I; found {:?}", h.usage),
            ));
        }
        self.ic = Some(Interchange {
            header: h,
            delimiters: d.delimiters,
            fixed_width: d.fixed_width,
            groups: Vec::new(),
            trailer: None,
            findings,
            location: here,
        });
    }

    fn segment(&mut self, seg: Segment<'a>) {
        self.last_end = seg.end;
        if !seg.terminated {
            self.last_unterminated = Some(seg.location());
        }
        if !seg.id_is_valid() {
            let e = X12Error::new(ErrorKind::InvalidSegmentId, seg.location(), "segment id")
                .with_expected("2-3 upper-case letters or digits, starting with a letter")
                .with_found(values::shown(seg.id));
            if let Some(st) = self.st.as_mut() {
                st.set.segment_count += 1;
                let mut e = e;
                e.location.set_position = Some(st.set.segment_count);
                self.errors += 1;
                st.set.findings.error(e);
            } else {
                self.envelope_error(e);
            }
            return;
        }
        match seg.id {
            b"GS" => self.gs_segment(seg),
            b"ST" => self.st_segment(seg),
            b"SE" => self.se_segment(seg),
            b"GE" => self.ge_segment(seg),
            b"IEA" => self.iea_segment(seg),
            _ => {
                if let Some(st) = self.st.as_mut() {
                    st.set.segment_count += 1;
                    let pos = st.set.segment_count;
                    let before = st.set.findings.errors.len() + st.set.findings.dropped_errors;
                    match &mut st.builder {
                        Builder::Invoice(b) => b.segment(&seg, pos, &mut st.set.findings),
                        Builder::Ack(b) => b.segment(&seg, pos, &mut st.set.findings),
                        Builder::Unsupported => {}
                    }
                    self.errors += st.set.findings.errors.len() + st.set.findings.dropped_errors - before;
                } else {
                    let e = X12Error::new(
                        ErrorKind::UnexpectedSegment,
                        seg.location(),
                        "segment outside a transaction set (ST…SE)",
                    );
                    self.envelope_error(e);
                }
            }
        }
    }

    fn gs_segment(&mut self, seg: Segment<'a>) {
        let here = seg.location();
        self.close_set_missing(&here);
        self.close_group_missing(&here);
        if self.ic.is_none() {
            self.envelope_error(X12Error::new(
                ErrorKind::UnexpectedSegment,
                here,
                "GS outside an interchange (no open ISA)",
            ));
            return;
        }
        let f = seg.fields();
        let mut findings = Findings::default();
        let h = GsHeader {
            functional_id: field_text(f.get(1)),
            sender: field_text(f.get(2)),
            receiver: field_text(f.get(3)),
            date: values::date(f.get(4)).ok().map(|d| d.0),
            time: field_text(f.get(5)),
            control: field_text(f.get(6)),
            agency: field_text(f.get(7)),
            version: field_text(f.get(8)),
        };
        if let Err(v) = values::unsigned(f.get(6)) {
            self.errors += 1;
            findings.error(
                X12Error::new(v.kind, here.clone().element(6), "group control number")
                    .with_expected("1-9 digits")
                    .with_found(v.found),
            );
        }
        if h.version.is_empty() {
            self.errors += 1;
            findings.error(
                X12Error::new(ErrorKind::MissingElement, here.clone().element(8), "version/release")
                    .with_expected("004010 or 005010"),
            );
        }
        if !f.has(4) || values::date(f.get(4)).is_err() {
            findings.warn(Warning::new(
                WarningKind::LenientValue,
                Some(here.clone().element(4)),
                format!("group date is not CCYYMMDD: found {}", values::shown(f.get(4))),
            ));
        }
        let release = Release::from_gs08(&h.version);
        if let Some(ic) = &self.ic {
            if let Release::Other(v) = &release {
                findings.warn(Warning::new(
                    WarningKind::VersionMismatch,
                    Some(here.clone().element(8)),
                    format!("version {v:?} is not 004010 or 005010; read with the 004010 rules"),
                ));
            } else if !h.version.starts_with(ic.header.version.as_str()) {
                findings.warn(Warning::new(
                    WarningKind::VersionMismatch,
                    Some(here.clone().element(8)),
                    format!("GS08 {:?} does not match ISA12 {:?}; GS08 is used", h.version, ic.header.version),
                ));
            }
        }
        self.st02s.clear();
        self.gs = Some(Group { header: h, release, sets: Vec::new(), trailer: None, findings, location: here });
    }

    fn st_segment(&mut self, seg: Segment<'a>) {
        let here = seg.location();
        if self.bare {
            self.close_loose_set(&here);
        } else {
            self.close_set_missing(&here);
        }
        if self.gs.is_none() && !self.bare {
            self.envelope_error(X12Error::new(
                ErrorKind::UnexpectedSegment,
                here,
                "ST outside a functional group (no open GS)",
            ));
            return;
        }
        let f = seg.fields();
        let mut findings = Findings::default();
        let h = StHeader {
            id: field_text(f.get(1)),
            control: field_text(f.get(2)),
            implementation: f.has(3).then(|| field_text(f.get(3))),
        };
        let mut loc = here.clone();
        loc.set_position = Some(1);
        if !(h.id.len() == 3 && h.id.bytes().all(|b| b.is_ascii_digit())) {
            findings.error(
                X12Error::new(ErrorKind::InvalidCode, loc.clone().element(1), "transaction set identifier")
                    .with_expected("3 digits such as 810")
                    .with_found(values::shown(f.get(1))),
            );
        }
        if h.control.is_empty() {
            findings.error(X12Error::new(
                ErrorKind::MissingElement,
                loc.clone().element(2),
                "transaction set control number",
            ));
        } else if !(4..=9).contains(&h.control.len()) {
            findings.warn(Warning::new(
                WarningKind::LenientValue,
                Some(loc.clone().element(2)),
                format!("ST02 should be 4-9 characters; found {:?}", h.control),
            ));
        }
        if let Some(g) = &self.gs {
            if !h.control.is_empty() && !self.st02s.insert(h.control.clone()) {
                findings.error(
                    X12Error::new(
                        ErrorKind::DuplicateControlNumber,
                        loc.clone().element(2),
                        "transaction set control number is not unique in its group",
                    )
                    .with_found(h.control.clone()),
                );
            }
            let want = match h.id.as_str() {
                "810" => Some("IN"),
                "997" => Some("FA"),
                _ => None,
            };
            if let Some(want) = want
                && g.header.functional_id != want
            {
                findings.warn(Warning::new(
                    WarningKind::FunctionalIdMismatch,
                    Some(g.location.clone().element(1)),
                    format!(
                        "GS01 should be {want} for a {} set; found {:?} (read anyway)",
                        h.id, g.header.functional_id
                    ),
                ));
            }
        }
        let release = self.gs.as_ref().map(|g| g.release.clone()).unwrap_or_default();
        let builder = match h.id.as_str() {
            "810" => Builder::Invoice(Box::new(invoice810::Builder::new(release, self.opts))),
            "997" => Builder::Ack(Box::new(ack997::Builder::new())),
            _ => {
                findings.error(
                    X12Error::new(ErrorKind::UnsupportedTransactionSet, loc.clone().element(1), "transaction set")
                        .with_expected("810 or 997")
                        .with_found(h.id.clone()),
                );
                Builder::Unsupported
            }
        };
        self.errors += findings.errors.len();
        self.st = Some(OpenSet {
            set: TransactionSet {
                header: h,
                trailer: None,
                content: SetContent::Unsupported,
                findings,
                location: loc,
                segment_count: 1,
                bytes: seg.offset..seg.end,
            },
            builder,
        });
    }

    fn se_segment(&mut self, seg: Segment<'a>) {
        let Some(mut open) = self.st.take() else {
            self.envelope_error(X12Error::new(
                ErrorKind::UnexpectedSegment,
                seg.location(),
                "SE without a matching ST",
            ));
            return;
        };
        open.set.segment_count += 1;
        let mut loc = seg.location();
        loc.set_position = Some(open.set.segment_count);
        let f = seg.fields();
        let count = values::unsigned(f.get(1));
        let control = field_text(f.get(2));
        let set = &mut open.set;
        match &count {
            Ok(n) if *n as usize != set.segment_count => set.findings.error(X12Error::mismatch(
                ErrorKind::CountMismatch,
                loc.clone().element(1),
                "number of included segments (ST through SE)",
                set.segment_count.to_string(),
                n.to_string(),
            )),
            Ok(_) => {}
            Err(v) => set.findings.error(
                X12Error::new(v.kind, loc.clone().element(1), "number of included segments")
                    .with_expected(set.segment_count.to_string())
                    .with_found(v.found.clone()),
            ),
        }
        if !same_control(&control, &set.header.control) {
            set.findings.error(X12Error::mismatch(
                ErrorKind::ControlNumberMismatch,
                loc.clone().element(2),
                "transaction set control number (ST02)",
                set.header.control.clone(),
                control.clone(),
            ));
        }
        set.trailer = Some(Trailer { count: count.ok(), control, location: loc });
        set.bytes.end = seg.end;
        self.finish_set(open);
    }

    fn ge_segment(&mut self, seg: Segment<'a>) {
        let here = seg.location();
        self.close_set_missing(&here);
        let Some(mut g) = self.gs.take() else {
            self.envelope_error(X12Error::new(ErrorKind::UnexpectedSegment, here, "GE without a matching GS"));
            return;
        };
        let f = seg.fields();
        let count = values::unsigned(f.get(1));
        let control = field_text(f.get(2));
        let before = g.findings.errors.len();
        match &count {
            Ok(n) if *n as usize != g.sets.len() => g.findings.error(X12Error::mismatch(
                ErrorKind::CountMismatch,
                here.clone().element(1),
                "number of transaction sets in the group",
                g.sets.len().to_string(),
                n.to_string(),
            )),
            Ok(_) => {}
            Err(v) => g.findings.error(
                X12Error::new(v.kind, here.clone().element(1), "number of transaction sets")
                    .with_expected(g.sets.len().to_string())
                    .with_found(v.found.clone()),
            ),
        }
        if !same_control(&control, &g.header.control) {
            g.findings.error(X12Error::mismatch(
                ErrorKind::ControlNumberMismatch,
                here.clone().element(2),
                "group control number (GS06)",
                g.header.control.clone(),
                control.clone(),
            ));
        }
        self.errors += g.findings.errors.len() - before;
        g.trailer = Some(Trailer { count: count.ok(), control, location: here });
        self.push_group(g);
    }

    fn iea_segment(&mut self, seg: Segment<'a>) {
        let here = seg.location();
        self.close_set_missing(&here);
        self.close_group_missing(&here);
        let Some(mut ic) = self.ic.take() else {
            self.envelope_error(X12Error::new(ErrorKind::UnexpectedSegment, here, "IEA without a matching ISA"));
            return;
        };
        let f = seg.fields();
        let count = values::unsigned(f.get(1));
        let control = field_text(f.get(2));
        let before = ic.findings.errors.len();
        match &count {
            Ok(n) if *n as usize != ic.groups.len() => ic.findings.error(X12Error::mismatch(
                ErrorKind::CountMismatch,
                here.clone().element(1),
                "number of functional groups in the interchange",
                ic.groups.len().to_string(),
                n.to_string(),
            )),
            Ok(_) => {}
            Err(v) => ic.findings.error(
                X12Error::new(v.kind, here.clone().element(1), "number of functional groups")
                    .with_expected(ic.groups.len().to_string())
                    .with_found(v.found.clone()),
            ),
        }
        if !same_control(&control, &ic.header.control) {
            ic.findings.error(X12Error::mismatch(
                ErrorKind::ControlNumberMismatch,
                here.clone().element(2),
                "interchange control number (ISA13)",
                ic.header.control.clone(),
                control.clone(),
            ));
        }
        self.errors += ic.findings.errors.len() - before;
        ic.trailer = Some(Trailer { count: count.ok(), control, location: here });
        self.file.interchanges.push(ic);
    }

    fn finish_set(&mut self, open: OpenSet<'a>) {
        let OpenSet { mut set, builder } = open;
        let before = set.findings.errors.len();
        set.content = match builder {
            Builder::Invoice(b) => match b.finish(&set.location, &mut set.findings) {
                Some(inv) => SetContent::Invoice(Box::new(inv)),
                None => SetContent::Unreadable,
            },
            Builder::Ack(b) => match b.finish(&set.location, &mut set.findings) {
                Some(a) => SetContent::Ack(Box::new(a)),
                None => SetContent::Unreadable,
            },
            Builder::Unsupported => SetContent::Unsupported,
        };
        self.errors += set.findings.errors.len().saturating_sub(before);
        if let Some(g) = self.gs.as_mut() {
            g.sets.push(set);
        } else {
            self.file.loose_sets.push(set);
        }
    }

    fn push_group(&mut self, g: Group<'a>) {
        match self.ic.as_mut() {
            Some(ic) => ic.groups.push(g),
            None => self.file.findings.error(X12Error::new(
                ErrorKind::UnexpectedSegment,
                g.location.clone(),
                "functional group outside an interchange",
            )),
        }
    }

    /// Closes an open set whose SE never came: an error on the set, then the set is kept.
    fn close_set_missing(&mut self, at: &Location) {
        if let Some(mut open) = self.st.take() {
            open.set.findings.error(
                X12Error::new(
                    ErrorKind::MissingTrailer,
                    at.clone(),
                    format!("transaction set {} has no SE before this segment", open.set.header.control),
                )
                .with_expected("SE"),
            );
            self.errors += 1;
            open.set.bytes.end = at.offset;
            self.finish_set(open);
        }
    }

    fn close_loose_set(&mut self, at: &Location) {
        self.close_set_missing(at);
    }

    fn close_group_missing(&mut self, at: &Location) {
        if let Some(mut g) = self.gs.take() {
            g.findings.error(
                X12Error::new(
                    ErrorKind::MissingTrailer,
                    at.clone(),
                    format!("functional group {} has no GE before this segment", g.header.control),
                )
                .with_expected("GE"),
            );
            self.errors += 1;
            self.push_group(g);
        }
    }

    fn close_interchange_missing(&mut self, at: &Location) {
        self.close_set_missing(at);
        self.close_group_missing(at);
        if let Some(mut ic) = self.ic.take() {
            ic.findings.error(
                X12Error::new(
                    ErrorKind::MissingTrailer,
                    at.clone(),
                    format!("interchange {} has no IEA before this segment", ic.header.control),
                )
                .with_expected("IEA"),
            );
            self.errors += 1;
            self.file.interchanges.push(ic);
        }
    }

    fn finish(&mut self) {
        let eof = self.eof_location("");
        let had_open = self.st.is_some() || self.gs.is_some() || self.ic.is_some();
        if had_open {
            let mut at = eof.clone();
            at.segment = "end of input".into();
            self.close_interchange_missing(&at);
        }
        if self.empty_segments > 0 {
            self.file.findings.warn(Warning::new(
                WarningKind::EmptySegment,
                None,
                format!("{} empty segment(s) (terminators in a row) skipped", self.empty_segments),
            ));
        }
        if let Some(loc) = self.last_unterminated.take() {
            self.file.findings.warn(Warning::new(
                WarningKind::TrailingData,
                Some(loc),
                "last segment has no terminator (read anyway)",
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str =
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260301*1200*U*00401*000000007*0*P*>~";

    fn body(st02: &str) -> String {
        format!("ST*810*{st02}~BIG*20260301*INV-{st02}~IT1*1*2*EA*5**VP*A1~TDS*1000~SE*5*{st02}~")
    }

    #[test]
    fn valid_interchange() {
        let input = format!("{ISA}GS*IN*S*R*20260301*1200*7*X*004010~{}GE*1*7~IEA*1*000000007~", body("0001"));
        let f = parse(input.as_bytes()).unwrap();
        assert!(f.is_valid(), "{:#?}", f.errors());
        assert_eq!(f.interchanges.len(), 1);
        assert_eq!(f.invoices().len(), 1);
    }

    #[test]
    fn control_numbers_compare_numerically() {
        let input = format!("{ISA}GS*IN*S*R*20260301*1200*0007*X*004010~{}GE*1*7~IEA*1*7~", body("0001"));
        let f = parse(input.as_bytes()).unwrap();
        assert!(f.is_valid(), "{:#?}", f.errors());
    }

    #[test]
    fn every_trailer_check_names_what_it_expected() {
        let input = format!(
            "{ISA}GS*IN*S*R*20260301*1200*7*X*004010~ST*810*0001~BIG*20260301*A~IT1*1*1*EA*1~TDS*100~SE*9*0002~GE*3*8~IEA*2*000000009~"
        );
        let f = parse(input.as_bytes()).unwrap();
        let msgs: Vec<String> = f.errors().iter().map(|e| e.to_string()).collect();
        let want = [
            "SE01 at segment 7",
            "expected 5, found 9",
            "SE02",
            "expected 0001, found 0002",
            "GE01",
            "expected 1, found 3",
            "GE02",
            "expected 7, found 8",
            "IEA01",
            "expected 1, found 2",
            "IEA02",
            "expected 000000007, found 000000009",
        ];
        let all = msgs.join("\n");
        for w in want {
            assert!(all.contains(w), "missing {w:?} in\n{all}");
        }
    }

    #[test]
    fn missing_trailers_are_reported_where_noticed() {
        let input = format!("{ISA}GS*IN*S*R*20260301*1200*7*X*004010~ST*810*0001~BIG*20260301*A~");
        let f = parse(input.as_bytes()).unwrap();
        let kinds: Vec<ErrorKind> = f.errors().iter().map(|e| e.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == ErrorKind::MissingTrailer).count(), 3, "{kinds:?}");
    }

    #[test]
    fn segment_outside_set_is_an_error() {
        let input = format!("{ISA}GS*IN*S*R*20260301*1200*7*X*004010~BIG*1~GE*0*7~IEA*1*7~");
        let f = parse(input.as_bytes()).unwrap();
        assert_eq!(f.errors().len(), 1);
        assert_eq!(f.errors()[0].kind, ErrorKind::UnexpectedSegment);
    }
}
