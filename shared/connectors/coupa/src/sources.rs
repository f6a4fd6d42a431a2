//! Coupa as a source: invoices and suppliers, each read back once per version however many flows
//! consume them (the Deltek AP, voids and vendor flows, and any later flow on the same connection).
//!
//! - [`InvoiceSource`] (`<connection>/invoice`) runs Coupa's two export passes as one poll:
//!   **approved** invoices by the export flag (`status=approved&exported=false`), then **voided**
//!   invoices by `updated-at` watermark (`status=voided&updated-at[gt_or_eq]=<since>`; an invoice
//!   exported and then voided keeps `exported=true` unless the instance resets it, so a pass on
//!   the flag would never show it). Both pass page **by key** (`id[gt]=<last id>`, 50 a page,
//!   one page per poll step), so invoices marked exported while the poll runs (by a webhook's
//!   work, by another worker) shift nothing: the exported-flag paging hazard cannot skip a record.
//!   Webhooks `invoice.approved` / `invoice.voided` hint the same records.
//! - [`SupplierSource`] (`<connection>/supplier`): suppliers have no export flag, so they go by
//!   `updated-at` watermark with the shared since+page cursor ([`SincePageCursor`]); webhooks
//!   `supplier.updated`. The record carries the supplier's tax and bank data from
//!   `/api/supplier_information` when asked to.
//!
//! **Versions.** An invoice's version is a hash of what the flows read ([`content_version`]):
//! status, supplier, dates, lines, coding, charges, tax, totals — not the export flag, the stamps
//! or the header custom fields ml-connector writes back, so marking an invoice exported or writing
//! the voucher id never makes new work.
//!
//! **Telling Coupa, again.** The AP flow marks an invoice exported after its voucher is in Deltek
//! (`FlowDef::after_settled`). When that mark fails (Coupa down, a validation the instance
//! enforces on API updates) or the worker dies between posting and marking, the invoice stays
//! approved and unexported, and the engine treats a re-read of the same version as done. So:
//! an approved invoice still unexported is listed with an observed version that changes every
//! `recheck` (default an hour) once it is older than that, which makes a poll read it back; and
//! the read-back looks in the engine's store for an item of each settling flow
//! ([`InvoiceSource::settle_for`]) that already holds this version in the target. If there is one,
//! the record asks that flow for a "settle again" document ([`InvoiceRecord::resettle`]): a new
//! version whose lookup finds the voucher (same document: no second post) and whose
//! `after_settled` marks the invoice. The same look tells the voids flow whether an invoice voided
//! before Coupa heard of its export had reached Deltek ([`InvoiceRecord::in_target`]).
//!
//! A record the list just showed but the read cannot find (404) is [`ReadBack::Gone`]; every
//! other failure is an error with its class.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use mlc_core::engine::cursor::SincePageCursor;
use mlc_core::engine::flow::{DiscoverContext, DiscoveryPage, ReadBack, StepError};
use mlc_core::engine::model::{Cursor, Hint, ItemKey, ItemState, Origin, TargetRef, WorkItem};
use mlc_core::engine::parts::{ReadContext, Source, SourceRecord, SourceSpec};
use mlc_core::engine::ports::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::client::CoupaClient;
use crate::invoices::ExportPass;
use crate::model::{Invoice, Supplier, SupplierInformation, version_stamp};
use crate::webhook::{ENTITY_INVOICE, ENTITY_SUPPLIER};

/// How many times one document is settled again before the source gives up on telling Coupa
/// (with the hourly recheck: a day). The item's trail shows every failed attempt.
pub const MAX_RESETTLES: u32 = 24;

/// How the invoice passes page and when a waiting invoice is looked at again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvoiceListOptions {
    /// Invoices per page (1–50).
    pub page_size: u32,
    /// How far back each voided pass re-lists (late commits).
    pub overlap: Duration,
    /// An approved invoice still unexported this long after its last change is read back again,
    /// once per `recheck` (a failed mark is retried; a waiting invoice is looked at again).
    pub recheck: Duration,
}

impl Default for InvoiceListOptions {
    fn default() -> Self {
        InvoiceListOptions { page_size: 50, overlap: Duration::seconds(120), recheck: Duration::minutes(60) }
    }
}

/// A flow that tells Coupa when a document is in its target (marks it exported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settler {
    pub flow: String,
    pub target_connection: String,
}

/// An invoice as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct InvoiceRecord {
    pub invoice: Arc<Invoice>,
    /// [`content_version`] of the invoice.
    pub content: String,
    /// Settling flows (by name) that already hold this approved invoice in their target while
    /// Coupa still says "not exported": the n-th time it is settled again.
    pub resettle: BTreeMap<String, u32>,
    /// Target connections into which a settling flow put this invoice while it was approved
    /// (read for invoices Coupa does not show as exported), with the record there.
    pub in_target: BTreeMap<String, TargetRef>,
}

