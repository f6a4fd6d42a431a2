//! `mlc ping cin7`: does this account answer, do the keys work, can we read purchases, and is
//! Automation (webhooks) there? One line per check, with the fix when it fails.
//!
//! | check | how | a failure means |
//! |---|---|---|
//! | reach | the first call gets any HTTP answer from the API | wrong `base_url` (a web page answers), network, proxy |
//! | credentials | that call is not refused with 403 | `account_id` / `application_key` wrong, mistyped, or from another account |
//! | read purchases | `GET purchaseList` (one row) | the application lacks access, or the API is throttling |
//! | read suppliers | `GET supplier` (one row) | as above |
//! | read chart of accounts | `GET ref/account`, and an accounts-payable (`CREDITORS`) account exists | as above |
//! | automation (webhooks) | `GET webhooks` answers | the Automation add-on is not subscribed: only scheduled polls will run |
//! | webhooks active | none of the purchase/supplier webhooks is deactivated | Cin7 switched one off after six failed deliveries |
//! | webhook secret | `webhook_secret` is set | webhooks would be refused by ml-connector |
//!
//! Ping makes five calls, well inside the 60-a-minute budget, through the same pacing as
//! everything else.

use mlc_core::ping::PingCheck;
use mlc_http::{HttpError, Request};

use crate::auth::explain_forbidden;
use crate::client::Cin7Client;
use crate::errors::{BASE_URL_FIX, Cin7Error};

const AFTER_REACH: [&str; 6] = [
    "credentials",
    "read purchases",
    "read suppliers",
    "read chart of accounts",
    "automation (webhooks)",
    "webhook secret",
];

