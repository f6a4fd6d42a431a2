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
