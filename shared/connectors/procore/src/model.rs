//! Typed Procore records, decoded tolerantly (fact sheet §3, §8): ids as 64-bit integers (or
//! numeric strings), money and quantities as [`Decimal`] from strings (`"55000.00"`, Ruby's
//! `"1142000.0"`) or numbers, dates and times with or without zones, every non-id field optional,
//! unknown fields ignored, statuses as open enums (an unknown status is kept, not an error).
//!
//! The v1.0 / v1.1 requisition difference lives here: [`Requisition::vendor_id`] is `None` on
//! v1.0 (only `vendor_name`), and `items` comes only from v1.1 with `view=extended` or from v1.0's
//! `/detail`. Direct costs name their vendor by a string in lists and by an object in the v1.1
//! show; [`VendorRef`] reads both.

use chrono::{DateTime, NaiveDate, Utc};
use mlc_core::domain::{Address, AddressKind, SourceRef, Status, Vendor as DomainVendor};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use mlc_http::decode::de;

/// `decimal`, with null or blank read as zero (Procore leaves totals null on empty records).
fn zero_if_blank<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    Ok(de::opt_decimal(d)?.unwrap_or_default())
}

/// `flag`, with null or blank read as false.
fn false_if_blank<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(de::opt_flag(d)?.unwrap_or(false))
}

/// A status Procore spells as text; compared without regard to case, spaces or underscores,
/// unknown values kept.
macro_rules! open_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
        pub enum $name {
            $($variant,)*
            /// A value this connector does not know (kept as sent).
            Other(String),
            /// Absent or blank.
            #[default]
            Missing,
        }

        impl $name {
            /// Procore's spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(s) => s,
                    $name::Missing => "",
                }
            }

            pub fn parse(s: &str) -> Self {
                let key = |x: &str| x.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
                let k = key(s);
                if k.is_empty() {
                    return $name::Missing;
                }
                $(if k == key($text) { return $name::$variant; })*
                $name::Other(s.trim().to_string())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Ok(de::opt_text(d)?.map(|s| $name::parse(&s)).unwrap_or_default())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

open_enum!(
    /// A subcontractor invoice's status **\[C\]**.
    RequisitionStatus {
        Draft = "draft",
        UnderReview = "under_review",
        ReviseAndResubmit = "revise_and_resubmit",
        Approved = "approved",
        ApprovedAsNoted = "approved_as_noted",
        PendingOwnerApproval = "pending_owner_approval",
    }
);

open_enum!(
    /// A commitment's status: Title Case, different per type **\[C\]**.
    CommitmentStatus {
        Draft = "Draft",
        OutForBid = "Out For Bid",
        OutForSignature = "Out For Signature",
        Approved = "Approved",
        Complete = "Complete",
        Terminated = "Terminated",
        Void = "Void",
        Processing = "Processing",
        Submitted = "Submitted",
        PartiallyReceived = "Partially Received",
        Received = "Received",
        Closed = "Closed",
    }
);

open_enum!(
    /// A change order's status **\[C\]**.
    ChangeOrderStatus {
        Draft = "draft",
        NotPricing = "not_pricing",
        Pricing = "pricing",
        Pending = "pending",
        PendingBillable = "pending_billable",
        Revised = "revised",
        Proceeding = "proceeding",
        NotProceeding = "not_proceeding",
        NoCharge = "no_charge",
        Approved = "approved",
        Rejected = "rejected",
        Void = "void",
    }
);

open_enum!(
    /// A direct cost's status **\[C\]**.
    DirectCostStatus {
        Draft = "draft",
        Pending = "pending",
        ReviseAndResubmit = "revise_and_resubmit",
        Approved = "approved",
    }
);

open_enum!(
    /// A direct cost's type **\[C\]**.
    DirectCostType {
        Invoice = "invoice",
        Expense = "expense",
        Payroll = "payroll",
        SubcontractorInvoice = "subcontractor_invoice",
    }
);

/// An `{id, name}` reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct Named {
    #[serde(deserialize_with = "de::opt_int", default)]
    pub id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub name: Option<String>,
}

/// `currency_configuration` on financial records (absent: the company's currency).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct CurrencyConfiguration {
    #[serde(deserialize_with = "de::opt_text", default)]
    pub currency_iso_code: Option<String>,
}

