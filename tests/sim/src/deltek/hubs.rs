//! Hubs and settings: `firm` (+ `/address`), `project`, `Accounts`, `Settings/*`.
//!
//! **[C]**: clients and vendors share the `firm` hub (`ClientID` 32-hex key, `Vendor` number,
//! `VendorInd`/`ClientInd`, `Status`); a `Payment` address is the remit-to; projects are one shape
//! for WBS1/WBS2/WBS3 with `ChargeType` R/H/P; PUT and POST behave as PATCH; Accounts writes must
//! include `CashBasisAccount`, `UnrealizedLossAccount`, `UnrealizedGainAccount` and
//! `CashBasisRevaluation` ("Column:X does not exist.") and an over-long `Name` (39) or `Account`
//! (13) leaks SQL Server's truncation error **[C-code RAIL]**; `Settings/Period` and
//! `Settings/ActivePeriod` **[C-code]**.
//!
//! **[I]**: `GET /project` without `wbstype` returns every level (switch
//! `project_default_wbstype`); `project/{key}` takes `WBS1[|WBS2[|WBS3]]`; a firm POST/PUT may
//! carry its address sub-grid under `address` (rows with `_transType` `I`/`U`/`D` on PUT, as
//! hub sub-grid edits do **[C-code CS]**); an absent key on PUT is 404 "Record X does not exist.".

use serde_json::{Map, Value, json};

use super::api::{Call, Reply};
use super::errors::{ApiError, msg};
use super::model::{Account, Company, FieldError, Firm, FirmAddress, Period, Project, columns, patch, to_object};
use super::query::apply;
use super::state::{DeltekState, new_key};
use super::switches::WbsDefault;
use crate::common::json::get_ci;

fn field_err(e: FieldError) -> ApiError {
    match e {
        FieldError::Unknown(f) => ApiError::bad(msg::unknown_field(&f)),
        FieldError::Invalid(d) => ApiError::bad(msg::invalid_value(&d)),
    }
}

/// The body as one object, or each object of an array.
fn objects(body: &Value) -> Result<Vec<Map<String, Value>>, ApiError> {
    match body {
        Value::Object(m) => Ok(vec![m.clone()]),
        Value::Array(a) if !a.is_empty() => {
            a.iter().map(|v| v.as_object().cloned().ok_or_else(|| ApiError::bad("The request is invalid."))).collect()
        }
        _ => Err(ApiError::bad("The request is invalid.")),
    }
}

fn one_object(body: &Value) -> Result<Map<String, Value>, ApiError> {
    match body {
        Value::Object(m) => Ok(m.clone()),
        Value::Array(a) if a.len() == 1 => {
            a[0].as_object().cloned().ok_or_else(|| ApiError::bad("The request is invalid."))
        }
        _ => Err(ApiError::bad("The request is invalid.")),
    }
}

/// Remove a key (case-insensitive) and return its value.
pub fn take_ci(m: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let k = m.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()?;
    m.remove(&k)
}

fn strip_grid_meta(m: &mut Map<String, Value>) -> Option<String> {
    let t = take_ci(m, "_transType").map(|v| crate::common::json::scalar_text(&v));
    take_ci(m, "_originalValues");
    t
}

// ---------------------------------------------------------------- firms

/// `GET /firm`.
pub fn firm_list(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let rows = st.firms.iter().map(to_object).collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<Firm>(), &st.switches)?))
}

/// `GET /firm/{ClientID}`: `[firm]` or `[]`.
pub fn firm_get(st: &DeltekState, call: &Call, id: &str) -> Result<Reply, ApiError> {
    let rows = st.firm(id).map(to_object).into_iter().collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<Firm>(), &st.switches)?))
}

fn check_firm_unique(st: &DeltekState, f: &Firm, except: Option<&str>) -> Result<(), ApiError> {
    let others = st.firms.iter().filter(|o| except.is_none_or(|e| !o.client_id.eq_ignore_ascii_case(e)));
    for o in others {
        if o.client_id.eq_ignore_ascii_case(&f.client_id) {
            return Err(ApiError::bad(msg::duplicate(&f.client_id)));
        }
        if !f.vendor.trim().is_empty() && o.vendor.trim().eq_ignore_ascii_case(f.vendor.trim()) {
            return Err(ApiError::bad(msg::duplicate(&f.vendor)));
        }
        if !f.client.trim().is_empty() && o.client.trim().eq_ignore_ascii_case(f.client.trim()) {
            return Err(ApiError::bad(msg::duplicate(&f.client)));
        }
    }
    Ok(())
}

