//! OAuth2 password grant (with refresh) and client credentials, configured as data.
//!
//! Vendors spell the same grant differently. Deltek Vantagepoint wants `Username`, `Password`,
//! `Client_Id`, `client_secret` plus `Integrated=N` and `database`; Cleo wants plain
//! `username`/`password` and no client; Coupa takes the client in the form or as HTTP Basic. So
//! the field names, the extra fields and where the client goes are settings, not code:
//!
//! ```
//! # use mlc_http::{PasswordGrant, FieldNames};
//! # use mlc_core::secret::Redacted;
//! # let url = url::Url::parse("https://firm.deltekfirst.com/Firm/api/token").unwrap();
//! let deltek = PasswordGrant::new(url, "api-user", Redacted::new("password".to_string()))
//!     .field_names(FieldNames::new("Username", "Password", "Client_Id", "client_secret"))
//!     .client("client-id", Redacted::new("client-secret".to_string()))
//!     .extra("database", "C0000012345P_1_FIRM")
//!     .login_extra("Integrated", "N");
//! ```
//!
//! Refresh: the refresh token from each answer replaces the previous one (some servers rotate
//! it); when an answer carries none, the previous one is kept. Any refresh failure falls back to a
//! full password login, which either works or says what is wrong with the credentials.

use std::time::Duration;

use async_trait::async_trait;
use mlc_core::secret::Redacted;
use url::Url;

use crate::auth::token::{TokenCache, TokenClient, TokenResponse};
use crate::auth::{Auth, AuthHeaders};
use crate::error::HttpError;

/// Refresh a token this long before it expires, unless configured otherwise.
const DEFAULT_SKEW: Duration = Duration::from_secs(60);

/// Where the OAuth client id and secret go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// As form fields (`client_id`, `client_secret`, or the configured names).
    #[default]
    Form,
    /// As `Authorization: Basic base64(id:secret)`.
    Basic,
}

/// Form field names of a password grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldNames {
    pub username: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: String,
}

impl FieldNames {
    pub fn new(username: &str, password: &str, client_id: &str, client_secret: &str) -> Self {
        FieldNames {
            username: username.into(),
            password: password.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        }
    }
}

impl Default for FieldNames {
    /// RFC 6749 spelling: `username`, `password`, `client_id`, `client_secret`.
    fn default() -> Self {
        FieldNames::new("username", "password", "client_id", "client_secret")
    }
}

/// OAuth2 resource-owner password grant, refreshed with `grant_type=refresh_token`.
#[derive(Debug)]
pub struct PasswordGrant {
    token_url: Url,
    username: String,
    password: Redacted<String>,
    client: Option<(String, Redacted<String>)>,
    client_auth: ClientAuth,
    fields: FieldNames,
    /// Sent with both the login and the refresh (Deltek's `database`).
    extra: Vec<(String, String)>,
    /// Sent with the login only (Deltek's `Integrated=N`).
    login_extra: Vec<(String, String)>,
    cache: TokenCache,
}

impl PasswordGrant {
    pub fn new(token_url: Url, username: impl Into<String>, password: Redacted<String>) -> Self {
        PasswordGrant {
            token_url,
            username: username.into(),
            password,
            client: None,
            client_auth: ClientAuth::Form,
            fields: FieldNames::default(),
            extra: Vec::new(),
            login_extra: Vec::new(),
            cache: TokenCache::new(DEFAULT_SKEW, None),
        }
    }

    /// The OAuth client this grant is made for.
    pub fn client(mut self, client_id: impl Into<String>, client_secret: Redacted<String>) -> Self {
        self.client = Some((client_id.into(), client_secret));
        self
    }

    pub fn client_auth(mut self, how: ClientAuth) -> Self {
        self.client_auth = how;
        self
    }

    pub fn field_names(mut self, names: FieldNames) -> Self {
        self.fields = names;
        self
    }

    /// A form field sent with the login and with every refresh.
    pub fn extra(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// A form field sent with the password login only.
    pub fn login_extra(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.login_extra.push((name.into(), value.into()));
        self
    }

    /// How long before expiry to refresh (default 60 s).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.cache.set_skew(skew);
        self
    }

    /// Lifetime to assume when the endpoint gives no `expires_in` (default: until a 401).
    pub fn assumed_lifetime(mut self, lifetime: Duration) -> Self {
        self.cache.set_assumed_lifetime(Some(lifetime));
        self
    }

