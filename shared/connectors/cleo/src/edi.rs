//! The X12 side of the Cleo parts, on `mlc-x12`: what an inbound file holds (read with the
//! library's streaming reader, a bounded chunk of transaction sets at a time), the responses (997s
//! and TA1s) that answer it, and outbound 810s rendered per partner profile and proven valid
//! before they move.
//!
//! **Inbound, what is ours.** 810s and 997s are ours, in whatever group they come; other sets
//! (850, 856, 820 …) are not read, never hold good invoices back, and are answered per the
//! partner's rules (`acknowledge = "all"`: rejected as not supported, so the partner knows).
//!
//! **A broken file is held whole.** Any error that rejects part of what is ours — at file,
//! interchange or group level, or in one of our sets (an SE count that does not match, a missing
//! BIG) — holds the whole file: one visible item naming the parser's precise errors, and a
//! response that rejects every set of it (each bad set with its AK3/AK4/AK5 codes; a TA1 when the
//! partner asks for one). A miscounted set means segments may have moved between sets, so no part
//! of such a file is trusted; the partner re-sends it whole, corrected. Errors the library only
//! *notes* (AK5 `E`) hold nothing.
//!
//! **Re-sends.** Each interchange's ISA13 and digest (SHA-256 of its bytes) are checked against
//! what the partner sent before ([`mlc_x12::resend`]). An identical re-send keeps its sets'
//! identities (partner, ISA13, GS06, ST02) and versions (a hash of each set's bytes), so the engine
//! recognises it as work already done, and it is not answered a second time. A number reused for
//! *different* content is the partner's error: the interchange is rejected (TA1 note `025`) and
//! the file held.
//!
//! **Memory.** The streaming reader keeps one set (and ~70 bytes per set of the open group), so a
//! read costs the file's bytes plus a small constant, not the ~8× a whole-file parse holds. Each
//! chunk is one pass over the file; the pass that hands out the first chunk also decides whether
//! the file is held, the pass of the last chunk also collects what the responses need.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use mlc_core::domain::{ApInvoice, ArInvoice, DocumentKind};
use mlc_x12::ack997::Ack997;
use mlc_x12::envelope::{Group, Interchange};
use mlc_x12::profile::InboundRules;
use mlc_x12::resend;
use mlc_x12::{AckCode, AckOptions, Event, MapOptions, Numbers, Reader, Rendered, SetContent};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::files::sha256_hex;
use crate::partners::Partner;

/// How many findings a held file names (the rest are counted).
const MAX_NAMED: usize = 10;

/// One inbound file, as picked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboundFile {
    pub connection: String,
    /// Partner key and name.
    pub partner: String,
    pub partner_name: String,
    /// The configured folder key and its `MAILBOX/folder` label.
    pub folder_key: String,
    pub folder: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// Interchanges in the file, in order, and whether the partner sent each before.
    pub interchanges: Vec<InterchangeSeen>,
}

impl InboundFile {
    /// `GRANITERIDGE/inbound/810_x.edi`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.folder, self.name)
    }

    /// The identity a file is tracked by: folder, name, size and content hash.
    pub fn tracking_key(&self) -> String {
        format!("{}|{}|{}|{}", self.folder, self.name, self.size, self.sha256)
    }

    fn seen(&self, isa13: &str) -> Option<&InterchangeSeen> {
        self.interchanges.iter().find(|i| mlc_x12::envelope::same_control(&i.control, isa13))
    }

    /// An identical copy of an interchange the partner already sent.
    pub fn is_resent(&self, isa13: &str) -> bool {
        self.seen(isa13).is_some_and(|i| i.resent)
    }
}

/// One interchange of an inbound file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InterchangeSeen {
    pub control: String,
    pub sender: String,
    /// ISA15 = T.
    pub test: bool,
    /// The partner sent these very bytes under this ISA13 before.
    pub resent: bool,
    /// The partner used this ISA13 before for *other* content (rejected, TA1 note 025).
    #[serde(default)]
    pub reused: bool,
    /// SHA-256 of the interchange's bytes.
    #[serde(default)]
    pub digest: String,
}

