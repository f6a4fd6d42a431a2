//! Behaviour switches of the Cleo Integration Cloud simulator: one per inferred **[I]** or
//! unknown **[U]** behaviour of the fact sheet (`shared/research/cleo.md`), each defaulting to the
//! sheet's §4/§5/§8 working assumption, plus the knobs tests and the demo need (the scripted
//! trading partner's timing and rejections). Change them with `POST /__sim/switches` (a partial
//! object) or [`super::CleoSim::set_switch`]; an unknown key is refused, so a typo never silently
//! leaves a default in place.

use serde::{Deserialize, Serialize};

/// What a same-name upload does (fact sheet §4, open question 7) **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SameName {
    /// A second file with the same name appears beside the first (what the product description
    /// says of CIC: "a re-upload creates a duplicate"). The default.
    #[default]
    Duplicate,
    /// The stored file is replaced (Harmony's documented mailbox behaviour).
    Overwrite,
    /// `409 {"message": "A file named ... already exists"}`.
    Reject,
}

/// Which upload encodings the file endpoint takes (fact sheet §4 assumption 2) **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UploadAccepts {
    /// `multipart/form-data` with one file part, and a raw body with `?filename=`. The default.
    #[default]
    Both,
    /// Only multipart; a raw body gets `415 {"message": "Unsupported Media Type"}`.
    Multipart,
    /// Only a raw body; multipart gets 415.
    Raw,
}

/// Whether folder resources show the account's permissions (open question 6) **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PermissionStyle {
    /// `"permissions": {"upload": true, "download": false}` on each folder. The default.
    #[default]
    Flags,
    /// Not shown: only trying tells.
    Hidden,
}

/// How file timestamps are written **[U]** (open question 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimestampStyle {
    /// `2025-06-16T14:30:00.000Z`. The default.
    #[default]
    Rfc3339,
    /// `2025-06-16T14:30:00` (no zone, as many VersaLex screens show it).
    NoZone,
    /// Milliseconds since 1970 as a number (Java `Date.getTime()`).
    EpochMillis,
}

/// The name of a file's content link **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ContentLink {
    /// `_links.content.href`. The default.
    #[default]
    Content,
    /// `_links.download.href`.
    Download,
    /// No content link: the content is at the file's self href + `/content`.
    None,
}

/// Order of file listings **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    /// Oldest first: files arriving during a walk land on its last page. The default.
    #[default]
    OldestFirst,
    /// Newest first: a file arriving during a walk shifts every later page by one.
    NewestFirst,
    /// By name.
    Name,
}

/// What the rate limit counts per (fact sheet §5: "per API path") **[U]**.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RateKey {
    /// The route template (`/api/mailboxes/{mailbox}/folders/{folder}/files`): every folder's
    /// listing shares one budget. The default (the stricter reading).
    #[default]
    Template,
    /// The concrete path: each folder's listing has its own budget.
    Path,
}

