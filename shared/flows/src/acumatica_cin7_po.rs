//! `acumatica-cin7-po`: purchase orders raised in Acumatica → Cin7 Core purchases, created as a
//! draft and then authorised in the separate call Cin7 requires.
//!
//! **Source** ([`PurchaseOrderSource`], `<connection>/purchase-order`): Acumatica's delta listing
//! by `LastModifiedDateTime` (anchored `$top`/`$skip` pages) and push notifications as hints; the
//! order is read back with its lines. One document per order; its version is the order's stamp.
//!
//! **Eligibility**: only approved Normal orders go (`Open`, and the printing/e-mailing states
//! after approval). Skipped with the reason: other order types (`order_type`), orders raised by
//! ml-connector from Cin7 (`from_cin7`: their description names the Cin7 purchase; the pairing
//! `po_origin` catches the rest as `already_in_target`), orders on hold (`on_hold`) or waiting
//! for approval or rejected (`not_approved`), canceled (`canceled`), completed or closed (`closed`:
//! nothing left to order).
//!
//! **Mapping** (scope `cin7-acumatica`): the vendor → Cin7 supplier ID (`cin7_supplier`, learnt by
//! the supplier sync), the lines' warehouse → Cin7 location (`cin7_location`; option
//! `default_location` for orders without one), each InventoryID → Cin7 SKU (`cin7_product`;
//! option `items`: `same_code` uses the InventoryID itself unless a mapping says otherwise,
//! `mapped` requires one). Lines without an item cannot be Cin7 order lines: the order is refused
//! naming the line.
//!
//! **Target** ([`PurchaseTarget`]): found by its origin (`Acumatica Normal PO000013`, in
//! `AdditionalAttribute<origin_attribute>` and the note) before any create and after a lost
//! answer (once made, by the learnt pairing `cin7_purchase`, read by ID); created `DRAFT`, lines posted as a draft order, then authorised. A purchase an earlier
//! attempt left at the draft stage is finished, never created twice. A later change of the
//! Acumatica order is refused once Cin7 has authorised the purchase (Cin7 takes no changes to an
//! authorised order), naming the purchase.

use std::sync::Arc;

use async_trait::async_trait;
use mlc_acumatica::model::{PoStatus, PoType, PurchaseOrder};
use mlc_acumatica::{AcumaticaConnection, DeltaOptions, PurchaseOrderSource};
use mlc_cin7::writes::{OrderLineDraft, PurchaseDraft};
use mlc_cin7::{Cin7Connection, PurchaseDoc, PurchaseTarget};
use mlc_core::connect::BuildError;
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc};
use mlc_core::engine::model::{ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::acumatica_cin7_suppliers::CIN7_SUPPLIER;
use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::cin7_acumatica_po::{ItemCodes, PO_ORIGIN, item_code};
use crate::cin7_acumatica_vendors::SCOPE;

/// Acumatica warehouse → Cin7 location.
pub const CIN7_LOCATION: MappingKind = MappingKind::named("cin7_location");
mlc_core::register_mapping_kind!(
    K_CIN7_LOCATION,
    "cin7_location",
    &["cin7-location"],
    "Acumatica warehouse (WarehouseID) → Cin7 location"
);
/// Acumatica InventoryID → Cin7 SKU.
pub const CIN7_PRODUCT: MappingKind = MappingKind::named("cin7_product");
mlc_core::register_mapping_kind!(
    K_CIN7_PRODUCT,
    "cin7_product",
    &["cin7-product", "cin7_sku"],
    "Acumatica InventoryID → Cin7 product SKU"
);

/// Acumatica purchase order (its `id`) → the Cin7 purchase ml-connector raised for it (learnt).
pub const CIN7_PURCHASE: MappingKind = MappingKind::named("cin7_purchase");
mlc_core::register_mapping_kind!(
    K_CIN7_PURCHASE,
    "cin7_purchase",
    &["cin7-purchase"],
    "Acumatica purchase order id → the Cin7 purchase raised for it (learnt; read by ID instead of searched)"
);

/// Stable skip codes of this flow.
pub mod codes {
    pub const ORDER_TYPE: &str = "order_type";
    pub const FROM_CIN7: &str = "from_cin7";
    pub const ON_HOLD: &str = "on_hold";
    pub const NOT_APPROVED: &str = "not_approved";
    pub const CANCELED: &str = "canceled";
    pub const CLOSED: &str = "closed";
}

/// What the description of an order raised from Cin7 starts with (`cin7-acumatica-po` writes it).
pub const CIN7_ORIGIN: &str = "Cin7 ";

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "acumatica-cin7-po",
        description: "Acumatica purchase orders raised there → Cin7 Core purchases (draft, then authorised)",
        source_system: "acumatica",
        target_system: "cin7",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<InboundPoOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// Cin7's purchase approach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum Approach {
    /// Invoice first, then receive.
    #[default]
    Invoice,
    /// Receive stock first.
    Stock,
}

