//! Subcontractor invoices (requisitions) and direct costs (fact sheet §8.3, §8.4), and the
//! optional `origin_id` write-back.
//!
//! - **Versions.** With `requisitions_api = "v1.1"` (default) one read gives `vendor_id` and the
//!   G703 rows (`view=extended`); with `"v1.0"` the vendor is only `vendor_name` and the rows come
//!   from `…/{id}/detail`. [`ProcoreClient::requisition_vendor_id`] fills the vendor from the
//!   commitment when the invoice does not carry it.
//! - **Filters are re-checked** on every record: `filters[status]` takes one value (an array is
//!   dropped and every status comes back) and direct costs have no status filter at all.
//! - **Direct cost lines** come from the v1.1 show; when an answer has none (the v1.0 show, or a
//!   trimmed answer), from `…/direct_costs/{id}/line_items`.
//! - **Write-back is off by default and never blind.** Setting `origin_id` locks the record in
//!   Procore ("synced with ERP"), so the flows only do it when an option says so. A write first
//!   reads the record (already carrying this origin id: done; another one: [`ProcoreError::Locked`]);
//!   a write whose answer is lost is resolved by reading the record back, never by sending again.

use mlc_http::Request;
use serde_json::json;

use crate::client::{ProcoreClient, Span, range_param};
use crate::directory::within;
use crate::errors::ProcoreError;
use crate::model::{CommitmentKind, DirectCost, LineItem, Requisition, RequisitionItem, RequisitionStatus};
use crate::settings::RequisitionsApi;

/// What a requisition listing asks for; every condition is re-checked on each record.
#[derive(Debug, Clone, Default)]
pub struct RequisitionQuery {
    pub updated: Option<Span>,
    pub status: Option<RequisitionStatus>,
    pub commitment_id: Option<i64>,
}

/// The outcome of a write-back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteBack {
    /// Procore took it.
    Written,
    /// The record already carried this origin id (an earlier attempt, or someone else).
    AlreadySet,
    /// The answer was lost but reading the record back shows the write happened.
    ConfirmedAfterDoubt,
}

