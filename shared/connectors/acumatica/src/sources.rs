//! Acumatica as a source: vendors (`<connection>/vendor`, for `acumatica-cin7-suppliers`) and
//! purchase orders (`<connection>/purchase-order`, for `acumatica-cin7-po`), each read back once
//! per version however many flows consume it.
//!
//! **Discovery** is a delta listing by `LastModifiedDateTime gt datetimeoffset'…'`, one `$top`
//! page per poll step, anchored against the previous page ([`crate::paging`]): Acumatica lists in
//! key order and counts `$skip` against the list as it is now, so a record saved or removed
//! between two pages would otherwise shift the rest and one could be skipped. The cursor
//! ([`DeltaCursor`]) keeps the `since` of the whole poll, the page position and the newest stamp
//! seen; `since` moves (to the newest stamp less `overlap`) only after a pass that saw nothing
//! move. A pass that saw movement is read again (at most [`crate::paging::MAX_PASSES`]); a list that
//! keeps moving leaves `since` where it was, so nothing is ever skipped. The listing selects only
//! the keys and the stamp: the record itself is read back by its `id`.
//!
//! **Hints** carry the record's `id` (NoteID) and its stamp as the observed version, so a stamp
//! already processed costs no read. Push notifications name the record by `id` or by its keys
//! (`V10001`, `RO|PO000123`); both are read back ([`crate::webhook::hint_target`]).
//!
//! **Read-back** finds the record or says it is gone ([`ReadBack::Gone`]: deleted in
//! Acumatica, or hidden from the API user): a visible item, never a silent nothing.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use mlc_core::engine::flow::{DiscoverContext, DiscoveryPage, ReadBack, StepError};
use mlc_core::engine::model::{Cursor, Hint, Origin};
use mlc_core::engine::parts::{ReadContext, Source, SourceRecord, SourceSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::client::AcumaticaClient;
use crate::model::{PoType, PurchaseOrder, Vendor};
use crate::paging::{MAX_PASSES, ScanPos, ScanSpec, StepNext, row_stamp};
use crate::webhook::{ENTITY_PURCHASE_ORDER, ENTITY_VENDOR, HintTarget, hint_target};

/// How an Acumatica delta listing is paged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeltaOptions {
    /// Rows per page (`$top`), 1–1000.
    pub page_size: u32,
    /// How far back of the newest stamp each poll starts again (`gt` is strict, stamps have
    /// millisecond precision, and a record may be committed with a slightly older stamp).
    pub overlap: Duration,
}

impl Default for DeltaOptions {
    fn default() -> Self {
        DeltaOptions { page_size: 100, overlap: Duration::seconds(60) }
    }
}

/// A delta poll's position (the cursor's value, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeltaCursor {
    /// Changed strictly after this (`None`: everything).
    pub since: Option<DateTime<Utc>>,
    /// The newest stamp seen in this pass.
    #[serde(default)]
    pub newest: Option<DateTime<Utc>>,
    /// Where the pass stands.
    #[serde(default)]
    pub pos: ScanPos,
}

impl DeltaCursor {
    /// The stored cursor, or where a first poll starts.
    pub fn load(cursor: Option<&Cursor>, start: Option<DateTime<Utc>>) -> Result<Self, StepError> {
        match cursor {
            None => Ok(DeltaCursor { since: start, newest: None, pos: ScanPos::default() }),
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

/// The version of a record: its `LastModifiedDateTime`, in one fixed form (hints and read-backs agree).
pub fn version_of(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)).unwrap_or_default()
}

/// One record family of Acumatica: how it is listed and read back.
#[async_trait]
trait Family: Send + Sync + 'static {
    type Record: Send + Sync + Clone + 'static;
    const ENTITY: &'static str;
    const HINT_ENTITY: &'static str;
    /// The keys (and the stamp) the listing selects.
    const SELECT: &'static str;
    async fn read(client: &AcumaticaClient, target: HintTarget) -> Result<Option<Self::Record>, StepError>;
    fn stamp(r: &Self::Record) -> Option<DateTime<Utc>>;
    fn id(r: &Self::Record) -> String;
}

