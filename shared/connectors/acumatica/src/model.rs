//! Typed records and the contract's JSON (fact sheet §3.1, §4).
//!
//! **Reading.** Every field comes wrapped: `{"value": …}`, `{}` when empty, sometimes with an
//! `"error"`. [`Value<T>`] unwraps one field (`{}` and `{"value": null}` are `None`; a bare value
//! is accepted too), with tolerant leaf types: [`Text`] (strings, or numbers written out),
//! [`Dec`] (JSON numbers or numeric strings into an exact `Decimal`, never `f64`), [`Int`]
//! (64-bit), [`Flag`], [`Stamp`] (an instant with its offset, kept in UTC), [`Day`] (a date
//! field: its **date part as written**, since `2025-03-01T00:00:00-04:00` must stay 1 March,
//! whatever the offset; CV5's `"2025-03-01"` too) and [`Choice`] (a drop-down: a label in
//! Contract Version 4, `{"id","description"}` in Contract Version 5). Status and type fields
//! become enums that keep unknown values ([`BillStatus::Other`]). The wire structs are private;
//! flows see [`Vendor`], [`Bill`], [`PurchaseOrder`], [`Account`], [`Subaccount`], [`Branch`].
//!
//! **Writing.** Drafts ([`VendorDraft`], [`BillDraft`], [`PoDraft`], [`PoUpdate`]) write the
//! wrapped JSON for the pinned version ([`Contract`]): drop-downs as labels in CV4 and as
//! `{"id": code}` in CV5; dates as bare `YYYY-MM-DD`, which every version reads as that date
//! (a midnight with an offset could land on the day before in the tenant's zone); amounts as
//! JSON numbers.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::errors::{AcumaticaError, FieldError};
use crate::paging::Scan;

/// One wrapped field.
#[derive(Debug, Clone, PartialEq)]
pub struct Value<T> {
    /// The value (`None` for `{}` or `{"value": null}`).
    pub value: Option<T>,
    /// An `error` Acumatica attached to the field (422 echoes).
    pub error: Option<String>,
}

impl<T> Default for Value<T> {
    fn default() -> Self {
        Value { value: None, error: None }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Json::deserialize(d)? {
            Json::Null => Ok(Value::default()),
            Json::Object(m) if m.contains_key("value") || m.is_empty() || m.contains_key("error") => {
                let error = m.get("error").and_then(Json::as_str).map(str::to_string);
                let value = match m.get("value") {
                    None | Some(Json::Null) => None,
                    Some(v) => Some(T::deserialize(v.clone()).map_err(D::Error::custom)?),
                };
                Ok(Value { value, error })
            }
            other => Ok(Value { value: Some(T::deserialize(other).map_err(D::Error::custom)?), error: None }),
        }
    }
}

impl<T: Clone> Value<T> {
    /// The value, if any.
    pub fn get(&self) -> Option<T> {
        self.value.clone()
    }
}

/// Text: strings as they are (numbers and booleans written out); blank is `None` upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Json::deserialize(d)? {
            Json::String(s) => Ok(Text(s)),
            Json::Number(n) => Ok(Text(n.to_string())),
            Json::Bool(b) => Ok(Text(b.to_string())),
            other => Err(D::Error::custom(format!("expected text, got {other}"))),
        }
    }
}

/// An exact decimal from a JSON number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dec(pub Decimal);

impl<'de> Deserialize<'de> for Dec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Json::deserialize(d)?;
        mlc_http::decode::decimal(&v).map(Dec).ok_or_else(|| D::Error::custom(format!("{v} is not a number")))
    }
}

/// A 64-bit integer from a number or a numeric string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Int(pub i64);

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Json::deserialize(d)?;
        mlc_http::decode::int(&v).map(Int).ok_or_else(|| D::Error::custom(format!("{v} is not a whole number")))
    }
}

/// A boolean (also `"true"`, `"Y"`, `1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Json::deserialize(d)?;
        mlc_http::decode::flag(&v).map(Flag).ok_or_else(|| D::Error::custom(format!("{v} is not a boolean")))
    }
}

/// An instant (`2025-06-16T10:30:00.123-04:00`), in UTC; a zone-less stamp is read as UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        mlc_http::decode::datetime_utc(&s)
            .map(Stamp)
            .ok_or_else(|| D::Error::custom(format!("{s:?} is not a datetime")))
    }
}

/// A date field: the date part as written (CV4 midnight with an offset, CV5 a bare date).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        mlc_http::decode::date(&s).map(Day).ok_or_else(|| D::Error::custom(format!("{s:?} is not a date")))
    }
}

/// A drop-down value: a label (CV4), or `{"id","description"}` (CV5).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Choice {
    /// The label (`Open`), when sent.
    pub label: Option<String>,
    /// The internal code (`N`), when sent (CV5).
    pub code: Option<String>,
}

impl Choice {
    /// The label, else the code.
    pub fn text(&self) -> String {
        self.label.clone().or_else(|| self.code.clone()).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Choice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Json::deserialize(d)? {
            Json::String(s) => Ok(Choice { label: Some(s), code: None }),
            Json::Object(m) => Ok(Choice {
                label: m.get("description").and_then(Json::as_str).map(str::to_string),
                code: m.get("id").and_then(Json::as_str).map(str::to_string),
            }),
            other => Err(D::Error::custom(format!("expected a drop-down value, got {other}"))),
        }
    }
}

