//! Files: listing, looking up by name, uploading without ever uploading twice, downloading with
//! proof, storing durably before deleting, and deleting idempotently.
//!
//! - **Upload** ([`upload`]): multipart or raw ([`UploadMode`]; `auto` tries multipart and
//!   switches to raw for good after a 415, which is a refusal, so sending again is safe). A
//!   same-name upload may create a duplicate or overwrite silently **[U]**, so outbound names are
//!   unique ([`outbound_file_name`]: document, partner, control number, millisecond timestamp)
//!   and [`upload_once`] looks the name up first. An upload whose answer is lost (timeout, reset,
//!   5xx after sending) is **never re-sent**: the folder is listed for that name at once; found →
//!   done, not found → [`CleoError::InDoubt`], and the next attempt looks again before sending.
//! - **Download** ([`download`]): the exact bytes, checked against the listing's size and (when
//!   shown) SHA-256; a short or altered body is fetched once more, then reported as
//!   [`CleoError::Incomplete`] (retryable). Nothing is stored or deleted from a bad download.
//! - **Pickup** ([`pick_up`]): download → store durably and hash ([`DurableSink`]) → only then
//!   delete. A 404 on delete is success (someone, or an earlier attempt, already took it); a 403
//!   means this account may not delete there and the flow tracks the file by
//!   [`crate::model::RemoteFile::tracking_key`] instead.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mlc_http::{HttpError, Request};
use sha2::{Digest, Sha256};

use crate::client::{JSON, Transport};
use crate::errors::CleoError;
use crate::model::{Deleted, Downloaded, FolderRef, PickedUp, RemoteFile, UploadOutcome};
use crate::settings::UploadMode;

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A unique outbound file name: `{doc}_{partner}_{control:09}_{YYYYMMDDTHHMMSSmmmZ}.edi`
/// (`810_STATEDOT_000000042_20250616T143000123Z.edi`). The control number makes it unique per
/// interchange and findable after a lost answer; the timestamp keeps a re-rendered interchange
/// from colliding with an old one. Characters a file name should not carry become `-`.
pub fn outbound_file_name(doc: &str, partner: &str, control: u32, at: DateTime<Utc>) -> String {
    let clean = |s: &str| -> String {
        s.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
    };
    format!("{}_{}_{control:09}_{}.edi", clean(doc), clean(partner), at.format("%Y%m%dT%H%M%S%3fZ"))
}

/// Which upload encoding this connection uses now (`auto` learns raw after a 415).
#[derive(Debug)]
pub struct UploadState {
    mode: UploadMode,
    learned_raw: AtomicBool,
}

impl UploadState {
    pub fn new(mode: UploadMode) -> Self {
        UploadState { mode, learned_raw: AtomicBool::new(false) }
    }

    fn raw_now(&self) -> bool {
        match self.mode {
            UploadMode::Raw => true,
            UploadMode::Multipart => false,
            UploadMode::Auto => self.learned_raw.load(Ordering::Relaxed),
        }
    }
}

/// Every file in a folder (all pages).
pub async fn list(t: &Transport, folder: &FolderRef) -> Result<Vec<RemoteFile>, CleoError> {
    let what = format!("the file list of {}", folder.label());
    let rows = t.collection(&folder.folder.files_href, None, &what).await?;
    Ok(rows.iter().filter_map(|v| RemoteFile::from_json(v, &folder.label())).collect())
}

/// The files named exactly `name` (several when the tenant keeps same-name duplicates).
pub async fn find_by_name(t: &Transport, folder: &FolderRef, name: &str) -> Result<Vec<RemoteFile>, CleoError> {
    let what = format!("file {name:?} in {}", folder.label());
    let rows = t.collection(&folder.folder.files_href, Some(("name", name)), &what).await?;
    Ok(rows.iter().filter_map(|v| RemoteFile::from_json(v, &folder.label())).filter(|f| f.name == name).collect())
}

fn check_name(folder: &FolderRef, name: &str) -> Result<(), CleoError> {
    let bad = name.trim().is_empty()
        || name.len() > 255
        || name.contains(['/', '\\'])
        || name == "."
        || name == ".."
        || name.chars().any(char::is_control);
    if bad {
        return Err(CleoError::Invalid {
            what: format!("upload to {}", folder.label()),
            problem: format!("{name:?} is not a usable file name (1-255 characters, no slashes or control characters)"),
        });
    }
    Ok(())
}

