//! Vantagepoint records as the API shows them.
//!
//! Field names are Vantagepoint's, verbatim (fact sheet §5) **[C]**: flags are `"Y"`/`"N"`
//! strings, dates are `YYYY-MM-DDTHH:MM:SS.mmm` without a zone and `""` when empty **[C]**,
//! numbers are JSON numbers on read and numbers or numeric strings on write **[C]**. Only the
//! fields a connector can plausibly use are modelled (a real firm row has ~123 columns); a write
//! naming any other field is refused with "Field X does not exist." as Vantagepoint does **[C-code]**.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::common::json::{flex_decimal, flex_i64, flex_string};

/// Deltek's date format: `2017-11-22T00:00:00.000`.
pub const DATE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f";

/// Format a date the Deltek way.
pub fn fmt_date(d: &NaiveDateTime) -> String {
    d.format(DATE_FORMAT).to_string()
}

/// Parse the date spellings clients send: Deltek's own, ISO with or without time, fraction or
/// zone (a zone is dropped: Vantagepoint stores local times), and `MM/DD/YYYY`.
pub fn parse_date(s: &str) -> Option<NaiveDateTime> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(d.naive_utc());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d);
        }
    }
    for f in ["%Y-%m-%d", "%m/%d/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Some(d.and_time(NaiveTime::MIN));
        }
    }
    None
}

/// `Option<NaiveDateTime>` as Deltek dates (`""` for none).
pub mod ddate {
    use super::*;
    use serde::{Deserializer, Serializer, de};

    /// Write `""` or the Deltek format.
    pub fn serialize<S: Serializer>(d: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&fmt_date(d)),
            None => s.serialize_str(""),
        }
    }

    /// Read `""`/null as none, else any spelling [`parse_date`] understands.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => {
                parse_date(&s).map(Some).ok_or_else(|| de::Error::custom(format!("'{s}' is not a date")))
            }
            other => Err(de::Error::custom(format!("{other} is not a date"))),
        }
    }
}

fn n() -> String {
    "N".into()
}
fn a() -> String {
    "A".into()
}
fn yes() -> bool {
    true
}

/// A firm: clients and vendors share one hub (§5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Firm {
    /// Key: 32-hex lower-case GUID without dashes.
    #[serde(rename = "ClientID", with = "flex_string")]
    pub client_id: String,
    /// Human firm number.
    #[serde(with = "flex_string")]
    pub client: String,
    /// Firm name.
    #[serde(with = "flex_string")]
    pub name: String,
    /// Firm type code.
    #[serde(rename = "Type", with = "flex_string")]
    pub firm_type: String,
    /// `A` active, `I` inactive, `D` dormant.
    #[serde(with = "flex_string")]
    pub status: String,
    /// `Y` when the firm is a client.
    #[serde(with = "flex_string")]
    pub client_ind: String,
    /// `Y` when the firm is a vendor.
    #[serde(with = "flex_string")]
    pub vendor_ind: String,
    /// Vendor number used by every AP transaction.
    #[serde(with = "flex_string")]
    pub vendor: String,
    /// Tax id type.
    #[serde(rename = "TypeOfTIN", with = "flex_string")]
    pub type_of_tin: String,
    /// US tax id.
    #[serde(rename = "FedID", with = "flex_string")]
    pub fed_id: String,
    #[serde(with = "flex_string")]
    pub primary_address1: String,
    #[serde(with = "flex_string")]
    pub primary_address2: String,
    #[serde(with = "flex_string")]
    pub primary_city: String,
    #[serde(with = "flex_string")]
    pub primary_state: String,
    #[serde(with = "flex_string")]
    pub primary_zip: String,
    #[serde(with = "flex_string")]
    pub primary_country: String,
    #[serde(with = "flex_string")]
    pub primary_phone: String,
    #[serde(with = "flex_string")]
    pub primary_email: String,
    #[serde(with = "flex_string")]
    pub current_status: String,
    #[serde(with = "flex_string")]
    pub custom_currency_code: String,
    #[serde(with = "flex_string")]
    pub org: String,
    #[serde(with = "flex_string")]
    pub small_business: String,
    #[serde(with = "flex_string")]
    pub woman_owned: String,
    #[serde(rename = "HUBZone", with = "flex_string")]
    pub hub_zone: String,
    #[serde(with = "flex_string")]
    pub create_user: String,
    #[serde(with = "ddate")]
    pub create_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub mod_user: String,
    #[serde(with = "ddate")]
    pub mod_date: Option<NaiveDateTime>,
    /// "Approved for Use in Processing" on the vendor's accounting tab. The API exposing it is
    /// unknown **[U]**, so the simulator keeps it internal: seedable, never in answers.
    #[serde(skip, default = "yes")]
    pub approved_for_processing: bool,
    /// The `/firm/{id}/address` sub-grid.
    #[serde(skip)]
    pub addresses: Vec<FirmAddress>,
}

