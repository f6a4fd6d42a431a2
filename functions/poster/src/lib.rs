//! The poster function: an SQS event source mapping hands it batches of hints
//! (`FunctionResponseTypes: [ReportBatchItemFailures]`); each record runs the engine's whole
//! pipeline through [`Runtime::settle`]: read back → claim → map → look up → create → record.
//! The records of a batch run concurrently.
//!
//! How each record ends:
//! - done (posted, skipped, duplicate, needs mapping, or failed *permanently* — recorded on the
//!   work item for a person, and replayable): not reported, so Lambda deletes the message;
//! - retryable (`HintReport::retry_after`: rate limit, 5xx, busy claim, in-doubt settle wait): the
//!   engine has already set the message's visibility timeout to the retry delay (the queue
//!   adapter's `retry_later`, `ChangeMessageVisibility`), and the record is reported in
//!   `batchItemFailures`, so Lambda leaves it on the queue and it comes back after exactly that
//!   delay. After `maxReceiveCount` receives SQS moves it to the DLQ (alarmed);
//! - engine/store error, or a body that is not a hint: reported (retried; a poison message ends
//!   in the DLQ).
//!
//! **Waiting without holding the worker.** Calls wait in process only for a reserved budget slot
//! within the function's wait cap (`HomeLimits::max_wait`, from its timeout); anything longer — a
//! budget with no room, a vendor's 429 with a long `Retry-After`, a system that does not answer —
//! comes back to the engine as a retryable error with its delay, and the message goes back to the
//! queue with that visibility delay. When a shared budget refused a record, the poster writes
//! "waiting for <budget> until T" on each of its items (the budget adapter notes every refusal
//! made while the record ran: [`mlc_aws::budget::refusals`]).
//!
//! **Isolation.** One queue serves every flow, so one slow system must not hold the others up. A
//! record whose source connection is refused by its budget, or that does not answer (read-backs
//! of [`DOWN_AFTER`] records in a row failed after the kit's retries), *gates* that connection in
//! this container until the wait is over: further records of that connection are handed back at once with that delay (one
//! `ChangeMessageVisibility`, no store writes, no attempt counted), and the batch's other records
//! go on. When the gate ends, one record is the probe: while a connection counts as not
//! answering, the other records of that connection in this container are handed back for
//! [`PROBE_WAIT`] while the probe is in flight (a per-connection lock), then meet the gate it
//! closed again or run — so a down system costs one read-back per gate period per container, not
//! one per record, and no batch waits on a probe. Each probe that still finds the connection down
//! doubles the gate ([`FIRST_DOWN_GATE`] up to [`MAX_DOWN_GATE`]): an outage of length T costs
//! about log2(T) probes per container (then one per [`MAX_DOWN_GATE`]), spread over the waiting
//! records. A probe spends its record's attempt (a record that runs out is left failed for a
//! person to replay); a gate is never shorter than the probe's own retry delay, so no record is
//! probed sooner than its backoff would retry it. Records handed back spend none.
//!
//! A handed-back record still counts a receive on SQS, and a long outage would walk it to the
//! dead-letter queue (and raise its alarm) with nothing wrong with the record. So a record that
//! waits on its connection (handed back unrun, or run as the probe of a source that still does not
//! answer, or refused by its budget) on its last receives before `maxReceiveCount`
//! ([`Poster::with_max_receives`]) is *renewed* instead: a fresh copy of its hint is enqueued and
//! the old message deleted; the copy meets the same gate and waits again, its receive count
//! starting over. The item keeps its attempts. A record failing on its own keeps its receive
//! count and still reaches the DLQ.
//!
//! **The invocation's deadline.** Lambda kills a function at its timeout, mid-call, and a killed
//! container answers nothing: every record of the batch comes back after the visibility timeout
//! and the container starts cold. So each record works against the deadline Lambda gives the
//! invocation ([`Cutoff`]): a record still running a margin before the deadline (a tenth of the
//! invocation's time, at least [`DEADLINE_MARGIN`]) is stopped where it stands and reported for
//! retry; waits in process (budget, backoff) are slept only if the call after them can end a
//! margin before that ([`mlc_http::finish_by`]); and the batch's ledger is kept only while there
//! is time (a second before the deadline; the items hold their outcomes anyway), so the batch
//! answers in time even when the store is slow. A record stopped mid-post is what the engine
//! already survives from a crash: its claim is in doubt and the next attempt looks before it posts.
//!
//! **Credentials.** The runtime is built once per container ([`Reloadable`]). A record failing
//! because a system rejected the credentials (a rotated secret), or naming a flow that is
//! unavailable because its connection had no secret at start, makes the poster rebuild the runtime
//! — every secret read again — at most once per `SECRET_REREAD_INTERVAL`, and run those records
//! again.
//!
//! **Run ledger.** Each batch is one run of [`mlc_core::engine::ledger`]: per flow, the records
//! worked and what became of each document, kept in the store as the flow's last ledger and
//! logged; a ledger that does not balance is an error line naming the records.
//!
//! The queue adapter is built with `leave_acks_to_lambda`: Lambda deletes the successful records
//! itself, so the engine's `ack` costs no request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use chrono::{DateTime, Utc};
use lambda_runtime::{Error, LambdaEvent};
use mlc_aws::budget::refusals::{self, Refusal};
use mlc_aws::sqs::hint_from_body;
use mlc_core::Engine;
use mlc_core::engine::ledger::LedgerRecorder;
use mlc_core::engine::model::{AuditEntry, FailureClass, codes};
use mlc_core::engine::ports::Delivery;
use mlc_core::engine::{DocOutcome, HintReport};
use mlc_flows::Runtime;
use mlc_flows::env::Reloadable;
use tracing::{Instrument, error, info, info_span, warn};