struct VendorFamily;
struct OrderFamily;

#[async_trait]
impl Family for VendorFamily {
    type Record = Arc<Vendor>;
    const ENTITY: &'static str = "Vendor";
    const HINT_ENTITY: &'static str = ENTITY_VENDOR;
    const SELECT: &'static str = "VendorID,LastModifiedDateTime";

    async fn read(client: &AcumaticaClient, target: HintTarget) -> Result<Option<Arc<Vendor>>, StepError> {
        let v = match target {
            HintTarget::Id(id) => client.get_vendor_by_id(&id).await?,
            HintTarget::Keys(k) => match k.first() {
                Some(code) => client.get_vendor(code).await?,
                None => None,
            },
        };
        Ok(v.map(Arc::new))
    }
    fn stamp(r: &Arc<Vendor>) -> Option<DateTime<Utc>> {
        r.last_modified
    }
    fn id(r: &Arc<Vendor>) -> String {
        r.id.to_ascii_lowercase()
    }
}

#[async_trait]
impl Family for OrderFamily {
    type Record = Arc<PurchaseOrder>;
    const ENTITY: &'static str = "PurchaseOrder";
    const HINT_ENTITY: &'static str = ENTITY_PURCHASE_ORDER;
    const SELECT: &'static str = "Type,OrderNbr,LastModifiedDateTime";

    async fn read(client: &AcumaticaClient, target: HintTarget) -> Result<Option<Arc<PurchaseOrder>>, StepError> {
        let po = match target {
            HintTarget::Id(id) => client.get_purchase_order_by_id(&id).await?,
            HintTarget::Keys(k) => match k.as_slice() {
                [kind, nbr] => client.get_purchase_order(&PoType::parse(kind), nbr).await?,
                [nbr] => client.get_purchase_order(&PoType::Normal, nbr).await?,
                _ => None,
            },
        };
        Ok(po.map(Arc::new))
    }
    fn stamp(r: &Arc<PurchaseOrder>) -> Option<DateTime<Utc>> {
        r.last_modified
    }
    fn id(r: &Arc<PurchaseOrder>) -> String {
        r.id.to_ascii_lowercase()
    }
}

/// A delta source over one family.
struct Delta<F: Family> {
    spec: SourceSpec,
    client: AcumaticaClient,
    opts: DeltaOptions,
    _f: std::marker::PhantomData<F>,
}

impl<F: Family> Delta<F> {
    fn new(connection: &str, family: &str, client: AcumaticaClient, opts: DeltaOptions) -> Self {
        Delta {
            spec: SourceSpec {
                connection: connection.to_string(),
                system: "acumatica".into(),
                family: family.into(),
                entities: vec![F::HINT_ENTITY.into()],
                has_webhooks: true,
            },
            client,
            opts,
            _f: std::marker::PhantomData,
        }
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let cur = DeltaCursor::load(cursor, ctx.start)?;
        let what = format!("the {} records changed since the cursor", F::ENTITY);
        let scan = ScanSpec {
            entity: F::ENTITY,
            since: cur.since,
            filter: None,
            expand: None,
            select: Some(F::SELECT),
            page: self.opts.page_size.clamp(1, 1000),
            what,
        };
        let step = self.client.scan_page(&scan, &cur.pos).await?;
        let mut newest = cur.newest;
        let mut hints = Vec::with_capacity(step.rows.len());
        for row in &step.rows {
            let Some(id) = row.get("id").and_then(Json::as_str) else { continue };
            let stamp = row_stamp(row);
            newest = newest.max(stamp);
            let h = self.spec.hint(F::HINT_ENTITY, &id.to_ascii_lowercase(), Origin::Poll, ctx.now);
            hints.push(if stamp.is_some() { h.with_version(version_of(stamp)) } else { h });
        }
        let (next, more) = match step.next {
            StepNext::More(pos) => (DeltaCursor { since: cur.since, newest, pos }, true),
            StepNext::PassDone { shifted: false } => {
                let since = match (cur.since, newest) {
                    (Some(s), Some(n)) => Some(s.max(n - self.opts.overlap)),
                    (None, Some(n)) => Some(n - self.opts.overlap),
                    (s, None) => s,
                };
                (DeltaCursor { since, newest: None, pos: ScanPos::default() }, false)
            }
            StepNext::PassDone { shifted: true } if cur.pos.pass < MAX_PASSES => {
                tracing::info!(
                    system = "acumatica",
                    entity = F::ENTITY,
                    pass = cur.pos.pass,
                    "records moved while paging; reading the list again"
                );
                (DeltaCursor { since: cur.since, newest: None, pos: ScanPos::first(cur.pos.pass + 1) }, true)
            }
            StepNext::PassDone { shifted: true } => {
                tracing::warn!(
                    system = "acumatica",
                    entity = F::ENTITY,
                    "the list kept moving; the cursor stays where it was until the next poll"
                );
                (DeltaCursor { since: cur.since, newest: None, pos: ScanPos::default() }, false)
            }
        };
        Ok(DiscoveryPage { hints, next_cursor: Some(next.value()), has_more: more })
    }

