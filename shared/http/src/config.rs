//! A connection's declared behaviour: where the system lives, how long to wait, how fast to go and
//! how hard to retry. One value per system, built once at start-up; call sites never repeat it.

use std::sync::Arc;
use std::time::Duration;

use mlc_core::budget::RateBudget;
use url::Url;

use crate::limit::{BudgetStore, PerPath, RateHeaders};

/// Everything about one connection except its credentials and its error rules.
#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    /// Short system name (`deltek`, `cin7` ...): named in every error, log line and audit record.
    pub system: String,
    /// Root every relative request path is joined to. A trailing `/` is added when missing, so
    /// `https://host/ExternalApi/v2` and `https://host/ExternalApi/v2/` mean the same.
    pub base_url: Url,
    /// Whole-request limit (connect, send, wait, read the body).
    pub timeout: Duration,
    /// Limit on opening the connection. Kept shorter than `timeout` so an unreachable host is seen
    /// as a connect error (nothing sent), which even a write may retry.
    pub connect_timeout: Duration,
    /// The system's published budget. `None`: unlimited.
    pub rate_limit: Option<RateLimit>,
    /// The name of the budget the calls count against: the vendor's own key (Cin7's API
    /// application, Coupa's instance, Procore's app and company, Acumatica's tenant). Clients with
    /// the same name and store share one count. Default: `{system} {base_url}`.
    pub budget: Option<String>,
    /// Where the counts live. Default: the process-wide in-memory budget
    /// ([`mlc_core::budget::MemoryBudget::shared`]); a shared store (DynamoDB, SQLite) makes the
    /// budget hold across every worker.
    pub budget_store: Option<BudgetStore>,
    /// One budget per API path template instead of one for the connection (Cleo).
    pub per_path: Option<PerPath>,
    /// The server's own count, read from every answer, tightens the budget (Procore).
    pub rate_headers: Option<RateHeaders>,
    pub retry: RetryPolicy,
    pub user_agent: String,
    /// Headers sent on every call (Coupa's `Accept: application/json`, Procore's
    /// `Procore-Company-Id`). Not for secrets: those belong to the connection's `Auth`.
    pub headers: Vec<(String, String)>,
}

impl ConnectionConfig {
    /// Defaults: 30 s timeout, 10 s connect timeout, no rate limit, [`RetryPolicy::default`].
    pub fn new(system: impl Into<String>, base_url: Url) -> Self {
        ConnectionConfig {
            system: system.into(),
            base_url,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            rate_limit: None,
            budget: None,
            budget_store: None,
            per_path: None,
            rate_headers: None,
            retry: RetryPolicy::default(),
            user_agent: concat!("ml-connector/", env!("CARGO_PKG_VERSION")).to_string(),
            headers: Vec::new(),
        }
    }

    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Name the budget after the vendor's key (see [`ConnectionConfig::budget`]).
    pub fn budget(mut self, name: impl Into<String>) -> Self {
        self.budget = Some(name.into());
        self
    }

    /// Count against this store instead of the process-wide in-memory one.
    pub fn budget_store(mut self, store: Arc<dyn RateBudget>) -> Self {
        self.budget_store = Some(BudgetStore(store));
        self
    }

    /// Keep the limit per worker (the process-wide in-memory count), also where the home shares
    /// budgets: for a courtesy cap the vendor does not count (Deltek publishes no limit), a shared
    /// count would cost a store write per call for a limit nobody enforces. N workers then send at
    /// most N times the rate.
    pub fn per_worker_budget(mut self) -> Self {
        self.budget_store = Some(BudgetStore(mlc_core::budget::MemoryBudget::shared()));
        self
    }

    /// Keep the rate limit per API path template (Cleo): see [`PerPath`].
    pub fn rate_limit_per_path(mut self, per_path: PerPath) -> Self {
        self.per_path = Some(per_path);
        self
    }

    /// Let the server's rate headers correct the budget (Procore: [`RateHeaders::procore`]).
    pub fn rate_limit_headers(mut self, headers: RateHeaders) -> Self {
        self.rate_headers = Some(headers);
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// How often the kit tries a call, and when it stops waiting in-process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included (so 1 = never retry). Writes use the same number,
    /// but only for the retries the in-doubt rule allows.
    pub max_attempts: u32,
    /// First backoff ceiling; doubles per attempt.
    pub base: Duration,
    /// Largest backoff ceiling.
    pub cap: Duration,
    /// A wait longer than this is not slept: the call returns a retryable error carrying the wait,
    /// so the engine parks the item and the worker moves on.
    pub park_after: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, backoff 0.5 s doubling to 30 s, park anything over 60 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(30),
            park_after: Duration::from_secs(60),
        }
    }
}