/// One 810 of an inbound file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundInvoice {
    /// `<partner>/<ISA13>/<GS06>/<ST02>`: stable across re-sends and renames.
    pub doc_id: String,
    /// Hash of the set's bytes.
    pub version: String,
    /// `ISA13/GS06/ST02`.
    pub control: String,
    pub number: String,
    pub date: Option<NaiveDate>,
    pub currency: Option<String>,
    pub total: Option<Decimal>,
    pub po: Option<String>,
    /// The vendor key as the library decides it (seller's `N103:N104`, N104 alone when N103 is
    /// `92`, else the partner's `ISA05:ISA06`): what the `vendor` mapping keys.
    pub vendor_key: String,
    pub seller: String,
    /// The invoice as the library maps it (vendor and accounts not yet mapped), or why it cannot be.
    pub invoice: Result<ApInvoice, String>,
    /// From a test interchange (ISA15 = T).
    pub test: bool,
    /// From an interchange the partner already sent.
    pub resent: bool,
    pub warnings: Vec<String>,
}

/// One 997 of an inbound file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundAck {
    /// `<partner>/997/<ISA13>/<GS06>/<ST02>`.
    pub doc_id: String,
    pub version: String,
    pub control: String,
    /// The 997's ISA06 (the partner).
    pub sender: String,
    pub ack: Ack997,
    pub resent: bool,
}

/// A file held whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldFile {
    /// `<partner>/file/<sha256 prefix>`.
    pub doc_id: String,
    pub version: String,
    /// The parser's errors, precisely (location, what, expected/found), the first few.
    pub errors: Vec<String>,
    /// Errors beyond those named.
    pub more: usize,
    /// Whether the file held anything but 997s (which flow owns it).
    pub has_invoices: bool,
}

impl HeldFile {
    pub fn reason(&self, file: &InboundFile) -> String {
        let more = if self.more > 0 { format!(" (and {} more)", self.more) } else { String::new() };
        format!(
            "file {} from {} is held whole: {}{more}. The partner was sent a response rejecting it and must re-send \
             it corrected; `mlc x12 validate` on the kept copy shows every finding",
            file.label(),
            file.partner_name,
            self.errors.join("; ")
        )
    }
}

/// One chunk of an inbound file: the sets from `start`, at most the connection's `chunk_sets`.
#[derive(Debug, Clone)]
pub struct InboundChunk {
    pub file: Arc<InboundFile>,
    pub start: usize,
    pub invoices: Vec<InboundInvoice>,
    pub acks: Vec<InboundAck>,
    /// Set when the file is held whole (then there are no sets).
    pub held: Option<HeldFile>,
}

/// Where a chunk starts in the kept file, so a read goes on from there without reading the sets
/// before it: the set's index among ours, the byte ranges of its interchange's header (the ISA and
/// any service segments before the first GS) and of its group's GS segment, and where its ST is.
/// A read feeds the reader those headers and then the file from the ST on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    pub index: usize,
    pub isa: (usize, usize),
    pub gs: (usize, usize),
    pub set: usize,
}

impl Resume {
    /// `<index>:<isa start>-<isa end>:<gs start>-<gs end>:<set>`.
    pub fn encode(&self) -> String {
        format!("{}:{}-{}:{}-{}:{}", self.index, self.isa.0, self.isa.1, self.gs.0, self.gs.1, self.set)
    }

    pub fn decode(s: &str) -> Option<Resume> {
        let mut parts = s.split(':');
        let index = parts.next()?.parse().ok()?;
        let range = |p: Option<&str>| -> Option<(usize, usize)> {
            let (a, b) = p?.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        };
        let isa = range(parts.next())?;
        let gs = range(parts.next())?;
        let set = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Resume { index, isa, gs, set })
    }

    fn prefix_len(&self) -> usize {
        (self.isa.1 - self.isa.0) + (self.gs.1 - self.gs.0)
    }

    /// Valid for `bytes`: every range inside and in order.
    fn fits(&self, len: usize) -> bool {
        self.isa.0 <= self.isa.1
            && self.isa.1 <= self.gs.0
            && self.gs.0 <= self.gs.1
            && self.gs.1 <= self.set
            && self.set <= len
    }
}

