//! `cin7-deltek-ap`: Cin7 Core supplier invoices → Deltek Vantagepoint AP vouchers.
//!
//! **Source** ([`PurchaseSource`], shared with every flow reading Cin7 purchases on the same
//! connection: each purchase is read back once per version). A Cin7 purchase holds an order and,
//! once the supplier bills, one invoice (Simple purchases) or several (Advanced), plus credit notes;
//! each sub-document has its own status (`DRAFT` → `AUTHORISED` → `PAID`, or `VOIDED`).
//!
//! **Documents.** Each purchase read back becomes one document per supplier invoice
//! (`<purchase>/invoice/<task>`) and per credit note (`<purchase>/credit-note/<task>`); a purchase
//! with neither becomes one `<purchase>/order` document, which is skipped with its stage as the
//! reason. A document's version is a hash of what this flow reads from it, so a purchase touched
//! for an unrelated reason (a payment, a stock receipt) does not create new work.
//!
//! **Eligibility.** Only `AUTHORISED` (or `PAID`) invoices post. Drafts, voided invoices, voided
//! purchases and order-stage purchases are skipped with the reason recorded. Authorised credit
//! notes post as negative vouchers (option `credit_notes = "negative_voucher"`, the default) or
//! are skipped for a person to review (`"hold"`). A credit note's invoice number in Deltek is its
//! Cin7 credit-note number prefixed `CN-` (unless it already starts with `CN`), so it can never
//! collide with an invoice number of the same vendor.
//!
//! **Mapping** (scope `cin7-deltek`): supplier id → Deltek vendor number (kind `vendor`, learnt
//! by the `cin7-deltek-vendors` flow or imported), every line's and charge's Cin7 account code →
//! Deltek GL account (kind `account`), and the project from the configured source (kind
//! `project`, target `WBS1|WBS2|WBS3`): `project_source = "attribute"` (the purchase's
//! `project_attribute`, default `AdditionalAttribute1`), `"location"`, `"supplier"` (a per-supplier
//! default keyed by supplier id) or `"none"`. A purchase with no project key gets none (the
//! accounts then decide: overhead accounts need no project).
//!
//! **Target** ([`ApVoucherTarget`], shared with every flow into Deltek). Lines keep Cin7's tax: under exclusive tax the line total is net and `Tax` is
//! added; under inclusive tax the tax is taken out of the total. Additional charges (freight)
//! become lines of their own. The purchase's order number goes on every line as the PO number.
//! Before every create the voucher is looked up by vendor + invoice number (our own, in doubt,
//! or keyed by hand, posted or not); pre-post checks (open period, active vendor, active
//! accounts, project/account compatibility) run first unless `precheck = false`. A voucher that
//! lands as draft or pending approval is reported with that status, not as a failure.
//!
//! Nothing is ever written back to Cin7.

use std::sync::Arc;

use mlc_cin7::{BillPart, Cin7Connection, DocStatus, Line, ListOptions, Purchase, PurchaseBill, PurchaseSource};
use mlc_core::connect::BuildError;
use mlc_core::domain::{ApInvoice, ApInvoiceDraft, ApLine, DocumentKind, ProjectRef};
use mlc_core::engine::flow::{Eligibility, FlowSpec, MapError, SourceDoc};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use mlc_core::money::{Currency, Tolerance};
use mlc_deltek::{ApVoucherTarget, DeltekConnection};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};

/// The mapping scope the Cin7 → Deltek flows share by default (`mapping_scope` in a flow's
/// configuration chooses another, e.g. one per Deltek database).
pub const SCOPE: &str = "cin7-deltek";

/// Stable skip codes of this flow.
pub mod codes {
    pub const ORDER_STAGE: &str = "order_stage";
    pub const DRAFT: &str = "draft";
    pub const VOIDED: &str = "voided";
    pub const CREDIT_NOTE_HELD: &str = "credit_note_held";
    pub const OTHER_STATUS: &str = "other_status";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "cin7-deltek-ap",
        description: "Cin7 Core authorised supplier invoices → Deltek Vantagepoint AP vouchers",
        source_system: "cin7",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<ApOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// Where a purchase's project comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ProjectSource {
    /// An additional attribute of the purchase (`project_attribute`).
    #[default]
    Attribute,
    /// The purchase's location (an office, a site).
    Location,
    /// A per-supplier default (mapping keyed by the supplier id).
    Supplier,
    /// No project on any line.
    None,
}

