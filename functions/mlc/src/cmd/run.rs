//! `mlc run <flow>` (one poll, then drain the queue) and `mlc serve` (webhook listener + scheduler
//! + worker in one process) — the local home of the same three handlers the Lambdas run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use mlc_core::engine::DrainReport;
use mlc_core::engine::cursor::{CursorHold, SincePageCursor};
use mlc_core::engine::intake::WebhookRequest;
use mlc_core::engine::ledger::{FlowLedger, LedgerRecorder, RunLedger};
use mlc_core::engine::model::{ItemFilter, ItemState};
use mlc_flows::Runtime;
use serde::Serialize;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::home::Home;
use crate::output::{Out, Table, count};

/// Finish a run's ledger and keep each flow's figures where `mlc status` reads them.
pub async fn finish_ledger(rt: &Runtime, ledger: &LedgerRecorder) -> anyhow::Result<RunLedger> {
    Ok(rt.engine.finish_ledger(ledger).await?)
}

/// Print a ledger's lines (and a loud line for any flow that does not balance).
pub fn print_ledger(run: &RunLedger) {
    print_flow_ledgers(run.flows.values());
}

/// Print flow ledgers (`mlc run`, `mlc status`).
pub fn print_flow_ledgers<'a>(ledgers: impl Iterator<Item = &'a FlowLedger>) {
    for l in ledgers {
        println!(
            "  {}: {} records listed, {} worked ({} without a document for it, {} already processed, {} unread, {} still queued)",
            l.flow,
            l.records_listed,
            l.records_worked,
            l.records_without_documents,
            l.records_already_processed,
            l.records_unread,
            l.records_queued
        );
        println!("    {}{}", l.equation(), if l.balances() { "" } else { "   <-- DOES NOT BALANCE" });
        for (what, m) in
            [("skipped", &l.skipped_by_reason), ("held", &l.held_by_reason), ("failed", &l.failed_by_reason)]
        {
            if !m.is_empty() {
                let parts: Vec<String> = m.iter().map(|(k, n)| format!("{k} {n}")).collect();
                println!("    {what}: {}", parts.join(", "));
            }
        }
        for u in &l.unaccounted {
            println!("    UNACCOUNTED: {u}");
        }
    }
}

#[derive(Serialize)]
struct RunReport {
    flow: String,
    /// How far back the poll looked, and why.
    looked_back: String,
    discovered: usize,
    drain: DrainReport,
    ledger: RunLedger,
    /// Mapping key (with the vendor's name for vendor keys) → documents waiting for it.
    missing_mappings: BTreeMap<String, u64>,
    api_calls: BTreeMap<String, mlc_flows::ApiCounters>,
}

