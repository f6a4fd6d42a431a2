//! The records of the simulated Cin7 Core account: purchases (a master task with Order,
//! StockReceived, Invoice and CreditNote sub-documents), suppliers, the chart of accounts,
//! payment terms, tax rules, locations and webhooks; plus the arithmetic and status derivation
//! the API reports (fact sheet §4.1, §4.4, §4.5, §9), and tolerant readers for request bodies.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::common::json::scalar_text;

/// `Type` of a purchase **[C]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PurchaseKind {
    /// One order, one receipt, one invoice, one credit note.
    Simple,
    /// Many partial receipts, invoices and credit notes.
    Advanced,
    /// Services only (no stock); single documents like Simple.
    Service,
}

impl PurchaseKind {
    /// The `Type` text.
    pub fn type_name(self) -> &'static str {
        match self {
            PurchaseKind::Simple => "Simple Purchase",
            PurchaseKind::Advanced => "Advanced Purchase",
            PurchaseKind::Service => "Service Purchase",
        }
    }

    /// Read `Type` or `PurchaseType` text (`Simple`, `Advanced Purchase`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        let t = s.trim().to_ascii_lowercase();
        if t.starts_with("simple") {
            Some(PurchaseKind::Simple)
        } else if t.starts_with("advanced") {
            Some(PurchaseKind::Advanced)
        } else if t.starts_with("service") {
            Some(PurchaseKind::Service)
        } else {
            None
        }
    }
}

/// `Approach` **[C]**: invoice first or stock first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Approach {
    /// `INVOICE`.
    Invoice,
    /// `STOCK`: the invoice needs stock received first.
    Stock,
}

impl Approach {
    /// Upper-case text as answered.
    pub fn as_str(self) -> &'static str {
        match self {
            Approach::Invoice => "INVOICE",
            Approach::Stock => "STOCK",
        }
    }

    /// Mixed case accepted (`"Stock"`) **[C]**.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "INVOICE" | "INVOICE FIRST" => Some(Approach::Invoice),
            "STOCK" | "STOCK FIRST" => Some(Approach::Stock),
            _ => None,
        }
    }
}

/// Status of a sub-document **[C]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum DocStatus {
    /// `NOT AVAILABLE`: not started.
    #[default]
    NotAvailable,
    /// `DRAFT`.
    Draft,
    /// `AUTHORISED`.
    Authorised,
    /// `PAID` (invoices only).
    Paid,
    /// `VOIDED`.
    Voided,
}

impl DocStatus {
    /// The text Cin7 answers.
    pub fn as_str(self) -> &'static str {
        match self {
            DocStatus::NotAvailable => "NOT AVAILABLE",
            DocStatus::Draft => "DRAFT",
            DocStatus::Authorised => "AUTHORISED",
            DocStatus::Paid => "PAID",
            DocStatus::Voided => "VOIDED",
        }
    }

    /// Read a status (case-insensitive; `AUTHORIZED` accepted).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "NOT AVAILABLE" | "NOTAVAILABLE" | "" => Some(DocStatus::NotAvailable),
            "DRAFT" => Some(DocStatus::Draft),
            "AUTHORISED" | "AUTHORIZED" => Some(DocStatus::Authorised),
            "PAID" => Some(DocStatus::Paid),
            "VOIDED" => Some(DocStatus::Voided),
            _ => None,
        }
    }

    /// Authorised or paid: the document counts.
    pub fn is_final(self) -> bool {
        matches!(self, DocStatus::Authorised | DocStatus::Paid)
    }

    /// A POST may still change it (§4.5: "DRAFT or NOT AVAILABLE").
    pub fn is_open(self) -> bool {
        matches!(self, DocStatus::NotAvailable | DocStatus::Draft)
    }
}

/// `TaxCalculation` **[C]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub enum TaxCalculation {
    /// Tax is added on top of line totals. The default.
    #[default]
    Exclusive,
    /// Line totals include tax.
    Inclusive,
}

