//! Shared set-up for the end-to-end tests: both simulators on loopback, a small Cin7 account whose
//! suppliers are the Deltek demo's vendors, and a runtime on an in-memory store that runs the real
//! flows over real HTTP. Nothing leaves 127.0.0.1.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Utc;
use mlc_core::engine::intake::WebhookRequest;
use mlc_core::engine::memory::{MemoryQueue, MemorySecrets, MemoryStore};
use mlc_core::engine::model::{ItemFilter, WorkItem};
use mlc_core::engine::ports::{SecretStore, SystemClock};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_core::secret::Credentials;
use mlc_flows::config::{ConnectionSettings, FlowSettings};
use mlc_flows::{Cadence, Config, Runtime};
use mlc_sim::cin7::scenario::Cin7Scenario;
use mlc_sim::cin7::{Cin7Sim, Cin7Switches};
use mlc_sim::common::{SimClock, SimHandle};
use mlc_sim::deltek::DeltekSim;
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub use mlc_sim::cin7::scenario::survey::{AP, PROJECT, SURVEY_ACCOUNT, SURVEY_CODE, VENDORS, cascade, day, purchase};

pub struct World {
    pub deltek: SimHandle<DeltekSim>,
    pub cin7: SimHandle<Cin7Sim>,
    pub rt: Arc<Runtime>,
    pub store: MemoryStore,
    config: Config,
    queue: MemoryQueue,
    secrets: MemorySecrets,
}

/// Start both simulators with `scenario` in Cin7 and build the runtime with the two flows.
pub async fn world(scenario: Cin7Scenario, switches: Cin7Switches) -> World {
    let clock = SimClock::manual_default();
    let deltek = DeltekSim::builder().clock(clock.clone()).start().await.expect("deltek sim");
    let cin7 = Cin7Sim::builder().clock(clock).scenario(scenario).switches(switches).start().await.expect("cin7 sim");
    let d = deltek.system().typed_credentials(deltek.base_url());
    let c = cin7.system().typed_credentials(cin7.base_url());
    let secrets = MemorySecrets::default();
    secrets
        .put(
            "deltek",
            &Credentials::new()
                .with("username", d.username)
                .with("password", d.password)
                .with("client_id", d.client_id)
                .with("client_secret", d.client_secret),
        )
        .await
        .expect("put");
    secrets
        .put(
            "cin7",
            &Credentials::new()
                .with("account_id", c.account_id)
                .with("application_key", c.application_key)
                .with("webhook_secret", c.webhook_secret)
                .with("webhook_header", c.webhook_header),
        )
        .await
        .expect("put");

    let mut config = Config::default();
    config.engine.workers = 4;
    config.engine.lock_ttl_secs = 10;
    config.engine.in_doubt_settle_secs = 1;
    // Simulators answer in milliseconds: a short HTTP timeout and margin keep the timing rule.
    config.engine.http_timeout_secs = 0;
    config.engine.settle_margin_ms = 1000;
    config.engine.retry_base_ms = 200;
    config.engine.retry_cap_secs = 2;
    config.engine.busy_retry_ms = 200;
    let opts =
        |pairs: &[(&str, Value)]| pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<BTreeMap<_, _>>();
    config.connections.insert(
        "deltek".into(),
        ConnectionSettings {
            system: "deltek".into(),
            base_url: deltek.base_url().into(),
            credentials: None,
            options: opts(&[
                ("database", json!(d.database)),
                ("batch_linger_ms", json!(20)),
                ("max_calls_per_second", json!(500)),
                ("timeout_secs", json!(1)),
                ("retry_base_ms", json!(20)),
            ]),
        },
    );
    config.connections.insert(
        "cin7".into(),
        ConnectionSettings {
            system: "cin7".into(),
            base_url: cin7.base_url().into(),
            credentials: None,
            options: opts(&[("rate_limit_calls", json!(60)), ("rate_limit_window_secs", json!(0.5))]),
        },
    );
    let flow = |o: &[(&str, Value)]| FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: "cin7".into(),
        target: "deltek".into(),
        every: Cadence(Duration::from_secs(900)),
        options: opts(o),
    };
    config.flows.insert(VENDORS.into(), flow(&[]));
    config.flows.insert(AP.into(), flow(&[("initial_lookback_days", json!(0))]));

    let store = MemoryStore::new();
    let clock = Arc::new(SystemClock);
    let queue = MemoryQueue::new(clock.clone(), 50);
    let rt = Runtime::build(
        config.clone(),
        Arc::new(store.clone()),
        Arc::new(queue.clone()),
        Arc::new(secrets.clone()),
        clock,
    )
    .await
    .expect("runtime");
    let rt = Arc::new(rt);
    for (kind, source, target) in
        [(MappingKind::ACCOUNT, SURVEY_CODE, SURVEY_ACCOUNT), (MappingKind::PROJECT, PROJECT, PROJECT)]
    {
        rt.engine
            .add_mapping(Mapping {
                key: MappingKey::new("cin7-deltek", kind, source),
                target: target.into(),
                note: None,
                updated_at: Utc::now(),
            })
            .await
            .expect("mapping");
    }
    World { deltek, cin7, rt, store, config, queue, secrets }
}

