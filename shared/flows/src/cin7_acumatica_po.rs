//! `cin7-acumatica-po`: Cin7 Core purchases whose order is authorised and not yet invoiced →
//! Acumatica purchase orders, kept up to date while Acumatica allows.
//!
//! **Source** ([`PurchaseSource`], shared with every flow reading Cin7 purchases on the same
//! connection — the Deltek AP flow and the Acumatica bill flow: each purchase is read back once
//! per version for all of them). One document per purchase (`<purchase>/po`); its version is the
//! purchase's `LastUpdatedDate`, so every change is looked at (a quantity set back to an earlier
//! value is a change too) and one that changes nothing the order holds is `already_in_target`.
//!
//! **Eligibility**: voided purchases (`voided`), purchases raised from an Acumatica order
//! (`from_acumatica`: their origin attribute or note says `Acumatica …`; they already have their
//! order), orders not authorised yet (`order_not_authorised`), and purchases already invoiced
//! (`invoiced`: the bill goes through `cin7-acumatica-bill`, linked to the order when there is
//! one; an order raised before stays as it is) are skipped with their reason.
//!
//! **Mapping** (scope `cin7-acumatica`): the supplier → vendor code (`vendor`, learnt by the
//! supplier sync), each line's SKU → InventoryID (`acumatica_item`; option `items`: `same_code`
//! uses the SKU itself when no mapping says otherwise, `mapped` requires one, `none` sends lines
//! without items on `non_stock_account`), additional charges (freight) → non-stock lines on the
//! mapped account (`account`), the purchase's location → branch (`branch`, optional: the
//! connection's branch otherwise) and → warehouse (`acumatica_warehouse`, optional).
//!
//! **Target** ([`PurchaseOrderTarget`]): found by vendor + the Cin7 order number (in `VendorRef`,
//! the connection's `po_reference_field`); created Open (`hold = false`, the default) or On Hold;
//! a changed purchase updates the order (lines matched by item; quantities, costs, lines added and
//! removed; received lines kept) while it is On Hold, Open or waiting for approval, and fails
//! saying so once Acumatica no longer takes changes. The order's description names its origin
//! (`Cin7 PO-00102 …`), and the pairing order → purchase is learnt (`po_origin`), so
//! `acumatica-cin7-po` never sends it back to Cin7.

use std::sync::Arc;

use async_trait::async_trait;
use mlc_acumatica::model::{LineType, PoDraft, PoLineDraft, PoType};
use mlc_acumatica::{AcumaticaConnection, PoDoc, PurchaseOrderTarget};
use mlc_cin7::{Cin7Connection, DocStatus, ListOptions, Purchase, PurchaseSource};
use mlc_core::connect::BuildError;
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc};
use mlc_core::engine::model::{ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::cin7_acumatica_vendors::SCOPE;

/// Cin7 SKU → Acumatica InventoryID.
pub const ACUMATICA_ITEM: MappingKind = MappingKind::named("acumatica_item");
mlc_core::register_mapping_kind!(
    K_ACUMATICA_ITEM,
    "acumatica_item",
    &["acumatica-item", "inventory_item"],
    "Cin7 product SKU → Acumatica InventoryID"
);
/// Cin7 location → Acumatica warehouse.
pub const ACUMATICA_WAREHOUSE: MappingKind = MappingKind::named("acumatica_warehouse");
mlc_core::register_mapping_kind!(
    K_ACUMATICA_WAREHOUSE,
    "acumatica_warehouse",
    &["acumatica-warehouse", "site"],
    "Cin7 location → Acumatica warehouse (WarehouseID)"
);
/// Acumatica purchase order (its `id`) → the Cin7 purchase it was raised from (learnt; the echo guard).
pub const PO_ORIGIN: MappingKind = MappingKind::named("po_origin");
mlc_core::register_mapping_kind!(
    K_PO_ORIGIN,
    "po_origin",
    &["po-origin"],
    "Acumatica purchase order id → the Cin7 purchase it came from (learnt, so it is never sent back)"
);

/// Stable skip codes of this flow.
pub mod codes {
    pub const VOIDED: &str = "voided";
    pub const FROM_ACUMATICA: &str = "from_acumatica";
    pub const NOT_AUTHORISED: &str = "order_not_authorised";
    pub const INVOICED: &str = "invoiced";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "cin7-acumatica-po",
        description: "Cin7 Core authorised purchase orders (not yet invoiced) → Acumatica purchase orders, updated while Acumatica allows",
        source_system: "cin7",
        target_system: "acumatica",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<PoOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// How lines name their products on the other side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ItemCodes {
    /// The same code on both sides, unless a mapping says otherwise.
    #[default]
    SameCode,
    /// Every product needs a mapping.
    Mapped,
    /// Lines carry no product (account lines only).
    None,
}

/// The text Cin7 purchases raised from an Acumatica order carry (origin attribute and note).
pub const ACUMATICA_ORIGIN: &str = "Acumatica ";

/// The Acumatica order a Cin7 purchase was raised from (`Acumatica Normal PO000123` in its origin
/// attribute or note), as (type, number).
pub fn acumatica_origin(p: &Purchase, attribute: u8) -> Option<(PoType, String)> {
    let key = format!("AdditionalAttribute{attribute}");
    let text = p
        .additional_attributes
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(&key))
        .map(|(_, v)| v.as_str())
        .filter(|v| v.starts_with(ACUMATICA_ORIGIN))
        .or(p.note.as_deref().filter(|n| n.trim_start().starts_with(ACUMATICA_ORIGIN)))?;
    let rest = text.trim().strip_prefix(ACUMATICA_ORIGIN.trim_end())?.trim();
    let (kind, nbr) = rest.rsplit_once(' ')?;
    Some((PoType::parse(kind), nbr.trim().to_string()))
}

