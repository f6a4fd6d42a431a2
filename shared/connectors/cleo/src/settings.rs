//! A Cleo connection's settings, read from the connection's options, and its credentials.
//!
//! ```toml
//! [connections.cleo]
//! system = "cleo"
//! base_url = "https://acme.cleointegration.com"   # the tenant root; on premises http(s)://host:port
//! upload_mode = "auto"          # multipart | raw | auto (multipart, raw after a 415)
//! requests_per_second = 4       # per API path (Cleo allows about 5)
//! page_size = 100               # count per listing page
//! token_lifetime_secs = 1200    # assumed when the token answer has no expires_in
//! timeout_secs = 60
//! max_attempts = 6              # per call, for reads and refused writes
//! retry_base_ms = 500           # first backoff ceiling (doubles, full jitter, cap 30 s)
//!
//! chunk_sets = 50               # inbound: transaction sets handed to the engine per read (a file of 500 invoices = 10 reads)
//! delete_after_pickup = true    # inbound: delete a file in Cleo once its bytes are kept in the store
//!
//! [connections.cleo.folders.statedot-out]      # a name flows and ping use
//! mailbox = "STATEDOT"          # the trading-partner mailbox alias
//! folder = "to-partner"         # the folder's name in that mailbox
//! direction = "outbound"        # outbound: we upload, the partner collects; inbound: the partner drops, we download
//!
//! [connections.cleo.edi]        # who we are in X12 (ISA05/ISA06 of everything we send)
//! qualifier = "ZZ"
//! id = "CASCADERIDGE"
//!
//! [connections.cleo.partners.STATEDOT]         # one trading partner (its key names control numbers and files)
//! name = "State Department of Transportation"
//! qualifier = "ZZ"              # the partner's ISA qualifier and id (ISA07/08 when we send, ISA05/06 when it does)
//! id = "STATEDOTAP"
//! outbound = "statedot-out"     # folders.<key> we upload 810s and 997s into
//! inbound = "statedot-in"       # folders.<key> its 810s and 997s arrive in
//! clients = ["STATEDOT"]        # Deltek clients (firm number, or ClientID) invoiced by EDI through it
//! release = "004010"            # or "005010"
//! separators = { element = "*", component = ">", segment = "~", line_ending = "lf" }
//! ack_within_hours = 24         # a sent 810 without a 997 after this is reported overdue (0 = never)
//! acknowledge = "all"           # 997s for its groups: all | handled (invoices only) | none
//! ta1 = "when_requested"        # TA1s for its interchanges: when_requested | always | never
//! ```
//!
//! Directions are configuration: Harmony's own names are server-perspective (`inbox` is where a
//! *user* stores files), so no direction is ever inferred from a folder name. A `base_url`
//! ending in `/api` is accepted and the `/api` dropped (the API lives under it either way), since
//! tenants differ in domain (`cleointegration.com`, `cleointegration.cloud`, on-premises hosts).
//!
//! Every key is checked when the connection is built; an error names the connection, the key and
//! what is expected. Credentials are the secret-store entry's `username` and `password` of a
//! dedicated API account *without* two-factor authentication.

use std::collections::BTreeMap;
use std::time::Duration;

use mlc_core::connect::ConnectionSpec;
use mlc_core::secret::{Credentials, Redacted};
use serde::Deserialize;
use url::Url;

use crate::errors::CleoError;

/// How files are uploaded (the wire form is not documented; both are plausible).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UploadMode {
    /// `multipart/form-data` with one file part carrying the name.
    Multipart,
    /// The bytes as `application/octet-stream`, the name in `?filename=`.
    Raw,
    /// Multipart, and raw from then on if the tenant answers 415 (a refusal, so retrying is safe).
    #[default]
    Auto,
}

/// Which way files move through a folder, seen from us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// We upload into it; the partner collects (needs Upload permission).
    Outbound,
    /// The partner drops files into it; we download and delete (needs Download permission).
    Inbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

/// Who we are in X12: the ISA05/ISA06 of every interchange we send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdiIdentity {
    pub qualifier: String,
    pub id: String,
    /// GS02 when it differs from the ISA id.
    #[serde(default)]
    pub gs_id: Option<String>,
}

