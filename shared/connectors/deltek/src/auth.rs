//! Signing in to Vantagepoint: OAuth2 password grant, refresh, and what a refusal means.
//!
//! `POST {base}/token` with a form in Deltek's spelling: `Username`, `Password`,
//! `grant_type=password`, `Integrated=N`, `database`, `Client_Id`, `client_secret` and, when the
//! tenant needs it, `culture`. The answer carries a ~30 minute access token and a refresh token.
//! The HTTP kit's [`PasswordGrant`] does the rest: it refreshes 60 s before expiry and once on a
//! 401 (one refresh in flight for all workers), keeps a rotated refresh token, and falls back to a
//! full password login when a refresh is refused (the refresh token's lifetime and rotation are
//! not documented). A 401 right after fresh credentials is a credentials error, not a retry loop.
//!
//! Every token refusal is OAuth-shaped, and most are the same `invalid_grant` with different
//! sentences; [`explain_token_error`] turns the sentence into the cause and the fix a person needs.

use mlc_http::{FieldNames, PasswordGrant};

use crate::settings::{DeltekCredentials, DeltekSettings};

/// The auth strategy for one connection.
pub fn password_grant(settings: &DeltekSettings, creds: &DeltekCredentials) -> PasswordGrant {
    let mut grant = PasswordGrant::new(settings.token_url(), creds.username.clone(), creds.password.clone())
        .field_names(FieldNames::new("Username", "Password", "Client_Id", "client_secret"))
        .client(creds.client_id.clone(), creds.client_secret.clone())
        .extra("database", settings.database.clone())
        .login_extra("Integrated", "N");
    if let Some(c) = &settings.culture {
        grant = grant.login_extra("culture", c.clone());
    }
    grant
}

/// What a token refusal means and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDiagnosis {
    pub cause: String,
    pub fix: String,
}

/// Read a token-endpoint refusal (the kit's message, which quotes `error: error_description`).
pub fn explain_token_error(text: &str) -> Option<TokenDiagnosis> {
    let t = text.to_ascii_lowercase();
    let d = |cause: &str, fix: &str| Some(TokenDiagnosis { cause: cause.into(), fix: fix.into() });
    if t.contains("login has been disabled") {
        return d(
            "the API user's login is disabled in Vantagepoint",
            "enable the user (Settings » Security » Users) or store another API user with `mlc credentials set`",
        );
    }
    if t.contains("database") {
        return d(
            "Vantagepoint does not know the database name",
            "copy the Database Name shown on Utilities » Integrations » API Authorization into the connection's \
             `database` option (cloud names look like C000001234P_1_FIRM)",
        );
    }
    if t.contains("client id") || t.contains("client secret") || t.contains("invalid_client") {
        return d(
            "the client id or client secret does not match the API Authorization",
            "copy Client ID and Client Secret from Integrations » API Authorization (the secret is shown once; \
             generate a new one if it was lost) and store them with `mlc credentials set`",
        );
    }
    if t.contains("unauthorized_client") || t.contains("password grant") {
        return d(
            "the API Authorization does not allow the password grant",
            "tick \"Allow Password Grant Type\" on the API Authorization in Vantagepoint (Integrations » API Authorization)",
        );
    }
    if t.contains("unsupported_grant_type") {
        return d(
            "the endpoint does not accept the password grant",
            "check base_url (it must be the API root ending in /api) and tick \"Allow Password Grant Type\" on the API Authorization",
        );
    }
    if t.contains("culture") {
        return d(
            "the tenant requires a culture",
            "set the connection option culture = \"en-US\" (or the firm's language)",
        );
    }
    if t.contains("user name or password") || t.contains("password is incorrect") {
        return d(
            "the user name or password is wrong, or the user must change its password at next login",
            "check username and password with `mlc credentials set`; sign in once in the browser if Vantagepoint \
             forces a password change; the user must not need MFA or Windows (integrated) sign-in",
        );
    }
    if t.contains("invalid_grant") {
        return d(
            "Vantagepoint refused the password grant without saying why",
            "the usual causes are a wrong password, a disabled login, the password grant not allowed on the API \
             Authorization, or a wrong database name: check each with `mlc ping`",
        );
    }
    if t.contains("html") || t.contains("404") || t.contains("not found") {
        return d(
            "the token URL did not answer like Vantagepoint",
            "check base_url: https://{tenant}.deltekfirst.com/{Tenant}/api in the cloud, https://{host}/vantagepoint/api on premises",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_grant_sentences_are_explained() {
        let f = |t: &str| explain_token_error(t).map(|d| d.fix).unwrap_or_default();
        assert!(
            f("invalid_grant: Your login has been disabled.  Please contact your system administrator.")
                .contains("enable the user")
        );
        assert!(f("invalid_grant: The database specified is not valid.").contains("Database Name"));
        assert!(f("invalid_grant: The user name or password is incorrect.").contains("password"));
        assert!(
            f("unauthorized_client: The client is not authorized to use the password grant type.")
                .contains("Allow Password Grant Type")
        );
        assert!(f("invalid_grant: The client id or client secret is not valid.").contains("Client Secret"));
        assert!(f("token endpoint answered 400: invalid_grant").contains("usual causes"));
        assert!(explain_token_error("something else").is_none());
    }
}
