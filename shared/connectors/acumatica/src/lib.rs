//! Acumatica connector (`mlc-acumatica`): the Acumatica side of Cin7 Core ↔ Acumatica (vendors
//! both ways, purchase orders both ways, AP bills in).
//!
//! # The system
//! Acumatica Cloud ERP serves each tenant's data through the contract-based REST API at
//! `https://<host>[/<instance>]/entity/<Endpoint>/<Version>/<Entity>`: the system endpoint
//! `Default`, versions `20.200.001` … `25.200.001` (Contract Version 4), `26.200.001` (Contract
//! Version 5). The facts, with their confidence, are in `shared/research/acumatica.md`; the
//! simulator (`mlc_sim::acumatica`) reproduces them.
//!
//! # What the flows call
//! ```no_run
//! # async fn demo(spec: mlc_core::connect::ConnectionSpec, creds: mlc_core::secret::Credentials) -> Result<(), mlc_acumatica::AcumaticaError> {
//! use mlc_acumatica::{AcumaticaClient, AcumaticaSettings, model::*};
//! let acu = AcumaticaClient::new(AcumaticaSettings::from_spec(&spec)?, creds)?;
//! let changed = acu.list_vendors_changed(None).await?;        // delta read, cursor = changed.high_water
//! let bill = BillDraft {
//!     kind: BillType::Bill, vendor: "V10001".into(), vendor_ref: "INV-88812".into(),
//!     date: None, due_date: None, description: None, hold: false, branch: None, terms: None, currency: None,
//!     lines: vec![BillLineDraft { account: Some("60000".into()), qty: Some(1.into()), unit_cost: Some(250.into()), ..Default::default() }],
//! };
//! match acu.create_bill_once(&bill).await? {                      // looks up Vendor + VendorRef first
//!     Written::Created(b) => { acu.release_bill(&b.id).await?; }
//!     Written::Found(b) => println!("already there: {} {}", b.kind, b.reference_nbr),
//! }
//! # let _ = changed; Ok(()) }
//! ```
//! - vendors: [`AcumaticaClient::list_vendors_changed`], [`AcumaticaClient::get_vendor`],
//!   [`AcumaticaClient::get_vendor_by_id`], [`AcumaticaClient::find_vendors_by_name`],
//!   [`AcumaticaClient::create_vendor`], [`AcumaticaClient::create_vendor_once`],
//!   [`AcumaticaClient::update_vendor`];
//! - bills: [`AcumaticaClient::list_bills_changed`], [`AcumaticaClient::get_bill`],
//!   [`AcumaticaClient::get_bill_by_id`], [`AcumaticaClient::find_bills`] (Vendor + VendorRef),
//!   [`AcumaticaClient::create_bill`], [`AcumaticaClient::create_bill_once`],
//!   [`AcumaticaClient::set_bill_hold`], [`AcumaticaClient::release_bill`];
//! - purchase orders: [`AcumaticaClient::list_purchase_orders_changed`],
//!   [`AcumaticaClient::get_purchase_order`], [`AcumaticaClient::get_purchase_order_by_id`],
//!   [`AcumaticaClient::find_purchase_orders`] (vendor + Cin7 order number),
//!   [`AcumaticaClient::create_purchase_order`], [`AcumaticaClient::create_purchase_order_once`],
//!   [`AcumaticaClient::update_purchase_order`], [`model::plan_line_changes`];
//! - reference data: [`AcumaticaClient::list_accounts`], [`AcumaticaClient::get_account`],
//!   [`AcumaticaClient::currencies`] and [`AcumaticaClient::check_currency`] (the currency pre-check),
//!   [`AcumaticaClient::list_subaccounts`], [`AcumaticaClient::list_branches`];
//! - push notifications: [`webhook::webhook_source`], [`webhook::hint_target`]; checks:
//!   [`AcumaticaClient::ping`]; [`AcumaticaClient::close`] signs out; counters:
//!   [`AcumaticaClient::stats`]; the platform's connection: [`AcumaticaConnection`].
//!
//! Every method returns [`AcumaticaError`], which converts into the engine's `StepError` with
//! its class (credentials → Auth; throttling, 5xx, network, a release still running →
//! Retryable; a lost write → InDoubt; refusals → Permanent, quoting Acumatica's words and the fix).
//!
//! # Quirks handled, and why
//! - **Base URL = instance + endpoint + pinned version** ([`settings`]): the tenant URL may
//!   carry an instance path; a full endpoint URL pasted as `base_url` is understood. Before the
//!   first call the client reads `GET /entity` and fails fast naming the versions the tenant
//!   offers ([`AcumaticaError::VersionMissing`]): a wrong version is otherwise a bare 404.
//! - **Sign-in** ([`auth`]): OAuth 2.0 password grant (`client_id` is `<GUID>@<tenant>`, and the
//!   suffix is checked against `tenant` at build time); tokens renewed `refresh_before_secs`
//!   before expiry and once on a 401; refresh tokens rotate and the newest is kept. The licence
//!   caps API sessions: "API Login Limit" (429 or in a body) is a retryable wait, not a bad
//!   password. Cookie sign-in only where OAuth cannot be used, always logged out with an
//!   explicit `Content-Length: 0` (IIS answers 411 otherwise); bad credentials there come back
//!   as a *500* PXException and are read as an auth error.
//! - **Values** ([`model`]): every field is `{"value": …}`, `{}` when empty: typed
//!   [`model::Value`]; decimals are exact (`Decimal`, never `f64`); instants keep their offset
//!   and are held in UTC; **date fields keep their date as written** (a midnight with the
//!   tenant's offset must not slide to the day before); drop-downs are labels in CV4 and
//!   `{"id","description"}` in CV5, and are written the way the pinned version wants.
//! - **Answers** ([`client`]): a missing record is a 500
//!   `NoEntitySatisfiesTheConditionException`, not a 404 (read as "none"); other `PX.*` 500s
//!   are refusals, quoted, not server faults; a 422 is quoted per field and line; "the previous
//!   operation has not been completed" (a long operation holding the form) is retried.
//! - **Writes never repeated blindly**: creates are insert-only (`If-None-Match: *`), updates
//!   update-only (`If-Match: *`); a create whose answer was lost is in doubt and resolved by the
//!   natural-key lookup (bill: `Vendor` + `VendorRef`; PO: vendor + the Cin7 order number in
//!   `VendorRef` by default, setting `po_reference_field`; vendor: its code). A PUT without keys
//!   *always* inserts (numbers are assigned on save), so the lookup is what prevents duplicates.
//! - **Delta reads** ([`paging`]): `LastModifiedDateTime gt datetimeoffset'…'` with its `+`
//!   sent as `%2B`, `$top`/`$skip` pages checked against an anchor so records saved between pages
//!   are neither skipped nor double-counted; the cursor only advances after a pass that saw no
//!   movement. If the list optimiser refuses `$expand`, records are read one by one.
//! - **Licence throttling**: no `Retry-After` on 429 (backoff with full jitter); the client keeps
//!   `requests_per_minute` per tenant (the kit's shared budget) and `max_concurrent` in flight,
//!   so steady state is never delayed or declined.
//! - **Long operations** (`ReleaseBill`): 202 + `Location` polled until 204 within a ceiling;
//!   the bill is read back to confirm it is `Open`; releasing an already released bill is a no-op.
//! - **Branches** come from the `CompaniesStructure` inquiry: `Default` has no `Branch` entity.
//! - **Push notifications** ([`webhook`]): one custom header, no signature; rows are hints
//!   (record `id` or keys); duplicates carry the same delivery id.

pub mod auth;
pub mod bills;
pub mod client;
pub mod connection;
pub mod errors;
pub mod gl;
pub mod model;
pub mod orders;
pub mod paging;
pub mod ping;
pub mod settings;
pub mod sources;
pub mod targets;
pub mod vendors;
pub mod webhook;

pub use client::{AcumaticaClient, Precondition, ServerInfo};
pub use connection::AcumaticaConnection;
pub use errors::{AcumaticaError, FieldError};
pub use model::Written;
pub use paging::Scan;
pub use settings::{AcumaticaCredentials, AcumaticaSettings, AuthMode, PoReferenceField};
pub use sources::{DeltaOptions, PurchaseOrderSource, VendorSource};
pub use targets::{BillDoc, BillState, BillTarget, PoDoc, PoRef, PurchaseOrderTarget, VendorTarget};
