//! AP bills and adjustments (AP301000, keys `Type` + `ReferenceNbr`): the target of the
//! `cin7-acumatica-bill` flow.
//!
//! - **Natural key**: `Vendor` + `VendorRef` (the supplier's invoice number).
//!   [`AcumaticaClient::find_bills`] is the lookup; [`AcumaticaClient::create_bill_once`] runs it
//!   before every create and again after a lost answer, so a bill is never posted twice.
//!   `ReferenceNbr` is Acumatica's own number, assigned on save: a PUT without it always
//!   inserts, which is why the lookup, not the PUT, guards against duplicates.
//! - **Creates** are insert-only PUTs (`If-None-Match: *`); lines may name a PO line
//!   (`POOrderType`/`POOrderNbr`/`POLine`) and leave item, quantity and cost to Acumatica.
//! - **States**: `Hold=true` lands `On Hold`, `false` lands `Balanced` (or `Pending Approval`);
//!   [`AcumaticaClient::release_bill`] runs `ReleaseBill` as a long operation and confirms
//!   `Open` by reading the bill back; it is idempotent (an already released bill is returned
//!   as it is). Released bills cannot be changed ([`AcumaticaError::NotEditable`]).

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::client::{AcumaticaClient, Precondition, literal, segment};
use crate::errors::AcumaticaError;
use crate::model::{Bill, BillDraft, BillStatus, BillType, Written, bill_from, read, read_scan, wrap};
use crate::paging::{Scan, ScanSpec};

impl AcumaticaClient {
    /// Bills changed strictly after `since`, with their lines, oldest first.
    pub async fn list_bills_changed(&self, since: Option<DateTime<Utc>>) -> Result<Scan<Bill>, AcumaticaError> {
        let spec = ScanSpec {
            entity: "Bill",
            since,
            filter: None,
            expand: Some("Details"),
            select: None,
            page: self.settings().page_size,
            what: "the bills changed since the cursor".into(),
        };
        read_scan(self.scan_expanded(&spec).await?, "GET Bill", bill_from)
    }

    /// One bill by type and number, with its lines.
    pub async fn get_bill(&self, kind: &BillType, reference_nbr: &str) -> Result<Option<Bill>, AcumaticaError> {
        let k = if self.contract().cv5 { kind.code() } else { kind.label() };
        let path = format!("Bill/{}/{}", segment(k), segment(reference_nbr.trim()));
        let v = self.get_json(&path, &[("$expand", "Details".into())], &format!("{kind} {reference_nbr}")).await?;
        v.map(|v| read(&v, "GET Bill", bill_from)).transpose()
    }

    /// One bill by `id`, with its lines.
    pub async fn get_bill_by_id(&self, id: &str) -> Result<Option<Bill>, AcumaticaError> {
        let v = self
            .get_json(&format!("Bill/{}", segment(id.trim())), &[("$expand", "Details".into())], &format!("bill {id}"))
            .await?;
        v.map(|v| read(&v, "GET Bill", bill_from)).transpose()
    }

    /// Every bill or adjustment of `vendor` with supplier invoice number `vendor_ref` (any type,
    /// any status; without lines). The natural-key lookup.
    pub async fn find_bills(&self, vendor: &str, vendor_ref: &str) -> Result<Vec<Bill>, AcumaticaError> {
        let f = format!("Vendor eq {} and VendorRef eq {}", literal(vendor.trim()), literal(vendor_ref.trim()));
        let rows = self
            .list_json("Bill", &[("$filter", f)], &format!("bills of vendor {vendor} with reference {vendor_ref}"))
            .await?;
        rows.iter().map(|v| read(v, "GET Bill", bill_from)).collect()
    }

    fn describe_bill(draft: &BillDraft) -> String {
        format!("{} {} from vendor {}", draft.kind, draft.vendor_ref, draft.vendor)
    }

