//! Cleo Integration Cloud connector (`mlc-cleo`): the EDI mailbox side of Deltek Vantagepoint ↔
//! Cleo (issue 16). Outbound AR 810s are uploaded into trading partners' folders; partners' 810s
//! and 997s are collected from theirs.
//!
//! # The system
//! Cleo Integration Cloud (CIC) is Cleo's hosted B2B platform. Trading partners reach it through
//! *Partner Mailboxes* whose named folders carry Upload and/or Download permissions; the same
//! mailboxes are reachable over the REST API of VersaLex (the engine shared by CIC, Harmony,
//! VLTrader and LexiCom) at `https://{tenant}.cleointegration.com/api/…` (or an on-premises
//! `http(s)://host:port/api/…`). Facts and their confidence: `shared/research/cleo.md`; the
//! simulator this is tested against: `mlc_sim::cleo`.
//!
//! # What a flow calls
//! ```no_run
//! # async fn demo(options: serde_json::Value, creds: mlc_core::secret::Credentials, bytes: Vec<u8>)
//! #   -> Result<(), mlc_cleo::CleoError> {
//! use mlc_cleo::{CleoClient, DirSink, outbound_file_name};
//! let cleo = CleoClient::from_options("cleo", &options, &creds)?;
//! // Outbound: a unique name, looked up before every upload (a lost answer is never re-sent).
//! let out = cleo.folder("statedot-out").await?;
//! let name = outbound_file_name("810", &out.mailbox, 42, chrono::Utc::now());
//! let sent = cleo.upload_once(&out, &name, &bytes).await?;
//! // Inbound: list, then store durably and hash before deleting.
//! let inbound = cleo.folder("granite-in").await?;
//! for file in cleo.list_files(&inbound).await? {
//!     let picked = cleo.pick_up(&file, &DirSink::new("/var/lib/mlc/cleo"), true).await?;
//!     println!("{} {} {:?}", picked.file.name, picked.sha256, picked.deleted);
//! }
//! # let _ = sent; Ok(()) }
//! ```
//! - folders: [`CleoClient::folder`] (configured, by key), [`CleoClient::folder_at`] (any),
//!   [`CleoClient::mailboxes`], [`CleoClient::mailbox`], [`CleoClient::folders`];
//! - files: [`CleoClient::list_files`], [`CleoClient::find_files`] (the natural-key lookup),
//!   [`CleoClient::upload_once`], [`CleoClient::upload`], [`CleoClient::download`],
//!   [`CleoClient::pick_up`], [`CleoClient::delete`]; [`outbound_file_name`],
//!   [`RemoteFile::tracking_key`] (folder + name + size + hash, for inbound dedup);
//! - checks and counters: [`CleoClient::ping`], [`CleoClient::stats`]; the platform's
//!   [`CleoConnection`] (registered as system `cleo`).
//!
//! Every method returns [`CleoError`], which converts into the engine's `StepError` with its class.
//!
//! # The parts the EDI flows are made of
//! - [`InboundSource`] (`<connection>/inbound-file`): the partners' inbound folders; each file
//!   picked up (kept in the store before it is deleted in Cleo), read with `mlc-x12`'s streaming
//!   reader in bounded chunks of transaction sets, answered with 997s/TA1s, re-sends recognised;
//!   shared by `cleo-deltek-ap810` and `cleo-deltek-ar997`.
//! - [`Edi810Target`] (`810-file`): one AR invoice → one interchange for its partner, numbered
//!   from the engine's sequences, proven valid, kept, uploaded once under a unique name.
//! - [`AckTarget`] (`997`): a partner's 997 matched to the interchange it acknowledges and
//!   recorded on the invoice's item (`Engine::acknowledge`).
//! - [`Partners`] ([`partners`]): the trading-partner profiles of the connection's settings;
//!   [`ledger`]: what the parts remember between attempts (sent interchanges, received files);
//!   [`edi`]: the X12 side (chunks, responses, rendering).
//!
//! # Quirks handled, and why
//! - **Auth** ([`auth`]): password grant at `/api/authentication` **[C]**; `expires_in` and a
//!   refresh token are optional **[U]**: refresh before expiry (or an assumed lifetime), once on a
//!   401, full re-login when the refresh is refused. A TOTP-2FA account is refused with "use a
//!   service account without 2FA"; locked accounts and expired passwords get their own fix;
//!   a refused password is never retried in a loop (VersaLex locks accounts).
//! - **Base URL** ([`settings`]): a full configuration value (tenant domains differ; on premises
//!   has its own host and port), never built from a tenant name.
//! - **Rate limit** ([`client`]): about 5 requests/s *per API path* **[U]**: the kit's per-path
//!   budget (one token bucket per path template, default 4/s, shared by every client of the
//!   tenant); 429 with or without `Retry-After`, and 503, backed off by the kit with full jitter.
//! - **Collections** ([`client`]): the kit's `startIndex`/`count` paging advancing by what came
//!   back **[C]**; page size limits unknown, so the server's clamp is followed; files arriving
//!   between pages are caught (repeats dropped by id, a second walk when the total moved).
//! - **Navigation by href** **[C]**: server-relative `_links.*.href` joined to the tenant's origin.
//! - **File resources** ([`model`]) are not documented **[U]**: sizes as numbers or strings,
//!   timestamps in three shapes, optional checksums, `content`/`download`/no content link.
//! - **Uploads** ([`files`]): multipart or raw behind [`UploadMode`] (auto learns from a 415);
//!   same-name uploads duplicate or overwrite silently **[U]**, so names are unique and looked up
//!   first; a lost answer is resolved by listing the folder for that name.
//! - **Downloads** ([`files`]): exact bytes, checked against size and hash (a proxy may cut a
//!   body short), stored durably and hashed ([`DurableSink`]) before any delete; 404 on delete is
//!   success; no delete permission is reported, not fatal.
//! - **Directions** are configuration per folder (`outbound`/`inbound`), never inferred from
//!   folder names (Harmony's `inbox` is where a *user* stores files).
//! - **Answers**: errors as `{"message"}` (or empty, or proxy HTML) are quoted; a 2xx HTML page
//!   (SSO/proxy) is never data; redirects are not followed.
//! - No webhooks: Cleo does not send any; inbound files are found by polling.
//!
//! Modules, bottom up: [`settings`], [`partners`], [`errors`], [`auth`], [`model`], [`client`]
//! (transport), [`folders`], [`files`], [`api`] ([`CleoClient`]), [`ping`], [`connection`];
//! then the EDI parts: [`ledger`], [`edi`], [`sources`], [`targets`].

pub mod api;
pub mod auth;
pub mod client;
pub mod connection;
pub mod edi;
pub mod errors;
pub mod files;
pub mod folders;
pub mod ledger;
pub mod model;
pub mod partners;
pub mod ping;
pub mod settings;
pub mod sources;
pub mod targets;

pub use api::CleoClient;
pub use connection::{CREDENTIAL_FIELDS, CleoConnection};
pub use errors::CleoError;
pub use files::{DirSink, DurableSink, outbound_file_name, sha256_hex};
pub use model::{Deleted, Downloaded, Folder, FolderRef, Mailbox, Permissions, PickedUp, RemoteFile, UploadOutcome};
pub use partners::{Partner, Partners};
pub use settings::{CleoSettings, Direction, FolderSetting, UploadMode};
pub use sources::InboundSource;
pub use targets::{AckDoc, AckTarget, Edi810Target, OutboundInvoice};
