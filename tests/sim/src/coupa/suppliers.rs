//! Suppliers (`/api/suppliers`, remit-to addresses at `/api/suppliers/{id}/addresses`) and
//! supplier information (`/api/supplier_information`: tax ids and bank details, which are not on
//! the supplier). Scope `core.supplier.read`. No `exported` flag: suppliers are synced by
//! `updated-at` watermark (fact sheet §0.1, §8).
//!
//! Changes come from the control API (`update_supplier`: a buyer edits the supplier, new remit-to
//! address included), and bump `updated-at` like any change in Coupa.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::model::{Address, RemitTo, Supplier, SupplierInformation, nullable, put_address};
use super::reference::payment_term_ref;
use super::state::{ApiError, CoupaState};

fn phone(p: &str) -> Value {
    if p.is_empty() {
        return Value::Null;
    }
    let digits: String = p.chars().filter(char::is_ascii_digit).collect();
    let (area, number) = if digits.len() >= 10 {
        let d = &digits[digits.len() - 10..];
        (d[..3].to_string(), format!("{}-{}", &d[3..6], &d[6..]))
    } else {
        (String::new(), digits)
    };
    json!({ "country-code": "1", "area-code": area, "number": number, "extension": null })
}

/// A remit-to address.
pub fn remit_to_json(st: &CoupaState, r: &RemitTo) -> Value {
    let s = st.style();
    let mut m = Map::new();
    m.insert("id".into(), json!(r.id));
    m.insert("remit-to-code".into(), json!(r.remit_to_code));
    m.insert("name".into(), json!(r.name));
    put_address(&mut m, &r.address);
    m.insert("vat-number".into(), nullable(&r.vat_number));
    m.insert("local-tax-number".into(), nullable(&r.local_tax_number));
    m.insert("active".into(), json!(r.active));
    m.insert("external-src-ref".into(), json!(r.external_src_ref));
    m.insert("created-at".into(), s.dt(r.created_at));
    m.insert("updated-at".into(), s.dt(r.updated_at));
    Value::Object(m)
}

/// A supplier with its primary address, contact, payment term and remit-to addresses.
pub fn supplier_json(st: &CoupaState, x: &Supplier) -> Value {
    let s = st.style();
    let mut addr = Map::new();
    addr.insert("id".into(), json!(x.id * 10 + 1));
    put_address(&mut addr, &x.primary_address);
    addr.insert("vat-number".into(), Value::Null);
    addr.insert("local-tax-number".into(), Value::Null);
    let c = &x.primary_contact;
    let contact = if c.email.is_empty() && c.name_family.is_empty() {
        Value::Null
    } else {
        json!({ "email": c.email, "name-given": c.name_given, "name-family": c.name_family,
                "phone-work": phone(&c.phone), "phone-mobile": null })
    };
    json!({
        "id": x.id,
        "created-at": s.dt(x.created_at),
        "updated-at": s.dt(x.updated_at),
        "name": x.name,
        "display-name": if x.display_name.is_empty() { json!(x.name) } else { json!(x.display_name) },
        "number": x.number,
        "status": x.status,
        "tax-id": nullable(&x.tax_id),
        "duns": nullable(&x.duns),
        "account-number": nullable(&x.account_number),
        "invoice-matching-level": x.invoice_matching_level,
        "payment-method": x.payment_method,
        "payment-term": payment_term_ref(st, x.payment_term_id),
        "primary-address": Value::Object(addr),
        "primary-contact": contact,
        "remit-to-addresses": x.remit_to_addresses.iter().map(|r| remit_to_json(st, r)).collect::<Vec<_>>(),
        "on-hold": x.on_hold,
        "hold-invoices-for-ap-review": false,
        "one-time-supplier": false,
        "po-method": "email",
        "custom-fields": x.custom_fields,
    })
}

/// Every supplier, rendered.
pub fn suppliers(st: &CoupaState) -> Vec<Value> {
    st.suppliers.iter().map(|x| supplier_json(st, x)).collect()
}

/// The remit-to addresses of a supplier, rendered (`None`: no such supplier).
pub fn remit_tos(st: &CoupaState, supplier_id: i64) -> Option<Vec<Value>> {
    st.supplier(supplier_id).map(|x| x.remit_to_addresses.iter().map(|r| remit_to_json(st, r)).collect())
}

