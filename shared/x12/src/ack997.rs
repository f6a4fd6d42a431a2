//! 997 Functional Acknowledgment (§9): generate one for an inbound group, read one for an
//! outbound group, and match it to what we sent.
//!
//! Structure: `ST*997` · `AK1` (group's GS01, GS06, and GS08 in 005010) · per set `AK2` (ST01,
//! ST02, ST03 in 005010) · `AK3` per bad segment (id, position from ST = 1, loop, AK304 code) ·
//! `AK4` per bad element (position, reference, AK403 code, copy of the bad data) · `AK5` (A
//! accepted, E accepted with errors, R rejected + AK502 codes) · `AK9` (A, E, P partially
//! accepted, R + counts + AK905 codes) · `SE`.
//!
//! How our findings become codes: errors about the whole set (SE count, SE02, missing SE,
//! duplicate ST02, unsupported set) are AK502 codes 4, 3, 2, 23, 1; errors inside a segment are
//! AK3/AK4 with AK502 code 5; group errors (GE count, GE02, missing GE) are AK905 codes 5, 4, 3.
//! A set with only [`Severity::Noted`] errors is `E`; any rejecting error makes it `R`.
//! Interchange errors (IEA) cannot be expressed in a 997 (that is a TA1's job) and are left out.
//!
//! The 997 goes back in its own interchange with sender and receiver swapped and `GS01 = FA`.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::control::{MAX_CONTROL, Numbers};
use crate::delimiters::Delimiters;
use crate::envelope::{Group, Interchange, Release, SetContent, X12File, same_control};
use crate::error::{ErrorKind, Findings, Location, X12Error};
use crate::invoice810::MAX_REPEAT;
use crate::lexer::Segment;
use crate::render::{LineEnding, RenderError, Usage, Writer, check_isa_party};
use crate::values;

/// AK501 / AK901 acknowledgment codes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckCode {
    /// `A`
    Accepted,
    /// `E`
    AcceptedWithErrors,
    /// `P` (AK9 only): at least one set rejected, at least one accepted.
    PartiallyAccepted,
    /// `R`
    Rejected,
    /// `M`, `W`, `X`: rejected for security reasons.
    RejectedSecurity(String),
    /// Anything else, as written.
    Other(String),
}

impl AckCode {
    pub fn code(&self) -> &str {
        match self {
            AckCode::Accepted => "A",
            AckCode::AcceptedWithErrors => "E",
            AckCode::PartiallyAccepted => "P",
            AckCode::Rejected => "R",
            AckCode::RejectedSecurity(c) | AckCode::Other(c) => c,
        }
    }

    pub fn from_code(c: &str) -> AckCode {
        match c {
            "A" => AckCode::Accepted,
            "E" => AckCode::AcceptedWithErrors,
            "P" => AckCode::PartiallyAccepted,
            "R" => AckCode::Rejected,
            "M" | "W" | "X" => AckCode::RejectedSecurity(c.to_string()),
            other => AckCode::Other(other.to_string()),
        }
    }

    /// The data was taken (A or E).
    pub fn is_accepted(&self) -> bool {
        matches!(self, AckCode::Accepted | AckCode::AcceptedWithErrors)
    }
}

/// AK4: one bad element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ElementNote {
    /// AK401: element position (a composite `3:2` in a read 997 is shown with `:`).
    pub position: String,
    /// AK402: data element reference number, when known.
    pub reference: Option<String>,
    /// AK403 code.
    pub code: String,
    /// AK404: copy of the bad data (delimiters removed).
    pub bad_data: Option<String>,
}

/// AK3: one bad segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentNote {
    pub segment_id: String,
    /// AK302: position in the set, ST = 1.
    pub position: u64,
    pub loop_id: Option<String>,
    /// AK304 code.
    pub code: Option<String>,
    pub elements: Vec<ElementNote>,
}

/// AK2…AK5: the response for one transaction set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetAck {
    /// AK201: `810`.
    pub set_id: String,
    /// AK202: the set's ST02.
    pub control: String,
    pub implementation: Option<String>,
    pub segments: Vec<SegmentNote>,
    pub status: AckCode,
    /// AK502–AK506.
    pub codes: Vec<String>,
}

