//! Procore → Deltek Vantagepoint (issue 14), end to end over HTTP against both simulators: the
//! generated general contractor (Summit Ridge Builders) in Procore and its matching Deltek
//! database, the four flows on the runtime over in-memory ports.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use mlc_core::engine::flow::DiscoverContext;
use mlc_core::engine::intake::WebhookRequest;
use mlc_core::engine::memory::{MemoryQueue, MemorySecrets, MemoryStore};
use mlc_core::engine::model::{Cursor, ItemState, WorkItem};
use mlc_core::engine::parts::Source;
use mlc_core::engine::ports::{Clock, Queue, SecretStore, Store, SystemClock};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_core::secret::{Credentials, Redacted};
use mlc_flows::{Config, Runtime};
use mlc_procore::{PollOptions, ProcoreClient, ProcoreConnection, ProcoreSettings, RequisitionSource};
use mlc_sim::common::{Fault, FaultRule, SimClock, SimSystem};
use mlc_sim::deltek::{DeltekScenario, DeltekSim};
use mlc_sim::procore::deltek_seed::{COST_TYPE_ACCOUNTS, RETAINAGE_PAYABLE, summit_ridge};
use mlc_sim::procore::scenario::{
    self, COST_CODES, NEW_SUBCONTRACTOR, UNMAPPED_COST_CODE, demo, project_id, project_numbers,
};
use mlc_sim::procore::{ProcoreScenario, ProcoreSim};
use mlc_sim::world::SimWorld;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Harness, flow, quick};

const VENDORS: &str = "procore-deltek-vendors";
const SUBCONTRACT: &str = "procore-deltek-ap-subcontract";
const DIRECT: &str = "procore-deltek-ap-direct";
const COMMITMENTS: &str = "procore-deltek-commitments";
const SCOPE: &str = "procore-deltek";

/// What a world is started with.
struct Setup {
    projects: usize,
    clock: SimClock,
    /// Procore connection settings beyond the simulator's.
    procore: Vec<(&'static str, Value)>,
    /// Deltek connection settings beyond the simulator's.
    deltek: Vec<(&'static str, Value)>,
    /// Keep the Procore budget of the simulator (otherwise it is off).
    budget: bool,
}

impl Setup {
    fn new(projects: usize) -> Self {
        Setup { projects, clock: SimClock::manual_default(), procore: Vec::new(), deltek: Vec::new(), budget: false }
    }
}

fn company(projects: usize) -> ProcoreScenario {
    scenario::general_contractor(scenario::DEFAULT_SEED, projects)
}

/// The two simulators as connections `procore` and `deltek`; the Procore budget is off (a
/// manual clock never ends a window by itself) unless the setup keeps it.
async fn world(s: &Setup) -> SimWorld {
    let mut w = SimWorld::new(s.clock.clone());
    let deltek =
        DeltekSim::builder().clock(s.clock.clone()).scenario(summit_ridge(s.projects)).start().await.expect("deltek");
    w.add("deltek", deltek);
    let procore =
        ProcoreSim::builder().clock(s.clock.clone()).scenario(company(s.projects)).start().await.expect("procore");
    if !s.budget {
        procore.system().set_switch(|sw| {
            sw.spike_limit = 0;
            sw.hourly_limit = 1_000_000;
        });
    }
    w.add("procore", procore);
    if !s.budget {
        w.set_option("procore", "spike_limit", json!(0));
    }
    w.set_option("procore", "timeout_secs", json!(5));
    w.set_option("deltek", "batch_linger_ms", json!(20));
    w.set_option("deltek", "max_calls_per_second", json!(500));
    for (k, v) in &s.procore {
        w.set_option("procore", k, v.clone());
    }
    for (k, v) in &s.deltek {
        w.set_option("deltek", k, v.clone());
    }
    w
}

fn subcontract_options(retainage: &str) -> Value {
    json!({"initial_lookback_days": 0, "retainage": retainage, "retainage_account": RETAINAGE_PAYABLE})
}

fn commitment_options() -> Value {
    json!({"initial_lookback_days": 0, "work_order_account": "58100", "purchase_order_account": "58200",
           "offset_account": "29100"})
}

fn flows() -> Vec<(&'static str, mlc_flows::FlowSettings)> {
    vec![
        (VENDORS, flow(None, "procore", "deltek", json!({}))),
        (SUBCONTRACT, flow(None, "procore", "deltek", subcontract_options("gross"))),
        (DIRECT, flow(None, "procore", "deltek", json!({"initial_lookback_days": 0}))),
        (COMMITMENTS, flow(None, "procore", "deltek", commitment_options())),
    ]
}

/// The mappings a finance team prepares: projects, cost codes (all but `02-400` unless
/// `all_codes`), cost types. Vendors are learnt by the vendors flow.
async fn map_reference_data(h: &Harness, projects: usize, all_codes: bool) {
    for i in 0..projects {
        add(h, MappingKind::PROJECT, &project_id(i).to_string(), &project_numbers(i).1).await;
    }
    for (div, _, children) in COST_CODES {
        for (code, _) in children.iter() {
            let full = format!("{div}-{code}");
            if all_codes || full != UNMAPPED_COST_CODE {
                add(h, MappingKind::COST_CODE, &full, div).await;
            }
        }
    }
    for (ct, acct, _) in COST_TYPE_ACCOUNTS {
        add(h, MappingKind::COST_TYPE, ct, acct).await;
    }
}

async fn add(h: &Harness, kind: MappingKind, source: &str, target: &str) {
    let m = Mapping {
        key: MappingKey::new(SCOPE, kind, source),
        target: target.into(),
        note: None,
        updated_at: Utc::now(),
    };
    h.engine().add_mapping(m).await.expect("mapping");
}

fn procore(w: &SimWorld) -> Arc<ProcoreSim> {
    w.system::<ProcoreSim>("procore").expect("procore sim")
}

fn deltek(w: &SimWorld) -> Arc<DeltekSim> {
    w.system::<DeltekSim>("deltek").expect("deltek sim")
}

async fn action(w: &SimWorld, name: &str, args: Value) -> Value {
    procore(w).action(name.to_string(), args).await.expect("action")
}

/// A person's edit in Procore, a minute after the last one (so `updated_at` moves).
async fn edit(w: &SimWorld, name: &str, args: Value) -> Value {
    w.clock.advance(chrono::Duration::minutes(1));
    action(w, name, args).await
}

fn item<'a>(items: &'a [WorkItem], doc_id: &str) -> Option<&'a WorkItem> {
    items.iter().filter(|i| i.doc_id == doc_id && i.version != "unread").max_by_key(|i| i.updated_at)
}

