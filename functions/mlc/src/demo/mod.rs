//! `mlc demo [integration]`: each built integration end to end against the built-in simulators,
//! on the embedded store — the product as a customer would run it, minus the real systems.
//!
//! Every integration's demo is a scenario in its own file (`demo/<integration>.rs`), registered
//! with [`register_demo!`]; `mlc demo` runs them all in order, `mlc demo <integration>` one. Each
//! keeps its state in `<demo dir>/<integration>/` (the embedded store, and the simulators' state in
//! `sims/`), so runs build on each other exactly as production runs do: run it again and nothing
//! new is posted; fix what it tells you (import a mapping) and run it once more.
//!
//! A scenario returns a [`DemoReport`] in one format for every integration: per flow what posted,
//! what was skipped by reason code, what waits for a mapping or a person's review, what failed and
//! why, the run ledger, API calls per connection, and what to do next.

pub mod cin7_acumatica;
pub mod cin7_deltek;
pub mod coupa_deltek;
pub mod deltek_cleo;
pub mod procore_deltek;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use mlc_core::engine::DrainReport;
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_flows::{ApiCounters, Runtime};
use serde::Serialize;

use crate::cmd::run::drain_with_progress;
use crate::home::Globals;
use crate::output::{Out, Table};

/// A running scenario.
pub type DemoFuture = Pin<Box<dyn Future<Output = anyhow::Result<DemoReport>> + Send>>;

/// One integration's demo.
pub struct Demo {
    /// `cin7-deltek`: what `mlc demo <integration>` takes, and the state's subdirectory.
    pub name: &'static str,
    /// `Cin7 Core → Deltek Vantagepoint`.
    pub title: &'static str,
    /// Order in `mlc demo` (lower first).
    pub order: u32,
    pub run: fn(DemoCtx) -> DemoFuture,
}

#[linkme::distributed_slice]
pub static DEMOS: [Demo];

/// Register a scenario in its own file.
#[macro_export]
macro_rules! register_demo {
    ($ident:ident, $demo:expr) => {
        #[linkme::distributed_slice($crate::demo::DEMOS)]
        static $ident: $crate::demo::Demo = $demo;
    };
}

/// The scenarios, in `mlc demo` order.
pub fn demos() -> Vec<&'static Demo> {
    let mut v: Vec<&'static Demo> = DEMOS.iter().collect();
    v.sort_by_key(|d| (d.order, d.name));
    v
}

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// One integration (default: every one, in turn): see `mlc demo --list`.
    pub integration: Option<String>,
    /// List the integrations that have a demo.
    #[arg(long)]
    pub list: bool,
    /// Start over: delete the demo's state first.
    #[arg(long)]
    pub fresh: bool,
    /// Seed of the simulated companies.
    #[arg(long, default_value_t = mlc_sim::cin7::scenario::DEFAULT_SEED)]
    pub seed: u64,
    /// Cin7 → Deltek: purchases in the simulated Cin7 account (on a fresh demo directory).
    #[arg(long, default_value_t = mlc_sim::cin7::scenario::DEFAULT_PURCHASES)]
    pub purchases: usize,
    /// Share of webhooks lost on the way, 0..1.
    #[arg(long, default_value_t = 0.15)]
    pub webhook_loss: f64,
    /// Cin7 → Deltek: length of Cin7's 60-call rate-limit window in real milliseconds (60000 = real time).
    #[arg(long, default_value_t = 1000)]
    pub rate_window_ms: u64,
}

/// What a scenario gets.
pub struct DemoCtx {
    /// `<demo dir>/<integration>`.
    pub dir: PathBuf,
    pub out: Out,
    pub args: DemoArgs,
}

impl DemoCtx {
    /// A progress line for people (not with `--json`).
    pub fn say(&self, msg: &str) {
        if !self.out.json {
            eprintln!("{msg}");
        }
    }
}

pub fn demo_dir(g: &Globals) -> PathBuf {
    g.data_dir.clone().unwrap_or_else(|| PathBuf::from(".mlc-demo"))
}

