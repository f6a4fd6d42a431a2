//! [`engineering_firm`]: a realistic, deterministic Cin7 Core account for Harbor & Pine
//! Engineering, a 120-person civil/structural consultancy with two offices (the same firm the
//! Deltek simulator's demo holds, so the demo can map one onto the other).
//!
//! What it produces:
//! - a chart of accounts: the `CREDITORS` accounts-payable account (`800`), receivables,
//!   inventory, sales tax, two bank accounts and 21 expense codes (subconsultants, printing,
//!   lab testing, field supplies, freight, travel, vehicles, rent, utilities, telecom, insurance,
//!   legal and accounting, software, IT, office supplies, training, recruiting, equipment
//!   rental), one of them archived; [`ACCOUNT_HINTS`] pairs each expense code with the Deltek
//!   demo account it corresponds to;
//! - payment terms, tax rules (`Tax Exempt`, `WA Sales Tax` 10.1 %) and two locations
//!   ([`LOCATIONS`]);
//! - 40 suppliers: the Deltek demo's vendors plus twelve that exist only in Cin7 (so the vendor
//!   flow has firms to create), one in CAD, two deprecated; [`supplier_hints`] names the Deltek
//!   vendor of each;
//! - `purchases` purchases (default [`DEFAULT_PURCHASES`]) over the nine months before
//!   [`anchor`], covering every state: header-only drafts, draft and authorised orders, stock
//!   being received and received, draft invoices, authorised invoices, paid, voided, credit
//!   notes (draft and authorised), Simple, Advanced (including ones with two and three
//!   invoices) and Service purchases, both approaches, both offices. Lines carry quantities,
//!   prices, discounts, tax rules and expense codes spread over the chart; freight comes as an
//!   additional charge; `AdditionalAttribute1` ([`PROJECT_ATTRIBUTE`]) holds the Deltek project
//!   key (`WBS1|WBS2|WBS3`) the purchase is charged to ([`PROJECTS`], or the overhead project).
//!
//! Everything is derived from the seed and the fixed [`anchor`] instant, never from the clock:
//! the same seed gives the same ids, numbers, dates and `LastUpdatedDate` values on every run.
//! Supplier data comes from its own generator stream, so it does not change with the number of
//! purchases.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;

use super::{Cin7Scenario, PurchaseBuilder, line};
use crate::cin7::model::{
    Account, Approach, Charge, DocStatus, Line, PaymentTerm, Purchase, PurchaseKind, Supplier, SupplierAddress,
    SupplierContact, TaxCalculation, TaxRule, price_line,
};

/// The default seed (`mlc demo`).
pub const DEFAULT_SEED: u64 = 20_250_613;
/// The default number of purchases.
pub const DEFAULT_PURCHASES: usize = 300;
/// The two offices, as Cin7 locations.
pub const LOCATIONS: [&str; 2] = ["Port Harbor HQ", "Tacoma Office"];
/// Where the Deltek project key lives.
pub const PROJECT_ATTRIBUTE: &str = "AdditionalAttribute1";
/// Deltek demo project keys at their lowest level (`WBS1|WBS2|WBS3`), charged by project work.
pub const PROJECTS: [&str; 18] = [
    "2023014.00|01",
    "2023014.00|02|001",
    "2023014.00|02|002",
    "2023014.00|03",
    "2024003.00|01",
    "2024003.00|02",
    "2024003.00|03",
    "2024011.00|01",
    "2024011.00|02",
    "2024011.00|03|001",
    "2024011.00|03|002",
    "2024017.00|01",
    "2024017.00|02",
    "2024022.00",
    "2025002.00|01",
    "2025002.00|02",
    "2025005.00|01",
    "2025005.00|02",
];

/// The instant the generated history ends: Friday 2025-06-13 17:00 UTC (the simulators'
/// manual default clock is the Monday after).
pub fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 13, 17, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `(Cin7 code, name, Type, Class, Deltek demo account)` of the chart of accounts.
const CHART: &[(&str, &str, &str, &str, Option<&str>)] = &[
    ("090", "Operating Account", "BANK", "ASSET", None),
    ("091", "Payroll Account", "BANK", "ASSET", None),
    ("610", "Accounts Receivable", "CURRENT", "ASSET", None),
    ("630", "Inventory", "INVENTORY", "ASSET", None),
    ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", None),
    ("820", "Sales Tax", "CURRLIAB", "LIABILITY", None),
    ("200", "Fee Revenue", "REVENUE", "REVENUE", None),
    ("412", "Legal & Accounting", "EXPENSE", "EXPENSE", Some("60800")),
    ("430", "Equipment Rental", "EXPENSE", "EXPENSE", Some("61300")),
    ("433", "Professional Insurance", "EXPENSE", "EXPENSE", Some("60700")),
    ("445", "Utilities", "EXPENSE", "EXPENSE", Some("60200")),
    ("453", "Office Supplies", "EXPENSE", "EXPENSE", Some("60300")),
    ("455", "Training & Meetings", "EXPENSE", "EXPENSE", Some("60900")),
    ("456", "Recruiting & Staffing", "EXPENSE", "EXPENSE", Some("61200")),
    ("461", "Subconsultants - Survey", "DIRECTCOSTS", "EXPENSE", Some("52300")),
    ("462", "Subconsultants - Geotechnical", "DIRECTCOSTS", "EXPENSE", Some("52200")),
    ("463", "Subconsultants - Structural", "DIRECTCOSTS", "EXPENSE", Some("52100")),
    ("464", "Subconsultants - Environmental & Other", "DIRECTCOSTS", "EXPENSE", Some("56100")),
    ("469", "Rent", "EXPENSE", "EXPENSE", Some("60100")),
    ("470", "Printing & Reproduction", "DIRECTCOSTS", "EXPENSE", Some("51200")),
    ("471", "Laboratory Testing", "DIRECTCOSTS", "EXPENSE", Some("51300")),
    ("472", "Field Supplies", "DIRECTCOSTS", "EXPENSE", Some("51500")),
    ("474", "Freight & Delivery", "EXPENSE", "EXPENSE", Some("55300")),
    ("480", "Travel & Lodging", "DIRECTCOSTS", "EXPENSE", Some("51100")),
    ("481", "Vehicle & Fuel", "EXPENSE", "EXPENSE", Some("61100")),
    ("485", "Software Subscriptions", "EXPENSE", "EXPENSE", Some("60400")),
    ("489", "Telephone & Internet", "EXPENSE", "EXPENSE", Some("60600")),
    ("490", "IT Services & Equipment", "EXPENSE", "EXPENSE", Some("60500")),
    ("499", "Copier Lease (retired)", "EXPENSE", "EXPENSE", Some("69900")),
];

/// Whether a Cin7 expense code maps to a direct (project-chargeable) Deltek account.
fn is_direct_code(code: &str) -> bool {
    ["461", "462", "463", "464", "470", "471", "472", "474", "480"].contains(&code)
}

