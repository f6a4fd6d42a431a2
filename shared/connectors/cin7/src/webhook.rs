//! Cin7 Core webhooks (the Automation module) as a [`WebhookSource`] for system `cin7`.
//!
//! **Verify.** Cin7 signs nothing. Each webhook carries the customer's `ExternalHeaders`, so
//! ml-connector registers its webhooks with a secret header (`x-mlc-webhook-secret` by default,
//! credential `webhook_header` to change it) and the shared [`HeaderSecret`] scheme compares it
//! in constant time, accepting `webhook_secret` or, during a rotation, `webhook_secret_previous`.
//! Nothing is parsed before that check passes.
//!
//! **Parse** (fact sheet §7), only hints, since the body is not covered by the secret:
//!
//! | `EventType` | events |
//! |---|---|
//! | `Purchase/InvoiceAuthorised`, `Purchase/OrderAuthorised`, `Purchase/StockReceivedAuthorised`, `Purchase/CreditNoteAuthorised` | one, entity `purchase-task`, id `"<TaskID>|<PurchaseOrderNumber>"` |
//! | `Purchase/Updated` | one per entry of its list (`CustomerDetailsList` as documented, or any `…List`), entity `purchase`, id = `ID`, observed version = `LastUpdatedDate` |
//! | `Supplier/Updated` | one per `SupplierDetailsList` entry, nested `{Supplier: {...}}` or flat, entity `supplier` |
//! | anything else | none (not an error) |
//!
//! A `purchase-task` id is resolved with [`crate::Cin7Client::resolve_purchase_task`]: for
//! Advanced purchases the `TaskID` may name an invoice or credit note task, not the purchase
//! ([`split_task_hint`] splits the id back). GUIDs are lower-cased so a webhook (upper-case in
//! Cin7's examples) and the poll name the same record; versions are written like the poll writes
//! them ([`crate::model::version_stamp`]).
//!
//! **Deliveries carry no id.** The delivery id is a hash of the raw body (plus the event's
//! record id, so the events of one delivery do not collide in intake's dedup): a retry of a
//! failed delivery (same body) is dropped as a duplicate. So is a *genuine* second event whose
//! body is byte-for-byte identical within the dedup window; the scheduled poll backfills it, as
//! it does every webhook Cin7 loses or deactivates (after six failed attempts over ~76 minutes).

use mlc_core::engine::intake::{IntakeError, WebhookEvent, WebhookRequest, WebhookSource};
use mlc_core::secret::{Credentials, Redacted};
use mlc_webhooks::{HeaderSecret, Source};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::client::Cin7Client;
use crate::errors::Cin7Error;
use crate::model::{norm_id, parse_datetime, version_stamp};

/// Entity of `Purchase/*Authorised` hints.
pub const ENTITY_PURCHASE_TASK: &str = "purchase-task";
/// Entity of `Purchase/Updated` hints.
pub const ENTITY_PURCHASE: &str = "purchase";
/// Entity of `Supplier/Updated` hints.
pub const ENTITY_SUPPLIER: &str = "supplier";

/// The purchase events whose payload names a task.
pub const TASK_EVENTS: [&str; 4] = [
    "Purchase/InvoiceAuthorised",
    "Purchase/OrderAuthorised",
    "Purchase/StockReceivedAuthorised",
    "Purchase/CreditNoteAuthorised",
];

/// The Cin7 webhook source: the shared secret-header check plus [`parse_events`].
pub struct Cin7Webhook {
    header: String,
    inner: Source<HeaderSecret>,
}

impl std::fmt::Debug for Cin7Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cin7Webhook").field("header", &self.header).finish_non_exhaustive()
    }
}

impl Cin7Webhook {
    /// The header the secret must arrive in.
    pub fn header(&self) -> &str {
        &self.header
    }
}

