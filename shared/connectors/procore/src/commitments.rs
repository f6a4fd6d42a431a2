//! Commitments (work order and purchase order contracts) and their change orders (fact sheet
//! §8.5, §8.6).
//!
//! Statuses are Title Case and differ by type (`Approved`, `Out For Signature`, `Partially
//! Received` …) and change orders use lower case (`approved`, `pending` …); both are open enums
//! compared without regard to case or spacing. Money comes Ruby-style (`"1142000.0"`). A
//! commitment's lines and change orders come with the show, so the flows read one commitment
//! with [`ProcoreClient::get_commitment`]; `revised_contract` = `grand_total` + approved change
//! orders, which is what a "revised commitment posts the difference" flow compares.

use mlc_http::Request;

use crate::client::{ProcoreClient, Span, range_param};
use crate::directory::within;
use crate::errors::ProcoreError;
use crate::model::{ChangeOrder, Commitment, CommitmentKind, CommitmentStatus, Requisition};

/// What a commitment listing asks for; every condition is re-checked on each record.
#[derive(Debug, Clone, Default)]
pub struct CommitmentQuery {
    pub updated: Option<Span>,
    pub status: Option<CommitmentStatus>,
}

impl ProcoreClient {
    /// A project's work orders or purchase orders (no lines; see [`Self::get_commitment`]).
    pub async fn list_commitments(
        &self,
        project: i64,
        kind: CommitmentKind,
        q: &CommitmentQuery,
    ) -> Result<Vec<Commitment>, ProcoreError> {
        let mut query = vec![("project_id".to_string(), project.to_string())];
        if let Some(s) = &q.updated {
            query.push(("filters[updated_at]".into(), range_param(s)));
        }
        if let Some(s) = &q.status {
            query.push(("filters[status]".into(), s.as_str().to_string()));
        }
        let what = format!("the {} of project {project}", kind.path().replace('_', " "));
        let all: Vec<Commitment> = self.list_all(&format!("rest/v1.0/{}", kind.path()), &query, &what).await?;
        Ok(all
            .into_iter()
            .filter(|c| c.deleted_at.is_none() && within(&c.updated_at, q.updated.as_ref()))
            .filter(|c| q.status.as_ref().is_none_or(|s| &c.status == s))
            .map(|mut c| {
                c.kind = kind;
                c
            })
            .collect())
    }

    /// One commitment with its lines and change orders; `None` when it does not exist.
    pub async fn get_commitment(
        &self,
        project: i64,
        kind: CommitmentKind,
        id: i64,
    ) -> Result<Option<Commitment>, ProcoreError> {
        let req = Request::get(format!("rest/v1.0/{}/{id}", kind.path())).query("project_id", project);
        let what = format!("{} {id} of project {project}", kind.path().trim_end_matches('s').replace('_', " "));
        Ok(self.get_opt::<Commitment>(req, &what).await?.map(|mut c| {
            c.kind = kind;
            c
        }))
    }

    /// The commitment a requisition bills (of the type it names, else whichever type has it);
    /// `None` when it names none or it does not exist.
    pub async fn commitment_of(&self, project: i64, r: &Requisition) -> Result<Option<Commitment>, ProcoreError> {
        let Some(id) = r.commitment_id else { return Ok(None) };
        match r.commitment_type.as_deref().and_then(CommitmentKind::parse) {
            Some(kind) => self.get_commitment(project, kind, id).await,
            None => self.find_commitment(project, id).await,
        }
    }

    /// One commitment whatever its type (tries work orders, then purchase orders).
    pub async fn find_commitment(&self, project: i64, id: i64) -> Result<Option<Commitment>, ProcoreError> {
        for k in [CommitmentKind::WorkOrder, CommitmentKind::PurchaseOrder] {
            if let Some(c) = self.get_commitment(project, k, id).await? {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    /// A project's change orders (packages), of one contract or all, optionally only those
    /// updated in `updated`.
    pub async fn list_change_orders(
        &self,
        project: i64,
        contract: Option<i64>,
        updated: Option<&Span>,
    ) -> Result<Vec<ChangeOrder>, ProcoreError> {
        let mut query = vec![("project_id".to_string(), project.to_string())];
        if let Some(c) = contract {
            query.push(("contract_id".into(), c.to_string()));
        }
        if let Some(s) = updated {
            query.push(("filters[updated_at]".into(), range_param(s)));
        }
        let what = format!("the change orders of project {project}");
        let all: Vec<ChangeOrder> = self.list_all("rest/v1.0/change_order_packages", &query, &what).await?;
        Ok(all
            .into_iter()
            .filter(|c| c.deleted_at.is_none() && within(&c.updated_at, updated))
            .filter(|c| contract.is_none_or(|k| c.contract_id == Some(k)))
            .collect())
    }

    /// One change order with its lines; `None` when it does not exist.
    pub async fn get_change_order(&self, project: i64, id: i64) -> Result<Option<ChangeOrder>, ProcoreError> {
        let req = Request::get(format!("rest/v1.0/change_order_packages/{id}")).query("project_id", project);
        self.get_opt(req, &format!("change order {id} of project {project}")).await
    }
}
