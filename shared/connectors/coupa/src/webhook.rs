//! Coupa event hints as a [`WebhookSource`] for system `coupa`.
//!
//! **Verify.** Coupa signs nothing itself (fact sheet §9); the customer's Coupa admin sets up a
//! Process Automator call-out (or a relay in front of it) that signs each request with
//! ml-connector's scheme, documented in `infra/README.md` and implemented once in
//! `mlc_webhooks::signed`: `X-MLC-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
//! refused when `t` is more than `webhook_tolerance_secs` (300) from our clock, compared in
//! constant time over the raw body, with two valid secrets during a rotation (`webhook_secret`,
//! `webhook_secret_previous`). The header name is a setting (`webhook_signature_header`) for a
//! relay that insists on its own (`X-Coupa-Signature`). Nothing is parsed before the check passes.
//!
//! **Parse.** `{"id": "<delivery uuid>", "event": "invoice.approved", "occurred-at": "…",
//! "resource": "invoices", "resource-id": 123, "data": {…}}` becomes one hint:
//!
//! | `resource` | entity | events |
//! |---|---|---|
//! | `invoices` | [`ENTITY_INVOICE`] | `invoice.approved`, `invoice.voided` (any `invoice.*`) |
//! | `purchase_orders` | [`ENTITY_PURCHASE_ORDER`] | `purchase_order.revised` |
//! | `suppliers` | [`ENTITY_SUPPLIER`] | `supplier.updated` |
//!
//! The delivery id is the body's `id` (covered by the signature), else the `X-Coupa-Delivery`
//! header; intake drops repeated deliveries by it. The observed version is `data.updated-at` in
//! UTC ([`crate::model::version_stamp`], what the poll writes), when the payload carries it. The
//! payload is only a hint: the poster reads the record back.

use mlc_core::engine::intake::{IntakeError, WebhookEvent, WebhookRequest, WebhookSource};
use mlc_core::secret::Credentials;
use mlc_webhooks::{SignedTimestamp, Source};
use serde_json::Value;

use crate::errors::CoupaError;
use crate::model::version_stamp;
use crate::settings::CoupaSettings;
use mlc_http::decode::{datetime_utc, int, text};

/// Entity of invoice hints.
pub const ENTITY_INVOICE: &str = "invoice";
/// Entity of purchase order hints.
pub const ENTITY_PURCHASE_ORDER: &str = "purchase_order";
/// Entity of supplier hints.
pub const ENTITY_SUPPLIER: &str = "supplier";

/// The Coupa webhook source: the shared HMAC scheme plus [`parse_events`].
pub struct CoupaWebhook {
    inner: Source<SignedTimestamp>,
    header: String,
}

impl std::fmt::Debug for CoupaWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoupaWebhook").field("header", &self.header).finish_non_exhaustive()
    }
}

impl CoupaWebhook {
    /// The header the signature must arrive in.
    pub fn header(&self) -> &str {
        &self.header
    }
}

