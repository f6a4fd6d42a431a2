//! [`FileSecretStore`]: every connection's credentials in one encrypted file,
//! `<data dir>/credentials.enc`, for the embedded runtime (Secrets Manager's role on AWS).
//!
//! File format (all of it written at once, atomically):
//!
//! ```text
//! "MLCCRED\0" (8 bytes magic) | format version (1 byte) | nonce (12 bytes) | AES-256-GCM ciphertext + tag
//! ```
//!
//! The 9-byte header is authenticated as associated data, so it cannot be altered (say, to claim
//! another format) without decryption failing. The plaintext is one JSON object,
//! `{connection: {field: value}}`, built from [`Credentials::to_plain_json`]; it exists only in
//! memory. Each write draws a fresh random 96-bit nonce from the OS, so a nonce is never reused
//! under one key for any practical number of writes.
//!
//! The key is 32 random bytes, base64: from `MLC_SECRET_KEY` when set, else from a key file
//! (`<data dir>/secret.key`) that must be private to its owner (mode 0600) — a key file others
//! can read is refused rather than used. A wrong key is reported as such and never leads to a
//! write (a write is read-modify-write, and the read fails first).
//!
//! Writes go to a 0600 temporary file in the same directory, are fsynced, then renamed over the
//! file, so a crash leaves the old file or the new one, never half of one. An advisory lock on
//! `credentials.enc.lock` keeps two processes (`mlc serve` and `mlc credentials set`) from losing
//! each other's updates. Values leave this module only as [`Credentials`], whose prints redact them.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::Engine as _;
use mlc_core::engine::ports::{SecretStore, StoreError};
use mlc_core::secret::{Credentials, Redacted};
use rand::TryRng;

use crate::error::LocalError;

/// The environment variable that holds the key (base64 of 32 bytes). Wins over the key file.
pub const KEY_ENV: &str = "MLC_SECRET_KEY";
/// The credentials file's name inside the data directory.
pub const DATA_FILE_NAME: &str = "credentials.enc";
/// The key file's default name inside the data directory.
pub const KEY_FILE_NAME: &str = "secret.key";

const MAGIC: &[u8; 8] = b"MLCCRED\0";
const FORMAT: u8 = 1;
const HEADER_LEN: usize = MAGIC.len() + 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

fn random_bytes<const N: usize>() -> Result<[u8; N], LocalError> {
    let mut b = [0u8; N];
    rand::rngs::SysRng.try_fill_bytes(&mut b).map_err(|e| LocalError::KeyInvalid {
        origin: "the operating system's random source".into(),
        detail: e.to_string(),
    })?;
    Ok(b)
}

/// A 256-bit key and where it came from (for messages). Never prints its bytes.
#[derive(Clone)]
pub struct SecretKey {
    bytes: Redacted<[u8; 32]>,
    origin: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey(from {})", self.origin)
    }
}

impl SecretKey {
    /// A fresh key from the OS random source.
    pub fn generate() -> Result<Self, LocalError> {
        Ok(SecretKey { bytes: Redacted::new(random_bytes::<32>()?), origin: "a generated key".into() })
    }

    /// Parse base64 of 32 bytes; `origin` names where the text came from, for messages.
    pub fn from_base64(text: &str, origin: impl Into<String>) -> Result<Self, LocalError> {
        let origin = origin.into();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| LocalError::KeyInvalid { origin: origin.clone(), detail: format!("not base64: {e}") })?;
        let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| LocalError::KeyInvalid {
            origin: origin.clone(),
            detail: format!("{} bytes, not 32", raw.len()),
        })?;
        Ok(SecretKey { bytes: Redacted::new(bytes), origin })
    }

    /// Read a key file, refusing one that group or others may access.
    pub fn read_file(path: &Path) -> Result<Self, LocalError> {
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(LocalError::KeyMissing { path: path.to_path_buf() });
            }
            Err(e) => return Err(LocalError::io("read key file", path, e)),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(LocalError::KeyPermissions { path: path.to_path_buf(), mode });
            }
        }
        #[cfg(not(unix))]
        let _ = meta;
        let text = std::fs::read_to_string(path).map_err(|e| LocalError::io("read key file", path, e))?;
        SecretKey::from_base64(&text, path.display().to_string())
    }

    /// The key from `env_value` (the value of `MLC_SECRET_KEY`, if set) or else from `key_file`.
    pub fn resolve(env_value: Option<&str>, key_file: &Path) -> Result<Self, LocalError> {
        match env_value {
            Some(v) => SecretKey::from_base64(v, KEY_ENV),
            None => SecretKey::read_file(key_file),
        }
    }

    /// [`SecretKey::resolve`] with the process environment.
    pub fn from_env_or_file(key_file: &Path) -> Result<Self, LocalError> {
        match std::env::var_os(KEY_ENV) {
            None => SecretKey::read_file(key_file),
            Some(v) => match v.to_str() {
                Some(s) => SecretKey::from_base64(s, KEY_ENV),
                None => Err(LocalError::KeyInvalid { origin: KEY_ENV.into(), detail: "not valid UTF-8".into() }),
            },
        }
    }

    /// Where the key came from: `MLC_SECRET_KEY` or the key file's path.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&(*self.bytes.expose()).into())
    }
}

