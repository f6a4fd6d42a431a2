//! Procore webhooks as a [`WebhookSource`] for system `procore` (fact sheet §9).
//!
//! **Verify.** Procore signs nothing; the only sender authentication is the `Authorization`
//! header configured on the hook. The shared [`AuthorizationHeader`] scheme compares the whole
//! value in constant time with the credential `webhook_authorization` (or, during a rotation,
//! `webhook_authorization_previous`) before anything reads the body.
//!
//! **Parse.** Payloads carry ids only, so every event is a hint the poster reads back. Shapes
//! `v2.0` (numeric ids, `event_type`, `resource_name`), `v3.0` (+ `related_resources`, the parent
//! of a line-item event) and `v4.0` (string ids, `reason`, `resource_type`) are all read; event
//! ids above 2^53 are kept exact. A body may hold one event or an array.
//!
//! | resource | entity | hint id |
//! |---|---|---|
//! | `Direct Costs` (and `Direct Cost Line Items` with a parent) | `direct-cost` | `<project>/<id>` |
//! | `Work Order Contracts` (+ line items with a parent) | `work-order-contract` | `<project>/<id>` |
//! | `Purchase Order Contracts` (+ line items with a parent) | `purchase-order-contract` | `<project>/<id>` |
//! | `Change Order Packages` | `change-order` | `<project>/<id>` |
//! | `Requisitions` (if Procore ever sends it) | `requisition` | `<project>/<id>` |
//! | `Company Vendors`, `Project Vendors` | `vendor` | `<id>` |
//! | `Projects`, `Cost Codes`, `Line Item Types` | `project`, `cost-code`, `cost-type` | `<id>` / `<project>/<id>` |
//! | anything else, or a line item without its parent | none (not an error) | |
//!
//! The delivery id is the event's `ulid` (else its `id`): Procore delivers at least once, and a
//! repeat carries the same ulid, so intake drops it. Order is not promised; the poster's read-back
//! makes that harmless. Deliveries Procore gave up on (12 h of failures) are caught by the polls.

use mlc_core::engine::intake::{IntakeError, WebhookEvent, WebhookRequest, WebhookSource};
use mlc_core::secret::Credentials;
use mlc_webhooks::{AuthorizationHeader, Source};
use serde_json::Value;

use crate::errors::ProcoreError;

pub const ENTITY_DIRECT_COST: &str = "direct-cost";
pub const ENTITY_WORK_ORDER: &str = "work-order-contract";
pub const ENTITY_PURCHASE_ORDER: &str = "purchase-order-contract";
pub const ENTITY_CHANGE_ORDER: &str = "change-order";
pub const ENTITY_REQUISITION: &str = "requisition";
pub const ENTITY_VENDOR: &str = "vendor";
pub const ENTITY_PROJECT: &str = "project";
pub const ENTITY_COST_CODE: &str = "cost-code";
pub const ENTITY_COST_TYPE: &str = "cost-type";

/// The Procore webhook source.
pub struct ProcoreWebhook {
    inner: Source<AuthorizationHeader>,
}

impl std::fmt::Debug for ProcoreWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcoreWebhook").finish_non_exhaustive()
    }
}

impl WebhookSource for ProcoreWebhook {
    fn system(&self) -> &str {
        self.inner.system()
    }
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
        self.inner.verify(req)
    }
    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> {
        self.inner.parse(req)
    }
}