/// The options of `acumatica-cin7-po`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InboundPoOptions {
    pub items: ItemCodes,
    pub approach: Approach,
    /// Which Cin7 `AdditionalAttribute` keeps the origin (`Acumatica Normal PO000013`).
    pub origin_attribute: u8,
    /// The Cin7 location of orders whose lines name no warehouse.
    pub default_location: Option<String>,
    /// Cin7 tax rule of the purchases (default: the supplier's).
    pub tax_rule: Option<String>,
    pub page_size: u32,
    pub overlap_secs: u64,
    /// How far back the first poll looks, days (0 = everything).
    pub initial_lookback_days: u32,
}

impl Default for InboundPoOptions {
    fn default() -> Self {
        InboundPoOptions {
            items: ItemCodes::SameCode,
            approach: Approach::Invoice,
            origin_attribute: 10,
            default_location: None,
            tax_rule: None,
            page_size: 100,
            overlap_secs: 60,
            initial_lookback_days: 90,
        }
    }
}

impl InboundPoOptions {
    pub fn check(&self) -> Result<(), String> {
        if self.items == ItemCodes::None {
            return Err("items = \"none\" is not possible here: every Cin7 order line needs a product".into());
        }
        if !(1..=10).contains(&self.origin_attribute) {
            return Err(format!("origin_attribute = {} is out of range (1 to 10)", self.origin_attribute));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(format!("page_size = {} is out of range (1 to 1000)", self.page_size));
        }
        Ok(())
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: InboundPoOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let acu = ctx.source_connection::<AcumaticaConnection>("acumatica")?.client.clone();
    let cin7 = ctx.target_connection::<Cin7Connection>("cin7")?.client.clone();
    let delta =
        DeltaOptions { page_size: opts.page_size, overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("purchase-order", || Ok(PurchaseOrderSource::new(&conn, acu, delta)))?;
    let target = Arc::new(PurchaseTarget::new(&ctx.settings.target, cin7));
    let flow = AcumaticaCin7Po { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND), opts };
    ctx.add(flow, source, target)
}

/// The flow.
pub struct AcumaticaCin7Po {
    name: String,
    scope: String,
    opts: InboundPoOptions,
}

/// `Acumatica Normal PO000013`: the origin a Cin7 purchase keeps.
pub fn origin_of(po: &PurchaseOrder) -> String {
    format!("Acumatica {} {}", po.kind, po.order_nbr)
}

fn warehouse_of(po: &PurchaseOrder) -> Option<&str> {
    po.lines.iter().filter(|l| !l.cancelled).find_map(|l| l.warehouse.as_deref().filter(|w| !w.trim().is_empty()))
}

#[async_trait]
impl FlowDef for AcumaticaCin7Po {
    type Source = PurchaseOrderSource;
    type Target = PurchaseTarget;
    type Doc = Arc<PurchaseOrder>;

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

