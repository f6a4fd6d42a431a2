//! `mlc ping procore`: one line per check, with the fix when it fails.
//!
//! | check | how | a failure means |
//! |---|---|---|
//! | token | a token from the login host, then `GET /rest/v1.0/me` | wrong client id/secret or environment, login host unreachable |
//! | company | `GET /rest/v1.0/companies` lists `company_id` | the app is not installed there (or a wrong id) |
//! | app installed | `GET /rest/v1.1/projects?company_id=` | the install was removed ("App is not connected to this company.") |
//! | project … | `GET /rest/v1.0/projects/{id}` for each project the flows read | not permitted for the app, or no such project |
//! | read subcontractor invoices / direct costs / commitments / vendors / cost codes | one row of each, on the first readable project | the tool is not granted to the service account |
//! | webhook hook | a hook in the connection's namespace with triggers | webhooks not registered yet: only polls will run |
//! | webhook secret | `webhook_authorization` is set | deliveries would be refused |
//!
//! When a check makes the later ones meaningless (no token, no install), one line says which
//! checks were skipped and why. Ping makes about ten calls, through the same budget as the flows.

use mlc_core::ping::PingCheck;
use mlc_http::{HttpError, Request};

use crate::auth::WEBHOOK_AUTHORIZATION;
use crate::client::ProcoreClient;
use crate::errors::{BASE_URL_FIX, CREDENTIALS_FIX, INSTALL_FIX, ProcoreError};

/// `(check, path, query, tool)` of a read-rights probe.
type Probe<'a> = (&'a str, String, Vec<(&'a str, String)>, &'a str);

const TOOL_CHECKS: [&str; 5] =
    ["read subcontractor invoices", "read direct costs", "read commitments", "read vendors", "read cost codes"];

fn skipped(out: &mut Vec<PingCheck>, checks: &[&str], why: &str) {
    out.push(PingCheck::fail(
        "skipped",
        format!("not checked: {} ({why})", checks.join(", ")),
        "fix the failed check above, then ping again",
    ));
}

fn tool_fix(tool: &str) -> String {
    format!(
        "in Procore, Company Admin → App Management → this app → permissions: grant its service account read access \
         to {tool} (the app manifest must request it)"
    )
}

impl ProcoreClient {
    /// One list row, to prove read access.
    async fn probe(&self, path: &str, query: &[(&str, String)], what: &str) -> Result<usize, ProcoreError> {
        let mut req = Request::get(path).query("page", 1).query("per_page", 1);
        for (k, v) in query {
            req = req.query(*k, v);
        }
        let resp = self.send(req, what).await?;
        let total = resp.header("total").and_then(|t| t.trim().parse::<usize>().ok());
        Ok(match total {
            Some(t) => t,
            None => resp.json::<Vec<serde_json::Value>>()?.len(),
        })
    }

