//! Procore calls for a 20-project backfill, and wall time against the floor the budget sets.
//!
//! `cargo bench -p mlc-procore --bench backfill` (add `--profile dev` to reuse the debug build;
//! the figures are call counts and budget-bound times, not CPU speed).
//!
//! The read pattern is the one the phase-2 flows will use, per project: list the subcontractor
//! invoices (v1.1 with rows), the direct costs, the work orders, the purchase orders and the
//! change orders (one page each at `per_page=100`), then read back every *eligible* document by
//! id — approved invoices (vouchers), approved `invoice` direct costs (vouchers), committed
//! commitments and approved change orders (journal entries) — plus the vendor list once.
//!
//! The simulator keeps Procore's budget with the spike window compressed 10× (25 calls per
//! second instead of per 10 s, hourly 3 600) unless `PROCORE_BENCH_SPIKE_MS=10000` asks for the
//! real one, so the floor is `calls / 25` windows; the client paces itself with the same
//! settings. `PROCORE_BENCH_CONCURRENCY=1,4` sets how many projects are read at once.
//!
//! Printed: documents, calls, calls per voucher and per journal entry (listing calls shared out
//! over the documents of their kind), 429s, token calls, wall time, floor, and their ratio. The
//! reset time in `X-Rate-Limit-Reset` has whole seconds, so a gated client waits up to a second
//! more per window than the window itself: with 1 s windows that doubles the wall time, with
//! Procore's 10 s windows it costs about a tenth. No timing assertions.

use std::sync::Arc;
use std::time::Instant;

use mlc_core::secret::Credentials;
use mlc_procore::{
    ChangeOrderStatus, CommitmentKind, CommitmentQuery, DirectCostStatus, DirectCostType, ProcoreClient,
    ProcoreSettings, RequisitionQuery, RequisitionStatus,
};
use mlc_sim::common::SimClock;
use mlc_sim::procore::ProcoreSim;
use mlc_sim::procore::scenario::{self, demo};
use serde_json::json;
use tokio::sync::Semaphore;

