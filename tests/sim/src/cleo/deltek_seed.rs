//! The Deltek side of the Cleo demo company: a [`DeltekScenario`] to merge into the Deltek
//! simulator (its `/__sim/seed`, or [`crate::deltek::DeltekSim::seed_scenario`]) so the two
//! simulators tell one story for `mlc demo deltek-cleo`.
//!
//! It adds, on top of the Deltek demo's chart of accounts and periods:
//! - the three public-sector clients of [`DemoCompany::clients`] as client firms (their firm
//!   numbers are the partner aliases, the key a partner profile maps), each with one regular
//!   project (`2025-EDI-0n`) and a month of posted AR invoices (two to four each, in May 2025,
//!   fee and consultant lines on revenue accounts `40100`/`40300`), which the outbound flow turns
//!   into 810s;
//! - the drilling subcontractor as a vendor firm (`GRANITE`); the subcontract POs its 810s quote
//!   belong to the client projects ([`po_projects`]), so inbound 810s resolve to a firm, a
//!   project and the geotechnical consultants account `52200`.
//!
//! Only builders of the Deltek simulator's own scenario module are used; nothing of the Deltek
//! simulator is changed.

use chrono::{Duration, NaiveTime};
use rust_decimal::Decimal;
use serde_json::Value;

use super::scenario::{DemoCompany, demo_company};
use super::state::splitmix;
use crate::deltek::DeltekScenario;
use crate::deltek::model::{ArInvoice, Firm, Project};

/// Revenue account for fee lines.
pub const FEE_ACCOUNT: &str = "40100";
/// Revenue account for consultant lines.
pub const CONSULTANT_ACCOUNT: &str = "40300";
/// Expense account the subcontractor's invoices post to.
pub const SUBCONTRACT_ACCOUNT: &str = "52200";

/// The Deltek scenario for a demo company.
pub fn deltek_seed(c: &DemoCompany) -> DeltekScenario {
    let mut s = DeltekScenario::new();
    let mut invoice_no = 25_500 + (c.seed % 100);
    for (i, p) in c.clients.iter().enumerate() {
        let firm = Firm::client(&p.deltek_id, &p.name);
        let wbs1 = format!("2025-EDI-{:02}", i + 1);
        s = s.firm(firm.clone()).project(Project::regular(&wbs1, &format!("{} on-call services", p.name), &firm));
        s = s.project(Project::phase(&wbs1, "01", "Design services"));
        let n = 2 + (splitmix(c.seed ^ (i as u64 + 1)) % 3);
        for k in 0..n {
            invoice_no += 1;
            let day = c.month_start + Duration::days((3 + k * 7 + i as u64) as i64);
            let at = Some(day.and_time(NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default()));
            let r = splitmix(c.seed.wrapping_mul(97) ^ (invoice_no << 4));
            let fee = Decimal::new(250_000 + (r % 900_000) as i64, 2);
            let mut inv = ArInvoice::new(&format!("{invoice_no:07}"), &wbs1, at).line(
                "01",
                FEE_ACCOUNT,
                fee,
                "F",
                "Professional services",
            );
            if r.is_multiple_of(2) {
                let consultant = Decimal::new(40_000 + ((r >> 20) % 200_000) as i64, 2);
                inv = inv.line("01", CONSULTANT_ACCOUNT, consultant, "C", "Subconsultant services");
            }
            s = s.ar_invoice(inv);
        }
    }
    let sub = Firm::vendor(&c.subcontractor.deltek_id, &c.subcontractor.name);
    s = s.firm(sub.clone());
    s
}

/// Which project each subcontract PO belongs to: `(PO, WBS1, WBS2)`, the mapping an inbound
/// 810's PO number resolves through (the POs are spread over the client projects in turn).
pub fn po_projects(c: &DemoCompany) -> Vec<(String, String, String)> {
    let n = c.clients.len().max(1);
    c.subcontract_pos
        .iter()
        .enumerate()
        .map(|(i, po)| (po.clone(), format!("2025-EDI-{:02}", i % n + 1), "01".to_string()))
        .collect()
}

/// The mappings (scope `cleo-deltek`) a finance team prepares for the subcontractor's inbound
/// 810s: `(kind, source, target)` — its vendor key (the N1*SE id with its qualifier, `ZZ:…`, as
/// `mlc-x12` keys a seller) → the Deltek vendor, → the subcontract expense account, and each
/// subcontract PO → the project it belongs to.
pub fn demo_mappings(c: &DemoCompany) -> Vec<(String, String, String)> {
    let p = &c.subcontractor.profile;
    let seller = format!("{}:{}", p.seller_id_qualifier.trim(), p.sender_id.trim());
    let mut out = vec![
        ("vendor".to_string(), seller.clone(), c.subcontractor.deltek_id.clone()),
        ("account".to_string(), seller, SUBCONTRACT_ACCOUNT.to_string()),
    ];
    for (po, wbs1, wbs2) in po_projects(c) {
        out.push(("project".to_string(), po, format!("{wbs1}|{wbs2}")));
    }
    out
}

/// The Deltek scenario for the demo seed, as the JSON `/__sim/seed` takes.
pub fn deltek_seed_json(seed: u64) -> Value {
    deltek_seed(&demo_company(seed)).to_json()
}