/// Drain the queue with a spinner on a terminal (hidden with --json), or a line a minute on
/// stderr when it is not a terminal (logs), so long work is never silent.
pub async fn drain_with_progress(rt: &Runtime, out: Out, label: &str) -> anyhow::Result<DrainReport> {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let bar = if out.json || !terminal { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let started = std::time::Instant::now();
    let last_line = std::sync::Mutex::new(std::time::Instant::now());
    let report = rt
        .engine
        .drain_observed(&rt.flows, rt.config.engine.workers, |r| {
            let msg = format!(
                "{label}: {} handled, {} worked",
                count(r.hints, "record"),
                count(r.outcomes.values().sum::<u64>(), "document")
            );
            if !terminal && !out.json {
                let mut last = last_line.lock().unwrap_or_else(|p| p.into_inner());
                if last.elapsed() >= Duration::from_secs(60) {
                    *last = std::time::Instant::now();
                    eprintln!("{msg} ({}s so far)", started.elapsed().as_secs());
                }
            }
            bar.set_message(msg);
        })
        .await;
    bar.finish_and_clear();
    Ok(report?)
}

/// `mlc run <flow>` names a flow of the configuration: said before anything else is opened.
pub fn check_flow_name(config: &mlc_flows::Config, flow: &str) -> anyhow::Result<()> {
    match config.flows.get(flow) {
        Some(f) if f.enabled => Ok(()),
        Some(_) => bail!("flow {flow:?} is disabled in the configuration (enabled = false)"),
        None => {
            let names: Vec<&str> = config.flows.keys().map(String::as_str).collect();
            bail!(
                "unknown flow {flow:?} ({})",
                if names.is_empty() {
                    "the configuration names no flows: pass --config FILE or create ./mlc.toml".to_string()
                } else {
                    format!("flows in the configuration: {}", names.join(", "))
                }
            )
        }
    }
}

/// Documents of `flow` waiting in needs_mapping, by the mapping they wait for.
pub async fn missing_mappings(engine: &mlc_core::Engine, flow: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let filter =
        ItemFilter { flow: Some(flow.to_string()), state: Some(ItemState::NeedsMapping), ..Default::default() };
    let mut by_key = BTreeMap::new();
    let items = engine.find(&filter).await?;
    // A vendor key by the supplier's name, not its source id (a Cin7 GUID).
    let names = crate::cmd::names::Names::from_items(&items);
    for i in &items {
        for k in &i.missing {
            *by_key.entry(names.key(k)).or_default() += 1;
        }
    }
    Ok(by_key)
}

/// Say where the poll starts, and why; with `since`, move the cursor there first.
async fn position_cursor(
    home: &Home,
    rt: &Runtime,
    flow: &str,
    since: Option<DateTime<Utc>>,
) -> anyhow::Result<String> {
    let Some((name, lookback)) = crate::cmd::cursor::cursor_of(rt, flow) else {
        return Ok("the flow does not poll a cursor".into());
    };
    if let Some(s) = since {
        crate::cmd::cursor::set_since(home, &name, Some(s)).await?;
        return Ok(format!("records changed since {} (--since; cursor {name})", s.format("%Y-%m-%d %H:%M UTC")));
    }
    let current = home.store.get_cursor(&name).await?;
    let hold = current.as_ref().and_then(|c| CursorHold::parse(&c.value));
    if let Some(h) = hold {
        return Ok(format!("{} (cursor {name})", h.describe()));
    }
    let pos = current.as_ref().and_then(|c| serde_json::from_str::<SincePageCursor>(&c.value).ok());
    Ok(match (current, pos) {
        (None, _) => match lookback.filter(|l| !l.is_zero()) {
            Some(l) => format!(
                "records changed in the last {} (first poll of {name}: initial_lookback_days; older records need `--since DATE`)",
                count(l.as_secs() / 86_400, "day")
            ),
            None => format!("every record (first poll of {name}, initial_lookback_days = 0)"),
        },
        (Some(_), Some(p)) => match p.since {
            Some(s) => format!(
                "records changed since {} (cursor {name} from earlier polls; initial_lookback_days only applies to a first poll: `mlc run {flow} --since DATE` or `mlc cursor reset {flow}` to look further back)",
                s.format("%Y-%m-%d %H:%M UTC")
            ),
            None => format!("every record (cursor {name})"),
        },
        (Some(c), None) => format!("from cursor {name} ({})", c.value),
    })
}

pub async fn once(home: &Home, out: Out, flow: &str, since: Option<DateTime<Utc>>) -> anyhow::Result<()> {
    let mut rt = home.runtime().await?;
    let ledger = LedgerRecorder::new(rt.engine.clock.now());
    rt.engine.ledger = Some(ledger.clone());
    if rt.flows.get(flow).is_none() {
        let names: Vec<&str> = rt.flows.names().collect();
        bail!(
            "no enabled flow named {flow:?} (enabled: {})",
            if names.is_empty() { "none".into() } else { names.join(", ") }
        );
    }
    let looked_back = position_cursor(home, &rt, flow, since).await?;
    if !out.json {
        eprintln!("{flow}: polling {looked_back}");
    }
    let poll = rt.poll(flow).await?;
    if home.place.is_aws() {
        // The poster function works the SQS queue; draining it from here would compete with it.
        return out.emit(&serde_json::json!({ "flow": flow, "looked_back": looked_back, "discovered": poll.hints, "enqueued_to": "sqs" }), || {
            println!(
                "{flow}: the poll found {} and queued them; the poster function posts them",
                count(poll.hints as u64, "changed record")
            );
            println!("see `mlc status --backend aws` and `mlc items --backend aws --flow {flow}`");
        });
    }
    let drain = drain_with_progress(&rt, out, flow).await?;
    let ledger = finish_ledger(&rt, &ledger).await?;
    let balanced = ledger.balances();
    let missing = missing_mappings(&rt.engine, flow).await?;
    let report = RunReport {
        flow: flow.to_string(),
        looked_back,
        discovered: poll.hints,
        drain,
        ledger,
        missing_mappings: missing,
        api_calls: rt.counters(),
    };
    out.emit(&report, || {
        println!("{flow}: the poll looked for {}", report.looked_back);
        println!("{flow}: it found {}", count(report.discovered as u64, "changed record"));
        print_drain(&report.drain);
        if !report.missing_mappings.is_empty() {
            println!("waiting for mappings (add them with `mlc mappings import FILE.csv`):");
            for (k, n) in &report.missing_mappings {
                println!("  {k}: {}", count(*n, "document"));
            }
        }
        println!("run ledger:");
        print_ledger(&report.ledger);
        for (conn, c) in &report.api_calls {
            println!("  {conn}: {} ({} retries, {} throttled)", count(c.calls, "API call"), c.retries, c.throttled);
        }
        println!("see `mlc status` and `mlc items --flow {flow}` for details");
    })?;
    if !balanced {
        anyhow::bail!(
            "the run ledger does not balance (see UNACCOUNTED above): records may have been lost; report this"
        );
    }
    Ok(())
}

pub fn print_drain(d: &DrainReport) {
    let mut t = Table::new(&["outcome", "documents"]);
    for (o, n) in &d.outcomes {
        t.row(vec![outcome_name(o), n.to_string()]);
    }
    if t.is_empty() {
        println!("  nothing to do");
    } else {
        t.print();
    }
    if d.retried_hints > 0 {
        println!(
            "  {} will be retried later (rate limits, in-doubt writes or busy items)",
            count(d.retried_hints, "record")
        );
    }
    for e in &d.errors {
        println!("  error: {e}");
    }
}

/// What the webhook listener has seen since it started.
#[derive(Debug, Default)]
pub struct IntakeTally {
    pub accepted: AtomicU64,
    pub enqueued: AtomicU64,
    /// Repeat deliveries dropped by delivery id.
    pub duplicates: AtomicU64,
    pub refused: AtomicU64,
}

#[derive(Clone)]
struct ServeState {
    rt: Arc<Runtime>,
    wake: Arc<Notify>,
    tally: Arc<IntakeTally>,
}

/// The webhook listener's routes (`POST /webhooks/{connection}`, `GET /healthz`); `wake` is notified
/// when a webhook enqueued work; `tally` counts what arrived.
pub fn webhook_app(rt: Arc<Runtime>, wake: Arc<Notify>, tally: Arc<IntakeTally>) -> Router {
    Router::new()
        .route("/webhooks/{system}", post(webhook))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(ServeState { rt, wake, tally })
}

async fn webhook(
    State(st): State<ServeState>,
    Path(system): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_ascii_lowercase(), v.to_string())))
        .collect();
    let req = WebhookRequest { connection: &system, headers: &headers, body: &body, received_at: Utc::now() };
    match st.rt.webhook(&req).await {
        Ok(report) => {
            st.tally.accepted.fetch_add(1, Ordering::Relaxed);
            st.tally.enqueued.fetch_add(report.enqueued as u64, Ordering::Relaxed);
            st.tally.duplicates.fetch_add(report.duplicates as u64, Ordering::Relaxed);
            if report.enqueued > 0 {
                st.wake.notify_one();
            }
            (StatusCode::ACCEPTED, serde_json::to_string(&report).unwrap_or_default())
        }
        Err(e) => {
            st.tally.refused.fetch_add(1, Ordering::Relaxed);
            warn!(system = %system, error = %e, "webhook refused");
            (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST), e.public_message())
        }
    }
}

