//! The canonical finance records every flow speaks.
//!
//! Sources are decoded into these shapes at the edge, mapped (source codes → target codes), and
//! encoded into the target's shape at the other edge. Records whose arithmetic matters (invoices,
//! journal entries, purchase orders) are validated when they are built: a value of type
//! [`ApInvoice`] always has a currency, at least one line, lines that sum to its header within the
//! stated [`Tolerance`], and one currency throughout. Build them from their `*Draft` twin with
//! `try_new`; read them through `Deref` to the draft's public fields. Deserialising runs the same
//! checks, so a stored record cannot skip them.

use std::fmt;
use std::ops::Deref;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Tolerance};

/// Where a record came from: system, entity, id and the version that was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SourceRef {
    /// System id, lower-case: `cin7`, `deltek`, `acumatica`, `procore`, `coupa`, `cleo`.
    pub system: String,
    /// Entity name in that system: `purchase`, `supplier`, `invoice`, `810-file` ...
    pub entity: String,
    pub id: String,
    /// Last-modified stamp or content hash of what was read.
    pub version: String,
}

/// A record that failed validation, with the field that was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{record} {id}: {field}: {problem}")]
pub struct ValidationError {
    /// Record type: `AP invoice`, `journal entry` ...
    pub record: &'static str,
    /// The record's own number or id, for the person reading the message.
    pub id: String,
    pub field: String,
    pub problem: String,
}

fn invalid(record: &'static str, id: &str, field: impl Into<String>, problem: impl Into<String>) -> ValidationError {
    ValidationError { record, id: id.to_string(), field: field.into(), problem: problem.into() }
}

/// Active or not: inactive vendors and accounts cannot take new postings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Active,
    Inactive,
}

/// What an address is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    Main,
    /// Where payments go (Deltek "Payment" address, Coupa remit-to).
    RemitTo,
    Billing,
    Shipping,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub kind: AddressKind,
    pub lines: Vec<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postcode: Option<String>,
    /// ISO 3166 country code or name as the source gave it.
    pub country: Option<String>,
}

/// A supplier / vendor firm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vendor {
    pub source: Option<SourceRef>,
    /// The vendor's code in the system this record belongs to (Deltek vendor number, Cin7 supplier id ...).
    pub code: String,
    pub name: String,
    pub tax_id: Option<String>,
    pub currency: Option<Currency>,
    pub payment_terms: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub addresses: Vec<Address>,
    pub status: Status,
}

impl Vendor {
    /// Checks that a vendor can be written anywhere: it has a code and a name.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.code.trim().is_empty() {
            return Err(invalid("vendor", &self.name, "code", "is empty"));
        }
        if self.name.trim().is_empty() {
            return Err(invalid("vendor", &self.code, "name", "is empty"));
        }
        Ok(())
    }

    /// The remit-to address if there is one, else the main address.
    pub fn remit_to(&self) -> Option<&Address> {
        self.addresses
            .iter()
            .find(|a| a.kind == AddressKind::RemitTo)
            .or_else(|| self.addresses.iter().find(|a| a.kind == AddressKind::Main))
    }
}

/// Kind of GL account, as far as posting rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Asset,
    Liability,
    Equity,
    Revenue,
    /// Expense chargeable to a regular project (Deltek reimbursable / direct).
    DirectExpense,
    /// Overhead expense (Deltek indirect).
    IndirectExpense,
    Expense,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GlAccount {
    pub code: String,
    pub name: String,
    pub kind: AccountKind,
    pub status: Status,
}

/// A project position, as segments from the top down: Deltek's WBS1/WBS2/WBS3 (project / phase /
/// task), Acumatica's project + task, Procore's project + cost code. Core gives no segment a
/// vendor meaning; each connector reads the segments its system has. A blank *inner* segment is
/// kept as `None` (Deltek `X||T1`: a task under no phase); trailing blanks are dropped; the top
/// segment is never blank.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProjectRef {
    top: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    below: Vec<Option<String>>,
}

impl ProjectRef {
    /// A project with no lower levels.
    pub fn new(top: impl Into<String>) -> Self {
        ProjectRef { top: top.into(), below: Vec::new() }
    }