/// `(Cin7 expense code, Deltek demo GL account)` pairs, for the demo's account mapping.
pub const ACCOUNT_HINTS: &[(&str, &str)] = &[
    ("412", "60800"),
    ("430", "61300"),
    ("433", "60700"),
    ("445", "60200"),
    ("453", "60300"),
    ("455", "60900"),
    ("456", "61200"),
    ("461", "52300"),
    ("462", "52200"),
    ("463", "52100"),
    ("464", "56100"),
    ("469", "60100"),
    ("470", "51200"),
    ("471", "51300"),
    ("472", "51500"),
    ("474", "55300"),
    ("480", "51100"),
    ("481", "61100"),
    ("485", "60400"),
    ("489", "60600"),
    ("490", "60500"),
    ("499", "69900"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Subconsultant services billed over time (Service or Advanced purchases).
    Sub,
    /// Laboratory testing.
    Lab,
    /// Stocked goods (field supplies, instruments): STOCK approach is common.
    Goods,
    /// Printing.
    Repro,
    /// Travel.
    Travel,
    /// Overhead services (rent, utilities, software ...), charged to the overhead project.
    Overhead,
}

/// `(name, SKU, account, price from, price to (cents), quantity from, quantity to)`.
type Item = (&'static str, &'static str, &'static str, i64, i64, i64, i64);

struct Profile {
    name: &'static str,
    deltek: Option<&'static str>,
    kind: Kind,
    currency: &'static str,
    term: &'static str,
    tax: &'static str,
    prefix: &'static str,
    street: &'static str,
    city: &'static str,
    state: &'static str,
    postcode: &'static str,
    country: &'static str,
    contact: &'static str,
    domain: &'static str,
    tax_number: Option<&'static str>,
    deprecated: bool,
    weight: u64,
    overhead: &'static str,
    items: &'static [Item],
}

#[allow(clippy::too_many_arguments)]
const fn p(
    name: &'static str,
    deltek: Option<&'static str>,
    kind: Kind,
    term: &'static str,
    tax: &'static str,
    prefix: &'static str,
    street: &'static str,
    city: &'static str,
    postcode: &'static str,
    contact: &'static str,
    domain: &'static str,
    weight: u64,
    items: &'static [Item],
) -> Profile {
    Profile {
        name,
        deltek,
        kind,
        currency: "USD",
        term,
        tax,
        prefix,
        street,
        city,
        state: "WA",
        postcode,
        country: "United States",
        contact,
        domain,
        tax_number: None,
        deprecated: false,
        weight,
        overhead: "OH-0001.00|ADM",
        items,
    }
}

const EX: &str = "Tax Exempt";
const ST: &str = "WA Sales Tax";

fn profiles() -> Vec<Profile> {
    use Kind::*;
    let mut v = vec![
        p(
            "Cascade Land Surveying LLC",
            Some("CASCSURV"),
            Sub,
            "Net 30",
            EX,
            "CLS-",
            "412 Summit Ave",
            "Everett",
            "98201",
            "Dana Whitfield",
            "cascadesurvey.com",
            9,
            &[
                ("Topographic survey - field crew", "SVC-TOPO", "461", 16500, 19500, 8, 40),
                ("Boundary survey", "SVC-BOUND", "461", 240000, 680000, 1, 1),
                ("Construction staking", "SVC-STAKE", "461", 15500, 17500, 4, 24),
                ("Survey drafting", "SVC-DRAFT", "461", 9500, 11500, 4, 30),
            ],
        ),
        p(
            "Granite Geotechnical, Inc.",
            Some("GRANGEO"),
            Sub,
            "Net 30",
            EX,
            "GG",
            "5901 Industry Dr",
            "Tacoma",
            "98424",
            "Raj Patel",
            "granitegeo.com",
            8,
            &[
                ("Geotechnical investigation", "SVC-GEOINV", "462", 450000, 1250000, 1, 1),
                ("Geotechnical engineer - hourly", "SVC-GEOHR", "462", 17500, 21000, 6, 40),
                ("Boring logs and report", "SVC-GEOREP", "462", 180000, 360000, 1, 1),
            ],
        ),
        p(
            "Steelhead Structural Engineers",
            Some("STEELSTR"),
            Sub,
            "Net 45",
            EX,
            "SSE-",
            "1200 Westlake Ave N",
            "Seattle",
            "98109",
            "Maria Lindqvist",
            "steelheadse.com",
            7,
            &[
                ("Structural peer review", "SVC-PEER", "463", 350000, 950000, 1, 1),
                ("Structural engineer - hourly", "SVC-STRHR", "463", 18500, 23500, 8, 60),
            ],
        ),
        p(
            "Blueprint Reprographics",
            Some("BLUEPRNT"),
            Repro,
            "Net 15",
            ST,
            "BP-",
            "77 Pike St",
            "Seattle",
            "98101",
            "Front Desk",
            "blueprintrepro.com",
            7,
            &[
                ("Full-size plan set, 24x36", "PRN-2436", "470", 9500, 14500, 2, 12),
                ("Half-size plan set, 11x17", "PRN-1117", "470", 2500, 4500, 4, 20),
                ("Color exhibit boards", "PRN-BOARD", "470", 6500, 12500, 1, 6),
            ],
        ),
        p(
            "Pacific Testing Laboratories",
            Some("PACTEST"),
            Lab,
            "Net 30",
            EX,
            "PTL",
            "3300 Harbor Ave SW",
            "Seattle",
            "98126",
            "Lab Accounts",
            "pactestlabs.com",
            6,
            &[
                ("Concrete cylinder compression test", "LAB-CYL", "471", 2800, 3800, 6, 36),
                ("Soil proctor test", "LAB-PROC", "471", 16500, 22500, 1, 6),
                ("Special inspection - hourly", "LAB-INSP", "471", 9800, 12500, 4, 24),
            ],
        ),
        p(
            "Northwest Office Supply Co.",
            Some("NWOFFICE"),
            Goods,
            "Net 30",
            ST,
            "NWO",
            "910 Commerce St",
            "Tacoma",
            "98402",
            "Orders Team",
            "nwofficesupply.com",
            6,
            &[
                ("Copy paper, case", "OFF-PAPER", "453", 4200, 5600, 2, 20),
                ("Toner cartridge", "OFF-TONER", "453", 8900, 18900, 1, 8),
                ("Engineering notebooks, box", "OFF-NOTE", "453", 2400, 3900, 1, 10),
                ("Desk organizers", "OFF-ORG", "453", 1200, 2800, 2, 12),
            ],
        ),
        p(
            "CADWorks Software, Inc.",
            Some("CADWORKS"),
            Overhead,
            "Net 30",
            ST,
            "CW-",
            "500 Innovation Pkwy",
            "San Jose",
            "95134",
            "Renewals",
            "cadworks.com",
            3,
            &[
                ("Civil design suite - annual seat", "SW-CIVIL", "485", 189500, 245000, 2, 12),
                ("Structural analysis - annual seat", "SW-STRUCT", "485", 210000, 295000, 1, 6),
            ],
        ),
        p(
            "Summit IT Services",
            Some("SUMMITIT"),
            Overhead,
            "Net 15",
            EX,
            "SIT-",
            "1420 5th Ave",
            "Seattle",
            "98101",
            "Billing",
            "summitit.net",
            5,
            &[
                ("Managed IT services - monthly", "IT-MSP", "490", 420000, 520000, 1, 1),
                ("On-site support - hourly", "IT-ONSITE", "490", 13500, 16500, 2, 16),
            ],
        ),
        p(
            "Harbor Properties LLC",
            Some("HARBPROP"),
            Overhead,
            "Due on Receipt",
            EX,
            "RENT-",
            "1 Harbor Square",
            "Port Harbor",
            "98001",
            "Property Manager",
            "harborproperties.com",
            4,
            &[
                ("Office rent - monthly", "RENT-HQ", "469", 1850000, 1850000, 1, 1),
                ("Common area maintenance", "RENT-CAM", "469", 120000, 160000, 1, 1),
            ],
        ),
        p(
            "Port Harbor City Power & Light",
            Some("CITYPWR"),
            Overhead,
            "Net 15",
            EX,
            "PHPL",
            "55 Grid Way",
            "Port Harbor",
            "98001",
            "Customer Service",
            "phcpl.gov",
            3,
            &[("Electricity - monthly service", "UTIL-ELEC", "445", 160000, 285000, 1, 1)],
        ),
        p(
            "MetroTel Communications",
            Some("METROTEL"),
            Overhead,
            "Net 30",
            EX,
            "MT",
            "808 Fiber Ln",
            "Bellevue",
            "98004",
            "Business Billing",
            "metrotel.com",
            3,
            &[
                ("Fiber internet - monthly", "TEL-FIBER", "489", 89000, 89000, 1, 1),
                ("Mobile lines", "TEL-MOBILE", "489", 4500, 5500, 20, 60),
            ],
        ),
        p(
            "Alpine Professional Insurance Co.",
            Some("ALPINS"),
            Overhead,
            "Net 30",
            EX,
            "API-",
            "2 Alpine Plaza",
            "Hartford",
            "06103",
            "Premium Accounting",
            "alpinepro.com",
            1,
            &[("Professional liability premium - quarterly", "INS-PL", "433", 2150000, 2450000, 1, 1)],
        ),
        p(
            "Reed & Marsh LLP",
            Some("REEDLAW"),
            Overhead,
            "Net 30",
            EX,
            "RM",
            "1000 2nd Ave, Floor 30",
            "Seattle",
            "98104",
            "Accounts Receivable",
            "reedmarsh.com",
            2,
            &[("Legal services - contract review", "LAW-HR", "412", 39500, 52500, 2, 12)],
        ),
        p(
            "Kline & Associates CPAs",
            Some("KLINECPA"),
            Overhead,
            "Net 30",
            EX,
            "KA-",
            "230 Market St",
            "Kirkland",
            "98033",
            "Billing",
            "klinecpa.com",
            1,
            &[("Quarterly review and tax advisory", "CPA-QTR", "412", 450000, 780000, 1, 1)],
        ),
        p(
            "Skyline Airways",
            Some("SKYAIR"),
            Travel,
            "Due on Receipt",
            EX,
            "SKY",
            "17801 Airport Way",
            "SeaTac",
            "98158",
            "Corporate Travel",
            "skylineair.com",
            4,
            &[("Airfare - client meeting", "TRV-AIR", "480", 28000, 74000, 1, 4)],
        ),
        p(
            "Bayview Hotel Group",
            Some("BAYHOTEL"),
            Travel,
            "Due on Receipt",
            EX,
            "BHG",
            "1 Bayview Dr",
            "Olympia",
            "98501",
            "Group Sales",
            "bayviewhotels.com",
            3,
            &[("Hotel - room night", "TRV-HOTEL", "480", 15900, 23900, 1, 8)],
        ),
        p(
            "Rapid Car Rental",
            Some("RAPIDCAR"),
            Travel,
            "Due on Receipt",
            EX,
            "RCR",
            "17600 Intl Blvd",
            "SeaTac",
            "98188",
            "Corporate Accounts",
            "rapidcar.com",
            2,
            &[("Vehicle rental - day", "TRV-CAR", "480", 6500, 9800, 1, 7)],
        ),
        p(
            "FieldGear Outfitters",
            Some("FIELDGR"),
            Goods,
            "Net 30",
            ST,
            "FG",
            "42 Trailhead Rd",
            "Issaquah",
            "98027",
            "Pro Sales",
            "fieldgear.com",
            5,
            &[
                ("High-visibility vests", "FLD-VEST", "472", 1800, 2600, 10, 40),
                ("Safety boots", "FLD-BOOT", "472", 12900, 18900, 2, 10),
                ("Field tablets, rugged", "FLD-TAB", "490", 89000, 129000, 1, 4),
                ("Rain gear sets", "FLD-RAIN", "472", 7500, 11500, 4, 16),
            ],
        ),
        p(
            "DroneView Aerial Imaging",
            Some("DRONEVU"),
            Sub,
            "Net 30",
            EX,
            "DVI-",
            "9 Hangar Row",
            "Arlington",
            "98223",
            "Ops",
            "droneview.com",
            3,
            &[
                ("Aerial mapping flight", "SVC-UAV", "461", 185000, 420000, 1, 2),
                ("Orthomosaic processing", "SVC-ORTHO", "461", 45000, 95000, 1, 3),
            ],
        ),
        p(
            "TrafficCount Data Services",
            Some("TRAFCNT"),
            Sub,
            "Net 30",
            EX,
            "TC",
            "300 Junction St",
            "Spokane",
            "99201",
            "Project Billing",
            "trafficcount.com",
            3,
            &[
                ("Turning movement count", "SVC-TMC", "464", 42000, 56000, 4, 20),
                ("Tube count - 7 day", "SVC-TUBE", "464", 28000, 36000, 4, 16),
            ],
        ),
        p(
            "EnviroLab Analytical",
            Some("ENVIROLB"),
            Lab,
            "Net 30",
            EX,
            "EL",
            "1550 Lab Ct",
            "Redmond",
            "98052",
            "Client Services",
            "envirolab.com",
            3,
            &[
                ("Water quality panel", "LAB-WQ", "471", 18500, 26500, 2, 16),
                ("Soil contamination screen", "LAB-SOIL", "471", 24500, 38500, 1, 10),
            ],
        ),
        p(
            "Coastal Environmental Consultants",
            Some("COASTENV"),
            Sub,
            "Net 45",
            EX,
            "CEC-",
            "60 Tideway",
            "Anacortes",
            "98221",
            "Accounts",
            "coastalenv.com",
            4,
            &[
                ("Wetland delineation", "SVC-WET", "464", 320000, 780000, 1, 1),
                ("Environmental scientist - hourly", "SVC-ENVHR", "464", 13500, 16500, 8, 40),
            ],
        ),
        p(
            "PrintPro Large Format",
            Some("PRINTPRO"),
            Repro,
            "Net 15",
            ST,
            "PP",
            "2020 Press Ave",
            "Tacoma",
            "98409",
            "Orders",
            "printpro.com",
            4,
            &[
                ("Large-format color plots", "PRN-PLOT", "470", 1800, 3200, 10, 80),
                ("Mounted display boards", "PRN-MOUNT", "470", 8500, 14500, 1, 6),
            ],
        ),
        p(
            "TechRent Equipment Rental",
            Some("TECHRENT"),
            Overhead,
            "Net 30",
            ST,
            "TR",
            "880 Rental Row",
            "Kent",
            "98032",
            "Rental Desk",
            "techrent.com",
            3,
            &[
                ("GPS rover rental - week", "RNT-GPS", "430", 45000, 65000, 1, 4),
                ("Total station rental - week", "RNT-TS", "430", 52000, 78000, 1, 3),
            ],
        ),
        p(
            "FleetFuel Card Services",
            Some("FLEETFL"),
            Overhead,
            "Net 15",
            EX,
            "FF",
            "PO Box 6600",
            "Dallas",
            "75266",
            "Card Services",
            "fleetfuel.com",
            4,
            &[("Fleet fuel - monthly statement", "FUEL-MO", "481", 210000, 460000, 1, 1)],
        ),
        p(
            "MapData GIS Licensing",
            Some("MAPDATA"),
            Overhead,
            "Net 30",
            EX,
            "MD-",
            "12 Contour Way",
            "Redlands",
            "92373",
            "Licensing",
            "mapdata.com",
            2,
            &[("GIS platform - annual license", "SW-GIS", "485", 320000, 480000, 1, 3)],
        ),
        p(
            "Old Copier Leasing Co.",
            Some("OLDVEND"),
            Overhead,
            "Net 30",
            ST,
            "OCL",
            "3 Legacy Rd",
            "Renton",
            "98057",
            "Leasing",
            "oldcopier.com",
            1,
            &[("Copier lease - monthly", "LEASE-COP", "499", 38500, 38500, 1, 1)],
        ),
        p(
            "Newbridge Staffing LLC",
            Some("NEWVEND"),
            Overhead,
            "Net 15",
            EX,
            "NBS-",
            "71 Startup Blvd",
            "Seattle",
            "98121",
            "Billing",
            "newbridgestaffing.com",
            2,
            &[("Temporary CAD technician - hourly", "STF-CAD", "456", 6800, 8500, 20, 80)],
        ),
        p(
            "Pacific Survey Supply Co.",
            None,
            Goods,
            "Net 30",
            ST,
            "PSS",
            "2710 Marine View Dr",
            "Tacoma",
            "98422",
            "Counter Sales",
            "pacsurveysupply.com",
            5,
            &[
                ("Survey stakes, bundle of 50", "SUP-STAKE", "472", 3800, 5200, 2, 20),
                ("Marking paint, case", "SUP-PAINT", "472", 7200, 9600, 1, 8),
                ("Prism pole", "SUP-POLE", "472", 29500, 42000, 1, 3),
                ("Flagging tape, box", "SUP-FLAG", "472", 2400, 3600, 2, 12),
            ],
        ),
        p(
            "Evergreen Safety Products",
            None,
            Goods,
            "Net 30",
            ST,
            "ESP",
            "1900 Industry St",
            "Everett",
            "98203",
            "Sales",
            "evergreensafety.com",
            3,
            &[
                ("Hard hats", "PPE-HAT", "472", 1900, 3200, 6, 30),
                ("Safety glasses, box", "PPE-GLAS", "472", 2800, 4200, 1, 6),
                ("First-aid kit, field", "PPE-AID", "472", 6500, 9800, 1, 6),
            ],
        ),
        p(
            "Sound Courier & Delivery",
            None,
            Overhead,
            "Net 15",
            EX,
            "SCD",
            "45 Dock St",
            "Port Harbor",
            "98002",
            "Dispatch",
            "soundcourier.com",
            2,
            &[("Courier - plan set delivery", "DEL-RUN", "474", 3500, 8500, 2, 14)],
        ),
        p(
            "Cascadia Drilling Services",
            None,
            Sub,
            "Net 30",
            EX,
            "CDS-",
            "88 Rig Rd",
            "Puyallup",
            "98371",
            "Accounting",
            "cascadiadrilling.com",
            3,
            &[
                ("Geotechnical borings - per foot", "SVC-BORE", "462", 4200, 6800, 60, 400),
                ("Drill rig mobilization", "SVC-MOB", "462", 85000, 145000, 1, 1),
            ],
        ),
        p(
            "Rainier Traffic Control",
            None,
            Sub,
            "Net 30",
            EX,
            "RTC",
            "1400 Flagger Way",
            "Auburn",
            "98001",
            "Billing",
            "rainiertc.com",
            2,
            &[("Traffic control flagger - hourly", "SVC-FLAG", "464", 6800, 8900, 8, 48)],
        ),
        p(
            "Olympic Concrete Coring",
            None,
            Sub,
            "Net 30",
            EX,
            "OCC",
            "600 Core Ave",
            "Bremerton",
            "98312",
            "Office",
            "olympiccoring.com",
            2,
            &[("Concrete coring - per core", "SVC-CORE", "471", 14500, 19500, 2, 12)],
        ),
        p(
            "Puget Sound Drone Supply",
            None,
            Goods,
            "Net 30",
            ST,
            "PSD",
            "75 Rotor Ln",
            "Lynnwood",
            "98036",
            "Sales",
            "psdronesupply.com",
            2,
            &[
                ("Drone battery pack", "UAV-BATT", "490", 18900, 24900, 2, 8),
                ("RTK base station", "UAV-RTK", "490", 329000, 429000, 1, 1),
            ],
        ),
        p(
            "Ridgeline Data Backup",
            None,
            Overhead,
            "Net 30",
            EX,
            "RDB-",
            "1 Vault Way",
            "Spokane",
            "99202",
            "Billing",
            "ridgelinedata.com",
            2,
            &[("Cloud backup - monthly", "SW-BACKUP", "485", 64000, 72000, 1, 1)],
        ),
        p(
            "Northern Light Printing",
            None,
            Repro,
            "Net 15",
            ST,
            "NLP",
            "12 Aurora Ave",
            "Seattle",
            "98103",
            "Orders",
            "northernlightprint.com",
            1,
            &[("Report binding", "PRN-BIND", "470", 1500, 3500, 4, 20)],
        ),
        p(
            "Columbia Ergonomic Furniture",
            None,
            Goods,
            "Net 45",
            ST,
            "CEF",
            "3100 Columbia St",
            "Vancouver",
            "98660",
            "Commercial Sales",
            "columbiaergo.com",
            2,
            &[
                ("Sit-stand desk", "FUR-DESK", "453", 69500, 98500, 1, 6),
                ("Task chair", "FUR-CHAIR", "453", 42500, 64500, 1, 8),
            ],
        ),
        p(
            "Westlake Catering Co.",
            None,
            Overhead,
            "Due on Receipt",
            ST,
            "WCC",
            "900 Westlake Ave",
            "Seattle",
            "98109",
            "Events",
            "westlakecatering.com",
            2,
            &[("Lunch-and-learn catering", "CAT-LNL", "455", 1800, 2600, 15, 60)],
        ),
        p(
            "Maple Survey Instruments Ltd.",
            None,
            Goods,
            "Net 30",
            EX,
            "MSI-",
            "455 Granville St",
            "Vancouver",
            "V6C 1T2",
            "Export Desk",
            "maplesurvey.ca",
            2,
            &[
                ("GNSS receiver", "INS-GNSS", "490", 1450000, 1890000, 1, 2),
                ("Data collector", "INS-DC", "490", 320000, 450000, 1, 2),
            ],
        ),
    ];
    for x in v.iter_mut() {
        match x.name {
            "Cascade Land Surveying LLC" => x.tax_number = Some("91-3344556"),
            "Granite Geotechnical, Inc." => x.tax_number = Some("91-2211334"),
            "Steelhead Structural Engineers" => x.tax_number = Some("91-7788112"),
            "Coastal Environmental Consultants" => x.tax_number = Some("91-5566021"),
            "Old Copier Leasing Co." | "Northern Light Printing" => x.deprecated = true,
            "Alpine Professional Insurance Co." => x.state = "CT",
            "CADWorks Software, Inc." | "MapData GIS Licensing" => x.state = "CA",
            "FleetFuel Card Services" => x.state = "TX",
            "Maple Survey Instruments Ltd." => {
                x.currency = "CAD";
                x.state = "BC";
                x.country = "Canada";
            }
            _ => {}
        }
        x.overhead = match x.kind {
            Kind::Overhead if ["485", "490"].contains(&x.items[0].2) => "OH-0001.00|IT",
            Kind::Overhead if ["469", "445", "489", "499"].contains(&x.items[0].2) => "OH-0001.00|FAC",
            _ => "OH-0001.00|ADM",
        };
    }
    v
}

/// A supplier of the generated firm and the Deltek demo vendor it corresponds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupplierHint {
    /// Cin7 supplier id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Deltek demo vendor number, when the Deltek demo has the firm.
    pub deltek_vendor: Option<&'static str>,
    /// Deprecated in Cin7.
    pub deprecated: bool,
}

/// Every generated supplier with its Deltek vendor (depends only on the seed).
pub fn supplier_hints(seed: u64) -> Vec<SupplierHint> {
    let mut rng = Rng::new(seed ^ SUPPLIER_STREAM);
    profiles()
        .iter()
        .map(|p| SupplierHint {
            id: rng.guid(),
            name: p.name.to_string(),
            deltek_vendor: p.deltek,
            deprecated: p.deprecated,
        })
        .collect()
}

const SUPPLIER_STREAM: u64 = 0x5EED_5077_11E2_0001;
const PURCHASE_STREAM: u64 = 0x5EED_9C4A_5E00_0002;

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = u64::try_from(hi - lo).unwrap_or(0) + 1;
        lo + i64::try_from(self.next() % span).unwrap_or(0)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn guid(&mut self) -> String {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.next().to_be_bytes());
        b[8..].copy_from_slice(&self.next().to_be_bytes());
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }

    fn weighted<T>(&mut self, items: &[(T, u64)]) -> usize {
        let total: u64 = items.iter().map(|(_, w)| *w).sum::<u64>().max(1);
        let mut r = self.next() % total;
        for (i, (_, w)) in items.iter().enumerate() {
            if r < *w {
                return i;
            }
            r -= w;
        }
        0
    }

    fn cents(&mut self, lo: i64, hi: i64) -> Decimal {
        Decimal::new(self.range(lo, hi), 2)
    }
}

