//! The connection's limiter: keeps a system's published budget so steady state sees no 429, by
//! acquiring every call through the rate-budget port ([`mlc_core::budget::RateBudget`]).
//!
//! What a connection declares ([`crate::ConnectionConfig`]):
//! - the rule ([`RateLimit`]): a rolling window (Cin7: 60 per 60 s) or a token bucket (Coupa:
//!   25/s, burst 20);
//! - the budget's name ([`crate::ConnectionConfig::budget`]): the vendor's own key (Cin7's API
//!   application, Coupa's instance, Procore's app + company). Every client built with the same
//!   name against the same store shares one count: in a process by default (the process-wide
//!   [`MemoryBudget::shared`]), across workers with a shared store
//!   ([`crate::ConnectionConfig::budget_store`]);
//! - optionally **per path** ([`PerPath`]; Cleo: about 5/s *per API path*): one budget per path
//!   template, `{name} GET api/mailboxes/{}/files`;
//! - optionally **header-driven** ([`RateHeaders`]; Procore: `X-Rate-Limit-Limit/-Remaining/-Reset`
//!   on every answer): what the server says it has left tightens the budget until its reset.
//!
//! A call waits for a reserved slot when it is near ([`Grant::Wait`]); when the budget has no room
//! within the client's [`crate::RetryPolicy::park_after`] the call is not sent and not slept:
//! it returns [`HttpError::OverBudget`] carrying the wait, so the engine parks the item instead
//! of holding a worker. Waits use tokio's clock, so tests run under its paused clock.
//!
//! Calls waiting on a budget are counted per budget in the process ([`WaitBoard`]), and an info
//! line says so at most once a minute per budget while any wait ("waiting for the Cin7 budget: 14
//! calls queued, the last in about 50 s"), on the [`PROGRESS_TARGET`] log target so an operator
//! CLI can show it at its default verbosity: a long run is otherwise silent while it waits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use mlc_core::budget::{BudgetError, BudgetRule, Grant, MemoryBudget, Observed, RateBudget};

use crate::config::RateLimit;
use crate::error::HttpError;

/// The log target of progress lines meant for the operator (budget waits): a subscriber that
/// shows only warnings can still let this target through at info.
pub const PROGRESS_TARGET: &str = "mlc::progress";

/// How often a budget's wait is told while calls wait on it.
const SAY_EVERY: Duration = Duration::from_secs(60);

/// Calls waiting on each budget in this process, and when that was last said.
#[derive(Debug)]
pub(crate) struct WaitBoard {
    every: Duration,
    budgets: Mutex<HashMap<String, Waiting>>,
}

#[derive(Debug, Default)]
struct Waiting {
    queued: usize,
    said_at: Option<tokio::time::Instant>,
    /// When the last call queued so far is due to go.
    clears_at: Option<tokio::time::Instant>,
}

/// What a wait line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WaitLine {
    pub queued: usize,
    pub clears_in: Option<Duration>,
}

impl WaitBoard {
    pub(crate) fn new(every: Duration) -> Self {
        WaitBoard { every, budgets: Mutex::new(HashMap::new()) }
    }

    /// The process's board (one line a minute per budget).
    pub(crate) fn shared() -> &'static WaitBoard {
        static BOARD: OnceLock<WaitBoard> = OnceLock::new();
        BOARD.get_or_init(|| WaitBoard::new(SAY_EVERY))
    }

    /// A call starts waiting `wait` on `budget` at `now`: the line to log, if one is due.
    pub(crate) fn enter(&self, budget: &str, now: tokio::time::Instant, wait: Duration) -> Option<WaitLine> {
        let mut m = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        let w = m.entry(budget.to_string()).or_default();
        w.queued += 1;
        let due = now + wait;
        w.clears_at = Some(w.clears_at.map_or(due, |c| c.max(due)));
        self.due(w, now)
    }

    /// A call stops waiting on `budget` at `now`: the line to log, if calls still wait and one is due.
    pub(crate) fn leave(&self, budget: &str, now: tokio::time::Instant) -> Option<WaitLine> {
        let mut m = self.budgets.lock().unwrap_or_else(|p| p.into_inner());
        let w = m.get_mut(budget)?;
        w.queued = w.queued.saturating_sub(1);
        if w.queued == 0 {
            w.clears_at = None;
            // Forget a quiet budget once its last line is old enough not to matter.
            if w.said_at.is_none_or(|t| now.saturating_duration_since(t) >= self.every) {
                m.remove(budget);
            }
            return None;
        }
        self.due(w, now)
    }

    fn due(&self, w: &mut Waiting, now: tokio::time::Instant) -> Option<WaitLine> {
        if w.said_at.is_some_and(|t| now.saturating_duration_since(t) < self.every) {
            return None;
        }
        w.said_at = Some(now);
        Some(WaitLine { queued: w.queued, clears_in: w.clears_at.map(|c| c.saturating_duration_since(now)) })
    }
}

