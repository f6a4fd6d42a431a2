//! Suppliers (`supplier`: GET with `ID`/`Name`/`ModifiedSince`/`IncludeDeprecated`, POST, PUT,
//! validation per fact sheet §5) and the chart of accounts (`ref/account`: GET with
//! `Code`/`Name`/`Type`/`Status`/`Class`; unknown `Code` → 400 "Account with specified ID not
//! found" **[C]**; writes refused while an accounting integration is on **[C]**), plus read-only
//! payment terms and tax rules.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::api::{Call, Event, fmt_stamp, page_bounds, paginate};
use super::model::{Account, Obj, Supplier, SupplierAddress, SupplierContact, new_id, num, parse_stamp, same_id};
use super::state::{ApiError, Cin7State};

/// A supplier as answered.
pub fn supplier_json(st: &Cin7State, s: &Supplier) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("ID".into(), json!(s.id));
    m.insert("Name".into(), json!(s.name));
    m.insert("Currency".into(), json!(s.currency));
    m.insert("PaymentTerm".into(), json!(s.payment_term));
    m.insert("Discount".into(), num(s.discount));
    m.insert("TaxRule".into(), json!(s.tax_rule));
    m.insert("Status".into(), json!(s.status));
    m.insert("Comments".into(), json!(s.comments));
    m.insert("AccountPayable".into(), json!(s.account_payable));
    m.insert("TaxNumber".into(), s.tax_number.clone().map(Value::String).unwrap_or(Value::Null));
    m.insert("AttributeSet".into(), json!(s.attribute_set));
    for i in 1..=10 {
        let k = format!("AdditionalAttribute{i}");
        m.insert(k.clone(), json!(s.additional_attributes.get(&k).cloned().unwrap_or_default()));
    }
    m.insert("LastModifiedOn".into(), json!(fmt_stamp(s.last_modified, st.switches.stamp_style)));
    m.insert("Contacts".into(), Value::Array(s.contacts.iter().map(contact_json).collect()));
    m.insert("Addresses".into(), Value::Array(s.addresses.iter().map(|a| address_json(s, a)).collect()));
    Value::Object(m)
}

/// A supplier address as answered.
pub fn address_json(s: &Supplier, a: &SupplierAddress) -> Value {
    json!({
        "ID": a.id, "SupplierID": s.id, "Line1": a.line1, "Line2": a.line2, "City": a.city, "State": a.state,
        "Postcode": a.postcode, "Country": a.country, "Type": a.kind, "DefaultForType": a.default_for_type,
    })
}

/// A supplier contact as answered.
pub fn contact_json(c: &SupplierContact) -> Value {
    json!({
        "ID": c.id, "Name": c.name, "Phone": c.phone, "MobilePhone": c.mobile_phone, "Fax": c.fax, "Email": c.email,
        "Website": c.website, "Comment": c.comment, "Default": c.default, "IncludeInEmail": c.include_in_email,
    })
}

/// An account as answered.
pub fn account_json(a: &Account) -> Value {
    json!({
        "Code": a.code, "Name": a.name, "Type": a.kind, "Status": a.status, "Description": a.description,
        "Class": a.class, "SystemAccount": a.system_account, "SystemAccountCode": a.system_account_code,
        "ForPayments": a.for_payments, "DisplayName": format!("{}: {}", a.code, a.name), "OldCode": "",
        "BankAccountNumber": a.bank_account_number, "Currency": a.currency,
    })
}

