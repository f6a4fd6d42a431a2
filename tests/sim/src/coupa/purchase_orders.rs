//! Purchase orders (`/api/purchase_orders`, lines at `/api/purchase_order_lines`), scopes
//! `core.purchase_order.read` / `.write`.
//!
//! - `version` is the supplier-visible revision: a revision (control action `revise_po`) bumps
//!   it and `internal-revision`, sets `change-type` to `revision`, marks removed lines deleted
//!   (returned only with `show_deleted_lines=true`, with status `deleted` [I]) and **resets
//!   `exported` to false** [C], so the export pass sees the PO again.
//! - `PUT /api/purchase_orders/{id}?exported=true` marks it exported; "by default, you cannot
//!   update other fields while updating the exported field" [C] (switch
//!   `exported_with_other_changes`).
//! - Which header total key exists is unknown [U]: switch `po_total_key`.
//! - The cancelled status is spelt `cancelled` in the enum and `canceled` in the integration
//!   guide [C]: switch `po_status_canceled_spelling`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::model::{LineKind, OrderLine, PoRevision, PurchaseOrder};
use super::reference::{account_ref, currency_ref, payment_term_ref, user_ref};
use super::state::{ApiError, CoupaState};
use super::suppliers::supplier_json;
use super::switches::PoTotalKey;

fn status_text(st: &CoupaState, status: &str) -> String {
    if st.switches.po_status_canceled_spelling && status == "cancelled" {
        "canceled".into()
    } else {
        status.to_string()
    }
}

/// One order line (deleted lines carry status `deleted`).
pub fn line_json(st: &CoupaState, po: &PurchaseOrder, l: &OrderLine) -> Value {
    let s = st.style();
    let dp = st.decimals(&po.currency_code);
    let kind = match l.kind {
        LineKind::Quantity => "OrderQuantityLine",
        LineKind::Amount => "OrderAmountLine",
    };
    json!({
        "id": l.id,
        "created-at": s.dt(l.created_at),
        "updated-at": s.dt(l.updated_at),
        "line-num": l.line_num,
        "type": kind,
        "description": l.description,
        "quantity": s.opt_num(l.quantity),
        "price": s.money(l.price, dp),
        "total": s.money(l.total(), dp),
        "accounting-total": s.money(l.total(), dp),
        "currency": currency_ref(st, &po.currency_code),
        "account": account_ref(st, l.account_id),
        "status": if l.deleted { "deleted".to_string() } else { l.status.clone() },
        "need-by-date": s.date(l.need_by_date),
        "received": s.opt_num(Some(l.received)),
        "invoiced": s.opt_num(Some(l.invoiced)),
        "match-type": l.match_type,
        "order-header-id": po.id,
        "order-header-number": po.po_number,
        "version": l.version,
        "custom-fields": l.custom_fields,
    })
}

/// A purchase order with supplier, currency, terms, requester and lines.
pub fn po_json(st: &CoupaState, po: &PurchaseOrder, show_deleted: bool) -> Value {
    let s = st.style();
    let dp = st.decimals(&po.currency_code);
    let lines: Vec<Value> =
        po.lines.iter().filter(|l| show_deleted || !l.deleted).map(|l| line_json(st, po, l)).collect();
    let total: Decimal = po.lines.iter().filter(|l| !l.deleted).map(OrderLine::total).sum();
    let mut m = Map::new();
    for (k, v) in [
        ("id", json!(po.id)),
        ("created-at", s.dt(po.created_at)),
        ("updated-at", s.dt(po.updated_at)),
        ("po-number", json!(po.po_number)),
        ("status", json!(status_text(st, &po.status))),
        ("version", json!(po.version)),
        ("internal-revision", json!(po.internal_revision)),
        ("change-type", if po.change_type.is_empty() { Value::Null } else { json!(po.change_type) }),
        ("exported", json!(po.exported)),
        ("last-exported-at", s.opt_dt(po.last_exported_at)),
        ("type", json!("ExternalOrderHeader")),
        ("supplier", st.supplier(po.supplier_id).map_or(Value::Null, |x| supplier_json(st, x))),
        ("currency", currency_ref(st, &po.currency_code)),
        ("payment-term", payment_term_ref(st, po.payment_term_id)),
        ("requester", user_ref(st, po.requester_id)),
        ("acknowledged-flag", json!(false)),
        ("transmission-status", json!("sent_via_email")),
        ("custom-fields", Value::Object(po.custom_fields.clone())),
        ("order-lines", Value::Array(lines)),
    ] {
        m.insert(k.into(), v);
    }
    match st.switches.po_total_key {
        PoTotalKey::TotalWithEstimatedTax => {
            m.insert("total-with-estimated-tax".into(), s.money(total, dp));
        }
        PoTotalKey::Total => {
            m.insert("total".into(), s.money(total, dp));
        }
        PoTotalKey::InvoiceTotal => {
            m.insert("invoice-total".into(), s.money(total, dp));
        }
        PoTotalKey::None => {}
    }
    Value::Object(m)
}

