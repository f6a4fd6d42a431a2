//! `acumatica-cin7-suppliers`: Acumatica vendors → Cin7 Core suppliers, the other half of the
//! two-way supplier sync ([`crate::cin7_acumatica_vendors`] holds the rule both halves follow:
//! the fields kept alike, the per-field merge with the values both sides last agreed on, no echo,
//! conflicts held for a person, `first_sync`).
//!
//! **Finding the supplier.** The stored pairing (`cin7_supplier` mapping: vendor code → Cin7
//! supplier ID, learnt by either half), else the supplier of exactly the vendor's name (names are
//! unique in Cin7). A supplier found without the shared code gets it written into its
//! `AdditionalAttribute<code_attribute>`.
//!
//! **Creating.** A vendor with no supplier becomes one, with what Cin7 requires: currency (the
//! vendor's), a payment term (the `terms` mapping of the vendor's terms, else option
//! `default_payment_term`), the accounts-payable account (`account_payable`, default `800`), a
//! tax rule (`tax_rule`, default `Tax Exempt`), and the shared code. Its main contact is named
//! after the vendor.
//!
//! **Skips**: inactive vendors (`vendor_inactive`; the supplier, if any, is left as it is).

use std::sync::Arc;

use async_trait::async_trait;
use mlc_acumatica::model::{Vendor, VendorStatus};
use mlc_acumatica::{AcumaticaConnection, DeltaOptions, VendorSource};
use mlc_cin7::writes::{SupplierAddressDraft, SupplierContactDraft, SupplierDraft};
use mlc_cin7::{Cin7Connection, Supplier, SupplierTarget};
use mlc_core::connect::BuildError;
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc, StepError};
use mlc_core::engine::model::TargetRef;
use mlc_core::engine::parts::{FlowDef, SourceRecord, TargetSpec};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::cin7_acumatica_vendors::{
    Field, FirstSync, Party, PartyFields, PartySide, SCOPE, SyncDoc, SyncMemory, SyncOptions, SyncTarget, country_name,
    fingerprint, party_summary, supplier_code, supplier_fields, sync_plan, vendor_fields,
};

/// Acumatica vendor code → Cin7 supplier ID (learnt by the supplier sync).
pub const CIN7_SUPPLIER: MappingKind = MappingKind::named("cin7_supplier");
mlc_core::register_mapping_kind!(
    K_CIN7_SUPPLIER,
    "cin7_supplier",
    &["cin7-supplier"],
    "Acumatica vendor code → Cin7 supplier ID (learnt by the supplier sync)"
);

/// Stable skip codes of this flow.
pub mod codes {
    pub const INACTIVE: &str = "vendor_inactive";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "acumatica-cin7-suppliers",
        description: "Acumatica vendors → Cin7 Core suppliers (two-way with cin7-acumatica-vendors, on a shared code)",
        source_system: "acumatica",
        target_system: "cin7",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<SupplierSyncOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// The options of `acumatica-cin7-suppliers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupplierSyncOptions {
    /// See [`SyncOptions`] (the same values as `cin7-acumatica-vendors`).
    pub code_attribute: u8,
    pub first_sync: FirstSync,
    pub conflict_recheck_secs: u64,
    pub page_size: u32,
    pub overlap_secs: u64,
    /// Payment term (an active Cin7 term's name) of new suppliers whose terms have no `terms` mapping.
    pub default_payment_term: String,
    /// Accounts-payable account code of new suppliers.
    pub account_payable: String,
    /// Tax rule of new suppliers.
    pub tax_rule: String,
}

impl Default for SupplierSyncOptions {
    fn default() -> Self {
        let s = SyncOptions::default();
        SupplierSyncOptions {
            code_attribute: s.code_attribute,
            first_sync: s.first_sync,
            conflict_recheck_secs: s.conflict_recheck_secs,
            page_size: s.page_size,
            overlap_secs: s.overlap_secs,
            default_payment_term: "30 days".into(),
            account_payable: "800".into(),
            tax_rule: "Tax Exempt".into(),
        }
    }
}

impl SupplierSyncOptions {
    pub fn sync(&self) -> SyncOptions {
        SyncOptions {
            code_attribute: self.code_attribute,
            first_sync: self.first_sync,
            conflict_recheck_secs: self.conflict_recheck_secs,
            page_size: self.page_size,
            overlap_secs: self.overlap_secs,
        }
    }

    pub fn check(&self) -> Result<(), String> {
        self.sync().check()?;
        for (k, v) in [
            ("default_payment_term", &self.default_payment_term),
            ("account_payable", &self.account_payable),
            ("tax_rule", &self.tax_rule),
        ] {
            if v.trim().is_empty() {
                return Err(format!("{k} is empty: Cin7 requires it on every new supplier"));
            }
        }
        Ok(())
    }
}

