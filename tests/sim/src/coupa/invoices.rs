//! Invoices (`/api/invoices`), scopes `core.invoice.read` / `.write`.
//!
//! - **States**: `draft → pending_approval → approved → voided` (plus the rest of the OAS enum
//!   for seeded records). `PUT /{id}/submit` moves a draft to approval; `PUT /{id}/void` voids a
//!   `draft`, `pending_receipt` or `approved` invoice [C]. Approval happens in Coupa's approval
//!   chain, so here it is the control action `approve_invoice`.
//! - **Credit notes**: `document-type: "Credit Note"`, negative amounts [I], with the original
//!   invoice's number and date.
//! - **Export flag**: `PUT /{id}?exported=true` sets `exported` and `last-exported-at` [C]; it
//!   "requires its own request. Any other changes included may be ignored" [C] (switch
//!   `exported_with_other_changes`); whether it bumps `updated-at` is unknown (switch
//!   `exported_bumps_updated_at`). API changes never reset `exported` [C]; UI edits reset it only
//!   when Support enabled it (switch `reset_exported_on_ui_change`).
//!   Whether voiding resets it is unknown (switch `void_resets_exported`, default off).
//! - **Write-back**: `PUT /{id}` with `{"custom-fields": {…}}` writes custom fields that exist and
//!   are API-editable; anything else is refused with `{"errors":{"invoice_header":[…]}}`. Other
//!   keys are silently not changed [C: "unknown/absent references are silently not changed"].
//! - **Validation switch**: with `enforce_invoice_validations` (an instance setting [C]) any PUT
//!   on an invoice coded to an inactive account is refused, the export PUT included [I].
//! - Amount keys are the real ones: `total-with-taxes`, `gross-total`, `amount-due`,
//!   `tax-amount`, …; there is no header `total` [C].

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::model::{ChargeKind, Invoice, InvoiceLine, LineKind};
use super::reference::{account_json, account_ref, currency_ref, payment_term_ref, user_ref};
use super::state::{ApiError, CoupaState};
use super::suppliers::{remit_to_json, supplier_json};

/// The envelope key of invoice validation errors.
pub const MODEL: &str = "invoice_header";

fn line_json(st: &CoupaState, inv: &Invoice, l: &InvoiceLine, dp: u32) -> Value {
    let s = st.style();
    let order = l.order_line_id.and_then(|id| st.order_line(id));
    let kind = match l.kind {
        LineKind::Quantity => "InvoiceQuantityLine",
        LineKind::Amount => "InvoiceAmountLine",
    };
    let allocations: Vec<Value> = l
        .allocations
        .iter()
        .map(|a| {
            json!({ "id": a.id, "amount": s.money(a.amount, dp), "pct": s.money(a.pct, 2),
                    "account": st.account(a.account_id).map_or(Value::Null, |x| account_json(st, x)) })
        })
        .collect();
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
        "accounting-total-currency": currency_ref(st, &inv.currency_code),
        "currency": currency_ref(st, &inv.currency_code),
        "uom": if l.uom.is_empty() { Value::Null } else { json!({ "code": l.uom }) },
        "status": if order.is_some() { json!("matched") } else { Value::Null },
        "account": account_ref(st, l.account_id),
        "account-allocations": allocations,
        "order-line-id": l.order_line_id,
        "po-number": order.map(|(p, _)| p.po_number.clone()),
        "order-header-num": order.map(|(p, _)| p.po_number.clone()),
        "order-line-num": order.map(|(_, ol)| ol.line_num.clone()),
        "tax-amount": s.money(l.tax_amount, dp),
        "tax-rate": l.tax_rate.map_or(Value::Null, |r| s.money(r, 1)),
        "custom-fields": l.custom_fields,
    })
}

