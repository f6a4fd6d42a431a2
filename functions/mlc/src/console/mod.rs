//! The operator console: the AP clerk's queue, the controller's tie-out and the admin's
//! connections as web pages, served by `mlc console` (and mounted by `mlc serve`).
//!
//! - **Server-rendered HTML** (axum + maud templates compiled into the binary, one embedded
//!   stylesheet, no CDN, no script): every essential action is a plain form, every page a URL a
//!   person can bookmark and share.
//! - **Same code paths as the CLI.** Actions call what the `mlc` commands call: `Engine::replay`
//!   (`mlc replay`), `Engine::review` (`mlc review`), `Engine::add_mapping` and
//!   [`crate::cmd::mappings::apply`] (`mlc mappings import`), [`crate::cmd::credentials::save`]
//!   (`mlc credentials set`), `Connection::ping` (`mlc ping`). Nothing here decides a document's
//!   fate by itself.
//! - **Access.** Loopback by default. The printed URL carries a one-time token (as notebook
//!   servers do); opening it sets a session cookie (HttpOnly, SameSite=Strict) and the token is
//!   spent. Binding beyond loopback is refused unless a console password is configured
//!   (`MLC_CONSOLE_PASSWORD`); people then sign in at `/login`. Stored credential values never
//!   reach a page: the credentials form shows field names only, and audit bodies are scrubbed of
//!   every stored value on top of the HTTP kit's own redaction.
//! - **Either home.** The console needs only the store, the queue and the connections, so it runs
//!   on the local data directory or, with `--backend aws`, on the operator's machine against the
//!   deployed stack (the stack itself exposes no UI).

pub mod pages;
pub mod templates;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use mlc_core::Engine;
use mlc_core::engine::ports::SecretStore;
use mlc_core::secret::Redacted;
use mlc_flows::{Config, Runtime};
use tokio::sync::{Notify, RwLock};
use tracing::{info, warn};

use crate::home::Home;

/// The session cookie's name.
pub const COOKIE: &str = "mlc_console";

/// Environment variable holding the console password (required to bind beyond loopback).
pub const PASSWORD_ENV: &str = "MLC_CONSOLE_PASSWORD";

/// How long sessions last (`[console] idle_timeout`, `absolute_timeout`).
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        let c = mlc_flows::config::ConsoleSettings::default();
        Lifetimes { idle: c.idle_timeout.0, absolute: c.absolute_timeout.0 }
    }
}

impl From<&mlc_flows::config::ConsoleSettings> for Lifetimes {
    fn from(c: &mlc_flows::config::ConsoleSettings) -> Self {
        Lifetimes { idle: c.idle_timeout.0, absolute: c.absolute_timeout.0 }
    }
}

/// One browser session: when it began and when it was last used.
#[derive(Debug, Clone, Copy)]
struct Session {
    created: Instant,
    last: Instant,
}

/// What a session cookie is worth now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCheck {
    Live,
    /// Unused for longer than the idle timeout.
    Idle,
    /// Older than the absolute timeout.
    TooOld,
    /// Not a session of this console (never was, or expired and forgotten).
    Unknown,
}

/// Who may use the console: the one-time token, live sessions, the optional password.
pub struct Access {
    token: Mutex<Option<String>>,
    sessions: Mutex<HashMap<String, Session>>,
    password: Option<Redacted<String>>,
    lifetimes: Lifetimes,
    /// `http://host:port`, once the console listens (for the renewed link).
    pub link_base: std::sync::OnceLock<String>,
}

impl Access {
    /// A fresh token; `password` enables `/login`; sessions last `lifetimes`.
    pub fn with_lifetimes(password: Option<String>, lifetimes: Lifetimes) -> Self {
        Access {
            token: Mutex::new(Some(random_token())),
            sessions: Mutex::new(HashMap::new()),
            password: password.filter(|p| !p.is_empty()).map(Redacted::new),
            lifetimes,
            link_base: std::sync::OnceLock::new(),
        }
    }

