//! The scripted trading partner behind a mailbox: what the other side of Cleo does.
//!
//! A real partner (a public-sector client, a subcontractor) connects to its mailbox over FTP/SFTP
//! or the Cleo Portal. Here each mailbox may carry a [`PartnerScript`] that, on each tick (every
//! `partner_interval_secs` of simulated time, or on the `partner_tick` action):
//!
//! - **collects** every file from its `collects_from` folder (our outbound folder), parses it with
//!   `mlc-x12`, and answers each interchange's invoice groups with a 997 dropped into its
//!   `drops_into` folder (our inbound folder): accepted, or rejected with AK3/AK4 errors for the
//!   sets its rules pick (`reject_invoices` by number, `reject_ordinals` by count, a seeded
//!   `reject_share`). 997s we send it (our acknowledgments of its invoices) are read and logged.
//! - **sends** 810s on the `partner_send_810` action, rendered from its own profile (its ids as
//!   ISA sender, ours as receiver, its release and separators): valid, broken (an SE count that
//!   does not match), a duplicate re-send under the same name, or the same bytes renamed.
//!
//! Folder directions are the script's configuration, never inferred from folder names.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use mlc_core::domain::{ArInvoice, ArInvoiceDraft, ArLine, DocumentKind, Party, SourceRef};
use mlc_core::money::{Currency, Tolerance};
use mlc_x12::ack997::{ElementNote, SegmentNote};
use mlc_x12::{AckCode, AckOptions, Numbers, PartnerProfile, acknowledge, render_810, render_997};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::state::{CleoState, StoredFile, sha256_hex, splitmix};

/// One file the partner collected, and what it made of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collected {
    pub name: String,
    pub sha256: String,
    pub at: DateTime<Utc>,
    /// Invoice numbers (BIG02) read.
    pub invoices: Vec<String>,
    /// Invoice numbers it rejected in its 997.
    pub rejected: Vec<String>,
    /// The 997 file it dropped back, if any.
    pub ack_file: Option<String>,
    /// Acknowledgments it received from us (`AK1` group control and AK9 status).
    pub acks_received: Vec<String>,
    /// Anything odd (unreadable file, no invoice group).
    pub note: String,
}

/// One file the partner sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub name: String,
    pub at: DateTime<Utc>,
    pub invoices: Vec<String>,
    /// `valid`, `broken`, `duplicate`, `renamed_duplicate`.
    pub variant: String,
    pub sha256: String,
    /// The bytes, so a duplicate re-send repeats them exactly.
    #[serde(with = "super::state::b64")]
    pub content: Vec<u8>,
}

/// The trading partner's script and its running state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PartnerScript {
    /// Display name (`Granite Ridge Drilling`).
    pub name: String,
    /// The folder it collects our files from (we upload there).
    pub collects_from: String,
    /// The folder it drops its files into (we download from there).
    pub drops_into: String,
    /// Answer collected invoice groups with 997s.
    pub acknowledges: bool,
    /// Share of invoice sets rejected at random (seeded draw), 0..=1.
    pub reject_share: f64,
    /// Reject the Nth invoice set it acknowledges (1-based, counted over its life).
    pub reject_ordinals: Vec<u64>,
    /// Reject invoices with these numbers (BIG02).
    pub reject_invoices: Vec<String>,
    /// Its own 810 profile for the invoices it sends us.
    pub profile: Option<PartnerProfile>,
    /// Buyer name on the invoices it sends (our company).
    pub customer: String,
    /// PO numbers its invoices quote, used in turn.
    pub po_numbers: Vec<String>,
    /// Prefix of its invoice numbers.
    pub invoice_prefix: String,
    /// Seed of its draws and invoice contents.
    pub seed: u64,
    /// Invoice sets acknowledged so far.
    pub acked_sets: u64,
    /// Last control number it used (997s and 810s share one counter).
    pub last_control: u32,
    /// Invoices it has generated.
    pub invoice_seq: u64,
    pub collected: Vec<Collected>,
    pub sent: Vec<Sent>,
}

impl Default for PartnerScript {
    fn default() -> Self {
        PartnerScript {
            name: String::new(),
            collects_from: String::new(),
            drops_into: String::new(),
            acknowledges: true,
            reject_share: 0.0,
            reject_ordinals: Vec::new(),
            reject_invoices: Vec::new(),
            profile: None,
            customer: String::new(),
            po_numbers: Vec::new(),
            invoice_prefix: "INV-".into(),
            seed: 1,
            acked_sets: 0,
            last_control: 0,
            invoice_seq: 0,
            collected: Vec::new(),
            sent: Vec::new(),
        }
    }
}