impl Default for Firm {
    fn default() -> Self {
        Firm {
            client_id: String::new(),
            client: String::new(),
            name: String::new(),
            firm_type: String::new(),
            status: a(),
            client_ind: n(),
            vendor_ind: n(),
            vendor: String::new(),
            type_of_tin: String::new(),
            fed_id: String::new(),
            primary_address1: String::new(),
            primary_address2: String::new(),
            primary_city: String::new(),
            primary_state: String::new(),
            primary_zip: String::new(),
            primary_country: "US".into(),
            primary_phone: String::new(),
            primary_email: String::new(),
            current_status: String::new(),
            custom_currency_code: "USD".into(),
            org: String::new(),
            small_business: n(),
            woman_owned: n(),
            hub_zone: n(),
            create_user: String::new(),
            create_date: None,
            mod_user: String::new(),
            mod_date: None,
            approved_for_processing: true,
            addresses: Vec::new(),
        }
    }
}

/// A firm address (`/firm/{ClientID}/address`) **[C-code SCJ]**. The `Payment` one is the remit-to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct FirmAddress {
    #[serde(rename = "CLAddressID", with = "flex_string")]
    pub cl_address_id: String,
    #[serde(rename = "ClientID", with = "flex_string")]
    pub client_id: String,
    /// Address code (`Primary`, `Remit`, ...).
    #[serde(with = "flex_string")]
    pub address: String,
    #[serde(with = "flex_string")]
    pub primary_ind: String,
    #[serde(with = "flex_string")]
    pub billing: String,
    #[serde(with = "flex_string")]
    pub accounting: String,
    #[serde(with = "flex_string")]
    pub payment: String,
    #[serde(with = "flex_string")]
    pub addressee: String,
    #[serde(with = "flex_string")]
    pub address1: String,
    #[serde(with = "flex_string")]
    pub address2: String,
    #[serde(with = "flex_string")]
    pub address3: String,
    #[serde(with = "flex_string")]
    pub address4: String,
    #[serde(with = "flex_string")]
    pub city: String,
    #[serde(with = "flex_string")]
    pub state: String,
    #[serde(with = "flex_string")]
    pub zip: String,
    #[serde(with = "flex_string")]
    pub country: String,
    #[serde(with = "flex_string")]
    pub phone: String,
    #[serde(rename = "FAX", with = "flex_string")]
    pub fax: String,
    #[serde(with = "flex_string")]
    pub email: String,
    #[serde(with = "flex_string")]
    pub tax_registration_number: String,
    #[serde(with = "flex_string")]
    pub tax_country_code: String,
}

impl Default for FirmAddress {
    fn default() -> Self {
        FirmAddress {
            cl_address_id: String::new(),
            client_id: String::new(),
            address: String::new(),
            primary_ind: n(),
            billing: n(),
            accounting: n(),
            payment: n(),
            addressee: String::new(),
            address1: String::new(),
            address2: String::new(),
            address3: String::new(),
            address4: String::new(),
            city: String::new(),
            state: String::new(),
            zip: String::new(),
            country: "US".into(),
            phone: String::new(),
            fax: String::new(),
            email: String::new(),
            tax_registration_number: String::new(),
            tax_country_code: String::new(),
        }
    }
}

