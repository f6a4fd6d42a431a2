//! Typed Cleo resources, read tolerantly.
//!
//! VersaLex resources carry `id`, a name (`alias` for mailboxes, `name` for folders and files),
//! `meta.resourceType` and `_links` with server-relative hrefs **[C]**. What a file resource
//! holds beyond that is not documented **[U]**, so [`RemoteFile::from_json`] accepts sizes as
//! numbers or strings, timestamps as RFC 3339, zone-less ISO or epoch milliseconds, a checksum as
//! `sha256` or `checksum`, the content link as `content` or `download` (or none: self + `/content`),
//! and ignores everything else. Ids are opaque strings (numbers are read as their text).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::settings::Direction;
use mlc_http::decode;

/// A file stamp as RFC 3339, as a zone-less ISO date-time (read as UTC), or as epoch milliseconds
/// (a number or a numeric string: Java's `Date.getTime()`), the three shapes VersaLex builds show.
pub fn timestamp(v: &Value) -> Option<DateTime<Utc>> {
    let millis = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms);
    match v {
        Value::Number(n) => n.as_i64().and_then(millis),
        Value::String(s) if !s.trim().is_empty() && s.trim().bytes().all(|b| b.is_ascii_digit()) => {
            s.trim().parse().ok().and_then(millis)
        }
        Value::String(s) => decode::datetime_utc(s),
        _ => None,
    }
}

/// `_links.<rel>.href`.
pub fn link(v: &Value, rel: &str) -> Option<String> {
    v.get("_links")?.get(rel)?.get("href").and_then(Value::as_str).map(str::to_string).filter(|s| !s.is_empty())
}

/// One page of a collection: `{"totalResults": n, "resources": [...]}` (other keys ignored).
#[derive(Debug, Clone, PartialEq)]
pub struct CollectionPage {
    pub total: usize,
    pub resources: Vec<Value>,
}

impl CollectionPage {
    /// `None` when the body is not a collection.
    pub fn from_json(v: &Value) -> Option<Self> {
        let resources = v.get("resources").and_then(Value::as_array)?.clone();
        let total = v
            .get("totalResults")
            .and_then(decode::uint)
            .map_or(resources.len(), |t| usize::try_from(t).unwrap_or(usize::MAX));
        Some(CollectionPage { total, resources })
    }
}

/// A trading-partner mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub id: String,
    pub alias: String,
    pub description: String,
    pub self_href: String,
    pub folders_href: String,
}

impl Mailbox {
    pub fn from_json(v: &Value) -> Option<Self> {
        let self_href = link(v, "self")?;
        Some(Mailbox {
            id: v.get("id").and_then(decode::text).unwrap_or_default(),
            alias: v.get("alias").and_then(decode::text).unwrap_or_default(),
            description: v.get("description").and_then(decode::text).unwrap_or_default(),
            folders_href: link(v, "folders").unwrap_or_else(|| format!("{self_href}/folders")),
            self_href,
        })
    }
}

/// The account's permissions on a folder, when the tenant shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Permissions {
    pub upload: bool,
    pub download: bool,
}

/// A folder of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Folder {
    pub id: String,
    pub name: String,
    /// `None`: the tenant does not show them (only trying tells).
    pub permissions: Option<Permissions>,
    pub self_href: String,
    pub files_href: String,
}

impl Folder {
    pub fn from_json(v: &Value) -> Option<Self> {
        let self_href = link(v, "self")?;
        let flag = |p: &Value, k: &str| {
            p.get(k).and_then(|x| x.as_bool().or_else(|| x.as_str().map(|s| s.eq_ignore_ascii_case("true"))))
        };
        let permissions = v.get("permissions").and_then(|p| {
            Some(Permissions {
                upload: flag(p, "upload").unwrap_or(false),
                download: flag(p, "download").unwrap_or(false),
            })
            .filter(|_| p.is_object())
        });
        Some(Folder {
            id: v.get("id").and_then(decode::text).unwrap_or_default(),
            name: v.get("name").and_then(decode::text).unwrap_or_default(),
            permissions,
            files_href: link(v, "files").unwrap_or_else(|| format!("{self_href}/files")),
            self_href,
        })
    }
}

/// A configured folder, resolved to its hrefs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FolderRef {
    /// The configured name (`statedot-out`), or `mailbox/folder` for an unconfigured one.
    pub key: String,
    pub mailbox: String,
    pub folder: Folder,
    pub direction: Option<Direction>,
}

impl FolderRef {
    /// `STATEDOT/to-partner`, for messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.mailbox, self.folder.name)
    }
}

