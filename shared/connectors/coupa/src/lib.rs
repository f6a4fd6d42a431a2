//! Coupa connector (`mlc-coupa`): the source side of Coupa → Deltek Vantagepoint (approved
//! invoices with their POs, voids, suppliers).
//!
//! # The system
//! Coupa is a procure-to-pay suite; each customer has an instance
//! (`https://{instance}.coupahost.com`) whose REST API lives under `/api/`. Integrations
//! authenticate with OAuth 2.0 client credentials and follow Coupa's *export-flag pattern*: read
//! what is approved and not yet exported, post it to the ERP, then flag it exported. The facts,
//! with their confidence, are in `shared/research/coupa.md`; the simulator (`mlc_sim::coupa`)
//! reproduces them, with a switch for every inferred or unknown behaviour.
//!
//! # What the flows call
//! ```no_run
//! # async fn demo(spec: mlc_core::connect::ConnectionSpec, creds: mlc_core::secret::Credentials) -> Result<(), mlc_coupa::CoupaError> {
//! use mlc_coupa::{CoupaClient, CoupaSettings, ExportPass};
//! let coupa = CoupaClient::new(CoupaSettings::from_spec(&spec)?, creds)?;
//! for id in coupa.invoice_ids_to_export(ExportPass::Approved).await? {   // ids first, then work
//!     let Some(inv) = coupa.get_invoice(id).await? else { continue };      // read back, typed
//!     // … post to Deltek (PO numbers: inv.po_numbers(); coding: line.coding()) …
//!     coupa.mark_invoice_exported(inv.id).await?;                          // its own request
//! }
//! let changed = coupa.suppliers_changed_since(None).await?;                // vendors by watermark
//! # let _ = changed; Ok(()) }
//! ```
//! - invoices ([`invoices`]): [`CoupaClient::invoice_ids_to_export`] (approved or voided pass),
//!   [`CoupaClient::get_invoice`], [`CoupaClient::find_invoices`] (natural key: number +
//!   supplier), [`CoupaClient::invoice_export_state`], [`CoupaClient::mark_invoice_exported`],
//!   [`CoupaClient::set_invoice_custom_fields`] (the Deltek voucher id write-back);
//! - purchase orders ([`purchase_orders`]): [`CoupaClient::get_purchase_order`],
//!   [`CoupaClient::find_purchase_order`], [`CoupaClient::get_order_line`],
//!   [`CoupaClient::purchase_orders_of`], [`CoupaClient::purchase_order_ids_to_export`],
//!   [`CoupaClient::mark_purchase_order_exported`];
//! - suppliers ([`suppliers`]): [`CoupaClient::suppliers_changed_since`] (watermark),
//!   [`CoupaClient::get_supplier`], [`CoupaClient::find_supplier_by_number`],
//!   [`CoupaClient::remit_to_addresses`], [`CoupaClient::supplier_information`] (tax id, bank);
//! - reference ([`mod@reference`]): [`CoupaClient::list_accounts`], [`CoupaClient::list_payment_terms`],
//!   [`CoupaClient::list_currencies`]; monitoring ([`integration`]):
//!   [`CoupaClient::record_integration_result`];
//! - paging ([`paging`]): [`CoupaClient::walk`], [`CoupaClient::collect`], [`CoupaClient::collect_ids`];
//! - the platform ([`connection`]): [`CoupaConnection`] (ping, [`webhook::CoupaWebhook`],
//!   counters) registered as system `coupa`;
//! - the flows' parts ([`sources`]): [`sources::InvoiceSource`] (`<connection>/invoice`: the
//!   approved pass by export flag, paged by key with [`CoupaClient::page_after`], and the voided
//!   pass by watermark; settles again what a failed mark left unexported) and
//!   [`sources::SupplierSource`] (`<connection>/supplier`, by watermark). The targets are Deltek's.
//!
//! Built on the connector kit: `mlc_http::decode` (tolerant values), `mlc_http::paging`
//! (offset paging), `mlc_http::fault` (error shapes and vendor words), the kit's rate budgets.
//!
//! Every method returns [`CoupaError`], which converts into the engine's `StepError` with its
//! class (token refused, 403 → Auth; 429, 5xx, network → Retryable; lost write → InDoubt;
//! Coupa's refusals → Permanent, quoting its envelope).
//!
//! # Quirks handled, and why
//! - **Auth** ([`auth`]): client credentials with space-separated scopes, the client in the form
//!   (or Basic by setting); 24-hour tokens without refresh token, renewed after 20 h as Coupa
//!   advises, and once on a 401. Coupa says a new token may fail for its first seconds; rather
//!   than delay every cold start, the token replacing a refused one waits
//!   `token_activation_wait_ms` before first use. Legacy API keys are dead (R35) and not used.
//! - **The version header**: the product promises a pinned `X-Coupa-API-Version`; it is sent on
//!   every call (setting `api_version`), but Coupa has no such header and versions by release, so
//!   what is read is pinned by the explicit `fields` list each call sends ([`model`]). That also
//!   makes the payload immune to an admin changing the default API response filter.
//! - **Paging** ([`paging`]): `offset`/`limit` ≤ 50, bare arrays with no total, ordered by id.
//!   Marking records exported while paging `exported=false` would skip records, so ids are
//!   collected first; records duplicated across pages are dropped by id.
//! - **Writes**: the export flag goes in a PUT of its own (Coupa may ignore other changes sent
//!   with it); a mark whose answer was lost is resolved by reading the flag back, and sent again
//!   only if provably not set (it is idempotent). The custom-field write-back is another PUT,
//!   resolved the same way. The one create (integration history) looks the record up first when
//!   its answer is lost.
//! - **Rate limit**: 25 requests/s with bursts of 20, per instance; the client paces itself below
//!   that (20/s, burst 10, settings) under one kit budget per instance (`coupa <host>:<port>`), so
//!   every connection and worker of the process shares it and steady state sees no 429. A 429 — or a 403/503 saying "Rate limit
//!   exceeded", since the status is undocumented — waits `Retry-After` (Coupa sends 1) or backs
//!   off with full jitter.
//! - **Answers**: kebab-case JSON, decimals as strings (numbers accepted), datetimes with the
//!   instance's offset (kept; dates read as written), `line-num` string or number, unknown keys
//!   ignored; 4xx bodies are Coupa's envelope keyed by model name, quoted whole; a web page with
//!   status 200 or a 404 page means a wrong `base_url`; a 2xx read cut short is read again.
//! - **Webhooks** ([`webhook`]): Coupa signs nothing; the call-out (or a relay) signs with
//!   ml-connector's `X-MLC-Signature` scheme (`infra/README.md`), verified over the raw body in
//!   constant time with two secrets during rotation; the payload is a hint.
//! - **Suppliers** have no export flag: synced by `updated-at` watermark ([`suppliers`]).
//! - Coupa never receives accounting entries: the only writes are the export flag, the optional
//!   custom field and the optional integration history record.

