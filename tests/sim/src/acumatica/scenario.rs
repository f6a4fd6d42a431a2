//! Seeding the Acumatica simulator: the JSON scenario (also the snapshot format), and the
//! deterministic generator of the demo company, Harbor Wholesale Supply.
//!
//! JSON scenario (every key optional; `records` hold records in the API's own shape, as a GET
//! with everything expanded answers them; read-only values such as `Status`, `Amount` or
//! `LastModifiedDateTime` are taken as given, and what is missing is derived: line and
//! document totals, status from `Hold`, periods, due dates, numbers, stamps):
//!
//! ```json
//! {
//!   "tenant": {"name": "HarborWholesale", "company": "Harbor Wholesale Supply Co.", "base_currency": "USD", "build": "24.200.0023"},
//!   "switches": {"licence_max_sessions": 2},
//!   "users": [{"name": "mlc-api", "password": "…", "branch": "HWS", "rights": {"Bill": "edit", "Account": "read"}}],
//!   "connected_apps": [{"client_id": "…GUID…@HarborWholesale", "secret": "…", "name": "ml-connector"}],
//!   "branches": [{"BranchID": "HWS", "BranchName": "Head Office", "CompanyID": "HWS", "CompanyName": "Harbor Wholesale Supply Co."}],
//!   "warehouses": ["MAIN", "EAST"],
//!   "inventory": [{"InventoryID": "BOX-12", "Description": "Box", "UOM": "EA", "Stock": true, "ExpenseAccount": "12000", "LastCost": 1.2}],
//!   "vendor_classes": ["LOCAL"], "terms": [{"TermsID": "30D", "Days": 30}], "currencies": ["USD"],
//!   "closed_periods": ["032025"], "custom_endpoints": [{"name": "MLConnector", "version": "1.0.0"}],
//!   "records": {"Vendor": [{"VendorID": {"value": "V10001"}, "VendorName": {"value": "Acme"}}],
//!               "Bill": [...], "PurchaseOrder": [...], "Account": [...], "Subaccount": [...]},
//!   "push_destinations": [{"name": "mlc", "url": "http://127.0.0.1:9/webhooks/acumatica",
//!                          "header_name": "x-mlc-webhook-secret", "header_value": "…",
//!                          "queries": [{"name": "MLC-Vendors", "entity": "Vendor"}]}],
//!   "sequences": {"bill": 12, "po": 14, "gl_id": 40, "contact": 60}
//! }
//! ```
//!
//! A snapshot ([`snapshot`]) is this format with everything in it (plus internal values under
//! `_hidden` and the refresh tokens), so [`apply`] on a fresh tenant restores it. Access tokens,
//! sessions, long operations and licence counters are not kept: a restored simulator is a server
//! after a restart (clients sign in again; a stored refresh token still works).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::auth::RefreshToken;
use super::push::Destination;
use super::record::{self, Obj, ReadMode, Record, Row, Scalar, Values, View, new_guid};
use super::schema::{self, Entity};
use super::state::{AcuState, Branch, ConnectedApp, Item, Sequences, Tenant, Terms, User};
use super::switches::AcumaticaSwitches;
use crate::common::rng::SplitMix64;

/// The demo's seed.
pub const DEFAULT_SEED: u64 = 0xAC0_2025;

/// The demo tenant's fixed facts.
pub mod demo {
    /// Tenant login name (the client id's suffix).
    pub const TENANT: &str = "HarborWholesale";
    /// Company name.
    pub const COMPANY: &str = "Harbor Wholesale Supply Co.";
    /// The branch the API user works in.
    pub const BRANCH: &str = "HWS";
    /// API user.
    pub const USERNAME: &str = "mlc-api";
    /// Its password.
    pub const PASSWORD: &str = "Harbor-Api-Passw0rd!";
    /// The connected application's client id.
    pub const CLIENT_ID: &str = "6F3C2A1B-9D8E-4F70-A1B2-C3D4E5F60718@HarborWholesale";
    /// Its secret.
    pub const CLIENT_SECRET: &str = "mlc-demo-client-secret-Zk4q";
    /// The push-notification header value the demo configures.
    pub const PUSH_SECRET: &str = "acumatica-demo-push-secret-9Tw3";
    /// The push-notification header name.
    pub const PUSH_HEADER: &str = "x-mlc-webhook-secret";
    /// The vendor the demo edits on both sides between two polls.
    pub const BOTH_EDITED: &str = "V10007";
    /// The GI names the demo's push destination tracks.
    pub const QUERIES: [(&str, &str); 3] =
        [("MLC-Vendors", "Vendor"), ("MLC-Bills", "Bill"), ("MLC-PurchaseOrders", "PurchaseOrder")];

    /// A push destination for the demo (the `configure_push` action's argument).
    pub fn push_destination(url: &str) -> serde_json::Value {
        serde_json::json!({
            "name": "ml-connector", "url": url, "header_name": PUSH_HEADER, "header_value": PUSH_SECRET,
            "queries": QUERIES.iter().map(|(n, e)| serde_json::json!({"name": n, "entity": e})).collect::<Vec<_>>(),
        })
    }
}

/// A tenant with no configuration and no data.
pub fn fresh(switches: AcumaticaSwitches) -> AcuState {
    AcuState::empty(
        Tenant {
            name: demo::TENANT.into(),
            company: demo::COMPANY.into(),
            base_currency: "USD".into(),
            build: "24.200.0023".into(),
        },
        switches,
    )
}

fn list_of<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<Vec<T>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(x) => serde_json::from_value(x.clone()).map_err(|e| format!("{key}: {e}")),
    }
}

