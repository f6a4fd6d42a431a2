//! Delta reads: every record changed since a cursor, with `$top`/`$skip` pages that stay
//! correct while other users save records in between.
//!
//! Acumatica lists in key order (no `$orderby` in the contract) and counts `$skip` against the
//! list as it is *now*. A record saved between two page reads (one whose `LastModifiedDateTime`
//! enters the filter, or a new one) at a key before the current position shifts everything
//! after it by one, and a deleted one shifts back: plain offsets would read a record twice or,
//! worse, skip one. So each page after the first re-reads the previous page's last record as an
//! *anchor* (`$skip = n - 1`, `$top = size + 1`):
//! - anchor first: nothing moved, carry on;
//! - anchor further down: records were inserted before it; carry on after it (the ones before
//!   were inserted mid-scan, so the scan is marked *shifted*);
//! - anchor gone: records were removed before it (or it was); the scan is marked shifted and
//!   starts again.
//!
//! A scan that saw a shift runs again (at most [`MAX_PASSES`] times; records deduplicated by
//! `id`, and only the last pass's records reported) until one pass sees none. Only then does it report a high-water mark: the newest
//! `LastModifiedDateTime` read, which the caller stores as its cursor (less a small overlap,
//! since `gt` is strict and the stamp has millisecond precision). A scan that never settled
//! reports no high-water mark, so the cursor does not move past records it may have missed.
//!
//! [`AcumaticaClient::scan_page`] reads one page from a [`ScanPos`] (what the sources keep in
//! their cursors: one page per poll step, so no single call is unbounded);
//! [`AcumaticaClient::scan_json`] walks every page for callers that want the whole list. The
//! kit's `Paging::offset` walks plain offsets; this anchored walk is Acumatica's because of the
//! key-ordered, shifting list (it could join the kit as an "anchored offset" style).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::client::{AcumaticaClient, datetimeoffset};
use crate::errors::AcumaticaError;

/// Passes before a scan gives up settling.
pub const MAX_PASSES: u32 = 3;

/// What a delta read found.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan<T> {
    /// The records, oldest `LastModifiedDateTime` first.
    pub records: Vec<T>,
    /// The newest stamp read — `None` when nothing was read, or the list kept moving and the
    /// cursor must not advance.
    pub high_water: Option<DateTime<Utc>>,
    /// Passes made (more than one: records moved while reading).
    pub passes: u32,
    /// Page reads made.
    pub calls: u32,
}

/// One listing to scan.
#[derive(Debug, Clone)]
pub struct ScanSpec<'a> {
    /// Entity (`Vendor`).
    pub entity: &'a str,
    /// Changed strictly after this.
    pub since: Option<DateTime<Utc>>,
    /// Extra `$filter` conditions (`and`-ed).
    pub filter: Option<String>,
    /// `$expand`.
    pub expand: Option<&'a str>,
    /// `$select` (`None`: every field).
    pub select: Option<&'a str>,
    /// Page size.
    pub page: u32,
    /// What it is, for errors ("vendors changed since …").
    pub what: String,
}

/// Where a scan stands between two page reads: what a source keeps in its cursor, so one poll
/// reads one page and a poller that dies resumes at its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanPos {
    /// The pass (1-based): a pass that saw records move is read again, at most [`MAX_PASSES`].
    pub pass: u32,
    /// Rows of this pass consumed so far.
    pub consumed: usize,
    /// The `id` of the last row consumed: re-read first on the next page, as the anchor.
    #[serde(default)]
    pub anchor: Option<String>,
    /// Whether this pass saw records move.
    #[serde(default)]
    pub shifted: bool,
}

impl Default for ScanPos {
    fn default() -> Self {
        ScanPos::first(1)
    }
}

impl ScanPos {
    /// The start of pass `pass`.
    pub fn first(pass: u32) -> Self {
        ScanPos { pass, consumed: 0, anchor: None, shifted: false }
    }
}

/// What reading one page did.
#[derive(Debug, Clone, PartialEq)]
pub struct PageStep {
    /// The rows this page adds (the anchor left out).
    pub rows: Vec<Json>,
    pub next: StepNext,
}

/// Where a scan goes after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepNext {
    /// Another page of this pass.
    More(ScanPos),
    /// The pass is over. `shifted`: records moved while it read (its rows may miss one that
    /// slid back over a page boundary): read the list again before trusting it.
    PassDone { shifted: bool },
}

fn stamp_of(v: &Json) -> Option<DateTime<Utc>> {
    v.get("LastModifiedDateTime")
        .and_then(|f| f.get("value"))
        .and_then(Json::as_str)
        .and_then(mlc_http::decode::datetime_utc)
}

fn id_of(v: &Json) -> Option<String> {
    v.get("id").and_then(Json::as_str).map(str::to_ascii_lowercase)
}

/// The `LastModifiedDateTime` of a listed row (UTC).
pub fn row_stamp(v: &Json) -> Option<DateTime<Utc>> {
    stamp_of(v)
}

