//! Acumatica as a target: AP bills, purchase orders and vendors, written once here and used by
//! every flow into Acumatica.
//!
//! - [`BillTarget`]: a supplier invoice becomes a bill (`Type` Bill), a credit note a debit
//!   adjustment. Natural key: type + vendor + `VendorRef` (the supplier's number). The lookup
//!   finds the bill whoever entered it and reads what it is (amount, date, and the origin marker
//!   in `Description` when ml-connector wrote it), so the engine tells the same bill from a
//!   different one sharing the number. Lines are linked to the purchase order's lines when the
//!   order exists and is open for billing (`POOrderType`/`POOrderNbr`/`POLine`): Acumatica then
//!   books them against the PO accrual. The bill is left on hold, balanced, or released
//!   ([`BillState`]); a bill that exists but has not reached the wanted state yet (a release that
//!   failed, an approval pending) is brought there by [`BillTarget`]'s update, never re-created.
//! - [`PurchaseOrderTarget`]: an order from another system becomes a purchase order found again
//!   by vendor + the source's order number (kept in `VendorRef`, setting `po_reference_field`).
//!   Later changes update it while Acumatica allows (On Hold, Open, approval states): lines are
//!   matched by item (or account and description), quantities and costs changed, lines added and
//!   removed; a line already received is never removed. Once the order is completed, closed or
//!   canceled, the update is refused naming the status and what a person can do.
//! - Both check the document's currency against the tenant's currencies before writing
//!   (`preflight`; read once per connection, see [`crate::gl`]): a purchase in a currency the
//!   tenant does not have is held with the rule named instead of being refused at the post.
//! - [`VendorTarget`]: vendors by code (the code shared with the other system) or, for a record
//!   that has none yet, by exact name; new vendors get a free code made from a wanted base
//!   (`BASE`, `BASE01`, …), a taken code is never overwritten. The two-way supplier sync in
//!   `mlc-flows` decides what to write; this part reads and writes.

use async_trait::async_trait;
use mlc_core::engine::flow::{Found, StepError};
use mlc_core::engine::model::{DocFacts, TargetRef};
use mlc_core::engine::parts::{Target, TargetSpec};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::client::AcumaticaClient;
use crate::errors::AcumaticaError;
use crate::model::{
    Bill, BillDraft, BillStatus, PoDraft, PoLink, PoStatus, PoType, PoUpdate, PurchaseOrder, Vendor, VendorDraft,
    Written, plan_line_changes,
};

fn spec(connection: &str, entity: &str) -> TargetSpec {
    TargetSpec { connection: connection.to_string(), system: "acumatica".into(), entity: entity.into() }
}

// ---------------------------------------------------------------------------------------------
// Bills

/// Where a new bill is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BillState {
    /// On Hold: an AP clerk checks it and takes it off hold.
    Hold,
    /// Balanced: ready to release (by a person, or Acumatica's own schedule).
    #[default]
    Balanced,
    /// Released (`ReleaseBill`): Open, posted to the ledger.
    Release,
}

impl BillState {
    /// Whether a bill in `status` has reached this state (or gone past it, or waits for an
    /// approval ml-connector cannot give).
    pub fn reached(&self, status: &BillStatus) -> bool {
        match self {
            BillState::Hold => true,
            BillState::Balanced => *status != BillStatus::OnHold,
            BillState::Release => status.released() || *status == BillStatus::PendingApproval,
        }
    }
}

/// The purchase order a bill's lines should be linked to, when it exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoRef {
    /// The order ml-connector raised for the source's order number (vendor + reference field).
    ByReference { reference: String },
    /// A known Acumatica order (the source record came from it).
    Order { kind: PoType, nbr: String },
}

/// A bill to write.
#[derive(Debug, Clone, PartialEq)]
pub struct BillDoc {
    pub draft: BillDraft,
    /// Link lines to this order's lines when it is open for billing.
    pub po: Option<PoRef>,
    pub state: BillState,
    /// The origin marker written as the bill's `Description` (`Cin7 PO-00105 SINV-5005`): how a
    /// bill ml-connector wrote is recognised as this same document.
    pub origin: String,
    /// What every origin marker of the writing flow starts with (`Cin7 `): a description that does
    /// not is a bill keyed by a person, compared by amount and date instead.
    pub origin_prefix: String,
    /// The document's total (positive).
    pub total: Decimal,
}

