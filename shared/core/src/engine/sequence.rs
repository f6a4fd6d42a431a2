//! Durable counters and short memories in the engine's store, for parts that must never reuse a
//! number across crashes, restarts and concurrent workers (X12 interchange and group control
//! numbers), or must remember what a partner already sent (the last N ISA13s).
//!
//! Both live in the store's cursor table under `seq#<name>` / `recent#<name>` and change by
//! compare-and-set, so two workers (or two Lambda containers) can never take the same number.
//! Nothing is kept on a local disk.

use std::sync::Arc;

use crate::engine::model::Cursor;
use crate::engine::ports::{Clock, Store, StoreError};

/// Counters and memories over a store.
#[derive(Clone)]
pub struct Sequences {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Sequences {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Sequences { store, clock }
    }

    /// The next number of sequence `name` (1, 2, 3 ...), never handed out twice. `wrap` bounds
    /// it (X12 ISA13 has 9 digits): after `wrap` comes 1 again.
    pub async fn next(&self, name: &str, wrap: u64) -> Result<u64, StoreError> {
        let key = format!("seq#{name}");
        for _ in 0..64 {
            let cur = self.store.get_cursor(&key).await?;
            let n: u64 = cur.as_ref().and_then(|c| c.value.parse().ok()).unwrap_or(0);
            let next = if wrap > 0 && n >= wrap { 1 } else { n + 1 };
            let new = Cursor { flow: key.clone(), value: next.to_string(), updated_at: self.clock.now() };
            if self.store.cas_cursor(&key, cur.as_ref().map(|c| c.value.as_str()), &new).await? {
                return Ok(next);
            }
        }
        Err(StoreError::Unavailable(format!("sequence {name}: too many concurrent takers; try again")))
    }

    /// What was last remembered under `name` (a JSON document a part keeps between runs, e.g. the
    /// source values of a vendor as last synced).
    pub async fn recall(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.store.get_cursor(&format!("memo#{name}")).await?.map(|c| c.value))
    }

    /// Remember `value` under `name` (last writer wins).
    pub async fn remember(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let key = format!("memo#{name}");
        for _ in 0..64 {
            let cur = self.store.get_cursor(&key).await?;
            let new = Cursor { flow: key.clone(), value: value.to_string(), updated_at: self.clock.now() };
            if self.store.cas_cursor(&key, cur.as_ref().map(|c| c.value.as_str()), &new).await? {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable(format!("memo {name}: too many concurrent writers; try again")))
    }

    /// Remember `value` among the last `keep` values of `name`; true when it was already there
    /// (a partner re-sending an interchange it already sent).
    pub async fn seen_before(&self, name: &str, value: &str, keep: usize) -> Result<bool, StoreError> {
        let key = format!("recent#{name}");
        for _ in 0..64 {
            let cur = self.store.get_cursor(&key).await?;
            let mut list: Vec<String> =
                cur.as_ref().and_then(|c| serde_json::from_str(&c.value).ok()).unwrap_or_default();
            if list.iter().any(|v| v == value) {
                return Ok(true);
            }
            list.push(value.to_string());
            if list.len() > keep {
                let drop = list.len() - keep;
                list.drain(..drop);
            }
            let new = Cursor {
                flow: key.clone(),
                value: serde_json::to_string(&list).unwrap_or_default(),
                updated_at: self.clock.now(),
            };
            if self.store.cas_cursor(&key, cur.as_ref().map(|c| c.value.as_str()), &new).await? {
                return Ok(false);
            }
        }
        Err(StoreError::Unavailable(format!("memory {name}: too many concurrent writers; try again")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memory::MemoryStore;
    use crate::engine::ports::ManualClock;
    use crate::testkit::t0;

    #[tokio::test]
    async fn numbers_are_never_handed_out_twice_even_by_concurrent_takers() {
        let s = Sequences::new(Arc::new(MemoryStore::new()), Arc::new(ManualClock::new(t0())));
        let takers: Vec<_> = (0..20).map(|_| s.next("isa13#STATEDOT", 999_999_999)).collect();
        let mut got: Vec<u64> = futures::future::join_all(takers).await.into_iter().map(|r| r.unwrap()).collect();
        got.sort();
        assert_eq!(got, (1..=20).collect::<Vec<_>>());
        assert_eq!(s.next("other", 3).await.unwrap(), 1, "sequences are independent");
        for _ in 0..2 {
            s.next("other", 3).await.unwrap();
        }
        assert_eq!(s.next("other", 3).await.unwrap(), 1, "wraps after its bound");
    }

    #[tokio::test]
    async fn a_value_seen_among_the_last_n_is_reported_and_older_ones_are_forgotten() {
        let s = Sequences::new(Arc::new(MemoryStore::new()), Arc::new(ManualClock::new(t0())));
        assert!(!s.seen_before("isa13#SUB", "000000001", 2).await.unwrap());
        assert!(s.seen_before("isa13#SUB", "000000001", 2).await.unwrap());
        assert!(!s.seen_before("isa13#SUB", "000000002", 2).await.unwrap());
        assert!(!s.seen_before("isa13#SUB", "000000003", 2).await.unwrap());
        assert!(!s.seen_before("isa13#SUB", "000000001", 2).await.unwrap(), "forgotten after 2 newer");
    }
}
