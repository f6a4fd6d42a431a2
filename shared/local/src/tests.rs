//! The core's conformance suites against the embedded adapters, and the schema migrations.
//! File-level behaviour (two handles on one file, damaged files, durability, key files) is tested
//! in `tests/`.

use std::sync::Arc;

use mlc_core::engine::ports::ManualClock;
use mlc_core::testkit;

use crate::db::SCHEMA_VERSION;
use crate::{FileSecretStore, LocalError, SecretKey, SqliteQueue, SqliteStore};

#[tokio::test]
async fn sqlite_store_conforms_in_memory() {
    testkit::store_conformance(&SqliteStore::open_in_memory().unwrap()).await;
}

#[tokio::test]
async fn sqlite_store_conforms_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("nested/dir/mlc.db")).unwrap();
    testkit::store_conformance(&store).await;
}

#[tokio::test]
async fn sqlite_queue_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("mlc.db")).unwrap();
    let clock = ManualClock::new(testkit::t0());
    let queue = SqliteQueue::new(&store, Arc::new(clock.clone()), 3);
    testkit::queue_conformance(&queue, &clock, 3).await;
    let dead = queue.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0.id, "poison");
    assert_eq!(dead[0].1, 3);
    assert!(dead[0].2.as_deref().is_some_and(|e| e.contains("3 times")), "{dead:?}");
}

#[tokio::test]
async fn sqlite_queue_conforms_in_memory() {
    let store = SqliteStore::open_in_memory().unwrap();
    let clock = ManualClock::new(testkit::t0());
    let queue = SqliteQueue::new(&store, Arc::new(clock.clone()), 5);
    testkit::queue_conformance(&queue, &clock, 5).await;
}

#[tokio::test]
async fn file_secret_store_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let key = SecretKey::generate().unwrap();
    let secrets = FileSecretStore::open_with_key(dir.path().join("credentials.enc"), key.clone()).unwrap();
    testkit::secret_store_conformance(&secrets).await;
    // A second handle (another process, in effect) reads what the first wrote.
    let again = FileSecretStore::open_with_key(dir.path().join("credentials.enc"), key).unwrap();
    testkit::secret_store_conformance(&again).await;
}

#[test]
fn a_fresh_file_gets_the_current_schema_and_reopening_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    std::fs::write(&path, b"").unwrap(); // an empty file is a new database
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.db.schema_version(), SCHEMA_VERSION);
    drop(store);
    let before = std::fs::read(&path).unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.db.schema_version(), SCHEMA_VERSION);
    drop(store);
    assert_eq!(std::fs::read(&path).unwrap(), before, "reopening a current store must not write");
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlc.db");
    drop(SqliteStore::open(&path).unwrap());
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1)).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, LocalError::SchemaTooNew { found, .. } if found == SCHEMA_VERSION + 1), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("mlc.db") && msg.contains("upgrade mlc") && !msg.contains('\n'), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "a refused file must be left as it was");
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');").unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, LocalError::ForeignDatabase { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// The engine's lookups must be index searches, not table scans, so they stay fast as the store
/// grows.
#[test]
fn the_engines_lookups_use_indexes() {
    let store = SqliteStore::open_in_memory().unwrap();
    let plans = [
        "SELECT body FROM items WHERE key = ?1",
        "SELECT i.body FROM item_missing m JOIN items i ON i.key = m.item_key
         WHERE m.scope = ?1 AND m.kind = ?2 AND m.source = ?3 AND i.state = 'needs_mapping' ORDER BY i.key",
        "SELECT body FROM items WHERE flow = ?1 AND natural_key = ?2 AND state = 'posted' ORDER BY key",
        "SELECT body FROM items WHERE flow = ?1 AND system = ?2 AND doc_id = ?3 ORDER BY key",
        "SELECT body FROM items WHERE flow = ?1 AND state = ?2 ORDER BY updated_ns DESC, key ASC",
        "SELECT body FROM items ORDER BY updated_ns DESC, key ASC",
        "SELECT id, hint FROM queue WHERE record_key = ?1 AND dead = 0 AND lease IS NULL AND visible_ns <= ?2 ORDER BY id",
        "SELECT id, hint, receive_count FROM queue WHERE dead = 0 AND visible_ns <= ?1 ORDER BY visible_ns, id LIMIT ?2",
        "DELETE FROM deliveries WHERE expires_ns <= ?1",
        "SELECT entry FROM audit WHERE item_key = ?1 ORDER BY seq",
    ];
    store.db.with_conn(|c| {
        for sql in plans {
            let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let nulls = vec![rusqlite::types::Null; stmt.parameter_count()];
            let steps: Vec<String> = stmt
                .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            for step in &steps {
                let full_scan = step.starts_with("SCAN ") && !step.contains(" USING ");
                // Sorting the few matched rows (TEMP B-TREE) is fine; reading the whole table is not.
                assert!(!full_scan, "{sql}\n  plan: {steps:?}");
            }
        }
    });
}