/// An invoice with everything embedded.
pub fn invoice_json(st: &CoupaState, inv: &Invoice) -> Value {
    let s = st.style();
    let dp = st.decimals(&inv.currency_code);
    let supplier = st.supplier(inv.supplier_id);
    let remit = inv
        .remit_to_id
        .and_then(|id| supplier.and_then(|x| x.remit_to_addresses.iter().find(|r| r.id == id)))
        .map_or(Value::Null, |r| remit_to_json(st, r));
    let term = inv.payment_term_id.and_then(|id| st.payment_term(id));
    let net_due = inv.invoice_date.map(|d| d + Duration::days(term.map_or(0, |t| t.days_for_net_payment)));
    let chart = inv
        .lines
        .iter()
        .find_map(|l| l.account_id)
        .and_then(|a| st.account(a))
        .and_then(|a| st.chart(a.account_type_id));
    let total = inv.total_with_taxes();
    let charges: Vec<Value> = inv
        .charges
        .iter()
        .map(|c| {
            json!({ "id": c.id, "type": c.kind.type_name(), "line-num": c.line_num, "total": s.money(c.total, dp),
                    "currency": currency_ref(st, &inv.currency_code), "account": account_ref(st, c.account_id) })
        })
        .collect();
    let tax_lines: Vec<Value> = inv
        .tax_lines
        .iter()
        .map(|t| {
            json!({ "id": t.id, "amount": s.money(t.amount, dp), "rate": s.money(t.rate, 1), "code": t.code,
                    "description": t.description, "type": "TaxLine" })
        })
        .collect();
    let mut m = Map::new();
    for (k, v) in [
        ("id", json!(inv.id)),
        ("created-at", s.dt(inv.created_at)),
        ("updated-at", s.dt(inv.updated_at)),
        ("invoice-number", json!(inv.invoice_number)),
        ("invoice-date", s.date(inv.invoice_date)),
        ("status", json!(inv.status)),
        ("document-type", json!(inv.document_type)),
        ("is-credit-note", json!(inv.is_credit_note())),
        ("original-invoice-number", json!(inv.original_invoice_number)),
        ("original-invoice-date", s.date(inv.original_invoice_date)),
        ("currency", currency_ref(st, &inv.currency_code)),
        ("exchange-rate", s.money(Decimal::ONE, 1)),
        ("supplier", supplier.map_or(Value::Null, |x| supplier_json(st, x))),
        ("remit-to-address", remit),
        ("payment-term", payment_term_ref(st, inv.payment_term_id)),
        ("net-due-date", s.date(net_due)),
        ("account-type", chart.map_or(Value::Null, |c| json!({ "id": c.id, "name": c.name }))),
        ("line-level-taxation", json!(inv.line_level_taxation)),
        ("total-with-taxes", s.money(total, dp)),
        ("gross-total", s.money(total, dp)),
        ("amount-due", s.money(if inv.paid { Decimal::ZERO } else { total }, dp)),
        ("net-total-less-discount", s.money(total - inv.tax(), dp)),
        ("tax-amount", s.money(inv.tax(), dp)),
        ("shipping-amount", s.money(inv.charge(ChargeKind::Shipping), dp)),
        ("handling-amount", s.money(inv.charge(ChargeKind::Handling), dp)),
        ("misc-amount", s.money(inv.charge(ChargeKind::Misc), dp)),
        ("discount-amount", s.money(Decimal::ZERO, dp)),
        ("tax-lines", Value::Array(tax_lines)),
        ("invoice-charges", Value::Array(charges)),
        ("invoice-lines", Value::Array(inv.lines.iter().map(|l| line_json(st, inv, l, dp)).collect())),
        ("line-count", json!(inv.lines.len())),
        ("exported", json!(inv.exported)),
        ("last-exported-at", s.opt_dt(inv.last_exported_at)),
        ("paid", json!(inv.paid)),
        ("comments", json!(inv.comments)),
        ("requested-by", user_ref(st, inv.requested_by_id)),
        ("custom-fields", Value::Object(inv.custom_fields.clone())),
    ] {
        m.insert(k.into(), v);
    }
    Value::Object(m)
}

/// Every invoice, rendered.
pub fn invoices(st: &CoupaState) -> Vec<Value> {
    st.invoices.iter().map(|i| invoice_json(st, i)).collect()
}