/// The longest a connection is gated for not answering: the next record probes it after this.
pub const MAX_DOWN_GATE: Duration = Duration::from_secs(300);
/// The gate after the first probe of a connection that still does not answer; each further failed
/// probe doubles it (up to [`MAX_DOWN_GATE`]), so an outage of length T costs about log2(T) probes
/// in a container, not T / (a record's retry delay), spread over the waiting records.
pub const FIRST_DOWN_GATE: Duration = Duration::from_secs(1);
/// Read-backs of one connection failing in a row (no success between) before it counts as not
/// answering: one record's trouble does not hold the others back.
pub const DOWN_AFTER: u32 = 2;
/// How long a record waits while another record probes its connection.
pub const PROBE_WAIT: Duration = Duration::from_secs(5);
/// How long a message of a flow that cannot run (its connection has no secret) waits before it
/// is looked at again.
pub const UNAVAILABLE_RETRY: Duration = Duration::from_secs(900);

/// The least margin before the invocation's deadline at which the poster stops records still
/// running (time to keep the ledger and answer); waits end a margin before that again. The margin
/// is a tenth of the invocation's time when that is longer (12 s of a 120 s timeout).
pub const DEADLINE_MARGIN: Duration = Duration::from_secs(5);

/// When an invocation stops its records, ends waits, and must have answered.
#[derive(Debug, Clone, Copy)]
pub struct Cutoff {
    pub end_waits: tokio::time::Instant,
    pub stop_records: tokio::time::Instant,
    pub answer_by: tokio::time::Instant,
}

/// What one record came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Done,
    Retry,
    /// Retry, and the cause looks like rejected credentials.
    RetryAuth,
    /// Handed back unrun: its connection is gated (budget without room, or not answering).
    Deferred,
    /// Handed back unrun: its flow cannot run (its connection has no usable secret).
    Unavailable,
    Error(String),
}

/// Why a connection is gated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    pub until: DateTime<Utc>,
    /// `the rate budget <name>` or `<connection> to answer`.
    pub waiting_for: String,
}

/// The poster's state: the runtime (rebuilt after a credential rotation) and the gates.
pub struct Poster {
    live: Reloadable,
    gates: Mutex<HashMap<String, Gate>>,
    /// Read-back failures in a row, per connection.
    failing: Mutex<HashMap<String, u32>>,
    /// One probe at a time per connection that counts as not answering.
    probes: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Probes in a row that met a connection still not answering (the gate doubles with each).
    failed_probes: Mutex<HashMap<String, u32>>,
    /// The queue's `maxReceiveCount`, when known: records handed back unrun are renewed before it.
    max_receives: Option<u32>,
}

