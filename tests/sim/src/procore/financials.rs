//! Subcontractor invoices (requisitions) and direct costs (fact sheet §8.3, §8.4).
//!
//! Requisitions:
//! - `GET /rest/v1.{0,1}/requisitions?project_id=` and `…/{id}`; v1.0 names the vendor only by
//!   `vendor_name`, v1.1 adds `vendor_id`, `summary_text` and, with `view=extended|items`,
//!   `items[]` **[C]**; v1.1 pages 30 by default **[C]**; `summary` (G702, money as strings) on
//!   both. `filters[status]` takes one value; the array form is dropped **[C/I]**.
//! - `GET /rest/v1.0/requisitions/{id}/detail?project_id=` gives the G703 rows (v1.0's way to the
//!   line detail).
//! - `PATCH /rest/v1.0/requisitions/{id}` `{"project_id", "requisition": {"origin_id", …}}`:
//!   setting `origin_id` locks the invoice ("synced with ERP"), later edits are 422; a duplicate
//!   `origin_id` is 422 (switch: 409) **[C]**.
//!
//! Direct costs:
//! - `GET /rest/v1.{0,1}/projects/{project_id}/direct_costs`: `vendor` is a *string* in lists;
//!   there is no status filter (a `filters[status]` is ignored) **[C]**.
//! - `GET /rest/v1.1/projects/{project_id}/direct_costs/{id}` adds `vendor{id,name}`,
//!   `line_items[]`, `line_items_count`; the v1.0 show has no `line_items` **[C]**.
//! - `GET /rest/v1.0/projects/{project_id}/direct_costs/line_items` (all, `filters[direct_cost_id]`)
//!   and `…/direct_costs/{id}/line_items`.
//! - `PATCH /rest/v1.0/projects/{project_id}/direct_costs/{id}` `{"direct_cost": {...}}`, locked
//!   by `origin_id` like requisitions.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::api::{Call, Filters, PageRules, Reply, Route, in_range, project, project_param};
use super::commitments::line_item_json;
use super::model::{DirectCost, Id, MoneyKind, Requisition, RequisitionItem, money, opt_date, opt_stamp};
use super::state::{ApiError, ProcoreState};
use super::webhooks::Event;

/// Route a requisition or direct-cost call.
pub fn route(st: &mut ProcoreState, call: &Call, ev: &mut Vec<Event>) -> Result<Reply, ApiError> {
    match call.route {
        Route::Requisitions { v11 } => list_requisitions(st, call, v11),
        Route::RequisitionShow { v11, id } if call.method == "GET" => {
            let r = requisition(st, call, id)?;
            let items = v11 && matches!(call.params.get("view"), Some("extended") | Some("items"));
            Ok(Reply::Json(200, requisition_json(st, r, v11, items)))
        }
        Route::RequisitionShow { id, .. } => patch_requisition(st, call, id, ev),
        Route::RequisitionDetail(id) => {
            let r = requisition(st, call, id)?;
            let rows = r.items.iter().map(|i| item_json(st, i)).collect();
            Ok(Reply::Json(200, Value::Array(rows)))
        }
        Route::DirectCosts { project: pid, .. } => list_direct_costs(st, call, pid),
        Route::DirectCostShow { v11, project: pid, id } if call.method == "GET" => {
            let d = direct_cost(st, call, pid, id)?;
            Ok(Reply::Json(200, direct_cost_json(st, d, if v11 { Shape::ShowV11 } else { Shape::ShowV10 })))
        }
        Route::DirectCostShow { project: pid, id, .. } => patch_direct_cost(st, call, pid, id, ev),
        Route::DirectCostLineItems { project: pid, direct_cost } => {
            project(st, call, pid)?;
            let f = Filters::read(
                st,
                &call.params,
                &["direct_cost_id", "id", "created_at", "updated_at", "cost_code_id", "line_item_type_id"],
            )?;
            let (ids, dc_ids, cc, lit) =
                (f.ids("id")?, f.ids("direct_cost_id")?, f.ids("cost_code_id")?, f.ids("line_item_type_id")?);
            let (created, updated) = (f.range("created_at")?, f.range("updated_at")?);
            let mut rows = Vec::new();
            for d in st.direct_costs.iter().filter(|d| d.project_id == pid && d.deleted_at.is_none()) {
                if direct_cost.is_some_and(|x| x != d.id) || dc_ids.as_ref().is_some_and(|v| !v.contains(&d.id)) {
                    continue;
                }
                for li in &d.line_items {
                    let keep = ids.as_ref().is_none_or(|v| v.contains(&li.id))
                        && cc.as_ref().is_none_or(|v| li.cost_code_id.is_some_and(|c| v.contains(&c)))
                        && lit.as_ref().is_none_or(|v| li.line_item_type_id.is_some_and(|c| v.contains(&c)))
                        && in_range(&li.created_at, &created)
                        && in_range(&li.updated_at, &updated);
                    if keep {
                        rows.push(line_item_json(st, li, d.id, "DirectCost", pid, MoneyKind::Invoice));
                    }
                }
            }
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        _ => Err(ApiError::not_found()),
    }
}

fn requisition<'a>(st: &'a ProcoreState, call: &Call, id: Id) -> Result<&'a Requisition, ApiError> {
    let p = project_param(st, call)?;
    st.requisitions.iter().find(|r| r.id == id && r.project_id == p.id).ok_or_else(ApiError::not_found)
}