impl World {
    /// A new process on the same store and queue: fresh clients, so no per-run cache survives.
    pub async fn restart(&mut self) {
        let rt = Runtime::build(
            self.config.clone(),
            Arc::new(self.store.clone()),
            Arc::new(self.queue.clone()),
            Arc::new(self.secrets.clone()),
            Arc::new(SystemClock),
        )
        .await
        .expect("runtime");
        self.rt = Arc::new(rt);
    }

    /// Poll a flow, then work the queue until nothing is waiting (delayed retries included).
    pub async fn poll_and_settle(&self, flow: &str) {
        self.rt.poll(flow).await.expect("poll");
        self.settle().await;
    }

    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.rt.engine.drain(&self.rt.flows, 4).await.expect("drain");
            let d = self.rt.engine.queue.depth().await.expect("depth");
            if d.ready + d.delayed + d.in_flight == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "the queue did not settle: {d:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn items(&self, flow: &str) -> Vec<WorkItem> {
        self.rt.engine.find(&ItemFilter { flow: Some(flow.into()), ..Default::default() }).await.expect("items")
    }

    /// The item whose label mentions `needle`.
    pub async fn item(&self, flow: &str, needle: &str) -> WorkItem {
        let items = self.items(flow).await;
        items.iter().find(|i| i.summary.label.contains(needle)).cloned().unwrap_or_else(|| {
            panic!(
                "no {flow} item mentions {needle:?}: {:#?}",
                items.iter().map(|i| &i.summary.label).collect::<Vec<_>>()
            )
        })
    }

    /// Vouchers in Deltek for an invoice number: (vendor, total of the lines).
    pub fn vouchers(&self, invoice: &str) -> Vec<(String, Decimal)> {
        self.deltek.system().lock().vouchers_for(invoice).into_iter().map(|v| (v.vendor, v.total)).collect()
    }

    /// A webhook listener on loopback feeding the runtime's intake; returns its URL.
    pub async fn listen(&self) -> String {
        async fn hook(
            State(rt): State<Arc<Runtime>>,
            Path(system): Path<String>,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            let headers: Vec<(String, String)> = headers
                .iter()
                .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string())))
                .collect();
            let req = WebhookRequest { connection: &system, headers: &headers, body: &body, received_at: Utc::now() };
            match rt.webhook(&req).await {
                Ok(_) => StatusCode::ACCEPTED,
                Err(e) => StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST),
            }
        }
        let app = Router::new().route("/webhooks/{system}", post(hook)).with_state(self.rt.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/webhooks/cin7", l.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(l, app).await });
        url
    }

    /// Register the Cin7 webhooks through the client, as an admin would.
    pub async fn register_webhooks(&self, url: &str) {
        let conn = self.rt.connections.client::<mlc_cin7::Cin7Connection>("cin7", "cin7").expect("cin7");
        for ev in ["Purchase/InvoiceAuthorised", "Purchase/Updated", "Supplier/Updated"] {
            conn.client.ensure_webhook(ev, url).await.expect("register webhook");
        }
    }

    /// Deliver every pending Cin7 webhook now and wait until none is pending.
    pub async fn deliver_webhooks(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            self.cin7.system().flush_webhooks();
            tokio::time::sleep(Duration::from_millis(100)).await;
            if self.cin7.system().deliveries().iter().all(|d| d.state != "pending") || Instant::now() > deadline {
                return;
            }
        }
    }

    /// A Cin7 control action.
    pub async fn cin7_action(&self, name: &str, args: Value) -> Value {
        use mlc_sim::common::SimSystem;
        self.cin7.system().clone().action(name.into(), args).await.expect("cin7 action")
    }
}