impl Poster {
    pub fn new(live: Reloadable) -> Self {
        Poster {
            live,
            gates: Mutex::new(HashMap::new()),
            failing: Mutex::new(HashMap::new()),
            probes: Mutex::new(HashMap::new()),
            failed_probes: Mutex::new(HashMap::new()),
            max_receives: None,
        }
    }

    /// The queue's `maxReceiveCount` (`MLC_MAX_RECEIVES`): a record handed back unrun on one of
    /// its last two receives is renewed rather than walked to the dead-letter queue.
    pub fn with_max_receives(mut self, max_receives: Option<u32>) -> Self {
        self.max_receives = max_receives;
        self
    }

    /// Whether a record handed back now would reach the dead-letter queue within two receives.
    fn near_dead_letter(&self, d: &Delivery) -> bool {
        self.max_receives.is_some_and(|n| d.receive_count.saturating_add(2) > n)
    }

    /// Whether a connection counts as not answering (its last [`DOWN_AFTER`] read-backs failed).
    fn not_answering(&self, connection: &str) -> bool {
        let m = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        m.get(connection).is_some_and(|n| *n >= DOWN_AFTER)
    }

    fn probe_lock(&self, connection: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut m = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(connection.to_string()).or_default().clone()
    }

    /// Count a read-back failure (`true`) or success of a connection; the failures in a row.
    fn note_read(&self, connection: &str, failed: bool) -> u32 {
        let mut m = self.failing.lock().unwrap_or_else(|p| p.into_inner());
        if failed {
            let n = m.entry(connection.to_string()).or_default();
            *n += 1;
            *n
        } else {
            m.remove(connection);
            drop(m);
            self.failed_probes.lock().unwrap_or_else(|p| p.into_inner()).remove(connection);
            0
        }
    }

    /// How long to gate a connection that still does not answer. A probe that failed doubles the
    /// gate of the one before ([`FIRST_DOWN_GATE`], 2×, 4×, … up to [`MAX_DOWN_GATE`]); the
    /// records that found the connection down before any probe (a batch running at once) close
    /// the first gate and grow nothing. Never shorter than the record's own retry delay.
    fn down_gate(&self, connection: &str, was_probe: bool, retry_after: Option<Duration>) -> Duration {
        let streak = if was_probe {
            let mut m = self.failed_probes.lock().unwrap_or_else(|p| p.into_inner());
            let n = m.entry(connection.to_string()).or_default();
            *n = n.saturating_add(1);
            *n
        } else {
            0
        };
        let grown = FIRST_DOWN_GATE.saturating_mul(1u32 << streak.min(16));
        grown.max(retry_after.unwrap_or(Duration::ZERO)).min(MAX_DOWN_GATE)
    }

    pub async fn runtime(&self) -> Arc<Runtime> {
        self.live.current().await
    }

    /// The gate on a connection, if one holds at `now`.
    pub fn gate(&self, connection: &str, now: DateTime<Utc>) -> Option<Gate> {
        let gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        gates.get(connection).filter(|g| g.until > now).cloned()
    }

    fn close_gate_until(&self, connection: &str, gate: Gate) {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        let keep = gates.get(connection).is_some_and(|g| g.until >= gate.until);
        if !keep {
            gates.insert(connection.to_string(), gate);
        }
    }
}

/// A delivery from an SQS record (the receipt handle is the lease).
pub fn delivery_of(m: &SqsMessage) -> Result<Delivery, String> {
    let receipt = m.receipt_handle.clone().ok_or("record has no receipt handle")?;
    let hint = hint_from_body(m.body.as_deref().unwrap_or(""))?;
    let receive_count = m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
    Ok(Delivery { receipt, hint, receive_count })
}

fn until(now: DateTime<Utc>, then: DateTime<Utc>) -> Duration {
    (then - now).to_std().unwrap_or(Duration::ZERO)
}