impl WaitLine {
    /// "waiting for the Cin7 budget: 14 calls queued, the last in about 50 s".
    pub(crate) fn text(&self, system: &str, path: Option<&str>) -> String {
        let mut chars = system.chars();
        let shown: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
        let of = path.map(|p| format!(" for {p}")).unwrap_or_default();
        let calls = if self.queued == 1 { "call" } else { "calls" };
        let when = match self.clears_in {
            Some(d) if d >= Duration::from_secs(120) => format!(", the last in about {} min", d.as_secs().div_ceil(60)),
            Some(d) if d >= Duration::from_secs(1) => format!(", the last in about {} s", d.as_secs()),
            Some(_) => ", the last in under a second".to_string(),
            None => String::new(),
        };
        format!("waiting for the {shown} budget{of}: {} {calls} queued{when}", self.queued)
    }
}

/// Where the counts live: a [`RateBudget`] implementation. Default: [`MemoryBudget::shared`].
#[derive(Clone)]
pub struct BudgetStore(pub Arc<dyn RateBudget>);

impl std::fmt::Debug for BudgetStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BudgetStore")
    }
}

/// One budget per API path template (Cleo counts per path).
///
/// A request's path (relative to the base URL) is matched against `templates`, where `{…}`
/// matches any one segment (`api/files/{id}`); a path no template matches is keyed by itself with
/// id-like segments (all digits, or a GUID) replaced by `{}`, so `hosts/123` and `hosts/456` share
/// a budget without a template.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerPath {
    pub templates: Vec<String>,
    /// Count each method apart (`GET x` and `POST x` separately). Default: per path only.
    pub by_method: bool,
}

impl PerPath {
    pub fn new<S: Into<String>>(templates: impl IntoIterator<Item = S>) -> Self {
        PerPath { templates: templates.into_iter().map(Into::into).collect(), by_method: false }
    }

    /// The budget key part for `method path`.
    pub fn key(&self, method: &str, path: &str) -> String {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let template = self
            .templates
            .iter()
            .find(|t| {
                let ts: Vec<&str> = t.trim_matches('/').split('/').collect();
                ts.len() == segments.len()
                    && ts.iter().zip(&segments).all(|(t, s)| (t.starts_with('{') && t.ends_with('}')) || t == s)
            })
            .map(|t| t.trim_matches('/').to_string())
            .unwrap_or_else(|| {
                segments.iter().map(|s| if looks_like_id(s) { "{}" } else { s }).collect::<Vec<_>>().join("/")
            });
        if self.by_method { format!("{method} {template}") } else { template }
    }
}

fn looks_like_id(s: &str) -> bool {
    let hex_dash = s.len() >= 32 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    (!s.is_empty() && s.chars().all(|c| c.is_ascii_digit())) || hex_dash
}

/// How a server reports its own count on every answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateHeaders {
    pub limit: String,
    pub remaining: String,
    pub reset: String,
    /// `reset` is a Unix time in seconds (Procore) rather than seconds from now.
    pub reset_is_epoch: bool,
}

impl RateHeaders {
    /// `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining`, `X-Rate-Limit-Reset` (Unix seconds).
    pub fn procore() -> Self {
        RateHeaders {
            limit: "x-rate-limit-limit".into(),
            remaining: "x-rate-limit-remaining".into(),
            reset: "x-rate-limit-reset".into(),
            reset_is_epoch: true,
        }
    }

