//! [`Queue`] on a standard SQS queue with a dead-letter queue.
//!
//! - `enqueue`: SendMessageBatch, 10 per request. The body is the hint as JSON; message
//!   attributes carry `record_key` (flow#system#entity#id), `idempotency_key` (the record key plus
//!   the observed version when the hint has one), `flow` and `origin`, so a person reading the
//!   queue or the DLQ in the console sees what each message is about without decoding bodies.
//! - `receive`: ReceiveMessage (long polling off unless configured) with the lease as the
//!   visibility timeout; `receive_count` is SQS's `ApproximateReceiveCount`.
//! - `ack`: DeleteMessage. `retry_later`: ChangeMessageVisibility (capped at SQS's 12 hours).
//! - `depth`: `ApproximateNumberOf*` of the queue, plus the DLQ's messages as `dead`.
//! - dead letters: the queue's RedrivePolicy (`maxReceiveCount`) moves a message to the DLQ when it
//!   is received once more after its last allowed receive; this adapter does nothing itself.
//!
//! Differences from the embedded queue (and why the conformance suite's collapse checks cannot hold):
//! - **No collapsing.** A standard queue cannot fold a new hint into a waiting one. Duplicates are
//!   harmless: the engine registers each document version once and claims it before any work, so a
//!   second hint for the same record ends as `Duplicate`/`Busy`, or is skipped without a read-back
//!   when its observed version was already processed (on its first receive: a retried message
//!   always reads, see `Engine::settle`). They cost one extra Lambda record each.
//! - **Delayed vs in flight.** A message put back with `retry_later` is "not visible" to SQS, so
//!   `depth()` counts it under `in_flight`; `delayed` only counts messages sent with a delay.
//! - **Stale receipts.** SQS gives each receive a new receipt handle; deleting with an older one is
//!   not guaranteed to be refused by SQS, so the engine never acks a delivery it does not hold.
//! - **Unreadable bodies** (not a hint) are logged and left alone: they come back after the lease
//!   and reach the DLQ after `maxReceiveCount`, where a person can look at them.
//! - **In a Lambda batch** (the poster), the event source mapping deletes what the handler does not
//!   report as failed, so [`SqsQueue::leave_acks_to_lambda`] turns `ack` into a no-op (one SQS
//!   request saved per message) while `retry_later` still sets the visibility for the retry.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName, SendMessageBatchRequestEntry,
};
use mlc_core::engine::model::Hint;
use mlc_core::engine::ports::{Delivery, Queue, QueueDepth, StoreError};
use tracing::warn;

use crate::sdk_error;

/// SQS's longest visibility timeout.
pub const MAX_VISIBILITY: Duration = Duration::from_secs(12 * 3600);

/// The SQS queue. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dlq_url: Option<String>,
    wait_secs: i32,
    ack_deletes: bool,
}

/// The message attributes of a hint (also what the poster reads back for logs).
pub fn hint_attributes(h: &Hint) -> Vec<(&'static str, String)> {
    let rk = h.record_key();
    let idem = match &h.observed_version {
        Some(v) => format!("{rk}#{v}"),
        None => rk.clone(),
    };
    vec![("record_key", rk), ("idempotency_key", idem), ("flow", h.flow.clone()), ("origin", h.origin.as_str().into())]
}

fn secs(d: Duration) -> i32 {
    d.min(MAX_VISIBILITY).as_secs().try_into().unwrap_or(i32::MAX)
}

impl SqsQueue {
    pub fn new(client: Client, queue_url: impl Into<String>, dlq_url: Option<String>) -> Self {
        SqsQueue { client, queue_url: queue_url.into(), dlq_url, wait_secs: 0, ack_deletes: true }
    }

    /// Long-poll `receive` for up to this many seconds (0 = short polling; SQS allows up to 20).
    pub fn with_wait(mut self, secs: u32) -> Self {
        self.wait_secs = secs.min(20) as i32;
        self
    }