/// One voucher line ml-connector wrote: (invoice, account, amount).
type VoucherLine = (String, String, Decimal);

/// Every voucher line ml-connector wrote.
fn voucher_lines(w: &SimWorld) -> Vec<VoucherLine> {
    let d = deltek(w);
    let st = d.lock();
    let mut out = Vec::new();
    for f in st.ap_files.iter().filter(|f| f.control.batch.starts_with("MLC")) {
        for m in &f.masters {
            for x in f.details.iter().filter(|x| x.master_pkey == m.master_pkey) {
                out.push((m.invoice.clone(), x.account.clone(), x.amount));
            }
        }
    }
    out
}

/// Voucher totals by invoice number (an invoice twice would be a duplicate: counted).
fn vouchers(w: &SimWorld) -> BTreeMap<String, (usize, Decimal)> {
    let d = deltek(w);
    let st = d.lock();
    let mut out: BTreeMap<String, (usize, Decimal)> = BTreeMap::new();
    for f in st.ap_files.iter().filter(|f| f.control.batch.starts_with("MLC")) {
        for m in &f.masters {
            let total: Decimal = f.details.iter().filter(|x| x.master_pkey == m.master_pkey).map(|x| x.amount).sum();
            let e = out.entry(m.invoice.clone()).or_default();
            e.0 += 1;
            e.1 += total;
        }
    }
    out
}

/// A journal entry as Deltek holds it: debits, credits and lines (account, `WBS1|WBS2`, dr, cr).
struct Je {
    debits: Decimal,
    credits: Decimal,
    lines: Vec<(String, String, Decimal, Decimal)>,
}

fn journal_entries(w: &SimWorld) -> BTreeMap<String, Je> {
    let d = deltek(w);
    let st = d.lock();
    let mut out = BTreeMap::new();
    for f in st.je_files.iter() {
        for m in &f.masters {
            let lines: Vec<(String, String, Decimal, Decimal)> = f
                .details
                .iter()
                .filter(|x| x.ref_no == m.ref_no)
                .map(|x| (x.account.clone(), format!("{}|{}", x.wbs1, x.wbs2), x.debit_amount, x.credit_amount))
                .collect();
            let debits = lines.iter().map(|l| l.2).sum();
            let credits = lines.iter().map(|l| l.3).sum();
            out.insert(m.ref_no.clone(), Je { debits, credits, lines });
        }
    }
    out
}

async fn run_all(h: &Harness) {
    for f in [VENDORS, SUBCONTRACT, DIRECT, COMMITMENTS] {
        h.run(f).await;
    }
    h.settle(Duration::from_secs(20)).await;
}

/// The expected state and code of a requisition in status `s` (include `approved_as_noted`: no).
fn requisition_rule(s: &str) -> (ItemState, &'static str) {
    match s {
        "approved" => (ItemState::Posted, "posted"),
        "approved_as_noted" => (ItemState::Skipped, "approved_as_noted"),
        "draft" => (ItemState::Skipped, "draft"),
        "under_review" => (ItemState::Skipped, "under_review"),
        "revise_and_resubmit" => (ItemState::Skipped, "revise_and_resubmit"),
        "pending_owner_approval" => (ItemState::Skipped, "pending_owner_approval"),
        other => panic!("status {other} not in Procore's list"),
    }
}

#[tokio::test]
async fn every_requisition_status_rule_retainage_and_both_requisition_versions() {
    let mut posted_by_version = Vec::new();
    for api in ["v1.1", "v1.0"] {
        let mut s = Setup::new(2);
        s.procore.push(("requisitions_api", json!(api)));
        let w = world(&s).await;
        let h = Harness::new(&w, flows()).await;
        map_reference_data(&h, 2, true).await;
        h.run(SUBCONTRACT).await;
        // Before the vendors flow, the invoices wait for their vendors, all missing keys at once.
        let waiting = h.items(SUBCONTRACT).await;
        let approved = waiting.iter().filter(|i| i.state == ItemState::NeedsMapping).count();
        assert!(approved > 0 && waiting.iter().all(|i| i.state != ItemState::Posted), "{api}: vendors not paired yet");
        assert!(
            waiting
                .iter()
                .filter(|i| i.state == ItemState::NeedsMapping)
                .all(|i| i.missing.iter().all(|k| k.kind == MappingKind::VENDOR))
        );
        // The vendors flow pairs them (by tax id, by name, or a new firm) and that releases them.
        h.run(VENDORS).await;
        h.settle(Duration::from_secs(20)).await;
        let firms: Vec<String> = deltek(&w).lock().firms.iter().map(|f| f.name.clone()).collect();
        assert!(firms.iter().any(|f| f == NEW_SUBCONTRACTOR), "{api}: the new subcontractor became a vendor firm");

        let items = h.items(SUBCONTRACT).await;
        let reqs = procore(&w).lock().requisitions.clone();
        assert!(reqs.len() > 10);
        let mut statuses = BTreeSet::new();
        for r in &reqs {
            let doc = format!("{}/{}", r.project_id, r.id);
            let it = item(&items, &doc).unwrap_or_else(|| panic!("{api}: requisition {doc} has no item"));
            let (state, code) = requisition_rule(&r.status);
            assert_eq!(
                (it.state, it.code.as_deref()),
                (state, Some(code)),
                "{api}: {doc} status {}: {:?}",
                r.status,
                it.reason
            );
            statuses.insert(r.status.clone());
        }
        assert!(statuses.len() >= 4, "the seed covers several statuses: {statuses:?}");

        // Retainage as a line of its own on retainage payable, each voucher the amount due.
        let lines = voucher_lines(&w);
        let totals = vouchers(&w);
        for r in reqs.iter().filter(|r| r.status == "approved") {
            let number = r.invoice_number.clone().expect("number");
            let (n, total) = totals.get(&number).copied().unwrap_or_else(|| panic!("{api}: no voucher {number}"));
            let net: Decimal = r.items.iter().map(|i| i.net()).sum();
            let retained: Decimal = r.items.iter().map(|i| i.retainage_this_period()).sum();
            assert_eq!((n, total), (1, net), "{api}: voucher {number} once, at the amount due");
            let ret_line: Decimal =
                lines.iter().filter(|l| l.0 == number && l.1 == RETAINAGE_PAYABLE).map(|l| l.2).sum();
            assert_eq!(ret_line, -retained, "{api}: {number} retainage line");
        }
        posted_by_version.push(totals);
    }
    assert_eq!(posted_by_version[0], posted_by_version[1], "v1.0 and v1.1 post the same vouchers");
}