/// Apply a supplier object's fields onto `s` (POST: onto a blank card; PUT: onto the current one).
/// Addresses and contacts: an `ID` matching an existing one updates it, otherwise a new one is
/// added **[C]**.
pub fn apply_supplier(o: &Obj<'_>, s: &mut Supplier, problems: &mut Vec<String>) {
    for (k, f) in [
        ("Name", &mut s.name),
        ("Currency", &mut s.currency),
        ("PaymentTerm", &mut s.payment_term),
        ("AccountPayable", &mut s.account_payable),
        ("TaxRule", &mut s.tax_rule),
        ("Status", &mut s.status),
        ("Comments", &mut s.comments),
        ("AttributeSet", &mut s.attribute_set),
    ] {
        if let Some(v) = o.text(k) {
            *f = v;
        }
    }
    if o.has("TaxNumber") {
        s.tax_number = o.text("TaxNumber");
    }
    match o.dec("Discount") {
        Ok(Some(d)) => s.discount = d,
        Ok(None) => {}
        Err(e) => problems.push(e),
    }
    for i in 1..=10 {
        let k = format!("AdditionalAttribute{i}");
        if o.has(&k) {
            match o.text(&k) {
                Some(v) => s.additional_attributes.insert(k, v),
                None => s.additional_attributes.remove(&k),
            };
        }
    }
    for a in o.objects("Addresses") {
        let id = a.text("ID").filter(|i| !super::model::is_zero_id(i));
        let pos = id.as_ref().and_then(|id| s.addresses.iter().position(|x| same_id(&x.id, id)));
        let mut addr = pos
            .map(|p| s.addresses[p].clone())
            .unwrap_or_else(|| SupplierAddress { id: id.clone().unwrap_or_else(new_id), ..Default::default() });
        for (k, f) in [
            ("Line1", &mut addr.line1),
            ("Line2", &mut addr.line2),
            ("City", &mut addr.city),
            ("State", &mut addr.state),
            ("Postcode", &mut addr.postcode),
            ("Country", &mut addr.country),
            ("Type", &mut addr.kind),
        ] {
            if let Some(v) = a.text(k) {
                *f = v;
            }
        }
        if let Some(b) = a.boolean("DefaultForType") {
            addr.default_for_type = b;
        }
        match pos {
            Some(p) => s.addresses[p] = addr,
            None => s.addresses.push(addr),
        }
    }
    for c in o.objects("Contacts") {
        let id = c.text("ID").filter(|i| !super::model::is_zero_id(i));
        let pos = id.as_ref().and_then(|id| s.contacts.iter().position(|x| same_id(&x.id, id)));
        let mut con = pos.map(|p| s.contacts[p].clone()).unwrap_or_else(|| SupplierContact {
            id: id.clone().unwrap_or_else(new_id),
            include_in_email: true,
            ..Default::default()
        });
        for (k, f) in [
            ("Name", &mut con.name),
            ("Phone", &mut con.phone),
            ("MobilePhone", &mut con.mobile_phone),
            ("Fax", &mut con.fax),
            ("Email", &mut con.email),
            ("Website", &mut con.website),
            ("Comment", &mut con.comment),
        ] {
            if let Some(v) = c.text(k) {
                *f = v;
            }
        }
        if let Some(b) = c.boolean("Default") {
            con.default = b;
        }
        if let Some(b) = c.boolean("IncludeInEmail") {
            con.include_in_email = b;
        }
        match pos {
            Some(p) => s.contacts[p] = con,
            None => s.contacts.push(con),
        }
    }
}

/// Validation of a supplier card **[C rules; I texts except the payment-term one]**.
pub fn validate_supplier(st: &Cin7State, s: &Supplier, problems: &mut Vec<String>) {
    let name = s.name.trim();
    if name.is_empty() {
        problems.push("Name is required".into());
    } else if name.chars().count() > 256 {
        problems.push("Name should not be longer than 256 characters".into());
    } else if st.suppliers.iter().any(|x| !same_id(&x.id, &s.id) && x.name.trim().eq_ignore_ascii_case(name)) {
        problems.push(format!("Supplier with name '{name}' already exists"));
    }
    if s.currency.is_empty() {
        problems.push("Currency is required".into());
    } else if s.currency.len() != 3 || !s.currency.chars().all(|c| c.is_ascii_alphabetic()) {
        problems.push(format!("Currency '{}' is not valid", s.currency));
    }
    if s.payment_term.is_empty() {
        problems.push("PaymentTerm is required".into());
    } else if !st.payment_terms.iter().any(|t| t.active && t.name.eq_ignore_ascii_case(s.payment_term.trim())) {
        problems.push(format!("Active payment term with name '{}' was not found", s.payment_term));
    }
    if s.account_payable.is_empty() {
        problems.push("AccountPayable is required".into());
    } else if !st.account(&s.account_payable).is_some_and(|a| a.system_account_code.eq_ignore_ascii_case("CREDITORS")) {
        problems.push(format!(
            "AccountPayable '{}' is not valid: it should be the Accounts payable system account",
            s.account_payable
        ));
    }
    if s.tax_rule.is_empty() {
        problems.push("TaxRule is required".into());
    } else if st.tax_rate(&s.tax_rule).is_none() {
        problems.push(format!("Tax rule with name '{}' was not found", s.tax_rule));
    }
    if !s.status.eq_ignore_ascii_case("Active") && !s.status.eq_ignore_ascii_case("Deprecated") {
        problems.push(format!("Status '{}' is not valid (Active or Deprecated)", s.status));
    }
    if s.discount < Decimal::ZERO || s.discount > Decimal::ONE_HUNDRED {
        problems.push("Discount should be between 0 and 100".into());
    }
    for (i, a) in s.addresses.iter().enumerate() {
        if a.line1.is_empty() || a.country.is_empty() {
            problems.push(format!("Address {}: Line1 and Country are required", i + 1));
        }
        if !["Billing", "Business", "Shipping"].iter().any(|t| t.eq_ignore_ascii_case(&a.kind)) {
            problems.push(format!("Address {}: Type '{}' is not valid (Billing, Business or Shipping)", i + 1, a.kind));
        }
    }
    for (i, c) in s.contacts.iter().enumerate() {
        if c.name.is_empty() {
            problems.push(format!("Contact {}: Name is required", i + 1));
        }
    }
}

