//! Commitments and their change orders (fact sheet §8.5, §8.6).
//!
//! - `GET /rest/v1.0/{work,purchase}_order_contracts?project_id=` (filters `id`, `status`,
//!   `created_at`, `updated_at`, `include_deleted=only|with`, `origin_id`), show `…/{id}` with
//!   `line_items[]` and `change_order_packages[]`, and `…/{id}/line_items`. Statuses are Title
//!   Case and differ by type **[C]**; money is Ruby style (`"1142000.0"`) **[C]**. Totals
//!   (`grand_total`, `approved_change_orders`, `revised_contract`, …) are derived from the lines
//!   and the change orders, so a revised commitment shows its new figures.
//! - `GET /rest/v1.0/commitments?project_id=`: the generic read-only list **[C]**.
//! - `GET /rest/v1.0/change_order_packages?project_id=&contract_id=` and `…/{id}` (lowercase
//!   statuses **[C]**), and `GET /rest/v1.0/projects/{id}/commitment_change_orders` (the same
//!   change orders with `legacy_package_id`, filters `contract_id`, `vendor_id`, `status`,
//!   `executed`, `updated_at`, `sort=id|created_at` with `-`).

use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::api::{Call, Filters, PageRules, Reply, Route, in_range, project_param};
use super::model::{ChangeOrder, Commitment, CommitmentKind, Id, LineItem, MoneyKind, money, opt_date, opt_stamp};
use super::state::{ApiError, ProcoreState};

