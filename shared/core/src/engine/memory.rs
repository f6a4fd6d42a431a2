//! In-memory twins of the ports: the reference semantics the SQLite and DynamoDB adapters must
//! match (checked by [`crate::testkit`]), and fast fakes for engine tests.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::engine::model::{
    AuditEntry, Claim, Cursor, Hint, ItemFilter, ItemKey, ItemState, NewItem, Origin, StateCount, Transition, WorkItem,
    holds_natural_key,
};
use crate::engine::ports::{ClaimResult, Clock, Delivery, Queue, QueueDepth, SecretStore, Store, StoreError};
use crate::mapping::{Mapping, MappingKey};
use crate::secret::Credentials;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct StoreInner {
    items: BTreeMap<ItemKey, WorkItem>,
    audit: HashMap<ItemKey, Vec<AuditEntry>>,
    blobs: HashMap<String, Vec<u8>>,
    cursors: BTreeMap<String, Cursor>,
    mappings: BTreeMap<MappingKey, Mapping>,
    deliveries: HashMap<(String, String), DateTime<Utc>>,
    locks: HashMap<String, Claim>,
    seen: HashMap<String, String>,
}

/// A [`Store`] in memory.
#[derive(Default, Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<StoreInner>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

/// Note a hint's origin on an item (shared by every adapter through this function).
pub fn note_origin(item: &mut WorkItem, origin: Origin) {
    match origin {
        Origin::Webhook => item.seen_by_webhook = true,
        Origin::Poll => item.seen_by_poll = true,
        Origin::Replay | Origin::MappingAdded | Origin::Sweep => {}
    }
}

/// Whether `owner` may change `item` at `now` (it holds the claim, or nobody holds a live one).
pub fn may_write(item: &WorkItem, owner: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
    match &item.claim {
        Some(c) if c.until > now && c.owner != owner => {
            Err(StoreError::ClaimLost { key: item.key.to_string(), holder: c.owner.clone() })
        }
        _ => Ok(()),
    }
}

/// Sort and cut a listing the way every store returns it: newest update first, then key.
pub fn order_and_limit(mut items: Vec<WorkItem>, limit: Option<usize>) -> Vec<WorkItem> {
    items.sort_by(|a, b| b.updated_at.cmp(&a.updated_at).then_with(|| a.key.cmp(&b.key)));
    if let Some(l) = limit {
        items.truncate(l);
    }
    items
}

#[async_trait]
impl Store for MemoryStore {
    async fn register(&self, new: NewItem, now: DateTime<Utc>) -> Result<(WorkItem, bool), StoreError> {
        let mut g = lock(&self.inner);
        let key = new.key();
        if let Some(existing) = g.items.get_mut(&key) {
            note_origin(existing, new.hint.origin);
            existing.read_at = existing.read_at.max(new.read_at);
            return Ok((existing.clone(), false));
        }
        let item = WorkItem::new(new, now);
        g.items.insert(key, item.clone());
        Ok((item, true))
    }

