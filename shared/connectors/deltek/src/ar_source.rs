//! Deltek Vantagepoint AR (client) invoices as a source (`<connection>/ar-invoice`), for the
//! outbound EDI flow: what [`DeltekClient::ar_invoices_since`] reads, as hints and read-backs.
//!
//! - **Discovery** reads the invoices posted since the cursor (`posted:<period>:<sequence>`; a
//!   first poll starts at the configured period, else the active one) and hints each by
//!   `<WBS1>|<Invoice>@<where its read starts>`: the posting order is the only way Vantagepoint
//!   finds an invoice again, so the hint carries the position (not the data) and the version is
//!   the invoice's posting (`period:sequence`). An invoice the client could not make into a
//!   valid document (no date, totals that do not add up) is hinted too, so it becomes a visible
//!   failed item with the reason instead of disappearing.
//! - **Read-back** reads the invoices posted from that position again and picks the one named.
//!   Every invoice such a read returns is remembered for a short while (two minutes) so the read-
//!   backs of one poll's invoices, handled one after another, cost one read between them instead
//!   of one each; on another worker (a Lambda poster) the cache is empty and the read is made.
//!   The cache holds the source's own reads, never a hint's contents.
//! - The record carries the billing client's firm number (`Client`, what people and partner
//!   profiles call the client) beside the invoice, whose buyer id is Vantagepoint's `ClientID`
//!   key; each client's number is read once per source.
//! - An invoice no longer among the posted rows (reversed, deleted) is [`ReadBack::Gone`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use mlc_core::domain::ArInvoice;
use mlc_core::engine::flow::{DiscoverContext, DiscoveryPage, ReadBack, StepError};
use mlc_core::engine::model::{Cursor, Hint, Origin};
use mlc_core::engine::parts::{ReadContext, Source, SourceRecord, SourceSpec};

use crate::ar::ArCursor;
use crate::client::{DeltekClient, Query};
use crate::errors::DeltekError;
use crate::model::VendorFirm;

/// The record family and hint entity of AR invoices.
pub const FAMILY_AR: &str = "ar-invoice";

/// How long an invoice read stands in for a read-back.
const FRESH: Duration = Duration::from_secs(120);
/// Most invoices remembered at once.
const CACHE_MAX: usize = 5000;

/// One posted AR invoice and its billing client's firm number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArRecord {
    pub invoice: ArInvoice,
    /// The billing client's `Client` number (its `ClientID` is the invoice's buyer id).
    pub client_number: Option<String>,
}

/// Posted AR invoices.
pub struct ArInvoiceSource {
    spec: SourceSpec,
    client: DeltekClient,
    /// Where a first poll starts (`None`: the active period).
    start: Option<ArCursor>,
    recent: Mutex<HashMap<String, (Instant, Arc<ArRecord>)>>,
    numbers: Mutex<HashMap<String, Option<String>>>,
}

impl ArInvoiceSource {
    pub fn new(connection: &str, client: DeltekClient, start: Option<ArCursor>) -> Self {
        ArInvoiceSource {
            spec: SourceSpec {
                connection: connection.to_string(),
                system: "deltek".into(),
                family: FAMILY_AR.into(),
                entities: vec![FAMILY_AR.into()],
                has_webhooks: false,
            },
            client,
            start,
            recent: Mutex::new(HashMap::new()),
            numbers: Mutex::new(HashMap::new()),
        }
    }

    /// The firm number of a `ClientID` (read once).
    async fn client_number(&self, client_id: &str) -> Result<Option<String>, DeltekError> {
        if let Some(n) = self.numbers.lock().unwrap_or_else(|p| p.into_inner()).get(client_id) {
            return Ok(n.clone());
        }
        let rows = self
            .client
            .get_rows(&format!("firm/{client_id}"), &Query::new(), &format!("billing client {client_id}"))
            .await?;
        let number = rows.iter().find_map(VendorFirm::from_row).map(|f| f.client).filter(|c| !c.trim().is_empty());
        self.numbers.lock().unwrap_or_else(|p| p.into_inner()).insert(client_id.to_string(), number.clone());
        Ok(number)
    }