/// Route a commitment call.
pub fn route(st: &mut ProcoreState, call: &Call) -> Result<Reply, ApiError> {
    match call.route {
        Route::Contracts(kind) => {
            let p = project_param(st, call)?;
            let f = Filters::read(
                st,
                &call.params,
                &["id", "status", "created_at", "updated_at", "include_deleted", "origin_id"],
            )?;
            let (ids, created, updated) = (f.ids("id")?, f.range("created_at")?, f.range("updated_at")?);
            let (status, origin, deleted) = (f.get("status"), f.get("origin_id"), f.deleted());
            let rows = st
                .commitments
                .iter()
                .filter(|c| c.project_id == p.id && c.kind == kind && deleted.keeps(&c.deleted_at))
                .filter(|c| ids.as_ref().is_none_or(|v| v.contains(&c.id)))
                .filter(|c| status.is_none_or(|s| c.status == s))
                .filter(|c| origin.is_none_or(|o| c.origin_id.as_deref() == Some(o)))
                .filter(|c| in_range(&c.created_at, &created) && in_range(&c.updated_at, &updated))
                .map(|c| commitment_json(st, c, false))
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        Route::ContractShow(kind, id) => {
            let c = contract(st, call, kind, id)?;
            Ok(Reply::Json(200, commitment_json(st, c, true)))
        }
        Route::ContractLineItems(kind, id) => {
            let c = contract(st, call, kind, id)?;
            let f = Filters::read(st, &call.params, &["cost_code_id", "line_item_type_id", "updated_at"])?;
            let (cc, lit, updated) = (f.ids("cost_code_id")?, f.ids("line_item_type_id")?, f.range("updated_at")?);
            let rows = c
                .line_items
                .iter()
                .filter(|li| cc.as_ref().is_none_or(|v| li.cost_code_id.is_some_and(|x| v.contains(&x))))
                .filter(|li| lit.as_ref().is_none_or(|v| li.line_item_type_id.is_some_and(|x| v.contains(&x))))
                .filter(|li| in_range(&li.updated_at, &updated))
                .map(|li| line_item_json(st, li, c.id, kind.name(), c.project_id, MoneyKind::Commitment))
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        Route::Commitments => {
            let p = project_param(st, call)?;
            let rows = st
                .commitments
                .iter()
                .filter(|c| c.project_id == p.id && c.deleted_at.is_none())
                .map(|c| {
                    let v = c.vendor_id.and_then(|v| st.vendor(v));
                    json!({
                        "id": c.id, "title": c.title, "number": c.number, "status": c.status,
                        "description": c.description, "executed": c.executed,
                        "delivery_date": opt_date(&c.delivery_date), "created_at": opt_stamp(&c.created_at),
                        "private": c.private, "vendor": v.map(|v| json!({"id": v.id, "name": v.name})),
                    })
                })
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        Route::ChangeOrderPackages => {
            let p = project_param(st, call)?;
            let contract_id = call.params.id("contract_id")?;
            let f = Filters::read(st, &call.params, &["id", "created_at", "updated_at", "include_deleted"])?;
            let (ids, created, updated, deleted) =
                (f.ids("id")?, f.range("created_at")?, f.range("updated_at")?, f.deleted());
            let rows = st
                .change_orders
                .iter()
                .filter(|c| c.project_id == p.id && deleted.keeps(&c.deleted_at))
                .filter(|c| contract_id.is_none_or(|k| c.contract_id == k))
                .filter(|c| ids.as_ref().is_none_or(|v| v.contains(&c.id)))
                .filter(|c| in_range(&c.created_at, &created) && in_range(&c.updated_at, &updated))
                .map(|c| change_order_json(st, c, false))
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        Route::ChangeOrderPackageShow(id) => {
            let p = project_param(st, call)?;
            let co = st
                .change_orders
                .iter()
                .find(|c| c.id == id && c.project_id == p.id && c.deleted_at.is_none())
                .ok_or_else(ApiError::not_found)?;
            Ok(Reply::Json(200, change_order_json(st, co, true)))
        }
        Route::CommitmentChangeOrders(pid) => {
            super::api::project(st, call, pid)?;
            let f = Filters::read(st, &call.params, &["contract_id", "vendor_id", "status", "executed", "updated_at"])?;
            let (contracts, vendors, updated) = (f.ids("contract_id")?, f.ids("vendor_id")?, f.range("updated_at")?);
            let status = f.get("status");
            let executed = f.get("executed").map(|e| e == "true");
            let mut cos: Vec<&ChangeOrder> = st
                .change_orders
                .iter()
                .filter(|c| c.project_id == pid && c.deleted_at.is_none())
                .filter(|c| contracts.as_ref().is_none_or(|v| v.contains(&c.contract_id)))
                .filter(|c| {
                    vendors.as_ref().is_none_or(|v| {
                        st.commitment(c.contract_id).and_then(|k| k.vendor_id).is_some_and(|x| v.contains(&x))
                    })
                })
                .filter(|c| status.is_none_or(|s| c.status == s))
                .filter(|c| executed.is_none_or(|e| c.executed == e))
                .filter(|c| in_range(&c.updated_at, &updated))
                .collect();
            match call.params.get("sort") {
                Some("created_at") => cos.sort_by_key(|c| (c.created_at, c.id)),
                Some("-created_at") => cos.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.id))),
                Some("-id") => cos.sort_by_key(|c| std::cmp::Reverse(c.id)),
                _ => {}
            }
            let rows = cos
                .into_iter()
                .map(|c| {
                    let mut v = change_order_json(st, c, call.params.get("view") == Some("extended"));
                    v["legacy_package_id"] = json!(c.id);
                    v
                })
                .collect();
            Ok(Reply::List(rows, PageRules::standard(st)))
        }
        _ => Err(ApiError::not_found()),
    }
}

fn contract<'a>(st: &'a ProcoreState, call: &Call, kind: CommitmentKind, id: Id) -> Result<&'a Commitment, ApiError> {
    let p = project_param(st, call)?;
    st.commitments
        .iter()
        .find(|c| c.id == id && c.kind == kind && c.project_id == p.id && c.deleted_at.is_none())
        .ok_or_else(ApiError::not_found)
}

fn cm(st: &ProcoreState, d: Decimal) -> Value {
    money(d, MoneyKind::Commitment, st.switches.money_style)
}

/// Sum of the change orders of a contract in the given statuses.
fn co_sum(st: &ProcoreState, contract: Id, statuses: &[&str]) -> Decimal {
    st.change_orders
        .iter()
        .filter(|c| c.contract_id == contract && c.deleted_at.is_none() && statuses.contains(&c.status.as_str()))
        .map(ChangeOrder::grand_total)
        .sum()
}

