//! `cin7-acumatica-bill`: each authorised Cin7 Core supplier invoice → one Acumatica AP bill;
//! each authorised supplier credit note → one debit adjustment (or held: option `credit_notes`).
//!
//! **Source** ([`PurchaseSource`], shared with the Deltek AP flow and the Acumatica PO flow: one
//! read per purchase version for all of them). A purchase holds one document per supplier invoice
//! (`<purchase>/invoice/<task>`) and per credit note (`<purchase>/credit-note/<task>`); a purchase
//! with neither is one `<purchase>/order` document, skipped with its stage. A document's version
//! is a hash of what this flow reads from it (payments and stock receipts change nothing).
//!
//! **Eligibility**: `AUTHORISED` or `PAID` invoices and credit notes post; voided purchases and
//! documents (`voided`), drafts (`draft`), order-stage purchases (`order_stage`), credit notes
//! under `credit_notes = "hold"` (`credit_note_held`) and other statuses (`other_status`) are
//! skipped with the reason.
//!
//! **Mapping** (scope `cin7-acumatica`): supplier → vendor code (`vendor`, learnt by the supplier
//! sync), each line's and charge's Cin7 account code → Acumatica account (`account`, required) and
//! → subaccount (`subaccount`, optional: Acumatica's default otherwise), the location → branch
//! (`branch`, optional), SKUs → InventoryIDs as in `cin7-acumatica-po` (`acumatica_item`, option
//! `items`). Every missing mapping is listed at once; the document waits in `needs_mapping`.
//!
//! **The bill**: `VendorRef` is the supplier's invoice (credit-note) number, dates as in Cin7,
//! one line per Cin7 line and charge (net of tax; a discounted line keeps its quantity when the net
//! unit cost is exact to 4 places, else becomes one line of the net amount). Acumatica computes
//! tax from its own tax zones, so Cin7's tax amount goes on one line to `tax_account` when that
//! option is set; a document carrying tax without it is refused, naming the option. Lines are
//! linked to the purchase order's lines (same item) when the order exists and is open for
//! billing: the order `cin7-acumatica-po` raised for the purchase, or the Acumatica order the
//! purchase was raised from (its origin attribute). The bill lands on hold, balanced (default) or
//! released (option `bill_state`); the description names the origin (`Cin7 PO-00105 SINV-5005`),
//! which is how a bill already there is recognised as this one. A different bill holding the
//! same vendor + number waits for a person (`needs_review`).

use std::sync::Arc;

use async_trait::async_trait;
use mlc_acumatica::model::{BillDraft, BillLineDraft, BillType};
use mlc_acumatica::{AcumaticaConnection, BillDoc, BillState, BillTarget, PoRef};
use mlc_cin7::{Cin7Connection, CreditNote, DocStatus, Invoice, Line, ListOptions, Purchase, PurchaseSource};
use mlc_core::connect::BuildError;
use mlc_core::engine::flow::{Eligibility, FlowSpec, Found, MapError, Plan, SourceDoc};
use mlc_core::engine::model::ItemSummary;
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::cin7_acumatica_po::{ACUMATICA_ITEM, ItemCodes, acumatica_origin, item_code};
use crate::cin7_acumatica_vendors::SCOPE;

/// Stable skip codes of this flow.
pub mod codes {
    pub const ORDER_STAGE: &str = "order_stage";
    pub const DRAFT: &str = "draft";
    pub const VOIDED: &str = "voided";
    pub const CREDIT_NOTE_HELD: &str = "credit_note_held";
    pub const OTHER_STATUS: &str = "other_status";
}

/// What every bill's origin marker starts with.
pub const ORIGIN_PREFIX: &str = "Cin7 ";

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "cin7-acumatica-bill",
        description: "Cin7 Core authorised supplier invoices → Acumatica AP bills (credit notes → debit adjustments)",
        source_system: "cin7",
        target_system: "acumatica",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<BillOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// What to do with authorised supplier credit notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CreditNotes {
    /// A debit adjustment against the vendor.
    #[default]
    DebitAdjustment,
    /// Skip them, for a person to enter.
    Hold,
}

/// The options of `cin7-acumatica-bill`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BillOptions {
    /// `hold`, `balanced` (default) or `release`.
    pub bill_state: BillState,
    pub credit_notes: CreditNotes,
    pub items: ItemCodes,
    /// The Acumatica account Cin7's tax amounts are posted to, as one line (none: documents
    /// carrying tax are refused).
    pub tax_account: Option<String>,
    /// Link lines to the purchase order's lines when there is one.
    pub link_po: bool,
    /// Which Cin7 `AdditionalAttribute` holds the origin of purchases raised from Acumatica.
    pub origin_attribute: u8,
    /// How far back the first poll looks, days (0 = everything).
    pub initial_lookback_days: u32,
    pub page_size: u32,
    pub overlap_secs: u64,
}