/// The options of `cin7-acumatica-po`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoOptions {
    pub items: ItemCodes,
    /// Create orders On Hold (a buyer releases them) instead of Open.
    pub hold: bool,
    /// The Acumatica account of lines without a product (option `items = "none"`, lines without a
    /// SKU, charges without an account code).
    pub non_stock_account: Option<String>,
    /// Which Cin7 `AdditionalAttribute` holds the origin of purchases raised from Acumatica.
    pub origin_attribute: u8,
    /// How far back the first poll looks, days (0 = everything).
    pub initial_lookback_days: u32,
    pub page_size: u32,
    pub overlap_secs: u64,
}

impl Default for PoOptions {
    fn default() -> Self {
        PoOptions {
            items: ItemCodes::SameCode,
            hold: false,
            non_stock_account: None,
            origin_attribute: 10,
            initial_lookback_days: 90,
            page_size: 250,
            overlap_secs: 120,
        }
    }
}

impl PoOptions {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=10).contains(&self.origin_attribute) {
            return Err(format!("origin_attribute = {} is out of range (1 to 10)", self.origin_attribute));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(format!("page_size = {} is out of range (1 to 1000)", self.page_size));
        }
        if self.items == ItemCodes::None && self.non_stock_account.as_deref().is_none_or(|a| a.trim().is_empty()) {
            return Err(
                "items = \"none\" needs non_stock_account: the Acumatica account lines without a product go to".into(),
            );
        }
        Ok(())
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: PoOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let cin7 = ctx.source_connection::<Cin7Connection>("cin7")?.client.clone();
    let acu = ctx.target_connection::<AcumaticaConnection>("acumatica")?.client.clone();
    let list = ListOptions { page_size: opts.page_size, overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("purchase", || Ok(PurchaseSource::new(&conn, cin7, list)))?;
    let target = Arc::new(PurchaseOrderTarget::new(&ctx.settings.target, acu));
    let flow = Cin7AcumaticaPo { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND), opts };
    ctx.add(flow, source, target)
}

/// The flow.
pub struct Cin7AcumaticaPo {
    name: String,
    scope: String,
    opts: PoOptions,
}

/// The item code of a SKU per the `items` option (`None` with `items = "none"`).
pub fn item_code(r: &mut Resolver<'_>, kind: MappingKind, items: ItemCodes, sku: &str) -> Option<String> {
    match items {
        ItemCodes::SameCode => Some(r.resolve_optional(kind, sku).unwrap_or_else(|| sku.trim().to_string())),
        ItemCodes::Mapped => r.resolve(kind, sku),
        ItemCodes::None => None,
    }
}

