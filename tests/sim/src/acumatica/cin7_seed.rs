//! The demo distributor on the Cin7 Core side, as a Cin7 simulator scenario (its JSON format,
//! read by [`crate::cin7::Cin7Scenario::from_json`]), so `mlc demo cin7-acumatica` can seed both
//! simulators with one company.
//!
//! What matches the Acumatica side ([`super::scenario::distributor`], same seed):
//! - **Suppliers**: 40, the 37 shared ones carrying the Acumatica `VendorID` in
//!   `AdditionalAttribute1` (the shared code) plus 3 that exist only in Cin7; the Acumatica-only
//!   vendors are absent. [`super::scenario::demo::BOTH_EDITED`] was edited here too, recently
//!   and differently (its email), so the two-way sync sees one conflict.
//! - **Locations** `Main Warehouse` and `East Warehouse` (Acumatica warehouses `MAIN`, `EAST`).
//! - **Products**: order and invoice lines use Acumatica's `InventoryID`s as SKUs.
//! - **Chart of accounts**: Cin7 codes with the Acumatica account each maps to in
//!   [`ACCOUNT_MAP`]; one Cin7 account (`477 Warehouse Consumables`) has no mapping — the demo's
//!   "unmapped account" — and one authorised bill uses it.
//! - **Purchases at every stage**: ordering (draft order), ordered (authorised, not invoiced:
//!   the `cin7-acumatica-po` flow's input), invoiced (authorised supplier invoices: the
//!   `cin7-acumatica-bill` flow's input, one of them on the unmapped account), a draft invoice,
//!   an authorised credit note, and a voided purchase.

use chrono::Duration;
use serde_json::{Value, json};

use super::scenario::{ITEMS, Side, anchor, demo, supplier_hints};
use crate::common::rng::guid_at;

/// `(Cin7 code, name, Type, Class, SystemAccountCode, Acumatica account)`; `None`: unmapped.
pub type AccountRow = (&'static str, &'static str, &'static str, &'static str, &'static str, Option<&'static str>);

/// The Cin7 chart and its mapping to the Acumatica one.
pub const ACCOUNT_MAP: &[AccountRow] = &[
    ("090", "Operating Account", "BANK", "ASSET", "", Some("10100")),
    ("630", "Inventory", "INVENTORY", "ASSET", "INVENTORY", Some("12000")),
    ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", "CREDITORS", Some("20000")),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE", "COGS", Some("50000")),
    ("425", "Freight & Courier", "EXPENSE", "EXPENSE", "", Some("51000")),
    ("429", "General Expenses", "EXPENSE", "EXPENSE", "", Some("60000")),
    ("453", "Office Expenses", "EXPENSE", "EXPENSE", "", Some("67000")),
    ("473", "Repairs and Maintenance", "EXPENSE", "EXPENSE", "", Some("61000")),
    ("485", "Subscriptions", "EXPENSE", "EXPENSE", "", Some("65000")),
    ("477", "Warehouse Consumables", "EXPENSE", "EXPENSE", "", None),
];

/// Cin7 payment term names and the Acumatica terms they match.
pub const TERMS_MAP: &[(&str, i64, &str)] =
    &[("30 days", 30, "30D"), ("60 days", 60, "60D"), ("15 days", 15, "NET15"), ("COD", 0, "COD")];

/// The Cin7 location of an Acumatica warehouse.
pub fn location_of(warehouse: &str) -> &'static str {
    if warehouse.eq_ignore_ascii_case("EAST") { "East Warehouse" } else { "Main Warehouse" }
}

