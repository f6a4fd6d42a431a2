//! Cin7 Core records as the flows see them, decoded tolerantly at the edge.
//!
//! One [`Purchase`] model serves Simple, Advanced and Service purchases and both endpoints:
//! `advanced-purchase` answers sub-documents as arrays, legacy `purchase` as single objects (and
//! spells the invoice number `InvocieNumber` in its docs); both read into the same `Vec`s, with
//! `NOT AVAILABLE` placeholders dropped. Keys are matched case-insensitively, numbers may come as
//! strings, dates in any of Cin7's shapes ([`parse_datetime`]), and every status is an enum with
//! an `Other(String)` fallback. What could not be read is not an error: it is left `None` and
//! noted in the record's `notes`, so a flow can report it.
//!
//! GUIDs are lower-cased at the edge ([`norm_id`]): Cin7 writes them in both cases (webhook
//! examples are upper-case), and a webhook's id and a poll's id must name the same work item.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use mlc_core::domain::{AccountKind, Address, AddressKind, GlAccount, SourceRef, Status, Vendor};
use mlc_core::money::Currency;
use mlc_http::decode::{self, Notes};
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::{Map, Value};

/// One page of a list endpoint: `{Total, Page, <ListKey>}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// Overall match count.
    pub total: u64,
    /// 1-based page number, as answered.
    pub page: u32,
    pub items: Vec<T>,
}

impl<T> Page<T> {
    /// Whether another page may hold more: this page was full and `Total` is not reached.
    /// (Cin7's `Total` is the overall count; a short page also ends the list.)
    pub fn has_more(&self, limit: u32) -> bool {
        let seen = u64::from(self.page.max(1)) * u64::from(limit);
        self.items.len() >= limit as usize && seen < self.total
    }
}

/// A sub-document status.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum DocStatus {
    NotAvailable,
    Draft,
    Authorised,
    Paid,
    Voided,
    Other(String),
}

impl DocStatus {
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "" | "NOT AVAILABLE" | "NOTAVAILABLE" => DocStatus::NotAvailable,
            "DRAFT" => DocStatus::Draft,
            "AUTHORISED" | "AUTHORIZED" => DocStatus::Authorised,
            "PAID" => DocStatus::Paid,
            "VOIDED" | "VOID" => DocStatus::Voided,
            _ => DocStatus::Other(s.trim().to_string()),
        }
    }

    /// Authorised or paid: a supplier bill that counts.
    pub fn is_authorised(&self) -> bool {
        matches!(self, DocStatus::Authorised | DocStatus::Paid)
    }

    pub fn as_str(&self) -> &str {
        match self {
            DocStatus::NotAvailable => "NOT AVAILABLE",
            DocStatus::Draft => "DRAFT",
            DocStatus::Authorised => "AUTHORISED",
            DocStatus::Paid => "PAID",
            DocStatus::Voided => "VOIDED",
            DocStatus::Other(s) => s,
        }
    }
}

/// `Type` of a purchase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum PurchaseType {
    Simple,
    Advanced,
    Service,
    Other(String),
}

impl PurchaseType {
    pub fn parse(s: &str) -> Self {
        let t = s.trim().to_ascii_lowercase();
        if t.starts_with("simple") {
            PurchaseType::Simple
        } else if t.starts_with("advanced") {
            PurchaseType::Advanced
        } else if t.starts_with("service") {
            PurchaseType::Service
        } else {
            PurchaseType::Other(s.trim().to_string())
        }
    }
}

/// `Approach`: invoice first or stock first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Approach {
    Invoice,
    Stock,
    Other(String),
}

impl Approach {
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_uppercase().as_str() {
            "INVOICE" => Approach::Invoice,
            "STOCK" => Approach::Stock,
            _ => Approach::Other(s.trim().to_string()),
        }
    }
}

/// Which endpoint a purchase was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Endpoint {
    /// `advanced-purchase` (arrays).
    Advanced,
    /// Legacy `purchase` (single objects; Simple purchases only).
    Legacy,
}

/// One `purchaseList` row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurchaseSummary {
    pub id: String,
    pub kind: PurchaseType,
    pub order_number: String,
    /// Top-level status (open set: `ORDERED`, `INVOICED`, `COMPLETED / CREDIT NOTE CLOSED` ...).
    pub status: String,
    pub supplier_id: Option<String>,
    pub supplier_name: String,
    pub order_date: Option<NaiveDate>,
    pub invoice_date: Option<NaiveDate>,
    pub invoice_number: Option<String>,
    pub invoice_due_date: Option<NaiveDate>,
    /// In supplier currency.
    pub invoice_amount: Option<Decimal>,
    pub paid_amount: Option<Decimal>,
    pub base_currency: Option<String>,
    pub supplier_currency: Option<String>,
    pub credit_note_number: Option<String>,
    pub order_status: DocStatus,
    pub stock_received_status: DocStatus,
    pub invoice_status: DocStatus,
    pub credit_note_status: DocStatus,
    pub combined_invoice_status: Option<String>,
    pub combined_payment_status: Option<String>,
    pub combined_receiving_status: Option<String>,
    pub is_service_only: bool,
    pub last_updated: Option<DateTime<Utc>>,
    /// Fields that could not be read.
    pub notes: Vec<String>,
}

