//! HMAC-SHA256 signatures with a timestamp: ml-connector's own scheme, used for Coupa.
//!
//! Coupa has no signed outbound webhooks (research/coupa.md §9): the customer's Coupa admin sets up
//! a Process Automator call-out (or a relay in front of it) that signs each request the way this
//! module checks. `infra/README.md` documents it for that admin, with a worked example.
//!
//! ```text
//! X-MLC-Signature: t=1793610000,v1=5f0c…e1a2[,v1=…]
//! ```
//!
//! - `t` is the sender's clock in Unix seconds; the request is refused when it differs from ours
//!   by more than the tolerance (300 s by default), so a captured request cannot be replayed later.
//! - each `v1` is the lowercase hex HMAC-SHA256, keyed with a shared secret, of the bytes
//!   `"<t>.<raw body>"` (the decimal timestamp, a full stop, then the body exactly as sent).
//! - during a rotation the sender may send one `v1` per secret, and the receiver keeps the old and
//!   the new secret (`webhook_secret` and `webhook_secret_previous`): a match of any pair passes.
//!   Unknown versions (`v0=`, `v2=`) are ignored, so the scheme can evolve.
//! - the timestamp is part of the signed bytes, so moving it invalidates the signature.

use hmac::{Hmac, KeyInit, Mac};
use mlc_core::engine::intake::{IntakeError, WebhookRequest};
use mlc_core::secret::{Credentials, MissingCredential, Redacted};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{Verify, current_and_previous, unauthorized};

/// Default header name (API Gateway hands header names over lower-cased).
pub const DEFAULT_HEADER: &str = "x-mlc-signature";
/// Default clock tolerance, seconds.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Verifier for `t=<unix>,v1=<hex>` signatures.
#[derive(Clone)]
pub struct SignedTimestamp {
    header: String,
    secrets: Vec<Redacted<String>>,
    tolerance_secs: i64,
}

impl SignedTimestamp {
    /// `secrets`: every secret currently valid (normally one; two during a rotation).
    pub fn new(secrets: Vec<Redacted<String>>) -> Self {
        SignedTimestamp { header: DEFAULT_HEADER.into(), secrets, tolerance_secs: DEFAULT_TOLERANCE_SECS }
    }

    /// From a connection's credentials: `webhook_secret`, plus `webhook_secret_previous` while a
    /// rotation is under way.
    pub fn from_credentials(connection: &str, creds: &Credentials) -> Result<Self, MissingCredential> {
        Ok(Self::new(current_and_previous(connection, creds, "webhook_secret")?))
    }

    pub fn with_header(mut self, name: &str) -> Self {
        self.header = name.to_ascii_lowercase();
        self
    }

    pub fn with_tolerance_secs(mut self, secs: i64) -> Self {
        self.tolerance_secs = secs.max(0);
        self
    }
}

/// The lowercase hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    to_hex(&mac(secret, timestamp, body))
}

/// A complete header value for Unix time `t`, signed with each of `secrets` (what a sender puts in `X-MLC-Signature`).
pub fn header_value(secrets: &[&[u8]], t: i64, body: &[u8]) -> String {
    let mut v = format!("t={t}");
    for s in secrets {
        v.push_str(",v1=");
        v.push_str(&sign(s, t, body));
    }
    v
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail; an empty MAC never matches anything.
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(secret) else {
        return Vec::new();
    };
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes().chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// The parts of a signature header.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    t: i64,
    v1: Vec<Vec<u8>>,
}

fn parse(value: &str) -> Result<Parsed, &'static str> {
    let mut t = None;
    let mut v1 = Vec::new();
    for part in value.split(',') {
        let Some((k, v)) = part.trim().split_once('=') else {
            return Err("signature header has a part without '='");
        };
        match k.trim() {
            "t" => {
                if t.is_some() {
                    // Two timestamps: two headers joined by the gateway, or a forgery attempt.
                    return Err("signature header has more than one t=");
                }
                let v = v.trim();
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || v.len() > 12 {
                    return Err("signature header t= is not Unix seconds");
                }
                t = Some(v.parse::<i64>().map_err(|_| "signature header t= is not Unix seconds")?);
            }
            "v1" => match from_hex(v.trim()) {
                Some(b) if b.len() == 32 => v1.push(b),
                _ => return Err("signature header v1= is not 64 hex digits"),
            },
            _ => {} // other versions: ignored
        }
    }
    let t = t.ok_or("signature header has no t=")?;
    if v1.is_empty() {
        return Err("signature header has no v1=");
    }
    Ok(Parsed { t, v1 })
}

