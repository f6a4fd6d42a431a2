//! Every record accounted for (issue 21), flow kind by flow kind: a fault on each detail read a
//! flow makes leaves a visible, replayable failed item (or `gone_at_source`), the run ledger still
//! balances, and once the fault is cleared the next run / a replay ends exactly where a run that
//! never met the fault ends — the same documents posted, held and skipped, and the target holding
//! the same number of records (nothing posted twice, nothing lost).
//!
//! The table is [`CASES`]: one row per registered flow kind (a kind without a row fails
//! `every_flow_kind_has_a_read_fault_case`). Which calls are "the detail reads" is not written by
//! hand: a clean run of the kind on its integration's demo data records the GET routes its source
//! connection served while the work items were worked (after the poll), and those are faulted.
//! Each fault variant faults one of those routes (rotating, so every detail route meets at least
//! one variant) on every call until it is cleared:
//!
//! | variant | what the source answers |
//! |---|---|
//! | `400` | 400 with a plain error body (for Cin7: not its throttle text) |
//! | `400-throttle` | Cin7 only: 400 with Cin7's "60 calls per 60 seconds" text, twice: a throttle, waited out, no failure |
//! | `404` | 404 with the system's own body |
//! | `500` | 500 on every try: the connector retries, then the engine keeps a retryable failed item |
//! | `invalid-json` | 200 with a body cut off mid-object |
//! | `deleted` | every record of the source is deleted between the list and the read |
//!
//! While a read has failed (`read_failed`), the source's cursor is held where the poll that listed
//! the record started (it never passes a record still unaccounted for); once every read settles,
//! the next poll moves it on, and the record is posted once.
//!
//! Sources without a detail read of their own are tested through their equivalent, named in the
//! table: Cleo inbound files are downloaded (the download is the detail read; a truncated body
//! is the `invalid-json` case, and a broken X12 file is held whole by `deltek_cleo.rs`); Deltek AR
//! invoices are re-read from the AR list by id.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use mlc_core::engine::cursor::CursorHold;
use mlc_core::engine::ledger::LedgerRecorder;
use mlc_core::engine::model::{ItemState, WorkItem, codes};
use mlc_core::engine::ports::{Queue, Store};
use mlc_sim::common::{Fault, FaultRule};
use mlc_sim::world::SimWorld;

use crate::support::{Harness, Size, demo_flows, demo_mappings, demo_world, integration_of};