    async fn fetch(
        &self,
        tokens: &TokenClient<'_>,
        refresh: Option<Redacted<String>>,
    ) -> Result<TokenResponse, HttpError> {
        if let Some(old) = refresh {
            let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", old.expose().as_str())];
            let basic = add_client(&mut form, self.client.as_ref(), self.client_auth, &self.fields);
            form.extend(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            match tokens.request_token(&self.token_url, &form, basic).await {
                Ok(mut t) => {
                    t.refresh_token = t.refresh_token.or(Some(old));
                    return Ok(t);
                }
                Err(e) => {
                    tracing::debug!(system = tokens.system(), error = %e, "token refresh refused; logging in with the password");
                }
            }
        }
        let mut form = vec![
            ("grant_type", "password"),
            (self.fields.username.as_str(), self.username.as_str()),
            (self.fields.password.as_str(), self.password.expose().as_str()),
        ];
        let basic = add_client(&mut form, self.client.as_ref(), self.client_auth, &self.fields);
        form.extend(self.extra.iter().chain(&self.login_extra).map(|(k, v)| (k.as_str(), v.as_str())));
        tokens.request_token(&self.token_url, &form, basic).await
    }
}

/// Put the client in the form, or return it for HTTP Basic.
fn add_client<'a>(
    form: &mut Vec<(&'a str, &'a str)>,
    client: Option<&'a (String, Redacted<String>)>,
    how: ClientAuth,
    fields: &'a FieldNames,
) -> Option<(&'a str, &'a str)> {
    let (id, secret) = client?;
    match how {
        ClientAuth::Basic => Some((id.as_str(), secret.expose().as_str())),
        ClientAuth::Form => {
            form.push((fields.client_id.as_str(), id.as_str()));
            form.push((fields.client_secret.as_str(), secret.expose().as_str()));
            None
        }
    }
}

#[async_trait]
impl Auth for PasswordGrant {
    async fn authorize(&self, tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        self.cache.authorize(|refresh| self.fetch(tokens, refresh)).await
    }
    async fn invalidate(&self, generation: u64) -> bool {
        self.cache.invalidate(generation).await
    }
    fn secrets(&self) -> Vec<Redacted<String>> {
        let mut s = vec![self.password.clone()];
        s.extend(self.client.iter().map(|(_, secret)| secret.clone()));
        s.extend(self.cache.secrets());
        s
    }
}

/// OAuth2 client credentials (Procore, Coupa). There is no refresh token: a new token is
/// requested when the old one nears expiry or is refused.
#[derive(Debug)]
pub struct ClientCredentials {
    token_url: Url,
    client: (String, Redacted<String>),
    client_auth: ClientAuth,
    scope: Option<String>,
    extra: Vec<(String, String)>,
    cache: TokenCache,
}

impl ClientCredentials {
    pub fn new(token_url: Url, client_id: impl Into<String>, client_secret: Redacted<String>) -> Self {
        ClientCredentials {
            token_url,
            client: (client_id.into(), client_secret),
            client_auth: ClientAuth::Form,
            scope: None,
            extra: Vec::new(),
            cache: TokenCache::new(DEFAULT_SKEW, None),
        }
    }

    /// Space-separated scopes (Coupa: `core.invoice.read core.supplier.read`).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    pub fn client_auth(mut self, how: ClientAuth) -> Self {
        self.client_auth = how;
        self
    }

    pub fn extra(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// How long before expiry to fetch a new token (default 60 s; Procore advises 5 min).
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.cache.set_skew(skew);
        self
    }

    pub fn assumed_lifetime(mut self, lifetime: Duration) -> Self {
        self.cache.set_assumed_lifetime(Some(lifetime));
        self
    }

    async fn fetch(&self, tokens: &TokenClient<'_>) -> Result<TokenResponse, HttpError> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope.as_str()));
        }
        let fields = FieldNames::default();
        let basic = add_client(&mut form, Some(&self.client), self.client_auth, &fields);
        form.extend(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        tokens.request_token(&self.token_url, &form, basic).await
    }
}

#[async_trait]
impl Auth for ClientCredentials {
    async fn authorize(&self, tokens: &TokenClient<'_>) -> Result<AuthHeaders, HttpError> {
        self.cache.authorize(|_refresh| self.fetch(tokens)).await
    }
    async fn invalidate(&self, generation: u64) -> bool {
        self.cache.invalidate(generation).await
    }
    fn secrets(&self) -> Vec<Redacted<String>> {
        let mut s = vec![self.client.1.clone()];
        s.extend(self.cache.secrets());
        s
    }
}
