//! [`SqliteStore`]: the engine's durable state in one SQLite file — work items with their claims
//! and audit trails, large bodies, cursors, mappings, webhook delivery ids, seen versions and
//! named locks.
//!
//! Items are stored whole as JSON and changed only through the core's shared helpers
//! ([`WorkItem::apply`], [`note_origin`], [`may_write`], [`order_and_limit`]), so they change
//! exactly as in the in-memory reference store; indexed columns beside the JSON serve the queries
//! (by flow and state, by document, by natural key, by missing mapping). Each writing method is
//! one `BEGIN IMMEDIATE` transaction — the claim's check, attempt count and `claimed` audit row
//! commit together, as do a transition's fence check, update and audit row — so two processes on
//! the same file can race for an item and exactly one wins.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlc_core::engine::memory::{may_write, note_origin, order_and_limit};
use mlc_core::engine::model::{
    AuditEntry, Claim, Cursor, ItemFilter, ItemKey, ItemState, NewItem, StateCount, Transition, WorkItem,
    holds_natural_key,
};
use mlc_core::engine::ports::{ClaimResult, Store, StoreError};
use mlc_core::mapping::{Mapping, MappingKey};
use rusqlite::{Connection, OptionalExtension, params, params_from_iter, types::Value};

use crate::db::{Db, bad_json, db_err, ns, plus, to_json};
use crate::error::LocalError;

/// A [`Store`] on a SQLite file. Cheap to clone (clones share one connection).
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) db: Db,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("file", &self.db.label()).finish()
    }
}

impl SqliteStore {
    /// Open (or create) the store at `path`: creates missing parent directories, refuses files that
    /// are not ml-connector databases or come from a newer version, and brings an older schema up
    /// to date. Never writes to a file it refuses.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LocalError> {
        Ok(SqliteStore { db: Db::open(path.as_ref())? })
    }

    /// A private database that lives as long as this handle and its clones (tests).
    pub fn open_in_memory() -> Result<Self, LocalError> {
        Ok(SqliteStore { db: Db::open_in_memory()? })
    }

    /// The file this store is on (`:memory:` for an in-memory store).
    pub fn location(&self) -> &str {
        self.db.label()
    }

    /// Read every page and report damage (`PRAGMA quick_check`): for `mlc` health checks.
    pub async fn check(&self) -> Result<(), StoreError> {
        self.db.check().await
    }
}

// ------------------------------------------------------------------ item rows

fn decode_item(label: &str, body: &str) -> Result<WorkItem, StoreError> {
    serde_json::from_str(body).map_err(|e| bad_json(label, "work item", e))
}

fn load_item(c: &Connection, label: &str, key: &str) -> Result<Option<WorkItem>, StoreError> {
    let body: Option<String> = c
        .prepare_cached("SELECT body FROM items WHERE key = ?1")
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .map_err(|e| db_err(label, e))?;
    body.map(|b| decode_item(label, &b)).transpose()
}

fn must_load(c: &Connection, label: &str, key: &ItemKey) -> Result<WorkItem, StoreError> {
    load_item(c, label, key.as_str())?.ok_or_else(|| StoreError::NotFound(key.to_string()))
}

/// All items a query selects (its only column must be `body`).
fn query_items(c: &Connection, label: &str, sql: &str, args: &[&str]) -> Result<Vec<WorkItem>, StoreError> {
    let mut stmt = c.prepare_cached(sql).map_err(|e| db_err(label, e))?;
    let bodies = stmt
        .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(0))
        .map_err(|e| db_err(label, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| db_err(label, e))?;
    bodies.iter().map(|b| decode_item(label, b)).collect()
}

fn insert_item(c: &Connection, label: &str, item: &WorkItem) -> Result<(), StoreError> {
    let body = to_json(label, "work item", item)?;
    c.prepare_cached(
        "INSERT INTO items (key, flow, system, doc_id, state, natural_key, updated_ns, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            item.key.as_str(),
            item.flow,
            item.system,
            item.doc_id,
            item.state.as_str(),
            item.natural_key,
            ns(item.updated_at),
            body
        ])
    })
    .map_err(|e| db_err(label, e))?;
    sync_missing(c, label, item, &[])
}