/// A supplier information record with its addresses and bank details.
pub fn information_json(st: &CoupaState, i: &SupplierInformation) -> Value {
    let s = st.style();
    let addresses: Vec<Value> = i
        .addresses
        .iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("id".into(), json!(a.id));
            m.insert("kind".into(), json!(a.kind));
            put_address(&mut m, &a.address);
            for (k, v) in [
                ("bank-account-number", &a.bank_account_number),
                ("bank-routing-number", &a.bank_routing_number),
                ("iban-number", &a.iban_number),
                ("swift-code", &a.swift_code),
                ("name-on-bank-account", &a.name_on_bank_account),
                ("bank-name", &a.bank_name),
                ("payment-method-item", &a.payment_method_item),
            ] {
                m.insert(k.into(), nullable(v));
            }
            Value::Object(m)
        })
        .collect();
    json!({
        "id": i.id, "supplier-id": i.supplier_id, "name": i.name,
        "federal-tax-num": nullable(&i.federal_tax_num), "intl-tax-num": nullable(&i.intl_tax_num),
        "tax-classification": nullable(&i.tax_classification), "tax-region": nullable(&i.tax_region),
        "pay-group": nullable(&i.pay_group), "status": i.status,
        "supplier-information-addresses": addresses,
        "created-at": s.dt(i.created_at), "updated-at": s.dt(i.updated_at),
    })
}

/// Every supplier information record, rendered.
pub fn informations(st: &CoupaState) -> Vec<Value> {
    st.supplier_information.iter().map(|i| information_json(st, i)).collect()
}

/// A buyer edits a supplier (control action `update_supplier`): any of `name`, `status`,
/// `tax_id`, `number`, `payment_term_id`, `on_hold`, `primary_address`, and `remit_to` (an
/// address; replaces the active remit-to of the same code, or adds one). Bumps `updated-at`.
pub fn update(st: &mut CoupaState, id: i64, patch: &Value, now: DateTime<Utc>) -> Result<(), ApiError> {
    let stamp = CoupaState::stamp(now);
    let remit_id = st.next_id("remit_to");
    let idx = st.supplier_idx(id).ok_or_else(|| ApiError::not_found(&st.switches))?;
    let s = &mut st.suppliers[idx];
    let text = |k: &str| patch.get(k).and_then(Value::as_str).map(str::to_string);
    if let Some(v) = text("name") {
        s.name = v;
    }
    if let Some(v) = text("status") {
        s.status = v;
    }
    if let Some(v) = text("tax_id") {
        s.tax_id = v;
    }
    if let Some(v) = text("number") {
        s.number = Some(v);
    }
    if let Some(v) = patch.get("payment_term_id").and_then(Value::as_i64) {
        s.payment_term_id = Some(v);
    }
    if let Some(v) = patch.get("on_hold").and_then(Value::as_bool) {
        s.on_hold = v;
    }
    if let Some(a) = patch.get("primary_address") {
        s.primary_address = address_from(a)?;
    }
    if let Some(r) = patch.get("remit_to") {
        let address = address_from(r)?;
        let code = r.get("remit_to_code").and_then(Value::as_str).map(str::to_string);
        match s.remit_to_addresses.iter_mut().find(|x| code.as_deref().is_none_or(|c| x.remit_to_code == c)) {
            Some(x) => {
                x.address = address;
                x.updated_at = stamp;
            }
            None => s.remit_to_addresses.push(RemitTo {
                id: remit_id,
                remit_to_code: code.unwrap_or_else(|| format!("RT-{remit_id}")),
                name: s.name.clone(),
                address,
                active: true,
                created_at: stamp,
                updated_at: stamp,
                ..RemitTo::default()
            }),
        }
    }
    s.updated_at = stamp;
    Ok(())
}

fn address_from(v: &Value) -> Result<Address, ApiError> {
    let mut a: Address =
        serde_json::from_value(v.clone()).map_err(|e| ApiError::bad(format!("not an address: {e}")))?;
    if a.country.is_empty() {
        a.country = "US".into();
    }
    Ok(a)
}
