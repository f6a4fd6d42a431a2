//! `Vendor` (AP303000, key `VendorID`, fact sheet §4): defaults from the tenant (status Active,
//! the first vendor class, its terms, the base currency, the AP account), the checks a PUT
//! gets (name, class, terms, currency, accounts), the main contact's display name, and which
//! vendor statuses documents may use.
//!
//! The vendor code is the record's key and is not auto-numbered here **[I: tenants with a
//! segmented key without auto-numbering]**: a new vendor without `VendorID` is a 422 on it.

use super::gl::{check_account, check_subaccount, empty, not_found};
use super::record::{Change, FieldErrors, Obj, Record, Scalar, Values, new_guid};
use super::schema::{ACCOUNT, VENDOR};
use super::state::AcuState;

/// Why a vendor cannot be used on a new bill or PO, if it cannot.
pub fn check_usable(st: &AcuState, code: &str) -> Option<String> {
    match st.find(&VENDOR, &[code]) {
        None => Some(not_found("Vendor", code)),
        Some(v) if v.s("Status") == "I" => Some(format!("The vendor '{code}' is inactive.")),
        Some(_) => None,
    }
}

/// The AP account new vendors get: the tenant's first liability account named payable, else
/// the first liability account.
fn default_ap_account(st: &AcuState) -> String {
    let accounts = st.list(&ACCOUNT);
    accounts
        .iter()
        .find(|a| a.s("Type") == "L" && a.s("Description").to_lowercase().contains("payable"))
        .or_else(|| accounts.iter().find(|a| a.s("Type") == "L"))
        .map(|a| a.s("AccountCD"))
        .unwrap_or_default()
}

/// Defaults and checks for a `Vendor` PUT.
pub fn finish(st: &mut AcuState, old: Option<&Record>, r: &mut Record, _ch: &Change, errs: &mut FieldErrors) {
    if let Some(o) = old
        && !o.s("VendorID").eq_ignore_ascii_case(&r.s("VendorID"))
    {
        errs.field("VendorID", "The key field Vendor ID cannot be changed.");
    }
    if old.is_none() {
        if !r.has("Status") {
            r.set_s("Status", "A");
        }
        if !r.has("VendorClass")
            && let Some(c) = st.vendor_classes.first()
        {
            r.set_s("VendorClass", c.clone());
        }
        if !r.has("Terms")
            && let Some(t) = st.terms.first()
        {
            r.set_s("Terms", t.id.clone());
        }
        if !r.has("CurrencyID") {
            r.set_s("CurrencyID", st.tenant.base_currency.clone());
        }
        if !r.has("APAccount") {
            r.set_s("APAccount", default_ap_account(st));
        }
        if !r.has("APSubaccount") {
            r.set_s("APSubaccount", super::gl::default_subaccount(st));
        }
        if !r.has("LocationName") {
            r.set_s("LocationName", "Primary Location");
        }
        if r.b("F1099Vendor").is_none() {
            r.set("F1099Vendor", Scalar::Bool(false));
        }
    }
    if !r.has("VendorID") {
        errs.field("VendorID", empty("Vendor ID"));
    }
    if !r.has("VendorName") {
        errs.field("VendorName", empty("Vendor Name"));
    }
    if r.has("VendorClass") && !st.vendor_classes.iter().any(|c| c.eq_ignore_ascii_case(&r.s("VendorClass"))) {
        errs.field("VendorClass", not_found("Vendor Class", &r.s("VendorClass")));
    }
    if r.has("Terms") && st.terms_days(&r.s("Terms")).is_none() {
        errs.field("Terms", not_found("Terms", &r.s("Terms")));
    }
    if r.has("CurrencyID") && !st.currencies.iter().any(|c| c.eq_ignore_ascii_case(&r.s("CurrencyID"))) {
        errs.field("CurrencyID", not_found("Currency", &r.s("CurrencyID")));
    }
    if r.has("APAccount")
        && let Some(m) = check_account(st, &r.s("APAccount"))
    {
        errs.field("APAccount", m);
    }
    if r.has("APSubaccount")
        && let Some(m) = check_subaccount(st, &r.s("APSubaccount"))
    {
        errs.field("APSubaccount", m);
    }
    if r.has("Warehouse") && !st.warehouses.iter().any(|w| w.eq_ignore_ascii_case(&r.s("Warehouse"))) {
        errs.field("Warehouse", not_found("Warehouse", &r.s("Warehouse")));
    }
    // The main contact always exists and shows the vendor's name [I].
    let name = r.s("VendorName");
    let contact =
        r.main.linked.entry("MainContact".into()).or_insert_with(|| Obj { id: new_guid(), ..Default::default() });
    if !contact.has("DisplayName") || old.is_some_and(|o| o.s("VendorName") == contact.s("DisplayName")) {
        contact.set_s("DisplayName", name.clone());
    }
    if !contact.has("CompanyName") {
        contact.set_s("CompanyName", name);
    }
    if contact.i("ContactID").is_none() {
        st.seq.contact += 1;
        contact.set("ContactID", Scalar::Int(100 + st.seq.contact));
    }
    if let Some(email) = contact.fields.get("Email").map(Scalar::text)
        && !email.is_empty()
        && !(email.contains('@') && email.rsplit('@').next().is_some_and(|d| d.contains('.')))
    {
        errs.linked("MainContact/Email", format!("Email: '{email}' is not a valid email address."));
    }
}
