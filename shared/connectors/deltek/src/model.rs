//! Typed Vantagepoint records, built from tolerant [`Row`]s, and their mapping to and from the
//! domain model.
//!
//! Read models are built with `from_row` and never fail on a missing or oddly typed field (see
//! [`crate::decode`]); a record without its key is skipped by the caller. Write bodies are
//! `serde_json::Value`s built in the module that sends them, using Vantagepoint's field names
//! verbatim, amounts as exact numeric strings (`"1275.00"`, which Vantagepoint accepts on write),
//! dates as `YYYY-MM-DDT00:00:00.000` and flags as `Y`/`N`.

use chrono::NaiveDate;
use mlc_core::domain::{AccountKind, Address, AddressKind, GlAccount, ProjectRef, Status, Vendor};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::decode::Row;

/// A GL account (`/Accounts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub code: String,
    pub name: String,
    /// Vantagepoint's numeric type: 1 asset, 2 liability, 3 net worth, 4 revenue, 5 reimbursable
    /// expense, 6 reimbursable consultant, 7 direct expense, 8 direct consultant, 9 indirect, 10 other.
    pub account_type: i64,
    pub active: bool,
}

impl Account {
    pub fn from_row(r: &Row) -> Option<Self> {
        let code = r.opt_text("Account")?;
        Some(Account {
            code,
            name: r.text("Name"),
            account_type: r.int("Type").unwrap_or(0),
            active: !r.text("Status").eq_ignore_ascii_case("I") && !r.text("Status").eq_ignore_ascii_case("D"),
        })
    }

    pub fn kind(&self) -> AccountKind {
        match self.account_type {
            1 => AccountKind::Asset,
            2 => AccountKind::Liability,
            3 => AccountKind::Equity,
            4 => AccountKind::Revenue,
            5..=8 => AccountKind::DirectExpense,
            9 => AccountKind::IndirectExpense,
            _ => AccountKind::Other,
        }
    }

    /// Direct or reimbursable: what regular (billable) projects take.
    pub fn is_direct(&self) -> bool {
        (5..=8).contains(&self.account_type)
    }

    pub fn to_domain(&self) -> GlAccount {
        GlAccount {
            code: self.code.clone(),
            name: self.name.clone(),
            kind: self.kind(),
            status: if self.active { Status::Active } else { Status::Inactive },
        }
    }
}

/// A project, phase or task (`/project`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub wbs1: String,
    pub wbs2: Option<String>,
    pub wbs3: Option<String>,
    pub name: String,
    /// `R` regular, `H` overhead, `P` promotional (set on the project, inherited by its levels).
    pub charge_type: String,
    pub active: bool,
    /// Has phases/tasks below it: charges must go to the lowest level.
    pub has_sub_levels: bool,
    pub client_id: Option<String>,
    pub billing_client_id: Option<String>,
    pub org: Option<String>,
}

impl Project {
    pub fn from_row(r: &Row) -> Option<Self> {
        Some(Project {
            wbs1: r.opt_text("WBS1")?,
            wbs2: r.opt_text("WBS2"),
            wbs3: r.opt_text("WBS3"),
            name: r.text("Name"),
            charge_type: r.text("ChargeType").to_ascii_uppercase(),
            active: !matches!(r.text("Status").to_ascii_uppercase().as_str(), "I" | "D"),
            has_sub_levels: r.flag("SubLevel"),
            client_id: r.opt_text("ClientID"),
            billing_client_id: r.opt_text("BillingClientID"),
            org: r.opt_text("Org"),
        })
    }

    pub fn key(&self) -> ProjectRef {
        wbs(&self.wbs1, self.wbs2.clone(), self.wbs3.clone())
    }

    /// `WBS1 / WBS2 / WBS3`, the way Vantagepoint names a level in its messages.
    pub fn label(&self) -> String {
        wbs_label(&self.key())
    }
}

