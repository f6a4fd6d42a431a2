//! The Deltek Vantagepoint side of the Coupa demo company: a [`DeltekScenario`] (the Deltek
//! simulator's own scenario type; `.to_json()` gives its JSON form) for Larkspur & Vale
//! Architects, matching what [`super::scenario::architecture_firm`] puts in Coupa:
//!
//! - one regular project per Coupa project segment (`segment-3` `2024031` → WBS1 `2024031.00`),
//!   and `OH-0001.00` for overhead lines (`segment-3` `0000000`);
//! - a GL account for every Coupa GL segment (`segment-1`) except [`demo::UNMAPPED_SEGMENT`]
//!   (`6990`), so one approved bill waits in needs-mapping; [`gl_mapping`] lists the pairs a
//!   demo loads as the account mapping;
//! - vendor firms for most suppliers, with the same tax id (so pairing can be learnt), the
//!   remit-change supplier's *old* remit-to address, and the last few suppliers missing (the
//!   vendors flow creates them);
//! - the Deltek demo login, company `A0`, monthly periods (open from last month).
//!
//! Built only through the Deltek simulator's public scenario builders; the Deltek simulator
//! itself is not changed.

use chrono::{Datelike, NaiveDate};

use super::scenario::{OVERHEAD, PROJECTS, architecture_firm, demo};
use crate::deltek::model::{Account, Company, Firm, Project};
use crate::deltek::{DeltekScenario, demo_login};

/// Coupa GL segment → Deltek account, name, account type.
pub const GL_MAP: &[(&str, &str, &str, i64)] = &[
    ("5110", "52100", "Reimb. Consultants - Structural", 6),
    ("5120", "52200", "Reimb. Consultants - MEP", 6),
    ("5130", "52300", "Reimb. Consultants - Landscape", 6),
    ("5140", "52400", "Reimb. Consultants - Civil", 6),
    ("5150", "52500", "Reimb. Consultants - Specialty", 6),
    ("5210", "51200", "Reimb. Printing & Reproduction", 5),
    ("5220", "51100", "Reimb. Travel", 5),
    ("5230", "51500", "Reimb. Model Shop Materials", 5),
    ("6110", "60400", "Software Subscriptions", 9),
    ("6120", "60500", "Computer Equipment < $2,500", 9),
    ("6210", "60100", "Rent", 9),
    ("6220", "60200", "Utilities", 9),
    ("6310", "60300", "Office Supplies", 9),
    // Couriers run drawings to project sites: billed to projects, so a reimbursable account.
    ("6320", "51300", "Reimb. Courier & Postage", 5),
    ("6410", "60900", "Professional Dues & Licenses", 9),
];

/// The overhead project in Deltek.
pub const OVERHEAD_WBS1: &str = "OH-0001.00";

/// How many of the generated suppliers have no Deltek vendor yet (the last ones).
pub const UNPAIRED_SUPPLIERS: usize = 4;

/// `(Coupa GL segment, Deltek account)` pairs for the account mapping (no pair for `6990`).
pub fn gl_mapping() -> Vec<(&'static str, &'static str)> {
    GL_MAP.iter().map(|(c, d, _, _)| (*c, *d)).collect()
}

/// `(Coupa project segment, Deltek WBS1)` pairs, overhead included.
pub fn project_mapping() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = PROJECTS.iter().map(|p| (p.0, p.1)).collect();
    v.push((OVERHEAD, OVERHEAD_WBS1));
    v
}

/// A Deltek vendor number from a supplier name: initials and letters, at most 8, upper case.
pub fn vendor_number(name: &str) -> String {
    let words: Vec<String> = name
        .split_whitespace()
        .map(|w| w.chars().filter(char::is_ascii_alphanumeric).collect::<String>())
        .filter(|w| !w.is_empty())
        .collect();
    let mut code: String = words.first().map(|w| w.chars().take(5).collect()).unwrap_or_default();
    for w in words.iter().skip(1) {
        code.extend(w.chars().take(3));
    }
    code.chars().take(8).collect::<String>().to_ascii_uppercase()
}

/// `(Coupa supplier number, Deltek vendor number or none)` for the generated suppliers.
pub fn vendor_pairs(seed: u64) -> Vec<(String, Option<String>)> {
    let coupa = architecture_firm(seed, 0);
    let n = coupa.suppliers.len();
    coupa
        .suppliers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (s.number.clone().unwrap_or_default(), (i < n - UNPAIRED_SUPPLIERS).then(|| vendor_number(&s.name)))
        })
        .collect()
}