struct Inner {
    path: PathBuf,
    lock_path: PathBuf,
    key: SecretKey,
    /// Serialises this process's read-modify-writes; the file lock covers other processes.
    local: Mutex<()>,
}

/// A [`SecretStore`] in one AES-256-GCM encrypted file. Cheap to clone.
#[derive(Clone)]
pub struct FileSecretStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FileSecretStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSecretStore").field("file", &self.inner.path).field("key", &self.inner.key).finish()
    }
}

type Map = BTreeMap<String, Credentials>;

impl FileSecretStore {
    /// `<dir>/credentials.enc`, with the key from `MLC_SECRET_KEY` or else `<dir>/secret.key`.
    /// Creates `dir` (mode 0700) if missing; fails if an existing file does not decrypt.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, LocalError> {
        let dir = dir.as_ref();
        create_private_dir(dir)?;
        let key = SecretKey::from_env_or_file(&dir.join(KEY_FILE_NAME))?;
        FileSecretStore::open_with_key(dir.join(DATA_FILE_NAME), key)
    }

    /// The credentials file at `file`, encrypted with `key`. Fails if an existing file does not
    /// decrypt with it (so a wrong key is reported at start-up, not at the first post).
    pub fn open_with_key(file: impl Into<PathBuf>, key: SecretKey) -> Result<Self, LocalError> {
        let path = file.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let mut lock_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| DATA_FILE_NAME.into());
        lock_name.push(".lock");
        let lock_path = path.with_file_name(lock_name);
        let store = FileSecretStore { inner: Arc::new(Inner { path, lock_path, key, local: Mutex::new(()) }) };
        store.inner.read_locked(false)?;
        Ok(store)
    }

    /// Create a new key file at `path` (mode 0600, parent directories 0700). Refuses to replace an
    /// existing one: the credentials it encrypts would become unreadable.
    pub fn init_key(path: impl AsRef<Path>) -> Result<(), LocalError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let key = SecretKey::generate()?;
        let mut f = private_file(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => LocalError::KeyExists { path: path.to_path_buf() },
            _ => LocalError::io("create key file", path, e),
        })?;
        let text = base64::engine::general_purpose::STANDARD.encode(key.bytes.expose());
        f.write_all(text.as_bytes())
            .and_then(|_| f.write_all(b"\n"))
            .and_then(|_| f.sync_all())
            .map_err(|e| LocalError::io("write key file", path, e))?;
        sync_dir(path);
        Ok(())
    }

    /// The encrypted file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Where the key came from (`MLC_SECRET_KEY` or the key file's path).
    pub fn key_origin(&self) -> &str {
        self.inner.key.origin()
    }

    async fn run<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, LocalError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner).map_err(LocalError::into_store_error))
            .await
            .map_err(|e| StoreError::Other(format!("{}: secret store task failed: {e}", self.inner.path.display())))?
    }
}

