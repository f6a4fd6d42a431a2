//! The X12 side of the Cleo parts, on `mlc-x12`: what an inbound file holds (read in bounded
//! chunks of transaction sets), the 997s that answer it, and outbound 810s rendered per partner
//! profile and proven valid before they move.
//!
//! **Inbound, what is ours.** 810s and 997s are ours, in whatever group they come; groups of other
//! documents (850, 856, 820 …) are not read, but are acknowledged (the 997 tells the partner
//! they were not processed) and never hold good invoices back.
//!
//! **A broken file is held whole.** Any error that rejects part of what is ours — at file,
//! interchange or group level, or in one of our sets (an SE count that does not match, a missing
//! BIG) — holds the whole file: one visible item naming the parser's precise errors, and a 997
//! that rejects every set of it (each bad set with its AK3/AK4/AK5 codes). A miscounted set means
//! segments may have moved between sets, so no part of such a file is trusted; the partner
//! re-sends it whole, corrected.
//!
//! **Re-sends.** An interchange whose ISA13 this partner already sent is marked re-sent: its
//! sets keep their identities (partner, ISA13, GS06, ST02) and versions (a hash of the set's
//! bytes), so the engine recognises an identical re-send as work already done, and it is not
//! acknowledged a second time.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use mlc_core::domain::{ApInvoice, ArInvoice, DocumentKind};
use mlc_x12::ack997::Ack997;
use mlc_x12::envelope::{Group, SetRef, X12File};
use mlc_x12::{AckCode, AckOptions, MapOptions, Numbers, Rendered, SetContent};
use rust_decimal::Decimal;
use serde::Serialize;

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
    /// Interchanges in the file, in order: control number, sender id, and whether the partner
    /// already sent that control number (a re-send).
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

    pub fn is_resent(&self, isa13: &str) -> bool {
        self.interchanges.iter().any(|i| i.resent && same_control(&i.control, isa13))
    }
}

/// One interchange of an inbound file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InterchangeSeen {
    pub control: String,
    pub sender: String,
    /// ISA15 = T.
    pub test: bool,
    pub resent: bool,
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
    /// Seller's N1 id, else its name, else the interchange sender: what the `vendor` mapping keys.
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
            "file {} from {} is held whole: {}{more}. The partner was sent a 997 rejecting it and must re-send it \
             corrected; `mlc x12 validate` on the kept copy shows every finding",
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

/// A parsed chunk and where the next one starts.
pub struct ChunkRead {
    pub chunk: InboundChunk,
    pub next: Option<usize>,
}

fn same_control(a: &str, b: &str) -> bool {
    mlc_x12::envelope::same_control(a, b)
}

/// Whether a group is ours (810s or 997s in it, or declared IN/FA).
fn ours(g: &Group<'_>) -> bool {
    matches!(g.header.functional_id.as_str(), "IN" | "FA")
        || g.sets.iter().any(|s| matches!(s.content, SetContent::Invoice(_) | SetContent::Ack(_)))
}

/// Every rejecting finding in what is ours, precisely, in file order.
pub fn problems(file: &X12File<'_>) -> (Vec<String>, usize) {
    let mut out: Vec<String> = Vec::new();
    let mut dropped = file.findings.dropped_errors;
    out.extend(file.findings.errors.iter().filter(|e| e.rejects()).map(|e| e.to_string()));
    for s in &file.loose_sets {
        out.extend(s.findings.errors.iter().filter(|e| e.rejects()).map(|e| e.to_string()));
        dropped += s.findings.dropped_errors;
    }
    for ic in &file.interchanges {
        out.extend(ic.findings.errors.iter().filter(|e| e.rejects()).map(|e| e.to_string()));
        dropped += ic.findings.dropped_errors;
        for g in ic.groups.iter().filter(|g| ours(g)) {
            out.extend(g.findings.errors.iter().filter(|e| e.rejects()).map(|e| e.to_string()));
            dropped += g.findings.dropped_errors;
            for s in &g.sets {
                out.extend(s.findings.errors.iter().filter(|e| e.rejects()).map(|e| e.to_string()));
                dropped += s.findings.dropped_errors;
            }
        }
    }
    (out, dropped)
}

/// The sets of the file that are ours, in order (the unit chunks count).
fn our_sets<'f, 'a>(file: &'f X12File<'a>) -> Vec<SetRef<'f, 'a>> {
    file.sets().into_iter().filter(|s| matches!(s.set.content, SetContent::Invoice(_) | SetContent::Ack(_))).collect()
}

fn short_hash(bytes: &[u8]) -> String {
    crate::files::sha256_hex(bytes)[..16].to_string()
}