/// The Deltek scenario for the Coupa demo company, with periods around `today`.
pub fn architecture_firm_deltek(seed: u64, today: NaiveDate) -> DeltekScenario {
    let coupa = architecture_firm(seed, 0);
    let (auth, users) = demo_login();
    let mut s = DeltekScenario { auth: Some(auth), users, ..DeltekScenario::new() };
    s.companies.push(Company { company: "A0".into(), name: "Larkspur & Vale Architects, PLLC".into() });
    s.active_company = Some("A0".into());

    let owners = [
        Firm::client("SEAPL", "Seattle Public Library").located("1000 4th Ave", "Seattle", "WA", "98104"),
        Firm::client("BVSD", "Beaverton School District").located("16550 SW Merlo Rd", "Beaverton", "OR", "97003"),
        Firm::client("HARBMED", "Harborview Health Partners").located("325 9th Ave", "Seattle", "WA", "98104"),
        Firm::client("UNIONDEV", "Union Station Partners LLC").located("1701 Wynkoop St", "Denver", "CO", "80202"),
        Firm::client("SNDTRANS", "Sound Transit Housing Fund").located("401 S Jackson St", "Seattle", "WA", "98104"),
        Firm::client("MERCARTS", "Mercer Arts Foundation").located("1200 NW Marshall St", "Portland", "OR", "97209"),
    ];
    for (i, p) in PROJECTS.iter().enumerate() {
        let org = match p.3 {
            "100" => "SEA",
            "200" => "PDX",
            _ => "DEN",
        };
        let start = NaiveDate::from_ymd_opt(2023 + (i as i32 / 2), 1 + (i as u32 * 2) % 12, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0));
        s.projects.push(Project::regular(p.1, p.2, &owners[i % owners.len()]).managed(org, "E00100", start));
    }
    s.projects.push(Project::overhead(OVERHEAD_WBS1, "General Overhead"));
    s.firms.extend(owners);

    let n = coupa.suppliers.len();
    for (i, sup) in coupa.suppliers.iter().enumerate() {
        if i >= n - UNPAIRED_SUPPLIERS {
            continue;
        }
        let a = &sup.primary_address;
        let mut f = Firm::vendor(&vendor_number(&sup.name), &sup.name)
            .located(&a.street1, &a.city, &a.state, &a.postal_code)
            .fed_id(&sup.tax_id);
        if let Some(r) = sup.remit_to_addresses.first() {
            let ra = &r.address;
            f = f.remit_to(&sup.name, &ra.street1, &ra.city, &ra.state, &ra.postal_code);
        }
        s.firms.push(f);
    }

    for (code, name, ty) in [
        ("10100", "Cash - Operating", 1),
        ("11100", "Accounts Receivable", 1),
        ("20100", "Accounts Payable - Trade", 2),
        ("21000", "Sales Tax Payable", 2),
        ("30100", "Retained Earnings", 3),
        ("40100", "Fee Revenue", 4),
        ("40200", "Reimbursable Expense Revenue", 4),
    ] {
        s.accounts.push(Account::new(code, name, ty));
    }
    for (_, code, name, ty) in GL_MAP {
        s.accounts.push(Account::new(code, name, *ty));
    }
    s.control_accounts = vec!["20100".into(), "11100".into()];

    let (y, m) = (today.year(), today.month());
    let prev = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    s = s.months((y - 1, 1), (y, 12), prev);
    s.active_period = Some(i64::from(y) * 100 + i64::from(m));
    s
}

/// The unmapped segment, re-exported for demo scripts.
pub const UNMAPPED_SEGMENT: &str = demo::UNMAPPED_SEGMENT;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coupa::scenario::{DEFAULT_SEED, anchor};
    use crate::deltek::DeltekSim;

    #[tokio::test]
    async fn the_deltek_side_matches_the_coupa_company_and_seeds_the_deltek_simulator() {
        let today = anchor().date_naive();
        let s = architecture_firm_deltek(DEFAULT_SEED, today);
        for (_, wbs1) in project_mapping() {
            assert!(s.projects.iter().any(|p| p.wbs1 == wbs1), "{wbs1}");
        }
        assert!(!s.accounts.iter().any(|a| a.account.starts_with("699")), "6990 stays unmapped");
        let pairs = vendor_pairs(DEFAULT_SEED);
        assert_eq!(pairs.iter().filter(|(_, v)| v.is_none()).count(), UNPAIRED_SUPPLIERS);
        let (number, vendor) = pairs.iter().find(|(n, _)| n == demo::REMIT_CHANGE_SUPPLIER).expect("remit supplier");
        assert!(vendor.is_some(), "{number} is paired, so its remit-to change updates a firm");
        // Its JSON form seeds a running Deltek simulator.
        let sim = DeltekSim::builder().scenario(DeltekScenario::new()).build().expect("build");
        use crate::common::SimSystem;
        sim.seed(&s.to_json()).expect("seed the Deltek simulator");
        assert_eq!(vendor_number("Cascadia Structural Engineers"), "CASCASTR");
    }
}
