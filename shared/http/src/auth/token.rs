//! Token endpoints and the token cache shared by the OAuth strategies.
//!
//! [`TokenClient`] is the kit's handle for calling a token endpoint: it keeps the connection's
//! rate limit, records the exchange with the request body as `[redacted form]` and the tokens in
//! the answer blanked, and turns the endpoint's refusals into errors a person can act on (the
//! OAuth `error_description`, "an HTML page", "an empty body").
//!
//! [`TokenCache`] holds the current token. Its lock is held while a token is fetched, which is
//! what makes the fetch single-flight: callers arriving meanwhile wait, then find the new token.
//! Each new token bumps the generation, so a 401 for an older generation does not throw away a
//! token that was just fetched.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Mutex as SyncMutex;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, StatusCode};
use mlc_core::engine::model::BodyRef;
use mlc_core::secret::Redacted;
use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;
use url::Url;

use crate::auth::AuthHeaders;
use crate::error::HttpError;
use crate::limit::Limiter;
use crate::record::{Attempt, Scrubber, audit_url, short_url};
use crate::retry::retry_after;

/// What a token endpoint granted.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: Redacted<String>,
    pub refresh_token: Option<Redacted<String>>,
    pub expires_in: Option<Duration>,
}

/// The kit's handle for calling token endpoints, lent to [`crate::Auth::authorize`].
pub struct TokenClient<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) system: &'a str,
    pub(crate) limiter: Option<&'a Limiter>,
    /// The longest wait for the rate budget worth sleeping.
    pub(crate) park_after: Duration,
    pub(crate) scrubber: &'a Scrubber,
}

impl TokenClient<'_> {
    /// The connection's system name, for errors.
    pub fn system(&self) -> &str {
        self.system
    }

    /// POST a form to a token endpoint and read the token from the answer. `basic` sends the
    /// client id and secret as HTTP Basic instead of in the form.
    pub async fn request_token(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<(&str, &str)>,
    ) -> Result<TokenResponse, HttpError> {
        let shown = short_url(url, self.scrubber);
        // The token endpoint counts against the connection's budget (its own one when per path).
        let budget = self.limiter.map(|l| l.budget_for("POST", "(token)"));
        if let (Some(l), Some(b)) = (self.limiter, &budget)
            && let Err(refusal) = l.acquire(b, self.park_after).await
        {
            return Err(refusal.into_error(self.system, "POST", &shown, b));
        }
        let mut rb = self.http.post(url.clone()).form(form);
        if let Some((id, secret)) = basic {
            rb = rb.basic_auth(id, Some(secret));
        }
        let at = chrono::Utc::now();
        let started = Instant::now();
        let result = async {
            let r = rb.send().await?;
            let status = r.status();
            let headers = r.headers().clone();
            let body = r.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let recorded = |status: Option<u16>, response: Option<&Bytes>, error: Option<String>| {
            Attempt {
                at,
                system: self.system,
                method: "POST",
                url: audit_url(url, self.scrubber),
                status,
                duration_ms: ms,
                request: Some(BodyRef::Inline { text: "[redacted form]".to_string() }),
                response,
                error,
            }
            .record(self.scrubber)
        };
        match result {
            Err(e) => {
                let cause = self.scrubber.text(&crate::client::describe_transport(&e));
                tracing::debug!(system = self.system, url = %shown, ms, error = %cause, "token call failed");
                recorded(None, None, Some(cause.clone()));
                Err(HttpError::Transient {
                    system: self.system.to_string(),
                    method: "POST".into(),
                    url: shown,
                    retry_after: None,
                    cause: format!("token endpoint unreachable: {cause}"),
                })
            }
            Ok((status, headers, body)) => {
                tracing::debug!(system = self.system, url = %shown, status = status.as_u16(), ms, "token call");
                recorded(Some(status.as_u16()), Some(&Bytes::from(redact_tokens(&body))), None);
                self.read_answer(status, &headers, &body, shown)
            }
        }
    }

    fn read_answer(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        body: &[u8],
        url: String,
    ) -> Result<TokenResponse, HttpError> {
        let system = self.system.to_string();
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Err(HttpError::RateLimited {
                system,
                method: "POST".into(),
                url,
                retry_after: retry_after(headers, SystemTime::now()),
                snippet: self.scrubber.snippet(body),
            });
        }
        if status.is_server_error() {
            return Err(HttpError::Transient {
                system,
                method: "POST".into(),
                url,
                retry_after: retry_after(headers, SystemTime::now()),
                cause: format!("token endpoint answered {status}: {}", self.scrubber.snippet(body)),
            });
        }
        let json: Option<Value> = serde_json::from_slice(body).ok();
        if status.is_success() {
            if let Some(t) = json.as_ref().and_then(parse_token) {
                return Ok(t);
            }
            let what = describe(json.as_ref(), body, self.scrubber);
            return Err(HttpError::Auth {
                system,
                message: format!(
                    "token endpoint {url} answered {status} without an access token ({what}); check the token URL"
                ),
            });
        }
        let what = describe(json.as_ref(), body, self.scrubber);
        Err(HttpError::Auth { system, message: format!("token endpoint {url} answered {status}: {what}") })
    }
}