/// The state a generated purchase ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cat {
    Draft,
    Ordering,
    Ordered,
    Receiving,
    Received,
    InvoiceDraft,
    Invoiced,
    Paid,
    Voided,
    VoidedAfterInvoice,
    Credited,
    CreditDraft,
    /// Advanced, two invoices: one paid, one authorised.
    TwoInvoices,
    /// Advanced, three invoices: two authorised, one draft.
    ThreeInvoices,
}

/// Categories that must appear, each at least once, before random ones (when `purchases` allows).
const MUST: &[(Cat, Option<Kind>, Option<PurchaseKind>)] = &[
    (Cat::Draft, None, None),
    (Cat::Ordering, Some(Kind::Goods), Some(PurchaseKind::Simple)),
    (Cat::Ordered, Some(Kind::Sub), Some(PurchaseKind::Advanced)),
    (Cat::Receiving, Some(Kind::Goods), Some(PurchaseKind::Advanced)),
    (Cat::Received, Some(Kind::Goods), Some(PurchaseKind::Simple)),
    (Cat::InvoiceDraft, Some(Kind::Repro), Some(PurchaseKind::Simple)),
    (Cat::Invoiced, Some(Kind::Sub), Some(PurchaseKind::Service)),
    (Cat::Invoiced, Some(Kind::Goods), Some(PurchaseKind::Simple)),
    (Cat::Paid, Some(Kind::Overhead), Some(PurchaseKind::Service)),
    (Cat::Paid, Some(Kind::Goods), Some(PurchaseKind::Advanced)),
    (Cat::Voided, None, None),
    (Cat::VoidedAfterInvoice, Some(Kind::Repro), Some(PurchaseKind::Simple)),
    (Cat::Credited, Some(Kind::Goods), Some(PurchaseKind::Simple)),
    (Cat::CreditDraft, Some(Kind::Lab), Some(PurchaseKind::Simple)),
    (Cat::TwoInvoices, Some(Kind::Sub), Some(PurchaseKind::Advanced)),
    (Cat::ThreeInvoices, Some(Kind::Sub), Some(PurchaseKind::Advanced)),
];

