//! The simulated instance's records, and the small helpers that write them the way Coupa's JSON
//! does (kebab-case keys, decimals as strings, datetimes with the instance's offset, countries as
//! `{id, code, name}`).
//!
//! Records hold references by id (`supplier_id`, `account_id`, `order_line_id`); each resource
//! module renders them with their associations embedded in full, as Coupa does without `fields`.
//! Seed JSON and snapshots use these structs' serde form (kebab-case too), so a scenario reads
//! like Coupa's own payloads with ids where Coupa would embed an object.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::switches::{CoupaSwitches, DatetimeStyle};

/// Free-form custom fields (`"custom-fields": {"cf-…": …}`), kept in order.
pub type CustomFields = Map<String, Value>;

/// An OAuth2/OIDC client (Setup > Integrations > Oauth2/OpenID Connect Clients), grant type
/// client credentials, with the scopes the admin picked and its technical user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct OAuthClient {
    /// Identifier.
    pub client_id: String,
    /// Secret.
    pub client_secret: String,
    /// Scopes this client may be granted.
    pub scopes: Vec<String>,
    /// The technical user changes are attributed to.
    pub login: String,
    /// An inactive client gets `invalid_client`.
    pub active: bool,
}

/// A minted access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Token {
    /// The bearer value.
    pub token: String,
    /// Who it was minted for.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Simulated mint time.
    pub issued_at: DateTime<Utc>,
    /// Simulated expiry.
    pub expires_at: DateTime<Utc>,
    /// Revoked by a control action.
    pub revoked: bool,
}

