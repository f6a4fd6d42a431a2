//! `coupa-deltek-vendors`: Coupa suppliers → Deltek Vantagepoint vendor firms (created and kept up
//! to date), with the pairing (Coupa supplier id → Deltek vendor number) stored as a `vendor`
//! mapping in scope `coupa-deltek` — which releases AP invoices waiting for it.
//!
//! **Source** ([`SupplierSource`], `<coupa connection>/supplier`). Coupa suppliers have no export
//! flag, so they are synced by `updated-at` watermark (the shared since+page cursor, with an
//! overlap for late commits) and by `supplier.updated` webhooks. Each supplier is read back with
//! its remit-to addresses and, unless `read_supplier_information = false`, its supplier
//! information (`federal-tax-num`: Coupa keeps tax and bank data there, not on the supplier).
//!
//! **What a firm gets.** Name; tax id (supplier information's federal tax number, else the
//! supplier's `tax-id`); primary contact's email and phone; the primary address; the active
//! remit-to address as the firm's payment address (a changed remit-to in Coupa updates it); the
//! payment terms (mapping kind `terms`, Coupa term code → Deltek terms, else Coupa's text —
//! the Deltek target keeps them with the vendor for the vouchers; see NOTES for what Vantagepoint
//! stores). The firm's status stays Deltek's decision.
//!
//! **Finding the firm** ([`VendorFirmTarget`]): the stored pairing, else a firm with the same tax
//! number, else one with the exact name — a vendor keyed by hand in Deltek is reused and its
//! pairing learnt, never duplicated. Pairing alone writes nothing (the firm keeps Deltek's own
//! spelling); afterwards only fields whose Coupa value changed since the last sync are sent (the
//! target remembers the supplier as last synced, per supplier and Deltek connection), so a
//! remit-to changed in Coupa moves the firm's payment address and Deltek's own edits stay. New vendor numbers follow `vendor_numbers` (`from_name`:
//! `Cascadia Structural Engineers` → `CASCSTRU`; `supplier_id`: the Coupa supplier number).
//!
//! **Eligibility** ([`codes`]): `active` suppliers sync; `draft` ones wait until Coupa activates
//! them (`supplier_draft`); `inactive` ones are left alone (`supplier_inactive`: Deltek may hold
//! history against the firm). Nothing is written to Coupa.

use std::sync::Arc;

use mlc_core::connect::BuildError;
use mlc_core::domain::{Address, AddressKind, SourceRef, Status, Vendor};
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc};
use mlc_core::engine::model::{ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use mlc_coupa::CoupaConnection;
use mlc_coupa::sources::{SupplierListOptions, SupplierRecord, SupplierSource};
use mlc_deltek::targets::vendor_number_of;
use mlc_deltek::{DeltekConnection, VendorDoc, VendorFirmTarget, VendorNumbers};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::coupa_deltek_ap::SCOPE;

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "coupa-deltek-vendors",
        description: "Coupa suppliers → Deltek Vantagepoint vendor firms (tax id, remit-to, terms; created and updated)",
        source_system: "coupa",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<VendorOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// Stable skip codes of this flow.
pub mod codes {
    pub const DRAFT: &str = "supplier_draft";
    pub const INACTIVE: &str = "supplier_inactive";
    pub const OTHER_STATUS: &str = "supplier_status";
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VendorOptions {
    /// How new vendor numbers are made: `from_name` or `supplier_id` (the Coupa supplier number).
    pub vendor_numbers: VendorNumbers,
    /// Read each supplier's supplier information (federal tax number).
    pub read_supplier_information: bool,
    /// How far back the first poll looks, days (0 = every supplier).
    pub initial_lookback_days: u32,
    pub page_size: u32,
    /// Re-list suppliers stamped this close to the watermark, seconds.
    pub overlap_secs: u64,
}

impl VendorOptions {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=50).contains(&self.page_size) {
            return Err(format!(
                "page_size = {} is out of range (1 to 50; Coupa pages hold at most 50)",
                self.page_size
            ));
        }
        Ok(())
    }
}