const PROJECTS: usize = 20;
const SPIKE: u32 = 25;
/// The spike window in ms: 1000 (compressed 10×) unless `PROCORE_BENCH_SPIKE_MS` says otherwise
/// (10000 = Procore's real window).
fn spike_ms() -> u64 {
    std::env::var("PROCORE_BENCH_SPIKE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

#[derive(Default)]
struct Counts {
    vouchers: usize,
    entries: usize,
}

async fn project(c: ProcoreClient, p: i64) -> Counts {
    let mut n = Counts::default();
    let reqs = c.list_requisitions(p, &RequisitionQuery::default()).await.expect("requisitions");
    for r in reqs.iter().filter(|r| r.status == RequisitionStatus::Approved) {
        c.get_requisition(p, r.id).await.expect("read back").expect("exists");
        n.vouchers += 1;
    }
    let dcs = c.list_direct_costs(p, None).await.expect("direct costs");
    for d in
        dcs.iter().filter(|d| d.status == DirectCostStatus::Approved && d.direct_cost_type == DirectCostType::Invoice)
    {
        c.get_direct_cost(p, d.id).await.expect("read back").expect("exists");
        n.vouchers += 1;
    }
    for kind in [CommitmentKind::WorkOrder, CommitmentKind::PurchaseOrder] {
        let list = c.list_commitments(p, kind, &CommitmentQuery::default()).await.expect("commitments");
        for k in list.iter().filter(|k| k.is_committed()) {
            c.get_commitment(p, kind, k.id).await.expect("read back").expect("exists");
            n.entries += 1;
        }
    }
    let cos = c.list_change_orders(p, None, None).await.expect("change orders");
    for co in cos.iter().filter(|co| co.status == ChangeOrderStatus::Approved) {
        c.get_change_order(p, co.id).await.expect("read back").expect("exists");
        n.entries += 1;
    }
    n
}

#[tokio::main]
async fn main() {
    let spike_window_ms = spike_ms();
    let h = ProcoreSim::builder()
        .clock(SimClock::real())
        .scenario(scenario::general_contractor(scenario::DEFAULT_SEED, PROJECTS))
        .start()
        .await
        .expect("simulator");
    h.system().set_switch(|s| {
        s.spike_limit = SPIKE;
        s.spike_window_ms = spike_window_ms;
    });
    let settings = ProcoreSettings::from_options(
        "procore",
        &json!({"base_url": h.base_url(), "company_id": demo::COMPANY_ID,
                "spike_limit": SPIKE, "spike_window_secs": spike_window_ms as f64 / 1000.0}),
    )
    .expect("settings");
    let creds = Credentials::new().with("client_id", demo::CLIENT_ID).with("client_secret", demo::CLIENT_SECRET);
    let c = ProcoreClient::new(settings, creds).expect("client");

    println!(
        "Procore backfill, {PROJECTS} projects, budget {SPIKE} calls per {spike_window_ms} ms (simulated spike window)"
    );
    println!(
        "{:>11} | {:>8} | {:>7} | {:>6} | {:>13} | {:>11} | {:>4} | {:>6} | {:>7} | {:>7} | {:>5}",
        "concurrency",
        "vouchers",
        "entries",
        "calls",
        "calls/voucher",
        "calls/entry",
        "429s",
        "tokens",
        "wall s",
        "floor s",
        "ratio"
    );
    let levels: Vec<usize> = std::env::var("PROCORE_BENCH_CONCURRENCY")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1, 4]);
    for concurrency in levels {
        h.calls().clear();
        let before = c.stats();
        let started = Instant::now();
        let gate = Arc::new(Semaphore::new(concurrency));
        let projects = c.projects_to_read().await.expect("projects");
        let mut tasks = Vec::new();
        for p in projects {
            let (c, gate) = (c.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.expect("permit");
                project(c, p).await
            }));
        }
        let vendors = c.list_vendors(None).await.expect("vendors").len();
        let mut total = Counts::default();
        for t in tasks {
            let n = t.await.expect("join");
            total.vouchers += n.vouchers;
            total.entries += n.entries;
        }
        let wall = started.elapsed().as_secs_f64();
        let after = c.stats();
        let calls = after.calls - before.calls;
        let throttled =
            after.by_status.get(&429).copied().unwrap_or(0) - before.by_status.get(&429).copied().unwrap_or(0);
        let tokens = h.calls().count("POST", "/oauth/token");
        let floor = calls as f64 / f64::from(SPIKE) * (spike_window_ms as f64 / 1000.0);
        let counts = h.calls().counts();
        let sum = |f: &dyn Fn(&str) -> bool| counts.iter().filter(|(k, _)| f(k)).map(|(_, n)| *n).sum::<usize>();
        let voucher_calls = sum(&|k| k.contains("requisitions") || k.contains("direct_costs"));
        let entry_calls = sum(&|k| k.contains("order_contracts") || k.contains("change_order"));
        println!(
            "{concurrency:>11} | {:>8} | {:>7} | {calls:>6} | {:>13.2} | {:>11.2} | {throttled:>4} | {tokens:>6} | {wall:>7.1} | {floor:>7.1} | {:>5.2}",
            total.vouchers,
            total.entries,
            voucher_calls as f64 / total.vouchers.max(1) as f64,
            entry_calls as f64 / total.entries.max(1) as f64,
            wall / floor.max(0.001),
        );
        println!("{:>11}   ({vendors} vendors; other calls: {})", "", calls as usize - voucher_calls - entry_calls);
    }
    // Per document kind: listing calls are shared, read-backs are one each.
    println!(
        "(calls include one listing per project and resource, one read-back per eligible document, the vendor list)"
    );
    h.shutdown().await;
}
