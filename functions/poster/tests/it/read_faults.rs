//! Every record accounted for on the AWS home (issue 21): for one flow per source system, on moto
//! (DynamoDB store, SQS queue, Secrets Manager) with the real poster, a fault on the source's detail
//! read leaves a failed, replayable item (`read_failed`, its cause kept), the batch's run ledger
//! counts the record as unread and balances, and the source's cursor is held where the poll that
//! listed the record started (it does not pass the record). Once the fault clears, the next poll
//! lists the record again and it is worked once; the poll after that moves the cursor on, and
//! nothing posts a second time.
//!
//! The fault is a 400 on every GET of the source's simulator, added after the poll listed the
//! records (so every detail read fails, whatever its route). Deltek AR invoices have no detail read
//! (the AR list is the read): there the fault is on the list, the poll fails visibly and the cursor
//! stays where it was. The worlds, flows and mappings are the end-to-end tests' small demo data
//! (`shared/flows/tests/e2e/support.rs`); `max_attempts = 1` so a failed read is left for a person
//! at once and the queue drains.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mlc_core::engine::cursor::CursorHold;
use mlc_core::engine::model::{ItemFilter, ItemState, WorkItem, codes};
use mlc_core::engine::ports::{Queue, SystemClock};
use mlc_flows::Runtime;
use mlc_fn_poster::Poster;
use mlc_sim::common::{Fault, FaultRule};
use mlc_sim::world::SimWorld;

use crate::support::{Aws, Esm, template_timing};

#[path = "../../../../shared/flows/tests/e2e/support.rs"]
mod e2e;

/// One source system's flow.
struct Case {
    integration: &'static str,
    kind: &'static str,
    /// The list is the read (Deltek AR): the fault fails the poll instead.
    list_is_read: bool,
}

const CASES: &[Case] = &[
    Case { integration: "cin7-deltek", kind: "cin7-deltek-ap", list_is_read: false },
    Case { integration: "cin7-deltek", kind: "cin7-deltek-vendors", list_is_read: false },
    Case { integration: "cin7-acumatica", kind: "acumatica-cin7-po", list_is_read: false },
    Case { integration: "procore-deltek", kind: "procore-deltek-ap-subcontract", list_is_read: false },
    Case { integration: "coupa-deltek", kind: "coupa-deltek-ap", list_is_read: false },
    Case { integration: "deltek-cleo", kind: "deltek-cleo-ar810", list_is_read: true },
    Case { integration: "deltek-cleo", kind: "cleo-deltek-ap810", list_is_read: false },
];