/// A chunk, where the next one starts, and (on the first read) what the responses need.
pub struct ChunkRead {
    pub chunk: InboundChunk,
    pub next: Option<Resume>,
    /// Every interchange with its groups and their set summaries (the first read only).
    pub interchanges: Vec<Interchange<'static>>,
}

/// Whether a group is ours: declared IN or FA, or holding an 810 or 997.
fn ours(g: &Group<'_>) -> bool {
    matches!(g.header.functional_id.as_str(), "IN" | "FA")
        || g.summaries.iter().any(|s| matches!(&*s.id, "810" | "997"))
}

fn short_hash(bytes: &[u8]) -> String {
    sha256_hex(bytes)[..16].to_string()
}

/// What one streaming pass found.
struct Pass {
    invoices: Vec<InboundInvoice>,
    acks: Vec<InboundAck>,
    /// Our sets read (in the whole file, for a first pass).
    total: usize,
    problems: Vec<String>,
    dropped: usize,
    has_invoices: bool,
    interchanges: Vec<Interchange<'static>>,
    /// `(header, digest)` of each interchange.
    seen: Vec<(mlc_x12::headers::IsaHeader, String)>,
    /// Where the set after the kept ones starts.
    next: Option<Resume>,
}

/// How a pass maps offsets of what it reads back to the kept file.
#[derive(Clone, Copy)]
enum Frame {
    /// The whole file from its first byte.
    Whole,
    /// Headers of `from` and then the file from `from.set` on.
    From(Resume),
}

impl Frame {
    fn absolute(&self, offset: usize) -> usize {
        match self {
            Frame::Whole => offset,
            Frame::From(r) => offset.saturating_sub(r.prefix_len()) + r.set,
        }
    }

    /// Whether an offset read falls in the replayed headers (not in the file's tail).
    fn in_prefix(&self, offset: usize) -> bool {
        matches!(self, Frame::From(r) if offset < r.prefix_len())
    }
}

/// Where the set of `ev` starts, as a [`Resume`] in the kept file.
fn resume_at(ev: &mlc_x12::SetEvent<'_>, index: usize, frame: Frame, bytes: &[u8]) -> Option<Resume> {
    let ic = ev.interchange?;
    let g = ev.group?;
    let terminator = ic.delimiters.segment;
    let end_of_segment = |abs: usize| -> usize {
        bytes.get(abs..).and_then(|t| t.iter().position(|b| *b == terminator)).map_or(bytes.len(), |p| abs + p + 1)
    };
    let (isa, gs) = match frame {
        Frame::From(r) if frame.in_prefix(ic.location.offset) && frame.in_prefix(g.location.offset) => (r.isa, r.gs),
        Frame::From(r) if frame.in_prefix(ic.location.offset) => {
            let gs0 = frame.absolute(g.location.offset);
            (r.isa, (gs0, end_of_segment(gs0)))
        }
        _ => {
            let isa0 = frame.absolute(ic.location.offset);
            let first_gs = ic.groups.first().map_or(g.location.offset, |f| f.location.offset);
            let gs0 = frame.absolute(g.location.offset);
            ((isa0, frame.absolute(first_gs)), (gs0, end_of_segment(gs0)))
        }
    };
    Some(Resume { index, isa, gs, set: frame.absolute(ev.set.bytes.start) })
}