fn envelope(st: &Cin7State, s: &Supplier) -> Value {
    json!({ "Total": 1, "Page": 1, "SupplierList": [supplier_json(st, s)] })
}

/// `GET supplier`: `Name` starts-with, `ModifiedSince` strictly after **[I]**, only `Active`
/// unless `IncludeDeprecated=true` **[C]**.
pub fn supplier_list(st: &Cin7State, call: &Call) -> Result<Value, ApiError> {
    let (page, limit) = page_bounds(st, call)?;
    let q = &call.params;
    let since: Option<DateTime<Utc>> = match q.get("ModifiedSince").map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => {
            Some(parse_stamp(s).ok_or_else(|| ApiError::bad(format!("ModifiedSince '{s}' is not a valid date")))?)
        }
    };
    let deprecated = q.get("IncludeDeprecated").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let id = q.get("ID").map(str::trim).filter(|s| !s.is_empty());
    let name = q.get("Name").map(|s| s.trim().to_lowercase()).filter(|s| !s.is_empty());
    let mut rows: Vec<&Supplier> = st
        .suppliers
        .iter()
        .filter(|s| id.is_none_or(|i| same_id(&s.id, i)))
        .filter(|s| name.as_ref().is_none_or(|n| s.name.to_lowercase().starts_with(n.as_str())))
        .filter(|s| since.is_none_or(|t| s.last_modified > t))
        .filter(|s| deprecated || s.is_active())
        .collect();
    rows.sort_by(|a, b| a.last_modified.cmp(&b.last_modified).then_with(|| a.id.cmp(&b.id)));
    let total = rows.len();
    let items: Vec<Value> = paginate(rows, page, limit).into_iter().map(|s| supplier_json(st, s)).collect();
    Ok(json!({ "Total": total, "Page": page, "SupplierList": items }))
}

/// `POST supplier`.
pub fn supplier_create(st: &mut Cin7State, call: &Call, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a supplier object"))?;
    let mut s = Supplier { id: new_id(), status: "Active".into(), last_modified: call.now, ..Default::default() };
    let mut problems = Vec::new();
    apply_supplier(&o, &mut s, &mut problems);
    validate_supplier(st, &s, &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::problems(problems));
    }
    s.last_modified = st.stamp(call.now);
    events.push(Event::SupplierUpdated(s.id.clone()));
    st.suppliers.push(s);
    Ok(envelope(st, st.suppliers.last().unwrap_or(&Supplier::default())))
}

/// `PUT supplier` (by `ID`).
pub fn supplier_update(st: &mut Cin7State, call: &Call, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a supplier object"))?;
    let id = o.text("ID").ok_or_else(|| ApiError::bad("ID is required"))?;
    let idx = st.supplier_idx(&id).ok_or_else(|| ApiError::bad(format!("Supplier with ID '{id}' was not found")))?;
    let mut s = st.suppliers[idx].clone();
    let mut problems = Vec::new();
    apply_supplier(&o, &mut s, &mut problems);
    validate_supplier(st, &s, &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::problems(problems));
    }
    s.last_modified = st.stamp(call.now);
    events.push(Event::SupplierUpdated(s.id.clone()));
    st.suppliers[idx] = s;
    Ok(envelope(st, &st.suppliers[idx]))
}

/// `GET ref/account`.
pub fn account_list(st: &Cin7State, call: &Call) -> Result<Value, ApiError> {
    let (page, limit) = page_bounds(st, call)?;
    let q = &call.params;
    let arg = |k: &str| q.get(k).map(str::trim).filter(|s| !s.is_empty());
    if let Some(code) = arg("Code")
        && st.account(code).is_none()
    {
        return Err(ApiError::bad("Account with specified ID not found"));
    }
    let name = arg("Name").map(str::to_lowercase);
    let mut rows: Vec<&Account> = st
        .accounts
        .iter()
        .filter(|a| arg("Code").is_none_or(|c| a.code.eq_ignore_ascii_case(c)))
        .filter(|a| name.as_ref().is_none_or(|n| a.name.to_lowercase().starts_with(n.as_str())))
        .filter(|a| arg("Type").is_none_or(|t| a.kind.eq_ignore_ascii_case(t)))
        .filter(|a| arg("Status").is_none_or(|t| a.status.eq_ignore_ascii_case(t)))
        .filter(|a| arg("Class").is_none_or(|t| a.class.eq_ignore_ascii_case(t)))
        .collect();
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    let total = rows.len();
    let items: Vec<Value> = paginate(rows, page, limit).into_iter().map(account_json).collect();
    Ok(json!({ "Total": total, "Page": page, "AccountsList": items }))
}