impl TaxCalculation {
    /// Text as answered.
    pub fn as_str(self) -> &'static str {
        match self {
            TaxCalculation::Exclusive => "Exclusive",
            TaxCalculation::Inclusive => "Inclusive",
        }
    }
}

/// One product/service line of an order, invoice or credit note.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Line {
    /// Product GUID, when the line names a product.
    pub product_id: Option<String>,
    /// SKU (50).
    pub sku: String,
    /// Name (1024).
    pub name: String,
    /// Quantity (4 dp, at least 1).
    pub quantity: Decimal,
    /// Unit price in supplier currency (4 dp).
    pub price: Decimal,
    /// Discount percent, 0..100.
    pub discount: Decimal,
    /// Tax on the line (computed).
    pub tax: Decimal,
    /// Tax rule name.
    pub tax_rule: String,
    /// GL account code (invoice and credit note lines; required there).
    pub account: String,
    /// Supplier's SKU (order lines).
    pub supplier_sku: String,
    /// Comment (256).
    pub comment: String,
    /// `round(Quantity*Price*(1-Discount/100), 2)` (computed).
    pub total: Decimal,
}

/// An additional charge (freight, fees).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Charge {
    /// Service name (256).
    pub description: String,
    /// Reference.
    pub reference: String,
    /// Quantity.
    pub quantity: Decimal,
    /// Unit price.
    pub price: Decimal,
    /// Discount percent.
    pub discount: Decimal,
    /// Tax (computed).
    pub tax: Decimal,
    /// Tax rule name.
    pub tax_rule: String,
    /// GL account code.
    pub account: String,
    /// Total (computed).
    pub total: Decimal,
}

/// The order sub-document (one per purchase; its task id is the purchase id).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Order {
    /// Status.
    pub status: DocStatus,
    /// Memo.
    pub memo: String,
    /// Lines.
    pub lines: Vec<Line>,
    /// Additional charges.
    pub charges: Vec<Charge>,
}

/// One received line.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StockLine {
    /// Product GUID.
    pub product_id: Option<String>,
    /// SKU.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Quantity received.
    pub quantity: Decimal,
    /// Location name.
    pub location: String,
    /// Date received.
    pub date: Option<NaiveDate>,
}

/// A stock-received task.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct StockTask {
    /// Task id (the purchase id for Simple purchases and the first Advanced task).
    pub task_id: String,
    /// `InvoicingAndReceivingNumber`.
    pub number: String,
    /// Status.
    pub status: DocStatus,
    /// Lines.
    pub lines: Vec<StockLine>,
}

/// A payment, prepayment or refund against an invoice.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Payment {
    /// Payment id.
    pub id: String,
    /// `PAYMENT`, `PREPAYMENT` or `REFUND`.
    pub kind: String,
    /// Reference.
    pub reference: String,
    /// Amount in supplier currency.
    pub amount: Decimal,
    /// Date paid.
    pub date_paid: Option<NaiveDate>,
    /// Bank account code.
    pub account: String,
}

/// A supplier invoice task.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct InvoiceTask {
    /// Task id.
    pub task_id: String,
    /// `InvoicingAndReceivingNumber`.
    pub number: String,
    /// The supplier's invoice number.
    pub invoice_number: String,
    /// Invoice date.
    pub invoice_date: Option<NaiveDate>,
    /// Due date.
    pub due_date: Option<NaiveDate>,
    /// Status.
    pub status: DocStatus,
    /// Lines.
    pub lines: Vec<Line>,
    /// Additional charges.
    pub charges: Vec<Charge>,
    /// Payments.
    pub payments: Vec<Payment>,
}

