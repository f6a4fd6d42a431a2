//! A Cin7 purchase as the bill documents it holds, for every flow that posts them (Deltek AP
//! vouchers, Acumatica AP bills).
//!
//! One purchase is one record at the source but several documents for a payables flow: an
//! Advanced purchase carries any number of supplier invoices and credit notes, each with its own
//! task id, number, dates, lines and status (Simple purchases carry one). Each becomes one work
//! item (`<purchase id>/invoice/<task id>`, `<purchase id>/credit-note/<task id>`), so one bill
//! failing never holds the others. A purchase with neither yet is one `…/order` document, which
//! the flows skip as `order_stage` (visible, never silently passed over). Invoices Cin7 reports as
//! `NOT AVAILABLE` (the tab exists, nothing was entered) are not documents.
//!
//! A document's version is a hash of what a bill is made of — the part's own lines, charges,
//! totals and dates, and the purchase fields flows read (supplier, currency, location, tax rule,
//! attributes, order number, voided) — so a change elsewhere on the purchase (a stock receipt, a
//! payment recorded against a PAID invoice) is not a new version to post again.

use std::sync::Arc;

use mlc_core::engine::flow::SourceDoc;
use mlc_core::engine::model::ItemSummary;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{Charge, CreditNote, DocStatus, Invoice, Line, Purchase};

/// Which part of a purchase a document is. (The variant names are part of every document's
/// version: renaming one makes every bill a new version.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum BillPart {
    Invoice(usize),
    CreditNote(usize),
    /// The purchase has no invoice or credit note yet.
    OrderStage,
}

/// One bill document of a purchase.
#[derive(Debug, Clone)]
pub struct PurchaseBill {
    pub purchase: Arc<Purchase>,
    pub part: BillPart,
}

impl PurchaseBill {
    /// The documents of a purchase, each with its id, version and summary.
    pub fn split(p: &Arc<Purchase>) -> Vec<SourceDoc<PurchaseBill>> {
        let mut parts: Vec<(String, &str, BillPart)> = Vec::new();
        for (i, inv) in p.invoices.iter().enumerate() {
            if inv.status != DocStatus::NotAvailable {
                parts.push((format!("{}/invoice/{}", p.id, inv.task_id), "purchase-invoice", BillPart::Invoice(i)));
            }
        }
        for (i, cn) in p.credit_notes.iter().enumerate() {
            if cn.status != DocStatus::NotAvailable {
                let id = format!("{}/credit-note/{}", p.id, cn.task_id);
                parts.push((id, "purchase-credit-note", BillPart::CreditNote(i)));
            }
        }
        if parts.is_empty() {
            parts.push((format!("{}/order", p.id), "purchase", BillPart::OrderStage));
        }
        parts
            .into_iter()
            .map(|(id, entity, part)| {
                let doc = PurchaseBill { purchase: p.clone(), part };
                SourceDoc { entity: entity.into(), id, version: doc.version(), summary: doc.summary(), record: doc }
            })
            .collect()
    }

    pub fn invoice(&self) -> Option<&Invoice> {
        match self.part {
            BillPart::Invoice(i) => self.purchase.invoices.get(i),
            _ => None,
        }
    }

    pub fn credit_note(&self) -> Option<&CreditNote> {
        match self.part {
            BillPart::CreditNote(i) => self.purchase.credit_notes.get(i),
            _ => None,
        }
    }

    /// The document's lines and additional charges (none at order stage).
    pub fn lines_and_charges(&self) -> (&[Line], &[Charge]) {
        match (self.invoice(), self.credit_note()) {
            (Some(i), _) => (&i.lines, &i.additional_charges),
            (_, Some(c)) => (&c.lines, &c.additional_charges),
            _ => (&[], &[]),
        }
    }

    /// A hash of everything a bill is made of (see the module docs).
    pub fn version(&self) -> String {
        #[derive(Serialize)]
        struct Fingerprint<'a> {
            part: &'a BillPart,
            purchase_status: &'a str,
            supplier: &'a Option<String>,
            currency: &'a Option<String>,
            location: &'a Option<String>,
            tax_calculation: &'a Option<String>,
            attributes: &'a std::collections::BTreeMap<String, String>,
            order_number: &'a str,
            invoice: Option<&'a Invoice>,
            credit_note: Option<&'a CreditNote>,
        }
        let p = &self.purchase;
        // Payments change a PAID invoice's record but not the bill: leave them out.
        let invoice = self.invoice().map(|i| Invoice { payments: Vec::new(), paid: None, ..i.clone() });
        let f = Fingerprint {
            part: &self.part,
            purchase_status: if p.is_voided() { "VOIDED" } else { "" },
            supplier: &p.supplier_id,
            currency: &p.currency,
            location: &p.location,
            tax_calculation: &p.tax_calculation,
            attributes: &p.additional_attributes,
            order_number: &p.order_number,
            invoice: invoice.as_ref(),
            credit_note: self.credit_note(),
        };
        let json = serde_json::to_vec(&f).unwrap_or_default();
        Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// What lists show: `invoice INV-1 from Acme (PO-00012)`, the amount (negative for a credit
    /// note), currency and document date.
    pub fn summary(&self) -> ItemSummary {
        let p = &self.purchase;
        let supplier =
            if p.supplier_name.is_empty() { "unknown supplier".to_string() } else { p.supplier_name.clone() };
        let number = |n: &Option<String>| n.clone().unwrap_or_else(|| "(no number)".into());
        let (label, amount, date) = match (self.invoice(), self.credit_note()) {
            (Some(i), _) => (
                format!("invoice {} from {supplier} ({})", number(&i.number), p.order_number),
                i.totals.total,
                i.invoice_date,
            ),
            (_, Some(c)) => (
                format!("credit note {} from {supplier} ({})", number(&c.number), p.order_number),
                c.totals.total.map(|t| -t),
                c.date,
            ),
            _ => (format!("purchase {} from {supplier} (order stage)", p.order_number), None, p.order_date),
        };
        ItemSummary {
            label,
            vendor: Some(supplier),
            project: None,
            amount,
            currency: p.currency.as_deref().and_then(|c| c.parse().ok()),
            document_date: date,
        }
    }
}
