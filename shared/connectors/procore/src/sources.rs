//! Procore as a source for the Procore → Deltek flows: subcontractor invoices, direct costs,
//! commitments with their change orders, and company vendors — each read back once per version
//! however many flows consume it.
//!
//! | source | family | lists (per project) | hint entity / id |
//! |---|---|---|---|
//! | [`RequisitionSource`] | `requisition` | `requisitions` (v1.1 or v1.0 per `requisitions_api`) | `requisition` `<project>/<id>` |
//! | [`DirectCostSource`] | `direct-cost` | `projects/{p}/direct_costs` | `direct-cost` `<project>/<id>` |
//! | [`CommitmentSource`] | `commitment` | `work_order_contracts`, `purchase_order_contracts`, `change_order_packages` | `work-order-contract` / `purchase-order-contract` / `change-order` `<project>/<id>` |
//! | [`VendorSource`] | `vendor` | company `vendors` | `vendor` `<id>` |
//!
//! Hint ids and entities are the ones [`crate::webhook`] makes, so a webhook and a poll that
//! find the same record collapse into one work item.
//!
//! **Discovery, per project, bounded.** One `discover` call reads *one page* of one listing of one
//! project (`filters[updated_at]` = `since...`, `per_page` from the connection), so a poll's work
//! is bounded however large the backfill. The cursor value holds, per project and listing, the
//! shared since+page cursor ([`SincePageCursor`]: the same `since` for every page of a pass,
//! moved to the newest stamp seen minus the overlap when the last page is read), and the pass in
//! progress (the projects still to visit, the listing, the `Total` the first page reported). A
//! poller that dies resumes at its page; a project added in Procore joins the next pass (from the
//! flows' first-poll start); a project the app may no longer read (403, or 404: deleted) is
//! skipped for this pass with a warning and keeps its `since`, so nothing it holds is lost when
//! access returns.
//!
//! **Records moving while we page.** Procore lists in storage order; a record created during a
//! pass lands on a later page, but one deleted (or moved out of the window) shifts the rest
//! forward, and a record could slip past a page boundary. `Total` is compared on every page with
//! the first page's: when it changed, the pass over that listing starts again at page 1 with the
//! same `since` (at most three times; records already seen are not read back twice, their
//! version is known). A removal balanced by an addition between two pages leaves no trace; the
//! overlap window and the nightly reconciliation poll cover that case.
//!
//! **Read-back.** Every hint is read back by id (hints are never trusted). A record the listing
//! named but the show cannot find (deleted since, or no longer visible) is [`ReadBack::Gone`]; a
//! failed read is an error with its class. A requisition is read with its commitment (the vendor
//! on v1.0, the commitment number for the voucher, each G703 row's cost code and cost type via
//! its `line_item_id`); a change order with its commitment (project, kind). Project names and
//! cost code lists are kept in a per-process cache (labels only; mapping keys are ids and codes
//! read from the records).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use mlc_core::engine::cursor::SincePageCursor;
use mlc_core::engine::flow::{DiscoverContext, DiscoveryPage, ReadBack, StepError};
use mlc_core::engine::model::{Cursor, Hint, Origin};
use mlc_core::engine::parts::{ReadContext, Source, SourceRecord, SourceSpec};
use serde::{Deserialize, Serialize};

use crate::client::{ProcoreClient, range_param};
use crate::errors::ProcoreError;
use crate::model::{ChangeOrder, Commitment, CommitmentKind, DirectCost, Project, Requisition, Vendor};
use crate::settings::RequisitionsApi;
use crate::webhook::{
    ENTITY_CHANGE_ORDER, ENTITY_DIRECT_COST, ENTITY_PURCHASE_ORDER, ENTITY_REQUISITION, ENTITY_VENDOR,
    ENTITY_WORK_ORDER, split_hint,
};

/// How a Procore source polls: how far back each pass re-lists (records committed late with an
/// earlier stamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollOptions {
    pub overlap: Duration,
}

impl Default for PollOptions {
    fn default() -> Self {
        PollOptions { overlap: Duration::seconds(300) }
    }
}

/// Project names and cost code lists, kept per process (labels and fallbacks only).
#[derive(Default)]
struct ProjectCache {
    projects: Mutex<HashMap<i64, Project>>,
    cost_codes: Mutex<HashMap<i64, Arc<BTreeMap<i64, String>>>>,
}

