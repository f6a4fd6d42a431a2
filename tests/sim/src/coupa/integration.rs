//! Integration monitoring (`/api/integration_history_records`), scopes `core.integration.read` /
//! `.write` (fact sheet §5): an ERP integration records the outcome of each document it exported
//! (`Success`/`Error`, with response codes and messages), raises alerts, and resolves them.
//!
//! `POST` creates (201), `POST /create_alert` creates with an alert, `PUT /{id}/resolve` resolves.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::model::IntegrationRecord;
use super::state::{ApiError, CoupaState};

const MODEL: &str = "integration_history_record";

/// One record.
pub fn record_json(st: &CoupaState, r: &IntegrationRecord) -> Value {
    let s = st.style();
    json!({
        "id": r.id,
        "created-at": s.dt(r.created_at),
        "updated-at": s.dt(r.updated_at),
        "document-type": r.document_type,
        "document-id": r.document_id,
        "status": r.status,
        "contact-alert-type": r.contact_alert_type,
        "alert": r.alert,
        "resolved": r.resolved,
        "responses": r.responses.iter().map(|(c, m)| json!({"response-code": c, "response-message": m})).collect::<Vec<_>>(),
    })
}

/// Every record, rendered.
pub fn records(st: &CoupaState) -> Vec<Value> {
    st.integration_records.iter().map(|r| record_json(st, r)).collect()
}

fn text(b: &Map<String, Value>, key: &str) -> Option<String> {
    let k2 = key.replace('-', "_");
    b.get(key).or_else(|| b.get(&k2)).map(crate::common::json::scalar_text).filter(|s| !s.trim().is_empty())
}

/// Create from a request body; `alert` for `/create_alert`.
pub fn create(
    st: &mut CoupaState,
    body: &Map<String, Value>,
    alert: bool,
    now: DateTime<Utc>,
) -> Result<i64, ApiError> {
    let mut problems = Vec::new();
    let document_type = text(body, "document-type");
    if document_type.is_none() {
        problems.push("Document type can't be blank".to_string());
    }
    let status = text(body, "status").unwrap_or_else(|| "Success".into());
    if !matches!(status.as_str(), "Success" | "Error") {
        problems.push(format!("Status {status} is not included in the list (Success, Error)"));
    }
    let document_id = match text(body, "document-id") {
        Some(t) => match t.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(format!("Document id {t} is not a number"));
                None
            }
        },
        None => None,
    };
    let mut responses = Vec::new();
    if let Some(Value::Array(items)) = body.get("responses") {
        for r in items {
            let code = r.get("response-code").or_else(|| r.get("response_code")).map(crate::common::json::scalar_text);
            let msg =
                r.get("response-message").or_else(|| r.get("response_message")).map(crate::common::json::scalar_text);
            responses.push((code.unwrap_or_default(), msg.unwrap_or_default()));
        }
    }
    if !problems.is_empty() {
        return Err(ApiError::invalid(MODEL, problems));
    }
    let stamp = CoupaState::stamp(now);
    let id = st.next_id("integration_record");
    st.integration_records.push(IntegrationRecord {
        id,
        document_type: document_type.unwrap_or_default(),
        document_id,
        status,
        contact_alert_type: text(body, "contact-alert-type"),
        responses,
        alert,
        resolved: false,
        created_at: stamp,
        updated_at: stamp,
    });
    Ok(id)
}

/// `PUT /{id}/resolve`.
pub fn resolve(st: &mut CoupaState, id: i64, now: DateTime<Utc>) -> Result<(), ApiError> {
    let nf = ApiError::not_found(&st.switches);
    let r = st.integration_records.iter_mut().find(|r| r.id == id).ok_or(nf)?;
    r.resolved = true;
    r.updated_at = CoupaState::stamp(now);
    Ok(())
}