    /// The token for the printed URL (until it is spent).
    pub fn token(&self) -> Option<String> {
        self.token.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A new one-time token (after a session expired on a console without a password: the
    /// console prints the new link where it was started).
    pub fn renew_token(&self) -> String {
        let t = random_token();
        *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(t.clone());
        t
    }

    /// Spend the token: true (once) when `given` is it.
    fn take_token(&self, given: &str) -> bool {
        let mut t = self.token.lock().unwrap_or_else(|p| p.into_inner());
        match t.as_deref() {
            Some(tok) if constant_eq(tok.as_bytes(), given.as_bytes()) => {
                *t = None;
                true
            }
            _ => false,
        }
    }

    /// Open a session at `now`.
    pub fn new_session_at(&self, now: Instant) -> String {
        let sid = random_token();
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(sid.clone(), Session { created: now, last: now });
        sid
    }

    fn new_session(&self) -> String {
        self.new_session_at(Instant::now())
    }

    /// Check (and, when live, touch) the session `sid` at `now`; an expired one is forgotten.
    pub fn check_session_at(&self, sid: &str, now: Instant) -> SessionCheck {
        let mut all = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let Some(s) = all.get_mut(sid) else { return SessionCheck::Unknown };
        let verdict = if now.saturating_duration_since(s.created) >= self.lifetimes.absolute {
            SessionCheck::TooOld
        } else if now.saturating_duration_since(s.last) >= self.lifetimes.idle {
            SessionCheck::Idle
        } else {
            s.last = now;
            return SessionCheck::Live;
        };
        all.remove(sid);
        verdict
    }

    fn password_ok(&self, given: &str) -> bool {
        self.password.as_ref().is_some_and(|p| constant_eq(p.expose().as_bytes(), given.as_bytes()))
    }

    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }

    pub fn lifetimes(&self) -> Lifetimes {
        self.lifetimes
    }
}

fn random_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Everything the pages read and act on. Cheap to clone.
#[derive(Clone)]
pub struct Console(pub Arc<Inner>);

pub struct Inner {
    pub config: Config,
    pub engine: Engine,
    pub secrets: Arc<dyn SecretStore>,
    /// Where the state lives, for the header.
    pub place: String,
    /// On AWS the poster function posts what the console queues.
    pub aws: bool,
    pub access: Access,
    /// The runtime the local worker drains with (connections' API counters, unavailable flows).
    pub runtime: RwLock<Option<Arc<Runtime>>>,
    /// Wakes the worker after an action queued work.
    pub wake: Option<Arc<Notify>>,
    /// Who decides, in audit entries (`console (alice)`).
    pub operator: String,
    /// The stored credential values to scrub from pages, read at most once per
    /// [`SCRUB_CACHE_TTL`] (on AWS each read is a Secrets Manager call per connection).
    scrub_cache: tokio::sync::Mutex<Option<(Instant, Arc<Vec<String>>)>>,
}

/// How long the values to scrub are kept in the console process before the store is read again
/// (credentials set from the console's own form drop them at once).
pub const SCRUB_CACHE_TTL: Duration = Duration::from_secs(60);

impl Console {
    pub fn new(home: &Home, access: Access, runtime: Option<Arc<Runtime>>, wake: Option<Arc<Notify>>) -> Self {
        let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "operator".into());
        Console(Arc::new(Inner {
            config: home.config.clone(),
            engine: home.engine.clone(),
            secrets: home.secrets.clone(),
            place: home.place.describe(),
            aws: home.place.is_aws(),
            access,
            runtime: RwLock::new(runtime),
            wake,
            operator: format!("console ({user})"),
            scrub_cache: tokio::sync::Mutex::new(None),
        }))
    }

    /// Tell the worker there is work (after a release, replay or review).
    pub fn poke(&self) {
        if let Some(w) = &self.0.wake {
            w.notify_one();
        }
    }

    /// Every stored credential value (to scrub from anything shown): read from the secret store
    /// at most once per [`SCRUB_CACHE_TTL`], not once per page view. The HTTP kit already
    /// redacts the values its auth strategy sends when it records an exchange; this second pass
    /// catches a stored value anywhere else (a response echoing it, a value the kit did not send),
    /// so a value stored a minute ago is still scrubbed once the cache turns over, and at once when
    /// it was set from the console.
    pub async fn secret_values(&self) -> Arc<Vec<String>> {
        let mut cache = self.0.scrub_cache.lock().await;
        if let Some((at, values)) = cache.as_ref()
            && at.elapsed() < SCRUB_CACHE_TTL
        {
            return values.clone();
        }
        let mut out = Vec::new();
        if let Ok(names) = self.0.secrets.list().await {
            for n in names {
                if let Ok(Some(c)) = self.0.secrets.get(&n).await {
                    out.extend(c.values().map(str::to_string));
                }
            }
        }
        let values = Arc::new(out);
        *cache = Some((Instant::now(), values.clone()));
        values
    }