impl ProjectCache {
    fn put(&self, list: &[Project]) {
        if let Ok(mut m) = self.projects.lock() {
            for p in list {
                m.insert(p.id, p.clone());
            }
        }
    }

    async fn project(&self, client: &ProcoreClient, id: i64) -> Result<Option<Project>, ProcoreError> {
        if let Some(p) = self.projects.lock().ok().and_then(|m| m.get(&id).cloned()) {
            return Ok(Some(p));
        }
        let p = client.get_project(id).await?;
        if let Some(p) = &p {
            self.put(std::slice::from_ref(p));
        }
        Ok(p)
    }

    /// Cost code id → full code (`03-300`) of a project.
    async fn cost_codes(
        &self,
        client: &ProcoreClient,
        project: i64,
    ) -> Result<Arc<BTreeMap<i64, String>>, ProcoreError> {
        if let Some(c) = self.cost_codes.lock().ok().and_then(|m| m.get(&project).cloned()) {
            return Ok(c);
        }
        let map = Arc::new(client.cost_code_names(project).await?);
        if let Ok(mut m) = self.cost_codes.lock() {
            m.insert(project, map.clone());
        }
        Ok(map)
    }
}

/// One per-project listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    Requisitions,
    DirectCosts,
    WorkOrders,
    PurchaseOrders,
    ChangeOrders,
}

impl Listing {
    fn key(self) -> &'static str {
        match self {
            Listing::Requisitions => "requisitions",
            Listing::DirectCosts => "direct_costs",
            Listing::WorkOrders => "work_order_contracts",
            Listing::PurchaseOrders => "purchase_order_contracts",
            Listing::ChangeOrders => "change_order_packages",
        }
    }

    fn entity(self) -> &'static str {
        match self {
            Listing::Requisitions => ENTITY_REQUISITION,
            Listing::DirectCosts => ENTITY_DIRECT_COST,
            Listing::WorkOrders => ENTITY_WORK_ORDER,
            Listing::PurchaseOrders => ENTITY_PURCHASE_ORDER,
            Listing::ChangeOrders => ENTITY_CHANGE_ORDER,
        }
    }

    fn request(self, client: &ProcoreClient, project: i64) -> (String, Vec<(String, String)>) {
        let pq = vec![("project_id".to_string(), project.to_string())];
        match self {
            Listing::Requisitions => match client.settings().requisitions_api {
                RequisitionsApi::V11 => ("rest/v1.1/requisitions".into(), pq),
                RequisitionsApi::V10 => ("rest/v1.0/requisitions".into(), pq),
            },
            Listing::DirectCosts => (format!("rest/v1.1/projects/{project}/direct_costs"), Vec::new()),
            Listing::WorkOrders => ("rest/v1.0/work_order_contracts".into(), pq),
            Listing::PurchaseOrders => ("rest/v1.0/purchase_order_contracts".into(), pq),
            Listing::ChangeOrders => ("rest/v1.0/change_order_packages".into(), pq),
        }
    }
}

/// A listed row: just what a hint needs.
#[derive(Debug, Deserialize)]
struct Listed {
    #[serde(deserialize_with = "mlc_http::decode::de::opt_int", default)]
    id: Option<i64>,
    #[serde(deserialize_with = "mlc_http::decode::de::opt_datetime_utc", default)]
    updated_at: Option<DateTime<Utc>>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The `filters[updated_at]` range of a pass: `since...` a year past the later of now and
/// `since` (Procore accepts only ranges; the open end keeps a record edited during the pass in it).
fn window(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<String> {
    since.map(|s| range_param(&(s, s.max(now) + Duration::days(366))))
}

fn unreadable_cursor(c: &Cursor, e: impl std::fmt::Display) -> StepError {
    StepError::permanent(format!(
        "the cursor of {} is unreadable ({e}): {:?}; reset it with `mlc cursor reset {}`",
        c.flow, c.value, c.flow
    ))
}

/// The cursor of a per-project source (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct ProjectsCursor {
    /// `<project>/<listing>` → where that listing stands.
    #[serde(default)]
    at: BTreeMap<String, SincePageCursor>,
    /// The projects left in the pass in progress (first = current); empty between passes.
    #[serde(default)]
    pass: Vec<i64>,
    /// The listing of the current project.
    #[serde(default)]
    listing: usize,
    /// `Total` of the current listing's first page of this pass.
    #[serde(default)]
    total: Option<u64>,
    /// How often the current listing was restarted because records moved.
    #[serde(default)]
    restarts: u32,
}

/// Restarts of one listing in one pass before its movement is accepted.
const MAX_RESTARTS: u32 = 3;

/// The discovery shared by the per-project sources.
struct ProjectPoller {
    client: ProcoreClient,
    listings: &'static [Listing],
    opts: PollOptions,
    cache: Arc<ProjectCache>,
}

impl ProjectPoller {
    async fn projects(&self) -> Result<Vec<i64>, ProcoreError> {
        match &self.client.settings().projects {
            Some(ids) => Ok(ids.clone()),
            None => {
                let list = self.client.list_projects().await?;
                self.cache.put(&list);
                Ok(list.into_iter().map(|p| p.id).collect())
            }
        }
    }

