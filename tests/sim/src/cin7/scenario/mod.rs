//! Seeding the Cin7 simulator: a [`Cin7Scenario`] built in Rust (builders below) or read from
//! JSON, and the realistic generator [`engineering_firm`].
//!
//! JSON scenario (every key optional; records use Cin7's own field names, matched
//! case-insensitively; purchases in the `GET advanced-purchase` shape, legacy single objects and
//! `InvocieNumber` accepted; derived fields such as `Status` or totals are recomputed):
//!
//! ```json
//! {
//!   "account_id": "…guid…", "applications": [{"key": "…guid…", "name": "Other integration"}],
//!   "base_currency": "USD", "switches": {"rate_limit_window_ms": 1000},
//!   "accounts": [{"Code": "800", "Name": "Accounts Payable", "Type": "CURRLIAB", "Class": "LIABILITY",
//!                 "SystemAccount": "Accounts payable", "SystemAccountCode": "CREDITORS"}],
//!   "payment_terms": [{"Name": "Net 30", "Days": 30, "IsActive": true}],
//!   "tax_rules": [{"Name": "Tax Exempt", "TaxPercent": 0}],
//!   "locations": ["Port Harbor HQ"],
//!   "suppliers": [{"ID": "…", "Name": "Acme", "Currency": "USD", "PaymentTerm": "Net 30", "AccountPayable": "800",
//!                  "TaxRule": "Tax Exempt", "LastModifiedOn": "2025-06-01T10:00:00Z", "Addresses": [], "Contacts": []}],
//!   "purchases": [{"ID": "…", "Type": "Advanced Purchase", "SupplierID": "…", "Approach": "INVOICE",
//!                  "Location": "Port Harbor HQ", "OrderNumber": "PO-00042", "LastUpdatedDate": "…",
//!                  "Order": {"Status": "AUTHORISED", "Lines": [...]},
//!                  "Invoice": [{"TaskID": "…", "InvoiceNumber": "A-1", "Status": "AUTHORISED", "Lines": [...]}]}],
//!   "webhooks": [{"Type": "Purchase/InvoiceAuthorised", "ExternalURL": "http://127.0.0.1:9/hook"}]
//! }
//! ```
//!
//! Seeded records are "keyed by hand": they skip the API's validation, but lines are priced
//! (line totals and tax from the tax rules) so every total the API reports adds up.

mod firm;
pub mod survey;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub use firm::{
    ACCOUNT_HINTS, DEFAULT_PURCHASES, DEFAULT_SEED, LOCATIONS, PROJECT_ATTRIBUTE, PROJECTS, SupplierHint, anchor,
    engineering_firm, engineering_firm_at, supplier_hints,
};

use super::model::{
    Account, Approach, Charge, CreditNoteTask, DocStatus, InvoiceTask, Line, Obj, Order, PaymentTerm, Purchase,
    PurchaseKind, StockLine, StockTask, Supplier, TaxCalculation, TaxRule, Webhook, new_id, price_line,
};
use super::reference::{account_from, apply_supplier};
use super::state::{Application, Cin7State};

/// The demo credentials.
pub mod demo {
    /// `api-auth-accountid`.
    pub const ACCOUNT_ID: &str = "4d1f6a2e-8c3b-4e57-9a61-2b7c9d0e5f13";
    /// `api-auth-applicationkey` of ml-connector's application.
    pub const APPLICATION_KEY: &str = "b7e4c1a2-93d5-4f60-8a1e-2c5d7f9b3e61";
    /// A second application on the same account ("another integration"), with its own budget.
    pub const OTHER_APPLICATION_KEY: &str = "0342a546-e0c2-4dff-a0be-6a5e17154033";
    /// The secret the demo puts in its webhooks' `ExternalHeaders` (the simulator never checks
    /// it; the receiving connector does).
    pub const WEBHOOK_SECRET: &str = "cin7-demo-webhook-secret-7Qx2";
    /// The header that carries it.
    pub const WEBHOOK_HEADER: &str = "x-mlc-webhook-secret";
}

