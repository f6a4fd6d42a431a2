//! Acumatica push notifications (fact sheet §6) as a [`WebhookSource`] for system `acumatica`.
//!
//! **Verify.** A push destination (Push Notifications, SM302000) can send **one custom header**
//! and signs nothing, so the customer configures header `x-mlc-webhook-secret` (setting
//! `push_header`) with the connection's `webhook_secret` as its value; the shared
//! [`HeaderSecret`] scheme compares it in constant time (accepting `webhook_secret_previous`
//! during a rotation) before anything is parsed.
//!
//! **Parse** — only hints, since the body is not covered by the secret. One payload per
//! database transaction: `{"Inserted": [rows], "Deleted": [rows], "Query": "<GI>", "CompanyId",
//! "Id": "<transaction guid>", "TimeStamp", "AdditionalInfo"}` with raw (unwrapped) row values
//! keyed by GI column (`<DAC>_<field>`: `Vendor_noteID`, `APInvoice_refNbr`). Each row becomes one
//! event:
//!
//! | columns start with | or the GI name mentions | entity |
//! |---|---|---|
//! | `Vendor_` / `BAccount_` | `vendor` | [`ENTITY_VENDOR`] |
//! | `APInvoice_` / `APRegister_` | `bill` | [`ENTITY_BILL`] |
//! | `POOrder_` | `purchase` / `order` | [`ENTITY_PURCHASE_ORDER`] |
//!
//! The record id is the row's `…_noteID` column (the record's API `id`; recommended in the GI),
//! else its key columns joined with `|` (`APInvoice_docType|APInvoice_refNbr` → `INV|000123`);
//! [`hint_target`] tells the two apart for the read-back. An update arrives as the old row in
//! `Deleted` and the new one in `Inserted`: one event (inserted); a row only in `Deleted` is a
//! deletion (event type `…:deleted`). Empty arrays may be present or omitted. Rows of an
//! unknown GI are ignored, not refused.
//!
//! **Duplicates** are expected (at-least-once, up to five attempts): the delivery id is the
//! payload's `Id` + `Query` (the pair Acumatica says identifies a notification) + the row's
//! record id, so intake drops repeats. The version is the row's `…_lastModifiedDateTime` when the
//! GI has it (tenant time, without an offset), for information only.

use mlc_core::engine::intake::{IntakeError, WebhookEvent, WebhookRequest, WebhookSource};
use mlc_webhooks::{HeaderSecret, Source};
use serde_json::{Map, Value};

use crate::errors::AcumaticaError;
use crate::settings::{AcumaticaCredentials, AcumaticaSettings};

/// Hint entity of vendor rows.
pub const ENTITY_VENDOR: &str = "vendor";
/// Hint entity of bill rows.
pub const ENTITY_BILL: &str = "bill";
/// Hint entity of purchase-order rows.
pub const ENTITY_PURCHASE_ORDER: &str = "purchase-order";

/// The push-notification source: the header check plus [`parse_push`].
pub struct PushSource {
    header: String,
    inner: Source<HeaderSecret>,
}

impl std::fmt::Debug for PushSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushSource").field("header", &self.header).finish_non_exhaustive()
    }
}

impl PushSource {
    /// The header the secret must arrive in.
    pub fn header(&self) -> &str {
        &self.header
    }
}

impl WebhookSource for PushSource {
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

/// The source for a connection, when it has a `webhook_secret`.
pub fn webhook_source(s: &AcumaticaSettings, c: &AcumaticaCredentials) -> Result<PushSource, AcumaticaError> {
    if c.webhook_secrets.is_empty() {
        return Err(AcumaticaError::MissingCredential {
            connection: s.connection.clone(),
            fields: vec!["webhook_secret".into()],
        });
    }
    let verifier = HeaderSecret::new(&s.push_header, c.webhook_secrets.clone());
    let header = verifier.header().to_string();
    Ok(PushSource {
        header,
        inner: Source::new("acumatica", verifier, |req: &WebhookRequest<'_>| parse_push(req.body)),
    })
}

/// What a hint id names: a record `id` (NoteID), or key values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HintTarget {
    /// The record's `id`.
    Id(String),
    /// Key values in form order (`["INV", "000123"]`, `["V10001"]`).
    Keys(Vec<String>),
}

/// Read a hint id back.
pub fn hint_target(id: &str) -> HintTarget {
    let t = id.trim();
    let guid = t.len() == 36
        && t.chars()
            .enumerate()
            .all(|(i, c)| if matches!(i, 8 | 13 | 18 | 23) { c == '-' } else { c.is_ascii_hexdigit() });
    if guid {
        HintTarget::Id(t.to_ascii_lowercase())
    } else {
        HintTarget::Keys(t.split('|').map(str::to_string).collect())
    }
}

fn bad(msg: String) -> IntakeError {
    IntakeError::BadBody(format!("acumatica push notification: {msg}"))
}

fn raw_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn entity_of(row: &Map<String, Value>, query: &str) -> Option<(&'static str, &'static [&'static str])> {
    let has = |prefix: &str| row.keys().any(|k| k.to_ascii_lowercase().starts_with(prefix));
    if has("vendor_") || has("baccount_") {
        return Some((ENTITY_VENDOR, &["acctcd"]));
    }
    if has("apinvoice_") || has("apregister_") {
        return Some((ENTITY_BILL, &["doctype", "refnbr"]));
    }
    if has("poorder_") {
        return Some((ENTITY_PURCHASE_ORDER, &["ordertype", "ordernbr"]));
    }
    let q = query.to_ascii_lowercase();
    if q.contains("vendor") {
        Some((ENTITY_VENDOR, &["vendorid", "acctcd"]))
    } else if q.contains("bill") || q.contains("apinvoice") {
        Some((ENTITY_BILL, &["doctype", "refnbr"]))
    } else if q.contains("purchase") || q.contains("poorder") || q.contains("order") {
        Some((ENTITY_PURCHASE_ORDER, &["ordertype", "ordernbr"]))
    } else {
        None
    }
}

/// The value of the first column whose name (after the `DAC_` prefix) is `field`.
fn column<'a>(row: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    row.iter()
        .find(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k == field || k.rsplit_once('_').is_some_and(|(_, f)| f == field)
        })
        .map(|(_, v)| v)
}