    async fn discover(
        &self,
        spec: &SourceSpec,
        cursor: Option<&Cursor>,
        ctx: &DiscoverContext,
    ) -> Result<DiscoveryPage, StepError> {
        let mut c: ProjectsCursor = match cursor {
            Some(c) => serde_json::from_str(&c.value).map_err(|e| unreadable_cursor(c, e))?,
            None => ProjectsCursor::default(),
        };
        if c.pass.is_empty() {
            c.pass = self.projects().await?;
            c.listing = 0;
            c.total = None;
            c.restarts = 0;
            if c.pass.is_empty() {
                return Ok(DiscoveryPage { hints: Vec::new(), next_cursor: Some(to_value(&c)), has_more: false });
            }
        }
        let project = c.pass[0];
        let listing = self.listings.get(c.listing).copied().unwrap_or(self.listings[0]);
        let key = format!("{project}/{}", listing.key());
        let mut pos = c.at.get(&key).cloned().unwrap_or(SincePageCursor { since: ctx.start, page: 1, newest: None });
        let (path, mut query) = listing.request(&self.client, project);
        if let Some(w) = window(pos.since, ctx.now) {
            query.push(("filters[updated_at]".into(), w));
        }
        let what = format!("the {} of project {project}", listing.key().replace('_', " "));
        let page = match self.client.list_page(&path, &query, pos.page, &what).await {
            Ok(p) => p,
            Err(e) if matches!(e, ProcoreError::Forbidden { .. }) || e.is_not_found() => {
                // The app may no longer read this project (or it is gone): the others go on; its
                // `since` stays, so nothing it holds is lost when access returns.
                tracing::warn!(system = "procore", project, error = %e, "skipping a project this pass");
                c.pass.remove(0);
                c.listing = 0;
                c.total = None;
                c.restarts = 0;
                let more = !c.pass.is_empty();
                return Ok(DiscoveryPage { hints: Vec::new(), next_cursor: Some(to_value(&c)), has_more: more });
            }
            Err(e) => return Err(e.into()),
        };
        let mut hints = Vec::with_capacity(page.rows.len());
        let mut newest: Option<DateTime<Utc>> = None;
        for row in &page.rows {
            let Ok(l) = serde_json::from_value::<Listed>(row.clone()) else { continue };
            let Some(id) = l.id else { continue };
            let h = spec.hint(listing.entity(), &format!("{project}/{id}"), Origin::Poll, ctx.now);
            hints.push(match l.updated_at {
                Some(t) => {
                    newest = Some(newest.map_or(t, |n: DateTime<Utc>| n.max(t)));
                    h.with_version(stamp(t))
                }
                None => h,
            });
        }
        let moved = pos.page > 1 && c.total.is_some() && page.total != c.total;
        if moved && c.restarts < MAX_RESTARTS {
            // Records moved under our pages: read this listing again from its first page.
            c.restarts += 1;
            c.total = None;
            pos.newest = match (pos.newest, newest) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            pos.page = 1;
            c.at.insert(key, pos);
            return Ok(DiscoveryPage { hints, next_cursor: Some(to_value(&c)), has_more: true });
        }
        let more_pages = page.next.is_some();
        if pos.page == 1 || c.total.is_none() {
            c.total = page.total;
        }
        let mut next = pos.advance(newest, more_pages, self.opts.overlap);
        if let Some(n) = page.next {
            next.page = n;
        }
        c.at.insert(key, next);
        if !more_pages {
            c.total = None;
            c.restarts = 0;
            c.listing += 1;
            if c.listing >= self.listings.len() {
                c.listing = 0;
                c.pass.remove(0);
            }
        }
        let has_more = !c.pass.is_empty();
        Ok(DiscoveryPage { hints, next_cursor: Some(to_value(&c)), has_more })
    }
}

fn to_value(c: &ProjectsCursor) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// `(project, id)` of a project-scoped hint.
fn project_and_id(hint: &Hint) -> Result<(i64, i64), StepError> {
    match split_hint(&hint.id) {
        Some((Some(p), id)) => Ok((p, id)),
        _ => Err(StepError::permanent(format!(
            "Procore {} hint {:?} does not name a project and a record (<project>/<id>)",
            hint.entity, hint.id
        ))),
    }
}

fn spec(connection: &str, family: &str, entities: &[&str], has_webhooks: bool) -> SourceSpec {
    SourceSpec {
        connection: connection.to_string(),
        system: "procore".into(),
        family: family.into(),
        entities: entities.iter().map(|e| e.to_string()).collect(),
        has_webhooks,
    }
}

fn record<R>(entity: &str, id: String, version: String, record: R) -> ReadBack<SourceRecord<R>> {
    ReadBack::found(vec![SourceRecord { entity: entity.into(), id, version, record }])
}

// ------------------------------------------------------------------------------ requisitions

/// A subcontractor invoice as the flows read it: the requisition (with its G703 rows), its
/// commitment (vendor, number, each row's cost code and cost type), its project, and — only when
/// a row names its cost code by id alone — the project's cost codes.
#[derive(Debug, Clone)]
pub struct RequisitionRecord {
    pub project_id: i64,
    pub project: Option<Project>,
    pub requisition: Requisition,
    pub commitment: Option<Commitment>,
    /// Cost code id → full code, when the rows needed it.
    pub cost_codes: Arc<BTreeMap<i64, String>>,
}

/// Procore subcontractor invoices (requisitions), per project.
pub struct RequisitionSource {
    spec: SourceSpec,
    poller: ProjectPoller,
}

impl RequisitionSource {
    pub fn new(connection: &str, client: ProcoreClient, opts: PollOptions) -> Self {
        RequisitionSource {
            // Procore sends no requisition webhooks today (fact sheet §0.2); one that arrives is
            // still a hint.
            spec: spec(connection, "requisition", &[ENTITY_REQUISITION], true),
            poller: ProjectPoller { client, listings: &[Listing::Requisitions], opts, cache: Default::default() },
        }
    }
}

#[async_trait]
impl Source for RequisitionSource {
    type Record = Arc<RequisitionRecord>;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.poller.discover(&self.spec, cursor, ctx).await
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Self::Record>>, StepError> {
        let (project_id, id) = project_and_id(hint)?;
        let c = &self.poller.client;
        let Some(requisition) = c.get_requisition(project_id, id).await? else {
            return Ok(ReadBack::Gone(format!(
                "Procore answers \"not found\" for subcontractor invoice {id} of project {project_id} (deleted, or the project is no longer permitted)"
            )));
        };
        let commitment = c.commitment_of(project_id, &requisition).await?;
        // A row whose cost code is named by id alone, and not on a commitment line: the list.
        let lines = commitment.as_ref().map(|k| k.line_items.as_slice()).unwrap_or_default();
        let needs_list = requisition.items.iter().any(|i| i.needs_project_codes(lines));
        let cost_codes =
            if needs_list { self.poller.cache.cost_codes(c, project_id).await? } else { Arc::new(BTreeMap::new()) };
        let project = self.poller.cache.project(c, project_id).await?;
        let version = requisition.version();
        Ok(record(
            ENTITY_REQUISITION,
            hint.id.clone(),
            version,
            Arc::new(RequisitionRecord { project_id, project, requisition, commitment, cost_codes }),
        ))
    }
}

// ------------------------------------------------------------------------------ direct costs

/// A direct cost as the flows read it (the v1.1 show, with its lines).
#[derive(Debug, Clone)]
pub struct DirectCostRecord {
    pub project_id: i64,
    pub project: Option<Project>,
    pub direct_cost: DirectCost,
}

/// Procore direct costs (invoices, expenses, payroll), per project.
pub struct DirectCostSource {
    spec: SourceSpec,
    poller: ProjectPoller,
}

impl DirectCostSource {
    pub fn new(connection: &str, client: ProcoreClient, opts: PollOptions) -> Self {
        DirectCostSource {
            spec: spec(connection, "direct-cost", &[ENTITY_DIRECT_COST], true),
            poller: ProjectPoller { client, listings: &[Listing::DirectCosts], opts, cache: Default::default() },
        }
    }
}

#[async_trait]
impl Source for DirectCostSource {
    type Record = Arc<DirectCostRecord>;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.poller.discover(&self.spec, cursor, ctx).await
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Self::Record>>, StepError> {
        let (project_id, id) = project_and_id(hint)?;
        let c = &self.poller.client;
        let Some(direct_cost) = c.get_direct_cost(project_id, id).await? else {
            return Ok(ReadBack::Gone(format!(
                "Procore answers \"not found\" for direct cost {id} of project {project_id} (deleted, or the project is no longer permitted)"
            )));
        };
        let project = self.poller.cache.project(c, project_id).await?;
        let version = direct_cost.version();
        Ok(record(
            ENTITY_DIRECT_COST,
            hint.id.clone(),
            version,
            Arc::new(DirectCostRecord { project_id, project, direct_cost }),
        ))
    }
}

// ------------------------------------------------------------------------------ commitments

/// A commitment or a change order, as the commitments flow reads it.
#[derive(Debug, Clone)]
pub enum CommitmentRecord {
    /// A work order (subcontract) or purchase order, with its lines.
    Contract { project_id: i64, project: Option<Project>, commitment: Commitment },
    /// A change order (package) with its lines, and the commitment it changes.
    ChangeOrder {
        project_id: i64,
        project: Option<Project>,
        change_order: Box<ChangeOrder>,
        commitment: Option<Commitment>,
    },
}

impl CommitmentRecord {
    pub fn project_id(&self) -> i64 {
        match self {
            CommitmentRecord::Contract { project_id, .. } | CommitmentRecord::ChangeOrder { project_id, .. } => {
                *project_id
            }
        }
    }

