//! The EDI ledger: what the Cleo parts must remember between attempts, workers and restarts,
//! kept in the engine's store (never on a local disk, so it holds on AWS too).
//!
//! - **sent** (per partner): every interchange we uploaded — the invoice's natural key, the file
//!   name, ISA13/GS06/ST02, when it went, and what the partner's 997 said. It is how a lost upload
//!   answer is resolved (the name chosen before the upload is known after a crash), how an inbound
//!   997 finds the invoice it acknowledges (by GS06), and how a missing 997 is noticed (overdue).
//! - **received** (per partner): every inbound file picked up — where its bytes are kept (a blob
//!   by SHA-256) before it is deleted in Cleo, its interchanges and whether each was a re-send,
//!   and the 997s we sent back for it.
//!
//! A book is one JSON record per partner in the store's cursor table
//! (`cleo-edi#<connection>#<partner>#<book>`), changed by compare-and-set so concurrent workers
//! never lose each other's entries, holding the newest `keep` entries (older ones are dropped: the
//! engine's own items remember what was posted for good). This is a workaround: the platform has
//! no keyed record store for a connector's state (the platform offers cursors, sequences and blobs).

use std::marker::PhantomData;
use std::sync::Arc;

use mlc_core::engine::model::Cursor;
use mlc_core::engine::ports::{Clock, Store, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A store failure while a part reads or writes its ledger: retried later.
pub(crate) fn store_error(what: &str, e: StoreError) -> mlc_core::engine::flow::StepError {
    mlc_core::engine::flow::StepError::retryable(format!("{what}: the store answered {e}"))
}

/// One book of entries by key, newest last.
pub struct Ledger<T> {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    name: String,
    keep: usize,
    _t: PhantomData<fn() -> T>,
}

impl<T> Clone for Ledger<T> {
    fn clone(&self) -> Self {
        Ledger {
            store: self.store.clone(),
            clock: self.clock.clone(),
            name: self.name.clone(),
            keep: self.keep,
            _t: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned + Clone> Ledger<T> {
    /// The book `book` of `partner` on `connection`, keeping the newest `keep` entries.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        connection: &str,
        partner: &str,
        book: &str,
        keep: usize,
    ) -> Self {
        Ledger {
            store,
            clock,
            name: format!("cleo-edi#{connection}#{partner}#{book}"),
            keep: keep.max(1),
            _t: PhantomData,
        }
    }

    fn read(&self, c: Option<&Cursor>) -> Result<Vec<(String, T)>, StoreError> {
        match c {
            None => Ok(Vec::new()),
            Some(c) => serde_json::from_str(&c.value)
                .map_err(|e| StoreError::Corrupt(format!("EDI ledger {}: {e}", self.name))),
        }
    }

    /// Every entry, oldest first.
    pub async fn all(&self) -> Result<Vec<(String, T)>, StoreError> {
        let c = self.store.get_cursor(&self.name).await?;
        self.read(c.as_ref())
    }

    pub async fn get(&self, key: &str) -> Result<Option<T>, StoreError> {
        Ok(self.all().await?.into_iter().find(|(k, _)| k == key).map(|(_, v)| v))
    }

    /// Change the book with `f` (compare-and-set, retried when another worker changed it first);
    /// returns what `f` returned on the attempt that stuck.
    pub async fn update<R>(&self, mut f: impl FnMut(&mut Vec<(String, T)>) -> R) -> Result<R, StoreError> {
        for _ in 0..64 {
            let cur = self.store.get_cursor(&self.name).await?;
            let mut entries = self.read(cur.as_ref())?;
            let r = f(&mut entries);
            if entries.len() > self.keep {
                let drop = entries.len() - self.keep;
                entries.drain(..drop);
            }
            let value = serde_json::to_string(&entries)
                .map_err(|e| StoreError::Other(format!("EDI ledger {}: {e}", self.name)))?;
            if cur.as_ref().map(|c| c.value.as_str()) == Some(value.as_str()) {
                return Ok(r);
            }
            let new = Cursor { flow: self.name.clone(), value, updated_at: self.clock.now() };
            if self.store.cas_cursor(&self.name, cur.as_ref().map(|c| c.value.as_str()), &new).await? {
                return Ok(r);
            }
        }
        Err(StoreError::Unavailable(format!("EDI ledger {}: too many concurrent writers; try again", self.name)))
    }

    /// Set `key` to `value` (in place when present, else appended as the newest).
    pub async fn put(&self, key: &str, value: T) -> Result<(), StoreError> {
        self.update(|entries| match entries.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.clone(),
            None => entries.push((key.to_string(), value.clone())),
        })
        .await
    }

    /// Change the entry at `key` with `f`, if there is one; returns the entry after the change.
    pub async fn modify(&self, key: &str, f: impl Fn(&mut T)) -> Result<Option<T>, StoreError> {
        self.update(|entries| {
            entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| {
                f(v);
                v.clone()
            })
        })
        .await
    }
}

/// How many sent interchanges a partner's book keeps.
pub const KEEP_SENT: usize = 1000;
/// How many received files a partner's book keeps.
pub const KEEP_RECEIVED: usize = 500;

/// Where an outbound interchange stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentState {
    /// Numbered, rendered and kept; the upload was sent or is about to be (answer not yet seen).
    Sending,
    /// In the partner's folder (or collected from it).
    Uploaded,
    /// The partner's 997 accepted it.
    Accepted,
    /// The partner's 997 rejected it.
    Rejected,
}