impl WebhookSource for Cin7Webhook {
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

/// The header name and current secret for registering webhooks.
pub(crate) fn secret_header(connection: &str, creds: &Credentials) -> Result<(String, Redacted<String>), Cin7Error> {
    let secret = creds.get("webhook_secret").filter(|s| !s.expose().trim().is_empty()).cloned().ok_or_else(|| {
        Cin7Error::MissingCredential { connection: connection.into(), fields: vec!["webhook_secret".into()] }
    })?;
    let header = creds
        .get("webhook_header")
        .map(|h| h.expose().trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| mlc_webhooks::header_secret::DEFAULT_HEADER.to_string());
    Ok((header, secret))
}

/// The webhook source for a connection's credentials (`webhook_secret`, optional
/// `webhook_secret_previous` and `webhook_header`).
pub fn webhook_source(connection: &str, creds: &Credentials) -> Result<Cin7Webhook, Cin7Error> {
    let verifier = HeaderSecret::from_credentials(connection, creds)
        .map_err(|e| Cin7Error::MissingCredential { connection: e.connection, fields: vec![e.field] })?;
    let header = verifier.header().to_string();
    Ok(Cin7Webhook { header, inner: Source::new("cin7", verifier, |req: &WebhookRequest<'_>| parse_events(req.body)) })
}

impl Cin7Client {
    /// This connection's webhook source.
    pub fn webhook_source(&self) -> Result<Cin7Webhook, Cin7Error> {
        webhook_source(&self.inner.settings.connection, &self.inner.creds.all)
    }
}

/// Split a `purchase-task` id back into `(task id, order number)`.
pub fn split_task_hint(id: &str) -> (String, Option<String>) {
    match id.split_once('|') {
        Some((t, o)) => (t.to_string(), Some(o.trim().to_string()).filter(|o| !o.is_empty())),
        None => (id.to_string(), None),
    }
}

fn bad(msg: String) -> IntakeError {
    IntakeError::BadBody(format!("cin7 webhook: {msg}"))
}

fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)).filter(|v| !v.is_null())
}

fn text(m: &Map<String, Value>, key: &str) -> Option<String> {
    match get(m, key)? {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Read a verified delivery body into events (see the module docs).
pub fn parse_events(body: &[u8]) -> Result<Vec<WebhookEvent>, IntakeError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("the body is not JSON ({e})")))?;
    let hash = hex::encode(Sha256::digest(body));
    let delivery = &hash[..32];
    let items: Vec<&Map<String, Value>> = match &v {
        Value::Object(m) => vec![m],
        Value::Array(a) if !a.is_empty() => a
            .iter()
            .enumerate()
            .map(|(i, x)| x.as_object().ok_or_else(|| bad(format!("item {i} of the body is not an object"))))
            .collect::<Result<_, _>>()?,
        _ => return Err(bad("the body is not a JSON object".into())),
    };
    let mut out = Vec::new();
    for m in items {
        let event_type = text(m, "EventType").ok_or_else(|| bad("the body has no EventType".into()))?;
        let ev = |entity: &str, id: String, version: Option<String>| WebhookEvent {
            event_type: event_type.clone(),
            entity: entity.to_string(),
            delivery_id: Some(format!("{delivery}:{id}")),
            id,
            observed_version: version,
        };
        if let Some(t) = TASK_EVENTS.iter().find(|t| t.eq_ignore_ascii_case(&event_type)) {
            let task = text(m, "TaskID").ok_or_else(|| bad(format!("{t} has no TaskID")))?;
            let order = text(m, "PurchaseOrderNumber").unwrap_or_default();
            out.push(ev(ENTITY_PURCHASE_TASK, format!("{}|{order}", norm_id(&task)), None));
        } else if event_type.eq_ignore_ascii_case("Purchase/Updated") {
            let list = record_list(m, &["CustomerDetailsList", "PurchaseDetailsList", "PurchaseList"])
                .ok_or_else(|| bad("Purchase/Updated has no list of purchases (CustomerDetailsList)".into()))?;
            for (i, p) in list.iter().enumerate() {
                let p = p.as_object().ok_or_else(|| bad(format!("Purchase/Updated entry {i} is not an object")))?;
                let id = text(p, "ID").ok_or_else(|| bad(format!("Purchase/Updated entry {i} has no ID")))?;
                let version = text(p, "LastUpdatedDate").and_then(|s| parse_datetime(&s)).map(version_stamp);
                out.push(ev(ENTITY_PURCHASE, norm_id(&id), version));
            }
        } else if event_type.eq_ignore_ascii_case("Supplier/Updated") {
            let list = record_list(m, &["SupplierDetailsList", "SupplierList"])
                .ok_or_else(|| bad("Supplier/Updated has no SupplierDetailsList".into()))?;
            for (i, s) in list.iter().enumerate() {
                let s = s.as_object().ok_or_else(|| bad(format!("Supplier/Updated entry {i} is not an object")))?;
                // Nested as documented ({Supplier: {...}, Addresses, Contacts}) or flat.
                let card = get(s, "Supplier").and_then(Value::as_object).unwrap_or(s);
                let id =
                    text(card, "ID").ok_or_else(|| bad(format!("Supplier/Updated entry {i} has no supplier ID")))?;
                let version = text(card, "LastModifiedOn").and_then(|t| parse_datetime(&t)).map(version_stamp);
                out.push(ev(ENTITY_SUPPLIER, norm_id(&id), version));
            }
        }
    }
    Ok(out)
}