/// A supplier credit note task.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CreditNoteTask {
    /// Task id.
    pub task_id: String,
    /// `InvoicingAndReceivingNumber`.
    pub number: String,
    /// `CreditNoteNumber`.
    pub credit_note_number: String,
    /// `CreditNoteInvoiceNumber`: the invoice it credits.
    pub invoice_number: String,
    /// `CreditNoteDate`.
    pub date: Option<NaiveDate>,
    /// Status.
    pub status: DocStatus,
    /// Lines.
    pub lines: Vec<Line>,
    /// Additional charges.
    pub charges: Vec<Charge>,
}

/// A purchase (master task) with its sub-documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Purchase {
    /// GUID.
    pub id: String,
    /// Simple, Advanced or Service.
    pub kind: PurchaseKind,
    /// INVOICE or STOCK.
    pub approach: Approach,
    /// Supplier GUID.
    pub supplier_id: String,
    /// Supplier name.
    pub supplier: String,
    /// Contact.
    pub contact: String,
    /// Phone.
    pub phone: String,
    /// Blind receipt.
    pub blind_receipt: bool,
    /// Billing address object, as sent.
    pub billing_address: Value,
    /// Shipping address object, as sent.
    pub shipping_address: Value,
    /// Base currency (fixed at creation).
    pub base_currency: String,
    /// Supplier currency (from the supplier card).
    pub supplier_currency: String,
    /// Base units per supplier unit.
    pub currency_rate: Decimal,
    /// Tax rule name.
    pub tax_rule: String,
    /// Exclusive or inclusive tax.
    pub tax_calculation: TaxCalculation,
    /// Payment term name.
    pub terms: String,
    /// Required by.
    pub required_by: Option<NaiveDate>,
    /// Location name.
    pub location: String,
    /// Note (1024).
    pub note: String,
    /// `PO-%05d`.
    pub order_number: String,
    /// Order date.
    pub order_date: Option<NaiveDate>,
    /// Service only.
    pub is_service_only: bool,
    /// Inventory account code.
    pub inventory_account: String,
    /// `AdditionalAttribute1..10`.
    pub additional_attributes: BTreeMap<String, String>,
    /// Bumped on every write.
    pub last_updated: DateTime<Utc>,
    /// The whole purchase was voided.
    pub voided: bool,
    /// The order.
    pub order: Order,
    /// Stock received tasks (at most one unless Advanced).
    pub stock: Vec<StockTask>,
    /// Invoice tasks (at most one unless Advanced).
    pub invoices: Vec<InvoiceTask>,
    /// Credit note tasks (at most one unless Advanced).
    pub credit_notes: Vec<CreditNoteTask>,
}