impl PurchaseSummary {
    /// The version stamp of this row ([`version_stamp`] of `LastUpdatedDate`).
    pub fn version(&self) -> Option<String> {
        self.last_updated.map(version_stamp)
    }
}

/// A product/service line of an order, invoice or credit note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub product_id: Option<String>,
    pub sku: Option<String>,
    pub name: String,
    pub quantity: Option<Decimal>,
    /// Unit price in supplier currency.
    pub price: Option<Decimal>,
    /// Percent, 0..100.
    pub discount: Option<Decimal>,
    pub tax: Option<Decimal>,
    pub tax_rule: Option<String>,
    /// GL account code (invoices and credit notes; `None` on order lines).
    pub account: Option<String>,
    pub comment: Option<String>,
    /// `round(Quantity*Price*(1-Discount/100), 2)`: before tax under exclusive tax, including it
    /// under inclusive tax.
    pub total: Option<Decimal>,
}

/// An additional charge (freight, fees).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Charge {
    pub description: String,
    pub reference: Option<String>,
    pub quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub discount: Option<Decimal>,
    pub tax: Option<Decimal>,
    pub tax_rule: Option<String>,
    pub account: Option<String>,
    pub total: Option<Decimal>,
}

/// A payment against an invoice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payment {
    pub id: Option<String>,
    pub kind: Option<String>,
    pub reference: Option<String>,
    pub amount: Option<Decimal>,
    pub date_paid: Option<NaiveDate>,
    pub account: Option<String>,
}

/// Totals as Cin7 states them.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Totals {
    pub before_tax: Option<Decimal>,
    pub tax: Option<Decimal>,
    pub total: Option<Decimal>,
}

/// The order sub-document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Order {
    pub status: DocStatus,
    pub memo: Option<String>,
    pub lines: Vec<Line>,
    pub additional_charges: Vec<Charge>,
    pub totals: Totals,
}

/// A supplier invoice (one per Simple purchase, any number on Advanced ones).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Invoice {
    /// The task id: the purchase id for Simple purchases and the first Advanced invoice.
    pub task_id: String,
    /// The supplier's invoice number (`InvoiceNumber`, or the legacy `InvocieNumber`).
    pub number: Option<String>,
    /// Cin7's own `InvoicingAndReceivingNumber`.
    pub reference: Option<String>,
    pub invoice_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub status: DocStatus,
    pub lines: Vec<Line>,
    pub additional_charges: Vec<Charge>,
    pub payments: Vec<Payment>,
    pub totals: Totals,
    /// Amount paid, supplier currency.
    pub paid: Option<Decimal>,
    pub currency_rate: Option<Decimal>,
}

/// A supplier credit note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditNote {
    pub task_id: String,
    /// `CreditNoteNumber`.
    pub number: Option<String>,
    /// `CreditNoteInvoiceNumber`: the invoice it credits.
    pub invoice_number: Option<String>,
    pub date: Option<NaiveDate>,
    pub status: DocStatus,
    pub lines: Vec<Line>,
    pub additional_charges: Vec<Charge>,
    pub totals: Totals,
}

/// A stock-received task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockReceipt {
    pub task_id: String,
    pub reference: Option<String>,
    pub status: DocStatus,
}

/// A purchase, Simple, Advanced or Service, from either endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Purchase {
    pub id: String,
    pub kind: PurchaseType,
    pub order_number: String,
    pub supplier_id: Option<String>,
    pub supplier_name: String,
    /// Supplier currency (amounts are in it).
    pub currency: Option<String>,
    pub base_currency: Option<String>,
    /// Base units per supplier unit.
    pub currency_rate: Option<Decimal>,
    pub location: Option<String>,
    pub approach: Approach,
    /// Top-level status (open set).
    pub status: String,
    pub combined_invoice_status: Option<String>,
    pub combined_receiving_status: Option<String>,
    pub combined_payment_status: Option<String>,
    pub tax_rule: Option<String>,
    /// `Exclusive` or `Inclusive`.
    pub tax_calculation: Option<String>,
    pub terms: Option<String>,
    pub order_date: Option<NaiveDate>,
    pub required_by: Option<NaiveDate>,
    pub note: Option<String>,
    pub is_service_only: bool,
    /// `AdditionalAttribute1..10`, blanks left out.
    pub additional_attributes: BTreeMap<String, String>,
    pub last_updated: Option<DateTime<Utc>>,
    pub order: Order,
    pub invoices: Vec<Invoice>,
    pub credit_notes: Vec<CreditNote>,
    pub stock_received: Vec<StockReceipt>,
    /// Which endpoint answered.
    pub endpoint: Endpoint,
    /// Fields that could not be read.
    pub notes: Vec<String>,
}

