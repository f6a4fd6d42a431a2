//! The SQLite store and queue on real files: two handles (as two processes would) racing for the
//! same item and cursor, damaged files refused untouched, and a queue that survives a crash.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use chrono::Duration as ChronoDuration;
use mlc_core::engine::model::{Cursor, ItemFilter, ItemKey, Origin};
use mlc_core::engine::ports::{ClaimResult, ManualClock, Queue, Store, StoreError};
use mlc_core::testkit::{hint, new_item, t0};
use mlc_local::{LocalError, SqliteQueue, SqliteStore};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn key(i: usize) -> ItemKey {
    ItemKey::new("f", "src", &format!("D{i}"), "v1")
}

#[test]
fn two_handles_on_one_file_never_both_win_a_claim() {
    const ROUNDS: usize = 150;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    runtime().block_on(async {
        for i in 0..ROUNDS {
            a.register(new_item("f", &format!("D{i}"), "v1", Origin::Poll), t0()).await.unwrap();
        }
    });
    let barrier = Arc::new(Barrier::new(2));
    let racer = |store: SqliteStore, me: &'static str| {
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            let rt = runtime();
            let mut won = BTreeSet::new();
            for i in 0..ROUNDS {
                barrier.wait();
                match rt.block_on(store.claim(&key(i), me, t0(), t0() + ChronoDuration::seconds(60))) {
                    Ok(ClaimResult::Acquired(item)) => {
                        assert_eq!(item.attempts, 1, "round {i}: the winner counts one attempt");
                        won.insert(i);
                    }
                    Ok(ClaimResult::Held { owner, .. }) => assert_ne!(owner, me, "round {i}: held by itself?"),
                    other => panic!("round {i}: unexpected {other:?}"),
                }
            }
            won
        })
    };
    let ta = racer(a.clone(), "worker-a");
    let tb = racer(b.clone(), "worker-b");
    let (wa, wb) = (ta.join().unwrap(), tb.join().unwrap());
    assert!(wa.is_disjoint(&wb), "both won rounds {:?}", wa.intersection(&wb).collect::<Vec<_>>());
    assert_eq!(wa.len() + wb.len(), ROUNDS, "every round has a winner");
    runtime().block_on(async {
        for i in 0..ROUNDS {
            let trail = b.audit_trail(&key(i)).await.unwrap();
            assert_eq!(trail.iter().filter(|e| e.event == "claimed").count(), 1, "round {i}: one claimed row");
            let item = a.get_item(&key(i)).await.unwrap().unwrap();
            assert_eq!(item.attempts, 1);
        }
    });
}

#[test]
fn two_handles_on_one_file_compare_and_set_the_cursor_one_at_a_time() {
    const ROUNDS: usize = 100;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    let stores = [SqliteStore::open(&path).unwrap(), SqliteStore::open(&path).unwrap()];
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = stores
        .iter()
        .cloned()
        .zip(["a", "b"])
        .map(|(store, me)| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let rt = runtime();
                let mut won = BTreeSet::new();
                for i in 0..ROUNDS {
                    let current = rt.block_on(store.get_cursor("f")).unwrap().map(|c| c.value);
                    barrier.wait();
                    let new = Cursor { flow: "f".into(), value: format!("{me}-{i}"), updated_at: t0() };
                    if rt.block_on(store.cas_cursor("f", current.as_deref(), &new)).unwrap() {
                        won.insert(i);
                    }
                    barrier.wait();
                }
                won
            })
        })
        .collect();
    let won: Vec<BTreeSet<usize>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(won[0].is_disjoint(&won[1]), "both moved the cursor from the same value");
    assert_eq!(won[0].len() + won[1].len(), ROUNDS, "each round one CAS succeeds");
    let last = runtime().block_on(stores[0].get_cursor("f")).unwrap().unwrap().value;
    let winner = if won[0].contains(&(ROUNDS - 1)) { "a" } else { "b" };
    assert_eq!(last, format!("{winner}-{}", ROUNDS - 1));
}

/// Bytes of the file, to show a refused file was not written.
fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