/// What creating a Cin7 supplier needs besides the fields.
#[derive(Debug, Clone, Default)]
pub struct SupplierExtra {
    pub currency: Option<String>,
    pub payment_term: String,
    pub account_payable: String,
    pub tax_rule: String,
    pub tax_number: Option<String>,
    /// Which `AdditionalAttribute` holds the shared code.
    pub code_attribute: u8,
}

/// Cin7 suppliers as a side of the sync.
pub struct Cin7Suppliers {
    target: SupplierTarget,
    attribute: String,
}

impl Cin7Suppliers {
    fn party(&self, s: Supplier) -> Party<Supplier> {
        Party {
            tref: SupplierTarget::tref(&s),
            code: supplier_code(&s, &self.attribute),
            fields: supplier_fields(&s),
            stamp: s.last_modified,
            record: s,
        }
    }
}

fn address_draft(f: &PartyFields, id: Option<String>) -> SupplierAddressDraft {
    let v = |x: Field| f.get(x).map(str::to_string);
    SupplierAddressDraft {
        id,
        line1: f.get(Field::Line1).unwrap_or("").to_string(),
        line2: v(Field::Line2),
        city: v(Field::City),
        state: v(Field::State),
        postcode: v(Field::Postcode),
        country: f.get(Field::Country).map(country_name).unwrap_or_default(),
    }
}

#[async_trait]
impl PartySide for Cin7Suppliers {
    type Extra = SupplierExtra;
    type Record = Supplier;

    fn spec(&self) -> &TargetSpec {
        self.target.spec()
    }

    fn title(&self) -> &'static str {
        "Cin7"
    }

    async fn find(&self, doc: &SyncDoc<SupplierExtra>) -> Result<Option<Party<Supplier>>, StepError> {
        let name = doc.fields.name.as_deref().unwrap_or("");
        Ok(self.target.find(doc.paired.as_deref(), name).await?.map(|s| self.party(s)))
    }

    async fn create(&self, doc: &SyncDoc<SupplierExtra>) -> Result<Party<Supplier>, StepError> {
        let f = &doc.fields;
        let x = &doc.extra;
        let currency = x.currency.clone().ok_or_else(|| {
            StepError::permanent(format!(
                "{} has no currency in Acumatica; Cin7 requires one on a new supplier",
                doc.label
            ))
        })?;
        let mut draft = SupplierDraft {
            name: f.name.clone(),
            currency: Some(currency),
            payment_term: Some(x.payment_term.clone()),
            account_payable: Some(x.account_payable.clone()),
            tax_rule: Some(x.tax_rule.clone()),
            status: Some("Active".into()),
            tax_number: x.tax_number.clone(),
            address: (f.get(Field::Line1).is_some() && f.get(Field::Country).is_some()).then(|| address_draft(f, None)),
            contact: f.name.clone().map(|n| SupplierContactDraft {
                id: None,
                name: n,
                email: f.email.clone(),
                phone: f.phone.clone(),
            }),
            ..Default::default()
        };
        if let Some(code) = &doc.code {
            draft.attributes.insert(x.code_attribute, code.clone());
        }
        Ok(self.party(self.target.create(&draft).await?.into_record()))
    }

    async fn write(
        &self,
        doc: &SyncDoc<SupplierExtra>,
        current: &Party<Supplier>,
        merged: &PartyFields,
        fields: &[Field],
        set_code: bool,
    ) -> Result<Party<Supplier>, StepError> {
        let s = &current.record;
        let mut draft = SupplierDraft {
            name: fields.contains(&Field::Name).then(|| merged.name.clone().unwrap_or_default()),
            ..Default::default()
        };
        if fields.iter().any(Field::is_address) {
            let existing = s
                .addresses
                .iter()
                .find(|a| a.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("business")))
                .or(s.addresses.first())
                .and_then(|a| a.id.clone());
            draft.address = Some(address_draft(merged, existing));
        }
        if fields.contains(&Field::Email) || fields.contains(&Field::Phone) {
            let c = s.main_contact();
            draft.contact = Some(SupplierContactDraft {
                id: c.and_then(|c| c.id.clone()),
                name: c.map(|c| c.name.clone()).filter(|n| !n.trim().is_empty()).unwrap_or_else(|| s.name.clone()),
                email: Some(merged.email.clone().unwrap_or_default()),
                phone: Some(merged.phone.clone().unwrap_or_default()),
            });
        }
        if set_code && let Some(code) = &doc.code {
            draft.attributes.insert(doc.extra.code_attribute, code.clone());
        }
        Ok(self.party(self.target.update(&s.id, &draft).await?))
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: SupplierSyncOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let acu = ctx.source_connection::<AcumaticaConnection>("acumatica")?.client.clone();
    let cin7 = ctx.target_connection::<Cin7Connection>("cin7")?.client.clone();
    let delta =
        DeltaOptions { page_size: opts.page_size, overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("vendor", || Ok(VendorSource::new(&conn, acu, delta)))?;
    let scope = ctx.mapping_scope(&KIND);
    let memory = SyncMemory::new(ctx.engine.store.clone(), ctx.engine.clock.clone(), &scope);
    let side = Cin7Suppliers {
        target: SupplierTarget::new(&ctx.settings.target, cin7),
        attribute: opts.sync().attribute_key(),
    };
    let target = Arc::new(SyncTarget::new(side, memory, &opts.sync(), ("acumatica", "Acumatica")));
    let flow = AcumaticaCin7Suppliers { name: ctx.name.to_string(), scope, opts };
    ctx.add(flow, source, target)
}

