//! The 810 Invoice transaction set (004010 and 005010), typed (§5, §6), and its soft checks (§7).
//!
//! The two releases share one tree: 005010 only adds repeats (TXI, SAC), DTM under SAC/TXI and a
//! heading CRC, none of which change the mapping. Segments are placed by a small area machine —
//! heading → N1 loop → heading → IT1 loop (detail) → summary — so REF/PER/DTM/TXI/SAC attach to the
//! party, line or invoice they belong to. Order is read leniently: a segment a little out of place
//! is attached where it most plausibly belongs and flagged, never dropped.
//!
//! Money: IT102/IT104/TXI02 are R (explicit decimals), TDS01–04/SAC05/ITD08 are N2 (two implied
//! decimals); see [`crate::values`]. Line extended amounts are quantity × price rounded half away
//! from zero to cents, since 810s do not transmit them.
//!
//! Errors that make the invoice unusable (no BIG date or number, a bad amount, no TDS) reject the
//! set; errors in elements the invoice does not depend on (a DTM date, an N4) are noted (997 `E`).
//! Segments the 810 grammar defines but this mapping does not use (FOB, CAD, ISS, SLN ...) are kept
//! in [`Invoice810::other_segments`]; segments it does not define are kept too, with a warning.

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use crate::error::{ErrorKind, Findings, Location, Warning, WarningKind, X12Error};
use crate::headers::{ParseOptions, Release, TaxInTds};
use crate::lexer::{Fields, Segment};
use crate::validate::Unreadable;
use crate::values;

/// Element text: borrowed from the input when it is UTF-8 (almost always), owned when it had to
/// be decoded (Latin-1) or was computed.
pub type Text<'a> = Cow<'a, str>;

/// The IT1 loop's maximum use in the 810 (004010 and 005010).
pub const MAX_LINES: usize = 200_000;
/// Cap for every other repeated item (parties, references, taxes, kept segments ...).
pub const MAX_REPEAT: usize = 1_000;

/// BIG07 codes read as a credit: `CR` credit memo, `CN` credit invoice.
pub const CREDIT_TYPES: [&str; 2] = ["CR", "CN"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note<'a> {
    pub code: Option<Text<'a>>,
    pub text: Text<'a>,
}

/// REF: qualifier, value, description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reference<'a> {
    pub qualifier: Text<'a>,
    pub value: Text<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Text<'a>>,
}

/// PER: contact function, name and (qualifier, number) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact<'a> {
    pub function: Text<'a>,
    pub name: Option<Text<'a>>,
    pub communications: Vec<(Text<'a>, Text<'a>)>,
}

/// An N1 loop: N1 + N2/N3/N4 + REF/PER.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyLoop<'a> {
    /// N101 entity code: `SE` seller, `BT` bill-to, `BY` buyer, `RI` remit-to, `ST` ship-to ...
    pub entity: Text<'a>,
    pub name: Option<Text<'a>>,
    pub id_qualifier: Option<Text<'a>>,
    pub id: Option<Text<'a>>,
    /// N2 lines.
    pub extra_names: Vec<Text<'a>>,
    /// N3 lines.
    pub address_lines: Vec<Text<'a>>,
    pub city: Option<Text<'a>>,
    pub state: Option<Text<'a>>,
    pub postal_code: Option<Text<'a>>,
    pub country: Option<Text<'a>>,
    pub references: Vec<Reference<'a>>,
    pub contacts: Vec<Contact<'a>>,
    pub position: usize,
}

/// ITD terms of sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Terms<'a> {
    pub type_code: Option<Text<'a>>,
    pub basis_date_code: Option<Text<'a>>,
    pub discount_percent: Option<Decimal>,
    pub discount_due_date: Option<NaiveDate>,
    pub discount_days: Option<i64>,
    pub net_due_date: Option<NaiveDate>,
    pub net_days: Option<i64>,
    pub discount_amount: Option<Decimal>,
    pub description: Option<Text<'a>>,
    pub day_of_month: Option<i64>,
}

impl<'a> Terms<'a> {
    /// ITD12, or words made from the codes: `2% 10 days, net 30 days`.
    pub fn text(&self) -> Option<String> {
        if let Some(d) = &self.description {
            return Some(d.to_string());
        }
        let mut parts = Vec::new();
        if let Some(p) = self.discount_percent {
            match self.discount_days {
                Some(d) => parts.push(format!("{}% {d} days", p.normalize())),
                None => parts.push(format!("{}% discount", p.normalize())),
            }
        }
        if let Some(n) = self.net_days {
            parts.push(format!("net {n} days"));
        } else if let Some(d) = self.net_due_date {
            parts.push(format!("net due {d}"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// DTM: qualifier (`011` shipped ...), date, time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateRef<'a> {
    pub qualifier: Text<'a>,
    pub date: Option<NaiveDate>,
    pub time: Option<Text<'a>>,
}

/// IT1 product/service id pair (IT106/IT107 ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductId<'a> {
    pub qualifier: Text<'a>,
    pub id: Text<'a>,
}

/// PID item description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Description<'a> {
    /// PID01: `F` free-form, `S` structured, `X` both.
    pub kind: Text<'a>,
    pub code: Option<Text<'a>>,
    pub text: Option<Text<'a>>,
}

/// TXI tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tax<'a> {
    pub tax_type: Text<'a>,
    /// TXI02 (R).
    pub amount: Option<Decimal>,
    /// TXI03 (R, "expressed as a decimal" — as written).
    pub percent: Option<Decimal>,
    pub jurisdiction_qualifier: Option<Text<'a>>,
    pub jurisdiction: Option<Text<'a>>,
    pub exempt_code: Option<Text<'a>>,
    pub position: usize,
}

/// SAC01: allowance, charge, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeIndicator {
    Allowance,
    Charge,
    /// `N` (no allowance or charge) or an unknown code: informational, not in totals.
    Neither,
}

/// SAC allowance or charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge<'a> {
    pub indicator: ChargeIndicator,
    /// SAC02 code (`D240` freight, `ZZZZ` mutually defined ...).
    pub code: Option<Text<'a>>,
    /// SAC05 (N2).
    pub amount: Option<Decimal>,
    pub percent_qualifier: Option<Text<'a>>,
    pub percent: Option<Decimal>,
    pub rate: Option<Decimal>,
    pub handling: Option<Text<'a>>,
    pub reference: Option<Text<'a>>,
    pub description: Option<Text<'a>>,
    pub position: usize,
}

