//! Seeding the Deltek simulator: a typed [`DeltekScenario`] built in Rust or read from JSON,
//! and the built-in demo scenario (a 120-person engineering consultancy).
//!
//! JSON scenario (every key optional; entity rows use Vantagepoint's field names, matched
//! case-insensitively, unknown fields refused):
//!
//! ```json
//! {
//!   "auth": {"client_id": "...", "client_secret": "...", "database": "..."},
//!   "users": [{"username": "MLCAPI", "password": "...", "disabled": false, "hide_amounts": false}],
//!   "switches": {"strict_duplicate_invoice": true},
//!   "companies": [{"Company": "A0", "Name": "..."}], "active_company": "A0",
//!   "firms": [{"Client": "ACME", "Name": "Acme", "VendorInd": "Y", "Vendor": "ACME",
//!              "ApprovedForProcessing": "Y", "address": [{"Address": "Remit", "Payment": "Y", ...}]}],
//!   "projects": [{"WBS1": "2025001.00", "Name": "...", "ChargeType": "R"}, {"WBS1": "2025001.00", "WBS2": "01", ...}],
//!   "accounts": [{"Account": "51100", "Name": "Reimb. Travel", "Type": 5}],
//!   "periods": [{"Period": 202506, "ActiveCompanyClosed": "N"}], "active_period": 202506,
//!   "control_accounts": ["20100", "11100"],
//!   "ap_files": [{"Batch": "...", "Total": 100, "apMaster": [...], "apDetail": [...], "Posted": "Y", "ApprovalStatus": "A"}],
//!   "je_files": [{"Batch": "...", "jeMaster": [...], "jeDetail": [...], "Posted": "N"}],
//!   "ar_invoices": [{"Invoice": "0025001", "WBS1": "...", "InvoiceDate": "2025-05-31", "Balance": 100,
//!                    "ModDate": "2025-06-01T10:00:00.000", "Lines": [{"Account": "40100", "Amount": 100, "InvoiceSection": "F"}]}],
//!   "workflow_webhooks": {"default": {"url": "http://127.0.0.1:9/hook", "retries": 2}}
//! }
//! ```
//!
//! Seeded AP/JE files are "keyed by hand": they skip save-time validation and, when `Posted` is
//! `Y`, post straight to the ledger even into closed periods (history).

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::hubs::{insert_firm, insert_project, take_ci};
use super::model::{
    Account, ApControl, ApDetail, ApMaster, ArInvoice, ArLine, Company, Firm, FirmAddress, JeControl, JeDetail,
    JeMaster, Period, Project, fmt_period, patch, to_object,
};
use super::state::{ApFile, ApiAuthorization, DeltekState, JeFile, User};
use super::transactions::{parse_ap_file, parse_je, seed_ap_file, seed_je_file};
use crate::common::WebhookTarget;
use crate::common::json::scalar_text;

/// A scenario: what to put in the database.
#[derive(Debug, Clone, Default)]
pub struct DeltekScenario {
    /// Replaces the API Authorization.
    pub auth: Option<ApiAuthorization>,
    /// Users (upserted by name).
    pub users: Vec<User>,
    /// Partial switch object.
    pub switches: Option<Value>,
    /// Companies.
    pub companies: Vec<Company>,
    /// Active company.
    pub active_company: Option<String>,
    /// Firms (upserted by `ClientID`).
    pub firms: Vec<Firm>,
    /// Projects, phases, tasks (parents before children).
    pub projects: Vec<Project>,
    /// Accounts (upserted by code).
    pub accounts: Vec<Account>,
    /// Periods (upserted).
    pub periods: Vec<Period>,
    /// Active period.
    pub active_period: Option<i64>,
    /// AP/AR control accounts a JE may not hit.
    pub control_accounts: Vec<String>,
    /// AP files and whether they are posted.
    pub ap_files: Vec<(ApFile, bool)>,
    /// JE files and whether they are posted.
    pub je_files: Vec<(JeFile, bool)>,
    /// Posted client invoices (upserted by number).
    pub ar_invoices: Vec<ArInvoice>,
    /// Workflow webhooks by name.
    pub workflow_webhooks: BTreeMap<String, WebhookTarget>,
}

fn err_at(list: &str, i: usize, e: impl std::fmt::Display) -> String {
    format!("{list}[{i}]: {e}")
}

fn objects(v: Option<&Value>, list: &str) -> Result<Vec<Map<String, Value>>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| x.as_object().cloned().ok_or_else(|| err_at(list, i, "not an object")))
            .collect(),
        Some(_) => Err(format!("{list}: expected an array")),
    }
}

fn rows<T: Default + serde::Serialize + serde::de::DeserializeOwned>(
    v: Option<&Value>,
    list: &str,
) -> Result<Vec<T>, String> {
    objects(v, list)?
        .into_iter()
        .enumerate()
        .map(|(i, m)| patch(&T::default(), &m).map_err(|e| err_at(list, i, e)))
        .collect()
}

fn flag(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        other => scalar_text(other).trim().eq_ignore_ascii_case("Y") || scalar_text(other).eq_ignore_ascii_case("true"),
    }
}

