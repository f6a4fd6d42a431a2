//! The simulated Cleo tenant: API users, tokens, trading-partner mailboxes with their folders and
//! files, the archive, per-path rate-limit windows, and the `{"message": ...}` error answers.
//!
//! Everything that should survive a restart (users, mailboxes, files, archive, partner scripts,
//! counters, switches) is serialisable, so `/__sim/state` is also the snapshot
//! [`super::CleoSim`] restores. Tokens and rate windows are not: a restarted tenant makes every
//! client sign in again, which is what a real restart does too.

use std::collections::{HashMap, VecDeque};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::partner::PartnerScript;
use super::switches::CleoSwitches;

/// One API user (a Partner Mailbox account or a Harmony user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub password: String,
    /// The user group has `privileges.twoFactorAuthentication.enabled`: a TOTP code is needed,
    /// which a machine cannot give, so the password grant is refused.
    #[serde(default)]
    pub two_factor: bool,
    /// The password has expired (`accept.security.passwordRules.expiration`).
    #[serde(default)]
    pub password_expired: bool,
    /// Mailbox aliases this user may open; `*` for all.
    #[serde(default = "all_mailboxes")]
    pub mailboxes: Vec<String>,
    /// Locked after too many failed logins, until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<DateTime<Utc>>,
    /// Recent failed logins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<DateTime<Utc>>,
}

fn all_mailboxes() -> Vec<String> {
    vec!["*".into()]
}

impl User {
    /// A user who may open every mailbox.
    pub fn new(username: &str, password: &str) -> Self {
        User {
            username: username.into(),
            password: password.into(),
            two_factor: false,
            password_expired: false,
            mailboxes: all_mailboxes(),
            locked_until: None,
            failures: Vec::new(),
        }
    }

    /// Whether this user may open a mailbox.
    pub fn may_open(&self, alias: &str) -> bool {
        self.mailboxes.iter().any(|m| m == "*" || m.eq_ignore_ascii_case(alias))
    }
}

/// An issued access or refresh token.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub username: String,
    pub expires_at: DateTime<Utc>,
}

/// One stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFile {
    pub id: String,
    pub name: String,
    /// The exact bytes as uploaded (never re-encoded or trimmed).
    #[serde(with = "b64")]
    pub content: Vec<u8>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
    /// Who put it there: `client` (through the API), `partner` (the scripted trading partner),
    /// `seed`, `sentbox`/`receivedbox` (a copy).
    #[serde(default)]
    pub origin: String,
}

/// A folder of a mailbox, with the API user's permissions on it (configuration, never inferred
/// from the name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Folder {
    #[serde(default)]
    pub id: String,
    pub name: String,
    /// We may upload into it (the partner collects from it).
    #[serde(default)]
    pub upload: bool,
    /// We may list, download and delete its files (the partner drops into it).
    #[serde(default)]
    pub download: bool,
    #[serde(default)]
    pub files: Vec<StoredFile>,
}

/// A trading-partner mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mailbox {
    #[serde(default)]
    pub id: String,
    pub alias: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub folders: Vec<Folder>,
    /// The scripted trading partner behind this mailbox, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<PartnerScript>,
}

impl Mailbox {
    /// A folder by name (case-insensitive).
    pub fn folder_mut(&mut self, name: &str) -> Option<&mut Folder> {
        self.folders.iter_mut().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// A folder by name (case-insensitive).
    pub fn folder(&self, name: &str) -> Option<&Folder> {
        self.folders.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// A copy kept outside the user's view when a file was deleted or picked up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archived {
    pub mailbox: String,
    pub folder: String,
    pub name: String,
    pub size: usize,
    pub sha256: String,
    pub at: DateTime<Utc>,
    /// `deleted`, `overwritten`, `collected by partner`.
    pub why: String,
}

/// "Files appearing between pages": after the next listing page of `folder_id` is served, add
/// `n` files to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    pub folder_id: String,
    pub n: u32,
}

/// The whole simulated tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CleoState {
    pub switches: CleoSwitches,
    pub users: Vec<User>,
    pub mailboxes: Vec<Mailbox>,
    pub archive: Vec<Archived>,
    /// Next generated id.
    pub next_id: u64,
    /// Armed "files between pages".
    pub growth: Vec<Growth>,
    /// The next this-many downloads are cut to half their bytes (a proxy dropping the stream).
    pub truncate_downloads: u32,
    /// Grant types seen at `/api/authentication`, in order (`password`, `refresh_token`).
    pub grants: Vec<String>,
    /// Calls refused by the rate limit.
    pub throttled: u64,
    #[serde(skip)]
    pub tokens: HashMap<String, Token>,
    #[serde(skip)]
    pub refresh_tokens: HashMap<String, Token>,
    /// Grant instants per rate key.
    #[serde(skip)]
    pub windows: HashMap<String, VecDeque<DateTime<Utc>>>,
}

impl Default for CleoState {
    fn default() -> Self {
        CleoState {
            switches: CleoSwitches::default(),
            users: Vec::new(),
            mailboxes: Vec::new(),
            archive: Vec::new(),
            next_id: 1,
            growth: Vec::new(),
            truncate_downloads: 0,
            grants: Vec::new(),
            throttled: 0,
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            windows: HashMap::new(),
        }
    }
}

