//! The company side: the service account, companies, projects, vendors, cost codes, cost types
//! (fact sheet §8.1, §8.2, §8.7).
//!
//! - Projects: active ones the app was permitted, or the connection's `projects` setting.
//! - Vendors: `GET /rest/v1.0/vendors?company_id=` (active vendors, `view=extended`); the tax id is
//!   [`Vendor::tax_id`]. `filters[updated_at]` is re-checked on each record (a filter a route does
//!   not support is silently ignored by Procore).
//! - Cost codes have no `updated_at` filter: they are read whole, per project.

use mlc_http::Request;

use crate::client::{ProcoreClient, Span, range_param};
use crate::errors::ProcoreError;
use crate::model::{Company, CostCode, CostType, Me, Project, Vendor};

fn q(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Whether `t` is inside an inclusive span (no span: yes; no stamp with a span: no).
pub(crate) fn within(t: &Option<chrono::DateTime<chrono::Utc>>, span: Option<&Span>) -> bool {
    match span {
        None => true,
        Some((a, b)) => t.is_some_and(|t| t >= *a && t <= *b),
    }
}

impl ProcoreClient {
    /// `GET /rest/v1.0/me`: the service account the token belongs to.
    pub async fn me(&self) -> Result<Me, ProcoreError> {
        self.get_json(Request::get("rest/v1.0/me"), "the service account (/me)").await
    }

    /// The companies where the app is installed.
    pub async fn companies(&self) -> Result<Vec<Company>, ProcoreError> {
        self.list_all("rest/v1.0/companies", &[], "the companies").await
    }

    /// Active projects of the company that the app may see.
    pub async fn list_projects(&self) -> Result<Vec<Project>, ProcoreError> {
        let query = q(&[("company_id", self.company_id().to_string())]);
        let all: Vec<Project> = self.list_all("rest/v1.1/projects", &query, "the projects").await?;
        Ok(all.into_iter().filter(|p| p.active).collect())
    }

    /// One project; `None` when it does not exist in this company.
    pub async fn get_project(&self, id: i64) -> Result<Option<Project>, ProcoreError> {
        let req = Request::get(format!("rest/v1.0/projects/{id}")).query("company_id", self.company_id());
        self.get_opt(req, &format!("project {id}")).await
    }

    /// The projects the flows read: the `projects` setting, else every active visible project.
    pub async fn projects_to_read(&self) -> Result<Vec<i64>, ProcoreError> {
        match &self.settings().projects {
            Some(ids) => Ok(ids.clone()),
            None => Ok(self.list_projects().await?.into_iter().map(|p| p.id).collect()),
        }
    }

    /// Company vendors (active), optionally only those updated in `updated`.
    pub async fn list_vendors(&self, updated: Option<&Span>) -> Result<Vec<Vendor>, ProcoreError> {
        let mut query = q(&[("company_id", self.company_id().to_string())]);
        if let Some(s) = updated {
            query.push(("filters[updated_at]".into(), range_param(s)));
        }
        let all: Vec<Vendor> = self.list_all("rest/v1.0/vendors", &query, "the company vendors").await?;
        Ok(all.into_iter().filter(|v| within(&v.updated_at, updated)).collect())
    }

    /// One vendor (any status); `None` when it does not exist.
    pub async fn get_vendor(&self, id: i64) -> Result<Option<Vendor>, ProcoreError> {
        let req = Request::get(format!("rest/v1.0/vendors/{id}")).query("company_id", self.company_id());
        self.get_opt(req, &format!("vendor {id}")).await
    }

    /// Vendors whose name, abbreviation, origin code or tax id matches `text` (`filters[search]`).
    pub async fn search_vendors(&self, text: &str) -> Result<Vec<Vendor>, ProcoreError> {
        let query = q(&[("company_id", self.company_id().to_string()), ("filters[search]", text.to_string())]);
        self.list_all("rest/v1.0/vendors", &query, &format!("vendors matching {text:?}")).await
    }

    /// A project's cost codes (both levels).
    pub async fn list_cost_codes(&self, project: i64) -> Result<Vec<CostCode>, ProcoreError> {
        let query = q(&[("project_id", project.to_string())]);
        self.list_all("rest/v1.0/cost_codes", &query, &format!("the cost codes of project {project}")).await
    }

    /// A project's cost code id → full code (`03-300`; the code where Procore gives no full code),
    /// for G703 rows that name their cost code by id alone.
    pub async fn cost_code_names(&self, project: i64) -> Result<std::collections::BTreeMap<i64, String>, ProcoreError> {
        let list = self.list_cost_codes(project).await?;
        Ok(list.into_iter().filter_map(|c| c.full_code.clone().or(c.code.clone()).map(|f| (c.id, f))).collect())
    }

    /// The company's cost types (`line_item_types`).
    pub async fn list_cost_types(&self) -> Result<Vec<CostType>, ProcoreError> {
        let query = q(&[("company_id", self.company_id().to_string())]);
        self.list_all("rest/v1.0/line_item_types", &query, "the cost types").await
    }
}