fn sku_of(sku: &Option<String>) -> Option<&str> {
    sku.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Price after the line discount, to 4 places.
pub fn net_price(price: Decimal, discount: Option<Decimal>) -> Decimal {
    let d = discount.unwrap_or_default();
    (price * (Decimal::ONE_HUNDRED - d) / Decimal::ONE_HUNDRED).round_dp(4)
}

fn summary(p: &Purchase) -> ItemSummary {
    ItemSummary {
        label: format!("purchase order {} from {}", p.order_number, p.supplier_name),
        vendor: Some(p.supplier_name.clone()),
        amount: p.order.totals.total.or(p.order.totals.before_tax),
        currency: p.currency.as_deref().and_then(|c| c.parse().ok()),
        document_date: p.order_date,
        ..Default::default()
    }
}

#[async_trait]
impl FlowDef for Cin7AcumaticaPo {
    type Source = PurchaseSource;
    type Target = PurchaseOrderTarget;
    type Doc = Arc<Purchase>;

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

    fn documents(&self, record: &SourceRecord<Arc<Purchase>>) -> Vec<SourceDoc<Arc<Purchase>>> {
        let p = &record.record;
        vec![SourceDoc {
            entity: "purchase-order".into(),
            id: format!("{}/po", p.id),
            version: if record.version.is_empty() { p.order_number.clone() } else { record.version.clone() },
            summary: summary(p),
            record: p.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<Purchase>>) -> Eligibility {
        let p = &doc.record;
        if p.is_voided() || p.order.status == DocStatus::Voided {
            return Eligibility::skip(codes::VOIDED, format!("purchase {} is voided in Cin7", p.order_number));
        }
        if let Some((kind, nbr)) = acumatica_origin(p, self.opts.origin_attribute) {
            return Eligibility::skip(
                codes::FROM_ACUMATICA,
                format!(
                    "purchase {} was raised from Acumatica order {kind} {nbr}: that order is its purchase order",
                    p.order_number
                ),
            );
        }
        if p.order.status != DocStatus::Authorised {
            return Eligibility::skip(
                codes::NOT_AUTHORISED,
                format!(
                    "the order of purchase {} is {} in Cin7: it goes to Acumatica once it is authorised",
                    p.order_number,
                    p.order.status.as_str()
                ),
            );
        }
        if p.invoices.iter().any(|i| i.status.is_authorised()) {
            return Eligibility::skip(
                codes::INVOICED,
                format!(
                    "purchase {} is invoiced already: its bill goes to Acumatica through cin7-acumatica-bill (linked to the order raised for it, if any); the order is not changed any more",
                    p.order_number
                ),
            );
        }
        Eligibility::Eligible
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<Purchase>>) -> Vec<MappingKey> {
        let p = &doc.record;
        let k = |kind: MappingKind, s: &str| MappingKey::new(&self.scope, kind, s);
        let mut keys = Vec::new();
        if let Some(s) = &p.supplier_id {
            keys.push(k(MappingKind::VENDOR, s));
        }
        if let Some(l) = p.location.as_deref().filter(|l| !l.trim().is_empty()) {
            keys.push(k(MappingKind::BRANCH, l));
            keys.push(k(ACUMATICA_WAREHOUSE, l));
        }
        for l in &p.order.lines {
            if let Some(s) = sku_of(&l.sku) {
                keys.push(k(ACUMATICA_ITEM, s));
            }
        }
        for c in &p.order.additional_charges {
            if let Some(a) = c.account.as_deref().filter(|a| !a.trim().is_empty()) {
                keys.push(k(MappingKind::ACCOUNT, a));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn map(&self, doc: &SourceDoc<Arc<Purchase>>, set: &MappingSet) -> Result<PoDoc, MapError> {
        let p = &doc.record;
        let mut r = Resolver::new(set, &self.scope);
        let supplier = p
            .supplier_id
            .clone()
            .ok_or_else(|| MapError::Invalid(format!("purchase {} has no supplier in Cin7", p.order_number)))?;
        let vendor = r.resolve(MappingKind::VENDOR, &supplier);
        let location = p.location.as_deref().filter(|l| !l.trim().is_empty());
        let branch = location.and_then(|l| r.resolve_optional(MappingKind::BRANCH, l));
        let warehouse = location.and_then(|l| r.resolve_optional(ACUMATICA_WAREHOUSE, l));
        let fallback = self.opts.non_stock_account.clone().filter(|a| !a.trim().is_empty());
        let mut lines = Vec::with_capacity(p.order.lines.len() + p.order.additional_charges.len());
        for (n, l) in p.order.lines.iter().enumerate() {
            let qty = l.quantity.unwrap_or_default();
            if qty <= Decimal::ZERO {
                return Err(MapError::Invalid(format!(
                    "line {} ({}) of purchase {} has quantity {qty}: correct it in Cin7",
                    n + 1,
                    l.name,
                    p.order_number
                )));
            }
            let item = sku_of(&l.sku).and_then(|s| item_code(&mut r, ACUMATICA_ITEM, self.opts.items, s));
            let account = if item.is_some() { None } else { fallback.clone() };
            if item.is_none()
                && account.is_none()
                && !(self.opts.items == ItemCodes::Mapped && sku_of(&l.sku).is_some())
            {
                return Err(MapError::Invalid(format!(
                    "line {} ({}) of purchase {} has no product code: give it one in Cin7, or set option non_stock_account",
                    n + 1,
                    l.name,
                    p.order_number
                )));
            }
            lines.push(PoLineDraft {
                line_type: item.is_none().then_some(LineType::NonStock),
                inventory_id: item,
                description: Some(l.name.clone()),
                qty,
                uom: None,
                unit_cost: net_price(l.price.unwrap_or_default(), l.discount),
                account,
                subaccount: None,
                warehouse: warehouse.clone(),
                promised: None,
            });
        }
        for c in &p.order.additional_charges {
            let account = match c.account.as_deref().filter(|a| !a.trim().is_empty()) {
                Some(a) => r.resolve(MappingKind::ACCOUNT, a),
                None => Some(fallback.clone().ok_or_else(|| {
                    MapError::Invalid(format!(
                        "charge {:?} of purchase {} has no account code in Cin7: add one, or set option non_stock_account",
                        c.description, p.order_number
                    ))
                })?),
            };
            lines.push(PoLineDraft {
                line_type: Some(LineType::NonStock),
                inventory_id: None,
                description: Some(c.description.clone()),
                qty: c.quantity.unwrap_or(Decimal::ONE),
                uom: None,
                unit_cost: net_price(c.price.unwrap_or_default(), c.discount),
                account,
                subaccount: None,
                warehouse: None,
                promised: None,
            });
        }
        r.finish().map_err(MapError::Missing)?;
        if lines.is_empty() {
            return Err(MapError::Invalid(format!("purchase {} has no order lines in Cin7", p.order_number)));
        }
        let draft = PoDraft {
            kind: PoType::Normal,
            vendor_id: vendor.unwrap_or_default(),
            reference: Some(p.order_number.clone()),
            description: Some(format!("Cin7 {} {}", p.order_number, p.supplier_name)),
            date: p.order_date,
            promised_on: p.required_by,
            hold: self.opts.hold,
            branch,
            location: None,
            terms: None,
            currency: p.currency.clone(),
            lines,
        };
        Ok(PoDoc { draft, label: format!("Cin7 purchase {} from {}", p.order_number, p.supplier_name) })
    }

    fn plan(&self, _doc: &PoDoc, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            Some(f) if f.up_to_date => Plan::Matched(f.target),
            Some(f) => Plan::Update(f.target),
        }
    }

    fn pairings(&self, doc: &SourceDoc<Arc<Purchase>>, target: &TargetRef) -> Vec<(MappingKey, String)> {
        vec![(MappingKey::new(&self.scope, PO_ORIGIN, &target.id), format!("cin7:{}", doc.record.id))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_refuse_items_none_without_an_account() {
        assert!(PoOptions::default().check().is_ok());
        let o = PoOptions { items: ItemCodes::None, ..PoOptions::default() };
        assert!(o.check().unwrap_err().contains("non_stock_account"));
        let o: PoOptions = serde_json::from_value(serde_json::json!({"items": "mapped", "hold": true})).unwrap();
        assert_eq!((o.items, o.hold), (ItemCodes::Mapped, true));
        assert!(serde_json::from_value::<PoOptions>(serde_json::json!({"itmes": "mapped"})).is_err());
    }

    #[test]
    fn discounts_come_off_the_price() {
        assert_eq!(net_price(Decimal::new(85, 2), Some(Decimal::TEN)), Decimal::new(7650, 4));
        assert_eq!(net_price(Decimal::new(2150, 3), None), Decimal::new(2150, 3));
    }
}
