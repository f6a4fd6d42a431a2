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
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use mlc_core::engine::DrainReport;
use mlc_core::engine::intake::WebhookRequest;
use mlc_core::engine::ledger::{FlowLedger, LedgerRecorder, RunLedger};
use mlc_flows::Runtime;
use serde::Serialize;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::home::Home;
use crate::output::{Out, Table};

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
    discovered: usize,
    drain: DrainReport,
    ledger: RunLedger,
    api_calls: std::collections::BTreeMap<String, mlc_flows::ApiCounters>,
}

/// Drain the queue with a spinner that shows progress (hidden with --json).
pub async fn drain_with_progress(rt: &Runtime, out: Out, label: &str) -> anyhow::Result<DrainReport> {
    let bar = if out.json { ProgressBar::hidden() } else { ProgressBar::new_spinner() };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let report = rt
        .engine
        .drain_observed(&rt.flows, rt.config.engine.workers, |r| {
            bar.set_message(format!(
                "{label}: {} hints handled, {} documents",
                r.hints,
                r.outcomes.values().sum::<u64>()
            ));
        })
        .await;
    bar.finish_and_clear();
    Ok(report?)
}

pub async fn once(home: &Home, out: Out, flow: &str) -> anyhow::Result<()> {
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
    let poll = rt.poll(flow).await?;
    if home.place.is_aws() {
        // The poster function works the SQS queue; draining it from here would compete with it.
        return out.emit(&serde_json::json!({ "flow": flow, "discovered": poll.hints, "enqueued_to": "sqs" }), || {
            println!(
                "{flow}: the poll found {} changed records and queued them; the poster function posts them",
                poll.hints
            );
            println!("see `mlc status --backend aws` and `mlc items --backend aws --flow {flow}`");
        });
    }
    let drain = drain_with_progress(&rt, out, flow).await?;
    let ledger = finish_ledger(&rt, &ledger).await?;
    let balanced = ledger.balances();
    let report = RunReport { flow: flow.to_string(), discovered: poll.hints, drain, ledger, api_calls: rt.counters() };
    out.emit(&report, || {
        println!("{flow}: the poll found {} changed records", report.discovered);
        print_drain(&report.drain);
        println!("run ledger:");
        print_ledger(&report.ledger);
        for (conn, c) in &report.api_calls {
            println!("  {conn}: {} API calls ({} retries, {} throttled)", c.calls, c.retries, c.throttled);
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
        t.row(vec![
            serde_json::to_value(o).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            n.to_string(),
        ]);
    }
    if t.is_empty() {
        println!("  nothing to do");
    } else {
        t.print();
    }
    if d.retried_hints > 0 {
        println!("  {} records will be retried later (rate limits, in-doubt writes or busy items)", d.retried_hints);
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

/// The webhook listener's routes (`POST /webhooks/{system}`, `GET /healthz`); `wake` is notified
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
    {
        let (rt, wake) = (rt.clone(), wake.clone());
        tokio::spawn(async move {
            loop {
                match rt.engine.drain(&rt.flows, rt.config.engine.workers).await {
                    Ok(r) if r.hints > 0 => info!(hints = r.hints, "worker pass"),
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "worker pass failed"),
                }
                let _ = tokio::time::timeout(Duration::from_secs(5), wake.notified()).await;
            }
        });
    }

    let app = webhook_app(rt.clone(), wake, Arc::new(IntakeTally::default()));
    eprintln!(
        "mlc serve: webhooks on http://{addr}/webhooks/<system>; {} flows scheduled; Ctrl-C to stop",
        rt.flows.names().count()
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("webhook listener failed")?;
    Ok(())
}