impl InvoiceRecord {
    /// A record with nothing learnt from the engine (tests, tools).
    pub fn new(invoice: Invoice) -> Self {
        let content = content_version(&invoice);
        InvoiceRecord { invoice: Arc::new(invoice), content, resettle: BTreeMap::new(), in_target: BTreeMap::new() }
    }

    /// The document version flow `flow` should use: the content, or the content plus the
    /// settle-again generation.
    pub fn version_for(&self, flow: &str) -> String {
        match self.resettle.get(flow) {
            Some(n) if *n > 0 => format!("{}~s{n}", self.content),
            _ => self.content.clone(),
        }
    }
}

/// A hash of what the flows read from an invoice (see the module docs).
pub fn content_version(inv: &Invoice) -> String {
    let mut v = inv.clone();
    v.exported = false;
    v.last_exported_at = None;
    v.updated_at = None;
    v.created_at = None;
    v.custom_fields = serde_json::Map::new();
    v.amount_due = rust_decimal::Decimal::ZERO;
    let json = serde_json::to_vec(&v).unwrap_or_default();
    Sha256::digest(&json).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The observed version of a listed approved invoice: its stamp (what a webhook says too), plus
/// the number of whole `period`s it has waited since, once it has waited one (so a poll reads a
/// waiting invoice again once per period, and not more often).
pub fn recheck_version(updated_at: DateTime<Utc>, now: DateTime<Utc>, period: Duration) -> String {
    let stamp = version_stamp(updated_at);
    let period = period.num_seconds().max(60);
    match (now - updated_at).num_seconds() / period {
        n if n <= 0 => stamp,
        n => format!("{stamp}#r{n}"),
    }
}

/// The version the invoice had while approved (for a voided one: what its AP item was keyed by).
fn approved_twin(inv: &Invoice) -> String {
    let mut v = inv.clone();
    v.status = "approved".into();
    content_version(&v)
}

/// Where an invoice poll stands: in the approved pass after an id, or in the voided pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct InvoiceCursor {
    /// `Some(id)`: the approved pass continues after `id`; `None`: the voided pass runs.
    approved_after: Option<i64>,
    /// The voided pass's watermark (its `page` counts pages, informational).
    voided: SincePageCursor,
    voided_after: i64,
}

impl InvoiceCursor {
    fn load(cursor: Option<&Cursor>, start: Option<DateTime<Utc>>) -> Result<Self, StepError> {
        match cursor {
            None => Ok(InvoiceCursor {
                approved_after: Some(0),
                voided: SincePageCursor::load(None, start)?,
                voided_after: 0,
            }),
            Some(c) => serde_json::from_str(&c.value).map_err(|e| {
                StepError::permanent(format!(
                    "the cursor of {} is unreadable ({e}): {:?}; reset it with `mlc cursor reset {}`",
                    c.flow, c.value, c.flow
                ))
            }),
        }
    }

