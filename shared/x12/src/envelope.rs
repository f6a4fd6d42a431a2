//! Envelopes: ISA/IEA interchanges, GS/GE functional groups, ST/SE transaction sets (§4), and the
//! interchange service segments between them, as X12.5/X12.6 define them.
//!
//! One state machine ([`Machine`], crate-private) reads segments one at a time and keeps only what
//! the open levels need (headers, counters, the control numbers seen); it knows nothing of where
//! the bytes come from. Two drivers feed it: [`parse`] over a whole input held in memory (the
//! result, an [`X12File`], keeps every set), and [`crate::stream::Reader`] over a `Read`, which
//! hands out one set at a time and keeps nothing of it. Both report the same findings, because
//! there is one machine.
//!
//! What it checks, each finding naming the segment, its position and expected vs found:
//! - every envelope segment against the dictionary, through the one validator
//!   ([`crate::validate`]); the envelope's control numbers and counts are the critical elements;
//! - SE01 = segments from ST to SE inclusive; SE02 = ST02; ST02 unique in its group;
//! - GE01 = number of sets; GE02 = GS06; GS06 unique in its interchange (a second group with the
//!   same GS06 is rejected, AK905 `19`: the partner could not tell the two 997s apart);
//! - IEA01 = number of groups; IEA02 = ISA13 (compared numerically: `000003438` = `3438`);
//! - a header before its predecessor's trailer (ISA inside an open interchange, GS inside an open
//!   group, ST inside an open set) closes the open level with "trailer missing";
//! - interchange service segments (ISB grade of service, ISE deferred delivery, ISX syntax
//!   extension, TA1 and TA3 acknowledgments) are read at interchange level; an ISX01 release
//!   character takes effect for the rest of the interchange;
//! - segments outside any set are noted; empty segments and bytes after the last IEA that hold no
//!   segment are warnings.
//!
//! Sets are read per group and per set: the 810 and 997 are read from any group (a group whose
//! GS01 does not match draws a warning); a set of another kind in a group of its own kind (850s in
//! a `PO` group) is *not handled*, which is not an error; a set of a kind its group does not carry
//! (an 850 in an `IN` group) is rejected alone. A partner's ordinary mailbag never stops the
//! invoices in it.
//!
//! The file structure is kept even when it is broken: every problem lands on the level it belongs
//! to (file, interchange, group, set) so acknowledgments can say which group and set failed.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Range;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::ack997::{self, Ack997, SetAck};
use crate::delimiters::{Delimiters, DetectedIsa, show_byte};
use crate::dictionary;
use crate::error::{ErrorKind, Findings, Location, Warning, WarningKind, X12Error};
use crate::invoice810::{self, Invoice810};
use crate::lexer::{Fields, Lexed, Lexer, Segment};
use crate::ta1::{self, Ta1};
use crate::validate::{self, Check, Unreadable};
use crate::values;

pub use crate::headers::{GsHeader, IsaHeader, ParseOptions, Release, StHeader, TaxInTds, Trailer, same_control};

/// What a transaction set holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum SetContent<'a> {
    Invoice(Box<Invoice810<'a>>),
    Ack(Box<Ack997>),
    /// A set this product does not handle (an 850, 856, 820 ...): its envelope is checked, its
    /// content is not read.
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

    /// Whether this product reads sets of this kind (810, 997).
    pub fn is_handled(&self) -> bool {
        self.content != SetContent::Unsupported
    }

    /// The set's own verdict (its group's and interchange's errors are not counted here).
    pub fn status(&self) -> SetStatus {
        if !self.is_handled() && !self.findings.has_errors() {
            SetStatus::NotHandled
        } else if self.findings.rejects() {
            SetStatus::Rejected
        } else if self.findings.has_errors() {
            SetStatus::AcceptedWithErrors
        } else if !self.is_handled() {
            SetStatus::NotHandled
        } else {
            SetStatus::Accepted
        }
    }
}

/// What became of one set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetStatus {
    /// Read, no error (warnings allowed).
    Accepted,
    /// Read; errors that do not stop its use were noted (997 AK5 `E`).
    AcceptedWithErrors,
    /// Not usable (997 AK5 `R`).
    Rejected,
    /// A kind of set this product does not read, in a group of its own kind.
    NotHandled,
}

impl SetStatus {
    pub fn words(self) -> &'static str {
        match self {
            SetStatus::Accepted => "accepted",
            SetStatus::AcceptedWithErrors => "accepted with errors",
            SetStatus::Rejected => "rejected",
            SetStatus::NotHandled => "not handled",
        }
    }
}

/// One set in a group's summary: enough to acknowledge it and to report it, kept in streaming
/// mode where the set itself is not. Small on purpose — a group of 100 000 sets keeps 100 000 of
/// them: an accepted set costs its two control strings; only a set with errors keeps its notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetSummary {
    /// ST01 (`810`, `997`, `850` ...).
    pub id: Cow<'static, str>,
    /// ST02.
    pub control: Box<str>,
    /// ST03, echoed in a 005010 AK203.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implementation: Option<Box<str>>,
    pub status: SetStatus,
    /// The AK2…AK5 of a set that is not simply accepted; `None` for an accepted set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Box<SetAck>>,
}

