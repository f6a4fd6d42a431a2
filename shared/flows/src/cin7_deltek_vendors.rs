//! `cin7-deltek-vendors`: Cin7 Core suppliers → Deltek Vantagepoint vendor firms, created and
//! kept up to date, with the pairing (Cin7 supplier id → Deltek vendor number) stored as a
//! `vendor` mapping in scope `cin7-deltek` — which releases AP invoices waiting for it.
//!
//! **Finding the firm.** In order: the stored pairing (the vendor number we created or learnt);
//! a firm with the supplier's tax number; a firm with the supplier's exact name (case-insensitive).
//! A firm found by tax number or name teaches the pairing even when nothing needs writing, so a
//! vendor keyed by hand in Deltek is reused, never duplicated.
//!
//! **Parts.** Source: [`SupplierSource`] (shared with every flow reading Cin7 suppliers on the
//! same connection). Target: [`VendorFirmTarget`] (shared with every vendor flow into Deltek): it
//! finds, creates and updates the firm; this file says which suppliers go and how they map.
//!
//! **Creating.** New vendor numbers follow the usual Vantagepoint style: up to 8 capitals from
//! the name's words (`Cascade Land Surveying LLC` → `CASCLAND`), legal suffixes dropped; when
//! taken by another firm, a two-digit suffix is tried (`CASCLA01`…). Option `vendor_numbers =
//! "supplier_id"` uses the Cin7 supplier id's first 8 characters instead.
//!
//! **Updating.** A changed supplier (name, tax id, addresses, contact) updates the firm; only
//! changed fields are sent. The firm's status is Deltek's to decide: an update never
//! re-activates a vendor someone deactivated there. Deprecated suppliers are skipped (the firm is left alone: Deltek may
//! hold history against it). Nothing is ever written back to Cin7.

use std::sync::Arc;

use mlc_cin7::{Cin7Connection, ListOptions, Supplier, SupplierSource};
use mlc_core::connect::BuildError;
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc};
use mlc_core::engine::model::{ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet};
use mlc_deltek::targets::vendor_number_of;
use mlc_deltek::{DeltekConnection, VendorDoc, VendorFirmTarget, VendorNumbers};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::cin7_deltek_ap::SCOPE;

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "cin7-deltek-vendors",
        description: "Cin7 Core suppliers → Deltek Vantagepoint vendor firms (created and updated)",
        source_system: "cin7",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<VendorOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// Stable skip codes of this flow.
pub mod codes {
    pub const DEPRECATED: &str = "supplier_deprecated";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VendorOptions {
    /// How new vendor numbers are made: `from_name` or `supplier_id`.
    pub vendor_numbers: VendorNumbers,
    pub page_size: u32,
    /// Re-list suppliers stamped this close to the cursor, seconds.
    pub overlap_secs: u64,
}

impl VendorOptions {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.page_size) {
            return Err(format!("page_size = {} is out of range (1 to 1000)", self.page_size));
        }
        Ok(())
    }
}

impl Default for VendorOptions {
    fn default() -> Self {
        VendorOptions { vendor_numbers: VendorNumbers::FromName, page_size: 250, overlap_secs: 120 }
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: VendorOptions = ctx.options()?;
    let cin7 = ctx.source_connection::<Cin7Connection>("cin7")?.client.clone();
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let list = ListOptions { page_size: opts.page_size, overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("supplier", || Ok(SupplierSource::new(&conn, cin7, list)))?;
    let target =
        Arc::new(VendorFirmTarget::new(&ctx.settings.target, deltek, opts.vendor_numbers, ctx.engine.sequences()));
    let flow = Cin7DeltekVendors { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND) };
    ctx.add(flow, source, target)
}

pub struct Cin7DeltekVendors {
    name: String,
    scope: String,
}

fn fingerprint(s: &Supplier) -> String {
    let v = s.to_vendor();
    let json = serde_json::to_vec(&(
        &v.name,
        &v.tax_id,
        &v.currency,
        &v.payment_terms,
        &v.email,
        &v.phone,
        &v.addresses,
        &v.status,
    ))
    .unwrap_or_default();
    Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[async_trait::async_trait]
impl FlowDef for Cin7DeltekVendors {
    type Source = SupplierSource;
    type Target = VendorFirmTarget;
    type Doc = Arc<Supplier>;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.scope.clone(),
            description: KIND.description.into(),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<Arc<Supplier>>) -> Vec<SourceDoc<Arc<Supplier>>> {
        let s = &record.record;
        vec![SourceDoc {
            entity: "supplier".into(),
            id: s.id.clone(),
            version: fingerprint(s),
            summary: ItemSummary {
                label: format!("supplier {}", s.name),
                vendor: Some(s.name.clone()),
                ..Default::default()
            },
            record: s.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<Supplier>>) -> Eligibility {
        if doc.record.is_active() {
            Eligibility::Eligible
        } else {
            Eligibility::skip(
                codes::DEPRECATED,
                "supplier is deprecated in Cin7 (its Deltek firm, if any, is left as it is)",
            )
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<Supplier>>) -> Vec<MappingKey> {
        vec![MappingKey::new(&self.scope, MappingKind::VENDOR, &doc.record.id)]
    }

    fn map(&self, doc: &SourceDoc<Arc<Supplier>>, set: &MappingSet) -> Result<VendorDoc, MapError> {
        let paired = set.get(&MappingKey::new(&self.scope, MappingKind::VENDOR, &doc.record.id)).map(str::to_string);
        let mut vendor = doc.record.to_vendor();
        if vendor.name.trim().is_empty() {
            return Err(MapError::Invalid(format!("Cin7 supplier {} has no name", doc.record.id)));
        }
        // The Deltek vendor number is decided at write time (pairing, found firm, or new number).
        vendor.code = paired.clone().unwrap_or_default();
        Ok(VendorDoc { vendor, paired, source_id: doc.record.id.clone() })
    }

    fn plan(&self, _t: &VendorDoc, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            Some(f) if f.up_to_date => Plan::Matched(f.target),
            Some(f) => Plan::Update(f.target),
        }
    }

    fn pairings(&self, doc: &SourceDoc<Arc<Supplier>>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        vec![(MappingKey::new(&self.scope, MappingKind::VENDOR, &doc.record.id), vendor_number_of(target))]
    }
}
