//! The poller function: one EventBridge Scheduler schedule ticks it every minute, whatever flows
//! are configured (adding a flow edits the stored configuration, never the template). Each tick:
//!
//! 1. **Polls what is due.** Flows reading the same source (`cin7/purchase`) poll it once between
//!    them; a source is due when the shortest cadence (`every`) of its flows has passed since its
//!    last complete poll, remembered in the store as the cursor `polled#<source>`. Due sources go
//!    most overdue first, each under a named lock (`poll#<source>`, so overlapping ticks never poll
//!    one source twice at once), within the tick's time budget. A poll stops at the budget between
//!    pages ([`mlc_core::Engine::with_poll_deadline`]): a page already listed is enqueued and the
//!    source's cursor moved past it (within `page_grace`), no further page is listed, and the
//!    source stays due, so a long backfill continues on the next tick without listing a page
//!    twice. (Cutting the poll from outside could land between a page's enqueue and its cursor
//!    move; on a slow queue that re-listed pages: a Cin7 call and a page of duplicate hints each.)
//! 2. **Sweeps.** [`mlc_core::Engine::sweep`] re-enqueues every item left `pending`, `in_doubt` or
//!    retryable with no message to move it (lost, dead-lettered, or its worker died), once its
//!    next attempt is more than the grace overdue.
//! 3. **Reports** what it did as JSON (the invocation's result and one log line): polled, not due,
//!    cut short, failed, swept, and the flows that cannot run (their connection has no usable
//!    secret — logged with the fix; every other flow is polled).
//! 4. **Keeps the run ledger** of its polls ([`mlc_core::engine::ledger`]): per flow, the records
//!    listed and what became of each, kept in the store as the flow's last ledger (what
//!    `mlc status --backend aws` prints) and logged; a ledger that does not balance is an error
//!    line naming the records.
//!
//! Input: anything for a tick (Scheduler's `Input`, or an EventBridge envelope). `{"flow": "<name>"}`
//! polls that flow's source now, due or not (an operator's nudge), within the same time budget
//! (cut short, it answers `"cut_short": true` and the next poll goes on from the cursor). A tick returns an error when a
//! due source failed to poll (after the others were polled), so the function's error alarm fires;
//! the next tick tries it again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use lambda_runtime::{Error, LambdaEvent};
use mlc_core::EngineError;
use mlc_core::engine::PollReport;
use mlc_core::engine::ledger::{FlowLedger, LedgerRecorder};
use mlc_core::engine::model::Cursor;
use mlc_flows::Runtime;
use mlc_flows::env::Reloadable;
use serde::Serialize;
use serde_json::Value;
use tracing::{error, info, warn};

/// A flow's cadence when the configuration does not say (the configuration's own default).
pub const DEFAULT_CADENCE: Duration = Duration::from_secs(15 * 60);

/// What a tick may spend.
#[derive(Debug, Clone, Copy)]
pub struct TickOptions {
    /// Time for polls, so the invocation ends before the next tick and within its timeout.
    pub budget: Duration,
    /// How overdue an item's next attempt must be before the sweep re-enqueues it.
    pub sweep_grace: Duration,
    /// How long past `budget` a poll may take to enqueue the page it has already listed and save
    /// its cursor. Polls stop listing at the budget ([`mlc_core::Engine::with_poll_deadline`]); a
    /// poll still busy after this grace is cut off outright (safe: its page is listed again).
    pub page_grace: Duration,
}

impl Default for TickOptions {
    fn default() -> Self {
        TickOptions {
            budget: Duration::from_secs(45),
            sweep_grace: Duration::from_secs(15 * 60),
            page_grace: Duration::from_secs(10),
        }
    }
}

