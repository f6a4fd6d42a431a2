//! [`Store`] on one DynamoDB table (single-table design).
//!
//! Keys are strings `pk`/`sk`; one KEYS_ONLY global secondary index `gsi1` (`gsi1pk`/`gsi1sk`)
//! serves the listings by flow and state. Every other secondary lookup is an *index row* in the
//! base table, so those lookups are strongly consistent (a GSI is not) and cost a write only when
//! the indexed value changes (a GSI with the item projected would be rewritten on every write).
//!
//! | record | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | work item | `ITEM#<item key>` | `#ITEM` | `data` (the `WorkItem` as JSON), `rev`, `atok`, `state`, `flow`, `updated`, `claim_owner`, `claim_until` (epoch ms), `gsi1pk` = `STATE#<flow>#<state>`, `gsi1sk` = `<when it entered the state>#<key>` |
//! | audit row | `ITEM#<item key>` | `AUDIT#<rev:010>!<token>` (claims, transitions; `prev` = the previous revision's token), `AUDIT#<rev:010>#<at µs>#<rand>` (appended notes), `AUDIT#<rev:010>` (written before the chain) | `data` (the `AuditEntry` JSON) or `blob` (its SHA-256 when over 350 KB) |
//! | document versions | `DOC#<flow>#<system>#<doc id>` | `<item key>` | — |
//! | posted natural key | `NK#<scope>#<natural key>` | `<item key>` | — (present while the item holds the key) |
//! | waiting for a mapping | `WAIT#<scope/kind/source>` | `<item key>` | — (present while the item needs it) |
//! | flows with items | `FLOWS` | `<flow>` | — |
//! | blob | `BLOB#<sha256>` | `#BLOB` | `body` (B), or `chunks` + `len` with rows `CHUNK#<00000>` |
//! | cursor | `CURSORS` | `<flow>` | `value`, `updated` |
//! | mapping | `MAPPINGS` | `<scope>#<kind>#<source>` | `data` (the `Mapping` JSON) |
//! | named lock | `LOCK#<name>` | `#LOCK` | `owner`, `until` (epoch ms), `expires_at` (TTL) |
//! | webhook delivery id | `DELIVERY#<system>#<id>` | `#DELIVERY` | `until` (epoch ms), `expires_at` (TTL) |
//! | seen version | `SEEN#<record key>` | `#SEEN` | `version`, `expires_at` (TTL, 90 days) |
//! | rate budget | `BUDGET#<name>` | `#BUDGET` | see [`crate::budget`] |
//!
//! **Writes per item, and why no transactions.** A `TransactWriteItems` costs twice the write
//! units of the same writes done one by one, and writes were 80% of the AWS cost, so every write is
//! a single conditional `PutItem` on the item (fenced by `rev`, optimistic concurrency), with the
//! rows around it ordered so no reader can see an inconsistent state:
//! - **Audit chain.** A claim or transition first writes its audit row under a fresh token with
//!   the previous revision's token in `prev`, then the item with the new token in `atok`. The trail
//!   is read from the item's `atok` back along `prev`: a row whose item write lost a race (or whose
//!   writer died in between) is never on the chain, so the trail holds exactly the transitions that
//!   happened. (The losing writer also deletes its row; that is only tidiness.)
//! - **Index rows** a new state needs (`NK#`, `WAIT#`, `DOC#`) are written before the item, rows it
//!   no longer needs are deleted after it: a lookup may meet a row whose item does not hold the
//!   key (a crash in between), never an item holding a key without its row, and every lookup
//!   re-checks the items it reads.
//! - **`gsi1`** moves only when the state changes (the sort key is when the item entered its
//!   state), so claims and same-state writes cost the index nothing.
//!
//! Access patterns:
//! - item by key: GetItem (consistent). Register: the `DOC#` row, then a conditional Put
//!   (`attribute_not_exists`).
//! - claim: the Powertools idempotency condition on the item, `attribute_not_exists(claim_until) OR
//!   claim_until <= :now`, plus `rev = :rev` (the new item is computed from the one read), after
//!   its `claimed` audit row. Of two racing claimers exactly one item write succeeds; the other
//!   re-reads and sees `Held`.
//! - transition: new index rows, the audit row, the item (fenced by `rev`, after `may_write` on the
//!   item read), then the index rows to drop.
//! - audit trail: Query `pk = ITEM#<key> AND begins_with(sk, "AUDIT#")` (consistent), oldest first,
//!   keeping the chain.
//! - open versions / posted by natural key / items waiting for a mapping: Query the index rows
//!   (consistent), then BatchGetItem (consistent) the items, filtered again in code.
//! - list items of a flow (and state): Query `gsi1`, BatchGetItem; of a state alone (the sweep,
//!   every minute): the same for each flow in `FLOWS` (no scan); state counts and listings without
//!   either: Scan (operator views, linear in the table).
//! - cursors: one partition, Query to list; compare-and-set = conditional UpdateItem.
//! - mappings: one partition (hundreds to thousands of rows); BatchGetItem by key, Query to list.
//! - locks and delivery ids: conditional Put (`attribute_not_exists OR until <= :now`); the TTL
//!   attribute `expires_at` lets DynamoDB delete them eventually, but TTL deletion lags (days) and
//!   moto never deletes, so every read compares the expiry with now and treats expired as absent.
//!
//! **Known revisions.** The store remembers, per process, the last revision of each item it read
//! or wrote (up to [`KNOWN_ITEMS`]). A claim, a transition or an audit note starts from that
//! revision instead of reading the item again: the item write is conditional on `rev` anyway, so
//! a revision another process has moved on from only loses the race and the write is recomputed
//! from a fresh read. An answer that writes nothing ("held by another worker", "already
//! finished", "you may not write it") is never given from memory: it is confirmed by a read. On
//! the common path (register, claim, write sent, posted) this saves three of the four reads.
//!
//! Item size: DynamoDB refuses items over 400 KB. Blobs larger than 350 KB are split into chunk rows
//! of 350 KB (up to 64 chunks, 22 MB; larger is refused with an error naming the hash and size);
//! an audit entry over 350 KB is stored as a blob and its row keeps the hash.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    KeysAndAttributes, Projection, ProjectionType, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, TimeToLiveSpecification,
};
use chrono::{DateTime, SecondsFormat, Utc};
use mlc_core::engine::memory::{may_write, note_origin, order_and_limit};
use mlc_core::engine::model::{
    AuditEntry, Claim, Cursor, ItemFilter, ItemKey, ItemState, NewItem, StateCount, Transition, WorkItem,
    holds_natural_key,
};
use mlc_core::engine::ports::{ClaimResult, Store, StoreError};
use mlc_core::mapping::{Mapping, MappingKey};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::sdk_error;

