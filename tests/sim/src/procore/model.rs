//! The simulated records, in one internal shape that is also the scenario and snapshot format
//! (serde, every field optional on input). The API shapes (§8 of the fact sheet) are rendered
//! from these by the resource modules; derived numbers (commitment totals, requisition G702
//! summaries) are computed here so every answer adds up.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::switches::MoneyStyle;

/// Procore ids are 64-bit integers (some above 2^31, fact sheet §1).
pub type Id = i64;

/// An OAuth application installed as a Developer Managed Service Account (fact sheet §2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct App {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    /// `metadata.source_application_id` of events this app causes.
    pub application_id: Id,
    /// The directory user the install created (`GET /me`).
    pub user_id: Id,
    pub user_login: String,
    /// Companies where a company admin installed the app.
    pub installs: Vec<Install>,
}

impl Default for App {
    fn default() -> Self {
        App {
            client_id: String::new(),
            client_secret: String::new(),
            name: "ml-connector".into(),
            application_id: 0,
            user_id: 0,
            user_login: String::new(),
            installs: Vec::new(),
        }
    }
}

/// One install: the company, the permitted projects (`None` = all) and the tools granted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Install {
    pub company_id: Id,
    pub projects: Option<Vec<Id>>,
    /// Tool permissions from the app manifest ([`TOOLS`]).
    pub tools: Vec<String>,
}

impl Default for Install {
    fn default() -> Self {
        Install { company_id: 0, projects: None, tools: TOOLS.iter().map(|t| t.to_string()).collect() }
    }
}

/// Tools a route needs **[I: tool ↔ endpoint mapping, fact sheet §2.2]**.
pub const TOOLS: [&str; 7] =
    ["directory", "commitments", "invoicing", "direct_costs", "cost_codes", "projects", "webhooks"];