    /// What these headers say, when all three are present and readable.
    pub fn read(&self, headers: &HeaderMap, now: SystemTime) -> Option<Observed> {
        let num = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let limit = u32::try_from(num(&self.limit)?).ok()?;
        let remaining = u32::try_from(num(&self.remaining)?).ok()?;
        let reset = num(&self.reset)?;
        let reset_in = if self.reset_is_epoch {
            (SystemTime::UNIX_EPOCH + Duration::from_secs(reset)).duration_since(now).unwrap_or(Duration::ZERO)
        } else {
            Duration::from_secs(reset)
        };
        Some(Observed { limit, remaining, reset_in })
    }
}

/// The wall clock as the kit reads it: anchored once to the system clock, then advanced by tokio's
/// clock, so header stamps and waits agree (and tests can pause it). Drift against the system
/// clock over a process's life is that of the monotonic clock: negligible next to whole seconds.
pub(crate) fn wall_now() -> SystemTime {
    static ANCHOR: OnceLock<(SystemTime, tokio::time::Instant)> = OnceLock::new();
    let (wall, mono) = *ANCHOR.get_or_init(|| (SystemTime::now(), tokio::time::Instant::now()));
    wall + tokio::time::Instant::now().saturating_duration_since(mono)
}

/// A connection's limiter.
#[derive(Debug)]
pub(crate) struct Limiter {
    system: String,
    name: String,
    rule: BudgetRule,
    store: BudgetStore,
    per_path: Option<PerPath>,
    headers: Option<RateHeaders>,
    board: &'static WaitBoard,
}

impl From<RateLimit> for BudgetRule {
    fn from(l: RateLimit) -> Self {
        match l {
            RateLimit::TokenBucket { per_second, burst } => BudgetRule::Bucket { per_second, burst },
            RateLimit::Window { max, per } => BudgetRule::Window { max, per },
        }
    }
}

impl Limiter {
    /// `Err(why)` when the limit cannot be kept (zero or negative rate).
    pub(crate) fn new(
        system: &str,
        name: String,
        limit: RateLimit,
        store: Option<BudgetStore>,
        per_path: Option<PerPath>,
        headers: Option<RateHeaders>,
    ) -> Result<Self, String> {
        let rule = BudgetRule::from(limit);
        if let Some(p) = rule.problem() {
            return Err(format!("rate limit {limit:?} cannot be kept: {p}"));
        }
        let store = store.unwrap_or_else(|| BudgetStore(MemoryBudget::shared()));
        Ok(Limiter { system: system.to_string(), name, rule, store, per_path, headers, board: WaitBoard::shared() })
    }

    /// The budget a call to `method path` counts against.
    pub(crate) fn budget_for(&self, method: &str, path: &str) -> String {
        match &self.per_path {
            Some(p) => format!("{} {}", self.name, p.key(method, path)),
            None => self.name.clone(),
        }
    }

    /// Wait for a slot of `budget` (sleeping only up to `max_wait`), or say when to come back.
    pub(crate) async fn acquire(&self, budget: &str, max_wait: Duration) -> Result<(), Refusal> {
        let started = tokio::time::Instant::now();
        loop {
            let left = max_wait.saturating_sub(started.elapsed());
            let wait = match self.store.0.acquire(budget, &self.rule, 1, left).await {
                Ok(Grant::Go) => return Ok(()),
                Ok(Grant::Wait(d)) => {
                    let due = tokio::time::Instant::now() + d;
                    self.sleep(budget, d).await;
                    // A busy runtime wakes timers late; a call far past its slot would land among
                    // calls granted after it. Its slot stays counted: ask for another.
                    let late = tokio::time::Instant::now().saturating_duration_since(due);
                    if late <= self.rule.late_allowance() {
                        return Ok(());
                    }
                    let late_ms = u64::try_from(late.as_millis()).unwrap_or(u64::MAX);
                    tracing::debug!(system = %self.system, budget, late_ms, "woke too far past the budget's slot; asking again");
                    continue;
                }
                // Nothing reserved but near enough (a header-driven window about to reset):
                // sleep to it and ask again.
                Ok(Grant::NotBefore(d)) if d <= left => d,
                Ok(Grant::NotBefore(d)) => return Err(Refusal::NotBefore(d)),
                Err(e) => return Err(Refusal::Store(e)),
            };
            self.sleep(budget, wait.max(Duration::from_millis(1))).await;
        }
    }

