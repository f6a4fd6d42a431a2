//! Cin7 Core as a target, for the flows that write into Cin7 (from Acumatica): purchases and
//! suppliers, on top of [`crate::writes`].
//!
//! - [`PurchaseTarget`]: an order raised in another system becomes a Cin7 purchase, created
//!   `DRAFT`, its lines posted as a draft order, then authorised in the separate call Cin7
//!   requires. Natural key: the origin reference (`Acumatica Normal PO000123`), kept in an
//!   additional attribute and the note, by which the purchase is found again before any create
//!   and after a lost answer. A purchase an earlier attempt left at the draft stage is finished,
//!   never created twice. Once Cin7 has authorised the order it takes no more changes: a later
//!   change at the origin is refused naming the purchase and what a person can do.
//! - [`SupplierTarget`]: suppliers by their Cin7 ID (the pairing) or exact name (unique in
//!   Cin7), created with Cin7's required fields and updated by ID (the address and contact that
//!   exist are changed, not added). The two-way supplier sync in `mlc-flows` decides what to
//!   write; this part reads and writes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlc_core::engine::flow::{Found, StepError};
use mlc_core::engine::model::{DocFacts, TargetRef};
use mlc_core::engine::parts::{Target, TargetSpec};
use rust_decimal::Decimal;

use crate::client::Cin7Client;
use crate::errors::Cin7Error;
use crate::model::{DocStatus, Purchase, Supplier};
use crate::writes::{OrderLineDraft, PurchaseDraft, SupplierDraft, Written};

fn spec(connection: &str, entity: &str) -> TargetSpec {
    TargetSpec { connection: connection.to_string(), system: "cin7".into(), entity: entity.into() }
}

/// A purchase to write.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseDoc {
    /// The purchase (`supplier_name` may be empty: it is read from Cin7 by the supplier's ID,
    /// since the lookup searches by the name Cin7 holds).
    pub draft: PurchaseDraft,
    /// What it is, for people (`Acumatica Normal PO000013 from Bayside Janitorial Supply`).
    pub label: String,
    /// The Cin7 purchase this order is already known to be (the order came from Cin7 in the first
    /// place): it is read by ID instead of searched for, and never written.
    pub known: Option<String>,
    /// The purchase ml-connector made for this origin before (the stored pairing): read by ID,
    /// and used when it still carries the origin, instead of searching the supplier's purchases.
    pub paired: Option<String>,
    /// Only purchases Cin7 stamped after this can be this one: bounds the search to the supplier's
    /// recent purchases. Leave it `None` unless the bound is certain (a missed match is a second purchase).
    pub not_before: Option<DateTime<Utc>>,
}

impl PurchaseDoc {
    fn total(&self) -> Decimal {
        self.draft.lines.iter().map(OrderLineDraft::total).sum()
    }
}

/// Purchases.
pub struct PurchaseTarget {
    spec: TargetSpec,
    client: Cin7Client,
}

impl PurchaseTarget {
    pub fn new(connection: &str, client: Cin7Client) -> Self {
        PurchaseTarget { spec: spec(connection, "purchase"), client }
    }

    fn tref(p: &Purchase) -> TargetRef {
        TargetRef {
            system: "cin7".into(),
            entity: "purchase".into(),
            id: p.id.clone(),
            display: Some(format!("purchase {} ({})", p.order_number, p.supplier_name)),
            status: Some(format!("{}, order {}", p.status, p.order.status.as_str())),
        }
    }

    /// The draft with the supplier's name as Cin7 has it.
    async fn named(&self, doc: &PurchaseDoc) -> Result<PurchaseDraft, StepError> {
        let mut d = doc.draft.clone();
        if d.supplier_name.trim().is_empty() {
            let s = self.client.get_supplier(&d.supplier_id).await?.ok_or_else(|| {
                StepError::permanent(format!(
                    "Cin7 has no supplier {} (the pairing of {} points at it): re-run the supplier sync, or correct the `supplier` mapping",
                    d.supplier_id, doc.label
                ))
            })?;
            d.supplier_name = s.name;
        }
        Ok(d)
    }

    async fn existing(&self, doc: &PurchaseDoc, draft: &PurchaseDraft) -> Result<Option<Purchase>, Cin7Error> {
        if let Some(id) = &doc.paired
            && let Some(p) = self.client.get_purchase(id).await?
            && carries(&p, &draft.reference)
            && !p.is_voided()
        {
            return Ok(Some(p));
        }
        let found =
            self.client.find_purchase_by_reference(&draft.supplier_name, &draft.reference, doc.not_before).await?;
        Ok(found.filter(|p| !p.is_voided()))
    }

    /// Whether the purchase's order holds exactly the draft's lines (product, quantity, price).
    pub fn same_lines(p: &Purchase, draft: &PurchaseDraft) -> bool {
        let key = |sku: Option<&str>, q: Decimal, price: Decimal| {
            (sku.unwrap_or("").trim().to_ascii_uppercase(), q.normalize(), price.normalize())
        };
        let mut have: Vec<_> = p
            .order
            .lines
            .iter()
            .map(|l| key(l.sku.as_deref(), l.quantity.unwrap_or_default(), l.price.unwrap_or_default()))
            .collect();
        let mut want: Vec<_> = draft.lines.iter().map(|l| key(l.sku.as_deref(), l.quantity, l.price)).collect();
        have.sort();
        want.sort();
        have == want
    }
}