/// A project, phase or task: one shape for all WBS levels (§5.2). `WBS2`/`WBS3` are `""` above
/// their level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Project {
    #[serde(rename = "WBS1", with = "flex_string")]
    pub wbs1: String,
    #[serde(rename = "WBS2", with = "flex_string")]
    pub wbs2: String,
    #[serde(rename = "WBS3", with = "flex_string")]
    pub wbs3: String,
    #[serde(with = "flex_string")]
    pub name: String,
    #[serde(with = "flex_string")]
    pub long_name: String,
    /// `Y` when the record has children.
    #[serde(with = "flex_string")]
    pub sub_level: String,
    /// `R` regular, `H` overhead, `P` promotional.
    #[serde(with = "flex_string")]
    pub charge_type: String,
    /// `A` active, `I` inactive, `D` dormant.
    #[serde(with = "flex_string")]
    pub status: String,
    #[serde(rename = "ClientID", with = "flex_string")]
    pub client_id: String,
    #[serde(rename = "BillingClientID", with = "flex_string")]
    pub billing_client_id: String,
    #[serde(rename = "CLAddress", with = "flex_string")]
    pub cl_address: String,
    #[serde(with = "flex_string")]
    pub org: String,
    #[serde(with = "flex_string")]
    pub proj_mgr: String,
    #[serde(with = "flex_string")]
    pub principal: String,
    #[serde(with = "flex_string")]
    pub supervisor: String,
    #[serde(with = "flex_decimal")]
    pub fee: Decimal,
    #[serde(with = "flex_string")]
    pub project_currency_code: String,
    #[serde(with = "flex_string")]
    pub billing_currency_code: String,
    #[serde(with = "ddate")]
    pub start_date: Option<NaiveDateTime>,
    #[serde(with = "ddate")]
    pub end_date: Option<NaiveDateTime>,
    #[serde(with = "ddate")]
    pub mod_date: Option<NaiveDateTime>,
}

impl Default for Project {
    fn default() -> Self {
        Project {
            wbs1: String::new(),
            wbs2: String::new(),
            wbs3: String::new(),
            name: String::new(),
            long_name: String::new(),
            sub_level: n(),
            charge_type: "R".into(),
            status: a(),
            client_id: String::new(),
            billing_client_id: String::new(),
            cl_address: String::new(),
            org: String::new(),
            proj_mgr: String::new(),
            principal: String::new(),
            supervisor: String::new(),
            fee: Decimal::ZERO,
            project_currency_code: "USD".into(),
            billing_currency_code: "USD".into(),
            start_date: None,
            end_date: None,
            mod_date: None,
        }
    }
}

impl Project {
    /// `WBS1`, `WBS1 / WBS2` or `WBS1 / WBS2 / WBS3`, for messages.
    pub fn label(&self) -> String {
        wbs_label(&self.wbs1, &self.wbs2, &self.wbs3)
    }
}

/// `WBS1 / WBS2 / WBS3` without blank levels.
pub fn wbs_label(w1: &str, w2: &str, w3: &str) -> String {
    [w1, w2, w3].iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" / ")
}

/// A GL account (§5.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Account {
    #[serde(with = "flex_string")]
    pub account: String,
    #[serde(with = "flex_string")]
    pub name: String,
    /// 1 asset, 2 liability, 3 net worth, 4 revenue, 5 reimbursable expense, 6 reimbursable
    /// consultant, 7 direct expense, 8 direct consultant, 9 indirect, 10 other charges.
    #[serde(rename = "Type", with = "flex_i64")]
    pub account_type: i64,
    #[serde(with = "flex_string")]
    pub status: String,
    #[serde(with = "flex_string")]
    pub detail: String,
    #[serde(with = "flex_string")]
    pub cash_basis_account: String,
    #[serde(with = "flex_string")]
    pub unrealized_loss_account: String,
    #[serde(with = "flex_string")]
    pub unrealized_gain_account: String,
    #[serde(with = "flex_string")]
    pub cash_basis_revaluation: String,
    #[serde(with = "flex_string")]
    pub global_account: String,
    #[serde(with = "flex_string")]
    pub account_currency_code: String,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            account: String::new(),
            name: String::new(),
            account_type: 1,
            status: a(),
            detail: "1".into(),
            cash_basis_account: String::new(),
            unrealized_loss_account: String::new(),
            unrealized_gain_account: String::new(),
            cash_basis_revaluation: String::new(),
            global_account: String::new(),
            account_currency_code: "USD".into(),
        }
    }
}

/// An accounting period (`Settings/Period`) **[C-code]**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Period {
    /// `YYYYPP`.
    #[serde(with = "flex_i64")]
    pub period: i64,
    #[serde(with = "flex_string")]
    pub fmt_period: String,
    #[serde(with = "ddate")]
    pub account_pd_start: Option<NaiveDateTime>,
    #[serde(with = "ddate")]
    pub account_pd_end: Option<NaiveDateTime>,
    /// `Y` when the period is closed for the active company.
    #[serde(with = "flex_string")]
    pub active_company_closed: String,
}

impl Default for Period {
    fn default() -> Self {
        Period {
            period: 0,
            fmt_period: String::new(),
            account_pd_start: None,
            account_pd_end: None,
            active_company_closed: n(),
        }
    }
}