/// The webhook source for a connection's credentials (`webhook_authorization`, optional
/// `webhook_authorization_previous`).
pub fn webhook_source(connection: &str, creds: &Credentials) -> Result<ProcoreWebhook, ProcoreError> {
    let verifier = AuthorizationHeader::from_credentials(connection, creds)
        .map_err(|e| ProcoreError::MissingCredential { connection: e.connection, fields: vec![e.field] })?;
    Ok(ProcoreWebhook { inner: Source::new("procore", verifier, |req: &WebhookRequest<'_>| parse_events(req.body)) })
}

/// Split a hint id back into `(project, record id)`.
pub fn split_hint(id: &str) -> Option<(Option<i64>, i64)> {
    match id.split_once('/') {
        Some((p, r)) => Some((Some(p.parse().ok()?), r.parse().ok()?)),
        None => Some((None, id.parse().ok()?)),
    }
}

fn bad(msg: String) -> IntakeError {
    IntakeError::BadBody(format!("procore webhook: {msg}"))
}

/// An id as text (numbers kept exact, strings trimmed).
fn id_text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn entity_of(resource: &str) -> Option<(&'static str, bool)> {
    // (entity, project-scoped)
    Some(match resource {
        "Direct Costs" | "Direct Cost Line Items" => (ENTITY_DIRECT_COST, true),
        "Work Order Contracts" | "Work Order Contract Line Items" => (ENTITY_WORK_ORDER, true),
        "Purchase Order Contracts" | "Purchase Order Contract Line Items" => (ENTITY_PURCHASE_ORDER, true),
        "Change Order Packages" => (ENTITY_CHANGE_ORDER, true),
        "Requisitions" | "Subcontractor Invoices" => (ENTITY_REQUISITION, true),
        "Company Vendors" | "Project Vendors" => (ENTITY_VENDOR, false),
        "Projects" => (ENTITY_PROJECT, false),
        "Cost Codes" => (ENTITY_COST_CODE, true),
        "Line Item Types" => (ENTITY_COST_TYPE, false),
        _ => return None,
    })
}

/// Read a verified delivery body into hints (see the module docs).
pub fn parse_events(body: &[u8]) -> Result<Vec<WebhookEvent>, IntakeError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON ({e})")))?;
    let items: Vec<&Value> = match &v {
        Value::Object(_) => vec![&v],
        Value::Array(a) if !a.is_empty() => a.iter().collect(),
        _ => return Err(bad("the body is not a JSON object".into())),
    };
    let mut out = Vec::new();
    for (i, e) in items.into_iter().enumerate() {
        let m = e.as_object().ok_or_else(|| bad(format!("item {i} is not an object")))?;
        let resource = m
            .get("resource_name")
            .or_else(|| m.get("resource_type"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("item {i} has no resource_name")))?
            .trim()
            .to_string();
        let event =
            m.get("event_type").or_else(|| m.get("reason")).and_then(Value::as_str).unwrap_or("").to_ascii_lowercase();
        let resource_id =
            id_text(m.get("resource_id")).ok_or_else(|| bad(format!("{resource} event has no resource_id")))?;
        let Some((entity, project_scoped)) = entity_of(&resource) else { continue };
        let is_line = resource.ends_with("Line Items");
        let record = if is_line {
            // The parent, from v3.0's related_resources; without it the line cannot be placed.
            let parent = m.get("related_resources").and_then(Value::as_array).and_then(|rs| {
                rs.iter().find_map(|r| {
                    let name = r.get("name").and_then(Value::as_str)?;
                    (entity_of(name).map(|x| x.0) == Some(entity) && !name.ends_with("Line Items"))
                        .then(|| id_text(r.get("id")))?
                })
            });
            match parent {
                Some(p) => p,
                None => continue,
            }
        } else {
            resource_id
        };
        let id = if project_scoped {
            let project = id_text(m.get("project_id"))
                .ok_or_else(|| bad(format!("{resource} event {record} has no project_id")))?;
            format!("{project}/{record}")
        } else {
            record
        };
        let delivery = id_text(m.get("ulid")).or_else(|| id_text(m.get("id")));
        out.push(WebhookEvent {
            event_type: format!("{resource}/{event}"),
            entity: entity.to_string(),
            id: id.clone(),
            delivery_id: delivery.map(|d| format!("{d}:{id}")),
            observed_version: None,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Vec<WebhookEvent>, IntakeError> {
        parse_events(v.to_string().as_bytes())
    }

    #[test]
    fn v2_v3_v4_and_company_resources() {
        let v2 = parse(
            json!({"id": 5982324300946918154u64, "ulid": "01EDPD2J6SBY1163N77H95GW09", "company_id": 1, "project_id": 7,
            "api_version": "v2", "event_type": "update", "resource_name": "Direct Costs", "resource_id": 245510722}),
        )
        .unwrap();
        assert_eq!((v2[0].entity.as_str(), v2[0].id.as_str()), (ENTITY_DIRECT_COST, "7/245510722"));
        assert_eq!(v2[0].delivery_id.as_deref(), Some("01EDPD2J6SBY1163N77H95GW09:7/245510722"));
        assert_eq!(v2[0].event_type, "Direct Costs/update");
        let v4 = parse(json!({"id": "5982324300946918154", "company_id": "1", "project_id": "7", "reason": "create",
            "resource_type": "Work Order Contracts", "resource_id": "562949953421400"}))
        .unwrap();
        assert_eq!((v4[0].entity.as_str(), v4[0].id.as_str()), (ENTITY_WORK_ORDER, "7/562949953421400"));
        assert_eq!(v4[0].delivery_id.as_deref(), Some("5982324300946918154:7/562949953421400"), "the big id is exact");
        let v3 = parse(json!({"ulid": "u", "project_id": 7, "event_type": "update", "resource_name": "Purchase Order Contract Line Items",
            "resource_id": 9, "related_resources": [{"id": 44, "name": "Purchase Order Contracts"}]})).unwrap();
        assert_eq!((v3[0].entity.as_str(), v3[0].id.as_str()), (ENTITY_PURCHASE_ORDER, "7/44"));
        let orphan =
            parse(json!({"ulid": "u", "project_id": 7, "resource_name": "Direct Cost Line Items", "resource_id": 9}))
                .unwrap();
        assert!(orphan.is_empty(), "a line without its parent is not placeable");
        let vendor = parse(json!({"ulid": "u", "company_id": 1, "event_type": "update", "resource_name": "Company Vendors", "resource_id": 17700001})).unwrap();
        assert_eq!((vendor[0].entity.as_str(), vendor[0].id.as_str()), (ENTITY_VENDOR, "17700001"));
        assert!(parse(json!({"resource_name": "RFIs", "resource_id": 1})).unwrap().is_empty());
        assert_eq!(split_hint("7/245510722"), Some((Some(7), 245_510_722)));
        assert_eq!(split_hint("17700001"), Some((None, 17_700_001)));
        assert_eq!(split_hint("x/1"), None);
    }

    #[test]
    fn garbage_is_refused_naming_what() {
        for (body, says) in [
            (&b"not json"[..], "not JSON"),
            (&b"[]"[..], "not a JSON object"),
            (&br#"{"resource_id":1}"#[..], "resource_name"),
            (&br#"{"resource_name":"Direct Costs"}"#[..], "resource_id"),
            (&br#"{"resource_name":"Direct Costs","resource_id":1}"#[..], "project_id"),
        ] {
            let e = parse_events(body).unwrap_err();
            assert!(
                matches!(&e, IntakeError::BadBody(m) if m.contains(says) && m.starts_with("procore webhook")),
                "{e}"
            );
        }
    }
}