fn upsert<T: Clone>(into: &mut Vec<T>, items: Vec<T>, same: impl Fn(&T, &T) -> bool) {
    for it in items {
        match into.iter().position(|x| same(x, &it)) {
            Some(i) => into[i] = it,
            None => into.push(it),
        }
    }
}

const KNOWN: &[&str] = &[
    "tenant",
    "switches",
    "users",
    "connected_apps",
    "branches",
    "warehouses",
    "inventory",
    "vendor_classes",
    "terms",
    "currencies",
    "closed_periods",
    "custom_endpoints",
    "records",
    "push_destinations",
    "sequences",
    "refresh_tokens",
];

/// Merge a JSON scenario (or a snapshot) into the tenant.
pub fn apply(st: &mut AcuState, v: &Value, now: DateTime<Utc>) -> Result<(), String> {
    let Value::Object(m) = v else { return Err("a scenario must be a JSON object".into()) };
    if let Some(k) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(format!("unknown scenario key '{k}' (known: {})", KNOWN.join(", ")));
    }
    if let Some(t) = m.get("tenant") {
        let mut cur = serde_json::to_value(&st.tenant).map_err(|e| e.to_string())?;
        if let (Value::Object(c), Value::Object(p)) = (&mut cur, t) {
            for (k, x) in p {
                c.insert(k.clone(), x.clone());
            }
        }
        st.tenant = serde_json::from_value(cur).map_err(|e| format!("tenant: {e}"))?;
    }
    if let Some(s) = m.get("switches") {
        st.switches = st.switches.merged(s)?;
        st.push_rng = st.switches.push_duplicate_seed.max(1);
    }
    upsert(&mut st.users, list_of::<User>(v, "users")?, |a, b| a.name.eq_ignore_ascii_case(&b.name));
    upsert(&mut st.apps, list_of::<ConnectedApp>(v, "connected_apps")?, |a, b| {
        a.client_id.eq_ignore_ascii_case(&b.client_id)
    });
    upsert(&mut st.branches, list_of::<Branch>(v, "branches")?, |a, b| a.branch_id.eq_ignore_ascii_case(&b.branch_id));
    upsert(&mut st.warehouses, list_of::<String>(v, "warehouses")?, |a, b| a.eq_ignore_ascii_case(b));
    upsert(&mut st.inventory, list_of::<Item>(v, "inventory")?, |a, b| {
        a.inventory_id.eq_ignore_ascii_case(&b.inventory_id)
    });
    upsert(&mut st.vendor_classes, list_of::<String>(v, "vendor_classes")?, |a, b| a.eq_ignore_ascii_case(b));
    upsert(&mut st.terms, list_of::<Terms>(v, "terms")?, |a, b| a.id.eq_ignore_ascii_case(&b.id));
    upsert(&mut st.currencies, list_of::<String>(v, "currencies")?, |a, b| a.eq_ignore_ascii_case(b));
    upsert(&mut st.closed_periods, list_of::<String>(v, "closed_periods")?, |a, b| a == b);
    let custom: Vec<Value> = list_of(v, "custom_endpoints")?;
    for c in custom {
        let n = c.get("name").and_then(Value::as_str).ok_or("custom_endpoints: each needs a name")?;
        let ver = c.get("version").and_then(Value::as_str).ok_or("custom_endpoints: each needs a version")?;
        if !st.custom_endpoints.iter().any(|(a, b)| a == n && b == ver) {
            st.custom_endpoints.push((n.to_string(), ver.to_string()));
        }
    }
    upsert(&mut st.push, list_of::<Destination>(v, "push_destinations")?, |a, b| a.name.eq_ignore_ascii_case(&b.name));
    if let Some(Value::Object(recs)) = m.get("records") {
        // Masters first, so derived values of documents can read them.
        for name in ["Account", "Subaccount", "Vendor", "PurchaseOrder", "Bill"] {
            let Some((_, items)) = recs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)) else { continue };
            let e = schema::entity(name).ok_or("unknown entity")?;
            let Value::Array(items) = items else { return Err(format!("records.{name}: expected an array")) };
            for (i, item) in items.iter().enumerate() {
                seed_record(st, e, item, now).map_err(|x| format!("records.{name}[{i}]: {x}"))?;
            }
        }
        if let Some(k) = recs.keys().find(|k| {
            !["Account", "Subaccount", "Vendor", "PurchaseOrder", "Bill"].iter().any(|n| n.eq_ignore_ascii_case(k))
        }) {
            return Err(format!(
                "records: '{k}' is not a seedable entity (Account, Subaccount, Vendor, PurchaseOrder, Bill)"
            ));
        }
    }
    if let Some(s) = m.get("sequences") {
        let s: Sequences = serde_json::from_value(s.clone()).map_err(|e| format!("sequences: {e}"))?;
        st.seq.bill = st.seq.bill.max(s.bill);
        st.seq.po = st.seq.po.max(s.po);
        st.seq.gl_id = st.seq.gl_id.max(s.gl_id);
        st.seq.contact = st.seq.contact.max(s.contact);
    }
    if let Some(t) = m.get("refresh_tokens") {
        let t: BTreeMap<String, RefreshToken> =
            serde_json::from_value(t.clone()).map_err(|e| format!("refresh_tokens: {e}"))?;
        st.refresh_tokens.extend(t);
    }
    Ok(())
}

fn hidden(into: &mut std::collections::BTreeMap<String, Scalar>, v: Option<&Value>) {
    if let Some(Value::Object(h)) = v {
        for (k, x) in h {
            let s = match x {
                Value::Bool(b) => Scalar::Bool(*b),
                Value::Number(n) => Scalar::Dec(n.to_string().parse().unwrap_or_default()),
                other => Scalar::Str(crate::common::json::scalar_text(other)),
            };
            into.insert(k.clone(), s);
        }
    }
}

