//! Purchase orders: the PO behind each invoice line (its number goes onto the Deltek voucher for
//! matching), and the PO export pass.
//!
//! An invoice line carries `order-line-id`, `po-number` and `order-line-num`, so the AP flow
//! needs no extra call to carry the PO number; [`CoupaClient::find_purchase_order`] reads the PO
//! itself (version, lines, totals) when a flow wants more. A new PO version (a revision resent to
//! the supplier) resets `exported` to false \[C\], so the PO pass sees a revised PO again.

use serde_json::Value;

use crate::client::CoupaClient;
use crate::errors::CoupaError;
use crate::invoices::ExportMark;
use crate::model::{Invoice, OrderLine, PurchaseOrder, decode, order_line_fields_text, po_fields};

fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

impl CoupaClient {
    /// One PO (`None`: no such PO). `show_deleted_lines` adds lines removed by revisions.
    pub async fn get_purchase_order(
        &self,
        id: i64,
        show_deleted_lines: bool,
    ) -> Result<Option<PurchaseOrder>, CoupaError> {
        let path = format!("api/purchase_orders/{id}");
        let mut query = q(&[("fields", po_fields())]);
        if show_deleted_lines {
            query.push(("show_deleted_lines".into(), "true".into()));
        }
        match self.get(&path, &query, &format!("purchase order {id}")).await {
            Ok(v) => decode(v, &format!("GET /{path}"), &format!("purchase order {id}")).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A PO by its number (`None`: no such PO).
    pub async fn find_purchase_order(&self, po_number: &str) -> Result<Option<PurchaseOrder>, CoupaError> {
        let found = self.collect("api/purchase_orders", &q(&[("po-number", po_number)]), po_fields()).await?;
        match found.into_iter().next() {
            Some(v) => decode(v, "GET /api/purchase_orders", &format!("purchase order {po_number}")).map(Some),
            None => Ok(None),
        }
    }

    /// One PO line (`None`: no such line).
    pub async fn get_order_line(&self, id: i64) -> Result<Option<OrderLine>, CoupaError> {
        let path = format!("api/purchase_order_lines/{id}");
        match self.get(&path, &q(&[("fields", order_line_fields_text())]), &format!("purchase order line {id}")).await {
            Ok(v) => decode(v, &format!("GET /{path}"), &format!("purchase order line {id}")).map(Some),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The POs an invoice's lines bill, in line order (one read per distinct PO).
    pub async fn purchase_orders_of(&self, invoice: &Invoice) -> Result<Vec<PurchaseOrder>, CoupaError> {
        let mut out = Vec::new();
        for n in invoice.po_numbers() {
            match self.find_purchase_order(&n).await? {
                Some(po) => out.push(po),
                None => {
                    return Err(CoupaError::NotFound {
                        what: format!("purchase order {n} (billed by invoice {})", invoice.invoice_number),
                        call: "GET /api/purchase_orders".into(),
                    });
                }
            }
        }
        Ok(out)
    }

    /// Ids of POs not yet exported (issued ones, and revised ones whose flag was reset).
    pub async fn purchase_order_ids_to_export(&self) -> Result<Vec<i64>, CoupaError> {
        self.collect_ids("api/purchase_orders", &q(&[("exported", "false")])).await
    }

    /// `PUT /api/purchase_orders/{id}?exported=true`, in a request of its own.
    pub async fn mark_purchase_order_exported(&self, id: i64) -> Result<ExportMark, CoupaError> {
        self.mark_exported("api/purchase_orders", "purchase order", id).await
    }

    /// Every PO line a listing filter matches (e.g. one PO's lines by `order-header-id`).
    pub async fn order_lines(&self, filters: &[(String, String)]) -> Result<Vec<OrderLine>, CoupaError> {
        self.collect("api/purchase_order_lines", filters, order_line_fields_text())
            .await?
            .into_iter()
            .map(|v: Value| decode(v, "GET /api/purchase_order_lines", "a purchase order line"))
            .collect()
    }
}