impl<'a> Charge<'a> {
    /// +amount for a charge, −amount for an allowance, 0 otherwise or when there is no amount.
    pub fn signed_amount(&self) -> Decimal {
        match (self.indicator, self.amount) {
            (ChargeIndicator::Charge, Some(a)) => a,
            (ChargeIndicator::Allowance, Some(a)) => -a,
            _ => Decimal::ZERO,
        }
    }

    /// SAC15, else `Charge D240` / `Allowance ZZZZ`.
    pub fn label(&self) -> String {
        if let Some(d) = &self.description {
            return d.to_string();
        }
        let what = match self.indicator {
            ChargeIndicator::Allowance => "Allowance",
            ChargeIndicator::Charge => "Charge",
            ChargeIndicator::Neither => "Information",
        };
        match &self.code {
            Some(c) => format!("{what} {c}"),
            None => what.to_string(),
        }
    }
}

/// One IT1 loop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line<'a> {
    /// IT101 as written (often empty, `1`, or `000010`).
    pub assigned_id: Option<Text<'a>>,
    pub quantity: Option<Decimal>,
    pub unit: Option<Text<'a>>,
    pub unit_price: Option<Decimal>,
    pub price_basis: Option<Text<'a>>,
    pub product_ids: Vec<ProductId<'a>>,
    pub descriptions: Vec<Description<'a>>,
    pub taxes: Vec<Tax<'a>>,
    pub charges: Vec<Charge<'a>>,
    pub references: Vec<Reference<'a>>,
    pub dates: Vec<DateRef<'a>>,
    pub parties: Vec<PartyLoop<'a>>,
    /// Quantity × unit price rounded to cents; `None` when either is missing.
    pub extended: Option<Decimal>,
    /// Position of the IT1 in the set (ST = 1).
    pub position: usize,
}

/// Product id qualifiers in the order [`Line::item_id`] prefers them: the buyer's own item number
/// first (that is what our item mappings are keyed on), then the vendor's, then public codes.
pub const ITEM_ID_PREFERENCE: [&str; 10] = ["BP", "IN", "VP", "VN", "VC", "MG", "SK", "UP", "EN", "UI"];

impl<'a> Line<'a> {
    /// PID texts joined by a space.
    pub fn description_text(&self) -> Option<String> {
        let parts: Vec<&str> = self.descriptions.iter().filter_map(|d| d.text.as_deref()).collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }

    /// The preferred product id (see [`ITEM_ID_PREFERENCE`]), else the first one.
    pub fn item_id(&self) -> Option<&ProductId<'a>> {
        ITEM_ID_PREFERENCE
            .iter()
            .find_map(|q| self.product_ids.iter().find(|p| p.qualifier == *q))
            .or_else(|| self.product_ids.first())
    }

    /// Line-level charges − allowances.
    pub fn adjustments(&self) -> Option<Decimal> {
        self.charges.iter().try_fold(Decimal::ZERO, |acc, c| acc.checked_add(c.signed_amount()))
    }

    /// Extended amount plus line-level adjustments: the line's net amount.
    pub fn net_amount(&self) -> Option<Decimal> {
        self.extended.unwrap_or_default().checked_add(self.adjustments()?)
    }

    /// Sum of TXI02 at line level.
    pub fn tax_amount(&self) -> Option<Decimal> {
        sum_taxes(&self.taxes)
    }
}

/// At least two decimal places (`100` → `100.00`), so amounts read like money everywhere.
pub fn cents(d: Decimal) -> Decimal {
    if d.scale() >= 2 {
        return d;
    }
    let mut v = d;
    v.rescale(2);
    v
}

fn sum_taxes(taxes: &[Tax<'_>]) -> Option<Decimal> {
    taxes.iter().try_fold(Decimal::ZERO, |acc, t| acc.checked_add(t.amount.unwrap_or_default()))
}

/// TDS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals<'a> {
    /// TDS01: total invoice amount, including charges, less allowances.
    pub total: Decimal,
    pub subject_to_discount: Option<Decimal>,
    pub discounted_due: Option<Decimal>,
    pub terms_discount: Option<Decimal>,
    /// TDS01 as written, for the whole-units check.
    pub raw_total: Text<'a>,
    pub position: usize,
}

/// CTT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransactionTotals<'a> {
    pub line_count: Option<i64>,
    pub hash_total: Option<Text<'a>>,
    pub position: usize,
}

/// A segment kept as text because the mapping does not use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherSegment<'a> {
    pub id: Text<'a>,
    pub position: usize,
    pub elements: Vec<Text<'a>>,
}

/// What the soft checks computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Computed {
    /// Σ line extended amounts.
    pub lines: Decimal,
    /// Σ charges (line and summary level).
    pub charges: Decimal,
    /// Σ allowances (positive number).
    pub allowances: Decimal,
    /// Σ TXI02 (line and summary level).
    pub tax: Decimal,
    /// lines + charges − allowances.
    pub excluding_tax: Decimal,
    /// lines + charges − allowances + tax.
    pub including_tax: Decimal,
    /// Whether TDS01 was found to include tax (`None` when tax is zero or TDS matched neither).
    pub tax_in_tds: Option<bool>,
    /// Whether TDS01 matched a computed total within the tolerance.
    pub total_matches: bool,
}

/// A typed 810.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice810<'a> {
    pub release: Release,
    pub invoice_date: NaiveDate,
    pub invoice_number: Text<'a>,
    pub po_date: Option<NaiveDate>,
    pub po_number: Option<Text<'a>>,
    pub release_number: Option<Text<'a>>,
    pub change_order_sequence: Option<Text<'a>>,
    /// BIG07: `DI` debit invoice, `CR` credit memo ...
    pub transaction_type: Option<Text<'a>>,
    /// BIG08: `00` original ...
    pub purpose: Option<Text<'a>>,
    pub action: Option<Text<'a>>,
    pub consolidated_invoice: Option<Text<'a>>,
    /// CUR01 entity and CUR02 code.
    pub currency_entity: Option<Text<'a>>,
    pub currency: Option<Text<'a>>,
    pub notes: Vec<Note<'a>>,
    pub references: Vec<Reference<'a>>,
    pub contacts: Vec<Contact<'a>>,
    pub parties: Vec<PartyLoop<'a>>,
    pub terms: Vec<Terms<'a>>,
    pub dates: Vec<DateRef<'a>>,
    pub descriptions: Vec<Description<'a>>,
    pub lines: Vec<Line<'a>>,
    pub totals: Totals<'a>,
    pub taxes: Vec<Tax<'a>>,
    pub charges: Vec<Charge<'a>>,
    pub transaction_totals: Option<TransactionTotals<'a>>,
    pub other_segments: Vec<OtherSegment<'a>>,
    pub computed: Computed,
}