type Attrs = HashMap<String, AttributeValue>;

/// Largest value kept in one item (DynamoDB's limit is 400 KB including names and keys).
pub const ITEM_BUDGET: usize = 350_000;
/// Most chunks one blob may use.
pub const MAX_CHUNKS: usize = 64;
/// How long a seen-version marker lives (a lost marker only costs one read-back).
const SEEN_TTL: Duration = Duration::from_secs(90 * 24 * 3600);
/// How many times a write that lost an optimistic race is recomputed before giving up.
const MAX_RACES: usize = 16;
/// The name of the secondary index.
pub const GSI1: &str = "gsi1";
/// How many items' last revisions a store remembers (see "Known revisions"); past this the
/// memory starts over (an item forgotten costs one read).
pub const KNOWN_ITEMS: usize = 2048;

/// The DynamoDB store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Flows this process has noted in `FLOWS`.
    flows_seen: std::sync::Arc<Mutex<BTreeSet<String>>>,
    /// The last revision of items this process read or wrote (see "Known revisions").
    known: std::sync::Arc<Mutex<HashMap<ItemKey, (WorkItem, Meta)>>>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn get_s<'a>(a: &'a Attrs, k: &str) -> Option<&'a str> {
    a.get(k).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn get_n(a: &Attrs, k: &str) -> Option<i64> {
    a.get(k).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn key(pk: impl Into<String>, sk: impl Into<String>) -> Attrs {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

fn item_pk(k: &ItemKey) -> String {
    format!("ITEM#{}", k.as_str())
}

const ITEM_SK: &str = "#ITEM";

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn ttl_secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn plus(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn doc_pk(flow: &str, system: &str, doc_id: &str) -> String {
    format!("DOC#{flow}#{system}#{doc_id}")
}

fn nk_pk(flow: &str, nk: &str) -> String {
    format!("NK#{flow}#{nk}")
}

fn wait_pk(k: &MappingKey) -> String {
    format!("WAIT#{}", k.id())
}

fn mapping_sk(k: &MappingKey) -> String {
    format!("{}#{}#{}", k.scope, k.kind, k.source)
}

/// What a work item's row holds besides the item.
#[derive(Debug, Clone, Default)]
struct Meta {
    rev: i64,
    /// Its `gsi1` sort key, kept while the state does not change.
    gsi1sk: Option<String>,
    /// The token of this revision's audit row (the head of the audit chain).
    atok: Option<String>,
}

impl Meta {
    /// What an item row's attributes say of its revision, listing and audit head.
    fn of(a: &Attrs) -> Meta {
        Meta {
            rev: get_n(a, "rev").unwrap_or(0),
            gsi1sk: get_s(a, "gsi1sk").map(str::to_string),
            atok: get_s(a, "atok").map(str::to_string),
        }
    }
}

/// A token naming one audit row.
fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_string()
}

/// A write that lost a race (condition failed): recompute and try again.
enum Race {
    Lost,
    Failed(StoreError),
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), flows_seen: Default::default(), known: Default::default() }
    }

    /// Remember an item's revision (a finished item is forgotten: nothing claims it again).
    fn remember(&self, item: &WorkItem, meta: &Meta) {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if item.state.is_terminal() {
            known.remove(&item.key);
            return;
        }
        if known.len() >= KNOWN_ITEMS && !known.contains_key(&item.key) {
            known.clear();
        }
        known.insert(item.key.clone(), (item.clone(), meta.clone()));
    }

    /// The revision this process last saw of an item, if it remembers one.
    fn recall(&self, k: &ItemKey) -> Option<(WorkItem, Meta)> {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).get(k).cloned()
    }

    fn forget(&self, k: &ItemKey) {
        self.known.lock().unwrap_or_else(|p| p.into_inner()).remove(k);
    }

    /// The revision a write starts from: the remembered one (`known`, taken: used once, so a
    /// retry reads), else the item read now. The flag says it came from memory.
    async fn start_from(
        &self,
        k: &ItemKey,
        known: &mut Option<(WorkItem, Meta)>,
    ) -> Result<(WorkItem, Meta, bool), StoreError> {
        match known.take() {
            Some((item, meta)) => Ok((item, meta, true)),
            None => {
                let (item, meta) = self.read_item(k).await?.ok_or_else(|| StoreError::NotFound(k.to_string()))?;
                Ok((item, meta, false))
            }
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Create the table as `infra/template.yaml` declares it (tests and development; production
    /// tables come from the template). Waits until it is active and turns TTL on.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Other(format!("table {table}: {e}"));
        let attr = |name: &str| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ScalarAttributeType::S).build()
        };
        let ks = |name: &str, kt: KeyType| KeySchemaElement::builder().attribute_name(name).key_type(kt).build();
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(ks("gsi1pk", KeyType::Hash).map_err(build)?)
            .key_schema(ks("gsi1sk", KeyType::Range).map_err(build)?)
            .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
            .build()
            .map_err(build)?;
        client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr("pk").map_err(build)?)
            .attribute_definitions(attr("sk").map_err(build)?)
            .attribute_definitions(attr("gsi1pk").map_err(build)?)
            .attribute_definitions(attr("gsi1sk").map_err(build)?)
            .key_schema(ks("pk", KeyType::Hash).map_err(build)?)
            .key_schema(ks("sk", KeyType::Range).map_err(build)?)
            .global_secondary_indexes(gsi)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("creating table {table}"), e))?;
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder().attribute_name("expires_at").enabled(true).build().map_err(build)?,
            )
            .send()
            .await
            .map_err(|e| sdk_error(&format!("enabling TTL on table {table}"), e))?;
        Ok(())
    }

    fn to_json<T: Serialize>(&self, what: &str, v: &T) -> Result<String, StoreError> {
        serde_json::to_string(v)
            .map_err(|e| StoreError::Other(format!("table {}: {what}: cannot encode: {e}", self.table)))
    }

    fn decode_json<T: DeserializeOwned>(&self, what: &str, a: &Attrs) -> Result<T, StoreError> {
        let data = get_s(a, "data")
            .ok_or_else(|| StoreError::Corrupt(format!("table {}: {what} has no data attribute", self.table)))?;
        serde_json::from_str(data).map_err(|e| StoreError::Corrupt(format!("table {}: {what}: {e}", self.table)))
    }

    /// The attributes of a work item at revision `rev`, whose audit row has token `atok`. The
    /// item stays under the same `gsi1` sort key while its state does not change (`listed`), so
    /// writes within a state cost the index nothing.
    fn item_attrs(
        &self,
        item: &WorkItem,
        rev: i64,
        atok: Option<&str>,
        listed: Option<&str>,
    ) -> Result<Attrs, StoreError> {
        let data = self.to_json(&format!("item {}", item.key), item)?;
        if data.len() > ITEM_BUDGET {
            return Err(StoreError::Other(format!(
                "table {}: item {} is {} bytes as JSON, over the {ITEM_BUDGET}-byte DynamoDB item budget",
                self.table,
                item.key,
                data.len()
            )));
        }
        let updated = ts(item.updated_at);
        let mut a = key(item_pk(&item.key), ITEM_SK);
        a.insert("data".into(), s(data));
        a.insert("rev".into(), n(rev));
        a.insert("state".into(), s(item.state.as_str()));
        a.insert("flow".into(), s(&item.flow));
        a.insert("updated".into(), s(&updated));
        a.insert("gsi1pk".into(), s(format!("STATE#{}#{}", item.flow, item.state.as_str())));
        a.insert("gsi1sk".into(), s(listed.map_or_else(|| format!("{updated}#{}", item.key), str::to_string)));
        if let Some(t) = atok {
            a.insert("atok".into(), s(t));
        }
        if let Some(c) = &item.claim {
            a.insert("claim_owner".into(), s(&c.owner));
            a.insert("claim_until".into(), n(ms(c.until)));
        }
        Ok(a)
    }

    /// The item and what its row holds besides, read consistently.
    async fn read_item(&self, k: &ItemKey) -> Result<Option<(WorkItem, Meta)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(item_pk(k), ITEM_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: reading item {k}", self.table), e))?;
        match out.item() {
            None => Ok(None),
            Some(a) => {
                let item: WorkItem = self.decode_json(&format!("item {k}"), a)?;
                let meta = Meta::of(a);
                self.remember(&item, &meta);
                Ok(Some((item, meta)))
            }
        }
    }

    /// Write `next` as the revision after `old`'s (conditional on it, and on `extra` ANDed), with
    /// `atok` as its audit token.
    async fn item_write(
        &self,
        what: &str,
        before: &WorkItem,
        old: &Meta,
        next: &WorkItem,
        atok: Option<&str>,
        extra: Option<(&str, Vec<(&str, AttributeValue)>)>,
    ) -> Result<(), Race> {
        let listed = old.gsi1sk.as_deref().filter(|_| before.state == next.state);
        let attrs = self.item_attrs(next, old.rev + 1, atok, listed).map_err(Race::Failed)?;
        let written = Meta::of(&attrs);
        let mut cond = "#rev = :rev".to_string();
        let mut b = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .expression_attribute_names("#rev", "rev")
            .expression_attribute_values(":rev", n(old.rev));
        if let Some((text, values)) = extra {
            cond = format!("{cond} AND ({text})");
            for (k, v) in values {
                b = b.expression_attribute_values(k, v);
            }
            b = b.expression_attribute_names("#cu", "claim_until");
        }
        match b.condition_expression(cond).send().await {
            Ok(_) => {
                self.remember(next, &written);
                Ok(())
            }
            Err(SdkError::ServiceError(se)) if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                self.forget(&next.key);
                Err(Race::Lost)
            }
            Err(e) => Err(Race::Failed(sdk_error(&format!("table {}: {what}", self.table), e))),
        }
    }

    /// An unconditional put (an index or audit row).
    async fn put_row(&self, what: &str, attrs: Attrs) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: {what}", self.table), e))?;
        Ok(())
    }

    async fn delete_row(&self, what: &str, k: Attrs) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(k))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: {what}", self.table), e))?;
        Ok(())
    }

    /// The flow's row in `FLOWS` (what a listing by state alone walks), once per flow per process.
    async fn note_flow(&self, flow: &str) -> Result<(), StoreError> {
        if self.flows_seen.lock().unwrap_or_else(|p| p.into_inner()).contains(flow) {
            return Ok(());
        }
        self.put_row(&format!("noting flow {flow}"), key("FLOWS", flow)).await?;
        self.flows_seen.lock().unwrap_or_else(|p| p.into_inner()).insert(flow.to_string());
        Ok(())
    }

    /// The chained audit row of revision `rev` (see "Audit chain" in the module docs).
    async fn chain_row(
        &self,
        k: &ItemKey,
        rev: i64,
        token: &str,
        prev: Option<&str>,
        entry: &AuditEntry,
    ) -> Result<Attrs, StoreError> {
        let mut a = self.audit_attrs(k, format!("{}!{token}", audit_sk(rev)), entry).await?;
        if let Some(p) = prev {
            a.insert("prev".into(), s(p));
        }
        Ok(a)
    }

    /// An audit row (stored as a blob reference when it is too large for an item).
    async fn audit_attrs(&self, k: &ItemKey, sk: String, entry: &AuditEntry) -> Result<Attrs, StoreError> {
        let json = self.to_json(&format!("audit entry of {k}"), entry)?;
        let mut a = key(item_pk(k), sk);
        if json.len() > ITEM_BUDGET {
            let sha = hex_sha256(json.as_bytes());
            self.put_blob(&sha, json.as_bytes()).await?;
            a.insert("blob".into(), s(sha));
        } else {
            a.insert("data".into(), s(json));
        }
        Ok(a)
    }

    fn too_many_races(&self, what: &str) -> StoreError {
        StoreError::Unavailable(format!("table {}: {what}: lost {MAX_RACES} races in a row; retry later", self.table))
    }

    /// Items by key, read consistently, in any order; missing ones are left out.
    async fn batch_get_items(&self, keys: &[ItemKey]) -> Result<Vec<WorkItem>, StoreError> {
        let mut out = Vec::new();
        let unique: BTreeSet<&ItemKey> = keys.iter().collect();
        let unique: Vec<&ItemKey> = unique.into_iter().collect();
        for chunk in unique.chunks(100) {
            let mut request = KeysAndAttributes::builder()
                .set_keys(Some(chunk.iter().map(|k| key(item_pk(k), ITEM_SK)).collect()))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Other(format!("table {}: {e}", self.table)))?;
            for round in 0.. {
                let resp = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("table {}: reading {} items", self.table, chunk.len()), e))?;
                if let Some(rows) = resp.responses().and_then(|r| r.get(&self.table)) {
                    for a in rows {
                        out.push(self.decode_json::<WorkItem>(&format!("item {:?}", get_s(a, "pk")), a)?);
                    }
                }
                match resp.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    Some(rest) if !rest.keys().is_empty() => {
                        if round >= 8 {
                            return Err(StoreError::Unavailable(format!(
                                "table {}: batch read left {} keys unprocessed after {round} rounds",
                                self.table,
                                rest.keys().len()
                            )));
                        }
                        request = rest.clone();
                        tokio::time::sleep(Duration::from_millis(20 << round)).await;
                    }
                    _ => break,
                }
            }
        }
        Ok(out)
    }

    /// All rows of a partition (sort keys starting with `sk_prefix`), consistent, ascending.
    async fn query_partition(&self, pk: &str, sk_prefix: Option<&str>) -> Result<Vec<Attrs>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_values(":pk", s(pk))
                .set_exclusive_start_key(start.take());
            q = match sk_prefix {
                Some(p) => q
                    .key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
                    .expression_attribute_names("#sk", "sk")
                    .expression_attribute_values(":p", s(p)),
                None => q.key_condition_expression("#pk = :pk"),
            };
            let resp = q.send().await.map_err(|e| sdk_error(&format!("table {}: querying {pk}", self.table), e))?;
            out.extend(resp.items().iter().cloned());
            match resp.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    /// Item keys listed under an index-row partition.
    async fn index_keys(&self, pk: &str) -> Result<Vec<ItemKey>, StoreError> {
        Ok(self
            .query_partition(pk, None)
            .await?
            .iter()
            .filter_map(|a| get_s(a, "sk").map(|k| ItemKey(k.to_string())))
            .collect())
    }

    async fn scan_items(&self, projection: Option<&str>) -> Result<Vec<Attrs>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let mut q = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .filter_expression("#sk = :item")
                .expression_attribute_names("#sk", "sk")
                .expression_attribute_values(":item", s(ITEM_SK))
                .set_exclusive_start_key(start.take());
            if let Some(p) = projection {
                q = q.projection_expression(p).expression_attribute_names("#st", "state");
            }
            let resp = q.send().await.map_err(|e| sdk_error(&format!("table {}: scanning items", self.table), e))?;
            out.extend(resp.items().iter().cloned());
            match resp.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    /// Keys of a flow's items in one state (the caller filters and orders the items).
    async fn keys_by_state(&self, flow: &str, state: ItemState) -> Result<Vec<ItemKey>, StoreError> {
        let pk = format!("STATE#{flow}#{}", state.as_str());
        let mut out = Vec::new();
        let mut start: Option<Attrs> = None;
        loop {
            let resp = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .scan_index_forward(false)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", "gsi1pk")
                .expression_attribute_values(":pk", s(&pk))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error(&format!("table {}: querying {pk}", self.table), e))?;
            out.extend(
                resp.items().iter().filter_map(|a| {
                    get_s(a, "pk").and_then(|p| p.strip_prefix("ITEM#")).map(|k| ItemKey(k.to_string()))
                }),
            );
            match resp.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(out),
            }
        }
    }

    /// Rows of a blob's chunks, in order.
    async fn read_chunks(&self, sha256: &str, chunks: usize, len: usize) -> Result<Vec<u8>, StoreError> {
        let rows = self.query_partition(&format!("BLOB#{sha256}"), Some("CHUNK#")).await?;
        let mut body = Vec::with_capacity(len);
        for a in &rows {
            match a.get("body").and_then(|b| b.as_b().ok()) {
                Some(b) => body.extend_from_slice(b.as_ref()),
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "table {}: blob {sha256}: chunk without body",
                        self.table
                    )));
                }
            }
        }
        if rows.len() != chunks || body.len() != len {
            return Err(StoreError::Corrupt(format!(
                "table {}: blob {sha256}: expected {chunks} chunks and {len} bytes, found {} and {}",
                self.table,
                rows.len(),
                body.len()
            )));
        }
        Ok(body)
    }

    /// Conditional put that reports a failed condition as `Ok(Some(old item))`.
    async fn put_unless(
        &self,
        what: &str,
        item: Attrs,
        condition: &str,
        names: &[(&str, &str)],
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Option<Attrs>, StoreError> {
        let mut b = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (k, v) in names {
            b = b.expression_attribute_names(*k, *v);
        }
        for (k, v) in values {
            b = b.expression_attribute_values(k, v);
        }
        match b.send().await {
            Ok(_) => Ok(None),
            Err(SdkError::ServiceError(se)) if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) => {
                match se.into_err() {
                    PutItemError::ConditionalCheckFailedException(c) => Ok(Some(c.item().cloned().unwrap_or_default())),
                    _ => Ok(Some(Attrs::new())),
                }
            }
            Err(e) => Err(sdk_error(&format!("table {}: {what}", self.table), e)),
        }
    }

    /// The index rows (`NK#`, `WAIT#`) that `new` needs and `old` had but `new` does not: the
    /// first are written before the item (a reader never finds an item holding a key without its
    /// row), the second after it (a stale row only points at an item the reader filters out).
    fn index_changes(old: &WorkItem, new: &WorkItem) -> (Vec<Attrs>, Vec<Attrs>) {
        let (mut adds, mut removes) = (Vec::new(), Vec::new());
        // Items holding a natural key (posted, or a create in doubt) are indexed under their
        // target connection; items from before natural keys were scoped, under their flow.
        let nk_row = |i: &WorkItem| match (&i.natural_key, i.state) {
            (Some(nk), ItemState::Posted | ItemState::InDoubt) => {
                Some(nk_pk(i.nk_scope.as_deref().unwrap_or(&i.flow), nk))
            }
            _ => None,
        };
        let (a, b) = (nk_row(old), nk_row(new));
        if a != b {
            if let Some(pk) = a {
                removes.push(key(pk, new.key.as_str()));
            }
            if let Some(pk) = b {
                adds.push(key(pk, new.key.as_str()));
            }
        }
        let waits = |i: &WorkItem| -> BTreeSet<String> {
            if i.state == ItemState::NeedsMapping { i.missing.iter().map(wait_pk).collect() } else { BTreeSet::new() }
        };
        let (before, after) = (waits(old), waits(new));
        for pk in before.difference(&after) {
            removes.push(key(pk.clone(), new.key.as_str()));
        }
        for pk in after.difference(&before) {
            adds.push(key(pk.clone(), new.key.as_str()));
        }
        (adds, removes)
    }
}