/// `access_token` (required), `refresh_token`, `expires_in` (a number or a numeric string).
fn parse_token(v: &Value) -> Option<TokenResponse> {
    let access = v.get("access_token")?.as_str().filter(|s| !s.is_empty())?;
    let refresh = v.get("refresh_token").and_then(Value::as_str).filter(|s| !s.is_empty());
    let expires_in = match v.get("expires_in") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Some(TokenResponse {
        access_token: Redacted::new(access.to_string()),
        refresh_token: refresh.map(|r| Redacted::new(r.to_string())),
        expires_in: expires_in.map(Duration::from_secs),
    })
}

/// What a token endpoint's refusal says, in one line: the OAuth `error` and `error_description`,
/// a `message`, or the kind of body it was.
fn describe(json: Option<&Value>, body: &[u8], scrubber: &Scrubber) -> String {
    if let Some(v) = json {
        let text = |k: &str| v.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
        if let Some(error) = text("error") {
            return scrubber.text(&match text("error_description") {
                Some(d) => format!("{error}: {d}"),
                None => error.to_string(),
            });
        }
        for key in ["error_description", "message", "Message"] {
            if let Some(m) = text(key) {
                return scrubber.text(m);
            }
        }
        if let Some(m) = v.get("error").and_then(|e| e.get("message")).and_then(Value::as_str) {
            return scrubber.text(m);
        }
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    if body.iter().all(u8::is_ascii_whitespace) {
        "an empty body".to_string()
    } else if head.contains("<html") || head.contains("<!doctype") {
        format!("an HTML page, not a token: {}", scrubber.snippet(body))
    } else {
        scrubber.snippet(body)
    }
}

/// The token answer as recorded: tokens blanked (they are not yet among the scrubber's secrets).
fn redact_tokens(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(mut m)) => {
            for k in ["access_token", "refresh_token", "id_token"] {
                if let Some(v) = m.get_mut(k) {
                    *v = Value::String("[redacted]".into());
                }
            }
            Value::Object(m).to_string().into_bytes()
        }
        _ => body.to_vec(),
    }
}

/// The current token, its refresh token and generation.
#[derive(Debug)]
pub(crate) struct TokenCache {
    slot: Mutex<Slot>,
    /// Refresh this long before the token expires.
    skew: Duration,
    /// Lifetime assumed when the endpoint gives no `expires_in` (`None`: until a 401).
    assumed_lifetime: Option<Duration>,
    /// Recent tokens, for scrubbing (old ones can still be echoed in answers).
    seen: SyncMutex<VecDeque<Redacted<String>>>,
}

