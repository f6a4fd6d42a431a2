//! `cin7-deltek-vendors`: Cin7 Core suppliers → Deltek Vantagepoint vendor firms, created and
//! kept up to date, with the pairing (Cin7 supplier id → Deltek vendor number) stored as a
//! `vendor` mapping in scope `cin7-deltek` — which releases AP invoices waiting for it.
//!
//! **Finding the firm.** In order: the stored pairing (the vendor number we created or learnt);
//! a firm with the supplier's tax number; a firm with the supplier's exact name (case-insensitive).
//! A firm found by tax number or name teaches the pairing even when nothing needs writing, so a
//! vendor keyed by hand in Deltek is reused, never duplicated.
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

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use mlc_cin7::{Cin7Client, Supplier};
use mlc_core::domain::Vendor;
use mlc_core::engine::flow::{DiscoveryPage, Eligibility, Flow, FlowSpec, Found, MapError, Plan, SourceDoc, StepError};
use mlc_core::engine::model::{Cursor, Hint, ItemSummary, Origin, TargetRef};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet};
use mlc_deltek::{DeltekClient, VendorFirm};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cin7_deltek_ap::{SCOPE, options};
use crate::runtime::{BuildError, FlowContext, FlowKind};
use crate::systems::cin7::{Cin7Connection, PageCursor};
use crate::systems::deltek::DeltekConnection;

/// This flow in the catalog.
pub const KIND: FlowKind = FlowKind {
    name: "cin7-deltek-vendors",
    description: "Cin7 Core suppliers → Deltek Vantagepoint vendor firms (created and updated)",
    build,
    webhook_entities: &[mlc_cin7::ENTITY_SUPPLIER],
};

/// How new vendor numbers are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum VendorNumbers {
    #[default]
    FromName,
    SupplierId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VendorOptions {
    pub vendor_numbers: VendorNumbers,
    pub page_size: u32,
    /// Re-list suppliers stamped this close to the cursor, seconds.
    pub overlap_secs: u64,
}

impl Default for VendorOptions {
    fn default() -> Self {
        VendorOptions { vendor_numbers: VendorNumbers::FromName, page_size: 250, overlap_secs: 120 }
    }
}

fn build(ctx: &FlowContext<'_>) -> Result<Arc<dyn mlc_core::FlowRunner>, BuildError> {
    let cin7 = ctx.connections.client::<Cin7Connection>(&ctx.settings.source, "cin7")?.client.clone();
    let deltek = ctx.connections.client::<DeltekConnection>(&ctx.settings.target, "deltek")?.client.clone();
    Ok(Arc::new(Cin7DeltekVendors::new(ctx.name, cin7, deltek, options(ctx)?)))
}

/// A supplier, mapped: the vendor to write, and the vendor number already paired, if any.
#[derive(Debug, Clone)]
pub struct VendorTarget {
    pub vendor: Vendor,
    pub paired: Option<String>,
    pub supplier_id: String,
}

pub struct Cin7DeltekVendors {
    spec: FlowSpec,
    cin7: Cin7Client,
    deltek: DeltekClient,
    opts: VendorOptions,
}

impl Cin7DeltekVendors {
    pub fn new(name: &str, cin7: Cin7Client, deltek: DeltekClient, opts: VendorOptions) -> Self {
        Cin7DeltekVendors {
            spec: FlowSpec {
                name: name.to_string(),
                source_system: "cin7".into(),
                target_system: "deltek".into(),
                mapping_scope: SCOPE.into(),
                description: KIND.description.into(),
                has_webhooks: true,
            },
            cin7,
            deltek,
            opts,
        }
    }

    async fn firm_for(&self, t: &VendorTarget) -> Result<Option<VendorFirm>, StepError> {
        if let Some(v) = &t.paired
            && let Some(f) = self.deltek.find_vendor(v).await?
        {
            return Ok(Some(f));
        }
        if let Some(tax) = t.vendor.tax_id.as_deref().filter(|x| !x.trim().is_empty())
            && let Some(f) = self.deltek.find_vendors_by_tax_id(tax).await?.into_iter().find(|f| f.is_vendor)
        {
            return Ok(Some(f));
        }
        let name = t.vendor.name.trim();
        Ok(self.deltek.find_vendors_by_name(name).await?.into_iter().find(|f| f.name.trim().eq_ignore_ascii_case(name)))
    }