    /// For a Lambda SQS batch: `ack` does nothing, because the event source mapping deletes every
    /// record the handler does not report as failed.
    pub fn leave_acks_to_lambda(mut self) -> Self {
        self.ack_deletes = false;
        self
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn dlq_url(&self) -> Option<&str> {
        self.dlq_url.as_deref()
    }

    /// Move every message on the dead-letter queue back to the work queue (`mlc replay
    /// --dead-letters --backend aws`): receive a batch from the DLQ, send the bodies and attributes
    /// to the work queue, then delete them from the DLQ. A crash in between leaves a copy on both
    /// queues, which is harmless: hints are idempotent (the claim and the work item dedupe). Returns
    /// how many were moved.
    pub async fn requeue_dead(&self) -> Result<u64, StoreError> {
        let Some(dlq) = self.dlq_url.clone() else {
            return Err(StoreError::Other(format!(
                "queue {}: no dead-letter queue configured (MLC_DLQ_URL)",
                self.queue_url
            )));
        };
        let mut moved = 0u64;
        loop {
            let resp = self
                .client
                .receive_message()
                .queue_url(&dlq)
                .max_number_of_messages(10)
                .visibility_timeout(60)
                .message_attribute_names("All")
                .send()
                .await
                .map_err(|e| sdk_error(&format!("dead-letter queue {dlq}: receiving"), e))?;
            let msgs = resp.messages();
            if msgs.is_empty() {
                return Ok(moved);
            }
            let mut entries = Vec::with_capacity(msgs.len());
            for (i, m) in msgs.iter().enumerate() {
                let b = SendMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message_body(m.body().unwrap_or_default())
                    .set_message_attributes(m.message_attributes().cloned());
                entries.push(b.build().map_err(|e| StoreError::Other(format!("queue {}: {e}", self.queue_url)))?);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| sdk_error(&format!("queue {}: re-sending dead letters", self.queue_url), e))?;
            let failed: Vec<String> = out.failed().iter().map(|f| f.id().to_string()).collect();
            for (i, m) in msgs.iter().enumerate() {
                if failed.contains(&i.to_string()) {
                    continue;
                }
                let Some(receipt) = m.receipt_handle() else { continue };
                self.client
                    .delete_message()
                    .queue_url(&dlq)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("dead-letter queue {dlq}: deleting a re-sent message"), e))?;
                moved += 1;
            }
            if !failed.is_empty() {
                return Err(StoreError::Unavailable(format!(
                    "queue {}: {} dead letters could not be re-sent and stay on {dlq}; {moved} moved",
                    self.queue_url,
                    failed.len()
                )));
            }
        }
    }

    async fn counts(&self, url: &str) -> Result<HashMap<QueueAttributeName, u64>, StoreError> {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("queue {url}: reading depth"), e))?;
        Ok(out
            .attributes()
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.parse::<u64>().ok()?))).collect())
            .unwrap_or_default())
    }
}

/// A hint from an SQS message body, or why not.
pub fn hint_from_body(body: &str) -> Result<Hint, String> {
    serde_json::from_str(body).map_err(|e| format!("message body is not a hint: {e}"))
}

