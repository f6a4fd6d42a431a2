//! Adding a system is one connector + one simulator + its flow files, and nothing else.
//!
//! This file is the proof (issue 12, "One registration per system"): it registers the simulator
//! kit's template system (`counter`, `tests/sim/src/common/template.rs`: `GET /items` lists,
//! `POST /items` adds) as a system — settings check, credential fields, connection builder, ping —
//! and a toy flow kind `counter-copy` that copies items from one counter connection to another,
//! made of a [`Source`], a [`Target`] and a [`FlowDef`]. Nothing outside this file (and its `mod`
//! line) names them: the runtime, the configuration check, the credential fields and the catalog
//! find them through their registrations, and the engine runs the flow like any other (work
//! items, natural-key lookup before writing, "already present" on a second run).

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use mlc_core::connect::{BuildError, Connection, ConnectionSpec, CredentialField, SystemEntry};
use mlc_core::engine::flow::{
    DiscoverContext, DiscoveryPage, Eligibility, FlowSpec, Found, MapError, ReadBack, SourceDoc, StepError,
};
use mlc_core::engine::model::{Cursor, DocFacts, Hint, ItemState, ItemSummary, Origin, TargetRef};
use mlc_core::engine::parts::{FlowDef, ReadContext, Source, SourceRecord, SourceSpec, Target, TargetSpec};
use mlc_core::mapping::{MappingKey, MappingSet};
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;
use mlc_flows::catalog::{FlowKind, parse_options};
use mlc_sim::common::template::CounterSim;
use mlc_sim::common::{SimClock, SimKit, SimSystem, start};
use mlc_sim::world::SimWorld;
use serde_json::{Value, json};

use crate::support::{Harness, flow};

// ---- the system: one registration ------------------------------------------------------------

/// A counter connection: the template API at `base_url`, authenticated by an API key.
struct CounterConnection {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl CounterConnection {
    fn build(spec: &ConnectionSpec, creds: Credentials) -> Result<Self, BuildError> {
        check_settings(spec).map_err(BuildError)?;
        let api_key = creds
            .get("api_key")
            .map(|k| k.expose().to_string())
            .ok_or_else(|| BuildError(format!("connection {}: credential api_key is missing", spec.name)))?;
        let http = reqwest::Client::builder().no_proxy().build().map_err(|e| BuildError(e.to_string()))?;
        Ok(CounterConnection { http, base_url: spec.base_url.trim_end_matches('/').to_string(), api_key })
    }

