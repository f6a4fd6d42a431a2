//! The fault campaign (issue 10 "Measure") and the records-lost measure (issue 21 "Measure"): for
//! each integration's demo data, a clean reference run, then rounds under random fault schedules:
//!
//! - faults while reading and posting (5xx, resets, HTML 502s on the source and the target),
//! - 10% ambiguous writes on the target (the write commits, the answer is lost),
//! - two runs at once (two runtimes over one SQLite store and queue, polling and draining together),
//! - a crash mid-run (a third runtime's drain is aborted at a random moment and the runtime
//!   dropped; the same SQLite store is reopened by a fresh runtime, which finishes the work once
//!   the dead claims lapse).
//!
//! After the faults are cleared and whatever failed is replayed, it prints per integration:
//! documents expected (what the clean run posted) vs found (posted items, and records the target
//! gained), items in each state, anything `skipped` as already posted whose source document never
//! posted, records lost (a document of the clean run with no item at all), and writes seen twice.
//! Figures only; nothing here is timed.
//!
//! `cargo bench -p mlc-flows --bench fault_campaign` (debug build: `cargo test -p mlc-flows --bench
//! fault_campaign` runs the same program). `FAULT_CAMPAIGN_ROUNDS` (default 2) rounds per
//! integration, `FAULT_CAMPAIGN_SEED` (default 21), `FAULT_CAMPAIGN_ONLY=<integration>`.

#[allow(unused_imports)]
#[path = "../tests/e2e/support.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlc_core::engine::memory::MemorySecrets;
use mlc_core::engine::model::{ItemFilter, ItemState, WorkItem, codes};
use mlc_core::engine::ports::{Clock, Queue, SecretStore, Store, SystemClock};
use mlc_flows::Runtime;
use mlc_flows::config::Config;
use mlc_local::{SqliteQueue, SqliteStore};
use mlc_sim::common::{Fault, FaultRule};
use mlc_sim::world::SimWorld;

use support::{INTEGRATIONS, Size, demo_flows, demo_mappings, demo_world, quick, target_records};

/// A small deterministic generator (xorshift), so a campaign repeats from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn unit(&mut self) -> f64 {
        (self.next() % 10_000) as f64 / 10_000.0
    }
}

fn config(world: &SimWorld, integration: &str) -> Config {
    let mut c = world.config();
    quick(&mut c);
    // Dead claims of the crashed runtime lapse quickly.
    c.engine.lock_ttl_secs = 5;
    for (name, f) in demo_flows(integration) {
        c.flows.insert(name.to_string(), f);
    }
    c
}

struct Ports {
    store: Arc<SqliteStore>,
    queue: Arc<SqliteQueue>,
    secrets: Arc<MemorySecrets>,
}

fn open(path: &std::path::Path, secrets: Arc<MemorySecrets>) -> Ports {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(SqliteStore::open(path).expect("sqlite store"));
    let queue = Arc::new(SqliteQueue::new(&store, clock, 25));
    Ports { store, queue, secrets }
}

async fn runtime(world: &SimWorld, integration: &str, p: &Ports) -> Arc<Runtime> {
    let rt = Runtime::build(
        config(world, integration),
        p.store.clone() as Arc<dyn Store>,
        p.queue.clone() as Arc<dyn Queue>,
        p.secrets.clone() as Arc<dyn SecretStore>,
        Arc::new(SystemClock),
    )
    .await
    .expect("runtime");
    assert!(rt.unavailable.is_empty(), "{:?}", rt.unavailable);
    Arc::new(rt)
}

