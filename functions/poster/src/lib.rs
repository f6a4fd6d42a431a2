//! The poster function: an SQS event source mapping hands it batches of hints
//! (`FunctionResponseTypes: [ReportBatchItemFailures]`); each record runs the engine's whole
//! pipeline through [`Runtime::settle`]: claim → read back → map → look up → create → record.
//!
//! How each record ends:
//! - done (posted, skipped, duplicate, needs mapping, or failed *permanently* — recorded on the
//!   work item for a person, and replayable): not reported, so Lambda deletes the message;
//! - retryable (`HintReport::retry_after`: rate limit, 5xx, busy claim, in-doubt settle wait): the
//!   engine has already set the message's visibility timeout to the retry delay (through the
//!   queue adapter's `retry_later`), and the record is reported in `batchItemFailures`, so Lambda
//!   leaves it on the queue and it comes back after exactly that delay. (Reporting alone would
//!   bring it back after the queue's default visibility; setting the visibility alone would let
//!   Lambda delete it.) After `maxReceiveCount` receives SQS moves it to the DLQ (alarmed);
//! - engine/store error, or a body that is not a hint: reported (retried; a poison message ends
//!   in the DLQ).
//!
//! The queue adapter is built with `leave_acks_to_lambda`: Lambda deletes the successful records
//! itself, so the engine's `ack` costs no request.
//!
//! Credentials: read once per container (cached by the secret store). When a record fails because
//! a system rejected the credentials (rotated secret), the poster rebuilds its runtime once per
//! batch — re-reading every secret — and runs those records again with the new one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::{Error, LambdaEvent};
use mlc_aws::sqs::hint_from_body;
use mlc_core::engine::model::FailureClass;
use mlc_core::engine::ports::Delivery;
use mlc_core::engine::{DocOutcome, HintReport};
use mlc_flows::{BuildError, Runtime};
use tokio::sync::RwLock;
use tracing::{Instrument, info, info_span, warn};

/// Rebuilds the runtime with freshly read credentials.
pub type Rebuild = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Runtime, BuildError>> + Send>> + Send + Sync>;

/// What one record came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    Done,
    Retry,
    /// Retry, and the cause looks like rejected credentials.
    RetryAuth,
    Error(String),
}

/// The poster's state: the runtime (replaceable after a credential rotation) and how to rebuild it.
pub struct Poster {
    runtime: RwLock<Arc<Runtime>>,
    rebuild: Option<Rebuild>,
}

impl Poster {
    pub fn new(runtime: Runtime, rebuild: Option<Rebuild>) -> Self {
        Poster { runtime: RwLock::new(Arc::new(runtime)), rebuild }
    }

    pub async fn runtime(&self) -> Arc<Runtime> {
        self.runtime.read().await.clone()
    }
}

/// A delivery from an SQS record (the receipt handle is the lease).
pub fn delivery_of(m: &SqsMessage) -> Result<Delivery, String> {
    let receipt = m.receipt_handle.clone().ok_or("record has no receipt handle")?;
    let hint = hint_from_body(m.body.as_deref().unwrap_or(""))?;
    let receive_count = m.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
    Ok(Delivery { receipt, hint, receive_count })
}

/// Whether a retry was caused by rejected credentials. The engine reports auth failures as
/// retryable with its `auth_retry` delay (read-back) or with "credentials rejected" in the item's
/// reason (later steps); it has no separate outcome for them.
async fn auth_suspected(rt: &Runtime, report: &HintReport) -> bool {
    if report.retry_after.is_none() {
        return false;
    }
    if report.docs.is_empty() {
        return report.retry_after == Some(rt.engine.config.auth_retry);
    }
    for (key, outcome) in &report.docs {
        if *outcome == DocOutcome::FailedRetryable
            && let Ok(Some(item)) = rt.engine.store.get_item(key).await
            && item.failure == Some(FailureClass::Retryable)
            && item.reason.as_deref().is_some_and(|r| r.contains("credentials rejected"))
        {
            return true;
        }
    }
    false
}

async fn run_record(rt: &Runtime, m: &SqsMessage) -> RecordOutcome {
    let d = match delivery_of(m) {
        Ok(d) => d,
        Err(e) => {
            warn!(message_id = m.message_id.as_deref().unwrap_or(""), error = %e, "unreadable record; left for the DLQ");
            return RecordOutcome::Error(e);
        }
    };
    let span = info_span!("record", flow = %d.hint.flow, system = %d.hint.system, record = %d.hint.id, receive = d.receive_count);
    async {
        match rt.settle(&d).await {
            Ok(report) if report.retry_after.is_none() => {
                info!(docs = ?report.docs, note = ?report.note, "settled");
                RecordOutcome::Done
            }
            Ok(report) => {
                info!(docs = ?report.docs, retry_after = ?report.retry_after, note = ?report.note, "retry later");
                if auth_suspected(rt, &report).await { RecordOutcome::RetryAuth } else { RecordOutcome::Retry }
            }
            Err(e) => {
                warn!(error = %e, "engine error; retried");
                RecordOutcome::Error(e.to_string())
            }
        }
    }
    .instrument(span)
    .await
}

/// Handle one SQS batch; the answer lists the records to keep (retry), by message id.
pub async fn handle(poster: &Poster, event: LambdaEvent<SqsEvent>) -> Result<SqsBatchResponse, Error> {
    let records = event.payload.records;
    let rt = poster.runtime().await;
    let mut outcomes = futures_join(&rt, &records).await;
    if outcomes.contains(&RecordOutcome::RetryAuth)
        && let Some(rebuild) = &poster.rebuild
    {
        match rebuild().await {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                *poster.runtime.write().await = fresh.clone();
                warn!("credentials rejected: runtime rebuilt with re-read secrets; running those records again");
                for (i, m) in records.iter().enumerate() {
                    if outcomes[i] == RecordOutcome::RetryAuth {
                        outcomes[i] = run_record(&fresh, m).await;
                    }
                }
            }
            Err(e) => warn!(error = %e, "credentials rejected and the runtime could not be rebuilt"),
        }
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

async fn futures_join(rt: &Runtime, records: &[SqsMessage]) -> Vec<RecordOutcome> {
    futures::future::join_all(records.iter().map(|m| run_record(rt, m))).await
}