/// AP bills and debit adjustments.
pub struct BillTarget {
    spec: TargetSpec,
    client: AcumaticaClient,
}

impl BillTarget {
    pub fn new(connection: &str, client: AcumaticaClient) -> Self {
        BillTarget { spec: spec(connection, "bill"), client }
    }

    fn tref(b: &Bill) -> TargetRef {
        TargetRef {
            system: "acumatica".into(),
            entity: "bill".into(),
            id: b.id.clone(),
            display: Some(format!(
                "{} {} (vendor {}, ref {})",
                b.kind,
                b.reference_nbr,
                b.vendor,
                b.vendor_ref.as_deref().unwrap_or("")
            )),
            status: Some(b.status.to_string()),
        }
    }

    /// The bill of this document's type, vendor and reference (any status but voided).
    async fn existing(&self, doc: &BillDoc) -> Result<Option<Bill>, AcumaticaError> {
        let d = &doc.draft;
        let found = self.client.find_bills(&d.vendor, &d.vendor_ref).await?;
        Ok(found.into_iter().find(|b| b.kind == d.kind && b.status != BillStatus::Voided))
    }

    /// Link lines to the order's lines (same item, first unused) when the order is open for
    /// billing; Acumatica then takes the account from the PO line (the accrual).
    async fn link(&self, doc: &BillDoc) -> Result<BillDraft, AcumaticaError> {
        let mut draft = doc.draft.clone();
        let po = match &doc.po {
            None => return Ok(draft),
            Some(PoRef::Order { kind, nbr }) => self.client.get_purchase_order(kind, nbr).await?,
            Some(PoRef::ByReference { reference }) => {
                let found = self.client.find_purchase_orders(&draft.vendor, reference).await?;
                match found.into_iter().find(|p| !matches!(p.status, PoStatus::Canceled)) {
                    Some(p) => self.client.get_purchase_order_by_id(&p.id).await?,
                    None => None,
                }
            }
        };
        let Some(po) = po.filter(|p| matches!(p.status, PoStatus::Open | PoStatus::Completed)) else {
            return Ok(draft);
        };
        if !po.vendor_id.eq_ignore_ascii_case(&draft.vendor) {
            return Ok(draft);
        }
        let mut used = vec![false; po.lines.len()];
        for l in &mut draft.lines {
            let Some(item) = l.inventory_id.as_deref() else { continue };
            let hit = po.lines.iter().enumerate().position(|(i, pl)| {
                !used[i] && !pl.cancelled && pl.inventory_id.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(item))
            });
            if let Some(i) = hit {
                used[i] = true;
                l.po = Some(PoLink {
                    order_type: po.kind.clone(),
                    order_nbr: po.order_nbr.clone(),
                    line: po.lines[i].line_nbr,
                });
                l.account = None;
                l.subaccount = None;
            }
        }
        Ok(draft)
    }

    /// Bring a bill to the wanted state: off hold, then released.
    async fn advance(&self, bill: Bill, state: BillState) -> Result<Bill, AcumaticaError> {
        let mut b = bill;
        if state != BillState::Hold && b.status == BillStatus::OnHold {
            b = self.client.set_bill_hold(&b.id, false).await?;
        }
        if state == BillState::Release && b.status == BillStatus::Balanced {
            b = self.client.release_bill(&b.id).await?;
        }
        Ok(b)
    }
}

#[async_trait]
impl Target for BillTarget {
    type Doc = BillDoc;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    fn natural_key(&self, doc: &BillDoc) -> String {
        format!("{}#{}#{}", doc.draft.kind.code(), doc.draft.vendor.trim(), doc.draft.vendor_ref.trim())
    }

    fn facts(&self, doc: &BillDoc) -> DocFacts {
        let d = &doc.draft;
        DocFacts {
            source_doc: Some(doc.origin.clone()),
            amount: Some(doc.total),
            currency: d.currency.clone(),
            date: d.date,
            label: Some(format!(
                "{} {} from vendor {}, {} {}{}",
                d.kind,
                d.vendor_ref,
                d.vendor,
                d.currency.as_deref().unwrap_or(""),
                doc.total.round_dp(2),
                d.date.map(|x| format!(", {x}")).unwrap_or_default()
            )),
        }
    }