#[tokio::test]
async fn net_retainage_direct_cost_rules_and_the_unmapped_cost_code_waits_then_releases() {
    let s = Setup::new(2);
    let w = world(&s).await;
    let mut fl = flows();
    fl[1] = (SUBCONTRACT, flow(None, "procore", "deltek", subcontract_options("net")));
    let h = Harness::new(&w, fl).await;
    map_reference_data(&h, 2, false).await;
    run_all(&h).await;
    // Net retainage: no retainage payable line, each voucher still the amount due.
    assert!(voucher_lines(&w).iter().all(|l| l.1 != RETAINAGE_PAYABLE));
    // Direct costs: approved invoices post; the rest are skipped with their code.
    let items = h.items(DIRECT).await;
    let dcs = procore(&w).lock().direct_costs.clone();
    for d in &dcs {
        let it = item(&items, &format!("{}/{}", d.project_id, d.id)).expect("every direct cost has an item");
        let want = match (d.direct_cost_type.as_str(), d.status.as_str()) {
            ("payroll", _) => "payroll",
            ("expense", _) => "expense",
            (_, "approved") if it.state == ItemState::Failed => "invalid",
            (_, "approved") if it.state == ItemState::NeedsMapping => "needs_mapping",
            (_, "approved") => "posted",
            (_, s) => s,
        };
        assert_eq!(
            it.code.as_deref(),
            Some(want),
            "direct cost {} ({} {}): {:?}",
            d.id,
            d.direct_cost_type,
            d.status,
            it.reason
        );
    }
    // The cost code nobody mapped holds exactly its documents, named by key; adding it releases them.
    let mut waiting: Vec<WorkItem> = Vec::new();
    for f in [SUBCONTRACT, DIRECT, COMMITMENTS] {
        waiting.extend(h.items(f).await);
    }
    let held: Vec<&WorkItem> = waiting.iter().filter(|i| i.state == ItemState::NeedsMapping).collect();
    assert!(!held.is_empty());
    for i in &held {
        assert!(
            i.missing.iter().any(|k| k.kind == MappingKind::COST_CODE && k.source == UNMAPPED_COST_CODE),
            "{:?}",
            i.missing
        );
    }
    add(&h, MappingKind::COST_CODE, UNMAPPED_COST_CODE, "02").await;
    h.settle(Duration::from_secs(20)).await;
    for f in [SUBCONTRACT, DIRECT, COMMITMENTS] {
        assert_eq!(h.count(f, ItemState::NeedsMapping).await, 0, "{f}: released by the mapping");
    }
    let posted_after = h.count(SUBCONTRACT, ItemState::Posted).await + h.count(DIRECT, ItemState::Posted).await;
    assert_eq!(vouchers(&w).len(), posted_after, "one voucher per posted item");
    assert!(vouchers(&w).values().all(|(n, _)| *n == 1), "no invoice twice");
}

fn requisition_client(w: &SimWorld, page_size: u32) -> ProcoreClient {
    client_with(w, json!({"page_size": page_size}))
}

fn client_with(w: &SimWorld, extra: Value) -> ProcoreClient {
    let c = w.connection("procore").expect("procore");
    let mut opts = json!({"base_url": c.base_url, "spike_limit": 0, "timeout_secs": 5});
    if let (Some(o), Value::Object(x)) = (opts.as_object_mut(), extra) {
        o.extend(x);
    }
    for (k, v) in c.settings {
        opts[k] = v;
    }
    let settings = ProcoreSettings::from_options("procore", &opts).expect("settings");
    let mut creds = Credentials::new();
    for (k, v) in c.credentials {
        creds.set(&k, v.as_str().unwrap_or_default().to_string());
    }
    ProcoreClient::new(settings, creds).expect("client")
}

