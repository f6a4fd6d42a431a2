//! Typed Coupa records, decoded tolerantly, and the `fields` lists that pin what we read.
//!
//! - Keys are kebab-case; every field is optional in the JSON and unknown keys are ignored, so an
//!   instance on a newer release, or with a different default API response filter, decodes the
//!   same (and the `fields` lists below make the payload explicit anyway).
//! - Money is `Decimal`, read from strings (`"1050.00"`, Coupa's way) or numbers; ids are `i64`
//!   from numbers or strings; `line-num` is a number on invoice lines and a string on PO lines,
//!   and both are read from either.
//! - Datetimes are instants (Coupa writes them with the instance's offset; a stamp without one
//!   would be read as UTC); dates are the calendar date as written (Coupa writes dates as midnight
//!   in the instance's zone, so converting to UTC first would move dates east of UTC a day back).
//! - Amounts Coupa may send as `null` read as zero, flags as false, texts as empty.
//! - `custom-fields` is an open map.
//!
//! The decoding itself is the connector kit's (`mlc_http::decode`); the four helpers below only
//! give its optional readers the defaults these models want.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use mlc_http::decode::{self, de};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

/// An amount; `null` or blank is zero (Coupa writes absent amounts as `null`).
fn money<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    de::opt_decimal(d).map(Option::unwrap_or_default)
}

/// Text; `null` or blank is empty.
fn text_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de::opt_text(d).map(Option::unwrap_or_default)
}

/// A yes/no; `null` is no.
fn flag_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    de::opt_flag(d).map(|f| f.unwrap_or(false))
}

/// `custom-fields`: an object, `null` as none.
fn custom_fields<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    match Value::deserialize(d)? {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Map::new()),
        other => Err(serde::de::Error::custom(format!("custom-fields must be an object, not {other}"))),
    }
}

/// A currency as embedded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct CurrencyRef {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "text_or_empty")]
    pub code: String,
    #[serde(deserialize_with = "de::opt_int")]
    pub decimals: Option<i64>,
}

/// A country as embedded (`{id, code, name}`; the address API may flatten it to a name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Country {
    pub code: String,
    pub name: String,
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Object(m) => Country {
                code: m.get("code").and_then(decode::text).unwrap_or_default(),
                name: m.get("name").and_then(decode::text).unwrap_or_default(),
            },
            Value::String(s) if s.trim().len() == 2 => {
                Country { code: s.trim().to_ascii_uppercase(), name: String::new() }
            }
            Value::String(s) => Country { code: String::new(), name: s.trim().to_string() },
            _ => Country::default(),
        })
    }
}

/// A postal address (the fields shared by supplier, remit-to and supplier-information addresses).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Address {
    #[serde(deserialize_with = "text_or_empty")]
    pub street1: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub street2: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub city: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub state: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub postal_code: String,
    pub country: Option<Country>,
}

/// A remit-to address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct RemitTo {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "text_or_empty")]
    pub remit_to_code: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub name: String,
    #[serde(flatten)]
    pub address: Address,
    #[serde(deserialize_with = "de::opt_text")]
    pub vat_number: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub local_tax_number: Option<String>,
    #[serde(deserialize_with = "flag_or_false")]
    pub active: bool,
}

/// A payment term.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct PaymentTerm {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "text_or_empty")]
    pub code: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub description: String,
    #[serde(deserialize_with = "de::opt_int")]
    pub days_for_net_payment: Option<i64>,
    #[serde(deserialize_with = "de::opt_int")]
    pub days_for_discount_payment: Option<i64>,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub discount_rate: Option<Decimal>,
    #[serde(deserialize_with = "flag_or_false")]
    pub active: bool,
}

/// An account: segments 1–20 and `code` (the segments joined by `-`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: i64,
    pub name: String,
    pub code: String,
    pub active: bool,
    /// `segment-1` … `segment-20` (index 0 is segment 1); `None` where Coupa sent none.
    pub segments: Vec<Option<String>>,
    /// The chart of accounts (`account-type.name`).
    pub chart: Option<String>,
}