/// Insert or replace one record given in the API's shape, deriving what is missing.
pub fn seed_record(st: &mut AcuState, e: &'static Entity, v: &Value, now: DateTime<Utc>) -> Result<(), String> {
    let mode = ReadMode { version: 25_200, offset: st.offset(), seed: true, convert_offset_dates: false };
    let ch = record::read_body(e, v, &mode, true).map_err(|b| format!("{}: {}", b.key, b.message))?;
    if let Some((path, msg)) = ch.main.invalid.first() {
        return Err(format!("{path}: {msg}"));
    }
    let id = ch.main.id.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(new_guid);
    let mut rec = Record { main: Obj { id, ..Default::default() }, ..Default::default() };
    record::apply_obj(&mut rec.main, &ch.main);
    hidden(&mut rec.main.fields, v.get("_hidden"));
    for (d, rows) in &ch.details {
        let raw = v.get(d.name).and_then(Value::as_array);
        let out: Vec<Row> = rows
            .iter()
            .enumerate()
            .map(|(i, rc)| {
                let mut row = Row { id: rc.id.clone().unwrap_or_else(new_guid), ..Default::default() };
                for (f, x) in &rc.fields {
                    if let Some(x) = x {
                        row.fields.insert(f.name.to_string(), x.clone());
                    }
                }
                hidden(&mut row.fields, raw.and_then(|a| a.get(i)).and_then(|r| r.get("_hidden")));
                row
            })
            .collect();
        rec.details.insert(d.name.to_string(), out);
    }
    if let Some(n) = &ch.note {
        rec.note = n.clone();
    }
    derive(st, e, &mut rec, now);
    let keys: Vec<String> = e.keys.iter().map(|k| rec.s(k)).collect();
    let at = st.by_id(e, rec.id()).or_else(|| st.by_keys(e, &keys));
    match at {
        Some(i) => st.list_mut(e)[i] = rec,
        None => st.list_mut(e).push(rec),
    }
    st.sort(e);
    Ok(())
}

fn number_of(s: &str) -> u64 {
    s.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap_or(0)
}

/// Fill in what a hand-keyed record would have.
fn derive(st: &mut AcuState, e: &Entity, r: &mut Record, now: DateTime<Utc>) {
    let stamp = match r.time("LastModifiedDateTime") {
        Some(t) => {
            st.saw_stamp(t);
            t
        }
        None => {
            let t = st.stamp(now);
            r.set("LastModifiedDateTime", Scalar::Time(t));
            t
        }
    };
    if e.field("CreatedDateTime", 25_200).is_some() && r.time("CreatedDateTime").is_none() {
        r.set("CreatedDateTime", Scalar::Time(stamp));
    }
    let first_branch = st.branches.first().map(|b| b.branch_id.clone()).unwrap_or_default();
    let sub = super::gl::default_subaccount(st);
    match e.name {
        "Account" | "Subaccount" => {
            if r.b("Active").is_none() {
                r.set("Active", Scalar::Bool(true));
            }
            super::gl::number(st, e.name, r);
        }
        "Vendor" => {
            if !r.has("Status") {
                r.set_s("Status", "A");
            }
            if !r.has("CurrencyID") {
                r.set_s("CurrencyID", st.tenant.base_currency.clone());
            }
            let name = r.s("VendorName");
            let c = r
                .main
                .linked
                .entry("MainContact".into())
                .or_insert_with(|| Obj { id: new_guid(), ..Default::default() });
            if !c.has("DisplayName") {
                c.set_s("DisplayName", name);
            }
            if c.i("ContactID").is_none() {
                st.seq.contact += 1;
                c.set("ContactID", Scalar::Int(100 + st.seq.contact));
            }
        }
        "Bill" => {
            if !r.has("Type") {
                r.set_s("Type", "INV");
            }
            if !r.has("CurrencyID") {
                r.set_s("CurrencyID", st.tenant.base_currency.clone());
            }
            if !r.has("BranchID") {
                r.set_s("BranchID", first_branch.clone());
            }
            if !r.has("LocationID") {
                r.set_s("LocationID", "MAIN");
            }
            if let Some(d) = r.date("Date") {
                if !r.has("PostPeriod") {
                    r.set_s("PostPeriod", super::gl::period_of(d));
                }
                if !r.has("DueDate") {
                    let days = st.terms_days(&r.s("Terms")).unwrap_or(30);
                    r.set("DueDate", Scalar::Date(d + Duration::days(days)));
                }
            }
            for l in r.rows_mut("Details") {
                if l.has("POOrderNbr") {
                    l.set("_POLinked", Scalar::Bool(true));
                }
                if !l.has("Qty") {
                    l.set("Qty", Scalar::Dec(Decimal::ONE));
                }
                if !l.has("ExtendedCost") {
                    let x = (l.d("Qty") * l.d("UnitCost")).round_dp(2);
                    l.set("ExtendedCost", Scalar::Dec(x));
                }
                let x = l.d("ExtendedCost");
                l.set("Amount", Scalar::Dec(x));
                if !l.has("Subaccount") {
                    l.set_s("Subaccount", sub.clone());
                }
                if !l.has("Branch") {
                    l.set_s("Branch", first_branch.clone());
                }
            }
            if !r.has("Amount") {
                let t: Decimal = r.rows("Details").iter().map(|l| l.d("Amount")).sum();
                r.set("Amount", Scalar::Dec(t));
            }
            if !r.has("Status") {
                let s = if r.b("Hold").unwrap_or(false) { "H" } else { "B" };
                r.set_s("Status", s);
            }
            let hold = r.s("Status") == "H";
            r.set("Hold", Scalar::Bool(hold));
            if !r.has("Balance") {
                let b = if r.s("Status") == "C" { Decimal::ZERO } else { r.d("Amount") };
                r.set("Balance", Scalar::Dec(b));
            }
            r.set("TaxTotal", Scalar::Dec(Decimal::ZERO));
            if !r.has("ReferenceNbr") {
                super::bills::number(st, r);
            }
            st.seq.bill = st.seq.bill.max(number_of(&r.s("ReferenceNbr")));
        }
        "PurchaseOrder" => {
            if !r.has("Type") {
                r.set_s("Type", "RO");
            }
            if !r.has("CurrencyID") {
                r.set_s("CurrencyID", st.tenant.base_currency.clone());
            }
            r.set_s("BaseCurrencyID", st.tenant.base_currency.clone());
            if !r.has("Branch") {
                r.set_s("Branch", first_branch.clone());
            }
            if !r.has("OrderNbr") {
                st.seq.po += 1;
                let n = format!("PO{:06}", st.seq.po);
                r.set_s("OrderNbr", n);
            }
            st.seq.po = st.seq.po.max(number_of(&r.s("OrderNbr")));
            if !r.has("Status") {
                let s = if r.b("Hold").unwrap_or(false) { "H" } else { "N" };
                r.set_s("Status", s);
            }
            let hold = r.s("Status") == "H";
            r.set("Hold", Scalar::Bool(hold));
            let received = matches!(r.s("Status").as_str(), "M" | "C");
            let (kind, nbr) = (r.s("Type"), r.s("OrderNbr"));
            let mut n = 0;
            for l in r.rows_mut("Details") {
                n += 1;
                if l.i("LineNbr").is_none() {
                    l.set("LineNbr", Scalar::Int(n));
                }
                l.set_s("OrderType", kind.clone());
                l.set_s("OrderNbr", nbr.clone());
                if !l.has("LineType") {
                    l.set_s("LineType", "GI");
                }
                let ext = (l.d("OrderQty") * l.d("UnitCost")).round_dp(2);
                l.set("ExtendedCost", Scalar::Dec(ext));
                let q = l.d("OrderQty");
                l.set("OrderedQty", Scalar::Dec(q));
                if !l.has("Subaccount") {
                    l.set_s("Subaccount", sub.clone());
                }
                if !l.has("QtyOnReceipts") {
                    let (rq, ra) = if received { (q, ext) } else { (Decimal::ZERO, Decimal::ZERO) };
                    l.set("QtyOnReceipts", Scalar::Dec(rq));
                    l.set("ReceivedAmount", Scalar::Dec(ra));
                }
                for k in ["Completed", "Cancelled"] {
                    if l.b(k).is_none() {
                        l.set(k, Scalar::Bool(false));
                    }
                }
            }
            let t: Decimal = r.rows("Details").iter().map(|l| l.d("ExtendedCost")).sum();
            r.set("LineTotal", Scalar::Dec(t));
            r.set("OrderTotal", Scalar::Dec(t));
            r.set("TaxTotal", Scalar::Dec(Decimal::ZERO));
        }
        _ => {}
    }
}

