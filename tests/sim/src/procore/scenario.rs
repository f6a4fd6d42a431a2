//! Seeding the Procore simulator: a [`ProcoreScenario`] (JSON or Rust) and the deterministic
//! demo company [`general_contractor`].
//!
//! JSON scenario: any of the keys below, each a list of records in the simulator's own shape
//! ([`super::model`]; every field optional, unknown fields refused). Lists are upserted by `id`
//! (apps by `client_id`). Line-item and G703-row ids left at 0 are assigned; a line whose
//! `amount` is 0 is priced as `quantity × unit_cost`; missing stamps become "now".
//!
//! ```json
//! {
//!   "switches": {"spike_limit": 5, "spike_window_ms": 1000},
//!   "apps": [{"client_id": "…", "client_secret": "…", "application_id": 9, "user_id": 7,
//!             "installs": [{"company_id": 4264807, "projects": null, "tools": ["directory", "commitments"]}]}],
//!   "companies": [{"id": 4264807, "name": "Summit Ridge Builders", "is_active": true}],
//!   "projects": [{"id": 2783400100, "company_id": 4264807, "name": "…", "project_number": "25-101", "active": true}],
//!   "vendors": [{"id": 1, "company_id": 4264807, "name": "…", "is_active": true,
//!                "business_register": {"type": "EIN", "identifier": "84-1234501"}}],
//!   "cost_codes": [{"id": 10, "project_id": 2783400100, "code": "03", "name": "Concrete"},
//!                  {"id": 11, "project_id": 2783400100, "code": "300", "name": "Cast-in-Place", "parent_id": 10}],
//!   "line_item_types": [{"id": 1, "company_id": 4264807, "code": "S", "name": "Subcontract", "base_type": "commitment"}],
//!   "commitments": [{"id": 5, "project_id": 2783400100, "kind": "WorkOrderContract", "number": "SC-001",
//!                    "status": "Approved", "vendor_id": 1, "retainage_percent": "10",
//!                    "line_items": [{"cost_code_id": 11, "line_item_type_id": 1, "amount": "250000"}]}],
//!   "change_orders": [{"id": 6, "project_id": 2783400100, "contract_id": 5, "number": "1", "status": "approved",
//!                      "line_items": [{"cost_code_id": 11, "amount": "12500"}]}],
//!   "requisitions": [{"id": 7, "project_id": 2783400100, "commitment_id": 5, "number": 1, "status": "approved",
//!                     "items": [{"item_type": "contract_item", "cost_code_id": 11, "scheduled_value": "250000",
//!                                "work_completed_this_period": "50000",
//!                                "work_completed_retainage_retained_this_period": "5000"}]}],
//!   "direct_costs": [{"id": 8, "project_id": 2783400100, "direct_cost_type": "invoice", "status": "approved",
//!                     "vendor_id": 1, "invoice_number": "INV-1", "line_items": [{"quantity": "2", "unit_cost": "40"}]}],
//!   "hooks": [{"id": 9, "company_id": 4264807, "namespace": "mlc", "destination_url": "http://127.0.0.1:9/h",
//!              "authorization": "Bearer x", "owned_by_client_id": "…", "status": "active",
//!              "triggers": [{"id": 1, "resource_name": "Direct Costs", "event_type": "update"}]}]
//! }
//! ```
//!
//! Seeded records are "keyed by hand": statuses are checked against Procore's lists and
//! references against the scenario and the state, but nothing else.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::model::{
    App, BusinessRegister, CO_STATUSES, ChangeOrder, Commitment, CommitmentKind, Company, CostCode,
    DIRECT_COST_STATUSES, DIRECT_COST_TYPES, DirectCost, Hook, Id, Install, LineItem, LineItemType, Project,
    REQUISITION_STATUSES, Requisition, RequisitionItem, Vendor,
};
use super::state::ProcoreState;

/// The demo credentials and company.
pub mod demo {
    /// OAuth client id of ml-connector's app.
    pub const CLIENT_ID: &str = "mlc-demo-6f1c2a9e4b7d4e0f8a3c5b1d9e7f2a4c";
    /// Its client secret.
    pub const CLIENT_SECRET: &str = "mlc-demo-secret-3Zq8wPv2Lk7Tn4Hx9Rb6";
    /// The demo company (the app is installed there).
    pub const COMPANY_ID: i64 = 4_264_807;
    pub const COMPANY_NAME: &str = "Summit Ridge Builders, Inc.";
    /// A second company where the app is *not* installed.
    pub const OTHER_COMPANY_ID: i64 = 4_264_811;
    /// `metadata.source_application_id` of the demo app.
    pub const APPLICATION_ID: i64 = 18_224;
    /// The service account's directory user.
    pub const USER_ID: i64 = 9_310_455;
    /// The `Authorization` value the demo registers its hook with (the connector checks it).
    pub const WEBHOOK_AUTHORIZATION: &str = "Bearer mlc-procore-demo-hook-Vq7Ls2Kx9Pd4Wm8Nt3Rz";
    /// An app from another integration, installed in the same company (its own budget).
    pub const OTHER_CLIENT_ID: &str = "other-integration-0b8e";
    pub const OTHER_CLIENT_SECRET: &str = "other-secret-2k4j";
}

/// What to put in the simulated Procore.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcoreScenario {
    /// A partial switch object.
    pub switches: Option<Value>,
    pub apps: Vec<App>,
    pub companies: Vec<Company>,
    pub projects: Vec<Project>,
    pub vendors: Vec<Vendor>,
    pub cost_codes: Vec<CostCode>,
    pub line_item_types: Vec<LineItemType>,
    pub commitments: Vec<Commitment>,
    pub change_orders: Vec<ChangeOrder>,
    pub requisitions: Vec<Requisition>,
    pub direct_costs: Vec<DirectCost>,
    pub hooks: Vec<Hook>,
}