fn list_requisitions(st: &ProcoreState, call: &Call, v11: bool) -> Result<Reply, ApiError> {
    let p = project_param(st, call)?;
    let f = Filters::read(
        st,
        &call.params,
        &["id", "commitment_id", "period_id", "status", "created_at", "updated_at", "origin_id"],
    )?;
    let (ids, created, updated) = (f.ids("id")?, f.range("created_at")?, f.range("updated_at")?);
    let commitment = f.ids("commitment_id")?;
    let period = f.ids("period_id")?;
    let status = f.get("status");
    let origin = f.get("origin_id");
    let items = v11 && matches!(call.params.get("view"), Some("extended") | Some("items"));
    let rows = st
        .requisitions
        .iter()
        .filter(|r| r.project_id == p.id)
        .filter(|r| ids.as_ref().is_none_or(|v| v.contains(&r.id)))
        .filter(|r| commitment.as_ref().is_none_or(|v| v.contains(&r.commitment_id)))
        .filter(|r| period.as_ref().is_none_or(|v| r.period_id.is_some_and(|x| v.contains(&x))))
        .filter(|r| status.is_none_or(|s| r.status == s))
        .filter(|r| origin.is_none_or(|o| r.origin_id.as_deref() == Some(o)))
        .filter(|r| in_range(&r.created_at, &created) && in_range(&r.updated_at, &updated))
        .map(|r| requisition_json(st, r, v11, items))
        .collect();
    let rules = if v11 {
        PageRules { default: st.switches.requisitions_v11_default_per_page, max: st.switches.max_per_page }
    } else {
        PageRules::standard(st)
    };
    Ok(Reply::List(rows, rules))
}

fn m(st: &ProcoreState, d: Decimal) -> Value {
    money(d, MoneyKind::Invoice, st.switches.money_style)
}

fn currency() -> Value {
    json!({"currency_iso_code": "USD", "currency_exchange_rate": "1.0", "base_currency_iso_code": "USD"})
}