#[tokio::test]
async fn discovery_pages_by_link_per_project_and_misses_nothing_added_or_removed_between_pages() {
    let mut s = Setup::new(2);
    s.procore.push(("page_size", json!(3)));
    let w = world(&s).await;
    let client = requisition_client(&w, 3);
    let src = RequisitionSource::new("procore", client, PollOptions::default());
    let ctx = DiscoverContext { now: Utc::now(), start: None };
    let p0 = project_id(0);
    let commitment =
        procore(&w).lock().requisitions.iter().find(|r| r.project_id == p0).map(|r| r.commitment_id).expect("one");
    let mut cursor: Option<Cursor> = None;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut pages = 0;
    let mut created = Vec::new();
    loop {
        let page = src.discover(cursor.as_ref(), &ctx).await.expect("discover");
        pages += 1;
        seen.extend(page.hints.iter().map(|h| h.id.clone()));
        assert!(page.hints.len() <= 3, "one page per call");
        if pages == 1 {
            // A person enters two invoices and deletes one already listed, between our pages.
            for n in 0..2 {
                let r = action(
                    &w,
                    "create",
                    json!({"resource": "requisition", "record": {"project_id": p0, "commitment_id": commitment,
                        "number": 90 + n, "status": "draft", "invoice_number": format!("LATE-{n}"),
                        "items": [{"work_completed_this_period": "100.00"}]}}),
                )
                .await;
                created.push(format!("{p0}/{}", r["id"]));
            }
            let first = page.hints[0].id.split('/').nth(1).expect("id").to_string();
            action(&w, "delete", json!({"resource": "requisition", "id": first})).await;
        }
        cursor = Some(Cursor {
            flow: "procore/requisition".into(),
            value: page.next_cursor.clone().expect("cursor"),
            updated_at: Utc::now(),
        });
        if !page.has_more {
            break;
        }
        assert!(pages < 100, "the pass ends");
    }
    let now: BTreeSet<String> =
        procore(&w).lock().requisitions.iter().map(|r| format!("{}/{}", r.project_id, r.id)).collect();
    let missed: Vec<&String> = now.difference(&seen).collect();
    assert!(missed.is_empty(), "listed nothing twice-missed: {missed:?}");
    for c in &created {
        assert!(seen.contains(c), "the invoice entered mid-pass is found: {c}");
    }
    let listed = now.len() + 1;
    assert!(pages > listed.div_ceil(3), "the listing moved: it was read again ({pages} pages for {listed} rows)");
    // The next pass starts from the newest stamp seen, per project: nothing new, nothing listed
    // but the overlap window.
    let value: Value = serde_json::from_str(&cursor.as_ref().expect("cursor").value).expect("json");
    assert!(value["at"][format!("{p0}/requisitions")]["since"].is_string(), "{value}");
    assert!(value["pass"].as_array().is_some_and(|a| a.is_empty()), "the pass is over: {value}");
}

/// Every hint of one full pass of `src` from `cursor`; returns the hints and the cursor after.
async fn one_pass(src: &RequisitionSource, mut cursor: Option<Cursor>) -> (BTreeSet<String>, Option<Cursor>) {
    let ctx = DiscoverContext { now: Utc::now(), start: None };
    let mut seen = BTreeSet::new();
    for _ in 0..100 {
        let page = src.discover(cursor.as_ref(), &ctx).await.expect("discover");
        seen.extend(page.hints.iter().map(|h| h.id.clone()));
        cursor = Some(Cursor {
            flow: "procore/requisition".into(),
            value: page.next_cursor.expect("cursor"),
            updated_at: Utc::now(),
        });
        if !page.has_more {
            break;
        }
    }
    (seen, cursor)
}

#[tokio::test]
async fn a_project_the_app_may_no_longer_read_is_skipped_and_read_in_full_when_access_returns() {
    let s = Setup::new(2);
    let w = world(&s).await;
    let (p0, p1) = (project_id(0), project_id(1));
    let src = RequisitionSource::new("procore", client_with(&w, json!({"projects": [p0, p1]})), PollOptions::default());
    action(&w, "set_install", json!({"projects": [p1]})).await;
    let (seen, cursor) = one_pass(&src, None).await;
    assert!(
        !seen.is_empty() && seen.iter().all(|h| h.starts_with(&format!("{p1}/"))),
        "the other job is read: {seen:?}"
    );
    action(&w, "set_install", json!({"projects": null})).await;
    let (seen, _) = one_pass(&src, cursor).await;
    let p0_all = procore(&w).lock().requisitions.iter().filter(|r| r.project_id == p0).count();
    assert_eq!(seen.iter().filter(|h| h.starts_with(&format!("{p0}/"))).count(), p0_all, "nothing of it was lost");
}

