//! Answering an inbound interchange: a 997 per functional group we acknowledge and a TA1 when the
//! sender asks for one, in one response interchange with sender and receiver swapped; and reading
//! the answers partners send us (997s matched to our groups).
//!
//! Which groups get a 997 is the partner profile's [`AckScope`]: by default every group except
//! 997 groups (`FA`: an acknowledgment is not acknowledged), with sets this product does not handle
//! rejected as "not supported" (AK502 `1`) so the partner knows they were not processed; or only
//! the groups this product reads; or none. A TA1 goes back per [`Ta1Policy`]: when ISA14 is `1`
//! (the default), always, or never. Its code follows the interchange's own errors: `R` with the
//! first rejecting error's note code (`001` ISA13/IEA02 differ, `021` IEA01 count, `023` no IEA,
//! `025` a re-sent ISA13), `E` with the first noted one's, else `A 000`.
//!
//! The response is written with the inbound interchange's delimiters unless told otherwise:
//! `ISA` · `TA1` (if any) · `GS*FA` · one `ST*997` per acknowledged group · `GE` · `IEA`.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::ack997::{self, Ack997, AckCode, AckMatch, AckMatchError, OutboundGroup, SetAck};
use crate::control::{MAX_CONTROL, Numbers};
use crate::delimiters::Delimiters;
use crate::envelope::{Group, Interchange, SetContent, X12File};
use crate::headers::Release;
use crate::profile::{AckScope, InboundRules, Ta1Policy};
use crate::ta1::{self, Ta1};
use crate::writer::{LineEnding, RenderError, Usage, Writer, check_isa_party};