impl Account {
    /// Segment `n` (1-based), when set.
    pub fn segment(&self, n: usize) -> Option<&str> {
        n.checked_sub(1).and_then(|i| self.segments.get(i)).and_then(|s| s.as_deref())
    }
}

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use mlc_http::decode::{flag, int, text};
        let v = Value::deserialize(d)?;
        let Value::Object(m) = v else { return Err(serde::de::Error::custom("an account must be an object")) };
        let mut segments: Vec<Option<String>> =
            (1..=20).map(|n| m.get(&format!("segment-{n}")).and_then(text)).collect();
        while segments.last().is_some_and(Option::is_none) {
            segments.pop();
        }
        Ok(Account {
            id: m.get("id").and_then(int).unwrap_or(0),
            name: m.get("name").and_then(text).unwrap_or_default(),
            code: m.get("code").and_then(text).unwrap_or_default(),
            active: m.get("active").and_then(flag).unwrap_or(true),
            segments,
            chart: m.get("account-type").and_then(|t| t.get("name")).and_then(text),
        })
    }
}

/// A supplier as embedded in invoices and POs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct SupplierRef {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "text_or_empty")]
    pub name: String,
    #[serde(deserialize_with = "de::opt_text")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub number: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub tax_id: Option<String>,
}

/// A split of a line onto another account (`account-allocations`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Allocation {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "money")]
    pub amount: Decimal,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub pct: Option<Decimal>,
    pub account: Option<Account>,
}

/// An invoice line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct InvoiceLine {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::int")]
    pub line_num: i64,
    /// `InvoiceQuantityLine` or `InvoiceAmountLine`.
    #[serde(rename = "type", deserialize_with = "text_or_empty")]
    pub kind: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub description: String,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub quantity: Option<Decimal>,
    #[serde(deserialize_with = "money")]
    pub price: Decimal,
    #[serde(deserialize_with = "money")]
    pub total: Decimal,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub tax_amount: Option<Decimal>,
    pub account: Option<Account>,
    #[serde(deserialize_with = "de::one_or_many")]
    pub account_allocations: Vec<Allocation>,
    /// The PO line billed, when the invoice is backed by a PO.
    #[serde(deserialize_with = "de::opt_int")]
    pub order_line_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text")]
    pub po_number: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub order_header_num: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub order_line_num: Option<String>,
    #[serde(deserialize_with = "custom_fields")]
    pub custom_fields: Map<String, Value>,
}

impl InvoiceLine {
    /// The PO number this line bills (`po-number`, else `order-header-num`).
    pub fn po(&self) -> Option<&str> {
        self.po_number.as_deref().or(self.order_header_num.as_deref())
    }

    /// How the line is coded: each allocation's account and amount, or the line's own account
    /// and total when it is not split.
    pub fn coding(&self) -> Vec<(Option<&Account>, Decimal)> {
        if self.account_allocations.is_empty() {
            vec![(self.account.as_ref(), self.total)]
        } else {
            self.account_allocations.iter().map(|a| (a.account.as_ref().or(self.account.as_ref()), a.amount)).collect()
        }
    }
}

/// A header charge (shipping, handling, misc).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Charge {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    /// `InvoiceShippingCharge`, `InvoiceHandlingCharge`, `InvoiceMiscCharge`.
    #[serde(rename = "type", deserialize_with = "text_or_empty")]
    pub kind: String,
    #[serde(deserialize_with = "money")]
    pub total: Decimal,
    pub account: Option<Account>,
}

/// A header tax line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct TaxLine {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "money")]
    pub amount: Decimal,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub rate: Option<Decimal>,
    #[serde(deserialize_with = "text_or_empty")]
    pub code: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub description: String,
}

