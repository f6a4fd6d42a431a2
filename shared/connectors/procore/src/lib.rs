//! Procore connector (`mlc-procore`): the source side of the Procore → Deltek Vantagepoint flows
//! (subcontractor invoices and direct costs → AP vouchers, commitments and change orders →
//! journal entries, vendors → vendor firms).
//!
//! # The system
//! Procore is construction project management. Per project, a general contractor keeps its
//! subcontracts (work order contracts) and purchase orders with their change orders, the
//! subcontractors' monthly invoices (requisitions, AIA G702/G703 with retainage) and direct costs
//! (supplier invoices, expenses, payroll); vendors, cost types and the company list live at the
//! company level, cost codes per project. The facts and their confidence are in
//! `shared/research/procore.md`; the simulator (`mlc_sim::procore`) reproduces them.
//!
//! # What the flows call
//! ```no_run
//! # async fn demo(spec: mlc_core::connect::ConnectionSpec, creds: mlc_core::secret::Credentials) -> Result<(), mlc_procore::ProcoreError> {
//! use mlc_procore::{ProcoreClient, ProcoreSettings, RequisitionQuery, RequisitionStatus};
//! let procore = ProcoreClient::new(ProcoreSettings::from_spec(&spec)?, creds)?;
//! for project in procore.projects_to_read().await? {
//!     let q = RequisitionQuery { status: Some(RequisitionStatus::Approved), ..Default::default() };
//!     for r in procore.list_requisitions(project, &q).await? {
//!         let full = procore.get_requisition(project, r.id).await?;          // read back, with G703 rows
//!         let vendor = procore.requisition_vendor_id(&r).await?;              // v1.0 or v1.1
//!         let _ = (full, vendor);
//!     }
//! }
//! # Ok(()) }
//! ```
//! - company: [`ProcoreClient::me`], [`ProcoreClient::companies`], [`ProcoreClient::list_projects`],
//!   [`ProcoreClient::get_project`], [`ProcoreClient::projects_to_read`];
//! - vendors: [`ProcoreClient::list_vendors`], [`ProcoreClient::get_vendor`],
//!   [`ProcoreClient::search_vendors`], [`Vendor::tax_id`], [`Vendor::to_vendor`];
//! - mapping keys: [`ProcoreClient::list_cost_codes`], [`ProcoreClient::list_cost_types`];
//! - subcontractor invoices: [`ProcoreClient::list_requisitions`], [`ProcoreClient::get_requisition`],
//!   [`ProcoreClient::requisition_vendor_id`], [`Requisition::is_approved`], [`Requisition::totals`],
//!   [`Requisition::amounts_all_zero`];
//! - direct costs: [`ProcoreClient::list_direct_costs`], [`ProcoreClient::get_direct_cost`],
//!   [`ProcoreClient::find_direct_costs_by_invoice_number`], [`DirectCost::amounts_all_zero`];
//! - commitments: [`ProcoreClient::list_commitments`], [`ProcoreClient::get_commitment`],
//!   [`ProcoreClient::find_commitment`], [`ProcoreClient::list_change_orders`],
//!   [`ProcoreClient::get_change_order`];
//! - write-back (off by default in the flows; locks the record): [`ProcoreClient::set_requisition_origin_id`],
//!   [`ProcoreClient::set_direct_cost_origin_id`];
//! - webhooks: [`ProcoreClient::ensure_hook`], [`ProcoreClient::list_hooks`],
//!   [`ProcoreClient::delete_hook`], [`webhook_source`], [`split_hint`];
//! - sources for the flows ([`sources`]): [`RequisitionSource`], [`DirectCostSource`],
//!   [`CommitmentSource`] (work orders, purchase orders, change orders), [`VendorSource`] — per
//!   project, one page per discovery call, each record read back with what the flows need;
//! - checks and counters: [`ProcoreClient::ping`], [`ProcoreClient::stats`]; registration:
//!   [`connection`] (`mlc_core::connect::system("procore")`).
//!
//! Every method returns [`ProcoreError`], which converts into the engine's `StepError` with its
//! class (credentials → Auth; 429, 503, 5xx, network → Retryable with the server's wait; a lost
//! write → InDoubt; Procore's refusals → Permanent, quoting Procore and the fix).
//!
//! # Quirks handled, and why
//! - **Auth** ([`auth`]): client credentials of a Developer Managed Service Account; 90-minute
//!   tokens without refresh tokens, so a new token is fetched 5 minutes before expiry and once on
//!   a 401; a second 401 is a credentials error. The login host differs from the API host
//!   (`login.procore.com` / `api.procore.com`, and per sandbox): derived from `base_url`.
//! - **Company header**: `Procore-Company-Id` on every call, `/me` and `/companies` included
//!   (the docs disagree whether those need it; sending it is always right). "App is not connected
//!   to this company." (403) names the install fix.
//! - **Budget** ([`client`]): hourly and 10-second spike windows per app and company, reported in
//!   `X-Rate-Limit-*` on every answer (the tighter window); paced by the spike window and gated by
//!   the headers, so steady state sees no 429; 429 waits for `Retry-After` or the reset time; 503
//!   with `Retry-After` likewise. One budget per app and company, kept by the kit's budget store.
//! - **Paging**: `page`/`per_page` (always sent: defaults differ per route, 30 on v1.1
//!   requisitions), following `rel="next"` only; a changing `Total` means records moved while we
//!   read, so the list is read again and merged by id.
//! - **Filters are not trusted**: unsupported filters and `filters[status][]` are silently ignored
//!   by Procore, so every condition is re-checked on each record.
//! - **Models** ([`model`]): 64-bit ids (numbers or strings), money as `Decimal` from `"55000.00"`
//!   or Ruby's `"1142000.0"` or numbers, open status enums (Title Case for commitments, lower case
//!   for invoices and change orders), requisitions v1.0 (`vendor_name`, lines from `/detail`) and
//!   v1.1 (`vendor_id`, `items`), direct-cost `vendor` as a string or an object.
//! - **Never a blind second write**: the only writes are the optional `origin_id` write-back and
//!   webhook registration; both look before writing and settle a lost answer by reading back.
//! - **Webhooks** ([`webhook`]): unsigned; verified by the configured `Authorization` header
//!   (constant time, rotation) before parsing; payloads v2/v3/v4 are hints; duplicates share a
//!   ulid; there is no requisition webhook resource, so invoices rely on the polls.
//! - **Nothing in Procore's ledger is changed** by ml-connector.