/// One pass: our sets from `start` (at most `size`) kept, owned. A whole-file pass (`Frame::Whole`)
/// reads to the end and also notes every rejecting finding in what is ours, the interchanges'
/// digests and, when `responses`, the interchanges with their groups; a resumed pass stops at the
/// first set it does not keep.
fn pass(
    bytes: &[u8],
    file: Option<&InboundFile>,
    partner: &Partner,
    frame: Frame,
    size: usize,
    responses: bool,
) -> Result<Pass, String> {
    let key = &partner.key;
    let rules = &partner.profile.inbound;
    let map = MapOptions {
        file_name: None,
        default_currency: partner.currency,
        remit_to_names_vendor: rules.remit_to_names_vendor,
        ..Default::default()
    };
    let mut p = Pass {
        invoices: Vec::new(),
        acks: Vec::new(),
        total: 0,
        problems: Vec::new(),
        dropped: 0,
        has_invoices: false,
        interchanges: Vec::new(),
        seen: Vec::new(),
        next: None,
    };
    let whole = matches!(frame, Frame::Whole);
    let first = match frame {
        Frame::Whole => 0,
        Frame::From(r) => r.index,
    };
    let input: Box<dyn std::io::Read + '_> = match frame {
        Frame::Whole => Box::new(bytes),
        Frame::From(r) => {
            if !r.fits(bytes.len()) {
                return Err(format!("resume point {} does not fit a file of {} bytes", r.encode(), bytes.len()));
            }
            Box::new(std::io::Read::chain(
                std::io::Read::chain(&bytes[r.isa.0..r.isa.1], &bytes[r.gs.0..r.gs.1]),
                &bytes[r.set..],
            ))
        }
    };
    let opts = mlc_x12::ParseOptions {
        tax_in_tds: rules.tax_in_tds,
        default_currency: partner.currency,
        ..Default::default()
    };
    let mut reader = Reader::with_options(input, opts);
    let mut groups: Vec<Group<'static>> = Vec::new();
    let note = |p: &mut Pass, f: &mlc_x12::error::Findings| {
        p.problems.extend(f.errors.iter().filter(|e| e.rejects()).map(|e| e.to_string()));
        p.dropped += f.dropped_errors;
    };
    loop {
        let ev = reader.next_event().map_err(|e| format!("not readable as X12: {e}"))?;
        let Some(ev) = ev else { break };
        match ev {
            Event::InterchangeStart(_) => {}
            Event::Set(s) => {
                if !matches!(s.set.content, SetContent::Invoice(_) | SetContent::Ack(_)) {
                    continue;
                }
                if whole {
                    note(&mut p, &s.set.findings);
                }
                let index = first + p.total;
                p.total += 1;
                if index >= first + size {
                    if p.next.is_none() {
                        p.next = resume_at(&s, index, frame, bytes);
                    }
                    if whole {
                        continue;
                    }
                    break;
                }
                let r = s.set_ref();
                let isa13 = s.interchange.map(|i| i.header.control.trim().to_string()).unwrap_or_default();
                let gs06 = s.group.map(|g| g.header.control.trim().to_string()).unwrap_or_default();
                let st02 = s.set.header.control.trim().to_string();
                let resent = file.is_some_and(|f| f.is_resent(&isa13));
                let sender = s.interchange.map(|i| i.header.sender_id.trim().to_string()).unwrap_or_default();
                match &s.set.content {
                    SetContent::Invoice(inv) => {
                        let identity = r.vendor_identity(rules.remit_to_names_vendor);
                        let vendor_key = identity.as_ref().map(|v| v.key.clone()).unwrap_or_else(|| sender.clone());
                        let seller = identity.as_ref().and_then(|v| v.name.clone()).unwrap_or_else(|| {
                            if partner.name.is_empty() { vendor_key.clone() } else { partner.name.clone() }
                        });
                        p.invoices.push(InboundInvoice {
                            doc_id: format!("{key}/{isa13}/{gs06}/{st02}"),
                            version: short_hash(s.input),
                            control: r.control_path(),
                            number: inv.invoice_number.to_string(),
                            date: Some(inv.invoice_date),
                            currency: inv
                                .currency
                                .as_deref()
                                .map(str::to_string)
                                .or_else(|| Some(partner.currency.to_string())),
                            total: Some(inv.totals.total),
                            po: inv.purchase_order().map(str::to_string).filter(|x| !x.trim().is_empty()),
                            vendor_key,
                            seller,
                            invoice: r.to_ap_invoice(&map).map_err(|e| e.to_string()),
                            test: s.interchange.is_some_and(|i| i.header.usage == "T"),
                            resent,
                            warnings: s.set.findings.warnings.iter().map(|w| w.to_string()).collect(),
                        });
                    }
                    SetContent::Ack(a) => p.acks.push(InboundAck {
                        doc_id: format!("{key}/997/{isa13}/{gs06}/{st02}"),
                        version: short_hash(s.input),
                        control: r.control_path(),
                        sender,
                        ack: (**a).clone(),
                        resent,
                    }),
                    _ => {}
                }
            }
            Event::GroupEnd(g) if whole => {
                if g.header.functional_id != "FA" {
                    p.has_invoices = true;
                }
                if ours(&g) {
                    note(&mut p, &g.findings);
                }
                if responses {
                    groups.push(*g);
                }
            }
            Event::InterchangeEnd(ic) if whole => {
                let mut ic = *ic;
                let digest = sha256_hex(bytes.get(ic.bytes.clone()).unwrap_or_default());
                if let Some(seen) = file.and_then(|f| f.seen(&ic.header.control)).filter(|s| s.reused) {
                    let resent = resend::Resent {
                        partner: ic.header.partner_key(),
                        control: seen.control.clone(),
                        same_content: Some(false),
                    };
                    resend::mark(&mut ic, &resent);
                }
                note(&mut p, &ic.findings);
                p.seen.push((ic.header.clone(), digest));
                if responses {
                    ic.groups = std::mem::take(&mut groups);
                    p.interchanges.push(ic);
                }
            }
            Event::End(f) if whole => note(&mut p, &f),
            _ => {}
        }
    }
    Ok(p)
}