/// What the partner's 997 said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AckSeen {
    /// AK5/AK9 code (`A`, `E`, `R`, `P` …).
    pub status: String,
    /// The 997's own `ISA13/GS06/ST02`.
    pub control: String,
    /// The file it came in.
    pub file: String,
    pub at: chrono::DateTime<chrono::Utc>,
    /// The AK3/AK4/AK5 errors, in words.
    pub errors: Vec<String>,
    /// Recorded on the invoice's work item.
    pub applied: bool,
}

/// One outbound interchange (one invoice per interchange).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Sent {
    /// The invoice's natural key (`810#<partner>#<invoice>`).
    pub nk: String,
    pub invoice: String,
    /// File name and the folder key it went to.
    pub file: String,
    pub folder: String,
    pub isa13: u32,
    pub gs06: u32,
    /// ST02 of each set.
    pub sets: Vec<String>,
    /// GS08.
    pub version: String,
    /// SHA-256 of the bytes, kept as a blob until the upload is confirmed, and their length.
    pub sha256: String,
    #[serde(default)]
    pub size: u64,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub state: SentState,
    pub ack: Option<AckSeen>,
    /// An overdue 997 was noted on the invoice's item.
    #[serde(default)]
    pub overdue_noted: bool,
}

impl Sent {
    /// The file reached the partner: uploaded, or acknowledged (even when the upload's own
    /// answer was lost and the partner collected the file before we looked).
    pub fn landed(&self) -> bool {
        self.ack.is_some() || matches!(self.state, SentState::Uploaded | SentState::Accepted | SentState::Rejected)
    }
}

/// One 997 we send back for an inbound file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AnswerSent {
    pub name: String,
    pub control: u32,
    pub sha256: String,
    pub uploaded: bool,
}

/// One inbound file, picked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Received {
    pub name: String,
    pub size: u64,
    /// The kept copy (a blob).
    pub sha256: String,
    pub picked_at: chrono::DateTime<chrono::Utc>,
    pub interchanges: Vec<crate::edi::InterchangeSeen>,
    /// What became of the file in Cleo (`removed`, `already gone`, `kept: …`).
    pub in_cleo: String,
    /// The 997s answering it, rendered and kept before they are uploaded.
    pub answers: Vec<AnswerSent>,
    /// Every answer is uploaded (or none was due).
    pub answered: bool,
}

/// A partner's book of sent interchanges.
pub fn sent_book(engine: &mlc_core::Engine, connection: &str, partner: &str) -> Ledger<Sent> {
    Ledger::new(engine.store.clone(), engine.clock.clone(), connection, partner, "sent", KEEP_SENT)
}

/// A partner's book of received files.
pub fn received_book(engine: &mlc_core::Engine, connection: &str, partner: &str) -> Ledger<Received> {
    Ledger::new(engine.store.clone(), engine.clock.clone(), connection, partner, "received", KEEP_RECEIVED)
}

/// The sequence a partner's interchange control numbers come from (ISA13 = GS06, 810s and 997s).
pub fn control_sequence(connection: &str, partner: &str) -> String {
    format!("x12#{connection}#{partner}")
}

/// An 810 still waiting for its 997.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overdue {
    pub partner: String,
    pub invoice: String,
    pub file: String,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub hours: u32,
}

/// Every uploaded 810 of `partners` without a 997 after the partner's `ack_within_hours`.
pub async fn overdue(
    engine: &mlc_core::Engine,
    connection: &str,
    partners: &crate::partners::Partners,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(Overdue, bool)>, StoreError> {
    let mut out = Vec::new();
    for p in partners.iter().filter(|p| p.ack_within_hours > 0) {
        let limit = chrono::Duration::hours(i64::from(p.ack_within_hours));
        for (_, s) in sent_book(engine, connection, &p.key).all().await? {
            if s.ack.is_none() && s.state == SentState::Uploaded && s.sent_at + limit <= now {
                let o = Overdue {
                    partner: p.key.clone(),
                    invoice: s.invoice.clone(),
                    file: s.file.clone(),
                    sent_at: s.sent_at,
                    hours: p.ack_within_hours,
                };
                out.push((o, s.overdue_noted));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlc_core::engine::memory::MemoryStore;
    use mlc_core::engine::ports::ManualClock;

    fn ledger(store: &Arc<MemoryStore>, keep: usize) -> Ledger<u32> {
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        Ledger::new(store.clone(), clock, "cleo", "P", "sent", keep)
    }

    #[tokio::test]
    async fn entries_are_kept_by_key_newest_last_and_bounded() {
        let store = Arc::new(MemoryStore::new());
        let l = ledger(&store, 2);
        l.put("a", 1).await.unwrap();
        l.put("b", 2).await.unwrap();
        l.put("a", 3).await.unwrap();
        assert_eq!(l.get("a").await.unwrap(), Some(3));
        l.put("c", 4).await.unwrap();
        assert_eq!(l.all().await.unwrap(), vec![("b".to_string(), 2), ("c".to_string(), 4)]);
        assert_eq!(l.modify("c", |v| *v += 1).await.unwrap(), Some(5));
        assert_eq!(l.modify("zz", |v| *v += 1).await.unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_lose_nothing() {
        let store = Arc::new(MemoryStore::new());
        let writers: Vec<_> = (0..16)
            .map(|i| {
                let l = ledger(&store, 100);
                tokio::spawn(async move { l.put(&format!("k{i}"), i).await })
            })
            .collect();
        for w in writers {
            w.await.expect("task").expect("put");
        }
        assert_eq!(ledger(&store, 100).all().await.unwrap().len(), 16);
    }
}