/// One source the tick looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Polled {
    /// The source key (`cin7/purchase`), or the flow's name when it reads on its own.
    pub source: String,
    /// The flow polled for it.
    pub flow: String,
    pub pages: u32,
    pub hints: usize,
    pub cursor: Option<String>,
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub polled: Vec<Polled>,
    /// Sources whose time has not come, with when it does.
    pub not_due: BTreeMap<String, String>,
    /// Sources another poller was polling.
    pub busy: Vec<String>,
    /// Sources cut off by the time budget (their cursor kept its page; due again next tick).
    pub cut_short: Vec<String>,
    pub failed: BTreeMap<String, String>,
    pub swept: usize,
    /// Flows that cannot run, with why.
    pub unavailable: BTreeMap<String, String>,
    /// The run ledger of this tick's polls, per flow.
    pub ledgers: Vec<FlowLedger>,
}

/// A polling unit: a shared source, or a flow that reads on its own.
struct Unit {
    key: String,
    /// A flow that polls it.
    flow: String,
    cadence: Duration,
}

fn units(rt: &Runtime) -> Vec<Unit> {
    let mut by_key: BTreeMap<String, Unit> = BTreeMap::new();
    for flow in rt.flows.names() {
        let cadence = rt.config.flows.get(flow).map_or(DEFAULT_CADENCE, |f| f.every.0);
        let key = rt.flows.source_of(flow).map_or_else(|| flow.to_string(), |s| s.spec().key());
        let u = by_key.entry(key.clone()).or_insert(Unit { key, flow: flow.to_string(), cadence });
        u.cadence = u.cadence.min(cadence);
    }
    by_key.into_values().collect()
}

