//! TA1 Interchange Acknowledgment (X12.5): the receiver's answer about an interchange envelope —
//! accepted, accepted with errors, or rejected, with a three-digit note code saying what was wrong
//! (`001` ISA13/IEA02 differ, `021` IEA01 count, `023` premature end of file, `025` duplicate
//! ISA13 ...). A TA1 goes back when the sender sets ISA14 to `1` (or when a partner profile says
//! always); it sits between the ISA and the first GS of the response interchange, before any 997
//! group, or alone in an interchange with IEA01 = 0.
//!
//! This module is the TA1 itself: read one a partner sent ([`read`]), write one ([`write`]), and
//! find which of our outbound interchanges a partner's TA1 answers ([`match_ta1`]). Deciding what
//! to say about an inbound interchange is [`crate::acknowledge::ta1_for`].

use serde::Serialize;

use crate::ack997::{AckCode, OutboundGroup};
use crate::error::Location;
use crate::headers::same_control;
use crate::lexer::{Fields, Segment};
use crate::validate::Unreadable;
use crate::values;
use crate::writer::Writer;

/// One TA1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ta1 {
    /// TA101: the ISA13 of the interchange acknowledged.
    pub control: String,
    /// TA102 (YYMMDD) and TA103 (HHMM): that interchange's ISA09 and ISA10, as written.
    pub date: String,
    pub time: String,
    /// TA104: `A`, `E` or `R`.
    pub status: AckCode,
    /// TA105: the note code (`000` no error).
    pub note_code: String,
    /// TA105 in words.
    pub note: String,
    /// Where a TA1 that was read sits in its file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Ta1 {
    /// A TA1 answering an interchange with this ISA13, ISA09 and ISA10.
    pub fn new(control: &str, date: &str, time: &str, status: AckCode, note_code: &str) -> Self {
        Ta1 {
            control: control.to_string(),
            date: date.to_string(),
            time: time.to_string(),
            status,
            note_code: note_code.to_string(),
            note: note_text(note_code).to_string(),
            location: None,
        }
    }
}

/// TA105 Interchange Note Code in words.
pub fn note_text(code: &str) -> &'static str {
    match code {
        "000" => "no error",
        "001" => "the interchange control number in the header and trailer do not match",
        "002" => "the standard in the control standards identifier is not supported",
        "003" => "this version of the controls is not supported",
        "004" => "the segment terminator is invalid",
        "005" => "invalid interchange ID qualifier for the sender",
        "006" => "invalid interchange sender ID",
        "007" => "invalid interchange ID qualifier for the receiver",
        "008" => "invalid interchange receiver ID",
        "009" => "unknown interchange receiver ID",
        "010" => "invalid authorization information qualifier",
        "011" => "invalid authorization information",
        "012" => "invalid security information qualifier",
        "013" => "invalid security information",
        "014" => "invalid interchange date",
        "015" => "invalid interchange time",
        "016" => "invalid interchange standards identifier",
        "017" => "invalid interchange version ID",
        "018" => "invalid interchange control number",
        "019" => "invalid acknowledgment requested value",
        "020" => "invalid test indicator value",
        "021" => "invalid number of included groups",
        "022" => "invalid control structure",
        "023" => "improper (premature) end of file",
        "024" => "invalid interchange content (e.g. an invalid GS segment)",
        "025" => "duplicate interchange control number",
        "026" => "invalid data element separator",
        "027" => "invalid component element separator",
        "028" => "invalid delivery date in deferred delivery request",
        "029" => "invalid delivery time in deferred delivery request",
        "030" => "invalid delivery time code in deferred delivery request",
        "031" => "invalid grade of service code",
        _ => "unknown note code",
    }
}

/// A TA1 segment a partner sent (already checked by the validator; `bad` are the elements it
/// could not read).
pub fn read(seg: &Segment<'_>, f: &Fields<'_>, bad: Unreadable) -> Ta1 {
    let text = |n: usize| if bad.contains(n) { String::new() } else { values::text(f.get(n)).0 };
    let note_code = text(5);
    Ta1 {
        control: text(1),
        date: text(2),
        time: text(3),
        status: AckCode::from_code(&text(4)),
        note: note_text(&note_code).to_string(),
        note_code,
        location: Some(seg.location()),
    }
}

/// Writes the TA1 segment.
pub fn write(w: &mut Writer, ta1: &Ta1) {
    let control = match values::unsigned(ta1.control.as_bytes()) {
        Ok(n) if ta1.control.len() < 9 => format!("{n:09}"),
        _ => ta1.control.clone(),
    };
    w.seg("TA1", &[&control, &ta1.date, &ta1.time, ta1.status.code(), &ta1.note_code]);
}

/// The outbound groups of the interchange a partner's TA1 answers: TA101 = our ISA13
/// (numerically) and, when `ta1_sender` is given, sent to that partner.
pub fn match_ta1<'o>(ta1: &Ta1, ta1_sender: Option<&str>, outbound: &'o [OutboundGroup]) -> Vec<&'o OutboundGroup> {
    outbound
        .iter()
        .filter(|g| same_control(&g.interchange_control.to_string(), &ta1.control))
        .filter(|g| ta1_sender.is_none_or(|s| s.trim() == g.receiver_id.trim()))
        .collect()
}