    /// From segments top-down (blank segments are `None`); `None` when the top segment is blank.
    pub fn from_segments<I, S>(segments: I) -> Option<ProjectRef>
    where
        I: IntoIterator<Item = Option<S>>,
        S: Into<String>,
    {
        let mut it = segments.into_iter().map(|s| s.map(Into::into).map(|s: String| s.trim().to_string()));
        let top = it.next().flatten().filter(|t| !t.is_empty())?;
        let mut below: Vec<Option<String>> = it.map(|s| s.filter(|v| !v.is_empty())).collect();
        while below.last().is_some_and(Option::is_none) {
            below.pop();
        }
        Some(ProjectRef { top, below })
    }

    /// Parse `A|B|C` (trailing levels optional, blanks ignored) — the form mapping tables use.
    pub fn parse_key(key: &str) -> Option<ProjectRef> {
        ProjectRef::from_segments(key.split('|').map(Some))
    }

    /// The top segment (Deltek WBS1, Acumatica project, Procore project).
    pub fn top(&self) -> &str {
        &self.top
    }

    /// Segment `i` (0 = top), `None` when absent or blank.
    pub fn segment(&self, i: usize) -> Option<&str> {
        if i == 0 { Some(&self.top) } else { self.below.get(i - 1).and_then(|s| s.as_deref()) }
    }

    /// How many segments are present (blank inner segments count).
    pub fn depth(&self) -> usize {
        1 + self.below.len()
    }

    /// The project with only its first `n` segments (the parent of a phase or task).
    pub fn truncated(&self, n: usize) -> ProjectRef {
        let mut p = self.clone();
        p.below.truncate(n.saturating_sub(1));
        while p.below.last().is_some_and(Option::is_none) {
            p.below.pop();
        }
        p
    }

    /// `A|B|C` with empty levels omitted from the end.
    pub fn key(&self) -> String {
        let mut k = self.top.clone();
        for s in &self.below {
            k.push('|');
            k.push_str(s.as_deref().unwrap_or(""));
        }
        k
    }
}

impl fmt::Display for ProjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// Invoice or credit memo. A credit memo carries positive amounts in its source; targets that have
/// no credit-memo document take it as an invoice with negated amounts ([`ApInvoice::signed_total`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    #[default]
    Invoice,
    CreditMemo,
}

/// One line of a supplier bill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApLine {
    /// 1-based position as in the source.
    pub line_no: u32,
    pub description: String,
    /// GL account code (source code before mapping, target code after).
    pub account: String,
    pub project: Option<ProjectRef>,
    /// Cost code / cost type / item, when the source has one (used by mappings).
    pub cost_code: Option<String>,
    pub quantity: Option<Decimal>,
    pub unit_price: Option<Decimal>,
    /// Amount before tax.
    pub net_amount: Decimal,
    /// Tax on this line (0 when tax is only known at the header).
    pub tax_amount: Decimal,
    pub po_number: Option<String>,
}

impl ApLine {
    /// Net plus tax.
    pub fn amount(&self) -> Decimal {
        self.net_amount + self.tax_amount
    }
}

/// The fields of an AP invoice before validation. Build one, then [`ApInvoice::try_new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApInvoiceDraft {
    pub source: SourceRef,
    pub kind: DocumentKind,
    /// Vendor code (source code before mapping, target vendor number after).
    pub vendor: String,
    pub vendor_name: Option<String>,
    /// The supplier's own invoice number: with the vendor, the natural key for dedup.
    pub invoice_number: String,
    pub invoice_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: Currency,
    pub po_number: Option<String>,
    pub terms: Option<String>,
    pub description: Option<String>,
    pub lines: Vec<ApLine>,
    /// Tax known only at the header (not spread over lines).
    pub header_tax: Decimal,
    /// Header total including tax, as the source states it.
    pub total: Decimal,
    /// Allowed difference between `total` and the sum of lines + header tax.
    #[serde(default)]
    pub tolerance: Tolerance,
}

/// A validated AP invoice (supplier bill / voucher).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ApInvoiceDraft", into = "ApInvoiceDraft")]
pub struct ApInvoice(ApInvoiceDraft);