/// `t` without its fraction (Procore stamps are whole seconds).
pub fn to_second(t: DateTime<Utc>) -> DateTime<Utc> {
    t.with_nanosecond(0).unwrap_or(t)
}

fn upsert<T: Clone>(list: &mut Vec<T>, item: &T, same: impl Fn(&T) -> bool) {
    match list.iter().position(same) {
        Some(i) => list[i] = item.clone(),
        None => list.push(item.clone()),
    }
}

impl ProcoreScenario {
    /// An empty scenario.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read the JSON form (see the module docs).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        if !v.is_object() {
            return Err("scenario must be a JSON object".into());
        }
        serde_json::from_value(v.clone()).map_err(|e| format!("bad scenario: {e}"))
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Merge into a state (see the module docs).
    pub fn apply(&self, st: &mut ProcoreState, now: DateTime<Utc>) -> Result<(), String> {
        let now = to_second(now);
        if let Some(p) = &self.switches {
            st.switches = st.switches.merged(p)?;
        }
        for a in &self.apps {
            if a.client_id.is_empty() {
                return Err("apps: each needs a client_id".into());
            }
            upsert(&mut st.apps, a, |x| x.client_id == a.client_id);
        }
        for (i, c) in self.companies.iter().enumerate() {
            need_id("companies", i, c.id)?;
            upsert(&mut st.companies, c, |x| x.id == c.id);
        }
        for (i, p) in self.projects.iter().enumerate() {
            need_id("projects", i, p.id)?;
            if st.company(p.company_id).is_none() {
                return Err(format!("projects[{i}] (id {}): company {} is not in the scenario", p.id, p.company_id));
            }
            let mut p = p.clone();
            stamp_new(&mut p.created_at, &mut p.updated_at, now);
            upsert(&mut st.projects, &p, |x| x.id == p.id);
        }
        for (i, v) in self.vendors.iter().enumerate() {
            need_id("vendors", i, v.id)?;
            if st.company(v.company_id).is_none() {
                return Err(format!("vendors[{i}] (id {}): company {} is not in the scenario", v.id, v.company_id));
            }
            let mut v = v.clone();
            stamp_new(&mut v.created_at, &mut v.updated_at, now);
            upsert(&mut st.vendors, &v, |x| x.id == v.id);
        }
        for (i, t) in self.line_item_types.iter().enumerate() {
            need_id("line_item_types", i, t.id)?;
            upsert(&mut st.line_item_types, t, |x| x.id == t.id);
        }
        for (i, c) in self.cost_codes.iter().enumerate() {
            need_id("cost_codes", i, c.id)?;
            project_of(st, "cost_codes", i, c.project_id)?;
            let mut c = c.clone();
            stamp_new(&mut c.created_at, &mut c.updated_at, now);
            upsert(&mut st.cost_codes, &c, |x| x.id == c.id);
        }
        for (i, c) in self.commitments.iter().enumerate() {
            need_id("commitments", i, c.id)?;
            project_of(st, "commitments", i, c.project_id)?;
            if !c.kind.statuses().contains(&c.status.as_str()) {
                return Err(format!(
                    "commitments[{i}] (id {}): status {:?} is not a {} status ({})",
                    c.id,
                    c.status,
                    c.kind.name(),
                    c.kind.statuses().join(", ")
                ));
            }
            let mut c = c.clone();
            stamp_new(&mut c.created_at, &mut c.updated_at, now);
            number_lines(st, &mut c.line_items, now);
            upsert(&mut st.commitments, &c, |x| x.id == c.id);
        }
        for (i, c) in self.change_orders.iter().enumerate() {
            need_id("change_orders", i, c.id)?;
            if st.commitment(c.contract_id).is_none() {
                return Err(format!(
                    "change_orders[{i}] (id {}): contract {} is not in the scenario",
                    c.id, c.contract_id
                ));
            }
            check_status("change_orders", i, c.id, &c.status, &CO_STATUSES)?;
            let mut c = c.clone();
            if c.project_id == 0 {
                c.project_id = st.commitment(c.contract_id).map(|k| k.project_id).unwrap_or_default();
            }
            stamp_new(&mut c.created_at, &mut c.updated_at, now);
            number_lines(st, &mut c.line_items, now);
            upsert(&mut st.change_orders, &c, |x| x.id == c.id);
        }
        for (i, r) in self.requisitions.iter().enumerate() {
            need_id("requisitions", i, r.id)?;
            let Some(k) = st.commitment(r.commitment_id) else {
                return Err(format!(
                    "requisitions[{i}] (id {}): commitment {} is not in the scenario",
                    r.id, r.commitment_id
                ));
            };
            check_status("requisitions", i, r.id, &r.status, &REQUISITION_STATUSES)?;
            let mut r = r.clone();
            if r.project_id == 0 {
                r.project_id = k.project_id;
            }
            stamp_new(&mut r.created_at, &mut r.updated_at, now);
            for it in &mut r.items {
                if it.id == 0 {
                    it.id = st.alloc_id();
                }
                if it.item_type.is_empty() {
                    it.item_type = "contract_item".into();
                }
            }
            upsert(&mut st.requisitions, &r, |x| x.id == r.id);
        }
        for (i, d) in self.direct_costs.iter().enumerate() {
            need_id("direct_costs", i, d.id)?;
            project_of(st, "direct_costs", i, d.project_id)?;
            check_status("direct_costs", i, d.id, &d.status, &DIRECT_COST_STATUSES)?;
            if !DIRECT_COST_TYPES.contains(&d.direct_cost_type.as_str()) {
                return Err(format!(
                    "direct_costs[{i}] (id {}): direct_cost_type {:?} is not one of {}",
                    d.id,
                    d.direct_cost_type,
                    DIRECT_COST_TYPES.join(", ")
                ));
            }
            let mut d = d.clone();
            stamp_new(&mut d.created_at, &mut d.updated_at, now);
            number_lines(st, &mut d.line_items, now);
            upsert(&mut st.direct_costs, &d, |x| x.id == d.id);
        }
        for (i, h) in self.hooks.iter().enumerate() {
            need_id("hooks", i, h.id)?;
            let mut h = h.clone();
            if h.status.is_empty() {
                h.status = "active".into();
            }
            if h.payload_version.is_empty() {
                h.payload_version = "v2.0".into();
            }
            if h.api_version.is_empty() {
                h.api_version = "v2".into();
            }
            upsert(&mut st.hooks, &h, |x| x.id == h.id);
        }
        let ids: Vec<Id> = st
            .projects
            .iter()
            .map(|x| x.id)
            .chain(st.vendors.iter().map(|x| x.id))
            .chain(st.cost_codes.iter().map(|x| x.id))
            .chain(st.commitments.iter().map(|x| x.id))
            .chain(st.change_orders.iter().map(|x| x.id))
            .chain(st.requisitions.iter().map(|x| x.id))
            .chain(st.direct_costs.iter().map(|x| x.id))
            .chain(st.hooks.iter().map(|x| x.id))
            .collect();
        for id in ids {
            st.saw_id(id);
        }
        Ok(())
    }

    pub fn company(mut self, c: Company) -> Self {
        self.companies.push(c);
        self
    }
    pub fn project(mut self, p: Project) -> Self {
        self.projects.push(p);
        self
    }
    pub fn vendor(mut self, v: Vendor) -> Self {
        self.vendors.push(v);
        self
    }
    pub fn cost_code(mut self, c: CostCode) -> Self {
        self.cost_codes.push(c);
        self
    }
    pub fn commitment(mut self, c: Commitment) -> Self {
        self.commitments.push(c);
        self
    }
    pub fn change_order(mut self, c: ChangeOrder) -> Self {
        self.change_orders.push(c);
        self
    }
    pub fn requisition(mut self, r: Requisition) -> Self {
        self.requisitions.push(r);
        self
    }
    pub fn direct_cost(mut self, d: DirectCost) -> Self {
        self.direct_costs.push(d);
        self
    }
}