/// Deltek's names for a project position's segments: WBS1 (project), WBS2 (phase), WBS3 (task).
pub trait Wbs {
    fn wbs1(&self) -> &str;
    fn wbs2(&self) -> Option<&str>;
    fn wbs3(&self) -> Option<&str>;
}

impl Wbs for ProjectRef {
    fn wbs1(&self) -> &str {
        self.top()
    }
    fn wbs2(&self) -> Option<&str> {
        self.segment(1)
    }
    fn wbs3(&self) -> Option<&str> {
        self.segment(2)
    }
}

/// A project position from Deltek's three levels.
pub fn wbs(wbs1: &str, wbs2: Option<String>, wbs3: Option<String>) -> ProjectRef {
    ProjectRef::from_segments([Some(wbs1.to_string()), wbs2, wbs3]).unwrap_or_else(|| ProjectRef::new(wbs1))
}

/// `2024003.00 / 01 / 001`.
pub fn wbs_label(p: &ProjectRef) -> String {
    [Some(p.wbs1()), p.wbs2(), p.wbs3()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// An accounting period (`/Settings/Period`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    /// `YYYYPP`.
    pub period: i64,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    /// Closed for the active company.
    pub closed: bool,
}

impl Period {
    pub fn from_row(r: &Row) -> Option<Self> {
        Some(Period {
            period: r.int("Period")?,
            start: r.date("AccountPdStart").map(|d| d.date()),
            end: r.date("AccountPdEnd").map(|d| d.date()),
            closed: r.flag("ActiveCompanyClosed"),
        })
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        match (self.start, self.end) {
            (Some(s), Some(e)) => s <= d && d <= e,
            // Without dates, a calendar-month period number is the best guess.
            _ => {
                use chrono::Datelike;
                self.period == i64::from(d.year()) * 100 + i64::from(d.month())
            }
        }
    }
}

/// A firm address (`/firm/{ClientID}/address`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct FirmAddress {
    /// `CLAddressID`.
    pub id: String,
    /// The address code (`Primary`, `Remit` ...).
    pub code: String,
    pub primary: bool,
    pub billing: bool,
    pub accounting: bool,
    /// The remit-to (payment) address.
    pub payment: bool,
    pub addressee: String,
    pub lines: Vec<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub country: String,
    pub phone: String,
    pub email: String,
}

impl FirmAddress {
    pub fn from_row(r: &Row) -> Self {
        FirmAddress {
            id: r.text("CLAddressID"),
            code: r.text("Address"),
            primary: r.flag("PrimaryInd"),
            billing: r.flag("Billing"),
            accounting: r.flag("Accounting"),
            payment: r.flag("Payment"),
            addressee: r.text("Addressee"),
            lines: ["Address1", "Address2", "Address3", "Address4"].iter().filter_map(|k| r.opt_text(k)).collect(),
            city: r.text("City"),
            state: r.text("State"),
            zip: r.text("Zip"),
            country: r.text("Country"),
            phone: r.text("Phone"),
            email: r.text("Email"),
        }
    }

    pub fn to_domain(&self) -> Address {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        Address {
            kind: if self.payment {
                AddressKind::RemitTo
            } else if self.primary {
                AddressKind::Main
            } else if self.billing {
                AddressKind::Billing
            } else {
                AddressKind::Other
            },
            lines: self.lines.clone(),
            city: opt(&self.city),
            state: opt(&self.state),
            postcode: opt(&self.zip),
            country: opt(&self.country),
        }
    }
}

/// A firm that is (or may become) a vendor (`/firm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct VendorFirm {
    /// `ClientID`: the firm's key.
    pub client_id: String,
    /// `Client`: the human firm number.
    pub client: String,
    pub name: String,
    /// `Vendor`: the vendor number every AP transaction uses.
    pub vendor: String,
    /// `VendorInd`.
    pub is_vendor: bool,
    /// `Status` `A` active, `I` inactive, `D` dormant.
    pub status: String,
    /// `FedID`.
    pub tax_id: String,
    pub email: String,
    pub phone: String,
    pub currency: String,
    pub primary_lines: Vec<String>,
    pub primary_city: String,
    pub primary_state: String,
    pub primary_zip: String,
    pub primary_country: String,
    /// Filled only when the addresses were read (`/firm/{id}/address`).
    pub addresses: Vec<FirmAddress>,
}