#[tokio::test]
async fn commitments_post_once_revisions_post_only_the_difference_and_every_entry_balances() {
    let s = Setup::new(1);
    let w = world(&s).await;
    let h = Harness::new(&w, flows()).await;
    map_reference_data(&h, 1, true).await;
    h.run(COMMITMENTS).await;
    let first = journal_entries(&w);
    let posted = h.count(COMMITMENTS, ItemState::Posted).await;
    assert!(posted > 3 && first.len() == posted, "one entry per commitment and approved change order");
    for (r, je) in &first {
        assert!(je.debits == je.credits && !je.debits.is_zero(), "{r} balances");
        assert!(je.lines.iter().any(|l| l.0 == "29100" && l.1 == "|"), "{r}: offset line without a project");
    }
    // Every status rule: committed commitments and approved change orders post, the rest wait
    // or are skipped with their code.
    let items = h.items(COMMITMENTS).await;
    let sim = procore(&w);
    let (commitments, change_orders) = {
        let st = sim.lock();
        (st.commitments.clone(), st.change_orders.clone())
    };
    for c in &commitments {
        let prefix = match c.kind {
            mlc_sim::procore::model::CommitmentKind::WorkOrderContract => "wo",
            mlc_sim::procore::model::CommitmentKind::PurchaseOrderContract => "po",
        };
        let it = item(&items, &format!("{prefix}:{}/{}", c.project_id, c.id)).expect("every commitment has an item");
        let want = match c.status.as_str() {
            "Approved" | "Complete" | "Partially Received" | "Received" | "Closed" => "posted",
            "Void" | "Terminated" => "void",
            _ => "not_committed",
        };
        assert_eq!(it.code.as_deref(), Some(want), "{} {}: {:?}", c.number, c.status, it.reason);
    }
    for co in &change_orders {
        let it = item(&items, &format!("co:{}/{}", co.project_id, co.id)).expect("every change order has an item");
        let want = match co.status.as_str() {
            "approved" => "posted",
            "void" | "rejected" | "not_proceeding" => "change_order_void",
            "no_charge" => "no_charge",
            _ => "change_order_pending",
        };
        assert_eq!(it.code.as_deref(), Some(want), "change order {} {}: {:?}", co.id, co.status, it.reason);
    }
    // A second poll of the same data posts nothing.
    h.run(COMMITMENTS).await;
    assert_eq!(journal_entries(&w).len(), first.len());

    // Revise an approved subcontract: raise its first line by 5,000 and add a 1,200 line.
    let sim = procore(&w);
    let (id, mut lines, full_code) = {
        let st = sim.lock();
        let c = st
            .commitments
            .iter()
            .find(|c| c.kind == mlc_sim::procore::model::CommitmentKind::WorkOrderContract && c.status == "Approved")
            .expect("an approved subcontract")
            .clone();
        let cc = c.line_items[0].cost_code_id.and_then(|id| st.cost_code(id)).map(|x| st.full_code(x)).expect("code");
        (c.id, serde_json::to_value(&c.line_items).expect("lines"), cc)
    };
    let base = first.get(&format!("WO{id}")).expect("the original entry");
    let amount: Decimal = lines[0]["amount"].as_str().and_then(|a| a.parse().ok()).expect("amount");
    lines[0]["amount"] = json!((amount + Decimal::from(5000)).to_string());
    // The added line on another division than the first line's.
    let other = if full_code.starts_with("22") { "23-100" } else { "22-100" };
    let general = {
        let st = sim.lock();
        st.cost_codes.iter().find(|c| c.project_id == project_id(0) && st.full_code(c) == other).map(|c| c.id)
    };
    assert!(general.is_some(), "cost code {other} exists");
    lines.as_array_mut().expect("array").push(json!({"description": "Added scope", "cost_code_id": general,
        "line_item_type_id": 360_102, "amount": "1200.00", "quantity": "1"}));
    edit(&w, "update", json!({"resource": "commitment", "id": id, "fields": {"line_items": lines}})).await;
    h.run(COMMITMENTS).await;
    let jes = journal_entries(&w);
    let r2 = jes.get(&format!("WO{id}-R2")).expect("a revision entry");
    assert_eq!((r2.debits, r2.credits), (Decimal::from(6200), Decimal::from(6200)), "only the difference");
    let div = full_code.split('-').next().expect("division").to_string();
    assert!(
        r2.lines.iter().any(|l| l.0 == "58100" && l.1.ends_with(&format!("|{div}")) && l.2 == Decimal::from(5000)),
        "{full_code}: {:?}",
        r2.lines
    );
    assert!(r2.lines.iter().any(|l| l.0 == "29100" && l.3 == Decimal::from(6200)));
    assert!(
        base.debits > Decimal::ZERO && jes.get(&format!("WO{id}")).is_some_and(|j| j.debits == base.debits),
        "the original stays"
    );

    // A status change alone posts nothing.
    edit(&w, "set_status", json!({"resource": "commitment", "id": id, "status": "Complete"})).await;
    h.run(COMMITMENTS).await;
    assert_eq!(journal_entries(&w).len(), jes.len());
    let it = item(&h.items(COMMITMENTS).await, &format!("wo:{}/{id}", project_id(0))).cloned().expect("item");
    assert_eq!((it.state, it.code.as_deref()), (ItemState::Skipped, Some("already_in_target")), "{:?}", it.reason);

    // A decrease credits the committed account and debits the offset.
    lines[0]["amount"] = json!((amount + Decimal::from(2000)).to_string());
    edit(&w, "update", json!({"resource": "commitment", "id": id, "fields": {"line_items": lines}})).await;
    h.run(COMMITMENTS).await;
    let r3 = journal_entries(&w).remove(&format!("WO{id}-R3")).expect("a decrease entry");
    assert!(r3.lines.iter().any(|l| l.0 == "58100" && l.3 == Decimal::from(3000)));
    assert!(r3.lines.iter().any(|l| l.0 == "29100" && l.2 == Decimal::from(3000)));

    // A change order approved later gets an entry of its own, once.
    let co = sim
        .lock()
        .change_orders
        .iter()
        .find(|c| c.status != "approved" && c.status != "void")
        .map(|c| (c.id, c.grand_total()));
    if let Some((co, total)) = co {
        edit(&w, "set_status", json!({"resource": "change_order", "id": co, "status": "approved"})).await;
        h.run(COMMITMENTS).await;
        h.run(COMMITMENTS).await;
        let je = journal_entries(&w).remove(&format!("CO{co}")).expect("the change order's entry");
        assert_eq!((je.debits, je.credits), (total, total));
    }
    for (r, je) in journal_entries(&w) {
        assert_eq!(je.debits, je.credits, "{r} balances");
    }
}

#[tokio::test]
async fn origin_id_write_back_is_off_by_default_and_when_on_stamps_each_posted_record_once() {
    let s = Setup::new(2);
    let w = world(&s).await;
    let mut fl = flows();
    fl[1] = (
        SUBCONTRACT,
        flow(None, "procore", "deltek", json!({"initial_lookback_days": 0, "write_back_origin_id": true})),
    );
    let h = Harness::new(&w, fl).await;
    map_reference_data(&h, 2, true).await;
    run_all(&h).await;
    let (reqs, dcs) = {
        let st = procore(&w);
        let st = st.lock();
        (st.requisitions.clone(), st.direct_costs.clone())
    };
    // Off by default: no direct cost carries an origin id.
    assert!(h.count(DIRECT, ItemState::Posted).await > 0);
    assert!(dcs.iter().all(|d| d.origin_id.is_none()), "nothing written to Procore by the direct flow");
    // On: every posted invoice is stamped with its voucher (and so locked in Procore).
    let items = h.items(SUBCONTRACT).await;
    let posted: Vec<&WorkItem> = items.iter().filter(|i| i.state == ItemState::Posted).collect();
    assert!(!posted.is_empty());
    for i in &posted {
        let id: i64 = i.doc_id.split('/').nth(1).and_then(|x| x.parse().ok()).expect("id");
        let r = reqs.iter().find(|r| r.id == id).expect("requisition");
        let target = i.target.as_ref().expect("target");
        assert_eq!(r.origin_id.as_deref(), Some(format!("deltek:{}", target.id).as_str()), "{}", i.key);
        let trail = h.store.audit_trail(&i.key).await.expect("trail");
        assert!(trail.iter().any(|a| a.event == "source_told"), "{}", i.key);
    }
    assert!(reqs.iter().filter(|r| r.status != "approved").all(|r| r.origin_id.is_none()), "only posted ones");
    // The stamp changes Procore's updated_at, not the document: the next poll posts nothing.
    let before = vouchers(&w).len();
    h.run(SUBCONTRACT).await;
    assert_eq!(vouchers(&w).len(), before);
    assert_eq!(h.count(SUBCONTRACT, ItemState::Posted).await, posted.len());
}