/// All switches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CleoSwitches {
    /// Access token lifetime in seconds **[U]** (sheet §2: "assume a short life, e.g. 15–30 min").
    pub token_ttl_secs: u64,
    /// Whether the token answer carries `expires_in` **[U]**.
    pub send_expires_in: bool,
    /// Whether the token answer carries a `refresh_token`, accepted back with
    /// `grant_type=refresh_token` **[U]**.
    pub issue_refresh_token: bool,
    /// Refresh token lifetime in seconds **[U]**.
    pub refresh_ttl_secs: u64,
    /// Status for a refused password grant (400 or 401) **[U]**.
    pub bad_credentials_status: u16,
    /// Failed logins within `lockout_window_secs` that lock the user (0 = never) **[C field names;
    /// U values]**.
    pub lockout_after: u32,
    /// Window for counting failed logins, seconds.
    pub lockout_window_secs: u64,
    /// How long a lock lasts, seconds.
    pub lockout_secs: u64,
    /// Requests per second per API path (0 = unlimited) **[U]**; sheet §5 default 5.
    pub rate_limit_per_second: u32,
    /// `Retry-After` seconds on a 429 (`None` = no header, so the client's no-header path runs).
    pub rate_limit_retry_after: Option<u64>,
    /// What the limit is counted per.
    pub rate_limit_key: RateKey,
    /// Largest `count` a listing serves **[U]**; larger asks are clamped.
    pub max_page_size: usize,
    /// `count` when the client sends none **[U]**.
    pub default_page_size: usize,
    /// Echo `startIndex` and `itemsPerPage` in collections **[U]** (the client must ignore them).
    pub echo_paging_keys: bool,
    /// Listing order.
    pub list_order: ListOrder,
    /// Serve the first page whatever `startIndex` says **[U]** (an old VersaLex build, a proxy
    /// stripping the query): the client must notice rather than loop or stop short silently.
    pub ignore_start_index: bool,
    /// What a same-name upload does.
    pub same_name: SameName,
    /// Upload encodings accepted.
    pub upload_accepts: UploadAccepts,
    /// Largest upload in bytes **[U]** (413 above).
    pub max_upload_bytes: usize,
    /// Folder permissions shown or not.
    pub permission_style: PermissionStyle,
    /// Whether permissions are enforced (403 on an upload to a download-only folder) **[U]**.
    pub enforce_permissions: bool,
    /// Whether a download-permission folder also allows `DELETE` **[U]** (sheet §4 assumption 5:
    /// where it is not allowed, pickup is tracked client-side).
    pub allow_delete: bool,
    /// File sizes written as strings (`"1234"`) **[U]**.
    pub size_as_string: bool,
    /// File timestamp format.
    pub timestamp_style: TimestampStyle,
    /// Name of the content link.
    pub content_link: ContentLink,
    /// Include a `sha256` of each file in listings **[U]** (open question 8).
    pub show_checksum: bool,
    /// Harmony `sentbox`: a file we download is also copied to the mailbox's `sentbox` folder
    /// **[C Harmony; U CIC]**.
    pub sentbox: bool,
    /// Harmony `receivedbox`: a file we upload is also copied to the mailbox's `receivedbox`
    /// folder **[C Harmony; U CIC]**.
    pub receivedbox: bool,
    /// Keep archive copies (outside the API's view, shown in `/__sim/state`) of every file deleted
    /// or picked up **[C Harmony]**.
    pub archive: bool,
    /// The scripted trading partners poll on their own (every `partner_interval_secs` of
    /// simulated time). Off: only the `partner_tick` action moves them.
    pub partner_auto: bool,
    /// Simulated seconds between partner polls.
    pub partner_interval_secs: u64,
}

impl Default for CleoSwitches {
    fn default() -> Self {
        CleoSwitches {
            token_ttl_secs: 1800,
            send_expires_in: true,
            issue_refresh_token: true,
            refresh_ttl_secs: 8 * 3600,
            bad_credentials_status: 401,
            lockout_after: 5,
            lockout_window_secs: 60,
            lockout_secs: 15 * 60,
            rate_limit_per_second: 5,
            rate_limit_retry_after: Some(1),
            rate_limit_key: RateKey::Template,
            max_page_size: 100,
            default_page_size: 20,
            echo_paging_keys: false,
            list_order: ListOrder::OldestFirst,
            ignore_start_index: false,
            same_name: SameName::Duplicate,
            upload_accepts: UploadAccepts::Both,
            max_upload_bytes: 100 << 20,
            permission_style: PermissionStyle::Flags,
            enforce_permissions: true,
            allow_delete: true,
            size_as_string: false,
            timestamp_style: TimestampStyle::Rfc3339,
            content_link: ContentLink::Content,
            show_checksum: false,
            sentbox: false,
            receivedbox: false,
            archive: true,
            partner_auto: true,
            partner_interval_secs: 60,
        }
    }
}

impl CleoSwitches {
    /// These switches with a partial JSON object applied; unknown keys and impossible values are
    /// refused with the key named.
    pub fn merged(&self, patch: &serde_json::Value) -> Result<CleoSwitches, String> {
        let serde_json::Value::Object(p) = patch else { return Err("switches must be a JSON object".into()) };
        let mut v = serde_json::to_value(self).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(m) = &mut v {
            for (k, val) in p {
                m.insert(k.clone(), val.clone());
            }
        }
        let s: CleoSwitches = serde_json::from_value(v).map_err(|e| format!("bad switches: {e}"))?;
        s.check()?;
        Ok(s)
    }

    /// Values that cannot work.
    pub fn check(&self) -> Result<(), String> {
        if !matches!(self.bad_credentials_status, 400 | 401 | 403) {
            return Err("bad_credentials_status must be 400, 401 or 403".into());
        }
        if self.max_page_size == 0 || self.default_page_size == 0 {
            return Err("max_page_size and default_page_size must be above 0".into());
        }
        if self.token_ttl_secs == 0 {
            return Err("token_ttl_secs must be above 0".into());
        }
        if self.partner_interval_secs == 0 {
            return Err("partner_interval_secs must be above 0".into());
        }
        Ok(())
    }
}