const WEIGHTS: &[(Cat, u64)] = &[
    (Cat::Draft, 3),
    (Cat::Ordering, 5),
    (Cat::Ordered, 9),
    (Cat::Receiving, 3),
    (Cat::Received, 3),
    (Cat::InvoiceDraft, 10),
    (Cat::Invoiced, 26),
    (Cat::Paid, 22),
    (Cat::Voided, 3),
    (Cat::VoidedAfterInvoice, 2),
    (Cat::Credited, 5),
    (Cat::CreditDraft, 1),
    (Cat::TwoInvoices, 5),
    (Cat::ThreeInvoices, 3),
];

/// How many days before the anchor an order of this category was placed.
fn age(rng: &mut Rng, c: Cat) -> i64 {
    match c {
        Cat::Draft | Cat::Ordering => rng.range(0, 14),
        Cat::Ordered => rng.range(3, 40),
        Cat::Receiving | Cat::Received => rng.range(2, 30),
        Cat::InvoiceDraft => rng.range(4, 30),
        Cat::Invoiced => rng.range(8, 70),
        Cat::Paid => rng.range(50, 270),
        Cat::Voided | Cat::VoidedAfterInvoice => rng.range(10, 200),
        Cat::Credited | Cat::CreditDraft => rng.range(25, 200),
        Cat::TwoInvoices | Cat::ThreeInvoices => rng.range(60, 250),
    }
}