/// Every PO, rendered.
pub fn purchase_orders(st: &CoupaState, show_deleted: bool) -> Vec<Value> {
    st.purchase_orders.iter().map(|p| po_json(st, p, show_deleted)).collect()
}

/// Every PO line, rendered (deleted ones only when asked).
pub fn lines(st: &CoupaState, show_deleted: bool) -> Vec<Value> {
    st.purchase_orders
        .iter()
        .flat_map(|p| p.lines.iter().filter(move |l| show_deleted || !l.deleted).map(move |l| line_json(st, p, l)))
        .collect()
}

/// `PUT /api/purchase_orders/{id}?exported=…`. `other_changes`: the body asked for more.
pub fn set_exported(
    st: &mut CoupaState,
    id: i64,
    exported: bool,
    other_changes: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let idx = st.po_idx(id).ok_or_else(|| ApiError::not_found(&st.switches))?;
    if other_changes && st.switches.exported_with_other_changes == super::switches::ExportedWithOtherChanges::Error {
        return Err(ApiError::invalid(
            "order_header",
            vec!["You cannot update other fields while updating the exported field".into()],
        ));
    }
    let bump = st.switches.exported_bumps_updated_at;
    let p = &mut st.purchase_orders[idx];
    p.exported = exported;
    if exported {
        p.last_exported_at = Some(CoupaState::stamp(now));
    }
    if bump {
        p.updated_at = CoupaState::stamp(now);
    }
    Ok(())
}

/// A revision (control action `revise_po`): `changes` is a list of `{line_num, quantity?,
/// price?, description?, delete?}`, `add_lines` a list of `{description, quantity, price,
/// account_id}`. Bumps `version`, resets `exported`.
pub fn revise(st: &mut CoupaState, id: i64, args: &Value, now: DateTime<Utc>) -> Result<i64, ApiError> {
    let stamp = CoupaState::stamp(now);
    let idx = st.po_idx(id).ok_or_else(|| ApiError::not_found(&st.switches))?;
    let adds: Vec<Value> = args.get("add_lines").and_then(Value::as_array).cloned().unwrap_or_default();
    let new_ids: Vec<i64> = adds.iter().map(|_| st.next_id("order_line")).collect();
    let p = &mut st.purchase_orders[idx];
    let version = p.version + 1;
    for c in args.get("changes").and_then(Value::as_array).into_iter().flatten() {
        let num = c.get("line_num").map(crate::common::json::scalar_text).unwrap_or_default();
        let line = p
            .lines
            .iter_mut()
            .find(|l| l.line_num == num && !l.deleted)
            .ok_or_else(|| ApiError::bad(format!("PO {} has no line {num}", p.po_number)))?;
        if c.get("delete").and_then(Value::as_bool).unwrap_or(false) {
            line.deleted = true;
        }
        if let Some(q) = c.get("quantity").map(crate::common::json::scalar_text) {
            line.quantity = Some(q.parse().map_err(|_| ApiError::bad(format!("quantity '{q}' is not a number")))?);
        }
        if let Some(pr) = c.get("price").map(crate::common::json::scalar_text) {
            line.price = pr.parse().map_err(|_| ApiError::bad(format!("price '{pr}' is not a number")))?;
        }
        if let Some(d) = c.get("description").and_then(Value::as_str) {
            line.description = d.to_string();
        }
        line.version = version;
        line.updated_at = stamp;
    }
    for (a, id) in adds.iter().zip(new_ids) {
        let num = p.lines.len() + 1;
        let dec = |k: &str| a.get(k).map(crate::common::json::scalar_text).and_then(|t| t.parse::<Decimal>().ok());
        p.lines.push(OrderLine {
            id,
            line_num: num.to_string(),
            kind: LineKind::Quantity,
            description: a.get("description").and_then(Value::as_str).unwrap_or("Added line").to_string(),
            quantity: dec("quantity").or(Some(Decimal::ONE)),
            price: dec("price").unwrap_or_default(),
            account_id: a.get("account_id").and_then(Value::as_i64),
            status: "created".into(),
            match_type: "2-way".into(),
            version,
            created_at: stamp,
            updated_at: stamp,
            ..OrderLine::default()
        });
    }
    p.version = version;
    p.internal_revision += 1;
    p.change_type = "revision".into();
    p.exported = false;
    p.updated_at = stamp;
    let note = args.get("note").and_then(Value::as_str).unwrap_or("revised and resent to the supplier").to_string();
    p.revisions.push(PoRevision { version, at: stamp, note });
    Ok(version)
}