/// `/api/currencies`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Currency {
    pub id: i64,
    pub code: String,
    pub decimals: u32,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `/api/payment_terms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct PaymentTerm {
    pub id: i64,
    /// `Net 30`.
    pub code: String,
    pub description: String,
    pub days_for_net_payment: i64,
    pub days_for_discount_payment: i64,
    pub discount_rate: Decimal,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A chart of accounts (`account-type` on accounts and invoices).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct ChartOfAccounts {
    pub id: i64,
    pub name: String,
    pub currency_code: String,
}

/// `/api/accounts`: a combination of up to 20 segments; `code` is the segments joined by `-`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Account {
    pub id: i64,
    pub name: String,
    /// `segment-1` … `segment-20`, in order (trailing ones may be absent).
    pub segments: Vec<String>,
    pub active: bool,
    pub account_type_id: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Account {
    /// Segments joined by `-`, as Coupa's `code`.
    pub fn code(&self) -> String {
        self.segments.iter().filter(|s| !s.is_empty()).cloned().collect::<Vec<_>>().join("-")
    }
}

/// A user as embedded (`UserSimple`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct User {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub firstname: String,
    pub lastname: String,
    pub employee_number: String,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Address {
    pub street1: String,
    pub street2: String,
    pub city: String,
    pub state: String,
    #[serde(alias = "postal_code")]
    pub postal_code: String,
    /// ISO country code (`US`).
    pub country: String,
}

/// A supplier's primary contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Contact {
    pub email: String,
    pub name_given: String,
    pub name_family: String,
    pub phone: String,
}

/// A remit-to address (`/api/suppliers/{id}/addresses`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct RemitTo {
    pub id: i64,
    /// `remit-to-code`, unique per supplier.
    pub remit_to_code: String,
    pub name: String,
    pub address: Address,
    pub vat_number: String,
    pub local_tax_number: String,
    pub active: bool,
    pub external_src_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `/api/suppliers`. No `exported` flag (fact sheet §0.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Supplier {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub number: Option<String>,
    /// `active`, `inactive`, `draft`.
    pub status: String,
    pub tax_id: String,
    pub duns: String,
    pub account_number: String,
    pub invoice_matching_level: String,
    pub payment_method: String,
    pub payment_term_id: Option<i64>,
    pub primary_address: Address,
    pub primary_contact: Contact,
    pub remit_to_addresses: Vec<RemitTo>,
    pub on_hold: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub custom_fields: CustomFields,
}

/// One address of a supplier information record, with the bank details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct SupplierInformationAddress {
    pub id: i64,
    /// `RTA`, `User`, `Primary`, `Standard`.
    pub kind: String,
    pub address: Address,
    pub bank_account_number: String,
    pub bank_routing_number: String,
    pub iban_number: String,
    pub swift_code: String,
    pub name_on_bank_account: String,
    pub bank_name: String,
    /// `tran`, `cash`, `cred`, `pcard`.
    pub payment_method_item: String,
}

/// `/api/supplier_information`: tax and banking data (not on `/api/suppliers`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct SupplierInformation {
    pub id: i64,
    pub supplier_id: i64,
    pub name: String,
    pub federal_tax_num: String,
    pub intl_tax_num: String,
    pub tax_classification: String,
    pub tax_region: String,
    pub pay_group: String,
    pub status: String,
    pub addresses: Vec<SupplierInformationAddress>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Quantity or amount line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum LineKind {
    /// `…QuantityLine`: quantity × price.
    #[default]
    #[serde(rename = "quantity")]
    Quantity,
    /// `…AmountLine`: price is the amount, quantity null.
    #[serde(rename = "amount")]
    Amount,
}

/// A purchase order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct OrderLine {
    pub id: i64,
    /// String in Coupa's JSON (`"1"`).
    pub line_num: String,
    pub kind: LineKind,
    pub description: String,
    pub quantity: Option<Decimal>,
    pub price: Decimal,
    pub account_id: Option<i64>,
    pub status: String,
    pub need_by_date: Option<NaiveDate>,
    pub received: Decimal,
    pub invoiced: Decimal,
    pub match_type: String,
    /// Removed by a PO change; only shown with `show_deleted_lines=true`.
    pub deleted: bool,
    /// The PO version this line was last changed in.
    pub version: i64,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl OrderLine {
    /// quantity × price (amount lines: price), rounded to cents.
    pub fn total(&self) -> Decimal {
        line_total(self.kind, self.quantity, self.price)
    }
}

/// One revision of a purchase order (history, shown in the snapshot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct PoRevision {
    pub version: i64,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// `/api/purchase_orders`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct PurchaseOrder {
    pub id: i64,
    pub po_number: String,
    /// `issued`, `closed`, `cancelled`, `draft`, `buyer_hold`, … (see `po_status_canceled_spelling`).
    pub status: String,
    /// Supplier-visible revision; bumps on resend.
    pub version: i64,
    pub internal_revision: i64,
    /// `change`, `revision`, `confirmation`, or empty for the original.
    pub change_type: String,
    pub exported: bool,
    pub last_exported_at: Option<DateTime<Utc>>,
    pub supplier_id: i64,
    pub currency_code: String,
    pub payment_term_id: Option<i64>,
    pub requester_id: Option<i64>,
    pub lines: Vec<OrderLine>,
    pub revisions: Vec<PoRevision>,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A split of a line's amount onto another account (`account-allocations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Allocation {
    pub id: i64,
    pub account_id: i64,
    pub amount: Decimal,
    pub pct: Decimal,
}

/// An invoice line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct InvoiceLine {
    pub id: i64,
    /// Integer in Coupa's JSON.
    pub line_num: i64,
    pub kind: LineKind,
    pub description: String,
    pub quantity: Option<Decimal>,
    pub price: Decimal,
    pub account_id: Option<i64>,
    pub allocations: Vec<Allocation>,
    /// The PO line this bills (`po-number`, `order-header-num`, `order-line-num` derive from it).
    pub order_line_id: Option<i64>,
    pub tax_amount: Decimal,
    pub tax_rate: Option<Decimal>,
    pub uom: String,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl InvoiceLine {
    /// quantity × price (amount lines: price), rounded to cents.
    pub fn total(&self) -> Decimal {
        line_total(self.kind, self.quantity, self.price)
    }
}

/// Shipping, handling or misc charge at header level (`invoice-charges`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    #[default]
    Shipping,
    Handling,
    Misc,
}

impl ChargeKind {
    /// Coupa's `type`.
    pub fn type_name(self) -> &'static str {
        match self {
            ChargeKind::Shipping => "InvoiceShippingCharge",
            ChargeKind::Handling => "InvoiceHandlingCharge",
            ChargeKind::Misc => "InvoiceMiscCharge",
        }
    }
}