    fn documents(&self, record: &SourceRecord<Arc<PurchaseOrder>>) -> Vec<SourceDoc<Arc<PurchaseOrder>>> {
        let po = &record.record;
        vec![SourceDoc {
            entity: "purchase-order".into(),
            id: po.id.to_ascii_lowercase(),
            version: if record.version.is_empty() { po.order_nbr.clone() } else { record.version.clone() },
            summary: ItemSummary {
                label: format!("Acumatica {} {} (vendor {})", po.kind, po.order_nbr, po.vendor_id),
                vendor: Some(po.vendor_id.clone()),
                amount: Some(po.order_total),
                currency: po.currency.as_deref().and_then(|c| c.parse().ok()),
                document_date: po.date,
                ..Default::default()
            },
            record: po.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<PurchaseOrder>>) -> Eligibility {
        let po = &doc.record;
        let name = format!("{} {}", po.kind, po.order_nbr);
        if po.kind != PoType::Normal {
            return Eligibility::skip(codes::ORDER_TYPE, format!("{name}: only Normal orders become Cin7 purchases"));
        }
        if po.description.as_deref().is_some_and(|d| d.starts_with(CIN7_ORIGIN)) {
            return Eligibility::skip(
                codes::FROM_CIN7,
                format!(
                    "{name} was raised by ml-connector from a Cin7 purchase ({}): it is not sent back",
                    po.description.as_deref().unwrap_or("")
                ),
            );
        }
        let (code, why) = match po.status {
            PoStatus::Open | PoStatus::PendingPrinting | PoStatus::PendingEmail => return Eligibility::Eligible,
            PoStatus::OnHold => (codes::ON_HOLD, "is on hold in Acumatica: it goes to Cin7 once it is taken off hold"),
            PoStatus::PendingApproval => (codes::NOT_APPROVED, "waits for approval in Acumatica"),
            PoStatus::Rejected => (codes::NOT_APPROVED, "was rejected in Acumatica"),
            PoStatus::Canceled => (codes::CANCELED, "is canceled in Acumatica"),
            PoStatus::Completed | PoStatus::Closed => {
                (codes::CLOSED, "is completed or closed in Acumatica: nothing is left to order")
            }
            PoStatus::Other(_) => (codes::NOT_APPROVED, "has a status ml-connector does not know"),
        };
        Eligibility::skip(code, format!("{name} {why} (status {})", po.status))
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<PurchaseOrder>>) -> Vec<MappingKey> {
        let po = &doc.record;
        let k = |kind: MappingKind, s: &str| MappingKey::new(&self.scope, kind, s);
        let mut keys = vec![k(CIN7_SUPPLIER, &po.vendor_id), k(PO_ORIGIN, &po.id), k(CIN7_PURCHASE, &po.id)];
        if let Some(w) = warehouse_of(po) {
            keys.push(k(CIN7_LOCATION, w));
        }
        for l in po.lines.iter().filter(|l| !l.cancelled) {
            if let Some(i) = l.inventory_id.as_deref().filter(|i| !i.trim().is_empty()) {
                keys.push(k(CIN7_PRODUCT, i));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn map(&self, doc: &SourceDoc<Arc<PurchaseOrder>>, set: &MappingSet) -> Result<PurchaseDoc, MapError> {
        let po = &doc.record;
        let name = format!("{} {}", po.kind, po.order_nbr);
        let mut r = Resolver::new(set, &self.scope);
        let known = r.resolve_optional(PO_ORIGIN, &po.id).and_then(|o| o.strip_prefix("cin7:").map(str::to_string));
        let paired = r.resolve_optional(CIN7_PURCHASE, &po.id);
        let supplier = r.resolve(CIN7_SUPPLIER, &po.vendor_id);
        let location = match warehouse_of(po) {
            Some(w) => r.resolve(CIN7_LOCATION, w),
            None => Some(self.opts.default_location.clone().ok_or_else(|| {
                MapError::Invalid(format!(
                    "Acumatica order {name} names no warehouse on its lines: set one in Acumatica, or option default_location"
                ))
            })?),
        };
        let mut lines = Vec::with_capacity(po.lines.len());
        for l in po.lines.iter().filter(|l| !l.cancelled) {
            let Some(item) = l.inventory_id.as_deref().filter(|i| !i.trim().is_empty()) else {
                return Err(MapError::Invalid(format!(
                    "line {} ({}) of Acumatica order {name} has no inventory item, and every Cin7 order line needs a product: give it an item in Acumatica",
                    l.line_nbr.unwrap_or(0),
                    l.description.as_deref().unwrap_or("no description")
                )));
            };
            let sku = item_code(&mut r, CIN7_PRODUCT, self.opts.items, item);
            if l.qty <= Decimal::ZERO {
                return Err(MapError::Invalid(format!(
                    "line {} of Acumatica order {name} has quantity {}: correct it in Acumatica",
                    l.line_nbr.unwrap_or(0),
                    l.qty
                )));
            }
            lines.push(OrderLineDraft {
                product_id: None,
                sku,
                name: l.description.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| item.to_string()),
                quantity: l.qty,
                price: l.unit_cost,
                discount: Decimal::ZERO,
                tax_rule: None,
                comment: None,
            });
        }
        r.finish().map_err(MapError::Missing)?;
        if lines.is_empty() {
            return Err(MapError::Invalid(format!("Acumatica order {name} has no lines to order")));
        }
        let draft = PurchaseDraft {
            supplier_id: supplier.unwrap_or_default(),
            supplier_name: String::new(),
            location: location.unwrap_or_default(),
            approach: match self.opts.approach {
                Approach::Invoice => "INVOICE".into(),
                Approach::Stock => "STOCK".into(),
            },
            reference: origin_of(po),
            reference_attribute: self.opts.origin_attribute,
            required_by: po.promised_on,
            tax_rule: self.opts.tax_rule.clone(),
            terms: None,
            memo: po.description.clone(),
            lines,
        };
        Ok(PurchaseDoc {
            draft,
            label: format!("Acumatica order {name} (vendor {})", po.vendor_id),
            known,
            paired,
            not_before: None,
        })
    }

    fn plan(&self, _doc: &PurchaseDoc, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            Some(f) if f.up_to_date => Plan::Matched(f.target),
            Some(f) => Plan::Update(f.target),
        }
    }

    fn pairings(&self, doc: &SourceDoc<Arc<PurchaseOrder>>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        vec![(MappingKey::new(&self.scope, CIN7_PURCHASE, &doc.record.id), target.id.clone())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_refuse_lines_without_products() {
        assert!(InboundPoOptions::default().check().is_ok());
        let o = InboundPoOptions { items: ItemCodes::None, ..InboundPoOptions::default() };
        assert!(o.check().unwrap_err().contains("needs a product"));
        let o: InboundPoOptions = serde_json::from_value(serde_json::json!({"approach": "STOCK"})).unwrap();
        assert_eq!(o.approach, Approach::Stock);
    }
}
