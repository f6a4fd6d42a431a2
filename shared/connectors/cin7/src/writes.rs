//! Writes to Cin7 Core for the Acumatica flows (fact sheet §4.3–§4.6, §5): purchases raised in
//! Acumatica become Cin7 purchases, and suppliers are kept in line with Acumatica vendors.
//!
//! **Purchases** are written in three steps, because Cin7 requires them ([C]):
//! 1. `POST advanced-purchase`: the header, which lands `DRAFT` with Cin7's own `OrderNumber`
//!    (lines sent here are ignored);
//! 2. `POST purchase/order` with the lines and `Status: DRAFT` (the purchase is `ORDERING`);
//! 3. `POST purchase/order` again with `Status: AUTHORISED`: the separate authorise step
//!    (`ORDERED`). Once authorised the order can no longer be posted to.
//!
//! Only step 1 creates anything, and Cin7 takes no idempotency key, so it is never repeated
//! blindly. The purchase carries its origin — the Acumatica order (`Normal PO000123`) — in an
//! `AdditionalAttribute` (number [`PurchaseDraft::reference_attribute`], default 10) and in its
//! `Note`; [`Cin7Client::find_purchases_by_reference`] finds it again (a `purchaseList?Search=`
//! on the supplier, since the list has no attributes, then each candidate read back).
//! [`Cin7Client::create_purchase_once`] looks before creating, resolves a lost header answer by
//! the same lookup, and resumes a purchase left at step 1 or 2 by an earlier attempt, so each
//! Acumatica order becomes exactly one Cin7 purchase.
//!
//! **Suppliers**: `POST supplier` creates (validated by Cin7: an active payment term by name, the
//! Accounts-payable system account, a tax rule, a 3-letter currency; names are unique), `PUT
//! supplier` changes by `ID` (an address or contact with its `ID` is updated, one without is
//! added). Both answer in the paged envelope. The natural key is the name (unique in Cin7,
//! case-insensitive); the code shared with Acumatica travels in an `AdditionalAttribute`
//! ([`SupplierDraft::attributes`]). [`Cin7Client::create_supplier_once`] looks up by name before
//! and after a lost answer.
//!
//! Every write bumps the record's `LastUpdatedDate`/`LastModifiedOn`, so the flows can tell
//! their own writes from people's (keep the stamp written) and not echo them back.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use mlc_http::Request;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

use crate::client::Cin7Client;
use crate::errors::Cin7Error;
use crate::model::{DocStatus, Endpoint, Purchase, Supplier, norm_id, purchase_from, supplier_from};

pub use mlc_http::Written;

/// One order line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderLineDraft {
    /// `ProductID` (a Cin7 product GUID), when known.
    pub product_id: Option<String>,
    /// `SKU` (the mapped product code).
    pub sku: Option<String>,
    /// `Name`.
    pub name: String,
    /// `Quantity` (at least 1).
    pub quantity: Decimal,
    /// `Price` (supplier currency, 4 dp).
    pub price: Decimal,
    /// `Discount` (0–100).
    pub discount: Decimal,
    /// `TaxRule` (default: the purchase's).
    pub tax_rule: Option<String>,
    /// `Comment`.
    pub comment: Option<String>,
}

impl OrderLineDraft {
    /// `round(Quantity × Price × (1 − Discount/100), 2)`, the `Total` Cin7 checks **[C: FEED]**.
    pub fn total(&self) -> Decimal {
        (self.quantity * self.price * (Decimal::ONE_HUNDRED - self.discount) / Decimal::ONE_HUNDRED).round_dp(2)
    }

    fn json(&self) -> Value {
        let mut m = Map::new();
        if let Some(p) = &self.product_id {
            m.insert("ProductID".into(), json!(p));
        }
        if let Some(s) = &self.sku {
            m.insert("SKU".into(), json!(s));
        }
        m.insert("Name".into(), json!(self.name));
        m.insert("Quantity".into(), num(self.quantity));
        m.insert("Price".into(), num(self.price));
        m.insert("Discount".into(), num(self.discount));
        if let Some(t) = &self.tax_rule {
            m.insert("TaxRule".into(), json!(t));
        }
        if let Some(c) = &self.comment {
            m.insert("Comment".into(), json!(c));
        }
        m.insert("Total".into(), num(self.total()));
        Value::Object(m)
    }
}

