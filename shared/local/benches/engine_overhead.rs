//! What the embedded adapters cost the engine: 10,000 hints through the full pipeline (claim →
//! lookup → in-doubt marker → create → posted) with a flow whose every step is an in-process
//! no-op, once on `SqliteStore` + `SqliteQueue` (a temp file, WAL, synchronous=FULL) and once on
//! `MemoryStore` + `MemoryQueue`. Prints hints/s, the ratio, and the process's peak RSS (VmHWM)
//! before and after each run. Measures only; asserts nothing about time.
//!
//! Hints arrive in waves (default 500: a poll page, say) and each wave is drained before the next,
//! as in production, where the queue holds a page of work rather than the whole backlog.
//!
//! `cargo bench -p mlc-local --bench engine_overhead`; `MLC_BENCH_HINTS` (10000), `MLC_BENCH_WAVE`
//! (500) and `MLC_BENCH_CONCURRENCY` (deliveries handled at once, 8) change the load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlc_core::engine::flow::{DiscoveryPage, Eligibility, Flow, FlowSpec, Found, MapError, SourceDoc, StepError};
use mlc_core::engine::memory::{MemoryQueue, MemoryStore};
use mlc_core::engine::model::{Cursor, Hint, ItemState, ItemSummary, Origin, TargetRef};
use mlc_core::engine::ports::{Clock, Queue, Store, SystemClock};
use mlc_core::mapping::{MappingKey, MappingSet};
use mlc_core::{Engine, EngineConfig, FlowRegistry};
use mlc_local::{SqliteQueue, SqliteStore};

/// Every step answers at once: what is left is the engine and its store and queue.
struct NoopFlow {
    spec: FlowSpec,
}

#[async_trait]
impl Flow for NoopFlow {
    type Record = u32;
    type Target = String;

    fn spec(&self) -> &FlowSpec {
        &self.spec
    }

    async fn discover(&self, _cursor: Option<&Cursor>, _now: DateTime<Utc>) -> Result<DiscoveryPage, StepError> {
        Ok(DiscoveryPage::default())
    }

    async fn read_back(&self, hint: &Hint) -> Result<Vec<SourceDoc<u32>>, StepError> {
        Ok(vec![SourceDoc {
            entity: "bill".into(),
            id: hint.id.clone(),
            version: "1".into(),
            summary: ItemSummary { label: format!("bill {}", hint.id), ..Default::default() },
            record: 0,
        }])
    }

    fn eligibility(&self, _doc: &SourceDoc<u32>) -> Eligibility {
        Eligibility::Eligible
    }

    fn required_mappings(&self, _doc: &SourceDoc<u32>) -> Vec<MappingKey> {
        Vec::new()
    }

    fn map(&self, doc: &SourceDoc<u32>, _mappings: &MappingSet) -> Result<String, MapError> {
        Ok(format!("V1#{}", doc.id))
    }

    fn natural_key(&self, target: &String) -> String {
        target.clone()
    }

    async fn lookup(&self, _target: &String) -> Result<Option<Found>, StepError> {
        Ok(None)
    }

    async fn create(&self, target: &String) -> Result<TargetRef, StepError> {
        Ok(TargetRef {
            system: "tgt".into(),
            entity: "voucher".into(),
            id: target.clone(),
            display: None,
            status: None,
        })
    }
}

fn flows() -> FlowRegistry {
    let mut r = FlowRegistry::new();
    r.add(Arc::new(NoopFlow {
        spec: FlowSpec {
            name: "noop".into(),
            source_system: "src".into(),
            target_system: "tgt".into(),
            mapping_scope: "src-tgt".into(),
            description: "no-op bills → no-op vouchers".into(),
            has_webhooks: true,
            ..Default::default()
        },
    }));
    r
}

/// Peak resident set size so far, in KiB (Linux; `None` elsewhere).
fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Start a fresh peak (Linux ≥ 4.0: writing 5 to clear_refs resets VmHWM to the current RSS).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

struct Run {
    name: &'static str,
    elapsed: Duration,
    posted: u64,
    hwm_before: Option<u64>,
    hwm_after: Option<u64>,
}

/// How a run is fed: `hints` in all, `wave` at a time, `concurrency` deliveries at once.
#[derive(Clone, Copy)]
struct Load {
    hints: usize,
    wave: usize,
    concurrency: usize,
}