fn apply_addresses(firm: &mut Firm, rows: &Value) -> Result<(), ApiError> {
    let Value::Array(rows) = rows else { return Err(ApiError::bad("The request is invalid.")) };
    for row in rows {
        let mut m = row.as_object().cloned().ok_or_else(|| ApiError::bad("The request is invalid."))?;
        let tt = strip_grid_meta(&mut m).unwrap_or_default().to_ascii_uppercase();
        let id = get_ci(&m, "CLAddressID").map(crate::common::json::scalar_text).unwrap_or_default();
        let pos = firm.addresses.iter().position(|a| !id.is_empty() && a.cl_address_id.eq_ignore_ascii_case(&id));
        match (tt.as_str(), pos) {
            ("D", Some(p)) => {
                firm.addresses.remove(p);
            }
            ("D", None) => return Err(ApiError::not_found(&format!("Record {id}"))),
            (_, Some(p)) => {
                let a = patch(&firm.addresses[p], &m).map_err(field_err)?;
                firm.addresses[p] = a;
            }
            (_, None) => {
                let mut a = patch(&FirmAddress::default(), &m).map_err(field_err)?;
                if a.cl_address_id.is_empty() {
                    a.cl_address_id = new_key();
                }
                firm.addresses.push(a);
            }
        }
    }
    let cid = firm.client_id.clone();
    firm.addresses.iter_mut().for_each(|a| a.client_id = cid.clone());
    Ok(())
}

/// Insert a firm (API create and seeding share this).
pub fn insert_firm(st: &mut DeltekState, mut f: Firm) -> Result<Firm, ApiError> {
    if f.name.trim().is_empty() {
        return Err(ApiError::bad(msg::required("Name")));
    }
    if f.client_id.trim().is_empty() {
        f.client_id = new_key();
    }
    check_firm_unique(st, &f, None)?;
    let cid = f.client_id.clone();
    f.addresses.iter_mut().for_each(|a| {
        a.client_id = cid.clone();
        if a.cl_address_id.is_empty() {
            a.cl_address_id = new_key();
        }
    });
    st.firms.push(f.clone());
    Ok(f)
}

/// `POST /firm`.
pub fn firm_create(st: &mut DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let mut out = Vec::new();
    let mut loc = String::new();
    for mut m in objects(&call.body)? {
        let addresses = take_ci(&mut m, "address");
        let mut f = patch(&Firm::default(), &m).map_err(field_err)?;
        f.create_user = call.user.clone();
        f.create_date = Some(call.now);
        f.mod_user = call.user.clone();
        f.mod_date = Some(call.now);
        if let Some(rows) = addresses {
            apply_addresses(&mut f, &rows)?;
        }
        let f = insert_firm(st, f)?;
        loc = format!("firm/{}", f.client_id);
        out.push(Value::Object(to_object(&f)));
    }
    Ok(Reply::Created(out, loc))
}

/// `PUT /firm/{ClientID}`.
pub fn firm_update(st: &mut DeltekState, call: &Call, id: &str) -> Result<Reply, ApiError> {
    let mut m = one_object(&call.body)?;
    let pos = st
        .firms
        .iter()
        .position(|f| f.client_id.eq_ignore_ascii_case(id))
        .ok_or_else(|| ApiError::not_found(&format!("Record {id}")))?;
    let addresses = take_ci(&mut m, "address");
    let old = st.firms[pos].clone();
    let mut f = patch(&old, &m).map_err(field_err)?;
    f.client_id = old.client_id.clone();
    f.approved_for_processing = old.approved_for_processing;
    f.addresses = old.addresses.clone();
    f.mod_user = call.user.clone();
    f.mod_date = Some(call.now);
    if let Some(rows) = addresses {
        apply_addresses(&mut f, &rows)?;
    }
    check_firm_unique(st, &f, Some(&old.client_id))?;
    st.firms[pos] = f.clone();
    Ok(Reply::Updated(vec![Value::Object(to_object(&f))]))
}

