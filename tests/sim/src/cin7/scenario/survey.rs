//! The smallest Cin7 → Deltek scene the tests build on: one Cin7 supplier that is the Deltek demo
//! vendor `CASCSURV` (same name, so the vendor flow pairs them), and purchases from it charged to a
//! regular Deltek demo project with one survey line each. One place for the scene's names and
//! builders, so the `mlc` tests and the poster's AWS tests mean the same purchase.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{PurchaseBuilder, line, supplier};
use crate::cin7::model::{DocStatus, Supplier};

/// The Cin7 → Deltek AP flow.
pub const AP: &str = "cin7-deltek-ap";
/// The Cin7 suppliers → Deltek vendor firms flow.
pub const VENDORS: &str = "cin7-deltek-vendors";
/// A Cin7 direct-cost code and the Deltek account it maps to (subconsultants, survey).
pub const SURVEY_CODE: &str = "461";
pub const SURVEY_ACCOUNT: &str = "52300";
/// A regular Deltek demo project at its lowest level.
pub const PROJECT: &str = "2024003.00|01";
/// The Deltek demo vendor the supplier is.
pub const VENDOR: &str = "CASCSURV";

/// A day of June 2025, the scene's month.
pub fn day(d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2025, 6, d)
}

/// The Deltek demo vendor `CASCSURV`, as a Cin7 supplier (same name: the vendor flow pairs them).
pub fn cascade() -> Supplier {
    let mut s = supplier("Cascade Land Surveying LLC");
    s.id = "5a1e0000-0000-4000-8000-000000000001".into();
    s
}

/// A simple authorised purchase from `sup` charged to [`PROJECT`], one survey line of `amount`.
pub fn purchase(sup: &Supplier, id: &str, amount: i64) -> PurchaseBuilder {
    PurchaseBuilder::simple(sup, "Port Harbor HQ")
        .id(id)
        .attribute(1, PROJECT)
        .line(line("Boundary survey", SURVEY_CODE, Decimal::ONE, Decimal::from(amount)))
        .order(DocStatus::Authorised)
}
