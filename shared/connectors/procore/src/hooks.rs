//! Registering ml-connector's webhook hook and triggers (fact sheet §9), never twice.
//!
//! One company-scoped hook per connection, in the connection's namespace (`webhook_namespace`,
//! default `ml-connector`), sending the credential `webhook_authorization` as its `Authorization`
//! header. [`ProcoreClient::ensure_hook`] looks first (hooks are listed by namespace; triggers by
//! hook) and creates only what is missing; a create whose answer is lost is settled by listing
//! again, and a trigger Procore says "has already been taken" counts as present. Requisitions
//! have no webhook resource in 2026 (§0.2): their trigger is added only when
//! `GET /rest/v1.0/webhooks/resources` lists one.

use mlc_core::secret::Redacted;
use mlc_http::Request;
use serde_json::{Value, json};

use crate::client::ProcoreClient;
use crate::errors::ProcoreError;
use crate::model::{Hook, Trigger};

/// The `(resource, event)` pairs the flows want hints for.
pub const DEFAULT_TRIGGERS: &[(&str, &str)] = &[
    ("Direct Costs", "create"),
    ("Direct Costs", "update"),
    ("Work Order Contracts", "create"),
    ("Work Order Contracts", "update"),
    ("Purchase Order Contracts", "create"),
    ("Purchase Order Contracts", "update"),
    ("Change Order Packages", "create"),
    ("Change Order Packages", "update"),
    ("Company Vendors", "create"),
    ("Company Vendors", "update"),
];

/// What [`ProcoreClient::ensure_hook`] found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSetup {
    pub hook: Hook,
    pub created: bool,
    /// `(resource, event)` triggers added now.
    pub triggers_added: Vec<(String, String)>,
    /// Triggers wanted but not offered by this Procore (e.g. Requisitions).
    pub unavailable: Vec<String>,
}

impl ProcoreClient {
    /// The company's hooks in this connection's namespace.
    pub async fn list_hooks(&self) -> Result<Vec<Hook>, ProcoreError> {
        let query = vec![
            ("company_id".to_string(), self.company_id().to_string()),
            ("namespace".to_string(), self.settings().webhook_namespace.clone()),
        ];
        let all: Vec<Hook> = self.list_all("rest/v1.0/webhooks/hooks", &query, "the webhook hooks").await?;
        let ns = &self.settings().webhook_namespace;
        Ok(all.into_iter().filter(|h| h.namespace.as_deref() == Some(ns)).collect())
    }

    /// A hook's triggers.
    pub async fn list_triggers(&self, hook: i64) -> Result<Vec<Trigger>, ProcoreError> {
        let query = vec![("company_id".to_string(), self.company_id().to_string())];
        self.list_all(
            &format!("rest/v1.0/webhooks/hooks/{hook}/triggers"),
            &query,
            &format!("the triggers of hook {hook}"),
        )
        .await
    }

    /// The webhook resource names this company offers.
    pub async fn webhook_resources(&self) -> Result<Vec<String>, ProcoreError> {
        let req = Request::get("rest/v1.0/webhooks/resources").query("company_id", self.company_id());
        let v: Vec<Value> = self.get_json(req, "the webhook resources").await?;
        Ok(v.iter().filter_map(|r| r.get("resource_name").and_then(Value::as_str).map(String::from)).collect())
    }

    /// Make sure the hook exists with `destination_url` and `authorization`, and carries
    /// `triggers` (see the module docs).
    pub async fn ensure_hook(
        &self,
        destination_url: &str,
        authorization: &Redacted<String>,
        triggers: &[(&str, &str)],
    ) -> Result<HookSetup, ProcoreError> {
        let ns = self.settings().webhook_namespace.clone();
        let body = json!({
            "company_id": self.company_id(),
            "hook": {
                "api_version": "v2", "namespace": ns, "destination_url": destination_url,
                "destination_headers": { "Authorization": authorization.expose() },
            },
        });
        let (hook, created) = match self.list_hooks().await?.into_iter().next() {
            Some(h) => {
                if h.destination_url.as_deref() != Some(destination_url) {
                    let req = Request::patch(format!("rest/v1.0/webhooks/hooks/{}", h.id)).json(&body);
                    self.send(req, &format!("webhook hook {}", h.id)).await?;
                }
                (h, false)
            }
            None => {
                let req = Request::post("rest/v1.0/webhooks/hooks").json(&body);
                match self.send(req, &format!("the webhook hook in namespace {ns}")).await {
                    Ok(resp) => (resp.json::<Hook>()?, true),
                    Err(ProcoreError::InDoubt { what, detail }) => match self.list_hooks().await?.into_iter().next() {
                        Some(h) => (h, true),
                        None => {
                            return Err(ProcoreError::InDoubt {
                                what,
                                detail: format!("{detail}; no hook found after it"),
                            });
                        }
                    },
                    Err(e) => return Err(e),
                }
            }
        };
        let offered = self.webhook_resources().await.unwrap_or_default();
        let mut wanted: Vec<(String, String)> =
            triggers.iter().map(|(r, e)| (r.to_string(), e.to_ascii_lowercase())).collect();
        if offered.iter().any(|r| r == "Requisitions") {
            for e in ["create", "update"] {
                if !wanted.iter().any(|(r, x)| r == "Requisitions" && x == e) {
                    wanted.push(("Requisitions".into(), e.into()));
                }
            }
        }
        let unavailable: Vec<String> = if offered.is_empty() {
            Vec::new()
        } else {
            let mut u: Vec<String> =
                wanted.iter().filter(|(r, _)| !offered.contains(r)).map(|(r, _)| r.clone()).collect();
            u.dedup();
            u
        };
        wanted.retain(|(r, _)| !unavailable.contains(r));
        let have = self.list_triggers(hook.id).await?;
        let present = |have: &[Trigger], r: &str, e: &str| {
            have.iter().any(|t| t.resource_name.as_deref() == Some(r) && t.event_type == e)
        };
        let mut added = Vec::new();
        for (r, e) in wanted {
            if present(&have, &r, &e) {
                continue;
            }
            let req = Request::post(format!("rest/v1.0/webhooks/hooks/{}/triggers", hook.id)).json(&json!({
                "company_id": self.company_id(), "api_version": "v2",
                "trigger": { "resource_name": r, "event_type": e },
            }));
            match self.send(req, &format!("trigger {r}/{e} of hook {}", hook.id)).await {
                Ok(_) => added.push((r, e)),
                Err(ProcoreError::Refused { server, .. }) if server.contains("already been taken") => {}
                Err(ProcoreError::InDoubt { what, detail }) => {
                    if !present(&self.list_triggers(hook.id).await?, &r, &e) {
                        return Err(ProcoreError::InDoubt {
                            what,
                            detail: format!("{detail}; the trigger is not there"),
                        });
                    }
                    added.push((r, e));
                }
                Err(err) => return Err(err),
            }
        }
        Ok(HookSetup { hook, created, triggers_added: added, unavailable })
    }

    /// Remove a hook (and its triggers).
    pub async fn delete_hook(&self, id: i64) -> Result<(), ProcoreError> {
        let req = Request::delete(format!("rest/v1.0/webhooks/hooks/{id}")).query("company_id", self.company_id());
        match self.send(req, &format!("webhook hook {id}")).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }
}
