//! Signing in to Cleo: the password grant, refresh, and what a refusal means.
//!
//! `POST {base}/api/authentication` with the form `grant_type=password&username=…&password=…`
//! and no Authorization header; the answer's `access_token` goes out as a bearer on every later
//! call **[C]**. Whether the answer carries `expires_in` or a `refresh_token` is not documented
//! **[U]**, so the HTTP kit's [`PasswordGrant`] is set up to cope with every variant: it uses
//! `expires_in` when given (refreshing 60 s early), otherwise assumes the configured lifetime
//! (`token_lifetime_secs`, 20 min by default); on a 401 it refreshes once with
//! `grant_type=refresh_token` when a refresh token was issued, falls back to a full password
//! login when the refresh is refused or there is none, and replays the call once; a second 401
//! is a credentials error. A refused password grant is never retried in a loop, because
//! VersaLex user groups lock accounts after a few failures.
//!
//! Refusals come as `{"message": …}` with 400, 401 or 403 (the status is not documented);
//! [`explain`] reads the sentence: a TOTP-2FA account becomes [`CleoError::TwoFactor`] ("use a
//! service account without 2FA"), and locked accounts, expired passwords and wrong passwords get
//! their own fix.

use mlc_http::{HttpError, PasswordGrant};

use crate::errors::CleoError;
use crate::settings::{CleoCredentials, CleoSettings};

/// The auth strategy for one connection.
pub fn password_grant(settings: &CleoSettings, creds: &CleoCredentials) -> PasswordGrant {
    PasswordGrant::new(settings.token_url(), creds.username.clone(), creds.password.clone())
        .assumed_lifetime(settings.token_lifetime)
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginProblem {
    TwoFactor,
    Locked,
    PasswordExpired,
    BadCredentials,
    Other,
}

/// Read a refusal's text (the kit's message quotes Cleo's `message`).
pub fn explain(text: &str) -> LoginProblem {
    let t = text.to_ascii_lowercase();
    if ["two-factor", "two factor", "2fa", "totp", "verification code", "one-time"].iter().any(|k| t.contains(k)) {
        LoginProblem::TwoFactor
    } else if t.contains("locked") || t.contains("lockout") {
        LoginProblem::Locked
    } else if t.contains("expired") && t.contains("password") {
        LoginProblem::PasswordExpired
    } else if t.contains("invalid username") || t.contains("password") || t.contains("credential") {
        LoginProblem::BadCredentials
    } else {
        LoginProblem::Other
    }
}

/// A kit auth error as a Cleo error with its cause and fix.
pub fn auth_error(connection: &str, username: &str, e: HttpError) -> CleoError {
    let HttpError::Auth { message, .. } = &e else { return CleoError::Http(e) };
    let server = crate::errors::server_message(message);
    let fix = |f: &str| Some(f.to_string());
    match explain(message) {
        LoginProblem::TwoFactor => {
            CleoError::TwoFactor { connection: connection.into(), username: username.into(), server }
        }
        LoginProblem::Locked => CleoError::Auth {
            message: message.clone(),
            fix: fix("the account is locked after failed sign-ins: wait for the lock to lapse or have a Cleo \
                      administrator unlock it, then check the stored password (`mlc credentials set`)"),
        },
        LoginProblem::PasswordExpired => CleoError::Auth {
            message: message.clone(),
            fix: fix("the account's password has expired: change it in the Cleo Portal, store the new one with \
                      `mlc credentials set`, and ask the administrator to turn off expiry for this service account"),
        },
        LoginProblem::BadCredentials => CleoError::Auth {
            message: message.clone(),
            fix: fix("check the username and password stored with `mlc credentials set` (a new Partner Mailbox \
                      account must reset its password once in the Cleo Portal before the API accepts it)"),
        },
        LoginProblem::Other => CleoError::Auth {
            message: message.clone(),
            fix: fix(
                "check base_url (the tenant root, e.g. https://<tenant>.cleointegration.com) and the stored credentials",
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_told_apart() {
        assert_eq!(
            explain("Two-factor authentication is enabled: a TOTP verification code is required"),
            LoginProblem::TwoFactor
        );
        assert_eq!(explain("2FA required"), LoginProblem::TwoFactor);
        assert_eq!(explain("User account is locked due to too many failed login attempts"), LoginProblem::Locked);
        assert_eq!(explain("Password has expired and must be changed"), LoginProblem::PasswordExpired);
        assert_eq!(explain("Invalid username or password"), LoginProblem::BadCredentials);
        assert_eq!(explain("an HTML page, not a token"), LoginProblem::Other);
    }
}
