//! The HTTP kit every connector uses for every call.
//!
//! A system's auth, rate limit, retry and error rules are declared once, when its
//! [`HttpClient`] is built from a [`ConnectionConfig`], an [`Auth`] and a [`Classifier`]; call
//! sites only say *what* to call ([`Request`]) and whether it may be repeated ([`CallKind`]).
//! That is the whole API a connector needs:
//!
//! ```no_run
//! # use std::{sync::Arc, time::Duration};
//! # use mlc_http::*;
//! # use mlc_core::secret::Redacted;
//! # async fn demo(account: Redacted<String>, key: Redacted<String>, invoice: serde_json::Value) -> Result<(), Box<dyn std::error::Error>> {
//! let config = ConnectionConfig::new("cin7", url::Url::parse("https://inventory.dearsystems.com/ExternalApi/v2/")?)
//!     .rate_limit(RateLimit::Window { max: 60, per: Duration::from_secs(60) });
//! let auth = StaticHeaders::new([("api-auth-accountid", account), ("api-auth-applicationkey", key)]);
//! let rules = DefaultClassifier::new().rate_limited_when_body_contains("calls per 60 seconds");
//! let cin7 = HttpClient::new(config, Arc::new(auth), Arc::new(rules))?; // build once, clone freely
//!
//! let page: serde_json::Value = cin7.send(Request::get("purchaseList").query("Page", 1)).await?.json()?;
//! // A Write: retried only if the server cannot have acted on it, otherwise HttpError::InDoubt.
//! let created: serde_json::Value = cin7.send(Request::post("purchase/invoice").json(&invoice)).await?.json()?;
//! # let _ = (page, created); Ok(()) }
//! ```
//!
//! # The rules, and why
//!
//! 1. **Reads are retried, writes are not re-sent once they may have arrived** (the in-doubt
//!    rule). None of these systems takes an idempotency key, so a create sent twice can become
//!    two bills. A [`CallKind::Write`] is retried only when the server cannot have acted on it:
//!    the connection never opened, the server refused it (429, a system's throttle message, 503
//!    with `Retry-After`), the credentials were refused (401, replayed once), or the token endpoint
//!    failed before the request went out. A timeout after sending, a reset, or any other 5xx gives
//!    [`HttpError::InDoubt`]; the engine resolves it by looking the record up.
//! 2. **Backoff is exponential with full jitter, and the server's `Retry-After` wins** (seconds
//!    or an HTTP date). A wait longer than [`RetryPolicy::park_after`] is not slept: the call
//!    returns a retryable error carrying the wait, and the engine parks the item
//!    (`ErrorClass::Retryable { after }`) instead of idling a worker.
//! 3. **Calls count against the vendor's budget, not the process's** ([`RateLimit`], named with
//!    [`ConnectionConfig::budget`] after the vendor's key). Every client built with the same
//!    budget name shares one count, kept through the rate-budget port
//!    ([`mlc_core::budget::RateBudget`]; in process by default, across workers with a shared
//!    store). Budgets may be per API path ([`PerPath`], Cleo) and corrected by the server's own
//!    count ([`RateHeaders`], Procore). Steady state never sees a 429: the limiter waits by
//!    reservation and never polls, and a budget with no room within `park_after` returns
//!    [`HttpError::OverBudget`] with the wait instead of holding the worker. While calls wait on
//!    a budget, an info line on [`PROGRESS_TARGET`] says how many, at most once a minute per budget.
//! 4. **Credentials refresh before they expire and once on a 401**, with exactly one refresh in
//!    flight; a second 401 right after fresh credentials is [`HttpError::Auth`], a person's job.
//! 5. **Answers are judged, not trusted**: a [`Classifier`] per system decides what is data, what
//!    is throttling, what is permanent. An HTML page with status 200 (Cin7's "Page not found") is
//!    never data. Redirects are not followed (credentials could follow them off-host).
//! 6. **Every attempt is recorded** for the item's audit trail
//!    ([`mlc_core::engine::capture::record`]) and logged at debug level; **no secret is ever written
//!    down**: headers are not recorded, token requests are recorded as `[redacted form]`, tokens
//!    in token answers are blanked, and all other text is scrubbed of the auth's secret values.
//! 7. **Errors are already classified** ([`HttpError::class`], `From<HttpError> for StepError`) and
//!    name the system, method and URL path, quoting a short, scrubbed piece of the answer.
//!
//! # The connector kit: what a new connector declares
//!
//! ```no_run
//! # use std::{sync::Arc, time::Duration};
//! # use mlc_http::*;
//! # async fn demo(client_id: String, secret: mlc_core::secret::Redacted<String>) -> Result<(), Box<dyn std::error::Error>> {
//! // Procore: client credentials, a budget per app and company, the server's headers correct it,
//! // Link-header paging, tolerant decoding, the shared error shapes.
//! let config = ConnectionConfig::new("procore", url::Url::parse("https://api.procore.com/rest/v1.0/")?)
//!     .header("Procore-Company-Id", "7")
//!     .rate_limit(RateLimit::Window { max: 25, per: Duration::from_secs(10) })
//!     .rate_limit_headers(RateHeaders::procore())
//!     .budget(format!("procore {client_id} company 7"));
//! let auth = ClientCredentials::new(url::Url::parse("https://login.procore.com/oauth/token")?, client_id.clone(), secret);
//! let procore = HttpClient::new(config, Arc::new(auth), Arc::new(DefaultClassifier::new()))?;
//!
//! let first = Request::get("vendors").query("company_id", 7);
//! let mut pages = Listing::new(&procore, first, Paging::link_header().size("per_page", 100));
//! while let Some(page) = pages.next_page().await? {
//!     for item in &page.items {
//!         let notes = decode::Notes::default();
//!         let Some(f) = decode::Fields::of(item) else { continue };
//!         let f = f.noting("vendor", &notes);
//!         let (_id, _name, _updated) = (f.uint("id"), f.text("name"), f.datetime("updated_at"));
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! | need | use |
//! |---|---|
//! | dates, amounts, ids, blanks, flags, keys in any case, odd shapes | [`decode`] (functions, [`decode::Fields`], [`decode::Row`], serde helpers in [`decode::de`]) |
//! | walking a listing | [`paging`]: [`Paging::page_number`], [`Paging::offset`] (`$skip`/`$top`, `offset`/`limit`, `startIndex`/`count`), [`Paging::link_header`], [`Paging::cursor`]; [`Listing`] |
//! | keeping the vendor's rate limit | [`ConnectionConfig::rate_limit`] + [`ConnectionConfig::budget`], [`PerPath`], [`RateHeaders`], [`ConnectionConfig::budget_store`]; a home's shared store and wait cap for every client: [`HomeLimits`] |
//! | a create-once call's answer (made, or found by its natural key) | [`Written`] |
//! | the connector's error type | [`fault`]: [`fault::ConnectorError`], [`step_error_from!`], [`fault::refused`] and the other shared shapes, [`fault::vendor_words`], [`Response::scrub`] |
//!
//! Modules: [`config`] (what a connection declares), [`auth`], [`classify`], [`request`]
//! (request and response), [`error`], [`stats`], [`decode`], [`paging`], [`fault`]; the retry
//! planning, the limiter and the recording/scrubbing helpers are private.

pub mod auth;
pub mod classify;
mod client;
pub mod config;
pub mod decode;
pub mod error;
pub mod fault;
mod limit;
pub mod paging;
mod record;
pub mod request;
mod retry;
pub mod stats;
pub mod written;

pub use auth::{
    Auth, AuthHeaders, ClientAuth, ClientCredentials, FieldNames, NoAuth, PasswordGrant, StaticHeaders, TokenClient,
    TokenResponse,
};
pub use classify::{Answer, Classifier, DefaultClassifier, Verdict, looks_like_json};
pub use client::HttpClient;
pub use config::{CallKind, ConnectionConfig, HomeLimits, RateLimit, RetryPolicy, finish_by};
pub use error::HttpError;
pub use limit::{BudgetStore, PROGRESS_TARGET, PerPath, RateHeaders};
pub use mlc_core::budget;
pub use paging::{Listing, Page, Paging};
pub use request::{Body, Request, Response};
pub use retry::retry_after;
pub use stats::CallStats;
pub use written::Written;

#[cfg(test)]
mod tests;