fn need_id(list: &str, i: usize, id: Id) -> Result<(), String> {
    if id <= 0 { Err(format!("{list}[{i}]: needs a positive \"id\"")) } else { Ok(()) }
}

fn project_of(st: &ProcoreState, list: &str, i: usize, pid: Id) -> Result<(), String> {
    st.project(pid).map(|_| ()).ok_or_else(|| format!("{list}[{i}]: project {pid} is not in the scenario"))
}

fn check_status(list: &str, i: usize, id: Id, s: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&s) {
        Ok(())
    } else {
        Err(format!("{list}[{i}] (id {id}): status {s:?} is not one of {}", allowed.join(", ")))
    }
}

fn stamp_new(created: &mut Option<DateTime<Utc>>, updated: &mut Option<DateTime<Utc>>, now: DateTime<Utc>) {
    let c = *created.get_or_insert(now);
    updated.get_or_insert(c);
}

fn number_lines(st: &mut ProcoreState, lines: &mut [LineItem], now: DateTime<Utc>) {
    for (pos, li) in lines.iter_mut().enumerate() {
        if li.id == 0 {
            li.id = st.alloc_id();
        }
        if li.position == 0 {
            li.position = i64::try_from(pos).unwrap_or(0) + 1;
        }
        stamp_new(&mut li.created_at, &mut li.updated_at, now);
    }
}

// ---------------------------------------------------------------------------------------------
// The demo company.

/// The default seed (`mlc demo`).
pub const DEFAULT_SEED: u64 = 20_250_616;
/// Active job sites by default (a closed one is added).
pub const DEFAULT_PROJECTS: usize = 6;

/// The instant the generated history ends: Friday 2025-06-13 17:00 UTC (the simulators' manual
/// default clock is the Monday after).
pub fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 13, 17, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// `(division, name, [(code, name)])`.
pub type Division = (&'static str, &'static str, &'static [(&'static str, &'static str)]);

/// The two-level CSI cost code template of every project.
pub const COST_CODES: &[Division] = &[
    ("01", "General Requirements", &[("100", "Project Supervision"), ("500", "Temporary Facilities")]),
    ("02", "Existing Conditions", &[("400", "Selective Demolition")]),
    ("03", "Concrete", &[("100", "Concrete Forming & Reinforcing"), ("300", "Cast-in-Place Concrete")]),
    ("05", "Metals", &[("120", "Structural Steel Framing")]),
    ("06", "Wood, Plastics & Composites", &[("100", "Rough Carpentry")]),
    ("07", "Thermal & Moisture Protection", &[("500", "Membrane Roofing")]),
    ("08", "Openings", &[("100", "Doors & Frames"), ("400", "Entrances & Storefronts")]),
    ("09", "Finishes", &[("250", "Gypsum Board"), ("900", "Painting")]),
    ("21", "Fire Suppression", &[("100", "Fire Sprinkler Systems")]),
    ("22", "Plumbing", &[("100", "Plumbing Piping & Fixtures")]),
    ("23", "HVAC", &[("100", "HVAC Systems")]),
    ("26", "Electrical", &[("100", "Electrical Distribution")]),
    ("31", "Earthwork", &[("200", "Excavation & Fill")]),
];

/// The cost code the demo deliberately leaves without a GL mapping.
pub const UNMAPPED_COST_CODE: &str = "02-400";

/// `(code, name, base_type)` of the cost types; `A` has no base type **[C: base_type may be null]**.
pub const COST_TYPES: &[(&str, &str, Option<&str>)] = &[
    ("L", "Labor", Some("other")),
    ("M", "Materials", Some("materials")),
    ("S", "Subcontract", Some("commitment")),
    ("E", "Equipment", Some("equipment")),
    ("P", "Professional Services", Some("professional_services")),
    ("O", "Other", Some("other")),
    ("A", "Allowance", None),
];

/// One vendor of the demo directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorSeed {
    pub name: &'static str,
    pub abbreviation: &'static str,
    /// What they do: selects the cost codes of their commitments.
    pub trade: &'static str,
    /// EIN in `business_register` (the only tax id field Procore has).
    pub ein: Option<&'static str>,
    /// Also (or only) in `business_id`.
    pub business_id_only: bool,
    /// The Deltek demo knows this firm (false: the new subcontractor only in Procore).
    pub in_deltek: bool,
    pub active: bool,
    pub city: &'static str,
}