impl CurrencyConfiguration {
    /// The ISO code, when Procore gave one.
    pub fn code(c: &Option<CurrencyConfiguration>) -> Option<&str> {
        c.as_ref().and_then(|c| c.currency_iso_code.as_deref()).map(str::trim).filter(|s| !s.is_empty())
    }
}

fn stamp(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Company {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub name: Option<String>,
    #[serde(deserialize_with = "false_if_blank", default)]
    pub is_active: bool,
}

/// `GET /rest/v1.0/me`: the service account's directory user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Me {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub login: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Project {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub name: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub project_number: Option<String>,
    #[serde(deserialize_with = "false_if_blank", default)]
    pub active: bool,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub accounting_project_number: Option<String>,
    #[serde(default)]
    pub company: Option<Named>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Project {
    /// `25-101 Riverside Medical Office Building`, for messages.
    pub fn label(&self) -> String {
        self.display_name.clone().or_else(|| self.name.clone()).unwrap_or_else(|| format!("project {}", self.id))
    }
}

/// `business_register`: where a vendor's EIN/ABN lives (fact sheet §0.1).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct BusinessRegister {
    #[serde(rename = "type", deserialize_with = "de::opt_text", default)]
    pub kind: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub identifier: Option<String>,
}

/// A company vendor (Directory).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Vendor {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub name: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub abbreviated_name: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub legal_name: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub address: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub city: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub state_code: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub zip: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub country_code: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub business_phone: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub email_address: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub business_id: Option<String>,
    #[serde(default)]
    pub business_register: Option<BusinessRegister>,
    #[serde(deserialize_with = "false_if_blank", default)]
    pub is_active: bool,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_code: Option<String>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Vendor {
    /// The tax id: `business_register.identifier`, else `business_id` (there is no `tax_id`).
    pub fn tax_id(&self) -> Option<&str> {
        self.business_register.as_ref().and_then(|b| b.identifier.as_deref()).or(self.business_id.as_deref())
    }

    /// The version a work item is keyed to.
    pub fn version(&self) -> String {
        stamp(&self.updated_at)
    }

    /// The vendor in the domain model (code = the Procore vendor id).
    pub fn to_vendor(&self) -> DomainVendor {
        let has_address = self.address.is_some() || self.city.is_some();
        DomainVendor {
            source: Some(SourceRef {
                system: "procore".into(),
                entity: "vendor".into(),
                id: self.id.to_string(),
                version: self.version(),
            }),
            code: self.id.to_string(),
            name: self.name.clone().or_else(|| self.legal_name.clone()).unwrap_or_default(),
            tax_id: self.tax_id().map(String::from),
            currency: None,
            payment_terms: None,
            email: self.email_address.clone(),
            phone: self.business_phone.clone(),
            addresses: if has_address {
                vec![Address {
                    kind: AddressKind::Main,
                    lines: self.address.iter().cloned().collect(),
                    city: self.city.clone(),
                    state: self.state_code.clone(),
                    postcode: self.zip.clone(),
                    country: self.country_code.clone(),
                }]
            } else {
                Vec::new()
            },
            status: if self.is_active { Status::Active } else { Status::Inactive },
        }
    }
}

/// A project cost code (two levels; `full_code` like `03-300`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CostCode {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub code: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub full_code: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub name: Option<String>,
    #[serde(default)]
    pub parent: Option<Named>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
}

/// A cost type (`line_item_types`); `base_type` may be null **\[C\]**.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CostType {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub code: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub name: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub base_type: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
}

/// The cost code on a line.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct CostCodeRef {
    #[serde(deserialize_with = "de::opt_int", default)]
    pub id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub full_code: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub name: Option<String>,
}

/// A line of a commitment, change order or direct cost.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct LineItem {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub description: Option<String>,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub quantity: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub unit_cost: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub uom: Option<String>,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub amount: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub extended_amount: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub total_amount: Option<Decimal>,
    #[serde(default)]
    pub cost_code: Option<CostCodeRef>,
    #[serde(default)]
    pub line_item_type: Option<CostType>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
}

impl LineItem {
    /// The line's amount: `amount`, else `extended_amount`, `total_amount`, quantity × unit cost.
    pub fn value(&self) -> Decimal {
        self.amount
            .or(self.extended_amount)
            .or(self.total_amount)
            .or_else(|| Some(self.quantity? * self.unit_cost?))
            .unwrap_or_default()
    }