    async fn read_back(&self, hint: &Hint) -> Result<ReadBack<SourceRecord<F::Record>>, StepError> {
        match F::read(&self.client, hint_target(&hint.id)).await? {
            Some(r) => Ok(ReadBack::found(vec![SourceRecord {
                entity: F::HINT_ENTITY.into(),
                id: F::id(&r),
                version: version_of(F::stamp(&r)),
                record: r,
            }])),
            None => Ok(ReadBack::Gone(format!(
                "Acumatica has no {} {} any more (deleted, or not visible to the API user's roles)",
                F::ENTITY,
                hint.id
            ))),
        }
    }
}

/// Acumatica vendors (`<connection>/vendor`), read back with their main contact and address.
pub struct VendorSource(Delta<VendorFamily>);

impl VendorSource {
    pub fn new(connection: &str, client: AcumaticaClient, opts: DeltaOptions) -> Self {
        VendorSource(Delta::new(connection, "vendor", client, opts))
    }
}

#[async_trait]
impl Source for VendorSource {
    type Record = Arc<Vendor>;

    fn spec(&self) -> &SourceSpec {
        &self.0.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.0.discover(cursor, ctx).await
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Arc<Vendor>>>, StepError> {
        self.0.read_back(hint).await
    }
}

/// Acumatica purchase orders (`<connection>/purchase-order`), read back with their lines.
pub struct PurchaseOrderSource(Delta<OrderFamily>);

impl PurchaseOrderSource {
    pub fn new(connection: &str, client: AcumaticaClient, opts: DeltaOptions) -> Self {
        PurchaseOrderSource(Delta::new(connection, "purchase-order", client, opts))
    }
}

#[async_trait]
impl Source for PurchaseOrderSource {
    type Record = Arc<PurchaseOrder>;

    fn spec(&self) -> &SourceSpec {
        &self.0.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.0.discover(cursor, ctx).await
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Arc<PurchaseOrder>>>, StepError> {
        self.0.read_back(hint).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn cursors_round_trip_and_a_bad_one_names_the_reset() {
        let t = Utc.with_ymd_and_hms(2025, 6, 13, 17, 0, 0).single().unwrap();
        let c = DeltaCursor { since: Some(t), newest: None, pos: ScanPos::first(2) };
        let stored = Cursor { flow: "acumatica/vendor".into(), value: c.value(), updated_at: t };
        assert_eq!(DeltaCursor::load(Some(&stored), None).unwrap(), c);
        assert_eq!(DeltaCursor::load(None, Some(t)).unwrap().since, Some(t));
        let bad = Cursor { value: "x".into(), ..stored };
        assert!(DeltaCursor::load(Some(&bad), None).unwrap_err().message.contains("mlc cursor reset acumatica/vendor"));
        assert_eq!(version_of(Some(t)), "2025-06-13T17:00:00.000Z");
    }
}
