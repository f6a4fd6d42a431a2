//! `mlc ping acumatica`: can we reach the tenant, does it serve the pinned version, do the
//! credentials work, may the API user read and write what the flows use, and does the branch
//! exist? One line per check, with the fix.
//!
//! | check | how | a failure means |
//! |---|---|---|
//! | reach | `GET <instance>/entity` answers with the endpoint list (no sign-in) | wrong `base_url` (not the instance URL), network, proxy |
//! | endpoint version | the pinned `endpoint/version` is listed (a custom endpoint: listed once signed in) | the tenant does not serve that version: the line lists those it does and names one to set |
//! | sign-in | the OAuth password grant (or cookie login) succeeds: `GET /entity` signed in | client id/secret, user/password, tenant suffix, the connected app's flow, or the licence's session cap |
//! | rights: `<form>` | read: `GET <E>?$top=1`; write (vendors, bills, orders): an update-only `PUT` of a record that cannot exist, answered 412 (allowed) or 403 (not) | the API user's role lacks the form |
//! | branch | the `branch` setting is an active branch (`CompaniesStructure`) | a typo, or a closed branch |
//! | push notifications | `webhook_secret` is set | push notifications would be refused (polls still run) |
//!
//! When a check makes the later ones meaningless, one line says which were skipped and why.
//! Nothing is created: the write check's `If-Match: *` PUT can only be refused.

use mlc_core::ping::PingCheck;
use mlc_http::HttpError;
use serde_json::json;

use crate::auth::is_login_limit;
use crate::client::{AcumaticaClient, Precondition};
use crate::errors::AcumaticaError;
use crate::model::{BillType, PoType, wrap, wrap_choice};
use crate::settings::AuthMode;

/// `(entity, form, title, write checked)`.
const FORMS: &[(&str, &str, &str, bool)] = &[
    ("Vendor", "AP303000", "Vendors", true),
    ("Bill", "AP301000", "Bills and Adjustments", true),
    ("PurchaseOrder", "PO301000", "Purchase Orders", true),
    ("Account", "GL202500", "Chart of Accounts", false),
    ("Subaccount", "GL203000", "Subaccounts", false),
];

fn skipped(checks: &[&str], why: &str) -> PingCheck {
    PingCheck::fail(
        "skipped",
        format!("not checked: {} ({why})", checks.join(", ")),
        "fix the failed check above, then ping again",
    )
}

fn sign_in_fix(e: &AcumaticaError, mode: AuthMode, tenant: &str) -> String {
    let text = e.to_string().to_ascii_lowercase();
    if is_login_limit(&text) || matches!(e, AcumaticaError::Http(HttpError::RateLimited { .. })) {
        return "the licence's API sessions are all in use (License Monitoring Console, SM604000): sign out unused integrations or wait for their sessions to expire (10 minutes idle, or their token's hour)".into();
    }
    if mode == AuthMode::Cookie {
        return format!(
            "check username and password, and that tenant {tenant:?} is the tenant's Login Name (Tenants, SM203520)"
        );
    }
    if text.contains("invalid_client") {
        return format!(
            "check client_id and client_secret on Connected Applications (SM303010) of tenant {tenant}; the client id ends with @{tenant}"
        );
    }
    if text.contains("unauthorized_client") || text.contains("unsupported_grant_type") {
        return "on Connected Applications (SM303010), set the application's OAuth 2.0 flow to Resource Owner Password Credentials".into();
    }
    if text.contains("invalid_scope") {
        return "allow the scopes api and offline_access for the connected application".into();
    }
    "check username and password (the API user must be active and allowed to sign in to this tenant)".into()
}