/// The flow.
pub struct AcumaticaCin7Suppliers {
    name: String,
    scope: String,
    opts: SupplierSyncOptions,
}

#[async_trait]
impl FlowDef for AcumaticaCin7Suppliers {
    type Source = VendorSource;
    type Target = SyncTarget<Cin7Suppliers>;
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
        let version = if record.version.is_empty() { fingerprint(&vendor_fields(v)) } else { record.version.clone() };
        vec![SourceDoc {
            entity: "vendor".into(),
            id: v.id.to_ascii_lowercase(),
            version,
            summary: party_summary("vendor", &v.name, Some(&v.vendor_id)),
            record: v.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<Vendor>>) -> Eligibility {
        if doc.record.status == VendorStatus::Inactive {
            return Eligibility::skip(
                codes::INACTIVE,
                format!(
                    "vendor {} ({}) is inactive in Acumatica: its Cin7 supplier, if any, is left as it is (activate the vendor to sync it)",
                    doc.record.vendor_id, doc.record.name
                ),
            );
        }
        Eligibility::Eligible
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<Vendor>>) -> Vec<MappingKey> {
        let mut keys = vec![MappingKey::new(&self.scope, CIN7_SUPPLIER, &doc.record.vendor_id)];
        if let Some(t) = doc.record.terms.as_deref().filter(|t| !t.trim().is_empty()) {
            keys.push(MappingKey::new(&self.scope, MappingKind::TERMS, t));
        }
        keys
    }

    fn map(&self, doc: &SourceDoc<Arc<Vendor>>, set: &MappingSet) -> Result<SyncDoc<SupplierExtra>, MapError> {
        let v = &doc.record;
        if v.vendor_id.trim().is_empty() || v.name.trim().is_empty() {
            return Err(MapError::Invalid(format!(
                "Acumatica vendor {} has no {}: give it one in Acumatica",
                v.id,
                if v.name.trim().is_empty() { "name" } else { "code" }
            )));
        }
        let r = Resolver::new(set, &self.scope);
        let paired = r.resolve_optional(CIN7_SUPPLIER, &v.vendor_id);
        let term = v.terms.as_deref().and_then(|t| r.resolve_optional(MappingKind::TERMS, t));
        Ok(SyncDoc {
            code: Some(v.vendor_id.clone()),
            paired,
            fields: vendor_fields(v),
            stamp: v.last_modified,
            extra: SupplierExtra {
                currency: v.currency.clone(),
                payment_term: term.unwrap_or_else(|| self.opts.default_payment_term.clone()),
                account_payable: self.opts.account_payable.clone(),
                tax_rule: self.opts.tax_rule.clone(),
                tax_number: v.tax_registration_id.clone(),
                code_attribute: self.opts.code_attribute,
            },
            label: format!("vendor {} ({})", v.name, v.vendor_id),
        })
    }

    fn plan(&self, _doc: &SyncDoc<SupplierExtra>, found: Option<Found>) -> Plan {
        sync_plan(found)
    }

    fn pairings(&self, doc: &SourceDoc<Arc<Vendor>>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        vec![
            (MappingKey::new(&self.scope, CIN7_SUPPLIER, &doc.record.vendor_id), target.id.clone()),
            (MappingKey::new(&self.scope, MappingKind::VENDOR, &target.id), doc.record.vendor_id.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_need_what_cin7_requires() {
        let o = SupplierSyncOptions::default();
        assert!(o.check().is_ok());
        let bad = SupplierSyncOptions { tax_rule: " ".into(), ..o };
        assert!(bad.check().unwrap_err().contains("tax_rule"));
        assert!(
            parse_options::<SupplierSyncOptions>(
                &[("taxrule".to_string(), serde_json::json!("x"))].into_iter().collect()
            )
            .is_err()
        );
    }
}