const fn v(
    name: &'static str,
    abbreviation: &'static str,
    trade: &'static str,
    ein: Option<&'static str>,
    city: &'static str,
) -> VendorSeed {
    VendorSeed { name, abbreviation, trade, ein, business_id_only: false, in_deltek: true, active: true, city }
}

/// The demo directory.
pub const VENDORS: &[VendorSeed] = &[
    v("Apex Concrete Contractors, Inc.", "APEX", "Concrete", Some("84-1234501"), "Denver"),
    v("Ironline Steel Erectors LLC", "IRON", "Structural Steel", Some("84-1234502"), "Commerce City"),
    v("Blue Ridge Mechanical, Inc.", "BRM", "HVAC", Some("84-1234503"), "Aurora"),
    v("Cascade Plumbing & Piping", "CPP", "Plumbing", Some("84-1234504"), "Lakewood"),
    v("Brightline Electric Co.", "BEC", "Electrical", Some("84-1234505"), "Denver"),
    v("Summit Drywall & Acoustics", "SDA", "Drywall", Some("84-1234506"), "Englewood"),
    v("Precision Painting LLC", "PPL", "Painting", Some("84-1234507"), "Arvada"),
    v("Granite Earthworks, Inc.", "GEW", "Earthwork", Some("84-1234508"), "Golden"),
    v("TopLine Roofing Systems", "TLR", "Roofing", Some("84-1234509"), "Littleton"),
    v("Frameworks Carpentry LLC", "FWC", "Carpentry", Some("84-1234510"), "Westminster"),
    v("Portal Door & Hardware", "PDH", "Doors", Some("84-1234511"), "Denver"),
    v("Demolition Dynamics, Inc.", "DDI", "Demolition", Some("84-1234512"), "Brighton"),
    v("Ridge Crest Glazing", "RCG", "Glazing", Some("84-1234513"), "Boulder"),
    v("Northwind Fire Protection", "NFP", "Fire Protection", Some("84-1234514"), "Thornton"),
    v("Western Ready Mix Supply", "WRM", "Ready Mix", Some("84-1234515"), "Denver"),
    v("Mountain Lumber Yard", "MLY", "Lumber", Some("84-1234516"), "Castle Rock"),
    v("Allied Rebar Supply", "ARS", "Rebar", Some("84-1234517"), "Pueblo"),
    v("Sunbelt Equipment Rentals", "SER", "Equipment", Some("84-1234518"), "Denver"),
    v("Metro Safety Supply", "MSS", "Safety", None, "Denver"),
    VendorSeed {
        business_id_only: true,
        ..v("Keystone Surveying Services", "KSS", "Surveying", Some("84-1234520"), "Parker")
    },
    VendorSeed { active: false, ..v("Old Mill Masonry", "OMM", "Masonry", Some("84-1234521"), "Loveland") },
    VendorSeed {
        in_deltek: false,
        ..v("Evergreen Electrical Contractors, LLC", "EEC", "Electrical", Some("84-1234522"), "Fort Collins")
    },
];

/// The new subcontractor the demo has only in Procore.
pub const NEW_SUBCONTRACTOR: &str = "Evergreen Electrical Contractors, LLC";

/// `(trade, [full cost codes], cost type, subcontract?)`.
const TRADES: &[(&str, &[&str], &str, bool)] = &[
    ("Concrete", &["03-100", "03-300"], "S", true),
    ("Structural Steel", &["05-120"], "S", true),
    ("HVAC", &["23-100"], "S", true),
    ("Plumbing", &["22-100"], "S", true),
    ("Electrical", &["26-100"], "S", true),
    ("Drywall", &["09-250"], "S", true),
    ("Painting", &["09-900"], "S", true),
    ("Earthwork", &["31-200"], "S", true),
    ("Roofing", &["07-500"], "S", true),
    ("Carpentry", &["06-100"], "S", true),
    ("Doors", &["08-100"], "S", true),
    ("Demolition", &["02-400"], "S", true),
    ("Glazing", &["08-400"], "S", true),
    ("Fire Protection", &["21-100"], "S", true),
    ("Surveying", &["01-100"], "P", true),
    ("Ready Mix", &["03-300"], "M", false),
    ("Lumber", &["06-100"], "M", false),
    ("Rebar", &["03-100"], "M", false),
    ("Equipment", &["01-500"], "E", false),
    ("Safety", &["01-500"], "M", false),
];

/// `(name, city, state)` of the job sites; more projects reuse them with a phase suffix.
pub const JOB_SITES: &[(&str, &str)] = &[
    ("Riverside Medical Office Building", "Denver"),
    ("Lakeview Elementary School Addition", "Lakewood"),
    ("Harbor Point Apartments", "Aurora"),
    ("Northgate Distribution Center", "Commerce City"),
    ("Cedar Street Parking Structure", "Boulder"),
    ("Mesa Verde Fire Station 12", "Golden"),
    ("Foothills Community Library", "Littleton"),
    ("Union Station Retail Fit-Out", "Denver"),
    ("Pinecrest Senior Living", "Castle Rock"),
    ("Aspen Grove Office Park Bldg C", "Englewood"),
];

/// The Procore project number and the Deltek project (WBS1) of job site `i` (0-based).
pub fn project_numbers(i: usize) -> (String, String) {
    (format!("25-{}", 101 + i), format!("2025{:03}.00", 101 + i))
}

/// Id of project `i`.
pub fn project_id(i: usize) -> Id {
    2_783_400_100 + i as Id
}