/// A 997 (one acknowledged group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ack997 {
    /// AK101: the acknowledged group's GS01.
    pub functional_id: String,
    /// AK102: its GS06.
    pub group_control: String,
    /// AK103: its GS08 (005010).
    pub version: Option<String>,
    pub sets: Vec<SetAck>,
    pub status: AckCode,
    /// AK902: sets the group said it had (GE01).
    pub declared: Option<u64>,
    /// AK903: sets received.
    pub received: Option<u64>,
    /// AK904: sets accepted.
    pub accepted: Option<u64>,
    /// AK905–AK909.
    pub codes: Vec<String>,
}

/// Kinds of set error that AK5 reports without an AK3.
fn is_set_level(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::MissingTrailer
            | ErrorKind::ControlNumberMismatch
            | ErrorKind::CountMismatch
            | ErrorKind::DuplicateControlNumber
            | ErrorKind::UnsupportedTransactionSet
    )
}

/// At most this many AK3 per set and AK4 per AK3 (AK4 max use is 99).
const MAX_NOTES: usize = 99;

fn set_ack(set: &crate::envelope::TransactionSet, release: &Release) -> SetAck {
    let mut codes: Vec<String> = Vec::new();
    let mut segments: Vec<SegmentNote> = Vec::new();
    let add_code = |codes: &mut Vec<String>, c: &str| {
        if codes.len() < 5 && !codes.iter().any(|x| x == c) {
            codes.push(c.to_string());
        }
    };
    for e in &set.findings.errors {
        if is_set_level(e.kind) {
            add_code(&mut codes, e.kind.ak5_code());
            continue;
        }
        add_code(&mut codes, "5");
        let position = e.location.set_position.unwrap_or(set.segment_count.max(1)) as u64;
        let element = e.location.element.map(|el| ElementNote {
            position: el.to_string(),
            reference: None,
            code: e.kind.ak4_code().to_string(),
            bad_data: e.found.as_deref().map(clean_bad_data).filter(|s| !s.is_empty()),
        });
        let seg_code = if element.is_some() { "8" } else { e.kind.ak3_code() };
        let existing = segments.iter().position(|s| s.position == position && s.segment_id == e.location.segment);
        match existing {
            Some(i) => {
                if let Some(el) = element
                    && segments[i].elements.len() < MAX_NOTES
                {
                    segments[i].elements.push(el);
                }
            }
            None if segments.len() < MAX_NOTES => segments.push(SegmentNote {
                segment_id: e.location.segment.clone(),
                position,
                loop_id: None,
                code: Some(seg_code.to_string()),
                elements: element.into_iter().collect(),
            }),
            None => {}
        }
    }
    if set.findings.dropped_errors > 0 {
        add_code(&mut codes, "5");
    }
    let status = if set.findings.rejects() {
        AckCode::Rejected
    } else if set.findings.has_errors() {
        AckCode::AcceptedWithErrors
    } else {
        AckCode::Accepted
    };
    SetAck {
        set_id: set.header.id.clone(),
        control: set.header.control.clone(),
        implementation: if release.is_5010() { set.header.implementation.clone() } else { None },
        segments,
        status,
        codes,
    }
}

/// AK404 holds the bad value without quotes or delimiters, at most 99 characters.
fn clean_bad_data(found: &str) -> String {
    let t = found.trim_matches('"').trim_end_matches('…').trim_end_matches('"');
    t.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(99).collect::<String>().trim().to_string()
}

/// The typed 997 for one inbound group.
pub fn acknowledge(group: &Group) -> Ack997 {
    let sets: Vec<SetAck> = group.sets.iter().map(|s| set_ack(s, &group.release)).collect();
    let accepted = sets.iter().filter(|s| s.status.is_accepted()).count();
    let mut codes: Vec<String> = Vec::new();
    for e in &group.findings.errors {
        let c = e.kind.ak9_code();
        if codes.len() < 5 && !codes.iter().any(|x| x == c) {
            codes.push(c.to_string());
        }
    }
    let status = if group.findings.rejects() || (accepted == 0 && !sets.is_empty()) {
        AckCode::Rejected
    } else if accepted < sets.len() {
        AckCode::PartiallyAccepted
    } else if group.findings.has_errors() || sets.iter().any(|s| s.status == AckCode::AcceptedWithErrors) {
        AckCode::AcceptedWithErrors
    } else {
        AckCode::Accepted
    };
    Ack997 {
        functional_id: group.header.functional_id.clone(),
        group_control: group.header.control.clone(),
        version: group.release.is_5010().then(|| group.header.version.clone()),
        declared: Some(group.trailer.as_ref().and_then(|t| t.count).unwrap_or(sets.len() as u64)),
        received: Some(sets.len() as u64),
        accepted: Some(accepted as u64),
        sets,
        status,
        codes,
    }
}

