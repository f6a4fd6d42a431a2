//! How a connection proves who it is.
//!
//! An [`Auth`] hands the kit the headers for each attempt, together with a *generation* number
//! that changes whenever the credentials do. When the server answers 401 the kit calls
//! [`Auth::invalidate`] with the generation it used: only the first caller for a generation
//! actually drops the token, so a burst of 401s from many workers costs one refresh, and callers
//! waiting for that refresh get the new token.
//!
//! Strategies:
//! - [`StaticHeaders`]: fixed secret headers (Cin7's `api-auth-accountid` + `api-auth-applicationkey`).
//! - [`PasswordGrant`]: OAuth2 resource-owner password grant with refresh (Deltek, Acumatica, Cleo).
//! - [`ClientCredentials`]: OAuth2 client credentials (Procore, Coupa).
//! - [`NoAuth`]: nothing (public endpoints, simulators' control APIs).
//!
//! Every strategy lists its secret values ([`Auth::secrets`]) so the kit can scrub them from all
//! text it records or logs.

mod oauth;
mod token;

use async_trait::async_trait;
use http::{HeaderMap, HeaderName, HeaderValue};
use mlc_core::secret::Redacted;

use crate::error::HttpError;

pub use oauth::{ClientAuth, ClientCredentials, FieldNames, PasswordGrant};
pub use token::{TokenClient, TokenResponse};

/// The credentials for one attempt.
#[derive(Debug, Clone)]
pub struct AuthHeaders {
    /// Added to the request. Values should be marked sensitive (`HeaderValue::set_sensitive`).
    pub headers: HeaderMap,
    /// Which credentials these are; passed back to [`Auth::invalidate`] on a 401.
    pub generation: u64,
    /// True when obtaining them took a call to the token endpoint (counted in the stats).
    pub refreshed: bool,
}

/// One connection's way of authenticating. Shared by every clone of the client.
#[async_trait]
pub trait Auth: Send + Sync + 'static {
    /// Headers for the next attempt, fetching or refreshing credentials first when needed. At most
    /// one fetch runs at a time; concurrent callers wait for it.
    async fn authorize(&self, tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError>;

    /// The server answered 401 to credentials of `generation`. Drop them if still current and say
    /// whether fresh ones can be had (false: a retry would send the same thing, so don't).
    async fn invalidate(&self, generation: u64) -> bool;

    /// Every secret value held or obtained (passwords, client secrets, keys, tokens), for scrubbing.
    fn secrets(&self) -> Vec<Redacted<String>>;
}

/// No credentials at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

#[async_trait]
impl Auth for NoAuth {
    async fn authorize(&self, _tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        Ok(AuthHeaders { headers: HeaderMap::new(), generation: 0, refreshed: false })
    }
    async fn invalidate(&self, _generation: u64) -> bool {
        false
    }
    fn secrets(&self) -> Vec<Redacted<String>> {
        Vec::new()
    }
}

/// Fixed headers whose values are secret, sent on every call (Cin7:
/// `api-auth-accountid` and `api-auth-applicationkey`). A 401 cannot be cured by sending the same
/// headers again, so it is an auth error at once.
#[derive(Debug, Clone)]
pub struct StaticHeaders {
    /// Built once; a bad header name or value is reported (with the system) on the first call.
    headers: Result<HeaderMap, String>,
    values: Vec<Redacted<String>>,
}

impl StaticHeaders {
    pub fn new<N: Into<String>>(headers: impl IntoIterator<Item = (N, Redacted<String>)>) -> Self {
        let mut map = HeaderMap::new();
        let mut values = Vec::new();
        let mut problem = None;
        for (name, value) in headers {
            let name = name.into();
            let parsed = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("{name:?} is not a valid header name"))
                .and_then(|n| {
                    HeaderValue::from_str(value.expose())
                        .map(|v| (n, v))
                        .map_err(|_| format!("the value for header {name} has characters a header cannot carry"))
                });
            match parsed {
                Ok((n, mut v)) => {
                    v.set_sensitive(true);
                    map.append(n, v);
                }
                Err(p) => problem = problem.or(Some(p)),
            }
            values.push(value);
        }
        StaticHeaders { headers: problem.map_or(Ok(map), Err), values }
    }
}

#[async_trait]
impl Auth for StaticHeaders {
    async fn authorize(&self, tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        match &self.headers {
            Ok(h) => Ok(AuthHeaders { headers: h.clone(), generation: 0, refreshed: false }),
            Err(problem) => Err(HttpError::Invalid { system: tokens.system().to_string(), message: problem.clone() }),
        }
    }
    async fn invalidate(&self, _generation: u64) -> bool {
        false
    }
    fn secrets(&self) -> Vec<Redacted<String>> {
        self.values.clone()
    }
}