/// A work order or purchase order; `show` adds lines and change orders.
pub fn commitment_json(st: &ProcoreState, c: &Commitment, show: bool) -> Value {
    let vendor = c.vendor_id.and_then(|v| st.vendor(v));
    let grand = c.grand_total();
    let approved = co_sum(st, c.id, &["approved"]);
    let pending = co_sum(st, c.id, &["pending", "pending_billable", "pricing", "proceeding", "revised"]);
    let draft = co_sum(st, c.id, &["draft"]);
    let billed: Decimal = st
        .requisitions
        .iter()
        .filter(|r| r.commitment_id == c.id && matches!(r.status.as_str(), "approved" | "approved_as_noted"))
        .flat_map(|r| r.items.iter())
        .map(super::model::RequisitionItem::gross)
        .sum();
    let revised = grand + approved;
    let project = st.project(c.project_id);
    let mut v = json!({
        "id": c.id, "number": c.number, "title": c.title, "description": c.description, "status": c.status,
        "executed": c.executed, "accounting_method": c.accounting_method.clone().unwrap_or_else(|| "amount".into()),
        "grand_total": cm(st, grand), "approved_change_orders": cm(st, approved),
        "pending_change_orders": cm(st, pending), "draft_change_orders_amount": cm(st, draft),
        "revised_contract": cm(st, revised), "pending_revised_contract": cm(st, revised + pending),
        "total_payments": cm(st, Decimal::ZERO), "total_requisitions_amount": cm(st, billed),
        "total_draw_requests_amount": cm(st, Decimal::ZERO),
        "remaining_balance_outstanding": cm(st, billed), "percentage_paid": "0.0%",
        "retainage_percent": c.retainage_percent.map(|r| cm(st, r)),
        "requisitions_are_enabled": c.kind == CommitmentKind::WorkOrderContract, "private": c.private,
        "contract_date": opt_date(&c.contract_date), "execution_date": opt_date(&c.execution_date),
        "issued_on_date": opt_date(&c.issued_on_date),
        "signed_contract_received_date": opt_date(&c.signed_contract_received_date),
        "letter_of_intent_date": null, "approval_letter_date": null, "returned_date": null,
        "vendor": vendor.map(|v| json!({"id": v.id, "company": v.name, "origin_id": v.origin_id, "origin_data": v.origin_data})),
        "project": project.map(|p| json!({"id": p.id, "name": p.name})),
        "origin_id": c.origin_id, "origin_code": c.origin_code, "origin_data": c.origin_data,
        "created_at": opt_stamp(&c.created_at), "updated_at": opt_stamp(&c.updated_at), "deleted_at": opt_stamp(&c.deleted_at),
        "currency_configuration": {"currency_iso_code": "USD", "currency_exchange_rate": "1.0", "base_currency_iso_code": "USD"},
    });
    if let Value::Object(o) = &mut v {
        match c.kind {
            CommitmentKind::WorkOrderContract => {
                o.insert("contract_start_date".into(), opt_date(&c.contract_start_date));
                o.insert("contract_estimated_completion_date".into(), opt_date(&c.contract_estimated_completion_date));
                o.insert("actual_completion_date".into(), Value::Null);
                o.insert("inclusions".into(), Value::Null);
                o.insert("exclusions".into(), Value::Null);
            }
            CommitmentKind::PurchaseOrderContract => {
                o.insert("delivery_date".into(), opt_date(&c.delivery_date));
                o.insert("ship_to_address".into(), Value::Null);
                o.insert("ship_via".into(), Value::Null);
                o.insert("bill_to_address".into(), Value::Null);
                o.insert("payment_terms".into(), json!(c.payment_terms));
                o.insert("billing_schedule_of_values_status".into(), Value::Null);
            }
        }
        if show {
            o.insert(
                "line_items".into(),
                Value::Array(
                    c.line_items
                        .iter()
                        .map(|li| line_item_json(st, li, c.id, c.kind.name(), c.project_id, MoneyKind::Commitment))
                        .collect(),
                ),
            );
            let cos: Vec<Value> = st
                .change_orders
                .iter()
                .filter(|x| x.contract_id == c.id && x.deleted_at.is_none())
                .map(|x| {
                    json!({"id": x.id, "number": x.number, "title": x.title, "status": x.status,
                           "grand_total": cm(st, x.grand_total())})
                })
                .collect();
            o.insert("change_order_packages".into(), Value::Array(cos));
            o.insert("change_order_requests".into(), json!([]));
            o.insert("payments_issued".into(), json!([]));
            o.insert("attachments".into(), json!([]));
        }
    }
    v
}