/// Entity codes that name the seller, in order of preference: seller, supplier, vendor, issuer of
/// invoice. The remittance parties are not among them: see [`REMIT_CODES`].
pub const SELLER_CODES: [&str; 4] = ["SE", "SU", "VN", "II"];
/// Entity codes of the payment address: RE party to receive remittance, RI remit-to. Often a
/// bank or a factor, so they name the vendor only where the partner profile says so.
pub const REMIT_CODES: [&str; 2] = ["RE", "RI"];

/// Elements of an 810 the mapping cannot do without: a missing or unreadable value in them
/// rejects the set (BIG date and number, currency, quantity and price, the TDS amounts, tax and
/// allowance/charge amounts). Every other element error is noted.
pub fn critical(segment: &[u8]) -> &'static [u8] {
    match segment {
        b"BIG" => &[1, 2],
        b"CUR" => &[2],
        b"IT1" => &[2, 4],
        b"TDS" => &[1, 2, 3, 4],
        b"TXI" => &[2],
        b"SAC" => &[5],
        _ => &[],
    }
}
/// Entity codes read as the buyer: bill-to, then buyer.
pub const BUYER_CODES: [&str; 2] = ["BT", "BY"];

impl<'a> Invoice810<'a> {
    /// The first party with one of `codes`, in the order of `codes`.
    pub fn party(&self, codes: &[&str]) -> Option<&PartyLoop<'a>> {
        codes.iter().find_map(|c| self.parties.iter().find(|p| p.entity == *c))
    }

    /// The seller: N1*SE, else SU, VN, II.
    pub fn seller(&self) -> Option<&PartyLoop<'a>> {
        self.party(&SELLER_CODES)
    }

    /// The payment address: N1*RE, else RI.
    pub fn remit_to(&self) -> Option<&PartyLoop<'a>> {
        self.party(&REMIT_CODES)
    }

    pub fn buyer(&self) -> Option<&PartyLoop<'a>> {
        self.party(&BUYER_CODES)
    }

    /// BIG07 says credit, or TDS01 is negative.
    pub fn is_credit(&self) -> bool {
        self.transaction_type.as_deref().is_some_and(|t| CREDIT_TYPES.contains(&t)) || self.totals.total < Decimal::ZERO
    }

    /// BIG04, else a heading `REF*PO`.
    pub fn purchase_order(&self) -> Option<&str> {
        self.po_number
            .as_deref()
            .or_else(|| self.references.iter().find(|r| r.qualifier == "PO").map(|r| r.value.as_ref()))
    }

    /// Net due date: ITD06, else invoice date + ITD07 days.
    pub fn due_date(&self) -> Option<NaiveDate> {
        use chrono::Datelike;
        self.terms
            .iter()
            .find_map(|t| {
                t.net_due_date.or_else(|| {
                    let days = u64::try_from(t.net_days?).ok()?;
                    self.invoice_date.checked_add_days(chrono::Days::new(days))
                })
            })
            // Net days far past ITD07's three digits can land beyond the year 9999: no due date
            // anyone can use (nor write back as CCYYMMDD); the terms stay in the invoice's terms.
            .filter(|d| d.year() <= 9999)
    }

    /// Σ summary-level TXI02.
    pub fn header_tax(&self) -> Decimal {
        sum_taxes(&self.taxes).unwrap_or_default()
    }

    /// Σ summary-level charges − allowances.
    pub fn header_adjustments(&self) -> Decimal {
        self.charges.iter().map(Charge::signed_amount).fold(Decimal::ZERO, |a, b| a.checked_add(b).unwrap_or(a))
    }

    /// The total including tax: TDS01, plus summed tax when TDS01 was found (or configured) to
    /// exclude it.
    pub fn total_including_tax(&self) -> Decimal {
        if self.computed.tax_in_tds == Some(false) {
            self.totals.total.checked_add(self.computed.tax).unwrap_or(self.totals.total)
        } else {
            self.totals.total
        }
    }
}

/// Where the builder is in the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Area {
    Heading,
    /// In the heading N1 loop at this index.
    Party(usize),
    /// In an IT1 loop; `party` when inside that line's N1 loop.
    Line {
        party: bool,
    },
    Summary,
}

/// Segments of the 810 grammar (both releases) that the mapping keeps as [`OtherSegment`]s.
const KNOWN_UNMAPPED: &[&[u8]] = &[
    b"YNQ", b"DMG", b"FOB", b"MEA", b"PWK", b"PKG", b"L7", b"BAL", b"INC", b"PAM", b"CRC", b"LM", b"LQ", b"N9", b"MSG",
    b"V1", b"R4", b"FA1", b"FA2", b"QTY", b"IT3", b"CTP", b"PO4", b"SDQ", b"CAD", b"SR", b"SLN", b"TC2", b"AMT",
    b"ISS",
];

/// Streams an 810's segments into an [`Invoice810`].
pub struct Builder<'a> {
    release: Release,
    tax_mode: TaxInTds,
    tolerance: Decimal,
    area: Area,
    big: Option<BigFields<'a>>,
    /// A BIG was there but its date or number could not be read (already reported).
    big_unreadable: bool,
    currency_entity: Option<Text<'a>>,
    currency: Option<Text<'a>>,
    notes: Vec<Note<'a>>,
    references: Vec<Reference<'a>>,
    contacts: Vec<Contact<'a>>,
    parties: Vec<PartyLoop<'a>>,
    terms: Vec<Terms<'a>>,
    dates: Vec<DateRef<'a>>,
    descriptions: Vec<Description<'a>>,
    lines: Vec<Line<'a>>,
    totals: Option<Totals<'a>>,
    tds_seen: bool,
    tds_location: Location,
    ctt_location: Location,
    taxes: Vec<Tax<'a>>,
    charges: Vec<Charge<'a>>,
    ctt: Option<TransactionTotals<'a>>,
    other: Vec<OtherSegment<'a>>,
    /// Σ of IT102 digits for the CTT02 hash rule, and Σ IT102 as decimals.
    qty_hash: u128,
    qty_sum: Decimal,
    it1_count: usize,
    last_position: usize,
    warned_latin1: bool,
    capped: Vec<&'static str>,
    _input: std::marker::PhantomData<&'a [u8]>,
}

