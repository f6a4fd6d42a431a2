//! `mlc ping deltek`: can this connection post AP invoices? One line per check, with the fix.
//!
//! | check | how | a failure means |
//! |---|---|---|
//! | token | a password-grant login, read directly | wrong user/password, disabled login, password grant not allowed, wrong client or database (the `invalid_grant` sentence says which) |
//! | database | the login names the database; `Settings/ActiveCompany` answers | wrong `database`, or `company` not in this database |
//! | read firms | `GET firm` (one row) | role lacks the Firms hub |
//! | read accounts | `GET Accounts` (one row) | role lacks accounting lookups |
//! | read periods | `GET Settings/Period` + `Settings/ActivePeriod` | role lacks accounting settings |
//! | active period open | the active period's closed flag | AP would post to a closed period |
//! | read AP files | `GET DataEntry/apLanding` (one row) | role lacks the Transaction Center (AP vouchers) |
//! | amounts visible | posted AP amounts (or AR balances) are not all zero | role lacks field-level visibility of amounts |

use mlc_core::ping::PingCheck;
use mlc_http::HttpError;

use crate::ap::all_money_zero;
use crate::auth::explain_token_error;
use crate::client::{DeltekClient, Query};
use crate::errors::DeltekError;

impl DeltekClient {
    /// Run every check; never fails (a failure is a failed line).
    pub async fn ping(&self) -> Vec<PingCheck> {
        let mut out = Vec::new();
        let s = &self.inner.settings;
        // The first call signs in: its outcome is the token check.
        let company_rows = match self.get_rows("Settings/ActiveCompany", &Query::new(), "the active company").await {
            Err(e) if token_failed(&e) => {
                let (detail, fix) = token_failure(&e);
                out.push(PingCheck::fail("token", detail, fix));
                // Said once: which checks were skipped, and why.
                out.push(PingCheck::fail(
                    "skipped",
                    "not checked without a token: database, read firms, read accounts, read periods, active period \
                     open, read AP files, amounts visible",
                    "fix the token check above, then ping again",
                ));
                return out;
            }
            other => {
                out.push(PingCheck::pass(
                    "token",
                    format!("signed in as {} with the password grant (database {})", self.username(), s.database),
                ));
                other
            }
        };

        match company_rows {
            Ok(rows) => {
                let active = rows.first().map(|r| r.text("Company")).unwrap_or_default();
                match &s.company {
                    Some(want) if !want.eq_ignore_ascii_case(&active) => {
                        let list =
                            self.get_rows("Settings/Company", &Query::new(), "the companies").await.unwrap_or_default();
                        let known: Vec<String> =
                            list.iter().map(|r| r.text("Company")).filter(|c| !c.is_empty()).collect();
                        if known.iter().any(|c| c.eq_ignore_ascii_case(want)) {
                            out.push(PingCheck::pass(
                                "database",
                                format!(
                                    "database {} accepted; company {want} exists (active company is {active})",
                                    s.database
                                ),
                            ));
                        } else {
                            out.push(PingCheck::fail(
                                "database",
                                format!("database {} accepted, but company {want} is not one of {known:?}", s.database),
                                "set the connection's `company` option to one of the listed company codes, and give the API user's role that company",
                            ));
                        }
                    }
                    _ => out.push(PingCheck::pass(
                        "database",
                        format!(
                            "database {} accepted; active company {}",
                            s.database,
                            if active.is_empty() { "(not shown)" } else { &active }
                        ),
                    )),
                }
            }
            Err(e) => {
                out.push(fail_read("database", &e, "Utilities » Change Company/Period access for the API user's role"))
            }
        }

        out.push(self.read_check("read firms", "firm", "the Firms hub (Full) for the API user's role").await);
        out.push(
            self.read_check(
                "read accounts",
                "Accounts",
                "Accounting lookups (chart of accounts) for the API user's role",
            )
            .await,
        );

        match self.periods().await {
            Ok(p) => {
                out.push(PingCheck::pass(
                    "read periods",
                    format!("{} periods, active period {}, closed: {:?}", p.all.len(), p.active, p.closed()),
                ));
                match p.get(p.active) {
                    Some(a) if !a.closed => out.push(PingCheck::pass("active period open", format!("period {} is open", a.period))),
                    Some(a) => out.push(PingCheck::fail(
                        "active period open",
                        format!("the active period {} is closed for this company", a.period),
                        "open the period or move the active period forward in Vantagepoint (Accounting » Period Setup) before AP invoices post",
                    )),
                    None => out.push(PingCheck::fail(
                        "active period open",
                        format!("no active period is set (Settings/ActivePeriod gave {})", p.active),
                        "set the active period in Vantagepoint (Utilities » Change Company/Period)",
                    )),
                }
            }
            Err(e) => {
                out.push(fail_read("read periods", &e, "Accounting settings (periods) for the API user's role"));
                out.push(PingCheck::fail(
                    "active period open",
                    "not checked: periods unreadable",
                    "fix read periods first",
                ));
            }
        }

        out.push(
            self.read_check("read AP files", "DataEntry/apLanding", "the Transaction Center with AP Vouchers (Accounting: access to all transaction types, entry and posting)")
                .await,
        );
        out.push(self.amounts_check().await);
        out
    }