    fn rekey(&self, doc: &mut BillDoc, number: &str) -> Result<(), String> {
        let n = number.trim();
        if n.is_empty() {
            return Err("the new supplier reference is empty".into());
        }
        doc.draft.vendor_ref = n.to_string();
        Ok(())
    }

    /// The currency pre-check: a bill in a currency the tenant does not have is held, naming the rule.
    async fn preflight(&self, doc: &BillDoc) -> Result<(), StepError> {
        if let Some(c) = &doc.draft.currency {
            let what = format!("{} {} from vendor {}", doc.draft.kind, doc.draft.vendor_ref.trim(), doc.draft.vendor);
            self.client.check_currency(c, &what).await?;
        }
        Ok(())
    }

    async fn lookup(&self, doc: &BillDoc) -> Result<Option<Found>, StepError> {
        let Some(b) = self.existing(doc).await? else { return Ok(None) };
        let ours =
            b.description.as_deref().filter(|d| !doc.origin_prefix.is_empty() && d.starts_with(&doc.origin_prefix));
        let facts = DocFacts {
            source_doc: ours.map(str::to_string),
            amount: Some(b.amount),
            currency: b.currency.clone(),
            date: b.date,
            label: Some(format!(
                "{} {} from vendor {}, {} {}{} ({})",
                b.kind,
                b.vendor_ref.as_deref().unwrap_or(""),
                b.vendor,
                b.currency.as_deref().unwrap_or(""),
                b.amount.round_dp(2),
                b.date.map(|x| format!(", {x}")).unwrap_or_default(),
                b.status
            )),
        };
        let mut found = Found::new(Self::tref(&b)).with_facts(facts);
        found.up_to_date = doc.state.reached(&b.status);
        Ok(Some(found))
    }

    async fn create(&self, doc: &BillDoc) -> Result<TargetRef, StepError> {
        let mut draft = self.link(doc).await?;
        draft.description = Some(doc.origin.clone());
        draft.hold = doc.state == BillState::Hold;
        // The engine looked the bill up just before, under the natural-key lock: create without a
        // second lookup; a lost answer is looked up at once (and left in doubt if not found).
        let bill = match self.client.create_bill(&draft).await {
            Ok(b) => b,
            Err(e) if e.is_in_doubt() => match self.existing(doc).await? {
                Some(b) => b,
                None => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        };
        let what = Self::tref(&bill).display.unwrap_or_default();
        match self.advance(bill, doc.state).await {
            Ok(b) => Ok(Self::tref(&b)),
            // The bill is there: the next attempt finds it and only advances it.
            Err(e) => Err(StepError::retryable(format!(
                "created {what} in Acumatica, but bringing it to {:?} failed: {e}; it is looked up and advanced on the next attempt",
                doc.state
            ))),
        }
    }

    async fn update(&self, doc: &BillDoc, existing: &TargetRef) -> Result<TargetRef, StepError> {
        let bill = self.client.get_bill_by_id(&existing.id).await?.ok_or_else(|| {
            StepError::retryable(format!("Acumatica bill {} is gone since it was looked up", existing.id))
        })?;
        Ok(Self::tref(&self.advance(bill, doc.state).await?))
    }
}

// ---------------------------------------------------------------------------------------------
// Purchase orders

/// A purchase order to write.
#[derive(Debug, Clone, PartialEq)]
pub struct PoDoc {
    /// The order (its `reference` is the source's order number, the natural key with the vendor).
    pub draft: PoDraft,
    /// What it is, for people (`Cin7 PO-00102 from Bayside Janitorial Supply`).
    pub label: String,
}

impl PoDoc {
    fn reference(&self) -> &str {
        self.draft.reference.as_deref().unwrap_or("")
    }

    fn total(&self) -> Decimal {
        self.draft.lines.iter().map(|l| (l.qty * l.unit_cost).round_dp(2)).sum()
    }
}

/// Purchase orders.
pub struct PurchaseOrderTarget {
    spec: TargetSpec,
    client: AcumaticaClient,
}

impl PurchaseOrderTarget {
    pub fn new(connection: &str, client: AcumaticaClient) -> Self {
        PurchaseOrderTarget { spec: spec(connection, "purchase-order"), client }
    }

