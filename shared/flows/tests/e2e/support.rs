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