impl SetSummary {
    /// The AK2…AK5 that acknowledges the set.
    pub fn ack(&self) -> SetAck {
        match &self.notes {
            Some(a) => (**a).clone(),
            None => SetAck {
                set_id: self.id.to_string(),
                control: self.control.to_string(),
                implementation: self.implementation.as_deref().map(str::to_string),
                segments: Vec::new(),
                status: crate::ack997::AckCode::Accepted,
                codes: Vec::new(),
            },
        }
    }
}

/// ST01 without an allocation for the sets every mailbag carries.
fn set_id(id: &str) -> Cow<'static, str> {
    const KNOWN: [&str; 10] = ["810", "997", "999", "850", "855", "856", "820", "860", "846", "832"];
    match KNOWN.iter().find(|k| **k == id) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(id.to_string()),
    }
}

/// One GS…GE functional group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group<'a> {
    pub header: GsHeader,
    pub release: Release,
    /// The sets (empty in the groups the streaming reader hands out: it keeps no set).
    pub sets: Vec<TransactionSet<'a>>,
    pub trailer: Option<Trailer>,
    /// Errors about the group itself (GS/GE checks); set errors stay with their set.
    pub findings: Findings,
    pub location: Location,
    /// One entry per set, in order (also in streaming mode).
    pub summaries: Vec<SetSummary>,
}

impl Group<'static> {
    /// The same group holding `sets`.
    fn with_sets<'b>(self: Box<Self>, sets: Vec<TransactionSet<'b>>) -> Group<'b> {
        Group {
            header: self.header,
            release: self.release,
            sets,
            trailer: self.trailer,
            findings: self.findings,
            location: self.location,
            summaries: self.summaries,
        }
    }
}

/// An interchange-level service segment (ISB, ISE, ISX, TA3), kept as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceSegment {
    pub id: String,
    pub elements: Vec<String>,
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
    /// ISB, ISE, ISX, TA3 between the ISA and the first GS.
    pub service: Vec<ServiceSegment>,
    /// TA1 interchange acknowledgments the sender included.
    pub ta1: Vec<Ta1>,
    /// Byte range from the ISA to the end of the IEA (or where the interchange was cut off).
    pub bytes: Range<usize>,
}

impl Interchange<'static> {
    fn with_groups<'b>(self: Box<Self>, groups: Vec<Group<'b>>) -> Interchange<'b> {
        Interchange {
            header: self.header,
            delimiters: self.delimiters,
            fixed_width: self.fixed_width,
            groups,
            trailer: self.trailer,
            findings: self.findings,
            location: self.location,
            service: self.service,
            ta1: self.ta1,
            bytes: self.bytes,
        }
    }
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

/// A reference to one transaction set with its envelope: what the domain mapping, the CLI and
/// the inbound flow need of a set, from a parsed file or from the streaming reader.
#[derive(Debug, Clone, Copy)]
pub struct SetRef<'f, 'a> {
    /// The set's bytes, ST through SE.
    pub input: &'a [u8],
    pub interchange: Option<&'f Interchange<'a>>,
    pub group: Option<&'f Group<'a>>,
    pub set: &'f TransactionSet<'a>,
}

impl<'f, 'a> SetRef<'f, 'a> {
    /// The set's bytes, ST through SE.
    pub fn bytes(&self) -> &'a [u8] {
        self.input
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

    /// The set's verdict with its group's and interchange's: rejected when any of them has a
    /// rejecting error. (In streaming mode the group's and interchange's trailers come later: the
    /// final verdict is the one at the group's end.)
    pub fn status(&self) -> SetStatus {
        let own = self.set.status();
        if own == SetStatus::NotHandled {
            return own;
        }
        let above =
            self.group.is_some_and(|g| g.findings.rejects()) || self.interchange.is_some_and(|i| i.findings.rejects());
        if above { SetStatus::Rejected } else { own }
    }
}

impl<'a> X12File<'a> {
    /// Every transaction set with its envelope, in file order.
    pub fn sets(&self) -> Vec<SetRef<'_, 'a>> {
        let mut out = Vec::new();
        let bytes = |s: &TransactionSet<'_>| self.input.get(s.bytes.clone()).unwrap_or_default();
        for set in &self.loose_sets {
            out.push(SetRef { input: bytes(set), interchange: None, group: None, set });
        }
        for i in &self.interchanges {
            for g in &i.groups {
                for set in &g.sets {
                    out.push(SetRef { input: bytes(set), interchange: Some(i), group: Some(g), set });
                }
            }
        }
        // Sets without an envelope can come before, between or after interchanges.
        out.sort_by_key(|s| s.set.location.offset);
        out
    }

    /// Every 810 in the file.
    pub fn invoices(&self) -> Vec<(SetRef<'_, 'a>, &Invoice810<'a>)> {
        self.sets().into_iter().filter_map(|s| s.set.invoice().map(|inv| (s, inv))).collect()
    }