    /// A free vendor number for `t`.
    async fn new_vendor_number(&self, t: &VendorTarget) -> Result<String, StepError> {
        let base = match self.opts.vendor_numbers {
            VendorNumbers::FromName => vendor_number_from_name(&t.vendor.name),
            VendorNumbers::SupplierId => {
                t.supplier_id.chars().filter(|c| c.is_ascii_alphanumeric()).take(8).collect::<String>().to_uppercase()
            }
        };
        let base = if base.is_empty() { "VENDOR".to_string() } else { base };
        for n in 0..100u32 {
            let candidate = if n == 0 { base.clone() } else { format!("{}{n:02}", &base[..base.len().min(6)]) };
            if self.deltek.find_vendor(&candidate).await?.is_none() {
                return Ok(candidate);
            }
        }
        Err(StepError::permanent(format!(
            "no free Deltek vendor number like {base} for supplier {:?}: map it by hand (mlc mappings import)",
            t.vendor.name
        )))
    }
}

/// `Cascade Land Surveying LLC` → `CASCLAND`: up to 8 capitals from the first words.
pub fn vendor_number_from_name(name: &str) -> String {
    const SUFFIXES: [&str; 10] = ["INC", "LLC", "LTD", "CO", "CORP", "COMPANY", "PTY", "LLP", "PLC", "THE"];
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .map(|w| w.to_ascii_uppercase())
        .filter(|w| !w.is_empty() && !SUFFIXES.contains(&w.as_str()))
        .collect();
    let mut out = String::new();
    match words.len() {
        0 => {}
        1 => out.extend(words[0].chars().take(8)),
        _ => {
            out.extend(words[0].chars().take(4));
            for w in &words[1..] {
                let room = 8 - out.len();
                if room == 0 {
                    break;
                }
                out.extend(w.chars().take(room.min(4)));
            }
        }
    }
    out
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

#[async_trait]
impl Flow for Cin7DeltekVendors {
    type Record = Supplier;
    type Target = VendorTarget;

    fn spec(&self) -> &FlowSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, now: DateTime<Utc>) -> Result<DiscoveryPage, StepError> {
        let pos = PageCursor::load(cursor, now, None)?;
        let limit = self.opts.page_size.clamp(1, 1000);
        let page = self.cin7.list_suppliers_changed(pos.since, pos.page, limit).await?;
        let more = page.has_more(limit);
        let newest = page.items.iter().filter_map(|s| s.last_modified).max();
        let hints = page
            .items
            .iter()
            .map(|s| {
                let h = Hint::new(&self.spec.name, "cin7", mlc_cin7::ENTITY_SUPPLIER, &s.id, Origin::Poll, now);
                match s.version() {
                    Some(v) => h.with_version(v),
                    None => h,
                }
            })
            .collect();
        let next = pos.advance(newest, more, Duration::seconds(self.opts.overlap_secs as i64));
        Ok(DiscoveryPage { hints, next_cursor: Some(next.to_value()), has_more: more })
    }

    async fn read_back(&self, hint: &Hint) -> Result<Vec<SourceDoc<Supplier>>, StepError> {
        Ok(self
            .cin7
            .get_supplier(&hint.id)
            .await?
            .map(|s| SourceDoc {
                entity: "supplier".into(),
                id: s.id.clone(),
                version: fingerprint(&s),
                summary: ItemSummary {
                    label: format!("supplier {}", s.name),
                    vendor: Some(s.name.clone()),
                    ..Default::default()
                },
                record: s,
            })
            .into_iter()
            .collect())
    }

    fn eligibility(&self, doc: &SourceDoc<Supplier>) -> Eligibility {
        if doc.record.is_active() {
            Eligibility::Eligible
        } else {
            Eligibility::Skip("supplier is deprecated in Cin7 (its Deltek firm, if any, is left as it is)".into())
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<Supplier>) -> Vec<MappingKey> {
        vec![MappingKey::new(SCOPE, MappingKind::VENDOR, &doc.record.id)]
    }

    fn map(&self, doc: &SourceDoc<Supplier>, set: &MappingSet) -> Result<VendorTarget, MapError> {
        let paired = set.get(&MappingKey::new(SCOPE, MappingKind::VENDOR, &doc.record.id)).map(str::to_string);
        let mut vendor = doc.record.to_vendor();
        if vendor.name.trim().is_empty() {
            return Err(MapError::Invalid(format!("Cin7 supplier {} has no name", doc.record.id)));
        }
        // The Deltek vendor number is decided at write time (pairing, found firm, or new number).
        vendor.code = paired.clone().unwrap_or_default();
        Ok(VendorTarget { vendor, paired, supplier_id: doc.record.id.clone() })
    }

    fn natural_key(&self, t: &VendorTarget) -> String {
        format!("vendor#{}", t.vendor.name.trim().to_uppercase())
    }

    async fn lookup(&self, t: &VendorTarget) -> Result<Option<Found>, StepError> {
        let Some(firm) = self.firm_for(t).await? else { return Ok(None) };
        let want = wanted_for(&firm, &t.vendor);
        let up_to_date = self.deltek.vendor_is_up_to_date(&firm, &want);
        Ok(Some(Found { target: firm_ref(&firm), up_to_date }))
    }

    fn plan(&self, _t: &VendorTarget, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            Some(f) if f.up_to_date => Plan::AlreadyPresent(f.target),
            Some(f) => Plan::Update(f.target),
        }
    }

    async fn create(&self, t: &VendorTarget) -> Result<TargetRef, StepError> {
        let mut v = t.vendor.clone();
        v.code = self.new_vendor_number(t).await?;
        Ok(firm_ref(&self.deltek.create_vendor(&v).await?))
    }

    async fn update(&self, t: &VendorTarget, existing: &TargetRef) -> Result<TargetRef, StepError> {
        let vendor_no = existing.id.split('|').next().unwrap_or_default();
        let firm = self.deltek.find_vendor(vendor_no).await?.ok_or_else(|| {
            StepError::retryable(format!("Deltek vendor {vendor_no} was found a moment ago and is gone now"))
        })?;
        let v = wanted_for(&firm, &t.vendor);
        Ok(firm_ref(&self.deltek.update_vendor(&firm, &v).await?))
    }

    fn pairings(&self, doc: &SourceDoc<Supplier>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        let vendor_no = target.id.split('|').next().unwrap_or_default().to_string();
        vec![(MappingKey::new(SCOPE, MappingKind::VENDOR, &doc.record.id), vendor_no)]
    }
}