async fn run(name: &'static str, store: Arc<dyn Store>, queue: Arc<dyn Queue>, load: Load) -> Run {
    let Load { hints, wave, concurrency } = load;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Engine::new(store.clone(), queue.clone(), clock.clone(), EngineConfig::default());
    let flows = flows();
    reset_peak();
    let hwm_before = vm_hwm_kib();
    let start = Instant::now();
    let now = clock.now();
    let batch: Vec<Hint> =
        (0..hints).map(|i| Hint::new("noop", "src", "bill", &format!("B{i:06}"), Origin::Poll, now)).collect();
    // In waves, as polls and webhooks deliver them: a page is enqueued, then worked off.
    for wave in batch.chunks(wave.max(1)) {
        queue.enqueue(wave).await.unwrap_or_else(|e| panic!("{name}: enqueue: {e}"));
        let report = engine.drain(&flows, concurrency).await.unwrap_or_else(|e| panic!("{name}: drain: {e}"));
        if let Some(first) = report.errors.first() {
            eprintln!("{name}: {} errors, first: {first}", report.errors.len());
        }
    }
    let elapsed = start.elapsed();
    let hwm_after = vm_hwm_kib();
    let counts = store.state_counts().await.unwrap_or_else(|e| panic!("{name}: counts: {e}"));
    let posted = counts.iter().filter(|c| c.state == ItemState::Posted).map(|c| c.count).sum();
    Run { name, elapsed, posted, hwm_before, hwm_after }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let hints = env_usize("MLC_BENCH_HINTS", 10_000);
    let concurrency = env_usize("MLC_BENCH_CONCURRENCY", 8);
    let wave = env_usize("MLC_BENCH_WAVE", 500);
    let load = Load { hints, wave, concurrency };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("bench.db");
    let resets = reset_peak();

    let runs = rt.block_on(async {
        // SQLite first: the in-memory run keeps its heap, which would hide SQLite's smaller peak.
        let store = SqliteStore::open(&db_path).expect("open store");
        let queue = SqliteQueue::new(&store, Arc::new(SystemClock), 5);
        let sqlite = run("SqliteStore + SqliteQueue", Arc::new(store), Arc::new(queue), load).await;
        let store = MemoryStore::new();
        let queue = MemoryQueue::new(Arc::new(SystemClock), 5);
        let memory = run("MemoryStore + MemoryQueue", Arc::new(store), Arc::new(queue), load).await;
        [sqlite, memory]
    });
    let db_size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", db_path.display())).ok())
        .map(|m| m.len())
        .sum();

    println!();
    println!("engine_overhead: {hints} hints in waves of {wave}, no-op flow, {concurrency} at a time, release build");
    println!("  pipeline: read back → register → claim → lookup → in-doubt marker → create → posted → ack");
    println!();
    println!(
        "  {:<27} {:>10} {:>10} {:>8} {:>16} {:>16}",
        "backend", "hints/s", "elapsed", "posted", "peak RSS before", "peak RSS after"
    );
    for r in &runs {
        println!(
            "  {:<27} {:>10.0} {:>9.2}s {:>8} {:>16} {:>16}",
            r.name,
            hints as f64 / r.elapsed.as_secs_f64(),
            r.elapsed.as_secs_f64(),
            r.posted,
            mib(r.hwm_before),
            mib(r.hwm_after),
        );
    }
    let ratio = runs[0].elapsed.as_secs_f64() / runs[1].elapsed.as_secs_f64();
    println!();
    println!(
        "  SQLite takes {ratio:.1}x the in-memory time per hint ({:.0} µs vs {:.0} µs)",
        runs[0].elapsed.as_secs_f64() * 1e6 / hints as f64,
        runs[1].elapsed.as_secs_f64() * 1e6 / hints as f64
    );
    println!("  database after the run: {:.1} MiB (file + WAL)", db_size as f64 / (1024.0 * 1024.0));
    println!("  SQLite commits every store and queue write with synchronous=FULL: its figure is mostly fsync time.");
    println!("  The in-memory twin scans its whole queue and store per call: its cost grows with wave and item count.");
    if !resets {
        println!("  note: could not reset VmHWM (/proc/self/clear_refs); peaks are cumulative for the process");
    }
}