/// Upload once, as told; a lost answer is resolved by listing the folder for the name.
pub async fn upload(
    t: &Transport,
    state: &UploadState,
    folder: &FolderRef,
    name: &str,
    bytes: &[u8],
) -> Result<RemoteFile, CleoError> {
    check_name(folder, name)?;
    // The kit sends text bodies; X12 is ASCII (or Latin-1 separators, which are not UTF-8).
    let text = std::str::from_utf8(bytes).map_err(|_| CleoError::Invalid {
        what: format!("upload of {name:?} to {}", folder.label()),
        problem: "the file is not UTF-8 text; binary uploads wait for a bytes body in the HTTP kit".into(),
    })?;
    let what = format!("upload of {name:?} to {}", folder.label());
    let first = send_upload(t, folder, name, text, state.raw_now(), &what).await;
    let answer = match first {
        Err(CleoError::Refused { status: 415, .. }) if state.mode == UploadMode::Auto && !state.raw_now() => {
            tracing::info!(connection = %t.settings().connection, "multipart upload refused with 415; using raw uploads");
            state.learned_raw.store(true, Ordering::Relaxed);
            send_upload(t, folder, name, text, true, &what).await
        }
        other => other,
    };
    match answer {
        Ok(f) => Ok(f),
        Err(CleoError::Http(HttpError::InDoubt { cause, .. })) => {
            resolve_lost_upload(t, folder, name, bytes, cause).await
        }
        Err(e) => Err(e),
    }
}

async fn send_upload(
    t: &Transport,
    folder: &FolderRef,
    name: &str,
    text: &str,
    raw: bool,
    what: &str,
) -> Result<RemoteFile, CleoError> {
    let url = t.url_of(&folder.folder.files_href);
    let req = if raw {
        Request::post(url).header("Accept", JSON).query("filename", name).text("application/octet-stream", text)
    } else {
        let mut boundary = format!("----mlc-{:016x}", rand::random::<u64>());
        while text.contains(&boundary) {
            boundary = format!("----mlc-{:016x}", rand::random::<u64>());
        }
        let safe: String = name.chars().map(|c| if c == '"' { '_' } else { c }).collect();
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{safe}\"\r\nContent-Type: \
             application/octet-stream\r\n\r\n{text}\r\n--{boundary}--\r\n"
        );
        Request::post(url).header("Accept", JSON).text(format!("multipart/form-data; boundary={boundary}"), body)
    };
    let r = t.send(req, what).await?;
    let v: serde_json::Value = r.json().map_err(CleoError::Http)?;
    RemoteFile::from_json(&v, &folder.label()).ok_or_else(|| CleoError::Unexpected {
        call: format!("POST {}", folder.folder.files_href),
        detail: format!("{what}: the answer does not describe a file (no _links.self.href)"),
    })
}

/// The answer to an upload was lost: look for the name now (a read, safe to repeat).
async fn resolve_lost_upload(
    t: &Transport,
    folder: &FolderRef,
    name: &str,
    bytes: &[u8],
    cause: String,
) -> Result<RemoteFile, CleoError> {
    tracing::warn!(connection = %t.settings().connection, folder = %folder.label(), name, "upload answer lost; listing the folder");
    match find_by_name(t, folder, name).await {
        Ok(found) => match found.into_iter().find(|f| same_content(f, bytes)) {
            Some(f) => Ok(f),
            None => Err(CleoError::InDoubt { folder: folder.label(), name: name.into(), detail: cause }),
        },
        Err(e) => Err(CleoError::InDoubt {
            folder: folder.label(),
            name: name.into(),
            detail: format!("{cause}; the lookup that followed failed too: {e}"),
        }),
    }
}

/// Whether a listed file is these bytes: same size and, when the listing shows one, same hash.
fn same_content(f: &RemoteFile, bytes: &[u8]) -> bool {
    f.size.is_none_or(|s| s == bytes.len() as u64) && f.sha256.as_ref().is_none_or(|h| *h == sha256_hex(bytes))
}

/// Look the name up first; upload only when it is not there.
pub async fn upload_once(
    t: &Transport,
    state: &UploadState,
    folder: &FolderRef,
    name: &str,
    bytes: &[u8],
) -> Result<UploadOutcome, CleoError> {
    check_name(folder, name)?;
    let found = find_by_name(t, folder, name).await?;
    if let Some(f) = found.iter().find(|f| same_content(f, bytes)) {
        return Ok(UploadOutcome::AlreadyThere(f.clone()));
    }
    if let Some(other) = found.first() {
        return Err(CleoError::NameTaken {
            folder: folder.label(),
            name: name.into(),
            found: format!(
                "{} bytes{}",
                other.size.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
                other.modified.map(|m| format!(", modified {m}")).unwrap_or_default()
            ),
        });
    }
    upload(t, state, folder, name, bytes).await.map(UploadOutcome::Uploaded)
}

