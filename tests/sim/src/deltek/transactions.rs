//! Transaction Center: AP voucher files, JE files, posting.
//!
//! **[C]** reproduced: `POST DataEntry/apControl` creates a file and its vouchers in one body
//! (control fields + `apControlDefaultTaxCodes[]`, `apMaster[]`, `apDetail[]`); `GET
//! DataEntry/apControl|apMaster|apDetail/{Batch}`; `GET DataEntry/apLanding` rows with
//! `ApprovalStatus` `N` "In Progress" / `P` "Posted", `PostStatus` `Y` "Complete", `Period`
//! shown `MM/YYYY`; the Files=No shape `POST DataEntry/apMaster/{Batch}|{MasterPKey}` with nested
//! `apDetail[]`; the older `POST ledger/AP` with the same body; `POST DataEntry/jeControl` with
//! `jeMaster[]`/`jeDetail[]`; a JE must balance to post and must not hit AP/AR accounts;
//! regular projects take direct/reimbursable accounts and overhead ones indirect accounts;
//! `PUT DataEntry/PostTransFile` with `parms` as an object or a one-element (or longer) array,
//! answering a JSON-encoded *string* holding pipe-joined `typeList`, `batchList`, `retList`,
//! `periodList`, `postseqList` and a `msg` like "AP file X; 1 of 1 records posted; Posting
//! sequence 194\r\n"; unbalanced files post only with "Ignore Control Totals"; approvals (when on)
//! gate posting; posted AP rows have `SubType` `L` (line) / `T` (tax), `Vendor`, `Voucher` and a
//! blank `Invoice` (`" "`), blank WBS levels as `" "`; Description is 40 characters (longer
//! leaks SQL's truncation error).
//!
//! **[I]** with switches: `apDetailTax[]` rows (by analogy with `cvDetailTax`); vouchers are
//! auto-numbered on save when `Voucher` is blank; lookups are validated on save (400) and again
//! at posting (`retList` 0 + `msg`); a failed post answers 200 with `retList` `0`; approval codes
//! `S`/`A`/`R` (switch `approvals`, `set_approval_status` action); strict duplicate-invoice
//! rejection (`strict_duplicate_invoice`); JE balance checked on save (`je_balance_on_create`);
//! lowest WBS level required (`require_lowest_wbs_level`); posted AP rows carry the invoice
//! number only under `ledger_ap_includes_invoice`; the AP liability offset row is not modelled.

use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::api::{Call, Reply};
use super::errors::{ApiError, msg};
use super::hubs::take_ci;
use super::model::{
    ApControl, ApDetail, ApDetailTax, ApMaster, FieldError, JeControl, JeDetail, JeMaster, LedgerRow, blank_as_space,
    columns, fmt_date, fmt_period, patch, to_object, wbs_label,
};
use super::query::apply;
use super::state::{ApFile, DeltekState, JeFile, approval_desc, new_key};
use super::switches::Approvals;
use crate::common::json::{get_ci, scalar_text};