impl ApInvoice {
    pub fn try_new(d: ApInvoiceDraft) -> Result<Self, ValidationError> {
        let rec = "AP invoice";
        let id = if d.invoice_number.trim().is_empty() { d.source.id.clone() } else { d.invoice_number.clone() };
        if d.invoice_number.trim().is_empty() {
            return Err(invalid(rec, &id, "invoice_number", "is empty"));
        }
        if d.vendor.trim().is_empty() {
            return Err(invalid(rec, &id, "vendor", "is empty"));
        }
        if d.lines.is_empty() {
            return Err(invalid(rec, &id, "lines", "has no lines"));
        }
        if let Some(due) = d.due_date
            && due < d.invoice_date
        {
            return Err(invalid(rec, &id, "due_date", format!("{due} is before the invoice date {}", d.invoice_date)));
        }
        for l in &d.lines {
            if l.account.trim().is_empty() {
                return Err(invalid(rec, &id, format!("lines[{}].account", l.line_no), "is empty"));
            }
        }
        let sum: Decimal = d.lines.iter().map(ApLine::amount).sum::<Decimal>() + d.header_tax;
        if !d.tolerance.accepts(sum, d.total) {
            return Err(invalid(
                rec,
                &id,
                "total",
                format!(
                    "header total {} {} differs from lines + tax {} by {} (tolerance {})",
                    d.total,
                    d.currency,
                    sum,
                    d.total - sum,
                    d.tolerance.0
                ),
            ));
        }
        Ok(ApInvoice(d))
    }

    pub fn into_draft(self) -> ApInvoiceDraft {
        self.0
    }

    /// Total with credit memos negative: what an AP system that has only invoices should book.
    pub fn signed_total(&self) -> Decimal {
        match self.0.kind {
            DocumentKind::Invoice => self.0.total,
            DocumentKind::CreditMemo => -self.0.total,
        }
    }

    pub fn tax_total(&self) -> Decimal {
        self.0.lines.iter().map(|l| l.tax_amount).sum::<Decimal>() + self.0.header_tax
    }

    /// The natural key targets are searched by: vendor + invoice number (trimmed, case-insensitive).
    pub fn natural_key(&self) -> String {
        format!("{}#{}", self.0.vendor.trim().to_uppercase(), self.0.invoice_number.trim().to_uppercase())
    }
}

impl Deref for ApInvoice {
    type Target = ApInvoiceDraft;
    fn deref(&self) -> &ApInvoiceDraft {
        &self.0
    }
}

impl TryFrom<ApInvoiceDraft> for ApInvoice {
    type Error = ValidationError;
    fn try_from(d: ApInvoiceDraft) -> Result<Self, Self::Error> {
        ApInvoice::try_new(d)
    }
}

impl From<ApInvoice> for ApInvoiceDraft {
    fn from(i: ApInvoice) -> Self {
        i.0
    }
}

/// One line of an AR (client) invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArLine {
    pub line_no: u32,
    pub description: String,
    /// Buyer's or seller's item / service id, when known.
    pub item_id: Option<String>,
    pub quantity: Decimal,
    /// Unit of measure (X12 355 codes such as `EA`, `HR`); `EA` when the source has none.
    pub unit: String,
    pub unit_price: Decimal,
    /// Extended amount before tax (normally quantity × unit price, rounded).
    pub amount: Decimal,
    pub tax_amount: Decimal,
    pub project: Option<ProjectRef>,
    pub account: Option<String>,
}

/// A party on an AR invoice (seller or buyer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    /// Identifier in the issuing system (Deltek client id, DUNS ...).
    pub id: Option<String>,
    pub address: Option<Address>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArInvoiceDraft {
    pub source: SourceRef,
    pub kind: DocumentKind,
    pub invoice_number: String,
    pub invoice_date: NaiveDate,
    pub due_date: Option<NaiveDate>,
    pub currency: Currency,
    pub seller: Party,
    pub buyer: Party,
    pub po_number: Option<String>,
    pub terms: Option<String>,
    pub lines: Vec<ArLine>,
    /// Tax known only at the header.
    pub header_tax: Decimal,
    /// Header-level charges (+) and allowances (−) not on any line.
    pub charges: Decimal,
    pub total: Decimal,
    #[serde(default)]
    pub tolerance: Tolerance,
}

/// A validated AR (client) invoice: what outbound EDI renders as an 810.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ArInvoiceDraft", into = "ArInvoiceDraft")]
pub struct ArInvoice(ArInvoiceDraft);

