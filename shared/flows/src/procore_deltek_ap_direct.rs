//! `procore-deltek-ap-direct`: approved Procore direct costs of type `invoice` (supplier
//! invoices entered against a job; `expense` too by option) → Deltek Vantagepoint AP vouchers.
//!
//! **Source** ([`DirectCostSource`], `<connection>/direct-cost`): every project's direct costs,
//! polled page by page with a per-project cursor, read back with the v1.1 show (its
//! `line_items`; the lines endpoint when the show has none). Procore's `Direct Costs` webhooks are
//! hints that bring a change in at once; the poll (nightly is enough: `every = "1d"`) is the
//! reconciliation that catches every delivery Procore lost or gave up on.
//!
//! **Documents.** One per direct cost (`<project>/<id>`), versioned by a hash of what this flow
//! reads (so the optional `origin_id` write-back makes no new work).
//!
//! **Eligibility.** Status `approved` and type `invoice` (and `expense` with
//! `include_expenses = true`). Payroll never becomes a voucher; drafts, pending and
//! revise-and-resubmit costs wait; each skip has its code ([`codes`]).
//!
//! **Mapping** (scope `procore-deltek`, [`crate::procore_deltek`]): the direct cost's vendor →
//! Deltek vendor; project → WBS1; each line's cost code → phase and cost type → GL account.
//!
//! **Voucher.** Vendor + the supplier's invoice number (required: a direct cost without one fails
//! naming the fix), looked up in Deltek before every create; date = `direct_cost_date` (else
//! received date); due date = `payment_date`; terms as Procore has them (`Net 30`).
//!
//! **Zero amounts** fail naming the cause (nothing posts); so does Deltek reading amounts back as
//! zero. **Write-back** (`write_back_origin_id`, off by default) stamps `origin_id` with the
//! voucher, which locks the direct cost in Procore ("synced with ERP").

use std::sync::Arc;