/// What follows each segment terminator in files we write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LineEnding {
    None,
    #[default]
    Lf,
    Crlf,
}

/// A partner's separators (each one character; element and segment must differ from the rest).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SeparatorSetting {
    pub element: String,
    pub component: String,
    /// Written in ISA11 of 005010 interchanges.
    pub repetition: String,
    pub segment: String,
    pub line_ending: LineEnding,
}

impl Default for SeparatorSetting {
    fn default() -> Self {
        SeparatorSetting {
            element: "*".into(),
            component: ">".into(),
            repetition: "^".into(),
            segment: "~".into(),
            line_ending: LineEnding::Lf,
        }
    }
}

/// ISA15 of what we send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UsageSetting {
    #[default]
    Production,
    Test,
    Information,
}

/// One trading partner: its X12 identity and profile, its folders, the Deltek clients invoiced
/// through it, and how acknowledgments work with it. Checked when the connection is built.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerSetting {
    /// For people (`State Department of Transportation`).
    #[serde(default)]
    pub name: String,
    /// The partner's ISA qualifier (`ZZ`, `01`, `12` ...) and id.
    pub qualifier: String,
    pub id: String,
    /// The partner's GS application code when it differs from its ISA id.
    #[serde(default)]
    pub gs_id: Option<String>,
    /// Our ISA qualifier/id for this partner when it differs from `[edi]`.
    #[serde(default)]
    pub our_qualifier: Option<String>,
    #[serde(default)]
    pub our_id: Option<String>,
    /// `folders.<key>` we upload into (810s, and the 997s answering its files).
    #[serde(default)]
    pub outbound: Option<String>,
    /// `folders.<key>` its files (810s, 997s) arrive in.
    #[serde(default)]
    pub inbound: Option<String>,
    /// Deltek clients invoiced by EDI through this partner (outbound 810s): the firm's number
    /// (`Client`), or its `ClientID`.
    #[serde(default)]
    pub clients: Vec<String>,
    /// `004010` or `005010`.
    #[serde(default = "default_release")]
    pub release: String,
    #[serde(default)]
    pub separators: SeparatorSetting,
    #[serde(default)]
    pub usage: UsageSetting,
    /// Ask for a TA1 (ISA14 = 1).
    #[serde(default)]
    pub ta1_requested: bool,
    /// N1*BT04 on our 810s when the partner knows us under another id than the Deltek client id.
    #[serde(default)]
    pub buyer_id: Option<String>,
    /// Hours after which a sent 810 without a 997 is reported overdue (0 = never).
    #[serde(default = "default_ack_hours")]
    pub ack_within_hours: u32,
    /// Which of its groups get a 997: `all` (default: groups this product does not read are
    /// answered "not supported"), `handled` (only invoices), `none`.
    #[serde(default)]
    pub acknowledge: mlc_x12::AckScope,
    /// When its interchanges get a TA1: `when_requested` (ISA14 = 1, default), `always`, `never`.
    #[serde(default)]
    pub ta1: mlc_x12::Ta1Policy,
    /// Let N1*RE/RI name the vendor when no seller party does (off: a remit-to may be a bank).
    #[serde(default)]
    pub remit_to_names_vendor: bool,
    /// Whether its TDS01 includes TXI tax: `auto` (default), `included`, `excluded`.
    #[serde(default)]
    pub tax_in_tds: mlc_x12::TaxInTds,
    /// Currency of its invoices when they carry no CUR segment.
    #[serde(default = "default_currency")]
    pub currency: String,
}

fn default_release() -> String {
    "004010".into()
}

fn default_ack_hours() -> u32 {
    24
}

fn default_currency() -> String {
    "USD".into()
}