impl Inner {
    /// Hold the process-local and the cross-process lock while `f` runs.
    fn locked<T>(&self, exclusive: bool, f: impl FnOnce() -> Result<T, LocalError>) -> Result<T, LocalError> {
        let _local = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let lock = match private_file(&self.lock_path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => OpenOptions::new()
                .read(true)
                .write(true)
                .open(&self.lock_path)
                .map_err(|e| LocalError::io("open lock file", &self.lock_path, e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !exclusive => {
                // Reading in a directory that does not exist yet: nothing to read, nothing to lock.
                return f();
            }
            Err(e) => return Err(LocalError::io("create lock file", &self.lock_path, e)),
        };
        let locked = if exclusive { lock.lock() } else { lock.lock_shared() };
        locked.map_err(|e| LocalError::io("lock", &self.lock_path, e))?;
        f()
        // Dropping `lock` releases the file lock.
    }

    fn read_locked(&self, exclusive: bool) -> Result<Map, LocalError> {
        self.locked(exclusive, || self.read())
    }

    /// Change the map under the exclusive lock and write it back (only if `f` changed something).
    fn update<T>(&self, f: impl FnOnce(&mut Map) -> (T, bool)) -> Result<T, LocalError> {
        self.locked(true, || {
            let mut map = self.read()?;
            let (out, changed) = f(&mut map);
            if changed {
                self.write(&map)?;
            }
            Ok(out)
        })
    }

    fn read(&self) -> Result<Map, LocalError> {
        let data = match std::fs::read(&self.path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
            Err(e) => return Err(LocalError::io("read", &self.path, e)),
        };
        let not_ours = |detail: &str| LocalError::NotSecretsFile { path: self.path.clone(), detail: detail.into() };
        if data.len() < HEADER_LEN || &data[..MAGIC.len()] != MAGIC {
            return Err(not_ours("unknown header"));
        }
        let format = data[MAGIC.len()];
        if format > FORMAT {
            return Err(LocalError::SecretsTooNew { path: self.path.clone(), found: format, known: FORMAT });
        }
        if format == 0 {
            return Err(not_ours("format 0"));
        }
        if data.len() < HEADER_LEN + NONCE_LEN + TAG_LEN {
            return Err(not_ours("truncated"));
        }
        let (header, rest) = data.split_at(HEADER_LEN);
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| not_ours("truncated"))?;
        let nonce: Nonce<_> = nonce.into();
        let plain = self
            .key
            .cipher()
            .decrypt(&nonce, Payload { msg: ciphertext, aad: header })
            .map_err(|_| LocalError::WrongKey { path: self.path.clone(), origin: self.key.origin().to_string() })?;
        let raw: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(&plain).map_err(|_| not_ours("decrypted, but not a credentials map"))?;
        raw.into_iter()
            .map(|(name, v)| {
                Credentials::from_plain_json(&v.to_string())
                    .map(|c| (name.clone(), c))
                    .map_err(|_| not_ours(&format!("connection {name:?} is not a field map")))
            })
            .collect()
    }

    fn write(&self, map: &Map) -> Result<(), LocalError> {
        let mut obj = serde_json::Map::new();
        for (name, creds) in map {
            let v = serde_json::from_str(&creds.to_plain_json()).unwrap_or_else(|_| serde_json::json!({}));
            obj.insert(name.clone(), v);
        }
        let plain = serde_json::to_vec(&obj)
            .map_err(|e| LocalError::io("encode", &self.path, std::io::Error::other(e.to_string())))?;
        let mut header = [0u8; HEADER_LEN];
        header[..MAGIC.len()].copy_from_slice(MAGIC);
        header[MAGIC.len()] = FORMAT;
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let nonce: Nonce<_> = nonce_bytes.into();
        let ciphertext = self
            .key
            .cipher()
            .encrypt(&nonce, Payload { msg: &plain, aad: &header })
            .map_err(|_| LocalError::io("encrypt", &self.path, std::io::Error::other("encryption failed")))?;
        let mut out = Vec::with_capacity(HEADER_LEN + NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(&ciphertext);
        write_atomic(&self.path, &out)
    }
}

#[async_trait]
impl SecretStore for FileSecretStore {
    async fn get(&self, connection: &str) -> Result<Option<Credentials>, StoreError> {
        let name = connection.to_string();
        self.run(move |i| Ok(i.read_locked(false)?.remove(&name))).await
    }

    async fn put(&self, connection: &str, credentials: &Credentials) -> Result<(), StoreError> {
        let (name, creds) = (connection.to_string(), credentials.clone());
        self.run(move |i| {
            i.update(|m| {
                m.insert(name, creds);
                ((), true)
            })
        })
        .await
    }

    async fn list(&self) -> Result<Vec<String>, StoreError> {
        self.run(|i| Ok(i.read_locked(false)?.into_keys().collect())).await
    }

    async fn delete(&self, connection: &str) -> Result<bool, StoreError> {
        let name = connection.to_string();
        self.run(move |i| {
            i.update(|m| {
                let gone = m.remove(&name).is_some();
                (gone, gone)
            })
        })
        .await
    }
}

/// Create a new file that only its owner can read or write; fails if it exists.
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

fn create_private_dir(dir: &Path) -> Result<(), LocalError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|source| LocalError::CreateDir { path: dir.to_path_buf(), source })
}

/// Replace `path` with `bytes` all at once: temp file (0600) in the same directory, fsync, rename,
/// fsync the directory.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), LocalError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| DATA_FILE_NAME.into());
    let suffix: [u8; 8] = random_bytes()?;
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", u64::from_le_bytes(suffix)));
    let result = private_file(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(LocalError::io("write", path, e));
    }
    sync_dir(path);
    Ok(())
}

/// Make a rename or create in `path`'s directory durable. Best effort: not every platform or
/// file system lets a directory be opened and synced, and the data itself is already synced.
fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}
