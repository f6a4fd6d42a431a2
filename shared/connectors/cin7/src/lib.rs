//! Cin7 Core connector (`mlc-cin7`): the source of the Cin7 → Deltek AP flow (authorised
//! supplier bills become AP vouchers, suppliers become vendor firms) and of the Cin7 ↔ Acumatica
//! flows.
//!
//! # The system
//! Cin7 Core (formerly DEAR Inventory) is cloud inventory and purchasing. Its External API v2
//! lives at `https://inventory.dearsystems.com/ExternalApi/v2/`. A purchase is a master task with
//! sub-documents — Order, StockReceived, Invoice, CreditNote — each with its own status
//! (`NOT AVAILABLE` → `DRAFT` → `AUTHORISED` (→ `PAID`) → `VOIDED`); Simple purchases hold one of
//! each, Advanced purchases many. The facts (and their confidence) are in
//! `shared/research/cin7.md`; the simulator (`mlc_sim::cin7`) reproduces them.
//!
//! # What a flow calls
//! ```no_run
//! # async fn demo(options: serde_json::Value, creds: mlc_core::secret::Credentials) -> Result<(), mlc_cin7::Cin7Error> {
//! use mlc_cin7::{Cin7Client, Cin7Settings};
//! let cin7 = Cin7Client::new(Cin7Settings::from_options("cin7", &options)?, creds)?;
//! let page = cin7.list_purchases_changed(None, 1, 100).await?;          // poll: changed since the cursor
//! for row in &page.items {
//!     if let Some(p) = cin7.get_purchase(&row.id).await? {               // read back, one model
//!         for bill in p.authorised_invoices() {
//!             println!("{} {:?} {:?}", p.order_number, bill.number, bill.totals.total);
//!         }
//!     }
//! }
//! # Ok(()) }
//! ```
//! - purchases: [`Cin7Client::list_purchases_changed`], [`Cin7Client::search_purchases`],
//!   [`Cin7Client::get_purchase`], [`Cin7Client::resolve_purchase_task`];
//! - suppliers: [`Cin7Client::list_suppliers_changed`], [`Cin7Client::get_supplier`],
//!   [`Supplier::to_vendor`]; accounts: [`Cin7Client::list_accounts`] (read-only);
//! - webhooks: [`Cin7Client::list_webhooks`], [`Cin7Client::register_webhook`],
//!   [`Cin7Client::ensure_webhook`], [`Cin7Client::delete_webhook`],
//!   [`Cin7Client::webhook_source`]; checks: [`Cin7Client::ping`]; counters: [`Cin7Client::stats`].
//!
//! - as a platform part: [`Cin7Connection`] (registered as system `cin7`: settings check,
//!   credential fields, ping, webhook source) and the shared sources [`PurchaseSource`] and
//!   [`SupplierSource`] every Cin7 flow reads through.
//!
//! Every method returns [`Cin7Error`], which converts into the engine's `StepError` with its
//! class (403 → Auth; throttling, 5xx, network → Retryable; lost create → InDoubt; Cin7's
//! refusals and wrong-URL pages → Permanent, quoting Cin7's text and the fix).
//!
//! # Quirks handled, and why
//! - **Auth** ([`auth`]): two headers on every call, `api-auth-accountid` and
//!   `api-auth-applicationkey`; no tokens. A bad pair is a 403 that Cin7 does not explain, so
//!   ping checks locally which value is missing or not GUID-shaped and says where keys are made.
//! - **Budget** ([`client`]): 60 calls in any rolling 60 s *per API application*. One limiter
//!   per application per process: every client built for the same base URL, account and key
//!   shares one HTTP client, so all flows and workers together keep the budget; the window gets
//!   a 5 % margin because requests reach Cin7 a little after they leave. Window and count are
//!   settings (`rate_limit_calls`, `rate_limit_window_secs`) so the demo can compress time.
//! - **Throttle detection**: Cin7 says "slow down" three ways, by status 429, by 503, or by a
//!   400 whose error says "You have reached 60 calls per 60 seconds API limit." (live on
//!   `/purchase*` in 2026); all three are recognised (status or message text). `Retry-After`
//!   is honoured when present (Cin7 sends none); without it, after short backoffs, the client
//!   waits one full window, the only wait certain to free a slot, and tries once more.
//! - **Never a blind second create**: a create whose answer is lost (reset, timeout, 5xx) is
//!   not re-sent ([`Cin7Error::InDoubt`]); only a refused (throttled) one is. ml-connector's only
//!   creates in Cin7 are webhook registrations; [`Cin7Client::ensure_webhook`] looks first.
//! - **Answers judged, not trusted**: an unknown path answers *HTTP 200 with an HTML "Page not
//!   found"* page (or a redirect loop): any non-JSON 2xx is an error naming the base-URL fix, and
//!   redirects are not followed. Error bodies come as an array `[{ErrorCode, Exception}]` or a
//!   single object; both are read and quoted whole. "Not found" refusals (400 "… not found")
//!   become `None`.
//! - **Tolerant models** ([`model`]): case-insensitive keys, numbers as strings, dates with or
//!   without `Z` and with 0–7 fraction digits (zone-less = UTC), statuses as open enums, GUIDs
//!   compared case-insensitively and lower-cased at the edge. Oddities are noted on the record,
//!   not fatal.
//! - **One purchase model for three shapes**: `advanced-purchase` (arrays; all types) is read
//!   first; legacy `purchase` (single objects; Simple only; docs spell `InvocieNumber`) only
//!   when the API answers as if `advanced-purchase` were missing. Both decode into [`Purchase`].
//! - **Cursors**: `purchaseList?UpdatedSince=` is strictly after; stamps are sent floored to the
//!   millisecond so a record in the cursor's millisecond is seen again, never skipped. There is
//!   no `ModifiedSince` on purchases (that is suppliers').
//! - **Webhooks** ([`webhook`]): unsigned; verified by a secret custom header (shared
//!   `mlc-webhooks` scheme, constant time) before parsing; the payload is only a hint. For
//!   Advanced purchases the `TaskID` may be a sub-task id, so [`Cin7Client::resolve_purchase_task`]
//!   falls back to the order number. Deliveries have no id: the body hash stands in.
//! - **Writes only where a flow needs them** ([`writes`]): purchases raised in Acumatica (header,
//!   draft order, then the separate authorise) and suppliers kept in line with Acumatica vendors,
//!   each create looked up by its natural key before and after a lost answer. Nothing else is
//!   written; the chart of accounts is read-only. As platform parts: [`PurchaseTarget`] and
//!   [`SupplierTarget`] ([`targets`]).

pub mod auth;
pub mod client;
pub mod connection;
pub mod errors;
pub mod model;
pub mod ping;
pub mod sources;
pub mod targets;
pub mod webhook;
pub mod writes;

pub use client::{Cin7Client, Cin7Settings, PurchaseEndpoint};
pub use connection::Cin7Connection;
pub use errors::Cin7Error;
pub use model::{
    Account, Approach, Charge, CreditNote, DocStatus, Endpoint, Invoice, Line, Order, Page, Payment, Purchase,
    PurchaseSummary, PurchaseType, StockReceipt, Supplier, SupplierAddress, SupplierContact, Totals, Webhook,
};
pub use sources::{ListOptions, PurchaseSource, SupplierSource};
pub use targets::{PurchaseDoc, PurchaseTarget, SupplierTarget};
pub use webhook::{
    Cin7Webhook, ENTITY_PURCHASE, ENTITY_PURCHASE_TASK, ENTITY_SUPPLIER, parse_events, split_task_hint, webhook_source,
};