/// A file in a folder, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteFile {
    pub id: String,
    pub name: String,
    /// Bytes, when the listing says.
    pub size: Option<u64>,
    pub modified: Option<DateTime<Utc>>,
    pub created: Option<DateTime<Utc>>,
    /// Lower-case hex SHA-256, when the listing carries one.
    pub sha256: Option<String>,
    pub self_href: String,
    pub content_href: String,
    /// `STATEDOT/from-partner`, for messages.
    pub folder: String,
}

impl RemoteFile {
    pub fn from_json(v: &Value, folder: &str) -> Option<Self> {
        let self_href = link(v, "self")?;
        let sha = ["sha256", "checksum", "hash"]
            .iter()
            .find_map(|k| v.get(*k).and_then(decode::text))
            .map(|s| s.to_ascii_lowercase())
            .filter(|s| s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()));
        Some(RemoteFile {
            id: v.get("id").and_then(decode::text).unwrap_or_default(),
            name: ["name", "fileName", "filename"]
                .iter()
                .find_map(|k| v.get(*k).and_then(decode::text))
                .unwrap_or_default(),
            size: ["size", "length", "fileSize"].iter().find_map(|k| v.get(*k).and_then(decode::uint)),
            modified: ["modified", "lastModified", "modifiedDate"].iter().find_map(|k| v.get(*k).and_then(timestamp)),
            created: ["created", "createdDate"].iter().find_map(|k| v.get(*k).and_then(timestamp)),
            sha256: sha,
            content_href: link(v, "content")
                .or_else(|| link(v, "download"))
                .unwrap_or_else(|| format!("{self_href}/content")),
            self_href,
            folder: folder.to_string(),
        })
    }

    /// `STATEDOT/from-partner/a.edi`, for messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.folder, self.name)
    }

    /// The identity an inbound flow tracks a file by: folder, name, size and content hash (so a
    /// re-sent identical file is recognised and a changed file under an old name is not lost).
    pub fn tracking_key(&self, sha256: &str) -> String {
        format!("{}|{}|{}|{}", self.folder, self.name, self.size.map(|s| s.to_string()).unwrap_or_default(), sha256)
    }
}

/// A downloaded file, checked against its listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    pub file: RemoteFile,
    /// The exact bytes (never re-encoded or trimmed: X12 terminators may be `~`, LF or CRLF).
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// What happened to the remote copy after a pickup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Deleted {
    /// 204.
    Removed,
    /// 404: someone (or an earlier attempt) already removed it; a pickup is idempotent.
    AlreadyGone,
    /// 403: the account may not delete here; the flow tracks the file by its key instead.
    NotPermitted(String),
    /// The caller asked to keep it.
    Kept,
}

/// A file stored durably and hashed, then (maybe) deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickedUp {
    pub file: RemoteFile,
    pub sha256: String,
    pub size: u64,
    /// Where the sink put it.
    pub stored_at: String,
    pub deleted: Deleted,
}

/// What [`crate::CleoClient::upload_once`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// Uploaded now.
    Uploaded(RemoteFile),
    /// The file was already there (an earlier attempt whose answer was lost): not sent again.
    AlreadyThere(RemoteFile),
}

impl UploadOutcome {
    pub fn file(&self) -> &RemoteFile {
        match self {
            UploadOutcome::Uploaded(f) | UploadOutcome::AlreadyThere(f) => f,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn file_stamps_in_every_shape_seen() {
        let t = Utc.with_ymd_and_hms(2025, 6, 16, 14, 30, 0).single().expect("t");
        for v in [
            json!("2025-06-16T14:30:00Z"),
            json!("2025-06-16T14:30:00"),
            json!("2025-06-16T16:30:00+02:00"),
            json!(t.timestamp_millis()),
            json!(t.timestamp_millis().to_string()),
        ] {
            assert_eq!(timestamp(&v), Some(t), "{v}");
        }
        assert_eq!(timestamp(&json!("")), None);
        assert_eq!(timestamp(&json!("soon")), None);
    }

    #[test]
    fn files_are_read_tolerantly() {
        let v = json!({"id": 7, "fileName": "a.edi", "size": "12", "modified": 1750084200000_i64,
                       "checksum": "AB".repeat(32), "_links": {"self": {"href": "/api/x/7"}}});
        let f = RemoteFile::from_json(&v, "M/F").expect("file");
        assert_eq!((f.id.as_str(), f.name.as_str(), f.size), ("7", "a.edi", Some(12)));
        assert_eq!(f.content_href, "/api/x/7/content");
        assert_eq!(f.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert!(f.modified.is_some());
    }
}