impl VendorFirm {
    pub fn from_row(r: &Row) -> Option<Self> {
        Some(VendorFirm {
            client_id: r.opt_text("ClientID")?,
            client: r.text("Client"),
            name: r.text("Name"),
            vendor: r.text("Vendor"),
            is_vendor: r.flag("VendorInd"),
            status: r.text("Status").to_ascii_uppercase(),
            tax_id: r.text("FedID"),
            email: r.text("PrimaryEmail"),
            phone: r.text("PrimaryPhone"),
            currency: r.text("CustomCurrencyCode"),
            primary_lines: ["PrimaryAddress1", "PrimaryAddress2"].iter().filter_map(|k| r.opt_text(k)).collect(),
            primary_city: r.text("PrimaryCity"),
            primary_state: r.text("PrimaryState"),
            primary_zip: r.text("PrimaryZip"),
            primary_country: r.text("PrimaryCountry"),
            addresses: Vec::new(),
        })
    }

    pub fn active(&self) -> bool {
        self.status.is_empty() || self.status == "A"
    }

    /// The domain vendor (code = Vantagepoint vendor number).
    pub fn to_domain(&self) -> Vendor {
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let mut addresses: Vec<Address> = self.addresses.iter().map(FirmAddress::to_domain).collect();
        if !addresses.iter().any(|a| a.kind == AddressKind::Main) && !self.primary_lines.is_empty() {
            addresses.insert(
                0,
                Address {
                    kind: AddressKind::Main,
                    lines: self.primary_lines.clone(),
                    city: opt(&self.primary_city),
                    state: opt(&self.primary_state),
                    postcode: opt(&self.primary_zip),
                    country: opt(&self.primary_country),
                },
            );
        }
        Vendor {
            source: None,
            code: self.vendor.clone(),
            name: self.name.clone(),
            tax_id: opt(&self.tax_id),
            currency: self.currency.parse().ok(),
            payment_terms: None,
            email: opt(&self.email),
            phone: opt(&self.phone),
            addresses,
            status: if self.active() { Status::Active } else { Status::Inactive },
        }
    }
}

/// Where a voucher is: its file and its key in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoucherRef {
    /// The file (`Batch`).
    pub batch: String,
    /// The voucher's key in the file (`MasterPKey`).
    pub master_pkey: String,
    /// Voucher number, when Vantagepoint has assigned one.
    pub voucher: Option<String>,
    pub vendor: String,
    pub invoice: String,
}

impl VoucherRef {
    /// `Batch|MasterPKey`: the id the engine records for the target.
    pub fn id(&self) -> String {
        format!("{}|{}", self.batch, self.master_pkey)
    }

    /// `file MLC…, voucher 0001234` for people.
    pub fn display(&self) -> String {
        match &self.voucher {
            Some(v) => format!("file {}, voucher {v}", self.batch),
            None => format!("file {}, voucher number assigned at posting", self.batch),
        }
    }
}

/// A voucher's lifecycle state in Vantagepoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum VoucherStatus {
    /// Saved in an unposted file, not submitted (`N`, "In Progress"): a draft.
    Draft,
    /// Submitted for approval (`S`): pending.
    Submitted,
    /// Approved, not yet posted (`A`).
    Approved,
    /// Rejected by an approver (`R`), with the reason when given.
    Rejected(Option<String>),
    /// Posted to the ledger.
    Posted { period: Option<i64>, post_seq: Option<i64> },
    /// A code this connector does not know.
    Other(String),
}