/// How to write 997s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckOptions {
    pub numbers: Numbers,
    pub now: NaiveDateTime,
    /// Default: the inbound interchange's delimiters.
    pub delimiters: Option<Delimiters>,
    pub line_ending: LineEnding,
    /// Default: the inbound ISA15.
    pub usage: Option<Usage>,
    /// Release of the 997's own envelope; default: the first acknowledged group's (004010 when
    /// it is neither 004010 nor 005010).
    pub release: Option<Release>,
}

impl AckOptions {
    pub fn new(numbers: Numbers, now: NaiveDateTime) -> Self {
        AckOptions { numbers, now, delimiters: None, line_ending: LineEnding::Lf, usage: None, release: None }
    }
}

/// Writes one 997 interchange for an inbound interchange: one FA group, one ST*997 per inbound
/// group, sender and receiver swapped.
pub fn render_997(inbound: &Interchange, acks: &[Ack997], opts: &AckOptions) -> Result<Vec<u8>, RenderError> {
    if acks.is_empty() {
        return Err(RenderError::Profile("no groups to acknowledge".into()));
    }
    for n in [opts.numbers.interchange, opts.numbers.group] {
        if n == 0 || n > MAX_CONTROL {
            return Err(RenderError::Profile(format!("control number {n} is outside 1-{MAX_CONTROL}")));
        }
    }
    let release = opts.release.clone().unwrap_or_else(|| match inbound.groups.first().map(|g| &g.release) {
        Some(Release::V005010) => Release::V005010,
        _ => Release::V004010,
    });
    let mut d = opts.delimiters.unwrap_or(inbound.delimiters);
    d.repetition = match (release.is_5010(), d.repetition) {
        (true, None) => Some(if d.is_delimiter(b'^') { b'{' } else { b'^' }),
        (true, r) => r,
        (false, _) => None,
    };
    d.validate().map_err(RenderError::Profile)?;
    let h = &inbound.header;
    let (our_q, our_id) = (h.receiver_qualifier.as_str(), h.receiver_id.as_str());
    let (their_q, their_id) = (h.sender_qualifier.as_str(), h.sender_id.as_str());
    check_isa_party("sender", our_q, our_id, &d)?;
    check_isa_party("receiver", their_q, their_id, &d)?;
    let usage = opts.usage.or_else(|| Usage::from_code(&h.usage)).unwrap_or_default();
    let mut w = Writer::new(d, opts.line_ending);
    w.isa((our_q, our_id), (their_q, their_id), opts.now, &release, opts.numbers.interchange, false, usage.code());
    let first = inbound.groups.first();
    let gs_sender = first.map(|g| g.header.receiver.clone()).unwrap_or_else(|| our_id.to_string());
    let gs_receiver = first.map(|g| g.header.sender.clone()).unwrap_or_else(|| their_id.to_string());
    let gs06 = opts.numbers.group.to_string();
    let date = opts.now.format("%Y%m%d").to_string();
    let time = opts.now.format("%H%M").to_string();
    w.seg("GS", &["FA", &gs_sender, &gs_receiver, &date, &time, &gs06, "X", release.gs08()]);
    for (i, ack) in acks.iter().enumerate() {
        let st02 = format!("{:04}", i + 1);
        write_set(&mut w, ack, &st02, &release);
    }
    w.seg("GE", &[&acks.len().to_string(), &gs06]);
    w.seg("IEA", &["1", &format!("{:09}", opts.numbers.interchange)]);
    Ok(w.out)
}