/// `mlc demo`.
pub async fn run(g: &Globals, out: Out, args: DemoArgs) -> anyhow::Result<()> {
    if args.list {
        let rows: Vec<(&str, &str)> = demos().iter().map(|d| (d.name, d.title)).collect();
        return out.emit(&rows, || {
            for (n, t) in &rows {
                println!("{n:<20} {t}");
            }
        });
    }
    if !(0.0..=1.0).contains(&args.webhook_loss) {
        bail!("--webhook-loss must be between 0 and 1, got {}", args.webhook_loss);
    }
    let chosen: Vec<&Demo> = match &args.integration {
        Some(name) => match demos().into_iter().find(|d| d.name.eq_ignore_ascii_case(name)) {
            Some(d) => vec![d],
            None => bail!(
                "no demo for {name:?} (integrations with a demo: {})",
                demos().iter().map(|d| d.name).collect::<Vec<_>>().join(", ")
            ),
        },
        None => demos(),
    };
    let base = demo_dir(g);
    let mut reports = Vec::new();
    for d in chosen {
        let dir = base.join(d.name);
        if args.fresh && dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("cannot delete {}", dir.display()))?;
        }
        let ctx = DemoCtx { dir, out, args: args.clone() };
        ctx.say(&format!("\n=== {} ===", d.title));
        let report = (d.run)(ctx).await.with_context(|| format!("demo {}", d.name))?;
        if !out.json {
            print_report(&report);
        }
        reports.push(report);
    }
    if out.json {
        if reports.len() == 1 {
            println!("{}", serde_json::to_string_pretty(&reports[0])?);
        } else {
            println!("{}", serde_json::to_string_pretty(&reports)?);
        }
    }
    Ok(())
}

/// One held or failed document, as a person reads it.
#[derive(Debug, Clone, Serialize)]
pub struct HeldItem {
    pub item: String,
    pub label: String,
    pub reason: String,
}

/// What one flow did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlowTally {
    /// Posted this run.
    pub posted: u64,
    /// Skipped this run, by reason code.
    pub skipped_by_reason: BTreeMap<String, u64>,
    /// Waiting now, by the mapping they wait for.
    pub needs_mapping_by_key: BTreeMap<String, u64>,
    /// Waiting now for a person's decision (possible duplicates).
    pub needs_review: Vec<HeldItem>,
    pub failed: Vec<HeldItem>,
    pub in_doubt: u64,
}

/// The report every integration's demo prints (and `--json` emits).
#[derive(Debug, Default, Serialize)]
pub struct DemoReport {
    pub integration: String,
    pub title: String,
    pub data_dir: String,
    pub first_run: bool,
    pub flows: BTreeMap<String, FlowTally>,
    /// Writes prevented because the same document was already posted (this run).
    pub duplicates_prevented: u64,
    /// Webhook deliveries dropped as repeats by intake.
    pub duplicate_deliveries: u64,
    pub api_calls: BTreeMap<String, ApiCounters>,
    /// Figures particular to the scenario (`webhooks lost on the way`, `rate-limit floor`).
    pub facts: Vec<(String, String)>,
    pub elapsed_secs: f64,
    /// Seconds per phase.
    pub phases: Vec<(String, f64)>,
    pub fix_mappings_file: Option<String>,
    pub next_steps: Vec<String>,
    /// Every record the run saw and what became of it, per flow (balances or names what breaks).
    pub ledger: mlc_core::engine::ledger::RunLedger,
}

/// The engine settings every demo runs with. Simulators answer in milliseconds, so short claims,
/// a short HTTP timeout and short settle and retry delays keep the timing rule and the demo quick.
pub fn demo_engine(config: &mut mlc_flows::config::Config) {
    config.engine.workers = 8;
    // A duplicate hint that finds an item busy looks again when the claim lapses.
    config.engine.lock_ttl_secs = 10;
    config.engine.in_doubt_settle_secs = 2;
    config.engine.http_timeout_secs = 1;
    config.engine.settle_margin_ms = 1000;
    config.engine.retry_base_ms = 500;
    config.engine.retry_cap_secs = 5;
    config.engine.busy_retry_ms = 500;
}

/// One `[flows.<name>]` table of a demo: `source` → `target`, polled `every`, with `options`.
pub fn demo_flow(source: &str, target: &str, every: Duration, options: serde_json::Value) -> mlc_flows::FlowSettings {
    mlc_flows::FlowSettings {
        mapping_scope: None,
        kind: None,
        enabled: true,
        source: source.into(),
        target: target.into(),
        every: mlc_flows::Cadence(every),
        options: match options {
            serde_json::Value::Object(m) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        },
    }
}

