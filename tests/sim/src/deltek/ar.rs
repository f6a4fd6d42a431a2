//! Posted ledgers and the AR reads an outbound EDI 810 flow needs.
//!
//! **[C]**: `GET ledger/{TransType}` returns posted rows (LedgerAP/AR/Misc shape: `Period`,
//! `PostSeq`, `PKey`, `WBS1..3` with `" "` blanks, `Account`, `Org`, `TransType`, `SubType`,
//! `TransDate`, `Desc1/2`, `Amount`, `Invoice`, `InvoiceSection`, `TaxCode`, `TaxBasis`,
//! `TransactionAmount`, ...); `ARReview/ARBalance` rows (`WBS1`, `WBS1Name`, `Company`,
//! `Invoice`, `InvoiceDate`, `CreditMemoRefNo`, `Balance`, `OriginalAmt`, `BillingClientID`,
//! `BillingClient`), `ARReview/ARBalanceDetail` rows (`Invoice`, `WBS1..3`, `WBS*Name`,
//! `Account`, `BillClientID`, `BillClient`, `BillingGroupWBS1`, `InvoiceAmount`),
//! `ARReview/ARBalanceDetailCR` receipts, and the `ARWBS1InvoiceKey=WBS1|Invoice,...` parameter
//! **[C-code]**; `PSALedger/{type}` carries `Batch` **[C-code]**.
//!
//! **[I]**: every row carries `ModDate` so a client can read "changed since a cursor" with
//! filterHash `ModDate >= <cursor>` (the `touch_ar_invoice` action moves it); ARReview answers
//! arrays (switch `ar_review_bare_object` for the Postman samples' bare object); invoice
//! ledger rows are derived from seeded invoices, amounts positive per line.

use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::api::{Call, Reply};
use super::errors::ApiError;
use super::model::{ArInvoice, LedgerRow, blank_as_space, columns, fmt_date, to_object};
use super::query::apply;
use super::state::DeltekState;

#[derive(serde::Serialize)]
struct Num(#[serde(with = "crate::common::json::flex_decimal")] Decimal);

fn num(d: Decimal) -> Value {
    serde_json::to_value(Num(d)).unwrap_or(Value::Null)
}

/// The `IN` ledger rows of one invoice.
pub fn invoice_ledger_rows(st: &DeltekState, inv: &ArInvoice) -> Vec<LedgerRow> {
    let top = st.project(&inv.wbs1, "", "");
    let client = billing_client(st, inv).map(|(_, n)| n).unwrap_or_default();
    inv.lines
        .iter()
        .enumerate()
        .map(|(i, l)| LedgerRow {
            period: inv.period,
            post_seq: inv.post_seq,
            pkey: format!("IN{}{:04}", inv.invoice.trim(), i + 1),
            wbs1: blank_as_space(&inv.wbs1),
            wbs2: blank_as_space(&l.wbs2),
            wbs3: blank_as_space(&l.wbs3),
            account: l.account.clone(),
            org: top.map(|p| p.org.clone()).unwrap_or_default(),
            trans_type: "IN".into(),
            sub_type: if l.sub_type.is_empty() { " ".into() } else { l.sub_type.clone() },
            ref_no: inv.invoice.clone(),
            trans_date: inv.invoice_date,
            desc1: client.clone(),
            desc2: l.description.clone(),
            amount: l.amount,
            invoice: inv.invoice.clone(),
            invoice_section: l.invoice_section.clone(),
            line: i as i64 + 1,
            tax_code: l.tax_code.clone(),
            tax_basis: l.tax_basis,
            transaction_amount: l.amount,
            transaction_currency_code: inv.currency_code.clone(),
            company: inv.company.clone(),
            mod_date: inv.mod_date,
            ..LedgerRow::default()
        })
        .collect()
}

fn billing_client(st: &DeltekState, inv: &ArInvoice) -> Option<(String, String)> {
    let id = if inv.billing_client_id.is_empty() {
        let p = st.project(&inv.wbs1, "", "")?;
        if p.billing_client_id.is_empty() { p.client_id.clone() } else { p.billing_client_id.clone() }
    } else {
        inv.billing_client_id.clone()
    };
    let name = st.firm(&id).map(|f| f.name.clone()).unwrap_or_default();
    Some((id, name))
}

/// `GET ledger/{type}` and `GET PSALedger/{type}`.
pub fn ledger(st: &DeltekState, call: &Call, trans_type: &str, _psa: bool) -> Result<Reply, ApiError> {
    let mut rows: Vec<Map<String, Value>> =
        st.ledger.iter().filter(|r| r.trans_type.eq_ignore_ascii_case(trans_type)).map(to_object).collect();
    if trans_type.eq_ignore_ascii_case("IN") {
        for inv in &st.ar_invoices {
            rows.extend(invoice_ledger_rows(st, inv).iter().map(to_object));
        }
    }
    Ok(Reply::Rows(apply(rows, &call.params, &columns::<LedgerRow>(), &st.switches)?))
}

/// `ARWBS1InvoiceKey=WBS1|Invoice,...` restriction.
fn key_filter(call: &Call) -> Option<Vec<(String, String)>> {
    let raw = call.params.get("ARWBS1InvoiceKey")?;
    Some(
        raw.split(',')
            .filter_map(|k| k.split_once('|'))
            .map(|(w, i)| (w.trim().to_ascii_lowercase(), i.trim().to_ascii_lowercase()))
            .collect(),
    )
}

fn selected<'a>(st: &'a DeltekState, call: &Call) -> impl Iterator<Item = &'a ArInvoice> {
    let keys = key_filter(call);
    st.ar_invoices.iter().filter(move |inv| {
        keys.as_ref().is_none_or(|ks| {
            ks.iter().any(|(w, i)| {
                *w == inv.wbs1.trim().to_ascii_lowercase() && *i == inv.invoice.trim().to_ascii_lowercase()
            })
        })
    })
}