impl CleoState {
    /// An empty tenant with these switches.
    pub fn empty(switches: CleoSwitches) -> Self {
        CleoState { switches, ..CleoState::default() }
    }

    /// A fresh opaque id (`f` + 12 hex digits), deterministic from the counter so seeded runs
    /// repeat.
    pub fn new_id(&mut self, prefix: &str) -> String {
        let n = self.next_id;
        self.next_id += 1;
        format!("{prefix}{:012x}", splitmix(n) & 0xffff_ffff_ffff)
    }

    /// Give every mailbox and folder without an id one.
    pub fn assign_ids(&mut self) {
        let mut ids: Vec<(usize, Option<usize>)> = Vec::new();
        for (i, m) in self.mailboxes.iter().enumerate() {
            if m.id.is_empty() {
                ids.push((i, None));
            }
            for (j, f) in m.folders.iter().enumerate() {
                if f.id.is_empty() {
                    ids.push((i, Some(j)));
                }
            }
        }
        for (i, j) in ids {
            match j {
                None => self.mailboxes[i].id = self.new_id("mb"),
                Some(j) => self.mailboxes[i].folders[j].id = self.new_id("fo"),
            }
        }
        let mut missing: Vec<(usize, usize, usize)> = Vec::new();
        for (i, m) in self.mailboxes.iter().enumerate() {
            for (j, f) in m.folders.iter().enumerate() {
                for (k, file) in f.files.iter().enumerate() {
                    if file.id.is_empty() {
                        missing.push((i, j, k));
                    }
                }
            }
        }
        for (i, j, k) in missing {
            self.mailboxes[i].folders[j].files[k].id = self.new_id("fi");
        }
    }

    /// Mailbox index by id.
    pub fn mailbox_idx(&self, id: &str) -> Option<usize> {
        self.mailboxes.iter().position(|m| m.id == id)
    }

    /// Mailbox index by alias (case-insensitive).
    pub fn mailbox_by_alias(&self, alias: &str) -> Option<usize> {
        self.mailboxes.iter().position(|m| m.alias.eq_ignore_ascii_case(alias))
    }

    /// User by name (case-insensitive, as VersaLex user names are).
    pub fn user_idx(&self, username: &str) -> Option<usize> {
        self.users.iter().position(|u| u.username.eq_ignore_ascii_case(username))
    }

    /// Add or replace a user.
    pub fn put_user(&mut self, u: User) {
        match self.user_idx(&u.username) {
            Some(i) => self.users[i] = u,
            None => self.users.push(u),
        }
    }

    /// Add a mailbox, or merge folders (and a partner script) into the one with its alias.
    pub fn put_mailbox(&mut self, m: Mailbox) {
        match self.mailbox_by_alias(&m.alias) {
            None => self.mailboxes.push(m),
            Some(i) => {
                let existing = &mut self.mailboxes[i];
                if !m.description.is_empty() {
                    existing.description = m.description;
                }
                if m.partner.is_some() {
                    existing.partner = m.partner;
                }
                for f in m.folders {
                    match existing.folder_mut(&f.name) {
                        Some(e) => {
                            e.upload = f.upload;
                            e.download = f.download;
                            e.files.extend(f.files);
                        }
                        None => existing.folders.push(f),
                    }
                }
            }
        }
        self.assign_ids();
    }

    /// Count a call against its rate key's sliding one-second window (simulated time).
    /// False when over the limit.
    pub fn admit(&mut self, key: &str, now: DateTime<Utc>) -> bool {
        let max = self.switches.rate_limit_per_second as usize;
        if max == 0 {
            return true;
        }
        let q = self.windows.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| now - *t >= Duration::seconds(1)) {
            q.pop_front();
        }
        if q.len() < max {
            q.push_back(now);
            true
        } else {
            self.throttled += 1;
            false
        }
    }

    /// Record a copy outside the user's view.
    pub fn archive_file(&mut self, mailbox: &str, folder: &str, f: &StoredFile, why: &str, now: DateTime<Utc>) {
        if !self.switches.archive {
            return;
        }
        self.archive.push(Archived {
            mailbox: mailbox.into(),
            folder: folder.into(),
            name: f.name.clone(),
            size: f.content.len(),
            sha256: sha256_hex(&f.content),
            at: now,
            why: why.into(),
        });
    }
}

/// SplitMix64: ids and the partners' draws.
pub fn splitmix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A refusal, rendered as VersaLex's `{"message": "..."}` **[C]**.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), retry_after: None }
    }

    pub fn bad(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(404, what)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }

    /// The answer.
    pub fn render(&self) -> Response {
        let mut r = json_response(self.status, &json!({ "message": self.message }));
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// A JSON answer.
pub fn json_response(status: u16, v: &Value) -> Response {
    let mut r = Response::new(Body::from(v.to_string()));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Base64 for file contents in snapshots and scenarios.
pub(crate) mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD.decode(s.trim()).map_err(serde::de::Error::custom)
    }
}
