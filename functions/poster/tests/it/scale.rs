//! Eight posters at once against Cin7 in its strictest mode (every call over 60 per window
//! refused with 429, refused calls counted against the window), the shared budget on moto's
//! DynamoDB and on SQLite, as tasks of one process and as separate processes: zero 429s, every
//! purchase posted exactly once, at most 1.15 Cin7 calls per purchase, and the share of Cin7's
//! window rate printed (the window is compressed to seconds; figures in the README's measurements).
//!
//! - DynamoDB, tasks: eight `Poster`s, each with its own budget copy and secret store, fed by the
//!   event source mapping played against moto's SQS.
//! - DynamoDB, processes: eight `poster` binaries, each in its own Lambda Runtime API emulator.
//! - SQLite, tasks: eight runtimes on their own connections to one `mlc.sqlite`, draining it.
//! - SQLite, processes: eight `mlc serve` on one data directory.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlc_core::engine::ports::{Queue, SecretStore, SystemClock};
use mlc_flows::{HomeLimits, Runtime};
use mlc_local::{FileSecretStore, SqliteBudget, SqliteQueue, SqliteStore};

use crate::lambda_api::Environment;
use crate::scene::Scene;
use crate::support::{Aws, template_timing};

const POSTERS: usize = 8;
const PURCHASES: usize = 240;
/// Cin7's 60-call window, compressed: moto serves every store call of eight posters at this pace.
const WINDOW_MS: u64 = 6000;
/// Issue 17's bound on Cin7 calls per posted invoice (one read-back each, plus list pages and the
/// re-reads a retry makes when the machine is slow).
const CALLS_PER_INVOICE: f64 = 1.15;

