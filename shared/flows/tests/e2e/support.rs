//! The wiring every end-to-end module shares: a [`SimWorld`] of simulators, a [`Runtime`] over
//! in-memory store, queue and secrets on the same clock, and helpers to poll, drain and inspect.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mlc_core::Engine;
use mlc_core::engine::DocOutcome;
use mlc_core::engine::memory::{MemoryQueue, MemorySecrets, MemoryStore};
use mlc_core::engine::model::{ItemFilter, ItemState, WorkItem};
use mlc_core::engine::ports::{Clock, Queue, SecretStore, Store, SystemClock};
use mlc_flows::config::{Config, FlowSettings};
use mlc_flows::{Cadence, Runtime};
use mlc_sim::world::SimWorld;
use serde_json::Value;

/// A runtime over in-memory ports, built from a world's connections plus the given flows.
pub struct Harness {
    pub rt: Runtime,
    pub store: Arc<MemoryStore>,
    pub queue: Arc<MemoryQueue>,
    pub secrets: Arc<MemorySecrets>,
}

/// One `[flows.<name>]` table.
pub fn flow(kind: Option<&str>, source: &str, target: &str, options: Value) -> FlowSettings {
    FlowSettings {
        mapping_scope: None,
        kind: kind.map(str::to_string),
        enabled: true,
        source: source.into(),
        target: target.into(),
        every: Cadence(Duration::from_secs(60)),
        options: match options {
            Value::Object(m) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        },
    }
}

/// Engine settings for tests: short claims and settle delays, quick retries.
pub fn quick(config: &mut Config) {
    config.engine.workers = 4;
    config.engine.lock_ttl_secs = 30;
    config.engine.in_doubt_settle_secs = 1;
    // Simulators answer in milliseconds: a short HTTP timeout and margin keep the timing rule.
    config.engine.http_timeout_secs = 0;
    config.engine.settle_margin_ms = 1000;
    config.engine.retry_base_ms = 50;
    config.engine.retry_cap_secs = 1;
    config.engine.busy_retry_ms = 100;
}

impl Harness {
    /// Build the runtime: the world's connections with `flows`, credentials stored.
    pub async fn new(world: &SimWorld, flows: Vec<(&str, FlowSettings)>) -> Harness {
        let mut config = world.config();
        quick(&mut config);
        for (name, f) in flows {
            config.flows.insert(name.to_string(), f);
        }
        Harness::with_config(world, config).await
    }

    pub async fn with_config(world: &SimWorld, config: Config) -> Harness {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let store = Arc::new(MemoryStore::new());
        let queue = Arc::new(MemoryQueue::new(clock.clone(), 25));
        let secrets = Arc::new(MemorySecrets::default());
        world.store_credentials(secrets.as_ref()).await.expect("credentials");
        let rt = Runtime::build(
            config,
            store.clone() as Arc<dyn Store>,
            queue.clone() as Arc<dyn Queue>,
            secrets.clone() as Arc<dyn SecretStore>,
            clock,
        )
        .await
        .expect("runtime");
        assert!(rt.unavailable.is_empty(), "flows unavailable: {:?}", rt.unavailable);
        Harness { rt, store, queue, secrets }
    }

    pub fn engine(&self) -> &Engine {
        &self.rt.engine
    }