/// The generated firm with the default anchor. See the module docs.
pub fn engineering_firm(seed: u64, purchases: usize) -> Cin7Scenario {
    engineering_firm_at(seed, purchases, anchor())
}

/// The generated firm, history ending at `anchor`.
pub fn engineering_firm_at(seed: u64, purchases: usize, anchor: DateTime<Utc>) -> Cin7Scenario {
    let mut s = Cin7Scenario::new();
    for (code, name, kind, class, _) in CHART {
        let mut a = Account::new(code, name, kind, class);
        match *code {
            "800" => {
                a.system_account = "Accounts payable".into();
                a.system_account_code = "CREDITORS".into();
            }
            "610" => {
                a.system_account = "Accounts receivable".into();
                a.system_account_code = "DEBTORS".into();
            }
            "630" => {
                a.system_account = "Inventory".into();
                a.system_account_code = "INVENTORY".into();
            }
            "090" | "091" => {
                a.for_payments = true;
                a.currency = "USD".into();
                a.bank_account_number = if *code == "090" { "1420-558812".into() } else { "1420-558830".into() };
            }
            "499" => a.status = "ARCHIVED".into(),
            _ => {}
        }
        s.accounts.push(a);
    }
    for (name, days, active) in [
        ("Net 30", 30, true),
        ("Net 15", 15, true),
        ("Net 45", 45, true),
        ("Due on Receipt", 0, true),
        ("Net 60", 60, false),
    ] {
        s.payment_terms.push(PaymentTerm { name: name.into(), days, active });
    }
    s.tax_rules.push(TaxRule { name: EX.into(), percent: Decimal::ZERO, active: true });
    s.tax_rules.push(TaxRule { name: ST.into(), percent: Decimal::new(101, 1), active: true });
    s.tax_rules.push(TaxRule { name: "Sales Tax 8.6% (old)".into(), percent: Decimal::new(86, 1), active: false });
    s.locations = LOCATIONS.iter().map(|l| l.to_string()).collect();

    let profiles = profiles();
    let start = anchor - Duration::days(400);
    let hints = supplier_hints(seed);
    let mut srng = Rng::new(seed ^ SUPPLIER_STREAM ^ 0xD7);
    for (i, pr) in profiles.iter().enumerate() {
        let id = hints[i].id.clone();
        let first = pr.contact.split(' ').next().unwrap_or("billing").to_ascii_lowercase();
        let modified_day = start.date_naive() + Duration::days(i as i64 * 7 + srng.range(0, 6));
        let mut sup = Supplier {
            id,
            name: pr.name.into(),
            currency: pr.currency.into(),
            payment_term: pr.term.into(),
            account_payable: "800".into(),
            tax_rule: pr.tax.into(),
            status: if pr.deprecated { "Deprecated".into() } else { "Active".into() },
            discount: Decimal::ZERO,
            comments: String::new(),
            tax_number: pr.tax_number.map(String::from),
            attribute_set: String::new(),
            additional_attributes: Default::default(),
            last_modified: stamp(&mut srng, modified_day, anchor),
            addresses: vec![SupplierAddress {
                id: srng.guid(),
                line1: pr.street.into(),
                line2: String::new(),
                city: pr.city.into(),
                state: pr.state.into(),
                postcode: pr.postcode.into(),
                country: pr.country.into(),
                kind: "Business".into(),
                default_for_type: true,
            }],
            contacts: vec![SupplierContact {
                id: srng.guid(),
                name: pr.contact.into(),
                phone: format!("({}) 555-{:04}", 200 + srng.range(0, 700), srng.range(0, 9999)),
                email: format!("{}@{}", first.replace(|c: char| !c.is_ascii_alphanumeric(), ""), pr.domain),
                website: format!("https://www.{}", pr.domain),
                default: true,
                include_in_email: true,
                ..Default::default()
            }],
        };
        if srng.chance(40) {
            sup.addresses.push(SupplierAddress {
                id: srng.guid(),
                line1: format!("PO Box {}", srng.range(1000, 9999)),
                city: pr.city.into(),
                state: pr.state.into(),
                postcode: pr.postcode.into(),
                country: pr.country.into(),
                kind: "Billing".into(),
                default_for_type: true,
                ..Default::default()
            });
        }
        s.suppliers.push(sup);
    }

    let mut rng = Rng::new(seed ^ PURCHASE_STREAM);
    let active: Vec<usize> = (0..profiles.len()).filter(|&i| !profiles[i].deprecated).collect();
    let weights: Vec<(usize, u64)> = active.iter().map(|&i| (i, profiles[i].weight)).collect();
    let mut built: Vec<(Purchase, usize)> = Vec::new();
    for n in 0..purchases {
        let (cat, want_kind, want_type) = match MUST.get(n) {
            Some((c, k, t)) => (*c, *k, *t),
            None => (WEIGHTS[rng.weighted(WEIGHTS)].0, None, None),
        };
        let si = match want_kind {
            Some(k) => {
                let fits: Vec<(usize, u64)> = weights.iter().copied().filter(|(i, _)| profiles[*i].kind == k).collect();
                fits[rng.weighted(&fits)].0
            }
            None => weights[rng.weighted(&weights)].0,
        };
        let pr = &profiles[si];
        let p = generate(&mut rng, pr, &s.suppliers[si], cat, want_type, anchor);
        built.push((p, si));
    }
    // A deprecated supplier still has history: one old paid bill from each.
    for (si, pr) in profiles.iter().enumerate().filter(|(_, p)| p.deprecated) {
        if purchases > MUST.len() {
            let p = generate(&mut rng, pr, &s.suppliers[si], Cat::Paid, Some(PurchaseKind::Simple), anchor);
            built.push((p, si));
        }
    }

    // Order numbers follow order dates; supplier invoice numbers follow invoice dates.
    built.sort_by(|a, b| a.0.order_date.cmp(&b.0.order_date).then_with(|| a.0.id.cmp(&b.0.id)));
    let mut counters: Vec<i64> = profiles.iter().map(|_| 0).collect();
    let mut starts: Vec<i64> = profiles.iter().map(|_| rng.range(1000, 48000)).collect();
    for (n, (p, si)) in built.iter_mut().enumerate() {
        p.order_number = format!("PO-{:05}", n + 1);
        let pr = &profiles[*si];
        for inv in p.invoices.iter_mut() {
            counters[*si] += 1;
            let no = starts[*si] + counters[*si];
            inv.invoice_number = if pr.kind == Kind::Overhead && pr.prefix == "RENT-" {
                format!("RENT-{}", inv.invoice_date.map(|d| d.format("%Y%m").to_string()).unwrap_or_default())
            } else {
                format!("{}{no}", pr.prefix)
            };
            inv.number = format!("{}/{}", p.order_number, inv.number.rsplit('/').next().unwrap_or("1"));
        }
        let invoice_no = p.invoices.last().map(|i| i.invoice_number.clone()).unwrap_or_default();
        for (k, c) in p.credit_notes.iter_mut().enumerate() {
            starts[*si] += 1;
            c.credit_note_number = format!("CN-{}{}", pr.prefix.trim_end_matches('-'), starts[*si] + k as i64);
            c.number = c.credit_note_number.clone();
            c.invoice_number = invoice_no.clone();
        }
    }
    // Stamps are unique (Cin7 writes 100 ns ticks): nudge any tie.
    let mut by_stamp: Vec<usize> = (0..built.len()).collect();
    by_stamp.sort_by(|&a, &b| built[a].0.last_updated.cmp(&built[b].0.last_updated).then(a.cmp(&b)));
    for w in 1..by_stamp.len() {
        let (prev, cur) = (by_stamp[w - 1], by_stamp[w]);
        if built[cur].0.last_updated <= built[prev].0.last_updated {
            built[cur].0.last_updated = built[prev].0.last_updated + Duration::nanoseconds(100);
        }
    }
    s.purchases = built.into_iter().map(|(p, _)| p).collect();
    s
}

