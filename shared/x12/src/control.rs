//! Outbound control numbers: persistent, monotonic, per partner, never reused.
//!
//! Every outbound interchange needs an ISA13 and a GS06 the partner has not seen from us before;
//! partners reject (or silently drop) duplicates. [`ControlNumbers::next`] hands out the next
//! number for a partner only after it is durable, so a crash can skip a number but never reuse
//! one. [`FileControlNumbers`] keeps one small JSON file per partner, written to a temporary file,
//! fsynced, renamed over the old one and the directory fsynced — all before the number is
//! returned — under an OS file lock so two processes cannot hand out the same number.
//! [`MemoryControlNumbers`] is the in-memory twin for tests. The product's SQLite and DynamoDB
//! stores can implement the trait with a conditional update.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Largest ISA13/GS06 value (nine digits).
pub const MAX_CONTROL: u32 = 999_999_999;

/// Control numbers for one outbound interchange. Both come from one per-partner counter, so
/// GS06 = ISA13, which is what most partners expect; ST02 counts 0001… inside the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Numbers {
    pub interchange: u32,
    pub group: u32,
}

impl Numbers {
    pub fn single(n: u32) -> Self {
        Numbers { interchange: n, group: n }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("control numbers for partner {partner:?} are exhausted (last {last}, maximum {MAX_CONTROL})")]
    Exhausted { partner: String, last: u32 },
    #[error("control number store for partner {partner:?} at {path}: {source}")]
    Io {
        partner: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("control number file {path} for partner {partner:?} is unreadable: {problem}")]
    Corrupt { partner: String, path: PathBuf, problem: String },
    #[error("partner key {0:?} is empty")]
    InvalidPartner(String),
    #[error("control number store lock poisoned")]
    Poisoned,
}

/// Where outbound control numbers come from.
pub trait ControlNumbers: Send + Sync {
    /// The next unused numbers for `partner`, durable before they are returned.
    fn next(&self, partner: &str) -> Result<Numbers, ControlError>;
}

/// In-memory counters (tests, demos).
#[derive(Debug, Default)]
pub struct MemoryControlNumbers {
    last: Mutex<HashMap<String, u32>>,
}

impl MemoryControlNumbers {
    pub fn new() -> Self {
        Self::default()
    }
}

impl ControlNumbers for MemoryControlNumbers {
    fn next(&self, partner: &str) -> Result<Numbers, ControlError> {
        if partner.trim().is_empty() {
            return Err(ControlError::InvalidPartner(partner.to_string()));
        }
        let mut map = self.last.lock().map_err(|_| ControlError::Poisoned)?;
        let last = map.entry(partner.to_string()).or_insert(0);
        if *last >= MAX_CONTROL {
            return Err(ControlError::Exhausted { partner: partner.to_string(), last: *last });
        }
        *last += 1;
        Ok(Numbers::single(*last))
    }
}

/// One JSON file per partner in a directory: `{"partner":"ACME","last":42}`.
#[derive(Debug)]
pub struct FileControlNumbers {
    dir: PathBuf,
    /// Serialises threads of this process; the OS lock serialises processes.
    local: Mutex<()>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CounterFile {
    partner: String,
    last: u32,
}

impl FileControlNumbers {
    /// Uses (and creates if needed) `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileControlNumbers { dir: dir.into(), local: Mutex::new(()) }
    }

