//! [`SqliteQueue`]: the work queue between intake (webhooks, polls, replays) and the poster, as a
//! `queue` table in the store's own SQLite file.
//!
//! It behaves like SQS with a redrive policy, and exactly like the in-memory twin
//! ([`mlc_core::engine::memory::MemoryQueue`]):
//! - `enqueue` commits before it returns, so a hint handed over is never lost. A hint that
//!   [`Hint::collapses_with`] a waiting message (not leased, not delayed) is folded into it
//!   ([`Hint::merged_with`]).
//! - `receive` leases messages: each gets a fresh random token and becomes invisible until the
//!   lease ends (on the injected [`Clock`]). The receipt is `id:token`, so after a redelivery the
//!   old receipt matches nothing and a late `ack` cannot delete the new delivery. A process that
//!   dies holding leases loses nothing: the messages reappear when the leases end.
//! - A message received `max_receives` times and still not acknowledged is dead-lettered when it
//!   next becomes visible. Dead messages stay in the table (counted in `depth().dead`) for the
//!   operator: [`SqliteQueue::dead_letters`] lists them, [`SqliteQueue::requeue_dead`] replays them.
//!
//! Why the store's handle and not a path: the queue shares the store's connection. One file and
//! one connection per process means the store's and the queue's writes never contend for SQLite's
//! file lock inside a process, the schema is migrated once, and an in-memory store
//! ([`SqliteStore::open_in_memory`]) gets a queue too (an in-memory database cannot be opened twice).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mlc_core::engine::model::Hint;
use mlc_core::engine::ports::{Clock, Delivery, Queue, QueueDepth, StoreError};
use rusqlite::params;
use tracing::warn;

use crate::db::{Db, db_err, ns, plus, to_json};
use crate::store::SqliteStore;

/// A durable [`Queue`] in the store's SQLite file. Cheap to clone.
#[derive(Clone)]
pub struct SqliteQueue {
    db: Db,
    clock: Arc<dyn Clock>,
    max_receives: u32,
}

impl std::fmt::Debug for SqliteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteQueue").field("file", &self.db.label()).field("max_receives", &self.max_receives).finish()
    }
}

/// A dead-lettered message as the operator sees it: the hint, how many times it was received,
/// and the last error recorded for it.
pub type DeadLetter = (Hint, u32, Option<String>);

fn receipt(id: i64, token: &str) -> String {
    format!("{id}:{token}")
}

/// `(id, token)` of a receipt this queue issued; anything else matches no message.
fn parse_receipt(r: &str) -> Option<(i64, &str)> {
    let (id, token) = r.split_once(':')?;
    Some((id.parse().ok()?, token))
}

fn new_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

impl SqliteQueue {
    /// The queue in `store`'s file. `max_receives`: receives after which an unacknowledged message
    /// is dead-lettered (SQS's `maxReceiveCount`).
    pub fn new(store: &SqliteStore, clock: Arc<dyn Clock>, max_receives: u32) -> Self {
        SqliteQueue { db: store.db.clone(), clock, max_receives }
    }

    /// Note why handling a delivery failed; shown by [`SqliteQueue::dead_letters`] if it dies.
    /// (The `Queue` port has no place for a reason, so runtimes call this beside `retry_later`.)
    pub async fn record_error(&self, delivery: &Delivery, error: &str) -> Result<(), StoreError> {
        let Some((id, token)) = parse_receipt(&delivery.receipt) else { return Ok(()) };
        let (token, error) = (token.to_string(), error.to_string());
        self.db
            .write(move |tx, label| {
                tx.prepare_cached("UPDATE queue SET last_error = ?3 WHERE id = ?1 AND lease = ?2")
                    .and_then(|mut s| s.execute(params![id, token, error]))
                    .map_err(|e| db_err(label, e))?;
                Ok(())
            })
            .await
    }