fn all_expansions(e: &Entity) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = e.details.iter().map(|d| vec![d.name.to_string()]).collect();
    for l in e.linked {
        out.push(vec![l.name.to_string()]);
        for sub in l.linked {
            out.push(vec![l.name.to_string(), sub.name.to_string()]);
        }
    }
    out
}

fn hidden_json(fields: &std::collections::BTreeMap<String, Scalar>) -> Option<Value> {
    let m: Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| k.starts_with('_'))
        .map(|(k, v)| {
            let j = match v {
                Scalar::Dec(d) => record::num(*d),
                Scalar::Bool(b) => json!(b),
                Scalar::Int(i) => json!(i),
                other => json!(other.text()),
            };
            (k.clone(), j)
        })
        .collect();
    (!m.is_empty()).then_some(Value::Object(m))
}

/// A record in the seed/snapshot shape (everything expanded, internal values under `_hidden`).
pub fn record_json(st: &AcuState, e: &Entity, r: &Record) -> Value {
    let expand = all_expansions(e);
    let view = View {
        version: 25_200,
        offset: st.offset(),
        links_base: "",
        select: None,
        expand: &expand,
        errors: None,
        only: None,
    };
    let mut v = record::render(e, r, 1, &view);
    if let Value::Object(m) = &mut v {
        m.remove("_links");
        m.remove("rowNumber");
        if let Some(h) = hidden_json(&r.main.fields) {
            m.insert("_hidden".into(), h);
        }
        for d in e.details {
            if let Some(Value::Array(rows)) = m.get_mut(d.name) {
                for (row_json, row) in rows.iter_mut().zip(r.rows(d.name)) {
                    if let Value::Object(rm) = row_json {
                        rm.remove("_links");
                        rm.remove("rowNumber");
                        if let Some(h) = hidden_json(&row.fields) {
                            rm.insert("_hidden".into(), h);
                        }
                    }
                }
            }
        }
    }
    v
}

/// The whole tenant as a scenario that [`apply`] restores.
pub fn snapshot(st: &AcuState) -> Value {
    let mut records = Map::new();
    for e in schema::ENTITIES.iter().filter(|e| e.kind == schema::Kind::Top) {
        records.insert(e.name.to_string(), Value::Array(st.list(e).iter().map(|r| record_json(st, e, r)).collect()));
    }
    json!({
        "tenant": st.tenant,
        "switches": st.switches,
        "users": st.users,
        "connected_apps": st.apps,
        "branches": st.branches,
        "warehouses": st.warehouses,
        "inventory": st.inventory,
        "vendor_classes": st.vendor_classes,
        "terms": st.terms,
        "currencies": st.currencies,
        "closed_periods": st.closed_periods,
        "custom_endpoints": st.custom_endpoints.iter().map(|(n, v)| json!({"name": n, "version": v})).collect::<Vec<_>>(),
        "records": records,
        "push_destinations": st.push,
        "sequences": st.seq,
        "refresh_tokens": st.refresh_tokens.iter().collect::<BTreeMap<_, _>>(),
    })
}