fn write_set(w: &mut Writer, ack: &Ack997, st02: &str, release: &Release) {
    w.start_count();
    w.seg("ST", &["997", st02]);
    let version = if release.is_5010() { ack.version.as_deref().unwrap_or("") } else { "" };
    w.seg("AK1", &[&ack.functional_id, &ack.group_control, version]);
    for s in &ack.sets {
        let imp = if release.is_5010() { s.implementation.as_deref().unwrap_or("") } else { "" };
        w.seg("AK2", &[&s.set_id, &s.control, imp]);
        for seg in &s.segments {
            let pos = seg.position.to_string();
            w.seg(
                "AK3",
                &[&seg.segment_id, &pos, seg.loop_id.as_deref().unwrap_or(""), seg.code.as_deref().unwrap_or("")],
            );
            for el in &seg.elements {
                let mut e = vec![el.position.as_str(), el.reference.as_deref().unwrap_or(""), el.code.as_str()];
                if let Some(b) = &el.bad_data {
                    e.push(b);
                }
                w.seg("AK4", &e);
            }
        }
        let mut e: Vec<&str> = vec![s.status.code()];
        e.extend(s.codes.iter().map(String::as_str));
        w.seg("AK5", &e);
    }
    let n = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    let (a, b, c) = (n(ack.declared), n(ack.received), n(ack.accepted));
    let mut e: Vec<&str> = vec![ack.status.code(), &a, &b, &c];
    e.extend(ack.codes.iter().map(String::as_str));
    w.seg("AK9", &e);
    let count = (w.count + 1).to_string();
    w.seg("SE", &[&count, st02]);
}

