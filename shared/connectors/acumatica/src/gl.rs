//! General-ledger reference data for mappings and checks: accounts (GL202500), subaccounts
//! (GL203000) and branches. The `Default` endpoint has **no `Branch` entity** (a GET is a 404 on
//! real tenants); branches are read through the `CompaniesStructure` inquiry — a PUT of `{}` with
//! `$expand=Results` that changes nothing, so it is sent as a *read* (retried like one).

use mlc_http::{CallKind, Request};
use serde_json::{Value as Json, json};

use crate::client::{AcumaticaClient, segment};
use crate::errors::AcumaticaError;
use crate::model::{Account, Branch, Subaccount, account_from, branch_from, read, read_scan, subaccount_from};
use crate::paging::ScanSpec;

impl AcumaticaClient {
    /// The whole chart of accounts (inactive accounts included: a mapping to one is an error to show).
    pub async fn list_accounts(&self) -> Result<Vec<Account>, AcumaticaError> {
        let spec = ScanSpec {
            entity: "Account",
            since: None,
            filter: None,
            expand: None,
            select: None,
            page: self.settings().page_size,
            what: "the chart of accounts".into(),
        };
        Ok(read_scan(self.scan_json(&spec).await?, "GET Account", account_from)?.records)
    }

    /// One account by `AccountCD`.
    pub async fn get_account(&self, code: &str) -> Result<Option<Account>, AcumaticaError> {
        let v = self.get_json(&format!("Account/{}", segment(code.trim())), &[], &format!("account {code}")).await?;
        v.map(|v| read(&v, "GET Account", account_from)).transpose()
    }

    /// Every subaccount.
    pub async fn list_subaccounts(&self) -> Result<Vec<Subaccount>, AcumaticaError> {
        let spec = ScanSpec {
            entity: "Subaccount",
            since: None,
            filter: None,
            expand: None,
            select: None,
            page: self.settings().page_size,
            what: "the subaccounts".into(),
        };
        Ok(read_scan(self.scan_json(&spec).await?, "GET Subaccount", subaccount_from)?.records)
    }

    /// Every branch (`CompaniesStructure` inquiry).
    pub async fn list_branches(&self) -> Result<Vec<Branch>, AcumaticaError> {
        let req = Request::put("CompaniesStructure").kind(CallKind::Read).query("$expand", "Results").json(&json!({}));
        let call = "PUT CompaniesStructure";
        let resp = self.send(req).await?;
        let v = self.judge(&resp, "the branches (CompaniesStructure)", call)?.unwrap_or(Json::Null);
        let rows = v.get("Results").and_then(Json::as_array).cloned().unwrap_or_default();
        rows.iter().map(|r| read(r, call, branch_from)).collect()
    }
}
