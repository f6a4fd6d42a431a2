//! Errors from opening the embedded stores: the database file, the secret key and the encrypted
//! credentials file.
//!
//! These happen at start-up, in front of a person, so every message names the file and says what
//! to do, on one line. Failures *after* opening go through the ports as
//! [`mlc_core::engine::ports::StoreError`] (see [`LocalError::into_store_error`]).

use std::path::{Path, PathBuf};

use mlc_core::engine::ports::StoreError;

/// Something stopped a local store from opening, or its files from being read.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    #[error("cannot create directory {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },

    #[error("cannot open {}: {detail}", path.display())]
    Open { path: PathBuf, detail: String },

    #[error(
        "{} is not a SQLite database (it was left untouched): move it aside or choose another data directory",
        path.display()
    )]
    NotADatabase { path: PathBuf },

    #[error(
        "{} is a SQLite database but not an ml-connector store (it was left untouched): choose another data directory",
        path.display()
    )]
    ForeignDatabase { path: PathBuf },

    #[error(
        "{} is damaged ({detail}); it was left untouched: restore it from a backup, or move it aside to start an empty store",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "{} has schema version {found}, newer than this mlc understands ({known}): upgrade mlc, or use the version that wrote it",
        path.display()
    )]
    SchemaTooNew { path: PathBuf, found: i64, known: i64 },

    #[error("{} is in use by another process (still busy after {waited_ms} ms): stop it or try again", path.display())]
    Busy { path: PathBuf, waited_ms: u64 },

    #[error("cannot upgrade {} to schema version {version}: {detail} (nothing was changed)", path.display())]
    Migration { path: PathBuf, version: i64, detail: String },

    #[error("{}: {detail}", path.display())]
    Sqlite { path: PathBuf, detail: String },

    // ------------------------------------------------------------------ secrets
    #[error("no secret key: set MLC_SECRET_KEY or create the key file {}", path.display())]
    KeyMissing { path: PathBuf },

    #[error("key file {} already exists: refusing to replace it (the credentials it encrypts would be lost)", path.display())]
    KeyExists { path: PathBuf },

    #[error(
        "key file {} is readable by group or others (mode {mode:03o}): run `chmod 600 {}`",
        path.display(),
        path.display()
    )]
    KeyPermissions { path: PathBuf, mode: u32 },

    #[error("the secret key from {origin} is not valid: {detail} (expected 32 random bytes, base64)")]
    KeyInvalid { origin: String, detail: String },

    #[error("cannot decrypt {}: wrong key ({origin}) or the file was altered; use the key it was written with", path.display())]
    WrongKey { path: PathBuf, origin: String },

    #[error("{} is not an ml-connector credentials file ({detail}); it was left untouched", path.display())]
    NotSecretsFile { path: PathBuf, detail: String },

    #[error("{} was written by a newer mlc (format {found}, this one reads up to {known}): upgrade mlc", path.display())]
    SecretsTooNew { path: PathBuf, found: u8, known: u8 },

    #[error("cannot {action} {}: {source}", path.display())]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
}

impl LocalError {
    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        LocalError::Io { action, path: path.to_path_buf(), source }
    }

    /// The port error for a failure met after opening (while reading or writing the files).
    pub fn into_store_error(self) -> StoreError {
        match self {
            LocalError::Busy { .. } => StoreError::Unavailable(self.to_string()),
            LocalError::Io { .. } | LocalError::CreateDir { .. } | LocalError::Open { .. } => {
                StoreError::Other(self.to_string())
            }
            _ => StoreError::Corrupt(self.to_string()),
        }
    }
}