/// A system's published request budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateLimit {
    /// Steady `per_second`, with up to `burst` calls at once after a quiet spell (Coupa 25/s
    /// burst 20; Cleo about 5/s).
    TokenBucket { per_second: f64, burst: u32 },
    /// At most `max` calls in any rolling `per` (Cin7: 60 in any 60 s, per API application).
    Window { max: u32, per: Duration },
}

/// Whether a call may be sent twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// Safe to repeat: retried on transient errors and connection errors.
    Read,
    /// Creates or changes something. Never re-sent once the request may have reached the server
    /// (the in-doubt rule); retried only when the server provably did not act on it.
    Write,
}

tokio::task_local! {
    static HOME: HomeLimits;
}

tokio::task_local! {
    static FINISH_BY: tokio::time::Instant;
}

/// Run `work` with every call made inside it due to end by `by` (a Lambda invocation's deadline
/// less the time to answer). A wait in process — a budget slot, backoff, a server's
/// `Retry-After` — is slept only if the call can still end in time after it, its own request
/// timeout included; otherwise the call returns the retryable error it returns for any wait
/// longer than [`RetryPolicy::park_after`], and the item waits on the queue instead. The static
/// cap of [`HomeLimits::max_wait`] bounds one wait; this bounds all the waits of an invocation
/// together.
pub async fn finish_by<F: std::future::Future>(by: tokio::time::Instant, work: F) -> F::Output {
    FINISH_BY.scope(by, work).await
}

impl RetryPolicy {
    /// This policy with `park_after` cut to what is left before the [`finish_by`] instant of the
    /// calling task, less `call_timeout` (the call after the wait must end in time too).
    pub(crate) fn within_finish_by(&self, call_timeout: Duration) -> RetryPolicy {
        let mut policy = *self;
        if let Ok(by) = FINISH_BY.try_with(|by| *by) {
            let left = by.saturating_duration_since(tokio::time::Instant::now()).saturating_sub(call_timeout);
            policy.park_after = policy.park_after.min(left);
        }
        policy
    }
}

/// What the home a client runs in decides for every client built inside [`HomeLimits::scope`],
/// so connectors need not pass it along: where budgets are counted, and how long a call may wait
/// in process. The runtime builds each connection inside its home's scope; a connector that names
/// its own [`ConnectionConfig::budget_store`] keeps it.
///
/// - `budget_store`: the shared count (DynamoDB on AWS, SQLite locally) instead of the
///   process-wide in-memory one, so every worker keeps one budget per vendor key.
/// - `max_wait`: caps each connection's [`RetryPolicy::park_after`]. A Lambda function must not
///   sleep past its timeout: waits longer than this (a budget without room, a long `Retry-After`,
///   backoff) return a retryable error carrying the wait, and the engine hands the work item back
///   to the queue with that delay instead.
#[derive(Clone, Default)]
pub struct HomeLimits {
    pub budget_store: Option<Arc<dyn RateBudget>>,
    pub max_wait: Option<Duration>,
}

impl std::fmt::Debug for HomeLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HomeLimits")
            .field("budget_store", &self.budget_store.as_ref().map(|_| "shared"))
            .field("max_wait", &self.max_wait)
            .finish()
    }
}

impl HomeLimits {
    /// Run `build` (which builds connections) with these limits applying to every client it makes.
    pub fn scope<R>(&self, build: impl FnOnce() -> R) -> R {
        HOME.sync_scope(self.clone(), build)
    }

    /// The limits of the scope the caller is in, if any.
    pub fn current() -> Option<HomeLimits> {
        HOME.try_with(Clone::clone).ok()
    }

    /// `config` as this home has it: its store when the connection names none, `park_after`
    /// capped by `max_wait`.
    pub(crate) fn apply(&self, mut config: ConnectionConfig) -> ConnectionConfig {
        if config.budget_store.is_none()
            && let Some(store) = &self.budget_store
        {
            config.budget_store = Some(BudgetStore(store.clone()));
        }
        if let Some(cap) = self.max_wait {
            config.retry.park_after = config.retry.park_after.min(cap);
        }
        config
    }
}