/// Rewrite an item's row; `missing_before` is what the index held for it.
fn save_item(c: &Connection, label: &str, item: &WorkItem, missing_before: &[MappingKey]) -> Result<(), StoreError> {
    let body = to_json(label, "work item", item)?;
    let n = c
        .prepare_cached(
            "UPDATE items SET flow = ?2, system = ?3, doc_id = ?4, state = ?5, natural_key = ?6, updated_ns = ?7,
             body = ?8 WHERE key = ?1",
        )
        .and_then(|mut s| {
            s.execute(params![
                item.key.as_str(),
                item.flow,
                item.system,
                item.doc_id,
                item.state.as_str(),
                item.natural_key,
                ns(item.updated_at),
                body
            ])
        })
        .map_err(|e| db_err(label, e))?;
    if n != 1 {
        return Err(StoreError::NotFound(item.key.to_string()));
    }
    sync_missing(c, label, item, missing_before)
}

/// Keep `item_missing` equal to the item's missing keys (non-empty only in `needs_mapping`).
fn sync_missing(c: &Connection, label: &str, item: &WorkItem, before: &[MappingKey]) -> Result<(), StoreError> {
    if before == item.missing.as_slice() {
        return Ok(());
    }
    c.prepare_cached("DELETE FROM item_missing WHERE item_key = ?1")
        .and_then(|mut s| s.execute([item.key.as_str()]))
        .map_err(|e| db_err(label, e))?;
    let mut ins = c
        .prepare_cached("INSERT OR IGNORE INTO item_missing (scope, kind, source, item_key) VALUES (?1, ?2, ?3, ?4)")
        .map_err(|e| db_err(label, e))?;
    for k in &item.missing {
        ins.execute(params![k.scope, k.kind.as_str(), k.source, item.key.as_str()]).map_err(|e| db_err(label, e))?;
    }
    Ok(())
}

fn push_audit(c: &Connection, label: &str, key: &str, entry: &AuditEntry) -> Result<(), StoreError> {
    let json = to_json(label, "audit entry", entry)?;
    c.prepare_cached(
        "INSERT INTO audit (item_key, seq, entry)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM audit WHERE item_key = ?1), ?2)",
    )
    .and_then(|mut s| s.execute(params![key, json]))
    .map_err(|e| db_err(label, e))?;
    Ok(())
}

fn decode_mapping(label: &str, body: &str) -> Result<Mapping, StoreError> {
    serde_json::from_str(body).map_err(|e| bad_json(label, "mapping", e))
}

#[async_trait]
impl Store for SqliteStore {
    async fn register(&self, new: NewItem, now: DateTime<Utc>) -> Result<(WorkItem, bool), StoreError> {
        self.db
            .write(move |tx, label| {
                let key = new.key();
                if let Some(mut existing) = load_item(tx, label, key.as_str())? {
                    let before = (existing.seen_by_webhook, existing.seen_by_poll, existing.read_at);
                    note_origin(&mut existing, new.hint.origin);
                    existing.read_at = existing.read_at.max(new.read_at);
                    if before != (existing.seen_by_webhook, existing.seen_by_poll, existing.read_at) {
                        let missing = existing.missing.clone();
                        save_item(tx, label, &existing, &missing)?;
                    }
                    return Ok((existing, false));
                }
                let item = WorkItem::new(new, now);
                insert_item(tx, label, &item)?;
                Ok((item, true))
            })
            .await
    }