    /// Run every check; never fails (a failure is a failed line).
    pub async fn ping(&self) -> Vec<PingCheck> {
        let mut out = Vec::new();
        let s = self.settings();
        let after_token = ["company", "app installed", "projects", "tool rights", "webhook hook"];
        match self.me().await {
            Ok(me) => out.push(PingCheck::pass(
                "token",
                format!("token granted; service account {}", me.login.or(me.name).unwrap_or_else(|| me.id.to_string())),
            )),
            Err(ProcoreError::NotConnected { .. }) => {
                out.push(PingCheck::pass("token", "token granted by the login host"));
            }
            Err(ProcoreError::Auth { message, .. }) => {
                out.push(PingCheck::fail("token", message, CREDENTIALS_FIX));
                skipped(&mut out, &after_token, "no token");
                return out;
            }
            Err(ProcoreError::Http(HttpError::Transient { cause, .. })) => {
                out.push(PingCheck::fail(
                    "token",
                    format!("{} or {} did not answer: {cause}", s.token_url, s.base_url),
                    format!("check the network path and proxy; {BASE_URL_FIX}"),
                ));
                skipped(&mut out, &after_token, "Procore is not reachable");
                return out;
            }
            Err(e @ ProcoreError::Unexpected { .. }) => {
                out.push(PingCheck::fail(
                    "token",
                    format!("{} answers, but not as the Procore API: {e}", s.base_url),
                    BASE_URL_FIX,
                ));
                skipped(&mut out, &after_token, "base_url is not the Procore API");
                return out;
            }
            Err(e) => {
                let fix = if e.is_rate_limited() {
                    "the app's budget for this company is spent (another integration with the same app?): wait for the \
                     window to reset and ping again"
                } else {
                    "see the message; ping again once it is fixed"
                };
                out.push(PingCheck::fail("token", e.to_string(), fix));
                skipped(&mut out, &after_token, "the first call failed");
                return out;
            }
        }
        let installed_msg = |list: &[crate::model::Company]| {
            if list.is_empty() {
                "the app is installed in no company".to_string()
            } else {
                format!(
                    "the app is installed in: {}",
                    list.iter()
                        .map(|c| format!("{} ({})", c.name.clone().unwrap_or_default(), c.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        };
        match self.companies().await {
            Ok(list) => match list.iter().find(|c| c.id == s.company_id) {
                Some(c) => {
                    out.push(PingCheck::pass("company", format!("{} ({})", c.name.clone().unwrap_or_default(), c.id)))
                }
                None => {
                    out.push(PingCheck::fail(
                        "company",
                        format!("company {} is not among the app's companies; {}", s.company_id, installed_msg(&list)),
                        INSTALL_FIX,
                    ));
                    skipped(&mut out, &after_token[1..], "the app is not installed in the company");
                    return out;
                }
            },
            Err(e) => {
                out.push(PingCheck::fail("company", e.to_string(), INSTALL_FIX));
                skipped(&mut out, &after_token[1..], "the company could not be read");
                return out;
            }
        }
        let visible = match self.list_projects().await {
            Ok(p) => {
                out.push(PingCheck::pass("app installed", format!("{} active projects visible to the app", p.len())));
                p
            }
            Err(e) => {
                out.push(PingCheck::fail("app installed", e.to_string(), INSTALL_FIX));
                skipped(&mut out, &after_token[2..], "the install does not answer");
                return out;
            }
        };
        let targets: Vec<i64> = s.projects.clone().unwrap_or_else(|| visible.iter().map(|p| p.id).collect());
        if targets.is_empty() {
            out.push(PingCheck::fail(
                "projects",
                "no active project is visible to the app",
                "permit the job sites for the app in App Management (or list them in the connection's projects setting)",
            ));
        }
        let mut readable = None;
        for id in &targets {
            let name =
                visible.iter().find(|p| p.id == *id).map(|p| p.label()).unwrap_or_else(|| format!("project {id}"));
            let check = format!("project {name}");
            match self.get_project(*id).await {
                Ok(Some(p)) => {
                    readable.get_or_insert(*id);
                    let state = if p.active { "readable" } else { "readable but inactive" };
                    out.push(PingCheck::pass(check, format!("{} ({id}) is {state}", p.label())));
                }
                Ok(None) => out.push(PingCheck::fail(
                    check,
                    format!("project {id} does not exist in company {}", s.company_id),
                    "correct the connection's projects setting",
                )),
                Err(e) => out.push(PingCheck::fail(
                    check,
                    e.to_string(),
                    "permit this project for the app (Company Admin → App Management → this app → projects)",
                )),
            }
        }
        let company = ("company_id", s.company_id.to_string());
        match readable {
            None => skipped(&mut out, &TOOL_CHECKS[..3], "no project could be read"),
            Some(p) => {
                let project = ("project_id", p.to_string());
                let reqs = if s.requisitions_api == crate::settings::RequisitionsApi::V10 {
                    "rest/v1.0/requisitions"
                } else {
                    "rest/v1.1/requisitions"
                };
                let probes: [Probe<'_>; 3] = [
                    (
                        TOOL_CHECKS[0],
                        reqs.to_string(),
                        vec![project.clone()],
                        "the Invoicing (subcontractor invoices) tool",
                    ),
                    (TOOL_CHECKS[1], format!("rest/v1.1/projects/{p}/direct_costs"), vec![], "the Direct Costs tool"),
                    (
                        TOOL_CHECKS[2],
                        "rest/v1.0/work_order_contracts".into(),
                        vec![project.clone()],
                        "the Commitments tool",
                    ),
                ];
                for (check, path, query, tool) in probes {
                    match self.probe(&path, &query, check).await {
                        Ok(n) => out.push(PingCheck::pass(check, format!("{n} on project {p}"))),
                        Err(e) => out.push(PingCheck::fail(check, e.to_string(), tool_fix(tool))),
                    }
                }
            }
        }
        match self.probe("rest/v1.0/vendors", std::slice::from_ref(&company), TOOL_CHECKS[3]).await {
            Ok(n) => out.push(PingCheck::pass(TOOL_CHECKS[3], format!("{n} active vendors"))),
            Err(e) => out.push(PingCheck::fail(TOOL_CHECKS[3], e.to_string(), tool_fix("the Directory tool"))),
        }
        if let Some(p) = readable {
            match self.probe("rest/v1.0/cost_codes", &[("project_id", p.to_string())], TOOL_CHECKS[4]).await {
                Ok(n) => out.push(PingCheck::pass(TOOL_CHECKS[4], format!("{n} cost codes on project {p}"))),
                Err(e) => {
                    out.push(PingCheck::fail(TOOL_CHECKS[4], e.to_string(), tool_fix("the Admin tool (cost codes)")))
                }
            }
        }
        match self.list_hooks().await {
            Ok(hooks) => match hooks.first() {
                Some(h) => {
                    let n = self.list_triggers(h.id).await.map(|t| t.len()).unwrap_or(0);
                    if n == 0 {
                        out.push(PingCheck::fail(
                            "webhook hook",
                            format!("hook {} in namespace {} has no triggers", h.id, s.webhook_namespace),
                            "register the triggers (ProcoreClient::ensure_hook); until then only the polls run",
                        ));
                    } else {
                        out.push(PingCheck::pass(
                            "webhook hook",
                            format!(
                                "hook {} → {} with {n} triggers",
                                h.id,
                                h.destination_url.clone().unwrap_or_default()
                            ),
                        ));
                    }
                }
                None => out.push(PingCheck::fail(
                    "webhook hook",
                    format!("no hook in namespace {} for company {}", s.webhook_namespace, s.company_id),
                    "register it (ProcoreClient::ensure_hook with the public /webhooks/<connection> URL); until then \
                     changes are found by the polls only",
                )),
            },
            Err(e) => out.push(PingCheck::fail("webhook hook", e.to_string(), tool_fix("the Webhooks API (Standard)"))),
        }
        if self.inner.creds.get(WEBHOOK_AUTHORIZATION).is_some_and(|v| !v.expose().trim().is_empty()) {
            out.push(PingCheck::pass("webhook secret", "webhook_authorization is set"));
        } else {
            out.push(PingCheck::fail(
                "webhook secret",
                "webhook_authorization is not set: every delivery would be refused",
                "set it with `mlc credentials set <connection>` (a long random value such as `Bearer <48 characters>`), \
                 and register the hook with the same value",
            ));
        }
        out
    }
}