#[derive(Debug, Clone)]
struct BigFields<'a> {
    invoice_date: NaiveDate,
    invoice_number: Text<'a>,
    po_date: Option<NaiveDate>,
    po_number: Option<Text<'a>>,
    release_number: Option<Text<'a>>,
    change_order_sequence: Option<Text<'a>>,
    transaction_type: Option<Text<'a>>,
    purpose: Option<Text<'a>>,
    action: Option<Text<'a>>,
    consolidated_invoice: Option<Text<'a>>,
}

/// Per-segment context: the segment, its elements, its position in the set, and the elements
/// the validator could not read.
struct Ctx<'s, 'a> {
    seg: &'s Segment<'a>,
    f: &'s Fields<'a>,
    pos: usize,
    bad: Unreadable,
}

impl<'s, 'a> Ctx<'s, 'a> {
    fn loc(&self, element: usize) -> Location {
        let mut l = self.seg.location();
        l.set_position = Some(self.pos);
        if element > 0 {
            l.element = Some(element);
        }
        l
    }

    /// The raw value of element `n` when it is present and was readable.
    fn value(&self, n: usize) -> Option<&'a [u8]> {
        (self.f.has(n) && !self.bad.contains(n)).then(|| self.f.get(n))
    }
}

fn push_capped<T>(v: &mut Vec<T>, item: T, cap: usize) -> bool {
    if v.len() < cap {
        // Most of these lists hold one or two items: start small instead of at four.
        if v.capacity() == 0 {
            v.reserve_exact(1);
        }
        v.push(item);
        true
    } else {
        false
    }
}

impl<'a> Builder<'a> {
    pub fn new(release: Release, opts: &ParseOptions) -> Self {
        Builder {
            release,
            tax_mode: opts.tax_in_tds,
            tolerance: opts.tolerance.0,
            area: Area::Heading,
            big: None,
            big_unreadable: false,
            currency_entity: None,
            currency: None,
            notes: Vec::new(),
            references: Vec::new(),
            contacts: Vec::new(),
            parties: Vec::new(),
            terms: Vec::new(),
            dates: Vec::new(),
            descriptions: Vec::new(),
            lines: Vec::new(),
            totals: None,
            tds_seen: false,
            tds_location: Location::default(),
            ctt_location: Location::default(),
            taxes: Vec::new(),
            charges: Vec::new(),
            ctt: None,
            other: Vec::new(),
            qty_hash: 0,
            qty_sum: Decimal::ZERO,
            it1_count: 0,
            last_position: 1,
            warned_latin1: false,
            capped: Vec::new(),
            _input: std::marker::PhantomData,
        }
    }