/// An invoice (`/api/invoices`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Invoice {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "text_or_empty")]
    pub invoice_number: String,
    #[serde(deserialize_with = "de::opt_date")]
    pub invoice_date: Option<NaiveDate>,
    #[serde(deserialize_with = "text_or_empty")]
    pub status: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub document_type: String,
    #[serde(deserialize_with = "flag_or_false")]
    pub is_credit_note: bool,
    #[serde(deserialize_with = "de::opt_text")]
    pub original_invoice_number: Option<String>,
    #[serde(deserialize_with = "de::opt_date")]
    pub original_invoice_date: Option<NaiveDate>,
    pub currency: Option<CurrencyRef>,
    pub supplier: Option<SupplierRef>,
    pub remit_to_address: Option<RemitTo>,
    pub payment_term: Option<PaymentTerm>,
    #[serde(deserialize_with = "de::opt_date")]
    pub net_due_date: Option<NaiveDate>,
    #[serde(deserialize_with = "money")]
    pub total_with_taxes: Decimal,
    #[serde(deserialize_with = "money")]
    pub gross_total: Decimal,
    #[serde(deserialize_with = "money")]
    pub amount_due: Decimal,
    #[serde(deserialize_with = "money")]
    pub tax_amount: Decimal,
    #[serde(deserialize_with = "money")]
    pub shipping_amount: Decimal,
    #[serde(deserialize_with = "money")]
    pub handling_amount: Decimal,
    #[serde(deserialize_with = "money")]
    pub misc_amount: Decimal,
    #[serde(deserialize_with = "money")]
    pub discount_amount: Decimal,
    #[serde(deserialize_with = "flag_or_false")]
    pub line_level_taxation: bool,
    #[serde(deserialize_with = "de::one_or_many")]
    pub invoice_lines: Vec<InvoiceLine>,
    #[serde(deserialize_with = "de::one_or_many")]
    pub invoice_charges: Vec<Charge>,
    #[serde(deserialize_with = "de::one_or_many")]
    pub tax_lines: Vec<TaxLine>,
    #[serde(deserialize_with = "flag_or_false")]
    pub exported: bool,
    #[serde(deserialize_with = "de::opt_datetime_utc")]
    pub last_exported_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_text")]
    pub comments: Option<String>,
    #[serde(deserialize_with = "custom_fields")]
    pub custom_fields: Map<String, Value>,
}

impl Invoice {
    /// A credit note: `document-type` "Credit Note", `is-credit-note`, or — as Coupa's own
    /// connector treats it — an invoice with a negative total.
    pub fn is_credit(&self) -> bool {
        self.is_credit_note
            || self.document_type.trim().eq_ignore_ascii_case("credit note")
            || self.total_with_taxes < Decimal::ZERO
    }

    pub fn is_approved(&self) -> bool {
        self.status.eq_ignore_ascii_case("approved")
    }

    pub fn is_voided(&self) -> bool {
        self.status.eq_ignore_ascii_case("voided")
    }

    /// The currency code (`USD`).
    pub fn currency_code(&self) -> Option<&str> {
        self.currency.as_ref().map(|c| c.code.as_str()).filter(|c| !c.is_empty())
    }

    /// The PO numbers the lines bill, in line order, without repeats.
    pub fn po_numbers(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for p in self.invoice_lines.iter().filter_map(InvoiceLine::po) {
            if !out.iter().any(|x| x == p) {
                out.push(p.to_string());
            }
        }
        out
    }

    /// Sum of line totals.
    pub fn lines_total(&self) -> Decimal {
        self.invoice_lines.iter().map(|l| l.total).sum()
    }

    /// The record version for work items: `updated-at` in UTC.
    pub fn version(&self) -> Option<String> {
        self.updated_at.map(version_stamp)
    }
}