/// One flow kind's row: its detail read, and what stands in for it where there is none.
struct Case {
    kind: &'static str,
    detail_read: &'static str,
    /// What the source's detail routes contain (the integration's other flows read too: a
    /// mapping a vendor flow adds releases AP items, which read their purchases again).
    routes: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        kind: "cin7-deltek-ap",
        detail_read: "GET /purchase (advanced purchase by id; shared cin7/purchase source)",
        routes: &["purchase"],
    },
    Case {
        kind: "cin7-deltek-vendors",
        detail_read: "GET /supplier by id (shared cin7/supplier source)",
        routes: &["supplier"],
    },
    Case {
        kind: "cin7-acumatica-bill",
        detail_read: "GET /purchase by id (shared with cin7-acumatica-po)",
        routes: &["purchase"],
    },
    Case {
        kind: "cin7-acumatica-po",
        detail_read: "GET /purchase by id (shared with cin7-acumatica-bill)",
        routes: &["purchase"],
    },
    Case { kind: "cin7-acumatica-vendors", detail_read: "GET /supplier by id", routes: &["supplier"] },
    Case {
        kind: "acumatica-cin7-po",
        detail_read: "GET PurchaseOrder by key with details",
        routes: &["purchaseorder"],
    },
    Case { kind: "acumatica-cin7-suppliers", detail_read: "GET Vendor by id", routes: &["vendor"] },
    Case { kind: "procore-deltek-vendors", detail_read: "GET vendor by id", routes: &["vendor"] },
    Case {
        kind: "procore-deltek-ap-subcontract",
        detail_read: "GET requisition (+ its items and commitment)",
        routes: &["requisition", "commitment", "contract"],
    },
    Case {
        kind: "procore-deltek-ap-direct",
        detail_read: "GET direct cost by id (+ line items)",
        routes: &["direct_cost"],
    },
    Case {
        kind: "procore-deltek-commitments",
        detail_read: "GET commitment (+ line items, change orders)",
        routes: &["commitment", "contract", "change_order", "work_order"],
    },
    Case {
        kind: "coupa-deltek-ap",
        detail_read: "GET /api/invoices/{id} (shared with coupa-deltek-voids)",
        routes: &["invoice"],
    },
    Case {
        kind: "coupa-deltek-voids",
        detail_read: "GET /api/invoices/{id} (shared with coupa-deltek-ap)",
        routes: &["invoice"],
    },
    Case {
        kind: "coupa-deltek-vendors",
        detail_read: "GET /api/suppliers/{id} (+ supplier information)",
        routes: &["supplier"],
    },
    Case {
        kind: "cleo-deltek-ap810",
        detail_read: "no detail read: the inbound file's download is its equivalent (truncated body = invalid-json)",
        routes: &["files"],
    },
    Case {
        kind: "cleo-deltek-ar997",
        detail_read: "no detail read: the inbound 997 file's download is its equivalent (shared cleo/inbound source)",
        routes: &["files"],
    },
    Case {
        kind: "deltek-cleo-ar810",
        detail_read: "no detail endpoint: the AR invoice is re-read from the AR list by id",
        routes: &["ar"],
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Plain400,
    Throttle400,
    NotFound404,
    Server500,
    InvalidJson,
    Deleted,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Plain400 => "400",
            Variant::Throttle400 => "400-throttle",
            Variant::NotFound404 => "404",
            Variant::Server500 => "500",
            Variant::InvalidJson => "invalid-json",
            Variant::Deleted => "deleted",
        }
    }

    fn for_source(system: &str) -> Vec<Variant> {
        let mut v = vec![Variant::Plain400, Variant::NotFound404, Variant::Server500, Variant::InvalidJson];
        if system == "cin7" {
            v.push(Variant::Throttle400);
        }
        v.push(Variant::Deleted);
        v
    }

    /// The fault on a detail route (`None`: not a fault rule).
    fn rule(self, route: &str) -> Option<FaultRule> {
        let body = |status: u16, body: &str| Fault::Status {
            status,
            retry_after_secs: None,
            retry_after_http_date: false,
            body: Some(body.to_string()),
            content_type: Some("application/json; charset=utf-8".into()),
        };
        Some(match self {
            Variant::Plain400 => FaultRule::new("GET", route, body(400, r#"{"message":"The request is invalid."}"#)),
            Variant::Throttle400 => FaultRule::new(
                "GET",
                route,
                body(400, r#"[{"ErrorCode":400,"Exception":"You have reached 60 calls per 60 seconds API limit."}]"#),
            )
            .times(2),
            Variant::NotFound404 => FaultRule::new("GET", route, Fault::status(404)),
            Variant::Server500 => FaultRule::new("GET", route, Fault::status(500)),
            Variant::InvalidJson => {
                FaultRule::new("GET", route, body(200, r#"{"ID": "4f1c", "Lines": [{"Amount": 12"#))
            }
            Variant::Deleted => return None,
        })
    }

    /// Whether the read is expected to fail (a throttle is waited out instead).
    fn fails(self) -> bool {
        self != Variant::Throttle400
    }
}

/// What a run left: documents by (flow, state, code) of their latest item, and records in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    items: BTreeMap<(String, String, String), usize>,
    target_records: usize,
}

fn state_name(i: &WorkItem) -> String {
    format!("{:?}", i.state)
}

async fn outcome(h: &Harness, w: &SimWorld, flows: &BTreeSet<String>, target: &str) -> Outcome {
    // Each document once: posted if any of its items posted, else as its latest item left it
    // (a record read again under a new version makes a second item for the same document).
    let mut latest: BTreeMap<(String, String), WorkItem> = BTreeMap::new();
    for f in flows {
        for i in h.items(f).await {
            let k = (f.clone(), i.doc_id.clone());
            // A posted item wins: a later version of a record a two-way sync wrote back is
            // "already in the target" by then (when that read happens is a matter of timing).
            let keep = match latest.get(&k) {
                None => true,
                Some(old) if old.state == ItemState::Posted => false,
                Some(old) => i.state == ItemState::Posted || old.updated_at <= i.updated_at,
            };
            if keep {
                latest.insert(k, i);
            }
        }
    }
    let mut items = BTreeMap::new();
    for ((f, _), i) in latest {
        *items.entry((f, state_name(&i), i.code.clone().unwrap_or_default())).or_default() += 1;
    }
    Outcome { items, target_records: crate::support::target_records(w, target) }
}

/// The flows sharing `kind`'s source (one poll works them all), and the others of its integration.
fn split_flows(h: &Harness, integration: &str, kind: &str) -> (BTreeSet<String>, Vec<String>) {
    let key = h.rt.flows.get(kind).expect("flow").spec().source.clone();
    let mut same = BTreeSet::new();
    let mut others = Vec::new();
    for (name, _) in demo_flows(integration) {
        let s = h.rt.flows.get(name).expect("flow").spec().source.clone();
        if s == key {
            same.insert(name.to_string());
        } else {
            others.push(name.to_string());
        }
    }
    (same, others)
}

/// A world and runtime with the integration's other flows already run (vendors paired ...).
async fn prepared(integration: &str, kind: &str) -> (SimWorld, Harness, BTreeSet<String>) {
    let w = demo_world(integration, Size::Small).await;
    let h = Harness::new(&w, demo_flows(integration)).await;
    demo_mappings(h.engine(), &w, integration).await;
    let (same, others) = split_flows(&h, integration, kind);
    for f in others {
        h.run_quick(&f).await;
    }
    (w, h, same)
}

/// Delete every record of `kind`'s source family in its simulator (between list and read).
fn delete_source_records(w: &SimWorld, kind: &str) {
    use mlc_sim::procore::ProcoreSim;
    use mlc_sim::{acumatica::AcumaticaSim, cin7::Cin7Sim, cleo::CleoSim, coupa::CoupaSim, deltek::DeltekSim};
    match kind {
        "cin7-deltek-ap" | "cin7-acumatica-bill" | "cin7-acumatica-po" => {
            w.system::<Cin7Sim>("cin7").expect("cin7").lock().purchases.clear()
        }
        "cin7-deltek-vendors" | "cin7-acumatica-vendors" => {
            w.system::<Cin7Sim>("cin7").expect("cin7").lock().suppliers.clear()
        }
        "acumatica-cin7-po" | "acumatica-cin7-suppliers" => {
            let entity = if kind == "acumatica-cin7-po" { "purchaseorder" } else { "vendor" };
            let acu = w.system::<AcumaticaSim>("acumatica").expect("acumatica");
            let mut st = acu.lock();
            for (name, records) in st.records.iter_mut() {
                if name.eq_ignore_ascii_case(entity) {
                    records.clear();
                }
            }
        }
        "procore-deltek-vendors" => w.system::<ProcoreSim>("procore").expect("procore").lock().vendors.clear(),
        "procore-deltek-ap-subcontract" => {
            w.system::<ProcoreSim>("procore").expect("procore").lock().requisitions.clear()
        }
        "procore-deltek-ap-direct" => w.system::<ProcoreSim>("procore").expect("procore").lock().direct_costs.clear(),
        "procore-deltek-commitments" => w.system::<ProcoreSim>("procore").expect("procore").lock().commitments.clear(),
        "coupa-deltek-ap" | "coupa-deltek-voids" => {
            w.system::<CoupaSim>("coupa").expect("coupa").lock().invoices.clear()
        }
        "coupa-deltek-vendors" => w.system::<CoupaSim>("coupa").expect("coupa").lock().suppliers.clear(),
        "cleo-deltek-ap810" | "cleo-deltek-ar997" => {
            let cleo = w.system::<CleoSim>("cleo").expect("cleo");
            let mut st = cleo.lock();
            for m in st.mailboxes.iter_mut() {
                for f in m.folders.iter_mut().filter(|f| f.download) {
                    f.files.clear();
                }
            }
        }
        "deltek-cleo-ar810" => w.system::<DeltekSim>("deltek").expect("deltek").lock().ar_invoices.clear(),
        other => panic!("no delete hook for {other}"),
    }
}

/// What a clean run of `kind` showed: its outcome, the GET routes its source served while the
/// items were worked (the detail reads), and those it served during the poll (the list).
struct Clean {
    outcome: Outcome,
    detail: Vec<String>,
    list: Vec<String>,
}

fn routes_since(calls: &mlc_sim::common::CallLog, from: u64, to: u64, filter: &[&str]) -> Vec<String> {
    let routes: BTreeSet<String> = calls
        .records()
        .into_iter()
        .filter(|c| c.seq > from && c.seq <= to && c.method == "GET")
        .map(|c| c.route.unwrap_or(c.path))
        .filter(|r| filter.iter().any(|f| r.to_ascii_lowercase().contains(f)))
        .collect();
    routes.into_iter().collect()
}

fn last_seq(calls: &mlc_sim::common::CallLog) -> u64 {
    calls.records().last().map(|c| c.seq).unwrap_or(0)
}

async fn control(integration: &str, case: &Case) -> Clean {
    let kind = case.kind;
    let (w, h, same) = prepared(integration, kind).await;
    let spec = h.rt.flows.get(kind).expect("flow").spec().clone();
    let source_conn = spec.source.split('/').next().unwrap_or_default().to_string();
    let calls = w.handle(&source_conn).expect("source sim").calls();
    let before_poll = last_seq(calls);
    h.rt.poll(kind).await.expect("poll");
    let after_poll = last_seq(calls);
    h.settle_retries(Duration::from_secs(3)).await;
    let detail = routes_since(calls, after_poll, u64::MAX, case.routes);
    let list = routes_since(calls, before_poll, after_poll, case.routes);
    // The faulted runs poll once more after the fault clears: so does the clean one (a two-way
    // sync reads back what it wrote, as a new version of the record).
    h.rt.poll(kind).await.expect("poll");
    h.settle_retries(Duration::from_secs(3)).await;
    Clean { outcome: outcome(&h, &w, &same, spec.nk_scope()).await, detail, list }
}

/// Drain what is ready; retries waiting on a delay stay queued (they are the failed items).
async fn work_ready(h: &Harness) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        h.rt.engine.drain(&h.rt.flows, 4).await.expect("drain");
        let d = h.queue.depth().await.expect("depth");
        if d.ready + d.in_flight == 0 || std::time::Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Without the documents a newer read of the same record superseded (a failed read's item is
/// superseded when the record is read again under its current version).
fn comparable(o: &Outcome) -> Outcome {
    let items = o
        .items
        .iter()
        .filter(|((_, state, code), _)| !(state == "Skipped" && code == codes::SUPERSEDED))
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    Outcome { items, target_records: o.target_records }
}

/// One kind under one variant on a detail route: returns a line for the report.
async fn faulted(integration: &str, kind: &str, variant: Variant, route: &str, clean: &Outcome) -> String {
    let (w, mut h, same) = prepared(integration, kind).await;
    let spec = h.rt.flows.get(kind).expect("flow").spec().clone();
    let source_conn = spec.source.split('/').next().unwrap_or_default().to_string();
    let sim = w.handle(&source_conn).expect("source sim");
    let ledger = LedgerRecorder::new(chrono::Utc::now());
    h.rt.engine.ledger = Some(ledger.clone());
    // Listed first, then the detail read fails (a source may list and read on one route).
    let before = h.store.get_cursor(&spec.source).await.expect("cursor").map(|c| c.value);
    h.rt.poll(kind).await.expect("poll");
    if let Some(r) = variant.rule(route) {
        sim.faults().add(r);
    }
    if variant == Variant::Deleted {
        delete_source_records(&w, kind);
    }
    work_ready(&h).await;
    let what = format!("{kind} [{}] on GET {route}", variant.name());

    // Every record the poll listed is accounted for; the failures are visible items.
    let run = h.rt.engine.finish_ledger(&ledger).await.expect("ledger");
    for f in &same {
        let l = run.flows.get(f).unwrap_or_else(|| panic!("{what}: no ledger for {f}"));
        assert!(l.balances(), "{what}: ledger of {f} does not balance: {} {:?}", l.equation(), l.unaccounted);
    }
    let mut failed: Vec<WorkItem> = Vec::new();
    for f in &same {
        failed.extend(h.items(f).await.into_iter().filter(|i| {
            i.state == ItemState::Failed
                && matches!(i.code.as_deref(), Some(codes::READ_FAILED) | Some(codes::GONE_AT_SOURCE))
        }));
    }
    if variant.fails() {
        assert!(
            !failed.is_empty(),
            "{what}: no visible failed item: {:#?}",
            outcome(&h, &w, &same, spec.nk_scope()).await
        );
        for i in &failed {
            assert!(i.reason.as_deref().is_some_and(|r| !r.is_empty()), "{what}: {} failed without a cause", i.key);
            if variant == Variant::Deleted {
                assert_eq!(i.code.as_deref(), Some(codes::GONE_AT_SOURCE), "{what}: {} {:?}", i.key, i.reason);
            }
        }
        let unread: u64 = same.iter().filter_map(|f| run.flows.get(f)).map(|l| l.records_unread).sum();
        assert!(unread > 0, "{what}: the ledger counts no unread record");
    }
    // The cursor is a low-water mark: held where the listing poll started while a read failed
    // (`gone_at_source` settles a record: it holds nothing).
    let cursor = h.store.get_cursor(&spec.source).await.expect("cursor").map(|c| c.value).unwrap_or_default();
    let hold = CursorHold::parse(&cursor);
    let read_failed: Vec<&WorkItem> = failed.iter().filter(|i| i.code.as_deref() == Some(codes::READ_FAILED)).collect();
    match (&hold, read_failed.is_empty()) {
        (Some(hold), false) => {
            assert!(
                read_failed.iter().any(|i| i.key == hold.held_by),
                "{what}: held by {} {read_failed:?}",
                hold.held_by
            );
            assert_eq!(hold.from, before, "{what}: the cursor passed a record whose read failed");
            let trail = h.store.audit_trail(&hold.held_by).await.expect("trail");
            assert!(
                trail.iter().any(|a| a.event == "cursor_held"),
                "{what}: the item does not say it holds the cursor"
            );
        }
        (None, true) => {}
        (hold, _) => panic!("{what}: cursor {cursor} (hold {hold:?}) with read-failed items {read_failed:?}"),
    }
    if variant == Variant::Deleted {
        // Nothing to post once the records are gone: each stays a visible gone_at_source item.
        return format!("{what}: {} gone_at_source items", failed.len());
    }

    // Clear the fault; the next run (and a replay of what still failed) ends as the clean run did.
    sim.faults().clear();
    h.rt.engine.ledger = None;
    h.rt.poll(kind).await.expect("poll");
    h.settle_retries(Duration::from_secs(3)).await;
    let mut still: Vec<WorkItem> = Vec::new();
    for f in &same {
        still.extend(h.items(f).await.into_iter().filter(|i| {
            i.state == ItemState::Failed
                && matches!(i.code.as_deref(), Some(codes::READ_FAILED) | Some(codes::GONE_AT_SOURCE))
        }));
    }
    let replayed = still.len();
    if !still.is_empty() {
        h.engine().replay(still, "read fault cleared").await.expect("replay");
        h.settle_retries(Duration::from_secs(3)).await;
    }
    // Every read settled: the next poll lists from the held position once and moves the cursor on.
    h.rt.poll(kind).await.expect("poll");
    work_ready(&h).await;
    let cursor = h.store.get_cursor(&spec.source).await.expect("cursor").map(|c| c.value).unwrap_or_default();
    assert!(
        CursorHold::parse(&cursor).is_none(),
        "{what}: the cursor is still held after every read settled: {cursor}"
    );
    let after = outcome(&h, &w, &same, spec.nk_scope()).await;
    assert_eq!(
        comparable(&after),
        comparable(clean),
        "{what}: after clearing the fault the flow does not end as a clean run does"
    );
    let held = if hold.is_some() { "cursor held, " } else { "" };
    format!("{what}: {} failed items, {held}{replayed} replayed, then as a clean run", failed.len())
}

/// A source whose read-back uses what its list call just read (Deltek AR): the list is the
/// detail read. A fault there fails the poll visibly and leaves the cursor where it was; the next
/// poll reads everything.
async fn faulted_list(integration: &str, kind: &str, variant: Variant, route: &str, clean: &Outcome) -> String {
    let (w, h, same) = prepared(integration, kind).await;
    let spec = h.rt.flows.get(kind).expect("flow").spec().clone();
    let source_conn = spec.source.split('/').next().unwrap_or_default().to_string();
    let sim = w.handle(&source_conn).expect("source sim");
    let what = format!("{kind} [{}] on the list GET {route}", variant.name());
    let before = h.store.get_cursor(&spec.source).await.expect("cursor");
    if variant == Variant::Deleted {
        // Deleted before the list: nothing listed, nothing to lose; checked by the clean run.
        return format!("{what}: not applicable (the list is the read)");
    }
    sim.faults().add(variant.rule(route).expect("a fault"));
    let polled = h.rt.poll(kind).await;
    if variant.fails() {
        let err = polled.expect_err("a failed list fails the poll visibly");
        assert!(!err.to_string().is_empty(), "{what}");
        let after = h.store.get_cursor(&spec.source).await.expect("cursor");
        assert_eq!(after, before, "{what}: the cursor moved past records it never listed");
    }
    sim.faults().clear();
    h.settle_retries(Duration::from_secs(3)).await;
    h.rt.poll(kind).await.expect("poll");
    h.settle_retries(Duration::from_secs(3)).await;
    let after = outcome(&h, &w, &same, spec.nk_scope()).await;
    assert_eq!(comparable(&after), comparable(clean), "{what}: the next poll does not end as a clean run does");
    format!("{what}: poll failed, cursor kept, next poll as a clean run")
}

async fn integration_cases(integration: &str, kind: &str) {
    let case = CASES.iter().find(|c| c.kind == kind).unwrap_or_else(|| panic!("{kind} has no row in CASES"));
    assert!(demo_flows(integration).iter().any(|(n, _)| *n == kind), "{kind} is not a flow of {integration}");
    let clean = control(integration, case).await;
    let system = kind.split('-').next().unwrap_or_default();
    let mut lines = Vec::new();
    if clean.detail.is_empty() {
        assert!(!clean.list.is_empty(), "{kind}: a clean run made no read on its source matching {:?}", case.routes);
        // The variants are independent worlds: they run side by side (they mostly wait).
        let runs = Variant::for_source(system).into_iter().enumerate().map(|(n, variant)| {
            faulted_list(integration, kind, variant, &clean.list[n % clean.list.len()], &clean.outcome)
        });
        lines.extend(futures::future::join_all(runs).await);
    } else {
        let runs = Variant::for_source(system).into_iter().enumerate().map(|(n, variant)| {
            faulted(integration, kind, variant, &clean.detail[n % clean.detail.len()], &clean.outcome)
        });
        lines.extend(futures::future::join_all(runs).await);
    }
    eprintln!("{}", lines.join("\n"));
}

#[test]
fn every_flow_kind_has_a_read_fault_case() {
    // Every product flow kind (the toy flow of `toy_system.rs`, registered in this test binary
    // to prove one-file registration, is not a product flow).
    for k in mlc_flows::catalog::kinds().into_iter().filter(|k| k.source_system != "counter") {
        let case = CASES.iter().find(|c| c.kind == k.name);
        assert!(case.is_some(), "flow kind {} has no read-fault case: add it to CASES in read_faults.rs", k.name);
        assert!(!case.map(|c| c.detail_read).unwrap_or_default().is_empty());
        // ... and is run on its integration's demo data.
        let _ = integration_of(k.name);
    }
    assert!(CASES.len() >= 17, "{} cases", CASES.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cin7_deltek_ap() {
    integration_cases("cin7-deltek", "cin7-deltek-ap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cin7_deltek_vendors() {
    integration_cases("cin7-deltek", "cin7-deltek-vendors").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cin7_acumatica_bill() {
    integration_cases("cin7-acumatica", "cin7-acumatica-bill").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cin7_acumatica_po() {
    integration_cases("cin7-acumatica", "cin7-acumatica-po").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cin7_acumatica_vendors() {
    integration_cases("cin7-acumatica", "cin7-acumatica-vendors").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acumatica_cin7_po() {
    integration_cases("cin7-acumatica", "acumatica-cin7-po").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acumatica_cin7_suppliers() {
    integration_cases("cin7-acumatica", "acumatica-cin7-suppliers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procore_deltek_vendors() {
    integration_cases("procore-deltek", "procore-deltek-vendors").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procore_deltek_ap_subcontract() {
    integration_cases("procore-deltek", "procore-deltek-ap-subcontract").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procore_deltek_ap_direct() {
    integration_cases("procore-deltek", "procore-deltek-ap-direct").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn procore_deltek_commitments() {
    integration_cases("procore-deltek", "procore-deltek-commitments").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupa_deltek_ap() {
    integration_cases("coupa-deltek", "coupa-deltek-ap").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupa_deltek_voids() {
    integration_cases("coupa-deltek", "coupa-deltek-voids").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coupa_deltek_vendors() {
    integration_cases("coupa-deltek", "coupa-deltek-vendors").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleo_deltek_ap810() {
    integration_cases("deltek-cleo", "cleo-deltek-ap810").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cleo_deltek_ar997() {
    integration_cases("deltek-cleo", "cleo-deltek-ar997").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deltek_cleo_ar810() {
    integration_cases("deltek-cleo", "deltek-cleo-ar810").await;
}