    async fn list(&self) -> Result<Vec<Value>, StepError> {
        let r = self
            .http
            .get(format!("{}/items", self.base_url))
            .header("x-api-key", &self.api_key)
            .send()
            .await
            .map_err(|e| StepError::retryable(format!("counter: GET /items: {e}")))?;
        if !r.status().is_success() {
            return Err(StepError::retryable(format!("counter: GET /items answered {}", r.status())));
        }
        r.json().await.map_err(|e| StepError::permanent(format!("counter: GET /items: not a JSON list: {e}")))
    }
}

#[async_trait]
impl Connection for CounterConnection {
    fn system(&self) -> &str {
        "counter"
    }
    async fn ping(&self) -> Vec<PingCheck> {
        match self.list().await {
            Ok(items) => vec![PingCheck::pass("items readable", format!("{} items", items.len()))],
            Err(e) => vec![PingCheck::fail("items readable", e.message, "check base_url")],
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn check_settings(spec: &ConnectionSpec) -> Result<(), String> {
    match spec.options.keys().next() {
        Some(k) => Err(format!("connection {}: unknown setting `{k}` (a counter has none)", spec.name)),
        None => Ok(()),
    }
}

mlc_core::register_system!(
    COUNTER,
    SystemEntry {
        name: "counter",
        aliases: &[],
        title: "Counter (the simulator kit's template system)",
        credential_fields: &[CredentialField::secret("api_key", "the counter's API key")],
        check: check_settings,
        build: |spec, creds| CounterConnection::build(spec, creds).map(|c| Arc::new(c) as Arc<dyn Connection>),
    }
);

// ---- the source: items of a counter ----------------------------------------------------------

struct ItemSource {
    spec: SourceSpec,
    conn: Arc<dyn Connection>,
}

impl ItemSource {
    fn conn(&self) -> &CounterConnection {
        self.conn.as_any().downcast_ref().expect("a counter connection")
    }
}

#[async_trait]
impl Source for ItemSource {
    type Record = Value;

    fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    /// The template API has no "modified since": every poll lists everything (the engine's
    /// record versions keep a second poll from doing anything twice).
    async fn discover(&self, _cursor: Option<&Cursor>, ctx: &DiscoverContext) -> Result<DiscoveryPage, StepError> {
        let items = self.conn().list().await?;
        let hints = items
            .iter()
            .filter_map(|i| i.get("id").and_then(Value::as_str))
            .map(|id| self.spec.hint("item", id, Origin::Poll, ctx.now))
            .collect();
        Ok(DiscoveryPage { hints, next_cursor: None, has_more: false })
    }

    async fn read_back(&self, hint: &Hint, _ctx: &ReadContext<'_>) -> Result<ReadBack<SourceRecord<Value>>, StepError> {
        let items = self.conn().list().await?;
        Ok(match items.into_iter().find(|i| i.get("id").and_then(Value::as_str) == Some(hint.id.as_str())) {
            Some(record) => ReadBack::found(vec![SourceRecord {
                entity: "item".into(),
                id: hint.id.clone(),
                version: record.to_string(),
                record,
            }]),
            None => ReadBack::Gone(format!("item {} is no longer listed", hint.id)),
        })
    }
}

// ---- the target: items of another counter, keyed by their id ---------------------------------

struct ItemTarget {
    spec: TargetSpec,
    conn: Arc<dyn Connection>,
}

impl ItemTarget {
    fn conn(&self) -> &CounterConnection {
        self.conn.as_any().downcast_ref().expect("a counter connection")
    }
    fn target_ref(&self, id: &str) -> TargetRef {
        TargetRef { system: "counter".into(), entity: "item".into(), id: id.into(), display: None, status: None }
    }
}

#[async_trait]
impl Target for ItemTarget {
    type Doc = Value;

    fn spec(&self) -> &TargetSpec {
        &self.spec
    }
    fn natural_key(&self, doc: &Value) -> String {
        doc["id"].as_str().unwrap_or_default().to_string()
    }
    fn facts(&self, doc: &Value) -> DocFacts {
        DocFacts { source_doc: doc["from"].as_str().map(String::from), ..DocFacts::default() }
    }
    async fn lookup(&self, doc: &Value) -> Result<Option<Found>, StepError> {
        let key = self.natural_key(doc);
        let items = self.conn().list().await?;
        Ok(items.iter().find(|i| i["id"].as_str() == Some(key.as_str())).map(|i| {
            Found::new(self.target_ref(&key))
                .with_facts(DocFacts { source_doc: i["from"].as_str().map(String::from), ..DocFacts::default() })
        }))
    }
    async fn create(&self, doc: &Value) -> Result<TargetRef, StepError> {
        let c = self.conn();
        let r = c
            .http
            .post(format!("{}/items", c.base_url))
            .header("x-api-key", &c.api_key)
            .json(doc)
            .send()
            .await
            .map_err(|e| StepError::in_doubt(format!("counter: POST /items: {e}")))?;
        if !r.status().is_success() {
            return Err(StepError::permanent(format!("counter: POST /items answered {}", r.status())));
        }
        Ok(self.target_ref(&self.natural_key(doc)))
    }
}

// ---- the flow: copy items that have a name ---------------------------------------------------

struct CounterCopy {
    spec: FlowSpec,
}

#[async_trait]
impl FlowDef for CounterCopy {
    type Source = ItemSource;
    type Target = ItemTarget;
    type Doc = Value;

    fn describe(&self) -> FlowSpec {
        self.spec.clone()
    }
    fn documents(&self, record: &SourceRecord<Value>) -> Vec<SourceDoc<Value>> {
        vec![SourceDoc {
            entity: "item".into(),
            id: record.id.clone(),
            version: record.version.clone(),
            summary: ItemSummary { label: format!("item {}", record.id), ..ItemSummary::default() },
            record: record.record.clone(),
        }]
    }
    fn eligibility(&self, doc: &SourceDoc<Value>) -> Eligibility {
        match doc.record.get("name") {
            Some(_) => Eligibility::Eligible,
            None => Eligibility::skip("unnamed_item", format!("item {} has no name", doc.id)),
        }
    }
    fn required_mappings(&self, _doc: &SourceDoc<Value>) -> Vec<MappingKey> {
        Vec::new()
    }
    fn map(&self, doc: &SourceDoc<Value>, _mappings: &MappingSet) -> Result<Value, MapError> {
        Ok(json!({ "id": doc.id, "name": doc.record["name"], "from": format!("counter item {}", doc.id) }))
    }
}

fn build(ctx: &mut mlc_flows::catalog::FlowContext<'_>) -> Result<(), BuildError> {
    let get = |name: &str| {
        ctx.connections.get(name).cloned().ok_or_else(|| BuildError(format!("no connection named {name}")))
    };
    let (from, to) = (get(&ctx.settings.source)?, get(&ctx.settings.target)?);
    let spec = FlowSpec {
        name: ctx.name.to_string(),
        kind: "counter-copy".into(),
        source_system: "counter".into(),
        target_system: "counter".into(),
        mapping_scope: ctx.mapping_scope(&TOY_KIND),
        description: "counter items → another counter".into(),
        ..FlowSpec::default()
    };
    let source_conn = ctx.settings.source.clone();
    let source = ctx.source("item", || {
        Ok(ItemSource {
            spec: SourceSpec {
                connection: source_conn.clone(),
                system: "counter".into(),
                family: "item".into(),
                entities: vec!["item".into()],
                has_webhooks: false,
            },
            conn: from,
        })
    })?;
    let target = Arc::new(ItemTarget {
        spec: TargetSpec { connection: ctx.settings.target.clone(), system: "counter".into(), entity: "item".into() },
        conn: to,
    });
    ctx.add(CounterCopy { spec }, source, target)
}

mlc_flows::register_flow_kind!(
    TOY_KIND,
    FlowKind {
        name: "counter-copy",
        description: "counter items → another counter (the toy flow proving one registration per system)",
        source_system: "counter",
        target_system: "counter",
        mapping_scope: "counter-counter",
        check_options: |o| parse_options::<serde_json::Map<String, Value>>(o).map(|_| ()),
        build,
    }
);

// ---- the test --------------------------------------------------------------------------------

#[tokio::test]
async fn the_template_system_and_a_toy_flow_register_from_their_own_file_and_run() {
    assert!(mlc_core::connect::system("counter").is_some(), "the counter system is found by its registration");
    assert!(mlc_flows::catalog::kind("counter-copy").is_some(), "the toy flow kind is found by its registration");
    let entry = mlc_core::connect::system("counter").expect("counter");
    assert!(entry.field("api_key").is_some() && entry.field("apikey").is_none(), "credential fields are its own");

    let clock = SimClock::real();
    let mut w = SimWorld::new(clock.clone());
    let a = start(Arc::new(CounterSim::default()), SimKit::new(clock.clone()), 0).await.expect("counter a");
    let a = w.add("counter-a", a);
    a.seed(&json!({"items": [{"id": "A1", "name": "bolts"}, {"id": "A2", "name": "nuts"}, {"id": "A3"}]}))
        .expect("seed");
    w.add("counter-b", start(Arc::new(CounterSim::default()), SimKit::new(clock), 0).await.expect("counter b"));

    let h = Harness::new(&w, vec![("copy", flow(Some("counter-copy"), "counter-a", "counter-b", json!({})))]).await;
    h.run("copy").await;
    assert_eq!(h.count("copy", ItemState::Posted).await, 2, "two named items copied");
    assert_eq!(h.count("copy", ItemState::Skipped).await, 1, "the unnamed one skipped with its code");
    let skipped = h.items("copy").await.into_iter().find(|i| i.state == ItemState::Skipped).expect("skipped");
    assert_eq!(skipped.code.as_deref(), Some("unnamed_item"));
    let b = w.system::<CounterSim>("counter-b").expect("b");
    let copied = b.snapshot()["items"].as_array().map(Vec::len);
    assert_eq!(copied, Some(2));

    // A second run finds the same versions: nothing is written twice.
    h.run("copy").await;
    assert_eq!(b.snapshot()["items"].as_array().map(Vec::len), Some(2), "nothing copied twice");
}