#[derive(Debug, Default)]
struct Slot {
    access: Option<Redacted<String>>,
    expires_at: Option<Instant>,
    refresh: Option<Redacted<String>>,
    generation: u64,
}

/// The current and the previous generation's access and refresh tokens: older ones are no
/// longer sent, and every needle costs a pass over each recorded body.
const SEEN_TOKENS: usize = 4;

impl TokenCache {
    pub(crate) fn new(skew: Duration, assumed_lifetime: Option<Duration>) -> Self {
        TokenCache { slot: Mutex::new(Slot::default()), skew, assumed_lifetime, seen: SyncMutex::new(VecDeque::new()) }
    }

    pub(crate) fn set_skew(&mut self, skew: Duration) {
        self.skew = skew;
    }

    pub(crate) fn set_assumed_lifetime(&mut self, lifetime: Option<Duration>) {
        self.assumed_lifetime = lifetime;
    }

    /// A bearer header from the cached token, or from `fetch` (given the refresh token, if any)
    /// when there is none or it is about to expire.
    pub(crate) async fn authorize<F, Fut>(&self, fetch: F) -> Result<AuthHeaders, HttpError>
    where
        F: FnOnce(Option<Redacted<String>>) -> Fut + Send,
        Fut: Future<Output = Result<TokenResponse, HttpError>> + Send,
    {
        let mut slot = self.slot.lock().await;
        let now = Instant::now();
        if let Some(token) = &slot.access
            && slot.expires_at.is_none_or(|at| now < at)
        {
            return Ok(bearer(token, slot.generation, false));
        }
        let answer = fetch(slot.refresh.clone()).await?;
        let lifetime = answer.expires_in.or(self.assumed_lifetime);
        // A skew as long as the token's life would refresh on every call: keep half the life.
        slot.expires_at = lifetime.map(|l| Instant::now() + l - self.skew.min(l / 2));
        slot.generation += 1;
        self.remember(&answer);
        let headers = bearer(&answer.access_token, slot.generation, true);
        slot.access = Some(answer.access_token);
        slot.refresh = answer.refresh_token;
        Ok(headers)
    }

    /// Drop the token if `generation` is still current. Always true: a new token can be fetched.
    pub(crate) async fn invalidate(&self, generation: u64) -> bool {
        let mut slot = self.slot.lock().await;
        if slot.generation == generation {
            slot.access = None;
        }
        true
    }

    fn remember(&self, t: &TokenResponse) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.push_back(t.access_token.clone());
        if let Some(r) = &t.refresh_token {
            seen.push_back(r.clone());
        }
        while seen.len() > SEEN_TOKENS {
            seen.pop_front();
        }
    }

    pub(crate) fn secrets(&self) -> Vec<Redacted<String>> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).iter().cloned().collect()
    }
}