    async fn claim(
        &self,
        key: &ItemKey,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<ClaimResult, StoreError> {
        let mut g = lock(&self.inner);
        let item = g.items.get_mut(key).ok_or_else(|| StoreError::NotFound(key.to_string()))?;
        if item.state.is_terminal() {
            return Ok(ClaimResult::Finished(item.clone()));
        }
        if let Some(c) = &item.claim
            && c.until > now
        {
            return Ok(ClaimResult::Held { owner: c.owner.clone(), until: c.until });
        }
        item.claim = Some(Claim { owner: owner.to_string(), until });
        item.attempts += 1;
        let snapshot = item.clone();
        let mut a = AuditEntry::new(now, owner, "claimed", format!("attempt {} started", snapshot.attempts));
        a.from = Some(snapshot.state);
        a.attempt = snapshot.attempts;
        g.audit.entry(key.clone()).or_default().push(a);
        Ok(ClaimResult::Acquired(snapshot))
    }

    async fn transition(
        &self,
        key: &ItemKey,
        owner: &str,
        t: Transition,
        now: DateTime<Utc>,
    ) -> Result<WorkItem, StoreError> {
        let mut g = lock(&self.inner);
        let item = g.items.get_mut(key).ok_or_else(|| StoreError::NotFound(key.to_string()))?;
        may_write(item, owner, now)?;
        item.apply(&t, now);
        let snapshot = item.clone();
        g.audit.entry(key.clone()).or_default().push(t.audit);
        Ok(snapshot)
    }

    async fn get_item(&self, key: &ItemKey) -> Result<Option<WorkItem>, StoreError> {
        Ok(lock(&self.inner).items.get(key).cloned())
    }

    async fn list_items(&self, filter: &ItemFilter) -> Result<Vec<WorkItem>, StoreError> {
        let g = lock(&self.inner);
        Ok(order_and_limit(g.items.values().filter(|i| filter.matches(i)).cloned().collect(), filter.limit))
    }

    async fn state_counts(&self) -> Result<Vec<StateCount>, StoreError> {
        let g = lock(&self.inner);
        let mut m: BTreeMap<(String, ItemState), StateCount> = BTreeMap::new();
        for i in g.items.values() {
            let e = m.entry((i.flow.clone(), i.state)).or_insert_with(|| StateCount {
                flow: i.flow.clone(),
                state: i.state,
                count: 0,
                oldest: None,
            });
            e.count += 1;
            e.oldest = Some(e.oldest.map_or(i.updated_at, |o| o.min(i.updated_at)));
        }
        Ok(m.into_values().collect())
    }

    async fn items_waiting_for(&self, key: &MappingKey) -> Result<Vec<WorkItem>, StoreError> {
        let g = lock(&self.inner);
        Ok(g.items
            .values()
            .filter(|i| i.state == ItemState::NeedsMapping && i.missing.contains(key))
            .cloned()
            .collect())
    }

    async fn holding_natural_key(
        &self,
        scope: &str,
        legacy_flow: &str,
        natural_key: &str,
    ) -> Result<Vec<WorkItem>, StoreError> {
        let g = lock(&self.inner);
        Ok(g.items.values().filter(|i| holds_natural_key(i, scope, legacy_flow, natural_key)).cloned().collect())
    }

    async fn open_versions(
        &self,
        flow: &str,
        system: &str,
        doc_id: &str,
        except: Option<&ItemKey>,
    ) -> Result<Vec<WorkItem>, StoreError> {
        let g = lock(&self.inner);
        Ok(g.items
            .values()
            .filter(|i| i.flow == flow && i.system == system && i.doc_id == doc_id && !i.state.is_terminal())
            .filter(|i| Some(&i.key) != except)
            .cloned()
            .collect())
    }

    async fn append_audit(&self, key: &ItemKey, entry: AuditEntry) -> Result<(), StoreError> {
        lock(&self.inner).audit.entry(key.clone()).or_default().push(entry);
        Ok(())
    }

    async fn audit_trail(&self, key: &ItemKey) -> Result<Vec<AuditEntry>, StoreError> {
        Ok(lock(&self.inner).audit.get(key).cloned().unwrap_or_default())
    }

    async fn put_blob(&self, sha256: &str, body: &[u8]) -> Result<(), StoreError> {
        lock(&self.inner).blobs.entry(sha256.to_string()).or_insert_with(|| body.to_vec());
        Ok(())
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.inner).blobs.get(sha256).cloned())
    }

    async fn get_cursor(&self, flow: &str) -> Result<Option<Cursor>, StoreError> {
        Ok(lock(&self.inner).cursors.get(flow).cloned())
    }

    async fn cas_cursor(&self, flow: &str, expected: Option<&str>, new: &Cursor) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        let current = g.cursors.get(flow).map(|c| c.value.as_str());
        if current != expected {
            return Ok(false);
        }
        g.cursors.insert(flow.to_string(), new.clone());
        Ok(true)
    }

    async fn list_cursors(&self) -> Result<Vec<Cursor>, StoreError> {
        Ok(lock(&self.inner).cursors.values().cloned().collect())
    }

    async fn put_mapping(&self, mapping: &Mapping) -> Result<(), StoreError> {
        lock(&self.inner).mappings.insert(mapping.key.clone(), mapping.clone());
        Ok(())
    }

    async fn get_mappings(&self, keys: &[MappingKey]) -> Result<Vec<Mapping>, StoreError> {
        let g = lock(&self.inner);
        Ok(keys.iter().filter_map(|k| g.mappings.get(k).cloned()).collect())
    }

    async fn list_mappings(&self, scope: Option<&str>) -> Result<Vec<Mapping>, StoreError> {
        let g = lock(&self.inner);
        Ok(g.mappings.values().filter(|m| scope.is_none_or(|s| m.key.scope == s)).cloned().collect())
    }

    async fn delete_mapping(&self, key: &MappingKey) -> Result<bool, StoreError> {
        Ok(lock(&self.inner).mappings.remove(key).is_some())
    }

    async fn try_lock(
        &self,
        name: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<Claim>, StoreError> {
        let mut g = lock(&self.inner);
        if let Some(c) = g.locks.get(name)
            && c.until > now
            && c.owner != owner
        {
            return Ok(Some(c.clone()));
        }
        g.locks.insert(name.to_string(), Claim { owner: owner.to_string(), until });
        Ok(None)
    }

    async fn unlock(&self, name: &str, owner: &str) -> Result<(), StoreError> {
        let mut g = lock(&self.inner);
        if g.locks.get(name).is_some_and(|c| c.owner == owner) {
            g.locks.remove(name);
        }
        Ok(())
    }

    async fn delivery_seen(&self, system: &str, delivery_id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let g = lock(&self.inner);
        Ok(g.deliveries.get(&(system.to_string(), delivery_id.to_string())).is_some_and(|e| *e > now))
    }

    async fn first_delivery(
        &self,
        system: &str,
        delivery_id: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut g = lock(&self.inner);
        let k = (system.to_string(), delivery_id.to_string());
        match g.deliveries.get(&k) {
            Some(expires) if *expires > now => Ok(false),
            _ => {
                g.deliveries.insert(k, now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX));
                Ok(true)
            }
        }
    }

    async fn seen_version(&self, record_key: &str) -> Result<Option<String>, StoreError> {
        Ok(lock(&self.inner).seen.get(record_key).cloned())
    }

    async fn set_seen_version(&self, record_key: &str, version: &str) -> Result<(), StoreError> {
        lock(&self.inner).seen.insert(record_key.to_string(), version.to_string());
        Ok(())
    }
}