fn round2(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `(total, tax)` of one line: `total = round(Qty*Price*(1-Discount/100), 2)`; tax from the rule's
/// percentage, added (exclusive) or extracted (inclusive).
pub fn price_line(
    qty: Decimal,
    price: Decimal,
    discount: Decimal,
    rate: Decimal,
    calc: TaxCalculation,
) -> (Decimal, Decimal) {
    let hundred = Decimal::ONE_HUNDRED;
    let total = round2(qty * price * (hundred - discount) / hundred);
    let tax = match calc {
        TaxCalculation::Exclusive => round2(total * rate / hundred),
        TaxCalculation::Inclusive => round2(total - total * hundred / (hundred + rate)),
    };
    (total, tax)
}

/// `(TotalBeforeTax, Tax, Total)` of a document.
pub fn doc_totals(lines: &[Line], charges: &[Charge], calc: TaxCalculation) -> (Decimal, Decimal, Decimal) {
    let sum: Decimal = lines.iter().map(|l| l.total).chain(charges.iter().map(|c| c.total)).sum();
    let tax: Decimal = lines.iter().map(|l| l.tax).chain(charges.iter().map(|c| c.tax)).sum();
    let before = match calc {
        TaxCalculation::Exclusive => sum,
        TaxCalculation::Inclusive => sum - tax,
    };
    (before, tax, before + tax)
}

const TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

impl InvoiceTask {
    /// `(TotalBeforeTax, Tax, Total)`.
    pub fn totals(&self, calc: TaxCalculation) -> (Decimal, Decimal, Decimal) {
        doc_totals(&self.lines, &self.charges, calc)
    }

    /// Payments minus refunds.
    pub fn paid(&self) -> Decimal {
        self.payments.iter().map(|p| if p.kind.eq_ignore_ascii_case("REFUND") { -p.amount } else { p.amount }).sum()
    }
}

impl Purchase {
    /// `(TotalBeforeTax, Tax, Total)` of the order.
    pub fn order_totals(&self) -> (Decimal, Decimal, Decimal) {
        doc_totals(&self.order.lines, &self.order.charges, self.tax_calculation)
    }

    fn ordered_qty(&self) -> Decimal {
        self.order.lines.iter().map(|l| l.quantity).sum()
    }

    fn received_qty(&self) -> Decimal {
        self.stock
            .iter()
            .filter(|s| s.status == DocStatus::Authorised)
            .flat_map(|s| s.lines.iter())
            .map(|l| l.quantity)
            .sum()
    }

    fn invoiced_before_tax(&self) -> Decimal {
        self.invoices.iter().filter(|i| i.status.is_final()).map(|i| i.totals(self.tax_calculation).0).sum()
    }

    fn credited(&self) -> bool {
        self.credit_notes.iter().any(|c| c.status == DocStatus::Authorised)
    }

    /// `CombinedReceivingStatus` **[C values; I rules]**.
    pub fn combined_receiving(&self) -> &'static str {
        if self.voided {
            return "VOIDED";
        }
        if self.is_service_only || self.kind == PurchaseKind::Service || self.ordered_qty().is_zero() {
            return "NOT AVAILABLE";
        }
        if self.order.status != DocStatus::Authorised && self.stock.is_empty() {
            return "NOT AVAILABLE";
        }
        let got = self.received_qty();
        if got.is_zero() {
            "NOT RECEIVED"
        } else if got < self.ordered_qty() {
            "PARTIALLY RECEIVED"
        } else {
            "FULLY RECEIVED"
        }
    }

    /// Invoiced in full / in part / not at all (`None`: not available).
    fn invoicing(&self) -> Option<&'static str> {
        if self.voided
            || (self.order.status != DocStatus::Authorised && !self.invoices.iter().any(|i| i.status.is_final()))
        {
            return None;
        }
        let inv = self.invoiced_before_tax();
        if !self.invoices.iter().any(|i| i.status.is_final()) {
            return Some("NOT INVOICED");
        }
        if self.kind == PurchaseKind::Advanced && inv + TOLERANCE < self.order_totals().0 {
            return Some("PARTIALLY INVOICED");
        }
        Some("INVOICED")
    }

    /// `CombinedInvoiceStatus` **[C values; I rules]**.
    pub fn combined_invoice(&self) -> String {
        match self.invoicing() {
            None => "NOT AVAILABLE".into(),
            Some(s) if s != "NOT INVOICED" && self.credited() => format!("{s} / CREDITED"),
            Some(s) => s.into(),
        }
    }

    /// Total of authorised (and paid) invoices.
    pub fn invoice_amount(&self) -> Decimal {
        self.invoices.iter().filter(|i| i.status.is_final()).map(|i| i.totals(self.tax_calculation).2).sum()
    }

    /// Payments over all invoices.
    pub fn paid_amount(&self) -> Decimal {
        self.invoices.iter().map(InvoiceTask::paid).sum()
    }

    /// `CombinedPaymentStatus` **[C values; I rules]**.
    pub fn combined_payment(&self) -> &'static str {
        if self.voided {
            return "VOIDED";
        }
        let due = self.invoice_amount();
        let paid = self.paid_amount();
        let credits: Decimal = self
            .credit_notes
            .iter()
            .filter(|c| c.status == DocStatus::Authorised)
            .map(|c| doc_totals(&c.lines, &c.charges, self.tax_calculation).2)
            .sum();
        if due.is_zero() {
            return if paid > Decimal::ZERO { "PREPAID" } else { "UNPAID" };
        }
        let outstanding = due - credits - paid;
        if outstanding > TOLERANCE {
            if paid > Decimal::ZERO { "PARTIALLY PAID" } else { "UNPAID" }
        } else if outstanding < -TOLERANCE {
            "OVERPAID / CREDITED"
        } else {
            "PAID"
        }
    }

    /// Top-level `Status`, derived from the sub-documents **[C list; I rules]**.
    pub fn status(&self) -> String {
        if self.voided {
            return "VOIDED".into();
        }
        let nothing = self.stock.is_empty() && self.invoices.is_empty() && self.credit_notes.is_empty();
        match self.order.status {
            DocStatus::NotAvailable if nothing => return "DRAFT".into(),
            DocStatus::Draft => return "ORDERING".into(),
            _ => {}
        }
        let recv = self.combined_receiving();
        let service = recv == "NOT AVAILABLE";
        let base = match self.invoicing() {
            Some("INVOICED") if recv == "FULLY RECEIVED" || service => "COMPLETED",
            Some("INVOICED") => "INVOICED",
            Some("PARTIALLY INVOICED") => "PARTIALLY INVOICED",
            _ if recv == "FULLY RECEIVED" => "RECEIVED",
            _ if recv == "PARTIALLY RECEIVED" || self.stock.iter().any(|s| s.status == DocStatus::Draft) => "RECEIVING",
            _ => "ORDERED",
        };
        if self.credited() {
            return match base {
                "RECEIVING" => "RECEIVING / CREDITED".into(),
                "RECEIVED" => "RECEIVED / CREDITED".into(),
                _ => "CREDITED".into(),
            };
        }
        base.into()
    }

    /// Status of the receipt as the list reports it: the latest task's.
    pub fn stock_status(&self) -> DocStatus {
        self.stock.last().map(|s| s.status).unwrap_or_default()
    }

    /// Every task id of this purchase (the purchase id first).
    pub fn task_ids(&self) -> Vec<&str> {
        let mut v = vec![self.id.as_str()];
        v.extend(self.stock.iter().map(|t| t.task_id.as_str()));
        v.extend(self.invoices.iter().map(|t| t.task_id.as_str()));
        v.extend(self.credit_notes.iter().map(|t| t.task_id.as_str()));
        v
    }
}

