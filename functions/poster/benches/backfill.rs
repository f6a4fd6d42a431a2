//! Cin7 → Deltek backfill, measured against the true floor (issue 17): `n` purchases, each with
//! one authorised supplier invoice, polled by the scheduler tick and posted by 5 posters on the
//! AWS adapters (moto: DynamoDB store and rate budget, SQS, Secrets Manager), and by 5 workers in
//! the local home (SQLite store, queue and budget). Cin7 keeps its limit in its strictest form
//! (60 calls per window, over-limit calls refused and counted) with the window compressed to
//! `MLC_WINDOW_MS` real milliseconds (default 6000: one minute = 6 s).
//!
//! The true floor is the fewest Cin7 calls the work needs — the list pages plus one read-back per
//! purchase — at 60 per window: call k (from 0) can come no sooner than floor(k / 60) windows
//! after the first. Printed per run: wall time (first Cin7 call to the moment every purchase has
//! its voucher), the floor,
//! their ratio, Cin7 calls per posted invoice, 429s, and the span of the Cin7 calls (first to last)
//! against the floor: that part is what the budget and the scheduling control; what the wall time
//! adds to it is the last records' posting after their read (on moto, seconds per record: every
//! store operation queues behind the others on one Python server).
//!
//! Run (moto from tests/aws-tools.sh on loopback, `MLC_TEST_AWS_ENDPOINT` set; debug builds are
//! fine, the window is the bottleneck):
//! ```text
//! MLC_BACKFILL=300,3000 cargo bench -p mlc-fn-poster --bench backfill --profile dev
//! ```
//! `MLC_HOMES=aws` or `local` runs one home only; `MLC_WINDOW_MS` sets the compression.

#[path = "../tests/it/lambda_api.rs"]
mod lambda_api;
#[path = "../tests/it/scene.rs"]
mod scene;
#[path = "../tests/it/support.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mlc_core::engine::ports::{Queue, SystemClock};
use mlc_flows::{HomeLimits, Runtime};
use mlc_fn_poller::{TickOptions, tick};
use mlc_local::{SqliteBudget, SqliteQueue, SqliteStore};

use scene::{AP, Scene};
use support::{Aws, template_timing};

const POSTERS: usize = 5;

struct Run {
    home: &'static str,
    purchases: usize,
    vouchers: usize,
    pages: usize,
    cin7_calls: usize,
    throttled: usize,
    wall: Duration,
    /// First Cin7 call to the last: what the budget and the scheduling control (the rest of the
    /// wall time is the last records' posting after their read).
    cin7_span: Duration,
    floor: Duration,
    /// AWS only: the DynamoDB budget's acquires, writes (lost races included) and grants given up as late.
    budget: Option<(u64, u64, u64)>,
    /// AWS requests by action, counted by a relay in front of moto (AWS only).
    requests: Option<std::collections::BTreeMap<String, (u64, Duration)>>,
}

/// `figures` with the wall time ending when the last voucher was posted (`done_at`): messages
/// left on the queue after that (a duplicate hint waiting out the claim of the record that
/// posted its purchase) are not part of the backfill's time.
fn figures(scene: &Scene, home: &'static str, done_at: chrono::DateTime<chrono::Utc>) -> Run {
    let calls = scene.cin7.kit().calls.records();
    let pages = calls.iter().filter(|c| c.path.to_ascii_lowercase().contains("purchaselist")).count();
    let throttled = calls.iter().filter(|c| c.status == Some(429)).count();
    let first = calls.iter().map(|c| c.at).min();
    let last = calls.iter().map(|c| c.at).max();
    let cin7_span = match (first, last) {
        (Some(f), Some(l)) => (l - f).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    };
    let vouchers = scene.purchases.iter().filter(|(_, inv)| scene.vouchers(inv) > 0).count();
    let wall = first.map(|f| (done_at - f).to_std().unwrap_or_default()).unwrap_or_default();
    let needed = pages.max(1) + scene.purchases.len();
    let floor = scene.window * ((needed - 1) / 60) as u32;
    Run {
        home,
        purchases: scene.purchases.len(),
        vouchers,
        pages,
        cin7_calls: calls.len(),
        throttled,
        wall,
        cin7_span,
        floor,
        budget: None,
        requests: None,
    }
}

/// How long a run may take before the bench gives up: three times the floor (one Cin7 window
/// per 60 purchases), and at least an hour.
fn give_up_after(n: usize, window_ms: u64) -> Duration {
    let floor = Duration::from_millis(window_ms) * (n / 60 + 1) as u32;
    (floor * 3).max(Duration::from_secs(3600))
}

