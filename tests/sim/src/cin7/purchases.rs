//! Purchases: `purchaseList`, `advanced-purchase` (arrays of sub-documents, all three types),
//! legacy `purchase` (single objects, Simple purchases only, the `InvocieNumber` spelling), and
//! the sub-resources `order`, `stock`, `invoice`, `creditnote`, `payment` on both.
//!
//! Rules reproduced (fact sheet §4): lines on a header POST are ignored **[C]**; a sub-document
//! is written by POST with `Status` `DRAFT` or `AUTHORISED` and only while it is `DRAFT` or
//! `NOT AVAILABLE` **[C]**; an invoice needs the order `AUTHORISED` and, for `Approach = STOCK`,
//! stock received `AUTHORISED` **[C]**; invoice and credit-note lines need an `Account` **[C]**;
//! `PUT purchase/order` is 405 **[C]**; the legacy endpoint refuses Advanced purchases with
//! "…Please use AdvancedPurchase endpoint" **[C]**; a new Advanced task is created when `TaskID`
//! is omitted or all-zero **[I]**, the first task of each kind taking the purchase id (§9);
//! every write bumps `LastUpdatedDate`.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use super::api::{Call, Event, page_bounds, paginate};
use super::model::{
    Approach, Charge, CreditNoteTask, DocStatus, InvoiceTask, Line, Obj, Order, Payment, Purchase, PurchaseKind,
    StockLine, StockTask, TaxCalculation, date_value, doc_totals, is_zero_id, new_id, num, price_line, same_id,
};
use super::state::{ApiError, Cin7State};
use super::switches::LegacyInvoiceKey;

const STAMP_KEYS: [&str; 1] = ["LastUpdatedDate"];

/// Which sub-document a route is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// `order`.
    Order,
    /// `stock`.
    Stock,
    /// `invoice`.
    Invoice,
    /// `creditnote`.
    CreditNote,
}

// ---------------------------------------------------------------------------------------------
// Rendering

fn dims(m: &mut Map<String, Value>) {
    for k in ["ProductLength", "ProductWidth", "ProductHeight", "ProductWeight"] {
        m.insert(k.into(), json!(0));
    }
    m.insert("WeightUnits".into(), json!("g"));
    m.insert("DimensionsUnits".into(), json!("cm"));
    for i in 1..=10 {
        m.insert(format!("ProductCustomField{i}"), json!(""));
    }
}

/// A line as answered (`order`: order lines carry `SupplierSKU`, the others `Account`). Every
/// object with a `ProductID` also carries the product's dimensions and custom fields **[C]**.
pub fn line_json(l: &Line, order: bool) -> Value {
    let mut m = Map::new();
    m.insert("ProductID".into(), l.product_id.clone().map(Value::String).unwrap_or(Value::Null));
    m.insert("SKU".into(), json!(l.sku));
    m.insert("Name".into(), json!(l.name));
    m.insert("Quantity".into(), num(l.quantity));
    m.insert("Price".into(), num(l.price));
    m.insert("Discount".into(), num(l.discount));
    m.insert("Tax".into(), num(l.tax));
    m.insert("TaxRule".into(), json!(l.tax_rule));
    if order {
        m.insert("SupplierSKU".into(), json!(l.supplier_sku));
    } else {
        m.insert("Account".into(), json!(l.account));
    }
    m.insert("Comment".into(), json!(l.comment));
    m.insert("Total".into(), num(l.total));
    if l.product_id.is_some() {
        dims(&mut m);
    }
    Value::Object(m)
}

fn charge_json(c: &Charge) -> Value {
    json!({
        "Description": c.description, "Reference": c.reference, "Quantity": num(c.quantity), "Price": num(c.price),
        "Discount": num(c.discount), "Tax": num(c.tax), "TaxRule": c.tax_rule, "Account": c.account, "Total": num(c.total),
    })
}

/// Lines and charges, optionally folded together (`CombineAdditionalCharges=true`).
fn lines_and_charges(lines: &[Line], charges: &[Charge], order: bool, combine: bool) -> (Value, Value) {
    let mut ls: Vec<Value> = lines.iter().map(|l| line_json(l, order)).collect();
    if combine {
        for c in charges {
            let as_line = Line {
                name: c.description.clone(),
                quantity: c.quantity,
                price: c.price,
                discount: c.discount,
                tax: c.tax,
                tax_rule: c.tax_rule.clone(),
                account: c.account.clone(),
                comment: c.reference.clone(),
                total: c.total,
                ..Default::default()
            };
            ls.push(line_json(&as_line, order));
        }
        (Value::Array(ls), json!([]))
    } else {
        (Value::Array(ls), Value::Array(charges.iter().map(charge_json).collect()))
    }
}

fn order_json(p: &Purchase, combine: bool, with_task: bool) -> Value {
    let (lines, charges) = lines_and_charges(&p.order.lines, &p.order.charges, true, combine);
    let (before, tax, total) = p.order_totals();
    let mut v = json!({
        "Memo": p.order.memo, "Status": p.order.status.as_str(), "Lines": lines, "AdditionalCharges": charges,
        "Prepayments": [], "TotalBeforeTax": num(before), "Tax": num(tax), "Total": num(total),
    });
    if with_task && let Value::Object(m) = &mut v {
        m.insert("TaskID".into(), json!(p.id));
        m.insert("CombineAdditionalCharges".into(), json!(combine));
    }
    v
}

fn stock_json(t: &StockTask) -> Value {
    let lines: Vec<Value> = t
        .lines
        .iter()
        .map(|l| {
            let mut m = Map::new();
            m.insert("Date".into(), date_value(l.date));
            m.insert("Quantity".into(), num(l.quantity));
            m.insert("ProductID".into(), l.product_id.clone().map(Value::String).unwrap_or(Value::Null));
            m.insert("SKU".into(), json!(l.sku));
            m.insert("Name".into(), json!(l.name));
            m.insert("Location".into(), json!(l.location));
            m.insert("Received".into(), json!(t.status == DocStatus::Authorised));
            if l.product_id.is_some() {
                dims(&mut m);
            }
            Value::Object(m)
        })
        .collect();
    json!({ "TaskID": t.task_id, "InvoicingAndReceivingNumber": t.number, "Status": t.status.as_str(), "Lines": lines })
}

fn invoice_json(p: &Purchase, i: &InvoiceTask, combine: bool, number_keys: &[&str]) -> Value {
    let (lines, charges) = lines_and_charges(&i.lines, &i.charges, false, combine);
    let (before, tax, total) = i.totals(p.tax_calculation);
    let payments: Vec<Value> = i
        .payments
        .iter()
        .map(|x| {
            json!({ "ID": x.id, "Type": x.kind, "Reference": x.reference, "Amount": num(x.amount),
                    "DatePaid": date_value(x.date_paid), "Account": x.account, "CurrencyRate": num(p.currency_rate) })
        })
        .collect();
    let mut m = Map::new();
    m.insert("TaskID".into(), json!(i.task_id));
    m.insert("InvoicingAndReceivingNumber".into(), json!(i.number));
    m.insert("InvoiceDate".into(), date_value(i.invoice_date));
    m.insert("InvoiceDueDate".into(), date_value(i.due_date));
    for k in number_keys {
        m.insert((*k).into(), json!(i.invoice_number));
    }
    m.insert("CurrencyRate".into(), num(p.currency_rate));
    m.insert("Status".into(), json!(i.status.as_str()));
    m.insert("Lines".into(), lines);
    m.insert("AdditionalCharges".into(), charges);
    m.insert("Payments".into(), Value::Array(payments));
    m.insert("TotalBeforeTax".into(), num(before));
    m.insert("Tax".into(), num(tax));
    m.insert("Total".into(), num(total));
    m.insert("Paid".into(), num(i.paid()));
    Value::Object(m)
}

fn credit_json(p: &Purchase, c: &CreditNoteTask, combine: bool) -> Value {
    let (lines, charges) = lines_and_charges(&c.lines, &c.charges, false, combine);
    let (before, tax, total) = doc_totals(&c.lines, &c.charges, p.tax_calculation);
    json!({
        "TaskID": c.task_id, "InvoicingAndReceivingNumber": c.number, "CreditNoteInvoiceNumber": c.invoice_number,
        "CreditNoteNumber": c.credit_note_number, "CreditNoteDate": date_value(c.date), "Status": c.status.as_str(),
        "Lines": lines, "AdditionalCharges": charges, "Refunds": [], "Unstock": [],
        "TotalBeforeTax": num(before), "Tax": num(tax), "Total": num(total),
    })
}