/// A drop-down the connector knows: `(code, label)` pairs, unknown values kept.
macro_rules! choices {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = ($code:literal, $label:literal)),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A value this connector does not know (kept as sent).
            Other(String),
        }

        impl $name {
            /// From a label or an internal code (case-insensitive).
            pub fn parse(s: &str) -> Self {
                let t = s.trim();
                $(if t.eq_ignore_ascii_case($label) || t.eq_ignore_ascii_case($code) { return $name::$variant; })+
                $name::Other(t.to_string())
            }
            /// From a read drop-down (label first, then code).
            pub fn from_choice(c: &Choice) -> Self {
                match (&c.label, &c.code) {
                    (Some(l), _) if !matches!(Self::parse(l), $name::Other(_)) => Self::parse(l),
                    (_, Some(code)) => Self::parse(code),
                    (Some(l), None) => Self::parse(l),
                    (None, None) => $name::Other(String::new()),
                }
            }
            /// The label Contract Version 4 uses.
            pub fn label(&self) -> &str {
                match self { $($name::$variant => $label,)+ $name::Other(s) => s }
            }
            /// The internal code Contract Version 5 writes.
            pub fn code(&self) -> &str {
                match self { $($name::$variant => $code,)+ $name::Other(s) => s }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

choices!(
    /// Vendor `Status`.
    VendorStatus { Active = ("A", "Active"), OnHold = ("H", "On Hold"), HoldPayments = ("P", "Hold Payments"), Inactive = ("I", "Inactive"), OneTime = ("T", "One-Time") }
);
choices!(
    /// Bill `Type`.
    BillType { Bill = ("INV", "Bill"), CreditAdj = ("ACR", "Credit Adj."), DebitAdj = ("ADR", "Debit Adj."), Prepayment = ("PPM", "Prepayment") }
);
choices!(
    /// Bill `Status`.
    BillStatus {
        OnHold = ("H", "On Hold"), Balanced = ("B", "Balanced"), PendingApproval = ("D", "Pending Approval"),
        Rejected = ("J", "Rejected"), Open = ("N", "Open"), Closed = ("C", "Closed"), Voided = ("V", "Voided"),
        Scheduled = ("S", "Scheduled"), Reserved = ("R", "Reserved"), PreReleased = ("Z", "Pre-Released"),
        Printed = ("P", "Printed"), PendingPrint = ("E", "Pending Print"),
    }
);
choices!(
    /// PurchaseOrder `Type`.
    PoType { Normal = ("RO", "Normal"), DropShip = ("DP", "Drop Ship"), Blanket = ("BL", "Blanket"), Standard = ("SB", "Standard") }
);
choices!(
    /// PurchaseOrder `Status`.
    PoStatus {
        OnHold = ("H", "On Hold"), PendingApproval = ("P", "Pending Approval"), Rejected = ("R", "Rejected"),
        PendingPrinting = ("T", "Pending Printing"), PendingEmail = ("E", "Pending Email"), Open = ("N", "Open"),
        Completed = ("M", "Completed"), Closed = ("C", "Closed"), Canceled = ("L", "Canceled"),
    }
);
choices!(
    /// PurchaseOrderDetail `LineType`.
    LineType {
        GoodsForInventory = ("GI", "Goods for IN"), GoodsForSales = ("GS", "Goods for SO"), GoodsForDropShip = ("GP", "Goods for Drop-Ship"),
        NonStock = ("NO", "Non-Stock"), NonStockForDropShip = ("NP", "Non-Stock for Drop-Ship"), NonStockForSales = ("NS", "Non-Stock for SO"),
        Service = ("SV", "Service"), Freight = ("FT", "Freight"), Description = ("DN", "Description"),
    }
);
choices!(
    /// Account `Type`.
    AccountType { Asset = ("A", "Asset"), Liability = ("L", "Liability"), Income = ("I", "Income"), Expense = ("E", "Expense") }
);

impl BillStatus {
    /// Whether the bill can still be changed through the API (before release).
    pub fn editable(&self) -> bool {
        matches!(self, BillStatus::OnHold | BillStatus::Balanced | BillStatus::PendingApproval | BillStatus::Rejected)
    }
    /// Whether it has been released.
    pub fn released(&self) -> bool {
        matches!(
            self,
            BillStatus::Open | BillStatus::Closed | BillStatus::Voided | BillStatus::Printed | BillStatus::PreReleased
        )
    }
}

impl PoStatus {
    /// Whether Acumatica still takes changes to the order (On Hold, Open, approval states).
    pub fn editable(&self) -> bool {
        matches!(self, PoStatus::OnHold | PoStatus::Open | PoStatus::PendingApproval | PoStatus::Rejected)
    }
}

fn text(v: &Value<Text>) -> Option<String> {
    v.value.as_ref().map(|t| t.0.trim().to_string()).filter(|s| !s.is_empty())
}
fn dec(v: &Value<Dec>) -> Decimal {
    v.value.map(|d| d.0).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Wire shapes (private) and the models flows use

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AddressWire {
    #[serde(rename = "AddressLine1")]
    line1: Value<Text>,
    #[serde(rename = "AddressLine2")]
    line2: Value<Text>,
    #[serde(rename = "City")]
    city: Value<Text>,
    #[serde(rename = "State")]
    state: Value<Text>,
    #[serde(rename = "PostalCode")]
    postal_code: Value<Text>,
    #[serde(rename = "Country")]
    country: Value<Text>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ContactWire {
    #[serde(rename = "DisplayName")]
    display_name: Value<Text>,
    #[serde(rename = "Email")]
    email: Value<Text>,
    #[serde(rename = "Phone1")]
    phone: Value<Text>,
    #[serde(rename = "Address")]
    address: Option<AddressWire>,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Address {
    /// `AddressLine1`.
    pub line1: Option<String>,
    /// `AddressLine2`.
    pub line2: Option<String>,
    /// `City`.
    pub city: Option<String>,
    /// `State`.
    pub state: Option<String>,
    /// `PostalCode`.
    pub postal_code: Option<String>,
    /// `Country` (ISO code).
    pub country: Option<String>,
}

impl From<&AddressWire> for Address {
    fn from(a: &AddressWire) -> Self {
        Address {
            line1: text(&a.line1),
            line2: text(&a.line2),
            city: text(&a.city),
            state: text(&a.state),
            postal_code: text(&a.postal_code),
            country: text(&a.country),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct VendorWire {
    id: Option<String>,
    note: Value<Text>,
    #[serde(rename = "VendorID")]
    vendor_id: Value<Text>,
    #[serde(rename = "VendorName")]
    name: Value<Text>,
    #[serde(rename = "LegalName")]
    legal_name: Value<Text>,
    #[serde(rename = "Status")]
    status: Value<Choice>,
    #[serde(rename = "VendorClass")]
    class: Value<Text>,
    #[serde(rename = "Terms")]
    terms: Value<Text>,
    #[serde(rename = "CurrencyID")]
    currency: Value<Text>,
    #[serde(rename = "APAccount")]
    ap_account: Value<Text>,
    #[serde(rename = "APSubaccount")]
    ap_subaccount: Value<Text>,
    #[serde(rename = "PaymentMethod")]
    payment_method: Value<Text>,
    #[serde(rename = "TaxZone")]
    tax_zone: Value<Text>,
    #[serde(rename = "TaxRegistrationID")]
    tax_registration_id: Value<Text>,
    #[serde(rename = "Warehouse")]
    warehouse: Value<Text>,
    #[serde(rename = "MainContact")]
    main_contact: Option<ContactWire>,
    #[serde(rename = "CreatedDateTime")]
    created: Value<Stamp>,
    #[serde(rename = "LastModifiedDateTime")]
    last_modified: Value<Stamp>,
}

/// A vendor (AP303000).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vendor {
    /// `id` (NoteID): stable across sessions.
    pub id: String,
    /// `VendorID`: the vendor code (the code shared with Cin7).
    pub vendor_id: String,
    /// `VendorName`.
    pub name: String,
    /// `LegalName` (22.200+).
    pub legal_name: Option<String>,
    /// `Status`.
    pub status: VendorStatus,
    /// `VendorClass`.
    pub class: Option<String>,
    /// `Terms`.
    pub terms: Option<String>,
    /// `CurrencyID`.
    pub currency: Option<String>,
    /// `APAccount`.
    pub ap_account: Option<String>,
    /// `APSubaccount`.
    pub ap_subaccount: Option<String>,
    /// `PaymentMethod`.
    pub payment_method: Option<String>,
    /// `TaxZone`.
    pub tax_zone: Option<String>,
    /// `TaxRegistrationID`.
    pub tax_registration_id: Option<String>,
    /// `Warehouse`.
    pub warehouse: Option<String>,
    /// `MainContact/Email` (with `$expand=MainContact`).
    pub email: Option<String>,
    /// `MainContact/Phone1`.
    pub phone: Option<String>,
    /// `MainContact/Address` (with `$expand=MainContact/Address`).
    pub address: Option<Address>,
    /// `CreatedDateTime`.
    pub created: Option<DateTime<Utc>>,
    /// `LastModifiedDateTime`: the version stamp.
    pub last_modified: Option<DateTime<Utc>>,
    /// `note`.
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BillLineWire {
    id: Option<String>,
    #[serde(rename = "InventoryID")]
    inventory_id: Value<Text>,
    #[serde(rename = "TransactionDescription")]
    description: Value<Text>,
    #[serde(rename = "Qty")]
    qty: Value<Dec>,
    #[serde(rename = "UOM")]
    uom: Value<Text>,
    #[serde(rename = "UnitCost")]
    unit_cost: Value<Dec>,
    #[serde(rename = "ExtendedCost")]
    extended_cost: Value<Dec>,
    #[serde(rename = "Amount")]
    amount: Value<Dec>,
    #[serde(rename = "Account")]
    account: Value<Text>,
    #[serde(rename = "Subaccount")]
    subaccount: Value<Text>,
    #[serde(rename = "Branch")]
    branch: Value<Text>,
    #[serde(rename = "POOrderType")]
    po_type: Value<Choice>,
    #[serde(rename = "POOrderNbr")]
    po_nbr: Value<Text>,
    #[serde(rename = "POLine")]
    po_line: Value<Int>,
}

/// A bill line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BillLine {
    /// Line `id`.
    pub id: String,
    /// `InventoryID`.
    pub inventory_id: Option<String>,
    /// `TransactionDescription`.
    pub description: Option<String>,
    /// `Qty`.
    pub qty: Decimal,
    /// `UOM`.
    pub uom: Option<String>,
    /// `UnitCost`.
    pub unit_cost: Decimal,
    /// `ExtendedCost`.
    pub extended_cost: Decimal,
    /// `Amount`.
    pub amount: Decimal,
    /// `Account`.
    pub account: Option<String>,
    /// `Subaccount`.
    pub subaccount: Option<String>,
    /// `Branch`.
    pub branch: Option<String>,
    /// The PO line it bills: `(POOrderType, POOrderNbr, POLine)`.
    pub po: Option<(PoType, String, Option<i64>)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BillWire {
    id: Option<String>,
    note: Value<Text>,
    #[serde(rename = "Type")]
    kind: Value<Choice>,
    #[serde(rename = "ReferenceNbr")]
    reference_nbr: Value<Text>,
    #[serde(rename = "Status")]
    status: Value<Choice>,
    #[serde(rename = "Hold")]
    hold: Value<Flag>,
    #[serde(rename = "Date")]
    date: Value<Day>,
    #[serde(rename = "DueDate")]
    due_date: Value<Day>,
    #[serde(rename = "PostPeriod")]
    post_period: Value<Text>,
    #[serde(rename = "Vendor")]
    vendor: Value<Text>,
    #[serde(rename = "VendorRef")]
    vendor_ref: Value<Text>,
    #[serde(rename = "Description")]
    description: Value<Text>,
    #[serde(rename = "Amount")]
    amount: Value<Dec>,
    #[serde(rename = "Balance")]
    balance: Value<Dec>,
    #[serde(rename = "TaxTotal")]
    tax_total: Value<Dec>,
    #[serde(rename = "CurrencyID")]
    currency: Value<Text>,
    #[serde(rename = "Terms")]
    terms: Value<Text>,
    #[serde(rename = "BranchID")]
    branch: Value<Text>,
    #[serde(rename = "ApprovedForPayment")]
    approved: Value<Flag>,
    #[serde(rename = "LastModifiedDateTime")]
    last_modified: Value<Stamp>,
    #[serde(rename = "Details")]
    details: Option<Vec<BillLineWire>>,
}

/// An AP bill or adjustment (AP301000).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bill {
    /// `id` (NoteID).
    pub id: String,
    /// `Type`.
    pub kind: BillType,
    /// `ReferenceNbr` (assigned by Acumatica).
    pub reference_nbr: String,
    /// `Status`.
    pub status: BillStatus,
    /// `Hold`.
    pub hold: bool,
    /// `Date`.
    pub date: Option<NaiveDate>,
    /// `DueDate`.
    pub due_date: Option<NaiveDate>,
    /// `PostPeriod` (`MMYYYY`).
    pub post_period: Option<String>,
    /// `Vendor` (the vendor code).
    pub vendor: String,
    /// `VendorRef`: the supplier's invoice number (the natural key with `vendor`).
    pub vendor_ref: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `Amount`.
    pub amount: Decimal,
    /// `Balance`.
    pub balance: Decimal,
    /// `TaxTotal`.
    pub tax_total: Decimal,
    /// `CurrencyID`.
    pub currency: Option<String>,
    /// `Terms`.
    pub terms: Option<String>,
    /// `BranchID`.
    pub branch: Option<String>,
    /// `ApprovedForPayment`.
    pub approved_for_payment: bool,
    /// `LastModifiedDateTime`.
    pub last_modified: Option<DateTime<Utc>>,
    /// `Details` (with `$expand=Details`; empty otherwise).
    pub lines: Vec<BillLine>,
    /// Whether `lines` were read (`$expand=Details`).
    pub lines_read: bool,
    /// `note`.
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PoLineWire {
    id: Option<String>,
    #[serde(rename = "LineNbr")]
    line_nbr: Value<Int>,
    #[serde(rename = "LineType")]
    line_type: Value<Choice>,
    #[serde(rename = "InventoryID")]
    inventory_id: Value<Text>,
    #[serde(rename = "LineDescription")]
    line_description: Value<Text>,
    #[serde(rename = "Description")]
    description: Value<Text>,
    #[serde(rename = "OrderQty")]
    order_qty: Value<Dec>,
    #[serde(rename = "UOM")]
    uom: Value<Text>,
    #[serde(rename = "UnitCost")]
    unit_cost: Value<Dec>,
    #[serde(rename = "ExtendedCost")]
    extended_cost: Value<Dec>,
    #[serde(rename = "Account")]
    account: Value<Text>,
    #[serde(rename = "Subaccount")]
    subaccount: Value<Text>,
    #[serde(rename = "BranchID")]
    branch: Value<Text>,
    #[serde(rename = "WarehouseID")]
    warehouse: Value<Text>,
    #[serde(rename = "Promised")]
    promised: Value<Day>,
    #[serde(rename = "QtyOnReceipts")]
    qty_on_receipts: Value<Dec>,
    #[serde(rename = "ReceivedAmount")]
    received_amount: Value<Dec>,
    #[serde(rename = "Completed")]
    completed: Value<Flag>,
    #[serde(rename = "Cancelled")]
    cancelled: Value<Flag>,
}

/// A purchase-order line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoLine {
    /// Line `id`.
    pub id: String,
    /// `LineNbr`.
    pub line_nbr: Option<i64>,
    /// `LineType`.
    pub line_type: LineType,
    /// `InventoryID`.
    pub inventory_id: Option<String>,
    /// `LineDescription` (else `Description`).
    pub description: Option<String>,
    /// `OrderQty`.
    pub qty: Decimal,
    /// `UOM`.
    pub uom: Option<String>,
    /// `UnitCost`.
    pub unit_cost: Decimal,
    /// `ExtendedCost`.
    pub extended_cost: Decimal,
    /// `Account`.
    pub account: Option<String>,
    /// `Subaccount`.
    pub subaccount: Option<String>,
    /// `BranchID`.
    pub branch: Option<String>,
    /// `WarehouseID`.
    pub warehouse: Option<String>,
    /// `Promised`.
    pub promised: Option<NaiveDate>,
    /// `QtyOnReceipts`.
    pub qty_on_receipts: Decimal,
    /// `ReceivedAmount`.
    pub received_amount: Decimal,
    /// `Completed`.
    pub completed: bool,
    /// `Cancelled`.
    pub cancelled: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PoWire {
    id: Option<String>,
    note: Value<Text>,
    #[serde(rename = "Type")]
    kind: Value<Choice>,
    #[serde(rename = "OrderNbr")]
    order_nbr: Value<Text>,
    #[serde(rename = "Status")]
    status: Value<Choice>,
    #[serde(rename = "Hold")]
    hold: Value<Flag>,
    #[serde(rename = "Date")]
    date: Value<Day>,
    #[serde(rename = "PromisedOn")]
    promised_on: Value<Day>,
    #[serde(rename = "Description")]
    description: Value<Text>,
    #[serde(rename = "VendorID")]
    vendor_id: Value<Text>,
    #[serde(rename = "VendorRef")]
    vendor_ref: Value<Text>,
    #[serde(rename = "Location")]
    location: Value<Text>,
    #[serde(rename = "Terms")]
    terms: Value<Text>,
    #[serde(rename = "Branch")]
    branch: Value<Text>,
    #[serde(rename = "CurrencyID")]
    currency: Value<Text>,
    #[serde(rename = "ControlTotal")]
    control_total: Value<Dec>,
    #[serde(rename = "LineTotal")]
    line_total: Value<Dec>,
    #[serde(rename = "TaxTotal")]
    tax_total: Value<Dec>,
    #[serde(rename = "OrderTotal")]
    order_total: Value<Dec>,
    #[serde(rename = "LastModifiedDateTime")]
    last_modified: Value<Stamp>,
    #[serde(rename = "Details")]
    details: Option<Vec<PoLineWire>>,
}

/// A purchase order (PO301000).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurchaseOrder {
    /// `id` (NoteID).
    pub id: String,
    /// `Type`.
    pub kind: PoType,
    /// `OrderNbr` (assigned by Acumatica).
    pub order_nbr: String,
    /// `Status`.
    pub status: PoStatus,
    /// `Hold`.
    pub hold: bool,
    /// `Date`.
    pub date: Option<NaiveDate>,
    /// `PromisedOn`.
    pub promised_on: Option<NaiveDate>,
    /// `Description`.
    pub description: Option<String>,
    /// `VendorID`.
    pub vendor_id: String,
    /// `VendorRef`.
    pub vendor_ref: Option<String>,
    /// `Location`.
    pub location: Option<String>,
    /// `Terms`.
    pub terms: Option<String>,
    /// `Branch`.
    pub branch: Option<String>,
    /// `CurrencyID`.
    pub currency: Option<String>,
    /// `ControlTotal`.
    pub control_total: Decimal,
    /// `LineTotal`.
    pub line_total: Decimal,
    /// `TaxTotal`.
    pub tax_total: Decimal,
    /// `OrderTotal`.
    pub order_total: Decimal,
    /// `LastModifiedDateTime`.
    pub last_modified: Option<DateTime<Utc>>,
    /// `Details` (with `$expand=Details`).
    pub lines: Vec<PoLine>,
    /// Whether `lines` were read.
    pub lines_read: bool,
    /// `note`.
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AccountWire {
    id: Option<String>,
    #[serde(rename = "AccountCD")]
    account_cd: Value<Text>,
    #[serde(rename = "AccountID")]
    account_id: Value<Int>,
    #[serde(rename = "Description")]
    description: Value<Text>,
    #[serde(rename = "Type")]
    kind: Value<Choice>,
    #[serde(rename = "Active")]
    active: Value<Flag>,
    #[serde(rename = "AccountClass")]
    class: Value<Text>,
    #[serde(rename = "CurrencyID")]
    currency: Value<Text>,
    #[serde(rename = "LastModifiedDateTime")]
    last_modified: Value<Stamp>,
}

/// A GL account (GL202500).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    /// `id`.
    pub id: String,
    /// `AccountCD` (what documents name).
    pub account_cd: String,
    /// `AccountID` (internal).
    pub account_id: Option<i64>,
    /// `Description`.
    pub description: Option<String>,
    /// `Type`.
    pub kind: AccountType,
    /// `Active`.
    pub active: bool,
    /// `AccountClass`.
    pub class: Option<String>,
    /// `CurrencyID`.
    pub currency: Option<String>,
    /// `LastModifiedDateTime`.
    pub last_modified: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SubaccountWire {
    id: Option<String>,
    #[serde(rename = "SubaccountCD")]
    subaccount_cd: Value<Text>,
    #[serde(rename = "SubaccountID")]
    subaccount_id: Value<Int>,
    #[serde(rename = "Description")]
    description: Value<Text>,
    #[serde(rename = "Active")]
    active: Value<Flag>,
}

/// A GL subaccount (GL203000).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subaccount {
    /// `id`.
    pub id: String,
    /// `SubaccountCD`.
    pub subaccount_cd: String,
    /// `SubaccountID`.
    pub subaccount_id: Option<i64>,
    /// `Description`.
    pub description: Option<String>,
    /// `Active`.
    pub active: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BranchWire {
    #[serde(rename = "BranchID")]
    branch_id: Value<Text>,
    #[serde(rename = "BranchName")]
    name: Value<Text>,
    #[serde(rename = "BranchStatus")]
    status: Value<Choice>,
    #[serde(rename = "CompanyID")]
    company_id: Value<Text>,
    #[serde(rename = "CompanyName")]
    company_name: Value<Text>,
}

/// A branch (from the `CompaniesStructure` inquiry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branch {
    /// `BranchID` (the branch code).
    pub branch_id: String,
    /// `BranchName`.
    pub name: Option<String>,
    /// Active (`BranchStatus`; missing counts as active).
    pub active: bool,
    /// `CompanyID`.
    pub company_id: Option<String>,
    /// `CompanyName`.
    pub company_name: Option<String>,
}

/// Why a record could not be read: the field or shape (serde's words).
pub type ReadError = String;

fn id_of(id: &Option<String>) -> String {
    id.clone().unwrap_or_default()
}

/// Read a vendor.
pub fn vendor_from(v: &Json) -> Result<Vendor, ReadError> {
    let w: VendorWire = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let contact = w.main_contact.as_ref();
    Ok(Vendor {
        id: id_of(&w.id),
        vendor_id: text(&w.vendor_id).ok_or("a vendor without VendorID")?,
        name: text(&w.name).unwrap_or_default(),
        legal_name: text(&w.legal_name),
        status: w.status.value.as_ref().map(VendorStatus::from_choice).unwrap_or(VendorStatus::Other(String::new())),
        class: text(&w.class),
        terms: text(&w.terms),
        currency: text(&w.currency),
        ap_account: text(&w.ap_account),
        ap_subaccount: text(&w.ap_subaccount),
        payment_method: text(&w.payment_method),
        tax_zone: text(&w.tax_zone),
        tax_registration_id: text(&w.tax_registration_id),
        warehouse: text(&w.warehouse),
        email: contact.and_then(|c| text(&c.email)),
        phone: contact.and_then(|c| text(&c.phone)),
        address: contact.and_then(|c| c.address.as_ref()).map(Address::from),
        created: w.created.value.map(|s| s.0),
        last_modified: w.last_modified.value.map(|s| s.0),
        note: text(&w.note),
    })
}

/// Read a bill.
pub fn bill_from(v: &Json) -> Result<Bill, ReadError> {
    let w: BillWire = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let lines_read = w.details.is_some();
    let lines = w
        .details
        .unwrap_or_default()
        .iter()
        .map(|l| BillLine {
            id: id_of(&l.id),
            inventory_id: text(&l.inventory_id),
            description: text(&l.description),
            qty: dec(&l.qty),
            uom: text(&l.uom),
            unit_cost: dec(&l.unit_cost),
            extended_cost: dec(&l.extended_cost),
            amount: dec(&l.amount),
            account: text(&l.account),
            subaccount: text(&l.subaccount),
            branch: text(&l.branch),
            po: text(&l.po_nbr).map(|n| {
                (
                    l.po_type.value.as_ref().map(PoType::from_choice).unwrap_or(PoType::Normal),
                    n,
                    l.po_line.value.map(|i| i.0),
                )
            }),
        })
        .collect();
    Ok(Bill {
        id: id_of(&w.id),
        kind: w.kind.value.as_ref().map(BillType::from_choice).ok_or("a bill without Type")?,
        reference_nbr: text(&w.reference_nbr).ok_or("a bill without ReferenceNbr")?,
        status: w.status.value.as_ref().map(BillStatus::from_choice).unwrap_or(BillStatus::Other(String::new())),
        hold: w.hold.value.is_some_and(|f| f.0),
        date: w.date.value.map(|d| d.0),
        due_date: w.due_date.value.map(|d| d.0),
        post_period: text(&w.post_period),
        vendor: text(&w.vendor).unwrap_or_default(),
        vendor_ref: text(&w.vendor_ref),
        description: text(&w.description),
        amount: dec(&w.amount),
        balance: dec(&w.balance),
        tax_total: dec(&w.tax_total),
        currency: text(&w.currency),
        terms: text(&w.terms),
        branch: text(&w.branch),
        approved_for_payment: w.approved.value.is_some_and(|f| f.0),
        last_modified: w.last_modified.value.map(|s| s.0),
        lines,
        lines_read,
        note: text(&w.note),
    })
}

/// Read a purchase order.
pub fn purchase_order_from(v: &Json) -> Result<PurchaseOrder, ReadError> {
    let w: PoWire = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let lines_read = w.details.is_some();
    let lines = w
        .details
        .unwrap_or_default()
        .iter()
        .map(|l| PoLine {
            id: id_of(&l.id),
            line_nbr: l.line_nbr.value.map(|i| i.0),
            line_type: l.line_type.value.as_ref().map(LineType::from_choice).unwrap_or(LineType::Other(String::new())),
            inventory_id: text(&l.inventory_id),
            description: text(&l.line_description).or_else(|| text(&l.description)),
            qty: dec(&l.order_qty),
            uom: text(&l.uom),
            unit_cost: dec(&l.unit_cost),
            extended_cost: dec(&l.extended_cost),
            account: text(&l.account),
            subaccount: text(&l.subaccount),
            branch: text(&l.branch),
            warehouse: text(&l.warehouse),
            promised: l.promised.value.map(|d| d.0),
            qty_on_receipts: dec(&l.qty_on_receipts),
            received_amount: dec(&l.received_amount),
            completed: l.completed.value.is_some_and(|f| f.0),
            cancelled: l.cancelled.value.is_some_and(|f| f.0),
        })
        .collect();
    Ok(PurchaseOrder {
        id: id_of(&w.id),
        kind: w.kind.value.as_ref().map(PoType::from_choice).ok_or("a purchase order without Type")?,
        order_nbr: text(&w.order_nbr).ok_or("a purchase order without OrderNbr")?,
        status: w.status.value.as_ref().map(PoStatus::from_choice).unwrap_or(PoStatus::Other(String::new())),
        hold: w.hold.value.is_some_and(|f| f.0),
        date: w.date.value.map(|d| d.0),
        promised_on: w.promised_on.value.map(|d| d.0),
        description: text(&w.description),
        vendor_id: text(&w.vendor_id).unwrap_or_default(),
        vendor_ref: text(&w.vendor_ref),
        location: text(&w.location),
        terms: text(&w.terms),
        branch: text(&w.branch),
        currency: text(&w.currency),
        control_total: dec(&w.control_total),
        line_total: dec(&w.line_total),
        tax_total: dec(&w.tax_total),
        order_total: dec(&w.order_total),
        last_modified: w.last_modified.value.map(|s| s.0),
        lines,
        lines_read,
        note: text(&w.note),
    })
}

/// Read an account.
pub fn account_from(v: &Json) -> Result<Account, ReadError> {
    let w: AccountWire = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    Ok(Account {
        id: id_of(&w.id),
        account_cd: text(&w.account_cd).ok_or("an account without AccountCD")?,
        account_id: w.account_id.value.map(|i| i.0),
        description: text(&w.description),
        kind: w.kind.value.as_ref().map(AccountType::from_choice).unwrap_or(AccountType::Other(String::new())),
        active: w.active.value.is_none_or(|f| f.0),
        class: text(&w.class),
        currency: text(&w.currency),
        last_modified: w.last_modified.value.map(|s| s.0),
    })
}

/// Read a subaccount.
pub fn subaccount_from(v: &Json) -> Result<Subaccount, ReadError> {
    let w: SubaccountWire = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    Ok(Subaccount {
        id: id_of(&w.id),
        subaccount_cd: text(&w.subaccount_cd).ok_or("a subaccount without SubaccountCD")?,
        subaccount_id: w.subaccount_id.value.map(|i| i.0),
        description: text(&w.description),
        active: w.active.value.is_none_or(|f| f.0),
    })
}

/// Read a `CompaniesStructure` result row.
pub fn branch_from(v: &Json) -> Result<Branch, ReadError> {
    let w: BranchWire = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    Ok(Branch {
        branch_id: text(&w.branch_id).ok_or("a branch without BranchID")?,
        name: text(&w.name),
        active: w.status.value.as_ref().is_none_or(|c| {
            let t = c.text();
            t.eq_ignore_ascii_case("Active") || t.eq_ignore_ascii_case("A")
        }),
        company_id: text(&w.company_id),
        company_name: text(&w.company_name),
    })
}

/// The errors of a 422 echo: the entity's `error` and every field's, with paths
/// (`VendorRef`, `MainContact/Email`, `Details[2]/Account`; lines counted from 1).
pub fn field_errors(v: &Json) -> (Option<String>, Vec<FieldError>) {
    fn walk(v: &Json, prefix: &str, out: &mut Vec<FieldError>) {
        let Json::Object(m) = v else { return };
        for (k, x) in m {
            if matches!(k.as_str(), "error" | "id" | "rowNumber" | "_links" | "custom" | "note") {
                continue;
            }
            let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}/{k}") };
            match x {
                Json::Object(f) if f.contains_key("error") || f.contains_key("value") || f.is_empty() => {
                    if let Some(e) = f.get("error").and_then(Json::as_str) {
                        let value = f.get("value").filter(|v| !v.is_null()).map(|v| match v {
                            Json::String(s) => s.clone(),
                            Json::Object(o) => o.get("id").and_then(Json::as_str).unwrap_or_default().to_string(),
                            other => other.to_string(),
                        });
                        out.push(FieldError { path, value, message: e.to_string() });
                    }
                }
                Json::Object(_) => walk(x, &path, out),
                Json::Array(rows) => {
                    for (i, row) in rows.iter().enumerate() {
                        let rp = format!("{path}[{}]", i + 1);
                        if let Some(e) = row.get("error").and_then(Json::as_str) {
                            out.push(FieldError { path: rp.clone(), value: None, message: e.to_string() });
                        }
                        walk(row, &rp, out);
                    }
                }
                _ => {}
            }
        }
    }
    let entity = v.get("error").and_then(Json::as_str).map(str::to_string);
    let mut fields = Vec::new();
    walk(v, "", &mut fields);
    (entity, fields)
}

/// What a create-once call did (the kit's type, shared by every connector).
pub use mlc_http::Written;

/// Read one record with `f`, as an error naming the call and the record when it cannot be read.
pub fn read<T>(v: &Json, what: &str, f: fn(&Json) -> Result<T, String>) -> Result<T, AcumaticaError> {
    f(v).map_err(|e| AcumaticaError::Unexpected {
        call: what.to_string(),
        detail: format!("could not read the record ({e}); id {}", v.get("id").and_then(Json::as_str).unwrap_or("?")),
        fix: Some("report this: Acumatica answered a shape the connector does not know".into()),
    })
}

/// Read every record of a scan.
pub fn read_scan<T>(
    scan: Scan<Json>,
    what: &str,
    f: fn(&Json) -> Result<T, String>,
) -> Result<Scan<T>, AcumaticaError> {
    let records = scan.records.iter().map(|v| read(v, what, f)).collect::<Result<Vec<_>, _>>()?;
    Ok(Scan { records, high_water: scan.high_water, passes: scan.passes, calls: scan.calls })
}

// ---------------------------------------------------------------------------------------------
// Writing

/// The pinned contract's write conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contract {
    /// Contract Version 5 (26.200.001 and later): drop-downs are written `{"id": code}`.
    pub cv5: bool,
}

impl Contract {
    /// For a pinned version string.
    pub fn for_version(version: &str) -> Self {
        let major: u32 = version.split('.').next().and_then(|s| s.parse().ok()).unwrap_or(0);
        Contract { cv5: major >= 26 }
    }
}

/// `{"value": v}`.
pub fn wrap<T: Serialize>(v: T) -> Json {
    json!({ "value": v })
}

/// A decimal as a wrapped JSON number.
pub fn wrap_dec(d: Decimal) -> Json {
    let n: Json = serde_json::from_str(&d.normalize().to_string()).unwrap_or(Json::Null);
    json!({ "value": n })
}

/// A date as a wrapped bare date.
pub fn wrap_date(d: NaiveDate) -> Json {
    json!({ "value": d.format("%Y-%m-%d").to_string() })
}

/// A drop-down value as the contract wants it.
pub fn wrap_choice(c: Contract, label: &str, code: &str) -> Json {
    if c.cv5 { json!({ "value": { "id": code } }) } else { json!({ "value": label }) }
}

fn put_opt(m: &mut Map<String, Json>, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(k.into(), wrap(v));
    }
}

/// A vendor to create, or the fields of one to change (`None`: leave as is).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VendorDraft {
    /// `VendorID` (the shared code). Required.
    pub vendor_id: String,
    /// `VendorName` (required on create).
    pub name: Option<String>,
    /// `LegalName` (written from 22.200 on).
    pub legal_name: Option<String>,
    /// `Status`.
    pub status: Option<VendorStatus>,
    /// `VendorClass`.
    pub class: Option<String>,
    /// `Terms`.
    pub terms: Option<String>,
    /// `CurrencyID`.
    pub currency: Option<String>,
    /// `TaxRegistrationID`.
    pub tax_registration_id: Option<String>,
    /// `PaymentMethod`.
    pub payment_method: Option<String>,
    /// `Warehouse`.
    pub warehouse: Option<String>,
    /// `MainContact/Email`.
    pub email: Option<String>,
    /// `MainContact/Phone1`.
    pub phone: Option<String>,
    /// `MainContact/Address`.
    pub address: Option<Address>,
}

impl VendorDraft {
    /// The PUT body.
    pub fn to_json(&self, c: Contract) -> Json {
        let mut m = Map::new();
        m.insert("VendorID".into(), wrap(&self.vendor_id));
        put_opt(&mut m, "VendorName", &self.name);
        put_opt(&mut m, "LegalName", &self.legal_name);
        if let Some(s) = &self.status {
            m.insert("Status".into(), wrap_choice(c, s.label(), s.code()));
        }
        put_opt(&mut m, "VendorClass", &self.class);
        put_opt(&mut m, "Terms", &self.terms);
        put_opt(&mut m, "CurrencyID", &self.currency);
        put_opt(&mut m, "TaxRegistrationID", &self.tax_registration_id);
        put_opt(&mut m, "PaymentMethod", &self.payment_method);
        put_opt(&mut m, "Warehouse", &self.warehouse);
        let mut contact = Map::new();
        put_opt(&mut contact, "Email", &self.email);
        put_opt(&mut contact, "Phone1", &self.phone);
        if let Some(a) = &self.address {
            let mut am = Map::new();
            put_opt(&mut am, "AddressLine1", &a.line1);
            put_opt(&mut am, "AddressLine2", &a.line2);
            put_opt(&mut am, "City", &a.city);
            put_opt(&mut am, "State", &a.state);
            put_opt(&mut am, "PostalCode", &a.postal_code);
            put_opt(&mut am, "Country", &a.country);
            contact.insert("Address".into(), Json::Object(am));
        }
        if !contact.is_empty() {
            m.insert("MainContact".into(), Json::Object(contact));
        }
        Json::Object(m)
    }
}

/// The PO line a bill line bills.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoLink {
    /// `POOrderType`.
    pub order_type: PoType,
    /// `POOrderNbr`.
    pub order_nbr: String,
    /// `POLine` (`None`: every open line of the order).
    pub line: Option<i64>,
}

/// A bill line to create.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BillLineDraft {
    /// `InventoryID`.
    pub inventory_id: Option<String>,
    /// `TransactionDescription`.
    pub description: Option<String>,
    /// `Qty`.
    pub qty: Option<Decimal>,
    /// `UOM`.
    pub uom: Option<String>,
    /// `UnitCost`.
    pub unit_cost: Option<Decimal>,
    /// `ExtendedCost` (when only the amount is known).
    pub amount: Option<Decimal>,
    /// `Account` (mapped).
    pub account: Option<String>,
    /// `Subaccount` (mapped).
    pub subaccount: Option<String>,
    /// `Branch`.
    pub branch: Option<String>,
    /// The PO line it bills (no price data needed then) **[C: DOC]**.
    pub po: Option<PoLink>,
}

/// A bill (or adjustment) to create.
#[derive(Debug, Clone, PartialEq)]
pub struct BillDraft {
    /// `Type`.
    pub kind: BillType,
    /// `Vendor` code.
    pub vendor: String,
    /// `VendorRef`: the supplier's invoice number.
    pub vendor_ref: String,
    /// `Date`.
    pub date: Option<NaiveDate>,
    /// `DueDate`.
    pub due_date: Option<NaiveDate>,
    /// `Description`.
    pub description: Option<String>,
    /// `Hold` (true: lands `On Hold`; false: `Balanced`, then it may be released).
    pub hold: bool,
    /// `BranchID` (default: the connection's branch).
    pub branch: Option<String>,
    /// `Terms`.
    pub terms: Option<String>,
    /// `CurrencyID`.
    pub currency: Option<String>,
    /// `Details`.
    pub lines: Vec<BillLineDraft>,
}

impl BillDraft {
    /// The PUT body (no `ReferenceNbr`: Acumatica numbers it).
    pub fn to_json(&self, c: Contract, default_branch: Option<&str>) -> Json {
        let mut m = Map::new();
        m.insert("Type".into(), wrap_choice(c, self.kind.label(), self.kind.code()));
        m.insert("Vendor".into(), wrap(&self.vendor));
        m.insert("VendorRef".into(), wrap(&self.vendor_ref));
        if let Some(d) = self.date {
            m.insert("Date".into(), wrap_date(d));
        }
        if let Some(d) = self.due_date {
            m.insert("DueDate".into(), wrap_date(d));
        }
        put_opt(&mut m, "Description", &self.description);
        m.insert("Hold".into(), wrap(self.hold));
        let branch = self.branch.clone().or_else(|| default_branch.map(str::to_string));
        put_opt(&mut m, "BranchID", &branch);
        put_opt(&mut m, "Terms", &self.terms);
        put_opt(&mut m, "CurrencyID", &self.currency);
        let lines: Vec<Json> = self
            .lines
            .iter()
            .map(|l| {
                let mut x = Map::new();
                put_opt(&mut x, "InventoryID", &l.inventory_id);
                put_opt(&mut x, "TransactionDescription", &l.description);
                if let Some(q) = l.qty {
                    x.insert("Qty".into(), wrap_dec(q));
                }
                put_opt(&mut x, "UOM", &l.uom);
                if let Some(u) = l.unit_cost {
                    x.insert("UnitCost".into(), wrap_dec(u));
                }
                if let Some(a) = l.amount {
                    x.insert("ExtendedCost".into(), wrap_dec(a));
                }
                put_opt(&mut x, "Account", &l.account);
                put_opt(&mut x, "Subaccount", &l.subaccount);
                let lb = l.branch.clone().or_else(|| branch.clone());
                put_opt(&mut x, "Branch", &lb);
                if let Some(p) = &l.po {
                    x.insert("POOrderType".into(), wrap_choice(c, p.order_type.label(), p.order_type.code()));
                    x.insert("POOrderNbr".into(), wrap(&p.order_nbr));
                    if let Some(n) = p.line {
                        x.insert("POLine".into(), wrap(n));
                    }
                }
                Json::Object(x)
            })
            .collect();
        m.insert("Details".into(), Json::Array(lines));
        Json::Object(m)
    }
}

/// A purchase-order line to create.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoLineDraft {
    /// `LineType` (default: from the item, or Non-Stock without one).
    pub line_type: Option<LineType>,
    /// `InventoryID` (mapped product).
    pub inventory_id: Option<String>,
    /// `LineDescription`.
    pub description: Option<String>,
    /// `OrderQty`.
    pub qty: Decimal,
    /// `UOM`.
    pub uom: Option<String>,
    /// `UnitCost`.
    pub unit_cost: Decimal,
    /// `Account` (mapped; needed for lines without an item).
    pub account: Option<String>,
    /// `Subaccount`.
    pub subaccount: Option<String>,
    /// `WarehouseID`.
    pub warehouse: Option<String>,
    /// `Promised`.
    pub promised: Option<NaiveDate>,
}

