//! Purchase orders (PO301000, keys `Type` + `OrderNbr`): the target of `cin7-acumatica-po` and
//! the source of `acumatica-cin7-po`.
//!
//! - **Natural key**: vendor + the Cin7 order number, kept in the PO's `VendorRef` by default
//!   (setting `po_reference_field`: `VendorRef` or `Description`). `VendorRef` is filterable,
//!   shown on the form and rarely edited by people; `OrderNbr` is Acumatica's own number.
//!   [`AcumaticaClient::find_purchase_orders`] is the lookup; [`AcumaticaClient::create_purchase_order_once`]
//!   runs it before the create and again after a lost answer.
//! - **Changes** ([`AcumaticaClient::update_purchase_order`]) are sent only while Acumatica
//!   still takes them (On Hold, Open, approval states): the current status is read first and a
//!   completed, closed or canceled order is [`AcumaticaError::NotEditable`] without a call; a
//!   422 saying the same (the status moved meanwhile) becomes that error too.
//!   [`crate::model::plan_line_changes`] turns the wanted lines into line changes.

use chrono::{DateTime, Utc};

use crate::client::{AcumaticaClient, Precondition, literal, segment};
use crate::errors::AcumaticaError;
use crate::model::{PoDraft, PoType, PoUpdate, PurchaseOrder, Written, purchase_order_from, read, read_scan};
use crate::paging::{Scan, ScanSpec};