    pub fn project(&self) -> Option<&Project> {
        match self {
            CommitmentRecord::Contract { project, .. } | CommitmentRecord::ChangeOrder { project, .. } => {
                project.as_ref()
            }
        }
    }
}

/// Procore commitments (work orders, purchase orders) and change order packages, per project.
pub struct CommitmentSource {
    spec: SourceSpec,
    poller: ProjectPoller,
}

impl CommitmentSource {
    pub fn new(connection: &str, client: ProcoreClient, opts: PollOptions) -> Self {
        CommitmentSource {
            spec: spec(
                connection,
                "commitment",
                &[ENTITY_WORK_ORDER, ENTITY_PURCHASE_ORDER, ENTITY_CHANGE_ORDER],
                true,
            ),
            poller: ProjectPoller {
                client,
                listings: &[Listing::WorkOrders, Listing::PurchaseOrders, Listing::ChangeOrders],
                opts,
                cache: Default::default(),
            },
        }
    }
}

#[async_trait]
impl Source for CommitmentSource {
    type Record = Arc<CommitmentRecord>;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        self.poller.discover(&self.spec, cursor, ctx).await
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Self::Record>>, StepError> {
        let (project_id, id) = project_and_id(hint)?;
        let c = &self.poller.client;
        let rec = match hint.entity.as_str() {
            ENTITY_WORK_ORDER | ENTITY_PURCHASE_ORDER => {
                let kind = if hint.entity == ENTITY_WORK_ORDER {
                    CommitmentKind::WorkOrder
                } else {
                    CommitmentKind::PurchaseOrder
                };
                let Some(commitment) = c.get_commitment(project_id, kind, id).await? else {
                    return Ok(ReadBack::Gone(format!(
                        "Procore answers \"not found\" for {} {id} of project {project_id} (deleted, or no longer visible)",
                        kind.path().trim_end_matches('s').replace('_', " ")
                    )));
                };
                if commitment.deleted_at.is_some() {
                    return Ok(ReadBack::Gone(format!(
                        "Procore shows commitment {id} of project {project_id} as deleted"
                    )));
                }
                let project = self.poller.cache.project(c, project_id).await?;
                let version = commitment.version();
                (version, CommitmentRecord::Contract { project_id, project, commitment })
            }
            ENTITY_CHANGE_ORDER => {
                let Some(change_order) = c.get_change_order(project_id, id).await? else {
                    return Ok(ReadBack::Gone(format!(
                        "Procore answers \"not found\" for change order {id} of project {project_id} (deleted, or no longer visible)"
                    )));
                };
                if change_order.deleted_at.is_some() {
                    return Ok(ReadBack::Gone(format!(
                        "Procore shows change order {id} of project {project_id} as deleted"
                    )));
                }
                let commitment = match change_order.contract_id {
                    Some(k) => c.find_commitment(project_id, k).await?,
                    None => None,
                };
                let project = self.poller.cache.project(c, project_id).await?;
                let version = change_order.version();
                (
                    version,
                    CommitmentRecord::ChangeOrder {
                        project_id,
                        project,
                        change_order: Box::new(change_order),
                        commitment,
                    },
                )
            }
            other => {
                return Err(StepError::permanent(format!(
                    "Procore commitment source cannot read {other:?} records (expected {ENTITY_WORK_ORDER}, {ENTITY_PURCHASE_ORDER} or {ENTITY_CHANGE_ORDER})"
                )));
            }
        };
        Ok(record(&hint.entity, hint.id.clone(), rec.0, Arc::new(rec.1)))
    }
}

// ------------------------------------------------------------------------------ vendors

/// Procore company vendors (the Directory), company-wide.
pub struct VendorSource {
    spec: SourceSpec,
    client: ProcoreClient,
    opts: PollOptions,
}

impl VendorSource {
    pub fn new(connection: &str, client: ProcoreClient, opts: PollOptions) -> Self {
        VendorSource { spec: spec(connection, "vendor", &[ENTITY_VENDOR], true), client, opts }
    }
}

#[async_trait]
impl Source for VendorSource {
    type Record = Arc<Vendor>;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let pos = SincePageCursor::load(cursor, ctx.start)?;
        let mut query = vec![("company_id".to_string(), self.client.company_id().to_string())];
        if let Some(w) = window(pos.since, ctx.now) {
            query.push(("filters[updated_at]".into(), w));
        }
        let page = self.client.list_page("rest/v1.0/vendors", &query, pos.page, "the company vendors").await?;
        let mut newest: Option<DateTime<Utc>> = None;
        let mut hints = Vec::with_capacity(page.rows.len());
        for row in &page.rows {
            let Ok(l) = serde_json::from_value::<Listed>(row.clone()) else { continue };
            let Some(id) = l.id else { continue };
            let h = self.spec.hint(ENTITY_VENDOR, &id.to_string(), Origin::Poll, ctx.now);
            hints.push(match l.updated_at {
                Some(t) => {
                    newest = Some(newest.map_or(t, |n: DateTime<Utc>| n.max(t)));
                    h.with_version(stamp(t))
                }
                None => h,
            });
        }
        let more = page.next.is_some();
        let mut next = pos.advance(newest, more, self.opts.overlap);
        if let Some(n) = page.next {
            next.page = n;
        }
        Ok(DiscoveryPage { hints, next_cursor: Some(next.to_value()), has_more: more })
    }