fn attributes_json(p: &Purchase) -> Value {
    let mut m = Map::new();
    for i in 1..=10 {
        let k = format!("AdditionalAttribute{i}");
        m.insert(k.clone(), json!(p.additional_attributes.get(&k).cloned().unwrap_or_default()));
    }
    Value::Object(m)
}

/// The header fields every shape shares.
fn header_map(st: &Cin7State, p: &Purchase) -> Map<String, Value> {
    let mut m = Map::new();
    let put = |m: &mut Map<String, Value>, k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    put(&mut m, "ID", json!(p.id));
    put(&mut m, "SupplierID", json!(p.supplier_id));
    put(&mut m, "Supplier", json!(p.supplier));
    put(&mut m, "Contact", json!(p.contact));
    put(&mut m, "Phone", json!(p.phone));
    put(&mut m, "InventoryAccount", json!(p.inventory_account));
    put(&mut m, "BlindReceipt", json!(p.blind_receipt));
    put(&mut m, "Approach", json!(p.approach.as_str()));
    put(&mut m, "BillingAddress", address_or_blank(&p.billing_address));
    put(&mut m, "ShippingAddress", address_or_blank(&p.shipping_address));
    put(&mut m, "BaseCurrency", json!(p.base_currency));
    put(&mut m, "SupplierCurrency", json!(p.supplier_currency));
    put(&mut m, "TaxRule", json!(p.tax_rule));
    put(&mut m, "TaxCalculation", json!(p.tax_calculation.as_str()));
    put(&mut m, "Terms", json!(p.terms));
    put(&mut m, "RequiredBy", date_value(p.required_by));
    put(&mut m, "Location", json!(p.location));
    put(&mut m, "Note", json!(p.note));
    put(&mut m, "OrderNumber", json!(p.order_number));
    put(&mut m, "OrderDate", date_value(p.order_date));
    put(&mut m, "Type", json!(p.kind.type_name()));
    put(&mut m, "CombinedInvoiceStatus", json!(p.combined_invoice()));
    put(&mut m, "CombinedReceivingStatus", json!(p.combined_receiving()));
    put(&mut m, "CombinedPaymentStatus", json!(p.combined_payment()));
    put(&mut m, "IsServiceOnly", json!(p.is_service_only));
    put(&mut m, "Status", json!(p.status()));
    put(&mut m, "RelatedDropShipSaleTask", Value::Null);
    put(&mut m, "CurrencyRate", num(p.currency_rate));
    put(&mut m, "LastUpdatedDate", json!(super::api::fmt_stamp(p.last_updated, st.switches.stamp_style)));
    put(&mut m, "AdditionalAttributes", attributes_json(p));
    m
}

fn address_or_blank(v: &Value) -> Value {
    if v.is_object() {
        return v.clone();
    }
    json!({ "DisplayAddressLine1": "", "DisplayAddressLine2": "", "Line1": "", "Line2": "", "City": "", "State": "",
            "Postcode": "", "Country": "" })
}

/// `GET advanced-purchase` shape: sub-documents as arrays.
pub fn advanced_json(st: &Cin7State, p: &Purchase, combine: bool) -> Value {
    let mut m = header_map(st, p);
    m.insert("Order".into(), order_json(p, combine, false));
    m.insert("StockReceived".into(), Value::Array(p.stock.iter().map(stock_json).collect()));
    m.insert("PutAway".into(), json!([]));
    m.insert(
        "Invoice".into(),
        Value::Array(p.invoices.iter().map(|i| invoice_json(p, i, combine, &["InvoiceNumber"])).collect()),
    );
    m.insert("CreditNote".into(), Value::Array(p.credit_notes.iter().map(|c| credit_json(p, c, combine)).collect()));
    m.insert("ManualJournals".into(), json!([]));
    m.insert("Attachments".into(), json!([]));
    m.insert("InventoryMovements".into(), json!([]));
    Value::Object(m)
}

fn legacy_keys(k: LegacyInvoiceKey) -> &'static [&'static str] {
    match k {
        LegacyInvoiceKey::Typo => &["InvocieNumber"],
        LegacyInvoiceKey::Correct => &["InvoiceNumber"],
        LegacyInvoiceKey::Both => &["InvoiceNumber", "InvocieNumber"],
    }
}

/// Legacy `GET purchase` shape: one object per sub-document; the invoice number key as the
/// `legacy_invoice_number_key` switch says.
pub fn legacy_json(st: &Cin7State, p: &Purchase, combine: bool) -> Value {
    let mut m = header_map(st, p);
    m.insert("Order".into(), order_json(p, combine, false));
    let blank_stock = StockTask { task_id: p.id.clone(), ..Default::default() };
    m.insert("StockReceived".into(), stock_json(p.stock.first().unwrap_or(&blank_stock)));
    let blank_inv = InvoiceTask { task_id: p.id.clone(), ..Default::default() };
    let keys = legacy_keys(st.switches.legacy_invoice_number_key);
    m.insert("Invoice".into(), invoice_json(p, p.invoices.first().unwrap_or(&blank_inv), combine, keys));
    let blank_cn = CreditNoteTask { task_id: p.id.clone(), ..Default::default() };
    m.insert("CreditNote".into(), credit_json(p, p.credit_notes.first().unwrap_or(&blank_cn), combine));
    m.insert("ManualJournals".into(), json!({ "TaskID": p.id, "Status": "NOT AVAILABLE", "Lines": [] }));
    m.insert("Attachments".into(), json!([]));
    Value::Object(m)
}

/// One `purchaseList` row.
pub fn list_item(st: &Cin7State, p: &Purchase) -> Value {
    let inv = p.invoices.last();
    let cn = p.credit_notes.last();
    json!({
        "ID": p.id, "BlindReceipt": p.blind_receipt, "OrderNumber": p.order_number, "Status": p.status(),
        "OrderDate": date_value(p.order_date), "InvoiceDate": date_value(inv.and_then(|i| i.invoice_date)),
        "Supplier": p.supplier, "SupplierID": p.supplier_id,
        "InvoiceNumber": inv.map(|i| i.invoice_number.clone()).unwrap_or_default(),
        "InvoiceAmount": num(p.invoice_amount()), "PaidAmount": num(p.paid_amount()),
        "InvoiceDueDate": date_value(inv.and_then(|i| i.due_date)), "RequiredBy": date_value(p.required_by),
        "BaseCurrency": p.base_currency, "SupplierCurrency": p.supplier_currency,
        "CreditNoteNumber": cn.map(|c| c.credit_note_number.clone()).unwrap_or_default(),
        "OrderStatus": p.order.status.as_str(), "StockReceivedStatus": p.stock_status().as_str(),
        "UnstockStatus": "NOT AVAILABLE", "InvoiceStatus": inv.map(|i| i.status).unwrap_or_default().as_str(),
        "CreditNoteStatus": cn.map(|c| c.status).unwrap_or_default().as_str(),
        "LastUpdatedDate": super::api::fmt_stamp(p.last_updated, st.switches.stamp_style),
        "Type": p.kind.type_name(), "CombinedInvoiceStatus": p.combined_invoice(),
        "CombinedPaymentStatus": p.combined_payment(), "CombinedReceivingStatus": p.combined_receiving(),
        "IsServiceOnly": p.is_service_only, "DropShipTaskID": Value::Null,
    })
}

// ---------------------------------------------------------------------------------------------
// Reading lines (requests and seeds)