    async fn claim(
        &self,
        key: &ItemKey,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimResult, StoreError> {
        let (key, owner) = (key.clone(), owner.to_string());
        self.db
            .write(move |tx, label| {
                let mut item = must_load(tx, label, &key)?;
                if item.state.is_terminal() {
                    return Ok(ClaimResult::Finished(item));
                }
                if let Some(c) = &item.claim
                    && c.until > now
                {
                    return Ok(ClaimResult::Held { owner: c.owner.clone(), until: c.until });
                }
                item.claim = Some(Claim { owner: owner.clone(), until });
                item.attempts += 1;
                let missing = item.missing.clone();
                save_item(tx, label, &item, &missing)?;
                let mut a = AuditEntry::new(now, &owner, "claimed", format!("attempt {} started", item.attempts));
                a.from = Some(item.state);
                a.attempt = item.attempts;
                push_audit(tx, label, key.as_str(), &a)?;
                Ok(ClaimResult::Acquired(item))
            })
            .await
    }

    async fn transition(
        &self,
        key: &ItemKey,
        owner: &str,
        t: Transition,
        now: DateTime<Utc>,
    ) -> Result<WorkItem, StoreError> {
        let (key, owner) = (key.clone(), owner.to_string());
        self.db
            .write(move |tx, label| {
                let mut item = must_load(tx, label, &key)?;
                may_write(&item, &owner, now)?;
                let missing_before = item.missing.clone();
                item.apply(&t, now);
                save_item(tx, label, &item, &missing_before)?;
                push_audit(tx, label, key.as_str(), &t.audit)?;
                Ok(item)
            })
            .await
    }

    async fn get_item(&self, key: &ItemKey) -> Result<Option<WorkItem>, StoreError> {
        let key = key.clone();
        self.db.read(move |c, label| load_item(c, label, key.as_str())).await
    }

    async fn list_items(&self, filter: &ItemFilter) -> Result<Vec<WorkItem>, StoreError> {
        let filter = filter.clone();
        self.db
            .read(move |c, label| {
                // SQL narrows by the indexed fields and sorts; `ItemFilter::matches` decides, so the
                // text and failure filters behave exactly as in every other store.
                let mut sql = String::from("SELECT body FROM items");
                let mut conds = Vec::new();
                let mut args: Vec<Value> = Vec::new();
                if let Some(f) = &filter.flow {
                    args.push(Value::Text(f.clone()));
                    conds.push(format!("flow = ?{}", args.len()));
                }
                if let Some(s) = filter.state {
                    args.push(Value::Text(s.as_str().to_string()));
                    conds.push(format!("state = ?{}", args.len()));
                }
                if let Some(t) = filter.updated_since {
                    args.push(Value::Integer(ns(t)));
                    conds.push(format!("updated_ns >= ?{}", args.len()));
                }
                if !conds.is_empty() {
                    sql.push_str(" WHERE ");
                    sql.push_str(&conds.join(" AND "));
                }
                sql.push_str(" ORDER BY updated_ns DESC, key ASC");
                let mut stmt = c.prepare_cached(&sql).map_err(|e| db_err(label, e))?;
                let mut rows = stmt.query(params_from_iter(args)).map_err(|e| db_err(label, e))?;
                let mut out = Vec::new();
                while let Some(row) = rows.next().map_err(|e| db_err(label, e))? {
                    if filter.limit.is_some_and(|l| out.len() >= l) {
                        break;
                    }
                    let body: String = row.get(0).map_err(|e| db_err(label, e))?;
                    let item = decode_item(label, &body)?;
                    if filter.matches(&item) {
                        out.push(item);
                    }
                }
                Ok(order_and_limit(out, filter.limit))
            })
            .await
    }

    async fn state_counts(&self) -> Result<Vec<StateCount>, StoreError> {
        self.db
            .read(|c, label| {
                let mut stmt = c
                    .prepare_cached("SELECT flow, state, COUNT(*), MIN(updated_ns) FROM items GROUP BY flow, state")
                    .map_err(|e| db_err(label, e))?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
                    })
                    .map_err(|e| db_err(label, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| db_err(label, e))?;
                let mut out = BTreeMap::new();
                for (flow, state, count, oldest) in rows {
                    let state: ItemState =
                        state.parse().map_err(|e| StoreError::Corrupt(format!("{label}: items.state: {e}")))?;
                    let count = u64::try_from(count).unwrap_or(0);
                    let oldest = Some(DateTime::from_timestamp_nanos(oldest));
                    out.insert((flow.clone(), state), StateCount { flow, state, count, oldest });
                }
                Ok(out.into_values().collect())
            })
            .await
    }