#[async_trait]
impl Target for PurchaseTarget {
    type Doc = PurchaseDoc;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    fn natural_key(&self, doc: &PurchaseDoc) -> String {
        doc.draft.reference.trim().to_string()
    }

    fn facts(&self, doc: &PurchaseDoc) -> DocFacts {
        DocFacts {
            source_doc: Some(doc.draft.reference.clone()),
            amount: Some(doc.total()),
            currency: None,
            date: None,
            label: Some(doc.label.clone()),
        }
    }

    async fn lookup(&self, doc: &PurchaseDoc) -> Result<Option<Found>, StepError> {
        if let Some(id) = &doc.known {
            let p = self.client.get_purchase(id).await?.ok_or_else(|| {
                StepError::permanent(format!(
                    "{} came from Cin7 purchase {id}, which Cin7 no longer has: it is not raised in Cin7 again by itself",
                    doc.label
                ))
            })?;
            let mut f = Found::new(Self::tref(&p));
            f.facts.source_doc = Some(doc.draft.reference.clone());
            f.facts.label = Some(format!("purchase {} (the order came from it)", p.order_number));
            return Ok(Some(f));
        }
        let draft = self.named(doc).await?;
        let Some(p) = self.existing(doc, &draft).await? else { return Ok(None) };
        let facts = DocFacts {
            source_doc: Some(doc.draft.reference.clone()),
            amount: p.order.totals.before_tax,
            currency: p.currency.clone(),
            date: p.order_date,
            label: Some(format!("purchase {} ({}), order {}", p.order_number, p.status, p.order.status.as_str())),
        };
        let mut found = Found::new(Self::tref(&p)).with_facts(facts);
        found.up_to_date = p.order.status == DocStatus::Authorised && Self::same_lines(&p, &draft);
        Ok(Some(found))
    }

    async fn create(&self, doc: &PurchaseDoc) -> Result<TargetRef, StepError> {
        let draft = self.named(doc).await?;
        // The engine looked it up just before, under the natural-key lock: create without a second search.
        Ok(Self::tref(self.client.finish_purchase(None, &draft, doc.not_before).await?.record()))
    }

    async fn update(&self, doc: &PurchaseDoc, existing: &TargetRef) -> Result<TargetRef, StepError> {
        let draft = self.named(doc).await?;
        let current = self.client.get_purchase(&existing.id).await?;
        match current {
            Some(p) if p.order.status == DocStatus::Authorised && !Self::same_lines(&p, &draft) => {
                Err(StepError::permanent(format!(
                    "{} changed, but Cin7 purchase {} is authorised and Cin7 takes no more changes to its order: change it in Cin7 by hand (void and re-raise, or add a purchase for the difference)",
                    doc.label, p.order_number
                )))
            }
            Some(p) if p.order.status == DocStatus::Authorised => Ok(Self::tref(&p)),
            // Left at the draft stage by an earlier attempt: finish it.
            Some(p) => Ok(Self::tref(self.client.finish_purchase(Some(p), &draft, doc.not_before).await?.record())),
            // Gone since the lookup: made again, found by reference first.
            None => Ok(Self::tref(self.client.create_purchase_once(&draft, doc.not_before).await?.record())),
        }
    }
}

/// Whether a purchase carries `reference` (in an additional attribute or its note).
fn carries(p: &Purchase, reference: &str) -> bool {
    let r = reference.trim();
    p.additional_attributes.values().any(|v| v.trim() == r) || p.note.as_deref().is_some_and(|n| n.trim() == r)
}

/// Suppliers, read and written for the two-way supplier sync (which decides what to write).
pub struct SupplierTarget {
    spec: TargetSpec,
    client: Cin7Client,
}

impl SupplierTarget {
    pub fn new(connection: &str, client: Cin7Client) -> Self {
        SupplierTarget { spec: spec(connection, "supplier"), client }
    }

    pub fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    pub fn client(&self) -> &Cin7Client {
        &self.client
    }

    /// A supplier's [`TargetRef`] (its Cin7 ID).
    pub fn tref(s: &Supplier) -> TargetRef {
        TargetRef {
            system: "cin7".into(),
            entity: "supplier".into(),
            id: s.id.clone(),
            display: Some(format!("supplier {}", s.name)),
            status: Some(s.status.clone()),
        }
    }

    /// The supplier with Cin7 ID `paired` (when it still exists), else the one named `name`
    /// (an active one first).
    pub async fn find(&self, paired: Option<&str>, name: &str) -> Result<Option<Supplier>, Cin7Error> {
        if let Some(id) = paired.map(str::trim).filter(|s| !s.is_empty())
            && let Some(s) = self.client.get_supplier(id).await?
        {
            return Ok(Some(s));
        }
        let mut named = self.client.find_suppliers_by_name(name).await?;
        named.sort_by_key(|s| !s.is_active());
        Ok(named.into_iter().next())
    }

    /// Create a supplier unless one of that name exists (looked up before and after a lost answer).
    pub async fn create(&self, draft: &SupplierDraft) -> Result<Written<Supplier>, Cin7Error> {
        self.client.create_supplier_once(draft).await
    }

    /// Change the given fields of supplier `id`.
    pub async fn update(&self, id: &str, draft: &SupplierDraft) -> Result<Supplier, Cin7Error> {
        self.client.update_supplier(id, draft).await
    }
}