/// Download and check against the listing; one more try when the body is short or altered.
pub async fn download(t: &Transport, file: &RemoteFile) -> Result<Downloaded, CleoError> {
    let what = format!("download of {}", file.label());
    let mut problem = String::new();
    for _ in 0..2 {
        let r = t.send(Request::get(t.url_of(&file.content_href)).header("Accept", "*/*"), &what).await?;
        let bytes = r.bytes().to_vec();
        let sha = sha256_hex(&bytes);
        match (file.size, &file.sha256) {
            (Some(size), _) if size != bytes.len() as u64 => {
                problem = format!("got {} of {size} bytes", bytes.len());
            }
            (_, Some(h)) if *h != sha => {
                problem = format!("SHA-256 {sha} differs from the listing's {h}");
            }
            _ => return Ok(Downloaded { file: file.clone(), bytes, sha256: sha }),
        }
        tracing::warn!(file = %file.label(), %problem, "incomplete download; fetching again");
    }
    Err(CleoError::Incomplete { file: file.label(), detail: problem })
}

/// Delete a file; 404 is success ([`Deleted::AlreadyGone`]), 403 is [`Deleted::NotPermitted`].
pub async fn delete(t: &Transport, file: &RemoteFile) -> Result<Deleted, CleoError> {
    let what = format!("delete of {}", file.label());
    match t.send(Request::delete(t.url_of(&file.self_href)), &what).await {
        Ok(_) => Ok(Deleted::Removed),
        Err(CleoError::NotFound { .. }) => Ok(Deleted::AlreadyGone),
        Err(CleoError::Forbidden { server, .. }) => Ok(Deleted::NotPermitted(server)),
        Err(e) => Err(e),
    }
}

/// Where downloads are kept before anything is deleted in Cleo.
#[async_trait]
pub trait DurableSink: Send + Sync {
    /// Store the bytes durably (flushed to disk, or committed to the store) and say where.
    /// Storing the same bytes twice must be harmless.
    async fn store(&self, file: &RemoteFile, bytes: &[u8], sha256: &str) -> Result<String, String>;
}

/// A directory: `{sha256[..16]}_{name}`, written to a temporary file, flushed, renamed, and the
/// directory flushed, so a crash leaves either the whole file or nothing.
#[derive(Debug, Clone)]
pub struct DirSink {
    dir: PathBuf,
}

impl DirSink {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirSink { dir: dir.into() }
    }
}

#[async_trait]
impl DurableSink for DirSink {
    async fn store(&self, file: &RemoteFile, bytes: &[u8], sha256: &str) -> Result<String, String> {
        let dir = self.dir.clone();
        let name: String = file
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
            .collect();
        let target = dir.join(format!("{}_{name}", &sha256[..sha256.len().min(16)]));
        let bytes = bytes.to_vec();
        tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            use std::io::Write;
            std::fs::create_dir_all(&dir)?;
            let tmp = dir.join(format!(".{}.tmp-{:016x}", name, rand::random::<u64>()));
            {
                let mut f = std::fs::File::create(&tmp)?;
                f.write_all(&bytes)?;
                f.sync_all()?;
            }
            std::fs::rename(&tmp, &target)?;
            if let Ok(d) = std::fs::File::open(&dir) {
                // Flushing a directory is not possible on every platform; the rename stands.
                let _ = d.sync_all();
            }
            Ok(target.display().to_string())
        })
        .await
        .map_err(|e| format!("the store task failed: {e}"))?
        .map_err(|e| e.to_string())
    }
}

/// Download, store durably and hash, then delete when asked (never before the bytes are safe).
pub async fn pick_up(
    t: &Transport,
    file: &RemoteFile,
    sink: &dyn DurableSink,
    delete_after: bool,
) -> Result<PickedUp, CleoError> {
    let d = download(t, file).await?;
    let stored_at =
        sink.store(file, &d.bytes, &d.sha256).await.map_err(|e| CleoError::Store { file: file.label(), detail: e })?;
    let deleted = if delete_after { delete(t, file).await? } else { Deleted::Kept };
    Ok(PickedUp { file: file.clone(), size: d.bytes.len() as u64, sha256: d.sha256, stored_at, deleted })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn outbound_names_are_unique_and_clean() {
        let at =
            Utc.with_ymd_and_hms(2025, 6, 16, 14, 30, 0).single().expect("t") + chrono::Duration::milliseconds(123);
        assert_eq!(
            outbound_file_name("810", "STATE DOT/2", 42, at),
            "810_STATE-DOT-2_000000042_20250616T143000123Z.edi"
        );
        assert_ne!(outbound_file_name("810", "X", 42, at), outbound_file_name("810", "X", 43, at));
    }
}