impl PoLineDraft {
    fn fields(&self, c: Contract) -> Map<String, Json> {
        let mut x = Map::new();
        if let Some(t) = &self.line_type {
            x.insert("LineType".into(), wrap_choice(c, t.label(), t.code()));
        }
        put_opt(&mut x, "InventoryID", &self.inventory_id);
        put_opt(&mut x, "LineDescription", &self.description);
        x.insert("OrderQty".into(), wrap_dec(self.qty));
        put_opt(&mut x, "UOM", &self.uom);
        x.insert("UnitCost".into(), wrap_dec(self.unit_cost));
        put_opt(&mut x, "Account", &self.account);
        put_opt(&mut x, "Subaccount", &self.subaccount);
        put_opt(&mut x, "WarehouseID", &self.warehouse);
        if let Some(d) = self.promised {
            x.insert("Promised".into(), wrap_date(d));
        }
        x
    }
}

/// A purchase order to create.
#[derive(Debug, Clone, PartialEq)]
pub struct PoDraft {
    /// `Type`.
    pub kind: PoType,
    /// `VendorID`.
    pub vendor_id: String,
    /// The Cin7 order number, written to the configured reference field (`VendorRef`).
    pub reference: Option<String>,
    /// `Description` (when the reference field is not `Description`).
    pub description: Option<String>,
    /// `Date`.
    pub date: Option<NaiveDate>,
    /// `PromisedOn`.
    pub promised_on: Option<NaiveDate>,
    /// `Hold`.
    pub hold: bool,
    /// `Branch` (default: the connection's branch).
    pub branch: Option<String>,
    /// `Location`.
    pub location: Option<String>,
    /// `Terms`.
    pub terms: Option<String>,
    /// `CurrencyID`.
    pub currency: Option<String>,
    /// `Details`.
    pub lines: Vec<PoLineDraft>,
}