/// Deltek with one posted AP voucher (so the visibility check has amounts to read).
fn deltek_with_posted_history(projects: usize) -> DeltekScenario {
    let file = mlc_sim::deltek::state::ApFile::new("HANDKEYED0601", "Keyed by hand", 202_506).voucher(
        "APEX",
        "HIST-1",
        chrono::NaiveDate::from_ymd_opt(2025, 6, 2).and_then(|d| d.and_hms_opt(0, 0, 0)),
        &[(project_numbers(0).1.as_str(), "03", "", "57100", Decimal::from(1000), "keyed by hand")],
    );
    summit_ridge(projects).ap_file(file, true)
}

#[tokio::test]
async fn zero_amounts_fail_naming_the_cause_and_nothing_is_posted() {
    let s = Setup::new(1);
    let w = world(&s).await;
    deltek(&w).seed_scenario(&deltek_with_posted_history(0)).expect("history");
    let h = Harness::new(&w, flows()).await;
    map_reference_data(&h, 1, true).await;
    // A commitment whose lines are all zero.
    let vendor = procore(&w).lock().vendors[0].id;
    action(
        &w,
        "create",
        json!({"resource": "commitment", "record": {"project_id": project_id(0), "kind": "WorkOrderContract",
            "number": "SC-099", "status": "Approved", "vendor_id": vendor,
            "line_items": [{"description": "TBD", "amount": "0", "quantity": "0", "unit_cost": "0"}]}}),
    )
    .await;
    run_all(&h).await;
    let zero_dc =
        h.items(DIRECT).await.into_iter().find(|i| i.state == ItemState::Failed).expect("the all-zero direct cost");
    assert_eq!(zero_dc.code.as_deref(), Some("invalid"));
    assert!(
        zero_dc.reason.as_deref().is_some_and(|r| r.contains("every amount Procore gives is zero")),
        "{:?}",
        zero_dc.reason
    );
    let zero_sc = h.items(COMMITMENTS).await.into_iter().find(|i| i.summary.label.contains("SC-099")).expect("item");
    assert_eq!(zero_sc.state, ItemState::Failed);
    assert!(zero_sc.reason.as_deref().is_some_and(|r| r.contains("every amount Procore gives is zero")));
    assert!(!journal_entries(&w).keys().any(|r| zero_sc.doc_id.ends_with(&r[2..])), "nothing posted for it");

    // Deltek reading amounts as zero (an API role without field visibility): named, nothing sent.
    let s2 = Setup::new(1);
    let w2 = world(&s2).await;
    deltek(&w2).seed_scenario(&deltek_with_posted_history(0)).expect("history");
    deltek(&w2).set_switch(|sw| sw.zero_money_fields = true);
    let h2 = Harness::new(&w2, flows()).await;
    map_reference_data(&h2, 1, true).await;
    h2.run(VENDORS).await;
    h2.run(SUBCONTRACT).await;
    h2.settle(Duration::from_secs(20)).await;
    let items = h2.items(SUBCONTRACT).await;
    let failed: Vec<&WorkItem> = items.iter().filter(|i| i.state == ItemState::Failed).collect();
    assert!(!failed.is_empty() && items.iter().all(|i| i.state != ItemState::Posted));
    for f in failed {
        assert!(f.reason.as_deref().is_some_and(|r| r.contains("field-level visibility")), "{:?}", f.reason);
    }
    assert!(vouchers(&w2).is_empty(), "no voucher was sent");
}

#[tokio::test]
async fn a_lost_deltek_answer_is_resolved_by_lookup_into_one_voucher_each() {
    let mut s = Setup::new(1);
    s.deltek.push(("timeout_secs", json!(1)));
    let w = world(&s).await;
    w.handle("deltek")
        .expect("deltek")
        .faults()
        .add(FaultRule::new("POST", "*/DataEntry/apControl", Fault::commit_then_reset(1500)).times(1));
    let h = Harness::new(&w, flows()).await;
    map_reference_data(&h, 1, true).await;
    h.run(VENDORS).await;
    h.run(SUBCONTRACT).await;
    h.settle(Duration::from_secs(20)).await;
    let items = h.items(SUBCONTRACT).await;
    let posted = items.iter().filter(|i| i.state == ItemState::Posted).count();
    assert!(posted > 0 && items.iter().all(|i| i.state != ItemState::InDoubt));
    let v = vouchers(&w);
    assert_eq!(v.len(), posted, "one voucher per posted invoice");
    assert!(v.values().all(|(n, _)| *n == 1), "never twice");
    let mut doubted = 0;
    for i in items.iter().filter(|i| i.state == ItemState::Posted) {
        let trail = h.store.audit_trail(&i.key).await.expect("trail");
        if trail.iter().any(|a| a.event == "in_doubt") {
            doubted += 1;
        }
    }
    assert!(doubted > 0, "the lost answer put items in doubt, and the lookup settled them");
}

/// A runtime over the given ports (a restart keeps the store and the queue).
async fn runtime(w: &SimWorld, store: Arc<MemoryStore>, queue: Arc<MemoryQueue>) -> Runtime {
    let mut config: Config = w.config();
    quick(&mut config);
    for (name, f) in flows() {
        config.flows.insert(name.into(), f);
    }
    let secrets = Arc::new(MemorySecrets::default());
    w.store_credentials(secrets.as_ref()).await.expect("credentials");
    Runtime::build(config, store, queue, secrets as Arc<dyn SecretStore>, Arc::new(SystemClock) as Arc<dyn Clock>)
        .await
        .expect("runtime")
}