impl Default for VendorOptions {
    fn default() -> Self {
        VendorOptions {
            vendor_numbers: VendorNumbers::FromName,
            read_supplier_information: true,
            initial_lookback_days: 0,
            page_size: 50,
            overlap_secs: 120,
        }
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: VendorOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let coupa = ctx.source_connection::<CoupaConnection>("coupa")?.client().clone();
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let list = SupplierListOptions {
        page_size: opts.page_size,
        overlap: chrono::Duration::seconds(opts.overlap_secs as i64),
        read_information: opts.read_supplier_information,
    };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("supplier", || Ok(SupplierSource::new(&conn, coupa, list)))?;
    let target =
        Arc::new(VendorFirmTarget::new(&ctx.settings.target, deltek, opts.vendor_numbers, ctx.engine.sequences()));
    let flow = CoupaDeltekVendors { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND), opts };
    ctx.add(flow, source, target)
}

pub struct CoupaDeltekVendors {
    name: String,
    scope: String,
    opts: VendorOptions,
}

fn address(kind: AddressKind, a: &mlc_coupa::Address) -> Option<Address> {
    let lines: Vec<String> =
        [&a.street1, &a.street2].iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if lines.is_empty() && a.city.trim().is_empty() {
        return None;
    }
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    Some(Address {
        kind,
        lines,
        city: text(&a.city),
        state: text(&a.state),
        postcode: text(&a.postal_code),
        country: a.country.as_ref().and_then(|c| text(&c.code).or_else(|| text(&c.name))),
    })
}

/// The supplier as a vendor (its `code` is decided at write time).
pub fn to_vendor(r: &SupplierRecord, terms: Option<String>) -> Vendor {
    let s = &r.supplier;
    let tax_id = r
        .information
        .as_ref()
        .and_then(|i| i.federal_tax_num.clone())
        .or_else(|| s.tax_id.clone())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let contact = s.primary_contact.as_ref();
    let mut addresses = Vec::new();
    if let Some(a) = s.primary_address.as_ref().and_then(|a| address(AddressKind::Main, a)) {
        addresses.push(a);
    }
    if let Some(a) = s.remit_to().and_then(|r| address(AddressKind::RemitTo, &r.address)) {
        addresses.push(a);
    }
    Vendor {
        source: Some(SourceRef {
            system: "coupa".into(),
            entity: "supplier".into(),
            id: s.id.to_string(),
            version: s.version().unwrap_or_default(),
        }),
        code: String::new(),
        name: s.name.trim().to_string(),
        tax_id,
        currency: None,
        payment_terms: terms,
        email: contact.and_then(|c| c.email.clone()).filter(|e| !e.trim().is_empty()),
        phone: contact.and_then(|c| c.phone_work.as_ref()).map(|p| p.display()).filter(|p| !p.trim().is_empty()),
        addresses,
        status: Status::Active,
    }
}