fn row_id(row: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    if let Some(id) = column(row, "noteid").and_then(raw_text) {
        return Some(id.to_ascii_lowercase());
    }
    let parts: Option<Vec<String>> = keys.iter().map(|k| column(row, k).and_then(raw_text)).collect();
    parts.filter(|p| !p.is_empty()).map(|p| p.join("|"))
}

fn rows(m: &Map<String, Value>, key: &str) -> Result<Vec<Map<String, Value>>, IntakeError> {
    match m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|r| r.as_object().cloned().ok_or_else(|| bad(format!("{key} holds a row that is not an object"))))
            .collect(),
        Some(_) => Err(bad(format!("{key} is not a list"))),
    }
}

/// Read a verified payload into events (see the module docs).
pub fn parse_push(body: &[u8]) -> Result<Vec<WebhookEvent>, IntakeError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Value::Object(m) = v else { return Err(bad("not a JSON object".into())) };
    let text = |k: &str| m.iter().find(|(key, _)| key.eq_ignore_ascii_case(k)).and_then(|(_, v)| raw_text(v));
    let query = text("Query").unwrap_or_default();
    let delivery = text("Id").ok_or_else(|| bad("no Id".into()))?;
    let inserted = rows(&m, "Inserted")?;
    let deleted = rows(&m, "Deleted")?;
    let mut out: Vec<WebhookEvent> = Vec::new();
    let mut push = |row: &Map<String, Value>, kind: &str| {
        let Some((entity, keys)) = entity_of(row, &query) else { return };
        let Some(id) = row_id(row, keys) else { return };
        if out.iter().any(|e| e.entity == entity && e.id == id) {
            return;
        }
        out.push(WebhookEvent {
            event_type: format!("push:{query}:{kind}"),
            entity: entity.to_string(),
            delivery_id: Some(format!("{delivery}|{query}|{id}")),
            observed_version: column(row, "lastmodifieddatetime").and_then(raw_text),
            id,
        });
    };
    for r in &inserted {
        push(r, "inserted");
    }
    for r in &deleted {
        push(r, "deleted");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_become_hints() {
        let body = br#"{"Inserted":[{"Vendor_acctCD":"V1","Vendor_noteID":"A0F8C7E2-1111-4222-8333-444455556666","Vendor_lastModifiedDateTime":"2024-05-05T15:16:23.1"}],
            "Deleted":[{"Vendor_acctCD":"V1","Vendor_noteID":"A0F8C7E2-1111-4222-8333-444455556666"}],"Query":"MLC-Vendors","CompanyId":"T","Id":"tx-1","TimeStamp":1}"#;
        let ev = parse_push(body).unwrap();
        assert_eq!(ev.len(), 1, "an update (old row + new row) is one hint");
        assert_eq!((ev[0].entity.as_str(), ev[0].id.as_str()), (ENTITY_VENDOR, "a0f8c7e2-1111-4222-8333-444455556666"));
        assert_eq!(ev[0].observed_version.as_deref(), Some("2024-05-05T15:16:23.1"));
        assert_eq!(ev[0].delivery_id.as_deref(), Some("tx-1|MLC-Vendors|a0f8c7e2-1111-4222-8333-444455556666"));
        let body =
            br#"{"Deleted":[{"APInvoice_docType":"INV","APInvoice_refNbr":"000123"}],"Query":"Bills","Id":"tx-2"}"#;
        let ev = parse_push(body).unwrap();
        assert_eq!(
            (ev[0].entity.as_str(), ev[0].id.as_str(), ev[0].event_type.as_str()),
            (ENTITY_BILL, "INV|000123", "push:Bills:deleted")
        );
        assert_eq!(hint_target(&ev[0].id), HintTarget::Keys(vec!["INV".into(), "000123".into()]));
        assert!(matches!(hint_target("a0f8c7e2-1111-4222-8333-444455556666"), HintTarget::Id(_)));
        assert!(parse_push(br#"{"Inserted":[{"Other_x":"1"}],"Query":"Items","Id":"t"}"#).unwrap().is_empty());
        assert!(parse_push(b"<html>").is_err());
        assert!(parse_push(br#"{"Inserted":"x","Id":"t"}"#).is_err());
    }
}
