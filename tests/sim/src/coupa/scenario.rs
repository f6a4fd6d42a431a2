//! Seeding the Coupa simulator: a [`CoupaScenario`] (JSON or Rust) and the demo company
//! generator [`architecture_firm`].
//!
//! JSON scenario (every key optional; records use the snapshot's kebab-case form, associations by
//! id; a record with `"id": 0` or no id gets a fresh one; records are upserted by id):
//!
//! ```json
//! {
//!   "switches": {"token_ttl_secs": 2},
//!   "clients": [{"client-id": "…", "client-secret": "…", "scopes": ["core.invoice.read"], "login": "api", "active": true}],
//!   "currencies": [{"id": 1, "code": "USD", "decimals": 2, "enabled": true}],
//!   "payment-terms": [{"id": 1, "code": "Net 30", "days-for-net-payment": 30, "active": true}],
//!   "charts": [{"id": 1, "name": "Main COA", "currency-code": "USD"}],
//!   "accounts": [{"id": 10, "name": "Consultants", "segments": ["5110", "100", "2024031"], "active": true, "account-type-id": 1}],
//!   "users": [{"id": 1, "login": "pm", "email": "pm@firm.test"}],
//!   "suppliers": [{"id": 5, "name": "Acme", "number": "S-1", "status": "active", "remit-to-addresses": [...]}],
//!   "supplier-information": [{"supplier-id": 5, "federal-tax-num": "91-1234567", "addresses": [...]}],
//!   "purchase-orders": [{"id": 7, "po-number": "4501", "status": "issued", "supplier-id": 5, "currency-code": "USD",
//!                        "lines": [{"id": 70, "line-num": "1", "quantity": "2", "price": "100", "account-id": 10}]}],
//!   "invoices": [{"id": 9, "invoice-number": "A-1", "status": "approved", "document-type": "Invoice", "supplier-id": 5,
//!                 "currency-code": "USD", "invoice-date": "2025-06-01",
//!                 "lines": [{"id": 90, "line-num": 1, "quantity": "2", "price": "100", "account-id": 10, "order-line-id": 70}]}],
//!   "custom-fields": [{"resource": "invoices", "name": "cf-erp-voucher-id", "api-editable": true, "max-length": 40}],
//!   "response-filters": {"thin": ["id", "status"]}, "default-filters": {"invoices": "thin"},
//!   "events": {"url": "http://127.0.0.1:9/webhooks/coupa", "secret": "…"}
//! }
//! ```
//!
//! The demo company ([`architecture_firm`]) is generated from a seed and a fixed anchor instant,
//! never from the clock: the same seed gives the same ids, numbers, amounts and dates every run.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::model::{
    Account, Address, Allocation, Charge, ChargeKind, ChartOfAccounts, Contact, Currency, CustomFieldDef,
    IntegrationRecord, Invoice, InvoiceLine, LineKind, OAuthClient, OrderLine, PaymentTerm, PurchaseOrder, RemitTo,
    Supplier, SupplierInformation, SupplierInformationAddress, TaxLine, User,
};
use super::state::{CoupaState, EventConfig};

/// The demo instance's names and secrets, and the records the demo script acts on.
pub mod demo {
    /// The OAuth client ml-connector uses.
    pub const CLIENT_ID: &str = "larkspur-mlc-integration";
    /// Its secret.
    pub const CLIENT_SECRET: &str = "coupa-demo-client-secret-4Hq9Zt";
    /// A second client with read scopes only (for ping's "missing scope" demo).
    pub const READ_ONLY_CLIENT_ID: &str = "larkspur-readonly";
    /// Its secret.
    pub const READ_ONLY_CLIENT_SECRET: &str = "coupa-demo-readonly-secret-8Lm2";
    /// The shared secret of the signed event push (the receiver's `webhook_secret`).
    pub const WEBHOOK_SECRET: &str = "coupa-demo-whsec-0d1e2f3a4b5c6d7e";
    /// The technical user of the client.
    pub const LOGIN: &str = "mlc-integration";
    /// The custom field the flow may write the Deltek voucher id into.
    pub const ERP_FIELD: &str = "cf-deltek-voucher-id";
    /// The line custom field carrying the Deltek project number.
    pub const PROJECT_FIELD: &str = "project-number";
    /// The GL segment no Deltek mapping covers (an "unmapped account segment").
    pub const UNMAPPED_SEGMENT: &str = "6990";
    /// The PO that is revised after its invoice was approved (action `revise_po`).
    pub const REVISED_PO: &str = "4500090";
    /// The supplier whose remit-to address changes during the demo (action `update_supplier`).
    pub const REMIT_CHANGE_SUPPLIER: &str = "S-1004";
    /// An approved invoice that was exported (posted) and is voided during the demo.
    pub const VOID_AFTER_EXPORT_INVOICE: &str = "PLF-22871";
    /// An invoice voided before it was ever exported (nothing to undo in Deltek).
    pub const VOIDED_UNEXPORTED_INVOICE: &str = "MSC-5513";
}

/// Every scope the flows may use (what the demo client is granted).
pub const FLOW_SCOPES: &[&str] = &[
    "core.invoice.read",
    "core.invoice.write",
    "core.purchase_order.read",
    "core.purchase_order.write",
    "core.supplier.read",
    "core.common.read",
    "core.accounting.read",
    "core.integration.read",
    "core.integration.write",
];

/// What to put in the instance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct CoupaScenario {
    pub switches: Option<Value>,
    pub clients: Vec<OAuthClient>,
    pub currencies: Vec<Currency>,
    pub payment_terms: Vec<PaymentTerm>,
    pub charts: Vec<ChartOfAccounts>,
    pub accounts: Vec<Account>,
    pub users: Vec<User>,
    pub suppliers: Vec<Supplier>,
    pub supplier_information: Vec<SupplierInformation>,
    pub purchase_orders: Vec<PurchaseOrder>,
    pub invoices: Vec<Invoice>,
    pub integration_records: Vec<IntegrationRecord>,
    pub custom_fields: Vec<CustomFieldDef>,
    pub response_filters: BTreeMap<String, Value>,
    pub default_filters: BTreeMap<String, String>,
    pub events: Option<EventConfig>,
}