impl ProcoreClient {
    fn requisitions_path(&self) -> &'static str {
        match self.settings().requisitions_api {
            RequisitionsApi::V11 => "rest/v1.1/requisitions",
            RequisitionsApi::V10 => "rest/v1.0/requisitions",
        }
    }

    /// A project's requisitions (with their rows on v1.1).
    pub async fn list_requisitions(
        &self,
        project: i64,
        q: &RequisitionQuery,
    ) -> Result<Vec<Requisition>, ProcoreError> {
        let mut query = vec![("project_id".to_string(), project.to_string())];
        if self.settings().requisitions_api == RequisitionsApi::V11 {
            query.push(("view".into(), "extended".into()));
        }
        if let Some(s) = &q.updated {
            query.push(("filters[updated_at]".into(), range_param(s)));
        }
        if let Some(s) = &q.status {
            query.push(("filters[status]".into(), s.as_str().to_string()));
        }
        if let Some(c) = q.commitment_id {
            query.push(("filters[commitment_id]".into(), c.to_string()));
        }
        let what = format!("the subcontractor invoices of project {project}");
        let all: Vec<Requisition> = self.list_all(self.requisitions_path(), &query, &what).await?;
        Ok(all
            .into_iter()
            .filter(|r| within(&r.updated_at, q.updated.as_ref()))
            .filter(|r| q.status.as_ref().is_none_or(|s| &r.status == s))
            .filter(|r| q.commitment_id.is_none_or(|c| r.commitment_id == Some(c)))
            .map(|mut r| {
                r.project_id.get_or_insert(project);
                r
            })
            .collect())
    }

    /// One requisition with its G703 rows; `None` when it does not exist.
    pub async fn get_requisition(&self, project: i64, id: i64) -> Result<Option<Requisition>, ProcoreError> {
        let what = format!("subcontractor invoice {id} of project {project}");
        let mut req = Request::get(format!("{}/{id}", self.requisitions_path())).query("project_id", project);
        if self.settings().requisitions_api == RequisitionsApi::V11 {
            req = req.query("view", "extended");
        }
        let Some(mut r) = self.get_opt::<Requisition>(req, &what).await? else { return Ok(None) };
        r.project_id.get_or_insert(project);
        if r.items.is_empty() {
            let detail = Request::get(format!("rest/v1.0/requisitions/{id}/detail")).query("project_id", project);
            r.items = self.get_json::<Vec<RequisitionItem>>(detail, &format!("the lines of {what}")).await?;
        }
        Ok(Some(r))
    }

    /// The vendor of a requisition: its `vendor_id` (v1.1), else its commitment's vendor (v1.0
    /// names the vendor only by `vendor_name`).
    pub async fn requisition_vendor_id(&self, r: &Requisition) -> Result<Option<i64>, ProcoreError> {
        if let Some(v) = r.vendor_id {
            return Ok(Some(v));
        }
        let (Some(project), Some(commitment)) = (r.project_id, r.commitment_id) else { return Ok(None) };
        let kinds = match r.commitment_type.as_deref().and_then(CommitmentKind::parse) {
            Some(k) => vec![k],
            None => vec![CommitmentKind::WorkOrder, CommitmentKind::PurchaseOrder],
        };
        for k in kinds {
            if let Some(c) = self.get_commitment(project, k, commitment).await? {
                return Ok(c.vendor_id());
            }
        }
        Ok(None)
    }

    /// A project's direct costs (list shape: no lines), optionally only those updated in `updated`.
    pub async fn list_direct_costs(
        &self,
        project: i64,
        updated: Option<&Span>,
    ) -> Result<Vec<DirectCost>, ProcoreError> {
        let mut query = Vec::new();
        if let Some(s) = updated {
            query.push(("filters[updated_at]".to_string(), range_param(s)));
        }
        let what = format!("the direct costs of project {project}");
        let all: Vec<DirectCost> =
            self.list_all(&format!("rest/v1.1/projects/{project}/direct_costs"), &query, &what).await?;
        Ok(all.into_iter().filter(|d| d.deleted_at.is_none() && within(&d.updated_at, updated)).collect())
    }

    /// One direct cost with its lines; `None` when it does not exist.
    pub async fn get_direct_cost(&self, project: i64, id: i64) -> Result<Option<DirectCost>, ProcoreError> {
        let what = format!("direct cost {id} of project {project}");
        let req = Request::get(format!("rest/v1.1/projects/{project}/direct_costs/{id}"));
        let Some(mut d) = self.get_opt::<DirectCost>(req, &what).await? else { return Ok(None) };
        if d.line_items.is_empty() {
            let path = format!("rest/v1.0/projects/{project}/direct_costs/{id}/line_items");
            d.line_items = self.list_all::<LineItem>(&path, &[], &format!("the lines of {what}")).await?;
        }
        Ok(Some(d))
    }

    /// Direct costs of a project with this invoice number (the natural key).
    pub async fn find_direct_costs_by_invoice_number(
        &self,
        project: i64,
        number: &str,
    ) -> Result<Vec<DirectCost>, ProcoreError> {
        let query = vec![("filters[invoice_number]".to_string(), number.to_string())];
        let what = format!("direct costs of project {project} with invoice number {number:?}");
        let all: Vec<DirectCost> =
            self.list_all(&format!("rest/v1.1/projects/{project}/direct_costs"), &query, &what).await?;
        Ok(all.into_iter().filter(|d| d.invoice_number.as_deref() == Some(number)).collect())
    }

    /// Stamp a requisition with the ERP's id (locks it in Procore). See the module docs.
    pub async fn set_requisition_origin_id(
        &self,
        project: i64,
        id: i64,
        origin_id: &str,
    ) -> Result<WriteBack, ProcoreError> {
        let what = format!("subcontractor invoice {id} of project {project}");
        let current = |r: Option<Requisition>| r.map(|r| r.origin_id);
        let before = current(self.get_requisition(project, id).await?)
            .ok_or_else(|| ProcoreError::Invalid { what: what.clone(), problem: "does not exist".into() })?;
        if let Some(w) = settled(&what, before.as_deref(), origin_id)? {
            return Ok(w);
        }
        let req = Request::patch(format!("rest/v1.0/requisitions/{id}"))
            .json(&json!({ "project_id": project, "requisition": { "origin_id": origin_id } }));
        match self.send(req, &what).await {
            Ok(_) => Ok(WriteBack::Written),
            Err(ProcoreError::InDoubt { detail, .. }) => {
                let after = current(self.get_requisition(project, id).await?).flatten();
                confirm(&what, after.as_deref(), origin_id, detail)
            }
            Err(e) => Err(e),
        }
    }

    /// Stamp a direct cost with the ERP's id (locks it in Procore). See the module docs.
    pub async fn set_direct_cost_origin_id(
        &self,
        project: i64,
        id: i64,
        origin_id: &str,
    ) -> Result<WriteBack, ProcoreError> {
        let what = format!("direct cost {id} of project {project}");
        let before = self
            .get_direct_cost(project, id)
            .await?
            .map(|d| d.origin_id)
            .ok_or_else(|| ProcoreError::Invalid { what: what.clone(), problem: "does not exist".into() })?;
        if let Some(w) = settled(&what, before.as_deref(), origin_id)? {
            return Ok(w);
        }
        let req = Request::patch(format!("rest/v1.0/projects/{project}/direct_costs/{id}"))
            .json(&json!({ "direct_cost": { "origin_id": origin_id } }));
        match self.send(req, &what).await {
            Ok(_) => Ok(WriteBack::Written),
            Err(ProcoreError::InDoubt { detail, .. }) => {
                let after = self.get_direct_cost(project, id).await?.and_then(|d| d.origin_id);
                confirm(&what, after.as_deref(), origin_id, detail)
            }
            Err(e) => Err(e),
        }
    }
}

/// Before writing: already this origin id → done; another one → locked; none → write.
fn settled(what: &str, current: Option<&str>, wanted: &str) -> Result<Option<WriteBack>, ProcoreError> {
    match current {
        Some(c) if c == wanted => Ok(Some(WriteBack::AlreadySet)),
        Some(c) => Err(ProcoreError::Locked { what: what.to_string(), origin: c.to_string() }),
        None => Ok(None),
    }
}

/// After a lost answer: the read-back decides.
fn confirm(what: &str, after: Option<&str>, wanted: &str, detail: String) -> Result<WriteBack, ProcoreError> {
    if after == Some(wanted) {
        Ok(WriteBack::ConfirmedAfterDoubt)
    } else {
        Err(ProcoreError::InDoubt {
            what: what.to_string(),
            detail: format!("{detail}; read back: origin_id {after:?}"),
        })
    }
}