impl Purchase {
    /// The version stamp ([`version_stamp`] of `LastUpdatedDate`).
    pub fn version(&self) -> Option<String> {
        self.last_updated.map(version_stamp)
    }

    /// Invoices that are `AUTHORISED` or `PAID`: the ones a supplier-bill flow posts.
    pub fn authorised_invoices(&self) -> impl Iterator<Item = &Invoice> {
        self.invoices.iter().filter(|i| i.status.is_authorised())
    }

    /// Whether the whole purchase is voided.
    pub fn is_voided(&self) -> bool {
        self.status.eq_ignore_ascii_case("VOIDED")
    }

    /// Whether a task id (any case) belongs to this purchase: the purchase itself or one of its
    /// invoices, credit notes or receipts.
    pub fn has_task(&self, task_id: &str) -> bool {
        same_guid(&self.id, task_id)
            || self.invoices.iter().any(|i| same_guid(&i.task_id, task_id))
            || self.credit_notes.iter().any(|c| same_guid(&c.task_id, task_id))
            || self.stock_received.iter().any(|s| same_guid(&s.task_id, task_id))
    }

    /// The invoice with this task id.
    pub fn invoice(&self, task_id: &str) -> Option<&Invoice> {
        self.invoices.iter().find(|i| same_guid(&i.task_id, task_id))
    }

    /// Receiving progress: `CombinedReceivingStatus` when given, else from the receipts.
    pub fn stock_received_status(&self) -> String {
        if let Some(s) = &self.combined_receiving_status {
            return s.clone();
        }
        match self.stock_received.last().map(|s| &s.status) {
            Some(DocStatus::Authorised) => "FULLY RECEIVED".into(),
            Some(DocStatus::Draft) => "PARTIALLY RECEIVED".into(),
            _ => "NOT RECEIVED".into(),
        }
    }

    /// A reference to this purchase as read, for records built from it.
    pub fn source_ref(&self) -> SourceRef {
        SourceRef {
            system: "cin7".into(),
            entity: "purchase".into(),
            id: self.id.clone(),
            version: self.version().unwrap_or_default(),
        }
    }
}

/// A supplier's address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplierAddress {
    pub id: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postcode: Option<String>,
    pub country: Option<String>,
    /// `Billing`, `Business` or `Shipping`.
    pub kind: Option<String>,
    pub default_for_type: bool,
}

/// A supplier's contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupplierContact {
    pub id: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub mobile_phone: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub default: bool,
}

/// A supplier card.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Supplier {
    pub id: String,
    pub name: String,
    pub currency: Option<String>,
    pub payment_term: Option<String>,
    pub account_payable: Option<String>,
    pub tax_rule: Option<String>,
    /// `Active` or `Deprecated` (open set).
    pub status: String,
    pub discount: Option<Decimal>,
    pub comments: Option<String>,
    /// Documented as an integer, really a string or null.
    pub tax_number: Option<String>,
    pub additional_attributes: BTreeMap<String, String>,
    pub last_modified: Option<DateTime<Utc>>,
    pub addresses: Vec<SupplierAddress>,
    pub contacts: Vec<SupplierContact>,
    pub notes: Vec<String>,
}

impl Supplier {
    pub fn is_active(&self) -> bool {
        !self.status.eq_ignore_ascii_case("Deprecated")
    }

    /// The version stamp ([`version_stamp`] of `LastModifiedOn`).
    pub fn version(&self) -> Option<String> {
        self.last_modified.map(version_stamp)
    }

    /// The default contact (or the first).
    pub fn main_contact(&self) -> Option<&SupplierContact> {
        self.contacts.iter().find(|c| c.default).or(self.contacts.first())
    }