/// A supplier address.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SupplierAddress {
    /// GUID.
    pub id: String,
    /// Line 1 (required).
    pub line1: String,
    /// Line 2.
    pub line2: String,
    /// City.
    pub city: String,
    /// State.
    pub state: String,
    /// Postcode.
    pub postcode: String,
    /// Country (required).
    pub country: String,
    /// `Billing`, `Business` or `Shipping`.
    pub kind: String,
    /// Default for its type.
    pub default_for_type: bool,
}

/// A supplier contact.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SupplierContact {
    /// GUID.
    pub id: String,
    /// Name (required).
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Mobile.
    pub mobile_phone: String,
    /// Fax.
    pub fax: String,
    /// Email.
    pub email: String,
    /// Website.
    pub website: String,
    /// Comment.
    pub comment: String,
    /// Default contact.
    pub default: bool,
    /// Include in emails.
    pub include_in_email: bool,
}

/// A supplier card (fact sheet §5).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Supplier {
    /// GUID.
    pub id: String,
    /// Name (256, unique case-insensitively).
    pub name: String,
    /// Three-letter currency.
    pub currency: String,
    /// Payment term name (an active one).
    pub payment_term: String,
    /// Accounts-payable account code (the `CREDITORS` system account).
    pub account_payable: String,
    /// Tax rule name.
    pub tax_rule: String,
    /// `Active` or `Deprecated`.
    pub status: String,
    /// Discount percent.
    pub discount: Decimal,
    /// Comments (256).
    pub comments: String,
    /// Tax number (string or null, whatever the docs say).
    pub tax_number: Option<String>,
    /// Attribute set.
    pub attribute_set: String,
    /// `AdditionalAttribute1..10`.
    pub additional_attributes: BTreeMap<String, String>,
    /// Bumped on every write.
    pub last_modified: DateTime<Utc>,
    /// Addresses.
    pub addresses: Vec<SupplierAddress>,
    /// Contacts.
    pub contacts: Vec<SupplierContact>,
}