/// An issued access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Token {
    pub token: String,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Company {
    pub id: Id,
    pub name: String,
    pub is_active: bool,
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Project {
    pub id: Id,
    pub company_id: Id,
    pub name: String,
    pub project_number: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state_code: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub time_zone: Option<String>,
    pub stage: Option<String>,
    pub active: bool,
    pub start_date: Option<NaiveDate>,
    pub completion_date: Option<NaiveDate>,
    pub total_value: Option<Decimal>,
    pub origin_id: Option<String>,
    pub origin_code: Option<String>,
    pub origin_data: Option<String>,
    pub accounting_project_number: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// `business_register` of a vendor (the only place a tax id lives, fact sheet §0.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct BusinessRegister {
    pub id: Id,
    /// `EIN` or `ABN`.
    #[serde(rename = "type")]
    pub kind: String,
    pub identifier: String,
    pub verified_at: Option<DateTime<Utc>>,
    pub verification_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Vendor {
    pub id: Id,
    pub company_id: Id,
    pub name: String,
    pub abbreviated_name: Option<String>,
    pub legal_name: Option<String>,
    pub trade_name: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state_code: Option<String>,
    pub zip: Option<String>,
    pub country_code: Option<String>,
    pub business_phone: Option<String>,
    pub fax_number: Option<String>,
    pub email_address: Option<String>,
    pub website: Option<String>,
    pub business_id: Option<String>,
    pub business_register: Option<BusinessRegister>,
    pub license_number: Option<String>,
    pub is_active: bool,
    pub origin_id: Option<String>,
    pub origin_code: Option<String>,
    pub origin_data: Option<String>,
    pub project_ids: Vec<Id>,
    pub trades: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A project cost code; two levels (division and code), `full_code` joins them with `-`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CostCode {
    pub id: Id,
    pub project_id: Id,
    pub code: String,
    pub name: String,
    pub parent_id: Option<Id>,
    pub position: i64,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A cost type (`line_item_types`), company-wide; `base_type` may be null **[C]**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LineItemType {
    pub id: Id,
    pub company_id: Id,
    pub name: String,
    pub code: String,
    pub base_type: Option<String>,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
}

/// A line of a commitment, change order or direct cost (fact sheet §8.4/§8.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct LineItem {
    pub id: Id,
    pub description: Option<String>,
    pub cost_code_id: Option<Id>,
    pub line_item_type_id: Option<Id>,
    pub quantity: Decimal,
    pub unit_cost: Decimal,
    pub uom: Option<String>,
    /// The line's amount; when seeded as zero with a quantity and unit cost, it is their product.
    pub amount: Decimal,
    pub position: i64,
    pub tax_code_id: Option<Id>,
    pub origin_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl LineItem {
    /// Amount as Procore shows it: the seeded amount, else quantity × unit cost.
    pub fn total(&self) -> Decimal {
        if self.amount.is_zero() { (self.quantity * self.unit_cost).round_dp(2) } else { self.amount }
    }
}

/// Work order (subcontract) or purchase order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum CommitmentKind {
    #[default]
    WorkOrderContract,
    PurchaseOrderContract,
}

impl CommitmentKind {
    /// The statuses Procore allows for this type, Title Case **[C]**.
    pub fn statuses(self) -> &'static [&'static str] {
        match self {
            CommitmentKind::WorkOrderContract => {
                &["Draft", "Out For Bid", "Out For Signature", "Approved", "Complete", "Terminated", "Void"]
            }
            CommitmentKind::PurchaseOrderContract => {
                &["Draft", "Processing", "Submitted", "Partially Received", "Received", "Approved", "Closed"]
            }
        }
    }

    /// `WorkOrderContract` / `PurchaseOrderContract`.
    pub fn name(self) -> &'static str {
        match self {
            CommitmentKind::WorkOrderContract => "WorkOrderContract",
            CommitmentKind::PurchaseOrderContract => "PurchaseOrderContract",
        }
    }

    /// Webhook resource name of the contract.
    pub fn resource(self) -> &'static str {
        match self {
            CommitmentKind::WorkOrderContract => "Work Order Contracts",
            CommitmentKind::PurchaseOrderContract => "Purchase Order Contracts",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Commitment {
    pub id: Id,
    pub project_id: Id,
    pub kind: CommitmentKind,
    pub number: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub executed: bool,
    pub vendor_id: Option<Id>,
    /// `amount` or `unit`.
    pub accounting_method: Option<String>,
    pub retainage_percent: Option<Decimal>,
    pub contract_date: Option<NaiveDate>,
    pub execution_date: Option<NaiveDate>,
    pub issued_on_date: Option<NaiveDate>,
    pub signed_contract_received_date: Option<NaiveDate>,
    pub delivery_date: Option<NaiveDate>,
    pub contract_start_date: Option<NaiveDate>,
    pub contract_estimated_completion_date: Option<NaiveDate>,
    pub payment_terms: Option<String>,
    pub private: bool,
    pub line_items: Vec<LineItem>,
    pub origin_id: Option<String>,
    pub origin_code: Option<String>,
    pub origin_data: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl Commitment {
    pub fn grand_total(&self) -> Decimal {
        self.line_items.iter().map(LineItem::total).sum()
    }
}

/// Change order statuses **[C]**.
pub const CO_STATUSES: [&str; 12] = [
    "draft",
    "not_pricing",
    "pricing",
    "pending",
    "pending_billable",
    "revised",
    "proceeding",
    "not_proceeding",
    "no_charge",
    "approved",
    "rejected",
    "void",
];

/// A commitment change order package (`change_order_packages`; also listed as
/// `commitment_change_orders` with `legacy_package_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ChangeOrder {
    pub id: Id,
    pub project_id: Id,
    pub contract_id: Id,
    pub number: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub executed: bool,
    pub revision: i64,
    pub due_date: Option<NaiveDate>,
    pub invoiced_date: Option<NaiveDate>,
    pub paid_date: Option<NaiveDate>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub line_items: Vec<LineItem>,
    pub origin_id: Option<String>,
    pub origin_code: Option<String>,
    pub origin_data: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl ChangeOrder {
    pub fn grand_total(&self) -> Decimal {
        self.line_items.iter().map(LineItem::total).sum()
    }
}

/// Requisition statuses **[C]**.
pub const REQUISITION_STATUSES: [&str; 6] =
    ["draft", "under_review", "revise_and_resubmit", "approved", "approved_as_noted", "pending_owner_approval"];

/// A subcontractor invoice (requisition), G702/G703 (fact sheet §8.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Requisition {
    pub id: Id,
    pub project_id: Id,
    pub commitment_id: Id,
    /// Per-commitment sequence.
    pub number: i64,
    pub invoice_number: Option<String>,
    pub period_id: Option<Id>,
    pub requisition_start: Option<NaiveDate>,
    pub requisition_end: Option<NaiveDate>,
    pub billing_date: Option<NaiveDate>,
    pub payment_date: Option<NaiveDate>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub status: String,
    pub erp_status: Option<String>,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub items: Vec<RequisitionItem>,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// One G703 row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RequisitionItem {
    pub id: Id,
    /// `contract_item`, `change_order_item`, `contract_detail_item`, `whole_change_order_item`.
    pub item_type: String,
    pub line_item_id: Option<Id>,
    pub cost_code_id: Option<Id>,
    pub description_of_work: Option<String>,
    pub scheduled_value: Decimal,
    pub work_completed_from_previous_application: Decimal,
    pub work_completed_this_period: Decimal,
    pub materials_presently_stored: Decimal,
    /// Retainage held on earlier applications.
    pub work_completed_retainage_from_previous: Decimal,
    pub work_completed_retainage_retained_this_period: Decimal,
    pub work_completed_retainage_released_this_period: Decimal,
    pub materials_stored_retainage_currently_retained: Decimal,
    pub position: i64,
}

impl RequisitionItem {
    pub fn total_completed_and_stored(&self) -> Decimal {
        self.work_completed_from_previous_application
            + self.work_completed_this_period
            + self.materials_presently_stored
    }
    /// This period's billing before retainage.
    pub fn gross(&self) -> Decimal {
        self.work_completed_this_period + self.materials_presently_stored
    }
    /// This period's retainage net of releases.
    pub fn retainage_this_period(&self) -> Decimal {
        self.work_completed_retainage_retained_this_period + self.materials_stored_retainage_currently_retained
            - self.work_completed_retainage_released_this_period
    }
    pub fn net(&self) -> Decimal {
        self.gross() - self.retainage_this_period()
    }
}

/// The G702 totals of a requisition, all derived from its items.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    pub original_contract_sum: Decimal,
    pub net_change_by_change_orders: Decimal,
    pub contract_sum_to_date: Decimal,
    pub total_completed_and_stored_to_date: Decimal,
    pub completed_work_retainage_percent: Decimal,
    pub completed_work_retainage_amount: Decimal,
    pub stored_materials_retainage_amount: Decimal,
    pub total_retainage: Decimal,
    pub total_earned_less_retainage: Decimal,
    pub less_previous_certificates_for_payment: Decimal,
    pub current_payment_due: Decimal,
    pub balance_to_finish_including_retainage: Decimal,
}

impl Requisition {
    pub fn summary(&self, retainage_percent: Decimal) -> Summary {
        let sum = |f: &dyn Fn(&RequisitionItem) -> Decimal| -> Decimal { self.items.iter().map(f).sum() };
        let original = sum(&|i| if i.item_type.contains("change_order") { Decimal::ZERO } else { i.scheduled_value });
        let cos = sum(&|i| if i.item_type.contains("change_order") { i.scheduled_value } else { Decimal::ZERO });
        let completed = sum(&|i| i.total_completed_and_stored());
        let work_ret = sum(&|i| {
            i.work_completed_retainage_from_previous + i.work_completed_retainage_retained_this_period
                - i.work_completed_retainage_released_this_period
        });
        let stored_ret = sum(&|i| i.materials_stored_retainage_currently_retained);
        let total_ret = work_ret + stored_ret;
        let earned = completed - total_ret;
        let previous = sum(&|i| i.work_completed_from_previous_application - i.work_completed_retainage_from_previous);
        Summary {
            original_contract_sum: original,
            net_change_by_change_orders: cos,
            contract_sum_to_date: original + cos,
            total_completed_and_stored_to_date: completed,
            completed_work_retainage_percent: retainage_percent,
            completed_work_retainage_amount: work_ret,
            stored_materials_retainage_amount: stored_ret,
            total_retainage: total_ret,
            total_earned_less_retainage: earned,
            less_previous_certificates_for_payment: previous,
            current_payment_due: earned - previous,
            balance_to_finish_including_retainage: original + cos - earned,
        }
    }
}

/// Direct cost types **[C]** (`subcontractor_invoice` only when enabled for the company).
pub const DIRECT_COST_TYPES: [&str; 4] = ["invoice", "expense", "payroll", "subcontractor_invoice"];
/// Direct cost statuses **[C]**.
pub const DIRECT_COST_STATUSES: [&str; 4] = ["draft", "pending", "revise_and_resubmit", "approved"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct DirectCost {
    pub id: Id,
    pub project_id: Id,
    pub direct_cost_type: String,
    pub direct_cost_date: Option<NaiveDate>,
    pub invoice_number: Option<String>,
    pub description: Option<String>,
    pub status: String,
    pub vendor_id: Option<Id>,
    pub employee_id: Option<Id>,
    pub employee_name: Option<String>,
    pub terms: Option<String>,
    pub payment_date: Option<NaiveDate>,
    pub received_date: Option<NaiveDate>,
    pub line_items: Vec<LineItem>,
    pub origin_id: Option<String>,
    pub origin_data: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub deleted_at: Option<DateTime<Utc>>,
}

impl DirectCost {
    pub fn amount(&self) -> Decimal {
        self.line_items.iter().map(LineItem::total).sum()
    }
}

/// A webhook hook (fact sheet §9): company- or project-scoped, one namespace per integration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Hook {
    pub id: Id,
    pub company_id: Option<Id>,
    pub project_id: Option<Id>,
    pub namespace: String,
    pub api_version: String,
    /// `v2.0` (default), `v3.0` or `v4.0`.
    pub payload_version: String,
    pub destination_url: String,
    /// `destination_headers.Authorization`, sent verbatim with every delivery.
    pub authorization: Option<String>,
    pub owned_by_client_id: String,
    pub owned_by_user_id: Option<Id>,
    /// `active` or `disabled`.
    pub status: String,
    pub triggers: Vec<Trigger>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Trigger {
    pub id: Id,
    pub resource_name: String,
    /// Lower case: `create`, `update`, `delete`.
    pub event_type: String,
}

/// Webhook resources this simulator emits, with their scope (fact sheet §9, sandbox 2026-02).
pub const WEBHOOK_RESOURCES: [(&str, &str); 12] = [
    ("Company Vendors", "company"),
    ("Line Item Types", "company"),
    ("Projects", "company"),
    ("Work Order Contracts", "project"),
    ("Work Order Contract Line Items", "project"),
    ("Purchase Order Contracts", "project"),
    ("Purchase Order Contract Line Items", "project"),
    ("Direct Costs", "project"),
    ("Direct Cost Line Items", "project"),
    ("Change Order Packages", "project"),
    ("Cost Codes", "project"),
    ("Requisitions", "project"),
];

/// Money as Procore writes it: `two_dp` for invoices and direct costs, `ruby` for commitments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyKind {
    /// Requisitions, direct costs: `"55000.00"`.
    Invoice,
    /// Commitments, change orders: `"1142000.0"`.
    Commitment,
}

/// A money or quantity value in the configured style.
pub fn money(d: Decimal, kind: MoneyKind, style: MoneyStyle) -> serde_json::Value {
    let two = || serde_json::Value::String(format!("{:.2}", d.round_dp(2)));
    let ruby = || {
        let n = d.normalize();
        let s = n.to_string();
        serde_json::Value::String(if s.contains('.') { s } else { format!("{s}.0") })
    };
    match style {
        MoneyStyle::Documented => match kind {
            MoneyKind::Invoice => two(),
            MoneyKind::Commitment => ruby(),
        },
        MoneyStyle::TwoDp => two(),
        MoneyStyle::Ruby => ruby(),
        MoneyStyle::Numbers => serde_json::from_str(&d.normalize().to_string()).unwrap_or(serde_json::Value::Null),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` **[C]**.
pub fn stamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// An optional timestamp as JSON.
pub fn opt_stamp(t: &Option<DateTime<Utc>>) -> serde_json::Value {
    t.as_ref().map(|t| serde_json::Value::String(stamp(t))).unwrap_or(serde_json::Value::Null)
}

/// An optional date as JSON (`YYYY-MM-DD`).
pub fn opt_date(d: &Option<NaiveDate>) -> serde_json::Value {
    d.map(|d| serde_json::Value::String(d.format("%Y-%m-%d").to_string())).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn money_styles() {
        assert_eq!(money(d("55000"), MoneyKind::Invoice, MoneyStyle::Documented), json!("55000.00"));
        assert_eq!(money(d("1142000.00"), MoneyKind::Commitment, MoneyStyle::Documented), json!("1142000.0"));
        assert_eq!(money(d("12.50"), MoneyKind::Commitment, MoneyStyle::Documented), json!("12.5"));
        assert_eq!(money(d("12.5"), MoneyKind::Commitment, MoneyStyle::TwoDp), json!("12.50"));
        assert_eq!(money(d("12.5"), MoneyKind::Invoice, MoneyStyle::Numbers), json!(12.5));
    }

    #[test]
    fn g702_summary_adds_up() {
        let item = |t: &str, sched: &str, prev: &str, this: &str, prev_ret: &str, ret: &str| RequisitionItem {
            item_type: t.into(),
            scheduled_value: d(sched),
            work_completed_from_previous_application: d(prev),
            work_completed_this_period: d(this),
            work_completed_retainage_from_previous: d(prev_ret),
            work_completed_retainage_retained_this_period: d(ret),
            ..Default::default()
        };
        let r = Requisition {
            items: vec![
                item("contract_item", "100000", "40000", "20000", "4000", "2000"),
                item("change_order_item", "10000", "0", "5000", "0", "500"),
            ],
            ..Default::default()
        };
        let s = r.summary(d("10"));
        assert_eq!(s.contract_sum_to_date, d("110000"));
        assert_eq!(s.total_completed_and_stored_to_date, d("65000"));
        assert_eq!(s.total_retainage, d("6500"));
        assert_eq!(s.less_previous_certificates_for_payment, d("36000"));
        assert_eq!(s.current_payment_due, d("22500"));
        assert_eq!(s.current_payment_due, r.items.iter().map(RequisitionItem::net).sum::<Decimal>());
    }
}
