//! `procore-deltek-ap-subcontract`: approved Procore subcontractor invoices (requisitions, the
//! AIA G702/G703 pay applications) → Deltek Vantagepoint AP vouchers.
//!
//! **Source** ([`RequisitionSource`], `<connection>/requisition`): every project's requisitions,
//! polled page by page with a per-project cursor, each read back with its commitment. Procore
//! sends **no webhook for requisitions** (fact sheet §0.2), so this flow's cadence is its poll:
//! run it every 15 minutes or so (`every = "15m"`, the default), not only nightly.
//!
//! **Documents.** One per requisition (`<project>/<id>`); its version is a hash of what this
//! flow reads (status, numbers, dates, vendor, G703 rows), so a change elsewhere — the optional
//! `origin_id` write-back included — makes no new work.
//!
//! **Eligibility.** Status `approved`; `approved_as_noted` too with
//! `include_approved_as_noted = true` (off by default: "as noted" may mean the amount changes).
//! `draft`, `under_review`, `revise_and_resubmit`, `pending_owner_approval` and any other status
//! are skipped with their own codes ([`codes`]).
//!
//! **Mapping** (scope `procore-deltek`, see [`crate::procore_deltek`]): the **commitment's vendor**
//! (else the invoice's v1.1 `vendor_id`; v1.0 names the vendor only by name) → Deltek vendor (`vendor`, learnt by
//! `procore-deltek-vendors`); the project → WBS1 (`project`); each G703 row's cost code → phase
//! (`cost_code`) and its cost type → GL account (`cost_type`). A row's cost code is its
//! `wbs_code`, else its commitment line's, else the project's cost code list; its cost type is its
//! commitment line's (`line_item_id`), else the type of the commitment's lines with the same cost
//! code, else the commitment's only cost type.
//!
//! **Voucher.** Vendor + the subcontractor's invoice number (`invoice_number`; when Procore has
//! none, `<commitment number>-<pay app number>`, e.g. `SC-001-3`) — the natural key looked up in
//! Deltek before every create; invoice date = `billing_date` (else the period end); due date =
//! `payment_date`; every line and the voucher carry the **commitment number** as the PO number;
//! one line per G703 row with an amount this period.
//!
//! **Retainage** (`retainage`): `"net"` (default) — each row at its net payable (work and stored
//! materials this period less retainage withheld, plus retainage released), so the voucher is
//! the G702's current payment due and retainage reaches Deltek only when released;
//! `"gross"` — each row at its gross amount and one more line on `retainage_account` (a
//! retainage payable liability, no project) for the retainage withheld (negative) or released
//! (positive): job cost at gross, the liability in the ledger, the voucher still the amount due.
//!
//! **Zero amounts.** A requisition whose every amount is zero (rows and G702) fails naming that
//! cause; nothing is posted. Deltek reading amounts back as zero (an API role without field
//! visibility) fails the item with the role fix (the Deltek client's check).
//!
//! **Write-back** (`write_back_origin_id`, off by default): after the voucher is in Deltek the
//! requisition's `origin_id` is set to `deltek:<voucher>`. That **locks the invoice in Procore**
//! ("synced with ERP"): nobody can edit it afterwards, and Procore lets non-admin accounts set it
//! only on the latest draft or revise-and-resubmit invoice, so most customers leave it off.
//! Nothing else is ever written to Procore.

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
    CurrencyConfiguration, PollOptions, ProcoreConnection, RequisitionItem, RequisitionRecord, RequisitionSource,
    RequisitionStatus,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{FlowContext, FlowKind, parse_options};
use crate::procore_deltek::{
    AccountSource, CostLine, PhaseSource, Placer, SCOPE, WriteBack, currency, fingerprint, first_date, lookback,
    project_label, project_number,
};

/// Stable skip codes of this flow.
pub mod codes {
    pub const DRAFT: &str = "draft";
    pub const UNDER_REVIEW: &str = "under_review";
    pub const REVISE_AND_RESUBMIT: &str = "revise_and_resubmit";
    pub const PENDING_OWNER_APPROVAL: &str = "pending_owner_approval";
    pub const APPROVED_AS_NOTED: &str = "approved_as_noted";
    pub const OTHER_STATUS: &str = "other_status";
}

crate::register_flow_kind!(
    KIND,
    FlowKind {
        name: "procore-deltek-ap-subcontract",
        description: "Procore approved subcontractor invoices (requisitions) → Deltek Vantagepoint AP vouchers",
        source_system: "procore",
        target_system: "deltek",
        mapping_scope: SCOPE,
        check_options: |o| parse_options::<SubcontractOptions>(o).and_then(|o| o.check()),
        build,
    }
);

