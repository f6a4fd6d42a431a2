//! General-ledger reference data for mappings and checks: accounts (GL202500), subaccounts
//! (GL203000) and branches. The `Default` endpoint has **no `Branch` entity** (a GET is a 404 on
//! real tenants); branches are read through the `CompaniesStructure` inquiry — a PUT of `{}` with
//! `$expand=Results` that changes nothing, so it is sent as a *read* (retried like one).
//!
//! **Currencies** (CM202000) are read for the currency pre-check of bills and purchase orders: a
//! document in a currency the tenant does not have is held before it is sent, naming the rule. The
//! `Currency` entity of the `Default` endpoint is not in the research sheet's list **[U]**, so the
//! client is tolerant: a 404 (no such entity on this tenant), or a list with no readable
//! `CurrencyID`, means "unknown" and no pre-check is made (Acumatica still refuses at the post).
//! The list is read once per client (per connection, per runtime build) and cached.

use std::sync::Arc;

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

    /// The currencies the tenant has (`Currency`, upper case), read once and cached; `None` when
    /// the tenant does not serve them (see the module doc).
    pub async fn currencies(&self) -> Result<Option<Arc<Vec<String>>>, AcumaticaError> {
        // Held while reading: the first documents of a run are worked side by side, and one read
        // serves them all.
        let mut cached = self.inner.currencies.lock().await;
        if let Some(known) = cached.clone() {
            return Ok(known);
        }
        let read = match self.list_json("Currency", &[("$select", "CurrencyID".into())], "the currencies").await {
            Ok(rows) => Some(
                rows.iter()
                    .filter_map(|r| r.get("CurrencyID"))
                    .filter_map(|v| v.get("value").unwrap_or(v).as_str())
                    .map(|c| c.trim().to_ascii_uppercase())
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>(),
            ),
            Err(e) if e.status() == Some(404) => None,
            Err(e) => return Err(e),
        };
        let known = read.filter(|c| !c.is_empty()).map(Arc::new);
        if known.is_none() {
            tracing::info!(system = "acumatica", "the tenant lists no currencies: no currency pre-check");
        }
        *cached = Some(known.clone());
        Ok(known)
    }

    /// The currency pre-check: `currency` (of `what`) is one the tenant has, or the tenant's
    /// currencies are unknown. [`AcumaticaError::CurrencyNotAllowed`] names the rule otherwise.
    pub async fn check_currency(&self, currency: &str, what: &str) -> Result<(), AcumaticaError> {
        let Some(allowed) = self.currencies().await? else { return Ok(()) };
        let c = currency.trim();
        if c.is_empty() || allowed.iter().any(|a| a.eq_ignore_ascii_case(c)) {
            return Ok(());
        }
        Err(AcumaticaError::CurrencyNotAllowed {
            what: what.to_string(),
            currency: c.to_ascii_uppercase(),
            allowed: allowed.to_vec(),
        })
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