/// What to put in the simulated account.
#[derive(Debug, Clone, Default)]
pub struct Cin7Scenario {
    /// Replaces the account id.
    pub account_id: Option<String>,
    /// Extra API applications (added to the state's).
    pub applications: Vec<Application>,
    /// Base currency.
    pub base_currency: Option<String>,
    /// Partial switch object.
    pub switches: Option<Value>,
    /// Chart of accounts (upserted by code).
    pub accounts: Vec<Account>,
    /// Payment terms (upserted by name).
    pub payment_terms: Vec<PaymentTerm>,
    /// Tax rules (upserted by name).
    pub tax_rules: Vec<TaxRule>,
    /// Locations.
    pub locations: Vec<String>,
    /// Suppliers (upserted by id).
    pub suppliers: Vec<Supplier>,
    /// Purchases built in Rust (upserted by id).
    pub purchases: Vec<Purchase>,
    /// Purchases in JSON, read after the suppliers are in.
    pub purchase_json: Vec<Value>,
    /// Webhooks (upserted by id).
    pub webhooks: Vec<Webhook>,
}

fn list<'a>(v: Option<&'a Value>, key: &str) -> Result<Vec<&'a serde_json::Map<String, Value>>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| x.as_object().ok_or_else(|| format!("{key}[{i}]: not an object")))
            .collect(),
        Some(_) => Err(format!("{key}: expected an array")),
    }
}

impl Cin7Scenario {
    /// An empty scenario.
    pub fn new() -> Self {
        Self::default()
    }

    /// The engineering firm's reference data only: chart of accounts, payment terms, tax rules
    /// and its two locations (no suppliers, no purchases). A base for hand-built test scenarios.
    pub fn reference_data() -> Self {
        let full = engineering_firm(DEFAULT_SEED, 0);
        Cin7Scenario {
            accounts: full.accounts,
            payment_terms: full.payment_terms,
            tax_rules: full.tax_rules,
            locations: full.locations,
            ..Default::default()
        }
    }