impl ArInvoice {
    pub fn try_new(d: ArInvoiceDraft) -> Result<Self, ValidationError> {
        let rec = "AR invoice";
        let id = d.invoice_number.clone();
        if d.invoice_number.trim().is_empty() {
            return Err(invalid(rec, &d.source.id, "invoice_number", "is empty"));
        }
        if d.lines.is_empty() {
            return Err(invalid(rec, &id, "lines", "has no lines"));
        }
        if d.buyer.name.trim().is_empty() {
            return Err(invalid(rec, &id, "buyer.name", "is empty"));
        }
        let sum: Decimal = d.lines.iter().map(|l| l.amount + l.tax_amount).sum::<Decimal>() + d.header_tax + d.charges;
        if !d.tolerance.accepts(sum, d.total) {
            return Err(invalid(
                rec,
                &id,
                "total",
                format!(
                    "header total {} {} differs from lines + tax + charges {} by {} (tolerance {})",
                    d.total,
                    d.currency,
                    sum,
                    d.total - sum,
                    d.tolerance.0
                ),
            ));
        }
        Ok(ArInvoice(d))
    }

    pub fn into_draft(self) -> ArInvoiceDraft {
        self.0
    }

    pub fn tax_total(&self) -> Decimal {
        self.0.lines.iter().map(|l| l.tax_amount).sum::<Decimal>() + self.0.header_tax
    }
}

impl Deref for ArInvoice {
    type Target = ArInvoiceDraft;
    fn deref(&self) -> &ArInvoiceDraft {
        &self.0
    }
}

impl TryFrom<ArInvoiceDraft> for ArInvoice {
    type Error = ValidationError;
    fn try_from(d: ArInvoiceDraft) -> Result<Self, Self::Error> {
        ArInvoice::try_new(d)
    }
}

impl From<ArInvoice> for ArInvoiceDraft {
    fn from(i: ArInvoice) -> Self {
        i.0
    }
}

/// One line of a journal entry: either a debit or a credit, never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalLine {
    pub line_no: u32,
    pub account: String,
    pub project: Option<ProjectRef>,
    pub description: String,
    pub debit: Decimal,
    pub credit: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalEntryDraft {
    pub source: SourceRef,
    /// Reference number shown to people (Deltek `RefNo`).
    pub reference: String,
    pub date: NaiveDate,
    pub currency: Currency,
    pub description: String,
    pub lines: Vec<JournalLine>,
}

/// A validated journal entry: debits equal credits exactly (journals must balance to the cent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "JournalEntryDraft", into = "JournalEntryDraft")]
pub struct JournalEntry(JournalEntryDraft);

impl JournalEntry {
    pub fn try_new(d: JournalEntryDraft) -> Result<Self, ValidationError> {
        let rec = "journal entry";
        let id = d.reference.clone();
        if d.reference.trim().is_empty() {
            return Err(invalid(rec, &d.source.id, "reference", "is empty"));
        }
        if d.lines.len() < 2 {
            return Err(invalid(rec, &id, "lines", "needs at least one debit and one credit line"));
        }
        for l in &d.lines {
            let field = || format!("lines[{}]", l.line_no);
            if l.debit.is_sign_negative() || l.credit.is_sign_negative() {
                return Err(invalid(rec, &id, field(), "debit and credit must not be negative"));
            }
            if !l.debit.is_zero() && !l.credit.is_zero() {
                return Err(invalid(rec, &id, field(), "has both a debit and a credit"));
            }
            if l.debit.is_zero() && l.credit.is_zero() {
                return Err(invalid(rec, &id, field(), "has neither a debit nor a credit"));
            }
            if l.account.trim().is_empty() {
                return Err(invalid(rec, &id, format!("{}.account", field()), "is empty"));
            }
        }
        let debits: Decimal = d.lines.iter().map(|l| l.debit).sum();
        let credits: Decimal = d.lines.iter().map(|l| l.credit).sum();
        if debits != credits {
            return Err(invalid(
                rec,
                &id,
                "lines",
                format!(
                    "does not balance: debits {debits} vs credits {credits} {} (difference {})",
                    d.currency,
                    debits - credits
                ),
            ));
        }
        Ok(JournalEntry(d))
    }

    pub fn into_draft(self) -> JournalEntryDraft {
        self.0
    }

    pub fn total(&self) -> Decimal {
        self.0.lines.iter().map(|l| l.debit).sum()
    }
}

impl Deref for JournalEntry {
    type Target = JournalEntryDraft;
    fn deref(&self) -> &JournalEntryDraft {
        &self.0
    }
}