/// One configured folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSetting {
    pub mailbox: String,
    pub folder: String,
    pub direction: Direction,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    base_url: String,
    #[serde(default)]
    upload_mode: Option<UploadMode>,
    #[serde(default)]
    requests_per_second: Option<f64>,
    #[serde(default)]
    page_size: Option<usize>,
    #[serde(default)]
    token_lifetime_secs: Option<u64>,
    #[serde(default)]
    timeout_secs: Option<u64>,
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde(default)]
    retry_base_ms: Option<u64>,
    #[serde(default)]
    folders: BTreeMap<String, FolderSetting>,
    #[serde(default)]
    chunk_sets: Option<usize>,
    #[serde(default)]
    delete_after_pickup: Option<bool>,
    /// Read apart, so an error names `edi` or `partners.<key>`.
    #[serde(default)]
    edi: Option<serde_json::Value>,
    #[serde(default)]
    partners: BTreeMap<String, serde_json::Value>,
}

/// Everything about a Cleo connection except its secrets.
#[derive(Debug, Clone)]
pub struct CleoSettings {
    /// Connection name, in messages and `mlc credentials set <connection>`.
    pub connection: String,
    /// Tenant root (always ending in `/`); the API is `{base_url}api/...`.
    pub base_url: Url,
    pub upload_mode: UploadMode,
    /// Per API path; 0 switches the limiter off (tests).
    pub requests_per_second: f64,
    pub page_size: usize,
    pub token_lifetime: Duration,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub retry_base: Duration,
    /// Configured folders by name.
    pub folders: BTreeMap<String, FolderSetting>,
    /// Inbound: sets handed to the engine per read of a file.
    pub chunk_sets: usize,
    /// Inbound: delete a file once its bytes are kept.
    pub delete_after_pickup: bool,
    /// Our X12 identity (required once a partner is configured).
    pub edi: Option<EdiIdentity>,
    /// Trading partners by key.
    pub partners: BTreeMap<String, PartnerSetting>,
}

impl CleoSettings {
    /// Read a connection's settings.
    pub fn from_spec(spec: &ConnectionSpec) -> Result<Self, CleoError> {
        Self::from_options(&spec.name, &spec.options_json())
    }