    /// `Normal|PO000123`: the id a purchase order's [`TargetRef`] carries (readable, and enough to
    /// read it back by keys).
    pub fn tref(p: &PurchaseOrder) -> TargetRef {
        TargetRef {
            system: "acumatica".into(),
            entity: "purchase-order".into(),
            id: p.id.clone(),
            display: Some(format!("{} {} (vendor {})", p.kind, p.order_nbr, p.vendor_id)),
            status: Some(p.status.to_string()),
        }
    }

    async fn existing(&self, doc: &PoDoc) -> Result<Option<PurchaseOrder>, AcumaticaError> {
        let found = self.client.find_purchase_orders(&doc.draft.vendor_id, doc.reference()).await?;
        match found.into_iter().find(|p| p.kind == doc.draft.kind) {
            Some(p) => self.client.get_purchase_order_by_id(&p.id).await,
            None => Ok(None),
        }
    }

    /// The changes that make `current` what `doc` wants (lines, promised date).
    pub fn changes(current: &PurchaseOrder, doc: &PoDoc) -> (PoUpdate, Vec<String>) {
        let (lines, kept) = plan_line_changes(current, &doc.draft.lines);
        let promised_on = doc.draft.promised_on.filter(|p| Some(*p) != current.promised_on);
        let kept = kept
            .iter()
            .map(|l| {
                format!(
                    "line {} ({}) is received already and stays",
                    l.line_nbr.unwrap_or(0),
                    l.inventory_id.as_deref().or(l.description.as_deref()).unwrap_or("")
                )
            })
            .collect();
        (PoUpdate { hold: None, description: None, promised_on, lines }, kept)
    }
}

#[async_trait]
impl Target for PurchaseOrderTarget {
    type Doc = PoDoc;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    fn natural_key(&self, doc: &PoDoc) -> String {
        format!("{}#{}#{}", doc.draft.kind.code(), doc.draft.vendor_id.trim(), doc.reference().trim())
    }

    fn facts(&self, doc: &PoDoc) -> DocFacts {
        DocFacts {
            source_doc: Some(doc.label.clone()),
            amount: Some(doc.total()),
            currency: doc.draft.currency.clone(),
            date: doc.draft.date,
            label: Some(doc.label.clone()),
        }
    }

    /// The currency pre-check: an order in a currency the tenant does not have is held, naming the rule.
    async fn preflight(&self, doc: &PoDoc) -> Result<(), StepError> {
        if let Some(c) = &doc.draft.currency {
            self.client.check_currency(c, &doc.label).await?;
        }
        Ok(())
    }

    async fn lookup(&self, doc: &PoDoc) -> Result<Option<Found>, StepError> {
        let Some(p) = self.existing(doc).await? else { return Ok(None) };
        let (update, _) = Self::changes(&p, doc);
        let facts = DocFacts {
            source_doc: Some(doc.label.clone()),
            amount: Some(p.line_total),
            currency: p.currency.clone(),
            date: p.date,
            label: Some(format!("{} {} ({}), {}", p.kind, p.order_nbr, p.status, p.line_total.round_dp(2))),
        };
        let mut found = Found::new(Self::tref(&p)).with_facts(facts);
        found.up_to_date = update.is_empty();
        Ok(Some(found))
    }

    async fn create(&self, doc: &PoDoc) -> Result<TargetRef, StepError> {
        // Looked up by the engine just before, under the natural-key lock; a lost answer is looked up at once.
        let p = match self.client.create_purchase_order(&doc.draft).await {
            Ok(p) => p,
            Err(e) if e.is_in_doubt() => match self.existing(doc).await? {
                Some(p) => p,
                None => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        };
        Ok(Self::tref(&p))
    }

    async fn update(&self, doc: &PoDoc, existing: &TargetRef) -> Result<TargetRef, StepError> {
        let current = self.client.get_purchase_order_by_id(&existing.id).await?.ok_or_else(|| {
            StepError::permanent(format!(
                "Acumatica purchase order {} was deleted since it was looked up; {} is not raised again by itself: replay it to create a new order",
                existing.display.as_deref().unwrap_or(&existing.id),
                doc.label
            ))
        })?;
        let (update, kept) = Self::changes(&current, doc);
        if update.is_empty() {
            return Ok(Self::tref(&current));
        }
        if !current.status.editable() {
            return Err(StepError::permanent(format!(
                "{} changed, but Acumatica purchase order {} {} is {} and no longer takes changes: change it in Acumatica by hand (or raise a new order for the difference)",
                doc.label, current.kind, current.order_nbr, current.status
            )));
        }
        let updated = self.client.update_purchase_order(&current.id, &update).await?;
        let mut t = Self::tref(&updated);
        if !kept.is_empty() {
            t.status = Some(format!("{}; {}", updated.status, kept.join("; ")));
        }
        Ok(t)
    }
}

// ---------------------------------------------------------------------------------------------
// Vendors

/// Vendors, read and written for the two-way supplier sync (which decides what to write).
pub struct VendorTarget {
    spec: TargetSpec,
    client: AcumaticaClient,
}

impl VendorTarget {
    pub fn new(connection: &str, client: AcumaticaClient) -> Self {
        VendorTarget { spec: spec(connection, "vendor"), client }
    }