    /// The bytes of one interchange, ISA through IEA.
    pub fn interchange_bytes(&self, ic: &Interchange<'_>) -> &'a [u8] {
        self.input.get(ic.bytes.clone()).unwrap_or_default()
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

    /// Nothing rejected anywhere: every set is accepted (perhaps with noted errors) or not
    /// handled, and no group or interchange is rejected. This is what `mlc x12 validate`'s exit
    /// code reports.
    pub fn is_accepted(&self) -> bool {
        !self.findings.rejects()
            && self.loose_sets.iter().all(|s| !s.findings.rejects())
            && self.interchanges.iter().all(|i| {
                !i.findings.rejects()
                    && i.groups.iter().all(|g| !g.findings.rejects() && g.sets.iter().all(|s| !s.findings.rejects()))
            })
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

/// Where a segment goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// Into the open set.
    InSet,
    /// ST: opens a set (cutting an open one).
    Start,
    /// SE: closes the open set.
    End,
    /// Envelope or stray: cuts an open set, then goes to [`Machine::envelope`].
    Envelope,
}

/// Where a segment with this id goes, given whether a set is open.
pub(crate) fn route(id: &[u8], in_set: bool) -> Route {
    match id {
        b"ST" => Route::Start,
        b"SE" => Route::End,
        b"GS" | b"GE" | b"IEA" => Route::Envelope,
        _ if in_set => Route::InSet,
        _ => Route::Envelope,
    }
}

/// Parse with options: the whole input in memory; every set is kept.
pub fn parse_with<'a>(input: &'a [u8], opts: &ParseOptions) -> Result<X12File<'a>, X12Error> {
    let mut m = Machine::new(opts.clone());
    let mut file = X12File { input, interchanges: Vec::new(), loose_sets: Vec::new(), findings: Findings::default() };
    let mut lexer = Lexer::new(input);
    let mut open: Option<OpenSet<'a>> = None;
    let mut sets: Vec<TransactionSet<'a>> = Vec::new();
    let mut groups: Vec<Group<'a>> = Vec::new();
    let mut first = true;
    let place = |m: &Machine, set: TransactionSet<'a>, sets: &mut Vec<_>, loose: &mut Vec<_>| {
        if m.in_group() {
            sets.push(set);
        } else {
            loose.push(set);
        }
    };
    while let Some(item) = lexer.next() {
        match item {
            Lexed::Error(e) => {
                if first {
                    return Err(e);
                }
                if let Some(o) = open.take() {
                    let at = m.eof_location(e.location.offset);
                    let s = m.cut_set(o, &at);
                    place(&m, s, &mut sets, &mut file.loose_sets);
                }
                m.file_error(e);
                break;
            }
            Lexed::Empty(_) => m.empty_segment(),
            Lexed::Isa(seg, d) => {
                if let Some(o) = open.take() {
                    let s = m.cut_set(o, &seg.location());
                    place(&m, s, &mut sets, &mut file.loose_sets);
                }
                m.isa(&seg, &d);
            }
            Lexed::Segment(seg) => {
                if first && lexer.bare() {
                    m.bare_start(&seg);
                }
                match route(seg.id, open.is_some()) {
                    Route::InSet => {
                        if let Some(o) = open.as_mut() {
                            m.set_segment(o, seg);
                        }
                    }
                    Route::Start => {
                        if let Some(o) = open.take() {
                            let s = m.cut_set(o, &seg.location());
                            place(&m, s, &mut sets, &mut file.loose_sets);
                        }
                        open = m.st(seg);
                    }
                    Route::End => match open.take() {
                        Some(o) => {
                            let s = m.se(o, &seg);
                            place(&m, s, &mut sets, &mut file.loose_sets);
                        }
                        None => m.stray(&seg, "SE without a matching ST"),
                    },
                    Route::Envelope => {
                        if let Some(o) = open.take() {
                            let s = m.cut_set(o, &seg.location());
                            place(&m, s, &mut sets, &mut file.loose_sets);
                        }
                        if let Some(release) = m.envelope(&seg) {
                            // The ISX was checked by the machine; a refused release is reported there.
                            let _ = lexer.set_release(release);
                        }
                    }
                }
            }
        }
        collect(&mut m, &mut sets, &mut groups, &mut file.interchanges);
        first = false;
        if m.over_budget() {
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
    if let Some(o) = open.take() {
        let at = m.eof_location(input.len());
        let s = m.cut_set(o, &at);
        place(&m, s, &mut sets, &mut file.loose_sets);
    }
    m.finish(input.len());
    collect(&mut m, &mut sets, &mut groups, &mut file.interchanges);
    // A group or sets left without an interchange (only after an error was recorded).
    file.loose_sets.append(&mut sets);
    file.findings = m.take_file_findings();
    Ok(file)
}

fn collect<'a>(
    m: &mut Machine,
    sets: &mut Vec<TransactionSet<'a>>,
    groups: &mut Vec<Group<'a>>,
    interchanges: &mut Vec<Interchange<'a>>,
) {
    for c in m.take_closed() {
        match c {
            Closed::Group(g) => groups.push(g.with_sets(std::mem::take(sets))),
            Closed::Interchange(ic) => interchanges.push(ic.with_groups(std::mem::take(groups))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The state machine.

/// A level the machine closed, for the driver to place.
#[derive(Debug)]
pub(crate) enum Closed {
    Group(Box<Group<'static>>),
    Interchange(Box<Interchange<'static>>),
}

/// A set being read.
pub(crate) struct OpenSet<'a> {
    set: TransactionSet<'a>,
    builder: Builder<'a>,
}

enum Builder<'a> {
    Invoice(Box<invoice810::Builder<'a>>),
    Ack(Box<ack997::Builder>),
    /// Not read: a kind of set this product does not handle.
    NotHandled,
}

/// The envelope state machine. Holds only owned state: the open interchange and group (without
/// their sets), counters and the control numbers seen; the set being read lives with the driver.
pub(crate) struct Machine {
    opts: ParseOptions,
    ic: Option<Interchange<'static>>,
    gs: Option<Group<'static>>,
    /// ST02s seen in the open group, GS06s in the open interchange (as numeric keys).
    st02s: HashSet<String>,
    gs06s: HashSet<String>,
    bare: bool,
    /// Errors recorded so far (all levels).
    errors: usize,
    stopped: bool,
    empty_segments: usize,
    last_end: usize,
    last_unterminated: Option<Location>,
    file: Findings,
    closed: Vec<Closed>,
}

fn field_text(raw: &[u8]) -> String {
    values::text(raw).0
}

/// Checks an envelope segment with the one validator, outside any set.
fn check_envelope(
    seg: &Segment<'_>,
    f: &Fields<'_>,
    critical: &[u8],
    release_5010: bool,
    out: &mut Findings,
) -> Unreadable {
    match dictionary::segment(seg.id) {
        Some(def) => validate::check(seg, f, def, &Check { release_5010, set_position: None, critical }, out),
        None => Unreadable::default(),
    }
}

impl Machine {
    pub(crate) fn new(opts: ParseOptions) -> Self {
        Machine {
            opts,
            ic: None,
            gs: None,
            st02s: HashSet::new(),
            gs06s: HashSet::new(),
            bare: false,
            errors: 0,
            stopped: false,
            empty_segments: 0,
            last_end: 0,
            last_unterminated: None,
            file: Findings::default(),
            closed: Vec::new(),
        }
    }

    pub(crate) fn take_closed(&mut self) -> Vec<Closed> {
        std::mem::take(&mut self.closed)
    }

    pub(crate) fn take_file_findings(&mut self) -> Findings {
        std::mem::take(&mut self.file)
    }

    pub(crate) fn in_group(&self) -> bool {
        self.gs.is_some()
    }

    /// Whether an ST here opens a set: inside a group, or in a file without envelope outside any
    /// interchange. Inside an ISA an ST needs its GS, also in a file that began with bare sets
    /// (the set would belong to the interchange but to no group, which neither the parse tree nor
    /// the stream can say).
    pub(crate) fn accepts_set(&self) -> bool {
        self.gs.is_some() || (self.bare && self.ic.is_none())
    }

    pub(crate) fn interchange(&self) -> Option<&Interchange<'static>> {
        self.ic.as_ref()
    }

    pub(crate) fn group(&self) -> Option<&Group<'static>> {
        self.gs.as_ref()
    }

    /// Whether the error budget is spent; the driver stops reading.
    pub(crate) fn over_budget(&mut self) -> bool {
        if self.errors > MAX_FILE_ERRORS && !self.stopped {
            self.stopped = true;
            let e = X12Error::new(
                ErrorKind::LimitExceeded,
                Location::at_offset(self.last_end),
                format!("more than {MAX_FILE_ERRORS} errors; parsing stopped"),
            );
            self.file_error(e);
        }
        self.stopped
    }

    pub(crate) fn file_error(&mut self, e: X12Error) {
        self.errors += 1;
        self.file.error(e);
    }

    pub(crate) fn empty_segment(&mut self) {
        self.empty_segments += 1;
    }

    pub(crate) fn eof_location(&self, len: usize) -> Location {
        Location { segment: "end of input".into(), index: 0, offset: len, ..Location::default() }
    }

    fn seen(&mut self, seg: &Segment<'_>) {
        self.last_end = seg.end;
        if !seg.terminated {
            self.last_unterminated = Some(seg.location());
        }
    }

    /// The input starts with a bare ST: sets are read without envelope.
    pub(crate) fn bare_start(&mut self, seg: &Segment<'_>) {
        self.bare = true;
        self.file.warn(Warning::new(
            WarningKind::NoEnvelope,
            Some(seg.location()),
            "no ISA/GS envelope: transaction sets read on their own",
        ));
    }

    /// An error about a segment that belongs to no set: recorded on the innermost open level.
    fn envelope_error(&mut self, e: X12Error) {
        self.errors += 1;
        if let Some(g) = self.gs.as_mut() {
            g.findings.error(e);
        } else if let Some(i) = self.ic.as_mut() {
            i.findings.error(e);
        } else {
            self.file.error(e);
        }
    }

    fn count_new(&mut self, before: (usize, usize), after: (usize, usize)) {
        self.errors += (after.0 + after.1).saturating_sub(before.0 + before.1);
    }

    pub(crate) fn isa(&mut self, seg: &Segment<'_>, d: &DetectedIsa) {
        self.seen(seg);
        let here = seg.location();
        self.close_interchange_missing(&here);
        let f = seg.fields();
        let mut findings = Findings::default();
        let bad = check_envelope(seg, &f, &[13], false, &mut findings);
        let h = IsaHeader {
            authorization_qualifier: field_text(f.get(1)),
            authorization: field_text(f.get(2)),
            security_qualifier: field_text(f.get(3)),
            security: field_text(f.get(4)),
            sender_qualifier: field_text(f.get(5)),
            sender_id: field_text(f.get(6)),
            receiver_qualifier: field_text(f.get(7)),
            receiver_id: field_text(f.get(8)),
            date: values::date(f.get(9)).ok().map(|d| d.0),
            date_raw: field_text(f.get(9)),
            time: field_text(f.get(10)),
            isa11: field_text(f.get(11)),
            version: field_text(f.get(12)),
            control: field_text(f.get(13)),
            ack_requested: field_text(f.get(14)),
            usage: field_text(f.get(15)),
        };
        if !bad.contains(13) && h.control.len() != 9 {
            findings.warn(Warning::new(
                WarningKind::LenientValue,
                Some(here.clone().element(13)),
                format!("ISA13 should be 9 digits; found {:?}, compared numerically", h.control),
            ));
        }
        if let Some(b) = d.separator_in_fields {
            findings.warn(Warning::new(
                WarningKind::LenientValue,
                Some(here.clone()),
                format!(
                    "separator {} also occurs inside an ISA field; values containing it may be split",
                    show_byte(b)
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
        self.errors += findings.errors.len();
        self.gs06s.clear();
        self.ic = Some(Interchange {
            header: h,
            delimiters: d.delimiters,
            fixed_width: d.fixed_width,
            groups: Vec::new(),
            trailer: None,
            findings,
            location: here,
            service: Vec::new(),
            ta1: Vec::new(),
            bytes: seg.offset..seg.end,
        });
    }

    /// A segment outside any set. Returns a release character when it was an ISX declaring one.
    pub(crate) fn envelope(&mut self, seg: &Segment<'_>) -> Option<u8> {
        self.seen(seg);
        if !seg.id_is_valid() {
            let e = X12Error::new(ErrorKind::InvalidSegmentId, seg.location(), "segment id")
                .with_expected("2-3 upper-case letters or digits, starting with a letter")
                .with_found(values::shown(seg.id));
            self.envelope_error(e);
            return None;
        }
        match seg.id {
            b"GS" => self.gs_segment(seg),
            b"GE" => self.ge_segment(seg),
            b"IEA" => self.iea_segment(seg),
            id if dictionary::INTERCHANGE_SERVICE.contains(&id) && self.ic.is_some() && self.gs.is_none() => {
                return self.service_segment(seg);
            }
            _ => self.stray(seg, "segment outside a transaction set (ST…SE)"),
        }
        None
    }

    /// A segment where none belongs: noted on the innermost open level.
    pub(crate) fn stray(&mut self, seg: &Segment<'_>, what: &str) {
        self.seen(seg);
        let e = X12Error::new(ErrorKind::UnexpectedSegment, seg.location(), what.to_string());
        let noted = self.ic.is_some();
        self.envelope_error(if noted { e.noted() } else { e });
    }

    fn service_segment(&mut self, seg: &Segment<'_>) -> Option<u8> {
        let ic = self.ic.as_mut()?;
        let f = seg.fields();
        let before = (ic.findings.errors.len(), ic.findings.dropped_errors);
        let bad = check_envelope(seg, &f, &[], false, &mut ic.findings);
        if !ic.groups.is_empty() {
            ic.findings.warn(Warning::new(
                WarningKind::ServiceSegment,
                Some(seg.location()),
                format!("{} after the first functional group; X12.5 places it before the first GS", seg.id_str()),
            ));
        }
        let mut release = None;
        match seg.id {
            b"TA1" => ic.ta1.push(ta1::read(seg, &f, bad)),
            id => {
                if id == b"ISX" && f.has(1) {
                    let r = values::trim(f.get(1));
                    match (r, ic.delimiters.with_release(r.first().copied().unwrap_or(b' '))) {
                        ([b], Ok(_)) => release = Some(*b),
                        (_, Err(problem)) => ic.findings.error(
                            X12Error::new(
                                ErrorKind::InvalidCode,
                                seg.location().element(1),
                                format!("release character cannot be used: {problem}"),
                            )
                            .noted(),
                        ),
                        _ => {}
                    }
                    if let Some(r) = release {
                        ic.delimiters.release = Some(r);
                    }
                }
                ic.service.push(ServiceSegment {
                    id: seg.id_str(),
                    elements: seg.elements().map(field_text).collect(),
                    location: seg.location(),
                });
            }
        }
        let after = (ic.findings.errors.len(), ic.findings.dropped_errors);
        self.count_new(before, after);
        release
    }

    fn gs_segment(&mut self, seg: &Segment<'_>) {
        let here = seg.location();
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
        let release = Release::from_gs08(&field_text(f.get(8)));
        let bad = check_envelope(seg, &f, &[6, 8], release.is_5010(), &mut findings);
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
        if !bad.contains(6) && !self.gs06s.insert(crate::headers::control_key(&h.control)) {
            findings.error(
                X12Error::new(
                    ErrorKind::DuplicateControlNumber,
                    here.clone().element(6),
                    "group control number is not unique in its interchange",
                )
                .with_found(h.control.clone()),
            );
        }
        if let Some(ic) = &self.ic
            && !h.version.is_empty()
        {
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
        self.errors += findings.errors.len();
        self.st02s.clear();
        self.gs = Some(Group {
            header: h,
            release,
            sets: Vec::new(),
            trailer: None,
            findings,
            location: here,
            summaries: Vec::new(),
        });
    }

    /// Opens a set at an ST. `None` when the ST is outside a group (reported).
    pub(crate) fn st<'a>(&mut self, seg: Segment<'a>) -> Option<OpenSet<'a>> {
        if !self.accepts_set() {
            self.seen(&seg);
            let e = X12Error::new(
                ErrorKind::UnexpectedSegment,
                seg.location(),
                "ST outside a functional group (no open GS)",
            );
            self.envelope_error(e);
            return None;
        }
        Some(self.open_set(seg))
    }

    /// Opens a set at an ST where [`Machine::accepts_set`] said one may open.
    pub(crate) fn open_set<'a>(&mut self, seg: Segment<'a>) -> OpenSet<'a> {
        self.seen(&seg);
        let here = seg.location();
        let f = seg.fields();
        let mut findings = Findings::default();
        let release = self.gs.as_ref().map(|g| g.release.clone()).unwrap_or_default();
        let mut loc = here.clone();
        loc.set_position = Some(1);
        let bad = match dictionary::segment(b"ST") {
            Some(def) => validate::check(
                &seg,
                &f,
                def,
                &Check { release_5010: release.is_5010(), set_position: Some(1), critical: &[1, 2] },
                &mut findings,
            ),
            None => Unreadable::default(),
        };
        let h = StHeader {
            id: field_text(f.get(1)),
            control: field_text(f.get(2)),
            implementation: f.has(3).then(|| field_text(f.get(3))),
        };
        if !bad.contains(1) && !h.id.bytes().all(|b| b.is_ascii_digit()) {
            findings.error(
                X12Error::new(ErrorKind::InvalidCode, loc.clone().element(1), "transaction set identifier")
                    .with_expected("3 digits such as 810")
                    .with_found(values::shown(f.get(1))),
            );
        }
        let gs01 = self.gs.as_ref().map(|g| g.header.functional_id.clone());
        if let (Some(_), false) = (&gs01, bad.contains(2))
            && !self.st02s.insert(crate::headers::control_key(&h.control))
        {
            findings.error(
                X12Error::new(
                    ErrorKind::DuplicateControlNumber,
                    loc.clone().element(2),
                    "transaction set control number is not unique in its group",
                )
                .with_found(h.control.clone()),
            );
        }
        let builder = match h.id.as_str() {
            "810" | "997" => {
                let want = if h.id == "810" { "IN" } else { "FA" };
                if let (Some(gs01), Some(g)) = (&gs01, &self.gs)
                    && gs01 != want
                {
                    findings.warn(Warning::new(
                        WarningKind::FunctionalIdMismatch,
                        Some(g.location.clone().element(1)),
                        format!("GS01 should be {want} for a {} set; found {gs01:?} (read anyway)", h.id),
                    ));
                }
                if h.id == "810" {
                    Builder::Invoice(Box::new(invoice810::Builder::new(release, &self.opts)))
                } else {
                    Builder::Ack(Box::new(ack997::Builder::new()))
                }
            }
            other => {
                // Another kind of set: not handled when its group carries that kind (or the group's
                // code is not one we know); the wrong type, rejected alone, when the group's code
                // names other sets.
                let carries = gs01.as_deref().and_then(dictionary::functional_id).map(|(_, sets)| sets);
                if let Some(sets) = carries
                    && !sets.is_empty()
                    && !sets.contains(&other)
                    && !bad.contains(1)
                {
                    let gs01 = gs01.clone().unwrap_or_default();
                    findings.error(
                        X12Error::new(
                            ErrorKind::UnsupportedTransactionSet,
                            loc.clone().element(1),
                            format!(
                                "transaction set {other} in functional group {gs01}, which carries {}",
                                sets.join(", ")
                            ),
                        )
                        .with_expected(sets.join(" or "))
                        .with_found(other.to_string()),
                    );
                }
                Builder::NotHandled
            }
        };
        self.errors += findings.errors.len();
        OpenSet {
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
        }
    }

    /// One segment inside the open set: checked by the validator, then read by the set's reader.
    pub(crate) fn set_segment<'a>(&mut self, open: &mut OpenSet<'a>, seg: Segment<'a>) {
        self.seen(&seg);
        let set = &mut open.set;
        set.segment_count += 1;
        let pos = set.segment_count;
        let before = (set.findings.errors.len(), set.findings.dropped_errors);
        if !seg.id_is_valid() {
            let mut e = X12Error::new(ErrorKind::InvalidSegmentId, seg.location(), "segment id")
                .with_expected("2-3 upper-case letters or digits, starting with a letter")
                .with_found(values::shown(seg.id));
            e.location.set_position = Some(pos);
            set.findings.error(e);
        } else {
            let release_5010 = self.gs.as_ref().is_some_and(|g| g.release.is_5010());
            match &mut open.builder {
                Builder::NotHandled => {}
                Builder::Invoice(b) => {
                    let f = seg.fields();
                    let critical = invoice810::critical(seg.id);
                    let bad = match dictionary::segment(seg.id) {
                        Some(def) => validate::check(
                            &seg,
                            &f,
                            def,
                            &Check { release_5010, set_position: Some(pos), critical },
                            &mut set.findings,
                        ),
                        None => Unreadable::default(),
                    };
                    b.segment(&seg, &f, pos, bad, &mut set.findings);
                }
                Builder::Ack(b) => {
                    let f = seg.fields();
                    let critical = ack997::critical(seg.id);
                    let bad = match dictionary::segment(seg.id) {
                        Some(def) => validate::check(
                            &seg,
                            &f,
                            def,
                            &Check { release_5010, set_position: Some(pos), critical },
                            &mut set.findings,
                        ),
                        None => Unreadable::default(),
                    };
                    b.segment(&seg, &f, pos, bad, &mut set.findings);
                }
            }
        }
        let after = (set.findings.errors.len(), set.findings.dropped_errors);
        self.count_new(before, after);
    }

    /// The SE of the open set: its checks, then the finished set.
    pub(crate) fn se<'a>(&mut self, mut open: OpenSet<'a>, seg: &Segment<'_>) -> TransactionSet<'a> {
        self.seen(seg);
        let set = &mut open.set;
        set.segment_count += 1;
        let mut loc = seg.location();
        loc.set_position = Some(set.segment_count);
        let f = seg.fields();
        let before = (set.findings.errors.len(), set.findings.dropped_errors);
        let release_5010 = self.gs.as_ref().is_some_and(|g| g.release.is_5010());
        let bad = match dictionary::segment(b"SE") {
            Some(def) => validate::check(
                seg,
                &f,
                def,
                &Check { release_5010, set_position: Some(set.segment_count), critical: &[1, 2] },
                &mut set.findings,
            ),
            None => Unreadable::default(),
        };
        let count = values::unsigned(f.get(1)).ok().filter(|_| !bad.contains(1));
        let control = field_text(f.get(2));
        if let Some(n) = count
            && n as usize != set.segment_count
        {
            set.findings.error(X12Error::mismatch(
                ErrorKind::CountMismatch,
                loc.clone().element(1),
                "number of included segments (ST through SE)",
                set.segment_count.to_string(),
                n.to_string(),
            ));
        }
        if !bad.contains(2) && !same_control(&control, &set.header.control) {
            set.findings.error(X12Error::mismatch(
                ErrorKind::ControlNumberMismatch,
                loc.clone().element(2),
                "transaction set control number (ST02)",
                set.header.control.clone(),
                control.clone(),
            ));
        }
        let after = (set.findings.errors.len(), set.findings.dropped_errors);
        self.count_new(before, after);
        set.trailer = Some(Trailer { count, control, location: loc });
        set.bytes.end = seg.end;
        self.finish_set(open)
    }

    /// Closes an open set whose SE never came: an error on the set, then the set is kept.
    pub(crate) fn cut_set<'a>(&mut self, mut open: OpenSet<'a>, at: &Location) -> TransactionSet<'a> {
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
        self.finish_set(open)
    }

    fn finish_set<'a>(&mut self, open: OpenSet<'a>) -> TransactionSet<'a> {
        let OpenSet { mut set, builder } = open;
        let before = (set.findings.errors.len(), set.findings.dropped_errors);
        set.content = match builder {
            Builder::Invoice(b) => match b.finish(&set.location, &mut set.findings) {
                Some(inv) => SetContent::Invoice(Box::new(inv)),
                None => SetContent::Unreadable,
            },
            Builder::Ack(b) => match b.finish(&set.location, &mut set.findings) {
                Some(a) => SetContent::Ack(Box::new(a)),
                None => SetContent::Unreadable,
            },
            Builder::NotHandled => SetContent::Unsupported,
        };
        let after = (set.findings.errors.len(), set.findings.dropped_errors);
        self.count_new(before, after);
        if let Some(g) = self.gs.as_mut() {
            let status = set.status();
            let notes = (status != SetStatus::Accepted).then(|| {
                Box::new(ack997::set_ack(&set.header, &set.findings, set.segment_count, &g.release, set.is_handled()))
            });
            g.summaries.push(SetSummary {
                id: set_id(&set.header.id),
                control: set.header.control.as_str().into(),
                implementation: if g.release.is_5010() {
                    set.header.implementation.as_deref().map(Into::into)
                } else {
                    None
                },
                status,
                notes,
            });
        }
        set
    }