/// What to do with authorised supplier credit notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CreditNotes {
    /// Post as a negative voucher.
    #[default]
    NegativeVoucher,
    /// Skip them, for a person to enter.
    Hold,
}

/// The flow's options (`[flows.cin7-deltek-ap] options = { ... }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApOptions {
    pub project_source: ProjectSource,
    pub project_attribute: String,
    pub credit_notes: CreditNotes,
    /// How far back the first poll looks, days (0 = everything).
    pub initial_lookback_days: u32,
    /// Re-list records stamped this close to the cursor (late commits), seconds.
    pub overlap_secs: u64,
    pub page_size: u32,
    /// Run Deltek's pre-post checks before each create.
    pub precheck: bool,
}

impl ApOptions {
    /// Ranges serde cannot check.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=1000).contains(&self.page_size) {
            return Err(format!(
                "page_size = {} is out of range (1 to 1000; Cin7 pages hold at most 1000)",
                self.page_size
            ));
        }
        if self.project_source == ProjectSource::Attribute && self.project_attribute.trim().is_empty() {
            return Err("project_attribute is empty: name the purchase attribute that holds the project".into());
        }
        Ok(())
    }
}

impl Default for ApOptions {
    fn default() -> Self {
        ApOptions {
            project_source: ProjectSource::Attribute,
            project_attribute: "AdditionalAttribute1".into(),
            credit_notes: CreditNotes::NegativeVoucher,
            initial_lookback_days: 90,
            overlap_secs: 120,
            page_size: 250,
            precheck: true,
        }
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: ApOptions = ctx.options()?;
    let cin7 = ctx.source_connection::<Cin7Connection>("cin7")?.client.clone();
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let list = ListOptions { page_size: opts.page_size, overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let source = ctx.source("purchase", || Ok(PurchaseSource::new(&conn, cin7, list)))?;
    let target =
        Arc::new(ApVoucherTarget::new(&ctx.settings.target, deltek, opts.precheck).with_memory(ctx.engine.sequences()));
    let flow = Cin7DeltekAp::new(ctx.name, &ctx.mapping_scope(&KIND), opts);
    ctx.add(flow, source, target)
}

/// Lines and charges of the document, as (description, account, line) triples to map.
fn bill_lines(doc: &PurchaseBill) -> Vec<BillLine> {
    let (lines, charges) = doc.lines_and_charges();
    let mut out: Vec<BillLine> = lines.iter().map(BillLine::from_line).collect();
    out.extend(charges.iter().map(|c| BillLine {
        description: c.reference.as_ref().map_or_else(|| c.description.clone(), |r| format!("{} ({r})", c.description)),
        account: c.account.clone(),
        quantity: c.quantity,
        price: c.price,
        total: c.total,
        tax: c.tax,
    }));
    out
}

struct BillLine {
    description: String,
    account: Option<String>,
    quantity: Option<Decimal>,
    price: Option<Decimal>,
    total: Option<Decimal>,
    tax: Option<Decimal>,
}

impl BillLine {
    fn from_line(l: &Line) -> Self {
        let description = match &l.sku {
            Some(sku) if !sku.is_empty() && !l.name.contains(sku.as_str()) => format!("{} ({sku})", l.name),
            _ => l.name.clone(),
        };
        BillLine {
            description,
            account: l.account.clone(),
            quantity: l.quantity,
            price: l.price,
            total: l.total,
            tax: l.tax,
        }
    }
}

/// The flow.
pub struct Cin7DeltekAp {
    name: String,
    scope: String,
    opts: ApOptions,
}

impl Cin7DeltekAp {
    pub fn new(name: &str, scope: &str, opts: ApOptions) -> Self {
        Cin7DeltekAp { name: name.to_string(), scope: scope.to_string(), opts }
    }

    /// The project key of a purchase per `project_source`, as a mapping source code.
    fn project_key(&self, p: &Purchase) -> Option<String> {
        let key = match self.opts.project_source {
            ProjectSource::Attribute => p
                .additional_attributes
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&self.opts.project_attribute))
                .map(|(_, v)| v.clone()),
            ProjectSource::Location => p.location.clone(),
            ProjectSource::Supplier => p.supplier_id.as_ref().map(|s| format!("supplier:{s}")),
            ProjectSource::None => None,
        };
        key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty())
    }
}

fn credit_note_number(n: &str) -> String {
    let t = n.trim();
    if t.to_ascii_uppercase().starts_with("CN") { t.to_string() } else { format!("CN-{t}") }
}