/// A change order package; `show` adds the lines.
pub fn change_order_json(st: &ProcoreState, c: &ChangeOrder, show: bool) -> Value {
    let mut v = json!({
        "id": c.id, "contract_id": c.contract_id, "number": c.number, "title": c.title, "status": c.status,
        "executed": c.executed, "grand_total": cm(st, c.grand_total()), "revision": c.revision,
        "due_date": opt_date(&c.due_date), "invoiced_date": opt_date(&c.invoiced_date), "paid_date": opt_date(&c.paid_date),
        "reviewed_at": opt_stamp(&c.reviewed_at), "signed_change_order_received_date": null,
        "designated_reviewer": null, "origin_id": c.origin_id, "origin_code": c.origin_code, "origin_data": c.origin_data,
        "created_at": opt_stamp(&c.created_at), "updated_at": opt_stamp(&c.updated_at), "deleted_at": opt_stamp(&c.deleted_at),
        "custom_fields": {},
        "currency_configuration": {"currency_iso_code": "USD", "currency_exchange_rate": "1.0", "base_currency_iso_code": "USD"},
    });
    if show && let Value::Object(o) = &mut v {
        o.insert("description".into(), json!(c.description));
        o.insert(
            "line_items".into(),
            Value::Array(
                c.line_items
                    .iter()
                    .map(|li| line_item_json(st, li, c.id, "ChangeOrderPackage", c.project_id, MoneyKind::Commitment))
                    .collect(),
            ),
        );
        o.insert("attachments".into(), json!([]));
        o.insert("reviewer".into(), Value::Null);
        o.insert("creator".into(), Value::Null);
    }
    v
}

/// A line item (commitment, change order or direct cost) **[C shape]**.
pub fn line_item_json(
    st: &ProcoreState,
    li: &LineItem,
    holder: Id,
    holder_type: &str,
    project_id: Id,
    kind: MoneyKind,
) -> Value {
    let mo = |d: Decimal| money(d, kind, st.switches.money_style);
    let cc = li.cost_code_id.and_then(|c| st.cost_code(c));
    let t = li.line_item_type_id.and_then(|c| st.line_item_type(c));
    let project = st.project(project_id);
    let total = li.total();
    json!({
        "id": li.id, "amount": mo(total), "description": li.description,
        "quantity": mo(li.quantity), "unit_cost": mo(li.unit_cost), "uom": li.uom,
        "extended_amount": mo(total), "total_amount": mo(total),
        "extended_type": if li.amount.is_zero() { "calculated" } else { "manual" },
        "cost_code": cc.map(|c| json!({"id": c.id, "full_code": st.full_code(c), "name": c.name, "origin_id": c.origin_id})),
        "line_item_type": t.map(|t| json!({"id": t.id, "code": t.code, "name": t.name, "base_type": t.base_type,
                                           "origin_id": t.origin_id, "origin_data": t.origin_data})),
        "wbs_code": cc.map(|c| json!({"id": c.id, "flat_code": st.full_code(c), "description": c.name})),
        "holder": {"id": holder, "holder_type": holder_type},
        "tax_code_id": li.tax_code_id, "position": li.position, "origin_id": li.origin_id,
        "project": project.map(|p| json!({"id": p.id, "name": p.name})),
        "created_at": opt_stamp(&li.created_at), "updated_at": opt_stamp(&li.updated_at),
    })
}