/// Whether a retry was caused by rejected credentials. The engine reports auth failures as
/// retryable with its `auth_retry` delay (read-back) or with the `credentials` code on the item
/// (later steps); it has no separate outcome for them.
async fn auth_suspected(rt: &Runtime, report: &HintReport) -> bool {
    if report.retry_after.is_none() {
        return false;
    }
    for (key, outcome) in &report.docs {
        if *outcome == DocOutcome::FailedRetryable
            && let Ok(Some(item)) = rt.engine.store.get_item(key).await
            && item.failure == Some(FailureClass::Retryable)
            && item.code.as_deref() == Some(codes::CREDENTIALS)
        {
            return true;
        }
    }
    report.docs.is_empty() && report.retry_after == Some(rt.engine.config.auth_retry)
}

/// Whether the record's source did not answer: its read-back failed (after the kit's retries)
/// with a retryable error. Read-back failures leave an item whose version is `unread`.
async fn source_down(rt: &Runtime, report: &HintReport) -> bool {
    for (key, outcome) in &report.docs {
        if *outcome == DocOutcome::FailedRetryable
            && key.as_str().ends_with("#unread")
            && let Ok(Some(item)) = rt.engine.store.get_item(key).await
            && item.code.as_deref() == Some(codes::READ_FAILED)
        {
            return true;
        }
    }
    false
}

/// Hand a record back unrun for `delay` (its message becomes visible again then), or — near its
/// queue's `maxReceiveCount` — renew it: a fresh copy of its hint goes on the queue and the record
/// counts as done, so Lambda deletes the old message.
async fn hand_back(
    poster: &Poster,
    rt: &Runtime,
    d: &Delivery,
    delay: Duration,
    unrun: RecordOutcome,
) -> RecordOutcome {
    if poster.near_dead_letter(d) {
        return renew(rt, d).await;
    }
    match rt.engine.queue.retry_later(d, delay.max(Duration::from_secs(1))).await {
        Ok(()) => unrun,
        Err(e) => RecordOutcome::Error(e.to_string()),
    }
}

/// Renew a record near its queue's `maxReceiveCount`: a fresh copy of its hint goes on the queue
/// and the record counts as done, so Lambda deletes the old message.
async fn renew(rt: &Runtime, d: &Delivery) -> RecordOutcome {
    match rt.engine.queue.enqueue(std::slice::from_ref(&d.hint)).await {
        Ok(()) => {
            info!(
                receive = d.receive_count,
                "waiting on its connection near maxReceiveCount: renewed as a fresh message"
            );
            RecordOutcome::Done
        }
        Err(e) => RecordOutcome::Error(e.to_string()),
    }
}

