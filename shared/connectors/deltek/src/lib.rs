//! Deltek Vantagepoint connector (`mlc-deltek`): the hub four of ml-connector's five flows post
//! into (Cin7 Core → AP, Procore → AP and journal entries, Coupa → AP, Cleo EDI ↔ AP and AR).
//!
//! # The system
//! Vantagepoint (formerly "Deltek for Professional Services") is the ERP of architecture,
//! engineering and construction firms: projects (WBS1 project / WBS2 phase / WBS3 task), firms
//! (clients and vendors in one hub), a chart of accounts, accounting periods, and a Transaction
//! Center where AP vouchers, journal entries and other transactions are entered in *files*
//! (`Batch`) that become ledger rows only when posted. Its REST API is ASP.NET Web API rooted at
//! `https://{tenant}.deltekfirst.com/{Tenant}/api` in Deltek's cloud or
//! `https://{host}/vantagepoint/api` on premises ([`DeltekSettings::base_url`]).
//!
//! # What a flow calls
//! ```no_run
//! # async fn demo(options: serde_json::Value, creds: mlc_core::secret::Credentials,
//! #   invoice: mlc_core::domain::ApInvoice) -> Result<(), mlc_deltek::DeltekError> {
//! use mlc_deltek::{DeltekClient, DeltekSettings};
//! let deltek = DeltekClient::new(DeltekSettings::from_options("deltek", &options)?, creds)?;
//! deltek.check_ap_invoice(&invoice).await?;                   // vendor, accounts, projects, period
//! match deltek.find_ap_invoice(&invoice.vendor, &invoice.invoice_number).await? {
//!     Some(found) => println!("already there: {}", found.voucher.display()),
//!     None => {
//!         let created = deltek.create_ap_invoice(&invoice).await?; // batched with other callers
//!         println!("{} {}", created.voucher.display(), created.status.describe());
//!     }
//! }
//! # Ok(()) }
//! ```
//! - vendors: [`DeltekClient::find_vendor`], [`DeltekClient::find_vendors_by_name`],
//!   [`DeltekClient::find_vendors_by_tax_id`], [`DeltekClient::create_vendor`],
//!   [`DeltekClient::update_vendor`], [`DeltekClient::vendor`];
//! - reference data, cached per run: [`DeltekClient::accounts`], [`DeltekClient::account`],
//!   [`DeltekClient::projects`], [`DeltekClient::project`], [`DeltekClient::periods`],
//!   [`DeltekClient::period_for_date`], [`DeltekClient::is_date_open`],
//!   [`DeltekClient::closed_periods`], [`DeltekClient::refresh`];
//! - AP: [`DeltekClient::check_ap_invoice`], [`DeltekClient::find_ap_invoice`],
//!   [`DeltekClient::create_ap_invoice`], [`DeltekClient::create_ap_invoices`],
//!   [`DeltekClient::flush_ap`], [`DeltekClient::post_ap_file`],
//!   [`DeltekClient::read_voucher_lines`];
//! - journals: [`DeltekClient::find_journal_entry`], [`DeltekClient::create_journal_entry`];
//! - AR for EDI: [`DeltekClient::ar_invoices_since`];
//! - webhooks: [`DeltekClient::webhook_source`]; checks: [`DeltekClient::ping`];
//!   counters: [`DeltekClient::stats`], [`DeltekClient::lookup_stats`];
//! - as a platform part: [`DeltekConnection`] (registered as system `deltek`) and the targets
//!   every flow into Deltek writes through: [`ApVoucherTarget`], [`VendorFirmTarget`],
//!   [`JournalEntryTarget`] ([`targets`]).
//!
//! Every method returns [`DeltekError`], which converts into the engine's `StepError` with its
//! class (validation → Permanent with Vantagepoint's text and the voucher named; 429/5xx →
//! Retryable; lost write → InDoubt; credentials → Auth).
//!
//! # Quirks handled, and why
//! - **Auth** ([`auth`]): OAuth2 *password* grant with Deltek's form spelling (`Username`,
//!   `Password`, `Client_Id`, `client_secret`, `Integrated=N`, `database`, optional `culture`);
//!   ~30 min tokens refreshed before expiry and once on a 401; a refused refresh falls back to a
//!   full login; `invalid_grant` sentences are translated into causes and fixes (disabled login,
//!   wrong password, password grant not allowed on the API Authorization, wrong database).
//! - **Answers** ([`decode`]): every GET is a bare array even by key, except `ARReview/*` samples
//!   (a bare object) and `PostTransFile` (a JSON-encoded *string*); numbers arrive as strings,
//!   blank WBS levels as `" "`, dates as `YYYY-MM-DDTHH:MM:SS.mmm` without a zone (with or without
//!   fraction or zone accepted), flags as `Y`/`N`, keys in mixed case. All read tolerantly, once.
//! - **Errors** ([`client`], [`errors`]): refusals come as `{"Message"}`, `{"message","detail"}`,
//!   OAuth `{"error","error_description"}` or HTML, sometimes doubled ("X. X.") or as raw SQL
//!   Server text; the connector reads all of them, recognises closed periods, and names the fix.
//! - **Paging**: `pageSize` + `page` (some endpoints answer 500 to `limit`); no count or next link,
//!   so a short page ends the list, and a server that ignores paging is detected.
//! - **Search**: filterHash clauses (`filterHash[i][name|opp|value|type]`), `fieldFilter` to
//!   shrink index reads.
//! - **No idempotency key** ([`keys`], [`lookup`], [`ap`]): deterministic `MasterPKey`s and line
//!   keys, one-voucher files named after their voucher, and a lookup that reads unposted files and
//!   posted ledger rows, so a voucher is found whether we saved it (even in a file whose answer
//!   was lost), or a person keyed it, posted or not.
//! - **Files are all-or-nothing**: a refused file is split so only the voucher(s) Vantagepoint
//!   named fail; the rest are saved.
//! - **Approvals**: a voucher may land as draft (`N`) or submitted (`S`) when the tenant has a
//!   Transaction Center approval workflow: reported as status, never as an error; posting waits.
//! - **PUT is PATCH**: vendor updates send only changed fields; there is no PATCH verb.
//! - **Amounts hidden by role**: a role without field-level visibility reads amounts as 0; AP
//!   posting checks visibility first and reading back all-zero amounts fails with
//!   [`DeltekError::HiddenAmounts`] naming the cause, so zeros are never passed on.
//! - **Webhooks** ([`webhook`]): workflow Webhook actions are unsigned; Basic credentials are
//!   verified in constant time and the arguments are only a hint to read the record back.
//!
//! See `shared/research/deltek.md` for the facts (and their confidence) behind each of these.

pub mod ap;
pub mod ar;
pub mod ar_source;
pub mod auth;
pub mod client;
pub mod connection;
pub mod decode;
pub mod errors;
pub mod firms;
pub mod journal;
pub mod keys;
pub mod lookup;
pub mod model;
pub mod ping;
pub mod precheck;
pub mod reference;
pub mod settings;
pub mod targets;
pub mod webhook;

pub use ap::VoucherLine;
pub use ar::{ArCursor, ArPage};
pub use client::DeltekClient;
pub use connection::DeltekConnection;
pub use errors::DeltekError;
pub use lookup::LookupStats;
pub use model::{
    Account, CreatedVoucher, FirmAddress, FoundVoucher, JournalRef, Period, PostOutcome, Project, VendorFirm,
    VoucherRef, VoucherStatus,
};
pub use reference::Periods;
pub use settings::{DeltekCredentials, DeltekSettings, PeriodMode, WebhookEntity};
pub use targets::{ApVoucherTarget, JournalEntryTarget, VendorDoc, VendorFirmTarget, VendorNumbers};
pub use webhook::DeltekWebhook;