impl TryFrom<JournalEntryDraft> for JournalEntry {
    type Error = ValidationError;
    fn try_from(d: JournalEntryDraft) -> Result<Self, Self::Error> {
        JournalEntry::try_new(d)
    }
}

impl From<JournalEntry> for JournalEntryDraft {
    fn from(j: JournalEntry) -> Self {
        j.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderLine {
    pub line_no: u32,
    pub item: Option<String>,
    pub description: String,
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub amount: Decimal,
    pub account: Option<String>,
    pub project: Option<ProjectRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseOrderDraft {
    pub source: SourceRef,
    pub number: String,
    pub vendor: String,
    pub order_date: NaiveDate,
    pub currency: Currency,
    pub description: Option<String>,
    pub lines: Vec<PurchaseOrderLine>,
    pub total: Decimal,
    #[serde(default)]
    pub tolerance: Tolerance,
}

/// A validated purchase order (commitment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PurchaseOrderDraft", into = "PurchaseOrderDraft")]
pub struct PurchaseOrder(PurchaseOrderDraft);

impl PurchaseOrder {
    pub fn try_new(d: PurchaseOrderDraft) -> Result<Self, ValidationError> {
        let rec = "purchase order";
        let id = d.number.clone();
        if d.number.trim().is_empty() {
            return Err(invalid(rec, &d.source.id, "number", "is empty"));
        }
        if d.vendor.trim().is_empty() {
            return Err(invalid(rec, &id, "vendor", "is empty"));
        }
        if d.lines.is_empty() {
            return Err(invalid(rec, &id, "lines", "has no lines"));
        }
        let sum: Decimal = d.lines.iter().map(|l| l.amount).sum();
        if !d.tolerance.accepts(sum, d.total) {
            return Err(invalid(
                rec,
                &id,
                "total",
                format!("header total {} {} differs from lines {} by {}", d.total, d.currency, sum, d.total - sum),
            ));
        }
        Ok(PurchaseOrder(d))
    }

    pub fn into_draft(self) -> PurchaseOrderDraft {
        self.0
    }
}

impl Deref for PurchaseOrder {
    type Target = PurchaseOrderDraft;
    fn deref(&self) -> &PurchaseOrderDraft {
        &self.0
    }
}

impl TryFrom<PurchaseOrderDraft> for PurchaseOrder {
    type Error = ValidationError;
    fn try_from(d: PurchaseOrderDraft) -> Result<Self, Self::Error> {
        PurchaseOrder::try_new(d)
    }
}

impl From<PurchaseOrder> for PurchaseOrderDraft {
    fn from(p: PurchaseOrder) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn src() -> SourceRef {
        SourceRef { system: "cin7".into(), entity: "purchase".into(), id: "P-1".into(), version: "v1".into() }
    }

    fn line(n: u32, net: Decimal, tax: Decimal) -> ApLine {
        ApLine {
            line_no: n,
            description: format!("line {n}"),
            account: "5000".into(),
            project: None,
            cost_code: None,
            quantity: None,
            unit_price: None,
            net_amount: net,
            tax_amount: tax,
            po_number: None,
        }
    }

    fn draft(total: Decimal) -> ApInvoiceDraft {
        ApInvoiceDraft {
            source: src(),
            kind: DocumentKind::Invoice,
            vendor: "V001".into(),
            vendor_name: None,
            invoice_number: "INV-1".into(),
            invoice_date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 1),
            currency: Currency::USD,
            po_number: None,
            terms: None,
            description: None,
            lines: vec![line(1, dec!(100.00), dec!(10.00)), line(2, dec!(50.005), dec!(0))],
            header_tax: dec!(0),
            total,
            tolerance: Tolerance::default(),
        }
    }

    #[test]
    fn ap_invoice_accepts_lines_within_tolerance() {
        let inv = ApInvoice::try_new(draft(dec!(160.01))).unwrap();
        assert_eq!(inv.tax_total(), dec!(10.00));
        assert_eq!(inv.natural_key(), "V001#INV-1");
    }

    #[test]
    fn ap_invoice_rejects_header_mismatch_naming_the_numbers() {
        let err = ApInvoice::try_new(draft(dec!(170.00))).unwrap_err();
        assert_eq!(err.field, "total");
        let msg = err.to_string();
        assert!(msg.contains("INV-1") && msg.contains("170.00") && msg.contains("160.005"), "{msg}");
    }

    #[test]
    fn ap_invoice_rejects_missing_pieces() {
        let mut d = draft(dec!(160.005));
        d.lines.clear();
        assert_eq!(ApInvoice::try_new(d).unwrap_err().field, "lines");
        let mut d = draft(dec!(160.005));
        d.vendor = " ".into();
        assert_eq!(ApInvoice::try_new(d).unwrap_err().field, "vendor");
        let mut d = draft(dec!(160.005));
        d.lines[1].account.clear();
        assert_eq!(ApInvoice::try_new(d).unwrap_err().field, "lines[2].account");
        let mut d = draft(dec!(160.005));
        d.due_date = NaiveDate::from_ymd_opt(2026, 10, 1);
        assert_eq!(ApInvoice::try_new(d).unwrap_err().field, "due_date");
    }

    #[test]
    fn deserialising_runs_validation() {
        let good = ApInvoice::try_new(draft(dec!(160.005))).unwrap();
        let json = serde_json::to_string(&good).unwrap();
        let back: ApInvoice = serde_json::from_str(&json).unwrap();
        assert_eq!(back, good);
        let bad = json.replace("\"160.005\"", "\"999\"");
        assert!(serde_json::from_str::<ApInvoice>(&bad).is_err());
    }

    #[test]
    fn currency_is_required_when_deserialising() {
        let good = ApInvoice::try_new(draft(dec!(160.005))).unwrap();
        let mut v = serde_json::to_value(&good).unwrap();
        v.as_object_mut().unwrap().remove("currency");
        assert!(serde_json::from_value::<ApInvoice>(v).is_err());
    }

    #[test]
    fn credit_memo_signed_total_is_negative() {
        let mut d = draft(dec!(160.005));
        d.kind = DocumentKind::CreditMemo;
        assert_eq!(ApInvoice::try_new(d).unwrap().signed_total(), dec!(-160.005));
    }

    fn jl(n: u32, debit: Decimal, credit: Decimal) -> JournalLine {
        JournalLine { line_no: n, account: "1000".into(), project: None, description: String::new(), debit, credit }
    }

    #[test]
    fn journal_entry_must_balance_exactly() {
        let d = JournalEntryDraft {
            source: src(),
            reference: "JE-1".into(),
            date: NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            currency: Currency::USD,
            description: "commitment".into(),
            lines: vec![jl(1, dec!(100), dec!(0)), jl(2, dec!(0), dec!(100))],
        };
        assert_eq!(JournalEntry::try_new(d.clone()).unwrap().total(), dec!(100));
        let mut unbalanced = d.clone();
        unbalanced.lines[1].credit = dec!(99.99);
        let e = JournalEntry::try_new(unbalanced).unwrap_err();
        assert!(e.to_string().contains("does not balance"), "{e}");
        let mut both = d.clone();
        both.lines[0].credit = dec!(1);
        assert!(JournalEntry::try_new(both).unwrap_err().to_string().contains("both"));
        let mut single = d;
        single.lines.truncate(1);
        assert!(JournalEntry::try_new(single).is_err());
    }

    #[test]
    fn project_keys_round_trip() {
        let p = ProjectRef::parse_key("2024001.00|PH1| ").unwrap();
        assert_eq!(p.segment(1), Some("PH1"));
        assert_eq!(p.segment(2), None);
        assert_eq!(p.depth(), 2);
        assert_eq!(p.truncated(1), ProjectRef::new("2024001.00"));
        assert_eq!(p.key(), "2024001.00|PH1");
        assert_eq!(ProjectRef::parse_key("X||T1").unwrap().key(), "X||T1");
        assert_eq!(ProjectRef::parse_key(" |A"), None);
    }

    #[test]
    fn vendor_validation_and_remit_to() {
        let mut v = Vendor {
            source: None,
            code: "V1".into(),
            name: "Acme".into(),
            tax_id: None,
            currency: None,
            payment_terms: None,
            email: None,
            phone: None,
            addresses: vec![Address {
                kind: AddressKind::Main,
                lines: vec!["1 Main St".into()],
                city: None,
                state: None,
                postcode: None,
                country: None,
            }],
            status: Status::Active,
        };
        assert!(v.validate().is_ok());
        assert_eq!(v.remit_to().unwrap().kind, AddressKind::Main);
        v.name = "".into();
        assert_eq!(v.validate().unwrap_err().field, "name");
    }
}