async fn run_record(poster: &Poster, rt: &Runtime, engine: &Engine, m: &SqsMessage) -> RecordOutcome {
    let d = match delivery_of(m) {
        Ok(d) => d,
        Err(e) => {
            warn!(message_id = m.message_id.as_deref().unwrap_or(""), error = %e, "unreadable record; left for the DLQ");
            return RecordOutcome::Error(e);
        }
    };
    let connection = d.hint.system.clone();
    let span = info_span!("record", flow = %d.hint.flow, source = %d.hint.source, system = %connection, record = %d.hint.id, receive = d.receive_count);
    async {
        // A connection that did not answer is probed by one record at a time; the others are
        // handed back for a few seconds, to meet the gate the probe closes again or to run.
        let probing = if poster.not_answering(&connection) {
            match poster.probe_lock(&connection).try_lock_owned() {
                Ok(guard) => Some(guard),
                Err(_) => {
                    info!("a probe of this connection is in flight: handed back unrun");
                    return hand_back(poster, rt, &d, PROBE_WAIT, RecordOutcome::Deferred).await;
                }
            }
        } else {
            None
        };
        let now = rt.engine.clock.now();
        if let Some(g) = poster.gate(&connection, now) {
            let wait = until(now, g.until);
            info!(waiting_for = %g.waiting_for, until = %g.until, "connection gated: handed back unrun");
            return hand_back(poster, rt, &d, wait, RecordOutcome::Deferred).await;
        }
        let known = rt.flows.source(&d.hint.source).is_some() || rt.flows.get(&d.hint.flow).is_some();
        if !known && !rt.unavailable.is_empty() {
            let why: Vec<String> = rt.unavailable.iter().map(|u| format!("{}: {}", u.flow, u.reason)).collect();
            warn!(unavailable = %why.join("; "), retry_in_s = UNAVAILABLE_RETRY.as_secs(), "record of a flow that cannot run; kept on the queue");
            return hand_back(poster, rt, &d, UNAVAILABLE_RETRY, RecordOutcome::Unavailable).await;
        }
        if probing.is_some() {
            info!("probing a connection that did not answer");
        }
        let (settled, refused) = refusals::watch(engine.settle(&rt.flows, &d)).await;
        let report = match settled {
            Ok(r) => r,
            Err(e) => {
                warn!(error = %e, "engine error; retried");
                return RecordOutcome::Error(e.to_string());
            }
        };
        if report.retry_after.is_none() {
            poster.note_read(&connection, false);
            info!(docs = ?report.docs, note = ?report.note, "settled");
            return RecordOutcome::Done;
        }
        info!(docs = ?report.docs, retry_after = ?report.retry_after, note = ?report.note, "retry later");
        // Whether the record waits on its connection (a budget without room, a source that does
        // not answer) rather than on trouble of its own.
        let mut waits_on_connection = true;
        if let Some(first) = refused.iter().min_by_key(|r| r.until) {
            note_budget_wait(rt, &report, &refused).await;
            poster.close_gate_until(
                &connection,
                Gate { until: first.until, waiting_for: format!("the rate budget {}", first.budget) },
            );
        } else if !source_down(rt, &report).await {
            poster.note_read(&connection, false);
            waits_on_connection = false;
        } else if poster.note_read(&connection, true) >= DOWN_AFTER {
            let wait = poster.down_gate(&connection, probing.is_some(), report.retry_after);
            let until = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::zero());
            warn!(until = %until, "the source did not answer: its records wait in this container until then");
            poster.close_gate_until(&connection, Gate { until, waiting_for: format!("{connection} to answer") });
        }
        if auth_suspected(rt, &report).await {
            return RecordOutcome::RetryAuth;
        }
        if waits_on_connection && poster.near_dead_letter(&d) {
            // The engine has set the message's delay; a fresh copy waits instead, its receive
            // count starting over (the item keeps its attempts: they still end the wait).
            return renew(rt, &d).await;
        }
        RecordOutcome::Retry
    }
    .instrument(span)
    .await
}

/// "waiting for <budget> until T" on each item a budget refusal held back.
async fn note_budget_wait(rt: &Runtime, report: &HintReport, refused: &[Refusal]) {
    let mut seen = std::collections::BTreeSet::new();
    let waits: Vec<String> = refused
        .iter()
        .filter(|r| seen.insert(r.budget.clone()))
        .map(|r| format!("waiting for {} until {}", r.budget, r.until.format("%Y-%m-%d %H:%M:%S UTC")))
        .collect();
    let message = waits.join("; ");
    for (key, outcome) in &report.docs {
        if !matches!(outcome, DocOutcome::FailedRetryable | DocOutcome::Busy) {
            continue;
        }
        let mut entry =
            AuditEntry::new(rt.engine.clock.now(), &rt.engine.worker, "waiting_for_budget", message.clone());
        if let Ok(Some(item)) = rt.engine.store.get_item(key).await {
            entry.from = Some(item.state);
            entry.attempt = item.attempts;
        }
        if let Err(e) = rt.engine.store.append_audit(key, entry).await {
            warn!(item = %key, error = %e, "could not note the budget wait on the item");
        }
    }
}