    /// Read the JSON form (see the module docs).
    pub fn from_json(v: &Value) -> Result<Self, String> {
        let Value::Object(top) = v else { return Err("scenario must be a JSON object".into()) };
        const KNOWN: [&str; 13] = [
            "account_id",
            "applications",
            "base_currency",
            "switches",
            "accounts",
            "payment_terms",
            "tax_rules",
            "locations",
            "suppliers",
            "purchases",
            "webhooks",
            "rate_limit",
            "webhook_deliveries",
        ];
        if let Some(k) = top.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            return Err(format!("unknown scenario key '{k}' (known: {})", KNOWN.join(", ")));
        }
        let mut s = Cin7Scenario::new();
        s.account_id = top.get("account_id").and_then(Value::as_str).map(String::from);
        s.base_currency = top.get("base_currency").and_then(Value::as_str).map(String::from);
        s.switches = top.get("switches").filter(|v| !v.is_null()).cloned();
        for a in list(top.get("applications"), "applications")? {
            let o = Obj(a);
            let key = o.text("key").ok_or("applications: each needs a \"key\"")?;
            s.applications.push(Application { key, name: o.text("name").unwrap_or_else(|| "application".into()) });
        }
        for a in list(top.get("accounts"), "accounts")? {
            let acc = account_from(&Obj(a), Account { status: "ACTIVE".into(), ..Default::default() });
            if acc.code.is_empty() {
                return Err("accounts: each needs a Code".into());
            }
            s.accounts.push(acc);
        }
        for t in list(top.get("payment_terms"), "payment_terms")? {
            let o = Obj(t);
            s.payment_terms.push(PaymentTerm {
                name: o.text("Name").ok_or("payment_terms: each needs a Name")?,
                days: o
                    .dec("Days")
                    .ok()
                    .flatten()
                    .or(o.dec("Duration").ok().flatten())
                    .and_then(|d| i64::try_from(d).ok())
                    .unwrap_or(0),
                active: o.boolean("IsActive").unwrap_or(true),
            });
        }
        for t in list(top.get("tax_rules"), "tax_rules")? {
            let o = Obj(t);
            s.tax_rules.push(TaxRule {
                name: o.text("Name").ok_or("tax_rules: each needs a Name")?,
                percent: o.dec("TaxPercent").ok().flatten().or(o.dec("Percent").ok().flatten()).unwrap_or_default(),
                active: o.boolean("IsActive").unwrap_or(true),
            });
        }
        match top.get("locations") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for l in a {
                    let name = match l {
                        Value::String(s) => s.clone(),
                        Value::Object(m) => Obj(m).text("Name").ok_or("locations: each needs a Name")?,
                        _ => return Err("locations: expected names".into()),
                    };
                    s.locations.push(name);
                }
            }
            Some(_) => return Err("locations: expected an array".into()),
        }
        for (i, m) in list(top.get("suppliers"), "suppliers")?.into_iter().enumerate() {
            let o = Obj(m);
            let mut sup =
                Supplier { id: o.text("ID").unwrap_or_else(new_id), status: "Active".into(), ..Default::default() };
            let mut problems = Vec::new();
            apply_supplier(&o, &mut sup, &mut problems);
            if let Some(p) = problems.first() {
                return Err(format!("suppliers[{i}]: {p}"));
            }
            sup.last_modified = o
                .stamp("LastModifiedOn")
                .map_err(|e| format!("suppliers[{i}]: {e}"))?
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            s.suppliers.push(sup);
        }
        s.purchase_json =
            list(top.get("purchases"), "purchases")?.into_iter().map(|m| Value::Object(m.clone())).collect();
        for (i, m) in list(top.get("webhooks"), "webhooks")?.into_iter().enumerate() {
            let o = Obj(m);
            let mut w = Webhook {
                id: o.text("ID").unwrap_or_else(new_id),
                is_active: true,
                auth_type: "noauth".into(),
                ..Default::default()
            };
            super::webhooks::apply(&o, &mut w).map_err(|e| format!("webhooks[{i}]: {}", e.messages.join("; ")))?;
            s.webhooks.push(w);
        }
        Ok(s)
    }

    /// Add a supplier.
    pub fn supplier(mut self, s: Supplier) -> Self {
        self.suppliers.push(s);
        self
    }

    /// Add a purchase.
    pub fn purchase(mut self, p: Purchase) -> Self {
        self.purchases.push(p);
        self
    }

    /// Add a webhook.
    pub fn webhook(mut self, w: Webhook) -> Self {
        self.webhooks.push(w);
        self
    }

    /// Merge into a state. Stamps left unset (the minimum) become `now`.
    pub fn apply(&self, st: &mut Cin7State, now: DateTime<Utc>) -> Result<(), String> {
        if let Some(sw) = &self.switches {
            st.switches = st.switches.merged(sw)?;
        }
        if let Some(a) = &self.account_id {
            st.account_id = a.clone();
        }
        if let Some(c) = &self.base_currency {
            st.base_currency = c.clone();
        }
        for a in &self.applications {
            if !st.applications.iter().any(|x| x.key.eq_ignore_ascii_case(&a.key)) {
                st.applications.push(a.clone());
            }
        }
        for a in &self.accounts {
            match st.accounts.iter().position(|x| x.code.eq_ignore_ascii_case(&a.code)) {
                Some(p) => st.accounts[p] = a.clone(),
                None => st.accounts.push(a.clone()),
            }
        }
        for t in &self.payment_terms {
            match st.payment_terms.iter().position(|x| x.name.eq_ignore_ascii_case(&t.name)) {
                Some(p) => st.payment_terms[p] = t.clone(),
                None => st.payment_terms.push(t.clone()),
            }
        }
        for t in &self.tax_rules {
            match st.tax_rules.iter().position(|x| x.name.eq_ignore_ascii_case(&t.name)) {
                Some(p) => st.tax_rules[p] = t.clone(),
                None => st.tax_rules.push(t.clone()),
            }
        }
        for l in &self.locations {
            if !st.locations.iter().any(|x| x.eq_ignore_ascii_case(l)) {
                st.locations.push(l.clone());
            }
        }
        for s in &self.suppliers {
            let mut s = s.clone();
            if s.last_modified == DateTime::<Utc>::MIN_UTC {
                s.last_modified = now;
            }
            st.saw_stamp(s.last_modified);
            match st.supplier_idx(&s.id) {
                Some(p) => st.suppliers[p] = s,
                None => st.suppliers.push(s),
            }
        }
        let mut all = self.purchases.clone();
        for (i, v) in self.purchase_json.iter().enumerate() {
            all.push(super::purchases::purchase_from_json(st, v, now).map_err(|e| format!("purchases[{i}]: {e}"))?);
        }
        for mut p in all {
            price(st, &mut p);
            if p.last_updated == DateTime::<Utc>::MIN_UTC {
                p.last_updated = now;
            }
            if p.order_number.is_empty() {
                p.order_number = st.next_order_number();
            } else if let Some(n) = p.order_number.strip_prefix("PO-").and_then(|n| n.parse::<u64>().ok()) {
                st.next_order_number = st.next_order_number.max(n + 1);
            }
            if p.supplier.is_empty()
                && let Some(i) = st.supplier_idx(&p.supplier_id)
            {
                p.supplier = st.suppliers[i].name.clone();
            }
            st.saw_stamp(p.last_updated);
            match st.purchase_idx(&p.id) {
                Some(x) => st.purchases[x] = p,
                None => st.purchases.push(p),
            }
        }
        for w in &self.webhooks {
            match st.webhooks.iter().position(|x| super::model::same_id(&x.id, &w.id)) {
                Some(p) => st.webhooks[p] = w.clone(),
                None => st.webhooks.push(w.clone()),
            }
        }
        Ok(())
    }

    /// `(id, name)` of every supplier.
    pub fn supplier_ids(&self) -> Vec<(String, String)> {
        self.suppliers.iter().map(|s| (s.id.clone(), s.name.clone())).collect()
    }

    /// Codes of the expense accounts.
    pub fn expense_account_codes(&self) -> Vec<String> {
        self.accounts.iter().filter(|a| a.class.eq_ignore_ascii_case("EXPENSE")).map(|a| a.code.clone()).collect()
    }

    /// The scenario as JSON (the same shape [`Cin7Scenario::from_json`] reads).
    pub fn to_json(&self, now: DateTime<Utc>) -> Result<Value, String> {
        let mut st = Cin7State::empty("", "", Default::default());
        st.applications.clear();
        self.apply(&mut st, now)?;
        let mut v = super::snapshot(&st);
        if let Value::Object(m) = &mut v {
            m.remove("rate_limit");
            m.remove("webhook_deliveries");
            m.insert("switches".into(), self.switches.clone().unwrap_or(json!({})));
        }
        Ok(v)
    }
}