impl Period {
    /// Whether posting into it is refused.
    pub fn is_closed(&self) -> bool {
        self.active_company_closed.eq_ignore_ascii_case("Y")
    }
}

/// `MM/YYYY` display form of a `YYYYPP` period, as landing rows show it **[C]**.
pub fn fmt_period(p: i64) -> String {
    format!("{:02}/{}", p % 100, p / 100)
}

/// A company (`Settings/Company`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct Company {
    #[serde(with = "flex_string")]
    pub company: String,
    #[serde(with = "flex_string")]
    pub name: String,
}

/// AP file (control) fields of `DataEntry/apControl` (§5.4a).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ApControl {
    #[serde(with = "flex_string")]
    pub batch: String,
    #[serde(with = "flex_string")]
    pub description: String,
    #[serde(with = "flex_string")]
    pub recurring: String,
    #[serde(with = "ddate")]
    pub end_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub default_currency_code: String,
    /// Control total (0 allowed).
    #[serde(with = "flex_decimal")]
    pub total: Decimal,
    #[serde(with = "flex_string")]
    pub default_liab: String,
    #[serde(with = "flex_string")]
    pub default_bank: String,
    #[serde(with = "ddate")]
    pub default_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub selected: String,
    #[serde(with = "flex_string")]
    pub posted: String,
    #[serde(with = "flex_string")]
    pub creator: String,
    /// `YYYYPP` or 0 (the active period).
    #[serde(with = "flex_i64")]
    pub period: i64,
    #[serde(with = "flex_i64")]
    pub post_period: i64,
    #[serde(with = "flex_i64")]
    pub post_seq: i64,
    #[serde(with = "flex_string")]
    pub company: String,
}

impl Default for ApControl {
    fn default() -> Self {
        ApControl {
            batch: String::new(),
            description: String::new(),
            recurring: n(),
            end_date: None,
            default_currency_code: "USD".into(),
            total: Decimal::ZERO,
            default_liab: String::new(),
            default_bank: String::new(),
            default_date: None,
            selected: n(),
            posted: n(),
            creator: String::new(),
            period: 0,
            post_period: 0,
            post_seq: 0,
            company: String::new(),
        }
    }
}

/// One voucher (vendor invoice) of an AP file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ApMaster {
    #[serde(with = "flex_string")]
    pub batch: String,
    #[serde(rename = "MasterPKey", with = "flex_string")]
    pub master_pkey: String,
    #[serde(with = "flex_string")]
    pub vendor: String,
    /// The vendor's invoice number.
    #[serde(with = "flex_string")]
    pub invoice: String,
    #[serde(with = "ddate")]
    pub invoice_date: Option<NaiveDateTime>,
    #[serde(with = "ddate")]
    pub trans_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub liab_code: String,
    #[serde(with = "flex_string")]
    pub bank_code: String,
    #[serde(with = "flex_string")]
    pub pay_terms: String,
    /// Due date (used when `PayTerms` = `Date`).
    #[serde(with = "ddate")]
    pub pay_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub address: String,
    /// Voucher number; blank on create = auto-numbered.
    #[serde(with = "flex_string")]
    pub voucher: String,
    #[serde(with = "flex_i64")]
    pub seq: i64,
    #[serde(with = "flex_string")]
    pub posted: String,
    #[serde(with = "flex_string")]
    pub currency_code: String,
    #[serde(with = "flex_string")]
    pub payment_currency_code: String,
    #[serde(with = "flex_string")]
    pub currency_exchange_override_method: String,
    #[serde(with = "ddate")]
    pub currency_exchange_override_date: Option<NaiveDateTime>,
    #[serde(with = "flex_decimal")]
    pub currency_exchange_override_rate: Decimal,
    #[serde(with = "flex_string")]
    pub payment_exchange_override_method: String,
    #[serde(with = "ddate")]
    pub payment_exchange_override_date: Option<NaiveDateTime>,
    #[serde(with = "flex_decimal")]
    pub payment_exchange_override_rate: Decimal,
    /// `N` new, `A` approved (with `AuthorizedBy`).
    #[serde(with = "flex_string")]
    pub status: String,
    #[serde(with = "flex_string")]
    pub authorized_by: String,
    #[serde(with = "flex_string")]
    pub reject_reason: String,
    #[serde(with = "flex_string")]
    pub mod_user: String,
    #[serde(with = "ddate")]
    pub mod_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub diary: String,
    #[serde(with = "flex_string")]
    pub diary_no: String,
    #[serde(with = "flex_string")]
    pub allow_asset_entries: String,
    #[serde(with = "flex_string")]
    pub bar_code: String,
}