    async fn read_back(
        &self,
        hint: &Hint,
        _ctx: &ReadContext<'_>,
    ) -> Result<ReadBack<SourceRecord<Self::Record>>, StepError> {
        let id: i64 = hint
            .id
            .trim()
            .parse()
            .map_err(|_| StepError::permanent(format!("Procore vendor hint {:?} is not a vendor id", hint.id)))?;
        Ok(match self.client.get_vendor(id).await? {
            Some(v) => {
                let version = v.version();
                record(ENTITY_VENDOR, id.to_string(), version, Arc::new(v))
            }
            None => ReadBack::Gone(format!("Procore answers \"not found\" for vendor {id}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_ranges_and_cursors_round_trip() {
        let t = DateTime::parse_from_rfc3339("2025-06-01T10:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(window(None, t), None);
        let w = window(Some(t), t).unwrap();
        assert!(w.starts_with("2025-06-01T10:00:00Z..."), "{w}");
        let mut c = ProjectsCursor { pass: vec![7, 8], listing: 1, ..Default::default() };
        c.at.insert("7/requisitions".into(), SincePageCursor { since: Some(t), page: 3, newest: None });
        let back: ProjectsCursor = serde_json::from_str(&to_value(&c)).unwrap();
        assert_eq!(back, c);
        let bad = Cursor { flow: "procore/requisition".into(), value: "x".into(), updated_at: t };
        assert!(unreadable_cursor(&bad, "eof").message.contains("mlc cursor reset procore/requisition"));
    }
}
