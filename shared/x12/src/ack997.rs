//! 997 Functional Acknowledgment (§9): the typed 997, reading one a partner sent, building the
//! response for one inbound set from its findings, writing a 997 transaction set, and matching a
//! partner's 997 to the group we sent. Generating the whole response interchange for a parsed
//! file is [`crate::acknowledge`]'s job; this module knows nothing of the envelope parser.
//!
//! Structure: `ST*997` · `AK1` (group's GS01, GS06, and GS08 in 005010) · per set `AK2` (ST01,
//! ST02, ST03 in 005010) · `AK3` per bad segment (id, position from ST = 1, loop, AK304 code) ·
//! `AK4` per bad element (position, data element reference number, AK403 code, copy of the bad
//! data) · `AK5` (A accepted, E accepted with errors, R rejected + AK502 codes) · `AK9` (A, E, P
//! partially accepted, R + counts + AK905 codes) · `SE`.
//!
//! How our findings become codes: errors about the whole set (SE count, SE02, missing SE,
//! duplicate ST02, a set of the wrong type for its group) are AK502 codes 4, 3, 2, 23, 1; errors
//! inside a segment are AK3/AK4 with AK502 code 5; a set this product does not handle, in a group
//! we acknowledge, is `R` with AK502 `1` (not supported); group errors (GE count, GE02, missing
//! GE, a GS06 used twice in one interchange) are AK905 codes 5, 4, 3, 19. A set with only
//! [`Severity::Noted`](crate::error::Severity) errors is `E`; any rejecting error makes it `R`.
//!
//! A partner's 997 is read with the same validator as every other set: AK101 outside its code
//! list, a non-numeric AK402 or AK302, an AK501 that is not a code are all reported the same way.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, Findings, Location, X12Error};