impl Verify for SignedTimestamp {
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), IntakeError> {
        let scheme = format!("{} signature", req.connection);
        let value = req.header(&self.header).ok_or_else(|| unauthorized(&scheme, "signature header missing"))?;
        let p = parse(value).map_err(|why| unauthorized(&scheme, why))?;
        let skew = (req.received_at.timestamp() - p.t).abs();
        if skew > self.tolerance_secs {
            return Err(unauthorized(
                &scheme,
                &format!("timestamp {} is {skew} s from now, over the {} s tolerance", p.t, self.tolerance_secs),
            ));
        }
        let mut ok = subtle::Choice::from(0u8);
        for secret in &self.secrets {
            let expected = mac(secret.expose().as_bytes(), p.t, req.body);
            for got in &p.v1 {
                ok |= expected.ct_eq(got);
            }
        }
        if bool::from(ok) { Ok(()) } else { Err(unauthorized(&scheme, "no v1 signature matches")) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{h, req};
    use mlc_core::testkit::t0;

    fn verifier() -> SignedTimestamp {
        SignedTimestamp::new(vec![Redacted::new("new-secret".to_string()), Redacted::new("old-secret".to_string())])
    }

    /// The worked example in infra/README.md: keep the two in step.
    #[test]
    fn worked_example_from_the_admin_guide() {
        let body = br#"{"event":"invoice.approved","resource":"invoices","resource-id":123}"#;
        let sig = sign(b"whsec_example_0123456789", 1_793_610_000, body);
        assert_eq!(sig, "20d23eed8a2d174d8cbf972a05fa31fcf5e9a25ec46966b4bf33ea2eac50ec91");
    }

    #[test]
    fn good_signature_passes_and_anything_changed_fails() {
        let body = br#"{"id":"d1"}"#;
        let hv = header_value(&[b"new-secret"], t0().timestamp(), body);
        let headers = h("x-mlc-signature", &hv);
        verifier().verify(&req(&headers, body)).unwrap();
        // body changed
        assert_eq!(verifier().verify(&req(&headers, br#"{"id":"d2"}"#)).unwrap_err().status(), 401);
        // timestamp moved (signature no longer covers it)
        let moved = hv.replacen(&format!("t={}", t0().timestamp()), &format!("t={}", t0().timestamp() + 1), 1);
        let headers = h("x-mlc-signature", &moved);
        assert!(verifier().verify(&req(&headers, body)).is_err());
        // wrong secret
        let headers = h("x-mlc-signature", &header_value(&[b"guess"], t0().timestamp(), body));
        assert!(verifier().verify(&req(&headers, body)).is_err());
        // missing header
        assert!(verifier().verify(&req(&[], body)).is_err());
    }

    #[test]
    fn either_secret_passes_during_rotation_and_several_v1_are_accepted() {
        let body = b"{}";
        for secrets in [&[&b"old-secret"[..]][..], &[b"new-secret"], &[b"retired", b"new-secret"]] {
            let headers = h("x-mlc-signature", &header_value(secrets, t0().timestamp(), body));
            verifier().verify(&req(&headers, body)).unwrap();
        }
    }

    #[test]
    fn timestamps_outside_the_tolerance_fail_both_ways() {
        let body = b"{}";
        for offset in [-301, 301, -100_000] {
            let at = t0().timestamp() + offset;
            let headers = h("x-mlc-signature", &header_value(&[b"new-secret"], at, body));
            let e = verifier().verify(&req(&headers, body)).unwrap_err();
            assert!(e.to_string().contains("tolerance"), "{e}");
            assert_eq!(e.public_message(), "");
        }
        let at = t0().timestamp() - 299;
        let headers = h("x-mlc-signature", &header_value(&[b"new-secret"], at, body));
        verifier().verify(&req(&headers, body)).unwrap();
    }

    #[test]
    fn malformed_headers_are_refused() {
        let good = sign(b"new-secret", t0().timestamp(), b"{}");
        let t = t0().timestamp();
        for bad in [
            format!("v1={good}"),
            format!("t={t}"),
            format!("t={t},v1=zz"),
            format!("t={t},v1={}", &good[..62]),
            format!("t=-{t},v1={good}"),
            format!("t={t},t={t},v1={good}"),
            format!("t={t};v1={good}"),
            String::new(),
        ] {
            let headers = h("x-mlc-signature", &bad);
            assert!(verifier().verify(&req(&headers, b"{}")).is_err(), "{bad:?} must be refused");
        }
        // Unknown versions are ignored, upper-case hex is accepted.
        let headers = h("x-mlc-signature", &format!("t={t}, v0=abc, v1={}", good.to_uppercase()));
        verifier().verify(&req(&headers, b"{}")).unwrap();
    }

    #[test]
    fn credentials_give_one_or_two_secrets() {
        let c = Credentials::new().with("webhook_secret", "new-secret");
        let v = SignedTimestamp::from_credentials("coupa", &c).unwrap();
        let body = b"{}";
        let old = h("x-mlc-signature", &header_value(&[b"old-secret"], t0().timestamp(), body));
        assert!(v.verify(&req(&old, body)).is_err());
        let v = SignedTimestamp::from_credentials("coupa", &c.with("webhook_secret_previous", "old-secret")).unwrap();
        v.verify(&req(&old, body)).unwrap();
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(to_hex(&[0, 15, 16, 255]), "000f10ff");
        assert_eq!(from_hex("000f10FF"), Some(vec![0, 15, 16, 255]));
        assert_eq!(from_hex("0"), None);
    }
}
