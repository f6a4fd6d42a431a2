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
//! commitment whose requisitions lack a number or vendor. No date filter exists on Procore's side
//! for these dates, so every document is listed.
//!
//! **Lines.** The GL account of a Procore row comes from its cost type through its commitment
//! line (the flow's placement rules), which this reader does not repeat: each document is one
//! line with its project (the Procore project id, as the `project` mapping keys it) and no account;
//! the page says so. A negative document (a credit) is its own credit line.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use mlc_core::tieout::{SourceDocument, SourceLine, TieoutError, TieoutOptions, TieoutReader};
use rust_decimal::Decimal;

use crate::client::ProcoreClient;
use crate::connection::ProcoreConnection;
use crate::errors::ProcoreError;
use crate::invoices::RequisitionQuery;
use crate::model::{DirectCostStatus, DirectCostType, Requisition};

/// The flow kind whose documents are direct costs (every other Procore AP kind: requisitions).
pub const DIRECT_KIND: &str = "procore-deltek-ap-direct";

fn flag(opts: &TieoutOptions, key: &str) -> bool {
    opts.flow_options.get(key).and_then(serde_json::Value::as_bool).unwrap_or(false)
}

fn one_line(project: i64, amount: Decimal) -> Option<Vec<SourceLine>> {
    Some(vec![SourceLine { account: None, project: Some(project.to_string()), amount }])
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
        for d in self.list_direct_costs(project, None).await? {
            let Some(date) = d.direct_cost_date.or(d.received_date).filter(|x| (from..=to).contains(x)) else {
                continue;
            };
            let kind_ok = d.direct_cost_type == DirectCostType::Invoice
                || (expenses && d.direct_cost_type == DirectCostType::Expense);
            let amount = d.total();
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
                approved: d.status == DirectCostStatus::Approved && kind_ok,
                status: format!("{} ({})", d.status, d.direct_cost_type),
                lines: one_line(project, amount),
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
        // Commitment id → (number, vendor id), read once each when needed.
        let mut commitments: HashMap<i64, (Option<String>, Option<i64>)> = HashMap::new();
        for r in self.list_requisitions(project, &RequisitionQuery::default()).await? {
            let Some(date) = r.billing_date.or(r.requisition_end).filter(|x| (from..=to).contains(x)) else {
                continue;
            };
            let number_given = r.invoice_number.clone().filter(|n| !n.trim().is_empty());
            let (mut number, mut vendor) = (number_given.clone(), r.vendor_id);
            if number.is_none() || vendor.is_none() {
                let (k_number, k_vendor) = self.commitment_of(&r, &mut commitments).await?;
                vendor = vendor.or(k_vendor);
                number = number.or_else(|| Some(format!("{}-{}", k_number?, r.number?)));
            }
            let (_, _, net) = r.totals();
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
                lines: one_line(project, net),
                note: None,
            });
        }
        Ok(())
    }

    async fn commitment_of(
        &self,
        r: &Requisition,
        cache: &mut HashMap<i64, (Option<String>, Option<i64>)>,
    ) -> Result<(Option<String>, Option<i64>), ProcoreError> {
        let (Some(project), Some(id)) = (r.project_id, r.commitment_id) else { return Ok((None, None)) };
        if let Some(c) = cache.get(&id) {
            return Ok(c.clone());
        }
        let found = self.find_commitment(project, id).await?.map(|c| (c.number.clone(), c.vendor_id()));
        let found = found.unwrap_or((None, None));
        cache.insert(id, found.clone());
        Ok(found)
    }
}

#[async_trait]
impl TieoutReader for ProcoreConnection {
    fn system_name(&self) -> &'static str {
        "Procore"
    }

    fn limits(&self, _opts: &TieoutOptions) -> Vec<String> {
        vec![
            "Procore gives each row's GL account through its cost type and commitment line (the flow's placement \
             rules), which the tie-out does not repeat: Procore's side is totalled by vendor and project only; its \
             amounts are under \"(no GL account in the source)\" by GL account."
                .into(),
        ]
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
