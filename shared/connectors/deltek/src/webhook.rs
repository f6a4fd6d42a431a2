//! The Vantagepoint workflow webhook, as a [`WebhookSource`].
//!
//! A Vantagepoint workflow (User Initiated or Scheduled, on a hub) can run a "Webhook" action: it
//! POSTs the action's *arguments* (name → SQL expression, evaluated per record) to a URL, with
//! optional Basic credentials. There is no signature (the dialog's Secret/Public Key pair is not
//! documented as signing anything), so:
//!
//! 1. **verify**: the `Authorization: Basic` user name and password must equal the connection's
//!    `webhook_username` / `webhook_password` (or `webhook_password_previous` during a rotation),
//!    compared in constant time, both always compared, every candidate tried. Without configured
//!    credentials every delivery is refused unless `webhook_allow_unauthenticated` is set.
//! 2. **parse** (only after verification): the body is a JSON object of arguments (or an array of
//!    them). Argument names are matched case-insensitively against the `webhook_entities`
//!    mappings, in order; the first mapping whose arguments are all present names the record:
//!    `{"WBS1": "2024003.00", "Invoice": "0024102"}` → entity `ar-invoice`, id
//!    `2024003.00|0024102`. An `Event`/`Workflow` argument, when present, becomes the event type;
//!    a `ModDate` argument the observed version. Deliveries carry no id, so the body's hash is
//!    the delivery id (Vantagepoint retries a failed delivery with the same body).
//!
//! The event is only a hint: the flow reads the record back through the API before acting.

use base64::Engine as _;
use mlc_core::engine::intake::{IntakeError, WebhookEvent, WebhookRequest, WebhookSource, constant_time_eq};
use mlc_core::secret::Redacted;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::client::DeltekClient;
use crate::decode::scalar_text;
use crate::settings::WebhookEntity;

/// Verifies and reads Vantagepoint workflow webhook deliveries.
#[derive(Clone)]
pub struct DeltekWebhook {
    pairs: Vec<(Redacted<String>, Redacted<String>)>,
    allow_unauthenticated: bool,
    entities: Vec<WebhookEntity>,
}

impl std::fmt::Debug for DeltekWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeltekWebhook")
            .field("credential_pairs", &self.pairs.len())
            .field("entities", &self.entities)
            .finish()
    }
}

impl DeltekWebhook {
    pub fn new(
        pairs: Vec<(Redacted<String>, Redacted<String>)>,
        allow_unauthenticated: bool,
        entities: Vec<WebhookEntity>,
    ) -> Self {
        DeltekWebhook { pairs, allow_unauthenticated, entities }
    }
}

impl DeltekClient {
    /// This connection's webhook source (credentials and argument mappings from its settings).
    pub fn webhook_source(&self) -> DeltekWebhook {
        DeltekWebhook::new(
            self.inner.creds.webhook.clone(),
            self.inner.settings.webhook_allow_unauthenticated,
            self.inner.settings.webhook_entities.clone(),
        )
    }
}

fn unauthorized(why: &str) -> IntakeError {
    IntakeError::Unauthorized(format!("deltek workflow webhook: {why}"))
}

impl WebhookSource for DeltekWebhook {
    fn system(&self) -> &str {
        "deltek"
    }

    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
        if self.pairs.is_empty() {
            return if self.allow_unauthenticated {
                Ok(())
            } else {
                Err(unauthorized(
                    "no webhook credentials are configured; set webhook_username and webhook_password with \
                     `mlc credentials set`, and the same pair on the workflow's Webhook action",
                ))
            };
        }
        let value = req.header("authorization").ok_or_else(|| unauthorized("Authorization header missing"))?;
        let (scheme, b64) = value.trim().split_once(' ').ok_or_else(|| unauthorized("not Basic credentials"))?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(unauthorized("not Basic credentials"));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| unauthorized("credentials are not base64"))?;
        // The user name ends at the first colon (RFC 7617); the password may hold colons.
        let colon = decoded.iter().position(|b| *b == b':').ok_or_else(|| unauthorized("no colon in credentials"))?;
        let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
        let mut ok = false;
        for (u, p) in &self.pairs {
            let user_ok = constant_time_eq(user, u.expose().as_bytes());
            let pass_ok = constant_time_eq(pass, p.expose().as_bytes());
            ok |= user_ok & pass_ok;
        }
        if ok { Ok(()) } else { Err(unauthorized("user name or password does not match")) }
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Vec<WebhookEvent>, IntakeError> {
        let body: Value = serde_json::from_slice(req.body).map_err(|e| {
            IntakeError::BadBody(format!(
                "a Vantagepoint workflow webhook sends a JSON object of arguments; this body is not JSON ({e})"
            ))
        })?;
        let objects: Vec<&Map<String, Value>> = match &body {
            Value::Object(m) => vec![m],
            Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
            _ => Vec::new(),
        };
        if objects.is_empty() {
            return Err(IntakeError::BadBody(
                "a Vantagepoint workflow webhook sends a JSON object of arguments (name → value)".into(),
            ));
        }
        let digest = hex::encode(&Sha256::digest(req.body)[..16]);
        let mut events = Vec::new();
        for (i, args) in objects.iter().enumerate() {
            let arg = |name: &str| {
                args.iter()
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                    .map(|(_, v)| scalar_text(v).trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            let Some((entity, id)) = self.entities.iter().find_map(|m| {
                let values: Option<Vec<String>> = m.args.iter().map(|a| arg(a)).collect();
                values.map(|v| (m.entity.clone(), v.join("|")))
            }) else {
                tracing::info!(
                    system = "deltek",
                    arguments = ?args.keys().collect::<Vec<_>>(),
                    "workflow webhook arguments name no known record; add a webhook_entities mapping"
                );
                continue;
            };
            events.push(WebhookEvent {
                event_type: arg("Event").or_else(|| arg("Workflow")).unwrap_or_else(|| "workflow".into()),
                entity,
                id,
                delivery_id: Some(if objects.len() == 1 { digest.clone() } else { format!("{digest}-{i}") }),
                observed_version: arg("ModDate"),
            });
        }
        Ok(events)
    }
}