pub mod auth;
pub mod client;
pub mod connection;
pub mod errors;
pub mod integration;
pub mod invoices;
pub mod model;
pub mod paging;
pub mod ping;
pub mod purchase_orders;
pub mod reference;
pub mod settings;
pub mod sources;
pub mod suppliers;
pub mod tieout;
pub mod webhook;

pub use client::{CoupaClient, CoupaRules};
pub use connection::{CREDENTIAL_FIELDS, CoupaConnection};
pub use errors::CoupaError;
pub use invoices::{ExportMark, ExportPass, InvoiceStamp, StampPage};
pub use model::{
    Account, Address, Allocation, BankAddress, Charge, Contact, Country, Currency, CurrencyRef, IntegrationRecord,
    Invoice, InvoiceLine, OrderLine, PaymentTerm, Phone, PurchaseOrder, RemitTo, Supplier, SupplierInformation,
    SupplierRef, TaxLine,
};
pub use paging::{KeysetPage, Pager};
pub use settings::{ClientAuthMode, CoupaCredentials, CoupaSettings};
pub use suppliers::SupplierChanges;
pub use webhook::{CoupaWebhook, ENTITY_INVOICE, ENTITY_PURCHASE_ORDER, ENTITY_SUPPLIER, parse_events, webhook_source};
