//! Connector-kit pieces this connector needs before the shared kit has them. **These belong in
//! `mlc-http`'s connector kit** (being added there in parallel); they live in this one file so the
//! lead can move them and switch this connector over without touching anything else:
//!
//! - [`links`]: RFC 8288 `Link` header parsing (`rel="next"` etc.);
//! - [`RateGate`]: a header-driven limiter for `X-Rate-Limit-Limit/-Remaining/-Reset`
//!   budgets (Procore; the kit's planned "header-driven X-Rate-Limit-*" limiter);
//! - [`reset_wait`]: how long until `X-Rate-Limit-Reset`, read against the server's `Date`;
//! - [`de`]: tolerant serde helpers (money and quantities as strings or numbers, ids as numbers
//!   or strings, blank strings as absent, dates and times with or without zones).

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use tokio::time::Instant;

/// `(rel, url)` pairs of a `Link` header: `<https://…?page=2>; rel="next", <…>; rel="last"`.
pub fn links(header: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in split_links(header) {
        let part = part.trim();
        let Some(end) = part.find('>') else { continue };
        let Some(url) = part.get(1..end).filter(|_| part.starts_with('<')) else { continue };
        for param in part[end + 1..].split(';') {
            let param = param.trim();
            if let Some(v) = param.strip_prefix("rel=") {
                for rel in v.trim_matches('"').split_whitespace() {
                    out.push((rel.to_ascii_lowercase(), url.to_string()));
                }
            }
        }
    }
    out
}

