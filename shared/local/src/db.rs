//! The SQLite file shared by [`crate::SqliteStore`] and [`crate::SqliteQueue`]: opening it safely,
//! the schema migrations, and running work off the async runtime.
//!
//! Shape and why:
//! - One `rusqlite::Connection` per handle, in a `std::sync::Mutex` inside an `Arc`. SQLite allows
//!   one writer at a time anyway, and one connection per process means the store and the queue
//!   never make each other wait on file locks (`SQLITE_BUSY`) — only other processes can.
//! - Every call runs on `tokio::task::spawn_blocking`, so a slow disk never stalls the runtime.
//! - Every write is one `BEGIN IMMEDIATE` transaction: the write lock is taken up front, so a
//!   read-then-write (claim, fenced transition, cursor CAS) cannot be overtaken by another process
//!   between its read and its write, and waits for the busy timeout instead of failing halfway.
//! - WAL journal (readers do not block the writer), `synchronous = FULL` (a commit is on disk
//!   before the call returns: the in-doubt marker must be durable before a create is sent),
//!   foreign keys on, a busy timeout.
//! - Opening never writes to a file it does not recognise: the header is checked by hand, then the
//!   schema is read, and only then are pragmas set and migrations run.
//! - Migrations are tracked with `PRAGMA user_version`; `PRAGMA application_id` marks the file as
//!   ours, so a stranger's SQLite file is refused rather than "migrated".
//!
//! Times that queries compare are kept as integer nanoseconds since the epoch (exact from 1677 to
//! 2262; later times, such as "never", saturate). The full records are JSON, exact at any time.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use mlc_core::engine::ports::StoreError;
use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

use crate::error::LocalError;

/// `mlc\x01`: written to the header by migration 1, checked on open.
pub(crate) const APPLICATION_ID: i64 = 0x6D6C_6301;

/// How long a write waits for another process's write lock before giving up with `Unavailable`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, one entry per version: entry `i` takes the file from version `i` to `i + 1`.
/// A new migration is one more line here (and its file).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_initial.sql"),
    include_str!("migrations/002_natural_key_scope.sql"),
    include_str!("migrations/003_rate_budgets.sql"),
];

/// The schema version this code writes and reads.
pub(crate) const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// A shared connection and the name of the file it is on (for messages).
#[derive(Clone)]
pub(crate) struct Db {
    conn: Arc<Mutex<Connection>>,
    label: Arc<str>,
}

impl Db {
    pub(crate) fn open(path: &Path) -> Result<Db, LocalError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| LocalError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        check_header(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
        let db = Db { conn: Arc::new(Mutex::new(conn)), label: path.display().to_string().into() };
        db.prepare(path)?;
        Ok(db)
    }

    pub(crate) fn open_in_memory() -> Result<Db, LocalError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| open_error(&path, e))?;
        let db = Db { conn: Arc::new(Mutex::new(conn)), label: ":memory:".into() };
        db.prepare(&path)?;
        Ok(db)
    }

    /// Probe (reads only), then configure and migrate.
    fn prepare(&self, path: &Path) -> Result<(), LocalError> {
        let mut conn = self.lock();
        conn.busy_timeout(BUSY_TIMEOUT).map_err(|e| open_error(path, e))?;
        // Reading the schema is what makes SQLite look at the file: a truncated or garbled file
        // fails here, before anything below could write to it.
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table'", [], |r| r.get(0))
            .map_err(|e| open_error(path, e))?;
        let app_id: i64 = conn.query_row("PRAGMA application_id", [], |r| r.get(0)).map_err(|e| open_error(path, e))?;
        let version = user_version(&conn).map_err(|e| open_error(path, e))?;
        if app_id != APPLICATION_ID && (app_id != 0 || tables > 0 || version != 0) {
            return Err(LocalError::ForeignDatabase { path: path.to_path_buf() });
        }
        if version > SCHEMA_VERSION {
            return Err(LocalError::SchemaTooNew { path: path.to_path_buf(), found: version, known: SCHEMA_VERSION });
        }
        // journal_mode answers with the mode it ended in; in-memory databases stay "memory".
        let mode: String =
            conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).map_err(|e| open_error(path, e))?;
        if !mode.eq_ignore_ascii_case("wal") && !mode.eq_ignore_ascii_case("memory") {
            return Err(LocalError::Sqlite {
                path: path.to_path_buf(),
                detail: format!("cannot switch to WAL journaling (still {mode}); is the directory on a network share?"),
            });
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;").map_err(|e| open_error(path, e))?;
        migrate(&mut conn, path)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock rolled its transaction back (Transaction's Drop), so the
        // connection is still sound.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Run `f` on the connection, off the async runtime.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &str) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = db.lock();
            f(&conn, &db.label)
        })
        .await
        .map_err(|e| StoreError::Other(format!("{}: store task failed: {e}", self.label)))?
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction, off the async runtime. `f` returning an error
    /// rolls everything back.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>, &str) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = db.lock();
            let label = &db.label;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| db_err(label, e))?;
            let out = f(&tx, label)?;
            tx.commit().map_err(|e| db_err(label, e))?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Other(format!("{}: store task failed: {e}", self.label)))?
    }

    /// `PRAGMA quick_check`: reads every page. For an operator's health check, not for every open.
    pub(crate) async fn check(&self) -> Result<(), StoreError> {
        self.read(|c, label| {
            let mut stmt = c.prepare("PRAGMA quick_check").map_err(|e| db_err(label, e))?;
            let problems: Vec<String> = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| db_err(label, e))?
                .collect::<Result<_, _>>()
                .map_err(|e| db_err(label, e))?;
            if problems.len() == 1 && problems[0] == "ok" {
                Ok(())
            } else {
                Err(StoreError::Corrupt(format!("{label}: integrity check failed: {}", problems.join("; "))))
            }
        })
        .await
    }

    #[cfg(test)]
    pub(crate) fn schema_version(&self) -> i64 {
        user_version(&self.lock()).unwrap_or(-1)
    }

    /// The connection itself, for tests that inspect query plans.
    #[cfg(test)]
    pub(crate) fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.lock())
    }
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Apply the migrations the file lacks, each in its own transaction with its version bump.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), LocalError> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| open_error(path, e))?;
        // Read again under the write lock: another process may have migrated meanwhile.
        let version = user_version(&tx).map_err(|e| open_error(path, e))?;
        if version > SCHEMA_VERSION {
            return Err(LocalError::SchemaTooNew { path: path.to_path_buf(), found: version, known: SCHEMA_VERSION });
        }
        let Some(sql) = usize::try_from(version).ok().and_then(|v| MIGRATIONS.get(v)) else {
            return Ok(());
        };
        let next = version + 1;
        let failed = |e: rusqlite::Error| LocalError::Migration {
            path: path.to_path_buf(),
            version: next,
            detail: e.to_string(),
        };
        tx.execute_batch(sql).map_err(failed)?;
        tx.execute_batch(&format!("PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {next};"))
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
}