/// Drain until nothing is ready or in flight and nothing delayed has come due for 3 s (what
/// stays delayed longer is held on purpose, like a conflict looked at again later).
async fn drain_until_quiet(rt: &Runtime, limit: Duration) {
    let deadline = Instant::now() + limit;
    let mut idle_since = Instant::now();
    loop {
        if let Ok(r) = rt.engine.drain(&rt.flows, 4).await
            && r.hints > 0
        {
            idle_since = Instant::now();
        }
        let d = rt.engine.queue.depth().await.expect("depth");
        let now = Instant::now();
        if d.ready + d.in_flight == 0 && (d.delayed == 0 || now - idle_since > Duration::from_secs(3)) || now > deadline
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn run_all(rt: &Runtime, integration: &str, limit: Duration) {
    for (f, _) in demo_flows(integration) {
        // Under faults a poll may fail; it is retried by the next run.
        let _ = rt.poll(f).await;
        drain_until_quiet(rt, limit).await;
    }
}

fn targets(integration: &str) -> Vec<String> {
    let mut t: BTreeSet<String> = demo_flows(integration).into_iter().map(|(_, f)| f.target).collect();
    // Sources written back to (Coupa's exported flag, the Cin7 ↔ Acumatica syncs) are targets too.
    t.extend(demo_flows(integration).into_iter().map(|(_, f)| f.source));
    t.into_iter().collect()
}

fn target_total(world: &SimWorld, integration: &str) -> usize {
    demo_flows(integration)
        .into_iter()
        .map(|(_, f)| f.target)
        .collect::<BTreeSet<_>>()
        .iter()
        .map(|t| target_records(world, t))
        .sum()
}

/// The campaign's figures for one run.
#[derive(Default)]
struct Figures {
    posted: BTreeSet<(String, String)>,
    /// Items by `state:code`.
    codes: BTreeMap<String, usize>,
    /// Deltek vouchers (vendor + invoice) and firms (name) held more than once.
    deltek_twice: Vec<String>,
    states: BTreeMap<String, usize>,
    target_gain: usize,
    items: Vec<WorkItem>,
}

async fn figures(store: &dyn Store, world: &SimWorld, integration: &str, before: usize) -> Figures {
    let items = store.list_items(&ItemFilter::default()).await.expect("items");
    let mut f = Figures { target_gain: target_total(world, integration).saturating_sub(before), ..Default::default() };
    for i in &items {
        *f.states.entry(format!("{:?}", i.state)).or_default() += 1;
        *f.codes.entry(format!("{} {:?}:{}", i.flow, i.state, i.code.as_deref().unwrap_or("-"))).or_default() += 1;
        if i.state == ItemState::Posted {
            f.posted.insert((i.flow.clone(), i.doc_id.clone()));
        }
    }
    f.items = items;
    f.deltek_twice = deltek_twice(world);
    f
}

/// What the Deltek simulator holds more than once: vouchers by vendor + invoice, firms by name.
fn deltek_twice(world: &SimWorld) -> Vec<String> {
    let Some(d) = world.system::<mlc_sim::deltek::DeltekSim>("deltek") else {
        return Vec::new();
    };
    let st = d.lock();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for f in &st.ap_files {
        for v in &f.masters {
            *seen.entry(format!("voucher {}#{}", v.vendor, v.invoice).to_ascii_uppercase()).or_default() += 1;
        }
    }
    for firm in &st.firms {
        *seen.entry(format!("firm {}", firm.name).to_ascii_uppercase()).or_default() += 1;
    }
    seen.into_iter().filter(|(_, n)| *n > 1).map(|(k, n)| format!("{k} x{n}")).collect()
}

async fn clean_run(integration: &str, dir: &std::path::Path) -> Figures {
    let world = demo_world(integration, Size::Demo).await;
    let secrets = Arc::new(MemorySecrets::default());
    world.store_credentials(secrets.as_ref()).await.expect("credentials");
    let p = open(&dir.join(format!("{integration}-clean.sqlite")), secrets);
    let rt = runtime(&world, integration, &p).await;
    let before = target_total(&world, integration);
    demo_mappings(&rt.engine, &world, integration).await;
    run_all(&rt, integration, Duration::from_secs(60)).await;
    figures(p.store.as_ref(), &world, integration, before).await
}

/// The faults of one round: on every source and target of the integration.
fn schedule(world: &SimWorld, integration: &str, rng: &mut Rng) -> Vec<String> {
    let mut said = Vec::new();
    for conn in targets(integration) {
        let sim = world.handle(&conn).expect("sim");
        let p5 = 0.02 + rng.unit() * 0.06;
        sim.faults().add(FaultRule::new("GET", "*", Fault::status(500)).probability(p5));
        sim.faults().add(FaultRule::new("*", "*", Fault::Reset).probability(0.02));
        sim.faults().add(FaultRule::new("GET", "*", Fault::Html502).probability(0.02));
        // 10% ambiguous writes: committed, answer lost.
        for m in ["POST", "PUT"] {
            sim.faults().add(FaultRule::new(m, "*", Fault::commit_then_reset(150)).probability(0.10));
        }
        said.push(format!("{conn}: GET 500 {:.0}%, reset 2%, HTML 502 2%, writes ambiguous 10%", p5 * 100.0));
    }
    said
}

struct Round {
    /// Deltek records held more than once that the clean run did not have twice.
    twice_keys: Vec<String>,
    /// Items by state:code, clean -> this round, where they differ.
    code_diff: Vec<String>,
    expected: usize,
    posted: usize,
    target_gain: usize,
    states: BTreeMap<String, usize>,
    skipped_unposted: Vec<String>,
    lost: Vec<String>,
    twice: usize,
    crash_at_ms: u64,
}

async fn round(integration: &str, dir: &std::path::Path, n: u32, rng: &mut Rng, clean: &Figures) -> Round {
    let world = demo_world(integration, Size::Demo).await;
    let secrets = Arc::new(MemorySecrets::default());
    world.store_credentials(secrets.as_ref()).await.expect("credentials");
    let path = dir.join(format!("{integration}-{n}.sqlite"));
    let before = target_total(&world, integration);
    let faults = schedule(&world, integration, rng);
    eprintln!("  round {n}: {}", faults.join("; "));

    // Two runs at once over one store.
    let p = open(&path, secrets.clone());
    let (a, b) = (runtime(&world, integration, &p).await, runtime(&world, integration, &p).await);
    demo_mappings(&a.engine, &world, integration).await;
    let ta = tokio::spawn({
        let (a, i) = (a.clone(), integration.to_string());
        async move { run_all(&a, &i, Duration::from_secs(20)).await }
    });
    let tb = tokio::spawn({
        let (b, i) = (b.clone(), integration.to_string());
        async move { run_all(&b, &i, Duration::from_secs(20)).await }
    });
    let _ = (ta.await, tb.await);
    drop((a, b));

    // A crash mid-run: a third runtime's work is cut off and it is dropped with its store.
    let crash_at_ms = 50 + rng.below(600);
    {
        let c = runtime(&world, integration, &p).await;
        let tc = tokio::spawn({
            let (c, i) = (c.clone(), integration.to_string());
            async move {
                // Replaying what failed makes the crashed runtime busy with writes.
                let failed = c
                    .engine
                    .find(&ItemFilter { state: Some(ItemState::Failed), ..Default::default() })
                    .await
                    .unwrap_or_default();
                let _ = c.engine.replay(failed, "campaign").await;
                run_all(&c, &i, Duration::from_secs(20)).await
            }
        });
        tokio::time::sleep(Duration::from_millis(crash_at_ms)).await;
        tc.abort();
        let _ = tc.await;
    }
    drop(p);

    // Reopen the same SQLite store; clear the faults; finish and replay what failed.
    for conn in targets(integration) {
        world.handle(&conn).expect("sim").faults().clear();
    }
    let p = open(&path, secrets);
    let d = runtime(&world, integration, &p).await;
    tokio::time::sleep(Duration::from_secs(6)).await; // the crashed runtime's claims lapse
    run_all(&d, integration, Duration::from_secs(60)).await;
    let failed = d
        .engine
        .find(&ItemFilter { state: Some(ItemState::Failed), ..Default::default() })
        .await
        .expect("failed items");
    if !failed.is_empty() {
        d.engine.replay(failed, "faults cleared").await.expect("replay");
        drain_until_quiet(&d, Duration::from_secs(60)).await;
    }
    let f = figures(p.store.as_ref(), &world, integration, before).await;

    let known: BTreeSet<(String, String)> = f.items.iter().map(|i| (i.flow.clone(), i.doc_id.clone())).collect();
    let lost: Vec<String> =
        clean.posted.iter().filter(|k| !known.contains(*k)).map(|(fl, d)| format!("{fl} {d}")).collect();
    let skipped_unposted: Vec<String> = f
        .items
        .iter()
        .filter(|i| i.state == ItemState::Skipped && i.code.as_deref() == Some(codes::ALREADY_POSTED))
        .filter(|i| !f.posted.contains(&(i.flow.clone(), i.doc_id.clone())))
        .map(|i| i.key.to_string())
        .collect();
    let twice_keys: Vec<String> = f.deltek_twice.iter().filter(|k| !clean.deltek_twice.contains(k)).cloned().collect();
    let mut code_diff = Vec::new();
    for k in f.codes.keys().chain(clean.codes.keys()).collect::<BTreeSet<_>>() {
        let (a, b) = (clean.codes.get(k).copied().unwrap_or(0), f.codes.get(k).copied().unwrap_or(0));
        if a != b {
            code_diff.push(format!("{k} {a}->{b}"));
        }
    }
    Round {
        twice_keys,
        code_diff,
        expected: clean.posted.len(),
        posted: f.posted.len(),
        target_gain: f.target_gain,
        twice: f.target_gain.saturating_sub(clean.target_gain.max(f.posted.len())),
        states: f.states,
        skipped_unposted,
        lost,
        crash_at_ms,
    }
}

fn main() {
    let rounds: u32 = std::env::var("FAULT_CAMPAIGN_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let seed: u64 = std::env::var("FAULT_CAMPAIGN_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(21);
    let only = std::env::var("FAULT_CAMPAIGN_ONLY").ok();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(seed.max(1));
    println!("fault campaign: {rounds} rounds per integration, seed {seed}");
    println!(
        "{:<16} {:>5} {:>9} {:>7} {:>11} {:>9} {:>6} {:>13}  items by state",
        "integration", "round", "expected", "posted", "target gain", "lost", "twice", "skip-unposted"
    );
    let mut total_lost = 0;
    let mut total_docs = 0;
    let mut total_twice = 0;
    for integration in INTEGRATIONS.iter().filter(|i| only.as_deref().is_none_or(|o| o == **i)) {
        let clean = rt.block_on(clean_run(integration, dir.path()));
        println!(
            "{:<16} {:>5} {:>9} {:>7} {:>11} {:>9} {:>6} {:>13}  {:?}",
            integration,
            "clean",
            clean.posted.len(),
            clean.posted.len(),
            clean.target_gain,
            "-",
            "-",
            "-",
            clean.states
        );
        for n in 1..=rounds {
            let r = rt.block_on(round(integration, dir.path(), n, &mut rng, &clean));
            total_lost += r.lost.len();
            total_docs += r.expected;
            total_twice += r.twice;
            println!(
                "{:<16} {:>5} {:>9} {:>7} {:>11} {:>9} {:>6} {:>13}  {:?} (crash at {} ms)",
                integration,
                n,
                r.expected,
                r.posted,
                r.target_gain,
                format!("{} of {}", r.lost.len(), r.expected),
                r.twice,
                r.skipped_unposted.len(),
                r.states,
                r.crash_at_ms
            );
            if !r.code_diff.is_empty() {
                println!("    items by state:code, clean -> this round: {}", r.code_diff.join(", "));
            }
            for l in r.lost.iter() {
                println!("    ! lost: {l}");
            }
            for l in r.skipped_unposted.iter() {
                println!("    ! skipped as already posted, never posted: {l}");
            }
            for l in r.twice_keys.iter() {
                println!("    ! in Deltek more than once: {l}");
            }
        }
    }
    println!("records lost: {total_lost} of {total_docs}; writes beyond one per document: {total_twice}");
}
