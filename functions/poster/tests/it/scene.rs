//! A Cin7 → Deltek world for the scale tests: `n` purchases from one supplier (paired with the
//! Deltek demo vendor `CASCSURV`), each holding one authorised supplier invoice charged to a mapped
//! project and account, so every purchase should become exactly one voucher. Cin7 keeps its rate
//! limit in its strictest form (429 for every call over 60 per window, rejected calls counted
//! against the window too) with the window compressed to `window_ms` real milliseconds, on a real
//! clock, so its call log's times are real and the throughput can be read from them.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use mlc_core::Engine;
use mlc_core::engine::model::{Hint, Origin};
use mlc_core::mapping::{Mapping, MappingKey, MappingKind};
use mlc_flows::config::FlowSettings;
use mlc_flows::{Cadence, Config};
use mlc_sim::cin7::Cin7Sim;
use mlc_sim::cin7::model::DocStatus;
use mlc_sim::cin7::scenario::Cin7Scenario;
use mlc_sim::cin7::switches::{Cin7Switches, RateLimitAnswer};
use mlc_sim::common::SimClock;
use mlc_sim::deltek::DeltekSim;
use mlc_sim::world::SimWorld;
use serde_json::json;

pub use mlc_sim::cin7::scenario::survey::{AP, PROJECT, SURVEY_ACCOUNT, SURVEY_CODE, VENDOR, cascade, day, purchase};

pub struct Scene {
    pub world: SimWorld,
    pub cin7: Arc<Cin7Sim>,
    pub deltek: Arc<DeltekSim>,
    /// (purchase id, invoice number)
    pub purchases: Vec<(String, String)>,
    pub window: Duration,
}

/// What a run came to.
#[derive(Debug, Clone)]
pub struct Figures {
    pub purchases: usize,
    pub vouchers: usize,
    pub cin7_calls: usize,
    pub throttled: usize,
    /// The earliest the last call could have come under Cin7's limit (whole windows after the
    /// first call), over when it came (1.0 = Cin7's limit exactly).
    pub throughput: f64,
    pub elapsed: Duration,
}

impl Scene {
    pub async fn new(n: usize, window_ms: u64) -> Scene {
        let mut world = SimWorld::new(SimClock::manual_default());
        let deltek = world
            .add("deltek", DeltekSim::builder().clock(SimClock::manual_default()).start().await.expect("deltek sim"));
        let s = cascade();
        let mut scenario = Cin7Scenario::reference_data().supplier(s.clone());
        let mut purchases = Vec::new();
        for i in 0..n {
            let id = format!("5ca1e000-0000-4000-8000-{i:012}");
            let invoice = format!("SCALE-{i:05}");
            scenario = scenario.purchase(
                purchase(&s, &id, 100 + i as i64).invoice(&invoice, DocStatus::Authorised, day(2), day(30)).build(),
            );
            purchases.push((id, invoice));
        }
        let switches = Cin7Switches {
            rate_limit_calls: 60,
            rate_limit_window_ms: window_ms,
            rate_limit_answer: RateLimitAnswer::TooManyRequests,
            count_rejected_calls: true,
            retry_after: false,
            ..Cin7Switches::default()
        };
        let cin7 = world.add(
            "cin7",
            Cin7Sim::builder()
                .clock(SimClock::real())
                .scenario(scenario)
                .switches(switches)
                .start()
                .await
                .expect("cin7 sim"),
        );
        for (k, v) in [
            ("batch_linger_ms", json!(20)),
            ("max_calls_per_second", json!(500)),
            ("timeout_secs", json!(10)),
            ("retry_base_ms", json!(20)),
        ] {
            world.set_option("deltek", k, v);
        }
        world.set_option("cin7", "rate_limit_calls", json!(60));
        world.set_option("cin7", "rate_limit_window_secs", json!(window_ms as f64 / 1000.0));
        world.set_option("cin7", "timeout_secs", json!(10));
        Scene { world, cin7, deltek, purchases, window: Duration::from_millis(window_ms) }
    }