/// A working-hours stamp on `day` with 100 ns precision, never after `anchor`.
fn stamp(rng: &mut Rng, day: NaiveDate, anchor: DateTime<Utc>) -> DateTime<Utc> {
    let day = day.min(anchor.date_naive());
    let secs = rng.range(8 * 3600, 16 * 3600 + 3599);
    let ticks = rng.range(0, 9_999_999);
    let t = NaiveTime::from_num_seconds_from_midnight_opt(
        u32::try_from(secs).unwrap_or(0),
        u32::try_from(ticks * 100).unwrap_or(0),
    )
    .unwrap_or(NaiveTime::MIN);
    day.and_time(t).and_utc().min(anchor - Duration::minutes(1))
}

fn later(d: NaiveDate, days: i64, anchor: DateTime<Utc>) -> NaiveDate {
    (d + Duration::days(days)).min(anchor.date_naive())
}

fn total_of(lines: &[Line], charges: &[Charge], rate: Decimal) -> Decimal {
    lines
        .iter()
        .map(|l| (l.quantity, l.price, l.discount))
        .chain(charges.iter().map(|c| (c.quantity, c.price, c.discount)))
        .map(|(q, p, d)| {
            let (t, tax) = price_line(q, p, d, rate, TaxCalculation::Exclusive);
            t + tax
        })
        .sum()
}