fn fault() -> FaultRule {
    FaultRule::new(
        "GET",
        "*",
        Fault::Status {
            status: 400,
            retry_after_secs: None,
            retry_after_http_date: false,
            body: Some(r#"{"message":"The request is invalid."}"#.into()),
            content_type: Some("application/json; charset=utf-8".into()),
        },
    )
}

struct Scenario {
    world: SimWorld,
    aws: Aws,
    poster: Arc<Poster>,
    rt: Arc<Runtime>,
    /// The flows on the case's source (one poll works them all).
    same: Vec<String>,
    source: String,
}

impl Scenario {
    async fn new(case: &Case) -> Scenario {
        let world = e2e::demo_world(case.integration, e2e::Size::Small).await;
        let mut config = world.config();
        e2e::quick(&mut config);
        config.engine.max_attempts = 1;
        for (name, f) in e2e::demo_flows(case.integration) {
            config.flows.insert(name.to_string(), f);
        }
        let aws = Aws::private(10).await;
        world.store_credentials(&aws.secrets()).await.expect("credentials");
        let poster = Arc::new(aws.poster(&config, template_timing(), Arc::new(SystemClock)).await);
        let rt = poster.runtime().await;
        assert!(rt.unavailable.is_empty(), "{:?}", rt.unavailable);
        e2e::demo_mappings(&rt.engine, &world, case.integration).await;
        let source = rt.flows.get(case.kind).expect("flow").spec().source.clone();
        let mut same = Vec::new();
        let mut others = Vec::new();
        for (name, _) in e2e::demo_flows(case.integration) {
            if rt.flows.get(name).expect("flow").spec().source == source {
                same.push(name.to_string());
            } else {
                others.push(name.to_string());
            }
        }
        let s = Scenario { world, aws, poster, rt, same, source };
        // The integration's other flows first (vendors paired ...), as a deployment would have.
        for f in others {
            s.rt.poll(&f).await.expect("poll");
            s.drain(&format!("{f} first")).await;
        }
        s
    }

    /// Work what is ready; what waits on a delay (a retry handed back for later, a vendor sync
    /// looked at later) stays queued (on SQS it counts as in flight: only `ready` is waited for).
    async fn drain(&self, what: &str) {
        let esm: Esm = self.aws.esm();
        // A guard against a hang, not a speed limit: the scale tests load the machine meanwhile.
        let end = std::time::Instant::now() + Duration::from_secs(300);
        loop {
            if esm.once(&self.poster, 1).await.is_none() {
                let d = self.aws.queue.depth().await.expect("queue depth");
                if d.ready == 0 {
                    return;
                }
            }
            assert!(std::time::Instant::now() < end, "{what}: the queue was not worked off in 300 s");
        }
    }

    async fn items(&self) -> Vec<WorkItem> {
        let mut all = Vec::new();
        for f in &self.same {
            let filter = ItemFilter { flow: Some(f.clone()), ..Default::default() };
            all.extend(self.rt.engine.find(&filter).await.expect("items"));
        }
        all
    }

    async fn cursor(&self) -> Option<String> {
        self.rt.engine.store.get_cursor(&self.source).await.expect("cursor").map(|c| c.value)
    }
}

/// Posted items per (flow, document): none may be above one.
fn posted_per_doc(items: &[WorkItem]) -> BTreeMap<(String, String), usize> {
    let mut m = BTreeMap::new();
    for i in items.iter().filter(|i| i.state == ItemState::Posted) {
        *m.entry((i.flow.clone(), i.doc_id.clone())).or_default() += 1;
    }
    m
}

async fn detail_read_fault(case: &Case) -> String {
    let s = Scenario::new(case).await;
    let what = format!("{} (source {})", case.kind, s.source);
    let conn = s.source.split('/').next().unwrap_or_default().to_string();
    let faults = s.world.handle(&conn).expect("source sim").faults();
    let before = s.cursor().await;

    if case.list_is_read {
        faults.add(fault());
        let err = s.rt.poll(case.kind).await.expect_err("a failed list fails the poll visibly");
        assert!(!err.to_string().is_empty(), "{what}");
        assert_eq!(s.cursor().await, before, "{what}: the cursor moved past records it never listed");
        assert!(s.items().await.is_empty(), "{what}: nothing was listed, nothing is worked");
        faults.clear();
        s.rt.poll(case.kind).await.expect("poll");
        s.drain(&what).await;
        let posted = s.items().await.iter().filter(|i| i.state == ItemState::Posted).count();
        assert!(posted > 0, "{what}: the next poll posts: {:#?}", s.items().await);
        return format!("{what}: poll failed, cursor kept, {posted} posted by the next poll");
    }

    // Listed, then every detail read fails.
    let polled = s.rt.poll(case.kind).await.expect("poll");
    assert!(polled.hints > 0, "{what}: the poll listed nothing");
    faults.add(fault());
    s.drain(&format!("{what} faulted")).await;

    let items = s.items().await;
    let failed: Vec<&WorkItem> = items
        .iter()
        .filter(|i| i.state == ItemState::Failed && i.code.as_deref() == Some(codes::READ_FAILED))
        .collect();
    assert!(!failed.is_empty(), "{what}: no failed, replayable item: {items:#?}");
    for i in &failed {
        assert!(i.reason.as_deref().is_some_and(|r| r.contains("400")), "{what}: the cause is kept: {:?}", i.reason);
    }
    let status = s.rt.engine.status().await.expect("status");
    let ledger = status.ledgers.iter().find(|l| l.flow == case.kind).expect("the batch's ledger is kept");
    assert!(ledger.balances(), "{what}: {ledger:?}");
    assert!(ledger.records_unread > 0, "{what}: the ledger counts no unread record: {ledger:?}");
    let cursor = s.cursor().await.unwrap_or_default();
    let hold = CursorHold::parse(&cursor).unwrap_or_else(|| panic!("{what}: the cursor is not held: {cursor}"));
    assert!(failed.iter().any(|i| i.key == hold.held_by), "{what}: held by {}", hold.held_by);
    assert_eq!(hold.from, before, "{what}: the cursor passed a record whose read failed");
    let trail = s.rt.engine.store.audit_trail(&hold.held_by).await.expect("trail");
    assert!(trail.iter().any(|a| a.event == "cursor_held"), "{what}: the item does not say it holds the cursor");
    let held_record = failed.iter().find(|i| i.key == hold.held_by).map(|i| i.hint.id.clone()).unwrap_or_default();

    // The fault clears: the next poll lists from the held position, the record is read and worked.
    faults.clear();
    s.rt.poll(case.kind).await.expect("poll");
    s.drain(&format!("{what} relisted")).await;
    let still: Vec<WorkItem> = s
        .items()
        .await
        .into_iter()
        .filter(|i| i.state == ItemState::Failed && i.code.as_deref() == Some(codes::READ_FAILED))
        .collect();
    if !still.is_empty() {
        s.rt.engine.replay(still, "read fault cleared").await.expect("replay");
        s.drain(&format!("{what} replayed")).await;
    }
    let items = s.items().await;
    let open: Vec<&WorkItem> =
        items.iter().filter(|i| i.code.as_deref() == Some(codes::READ_FAILED) && !i.state.is_terminal()).collect();
    assert!(open.is_empty(), "{what}: reads still failed after the fault cleared: {open:#?}");
    assert!(
        items.iter().any(|i| i.hint.id == held_record && i.version != "unread"),
        "{what}: the held record {held_record} was not read and worked: {items:#?}"
    );
    let posted = posted_per_doc(&items);
    assert!(posted.values().all(|n| *n == 1), "{what}: posted twice: {posted:?}");

    // Everything settled: the next poll moves the cursor on, and posts nothing again.
    s.rt.poll(case.kind).await.expect("poll");
    s.drain(&format!("{what} moved on")).await;
    let cursor = s.cursor().await.unwrap_or_default();
    assert!(CursorHold::parse(&cursor).is_none(), "{what}: still held after every read settled: {cursor}");
    assert_eq!(posted_per_doc(&s.items().await), posted, "{what}: the poll after recovery posted again");
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    for i in s.items().await.iter().filter(|i| i.version != "unread") {
        *states
            .entry(format!("{}{}", i.state, i.code.as_ref().map(|c| format!("/{c}")).unwrap_or_default()))
            .or_default() += 1;
    }
    format!(
        "{what}: {} failed items, cursor held, {} documents posted once after the fault cleared ({states:?})",
        failed.len(),
        posted.len()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_detail_read_holds_the_cursor_and_posts_once_after_the_fault_clears_for_every_source() {
    // Independent worlds (own table items, queue messages and simulators): side by side.
    let runs = CASES.iter().map(detail_read_fault);
    let lines = futures::future::join_all(runs).await;
    eprintln!("{}", lines.join("\n"));
}