fn field_err(e: FieldError) -> ApiError {
    match e {
        FieldError::Unknown(f) => ApiError::bad(msg::unknown_field(&f)),
        FieldError::Invalid(d) => ApiError::bad(msg::invalid_value(&d)),
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

fn rows_of<T: Default + Serialize + DeserializeOwned>(v: Option<Value>) -> Result<Vec<(T, Option<String>)>, ApiError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(o @ Value::Object(_)) => vec![o],
        Some(_) => return Err(ApiError::bad("The request is invalid.")),
    };
    items
        .into_iter()
        .map(|it| {
            let mut m = it.as_object().cloned().ok_or_else(|| ApiError::bad("The request is invalid."))?;
            let tt = take_ci(&mut m, "_transType").map(|v| scalar_text(&v).to_ascii_uppercase());
            take_ci(&mut m, "_originalValues");
            Ok((patch(&T::default(), &m).map_err(field_err)?, tt))
        })
        .collect()
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// The period a file posts to: its own, else the active period.
fn effective_period(st: &DeltekState, own: i64) -> i64 {
    if own != 0 { own } else { st.active_period }
}

fn check_period(st: &DeltekState, p: i64) -> Result<(), String> {
    if st.periods.is_empty() {
        return Ok(());
    }
    match st.period(p) {
        None => Err(msg::unknown_period(p)),
        Some(x) if x.is_closed() => Err(msg::closed_period(p)),
        Some(_) => Ok(()),
    }
}

fn check_vendor(st: &DeltekState, v: &str) -> Result<(), String> {
    if v.trim().is_empty() {
        return Err(msg::required("Vendor"));
    }
    let f = st.vendor(v).ok_or_else(|| msg::unknown_vendor(v))?;
    if !f.vendor_ind.eq_ignore_ascii_case("Y") {
        return Err(msg::not_a_vendor(v));
    }
    if !f.status.eq_ignore_ascii_case("A") {
        return Err(msg::inactive_vendor(v));
    }
    if !f.approved_for_processing {
        return Err(msg::vendor_not_approved(v));
    }
    Ok(())
}

/// Account and project rules shared by AP and JE lines.
fn check_charge(st: &DeltekState, account: &str, w1: &str, w2: &str, w3: &str) -> Result<(), String> {
    if account.trim().is_empty() {
        return Err(msg::required("Account"));
    }
    let a = st.account(account).ok_or_else(|| msg::unknown_account(account))?;
    if !a.status.eq_ignore_ascii_case("A") {
        return Err(msg::inactive_account(account));
    }
    if w1.trim().is_empty() {
        if (4..=8).contains(&a.account_type) {
            return Err(msg::project_required(account));
        }
        return Ok(());
    }
    let label = wbs_label(w1, w2, w3);
    let p = st.project(w1, w2, w3).ok_or_else(|| msg::unknown_project(&label))?;
    let top = st.project(w1, "", "").unwrap_or(p);
    if !p.status.eq_ignore_ascii_case("A") || !top.status.eq_ignore_ascii_case("A") {
        return Err(msg::inactive_project(&label));
    }
    if st.switches.require_lowest_wbs_level && p.sub_level.eq_ignore_ascii_case("Y") {
        return Err(msg::lowest_level(&label));
    }
    match top.charge_type.to_ascii_uppercase().as_str() {
        "H" | "P" if a.account_type != 9 => Err(msg::overhead_needs_indirect(account, &top.wbs1)),
        "R" if !(4..=8).contains(&a.account_type) => Err(msg::regular_needs_direct(account, &top.wbs1)),
        _ => Ok(()),
    }
}

fn truncate_check(st: &DeltekState, table: &str, column: &str, value: &str, width: usize) -> Result<(), ApiError> {
    if value.chars().count() > width {
        let v: String = value.chars().take(width).collect();
        return Err(ApiError::bad(msg::truncated(st.db_name(), table, column, &v)));
    }
    Ok(())
}

// ---------------------------------------------------------------- AP: shapes

fn ap_detail_json(st: &DeltekState, f: &ApFile, d: &ApDetail) -> Value {
    let mut m = to_object(d);
    m.insert("WBS2".into(), json!(blank_as_space(&d.wbs2)));
    m.insert("WBS3".into(), json!(blank_as_space(&d.wbs3)));
    let top = st.project(&d.wbs1, "", "");
    let client = top.and_then(|p| st.firm(&p.client_id));
    let acct = st.account(&d.account);
    let tax: Decimal = f.taxes.iter().filter(|t| t.pkey == d.pkey).map(|t| t.tax_amount).sum();
    m.insert("WBS1Name".into(), json!(top.map(|p| p.name.clone()).unwrap_or_default()));
    m.insert("ClientName".into(), json!(client.map(|c| c.name.clone()).unwrap_or_default()));
    m.insert("ChargeType".into(), json!(top.map(|p| p.charge_type.clone()).unwrap_or_default()));
    m.insert("Org".into(), json!(top.map(|p| p.org.clone()).unwrap_or_default()));
    m.insert("AccountName".into(), json!(acct.map(|a| a.name.clone()).unwrap_or_default()));
    m.insert("AccountType".into(), json!(acct.map(|a| a.account_type).unwrap_or_default()));
    m.insert("GlobalAccount".into(), json!(acct.map(|a| a.global_account.clone()).unwrap_or_default()));
    m.insert("TotalTax".into(), serde_json::to_value(Num(tax)).unwrap_or(Value::Null));
    Value::Object(m)
}

/// A Decimal rendered as a JSON number.
#[derive(Serialize)]
struct Num(#[serde(with = "crate::common::json::flex_decimal")] Decimal);

fn num(d: Decimal) -> Value {
    serde_json::to_value(Num(d)).unwrap_or(Value::Null)
}

fn ap_sum(f: &ApFile) -> Decimal {
    f.details.iter().map(|d| d.amount).sum()
}

fn ap_control_json(st: &DeltekState, f: &ApFile) -> Value {
    let mut m = to_object(&f.control);
    let sum = ap_sum(f);
    m.insert("SumTotal".into(), num(sum));
    m.insert("DiffTotal".into(), num(f.control.total - sum));
    let liab = st.account(&f.control.default_liab).map(|a| a.name.clone()).unwrap_or_default();
    m.insert("DefaultLiabDescription".into(), json!(liab));
    m.insert("DefaultBankDescription".into(), json!(""));
    m.insert("LiabAccountCurrencyCode".into(), json!(f.control.default_currency_code));
    m.insert("apControlDefaultTaxCodes".into(), Value::Array(f.default_tax_codes.clone()));
    m.insert("apMaster".into(), Value::Array(f.masters.iter().map(|x| Value::Object(to_object(x))).collect()));
    m.insert("apDetail".into(), Value::Array(f.details.iter().map(|d| ap_detail_json(st, f, d)).collect()));
    m.insert("apDetailTax".into(), Value::Array(f.taxes.iter().map(|x| Value::Object(to_object(x))).collect()));
    Value::Object(m)
}

/// What a landing row is made of.
struct Landing<'a> {
    batch: &'a str,
    description: &'a str,
    creator: &'a str,
    trans_type: &'a str,
    company: &'a str,
    period: i64,
    recurring: &'a str,
    status: &'a str,
    post_date: &'a Option<chrono::NaiveDateTime>,
    post_user: &'a str,
    post_comment: &'a str,
    post_seq: i64,
}

fn landing_row(l: Landing<'_>) -> Map<String, Value> {
    let Landing {
        batch: control_batch,
        description,
        creator,
        trans_type,
        company,
        period,
        recurring,
        status: f_status,
        post_date,
        post_user,
        post_comment,
        post_seq,
    } = l;
    let posted = f_status == "P";
    let mut m = Map::new();
    m.insert("Batch".into(), json!(control_batch));
    m.insert("Description".into(), json!(description));
    m.insert("Creator".into(), json!(creator));
    m.insert("EndDate".into(), json!(""));
    m.insert("ApprovalStatus".into(), json!(f_status));
    m.insert("ApprovalStatusDesc".into(), json!(approval_desc(f_status)));
    m.insert("TransType".into(), json!(trans_type));
    m.insert("Company".into(), json!(company));
    let recurring_y = recurring.eq_ignore_ascii_case("Y");
    m.insert("Period".into(), json!(if recurring_y { "Recurring".to_string() } else { fmt_period(period) }));
    m.insert("RawPeriod".into(), json!(period));
    m.insert("PostStatus".into(), json!(if posted { "Y" } else { "N" }));
    m.insert("PostStatusDesc".into(), json!(if posted { "Complete" } else { "" }));
    m.insert("PostComment".into(), json!(post_comment));
    m.insert("PostDate".into(), json!(post_date.as_ref().map(fmt_date).unwrap_or_default()));
    m.insert("PostUser".into(), json!(post_user));
    m.insert("PostSeq".into(), json!(post_seq));
    m.insert("Recurring".into(), json!(if recurring_y { "Y" } else { "N" }));
    m
}

fn landing_columns() -> Vec<String> {
    [
        "Batch",
        "Description",
        "Creator",
        "EndDate",
        "ApprovalStatus",
        "ApprovalStatusDesc",
        "TransType",
        "Company",
        "Period",
        "RawPeriod",
        "PostStatus",
        "PostStatusDesc",
        "PostComment",
        "PostDate",
        "PostUser",
        "PostSeq",
        "Recurring",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn dyn_columns<T: Serialize + Default>(extra: &[&str]) -> Vec<String> {
    let mut c = columns::<T>();
    c.extend(extra.iter().map(|s| s.to_string()));
    c
}

// ---------------------------------------------------------------- AP: build and validate

/// Parse a `DataEntry/apControl` body into a file (for seeding).
pub fn parse_ap_file(body: &Value) -> Result<ApFile, ApiError> {
    let input = parse_ap(body, &ApControl::default())?;
    Ok(ApFile {
        control: input.control,
        default_tax_codes: input.default_tax_codes,
        masters: input.masters.into_iter().map(|(m, _)| m).collect(),
        details: input.details.into_iter().map(|(d, _)| d).collect(),
        taxes: input.taxes.into_iter().map(|(t, _)| t).collect(),
        ..ApFile::default()
    })
}

/// An AP body split into its parts.
struct ApInput {
    control: ApControl,
    default_tax_codes: Vec<Value>,
    masters: Vec<(ApMaster, Option<String>)>,
    details: Vec<(ApDetail, Option<String>)>,
    taxes: Vec<(ApDetailTax, Option<String>)>,
}

fn parse_ap(body: &Value, base: &ApControl) -> Result<ApInput, ApiError> {
    let mut m = one_object(body)?;
    let dtc = take_ci(&mut m, "apControlDefaultTaxCodes");
    let masters = take_ci(&mut m, "apMaster");
    let details = take_ci(&mut m, "apDetail");
    let taxes = take_ci(&mut m, "apDetailTax");
    let control = patch(base, &m).map_err(field_err)?;
    let default_tax_codes = match dtc {
        Some(Value::Array(a)) => a,
        Some(Value::Null) | None => Vec::new(),
        Some(o) => vec![o],
    };
    Ok(ApInput {
        control,
        default_tax_codes,
        masters: rows_of(masters)?,
        details: rows_of(details)?,
        taxes: rows_of(taxes)?,
    })
}

/// Fill the defaults Vantagepoint fills on save.
fn complete_ap(st: &DeltekState, f: &mut ApFile, user: &str, now: chrono::NaiveDateTime) {
    f.control.batch = f.control.batch.trim().to_string();
    if f.control.creator.is_empty() {
        f.control.creator = user.to_string();
    }
    if f.control.company.is_empty() {
        f.control.company = st.active_company.clone();
    }
    let batch = f.control.batch.clone();
    for (i, m) in f.masters.iter_mut().enumerate() {
        m.batch = batch.clone();
        if m.master_pkey.trim().is_empty() {
            m.master_pkey = new_key();
        }
        if m.seq == 0 {
            m.seq = i as i64 + 1;
        }
        if m.trans_date.is_none() {
            m.trans_date = f.control.default_date.or(Some(now.date().and_time(chrono::NaiveTime::MIN)));
        }
        if m.liab_code.is_empty() {
            m.liab_code = f.control.default_liab.clone();
        }
        if m.bank_code.is_empty() {
            m.bank_code = f.control.default_bank.clone();
        }
        if m.mod_user.is_empty() {
            m.mod_user = user.to_string();
        }
        m.mod_date = Some(now);
    }
    let only_master = if f.masters.len() == 1 { Some(f.masters[0].master_pkey.clone()) } else { None };
    let mut per_master: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    for d in f.details.iter_mut() {
        d.batch = batch.clone();
        if d.master_pkey.trim().is_empty()
            && let Some(m) = &only_master
        {
            d.master_pkey = m.clone();
        }
        if d.pkey.trim().is_empty() {
            d.pkey = new_key();
        }
        let n = per_master.entry(d.master_pkey.clone()).or_insert(0);
        *n += 1;
        if d.seq == 0 {
            d.seq = *n;
        }
    }
    for t in f.taxes.iter_mut() {
        t.batch = batch.clone();
        if t.master_pkey.trim().is_empty()
            && let Some(d) = f.details.iter().find(|d| d.pkey == t.pkey)
        {
            t.master_pkey = d.master_pkey.clone();
        }
    }
    let taxes = f.taxes.clone();
    for d in f.details.iter_mut() {
        if d.net_amount.is_zero() && !d.amount.is_zero() {
            let tax: Decimal = taxes.iter().filter(|t| t.pkey == d.pkey).map(|t| t.tax_amount).sum();
            d.net_amount = d.amount - tax;
        }
    }
}

/// The rules checked on save. `new_masters` are the MasterPKeys added by this request (the
/// duplicate-invoice check applies to them only).
fn validate_ap(st: &DeltekState, f: &ApFile, new_masters: &[String], this_batch_exists: bool) -> Result<(), ApiError> {
    if f.control.batch.is_empty() {
        return Err(ApiError::bad(msg::required("Batch")));
    }
    truncate_check(st, "apControl", "Batch", &f.control.batch, 32)?;
    truncate_check(st, "apControl", "Description", &f.control.description, 40)?;
    if !this_batch_exists && st.ap_files.iter().any(|x| same(&x.control.batch, &f.control.batch)) {
        return Err(ApiError::bad(msg::duplicate(&f.control.batch)));
    }
    check_period(st, effective_period(st, f.control.period)).map_err(ApiError::bad)?;
    for (i, m) in f.masters.iter().enumerate() {
        if f.masters[..i].iter().any(|o| same(&o.master_pkey, &m.master_pkey)) {
            return Err(ApiError::bad(msg::duplicate(&m.master_pkey)));
        }
        let elsewhere =
            st.ap_files.iter().filter(|x| !same(&x.control.batch, &f.control.batch)).flat_map(|x| x.masters.iter());
        for o in elsewhere {
            if !m.voucher.trim().is_empty() && same(&o.voucher, &m.voucher) {
                return Err(ApiError::bad(msg::duplicate(&m.voucher)));
            }
        }
        check_vendor(st, &m.vendor).map_err(ApiError::bad)?;
        truncate_check(st, "apMaster", "Invoice", &m.invoice, 50)?;
        if st.switches.strict_duplicate_invoice && new_masters.contains(&m.master_pkey) && !m.invoice.trim().is_empty()
        {
            let in_file = f
                .masters
                .iter()
                .any(|o| o.master_pkey != m.master_pkey && same(&o.vendor, &m.vendor) && same(&o.invoice, &m.invoice));
            let elsewhere =
                st.ap_files.iter().flat_map(|x| x.masters.iter()).any(|o| {
                    o.master_pkey != m.master_pkey && same(&o.vendor, &m.vendor) && same(&o.invoice, &m.invoice)
                });
            if in_file || elsewhere {
                return Err(ApiError::bad(msg::duplicate_invoice(m.invoice.trim(), m.vendor.trim())));
            }
        }
    }
    for (i, d) in f.details.iter().enumerate() {
        if !f.masters.iter().any(|m| same(&m.master_pkey, &d.master_pkey)) {
            return Err(ApiError::bad(msg::orphan_detail(&d.master_pkey)));
        }
        if f.details[..i].iter().any(|o| same(&o.pkey, &d.pkey)) {
            return Err(ApiError::bad(msg::duplicate(&d.pkey)));
        }
        check_charge(st, &d.account, &d.wbs1, &d.wbs2, &d.wbs3).map_err(ApiError::bad)?;
        truncate_check(st, "apDetail", "Description", &d.description, 255)?;
    }
    Ok(())
}

fn assign_vouchers(st: &mut DeltekState, f: &mut ApFile) {
    for m in f.masters.iter_mut() {
        if m.voucher.trim().is_empty() {
            m.voucher = st.next_voucher_no();
        }
    }
}

fn initial_status(st: &DeltekState) -> String {
    match st.switches.approvals {
        Approvals::AutoSubmit => "S".into(),
        _ => "N".into(),
    }
}

/// Insert an AP file without validation (seeding "keyed by hand" vouchers); posts it when
/// `post` (no period or approval checks: history may sit in closed periods).
pub fn seed_ap_file(
    st: &mut DeltekState,
    mut f: ApFile,
    post: bool,
    user: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), String> {
    complete_ap(st, &mut f, user, now);
    if f.control.batch.is_empty() {
        f.control.batch = new_key();
    }
    if st.ap_files.iter().any(|x| same(&x.control.batch, &f.control.batch)) {
        return Err(msg::duplicate(&f.control.batch));
    }
    assign_vouchers(st, &mut f);
    if f.approval_status.is_empty() {
        f.approval_status = initial_status(st);
    }
    st.ap_files.push(f);
    if post {
        let idx = st.ap_files.len() - 1;
        let period = effective_period(st, st.ap_files[idx].control.period);
        post_ap(st, idx, period, user, now);
    }
    Ok(())
}

/// `POST DataEntry/apControl` (and `POST ledger/AP`).
pub fn ap_create(st: &mut DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let input = parse_ap(&call.body, &ApControl::default())?;
    let mut f = ApFile {
        control: input.control,
        default_tax_codes: input.default_tax_codes,
        masters: input.masters.into_iter().map(|(m, _)| m).collect(),
        details: input.details.into_iter().map(|(d, _)| d).collect(),
        taxes: input.taxes.into_iter().map(|(t, _)| t).collect(),
        approval_status: initial_status(st),
        ..ApFile::default()
    };
    f.control.posted = "N".into();
    complete_ap(st, &mut f, &call.user, call.now);
    let new: Vec<String> = f.masters.iter().map(|m| m.master_pkey.clone()).collect();
    validate_ap(st, &f, &new, false)?;
    assign_vouchers(st, &mut f);
    let out = ap_control_json(st, &f);
    let loc = format!("DataEntry/apControl/{}", f.control.batch);
    st.ap_files.push(f);
    Ok(Reply::Created(vec![out], loc))
}

fn find_ap(st: &DeltekState, batch: &str) -> Option<usize> {
    st.ap_files.iter().position(|f| same(&f.control.batch, batch))
}

/// `POST DataEntry/apMaster/{Batch}|{MasterPKey}` (Files = No shape): one voucher with nested
/// `apDetail[]`; creates the file when it does not exist.
pub fn ap_master_create(st: &mut DeltekState, call: &Call, key: &str) -> Result<Reply, ApiError> {
    let (batch, mpk) = key.split_once('|').map(|(a, b)| (a.trim(), b.trim())).unwrap_or((key.trim(), ""));
    let mut m = one_object(&call.body)?;
    let details = take_ci(&mut m, "apDetail");
    let taxes = take_ci(&mut m, "apDetailTax");
    let mut master = patch(&ApMaster::default(), &m).map_err(field_err)?;
    if !mpk.is_empty() {
        master.master_pkey = mpk.to_string();
    }
    let details: Vec<ApDetail> = rows_of(details)?.into_iter().map(|(d, _)| d).collect();
    let taxes: Vec<ApDetailTax> = rows_of(taxes)?.into_iter().map(|(t, _)| t).collect();
    let existing = find_ap(st, batch);
    let mut f = match existing {
        Some(i) => {
            let f = st.ap_files[i].clone();
            if f.control.posted == "Y" {
                return Err(ApiError::bad(msg::already_posted("AP", batch)));
            }
            f
        }
        None => ApFile {
            control: ApControl { batch: batch.to_string(), ..ApControl::default() },
            approval_status: initial_status(st),
            ..ApFile::default()
        },
    };
    if master.master_pkey.trim().is_empty() {
        master.master_pkey = new_key();
    }
    let mpk = master.master_pkey.clone();
    if f.masters.iter().any(|x| same(&x.master_pkey, &mpk)) {
        return Err(ApiError::bad(msg::duplicate(&mpk)));
    }
    f.masters.push(master);
    for mut d in details {
        d.master_pkey = mpk.clone();
        f.details.push(d);
    }
    for mut t in taxes {
        t.master_pkey = mpk.clone();
        f.taxes.push(t);
    }
    complete_ap(st, &mut f, &call.user, call.now);
    validate_ap(st, &f, std::slice::from_ref(&mpk), existing.is_some())?;
    assign_vouchers(st, &mut f);
    let mut out = f.masters.iter().find(|x| x.master_pkey == mpk).map(to_object).unwrap_or_default();
    out.insert(
        "apDetail".into(),
        Value::Array(f.details.iter().filter(|d| d.master_pkey == mpk).map(|d| ap_detail_json(st, &f, d)).collect()),
    );
    let loc = format!("DataEntry/apMaster/{}|{}", f.control.batch, mpk);
    match existing {
        Some(i) => st.ap_files[i] = f,
        None => st.ap_files.push(f),
    }
    Ok(Reply::Created(vec![Value::Object(out)], loc))
}

/// `PUT DataEntry/apControl/{Batch}`: PATCH the control; upsert masters/lines/tax rows by key
/// (`_transType` `D` deletes).
pub fn ap_update(st: &mut DeltekState, call: &Call, batch: &str) -> Result<Reply, ApiError> {
    let i = find_ap(st, batch).ok_or_else(|| ApiError::not_found(&format!("Record {batch}")))?;
    let old = st.ap_files[i].clone();
    if old.control.posted == "Y" {
        return Err(ApiError::bad(msg::already_posted("AP", batch)));
    }
    let input = parse_ap(&call.body, &old.control)?;
    let mut f = old.clone();
    f.control = input.control;
    f.control.batch = old.control.batch.clone();
    if !input.default_tax_codes.is_empty() {
        f.default_tax_codes = input.default_tax_codes;
    }
    let mut new_masters = Vec::new();
    for (m, tt) in input.masters {
        let pos = f.masters.iter().position(|x| same(&x.master_pkey, &m.master_pkey) && !m.master_pkey.is_empty());
        match (tt.as_deref(), pos) {
            (Some("D"), Some(p)) => {
                let key = f.masters.remove(p).master_pkey;
                f.details.retain(|d| d.master_pkey != key);
                f.taxes.retain(|t| t.master_pkey != key);
            }
            (Some("D"), None) => return Err(ApiError::not_found(&format!("Record {}", m.master_pkey))),
            (_, Some(p)) => f.masters[p] = m,
            (_, None) => {
                let mut m = m;
                if m.master_pkey.trim().is_empty() {
                    m.master_pkey = new_key();
                }
                new_masters.push(m.master_pkey.clone());
                f.masters.push(m);
            }
        }
    }
    for (d, tt) in input.details {
        let pos = f.details.iter().position(|x| same(&x.pkey, &d.pkey) && !d.pkey.is_empty());
        match (tt.as_deref(), pos) {
            (Some("D"), Some(p)) => {
                let key = f.details.remove(p).pkey;
                f.taxes.retain(|t| t.pkey != key);
            }
            (Some("D"), None) => return Err(ApiError::not_found(&format!("Record {}", d.pkey))),
            (_, Some(p)) => f.details[p] = d,
            (_, None) => f.details.push(d),
        }
    }
    for (t, tt) in input.taxes {
        let pos = f.taxes.iter().position(|x| same(&x.pkey, &t.pkey) && same(&x.tax_code, &t.tax_code));
        match (tt.as_deref(), pos) {
            (Some("D"), Some(p)) => {
                f.taxes.remove(p);
            }
            (_, Some(p)) => f.taxes[p] = t,
            (_, None) => f.taxes.push(t),
        }
    }
    complete_ap(st, &mut f, &call.user, call.now);
    validate_ap(st, &f, &new_masters, true)?;
    assign_vouchers(st, &mut f);
    let out = ap_control_json(st, &f);
    st.ap_files[i] = f;
    Ok(Reply::Updated(vec![out]))
}

/// `DELETE DataEntry/apControl/{Batch}` (unposted files only).
pub fn ap_delete(st: &mut DeltekState, batch: &str) -> Result<Reply, ApiError> {
    let i = find_ap(st, batch).ok_or_else(|| ApiError::not_found(&format!("Record {batch}")))?;
    if st.ap_files[i].control.posted == "Y" {
        return Err(ApiError::bad(msg::already_posted("AP", batch)));
    }
    st.ap_files.remove(i);
    Ok(Reply::Deleted)
}

/// `GET DataEntry/apControl/{Batch}`: `[control with its rows]` or `[]`.
pub fn ap_control_get(st: &DeltekState, call: &Call, batch: &str) -> Result<Reply, ApiError> {
    let rows: Vec<Map<String, Value>> = find_ap(st, batch)
        .map(|i| match ap_control_json(st, &st.ap_files[i]) {
            Value::Object(m) => m,
            _ => Map::new(),
        })
        .into_iter()
        .collect();
    let cols = dyn_columns::<ApControl>(&["SumTotal", "DiffTotal", "DefaultLiabDescription", "DefaultBankDescription"]);
    Ok(Reply::Rows(apply(rows, &call.params, &cols, &st.switches)?))
}

/// `GET DataEntry/apMaster/{Batch}` (or `{Batch}|{MasterPKey}`).
pub fn ap_master_get(st: &DeltekState, call: &Call, key: &str) -> Result<Reply, ApiError> {
    let (batch, mpk) = key.split_once('|').map(|(a, b)| (a.trim(), Some(b.trim()))).unwrap_or((key.trim(), None));
    let rows = find_ap(st, batch)
        .map(|i| {
            st.ap_files[i]
                .masters
                .iter()
                .filter(|m| mpk.is_none_or(|k| same(&m.master_pkey, k)))
                .map(to_object)
                .collect()
        })
        .unwrap_or_default();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<ApMaster>(), &st.switches)?))
}