impl Supplier {
    /// Whether the supplier is active.
    pub fn is_active(&self) -> bool {
        self.status.eq_ignore_ascii_case("Active")
    }
}

/// A chart-of-accounts row (fact sheet §6).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Account {
    /// Code (50, unique).
    pub code: String,
    /// Name.
    pub name: String,
    /// `Type` (`EXPENSE`, `BANK`, `CURRLIAB`, ...).
    pub kind: String,
    /// `ACTIVE` or `ARCHIVED`.
    pub status: String,
    /// Description.
    pub description: String,
    /// `ASSET`, `LIABILITY`, `EXPENSE`, `EQUITY`, `REVENUE`.
    pub class: String,
    /// `SystemAccount` (`Accounts payable`).
    pub system_account: String,
    /// `SystemAccountCode` (`CREDITORS`).
    pub system_account_code: String,
    /// Usable for payments.
    pub for_payments: bool,
    /// Currency (bank accounts).
    pub currency: String,
    /// Bank account number.
    pub bank_account_number: String,
}

impl Account {
    /// An active account.
    pub fn new(code: &str, name: &str, kind: &str, class: &str) -> Self {
        Account {
            code: code.into(),
            name: name.into(),
            kind: kind.into(),
            class: class.into(),
            status: "ACTIVE".into(),
            ..Default::default()
        }
    }

    /// Whether the account is active.
    pub fn is_active(&self) -> bool {
        self.status.eq_ignore_ascii_case("ACTIVE")
    }
}

/// A payment term.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaymentTerm {
    /// Name (`Net 30`).
    pub name: String,
    /// Days after the invoice date.
    pub days: i64,
    /// Active.
    pub active: bool,
}

/// A tax rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaxRule {
    /// Name.
    pub name: String,
    /// Percent (10.1 = 10.1 %).
    pub percent: Decimal,
    /// Active.
    pub active: bool,
}

/// A registered webhook (fact sheet §7).
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Webhook {
    /// GUID.
    pub id: String,
    /// Event type, canonical spelling (`Purchase/InvoiceAuthorised`).
    pub kind: String,
    /// Active; cleared after the last delivery attempt fails **[C]**.
    pub is_active: bool,
    /// Target URL.
    pub url: String,
    /// `noauth`, `basicauth` or `bearerauth`.
    pub auth_type: String,
    /// Basic user name.
    pub username: String,
    /// Basic password.
    pub password: String,
    /// Bearer token.
    pub bearer: String,
    /// `ExternalHeaders`.
    pub headers: Vec<(String, String)>,
}