/// Id of vendor `i` of [`VENDORS`].
pub fn vendor_id(i: usize) -> Id {
    17_700_000 + i as Id
}

/// A tiny deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below(u64::try_from(hi - lo + 1).unwrap_or(1)) as i64
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    fn weighted<'a>(&mut self, options: &[(&'a str, u64)]) -> &'a str {
        let total: u64 = options.iter().map(|o| o.1).sum();
        let mut x = self.below(total);
        for (s, w) in options {
            if x < *w {
                return s;
            }
            x -= w;
        }
        options.last().map(|o| o.0).unwrap_or("")
    }
}

fn dec(n: i64) -> Decimal {
    Decimal::from(n)
}

/// Summit Ridge Builders: a 250-person general contractor with `projects` active job sites and
/// one closed one, deterministic from `seed` (see the module docs of [`super`]).
pub fn general_contractor(seed: u64, projects: usize) -> ProcoreScenario {
    let mut rng = Rng(seed ^ 0x5EED_0000_0000_0014);
    let end = anchor();
    let start = end - Duration::days(150);
    let at = |days: i64, hour: u32| -> DateTime<Utc> {
        let d = start + Duration::days(days);
        Utc.with_ymd_and_hms(d.year(), d.month(), d.day(), hour.min(23), 0, 0).single().unwrap_or(d)
    };
    let mut s = ProcoreScenario::new();
    s.apps.push(App {
        client_id: demo::CLIENT_ID.into(),
        client_secret: demo::CLIENT_SECRET.into(),
        name: "ml-connector".into(),
        application_id: demo::APPLICATION_ID,
        user_id: demo::USER_ID,
        user_login: "ml-connector+4264807@serviceaccounts.procore.com".into(),
        installs: vec![Install { company_id: demo::COMPANY_ID, ..Default::default() }],
    });
    s.apps.push(App {
        client_id: demo::OTHER_CLIENT_ID.into(),
        client_secret: demo::OTHER_CLIENT_SECRET.into(),
        name: "Other integration".into(),
        application_id: 18_301,
        user_id: 9_310_999,
        user_login: "other+4264807@serviceaccounts.procore.com".into(),
        installs: vec![Install { company_id: demo::COMPANY_ID, ..Default::default() }],
    });
    s.companies.push(Company {
        id: demo::COMPANY_ID,
        name: demo::COMPANY_NAME.into(),
        is_active: true,
        logo_url: None,
    });
    s.companies.push(Company {
        id: demo::OTHER_COMPANY_ID,
        name: "Summit Ridge Self-Perform LLC".into(),
        is_active: true,
        logo_url: None,
    });
    for (i, (code, name, base)) in COST_TYPES.iter().enumerate() {
        s.line_item_types.push(LineItemType {
            id: 360_100 + i as Id,
            company_id: demo::COMPANY_ID,
            name: name.to_string(),
            code: code.to_string(),
            base_type: base.map(String::from),
            origin_id: None,
            origin_data: None,
        });
    }
    let type_id = |code: &str| COST_TYPES.iter().position(|t| t.0 == code).map(|i| 360_100 + i as Id);
    for (i, vs) in VENDORS.iter().enumerate() {
        let created = at(rng.range(-400, -160), 9);
        s.vendors.push(Vendor {
            id: vendor_id(i),
            company_id: demo::COMPANY_ID,
            name: vs.name.into(),
            abbreviated_name: Some(vs.abbreviation.into()),
            legal_name: Some(vs.name.into()),
            address: Some(format!("{} {} St", 100 + i * 37, ["Main", "Market", "Larimer", "Blake", "Wazee"][i % 5])),
            city: Some(vs.city.into()),
            state_code: Some("CO".into()),
            zip: Some(format!("80{:03}", 200 + i)),
            country_code: Some("US".into()),
            business_phone: Some(format!("303-555-{:04}", 1000 + i)),
            email_address: Some(format!("ap@{}.example", vs.abbreviation.to_ascii_lowercase())),
            business_id: vs.ein.filter(|_| vs.business_id_only).map(String::from),
            business_register: vs.ein.filter(|_| !vs.business_id_only).map(|e| BusinessRegister {
                id: 510_000 + i as Id,
                kind: "EIN".into(),
                identifier: e.into(),
                verified_at: None,
                verification_status: Some("unverified".into()),
            }),
            is_active: vs.active,
            trades: vec![vs.trade.into()],
            created_at: Some(created),
            updated_at: Some(if vs.in_deltek { created } else { at(140, 10) }),
            ..Default::default()
        });
    }
    let mut next_line: Id = 700_000_000;
    let mut next_item: Id = 800_000_000;
    let mut next_commitment: Id = 562_949_953_421_312;
    let mut next_co: Id = 48_500_000;
    let mut next_req: Id = 4_400_000_000;
    let mut next_dc: Id = 160_000_000;
    let total = projects + 1;
    for pi in 0..total {
        let active = pi < projects;
        let (site, city) = JOB_SITES[pi % JOB_SITES.len()];
        let name =
            if pi < JOB_SITES.len() { site.to_string() } else { format!("{site} Phase {}", pi / JOB_SITES.len() + 1) };
        let (number, wbs1) = project_numbers(pi);
        let (name, number, wbs1) = if active {
            (name, number, wbs1)
        } else {
            ("Westside Library Renovation".to_string(), "24-117".to_string(), "2024117.00".to_string())
        };
        let pid = project_id(pi);
        let created = at(rng.range(-300, -10), 8);
        s.projects.push(Project {
            id: pid,
            company_id: demo::COMPANY_ID,
            name,
            project_number: Some(number),
            address: Some(format!("{} {} Ave", 1200 + pi * 110, ["Colfax", "Federal", "Alameda", "Evans"][pi % 4])),
            city: Some(city.into()),
            state_code: Some("CO".into()),
            zip: Some(format!("80{:03}", 100 + pi)),
            country_code: Some("US".into()),
            time_zone: Some("Mountain Time (US & Canada)".into()),
            stage: Some(if active { "Course of Construction" } else { "Closeout" }.into()),
            active,
            start_date: Some(created.date_naive()),
            completion_date: Some((created + Duration::days(540)).date_naive()),
            total_value: Some(dec(rng.range(80, 420) * 100_000)),
            accounting_project_number: Some(wbs1),
            created_at: Some(created),
            updated_at: Some(created),
            ..Default::default()
        });
        // Cost codes.
        let mut cc_id: Id = 94_000_000 + pi as Id * 1000;
        let mut codes: Vec<(String, Id)> = Vec::new();
        for (dpos, (div, dname, children)) in COST_CODES.iter().enumerate() {
            let did = cc_id;
            cc_id += 1;
            s.cost_codes.push(CostCode {
                id: did,
                project_id: pid,
                code: div.to_string(),
                name: dname.to_string(),
                position: dpos as i64 + 1,
                created_at: Some(created),
                updated_at: Some(created),
                ..Default::default()
            });
            for (cpos, (code, cname)) in children.iter().enumerate() {
                s.cost_codes.push(CostCode {
                    id: cc_id,
                    project_id: pid,
                    code: code.to_string(),
                    name: cname.to_string(),
                    parent_id: Some(did),
                    position: cpos as i64 + 1,
                    created_at: Some(created),
                    updated_at: Some(created),
                    ..Default::default()
                });
                codes.push((format!("{div}-{code}"), cc_id));
                cc_id += 1;
            }
        }
        let code_id = |full: &str| codes.iter().find(|c| c.0 == full).map(|c| c.1);
        if !active {
            continue;
        }
        // Which vendors work here: the subcontract trades (demolition always on the second job).
        let subs: Vec<usize> = VENDORS
            .iter()
            .enumerate()
            .filter(|(_, x)| x.active && x.in_deltek && TRADES.iter().any(|t| t.0 == x.trade && t.3))
            .map(|(i, _)| i)
            .collect();
        let mut chosen: Vec<usize> = Vec::new();
        let want = 5 + rng.below(3) as usize;
        while chosen.len() < want.min(subs.len()) {
            let c = subs[rng.below(subs.len() as u64) as usize];
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
        if pi == 1
            && let Some(d) = VENDORS.iter().position(|x| x.trade == "Demolition")
            && !chosen.contains(&d)
        {
            chosen.push(d);
        }
        if pi == 0
            && let Some(e) = VENDORS.iter().position(|x| x.name == NEW_SUBCONTRACTOR)
        {
            chosen.push(e);
        }
        let suppliers: Vec<usize> = VENDORS
            .iter()
            .enumerate()
            .filter(|(_, x)| x.active && TRADES.iter().any(|t| t.0 == x.trade && !t.3))
            .map(|(i, _)| i)
            .collect();
        let mut pos: Vec<usize> = Vec::new();
        let want = 2 + rng.below(2) as usize;
        while pos.len() < want {
            let c = suppliers[rng.below(suppliers.len() as u64) as usize];
            if !pos.contains(&c) {
                pos.push(c);
            }
        }
        let make_lines =
            |rng: &mut Rng, next_line: &mut Id, trade: &str, scale: i64, when: DateTime<Utc>| -> Vec<LineItem> {
                let (_, tcodes, ttype, sub) =
                    TRADES.iter().find(|t| t.0 == trade).copied().unwrap_or(("", &["01-500"], "O", false));
                tcodes
                    .iter()
                    .enumerate()
                    .map(|(k, full)| {
                        *next_line += 1;
                        let (quantity, unit_cost, amount) = if sub {
                            (Decimal::ONE, Decimal::ZERO, dec(rng.range(4, 90) * scale))
                        } else {
                            (dec(rng.range(20, 400)), Decimal::new(rng.range(1_500, 60_000), 2), Decimal::ZERO)
                        };
                        LineItem {
                            id: *next_line,
                            description: Some(format!("{trade} - {}", ["base scope", "additional scope"][k % 2])),
                            cost_code_id: code_id(full),
                            line_item_type_id: type_id(ttype),
                            quantity,
                            unit_cost,
                            uom: Some(if sub { "ls" } else { "ea" }.into()),
                            amount,
                            position: k as i64 + 1,
                            created_at: Some(when),
                            updated_at: Some(when),
                            ..Default::default()
                        }
                    })
                    .collect()
            };
        let mut used_vendors: Vec<usize> = Vec::new();
        for (j, &vi) in chosen.iter().enumerate() {
            let vs = VENDORS[vi];
            used_vendors.push(vi);
            let forced = (pi == 0 && vs.name == NEW_SUBCONTRACTOR) || (pi == 1 && vs.trade == "Demolition");
            let status = if forced {
                "Approved"
            } else {
                rng.weighted(&[("Approved", 70), ("Complete", 10), ("Out For Signature", 10), ("Draft", 10)])
            };
            let signed = at(rng.range(0, 40), 14);
            next_commitment += 1;
            let cid = next_commitment;
            let lines = make_lines(&mut rng, &mut next_line, vs.trade, 10_000, signed);
            let retainage = if rng.chance(30) { dec(5) } else { dec(10) };
            let executed = matches!(status, "Approved" | "Complete");
            s.commitments.push(Commitment {
                id: cid,
                project_id: pid,
                kind: CommitmentKind::WorkOrderContract,
                number: format!("SC-{:03}", j + 1),
                title: Some(format!("{} Subcontract", vs.trade)),
                description: Some(format!("{} work per plans and specifications", vs.trade)),
                status: status.into(),
                executed,
                vendor_id: Some(vendor_id(vi)),
                accounting_method: Some("amount".into()),
                retainage_percent: Some(retainage),
                contract_date: Some(signed.date_naive()),
                execution_date: executed.then(|| (signed + Duration::days(3)).date_naive()),
                contract_start_date: Some((signed + Duration::days(7)).date_naive()),
                contract_estimated_completion_date: Some((signed + Duration::days(300)).date_naive()),
                line_items: lines.clone(),
                created_at: Some(signed - Duration::days(5)),
                updated_at: Some(signed + Duration::days(3)),
                ..Default::default()
            });
            // Change orders on executed subcontracts.
            let mut approved_cos: Vec<(DateTime<Utc>, Vec<LineItem>)> = Vec::new();
            if executed && (rng.chance(55) || forced) {
                let n = 1 + rng.below(2) as usize;
                for k in 0..n {
                    let when = at(rng.range(45, 130), 11);
                    let co_status = if k == 0 {
                        "approved"
                    } else {
                        rng.weighted(&[("pending", 45), ("draft", 25), ("approved", 20), ("void", 10)])
                    };
                    next_co += 1;
                    let base = lines.first().cloned().unwrap_or_default();
                    next_line += 1;
                    let amt = (base.total() * Decimal::new(rng.range(2, 8), 2)).round_dp(0);
                    let li = LineItem {
                        id: next_line,
                        description: Some(format!(
                            "CO {}: {}",
                            k + 1,
                            ["added scope per RFI", "owner-directed change", "unforeseen condition"]
                                [rng.below(3) as usize]
                        )),
                        amount: amt,
                        quantity: Decimal::ONE,
                        position: 1,
                        created_at: Some(when),
                        updated_at: Some(when),
                        ..base.clone()
                    };
                    if co_status == "approved" {
                        approved_cos.push((when, vec![li.clone()]));
                    }
                    s.change_orders.push(ChangeOrder {
                        id: next_co,
                        project_id: pid,
                        contract_id: cid,
                        number: format!("{}", k + 1),
                        title: li.description.clone(),
                        status: co_status.into(),
                        executed: co_status == "approved",
                        due_date: Some((when + Duration::days(14)).date_naive()),
                        reviewed_at: (co_status == "approved").then_some(when + Duration::days(2)),
                        line_items: vec![li],
                        created_at: Some(when),
                        updated_at: Some(when + Duration::days(2)),
                        ..Default::default()
                    });
                }
            }
            // Monthly applications on executed subcontracts.
            approved_cos.sort_by_key(|c| c.0);
            if executed {
                let periods = [(2025, 3, 31), (2025, 4, 30), (2025, 5, 31)];
                let complete = status == "Complete";
                let first = if forced { 2 } else { rng.below(2) as usize };
                let progress = [dec(20), dec(45), dec(70)];
                let mut prev_done: Vec<Decimal> = Vec::new();
                let mut prev_ret: Vec<Decimal> = Vec::new();
                for (n, &(y, mo, d)) in periods.iter().enumerate().skip(first) {
                    let last = n == periods.len() - 1;
                    let period_end = NaiveDate::from_ymd_opt(y, mo, d).unwrap_or_default();
                    let period_start = NaiveDate::from_ymd_opt(y, mo, 1).unwrap_or_default();
                    let cutoff = period_end.and_hms_opt(23, 0, 0).map(|t| t.and_utc()).unwrap_or(end);
                    // Schedule of values: contract lines, then change orders approved by the period end.
                    let mut rows: Vec<(String, &LineItem)> =
                        lines.iter().map(|l| ("contract_item".to_string(), l)).collect();
                    for (when, cls) in &approved_cos {
                        if *when <= cutoff {
                            rows.extend(cls.iter().map(|l| ("change_order_item".to_string(), l)));
                        }
                    }
                    let pct = if complete && last { dec(100) } else { progress[n] };
                    let mut items = Vec::new();
                    for (r, (kind, l)) in rows.iter().enumerate() {
                        let sched = l.total();
                        let done_before = prev_done.get(r).copied().unwrap_or_default();
                        let ret_before = prev_ret.get(r).copied().unwrap_or_default();
                        let target = (sched * pct / dec(100)).round_dp(2);
                        let this = (target - done_before).max(Decimal::ZERO);
                        let retained = (this * retainage / dec(100)).round_dp(2);
                        let released = if complete && last { ret_before + retained } else { Decimal::ZERO };
                        next_item += 1;
                        items.push(RequisitionItem {
                            id: next_item,
                            item_type: kind.clone(),
                            line_item_id: Some(l.id),
                            cost_code_id: l.cost_code_id,
                            description_of_work: l.description.clone(),
                            scheduled_value: sched,
                            work_completed_from_previous_application: done_before,
                            work_completed_this_period: this,
                            work_completed_retainage_from_previous: ret_before,
                            work_completed_retainage_retained_this_period: retained,
                            work_completed_retainage_released_this_period: released,
                            position: r as i64 + 1,
                            ..Default::default()
                        });
                    }
                    prev_done = items
                        .iter()
                        .map(|i| i.work_completed_from_previous_application + i.work_completed_this_period)
                        .collect();
                    prev_ret = items
                        .iter()
                        .map(|i| {
                            i.work_completed_retainage_from_previous + i.work_completed_retainage_retained_this_period
                                - i.work_completed_retainage_released_this_period
                        })
                        .collect();
                    let req_status = if !last || forced {
                        "approved"
                    } else {
                        rng.weighted(&[
                            ("approved", 45),
                            ("approved_as_noted", 15),
                            ("under_review", 15),
                            ("pending_owner_approval", 10),
                            ("revise_and_resubmit", 5),
                            ("draft", 10),
                        ])
                    };
                    let submitted = cutoff + Duration::days(1) - Duration::hours(8);
                    let decided = submitted + Duration::days(rng.range(2, 9));
                    next_req += 1;
                    s.requisitions.push(Requisition {
                        id: next_req,
                        project_id: pid,
                        commitment_id: cid,
                        number: n as i64 + 1 - first as i64,
                        invoice_number: Some(format!("{}-{}{:02}", vs.abbreviation, 2500 + pi * 10 + j, n + 1)),
                        period_id: Some(77_000 + n as Id),
                        requisition_start: Some(period_start),
                        requisition_end: Some(period_end),
                        billing_date: Some(period_end + Duration::days(2)),
                        payment_date: None,
                        submitted_at: Some(submitted),
                        status: req_status.into(),
                        is_final: complete && last,
                        items,
                        created_at: Some(submitted - Duration::days(2)),
                        updated_at: Some(if req_status == "draft" {
                            submitted - Duration::days(2)
                        } else {
                            decided.min(end)
                        }),
                        ..Default::default()
                    });
                }
            }
        }
        for (j, &vi) in pos.iter().enumerate() {
            let vs = VENDORS[vi];
            used_vendors.push(vi);
            let status =
                rng.weighted(&[("Approved", 60), ("Received", 15), ("Processing", 10), ("Draft", 10), ("Closed", 5)]);
            let issued = at(rng.range(10, 120), 10);
            next_commitment += 1;
            s.commitments.push(Commitment {
                id: next_commitment,
                project_id: pid,
                kind: CommitmentKind::PurchaseOrderContract,
                number: format!("PO-{:03}", j + 1),
                title: Some(format!("{} purchase order", vs.trade)),
                status: status.into(),
                executed: status != "Draft",
                vendor_id: Some(vendor_id(vi)),
                accounting_method: Some("unit".into()),
                retainage_percent: Some(Decimal::ZERO),
                contract_date: Some(issued.date_naive()),
                issued_on_date: Some(issued.date_naive()),
                delivery_date: Some((issued + Duration::days(21)).date_naive()),
                payment_terms: Some("Net 30".into()),
                line_items: make_lines(&mut rng, &mut next_line, vs.trade, 1, issued),
                created_at: Some(issued - Duration::days(2)),
                updated_at: Some(issued),
                ..Default::default()
            });
        }
        // Direct costs: supplier invoices, expenses, payroll; one all-zero invoice on the first
        // job and one on the unmapped cost code on the second.
        let n_dc = 4 + rng.below(3) as usize;
        for k in 0..n_dc + 2 {
            let special_zero = pi == 0 && k == n_dc;
            let special_unmapped = pi == 1 && k == n_dc + 1;
            if k >= n_dc && !special_zero && !special_unmapped {
                continue;
            }
            let kind = if special_zero || special_unmapped {
                "invoice"
            } else {
                rng.weighted(&[("invoice", 60), ("expense", 25), ("payroll", 15)])
            };
            let status = if special_zero || special_unmapped {
                "approved"
            } else {
                rng.weighted(&[("approved", 60), ("pending", 20), ("draft", 10), ("revise_and_resubmit", 10)])
            };
            let when = at(rng.range(30, 148), 13);
            let vi = suppliers[rng.below(suppliers.len() as u64) as usize];
            let (trade_code, ttype) = match kind {
                "payroll" => ("01-100", "L"),
                _ if special_unmapped => (UNMAPPED_COST_CODE, "O"),
                _ => {
                    let t = TRADES.iter().find(|t| t.0 == VENDORS[vi].trade).copied().unwrap_or((
                        "",
                        &["01-500"],
                        "M",
                        false,
                    ));
                    (t.1[0], t.2)
                }
            };
            let nlines = 1 + rng.below(3) as usize;
            let mut lines = Vec::new();
            for l in 0..nlines {
                next_line += 1;
                let unit = if special_zero { Decimal::ZERO } else { Decimal::new(rng.range(1_200, 45_000), 2) };
                lines.push(LineItem {
                    id: next_line,
                    description: Some(match kind {
                        "payroll" => format!("Field labor week {}", l + 1),
                        "expense" => "Jobsite expense".to_string(),
                        _ => format!("{} delivery {}", VENDORS[vi].trade, l + 1),
                    }),
                    cost_code_id: code_id(trade_code),
                    line_item_type_id: type_id(ttype),
                    quantity: dec(rng.range(1, 60)),
                    unit_cost: unit,
                    uom: Some(if kind == "payroll" { "hr" } else { "ea" }.into()),
                    position: l as i64 + 1,
                    created_at: Some(when),
                    updated_at: Some(when),
                    ..Default::default()
                });
            }
            next_dc += 1;
            let vendor = if kind == "payroll" { None } else { Some(vendor_id(vi)) };
            if vendor.is_some() {
                used_vendors.push(vi);
            }
            s.direct_costs.push(DirectCost {
                id: next_dc,
                project_id: pid,
                direct_cost_type: kind.into(),
                direct_cost_date: Some(when.date_naive()),
                invoice_number: match kind {
                    "invoice" => Some(format!("{}-{}", VENDORS[vi].abbreviation, 40_000 + next_dc % 10_000)),
                    "expense" => Some(format!("EXP-{}", next_dc % 100_000)),
                    _ => None,
                },
                description: Some(match kind {
                    "payroll" => "Weekly field payroll".to_string(),
                    "expense" => "Jobsite expense report".to_string(),
                    _ => format!("{} invoice", VENDORS[vi].trade),
                }),
                status: status.into(),
                vendor_id: vendor,
                employee_id: (kind == "payroll").then_some(9_400_000 + pi as Id),
                employee_name: (kind == "payroll").then(|| "Field Crew Payroll".to_string()),
                terms: (kind == "invoice").then(|| "Net 30".to_string()),
                received_date: Some(when.date_naive()),
                line_items: lines,
                created_at: Some(when),
                updated_at: Some(when + Duration::hours(rng.range(1, 72)).min(end - when).max(Duration::zero())),
                ..Default::default()
            });
        }
        for vi in used_vendors {
            if let Some(v) = s.vendors.get_mut(vi)
                && !v.project_ids.contains(&pid)
            {
                v.project_ids.push(pid);
            }
        }
    }
    s
}

/// The demo scenario (`mlc sim procore`, `mlc demo`).
pub fn demo_company() -> ProcoreScenario {
    general_contractor(DEFAULT_SEED, DEFAULT_PROJECTS)
}