/// 997s for every interchange of a parsed inbound file, one output per interchange. Numbers for
/// each come from `numbers(i)` (e.g. a [`crate::control::ControlNumbers`] store).
pub fn acknowledge_file(
    file: &X12File<'_>,
    mut numbers: impl FnMut(&Interchange) -> Result<Numbers, RenderError>,
    base: &AckOptions,
) -> Result<Vec<Vec<u8>>, RenderError> {
    let mut out = Vec::new();
    for ic in &file.interchanges {
        let acks: Vec<Ack997> = ic.groups.iter().filter(|g| g.header.functional_id != "FA").map(acknowledge).collect();
        if acks.is_empty() {
            continue;
        }
        let opts = AckOptions { numbers: numbers(ic)?, ..base.clone() };
        out.push(render_997(ic, &acks, &opts)?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Reading a 997.

#[derive(Debug)]
struct Ak9 {
    status: AckCode,
    declared: Option<u64>,
    received: Option<u64>,
    accepted: Option<u64>,
    codes: Vec<String>,
}

/// Streams a 997's segments into an [`Ack997`].
#[derive(Debug, Default)]
pub struct Builder {
    ak1: Option<(String, String, Option<String>)>,
    sets: Vec<SetAck>,
    open: Option<SetAck>,
    ak9: Option<Ak9>,
    capped: bool,
}

fn text(seg: &Segment<'_>, n: usize) -> Option<String> {
    let f = seg.fields();
    let t = values::text(f.get(n)).0;
    (!t.is_empty()).then_some(t)
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    fn loc(seg: &Segment<'_>, pos: usize, element: usize) -> Location {
        let mut l = seg.location();
        l.set_position = Some(pos);
        if element > 0 {
            l.element = Some(element);
        }
        l
    }

    fn count(seg: &Segment<'_>, pos: usize, n: usize, what: &str, out: &mut Findings) -> Option<u64> {
        let f = seg.fields();
        if !f.has(n) {
            return None;
        }
        match values::unsigned(f.get(n)) {
            Ok(v) => Some(v),
            Err(v) => {
                out.error(
                    X12Error::new(v.kind, Self::loc(seg, pos, n), what.to_string())
                        .with_expected(v.expected)
                        .with_found(v.found),
                );
                None
            }
        }
    }

    fn close_set(&mut self, seg: &Segment<'_>, pos: usize, out: &mut Findings) {
        if let Some(s) = self.open.take() {
            out.error(
                X12Error::new(
                    ErrorKind::MissingSegment,
                    Self::loc(seg, pos, 0),
                    format!("AK2 for set {} has no AK5", s.control),
                )
                .noted(),
            );
            self.push_set(s, seg, pos, out);
        }
    }

    fn push_set(&mut self, s: SetAck, seg: &Segment<'_>, pos: usize, out: &mut Findings) {
        if self.sets.len() < MAX_REPEAT * 100 {
            self.sets.push(s);
        } else if !self.capped {
            self.capped = true;
            out.error(X12Error::new(ErrorKind::LimitExceeded, Self::loc(seg, pos, 0), "too many AK2 loops").noted());
        }
    }

    pub fn segment(&mut self, seg: &Segment<'_>, pos: usize, out: &mut Findings) {
        match seg.id {
            b"AK1" => {
                if self.ak1.is_some() {
                    out.error(
                        X12Error::new(ErrorKind::UnexpectedSegment, Self::loc(seg, pos, 0), "second AK1").noted(),
                    );
                    return;
                }
                let (Some(fid), Some(ctl)) = (text(seg, 1), text(seg, 2)) else {
                    out.error(
                        X12Error::new(ErrorKind::MissingElement, Self::loc(seg, pos, 2), "acknowledged group")
                            .with_expected("AK101 functional id and AK102 group control number"),
                    );
                    return;
                };
                self.ak1 = Some((fid, ctl, text(seg, 3)));
            }
            b"AK2" => {
                self.close_set(seg, pos, out);
                let (Some(id), Some(ctl)) = (text(seg, 1), text(seg, 2)) else {
                    out.error(
                        X12Error::new(ErrorKind::MissingElement, Self::loc(seg, pos, 2), "acknowledged set")
                            .with_expected("AK201 set id and AK202 control number"),
                    );
                    return;
                };
                self.open = Some(SetAck {
                    set_id: id,
                    control: ctl,
                    implementation: text(seg, 3),
                    segments: Vec::new(),
                    status: AckCode::Other(String::new()),
                    codes: Vec::new(),
                });
            }
            b"AK3" => {
                let position = Self::count(seg, pos, 2, "segment position", out).unwrap_or(0);
                let note = SegmentNote {
                    segment_id: text(seg, 1).unwrap_or_default(),
                    position,
                    loop_id: text(seg, 3),
                    code: text(seg, 4),
                    elements: Vec::new(),
                };
                match self.open.as_mut() {
                    Some(s) if s.segments.len() < MAX_REPEAT => s.segments.push(note),
                    Some(_) => {}
                    None => out.error(
                        X12Error::new(ErrorKind::UnexpectedSegment, Self::loc(seg, pos, 0), "AK3 outside an AK2 loop")
                            .noted(),
                    ),
                }
            }
            b"AK4" => {
                let f = seg.fields();
                let comp = seg.delimiters.component;
                let position = values::text(f.get(1)).0.replace(comp as char, ":");
                let note = ElementNote {
                    position,
                    reference: text(seg, 2),
                    code: text(seg, 3).unwrap_or_default(),
                    bad_data: text(seg, 4),
                };
                match self.open.as_mut().and_then(|s| s.segments.last_mut()) {
                    Some(s) if s.elements.len() < MAX_NOTES => s.elements.push(note),
                    Some(_) => {}
                    None => out.error(
                        X12Error::new(ErrorKind::UnexpectedSegment, Self::loc(seg, pos, 0), "AK4 without an AK3")
                            .noted(),
                    ),
                }
            }
            b"AK5" => {
                let Some(mut s) = self.open.take() else {
                    out.error(
                        X12Error::new(ErrorKind::UnexpectedSegment, Self::loc(seg, pos, 0), "AK5 without an AK2")
                            .noted(),
                    );
                    return;
                };
                let Some(code) = text(seg, 1) else {
                    out.error(X12Error::new(
                        ErrorKind::MissingElement,
                        Self::loc(seg, pos, 1),
                        "set acknowledgment code",
                    ));
                    self.push_set(s, seg, pos, out);
                    return;
                };
                s.status = AckCode::from_code(&code);
                if let AckCode::Other(c) = &s.status {
                    out.error(
                        X12Error::new(ErrorKind::InvalidCode, Self::loc(seg, pos, 1), "set acknowledgment code")
                            .with_expected("A, E, M, R, W or X")
                            .with_found(c.clone()),
                    );
                }
                s.codes = (2..=6).filter_map(|n| text(seg, n)).collect();
                self.push_set(s, seg, pos, out);
            }
            b"AK9" => {
                self.close_set(seg, pos, out);
                let Some(code) = text(seg, 1) else {
                    out.error(X12Error::new(
                        ErrorKind::MissingElement,
                        Self::loc(seg, pos, 1),
                        "group acknowledgment code",
                    ));
                    return;
                };
                let status = AckCode::from_code(&code);
                if let AckCode::Other(c) = &status {
                    out.error(
                        X12Error::new(ErrorKind::InvalidCode, Self::loc(seg, pos, 1), "group acknowledgment code")
                            .with_expected("A, E, M, P, R, W or X")
                            .with_found(c.clone()),
                    );
                }
                let declared = Self::count(seg, pos, 2, "number of transaction sets included", out);
                let received = Self::count(seg, pos, 3, "number of received transaction sets", out);
                let accepted = Self::count(seg, pos, 4, "number of accepted transaction sets", out);
                let codes = (5..=9).filter_map(|n| text(seg, n)).collect();
                self.ak9 = Some(Ak9 { status, declared, received, accepted, codes });
            }
            _ => out.error(
                X12Error::new(
                    ErrorKind::UnexpectedSegment,
                    Self::loc(seg, pos, 0),
                    format!("segment {} is not part of a 997", seg.id_str()),
                )
                .noted(),
            ),
        }
    }

    pub fn finish(mut self, st: &Location, out: &mut Findings) -> Option<Ack997> {
        if let Some(s) = self.open.take() {
            out.error(
                X12Error::new(ErrorKind::MissingSegment, st.clone(), format!("AK2 for set {} has no AK5", s.control))
                    .noted(),
            );
            self.sets.push(s);
        }
        let missing = |what: &str| {
            let mut l = st.clone();
            l.segment = what.to_string();
            l.element = None;
            X12Error::new(ErrorKind::MissingSegment, l, format!("{what} is missing"))
        };
        if self.ak1.is_none() {
            out.error(missing("AK1"));
        }
        if self.ak9.is_none() {
            out.error(missing("AK9"));
        }
        let (functional_id, group_control, version) = self.ak1?;
        let Ak9 { status, declared, received, accepted, codes } = self.ak9?;
        Some(Ack997 {
            functional_id,
            group_control,
            version,
            sets: self.sets,
            status,
            declared,
            received,
            accepted,
            codes,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Matching an inbound 997 to what we sent.

/// What we sent in one outbound group: enough to match its 997.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundGroup {
    pub partner: String,
    /// Our ISA06.
    pub sender_id: String,
    /// The partner's ISA08: the 997 comes from there.
    pub receiver_id: String,
    pub interchange_control: u32,
    pub group_control: u32,
    /// GS01 (`IN`).
    pub functional_id: String,
    pub version: String,
    /// ST02 of each set.
    pub sets: Vec<String>,
}

/// What the partner said about one of our sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetOutcome {
    pub control: String,
    pub status: AckCode,
    /// Readable summary of AK3/AK4/AK5 codes.
    pub errors: Vec<String>,
}

/// A 997 matched to an outbound group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AckMatch {
    pub partner: String,
    pub group_control: u32,
    pub status: AckCode,
    pub sets: Vec<SetOutcome>,
    /// Sets we sent that the 997 does not mention although it lists others.
    pub unacknowledged: Vec<String>,
    /// Sets the 997 mentions that we did not send in this group.
    pub unexpected: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AckMatchError {
    #[error("997 for group {functional_id} {group_control} matches no outbound group{from}")]
    NotFound { functional_id: String, group_control: String, from: String },
    #[error(
        "997 for group {functional_id} {group_control} matches {count} outbound groups; give the sender to tell them apart"
    )]
    Ambiguous { functional_id: String, group_control: String, count: usize },
}

/// Finds the outbound group a 997 acknowledges (AK101 = GS01, AK102 = GS06 numerically, and the
/// 997's sender = the partner we sent to, when `ack_sender` is given) and says what happened to
/// each set. A 997 without AK2 loops applies its AK9 code to every set.
pub fn match_ack(
    ack: &Ack997,
    ack_sender: Option<&str>,
    outbound: &[OutboundGroup],
) -> Result<AckMatch, AckMatchError> {
    let candidates: Vec<&OutboundGroup> = outbound
        .iter()
        .filter(|g| g.functional_id == ack.functional_id)
        .filter(|g| same_control(&g.group_control.to_string(), &ack.group_control))
        .filter(|g| ack_sender.is_none_or(|s| s.trim() == g.receiver_id.trim()))
        .collect();
    let g = match candidates.as_slice() {
        [g] => *g,
        [] => {
            return Err(AckMatchError::NotFound {
                functional_id: ack.functional_id.clone(),
                group_control: ack.group_control.clone(),
                from: ack_sender.map(|s| format!(" sent to {s}")).unwrap_or_default(),
            });
        }
        many => {
            return Err(AckMatchError::Ambiguous {
                functional_id: ack.functional_id.clone(),
                group_control: ack.group_control.clone(),
                count: many.len(),
            });
        }
    };
    let by_control: HashMap<String, &SetAck> = ack.sets.iter().map(|s| (control_key(&s.control), s)).collect();
    let ours: HashSet<String> = g.sets.iter().map(|c| control_key(c)).collect();
    let mut sets = Vec::new();
    let mut unacknowledged = Vec::new();
    for ctl in &g.sets {
        match by_control.get(&control_key(ctl)) {
            Some(s) => sets.push(SetOutcome { control: ctl.clone(), status: s.status.clone(), errors: describe(s) }),
            None if ack.sets.is_empty() => {
                let status = match &ack.status {
                    AckCode::PartiallyAccepted => AckCode::Other("P".into()),
                    other => other.clone(),
                };
                sets.push(SetOutcome { control: ctl.clone(), status, errors: Vec::new() });
            }
            None => unacknowledged.push(ctl.clone()),
        }
    }
    let unexpected =
        ack.sets.iter().filter(|s| !ours.contains(&control_key(&s.control))).map(|s| s.control.clone()).collect();
    Ok(AckMatch {
        partner: g.partner.clone(),
        group_control: g.group_control,
        status: ack.status.clone(),
        sets,
        unacknowledged,
        unexpected,
    })
}

/// A control number as a lookup key: digits compare numerically (`0001` = `1`), text as trimmed.
fn control_key(c: &str) -> String {
    match values::unsigned(c.as_bytes()) {
        Ok(n) => n.to_string(),
        Err(_) => c.trim().to_string(),
    }
}

/// Every 997 in a parsed file matched against outbound groups; the 997's ISA06 is the sender.
pub fn match_file(file: &X12File<'_>, outbound: &[OutboundGroup]) -> Vec<Result<AckMatch, AckMatchError>> {
    let mut out = Vec::new();
    for s in file.sets() {
        if let SetContent::Ack(a) = &s.set.content {
            let sender = s.interchange.map(|i| i.header.sender_id.as_str());
            out.push(match_ack(a, sender, outbound));
        }
    }
    out
}

fn ak304_text(code: &str) -> &'static str {
    match code {
        "1" => "unrecognized segment id",
        "2" => "unexpected segment",
        "3" => "mandatory segment missing",
        "4" => "loop occurs over maximum times",
        "5" => "segment exceeds maximum use",
        "6" => "segment not in defined transaction set",
        "7" => "segment not in proper sequence",
        "8" => "segment has data element errors",
        _ => "segment error",
    }
}

fn ak403_text(code: &str) -> &'static str {
    match code {
        "1" => "mandatory data element missing",
        "2" => "conditional required data element missing",
        "3" => "too many data elements",
        "4" => "data element too short",
        "5" => "data element too long",
        "6" => "invalid character in data element",
        "7" => "invalid code value",
        "8" => "invalid date",
        "9" => "invalid time",
        "10" => "exclusion condition violated",
        _ => "data element error",
    }
}

fn ak502_text(code: &str) -> &'static str {
    match code {
        "1" => "transaction set not supported",
        "2" => "transaction set trailer missing",
        "3" => "control number in header and trailer do not match",
        "4" => "number of included segments does not match actual count",
        "5" => "one or more segments in error",
        "6" => "missing or invalid transaction set identifier",
        "7" => "missing or invalid transaction set control number",
        "23" => "control number not unique within the functional group",
        _ => "transaction set error",
    }
}

/// Readable lines for one set's AK3/AK4/AK5 codes.
pub fn describe(s: &SetAck) -> Vec<String> {
    let mut out = Vec::new();
    for seg in &s.segments {
        let code = seg.code.as_deref().unwrap_or("");
        out.push(format!("{} at position {}: {} ({code})", seg.segment_id, seg.position, ak304_text(code)));
        for el in &seg.elements {
            let bad = el.bad_data.as_deref().map(|b| format!(", data {b:?}")).unwrap_or_default();
            out.push(format!("  element {}: {} ({}){bad}", el.position, ak403_text(&el.code), el.code));
        }
    }
    for c in &s.codes {
        out.push(format!("{} ({c})", ak502_text(c)));
    }
    out
}