    /// The line's full cost code (`03-300`), if it has one.
    pub fn full_cost_code(&self) -> Option<String> {
        self.cost_code.as_ref().and_then(|c| c.full_code.clone()).filter(|c| !c.trim().is_empty())
    }

    /// The line's cost type as the `cost_type` mapping keys it: its code (`S`), else its name.
    pub fn cost_type_code(&self) -> Option<String> {
        self.line_item_type
            .as_ref()
            .and_then(|t| t.code.clone().filter(|c| !c.trim().is_empty()).or_else(|| t.name.clone()))
            .filter(|c| !c.trim().is_empty())
    }
}

/// Work order (subcontract) or purchase order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum CommitmentKind {
    #[default]
    WorkOrder,
    PurchaseOrder,
}

impl CommitmentKind {
    /// `work_order_contracts` / `purchase_order_contracts`.
    pub fn path(self) -> &'static str {
        match self {
            CommitmentKind::WorkOrder => "work_order_contracts",
            CommitmentKind::PurchaseOrder => "purchase_order_contracts",
        }
    }

    /// From `WorkOrderContract` / `PurchaseOrderContract` or a webhook resource name.
    pub fn parse(s: &str) -> Option<Self> {
        let k: String = s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        if k.starts_with("workorder") {
            Some(CommitmentKind::WorkOrder)
        } else if k.starts_with("purchaseorder") {
            Some(CommitmentKind::PurchaseOrder)
        } else {
            None
        }
    }
}

/// The vendor on a commitment: `{id, company, origin_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct CommitmentVendor {
    #[serde(deserialize_with = "de::opt_int", default)]
    pub id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default, alias = "name")]
    pub company: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
}

/// A change order as listed on its commitment.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ChangeOrderSummary {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub number: Option<String>,
    #[serde(default)]
    pub status: ChangeOrderStatus,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub grand_total: Decimal,
}

/// A work order or purchase order contract (fact sheet §8.5).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Commitment {
    /// Set by the client from the endpoint it read.
    #[serde(skip_deserializing, default)]
    pub kind: CommitmentKind,
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub number: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub title: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: CommitmentStatus,
    #[serde(deserialize_with = "false_if_blank", default)]
    pub executed: bool,
    #[serde(default)]
    pub vendor: Option<CommitmentVendor>,
    #[serde(default)]
    pub project: Option<Named>,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub retainage_percent: Option<Decimal>,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub grand_total: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub approved_change_orders: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub pending_change_orders: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub revised_contract: Decimal,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub contract_date: Option<NaiveDate>,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub execution_date: Option<NaiveDate>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_code: Option<String>,
    #[serde(default)]
    pub currency_configuration: Option<CurrencyConfiguration>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Only on the show.
    #[serde(default)]
    pub line_items: Vec<LineItem>,
    /// Only on the show.
    #[serde(default)]
    pub change_order_packages: Vec<ChangeOrderSummary>,
}

impl Commitment {
    /// `Approved` (or `Complete`/`Received`/`Closed`, which come after approval) — a commitment
    /// that binds the company.
    pub fn is_committed(&self) -> bool {
        matches!(
            self.status,
            CommitmentStatus::Approved
                | CommitmentStatus::Complete
                | CommitmentStatus::PartiallyReceived
                | CommitmentStatus::Received
                | CommitmentStatus::Closed
        )
    }

    pub fn vendor_id(&self) -> Option<i64> {
        self.vendor.as_ref().and_then(|v| v.id)
    }

    /// Sum of the lines (the show's `line_items`), else `grand_total`.
    pub fn lines_total(&self) -> Decimal {
        if self.line_items.is_empty() { self.grand_total } else { self.line_items.iter().map(LineItem::value).sum() }
    }

    pub fn version(&self) -> String {
        stamp(&self.updated_at)
    }
}

/// A commitment change order (package) (fact sheet §8.6).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ChangeOrder {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub contract_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub number: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub title: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: ChangeOrderStatus,
    #[serde(deserialize_with = "false_if_blank", default)]
    pub executed: bool,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub grand_total: Decimal,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub revision: Option<i64>,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub legacy_package_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub reviewed_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
    #[serde(default)]
    pub currency_configuration: Option<CurrencyConfiguration>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Only on the show.
    #[serde(default)]
    pub line_items: Vec<LineItem>,
}