impl DeltekScenario {
    /// An empty scenario.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read the JSON form (see the module docs).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let Value::Object(top) = v else { return Err("scenario must be a JSON object".into()) };
        const KNOWN: [&str; 15] = [
            "auth",
            "users",
            "switches",
            "companies",
            "active_company",
            "firms",
            "projects",
            "accounts",
            "periods",
            "active_period",
            "control_accounts",
            "ap_files",
            "je_files",
            "ar_invoices",
            "workflow_webhooks",
        ];
        if let Some(k) = top.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!("unknown scenario key '{k}' (known: {})", KNOWN.join(", ")));
        }
        let mut s = DeltekScenario::new();
        if let Some(a) = top.get("auth") {
            s.auth = Some(serde_json::from_value(a.clone()).map_err(|e| format!("auth: {e}"))?);
        }
        if let Some(u) = top.get("users") {
            s.users = serde_json::from_value(u.clone()).map_err(|e| format!("users: {e}"))?;
        }
        s.switches = top.get("switches").cloned();
        s.companies = rows(top.get("companies"), "companies")?;
        s.active_company = top.get("active_company").map(scalar_text);
        for (i, mut m) in objects(top.get("firms"), "firms")?.into_iter().enumerate() {
            let approved = take_ci(&mut m, "ApprovedForProcessing");
            let addresses = take_ci(&mut m, "address");
            let mut f = patch(&Firm::default(), &m).map_err(|e| err_at("firms", i, e))?;
            if let Some(a) = approved {
                f.approved_for_processing = flag(&a);
            }
            f.addresses = rows(addresses.as_ref(), &format!("firms[{i}].address"))?;
            s.firms.push(f);
        }
        s.projects = rows(top.get("projects"), "projects")?;
        s.accounts = rows(top.get("accounts"), "accounts")?;
        s.periods = rows(top.get("periods"), "periods")?;
        if let Some(p) = top.get("active_period") {
            s.active_period = scalar_text(p).trim().parse().ok();
        }
        if let Some(Value::Array(a)) = top.get("control_accounts") {
            s.control_accounts = a.iter().map(scalar_text).collect();
        }
        for (i, mut m) in objects(top.get("ap_files"), "ap_files")?.into_iter().enumerate() {
            let status = take_ci(&mut m, "ApprovalStatus").map(|v| scalar_text(&v));
            let posted = m.iter().find(|(k, _)| k.eq_ignore_ascii_case("Posted")).is_some_and(|(_, v)| flag(v));
            let mut f = parse_ap_file(&Value::Object(m)).map_err(|e| err_at("ap_files", i, e.message))?;
            f.control.posted = "N".into();
            f.approval_status = status.unwrap_or_default();
            s.ap_files.push((f, posted));
        }
        for (i, mut m) in objects(top.get("je_files"), "je_files")?.into_iter().enumerate() {
            let status = take_ci(&mut m, "ApprovalStatus").map(|v| scalar_text(&v));
            let posted = m.iter().find(|(k, _)| k.eq_ignore_ascii_case("Posted")).is_some_and(|(_, v)| flag(v));
            let mut f = parse_je(&Value::Object(m)).map_err(|e| err_at("je_files", i, e.message))?;
            f.control.posted = "N".into();
            f.approval_status = status.unwrap_or_default();
            s.je_files.push((f, posted));
        }
        s.ar_invoices = rows(top.get("ar_invoices"), "ar_invoices")?;
        if let Some(w) = top.get("workflow_webhooks") {
            s.workflow_webhooks = serde_json::from_value(w.clone()).map_err(|e| format!("workflow_webhooks: {e}"))?;
        }
        Ok(s)
    }

    /// The JSON form (what [`DeltekScenario::from_json`] reads).
    pub fn to_json(&self) -> Value {
        let firms: Vec<Value> = self
            .firms
            .iter()
            .map(|f| {
                let mut m = to_object(f);
                m.insert("ApprovedForProcessing".into(), json!(if f.approved_for_processing { "Y" } else { "N" }));
                m.insert(
                    "address".into(),
                    Value::Array(f.addresses.iter().map(|a| Value::Object(to_object(a))).collect()),
                );
                Value::Object(m)
            })
            .collect();
        let ap_file = |(f, posted): &(ApFile, bool)| {
            let mut m = to_object(&f.control);
            m.insert("Posted".into(), json!(if *posted { "Y" } else { "N" }));
            if !f.approval_status.is_empty() {
                m.insert("ApprovalStatus".into(), json!(f.approval_status));
            }
            m.insert("apMaster".into(), Value::Array(f.masters.iter().map(|x| Value::Object(to_object(x))).collect()));
            m.insert("apDetail".into(), Value::Array(f.details.iter().map(|x| Value::Object(to_object(x))).collect()));
            m.insert("apDetailTax".into(), Value::Array(f.taxes.iter().map(|x| Value::Object(to_object(x))).collect()));
            Value::Object(m)
        };
        let je_file = |(f, posted): &(JeFile, bool)| {
            let mut m = to_object(&f.control);
            m.insert("Posted".into(), json!(if *posted { "Y" } else { "N" }));
            m.insert("jeMaster".into(), Value::Array(f.masters.iter().map(|x| Value::Object(to_object(x))).collect()));
            m.insert("jeDetail".into(), Value::Array(f.details.iter().map(|x| Value::Object(to_object(x))).collect()));
            Value::Object(m)
        };
        let mut out = json!({
            "users": self.users,
            "companies": self.companies,
            "firms": firms,
            "projects": self.projects,
            "accounts": self.accounts,
            "periods": self.periods,
            "control_accounts": self.control_accounts,
            "ap_files": self.ap_files.iter().map(ap_file).collect::<Vec<_>>(),
            "je_files": self.je_files.iter().map(je_file).collect::<Vec<_>>(),
            "ar_invoices": self.ar_invoices,
            "workflow_webhooks": self.workflow_webhooks,
        });
        if let Value::Object(m) = &mut out {
            if let Some(a) = &self.auth {
                m.insert("auth".into(), json!(a));
            }
            if let Some(s) = &self.switches {
                m.insert("switches".into(), s.clone());
            }
            if let Some(c) = &self.active_company {
                m.insert("active_company".into(), json!(c));
            }
            if let Some(p) = self.active_period {
                m.insert("active_period".into(), json!(p));
            }
        }
        out
    }

    /// Merge into a state. `now` stamps records that need a date.
    pub fn apply(&self, st: &mut DeltekState, now: NaiveDateTime) -> Result<(), String> {
        if let Some(a) = &self.auth {
            st.auth = a.clone();
        }
        for u in &self.users {
            match st.users.iter_mut().find(|x| x.username.eq_ignore_ascii_case(&u.username)) {
                Some(x) => *x = u.clone(),
                None => st.users.push(u.clone()),
            }
        }
        if let Some(sw) = &self.switches {
            st.switches = super::merge_switches(&st.switches, sw)?;
        }
        for c in &self.companies {
            match st.companies.iter_mut().find(|x| x.company.eq_ignore_ascii_case(&c.company)) {
                Some(x) => *x = c.clone(),
                None => st.companies.push(c.clone()),
            }
        }
        if let Some(c) = &self.active_company {
            st.active_company = c.clone();
        }
        for (i, f) in self.firms.iter().enumerate() {
            match st
                .firms
                .iter()
                .position(|x| !f.client_id.is_empty() && x.client_id.eq_ignore_ascii_case(&f.client_id))
            {
                Some(p) => st.firms[p] = f.clone(),
                None => {
                    insert_firm(st, f.clone()).map_err(|e| err_at("firms", i, e.message))?;
                }
            }
        }
        for (i, p) in self.projects.iter().enumerate() {
            match st.projects.iter().position(|x| {
                x.wbs1.eq_ignore_ascii_case(&p.wbs1)
                    && x.wbs2.trim().eq_ignore_ascii_case(p.wbs2.trim())
                    && x.wbs3.trim().eq_ignore_ascii_case(p.wbs3.trim())
            }) {
                Some(pos) => {
                    let sub = st.projects[pos].sub_level.clone();
                    st.projects[pos] = Project { sub_level: sub, ..p.clone() };
                }
                None => {
                    insert_project(st, p.clone()).map_err(|e| err_at("projects", i, e.message))?;
                }
            }
        }
        for a in &self.accounts {
            match st.accounts.iter_mut().find(|x| x.account.eq_ignore_ascii_case(&a.account)) {
                Some(x) => *x = a.clone(),
                None => st.accounts.push(a.clone()),
            }
        }
        for p in &self.periods {
            let mut p = p.clone();
            if p.fmt_period.is_empty() {
                p.fmt_period = fmt_period(p.period);
            }
            match st.periods.iter_mut().find(|x| x.period == p.period) {
                Some(x) => *x = p,
                None => st.periods.push(p),
            }
        }
        st.periods.sort_by_key(|p| p.period);
        if let Some(p) = self.active_period {
            st.active_period = p;
        } else if st.active_period == 0 {
            st.active_period = st.periods.iter().rev().find(|p| !p.is_closed()).map(|p| p.period).unwrap_or(0);
        }
        for a in &self.control_accounts {
            if !st.control_accounts.iter().any(|x| x.eq_ignore_ascii_case(a)) {
                st.control_accounts.push(a.clone());
            }
        }
        let user = st.users.first().map(|u| u.username.clone()).unwrap_or_else(|| "ADMIN".into());
        for (i, (f, posted)) in self.ap_files.iter().enumerate() {
            seed_ap_file(st, f.clone(), *posted, &user, now).map_err(|e| err_at("ap_files", i, e))?;
        }
        for (i, (f, posted)) in self.je_files.iter().enumerate() {
            seed_je_file(st, f.clone(), *posted, &user, now).map_err(|e| err_at("je_files", i, e))?;
        }
        for inv in &self.ar_invoices {
            let mut inv = inv.clone();
            if inv.company.is_empty() {
                inv.company = st.active_company.clone();
            }
            if inv.period == 0 {
                inv.period =
                    inv.invoice_date.map(|d| d.year() as i64 * 100 + d.month() as i64).unwrap_or(st.active_period);
            }
            if inv.post_seq == 0 {
                inv.post_seq = st.next_post_seq(inv.period);
            }
            if inv.mod_date.is_none() {
                inv.mod_date = inv.invoice_date.or(Some(now));
            }
            match st.ar_invoices.iter_mut().find(|x| x.invoice.eq_ignore_ascii_case(&inv.invoice)) {
                Some(x) => *x = inv,
                None => st.ar_invoices.push(inv),
            }
        }
        for (k, v) in &self.workflow_webhooks {
            st.workflow_webhooks.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    // ------------------------------------------------------------ builders

    /// Add a user.
    pub fn user(mut self, username: &str, password: &str) -> Self {
        self.users.push(User {
            username: username.into(),
            password: password.into(),
            disabled: false,
            hide_amounts: false,
        });
        self
    }

    /// Add a firm.
    pub fn firm(mut self, f: Firm) -> Self {
        self.firms.push(f);
        self
    }

    /// Add a project, phase or task.
    pub fn project(mut self, p: Project) -> Self {
        self.projects.push(p);
        self
    }

    /// Add an account.
    pub fn account(mut self, a: Account) -> Self {
        self.accounts.push(a);
        self
    }

    /// Add a period.
    pub fn period(mut self, p: Period) -> Self {
        self.periods.push(p);
        self
    }

    /// Add monthly periods `from..=to` (inclusive `(year, month)`), closing those before
    /// `first_open`.
    pub fn months(mut self, from: (i32, u32), to: (i32, u32), first_open: (i32, u32)) -> Self {
        let (mut y, mut m) = from;
        while (y, m) <= to {
            self.periods.push(Period::month(y, m, (y, m) < first_open));
            (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        }
        self
    }

    /// Set the active period.
    pub fn active_period(mut self, p: i64) -> Self {
        self.active_period = Some(p);
        self
    }

    /// Mark AP/AR control accounts.
    pub fn control_account(mut self, a: &str) -> Self {
        self.control_accounts.push(a.into());
        self
    }

    /// Add an AP file (posted or not).
    pub fn ap_file(mut self, f: ApFile, posted: bool) -> Self {
        self.ap_files.push((f, posted));
        self
    }

    /// Add a JE file (posted or not).
    pub fn je_file(mut self, f: JeFile, posted: bool) -> Self {
        self.je_files.push((f, posted));
        self
    }

    /// Add a client invoice.
    pub fn ar_invoice(mut self, inv: ArInvoice) -> Self {
        self.ar_invoices.push(inv);
        self
    }

    /// Set switches (partial object).
    pub fn switches(mut self, v: Value) -> Self {
        self.switches = Some(v);
        self
    }
}

/// A stable 32-hex id derived from a name (FNV-1a), so demo firms keep their `ClientID`.
pub fn stable_key(name: &str) -> String {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for b in name.bytes() {
        h1 = (h1 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        h2 = (h2 ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
    }
    format!("{h1:016x}{h2:016x}")
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(y, m, d).map(|d| d.and_time(NaiveTime::MIN))
}

impl Firm {
    /// A vendor with a stable `ClientID`, `VendorInd` Y, active and approved.
    pub fn vendor(number: &str, name: &str) -> Firm {
        Firm {
            client_id: stable_key(&format!("firm:{number}")),
            client: number.into(),
            name: name.into(),
            vendor_ind: "Y".into(),
            vendor: number.into(),
            current_status: "Active".into(),
            ..Firm::default()
        }
    }

    /// A client with a stable `ClientID`.
    pub fn client(number: &str, name: &str) -> Firm {
        Firm {
            client_id: stable_key(&format!("firm:{number}")),
            client: number.into(),
            name: name.into(),
            client_ind: "Y".into(),
            current_status: "Active".into(),
            ..Firm::default()
        }
    }

    /// Set the primary address fields and add a `Primary` address row.
    pub fn located(mut self, addr1: &str, city: &str, state: &str, zip: &str) -> Firm {
        self.primary_address1 = addr1.into();
        self.primary_city = city.into();
        self.primary_state = state.into();
        self.primary_zip = zip.into();
        self.addresses.push(FirmAddress {
            cl_address_id: stable_key(&format!("addr:{}:Primary", self.client)),
            client_id: self.client_id.clone(),
            address: "Primary".into(),
            primary_ind: "Y".into(),
            billing: "Y".into(),
            accounting: "Y".into(),
            addressee: self.name.clone(),
            address1: addr1.into(),
            city: city.into(),
            state: state.into(),
            zip: zip.into(),
            ..FirmAddress::default()
        });
        self
    }

    /// Add a `Payment` (remit-to) address.
    pub fn remit_to(mut self, addressee: &str, addr1: &str, city: &str, state: &str, zip: &str) -> Firm {
        self.addresses.push(FirmAddress {
            cl_address_id: stable_key(&format!("addr:{}:Remit", self.client)),
            client_id: self.client_id.clone(),
            address: "Remit".into(),
            payment: "Y".into(),
            addressee: addressee.into(),
            address1: addr1.into(),
            city: city.into(),
            state: state.into(),
            zip: zip.into(),
            ..FirmAddress::default()
        });
        self
    }

    /// Also a vendor (client and vendor at once), or a client that once had a vendor number but
    /// is not flagged (`flagged` false).
    pub fn vendor_number(mut self, number: &str, flagged: bool) -> Firm {
        self.vendor = number.into();
        self.vendor_ind = if flagged { "Y".into() } else { "N".into() };
        self
    }

    /// Status `I`.
    pub fn inactive(mut self) -> Firm {
        self.status = "I".into();
        self.current_status = "Inactive".into();
        self
    }

    /// Not "Approved for Use in Processing".
    pub fn not_approved(mut self) -> Firm {
        self.approved_for_processing = false;
        self
    }

    /// Set the tax id.
    pub fn fed_id(mut self, id: &str) -> Firm {
        self.fed_id = id.into();
        self.type_of_tin = "EIN".into();
        self
    }
}

impl Project {
    fn top(wbs1: &str, name: &str, charge: &str) -> Project {
        Project {
            wbs1: wbs1.into(),
            name: name.into(),
            long_name: name.into(),
            charge_type: charge.into(),
            ..Project::default()
        }
    }

    /// A regular (billable) project for a client firm.
    pub fn regular(wbs1: &str, name: &str, client: &Firm) -> Project {
        Project {
            client_id: client.client_id.clone(),
            billing_client_id: client.client_id.clone(),
            ..Self::top(wbs1, name, "R")
        }
    }

    /// An overhead project.
    pub fn overhead(wbs1: &str, name: &str) -> Project {
        Self::top(wbs1, name, "H")
    }

    /// A promotional project.
    pub fn promotional(wbs1: &str, name: &str) -> Project {
        Self::top(wbs1, name, "P")
    }

    /// A phase.
    pub fn phase(wbs1: &str, wbs2: &str, name: &str) -> Project {
        Project {
            wbs1: wbs1.into(),
            wbs2: wbs2.into(),
            name: name.into(),
            long_name: name.into(),
            ..Project::default()
        }
    }

    /// A task.
    pub fn task(wbs1: &str, wbs2: &str, wbs3: &str, name: &str) -> Project {
        Project { wbs3: wbs3.into(), ..Self::phase(wbs1, wbs2, name) }
    }

    /// Set org, manager and dates.
    pub fn managed(mut self, org: &str, pm: &str, start: Option<NaiveDateTime>) -> Project {
        self.org = org.into();
        self.proj_mgr = pm.into();
        self.start_date = start;
        self
    }

    /// Status `I`.
    pub fn inactive(mut self) -> Project {
        self.status = "I".into();
        self
    }
}

impl Account {
    /// An active account of a type (4 revenue, 5/6 reimbursable, 7/8 direct, 9 indirect, ...).
    pub fn new(code: &str, name: &str, account_type: i64) -> Account {
        Account { account: code.into(), name: name.into(), account_type, ..Account::default() }
    }

    /// Status `I`.
    pub fn inactive(mut self) -> Account {
        self.status = "I".into();
        self
    }
}

impl Period {
    /// A calendar-month period `YYYYMM`.
    pub fn month(year: i32, month: u32, closed: bool) -> Period {
        let start = NaiveDate::from_ymd_opt(year, month, 1);
        let end = start.and_then(|s| s.checked_add_months(chrono::Months::new(1))).map(|n| n - Duration::days(1));
        Period {
            period: year as i64 * 100 + month as i64,
            fmt_period: fmt_period(year as i64 * 100 + month as i64),
            account_pd_start: start.map(|d| d.and_time(NaiveTime::MIN)),
            account_pd_end: end.map(|d| d.and_time(NaiveTime::MIN)),
            active_company_closed: if closed { "Y".into() } else { "N".into() },
        }
    }
}

/// One voucher line for [`ApFile::voucher`]: `(WBS1, WBS2, WBS3, Account, Amount, Description)`.
pub type Line<'a> = (&'a str, &'a str, &'a str, &'a str, Decimal, &'a str);

impl ApFile {
    /// An empty file.
    pub fn new(batch: &str, description: &str, period: i64) -> ApFile {
        ApFile {
            control: ApControl {
                batch: batch.into(),
                description: description.into(),
                period,
                default_liab: "AP".into(),
                ..ApControl::default()
            },
            ..ApFile::default()
        }
    }

    /// Add a voucher (vendor invoice) with lines; the control total grows with it.
    pub fn voucher(
        mut self,
        vendor: &str,
        invoice: &str,
        invoice_date: Option<NaiveDateTime>,
        lines: &[Line<'_>],
    ) -> ApFile {
        let mpk = stable_key(&format!("ap:{}:{vendor}:{invoice}", self.control.batch));
        self.masters.push(ApMaster {
            batch: self.control.batch.clone(),
            master_pkey: mpk.clone(),
            vendor: vendor.into(),
            invoice: invoice.into(),
            invoice_date,
            trans_date: invoice_date,
            pay_terms: "30".into(),
            ..ApMaster::default()
        });
        for (i, (w1, w2, w3, acct, amount, desc)) in lines.iter().enumerate() {
            self.details.push(ApDetail {
                batch: self.control.batch.clone(),
                master_pkey: mpk.clone(),
                pkey: stable_key(&format!("{mpk}:{i}")),
                seq: i as i64 + 1,
                description: (*desc).into(),
                wbs1: (*w1).into(),
                wbs2: (*w2).into(),
                wbs3: (*w3).into(),
                account: (*acct).into(),
                amount: *amount,
                net_amount: *amount,
                ..ApDetail::default()
            });
            self.control.total += *amount;
        }
        self
    }
}

impl JeFile {
    /// A file with one balanced entry of `(Account, WBS1, debit, credit, description)` lines.
    pub fn entry(
        batch: &str,
        ref_no: &str,
        date: Option<NaiveDateTime>,
        lines: &[(&str, &str, Decimal, Decimal, &str)],
    ) -> JeFile {
        let mut f = JeFile {
            control: JeControl {
                batch: batch.into(),
                description: format!("Journal entry {ref_no}"),
                ..JeControl::default()
            },
            masters: vec![JeMaster {
                batch: batch.into(),
                ref_no: ref_no.into(),
                trans_date: date,
                description: format!("Journal entry {ref_no}"),
                ..JeMaster::default()
            }],
            ..JeFile::default()
        };
        for (i, (acct, w1, dr, cr, desc)) in lines.iter().enumerate() {
            f.details.push(JeDetail {
                batch: batch.into(),
                ref_no: ref_no.into(),
                pkey: stable_key(&format!("je:{batch}:{i}")),
                seq: i as i64 + 1,
                description: (*desc).into(),
                wbs1: (*w1).into(),
                account: (*acct).into(),
                debit_amount: *dr,
                credit_amount: *cr,
                ..JeDetail::default()
            });
            f.control.total += *dr;
            f.control.credits_total += *cr;
        }
        f
    }
}

impl ArInvoice {
    /// A posted invoice on a project, dated `date`, fully open until [`ArInvoice::paid`].
    pub fn new(invoice: &str, wbs1: &str, date: Option<NaiveDateTime>) -> ArInvoice {
        ArInvoice {
            invoice: invoice.into(),
            wbs1: wbs1.into(),
            invoice_date: date,
            due_date: date.map(|d| d + Duration::days(30)),
            mod_date: date,
            ..ArInvoice::default()
        }
    }

    /// Add a line (`section`: `F` fee, `L` labor, `E` expense, `C` consultant).
    pub fn line(mut self, wbs2: &str, account: &str, amount: Decimal, section: &str, description: &str) -> ArInvoice {
        self.lines.push(ArLine {
            wbs2: wbs2.into(),
            account: account.into(),
            amount,
            invoice_section: section.into(),
            description: description.into(),
            ..ArLine::default()
        });
        self
    }

    /// Record a payment: the balance drops by `amount` and `ModDate` moves to `when`.
    pub fn paid(mut self, amount: Decimal, when: Option<NaiveDateTime>) -> ArInvoice {
        let total = self.total();
        self.balance = Some(self.balance.unwrap_or(total) - amount);
        if when.is_some() {
            self.mod_date = when;
        }
        self
    }
}

/// Demo login, API Authorization and tenant.
pub mod demo {
    /// Tenant (the second path segment of the cloud URL).
    pub const TENANT: &str = "HarborPine";
    /// API user.
    pub const USERNAME: &str = "MLCAPI";
    /// Its password.
    pub const PASSWORD: &str = "demo-Passw0rd!";
    /// Database name, cloud style.
    pub const DATABASE: &str = "C000004172P_1_HARBORPINE";
    /// Client ID.
    pub const CLIENT_ID: &str = "8e3b6c1d4a2f4e9b9c7d5a1f3e2b6c4d";
    /// Client secret.
    pub const CLIENT_SECRET: &str = "SimSecret-2Qf7Lx9Rk4Vw8Nz3Jp6T";
}

/// The demo API Authorization and users: `MLCAPI` (full rights), `VIEWER` (money hidden),
/// `FORMER` (login disabled).
pub fn demo_login() -> (ApiAuthorization, Vec<User>) {
    (
        ApiAuthorization {
            client_id: demo::CLIENT_ID.into(),
            client_secret: demo::CLIENT_SECRET.into(),
            database: demo::DATABASE.into(),
        },
        vec![
            User {
                username: demo::USERNAME.into(),
                password: demo::PASSWORD.into(),
                disabled: false,
                hide_amounts: false,
            },
            User { username: "VIEWER".into(), password: demo::PASSWORD.into(), disabled: false, hide_amounts: true },
            User { username: "FORMER".into(), password: demo::PASSWORD.into(), disabled: true, hide_amounts: false },
        ],
    )
}

/// `(WBS2, name, [(WBS3, name)])`.
type PhaseSpec<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);
/// `(WBS1, name, client number, org, phases)`.
type ProjectSpec<'a> = (&'a str, &'a str, &'a str, &'a str, Vec<PhaseSpec<'a>>);

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// The demo database of Harbor & Pine Engineering, a 120-person civil/structural consultancy,
/// dated around `today`: 33 firms (26 usable vendors, one inactive, one not approved, one
/// client-only firm with a vendor number, 8 clients), 8 regular projects with phases and tasks,
/// an overhead and a promotional project, a chart of accounts with direct, reimbursable and
/// indirect expense accounts (one inactive), monthly periods from January last year to December
/// this year (closed up to two months ago; last month and this month open; this month active),
/// posted history vouchers, one voucher keyed by hand and not posted, a posted JE, and 8 client
/// invoices with varied balances and modification dates.
pub fn demo_scenario(today: NaiveDate) -> DeltekScenario {
    let (y, m) = (today.year(), today.month());
    let prev = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let prev2 = if prev.1 == 1 { (prev.0 - 1, 12) } else { (prev.0, prev.1 - 1) };
    let per = |(y, m): (i32, u32)| y as i64 * 100 + m as i64;
    let day = |(y, m): (i32, u32), d: u32| date(y, m, d.min(28));
    let ago = |n: i64| {
        Some((today - Duration::days(n)).and_time(NaiveTime::from_hms_opt(9, 30, 0).unwrap_or(NaiveTime::MIN)))
    };

    let (auth, users) = demo_login();
    let mut s = DeltekScenario { auth: Some(auth), users, ..DeltekScenario::new() };
    s.companies.push(Company { company: "A0".into(), name: "Harbor & Pine Engineering, Inc.".into() });
    s.active_company = Some("A0".into());

    // Clients.
    let clients = [
        Firm::client("CITYPH", "City of Port Harbor").located("100 Civic Center Plaza", "Port Harbor", "WA", "98001"),
        Firm::client("HCDOT", "Harbor County Department of Transportation").located(
            "2200 County Road 5",
            "Port Harbor",
            "WA",
            "98002",
        ),
        Firm::client("STDOT", "State Department of Transportation").located(
            "310 Maple Park Ave SE",
            "Olympia",
            "WA",
            "98504",
        ),
        Firm::client("RIVERDEV", "Riverside Development Corp.")
            .located("45 Riverfront Way, Suite 300", "Tacoma", "WA", "98402")
            .vendor_number("RIVERDEV", false),
        Firm::client("EVERGU", "Evergreen University").located("1 University Drive", "Bellingham", "WA", "98225"),
        Firm::client("PHWD", "Port Harbor Water District").located("88 Reservoir Lane", "Port Harbor", "WA", "98003"),
        Firm::client("LAKEMED", "Lakeside Medical Center").located("700 Lakeshore Blvd", "Kirkland", "WA", "98033"),
        Firm::client("WESTSD", "Westfield School District").located("19 School Street", "Westfield", "WA", "98290"),
    ];
    // Vendors: subconsultants, reprographics, labs, software, landlord, utilities, travel...
    let vendors = [
        Firm::vendor("CASCSURV", "Cascade Land Surveying LLC")
            .located("412 Summit Ave", "Everett", "WA", "98201")
            .remit_to("Cascade Land Surveying LLC", "PO Box 3381", "Everett", "WA", "98213")
            .fed_id("91-3344556"),
        Firm::vendor("GRANGEO", "Granite Geotechnical, Inc.")
            .located("5901 Industry Dr", "Tacoma", "WA", "98424")
            .fed_id("91-2211334"),
        Firm::vendor("STEELSTR", "Steelhead Structural Engineers").located(
            "1200 Westlake Ave N",
            "Seattle",
            "WA",
            "98109",
        ),
        Firm::vendor("BLUEPRNT", "Blueprint Reprographics").located("77 Pike St", "Seattle", "WA", "98101"),
        Firm::vendor("PACTEST", "Pacific Testing Laboratories")
            .located("3300 Harbor Ave SW", "Seattle", "WA", "98126")
            .remit_to("Pacific Testing Laboratories", "Lockbox 77120", "Portland", "OR", "97292"),
        Firm::vendor("NWOFFICE", "Northwest Office Supply Co.").located("910 Commerce St", "Tacoma", "WA", "98402"),
        Firm::vendor("CADWORKS", "CADWorks Software, Inc.").located("500 Innovation Pkwy", "San Jose", "CA", "95134"),
        Firm::vendor("SUMMITIT", "Summit IT Services").located("1420 5th Ave", "Seattle", "WA", "98101"),
        Firm::vendor("HARBPROP", "Harbor Properties LLC")
            .located("1 Harbor Square", "Port Harbor", "WA", "98001")
            .remit_to("Harbor Properties LLC - Rent", "PO Box 1180", "Port Harbor", "WA", "98001"),
        Firm::vendor("CITYPWR", "Port Harbor City Power & Light").located("55 Grid Way", "Port Harbor", "WA", "98001"),
        Firm::vendor("METROTEL", "MetroTel Communications").located("808 Fiber Ln", "Bellevue", "WA", "98004"),
        Firm::vendor("ALPINS", "Alpine Professional Insurance Co.").located(
            "2 Alpine Plaza",
            "Hartford",
            "CT",
            "06103",
        ),
        Firm::vendor("REEDLAW", "Reed & Marsh LLP").located("1000 2nd Ave, Floor 30", "Seattle", "WA", "98104"),
        Firm::vendor("KLINECPA", "Kline & Associates CPAs").located("230 Market St", "Kirkland", "WA", "98033"),
        Firm::vendor("SKYAIR", "Skyline Airways").located("17801 Airport Way", "SeaTac", "WA", "98158"),
        Firm::vendor("BAYHOTEL", "Bayview Hotel Group").located("1 Bayview Dr", "Olympia", "WA", "98501"),
        Firm::vendor("RAPIDCAR", "Rapid Car Rental").located("17600 Intl Blvd", "SeaTac", "WA", "98188"),
        Firm::vendor("FIELDGR", "FieldGear Outfitters").located("42 Trailhead Rd", "Issaquah", "WA", "98027"),
        Firm::vendor("DRONEVU", "DroneView Aerial Imaging").located("9 Hangar Row", "Arlington", "WA", "98223"),
        Firm::vendor("TRAFCNT", "TrafficCount Data Services").located("300 Junction St", "Spokane", "WA", "99201"),
        Firm::vendor("ENVIROLB", "EnviroLab Analytical").located("1550 Lab Ct", "Redmond", "WA", "98052"),
        Firm::vendor("COASTENV", "Coastal Environmental Consultants").located("60 Tideway", "Anacortes", "WA", "98221"),
        Firm::vendor("PRINTPRO", "PrintPro Large Format").located("2020 Press Ave", "Tacoma", "WA", "98409"),
        Firm::vendor("TECHRENT", "TechRent Equipment Rental").located("880 Rental Row", "Kent", "WA", "98032"),
        Firm::vendor("FLEETFL", "FleetFuel Card Services").located("PO Box 6600", "Dallas", "TX", "75266"),
        Firm::vendor("MAPDATA", "MapData GIS Licensing").located("12 Contour Way", "Redlands", "CA", "92373"),
        Firm::vendor("OLDVEND", "Old Copier Leasing Co.").located("3 Legacy Rd", "Renton", "WA", "98057").inactive(),
        Firm::vendor("NEWVEND", "Newbridge Staffing LLC")
            .located("71 Startup Blvd", "Seattle", "WA", "98121")
            .not_approved(),
    ];
    for f in clients.iter().chain(vendors.iter()) {
        s.firms.push(f.clone());
    }
    let cl = |n: &str| clients.iter().find(|c| c.client == n).cloned().unwrap_or_default();

    // Chart of accounts.
    for (code, name, ty) in [
        ("10100", "Cash - Operating", 1),
        ("10200", "Cash - Payroll", 1),
        ("11100", "Accounts Receivable", 1),
        ("12000", "Unbilled Services", 1),
        ("15000", "Computer Equipment", 1),
        ("20100", "Accounts Payable - Trade", 2),
        ("20200", "Accrued Payroll", 2),
        ("20300", "Accrued Liabilities", 2),
        ("21000", "Sales Tax Payable", 2),
        ("30100", "Retained Earnings", 3),
        ("40100", "Fee Revenue", 4),
        ("40200", "Reimbursable Expense Revenue", 4),
        ("40300", "Consultant Revenue", 4),
        ("51100", "Reimb. Travel", 5),
        ("51200", "Reimb. Printing & Reproduction", 5),
        ("51300", "Reimb. Lab Testing", 5),
        ("51400", "Reimb. Mileage", 5),
        ("51500", "Reimb. Field Supplies", 5),
        ("52100", "Reimb. Consultants - Structural", 6),
        ("52200", "Reimb. Consultants - Geotechnical", 6),
        ("52300", "Reimb. Consultants - Survey", 6),
        ("55100", "Direct Travel - Non-Reimb.", 7),
        ("55200", "Direct Printing - Non-Reimb.", 7),
        ("55300", "Direct Field Supplies", 7),
        ("56100", "Direct Consultants - Non-Reimb.", 8),
        ("60100", "Rent", 9),
        ("60200", "Utilities", 9),
        ("60300", "Office Supplies", 9),
        ("60400", "Software Subscriptions", 9),
        ("60500", "Computer Equipment < $2,500", 9),
        ("60600", "Telephone & Internet", 9),
        ("60700", "Professional Liability Insurance", 9),
        ("60800", "Legal & Accounting", 9),
        ("60900", "Training & Conferences", 9),
        ("61000", "Marketing & Proposals", 9),
        ("61100", "Vehicle Expense", 9),
        ("61200", "Recruiting", 9),
        ("61300", "Equipment Rental", 9),
        ("80100", "Interest Expense", 10),
    ] {
        s.accounts.push(Account::new(code, name, ty));
    }
    s.accounts.push(Account::new("69900", "Miscellaneous Expense (retired)", 9).inactive());
    s.control_accounts = vec!["20100".into(), "11100".into()];

    // Projects.
    let start = |y: i32, m: u32| date(y, m, 1);
    let regular: Vec<ProjectSpec<'_>> = vec![
        (
            "2023014.00",
            "Harbor Bridge Rehabilitation",
            "HCDOT",
            "STR",
            vec![
                ("01", "Preliminary Design", vec![]),
                ("02", "Final Design", vec![("001", "Structural"), ("002", "Roadway & Drainage")]),
                ("03", "Construction Support", vec![]),
            ],
        ),
        (
            "2024003.00",
            "Port Harbor Water Main Replacement",
            "PHWD",
            "CIV",
            vec![("01", "Survey & Mapping", vec![]), ("02", "Design", vec![]), ("03", "Bidding Assistance", vec![])],
        ),
        (
            "2024011.00",
            "Evergreen University Science Hall",
            "EVERGU",
            "STR",
            vec![
                ("01", "Schematic Design", vec![]),
                ("02", "Design Development", vec![]),
                ("03", "Construction Documents", vec![("001", "Foundations"), ("002", "Superstructure")]),
            ],
        ),
        (
            "2024017.00",
            "Riverside Mixed-Use Site Civil",
            "RIVERDEV",
            "CIV",
            vec![("01", "Entitlements", vec![]), ("02", "Site Civil Design", vec![])],
        ),
        ("2024022.00", "Route 9 Corridor Study", "STDOT", "TRN", vec![]),
        (
            "2025002.00",
            "Lakeside Medical Parking Structure",
            "LAKEMED",
            "STR",
            vec![("01", "Design", vec![]), ("02", "Permitting", vec![])],
        ),
        (
            "2025005.00",
            "Westfield Schools Stormwater Upgrades",
            "WESTSD",
            "CIV",
            vec![("01", "Assessment", vec![]), ("02", "Design", vec![])],
        ),
    ];
    for (w1, name, client, org, phases) in &regular {
        s.projects.push(Project::regular(w1, name, &cl(client)).managed(org, "E00123", start(y - 1, 3)));
        for (w2, pname, tasks) in phases {
            s.projects.push(Project::phase(w1, w2, pname));
            for (w3, tname) in tasks {
                s.projects.push(Project::task(w1, w2, w3, tname));
            }
        }
    }
    s.projects.push(
        Project::regular("2022031.00", "Downtown Streetscape", &cl("CITYPH"))
            .managed("CIV", "E00088", start(y - 3, 5))
            .inactive(),
    );
    s.projects.push(Project::overhead("OH-0001.00", "General Overhead").managed("ADM", "E00001", start(y - 5, 1)));
    for (w2, n) in [("ADM", "Administration"), ("IT", "Information Technology"), ("FAC", "Facilities")] {
        s.projects.push(Project::phase("OH-0001.00", w2, n));
    }
    s.projects.push(Project::promotional("PR-0001.00", "Marketing & Business Development").managed(
        "MKT",
        "E00007",
        start(y - 5, 1),
    ));

    // Periods: January last year .. December this year; closed before last month.
    s = s.months((y - 1, 1), (y, 12), prev);
    s.active_period = Some(per((y, m)));

    // History: a posted file two months ago, a posted file last month, one keyed-by-hand voucher
    // not posted yet, a posted accrual JE.
    let hist = ApFile::new(&format!("HIST{}", per(prev2)), &format!("Vouchers {}", fmt_period(per(prev2))), per(prev2))
        .voucher(
            "HARBPROP",
            &format!("RENT-{}", per(prev2)),
            day(prev2, 1),
            &[("OH-0001.00", "FAC", "", "60100", d("18500.00"), "Office rent")],
        )
        .voucher(
            "CASCSURV",
            "CLS-20817",
            day(prev2, 9),
            &[("2024003.00", "01", "", "52300", d("7420.00"), "Topographic survey, Reach 2")],
        )
        .voucher(
            "BLUEPRNT",
            "BP-55120",
            day(prev2, 14),
            &[
                ("2023014.00", "02", "001", "51200", d("312.45"), "Plan set prints"),
                ("2024011.00", "03", "001", "51200", d("188.10"), "Half-size sets"),
            ],
        );
    let last = ApFile::new(&format!("HIST{}", per(prev)), &format!("Vouchers {}", fmt_period(per(prev))), per(prev))
        .voucher(
            "HARBPROP",
            &format!("RENT-{}", per(prev)),
            day(prev, 1),
            &[("OH-0001.00", "FAC", "", "60100", d("18500.00"), "Office rent")],
        )
        .voucher(
            "GRANGEO",
            "GG-2291",
            day(prev, 6),
            &[("2024017.00", "02", "", "52200", d("12850.00"), "Geotechnical borings B-1 to B-6")],
        )
        .voucher(
            "CITYPWR",
            "CPL-88120-07",
            day(prev, 11),
            &[("OH-0001.00", "FAC", "", "60200", d("2214.37"), "Electric service")],
        )
        .voucher(
            "CADWORKS",
            "CW-INV-100455",
            day(prev, 15),
            &[("OH-0001.00", "IT", "", "60400", d("9600.00"), "CAD subscriptions, 40 seats")],
        );
    let keyed = ApFile::new(&format!("KEYED{}", per((y, m))), "Keyed by hand", 0).voucher(
        "METROTEL",
        &format!("MT-{}-4471", per((y, m))),
        ago(3),
        &[("OH-0001.00", "IT", "", "60600", d("1385.20"), "Internet and phones")],
    );
    s.ap_files.push((hist, true));
    s.ap_files.push((last, true));
    s.ap_files.push((keyed, false));
    s.je_files.push((
        JeFile::entry(
            &format!("JE{}", per(prev)),
            &format!("ACR{}", per(prev)),
            day(prev, 28),
            &[
                ("60700", "OH-0001.00", d("4100.00"), Decimal::ZERO, "Insurance accrual"),
                ("20300", "", Decimal::ZERO, d("4100.00"), "Insurance accrual"),
            ],
        ),
        true,
    ));
    if let Some((je, _)) = s.je_files.last_mut() {
        je.control.period = per(prev);
        if let Some(d) = je.details.first_mut() {
            d.wbs2 = "ADM".into();
        }
    }

    // Client invoices (posted billing), with balances and modification dates.
    let inv = |n: &str, w1: &str, days_ago: i64| ArInvoice::new(n, w1, ago(days_ago));
    s.ar_invoices = vec![
        inv("0024101", "2023014.00", 75)
            .line("01", "40100", d("48200.00"), "F", "Preliminary design - fee")
            .line("01", "40200", d("1210.55"), "E", "Reimbursable expenses")
            .paid(d("49410.55"), ago(40)),
        inv("0024102", "2024003.00", 70)
            .line("01", "40100", d("22750.00"), "F", "Survey & mapping")
            .line("01", "40300", d("8162.00"), "C", "Survey subconsultant")
            .paid(d("10000.00"), ago(20)),
        inv("0024103", "2024011.00", 45).line("02", "40100", d("96000.00"), "F", "Design development - 60%"),
        inv("0024104", "2024017.00", 40).line("02", "40100", d("31500.00"), "L", "Site civil labor").line(
            "02",
            "40300",
            d("14135.00"),
            "C",
            "Geotechnical subconsultant",
        ),
        inv("0024105", "2024022.00", 30).line("", "40100", d("18400.00"), "L", "Corridor study labor").line(
            "",
            "40200",
            d("642.18"),
            "E",
            "Traffic counts, mileage",
        ),
        inv("0024106", "2025002.00", 12).line("01", "40100", d("27300.00"), "F", "Design - fee"),
        inv("0024107", "2025005.00", 6).line("01", "40100", d("12800.00"), "L", "Assessment labor"),
        inv("0024108", "2023014.00", 2).line("02", "40100", d("64250.00"), "F", "Final design - fee").line(
            "02",
            "40200",
            d("500.55"),
            "E",
            "Printing",
        ),
    ];
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_scenario_round_trips_through_json_and_applies() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 16).unwrap_or_default();
        let s = demo_scenario(today);
        let j = s.to_json();
        let back = DeltekScenario::from_json(&j).expect("parses");
        assert_eq!(back.firms.len(), s.firms.len());
        assert!(back.firms.iter().any(|f| !f.approved_for_processing));
        let (auth, users) = demo_login();
        let mut st = DeltekState::empty(auth, users, Default::default());
        back.apply(&mut st, today.and_time(NaiveTime::MIN)).expect("applies");
        assert!(st.firms.len() >= 30);
        assert!(st.projects.iter().any(|p| p.sub_level == "Y"));
        assert_eq!(st.active_period, 202506);
        assert!(st.period(202504).is_some_and(|p| p.is_closed()));
        assert!(st.period(202505).is_some_and(|p| !p.is_closed()));
        assert!(st.ledger.iter().any(|r| r.trans_type == "AP" && r.sub_type == "L"));
        assert_eq!(st.ap_files.iter().filter(|f| f.control.posted != "Y").count(), 1);
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(DeltekScenario::from_json(&json!({"firmz": []})).is_err());
        let e = DeltekScenario::from_json(&json!({"firms": [{"Name": "X", "Colour": "red"}]})).expect_err("bad field");
        assert!(e.contains("Colour"), "{e}");
    }
}
