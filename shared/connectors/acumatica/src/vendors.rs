//! Vendors (AP303000, key `VendorID`): the Acumatica side of the two-way supplier sync.
//!
//! - reads: [`AcumaticaClient::list_vendors_changed`] (delta, main contact and address
//!   expanded), [`AcumaticaClient::get_vendor`] (by code), [`AcumaticaClient::get_vendor_by_id`],
//!   [`AcumaticaClient::find_vendors_by_name`] (pairing by name);
//! - writes: [`AcumaticaClient::create_vendor`] is insert-only (`If-None-Match: *`), so a code
//!   taken meanwhile is a clear [`AcumaticaError::Exists`], never an overwrite;
//!   [`AcumaticaClient::create_vendor_once`] looks first and resolves a lost answer by reading the
//!   code back; [`AcumaticaClient::update_vendor`] is update-only (`If-Match: *`) and sends only
//!   the fields given.

use chrono::{DateTime, Utc};

use crate::client::{AcumaticaClient, Precondition, literal, segment};
use crate::errors::AcumaticaError;
use crate::model::{Vendor, VendorDraft, Written, read, read_scan, vendor_from};
use crate::paging::{Scan, ScanSpec};

/// `$expand` of vendor reads.
pub const VENDOR_EXPAND: &str = "MainContact,MainContact/Address";

impl AcumaticaClient {
    /// Vendors changed strictly after `since` (all when `None`), oldest first.
    pub async fn list_vendors_changed(&self, since: Option<DateTime<Utc>>) -> Result<Scan<Vendor>, AcumaticaError> {
        let what = "the vendors changed since the cursor".to_string();
        let spec = ScanSpec {
            entity: "Vendor",
            since,
            filter: None,
            expand: Some(VENDOR_EXPAND),
            select: None,
            page: self.settings().page_size,
            what,
        };
        let scan = self.scan_expanded(&spec).await?;
        read_scan(scan, "GET Vendor", vendor_from)
    }

    /// One vendor by code; `None` when there is none.
    pub async fn get_vendor(&self, vendor_id: &str) -> Result<Option<Vendor>, AcumaticaError> {
        let code = vendor_id.trim();
        let what = format!("vendor {code}");
        let q = [("$expand", VENDOR_EXPAND.to_string())];
        let v = if code.contains('/') {
            let mut q = q.to_vec();
            q.push(("$filter", format!("VendorID eq {}", literal(code))));
            self.list_json("Vendor", &q, &what).await?.into_iter().next()
        } else {
            self.get_json(&format!("Vendor/{}", segment(code)), &q, &what).await?
        };
        v.map(|v| read(&v, "GET Vendor", vendor_from)).transpose()
    }

    /// One vendor by `id` (NoteID); `None` when there is none.
    pub async fn get_vendor_by_id(&self, id: &str) -> Result<Option<Vendor>, AcumaticaError> {
        let q = [("$expand", VENDOR_EXPAND.to_string())];
        let v = self.get_json(&format!("Vendor/{}", segment(id.trim())), &q, &format!("vendor {id}")).await?;
        v.map(|v| read(&v, "GET Vendor", vendor_from)).transpose()
    }

    /// Vendors whose name is exactly `name` (case-insensitive, as the database compares).
    pub async fn find_vendors_by_name(&self, name: &str) -> Result<Vec<Vendor>, AcumaticaError> {
        let q =
            [("$filter", format!("VendorName eq {}", literal(name.trim()))), ("$expand", VENDOR_EXPAND.to_string())];
        let rows = self.list_json("Vendor", &q, &format!("vendors named {name:?}")).await?;
        rows.iter().map(|v| read(v, "GET Vendor", vendor_from)).collect()
    }

    /// Create a vendor, insert-only. A lost answer is [`AcumaticaError::InDoubt`]: read the
    /// code back ([`AcumaticaClient::create_vendor_once`] does).
    pub async fn create_vendor(&self, draft: &VendorDraft) -> Result<Vendor, AcumaticaError> {
        let what = format!("vendor {}", draft.vendor_id);
        let body = draft.to_json(self.contract());
        let q = [("$expand", VENDOR_EXPAND.to_string())];
        let next = format!("read vendor {} (GET Vendor/{}) before creating it again", draft.vendor_id, draft.vendor_id);
        let v = self.put_json("Vendor", &body, &q, Precondition::InsertOnly, &what, &next).await?;
        read(&v, "PUT Vendor", vendor_from)
    }

    /// Create a vendor unless its code is taken: looks first, creates insert-only, and after a
    /// lost answer or a 412 reads the code back.
    pub async fn create_vendor_once(&self, draft: &VendorDraft) -> Result<Written<Vendor>, AcumaticaError> {
        if let Some(v) = self.get_vendor(&draft.vendor_id).await? {
            return Ok(Written::Found(v));
        }
        match self.create_vendor(draft).await {
            Ok(v) => Ok(Written::Created(v)),
            Err(e @ (AcumaticaError::InDoubt { .. } | AcumaticaError::Exists { .. })) => {
                match self.get_vendor(&draft.vendor_id).await? {
                    Some(v) => Ok(Written::Found(v)),
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Change a vendor's given fields (update-only: a vendor deleted meanwhile is a refusal).
    pub async fn update_vendor(&self, draft: &VendorDraft) -> Result<Vendor, AcumaticaError> {
        let what = format!("vendor {}", draft.vendor_id);
        let body = draft.to_json(self.contract());
        let q = [("$expand", VENDOR_EXPAND.to_string())];
        let next = format!("read vendor {} and compare before changing it again", draft.vendor_id);
        let v = self.put_json("Vendor", &body, &q, Precondition::UpdateOnly, &what, &next).await?;
        read(&v, "PUT Vendor", vendor_from)
    }
}