    async fn items_waiting_for(&self, key: &MappingKey) -> Result<Vec<WorkItem>, StoreError> {
        let key = key.clone();
        self.db
            .read(move |c, label| {
                let items = query_items(
                    c,
                    label,
                    "SELECT i.body FROM item_missing m JOIN items i ON i.key = m.item_key
                     WHERE m.scope = ?1 AND m.kind = ?2 AND m.source = ?3 AND i.state = 'needs_mapping'
                     ORDER BY i.key",
                    &[&key.scope, key.kind.as_str(), &key.source],
                )?;
                Ok(items
                    .into_iter()
                    .filter(|i| i.state == ItemState::NeedsMapping && i.missing.contains(&key))
                    .collect())
            })
            .await
    }

    async fn holding_natural_key(
        &self,
        scope: &str,
        legacy_flow: &str,
        natural_key: &str,
    ) -> Result<Vec<WorkItem>, StoreError> {
        let (scope, flow, nk) = (scope.to_string(), legacy_flow.to_string(), natural_key.to_string());
        self.db
            .read(move |c, label| {
                // The natural-key index covers every state; the body decides (scope, legacy flow).
                let items = query_items(
                    c,
                    label,
                    "SELECT body FROM items WHERE natural_key = ?1 AND state IN ('posted', 'in_doubt') ORDER BY key",
                    &[&nk],
                )?;
                Ok(items.into_iter().filter(|i| holds_natural_key(i, &scope, &flow, &nk)).collect())
            })
            .await
    }

    async fn open_versions(
        &self,
        flow: &str,
        system: &str,
        doc_id: &str,
        except: Option<&ItemKey>,
    ) -> Result<Vec<WorkItem>, StoreError> {
        let (flow, system, doc_id) = (flow.to_string(), system.to_string(), doc_id.to_string());
        let except = except.cloned();
        self.db
            .read(move |c, label| {
                let items = query_items(
                    c,
                    label,
                    "SELECT body FROM items WHERE flow = ?1 AND system = ?2 AND doc_id = ?3 ORDER BY key",
                    &[&flow, &system, &doc_id],
                )?;
                Ok(items.into_iter().filter(|i| !i.state.is_terminal() && Some(&i.key) != except.as_ref()).collect())
            })
            .await
    }

    async fn append_audit(&self, key: &ItemKey, entry: AuditEntry) -> Result<(), StoreError> {
        let key = key.clone();
        self.db.write(move |tx, label| push_audit(tx, label, key.as_str(), &entry)).await
    }