fn upsert<T>(list: &mut Vec<T>, item: T, id: impl Fn(&T) -> i64) {
    let key = id(&item);
    match list.iter_mut().find(|x| id(x) == key) {
        Some(x) => *x = item,
        None => list.push(item),
    }
}

impl CoupaScenario {
    /// Read the JSON form (module docs); unknown keys are refused with the path.
    pub fn from_json(v: &Value) -> Result<Self, String> {
        serde_json::from_value(v.clone()).map_err(|e| format!("not a Coupa scenario: {e}"))
    }

    /// The JSON form.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Only the demo client (no records): a base for hand-built test scenarios.
    pub fn clients_only() -> Self {
        CoupaScenario { clients: demo_clients(), ..CoupaScenario::default() }
    }

    /// Merge into a state, giving fresh ids to records without one.
    pub fn apply(&self, st: &mut CoupaState) -> Result<(), String> {
        if let Some(sw) = &self.switches {
            st.switches = st.switches.merged(sw)?;
        }
        for c in &self.clients {
            match st.clients.iter_mut().find(|x| x.client_id == c.client_id) {
                Some(x) => *x = c.clone(),
                None => st.clients.push(c.clone()),
            }
        }
        for c in &self.currencies {
            let mut c = c.clone();
            c.id = st.id_or_new("currency", c.id);
            upsert(&mut st.currencies, c, |x| x.id);
        }
        for t in &self.payment_terms {
            let mut t = t.clone();
            t.id = st.id_or_new("payment_term", t.id);
            upsert(&mut st.payment_terms, t, |x| x.id);
        }
        for c in &self.charts {
            let mut c = c.clone();
            c.id = st.id_or_new("chart", c.id);
            upsert(&mut st.charts, c, |x| x.id);
        }
        for a in &self.accounts {
            let mut a = a.clone();
            a.id = st.id_or_new("account", a.id);
            upsert(&mut st.accounts, a, |x| x.id);
        }
        for u in &self.users {
            let mut u = u.clone();
            u.id = st.id_or_new("user", u.id);
            upsert(&mut st.users, u, |x| x.id);
        }
        for s in &self.suppliers {
            let mut s = s.clone();
            s.id = st.id_or_new("supplier", s.id);
            for r in &mut s.remit_to_addresses {
                r.id = st.id_or_new("remit_to", r.id);
            }
            upsert(&mut st.suppliers, s, |x| x.id);
        }
        for i in &self.supplier_information {
            let mut i = i.clone();
            if st.supplier(i.supplier_id).is_none() {
                return Err(format!("supplier-information for unknown supplier-id {}", i.supplier_id));
            }
            i.id = st.id_or_new("supplier_information", i.id);
            for a in &mut i.addresses {
                a.id = st.id_or_new("supplier_information_address", a.id);
            }
            upsert(&mut st.supplier_information, i, |x| x.id);
        }
        for p in &self.purchase_orders {
            let mut p = p.clone();
            if st.supplier(p.supplier_id).is_none() {
                return Err(format!("purchase order {} names unknown supplier-id {}", p.po_number, p.supplier_id));
            }
            p.id = st.id_or_new("purchase_order", p.id);
            for l in &mut p.lines {
                l.id = st.id_or_new("order_line", l.id);
            }
            upsert(&mut st.purchase_orders, p, |x| x.id);
        }
        for i in &self.invoices {
            let mut i = i.clone();
            if st.supplier(i.supplier_id).is_none() {
                return Err(format!("invoice {} names unknown supplier-id {}", i.invoice_number, i.supplier_id));
            }
            i.id = st.id_or_new("invoice", i.id);
            for l in &mut i.lines {
                l.id = st.id_or_new("invoice_line", l.id);
                if let Some(ol) = l.order_line_id
                    && st.order_line(ol).is_none()
                {
                    return Err(format!(
                        "invoice {} line {} names unknown order-line-id {ol}",
                        i.invoice_number, l.line_num
                    ));
                }
                for a in &mut l.allocations {
                    a.id = st.id_or_new("allocation", a.id);
                }
            }
            for c in &mut i.charges {
                c.id = st.id_or_new("charge", c.id);
            }
            for t in &mut i.tax_lines {
                t.id = st.id_or_new("tax_line", t.id);
            }
            upsert(&mut st.invoices, i, |x| x.id);
        }
        for r in &self.integration_records {
            let mut r = r.clone();
            r.id = st.id_or_new("integration_record", r.id);
            upsert(&mut st.integration_records, r, |x| x.id);
        }
        for d in &self.custom_fields {
            match st.custom_fields.iter_mut().find(|x| x.resource == d.resource && x.name == d.name) {
                Some(x) => *x = d.clone(),
                None => st.custom_fields.push(d.clone()),
            }
        }
        st.response_filters.extend(self.response_filters.clone());
        st.default_filters.extend(self.default_filters.clone());
        if let Some(e) = &self.events {
            st.events = Some(e.clone());
        }
        Ok(())
    }
}