impl Default for ApMaster {
    fn default() -> Self {
        ApMaster {
            batch: String::new(),
            master_pkey: String::new(),
            vendor: String::new(),
            invoice: String::new(),
            invoice_date: None,
            trans_date: None,
            liab_code: String::new(),
            bank_code: String::new(),
            pay_terms: "Next".into(),
            pay_date: None,
            address: "<Default>".into(),
            voucher: String::new(),
            seq: 0,
            posted: n(),
            currency_code: "USD".into(),
            payment_currency_code: "USD".into(),
            currency_exchange_override_method: n(),
            currency_exchange_override_date: None,
            currency_exchange_override_rate: Decimal::ZERO,
            payment_exchange_override_method: n(),
            payment_exchange_override_date: None,
            payment_exchange_override_rate: Decimal::ZERO,
            status: n(),
            authorized_by: String::new(),
            reject_reason: String::new(),
            mod_user: String::new(),
            mod_date: None,
            diary: n(),
            diary_no: String::new(),
            allow_asset_entries: n(),
            bar_code: String::new(),
        }
    }
}

/// One line of a voucher.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ApDetail {
    #[serde(with = "flex_string")]
    pub batch: String,
    #[serde(rename = "MasterPKey", with = "flex_string")]
    pub master_pkey: String,
    #[serde(rename = "PKey", with = "flex_string")]
    pub pkey: String,
    #[serde(with = "flex_i64")]
    pub seq: i64,
    #[serde(with = "flex_string")]
    pub description: String,
    #[serde(rename = "WBS1", with = "flex_string")]
    pub wbs1: String,
    #[serde(rename = "WBS2", with = "flex_string")]
    pub wbs2: String,
    #[serde(rename = "WBS3", with = "flex_string")]
    pub wbs3: String,
    #[serde(with = "flex_string")]
    pub account: String,
    /// Line total including tax.
    #[serde(with = "flex_decimal")]
    pub amount: Decimal,
    /// Line total excluding tax.
    #[serde(with = "flex_decimal")]
    pub net_amount: Decimal,
    #[serde(with = "flex_string")]
    pub suppress_bill: String,
    #[serde(rename = "PONumber", with = "flex_string")]
    pub po_number: String,
    #[serde(with = "flex_decimal")]
    pub payment_amount: Decimal,
    #[serde(with = "flex_string")]
    pub expense_code: String,
    #[serde(with = "flex_string")]
    pub originating_vendor: String,
    #[serde(with = "flex_string")]
    pub create_asset: String,
    #[serde(with = "flex_string")]
    pub asset_type: String,
    #[serde(with = "flex_string")]
    pub item: String,
    #[serde(rename = "EquipmentID", with = "flex_string")]
    pub equipment_id: String,
    #[serde(with = "flex_decimal")]
    pub currency_exchange_override_rate: Decimal,
}

impl Default for ApDetail {
    fn default() -> Self {
        ApDetail {
            batch: String::new(),
            master_pkey: String::new(),
            pkey: String::new(),
            seq: 0,
            description: String::new(),
            wbs1: String::new(),
            wbs2: String::new(),
            wbs3: String::new(),
            account: String::new(),
            amount: Decimal::ZERO,
            net_amount: Decimal::ZERO,
            suppress_bill: n(),
            po_number: String::new(),
            payment_amount: Decimal::ZERO,
            expense_code: String::new(),
            originating_vendor: String::new(),
            create_asset: n(),
            asset_type: String::new(),
            item: String::new(),
            equipment_id: String::new(),
            currency_exchange_override_rate: Decimal::ZERO,
        }
    }
}

/// A tax row of a voucher line (`apDetailTax`, by analogy with `cvDetailTax` **[I]**).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct ApDetailTax {
    #[serde(with = "flex_string")]
    pub batch: String,
    #[serde(rename = "MasterPKey", with = "flex_string")]
    pub master_pkey: String,
    #[serde(rename = "PKey", with = "flex_string")]
    pub pkey: String,
    #[serde(with = "flex_string")]
    pub tax_code: String,
    #[serde(with = "flex_i64")]
    pub seq: i64,
    #[serde(with = "flex_decimal")]
    pub tax_amount: Decimal,
    #[serde(with = "flex_string")]
    pub compound_on_tax_code: String,
}