/// The throughput is printed, not asserted (wall time on a shared machine is no test); what is
/// asserted is that calls were not wasted: at most 1.15 Cin7 calls per posted invoice.
fn assert_throughput(f: &crate::scene::Figures, label: &str) {
    assert!(
        f.cin7_calls as f64 <= f.purchases as f64 * CALLS_PER_INVOICE,
        "{label}: {} Cin7 calls for {} purchases",
        f.cin7_calls,
        f.purchases
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_poster_tasks_keep_cin7s_limit_on_the_dynamodb_budget() {
    let scene = Scene::new(PURCHASES, WINDOW_MS).await;
    let aws = Aws::private(10).await;
    scene.world.store_credentials(&aws.secrets()).await.expect("credentials");
    let config = scene.config();
    let mut posters = Vec::new();
    for _ in 0..POSTERS {
        posters.push(Arc::new(aws.poster(&config, template_timing(), Arc::new(SystemClock)).await));
    }
    scene.map(&posters[0].runtime().await.engine).await;
    aws.queue.enqueue(&scene.hints()).await.expect("enqueue");
    aws.esm().drain(&posters, &aws.queue, Duration::from_secs(300), "eight poster tasks").await;
    let f = scene.check("8 poster tasks, DynamoDB budget");
    println!("8 poster tasks, DynamoDB budget: {:?}", aws.budget_totals());
    assert_throughput(&f, "8 poster tasks, DynamoDB budget");
    assert_eq!(aws.queue.depth().await.unwrap().dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_poster_processes_keep_cin7s_limit_on_the_dynamodb_budget() {
    let scene = Scene::new(PURCHASES, WINDOW_MS).await;
    let aws = Aws::private(10).await;
    scene.world.store_credentials(&aws.secrets()).await.expect("credentials");
    let config = scene.config();
    let timing = template_timing();
    // The mappings, written from here (the functions find them in the table).
    let rt = Runtime::build(
        config.clone(),
        aws.store.clone(),
        Arc::new(aws.queue.clone()),
        Arc::new(aws.secrets()),
        Arc::new(SystemClock),
    )
    .await
    .expect("runtime");
    scene.map(&rt.engine).await;
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_poster"));
    let mut envs = Vec::new();
    for i in 0..POSTERS {
        let env = Environment::start(
            &format!("poster-{i}"),
            bin.clone(),
            aws.function_env(&config, &timing),
            Duration::from_secs(120),
        )
        .await;
        envs.push(env);
    }
    for e in &mut envs {
        e.ready(Duration::from_secs(30)).await.unwrap_or_else(|err| panic!("{err}"));
    }
    aws.queue.enqueue(&scene.hints()).await.expect("enqueue");
    // Long enough for a record the poster stopped at its invocation's deadline (a loaded machine
    // can stall a batch that long) to come back after the visibility timeout (360 s) and post.
    let (worked, mut envs) = aws.esm().drain_envs(envs, &aws.queue, Duration::from_secs(900)).await;
    for e in &mut envs {
        assert_eq!(e.cold_starts, 1, "{}: no invocation timed out: {}", e.name, e.tail());
        e.kill().await;
    }
    eprintln!("8 poster processes: {worked:?}");
    let f = scene.check("8 poster processes, DynamoDB budget");
    assert_throughput(&f, "8 poster processes, DynamoDB budget");
    assert_eq!(aws.queue.depth().await.unwrap().dead, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_worker_tasks_keep_cin7s_limit_on_the_sqlite_budget() {
    let scene = Scene::new(PURCHASES, WINDOW_MS).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("mlc.sqlite");
    let secrets = Arc::new(mlc_core::engine::memory::MemorySecrets::default());
    scene.world.store_credentials(secrets.as_ref()).await.expect("credentials");
    let config = scene.config();
    let mut runtimes = Vec::new();
    for _ in 0..POSTERS {
        // Each worker on its own connection to the file, as a separate process would be.
        let store = SqliteStore::open(&db).expect("sqlite");
        let queue = SqliteQueue::new(&store, Arc::new(SystemClock), 25);
        let home = HomeLimits { budget_store: Some(Arc::new(SqliteBudget::new(&store))), max_wait: None };
        let rt = Runtime::build_in(
            config.clone(),
            Arc::new(store),
            Arc::new(queue),
            secrets.clone(),
            Arc::new(SystemClock),
            home,
        )
        .await
        .expect("runtime");
        runtimes.push(Arc::new(rt));
    }
    scene.map(&runtimes[0].engine).await;
    runtimes[0].engine.queue.enqueue(&scene.hints()).await.expect("enqueue");
    let end = Instant::now() + Duration::from_secs(300);
    let mut tasks = Vec::new();
    for rt in &runtimes {
        let rt = rt.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                rt.engine.drain(&rt.flows, 10).await.expect("drain");
                let d = rt.engine.queue.depth().await.expect("depth");
                if d.ready + d.in_flight + d.delayed == 0 || Instant::now() > end {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let f = scene.check("8 worker tasks, SQLite budget");
    assert_throughput(&f, "8 worker tasks, SQLite budget");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_mlc_processes_keep_cin7s_limit_on_the_sqlite_budget() {
    let mlc = PathBuf::from(env!("CARGO_BIN_EXE_poster")).with_file_name("mlc");
    assert!(mlc.is_file(), "{} is not built: cargo build -p mlc (tests/run.sh builds every binary)", mlc.display());
    let scene = Scene::new(PURCHASES, WINDOW_MS).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    FileSecretStore::init_key(data.join("secret.key")).expect("key");
    let secrets = FileSecretStore::open(&data).expect("secrets");
    scene.world.store_credentials(&secrets as &dyn SecretStore).await.expect("credentials");
    let mut config = scene.config();
    config.data_dir = Some(data.clone());
    config.server.listen = "127.0.0.1:0".into();
    config.engine.workers = 10;
    let file = dir.path().join("mlc.toml");
    std::fs::write(&file, toml::to_string(&config).expect("toml")).expect("write mlc.toml");
    {
        let store = SqliteStore::open(data.join("mlc.sqlite")).expect("sqlite");
        let queue = SqliteQueue::new(&store, Arc::new(SystemClock), 25);
        let rt =
            Runtime::build(config.clone(), Arc::new(store), Arc::new(queue), Arc::new(secrets), Arc::new(SystemClock))
                .await
                .expect("runtime");
        scene.map(&rt.engine).await;
        rt.engine.queue.enqueue(&scene.hints()).await.expect("enqueue");
    }
    let mut children = Vec::new();
    for i in 0..POSTERS {
        let log = std::fs::File::create(dir.path().join(format!("serve-{i}.log"))).expect("log");
        let child = tokio::process::Command::new(&mlc)
            .args(["serve", "--config"])
            .arg(&file)
            .arg("--data-dir")
            .arg(&data)
            .env("MLC_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start mlc serve");
        children.push(child);
    }
    let end = Instant::now() + Duration::from_secs(300);
    while scene.purchases.iter().any(|(_, inv)| scene.vouchers(inv) == 0) && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Anything still in flight settles; then stop them all.
    tokio::time::sleep(Duration::from_secs(2)).await;
    for c in &mut children {
        let _ = c.kill().await;
    }
    if scene.purchases.iter().any(|(_, inv)| scene.vouchers(inv) != 1) {
        let logs: String = (0..POSTERS)
            .map(|i| std::fs::read_to_string(dir.path().join(format!("serve-{i}.log"))).unwrap_or_default())
            .collect();
        eprintln!("mlc serve logs:\n{}", &logs[logs.len().saturating_sub(4000)..]);
    }
    // Each `mlc serve` also polls the source when it starts: its list pages count too.
    scene.check("8 mlc processes, SQLite budget");
}