fn term_days(term: &str) -> i64 {
    match term {
        "Net 15" => 15,
        "Net 45" => 45,
        "Due on Receipt" => 0,
        _ => 30,
    }
}

fn generate(
    rng: &mut Rng,
    pr: &Profile,
    sup: &Supplier,
    cat: Cat,
    want: Option<PurchaseKind>,
    anchor: DateTime<Utc>,
) -> Purchase {
    let today = anchor.date_naive();
    let multi = matches!(cat, Cat::TwoInvoices | Cat::ThreeInvoices);
    let kind = want.unwrap_or_else(|| {
        if multi {
            PurchaseKind::Advanced
        } else {
            match pr.kind {
                Kind::Sub if rng.chance(50) => PurchaseKind::Service,
                Kind::Sub => PurchaseKind::Advanced,
                Kind::Lab | Kind::Travel | Kind::Overhead if rng.chance(45) => PurchaseKind::Service,
                Kind::Goods if rng.chance(35) => PurchaseKind::Advanced,
                _ => PurchaseKind::Simple,
            }
        }
    });
    let kind = if multi { PurchaseKind::Advanced } else { kind };
    // Stock-first only where there is stock to receive.
    let goods = pr.kind == Kind::Goods && kind != PurchaseKind::Service;
    let cat = match cat {
        Cat::Receiving | Cat::Received if !goods => Cat::Ordered,
        c => c,
    };
    let approach = if goods && (matches!(cat, Cat::Receiving | Cat::Received) || rng.chance(60)) {
        Approach::Stock
    } else {
        Approach::Invoice
    };
    let location = if rng.chance(65) { LOCATIONS[0] } else { LOCATIONS[1] };
    let project = match pr.kind {
        Kind::Overhead => pr.overhead.to_string(),
        Kind::Goods if pr.items[0].2 == "453" || pr.items[0].2 == "490" => pr.overhead.replace("ADM", "IT"),
        _ => PROJECTS[rng.range(0, PROJECTS.len() as i64 - 1) as usize].to_string(),
    };
    let order_date = today - Duration::days(age(rng, cat));
    let id = rng.guid();
    let mut b = PurchaseBuilder::new(kind, sup, location)
        .id(&id)
        .approach(approach)
        .order_date(order_date)
        .attribute(1, &project);
    if pr.currency == "CAD" {
        b = b.currency("CAD", Decimal::new(73, 2));
    }

    // Lines: distinct items, quantities divisible among invoices for multi-invoice purchases.
    let parts = match cat {
        Cat::TwoInvoices => 2,
        Cat::ThreeInvoices => 3,
        _ => 1,
    };
    // A purchase's lines stay in the cost class its project takes (Vantagepoint refuses direct
    // costs on overhead projects and overhead costs on client projects), as real books do.
    let overhead_project = project.starts_with("OH-");
    let mut items: Vec<_> = pr.items.iter().copied().filter(|it| is_direct_code(it.2) != overhead_project).collect();
    let mut project = project;
    if items.is_empty() {
        items = pr.items.to_vec();
        project = if is_direct_code(items[0].2) { PROJECTS[0].to_string() } else { pr.overhead.to_string() };
        b = b.attribute(1, &project);
    }
    let n_lines = rng.range(1, items.len().min(4) as i64) as usize;
    let first = rng.range(0, items.len() as i64 - 1) as usize;
    let mut lines = Vec::new();
    for k in 0..n_lines {
        let (name, sku, account, lo, hi, qlo, qhi) = items[(first + k) % items.len()];
        let mut qty = rng.range(qlo, qhi).max(1);
        if parts > 1 {
            qty = qty.max(parts);
        }
        let mut l = line(name, account, Decimal::from(qty), rng.cents(lo, hi));
        l.sku = sku.into();
        l.supplier_sku = format!("{}{}", pr.prefix.trim_end_matches('-'), &sku[sku.find('-').map_or(0, |i| i + 1)..]);
        if rng.chance(12) {
            l.discount = Decimal::from(if rng.chance(50) { 5 } else { 10 });
        }
        lines.push(l);
    }
    for l in &lines {
        b = b.line(l.clone());
    }
    let mut charges = Vec::new();
    // Freight is a direct cost: charged on client-project purchases only.
    if goods && rng.chance(35) && !project.starts_with("OH-") {
        let c = Charge {
            description: "Freight".into(),
            reference: format!("Waybill {}", rng.range(100_000, 999_999)),
            quantity: Decimal::ONE,
            price: rng.cents(2500, 18000),
            account: "474".into(),
            tax_rule: pr.tax.into(),
            ..Default::default()
        };
        charges.push(c.clone());
        b = b.charge(c);
    }
    let rate = if pr.tax == ST { Decimal::new(101, 1) } else { Decimal::ZERO };
    let rate = if pr.currency == "CAD" { Decimal::ZERO } else { rate };
    let terms = term_days(pr.term);

    let mut last_day = order_date;
    let order_status = match cat {
        Cat::Draft => DocStatus::NotAvailable,
        Cat::Ordering => DocStatus::Draft,
        _ => DocStatus::Authorised,
    };
    b = b.order(order_status);
    if cat == Cat::Draft {
        // A header only: nothing ordered yet.
        let mut p = b.build();
        p.order.lines.clear();
        p.order.charges.clear();
        p.last_updated = stamp(rng, last_day, anchor);
        return p;
    }
    let received = |rng: &mut Rng, b: PurchaseBuilder, status: DocStatus, last: &mut NaiveDate| {
        let d = later(*last, rng.range(1, 6), anchor);
        *last = d;
        b.receive(status, Some(d))
    };
    let stock_first = approach == Approach::Stock && !matches!(cat, Cat::Ordering | Cat::Ordered | Cat::Voided);
    if stock_first {
        let status = if cat == Cat::Receiving { DocStatus::Draft } else { DocStatus::Authorised };
        b = received(rng, b, status, &mut last_day);
    }
    let invoice_date = |rng: &mut Rng, last: &mut NaiveDate| {
        let d = later(*last, rng.range(2, 14), anchor);
        *last = d;
        d
    };
    match cat {
        Cat::Draft | Cat::Ordering | Cat::Ordered | Cat::Receiving | Cat::Received => {}
        Cat::Voided => {
            b = b.voided();
            last_day = later(last_day, rng.range(1, 10), anchor);
        }
        Cat::InvoiceDraft | Cat::Invoiced | Cat::Paid | Cat::VoidedAfterInvoice | Cat::Credited | Cat::CreditDraft => {
            let d = invoice_date(rng, &mut last_day);
            let status = if cat == Cat::InvoiceDraft { DocStatus::Draft } else { DocStatus::Authorised };
            b = b.invoice("", status, Some(d), Some(d + Duration::days(terms)));
            let total = total_of(&lines, &charges, rate);
            if cat == Cat::Paid {
                let paid = later(d, rng.range(3, terms.max(5)), anchor).max(d);
                last_day = paid;
                b = b.pay_last(total, "090", Some(paid));
            }
            if matches!(cat, Cat::Credited | Cat::CreditDraft) {
                let l0 = &lines[0];
                let mut cl = l0.clone();
                cl.name = format!("Credit: {}", l0.name);
                cl.quantity = Decimal::ONE;
                cl.discount = Decimal::ZERO;
                let cd = later(last_day, rng.range(3, 20), anchor);
                last_day = cd;
                let status = if cat == Cat::CreditDraft { DocStatus::Draft } else { DocStatus::Authorised };
                b = b.credit_note("", status, Some(cd), vec![cl]);
            }
            if cat == Cat::VoidedAfterInvoice {
                b = b.voided();
                last_day = later(last_day, rng.range(1, 10), anchor);
            }
            // Bills of the invoice-first approach: stock arrives after the invoice, sometimes.
            if goods && approach == Approach::Invoice && matches!(cat, Cat::Paid | Cat::Invoiced) && rng.chance(60) {
                b = received(rng, b, DocStatus::Authorised, &mut last_day);
            }
        }
        Cat::TwoInvoices | Cat::ThreeInvoices => {
            for k in 0..parts {
                let share: Vec<Line> = lines
                    .iter()
                    .map(|l| {
                        let q = l.quantity / Decimal::from(parts);
                        let q = q.floor().max(Decimal::ONE);
                        let q = if k == parts - 1 { l.quantity - q * Decimal::from(parts - 1) } else { q };
                        Line { quantity: q, ..l.clone() }
                    })
                    .collect();
                let ch = if k == 0 { charges.clone() } else { Vec::new() };
                let d = invoice_date(rng, &mut last_day);
                let status = match (cat, k) {
                    (Cat::ThreeInvoices, 2) => DocStatus::Draft,
                    _ => DocStatus::Authorised,
                };
                let total = total_of(&share, &ch, rate);
                b = b.invoice_lines("", status, Some(d), Some(d + Duration::days(terms)), share, ch);
                if cat == Cat::TwoInvoices && k == 0 {
                    let paid = later(d, rng.range(5, terms.max(6)), anchor).max(d);
                    b = b.pay_last(total, "090", Some(paid));
                }
                last_day = later(last_day, rng.range(14, 35), anchor);
            }
        }
    }
    let mut p = b.build();
    p.last_updated = stamp(rng, last_day, anchor);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_records_and_suppliers_do_not_depend_on_the_count() {
        let a = engineering_firm(7, 60);
        let b = engineering_firm(7, 60);
        let ids = |s: &Cin7Scenario| {
            s.purchases.iter().map(|p| (p.id.clone(), p.order_number.clone(), p.last_updated)).collect::<Vec<_>>()
        };
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(a.supplier_ids(), engineering_firm(7, 5).supplier_ids());
        assert_ne!(a.supplier_ids(), engineering_firm(8, 60).supplier_ids());
        assert_eq!(a.suppliers.len(), 40);
        assert_eq!(
            supplier_hints(7).iter().map(|h| h.id.clone()).collect::<Vec<_>>(),
            a.supplier_ids().into_iter().map(|x| x.0).collect::<Vec<_>>()
        );
    }
}