/// Every event type with its read-only friendly `Name` **[C types; I names]**.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("Sale/Created", "Sale has been created"),
    ("Sale/QuoteAuthorised", "Sale quote has been authorised"),
    ("Sale/OrderAuthorised", "Sale order has been authorised"),
    ("Sale/Voided", "Sale has been voided"),
    ("Sale/Backordered", "Sale has been backordered"),
    ("Sale/ShipmentAuthorised", "Sale shipment has been authorised"),
    ("Sale/InvoiceAuthorised", "Sale invoice has been authorised"),
    ("Sale/PickAuthorised", "Sale pick has been authorised"),
    ("Sale/PackAuthorised", "Sale pack has been authorised"),
    ("Sale/CreditNoteAuthorised", "Sale credit note has been authorised"),
    ("Sale/Undo", "Sale has been undone"),
    ("Sale/PartialPaymentReceived", "Sale partial payment has been received"),
    ("Sale/FullPaymentReceived", "Sale full payment has been received"),
    ("Sale/AttachmentAdded", "Sale attachment has been added"),
    ("Sale/AdditionalAttributesChanged", "Sale additional attributes have been changed"),
    ("Sale/ShipmentTrackingNumberChanged", "Sale shipment tracking number has been changed"),
    ("Purchase/OrderAuthorised", "Purchase order has been authorised"),
    ("Purchase/InvoiceAuthorised", "Purchase invoice has been authorised"),
    ("Purchase/StockReceivedAuthorised", "Purchase stock received has been authorised"),
    ("Purchase/CreditNoteAuthorised", "Purchase credit note has been authorised"),
    ("Purchase/Updated", "Purchase has been updated"),
    ("Customer/Updated", "Customer has been updated"),
    ("Supplier/Updated", "Supplier has been updated"),
    ("Product/Updated", "Product has been updated"),
    ("Stock/AvailableStockLevelChanged", "Available stock level has been changed"),
    ("Lead/Updated", "Lead has been updated"),
    ("Lead/Converted", "Lead has been converted"),
    ("Opportunity/Authorized", "Opportunity has been authorised"),
    ("Opportunity/AttachmentAdded", "Opportunity attachment has been added"),
    ("Opportunity/Voided", "Opportunity has been voided"),
    ("Opportunity/Converted", "Opportunity has been converted"),
    ("Task/Overdue", "Task is overdue"),
];

/// The canonical spelling of an event type, matched case-insensitively.
pub fn event_type(s: &str) -> Option<&'static str> {
    EVENT_TYPES.iter().find(|(t, _)| t.eq_ignore_ascii_case(s.trim())).map(|(t, _)| *t)
}

/// The friendly name of an event type.
pub fn event_name(t: &str) -> &'static str {
    EVENT_TYPES.iter().find(|(x, _)| x.eq_ignore_ascii_case(t)).map(|(_, n)| *n).unwrap_or("")
}

/// A fresh lower-case GUID.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Whether two GUIDs are the same (case-insensitive, braces and blanks ignored).
pub fn same_id(a: &str, b: &str) -> bool {
    let clean = |s: &str| s.trim().trim_start_matches('{').trim_end_matches('}').to_ascii_lowercase();
    clean(a) == clean(b)
}

/// The all-zero GUID a client sends for "new task".
pub fn is_zero_id(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t.chars().all(|c| c == '0' || c == '-' || c == '{' || c == '}')
}

/// Dates as Cin7 writes them: `2025-06-16T00:00:00`.
pub fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%dT00:00:00").to_string()
}

/// An optional date as JSON (`null` when absent).
pub fn date_value(d: Option<NaiveDate>) -> Value {
    d.map(|d| Value::String(fmt_date(d))).unwrap_or(Value::Null)
}

/// Read an ISO 8601 stamp the way Cin7 writes them: optional `Z`/offset, 0–7 (or more) fraction
/// digits, a date alone, `T` or a space; zone-less means UTC.
pub fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    let t = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')).unwrap_or(t);
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return Some(n.and_utc());
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|n| n.and_utc())
}

/// Read a date (a stamp's date part).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    parse_stamp(s).map(|d| d.date_naive())
}

/// A decimal as a JSON number.
pub fn num(d: Decimal) -> Value {
    let d = d.normalize();
    if d.fract().is_zero()
        && let Ok(i) = i64::try_from(d)
    {
        return Value::from(i);
    }
    d.to_string().parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number).unwrap_or(Value::Null)
}

/// A request-body object whose keys are matched case-insensitively, as .NET model binding does.
#[derive(Debug, Clone, Copy)]
pub struct Obj<'a>(pub &'a Map<String, Value>);