    /// The world's connections and the AP flow, with the engine's quick retries.
    pub fn config(&self) -> Config {
        let mut config = self.world.config();
        config.engine.retry_base_ms = 200;
        config.engine.retry_cap_secs = 5;
        config.engine.busy_retry_ms = 200;
        // Both connections time out after 10 s (set above); simulators answer in milliseconds.
        config.engine.http_timeout_secs = 10;
        config.engine.settle_margin_ms = 1000;
        config.engine.in_doubt_settle_secs = 15;
        config.flows.insert(
            AP.into(),
            FlowSettings {
                mapping_scope: None,
                kind: None,
                enabled: true,
                source: "cin7".into(),
                target: "deltek".into(),
                every: Cadence(Duration::from_secs(900)),
                options: [("initial_lookback_days".to_string(), json!(1))].into_iter().collect(),
            },
        );
        config
    }

    /// The mappings finance would have set: the supplier's vendor, the account, the project.
    pub async fn map(&self, engine: &Engine) {
        for (kind, source, target) in [
            (MappingKind::VENDOR, cascade().id, VENDOR.to_string()),
            (MappingKind::ACCOUNT, SURVEY_CODE.into(), SURVEY_ACCOUNT.into()),
            (MappingKind::PROJECT, PROJECT.into(), PROJECT.into()),
        ] {
            engine
                .add_mapping(Mapping {
                    key: MappingKey::new("cin7-deltek", kind, &source),
                    target,
                    note: None,
                    updated_at: Utc::now(),
                })
                .await
                .expect("mapping");
        }
    }

    /// One hint per purchase, as a poll of the purchase source makes them.
    pub fn hints(&self) -> Vec<Hint> {
        self.purchases
            .iter()
            .map(|(id, _)| Hint::for_source("cin7/purchase", "cin7", "purchase", id, Origin::Poll, Utc::now()))
            .collect()
    }

    /// Vouchers per invoice number in the Deltek simulator.
    pub fn vouchers(&self, invoice: &str) -> usize {
        self.deltek.lock().vouchers_for(invoice).len()
    }

    /// Every purchase posted exactly once, no call refused by Cin7, and how close the calls came
    /// to Cin7's window.
    pub fn check(&self, label: &str) -> Figures {
        let mut missing = Vec::new();
        let mut doubled = Vec::new();
        for (_, inv) in &self.purchases {
            match self.vouchers(inv) {
                1 => {}
                0 => missing.push(inv.clone()),
                _ => doubled.push(inv.clone()),
            }
        }
        let calls = self.cin7.kit().calls.records();
        let throttled = calls.iter().filter(|c| c.status == Some(429) || c.status == Some(503)).count();
        let mut times: Vec<_> = calls.iter().map(|c| c.at).collect();
        times.sort();
        let elapsed = match (times.first(), times.last()) {
            (Some(a), Some(b)) => (*b - *a).to_std().unwrap_or_default(),
            _ => Duration::ZERO,
        };
        if std::env::var_os("MLC_SCENE_TIMES").is_some() {
            let t0 = times.first().copied().unwrap_or_else(Utc::now);
            let secs: Vec<String> =
                times.iter().map(|t| format!("{:.1}", (*t - t0).num_milliseconds() as f64 / 1000.0)).collect();
            eprintln!("{label}: call times {}", secs.join(" "));
        }
        // With at most 60 calls in any window, call n (from 0) comes no sooner than
        // floor(n / 60) windows after the first: the last call's earliest time is the floor.
        let ideal = self.window.as_secs_f64() * (times.len().saturating_sub(1) / 60) as f64;
        let throughput = if elapsed.is_zero() { 0.0 } else { ideal / elapsed.as_secs_f64() };
        let f = Figures {
            purchases: self.purchases.len(),
            vouchers: self.purchases.len() - missing.len(),
            cin7_calls: calls.len(),
            throttled,
            throughput,
            elapsed,
        };
        eprintln!(
            "{label}: {} purchases, {} vouchers, {} Cin7 calls ({} throttled) in {:.1} s, {:.0}% of Cin7's window rate",
            f.purchases,
            f.vouchers,
            f.cin7_calls,
            f.throttled,
            f.elapsed.as_secs_f64(),
            f.throughput * 100.0
        );
        assert!(missing.is_empty() && doubled.is_empty(), "{label}: not posted {missing:?}; posted twice {doubled:?}");
        assert_eq!(throttled, 0, "{label}: Cin7 refused calls over its limit");
        f
    }
}