/// How retainage reaches Deltek.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Retainage {
    /// Rows at their net payable; retainage posts when released.
    #[default]
    Net,
    /// Rows at gross, plus a retainage line on `retainage_account`.
    Gross,
}

/// The flow's options (`[flows.procore-deltek-ap-subcontract] options = { ... }`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubcontractOptions {
    /// Post `approved_as_noted` invoices too.
    pub include_approved_as_noted: bool,
    pub retainage: Retainage,
    /// Deltek GL account of retainage payable (required with `retainage = "gross"`).
    pub retainage_account: String,
    pub account_source: AccountSource,
    pub phase_source: PhaseSource,
    /// Currency of invoices Procore gives none for.
    pub currency: String,
    /// How far back the first poll looks, days (0 = everything).
    pub initial_lookback_days: u32,
    /// Re-list records stamped this close to the cursor (late commits), seconds.
    pub overlap_secs: u64,
    /// Run Deltek's pre-post checks before each create.
    pub precheck: bool,
    /// Stamp the requisition's `origin_id` with the voucher (locks it in Procore).
    pub write_back_origin_id: bool,
}

impl Default for SubcontractOptions {
    fn default() -> Self {
        SubcontractOptions {
            include_approved_as_noted: false,
            retainage: Retainage::Net,
            retainage_account: String::new(),
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

impl SubcontractOptions {
    pub fn check(&self) -> Result<(), String> {
        if self.retainage == Retainage::Gross && self.retainage_account.trim().is_empty() {
            return Err("retainage = \"gross\" needs retainage_account: the Deltek GL account of retainage payable \
                        (e.g. 20150)"
                .into());
        }
        check_common(&self.currency, self.overlap_secs)
    }
}

/// Checks both AP flows share.
pub(crate) fn check_common(currency: &str, overlap_secs: u64) -> Result<(), String> {
    currency.parse::<mlc_core::money::Currency>().map_err(|e| format!("currency = {currency:?}: {e}"))?;
    if overlap_secs > 86_400 {
        return Err(format!("overlap_secs = {overlap_secs} is out of range (0 to 86400)"));
    }
    Ok(())
}

fn build(ctx: &mut FlowContext<'_>) -> Result<(), BuildError> {
    let opts: SubcontractOptions = ctx.options()?;
    opts.check().map_err(|e| BuildError(format!("options: {e}")))?;
    let procore = ctx.source_connection::<ProcoreConnection>("procore")?.client().clone();
    let deltek = ctx.target_connection::<DeltekConnection>("deltek")?.client.clone();
    let poll = PollOptions { overlap: chrono::Duration::seconds(opts.overlap_secs as i64) };
    let conn = ctx.settings.source.clone();
    let write_back = opts.write_back_origin_id.then(|| WriteBack { client: procore.clone() });
    let source = ctx.source("requisition", || Ok(RequisitionSource::new(&conn, procore, poll)))?;
    let target =
        Arc::new(ApVoucherTarget::new(&ctx.settings.target, deltek, opts.precheck).with_memory(ctx.engine.sequences()));
    let flow = SubcontractAp::new(ctx.name, &ctx.mapping_scope(&KIND), opts, write_back);
    ctx.add(flow, source, target)
}

/// The flow.
pub struct SubcontractAp {
    name: String,
    placer: Placer,
    opts: SubcontractOptions,
    write_back: Option<WriteBack>,
}

/// One G703 row this period, placed or to be placed.
struct Row {
    line: CostLine,
    retainage: Decimal,
}

impl SubcontractAp {
    pub fn new(name: &str, scope: &str, opts: SubcontractOptions, write_back: Option<WriteBack>) -> Self {
        let placer =
            Placer { scope: scope.to_string(), account_source: opts.account_source, phase_source: opts.phase_source };
        SubcontractAp { name: name.to_string(), placer, opts, write_back }
    }

    /// The rows with an amount this period, as cost lines (amount per the retainage option).
    fn rows(&self, rec: &RequisitionRecord) -> Vec<Row> {
        rec.requisition
            .items
            .iter()
            .filter(|i| !(i.gross().is_zero() && i.retainage().is_zero()))
            .map(|i| Row {
                line: CostLine {
                    description: description(i),
                    cost_code: cost_code(rec, i),
                    cost_type: cost_type(rec, i),
                    amount: match self.opts.retainage {
                        Retainage::Net => i.net(),
                        Retainage::Gross => i.gross(),
                    },
                    quantity: None,
                    unit_price: None,
                },
                retainage: i.retainage(),
            })
            .collect()
    }
}

fn description(i: &RequisitionItem) -> String {
    let d = i.description_of_work.clone().unwrap_or_default();
    let d = d.trim();
    if i.is_change_order() {
        format!("{} (change order)", if d.is_empty() { "change order work" } else { d })
    } else if d.is_empty() {
        "work completed".into()
    } else {
        d.to_string()
    }
}

/// A row's full cost code ([`RequisitionItem::cost_code_among`] its commitment's lines).
fn cost_code(rec: &RequisitionRecord, i: &RequisitionItem) -> Option<String> {
    i.cost_code_among(commitment_lines(rec), &rec.cost_codes)
}

/// A row's cost type ([`RequisitionItem::cost_type_among`] its commitment's lines).
fn cost_type(rec: &RequisitionRecord, i: &RequisitionItem) -> Option<String> {
    i.cost_type_among(commitment_lines(rec))
}

fn commitment_lines(rec: &RequisitionRecord) -> &[mlc_procore::LineItem] {
    rec.commitment.as_ref().map(|c| c.line_items.as_slice()).unwrap_or_default()
}

fn vendor_name(rec: &RequisitionRecord) -> String {
    rec.commitment
        .as_ref()
        .and_then(|c| c.vendor.as_ref().and_then(|v| v.company.clone()))
        .or_else(|| rec.requisition.vendor_name.clone())
        .unwrap_or_else(|| "unknown vendor".into())
}

fn contract_number(rec: &RequisitionRecord) -> String {
    rec.commitment
        .as_ref()
        .and_then(|c| c.number.clone())
        .or_else(|| rec.requisition.contract_name.clone())
        .unwrap_or_else(|| format!("commitment {}", rec.requisition.commitment_id.unwrap_or_default()))
}

/// The supplier's number, else `<commitment number>-<pay app number>`.
fn invoice_number(rec: &RequisitionRecord) -> Option<String> {
    let r = &rec.requisition;
    r.invoice_number.clone().filter(|n| !n.trim().is_empty()).or_else(|| {
        let n = r.number?;
        let k = rec.commitment.as_ref().and_then(|c| c.number.clone())?;
        Some(format!("{k}-{n}"))
    })
}

fn label(rec: &RequisitionRecord) -> String {
    let r = &rec.requisition;
    format!(
        "pay app #{} {} from {} ({}, {})",
        r.number.map(|n| n.to_string()).unwrap_or_else(|| "?".into()),
        r.invoice_number.as_deref().unwrap_or("(no invoice number)"),
        vendor_name(rec),
        contract_number(rec),
        project_number(rec.project.as_ref(), rec.project_id)
    )
}

#[async_trait::async_trait]
impl FlowDef for SubcontractAp {
    type Source = RequisitionSource;
    type Target = ApVoucherTarget;
    type Doc = Arc<RequisitionRecord>;

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

    fn documents(&self, record: &SourceRecord<Arc<RequisitionRecord>>) -> Vec<SourceDoc<Arc<RequisitionRecord>>> {
        let rec = &record.record;
        let r = &rec.requisition;
        /// A G703 row as far as the voucher goes: id, cost code, cost type, gross, retainage, net.
        type ItemPrint = (i64, Option<String>, Option<String>, Decimal, Decimal, Decimal);
        #[derive(Serialize)]
        struct Fingerprint<'a> {
            status: &'a str,
            is_final: bool,
            invoice_number: &'a Option<String>,
            number: Option<i64>,
            billing_date: Option<chrono::NaiveDate>,
            period_end: Option<chrono::NaiveDate>,
            payment_date: Option<chrono::NaiveDate>,
            vendor: Option<i64>,
            commitment: Option<(&'a Option<String>, Option<i64>)>,
            currency: Option<&'a str>,
            items: Vec<ItemPrint>,
            due: Option<Decimal>,
        }
        let f = Fingerprint {
            status: r.status.as_str(),
            is_final: r.is_final,
            invoice_number: &r.invoice_number,
            number: r.number,
            billing_date: r.billing_date,
            period_end: r.requisition_end,
            payment_date: r.payment_date,
            vendor: r.vendor_id,
            commitment: rec.commitment.as_ref().map(|c| (&c.number, c.vendor_id())),
            currency: CurrencyConfiguration::code(&r.currency_configuration),
            items: r
                .items
                .iter()
                .map(|i| (i.id, cost_code(rec, i), cost_type(rec, i), i.gross(), i.retainage(), i.net()))
                .collect(),
            due: r.summary.as_ref().map(|s| s.current_payment_due),
        };
        let (_, _, net) = r.totals();
        vec![SourceDoc {
            entity: "requisition".into(),
            id: record.id.clone(),
            version: fingerprint(&f),
            summary: ItemSummary {
                label: label(rec),
                vendor: Some(vendor_name(rec)),
                project: Some(project_label(rec.project.as_ref(), rec.project_id)),
                amount: Some(net),
                currency: CurrencyConfiguration::code(&r.currency_configuration)
                    .unwrap_or(&self.opts.currency)
                    .parse()
                    .ok(),
                document_date: first_date(&[r.billing_date, r.requisition_end]),
            },
            record: rec.clone(),
        }]
    }

    fn eligibility(&self, doc: &SourceDoc<Arc<RequisitionRecord>>) -> Eligibility {
        let r = &doc.record.requisition;
        let it = format!("subcontractor invoice {}", doc.summary.label);
        match &r.status {
            RequisitionStatus::Approved => Eligibility::Eligible,
            RequisitionStatus::ApprovedAsNoted if self.opts.include_approved_as_noted => Eligibility::Eligible,
            RequisitionStatus::ApprovedAsNoted => Eligibility::skip(
                codes::APPROVED_AS_NOTED,
                format!(
                    "{it} is approved as noted in Procore; to post these, set include_approved_as_noted = true and replay"
                ),
            ),
            RequisitionStatus::Draft => {
                Eligibility::skip(codes::DRAFT, format!("{it} is a draft in Procore: it posts once approved"))
            }
            RequisitionStatus::UnderReview => Eligibility::skip(
                codes::UNDER_REVIEW,
                format!("{it} is under review in Procore: it posts once approved"),
            ),
            RequisitionStatus::ReviseAndResubmit => Eligibility::skip(
                codes::REVISE_AND_RESUBMIT,
                format!("{it} was sent back to the subcontractor (revise and resubmit): it posts once approved"),
            ),
            RequisitionStatus::PendingOwnerApproval => Eligibility::skip(
                codes::PENDING_OWNER_APPROVAL,
                format!("{it} waits for the owner's approval in Procore: it posts once approved"),
            ),
            other => Eligibility::skip(
                codes::OTHER_STATUS,
                format!("{it} has status {:?} in Procore; only approved invoices post", other.as_str()),
            ),
        }
    }

    fn required_mappings(&self, doc: &SourceDoc<Arc<RequisitionRecord>>) -> Vec<MappingKey> {
        let rec = &doc.record;
        let lines: Vec<CostLine> = self.rows(rec).into_iter().map(|r| r.line).collect();
        let mut keys = self.placer.keys(rec.project_id, &lines, false);
        if let Some(v) = rec.commitment.as_ref().and_then(|c| c.vendor_id()).or(rec.requisition.vendor_id) {
            keys.push(MappingKey::new(&self.placer.scope, MappingKind::VENDOR, v.to_string()));
        }
        keys
    }

    fn map(&self, doc: &SourceDoc<Arc<RequisitionRecord>>, set: &MappingSet) -> Result<ApInvoice, MapError> {
        let rec = &doc.record;
        let r = &rec.requisition;
        let it = format!("subcontractor invoice {}", doc.summary.label);
        if r.amounts_all_zero() {
            return Err(MapError::Invalid(format!(
                "{it}: every amount Procore gives is zero (G703 rows and the G702 summary); nothing was posted. \
                 Check the invoice in Procore — a zero pay application is usually a mistake, and an API role that \
                 cannot see amounts reads them as zero too — then replay"
            )));
        }
        let commitment = rec.commitment.as_ref().ok_or_else(|| {
            MapError::Invalid(format!(
                "{it}: its commitment {} cannot be read in Procore (deleted, or the app lacks the Commitments tool); \
                 the voucher needs the commitment's vendor and number",
                r.commitment_id.map(|c| c.to_string()).unwrap_or_else(|| "(none)".into())
            ))
        })?;
        let vendor_id = commitment.vendor_id().or(r.vendor_id).ok_or_else(|| {
            MapError::Invalid(format!(
                "{it}: neither the invoice nor commitment {} names a vendor in Procore",
                contract_number(rec)
            ))
        })?;
        let number = invoice_number(rec).ok_or_else(|| {
            MapError::Invalid(format!(
                "{it} has no invoice number in Procore: enter the subcontractor's number, then replay"
            ))
        })?;
        let date = first_date(&[r.billing_date, r.requisition_end])
            .ok_or_else(|| MapError::Invalid(format!("{it} has neither a billing date nor a period end in Procore")))?;
        let rows = self.rows(rec);
        if rows.is_empty() {
            return Err(MapError::Invalid(format!(
                "{it} has no G703 rows with an amount this period (Procore gave the lines empty); nothing to post"
            )));
        }
        let mut res = Resolver::new(set, &self.placer.scope);
        let vendor = res.resolve(MappingKind::VENDOR, &vendor_id.to_string());
        let base = self.placer.project(&mut res, rec.project_id)?;
        let mut placed = Vec::with_capacity(rows.len());
        for (n, row) in rows.iter().enumerate() {
            placed.push(self.placer.place(
                &mut res,
                base.as_ref(),
                &row.line,
                None,
                &format!("G703 row {} of {it}", n + 1),
            )?);
        }
        res.finish().map_err(MapError::Missing)?;
        let po = contract_number(rec);
        let mut lines = Vec::with_capacity(rows.len() + 1);
        for (n, (row, p)) in rows.iter().zip(placed).enumerate() {
            let Some(p) = p else { continue };
            if row.line.amount.is_zero() {
                continue;
            }
            lines.push(ApLine {
                line_no: n as u32 + 1,
                description: row.line.description.clone(),
                account: p.account,
                project: p.project,
                cost_code: row.line.cost_code.clone(),
                quantity: None,
                unit_price: None,
                net_amount: row.line.amount,
                tax_amount: Decimal::ZERO,
                po_number: Some(po.clone()),
            });
        }
        let retained: Decimal = rows.iter().map(|r| r.retainage).sum();
        if self.opts.retainage == Retainage::Gross && !retained.is_zero() {
            lines.push(ApLine {
                line_no: lines.len() as u32 + 1,
                description: if retained.is_sign_positive() { "Retainage withheld" } else { "Retainage released" }
                    .into(),
                account: self.opts.retainage_account.trim().to_string(),
                project: None,
                cost_code: None,
                quantity: None,
                unit_price: None,
                net_amount: -retained,
                tax_amount: Decimal::ZERO,
                po_number: Some(po.clone()),
            });
        }
        let total: Decimal = lines.iter().map(ApLine::amount).sum();
        if lines.is_empty() || total.is_zero() {
            return Err(MapError::Invalid(format!(
                "{it}: its amounts net to zero this period (gross less retainage); nothing to post"
            )));
        }
        let currency = currency(CurrencyConfiguration::code(&r.currency_configuration), &self.opts.currency, &it)?;
        let draft = ApInvoiceDraft {
            source: SourceRef {
                system: "procore".into(),
                entity: "requisition".into(),
                id: doc.id.clone(),
                version: doc.version.clone(),
            },
            kind: DocumentKind::Invoice,
            vendor: vendor.unwrap_or_default(),
            vendor_name: Some(vendor_name(rec)),
            invoice_number: number,
            invoice_date: date,
            due_date: r.payment_date.filter(|d| *d >= date),
            currency,
            po_number: Some(po.clone()),
            terms: None,
            description: Some(format!(
                "Procore {} {po} pay app {}",
                project_number(rec.project.as_ref(), rec.project_id),
                r.number.map(|n| n.to_string()).unwrap_or_default()
            )),
            lines,
            header_tax: Decimal::ZERO,
            total,
            tolerance: Tolerance::default(),
        };
        ApInvoice::try_new(draft).map_err(|e| MapError::Invalid(e.to_string()))
    }

    async fn after_settled(
        &self,
        doc: &SourceDoc<Arc<RequisitionRecord>>,
        target: &TargetRef,
    ) -> Result<(), StepError> {
        let Some(wb) = &self.write_back else { return Ok(()) };
        let rec = &doc.record;
        wb.requisition(rec.project_id, rec.requisition.id, &WriteBack::origin_id(target)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_default_check_and_refuse_unknown_keys() {
        let o: SubcontractOptions = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!((o.retainage, o.include_approved_as_noted, o.write_back_origin_id), (Retainage::Net, false, false));
        assert!(o.check().is_ok());
        let gross: SubcontractOptions = serde_json::from_value(serde_json::json!({"retainage": "gross"})).unwrap();
        assert!(gross.check().unwrap_err().contains("retainage_account"));
        let e = serde_json::from_value::<SubcontractOptions>(serde_json::json!({"retainge": "net"})).unwrap_err();
        assert!(e.to_string().contains("retainge"), "{e}");
        let bad: SubcontractOptions = serde_json::from_value(serde_json::json!({"currency": "dollars"})).unwrap();
        assert!(bad.check().unwrap_err().contains("currency"));
    }
}