    async fn audit_trail(&self, key: &ItemKey) -> Result<Vec<AuditEntry>, StoreError> {
        let key = key.clone();
        self.db
            .read(move |c, label| {
                let mut stmt = c
                    .prepare_cached("SELECT entry FROM audit WHERE item_key = ?1 ORDER BY seq")
                    .map_err(|e| db_err(label, e))?;
                let rows = stmt
                    .query_map([key.as_str()], |r| r.get::<_, String>(0))
                    .map_err(|e| db_err(label, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| db_err(label, e))?;
                rows.iter()
                    .map(|j| serde_json::from_str(j).map_err(|e| bad_json(label, &format!("audit entry of {key}"), e)))
                    .collect()
            })
            .await
    }

    async fn put_blob(&self, sha256: &str, body: &[u8]) -> Result<(), StoreError> {
        let (h, body) = (sha256.to_string(), body.to_vec());
        self.db
            .write(move |tx, label| {
                tx.prepare_cached("INSERT OR IGNORE INTO blobs (sha256, body) VALUES (?1, ?2)")
                    .and_then(|mut s| s.execute(params![h, body]))
                    .map_err(|e| db_err(label, e))?;
                Ok(())
            })
            .await
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let h = sha256.to_string();
        self.db
            .read(move |c, label| {
                c.prepare_cached("SELECT body FROM blobs WHERE sha256 = ?1")
                    .and_then(|mut s| s.query_row([h], |r| r.get(0)).optional())
                    .map_err(|e| db_err(label, e))
            })
            .await
    }

    async fn get_cursor(&self, flow: &str) -> Result<Option<Cursor>, StoreError> {
        let flow = flow.to_string();
        self.db.read(move |c, label| load_cursor(c, label, &flow)).await
    }

    async fn cas_cursor(&self, flow: &str, expected: Option<&str>, new: &Cursor) -> Result<bool, StoreError> {
        let (flow, expected, new) = (flow.to_string(), expected.map(str::to_string), new.clone());
        self.db
            .write(move |tx, label| {
                let current = load_cursor(tx, label, &flow)?;
                if current.as_ref().map(|c| c.value.as_str()) != expected.as_deref() {
                    return Ok(false);
                }
                let body = to_json(label, "cursor", &new)?;
                tx.prepare_cached(
                    "INSERT INTO cursors (flow, value, body) VALUES (?1, ?2, ?3)
                     ON CONFLICT (flow) DO UPDATE SET value = excluded.value, body = excluded.body",
                )
                .and_then(|mut s| s.execute(params![flow, new.value, body]))
                .map_err(|e| db_err(label, e))?;
                Ok(true)
            })
            .await
    }

    async fn list_cursors(&self) -> Result<Vec<Cursor>, StoreError> {
        self.db
            .read(|c, label| {
                let mut stmt =
                    c.prepare_cached("SELECT body FROM cursors ORDER BY flow").map_err(|e| db_err(label, e))?;
                let rows = stmt
                    .query_map([], |r| r.get::<_, String>(0))
                    .map_err(|e| db_err(label, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| db_err(label, e))?;
                rows.iter().map(|b| serde_json::from_str(b).map_err(|e| bad_json(label, "cursor", e))).collect()
            })
            .await
    }

    async fn put_mapping(&self, mapping: &Mapping) -> Result<(), StoreError> {
        let m = mapping.clone();
        self.db
            .write(move |tx, label| {
                let body = to_json(label, "mapping", &m)?;
                tx.prepare_cached(
                    "INSERT INTO mappings (scope, kind, source, body) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (scope, kind, source) DO UPDATE SET body = excluded.body",
                )
                .and_then(|mut s| s.execute(params![m.key.scope, m.key.kind.as_str(), m.key.source, body]))
                .map_err(|e| db_err(label, e))?;
                Ok(())
            })
            .await
    }

    async fn get_mappings(&self, keys: &[MappingKey]) -> Result<Vec<Mapping>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys = keys.to_vec();
        self.db
            .read(move |c, label| {
                let mut stmt = c
                    .prepare_cached("SELECT body FROM mappings WHERE scope = ?1 AND kind = ?2 AND source = ?3")
                    .map_err(|e| db_err(label, e))?;
                let mut out = Vec::new();
                for k in &keys {
                    let body: Option<String> = stmt
                        .query_row(params![k.scope, k.kind.as_str(), k.source], |r| r.get(0))
                        .optional()
                        .map_err(|e| db_err(label, e))?;
                    if let Some(b) = body {
                        out.push(decode_mapping(label, &b)?);
                    }
                }
                Ok(out)
            })
            .await
    }

    async fn list_mappings(&self, scope: Option<&str>) -> Result<Vec<Mapping>, StoreError> {
        let scope = scope.map(str::to_string);
        self.db
            .read(move |c, label| {
                let mut stmt = c
                    .prepare_cached("SELECT body FROM mappings WHERE ?1 IS NULL OR scope = ?1")
                    .map_err(|e| db_err(label, e))?;
                let rows = stmt
                    .query_map([scope], |r| r.get::<_, String>(0))
                    .map_err(|e| db_err(label, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| db_err(label, e))?;
                let mut out = rows.iter().map(|b| decode_mapping(label, b)).collect::<Result<Vec<_>, _>>()?;
                // `MappingKey`'s order (kind in declaration order), not SQL's text order.
                out.sort_by(|a, b| a.key.cmp(&b.key));
                Ok(out)
            })
            .await
    }

    async fn delete_mapping(&self, key: &MappingKey) -> Result<bool, StoreError> {
        let key = key.clone();
        self.db
            .write(move |tx, label| {
                let n = tx
                    .prepare_cached("DELETE FROM mappings WHERE scope = ?1 AND kind = ?2 AND source = ?3")
                    .and_then(|mut s| s.execute(params![key.scope, key.kind.as_str(), key.source]))
                    .map_err(|e| db_err(label, e))?;
                Ok(n > 0)
            })
            .await
    }

    async fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let (name, owner) = (name.to_string(), owner.to_string());
        self.db
            .write(move |tx, label| {
                let held: Option<String> = tx
                    .prepare_cached("SELECT claim FROM locks WHERE name = ?1")
                    .and_then(|mut s| s.query_row([&name], |r| r.get(0)).optional())
                    .map_err(|e| db_err(label, e))?;
                if let Some(json) = held {
                    let c: Claim = serde_json::from_str(&json).map_err(|e| bad_json(label, "lock", e))?;
                    if c.until > now && c.owner != owner {
                        return Ok(Some(c));
                    }
                }
                let claim = to_json(label, "lock", &Claim { owner: owner.clone(), until })?;
                tx.prepare_cached(
                    "INSERT INTO locks (name, owner, claim) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, claim = excluded.claim",
                )
                .and_then(|mut s| s.execute(params![name, owner, claim]))
                .map_err(|e| db_err(label, e))?;
                Ok(None)
            })
            .await
    }

    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let (name, owner) = (name.to_string(), owner.to_string());
        self.db
            .write(move |tx, label| {
                tx.prepare_cached("DELETE FROM locks WHERE name = ?1 AND owner = ?2")
                    .and_then(|mut s| s.execute(params![name, owner]))
                    .map_err(|e| db_err(label, e))?;
                Ok(())
            })
            .await
    }