/// `GET DataEntry/apDetail/{Batch}` (or `{Batch}|{MasterPKey}`).
pub fn ap_detail_get(st: &DeltekState, call: &Call, key: &str) -> Result<Reply, ApiError> {
    let (batch, mpk) = key.split_once('|').map(|(a, b)| (a.trim(), Some(b.trim()))).unwrap_or((key.trim(), None));
    let rows = find_ap(st, batch)
        .map(|i| {
            let f = &st.ap_files[i];
            f.details
                .iter()
                .filter(|d| mpk.is_none_or(|k| same(&d.master_pkey, k)))
                .filter_map(|d| match ap_detail_json(st, f, d) {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let cols = dyn_columns::<ApDetail>(&[
        "WBS1Name",
        "ClientName",
        "ChargeType",
        "Org",
        "AccountName",
        "AccountType",
        "GlobalAccount",
        "TotalTax",
    ]);
    Ok(Reply::Rows(apply(rows, &call.params, &cols, &st.switches)?))
}

/// `GET DataEntry/apLanding`.
pub fn ap_landing(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let rows = st
        .ap_files
        .iter()
        .map(|f| {
            let c = &f.control;
            landing_row(Landing {
                batch: &c.batch,
                description: &c.description,
                creator: &c.creator,
                trans_type: "AP",
                company: &c.company,
                period: if c.posted == "Y" { c.post_period } else { effective_period(st, c.period) },
                recurring: &c.recurring,
                status: &f.approval_status,
                post_date: &f.post_date,
                post_user: &f.post_user,
                post_comment: &f.post_comment,
                post_seq: c.post_seq,
            })
        })
        .collect();
    Ok(Reply::Rows(apply(rows, &call.params, &landing_columns(), &st.switches)?))
}

// ---------------------------------------------------------------- JE

fn je_control_json(f: &JeFile) -> Value {
    let mut m = to_object(&f.control);
    m.insert("jeMaster".into(), Value::Array(f.masters.iter().map(|x| Value::Object(to_object(x))).collect()));
    m.insert("jeDetail".into(), Value::Array(f.details.iter().map(je_detail_json).collect()));
    m.insert("jeDetailTax".into(), Value::Array(f.taxes.clone()));
    Value::Object(m)
}

fn je_detail_json(d: &JeDetail) -> Value {
    let mut m = to_object(d);
    m.insert("WBS2".into(), json!(blank_as_space(&d.wbs2)));
    m.insert("WBS3".into(), json!(blank_as_space(&d.wbs3)));
    Value::Object(m)
}

fn je_totals(f: &JeFile, ref_no: Option<&str>) -> (Decimal, Decimal) {
    f.details
        .iter()
        .filter(|d| ref_no.is_none_or(|r| same(&d.ref_no, r)))
        .fold((Decimal::ZERO, Decimal::ZERO), |(dr, cr), d| (dr + d.debit_amount, cr + d.credit_amount))
}

fn je_balance_error(f: &JeFile) -> Option<String> {
    for m in &f.masters {
        let (dr, cr) = je_totals(f, Some(&m.ref_no));
        if dr != cr {
            return Some(msg::je_unbalanced(&m.ref_no, dr, cr));
        }
    }
    None
}

fn find_je(st: &DeltekState, batch: &str) -> Option<usize> {
    st.je_files.iter().position(|f| same(&f.control.batch, batch))
}

fn complete_je(st: &DeltekState, f: &mut JeFile, user: &str, now: chrono::NaiveDateTime) {
    f.control.batch = f.control.batch.trim().to_string();
    if f.control.creator.is_empty() {
        f.control.creator = user.to_string();
    }
    if f.control.company.is_empty() {
        f.control.company = st.active_company.clone();
    }
    let batch = f.control.batch.clone();
    for (i, m) in f.masters.iter_mut().enumerate() {
        m.batch = batch.clone();
        if m.seq == 0 {
            m.seq = i as i64 + 1;
        }
        if m.trans_date.is_none() {
            m.trans_date = Some(now.date().and_time(chrono::NaiveTime::MIN));
        }
    }
    let only = if f.masters.len() == 1 { Some(f.masters[0].ref_no.clone()) } else { None };
    for (i, d) in f.details.iter_mut().enumerate() {
        d.batch = batch.clone();
        if d.ref_no.trim().is_empty()
            && let Some(r) = &only
        {
            d.ref_no = r.clone();
        }
        if d.pkey.trim().is_empty() {
            d.pkey = new_key();
        }
        if d.seq == 0 {
            d.seq = i as i64 + 1;
        }
    }
}

fn validate_je(st: &DeltekState, f: &JeFile) -> Result<(), ApiError> {
    if f.control.batch.is_empty() {
        return Err(ApiError::bad(msg::required("Batch")));
    }
    truncate_check(st, "jeControl", "Batch", &f.control.batch, 32)?;
    truncate_check(st, "jeControl", "Description", &f.control.description, 40)?;
    if st.je_files.iter().any(|x| same(&x.control.batch, &f.control.batch)) {
        return Err(ApiError::bad(msg::duplicate(&f.control.batch)));
    }
    check_period(st, effective_period(st, f.control.period)).map_err(ApiError::bad)?;
    for (i, m) in f.masters.iter().enumerate() {
        if m.ref_no.trim().is_empty() {
            return Err(ApiError::bad(msg::required("RefNo")));
        }
        if f.masters[..i].iter().any(|o| same(&o.ref_no, &m.ref_no)) {
            return Err(ApiError::bad(msg::duplicate(&m.ref_no)));
        }
    }
    for d in &f.details {
        if !f.masters.iter().any(|m| same(&m.ref_no, &d.ref_no)) {
            return Err(ApiError::bad(msg::orphan_detail(&d.ref_no)));
        }
        check_je_line(st, d).map_err(ApiError::bad)?;
    }
    if st.switches.je_balance_on_create
        && let Some(e) = je_balance_error(f)
    {
        return Err(ApiError::bad(e));
    }
    Ok(())
}

fn check_je_line(st: &DeltekState, d: &JeDetail) -> Result<(), String> {
    if st.control_accounts.iter().any(|a| same(a, &d.account)) {
        return Err(msg::je_control_account(&d.account));
    }
    check_charge(st, &d.account, &d.wbs1, &d.wbs2, &d.wbs3)
}

/// Insert a JE file without validation (seeding); posts it when `post`.
pub fn seed_je_file(
    st: &mut DeltekState,
    mut f: JeFile,
    post: bool,
    user: &str,
    now: chrono::NaiveDateTime,
) -> Result<(), String> {
    complete_je(st, &mut f, user, now);
    if st.je_files.iter().any(|x| same(&x.control.batch, &f.control.batch)) {
        return Err(msg::duplicate(&f.control.batch));
    }
    if f.approval_status.is_empty() {
        f.approval_status = initial_status(st);
    }
    st.je_files.push(f);
    if post {
        let idx = st.je_files.len() - 1;
        let period = effective_period(st, st.je_files[idx].control.period);
        post_je(st, idx, period, user, now);
    }
    Ok(())
}

/// Parse a `DataEntry/jeControl` body.
pub fn parse_je(body: &Value) -> Result<JeFile, ApiError> {
    let mut m = one_object(body)?;
    let masters = take_ci(&mut m, "jeMaster");
    let details = take_ci(&mut m, "jeDetail");
    let taxes = take_ci(&mut m, "jeDetailTax");
    let control = patch(&JeControl::default(), &m).map_err(field_err)?;
    Ok(JeFile {
        control,
        masters: rows_of(masters)?.into_iter().map(|(m, _)| m).collect(),
        details: rows_of(details)?.into_iter().map(|(d, _)| d).collect(),
        taxes: match taxes {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        },
        ..JeFile::default()
    })
}

/// `POST DataEntry/jeControl`.
pub fn je_create(st: &mut DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let mut f = parse_je(&call.body)?;
    f.control.posted = "N".into();
    f.approval_status = initial_status(st);
    complete_je(st, &mut f, &call.user, call.now);
    validate_je(st, &f)?;
    let out = je_control_json(&f);
    let loc = format!("DataEntry/jeControl/{}", f.control.batch);
    st.je_files.push(f);
    Ok(Reply::Created(vec![out], loc))
}

/// `DELETE DataEntry/jeControl/{Batch}`.
pub fn je_delete(st: &mut DeltekState, batch: &str) -> Result<Reply, ApiError> {
    let i = find_je(st, batch).ok_or_else(|| ApiError::not_found(&format!("Record {batch}")))?;
    if st.je_files[i].control.posted == "Y" {
        return Err(ApiError::bad(msg::already_posted("JE", batch)));
    }
    st.je_files.remove(i);
    Ok(Reply::Deleted)
}

/// `GET DataEntry/jeControl/{Batch}`.
pub fn je_control_get(st: &DeltekState, call: &Call, batch: &str) -> Result<Reply, ApiError> {
    let rows = find_je(st, batch)
        .and_then(|i| match je_control_json(&st.je_files[i]) {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .into_iter()
        .collect();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<JeControl>(), &st.switches)?))
}

/// `GET DataEntry/jeMaster/{Batch}`.
pub fn je_master_get(st: &DeltekState, call: &Call, batch: &str) -> Result<Reply, ApiError> {
    let rows = find_je(st, batch).map(|i| st.je_files[i].masters.iter().map(to_object).collect()).unwrap_or_default();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<JeMaster>(), &st.switches)?))
}