fn stamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The Cin7 scenario JSON of the demo distributor.
pub fn cin7_distributor(seed: u64) -> Value {
    let anchor = anchor();
    let hints = supplier_hints(seed);
    let terms_name = |t: &str| TERMS_MAP.iter().find(|(_, _, a)| *a == t).map(|(n, _, _)| *n).unwrap_or("30 days");
    let mut suppliers = Vec::new();
    let mut ids = Vec::new();
    for (i, h) in hints.iter().enumerate().filter(|(_, h)| h.side != Side::AcumaticaOnly) {
        let id = guid_at(seed, i as u64 + 1);
        let edited = h.code == demo::BOTH_EDITED;
        let mut s = json!({
            "ID": id, "Name": h.name, "Currency": h.currency, "PaymentTerm": terms_name(h.terms), "AccountPayable": "800",
            "TaxRule": "Tax Exempt", "Status": "Active",
            "LastModifiedOn": stamp(if edited { anchor - Duration::hours(1) } else { anchor - Duration::days(30 + i as i64) }),
            "Addresses": [{"Line1": format!("{} Commerce Way", h.street), "City": h.city.0, "State": h.city.1,
                           "Postcode": h.city.2, "Country": "United States", "Type": "Business", "DefaultForType": true}],
            "Contacts": [{"Name": "Orders desk", "Email": if edited { "purchasing@new-domain.example".to_string() } else { h.email.clone() },
                          "Phone": h.phone, "Default": true}],
        });
        if h.side == Side::Both
            && let Value::Object(m) = &mut s
        {
            m.insert("AdditionalAttribute1".into(), json!(h.code));
        }
        ids.push((id, h.clone()));
        suppliers.push(s);
    }
    let stock: Vec<_> = ITEMS.iter().filter(|x| x.3).collect();
    let line = |k: usize, qty: i64, account: Option<&str>| {
        let it = stock[k % stock.len()];
        let mut l = json!({"SKU": it.0, "Name": it.1, "Quantity": qty, "Price": it.5.parse::<f64>().unwrap_or(1.0), "TaxRule": "Tax Exempt"});
        if let (Some(a), Value::Object(m)) = (account, &mut l) {
            m.insert("Account".into(), json!(a));
        }
        l
    };
    // (stage, supplier index among Cin7 suppliers, days ago)
    let plan: &[(&str, usize, i64)] = &[
        ("ordering", 0, 1),
        ("ordered", 2, 2),
        ("ordered", 5, 4),
        ("ordered", 21, 6),
        ("invoiced", 3, 9),
        ("invoiced", 8, 12),
        ("invoiced_unmapped", 22, 5),
        ("invoice_draft", 23, 3),
        ("credited", 24, 15),
        ("voided", 25, 20),
        ("invoiced", 37, 7),
    ];
    let mut purchases = Vec::new();
    for (k, (stage, si, ago)) in plan.iter().enumerate() {
        let (sid, h) = &ids[*si % ids.len()];
        let id = guid_at(seed, 1000 + k as u64);
        let when = anchor - Duration::days(*ago);
        let order_status = if *stage == "ordering" { "DRAFT" } else { "AUTHORISED" };
        let lines = vec![line(k, 10 + 5 * k as i64, None), line(k + 3, 4 + k as i64, None)];
        let inv_lines =
            |acct: &str| vec![line(k, 10 + 5 * k as i64, Some(acct)), line(k + 3, 4 + k as i64, Some(acct))];
        let mut p = json!({
            "ID": id, "Type": "Simple Purchase", "SupplierID": sid, "Approach": "INVOICE", "Location": location_of(h.warehouse),
            "OrderNumber": format!("PO-{:05}", 101 + k), "OrderDate": when.date_naive().to_string(),
            "LastUpdatedDate": stamp(when + Duration::hours(2)),
            "Order": {"Status": order_status, "Lines": lines},
        });
        let Value::Object(m) = &mut p else { continue };
        match *stage {
            "invoiced" | "invoiced_unmapped" | "invoice_draft" | "credited" => {
                let acct = if *stage == "invoiced_unmapped" { "477" } else { "630" };
                let status = if *stage == "invoice_draft" { "DRAFT" } else { "AUTHORISED" };
                m.insert(
                    "Invoice".into(),
                    json!([{"TaskID": id, "InvoiceNumber": format!("SINV-{}", 5001 + k), "InvoiceDate": when.date_naive().to_string(),
                            "Status": status, "Lines": inv_lines(acct)}]),
                );
                if *stage == "credited" {
                    m.insert(
                        "CreditNote".into(),
                        json!([{"TaskID": id, "CreditNoteNumber": format!("SCN-{}", 7001 + k), "CreditNoteDate": (when + Duration::days(3)).date_naive().to_string(),
                                "Status": "AUTHORISED", "Lines": [line(k, 2, Some("630"))]}]),
                    );
                }
            }
            "voided" => {
                m.insert("Status".into(), json!("VOIDED"));
                m.insert("Order".into(), json!({"Status": "VOIDED", "Lines": lines_clone(k, &line)}));
            }
            _ => {}
        }
        purchases.push(p);
    }
    json!({
        "base_currency": "USD",
        "accounts": ACCOUNT_MAP.iter().map(|(code, name, ty, class, sys, _)| {
            let mut a = json!({"Code": code, "Name": name, "Type": ty, "Class": class, "Status": "ACTIVE"});
            if !sys.is_empty() && let Value::Object(m) = &mut a {
                m.insert("SystemAccountCode".into(), json!(sys));
                if *sys == "CREDITORS" {
                    m.insert("SystemAccount".into(), json!("Accounts payable"));
                }
            }
            a
        }).collect::<Vec<_>>(),
        "payment_terms": TERMS_MAP.iter().map(|(n, d, _)| json!({"Name": n, "Days": d, "IsActive": true})).collect::<Vec<_>>(),
        "tax_rules": [{"Name": "Tax Exempt", "TaxPercent": 0}, {"Name": "Sales Tax", "TaxPercent": 8}],
        "locations": ["Main Warehouse", "East Warehouse"],
        "suppliers": suppliers,
        "purchases": purchases,
    })
}

fn lines_clone(k: usize, line: &dyn Fn(usize, i64, Option<&str>) -> Value) -> Vec<Value> {
    vec![line(k, 10 + 5 * k as i64, None)]
}