impl ChangeOrder {
    pub fn version(&self) -> String {
        stamp(&self.updated_at)
    }
}

/// The G702 totals of a requisition (all strings on the wire).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[serde(default)]
pub struct RequisitionSummary {
    #[serde(deserialize_with = "zero_if_blank")]
    pub original_contract_sum: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub net_change_by_change_orders: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub contract_sum_to_date: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub total_completed_and_stored_to_date: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub completed_work_retainage_percent: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub completed_work_retainage_amount: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub stored_materials_retainage_amount: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub total_retainage: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub total_earned_less_retainage: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub less_previous_certificates_for_payment: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub current_payment_due: Decimal,
    #[serde(deserialize_with = "zero_if_blank")]
    pub balance_to_finish_including_retainage: Decimal,
}

/// `wbs_code` on a G703 row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, Default)]
pub struct WbsCode {
    #[serde(deserialize_with = "de::opt_int", default)]
    pub id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub flat_code: Option<String>,
}

/// One G703 row of a requisition.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RequisitionItem {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub item_type: Option<String>,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub line_item_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub cost_code_id: Option<i64>,
    #[serde(default)]
    pub wbs_code: Option<WbsCode>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub description_of_work: Option<String>,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub scheduled_value: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub work_completed_from_previous_application: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub work_completed_this_period: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub materials_presently_stored: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub work_completed_retainage_retained_this_period: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub work_completed_retainage_released_this_period: Decimal,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub materials_stored_retainage_currently_retained: Decimal,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub gross_amount: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub net_amount: Option<Decimal>,
}

impl RequisitionItem {
    /// This period's billing before retainage: `gross_amount`, else work this period + stored.
    pub fn gross(&self) -> Decimal {
        self.gross_amount.unwrap_or(self.work_completed_this_period + self.materials_presently_stored)
    }

    /// Retainage withheld this period, net of releases (negative when more is released).
    pub fn retainage(&self) -> Decimal {
        self.work_completed_retainage_retained_this_period + self.materials_stored_retainage_currently_retained
            - self.work_completed_retainage_released_this_period
    }

    /// Payable this period: `net_amount`, else gross − retainage.
    pub fn net(&self) -> Decimal {
        self.net_amount.unwrap_or_else(|| self.gross() - self.retainage())
    }

    /// A change order row (`change_order_item`, `whole_change_order_item`).
    pub fn is_change_order(&self) -> bool {
        self.item_type.as_deref().is_some_and(|t| t.contains("change_order"))
    }

    /// The row's full cost code: its `wbs_code`, else its commitment line's (`lines`: the
    /// commitment's), else a commitment line's with the same cost code id, else the project's
    /// cost code of that id (`project_codes`, cost code id → full code).
    pub fn cost_code_among(
        &self,
        lines: &[LineItem],
        project_codes: &std::collections::BTreeMap<i64, String>,
    ) -> Option<String> {
        self.wbs_code
            .as_ref()
            .and_then(|w| w.flat_code.clone())
            .filter(|f| !f.trim().is_empty())
            .or_else(|| lines.iter().find(|l| Some(l.id) == self.line_item_id).and_then(LineItem::full_cost_code))
            .or_else(|| {
                let id = self.cost_code_id?;
                lines
                    .iter()
                    .filter_map(|l| l.cost_code.as_ref())
                    .find(|c| c.id == Some(id))
                    .and_then(|c| c.full_code.clone())
                    .or_else(|| project_codes.get(&id).cloned())
            })
    }

    /// Whether [`Self::cost_code_among`] would need the project's cost code list: the row names
    /// its cost code by id alone, and no commitment line carries that id.
    pub fn needs_project_codes(&self, lines: &[LineItem]) -> bool {
        self.wbs_code.as_ref().and_then(|w| w.flat_code.as_deref()).is_none_or(|f| f.trim().is_empty())
            && self
                .cost_code_id
                .is_some_and(|cc| !lines.iter().any(|l| l.cost_code.as_ref().and_then(|c| c.id) == Some(cc)))
    }

