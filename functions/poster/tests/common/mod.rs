//! A flow for handler tests and the measurement bench, driven by the record id's prefix:
//! `ok-*` posts, `retry-*` fails to read back (retry after 7 s), `bad-*` cannot be mapped
//! (permanent), `auth-*` has its lookup refused until the credentials are "re-read"
//! (`creds_ok`), `skip-*` is ineligible, `gone-*` no longer exists, `hang-*` is sent to a target
//! that never answers (its create waits an hour).
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlc_core::engine::flow::{DiscoveryPage, Eligibility, Flow, FlowSpec, Found, MapError, SourceDoc, StepError};
use mlc_core::engine::model::{Cursor, Hint, ItemSummary, Origin, TargetRef};
use mlc_core::mapping::{MappingKey, MappingSet};

pub const FLOW: &str = "test-flow";

pub struct TestFlow {
    spec: FlowSpec,
    pub creds_ok: bool,
    pub creates: Arc<AtomicUsize>,
    /// Ids `discover` reports (in order; the cursor is the index of the last one enqueued).
    pub discoverable: Vec<String>,
}

impl TestFlow {
    pub fn new(creds_ok: bool, creates: Arc<AtomicUsize>) -> Self {
        TestFlow {
            spec: FlowSpec {
                name: FLOW.into(),
                source_system: "src".into(),
                target_system: "tgt".into(),
                mapping_scope: "src-tgt".into(),
                description: "test flow".into(),
                has_webhooks: true,
                ..Default::default()
            },
            creds_ok,
            creates,
            discoverable: vec!["ok-1".into(), "ok-2".into(), "ok-3".into()],
        }
    }
}

pub fn hint(id: &str) -> Hint {
    Hint::new(FLOW, "src", "doc", id, Origin::Webhook, Utc::now())
}

#[async_trait]
impl Flow for TestFlow {
    type Record = String;
    type Target = String;

    fn spec(&self) -> &FlowSpec {
        &self.spec
    }

    async fn discover(&self, cursor: Option<&Cursor>, now: DateTime<Utc>) -> Result<DiscoveryPage, StepError> {
        let from: usize = cursor.and_then(|c| c.value.parse().ok()).unwrap_or(0);
        let hints: Vec<Hint> = self
            .discoverable
            .iter()
            .skip(from)
            .map(|id| Hint::new(FLOW, "src", "doc", id, Origin::Poll, now))
            .collect();
        Ok(DiscoveryPage { hints, next_cursor: Some(self.discoverable.len().to_string()), has_more: false })
    }

    async fn read_back(&self, hint: &Hint) -> Result<Vec<SourceDoc<String>>, StepError> {
        if hint.id.starts_with("retry") {
            return Err(StepError::retry_after(format!("src doc {}: 503", hint.id), Duration::from_secs(7)));
        }
        if hint.id.starts_with("gone") {
            return Ok(Vec::new());
        }
        Ok(vec![SourceDoc {
            entity: "doc".into(),
            id: hint.id.clone(),
            version: "v1".into(),
            summary: ItemSummary { label: format!("doc {}", hint.id), ..Default::default() },
            record: hint.id.clone(),
        }])
    }

    fn eligibility(&self, doc: &SourceDoc<String>) -> Eligibility {
        if doc.id.starts_with("skip") { Eligibility::Skip("draft".into()) } else { Eligibility::Eligible }
    }

    fn required_mappings(&self, _doc: &SourceDoc<String>) -> Vec<MappingKey> {
        Vec::new()
    }

    fn map(&self, doc: &SourceDoc<String>, _m: &MappingSet) -> Result<String, MapError> {
        if doc.id.starts_with("bad") {
            return Err(MapError::Invalid(format!("doc {} has no supplier", doc.id)));
        }
        Ok(doc.record.clone())
    }

    fn natural_key(&self, target: &String) -> String {
        format!("NK-{target}")
    }

    async fn lookup(&self, target: &String) -> Result<Option<Found>, StepError> {
        if target.starts_with("auth") && !self.creds_ok {
            return Err(StepError::auth("tgt answered 401 to the lookup"));
        }
        Ok(None)
    }

    async fn create(&self, target: &String) -> Result<TargetRef, StepError> {
        self.creates.fetch_add(1, Ordering::SeqCst);
        if target.starts_with("hang") {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Ok(TargetRef {
            system: "tgt".into(),
            entity: "doc".into(),
            id: format!("T-{target}"),
            display: None,
            status: None,
        })
    }
}
