//! Procore → Deltek backfill through the four flows: Procore calls per posted voucher and per
//! journal entry for 20 job sites, and wall time against the floor Procore's budget sets.
//!
//! `cargo bench -p mlc-flows --bench procore_backfill --profile dev` (the figures are call counts
//! and budget-bound times, not CPU speed, so the debug build is enough).
//!
//! The simulated Procore keeps both of its windows per app and company, compressed by the same
//! factor (`PROCORE_BENCH_SPIKE_MS`, default 1000 = 10× faster than Procore's 10-second window):
//! 25 calls per spike window and 3 600 per "hour" (360 s at 10×). ml-connector's client paces
//! itself to the same spike budget and reads the headers for the rest. Deltek is not limited.
//!
//! The run: mappings imported (projects, cost codes, cost types), then one poll of each flow
//! drained with 8 workers: vendors → vendor firms, subcontractor invoices and direct costs →
//! vouchers, commitments and change orders → journal entries. Printed per flow: documents
//! posted, Procore calls made in its phase (listings + read-backs, and the commitment read each
//! invoice needs), calls per document, wall time, and the floor: the spike floor is
//! `calls / 25` windows; the hourly floor is zero while the calls fit one hourly window.
//! `X-Rate-Limit-Reset` has whole seconds, so a client held by the headers waits up to a second
//! more per window than the window itself: with 1 s windows that roughly doubles the wall time,
//! with Procore's real 10 s windows it costs about a tenth. No timing assertions.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use mlc_core::engine::memory::{MemoryQueue, MemorySecrets, MemoryStore};
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::engine::ports::{Clock, Queue, SecretStore, Store, SystemClock};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_flows::config::FlowSettings;
use mlc_flows::{Cadence, Runtime};
use mlc_sim::common::SimClock;
use mlc_sim::deltek::DeltekSim;
use mlc_sim::procore::ProcoreSim;
use mlc_sim::procore::deltek_seed::{COST_TYPE_ACCOUNTS, RETAINAGE_PAYABLE, summit_ridge};
use mlc_sim::procore::scenario::{self, COST_CODES};
use mlc_sim::world::SimWorld;
use serde_json::{Value, json};

const PROJECTS: usize = 20;
const SPIKE: u32 = 25;
const HOURLY: u32 = 3600;