impl Cin7Client {
    /// Run every check; never fails (a failure is a failed line).
    pub async fn ping(&self) -> Vec<PingCheck> {
        let mut out = Vec::new();
        let base = self.inner.settings.base_url.to_string();
        let first = self
            .call(
                Request::get("purchaseList").query("Page", 1).query("Limit", 1),
                "GET purchaseList",
                "the purchase list",
            )
            .await;
        // Said once: which checks were skipped, and why.
        let skip = |out: &mut Vec<PingCheck>, from: usize, why: &str| {
            out.push(PingCheck::fail(
                "skipped",
                format!("not checked because {why}: {}", AFTER_REACH[from..].join(", ")),
                "fix the failed check above, then ping again",
            ));
        };
        match &first {
            Err(Cin7Error::Http(HttpError::Transient { cause, .. })) => {
                out.push(PingCheck::fail(
                    "reach",
                    format!("{base} did not answer: {cause}"),
                    "check base_url, DNS, the network path and any proxy (Cin7 Core's API is https://inventory.dearsystems.com/ExternalApi/v2/)",
                ));
                skip(&mut out, 0, "Cin7 is not reachable");
                return out;
            }
            Err(e @ Cin7Error::Unexpected { .. })
            | Err(e @ Cin7Error::Http(HttpError::Rejected { status: 404, .. })) => {
                out.push(PingCheck::fail(
                    "reach",
                    format!("{base} answers, but not as the Cin7 API: {e}"),
                    BASE_URL_FIX,
                ));
                skip(&mut out, 0, "base_url is not the API");
                return out;
            }
            _ => out.push(PingCheck::pass("reach", format!("{base} answers"))),
        }
        match first {
            Err(Cin7Error::Auth { .. }) => {
                let (detail, fix) = explain_forbidden(&self.inner.creds);
                out.push(PingCheck::fail("credentials", format!("403 Forbidden: {detail}"), fix));
                skip(&mut out, 1, "the keys were refused");
                return out;
            }
            Err(Cin7Error::Http(HttpError::RateLimited { .. })) => {
                out.push(PingCheck::fail(
                    "credentials",
                    "not confirmed: Cin7 answered that this API application is over its 60 calls per 60 seconds",
                    "another integration is using the same API application: wait a minute and ping again, or create a \
                     separate API application for ml-connector (Integrations → API) so each has its own budget",
                ));
                skip(&mut out, 1, "rate limited");
                return out;
            }
            Err(e) => {
                out.push(PingCheck::pass("credentials", "the account id and application key were accepted"));
                out.push(PingCheck::fail(
                    "read purchases",
                    e.to_string(),
                    "see the message; ping again once it is fixed",
                ));
            }
            Ok(v) => {
                out.push(PingCheck::pass("credentials", "the account id and application key were accepted"));
                let total = v.get("Total").and_then(|t| t.as_u64()).unwrap_or(0);
                out.push(PingCheck::pass("read purchases", format!("{total} purchases visible")));
            }
        }
        match self
            .call(Request::get("supplier").query("Page", 1).query("Limit", 1), "GET supplier", "the suppliers")
            .await
        {
            Ok(v) => {
                let total = v.get("Total").and_then(|t| t.as_u64()).unwrap_or(0);
                out.push(PingCheck::pass("read suppliers", format!("{total} active suppliers")));
            }
            Err(e) => out.push(PingCheck::fail(
                "read suppliers",
                e.to_string(),
                "see the message; ping again once it is fixed",
            )),
        }
        match self.list_accounts().await {
            Ok(accounts) => {
                let ap = accounts
                    .iter()
                    .find(|a| a.system_account_code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("CREDITORS")));
                match ap {
                    Some(a) => out.push(PingCheck::pass(
                        "read chart of accounts",
                        format!("{} accounts; accounts payable is {} {}", accounts.len(), a.code, a.name),
                    )),
                    None => out.push(PingCheck::fail(
                        "read chart of accounts",
                        format!(
                            "{} accounts, none of them the Accounts payable (CREDITORS) system account",
                            accounts.len()
                        ),
                        "check the account's chart of accounts in Cin7 (Settings → Chart of Accounts)",
                    )),
                }
            }
            Err(e) => out.push(PingCheck::fail(
                "read chart of accounts",
                e.to_string(),
                "see the message; ping again once it is fixed",
            )),
        }
        match self.list_webhooks().await {
            Ok(hooks) => {
                let ours: Vec<_> = hooks.iter().filter(|w| w.event_type.starts_with("Purchase/") || w.event_type.starts_with("Supplier/")).collect();
                out.push(PingCheck::pass(
                    "automation (webhooks)",
                    format!("Automation is available: {} webhooks, {} for purchases and suppliers", hooks.len(), ours.len()),
                ));
                let off: Vec<String> = ours.iter().filter(|w| !w.is_active).map(|w| format!("{} → {}", w.event_type, w.url)).collect();
                if ours.is_empty() {
                    out.push(PingCheck::fail(
                        "webhooks active",
                        "no purchase or supplier webhook is configured: changes arrive only with the scheduled poll",
                        "in Cin7 Core, Integrations → Automation → Webhooks: add Purchase/InvoiceAuthorised, \
                         Purchase/Updated and Supplier/Updated pointing at <your webhook URL>/webhooks/cin7 with the \
                         X-MLC-Webhook-Secret header (README, \"Point each vendor's webhooks at the API\")",
                    ));
                } else if off.is_empty() {
                    out.push(PingCheck::pass("webhooks active", "every purchase and supplier webhook is active"));
                } else {
                    out.push(PingCheck::fail(
                        "webhooks active",
                        format!("deactivated: {}", off.join("; ")),
                        "Cin7 deactivates a webhook after its delivery failed six times over ~76 minutes: make sure the \
                         endpoint answers, then reactivate it (Automation → Webhooks) or let ml-connector register it \
                         again; the scheduled poll backfilled what was missed",
                    ));
                }
            }
            Err(e) => out.push(PingCheck::fail(
                "automation (webhooks)",
                format!("webhooks are not available: {e}"),
                "subscribe to Cin7 Core's Automation add-on to get webhooks; without it ml-connector still works on its \
                 scheduled poll (set the flow's cadence accordingly)",
            )),
        }
        match crate::webhook::secret_header(&self.inner.settings.connection, &self.inner.creds.all) {
            Ok((header, _)) => out.push(PingCheck::pass("webhook secret", format!("deliveries are checked for the {header} header"))),
            Err(_) => out.push(PingCheck::fail(
                "webhook secret",
                "webhook_secret is not set: every webhook delivery would be refused",
                format!(
                    "set webhook_secret with `mlc credentials set {}` and send it in each Cin7 webhook's ExternalHeaders",
                    self.inner.settings.connection
                ),
            )),
        }
        out
    }
}