    /// The counter file for a partner. Names keep `[A-Za-z0-9_-]` and percent-encode the rest,
    /// so any partner key maps to one safe file name and two keys never share a file.
    pub fn path_for(&self, partner: &str) -> PathBuf {
        let mut name = String::with_capacity(partner.len() + 5);
        for b in partner.bytes() {
            if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
                name.push(b as char);
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        name.push_str(".json");
        self.dir.join(name)
    }

    fn io(partner: &str, path: &Path, source: std::io::Error) -> ControlError {
        ControlError::Io { partner: partner.to_string(), path: path.to_path_buf(), source }
    }

    /// The last number handed out (0 when none yet).
    pub fn last(&self, partner: &str) -> Result<u32, ControlError> {
        let path = self.path_for(partner);
        match fs::read(&path) {
            Ok(bytes) => {
                let c: CounterFile = serde_json::from_slice(&bytes).map_err(|e| ControlError::Corrupt {
                    partner: partner.to_string(),
                    path: path.clone(),
                    problem: e.to_string(),
                })?;
                if c.partner != partner {
                    return Err(ControlError::Corrupt {
                        partner: partner.to_string(),
                        path,
                        problem: format!("file belongs to partner {:?}", c.partner),
                    });
                }
                Ok(c.last)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(Self::io(partner, &path, e)),
        }
    }

    /// Moves the counter forward to at least `last` (e.g. when taking over from another system);
    /// never moves it back.
    pub fn advance_to(&self, partner: &str, last: u32) -> Result<(), ControlError> {
        self.update(partner, |current| Ok(current.max(last.min(MAX_CONTROL)))).map(|_| ())
    }

    /// Read, compute, write durably, under both locks. Returns the new value.
    fn update(&self, partner: &str, f: impl FnOnce(u32) -> Result<u32, ControlError>) -> Result<u32, ControlError> {
        if partner.trim().is_empty() {
            return Err(ControlError::InvalidPartner(partner.to_string()));
        }
        let _local = self.local.lock().map_err(|_| ControlError::Poisoned)?;
        fs::create_dir_all(&self.dir).map_err(|e| Self::io(partner, &self.dir, e))?;
        let path = self.path_for(partner);
        let lock_path = path.with_extension("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Self::io(partner, &lock_path, e))?;
        lock.lock().map_err(|e| Self::io(partner, &lock_path, e))?;
        let current = self.last(partner)?;
        let next = f(current)?;
        if next != current {
            self.write_durably(partner, &path, next)?;
        }
        // Dropping the file releases the OS lock.
        drop(lock);
        Ok(next)
    }

    fn write_durably(&self, partner: &str, path: &Path, last: u32) -> Result<(), ControlError> {
        let body = serde_json::to_vec(&CounterFile { partner: partner.to_string(), last }).map_err(|e| {
            ControlError::Corrupt { partner: partner.to_string(), path: path.to_path_buf(), problem: e.to_string() }
        })?;
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let mut f = File::create(&tmp).map_err(|e| Self::io(partner, &tmp, e))?;
        f.write_all(&body).and_then(|_| f.write_all(b"\n")).map_err(|e| Self::io(partner, &tmp, e))?;
        f.sync_all().map_err(|e| Self::io(partner, &tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| Self::io(partner, path, e))?;
        // The rename is durable only once the directory entry is.
        #[cfg(unix)]
        File::open(&self.dir).and_then(|d| d.sync_all()).map_err(|e| Self::io(partner, &self.dir, e))?;
        Ok(())
    }
}

impl ControlNumbers for FileControlNumbers {
    fn next(&self, partner: &str) -> Result<Numbers, ControlError> {
        let n = self.update(partner, |last| {
            if last >= MAX_CONTROL {
                Err(ControlError::Exhausted { partner: partner.to_string(), last })
            } else {
                Ok(last + 1)
            }
        })?;
        Ok(Numbers::single(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn file_counter_is_monotonic_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileControlNumbers::new(dir.path());
        assert_eq!(a.next("ACME").unwrap(), Numbers::single(1));
        assert_eq!(a.next("ACME").unwrap(), Numbers::single(2));
        assert_eq!(a.next("Other Co/1").unwrap(), Numbers::single(1));
        let b = FileControlNumbers::new(dir.path());
        assert_eq!(b.next("ACME").unwrap(), Numbers::single(3));
        assert_eq!(b.last("ACME").unwrap(), 3);
        assert!(b.path_for("Other Co/1").ends_with("Other%20Co%2F1.json"));
    }

    #[test]
    fn advance_never_moves_back() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileControlNumbers::new(dir.path());
        s.advance_to("P", 500).unwrap();
        s.advance_to("P", 10).unwrap();
        assert_eq!(s.next("P").unwrap().interchange, 501);
    }

    #[test]
    fn corrupt_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileControlNumbers::new(dir.path());
        s.next("P").unwrap();
        fs::write(s.path_for("P"), b"{garbage").unwrap();
        assert!(matches!(s.next("P"), Err(ControlError::Corrupt { .. })));
    }

    #[test]
    fn exhausted_counter_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileControlNumbers::new(dir.path());
        s.advance_to("P", MAX_CONTROL).unwrap();
        assert!(matches!(s.next("P"), Err(ControlError::Exhausted { .. })));
    }

    #[test]
    fn concurrent_threads_never_share_a_number() {
        let dir = tempfile::tempdir().unwrap();
        let s = Arc::new(FileControlNumbers::new(dir.path()));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || (0..25).map(|_| s.next("P").unwrap().interchange).collect::<Vec<_>>())
            })
            .collect();
        let mut all: Vec<u32> = handles.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort_unstable();
        assert_eq!(all, (1..=100).collect::<Vec<_>>());
    }

    #[test]
    fn crash_before_rename_leaves_old_value() {
        // A leftover temp file (crash after write, before rename) must not be read as the counter.
        let dir = tempfile::tempdir().unwrap();
        let s = FileControlNumbers::new(dir.path());
        s.next("P").unwrap();
        fs::write(s.path_for("P").with_extension("tmp-999"), br#"{"partner":"P","last":77}"#).unwrap();
        assert_eq!(s.next("P").unwrap().interchange, 2);
    }

    #[test]
    fn memory_twin() {
        let m = MemoryControlNumbers::new();
        assert_eq!(m.next("A").unwrap().group, 1);
        assert_eq!(m.next("A").unwrap().group, 2);
        assert!(m.next(" ").is_err());
    }
}