/// JE file (control) fields of `DataEntry/jeControl` (§5.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct JeControl {
    #[serde(with = "flex_string")]
    pub batch: String,
    #[serde(with = "flex_string")]
    pub description: String,
    #[serde(with = "flex_string")]
    pub recurring: String,
    #[serde(with = "ddate")]
    pub end_date: Option<NaiveDateTime>,
    /// Debits control total.
    #[serde(with = "flex_decimal")]
    pub total: Decimal,
    #[serde(with = "flex_decimal")]
    pub credits_total: Decimal,
    #[serde(with = "flex_string")]
    pub allow_tax_entries: String,
    #[serde(with = "flex_string")]
    pub reverse: String,
    #[serde(with = "ddate")]
    pub reverse_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub recur_schedule: String,
    #[serde(with = "flex_string")]
    pub selected: String,
    #[serde(with = "flex_string")]
    pub posted: String,
    #[serde(with = "flex_string")]
    pub creator: String,
    #[serde(with = "flex_i64")]
    pub period: i64,
    #[serde(with = "flex_i64")]
    pub post_period: i64,
    #[serde(with = "flex_i64")]
    pub post_seq: i64,
    #[serde(with = "flex_string")]
    pub company: String,
}

impl Default for JeControl {
    fn default() -> Self {
        JeControl {
            batch: String::new(),
            description: String::new(),
            recurring: n(),
            end_date: None,
            total: Decimal::ZERO,
            credits_total: Decimal::ZERO,
            allow_tax_entries: n(),
            reverse: n(),
            reverse_date: None,
            recur_schedule: String::new(),
            selected: n(),
            posted: n(),
            creator: String::new(),
            period: 0,
            post_period: 0,
            post_seq: 0,
            company: String::new(),
        }
    }
}

/// One journal entry of a JE file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct JeMaster {
    #[serde(with = "flex_string")]
    pub batch: String,
    #[serde(with = "flex_string")]
    pub ref_no: String,
    #[serde(with = "ddate")]
    pub trans_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub description: String,
    #[serde(rename = "Type", with = "flex_string")]
    pub je_type: String,
    #[serde(with = "flex_string")]
    pub update_billed: String,
    #[serde(with = "flex_i64")]
    pub seq: i64,
    #[serde(with = "flex_string")]
    pub currency_code: String,
    #[serde(with = "flex_string")]
    pub status: String,
    #[serde(with = "flex_string")]
    pub diary: String,
}

impl Default for JeMaster {
    fn default() -> Self {
        JeMaster {
            batch: String::new(),
            ref_no: String::new(),
            trans_date: None,
            description: String::new(),
            je_type: "3".into(),
            update_billed: n(),
            seq: 0,
            currency_code: "USD".into(),
            status: n(),
            diary: n(),
        }
    }
}

/// One line of a journal entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct JeDetail {
    #[serde(with = "flex_string")]
    pub batch: String,
    #[serde(with = "flex_string")]
    pub ref_no: String,
    #[serde(rename = "PKey", with = "flex_string")]
    pub pkey: String,
    #[serde(with = "flex_i64")]
    pub seq: i64,
    #[serde(with = "flex_string")]
    pub description: String,
    #[serde(rename = "WBS1", with = "flex_string")]
    pub wbs1: String,
    #[serde(rename = "WBS2", with = "flex_string")]
    pub wbs2: String,
    #[serde(rename = "WBS3", with = "flex_string")]
    pub wbs3: String,
    #[serde(with = "flex_string")]
    pub account: String,
    #[serde(with = "flex_decimal")]
    pub debit_amount: Decimal,
    #[serde(with = "flex_decimal")]
    pub credit_amount: Decimal,
    #[serde(with = "flex_string")]
    pub suppress_bill: String,
    #[serde(with = "flex_string")]
    pub link_company: String,
}

impl Default for JeDetail {
    fn default() -> Self {
        JeDetail {
            batch: String::new(),
            ref_no: String::new(),
            pkey: String::new(),
            seq: 0,
            description: String::new(),
            wbs1: String::new(),
            wbs2: String::new(),
            wbs3: String::new(),
            account: String::new(),
            debit_amount: Decimal::ZERO,
            credit_amount: Decimal::ZERO,
            suppress_bill: n(),
            link_company: String::new(),
        }
    }
}

