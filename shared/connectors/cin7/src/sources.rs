//! Cin7 Core as a source: purchases and suppliers, each read back once per version however many
//! flows consume them (the Deltek AP and vendor flows, and the Acumatica flows).
//!
//! - [`PurchaseSource`] (`<connection>/purchase`): `purchaseList?UpdatedSince` pages (the
//!   shared since+page cursor, [`SincePageCursor`]) and the Automation webhooks
//!   `Purchase/InvoiceAuthorised`, `Purchase/CreditNoteAuthorised`, `Purchase/Updated` … (whose
//!   task ids are resolved to purchases). The record is the whole purchase.
//! - [`SupplierSource`] (`<connection>/supplier`): `supplier?ModifiedSince` pages and
//!   `Supplier/Updated` webhooks.
//!
//! A record the list just showed but the detail read cannot find (Cin7 answers such reads with a
//! 400 "not found") is [`ReadBack::Gone`]: a visible item, never a silent nothing. Every other
//! failure is an error with its class; the engine keeps the answer in the item's trail.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use mlc_core::engine::cursor::SincePageCursor;
use mlc_core::engine::flow::{DiscoverContext, DiscoveryPage, ReadBack, StepError};
use mlc_core::engine::model::{Cursor, Hint, Origin};
use mlc_core::engine::parts::{ReadContext, Source, SourceRecord, SourceSpec};

use crate::client::Cin7Client;
use crate::model::{Purchase, Supplier};
use crate::webhook::{ENTITY_PURCHASE, ENTITY_PURCHASE_TASK, ENTITY_SUPPLIER, split_task_hint};

/// How a Cin7 list is paged: page size (1–1000) and how far back each poll re-lists (late commits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListOptions {
    pub page_size: u32,
    pub overlap: Duration,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions { page_size: 250, overlap: Duration::seconds(120) }
    }
}

/// Cin7 purchases (Simple and Advanced, every stage).
pub struct PurchaseSource {
    spec: SourceSpec,
    client: Cin7Client,
    opts: ListOptions,
}

impl PurchaseSource {
    pub fn new(connection: &str, client: Cin7Client, opts: ListOptions) -> Self {
        PurchaseSource {
            spec: SourceSpec {
                connection: connection.to_string(),
                system: "cin7".into(),
                family: "purchase".into(),
                entities: vec![ENTITY_PURCHASE.into(), ENTITY_PURCHASE_TASK.into()],
                has_webhooks: true,
            },
            client,
            opts,
        }
    }
}

#[async_trait]
impl Source for PurchaseSource {
    type Record = Arc<Purchase>;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let pos = SincePageCursor::load(cursor, ctx.start)?;
        let limit = self.opts.page_size.clamp(1, 1000);
        let page = self.client.list_purchases_changed(pos.since, pos.page, limit).await?;
        let more = page.has_more(limit);
        let newest = page.items.iter().filter_map(|s| s.last_updated).max();
        let hints = page
            .items
            .iter()
            .map(|s| {
                let h = self.spec.hint(ENTITY_PURCHASE, &s.id, Origin::Poll, ctx.now);
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
    ) -> Result<ReadBack<SourceRecord<Arc<Purchase>>>, StepError> {
        let purchase = if hint.entity == ENTITY_PURCHASE_TASK {
            let (task, order) = split_task_hint(&hint.id);
            self.client.resolve_purchase_task(&task, order.as_deref()).await?
        } else {
            self.client.get_purchase(&hint.id).await?
        };
        Ok(match purchase {
            Some(p) => ReadBack::found(vec![SourceRecord {
                entity: ENTITY_PURCHASE.into(),
                id: p.id.clone(),
                version: p.version().unwrap_or_default(),
                record: Arc::new(p),
            }]),
            None => ReadBack::Gone(format!(
                "Cin7 answers \"not found\" for {} {} (deleted, or not visible to this API application)",
                hint.entity, hint.id
            )),
        })
    }
}

/// Cin7 suppliers.
pub struct SupplierSource {
    spec: SourceSpec,
    client: Cin7Client,
    opts: ListOptions,
}

impl SupplierSource {
    pub fn new(connection: &str, client: Cin7Client, opts: ListOptions) -> Self {
        SupplierSource {
            spec: SourceSpec {
                connection: connection.to_string(),
                system: "cin7".into(),
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
    type Record = Arc<Supplier>;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let pos = SincePageCursor::load(cursor, ctx.start)?;
        let limit = self.opts.page_size.clamp(1, 1000);
        let page = self.client.list_suppliers_changed(pos.since, pos.page, limit).await?;
        let more = page.has_more(limit);
        let newest = page.items.iter().filter_map(|s| s.last_modified).max();
        let hints = page
            .items
            .iter()
            .map(|s| {
                let h = self.spec.hint(ENTITY_SUPPLIER, &s.id, Origin::Poll, ctx.now);
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
    ) -> Result<ReadBack<SourceRecord<Arc<Supplier>>>, StepError> {
        Ok(match self.client.get_supplier(&hint.id).await? {
            Some(s) => ReadBack::found(vec![SourceRecord {
                entity: ENTITY_SUPPLIER.into(),
                id: s.id.clone(),
                version: s.version().unwrap_or_default(),
                record: Arc::new(s),
            }]),
            None => ReadBack::Gone(format!("Cin7 answers \"not found\" for supplier {}", hint.id)),
        })
    }
}