/// Read and price lines. `need_account`: invoice and credit-note lines need an `Account` **[C]**.
/// With `check` off (seeding), references and totals are not validated.
#[allow(clippy::too_many_arguments)]
pub fn read_lines(
    st: &Cin7State,
    objs: &[Obj<'_>],
    what: &str,
    need_account: bool,
    calc: TaxCalculation,
    default_rule: &str,
    check: bool,
    problems: &mut Vec<String>,
) -> Vec<Line> {
    let mut out = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let n = i + 1;
        let mut err = |m: String| problems.push(format!("{what} line {n}: {m}"));
        let dec = |k: &str, err: &mut dyn FnMut(String)| match o.dec(k) {
            Ok(v) => v.unwrap_or(Decimal::ZERO),
            Err(e) => {
                err(e);
                Decimal::ZERO
            }
        };
        let quantity = dec("Quantity", &mut err);
        let price = dec("Price", &mut err);
        let discount = dec("Discount", &mut err);
        let l = Line {
            product_id: o.text("ProductID").filter(|s| !is_zero_id(s)),
            sku: o.str("SKU"),
            name: o.str("Name"),
            quantity,
            price,
            discount,
            tax: Decimal::ZERO,
            tax_rule: o.text("TaxRule").unwrap_or_else(|| default_rule.to_string()),
            account: o.str("Account"),
            supplier_sku: o.str("SupplierSKU"),
            comment: o.str("Comment"),
            total: Decimal::ZERO,
        };
        if check {
            if l.product_id.is_none() && l.sku.is_empty() && l.name.is_empty() {
                err("ProductID, SKU or Name is required".into());
            }
            if l.quantity < Decimal::ONE {
                err(format!("Quantity should be greater or equal to 1 (got {})", l.quantity));
            }
            if l.price < Decimal::ZERO {
                err("Price should not be negative".into());
            }
            if l.discount < Decimal::ZERO || l.discount > Decimal::ONE_HUNDRED {
                err("Discount should be between 0 and 100".into());
            }
            if need_account && l.account.is_empty() {
                err("Account is required".into());
            }
            if st.switches.validate_references {
                if !l.account.is_empty() && !st.account(&l.account).is_some_and(|a| a.is_active()) {
                    err(format!("Account with code '{}' was not found", l.account));
                }
                if st.tax_rate(&l.tax_rule).is_none() {
                    err(format!("Tax rule '{}' was not found", l.tax_rule));
                }
            }
        }
        let rate = st.tax_rate(&l.tax_rule).unwrap_or(Decimal::ZERO);
        let (total, tax) = price_line(l.quantity, l.price, l.discount, rate, calc);
        if check
            && st.switches.validate_line_totals
            && let Ok(Some(given)) = o.dec("Total")
            && (given - total).abs() > Decimal::new(1, 2)
        {
            err(format!("Total {given} does not match Quantity*Price*(1-Discount/100) = {total}"));
        }
        out.push(Line { tax, total, ..l });
    }
    out
}

/// Read and price additional charges.
#[allow(clippy::too_many_arguments)]
pub fn read_charges(
    st: &Cin7State,
    objs: &[Obj<'_>],
    what: &str,
    need_account: bool,
    calc: TaxCalculation,
    default_rule: &str,
    check: bool,
    problems: &mut Vec<String>,
) -> Vec<Charge> {
    let mut out = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        let n = i + 1;
        let mut c = Charge {
            description: o.str("Description"),
            reference: o.str("Reference"),
            quantity: o.dec("Quantity").ok().flatten().unwrap_or(Decimal::ONE),
            price: o.dec("Price").ok().flatten().unwrap_or(Decimal::ZERO),
            discount: o.dec("Discount").ok().flatten().unwrap_or(Decimal::ZERO),
            tax: Decimal::ZERO,
            tax_rule: o.text("TaxRule").unwrap_or_else(|| default_rule.to_string()),
            account: o.str("Account"),
            total: Decimal::ZERO,
        };
        if check {
            if c.description.is_empty() {
                problems.push(format!("{what} additional charge {n}: Description is required"));
            }
            if need_account && c.account.is_empty() {
                problems.push(format!("{what} additional charge {n}: Account is required"));
            }
            if st.switches.validate_references
                && !c.account.is_empty()
                && !st.account(&c.account).is_some_and(|a| a.is_active())
            {
                problems.push(format!("{what} additional charge {n}: Account with code '{}' was not found", c.account));
            }
        }
        let rate = st.tax_rate(&c.tax_rule).unwrap_or(Decimal::ZERO);
        (c.total, c.tax) = price_line(c.quantity, c.price, c.discount, rate, calc);
        out.push(c);
    }
    out
}