    async fn sleep(&self, budget: &str, d: Duration) {
        let wait_ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        tracing::debug!(system = %self.system, budget, wait_ms, "waiting for the rate budget");
        let line = self.board.enter(budget, tokio::time::Instant::now(), d);
        self.say(budget, line);
        // Counted out even when the caller gives up on the call mid-wait.
        struct Leave<'a>(&'a Limiter, &'a str);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                let line = self.0.board.leave(self.1, tokio::time::Instant::now());
                self.0.say(self.1, line);
            }
        }
        let _leave = Leave(self, budget);
        tokio::time::sleep(d).await;
    }

    fn say(&self, budget: &str, line: Option<WaitLine>) {
        let Some(line) = line else { return };
        // The budget's own name may carry account ids: only a per-path budget's path is shown.
        let path = self.per_path.as_ref().and_then(|_| budget.strip_prefix(&self.name)).map(str::trim);
        tracing::info!(target: PROGRESS_TARGET, "{}", line.text(&self.system, path));
    }

    /// After a call: report the server's count (header-driven budgets only).
    pub(crate) async fn observe(&self, budget: &str, answer: Option<&HeaderMap>) {
        let Some(rh) = &self.headers else { return };
        let seen = answer.and_then(|h| rh.read(h, wall_now()));
        if let Err(e) = self.store.0.observe(budget, &self.rule, seen).await {
            tracing::warn!(system = %self.system, budget, error = %e, "the rate budget could not record the server's count");
        }
    }
}

/// Why a call was not let through.
#[derive(Debug)]
pub(crate) enum Refusal {
    NotBefore(Duration),
    Store(BudgetError),
}