    /// Forget the cached values to scrub (credentials were just set).
    pub async fn forget_secret_values(&self) {
        *self.0.scrub_cache.lock().await = None;
    }
}

/// A page that could not be served: the message is shown to the person (it never holds secrets:
/// it comes from the same errors the CLI prints).
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn bad(message: impl Into<String>) -> Self {
        PageError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e.chain().map(|c| c.to_string()).collect::<Vec<_>>().join(": "),
        }
    }
}

impl From<mlc_core::EngineError> for PageError {
    fn from(e: mlc_core::EngineError) -> Self {
        PageError { status: StatusCode::BAD_REQUEST, message: e.to_string() }
    }
}

impl From<mlc_core::engine::ports::StoreError> for PageError {
    fn from(e: mlc_core::engine::ports::StoreError) -> Self {
        PageError { status: StatusCode::INTERNAL_SERVER_ERROR, message: e.to_string() }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = if self.status.is_client_error() { "That did not work" } else { "Something failed" };
        (self.status, templates::message_page(title, &self.message)).into_response()
    }
}

pub type PageResult<T = maud::Markup> = Result<T, PageError>;

/// The console's routes, behind the access check.
pub fn router(console: Console) -> Router {
    Router::new()
        .route("/", get(pages::today::page))
        .route("/mapping", get(pages::mapping::page))
        .route("/mapping/add", post(pages::mapping::add))
        .route("/released", get(pages::mapping::released))
        .route("/failures", get(pages::failures::page))
        .route("/replay", post(pages::failures::replay))
        .route("/review", post(pages::failures::review))
        .route("/items", get(pages::item::list))
        .route("/item", get(pages::item::page))
        .route("/evidence", get(pages::item::evidence))
        .route("/tieout", get(pages::tieout::page))
        .route("/tieout.csv", get(pages::tieout::csv))
        .route("/mappings", get(pages::mappings::page))
        .route("/mappings/set", post(pages::mappings::set))
        .route("/mappings/delete", post(pages::mappings::delete))
        .route("/mappings/import", post(pages::mappings::import))
        .route("/mappings.csv", get(pages::mappings::export))
        .route("/connections", get(pages::connections::page))
        .route("/connections/credentials", post(pages::connections::credentials))
        .route("/login", get(login_form).post(login))
        .route("/assets/style.css", get(style))
        .layer(middleware::from_fn_with_state(console.clone(), access))
        .with_state(console)
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], templates::STYLE)
}

fn cookie_of(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_string())
    })
}

fn session_cookie(sid: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Strict"))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The access check in front of every console route.
async fn access(State(c): State<Console>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path == "/assets/style.css" || path == "/login" {
        return next.run(req).await;
    }
    let token = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "token").map(|(_, v)| v.into_owned())
    });
    if let Some(t) = &token
        && c.0.access.take_token(t)
    {
        let sid = c.0.access.new_session();
        let mut resp = Redirect::to(&path).into_response();
        resp.headers_mut().insert(header::SET_COOKIE, session_cookie(&sid));
        return resp;
    }
    let check = cookie_of(req.headers())
        .map(|s| c.0.access.check_session_at(&s, Instant::now()))
        .unwrap_or(SessionCheck::Unknown);
    match check {
        SessionCheck::Live => {
            // Forms post only from our own pages (SameSite=Strict cookie, and the Origin when sent).
            if req.method() == axum::http::Method::POST && !same_origin(req.headers()) {
                return (StatusCode::FORBIDDEN, templates::message_page("Refused", "cross-site form post refused"))
                    .into_response();
            }
            next.run(req).await
        }
        SessionCheck::Idle | SessionCheck::TooOld => expired(&c, check),
        SessionCheck::Unknown if token.is_some() => refused(
            &c,
            "This link's token is wrong or was used already (it works once). Restart `mlc console` for a new link, or sign in with the console password.",
        ),
        SessionCheck::Unknown => {
            refused(&c, "Open the console with the link `mlc console` printed (it carries a one-time token).")
        }
    }
}