fn date(d: &Option<chrono::NaiveDateTime>) -> Value {
    json!(d.as_ref().map(fmt_date).unwrap_or_default())
}

const BALANCE_COLS: [&str; 12] = [
    "WBS1",
    "WBS1Name",
    "Company",
    "Invoice",
    "InvoiceDate",
    "CreditMemoRefNo",
    "Balance",
    "OriginalAmt",
    "BillingClientID",
    "BillingClient",
    "DueDate",
    "ModDate",
];

/// `GET ARReview/ARBalance`.
pub fn ar_balance(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let rows = selected(st, call)
        .map(|inv| {
            let (cid, cname) = billing_client(st, inv).unwrap_or_default();
            let total = inv.total();
            let mut m = Map::new();
            m.insert("WBS1".into(), json!(inv.wbs1));
            m.insert(
                "WBS1Name".into(),
                json!(st.project(&inv.wbs1, "", "").map(|p| p.name.clone()).unwrap_or_default()),
            );
            m.insert("Company".into(), json!(inv.company));
            m.insert("Invoice".into(), json!(inv.invoice));
            m.insert("InvoiceDate".into(), date(&inv.invoice_date));
            m.insert("CreditMemoRefNo".into(), json!(inv.credit_memo_ref_no));
            m.insert("Balance".into(), num(inv.balance.unwrap_or(total)));
            m.insert("OriginalAmt".into(), num(total));
            m.insert("BillingClientID".into(), json!(cid));
            m.insert("BillingClient".into(), json!(cname));
            m.insert("DueDate".into(), date(&inv.due_date));
            m.insert("ModDate".into(), date(&inv.mod_date));
            m
        })
        .collect();
    let cols: Vec<String> = BALANCE_COLS.iter().map(|s| s.to_string()).collect();
    Ok(Reply::ArRows(apply(rows, &call.params, &cols, &st.switches)?))
}

const DETAIL_COLS: [&str; 16] = [
    "Invoice",
    "WBS1",
    "WBS2",
    "WBS3",
    "WBS1Name",
    "WBS2Name",
    "WBS3Name",
    "Account",
    "BillClientID",
    "BillClient",
    "BillingGroupWBS1",
    "InvoiceAmount",
    "InvoiceSection",
    "InvoiceDate",
    "Description",
    "ModDate",
];

/// `GET ARReview/ARBalanceDetail`: one row per invoice line.
pub fn ar_balance_detail(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let mut rows = Vec::new();
    for inv in selected(st, call) {
        let (cid, cname) = billing_client(st, inv).unwrap_or_default();
        for l in &inv.lines {
            let name = |w2: &str, w3: &str| st.project(&inv.wbs1, w2, w3).map(|p| p.name.clone()).unwrap_or_default();
            let mut m = Map::new();
            m.insert("Invoice".into(), json!(inv.invoice));
            m.insert("WBS1".into(), json!(inv.wbs1));
            m.insert("WBS2".into(), json!(blank_as_space(&l.wbs2)));
            m.insert("WBS3".into(), json!(blank_as_space(&l.wbs3)));
            m.insert("WBS1Name".into(), json!(name("", "")));
            m.insert(
                "WBS2Name".into(),
                json!(if l.wbs2.trim().is_empty() { String::new() } else { name(&l.wbs2, "") }),
            );
            m.insert(
                "WBS3Name".into(),
                json!(if l.wbs3.trim().is_empty() { String::new() } else { name(&l.wbs2, &l.wbs3) }),
            );
            m.insert("Account".into(), json!(l.account));
            m.insert("BillClientID".into(), json!(cid));
            m.insert("BillClient".into(), json!(cname));
            m.insert("BillingGroupWBS1".into(), json!(inv.wbs1));
            m.insert("InvoiceAmount".into(), num(l.amount));
            m.insert("InvoiceSection".into(), json!(l.invoice_section));
            m.insert("InvoiceDate".into(), date(&inv.invoice_date));
            m.insert("Description".into(), json!(l.description));
            m.insert("ModDate".into(), date(&inv.mod_date));
            rows.push(m);
        }
    }
    let cols: Vec<String> = DETAIL_COLS.iter().map(|s| s.to_string()).collect();
    Ok(Reply::ArRows(apply(rows, &call.params, &cols, &st.switches)?))
}

/// `GET ARReview/ARBalanceDetailCR`: receipts (the paid part of each invoice).
pub fn ar_balance_detail_cr(st: &DeltekState, call: &Call) -> Result<Reply, ApiError> {
    let rows = selected(st, call)
        .filter_map(|inv| {
            let paid = inv.total() - inv.balance.unwrap_or(inv.total());
            if paid.is_zero() {
                return None;
            }
            let mut m = Map::new();
            m.insert("Invoice".into(), json!(inv.invoice));
            m.insert("WBS1".into(), json!(inv.wbs1));
            m.insert("CashReceiptDate".into(), date(&inv.mod_date));
            m.insert("Amount".into(), num(paid));
            m.insert("TransType".into(), json!("CR"));
            m.insert("SubType".into(), json!(" "));
            m.insert("ModDate".into(), date(&inv.mod_date));
            Some(m)
        })
        .collect();
    let cols: Vec<String> = ["Invoice", "WBS1", "CashReceiptDate", "Amount", "TransType", "SubType", "ModDate"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    Ok(Reply::ArRows(apply(rows, &call.params, &cols, &st.switches)?))
}