/// Refuse, without opening it through SQLite, a file that is not a SQLite database. An empty file
/// is a new database.
fn check_header(path: &Path) -> Result<(), LocalError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(LocalError::io("read", path, e)),
    };
    let mut head = [0u8; 100];
    let mut n = 0;
    while n < head.len() {
        match f.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(LocalError::io("read", path, e)),
        }
    }
    if n == 0 {
        return Ok(());
    }
    if n < SQLITE_MAGIC.len() || &head[..SQLITE_MAGIC.len()] != SQLITE_MAGIC {
        return Err(LocalError::NotADatabase { path: path.to_path_buf() });
    }
    if n < head.len() {
        return Err(LocalError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("only {n} bytes: shorter than a SQLite header"),
        });
    }
    Ok(())
}

/// An error met while opening, as a one-line message naming the file.
fn open_error(path: &Path, e: rusqlite::Error) -> LocalError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => LocalError::NotADatabase { path },
        Some(ErrorCode::DatabaseCorrupt) => LocalError::Corrupt { path, detail: e.to_string() },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            LocalError::Busy { path, waited_ms: BUSY_TIMEOUT.as_millis() as u64 }
        }
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied | ErrorCode::ReadOnly) => {
            LocalError::Open { path, detail: e.to_string() }
        }
        _ => LocalError::Sqlite { path, detail: e.to_string() },
    }
}

/// A SQLite error as a port error: busy/locked is worth retrying, a damaged file is not.
pub(crate) fn db_err(label: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(format!("{label}: busy (another process holds the write lock): {e}"))
        }
        Some(ErrorCode::DiskFull) => StoreError::Unavailable(format!("{label}: disk full: {e}")),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            StoreError::Corrupt(format!("{label}: {e} (restore from a backup; `PRAGMA quick_check` tells more)"))
        }
        _ => StoreError::Other(format!("{label}: {e}")),
    }
}

/// A stored JSON document that does not parse: the file was edited or damaged.
pub(crate) fn bad_json(label: &str, what: &str, e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(format!("{label}: {what}: unreadable JSON: {e}"))
}

pub(crate) fn to_json<T: serde::Serialize>(label: &str, what: &str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Other(format!("{label}: cannot encode {what}: {e}")))
}

/// Nanoseconds since the epoch for comparisons in SQL; saturates outside 1677..2262.
pub(crate) fn ns(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.year() > 1970 { i64::MAX } else { i64::MIN })
}

/// `now + d`, saturating at the end of time (a huge lease or TTL means "never").
pub(crate) fn plus(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(d).ok().and_then(|d| now.checked_add_signed(d)).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: std::ffi::c_int) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some("test".into()))
    }

    #[test]
    fn busy_and_locked_are_worth_retrying_and_damage_is_not() {
        for code in [rusqlite::ffi::SQLITE_BUSY, rusqlite::ffi::SQLITE_LOCKED] {
            assert!(matches!(db_err("x.db", failure(code)), StoreError::Unavailable(m) if m.contains("x.db")));
        }
        for code in [rusqlite::ffi::SQLITE_CORRUPT, rusqlite::ffi::SQLITE_NOTADB] {
            assert!(matches!(db_err("x.db", failure(code)), StoreError::Corrupt(m) if m.contains("x.db")));
        }
        assert!(matches!(db_err("x.db", failure(rusqlite::ffi::SQLITE_CONSTRAINT)), StoreError::Other(_)));
    }

    #[test]
    fn times_saturate_instead_of_overflowing() {
        let now = DateTime::<Utc>::MAX_UTC - chrono::Duration::seconds(1);
        assert_eq!(plus(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
        assert_eq!(ns(DateTime::<Utc>::MAX_UTC), i64::MAX);
        assert_eq!(ns(DateTime::<Utc>::MIN_UTC), i64::MIN);
        let t = DateTime::from_timestamp_nanos(1_790_000_000_123_456_789);
        assert_eq!(DateTime::from_timestamp_nanos(ns(t)), t, "exact inside the range");
    }
}