#[async_trait::async_trait]
impl FlowDef for Cin7DeltekAp {
    type Source = PurchaseSource;
    type Target = ApVoucherTarget;
    type Doc = PurchaseBill;

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

    fn documents(&self, record: &SourceRecord<Arc<Purchase>>) -> Vec<SourceDoc<PurchaseBill>> {
        PurchaseBill::split(&record.record)
    }

    fn eligibility(&self, doc: &SourceDoc<PurchaseBill>) -> Eligibility {
        let p = &doc.record.purchase;
        if p.is_voided() {
            return Eligibility::skip(codes::VOIDED, format!("purchase {} is voided in Cin7", p.order_number));
        }
        match (&doc.record.part, doc.record.invoice(), doc.record.credit_note()) {
            (BillPart::OrderStage, _, _) => Eligibility::skip(
                codes::ORDER_STAGE,
                format!(
                    "order stage: purchase {} has no supplier invoice yet (status {})",
                    p.order_number,
                    if p.status.is_empty() { "unknown" } else { &p.status }
                ),
            ),
            (_, Some(i), _) => match &i.status {
                s if s.is_authorised() => Eligibility::Eligible,
                DocStatus::Draft => {
                    Eligibility::skip(codes::DRAFT, "supplier invoice is a draft in Cin7 (not authorised yet)")
                }
                DocStatus::Voided => Eligibility::skip(codes::VOIDED, "supplier invoice was voided in Cin7"),
                other => {
                    Eligibility::skip(codes::OTHER_STATUS, format!("supplier invoice status is {}", other.as_str()))
                }
            },
            (_, _, Some(c)) => match &c.status {
                s if s.is_authorised() => match self.opts.credit_notes {
                    CreditNotes::NegativeVoucher => Eligibility::Eligible,
                    CreditNotes::Hold => Eligibility::skip(
                        codes::CREDIT_NOTE_HELD,
                        "credit note held for review (option credit_notes = \"hold\"): enter it in Deltek by hand, or set credit_notes = \"negative_voucher\" and replay",
                    ),
                },
                DocStatus::Draft => {
                    Eligibility::skip(codes::DRAFT, "credit note is a draft in Cin7 (not authorised yet)")
                }
                DocStatus::Voided => Eligibility::skip(codes::VOIDED, "credit note was voided in Cin7"),
                other => Eligibility::skip(codes::OTHER_STATUS, format!("credit note status is {}", other.as_str())),
            },
            _ => Eligibility::skip(codes::VOIDED, "document no longer present in the purchase"),
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<PurchaseBill>) -> Vec<MappingKey> {
        let p = &doc.record.purchase;
        let mut keys = Vec::new();
        if let Some(s) = &p.supplier_id {
            keys.push(MappingKey::new(&self.scope, MappingKind::VENDOR, s));
        }
        for l in bill_lines(&doc.record) {
            if let Some(a) = l.account.as_deref().filter(|a| !a.trim().is_empty()) {
                keys.push(MappingKey::new(&self.scope, MappingKind::ACCOUNT, a));
            }
        }
        if let Some(k) = self.project_key(p) {
            keys.push(MappingKey::new(&self.scope, MappingKind::PROJECT, k));
        }
        keys.sort();
        keys.dedup();
        keys
    }

    fn map(&self, doc: &SourceDoc<PurchaseBill>, set: &MappingSet) -> Result<ApInvoice, MapError> {
        let p = &doc.record.purchase;
        let mut r = Resolver::new(set, &self.scope);
        let supplier = p
            .supplier_id
            .clone()
            .ok_or_else(|| MapError::Invalid(format!("purchase {} has no supplier id in Cin7", p.order_number)))?;
        let vendor = r.resolve(MappingKind::VENDOR, &supplier);
        let lines = bill_lines(&doc.record);
        let mut accounts = Vec::with_capacity(lines.len());
        for (n, l) in lines.iter().enumerate() {
            match l.account.as_deref().filter(|a| !a.trim().is_empty()) {
                Some(a) => accounts.push(r.resolve(MappingKind::ACCOUNT, a)),
                None => {
                    return Err(MapError::Invalid(format!(
                        "line {} ({}) of purchase {} has no account code in Cin7",
                        n + 1,
                        l.description,
                        p.order_number
                    )));
                }
            }
        }
        let project = match self.project_key(p) {
            Some(k) => match r.resolve(MappingKind::PROJECT, &k) {
                Some(t) => Some(ProjectRef::parse_key(&t).ok_or_else(|| {
                    MapError::Invalid(format!("the project mapping for {k:?} is {t:?}, not WBS1|WBS2|WBS3"))
                })?),
                None => None,
            },
            None => None,
        };
        r.finish().map_err(MapError::Missing)?;

        let (kind, number, date, due, totals) = match (doc.record.invoice(), doc.record.credit_note()) {
            (Some(i), _) => (
                DocumentKind::Invoice,
                i.number.clone().filter(|n| !n.trim().is_empty()).ok_or_else(|| {
                    MapError::Invalid(format!(
                        "supplier invoice on purchase {} has no invoice number in Cin7: enter the supplier's number, then replay",
                        p.order_number
                    ))
                })?,
                i.invoice_date,
                i.due_date,
                i.totals,
            ),
            (_, Some(c)) => (
                DocumentKind::CreditMemo,
                c.number.as_deref().filter(|n| !n.trim().is_empty()).map(credit_note_number).ok_or_else(|| {
                    MapError::Invalid(format!("credit note on purchase {} has no number in Cin7", p.order_number))
                })?,
                c.date,
                None,
                c.totals,
            ),
            _ => return Err(MapError::Invalid("order-stage purchases carry no bill".into())),
        };
        let date = date
            .ok_or_else(|| MapError::Invalid(format!("{number} on purchase {} has no date in Cin7", p.order_number)))?;
        let currency: Currency = p
            .currency
            .as_deref()
            .ok_or_else(|| MapError::Invalid(format!("purchase {} has no currency in Cin7", p.order_number)))?
            .parse()
            .map_err(|e| MapError::Invalid(format!("purchase {}: {e}", p.order_number)))?;
        let inclusive = p.tax_calculation.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("inclusive"));
        let mut ap_lines = Vec::with_capacity(lines.len());
        for (n, (l, account)) in lines.iter().zip(accounts).enumerate() {
            let tax = l.tax.unwrap_or_default();
            let total = l.total.unwrap_or_else(|| l.quantity.unwrap_or(Decimal::ONE) * l.price.unwrap_or_default());
            let net = if inclusive { total - tax } else { total };
            ap_lines.push(ApLine {
                line_no: n as u32 + 1,
                description: l.description.clone(),
                account: account.unwrap_or_default(),
                project: project.clone(),
                cost_code: None,
                quantity: l.quantity,
                unit_price: l.price,
                net_amount: net,
                tax_amount: tax,
                po_number: Some(p.order_number.clone()),
            });
        }
        if ap_lines.is_empty() {
            return Err(MapError::Invalid(format!("{number} on purchase {} has no lines", p.order_number)));
        }
        let computed: Decimal = ap_lines.iter().map(ApLine::amount).sum();
        let draft = ApInvoiceDraft {
            // The document, not the whole purchase: two invoices of one Advanced purchase are two
            // source documents.
            source: mlc_core::domain::SourceRef { entity: doc.entity.clone(), id: doc.id.clone(), ..p.source_ref() },
            kind,
            vendor: vendor.unwrap_or_default(),
            vendor_name: Some(p.supplier_name.clone()),
            invoice_number: number,
            invoice_date: date,
            due_date: due.filter(|d| *d >= date),
            currency,
            po_number: Some(p.order_number.clone()),
            terms: p.terms.clone(),
            description: Some(format!("Cin7 {} {}", p.order_number, p.supplier_name)),
            lines: ap_lines,
            header_tax: Decimal::ZERO,
            total: totals.total.unwrap_or(computed),
            tolerance: Tolerance::default(),
        };
        ApInvoice::try_new(draft).map_err(|e| MapError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_note_numbers_get_a_prefix_once() {
        assert_eq!(credit_note_number("1042"), "CN-1042");
        assert_eq!(credit_note_number("CN-7"), "CN-7");
        assert_eq!(credit_note_number(" cn100 "), "cn100");
    }

    #[test]
    fn options_default_and_reject_unknown_keys() {
        let o: ApOptions = serde_json::from_value(serde_json::json!({"project_source": "location"})).unwrap();
        assert_eq!(o.project_source, ProjectSource::Location);
        assert_eq!(o.credit_notes, CreditNotes::NegativeVoucher);
        let e = serde_json::from_value::<ApOptions>(serde_json::json!({"projct_source": "x"})).unwrap_err();
        assert!(e.to_string().contains("projct_source"), "{e}");
    }
}