#[tokio::test]
async fn token_expiry_mid_run_and_a_restart_mid_run_post_everything_once() {
    let mut s = Setup::new(2);
    s.procore.push(("page_size", json!(4)));
    let w = world(&s).await;
    let store = Arc::new(MemoryStore::new());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let queue = Arc::new(MemoryQueue::new(clock, 25));
    let h = Harness {
        rt: runtime(&w, store.clone(), queue.clone()).await,
        store: store.clone(),
        queue: queue.clone(),
        secrets: Arc::new(MemorySecrets::default()),
    };
    map_reference_data(&h, 2, true).await;
    h.run(VENDORS).await;
    // The first poll of direct costs dies part-way: Procore fails the listing after two pages.
    let faults = w.handle("procore").expect("procore").faults().clone();
    let uninstalled = Fault::Status {
        status: 403,
        retry_after_secs: None,
        retry_after_http_date: false,
        body: Some(r#"{"errors":["App is not connected to this company."]}"#.into()),
        content_type: None,
    };
    let rule = faults.add(FaultRule::new("GET", "*/direct_costs", uninstalled).skip(2));
    assert!(h.rt.poll(DIRECT).await.is_err(), "discovery stopped mid-pass");
    let cursor = store.get_cursor("procore/direct-cost").await.expect("cursor").expect("kept at its page");
    faults.remove(rule);
    // Work a few of what was found, then the tokens expire and the process "restarts".
    for d in queue.receive(3, Duration::from_secs(30)).await.expect("receive") {
        h.rt.engine.settle(&h.rt.flows, &d).await.expect("settle");
    }
    action(&w, "expire_tokens", json!({})).await;
    drop(h);
    let h2 = Harness {
        rt: runtime(&w, store.clone(), queue.clone()).await,
        store: store.clone(),
        queue: queue.clone(),
        secrets: Arc::new(MemorySecrets::default()),
    };
    let tokens_before = w.handle("procore").expect("procore").calls().count("POST", "/oauth/token");
    h2.run(DIRECT).await;
    h2.run(SUBCONTRACT).await;
    action(&w, "expire_tokens", json!({})).await;
    h2.run(COMMITMENTS).await;
    h2.settle(Duration::from_secs(20)).await;
    let tokens_after = w.handle("procore").expect("procore").calls().count("POST", "/oauth/token");
    assert!(tokens_after > tokens_before, "a fresh token after expiry (and a new process)");
    let resumed = store.get_cursor("procore/direct-cost").await.expect("cursor").expect("cursor");
    assert_ne!(resumed.value, cursor.value, "the poll resumed from where it stopped and finished");
    let approved_invoices = procore(&w)
        .lock()
        .direct_costs
        .iter()
        .filter(|d| {
            d.direct_cost_type == "invoice"
                && d.status == "approved"
                && d.line_items.iter().any(|l| !l.total().is_zero())
        })
        .count();
    assert_eq!(h2.count(DIRECT, ItemState::Posted).await, approved_invoices, "every approved invoice posted");
    let v = vouchers(&w);
    assert!(v.values().all(|(n, _)| *n == 1), "never twice");
    assert_eq!(v.len(), h2.count(DIRECT, ItemState::Posted).await + h2.count(SUBCONTRACT, ItemState::Posted).await);
    assert!(h2.count(COMMITMENTS, ItemState::Posted).await > 0);
}

#[tokio::test]
async fn rate_limits_with_and_without_the_spike_window_are_waited_out_and_nothing_is_lost() {
    for spike in [true, false] {
        let mut s = Setup::new(1);
        s.clock = SimClock::real();
        s.budget = true;
        if spike {
            s.procore.extend([
                ("spike_limit", json!(12)),
                ("spike_window_secs", json!(0.5)),
                ("max_wait_secs", json!(5)),
            ]);
        } else {
            s.procore.extend([("spike_limit", json!(0)), ("max_wait_secs", json!(5))]);
        }
        let w = world(&s).await;
        procore(&w).set_switch(|sw| {
            if spike {
                sw.spike_limit = 12;
                sw.spike_window_ms = 500;
                sw.hourly_limit = 100_000;
            } else {
                sw.spike_limit = 0;
                sw.hourly_limit = 40;
                sw.hourly_window_ms = 1500;
            }
        });
        let h = Harness::new(&w, flows()).await;
        map_reference_data(&h, 1, true).await;
        h.run(VENDORS).await;
        // Another integration of the same company spends the window just now.
        action(&w, "consume_calls", json!({"n": if spike { 12 } else { 40 }, "spike_only": spike})).await;
        h.run(DIRECT).await;
        action(&w, "consume_calls", json!({"n": if spike { 12 } else { 40 }, "spike_only": spike})).await;
        h.run(SUBCONTRACT).await;
        h.settle(Duration::from_secs(30)).await;
        let key = format!("{}|{}", demo::CLIENT_ID, demo::COMPANY_ID);
        let rejected = procore(&w).lock().rate_stats.get(&key).map(|s| s.rejected).unwrap_or(0);
        assert!(rejected > 0, "spike window {spike}: Procore answered 429 to the burst");
        for f in [DIRECT, SUBCONTRACT] {
            let items = h.items(f).await;
            // Only the all-zero direct cost of the seed fails (for its own reason): no rate-limit failure.
            let stuck: Vec<_> = items
                .iter()
                .filter(|i| matches!(i.state, ItemState::Failed | ItemState::Pending | ItemState::InDoubt))
                .filter(|i| i.code.as_deref() != Some("invalid"))
                .map(|i| (i.state, i.reason.clone()))
                .collect();
            assert!(stuck.is_empty(), "spike window {spike}, {f}: {stuck:?}");
        }
        assert!(h.count(SUBCONTRACT, ItemState::Posted).await > 0, "spike window {spike}: posted after waiting");
    }
}

/// A webhook listener on loopback that hands every delivery to the runtime's intake.
async fn listen(rt: Arc<Harness>, dupes: Arc<AtomicUsize>) -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/webhooks/procore", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            let (h, dupes) = (rt.clone(), dupes.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 8192];
                let (head, len) = loop {
                    let Ok(n) = sock.read(&mut tmp).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(p) = buf.windows(4).position(|x| x == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..p]).to_string();
                        let len = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        buf.drain(..p + 4);
                        break (head, len);
                    }
                };
                while buf.len() < len {
                    let Ok(n) = sock.read(&mut tmp).await else { return };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                let headers: Vec<(String, String)> = head
                    .lines()
                    .skip(1)
                    .filter_map(|l| {
                        l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    })
                    .collect();
                let req =
                    WebhookRequest { connection: "procore", headers: &headers, body: &buf, received_at: Utc::now() };
                let status = match h.rt.webhook(&req).await {
                    Ok(r) => {
                        dupes.fetch_add(r.duplicates, Ordering::Relaxed);
                        200
                    }
                    Err(e) => e.status(),
                };
                let _ = sock
                    .write_all(
                        format!("HTTP/1.1 {status} OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").as_bytes(),
                    )
                    .await;
            });
        }
    });
    url
}