struct Message {
    id: u64,
    hint: Hint,
    visible_at: DateTime<Utc>,
    receive_count: u32,
    lease: Option<String>,
}

#[derive(Default)]
struct QueueInner {
    next_id: u64,
    messages: Vec<Message>,
    dead: Vec<Message>,
}

/// A [`Queue`] in memory, with leases, delays and a dead-letter list, on an injectable clock.
#[derive(Clone)]
pub struct MemoryQueue {
    inner: Arc<Mutex<QueueInner>>,
    clock: Arc<dyn Clock>,
    max_receives: u32,
}

impl MemoryQueue {
    /// `max_receives`: after this many receives a message goes to the dead-letter list.
    pub fn new(clock: Arc<dyn Clock>, max_receives: u32) -> Self {
        MemoryQueue { inner: Arc::default(), clock, max_receives }
    }

    /// Hints in the dead-letter list.
    pub fn dead_letters(&self) -> Vec<Hint> {
        lock(&self.inner).dead.iter().map(|m| m.hint.clone()).collect()
    }
}

fn receipt(m: &Message) -> String {
    format!("{}:{}", m.id, m.lease.as_deref().unwrap_or(""))
}

#[async_trait]
impl Queue for MemoryQueue {
    async fn enqueue(&self, hints: &[Hint]) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut g = lock(&self.inner);
        for h in hints {
            // Collapse into a waiting twin, which takes the merged hint (see `Hint::merged_with`).
            if let Some(m) =
                g.messages.iter_mut().find(|m| m.lease.is_none() && m.visible_at <= now && m.hint.collapses_with(h))
            {
                m.hint = m.hint.merged_with(h);
                continue;
            }
            g.next_id += 1;
            let id = g.next_id;
            g.messages.push(Message { id, hint: h.clone(), visible_at: now, receive_count: 0, lease: None });
        }
        Ok(())
    }

    async fn receive(&self, max: usize, lease: Duration) -> Result<Vec<Delivery>, StoreError> {
        let now = self.clock.now();
        let lease_until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let mut g = lock(&self.inner);
        // A visible message that has used up its receives goes to the dead-letter list.
        let max_receives = self.max_receives;
        let (dead, live): (Vec<Message>, Vec<Message>) = std::mem::take(&mut g.messages)
            .into_iter()
            .partition(|m| m.visible_at <= now && m.receive_count >= max_receives);
        g.messages = live;
        g.dead.extend(dead);
        let mut ready: Vec<&mut Message> = g.messages.iter_mut().filter(|m| m.visible_at <= now).collect();
        ready.sort_by_key(|m| (m.visible_at, m.id));
        let mut out = Vec::new();
        for m in ready.into_iter().take(max) {
            m.lease = Some(uuid::Uuid::new_v4().simple().to_string());
            m.visible_at = lease_until;
            m.receive_count += 1;
            out.push(Delivery { receipt: receipt(m), hint: m.hint.clone(), receive_count: m.receive_count });
        }
        Ok(out)
    }

    async fn ack(&self, d: &Delivery) -> Result<(), StoreError> {
        let mut g = lock(&self.inner);
        g.messages.retain(|m| receipt(m) != d.receipt);
        Ok(())
    }

    async fn retry_later(&self, d: &Delivery, delay: Duration) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut g = lock(&self.inner);
        if let Some(m) = g.messages.iter_mut().find(|m| receipt(m) == d.receipt) {
            m.lease = None;
            m.visible_at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
        }
        Ok(())
    }

    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        let now = self.clock.now();
        let g = lock(&self.inner);
        let mut d = QueueDepth { dead: g.dead.len() as u64, ..Default::default() };
        for m in &g.messages {
            if m.visible_at <= now {
                d.ready += 1;
            } else if m.lease.is_some() {
                d.in_flight += 1;
            } else {
                d.delayed += 1;
            }
        }
        Ok(d)
    }
}