    /// The row's cost type: its commitment line's, else the type of the commitment's lines with
    /// its cost code, else the commitment's only type (G703 rows carry none of their own).
    pub fn cost_type_among(&self, lines: &[LineItem]) -> Option<String> {
        if let Some(t) = lines.iter().find(|l| Some(l.id) == self.line_item_id).and_then(LineItem::cost_type_code) {
            return Some(t);
        }
        let same = lines
            .iter()
            .filter(|l| self.cost_code_id.is_some() && l.cost_code.as_ref().and_then(|c| c.id) == self.cost_code_id)
            .find_map(LineItem::cost_type_code);
        if same.is_some() {
            return same;
        }
        let mut all: Vec<String> = lines.iter().filter_map(LineItem::cost_type_code).collect();
        all.sort();
        all.dedup();
        if all.len() == 1 { all.pop() } else { None }
    }
}

/// A subcontractor invoice (requisition), v1.0 or v1.1 (fact sheet §8.3).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Requisition {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub project_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub commitment_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub commitment_type: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub contract_name: Option<String>,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub number: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub invoice_number: Option<String>,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub period_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub requisition_start: Option<NaiveDate>,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub requisition_end: Option<NaiveDate>,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub billing_date: Option<NaiveDate>,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub payment_date: Option<NaiveDate>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub status: RequisitionStatus,
    #[serde(rename = "final", deserialize_with = "false_if_blank", default)]
    pub is_final: bool,
    /// v1.0 and v1.1.
    #[serde(deserialize_with = "de::opt_text", default)]
    pub vendor_name: Option<String>,
    /// v1.1 only.
    #[serde(deserialize_with = "de::opt_int", default)]
    pub vendor_id: Option<i64>,
    #[serde(default)]
    pub summary: Option<RequisitionSummary>,
    /// v1.1 with `view=extended|items`, or v1.0 `/detail` (filled by the client).
    #[serde(default)]
    pub items: Vec<RequisitionItem>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
    #[serde(default)]
    pub currency_configuration: Option<CurrencyConfiguration>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub updated_at: Option<DateTime<Utc>>,
}

impl Requisition {
    /// Approved for export: `approved`, and `approved_as_noted` when the option says so.
    pub fn is_approved(&self, include_as_noted: bool) -> bool {
        self.status == RequisitionStatus::Approved
            || (include_as_noted && self.status == RequisitionStatus::ApprovedAsNoted)
    }

    /// Every amount Procore gave is zero (lines and totals): the cause must be named, never posted.
    pub fn amounts_all_zero(&self) -> bool {
        self.items.iter().all(|i| i.gross().is_zero() && i.retainage().is_zero())
            && self
                .summary
                .as_ref()
                .is_none_or(|s| s.current_payment_due.is_zero() && s.total_completed_and_stored_to_date.is_zero())
    }

    /// Gross, retainage and net of this period, from the rows (or the G702 when there are none).
    pub fn totals(&self) -> (Decimal, Decimal, Decimal) {
        if self.items.is_empty() {
            let s = self.summary.clone().unwrap_or_default();
            let net = s.current_payment_due;
            return (net, Decimal::ZERO, net);
        }
        let gross: Decimal = self.items.iter().map(RequisitionItem::gross).sum();
        let ret: Decimal = self.items.iter().map(RequisitionItem::retainage).sum();
        (gross, ret, gross - ret)
    }

    pub fn version(&self) -> String {
        stamp(&self.updated_at)
    }
}

/// A vendor named by a string (lists) or an `{id, name}` object (the v1.1 show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct VendorRef {
    pub id: Option<i64>,
    pub name: Option<String>,
}

impl<'de> Deserialize<'de> for VendorRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Object(m) => {
                let n: Named =
                    serde_json::from_value(serde_json::Value::Object(m)).map_err(serde::de::Error::custom)?;
                Ok(VendorRef { id: n.id, name: n.name })
            }
            serde_json::Value::String(s) if !s.trim().is_empty() => {
                Ok(VendorRef { id: None, name: Some(s.trim().into()) })
            }
            _ => Ok(VendorRef::default()),
        }
    }
}