/// A posted ledger row (`/ledger/{TransType}`), LedgerAP/AR/Misc shape (§5.8). Blank `WBS2`/`WBS3`
/// are `" "` here **[C]**.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct LedgerRow {
    #[serde(with = "flex_i64")]
    pub period: i64,
    #[serde(with = "flex_i64")]
    pub post_seq: i64,
    #[serde(rename = "PKey", with = "flex_string")]
    pub pkey: String,
    #[serde(rename = "WBS1", with = "flex_string")]
    pub wbs1: String,
    #[serde(rename = "WBS2", with = "flex_string")]
    pub wbs2: String,
    #[serde(rename = "WBS3", with = "flex_string")]
    pub wbs3: String,
    #[serde(with = "flex_string")]
    pub account: String,
    #[serde(with = "flex_string")]
    pub org: String,
    #[serde(with = "flex_string")]
    pub trans_type: String,
    /// AP: `L` line, `T` tax. IN: `I` interest, `R` retainage, ...
    #[serde(with = "flex_string")]
    pub sub_type: String,
    #[serde(with = "flex_string")]
    pub ref_no: String,
    #[serde(with = "ddate")]
    pub trans_date: Option<NaiveDateTime>,
    #[serde(with = "flex_string")]
    pub desc1: String,
    #[serde(with = "flex_string")]
    pub desc2: String,
    #[serde(with = "flex_decimal")]
    pub amount: Decimal,
    #[serde(with = "flex_string")]
    pub vendor: String,
    #[serde(with = "flex_string")]
    pub voucher: String,
    #[serde(with = "flex_string")]
    pub invoice: String,
    #[serde(with = "flex_string")]
    pub invoice_section: String,
    #[serde(with = "flex_i64")]
    pub line: i64,
    #[serde(with = "flex_string")]
    pub bill_status: String,
    #[serde(rename = "PONumber", with = "flex_string")]
    pub po_number: String,
    #[serde(with = "flex_string")]
    pub tax_code: String,
    #[serde(with = "flex_decimal")]
    pub tax_basis: Decimal,
    #[serde(with = "flex_decimal")]
    pub transaction_amount: Decimal,
    #[serde(with = "flex_string")]
    pub transaction_currency_code: String,
    #[serde(with = "flex_string")]
    pub batch: String,
    #[serde(with = "flex_string")]
    pub company: String,
    /// Last change; lets a client read "changed since a cursor" with filterHash **[I]**.
    #[serde(with = "ddate")]
    pub mod_date: Option<NaiveDateTime>,
}

impl Default for LedgerRow {
    fn default() -> Self {
        LedgerRow {
            period: 0,
            post_seq: 0,
            pkey: String::new(),
            wbs1: " ".into(),
            wbs2: " ".into(),
            wbs3: " ".into(),
            account: String::new(),
            org: String::new(),
            trans_type: String::new(),
            sub_type: " ".into(),
            ref_no: String::new(),
            trans_date: None,
            desc1: String::new(),
            desc2: String::new(),
            amount: Decimal::ZERO,
            vendor: String::new(),
            voucher: String::new(),
            invoice: " ".into(),
            invoice_section: String::new(),
            line: 0,
            bill_status: " ".into(),
            po_number: String::new(),
            tax_code: String::new(),
            tax_basis: Decimal::ZERO,
            transaction_amount: Decimal::ZERO,
            transaction_currency_code: "USD".into(),
            batch: String::new(),
            company: String::new(),
            mod_date: None,
        }
    }
}

/// `" "` for a blank WBS level in transaction rows **[C]**.
pub fn blank_as_space(s: &str) -> String {
    if s.trim().is_empty() { " ".into() } else { s.to_string() }
}

/// A posted client invoice (billing, TransType `IN`), seeded; the AR views are derived from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct ArInvoice {
    #[serde(with = "flex_string")]
    pub invoice: String,
    #[serde(rename = "WBS1", with = "flex_string")]
    pub wbs1: String,
    #[serde(with = "flex_string")]
    pub company: String,
    #[serde(with = "ddate")]
    pub invoice_date: Option<NaiveDateTime>,
    #[serde(with = "ddate")]
    pub due_date: Option<NaiveDateTime>,
    /// Billing client (a firm's `ClientID`); the project's when blank.
    #[serde(rename = "BillingClientID", with = "flex_string")]
    pub billing_client_id: String,
    #[serde(with = "flex_string")]
    pub credit_memo_ref_no: String,
    #[serde(with = "flex_i64")]
    pub period: i64,
    /// Open balance; the invoice total when absent.
    #[serde(default, with = "crate::common::json::opt_flex_decimal")]
    pub balance: Option<Decimal>,
    #[serde(with = "ddate")]
    pub mod_date: Option<NaiveDateTime>,
    #[serde(with = "flex_i64")]
    pub post_seq: i64,
    #[serde(with = "flex_string")]
    pub currency_code: String,
    pub lines: Vec<ArLine>,
}