fn hex_sha256(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn audit_sk(rev: i64) -> String {
    format!("AUDIT#{rev:010}")
}

#[async_trait]
impl Store for DynamoStore {
    async fn register(&self, new: NewItem, now: DateTime<Utc>) -> Result<(WorkItem, bool), StoreError> {
        let k = new.key();
        let (origin, read_at) = (new.hint.origin, new.read_at);
        let fresh = WorkItem::new(new, now);
        let what = format!("registering item {k}");
        for _ in 0..MAX_RACES {
            match self.read_item(&k).await? {
                None => {
                    self.note_flow(&fresh.flow).await?;
                    // The version row first: a reader finds the item through it, and filters.
                    self.put_row(&what, key(doc_pk(&fresh.flow, &fresh.system, &fresh.doc_id), k.as_str())).await?;
                    let attrs = self.item_attrs(&fresh, 1, None, None)?;
                    let written = Meta::of(&attrs);
                    let put = self
                        .client
                        .put_item()
                        .table_name(&self.table)
                        .set_item(Some(attrs))
                        .condition_expression("attribute_not_exists(pk)")
                        .send()
                        .await;
                    match put {
                        Ok(_) => {
                            self.remember(&fresh, &written);
                            return Ok((fresh, true));
                        }
                        Err(SdkError::ServiceError(se))
                            if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) =>
                        {
                            continue;
                        }
                        Err(e) => return Err(sdk_error(&format!("table {}: {what}", self.table), e)),
                    }
                }
                Some((mut existing, meta)) => {
                    let before = existing.clone();
                    note_origin(&mut existing, origin);
                    existing.read_at = existing.read_at.max(read_at);
                    if existing == before {
                        return Ok((existing, false));
                    }
                    match self.item_write(&what, &before, &meta, &existing, meta.atok.as_deref(), None).await {
                        Ok(()) => return Ok((existing, false)),
                        Err(Race::Lost) => continue,
                        Err(Race::Failed(e)) => return Err(e),
                    }
                }
            }
        }
        Err(self.too_many_races(&what))
    }

    async fn claim(
        &self,
        k: &ItemKey,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimResult, StoreError> {
        let what = format!("claiming item {k}");
        let mut known = self.recall(k);
        for _ in 0..MAX_RACES {
            let (item, meta, remembered) = self.start_from(k, &mut known).await?;
            let held = item.claim.as_ref().filter(|c| c.until > now);
            if remembered && (item.state.is_terminal() || held.is_some()) {
                continue; // only a read may say no
            }
            if item.state.is_terminal() {
                return Ok(ClaimResult::Finished(item));
            }
            if let Some(c) = held {
                return Ok(ClaimResult::Held { owner: c.owner.clone(), until: c.until });
            }
            let mut claimed = item.clone();
            claimed.claim = Some(Claim { owner: owner.to_string(), until });
            claimed.attempts += 1;
            let mut a = AuditEntry::new(now, owner, "claimed", format!("attempt {} started", claimed.attempts));
            a.from = Some(claimed.state);
            a.attempt = claimed.attempts;
            let token = new_token();
            let row = self.chain_row(k, meta.rev + 1, &token, meta.atok.as_deref(), &a).await?;
            let row_key = key(item_pk(k), get_s(&row, "sk").unwrap_or_default());
            self.put_row(&what, row).await?;
            let cond = ("attribute_not_exists(#cu) OR #cu <= :now", vec![(":now", n(ms(now)))]);
            match self.item_write(&what, &item, &meta, &claimed, Some(&token), Some(cond)).await {
                Ok(()) => return Ok(ClaimResult::Acquired(claimed)),
                Err(Race::Lost) => {
                    // The row of a claim that did not happen: off the chain anyway; tidy up.
                    let _ = self.delete_row(&what, row_key).await;
                    continue;
                }
                Err(Race::Failed(e)) => return Err(e),
            }
        }
        Err(self.too_many_races(&what))
    }

    async fn transition(
        &self,
        k: &ItemKey,
        owner: &str,
        t: Transition,
        now: DateTime<Utc>,
    ) -> Result<WorkItem, StoreError> {
        let what = format!("moving item {k} to {}", t.to);
        let mut known = self.recall(k);
        for _ in 0..MAX_RACES {
            let (item, meta, remembered) = self.start_from(k, &mut known).await?;
            if let Err(e) = may_write(&item, owner, now) {
                if remembered {
                    continue; // only a read may say no
                }
                return Err(e);
            }
            let mut next = item.clone();
            next.apply(&t, now);
            let (adds, removes) = Self::index_changes(&item, &next);
            for row in adds {
                self.put_row(&what, row).await?;
            }
            let token = new_token();
            let row = self.chain_row(k, meta.rev + 1, &token, meta.atok.as_deref(), &t.audit).await?;
            let row_key = key(item_pk(k), get_s(&row, "sk").unwrap_or_default());
            self.put_row(&what, row).await?;
            // The fence: nobody else holds a live claim, or the caller holds it (checked above on the
            // revision this write is conditional on).
            let cond = (
                "attribute_not_exists(#cu) OR #cu <= :now OR claim_owner = :owner",
                vec![(":now", n(ms(now))), (":owner", s(owner))],
            );
            match self.item_write(&what, &item, &meta, &next, Some(&token), Some(cond)).await {
                Ok(()) => {
                    for row in removes {
                        self.delete_row(&what, row).await?;
                    }
                    return Ok(next);
                }
                Err(Race::Lost) => {
                    let _ = self.delete_row(&what, row_key).await;
                    continue;
                }
                Err(Race::Failed(e)) => return Err(e),
            }
        }
        Err(self.too_many_races(&what))
    }

    async fn get_item(&self, k: &ItemKey) -> Result<Option<WorkItem>, StoreError> {
        Ok(self.read_item(k).await?.map(|(i, _)| i))
    }

    async fn get_items(&self, keys: &[ItemKey]) -> Result<Vec<WorkItem>, StoreError> {
        self.batch_get_items(keys).await
    }

    async fn list_items(&self, filter: &ItemFilter) -> Result<Vec<WorkItem>, StoreError> {
        // By flow (and state) through gsi1; by state alone through the flows noted in `FLOWS`
        // (the sweep every tick: no table scan); everything else scans (operator views).
        let flows: Option<Vec<String>> = match (&filter.flow, filter.state) {
            (Some(flow), _) => Some(vec![flow.clone()]),
            (None, Some(_)) => {
                let noted: Vec<String> = self
                    .query_partition("FLOWS", None)
                    .await?
                    .iter()
                    .filter_map(|a| get_s(a, "sk").map(str::to_string))
                    .collect();
                (!noted.is_empty()).then_some(noted)
            }
            (None, None) => None,
        };
        let items = match flows {
            Some(flows) => {
                let states: Vec<ItemState> = match filter.state {
                    Some(st) => vec![st],
                    None => ItemState::ALL.to_vec(),
                };
                let mut keys = Vec::new();
                for flow in &flows {
                    for st in &states {
                        keys.extend(self.keys_by_state(flow, *st).await?);
                    }
                }
                self.batch_get_items(&keys).await?
            }
            None => {
                let mut v = Vec::new();
                for a in self.scan_items(None).await? {
                    v.push(self.decode_json::<WorkItem>(&format!("item {:?}", get_s(&a, "pk")), &a)?);
                }
                v
            }
        };
        Ok(order_and_limit(items.into_iter().filter(|i| filter.matches(i)).collect(), filter.limit))
    }

    async fn state_counts(&self) -> Result<Vec<StateCount>, StoreError> {
        let mut m: BTreeMap<(String, ItemState), StateCount> = BTreeMap::new();
        for a in self.scan_items(Some("pk, flow, #st, updated")).await? {
            let bad = || {
                StoreError::Corrupt(format!(
                    "table {}: item row {:?} lacks flow/state/updated",
                    self.table,
                    get_s(&a, "pk")
                ))
            };
            let flow = get_s(&a, "flow").ok_or_else(bad)?;
            let state: ItemState = get_s(&a, "state").and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let updated = get_s(&a, "updated")
                .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                .map(|d| d.with_timezone(&Utc))
                .ok_or_else(bad)?;
            let e = m.entry((flow.to_string(), state)).or_insert_with(|| StateCount {
                flow: flow.to_string(),
                state,
                count: 0,
                oldest: None,
            });
            e.count += 1;
            e.oldest = Some(e.oldest.map_or(updated, |o| o.min(updated)));
        }
        Ok(m.into_values().collect())
    }

    async fn items_waiting_for(&self, k: &MappingKey) -> Result<Vec<WorkItem>, StoreError> {
        let keys = self.index_keys(&wait_pk(k)).await?;
        let mut items: Vec<WorkItem> = self
            .batch_get_items(&keys)
            .await?
            .into_iter()
            .filter(|i| i.state == ItemState::NeedsMapping && i.missing.contains(k))
            .collect();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(items)
    }

    async fn holding_natural_key(
        &self,
        scope: &str,
        legacy_flow: &str,
        natural_key: &str,
    ) -> Result<Vec<WorkItem>, StoreError> {
        let mut keys = self.index_keys(&nk_pk(scope, natural_key)).await?;
        if legacy_flow != scope {
            keys.extend(self.index_keys(&nk_pk(legacy_flow, natural_key)).await?);
            keys.sort();
            keys.dedup();
        }
        let mut items: Vec<WorkItem> = self
            .batch_get_items(&keys)
            .await?
            .into_iter()
            .filter(|i| holds_natural_key(i, scope, legacy_flow, natural_key))
            .collect();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(items)
    }

    async fn open_versions(
        &self,
        flow: &str,
        system: &str,
        doc_id: &str,
        except: Option<&ItemKey>,
    ) -> Result<Vec<WorkItem>, StoreError> {
        let mut keys = self.index_keys(&doc_pk(flow, system, doc_id)).await?;
        keys.retain(|k| Some(k) != except);
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut items: Vec<WorkItem> = self
            .batch_get_items(&keys)
            .await?
            .into_iter()
            .filter(|i| i.flow == flow && i.system == system && i.doc_id == doc_id && !i.state.is_terminal())
            .collect();
        items.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(items)
    }

    async fn append_audit(&self, k: &ItemKey, entry: AuditEntry) -> Result<(), StoreError> {
        // After the rows of the item's current revision, before the next transition's.
        let rev = match self.recall(k) {
            Some((_, m)) => m.rev,
            None => self.read_item(k).await?.map_or(0, |(_, m)| m.rev),
        };
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let micros = entry.at.timestamp_micros();
        let sk = format!("{}#{micros:020}#{suffix}", audit_sk(rev));
        let attrs = self.audit_attrs(k, sk, &entry).await?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: appending audit to item {k}", self.table), e))?;
        Ok(())
    }

    async fn audit_trail(&self, k: &ItemKey) -> Result<Vec<AuditEntry>, StoreError> {
        let atok = self.read_item(k).await?.and_then(|(_, m)| m.atok);
        let rows = self.query_partition(&item_pk(k), Some("AUDIT#")).await?;
        // The chain: from the item's token back through each row's `prev`. Rows of writes that
        // lost a race (or whose writer died before the item write) are not on it.
        let by_token: HashMap<&str, Option<&str>> = rows
            .iter()
            .filter_map(|a| {
                let (_, tok) = get_s(a, "sk")?.split_once('!')?;
                Some((tok, get_s(a, "prev")))
            })
            .collect();
        let mut chain = BTreeSet::new();
        let mut at = atok.as_deref();
        while let Some(t) = at {
            if !chain.insert(t) {
                break;
            }
            at = by_token.get(t).copied().flatten();
        }
        let mut out = Vec::new();
        for a in &rows {
            let sk = get_s(a, "sk").unwrap_or_default();
            if let Some((_, tok)) = sk.split_once('!')
                && !chain.contains(tok)
            {
                continue;
            }
            let what = format!("audit row {sk:?} of item {k}");
            if let Some(sha) = get_s(a, "blob") {
                let body = self.get_blob(sha).await?.ok_or_else(|| {
                    StoreError::Corrupt(format!("table {}: {what}: blob {sha} is missing", self.table))
                })?;
                out.push(
                    serde_json::from_slice(&body)
                        .map_err(|e| StoreError::Corrupt(format!("table {}: {what}: {e}", self.table)))?,
                );
            } else {
                out.push(self.decode_json(&what, a)?);
            }
        }
        Ok(out)
    }

    async fn put_blob(&self, sha256: &str, body: &[u8]) -> Result<(), StoreError> {
        let pk = format!("BLOB#{sha256}");
        let what = format!("storing blob {sha256} ({} bytes)", body.len());
        let mut manifest = key(&pk, "#BLOB");
        if body.len() <= ITEM_BUDGET {
            manifest.insert("body".into(), AttributeValue::B(Blob::new(body)));
        } else {
            let chunks = body.len().div_ceil(ITEM_BUDGET);
            if chunks > MAX_CHUNKS {
                return Err(StoreError::Other(format!(
                    "table {}: blob {sha256} is {} bytes, over the {} bytes this store keeps ({MAX_CHUNKS} chunks of {ITEM_BUDGET})",
                    self.table,
                    body.len(),
                    MAX_CHUNKS * ITEM_BUDGET
                )));
            }
            // Chunks first, the manifest last: a reader never sees a manifest without its chunks.
            for (i, c) in body.chunks(ITEM_BUDGET).enumerate() {
                let mut row = key(&pk, format!("CHUNK#{i:05}"));
                row.insert("body".into(), AttributeValue::B(Blob::new(c)));
                self.client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(row))
                    .send()
                    .await
                    .map_err(|e| sdk_error(&format!("table {}: {what}, chunk {i}", self.table), e))?;
            }
            manifest.insert("chunks".into(), n(chunks));
            manifest.insert("len".into(), n(body.len()));
        }
        // Stored once: an existing blob with this hash is the same bytes.
        self.put_unless(&what, manifest, "attribute_not_exists(pk)", &[], Vec::new()).await?;
        Ok(())
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("BLOB#{sha256}"), "#BLOB")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: reading blob {sha256}", self.table), e))?;
        let Some(a) = out.item() else { return Ok(None) };
        if let Some(b) = a.get("body").and_then(|b| b.as_b().ok()) {
            return Ok(Some(b.as_ref().to_vec()));
        }
        match (get_n(a, "chunks"), get_n(a, "len")) {
            (Some(c), Some(l)) if c >= 0 && l >= 0 => Ok(Some(self.read_chunks(sha256, c as usize, l as usize).await?)),
            _ => Err(StoreError::Corrupt(format!("table {}: blob {sha256} has neither body nor chunks", self.table))),
        }
    }

    async fn get_cursor(&self, flow: &str) -> Result<Option<Cursor>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key("CURSORS", flow)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: reading cursor of {flow}", self.table), e))?;
        out.item().map(|a| self.cursor_from(a)).transpose()
    }

    async fn cas_cursor(&self, flow: &str, expected: Option<&str>, new: &Cursor) -> Result<bool, StoreError> {
        let mut b = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key("CURSORS", flow)))
            .update_expression("SET #v = :new, #u = :updated")
            .expression_attribute_names("#v", "value")
            .expression_attribute_names("#u", "updated")
            .expression_attribute_values(":new", s(&new.value))
            .expression_attribute_values(":updated", s(ts(new.updated_at)));
        b = match expected {
            None => b.condition_expression("attribute_not_exists(pk)"),
            Some(v) => b.condition_expression("#v = :expected").expression_attribute_values(":expected", s(v)),
        };
        match b.send().await {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(sdk_error(&format!("table {}: moving cursor of {flow} to {:?}", self.table, new.value), e)),
        }
    }

    async fn list_cursors(&self) -> Result<Vec<Cursor>, StoreError> {
        self.query_partition("CURSORS", None).await?.iter().map(|a| self.cursor_from(a)).collect()
    }

    async fn put_mapping(&self, mapping: &Mapping) -> Result<(), StoreError> {
        let mut a = key("MAPPINGS", mapping_sk(&mapping.key));
        a.insert("data".into(), s(self.to_json(&format!("mapping {}", mapping.key.id()), mapping)?));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(a))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: writing mapping {}", self.table, mapping.key.id()), e))?;
        Ok(())
    }

    async fn get_mappings(&self, keys: &[MappingKey]) -> Result<Vec<Mapping>, StoreError> {
        let unique: BTreeSet<String> = keys.iter().map(mapping_sk).collect();
        let unique: Vec<String> = unique.into_iter().collect();
        let mut out = Vec::new();
        for chunk in unique.chunks(100) {
            let mut request = KeysAndAttributes::builder()
                .set_keys(Some(chunk.iter().map(|sk| key("MAPPINGS", sk)).collect()))
                .consistent_read(true)
                .build()
                .map_err(|e| StoreError::Other(format!("table {}: {e}", self.table)))?;
            for round in 0.. {
                let resp =
                    self.client.batch_get_item().request_items(&self.table, request).send().await.map_err(|e| {
                        sdk_error(&format!("table {}: reading {} mappings", self.table, chunk.len()), e)
                    })?;
                if let Some(rows) = resp.responses().and_then(|r| r.get(&self.table)) {
                    for a in rows {
                        out.push(self.decode_json::<Mapping>(&format!("mapping {:?}", get_s(a, "sk")), a)?);
                    }
                }
                match resp.unprocessed_keys().and_then(|u| u.get(&self.table)) {
                    Some(rest) if !rest.keys().is_empty() && round < 8 => {
                        request = rest.clone();
                        tokio::time::sleep(Duration::from_millis(20 << round)).await;
                    }
                    Some(rest) if !rest.keys().is_empty() => {
                        return Err(StoreError::Unavailable(format!(
                            "table {}: mapping read left {} keys unprocessed",
                            self.table,
                            rest.keys().len()
                        )));
                    }
                    _ => break,
                }
            }
        }
        // Callers ask with exact keys; only rows that match one are answers.
        out.retain(|m| keys.contains(&m.key));
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn list_mappings(&self, scope: Option<&str>) -> Result<Vec<Mapping>, StoreError> {
        let prefix = scope.map(|s| format!("{s}#"));
        let mut out: Vec<Mapping> = Vec::new();
        for a in self.query_partition("MAPPINGS", prefix.as_deref()).await? {
            out.push(self.decode_json(&format!("mapping {:?}", get_s(&a, "sk")), &a)?);
        }
        out.retain(|m| scope.is_none_or(|s| m.key.scope == s));
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete_mapping(&self, k: &MappingKey) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key("MAPPINGS", mapping_sk(k))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: deleting mapping {}", self.table, k.id()), e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }

    async fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let mut a = key(format!("LOCK#{name}"), "#LOCK");
        a.insert("owner".into(), s(owner));
        a.insert("until".into(), n(ms(until)));
        // TTL only tidies up; a day after the lock lapsed is plenty.
        a.insert("expires_at".into(), n(ttl_secs(until) + 86_400));
        let old = self
            .put_unless(
                &format!("taking lock {name}"),
                a,
                "attribute_not_exists(pk) OR #until <= :now OR #owner = :owner",
                &[("#until", "until"), ("#owner", "owner")],
                vec![(":now", n(ms(now))), (":owner", s(owner))],
            )
            .await?;
        match old {
            None => Ok(None),
            Some(o) => {
                let holder = get_s(&o, "owner").unwrap_or("unknown").to_string();
                let until = get_n(&o, "until").and_then(DateTime::from_timestamp_millis).unwrap_or(until);
                Ok(Some(Claim { owner: holder, until }))
            }
        }
    }

    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let r = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("LOCK#{name}"), "#LOCK")))
            .condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", s(owner))
            .send()
            .await;
        match r {
            Ok(_) => Ok(()),
            Err(e) if crate::error_code(&e) == Some("ConditionalCheckFailedException") => Ok(()),
            Err(e) => Err(sdk_error(&format!("table {}: releasing lock {name}", self.table), e)),
        }
    }

    async fn delivery_seen(&self, system: &str, delivery_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("DELIVERY#{system}#{delivery_id}"), "#DELIVERY")))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: reading delivery {delivery_id} of {system}", self.table), e))?;
        Ok(out.item().and_then(|a| get_n(a, "until")).is_some_and(|until| until > ms(now)))
    }

    async fn first_delivery(
        &self,
        system: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let until = plus(now, ttl);
        let mut a = key(format!("DELIVERY#{system}#{delivery_id}"), "#DELIVERY");
        a.insert("until".into(), n(ms(until)));
        a.insert("expires_at".into(), n(ttl_secs(until) + 1));
        let old = self
            .put_unless(
                &format!("recording delivery {delivery_id} of {system}"),
                a,
                "attribute_not_exists(pk) OR #until <= :now",
                &[("#until", "until")],
                vec![(":now", n(ms(now)))],
            )
            .await?;
        Ok(old.is_none())
    }

    async fn seen_version(&self, record_key: &str) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("SEEN#{record_key}"), "#SEEN")))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: reading seen version of {record_key}", self.table), e))?;
        let Some(a) = out.item() else { return Ok(None) };
        if get_n(a, "expires_at").is_some_and(|t| t <= Utc::now().timestamp()) {
            return Ok(None);
        }
        Ok(get_s(a, "version").map(str::to_string))
    }

    async fn set_seen_version(&self, record_key: &str, version: &str) -> Result<(), StoreError> {
        let mut a = key(format!("SEEN#{record_key}"), "#SEEN");
        a.insert("version".into(), s(version));
        a.insert("expires_at".into(), n(ttl_secs(plus(Utc::now(), SEEN_TTL))));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(a))
            .send()
            .await
            .map_err(|e| sdk_error(&format!("table {}: writing seen version of {record_key}", self.table), e))?;
        Ok(())
    }
}

impl DynamoStore {
    fn cursor_from(&self, a: &Attrs) -> Result<Cursor, StoreError> {
        let bad =
            || StoreError::Corrupt(format!("table {}: cursor row {:?} is incomplete", self.table, get_s(a, "sk")));
        Ok(Cursor {
            flow: get_s(a, "sk").ok_or_else(bad)?.to_string(),
            value: get_s(a, "value").ok_or_else(bad)?.to_string(),
            updated_at: get_s(a, "updated")
                .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
                .map(|d| d.with_timezone(&Utc))
                .ok_or_else(bad)?,
        })
    }
}
