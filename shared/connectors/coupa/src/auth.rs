//! Coupa authentication: OAuth 2.0 client credentials, with Coupa's activation advice.
//!
//! The HTTP kit's [`ClientCredentials`] does the grant (`POST /oauth2/token`,
//! `grant_type=client_credentials`, space-separated `scope`, the client in the form as Coupa's own
//! code sends it, or as HTTP Basic by setting), caches the token per connection and fetches one at
//! a time. Coupa tokens live 86399 s and come without a refresh token; Coupa advises renewing every
//! 20 hours, so the token is renewed `token_refresh_after_secs` (default 20 h) into its life.
//!
//! **Activation delay.** Coupa says to "wait at least 5 seconds between generating a token and
//! first using it … otherwise your call may fail" (fact sheet §2.2). Waiting on every new token
//! would add 5 s to every cold Lambda, so the first token is used at once. When a call is refused
//! with 401, the kit drops the token and replays once; [`CoupaAuth`] then makes the replacement
//! token wait `token_activation_wait_ms` (default 5000) before its first use. So a token that was
//! not active yet, one that expired early or was revoked all recover with one replay, and a second
//! 401 is a real credentials problem.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use async_trait::async_trait;
use mlc_core::secret::Redacted;
use mlc_http::{Auth, AuthHeaders, ClientAuth, ClientCredentials, HttpError, TokenClient};

use crate::settings::{ClientAuthMode, CoupaCredentials, CoupaSettings};

/// Client credentials plus the activation wait after a 401.
#[derive(Debug)]
pub struct CoupaAuth {
    inner: ClientCredentials,
    activation_wait: Duration,
    state: Mutex<Settle>,
}

#[derive(Debug, Default)]
struct Settle {
    /// Set by a 401: the next freshly minted token waits before its first use.
    next: bool,
    /// The token (generation) minted after a 401, and when it may be used: every caller of that
    /// generation waits until then, not only the one that minted it.
    hold: Option<(u64, Instant)>,
}

impl CoupaAuth {
    pub fn new(settings: &CoupaSettings, creds: &CoupaCredentials) -> Self {
        // Renew at `token_refresh_after` into the 86399 s life (the kit never waits past half of
        // a shorter life, so test tokens of a few seconds renew too).
        let skew = Duration::from_secs(86_399).saturating_sub(settings.token_refresh_after);
        let inner = ClientCredentials::new(settings.token_url(), creds.client_id.clone(), creds.client_secret.clone())
            .scope(settings.scopes.join(" "))
            .client_auth(match settings.client_auth {
                ClientAuthMode::Form => ClientAuth::Form,
                ClientAuthMode::Basic => ClientAuth::Basic,
            })
            .refresh_skew(skew.max(Duration::from_secs(1)));
        CoupaAuth { inner, activation_wait: settings.token_activation_wait, state: Mutex::new(Settle::default()) }
    }
}

#[async_trait]
impl Auth for CoupaAuth {
    async fn authorize(&self, tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        let headers = self.inner.authorize(tokens).await?;
        let until = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if headers.refreshed && std::mem::take(&mut s.next) && !self.activation_wait.is_zero() {
                s.hold = Some((headers.generation, Instant::now() + self.activation_wait));
            }
            s.hold.filter(|(g, _)| *g == headers.generation).map(|(_, until)| until)
        };
        if let Some(until) = until
            && until > Instant::now()
        {
            tracing::debug!(system = "coupa", "new token after a 401: waiting for it to activate before first use");
            tokio::time::sleep_until(until).await;
        }
        Ok(headers)
    }

    async fn invalidate(&self, generation: u64) -> bool {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).next = true;
        self.inner.invalidate(generation).await
    }

    fn secrets(&self) -> Vec<Redacted<String>> {
        self.inner.secrets()
    }
}