    fn ge_segment(&mut self, seg: &Segment<'_>) {
        let here = seg.location();
        let Some(mut g) = self.gs.take() else {
            self.envelope_error(X12Error::new(ErrorKind::UnexpectedSegment, here, "GE without a matching GS"));
            return;
        };
        let f = seg.fields();
        let before = (g.findings.errors.len(), g.findings.dropped_errors);
        let bad = check_envelope(seg, &f, &[1, 2], g.release.is_5010(), &mut g.findings);
        let count = values::unsigned(f.get(1)).ok().filter(|_| !bad.contains(1));
        let control = field_text(f.get(2));
        if let Some(n) = count
            && n as usize != g.summaries.len()
        {
            g.findings.error(X12Error::mismatch(
                ErrorKind::CountMismatch,
                here.clone().element(1),
                "number of transaction sets in the group",
                g.summaries.len().to_string(),
                n.to_string(),
            ));
        }
        if !bad.contains(2) && !same_control(&control, &g.header.control) {
            g.findings.error(X12Error::mismatch(
                ErrorKind::ControlNumberMismatch,
                here.clone().element(2),
                "group control number (GS06)",
                g.header.control.clone(),
                control.clone(),
            ));
        }
        let after = (g.findings.errors.len(), g.findings.dropped_errors);
        self.count_new(before, after);
        g.trailer = Some(Trailer { count, control, location: here });
        self.push_group(g);
    }