impl Default for BillOptions {
    fn default() -> Self {
        BillOptions {
            bill_state: BillState::Balanced,
            credit_notes: CreditNotes::DebitAdjustment,
            items: ItemCodes::SameCode,
            tax_account: None,
            link_po: true,
            origin_attribute: 10,
            initial_lookback_days: 90,
            page_size: 250,
            overlap_secs: 120,
        }
    }
}

impl BillOptions {
    pub fn check(&self) -> Result<(), String> {
        if !(1..=10).contains(&self.origin_attribute) {
            return Err(format!("origin_attribute = {} is out of range (1 to 10)", self.origin_attribute));
        }
        if !(1..=1000).contains(&self.page_size) {
            return Err(format!("page_size = {} is out of range (1 to 1000)", self.page_size));
        }
        if self.tax_account.as_deref().is_some_and(|a| a.trim().is_empty()) {
            return Err("tax_account is empty: name an Acumatica account, or leave it out".into());
        }
        Ok(())
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: BillOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let cin7 = ctx.source_connection::<Cin7Connection>("cin7")?.client.clone();
    let acu = ctx.target_connection::<AcumaticaConnection>("acumatica")?.client.clone();
    let list = ListOptions { page_size: opts.page_size, overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("purchase", || Ok(PurchaseSource::new(&conn, cin7, list)))?;
    let target = Arc::new(BillTarget::new(&ctx.settings.target, acu));
    let flow = Cin7AcumaticaBill { name: ctx.name.to_string(), scope: ctx.mapping_scope(&KIND), opts };
    ctx.add(flow, source, target)
}

/// Which part of a purchase a document is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Part {
    Invoice(usize),
    CreditNote(usize),
    /// No invoice or credit note yet.
    OrderStage,
}

/// One document of a purchase.
#[derive(Debug, Clone)]
pub struct InvoiceDoc {
    pub purchase: Arc<Purchase>,
    pub part: Part,
}

impl InvoiceDoc {
    fn invoice(&self) -> Option<&Invoice> {
        match self.part {
            Part::Invoice(i) => self.purchase.invoices.get(i),
            _ => None,
        }
    }

    fn credit_note(&self) -> Option<&CreditNote> {
        match self.part {
            Part::CreditNote(i) => self.purchase.credit_notes.get(i),
            _ => None,
        }
    }

    /// `(lines, charges)` of the document.
    fn parts(&self) -> (&[Line], &[mlc_cin7::Charge]) {
        match (self.invoice(), self.credit_note()) {
            (Some(i), _) => (&i.lines, &i.additional_charges),
            (_, Some(c)) => (&c.lines, &c.additional_charges),
            _ => (&[], &[]),
        }
    }