// ---------------------------------------------------------------------------------------------
// The demo company

/// The instant the generated history ends (the Cin7 firm's anchor too): Friday 2025-06-13
/// 17:00 UTC.
pub fn anchor() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 13, 17, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Which side(s) a supplier of the demo exists on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Vendor in Acumatica and supplier in Cin7, sharing the code.
    Both,
    /// Only an Acumatica vendor.
    AcumaticaOnly,
    /// Only a Cin7 supplier.
    Cin7Only,
}

/// One supplier of the demo company.
#[derive(Debug, Clone, PartialEq)]
pub struct SupplierHint {
    /// The shared code (Acumatica `VendorID`; Cin7 `AdditionalAttribute1`).
    pub code: String,
    /// Name.
    pub name: String,
    /// Where it exists.
    pub side: Side,
    /// Vendor class.
    pub class: &'static str,
    /// Terms.
    pub terms: &'static str,
    /// Currency.
    pub currency: &'static str,
    /// Preferred warehouse.
    pub warehouse: &'static str,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// City, state, postal code.
    pub city: (&'static str, &'static str, &'static str),
    /// Street number of the main address (`<n> Commerce Way`, the same on both sides).
    pub street: i64,
}

const NAMES: &[&str] = &[
    "Atlantic Corrugated Box Co.",
    "Bayside Janitorial Supply",
    "Cascade Paper Products",
    "Delmar Industrial Fasteners",
    "Evergreen Packaging Films",
    "Foxboro Safety Gear",
    "Granite State Pallets",
    "Harbor Light Chemicals",
    "Ironwood Shelving Systems",
    "Juniper Foodservice Disposables",
    "Keystone Tape & Label",
    "Lakeshore Gloves Inc.",
    "Meridian Cleaning Chemicals",
    "Northgate Stretch Wrap",
    "Oakridge Hand Tools",
    "Pinecrest Trash Liners",
    "Quarry Road Abrasives",
    "Riverbend Paper Towels",
    "Summit Ladders & Carts",
    "Tidewater Freight Lines",
    "Union Mop & Broom",
    "Valley Forge Batteries",
    "Westbrook Lighting Supply",
    "Yardley Absorbents",
    "Zephyr Air Filters",
    "Allegheny Drum & Container",
    "Brightwater Soap Co.",
    "Coastal Cutlery Wholesale",
    "Dunmore Strapping",
    "Eastfield Floor Care",
    "Fairhaven Foam Products",
    "Greylock Workwear",
    "Hollis Hardware Distributors",
    "Indigo Ink & Toner",
    "Jasper Cup & Lid",
    "Kingsbridge Signage",
    "Lowell Logistics Services",
    "Millbrook Facility Services",
    "Newport IT Solutions",
    "Orchard Hill Accounting LLP",
    "Portside Forklift Repair",
    "Quincy Office Supply",
    "Redfield Pest Control",
];

const CITIES: &[(&str, &str, &str)] = &[
    ("Portland", "ME", "04101"),
    ("Providence", "RI", "02903"),
    ("Worcester", "MA", "01608"),
    ("Hartford", "CT", "06103"),
    ("Albany", "NY", "12207"),
    ("Newark", "NJ", "07102"),
    ("Allentown", "PA", "18101"),
    ("Baltimore", "MD", "21201"),
];

/// The demo's suppliers, deterministic for a seed: 40 Acumatica vendors and 40 Cin7 suppliers,
/// 37 shared, 3 on each side only.
pub fn supplier_hints(seed: u64) -> Vec<SupplierHint> {
    let mut rng = SplitMix64::new(seed ^ 0x5EED_A7C0_0000_0001);
    NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let code = format!("V{}", 10001 + i);
            let side = match i {
                37..=39 => Side::AcumaticaOnly,
                40..=42 => Side::Cin7Only,
                _ => Side::Both,
            };
            let class = match i % 7 {
                0 => "OVERSEAS",
                1 | 2 => "DEFAULT",
                _ => "LOCAL",
            };
            let currency = match (class, i % 2) {
                ("OVERSEAS", 0) => "CAD",
                _ => "USD",
            };
            let terms = match rng.range(0, 9) {
                0 => "NET15",
                1 | 2 => "60D",
                _ => "30D",
            };
            let slug: String = name
                .split_whitespace()
                .next()
                .unwrap_or("vendor")
                .to_lowercase()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            SupplierHint {
                code,
                name: name.to_string(),
                side,
                class,
                terms,
                currency,
                warehouse: if i % 3 == 0 { "EAST" } else { "MAIN" },
                email: format!("orders@{slug}.example"),
                phone: format!("+1 555 {:03} {:04}", rng.range(200, 989), rng.range(1000, 9999)),
                city: CITIES[usize::try_from(rng.range(0, CITIES.len() as i64 - 1)).unwrap_or(0)],
                street: rng.range(10, 980),
            }
        })
        .collect()
}