#[async_trait]
impl Queue for SqsQueue {
    async fn enqueue(&self, hints: &[Hint]) -> Result<(), StoreError> {
        for chunk in hints.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, h) in chunk.iter().enumerate() {
                let body = serde_json::to_string(h).map_err(|e| {
                    StoreError::Other(format!("queue {}: cannot encode hint {}: {e}", self.queue_url, h.record_key()))
                })?;
                let mut b = SendMessageBatchRequestEntry::builder().id(i.to_string()).message_body(body);
                for (name, value) in hint_attributes(h) {
                    let v = MessageAttributeValue::builder()
                        .data_type("String")
                        .string_value(value)
                        .build()
                        .map_err(|e| StoreError::Other(format!("queue {}: {e}", self.queue_url)))?;
                    b = b.message_attributes(name, v);
                }
                entries.push(b.build().map_err(|e| StoreError::Other(format!("queue {}: {e}", self.queue_url)))?);
            }
            let out = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| {
                    let keys: Vec<String> = chunk.iter().map(Hint::record_key).collect();
                    sdk_error(&format!("queue {}: sending {}", self.queue_url, keys.join(", ")), e)
                })?;
            if !out.failed().is_empty() {
                let detail: Vec<String> = out
                    .failed()
                    .iter()
                    .map(|f| {
                        let key = f.id().parse::<usize>().ok().and_then(|i| chunk.get(i)).map(Hint::record_key);
                        format!(
                            "{} ({}: {})",
                            key.unwrap_or_else(|| f.id().to_string()),
                            f.code(),
                            f.message().unwrap_or("")
                        )
                    })
                    .collect();
                let msg = format!("queue {}: not sent: {}", self.queue_url, detail.join("; "));
                // Hints are idempotent, so re-sending the whole chunk later is safe.
                return Err(if out.failed().iter().all(|f| !f.sender_fault()) {
                    StoreError::Unavailable(msg)
                } else {
                    StoreError::Other(msg)
                });
            }
        }
        Ok(())
    }

    async fn receive(&self, max: usize, lease: Duration) -> Result<Vec<Delivery>, StoreError> {
        let mut out = Vec::new();
        while out.len() < max {
            let want = (max - out.len()).min(10) as i32;
            let resp = self
                .client
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(want)
                .visibility_timeout(secs(lease))
                .wait_time_seconds(if out.is_empty() { self.wait_secs } else { 0 })
                .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
                .send()
                .await
                .map_err(|e| sdk_error(&format!("queue {}: receiving", self.queue_url), e))?;
            let msgs = resp.messages();
            if msgs.is_empty() {
                break;
            }
            for m in msgs {
                let (Some(receipt), Some(body)) = (m.receipt_handle(), m.body()) else { continue };
                match hint_from_body(body) {
                    Ok(hint) => {
                        let receive_count = m
                            .attributes()
                            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                            .and_then(|c| c.parse().ok())
                            .unwrap_or(1);
                        out.push(Delivery { receipt: receipt.to_string(), hint, receive_count });
                    }
                    Err(e) => warn!(
                        queue = %self.queue_url,
                        message_id = m.message_id().unwrap_or(""),
                        error = %e,
                        "unreadable message left for the dead-letter queue"
                    ),
                }
            }
        }
        Ok(out)
    }

    async fn ack(&self, d: &Delivery) -> Result<(), StoreError> {
        if !self.ack_deletes {
            return Ok(());
        }
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(&d.receipt)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("queue {}: deleting hint {}", self.queue_url, d.hint.record_key()), e))?;
        Ok(())
    }

    async fn retry_later(&self, d: &Delivery, delay: Duration) -> Result<(), StoreError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(&d.receipt)
            .visibility_timeout(secs(delay))
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    &format!(
                        "queue {}: delaying hint {} by {} s",
                        self.queue_url,
                        d.hint.record_key(),
                        delay.as_secs()
                    ),
                    e,
                )
            })?;
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        let c = self.counts(&self.queue_url).await?;
        let get = |m: &HashMap<QueueAttributeName, u64>, k: QueueAttributeName| m.get(&k).copied().unwrap_or(0);
        let dead = match &self.dlq_url {
            Some(url) => {
                let d = self.counts(url).await?;
                get(&d, QueueAttributeName::ApproximateNumberOfMessages)
                    + get(&d, QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            }
            None => 0,
        };
        Ok(QueueDepth {
            ready: get(&c, QueueAttributeName::ApproximateNumberOfMessages),
            in_flight: get(&c, QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
            delayed: get(&c, QueueAttributeName::ApproximateNumberOfMessagesDelayed),
            dead,
        })
    }
}