    fn iea_segment(&mut self, seg: &Segment<'_>) {
        let here = seg.location();
        self.close_group_missing(&here);
        let Some(mut ic) = self.ic.take() else {
            self.envelope_error(X12Error::new(ErrorKind::UnexpectedSegment, here, "IEA without a matching ISA"));
            return;
        };
        let f = seg.fields();
        let before = (ic.findings.errors.len(), ic.findings.dropped_errors);
        let bad = check_envelope(seg, &f, &[1, 2], false, &mut ic.findings);
        let count = values::unsigned(f.get(1)).ok().filter(|_| !bad.contains(1));
        let control = field_text(f.get(2));
        if let Some(n) = count
            && n as usize != ic.groups.len()
        {
            ic.findings.error(X12Error::mismatch(
                ErrorKind::CountMismatch,
                here.clone().element(1),
                "number of functional groups in the interchange",
                ic.groups.len().to_string(),
                n.to_string(),
            ));
        }
        if !bad.contains(2) {
            if !same_control(&control, &ic.header.control) {
                ic.findings.error(X12Error::mismatch(
                    ErrorKind::ControlNumberMismatch,
                    here.clone().element(2),
                    "interchange control number (ISA13)",
                    ic.header.control.clone(),
                    control.clone(),
                ));
            } else if control.len() != 9 {
                ic.findings.warn(Warning::new(
                    WarningKind::LenientValue,
                    Some(here.clone().element(2)),
                    format!("IEA02 should be 9 digits; found {control:?}, equal to ISA13 numerically"),
                ));
            }
        }
        let after = (ic.findings.errors.len(), ic.findings.dropped_errors);
        self.count_new(before, after);
        ic.trailer = Some(Trailer { count, control, location: here });
        ic.bytes.end = seg.end;
        self.closed.push(Closed::Interchange(Box::new(ic)));
    }