fn read_stock_lines(objs: &[Obj<'_>], default_location: &str, today: NaiveDate) -> Vec<StockLine> {
    objs.iter()
        .map(|o| StockLine {
            product_id: o.text("ProductID").filter(|s| !is_zero_id(s)),
            sku: o.str("SKU"),
            name: o.str("Name"),
            quantity: o.dec("Quantity").ok().flatten().unwrap_or(Decimal::ONE),
            location: o.text("Location").unwrap_or_else(|| default_location.to_string()),
            date: o.date("Date").ok().flatten().or(Some(today)),
        })
        .collect()
}

fn receive_all(p: &Purchase, today: NaiveDate) -> Vec<StockLine> {
    p.order
        .lines
        .iter()
        .map(|l| StockLine {
            product_id: l.product_id.clone(),
            sku: l.sku.clone(),
            name: l.name.clone(),
            quantity: l.quantity,
            location: p.location.clone(),
            date: Some(today),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading whole purchases (seeding from the GET shape)

fn status_of(o: &Obj<'_>, problems: &mut Vec<String>, what: &str) -> DocStatus {
    match o.text("Status") {
        None => DocStatus::NotAvailable,
        Some(s) => DocStatus::parse(&s).unwrap_or_else(|| {
            problems.push(format!("{what}: unknown Status '{s}'"));
            DocStatus::NotAvailable
        }),
    }
}

/// Read a purchase in the `GET advanced-purchase` shape (legacy single objects and the
/// `InvocieNumber` spelling accepted). Derived fields (statuses, totals) are ignored and computed.
pub fn purchase_from_json(st: &Cin7State, v: &Value, now: DateTime<Utc>) -> Result<Purchase, String> {
    let m = v.as_object().ok_or("a purchase must be a JSON object")?;
    let o = Obj(m);
    let mut problems = Vec::new();
    let id = o.text("ID").unwrap_or_else(new_id);
    let what = format!("purchase {id}");
    let kind = o
        .text("Type")
        .or_else(|| o.text("PurchaseType"))
        .map_or(Some(PurchaseKind::Simple), |t| PurchaseKind::parse(&t));
    let kind = kind.ok_or_else(|| format!("{what}: unknown Type"))?;
    let approach = Approach::parse(&o.text("Approach").unwrap_or_else(|| "INVOICE".into()))
        .ok_or_else(|| format!("{what}: unknown Approach"))?;
    let calc = match o.text("TaxCalculation").as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("inclusive") => TaxCalculation::Inclusive,
        _ => TaxCalculation::Exclusive,
    };
    let supplier_id = o.str("SupplierID");
    let sup = st.supplier_idx(&supplier_id).map(|i| &st.suppliers[i]);
    let tax_rule = o.text("TaxRule").or_else(|| sup.map(|s| s.tax_rule.clone())).unwrap_or_default();
    let mut attrs = std::collections::BTreeMap::new();
    if let Some(a) = o.object("AdditionalAttributes") {
        for (k, v) in a.0 {
            let t = crate::common::json::scalar_text(v);
            if !t.is_empty() {
                attrs.insert(k.clone(), t);
            }
        }
    }
    let order_obj = o.object("Order");
    let order = match order_obj {
        Some(oo) => Order {
            status: status_of(&oo, &mut problems, &what),
            memo: oo.str("Memo"),
            lines: read_lines(st, &oo.objects("Lines"), &what, false, calc, &tax_rule, false, &mut problems),
            charges: read_charges(
                st,
                &oo.objects("AdditionalCharges"),
                &what,
                false,
                calc,
                &tax_rule,
                false,
                &mut problems,
            ),
        },
        None => Order::default(),
    };
    let location = o.str("Location");
    let stock = o
        .objects("StockReceived")
        .into_iter()
        .map(|s| StockTask {
            task_id: s.text("TaskID").unwrap_or_else(|| id.clone()),
            number: s.str("InvoicingAndReceivingNumber"),
            status: status_of(&s, &mut problems, &what),
            lines: read_stock_lines(&s.objects("Lines"), &location, now.date_naive()),
        })
        .filter(|s| s.status != DocStatus::NotAvailable)
        .collect();
    let invoices = o
        .objects("Invoice")
        .into_iter()
        .map(|i| InvoiceTask {
            task_id: i.text("TaskID").unwrap_or_else(|| id.clone()),
            number: i.str("InvoicingAndReceivingNumber"),
            invoice_number: i.text("InvoiceNumber").or_else(|| i.text("InvocieNumber")).unwrap_or_default(),
            invoice_date: i.date("InvoiceDate").ok().flatten(),
            due_date: i.date("InvoiceDueDate").ok().flatten(),
            status: status_of(&i, &mut problems, &what),
            lines: read_lines(st, &i.objects("Lines"), &what, true, calc, &tax_rule, false, &mut problems),
            charges: read_charges(
                st,
                &i.objects("AdditionalCharges"),
                &what,
                true,
                calc,
                &tax_rule,
                false,
                &mut problems,
            ),
            payments: i
                .objects("Payments")
                .into_iter()
                .map(|x| Payment {
                    id: x.text("ID").unwrap_or_else(new_id),
                    kind: x.text("Type").unwrap_or_else(|| "PAYMENT".into()),
                    reference: x.str("Reference"),
                    amount: x.dec("Amount").ok().flatten().unwrap_or_default(),
                    date_paid: x.date("DatePaid").ok().flatten(),
                    account: x.str("Account"),
                })
                .collect(),
        })
        .filter(|i| i.status != DocStatus::NotAvailable)
        .collect();
    let credit_notes = o
        .objects("CreditNote")
        .into_iter()
        .map(|c| CreditNoteTask {
            task_id: c.text("TaskID").unwrap_or_else(|| id.clone()),
            number: c.str("InvoicingAndReceivingNumber"),
            credit_note_number: c.str("CreditNoteNumber"),
            invoice_number: c.str("CreditNoteInvoiceNumber"),
            date: c.date("CreditNoteDate").ok().flatten(),
            status: status_of(&c, &mut problems, &what),
            lines: read_lines(st, &c.objects("Lines"), &what, true, calc, &tax_rule, false, &mut problems),
            charges: read_charges(
                st,
                &c.objects("AdditionalCharges"),
                &what,
                true,
                calc,
                &tax_rule,
                false,
                &mut problems,
            ),
        })
        .filter(|c| c.status != DocStatus::NotAvailable)
        .collect();
    if let Some(p) = problems.first() {
        return Err(p.clone());
    }
    let voided = o.text("Status").is_some_and(|s| s.eq_ignore_ascii_case("VOIDED"));
    let last_updated = o.stamp(STAMP_KEYS[0])?.unwrap_or(now);
    Ok(Purchase {
        id: id.clone(),
        kind,
        approach,
        supplier: o.text("Supplier").or_else(|| sup.map(|s| s.name.clone())).unwrap_or_default(),
        supplier_id,
        contact: o.str("Contact"),
        phone: o.str("Phone"),
        blind_receipt: o.boolean("BlindReceipt").unwrap_or(false),
        billing_address: o.get("BillingAddress").cloned().unwrap_or(Value::Null),
        shipping_address: o.get("ShippingAddress").cloned().unwrap_or(Value::Null),
        base_currency: o.text("BaseCurrency").unwrap_or_else(|| st.base_currency.clone()),
        supplier_currency: o
            .text("SupplierCurrency")
            .or_else(|| sup.map(|s| s.currency.clone()))
            .unwrap_or_else(|| st.base_currency.clone()),
        currency_rate: o.dec("CurrencyRate")?.unwrap_or(Decimal::ONE),
        tax_rule,
        tax_calculation: calc,
        terms: o.text("Terms").or_else(|| sup.map(|s| s.payment_term.clone())).unwrap_or_default(),
        required_by: o.date("RequiredBy")?,
        location,
        note: o.str("Note"),
        order_number: o.str("OrderNumber"),
        order_date: o.date("OrderDate")?,
        is_service_only: o.boolean("IsServiceOnly").unwrap_or(kind == PurchaseKind::Service),
        inventory_account: o.str("InventoryAccount"),
        additional_attributes: attrs,
        last_updated,
        voided,
        order,
        stock,
        invoices,
        credit_notes,
    })
}

// ---------------------------------------------------------------------------------------------
// Handlers

fn find(st: &Cin7State, id: &str) -> Result<usize, ApiError> {
    st.purchase_idx(id).ok_or_else(|| ApiError::bad(format!("Purchase with specified ID '{id}' not found")))
}

fn need_id(call: &Call, key: &str) -> Result<String, ApiError> {
    let v = call.body_obj().and_then(|o| o.text(key)).or_else(|| call.params.get(key).map(str::to_string));
    v.filter(|s| !s.trim().is_empty()).ok_or_else(|| ApiError::bad(format!("{key} is required")))
}

fn check_simple(p: &Purchase) -> Result<(), ApiError> {
    if p.kind == PurchaseKind::Advanced {
        return Err(ApiError::bad(format!(
            "Purchase {} is an Advanced Purchase. This endpoint is deprecated and supports Simple Purchases only. \
             Please use AdvancedPurchase endpoint",
            p.order_number
        )));
    }
    Ok(())
}

/// Bump the stamp and announce the change.
fn touched(st: &mut Cin7State, idx: usize, now: DateTime<Utc>, events: &mut Vec<Event>) {
    let t = st.stamp(now);
    st.purchases[idx].last_updated = t;
    events.push(Event::PurchaseUpdated(st.purchases[idx].id.clone()));
}

fn no_problems(problems: Vec<String>) -> Result<(), ApiError> {
    if problems.is_empty() { Ok(()) } else { Err(ApiError::problems(problems)) }
}

fn combine(call: &Call) -> bool {
    call.params.get("CombineAdditionalCharges").is_some_and(|v| v.eq_ignore_ascii_case("true"))
        || call.body_obj().and_then(|o| o.boolean("CombineAdditionalCharges")).unwrap_or(false)
}

/// `GET purchaseList` with every §4.2 filter.
pub fn list(st: &Cin7State, call: &Call) -> Result<Value, ApiError> {
    let (page, limit) = page_bounds(st, call)?;
    let q = &call.params;
    let date = |k: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        match q.get(k) {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => super::model::parse_stamp(s)
                .map(Some)
                .ok_or_else(|| ApiError::bad(format!("{k} '{s}' is not a valid date"))),
        }
    };
    let since = date("UpdatedSince")?;
    let until = date("UpdatedUntil")?;
    let required_by = date("RequiredBy")?.map(|d| d.date_naive());
    let search = q.get("Search").map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty());
    let eq = |a: &str, k: &str| q.get(k).is_none_or(|v| v.trim().is_empty() || a.eq_ignore_ascii_case(v.trim()));
    let any_status = |statuses: Vec<DocStatus>, k: &str| {
        q.get(k).is_none_or(|v| {
            let v = v.trim();
            v.is_empty()
                || statuses.iter().any(|s| s.as_str().eq_ignore_ascii_case(v))
                || (statuses.is_empty() && v.eq_ignore_ascii_case("NOT AVAILABLE"))
        })
    };
    let mut rows: Vec<&Purchase> = st
        .purchases
        .iter()
        .filter(|p| since.is_none_or(|t| p.last_updated > t))
        .filter(|p| until.is_none_or(|t| p.last_updated <= t))
        .filter(|p| required_by.is_none_or(|d| p.required_by.is_some_and(|r| r <= d)))
        .filter(|p| {
            search.as_ref().is_none_or(|s| {
                p.order_number.to_ascii_lowercase().contains(s)
                    || p.status().to_ascii_lowercase().contains(s)
                    || p.supplier.to_ascii_lowercase().contains(s)
                    || p.invoices.iter().any(|i| i.invoice_number.to_ascii_lowercase().contains(s))
                    || p.credit_notes.iter().any(|c| c.credit_note_number.to_ascii_lowercase().contains(s))
            })
        })
        .filter(|p| eq(&p.status(), "Status"))
        .filter(|p| eq(p.order.status.as_str(), "OrderStatus"))
        .filter(|p| any_status(p.stock.iter().map(|s| s.status).collect(), "RestockReceivedStatus"))
        .filter(|p| any_status(p.invoices.iter().map(|s| s.status).collect(), "InvoiceStatus"))
        .filter(|p| any_status(p.credit_notes.iter().map(|s| s.status).collect(), "CreditNoteStatus"))
        .filter(|_| eq("NOT AVAILABLE", "UnstockStatus"))
        .filter(|_| q.get("DropShipTaskID").is_none_or(|v| v.trim().is_empty() || is_zero_id(v)))
        .collect();
    rows.sort_by(|a, b| a.last_updated.cmp(&b.last_updated).then_with(|| a.id.cmp(&b.id)));
    let total = rows.len();
    let items: Vec<Value> = paginate(rows, page, limit).into_iter().map(|p| list_item(st, p)).collect();
    Ok(json!({ "Total": total, "Page": page, "PurchaseList": items }))
}

/// `GET advanced-purchase?ID=` / `GET purchase?ID=`.
pub fn get(st: &Cin7State, call: &Call, legacy: bool) -> Result<Value, ApiError> {
    let id = call.params.get("ID").filter(|s| !s.trim().is_empty()).ok_or_else(|| ApiError::bad("ID is required"))?;
    let p = &st.purchases[find(st, id)?];
    if legacy {
        check_simple(p)?;
        return Ok(legacy_json(st, p, combine(call)));
    }
    Ok(advanced_json(st, p, combine(call)))
}

fn header_fields(st: &Cin7State, o: &Obj<'_>, p: &mut Purchase, problems: &mut Vec<String>) {
    if let Some(a) = o.text("Approach") {
        match Approach::parse(&a) {
            Some(x) => p.approach = x,
            None => problems.push(format!("Approach '{a}' is not valid (INVOICE or STOCK)")),
        }
    }
    if let Some(l) = o.text("Location") {
        if st.locations.iter().any(|x| x.eq_ignore_ascii_case(&l)) {
            p.location = st.locations.iter().find(|x| x.eq_ignore_ascii_case(&l)).cloned().unwrap_or(l);
        } else {
            problems.push(format!("Location '{l}' was not found"));
        }
    }
    if let Some(t) = o.text("TaxRule") {
        if st.tax_rate(&t).is_none() {
            problems.push(format!("Tax rule '{t}' was not found"));
        }
        p.tax_rule = t;
    }
    if let Some(t) = o.text("TaxCalculation") {
        match t.to_ascii_lowercase().as_str() {
            "inclusive" => p.tax_calculation = TaxCalculation::Inclusive,
            "exclusive" => p.tax_calculation = TaxCalculation::Exclusive,
            _ => problems.push(format!("TaxCalculation '{t}' is not valid (Inclusive or Exclusive)")),
        }
    }
    if let Some(t) = o.text("Terms") {
        if st.term_days(&t).is_none() {
            problems.push(format!("Payment term '{t}' was not found"));
        }
        p.terms = t;
    }
    match o.date("RequiredBy") {
        Ok(Some(d)) => p.required_by = Some(d),
        Ok(None) => {}
        Err(e) => problems.push(e),
    }
    for (k, field) in [("Contact", &mut p.contact), ("Phone", &mut p.phone), ("Note", &mut p.note)] {
        if let Some(v) = o.text(k) {
            *field = v;
        }
    }
    if let Some(b) = o.boolean("BlindReceipt") {
        p.blind_receipt = b;
    }
    if let Some(b) = o.get("BillingAddress").filter(|v| v.is_object()) {
        p.billing_address = b.clone();
    }
    if let Some(b) = o.get("ShippingAddress").filter(|v| v.is_object()) {
        p.shipping_address = b.clone();
    }
    match o.dec("CurrencyRate") {
        Ok(Some(r)) if r > Decimal::ZERO => p.currency_rate = r,
        Ok(Some(_)) => problems.push("CurrencyRate should be greater than 0".into()),
        Ok(None) => {}
        Err(e) => problems.push(e),
    }
    if let Some(a) = o.object("AdditionalAttributes") {
        for (k, v) in a.0 {
            let t = crate::common::json::scalar_text(v);
            if let Some(canon) = (1..=10).map(|i| format!("AdditionalAttribute{i}")).find(|c| c.eq_ignore_ascii_case(k))
            {
                if t.is_empty() {
                    p.additional_attributes.remove(&canon);
                } else {
                    p.additional_attributes.insert(canon, t);
                }
            }
        }
    }
}

/// `POST advanced-purchase` / `POST purchase`: a new header. Lines sent here are ignored **[C]**.
pub fn create(st: &mut Cin7State, call: &Call, legacy: bool, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a purchase object"))?;
    let mut problems = Vec::new();
    let sup_idx = match (o.text("SupplierID"), o.text("Supplier")) {
        (Some(id), _) => st.supplier_idx(&id).or_else(|| {
            problems.push(format!("Supplier with ID '{id}' was not found"));
            None
        }),
        (None, Some(name)) => st.supplier_by_name(&name).or_else(|| {
            problems.push(format!("Supplier '{name}' was not found"));
            None
        }),
        (None, None) => {
            problems.push("SupplierID or Supplier is required".into());
            None
        }
    };
    if o.text("Approach").is_none() {
        problems.push("Approach is required".into());
    }
    if o.text("Location").is_none() {
        problems.push("Location is required".into());
    }
    let service = o.boolean("IsServiceOnly").unwrap_or(false);
    let kind = match o.text("PurchaseType") {
        None => PurchaseKind::Simple,
        Some(t) => match PurchaseKind::parse(&t) {
            Some(PurchaseKind::Service) | None => {
                problems.push(format!("PurchaseType '{t}' is not valid (Simple or Advanced)"));
                PurchaseKind::Simple
            }
            Some(k) => k,
        },
    };
    if legacy && kind == PurchaseKind::Advanced {
        problems.push("This endpoint supports Simple Purchases only. Please use AdvancedPurchase endpoint".into());
    }
    let kind = if service && kind == PurchaseKind::Simple { PurchaseKind::Service } else { kind };
    let (supplier_id, supplier, currency, terms, rule) = match sup_idx {
        Some(i) => {
            let s = &st.suppliers[i];
            (s.id.clone(), s.name.clone(), s.currency.clone(), s.payment_term.clone(), s.tax_rule.clone())
        }
        None => Default::default(),
    };
    let mut p = Purchase {
        id: new_id(),
        kind,
        approach: Approach::Invoice,
        supplier_id,
        supplier,
        contact: String::new(),
        phone: String::new(),
        blind_receipt: false,
        billing_address: Value::Null,
        shipping_address: Value::Null,
        base_currency: st.base_currency.clone(),
        supplier_currency: currency,
        currency_rate: Decimal::ONE,
        tax_rule: rule,
        tax_calculation: TaxCalculation::Exclusive,
        terms,
        required_by: None,
        location: String::new(),
        note: String::new(),
        order_number: String::new(),
        order_date: Some(call.today()),
        is_service_only: service,
        inventory_account: st
            .accounts
            .iter()
            .find(|a| a.kind.eq_ignore_ascii_case("INVENTORY"))
            .map(|a| a.code.clone())
            .unwrap_or_default(),
        additional_attributes: Default::default(),
        last_updated: call.now,
        voided: false,
        order: Order::default(),
        stock: Vec::new(),
        invoices: Vec::new(),
        credit_notes: Vec::new(),
    };
    header_fields(st, &o, &mut p, &mut problems);
    no_problems(problems)?;
    p.order_number = st.next_order_number();
    if legacy {
        // The legacy example answers a new purchase as ORDERING: its order starts as a draft.
        p.order.status = DocStatus::Draft;
    }
    st.purchases.push(p);
    let idx = st.purchases.len() - 1;
    touched(st, idx, call.now, events);
    let p = &st.purchases[idx];
    Ok(if legacy { legacy_json(st, p, false) } else { advanced_json(st, p, false) })
}

/// `PUT advanced-purchase` / `PUT purchase`: change header fields.
pub fn update(st: &mut Cin7State, call: &Call, legacy: bool, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a purchase object"))?;
    let id = o.text("ID").ok_or_else(|| ApiError::bad("ID is required"))?;
    let idx = find(st, &id)?;
    if legacy {
        check_simple(&st.purchases[idx])?;
    }
    if st.purchases[idx].voided {
        return Err(ApiError::bad(format!(
            "Purchase {} is voided and cannot be changed",
            st.purchases[idx].order_number
        )));
    }
    let mut p = st.purchases[idx].clone();
    let mut problems = Vec::new();
    if let Some(t) = o.text("PurchaseType")
        && PurchaseKind::parse(&t) != Some(p.kind)
    {
        problems.push("PurchaseType cannot be changed".into());
    }
    header_fields(st, &o, &mut p, &mut problems);
    no_problems(problems)?;
    st.purchases[idx] = p;
    touched(st, idx, call.now, events);
    let p = &st.purchases[idx];
    Ok(if legacy { legacy_json(st, p, false) } else { advanced_json(st, p, false) })
}

fn void_flag(call: &Call) -> bool {
    call.params.get("Void").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `DELETE advanced-purchase?ID=&Void=` / legacy: void (`Void=true`) or undo (`Void=false`,
/// the default): authorised documents go back to `DRAFT` **[I]**.
pub fn delete(st: &mut Cin7State, call: &Call, legacy: bool, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let id = call.params.get("ID").filter(|s| !s.trim().is_empty()).ok_or_else(|| ApiError::bad("ID is required"))?;
    let idx = find(st, id)?;
    let p = &mut st.purchases[idx];
    if legacy {
        check_simple(p)?;
    }
    if p.voided {
        return Err(ApiError::bad(format!("Purchase {} is already voided", p.order_number)));
    }
    if p.invoices.iter().any(|i| !i.payments.is_empty()) {
        return Err(ApiError::bad(format!(
            "Purchase {} has payments. Delete the payments before voiding or undoing it",
            p.order_number
        )));
    }
    if void_flag(call) {
        p.voided = true;
        let v = |s: &mut DocStatus| {
            if *s != DocStatus::NotAvailable {
                *s = DocStatus::Voided;
            }
        };
        v(&mut p.order.status);
        p.stock.iter_mut().for_each(|t| v(&mut t.status));
        p.invoices.iter_mut().for_each(|t| v(&mut t.status));
        p.credit_notes.iter_mut().for_each(|t| v(&mut t.status));
    } else {
        let u = |s: &mut DocStatus| {
            if *s == DocStatus::Authorised {
                *s = DocStatus::Draft;
            }
        };
        u(&mut p.order.status);
        p.stock.iter_mut().for_each(|t| u(&mut t.status));
        p.invoices.iter_mut().for_each(|t| u(&mut t.status));
        p.credit_notes.iter_mut().for_each(|t| u(&mut t.status));
    }
    touched(st, idx, call.now, events);
    let p = &st.purchases[idx];
    Ok(if legacy { legacy_json(st, p, false) } else { advanced_json(st, p, false) })
}

fn requested_status(o: &Obj<'_>) -> Result<DocStatus, ApiError> {
    match o.text("Status") {
        None => Ok(DocStatus::Draft),
        Some(s) => match DocStatus::parse(&s) {
            Some(d @ (DocStatus::Draft | DocStatus::Authorised)) => Ok(d),
            _ => Err(ApiError::bad(format!(
                "Status '{s}' is not valid. For POST only DRAFT and AUTHORISED values accepted"
            ))),
        },
    }
}

fn task_event(
    st: &Cin7State,
    event: &'static str,
    idx: usize,
    task: &str,
    number: Option<String>,
    events: &mut Vec<Event>,
) {
    events.push(Event::Task { event, purchase: st.purchases[idx].id.clone(), task: task.to_string(), number });
}

/// `POST purchase/order` (both kinds; `TaskID` = purchase id).
pub fn order_post(st: &mut Cin7State, call: &Call, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be an order object"))?;
    let id = o.text("TaskID").ok_or_else(|| ApiError::bad("TaskID is required"))?;
    let idx = find(st, &id)?;
    let status = requested_status(&o)?;
    let p = &st.purchases[idx];
    if p.voided || !p.order.status.is_open() {
        return Err(ApiError::bad(format!(
            "Order of purchase {} cannot be changed because its status is {}. Only DRAFT or NOT AVAILABLE orders can be changed",
            p.order_number,
            p.order.status.as_str()
        )));
    }
    let mut problems = Vec::new();
    let (calc, rule) = (p.tax_calculation, p.tax_rule.clone());
    let lines = read_lines(st, &o.objects("Lines"), "Order", false, calc, &rule, true, &mut problems);
    let charges = read_charges(st, &o.objects("AdditionalCharges"), "Order", false, calc, &rule, true, &mut problems);
    let p = &st.purchases[idx];
    let keep = lines.is_empty() && charges.is_empty();
    if keep && p.order.lines.is_empty() && p.order.charges.is_empty() {
        problems.push("Order Lines are required".into());
    }
    no_problems(problems)?;
    let was = p.order.status;
    let p = &mut st.purchases[idx];
    if !keep {
        p.order.lines = lines;
        p.order.charges = charges;
    }
    if let Some(m) = o.text("Memo") {
        p.order.memo = m;
    }
    p.order.status = status;
    if status == DocStatus::Authorised && was != DocStatus::Authorised {
        let pid = p.id.clone();
        task_event(st, "Purchase/OrderAuthorised", idx, &pid, None, events);
    }
    touched(st, idx, call.now, events);
    Ok(order_json(&st.purchases[idx], combine(call), true))
}

/// `GET purchase/order?TaskID=`.
pub fn order_get(st: &Cin7State, call: &Call) -> Result<Value, ApiError> {
    let id = need_id(call, "TaskID")?;
    Ok(order_json(&st.purchases[find(st, &id)?], combine(call), true))
}

/// Locate the purchase and the task index for a sub-document write. Legacy (simple): `TaskID`
/// is the purchase id and there is one task. Advanced: `PurchaseID` plus an optional `TaskID`
/// (absent or all-zero: a new task; the first takes the purchase id).
fn locate(st: &Cin7State, o: &Obj<'_>, doc: Doc, advanced: bool) -> Result<(usize, Option<usize>), ApiError> {
    let task_ids = |p: &Purchase| -> Vec<String> {
        match doc {
            Doc::Order => vec![p.id.clone()],
            Doc::Stock => p.stock.iter().map(|t| t.task_id.clone()).collect(),
            Doc::Invoice => p.invoices.iter().map(|t| t.task_id.clone()).collect(),
            Doc::CreditNote => p.credit_notes.iter().map(|t| t.task_id.clone()).collect(),
        }
    };
    if !advanced {
        let id = o.text("TaskID").ok_or_else(|| ApiError::bad("TaskID is required"))?;
        let idx = find(st, &id)?;
        check_simple(&st.purchases[idx])?;
        let existing = if task_ids(&st.purchases[idx]).is_empty() { None } else { Some(0) };
        return Ok((idx, existing));
    }
    let task = o.text("TaskID").filter(|t| !is_zero_id(t));
    let idx = match o.text("PurchaseID") {
        Some(pid) => find(st, &pid)?,
        None => {
            let t = task.as_deref().ok_or_else(|| ApiError::bad("PurchaseID is required"))?;
            st.purchases
                .iter()
                .position(|p| task_ids(p).iter().any(|x| same_id(x, t)))
                .ok_or_else(|| ApiError::bad(format!("Task with ID '{t}' not found")))?
        }
    };
    let p = &st.purchases[idx];
    if p.kind != PurchaseKind::Advanced {
        // Simple and Service purchases keep one document of each kind here too.
        let existing = if task_ids(p).is_empty() { None } else { Some(0) };
        if let Some(t) = &task
            && !same_id(t, &p.id)
            && existing.is_none_or(|_| !task_ids(p).iter().any(|x| same_id(x, t)))
        {
            return Err(ApiError::bad(format!("Task with ID '{t}' not found")));
        }
        return Ok((idx, existing));
    }
    match task {
        None => Ok((idx, None)),
        Some(t) => {
            let pos = task_ids(p).iter().position(|x| same_id(x, &t));
            pos.map(|i| (idx, Some(i))).ok_or_else(|| ApiError::bad(format!("Task with ID '{t}' not found")))
        }
    }
}

fn new_task_id(p: &Purchase, existing: usize) -> String {
    if existing == 0 { p.id.clone() } else { new_id() }
}

fn precondition_order(p: &Purchase, what: &str) -> Result<(), ApiError> {
    if p.voided {
        return Err(ApiError::bad(format!("Purchase {} is voided", p.order_number)));
    }
    if p.order.status != DocStatus::Authorised {
        return Err(ApiError::bad(format!(
            "{what} cannot be created for purchase {}: Order status should be AUTHORISED (it is {})",
            p.order_number,
            p.order.status.as_str()
        )));
    }
    Ok(())
}

/// `POST purchase/stock` / `POST advanced-purchase/stock`. Empty lines with `AUTHORISED` receive
/// everything ordered **[C: "Request with empty lines … can be done"]**.
pub fn stock_post(st: &mut Cin7State, call: &Call, advanced: bool, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a stock received object"))?;
    let (idx, task) = locate(st, &o, Doc::Stock, advanced)?;
    let status = requested_status(&o)?;
    let p = &st.purchases[idx];
    precondition_order(p, "Stock received")?;
    if p.is_service_only || p.kind == PurchaseKind::Service {
        return Err(ApiError::bad(format!("Purchase {} is service only and has no stock to receive", p.order_number)));
    }
    if let Some(t) = task
        && !p.stock[t].status.is_open()
    {
        return Err(ApiError::bad(format!(
            "Stock received {} cannot be changed because its status is {}",
            p.stock[t].task_id,
            p.stock[t].status.as_str()
        )));
    }
    let mut lines = read_stock_lines(&o.objects("Lines"), &p.location, call.today());
    if lines.is_empty() {
        lines = match task {
            Some(t) if !p.stock[t].lines.is_empty() => p.stock[t].lines.clone(),
            _ => receive_all(p, call.today()),
        };
    }
    let number_needed = task.is_none();
    let number = if number_needed { st.next_doc_number("SR-") } else { String::new() };
    let p = &mut st.purchases[idx];
    let t = match task {
        Some(t) => t,
        None => {
            let id = new_task_id(p, p.stock.len());
            p.stock.push(StockTask { task_id: id, number, status: DocStatus::NotAvailable, lines: Vec::new() });
            p.stock.len() - 1
        }
    };
    let was = p.stock[t].status;
    p.stock[t].lines = lines;
    p.stock[t].status = status;
    let task_id = p.stock[t].task_id.clone();
    if status == DocStatus::Authorised && was != DocStatus::Authorised {
        task_event(st, "Purchase/StockReceivedAuthorised", idx, &task_id, None, events);
    }
    touched(st, idx, call.now, events);
    let p = &st.purchases[idx];
    Ok(if advanced {
        json!({ "PurchaseID": p.id, "StockReceived": p.stock.iter().map(stock_json).collect::<Vec<_>>() })
    } else {
        stock_json(&p.stock[t])
    })
}

/// `POST purchase/invoice` (flat body keyed by `TaskID`) / `POST advanced-purchase/invoice`
/// (`PurchaseID` + optional `TaskID`). Preconditions of §4.5 **[C]**.
pub fn invoice_post(
    st: &mut Cin7State,
    call: &Call,
    advanced: bool,
    events: &mut Vec<Event>,
) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be an invoice object"))?;
    let (idx, task) = locate(st, &o, Doc::Invoice, advanced)?;
    let status = requested_status(&o)?;
    let p = &st.purchases[idx];
    precondition_order(p, "Invoice")?;
    if let Some(t) = task
        && !p.invoices[t].status.is_open()
    {
        return Err(ApiError::bad(format!(
            "Invoice {} cannot be changed because its status is {}. Invoice status should be DRAFT or NOT AVAILABLE",
            p.invoices[t].invoice_number,
            p.invoices[t].status.as_str()
        )));
    }
    if p.approach == Approach::Stock && !p.stock.iter().any(|s| s.status == DocStatus::Authorised) {
        return Err(ApiError::bad(format!(
            "Invoice cannot be created for purchase {}: Approach is STOCK and stock received is not AUTHORISED",
            p.order_number
        )));
    }
    let mut problems = Vec::new();
    let (calc, rule) = (p.tax_calculation, p.tax_rule.clone());
    let lines = read_lines(st, &o.objects("Lines"), "Invoice", true, calc, &rule, true, &mut problems);
    let charges = read_charges(st, &o.objects("AdditionalCharges"), "Invoice", true, calc, &rule, true, &mut problems);
    let p = &st.purchases[idx];
    let keep = lines.is_empty() && charges.is_empty();
    if keep && task.is_none_or(|t| p.invoices[t].lines.is_empty() && p.invoices[t].charges.is_empty()) {
        problems.push("Invoice Lines are required".into());
    }
    let date = match o.date("InvoiceDate") {
        Ok(d) => d,
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let due = match o.date("InvoiceDueDate") {
        Ok(d) => d,
        Err(e) => {
            problems.push(e);
            None
        }
    };
    no_problems(problems)?;
    let terms = p.terms.clone();
    let fresh_number = if task.is_none() { st.next_doc_number("IR-") } else { String::new() };
    let given_number = o.text("InvoiceNumber");
    let auto_number =
        if given_number.is_none() && task.is_none_or(|t| st.purchases[idx].invoices[t].invoice_number.is_empty()) {
            Some(st.next_doc_number("INV-"))
        } else {
            None
        };
    let today = call.today();
    let due_default = |d: NaiveDate| st.due_date(&terms, d);
    let p = &st.purchases[idx];
    let existing_date = task.and_then(|t| p.invoices[t].invoice_date);
    let inv_date = date.or(existing_date).unwrap_or(today);
    let due = due
        .or_else(|| task.and_then(|t| p.invoices[t].due_date).filter(|_| date.is_none()))
        .unwrap_or_else(|| due_default(inv_date));
    let p = &mut st.purchases[idx];
    let t = match task {
        Some(t) => t,
        None => {
            let id = new_task_id(p, p.invoices.len());
            p.invoices.push(InvoiceTask { task_id: id, number: fresh_number, ..Default::default() });
            p.invoices.len() - 1
        }
    };
    let was = p.invoices[t].status;
    let inv = &mut p.invoices[t];
    if !keep {
        inv.lines = lines;
        inv.charges = charges;
    }
    if let Some(n) = given_number.or(auto_number) {
        inv.invoice_number = n;
    }
    inv.invoice_date = Some(inv_date);
    inv.due_date = Some(due);
    inv.status = status;
    let (task_id, number) = (inv.task_id.clone(), inv.invoice_number.clone());
    if status == DocStatus::Authorised && was != DocStatus::Authorised {
        task_event(st, "Purchase/InvoiceAuthorised", idx, &task_id, Some(number), events);
    }
    touched(st, idx, call.now, events);
    let p = &st.purchases[idx];
    Ok(if advanced {
        invoices_answer(p, combine(call))
    } else {
        let mut v = invoice_json(p, &p.invoices[t], combine(call), &["InvoiceNumber"]);
        if let Value::Object(m) = &mut v {
            let (_, tax, total) = p.invoices[t].totals(p.tax_calculation);
            m.insert("InvoiceTotalAmount".into(), num(total));
            m.insert("InvoiceTotalTaxAmount".into(), num(tax));
            m.insert("CombineAdditionalCharges".into(), json!(combine(call)));
        }
        v
    })
}

fn invoices_answer(p: &Purchase, combine: bool) -> Value {
    json!({ "PurchaseID": p.id, "Invoices": p.invoices.iter().map(|i| invoice_json(p, i, combine, &["InvoiceNumber"])).collect::<Vec<_>>() })
}

fn credits_answer(p: &Purchase, combine: bool) -> Value {
    json!({ "PurchaseID": p.id, "CreditNotes": p.credit_notes.iter().map(|c| credit_json(p, c, combine)).collect::<Vec<_>>() })
}

/// `POST purchase/creditnote` / `POST advanced-purchase/creditnote`. Needs an authorised
/// invoice **[I]**.
pub fn credit_post(
    st: &mut Cin7State,
    call: &Call,
    advanced: bool,
    events: &mut Vec<Event>,
) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a credit note object"))?;
    let (idx, task) = locate(st, &o, Doc::CreditNote, advanced)?;
    let status = requested_status(&o)?;
    let p = &st.purchases[idx];
    precondition_order(p, "Credit note")?;
    if !p.invoices.iter().any(|i| i.status.is_final()) {
        return Err(ApiError::bad(format!(
            "Credit note cannot be created for purchase {}: there is no AUTHORISED invoice",
            p.order_number
        )));
    }
    if let Some(t) = task
        && !p.credit_notes[t].status.is_open()
    {
        return Err(ApiError::bad(format!(
            "Credit note {} cannot be changed because its status is {}",
            p.credit_notes[t].credit_note_number,
            p.credit_notes[t].status.as_str()
        )));
    }
    let mut problems = Vec::new();
    let (calc, rule) = (p.tax_calculation, p.tax_rule.clone());
    let lines = read_lines(st, &o.objects("Lines"), "Credit note", true, calc, &rule, true, &mut problems);
    let charges =
        read_charges(st, &o.objects("AdditionalCharges"), "Credit note", true, calc, &rule, true, &mut problems);
    let p = &st.purchases[idx];
    let keep = lines.is_empty() && charges.is_empty();
    if keep && task.is_none_or(|t| p.credit_notes[t].lines.is_empty()) {
        problems.push("Credit note Lines are required".into());
    }
    let date = o.date("CreditNoteDate").map_err(ApiError::bad)?;
    no_problems(problems)?;
    let default_invoice =
        p.invoices.iter().rev().find(|i| i.status.is_final()).map(|i| i.invoice_number.clone()).unwrap_or_default();
    let fresh_number = if task.is_none() { st.next_doc_number("CR-") } else { String::new() };
    let today = call.today();
    let p = &mut st.purchases[idx];
    let t = match task {
        Some(t) => t,
        None => {
            let id = new_task_id(p, p.credit_notes.len());
            p.credit_notes.push(CreditNoteTask {
                task_id: id,
                number: fresh_number.clone(),
                credit_note_number: fresh_number,
                ..Default::default()
            });
            p.credit_notes.len() - 1
        }
    };
    let was = p.credit_notes[t].status;
    let c = &mut p.credit_notes[t];
    if !keep {
        c.lines = lines;
        c.charges = charges;
    }
    if let Some(n) = o.text("CreditNoteNumber") {
        c.credit_note_number = n;
    }
    c.invoice_number = o.text("CreditNoteInvoiceNumber").unwrap_or(if c.invoice_number.is_empty() {
        default_invoice
    } else {
        c.invoice_number.clone()
    });
    c.date = date.or(c.date).or(Some(today));
    c.status = status;
    let (task_id, number) = (c.task_id.clone(), c.credit_note_number.clone());
    if status == DocStatus::Authorised && was != DocStatus::Authorised {
        task_event(st, "Purchase/CreditNoteAuthorised", idx, &task_id, Some(number), events);
    }
    touched(st, idx, call.now, events);
    let p = &st.purchases[idx];
    Ok(if advanced { credits_answer(p, combine(call)) } else { credit_json(p, &p.credit_notes[t], combine(call)) })
}

/// `POST purchase/payment` / `POST advanced-purchase/payment`: `TaskID` names the invoice
/// (for Simple purchases, the purchase). Payments only on authorised invoices **[C]**; paid in
/// full → `PAID`.
pub fn payment_post(st: &mut Cin7State, call: &Call, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let o = call.body_obj().ok_or_else(|| ApiError::bad("Request body should be a payment object"))?;
    let task = o.text("TaskID").ok_or_else(|| ApiError::bad("TaskID is required"))?;
    let (idx, t) = st
        .purchases
        .iter()
        .enumerate()
        .find_map(|(i, p)| p.invoices.iter().position(|x| same_id(&x.task_id, &task)).map(|t| (i, t)))
        .ok_or_else(|| ApiError::bad(format!("Invoice with TaskID '{task}' not found")))?;
    let kind = o.text("Type").unwrap_or_else(|| "PAYMENT".into()).to_ascii_uppercase();
    if !matches!(kind.as_str(), "PAYMENT" | "PREPAYMENT" | "REFUND") {
        return Err(ApiError::bad(format!("Type '{kind}' is not valid (PREPAYMENT, PAYMENT or REFUND)")));
    }
    let amount = o
        .dec("Amount")
        .map_err(ApiError::bad)?
        .filter(|a| *a > Decimal::ZERO)
        .ok_or_else(|| ApiError::bad("Amount should be greater than 0"))?;
    let account = o.text("Account").ok_or_else(|| ApiError::bad("Account is required"))?;
    if st.switches.validate_references
        && !st.account(&account).is_some_and(|a| a.for_payments || a.kind.eq_ignore_ascii_case("BANK"))
    {
        return Err(ApiError::bad(format!(
            "Account with code '{account}' was not found or cannot be used for payments"
        )));
    }
    let date = o.date("DatePaid").map_err(ApiError::bad)?.unwrap_or(call.today());
    let p = &mut st.purchases[idx];
    let calc = p.tax_calculation;
    let inv = &mut p.invoices[t];
    if inv.status != DocStatus::Authorised {
        return Err(ApiError::bad(format!(
            "Payment cannot be added: invoice {} status is {} (payments only on AUTHORISED invoices)",
            inv.invoice_number,
            inv.status.as_str()
        )));
    }
    inv.payments.push(Payment {
        id: new_id(),
        kind,
        reference: o.str("Reference"),
        amount,
        date_paid: Some(date),
        account,
    });
    if inv.paid() + Decimal::new(1, 2) > inv.totals(calc).2 {
        inv.status = DocStatus::Paid;
    }
    touched(st, idx, call.now, events);
    let p = &st.purchases[idx];
    Ok(invoice_json(p, &p.invoices[t], false, &["InvoiceNumber"]))
}

/// `GET purchase/{doc}?TaskID=` and `GET advanced-purchase/{doc}?PurchaseID=`.
pub fn doc_get(st: &Cin7State, call: &Call, doc: Doc, advanced: bool) -> Result<Value, ApiError> {
    let key = if advanced { "PurchaseID" } else { "TaskID" };
    let id = need_id(call, key)?;
    let p = &st.purchases[find(st, &id)?];
    let c = combine(call);
    if !advanced {
        check_simple(p)?;
    }
    Ok(match (doc, advanced) {
        (Doc::Order, _) => order_json(p, c, true),
        (Doc::Stock, true) => {
            json!({ "PurchaseID": p.id, "StockReceived": p.stock.iter().map(stock_json).collect::<Vec<_>>() })
        }
        (Doc::Stock, false) => {
            stock_json(p.stock.first().unwrap_or(&StockTask { task_id: p.id.clone(), ..Default::default() }))
        }
        (Doc::Invoice, true) => invoices_answer(p, c),
        (Doc::Invoice, false) => match p.invoices.first() {
            Some(i) => invoice_json(p, i, c, &["InvoiceNumber"]),
            None => {
                invoice_json(p, &InvoiceTask { task_id: p.id.clone(), ..Default::default() }, c, &["InvoiceNumber"])
            }
        },
        (Doc::CreditNote, true) => credits_answer(p, c),
        (Doc::CreditNote, false) => credit_json(
            p,
            p.credit_notes.first().unwrap_or(&CreditNoteTask { task_id: p.id.clone(), ..Default::default() }),
            c,
        ),
    })
}

/// `DELETE advanced-purchase/{invoice|creditnote|stock}?TaskID=&Void=`: void or undo one task
/// (not for Simple purchases **[C]**).
pub fn doc_delete(st: &mut Cin7State, call: &Call, doc: Doc, events: &mut Vec<Event>) -> Result<Value, ApiError> {
    let task = call
        .params
        .get("TaskID")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::bad("TaskID is required"))?
        .to_string();
    let found = st.purchases.iter().enumerate().find_map(|(i, p)| {
        let pos = match doc {
            Doc::Order => None,
            Doc::Stock => p.stock.iter().position(|t| same_id(&t.task_id, &task)),
            Doc::Invoice => p.invoices.iter().position(|t| same_id(&t.task_id, &task)),
            Doc::CreditNote => p.credit_notes.iter().position(|t| same_id(&t.task_id, &task)),
        };
        pos.map(|t| (i, t))
    });
    let (idx, t) = found.ok_or_else(|| ApiError::bad(format!("Task with ID '{task}' not found")))?;
    if st.purchases[idx].kind != PurchaseKind::Advanced {
        return Err(ApiError::bad(
            "This method is not available for Simple Purchases. Use DELETE purchase?ID=&Void= instead",
        ));
    }
    let void = void_flag(call);
    let p = &mut st.purchases[idx];
    let status = match doc {
        Doc::Order => return Err(ApiError::method_not_allowed("DELETE")),
        Doc::Stock => &mut p.stock[t].status,
        Doc::Invoice => {
            if !p.invoices[t].payments.is_empty() {
                return Err(ApiError::bad("Invoice has payments. Delete the payments first"));
            }
            &mut p.invoices[t].status
        }
        Doc::CreditNote => &mut p.credit_notes[t].status,
    };
    match (*status, void) {
        (DocStatus::Voided, _) => return Err(ApiError::bad("Task is already voided")),
        (_, true) => *status = DocStatus::Voided,
        (DocStatus::Authorised, false) => *status = DocStatus::Draft,
        (s, false) => return Err(ApiError::bad(format!("Task status is {}: there is nothing to undo", s.as_str()))),
    }
    touched(st, idx, call.now, events);
    let p = &st.purchases[idx];
    Ok(match doc {
        Doc::Invoice => invoices_answer(p, false),
        Doc::CreditNote => credits_answer(p, false),
        _ => json!({ "PurchaseID": p.id, "StockReceived": p.stock.iter().map(stock_json).collect::<Vec<_>>() }),
    })
}