    fn version(&self) -> String {
        #[derive(Serialize)]
        struct Fingerprint<'a> {
            part: &'a Part,
            voided: bool,
            supplier: &'a Option<String>,
            currency: &'a Option<String>,
            location: &'a Option<String>,
            tax_calculation: &'a Option<String>,
            attributes: &'a std::collections::BTreeMap<String, String>,
            order_number: &'a str,
            invoice: Option<&'a Invoice>,
            credit_note: Option<&'a CreditNote>,
        }
        let p = &self.purchase;
        // Payments change a PAID invoice's record but not the bill.
        let invoice = self.invoice().map(|i| Invoice { payments: Vec::new(), paid: None, ..i.clone() });
        let f = Fingerprint {
            part: &self.part,
            voided: p.is_voided(),
            supplier: &p.supplier_id,
            currency: &p.currency,
            location: &p.location,
            tax_calculation: &p.tax_calculation,
            attributes: &p.additional_attributes,
            order_number: &p.order_number,
            invoice: invoice.as_ref(),
            credit_note: self.credit_note(),
        };
        let json = serde_json::to_vec(&f).unwrap_or_default();
        Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}

/// The documents of a purchase (see the module docs).
pub fn documents_of(p: &Arc<Purchase>) -> Vec<SourceDoc<InvoiceDoc>> {
    let mut parts: Vec<(String, &str, Part)> = Vec::new();
    for (i, inv) in p.invoices.iter().enumerate() {
        if inv.status != DocStatus::NotAvailable {
            parts.push((format!("{}/invoice/{}", p.id, inv.task_id), "purchase-invoice", Part::Invoice(i)));
        }
    }
    for (i, cn) in p.credit_notes.iter().enumerate() {
        if cn.status != DocStatus::NotAvailable {
            parts.push((format!("{}/credit-note/{}", p.id, cn.task_id), "purchase-credit-note", Part::CreditNote(i)));
        }
    }
    if parts.is_empty() {
        parts.push((format!("{}/order", p.id), "purchase", Part::OrderStage));
    }
    parts
        .into_iter()
        .map(|(id, entity, part)| {
            let doc = InvoiceDoc { purchase: p.clone(), part };
            SourceDoc { entity: entity.into(), id, version: doc.version(), summary: summary(&doc), record: doc }
        })
        .collect()
}

fn summary(doc: &InvoiceDoc) -> ItemSummary {
    let p = &doc.purchase;
    let supplier = if p.supplier_name.is_empty() { "unknown supplier".to_string() } else { p.supplier_name.clone() };
    let (label, amount, date) = match (doc.invoice(), doc.credit_note()) {
        (Some(i), _) => (
            format!("invoice {} from {supplier} ({})", i.number.as_deref().unwrap_or("(no number)"), p.order_number),
            i.totals.total,
            i.invoice_date,
        ),
        (_, Some(c)) => (
            format!(
                "credit note {} from {supplier} ({})",
                c.number.as_deref().unwrap_or("(no number)"),
                p.order_number
            ),
            c.totals.total.map(|t| -t),
            c.date,
        ),
        _ => (format!("purchase {} from {supplier} (order stage)", p.order_number), None, p.order_date),
    };
    ItemSummary {
        label,
        vendor: Some(supplier),
        project: None,
        amount,
        currency: p.currency.as_deref().and_then(|c| c.parse().ok()),
        document_date: date,
    }
}

/// The flow.
pub struct Cin7AcumaticaBill {
    name: String,
    scope: String,
    opts: BillOptions,
}

/// A line of the document, net of tax.
struct NetLine {
    sku: Option<String>,
    description: String,
    account: Option<String>,
    quantity: Decimal,
    net: Decimal,
    tax: Decimal,
}

fn net_lines(doc: &InvoiceDoc) -> Vec<NetLine> {
    let p = &doc.purchase;
    let inclusive = p.tax_calculation.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("inclusive"));
    let net = |total: Option<Decimal>, q: Option<Decimal>, price: Option<Decimal>, d: Option<Decimal>, tax: Decimal| {
        let total = total.unwrap_or_else(|| {
            (q.unwrap_or(Decimal::ONE) * price.unwrap_or_default() * (Decimal::ONE_HUNDRED - d.unwrap_or_default())
                / Decimal::ONE_HUNDRED)
                .round_dp(2)
        });
        if inclusive { total - tax } else { total }
    };
    let (lines, charges) = doc.parts();
    let mut out: Vec<NetLine> = lines
        .iter()
        .map(|l| {
            let tax = l.tax.unwrap_or_default();
            NetLine {
                sku: l.sku.clone().filter(|s| !s.trim().is_empty()),
                description: l.name.clone(),
                account: l.account.clone().filter(|a| !a.trim().is_empty()),
                quantity: l.quantity.unwrap_or(Decimal::ONE),
                net: net(l.total, l.quantity, l.price, l.discount, tax),
                tax,
            }
        })
        .collect();
    out.extend(charges.iter().map(|c| {
        let tax = c.tax.unwrap_or_default();
        NetLine {
            sku: None,
            description: c
                .reference
                .as_ref()
                .map_or_else(|| c.description.clone(), |r| format!("{} ({r})", c.description)),
            account: c.account.clone().filter(|a| !a.trim().is_empty()),
            quantity: c.quantity.unwrap_or(Decimal::ONE),
            net: net(c.total, c.quantity, c.price, c.discount, tax),
            tax,
        }
    }));
    out
}

#[async_trait]
impl FlowDef for Cin7AcumaticaBill {
    type Source = PurchaseSource;
    type Target = BillTarget;
    type Doc = InvoiceDoc;

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

    fn documents(&self, record: &SourceRecord<Arc<Purchase>>) -> Vec<SourceDoc<InvoiceDoc>> {
        documents_of(&record.record)
    }