impl VoucherStatus {
    /// From a landing `ApprovalStatus` (or a master `Status`) and the posted flag.
    pub fn from_codes(approval: &str, posted: bool) -> Self {
        if posted {
            return VoucherStatus::Posted { period: None, post_seq: None };
        }
        match approval.trim().to_ascii_uppercase().as_str() {
            "" | "N" => VoucherStatus::Draft,
            "S" => VoucherStatus::Submitted,
            "A" => VoucherStatus::Approved,
            "R" => VoucherStatus::Rejected(None),
            "P" => VoucherStatus::Posted { period: None, post_seq: None },
            other => VoucherStatus::Other(other.to_string()),
        }
    }

    /// What people read in the item's target status.
    pub fn describe(&self) -> String {
        match self {
            VoucherStatus::Draft => "draft (N, in progress: not posted)".into(),
            VoucherStatus::Submitted => "pending approval (S, submitted)".into(),
            VoucherStatus::Approved => "approved (A), not posted yet".into(),
            VoucherStatus::Rejected(Some(r)) => format!("rejected by an approver (R): {r}"),
            VoucherStatus::Rejected(None) => "rejected by an approver (R)".into(),
            VoucherStatus::Posted { period: Some(p), post_seq: Some(s) } => {
                format!("posted (period {p}, posting sequence {s})")
            }
            VoucherStatus::Posted { .. } => "posted".into(),
            VoucherStatus::Other(c) => format!("status {c}"),
        }
    }

    pub fn is_posted(&self) -> bool {
        matches!(self, VoucherStatus::Posted { .. })
    }
}

/// A voucher found in Vantagepoint by vendor and invoice number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundVoucher {
    pub voucher: VoucherRef,
    pub status: VoucherStatus,
    /// Created by this connector (its `MasterPKey` is ours), rather than keyed by hand.
    pub ours: bool,
    /// The voucher's invoice date (unposted files) or transaction date (posted rows), when read.
    pub invoice_date: Option<chrono::NaiveDate>,
    /// The voucher's total as the posted ledger rows add up; `None` for unposted vouchers (their
    /// lines are read when the amount is needed, see `ApVoucherTarget`).
    pub amount: Option<Decimal>,
}

impl FoundVoucher {
    /// The engine's record of it.
    pub fn target_ref(&self) -> mlc_core::engine::model::TargetRef {
        target_ref(&self.voucher, &self.status, None)
    }
}

/// What posting a file did, when `post_files` is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PostOutcome {
    Posted {
        period: i64,
        post_seq: i64,
        message: String,
    },
    /// Approvals are on and the file is not approved yet: not an error.
    AwaitingApproval {
        message: String,
    },
    /// Vantagepoint refused to post the file; the vouchers stay saved, unposted.
    Refused {
        message: String,
    },
    /// The post request's answer was lost: the file may or may not be posted.
    InDoubt {
        detail: String,
    },
}

/// A voucher this connector created (or found already there when it tried).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedVoucher {
    pub voucher: VoucherRef,
    pub status: VoucherStatus,
    /// Set when `post_files` is on.
    pub post: Option<PostOutcome>,
    /// Vantagepoint already held it (found while creating): nothing new was written.
    pub already_present: bool,
    /// Total booked (credit memos negative), after rounding to the currency's minor unit.
    pub total: Decimal,
}

impl CreatedVoucher {
    /// The engine's record of it: `Batch|MasterPKey`, the voucher number, and the status
    /// (draft or pending approval is reported, not an error).
    pub fn target_ref(&self) -> mlc_core::engine::model::TargetRef {
        target_ref(&self.voucher, &self.status, self.post.as_ref())
    }
}

fn status_text(status: &VoucherStatus, post: Option<&PostOutcome>) -> String {
    let mut s = status.describe();
    match post {
        Some(PostOutcome::Refused { message }) => s.push_str(&format!("; posting refused: {message}")),
        Some(PostOutcome::InDoubt { detail }) => s.push_str(&format!("; posting in doubt ({detail}): check the file")),
        Some(PostOutcome::AwaitingApproval { .. }) => s.push_str("; will post after approval"),
        _ => {}
    }
    s
}

