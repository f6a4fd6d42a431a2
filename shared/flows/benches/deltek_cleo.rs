//! Deltek Vantagepoint ↔ Cleo Integration Cloud: what the EDI flows cost.
//!
//! 1. **Cleo calls per outbound invoice**: the demo consultancy's AR invoices through
//!    `deltek-cleo-ar810` on a fresh runtime (sign-in and folder look-ups included), then 100
//!    more on the warm runtime (steady state: the name look-up before the upload, and the upload).
//! 2. **Cleo calls per inbound invoice**: one file of 500 invoices, then 20 files of one invoice,
//!    through `cleo-deltek-ap810` (listing, download, delete, the 997 look-up and upload), and the
//!    Deltek calls per voucher beside them.
//! 3. **Inbound 810 → voucher posted**: from the poll that finds the file to each voucher's
//!    `posted` entry, p50 / p90 / max, with Cleo's per-path pacing (4/s against 5/s) and
//!    Deltek's default client budget on.
//! 4. **Memory for a 50 MB inbound file** (one partner mailbag of ~115,000 invoices in 115
//!    interchanges): peak heap above the file's own bytes while every chunk of it is read the way
//!    the inbound source reads it (one whole pass, then each chunk from its resume point), beside a
//!    whole-file `mlc_x12::parse` of the same bytes.
//!
//! `cargo bench -p mlc-flows --bench deltek_cleo` (add `--profile dev` for a quick run on a
//! small machine: calls and memory are the same, times are slower). Prints a table; asserts
//! nothing about time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mlc_core::domain::{ArInvoice, ArInvoiceDraft, ArLine, DocumentKind, Party, SourceRef};
use mlc_core::engine::memory::{MemoryQueue, MemorySecrets, MemoryStore};
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_core::engine::ports::{Clock, Queue, SecretStore, Store, SystemClock};
use mlc_core::mapping::{Mapping, MappingKey};
use mlc_flows::Runtime;
use mlc_flows::config::{Config, FlowSettings};
use mlc_sim::cleo::deltek_seed::{deltek_seed, demo_mappings};
use mlc_sim::cleo::scenario::{DEFAULT_SEED, demo, demo_company, demo_settings};
use mlc_sim::cleo::{CleoSim, CleoSwitches};
use mlc_sim::common::{SimClock, SimSystem};
use mlc_sim::deltek::DeltekSim;
use mlc_sim::world::SimWorld;
use rust_decimal::Decimal;
use serde_json::{Value, json};

struct Counting;

static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let n = NOW.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(n, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap above what was allocated when `f` started, and how long it took.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize, Duration) {
    let base = NOW.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let t = Instant::now();
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base), t.elapsed())
}

const AR: &str = "deltek-cleo-ar810";
const AP: &str = "cleo-deltek-ap810";
const ACK: &str = "cleo-deltek-ar997";

fn flow(source: &str, target: &str, options: Value) -> FlowSettings {
    FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: source.into(),
        target: target.into(),
        every: mlc_flows::Cadence(Duration::from_secs(60)),
        options: match options {
            Value::Object(m) => m.into_iter().collect(),
            _ => Default::default(),
        },
    }
}

struct Env {
    world: SimWorld,
    cleo: Arc<CleoSim>,
    deltek: Arc<DeltekSim>,
    rt: Runtime,
    store: Arc<MemoryStore>,
    queue: Arc<MemoryQueue>,
}