/// An `invoice-charges` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Charge {
    pub id: i64,
    pub kind: ChargeKind,
    pub line_num: i64,
    pub total: Decimal,
    pub account_id: Option<i64>,
}

/// A header tax line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct TaxLine {
    pub id: i64,
    pub amount: Decimal,
    pub rate: Decimal,
    pub code: String,
    pub description: String,
}

/// `/api/invoices` (XML root `invoice-header`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Invoice {
    pub id: i64,
    pub invoice_number: String,
    pub invoice_date: Option<NaiveDate>,
    /// `draft`, `pending_approval`, `approved`, `voided`, … (the OAS enum).
    pub status: String,
    /// `Invoice` or `Credit Note`.
    pub document_type: String,
    pub original_invoice_number: Option<String>,
    pub original_invoice_date: Option<NaiveDate>,
    pub currency_code: String,
    pub supplier_id: i64,
    pub remit_to_id: Option<i64>,
    pub payment_term_id: Option<i64>,
    pub requested_by_id: Option<i64>,
    pub lines: Vec<InvoiceLine>,
    pub charges: Vec<Charge>,
    pub tax_lines: Vec<TaxLine>,
    pub line_level_taxation: bool,
    pub exported: bool,
    pub last_exported_at: Option<DateTime<Utc>>,
    pub paid: bool,
    pub comments: Option<String>,
    pub custom_fields: CustomFields,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Invoice {
    /// Whether this is a credit note.
    pub fn is_credit_note(&self) -> bool {
        self.document_type.eq_ignore_ascii_case("Credit Note")
    }

    /// Sum of line totals.
    pub fn net_lines(&self) -> Decimal {
        self.lines.iter().map(InvoiceLine::total).sum()
    }

    /// Sum of charges of one kind.
    pub fn charge(&self, kind: ChargeKind) -> Decimal {
        self.charges.iter().filter(|c| c.kind == kind).map(|c| c.total).sum()
    }

    /// Header tax plus line tax.
    pub fn tax(&self) -> Decimal {
        self.tax_lines.iter().map(|t| t.amount).sum::<Decimal>()
            + self.lines.iter().map(|l| l.tax_amount).sum::<Decimal>()
    }

    /// `total-with-taxes`: lines + charges + tax.
    pub fn total_with_taxes(&self) -> Decimal {
        self.net_lines() + self.charges.iter().map(|c| c.total).sum::<Decimal>() + self.tax()
    }
}

/// An integration history record (`/api/integration_history_records`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct IntegrationRecord {
    pub id: i64,
    /// `InvoiceHeader`, `OrderHeader`, `Supplier`, …
    pub document_type: String,
    pub document_id: Option<i64>,
    /// `Success` or `Error`.
    pub status: String,
    pub contact_alert_type: Option<String>,
    /// `(response-code, response-message)` pairs.
    pub responses: Vec<(String, String)>,
    pub alert: bool,
    pub resolved: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A custom field the instance defines on a resource, and whether the API may write it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct CustomFieldDef {
    /// `invoices`, `purchase_orders`, `suppliers`.
    pub resource: String,
    /// `cf-erp-voucher-id`.
    pub name: String,
    pub api_editable: bool,
    /// Longest value accepted.
    pub max_length: usize,
}

/// quantity × price (amount lines: the price), rounded half away from zero to cents.
pub fn line_total(kind: LineKind, quantity: Option<Decimal>, price: Decimal) -> Decimal {
    match kind {
        LineKind::Amount => price,
        LineKind::Quantity => (quantity.unwrap_or(Decimal::ONE) * price)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
    }
}

/// How a record is written: the switches that shape numbers and datetimes.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub offset: FixedOffset,
    pub datetime: DatetimeStyle,
    pub numbers: bool,
}

impl Style {
    /// From the switches.
    pub fn of(sw: &CoupaSwitches) -> Self {
        let offset = FixedOffset::east_opt(sw.time_zone_offset_minutes * 60)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
        Style { offset, datetime: sw.datetime_style, numbers: sw.numbers_as_numbers }
    }