fn num(d: Decimal) -> Value {
    serde_json::from_str(&d.normalize().to_string()).unwrap_or(Value::Null)
}

/// A purchase to create (from an Acumatica purchase order).
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseDraft {
    /// `SupplierID`.
    pub supplier_id: String,
    /// The supplier's name (what `purchaseList?Search=` matches when looking the purchase up).
    pub supplier_name: String,
    /// `Location` (required; the Cin7 location of the Acumatica warehouse).
    pub location: String,
    /// `Approach`: `INVOICE` (default) or `STOCK`.
    pub approach: String,
    /// The origin, e.g. `Acumatica Normal PO000123`: kept in the attribute below and the note.
    pub reference: String,
    /// Which `AdditionalAttribute` (1–10) holds the reference.
    pub reference_attribute: u8,
    /// `RequiredBy`.
    pub required_by: Option<NaiveDate>,
    /// `TaxRule` (default: the supplier's).
    pub tax_rule: Option<String>,
    /// `Terms` (default: the supplier's).
    pub terms: Option<String>,
    /// The order's `Memo`.
    pub memo: Option<String>,
    /// Order lines.
    pub lines: Vec<OrderLineDraft>,
}

impl PurchaseDraft {
    fn attribute_key(&self) -> String {
        format!("AdditionalAttribute{}", self.reference_attribute.clamp(1, 10))
    }

    fn header(&self) -> Value {
        let mut m = Map::new();
        m.insert("SupplierID".into(), json!(self.supplier_id));
        m.insert(
            "Approach".into(),
            json!(if self.approach.trim().is_empty() { "INVOICE" } else { self.approach.trim() }),
        );
        m.insert("Location".into(), json!(self.location));
        m.insert("PurchaseType".into(), json!("Simple"));
        m.insert("Note".into(), json!(self.reference));
        if let Some(d) = self.required_by {
            m.insert("RequiredBy".into(), json!(d.to_string()));
        }
        if let Some(t) = &self.tax_rule {
            m.insert("TaxRule".into(), json!(t));
        }
        if let Some(t) = &self.terms {
            m.insert("Terms".into(), json!(t));
        }
        m.insert("AdditionalAttributes".into(), json!({ self.attribute_key(): self.reference }));
        Value::Object(m)
    }

    fn order(&self, task_id: &str, status: &str) -> Value {
        let mut m = Map::new();
        m.insert("TaskID".into(), json!(task_id));
        m.insert("Status".into(), json!(status));
        if let Some(memo) = &self.memo {
            m.insert("Memo".into(), json!(memo));
        }
        m.insert("Lines".into(), Value::Array(self.lines.iter().map(OrderLineDraft::json).collect()));
        Value::Object(m)
    }
}

/// A supplier to create, or the fields of one to change (`None`: leave as is).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SupplierDraft {
    /// `Name` (required on create; unique).
    pub name: Option<String>,
    /// `Currency` (3 letters; required on create).
    pub currency: Option<String>,
    /// `PaymentTerm` (an active term's name; required on create).
    pub payment_term: Option<String>,
    /// `AccountPayable` (the Accounts-payable system account; required on create).
    pub account_payable: Option<String>,
    /// `TaxRule` (required on create).
    pub tax_rule: Option<String>,
    /// `Status`: `Active` or `Deprecated`.
    pub status: Option<String>,
    /// `Comments`.
    pub comments: Option<String>,
    /// `TaxNumber`.
    pub tax_number: Option<String>,
    /// `AdditionalAttribute<n>` values (the shared vendor code goes in one of them).
    pub attributes: BTreeMap<u8, String>,
    /// The business address (`ID`: update that one).
    pub address: Option<SupplierAddressDraft>,
    /// The main contact (`ID`: update that one).
    pub contact: Option<SupplierContactDraft>,
}