/// An expired session: back to the sign-in page with a message, the cookie cleared. Without a
/// console password the sign-in is a link: a new one-time link is printed where the console runs.
fn expired(c: &Console, why: SessionCheck) -> Response {
    if !c.0.access.has_password() {
        let t = c.0.access.renew_token();
        match c.0.access.link_base.get() {
            Some(base) => println!("console: a session expired; new link: {base}/?token={t}"),
            None => println!("console: a session expired; new link token: {t}"),
        }
        use std::io::Write;
        let _ = std::io::stdout().flush();
    }
    let reason = if why == SessionCheck::Idle { "idle" } else { "age" };
    let mut resp = Redirect::to(&format!("/login?expired={reason}")).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("mlc_console=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    resp
}

fn human(d: Duration) -> String {
    mlc_flows::schedule::Cadence(d).to_string()
}

fn same_origin(h: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) =
        (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), h.get(header::HOST).and_then(|v| v.to_str().ok()))
    else {
        return true;
    };
    origin == "null" || origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}

fn refused(c: &Console, why: &str) -> Response {
    let text = if c.0.access.has_password() { format!("{why} Or sign in at /login.") } else { why.to_string() };
    (StatusCode::UNAUTHORIZED, templates::message_page("Sign-in needed", &text)).into_response()
}

async fn login_form(State(c): State<Console>, axum::extract::Query(q): axum::extract::Query<pages::Pairs>) -> Response {
    let life = c.0.access.lifetimes();
    let note = match pages::field(&q, "expired") {
        Some("idle") => Some(format!(
            "Your session expired: no page was opened for {} (the console's idle_timeout). Sign in again.",
            human(life.idle)
        )),
        Some(_) => Some(format!(
            "Your session expired: sessions last at most {} (the console's absolute_timeout). Sign in again.",
            human(life.absolute)
        )),
        None => None,
    };
    if !c.0.access.has_password() {
        let text = match &note {
            Some(n) => format!(
                "{n} This console has no password: open the new link printed where `mlc console` runs (it works once)."
            ),
            None => "This console has no password: open the link `mlc console` printed.".into(),
        };
        let status = if note.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::NOT_FOUND };
        let title = if note.is_some() { "Session expired" } else { "No password sign-in" };
        return (status, templates::message_page(title, &text)).into_response();
    }
    let body = maud::html! {
        @if let Some(n) = &note { p.bad { (n) } }
        form method="post" action="/login" {
            label { "Console password " input type="password" name="password" autocomplete="current-password"; }
            " " button { "Sign in" }
        }
    };
    templates::page("Sign in", "/login", "", None, body).into_response()
}

#[derive(serde::Deserialize)]
struct LoginForm {
    password: String,
}

async fn login(State(c): State<Console>, axum::Form(f): axum::Form<LoginForm>) -> Response {
    if c.0.access.password_ok(&f.password) {
        let sid = c.0.access.new_session();
        let mut resp = Redirect::to("/").into_response();
        resp.headers_mut().insert(header::SET_COOKIE, session_cookie(&sid));
        return resp;
    }
    // A wrong password costs the caller a second.
    tokio::time::sleep(Duration::from_secs(1)).await;
    (StatusCode::UNAUTHORIZED, templates::message_page("Sign-in needed", "Wrong console password.")).into_response()
}

/// Whether binding `addr` is allowed: loopback always; beyond it only with a password.
pub fn check_bind(addr: &SocketAddr, access: &Access) -> anyhow::Result<()> {
    if addr.ip().is_loopback() || access.has_password() {
        return Ok(());
    }
    anyhow::bail!(
        "the console would listen on {addr}, beyond loopback: set a console password in {PASSWORD_ENV} first (people then sign in at /login), or keep the default 127.0.0.1"
    )
}