impl AcumaticaClient {
    /// Purchase orders changed strictly after `since`, with their lines, oldest first.
    pub async fn list_purchase_orders_changed(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Scan<PurchaseOrder>, AcumaticaError> {
        let spec = ScanSpec {
            entity: "PurchaseOrder",
            since,
            filter: None,
            expand: Some("Details"),
            select: None,
            page: self.settings().page_size,
            what: "the purchase orders changed since the cursor".into(),
        };
        read_scan(self.scan_expanded(&spec).await?, "GET PurchaseOrder", purchase_order_from)
    }

    /// One purchase order by type and number, with its lines.
    pub async fn get_purchase_order(
        &self,
        kind: &PoType,
        order_nbr: &str,
    ) -> Result<Option<PurchaseOrder>, AcumaticaError> {
        let k = if self.contract().cv5 { kind.code() } else { kind.label() };
        let path = format!("PurchaseOrder/{}/{}", segment(k), segment(order_nbr.trim()));
        let v = self.get_json(&path, &[("$expand", "Details".into())], &format!("purchase order {order_nbr}")).await?;
        v.map(|v| read(&v, "GET PurchaseOrder", purchase_order_from)).transpose()
    }

    /// One purchase order by `id`, with its lines.
    pub async fn get_purchase_order_by_id(&self, id: &str) -> Result<Option<PurchaseOrder>, AcumaticaError> {
        let path = format!("PurchaseOrder/{}", segment(id.trim()));
        let v = self.get_json(&path, &[("$expand", "Details".into())], &format!("purchase order {id}")).await?;
        v.map(|v| read(&v, "GET PurchaseOrder", purchase_order_from)).transpose()
    }

    /// Purchase orders of `vendor` carrying `reference` (the Cin7 order number) in the
    /// configured field (without lines). The natural-key lookup.
    pub async fn find_purchase_orders(
        &self,
        vendor: &str,
        reference: &str,
    ) -> Result<Vec<PurchaseOrder>, AcumaticaError> {
        let field = self.settings().po_reference_field.field();
        let f = format!("VendorID eq {} and {field} eq {}", literal(vendor.trim()), literal(reference.trim()));
        let what = format!("purchase orders of vendor {vendor} with {field} {reference}");
        let rows = self.list_json("PurchaseOrder", &[("$filter", f)], &what).await?;
        rows.iter().map(|v| read(v, "GET PurchaseOrder", purchase_order_from)).collect()
    }

    fn describe_po(draft: &PoDraft) -> String {
        match &draft.reference {
            Some(r) => format!("purchase order for {r} from vendor {}", draft.vendor_id),
            None => format!("purchase order from vendor {}", draft.vendor_id),
        }
    }

    /// Create a purchase order, insert-only. A lost answer is [`AcumaticaError::InDoubt`].
    pub async fn create_purchase_order(&self, draft: &PoDraft) -> Result<PurchaseOrder, AcumaticaError> {
        let what = Self::describe_po(draft);
        let field = self.settings().po_reference_field.field();
        let body = draft.to_json(self.contract(), field, self.settings().branch.as_deref());
        let next = match &draft.reference {
            Some(r) => {
                format!("look the order up by vendor and {field} ({} / {r}) before creating it again", draft.vendor_id)
            }
            None => "look the order up before creating it again".to_string(),
        };
        let v = self
            .put_json("PurchaseOrder", &body, &[("$expand", "Details".into())], Precondition::InsertOnly, &what, &next)
            .await?;
        read(&v, "PUT PurchaseOrder", purchase_order_from)
    }

    /// Create a purchase order unless one of the vendor already carries the reference: looks
    /// first and again after a lost answer. Needs `reference`.
    pub async fn create_purchase_order_once(&self, draft: &PoDraft) -> Result<Written<PurchaseOrder>, AcumaticaError> {
        let Some(reference) = draft.reference.as_deref() else {
            return Err(AcumaticaError::Unexpected {
                call: "create_purchase_order_once".into(),
                detail: "a purchase order without a reference cannot be looked up before it is created".into(),
                fix: Some("set the draft's reference (the Cin7 order number)".into()),
            });
        };
        let existing = |pos: Vec<PurchaseOrder>| pos.into_iter().find(|p| p.kind == draft.kind);
        if let Some(p) = existing(self.find_purchase_orders(&draft.vendor_id, reference).await?) {
            return Ok(Written::Found(self.get_purchase_order_by_id(&p.id).await?.unwrap_or(p)));
        }
        match self.create_purchase_order(draft).await {
            Ok(p) => Ok(Written::Created(p)),
            Err(e) if e.is_in_doubt() => {
                match existing(self.find_purchase_orders(&draft.vendor_id, reference).await?) {
                    Some(p) => Ok(Written::Found(self.get_purchase_order_by_id(&p.id).await?.unwrap_or(p))),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Change a purchase order while Acumatica allows it (see the module docs).
    pub async fn update_purchase_order(&self, id: &str, update: &PoUpdate) -> Result<PurchaseOrder, AcumaticaError> {
        let current = self.get_purchase_order_by_id(id).await?.ok_or_else(|| AcumaticaError::Refused {
            what: format!("purchase order {id}"),
            call: "GET PurchaseOrder".into(),
            status: 500,
            words: "No entity satisfies the condition.".into(),
            fix: Some("the order was deleted in Acumatica".into()),
        })?;
        let what = format!("purchase order {} {}", current.kind, current.order_nbr);
        let not_editable = |status: String| AcumaticaError::NotEditable {
            what: what.clone(),
            status,
            fix: Some("the change must be made in Acumatica by a person (or on a new order)".into()),
        };
        if !current.status.editable() {
            return Err(not_editable(current.status.to_string()));
        }
        if update.is_empty() {
            return Ok(current);
        }
        let body = update.to_json(self.contract(), id);
        match self
            .put_json(
                "PurchaseOrder",
                &body,
                &[("$expand", "Details".into())],
                Precondition::UpdateOnly,
                &what,
                "read the order again and compare",
            )
            .await
        {
            Ok(v) => read(&v, "PUT PurchaseOrder", purchase_order_from),
            Err(AcumaticaError::Validation { entity: Some(e), .. }) if e.contains("because its status is") => {
                let status = e.rsplit("status is ").next().unwrap_or("").trim_end_matches('.').to_string();
                Err(not_editable(status))
            }
            Err(e) => Err(e),
        }
    }
}