    async fn delivery_seen(&self, system: &str, delivery_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let (system, id) = (system.to_string(), delivery_id.to_string());
        self.db
            .read(move |c, label| {
                c.prepare_cached("SELECT 1 FROM deliveries WHERE system = ?1 AND delivery_id = ?2 AND expires_ns > ?3")
                    .and_then(|mut s| s.exists(params![system, id, ns(now)]))
                    .map_err(|e| db_err(label, e))
            })
            .await
    }

    async fn first_delivery(
        &self,
        system: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (system, id) = (system.to_string(), delivery_id.to_string());
        self.db
            .write(move |tx, label| {
                let now_ns = ns(now);
                // Forget expired ids as we go, so the table stays the size of one TTL's traffic.
                tx.prepare_cached("DELETE FROM deliveries WHERE expires_ns <= ?1")
                    .and_then(|mut s| s.execute([now_ns]))
                    .map_err(|e| db_err(label, e))?;
                let seen = tx
                    .prepare_cached("SELECT 1 FROM deliveries WHERE system = ?1 AND delivery_id = ?2")
                    .and_then(|mut s| s.exists(params![system, id]))
                    .map_err(|e| db_err(label, e))?;
                if seen {
                    return Ok(false);
                }
                tx.prepare_cached("INSERT INTO deliveries (system, delivery_id, expires_ns) VALUES (?1, ?2, ?3)")
                    .and_then(|mut s| s.execute(params![system, id, ns(plus(now, ttl))]))
                    .map_err(|e| db_err(label, e))?;
                Ok(true)
            })
            .await
    }

    async fn seen_version(&self, record_key: &str) -> Result<Option<String>, StoreError> {
        let rk = record_key.to_string();
        self.db
            .read(move |c, label| {
                c.prepare_cached("SELECT version FROM seen_versions WHERE record_key = ?1")
                    .and_then(|mut s| s.query_row([rk], |r| r.get(0)).optional())
                    .map_err(|e| db_err(label, e))
            })
            .await
    }

    async fn set_seen_version(&self, record_key: &str, version: &str) -> Result<(), StoreError> {
        let (rk, v) = (record_key.to_string(), version.to_string());
        self.db
            .write(move |tx, label| {
                tx.prepare_cached(
                    "INSERT INTO seen_versions (record_key, version) VALUES (?1, ?2)
                     ON CONFLICT (record_key) DO UPDATE SET version = excluded.version",
                )
                .and_then(|mut s| s.execute(params![rk, v]))
                .map_err(|e| db_err(label, e))?;
                Ok(())
            })
            .await
    }
}

fn load_cursor(c: &Connection, label: &str, flow: &str) -> Result<Option<Cursor>, StoreError> {
    let body: Option<String> = c
        .prepare_cached("SELECT body FROM cursors WHERE flow = ?1")
        .and_then(|mut s| s.query_row([flow], |r| r.get(0)).optional())
        .map_err(|e| db_err(label, e))?;
    body.map(|b| serde_json::from_str(&b).map_err(|e| bad_json(label, "cursor", e))).transpose()
}
