//! `procore-deltek-vendors`: Procore company vendors (the Directory) → Deltek Vantagepoint vendor
//! firms, created and kept up to date, with the pairing (Procore vendor id → Deltek vendor number)
//! stored as a `vendor` mapping in scope `procore-deltek` — which releases the subcontractor
//! invoices and direct costs waiting for it.
//!
//! **Source** ([`VendorSource`], `<connection>/vendor`): the company's active vendors, changed
//! since the cursor, page by page; `Company Vendors` webhooks are hints, the poll (nightly) the
//! reconciliation.
//!
//! **Finding the firm** ([`VendorFirmTarget`], shared with every vendor flow into Deltek): the
//! stored pairing; else a vendor firm with the vendor's tax id (Procore keeps it in
//! `business_register.identifier`, or `business_id`; there is no `tax_id` field); else a firm
//! with the exact name. A firm found by tax id or name teaches the pairing even when nothing needs
//! writing, so a firm keyed by hand in Deltek is reused, never duplicated.
//!
//! **Creating and updating.** New vendor numbers from the name (`Evergreen Electrical Contractors,
//! LLC` → `EVERELEC`) or, with `vendor_numbers = "source_id"`, from the Procore vendor id; a
//! changed vendor updates only the changed fields; the firm's status is Deltek's to decide.
//! Inactive Procore vendors are skipped (`vendor_inactive`). Nothing is written back to Procore.

use std::sync::Arc;

use mlc_core::connect::BuildError;
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc};
use mlc_core::engine::model::{ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet};
use mlc_deltek::targets::vendor_number_of;
use mlc_deltek::{DeltekConnection, VendorDoc, VendorFirmTarget, VendorNumbers};
use mlc_procore::{PollOptions, ProcoreConnection, Vendor, VendorSource};
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::procore_deltek::{SCOPE, fingerprint};

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "procore-deltek-vendors",
        description: "Procore company vendors → Deltek Vantagepoint vendor firms (created and updated, paired for the AP flows)",
        source_system: "procore",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<VendorOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// Stable skip codes of this flow.
pub mod codes {
    pub const INACTIVE: &str = "vendor_inactive";
}

/// The flow's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VendorOptions {
    /// How new vendor numbers are made: `from_name` or `source_id`.
    pub vendor_numbers: VendorNumbers,
    /// Re-list vendors stamped this close to the cursor, seconds.
    pub overlap_secs: u64,
}

impl Default for VendorOptions {
    fn default() -> Self {
        VendorOptions { vendor_numbers: VendorNumbers::FromName, overlap_secs: 300 }
    }
}

impl VendorOptions {
    pub fn check(&self) -> Result<(), String> {
        if self.overlap_secs > 86_400 {
            return Err(format!("overlap_secs = {} is out of range (0 to 86400)", self.overlap_secs));
        }
        Ok(())
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: VendorOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let procore = ctx.source_connection::<ProcoreConnection>("procore")?.client().clone();
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let poll = PollOptions { overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("vendor", || Ok(VendorSource::new(&conn, procore, poll)))?;
    let target =
        Arc::new(VendorFirmTarget::new(&ctx.settings.target, deltek, opts.vendor_numbers, ctx.engine.sequences()));
    let flow = Vendors { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND) };
    ctx.add(flow, source, target)
}

/// The flow.
pub struct Vendors {
    name: String,
    scope: String,
}

fn version(v: &Vendor) -> String {
    let d = v.to_vendor();
    fingerprint(&(&d.name, &d.tax_id, &d.email, &d.phone, &d.addresses, &d.status))
}

#[async_trait::async_trait]
impl FlowDef for Vendors {
    type Source = VendorSource;
    type Target = VendorFirmTarget;
    type Doc = Arc<Vendor>;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.scope.clone(),
            description: KIND.description.into(),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<Arc<Vendor>>) -> Vec<SourceDoc<Arc<Vendor>>> {
        let v = &record.record;
        let name = v.name.clone().or_else(|| v.legal_name.clone()).unwrap_or_else(|| format!("vendor {}", v.id));
        vec![SourceDoc {
            entity: "vendor".into(),
            id: v.id.to_string(),
            version: version(v),
            summary: ItemSummary { label: format!("vendor {name}"), vendor: Some(name), ..Default::default() },
            record: v.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<Vendor>>) -> Eligibility {
        if doc.record.is_active {
            Eligibility::Eligible
        } else {
            Eligibility::skip(
                codes::INACTIVE,
                format!(
                    "{} is inactive in Procore's directory (its Deltek firm, if any, is left as it is)",
                    doc.summary.label
                ),
            )
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<Vendor>>) -> Vec<MappingKey> {
        vec![MappingKey::new(&self.scope, MappingKind::VENDOR, doc.record.id.to_string())]
    }

    fn map(&self, doc: &SourceDoc<Arc<Vendor>>, set: &MappingSet) -> Result<VendorDoc, MapError> {
        let id = doc.record.id.to_string();
        let paired = set.get(&MappingKey::new(&self.scope, MappingKind::VENDOR, &id)).map(str::to_string);
        let mut vendor = doc.record.to_vendor();
        if vendor.name.trim().is_empty() {
            return Err(MapError::Invalid(format!(
                "Procore vendor {id} has no name: name it in the Directory, then replay"
            )));
        }
        // The Deltek vendor number is decided at write time (pairing, found firm, or a new number).
        vendor.code = paired.clone().unwrap_or_default();
        Ok(VendorDoc { vendor, paired, source_id: id })
    }

    fn plan(&self, _t: &VendorDoc, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            Some(f) if f.up_to_date => Plan::Matched(f.target),
            Some(f) => Plan::Update(f.target),
        }
    }

    fn pairings(&self, doc: &SourceDoc<Arc<Vendor>>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        vec![(MappingKey::new(&self.scope, MappingKind::VENDOR, doc.record.id.to_string()), vendor_number_of(target))]
    }
}