impl PoDraft {
    /// The PUT body (no `OrderNbr`: Acumatica numbers it).
    pub fn to_json(&self, c: Contract, reference_field: &str, default_branch: Option<&str>) -> Json {
        let mut m = Map::new();
        m.insert("Type".into(), wrap_choice(c, self.kind.label(), self.kind.code()));
        m.insert("VendorID".into(), wrap(&self.vendor_id));
        put_opt(&mut m, "Description", &self.description);
        if let Some(r) = &self.reference {
            m.insert(reference_field.into(), wrap(r));
        }
        if let Some(d) = self.date {
            m.insert("Date".into(), wrap_date(d));
        }
        if let Some(d) = self.promised_on {
            m.insert("PromisedOn".into(), wrap_date(d));
        }
        m.insert("Hold".into(), wrap(self.hold));
        let branch = self.branch.clone().or_else(|| default_branch.map(str::to_string));
        put_opt(&mut m, "Branch", &branch);
        put_opt(&mut m, "Location", &self.location);
        put_opt(&mut m, "Terms", &self.terms);
        put_opt(&mut m, "CurrencyID", &self.currency);
        m.insert("Details".into(), Json::Array(self.lines.iter().map(|l| Json::Object(l.fields(c))).collect()));
        Json::Object(m)
    }
}

