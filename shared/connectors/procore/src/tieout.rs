//! Subcontractor invoices (requisitions) and direct costs dated in a period, for the
//! controller's tie-out (`mlc tieout`): what Procore itself holds, not what ml-connector recorded.
//! Implements [`TieoutReader`] for [`ProcoreConnection`]; which documents it lists follows the
//! flow kind ([`TieoutOptions::kind`]): `procore-deltek-ap-subcontract` → requisitions,
//! `procore-deltek-ap-direct` → direct costs.
//!
//! - **Requisitions**: every readable project's requisitions (v1.1 `view=extended` carries the
//!   G703 rows), dated by `billing_date` (else the period end) as the flow dates the voucher; the
//!   amount is the flow's: the net payable (rows less retainage, or the G702 current payment due);
//!   approved = `approved` (and `approved_as_noted` with the flow's `include_approved_as_noted`).
//!   The number is the subcontractor's invoice number, else `<commitment number>-<pay app
//!   number>`, which costs one commitment read per commitment (also for the vendor on v1.0).
//! - **Direct costs**: every project's direct costs (list shape), dated by `direct_cost_date`
//!   (else received), amount = lines, else `grand_total`, else `amount`; approved = `approved` and
//!   of type `invoice` (and `expense` with the flow's `include_expenses`).
//!
//! Cost: one listing per project and kind (pages of 100 ...), plus one commitment read per
//! commitment billed in the period (its number and vendor where the requisition lacks them, and
//! the cost types of its lines), one cost-code list per project whose rows name a cost code by id
//! alone (with `account_source = "cost_code"`), and — for direct costs whose list entry carries no
//! lines, only when lines are asked for (`lines`) — one read per direct cost. No date filter
//! exists on Procore's side for these dates, so every document is listed.
//!
//! **Lines.** Each document's lines are placed as the flow places them
//! (`shared/flows/src/procore_deltek.rs`): a line's GL code is its cost type (`account_source =
//! "cost_type"`, the default; the `cost_type` mappings translate it) or its full cost code
//! (`"cost_code"`; the `account` mappings), found on the requisition row or its commitment line
//! by [`RequisitionItem::cost_code_among`] / [`RequisitionItem::cost_type_among`], the rules the
//! flow uses; its project is the Procore project. A requisition's rows carry the flow's amounts
//! (`retainage = "net"`: each row's net; `"gross"`: each row's gross and one line of retainage on
//! `retainage_account`, a Deltek account used as is). A document whose lines cannot be read is
//! one line without an account, under "(no GL account in the source)".

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use chrono::NaiveDate;
use mlc_core::mapping::MappingKind;
use mlc_core::tieout::{SourceDocument, SourceLine, TieoutError, TieoutOptions, TieoutReader};
use rust_decimal::Decimal;

use crate::client::ProcoreClient;
use crate::connection::ProcoreConnection;
use crate::errors::ProcoreError;
use crate::invoices::RequisitionQuery;
use crate::model::{Commitment, DirectCostStatus, DirectCostType, LineItem, RequisitionItem};

/// The flow kind whose documents are direct costs (every other Procore AP kind: requisitions).
pub const DIRECT_KIND: &str = "procore-deltek-ap-direct";

fn flag(opts: &TieoutOptions, key: &str) -> bool {
    opts.flow_options.get(key).and_then(serde_json::Value::as_bool).unwrap_or(false)
}

/// Where the flow takes a line's GL code from (its `account_source` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AccountSource {
    CostType,
    CostCode,
}

impl AccountSource {
    fn of(opts: &TieoutOptions) -> Self {
        if opts.text("account_source") == Some("cost_code") { AccountSource::CostCode } else { AccountSource::CostType }
    }

    /// The GL code of a line with this cost code and cost type.
    fn code(self, cost_code: Option<String>, cost_type: Option<String>) -> Option<String> {
        match self {
            AccountSource::CostType => cost_type,
            AccountSource::CostCode => cost_code,
        }
    }
}

