//! The poller function: one EventBridge Scheduler schedule per flow invokes it with
//! `{"flow": "<name>"}` (the schedule's `Input`). It runs [`Runtime::poll`]: discover what changed
//! since the flow's cursor, enqueue the hints to SQS, and only then move the cursor (page by page,
//! by compare-and-set), so a crash never leaves the cursor past hints that were not enqueued.
//!
//! Also accepted: an EventBridge envelope whose `detail` carries `{"flow": ...}` (a rule with an
//! input transformer, or a test event). Errors are returned to Lambda, so Scheduler's retry policy
//! runs the poll again; a cursor moved by a concurrent poll is not an error (the other poll covered it).

use lambda_runtime::{Error, LambdaEvent};
use mlc_core::EngineError;
use mlc_flows::Runtime;
use serde_json::{Value, json};
use tracing::{info, warn};

/// The flow a scheduler event names.
pub fn flow_of(event: &Value) -> Result<String, String> {
    let direct = event.get("flow").and_then(Value::as_str);
    let detail = event.get("detail").and_then(|d| d.get("flow")).and_then(Value::as_str);
    match direct.or(detail) {
        Some(f) if !f.trim().is_empty() => Ok(f.trim().to_string()),
        _ => Err(format!(
            "poller input names no flow: expected {{\"flow\": \"<name>\"}} (the schedule's Input), got {}",
            truncate(&event.to_string(), 200)
        )),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n { s.to_string() } else { format!("{}...", &s[..s.floor_char_boundary(n)]) }
}

/// Handle one scheduler invocation; the answer is the poll report.
pub async fn handle(rt: &Runtime, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let flow = flow_of(&event.payload)?;
    match rt.poll(&flow).await {
        Ok(report) => {
            info!(flow = %flow, pages = report.pages, hints = report.hints, cursor = ?report.cursor, "poll done");
            Ok(serde_json::to_value(&report)?)
        }
        Err(EngineError::CursorMoved { flow }) => {
            warn!(flow = %flow, "cursor moved by a concurrent poll; its hints were enqueued, nothing lost");
            Ok(json!({"flow": flow, "note": "cursor moved by a concurrent poll"}))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_from_scheduler_input_or_eventbridge_detail() {
        assert_eq!(flow_of(&json!({"flow": "cin7-deltek-ap"})).unwrap(), "cin7-deltek-ap");
        assert_eq!(
            flow_of(&json!({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {"flow": "f"}}))
                .unwrap(),
            "f"
        );
        let e = flow_of(&json!({"detail-type": "Scheduled Event", "detail": {}})).unwrap_err();
        assert!(e.contains("names no flow"), "{e}");
        assert!(flow_of(&json!({"flow": " "})).is_err());
        assert!(flow_of(&json!("x".repeat(1000))).unwrap_err().len() < 400);
    }
}