impl PartnerScript {
    fn next_control(&mut self) -> u32 {
        self.last_control = (self.last_control % 999_999_998) + 1;
        self.last_control
    }

    fn draw(&mut self) -> f64 {
        let x = splitmix(self.seed ^ self.acked_sets.wrapping_mul(0x9E37_79B9));
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A timestamp for file names: `20250616T143000123Z`.
pub fn file_stamp(now: DateTime<Utc>) -> String {
    now.format("%Y%m%dT%H%M%S%3fZ").to_string()
}

/// Run every partner once. Returns what each did.
pub fn tick_all(st: &mut CleoState, now: DateTime<Utc>) -> Value {
    let mut out = Vec::new();
    for m in 0..st.mailboxes.len() {
        if st.mailboxes[m].partner.is_some() {
            out.push(tick(st, m, now));
        }
    }
    json!({ "partners": out })
}

/// One partner's poll: collect, read, acknowledge.
pub fn tick(st: &mut CleoState, m: usize, now: DateTime<Utc>) -> Value {
    let Some(script) = st.mailboxes[m].partner.clone() else { return json!({}) };
    let alias = st.mailboxes[m].alias.clone();
    let Some(folder) = st.mailboxes[m].folder_mut(&script.collects_from) else {
        return json!({ "mailbox": alias, "error": format!("no folder '{}'", script.collects_from) });
    };
    let folder_name = folder.name.clone();
    let mut files: Vec<StoredFile> = std::mem::take(&mut folder.files);
    files.sort_by_key(|f| f.created);
    for f in &files {
        st.archive_file(&alias, &folder_name, f, "collected by partner", now);
    }
    let mut script = script;
    let mut drops: Vec<(String, Vec<u8>)> = Vec::new();
    let mut report = Vec::new();
    for f in files {
        let c = collect_one(&mut script, &f, now, &mut drops);
        report.push(json!({ "name": c.name, "invoices": c.invoices, "rejected": c.rejected, "ack_file": c.ack_file, "note": c.note }));
        script.collected.push(c);
    }
    let drops_into = script.drops_into.clone();
    st.mailboxes[m].partner = Some(script);
    for (name, content) in drops {
        drop_file(st, m, &drops_into, &name, content, now);
    }
    json!({ "mailbox": alias, "collected": report })
}

fn collect_one(
    script: &mut PartnerScript,
    f: &StoredFile,
    now: DateTime<Utc>,
    drops: &mut Vec<(String, Vec<u8>)>,
) -> Collected {
    let mut c = Collected {
        name: f.name.clone(),
        sha256: sha256_hex(&f.content),
        at: now,
        invoices: Vec::new(),
        rejected: Vec::new(),
        ack_file: None,
        acks_received: Vec::new(),
        note: String::new(),
    };
    let parsed = match mlc_x12::parse(&f.content) {
        Ok(p) => p,
        Err(e) => {
            c.note = format!("unreadable: {e}");
            return c;
        }
    };
    for ic in &parsed.interchanges {
        let mut acks = Vec::new();
        for g in &ic.groups {
            if g.header.functional_id == "FA" {
                for s in &g.sets {
                    if let Some(a) = s.ack() {
                        c.acks_received.push(format!("{} {}", a.group_control, a.status.code()));
                    }
                }
                continue;
            }
            let mut ack = acknowledge(g);
            for (set, sa) in g.sets.iter().zip(ack.sets.iter_mut()) {
                let Some(inv) = set.invoice() else { continue };
                let number = inv.invoice_number.to_string();
                c.invoices.push(number.clone());
                script.acked_sets += 1;
                let ordinal = script.acked_sets;
                let draw = script.draw();
                let reject = script.reject_invoices.iter().any(|r| r == &number)
                    || script.reject_ordinals.contains(&ordinal)
                    || draw < script.reject_share;
                if reject && sa.status.is_accepted() {
                    let set_bytes = parsed.input.get(set.bytes.clone()).unwrap_or_default();
                    let (position, bad) = buyer_n1(set_bytes, ic.delimiters.segment, ic.delimiters.element);
                    sa.status = AckCode::Rejected;
                    sa.codes = vec!["5".into()];
                    sa.segments.push(SegmentNote {
                        segment_id: "N1".into(),
                        position,
                        loop_id: Some("N1".into()),
                        code: Some("8".into()),
                        elements: vec![ElementNote {
                            position: "4".into(),
                            reference: Some("67".into()),
                            code: "7".into(),
                            bad_data: (!bad.is_empty()).then_some(bad),
                        }],
                    });
                    c.rejected.push(number);
                }
            }
            let accepted = ack.sets.iter().filter(|s| s.status.is_accepted()).count();
            ack.accepted = Some(accepted as u64);
            if !ack.sets.is_empty() && accepted == 0 {
                ack.status = AckCode::Rejected;
            } else if accepted < ack.sets.len() {
                ack.status = AckCode::PartiallyAccepted;
            }
            acks.push(ack);
        }
        if acks.is_empty() || !script.acknowledges {
            continue;
        }
        let n = script.next_control();
        let opts = AckOptions::new(Numbers::single(n), now.naive_utc());
        match render_997(ic, &acks, &opts) {
            Ok(bytes) => {
                let name = format!("997_{}_{}_{}.edi", ic.header.control.trim(), n, file_stamp(now));
                c.ack_file = Some(name.clone());
                drops.push((name, bytes));
            }
            Err(e) => c.note = format!("997 not rendered: {e}"),
        }
    }
    if c.invoices.is_empty() && c.acks_received.is_empty() && c.note.is_empty() {
        c.note = "no invoice group".into();
    }
    c
}

/// Position (ST = 1) of the set's `N1*BT` segment and its N104, for the AK3/AK4 of a rejection
/// ("buyer id not recognised"); the BIG segment when there is none.
fn buyer_n1(set: &[u8], terminator: u8, element: u8) -> (u64, String) {
    let mut fallback = (2, String::new());
    for (i, seg) in set.split(|b| *b == terminator).enumerate() {
        let text = String::from_utf8_lossy(seg);
        let text = text.trim();
        let parts: Vec<&str> = text.split(element as char).collect();
        if parts.first() == Some(&"BIG") {
            fallback = ((i + 1) as u64, String::new());
        }
        if parts.first() == Some(&"N1") && parts.get(1) == Some(&"BT") {
            return ((i + 1) as u64, parts.get(4).map(|s| s.to_string()).unwrap_or_default());
        }
    }
    fallback
}

/// Put a file into a mailbox folder as the partner.
pub fn drop_file(
    st: &mut CleoState,
    m: usize,
    folder: &str,
    name: &str,
    content: Vec<u8>,
    now: DateTime<Utc>,
) -> Option<String> {
    let id = st.new_id("fi");
    let fo = st.mailboxes[m].folder_mut(folder)?;
    fo.files.push(StoredFile {
        id: id.clone(),
        name: name.into(),
        content,
        created: now,
        modified: now,
        origin: "partner".into(),
    });
    Some(id)
}

/// What `partner_send_810` may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Valid,
    Broken,
    Duplicate,
    RenamedDuplicate,
}

impl Variant {
    pub fn parse(s: &str) -> Option<Variant> {
        Some(match s {
            "" | "valid" => Variant::Valid,
            "broken" => Variant::Broken,
            "duplicate" => Variant::Duplicate,
            "renamed_duplicate" => Variant::RenamedDuplicate,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Variant::Valid => "valid",
            Variant::Broken => "broken",
            Variant::Duplicate => "duplicate",
            Variant::RenamedDuplicate => "renamed_duplicate",
        }
    }
}

const SERVICES: &[(&str, &str, i64, i64)] = &[
    ("Geotechnical borings and logs", "HR", 1, 18500),
    ("Traffic control crew", "HR", 1, 9600),
    ("Survey crew, two-person", "HR", 1, 16250),
    ("Concrete cylinder testing", "EA", 1, 4500),
    ("Environmental sampling", "EA", 1, 27500),
    ("CAD drafting support", "HR", 1, 8800),
];

/// A deterministic invoice from the partner to us.
fn make_invoice(script: &mut PartnerScript, profile: &PartnerProfile, date: NaiveDate) -> Result<ArInvoice, String> {
    script.invoice_seq += 1;
    let seq = script.invoice_seq;
    let r = |k: u64| splitmix(script.seed.wrapping_mul(1_000_003) ^ (seq << 8) ^ k);
    let n_lines = 1 + (r(1) % 3) as usize;
    let mut lines = Vec::new();
    for i in 0..n_lines {
        let (desc, unit, _, cents) = SERVICES[(r(10 + i as u64) % SERVICES.len() as u64) as usize];
        let qty = Decimal::from(2 + (r(20 + i as u64) % 38) as i64);
        let price = Decimal::new(cents, 2);
        let amount = (qty * price).round_dp(2);
        lines.push(ArLine {
            line_no: (i + 1) as u32,
            description: desc.into(),
            item_id: Some(format!("SVC-{}", 100 + (r(30 + i as u64) % 50))),
            quantity: qty,
            unit: unit.into(),
            unit_price: price,
            amount,
            tax_amount: Decimal::ZERO,
            project: None,
            account: None,
        });
    }
    let total: Decimal = lines.iter().map(|l| l.amount).sum();
    let number = format!("{}{:05}", script.invoice_prefix, seq);
    let po = (!script.po_numbers.is_empty())
        .then(|| script.po_numbers[(seq as usize - 1) % script.po_numbers.len()].clone());
    let draft = ArInvoiceDraft {
        source: SourceRef {
            system: "cleo-partner".into(),
            entity: "invoice".into(),
            id: number.clone(),
            version: "1".into(),
        },
        kind: DocumentKind::Invoice,
        invoice_number: number,
        invoice_date: date,
        due_date: Some(date + Duration::days(30)),
        currency: Currency::USD,
        seller: Party { name: script.name.clone(), id: Some(profile.sender_id.trim().to_string()), address: None },
        buyer: Party {
            name: if script.customer.is_empty() { "Customer".into() } else { script.customer.clone() },
            id: Some(profile.receiver_id.trim().to_string()),
            address: None,
        },
        po_number: po,
        terms: Some("Net 30".into()),
        lines,
        header_tax: Decimal::ZERO,
        charges: Decimal::ZERO,
        total,
        tolerance: Tolerance::default(),
    };
    ArInvoice::try_new(draft).map_err(|e| e.to_string())
}

/// Send `count` invoices in one interchange (or re-send the last file), as the partner.
pub fn send_810(
    st: &mut CleoState,
    m: usize,
    count: usize,
    variant: Variant,
    now: DateTime<Utc>,
) -> Result<Value, String> {
    let Some(mut script) = st.mailboxes[m].partner.clone() else {
        return Err(format!("mailbox {} has no scripted partner", st.mailboxes[m].alias));
    };
    let drops_into = script.drops_into.clone();
    let (name, content, invoices) = match variant {
        Variant::Duplicate | Variant::RenamedDuplicate => {
            let last = script
                .sent
                .iter()
                .rev()
                .find(|s| s.variant == "valid")
                .cloned()
                .ok_or("nothing sent yet to re-send")?;
            let bytes = last.content.clone();
            let name = if variant == Variant::Duplicate { last.name.clone() } else { format!("resend_{}", last.name) };
            (name, bytes, last.invoices.clone())
        }
        Variant::Valid | Variant::Broken => {
            let profile = script.profile.clone().ok_or("the partner has no 810 profile")?;
            let mut invoices = Vec::new();
            for _ in 0..count.max(1) {
                invoices.push(make_invoice(&mut script, &profile, now.date_naive())?);
            }
            let n = script.next_control();
            let rendered =
                render_810(&invoices, &profile, Numbers::single(n), now.naive_utc()).map_err(|e| e.to_string())?;
            let mut bytes = rendered.bytes;
            if variant == Variant::Broken {
                bytes = break_se_count(&bytes, &profile);
            }
            let numbers: Vec<String> = invoices.iter().map(|i| i.clone().into_draft().invoice_number).collect();
            let name = format!("810_{}_{:09}_{}.edi", profile.sender_id.trim(), n, file_stamp(now));
            (name, bytes, numbers)
        }
    };
    let sha = sha256_hex(&content);
    script.sent.push(Sent {
        name: name.clone(),
        at: now,
        invoices: invoices.clone(),
        variant: variant.name().into(),
        sha256: sha.clone(),
        content: content.clone(),
    });
    st.mailboxes[m].partner = Some(script);
    let id = drop_file(st, m, &drops_into, &name, content, now).ok_or_else(|| format!("no folder '{drops_into}'"))?;
    Ok(json!({ "name": name, "id": id, "invoices": invoices, "sha256": sha, "variant": variant.name() }))
}

/// The first SE's segment count made wrong by one: a precise, located error for the parser.
/// The SE is found at a segment start (after a terminator and any line break), never inside
/// another segment's data (`CUR*SE*USD` names the seller, it is no SE segment).
fn break_se_count(bytes: &[u8], profile: &PartnerProfile) -> Vec<u8> {
    let e = profile.separators.element as u32 as u8;
    let t = profile.separators.segment as u32 as u8;
    let mut at = None;
    for (i, b) in bytes.iter().enumerate() {
        if *b != t {
            continue;
        }
        let mut j = i + 1;
        while j < bytes.len() && matches!(bytes[j], b'\r' | b'\n') {
            j += 1;
        }
        if bytes.get(j..j + 3) == Some(&[b'S', b'E', e][..]) {
            at = Some(j + 3);
            break;
        }
    }
    let Some(start) = at else { return bytes.to_vec() };
    let end = bytes[start..].iter().position(|b| *b == e || *b == t).map_or(bytes.len(), |p| start + p);
    let count: u64 = std::str::from_utf8(&bytes[start..end]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut out = bytes[..start].to_vec();
    out.extend_from_slice((count + 1).to_string().as_bytes());
    out.extend_from_slice(&bytes[end..]);
    out
}