/// The demo's OAuth clients: ml-connector's (every flow scope) and a read-only one.
pub fn demo_clients() -> Vec<OAuthClient> {
    vec![
        OAuthClient {
            client_id: demo::CLIENT_ID.into(),
            client_secret: demo::CLIENT_SECRET.into(),
            scopes: FLOW_SCOPES.iter().map(|s| s.to_string()).collect(),
            login: demo::LOGIN.into(),
            active: true,
        },
        OAuthClient {
            client_id: demo::READ_ONLY_CLIENT_ID.into(),
            client_secret: demo::READ_ONLY_CLIENT_SECRET.into(),
            scopes: ["core.invoice.read", "core.purchase_order.read", "core.supplier.read", "core.common.read"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            login: "readonly".into(),
            active: true,
        },
    ]
}

// ------------------------------------------------------------------------------------------
// The demo company: Larkspur & Vale Architects, 300 people, offices in Seattle, Portland, Denver.
// ------------------------------------------------------------------------------------------

/// The default seed (`mlc demo`).
pub const DEFAULT_SEED: u64 = 0x1A2C_5F00_A2C4;

/// The fixed instant the demo data is dated from (the simulator's manual default clock).
pub fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 16, 14, 30, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A GL code (segment 1) and its name.
pub const GL_ACCOUNTS: &[(&str, &str)] = &[
    ("5110", "Consultants - Structural"),
    ("5120", "Consultants - MEP"),
    ("5130", "Consultants - Landscape"),
    ("5140", "Consultants - Civil"),
    ("5150", "Consultants - Specialty"),
    ("5210", "Reimbursable Printing & Reprographics"),
    ("5220", "Reimbursable Travel"),
    ("5230", "Model Shop Materials"),
    ("6110", "Software Subscriptions"),
    ("6120", "Computer Hardware"),
    ("6210", "Rent"),
    ("6220", "Utilities"),
    ("6310", "Office Supplies"),
    ("6320", "Courier & Postage"),
    ("6410", "Professional Dues & Licenses"),
    ("6990", "Miscellaneous Studio Expense"),
];

/// Offices (segment 2).
pub const OFFICES: &[(&str, &str)] = &[("100", "Seattle"), ("200", "Portland"), ("300", "Denver")];

/// Projects: segment 3 value, Deltek project number (WBS1), name, office. `0000000` is overhead.
pub const PROJECTS: &[(&str, &str, &str, &str)] = &[
    ("2023014", "2023014.00", "Riverside Branch Library", "100"),
    ("2024007", "2024007.00", "Cedar Hills Elementary School", "200"),
    ("2024022", "2024022.00", "Harborview Medical Pavilion", "100"),
    ("2024031", "2024031.00", "Union Station Adaptive Reuse", "300"),
    ("2025003", "2025003.00", "Northgate Transit-Oriented Housing", "100"),
    ("2025011", "2025011.00", "Mercer Arts Center", "200"),
];

/// The overhead project segment.
pub const OVERHEAD: &str = "0000000";

/// How a supplier is coded and billed.
#[derive(Debug, Clone, Copy)]
struct Profile {
    name: &'static str,
    gl: &'static str,
    /// Project work (reimbursable/consultant) rather than overhead.
    project: bool,
    /// Usually billed against a PO.
    po: bool,
    /// Sales tax on the invoice.
    taxed: bool,
    /// Shipping charge.
    shipping: bool,
    city: (&'static str, &'static str, &'static str),
    term: usize,
    /// Typical line amount range, dollars.
    range: (i64, i64),
}

// One row of the supplier table below: positional so the table reads as a table.
#[allow(clippy::too_many_arguments)]
const fn pr(
    name: &'static str,
    gl: &'static str,
    project: bool,
    po: bool,
    taxed: bool,
    shipping: bool,
    city: (&'static str, &'static str, &'static str),
    term: usize,
    range: (i64, i64),
) -> Profile {
    Profile { name, gl, project, po, taxed, shipping, city, term, range }
}

const SEA: (&str, &str, &str) = ("Seattle", "WA", "981");
const PDX: (&str, &str, &str) = ("Portland", "OR", "972");
const DEN: (&str, &str, &str) = ("Denver", "CO", "802");
const TAC: (&str, &str, &str) = ("Tacoma", "WA", "984");

const PROFILES: &[Profile] = &[
    pr("Cascadia Structural Engineers", "5110", true, true, false, false, SEA, 0, (2500, 18000)),
    pr("Northwind MEP Partners", "5120", true, true, false, false, PDX, 1, (3000, 22000)),
    pr("Greenline Landscape Studio", "5130", true, true, false, false, SEA, 0, (1200, 9000)),
    pr("Puget Civil Group", "5140", true, true, false, false, TAC, 0, (1800, 12000)),
    pr("Lumen Lighting Design", "5150", true, true, false, false, PDX, 0, (900, 6000)),
    pr("Quiet Room Acoustics", "5150", true, false, false, false, DEN, 0, (800, 4500)),
    pr("Ballard Blueprint & Reprographics", "5210", true, false, true, false, SEA, 2, (60, 900)),
    pr("Pioneer Large Format Printing", "5210", true, false, true, true, SEA, 2, (120, 1500)),
    pr("Sound Corporate Travel", "5220", true, false, false, false, SEA, 0, (250, 2400)),
    pr("Modelcraft Supply Co.", "5230", true, true, true, true, PDX, 0, (80, 1200)),
    pr("Basswood & Acrylic Depot", "5230", true, false, true, true, DEN, 2, (40, 600)),
    pr("Draftline Software Inc.", "6110", false, true, false, false, SEA, 0, (1500, 14000)),
    pr("Markup Cloud LLC", "6110", false, false, false, false, DEN, 0, (300, 2500)),
    pr("Emerald City Computer Supply", "6120", false, true, true, true, SEA, 0, (900, 8000)),
    pr("Pioneer Square Properties LLC", "6210", false, false, false, false, SEA, 2, (38000, 38000)),
    pr("Pearl District Holdings", "6210", false, false, false, false, PDX, 2, (16500, 16500)),
    pr("Cascade Power & Light", "6220", false, false, false, false, SEA, 2, (900, 2600)),
    pr("Rainier Office Supply", "6310", false, false, true, true, TAC, 2, (50, 700)),
    pr("Sprocket Courier Services", "6320", true, false, false, false, SEA, 2, (25, 300)),
    pr("Northwest Architects Guild", "6410", false, false, false, false, PDX, 0, (250, 1800)),
    pr("Fremont Studio Sundries", "6990", false, false, true, false, SEA, 2, (40, 400)),
    pr("Mile High Engineering Consultants", "5140", true, true, false, false, DEN, 1, (2000, 15000)),
    pr("Columbia Geotechnical", "5150", true, true, false, false, PDX, 0, (1500, 9000)),
    pr("Front Range Visualization", "5150", true, false, false, false, DEN, 0, (1200, 7000)),
];

const STREETS: &[&str] =
    &["Western Ave", "Alaskan Way", "NW Market St", "SE Hawthorne Blvd", "Larimer St", "Pacific Ave", "Fremont Ave N"];
const FIRST: &[&str] =
    &["Ana", "Ben", "Chloe", "Dev", "Erin", "Felix", "Grace", "Hiro", "Iris", "Jonah", "Kira", "Luis"];
const LAST: &[&str] = &["Okafor", "Lindqvist", "Nakamura", "Reyes", "Walsh", "Haddad", "Kowalski", "Brennan", "Osei"];

/// A tiny deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    fn dollars(&mut self, lo: i64, hi: i64) -> Decimal {
        Decimal::new(self.range(lo * 100, hi * 100), 2)
    }
}

fn at(day: NaiveDate, hour: u32, min: u32) -> DateTime<Utc> {
    // Working hours in the instance's zone (UTC-7).
    day.and_hms_opt(hour, min, 0).map(|n| n.and_utc() + Duration::hours(7)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The demo company with `invoices` invoices (the default demo has 64).
pub fn architecture_firm(seed: u64, invoices: usize) -> CoupaScenario {
    architecture_firm_at(seed, invoices, anchor())
}

/// Default number of generated invoices.
pub const DEFAULT_INVOICES: usize = 64;

/// [`architecture_firm`] dated from another anchor.
pub fn architecture_firm_at(seed: u64, n_invoices: usize, anchor: DateTime<Utc>) -> CoupaScenario {
    let today = anchor.date_naive();
    let start = today - Duration::days(400);
    let mut rng = Rng::new(seed);
    let mut s = CoupaScenario { clients: demo_clients(), ..CoupaScenario::default() };
    let created = at(start, 9, 0);
    s.currencies = vec![
        Currency { id: 1, code: "USD".into(), decimals: 2, enabled: true, created_at: created, updated_at: created },
        Currency { id: 2, code: "CAD".into(), decimals: 2, enabled: true, created_at: created, updated_at: created },
    ];
    let term = |id: i64, code: &str, days: i64, disc_days: i64, rate: i64| PaymentTerm {
        id,
        code: code.into(),
        description: code.into(),
        days_for_net_payment: days,
        days_for_discount_payment: disc_days,
        discount_rate: Decimal::new(rate, 1),
        active: true,
        created_at: created,
        updated_at: created,
    };
    s.payment_terms = vec![
        term(1, "Net 30", 30, 0, 0),
        term(2, "Net 45", 45, 0, 0),
        term(3, "Net 15", 15, 0, 0),
        term(4, "2% 10 Net 30", 30, 10, 20),
    ];
    s.charts = vec![ChartOfAccounts { id: 1, name: "Larkspur & Vale COA".into(), currency_code: "USD".into() }];
    s.users = (0..8)
        .map(|i| {
            let (f, l) = (FIRST[i % FIRST.len()], LAST[(i * 5) % LAST.len()]);
            User {
                id: i as i64 + 1,
                login: format!("{}.{}", f.to_lowercase(), l.to_lowercase()),
                email: format!("{}.{}@larkspurvale.example", f.to_lowercase(), l.to_lowercase()),
                firstname: f.into(),
                lastname: l.into(),
                employee_number: format!("E{:04}", 1100 + i),
            }
        })
        .collect();
    s.custom_fields = vec![
        CustomFieldDef {
            resource: "invoices".into(),
            name: demo::ERP_FIELD.into(),
            api_editable: true,
            max_length: 40,
        },
        CustomFieldDef {
            resource: "invoices".into(),
            name: "cf-approval-route".into(),
            api_editable: false,
            max_length: 40,
        },
    ];

    // Accounts: created on demand for each (gl, office, project) combination used.
    let mut accounts: Vec<Account> = Vec::new();
    let mut account = |gl: &str, office: &str, project: &str| -> i64 {
        let segs = vec![gl.to_string(), office.to_string(), project.to_string()];
        if let Some(a) = accounts.iter().find(|a| a.segments == segs) {
            return a.id;
        }
        let gl_name = GL_ACCOUNTS.iter().find(|(c, _)| *c == gl).map_or("Expense", |(_, n)| n);
        let office_name = OFFICES.iter().find(|(c, _)| *c == office).map_or("", |(_, n)| n);
        let project_name = PROJECTS.iter().find(|p| p.0 == project).map_or("Overhead".to_string(), |p| p.2.to_string());
        let id = 100 + accounts.len() as i64;
        accounts.push(Account {
            id,
            name: format!("{gl_name} / {office_name} / {project_name}"),
            segments: segs,
            active: true,
            account_type_id: 1,
            created_at: created,
            updated_at: created,
        });
        id
    };

    // Suppliers.
    for (i, p) in PROFILES.iter().enumerate() {
        let id = 2001 + i as i64;
        let number = format!("S-{}", 1001 + i);
        let street = format!("{} {}", rng.range(100, 4999), rng.pick(STREETS));
        let zip = format!("{}{:02}", p.city.2, rng.range(1, 99));
        let addr = Address {
            street1: street.clone(),
            street2: if rng.chance(30) { format!("Suite {}", rng.range(100, 900)) } else { String::new() },
            city: p.city.0.into(),
            state: p.city.1.into(),
            postal_code: zip.clone(),
            country: "US".into(),
        };
        let (f, l) = (*rng.pick(FIRST), *rng.pick(LAST));
        let domain: String = p.name.to_lowercase().chars().filter(char::is_ascii_alphanumeric).take(14).collect();
        let mod_day = start + Duration::days(i as i64 * 9 + rng.range(0, 8));
        let remit = RemitTo {
            id: 3001 + i as i64 * 2,
            remit_to_code: format!("RT-{}-1", 1001 + i),
            name: p.name.into(),
            address: if rng.chance(40) {
                Address {
                    street1: format!("PO Box {}", rng.range(1000, 99999)),
                    street2: String::new(),
                    ..addr.clone()
                }
            } else {
                addr.clone()
            },
            active: true,
            created_at: at(start, 9, 0),
            updated_at: at(mod_day, 10, 0),
            ..RemitTo::default()
        };
        s.suppliers.push(Supplier {
            id,
            name: p.name.into(),
            display_name: p.name.into(),
            number: Some(number),
            status: "active".into(),
            tax_id: format!("{}-{:07}", rng.range(20, 98), rng.range(1_000_000, 9_999_999)),
            duns: format!("{:09}", rng.range(100_000_000, 999_999_999)),
            account_number: format!("LV-{:05}", rng.range(10000, 99999)),
            invoice_matching_level: if p.po { "2-way".into() } else { "none".into() },
            payment_method: "invoice".into(),
            payment_term_id: Some(p.term as i64 + 1),
            primary_address: addr,
            primary_contact: Contact {
                email: format!("{}.{}@{domain}.example", f.to_lowercase(), l.to_lowercase()),
                name_given: f.into(),
                name_family: l.into(),
                phone: format!("({}) 555-{:04}", rng.range(200, 989), rng.range(0, 9999)),
            },
            remit_to_addresses: vec![remit],
            on_hold: false,
            created_at: at(start, 9, 0),
            updated_at: at(mod_day, 10, 30),
            custom_fields: Map::new(),
        });
        s.supplier_information.push(SupplierInformation {
            id: 4001 + i as i64,
            supplier_id: id,
            name: p.name.into(),
            federal_tax_num: s.suppliers[i].tax_id.clone(),
            intl_tax_num: String::new(),
            tax_classification: if p.name.contains("LLC") { "LLC".into() } else { "Corporation".into() },
            tax_region: p.city.1.into(),
            pay_group: "ACH".into(),
            status: "approved".into(),
            addresses: vec![SupplierInformationAddress {
                id: 5001 + i as i64,
                kind: "RTA".into(),
                address: s.suppliers[i].remit_to_addresses[0].address.clone(),
                bank_account_number: format!("{:010}", rng.range(1_000_000_000, 9_999_999_999)),
                bank_routing_number: format!("{:09}", 125_000_000 + rng.range(0, 999_999)),
                name_on_bank_account: p.name.into(),
                bank_name: (*rng.pick(&["First Sound Bank", "Columbia Trust", "Front Range Credit Union"])).into(),
                payment_method_item: "tran".into(),
                ..SupplierInformationAddress::default()
            }],
            created_at: at(start, 9, 0),
            updated_at: at(mod_day, 10, 30),
        });
    }

    // Purchase orders for the PO-backed suppliers.
    let mut po_id = 6001i64;
    let mut ol_id = 7001i64;
    let mut po_num = 4_500_001i64;
    for (i, p) in PROFILES.iter().enumerate() {
        if !p.po {
            continue;
        }
        for _ in 0..2 {
            let project = if p.project { Some(*rng.pick(PROJECTS)) } else { None };
            let office = project.map_or_else(|| rng.pick(OFFICES).0, |pj| pj.3);
            let seg3 = project.map_or(OVERHEAD, |pj| pj.0);
            let day = start + Duration::days(rng.range(60, 330));
            let mut lines = Vec::new();
            for n in 0..rng.range(1, 3) {
                let amount = rng.dollars(p.range.0 * 2, p.range.1 * 3);
                let (kind, quantity, price) = if p.gl.starts_with("51") {
                    (LineKind::Amount, None, amount)
                } else {
                    let q = Decimal::from(rng.range(2, 20));
                    (LineKind::Quantity, Some(q), (amount / q).round_dp(2))
                };
                let mut cf = Map::new();
                if let Some(pj) = project {
                    cf.insert(demo::PROJECT_FIELD.into(), json!(pj.1));
                }
                lines.push(OrderLine {
                    id: ol_id,
                    line_num: (n + 1).to_string(),
                    kind,
                    description: match project {
                        Some(pj) => format!("{} services - {}", gl_name(p.gl), pj.2),
                        None => format!("{} - {}", gl_name(p.gl), office_name(office)),
                    },
                    quantity,
                    price,
                    account_id: Some(account(p.gl, office, seg3)),
                    status: "created".into(),
                    need_by_date: Some(day + Duration::days(30)),
                    match_type: "2-way".into(),
                    version: 1,
                    custom_fields: cf,
                    created_at: at(day, 11, 0),
                    updated_at: at(day, 11, 0),
                    ..OrderLine::default()
                });
                ol_id += 1;
            }
            s.purchase_orders.push(PurchaseOrder {
                id: po_id,
                po_number: po_num.to_string(),
                status: "issued".into(),
                version: 1,
                internal_revision: 1,
                change_type: String::new(),
                exported: rng.chance(70),
                last_exported_at: None,
                supplier_id: 2001 + i as i64,
                currency_code: "USD".into(),
                payment_term_id: Some(p.term as i64 + 1),
                requester_id: Some(rng.range(1, 8)),
                lines,
                revisions: Vec::new(),
                custom_fields: Map::new(),
                created_at: at(day, 11, 0),
                updated_at: at(day, 11, 5),
            });
            if let Some(po) = s.purchase_orders.last_mut()
                && po.exported
            {
                po.last_exported_at = Some(at(day, 23, 0));
            }
            po_id += 1;
            po_num += 1;
        }
    }

    // Invoices.
    let mut inv_id = 8001i64;
    let mut line_id = 9001i64;
    let mut extra_id = 12001i64;
    let pick_status = |rng: &mut Rng, age: i64| -> (&'static str, bool) {
        let r = rng.range(0, 99);
        if age > 45 {
            if r < 92 { ("approved", true) } else { ("voided", false) }
        } else if r < 45 {
            ("approved", false)
        } else if r < 75 {
            ("approved", true)
        } else if r < 88 {
            ("pending_approval", false)
        } else {
            ("draft", false)
        }
    };
    let mut numbers: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for _ in 0..n_invoices {
        let pi = (rng.next() % PROFILES.len() as u64) as usize;
        let p = &PROFILES[pi];
        let supplier = &s.suppliers[pi];
        let age = rng.range(1, 120);
        let day = today - Duration::days(age);
        let (status, exported) = pick_status(&mut rng, age);
        let prefix: String = p.name.split_whitespace().filter_map(|w| w.chars().next()).take(3).collect();
        let mut number = format!("{}-{}", prefix.to_uppercase(), 10_000 + rng.range(0, 89_999));
        while !numbers.insert(number.clone()) {
            number = format!("{}-{}", prefix.to_uppercase(), 10_000 + rng.range(0, 89_999));
        }
        let po = if p.po && rng.chance(80) {
            s.purchase_orders.iter().filter(|o| o.supplier_id == supplier.id).nth(rng.range(0, 1) as usize).cloned()
        } else {
            None
        };
        let mut lines = Vec::new();
        match &po {
            Some(po) => {
                for (n, ol) in po.lines.iter().enumerate() {
                    // Bill part of each PO line.
                    let share = Decimal::new(rng.range(25, 60), 2);
                    let (quantity, price) = match ol.kind {
                        LineKind::Amount => (None, (ol.price * share).round_dp(2)),
                        LineKind::Quantity => (
                            Some((ol.quantity.unwrap_or(Decimal::ONE) * share).round_dp(0).max(Decimal::ONE)),
                            ol.price,
                        ),
                    };
                    lines.push(InvoiceLine {
                        id: line_id,
                        line_num: n as i64 + 1,
                        kind: ol.kind,
                        description: ol.description.clone(),
                        quantity,
                        price,
                        account_id: ol.account_id,
                        order_line_id: Some(ol.id),
                        uom: if ol.kind == LineKind::Quantity { "EA".into() } else { String::new() },
                        custom_fields: ol.custom_fields.clone(),
                        created_at: at(day, 13, 0),
                        updated_at: at(day, 13, 0),
                        ..InvoiceLine::default()
                    });
                    line_id += 1;
                }
            }
            None => {
                // Multi-line coding: project work often spans several projects.
                let n_lines = if p.project { rng.range(1, 4) } else { rng.range(1, 2) };
                for n in 0..n_lines {
                    let project = if p.project { Some(*rng.pick(PROJECTS)) } else { None };
                    let office = project.map_or_else(|| rng.pick(OFFICES).0, |pj| pj.3);
                    let seg3 = project.map_or(OVERHEAD, |pj| pj.0);
                    let amount = rng.dollars(p.range.0, p.range.1);
                    let mut cf = Map::new();
                    if let Some(pj) = project {
                        cf.insert(demo::PROJECT_FIELD.into(), json!(pj.1));
                    }
                    let (kind, quantity, price) = if p.taxed && amount > Decimal::from(100) {
                        let q = Decimal::from(rng.range(2, 12));
                        (LineKind::Quantity, Some(q), (amount / q).round_dp(2))
                    } else {
                        (LineKind::Amount, None, amount)
                    };
                    lines.push(InvoiceLine {
                        id: line_id,
                        line_num: n + 1,
                        kind,
                        description: match project {
                            Some(pj) => format!("{} - {}", gl_name(p.gl), pj.2),
                            None => format!("{} - {}", gl_name(p.gl), office_name(office)),
                        },
                        quantity,
                        price,
                        account_id: Some(account(p.gl, office, seg3)),
                        uom: if kind == LineKind::Quantity { "EA".into() } else { String::new() },
                        custom_fields: cf,
                        created_at: at(day, 13, 0),
                        updated_at: at(day, 13, 0),
                        ..InvoiceLine::default()
                    });
                    line_id += 1;
                }
                // Split coding: one line of a multi-project consultant bill allocated 60/40.
                if p.project && lines.len() == 1 && rng.chance(30) {
                    let (a, b) = (*rng.pick(PROJECTS), *rng.pick(PROJECTS));
                    if a.0 != b.0 {
                        let total = lines[0].total();
                        let first = (total * Decimal::new(6, 1)).round_dp(2);
                        let acc_a = account(p.gl, a.3, a.0);
                        let acc_b = account(p.gl, b.3, b.0);
                        lines[0].allocations = vec![
                            Allocation { id: extra_id, account_id: acc_a, amount: first, pct: Decimal::from(60) },
                            Allocation {
                                id: extra_id + 1,
                                account_id: acc_b,
                                amount: total - first,
                                pct: Decimal::from(40),
                            },
                        ];
                        extra_id += 2;
                    }
                }
            }
        }
        let net: Decimal = lines.iter().map(InvoiceLine::total).sum();
        let mut charges = Vec::new();
        if p.shipping {
            charges.push(Charge {
                id: extra_id,
                kind: ChargeKind::Shipping,
                line_num: 1,
                total: rng.dollars(12, 85),
                account_id: lines.first().and_then(|l| l.account_id),
            });
            extra_id += 1;
        }
        let mut tax_lines = Vec::new();
        if p.taxed {
            let rate = if p.city.1 == "WA" { Decimal::new(1025, 2) } else { Decimal::new(881, 2) };
            tax_lines.push(TaxLine {
                id: extra_id,
                amount: (net * rate / Decimal::from(100)).round_dp(2),
                rate,
                code: format!("{}-SALES", p.city.1),
                description: format!("{} sales tax", p.city.0),
            });
            extra_id += 1;
        }
        s.invoices.push(Invoice {
            id: inv_id,
            invoice_number: number,
            invoice_date: Some(day - Duration::days(rng.range(0, 5))),
            status: status.into(),
            document_type: "Invoice".into(),
            currency_code: "USD".into(),
            supplier_id: supplier.id,
            remit_to_id: supplier.remit_to_addresses.first().map(|r| r.id),
            payment_term_id: supplier.payment_term_id,
            requested_by_id: Some(rng.range(1, 8)),
            lines,
            charges,
            tax_lines,
            line_level_taxation: false,
            exported,
            last_exported_at: exported.then(|| at(day, 22, 15)),
            paid: exported && age > 40,
            created_at: at(day, 12, 0),
            updated_at: at(day + Duration::days(rng.range(0, 3).min(age)), 16, 45),
            ..Invoice::default()
        });
        inv_id += 1;
    }

    // The records the demo story needs, placed deterministically on top of the random ones.
    add_story(&mut s, &mut account, today, &mut inv_id, &mut line_id);
    s.accounts = accounts;
    s
}

fn gl_name(gl: &str) -> &'static str {
    GL_ACCOUNTS.iter().find(|(c, _)| *c == gl).map_or("Expense", |(_, n)| n)
}

fn office_name(code: &str) -> &'static str {
    OFFICES.iter().find(|(c, _)| *c == code).map_or("", |(_, n)| n)
}

/// The named records of the demo: the PO revised after approval, the invoice voided after
/// export, one voided before export, the unmapped segment, a credit note, an inactive account.
fn add_story(
    s: &mut CoupaScenario,
    account: &mut impl FnMut(&str, &str, &str) -> i64,
    today: NaiveDate,
    inv_id: &mut i64,
    line_id: &mut i64,
) {
    let supplier_of = |s: &CoupaScenario, name: &str| s.suppliers.iter().find(|x| x.name == name).cloned();
    let mut push = |s: &mut CoupaScenario,
                    sup: &Supplier,
                    number: &str,
                    status: &str,
                    exported: bool,
                    days_ago: i64,
                    lines: Vec<(Option<i64>, String, Decimal, Option<i64>)>| {
        let day = today - Duration::days(days_ago);
        let lines: Vec<InvoiceLine> = lines
            .into_iter()
            .enumerate()
            .map(|(n, (acc, desc, amount, order_line))| {
                let l = InvoiceLine {
                    id: *line_id,
                    line_num: n as i64 + 1,
                    kind: LineKind::Amount,
                    description: desc,
                    price: amount,
                    account_id: acc,
                    order_line_id: order_line,
                    created_at: at(day, 13, 0),
                    updated_at: at(day, 13, 0),
                    ..InvoiceLine::default()
                };
                *line_id += 1;
                l
            })
            .collect();
        s.invoices.push(Invoice {
            id: *inv_id,
            invoice_number: number.into(),
            invoice_date: Some(day),
            status: status.into(),
            document_type: "Invoice".into(),
            currency_code: "USD".into(),
            supplier_id: sup.id,
            remit_to_id: sup.remit_to_addresses.first().map(|r| r.id),
            payment_term_id: sup.payment_term_id,
            lines,
            exported,
            last_exported_at: exported.then(|| at(day, 22, 15)),
            created_at: at(day, 12, 0),
            updated_at: at(day, 16, 45),
            ..Invoice::default()
        });
        *inv_id += 1;
    };

    // The PO revised after approval: Northwind MEP's PO 4500090 (made here so the number is fixed).
    if let Some(sup) = supplier_of(s, "Northwind MEP Partners") {
        let pj = PROJECTS[2];
        let acc = account("5120", pj.3, pj.0);
        let day = today - Duration::days(40);
        let ol = 7900;
        let mut cf = Map::new();
        cf.insert(demo::PROJECT_FIELD.into(), json!(pj.1));
        s.purchase_orders.push(PurchaseOrder {
            id: 6900,
            po_number: demo::REVISED_PO.into(),
            status: "issued".into(),
            version: 1,
            internal_revision: 1,
            exported: true,
            last_exported_at: Some(at(day, 23, 0)),
            supplier_id: sup.id,
            currency_code: "USD".into(),
            payment_term_id: sup.payment_term_id,
            lines: vec![
                OrderLine {
                    id: ol,
                    line_num: "1".into(),
                    kind: LineKind::Amount,
                    description: format!("MEP design development - {}", pj.2),
                    price: Decimal::from(48_000),
                    account_id: Some(acc),
                    status: "created".into(),
                    match_type: "2-way".into(),
                    version: 1,
                    custom_fields: cf.clone(),
                    created_at: at(day, 11, 0),
                    updated_at: at(day, 11, 0),
                    ..OrderLine::default()
                },
                OrderLine {
                    id: ol + 1,
                    line_num: "2".into(),
                    kind: LineKind::Amount,
                    description: format!("MEP construction documents - {}", pj.2),
                    price: Decimal::from(36_500),
                    account_id: Some(acc),
                    status: "created".into(),
                    match_type: "2-way".into(),
                    version: 1,
                    custom_fields: cf,
                    created_at: at(day, 11, 0),
                    updated_at: at(day, 11, 0),
                    ..OrderLine::default()
                },
            ],
            created_at: at(day, 11, 0),
            updated_at: at(day, 11, 5),
            ..PurchaseOrder::default()
        });
        push(
            s,
            &sup,
            "NMP-20417",
            "approved",
            false,
            6,
            vec![(Some(acc), format!("MEP design development 50% - {}", pj.2), Decimal::from(24_000), Some(ol))],
        );
    }
    // Voided after export (the demo voids it live), and voided before export.
    if let Some(sup) = supplier_of(s, "Pioneer Large Format Printing") {
        let pj = PROJECTS[3];
        let acc = account("5210", pj.3, pj.0);
        push(
            s,
            &sup,
            demo::VOID_AFTER_EXPORT_INVOICE,
            "approved",
            true,
            12,
            vec![(Some(acc), format!("Presentation boards - {}", pj.2), Decimal::new(184_250, 2), None)],
        );
    }
    if let Some(sup) = supplier_of(s, "Modelcraft Supply Co.") {
        let pj = PROJECTS[5];
        let acc = account("5230", pj.3, pj.0);
        push(
            s,
            &sup,
            demo::VOIDED_UNEXPORTED_INVOICE,
            "voided",
            false,
            9,
            vec![(Some(acc), format!("Basswood sheets (duplicate bill) - {}", pj.2), Decimal::new(41_280, 2), None)],
        );
    }
    // The unmapped account segment: an approved bill coded to 6990.
    if let Some(sup) = supplier_of(s, "Fremont Studio Sundries") {
        let acc = account(demo::UNMAPPED_SEGMENT, "100", OVERHEAD);
        push(
            s,
            &sup,
            "FSS-3318",
            "approved",
            false,
            4,
            vec![(Some(acc), "Studio coffee and kitchen supplies".into(), Decimal::new(21_640, 2), None)],
        );
    }
    // A multi-project consultant bill with three lines on three projects.
    if let Some(sup) = supplier_of(s, "Cascadia Structural Engineers") {
        let lines = PROJECTS[..3]
            .iter()
            .enumerate()
            .map(|(i, pj)| {
                (
                    Some(account("5110", pj.3, pj.0)),
                    format!("Structural peer review - {}", pj.2),
                    Decimal::from(3_200 + 850 * i as i64),
                    None,
                )
            })
            .collect();
        push(s, &sup, "CSE-88120", "approved", false, 3, lines);
    }
    // A credit note against an exported invoice, approved and not exported.
    if let Some(orig) = s.invoices.iter().find(|i| i.exported && i.status == "approved" && i.lines.len() == 1).cloned()
    {
        let day = today - Duration::days(2);
        let mut lines = orig.lines.clone();
        for l in &mut lines {
            l.id = *line_id;
            *line_id += 1;
            l.price = -(l.price / Decimal::from(4)).round_dp(2);
            l.allocations.clear();
            l.order_line_id = None;
        }
        s.invoices.push(Invoice {
            id: *inv_id,
            invoice_number: format!("CN-{}", orig.invoice_number),
            invoice_date: Some(day),
            status: "approved".into(),
            document_type: "Credit Note".into(),
            original_invoice_number: Some(orig.invoice_number.clone()),
            original_invoice_date: orig.invoice_date,
            lines,
            charges: Vec::new(),
            tax_lines: Vec::new(),
            exported: false,
            last_exported_at: None,
            paid: false,
            created_at: at(day, 12, 0),
            updated_at: at(day, 16, 45),
            ..orig
        });
        *inv_id += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_company_is_deterministic_and_tells_its_story() {
        let a = architecture_firm(DEFAULT_SEED, DEFAULT_INVOICES);
        let b = architecture_firm(DEFAULT_SEED, DEFAULT_INVOICES);
        assert_eq!(a.to_json(), b.to_json(), "same seed, same data");
        assert_ne!(a.to_json(), architecture_firm(7, DEFAULT_INVOICES).to_json());
        assert_eq!(a.suppliers.len(), PROFILES.len());
        let approved_open = a.invoices.iter().filter(|i| i.status == "approved" && !i.exported).count();
        assert!(approved_open >= 10, "{approved_open} approved invoices to export");
        assert!(a.invoices.iter().any(|i| i.lines.iter().any(|l| l.order_line_id.is_some())), "PO-backed bills");
        assert!(a.invoices.iter().any(|i| i.lines.iter().all(|l| l.order_line_id.is_none())), "non-PO bills");
        assert!(a.invoices.iter().any(|i| i.is_credit_note()));
        assert!(a.invoices.iter().any(|i| i.invoice_number == demo::VOID_AFTER_EXPORT_INVOICE && i.exported));
        assert!(a.invoices.iter().any(|i| i.invoice_number == demo::VOIDED_UNEXPORTED_INVOICE && i.status == "voided"));
        assert!(a.purchase_orders.iter().any(|p| p.po_number == demo::REVISED_PO));
        let multi = a.invoices.iter().find(|i| i.invoice_number == "CSE-88120").expect("multi-project bill");
        let projects: std::collections::BTreeSet<String> = multi
            .lines
            .iter()
            .filter_map(|l| l.account_id)
            .filter_map(|id| a.accounts.iter().find(|x| x.id == id))
            .map(|x| x.segments[2].clone())
            .collect();
        assert_eq!(projects.len(), 3);
        assert!(a.accounts.iter().any(|x| x.segments[0] == demo::UNMAPPED_SEGMENT));
        assert!(a.suppliers.iter().any(|x| x.number.as_deref() == Some(demo::REMIT_CHANGE_SUPPLIER)));
        // Seeding it works and round-trips through JSON.
        let back = CoupaScenario::from_json(&a.to_json()).expect("json");
        let mut st = CoupaState::default();
        back.apply(&mut st).expect("apply");
        assert_eq!(st.invoices.len(), a.invoices.len());
    }

    #[test]
    fn bad_scenarios_are_refused_with_the_reason() {
        let e = CoupaScenario::from_json(&json!({"invoice": []})).unwrap_err();
        assert!(e.contains("invoice"), "{e}");
        let s = CoupaScenario::from_json(&json!({"invoices": [{"invoice-number": "X", "supplier-id": 9}]})).unwrap();
        let e = s.apply(&mut CoupaState::default()).unwrap_err();
        assert!(e.contains("unknown supplier-id 9"), "{e}");
    }
}