    /// Drain until nothing is ready or delayed (delayed retries are waited for), at most `limit`.
    pub async fn settle(&self, limit: Duration) -> BTreeMap<DocOutcome, u64> {
        let deadline = std::time::Instant::now() + limit;
        let mut totals = BTreeMap::new();
        loop {
            let r = self.rt.engine.drain(&self.rt.flows, 4).await.expect("drain");
            for (o, n) in r.outcomes {
                *totals.entry(o).or_default() += n;
            }
            let d = self.queue.depth().await.expect("depth");
            if d.ready + d.in_flight + d.delayed == 0 || std::time::Instant::now() > deadline {
                return totals;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Drain until nothing is ready or in flight, and nothing delayed has come due for `quiet`
    /// (retries after a throttle or a 5xx come due within the retry cap; what stays delayed
    /// longer is held on purpose, like a conflict looked at again later). At most 60 s.
    pub async fn settle_retries(&self, quiet: Duration) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut idle_since = std::time::Instant::now();
        loop {
            let r = self.rt.engine.drain(&self.rt.flows, 4).await.expect("drain");
            if r.hints > 0 {
                idle_since = std::time::Instant::now();
            }
            let d = self.queue.depth().await.expect("depth");
            let now = std::time::Instant::now();
            if d.ready + d.in_flight == 0 && (d.delayed == 0 || now - idle_since > quiet) || now > deadline {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Poll a flow and settle its retries (see [`Harness::settle_retries`]).
    pub async fn run_quick(&self, flow: &str) {
        self.rt.poll(flow).await.expect("poll");
        self.settle_retries(Duration::from_secs(3)).await;
    }

    /// Poll a flow (its shared source) and settle.
    pub async fn run(&self, flow: &str) -> BTreeMap<DocOutcome, u64> {
        self.rt.poll(flow).await.expect("poll");
        self.settle(Duration::from_secs(30)).await
    }

    pub async fn items(&self, flow: &str) -> Vec<WorkItem> {
        self.store.list_items(&ItemFilter { flow: Some(flow.into()), ..Default::default() }).await.expect("items")
    }

    pub async fn count(&self, flow: &str, state: ItemState) -> usize {
        self.items(flow).await.iter().filter(|i| i.state == state).count()
    }
}

// ------------------------------------------------------------------------------------------------
// Each integration's demo data, small: the worlds, flows and mappings the reliability modules
// (read faults, the ledger property test) and the fault-campaign bench share.

/// The integrations, by demo name.
pub const INTEGRATIONS: &[&str] = &["cin7-deltek", "cin7-acumatica", "procore-deltek", "coupa-deltek", "deltek-cleo"];

/// How large a demo world is: `Small` for tests, `Demo` for the campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Small,
    Demo,
}

/// Cin7 → Deltek: the Deltek demo company and a Cin7 engineering firm with `purchases`
/// purchases (default seed), Cin7's 60-call window compressed to 0.2 s, on the real clock.
pub async fn cin7_deltek_world(purchases: usize) -> SimWorld {
    use mlc_sim::cin7::{Cin7Sim, Cin7Switches, scenario as s};
    use mlc_sim::common::SimClock;
    use serde_json::json;
    let clock = SimClock::real();
    let mut w = SimWorld::new(clock.clone());
    w.add("deltek", mlc_sim::deltek::DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek"));
    let cin7 = Cin7Sim::builder()
        .clock(clock)
        .scenario(s::engineering_firm(s::DEFAULT_SEED, purchases))
        .switches(Cin7Switches { rate_limit_window_ms: 200, ..Cin7Switches::default() })
        .start()
        .await
        .expect("cin7");
    w.add("cin7", cin7);
    w.set_option("cin7", "rate_limit_window_secs", json!(0.2));
    w
}

/// `integration`'s simulators seeded with its demo data (smaller when `Small`), on compressed
/// rate windows, as the connections its flows name.
pub async fn demo_world(integration: &str, size: Size) -> SimWorld {
    use mlc_sim::common::SimClock;
    use serde_json::json;
    let small = size == Size::Small;
    match integration {
        "cin7-deltek" => cin7_deltek_world(if small { 10 } else { 60 }).await,
        "cin7-acumatica" => {
            use mlc_sim::acumatica::cin7_seed::cin7_distributor;
            use mlc_sim::acumatica::{AcumaticaSim, AcumaticaSwitches, DEFAULT_SEED};
            use mlc_sim::cin7::{Cin7Scenario, Cin7Sim, Cin7Switches};
            let clock = SimClock::real();
            let mut w = SimWorld::new(clock.clone());
            let acu = AcumaticaSim::builder().clock(clock.clone()).switches(AcumaticaSwitches::unthrottled()).start();
            w.add("acumatica", acu.await.expect("acumatica"));
            let scenario = Cin7Scenario::from_json(&cin7_distributor(DEFAULT_SEED)).expect("cin7 scenario");
            let cin7 = Cin7Sim::builder()
                .clock(clock)
                .scenario(scenario)
                .switches(Cin7Switches { rate_limit_window_ms: 300, ..Cin7Switches::default() })
                .start()
                .await
                .expect("cin7");
            w.add("cin7", cin7);
            w.set_option("cin7", "rate_limit_window_secs", json!(0.3));
            w.set_option("acumatica", "requests_per_minute", json!(0));
            w.set_option("acumatica", "long_operation_poll_ms", json!(5));
            w.set_option("acumatica", "timeout_secs", json!(10));
            w.set_option("acumatica", "retry_base_ms", json!(20));
            w
        }
        "procore-deltek" => {
            use mlc_sim::procore::deltek_seed::summit_ridge;
            use mlc_sim::procore::{ProcoreSim, scenario};
            let projects = if small { 1 } else { 2 };
            let clock = SimClock::manual_default();
            let mut w = SimWorld::new(clock.clone());
            let deltek = mlc_sim::deltek::DeltekSim::builder().clock(clock.clone()).scenario(summit_ridge(projects));
            w.add("deltek", deltek.start().await.expect("deltek"));
            let procore = ProcoreSim::builder()
                .clock(clock)
                .scenario(scenario::general_contractor(scenario::DEFAULT_SEED, projects))
                .start()
                .await
                .expect("procore");
            procore.system().set_switch(|sw| {
                sw.spike_limit = 0;
                sw.hourly_limit = 1_000_000;
            });
            w.add("procore", procore);
            w.set_option("procore", "spike_limit", json!(0));
            w.set_option("procore", "timeout_secs", json!(5));
            w.set_option("deltek", "batch_linger_ms", json!(20));
            w.set_option("deltek", "max_calls_per_second", json!(500));
            w
        }
        "coupa-deltek" => {
            use mlc_sim::coupa::deltek_seed::architecture_firm_deltek;
            use mlc_sim::coupa::{CoupaSim, DEFAULT_SEED, architecture_firm};
            let clock = SimClock::manual_default();
            let today = clock.now().date_naive();
            let mut w = SimWorld::new(clock.clone());
            let deltek = mlc_sim::deltek::DeltekSim::builder()
                .clock(clock.clone())
                .scenario(architecture_firm_deltek(DEFAULT_SEED, today));
            w.add("deltek", deltek.start().await.expect("deltek"));
            let coupa = CoupaSim::builder()
                .clock(clock)
                .scenario(architecture_firm(DEFAULT_SEED, if small { 12 } else { 60 }))
                .start()
                .await
                .expect("coupa");
            w.add("coupa", coupa);
            w.set_option("coupa", "token_activation_wait_ms", json!(50));
            w.set_option("coupa", "retry_base_ms", json!(20));
            w.set_option("deltek", "vouchers_per_file", json!(10));
            w.set_option("deltek", "batch_linger_ms", json!(30));
            w.set_option("deltek", "max_calls_per_second", json!(200));
            w
        }
        "deltek-cleo" => {
            use mlc_sim::cleo::deltek_seed::deltek_seed;
            use mlc_sim::cleo::scenario::{DEFAULT_SEED, demo, demo_company, demo_settings};
            use mlc_sim::cleo::{CleoSim, CleoSwitches};
            let clock = SimClock::real();
            let company = demo_company(DEFAULT_SEED);
            let mut w = SimWorld::new(clock.clone());
            let deltek = w.add(
                "deltek",
                mlc_sim::deltek::DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek"),
            );
            deltek.seed_scenario(&deltek_seed(&company)).expect("deltek seed");
            let switches = CleoSwitches { partner_auto: false, ..CleoSwitches::default() };
            let cleo = CleoSim::builder().clock(clock).scenario(demo(DEFAULT_SEED)).switches(switches).start();
            w.add("cleo", cleo.await.expect("cleo"));
            for (k, v) in demo_settings(&company) {
                w.set_option("cleo", &k, v);
            }
            w.set_option("deltek", "max_calls_per_second", json!(0));
            w.set_option("deltek", "batch_linger_ms", json!(10));
            w
        }
        other => panic!("no demo world for {other}"),
    }
}

/// `integration`'s flows as its demo configures them (first polls look back over everything).
pub fn demo_flows(integration: &str) -> Vec<(&'static str, FlowSettings)> {
    use serde_json::json;
    let docs = || json!({"initial_lookback_days": 0});
    match integration {
        "cin7-deltek" => vec![
            ("cin7-deltek-vendors", flow(None, "cin7", "deltek", json!({}))),
            ("cin7-deltek-ap", flow(None, "cin7", "deltek", docs())),
        ],
        "cin7-acumatica" => vec![
            ("cin7-acumatica-vendors", flow(None, "cin7", "acumatica", json!({}))),
            ("acumatica-cin7-suppliers", flow(None, "acumatica", "cin7", json!({}))),
            ("cin7-acumatica-po", flow(None, "cin7", "acumatica", docs())),
            ("cin7-acumatica-bill", flow(None, "cin7", "acumatica", docs())),
            ("acumatica-cin7-po", flow(None, "acumatica", "cin7", docs())),
        ],
        "procore-deltek" => vec![
            ("procore-deltek-vendors", flow(None, "procore", "deltek", json!({}))),
            (
                "procore-deltek-ap-subcontract",
                flow(
                    None,
                    "procore",
                    "deltek",
                    json!({"initial_lookback_days": 0, "retainage": "gross",
                           "retainage_account": mlc_sim::procore::deltek_seed::RETAINAGE_PAYABLE}),
                ),
            ),
            ("procore-deltek-ap-direct", flow(None, "procore", "deltek", docs())),
            (
                "procore-deltek-commitments",
                flow(
                    None,
                    "procore",
                    "deltek",
                    json!({"initial_lookback_days": 0, "work_order_account": "58100",
                           "purchase_order_account": "58200", "offset_account": "29100"}),
                ),
            ),
        ],
        "coupa-deltek" => vec![
            ("coupa-deltek-vendors", flow(None, "coupa", "deltek", json!({}))),
            ("coupa-deltek-ap", flow(None, "coupa", "deltek", docs())),
            ("coupa-deltek-voids", flow(None, "coupa", "deltek", docs())),
        ],
        "deltek-cleo" => vec![
            ("deltek-cleo-ar810", flow(None, "deltek", "cleo", json!({"start_period": 202505}))),
            ("cleo-deltek-ap810", flow(None, "cleo", "deltek", json!({}))),
            ("cleo-deltek-ar997", flow(None, "cleo", "cleo", json!({}))),
        ],
        other => panic!("no demo flows for {other}"),
    }
}

async fn add_mapping(h: &Engine, scope: &str, kind: mlc_core::mapping::MappingKind, source: &str, target: &str) {
    let m = mlc_core::mapping::Mapping {
        key: mlc_core::mapping::MappingKey::new(scope, kind, source),
        target: target.into(),
        note: None,
        updated_at: chrono::Utc::now(),
    };
    h.add_mapping(m).await.expect("mapping");
}

/// The mappings `integration`'s finance team prepares in its demo (each demo leaves one
/// deliberately unmapped code, which waits in `needs_mapping`).
pub async fn demo_mappings(h: &Engine, w: &SimWorld, integration: &str) {
    use mlc_core::mapping::MappingKind;
    match integration {
        "cin7-deltek" => {
            use mlc_sim::cin7::{Cin7Sim, scenario as s};
            for (code, gl) in s::ACCOUNT_HINTS {
                add_mapping(h, "cin7-deltek", MappingKind::ACCOUNT, code, gl).await;
            }
            let cin7 = w.system::<Cin7Sim>("cin7").expect("cin7");
            let projects: std::collections::BTreeSet<String> = cin7
                .lock()
                .purchases
                .iter()
                .filter_map(|p| p.additional_attributes.get(s::PROJECT_ATTRIBUTE).cloned())
                .collect();
            for p in projects {
                add_mapping(h, "cin7-deltek", MappingKind::PROJECT, &p, &p).await;
            }
        }
        "cin7-acumatica" => {
            use mlc_sim::acumatica::cin7_seed::ACCOUNT_MAP;
            for (code, _, _, _, _, acu) in ACCOUNT_MAP {
                if let Some(a) = acu {
                    add_mapping(h, "cin7-acumatica", MappingKind::ACCOUNT, code, a).await;
                }
            }
            for (loc, wh) in [("Main Warehouse", "MAIN"), ("East Warehouse", "EAST")] {
                add_mapping(h, "cin7-acumatica", MappingKind::named("acumatica_warehouse"), loc, wh).await;
                add_mapping(h, "cin7-acumatica", MappingKind::named("cin7_location"), wh, loc).await;
            }
        }
        "procore-deltek" => {
            use mlc_sim::procore::deltek_seed::COST_TYPE_ACCOUNTS;
            use mlc_sim::procore::scenario::{COST_CODES, UNMAPPED_COST_CODE, project_id, project_numbers};
            let projects = w.system::<mlc_sim::procore::ProcoreSim>("procore").expect("procore").lock().projects.len();
            for i in 0..projects {
                add_mapping(
                    h,
                    "procore-deltek",
                    MappingKind::PROJECT,
                    &project_id(i).to_string(),
                    &project_numbers(i).1,
                )
                .await;
            }
            for (div, _, children) in COST_CODES {
                for (code, _) in children.iter() {
                    let full = format!("{div}-{code}");
                    if full != UNMAPPED_COST_CODE {
                        add_mapping(h, "procore-deltek", MappingKind::COST_CODE, &full, div).await;
                    }
                }
            }
            for (ct, acct, _) in COST_TYPE_ACCOUNTS {
                add_mapping(h, "procore-deltek", MappingKind::COST_TYPE, ct, acct).await;
            }
        }
        "coupa-deltek" => {
            use mlc_sim::coupa::deltek_seed::{gl_mapping, project_mapping};
            for (c, d) in gl_mapping() {
                add_mapping(h, "coupa-deltek", MappingKind::ACCOUNT, c, d).await;
            }
            for (c, d) in project_mapping() {
                add_mapping(h, "coupa-deltek", MappingKind::PROJECT, c, d).await;
            }
        }
        "deltek-cleo" => {
            use mlc_sim::cleo::deltek_seed::demo_mappings;
            use mlc_sim::cleo::scenario::{DEFAULT_SEED, demo_company};
            for (kind, source, target) in demo_mappings(&demo_company(DEFAULT_SEED)) {
                add_mapping(h, "cleo-deltek", kind.parse().expect("kind"), &source, &target).await;
            }
        }
        other => panic!("no demo mappings for {other}"),
    }
}

/// The integration a flow kind belongs to (its demo's world).
pub fn integration_of(kind: &str) -> &'static str {
    INTEGRATIONS
        .iter()
        .copied()
        .find(|i| demo_flows(i).iter().any(|(n, _)| *n == kind))
        .unwrap_or_else(|| panic!("flow kind {kind} is in no integration's demo flows: add it to support::demo_flows"))
}

/// Records the connection's simulator holds as a target (vouchers, firms, journal entries, bills,
/// orders, vendors, suppliers, purchases, files): the same figure after two runs means nothing
/// was written twice.
pub fn target_records(w: &SimWorld, connection: &str) -> usize {
    use mlc_sim::{acumatica::AcumaticaSim, cin7::Cin7Sim, cleo::CleoSim, deltek::DeltekSim};
    if let Some(d) = w.system::<DeltekSim>(connection) {
        let st = d.lock();
        return st.ap_files.iter().map(|f| f.masters.len()).sum::<usize>()
            + st.je_files.iter().map(|f| f.masters.len()).sum::<usize>()
            + st.firms.len();
    }
    if let Some(a) = w.system::<AcumaticaSim>(connection) {
        return a.lock().records.values().map(Vec::len).sum();
    }
    if let Some(c) = w.system::<Cin7Sim>(connection) {
        let st = c.lock();
        return st.purchases.len() + st.suppliers.len();
    }
    if let Some(c) = w.system::<CleoSim>(connection) {
        let st = c.lock();
        return st.mailboxes.iter().flat_map(|m| m.folders.iter()).map(|f| f.files.len()).sum();
    }
    panic!("no target count for connection {connection}")
}