/// Price every line of a purchase with the state's tax rules.
pub fn price(st: &Cin7State, p: &mut Purchase) {
    let calc = p.tax_calculation;
    let rate = |rule: &str| st.tax_rate(rule).unwrap_or(Decimal::ZERO);
    let price_lines = |lines: &mut Vec<Line>| {
        for l in lines.iter_mut() {
            (l.total, l.tax) = price_line(l.quantity, l.price, l.discount, rate(&l.tax_rule), calc);
        }
    };
    let price_charges = |cs: &mut Vec<Charge>| {
        for c in cs.iter_mut() {
            (c.total, c.tax) = price_line(c.quantity, c.price, c.discount, rate(&c.tax_rule), calc);
        }
    };
    price_lines(&mut p.order.lines);
    price_charges(&mut p.order.charges);
    for i in &mut p.invoices {
        price_lines(&mut i.lines);
        price_charges(&mut i.charges);
    }
    for c in &mut p.credit_notes {
        price_lines(&mut c.lines);
        price_charges(&mut c.charges);
    }
}

/// A line for builders: `Quantity` × `Price` on a GL account (tax rule: the purchase's).
pub fn line(name: &str, account: &str, quantity: Decimal, price: Decimal) -> Line {
    Line { name: name.into(), account: account.into(), quantity, price, ..Default::default() }
}

/// A supplier with the engineering firm's defaults (USD, `Net 30`, AP account `800`,
/// `Tax Exempt`, active) and a fresh id.
pub fn supplier(name: &str) -> Supplier {
    Supplier {
        id: new_id(),
        name: name.into(),
        currency: "USD".into(),
        payment_term: "Net 30".into(),
        account_payable: "800".into(),
        tax_rule: "Tax Exempt".into(),
        status: "Active".into(),
        last_modified: DateTime::<Utc>::MIN_UTC,
        ..Default::default()
    }
}