    /// A datetime in the instance's zone.
    pub fn dt(&self, t: DateTime<Utc>) -> Value {
        let local = t.with_timezone(&self.offset);
        Value::String(match self.datetime {
            DatetimeStyle::Offset => local.format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            DatetimeStyle::Zulu => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            DatetimeStyle::Millis => local.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
        })
    }

    /// An optional datetime (`null` when absent).
    pub fn opt_dt(&self, t: Option<DateTime<Utc>>) -> Value {
        t.map_or(Value::Null, |t| self.dt(t))
    }

    /// A date Coupa keeps as a datetime: midnight in the instance's zone (UI-entered dates, §3).
    pub fn date(&self, d: Option<NaiveDate>) -> Value {
        match d.and_then(|d| d.and_hms_opt(0, 0, 0)).and_then(|n| n.and_local_timezone(self.offset).single()) {
            Some(t) => self.dt(t.with_timezone(&Utc)),
            None => Value::Null,
        }
    }

    /// A decimal with at least `dp` places: `"1050.00"` (or a JSON number with `numbers_as_numbers`).
    pub fn money(&self, d: Decimal, dp: u32) -> Value {
        let mut x = d;
        if x.scale() < dp {
            x.rescale(dp);
        }
        if self.numbers {
            serde_json::from_str(&x.to_string()).unwrap_or(Value::Null)
        } else {
            Value::String(x.to_string())
        }
    }

    /// An optional decimal, normalised (`"10.0"`-style values keep one place).
    pub fn opt_num(&self, d: Option<Decimal>) -> Value {
        match d {
            Some(d) => self.money(d.normalize(), 1),
            None => Value::Null,
        }
    }
}

/// `{id, code, name}` for an ISO country code.
pub fn country(code: &str) -> Value {
    let (id, name) = match code.to_ascii_uppercase().as_str() {
        "US" => (223, "United States"),
        "CA" => (38, "Canada"),
        "GB" => (222, "United Kingdom"),
        "DE" => (81, "Germany"),
        "FR" => (73, "France"),
        "MX" => (138, "Mexico"),
        "AU" => (13, "Australia"),
        "" => return Value::Null,
        _ => (0, "Unknown"),
    };
    json!({ "id": id, "code": code.to_ascii_uppercase(), "name": name })
}

/// Address fields flattened into `out` (`street1`, …, `country: {…}`).
pub fn put_address(out: &mut Map<String, Value>, a: &Address) {
    out.insert("street1".into(), json!(a.street1));
    out.insert("street2".into(), nullable(&a.street2));
    out.insert("city".into(), json!(a.city));
    out.insert("state".into(), json!(a.state));
    out.insert("postal-code".into(), json!(a.postal_code));
    out.insert("country".into(), country(&a.country));
}

/// `null` for an empty string (Coupa writes absent values as null).
pub fn nullable(s: &str) -> Value {
    if s.is_empty() { Value::Null } else { Value::String(s.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_dates_are_written_like_coupa() {
        let sw = CoupaSwitches::default();
        let st = Style::of(&sw);
        assert_eq!(st.money(Decimal::new(105, 0), 2), json!("105.00"));
        assert_eq!(st.money(Decimal::new(10512345, 5), 2), json!("105.12345"));
        let t: DateTime<Utc> = "2016-10-07T13:59:46Z".parse().unwrap();
        assert_eq!(st.dt(t), json!("2016-10-07T06:59:46-07:00"));
        assert_eq!(st.date(NaiveDate::from_ymd_opt(2025, 6, 1)), json!("2025-06-01T00:00:00-07:00"));
        let st = Style { numbers: true, datetime: DatetimeStyle::Zulu, ..st };
        assert_eq!(st.money(Decimal::new(105, 0), 2), json!(105.0));
        assert_eq!(st.dt(t), json!("2016-10-07T13:59:46Z"));
        assert_eq!(
            line_total(LineKind::Quantity, Some(Decimal::new(3, 0)), Decimal::new(3335, 3)),
            Decimal::new(1001, 2)
        );
    }
}