/// A direct cost (fact sheet §8.4): list shape, or the v1.1 show with its lines.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct DirectCost {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(default)]
    pub direct_cost_type: DirectCostType,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub direct_cost_date: Option<NaiveDate>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub invoice_number: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub description: Option<String>,
    #[serde(default)]
    pub status: DirectCostStatus,
    #[serde(deserialize_with = "zero_if_blank", default)]
    pub amount: Decimal,
    #[serde(deserialize_with = "de::opt_decimal", default)]
    pub grand_total: Option<Decimal>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub terms: Option<String>,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub payment_date: Option<NaiveDate>,
    #[serde(deserialize_with = "de::opt_date", default)]
    pub received_date: Option<NaiveDate>,
    #[serde(default)]
    pub vendor: VendorRef,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub vendor_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub vendor_name: Option<String>,
    #[serde(default)]
    pub employee: Option<Named>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub origin_id: Option<String>,
    #[serde(default)]
    pub currency_configuration: Option<CurrencyConfiguration>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(deserialize_with = "de::opt_datetime_utc", default)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// The v1.1 show's lines, or the `/line_items` read (filled by the client).
    #[serde(default)]
    pub line_items: Vec<LineItem>,
}

impl DirectCost {
    /// The vendor's id, from whichever field carries it.
    pub fn vendor_id(&self) -> Option<i64> {
        self.vendor_id.or(self.vendor.id)
    }

    pub fn vendor_name(&self) -> Option<&str> {
        self.vendor_name.as_deref().or(self.vendor.name.as_deref())
    }

    /// Total of the lines, else `grand_total`, else `amount`.
    pub fn total(&self) -> Decimal {
        if self.line_items.is_empty() {
            self.grand_total.unwrap_or(self.amount)
        } else {
            self.line_items.iter().map(LineItem::value).sum()
        }
    }

    /// Every amount is zero.
    pub fn amounts_all_zero(&self) -> bool {
        self.amount.is_zero()
            && self.grand_total.unwrap_or_default().is_zero()
            && self.line_items.iter().all(|l| l.value().is_zero())
    }

    pub fn version(&self) -> String {
        stamp(&self.updated_at)
    }
}

/// A webhook hook.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Hook {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub namespace: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub api_version: Option<String>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub destination_url: Option<String>,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub owned_by_company_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_int", default)]
    pub owned_by_project_id: Option<i64>,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub status: Option<String>,
}

/// A hook's trigger; `event_type` lower-cased (lists spell it `UPDATE`, requests `update`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Trigger {
    #[serde(deserialize_with = "de::int")]
    pub id: i64,
    #[serde(deserialize_with = "de::opt_text", default)]
    pub resource_name: Option<String>,
    #[serde(deserialize_with = "lower", default)]
    pub event_type: String,
}

fn lower<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(de::opt_text(d)?.unwrap_or_default().to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses_are_open_and_forgiving() {
        assert_eq!(CommitmentStatus::parse("Out For Signature"), CommitmentStatus::OutForSignature);
        assert_eq!(CommitmentStatus::parse("out_for_signature"), CommitmentStatus::OutForSignature);
        assert_eq!(CommitmentStatus::parse("APPROVED"), CommitmentStatus::Approved);
        assert_eq!(RequisitionStatus::parse("Approved As Noted"), RequisitionStatus::ApprovedAsNoted);
        assert_eq!(RequisitionStatus::parse("on_hold"), RequisitionStatus::Other("on_hold".into()));
        assert_eq!(RequisitionStatus::parse(""), RequisitionStatus::Missing);
        assert_eq!(CommitmentKind::parse("Purchase Order Contracts"), Some(CommitmentKind::PurchaseOrder));
    }

    #[test]
    fn requisitions_of_both_versions_and_direct_cost_vendor_shapes() {
        let v10: Requisition =
            serde_json::from_value(json!({"id": 4400000001i64, "status": "approved", "vendor_name": "Apex",
            "summary": {"current_payment_due": "54000.00"}, "final": false}))
            .unwrap();
        assert_eq!((v10.vendor_id, v10.vendor_name.as_deref()), (None, Some("Apex")));
        assert_eq!(v10.totals().2.to_string(), "54000.00");
        assert!(v10.is_approved(false) && !v10.amounts_all_zero());
        let dc: DirectCost = serde_json::from_value(json!({"id": "1", "vendor": "Metro", "amount": 12.5})).unwrap();
        assert_eq!((dc.vendor_id(), dc.vendor_name(), dc.total().to_string()), (None, Some("Metro"), "12.5".into()));
        let dc: DirectCost =
            serde_json::from_value(json!({"id": 1, "vendor": {"id": 7, "name": "Metro"}, "amount": "0.00",
            "line_items": [{"id": 2, "quantity": "3", "unit_cost": "0"}]}))
            .unwrap();
        assert_eq!(dc.vendor_id(), Some(7));
        assert!(dc.amounts_all_zero());
    }
}