/// A requisition in the v1.0 or v1.1 shape.
pub fn requisition_json(st: &ProcoreState, r: &Requisition, v11: bool, with_items: bool) -> Value {
    let c = st.commitment(r.commitment_id);
    let vendor = c.and_then(|c| c.vendor_id).and_then(|v| st.vendor(v));
    let retainage = c.and_then(|c| c.retainage_percent).unwrap_or_default();
    let s = r.summary(retainage);
    let pct = if s.contract_sum_to_date.is_zero() {
        Decimal::ZERO
    } else {
        (s.total_completed_and_stored_to_date / s.contract_sum_to_date * Decimal::from(100)).round_dp(2)
    };
    let claimed: Decimal = r.items.iter().map(RequisitionItem::gross).sum();
    let mut v = json!({
        "id": r.id, "project_id": r.project_id, "commitment_id": r.commitment_id,
        "commitment_type": c.map(|c| c.kind.name()),
        "contract_name": c.and_then(|c| c.title.clone()),
        "number": r.number, "invoice_number": r.invoice_number, "period_id": r.period_id,
        "requisition_start": opt_date(&r.requisition_start), "requisition_end": opt_date(&r.requisition_end),
        "billing_date": opt_date(&r.billing_date), "payment_date": opt_date(&r.payment_date),
        "submitted_at": opt_stamp(&r.submitted_at), "status": r.status, "erp_status": r.erp_status,
        "final": r.is_final, "percent_complete": format!("{pct:.2}%"),
        "total_claimed_amount": m(st, claimed),
        "vendor_name": vendor.map(|v| v.name.clone()),
        "summary": {
            "original_contract_sum": m(st, s.original_contract_sum),
            "net_change_by_change_orders": m(st, s.net_change_by_change_orders),
            "contract_sum_to_date": m(st, s.contract_sum_to_date),
            "total_completed_and_stored_to_date": m(st, s.total_completed_and_stored_to_date),
            "completed_work_retainage_percent": m(st, s.completed_work_retainage_percent),
            "completed_work_retainage_amount": m(st, s.completed_work_retainage_amount),
            "stored_materials_retainage_percent": m(st, s.completed_work_retainage_percent),
            "stored_materials_retainage_amount": m(st, s.stored_materials_retainage_amount),
            "total_retainage": m(st, s.total_retainage),
            "total_earned_less_retainage": m(st, s.total_earned_less_retainage),
            "less_previous_certificates_for_payment": m(st, s.less_previous_certificates_for_payment),
            "current_payment_due": m(st, s.current_payment_due),
            "balance_to_finish_including_retainage": m(st, s.balance_to_finish_including_retainage),
            "tax_applicable_to_this_payment": m(st, Decimal::ZERO),
            "formatted_period": match (r.requisition_start, r.requisition_end) {
                (Some(a), Some(b)) => json!(format!("{} - {}", a.format("%m/%d/%y"), b.format("%m/%d/%y"))),
                _ => Value::Null,
            },
        },
        "origin_id": r.origin_id, "origin_data": r.origin_data,
        "created_at": opt_stamp(&r.created_at), "updated_at": opt_stamp(&r.updated_at),
        "created_by": {"id": 1, "name": "Project Accountant", "login": "accounting@example.com", "company_name": st.project(r.project_id).and_then(|p| st.company(p.company_id)).map(|c| c.name.clone())},
        "custom_fields": {}, "currency_configuration": currency(), "attachments": [],
    });
    if v11 && let Value::Object(o) = &mut v {
        o.insert("vendor_id".into(), json!(vendor.map(|v| v.id)));
        o.insert("invoice_type".into(), json!("progress"));
        let previous = st
            .requisitions
            .iter()
            .filter(|x| x.commitment_id == r.commitment_id && x.number < r.number)
            .max_by_key(|x| x.number)
            .map(|x| x.id);
        o.insert("previous_requisition_id".into(), json!(previous));
        o.insert(
            "summary_text".into(),
            json!({
                "subcontractor_name": vendor.map(|v| v.name.clone()),
                "application_number": r.number.to_string(),
                "contract_for": c.and_then(|c| c.title.clone()),
                "contract_date": c.map(|c| opt_date(&c.contract_date)),
            }),
        );
        if with_items {
            o.insert("items".into(), Value::Array(r.items.iter().map(|i| item_json(st, i)).collect()));
        }
    }
    v
}

/// One G703 row.
pub fn item_json(st: &ProcoreState, i: &RequisitionItem) -> Value {
    let total = i.total_completed_and_stored();
    let pct = if i.scheduled_value.is_zero() {
        Decimal::ZERO
    } else {
        (total / i.scheduled_value * Decimal::from(100)).round_dp(2)
    };
    let cc = i.cost_code_id.and_then(|c| st.cost_code(c));
    json!({
        "id": i.id, "item_type": i.item_type, "line_item_id": i.line_item_id, "cost_code_id": i.cost_code_id,
        "wbs_code": cc.map(|c| json!({"id": c.id, "flat_code": st.full_code(c), "description": c.name})),
        "description_of_work": i.description_of_work, "accounting_method": "amount",
        "scheduled_value": m(st, i.scheduled_value), "scheduled_quantity": null, "scheduled_unit_price": null,
        "work_completed_from_previous_application": m(st, i.work_completed_from_previous_application),
        "work_completed_this_period": m(st, i.work_completed_this_period),
        "materials_presently_stored": m(st, i.materials_presently_stored),
        "total_completed_and_stored_to_date": m(st, total),
        "total_completed_and_stored_to_date_percent": format!("{pct:.2}%"),
        "work_completed_retainage_retained_this_period": m(st, i.work_completed_retainage_retained_this_period),
        "work_completed_retainage_released_this_period": m(st, i.work_completed_retainage_released_this_period),
        "materials_stored_retainage_currently_retained": m(st, i.materials_stored_retainage_currently_retained),
        "balance_to_finish": m(st, i.scheduled_value - total),
        "gross_amount": m(st, i.gross()), "net_amount": m(st, i.net()), "status": "approved", "position": i.position,
    })
}