/// The runtime of a demo, counting everything it does in a run ledger.
pub async fn runtime_with_ledger(
    home: &crate::home::Home,
) -> anyhow::Result<(Arc<Runtime>, mlc_core::engine::ledger::LedgerRecorder)> {
    let mut rt = home.runtime().await?;
    let ledger = mlc_core::engine::ledger::LedgerRecorder::new(chrono::Utc::now());
    rt.engine.ledger = Some(ledger.clone());
    Ok((Arc::new(rt), ledger))
}

impl DemoReport {
    /// Fill the per-flow tallies from the store: what changed since `since`, and what waits now.
    pub async fn tally(&mut self, rt: &Runtime, since: DateTime<Utc>, outcomes: &DrainTotals) -> anyhow::Result<()> {
        let touched = rt.engine.find(&ItemFilter { updated_since: Some(since), ..Default::default() }).await?;
        for i in &touched {
            let t = self.flows.entry(i.flow.clone()).or_default();
            match i.state {
                ItemState::Posted => t.posted += 1,
                ItemState::Skipped => {
                    *t.skipped_by_reason.entry(i.code.clone().unwrap_or_else(|| "unknown".into())).or_default() += 1
                }
                _ => {}
            }
        }
        for i in rt.engine.find(&ItemFilter::default()).await? {
            let t = self.flows.entry(i.flow.clone()).or_default();
            let held = || HeldItem {
                item: i.key.to_string(),
                label: i.summary.label.clone(),
                reason: i.reason.clone().unwrap_or_default(),
            };
            match i.state {
                ItemState::NeedsMapping => {
                    // A vendor key by the supplier's name, not its source id (a Cin7 GUID).
                    let names = crate::cmd::names::Names::from_items([&i]);
                    for k in &i.missing {
                        *t.needs_mapping_by_key.entry(names.key(k)).or_default() += 1;
                    }
                }
                ItemState::NeedsReview => t.needs_review.push(held()),
                ItemState::InDoubt => t.in_doubt += 1,
                ItemState::Failed => t.failed.push(held()),
                _ => {}
            }
        }
        for name in rt.flows.names() {
            self.flows.entry(name.to_string()).or_default();
        }
        self.duplicates_prevented = outcomes.get(&mlc_core::engine::DocOutcome::Duplicate).copied().unwrap_or(0);
        self.api_calls = rt.counters();
        Ok(())
    }

    /// Close the run's ledger and keep each flow's figures for `mlc status`.
    pub async fn close_ledger(
        &mut self,
        rt: &Runtime,
        ledger: &mlc_core::engine::ledger::LedgerRecorder,
    ) -> anyhow::Result<()> {
        self.ledger = crate::cmd::run::finish_ledger(rt, ledger).await?;
        Ok(())
    }

    /// The usual next steps from what waits.
    pub fn standard_next_steps(&mut self) {
        for l in self.ledger.flows.values().filter(|l| !l.balances()) {
            self.next_steps.push(format!(
                "the run ledger of {} does not balance ({}): {}",
                l.flow,
                l.equation(),
                l.unaccounted.join("; ")
            ));
        }
        let dir = self.data_dir.clone();
        let waiting = self.flows.values().any(|t| !t.needs_mapping_by_key.is_empty());
        if waiting {
            match &self.fix_mappings_file {
                Some(f) => self.next_steps.push(format!(
                    "import the missing mapping, then run the demo again: mlc --data-dir {dir} mappings import {f} && mlc demo {}",
                    self.integration
                )),
                None => self.next_steps.push(format!(
                    "documents wait for mappings: `mlc --data-dir {dir} items --state needs_mapping`, then `mappings import`"
                )),
            }
        }
        let review: usize = self.flows.values().map(|t| t.needs_review.len()).sum();
        if review > 0 {
            self.next_steps.push(format!(
                "{review} documents collide with a different document on vendor + number: `mlc --data-dir {dir} items --state needs_review`, then `mlc review`"
            ));
        }
        let failed: usize = self.flows.values().map(|t| t.failed.len()).sum();
        if failed > 0 {
            self.next_steps.push(format!(
                "{failed} documents failed with the fix named in their reason; after fixing, `mlc --data-dir {dir} replay --state failed --reason \"...\"`"
            ));
        }
        if self.next_steps.is_empty() {
            self.next_steps.push(format!("run `mlc demo {}` again: nothing new will be posted", self.integration));
        }
    }
}