/// The validation Coupa runs on updates when "Enforce all invoice validations" is on.
fn validate_for_update(st: &CoupaState, inv: &Invoice) -> Result<(), ApiError> {
    if !st.switches.enforce_invoice_validations {
        return Ok(());
    }
    let mut problems = Vec::new();
    for l in &inv.lines {
        if let Some(a) = l.account_id.and_then(|a| st.account(a))
            && !a.active
        {
            problems.push(format!("Line {}: Account {} is inactive", l.line_num, a.code()));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(ApiError::invalid(MODEL, problems)) }
}

/// `PUT /api/invoices/{id}?exported=…`.
pub fn set_exported(
    st: &mut CoupaState,
    id: i64,
    exported: bool,
    other_changes: bool,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let idx = st.invoice_idx(id).ok_or_else(|| ApiError::not_found(&st.switches))?;
    if other_changes && st.switches.exported_with_other_changes == super::switches::ExportedWithOtherChanges::Error {
        return Err(ApiError::invalid(MODEL, vec!["Marking an invoice exported requires its own request".into()]));
    }
    validate_for_update(st, &st.invoices[idx])?;
    let bump = st.switches.exported_bumps_updated_at;
    let inv = &mut st.invoices[idx];
    inv.exported = exported;
    if exported {
        inv.last_exported_at = Some(CoupaState::stamp(now));
    }
    if bump {
        inv.updated_at = CoupaState::stamp(now);
    }
    Ok(())
}

/// `PUT /api/invoices/{id}` with a body: custom fields (validated) and `comments`; everything
/// else is silently not changed. Never touches `exported`.
pub fn update(st: &mut CoupaState, id: i64, body: &Map<String, Value>, now: DateTime<Utc>) -> Result<(), ApiError> {
    let idx = st.invoice_idx(id).ok_or_else(|| ApiError::not_found(&st.switches))?;
    validate_for_update(st, &st.invoices[idx])?;
    let cf = body.get("custom-fields").or_else(|| body.get("custom_fields"));
    let mut writes = Vec::new();
    if let Some(cf) = cf {
        let Value::Object(fields) = cf else {
            return Err(ApiError::invalid(MODEL, vec!["custom-fields must be an object".into()]));
        };
        let mut problems = Vec::new();
        for (k, v) in fields {
            let name = super::query::norm(k);
            match st.custom_fields.iter().find(|d| d.resource == "invoices" && super::query::norm(&d.name) == name) {
                None => problems.push(format!("Custom field {k} does not exist")),
                Some(d) if !d.api_editable => problems.push(format!("Custom field {k} is not editable via the API")),
                Some(d) => {
                    let text = crate::common::json::scalar_text(v);
                    if d.max_length > 0 && text.chars().count() > d.max_length {
                        problems.push(format!("Custom field {k} is too long (maximum is {} characters)", d.max_length));
                    } else {
                        writes.push((d.name.clone(), v.clone()));
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::invalid(MODEL, problems));
        }
    }
    let inv = &mut st.invoices[idx];
    for (k, v) in writes {
        inv.custom_fields.insert(k, v);
    }
    if let Some(c) = body.get("comments").and_then(Value::as_str) {
        inv.comments = Some(c.to_string());
    }
    inv.updated_at = CoupaState::stamp(now);
    Ok(())
}

/// Move an invoice to `to` if allowed from its status; returns the new status.
pub fn transition(st: &mut CoupaState, id: i64, to: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
    let idx = st.invoice_idx(id).ok_or_else(|| ApiError::not_found(&st.switches))?;
    let inv = &mut st.invoices[idx];
    let from = inv.status.as_str();
    let allowed: &[&str] = match to {
        "pending_approval" => &["draft"],
        "approved" => &["pending_approval", "draft"],
        "voided" => &["draft", "pending_receipt", "approved"],
        "draft" => &["pending_approval"],
        _ => &[],
    };
    if !allowed.contains(&from) {
        return Err(ApiError::invalid(
            MODEL,
            vec![format!("Invoice {} cannot move from {from} to {to}", inv.invoice_number)],
        ));
    }
    inv.status = to.to_string();
    inv.updated_at = CoupaState::stamp(now);
    if to == "voided" && st.switches.void_resets_exported {
        st.invoices[idx].exported = false;
    }
    Ok(())
}

/// A UI edit (control action `ui_edit_invoice`): new `updated-at`, and `exported` reset only
/// when Support enabled "Reset … last exported at for every change".
pub fn ui_edit(st: &mut CoupaState, id: i64, now: DateTime<Utc>) -> Result<(), ApiError> {
    let reset = st.switches.reset_exported_on_ui_change;
    let idx = st.invoice_idx(id).ok_or_else(|| ApiError::not_found(&st.switches))?;
    let inv = &mut st.invoices[idx];
    inv.updated_at = CoupaState::stamp(now);
    if reset {
        inv.exported = false;
    }
    Ok(())
}

/// A credit note against an invoice (control action `create_credit_note`): the original's lines
/// negated (or one amount line of `-amount` on the first line's account), approved.
pub fn credit_note(
    st: &mut CoupaState,
    original: i64,
    number: Option<String>,
    amount: Option<Decimal>,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let idx = st.invoice_idx(original).ok_or_else(|| ApiError::not_found(&st.switches))?;
    let orig = st.invoices[idx].clone();
    let stamp = CoupaState::stamp(now);
    let id = st.next_id("invoice");
    let mut lines = Vec::new();
    match amount {
        Some(a) => lines.push(InvoiceLine {
            id: st.next_id("invoice_line"),
            line_num: 1,
            kind: LineKind::Amount,
            description: format!("Credit against {}", orig.invoice_number),
            price: -a.abs(),
            account_id: orig.lines.first().and_then(|l| l.account_id),
            created_at: stamp,
            updated_at: stamp,
            ..InvoiceLine::default()
        }),
        None => {
            for l in &orig.lines {
                let nid = st.next_id("invoice_line");
                lines.push(InvoiceLine {
                    id: nid,
                    price: -l.price,
                    tax_amount: -l.tax_amount,
                    allocations: Vec::new(),
                    created_at: stamp,
                    updated_at: stamp,
                    ..l.clone()
                });
            }
        }
    }
    let cn = Invoice {
        id,
        invoice_number: number.unwrap_or_else(|| format!("CN-{}", orig.invoice_number)),
        invoice_date: Some(now.date_naive()),
        status: "approved".into(),
        document_type: "Credit Note".into(),
        original_invoice_number: Some(orig.invoice_number.clone()),
        original_invoice_date: orig.invoice_date,
        lines,
        charges: Vec::new(),
        tax_lines: Vec::new(),
        exported: false,
        last_exported_at: None,
        paid: false,
        custom_fields: Map::new(),
        created_at: stamp,
        updated_at: stamp,
        ..orig
    };
    st.invoices.push(cn);
    Ok(id)
}