fn fingerprint(v: &Vendor, status: &str) -> String {
    let json = serde_json::to_vec(&(&v.name, &v.tax_id, &v.payment_terms, &v.email, &v.phone, &v.addresses, status))
        .unwrap_or_default();
    Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn term_code(r: &SupplierRecord) -> Option<String> {
    r.supplier.payment_term.as_ref().map(|t| t.code.trim().to_string()).filter(|t| !t.is_empty())
}

#[async_trait::async_trait]
impl FlowDef for CoupaDeltekVendors {
    type Source = SupplierSource;
    type Target = VendorFirmTarget;
    type Doc = SupplierRecord;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.scope.clone(),
            description: KIND.description.into(),
            lookback: (self.opts.initial_lookback_days > 0)
                .then(|| std::time::Duration::from_secs(u64::from(self.opts.initial_lookback_days) * 86_400)),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<SupplierRecord>) -> Vec<SourceDoc<SupplierRecord>> {
        let r = &record.record;
        let s = &r.supplier;
        let v = to_vendor(r, term_code(r));
        vec![SourceDoc {
            entity: "supplier".into(),
            id: s.id.to_string(),
            version: fingerprint(&v, &s.status.to_ascii_lowercase()),
            summary: ItemSummary {
                label: format!("supplier {} ({})", s.name.trim(), s.number.as_deref().unwrap_or("no number")),
                vendor: Some(s.name.trim().to_string()),
                ..Default::default()
            },
            record: r.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<SupplierRecord>) -> Eligibility {
        let s = &doc.record.supplier;
        match s.status.trim().to_ascii_lowercase().as_str() {
            "active" => Eligibility::Eligible,
            "draft" => Eligibility::skip(
                codes::DRAFT,
                format!("Coupa supplier {} is a draft: it syncs once it is activated in Coupa", s.name.trim()),
            ),
            "inactive" => Eligibility::skip(
                codes::INACTIVE,
                format!(
                    "Coupa supplier {} is inactive: its Deltek firm, if any, is left as it is (Deltek may hold history against it)",
                    s.name.trim()
                ),
            ),
            other => Eligibility::skip(
                codes::OTHER_STATUS,
                format!("Coupa supplier {} has status {other:?}: only active suppliers sync", s.name.trim()),
            ),
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<SupplierRecord>) -> Vec<MappingKey> {
        let mut keys = vec![MappingKey::new(&self.scope, MappingKind::VENDOR, doc.record.supplier.id.to_string())];
        if let Some(t) = term_code(&doc.record) {
            keys.push(MappingKey::new(&self.scope, MappingKind::TERMS, t));
        }
        keys
    }

    fn map(&self, doc: &SourceDoc<SupplierRecord>, set: &MappingSet) -> Result<VendorDoc, MapError> {
        let s = &doc.record.supplier;
        if s.name.trim().is_empty() {
            return Err(MapError::Invalid(format!(
                "Coupa supplier {} has no name: name it in Coupa, then replay",
                s.id
            )));
        }
        let r = Resolver::new(set, &self.scope);
        let paired = r.resolve_optional(MappingKind::VENDOR, &s.id.to_string());
        let terms = term_code(&doc.record).map(|t| r.resolve_optional(MappingKind::TERMS, &t).unwrap_or(t));
        let mut vendor = to_vendor(&doc.record, terms);
        vendor.code = paired.clone().unwrap_or_default();
        let source_id = s.number.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| s.id.to_string());
        Ok(VendorDoc { vendor, paired, source_id })
    }

    fn plan(&self, _t: &VendorDoc, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            Some(f) if f.up_to_date => Plan::Matched(f.target),
            Some(f) => Plan::Update(f.target),
        }
    }

    fn pairings(&self, doc: &SourceDoc<SupplierRecord>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        vec![(
            MappingKey::new(&self.scope, MappingKind::VENDOR, doc.record.supplier.id.to_string()),
            vendor_number_of(target),
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_supplier_becomes_a_vendor_with_its_remit_to_and_tax_number() {
        let s: mlc_coupa::Supplier = serde_json::from_value(serde_json::json!({
            "id": 2005, "name": "Lumen Lighting Design", "status": "active", "tax-id": "11-1111111",
            "primary-address": {"street1": "1 Main St", "city": "Portland", "state": "OR", "postal-code": "97201",
                                "country": {"code": "US"}},
            "remit-to-addresses": [{"id": 1, "street1": "PO Box 9", "city": "Portland", "postal-code": "97208", "active": true}],
            "primary-contact": {"email": "ap@lumen.example", "phone-work": {"area-code": "503", "number": "555-0100"}}
        }))
        .unwrap();
        let info: mlc_coupa::SupplierInformation =
            serde_json::from_value(serde_json::json!({"supplier-id": 2005, "federal-tax-num": "93-7654321"})).unwrap();
        let r = SupplierRecord { supplier: Arc::new(s), information: Some(Arc::new(info)) };
        let v = to_vendor(&r, Some("Net 30".into()));
        assert_eq!(v.tax_id.as_deref(), Some("93-7654321"), "supplier information's number wins");
        assert_eq!(v.remit_to().map(|a| a.lines[0].as_str()), Some("PO Box 9"));
        assert_eq!(v.phone.as_deref(), Some("(503) 555-0100"));
        assert_eq!(v.addresses[0].country.as_deref(), Some("US"));
        assert!(
            serde_json::from_value::<VendorOptions>(serde_json::json!({"page_size": 60})).unwrap().check().is_err()
        );
    }
}