impl<'a> Obj<'a> {
    /// The value of a key (null counts as absent).
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        crate::common::json::get_ci(self.0, key).filter(|v| !v.is_null())
    }

    /// Whether a key is present (even null).
    pub fn has(&self, key: &str) -> bool {
        crate::common::json::get_ci(self.0, key).is_some()
    }

    /// A scalar as trimmed text; absent or blank → `None`.
    pub fn text(&self, key: &str) -> Option<String> {
        self.get(key)
            .filter(|v| !v.is_array() && !v.is_object())
            .map(scalar_text)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }

    /// Text or `""`.
    pub fn str(&self, key: &str) -> String {
        self.text(key).unwrap_or_default()
    }

    /// A number (or numeric string).
    pub fn dec(&self, key: &str) -> Result<Option<Decimal>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                let t = scalar_text(v);
                let t = t.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                t.parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(t))
                    .map(Some)
                    .map_err(|_| format!("{key} '{t}' is not a number"))
            }
        }
    }

    /// A boolean (`true`, `"true"`, `1`).
    pub fn boolean(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            v => match scalar_text(v).trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "y" => Some(true),
                "false" | "0" | "no" | "n" => Some(false),
                _ => None,
            },
        }
    }

    /// A date.
    pub fn date(&self, key: &str) -> Result<Option<NaiveDate>, String> {
        match self.text(key) {
            None => Ok(None),
            Some(t) => parse_date(&t).map(Some).ok_or_else(|| format!("{key} '{t}' is not a date")),
        }
    }

    /// A stamp.
    pub fn stamp(&self, key: &str) -> Result<Option<DateTime<Utc>>, String> {
        match self.text(key) {
            None => Ok(None),
            Some(t) => parse_stamp(&t).map(Some).ok_or_else(|| format!("{key} '{t}' is not a date")),
        }
    }

    /// Objects under a key: an array of objects, or one object (legacy answers).
    pub fn objects(&self, key: &str) -> Vec<Obj<'a>> {
        match self.get(key) {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_object).map(Obj).collect(),
            Some(Value::Object(m)) => vec![Obj(m)],
            _ => Vec::new(),
        }
    }

    /// An object under a key.
    pub fn object(&self, key: &str) -> Option<Obj<'a>> {
        self.get(key).and_then(Value::as_object).map(Obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn line_arithmetic() {
        assert_eq!(price_line(d("3"), d("10.005"), d("0"), d("0"), TaxCalculation::Exclusive), (d("30.02"), d("0")));
        assert_eq!(price_line(d("2"), d("50"), d("10"), d("10"), TaxCalculation::Exclusive), (d("90.00"), d("9.00")));
        assert_eq!(price_line(d("1"), d("110"), d("0"), d("10"), TaxCalculation::Inclusive), (d("110"), d("10.00")));
    }

    #[test]
    fn stamps_in_every_shape() {
        for s in [
            "2017-12-08T00:00:00",
            "2017-12-08T10:14:18.45Z",
            "2021-11-02T11:44:45.21",
            "2017-12-05T06:05:06.9472864Z",
            "2017-12-05",
            "2017-12-05T06:05:06+00:00",
        ] {
            assert!(parse_stamp(s).is_some(), "{s}");
        }
        assert_eq!(parse_stamp("2017-12-05T06:05:06.9472864Z").unwrap().timestamp_subsec_nanos(), 947_286_400);
        assert!(parse_stamp("yesterday").is_none());
        assert!(same_id("8B1538E4-AAAA-BBBB-CCCC-000000000001", "{8b1538e4-aaaa-bbbb-cccc-000000000001}"));
        assert!(is_zero_id("00000000-0000-0000-0000-000000000000"));
        assert_eq!(num(d("12.50")), serde_json::json!(12.5));
        assert_eq!(num(d("12.00")), serde_json::json!(12));
    }
}