/// A [`SecretStore`] in memory.
#[derive(Default, Clone)]
pub struct MemorySecrets {
    inner: Arc<Mutex<BTreeMap<String, Credentials>>>,
}

#[async_trait]
impl SecretStore for MemorySecrets {
    async fn get(&self, connection: &str) -> Result<Option<Credentials>, StoreError> {
        Ok(lock(&self.inner).get(connection).cloned())
    }
    async fn put(&self, connection: &str, credentials: &Credentials) -> Result<(), StoreError> {
        lock(&self.inner).insert(connection.to_string(), credentials.clone());
        Ok(())
    }
    async fn list(&self) -> Result<Vec<String>, StoreError> {
        Ok(lock(&self.inner).keys().cloned().collect())
    }
    async fn delete(&self, connection: &str) -> Result<bool, StoreError> {
        Ok(lock(&self.inner).remove(connection).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ports::ManualClock;

    #[tokio::test]
    async fn memory_store_passes_conformance() {
        crate::testkit::store_conformance(&MemoryStore::new()).await;
    }

    #[tokio::test]
    async fn memory_queue_passes_conformance() {
        let clock = ManualClock::new(crate::testkit::t0());
        let q = MemoryQueue::new(Arc::new(clock.clone()), 3);
        crate::testkit::queue_conformance(&q, &clock, 3).await;
    }

    #[tokio::test]
    async fn memory_secrets_pass_conformance() {
        crate::testkit::secret_store_conformance(&MemorySecrets::default()).await;
    }
}