/// The 997 for one inbound group, from its set summaries and its own findings.
pub fn acknowledge(group: &Group) -> Ack997 {
    let sets: Vec<SetAck> = group.summaries.iter().map(|s| s.ack()).collect();
    let accepted = sets.iter().filter(|s| s.status.is_accepted()).count();
    let mut codes: Vec<String> = Vec::new();
    for e in group.findings.errors.iter().filter(|e| e.rejects()) {
        let c = match (e.location.segment.as_str(), e.location.element) {
            // GS08 missing: the version cannot be told.
            ("GS", Some(8)) => "2",
            _ => e.kind.ak9_code(),
        };
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

/// Whether a group gets a 997 under `scope`. Never for a group of acknowledgments (`FA`).
pub fn is_acknowledged(group: &Group, scope: AckScope) -> bool {
    if group.header.functional_id == "FA" {
        return false;
    }
    match scope {
        AckScope::All => true,
        AckScope::Handled => {
            group.header.functional_id == "IN"
                || group.summaries.iter().any(|s| s.status != crate::envelope::SetStatus::NotHandled)
        }
        AckScope::None => false,
    }
}

/// The TA1 for an inbound interchange, from its own errors.
pub fn ta1_for(ic: &Interchange) -> Ta1 {
    let f = &ic.findings;
    let code = |e: &crate::error::X12Error| e.kind.ta1_code(&e.location.segment, e.location.element);
    let (status, note) = if let Some(e) = f.errors.iter().find(|e| e.rejects()) {
        (AckCode::Rejected, code(e))
    } else if f.dropped_errors > 0 {
        (AckCode::Rejected, "024")
    } else if let Some(e) = f.errors.first() {
        (AckCode::AcceptedWithErrors, code(e))
    } else {
        (AckCode::Accepted, "000")
    };
    Ta1::new(&ic.header.control, &ic.header.date_raw, &ic.header.time, status, note)
}

/// How to write 997s and TA1s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckOptions {
    pub numbers: Numbers,
    pub now: NaiveDateTime,
    /// Default: the inbound interchange's delimiters.
    pub delimiters: Option<Delimiters>,
    pub line_ending: LineEnding,
    /// Default: the inbound ISA15.
    pub usage: Option<Usage>,
    /// Release of the response's own envelope; default: the first acknowledged group's (004010
    /// when it is neither 004010 nor 005010).
    pub release: Option<Release>,
}

impl AckOptions {
    pub fn new(numbers: Numbers, now: NaiveDateTime) -> Self {
        AckOptions { numbers, now, delimiters: None, line_ending: LineEnding::Lf, usage: None, release: None }
    }
}

/// Writes one 997 interchange for an inbound interchange: one FA group, one ST*997 per inbound
/// group acknowledged, sender and receiver swapped.
pub fn render_997(inbound: &Interchange, acks: &[Ack997], opts: &AckOptions) -> Result<Vec<u8>, RenderError> {
    if acks.is_empty() {
        return Err(RenderError::Profile("no groups to acknowledge".into()));
    }
    render_response(inbound, acks, None, opts)
}

/// Writes the response interchange: ISA, the TA1 (if any), a `GS*FA` group with one 997 per ack
/// (if any), IEA.
pub fn render_response(
    inbound: &Interchange,
    acks: &[Ack997],
    ta1: Option<&Ta1>,
    opts: &AckOptions,
) -> Result<Vec<u8>, RenderError> {
    if acks.is_empty() && ta1.is_none() {
        return Err(RenderError::Profile("nothing to send: no 997 and no TA1".into()));
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
    // The response declares no ISX: no release character.
    d.release = None;
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
    if let Some(t) = ta1 {
        ta1::write(&mut w, t);
    }
    if !acks.is_empty() {
        let first = inbound.groups.first();
        let gs_sender = first.map(|g| g.header.receiver.clone()).unwrap_or_else(|| our_id.to_string());
        let gs_receiver = first.map(|g| g.header.sender.clone()).unwrap_or_else(|| their_id.to_string());
        let gs06 = opts.numbers.group.to_string();
        let date = opts.now.format("%Y%m%d").to_string();
        let time = opts.now.format("%H%M").to_string();
        w.seg("GS", &["FA", &gs_sender, &gs_receiver, &date, &time, &gs06, "X", release.gs08()]);
        for (i, ack) in acks.iter().enumerate() {
            let st02 = format!("{:04}", i + 1);
            ack997::write_set(&mut w, ack, &st02, &release);
        }
        w.seg("GE", &[&acks.len().to_string(), &gs06]);
    }
    let groups = if acks.is_empty() { "0" } else { "1" };
    w.seg("IEA", &[groups, &format!("{:09}", opts.numbers.interchange)]);
    Ok(w.out)
}

/// The answer to one inbound interchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    /// The inbound ISA13.
    pub interchange: String,
    /// The inbound sender, `qualifier:id`.
    pub partner: String,
    pub ta1: Option<Ta1>,
    /// One per acknowledged group, in file order.
    pub acks: Vec<Ack997>,
    /// GS06 of the groups acknowledged (parallel to `acks`).
    pub acknowledged_groups: Vec<String>,
    /// The response interchange.
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// What goes back for one inbound interchange under `rules`: the 997s (with the GS06 of each group
/// they acknowledge) and the TA1.
pub fn plan(ic: &Interchange, rules: &InboundRules) -> (Vec<Ack997>, Vec<String>, Option<Ta1>) {
    let mut acks = Vec::new();
    let mut controls = Vec::new();
    for g in ic.groups.iter().filter(|g| is_acknowledged(g, rules.acknowledge)) {
        acks.push(acknowledge(g));
        controls.push(g.header.control.clone());
    }
    let ta1 = rules.ta1.answers(ic.header.wants_ta1()).then(|| ta1_for(ic));
    (acks, controls, ta1)
}

/// The response interchange for one inbound interchange, or `None` when nothing goes back.
pub fn respond(ic: &Interchange, rules: &InboundRules, opts: &AckOptions) -> Result<Option<Response>, RenderError> {
    build(ic, plan(ic, rules), opts)
}

fn build(
    ic: &Interchange,
    (acks, acknowledged_groups, ta1): (Vec<Ack997>, Vec<String>, Option<Ta1>),
    opts: &AckOptions,
) -> Result<Option<Response>, RenderError> {
    if acks.is_empty() && ta1.is_none() {
        return Ok(None);
    }
    let bytes = render_response(ic, &acks, ta1.as_ref(), opts)?;
    Ok(Some(Response {
        interchange: ic.header.control.clone(),
        partner: ic.header.partner_key(),
        ta1,
        acks,
        acknowledged_groups,
        bytes,
    }))
}

/// Responses for every interchange of a parsed file. Numbers for each come from `numbers(i)`
/// (e.g. a [`crate::control::ControlNumbers`] store), asked only when something goes back.
pub fn respond_file(
    file: &X12File<'_>,
    rules: &InboundRules,
    mut numbers: impl FnMut(&Interchange) -> Result<Numbers, RenderError>,
    base: &AckOptions,
) -> Result<Vec<Response>, RenderError> {
    let mut out = Vec::new();
    for ic in &file.interchanges {
        let planned = plan(ic, rules);
        if planned.0.is_empty() && planned.2.is_none() {
            continue;
        }
        let opts = AckOptions { numbers: numbers(ic)?, ..base.clone() };
        if let Some(r) = build(ic, planned, &opts)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// 997s for every interchange of a parsed inbound file (every group except 997 groups, no TA1),
/// one output per interchange. The rules of [`respond_file`] with the default scope.
pub fn acknowledge_file(
    file: &X12File<'_>,
    numbers: impl FnMut(&Interchange) -> Result<Numbers, RenderError>,
    base: &AckOptions,
) -> Result<Vec<Vec<u8>>, RenderError> {
    let rules = InboundRules { ta1: Ta1Policy::Never, ..InboundRules::default() };
    Ok(respond_file(file, &rules, numbers, base)?.into_iter().map(|r| r.bytes).collect())
}

/// Every 997 in a parsed file matched against outbound groups; the 997's ISA06 is the sender.
pub fn match_file(file: &X12File<'_>, outbound: &[OutboundGroup]) -> Vec<Result<AckMatch, AckMatchError>> {
    let mut out = Vec::new();
    for s in file.sets() {
        if let SetContent::Ack(a) = &s.set.content {
            let sender = s.interchange.map(|i| i.header.sender_id.as_str());
            out.push(ack997::match_ack(a, sender, outbound));
        }
    }
    out
}