/// What an existing firm should look like: the supplier's details under the firm's own vendor
/// number and status. A sync never re-activates a vendor someone deactivated in Deltek (and never
/// touches its approval for AP processing).
fn wanted_for(firm: &VendorFirm, supplier: &Vendor) -> Vendor {
    let mut want = supplier.clone();
    want.code = firm.vendor.clone();
    want.status = if firm.active() { mlc_core::domain::Status::Active } else { mlc_core::domain::Status::Inactive };
    want
}

/// `vendor|ClientID` as the id, so a pairing can be read back from it.
fn firm_ref(f: &VendorFirm) -> TargetRef {
    TargetRef {
        system: "deltek".into(),
        entity: "vendor".into(),
        id: format!("{}|{}", f.vendor, f.client_id),
        display: Some(format!("vendor {} ({})", f.vendor, f.name)),
        status: Some(if f.status == "A" || f.status.is_empty() {
            "active".into()
        } else {
            format!("status {}", f.status)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_numbers_from_names() {
        assert_eq!(vendor_number_from_name("Cascade Land Surveying LLC"), "CASCLAND");
        assert_eq!(vendor_number_from_name("Granite Geotechnical, Inc."), "GRANGEOT");
        assert_eq!(vendor_number_from_name("3M"), "3M");
        assert_eq!(vendor_number_from_name("The Blueprint Co"), "BLUEPRIN");
        assert_eq!(vendor_number_from_name("A B C D E"), "ABCDE");
        assert_eq!(vendor_number_from_name("---"), "");
    }
}