use mlc_core::connect::BuildError;
use mlc_core::domain::{ApInvoice, ApInvoiceDraft, ApLine, DocumentKind, SourceRef};
use mlc_core::engine::flow::{Eligibility, FlowSpec, MapError, SourceDoc, StepError};
use mlc_core::engine::model::{ItemSummary, TargetRef};
use mlc_core::engine::parts::{FlowDef, SourceRecord};
use mlc_core::mapping::{MappingKey, MappingKind, MappingSet, Resolver};
use mlc_core::money::Tolerance;
use mlc_deltek::{ApVoucherTarget, DeltekConnection};
use mlc_procore::{
    CurrencyConfiguration, DirectCostRecord, DirectCostSource, DirectCostStatus, DirectCostType, LineItem, PollOptions,
    ProcoreConnection,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::procore_deltek::{
    AccountSource, CostLine, PhaseSource, Placer, SCOPE, WriteBack, currency, fingerprint, first_date, lookback,
    project_label, project_number,
};
use crate::procore_deltek_ap_subcontract::check_common;

/// Stable skip codes of this flow.
pub mod codes {
    pub const DRAFT: &str = "draft";
    pub const PENDING: &str = "pending";
    pub const REVISE_AND_RESUBMIT: &str = "revise_and_resubmit";
    pub const OTHER_STATUS: &str = "other_status";
    pub const PAYROLL: &str = "payroll";
    pub const EXPENSE: &str = "expense";
    pub const OTHER_TYPE: &str = "other_type";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "procore-deltek-ap-direct",
        description: "Procore approved direct-cost invoices → Deltek Vantagepoint AP vouchers",
        source_system: "procore",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<DirectOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// The flow's options (`[flows.procore-deltek-ap-direct] options = { ... }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectOptions {
    /// Post approved `expense` direct costs too.
    pub include_expenses: bool,
    pub account_source: AccountSource,
    pub phase_source: PhaseSource,
    /// Currency of direct costs Procore gives none for.
    pub currency: String,
    /// How far back the first poll looks, days (0 = everything).
    pub initial_lookback_days: u32,
    /// Re-list records stamped this close to the cursor, seconds.
    pub overlap_secs: u64,
    /// Run Deltek's pre-post checks before each create.
    pub precheck: bool,
    /// Stamp the direct cost's `origin_id` with the voucher (locks it in Procore).
    pub write_back_origin_id: bool,
}

impl Default for DirectOptions {
    fn default() -> Self {
        DirectOptions {
            include_expenses: false,
            account_source: AccountSource::CostType,
            phase_source: PhaseSource::CostCode,
            currency: "USD".into(),
            initial_lookback_days: 90,
            overlap_secs: 300,
            precheck: true,
            write_back_origin_id: false,
        }
    }
}

impl DirectOptions {
    pub fn check(&self) -> Result<(), String> {
        check_common(&self.currency, self.overlap_secs)
    }
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: DirectOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let procore = ctx.source_connection::<ProcoreConnection>("procore")?.client().clone();
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let poll = PollOptions { overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let write_back = opts.write_back_origin_id.then(|| WriteBack { client: procore.clone() });
    let source = ctx.source("direct-cost", || Ok(DirectCostSource::new(&conn, procore, poll)))?;
    let target =
        Arc::new(ApVoucherTarget::new(&ctx.settings.target, deltek, opts.precheck).with_memory(ctx.engine.sequences()));
    let flow = DirectAp::new(ctx.name, &ctx.mapping_scope(&KIND), opts, write_back);
    ctx.add(flow, source, target)
}

/// The flow.
pub struct DirectAp {
    name: String,
    placer: Placer,
    opts: DirectOptions,
    write_back: Option<WriteBack>,
}

impl DirectAp {
    pub fn new(name: &str, scope: &str, opts: DirectOptions, write_back: Option<WriteBack>) -> Self {
        let placer =
            Placer { scope: scope.to_string(), account_source: opts.account_source, phase_source: opts.phase_source };
        DirectAp { name: name.to_string(), placer, opts, write_back }
    }
}

fn cost_line(l: &LineItem) -> CostLine {
    CostLine {
        description: l.description.clone().filter(|d| !d.trim().is_empty()).unwrap_or_else(|| "direct cost".into()),
        cost_code: l.full_cost_code(),
        cost_type: l.cost_type_code(),
        amount: l.value(),
        quantity: l.quantity,
        unit_price: l.unit_cost,
    }
}

fn lines(rec: &DirectCostRecord) -> Vec<CostLine> {
    rec.direct_cost.line_items.iter().map(cost_line).filter(|l| !l.amount.is_zero()).collect()
}

fn label(rec: &DirectCostRecord) -> String {
    let d = &rec.direct_cost;
    format!(
        "{} {} from {} ({})",
        d.direct_cost_type.as_str(),
        d.invoice_number.as_deref().unwrap_or("(no invoice number)"),
        d.vendor_name().unwrap_or("no vendor"),
        project_number(rec.project.as_ref(), rec.project_id)
    )
}

#[async_trait::async_trait]
impl FlowDef for DirectAp {
    type Source = DirectCostSource;
    type Target = ApVoucherTarget;
    type Doc = Arc<DirectCostRecord>;

    fn describe(&self) -> FlowSpec {
        FlowSpec {
            name: self.name.clone(),
            kind: KIND.name.into(),
            mapping_scope: self.placer.scope.clone(),
            description: KIND.description.into(),
            lookback: lookback(self.opts.initial_lookback_days),
            ..Default::default()
        }
    }

    fn documents(&self, record: &SourceRecord<Arc<DirectCostRecord>>) -> Vec<SourceDoc<Arc<DirectCostRecord>>> {
        let rec = &record.record;
        let d = &rec.direct_cost;
        let f = (
            d.status.as_str(),
            d.direct_cost_type.as_str(),
            &d.invoice_number,
            d.direct_cost_date,
            d.received_date,
            d.payment_date,
            &d.terms,
            d.vendor_id(),
            CurrencyConfiguration::code(&d.currency_configuration),
            lines(rec),
            d.amount,
            d.grand_total,
        );
        vec![SourceDoc {
            entity: "direct-cost".into(),
            id: record.id.clone(),
            version: fingerprint(&f),
            summary: ItemSummary {
                label: label(rec),
                vendor: d.vendor_name().map(String::from),
                project: Some(project_label(rec.project.as_ref(), rec.project_id)),
                amount: Some(d.total()),
                currency: CurrencyConfiguration::code(&d.currency_configuration)
                    .unwrap_or(&self.opts.currency)
                    .parse()
                    .ok(),
                document_date: first_date(&[d.direct_cost_date, d.received_date]),
            },
            record: rec.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<DirectCostRecord>>) -> Eligibility {
        let d = &doc.record.direct_cost;
        let it = format!("direct cost {}", doc.summary.label);
        match &d.direct_cost_type {
            DirectCostType::Invoice => {}
            DirectCostType::Expense if self.opts.include_expenses => {}
            DirectCostType::Expense => {
                return Eligibility::skip(
                    codes::EXPENSE,
                    format!("{it} is an expense; to post expenses as vouchers set include_expenses = true and replay"),
                );
            }
            DirectCostType::Payroll => {
                return Eligibility::skip(
                    codes::PAYROLL,
                    format!("{it} is payroll: labour reaches Deltek through its own timesheets, never as a voucher"),
                );
            }
            other => {
                return Eligibility::skip(
                    codes::OTHER_TYPE,
                    format!("{it} has type {:?}; this flow posts invoices (and expenses by option)", other.as_str()),
                );
            }
        }
        match &d.status {
            DirectCostStatus::Approved => Eligibility::Eligible,
            DirectCostStatus::Draft => {
                Eligibility::skip(codes::DRAFT, format!("{it} is a draft in Procore: it posts once approved"))
            }
            DirectCostStatus::Pending => Eligibility::skip(
                codes::PENDING,
                format!("{it} is pending approval in Procore: it posts once approved"),
            ),
            DirectCostStatus::ReviseAndResubmit => Eligibility::skip(
                codes::REVISE_AND_RESUBMIT,
                format!("{it} was sent back (revise and resubmit) in Procore: it posts once approved"),
            ),
            other => Eligibility::skip(
                codes::OTHER_STATUS,
                format!("{it} has status {:?} in Procore; only approved direct costs post", other.as_str()),
            ),
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<DirectCostRecord>>) -> Vec<MappingKey> {
        let rec = &doc.record;
        let mut keys = self.placer.keys(rec.project_id, &lines(rec), false);
        if let Some(v) = rec.direct_cost.vendor_id() {
            keys.push(MappingKey::new(&self.placer.scope, MappingKind::VENDOR, v.to_string()));
        }
        keys
    }

    fn map(&self, doc: &SourceDoc<Arc<DirectCostRecord>>, set: &MappingSet) -> Result<ApInvoice, MapError> {
        let rec = &doc.record;
        let d = &rec.direct_cost;
        let it = format!("direct cost {}", doc.summary.label);
        if d.amounts_all_zero() {
            return Err(MapError::Invalid(format!(
                "{it}: every amount Procore gives is zero (the lines and the total); nothing was posted. Enter the \
                 amounts in Procore (or check that the integration's account can see them), then replay"
            )));
        }
        let vendor_id = d.vendor_id().ok_or_else(|| {
            MapError::Invalid(format!(
                "{it} has no vendor in Procore: choose the vendor on the direct cost, then replay"
            ))
        })?;
        let number = d.invoice_number.clone().filter(|n| !n.trim().is_empty()).ok_or_else(|| {
            MapError::Invalid(format!(
                "{it} has no invoice number in Procore: enter the supplier's number, then replay"
            ))
        })?;
        let date = first_date(&[d.direct_cost_date, d.received_date])
            .ok_or_else(|| MapError::Invalid(format!("{it} has no date in Procore")))?;
        let cost_lines = lines(rec);
        if cost_lines.is_empty() {
            return Err(MapError::Invalid(format!(
                "{it} has no lines with an amount in Procore (the total alone cannot be placed on a cost code); add its lines, then replay"
            )));
        }
        let mut res = Resolver::new(set, &self.placer.scope);
        let vendor = res.resolve(MappingKind::VENDOR, &vendor_id.to_string());
        let base = self.placer.project(&mut res, rec.project_id)?;
        let mut placed = Vec::with_capacity(cost_lines.len());
        for (n, l) in cost_lines.iter().enumerate() {
            placed.push(self.placer.place(&mut res, base.as_ref(), l, None, &format!("line {} of {it}", n + 1))?);
        }
        res.finish().map_err(MapError::Missing)?;
        let ap_lines: Vec<ApLine> = cost_lines
            .iter()
            .zip(placed)
            .enumerate()
            .filter_map(|(n, (l, p))| {
                let p = p?;
                Some(ApLine {
                    line_no: n as u32 + 1,
                    description: l.description.clone(),
                    account: p.account,
                    project: p.project,
                    cost_code: l.cost_code.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    net_amount: l.amount,
                    tax_amount: Decimal::ZERO,
                    po_number: None,
                })
            })
            .collect();
        let total: Decimal = ap_lines.iter().map(ApLine::amount).sum();
        let currency = currency(CurrencyConfiguration::code(&d.currency_configuration), &self.opts.currency, &it)?;
        let draft = ApInvoiceDraft {
            source: SourceRef {
                system: "procore".into(),
                entity: "direct-cost".into(),
                id: doc.id.clone(),
                version: doc.version.clone(),
            },
            kind: DocumentKind::Invoice,
            vendor: vendor.unwrap_or_default(),
            vendor_name: d.vendor_name().map(String::from),
            invoice_number: number,
            invoice_date: date,
            due_date: d.payment_date.filter(|p| *p >= date),
            currency,
            po_number: None,
            terms: d.terms.clone(),
            description: Some(format!(
                "Procore {} {}",
                project_number(rec.project.as_ref(), rec.project_id),
                d.description.as_deref().unwrap_or("direct cost")
            )),
            lines: ap_lines,
            header_tax: Decimal::ZERO,
            total,
            tolerance: Tolerance::default(),
        };
        ApInvoice::try_new(draft).map_err(|e| MapError::Invalid(e.to_string()))
    }

    async fn after_settled(&self, doc: &SourceDoc<Arc<DirectCostRecord>>, target: &TargetRef) -> Result<(), StepError> {
        let Some(wb) = &self.write_back else { return Ok(()) };
        let rec = &doc.record;
        wb.direct_cost(rec.project_id, rec.direct_cost.id, &WriteBack::origin_id(target)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_and_refuse_unknown_keys() {
        let o: DirectOptions = serde_json::from_value(serde_json::json!({"include_expenses": true})).unwrap();
        assert!(o.include_expenses && !o.write_back_origin_id && o.check().is_ok());
        assert!(serde_json::from_value::<DirectOptions>(serde_json::json!({"expenses": true})).is_err());
        let o: DirectOptions = serde_json::from_value(serde_json::json!({"overlap_secs": 100000})).unwrap();
        assert!(o.check().unwrap_err().contains("overlap_secs"));
    }
}