pub mod auth;
pub mod client;
pub mod commitments;
pub mod connection;
pub mod directory;
pub mod errors;
pub mod hooks;
pub mod invoices;
pub mod model;
pub mod ping;
pub mod settings;
pub mod sources;
pub mod tieout;
pub mod webhook;

pub use client::{ListPage, ProcoreClient, Span, range_param};
pub use commitments::CommitmentQuery;
pub use connection::ProcoreConnection;
pub use errors::ProcoreError;
pub use hooks::{DEFAULT_TRIGGERS, HookSetup};
pub use invoices::{RequisitionQuery, WriteBack};
pub use model::{
    ChangeOrder, ChangeOrderStatus, Commitment, CommitmentKind, CommitmentStatus, Company, CostCode, CostType,
    CurrencyConfiguration, DirectCost, DirectCostStatus, DirectCostType, Hook, LineItem, Project, Requisition,
    RequisitionItem, RequisitionStatus, Trigger, Vendor,
};
pub use settings::{ProcoreSettings, RequisitionsApi};
pub use sources::{
    CommitmentRecord, CommitmentSource, DirectCostRecord, DirectCostSource, PollOptions, RequisitionRecord,
    RequisitionSource, VendorSource,
};
pub use webhook::{ProcoreWebhook, parse_events, split_hint, webhook_source};
