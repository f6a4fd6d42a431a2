//! Supplier invoices and credit notes dated in a period, for the controller's tie-out
//! (`mlc tieout`): what Cin7 itself holds, not what ml-connector recorded. Implements
//! [`TieoutReader`] for [`Cin7Connection`].
//!
//! Cost: `purchaseList` pages of 1,000 rows carry the invoice number, date, status and amount of
//! Simple and Service purchases, so those cost nothing more. The list row names no credit note
//! amount or date and shows one invoice of an Advanced purchase, so each purchase with a credit
//! note and each Advanced purchase with an invoice is read once (`purchase` / `advanced-purchase`,
//! which also give their lines). The list is not filtered by date on Cin7's side (its filters are
//! by change time), so every page is read: about `purchases / 1000 + advanced purchases +
//! purchases with credit notes` calls.
//!
//! **Lines.** The list carries no lines, so a Simple purchase's GL accounts and project are known
//! only when it is read in full: with [`TieoutOptions::lines`] every purchase with an invoice
//! dated in the period is read (one call each, at Cin7's 60 calls a minute); without it the
//! documents read in full anyway carry lines and the rest do not ([`TieoutReader::limits`] says
//! so). Lines are coded as `cin7-deltek-ap` maps them: the line's (or charge's) account code, and
//! the project key from `project_source` / `project_attribute` (default `AdditionalAttribute1`).
//!
//! **Credit notes** are their own documents (`<purchase>/credit-note/<task>`), negative, numbered
//! in the target as the flow numbers them (`CN-<number>` unless it starts with `CN`).

use async_trait::async_trait;
use chrono::NaiveDate;
use mlc_core::tieout::{SourceDocument, SourceLine, TieoutError, TieoutOptions, TieoutReader};
use rust_decimal::Decimal;

use crate::client::Cin7Client;
use crate::connection::Cin7Connection;
use crate::errors::Cin7Error;
use crate::model::{Charge, DocStatus, Line, Purchase, PurchaseSummary, PurchaseType};

/// What should be in AP: authorised or paid, on a purchase that is not voided.
fn approved(status: &DocStatus, voided: bool) -> bool {
    !voided && matches!(status, DocStatus::Authorised | DocStatus::Paid)
}

fn status_text(s: &DocStatus) -> String {
    match s {
        DocStatus::NotAvailable => "not available".into(),
        DocStatus::Draft => "draft".into(),
        DocStatus::Authorised => "authorised".into(),
        DocStatus::Paid => "paid".into(),
        DocStatus::Voided => "voided".into(),
        DocStatus::Other(o) => o.to_ascii_lowercase(),
    }
}

/// The number `cin7-deltek-ap` gives a credit note in the target.
pub fn credit_note_number(n: &str) -> String {
    let t = n.trim();
    if t.to_ascii_uppercase().starts_with("CN") { t.to_string() } else { format!("CN-{t}") }
}

/// The project key of a purchase as `cin7-deltek-ap`'s `project_source` reads it.
fn project_key(p: &Purchase, opts: &TieoutOptions) -> Option<String> {
    let key = match opts.text("project_source").unwrap_or("attribute") {
        "none" => None,
        "location" => p.location.clone(),
        "supplier" => p.supplier_id.clone(),
        _ => {
            let attr = opts.text("project_attribute").unwrap_or("AdditionalAttribute1");
            p.additional_attributes.iter().find(|(k, _)| k.eq_ignore_ascii_case(attr)).map(|(_, v)| v.clone())
        }
    };
    key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty())
}

fn lines_of(lines: &[Line], charges: &[Charge], project: &Option<String>, sign: Decimal) -> Vec<SourceLine> {
    let l = lines.iter().map(|l| (l.account.clone(), l.total));
    let c = charges.iter().map(|c| (c.account.clone(), c.total));
    l.chain(c)
        .filter_map(|(account, total)| {
            let amount = total? * sign;
            (!amount.is_zero()).then(|| SourceLine { account, posted_account: None, project: project.clone(), amount })
        })
        .collect()
}