/// The array of records: one of the known keys, else the only `…List` array.
fn record_list<'a>(m: &'a Map<String, Value>, known: &[&str]) -> Option<&'a Vec<Value>> {
    for k in known {
        if let Some(Value::Array(a)) = get(m, k) {
            return Some(a);
        }
    }
    m.iter().find(|(k, v)| k.to_ascii_lowercase().ends_with("list") && v.is_array()).and_then(|(_, v)| v.as_array())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Vec<WebhookEvent>, IntakeError> {
        parse_events(v.to_string().as_bytes())
    }

    #[test]
    fn task_events() {
        for t in TASK_EVENTS {
            let e = parse(json!({"TaskID": "8B1538E4-AAAA-BBBB-CCCC-000000000001", "PurchaseOrderNumber": "PO-00042",
                                 "InvoiceNumber": "A-1", "SupplierName": null, "EventType": t}))
            .unwrap();
            assert_eq!(e.len(), 1);
            assert_eq!(
                (e[0].entity.as_str(), e[0].id.as_str()),
                ("purchase-task", "8b1538e4-aaaa-bbbb-cccc-000000000001|PO-00042")
            );
            assert_eq!(e[0].event_type, t);
        }
        let e = parse(json!({"TaskID": "x", "EventType": "Purchase/OrderAuthorised"})).unwrap();
        assert_eq!(e[0].id, "x|");
        assert_eq!(split_task_hint(&e[0].id), ("x".to_string(), None));
        assert_eq!(split_task_hint("a|PO-1"), ("a".to_string(), Some("PO-1".to_string())));
        let err = parse(json!({"EventType": "Purchase/InvoiceAuthorised"})).unwrap_err();
        assert!(matches!(&err, IntakeError::BadBody(m) if m.contains("TaskID")), "{err}");
    }

    #[test]
    fn purchase_updated_lists_and_versions() {
        let body = json!({"NumberOfPurchase": 2, "CustomerDetailsList": [
            {"ID": "AAAAAAAA-0000-4000-8000-000000000001", "LastUpdatedDate": "2025-06-01T10:00:00.12"},
            {"ID": "aaaaaaaa-0000-4000-8000-000000000002"}], "EventType": "Purchase/Updated"});
        let e = parse(body).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].id, "aaaaaaaa-0000-4000-8000-000000000001");
        assert_eq!(e[0].observed_version.as_deref(), Some("2025-06-01T10:00:00.1200000Z"));
        assert_eq!(e[1].observed_version, None);
        assert_ne!(e[0].delivery_id, e[1].delivery_id, "events of one delivery keep distinct dedup keys");
        let e = parse(json!({"PurchaseList": [{"ID": "p1"}], "EventType": "purchase/updated"})).unwrap();
        assert_eq!(e[0].id, "p1");
        assert!(parse(json!({"EventType": "Purchase/Updated"})).is_err());
        assert!(parse(json!({"CustomerDetailsList": [{"Status": "x"}], "EventType": "Purchase/Updated"})).is_err());
    }

    #[test]
    fn supplier_updated_both_nestings() {
        let nested = json!({"NumberOfSuppliers": 1, "SupplierDetailsList": [{"Supplier": {"ID": "S1", "LastModifiedOn": "2025-06-01T00:00:00Z"},
            "Addresses": [], "Contacts": []}], "EventType": "Supplier/Updated"});
        let flat = json!({"SupplierDetailsList": [{"ID": "S1", "Name": "x"}], "EventType": "Supplier/Updated"});
        for (b, v) in [(nested, Some("2025-06-01T00:00:00.0000000Z")), (flat, None)] {
            let e = parse(b).unwrap();
            assert_eq!(
                (e[0].entity.as_str(), e[0].id.as_str(), e[0].observed_version.as_deref()),
                ("supplier", "S1", v)
            );
        }
    }

    #[test]
    fn other_events_and_garbage() {
        assert!(parse(json!({"SaleID": "x", "EventType": "Sale/OrderAuthorised"})).unwrap().is_empty());
        for (body, says) in [
            (&b"not json"[..], "not JSON"),
            (&b"[]"[..], "not a JSON object"),
            (&b"\"text\""[..], "not a JSON object"),
            (&br#"{"TaskID":"x"}"#[..], "EventType"),
        ] {
            let e = parse_events(body).unwrap_err();
            assert!(matches!(&e, IntakeError::BadBody(m) if m.contains(says) && m.starts_with("cin7 webhook")), "{e}");
        }
        let same = json!({"TaskID": "T", "EventType": "Purchase/InvoiceAuthorised"});
        assert_eq!(
            parse(same.clone()).unwrap()[0].delivery_id,
            parse(same).unwrap()[0].delivery_id,
            "a redelivery has the same id"
        );
    }
}