    fn text(&mut self, c: &Ctx<'_, 'a>, n: usize, out: &mut Findings) -> Option<Text<'a>> {
        let raw = c.f.get(n);
        if values::trim(raw).is_empty() {
            return None;
        }
        let (t, latin1) = values::text_escaped(raw, c.seg.delimiters.release);
        if latin1 && !self.warned_latin1 {
            self.warned_latin1 = true;
            out.warn(Warning::new(WarningKind::TextNotUtf8, Some(c.loc(n)), "text is not UTF-8; read as Latin-1"));
        }
        Some(t)
    }

    fn cap_reached(&mut self, what: &'static str, c: &Ctx<'_, 'a>, cap: usize, out: &mut Findings) {
        if !self.capped.contains(&what) {
            self.capped.push(what);
            out.error(
                X12Error::new(ErrorKind::LimitExceeded, c.loc(0), format!("{what} repeats more than {cap} times"))
                    .with_expected(format!("at most {cap}"))
                    .noted(),
            );
        }
    }

    /// An R element; the validator has reported anything unreadable.
    fn real(c: &Ctx<'_, 'a>, n: usize) -> Option<Decimal> {
        c.value(n).and_then(|raw| values::real(raw).ok())
    }

    /// An N2 element, read as written when it carries a decimal point (the validator warned).
    fn implied(c: &Ctx<'_, 'a>, n: usize) -> Option<Decimal> {
        c.value(n).and_then(|raw| values::implied2(raw).ok()).map(|(d, _)| d)
    }

    fn date(c: &Ctx<'_, 'a>, n: usize) -> Option<NaiveDate> {
        c.value(n).and_then(|raw| values::date(raw).ok()).map(|(d, _)| d)
    }

    fn int(c: &Ctx<'_, 'a>, n: usize) -> Option<i64> {
        c.value(n).and_then(|raw| values::integer(raw).ok())
    }

    fn keep_other(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        let release = c.seg.delimiters.release;
        let elements =
            c.seg.elements().take(crate::lexer::MAX_FIELDS).map(|e| values::text_escaped(e, release).0).collect();
        let seg = OtherSegment { id: String::from_utf8_lossy(c.seg.id), position: c.pos, elements };
        if !push_capped(&mut self.other, seg, MAX_REPEAT) {
            self.cap_reached("kept unmapped segments", c, MAX_REPEAT, out);
        }
    }

    fn order_warning(&self, c: &Ctx<'_, 'a>, what: &str, out: &mut Findings) {
        out.warn(Warning::new(WarningKind::SegmentOrder, Some(c.loc(0)), what.to_string()));
    }

    /// One segment of the set (not ST/SE), already checked by the validator; `bad` are the
    /// elements it could not read.
    pub fn segment(&mut self, seg: &Segment<'a>, f: &Fields<'a>, pos: usize, bad: Unreadable, out: &mut Findings) {
        let c = Ctx { seg, f, pos, bad };
        self.last_position = pos;
        match seg.id {
            b"BIG" => self.big(&c, out),
            b"NTE" => {
                let text = self.text(&c, 2, out).unwrap_or_default();
                let note = Note { code: self.text(&c, 1, out), text };
                if !push_capped(&mut self.notes, note, MAX_REPEAT) {
                    self.cap_reached("NTE", &c, MAX_REPEAT, out);
                }
            }
            b"CUR" => self.cur(&c, out),
            b"REF" => self.reference(&c, out),
            b"PER" => self.per(&c, out),
            b"N1" => self.n1(&c, out),
            b"N2" | b"N3" | b"N4" => self.party_detail(&c, out),
            b"ITD" => self.itd(&c, out),
            b"DTM" => self.dtm(&c, out),
            b"PID" => self.pid(&c, out),
            b"IT1" => self.it1(&c, out),
            b"TXI" => self.txi(&c, out),
            b"SAC" => self.sac(&c, out),
            b"TDS" => self.tds(&c, out),
            b"CTT" => self.ctt(&c, out),
            id if KNOWN_UNMAPPED.contains(&id) => self.keep_other(&c, out),
            _ => {
                out.warn(Warning::new(
                    WarningKind::UnknownSegment,
                    Some(c.loc(0)),
                    format!("segment {} is not part of the 810 grammar; kept, not mapped", seg.id_str()),
                ));
                self.keep_other(&c, out);
            }
        }
    }

    fn big(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        if self.big.is_some() || self.big_unreadable {
            out.error(X12Error::new(ErrorKind::UnexpectedSegment, c.loc(0), "second BIG in one invoice").noted());
            return;
        }
        if c.pos != 2 {
            self.order_warning(c, "BIG should directly follow ST", out);
        }
        if self.area != Area::Heading && !matches!(self.area, Area::Party(_)) {
            out.error(X12Error::new(ErrorKind::UnexpectedSegment, c.loc(0), "BIG after the heading area"));
        }
        // BIG01 and BIG02 are mandatory and critical: the validator rejected the set if either is
        // missing or unreadable.
        let date = Self::date(c, 1);
        let number = if c.bad.contains(2) { None } else { self.text(c, 2, out) };
        let fields = BigFields {
            invoice_date: date.unwrap_or_default(),
            invoice_number: number.clone().unwrap_or_default(),
            po_date: Self::date(c, 3),
            po_number: self.text(c, 4, out),
            release_number: self.text(c, 5, out),
            change_order_sequence: self.text(c, 6, out),
            transaction_type: self.text(c, 7, out),
            purpose: self.text(c, 8, out),
            action: self.text(c, 9, out),
            consolidated_invoice: self.text(c, 10, out),
        };
        match (date, number) {
            (Some(_), Some(_)) => self.big = Some(fields),
            _ => self.big_unreadable = true,
        }
    }

    fn cur(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        if matches!(self.area, Area::Line { .. }) {
            self.keep_other(c, out);
            return;
        }
        if c.bad.contains(2) {
            return;
        }
        let code = self.text(c, 2, out);
        match &code {
            Some(code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) => {}
            _ => {
                out.error(
                    X12Error::new(ErrorKind::InvalidCode, c.loc(2), "currency code")
                        .with_expected("an ISO 4217 code such as USD")
                        .with_found(values::shown(c.f.get(2))),
                );
                return;
            }
        }
        self.currency_entity = self.text(c, 1, out);
        self.currency = code
            .map(|s| if s.bytes().all(|b| b.is_ascii_uppercase()) { s } else { Cow::Owned(s.to_ascii_uppercase()) });
        self.leave_party();
    }

    fn leave_party(&mut self) {
        if matches!(self.area, Area::Party(_)) {
            self.area = Area::Heading;
        }
    }

    fn reference(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        let qualifier = self.text(c, 1, out);
        let Some(qualifier) = qualifier else { return };
        let r =
            Reference { qualifier, value: self.text(c, 2, out).unwrap_or_default(), description: self.text(c, 3, out) };
        let pushed = match self.area {
            Area::Party(i) => self.parties.get_mut(i).map(|p| push_capped(&mut p.references, r, MAX_REPEAT)),
            Area::Line { .. } => self.lines.last_mut().map(|l| push_capped(&mut l.references, r, MAX_REPEAT)),
            Area::Heading => Some(push_capped(&mut self.references, r, MAX_REPEAT)),
            Area::Summary => {
                self.order_warning(c, "REF in the summary area; kept with the heading references", out);
                Some(push_capped(&mut self.references, r, MAX_REPEAT))
            }
        };
        if pushed == Some(false) {
            self.cap_reached("REF", c, MAX_REPEAT, out);
        }
    }

    fn per(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        let mut communications = Vec::new();
        for i in (3..=8).step_by(2) {
            if let (Some(q), Some(v)) = (self.text(c, i, out), self.text(c, i + 1, out)) {
                communications.push((q, v));
            }
        }
        let contact =
            Contact { function: self.text(c, 1, out).unwrap_or_default(), name: self.text(c, 2, out), communications };
        let pushed = match self.area {
            Area::Party(i) => self.parties.get_mut(i).map(|p| push_capped(&mut p.contacts, contact, MAX_REPEAT)),
            Area::Heading => Some(push_capped(&mut self.contacts, contact, MAX_REPEAT)),
            _ => {
                self.keep_other(c, out);
                None
            }
        };
        if pushed == Some(false) {
            self.cap_reached("PER", c, MAX_REPEAT, out);
        }
    }

    fn n1(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        let entity = self.text(c, 1, out);
        let Some(entity) = entity else { return };
        let name = self.text(c, 2, out);
        let party = PartyLoop {
            entity,
            name,
            id_qualifier: self.text(c, 3, out),
            id: self.text(c, 4, out),
            extra_names: Vec::new(),
            address_lines: Vec::new(),
            city: None,
            state: None,
            postal_code: None,
            country: None,
            references: Vec::new(),
            contacts: Vec::new(),
            position: c.pos,
        };
        match self.area {
            Area::Line { .. } => {
                if let Some(l) = self.lines.last_mut() {
                    if !push_capped(&mut l.parties, party, MAX_REPEAT) {
                        self.cap_reached("N1 in IT1 loop", c, MAX_REPEAT, out);
                    }
                    self.area = Area::Line { party: true };
                }
            }
            Area::Summary => {
                out.error(X12Error::new(ErrorKind::UnexpectedSegment, c.loc(0), "N1 in the summary area").noted());
            }
            Area::Heading | Area::Party(_) => {
                if self.parties.len() >= 200 {
                    self.cap_reached("N1 loop", c, 200, out);
                    self.area = Area::Heading;
                    return;
                }
                self.parties.push(party);
                self.area = Area::Party(self.parties.len() - 1);
            }
        }
    }

    fn current_party(&mut self) -> Option<&mut PartyLoop<'a>> {
        match self.area {
            Area::Party(i) => self.parties.get_mut(i),
            Area::Line { party: true } => self.lines.last_mut().and_then(|l| l.parties.last_mut()),
            _ => None,
        }
    }

    fn party_detail(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        let id = c.seg.id;
        let texts: Vec<Option<Text<'a>>> = (1..=4).map(|n| self.text(c, n, out)).collect();
        let Some(p) = self.current_party() else {
            out.error(
                X12Error::new(ErrorKind::UnexpectedSegment, c.loc(0), format!("{} outside an N1 loop", c.seg.id_str()))
                    .noted(),
            );
            return;
        };
        let mut capped = false;
        match id {
            b"N2" => {
                for t in texts.into_iter().take(2).flatten() {
                    capped |= !push_capped(&mut p.extra_names, t, 10);
                }
            }
            b"N3" => {
                for t in texts.into_iter().take(2).flatten() {
                    capped |= !push_capped(&mut p.address_lines, t, 10);
                }
            }
            _ => {
                let mut it = texts.into_iter();
                p.city = it.next().flatten();
                p.state = it.next().flatten();
                p.postal_code = it.next().flatten();
                p.country = it.next().flatten();
            }
        }
        if capped {
            self.cap_reached("N2/N3", c, 10, out);
        }
    }

    fn itd(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        if matches!(self.area, Area::Line { .. } | Area::Summary) {
            self.keep_other(c, out);
            return;
        }
        self.leave_party();
        let t = Terms {
            type_code: self.text(c, 1, out),
            basis_date_code: self.text(c, 2, out),
            discount_percent: Self::real(c, 3),
            discount_due_date: Self::date(c, 4),
            discount_days: Self::int(c, 5),
            net_due_date: Self::date(c, 6),
            net_days: Self::int(c, 7),
            discount_amount: Self::implied(c, 8),
            description: self.text(c, 12, out),
            day_of_month: Self::int(c, 13),
        };
        if let (Some(d), Some(big)) = (t.net_due_date, &self.big)
            && d < big.invoice_date
        {
            out.warn(Warning::new(
                WarningKind::InconsistentDate,
                Some(c.loc(6)),
                format!("net due date {d} is before the invoice date {}", big.invoice_date),
            ));
        }
        if !push_capped(&mut self.terms, t, MAX_REPEAT) {
            self.cap_reached("ITD", c, MAX_REPEAT, out);
        }
    }

    fn dtm(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        let d = DateRef {
            qualifier: self.text(c, 1, out).unwrap_or_default(),
            date: Self::date(c, 2),
            time: if c.bad.contains(3) { None } else { self.text(c, 3, out) },
        };
        let pushed = match self.area {
            Area::Line { .. } => self.lines.last_mut().map(|l| push_capped(&mut l.dates, d, MAX_REPEAT)),
            _ => {
                self.leave_party();
                Some(push_capped(&mut self.dates, d, MAX_REPEAT))
            }
        };
        if pushed == Some(false) {
            self.cap_reached("DTM", c, MAX_REPEAT, out);
        }
    }

    fn pid(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        let d = Description {
            kind: self.text(c, 1, out).unwrap_or_default(),
            code: self.text(c, 4, out),
            text: self.text(c, 5, out),
        };
        let pushed = match self.area {
            Area::Line { .. } => self.lines.last_mut().map(|l| push_capped(&mut l.descriptions, d, MAX_REPEAT)),
            Area::Summary => {
                self.keep_other(c, out);
                None
            }
            _ => {
                self.leave_party();
                Some(push_capped(&mut self.descriptions, d, MAX_REPEAT))
            }
        };
        if pushed == Some(false) {
            self.cap_reached("PID", c, MAX_REPEAT, out);
        }
    }

    fn it1(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        if self.area == Area::Summary {
            self.order_warning(c, "IT1 after TDS; read as a line anyway", out);
        }
        self.it1_count += 1;
        if self.lines.len() >= MAX_LINES {
            self.cap_reached("IT1 loop", c, MAX_LINES, out);
            // The cap error is noted only once; it must reject the set.
            if let Some(e) = out.errors.iter_mut().rev().find(|e| e.kind == ErrorKind::LimitExceeded) {
                e.severity = crate::error::Severity::Reject;
            }
            self.area = Area::Line { party: false };
            return;
        }
        if !(c.f.has(2) || c.f.has(4) || (6..c.f.len()).any(|n| c.f.has(n))) {
            // Nothing to invoice: no quantity, price or product id. Reported (and so counted
            // against the file's error budget) instead of kept as an empty line.
            out.error(
                X12Error::new(ErrorKind::MissingElement, c.loc(2), "IT1 has no quantity, unit price or product id")
                    .with_expected("IT102/IT104 or an IT106/IT107 pair")
                    .noted(),
            );
            self.area = Area::Line { party: false };
            return;
        }
        // IT102/IT104 are critical: the validator rejected the set if either is unreadable. That
        // quantity, unit and price come together is syntax note P020304, also the validator's.
        let quantity = Self::real(c, 2);
        let unit_price = Self::real(c, 4);
        let unit = self.text(c, 3, out);
        if c.f.has(2)
            && let Some(h) = values::hash_digits(c.f.get(2))
        {
            self.qty_hash = self.qty_hash.wrapping_add(h);
        }
        if let Some(q) = quantity {
            self.qty_sum = self.qty_sum.checked_add(q).unwrap_or(self.qty_sum);
        }
        // Sized from the segment itself (at most MAX_FIELDS elements), never from a count field.
        let mut product_ids = Vec::with_capacity(c.f.len().saturating_sub(4) / 2);
        let mut n = 6;
        while n < c.f.len() {
            let (q, id) = (self.text(c, n, out), self.text(c, n + 1, out));
            // An unpaired qualifier or id breaks a P note the validator reports; it is not kept.
            if let (Some(qualifier), Some(id)) = (q, id) {
                product_ids.push(ProductId { qualifier, id });
            }
            n += 2;
        }
        let extended = match (quantity, unit_price) {
            (Some(q), Some(p)) => match q.checked_mul(p) {
                Some(x) => Some(cents(x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero))),
                None => {
                    out.error(
                        X12Error::new(ErrorKind::InvalidNumber, c.loc(2), "quantity × unit price")
                            .with_found("a product too large to hold"),
                    );
                    None
                }
            },
            _ => None,
        };
        let assigned_id = self.text(c, 1, out);
        let price_basis = self.text(c, 5, out);
        self.lines.push(Line {
            assigned_id,
            quantity,
            unit,
            unit_price,
            price_basis,
            product_ids,
            descriptions: Vec::new(),
            taxes: Vec::new(),
            charges: Vec::new(),
            references: Vec::new(),
            dates: Vec::new(),
            parties: Vec::new(),
            extended,
            position: c.pos,
        });
        self.area = Area::Line { party: false };
    }

    fn txi(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        let t = Tax {
            tax_type: self.text(c, 1, out).unwrap_or_default(),
            amount: Self::real(c, 2),
            percent: Self::real(c, 3),
            jurisdiction_qualifier: self.text(c, 4, out),
            jurisdiction: self.text(c, 5, out),
            exempt_code: self.text(c, 6, out),
            position: c.pos,
        };
        // At least one of TXI02/03/06 is syntax note R020306, the validator's.
        if t.amount.is_none() && t.percent.is_some_and(|p| !p.is_zero()) {
            out.warn(Warning::new(
                WarningKind::AmountMissing,
                Some(c.loc(2)),
                "tax has a percent but no amount; not included in totals",
            ));
        }
        let pushed = match self.area {
            Area::Line { .. } => self.lines.last_mut().map(|l| push_capped(&mut l.taxes, t, MAX_REPEAT)),
            Area::Summary => Some(push_capped(&mut self.taxes, t, MAX_REPEAT)),
            _ => {
                self.order_warning(c, "TXI in the heading area; counted as invoice-level tax", out);
                self.leave_party();
                Some(push_capped(&mut self.taxes, t, MAX_REPEAT))
            }
        };
        if pushed == Some(false) {
            self.cap_reached("TXI", c, MAX_REPEAT, out);
        }
    }

    fn sac(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        // SAC01 outside its code list (A, C, N) is the validator's to report; it counts as neither.
        let indicator = match values::trim(c.f.get(1)) {
            b"A" => ChargeIndicator::Allowance,
            b"C" => ChargeIndicator::Charge,
            _ => ChargeIndicator::Neither,
        };
        let ch = Charge {
            indicator,
            code: self.text(c, 2, out),
            amount: Self::implied(c, 5),
            percent_qualifier: self.text(c, 6, out),
            percent: Self::real(c, 7),
            rate: Self::real(c, 8),
            handling: self.text(c, 12, out),
            reference: self.text(c, 13, out),
            description: self.text(c, 15, out),
            position: c.pos,
        };
        // "SAC05, SAC07 or SAC08 when SAC01 is A or C" is a dictionary comment: the validator
        // warns when all three are missing.
        if indicator != ChargeIndicator::Neither && !c.f.has(5) && (c.f.has(7) || c.f.has(8)) {
            out.warn(Warning::new(
                WarningKind::AmountMissing,
                Some(c.loc(5)),
                "allowance/charge given as a percent or rate only; not included in totals",
            ));
        }
        let pushed = match self.area {
            Area::Line { .. } => self.lines.last_mut().map(|l| push_capped(&mut l.charges, ch, MAX_REPEAT)),
            Area::Summary => Some(push_capped(&mut self.charges, ch, MAX_REPEAT)),
            _ => {
                self.order_warning(c, "SAC in the heading area; counted as an invoice-level charge", out);
                self.leave_party();
                Some(push_capped(&mut self.charges, ch, MAX_REPEAT))
            }
        };
        if pushed == Some(false) {
            self.cap_reached("SAC", c, MAX_REPEAT, out);
        }
    }

    fn tds(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        if self.tds_seen {
            out.error(X12Error::new(ErrorKind::UnexpectedSegment, c.loc(0), "second TDS in one invoice"));
            return;
        }
        self.tds_seen = true;
        self.tds_location = c.loc(0);
        self.area = Area::Summary;
        // TDS01 is mandatory and critical: the validator rejected the set if it is unreadable.
        let Some(total) = Self::implied(c, 1) else { return };
        let subject_to_discount = Self::implied(c, 2);
        let discounted_due = Self::implied(c, 3);
        let terms_discount = Self::implied(c, 4);
        self.totals = Some(Totals {
            total,
            subject_to_discount,
            discounted_due,
            terms_discount,
            raw_total: values::text_cow(c.f.get(1)).0,
            position: c.pos,
        });
    }

    fn ctt(&mut self, c: &Ctx<'_, 'a>, out: &mut Findings) {
        if !self.tds_seen {
            self.order_warning(c, "CTT before TDS", out);
        }
        self.ctt_location = c.loc(0);
        let line_count = Self::int(c, 1);
        let hash_total = if c.bad.contains(2) { None } else { self.text(c, 2, out) };
        self.ctt = Some(TransactionTotals { line_count, hash_total, position: c.pos });
    }

    /// Ends the set: mandatory-segment checks, soft checks, and the typed invoice if BIG and TDS
    /// were readable.
    pub fn finish(mut self, st: &Location, out: &mut Findings) -> Option<Invoice810<'a>> {
        let mut set_loc = st.clone();
        set_loc.element = None;
        if self.big.is_none() && !self.big_unreadable {
            let mut l = set_loc.clone();
            l.segment = "BIG".into();
            // Where it belongs: right after ST.
            l.set_position = Some(2);
            out.error(X12Error::new(ErrorKind::MissingSegment, l, "beginning segment for invoice (BIG) is missing"));
        }
        if !self.tds_seen {
            let mut l = set_loc.clone();
            l.segment = "TDS".into();
            // Where it belongs: after the last segment read (before SE).
            l.set_position = Some(self.last_position + 1);
            out.error(X12Error::new(ErrorKind::MissingSegment, l, "total monetary value summary (TDS) is missing"));
        }
        let (big, totals) = (self.big.take()?, self.totals.take()?);
        let computed = self.soft_checks(&big, &totals, out);
        Some(Invoice810 {
            release: self.release,
            invoice_date: big.invoice_date,
            invoice_number: big.invoice_number,
            po_date: big.po_date,
            po_number: big.po_number,
            release_number: big.release_number,
            change_order_sequence: big.change_order_sequence,
            transaction_type: big.transaction_type,
            purpose: big.purpose,
            action: big.action,
            consolidated_invoice: big.consolidated_invoice,
            currency_entity: self.currency_entity,
            currency: self.currency,
            notes: self.notes,
            references: self.references,
            contacts: self.contacts,
            parties: self.parties,
            terms: self.terms,
            dates: self.dates,
            descriptions: self.descriptions,
            lines: self.lines,
            totals,
            taxes: self.taxes,
            charges: self.charges,
            transaction_totals: self.ctt,
            other_segments: self.other,
            computed,
        })
    }

    fn soft_checks(&self, _big: &BigFields<'a>, totals: &Totals<'a>, out: &mut Findings) -> Computed {
        let tds_loc = |element: usize| self.tds_location.clone().element(element);
        let mut c = Computed::default();
        let mut overflow = false;
        let mut add = |acc: &mut Decimal, v: Decimal| match acc.checked_add(v) {
            Some(s) => *acc = s,
            None => overflow = true,
        };
        let mut missing_amounts = 0usize;
        for l in &self.lines {
            match l.extended {
                Some(x) => add(&mut c.lines, x),
                None => missing_amounts += 1,
            }
            for ch in &l.charges {
                match ch.indicator {
                    ChargeIndicator::Charge => add(&mut c.charges, ch.amount.unwrap_or_default()),
                    ChargeIndicator::Allowance => add(&mut c.allowances, ch.amount.unwrap_or_default()),
                    ChargeIndicator::Neither => {}
                }
            }
            for t in &l.taxes {
                add(&mut c.tax, t.amount.unwrap_or_default());
            }
        }
        for ch in &self.charges {
            match ch.indicator {
                ChargeIndicator::Charge => add(&mut c.charges, ch.amount.unwrap_or_default()),
                ChargeIndicator::Allowance => add(&mut c.allowances, ch.amount.unwrap_or_default()),
                ChargeIndicator::Neither => {}
            }
        }
        for t in &self.taxes {
            add(&mut c.tax, t.amount.unwrap_or_default());
        }
        let excl = c.lines.checked_add(c.charges).and_then(|v| v.checked_sub(c.allowances));
        let incl = excl.and_then(|v| v.checked_add(c.tax));
        let (Some(excl), Some(incl), false) = (excl, incl, overflow) else {
            out.error(
                X12Error::new(ErrorKind::InvalidNumber, tds_loc(1), "sum of line, charge and tax amounts")
                    .with_found("a sum too large to hold"),
            );
            return c;
        };
        c.excluding_tax = cents(excl);
        c.including_tax = cents(incl);
        c.lines = cents(c.lines);
        c.charges = cents(c.charges);
        c.allowances = cents(c.allowances);
        c.tax = cents(c.tax);
        let (excl, incl) = (c.excluding_tax, c.including_tax);
        if missing_amounts > 0 {
            out.warn(Warning::new(
                WarningKind::IncompleteLine,
                None,
                format!("{missing_amounts} line(s) without quantity or unit price counted as 0 in the totals check"),
            ));
        }
        let tol = self.tolerance;
        let near = |a: Decimal, b: Decimal| a.checked_sub(b).is_some_and(|d| d.abs() <= tol);
        let total = totals.total;
        let (ok_incl, ok_excl) = (near(total, incl), near(total, excl));
        c.total_matches = match self.tax_mode {
            TaxInTds::Auto => ok_incl || ok_excl,
            TaxInTds::Included => ok_incl,
            TaxInTds::Excluded => ok_excl,
        };
        c.tax_in_tds = match self.tax_mode {
            TaxInTds::Included => Some(true),
            TaxInTds::Excluded => Some(false),
            TaxInTds::Auto if c.tax.is_zero() => None,
            TaxInTds::Auto if ok_incl => Some(true),
            TaxInTds::Auto if ok_excl => Some(false),
            TaxInTds::Auto => None,
        };
        if !c.total_matches {
            // Whole units are rounded to a unit, so half a unit is the tolerance here.
            let whole_units = Decimal::from(100).checked_mul(total);
            let half = Decimal::new(5, 1);
            let near_unit = |a: Decimal, b: Decimal| a.checked_sub(b).is_some_and(|d| d.abs() <= half);
            let looks_whole = !totals.raw_total.contains('.')
                && whole_units.is_some_and(|w| near_unit(w, incl) || near_unit(w, excl))
                && incl.abs() >= Decimal::ONE;
            let expected = match self.tax_mode {
                TaxInTds::Excluded => excl,
                _ => incl,
            };
            if looks_whole {
                out.warn(Warning::new(
                    WarningKind::TotalInWholeUnits,
                    Some(tds_loc(1)),
                    format!(
                        "TDS01 {} matches the lines only read as whole currency units ({}), not with two implied decimals ({total}); not rescaled",
                        totals.raw_total,
                        whole_units.unwrap_or_default()
                    ),
                ));
            } else {
                out.warn(Warning::new(
                    WarningKind::TotalMismatch,
                    Some(tds_loc(1)),
                    format!(
                        "TDS01 total {total} differs from lines {} + charges {} − allowances {}{} = {expected} by {}",
                        c.lines,
                        c.charges,
                        c.allowances,
                        if self.tax_mode == TaxInTds::Excluded { String::new() } else { format!(" + tax {}", c.tax) },
                        total.checked_sub(expected).unwrap_or_default()
                    ),
                ));
            }
        }
        if let Some(ctt) = &self.ctt {
            let ctt_loc = |element: usize| self.ctt_location.clone().element(element);
            if let Some(n) = ctt.line_count
                && usize::try_from(n).ok() != Some(self.it1_count)
            {
                out.warn(Warning::new(
                    WarningKind::LineCountMismatch,
                    Some(ctt_loc(1)),
                    format!("CTT01 says {n} line items; the invoice has {} IT1 segments", self.it1_count),
                ));
            }
            if let Some(h) = &ctt.hash_total
                && !self.hash_matches(h)
            {
                out.warn(Warning::new(
                    WarningKind::HashTotalMismatch,
                    Some(ctt_loc(2)),
                    format!(
                        "CTT02 hash total {h} does not match the IT102 quantities (digit sum {}, sum {})",
                        self.qty_hash,
                        self.qty_sum.normalize()
                    ),
                ));
            }
        }
        c
    }

    /// CTT02 = Σ IT102 "without regard to decimal points or signs", truncated on the left to the
    /// field's size; senders that send the plain sum of quantities are accepted too.
    fn hash_matches(&self, h: &str) -> bool {
        // Also accepted: the plain sum of quantities, as a number (`7.5`) or with its point
        // dropped (`75`), which is what many senders compute.
        if values::real(h.as_bytes()).is_ok_and(|v| v == self.qty_sum) {
            return true;
        }
        let plain = values::hash_digits(self.qty_sum.normalize().to_string().as_bytes());
        if plain.is_some() && plain == values::hash_digits(h.as_bytes()) {
            return true;
        }
        let Some(given) = values::hash_digits(h.as_bytes()) else { return false };
        let width = h.bytes().filter(u8::is_ascii_digit).count().min(38) as u32;
        let modulus = 10u128.checked_pow(width);
        match modulus {
            Some(m) => self.qty_hash % m == given,
            None => self.qty_hash == given,
        }
    }
}