impl AcumaticaClient {
    /// Read one page of a delta listing from `pos` (see the module docs): the anchor checked, the
    /// rows it adds, and where the scan goes next.
    pub async fn scan_page(&self, spec: &ScanSpec<'_>, pos: &ScanPos) -> Result<PageStep, AcumaticaError> {
        let mut conditions = Vec::new();
        if let Some(t) = spec.since {
            conditions.push(format!("LastModifiedDateTime gt {}", datetimeoffset(t)));
        }
        if let Some(f) = &spec.filter {
            conditions.push(format!("({f})"));
        }
        let filter = conditions.join(" and ");
        let page = spec.page.max(1) as usize;
        let anchored = pos.anchor.is_some() && pos.consumed > 0;
        let (skip, top) = if anchored { (pos.consumed - 1, page + 1) } else { (pos.consumed, page) };
        let mut q: Vec<(&str, String)> = vec![("$top", top.to_string())];
        if skip > 0 {
            q.push(("$skip", skip.to_string()));
        }
        if !filter.is_empty() {
            q.push(("$filter", filter));
        }
        if let Some(e) = spec.expand {
            q.push(("$expand", e.to_string()));
        }
        if let Some(sel) = spec.select {
            q.push(("$select", sel.to_string()));
        }
        let rows = self.list_json(spec.entity, &q, &spec.what).await?;
        let got = rows.len();
        let mut shifted = pos.shifted;
        let fresh: Vec<Json> = match pos.anchor.as_deref().filter(|_| anchored) {
            None => rows.clone(),
            Some(a) => match rows.iter().position(|r| id_of(r).as_deref() == Some(a)) {
                Some(0) => rows[1..].to_vec(),
                Some(p) => {
                    shifted = true;
                    rows[p + 1..].to_vec()
                }
                // Records were removed before the anchor (or it was): this pass cannot be trusted.
                None => return Ok(PageStep { rows: Vec::new(), next: StepNext::PassDone { shifted: true } }),
            },
        };
        if got < top {
            return Ok(PageStep { rows: fresh, next: StepNext::PassDone { shifted } });
        }
        let anchor = rows.last().and_then(id_of);
        if anchor.is_none() {
            return Err(AcumaticaError::Unexpected {
                call: format!("GET {}", spec.entity),
                detail: "a listed record has no id, so pages cannot be checked against each other".into(),
                fix: None,
            });
        }
        let next = ScanPos { pass: pos.pass, consumed: skip + got, anchor, shifted };
        Ok(PageStep { rows: fresh, next: StepNext::More(next) })
    }

    /// Every record of an entity changed since the cursor, as JSON (see the module docs): pages
    /// read with [`AcumaticaClient::scan_page`] until a pass sees no movement.
    pub async fn scan_json(&self, spec: &ScanSpec<'_>) -> Result<Scan<Json>, AcumaticaError> {
        let mut seen: HashMap<String, Json> = HashMap::new();
        let mut calls = 0u32;
        for pass in 1..=MAX_PASSES {
            // Each pass is a fresh read: records that left the list meanwhile are not reported.
            seen.clear();
            let mut pos = ScanPos::first(pass);
            let shifted = loop {
                let step = self.scan_page(spec, &pos).await?;
                calls += 1;
                for r in step.rows {
                    if let Some(id) = id_of(&r) {
                        seen.insert(id, r);
                    }
                }
                match step.next {
                    StepNext::More(p) => pos = p,
                    StepNext::PassDone { shifted } => break shifted,
                }
            };
            if !shifted {
                return Ok(finish(seen, pass, calls, true));
            }
            tracing::info!(
                system = "acumatica",
                entity = spec.entity,
                pass,
                "records moved while paging; reading the list again"
            );
        }
        tracing::warn!(
            system = "acumatica",
            entity = spec.entity,
            "the list kept moving; the cursor is not advanced this time"
        );
        Ok(finish(seen, MAX_PASSES, calls, false))
    }
}

fn finish(seen: HashMap<String, Json>, passes: u32, calls: u32, settled: bool) -> Scan<Json> {
    let mut records: Vec<Json> = seen.into_values().collect();
    records.sort_by(|a, b| stamp_of(a).cmp(&stamp_of(b)).then_with(|| id_of(a).cmp(&id_of(b))));
    let high_water = if settled { records.iter().filter_map(stamp_of).max() } else { None };
    Scan { records, high_water, passes, calls }
}

/// Whether a refusal is the list optimiser giving up ("Optimization cannot be performed").
pub fn is_optimization_error(e: &AcumaticaError) -> bool {
    matches!(e, AcumaticaError::Refused { words, .. } if words.contains("Optimization cannot be performed"))
}

impl AcumaticaClient {
    /// [`AcumaticaClient::scan_json`] with details expanded; when the list optimiser refuses the
    /// expansion, the list is read without it and each record is fetched by `id` with it
    /// (slower, always accepted) **[C: DOC Get_Records usage notes]**.
    pub async fn scan_expanded(&self, spec: &ScanSpec<'_>) -> Result<Scan<Json>, AcumaticaError> {
        match self.scan_json(spec).await {
            Err(e) if spec.expand.is_some() && is_optimization_error(&e) => {
                tracing::info!(
                    system = "acumatica",
                    entity = spec.entity,
                    "list optimiser refused $expand; reading records one by one"
                );
                let plain = ScanSpec { expand: None, ..spec.clone() };
                let mut scan = self.scan_json(&plain).await?;
                let mut full = Vec::with_capacity(scan.records.len());
                for r in &scan.records {
                    let Some(id) = r.get("id").and_then(Json::as_str) else { continue };
                    let q = [("$expand", spec.expand.unwrap_or_default().to_string())];
                    scan.calls += 1;
                    if let Some(v) = self.get_json(&format!("{}/{id}", spec.entity), &q, &spec.what).await? {
                        full.push(v);
                    }
                }
                scan.records = full;
                Ok(scan)
            }
            other => other,
        }
    }
}