    pub fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    pub fn client(&self) -> &AcumaticaClient {
        &self.client
    }

    /// `V10001`: a vendor's [`TargetRef`] carries its code (the code shared with the other system).
    pub fn tref(v: &Vendor) -> TargetRef {
        TargetRef {
            system: "acumatica".into(),
            entity: "vendor".into(),
            id: v.vendor_id.clone(),
            display: Some(format!("vendor {} ({})", v.vendor_id, v.name)),
            status: Some(v.status.to_string()),
        }
    }

    /// The vendor with `code`, else (no code yet) the one named exactly `name` (case-insensitive;
    /// an inactive one only when no other has the name).
    pub async fn find(&self, code: Option<&str>, name: &str) -> Result<Option<Vendor>, AcumaticaError> {
        if let Some(c) = code.map(str::trim).filter(|c| !c.is_empty()) {
            return self.client.get_vendor(c).await;
        }
        let mut named = self.client.find_vendors_by_name(name).await?;
        named.sort_by_key(|v| v.status == crate::model::VendorStatus::Inactive);
        Ok(named.into_iter().next())
    }

    /// Create a vendor. With a code in the draft, under that code (a vendor already holding it
    /// under another name is [`AcumaticaError::Exists`], never overwritten). Without one, under
    /// the first free code of `base`, `BASE01` … `BASE99`; a vendor found under a candidate with
    /// the same name is this one (an earlier attempt's lost answer).
    pub async fn create(&self, draft: &VendorDraft, base: &str) -> Result<Written<Vendor>, AcumaticaError> {
        let name = draft.name.clone().unwrap_or_default();
        let same = |v: &Vendor| v.name.trim().eq_ignore_ascii_case(name.trim());
        let fixed = !draft.vendor_id.trim().is_empty();
        let candidates: Vec<String> = if fixed {
            vec![draft.vendor_id.trim().to_string()]
        } else {
            let b: String =
                base.chars().filter(|c| c.is_ascii_alphanumeric()).take(10).collect::<String>().to_uppercase();
            let b = if b.is_empty() { "VENDOR".to_string() } else { b };
            std::iter::once(b.clone()).chain((1..100).map(|n| format!("{}{n:02}", &b[..b.len().min(8)]))).collect()
        };
        for code in candidates {
            let d = VendorDraft { vendor_id: code.clone(), ..draft.clone() };
            match self.client.create_vendor_once(&d).await? {
                Written::Created(v) => return Ok(Written::Created(v)),
                Written::Found(v) if same(&v) => return Ok(Written::Found(v)),
                Written::Found(v) if fixed => {
                    return Err(AcumaticaError::Refused {
                        what: format!("vendor {code} for {name:?}"),
                        call: "PUT Vendor".into(),
                        status: 412,
                        words: format!("vendor {code} already exists as {:?}", v.name),
                        fix: Some("the shared code is taken by another vendor: give one of them another code".into()),
                    });
                }
                Written::Found(_) => continue,
            }
        }
        Err(AcumaticaError::Unexpected {
            call: "PUT Vendor".into(),
            detail: format!("no free vendor code like {base} for {name:?}"),
            fix: Some("create the vendor in Acumatica by hand with the code you want; it is paired by name".into()),
        })
    }

    /// Change the given fields of vendor `code` (update-only).
    pub async fn update(&self, draft: &VendorDraft) -> Result<Vendor, AcumaticaError> {
        self.client.update_vendor(draft).await
    }
}