/// A PO line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct OrderLine {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    /// A string in Coupa's JSON (`"1"`); numbers accepted.
    #[serde(deserialize_with = "text_or_empty")]
    pub line_num: String,
    #[serde(rename = "type", deserialize_with = "text_or_empty")]
    pub kind: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub description: String,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub quantity: Option<Decimal>,
    #[serde(deserialize_with = "money")]
    pub price: Decimal,
    #[serde(deserialize_with = "money")]
    pub total: Decimal,
    pub account: Option<Account>,
    #[serde(deserialize_with = "text_or_empty")]
    pub status: String,
    #[serde(deserialize_with = "de::opt_int")]
    pub order_header_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text")]
    pub order_header_number: Option<String>,
    #[serde(deserialize_with = "de::opt_int")]
    pub version: Option<i64>,
    #[serde(deserialize_with = "custom_fields")]
    pub custom_fields: Map<String, Value>,
}

/// A purchase order (`/api/purchase_orders`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct PurchaseOrder {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "text_or_empty")]
    pub po_number: String,
    /// `issued`, `closed`, `cancelled` (or `canceled`), …
    #[serde(deserialize_with = "text_or_empty")]
    pub status: String,
    /// The supplier-visible revision; a new version resets `exported`.
    #[serde(deserialize_with = "de::int")]
    pub version: i64,
    #[serde(deserialize_with = "de::opt_text")]
    pub change_type: Option<String>,
    #[serde(deserialize_with = "flag_or_false")]
    pub exported: bool,
    #[serde(deserialize_with = "de::opt_datetime_utc")]
    pub last_exported_at: Option<DateTime<Utc>>,
    pub supplier: Option<SupplierRef>,
    pub currency: Option<CurrencyRef>,
    pub payment_term: Option<PaymentTerm>,
    #[serde(deserialize_with = "de::one_or_many")]
    pub order_lines: Vec<OrderLine>,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub total: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub total_with_estimated_tax: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_decimal")]
    pub invoice_total: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_datetime_utc")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "custom_fields")]
    pub custom_fields: Map<String, Value>,
}

impl PurchaseOrder {
    /// The header total: whichever key the instance sends (which one is unknown \[U\]), else the
    /// sum of the lines that are not deleted.
    pub fn header_total(&self) -> Decimal {
        self.total.or(self.total_with_estimated_tax).or(self.invoice_total).unwrap_or_else(|| {
            self.order_lines.iter().filter(|l| !l.status.eq_ignore_ascii_case("deleted")).map(|l| l.total).sum()
        })
    }

    /// `cancelled` and `canceled` (both spellings occur in Coupa's documents).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.status.to_ascii_lowercase().as_str(), "cancelled" | "canceled")
    }

    pub fn version_stamp(&self) -> Option<String> {
        self.updated_at.map(version_stamp)
    }
}

/// A supplier's primary contact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Contact {
    #[serde(deserialize_with = "de::opt_text")]
    pub email: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub name_given: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub name_family: Option<String>,
    pub phone_work: Option<Phone>,
}

/// `{country-code, area-code, number, extension}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Phone {
    #[serde(deserialize_with = "text_or_empty")]
    pub country_code: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub area_code: String,
    #[serde(deserialize_with = "text_or_empty")]
    pub number: String,
    #[serde(deserialize_with = "de::opt_text")]
    pub extension: Option<String>,
}

impl Phone {
    /// `(206) 555-0100`, or what there is.
    pub fn display(&self) -> String {
        match (self.area_code.is_empty(), self.number.is_empty()) {
            (false, false) => format!("({}) {}", self.area_code, self.number),
            _ => format!("{}{}", self.area_code, self.number),
        }
    }
}