fn line(project: i64, account: Option<String>, amount: Decimal) -> SourceLine {
    SourceLine { account, posted_account: None, project: Some(project.to_string()), amount }
}

/// A direct cost's lines as the flow posts them (non-zero lines), else one line without an
/// account (none for a document of zero).
fn direct_lines(project: i64, items: &[LineItem], amount: Decimal, source: AccountSource) -> Vec<SourceLine> {
    let lines: Vec<SourceLine> = items
        .iter()
        .filter(|l| !l.value().is_zero())
        .map(|l| line(project, source.code(l.full_cost_code(), l.cost_type_code()), l.value()))
        .collect();
    if lines.is_empty() && !amount.is_zero() { vec![line(project, None, amount)] } else { lines }
}

/// A requisition's G703 rows with an amount this period, as the flow posts them.
fn requisition_lines(
    project: i64,
    items: &[RequisitionItem],
    commitment: Option<&Commitment>,
    project_codes: &BTreeMap<i64, String>,
    opts: &TieoutOptions,
    amount: Decimal,
) -> Vec<SourceLine> {
    let source = AccountSource::of(opts);
    let gross = opts.text("retainage") == Some("gross");
    let lines_of_commitment = commitment.map(|c| c.line_items.as_slice()).unwrap_or_default();
    let rows: Vec<&RequisitionItem> =
        items.iter().filter(|i| !(i.gross().is_zero() && i.retainage().is_zero())).collect();
    let mut out: Vec<SourceLine> = rows
        .iter()
        .map(|i| {
            let account = source
                .code(i.cost_code_among(lines_of_commitment, project_codes), i.cost_type_among(lines_of_commitment));
            line(project, account, if gross { i.gross() } else { i.net() })
        })
        .filter(|l| !l.amount.is_zero())
        .collect();
    let retained: Decimal = rows.iter().map(|i| i.retainage()).sum();
    if gross && !retained.is_zero() {
        let account = opts.text("retainage_account").map(str::trim).filter(|a| !a.is_empty()).map(str::to_string);
        out.push(SourceLine { account: None, posted_account: account, project: None, amount: -retained });
    }
    if out.is_empty() && !amount.is_zero() { vec![line(project, None, amount)] } else { out }
}