impl Default for ArInvoice {
    fn default() -> Self {
        ArInvoice {
            invoice: String::new(),
            wbs1: String::new(),
            company: String::new(),
            invoice_date: None,
            due_date: None,
            billing_client_id: String::new(),
            credit_memo_ref_no: String::new(),
            period: 0,
            balance: None,
            mod_date: None,
            post_seq: 0,
            currency_code: "USD".into(),
            lines: Vec::new(),
        }
    }
}

impl ArInvoice {
    /// Sum of the lines.
    pub fn total(&self) -> Decimal {
        self.lines.iter().map(|l| l.amount).sum()
    }
}

/// One line of a client invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
pub struct ArLine {
    #[serde(rename = "WBS2", with = "flex_string")]
    pub wbs2: String,
    #[serde(rename = "WBS3", with = "flex_string")]
    pub wbs3: String,
    #[serde(with = "flex_string")]
    pub account: String,
    #[serde(with = "flex_decimal")]
    pub amount: Decimal,
    /// `F` fee, `L` labor, `E` expense, `C` consultant, `T` tax ...
    #[serde(with = "flex_string")]
    pub invoice_section: String,
    #[serde(with = "flex_string")]
    pub sub_type: String,
    #[serde(with = "flex_string")]
    pub tax_code: String,
    #[serde(with = "flex_decimal")]
    pub tax_basis: Decimal,
    #[serde(with = "flex_string")]
    pub description: String,
}

/// Serialize a record to its JSON object.
pub fn to_object<T: Serialize>(t: &T) -> Map<String, Value> {
    match serde_json::to_value(t) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The column names of a record type, in the API's spelling.
pub fn columns<T: Serialize + Default>() -> Vec<String> {
    to_object(&T::default()).keys().cloned().collect()
}

/// A field failed to parse or does not exist.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldError {
    /// "Field X does not exist."
    Unknown(String),
    /// A value of the wrong kind.
    Invalid(String),
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldError::Unknown(k) => write!(f, "Field {k} does not exist."),
            FieldError::Invalid(d) => write!(f, "{d}"),
        }
    }
}

/// Build a record from a JSON object (keys case-insensitive), starting from `base`: the "PUT and
/// POST behave as PATCH" rule **[C]**.
pub fn patch<T: Serialize + DeserializeOwned>(base: &T, obj: &Map<String, Value>) -> Result<T, FieldError> {
    let mut current = to_object(base);
    let known: Vec<String> = current.keys().cloned().collect();
    let canon =
        crate::common::json::canonical_keys(obj, known.iter().map(String::as_str)).map_err(FieldError::Unknown)?;
    for (k, v) in canon {
        current.insert(k, v);
    }
    serde_json::from_value(Value::Object(current)).map_err(|e| FieldError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_in_deltek_format() {
        let d = parse_date("2017-11-22").expect("date");
        assert_eq!(fmt_date(&d), "2017-11-22T00:00:00.000");
        assert_eq!(
            parse_date("2017-11-22T10:11:12.345").map(|d| fmt_date(&d)).as_deref(),
            Some("2017-11-22T10:11:12.345")
        );
        assert_eq!(
            parse_date("2017-11-22T10:11:12Z").map(|d| fmt_date(&d)).as_deref(),
            Some("2017-11-22T10:11:12.000")
        );
        assert!(parse_date("").is_none());
    }

    #[test]
    fn patch_is_case_insensitive_and_rejects_unknown_fields() {
        let f = Firm::default();
        let obj = serde_json::json!({"name": "Acme", "VENDORIND": "Y", "Amount": 3});
        assert_eq!(patch(&f, obj.as_object().expect("o")), Err(FieldError::Unknown("Amount".into())));
        let obj = serde_json::json!({"name": "Acme", "VENDORIND": "Y"});
        let f2 = patch(&f, obj.as_object().expect("o")).expect("patched");
        assert_eq!(f2.name, "Acme");
        assert_eq!(f2.vendor_ind, "Y");
        assert_eq!(f2.status, "A");
    }

    #[test]
    fn money_reads_from_strings() {
        let d: ApDetail = serde_json::from_value(serde_json::json!({"Amount": "560.00", "Seq": "2"})).expect("d");
        assert_eq!(d.amount, Decimal::new(56000, 2));
        assert_eq!(d.seq, 2);
        assert_eq!(to_object(&d)["Amount"], serde_json::json!(560));
    }
}