    fn value(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Coupa invoices: the approved and voided export passes, and invoice webhooks.
pub struct InvoiceSource {
    spec: SourceSpec,
    client: CoupaClient,
    opts: InvoiceListOptions,
    /// The engine's store, to see what settling flows already did (none: no settle-again).
    store: Option<Arc<dyn Store>>,
    settlers: Mutex<Vec<Settler>>,
}

impl InvoiceSource {
    pub fn new(connection: &str, client: CoupaClient, opts: InvoiceListOptions, store: Option<Arc<dyn Store>>) -> Self {
        InvoiceSource {
            spec: SourceSpec {
                connection: connection.to_string(),
                system: "coupa".into(),
                family: "invoice".into(),
                entities: vec![ENTITY_INVOICE.into()],
                has_webhooks: true,
            },
            client,
            opts,
            store,
            settlers: Mutex::new(Vec::new()),
        }
    }

    /// Flow `flow` (posting into `target_connection`) marks invoices exported once they are in
    /// its target: read-backs look for what it already did (see the module docs).
    pub fn settle_for(&self, flow: &str, target_connection: &str) {
        let mut s = self.settlers.lock().unwrap_or_else(|p| p.into_inner());
        if !s.iter().any(|x| x.flow == flow) {
            s.push(Settler { flow: flow.to_string(), target_connection: target_connection.to_string() });
        }
    }

    pub fn client(&self) -> &CoupaClient {
        &self.client
    }

    fn observed(&self, updated_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
        recheck_version(updated_at, now, self.opts.recheck)
    }

    fn item_key(flow: &str, hint: &Hint, inv: &Invoice, version: &str) -> ItemKey {
        ItemKey::new(flow, &hint.system, &inv.id.to_string(), version)
    }

    async fn item(store: &Arc<dyn Store>, key: &ItemKey) -> Result<Option<WorkItem>, StepError> {
        store.get_item(key).await.map_err(|e| {
            StepError::retryable(format!("reading ml-connector's own record {key} failed ({e}); trying again"))
        })
    }

    /// The settle-again generation for `flow`: the first `~s<n>` version not yet settled.
    async fn next_generation(
        store: &Arc<dyn Store>,
        flow: &str,
        hint: &Hint,
        inv: &Invoice,
        base: &str,
    ) -> Result<u32, StepError> {
        for n in 1..=MAX_RESETTLES {
            let key = Self::item_key(flow, hint, inv, &format!("{base}~s{n}"));
            match Self::item(store, &key).await? {
                Some(i) if i.state.is_terminal() => continue,
                _ => return Ok(n),
            }
        }
        tracing::warn!(system = "coupa", invoice = inv.id, flow, "gave up telling Coupa the invoice is exported");
        Ok(0)
    }

    /// What the settling flows already did with this invoice (see the module docs).
    async fn learn(&self, hint: &Hint, rec: &mut InvoiceRecord) -> Result<(), StepError> {
        let inv = rec.invoice.clone();
        let Some(store) = &self.store else { return Ok(()) };
        if inv.exported || !(inv.is_approved() || inv.is_voided()) {
            return Ok(());
        }
        let settlers = self.settlers.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let base = if inv.is_approved() { rec.content.clone() } else { approved_twin(&inv) };
        for s in settlers {
            let Some(item) = Self::item(store, &Self::item_key(&s.flow, hint, &inv, &base)).await? else { continue };
            let in_target =
                item.state == ItemState::Posted || (item.state == ItemState::Skipped && item.target.is_some());
            if !in_target {
                continue;
            }
            if let Some(t) = &item.target {
                rec.in_target.insert(s.target_connection.clone(), t.clone());
            }
            if inv.is_approved() {
                let n = Self::next_generation(store, &s.flow, hint, &inv, &base).await?;
                if n > 0 {
                    rec.resettle.insert(s.flow.clone(), n);
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Source for InvoiceSource {
    type Record = InvoiceRecord;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let mut pos = InvoiceCursor::load(cursor, ctx.start)?;
        let limit = self.opts.page_size.clamp(1, 50);
        if let Some(after) = pos.approved_after {
            let page = self.client.invoice_stamps_after(ExportPass::Approved, None, after, limit).await?;
            let hints = page
                .invoices
                .iter()
                .map(|s| {
                    let h = self.spec.hint(ENTITY_INVOICE, &s.id.to_string(), Origin::Poll, ctx.now);
                    match s.updated_at {
                        Some(u) => h.with_version(self.observed(u, ctx.now)),
                        None => h,
                    }
                })
                .collect();
            pos.approved_after = match page.last_id() {
                Some(last) if page.full => Some(last),
                _ => None,
            };
            return Ok(DiscoveryPage { hints, next_cursor: Some(pos.value()), has_more: true });
        }
        let page =
            self.client.invoice_stamps_after(ExportPass::Voided, pos.voided.since, pos.voided_after, limit).await?;
        let hints = page
            .invoices
            .iter()
            .map(|s| {
                let h = self.spec.hint(ENTITY_INVOICE, &s.id.to_string(), Origin::Poll, ctx.now);
                match s.updated_at {
                    Some(u) => h.with_version(version_stamp(u)),
                    None => h,
                }
            })
            .collect();
        let more = page.full && page.last_id().is_some();
        pos.voided = pos.voided.advance(page.newest(), more, self.opts.overlap);
        if more {
            pos.voided_after = page.last_id().unwrap_or(pos.voided_after);
        } else {
            // The poll is over; the next one starts with the approved pass again.
            pos.voided_after = 0;
            pos.approved_after = Some(0);
        }
        Ok(DiscoveryPage { hints, next_cursor: Some(pos.value()), has_more: more })
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<InvoiceRecord>>, StepError> {
        let id: i64 = hint.id.trim().parse().map_err(|_| {
            StepError::permanent(format!(
                "a Coupa invoice hint names {:?}, which is not an invoice id (a malformed webhook?)",
                hint.id
            ))
        })?;
        let Some(inv) = self.client.get_invoice(id).await? else {
            return Ok(ReadBack::Gone(format!(
                "Coupa answers \"not found\" for invoice {id} (deleted, or not visible to this OAuth client)"
            )));
        };
        let mut rec = InvoiceRecord::new(inv);
        self.learn(hint, &mut rec).await?;
        Ok(ReadBack::found(vec![SourceRecord {
            entity: ENTITY_INVOICE.into(),
            id: rec.invoice.id.to_string(),
            version: rec.content.clone(),
            record: rec,
        }]))
    }
}

/// How suppliers are paged and what is read with each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupplierListOptions {
    pub page_size: u32,
    pub overlap: Duration,
    /// Read `/api/supplier_information` (federal tax number, bank data) with each supplier.
    pub read_information: bool,
}

impl Default for SupplierListOptions {
    fn default() -> Self {
        SupplierListOptions { page_size: 50, overlap: Duration::seconds(120), read_information: true }
    }
}

/// A supplier as read back.
#[derive(Debug, Clone, PartialEq)]
pub struct SupplierRecord {
    pub supplier: Arc<Supplier>,
    /// Its supplier information (tax, bank), when read and present.
    pub information: Option<Arc<SupplierInformation>>,
}

/// Coupa suppliers, by `updated-at` watermark, and supplier webhooks.
pub struct SupplierSource {
    spec: SourceSpec,
    client: CoupaClient,
    opts: SupplierListOptions,
}

impl SupplierSource {
    pub fn new(connection: &str, client: CoupaClient, opts: SupplierListOptions) -> Self {
        SupplierSource {
            spec: SourceSpec {
                connection: connection.to_string(),
                system: "coupa".into(),
                family: "supplier".into(),
                entities: vec![ENTITY_SUPPLIER.into()],
                has_webhooks: true,
            },
            client,
            opts,
        }
    }
}

#[async_trait]
impl Source for SupplierSource {
    type Record = SupplierRecord;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let pos = SincePageCursor::load(cursor, ctx.start)?;
        let limit = self.opts.page_size.clamp(1, 50);
        let (suppliers, more) = self.client.suppliers_changed_page(pos.since, pos.page, limit).await?;
        let newest = suppliers.iter().filter_map(|s| s.updated_at).max();
        let hints = suppliers
            .iter()
            .map(|s| {
                let h = self.spec.hint(ENTITY_SUPPLIER, &s.id.to_string(), Origin::Poll, ctx.now);
                match s.version() {
                    Some(v) => h.with_version(v),
                    None => h,
                }
            })
            .collect();
        let next = pos.advance(newest, more, self.opts.overlap);
        Ok(DiscoveryPage { hints, next_cursor: Some(next.to_value()), has_more: more })
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<SupplierRecord>>, StepError> {
        let id: i64 = hint.id.trim().parse().map_err(|_| {
            StepError::permanent(format!("a Coupa supplier hint names {:?}, which is not a supplier id", hint.id))
        })?;
        let Some(s) = self.client.get_supplier(id).await? else {
            return Ok(ReadBack::Gone(format!("Coupa answers \"not found\" for supplier {id}")));
        };
        let information =
            if self.opts.read_information { self.client.supplier_information(id).await?.map(Arc::new) } else { None };
        Ok(ReadBack::found(vec![SourceRecord {
            entity: ENTITY_SUPPLIER.into(),
            id: s.id.to_string(),
            version: s.version().unwrap_or_default(),
            record: SupplierRecord { supplier: Arc::new(s), information },
        }]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waiting_invoice_is_read_again_once_per_recheck_period() {
        let t = Utc::now() - Duration::minutes(150);
        let hour = Duration::minutes(60);
        let stamp = version_stamp(t);
        assert_eq!(recheck_version(t, t + Duration::minutes(59), hour), stamp, "fresh: what a webhook says");
        assert_eq!(recheck_version(t, t + Duration::minutes(61), hour), format!("{stamp}#r1"));
        assert_eq!(recheck_version(t, t + Duration::minutes(119), hour), format!("{stamp}#r1"), "once per period");
        assert_eq!(recheck_version(t, t + Duration::minutes(125), hour), format!("{stamp}#r2"));
        assert_eq!(
            recheck_version(t, t + Duration::seconds(90), Duration::seconds(5)),
            format!("{stamp}#r1"),
            "a minute at least"
        );
    }

    #[test]
    fn versions_ignore_the_flag_the_stamps_and_written_back_fields() {
        let inv = Invoice { id: 7, invoice_number: "A-1".into(), status: "approved".into(), ..Invoice::default() };
        let mut marked = inv.clone();
        marked.exported = true;
        marked.updated_at = Some(Utc::now());
        marked.custom_fields.insert("cf-deltek-voucher-id".into(), serde_json::json!("V1"));
        assert_eq!(content_version(&inv), content_version(&marked));
        let mut voided = inv.clone();
        voided.status = "voided".into();
        assert_ne!(content_version(&inv), content_version(&voided));
        assert_eq!(approved_twin(&voided), content_version(&inv), "a voided invoice knows its approved version");
        let mut rec = InvoiceRecord::new(inv);
        assert_eq!(rec.version_for("ap"), rec.content);
        rec.resettle.insert("ap".into(), 2);
        assert_eq!(rec.version_for("ap"), format!("{}~s2", rec.content));
        assert_eq!(rec.version_for("other"), rec.content);
    }
}