/// A supplier (`/api/suppliers`). No `exported` flag: sync by `updated-at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct Supplier {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "text_or_empty")]
    pub name: String,
    #[serde(deserialize_with = "de::opt_text")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub number: Option<String>,
    /// `active`, `inactive`, `draft`.
    #[serde(deserialize_with = "text_or_empty")]
    pub status: String,
    #[serde(deserialize_with = "de::opt_text")]
    pub tax_id: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub duns: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub account_number: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub payment_method: Option<String>,
    pub payment_term: Option<PaymentTerm>,
    pub primary_address: Option<Address>,
    pub primary_contact: Option<Contact>,
    #[serde(deserialize_with = "de::one_or_many")]
    pub remit_to_addresses: Vec<RemitTo>,
    #[serde(deserialize_with = "flag_or_false")]
    pub on_hold: bool,
    #[serde(deserialize_with = "de::opt_datetime_utc")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "custom_fields")]
    pub custom_fields: Map<String, Value>,
}

impl Supplier {
    pub fn is_active(&self) -> bool {
        self.status.eq_ignore_ascii_case("active")
    }

    /// The active remit-to address (the first active one).
    pub fn remit_to(&self) -> Option<&RemitTo> {
        self.remit_to_addresses.iter().find(|r| r.active).or(self.remit_to_addresses.first())
    }

    pub fn version(&self) -> Option<String> {
        self.updated_at.map(version_stamp)
    }
}

/// One address of a supplier-information record, with bank details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct BankAddress {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    /// `RTA`, `User`, `Primary`, `Standard`.
    #[serde(deserialize_with = "text_or_empty")]
    pub kind: String,
    #[serde(flatten)]
    pub address: Address,
    #[serde(deserialize_with = "de::opt_text")]
    pub bank_account_number: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub bank_routing_number: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub iban_number: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub swift_code: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub name_on_bank_account: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub bank_name: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub payment_method_item: Option<String>,
}

/// Tax and banking data of a supplier (`/api/supplier_information`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct SupplierInformation {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::int")]
    pub supplier_id: i64,
    #[serde(deserialize_with = "de::opt_text")]
    pub federal_tax_num: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub intl_tax_num: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub tax_classification: Option<String>,
    #[serde(deserialize_with = "de::opt_text")]
    pub pay_group: Option<String>,
    #[serde(deserialize_with = "text_or_empty")]
    pub status: String,
    #[serde(deserialize_with = "de::one_or_many")]
    pub supplier_information_addresses: Vec<BankAddress>,
}

/// A currency (`/api/currencies`).
pub type Currency = CurrencyRef;

/// An integration history record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
pub struct IntegrationRecord {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "text_or_empty")]
    pub document_type: String,
    #[serde(deserialize_with = "de::opt_int")]
    pub document_id: Option<i64>,
    #[serde(deserialize_with = "text_or_empty")]
    pub status: String,
    #[serde(deserialize_with = "flag_or_false")]
    pub resolved: bool,
}

/// A version stamp from a record's `updated-at`: UTC, seconds (what webhooks and polls agree on).
pub fn version_stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Decode one record, naming the call and the record on failure.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(v: Value, call: &str, what: &str) -> Result<T, crate::CoupaError> {
    serde_json::from_value(v).map_err(|e| crate::CoupaError::Decode {
        call: call.to_string(),
        detail: format!("could not read {what}: {e}"),
    })
}

fn account_fields() -> Value {
    let mut f =
        vec![json!("id"), json!("name"), json!("code"), json!("active"), json!({"account-type": ["id", "name"]})];
    f.extend((1..=20).map(|n| json!(format!("segment-{n}"))));
    Value::Array(f)
}

fn address_fields() -> Vec<Value> {
    vec![
        json!("street1"),
        json!("street2"),
        json!("city"),
        json!("state"),
        json!("postal-code"),
        json!({"country": ["code", "name"]}),
    ]
}

fn remit_to_fields() -> Value {
    let mut f = vec![
        json!("id"),
        json!("remit-to-code"),
        json!("name"),
        json!("active"),
        json!("vat-number"),
        json!("local-tax-number"),
    ];
    f.extend(address_fields());
    Value::Array(f)
}