    /// Read settings from an options object (base URL included as `base_url`).
    pub fn from_options(connection: &str, options: &serde_json::Value) -> Result<Self, CleoError> {
        let raw: Raw = serde_json::from_value(options.clone()).map_err(|e| {
            let text = e.to_string();
            let (key, problem) = if text.starts_with("unknown field") {
                let key = text.split('`').nth(1).unwrap_or("(options)").to_string();
                let expected = text.split("expected one of").nth(1).map(str::trim).unwrap_or("");
                (key, format!("is not a Cleo option (known: {expected})"))
            } else {
                // serde names the bad value, not its key: find the key by reading each alone.
                let key = options
                    .as_object()
                    .and_then(|m| {
                        m.iter().find(|(k, v)| {
                            let mut one = serde_json::Map::new();
                            one.insert("base_url".into(), serde_json::Value::String("http://x".into()));
                            one.insert((*k).clone(), (*v).clone());
                            k.as_str() != "base_url"
                                && serde_json::from_value::<Raw>(serde_json::Value::Object(one)).is_err()
                        })
                    })
                    .map(|(k, _)| k.clone())
                    .unwrap_or_else(|| "base_url".to_string());
                (key, format!("has a bad value: {}", text.split(" at line ").next().unwrap_or(&text)))
            };
            CleoError::Config { connection: connection.into(), key, problem }
        })?;
        let cfg =
            |key: &str, problem: String| CleoError::Config { connection: connection.into(), key: key.into(), problem };
        let mut base = Url::parse(raw.base_url.trim()).map_err(|e| {
            cfg(
                "base_url",
                format!("{:?} is not a URL ({e}); expected https://<tenant>.cleointegration.com", raw.base_url),
            )
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(cfg(
                "base_url",
                format!("{base} must be an http(s) URL such as https://<tenant>.cleointegration.com"),
            ));
        }
        if !base.username().is_empty() || base.password().is_some() || base.query().is_some() {
            return Err(cfg(
                "base_url",
                "must not carry a user, password or query (credentials go in `mlc credentials set`)".into(),
            ));
        }
        let mut path = base.path().trim_end_matches('/').to_string();
        if path.to_ascii_lowercase().ends_with("/api") {
            path.truncate(path.len() - 4);
        }
        base.set_path(&format!("{path}/"));
        let rps = raw.requests_per_second.unwrap_or(4.0);
        if !rps.is_finite() || rps < 0.0 {
            return Err(cfg(
                "requests_per_second",
                format!("{rps} must be 0 (no pacing) or a positive number; Cleo allows about 5"),
            ));
        }
        let page_size = raw.page_size.unwrap_or(100);
        if page_size == 0 || page_size > 1000 {
            return Err(cfg("page_size", format!("{page_size} must be between 1 and 1000")));
        }
        let max_attempts = raw.max_attempts.unwrap_or(6);
        if max_attempts == 0 || max_attempts > 20 {
            return Err(cfg("max_attempts", format!("{max_attempts} must be between 1 and 20")));
        }
        let lifetime = raw.token_lifetime_secs.unwrap_or(1200);
        if lifetime < 60 {
            return Err(cfg("token_lifetime_secs", format!("{lifetime} must be at least 60")));
        }
        let timeout = raw.timeout_secs.unwrap_or(60);
        if timeout == 0 {
            return Err(cfg("timeout_secs", "must be above 0".into()));
        }
        for (name, f) in &raw.folders {
            if f.mailbox.trim().is_empty() {
                return Err(cfg(
                    &format!("folders.{name}.mailbox"),
                    "is empty; give the trading-partner mailbox alias".into(),
                ));
            }
            if f.folder.trim().is_empty() {
                return Err(cfg(
                    &format!("folders.{name}.folder"),
                    "is empty; give the folder's name in the mailbox".into(),
                ));
            }
        }
        let chunk_sets = raw.chunk_sets.unwrap_or(50);
        if chunk_sets == 0 || chunk_sets > 1000 {
            return Err(cfg("chunk_sets", format!("{chunk_sets} must be between 1 and 1000")));
        }
        let edi = match raw.edi {
            Some(v) => Some(
                serde_json::from_value::<EdiIdentity>(v).map_err(|e| cfg("edi", format!("is not readable: {e}")))?,
            ),
            None => None,
        };
        let mut partners = BTreeMap::new();
        for (key, v) in raw.partners {
            let p: PartnerSetting = serde_json::from_value(v)
                .map_err(|e| cfg(&format!("partners.{key}"), format!("is not readable: {e}")))?;
            partners.insert(key, p);
        }
        crate::partners::check(&edi, &partners, &raw.folders).map_err(|(key, problem)| cfg(&key, problem))?;
        Ok(CleoSettings {
            connection: connection.into(),
            base_url: base,
            upload_mode: raw.upload_mode.unwrap_or_default(),
            requests_per_second: rps,
            page_size,
            token_lifetime: Duration::from_secs(lifetime),
            timeout: Duration::from_secs(timeout),
            max_attempts,
            retry_base: Duration::from_millis(raw.retry_base_ms.unwrap_or(500)),
            folders: raw.folders,
            chunk_sets,
            delete_after_pickup: raw.delete_after_pickup.unwrap_or(true),
            edi,
            partners,
        })
    }

    /// `POST {base}api/authentication`.
    pub fn token_url(&self) -> Url {
        self.base_url.join("api/authentication").unwrap_or_else(|_| self.base_url.clone())
    }
}

/// The API account.
#[derive(Debug, Clone)]
pub struct CleoCredentials {
    pub username: String,
    pub password: Redacted<String>,
}

impl CleoCredentials {
    /// `username` and `password` from the secret store, or an error naming what is missing.
    pub fn from_credentials(connection: &str, creds: &Credentials) -> Result<Self, CleoError> {
        let missing: Vec<String> = ["username", "password"]
            .iter()
            .filter(|f| creds.get(f).is_none_or(|v| v.expose().trim().is_empty()))
            .map(|f| f.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(CleoError::MissingCredential { connection: connection.into(), fields: missing });
        }
        let get = |f: &str| creds.get(f).map(|v| v.expose().clone()).unwrap_or_default();
        Ok(CleoCredentials { username: get("username").trim().to_string(), password: Redacted::new(get("password")) })
    }
}