impl Refusal {
    pub(crate) fn into_error(self, system: &str, method: &str, url: &str, budget: &str) -> HttpError {
        match self {
            Refusal::NotBefore(wait) => HttpError::OverBudget {
                system: system.to_string(),
                method: method.to_string(),
                url: url.to_string(),
                budget: budget.to_string(),
                wait,
            },
            Refusal::Store(e) => HttpError::Transient {
                system: system.to_string(),
                method: method.to_string(),
                url: url.to_string(),
                retry_after: None,
                cause: format!("not sent: {e}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::time::Instant;

    fn limiter(limit: RateLimit) -> Arc<Limiter> {
        let store = BudgetStore(Arc::new(MemoryBudget::new()));
        Arc::new(Limiter::new("t", "t".into(), limit, Some(store), None, None).unwrap())
    }

    const PATIENT: Duration = Duration::from_secs(3600);

    /// Start `n` acquires at once and return when each was let through, relative to the start.
    async fn release_times(limiter: Arc<Limiter>, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let mut handles = Vec::new();
        for _ in 0..n {
            let l = limiter.clone();
            handles.push(tokio::spawn(async move {
                l.acquire("t", PATIENT).await.unwrap();
                Instant::now() - start
            }));
        }
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out.sort();
        out
    }

    #[tokio::test(start_paused = true)]
    async fn token_bucket_allows_burst_then_steady_rate() {
        let l = limiter(RateLimit::TokenBucket { per_second: 25.0, burst: 20 });
        let t = release_times(l, 45).await;
        // The burst goes at once...
        assert!(t[..20].iter().all(|d| d.is_zero()), "{t:?}");
        // ...then one every 40 ms: the 21st at 40 ms, the 45th at 25 × 40 ms = 1 s.
        assert_eq!(t[20], Duration::from_millis(40));
        assert_eq!(t[44], Duration::from_secs(1));
        for w in t[20..].windows(2) {
            assert_eq!(w[1] - w[0], Duration::from_millis(40), "{t:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn token_bucket_refills_while_idle_up_to_burst_only() {
        let l = limiter(RateLimit::TokenBucket { per_second: 5.0, burst: 2 });
        assert_eq!(release_times(l.clone(), 2).await, [Duration::ZERO, Duration::ZERO]);
        // A long quiet spell refills to the burst (2), not to 5 × 10 s.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let t = release_times(l, 4).await;
        assert_eq!(t, [Duration::ZERO, Duration::ZERO, Duration::from_millis(200), Duration::from_millis(400)]);
    }

    #[tokio::test(start_paused = true)]
    async fn window_never_lets_more_than_max_into_any_rolling_period() {
        let per = Duration::from_secs(60);
        let l = limiter(RateLimit::Window { max: 60, per });
        let t = release_times(l.clone(), 150).await;
        assert!(t[..60].iter().all(|d| d.is_zero()));
        assert_eq!(t[60], per);
        assert_eq!(t[120], per * 2);
        for (i, start) in t.iter().enumerate() {
            let inside = t[i..].iter().filter(|d| **d < *start + per).count();
            assert!(inside <= 60, "{inside} calls within 60 s of {start:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn window_is_rolling_not_fixed() {
        let per = Duration::from_secs(60);
        let l = limiter(RateLimit::Window { max: 3, per });
        l.acquire("t", PATIENT).await.unwrap(); // t = 0
        tokio::time::sleep(Duration::from_secs(30)).await;
        let t = release_times(l.clone(), 3).await; // from t = 30
        // Two fit beside the call at 0; the third waits until that call is 60 s old (t = 60).
        assert_eq!(t, [Duration::ZERO, Duration::ZERO, Duration::from_secs(30)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_beyond_max_wait_is_not_slept_and_takes_nothing() {
        let l = limiter(RateLimit::Window { max: 2, per: Duration::from_secs(60) });
        let start = Instant::now();
        l.acquire("t", Duration::ZERO).await.unwrap();
        l.acquire("t", Duration::ZERO).await.unwrap();
        let Err(Refusal::NotBefore(d)) = l.acquire("t", Duration::from_secs(5)).await else { panic!("should park") };
        assert_eq!((d, Instant::now() - start), (Duration::from_secs(60), Duration::ZERO));
        // The refused caller left its slot: a patient one gets it at 60 s, not 120 s.
        l.acquire("t", PATIENT).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(60));
    }

    #[test]
    fn the_wait_board_counts_queued_calls_and_says_so_at_most_once_a_minute() {
        let board = WaitBoard::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        // The first waiter is told at once, with the wait known so far.
        assert_eq!(
            board.enter("cin7 app", t0, Duration::from_secs(50)),
            Some(WaitLine { queued: 1, clears_in: Some(Duration::from_secs(50)) })
        );
        // 13 more join within the minute: counted, not told.
        for n in 1..14 {
            assert_eq!(board.enter("cin7 app", at(n), Duration::from_secs(50 + n)), None);
        }
        // Another budget has its own minute.
        assert!(board.enter("coupa x", at(5), Duration::from_secs(1)).is_some());
        assert_eq!(board.leave("cin7 app", at(59)), None, "59 s after the last line: not yet");
        // A minute on, the next change tells the count and how long until the last queued goes.
        let line = board.leave("cin7 app", at(60)).expect("a line a minute while calls wait");
        assert_eq!(line, WaitLine { queued: 12, clears_in: Some(Duration::from_secs(16)) });
        assert_eq!(line.text("cin7", None), "waiting for the Cin7 budget: 12 calls queued, the last in about 16 s");
        assert_eq!(board.enter("cin7 app", at(61), Duration::from_secs(600)), None);
        assert_eq!(
            board.enter("cin7 app", at(120), Duration::from_secs(600)),
            Some(WaitLine { queued: 14, clears_in: Some(Duration::from_secs(600)) })
        );
        // The queue empties: nothing to say; a new wait inside the minute stays quiet too.
        for s in 121..135 {
            assert_eq!(board.leave("cin7 app", at(s)), None);
        }
        assert_eq!(board.enter("cin7 app", at(150), Duration::from_secs(1)), None);
        assert_eq!(board.leave("cin7 app", at(151)), None);
        assert!(board.enter("cin7 app", at(180), Duration::from_secs(1)).is_some(), "a minute after the last line");
        let one = WaitLine { queued: 1, clears_in: Some(Duration::from_secs(300)) };
        assert_eq!(
            one.text("cleo", Some("api/files/{id}")),
            "waiting for the Cleo budget for api/files/{id}: 1 call queued, the last in about 5 min"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn calls_waiting_on_a_budget_are_logged_once_a_minute_with_the_queue() {
        let (logs, _guard) = crate::tests::Logs::start();
        let mut l = Limiter::new(
            "cin7",
            "cin7 app-secret-id".into(),
            RateLimit::Window { max: 1, per: Duration::from_secs(30) },
            Some(BudgetStore(Arc::new(MemoryBudget::new()))),
            None,
            None,
        )
        .unwrap();
        l.board = Box::leak(Box::new(WaitBoard::new(Duration::from_secs(60))));
        // Six calls at once on 1 call per 30 s: five wait (30, 60, … 150 s).
        let t = release_times(Arc::new(l), 6).await;
        assert_eq!(t[5], Duration::from_secs(150));
        let text = logs.text();
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(PROGRESS_TARGET)).collect();
        // At 0 s (the first waiter), then at 60 s and 120 s as calls leave: never twice a minute.
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines.iter().all(|l| l.contains("INFO")), "{lines:?}");
        assert!(lines[0].ends_with("waiting for the Cin7 budget: 1 call queued, the last in about 30 s"), "{lines:?}");
        assert!(lines[1].ends_with("waiting for the Cin7 budget: 3 calls queued, the last in about 90 s"), "{lines:?}");
        assert!(lines[2].ends_with("waiting for the Cin7 budget: 1 call queued, the last in about 30 s"), "{lines:?}");
        assert!(lines.iter().all(|l| !l.contains("app-secret-id")), "the budget's own name stays out: {lines:?}");
    }

    #[test]
    fn impossible_limits_are_refused() {
        let bad = |l| Limiter::new("t", "t".into(), l, None, None, None).unwrap_err();
        assert!(bad(RateLimit::TokenBucket { per_second: 0.0, burst: 1 }).contains("cannot be kept"));
        bad(RateLimit::TokenBucket { per_second: f64::NAN, burst: 1 });
        bad(RateLimit::TokenBucket { per_second: 1.0, burst: 0 });
        bad(RateLimit::Window { max: 0, per: Duration::from_secs(1) });
        bad(RateLimit::Window { max: 1, per: Duration::ZERO });
    }

    #[test]
    fn per_path_keys() {
        let p = PerPath::new(["api/mailboxes/{mailbox}/files", "api/files/{id}"]);
        assert_eq!(p.key("GET", "api/mailboxes/7/files"), "api/mailboxes/{mailbox}/files");
        assert_eq!(p.key("DELETE", "/api/files/abc-1/"), "api/files/{id}");
        assert_eq!(p.key("GET", "api/hosts/123"), "api/hosts/{}");
        assert_eq!(p.key("GET", "api/hosts/8b1538e4-aaaa-bbbb-cccc-000000000001/users"), "api/hosts/{}/users");
        assert_eq!(p.key("GET", "api/hosts"), "api/hosts");
        let m = PerPath { by_method: true, ..p };
        assert_eq!(m.key("POST", "api/files/9"), "POST api/files/{id}");
    }

    #[test]
    fn procore_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_466_182_240);
        let mut h = HeaderMap::new();
        h.insert("X-Rate-Limit-Limit", "25".parse().unwrap());
        h.insert("X-Rate-Limit-Remaining", "24".parse().unwrap());
        h.insert("X-Rate-Limit-Reset", "1466182247".parse().unwrap());
        assert_eq!(
            RateHeaders::procore().read(&h, now),
            Some(Observed { limit: 25, remaining: 24, reset_in: Duration::from_secs(7) })
        );
        h.insert("X-Rate-Limit-Reset", "soon".parse().unwrap());
        assert_eq!(RateHeaders::procore().read(&h, now), None);
    }
}