// The paths these had before issue 20, for callers written against them (the Cleo simulator);
// they live in `crate::acknowledge`, which builds on this module.
pub use crate::acknowledge::{AckOptions, acknowledge, acknowledge_file, match_file, render_997};
use crate::headers::{Release, StHeader, control_key, same_control};
use crate::lexer::{Fields, Segment};
use crate::validate::Unreadable;
use crate::values;
use crate::writer::Writer;

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

    /// In words, for people.
    pub fn words(&self) -> &'static str {
        match self {
            AckCode::Accepted => "accepted",
            AckCode::AcceptedWithErrors => "accepted with errors",
            AckCode::PartiallyAccepted => "partially accepted",
            AckCode::Rejected => "rejected",
            AckCode::RejectedSecurity(_) => "rejected (security)",
            AckCode::Other(_) => "unknown code",
        }
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
pub fn is_set_level(kind: ErrorKind) -> bool {
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

/// The AK2…AK5 response for one inbound set, from its findings. `handled` is false for a set
/// this product does not read (an 850 in a `PO` group): acknowledged, it is rejected as not
/// supported (AK502 `1`).
pub fn set_ack(
    header: &StHeader,
    findings: &Findings,
    segment_count: usize,
    release: &Release,
    handled: bool,
) -> SetAck {
    let mut codes: Vec<String> = Vec::new();
    let mut segments: Vec<SegmentNote> = Vec::new();
    let add_code = |codes: &mut Vec<String>, c: &str| {
        if codes.len() < 5 && !codes.iter().any(|x| x == c) {
            codes.push(c.to_string());
        }
    };
    if !handled {
        add_code(&mut codes, "1");
    }
    for e in &findings.errors {
        if is_set_level(e.kind) {
            add_code(&mut codes, e.kind.ak5_code());
            continue;
        }
        add_code(&mut codes, "5");
        let position = e.location.set_position.unwrap_or(segment_count.max(1)) as u64;
        let element = e.location.element.map(|el| ElementNote {
            position: match e.location.component {
                Some(c) => format!("{el}:{c}"),
                None => el.to_string(),
            },
            reference: element_reference(&e.location.segment, el),
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
    if findings.dropped_errors > 0 {
        add_code(&mut codes, "5");
    }
    let status = if !handled || findings.rejects() {
        AckCode::Rejected
    } else if findings.has_errors() {
        AckCode::AcceptedWithErrors
    } else {
        AckCode::Accepted
    };
    SetAck {
        set_id: header.id.clone(),
        control: header.control.clone(),
        implementation: if release.is_5010() { header.implementation.clone() } else { None },
        segments,
        status,
        codes,
    }
}

/// AK402: the element's data element reference number, when the dictionary knows it and it is a
/// number (composites such as C040 have none).
fn element_reference(segment: &str, element: usize) -> Option<String> {
    let def = crate::dictionary::segment(segment.as_bytes())?.element(element)?;
    def.reference.bytes().all(|b| b.is_ascii_digit()).then(|| def.reference.to_string())
}

/// AK404 holds the bad value without quotes or delimiters, at most 99 characters.
fn clean_bad_data(found: &str) -> String {
    let t = found.trim_matches('"').trim_end_matches('…').trim_end_matches('"');
    t.chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(99).collect::<String>().trim().to_string()
}

/// Writes one 997 transaction set (ST…SE) for `ack` with control number `st02`.
pub fn write_set(w: &mut Writer, ack: &Ack997, st02: &str, release: &Release) {
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
                let position: Vec<&str> = el.position.split(':').collect();
                let reference = [el.reference.as_deref().unwrap_or("")];
                let code = [el.code.as_str()];
                let bad = [el.bad_data.as_deref().unwrap_or("")];
                w.seg_composite("AK4", &[&position, &reference, &code, &bad]);
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

// ---------------------------------------------------------------------------------------------
// Reading a 997.

/// Elements of a 997 the reader cannot do without: errors in them reject the set.
pub fn critical(segment: &[u8]) -> &'static [u8] {
    match segment {
        b"AK1" | b"AK2" => &[1, 2],
        b"AK3" => &[2],
        b"AK5" => &[1],
        b"AK9" => &[1, 2, 3, 4],
        _ => &[],
    }
}

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
    /// An AK1 or AK9 was there but unreadable (already reported by the validator).
    ak1_seen: bool,
    ak9_seen: bool,
    sets: Vec<SetAck>,
    open: Option<SetAck>,
    ak9: Option<Ak9>,
    capped: bool,
}

fn text(f: &Fields<'_>, n: usize) -> Option<String> {
    let t = values::text(f.get(n)).0;
    (!t.is_empty()).then_some(t)
}

fn count(f: &Fields<'_>, n: usize, bad: Unreadable) -> Option<u64> {
    if bad.contains(n) || !f.has(n) {
        return None;
    }
    values::unsigned(f.get(n)).ok()
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    fn loc(seg: &Segment<'_>, pos: usize) -> Location {
        let mut l = seg.location();
        l.set_position = Some(pos);
        l
    }

    fn close_set(&mut self, seg: &Segment<'_>, pos: usize, out: &mut Findings) {
        if let Some(s) = self.open.take() {
            out.error(
                X12Error::new(
                    ErrorKind::MissingSegment,
                    Self::loc(seg, pos),
                    format!("AK2 for set {} has no AK5", s.control),
                )
                .noted(),
            );
            self.push_set(s, seg, pos, out);
        }
    }

    fn push_set(&mut self, s: SetAck, seg: &Segment<'_>, pos: usize, out: &mut Findings) {
        if self.sets.len() < crate::invoice810::MAX_REPEAT * 100 {
            self.sets.push(s);
        } else if !self.capped {
            self.capped = true;
            out.error(X12Error::new(ErrorKind::LimitExceeded, Self::loc(seg, pos), "too many AK2 loops").noted());
        }
    }

    /// One segment of the set (not ST/SE), already checked by the validator; `bad` are the
    /// elements it could not read.
    pub fn segment(&mut self, seg: &Segment<'_>, f: &Fields<'_>, pos: usize, bad: Unreadable, out: &mut Findings) {
        match seg.id {
            b"AK1" => {
                if self.ak1.is_some() || self.ak1_seen {
                    out.error(X12Error::new(ErrorKind::UnexpectedSegment, Self::loc(seg, pos), "second AK1").noted());
                    return;
                }
                self.ak1_seen = true;
                if let (Some(fid), Some(ctl), false) = (text(f, 1), text(f, 2), bad.contains(1) || bad.contains(2)) {
                    self.ak1 = Some((fid, ctl, text(f, 3)));
                }
            }
            b"AK2" => {
                self.close_set(seg, pos, out);
                let (Some(id), Some(ctl)) = (text(f, 1), text(f, 2)) else { return };
                self.open = Some(SetAck {
                    set_id: id,
                    control: ctl,
                    implementation: text(f, 3),
                    segments: Vec::new(),
                    status: AckCode::Other(String::new()),
                    codes: Vec::new(),
                });
            }
            b"AK3" => {
                let note = SegmentNote {
                    segment_id: text(f, 1).unwrap_or_default(),
                    position: count(f, 2, bad).unwrap_or(0),
                    loop_id: text(f, 3),
                    code: text(f, 4),
                    elements: Vec::new(),
                };
                match self.open.as_mut() {
                    Some(s) if s.segments.len() < crate::invoice810::MAX_REPEAT => s.segments.push(note),
                    Some(_) => {}
                    None => out.error(
                        X12Error::new(ErrorKind::UnexpectedSegment, Self::loc(seg, pos), "AK3 outside an AK2 loop")
                            .noted(),
                    ),
                }
            }
            b"AK4" => {
                let comp = seg.delimiters.component;
                let position = values::text(f.get(1)).0.replace(comp as char, ":");
                let note = ElementNote {
                    position,
                    reference: text(f, 2),
                    code: text(f, 3).unwrap_or_default(),
                    bad_data: text(f, 4),
                };
                match self.open.as_mut().and_then(|s| s.segments.last_mut()) {
                    Some(s) if s.elements.len() < MAX_NOTES => s.elements.push(note),
                    Some(_) => {}
                    None => out.error(
                        X12Error::new(ErrorKind::UnexpectedSegment, Self::loc(seg, pos), "AK4 without an AK3").noted(),
                    ),
                }
            }
            b"AK5" => {
                let Some(mut s) = self.open.take() else {
                    out.error(
                        X12Error::new(ErrorKind::UnexpectedSegment, Self::loc(seg, pos), "AK5 without an AK2").noted(),
                    );
                    return;
                };
                if let Some(code) = text(f, 1) {
                    s.status = AckCode::from_code(&code);
                }
                s.codes = (2..=6).filter_map(|n| text(f, n)).collect();
                self.push_set(s, seg, pos, out);
            }
            b"AK9" => {
                self.close_set(seg, pos, out);
                self.ak9_seen = true;
                let Some(code) = text(f, 1) else { return };
                self.ak9 = Some(Ak9 {
                    status: AckCode::from_code(&code),
                    declared: count(f, 2, bad),
                    received: count(f, 3, bad),
                    accepted: count(f, 4, bad),
                    codes: (5..=9).filter_map(|n| text(f, n)).collect(),
                });
            }
            _ => out.error(
                X12Error::new(
                    ErrorKind::UnexpectedSegment,
                    Self::loc(seg, pos),
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
        if !self.ak1_seen {
            out.error(missing("AK1"));
        }
        if !self.ak9_seen {
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

/// What we sent in one outbound group: enough to match its 997 (and a TA1 for its interchange).
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

pub fn ak304_text(code: &str) -> &'static str {
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

pub fn ak403_text(code: &str) -> &'static str {
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

pub fn ak502_text(code: &str) -> &'static str {
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

pub fn ak905_text(code: &str) -> &'static str {
    match code {
        "1" => "functional group not supported",
        "2" => "functional group version not supported",
        "3" => "functional group trailer missing",
        "4" => "group control number in header and trailer do not agree",
        "5" => "number of included transaction sets does not match actual count",
        "6" => "group control number violates syntax",
        "19" => "group control number not unique within the interchange",
        _ => "functional group error",
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