/// Read the interchanges of a file (for the re-send check at pickup): `(ISA13, ISA06, test)`.
pub fn interchanges(bytes: &[u8]) -> Vec<(String, String, bool)> {
    match mlc_x12::parse(bytes) {
        Ok(f) => f
            .interchanges
            .iter()
            .map(|i| {
                (i.header.control.trim().to_string(), i.header.sender_id.trim().to_string(), i.header.usage == "T")
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Read chunk `start..start + size` of an inbound file.
pub fn read_chunk(bytes: &[u8], file: Arc<InboundFile>, partner: &Partner, start: usize, size: usize) -> ChunkRead {
    let key = &file.partner;
    let held = |errors: Vec<String>, more: usize, has_invoices: bool| HeldFile {
        doc_id: format!("{key}/file/{}", &file.sha256[..file.sha256.len().min(16)]),
        version: file.sha256[..file.sha256.len().min(16)].to_string(),
        more: more + errors.len().saturating_sub(MAX_NAMED),
        errors: errors.into_iter().take(MAX_NAMED).collect(),
        has_invoices,
    };
    let parsed = match mlc_x12::parse(bytes) {
        Ok(p) => p,
        Err(e) => {
            let h = held(vec![format!("not readable as X12: {e}")], 0, true);
            return ChunkRead {
                chunk: InboundChunk { file, start, invoices: vec![], acks: vec![], held: Some(h) },
                next: None,
            };
        }
    };
    let (errors, dropped) = problems(&parsed);
    if !errors.is_empty() || dropped > 0 {
        let has_invoices = parsed.interchanges.iter().flat_map(|i| &i.groups).any(|g| g.header.functional_id != "FA")
            || !parsed.loose_sets.is_empty();
        let h = held(errors, dropped, has_invoices);
        return ChunkRead {
            chunk: InboundChunk { file, start, invoices: vec![], acks: vec![], held: Some(h) },
            next: None,
        };
    }
    let sets = our_sets(&parsed);
    let end = (start + size.max(1)).min(sets.len());
    let map = MapOptions { file_name: None, default_currency: partner.currency, ..Default::default() };
    let mut invoices = Vec::new();
    let mut acks = Vec::new();
    for s in sets.iter().skip(start).take(end.saturating_sub(start)) {
        let isa13 = s.interchange.map(|i| i.header.control.trim().to_string()).unwrap_or_default();
        let gs06 = s.group.map(|g| g.header.control.trim().to_string()).unwrap_or_default();
        let st02 = s.set.header.control.trim().to_string();
        let control = s.control_path();
        let version = short_hash(s.bytes());
        let resent = file.is_resent(&isa13);
        let sender = s.interchange.map(|i| i.header.sender_id.trim().to_string()).unwrap_or_default();
        match &s.set.content {
            SetContent::Invoice(inv) => {
                let seller = inv.seller();
                let vendor_key = seller
                    .and_then(|p| p.id.as_deref().map(str::to_string))
                    .or_else(|| seller.and_then(|p| p.name.as_deref().map(str::to_string)))
                    .unwrap_or_else(|| sender.clone());
                let invoice = s.to_ap_invoice(&map).map_err(|e| e.to_string());
                invoices.push(InboundInvoice {
                    doc_id: format!("{key}/{isa13}/{gs06}/{st02}"),
                    version,
                    control,
                    number: inv.invoice_number.to_string(),
                    date: Some(inv.invoice_date),
                    currency: inv
                        .currency
                        .as_deref()
                        .map(str::to_string)
                        .or_else(|| Some(partner.currency.to_string())),
                    total: Some(inv.totals.total),
                    po: inv.purchase_order().map(str::to_string).filter(|p| !p.trim().is_empty()),
                    seller: seller
                        .and_then(|p| p.name.as_deref().map(str::to_string))
                        .unwrap_or_else(|| vendor_key.clone()),
                    vendor_key,
                    invoice,
                    test: s.interchange.is_some_and(|i| i.header.usage == "T"),
                    resent,
                    warnings: s.set.findings.warnings.iter().map(|w| w.to_string()).collect(),
                });
            }
            SetContent::Ack(a) => acks.push(InboundAck {
                doc_id: format!("{key}/997/{isa13}/{gs06}/{st02}"),
                version,
                control,
                sender,
                ack: (**a).clone(),
                resent,
            }),
            _ => {}
        }
    }
    let next = (end < sets.len()).then_some(end);
    ChunkRead { chunk: InboundChunk { file, start, invoices, acks, held: None }, next }
}

/// The 997 interchanges answering a file (one per interchange that holds groups other than 997s
/// and is not a re-send), numbered by `numbers`. A held file's sets are all rejected.
pub fn answer_997s(
    bytes: &[u8],
    file: &InboundFile,
    held: bool,
    mut numbers: impl FnMut() -> Result<Numbers, String>,
    now: NaiveDateTime,
) -> Result<Vec<(Numbers, Vec<u8>)>, String> {
    let parsed = mlc_x12::parse(bytes).map_err(|e| format!("no 997 can answer {}: {e}", file.label()))?;
    let mut out = Vec::new();
    for ic in &parsed.interchanges {
        if file.is_resent(ic.header.control.trim()) {
            continue;
        }
        let mut acks: Vec<Ack997> =
            ic.groups.iter().filter(|g| g.header.functional_id != "FA").map(mlc_x12::acknowledge).collect();
        if acks.is_empty() {
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
        let bytes = mlc_x12::render_997(ic, &acks, &AckOptions::new(n, now))
            .map_err(|e| format!("the 997 answering {} could not be written: {e}", file.label()))?;
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
    let (errors, dropped) = problems(&back);
    if !errors.is_empty() || dropped > 0 {
        return Err(format!(
            "the rendered 810 does not validate, so it was not sent: {}",
            errors.into_iter().take(MAX_NAMED).collect::<Vec<_>>().join("; ")
        ));
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