fn direct_cost<'a>(st: &'a ProcoreState, call: &Call, pid: Id, id: Id) -> Result<&'a DirectCost, ApiError> {
    project(st, call, pid)?;
    st.direct_costs
        .iter()
        .find(|d| d.id == id && d.project_id == pid && d.deleted_at.is_none())
        .ok_or_else(ApiError::not_found)
}

fn list_direct_costs(st: &ProcoreState, call: &Call, pid: Id) -> Result<Reply, ApiError> {
    project(st, call, pid)?;
    let f = Filters::read(
        st,
        &call.params,
        &["id", "origin_id", "invoice_number", "created_at", "updated_at", "payment_date", "received_date"],
    )?;
    let (ids, created, updated) = (f.ids("id")?, f.range("created_at")?, f.range("updated_at")?);
    let (paid, received) = (f.range("payment_date")?, f.range("received_date")?);
    let origin = f.get("origin_id");
    let number = f.get("invoice_number");
    let as_time = |d: &Option<chrono::NaiveDate>| d.and_then(|d| d.and_hms_opt(12, 0, 0)).map(|t| t.and_utc());
    let rows = st
        .direct_costs
        .iter()
        .filter(|d| d.project_id == pid && d.deleted_at.is_none())
        .filter(|d| ids.as_ref().is_none_or(|v| v.contains(&d.id)))
        .filter(|d| origin.is_none_or(|o| d.origin_id.as_deref() == Some(o)))
        .filter(|d| number.is_none_or(|n| d.invoice_number.as_deref() == Some(n)))
        .filter(|d| in_range(&d.created_at, &created) && in_range(&d.updated_at, &updated))
        .filter(|d| in_range(&as_time(&d.payment_date), &paid) && in_range(&as_time(&d.received_date), &received))
        .map(|d| direct_cost_json(st, d, Shape::List))
        .collect();
    Ok(Reply::List(rows, PageRules::standard(st)))
}

/// Which direct-cost shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    List,
    ShowV10,
    ShowV11,
}

/// A direct cost in the list, v1.0 show or v1.1 show shape.
pub fn direct_cost_json(st: &ProcoreState, d: &DirectCost, shape: Shape) -> Value {
    let vendor = d.vendor_id.and_then(|v| st.vendor(v));
    let amount = d.amount();
    let mut v = json!({
        "id": d.id, "direct_cost_type": d.direct_cost_type, "direct_cost_date": opt_date(&d.direct_cost_date),
        "invoice_number": d.invoice_number, "description": d.description, "status": d.status,
        "amount": m(st, amount), "grand_total": m(st, amount), "terms": d.terms,
        "payment_date": opt_date(&d.payment_date), "received_date": opt_date(&d.received_date),
        "vendor": vendor.map(|v| v.name.clone()), "vendor_id": d.vendor_id, "vendor_name": vendor.map(|v| v.name.clone()),
        "employee": d.employee_id.map(|id| json!({"id": id, "name": d.employee_name})),
        "origin_id": d.origin_id, "origin_data": d.origin_data,
        "created_at": opt_stamp(&d.created_at), "updated_at": opt_stamp(&d.updated_at), "deleted_at": opt_stamp(&d.deleted_at),
        "currency_configuration": currency(),
    });
    if shape == Shape::ShowV11
        && let Value::Object(o) = &mut v
    {
        o.insert("vendor".into(), json!(vendor.map(|v| json!({"id": v.id, "name": v.name}))));
        let project = st.project(d.project_id);
        o.insert("project".into(), json!(project.map(|p| json!({"id": p.id, "name": p.name}))));
        o.insert(
            "company".into(),
            json!(project.and_then(|p| st.company(p.company_id)).map(|c| json!({"id": c.id, "name": c.name}))),
        );
        o.insert("attachments".into(), json!([]));
        o.insert("line_items_count".into(), json!(d.line_items.len()));
        o.insert(
            "line_items".into(),
            Value::Array(
                d.line_items
                    .iter()
                    .map(|li| line_item_json(st, li, d.id, "DirectCost", d.project_id, MoneyKind::Invoice))
                    .collect(),
            ),
        );
    }
    v
}

/// Fields a write-back may set.
const WRITABLE: [&str; 3] = ["origin_id", "origin_data", "payment_date"];

