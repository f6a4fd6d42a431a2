//! Keeping secrets out of everything the kit writes down: audit exchanges, log lines, errors.
//!
//! Headers are never recorded at all (the audit [`Exchange`] has no place for them), so
//! `Authorization` and api-key headers cannot leak that way. What remains is text that may *echo*
//! a secret: URLs, request bodies, server answers that quote the form they were sent, transport
//! errors. All of it passes through a [`Scrubber`] built from the auth's secret values, in the raw
//! spelling and the URL-encoded and JSON-escaped ones a server is likely to echo.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use mlc_core::engine::model::{BodyRef, Exchange};
use mlc_core::secret::{Redacted, scrub};
use url::Url;

/// Largest body kept inline in the audit trail. Bigger ones are cut, saying so.
pub(crate) const AUDIT_BODY_CAP: usize = 256 * 1024;

/// Length of the server snippet quoted in error messages.
const SNIPPET_CHARS: usize = 300;

/// Replaces known secret values in text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scrubber {
    needles: Vec<String>,
    longest: usize,
}

impl Scrubber {
    pub(crate) fn new(secrets: &[Redacted<String>]) -> Self {
        let mut needles: Vec<String> = Vec::new();
        for s in secrets {
            let raw = s.expose();
            let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
            let json = serde_json::to_string(raw).unwrap_or_default();
            let json = json.trim_matches('"').to_string();
            for n in [raw.clone(), form, json] {
                if !needles.contains(&n) {
                    needles.push(n);
                }
            }
        }
        // Longest first, so a secret containing another is replaced whole.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let longest = needles.first().map_or(0, String::len);
        Scrubber { needles, longest }
    }

    pub(crate) fn text(&self, text: &str) -> String {
        scrub(text, self.needles.iter().map(String::as_str))
    }

    /// A body for the audit trail: lossy UTF-8, scrubbed, cut at [`AUDIT_BODY_CAP`].
    pub(crate) fn audit_body(&self, body: &[u8]) -> BodyRef {
        // Scrub a little past the cap so a secret straddling the cut is still caught whole.
        let window = &body[..body.len().min(AUDIT_BODY_CAP + self.longest)];
        let mut text = self.text(&String::from_utf8_lossy(window));
        if body.len() > AUDIT_BODY_CAP {
            let cut = floor_char_boundary(&text, AUDIT_BODY_CAP);
            text.truncate(cut);
            text.push_str(&format!("\n[truncated: {} bytes in all, first {} kept]", body.len(), AUDIT_BODY_CAP));
        }
        BodyRef::Inline { text }
    }

    /// A one-line, short, scrubbed quote of a body for error messages.
    pub(crate) fn snippet(&self, body: &[u8]) -> String {
        if body.iter().all(u8::is_ascii_whitespace) {
            return "(empty body)".to_string();
        }
        let window = &body[..body.len().min(SNIPPET_CHARS * 4 + self.longest)];
        let one_line = String::from_utf8_lossy(window).split_whitespace().collect::<Vec<_>>().join(" ");
        let clean = self.text(&one_line);
        match clean.char_indices().nth(SNIPPET_CHARS) {
            Some((cut, _)) => format!("{}…", &clean[..cut]),
            None => clean,
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The URL as recorded: no user info, no fragment, secrets scrubbed.
pub(crate) fn audit_url(url: &Url, scrubber: &Scrubber) -> String {
    let mut u = url.clone();
    // Both only fail for URLs that cannot have credentials (no host), which then have none to hide.
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_fragment(None);
    scrubber.text(u.as_str())
}

/// The URL as named in errors and logs: path and query only (the system name says which host).
pub(crate) fn short_url(url: &Url, scrubber: &Scrubber) -> String {
    let shown = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    scrubber.text(&shown)
}

/// What the kit tells [`mlc_core::engine::capture::record`] about one attempt.
pub(crate) struct Attempt<'a> {
    pub at: DateTime<Utc>,
    pub system: &'a str,
    pub method: &'a str,
    pub url: String,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub request: Option<BodyRef>,
    pub response: Option<&'a Bytes>,
    pub error: Option<String>,
}

impl Attempt<'_> {
    pub(crate) fn record(self, scrubber: &Scrubber) {
        mlc_core::engine::capture::record(Exchange {
            at: self.at,
            system: self.system.to_string(),
            method: self.method.to_string(),
            url: self.url,
            status: self.status,
            duration_ms: self.duration_ms,
            request: self.request,
            response: self.response.map(|b| scrubber.audit_body(b)),
            error: self.error.map(|e| scrubber.text(&e)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubber() -> Scrubber {
        Scrubber::new(&[Redacted::new("p@ss w\"rd!".to_string()), Redacted::new("tok-123456".to_string())])
    }

    #[test]
    fn scrubs_raw_form_and_json_spellings() {
        let s = scrubber();
        assert_eq!(s.text("a p@ss w\"rd! b"), "a [redacted] b");
        assert_eq!(s.text("password=p%40ss+w%22rd%21&x=1"), "password=[redacted]&x=1");
        assert_eq!(s.text(r#"{"password":"p@ss w\"rd!"}"#), r#"{"password":"[redacted]"}"#);
        assert_eq!(s.text("Bearer tok-123456"), "Bearer [redacted]");
    }

    #[test]
    fn audit_body_is_capped_and_says_so() {
        let s = scrubber();
        let mut big = vec![b'x'; AUDIT_BODY_CAP + 10];
        big.extend_from_slice(b"tok-123456");
        let BodyRef::Inline { text } = s.audit_body(&big) else { panic!() };
        assert!(text.len() < AUDIT_BODY_CAP + 200);
        assert!(text.contains("[truncated: 262164 bytes in all"), "{}", &text[text.len() - 80..]);
        // A secret straddling the cap is removed, not half-kept.
        let mut edge = vec![b'x'; AUDIT_BODY_CAP - 4];
        edge.extend_from_slice(b"tok-123456 tail");
        let BodyRef::Inline { text } = s.audit_body(&edge) else { panic!() };
        assert!(!text.contains("tok-"), "{}", &text[text.len() - 80..]);
    }

    #[test]
    fn snippet_is_one_short_scrubbed_line() {
        let s = scrubber();
        assert_eq!(s.snippet(b"  \n "), "(empty body)");
        assert_eq!(s.snippet(b"bad\n\n  password p@ss w\"rd!"), "bad password [redacted]");
        let long = "y".repeat(1000);
        assert_eq!(s.snippet(long.as_bytes()).chars().count(), SNIPPET_CHARS + 1);
    }

    #[test]
    fn urls_lose_credentials() {
        let s = scrubber();
        let u = Url::parse("https://user:pw@host/a/b?key=tok-123456&page=2#frag").unwrap();
        assert_eq!(audit_url(&u, &s), "https://host/a/b?key=[redacted]&page=2");
        assert_eq!(short_url(&u, &s), "/a/b?key=[redacted]&page=2");
    }
}