impl AcumaticaClient {
    /// Run every check; never fails (a failure is a failed line).
    pub async fn ping(&self) -> Vec<PingCheck> {
        let s = self.settings().clone();
        let mut out = Vec::new();
        let info = match self.server_info().await {
            Ok(i) => {
                out.push(PingCheck::pass(
                    "reach",
                    format!("{} answers (build {})", s.instance_url, i.build.as_deref().unwrap_or("unknown")),
                ));
                i
            }
            Err(e) => {
                out.push(PingCheck::fail(
                    "reach",
                    format!("{} did not answer as Acumatica: {e}", s.instance_url),
                    "set base_url to the instance URL you sign in at (https://<host>[/<instance>]); check DNS, network and proxy",
                ));
                out.push(skipped(&["endpoint version", "sign-in", "rights", "branch"], "Acumatica is not reachable"));
                return out;
            }
        };
        let default_endpoint = s.endpoint.eq_ignore_ascii_case("Default");
        let mut version_ok = info.serves(&s.endpoint, &s.version);
        if version_ok {
            out.push(PingCheck::pass("endpoint version", format!("{}/{} is served", s.endpoint, s.version)));
        } else if default_endpoint {
            out.push(version_line(&s.endpoint, &s.version, &info.versions_of(&s.endpoint)));
        }
        // Sign-in: a signed-in read of the endpoint list (independent of the version).
        let signed = self.server_info_signed_in().await;
        match &signed {
            Ok(_) => out.push(PingCheck::pass(
                "sign-in",
                match s.auth {
                    AuthMode::OAuth => format!(
                        "OAuth password grant accepted for {} (scope api offline_access; the token is renewed before it expires)",
                        self.inner.creds.username
                    ),
                    AuthMode::Cookie => format!("cookie sign-in accepted for {} (logged out on close)", self.inner.creds.username),
                },
            )),
            Err(e) => {
                out.push(PingCheck::fail("sign-in", e.to_string(), sign_in_fix(e, s.auth, &s.tenant)));
                let mut rest = vec!["rights", "branch"];
                if !version_ok && !default_endpoint {
                    rest.insert(0, "endpoint version");
                }
                out.push(skipped(&rest, "the credentials were not accepted"));
                return out;
            }
        }
        if !default_endpoint && !version_ok {
            let signed_info = signed.clone().unwrap_or_default();
            version_ok = signed_info.serves(&s.endpoint, &s.version);
            out.push(if version_ok {
                PingCheck::pass(
                    "endpoint version",
                    format!("{}/{} is served (a tenant endpoint)", s.endpoint, s.version),
                )
            } else {
                version_line(&s.endpoint, &s.version, &signed_info.versions_of(&s.endpoint))
            });
        }
        if !version_ok {
            out.push(skipped(
                &["rights", "branch"],
                "they are read through the endpoint version, which this tenant does not serve",
            ));
            return out;
        }
        for (entity, form, title, write) in FORMS {
            out.push(self.rights_line(entity, form, title, *write).await);
        }
        out.push(match &s.branch {
            None => PingCheck::pass("branch", "no branch set: documents get the API user's default branch"),
            Some(b) => match self.list_branches().await {
                Ok(list) => match list.iter().find(|x| x.branch_id.eq_ignore_ascii_case(b)) {
                    Some(x) if x.active => PingCheck::pass(
                        "branch",
                        format!("{b} ({}) exists and is active", x.name.as_deref().unwrap_or("")),
                    ),
                    Some(_) => PingCheck::fail(
                        "branch",
                        format!("{b} exists but is inactive"),
                        "set branch to an active branch, or reactivate it (Branches, CS102000)",
                    ),
                    None => PingCheck::fail(
                        "branch",
                        format!(
                            "{b} is not a branch of this tenant; it has {}",
                            list.iter().map(|x| x.branch_id.as_str()).collect::<Vec<_>>().join(", ")
                        ),
                        "set branch to one of the listed branch IDs",
                    ),
                },
                Err(e) => PingCheck::fail("branch", e.to_string(), "see the message; ping again once it is fixed"),
            },
        });
        out.push(if self.inner.creds.webhook_secrets.is_empty() {
            PingCheck::pass("push notifications", "no webhook_secret: push notifications would be refused; scheduled polls still find every change")
        } else {
            PingCheck::pass(
                "push notifications",
                format!("deliveries must carry header {} with the webhook_secret (Push Notifications, SM302000: Header Name / Header Value)", s.push_header),
            )
        });
        out
    }

    async fn rights_line(&self, entity: &str, form: &str, title: &str, write: bool) -> PingCheck {
        let check = format!("rights: {title} ({form})");
        let fix = format!("give the API user's role access to {title} ({form}) in Access Rights by Role (SM201020)");
        let key = match entity {
            "Vendor" => "VendorID",
            "Bill" | "PurchaseOrder" => "Type",
            "Account" => "AccountCD",
            _ => "SubaccountCD",
        };
        match self.list_json(entity, &[("$top", "1".into()), ("$select", key.into())], &format!("the {title}")).await {
            Ok(_) => {}
            Err(AcumaticaError::Refused { status: 403, words, .. }) => {
                return PingCheck::fail(check, format!("cannot read: \"{words}\""), fix);
            }
            Err(e) => return PingCheck::fail(check, e.to_string(), "see the message; ping again once it is fixed"),
        }
        if !write {
            return PingCheck::pass(check, "read");
        }
        let c = self.contract();
        let probe = match entity {
            "Vendor" => json!({"VendorID": wrap("__MLC_PING__")}),
            "Bill" => {
                json!({"Type": wrap_choice(c, BillType::Bill.label(), BillType::Bill.code()), "ReferenceNbr": wrap("__MLCPING")})
            }
            _ => {
                json!({"Type": wrap_choice(c, PoType::Normal.label(), PoType::Normal.code()), "OrderNbr": wrap("__MLCPING")})
            }
        };
        match self
            .put_json(
                entity,
                &probe,
                &[],
                Precondition::UpdateOnly,
                &format!("the rights probe on {title}"),
                "nothing to do",
            )
            .await
        {
            Err(AcumaticaError::Refused { status: 412, .. }) => PingCheck::pass(check, "read and write"),
            Err(AcumaticaError::Refused { status: 403, words, .. }) => PingCheck::fail(
                check,
                format!("read only: a write was refused: \"{words}\""),
                format!("{fix}, with Edit rights"),
            ),
            Ok(_) => PingCheck::pass(check, "read and write"),
            Err(e) => PingCheck::fail(
                check,
                format!("read; the write check failed: {e}"),
                "see the message; ping again once it is fixed",
            ),
        }
    }
}

fn version_line(endpoint: &str, version: &str, offered: &[String]) -> PingCheck {
    if offered.is_empty() {
        return PingCheck::fail(
            "endpoint version",
            format!("{endpoint}/{version} is not served, and the tenant lists no version of {endpoint}"),
            "check endpoint (the system endpoint is Default; a custom one is listed on Web Service Endpoints, SM207060)",
        );
    }
    let newest = offered.last().cloned().unwrap_or_default();
    PingCheck::fail(
        "endpoint version",
        format!("{endpoint}/{version} is not served; this tenant offers {endpoint} {}", offered.join(", ")),
        format!("set version = \"{newest}\" in the connection's settings"),
    )
}