fn term_fields() -> Value {
    json!(["id", "code", "description", "days-for-net-payment", "days-for-discount-payment", "discount-rate", "active"])
}

fn cached(cell: &'static OnceLock<String>, build: fn() -> Value) -> &'static str {
    cell.get_or_init(|| build().to_string())
}

/// `fields` for invoices: everything the flows read, nothing else.
pub fn invoice_fields() -> &'static str {
    static F: OnceLock<String> = OnceLock::new();
    cached(&F, || {
        let supplier = json!(["id", "name", "display-name", "number", "tax-id"]);
        json!([
            "id", "invoice-number", "invoice-date", "status", "document-type", "is-credit-note",
            "original-invoice-number", "original-invoice-date", "exported", "last-exported-at", "created-at",
            "updated-at", "total-with-taxes", "gross-total", "amount-due", "tax-amount", "shipping-amount",
            "handling-amount", "misc-amount", "discount-amount", "net-due-date", "line-level-taxation", "comments",
            {"currency": ["id", "code", "decimals"]},
            {"supplier": supplier},
            {"remit-to-address": remit_to_fields()},
            {"payment-term": term_fields()},
            {"tax-lines": ["id", "amount", "rate", "code", "description"]},
            {"invoice-charges": ["id", "type", "total", {"account": account_fields()}]},
            {"invoice-lines": [
                "id", "line-num", "type", "description", "quantity", "price", "total", "tax-amount", "order-line-id",
                "po-number", "order-header-num", "order-line-num",
                {"account": account_fields()},
                {"account-allocations": ["id", "amount", "pct", {"account": account_fields()}]},
                {"custom_fields": {}}
            ]},
            {"custom_fields": {}}
        ])
    })
}

/// `fields` for purchase orders.
pub fn po_fields() -> &'static str {
    static F: OnceLock<String> = OnceLock::new();
    cached(&F, || {
        json!([
            "id", "po-number", "status", "version", "change-type", "exported", "last-exported-at", "created-at",
            "updated-at", "total", "total-with-estimated-tax", "invoice-total",
            {"supplier": ["id", "name", "display-name", "number", "tax-id"]},
            {"currency": ["id", "code", "decimals"]},
            {"payment-term": term_fields()},
            {"order-lines": order_line_fields()},
            {"custom_fields": {}}
        ])
    })
}

fn order_line_fields() -> Value {
    json!([
        "id", "line-num", "type", "description", "quantity", "price", "total", "status", "order-header-id",
        "order-header-number", "version", {"account": account_fields()}, {"custom_fields": {}}
    ])
}

/// `fields` for PO lines.
pub fn order_line_fields_text() -> &'static str {
    static F: OnceLock<String> = OnceLock::new();
    cached(&F, order_line_fields)
}

/// `fields` for suppliers.
pub fn supplier_fields() -> &'static str {
    static F: OnceLock<String> = OnceLock::new();
    cached(&F, || {
        let mut addr = address_fields();
        addr.insert(0, json!("id"));
        json!([
            "id", "name", "display-name", "number", "status", "tax-id", "duns", "account-number", "payment-method",
            "on-hold", "created-at", "updated-at",
            {"payment-term": term_fields()},
            {"primary-address": addr},
            {"primary-contact": ["email", "name-given", "name-family", {"phone-work": ["country-code", "area-code", "number", "extension"]}]},
            {"remit-to-addresses": remit_to_fields()},
            {"custom_fields": {}}
        ])
    })
}

/// `fields` for remit-to addresses.
pub fn remit_to_fields_text() -> &'static str {
    static F: OnceLock<String> = OnceLock::new();
    cached(&F, remit_to_fields)
}

/// `fields` for accounts.
pub fn account_fields_text() -> &'static str {
    static F: OnceLock<String> = OnceLock::new();
    cached(&F, account_fields)
}