impl WebhookSource for CoupaWebhook {
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

/// The webhook source for a connection (`webhook_secret`, optional `webhook_secret_previous`).
pub fn webhook_source(settings: &CoupaSettings, creds: &Credentials) -> Result<CoupaWebhook, CoupaError> {
    let header = settings.webhook_signature_header.to_ascii_lowercase();
    let verifier = SignedTimestamp::from_credentials(&settings.connection, creds)
        .map_err(|e| CoupaError::MissingCredential { connection: e.connection, fields: vec![e.field] })?
        .with_header(&header)
        .with_tolerance_secs(settings.webhook_tolerance_secs);
    Ok(CoupaWebhook { inner: Source::new("coupa", verifier, parse_events), header })
}

fn bad(msg: String) -> IntakeError {
    IntakeError::BadBody(format!("coupa webhook: {msg}"))
}

/// Read a verified delivery into hints (see the module docs).
pub fn parse_events(req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> {
    let v: Value = serde_json::from_slice(req.body).map_err(|e| bad(format!("the body is not JSON ({e})")))?;
    let Value::Object(m) = &v else { return Err(bad("the body is not a JSON object".into())) };
    let event = m.get("event").and_then(text).ok_or_else(|| bad("the body has no event".into()))?;
    let resource = m.get("resource").and_then(text).unwrap_or_else(|| {
        // Infer from the event name when a sender leaves `resource` out.
        match event.split('.').next().unwrap_or("") {
            "invoice" => "invoices".into(),
            "purchase_order" => "purchase_orders".into(),
            "supplier" => "suppliers".into(),
            other => other.to_string(),
        }
    });
    let entity = match resource.as_str() {
        "invoices" => ENTITY_INVOICE,
        "purchase_orders" => ENTITY_PURCHASE_ORDER,
        "suppliers" => ENTITY_SUPPLIER,
        _ => return Ok(Vec::new()),
    };
    let id = m
        .get("resource-id")
        .or_else(|| m.get("resource_id"))
        .and_then(int)
        .filter(|id| *id > 0)
        .or_else(|| m.get("data").and_then(|d| d.get("id")).and_then(int))
        .ok_or_else(|| bad(format!("{event} names no resource-id")))?;
    let delivery = m.get("id").and_then(text).or_else(|| req.header("x-coupa-delivery").map(str::to_string));
    let version = m
        .get("data")
        .and_then(|d| d.get("updated-at"))
        .and_then(text)
        .and_then(|s| datetime_utc(&s))
        .map(version_stamp);
    Ok(vec![WebhookEvent {
        event_type: event,
        entity: entity.to_string(),
        id: id.to_string(),
        delivery_id: delivery,
        observed_version: version,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value, headers: &[(String, String)]) -> Result<Vec<WebhookEvent>, IntakeError> {
        let body = v.to_string();
        parse_events(&WebhookRequest {
            connection: "coupa",
            headers,
            body: body.as_bytes(),
            received_at: chrono::Utc::now(),
        })
    }

    #[test]
    fn hints_by_resource() {
        let e = parse(
            json!({"id": "d-1", "event": "invoice.approved", "resource": "invoices", "resource-id": 1001,
                   "data": {"id": 1001, "updated-at": "2025-06-03T10:00:00-07:00"}}),
            &[],
        )
        .unwrap();
        assert_eq!(e[0].entity, ENTITY_INVOICE);
        assert_eq!((e[0].id.as_str(), e[0].delivery_id.as_deref()), ("1001", Some("d-1")));
        assert_eq!(e[0].observed_version.as_deref(), Some("2025-06-03T17:00:00Z"));
        let e = parse(
            json!({"event": "supplier.updated", "resource-id": "5"}),
            &[("x-coupa-delivery".into(), "h-2".into())],
        )
        .unwrap();
        assert_eq!(
            (e[0].entity.as_str(), e[0].id.as_str(), e[0].delivery_id.as_deref()),
            (ENTITY_SUPPLIER, "5", Some("h-2"))
        );
        let e =
            parse(json!({"event": "purchase_order.revised", "resource": "purchase_orders", "data": {"id": 7}}), &[])
                .unwrap();
        assert_eq!(
            (e[0].entity.as_str(), e[0].id.as_str(), e[0].observed_version.clone()),
            (ENTITY_PURCHASE_ORDER, "7", None)
        );
        assert!(
            parse(json!({"event": "expense.approved", "resource": "expense_reports", "resource-id": 1}), &[])
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        for (v, says) in [
            (json!({"resource": "invoices", "resource-id": 1}), "no event"),
            (json!({"event": "invoice.approved"}), "no resource-id"),
            (json!([1]), "not a JSON object"),
        ] {
            let e = parse(v, &[]).unwrap_err();
            assert!(e.to_string().contains(says) && e.to_string().starts_with("coupa webhook"), "{e}");
        }
    }
}