/// The documents of a purchase read in full, dated `from..=to`.
fn from_full(p: &Purchase, from: NaiveDate, to: NaiveDate, voided: bool, opts: &TieoutOptions) -> Vec<SourceDocument> {
    let project = project_key(p, opts);
    let mut out = Vec::new();
    for inv in &p.invoices {
        let Some(d) = inv.invoice_date.filter(|d| (from..=to).contains(d)) else { continue };
        out.push(SourceDocument {
            doc_id: format!("{}/invoice/{}", p.id, inv.task_id),
            record: p.id.clone(),
            number: inv.number.clone(),
            target_number: None,
            vendor_id: p.supplier_id.clone(),
            vendor_name: p.supplier_name.clone(),
            date: d,
            amount: inv.totals.total,
            currency: p.currency.clone(),
            credit: false,
            approved: approved(&inv.status, voided),
            status: status_text(&inv.status),
            lines: Some(lines_of(&inv.lines, &inv.additional_charges, &project, Decimal::ONE)),
            note: None,
        });
    }
    for cn in &p.credit_notes {
        let Some(d) = cn.date.filter(|d| (from..=to).contains(d)) else { continue };
        out.push(SourceDocument {
            doc_id: format!("{}/credit-note/{}", p.id, cn.task_id),
            record: p.id.clone(),
            number: cn.number.clone(),
            target_number: cn.number.as_deref().map(credit_note_number),
            vendor_id: p.supplier_id.clone(),
            vendor_name: p.supplier_name.clone(),
            date: d,
            amount: cn.totals.total.map(|t| -t.abs()),
            currency: p.currency.clone(),
            credit: true,
            approved: approved(&cn.status, voided),
            status: status_text(&cn.status),
            lines: Some(lines_of(&cn.lines, &cn.additional_charges, &project, Decimal::NEGATIVE_ONE)),
            note: None,
        });
    }
    out
}

/// A Simple or Service purchase's invoice from its list row alone (no lines).
fn from_row(s: &PurchaseSummary, d: NaiveDate, voided: bool) -> SourceDocument {
    SourceDocument {
        // Simple purchases: the invoice task id is the purchase id.
        doc_id: format!("{}/invoice/{}", s.id, s.id),
        record: s.id.clone(),
        number: s.invoice_number.clone(),
        target_number: None,
        vendor_id: s.supplier_id.clone(),
        vendor_name: s.supplier_name.clone(),
        date: d,
        amount: s.invoice_amount,
        currency: s.supplier_currency.clone(),
        credit: false,
        approved: approved(&s.invoice_status, voided),
        status: status_text(&s.invoice_status),
        lines: None,
        note: None,
    }
}

impl Cin7Client {
    /// Every supplier invoice and credit note dated `from..=to`, whatever its status.
    pub async fn documents_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
    ) -> Result<Vec<SourceDocument>, Cin7Error> {
        const LIMIT: u32 = 1000;
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p = self.list_purchases_changed(None, page, LIMIT).await?;
            let more = p.has_more(LIMIT);
            for s in p.items {
                let voided = s.status.to_ascii_uppercase().contains("VOID");
                let has_credit = s.credit_note_number.is_some()
                    || !matches!(s.credit_note_status, DocStatus::NotAvailable | DocStatus::Other(_));
                let invoiced = s.invoice_number.is_some() || s.invoice_date.is_some();
                let in_period = s.invoice_date.filter(|d| (from..=to).contains(d));
                let full =
                    has_credit || (s.kind == PurchaseType::Advanced && invoiced) || (opts.lines && in_period.is_some());
                if full {
                    let Some(p) = self.get_purchase(&s.id).await? else { continue };
                    out.extend(from_full(&p, from, to, voided, opts));
                } else if let Some(d) = in_period {
                    out.push(from_row(&s, d, voided));
                }
            }
            if !more {
                return Ok(out);
            }
            page += 1;
        }
    }
}

#[async_trait]
impl TieoutReader for Cin7Connection {
    fn system_name(&self) -> &'static str {
        "Cin7 Core"
    }

    fn limits(&self, opts: &TieoutOptions) -> Vec<String> {
        if opts.lines {
            Vec::new()
        } else {
            vec![
                "Cin7's purchase list carries no lines: GL accounts and projects are shown for the purchases read in full \
                 (Advanced purchases, credit notes) only. Read every purchase's lines with \"lines\" (one Cin7 call per \
                 purchase, at 60 a minute)."
                    .into(),
            ]
        }
    }

    async fn documents_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
    ) -> Result<Vec<SourceDocument>, TieoutError> {
        self.client.documents_between(from, to, opts).await.map_err(|e| TieoutError::new("Cin7 Core", e))
    }
}