    /// The supplier as a vendor. `code` is the Cin7 supplier id (the mapping key); `Deprecated`
    /// becomes inactive; addresses keep their lines: `Business` → main, `Billing` → remit-to
    /// (Cin7 has no payment address; the billing address is where a supplier's bills and
    /// payments go), `Shipping` → shipping; email and phone come from the default contact.
    pub fn to_vendor(&self) -> Vendor {
        let addresses = self
            .addresses
            .iter()
            .map(|a| Address {
                kind: match a.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
                    Some("business") => AddressKind::Main,
                    Some("billing") => AddressKind::RemitTo,
                    Some("shipping") => AddressKind::Shipping,
                    _ => AddressKind::Other,
                },
                lines: [&a.line1, &a.line2].into_iter().flatten().cloned().collect(),
                city: a.city.clone(),
                state: a.state.clone(),
                postcode: a.postcode.clone(),
                country: a.country.clone(),
            })
            .collect();
        let contact = self.main_contact();
        Vendor {
            source: Some(SourceRef {
                system: "cin7".into(),
                entity: "supplier".into(),
                id: self.id.clone(),
                version: self.version().unwrap_or_default(),
            }),
            code: self.id.clone(),
            name: self.name.clone(),
            tax_id: self.tax_number.clone(),
            currency: self.currency.as_deref().and_then(|c| Currency::from_str(c).ok()),
            payment_terms: self.payment_term.clone(),
            email: contact.and_then(|c| c.email.clone()),
            phone: contact.and_then(|c| c.phone.clone().or_else(|| c.mobile_phone.clone())),
            addresses,
            status: if self.is_active() { Status::Active } else { Status::Inactive },
        }
    }
}

/// A chart-of-accounts row.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    pub code: String,
    pub name: String,
    /// `Type`: `EXPENSE`, `BANK`, `CURRLIAB`, ...
    pub kind: Option<String>,
    /// `ASSET`, `LIABILITY`, `EXPENSE`, `EQUITY`, `REVENUE`.
    pub class: Option<String>,
    /// `ACTIVE`, or another value (archived).
    pub status: String,
    pub system_account_code: Option<String>,
    pub for_payments: bool,
    pub currency: Option<String>,
}

impl Account {
    pub fn is_active(&self) -> bool {
        self.status.eq_ignore_ascii_case("ACTIVE")
    }

    /// As a GL account of the domain model.
    pub fn to_gl_account(&self) -> GlAccount {
        let kind = match self.class.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("ASSET") => AccountKind::Asset,
            Some("LIABILITY") => AccountKind::Liability,
            Some("EQUITY") => AccountKind::Equity,
            Some("REVENUE") => AccountKind::Revenue,
            Some("EXPENSE") => AccountKind::Expense,
            _ => AccountKind::Other,
        };
        GlAccount {
            code: self.code.clone(),
            name: self.name.clone(),
            kind,
            status: if self.is_active() { Status::Active } else { Status::Inactive },
        }
    }
}

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub id: String,
    pub event_type: String,
    pub name: Option<String>,
    pub is_active: bool,
    pub url: String,
    /// `noauth`, `basicauth` or `bearerauth`.
    pub auth_type: Option<String>,
    /// `ExternalHeaders` names only (values may be secrets).
    pub header_names: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Tolerant reading

/// Read an ISO 8601 stamp as Cin7 writes them: with or without `Z` (or an offset), 0–7 fraction
/// digits, `T` or a space, or a date alone. A stamp without a zone is UTC (documented as UTC).
/// The kit's reader ([`decode::datetime_utc`]).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    decode::datetime_utc(s)
}

/// A date (the date part of a stamp, read as UTC).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    parse_datetime(s).map(|d| d.date_naive())
}

/// The canonical version text of a stamp: `2025-06-16T14:30:00.1234567Z` (Cin7's 100 ns
/// precision). The poll and the webhook write versions through this, so they compare equal.
pub fn version_stamp(t: DateTime<Utc>) -> String {
    format!("{}.{:07}Z", t.format("%Y-%m-%dT%H:%M:%S"), t.timestamp_subsec_nanos() / 100)
}

/// A stamp as a query value: millisecond precision, *floored* (chrono truncates), so a cursor
/// never skips a record stamped within the same millisecond; with strictly-after semantics that
/// record is simply seen again.
pub fn query_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// GUID equality: case, braces and surrounding blanks ignored.
pub fn same_guid(a: &str, b: &str) -> bool {
    norm_id(a) == norm_id(b)
}

/// A GUID in canonical form: trimmed, braces removed, lower case. Other ids are only trimmed.
pub fn norm_id(s: &str) -> String {
    let t = s.trim();
    let inner = t.trim_start_matches('{').trim_end_matches('}');
    if crate::auth::looks_like_guid(inner) { inner.to_ascii_lowercase() } else { t.to_string() }
}

/// The kit's tolerant, noting view of one JSON object ([`decode::Fields`]) plus Cin7's own
/// readings: GUID ids, sub-document statuses, `AdditionalAttribute1..10`, and dates as UTC.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a>(decode::Fields<'a>);