fn assert_one_line_naming(err: &LocalError, path: &Path) {
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(msg.contains(&path.display().to_string()), "names the file: {msg}");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        ("notes.db", "these are my notes, not a database\n".repeat(200).into_bytes()),
        ("tiny.db", b"hi".to_vec()),
        ("binary.db", (0..8192u32).map(|i| (i * 7 % 251) as u8).collect()),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &content).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, LocalError::NotADatabase { .. }), "{name}: {err:?}");
        assert_one_line_naming(&err, &path);
        assert!(err.to_string().contains("not a SQLite database"), "{err}");
        assert_eq!(bytes(&path), content, "{name} must be left byte for byte");
        assert!(!PathBuf::from(format!("{}-wal", path.display())).exists(), "no WAL created next to {name}");
    }
}

/// A store with enough rows to span many pages, closed cleanly (WAL folded into the file).
fn populated(path: &Path) {
    let store = SqliteStore::open(path).unwrap();
    runtime().block_on(async {
        for i in 0..300 {
            store.register(new_item("f", &format!("D{i}"), "v1", Origin::Poll), t0()).await.unwrap();
        }
    });
    drop(store);
    assert!(!PathBuf::from(format!("{}-wal", path.display())).exists(), "closing folds the WAL in");
}

#[test]
fn a_truncated_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    populated(&path);
    let full = bytes(&path);
    for keep in [full.len() / 2, 4096 + 100, 60] {
        std::fs::write(&path, &full[..keep]).unwrap();
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, LocalError::Corrupt { .. }), "truncated to {keep}: {err:?}");
        assert_one_line_naming(&err, &path);
        assert!(err.to_string().contains("damaged"), "{err}");
        assert_eq!(bytes(&path), &full[..keep], "truncated to {keep}: the file must be left as it was");
    }
}

#[test]
fn a_garbled_database_is_refused_or_reported_corrupt_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    populated(&path);
    let full = bytes(&path);

    // The schema page garbled: refused at open.
    let mut garbled = full.clone();
    garbled[100..4096].iter_mut().for_each(|b| *b = 0xA5);
    std::fs::write(&path, &garbled).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, LocalError::Corrupt { .. }), "{err:?}");
    assert_one_line_naming(&err, &path);
    assert_eq!(bytes(&path), garbled);

    // Data pages garbled: opening cannot see it, the first read that meets it says Corrupt.
    let mut garbled = full.clone();
    let mid = full.len() / 2 / 4096 * 4096;
    garbled[mid..mid + 3 * 4096].iter_mut().for_each(|b| *b = 0x5A);
    std::fs::write(&path, &garbled).unwrap();
    match SqliteStore::open(&path) {
        Err(err) => {
            assert!(matches!(err, LocalError::Corrupt { .. }), "{err:?}");
            assert_one_line_naming(&err, &path);
        }
        Ok(store) => {
            let rt = runtime();
            let listed = rt.block_on(store.list_items(&ItemFilter::default()));
            let checked = rt.block_on(store.check());
            for r in [listed.map(|_| ()), checked] {
                match r {
                    Err(StoreError::Corrupt(msg)) => assert!(msg.contains("mlc.db"), "{msg}"),
                    other => panic!("reading damaged pages must say Corrupt, got {other:?}"),
                }
            }
        }
    }
    assert_eq!(bytes(&path), garbled, "a damaged store must not be written to");
}

// ------------------------------------------------------------------ the queue across restarts

fn open_queue(path: &Path, clock: &ManualClock) -> (SqliteStore, SqliteQueue) {
    let store = SqliteStore::open(path).unwrap();
    let queue = SqliteQueue::new(&store, Arc::new(clock.clone()), 5);
    (store, queue)
}

#[test]
fn enqueued_hints_survive_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    let clock = ManualClock::new(t0());
    let rt = runtime();
    {
        let (_store, queue) = open_queue(&path, &clock);
        let hints = [hint("f", "1", Origin::Webhook), hint("f", "2", Origin::Poll), hint("g", "3", Origin::Replay)];
        rt.block_on(queue.enqueue(&hints)).unwrap();
    }
    let (_store, queue) = open_queue(&path, &clock);
    let got = rt.block_on(queue.receive(10, Duration::from_secs(30))).unwrap();
    let ids: BTreeSet<&str> = got.iter().map(|d| d.hint.id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from(["1", "2", "3"]));
    assert!(got.iter().all(|d| d.receive_count == 1));
}