fn marker(unit: &str) -> String {
    format!("polled#{unit}")
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// Poll one unit under its lock, listing no page after `left` (a report with `cut_short`);
/// `Ok(None)` when another poller holds it, `Err(None)` when it was still enqueueing a page
/// `grace` after that and was cut off outright.
async fn poll_unit(
    rt: &Runtime,
    engine: &mlc_core::Engine,
    unit: &Unit,
    left: Duration,
    grace: Duration,
) -> Result<Option<PollReport>, Option<EngineError>> {
    let now = rt.engine.clock.now();
    let lock = format!("poll#{}", unit.key);
    // Held a little longer than the budget: a poller killed mid-poll frees it soon after.
    let hold = now + chrono_of(left + grace + Duration::from_secs(60));
    match rt.engine.store.try_lock(&lock, &rt.engine.worker, now, hold).await {
        Ok(None) => {}
        Ok(Some(_)) => return Ok(None),
        Err(e) => return Err(Some(e.into())),
    }
    let engine = engine.clone().with_poll_deadline(tokio::time::Instant::now() + left);
    let out = tokio::time::timeout(left + grace, rt.flows.poll(&engine, &unit.flow)).await;
    if let Err(e) = rt.engine.store.unlock(&lock, &rt.engine.worker).await {
        warn!(source = %unit.key, error = %e, "could not release the poll lock; it lapses by itself");
    }
    match out {
        Err(_) => Err(None),
        Ok(Ok(r)) => Ok(Some(r)),
        // Another poll moved the cursor after this one enqueued: nothing lost.
        Ok(Err(EngineError::CursorMoved { flow })) => Ok(Some(PollReport { flow, ..Default::default() })),
        Ok(Err(e)) => Err(Some(e)),
    }
}

/// One tick (see the module docs).
pub async fn tick(rt: &Runtime, opts: &TickOptions) -> TickReport {
    let started = Instant::now();
    let mut report = TickReport {
        unavailable: rt.unavailable.iter().map(|u| (u.flow.clone(), u.reason.clone())).collect(),
        ..Default::default()
    };
    let now = rt.engine.clock.now();
    let recorder = LedgerRecorder::new(now);
    let engine = rt.engine.clone().with_ledger(recorder.clone());
    let mut due: Vec<(Option<DateTime<Utc>>, Unit, Option<String>)> = Vec::new();
    for unit in units(rt) {
        let last = match rt.engine.store.get_cursor(&marker(&unit.key)).await {
            Ok(c) => c,
            Err(e) => {
                report.failed.insert(unit.key.clone(), e.to_string());
                continue;
            }
        };
        let at = last.as_ref().and_then(|c| DateTime::parse_from_rfc3339(&c.value).ok()).map(|t| t.with_timezone(&Utc));
        match at {
            Some(t) if t + chrono_of(unit.cadence) > now => {
                report.not_due.insert(unit.key.clone(), stamp(t + chrono_of(unit.cadence)));
            }
            _ => due.push((at, unit, last.map(|c| c.value))),
        }
    }
    // Never polled first, then the most overdue.
    due.sort_by_key(|(at, _, _)| *at);
    for (_, unit, previous) in due {
        let left = opts.budget.saturating_sub(started.elapsed());
        if left < Duration::from_millis(100) {
            report.cut_short.push(unit.key.clone());
            continue;
        }
        let polled_at = rt.engine.clock.now();
        match poll_unit(rt, &engine, &unit, left, opts.page_grace).await {
            Ok(None) => report.busy.push(unit.key.clone()),
            Ok(Some(r)) if r.cut_short => {
                info!(source = %unit.key, pages = r.pages, hints = r.hints, "poll stopped at the tick's time budget after saving its cursor; it continues next tick");
                report.cut_short.push(unit.key.clone());
            }
            Ok(Some(r)) => {
                let mark =
                    Cursor { flow: marker(&unit.key), value: stamp(polled_at), updated_at: rt.engine.clock.now() };
                if let Err(e) = rt.engine.store.cas_cursor(&mark.flow, previous.as_deref(), &mark).await {
                    warn!(source = %unit.key, error = %e, "polled, but the poll time was not recorded; it polls again next tick");
                }
                report.polled.push(Polled {
                    source: unit.key.clone(),
                    flow: unit.flow.clone(),
                    pages: r.pages,
                    hints: r.hints,
                    cursor: r.cursor,
                });
            }
            Err(None) => {
                warn!(source = %unit.key, "poll cut off while still enqueueing a page past the tick's time budget; its cursor kept its page, which the next tick lists again");
                report.cut_short.push(unit.key.clone());
            }
            Err(Some(e)) => {
                error!(source = %unit.key, flow = %unit.flow, error = %e, "poll failed; the next tick tries again");
                report.failed.insert(unit.key.clone(), e.to_string());
            }
        }
    }
    report.ledgers = keep_ledger(&engine, &recorder, &mut report.failed).await;
    match rt.engine.sweep(opts.sweep_grace).await {
        Ok(s) => {
            if !s.requeued.is_empty() {
                warn!(count = s.requeued.len(), items = ?s.requeued, "swept: items with no message left were queued again");
            }
            report.swept = s.requeued.len();
        }
        Err(e) => {
            error!(error = %e, "sweep failed; the next tick tries again");
            report.failed.insert("sweep".into(), e.to_string());
        }
    }
    report
}

/// Close a ledger: keep each flow's figures in the store, log them, and name any break loudly.
async fn keep_ledger(
    engine: &mlc_core::Engine,
    recorder: &LedgerRecorder,
    failed: &mut BTreeMap<String, String>,
) -> Vec<FlowLedger> {
    match engine.finish_ledger(recorder).await {
        Ok(run) => {
            for l in run.flows.values() {
                if l.balances() {
                    info!(flow = %l.flow, listed = l.records_listed, ledger = %l.equation(), "run ledger");
                } else {
                    error!(flow = %l.flow, listed = l.records_listed, ledger = %l.equation(), unaccounted = ?l.unaccounted, "run ledger does not balance");
                }
            }
            run.flows.into_values().collect()
        }
        Err(e) => {
            error!(error = %e, "the run ledger could not be kept");
            failed.insert("ledger".into(), e.to_string());
            Vec::new()
        }
    }
}

/// The flow an input names for an immediate poll, if it names one.
pub fn flow_of(event: &Value) -> Option<String> {
    let direct = event.get("flow").and_then(Value::as_str);
    let detail = event.get("detail").and_then(|d| d.get("flow")).and_then(Value::as_str);
    direct.or(detail).map(str::trim).filter(|f| !f.is_empty()).map(str::to_string)
}

/// Handle one invocation: a tick, or `{"flow": ...}` polled now. The answer is the report.
pub async fn handle(live: &Reloadable, opts: &TickOptions, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let mut rt = live.current().await;
    if !rt.unavailable.is_empty()
        && let Some(fresh) = live.rebuild("flows unavailable: their connections' secrets may exist by now").await
    {
        rt = fresh;
    }
    if let Some(flow) = flow_of(&event.payload) {
        if rt.flows.get(&flow).is_none() {
            let why = rt.unavailable.iter().find(|u| u.flow == flow).map(|u| u.reason.clone());
            return Err(match why {
                Some(why) => format!("flow {flow} cannot run: {why}"),
                None => format!(
                    "no enabled flow named {flow:?} (enabled: {})",
                    rt.flows.names().collect::<Vec<_>>().join(", ")
                ),
            }
            .into());
        }
        let recorder = LedgerRecorder::new(rt.engine.clock.now());
        let engine = rt
            .engine
            .clone()
            .with_ledger(recorder.clone())
            .with_poll_deadline(tokio::time::Instant::now() + opts.budget);
        // Within the same budget as a tick's polls: a long backfill is cut short (the cursor
        // keeps every page already enqueued) and the next tick or nudge goes on from there.
        let polled = tokio::time::timeout(opts.budget + opts.page_grace, rt.flows.poll(&engine, &flow)).await;
        let polled = match polled {
            Ok(Ok(r)) if r.cut_short => None,
            Ok(p) => Some(p),
            Err(_) => None,
        };
        let Some(polled) = polled else {
            let mut failed = BTreeMap::new();
            let ledgers = keep_ledger(&engine, &recorder, &mut failed).await;
            return Ok(serde_json::json!({
                "flow": flow,
                "cut_short": true,
                "note": format!(
                    "stopped at the poll budget of {} s; the cursor keeps every page whose records were enqueued, and the next poll goes on from there",
                    opts.budget.as_secs()
                ),
                "ledgers": ledgers,
            }));
        };
        let mut failed = BTreeMap::new();
        let ledgers = keep_ledger(&engine, &recorder, &mut failed).await;
        return match polled {
            Ok(r) => {
                let mut v = serde_json::to_value(&r)?;
                v["ledgers"] = serde_json::to_value(&ledgers)?;
                Ok(v)
            }
            Err(EngineError::CursorMoved { flow }) => {
                Ok(serde_json::json!({"flow": flow, "note": "cursor moved by a concurrent poll"}))
            }
            Err(e) => Err(e.into()),
        };
    }
    let report = tick(rt.as_ref(), opts).await;
    info!(
        polled = report.polled.len(),
        hints = report.polled.iter().map(|p| p.hints).sum::<usize>(),
        not_due = report.not_due.len(),
        cut_short = ?report.cut_short,
        failed = ?report.failed,
        swept = report.swept,
        unavailable = ?report.unavailable,
        "tick done"
    );
    if !report.failed.is_empty() {
        let list: Vec<String> = report.failed.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        return Err(format!("tick: {} failed ({}); the rest was done", report.failed.len(), list.join("; ")).into());
    }
    Ok(serde_json::to_value(&report)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_flow_named_in_the_input_or_its_envelope_is_polled_now_anything_else_is_a_tick() {
        assert_eq!(flow_of(&json!({"flow": "cin7-deltek-ap"})).as_deref(), Some("cin7-deltek-ap"));
        assert_eq!(flow_of(&json!({"detail": {"flow": " f "}})).as_deref(), Some("f"));
        assert_eq!(flow_of(&json!({"detail-type": "Scheduled Event", "detail": {}})), None);
        assert_eq!(flow_of(&json!({"tick": "2026-11-02T09:00:00Z"})), None);
        assert_eq!(flow_of(&json!({"flow": " "})), None);
    }
}
