//! HTTP Basic credentials: Deltek Vantagepoint workflow webhooks.
//!
//! A Vantagepoint workflow "webhook" action calls a URL with the Basic credentials configured on
//! it (research/deltek.md). We check both the user name and the password, in constant time and
//! without stopping at the first mismatch, against one or two configured pairs (rotation).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mlc_core::engine::intake::{IntakeError, WebhookRequest};
use mlc_core::secret::{Credentials, MissingCredential, Redacted};

use crate::{Verify, unauthorized};

/// One accepted user name and password.
#[derive(Clone)]
pub struct BasicPair {
    pub username: Redacted<String>,
    pub password: Redacted<String>,
}

/// Verifier: `Authorization: Basic base64(user:password)` with one of the pairs.
#[derive(Clone)]
pub struct BasicAuth {
    pairs: Vec<BasicPair>,
}

impl BasicAuth {
    pub fn new(pairs: Vec<BasicPair>) -> Self {
        BasicAuth { pairs }
    }

    /// From credentials: `webhook_username` + `webhook_password`, and while a rotation is under
    /// way `webhook_password_previous` (same user name).
    pub fn from_credentials(connection: &str, creds: &Credentials) -> Result<Self, MissingCredential> {
        let username = creds.require(connection, "webhook_username")?.clone();
        let mut pairs = vec![BasicPair {
            username: username.clone(),
            password: creds.require(connection, "webhook_password")?.clone(),
        }];
        if let Some(prev) = creds.get("webhook_password_previous")
            && !prev.expose().is_empty()
        {
            pairs.push(BasicPair { username, password: prev.clone() });
        }
        Ok(Self::new(pairs))
    }
}

impl Verify for BasicAuth {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
        let scheme = format!("{} basic auth", req.connection);
        let value = req.header("authorization").ok_or_else(|| unauthorized(&scheme, "Authorization header missing"))?;
        let (kind, b64) = value.trim().split_once(' ').ok_or_else(|| unauthorized(&scheme, "not Basic credentials"))?;
        if !kind.eq_ignore_ascii_case("basic") {
            return Err(unauthorized(&scheme, "not Basic credentials"));
        }
        let decoded = STANDARD.decode(b64.trim()).map_err(|_| unauthorized(&scheme, "credentials are not base64"))?;
        // The user name ends at the first colon (RFC 7617); the password may contain colons.
        let split = decoded.iter().position(|b| *b == b':').ok_or_else(|| unauthorized(&scheme, "no colon"))?;
        let (user, pass) = (&decoded[..split], &decoded[split + 1..]);
        let mut ok = subtle::Choice::from(0u8);
        for p in &self.pairs {
            let u = mlc_core::engine::intake::constant_time_eq(user, p.username.expose().as_bytes());
            let w = mlc_core::engine::intake::constant_time_eq(pass, p.password.expose().as_bytes());
            ok |= subtle::Choice::from(u8::from(u)) & subtle::Choice::from(u8::from(w));
        }
        if bool::from(ok) { Ok(()) } else { Err(unauthorized(&scheme, "user name or password does not match")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{h, req};

    fn basic(user: &str, pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")))
    }

    #[test]
    fn user_and_password_must_both_match() {
        let c = Credentials::new()
            .with("webhook_username", "vp-hook")
            .with("webhook_password", "pa:ss")
            .with("webhook_password_previous", "old");
        let v = BasicAuth::from_credentials("deltek", &c).unwrap();
        v.verify(&req(&h("authorization", &basic("vp-hook", "pa:ss")), b"")).unwrap();
        v.verify(&req(&h("authorization", &basic("vp-hook", "old")), b"")).unwrap();
        v.verify(&req(&h("authorization", &basic("vp-hook", "pa:ss").replace("Basic", "basic")), b"")).unwrap();
        for bad in [
            basic("vp-hook", "pa:sS"),
            basic("vp-hooK", "pa:ss"),
            basic("vp-hook", ""),
            "Bearer abc".to_string(),
            "Basic !!!".to_string(),
            format!("Basic {}", STANDARD.encode("no-colon")),
            "Basic".to_string(),
        ] {
            assert_eq!(v.verify(&req(&h("authorization", &bad), b"")).unwrap_err().status(), 401, "{bad:?}");
        }
        assert!(BasicAuth::from_credentials("deltek", &Credentials::new()).is_err());
    }
}