/// One change to a PO's lines.
#[derive(Debug, Clone, PartialEq)]
pub enum PoLineChange {
    /// Change an existing line (by its `id`).
    Update {
        /// Line id.
        id: String,
        /// New quantity.
        qty: Option<Decimal>,
        /// New unit cost.
        unit_cost: Option<Decimal>,
        /// New description.
        description: Option<String>,
        /// New promised date.
        promised: Option<NaiveDate>,
    },
    /// Add a line.
    Add(PoLineDraft),
    /// Remove a line (refused by Acumatica once received or billed).
    Delete {
        /// Line id.
        id: String,
    },
}

/// Changes to a purchase order (`None`: leave as is).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoUpdate {
    /// `Hold`.
    pub hold: Option<bool>,
    /// `Description`.
    pub description: Option<String>,
    /// `PromisedOn`.
    pub promised_on: Option<NaiveDate>,
    /// Line changes.
    pub lines: Vec<PoLineChange>,
}

impl PoUpdate {
    /// Whether nothing would change.
    pub fn is_empty(&self) -> bool {
        self.hold.is_none() && self.description.is_none() && self.promised_on.is_none() && self.lines.is_empty()
    }

    /// The PUT body for the record with `id`.
    pub fn to_json(&self, c: Contract, id: &str) -> Json {
        let mut m = Map::new();
        m.insert("id".into(), json!(id));
        if let Some(h) = self.hold {
            m.insert("Hold".into(), wrap(h));
        }
        put_opt(&mut m, "Description", &self.description);
        if let Some(d) = self.promised_on {
            m.insert("PromisedOn".into(), wrap_date(d));
        }
        if !self.lines.is_empty() {
            let lines: Vec<Json> = self
                .lines
                .iter()
                .map(|ch| match ch {
                    PoLineChange::Update { id, qty, unit_cost, description, promised } => {
                        let mut x = Map::new();
                        x.insert("id".into(), json!(id));
                        if let Some(q) = qty {
                            x.insert("OrderQty".into(), wrap_dec(*q));
                        }
                        if let Some(u) = unit_cost {
                            x.insert("UnitCost".into(), wrap_dec(*u));
                        }
                        put_opt(&mut x, "LineDescription", description);
                        if let Some(d) = promised {
                            x.insert("Promised".into(), wrap_date(*d));
                        }
                        Json::Object(x)
                    }
                    PoLineChange::Add(l) => Json::Object(l.fields(c)),
                    PoLineChange::Delete { id } => json!({ "id": id, "delete": true }),
                })
                .collect();
            m.insert("Details".into(), Json::Array(lines));
        }
        Json::Object(m)
    }
}