    async fn read_check(&self, check: &str, path: &str, rights: &str) -> PingCheck {
        let q = Query::new().param("pageSize", 1).param("page", 1);
        match self.get_rows(path, &q, check).await {
            Ok(rows) => PingCheck::pass(
                check,
                format!("GET {path} works ({} row{} read)", rows.len(), if rows.len() == 1 { "" } else { "s" }),
            ),
            Err(e) => fail_read(check, &e, rights),
        }
    }

    async fn amounts_check(&self) -> PingCheck {
        let check = "amounts visible";
        let q = Query::new().fields(&["Amount"]).param("pageSize", 25).param("page", 1);
        let rows = match self.get_rows("ledger/AP", &q, "a sample of posted AP amounts").await {
            Ok(r) if !r.is_empty() => r,
            Ok(_) => {
                let q = Query::new().fields(&["Balance", "OriginalAmt"]).param("pageSize", 25).param("page", 1);
                match self.get_rows("ARReview/ARBalance", &q, "a sample of AR balances").await {
                    Ok(r) => r,
                    Err(e) => {
                        return fail_read(
                            check,
                            &e,
                            "the Accounting reports (ledger and AR review) for the API user's role",
                        );
                    }
                }
            }
            Err(e) => return fail_read(check, &e, "the Accounting reports (ledger) for the API user's role"),
        };
        if rows.is_empty() {
            return PingCheck::pass(
                check,
                "no posted amounts to judge yet; the first saved voucher is checked on read-back",
            );
        }
        if all_money_zero(&rows, &["Amount", "Balance", "OriginalAmt"]) {
            return PingCheck::fail(
                check,
                format!(
                    "all {} sampled amounts read as 0: the API user {:?} cannot see amounts",
                    rows.len(),
                    self.username()
                ),
                "give the API user's role full field-level visibility (Settings » Security » Roles » Access Rights, \
                 including amount fields); without it every amount reads as 0",
            );
        }
        PingCheck::pass(check, format!("{} sampled amounts, not all zero", rows.len()))
    }
}

/// Whether the error happened while signing in (rather than on the call itself).
fn token_failed(e: &DeltekError) -> bool {
    match e {
        DeltekError::Auth { .. } => true,
        DeltekError::Http(HttpError::Transient { cause, .. }) => cause.contains("token endpoint"),
        DeltekError::Http(HttpError::RateLimited { url, .. }) => url.ends_with("/token"),
        _ => false,
    }
}

fn token_failure(e: &DeltekError) -> (String, String) {
    let base_fix = "check base_url (https://{tenant}.deltekfirst.com/{Tenant}/api in the cloud, \
                    https://{host}/vantagepoint/api on premises) and that the host is reachable";
    match e {
        DeltekError::Auth { message, .. } => match explain_token_error(message) {
            Some(d) => (format!("{message} — {}", d.cause), d.fix),
            None => (message.clone(), base_fix.to_string()),
        },
        other => (other.to_string(), base_fix.to_string()),
    }
}

fn fail_read(check: &str, e: &DeltekError, rights: &str) -> PingCheck {
    let fix = match e {
        DeltekError::Refused { status: 403, .. } => format!("give the API user's role {rights}"),
        DeltekError::Refused { status: 404, .. } => {
            "check base_url and that this Vantagepoint version offers the endpoint".to_string()
        }
        DeltekError::Auth { fix: Some(f), .. } => f.clone(),
        DeltekError::Http(h) if matches!(h.class(), mlc_core::engine::flow::ErrorClass::Retryable { .. }) => {
            "Vantagepoint is unavailable or throttling; try again shortly".to_string()
        }
        _ => format!("give the API user's role {rights}"),
    };
    PingCheck::fail(check, e.to_string(), fix)
}