    /// Dead-lettered messages, oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        self.db
            .read(|c, label| {
                let mut stmt = c
                    .prepare_cached("SELECT id, hint, receive_count, last_error FROM queue WHERE dead = 1 ORDER BY id")
                    .map_err(|e| db_err(label, e))?;
                let rows = stmt
                    .query_map([], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, Option<String>>(3)?,
                        ))
                    })
                    .map_err(|e| db_err(label, e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| db_err(label, e))?;
                let mut out = Vec::with_capacity(rows.len());
                for (id, json, count, last_error) in rows {
                    match serde_json::from_str::<Hint>(&json) {
                        Ok(h) => out.push((h, u32::try_from(count).unwrap_or(u32::MAX), last_error)),
                        Err(e) => {
                            warn!(queue = %label, message = id, error = %e, "dead letter with an unreadable hint")
                        }
                    }
                }
                Ok(out)
            })
            .await
    }

    /// Put every dead-lettered message back on the queue, ready now with a fresh receive count.
    /// Returns how many were requeued.
    pub async fn requeue_dead(&self) -> Result<usize, StoreError> {
        let now = ns(self.clock.now());
        self.db
            .write(move |tx, label| {
                tx.prepare_cached(
                    "UPDATE queue SET dead = 0, receive_count = 0, lease = NULL, visible_ns = ?1, last_error = NULL
                     WHERE dead = 1",
                )
                .and_then(|mut s| s.execute([now]))
                .map_err(|e| db_err(label, e))
            })
            .await
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn enqueue(&self, hints: &[Hint]) -> Result<(), StoreError> {
        if hints.is_empty() {
            return Ok(());
        }
        let now = ns(self.clock.now());
        let hints = hints.to_vec();
        self.db
            .write(move |tx, label| {
                let mut waiting = tx
                    .prepare_cached(
                        "SELECT id, hint FROM queue
                         WHERE record_key = ?1 AND dead = 0 AND lease IS NULL AND visible_ns <= ?2 ORDER BY id",
                    )
                    .map_err(|e| db_err(label, e))?;
                let mut update =
                    tx.prepare_cached("UPDATE queue SET hint = ?2 WHERE id = ?1").map_err(|e| db_err(label, e))?;
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO queue (record_key, hint, visible_ns, enqueued_ns) VALUES (?1, ?2, ?3, ?3)",
                    )
                    .map_err(|e| db_err(label, e))?;
                for h in &hints {
                    let rk = h.record_key();
                    let candidates = waiting
                        .query_map(params![rk, now], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                        .map_err(|e| db_err(label, e))?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|e| db_err(label, e))?;
                    let mut folded = false;
                    for (id, json) in candidates {
                        // An unreadable row is not a twin; `receive` sets it aside for a person.
                        let Ok(old) = serde_json::from_str::<Hint>(&json) else { continue };
                        if old.collapses_with(h) {
                            let merged = to_json(label, "hint", &old.merged_with(h))?;
                            update.execute(params![id, merged]).map_err(|e| db_err(label, e))?;
                            folded = true;
                            break;
                        }
                    }
                    if !folded {
                        insert.execute(params![rk, to_json(label, "hint", h)?, now]).map_err(|e| db_err(label, e))?;
                    }
                }
                Ok(())
            })
            .await
    }

    async fn receive(&self, max: usize, lease: Duration) -> Result<Vec<Delivery>, StoreError> {
        let now = self.clock.now();
        let (now_ns, until_ns) = (ns(now), ns(plus(now, lease)));
        let max_receives = i64::from(self.max_receives);
        let max = i64::try_from(max).unwrap_or(i64::MAX);
        self.db
            .write(move |tx, label| {
                tx.prepare_cached(
                    "UPDATE queue SET dead = 1, lease = NULL,
                       last_error = COALESCE(last_error, 'received ' || receive_count || ' times without being acknowledged')
                     WHERE dead = 0 AND visible_ns <= ?1 AND receive_count >= ?2",
                )
                .and_then(|mut s| s.execute(params![now_ns, max_receives]))
                .map_err(|e| db_err(label, e))?;
                let ready = tx
                    .prepare_cached(
                        "SELECT id, hint, receive_count FROM queue WHERE dead = 0 AND visible_ns <= ?1
                         ORDER BY visible_ns, id LIMIT ?2",
                    )
                    .and_then(|mut s| {
                        s.query_map(params![now_ns, max], |r| {
                            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
                        })?
                        .collect::<Result<Vec<_>, _>>()
                    })
                    .map_err(|e| db_err(label, e))?;
                let mut lease_it = tx
                    .prepare_cached(
                        "UPDATE queue SET lease = ?2, visible_ns = ?3, receive_count = receive_count + 1 WHERE id = ?1",
                    )
                    .map_err(|e| db_err(label, e))?;
                let mut out = Vec::with_capacity(ready.len());
                for (id, json, count) in ready {
                    let hint: Hint = match serde_json::from_str(&json) {
                        Ok(h) => h,
                        Err(e) => {
                            // Unreadable: set it aside for a person instead of jamming the queue.
                            warn!(queue = %label, message = id, error = %e, "queued hint is unreadable; dead-lettered");
                            tx.execute(
                                "UPDATE queue SET dead = 1, lease = NULL, last_error = ?2 WHERE id = ?1",
                                params![id, format!("unreadable hint JSON: {e}")],
                            )
                            .map_err(|e| db_err(label, e))?;
                            continue;
                        }
                    };
                    let token = new_token();
                    lease_it.execute(params![id, token, until_ns]).map_err(|e| db_err(label, e))?;
                    let receive_count = u32::try_from(count + 1).unwrap_or(u32::MAX);
                    out.push(Delivery { receipt: receipt(id, &token), hint, receive_count });
                }
                Ok(out)
            })
            .await
    }

    async fn ack(&self, delivery: &Delivery) -> Result<(), StoreError> {
        let Some((id, token)) = parse_receipt(&delivery.receipt) else { return Ok(()) };
        let token = token.to_string();
        self.db
            .write(move |tx, label| {
                tx.prepare_cached("DELETE FROM queue WHERE id = ?1 AND lease = ?2 AND dead = 0")
                    .and_then(|mut s| s.execute(params![id, token]))
                    .map_err(|e| db_err(label, e))?;
                Ok(())
            })
            .await
    }

    async fn retry_later(&self, delivery: &Delivery, delay: Duration) -> Result<(), StoreError> {
        let Some((id, token)) = parse_receipt(&delivery.receipt) else { return Ok(()) };
        let token = token.to_string();
        let visible = ns(plus(self.clock.now(), delay));
        self.db
            .write(move |tx, label| {
                tx.prepare_cached(
                    "UPDATE queue SET lease = NULL, visible_ns = ?3 WHERE id = ?1 AND lease = ?2 AND dead = 0",
                )
                .and_then(|mut s| s.execute(params![id, token, visible]))
                .map_err(|e| db_err(label, e))?;
                Ok(())
            })
            .await
    }

    async fn depth(&self) -> Result<QueueDepth, StoreError> {
        let now = ns(self.clock.now());
        self.db
            .read(move |c, label| {
                let (ready, in_flight, delayed, dead) = c
                    .prepare_cached(
                        "SELECT
                           COALESCE(SUM(dead = 0 AND visible_ns <= ?1), 0),
                           COALESCE(SUM(dead = 0 AND visible_ns > ?1 AND lease IS NOT NULL), 0),
                           COALESCE(SUM(dead = 0 AND visible_ns > ?1 AND lease IS NULL), 0),
                           COALESCE(SUM(dead = 1), 0)
                         FROM queue",
                    )
                    .and_then(|mut s| {
                        s.query_row([now], |r| {
                            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?, r.get::<_, i64>(3)?))
                        })
                    })
                    .map_err(|e| db_err(label, e))?;
                let n = |v: i64| u64::try_from(v).unwrap_or(0);
                Ok(QueueDepth { ready: n(ready), in_flight: n(in_flight), delayed: n(delayed), dead: n(dead) })
            })
            .await
    }
}