fn bearer(token: &Redacted<String>, generation: u64, refreshed: bool) -> AuthHeaders {
    let mut headers = HeaderMap::new();
    // A token with characters a header cannot carry would come from a broken endpoint; send none
    // and let the 401 path report it rather than panic.
    if let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {}", token.expose())) {
        v.set_sensitive(true);
        headers.insert(AUTHORIZATION, v);
    }
    AuthHeaders { headers, generation, refreshed }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn token(n: u32, life: Option<u64>) -> TokenResponse {
        TokenResponse {
            access_token: Redacted::new(format!("access-{n}")),
            refresh_token: Some(Redacted::new(format!("refresh-{n}"))),
            expires_in: life.map(Duration::from_secs),
        }
    }

    fn auth_value(h: &AuthHeaders) -> String {
        h.headers.get(AUTHORIZATION).unwrap().to_str().unwrap().to_string()
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_before_expiry_with_skew() {
        let cache = TokenCache::new(Duration::from_secs(60), None);
        let fetches = AtomicU32::new(0);
        let fetch = |_r: Option<Redacted<String>>| async {
            let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(token(n, Some(1799)))
        };
        let a = cache.authorize(fetch).await.unwrap();
        assert_eq!((auth_value(&a).as_str(), a.generation, a.refreshed), ("Bearer access-1", 1, true));
        tokio::time::advance(Duration::from_secs(1799 - 61)).await;
        let b = cache.authorize(fetch).await.unwrap();
        assert_eq!((b.generation, b.refreshed), (1, false));
        // Inside the 60 s skew: refreshed before the server would have refused it.
        tokio::time::advance(Duration::from_secs(2)).await;
        let c = cache.authorize(fetch).await.unwrap();
        assert_eq!((auth_value(&c).as_str(), c.generation, c.refreshed), ("Bearer access-2", 2, true));
    }

    #[tokio::test(start_paused = true)]
    async fn short_lived_tokens_keep_half_their_life() {
        let cache = TokenCache::new(Duration::from_secs(60), None);
        let fetch = |_r| async { Ok(token(1, Some(30))) };
        assert!(cache.authorize(fetch).await.unwrap().refreshed);
        tokio::time::advance(Duration::from_secs(14)).await;
        assert!(!cache.authorize(fetch).await.unwrap().refreshed);
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(cache.authorize(fetch).await.unwrap().refreshed);
    }

    #[tokio::test]
    async fn one_fetch_for_many_waiters_and_stale_invalidations_are_ignored() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(60), None));
        let fetches = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (cache, fetches) = (cache.clone(), fetches.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .authorize(|_r| async move {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(token(fetches.fetch_add(1, Ordering::SeqCst) + 1, None))
                    })
                    .await
                    .unwrap()
                    .generation
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 1);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert!(cache.invalidate(1).await);
        let seen_refresh = Arc::new(SyncMutex::new(None));
        let s = seen_refresh.clone();
        let g2 = cache
            .authorize(|r| async move {
                *s.lock().unwrap() = r.map(|r| r.expose().clone());
                Ok(token(2, None))
            })
            .await
            .unwrap();
        assert_eq!(g2.generation, 2);
        assert_eq!(seen_refresh.lock().unwrap().as_deref(), Some("refresh-1"));
        // A late 401 from generation 1 must not drop generation 2.
        cache.invalidate(1).await;
        let again = cache.authorize(|_r| async { Ok(token(3, None)) }).await.unwrap();
        assert_eq!((again.generation, again.refreshed), (2, false));
        let secrets: Vec<String> = cache.secrets().iter().map(|s| s.expose().clone()).collect();
        assert!(secrets.contains(&"access-2".to_string()) && secrets.contains(&"refresh-1".to_string()));
    }

    #[test]
    fn token_answers_and_refusals() {
        let t = parse_token(&serde_json::json!({"access_token":"a","expires_in":"1799","refresh_token":""})).unwrap();
        assert_eq!((t.expires_in, t.refresh_token.is_none()), (Some(Duration::from_secs(1799)), true));
        assert!(parse_token(&serde_json::json!({"token":"a"})).is_none());
        let s = Scrubber::new(&[Redacted::new("hunter22".to_string())]);
        let d = |body: &str| describe(serde_json::from_str(body).ok().as_ref(), body.as_bytes(), &s);
        assert_eq!(
            d(
                r#"{"error":"invalid_grant","error_description":"Your login has been disabled.  Please contact your system administrator."}"#
            ),
            "invalid_grant: Your login has been disabled.  Please contact your system administrator."
        );
        assert_eq!(d(r#"{"error":"unsupported_grant_type"}"#), "unsupported_grant_type");
        assert_eq!(d(r#"{"Message":"bad password hunter22"}"#), "bad password [redacted]");
        assert_eq!(d(""), "an empty body");
        assert!(d("<html><body>Sign in</body></html>").starts_with("an HTML page"));
        let red =
            String::from_utf8(redact_tokens(br#"{"access_token":"x","refresh_token":"y","expires_in":5}"#)).unwrap();
        assert!(!red.contains("\"x\"") && !red.contains("\"y\"") && red.contains("expires_in"), "{red}");
    }
}