/// `GET DataEntry/jeDetail/{Batch}`.
pub fn je_detail_get(st: &DeltekState, call: &Call, batch: &str) -> Result<Reply, ApiError> {
    let rows = find_je(st, batch)
        .map(|i| {
            st.je_files[i]
                .details
                .iter()
                .filter_map(|d| match je_detail_json(d) {
                    Value::Object(m) => Some(m),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<JeDetail>(), &st.switches)?))
}

/// `GET DataEntry/jeLanding`.
pub fn je_landing(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let rows = st
        .je_files
        .iter()
        .map(|f| {
            let c = &f.control;
            landing_row(Landing {
                batch: &c.batch,
                description: &c.description,
                creator: &c.creator,
                trans_type: "JE",
                company: &c.company,
                period: if c.posted == "Y" { c.post_period } else { effective_period(st, c.period) },
                recurring: &c.recurring,
                status: &f.approval_status,
                post_date: &f.post_date,
                post_user: &f.post_user,
                post_comment: &f.post_comment,
                post_seq: c.post_seq,
            })
        })
        .collect();
    Ok(Reply::Rows(apply(rows, &call.params, &landing_columns(), &st.switches)?))
}

// ---------------------------------------------------------------- posting

struct Outcome {
    trans_type: String,
    batch: String,
    period: i64,
    post_seq: i64,
    ok: bool,
    msg: String,
}

/// `PUT DataEntry/PostTransFile`.
pub fn post_trans_file(st: &mut DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let parms = match &call.body {
        Value::Object(m) => get_ci(m, "parms").cloned(),
        _ => None,
    }
    .ok_or_else(|| ApiError::bad(msg::required("parms")))?;
    let parms: Vec<Map<String, Value>> = match parms {
        Value::Object(m) => vec![m],
        Value::Array(a) if !a.is_empty() => a
            .into_iter()
            .map(|v| v.as_object().cloned().ok_or_else(|| ApiError::bad("The request is invalid.")))
            .collect::<Result<_, _>>()?,
        _ => return Err(ApiError::bad("The request is invalid.")),
    };
    let mut outcomes = Vec::new();
    for p in parms {
        let text = |k: &str| get_ci(&p, k).map(scalar_text).unwrap_or_default().trim().to_string();
        let batch = text("batch");
        let mut tt = text("transtype").to_ascii_uppercase();
        if tt.is_empty() {
            tt = if find_je(st, &batch).is_some() && find_ap(st, &batch).is_none() { "JE".into() } else { "AP".into() };
        }
        let period: i64 = text("period").parse().unwrap_or(0);
        let desc = text("description");
        outcomes.push(post_one(st, call, &tt, &batch, period, &desc));
    }
    let join = |f: &dyn Fn(&Outcome) -> String| outcomes.iter().map(f).collect::<Vec<_>>().join("|");
    let inner = json!({
        "typeList": join(&|o| o.trans_type.clone()),
        "batchList": join(&|o| o.batch.clone()),
        "retList": join(&|o| if o.ok { "1".into() } else { "0".into() }),
        "periodList": join(&|o| o.period.to_string()),
        "postseqList": join(&|o| o.post_seq.to_string()),
        "msg": outcomes.iter().map(|o| o.msg.clone()).collect::<String>(),
    });
    Ok(Reply::JsonString(inner.to_string()))
}

fn post_one(st: &mut DeltekState, call: &Call, tt: &str, batch: &str, period: i64, desc: &str) -> Outcome {
    let fail = |period: i64, records: usize, label: &str, why: String| Outcome {
        trans_type: tt.to_string(),
        batch: batch.to_string(),
        period,
        post_seq: 0,
        ok: false,
        msg: format!("{tt} file {label}; 0 of {records} records posted; {why}\r\n"),
    };
    match tt {
        "AP" => {
            let Some(i) = find_ap(st, batch) else {
                return fail(period, 0, batch, format!("File {batch} does not exist."));
            };
            let f = &st.ap_files[i];
            let label = if !desc.is_empty() {
                desc.to_string()
            } else if !f.control.description.is_empty() {
                f.control.description.clone()
            } else {
                batch.to_string()
            };
            let records = f.masters.len();
            let period = if period != 0 { period } else { effective_period(st, f.control.period) };
            if f.control.posted == "Y" {
                return fail(period, records, &label, format!("File {batch} has already been posted."));
            }
            if let Err(e) = check_period(st, period) {
                return fail(period, records, &label, e);
            }
            if st.switches.approvals != Approvals::Off && f.approval_status != "A" {
                return fail(period, records, &label, format!("File {batch} has not been approved."));
            }
            let sum = ap_sum(f);
            if !st.switches.ignore_control_totals && sum != f.control.total {
                return fail(
                    period,
                    records,
                    &label,
                    format!("The file total {sum:.2} does not equal the control total {:.2}.", f.control.total),
                );
            }
            for m in &f.masters {
                if let Err(e) = check_vendor(st, &m.vendor) {
                    return fail(period, records, &label, e);
                }
            }
            for d in &f.details {
                if let Err(e) = check_charge(st, &d.account, &d.wbs1, &d.wbs2, &d.wbs3) {
                    return fail(period, records, &label, e);
                }
            }
            let seq = post_ap(st, i, period, &call.user, call.now);
            Outcome {
                trans_type: tt.into(),
                batch: batch.into(),
                period,
                post_seq: seq,
                ok: true,
                msg: format!("AP file {label}; {records} of {records} records posted; Posting sequence {seq}\r\n"),
            }
        }
        "JE" => {
            let Some(i) = find_je(st, batch) else {
                return fail(period, 0, batch, format!("File {batch} does not exist."));
            };
            let f = &st.je_files[i];
            let label = if !desc.is_empty() {
                desc.to_string()
            } else if !f.control.description.is_empty() {
                f.control.description.clone()
            } else {
                batch.to_string()
            };
            let records = f.masters.len();
            let period = if period != 0 { period } else { effective_period(st, f.control.period) };
            if f.control.posted == "Y" {
                return fail(period, records, &label, format!("File {batch} has already been posted."));
            }
            if let Err(e) = check_period(st, period) {
                return fail(period, records, &label, e);
            }
            if st.switches.approvals != Approvals::Off && f.approval_status != "A" {
                return fail(period, records, &label, format!("File {batch} has not been approved."));
            }
            if let Some(e) = je_balance_error(f) {
                return fail(period, records, &label, e);
            }
            let (dr, cr) = je_totals(f, None);
            if !st.switches.ignore_control_totals && (dr != f.control.total || cr != f.control.credits_total) {
                return fail(
                    period,
                    records,
                    &label,
                    format!(
                        "The file totals {dr:.2}/{cr:.2} do not equal the control totals {:.2}/{:.2}.",
                        f.control.total, f.control.credits_total
                    ),
                );
            }
            for d in &f.details {
                if let Err(e) = check_je_line(st, d) {
                    return fail(period, records, &label, e);
                }
            }
            let seq = post_je(st, i, period, &call.user, call.now);
            Outcome {
                trans_type: tt.into(),
                batch: batch.into(),
                period,
                post_seq: seq,
                ok: true,
                msg: format!("JE file {label}; {records} of {records} records posted; Posting sequence {seq}\r\n"),
            }
        }
        other => fail(period, 0, batch, format!("Posting transaction type {other} is not supported by the simulator.")),
    }
}

/// Post AP file `i` to `period`: ledger rows, flags, landing status. Returns the sequence.
fn post_ap(st: &mut DeltekState, i: usize, period: i64, user: &str, now: chrono::NaiveDateTime) -> i64 {
    let seq = st.next_post_seq(period);
    let f = st.ap_files[i].clone();
    let mut rows = Vec::new();
    for d in &f.details {
        let Some(m) = f.masters.iter().find(|m| m.master_pkey == d.master_pkey) else { continue };
        let vendor_name = st.vendor(&m.vendor).map(|v| v.name.clone()).unwrap_or_default();
        let top = st.project(&d.wbs1, "", "");
        let acct_type = st.account(&d.account).map(|a| a.account_type).unwrap_or(0);
        let billable = top.is_some_and(|p| p.charge_type == "R") && (acct_type == 5 || acct_type == 6);
        let line_taxes: Vec<&ApDetailTax> = f.taxes.iter().filter(|t| t.pkey == d.pkey).collect();
        let line_amount = if line_taxes.is_empty() { d.amount } else { d.net_amount };
        let invoice = if st.switches.ledger_ap_includes_invoice { m.invoice.clone() } else { " ".into() };
        let base = LedgerRow {
            period,
            post_seq: seq,
            pkey: new_key(),
            wbs1: blank_as_space(&d.wbs1),
            wbs2: blank_as_space(&d.wbs2),
            wbs3: blank_as_space(&d.wbs3),
            account: d.account.clone(),
            org: top.map(|p| p.org.clone()).unwrap_or_default(),
            trans_type: "AP".into(),
            sub_type: "L".into(),
            ref_no: m.voucher.clone(),
            trans_date: m.trans_date,
            desc1: vendor_name,
            desc2: d.description.clone(),
            amount: line_amount,
            vendor: m.vendor.clone(),
            voucher: m.voucher.clone(),
            invoice,
            line: d.seq,
            bill_status: if billable { "B".into() } else { " ".into() },
            po_number: d.po_number.clone(),
            transaction_amount: line_amount,
            transaction_currency_code: m.currency_code.clone(),
            batch: f.control.batch.clone(),
            company: f.control.company.clone(),
            mod_date: Some(now),
            ..LedgerRow::default()
        };
        rows.push(base.clone());
        for t in &line_taxes {
            rows.push(LedgerRow {
                pkey: new_key(),
                sub_type: "T".into(),
                amount: t.tax_amount,
                transaction_amount: t.tax_amount,
                tax_code: t.tax_code.clone(),
                tax_basis: d.net_amount,
                ..base.clone()
            });
        }
    }
    st.ledger.extend(rows);
    let f = &mut st.ap_files[i];
    f.control.posted = "Y".into();
    f.control.post_period = period;
    f.control.post_seq = seq;
    f.masters.iter_mut().for_each(|m| m.posted = "Y".into());
    f.approval_status = "P".into();
    f.post_date = Some(now);
    f.post_user = user.to_string();
    f.post_comment = format!("Posting sequence {seq}");
    seq
}

/// Post JE file `i`. Returns the sequence.
fn post_je(st: &mut DeltekState, i: usize, period: i64, user: &str, now: chrono::NaiveDateTime) -> i64 {
    let seq = st.next_post_seq(period);
    let f = st.je_files[i].clone();
    for d in &f.details {
        let m = f.masters.iter().find(|m| same(&m.ref_no, &d.ref_no));
        let top = st.project(&d.wbs1, "", "");
        let amount = d.debit_amount - d.credit_amount;
        st.ledger.push(LedgerRow {
            period,
            post_seq: seq,
            pkey: new_key(),
            wbs1: blank_as_space(&d.wbs1),
            wbs2: blank_as_space(&d.wbs2),
            wbs3: blank_as_space(&d.wbs3),
            account: d.account.clone(),
            org: top.map(|p| p.org.clone()).unwrap_or_default(),
            trans_type: "JE".into(),
            ref_no: d.ref_no.clone(),
            trans_date: m.and_then(|m| m.trans_date),
            desc1: m.map(|m| m.description.clone()).unwrap_or_default(),
            desc2: d.description.clone(),
            amount,
            line: d.seq,
            transaction_amount: amount,
            transaction_currency_code: m.map(|m| m.currency_code.clone()).unwrap_or_else(|| "USD".into()),
            batch: f.control.batch.clone(),
            company: f.control.company.clone(),
            mod_date: Some(now),
            ..LedgerRow::default()
        });
    }
    let f = &mut st.je_files[i];
    f.control.posted = "Y".into();
    f.control.post_period = period;
    f.control.post_seq = seq;
    f.approval_status = "P".into();
    f.post_date = Some(now);
    f.post_user = user.to_string();
    f.post_comment = format!("Posting sequence {seq}");
    seq
}

/// Move a file's approval status (`set_approval_status` action): `S`, `A` (masters get
/// `Status` `A` + `AuthorizedBy`), `R` (with a reason) or back to `N`.
pub fn set_approval(
    st: &mut DeltekState,
    trans_type: &str,
    batch: &str,
    status: &str,
    by: &str,
    reason: &str,
) -> Result<(), String> {
    let status = status.trim().to_ascii_uppercase();
    if !["N", "S", "A", "R"].contains(&status.as_str()) {
        return Err(format!("status must be N, S, A or R, not '{status}'"));
    }
    if trans_type.eq_ignore_ascii_case("JE") {
        let i = find_je(st, batch).ok_or_else(|| format!("no JE file {batch}"))?;
        if st.je_files[i].control.posted == "Y" {
            return Err(format!("JE file {batch} is posted"));
        }
        st.je_files[i].approval_status = status.clone();
        st.je_files[i].masters.iter_mut().for_each(|m| m.status = if status == "A" { "A".into() } else { "N".into() });
        return Ok(());
    }
    let i = find_ap(st, batch).ok_or_else(|| format!("no AP file {batch}"))?;
    if st.ap_files[i].control.posted == "Y" {
        return Err(format!("AP file {batch} is posted"));
    }
    let f = &mut st.ap_files[i];
    f.approval_status = status.clone();
    for m in f.masters.iter_mut() {
        match status.as_str() {
            "A" => {
                m.status = "A".into();
                m.authorized_by = by.to_string();
                m.reject_reason.clear();
            }
            "R" => {
                m.status = "N".into();
                m.authorized_by.clear();
                m.reject_reason = reason.to_string();
            }
            _ => {
                m.status = "N".into();
                m.authorized_by.clear();
            }
        }
    }
    Ok(())
}