/// `DELETE /firm/{ClientID}`.
pub fn firm_delete(st: &mut DeltekState, id: &str) -> Result<Reply, ApiError> {
    let before = st.firms.len();
    st.firms.retain(|f| !f.client_id.eq_ignore_ascii_case(id));
    if st.firms.len() == before {
        return Err(ApiError::not_found(&format!("Record {id}")));
    }
    Ok(Reply::Deleted)
}

/// `GET /firm/{ClientID}/address`.
pub fn address_list(st: &DeltekState, call: &Call, id: &str) -> Result<Reply, ApiError> {
    let rows = st.firm(id).map(|f| f.addresses.iter().map(to_object).collect()).unwrap_or_default();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<FirmAddress>(), &st.switches)?))
}

/// `POST /firm/{ClientID}/address`.
pub fn address_create(st: &mut DeltekState, call: &Call, id: &str) -> Result<Reply, ApiError> {
    let pos = st
        .firms
        .iter()
        .position(|f| f.client_id.eq_ignore_ascii_case(id))
        .ok_or_else(|| ApiError::not_found(&format!("Record {id}")))?;
    let before: Vec<String> = st.firms[pos].addresses.iter().map(|a| a.cl_address_id.clone()).collect();
    let rows = match &call.body {
        Value::Array(_) => call.body.clone(),
        other => Value::Array(vec![other.clone()]),
    };
    let mut f = st.firms[pos].clone();
    apply_addresses(&mut f, &rows)?;
    let created: Vec<Value> = f
        .addresses
        .iter()
        .filter(|a| !before.contains(&a.cl_address_id))
        .map(|a| Value::Object(to_object(a)))
        .collect();
    let loc = format!("firm/{}/address", f.client_id);
    st.firms[pos] = f;
    Ok(Reply::Created(created, loc))
}

/// `PUT /firm/{ClientID}/address/{CLAddressID}`.
pub fn address_update(st: &mut DeltekState, call: &Call, id: &str, addr: &str) -> Result<Reply, ApiError> {
    let pos = st
        .firms
        .iter()
        .position(|f| f.client_id.eq_ignore_ascii_case(id))
        .ok_or_else(|| ApiError::not_found(&format!("Record {id}")))?;
    let apos = st.firms[pos]
        .addresses
        .iter()
        .position(|a| a.cl_address_id.eq_ignore_ascii_case(addr))
        .ok_or_else(|| ApiError::not_found(&format!("Record {addr}")))?;
    let mut m = one_object(&call.body)?;
    strip_grid_meta(&mut m);
    let old = st.firms[pos].addresses[apos].clone();
    let mut a = patch(&old, &m).map_err(field_err)?;
    a.cl_address_id = old.cl_address_id;
    a.client_id = old.client_id;
    st.firms[pos].addresses[apos] = a.clone();
    Ok(Reply::Updated(vec![Value::Object(to_object(&a))]))
}

// ---------------------------------------------------------------- projects

fn split_key(key: &str) -> (String, String, String) {
    let mut it = key.split('|').map(|s| s.trim().to_string());
    (it.next().unwrap_or_default(), it.next().unwrap_or_default(), it.next().unwrap_or_default())
}

/// `GET /project` (`wbstype=wbs1|wbs2|wbs3`).
pub fn project_list(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let level = call.params.get("wbstype").map(|s| s.trim().to_ascii_lowercase()).unwrap_or_else(|| {
        match st.switches.project_default_wbstype {
            WbsDefault::All => String::new(),
            WbsDefault::Wbs1 => "wbs1".into(),
        }
    });
    let rows = st
        .projects
        .iter()
        .filter(|p| match level.as_str() {
            "wbs1" => p.wbs2.trim().is_empty(),
            "wbs2" => !p.wbs2.trim().is_empty() && p.wbs3.trim().is_empty(),
            "wbs3" => !p.wbs3.trim().is_empty(),
            _ => true,
        })
        .map(to_object)
        .collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<Project>(), &st.switches)?))
}

/// `GET /project/{WBS1[|WBS2[|WBS3]]}`.
pub fn project_get(st: &DeltekState, call: &Call, key: &str) -> Result<Reply, ApiError> {
    let (w1, w2, w3) = split_key(key);
    let rows = st.project(&w1, &w2, &w3).map(to_object).into_iter().collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<Project>(), &st.switches)?))
}