/// The local worker: drain whenever an action queued work, and every few seconds.
pub fn spawn_worker(console: Console, wake: Arc<Notify>) {
    tokio::spawn(async move {
        loop {
            let rt = console.0.runtime.read().await.clone();
            if let Some(rt) = rt {
                match rt.engine.drain(&rt.flows, rt.config.engine.workers).await {
                    Ok(r) if r.hints > 0 => info!(hints = r.hints, "console worker pass"),
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "console worker pass failed"),
                }
            }
            let _ = tokio::time::timeout(Duration::from_secs(2), wake.notified()).await;
        }
    });
}

/// The console's routes for `mlc serve` (same listener as the webhooks; serve's own worker posts
/// what the console releases). Not mounted, with a line saying why, when serve listens beyond
/// loopback and no console password is set.
pub fn mount_under_serve(home: &Home, rt: Arc<Runtime>, wake: Arc<Notify>, addr: &SocketAddr) -> Router {
    let access = Access::with_lifetimes(std::env::var(PASSWORD_ENV).ok(), (&home.config.console).into());
    if let Err(e) = check_bind(addr, &access) {
        eprintln!("console not mounted: {e}");
        return Router::new();
    }
    let c = Console::new(home, access, Some(rt), Some(wake));
    crate::cmd::console::print_url(&c, addr);
    router(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(idle: u64, absolute: u64) -> Access {
        Access::with_lifetimes(
            None,
            Lifetimes { idle: Duration::from_secs(idle), absolute: Duration::from_secs(absolute) },
        )
    }

    #[test]
    fn an_idle_session_expires_and_use_keeps_it_alive() {
        let a = access(8 * 3600, 24 * 3600);
        let t0 = Instant::now();
        let sid = a.new_session_at(t0);
        let h = |n: u64| t0 + Duration::from_secs(n * 3600);
        // Used every 7 hours it lives on (each use resets the idle clock) ...
        assert_eq!(a.check_session_at(&sid, h(7)), SessionCheck::Live);
        assert_eq!(a.check_session_at(&sid, h(14)), SessionCheck::Live);
        // ... left alone for 8 hours it expires, and is forgotten.
        assert_eq!(a.check_session_at(&sid, h(22)), SessionCheck::Idle);
        assert_eq!(a.check_session_at(&sid, h(22)), SessionCheck::Unknown);
        assert_eq!(a.check_session_at("not-a-session", h(1)), SessionCheck::Unknown);
    }

    #[test]
    fn a_session_in_use_still_ends_at_the_absolute_timeout() {
        let a = access(8 * 3600, 24 * 3600);
        let t0 = Instant::now();
        let sid = a.new_session_at(t0);
        for h in [6, 12, 18, 23] {
            assert_eq!(a.check_session_at(&sid, t0 + Duration::from_secs(h * 3600)), SessionCheck::Live, "{h}h");
        }
        assert_eq!(a.check_session_at(&sid, t0 + Duration::from_secs(24 * 3600)), SessionCheck::TooOld);
        assert_eq!(a.check_session_at(&sid, t0 + Duration::from_secs(24 * 3600)), SessionCheck::Unknown);
    }

    #[test]
    fn an_expired_session_renews_the_one_time_link() {
        let a = access(60, 120);
        assert!(a.take_token(&a.token().expect("token")));
        assert!(a.token().is_none(), "spent");
        let t = a.renew_token();
        assert_eq!(a.token().as_deref(), Some(t.as_str()));
        assert!(a.take_token(&t) && !a.take_token(&t), "the new link works once");
    }

    #[test]
    fn deltek_app_url_comes_from_the_api_base() {
        use crate::console::pages::item::deltek_app_url;
        assert_eq!(
            deltek_app_url("https://acme.deltekfirst.com/Acme/api").as_deref(),
            Some("https://acme.deltekfirst.com/Acme/app/")
        );
        assert_eq!(
            deltek_app_url("https://vp.firm.com/vantagepoint/api/").as_deref(),
            Some("https://vp.firm.com/vantagepoint/app/")
        );
        assert_eq!(
            deltek_app_url("http://127.0.0.1:4100/Demo/api").as_deref(),
            Some("http://127.0.0.1:4100/Demo/app/")
        );
        assert_eq!(deltek_app_url("not a url"), None);
    }
}
