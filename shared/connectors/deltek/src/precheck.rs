//! Pre-post checks for an AP invoice, using the per-run caches (no call per invoice once the
//! vendor, the account and project lists and the periods are read).
//!
//! Vantagepoint validates the same rules when a file is saved, but a file is all or nothing;
//! checking first means a person sees every problem of an invoice at once, in words that name
//! the line, and other invoices never travel with a doomed one.

use mlc_core::domain::ApInvoice;

use crate::client::DeltekClient;
use crate::errors::DeltekError;
use crate::model::{Wbs, wbs_label};

impl DeltekClient {
    /// Vendor exists, is a vendor and is active; every line's account exists and is active; every
    /// project level exists, is active, is the lowest level, and accepts the account's type; the
    /// posting period is open. All problems are reported together.
    pub async fn check_ap_invoice(&self, inv: &ApInvoice) -> Result<(), DeltekError> {
        let what = format!("voucher for invoice {} from vendor {}", inv.invoice_number.trim(), inv.vendor.trim());
        // A closed period is its own error (a person opens the period; nothing else to fix).
        self.posting_period(inv.invoice_date, &what).await?;
        let mut problems = Vec::new();
        let allowed = &self.inner.settings.currencies;
        if !allowed.iter().any(|c| c.eq_ignore_ascii_case(inv.currency.code())) {
            problems.push(format!(
                "the bill is in {} but this Vantagepoint database takes {} (connection setting `currencies`): enable \
                 multi-currency for {} in Vantagepoint and add it to `currencies`, or enter the bill by hand in {}",
                inv.currency.code(),
                allowed.join(", "),
                inv.currency.code(),
                allowed.first().map(String::as_str).unwrap_or("USD")
            ));
        }
        match self.find_vendor(&inv.vendor).await? {
            None => problems.push(format!(
                "vendor {} does not exist in Vantagepoint: create the vendor firm or fix the vendor mapping",
                inv.vendor.trim()
            )),
            Some(v) if !v.is_vendor => problems.push(format!(
                "firm {} ({}) is not marked as a vendor: tick Vendor on the firm in Vantagepoint",
                v.vendor, v.name
            )),
            Some(v) if !v.active() => problems.push(format!(
                "vendor {} ({}) is inactive (status {}): reactivate it or map to an active vendor",
                v.vendor, v.name, v.status
            )),
            Some(_) => {}
        }
        for line in &inv.lines {
            let n = line.line_no;
            let account = match self.account(&line.account).await? {
                None => {
                    problems.push(format!(
                        "line {n}: account {} does not exist: create it or fix the account mapping",
                        line.account.trim()
                    ));
                    None
                }
                Some(a) if !a.active => {
                    problems.push(format!("line {n}: account {} ({}) is inactive", a.code, a.name));
                    Some(a)
                }
                Some(a) => Some(a),
            };
            let Some(p) = &line.project else {
                if let Some(a) = &account
                    && (4..=8).contains(&a.account_type)
                {
                    problems
                        .push(format!("line {n}: account {} needs a project (it is a project-charged type)", a.code));
                }
                continue;
            };
            let label = wbs_label(p);
            let Some(level) = self.project(p).await? else {
                problems
                    .push(format!("line {n}: project {label} does not exist: create it or fix the project mapping"));
                continue;
            };
            if !level.active {
                problems.push(format!("line {n}: project {label} is inactive"));
            }
            if level.has_sub_levels {
                problems.push(format!(
                    "line {n}: project {label} has phases or tasks below it: map the line to the lowest level"
                ));
            }
            let top = if p.wbs2().is_some() {
                self.project(&p.truncated(1)).await?.unwrap_or(level.clone())
            } else {
                level.clone()
            };
            if !top.active && level.active {
                problems.push(format!("line {n}: project {} is inactive", top.wbs1));
            }
            if let Some(a) = &account {
                match top.charge_type.as_str() {
                    "R" if !a.is_direct() => problems.push(format!(
                        "line {n}: account {} (type {}) cannot be charged to regular project {}: regular projects take \
                         direct or reimbursable accounts",
                        a.code, a.account_type, top.wbs1
                    )),
                    "H" | "P" if a.account_type != 9 => problems.push(format!(
                        "line {n}: account {} (type {}) cannot be charged to overhead/promotional project {}: it takes \
                         indirect accounts",
                        a.code, a.account_type, top.wbs1
                    )),
                    _ => {}
                }
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(DeltekError::Invalid { what, problem: problems.join("; ") }) }
    }
}