    fn eligibility(&self, doc: &SourceDoc<InvoiceDoc>) -> Eligibility {
        let p = &doc.record.purchase;
        if p.is_voided() {
            return Eligibility::skip(codes::VOIDED, format!("purchase {} is voided in Cin7", p.order_number));
        }
        match (&doc.record.part, doc.record.invoice(), doc.record.credit_note()) {
            (Part::OrderStage, _, _) => Eligibility::skip(
                codes::ORDER_STAGE,
                format!(
                    "order stage: purchase {} has no supplier invoice yet (its order goes through cin7-acumatica-po)",
                    p.order_number
                ),
            ),
            (_, Some(i), _) => match &i.status {
                s if s.is_authorised() => Eligibility::Eligible,
                DocStatus::Draft => Eligibility::skip(
                    codes::DRAFT,
                    format!("supplier invoice of purchase {} is a draft in Cin7 (not authorised yet)", p.order_number),
                ),
                DocStatus::Voided => Eligibility::skip(
                    codes::VOIDED,
                    format!("the supplier invoice of purchase {} was voided in Cin7", p.order_number),
                ),
                other => Eligibility::skip(
                    codes::OTHER_STATUS,
                    format!(
                        "the supplier invoice of purchase {} is {} in Cin7; only authorised (or paid) invoices post",
                        p.order_number,
                        other.as_str()
                    ),
                ),
            },
            (_, _, Some(c)) => match &c.status {
                s if s.is_authorised() => match self.opts.credit_notes {
                    CreditNotes::DebitAdjustment => Eligibility::Eligible,
                    CreditNotes::Hold => Eligibility::skip(
                        codes::CREDIT_NOTE_HELD,
                        format!(
                            "credit note of purchase {} held (option credit_notes = \"hold\"): enter the debit adjustment in Acumatica by hand, or set credit_notes = \"debit_adjustment\" and replay",
                            p.order_number
                        ),
                    ),
                },
                DocStatus::Draft => Eligibility::skip(
                    codes::DRAFT,
                    format!("the credit note of purchase {} is a draft in Cin7 (not authorised yet)", p.order_number),
                ),
                DocStatus::Voided => Eligibility::skip(
                    codes::VOIDED,
                    format!("the credit note of purchase {} was voided in Cin7", p.order_number),
                ),
                other => Eligibility::skip(
                    codes::OTHER_STATUS,
                    format!("the credit note of purchase {} is {} in Cin7", p.order_number, other.as_str()),
                ),
            },
            _ => Eligibility::skip(codes::VOIDED, "the document is no longer in the purchase"),
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<InvoiceDoc>) -> Vec<MappingKey> {
        let p = &doc.record.purchase;
        let k = |kind: MappingKind, s: &str| MappingKey::new(&self.scope, kind, s);
        let mut keys = Vec::new();
        if let Some(s) = &p.supplier_id {
            keys.push(k(MappingKind::VENDOR, s));
        }
        if let Some(l) = p.location.as_deref().filter(|l| !l.trim().is_empty()) {
            keys.push(k(MappingKind::BRANCH, l));
        }
        for l in net_lines(&doc.record) {
            if let Some(a) = &l.account {
                keys.push(k(MappingKind::ACCOUNT, a));
                keys.push(k(MappingKind::SUBACCOUNT, a));
            }
            if let Some(s) = &l.sku {
                keys.push(k(ACUMATICA_ITEM, s));
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn map(&self, doc: &SourceDoc<InvoiceDoc>, set: &MappingSet) -> Result<BillDoc, MapError> {
        let d = &doc.record;
        let p = &d.purchase;
        let mut r = Resolver::new(set, &self.scope);
        let supplier = p
            .supplier_id
            .clone()
            .ok_or_else(|| MapError::Invalid(format!("purchase {} has no supplier in Cin7", p.order_number)))?;
        let vendor = r.resolve(MappingKind::VENDOR, &supplier);
        let branch = p.location.as_deref().and_then(|l| r.resolve_optional(MappingKind::BRANCH, l));
        let source_lines = net_lines(d);
        let mut lines = Vec::with_capacity(source_lines.len() + 1);
        let mut tax = Decimal::ZERO;
        for (n, l) in source_lines.iter().enumerate() {
            let Some(code) = &l.account else {
                return Err(MapError::Invalid(format!(
                    "line {} ({}) of purchase {} has no account code in Cin7: add it on the supplier invoice, then replay",
                    n + 1,
                    l.description,
                    p.order_number
                )));
            };
            let account = r.resolve(MappingKind::ACCOUNT, code);
            let subaccount = r.resolve_optional(MappingKind::SUBACCOUNT, code);
            let item = l.sku.as_deref().and_then(|s| item_code(&mut r, ACUMATICA_ITEM, self.opts.items, s));
            // Keep the quantity when the net unit cost is exact to 4 places.
            let (qty, unit) = match (l.quantity > Decimal::ZERO).then(|| (l.net / l.quantity).round_dp(4)) {
                Some(u) if u * l.quantity == l.net => (l.quantity, u),
                _ => (Decimal::ONE, l.net),
            };
            lines.push(BillLineDraft {
                inventory_id: item,
                description: Some(l.description.clone()),
                qty: Some(qty),
                uom: None,
                unit_cost: Some(unit),
                amount: None,
                account,
                subaccount,
                branch: None,
                po: None,
            });
            tax += l.tax;
        }
        r.finish().map_err(MapError::Missing)?;
        let (kind, number, date, due) = match (d.invoice(), d.credit_note()) {
            (Some(i), _) => (BillType::Bill, i.number.clone(), i.invoice_date, i.due_date),
            (_, Some(c)) => (BillType::DebitAdj, c.number.clone(), c.date, None),
            _ => return Err(MapError::Invalid("order-stage purchases carry no bill".into())),
        };
        let what = if kind == BillType::Bill { "supplier invoice" } else { "credit note" };
        let number = number.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).ok_or_else(|| {
            MapError::Invalid(format!(
                "the {what} of purchase {} has no number in Cin7: enter the supplier's number, then replay",
                p.order_number
            ))
        })?;
        let date = date.ok_or_else(|| {
            MapError::Invalid(format!("{what} {number} of purchase {} has no date in Cin7", p.order_number))
        })?;
        if !tax.is_zero() {
            match self.opts.tax_account.as_deref() {
                Some(a) => lines.push(BillLineDraft {
                    description: Some(format!("Tax (Cin7 {})", p.tax_rule.as_deref().unwrap_or("tax rule"))),
                    qty: Some(Decimal::ONE),
                    unit_cost: Some(tax),
                    account: Some(a.to_string()),
                    ..Default::default()
                }),
                None => {
                    return Err(MapError::Invalid(format!(
                        "{what} {number} of purchase {} carries tax of {} and Acumatica computes tax from its own tax zones: set option tax_account to post Cin7's tax as a line",
                        p.order_number,
                        tax.round_dp(2)
                    )));
                }
            }
        }
        if lines.is_empty() {
            return Err(MapError::Invalid(format!("{what} {number} of purchase {} has no lines", p.order_number)));
        }
        let total: Decimal =
            lines.iter().map(|l| (l.qty.unwrap_or(Decimal::ONE) * l.unit_cost.unwrap_or_default()).round_dp(2)).sum();
        let po = self.opts.link_po.then(|| match acumatica_origin(p, self.opts.origin_attribute) {
            Some((kind, nbr)) => PoRef::Order { kind, nbr },
            None => PoRef::ByReference { reference: p.order_number.clone() },
        });
        let draft = BillDraft {
            kind,
            vendor: vendor.unwrap_or_default(),
            vendor_ref: number.clone(),
            date: Some(date),
            due_date: due.filter(|x| *x >= date),
            description: None,
            hold: self.opts.bill_state == BillState::Hold,
            branch,
            terms: None,
            currency: p.currency.clone(),
            lines,
        };
        Ok(BillDoc {
            draft,
            po,
            state: self.opts.bill_state,
            origin: format!("{ORIGIN_PREFIX}{} {number}", p.order_number),
            origin_prefix: ORIGIN_PREFIX.into(),
            total,
        })
    }

    fn plan(&self, doc: &BillDoc, found: Option<Found>) -> Plan {
        match found {
            None => Plan::Create,
            // Our own bill, not yet where the option wants it (a release that failed): advance it.
            Some(f) if !f.up_to_date && f.facts.source_doc.as_deref() == Some(doc.origin.as_str()) => {
                Plan::Update(f.target)
            }
            Some(f) => Plan::AlreadyPresent(f.target),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_and_check() {
        let o = BillOptions::default();
        assert_eq!(
            (o.bill_state, o.credit_notes, o.link_po),
            (BillState::Balanced, CreditNotes::DebitAdjustment, true)
        );
        let o: BillOptions =
            serde_json::from_value(serde_json::json!({"bill_state": "release", "credit_notes": "hold"})).unwrap();
        assert_eq!((o.bill_state, o.credit_notes), (BillState::Release, CreditNotes::Hold));
        let bad = BillOptions { tax_account: Some(" ".into()), ..BillOptions::default() };
        assert!(bad.check().unwrap_err().contains("tax_account"));
        assert!(serde_json::from_value::<BillOptions>(serde_json::json!({"bill_stat": "hold"})).is_err());
    }
}