fn all_posted(scene: &Scene) -> bool {
    scene.purchases.iter().all(|(_, inv)| scene.vouchers(inv) > 0)
}

/// When every purchase had its voucher (looked at every 100 ms), or `end` passed.
async fn all_posted_at(scene: &Scene, end: Instant) -> chrono::DateTime<chrono::Utc> {
    while !all_posted(scene) && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    chrono::Utc::now()
}

async fn aws(n: usize, window_ms: u64) -> Run {
    let scene = Scene::new(n, window_ms).await;
    let aws = Aws::counted(10).await;
    scene.world.store_credentials(&aws.secrets()).await.expect("credentials");
    let config = scene.config();
    let mut posters = Vec::new();
    for _ in 0..POSTERS {
        posters.push(Arc::new(aws.poster(&config, template_timing(), Arc::new(SystemClock)).await));
    }
    let rt = posters[0].runtime().await;
    scene.map(&rt.engine).await;
    // The scheduler: a tick every compressed minute until the source's poll is complete.
    let ticker = {
        let rt = rt.clone();
        let every = Duration::from_millis(window_ms);
        tokio::spawn(async move {
            let opts = TickOptions { budget: every.mul_f64(0.75), ..TickOptions::default() };
            loop {
                let r = tick(rt.as_ref(), &opts).await;
                if std::env::var_os("MLC_BACKFILL_TRACE").is_some() {
                    eprintln!("tick: {r:?}");
                }
                if r.polled.iter().any(|p| p.flow == AP) {
                    return;
                }
                tokio::time::sleep(every.saturating_sub(opts.budget)).await;
            }
        })
    };
    if std::env::var_os("MLC_BACKFILL_TRACE").is_some() {
        let cin7 = scene.cin7.clone();
        let deltek = scene.deltek.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let c = cin7.kit().calls.records();
                let d = deltek.kit().calls.records();
                eprintln!(
                    "{} Cin7 calls ({} 429), {} Deltek calls; last Deltek {:?}",
                    c.len(),
                    c.iter().filter(|r| r.status == Some(429)).count(),
                    d.len(),
                    d.last().map(|r| (&r.method, &r.path, r.status))
                );
            }
        });
    }
    let end = Instant::now() + give_up_after(n, window_ms);
    let work = async {
        while !all_posted(&scene) && Instant::now() < end {
            let left = end.saturating_duration_since(Instant::now());
            let w = aws.esm().drain(&posters, &aws.queue, left, "backfill").await;
            if std::env::var_os("MLC_BACKFILL_TRACE").is_some() {
                let posted = scene.purchases.iter().filter(|(_, inv)| scene.vouchers(inv) > 0).count();
                eprintln!("drained {w:?}; {posted} posted; {} Cin7 calls", scene.cin7.kit().calls.records().len());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let ((), done_at) = tokio::join!(work, all_posted_at(&scene, end));
    if std::env::var_os("MLC_BACKFILL_TRACE").is_some() {
        trail_of_the_last(&rt, 4).await;
    }
    let mut f = figures(&scene, "AWS (moto)", done_at);
    let b = aws.budget_totals();
    f.budget = Some((b.acquires, b.writes + b.conflicts, b.late));
    f.requests = aws.relay.as_ref().map(|r| r.timed_counts());
    ticker.abort();
    assert_eq!(aws.queue.depth().await.map(|d| d.dead).unwrap_or(0), 0, "dead letters");
    f
}

/// The audit trails of the `n` items that finished last, with each event's time and the exchanges'
/// calls: where the tail of a backfill spends its time.
async fn trail_of_the_last(rt: &Runtime, n: usize) {
    let mut items = rt.engine.find(&Default::default()).await.expect("items");
    items.sort_by_key(|i| i.updated_at);
    for item in items.iter().rev().take(n) {
        eprintln!("--- {} {:?} attempts {}", item.key, item.state, item.attempts);
        for a in rt.engine.store.audit_trail(&item.key).await.expect("trail") {
            let calls: Vec<String> = a
                .exchanges
                .iter()
                .map(|x| {
                    format!("{} {} {} {:?} {}ms", x.at.format("%H:%M:%S%.3f"), x.method, x.url, x.status, x.duration_ms)
                })
                .collect();
            eprintln!("{} {} {} {:?} {}", a.at.format("%H:%M:%S%.3f"), a.actor, a.event, a.message, calls.join(" | "));
        }
    }
}

async fn local(n: usize, window_ms: u64) -> Run {
    let scene = Scene::new(n, window_ms).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mlc.sqlite");
    let secrets = Arc::new(mlc_core::engine::memory::MemorySecrets::default());
    scene.world.store_credentials(secrets.as_ref()).await.expect("credentials");
    let config = scene.config();
    let store = SqliteStore::open(&db).expect("sqlite");
    let queue = SqliteQueue::new(&store, Arc::new(SystemClock), 25);
    let home = HomeLimits { budget_store: Some(Arc::new(SqliteBudget::new(&store))), max_wait: None };
    let rt = Arc::new(
        Runtime::build_in(config, Arc::new(store), Arc::new(queue), secrets, Arc::new(SystemClock), home)
            .await
            .expect("runtime"),
    );
    scene.map(&rt.engine).await;
    let poll = {
        let rt = rt.clone();
        tokio::spawn(async move { rt.poll(AP).await.expect("poll") })
    };
    let end = Instant::now() + give_up_after(n, window_ms);
    let work = async {
        while !all_posted(&scene) && Instant::now() < end {
            rt.engine.drain(&rt.flows, POSTERS).await.expect("drain");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let ((), done_at) = tokio::join!(work, all_posted_at(&scene, end));
    let _ = poll.await;
    figures(&scene, "local (SQLite)", done_at)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let sizes: Vec<usize> = std::env::var("MLC_BACKFILL")
        .unwrap_or_else(|_| "300,3000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let window_ms: u64 = std::env::var("MLC_WINDOW_MS").ok().and_then(|s| s.parse().ok()).unwrap_or(6000);
    println!("Cin7 → Deltek backfill vs the true floor; Cin7 window 60 calls / {window_ms} ms; {POSTERS} posters\n");
    println!(
        "| home | purchases | posted | Cin7 calls | list pages | calls per posted invoice | 429s | wall | true floor | wall / floor | Cin7 calls' span / floor | budget writes per invoice |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let homes = std::env::var("MLC_HOMES").unwrap_or_else(|_| "aws,local".into());
    for n in sizes {
        let mut runs = Vec::new();
        if homes.contains("aws") {
            runs.push(aws(n, window_ms).await);
        }
        if homes.contains("local") {
            runs.push(local(n, window_ms).await);
        }
        for r in &runs {
            println!(
                "| {} | {} | {} | {} | {} | {:.3} | {} | {:.1} s | {:.1} s | {:.2}× | {:.1} s, {:.2}× | {} |",
                r.home,
                r.purchases,
                r.vouchers,
                r.cin7_calls,
                r.pages,
                r.cin7_calls as f64 / r.vouchers.max(1) as f64,
                r.throttled,
                r.wall.as_secs_f64(),
                r.floor.as_secs_f64(),
                r.wall.as_secs_f64() / r.floor.as_secs_f64().max(0.001),
                r.cin7_span.as_secs_f64(),
                r.cin7_span.as_secs_f64() / r.floor.as_secs_f64().max(0.001),
                r.budget.map_or("—".to_string(), |(a, w, late)| format!(
                    "{:.2} ({a} acquires, {late} late grants asked again)",
                    w as f64 / r.vouchers.max(1) as f64
                ))
            );
        }
        for r in &runs {
            if let Some(counts) = &r.requests {
                let per = |v: u64| v as f64 / r.vouchers.max(1) as f64;
                let dynamo: u64 = counts.iter().filter(|(k, _)| k.starts_with("DynamoDB")).map(|(_, v)| v.0).sum();
                let sqs: u64 = counts.iter().filter(|(k, _)| k.starts_with("SQS")).map(|(_, v)| v.0).sum();
                let each: Vec<String> = counts
                    .iter()
                    .map(|(k, (n, t))| {
                        format!("{k} {:.2} ({:.1} ms each)", per(*n), t.as_secs_f64() * 1000.0 / (*n).max(1) as f64)
                    })
                    .collect();
                println!(
                    "\n{} purchases, AWS requests per posted invoice: DynamoDB {:.1}, SQS {:.1} ({})",
                    r.purchases,
                    per(dynamo),
                    per(sqs),
                    each.join(", ")
                );
            }
        }
    }
    println!(
        "\nOne minute of Cin7's limit = {window_ms} ms here: multiply the seconds by {:.0} for real time.",
        60_000.0 / window_ms as f64
    );
}