#[test]
fn a_lease_dropped_without_ack_comes_back_after_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    let clock = ManualClock::new(t0());
    let rt = runtime();
    {
        let (_store, queue) = open_queue(&path, &clock);
        rt.block_on(queue.enqueue(&[hint("f", "1", Origin::Poll)])).unwrap();
        let got = rt.block_on(queue.receive(10, Duration::from_secs(30))).unwrap();
        assert_eq!(got.len(), 1);
        // Dropped here: never acknowledged.
    }
    let (_store, queue) = open_queue(&path, &clock);
    assert!(rt.block_on(queue.receive(10, Duration::from_secs(30))).unwrap().is_empty(), "still leased");
    assert_eq!(rt.block_on(queue.depth()).unwrap().in_flight, 1);
    clock.advance(Duration::from_secs(31));
    let again = rt.block_on(queue.receive(10, Duration::from_secs(30))).unwrap();
    assert_eq!(again.len(), 1, "the lapsed lease is redelivered");
    assert_eq!(again[0].receive_count, 2);
}

/// The child half of `a_crash_with_leased_messages_loses_nothing`: does nothing unless the
/// parent runs it with the database path in its environment.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var("MLC_LOCAL_CRASH_DB") else { return };
    let clock = ManualClock::new(t0());
    let (_store, queue) = open_queue(Path::new(&path), &clock);
    let rt = runtime();
    let hints: Vec<_> = (0..5).map(|i| hint("f", &i.to_string(), Origin::Poll)).collect();
    rt.block_on(queue.enqueue(&hints)).unwrap();
    let got = rt.block_on(queue.receive(3, Duration::from_secs(30))).unwrap();
    assert_eq!(got.len(), 3);
    // Die the hard way: no destructors, no checkpoint, no ack.
    std::process::abort();
}

#[test]
fn a_crash_with_leased_messages_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture", "--test-threads", "1"])
        .env("MLC_LOCAL_CRASH_DB", &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have crashed");
    assert!(PathBuf::from(format!("{}-wal", path.display())).exists(), "the crash left the WAL un-checkpointed");

    let clock = ManualClock::new(t0());
    let (_store, queue) = open_queue(&path, &clock);
    let rt = runtime();
    let d = rt.block_on(queue.depth()).unwrap();
    assert_eq!((d.ready, d.in_flight), (2, 3), "{d:?}");
    let first = rt.block_on(queue.receive(10, Duration::from_secs(30))).unwrap();
    assert_eq!(first.len(), 2, "the messages the dead process never took");
    for d in &first {
        rt.block_on(queue.ack(d)).unwrap();
    }
    clock.advance(Duration::from_secs(31));
    let second = rt.block_on(queue.receive(10, Duration::from_secs(30))).unwrap();
    assert_eq!(second.len(), 3, "the dead process's leases lapse and its messages come back");
    assert!(second.iter().all(|d| d.receive_count == 2));
    let ids: BTreeSet<String> = first.iter().chain(&second).map(|d| d.hint.id.clone()).collect();
    assert_eq!(ids.len(), 5, "nothing lost, nothing doubled: {ids:?}");
}

#[test]
fn dead_letters_can_be_listed_and_requeued() {
    let store = SqliteStore::open_in_memory().unwrap();
    let clock = ManualClock::new(t0());
    let queue = SqliteQueue::new(&store, Arc::new(clock.clone()), 2);
    let rt = runtime();
    rt.block_on(async {
        queue.enqueue(&[hint("f", "poison", Origin::Webhook)]).await.unwrap();
        for _ in 0..2 {
            let d = queue.receive(1, Duration::from_secs(30)).await.unwrap().remove(0);
            queue.record_error(&d, "deltek: 500 Internal Server Error").await.unwrap();
            queue.retry_later(&d, Duration::ZERO).await.unwrap();
        }
        assert!(queue.receive(1, Duration::from_secs(30)).await.unwrap().is_empty());
        let dead = queue.dead_letters().await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!((dead[0].0.id.as_str(), dead[0].1), ("poison", 2));
        assert_eq!(dead[0].2.as_deref(), Some("deltek: 500 Internal Server Error"));
        assert_eq!(queue.depth().await.unwrap().dead, 1);

        assert_eq!(queue.requeue_dead().await.unwrap(), 1);
        assert_eq!(queue.depth().await.unwrap().dead, 0);
        let back = queue.receive(1, Duration::from_secs(30)).await.unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].receive_count, 1, "a requeued message starts counting again");
        queue.ack(&back[0]).await.unwrap();
        let d = queue.depth().await.unwrap();
        assert_eq!((d.ready, d.in_flight, d.delayed, d.dead), (0, 0, 0, 0));
    });
}