/// `(AccountCD, Description, Type, AccountClass, Active)` of the demo chart.
pub const CHART: &[(&str, &str, &str, &str, bool)] = &[
    ("10100", "Cash - Operating", "A", "CASH", true),
    ("10200", "Petty Cash", "A", "CASH", true),
    ("11000", "Accounts Receivable", "A", "AR", true),
    ("12000", "Inventory - Main DC", "A", "INVENTORY", true),
    ("12100", "Inventory - East DC", "A", "INVENTORY", true),
    ("15000", "Warehouse Equipment", "A", "FIXASSET", true),
    ("20000", "Accounts Payable", "L", "AP", true),
    ("20100", "PO Accrual", "L", "AP", true),
    ("21000", "Accrued Liabilities", "L", "CURLIAB", true),
    ("23000", "Sales Tax Payable", "L", "CURLIAB", true),
    ("30000", "Retained Earnings", "L", "EQUITY", true),
    ("40000", "Sales", "I", "SALES", true),
    ("49000", "Other Income", "I", "OTHINC", true),
    ("50000", "Cost of Goods Sold", "E", "COGS", true),
    ("51000", "Freight In", "E", "COGS", true),
    ("52000", "Purchase Price Variance", "E", "COGS", true),
    ("60000", "Warehouse Supplies", "E", "OPEXP", true),
    ("60100", "Packaging Materials", "E", "OPEXP", true),
    ("61000", "Repairs & Maintenance", "E", "OPEXP", true),
    ("62000", "Freight Out", "E", "OPEXP", true),
    ("63000", "Utilities", "E", "OPEXP", true),
    ("64000", "Rent", "E", "OPEXP", true),
    ("65000", "IT & Software", "E", "OPEXP", true),
    ("66000", "Professional Fees", "E", "OPEXP", true),
    ("67000", "Office Supplies", "E", "OPEXP", true),
    ("68000", "Vehicle & Forklift Expense", "E", "OPEXP", true),
    ("69000", "Bank Fees", "E", "OPEXP", true),
    ("69900", "Old Supplies (do not use)", "E", "OPEXP", false),
];

/// `(InventoryID, Description, UOM, stock, expense account, last cost)` of the demo items.
pub const ITEMS: &[(&str, &str, &str, bool, &str, &str)] = &[
    ("BOX-12X12", "Corrugated box 12x12x12 in", "EA", true, "12000", "0.86"),
    ("BOX-18X18", "Corrugated box 18x18x18 in", "EA", true, "12000", "1.42"),
    ("TAPE-48", "Packing tape 48 mm x 100 m", "RL", true, "12000", "2.15"),
    ("WRAP-18", "Stretch wrap 18 in x 1500 ft", "RL", true, "12000", "18.40"),
    ("LINER-33", "Trash liner 33 gal, case of 250", "CS", true, "12000", "24.90"),
    ("TOWEL-MF", "Multifold paper towels, case", "CS", true, "12000", "21.75"),
    ("GLOVE-NIT-L", "Nitrile gloves L, box of 100", "BX", true, "12000", "6.80"),
    ("GLOVE-NIT-M", "Nitrile gloves M, box of 100", "BX", true, "12000", "6.80"),
    ("CLEAN-AP-1G", "All-purpose cleaner 1 gal", "EA", true, "12000", "7.35"),
    ("SOAP-FOAM-1L", "Foam hand soap 1 L refill", "EA", true, "12000", "5.10"),
    ("MOP-WET-24", "Wet mop head 24 oz", "EA", true, "12000", "4.60"),
    ("BROOM-ANG", "Angle broom", "EA", true, "12000", "6.95"),
    ("CUP-16-PET", "PET cup 16 oz, case of 1000", "CS", true, "12000", "58.00"),
    ("LID-16-DOME", "Dome lid 16 oz, case of 1000", "CS", true, "12000", "31.50"),
    ("PALLET-48", "Wood pallet 48x40", "EA", true, "12000", "11.25"),
    ("STRAP-PP", "Polypropylene strapping coil", "RL", true, "12000", "39.00"),
    ("LABEL-4X6", "Thermal labels 4x6, roll of 250", "RL", true, "12000", "3.90"),
    ("FILTER-20", "Air filter 20x20x1 MERV 8", "EA", true, "12000", "4.25"),
    ("BATT-AA", "AA batteries, pack of 24", "PK", true, "12000", "9.80"),
    ("ABSORB-PAD", "Absorbent pads, bale of 100", "BL", true, "12000", "44.00"),
    ("FREIGHT", "Inbound freight", "EA", false, "51000", "0"),
    ("SERVICE-REPAIR", "Repair service", "HR", false, "61000", "85.00"),
    ("SUPPLIES-WH", "Warehouse consumables", "EA", false, "60000", "0"),
];