pub async fn serve(home: &Home) -> anyhow::Result<()> {
    let rt = Arc::new(home.runtime().await?);
    let wake = Arc::new(Notify::new());
    let addr: SocketAddr = rt.config.server.listen.parse().with_context(|| {
        format!("server.listen {:?} is not an address like 127.0.0.1:8080", rt.config.server.listen)
    })?;
    // Bind first: a second `mlc serve` on the same address must fail before it starts any work.
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (is another `mlc serve` running?)"))?;

    // Scheduler: one task per enabled flow.
    for (name, settings) in rt.config.flows.iter().filter(|(_, f)| f.enabled) {
        let (rt, wake, name, every) = (rt.clone(), wake.clone(), name.clone(), settings.every.0);
        tokio::spawn(async move {
            loop {
                match rt.poll(&name).await {
                    Ok(r) => {
                        info!(flow = %name, hints = r.hints, "poll done");
                        if r.hints > 0 {
                            wake.notify_one();
                        }
                    }
                    Err(e) => warn!(flow = %name, error = %e, "poll failed; next try at the next tick"),
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    // Sweeper: items left with no message (a crash between steps) are queued again.
    {
        let (rt, wake) = (rt.clone(), wake.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                match rt.engine.sweep(Duration::from_secs(300)).await {
                    Ok(r) if !r.requeued.is_empty() => {
                        info!(items = r.requeued.len(), "sweep queued items that had no message left");
                        wake.notify_one();
                    }
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "sweep failed; next try in a minute"),
                }
            }
        });
    }

    // Worker: drain whenever woken, and at least every few seconds (delayed retries come due).
    let worked: Arc<std::sync::Mutex<BTreeMap<String, u64>>> = Arc::default();
    {
        let (rt, wake, worked) = (rt.clone(), wake.clone(), worked.clone());
        tokio::spawn(async move {
            let mut last_line = std::time::Instant::now();
            loop {
                match rt.engine.drain(&rt.flows, rt.config.engine.workers).await {
                    Ok(r) if r.hints > 0 => {
                        info!(hints = r.hints, "worker pass");
                        let mut w = worked.lock().unwrap_or_else(|p| p.into_inner());
                        for (o, n) in &r.outcomes {
                            *w.entry(outcome_name(o)).or_default() += n;
                        }
                        if last_line.elapsed() >= Duration::from_secs(60) {
                            last_line = std::time::Instant::now();
                            eprintln!("mlc serve: {} so far", describe_outcomes(&w));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "worker pass failed"),
                }
                let _ = tokio::time::timeout(Duration::from_secs(5), wake.notified()).await;
            }
        });
    }

    let tally = Arc::new(IntakeTally::default());
    let app = webhook_app(rt.clone(), wake.clone(), tally.clone()).merge(crate::console::mount_under_serve(
        home,
        rt.clone(),
        wake,
        &addr,
    ));
    let started = std::time::Instant::now();
    let stop = stop_signal()?;
    eprintln!(
        "mlc serve: webhooks on http://{addr}/webhooks/<connection>; {} flows scheduled; Ctrl-C to stop",
        rt.flows.names().count()
    );
    axum::serve(listener, app).with_graceful_shutdown(stop).await.context("webhook listener failed")?;
    let w = worked.lock().unwrap_or_else(|p| p.into_inner()).clone();
    eprintln!(
        "mlc serve: stopped after {}s; webhooks: {} accepted ({} queued, {} repeats dropped), {} refused; documents: {}",
        started.elapsed().as_secs(),
        tally.accepted.load(Ordering::Relaxed),
        tally.enqueued.load(Ordering::Relaxed),
        tally.duplicates.load(Ordering::Relaxed),
        tally.refused.load(Ordering::Relaxed),
        describe_outcomes(&w)
    );
    Ok(())
}

/// Ctrl-C or SIGTERM (a service manager stopping it). The handlers are installed before this
/// returns, so a signal sent right after the start banner is never lost.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut int = signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?;
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

fn outcome_name(o: &mlc_core::engine::DocOutcome) -> String {
    serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_else(|| format!("{o:?}"))
}

/// `posted 12, skipped 3` (or `none worked`).
fn describe_outcomes(w: &BTreeMap<String, u64>) -> String {
    if w.is_empty() {
        return "none worked".into();
    }
    w.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}