/// Split on the commas between links, not those inside `<…>`.
fn split_links(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in header.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth <= 0 => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

/// The URL of one relation in a `Link` header.
pub fn link(headers: &HeaderMap, rel: &str) -> Option<String> {
    let h = headers.get(http::header::LINK)?.to_str().ok()?;
    links(h).into_iter().find(|(r, _)| r == rel).map(|(_, u)| u)
}

fn header_i64(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Time until `X-Rate-Limit-Reset` (Unix seconds), measured against the answer's `Date` header
/// when our clock disagrees with it by more than two seconds (so a server whose clock differs
/// from ours is still read right), else against our own clock (`Date` has whole seconds only;
/// ours keeps the fraction, so short windows are not overestimated by a second). `None` without
/// a reset header.
pub fn reset_wait(headers: &HeaderMap) -> Option<Duration> {
    let reset = header_i64(headers, "x-rate-limit-reset")?;
    let local = SystemTime::now();
    let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    let server = headers
        .get(http::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .map(secs);
    let now_secs = match server {
        Some(s) if (s - secs(local)).abs() > 2.0 => s,
        _ => secs(local),
    };
    let left = reset as f64 - now_secs;
    Some(if left > 0.0 { Duration::from_secs_f64(left) } else { Duration::ZERO })
}

/// What the last answer said about the budget.
#[derive(Debug, Default)]
struct Budget {
    limit: Option<i64>,
    remaining: Option<i64>,
    /// The window's reset as the server stated it (to tell a new window from the same one).
    reset_epoch: Option<i64>,
    reset_at: Option<Instant>,
}

/// A header-driven limiter: every answer's `X-Rate-Limit-*` headers tell how many calls are left
/// in the window the server is closest to exhausting and when it resets; a call that would go
/// below `reserve` waits for the reset instead of earning a 429. Calls in flight are counted
/// down locally, so concurrent callers do not all spend the same last call.
#[derive(Debug)]
pub struct RateGate {
    reserve: i64,
    state: Mutex<Budget>,
}

/// The gate refused to wait this long (longer than the caller's limit): come back later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitTooLong(pub Duration);

impl RateGate {
    /// Keep `reserve` calls of every window unspent (for other integrations of the same app).
    pub fn new(reserve: u32) -> Self {
        RateGate { reserve: i64::from(reserve), state: Mutex::new(Budget::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Budget> {
        // Plain numbers: a poisoned lock still holds usable ones.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Read an answer's budget headers.
    pub fn observe(&self, headers: &HeaderMap) {
        let (Some(limit), Some(remaining)) =
            (header_i64(headers, "x-rate-limit-limit"), header_i64(headers, "x-rate-limit-remaining"))
        else {
            return;
        };
        let reset_epoch = header_i64(headers, "x-rate-limit-reset");
        let reset_at = reset_wait(headers).map(|w| Instant::now() + w);
        let mut b = self.lock();
        let same_window = reset_epoch.is_some() && b.reset_epoch == reset_epoch && b.limit == Some(limit);
        b.remaining = Some(match (same_window, b.remaining) {
            // Answers arrive out of order: within one window the lowest count is the truest.
            (true, Some(r)) => r.min(remaining),
            _ => remaining,
        });
        b.limit = Some(limit);
        b.reset_epoch = reset_epoch;
        b.reset_at = reset_at;
    }

    /// Wait until a call may go (at most `max_wait`), then count it.
    pub async fn acquire(&self, max_wait: Duration) -> Result<(), WaitTooLong> {
        loop {
            let wait = {
                let mut b = self.lock();
                let now = Instant::now();
                if let Some(at) = b.reset_at
                    && now >= at
                {
                    // The window turned over: a fresh budget until the next answer says otherwise.
                    b.remaining = b.limit;
                    b.reset_at = None;
                    b.reset_epoch = None;
                }
                match (b.remaining, b.reset_at) {
                    (Some(r), Some(at)) if r <= self.reserve => Some(at.saturating_duration_since(now)),
                    (Some(r), _) => {
                        b.remaining = Some(r - 1);
                        None
                    }
                    _ => None,
                }
            };
            match wait {
                None => return Ok(()),
                Some(w) if w > max_wait => return Err(WaitTooLong(w)),
                Some(w) => tokio::time::sleep(w.max(Duration::from_millis(1))).await,
            }
        }
    }

    /// Calls the gate believes are left, for reports and tests.
    pub fn remaining(&self) -> Option<i64> {
        self.lock().remaining
    }
}

/// Tolerant deserializers (`#[serde(deserialize_with = "de::…", default)]`).
pub mod de {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    use rust_decimal::Decimal;
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn text(v: &Value) -> Option<String> {
        match v {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A decimal from `"55000.00"`, `"1142000.0"`, `55000`, `12.5`, `"96.36%"`; blank or null → 0.
    pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        Ok(opt_decimal(d)?.unwrap_or_default())
    }

    /// Like [`decimal`], null or blank → `None`.
    pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        let v = Value::deserialize(d)?;
        let Some(t) = text(&v) else { return Ok(None) };
        let t = t.trim_end_matches('%').replace(',', "");
        t.parse::<Decimal>()
            .or_else(|_| Decimal::from_scientific(&t))
            .map(Some)
            .map_err(|_| D::Error::custom(format!("'{t}' is not a number")))
    }

    /// An id from a number or a numeric string (v2/v4 payloads send strings).
    pub fn id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        opt_id(d)?.ok_or_else(|| D::Error::custom("an id is missing"))
    }

    /// Like [`id`], null or blank → `None`.
    pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let v = Value::deserialize(d)?;
        match &v {
            Value::Null => Ok(None),
            Value::Number(n) => {
                n.as_i64().map(Some).ok_or_else(|| D::Error::custom(format!("id {n} is not a 64-bit integer")))
            }
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => {
                s.trim().parse().map(Some).map_err(|_| D::Error::custom(format!("id '{s}' is not an integer")))
            }
            other => Err(D::Error::custom(format!("expected an id, got {other}"))),
        }
    }

    /// Text from a string, number or boolean; blank or null → `None`.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(text(&Value::deserialize(d)?))
    }

    /// A date `YYYY-MM-DD`, also taken from the front of a timestamp; blank or null → `None`.
    pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        let Some(t) = text(&Value::deserialize(d)?) else { return Ok(None) };
        parse_date(&t).map(Some).ok_or_else(|| D::Error::custom(format!("'{t}' is not a date")))
    }

    /// A timestamp: RFC 3339 (`…Z`, offsets, fractions), or without a zone (read as UTC).
    pub fn opt_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let Some(t) = text(&Value::deserialize(d)?) else { return Ok(None) };
        parse_datetime(&t).map(Some).ok_or_else(|| D::Error::custom(format!("'{t}' is not a timestamp")))
    }

    /// A boolean from `true`, `"true"`, `"Y"`, `1`; null → false.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Bool(b) => b,
            Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
            Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "y" | "yes" | "1"),
            _ => false,
        })
    }

    pub fn parse_date(t: &str) -> Option<NaiveDate> {
        let head = t.get(..10).unwrap_or(t);
        NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
    }

    pub fn parse_datetime(t: &str) -> Option<DateTime<Utc>> {
        if let Ok(x) = DateTime::parse_from_rfc3339(t) {
            return Some(x.with_timezone(&Utc));
        }
        for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
            if let Ok(x) = NaiveDateTime::parse_from_str(t.trim_end_matches('Z'), f) {
                return Some(x.and_utc());
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn link_headers() {
        let l = links("<https://x/a?page=1&per_page=2>; rel=\"first\", <https://x/a?page=3,4>; rel=\"next\"");
        assert_eq!(
            l,
            [
                ("first".to_string(), "https://x/a?page=1&per_page=2".to_string()),
                ("next".into(), "https://x/a?page=3,4".into())
            ]
        );
        assert!(links("garbage").is_empty());
        let h = headers(&[("link", "<u>; rel=\"last\"".into())]);
        assert_eq!(link(&h, "last").as_deref(), Some("u"));
        assert_eq!(link(&h, "next"), None);
    }

    #[test]
    fn reset_is_read_against_the_servers_date() {
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let h = headers(&[("x-rate-limit-reset", "1700000007".into()), ("date", httpdate::fmt_http_date(date))]);
        assert_eq!(reset_wait(&h), Some(Duration::from_secs(7)));
        let past = headers(&[("x-rate-limit-reset", "1".into())]);
        assert_eq!(reset_wait(&past), Some(Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn the_gate_counts_down_then_waits_for_the_reset() {
        let g = RateGate::new(1);
        g.acquire(Duration::from_secs(1)).await.unwrap();
        let date = SystemTime::now();
        let reset = date.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() + 5;
        g.observe(&headers(&[
            ("x-rate-limit-limit", "25".into()),
            ("x-rate-limit-remaining", "3".into()),
            ("x-rate-limit-reset", reset.to_string()),
            ("date", httpdate::fmt_http_date(date)),
        ]));
        g.acquire(Duration::from_secs(60)).await.unwrap();
        g.acquire(Duration::from_secs(60)).await.unwrap();
        assert_eq!(g.remaining(), Some(1));
        assert!(matches!(g.acquire(Duration::from_secs(1)).await, Err(WaitTooLong(w)) if w > Duration::from_secs(3)));
        let t0 = Instant::now();
        g.acquire(Duration::from_secs(60)).await.unwrap();
        assert!(t0.elapsed() >= Duration::from_secs(4), "waited for the reset");
        assert_eq!(g.remaining(), Some(24));
    }

    #[test]
    fn tolerant_values() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            #[serde(deserialize_with = "de::decimal", default)]
            a: rust_decimal::Decimal,
            #[serde(deserialize_with = "de::opt_decimal", default)]
            b: Option<rust_decimal::Decimal>,
            #[serde(deserialize_with = "de::opt_id", default)]
            i: Option<i64>,
            #[serde(deserialize_with = "de::opt_date", default)]
            d: Option<chrono::NaiveDate>,
            #[serde(deserialize_with = "de::opt_datetime", default)]
            t: Option<chrono::DateTime<chrono::Utc>>,
            #[serde(deserialize_with = "de::opt_string", default)]
            s: Option<String>,
        }
        let v: T =
            serde_json::from_value(serde_json::json!({"a": "1142000.0", "b": "96.36%", "i": "5982324300946918154",
            "d": "2025-06-01T00:00:00Z", "t": "2025-06-01T10:00:00Z", "s": " "}))
            .unwrap();
        assert_eq!((v.a.to_string(), v.b.map(|b| b.to_string())), ("1142000.0".into(), Some("96.36".into())));
        assert_eq!(v.i, Some(5_982_324_300_946_918_154));
        assert_eq!(v.d.map(|d| d.to_string()).as_deref(), Some("2025-06-01"));
        assert!(v.t.is_some() && v.s.is_none());
        let v: T =
            serde_json::from_value(serde_json::json!({"a": 12.5, "b": null, "t": "2025-06-01T10:00:00.123"})).unwrap();
        assert_eq!((v.a.to_string(), v.b), ("12.5".into(), None));
        assert!(serde_json::from_value::<T>(serde_json::json!({"a": "lots"})).is_err());
    }
}