fn spike_ms() -> u64 {
    std::env::var("PROCORE_BENCH_SPIKE_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

fn flow(options: Value) -> FlowSettings {
    FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: "procore".into(),
        target: "deltek".into(),
        every: Cadence(Duration::from_secs(86_400)),
        options: match options {
            Value::Object(m) => m.into_iter().collect(),
            _ => Default::default(),
        },
    }
}

#[tokio::main]
async fn main() {
    let spike_window_ms = spike_ms();
    let factor = 10_000.0 / spike_window_ms as f64;
    let clock = SimClock::real();
    let mut w = SimWorld::new(clock.clone());
    w.add(
        "deltek",
        DeltekSim::builder().clock(clock.clone()).scenario(summit_ridge(PROJECTS)).start().await.expect("deltek"),
    );
    let procore = w.add(
        "procore",
        ProcoreSim::builder()
            .clock(clock.clone())
            .scenario(scenario::general_contractor(scenario::DEFAULT_SEED, PROJECTS))
            .start()
            .await
            .expect("procore"),
    );
    procore.set_switch(|s| {
        s.spike_limit = SPIKE;
        s.spike_window_ms = spike_window_ms;
        s.hourly_limit = HOURLY;
        s.hourly_window_ms = (3_600_000.0 / factor) as u64;
    });
    w.set_option("procore", "spike_limit", json!(SPIKE));
    w.set_option("procore", "spike_window_secs", json!(spike_window_ms as f64 / 1000.0));
    w.set_option("procore", "max_wait_secs", json!(60));
    w.set_option("deltek", "vouchers_per_file", json!(25));
    w.set_option("deltek", "batch_linger_ms", json!(100));
    w.set_option("deltek", "max_calls_per_second", json!(500));

    let mut config = w.config();
    config.engine.workers = 8;
    config.engine.lock_ttl_secs = 120;
    config.engine.in_doubt_settle_secs = 2;
    config.engine.retry_base_ms = 500;
    config.engine.retry_cap_secs = 5;
    let flows = [
        ("procore-deltek-vendors", json!({})),
        (
            "procore-deltek-ap-subcontract",
            json!({"initial_lookback_days": 0, "retainage": "gross", "retainage_account": RETAINAGE_PAYABLE}),
        ),
        ("procore-deltek-ap-direct", json!({"initial_lookback_days": 0})),
        (
            "procore-deltek-commitments",
            json!({"initial_lookback_days": 0, "work_order_account": "58100", "purchase_order_account": "58200",
                   "offset_account": "29100"}),
        ),
    ];
    for (name, opts) in &flows {
        config.flows.insert(name.to_string(), flow(opts.clone()));
    }
    let sysclock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(MemoryStore::new());
    let queue = Arc::new(MemoryQueue::new(sysclock.clone(), 25));
    let secrets = Arc::new(MemorySecrets::default());
    w.store_credentials(secrets.as_ref()).await.expect("credentials");
    let rt = Runtime::build(
        config,
        store.clone() as Arc<dyn Store>,
        queue.clone() as Arc<dyn Queue>,
        secrets as Arc<dyn SecretStore>,
        sysclock,
    )
    .await
    .expect("runtime");
    let add = |kind: MappingKind, source: String, target: String| Mapping {
        key: MappingKey::new("procore-deltek", kind, source),
        target,
        note: None,
        updated_at: Utc::now(),
    };
    for i in 0..PROJECTS {
        rt.engine
            .add_mapping(add(MappingKind::PROJECT, scenario::project_id(i).to_string(), scenario::project_numbers(i).1))
            .await
            .expect("mapping");
    }
    for (div, _, children) in COST_CODES {
        for (code, _) in children.iter() {
            rt.engine
                .add_mapping(add(MappingKind::COST_CODE, format!("{div}-{code}"), div.to_string()))
                .await
                .expect("mapping");
        }
    }
    for (ct, acct, _) in COST_TYPE_ACCOUNTS {
        rt.engine.add_mapping(add(MappingKind::COST_TYPE, ct.to_string(), acct.to_string())).await.expect("mapping");
    }

    println!(
        "Procore → Deltek backfill, {PROJECTS} projects, Procore budget {SPIKE} calls per {spike_window_ms} ms and {HOURLY} per {:.0} s (both {factor:.0}× compressed), 8 workers",
        3600.0 / factor
    );
    println!(
        "{:<30} | {:>6} | {:>6} | {:>9} | {:>6} | {:>7} | {:>7} | {:>5}",
        "flow", "posted", "calls", "calls/doc", "429s", "wall s", "floor s", "ratio"
    );
    let handle = w.handle("procore").expect("procore");
    let started = Instant::now();
    let mut all_calls = 0usize;
    for (name, _) in &flows {
        let before = handle.calls().records().len();
        let rejected_before = rejected(&procore);
        let t = Instant::now();
        rt.poll(name).await.expect("poll");
        loop {
            rt.engine.drain(&rt.flows, 8).await.expect("drain");
            let d = queue.depth().await.expect("depth");
            if d.ready + d.in_flight + d.delayed == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let wall = t.elapsed().as_secs_f64();
        let calls = handle.calls().records().len() - before;
        all_calls += calls;
        let posted = store
            .list_items(&ItemFilter {
                flow: Some(name.to_string()),
                state: Some(ItemState::Posted),
                ..Default::default()
            })
            .await
            .expect("items")
            .len();
        let floor = calls as f64 / f64::from(SPIKE) * (spike_window_ms as f64 / 1000.0);
        println!(
            "{name:<30} | {posted:>6} | {calls:>6} | {:>9.2} | {:>6} | {wall:>7.1} | {floor:>7.1} | {:>5.2}",
            calls as f64 / posted.max(1) as f64,
            rejected(&procore) - rejected_before,
            wall / floor.max(0.001)
        );
    }
    let wall = started.elapsed().as_secs_f64();
    let spike_floor = all_calls as f64 / f64::from(SPIKE) * (spike_window_ms as f64 / 1000.0);
    let hourly_windows = (all_calls as f64 / f64::from(HOURLY)).ceil() - 1.0;
    let hourly_floor = hourly_windows.max(0.0) * 3600.0 / factor;
    let floor = spike_floor.max(hourly_floor);
    println!(
        "{:<30} | {:>6} | {all_calls:>6} | {:>9} | {:>6} | {wall:>7.1} | {floor:>7.1} | {:>5.2}",
        "all",
        "",
        "",
        rejected(&procore),
        wall / floor.max(0.001)
    );
    println!(
        "(floor = the larger of the spike floor {spike_floor:.1} s and the hourly floor {hourly_floor:.1} s; real Procore windows: ×{factor:.0})"
    );
}

fn rejected(p: &ProcoreSim) -> u64 {
    let key = format!("{}|{}", scenario::demo::CLIENT_ID, scenario::demo::COMPANY_ID);
    p.lock().rate_stats.get(&key).map(|s| s.rejected).unwrap_or(0)
}