    /// Create a bill, insert-only. A lost answer is [`AcumaticaError::InDoubt`]: look it up by
    /// vendor and reference ([`AcumaticaClient::create_bill_once`] does).
    pub async fn create_bill(&self, draft: &BillDraft) -> Result<Bill, AcumaticaError> {
        let what = Self::describe_bill(draft);
        let body = draft.to_json(self.contract(), self.settings().branch.as_deref());
        let next = format!(
            "look the bill up by vendor and reference (Vendor eq '{}' and VendorRef eq '{}') before creating it again",
            draft.vendor, draft.vendor_ref
        );
        let v = self
            .put_json("Bill", &body, &[("$expand", "Details".into())], Precondition::InsertOnly, &what, &next)
            .await?;
        read(&v, "PUT Bill", bill_from)
    }

    /// Create a bill unless one of the same type, vendor and reference exists: looks first,
    /// and after a lost answer looks again. [`Written::Found`] hands back what is there, for the
    /// caller to compare (same document, or a different one colliding on the key).
    pub async fn create_bill_once(&self, draft: &BillDraft) -> Result<Written<Bill>, AcumaticaError> {
        let existing =
            |bills: Vec<Bill>| bills.into_iter().find(|b| b.kind == draft.kind && b.status != BillStatus::Voided);
        if let Some(b) = existing(self.find_bills(&draft.vendor, &draft.vendor_ref).await?) {
            return Ok(Written::Found(self.get_bill_by_id(&b.id).await?.unwrap_or(b)));
        }
        match self.create_bill(draft).await {
            Ok(b) => Ok(Written::Created(b)),
            Err(e) if e.is_in_doubt() => match existing(self.find_bills(&draft.vendor, &draft.vendor_ref).await?) {
                Some(b) => Ok(Written::Found(self.get_bill_by_id(&b.id).await?.unwrap_or(b))),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Put a bill on hold or take it off hold (before release).
    pub async fn set_bill_hold(&self, id: &str, hold: bool) -> Result<Bill, AcumaticaError> {
        let current = self.get_bill_by_id(id).await?.ok_or_else(|| gone(id))?;
        let what = format!("{} {}", current.kind, current.reference_nbr);
        if !current.status.editable() {
            return Err(AcumaticaError::NotEditable {
                what,
                status: current.status.to_string(),
                fix: Some(
                    "a released bill is changed in Acumatica by a person (reverse it, or add an adjustment)".into(),
                ),
            });
        }
        let body = json!({ "id": id, "Hold": wrap(hold) });
        let v = self
            .put_json(
                "Bill",
                &body,
                &[("$expand", "Details".into())],
                Precondition::UpdateOnly,
                &what,
                "read the bill again and compare its Hold",
            )
            .await?;
        read(&v, "PUT Bill", bill_from)
    }

    /// Release a balanced bill (`ReleaseBill`, a long operation) and read it back. A bill already
    /// released is returned as it is; one on hold or pending approval is refused, naming why.
    pub async fn release_bill(&self, id: &str) -> Result<Bill, AcumaticaError> {
        let current = self.get_bill_by_id(id).await?.ok_or_else(|| gone(id))?;
        let what = format!("{} {}", current.kind, current.reference_nbr);
        if current.status.released() {
            return Ok(current);
        }
        if current.status != BillStatus::Balanced {
            return Err(AcumaticaError::NotEditable {
                what,
                status: current.status.to_string(),
                fix: Some(match current.status {
                    BillStatus::OnHold => "take it off hold first (hold = false), then release".into(),
                    BillStatus::PendingApproval => {
                        "it waits for approval in Acumatica; release after it is approved".into()
                    }
                    _ => "only a Balanced bill can be released".into(),
                }),
            });
        }
        self.action("Bill", "ReleaseBill", json!({ "id": id }), &what).await?;
        let after = self.get_bill_by_id(id).await?.ok_or_else(|| gone(id))?;
        if !after.status.released() {
            return Err(AcumaticaError::LongOperation {
                action: "ReleaseBill".into(),
                what,
                detail: format!("finished but the bill is {}", after.status),
                running: false,
            });
        }
        Ok(after)
    }
}

fn gone(id: &str) -> AcumaticaError {
    AcumaticaError::Refused {
        what: format!("bill {id}"),
        call: "GET Bill".into(),
        status: 500,
        words: "No entity satisfies the condition.".into(),
        fix: Some("the bill was deleted in Acumatica".into()),
    }
}