impl ProcoreClient {
    /// The subcontractor invoices or direct costs (per `opts.kind`) dated `from..=to`, whatever
    /// their status.
    pub async fn documents_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
    ) -> Result<Vec<SourceDocument>, ProcoreError> {
        let mut out = Vec::new();
        let direct = opts.kind == DIRECT_KIND;
        for project in self.projects_to_read().await? {
            if direct {
                self.direct_costs_between(project, from, to, opts, &mut out).await?;
            } else {
                self.requisitions_between(project, from, to, opts, &mut out).await?;
            }
        }
        Ok(out)
    }

    async fn direct_costs_between(
        &self,
        project: i64,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
        out: &mut Vec<SourceDocument>,
    ) -> Result<(), ProcoreError> {
        let expenses = flag(opts, "include_expenses");
        let source = AccountSource::of(opts);
        for d in self.list_direct_costs(project, None).await? {
            let Some(date) = d.direct_cost_date.or(d.received_date).filter(|x| (from..=to).contains(x)) else {
                continue;
            };
            let kind_ok = d.direct_cost_type == DirectCostType::Invoice
                || (expenses && d.direct_cost_type == DirectCostType::Expense);
            let amount = d.total();
            let approved = d.status == DirectCostStatus::Approved && kind_ok;
            // The list may carry no lines; the show does (one read per document, when asked).
            let mut items = d.line_items.clone();
            if items.is_empty() && opts.lines && approved {
                items = self.get_direct_cost(project, d.id).await?.map(|full| full.line_items).unwrap_or_default();
            }
            out.push(SourceDocument {
                doc_id: format!("{project}/{}", d.id),
                record: format!("{project}/{}", d.id),
                number: d.invoice_number.clone().filter(|n| !n.trim().is_empty()),
                target_number: None,
                vendor_id: d.vendor_id().map(|v| v.to_string()),
                vendor_name: d.vendor_name().unwrap_or_default().to_string(),
                date,
                amount: Some(amount),
                currency: None,
                credit: amount < Decimal::ZERO,
                approved,
                status: format!("{} ({})", d.status, d.direct_cost_type),
                lines: Some(direct_lines(project, &items, amount, source)),
                note: (!kind_ok)
                    .then(|| format!("a {} direct cost: the AP flow posts invoices only", d.direct_cost_type)),
            });
        }
        Ok(())
    }

    async fn requisitions_between(
        &self,
        project: i64,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
        out: &mut Vec<SourceDocument>,
    ) -> Result<(), ProcoreError> {
        let as_noted = flag(opts, "include_approved_as_noted");
        let by_cost_code = AccountSource::of(opts) == AccountSource::CostCode;
        // Each commitment read once (its number, vendor and lines); the project's cost codes
        // once, if a row names its cost code by id alone.
        let mut commitments: HashMap<i64, Option<Commitment>> = HashMap::new();
        let mut project_codes: Option<BTreeMap<i64, String>> = None;
        for r in self.list_requisitions(project, &RequisitionQuery::default()).await? {
            let Some(date) = r.billing_date.or(r.requisition_end).filter(|x| (from..=to).contains(x)) else {
                continue;
            };
            let commitment = match r.commitment_id {
                Some(id) => {
                    if let std::collections::hash_map::Entry::Vacant(e) = commitments.entry(id) {
                        e.insert(self.commitment_of(project, &r).await?);
                    }
                    commitments.get(&id).and_then(Option::as_ref)
                }
                None => None,
            };
            let number = r
                .invoice_number
                .clone()
                .filter(|n| !n.trim().is_empty())
                .or_else(|| Some(format!("{}-{}", commitment.and_then(|c| c.number.clone())?, r.number?)));
            let vendor = r.vendor_id.or_else(|| commitment.and_then(Commitment::vendor_id));
            let lines_of_commitment = commitment.map(|c| c.line_items.as_slice()).unwrap_or_default();
            if by_cost_code
                && project_codes.is_none()
                && r.items.iter().any(|i| i.needs_project_codes(lines_of_commitment))
            {
                project_codes = Some(self.cost_code_names(project).await?);
            }
            let (_, _, net) = r.totals();
            let lines = requisition_lines(
                project,
                &r.items,
                commitment,
                project_codes.as_ref().unwrap_or(&BTreeMap::new()),
                opts,
                net,
            );
            out.push(SourceDocument {
                doc_id: format!("{project}/{}", r.id),
                record: format!("{project}/{}", r.id),
                number,
                target_number: None,
                vendor_id: vendor.map(|v| v.to_string()),
                vendor_name: r.vendor_name.clone().unwrap_or_default(),
                date,
                amount: Some(net),
                currency: None,
                credit: net < Decimal::ZERO,
                approved: r.is_approved(as_noted),
                status: r.status.to_string(),
                lines: Some(lines),
                note: None,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl TieoutReader for ProcoreConnection {
    fn system_name(&self) -> &'static str {
        "Procore"
    }

    fn limits(&self, opts: &TieoutOptions) -> Vec<String> {
        if opts.kind == DIRECT_KIND && !opts.lines {
            vec![
                "Procore's direct cost list may carry no lines: GL accounts are shown for the direct costs whose lines \
                 it gave; the others are under \"(no GL account in the source)\". Read every approved direct cost's \
                 lines with \"lines\" (one Procore call each)."
                    .into(),
            ]
        } else {
            Vec::new()
        }
    }

    fn account_mapping(&self, opts: &TieoutOptions) -> MappingKind {
        match AccountSource::of(opts) {
            AccountSource::CostType => MappingKind::COST_TYPE,
            AccountSource::CostCode => MappingKind::ACCOUNT,
        }
    }

    async fn documents_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        opts: &TieoutOptions,
    ) -> Result<Vec<SourceDocument>, TieoutError> {
        self.client().documents_between(from, to, opts).await.map_err(|e| TieoutError::new("Procore", e))
    }
}