/// Read an account object (`Code`, `Name`, `Type`, `Class`, ...).
pub fn account_from(o: &Obj<'_>, base: Account) -> Account {
    let mut a = base;
    for (k, f) in [
        ("Code", &mut a.code),
        ("Name", &mut a.name),
        ("Type", &mut a.kind),
        ("Status", &mut a.status),
        ("Description", &mut a.description),
        ("Class", &mut a.class),
        ("SystemAccount", &mut a.system_account),
        ("SystemAccountCode", &mut a.system_account_code),
        ("Currency", &mut a.currency),
        ("BankAccountNumber", &mut a.bank_account_number),
    ] {
        if let Some(v) = o.text(k) {
            *f = v;
        }
    }
    if let Some(b) = o.boolean("ForPayments") {
        a.for_payments = b;
    }
    a
}

/// `POST`/`PUT`/`DELETE ref/account`: refused while an accounting integration is on **[C]**.
pub fn account_write(st: &mut Cin7State, call: &Call) -> Result<Value, ApiError> {
    if st.switches.accounting_integration {
        return Err(ApiError::bad(
            "Updating accounts is not allowed while integration with Xero or Quickbooks enabled",
        ));
    }
    match call.method.as_str() {
        "DELETE" => {
            let code = call
                .params
                .get("Code")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| ApiError::bad("Code is required"))?;
            let pos = st
                .accounts
                .iter()
                .position(|a| a.code.eq_ignore_ascii_case(code))
                .ok_or_else(|| ApiError::bad("Account with specified ID not found"))?;
            let a = st.accounts.remove(pos);
            Ok(json!({ "Total": 1, "Page": 1, "AccountsList": [account_json(&a)] }))
        }
        method => {
            let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be an account object"))?;
            let code = o.text("Code").ok_or_else(|| ApiError::bad("Code is required"))?;
            let pos = st.accounts.iter().position(|a| a.code.eq_ignore_ascii_case(&code));
            let a = match (method, pos) {
                ("POST", Some(_)) => return Err(ApiError::bad(format!("Account with code '{code}' already exists"))),
                ("POST", None) => {
                    let a = account_from(&o, Account { status: "ACTIVE".into(), ..Default::default() });
                    if a.name.is_empty() || a.kind.is_empty() {
                        return Err(ApiError::bad("Name and Type are required"));
                    }
                    st.accounts.push(a.clone());
                    a
                }
                (_, None) => return Err(ApiError::bad("Account with specified ID not found")),
                (_, Some(p)) => {
                    let a = account_from(&o, st.accounts[p].clone());
                    st.accounts[p] = a.clone();
                    a
                }
            };
            Ok(json!({ "Total": 1, "Page": 1, "AccountsList": [account_json(&a)] }))
        }
    }
}

/// `GET ref/paymentterm`.
pub fn payment_terms(st: &Cin7State, call: &Call) -> Result<Value, ApiError> {
    let (page, limit) = page_bounds(st, call)?;
    let rows: Vec<Value> = st
        .payment_terms
        .iter()
        .map(|t| json!({ "Name": t.name, "Duration": t.days, "Method": "number of days", "IsActive": t.active, "IsDefault": false }))
        .collect();
    let total = rows.len();
    Ok(json!({ "Total": total, "Page": page, "PaymentTermList": paginate(rows, page, limit) }))
}

/// `GET ref/tax`.
pub fn tax_rules(st: &Cin7State, call: &Call) -> Result<Value, ApiError> {
    let (page, limit) = page_bounds(st, call)?;
    let rows: Vec<Value> = st
        .tax_rules
        .iter()
        .map(|t| json!({ "Name": t.name, "TaxPercent": num(t.percent), "IsActive": t.active, "TaxInclusive": false, "IsTaxForPurchase": true }))
        .collect();
    let total = rows.len();
    Ok(json!({ "Total": total, "Page": page, "TaxRuleList": paginate(rows, page, limit) }))
}