    /// The invoices with their clients' numbers, remembered for the read-backs that follow.
    async fn records(&self, invoices: Vec<ArInvoice>) -> Result<Vec<Arc<ArRecord>>, DeltekError> {
        let mut out = Vec::with_capacity(invoices.len());
        for invoice in invoices {
            let client_number = match invoice.buyer.id.as_deref() {
                Some(id) if !id.trim().is_empty() => self.client_number(id).await?,
                _ => None,
            };
            out.push(Arc::new(ArRecord { invoice, client_number }));
        }
        let mut r = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if r.len() + out.len() > CACHE_MAX {
            r.retain(|_, (at, _)| at.elapsed() < FRESH);
        }
        let now = Instant::now();
        for rec in &out {
            r.insert(rec.invoice.source.id.clone(), (now, rec.clone()));
        }
        Ok(out)
    }

    fn fresh(&self, id: &str) -> Option<Arc<ArRecord>> {
        let r = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        r.get(id).filter(|(at, _)| at.elapsed() < FRESH).map(|(_, i)| i.clone())
    }

    /// The position just before an invoice posted as `period:sequence`.
    fn before(version: &str) -> Option<ArCursor> {
        let (p, s) = version.split_once(':')?;
        Some(ArCursor::Posted { period: p.trim().parse().ok()?, post_seq: s.trim().parse::<i64>().ok()? - 1 })
    }

    fn record(rec: Arc<ArRecord>) -> SourceRecord<Arc<ArRecord>> {
        SourceRecord {
            entity: FAMILY_AR.into(),
            id: rec.invoice.source.id.clone(),
            version: rec.invoice.source.version.clone(),
            record: rec,
        }
    }
}

#[async_trait]
impl Source for ArInvoiceSource {
    type Record = Arc<ArRecord>;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let from = match cursor {
            Some(c) => Some(ArCursor::parse(&c.value).map_err(|e| {
                StepError::permanent(format!("{e}; reset the cursor {} with `mlc cursor reset`", c.flow))
            })?),
            None => self.start,
        };
        let page = self.client.ar_invoices_since(from).await?;
        let mut hints = Vec::with_capacity(page.invoices.len() + page.skipped.len());
        for inv in &page.invoices {
            let pos = Self::before(&inv.source.version).or(from).map(|c| c.to_string()).unwrap_or_default();
            let id = format!("{}@{pos}", inv.source.id);
            hints.push(self.spec.hint(FAMILY_AR, &id, Origin::Poll, ctx.now).with_version(inv.source.version.clone()));
        }
        let pos = from.map(|c| c.to_string()).unwrap_or_default();
        for (number, _) in &page.skipped {
            hints.push(self.spec.hint(FAMILY_AR, &format!("|{number}@{pos}"), Origin::Poll, ctx.now));
        }
        let next = page.next_cursor.to_string();
        self.records(page.invoices).await?;
        Ok(DiscoveryPage { hints, next_cursor: Some(next), has_more: false })
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Arc<ArRecord>>>, StepError> {
        let (doc, pos) = hint.id.rsplit_once('@').unwrap_or((hint.id.as_str(), ""));
        if let Some(inv) = self.fresh(doc) {
            return Ok(ReadBack::found(vec![Self::record(inv)]));
        }
        let number = doc.rsplit_once('|').map_or(doc, |(_, n)| n);
        let from = if pos.is_empty() { None } else { ArCursor::parse(pos).ok() };
        let mut tries = vec![from];
        if let Some(ArCursor::Posted { period, post_seq }) = from
            && post_seq > 0
        {
            tries.push(Some(ArCursor::Posted { period, post_seq: 0 }));
        }
        for at in tries {
            let page = self.client.ar_invoices_since(at).await?;
            let skipped = page.skipped;
            let records = self.records(page.invoices).await?;
            if let Some(rec) = records
                .into_iter()
                .find(|r| r.invoice.source.id == doc || (doc.starts_with('|') && r.invoice.invoice_number == number))
            {
                return Ok(ReadBack::found(vec![Self::record(rec)]));
            }
            if let Some((_, why)) = skipped.iter().find(|(n, _)| n == number) {
                return Err(StepError::permanent(format!(
                    "Deltek AR invoice {number} cannot be sent: {why}; correct it in Vantagepoint (a new posting \
                     is read again)"
                )));
            }
        }
        Ok(ReadBack::Gone(format!(
            "Deltek AR invoice {number} is no longer among the invoices posted from {} (reversed or deleted?)",
            if pos.is_empty() { "the active period" } else { pos }
        )))
    }
}