/// Handle one SQS batch; the answer lists the records to keep (retry), by message id.
pub async fn handle(poster: &Poster, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let records = event.payload.records;
    let deadline = cutoff(&event.context);
    let rt = poster.runtime().await;
    let recorder = LedgerRecorder::new(rt.engine.clock.now());
    let engine = rt.engine.clone().with_ledger(recorder.clone());
    let mut outcomes = run_all(poster, &rt, &engine, &records, deadline).await;
    let stale = outcomes.contains(&RecordOutcome::RetryAuth);
    if stale && let Some(fresh) = poster.live.rebuild("a system rejected the credentials").await {
        let engine = fresh.engine.clone().with_ledger(recorder.clone());
        for (i, m) in records.iter().enumerate() {
            if outcomes[i] == RecordOutcome::RetryAuth {
                outcomes[i] = run_in_time(poster, &fresh, &engine, m, deadline).await;
            }
        }
    }
    match deadline {
        Some(c) => {
            if tokio::time::timeout_at(c.answer_by, keep_ledger(&engine, &recorder)).await.is_err() {
                warn!("the batch ledger was not kept before the invocation's deadline; the items hold their outcomes");
            }
        }
        None => keep_ledger(&engine, &recorder).await,
    }
    if outcomes.contains(&RecordOutcome::Unavailable) {
        // The connection's secret may exist by now: the next batch finds out.
        let _ = poster.live.rebuild("a record of an unavailable flow").await;
    }
    let mut resp = SqsBatchResponse::default();
    for (m, o) in records.iter().zip(&outcomes) {
        if *o != RecordOutcome::Done {
            match m.message_id.as_deref().filter(|id| !id.is_empty()) {
                Some(id) => resp.add_failure(id),
                // Lambda fails the whole batch on an empty identifier; so do we, explicitly.
                None => return Err("an SQS record without a message id cannot be reported; failing the batch".into()),
            }
        }
    }
    Ok(resp)
}

async fn run_all(
    poster: &Poster,
    rt: &Runtime,
    engine: &Engine,
    records: &[SqsMessage],
    deadline: Option<Cutoff>,
) -> Vec<RecordOutcome> {
    futures::future::join_all(records.iter().map(|m| run_in_time(poster, rt, engine, m, deadline))).await
}

/// The invocation's [`Cutoff`] from the deadline Lambda gave it (none in a test's default
/// context, whose deadline is 0).
pub fn cutoff(context: &lambda_runtime::Context) -> Option<Cutoff> {
    if context.deadline == 0 {
        return None;
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let left = Duration::from_millis(context.deadline.saturating_sub(now_ms));
    let margin = (left / 10).max(DEADLINE_MARGIN);
    let now = tokio::time::Instant::now();
    Some(Cutoff {
        end_waits: now + left.saturating_sub(margin * 2),
        stop_records: now + left.saturating_sub(margin),
        answer_by: now + left.saturating_sub(Duration::from_secs(1)),
    })
}

/// [`run_record`] within the invocation's time: its waits end at [`Cutoff::end_waits`], and it is
/// stopped at [`Cutoff::stop_records`] (reported for retry; the message comes back after its
/// visibility timeout).
async fn run_in_time(
    poster: &Poster,
    rt: &Runtime,
    engine: &Engine,
    m: &SqsMessage,
    deadline: Option<Cutoff>,
) -> RecordOutcome {
    let Some(c) = deadline else {
        return run_record(poster, rt, engine, m).await;
    };
    match tokio::time::timeout_at(c.stop_records, mlc_http::finish_by(c.end_waits, run_record(poster, rt, engine, m)))
        .await
    {
        Ok(outcome) => outcome,
        Err(_) => {
            warn!(
                message_id = m.message_id.as_deref().unwrap_or(""),
                "the invocation's time ran out before this record finished: stopped and left on the queue \
                 (a post it had sent is in doubt and is looked up before the next attempt posts)"
            );
            RecordOutcome::Retry
        }
    }
}

/// Close the batch's ledger: each flow's figures kept in the store and logged, a break loudly.
async fn keep_ledger(engine: &Engine, recorder: &LedgerRecorder) {
    match engine.finish_ledger(recorder).await {
        Ok(run) => {
            for l in run.flows.values() {
                if l.balances() {
                    info!(flow = %l.flow, ledger = %l.equation(), "batch ledger");
                } else {
                    error!(flow = %l.flow, ledger = %l.equation(), unaccounted = ?l.unaccounted, "batch ledger does not balance");
                }
            }
        }
        Err(e) => warn!(error = %e, "the batch ledger could not be kept; the items hold their outcomes"),
    }
}