fn d(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

fn v<T: serde::Serialize>(x: T) -> Value {
    json!({ "value": x })
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The tenant's configuration and GL data only (no vendors or documents).
pub fn reference_data(seed: u64) -> Value {
    let mut rng = SplitMix64::new(seed ^ 0x5EED_0000_C0A5_0001);
    let anchor = anchor();
    let accounts: Vec<Value> = CHART
        .iter()
        .enumerate()
        .map(|(i, (cd, desc, ty, class, active))| {
            json!({"id": rng.guid(), "AccountCD": v(cd), "Description": v(desc), "Type": v(ty), "AccountClass": v(class),
                   "Active": v(active), "CashAccount": v(*class == "CASH"), "CurrencyID": v("USD"),
                   "ChartOfAccountsOrder": v(i + 1), "PostOption": v("Summary"),
                   "LastModifiedDateTime": v(stamp(anchor - Duration::days(400)))})
        })
        .collect();
    let subs: Vec<Value> = [("000000", "Default"), ("100000", "Main DC"), ("200000", "East DC")]
        .iter()
        .map(|(cd, desc)| {
            json!({"id": rng.guid(), "SubaccountCD": v(cd), "Description": v(desc), "Active": v(true),
                   "LastModifiedDateTime": v(stamp(anchor - Duration::days(400)))})
        })
        .collect();
    json!({
        "tenant": {"name": demo::TENANT, "company": demo::COMPANY, "base_currency": "USD", "build": "24.200.0023"},
        "users": [
            {"name": demo::USERNAME, "password": demo::PASSWORD, "branch": demo::BRANCH},
            {"name": "clerk", "password": "Clerk-Passw0rd!", "branch": demo::BRANCH},
        ],
        "connected_apps": [{"client_id": demo::CLIENT_ID, "secret": demo::CLIENT_SECRET, "name": "ml-connector"}],
        "branches": [
            {"BranchID": demo::BRANCH, "BranchName": "Harbor Wholesale - Head Office", "CompanyID": "HWS", "CompanyName": demo::COMPANY},
            {"BranchID": "HWSOLD", "BranchName": "Harbor Wholesale - Old Yard (closed)", "CompanyID": "HWS", "CompanyName": demo::COMPANY, "Active": false},
        ],
        "warehouses": ["MAIN", "EAST"],
        "inventory": ITEMS.iter().map(|(id, desc, uom, stock, acct, cost)| json!({
            "InventoryID": id, "Description": desc, "UOM": uom, "Stock": stock, "ExpenseAccount": acct, "LastCost": d(cost),
        })).collect::<Vec<_>>(),
        "vendor_classes": ["DEFAULT", "LOCAL", "OVERSEAS"],
        "terms": [{"TermsID": "30D", "Days": 30}, {"TermsID": "60D", "Days": 60}, {"TermsID": "NET15", "Days": 15}, {"TermsID": "COD", "Days": 0}],
        "currencies": ["USD", "CAD", "EUR"],
        "closed_periods": ["122024", "012025", "022025", "032025"],
        "records": {"Account": accounts, "Subaccount": subs},
    })
}

/// The demo company: Harbor Wholesale Supply, a distributor with two warehouses (MAIN, EAST),
/// 40 vendors (3 of them not in Cin7; one inactive, one on hold; [`demo::BOTH_EDITED`] recently
/// edited), purchase orders at every stage (on hold, open, completed, closed, canceled) and
/// bills at every stage (on hold, balanced, open, closed, a debit adjustment), some billed
/// against the POs. Deterministic for a seed.
pub fn distributor(seed: u64) -> Value {
    let mut base = reference_data(seed);
    let mut rng = SplitMix64::new(seed ^ 0x5EED_D157_0000_0002);
    let anchor = anchor();
    let hints = supplier_hints(seed);
    let vendors_acu: Vec<&SupplierHint> = hints.iter().filter(|h| h.side != Side::Cin7Only).collect();
    let mut vendors = Vec::new();
    for (i, h) in vendors_acu.iter().enumerate() {
        let status = match i {
            13 => "On Hold",
            38 => "Inactive",
            _ => "Active",
        };
        let edited = h.code == demo::BOTH_EDITED;
        let modified = if edited { anchor - Duration::hours(2) } else { anchor - Duration::days(rng.range(20, 300)) };
        let phone = if edited { "+1 555 700 0007".to_string() } else { h.phone.clone() };
        vendors.push(json!({
            "id": rng.guid(), "VendorID": v(&h.code), "VendorName": v(&h.name), "LegalName": v(&h.name), "Status": v(status),
            "VendorClass": v(h.class), "Terms": v(h.terms), "CurrencyID": v(h.currency), "APAccount": v("20000"),
            "APSubaccount": v("000000"), "PaymentMethod": v("CHECK"), "Warehouse": v(h.warehouse),
            "TaxRegistrationID": v(format!("{:02}-{:07}", rng.range(10, 99), rng.range(1_000_000, 9_999_999))),
            "F1099Vendor": v(false), "LocationName": v("Primary Location"),
            "MainContact": {"Email": v(&h.email), "Phone1": v(phone), "Address": {
                "AddressLine1": v(format!("{} Commerce Way", h.street)), "City": v(h.city.0),
                "State": v(h.city.1), "PostalCode": v(h.city.2), "Country": v("US")}},
            "CreatedDateTime": v(stamp(anchor - Duration::days(400))),
            "LastModifiedDateTime": v(stamp(modified)),
        }));
    }
    let stock: Vec<&(&str, &str, &str, bool, &str, &str)> = ITEMS.iter().filter(|x| x.3).collect();
    let day = |n: i64| (anchor - Duration::days(n)).date_naive();
    // (status, days ago, vendor index, lines)
    let po_plan: &[(&str, i64, usize, usize)] = &[
        ("On Hold", 2, 1, 2),
        ("On Hold", 5, 4, 3),
        ("Open", 3, 0, 3),
        ("Open", 6, 2, 2),
        ("Open", 9, 5, 4),
        ("Open", 12, 7, 2),
        ("Open", 15, 8, 1),
        ("Completed", 24, 3, 3),
        ("Completed", 28, 10, 2),
        ("Closed", 35, 6, 2),
        ("Closed", 41, 11, 3),
        ("Canceled", 20, 9, 1),
    ];
    let mut orders = Vec::new();
    // (order number, vendor, lines: (line nbr, item, qty, cost, description))
    type Billed = (String, String, Vec<(i64, String, Decimal, Decimal, String)>);
    let mut closed_pos: Vec<Billed> = Vec::new();
    for (k, (status, ago, vi, n)) in po_plan.iter().enumerate() {
        let h = vendors_acu[*vi];
        let nbr = format!("PO{:06}", k + 1);
        let mut lines = Vec::new();
        let mut billed_lines = Vec::new();
        for ln in 0..*n {
            let it = stock[usize::try_from(rng.range(0, stock.len() as i64 - 1)).unwrap_or(0)];
            let qty = Decimal::from(rng.range(2, 60) * 5);
            let cost = d(it.5);
            let done = matches!(*status, "Completed" | "Closed");
            let mut line = json!({"id": rng.guid(), "LineNbr": v(ln + 1), "LineType": v("Goods for IN"), "InventoryID": v(it.0),
                "LineDescription": v(it.1), "OrderQty": v(qty), "UOM": v(it.2), "UnitCost": v(cost), "Account": v("20100"),
                "WarehouseID": v(h.warehouse), "Completed": v(done), "Cancelled": v(*status == "Canceled")});
            if *status == "Closed"
                && let Value::Object(m) = &mut line
            {
                m.insert("_hidden".into(), json!({"_BilledQty": record::num(qty)}));
            }
            billed_lines.push((i64::try_from(ln + 1).unwrap_or(1), it.0.to_string(), qty, cost, it.1.to_string()));
            lines.push(line);
        }
        if *status == "Open" && k == 4 {
            // A non-stock line on an account: freight on the order.
            lines.push(json!({"id": rng.guid(), "LineNbr": v(n + 1), "LineType": v("Non-Stock"), "InventoryID": v("FREIGHT"),
                "LineDescription": v("Inbound freight"), "OrderQty": v(1), "UOM": v("EA"), "UnitCost": v(d("145.00")), "Account": v("51000")}));
        }
        let hold = *status == "On Hold";
        orders.push(json!({
            "id": rng.guid(), "Type": v("Normal"), "OrderNbr": v(&nbr), "Status": v(status), "Hold": v(hold),
            "Date": v(day(*ago).to_string()), "PromisedOn": v(day(ago - 10).to_string()),
            "Description": v(format!("Restock for {} DC", if h.warehouse == "EAST" { "East" } else { "Main" })),
            "VendorID": v(&h.code), "Location": v("MAIN"), "VendorRef": v(format!("SO-{}", rng.range(40_000, 89_999))),
            "Terms": v(h.terms), "Branch": v(demo::BRANCH), "CurrencyID": v(h.currency),
            "Details": lines,
            "LastModifiedDateTime": v(stamp(anchor - Duration::days(*ago) + Duration::hours(rng.range(1, 8)))),
        }));
        if *status == "Closed" {
            closed_pos.push((nbr, h.code.clone(), billed_lines));
        }
    }
    // Bills: (status, type, days ago, vendor index, po link)
    let bill_plan: &[(&str, &str, i64, usize, Option<usize>)] = &[
        ("On Hold", "Bill", 1, 12, None),
        ("On Hold", "Bill", 4, 14, None),
        ("Balanced", "Bill", 3, 15, None),
        ("Balanced", "Bill", 7, 16, None),
        ("Open", "Bill", 10, 17, None),
        ("Open", "Bill", 33, 6, Some(0)),
        ("Open", "Debit Adj.", 8, 18, None),
        ("Closed", "Bill", 40, 11, Some(1)),
        ("Closed", "Bill", 52, 19, None),
        ("Open", "Bill", 18, 20, None),
    ];
    let mut bills = Vec::new();
    for (k, (status, kind, ago, vi, link)) in bill_plan.iter().enumerate() {
        let h = vendors_acu[*vi];
        let mut lines = Vec::new();
        match link {
            Some(p) => {
                let (nbr, code, pl) = &closed_pos[*p];
                debug_assert_eq!(code, &h.code);
                for (ln, item, qty, cost, desc) in pl {
                    lines.push(json!({"id": rng.guid(), "InventoryID": v(item), "TransactionDescription": v(desc), "Qty": v(qty),
                        "UnitCost": v(cost), "Account": v("20100"), "Subaccount": v("000000"), "Branch": v(demo::BRANCH),
                        "POOrderType": v("Normal"), "POOrderNbr": v(nbr), "POLine": v(ln)}));
                }
            }
            None => {
                let (acct, desc) = [
                    ("60000", "Warehouse consumables"),
                    ("61000", "Dock door repair"),
                    ("62000", "Outbound freight"),
                    ("63000", "Electricity"),
                    ("65000", "WMS subscription"),
                    ("66000", "Quarterly review"),
                    ("67000", "Office supplies"),
                ][usize::try_from(rng.range(0, 6)).unwrap_or(0)];
                for _ in 0..rng.range(1, 3) {
                    lines.push(json!({"id": rng.guid(), "TransactionDescription": v(desc), "Qty": v(1),
                        "UnitCost": v(Decimal::new(rng.range(4_500, 240_000), 2)), "Account": v(acct), "Subaccount": v("000000"), "Branch": v(demo::BRANCH)}));
                }
            }
        }
        let date = day(*ago);
        bills.push(json!({
            "id": rng.guid(), "Type": v(kind), "ReferenceNbr": v(format!("{:06}", k + 1)), "Status": v(status),
            "Hold": v(*status == "On Hold"), "Date": v(date.to_string()), "Vendor": v(&h.code),
            "VendorRef": v(format!("{}-{}", if *kind == "Debit Adj." { "CM" } else { "INV" }, rng.range(10_000, 99_999))),
            "Description": v(format!("{} {}", h.name, if link.is_some() { "goods" } else { "services" })),
            "Terms": v(h.terms), "CurrencyID": v(h.currency), "BranchID": v(demo::BRANCH), "Details": lines,
            "ApprovedForPayment": v(matches!(*status, "Open" | "Closed")),
            "LastModifiedDateTime": v(stamp(anchor - Duration::days(*ago) + Duration::hours(rng.range(1, 8)))),
        }));
    }
    if let Some(Value::Object(recs)) = base.get_mut("records") {
        recs.insert("Vendor".into(), Value::Array(vendors));
        recs.insert("PurchaseOrder".into(), Value::Array(orders));
        recs.insert("Bill".into(), Value::Array(bills));
    }
    base
}