/// Insert a project/phase/task (API create and seeding share this); marks the parent `SubLevel`.
pub fn insert_project(st: &mut DeltekState, mut p: Project) -> Result<Project, ApiError> {
    p.wbs1 = p.wbs1.trim().to_string();
    p.wbs2 = p.wbs2.trim().to_string();
    p.wbs3 = p.wbs3.trim().to_string();
    if p.wbs1.is_empty() {
        return Err(ApiError::bad(msg::required("WBS1")));
    }
    if !p.wbs3.is_empty() && p.wbs2.is_empty() {
        return Err(ApiError::bad(msg::required("WBS2")));
    }
    if st.project(&p.wbs1, &p.wbs2, &p.wbs3).is_some() {
        return Err(ApiError::bad(msg::duplicate([p.wbs1.as_str(), &p.wbs2, &p.wbs3].join("|").trim_end_matches('|'))));
    }
    let parent = if !p.wbs3.is_empty() {
        Some((p.wbs1.clone(), p.wbs2.clone(), String::new()))
    } else if !p.wbs2.is_empty() {
        Some((p.wbs1.clone(), String::new(), String::new()))
    } else {
        None
    };
    if let Some((a, b, c)) = parent {
        let Some(pos) = st.projects.iter().position(|x| {
            x.wbs1.eq_ignore_ascii_case(&a) && x.wbs2.eq_ignore_ascii_case(&b) && x.wbs3.eq_ignore_ascii_case(&c)
        }) else {
            return Err(ApiError::bad(msg::unknown_project(&super::model::wbs_label(&a, &b, &c))));
        };
        let par = &mut st.projects[pos];
        par.sub_level = "Y".into();
        // Phases and tasks inherit what the API would default from the project.
        if p.client_id.is_empty() {
            p.client_id = par.client_id.clone();
        }
        if p.billing_client_id.is_empty() {
            p.billing_client_id = par.billing_client_id.clone();
        }
        if p.org.is_empty() {
            p.org = par.org.clone();
        }
    }
    st.projects.push(p.clone());
    Ok(p)
}

/// `POST /project`.
pub fn project_create(st: &mut DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let mut out = Vec::new();
    let mut loc = String::new();
    for m in objects(&call.body)? {
        let mut p = patch(&Project::default(), &m).map_err(field_err)?;
        p.mod_date = Some(call.now);
        let p = insert_project(st, p)?;
        loc = format!("project/{}", [p.wbs1.as_str(), &p.wbs2, &p.wbs3].join("|").trim_end_matches('|'));
        out.push(Value::Object(to_object(&p)));
    }
    Ok(Reply::Created(out, loc))
}

/// `PUT /project/{key}`.
pub fn project_update(st: &mut DeltekState, call: &Call, key: &str) -> Result<Reply, ApiError> {
    let (w1, w2, w3) = split_key(key);
    let m = one_object(&call.body)?;
    let pos = st
        .projects
        .iter()
        .position(|p| {
            p.wbs1.eq_ignore_ascii_case(&w1) && p.wbs2.eq_ignore_ascii_case(&w2) && p.wbs3.eq_ignore_ascii_case(&w3)
        })
        .ok_or_else(|| ApiError::not_found(&format!("Record {key}")))?;
    let old = st.projects[pos].clone();
    let mut p = patch(&old, &m).map_err(field_err)?;
    p.wbs1 = old.wbs1;
    p.wbs2 = old.wbs2;
    p.wbs3 = old.wbs3;
    p.sub_level = old.sub_level;
    p.mod_date = Some(call.now);
    st.projects[pos] = p.clone();
    Ok(Reply::Updated(vec![Value::Object(to_object(&p))]))
}

// ---------------------------------------------------------------- accounts

const ACCOUNT_REQUIRED_KEYS: [&str; 4] =
    ["CashBasisAccount", "UnrealizedLossAccount", "UnrealizedGainAccount", "CashBasisRevaluation"];