fn same_line(current: &PoLine, wanted: &PoLineDraft) -> bool {
    match (&current.inventory_id, &wanted.inventory_id) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        (None, None) => {
            current.account == wanted.account
                && current.description.as_deref().map(str::trim) == wanted.description.as_deref().map(str::trim)
        }
        _ => false,
    }
}

/// The line changes that turn `current`'s lines into `wanted` (matched in order by item, or by
/// account and description for lines without an item): quantities and costs updated, missing
/// lines deleted, new ones added. Lines already received are never deleted (Acumatica refuses);
/// they are kept and reported in the second list.
pub fn plan_line_changes(current: &PurchaseOrder, wanted: &[PoLineDraft]) -> (Vec<PoLineChange>, Vec<PoLine>) {
    let mut used = vec![false; current.lines.len()];
    let mut changes = Vec::new();
    for w in wanted {
        match current.lines.iter().enumerate().position(|(i, l)| !used[i] && same_line(l, w)) {
            Some(i) => {
                used[i] = true;
                let l = &current.lines[i];
                let qty = (l.qty != w.qty).then_some(w.qty);
                let unit_cost = (l.unit_cost != w.unit_cost).then_some(w.unit_cost);
                let description =
                    w.description.clone().filter(|d| Some(d.trim()) != l.description.as_deref().map(str::trim));
                let promised = w.promised.filter(|p| Some(*p) != l.promised);
                if qty.is_some() || unit_cost.is_some() || description.is_some() || promised.is_some() {
                    changes.push(PoLineChange::Update { id: l.id.clone(), qty, unit_cost, description, promised });
                }
            }
            None => changes.push(PoLineChange::Add(w.clone())),
        }
    }
    let mut kept = Vec::new();
    for (i, l) in current.lines.iter().enumerate() {
        if used[i] || l.cancelled {
            continue;
        }
        if l.qty_on_receipts > Decimal::ZERO {
            kept.push(l.clone());
        } else {
            changes.push(PoLineChange::Delete { id: l.id.clone() });
        }
    }
    (changes, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_unwrap_in_every_shape() {
        let v: Value<Text> = serde_json::from_value(json!({})).unwrap();
        assert_eq!(v.value, None);
        let v: Value<Text> = serde_json::from_value(json!({"value": 10001})).unwrap();
        assert_eq!(v.value, Some(Text("10001".into())));
        let v: Value<Dec> = serde_json::from_value(json!({"value": 201.73, "error": "bad"})).unwrap();
        assert_eq!((v.value.map(|d| d.0), v.error.as_deref()), (Some(Decimal::new(20173, 2)), Some("bad")));
        let v: Value<Dec> = serde_json::from_value(json!({"value": "12.50"})).unwrap();
        assert_eq!(v.value.map(|d| d.0), Some(Decimal::new(1250, 2)));
        let v: Value<Day> = serde_json::from_value(json!({"value": "2025-03-01T00:00:00+10:00"})).unwrap();
        assert_eq!(v.value.map(|d| d.0), NaiveDate::from_ymd_opt(2025, 3, 1), "the date as written");
        let v: Value<Day> = serde_json::from_value(json!({"value": "2026-09-09"})).unwrap();
        assert_eq!(v.value.map(|d| d.0), NaiveDate::from_ymd_opt(2026, 9, 9));
        let v: Value<Stamp> = serde_json::from_value(json!({"value": "2020-08-11T10:47:41.17-04:00"})).unwrap();
        assert_eq!(v.value.map(|s| s.0.to_rfc3339()), Some("2020-08-11T14:47:41.170+00:00".to_string()));
        let cv4: Value<Choice> = serde_json::from_value(json!({"value": "Completed"})).unwrap();
        let cv5: Value<Choice> =
            serde_json::from_value(json!({"value": {"id": "M", "description": "Completed"}})).unwrap();
        assert_eq!(PoStatus::from_choice(&cv4.value.unwrap()), PoStatus::Completed);
        assert_eq!(PoStatus::from_choice(&cv5.value.unwrap()), PoStatus::Completed);
        assert_eq!(BillStatus::parse("Weird"), BillStatus::Other("Weird".into()));
        assert!(serde_json::from_value::<Value<Dec>>(json!({"value": "abc"})).is_err());
    }

    #[test]
    fn field_errors_are_quoted_with_paths() {
        let echo = json!({"id": "b641", "error": "Inserting 'AP Transactions' record raised at least one error. Please review the errors.",
            "Amount": {"value": 201.73}, "ReferenceNbr": {"value": "<NEW>"},
            "Vendor": {"value": "V9", "error": "Vendor 'V9' cannot be found in the system."},
            "MainContact": {"Email": {"value": "x", "error": "bad email"}},
            "Details": [{"id": "l1", "InventoryID": {}}, {"id": "l2", "Project": {"value": "TES2323T", "error": "Project 'TES2323T  ' cannot be found in the system."}}]});
        let (entity, fields) = field_errors(&echo);
        assert!(entity.is_some_and(|e| e.starts_with("Inserting")));
        let shown: Vec<String> = fields.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "Details[2]/Project = \"TES2323T\": Project 'TES2323T  ' cannot be found in the system.",
                "MainContact/Email = \"x\": bad email",
                "Vendor = \"V9\": Vendor 'V9' cannot be found in the system.",
            ]
        );
    }

    #[test]
    fn drafts_write_each_contract_version() {
        let d = BillDraft {
            kind: BillType::DebitAdj,
            vendor: "V1".into(),
            vendor_ref: "CN-1".into(),
            date: NaiveDate::from_ymd_opt(2025, 3, 1),
            due_date: None,
            description: None,
            hold: true,
            branch: None,
            terms: None,
            currency: None,
            lines: vec![BillLineDraft {
                qty: Some(Decimal::new(2, 0)),
                unit_cost: Some(Decimal::new(1250, 2)),
                account: Some("60000".into()),
                ..Default::default()
            }],
        };
        let v4 = d.to_json(Contract::for_version("24.200.001"), Some("HQ"));
        assert_eq!(
            (&v4["Type"], &v4["Date"], &v4["BranchID"]),
            (&json!({"value": "Debit Adj."}), &json!({"value": "2025-03-01"}), &json!({"value": "HQ"}))
        );
        assert_eq!(v4["Details"][0]["UnitCost"], json!({"value": 12.5}));
        assert!(v4.get("ReferenceNbr").is_none());
        let v5 = d.to_json(Contract::for_version("26.200.001"), None);
        assert_eq!(v5["Type"], json!({"value": {"id": "ADR"}}));
        let po = PoDraft {
            kind: PoType::Normal,
            vendor_id: "V1".into(),
            reference: Some("PO-00042".into()),
            description: None,
            date: None,
            promised_on: None,
            hold: false,
            branch: None,
            location: None,
            terms: None,
            currency: None,
            lines: vec![],
        };
        assert_eq!(po.to_json(Contract { cv5: false }, "VendorRef", None)["VendorRef"], json!({"value": "PO-00042"}));
    }
}