/// Apply a `{"origin_id", "origin_data", "payment_date"}` patch under the ERP lock rules.
fn write_back(
    st: &ProcoreState,
    body: &Value,
    key: &str,
    current_origin: &Option<String>,
    taken: impl Fn(&str) -> bool,
    what: &str,
) -> Result<Map<String, Value>, ApiError> {
    let fields = body
        .get(key)
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::bad(format!("the body must hold a \"{key}\" object")))?;
    if let Some(k) = fields.keys().find(|k| !WRITABLE.contains(&k.as_str())) {
        return Err(ApiError::invalid(k, format!("cannot be changed through the API on {what}")));
    }
    if current_origin.is_some() {
        return Err(ApiError::invalid(
            "base",
            format!("This {what} is not editable because it has been synced with ERP"),
        ));
    }
    if let Some(o) = fields.get("origin_id").and_then(Value::as_str)
        && taken(o)
    {
        let status = st.switches.duplicate_origin_id_status;
        return Err(ApiError::errors(status, json!({"origin_id": ["has already been taken"]})));
    }
    Ok(fields.clone())
}

fn date_of(v: &Value) -> Result<Option<chrono::NaiveDate>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::invalid("payment_date", format!("'{s}' is not a date (YYYY-MM-DD)"))),
        _ => Err(ApiError::invalid("payment_date", "must be a date (YYYY-MM-DD)")),
    }
}

fn patch_requisition(st: &mut ProcoreState, call: &Call, id: Id, ev: &mut Vec<Event>) -> Result<Reply, ApiError> {
    let pid = match call.body.get("project_id").and_then(Value::as_i64) {
        Some(p) => p,
        None => call.params.require_id("project_id")?,
    };
    let p = project(st, call, pid)?.clone();
    let idx = st.requisitions.iter().position(|r| r.id == id && r.project_id == pid).ok_or_else(ApiError::not_found)?;
    let cur = st.requisitions[idx].origin_id.clone();
    let fields = write_back(
        st,
        &call.body,
        "requisition",
        &cur,
        |o| st.requisitions.iter().any(|r| r.id != id && r.origin_id.as_deref() == Some(o)),
        "invoice",
    )?;
    let payment = fields.get("payment_date").map(date_of).transpose()?;
    let r = &mut st.requisitions[idx];
    if let Some(o) = fields.get("origin_id") {
        r.origin_id = o.as_str().map(String::from);
    }
    if let Some(o) = fields.get("origin_data") {
        r.origin_data = o.as_str().map(String::from);
    }
    if let Some(pd) = payment {
        r.payment_date = pd;
    }
    r.updated_at = Some(now_s(call));
    ev.push(Event::new("Requisitions", id, "update", p.company_id, Some(pid)).by(call));
    let r = st.requisitions[idx].clone();
    Ok(Reply::Json(200, requisition_json(st, &r, false, false)))
}

fn patch_direct_cost(
    st: &mut ProcoreState,
    call: &Call,
    pid: Id,
    id: Id,
    ev: &mut Vec<Event>,
) -> Result<Reply, ApiError> {
    direct_cost(st, call, pid, id)?;
    let company_id = st.project(pid).map(|p| p.company_id).unwrap_or_default();
    let idx = st.direct_costs.iter().position(|d| d.id == id).ok_or_else(ApiError::not_found)?;
    let cur = st.direct_costs[idx].origin_id.clone();
    let fields = write_back(
        st,
        &call.body,
        "direct_cost",
        &cur,
        |o| st.direct_costs.iter().any(|d| d.id != id && d.origin_id.as_deref() == Some(o)),
        "direct cost",
    )?;
    let payment = fields.get("payment_date").map(date_of).transpose()?;
    let d = &mut st.direct_costs[idx];
    if let Some(o) = fields.get("origin_id") {
        d.origin_id = o.as_str().map(String::from);
    }
    if let Some(o) = fields.get("origin_data") {
        d.origin_data = o.as_str().map(String::from);
    }
    if let Some(pd) = payment {
        d.payment_date = pd;
    }
    d.updated_at = Some(now_s(call));
    ev.push(Event::new("Direct Costs", id, "update", company_id, Some(pid)).by(call));
    let d = st.direct_costs[idx].clone();
    Ok(Reply::Json(200, direct_cost_json(st, &d, Shape::ShowV10)))
}

/// The call's time, to the second (Procore's stamps have no fraction).
pub fn now_s(call: &Call) -> chrono::DateTime<chrono::Utc> {
    super::scenario::to_second(call.now)
}