    fn push_group(&mut self, g: Group<'static>) {
        match self.ic.as_mut() {
            Some(ic) => {
                // The interchange keeps the group's header for IEA01 and the response envelope;
                // the driver receives the group itself.
                let mut g = g;
                let summaries = std::mem::take(&mut g.summaries);
                ic.groups.push(g.clone());
                g.summaries = summaries;
                self.closed.push(Closed::Group(Box::new(g)));
            }
            None => self.file.error(X12Error::new(
                ErrorKind::UnexpectedSegment,
                g.location.clone(),
                "functional group outside an interchange",
            )),
        }
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
            ic.bytes.end = at.offset;
            self.closed.push(Closed::Interchange(Box::new(ic)));
        }
    }

    /// End of input: closes what is open and adds the file-level warnings.
    pub(crate) fn finish(&mut self, len: usize) {
        if self.gs.is_some() || self.ic.is_some() {
            let at = self.eof_location(len);
            self.close_interchange_missing(&at);
        }
        if self.empty_segments > 0 {
            self.file.warn(Warning::new(
                WarningKind::EmptySegment,
                None,
                format!("{} empty segment(s) (terminators in a row) skipped", self.empty_segments),
            ));
        }
        if let Some(loc) = self.last_unterminated.take() {
            self.file.warn(Warning::new(
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
        let input = format!("{ISA}GS*IN*SE*RE*20260301*1200*7*X*004010~{}GE*1*7~IEA*1*000000007~", body("0001"));
        let f = parse(input.as_bytes()).unwrap();
        assert!(f.is_valid(), "{:#?}", f.errors());
        assert_eq!(f.interchanges.len(), 1);
        assert_eq!(f.invoices().len(), 1);
        assert_eq!(f.interchanges[0].groups[0].summaries.len(), 1);
        assert_eq!(f.interchange_bytes(&f.interchanges[0]), input.as_bytes());
    }

    #[test]
    fn control_numbers_compare_numerically() {
        let input = format!("{ISA}GS*IN*SE*RE*20260301*1200*0007*X*004010~{}GE*1*7~IEA*1*000000007~", body("0001"));
        let f = parse(input.as_bytes()).unwrap();
        assert!(f.is_valid(), "{:#?}", f.errors());
    }

    #[test]
    fn every_trailer_check_names_what_it_expected() {
        let input = format!(
            "{ISA}GS*IN*SE*RE*20260301*1200*7*X*004010~ST*810*0001~BIG*20260301*A~IT1*1*1*EA*1~TDS*100~SE*9*0002~GE*3*8~IEA*2*000000009~"
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
        let input = format!("{ISA}GS*IN*SE*RE*20260301*1200*7*X*004010~ST*810*0001~BIG*20260301*A~");
        let f = parse(input.as_bytes()).unwrap();
        let kinds: Vec<ErrorKind> = f.errors().iter().map(|e| e.kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == ErrorKind::MissingTrailer).count(), 3, "{kinds:?}");
    }

    #[test]
    fn segment_outside_set_is_noted() {
        let input = format!("{ISA}GS*IN*SE*RE*20260301*1200*7*X*004010~BIG*1~GE*0*7~IEA*1*000000007~");
        let f = parse(input.as_bytes()).unwrap();
        assert_eq!(f.errors().len(), 1);
        assert_eq!(f.errors()[0].kind, ErrorKind::UnexpectedSegment);
        assert!(f.is_accepted(), "a stray segment does not reject the group");
    }

    #[test]
    fn group_control_number_unique_per_interchange() {
        let input = format!(
            "{ISA}GS*IN*SE*RE*20260301*1200*7*X*004010~{}GE*1*7~GS*IN*SE*RE*20260301*1200*07*X*004010~{}GE*1*7~IEA*2*000000007~",
            body("0001"),
            body("0002")
        );
        let f = parse(input.as_bytes()).unwrap();
        let g = &f.interchanges[0].groups;
        assert!(g[0].findings.errors.is_empty());
        assert_eq!(g[1].findings.errors[0].kind, ErrorKind::DuplicateControlNumber);
        assert_eq!(g[1].findings.errors[0].location.label(), "GS06");
    }
}