/// A supplier address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SupplierAddressDraft {
    /// The existing address's `ID` (None: add one).
    pub id: Option<String>,
    /// `Line1` (required).
    pub line1: String,
    /// `Line2`.
    pub line2: Option<String>,
    /// `City`.
    pub city: Option<String>,
    /// `State`.
    pub state: Option<String>,
    /// `Postcode`.
    pub postcode: Option<String>,
    /// `Country` (required).
    pub country: String,
}

/// A supplier contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SupplierContactDraft {
    /// The existing contact's `ID` (None: add one).
    pub id: Option<String>,
    /// `Name` (required).
    pub name: String,
    /// `Email`.
    pub email: Option<String>,
    /// `Phone`.
    pub phone: Option<String>,
}

impl SupplierDraft {
    fn json(&self, id: Option<&str>) -> Value {
        let mut m = Map::new();
        if let Some(id) = id {
            m.insert("ID".into(), json!(id));
        }
        for (k, v) in [
            ("Name", &self.name),
            ("Currency", &self.currency),
            ("PaymentTerm", &self.payment_term),
            ("AccountPayable", &self.account_payable),
            ("TaxRule", &self.tax_rule),
            ("Status", &self.status),
            ("Comments", &self.comments),
            ("TaxNumber", &self.tax_number),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        for (n, v) in &self.attributes {
            m.insert(format!("AdditionalAttribute{}", (*n).clamp(1, 10)), json!(v));
        }
        if let Some(a) = &self.address {
            let mut x = json!({"Line1": a.line1, "Country": a.country, "Type": "Business", "DefaultForType": true});
            if let Value::Object(o) = &mut x {
                for (k, v) in [
                    ("ID", &a.id),
                    ("Line2", &a.line2),
                    ("City", &a.city),
                    ("State", &a.state),
                    ("Postcode", &a.postcode),
                ] {
                    if let Some(v) = v {
                        o.insert(k.into(), json!(v));
                    }
                }
            }
            m.insert("Addresses".into(), json!([x]));
        }
        if let Some(c) = &self.contact {
            let mut x = json!({"Name": c.name, "Default": true});
            if let Value::Object(o) = &mut x {
                for (k, v) in [("ID", &c.id), ("Email", &c.email), ("Phone", &c.phone)] {
                    if let Some(v) = v {
                        o.insert(k.into(), json!(v));
                    }
                }
            }
            m.insert("Contacts".into(), json!([x]));
        }
        Value::Object(m)
    }
}

fn in_doubt(e: Cin7Error, what: &str, next: &str) -> Cin7Error {
    match e {
        Cin7Error::InDoubt { detail, .. } => Cin7Error::InDoubt { what: format!("{what} ({next})"), detail },
        other => other,
    }
}

impl Cin7Client {
    /// Purchases of `supplier_name` carrying `reference` (in an `AdditionalAttribute` or the
    /// note), newest first, optionally only those Cin7 stamped after `since` (Cin7's clock).
    /// Reads the supplier's purchases (`purchaseList?Search=`: the list has no attributes) and
    /// each candidate back, newest first; `first_only` stops at the first match.
    pub async fn find_purchases_by_reference(
        &self,
        supplier_name: &str,
        reference: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<Purchase>, Cin7Error> {
        self.purchases_by_reference(supplier_name, reference, since, false).await
    }

    async fn purchases_by_reference(
        &self,
        supplier_name: &str,
        reference: &str,
        since: Option<DateTime<Utc>>,
        first_only: bool,
    ) -> Result<Vec<Purchase>, Cin7Error> {
        let reference = reference.trim();
        let mut candidates = Vec::new();
        let mut page = 1u32;
        loop {
            let p = self.search_purchases(supplier_name, page, 100).await?;
            let n = p.items.len();
            candidates.extend(p.items.into_iter().filter(|s| {
                s.supplier_name.trim().eq_ignore_ascii_case(supplier_name.trim())
                    && since.is_none_or(|t| s.last_updated.is_none_or(|u| u > t))
            }));
            if n < 100 || u64::from(page) * 100 >= p.total || page >= 100 {
                break;
            }
            page += 1;
        }
        candidates.sort_by_key(|s| std::cmp::Reverse(s.last_updated));
        let mut found = Vec::new();
        for s in candidates {
            if let Some(full) = self.get_purchase(&s.id).await?
                && (full.additional_attributes.values().any(|v| v.trim() == reference)
                    || full.note.as_deref().is_some_and(|n| n.trim() == reference))
            {
                found.push(full);
                if first_only {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Create the header (`POST advanced-purchase`): a `DRAFT` purchase. Not repeated after a
    /// lost answer ([`Cin7Error::InDoubt`]).
    pub async fn create_purchase(&self, draft: &PurchaseDraft) -> Result<Purchase, Cin7Error> {
        let what = format!("purchase for {} from {}", draft.reference, draft.supplier_name);
        let v = self
            .call(Request::post("advanced-purchase").json(&draft.header()), "POST advanced-purchase", &what)
            .await
            .map_err(|e| in_doubt(e, &what, "look it up by reference before creating it again"))?;
        purchase_from(&v, Endpoint::Advanced).ok_or_else(|| Cin7Error::Unexpected {
            call: "POST advanced-purchase".into(),
            detail: "answered without the created purchase's ID".into(),
            fix: "look the purchase up by reference (find_purchases_by_reference) before trying again".into(),
        })
    }

    /// `POST purchase/order` with the draft's lines and `status` (`DRAFT` or `AUTHORISED`).
    pub async fn post_order(
        &self,
        purchase_id: &str,
        draft: &PurchaseDraft,
        status: DocStatus,
    ) -> Result<(), Cin7Error> {
        let s = match status {
            DocStatus::Authorised => "AUTHORISED",
            _ => "DRAFT",
        };
        let what = format!("order lines of purchase {purchase_id} ({s})");
        let body = draft.order(&norm_id(purchase_id), s);
        // Posting a DRAFT order again overwrites its lines: a lost answer may be repeated.
        match self.call(Request::post("purchase/order").json(&body), "POST purchase/order", &what).await {
            Ok(_) => Ok(()),
            Err(Cin7Error::InDoubt { .. }) => Err(Cin7Error::InDoubt {
                what: format!("{what} (read the purchase: its order status tells whether it was applied)"),
                detail: "the answer was lost".into(),
            }),
            Err(e) => Err(e),
        }
    }

    /// The newest purchase of `supplier_name` carrying `reference` (reads candidates newest first
    /// and stops at the first match: the lookup before a create).
    pub async fn find_purchase_by_reference(
        &self,
        supplier_name: &str,
        reference: &str,
        since: Option<DateTime<Utc>>,
    ) -> Result<Option<Purchase>, Cin7Error> {
        Ok(self.purchases_by_reference(supplier_name, reference, since, true).await?.into_iter().next())
    }

    /// Make one Cin7 purchase for `draft`: found by reference (among those Cin7 stamped after
    /// `since`, when given) or created as a draft; its lines posted as a draft, then authorised in
    /// the separate call. Resumes a purchase an earlier attempt left at the draft stage.
    pub async fn create_purchase_once(
        &self,
        draft: &PurchaseDraft,
        since: Option<DateTime<Utc>>,
    ) -> Result<Written<Purchase>, Cin7Error> {
        let found = self.find_purchase_by_reference(&draft.supplier_name, &draft.reference, since).await?;
        self.finish_purchase(found, draft, since).await
    }

    /// [`Cin7Client::create_purchase_once`] after its lookup (a caller that has just looked the
    /// purchase up, under a lock, need not look twice): `found` is finished (lines, authorise);
    /// `None` creates the header first, and a lost answer is resolved by looking up again.
    pub async fn finish_purchase(
        &self,
        found: Option<Purchase>,
        draft: &PurchaseDraft,
        since: Option<DateTime<Utc>>,
    ) -> Result<Written<Purchase>, Cin7Error> {
        let mut created = false;
        let purchase = match found {
            Some(p) => p,
            None => match self.create_purchase(draft).await {
                Ok(p) => {
                    created = true;
                    p
                }
                Err(e @ Cin7Error::InDoubt { .. }) => {
                    match self.find_purchase_by_reference(&draft.supplier_name, &draft.reference, since).await? {
                        Some(p) => p,
                        None => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        let id = purchase.id.clone();
        if purchase.order.status != DocStatus::Authorised {
            if purchase.order.status != DocStatus::Draft || purchase.order.lines.is_empty() {
                self.post_order(&id, draft, DocStatus::Draft).await?;
            }
            self.post_order(&id, draft, DocStatus::Authorised).await?;
        }
        let record = self.get_purchase(&id).await?.ok_or_else(|| Cin7Error::Unexpected {
            call: format!("GET advanced-purchase?ID={id}"),
            detail: "the purchase just written cannot be read back".into(),
            fix: "read it again later; if it stays missing, it was deleted in Cin7".into(),
        })?;
        Ok(if created { Written::Created(record) } else { Written::Found(record) })
    }

    fn first_supplier(v: &Value, call: &str) -> Result<Supplier, Cin7Error> {
        let item =
            v.get("SupplierList").and_then(Value::as_array).and_then(|a| a.first()).or(Some(v)).and_then(supplier_from);
        item.ok_or_else(|| Cin7Error::Unexpected {
            call: call.into(),
            detail: "answered without the supplier".into(),
            fix: "look the supplier up by name before trying again".into(),
        })
    }

    /// Suppliers named exactly `name` (case-insensitive; deprecated ones too).
    pub async fn find_suppliers_by_name(&self, name: &str) -> Result<Vec<Supplier>, Cin7Error> {
        let req =
            Request::get("supplier").query("Name", name.trim()).query("IncludeDeprecated", "true").query("Limit", 100);
        let v = self.call(req, "GET supplier?Name=", &format!("suppliers named {name:?}")).await?;
        let list = v.get("SupplierList").and_then(Value::as_array).cloned().unwrap_or_default();
        Ok(list.iter().filter_map(supplier_from).filter(|s| s.name.trim().eq_ignore_ascii_case(name.trim())).collect())
    }

    /// Create a supplier (`POST supplier`). Not repeated after a lost answer.
    pub async fn create_supplier(&self, draft: &SupplierDraft) -> Result<Supplier, Cin7Error> {
        let name = draft.name.clone().unwrap_or_default();
        let what = format!("supplier {name:?}");
        let v = self
            .call(Request::post("supplier").json(&draft.json(None)), "POST supplier", &what)
            .await
            .map_err(|e| in_doubt(e, &what, "look it up by name before creating it again"))?;
        Self::first_supplier(&v, "POST supplier")
    }

    /// Create a supplier unless one of that name exists; after a lost answer, look again.
    pub async fn create_supplier_once(&self, draft: &SupplierDraft) -> Result<Written<Supplier>, Cin7Error> {
        let name = draft
            .name
            .clone()
            .ok_or_else(|| Cin7Error::Invalid { what: "a new supplier".into(), problem: "Name is required".into() })?;
        if let Some(s) = self.find_suppliers_by_name(&name).await?.into_iter().next() {
            return Ok(Written::Found(s));
        }
        match self.create_supplier(draft).await {
            Ok(s) => Ok(Written::Created(s)),
            Err(e @ Cin7Error::InDoubt { .. }) => match self.find_suppliers_by_name(&name).await?.into_iter().next() {
                Some(s) => Ok(Written::Found(s)),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Change a supplier's given fields (`PUT supplier` by `ID`). A lost answer may be repeated
    /// (the same values again), but is reported so the caller re-reads.
    pub async fn update_supplier(&self, id: &str, draft: &SupplierDraft) -> Result<Supplier, Cin7Error> {
        let id = norm_id(id);
        let what = format!("supplier {id}");
        let v = self.call(Request::put("supplier").json(&draft.json(Some(&id))), "PUT supplier", &what).await?;
        Self::first_supplier(&v, "PUT supplier")
    }
}