/// Documents per outcome over a demo's drains.
pub type DrainTotals = BTreeMap<mlc_core::engine::DocOutcome, u64>;

/// Add a drain's outcomes to the totals.
pub fn add_drain(totals: &mut DrainTotals, d: &DrainReport) {
    for (o, n) in &d.outcomes {
        *totals.entry(*o).or_default() += n;
    }
}

/// Drain until nothing is waiting: delayed retries come due, in-doubt writes resolve.
pub async fn settle(rt: &Runtime, ctx: &DemoCtx, totals: &mut DrainTotals) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let d = rt.engine.queue.depth().await?;
        if d.ready + d.in_flight + d.delayed == 0 {
            return Ok(());
        }
        if Instant::now() > deadline {
            ctx.say("some retries are still scheduled; they run on the next `mlc demo` or `mlc run`");
            return Ok(());
        }
        if d.ready == 0 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        add_drain(totals, &drain_with_progress(rt, ctx.out, "retries").await?);
    }
}

/// Poll each flow once (a shared source polls for all its flows) and drain.
pub async fn poll_and_drain(
    rt: &Arc<Runtime>,
    ctx: &DemoCtx,
    flow: &str,
    totals: &mut DrainTotals,
) -> anyhow::Result<()> {
    rt.poll(flow).await?;
    add_drain(totals, &drain_with_progress(rt, ctx.out, flow).await?);
    Ok(())
}

pub fn print_report(r: &DemoReport) {
    println!(
        "\nml-connector demo — {} ({} run; state in {})",
        r.title,
        if r.first_run { "first" } else { "a repeat" },
        r.data_dir
    );
    for (flow, t) in &r.flows {
        println!("\n  {flow}: posted this run {}", t.posted);
        if !t.skipped_by_reason.is_empty() {
            let mut tb = Table::new(&["    skipped this run (reason)", "documents"]);
            for (k, n) in &t.skipped_by_reason {
                tb.row(vec![format!("    {k}"), n.to_string()]);
            }
            tb.print();
        }
        for (k, n) in &t.needs_mapping_by_key {
            println!("    waiting for mapping {k}: {}", crate::output::count(*n, "document"));
        }
        for h in &t.needs_review {
            println!("    held for review: {} — {}", h.label, h.reason);
        }
        if t.in_doubt > 0 {
            println!("    in doubt (a lost answer, resolved by lookup on the next pass): {}", t.in_doubt);
        }
        for f in t.failed.iter().take(10) {
            println!("    failed: {} — {}", f.label, crate::cmd::items::short_reason(&f.reason));
        }
        if t.failed.len() > 10 {
            println!("    … and {} more failed (mlc items --state failed)", t.failed.len() - 10);
        }
        if !t.failed.is_empty() {
            println!("    (the whole story of one: mlc audit <invoice number>)");
        }
    }
    println!(
        "\n  duplicates prevented: {}   (repeat webhook deliveries dropped: {})",
        r.duplicates_prevented, r.duplicate_deliveries
    );
    for l in r.ledger.flows.values() {
        println!(
            "  ledger {}: {} records listed, {} worked; {}{}",
            l.flow,
            l.records_listed,
            l.records_worked,
            l.equation(),
            if l.balances() { " ✓" } else { "  ✗ DOES NOT BALANCE" }
        );
    }
    for (k, v) in &r.facts {
        println!("  {k}: {v}");
    }
    println!(
        "  API calls: {}",
        r.api_calls
            .iter()
            .map(|(k, c)| format!("{k} {} ({} throttled)", c.calls, c.throttled))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  elapsed {:.1}s; phases: {}",
        r.elapsed_secs,
        r.phases.iter().map(|(k, v)| format!("{k} {v:.1}s")).collect::<Vec<_>>().join(", ")
    );
    for (i, s) in r.next_steps.iter().enumerate() {
        println!("{} {s}", if i == 0 { "\n  next:" } else { "       " });
    }
}