async fn env() -> Env {
    let clock = SimClock::real();
    let company = demo_company(DEFAULT_SEED);
    let mut world = SimWorld::new(clock.clone());
    let deltek = world.add("deltek", DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek"));
    deltek.seed_scenario(&deltek_seed(&company)).expect("seed");
    let handle = CleoSim::builder()
        .clock(clock.clone())
        .scenario(demo(DEFAULT_SEED))
        .switches(CleoSwitches { partner_auto: false, ..CleoSwitches::default() })
        .start()
        .await
        .expect("cleo");
    let cleo = world.add("cleo", handle);
    cleo.lock().mailboxes.iter_mut().for_each(|m| m.folders.iter_mut().for_each(|f| f.files.clear()));
    for (k, v) in demo_settings(&company) {
        world.set_option("cleo", &k, v);
    }
    world.set_option("deltek", "batch_linger_ms", json!(50));
    let mut config: Config = world.config();
    config.engine.workers = 4;
    config.engine.in_doubt_settle_secs = 1;
    config.engine.retry_base_ms = 100;
    config.engine.retry_cap_secs = 1;
    config.engine.busy_retry_ms = 100;
    config.flows.insert(AR.into(), flow("deltek", "cleo", json!({"start_period": 202505})));
    config.flows.insert(AP.into(), flow("cleo", "deltek", json!({})));
    config.flows.insert(ACK.into(), flow("cleo", "cleo", json!({})));
    let sysclock: Arc<dyn Clock> = Arc::new(SystemClock);
    let store = Arc::new(MemoryStore::new());
    let queue = Arc::new(MemoryQueue::new(sysclock.clone(), 25));
    let secrets = Arc::new(MemorySecrets::default());
    world.store_credentials(secrets.as_ref()).await.expect("credentials");
    let rt = Runtime::build(
        config,
        store.clone() as Arc<dyn Store>,
        queue.clone() as Arc<dyn Queue>,
        secrets as Arc<dyn SecretStore>,
        sysclock,
    )
    .await
    .expect("runtime");
    for (kind, source, target) in demo_mappings(&company) {
        let m = Mapping {
            key: MappingKey::new("cleo-deltek", kind.parse().expect("kind"), &source),
            target,
            note: None,
            updated_at: chrono::Utc::now(),
        };
        rt.engine.add_mapping(m).await.expect("mapping");
    }
    Env { world, cleo, deltek, rt, store, queue }
}

impl Env {
    async fn run(&self, flow: &str) {
        self.rt.poll(flow).await.expect("poll");
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            self.rt.engine.drain(&self.rt.flows, 4).await.expect("drain");
            let d = self.queue.depth().await.expect("depth");
            if d.ready + d.in_flight + d.delayed == 0 || Instant::now() > deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn calls(&self, connection: &str) -> u64 {
        self.rt.counters().get(connection).map_or(0, |c| c.calls)
    }

    async fn posted(&self, flow: &str) -> Vec<mlc_core::engine::model::WorkItem> {
        let f = ItemFilter { flow: Some(flow.into()), state: Some(ItemState::Posted), ..Default::default() };
        self.store.list_items(&f).await.expect("items")
    }
}

/// The subcontractor's invoices `first..first + count` in one interchange numbered `isa13`.
fn sub_810(first: u32, count: u32, isa13: u32) -> Vec<u8> {
    let c = demo_company(DEFAULT_SEED);
    let day = chrono::NaiveDate::from_ymd_opt(2025, 5, 28).expect("date");
    let invoices: Vec<ArInvoice> = (first..first + count)
        .map(|n| {
            let amount = Decimal::new(50_000 + i64::from(n % 9_000), 2);
            ArInvoice::try_new(ArInvoiceDraft {
                source: SourceRef {
                    system: "bench".into(),
                    entity: "i".into(),
                    id: n.to_string(),
                    version: "1".into(),
                },
                kind: DocumentKind::Invoice,
                invoice_number: format!("GRD-B{n:07}"),
                invoice_date: day,
                due_date: None,
                currency: mlc_core::money::Currency::USD,
                seller: Party { name: c.subcontractor.name.clone(), id: Some("GRANITERIDGE".into()), address: None },
                buyer: Party { name: c.name.clone(), id: Some(c.isa_id.clone()), address: None },
                po_number: Some(c.subcontract_pos[(n as usize) % c.subcontract_pos.len()].clone()),
                terms: Some("Net 30".into()),
                lines: vec![ArLine {
                    line_no: 1,
                    description: "Geotechnical borings and logs".into(),
                    item_id: Some("SVC-101".into()),
                    quantity: Decimal::ONE,
                    unit: "HR".into(),
                    unit_price: amount,
                    amount,
                    tax_amount: Decimal::ZERO,
                    project: None,
                    account: None,
                }],
                header_tax: Decimal::ZERO,
                charges: Decimal::ZERO,
                total: amount,
                tolerance: Default::default(),
            })
            .expect("invoice")
        })
        .collect();
    let now = chrono::NaiveDate::from_ymd_opt(2025, 5, 29).and_then(|d| d.and_hms_opt(9, 0, 0)).expect("now");
    mlc_x12::render_810(&invoices, &c.subcontractor.profile, mlc_x12::Numbers::single(isa13), now).expect("810").bytes
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Seconds from `t0` to each item's `posted` entry, sorted.
async fn latencies(
    e: &Env,
    items: &[mlc_core::engine::model::WorkItem],
    t0: chrono::DateTime<chrono::Utc>,
) -> Vec<f64> {
    let mut out = Vec::new();
    for i in items {
        let trail = e.store.audit_trail(&i.key).await.expect("trail");
        if let Some(a) = trail.iter().rev().find(|a| a.event == "posted") {
            out.push((a.at - t0).num_milliseconds() as f64 / 1000.0);
        }
    }
    out.sort_by(|a, b| a.total_cmp(b));
    out
}

async fn drop_file(e: &Env, name: &str, bytes: &[u8]) {
    e.cleo
        .clone()
        .action(
            "drop_file".into(),
            json!({"mailbox": "GRANITERIDGE", "folder": "inbound", "name": name, "base64": b64(bytes)}),
        )
        .await
        .expect("drop");
}

async fn flows_figures() {
    let e = env().await;
    // 1. Outbound.
    e.run(AR).await;
    let first = e.posted(AR).await.len() as u64;
    let first_calls = e.calls("cleo");
    let day = Some(e.world.clock.now().naive_utc());
    let mut more = mlc_sim::deltek::DeltekScenario::new();
    for n in 0..100u32 {
        let wbs1 = format!("2025-EDI-{:02}", n % 3 + 1);
        more = more.ar_invoice(mlc_sim::deltek::model::ArInvoice::new(&format!("0098{n:03}"), &wbs1, day).line(
            "01",
            "40100",
            Decimal::new(250_000 + i64::from(n), 2),
            "F",
            "Professional services",
        ));
    }
    e.deltek.seed_scenario(&more).expect("seed");
    e.run(AR).await;
    let steady = e.posted(AR).await.len() as u64 - first;
    let steady_calls = e.calls("cleo") - first_calls;
    println!("Outbound 810s (deltek-cleo-ar810):");
    println!(
        "  first run   {first:>4} invoices  {first_calls:>5} Cleo calls  {:.2} per invoice (sign-in and folder look-ups included)",
        first_calls as f64 / first.max(1) as f64
    );
    println!(
        "  steady      {steady:>4} invoices  {steady_calls:>5} Cleo calls  {:.2} per invoice",
        steady_calls as f64 / steady.max(1) as f64
    );

    // 2 and 3. Inbound: one file of 500, then 20 files of one.
    println!("\nInbound 810s (cleo-deltek-ap810), Cleo paced at 4/s per path against 5/s:");
    println!(
        "  {:<22} {:>8} {:>11} {:>9} {:>12} {:>12} {:>8} {:>8} {:>8}",
        "shape", "vouchers", "Cleo calls", "per inv", "Deltek calls", "per voucher", "p50", "p90", "max"
    );
    for (label, files) in
        [("1 file of 500", vec![(1u32, 500u32)]), ("20 files of 1", (0..20).map(|i| (10_000 + i, 1)).collect())]
    {
        let before = e.posted(AP).await.len();
        let (c0, d0) = (e.calls("cleo"), e.calls("deltek"));
        for (i, (first, count)) in files.iter().enumerate() {
            drop_file(
                &e,
                &format!("bench_{label}_{i}.edi").replace(' ', "_"),
                &sub_810(*first, *count, 900_000 + first),
            )
            .await;
        }
        let t0 = chrono::Utc::now();
        e.run(AP).await;
        let posted = e.posted(AP).await;
        let new: Vec<_> = posted.iter().filter(|i| i.updated_at >= t0).cloned().collect();
        let n = posted.len() - before;
        let lat = latencies(&e, &new, t0).await;
        let (cc, dc) = (e.calls("cleo") - c0, e.calls("deltek") - d0);
        println!(
            "  {label:<22} {n:>8} {cc:>11} {:>9.3} {dc:>12} {:>12.3} {:>7.2}s {:>7.2}s {:>7.2}s",
            cc as f64 / n.max(1) as f64,
            dc as f64 / n.max(1) as f64,
            percentile(&lat, 0.5),
            percentile(&lat, 0.9),
            lat.last().copied().unwrap_or(0.0)
        );
    }
}

fn memory_figures() {
    let c = demo_company(DEFAULT_SEED);
    // One interchange of 1,000 invoices, copied under other control numbers up to 50 MB.
    let one = String::from_utf8(sub_810(1, 1000, 987_654)).expect("ascii");
    let mut bag = String::with_capacity(52 << 20);
    let mut k = 0;
    while bag.len() < 50 << 20 {
        bag.push_str(&one.replace("987654", &format!("{:06}", 100_000 + k)));
        k += 1;
    }
    let bytes = bag.into_bytes();
    drop(one);
    let settings: Value = demo_settings(&c).get("partners").cloned().unwrap_or(Value::Null);
    let edi = Some(serde_json::from_value(json!({"qualifier": c.isa_qualifier, "id": c.isa_id})).expect("edi"));
    let partners: std::collections::BTreeMap<String, _> = settings
        .as_object()
        .expect("partners")
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::from_value(v.clone()).expect("partner")))
        .collect();
    let partner = mlc_cleo::Partners::from_settings(&edi, &partners).get("GRANITERIDGE").cloned().expect("partner");
    let file = Arc::new(mlc_cleo::edi::InboundFile {
        connection: "cleo".into(),
        partner: "GRANITERIDGE".into(),
        partner_name: c.subcontractor.name.clone(),
        folder_key: "graniteridge-in".into(),
        folder: "GRANITERIDGE/inbound".into(),
        name: "bench_50mb.edi".into(),
        size: bytes.len() as u64,
        sha256: mlc_cleo::sha256_hex(&bytes),
        interchanges: Vec::new(),
    });
    let ((invoices, chunks), streamed, t_stream) = peak_of(|| {
        let (mut n, mut reads, mut at) = (0usize, 0usize, None);
        loop {
            let r = mlc_cleo::edi::read_chunk(&bytes, file.clone(), &partner, at, 50);
            n += r.chunk.invoices.len();
            reads += 1;
            match r.next {
                Some(next) => at = Some(next),
                None => break (n, reads),
            }
        }
    });
    let (parsed, whole, t_parse) = peak_of(|| mlc_x12::parse(&bytes).map(|f| f.invoices().len()).unwrap_or(0));
    let mb = |b: usize| b as f64 / (1 << 20) as f64;
    println!(
        "\nA {:.1} MB inbound file ({k} interchanges, {invoices} invoices), peak heap above the file's bytes:",
        mb(bytes.len())
    );
    println!(
        "  chunked read as the source does it ({chunks} reads of 50 sets): {:>7.1} MB  ({:.2}× the file)  {:>6.1}s",
        mb(streamed),
        streamed as f64 / bytes.len() as f64,
        t_stream.as_secs_f64()
    );
    println!(
        "  whole-file mlc_x12::parse ({parsed} invoices):            {:>7.1} MB  ({:.2}× the file)  {:>6.1}s",
        mb(whole),
        whole as f64 / bytes.len() as f64,
        t_parse.as_secs_f64()
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(flows_figures());
    memory_figures();
}