impl<'a> std::ops::Deref for Fields<'a> {
    type Target = decode::Fields<'a>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> Fields<'a> {
    pub(crate) fn new(m: &'a Map<String, Value>, what: &'a str, notes: &'a Notes) -> Self {
        Fields(decode::Fields::new(m).noting(what, notes))
    }

    fn sub(&self, m: &'a Map<String, Value>) -> Fields<'a> {
        Fields(self.0.sub(m))
    }

    pub(crate) fn id(&self, key: &str) -> Option<String> {
        self.text(key).map(|s| norm_id(&s))
    }

    pub(crate) fn dec(&self, key: &str) -> Option<Decimal> {
        self.decimal(key)
    }

    pub(crate) fn boolean(&self, key: &str) -> bool {
        self.is(key)
    }

    pub(crate) fn stamp(&self, key: &str) -> Option<DateTime<Utc>> {
        self.datetime(key)
    }

    /// The date part of a UTC stamp.
    pub(crate) fn date(&self, key: &str) -> Option<NaiveDate> {
        self.datetime(key).map(|d| d.date_naive())
    }

    pub(crate) fn status(&self, key: &str) -> DocStatus {
        self.text(key).map(|s| DocStatus::parse(&s)).unwrap_or(DocStatus::NotAvailable)
    }

    pub(crate) fn attributes(&self, key: Option<&str>) -> BTreeMap<String, String> {
        let src = match key {
            Some(k) => self.get(k).and_then(Value::as_object),
            None => Some(self.map()),
        };
        let mut out = BTreeMap::new();
        if let Some(m) = src {
            for (k, v) in m {
                if k.to_ascii_lowercase().starts_with("additionalattribute")
                    && let Some(s) = decode::text(v)
                {
                    out.insert(k.clone(), s);
                }
            }
        }
        out
    }
}

fn line(f: Fields<'_>) -> Line {
    Line {
        product_id: f.id("ProductID").filter(|p| !p.chars().all(|c| c == '0' || c == '-')),
        sku: f.text("SKU"),
        name: f.str("Name"),
        quantity: f.dec("Quantity"),
        price: f.dec("Price"),
        discount: f.dec("Discount"),
        tax: f.dec("Tax"),
        tax_rule: f.text("TaxRule"),
        account: f.text("Account"),
        comment: f.text("Comment"),
        total: f.dec("Total"),
    }
}

fn charge(f: Fields<'_>) -> Charge {
    Charge {
        description: f.str("Description"),
        reference: f.text("Reference"),
        quantity: f.dec("Quantity"),
        price: f.dec("Price"),
        discount: f.dec("Discount"),
        tax: f.dec("Tax"),
        tax_rule: f.text("TaxRule"),
        account: f.text("Account"),
        total: f.dec("Total"),
    }
}

fn totals(f: Fields<'_>) -> Totals {
    Totals { before_tax: f.dec("TotalBeforeTax"), tax: f.dec("Tax"), total: f.dec("Total") }
}

/// Read one purchase (either endpoint's shape).
pub fn purchase_from(v: &Value, endpoint: Endpoint) -> Option<Purchase> {
    let m = v.as_object()?;
    let notes = Notes::default();
    let f = Fields::new(m, "purchase", &notes);
    let id = f.id("ID")?;
    let what = format!("purchase {id}");
    let f = Fields::new(m, &what, &notes);
    let lines = |g: Fields<'_>| g.objects("Lines").into_iter().map(|l| line(g.sub(l))).collect::<Vec<_>>();
    let charges =
        |g: Fields<'_>| g.objects("AdditionalCharges").into_iter().map(|c| charge(g.sub(c))).collect::<Vec<_>>();
    let order = match f.get("Order").and_then(Value::as_object) {
        Some(o) => {
            let g = f.sub(o);
            Order {
                status: g.status("Status"),
                memo: g.text("Memo"),
                lines: lines(g),
                additional_charges: charges(g),
                totals: totals(g),
            }
        }
        None => Order {
            status: DocStatus::NotAvailable,
            memo: None,
            lines: Vec::new(),
            additional_charges: Vec::new(),
            totals: Totals::default(),
        },
    };
    let invoices = f
        .objects("Invoice")
        .into_iter()
        .map(|o| f.sub(o))
        .filter(|g| g.status("Status") != DocStatus::NotAvailable || !g.objects("Lines").is_empty())
        .map(|g| Invoice {
            task_id: g.id("TaskID").unwrap_or_else(|| id.clone()),
            number: g.text("InvoiceNumber").or_else(|| g.text("InvocieNumber")),
            reference: g.text("InvoicingAndReceivingNumber"),
            invoice_date: g.date("InvoiceDate"),
            due_date: g.date("InvoiceDueDate"),
            status: g.status("Status"),
            lines: lines(g),
            additional_charges: charges(g),
            payments: g
                .objects("Payments")
                .into_iter()
                .map(|p| {
                    let p = g.sub(p);
                    Payment {
                        id: p.id("ID"),
                        kind: p.text("Type"),
                        reference: p.text("Reference"),
                        amount: p.dec("Amount"),
                        date_paid: p.date("DatePaid"),
                        account: p.text("Account"),
                    }
                })
                .collect(),
            totals: totals(g),
            paid: g.dec("Paid"),
            currency_rate: g.dec("CurrencyRate"),
        })
        .collect();
    let credit_notes = f
        .objects("CreditNote")
        .into_iter()
        .map(|o| f.sub(o))
        .filter(|g| g.status("Status") != DocStatus::NotAvailable || !g.objects("Lines").is_empty())
        .map(|g| CreditNote {
            task_id: g.id("TaskID").unwrap_or_else(|| id.clone()),
            number: g.text("CreditNoteNumber"),
            invoice_number: g.text("CreditNoteInvoiceNumber"),
            date: g.date("CreditNoteDate"),
            status: g.status("Status"),
            lines: lines(g),
            additional_charges: charges(g),
            totals: totals(g),
        })
        .collect();
    let stock_received = f
        .objects("StockReceived")
        .into_iter()
        .map(|o| f.sub(o))
        .filter(|g| g.status("Status") != DocStatus::NotAvailable)
        .map(|g| StockReceipt {
            task_id: g.id("TaskID").unwrap_or_else(|| id.clone()),
            reference: g.text("InvoicingAndReceivingNumber"),
            status: g.status("Status"),
        })
        .collect();
    let p = Purchase {
        kind: f.text("Type").map(|t| PurchaseType::parse(&t)).unwrap_or(PurchaseType::Simple),
        order_number: f.str("OrderNumber"),
        supplier_id: f.id("SupplierID"),
        supplier_name: f.str("Supplier"),
        currency: f.text("SupplierCurrency"),
        base_currency: f.text("BaseCurrency"),
        currency_rate: f.dec("CurrencyRate"),
        location: f.text("Location"),
        approach: f.text("Approach").map(|a| Approach::parse(&a)).unwrap_or(Approach::Other(String::new())),
        status: f.str("Status"),
        combined_invoice_status: f.text("CombinedInvoiceStatus"),
        combined_receiving_status: f.text("CombinedReceivingStatus"),
        combined_payment_status: f.text("CombinedPaymentStatus"),
        tax_rule: f.text("TaxRule"),
        tax_calculation: f.text("TaxCalculation"),
        terms: f.text("Terms"),
        order_date: f.date("OrderDate"),
        required_by: f.date("RequiredBy"),
        note: f.text("Note"),
        is_service_only: f.boolean("IsServiceOnly"),
        additional_attributes: f.attributes(Some("AdditionalAttributes")),
        last_updated: f.stamp("LastUpdatedDate"),
        order,
        invoices,
        credit_notes,
        stock_received,
        endpoint,
        notes: Vec::new(),
        id,
    };
    Some(Purchase { notes: notes.take(), ..p })
}

/// Read one `purchaseList` row.
pub fn summary_from(v: &Value) -> Option<PurchaseSummary> {
    let m = v.as_object()?;
    let notes = Notes::default();
    let f = Fields::new(m, "purchase list row", &notes);
    let id = f.id("ID")?;
    let s = PurchaseSummary {
        kind: f.text("Type").map(|t| PurchaseType::parse(&t)).unwrap_or(PurchaseType::Simple),
        order_number: f.str("OrderNumber"),
        status: f.str("Status"),
        supplier_id: f.id("SupplierID"),
        supplier_name: f.str("Supplier"),
        order_date: f.date("OrderDate"),
        invoice_date: f.date("InvoiceDate"),
        invoice_number: f.text("InvoiceNumber"),
        invoice_due_date: f.date("InvoiceDueDate"),
        invoice_amount: f.dec("InvoiceAmount"),
        paid_amount: f.dec("PaidAmount"),
        base_currency: f.text("BaseCurrency"),
        supplier_currency: f.text("SupplierCurrency"),
        credit_note_number: f.text("CreditNoteNumber"),
        order_status: f.status("OrderStatus"),
        stock_received_status: f.status("StockReceivedStatus"),
        invoice_status: f.status("InvoiceStatus"),
        credit_note_status: f.status("CreditNoteStatus"),
        combined_invoice_status: f.text("CombinedInvoiceStatus"),
        combined_payment_status: f.text("CombinedPaymentStatus"),
        combined_receiving_status: f.text("CombinedReceivingStatus"),
        is_service_only: f.boolean("IsServiceOnly"),
        last_updated: f.stamp("LastUpdatedDate"),
        notes: Vec::new(),
        id,
    };
    Some(PurchaseSummary { notes: notes.take(), ..s })
}

/// Read one supplier card (also the `{Supplier, Addresses, Contacts}` webhook nesting).
pub fn supplier_from(v: &Value) -> Option<Supplier> {
    let outer = v.as_object()?;
    let notes = Notes::default();
    let top = Fields::new(outer, "supplier", &notes);
    let m = top.get("Supplier").and_then(Value::as_object).unwrap_or(outer);
    let f = Fields::new(m, "supplier", &notes);
    let id = f.id("ID")?;
    let lists = |k: &str| if f.get(k).is_some() { f.objects(k) } else { top.objects(k) };
    let addresses = lists("Addresses")
        .into_iter()
        .map(|a| {
            let a = f.sub(a);
            SupplierAddress {
                id: a.id("ID"),
                line1: a.text("Line1"),
                line2: a.text("Line2"),
                city: a.text("City"),
                state: a.text("State"),
                postcode: a.text("Postcode"),
                country: a.text("Country"),
                kind: a.text("Type"),
                default_for_type: a.boolean("DefaultForType"),
            }
        })
        .collect();
    let contacts = lists("Contacts")
        .into_iter()
        .map(|c| {
            let c = f.sub(c);
            SupplierContact {
                id: c.id("ID"),
                name: c.str("Name"),
                phone: c.text("Phone"),
                mobile_phone: c.text("MobilePhone"),
                email: c.text("Email"),
                website: c.text("Website"),
                default: c.boolean("Default"),
            }
        })
        .collect();
    let s = Supplier {
        name: f.str("Name"),
        currency: f.text("Currency"),
        payment_term: f.text("PaymentTerm"),
        account_payable: f.text("AccountPayable"),
        tax_rule: f.text("TaxRule"),
        status: f.text("Status").unwrap_or_else(|| "Active".into()),
        discount: f.dec("Discount"),
        comments: f.text("Comments"),
        tax_number: f.text("TaxNumber"),
        additional_attributes: f.attributes(None),
        last_modified: f.stamp("LastModifiedOn"),
        addresses,
        contacts,
        notes: Vec::new(),
        id,
    };
    Some(Supplier { notes: notes.take(), ..s })
}

/// Read one account row.
pub fn account_from(v: &Value) -> Option<Account> {
    let m = v.as_object()?;
    let notes = Notes::default();
    let f = Fields::new(m, "account", &notes);
    Some(Account {
        code: f.text("Code")?,
        name: f.str("Name"),
        kind: f.text("Type"),
        class: f.text("Class"),
        status: f.text("Status").unwrap_or_else(|| "ACTIVE".into()),
        system_account_code: f.text("SystemAccountCode"),
        for_payments: f.boolean("ForPayments"),
        currency: f.text("Currency"),
    })
}

/// Read one webhook.
pub fn webhook_from(v: &Value) -> Option<Webhook> {
    let m = v.as_object()?;
    let notes = Notes::default();
    let f = Fields::new(m, "webhook", &notes);
    Some(Webhook {
        id: f.id("ID")?,
        event_type: f.str("Type"),
        name: f.text("Name"),
        is_active: f.get("IsActive").is_none() || f.boolean("IsActive"),
        url: f.str("ExternalURL"),
        auth_type: f.text("ExternalAuthorizationType"),
        header_names: f.objects("ExternalHeaders").into_iter().filter_map(|h| f.sub(h).text("Key")).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dates_in_every_shape_cin7_writes() {
        let cases = [
            ("2017-12-08T00:00:00", "2017-12-08T00:00:00.0000000Z"),
            ("2017-12-08T10:14:18.45Z", "2017-12-08T10:14:18.4500000Z"),
            ("2021-11-02T11:44:45.21", "2021-11-02T11:44:45.2100000Z"),
            ("2017-12-05T06:05:06.9472864Z", "2017-12-05T06:05:06.9472864Z"),
            ("2017-12-05T06:05:06.947", "2017-12-05T06:05:06.9470000Z"),
            ("2017-12-05T06:05:06.1Z", "2017-12-05T06:05:06.1000000Z"),
            ("2017-12-05T06:05:06+02:00", "2017-12-05T04:05:06.0000000Z"),
            ("2017-12-05 06:05:06", "2017-12-05T06:05:06.0000000Z"),
            ("2017-12-05", "2017-12-05T00:00:00.0000000Z"),
        ];
        for (input, want) in cases {
            assert_eq!(parse_datetime(input).map(version_stamp).as_deref(), Some(want), "{input}");
        }
        for bad in ["", "  ", "yesterday", "2017-13-01"] {
            assert!(parse_datetime(bad).is_none(), "{bad}");
        }
        let t = parse_datetime("2025-06-01T10:00:00.1239999Z").expect("t");
        assert_eq!(query_stamp(t), "2025-06-01T10:00:00.123Z", "floored, never rounded up");
    }

    #[test]
    fn guids_compare_without_case_or_braces() {
        assert!(same_guid("8B1538E4-AAAA-BBBB-CCCC-000000000001", "{8b1538e4-aaaa-bbbb-cccc-000000000001}"));
        assert!(!same_guid("8B1538E4-AAAA-BBBB-CCCC-000000000001", "8b1538e4-aaaa-bbbb-cccc-000000000002"));
        assert_eq!(norm_id(" PO-00001 "), "PO-00001");
    }

    #[test]
    fn legacy_shape_with_the_typo_and_strings_for_numbers() {
        let v = json!({
            "id": "AAAAAAAA-0000-4000-8000-000000000001", "type": "Simple Purchase", "OrderNumber": "PO-1", "Status": "INVOICED",
            "Approach": "invoice", "Supplier": "Acme", "LastUpdatedDate": "2025-06-01T10:00:00.12",
            "Order": {"Status": "AUTHORISED", "Lines": [{"Name": "Thing", "Quantity": "2", "Price": 10, "Total": 20}]},
            "Invoice": {"TaskID": "aaaaaaaa-0000-4000-8000-000000000001", "InvocieNumber": "A-1", "Status": "AUTHORISED",
                        "InvoiceDate": "2025-06-01T00:00:00", "Lines": [{"Name": "Thing", "Quantity": 2, "Price": "10.00", "Account": 453, "Total": "20"}],
                        "Total": 20},
            "CreditNote": {"TaskID": "aaaaaaaa-0000-4000-8000-000000000001", "Status": "NOT AVAILABLE", "Lines": []},
            "StockReceived": {"TaskID": "aaaaaaaa-0000-4000-8000-000000000001", "Status": "NOT AVAILABLE"},
            "AdditionalAttributes": {"AdditionalAttribute1": "2024003.00|01", "AdditionalAttribute2": ""},
            "RequiredBy": "soon"
        });
        let p = purchase_from(&v, Endpoint::Legacy).expect("purchase");
        assert_eq!(p.id, "aaaaaaaa-0000-4000-8000-000000000001");
        assert_eq!((p.kind.clone(), p.approach.clone()), (PurchaseType::Simple, Approach::Invoice));
        assert_eq!(p.invoices.len(), 1);
        assert!(p.credit_notes.is_empty() && p.stock_received.is_empty());
        let i = &p.invoices[0];
        assert_eq!((i.number.as_deref(), i.lines[0].account.as_deref()), (Some("A-1"), Some("453")));
        assert_eq!(i.lines[0].price, Some(Decimal::new(1000, 2)));
        assert_eq!(p.order.lines[0].quantity, Some(Decimal::from(2)));
        assert_eq!(p.additional_attributes.len(), 1);
        assert!(p.notes.iter().any(|n| n.contains("RequiredBy 'soon'")), "{:?}", p.notes);
        assert_eq!(p.version().as_deref(), Some("2025-06-01T10:00:00.1200000Z"));
    }

    #[test]
    fn supplier_to_vendor() {
        let v = json!({"Supplier": {"ID": "11111111-1111-4111-8111-111111111111", "Name": "Acme", "Currency": "usd",
            "PaymentTerm": "Net 30", "Status": "Deprecated", "TaxNumber": "91-1", "LastModifiedOn": "2025-01-01T00:00:00Z"},
            "Addresses": [{"Line1": "1 Main", "Line2": "", "City": "Port Harbor", "Country": "US", "Type": "Billing"},
                          {"Line1": "2 Side", "Type": "Business"}],
            "Contacts": [{"Name": "A", "Email": "a@x"}, {"Name": "B", "Email": "b@x", "Phone": "555", "Default": true}]});
        let s = supplier_from(&v).expect("supplier");
        let vendor = s.to_vendor();
        vendor.validate().expect("valid");
        assert_eq!(vendor.code, "11111111-1111-4111-8111-111111111111");
        assert_eq!((vendor.status, vendor.currency.map(|c| c.to_string())), (Status::Inactive, Some("USD".into())));
        assert_eq!((vendor.email.as_deref(), vendor.phone.as_deref()), (Some("b@x"), Some("555")));
        assert_eq!(vendor.remit_to().map(|a| a.lines.clone()), Some(vec!["1 Main".to_string()]));
        assert_eq!(vendor.source.map(|s| s.version), Some("2025-01-01T00:00:00.0000000Z".into()));
    }

    #[test]
    fn pages_know_when_they_end() {
        let p = Page { total: 250, page: 2, items: vec![(); 100] };
        assert!(p.has_more(100));
        assert!(!Page { total: 200, page: 2, items: vec![(); 100] }.has_more(100));
        assert!(!Page { total: 250, page: 3, items: vec![(); 50] }.has_more(100));
    }
}