fn check_account_write(st: &DeltekState, m: &Map<String, Value>, a: &Account) -> Result<(), ApiError> {
    for k in ACCOUNT_REQUIRED_KEYS {
        if get_ci(m, k).is_none() {
            return Err(ApiError::bad(msg::missing_column(k)));
        }
    }
    if a.account.chars().count() > 13 {
        let v: String = a.account.chars().take(13).collect();
        return Err(ApiError::bad(msg::truncated(st.db_name(), "CA", "Account", &v)));
    }
    if a.name.chars().count() > 39 {
        let v: String = a.name.chars().take(39).collect();
        return Err(ApiError::bad(msg::truncated(st.db_name(), "CA", "Name", &v)));
    }
    Ok(())
}

/// `GET /Accounts`.
pub fn account_list(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let rows = st.accounts.iter().map(to_object).collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<Account>(), &st.switches)?))
}

/// `GET /Accounts/{Account}`.
pub fn account_get(st: &DeltekState, call: &Call, code: &str) -> Result<Reply, ApiError> {
    let rows = st.account(code).map(to_object).into_iter().collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<Account>(), &st.switches)?))
}

/// `POST /Accounts`.
pub fn account_create(st: &mut DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let mut out = Vec::new();
    let mut loc = String::new();
    for m in objects(&call.body)? {
        let a = patch(&Account::default(), &m).map_err(field_err)?;
        if a.account.trim().is_empty() {
            return Err(ApiError::bad(msg::required("Account")));
        }
        check_account_write(st, &m, &a)?;
        if st.account(&a.account).is_some() {
            return Err(ApiError::bad(msg::duplicate(&a.account)));
        }
        loc = format!("Accounts/{}", a.account);
        st.accounts.push(a.clone());
        out.push(Value::Object(to_object(&a)));
    }
    Ok(Reply::Created(out, loc))
}

/// `PUT /Accounts/{Account}`.
pub fn account_update(st: &mut DeltekState, call: &Call, code: &str) -> Result<Reply, ApiError> {
    let m = one_object(&call.body)?;
    let pos = st
        .accounts
        .iter()
        .position(|a| a.account.eq_ignore_ascii_case(code))
        .ok_or_else(|| ApiError::not_found(&format!("Record {code}")))?;
    let old = st.accounts[pos].clone();
    let mut a = patch(&old, &m).map_err(field_err)?;
    a.account = old.account;
    check_account_write(st, &m, &a)?;
    st.accounts[pos] = a.clone();
    Ok(Reply::Updated(vec![Value::Object(to_object(&a))]))
}

// ---------------------------------------------------------------- settings

/// `GET /Settings/Period`.
pub fn period_list(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let rows = st.periods.iter().map(to_object).collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<Period>(), &st.switches)?))
}

/// `GET /Settings/ActivePeriod`.
pub fn active_period(st: &DeltekState) -> Result<Reply, ApiError> {
    Ok(Reply::Rows(st.period(st.active_period).map(|p| Value::Object(to_object(p))).into_iter().collect()))
}

/// `PUT /Settings/ActivePeriod/{Period}`.
pub fn set_active_period(st: &mut DeltekState, p: &str) -> Result<Reply, ApiError> {
    let n: i64 = p.trim().parse().map_err(|_| ApiError::bad(format!("The value '{p}' is not valid for Period.")))?;
    if st.period(n).is_none() {
        return Err(ApiError::bad(msg::unknown_period(n)));
    }
    st.active_period = n;
    active_period(st).map(|r| match r {
        Reply::Rows(rows) => Reply::Updated(rows),
        other => other,
    })
}

/// `GET /Settings/Company`.
pub fn company_list(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let rows = st.companies.iter().map(to_object).collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<Company>(), &st.switches)?))
}

/// `GET /Settings/ActiveCompany`.
pub fn active_company(st: &DeltekState) -> Result<Reply, ApiError> {
    let c = st.companies.iter().find(|c| c.company == st.active_company);
    Ok(Reply::Rows(c.map(|c| json!({ "Company": c.company, "Name": c.name })).into_iter().collect()))
}

/// `PUT /Settings/ActiveCompany/{Company}`.
pub fn set_active_company(st: &mut DeltekState, c: &str) -> Result<Reply, ApiError> {
    let Some(code) = st.companies.iter().find(|x| x.company.eq_ignore_ascii_case(c)).map(|x| x.company.clone()) else {
        return Err(ApiError::bad(format!("Company {c} does not exist.")));
    };
    st.active_company = code;
    active_company(st).map(|r| match r {
        Reply::Rows(rows) => Reply::Updated(rows),
        other => other,
    })
}