fn target_ref(
    v: &VoucherRef,
    status: &VoucherStatus,
    post: Option<&PostOutcome>,
) -> mlc_core::engine::model::TargetRef {
    mlc_core::engine::model::TargetRef {
        system: "deltek".into(),
        entity: "ap-voucher".into(),
        id: v.id(),
        display: Some(v.display()),
        status: Some(status_text(status, post)),
    }
}

/// A journal entry this connector created or found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JournalRef {
    pub batch: String,
    pub reference: String,
    pub posted: bool,
    pub already_present: bool,
    pub status: VoucherStatus,
    /// Set when `post_files` is on.
    pub post: Option<PostOutcome>,
}

impl JournalRef {
    pub fn target_ref(&self) -> mlc_core::engine::model::TargetRef {
        mlc_core::engine::model::TargetRef {
            system: "deltek".into(),
            entity: "journal-entry".into(),
            id: format!("{}|{}", self.batch, self.reference),
            display: Some(format!("JE file {}, ref {}", self.batch, self.reference)),
            status: Some(status_text(&self.status, self.post.as_ref())),
        }
    }
}

/// A date as Vantagepoint writes it.
pub(crate) fn day(d: NaiveDate) -> String {
    crate::decode::fmt_day(d)
}

/// An amount as an exact numeric string with the currency's decimals.
pub(crate) fn amount(d: Decimal, minor_units: u32) -> String {
    let r = d.round_dp_with_strategy(minor_units, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    format!("{:.*}", minor_units as usize, r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use serde_json::json;

    fn row(v: serde_json::Value) -> Row {
        Row::from_value(v).unwrap()
    }

    #[test]
    fn reads_tolerate_variants() {
        let a =
            Account::from_row(&row(json!({"account": "51100", "Name": "Travel", "Type": "5", "Status": "A"}))).unwrap();
        assert_eq!((a.kind(), a.is_direct(), a.active), (AccountKind::DirectExpense, true, true));
        assert!(Account::from_row(&row(json!({"Name": "no code"}))).is_none());
        let p = Project::from_row(&row(
            json!({"WBS1": "2024.00", "WBS2": " ", "WBS3": "", "SubLevel": "Y", "ChargeType": "r"}),
        ))
        .unwrap();
        assert_eq!((p.wbs2, p.has_sub_levels, p.charge_type.as_str()), (None, true, "R"));
        let per = Period::from_row(&row(json!({"Period": "202506", "AccountPdStart": "2025-06-01T00:00:00.000", "AccountPdEnd": "2025-06-30T00:00:00.000", "ActiveCompanyClosed": "N"}))).unwrap();
        assert!(per.contains(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap()) && !per.closed);
    }

    #[test]
    fn vendor_maps_to_domain_with_remit_to() {
        let mut f = VendorFirm::from_row(&row(json!({
            "ClientID": "abc", "Name": "Acme", "Vendor": "ACME", "VendorInd": "Y", "Status": "A",
            "FedID": "91-1", "PrimaryAddress1": "1 Main", "PrimaryCity": "X", "CustomCurrencyCode": "USD"
        })))
        .unwrap();
        f.addresses
            .push(FirmAddress::from_row(&row(json!({"Address": "Remit", "Payment": "Y", "Address1": "PO Box 1"}))));
        let v = f.to_domain();
        assert_eq!(v.code, "ACME");
        assert_eq!(v.remit_to().map(|a| a.lines[0].as_str()), Some("PO Box 1"));
        assert!(v.addresses.iter().any(|a| a.kind == AddressKind::Main));
    }

    #[test]
    fn amounts_are_exact_strings() {
        assert_eq!(amount(dec!(50.005), 2), "50.01");
        assert_eq!(amount(dec!(-50.005), 2), "-50.01");
        assert_eq!(amount(dec!(1200), 2), "1200.00");
        assert_eq!(amount(dec!(1200.4), 0), "1200");
    }
}