/// The interchanges of a file (at pickup, for the re-send check): header and digest each.
pub fn interchanges(bytes: &[u8], partner: &Partner) -> Vec<(mlc_x12::headers::IsaHeader, String)> {
    pass(bytes, None, partner, Frame::Whole, 0, false).map(|p| p.seen).unwrap_or_default()
}

/// Read one chunk of an inbound file: the first (`from = None`: the whole file is read, which
/// decides whether it is held and gathers what its responses need) or the one at `from`.
pub fn read_chunk(
    bytes: &[u8],
    file: Arc<InboundFile>,
    partner: &Partner,
    from: Option<Resume>,
    size: usize,
) -> ChunkRead {
    let key = &file.partner;
    let start = from.map_or(0, |r| r.index);
    let held = |errors: Vec<String>, more: usize, has_invoices: bool| HeldFile {
        doc_id: format!("{key}/file/{}", &file.sha256[..file.sha256.len().min(16)]),
        version: file.sha256[..file.sha256.len().min(16)].to_string(),
        more: more + errors.len().saturating_sub(MAX_NAMED),
        errors: errors.into_iter().take(MAX_NAMED).collect(),
        has_invoices,
    };
    let frame = from.map_or(Frame::Whole, Frame::From);
    let p = match pass(bytes, Some(&file), partner, frame, size.max(1), from.is_none()) {
        Ok(p) => p,
        Err(e) => {
            let h = held(vec![e], 0, true);
            return ChunkRead {
                chunk: InboundChunk { file, start, invoices: vec![], acks: vec![], held: Some(h) },
                next: None,
                interchanges: Vec::new(),
            };
        }
    };
    if !p.problems.is_empty() || p.dropped > 0 {
        let h = held(p.problems, p.dropped, p.has_invoices);
        return ChunkRead {
            chunk: InboundChunk { file, start, invoices: vec![], acks: vec![], held: Some(h) },
            next: None,
            interchanges: p.interchanges,
        };
    }
    ChunkRead {
        chunk: InboundChunk { file, start, invoices: p.invoices, acks: p.acks, held: None },
        next: p.next,
        interchanges: p.interchanges,
    }
}