/// A stable, GUID-shaped id derived from a seed id and a label (for sub-tasks of built
/// purchases, so the same builder calls give the same ids).
pub fn derived_id(base: &str, label: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut h2: u64 = 0x8422_2325_cbf2_9ce4;
    for b in base.bytes().chain([0u8]).chain(label.bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        h2 = (h2 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(5);
    }
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&h.to_be_bytes());
    bytes[8..].copy_from_slice(&h2.to_be_bytes());
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// Builds a [`Purchase`]: its order lines double as the default lines of the invoices and
/// credit notes added afterwards.
#[derive(Debug, Clone)]
pub struct PurchaseBuilder {
    p: Purchase,
}

impl PurchaseBuilder {
    /// A purchase of `kind` from `supplier` at `location` (header only, status `DRAFT`).
    pub fn new(kind: PurchaseKind, supplier: &Supplier, location: &str) -> Self {
        PurchaseBuilder {
            p: Purchase {
                id: new_id(),
                kind,
                approach: Approach::Invoice,
                supplier_id: supplier.id.clone(),
                supplier: supplier.name.clone(),
                contact: supplier.contacts.first().map(|c| c.name.clone()).unwrap_or_default(),
                phone: supplier.contacts.first().map(|c| c.phone.clone()).unwrap_or_default(),
                blind_receipt: false,
                billing_address: Value::Null,
                shipping_address: Value::Null,
                base_currency: "USD".into(),
                supplier_currency: if supplier.currency.is_empty() { "USD".into() } else { supplier.currency.clone() },
                currency_rate: Decimal::ONE,
                tax_rule: supplier.tax_rule.clone(),
                tax_calculation: TaxCalculation::Exclusive,
                terms: supplier.payment_term.clone(),
                required_by: None,
                location: location.into(),
                note: String::new(),
                order_number: String::new(),
                order_date: None,
                is_service_only: kind == PurchaseKind::Service,
                inventory_account: "630".into(),
                additional_attributes: BTreeMap::new(),
                last_updated: DateTime::<Utc>::MIN_UTC,
                voided: false,
                order: Order::default(),
                stock: Vec::new(),
                invoices: Vec::new(),
                credit_notes: Vec::new(),
            },
        }
    }

    /// A Simple purchase.
    pub fn simple(supplier: &Supplier, location: &str) -> Self {
        Self::new(PurchaseKind::Simple, supplier, location)
    }

    /// An Advanced purchase.
    pub fn advanced(supplier: &Supplier, location: &str) -> Self {
        Self::new(PurchaseKind::Advanced, supplier, location)
    }

    /// A Service purchase.
    pub fn service(supplier: &Supplier, location: &str) -> Self {
        Self::new(PurchaseKind::Service, supplier, location)
    }

    /// Set the id.
    pub fn id(mut self, id: &str) -> Self {
        self.p.id = id.into();
        self
    }

    /// Set the order number (default: the next `PO-%05d` when applied).
    pub fn order_number(mut self, n: &str) -> Self {
        self.p.order_number = n.into();
        self
    }

    /// Set the approach.
    pub fn approach(mut self, a: Approach) -> Self {
        self.p.approach = a;
        self
    }

    /// Set the order date.
    pub fn order_date(mut self, d: NaiveDate) -> Self {
        self.p.order_date = Some(d);
        self
    }

    /// Set `LastUpdatedDate` (default: when applied).
    pub fn updated(mut self, t: DateTime<Utc>) -> Self {
        self.p.last_updated = t;
        self
    }

    /// Set an `AdditionalAttributeN`.
    pub fn attribute(mut self, n: u8, value: &str) -> Self {
        self.p.additional_attributes.insert(format!("AdditionalAttribute{n}"), value.into());
        self
    }

    /// Set the supplier currency and rate.
    pub fn currency(mut self, code: &str, rate: Decimal) -> Self {
        self.p.supplier_currency = code.into();
        self.p.currency_rate = rate;
        self
    }

    /// Add an order line (its `account` is kept for the invoices made from it).
    pub fn line(mut self, l: Line) -> Self {
        let mut l = l;
        if l.tax_rule.is_empty() {
            l.tax_rule = self.p.tax_rule.clone();
        }
        self.p.order.lines.push(l);
        self
    }

    /// Add an order additional charge.
    pub fn charge(mut self, c: Charge) -> Self {
        let mut c = c;
        if c.tax_rule.is_empty() {
            c.tax_rule = self.p.tax_rule.clone();
        }
        self.p.order.charges.push(c);
        self
    }

    /// Set the order's status (lines stay).
    pub fn order(mut self, status: DocStatus) -> Self {
        self.p.order.status = status;
        self
    }

    fn task_id(&self, kind: &str, n: usize) -> String {
        if n == 0 { self.p.id.clone() } else { derived_id(&self.p.id, &format!("{kind}{n}")) }
    }

    /// Receive every ordered line in one stock task.
    pub fn receive(mut self, status: DocStatus, date: Option<NaiveDate>) -> Self {
        let id = self.task_id("stock", self.p.stock.len());
        let lines = self
            .p
            .order
            .lines
            .iter()
            .map(|l| StockLine {
                product_id: l.product_id.clone(),
                sku: l.sku.clone(),
                name: l.name.clone(),
                quantity: l.quantity,
                location: self.p.location.clone(),
                date,
            })
            .collect();
        let number = format!("SR-{}", &id[..8]);
        self.p.stock.push(StockTask { task_id: id, number, status, lines });
        self
    }

    /// Add an invoice with the order's lines and charges.
    pub fn invoice(self, number: &str, status: DocStatus, date: Option<NaiveDate>, due: Option<NaiveDate>) -> Self {
        let lines = self.p.order.lines.clone();
        let charges = self.p.order.charges.clone();
        self.invoice_lines(number, status, date, due, lines, charges)
    }

    /// Add an invoice with these lines.
    pub fn invoice_lines(
        mut self,
        number: &str,
        status: DocStatus,
        date: Option<NaiveDate>,
        due: Option<NaiveDate>,
        lines: Vec<Line>,
        charges: Vec<Charge>,
    ) -> Self {
        let rule = self.p.tax_rule.clone();
        let fix = |mut l: Line| {
            if l.tax_rule.is_empty() {
                l.tax_rule = rule.clone();
            }
            l
        };
        let id = self.task_id("invoice", self.p.invoices.len());
        let n = self.p.invoices.len() + 1;
        self.p.invoices.push(InvoiceTask {
            task_id: id,
            number: format!("{}/{n}", if self.p.order_number.is_empty() { "INV" } else { &self.p.order_number }),
            invoice_number: number.into(),
            invoice_date: date,
            due_date: due,
            status,
            lines: lines.into_iter().map(fix).collect(),
            charges,
            payments: Vec::new(),
        });
        self
    }

    /// Pay the last invoice in full (status `PAID`). `amount` is its total (the builder cannot
    /// price lines, so the caller states it).
    pub fn pay_last(mut self, amount: Decimal, account: &str, date: Option<NaiveDate>) -> Self {
        let pid = self.p.id.clone();
        if let Some(i) = self.p.invoices.last_mut() {
            i.payments.push(super::model::Payment {
                id: derived_id(&pid, &format!("payment{}", i.payments.len())),
                kind: "PAYMENT".into(),
                reference: format!("EFT-{}", &pid[..6]),
                amount,
                date_paid: date,
                account: account.into(),
            });
            i.status = DocStatus::Paid;
        }
        self
    }

    /// Add a credit note with these lines, crediting the last invoice.
    pub fn credit_note(mut self, number: &str, status: DocStatus, date: Option<NaiveDate>, lines: Vec<Line>) -> Self {
        let rule = self.p.tax_rule.clone();
        let id = self.task_id("credit", self.p.credit_notes.len());
        let invoice = self.p.invoices.last().map(|i| i.invoice_number.clone()).unwrap_or_default();
        self.p.credit_notes.push(CreditNoteTask {
            task_id: id,
            number: number.into(),
            credit_note_number: number.into(),
            invoice_number: invoice,
            date,
            status,
            lines: lines
                .into_iter()
                .map(|mut l| {
                    if l.tax_rule.is_empty() {
                        l.tax_rule = rule.clone();
                    }
                    l
                })
                .collect(),
            charges: Vec::new(),
        });
        self
    }

    /// Void the whole purchase.
    pub fn voided(mut self) -> Self {
        self.p.voided = true;
        let v = |s: &mut DocStatus| {
            if *s != DocStatus::NotAvailable {
                *s = DocStatus::Voided;
            }
        };
        v(&mut self.p.order.status);
        self.p.stock.iter_mut().for_each(|t| v(&mut t.status));
        self.p.invoices.iter_mut().for_each(|t| v(&mut t.status));
        self.p.credit_notes.iter_mut().for_each(|t| v(&mut t.status));
        self
    }

    /// The purchase.
    pub fn build(self) -> Purchase {
        self.p
    }
}
