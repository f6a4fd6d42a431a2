//! General-ledger reference data: `Account` (key `AccountCD`), `Subaccount` (key
//! `SubaccountCD`) and branches through the `CompaniesStructure` inquiry, plus the reference
//! checks every document uses ("Account '99999' cannot be found in the system.").
//!
//! Messages follow the one real validation text the sheet quotes (§3.3: "Project 'TES2323T  '
//! cannot be found in the system.") and Acumatica's "'X' cannot be empty." **[I: wording]**.

use chrono::{DateTime, Utc};

use super::record::{Change, FieldErrors, Record, Row, Scalar, Values};
use super::schema::{ACCOUNT, SUBACCOUNT};
use super::state::AcuState;

/// "'<label>' cannot be empty."
pub fn empty(label: &str) -> String {
    format!("'{label}' cannot be empty.")
}

/// "<label> '<value>' cannot be found in the system."
pub fn not_found(label: &str, value: &str) -> String {
    format!("{label} '{value}' cannot be found in the system.")
}

/// Why an account code cannot be used on a document, if it cannot.
pub fn check_account(st: &AcuState, code: &str) -> Option<String> {
    match st.find(&ACCOUNT, &[code]) {
        None => Some(not_found("Account", code)),
        Some(a) if a.b("Active") == Some(false) => Some(format!("Account '{code}' is inactive.")),
        Some(_) => None,
    }
}

/// Why a subaccount cannot be used, if it cannot.
pub fn check_subaccount(st: &AcuState, code: &str) -> Option<String> {
    match st.find(&SUBACCOUNT, &[code]) {
        None => Some(not_found("Subaccount", code)),
        Some(s) if s.b("Active") == Some(false) => Some(format!("Subaccount '{code}' is inactive.")),
        Some(_) => None,
    }
}

/// Why a branch cannot be used, if it cannot.
pub fn check_branch(st: &AcuState, id: &str) -> Option<String> {
    match st.branch(id) {
        None => Some(not_found("Branch", id)),
        Some(b) if !b.active => Some(format!("Branch '{id}' is inactive.")),
        Some(_) => None,
    }
}

/// The default subaccount (`000000` when the tenant has it, else the first).
pub fn default_subaccount(st: &AcuState) -> String {
    let subs = st.list(&SUBACCOUNT);
    subs.iter()
        .find(|s| s.s("SubaccountCD") == "000000")
        .or(subs.first())
        .map(|s| s.s("SubaccountCD"))
        .unwrap_or_default()
}

/// Defaults and checks for an `Account` PUT.
pub fn finish_account(st: &AcuState, old: Option<&Record>, r: &mut Record, _ch: &Change, errs: &mut FieldErrors) {
    if old.is_none() && r.b("Active").is_none() {
        r.set("Active", Scalar::Bool(true));
    }
    if !r.has("AccountCD") {
        errs.field("AccountCD", empty("Account"));
    }
    if !r.has("Type") {
        errs.field("Type", empty("Type"));
    }
    if !r.has("Description") {
        errs.field("Description", empty("Description"));
    }
    if r.has("CurrencyID") && !st.currencies.iter().any(|c| c.eq_ignore_ascii_case(&r.s("CurrencyID"))) {
        errs.field("CurrencyID", not_found("Currency", &r.s("CurrencyID")));
    }
}

/// Defaults and checks for a `Subaccount` PUT.
pub fn finish_subaccount(_st: &AcuState, old: Option<&Record>, r: &mut Record, _ch: &Change, errs: &mut FieldErrors) {
    if old.is_none() && r.b("Active").is_none() {
        r.set("Active", Scalar::Bool(true));
    }
    if !r.has("SubaccountCD") {
        errs.field("SubaccountCD", empty("Subaccount"));
    }
}

/// Numbering on commit: `AccountID` / `SubaccountID` (internal integer ids).
pub fn number(st: &mut AcuState, entity: &str, r: &mut Record) {
    let field = match entity {
        "Account" => "AccountID",
        "Subaccount" => "SubaccountID",
        _ => return,
    };
    if r.i(field).is_none() {
        st.seq.gl_id += 1;
        r.set(field, Scalar::Int(1000 + st.seq.gl_id));
    }
}

/// `CompaniesStructure` `Results`: one row per branch **[C: fields]**.
pub fn branch_rows(st: &AcuState, company: &str, branch: &str) -> Vec<Row> {
    st.branches
        .iter()
        .filter(|b| company.is_empty() || b.company_id.eq_ignore_ascii_case(company))
        .filter(|b| branch.is_empty() || b.branch_id.eq_ignore_ascii_case(branch))
        .map(|b| {
            let mut row = Row { id: super::record::new_guid(), ..Default::default() };
            row.set_s("BranchID", b.branch_id.clone());
            row.set_s("BranchName", b.branch_name.clone());
            row.set_s("BranchStatus", if b.active { "A" } else { "I" });
            row.set_s("CompanyID", b.company_id.clone());
            row.set_s("CompanyName", b.company_name.clone());
            row
        })
        .collect()
}

/// The financial period (`MMYYYY`) of a date.
pub fn period_of(d: chrono::NaiveDate) -> String {
    d.format("%m%Y").to_string()
}

/// Why a period cannot take postings, if it cannot.
pub fn check_period(st: &AcuState, period: &str) -> Option<String> {
    st.closed_periods.iter().any(|p| p == period).then(|| {
        let shown = if period.len() == 6 { format!("{}-{}", &period[..2], &period[2..]) } else { period.to_string() };
        format!("The {shown} financial period is closed.")
    })
}

/// `now` in the tenant's business date.
pub fn business_date(st: &AcuState, now: DateTime<Utc>) -> chrono::NaiveDate {
    st.today(now)
}
