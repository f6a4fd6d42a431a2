//! The Deltek side of the Procore demo: a [`DeltekScenario`] for Summit Ridge Builders that
//! matches [`super::scenario::general_contractor`], for the Procore → Deltek flows' demo and tests.
//!
//! - **Projects**: one regular project per job site, `WBS1` = the Procore project's
//!   `accounting_project_number` (`2025101.00` for `25-101`), with one phase (`WBS2`) per CSI
//!   division of the cost code template (`01`, `03`, …); the closed Procore job is an inactive
//!   project.
//! - **Vendor firms**: every Procore vendor except the new subcontractor
//!   ([`super::scenario::NEW_SUBCONTRACTOR`]), vendor number = its abbreviation, the EIN as the
//!   federal id (Metro Safety has none: pairing by exact name); Old Mill Masonry is inactive.
//! - **Chart of accounts**: job-cost accounts per cost type ([`COST_TYPE_ACCOUNTS`]), committed
//!   cost accounts and their offset for commitment journal entries ([`COMMITMENT_ACCOUNTS`]),
//!   retainage payable, and the AP/AR control accounts.
//! - **Periods**: monthly, January 2024 – December 2025, open from May 2025, June 2025 active.
//!
//! The API login is the Deltek demo's (`deltek::demo_login`).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::scenario::{COST_CODES, JOB_SITES, VENDORS, project_numbers};
use crate::deltek::model::{Account, Company, Firm, Project};
use crate::deltek::{DeltekScenario, demo_login};

/// `(cost type code, Deltek account, name)`: the job-cost account each Procore cost type maps to.
pub const COST_TYPE_ACCOUNTS: &[(&str, &str, &str)] = &[
    ("L", "57400", "Job Cost - Labor"),
    ("M", "57200", "Job Cost - Materials"),
    ("S", "57100", "Job Cost - Subcontracts"),
    ("E", "57300", "Job Cost - Equipment Rental"),
    ("P", "57500", "Job Cost - Professional Services"),
    ("O", "57600", "Job Cost - Other"),
    ("A", "57600", "Job Cost - Other"),
];

/// `(account, name)` for commitment journal entries: committed subcontracts, committed purchase
/// orders, and the offset (a memo liability).
pub const COMMITMENT_ACCOUNTS: &[(&str, &str)] = &[
    ("58100", "Committed Costs - Subcontracts"),
    ("58200", "Committed Costs - Purchase Orders"),
    ("29100", "Commitments Offset"),
];

/// Retainage held on subcontractor invoices.
pub const RETAINAGE_PAYABLE: &str = "20150";

/// The client (owner) firm of job site `i`.
fn owner(i: usize) -> Firm {
    let owners = [
        ("RIVMED", "Riverside Health Partners"),
        ("LAKESD", "Lakewood Public Schools"),
        ("HARBORPT", "Harbor Point Residential LLC"),
        ("NGLOG", "Northgate Logistics REIT"),
        ("BOULDER", "City of Boulder"),
        ("GOLDENFD", "City of Golden Fire Department"),
    ];
    let (code, name) = owners[i % owners.len()];
    Firm::client(code, name).located("1 Civic Plaza", "Denver", "CO", "80202")
}

fn start(y: i32, m: u32) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(y, m, 1).map(|d| d.and_time(NaiveTime::MIN))
}

/// The Deltek database matching `general_contractor(_, projects)`.
pub fn summit_ridge(projects: usize) -> DeltekScenario {
    let (auth, users) = demo_login();
    let mut s = DeltekScenario { auth: Some(auth), users, ..DeltekScenario::new() };
    s.companies.push(Company { company: "A0".into(), name: super::scenario::demo::COMPANY_NAME.into() });
    s.active_company = Some("A0".into());
    for (code, name, ty) in [
        ("10100", "Cash - Operating", 1),
        ("11100", "Accounts Receivable", 1),
        ("11500", "Retainage Receivable", 1),
        ("20100", "Accounts Payable - Trade", 2),
        (RETAINAGE_PAYABLE, "Retainage Payable", 2),
        ("20300", "Accrued Liabilities", 2),
        ("21000", "Sales Tax Payable", 2),
        ("30100", "Retained Earnings", 3),
        ("40100", "Contract Revenue", 4),
        ("60100", "Office Rent", 9),
        ("60400", "Software Subscriptions", 9),
    ] {
        s.accounts.push(Account::new(code, name, ty));
    }
    let mut seen = Vec::new();
    for (_, acct, name) in COST_TYPE_ACCOUNTS {
        if !seen.contains(acct) {
            seen.push(*acct);
            s.accounts.push(Account::new(acct, name, 7));
        }
    }
    for (acct, name) in COMMITMENT_ACCOUNTS {
        s.accounts.push(Account::new(acct, name, if acct.starts_with('2') { 2 } else { 8 }));
    }
    s.control_accounts = vec!["20100".into(), "11100".into()];

    for vs in VENDORS.iter().filter(|v| v.in_deltek) {
        let mut f = Firm::vendor(vs.abbreviation, vs.name).located("100 Main St", vs.city, "CO", "80202");
        if let Some(e) = vs.ein {
            f = f.fed_id(e);
        }
        if !vs.active {
            f = f.inactive();
        }
        s.firms.push(f);
    }
    for i in 0..projects.min(6) {
        s.firms.push(owner(i));
    }
    for i in 0..=projects {
        let active = i < projects;
        let (name, wbs1) = if active {
            let (site, _) = JOB_SITES[i % JOB_SITES.len()];
            (site.to_string(), project_numbers(i).1)
        } else {
            ("Westside Library Renovation".to_string(), "2024117.00".to_string())
        };
        let mut p = Project::regular(&wbs1, &name, &owner(i)).managed("CON", "E00042", start(2025, 1));
        if !active {
            p = p.inactive();
        }
        s.projects.push(p);
        for (div, dname, _) in COST_CODES {
            s.projects.push(Project::phase(&wbs1, div, dname));
        }
    }
    s = s.months((2024, 1), (2025, 12), (2025, 5));
    s.active_period = Some(202_506);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_procore_company_and_applies() {
        let d = summit_ridge(6);
        let pc = super::super::scenario::general_contractor(super::super::scenario::DEFAULT_SEED, 6);
        for p in pc.projects.iter() {
            let w = p.accounting_project_number.clone().unwrap_or_default();
            assert!(d.projects.iter().any(|x| x.wbs1 == w && x.wbs2.is_empty()), "no Deltek project {w}");
        }
        let new = VENDORS.iter().find(|v| !v.in_deltek).expect("a new subcontractor");
        assert!(!d.firms.iter().any(|f| f.name == new.name));
        assert!(d.firms.iter().any(|f| f.name == "Apex Concrete Contractors, Inc." && f.fed_id == "84-1234501"));
        // It loads into the Deltek simulator's state.
        let json = d.to_json();
        let back = DeltekScenario::from_json(&json).expect("round trip");
        assert_eq!(back.projects.len(), d.projects.len());
    }
}