/// The responses (997s, TA1s) answering a file's interchanges under the partner's rules: one
/// interchange each, numbered by `numbers`, none for an identical re-send. A held file's sets are
/// all rejected.
pub fn respond(
    interchanges: &[Interchange<'static>],
    file: &InboundFile,
    rules: &InboundRules,
    held: bool,
    mut numbers: impl FnMut() -> Result<Numbers, String>,
    now: NaiveDateTime,
) -> Result<Vec<(Numbers, Vec<u8>)>, String> {
    let mut out = Vec::new();
    for ic in interchanges {
        if file.is_resent(ic.header.control.trim()) {
            continue;
        }
        let (mut acks, _, ta1) = mlc_x12::acknowledge::plan(ic, rules);
        if acks.is_empty() && ta1.is_none() {
            continue;
        }
        if held {
            for a in &mut acks {
                for s in &mut a.sets {
                    if s.status.is_accepted() {
                        s.status = AckCode::Rejected;
                    }
                }
                a.accepted = Some(0);
                a.status = AckCode::Rejected;
            }
        }
        let n = numbers()?;
        let bytes = mlc_x12::render_response(ic, &acks, ta1.as_ref(), &AckOptions::new(n, now))
            .map_err(|e| format!("the response to {} could not be written: {e}", file.label()))?;
        out.push((n, bytes));
    }
    Ok(out)
}

/// An outbound 810 for one AR invoice, with its numbers, proven valid by reading it back.
pub fn render_810(
    partner: &Partner,
    invoice: &ArInvoice,
    numbers: Numbers,
    now: NaiveDateTime,
) -> Result<Rendered, String> {
    let r = mlc_x12::render_810(std::slice::from_ref(invoice), &partner.profile, numbers, now)
        .map_err(|e| format!("the 810 for {} could not be written: {e}", partner.label()))?;
    let back = mlc_x12::parse(&r.bytes).map_err(|e| format!("the rendered 810 does not read back: {e}"))?;
    if !back.is_valid() {
        let errors: Vec<String> = back.errors().iter().take(MAX_NAMED).map(|e| e.to_string()).collect();
        return Err(format!("the rendered 810 does not validate, so it was not sent: {}", errors.join("; ")));
    }
    let read = back.invoices();
    let ok = read.len() == 1
        && read.first().is_some_and(|(_, i)| {
            i.invoice_number.as_ref() == invoice.invoice_number.as_str() && i.totals.total == invoice.total
        });
    if !ok {
        return Err("the rendered 810 reads back as another invoice; it was not sent".into());
    }
    Ok(r)
}

/// `CR` credit memos keep positive amounts in the 810 (BIG07 says what they are).
pub fn signed(kind: DocumentKind, amount: Decimal) -> Decimal {
    match kind {
        DocumentKind::CreditMemo => -amount,
        _ => amount,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlc_core::domain::{ArInvoiceDraft, ArLine, Party, SourceRef};

    fn partner() -> Partner {
        let settings: crate::settings::PartnerSetting = serde_json::from_value(serde_json::json!({
            "qualifier": "ZZ", "id": "THEM", "outbound": "out", "inbound": "in"
        }))
        .expect("setting");
        let edi = Some(crate::settings::EdiIdentity { qualifier: "ZZ".into(), id: "US".into(), gs_id: None });
        let all = crate::partners::Partners::from_settings(&edi, &[("P".to_string(), settings)].into_iter().collect());
        all.get("P").cloned().expect("partner")
    }

    fn invoice(n: u32) -> ArInvoice {
        let day = NaiveDate::from_ymd_opt(2025, 5, 1).expect("day");
        let amount = Decimal::new(10_000 + i64::from(n), 2);
        ArInvoice::try_new(ArInvoiceDraft {
            source: SourceRef { system: "t".into(), entity: "i".into(), id: n.to_string(), version: "1".into() },
            kind: DocumentKind::Invoice,
            invoice_number: format!("INV-{n}"),
            invoice_date: day,
            due_date: None,
            currency: mlc_core::money::Currency::USD,
            seller: Party { name: "Them".into(), id: Some("THEM".into()), address: None },
            buyer: Party { name: "Us".into(), id: Some("US".into()), address: None },
            po_number: None,
            terms: None,
            lines: vec![ArLine {
                line_no: 1,
                description: "work".into(),
                item_id: None,
                quantity: Decimal::ONE,
                unit: "EA".into(),
                unit_price: amount,
                amount,
                tax_amount: Decimal::ZERO,
                project: None,
                account: None,
            }],
            header_tax: Decimal::ZERO,
            charges: Decimal::ZERO,
            total: amount,
            tolerance: Default::default(),
        })
        .expect("invoice")
    }

    /// Three interchanges of 4, 1 and 5 invoices; the second also carries a purchase-order group.
    fn mailbag() -> Vec<u8> {
        let profile = mlc_x12::PartnerProfile::new("THEM", ("ZZ", "THEM"), ("ZZ", "US"));
        let now = NaiveDate::from_ymd_opt(2025, 5, 2).and_then(|d| d.and_hms_opt(8, 0, 0)).expect("now");
        let mut out = Vec::new();
        let mut n = 0;
        for (i, count) in [4u32, 1, 5].into_iter().enumerate() {
            let invoices: Vec<ArInvoice> = (0..count)
                .map(|_| {
                    n += 1;
                    invoice(n)
                })
                .collect();
            let r = mlc_x12::render_810(&invoices, &profile, Numbers::single(100 + i as u32), now).expect("810");
            let mut text = String::from_utf8(r.bytes).expect("ascii");
            if i == 1 {
                let at = text.find("IEA*1*").expect("IEA");
                let po = "GS*PO*THEM*US*20250502*0800*9*X*004010~\nST*850*0001~\nBEG*00*SA*PO-1**20250502~\nSE*3*0001~\nGE*1*9~\n";
                text = format!("{}{po}IEA*2*{}", &text[..at], &text[at + 6..]);
            }
            out.extend_from_slice(text.as_bytes());
        }
        out
    }

    fn file(bytes: &[u8]) -> Arc<InboundFile> {
        Arc::new(InboundFile {
            connection: "cleo".into(),
            partner: "P".into(),
            partner_name: "Them".into(),
            folder_key: "in".into(),
            folder: "M/in".into(),
            name: "bag.edi".into(),
            size: bytes.len() as u64,
            sha256: sha256_hex(bytes),
            interchanges: Vec::new(),
        })
    }

    #[test]
    fn chunks_read_from_their_resume_points_give_every_set_once_in_order() {
        let bytes = mailbag();
        let p = partner();
        let whole = read_chunk(&bytes, file(&bytes), &p, None, 1000);
        assert!(whole.chunk.held.is_none(), "{:?}", whole.chunk.held);
        assert!(whole.next.is_none());
        let all: Vec<String> = whole.chunk.invoices.iter().map(|i| i.doc_id.clone()).collect();
        assert_eq!(all.len(), 10);
        assert_eq!(whole.interchanges.len(), 3, "the first read gathers what the responses need");
        for size in [1, 3, 4, 7] {
            let mut got = Vec::new();
            let mut at = None;
            let mut reads = 0;
            loop {
                let r = read_chunk(&bytes, file(&bytes), &p, at, size);
                assert!(r.chunk.held.is_none());
                assert!(r.chunk.invoices.len() <= size);
                assert!(r.chunk.invoices.iter().all(|i| i.invoice.is_ok()), "every set maps on its own");
                got.extend(r.chunk.invoices.iter().map(|i| i.doc_id.clone()));
                reads += 1;
                match r.next {
                    Some(n) => {
                        assert_eq!(Resume::decode(&n.encode()), Some(n));
                        at = Some(n);
                    }
                    None => break,
                }
            }
            assert_eq!(got, all, "size {size}");
            assert_eq!(reads, all.len().div_ceil(size), "size {size}");
        }
    }

    #[test]
    fn a_broken_set_holds_the_file_and_a_foreign_group_does_not() {
        let bytes = mailbag();
        let text = String::from_utf8(bytes.clone()).expect("ascii");
        // The first SE's count off by one.
        let at = text.find("\nSE*").expect("SE") + 4;
        let end = at + text[at..].find('*').expect("count");
        let n: u32 = text[at..end].parse().expect("number");
        let broken = format!("{}{}{}", &text[..at], n + 1, &text[end..]).into_bytes();
        let r = read_chunk(&broken, file(&broken), &partner(), None, 3);
        let held = r.chunk.held.expect("held whole");
        assert!(held.errors[0].contains("SE01"), "{:?}", held.errors);
        assert!(r.chunk.invoices.is_empty() && r.next.is_none());
        assert_eq!(r.interchanges.len(), 3, "its responses still go back");
        let garbage = read_chunk(b"hello", file(b"hello"), &partner(), None, 3);
        assert!(garbage.chunk.held.expect("held").errors[0].contains("not readable as X12"));
    }
}