async fn deliveries_done(sim: &ProcoreSim) {
    for _ in 0..200 {
        if sim.lock().queues.values().all(|q| q.items.is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn webhooks_lost_and_duplicated_are_only_hints_and_the_nightly_poll_catches_what_they_missed() {
    let s = Setup::new(2);
    let w = world(&s).await;
    let h = Arc::new(Harness::new(&w, flows()).await);
    map_reference_data(&h, 2, true).await;
    run_all(&h).await;
    let dupes = Arc::new(AtomicUsize::new(0));
    let url = listen(h.clone(), dupes.clone()).await;
    let conn = h.rt.connections.client::<ProcoreConnection>("procore", "procore").expect("procore");
    conn.client()
        .ensure_hook(&url, &Redacted::new(demo::WEBHOOK_AUTHORIZATION.to_string()), mlc_procore::DEFAULT_TRIGGERS)
        .await
        .expect("hook");
    let sim = procore(&w);
    sim.set_switch(|sw| {
        sw.webhook_drop_share = 0.4;
        sw.webhook_duplicate_share = 0.5;
        sw.webhook_seed = 7;
    });
    // A project accountant approves what was pending.
    let live = Utc::now();
    let approve: Vec<i64> = sim
        .lock()
        .direct_costs
        .iter()
        .filter(|d| d.direct_cost_type == "invoice" && d.status != "approved")
        .map(|d| d.id)
        .collect();
    assert!(approve.len() >= 3, "the seed has invoices waiting for approval");
    for id in &approve {
        action(&w, "set_status", json!({"resource": "direct_cost", "id": id, "status": "approved"})).await;
    }
    deliveries_done(&sim).await;
    h.settle(Duration::from_secs(20)).await;
    let by_webhook = h.count(DIRECT, ItemState::Posted).await;
    let lost = sim.lock().deliveries.iter().filter(|d| d.outcome == "dropped").count();
    assert!(lost > 0, "some deliveries were lost on the way");
    assert!(dupes.load(Ordering::Relaxed) > 0, "repeated deliveries were dropped by intake");
    // The nightly reconciliation poll finds the rest.
    h.rt.poll(DIRECT).await.expect("poll");
    h.settle(Duration::from_secs(20)).await;
    let items = h.items(DIRECT).await;
    for id in &approve {
        let it =
            items.iter().filter(|i| i.doc_id.ends_with(&format!("/{id}"))).max_by_key(|i| i.updated_at).expect("item");
        assert!(matches!(it.state, ItemState::Posted), "direct cost {id}: {:?} {:?}", it.state, it.reason);
    }
    assert!(
        h.count(DIRECT, ItemState::Posted).await > by_webhook,
        "the poll posted what the lost webhooks did not announce"
    );
    let gaps = h.rt.engine.webhook_gaps(DIRECT, live).await.expect("gaps");
    assert!(!gaps.is_empty(), "the webhook gap meter counts them");
    assert!(vouchers(&w).values().all(|(n, _)| *n == 1), "a duplicate delivery never posts twice");
}

#[tokio::test]
async fn options_and_settings_are_refused_with_file_and_line() {
    let toml = r#"
[connections.procore]
system = "procore"
base_url = "https://api.procore.com"
company_id = 4264807

[connections.deltek]
system = "deltek"
base_url = "https://acme.deltekfirst.com/Acme/api"
database = "C000001234P_1_ACME"

[flows.procore-deltek-commitments]
source = "procore"
target = "deltek"
options = { work_order_account = "58100", purchase_order_account = "58200" }
"#;
    let e = Config::parse(toml, "mlc.toml").unwrap_err().to_string();
    assert!(e.contains("mlc.toml line") && e.contains("offset_account"), "{e}");
    let e =
        Config::parse(&toml.replace("purchase_order_account", "purchase_account"), "mlc.toml").unwrap_err().to_string();
    assert!(e.contains("purchase_account"), "{e}");
    let bad = toml.replace("[flows.procore-deltek-commitments]", "[flows.procore-deltek-ap-subcontract]").replace(
        r#"options = { work_order_account = "58100", purchase_order_account = "58200" }"#,
        r#"options = { retainage = "gross" }"#,
    );
    let e = Config::parse(&bad, "mlc.toml").unwrap_err().to_string();
    assert!(e.contains("retainage_account"), "{e}");
    // The README's example configuration is accepted as written.
    let example = toml.split("[flows.").next().expect("connections").to_string()
        + r#"
[flows.procore-deltek-vendors]
source = "procore"
target = "deltek"
every = "1d"

[flows.procore-deltek-ap-subcontract]
source = "procore"
target = "deltek"
every = "15m"
options = { retainage = "gross", retainage_account = "20150" }

[flows.procore-deltek-ap-direct]
source = "procore"
target = "deltek"
every = "1d"

[flows.procore-deltek-commitments]
source = "procore"
target = "deltek"
every = "1d"
options = { work_order_account = "58100", purchase_order_account = "58200", offset_account = "29100" }
"#;
    let cfg = Config::parse(&example, "mlc.toml").expect("the README example parses");
    assert_eq!(cfg.flows.len(), 4);
    let kinds = mlc_flows::catalog::kind_names();
    for k in [VENDORS, SUBCONTRACT, DIRECT, COMMITMENTS] {
        assert!(kinds.contains(&k), "{k} registers itself");
    }
}