/// `fields` for payment terms.
pub fn term_fields_text() -> &'static str {
    static F: OnceLock<String> = OnceLock::new();
    cached(&F, term_fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerant_invoice_decoding() {
        let v = json!({
            "id": "1001", "invoice-number": 778, "invoice-date": "2025-06-01T00:00:00+10:00", "status": "approved",
            "document-type": "Invoice", "total-with-taxes": 5032.5, "tax-amount": "12.50", "exported": "false",
            "updated-at": "2025-06-03T10:00:00-07:00", "currency": {"code": "USD", "decimals": "2"},
            "supplier": {"id": 5, "name": "Cascadia", "number": null},
            "custom-fields": null,
            "invoice-lines": [{"id": 901, "line-num": "1", "price": "5000", "total": "5000.00", "po-number": "4500001",
                "account": {"id": 10, "code": "5110-100-2023014", "segment-1": "5110", "segment-2": "100", "segment-3": "2023014", "segment-4": null},
                "account-allocations": [{"amount": "3000", "pct": 60, "account": {"id": 11, "segment-3": "2024022"}},
                                        {"amount": "2000", "pct": "40"}]}],
            "remit-to-address": {"id": 50, "street1": "PO Box 1", "country": "United States", "active": true},
            "brand-new-field": {"x": 1}
        });
        let inv: Invoice = serde_json::from_value(v).expect("decodes");
        assert_eq!((inv.id, inv.invoice_number.as_str()), (1001, "778"));
        assert_eq!(inv.invoice_date, NaiveDate::from_ymd_opt(2025, 6, 1), "the date as written");
        assert_eq!(inv.total_with_taxes, Decimal::new(50325, 1));
        assert_eq!(inv.version().as_deref(), Some("2025-06-03T17:00:00Z"));
        assert_eq!(inv.currency_code(), Some("USD"));
        assert_eq!(inv.po_numbers(), ["4500001"]);
        let l = &inv.invoice_lines[0];
        assert_eq!((l.line_num, l.account.as_ref().and_then(|a| a.segment(3))), (1, Some("2023014")));
        assert_eq!(l.account.as_ref().map(|a| a.segments.len()), Some(3));
        let coding = l.coding();
        assert_eq!(
            (coding[0].0.map(|a| a.id), coding[1].0.map(|a| a.id), coding[1].1),
            (Some(11), Some(10), Decimal::from(2000))
        );
        assert_eq!(
            inv.remit_to_address.as_ref().and_then(|r| r.address.country.clone()).map(|c| c.name),
            Some("United States".into())
        );
        assert!(!inv.is_credit());
        let bad = serde_json::from_value::<Invoice>(json!({"id": 1, "total-with-taxes": "lots"}));
        assert!(bad.unwrap_err().to_string().contains("not a number"));
        let nulls: Invoice =
            serde_json::from_value(json!({"id": 2, "tax-amount": null, "exported": null, "comments": null,
            "invoice-lines": null, "custom-fields": null}))
            .expect("nulls are absent values");
        assert_eq!((nulls.tax_amount, nulls.exported, nulls.invoice_lines.len()), (Decimal::ZERO, false, 0));
    }

    #[test]
    fn po_total_from_any_key_or_the_lines() {
        let po: PurchaseOrder =
            serde_json::from_value(json!({"id": 7, "po-number": 4500001, "status": "canceled", "version": "2",
            "order-lines": [{"line-num": 1, "total": "100"}, {"line-num": "2", "total": "50", "status": "deleted"}]}))
            .unwrap();
        assert_eq!((po.po_number.as_str(), po.version, po.order_lines[0].line_num.as_str()), ("4500001", 2, "1"));
        assert_eq!(po.header_total(), Decimal::from(100));
        assert!(po.is_cancelled());
        let po: PurchaseOrder = serde_json::from_value(json!({"total-with-estimated-tax": "11000.00"})).unwrap();
        assert_eq!(po.header_total(), Decimal::from(11000));
        assert!(invoice_fields().contains("\"segment-20\"") && po_fields().starts_with('['));
    }
}
