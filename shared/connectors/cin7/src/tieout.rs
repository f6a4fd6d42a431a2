//! Supplier invoices dated in a period, for the controller's tie-out (`mlc tieout`): what Cin7
//! itself holds, not what ml-connector recorded.
//!
//! Cost: `purchaseList` pages of 1,000 rows carry the invoice number, date, status and amount of
//! Simple and Service purchases, so those cost nothing more. An Advanced purchase may hold several
//! invoices but its list row shows one, so each Advanced purchase with an invoice is read once
//! (`advanced-purchase`). The list is not filtered by date on Cin7's side (its filters are by
//! change time), so every page is read: about `purchases / 1000 + advanced purchases` calls.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::client::Cin7Client;
use crate::errors::Cin7Error;
use crate::model::{DocStatus, PurchaseType};

/// One supplier invoice Cin7 holds, dated in the period asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodInvoice {
    pub purchase_id: String,
    pub order_number: String,
    pub supplier_id: Option<String>,
    pub supplier_name: String,
    pub number: Option<String>,
    pub invoice_date: NaiveDate,
    pub status: DocStatus,
    /// Supplier currency.
    pub total: Option<Decimal>,
    pub currency: Option<String>,
    /// The purchase is voided (its invoices count for nothing).
    pub voided: bool,
}

impl PeriodInvoice {
    /// Authorised or paid, on a purchase that is not voided: what should be in AP.
    pub fn approved(&self) -> bool {
        !self.voided && matches!(self.status, DocStatus::Authorised | DocStatus::Paid)
    }
}

impl Cin7Client {
    /// Every supplier invoice dated `from..=to`, whatever its status (see [`PeriodInvoice::approved`]).
    pub async fn invoices_between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<PeriodInvoice>, Cin7Error> {
        const LIMIT: u32 = 1000;
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p = self.list_purchases_changed(None, page, LIMIT).await?;
            let more = p.has_more(LIMIT);
            for s in p.items {
                let voided = s.status.to_ascii_uppercase().contains("VOID");
                if s.kind == PurchaseType::Advanced {
                    if s.invoice_number.is_none() && s.invoice_date.is_none() {
                        continue;
                    }
                    let Some(full) = self.get_purchase(&s.id).await? else { continue };
                    for inv in &full.invoices {
                        let Some(d) = inv.invoice_date.filter(|d| (from..=to).contains(d)) else { continue };
                        out.push(PeriodInvoice {
                            purchase_id: full.id.clone(),
                            order_number: full.order_number.clone(),
                            supplier_id: full.supplier_id.clone(),
                            supplier_name: full.supplier_name.clone(),
                            number: inv.number.clone(),
                            invoice_date: d,
                            status: inv.status.clone(),
                            total: inv.totals.total,
                            currency: full.currency.clone(),
                            voided,
                        });
                    }
                    continue;
                }
                let Some(d) = s.invoice_date.filter(|d| (from..=to).contains(d)) else { continue };
                out.push(PeriodInvoice {
                    purchase_id: s.id.clone(),
                    order_number: s.order_number.clone(),
                    supplier_id: s.supplier_id.clone(),
                    supplier_name: s.supplier_name.clone(),
                    number: s.invoice_number.clone(),
                    invoice_date: d,
                    status: s.invoice_status.clone(),
                    total: s.invoice_amount,
                    currency: s.supplier_currency.clone(),
                    voided,
                });
            }
            if !more {
                return Ok(out);
            }
            page += 1;
        }
    }
}
