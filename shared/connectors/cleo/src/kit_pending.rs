//! Pieces that belong in the connector kit (`mlc-http`) and are kept here, in one file, until it
//! has them: the lead moves them when the kit lands (a per-path limiter, an offset paginator
//! that survives records added between pages, and tolerant decoding of numbers and timestamps).
//!
//! Nothing in here knows about Cleo.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;
use tokio::time::Instant;

/// A token bucket per API path (template), for systems that budget each path separately (Cleo:
/// about 5 requests per second per path). Callers reserve a slot under a short lock and sleep
/// outside it, in arrival order; a small random jitter (up to a tenth of the interval) keeps
/// workers that were released together from arriving at the server in the same instant.
#[derive(Debug)]
pub struct PathLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl PathLimiter {
    /// `None` when the rate cannot be kept (zero, negative, not finite) or the burst is 0.
    pub fn new(per_second: f64, burst: u32) -> Option<Self> {
        if !(per_second.is_finite() && per_second > 0.0) || burst == 0 {
            return None;
        }
        Some(PathLimiter { per_second, burst: f64::from(burst), buckets: Mutex::new(HashMap::new()) })
    }

    /// Wait for the next slot of `path`.
    pub async fn acquire(&self, path: &str) {
        let at = self.reserve(path, Instant::now());
        let jitter = Duration::from_secs_f64(rand::random_range(0.0..=0.1) / self.per_second);
        let at = if at > Instant::now() { at + jitter } else { at };
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    fn reserve(&self, path: &str, now: Instant) -> Instant {
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (tokens, last) = b.entry(path.to_string()).or_insert((self.burst, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * self.per_second).min(self.burst);
        *last = now;
        *tokens -= 1.0;
        if *tokens >= 0.0 { now } else { now + Duration::from_secs_f64(-*tokens / self.per_second) }
    }
}

/// One page of an offset-paged collection.
#[derive(Debug, Clone, PartialEq)]
pub struct OffsetPage<T> {
    /// What the server says the whole collection holds now.
    pub total: usize,
    pub items: Vec<T>,
}

/// How an offset walk went.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WalkReport {
    pub pages: usize,
    /// Walks from the start (more than one when the collection changed during a walk).
    pub passes: usize,
    /// Items seen twice (shifted onto a later page) and dropped.
    pub duplicates: usize,
    /// Later pages that held only items already seen while the total stood still: the server
    /// ignores the offset (it serves the first page again), so the walk stopped.
    pub repeated_pages: usize,
}

/// Walk an offset-paged collection (`startIndex`/`count`, `$skip`/`$top`): advance by the
/// number of items *received* (not asked), stop at the server's total or an empty page, drop
/// items seen before (by `key`), and when the total changed during the walk (items added or
/// removed between pages, which shifts offsets) walk again from the start, up to `max_passes`
/// times, so nothing that was there throughout is missed.
pub async fn walk_offsets<T, K, F, Fut, E>(
    page_size: usize,
    max_passes: usize,
    key: impl Fn(&T) -> K,
    mut fetch: F,
) -> Result<(Vec<T>, WalkReport), E>
where
    K: std::hash::Hash + Eq + Clone,
    F: FnMut(usize, usize) -> Fut,
    Fut: Future<Output = Result<OffsetPage<T>, E>>,
{
    let mut seen: HashSet<K> = HashSet::new();
    let mut out = Vec::new();
    let mut report = WalkReport::default();
    for _ in 0..max_passes.max(1) {
        report.passes += 1;
        let mut start = 0usize;
        let mut first_total = None;
        let mut last_total;
        // A server that ignores the offset would repeat page one forever.
        let mut guard = 0usize;
        let mut this_pass: HashSet<K> = HashSet::new();
        loop {
            let page = fetch(start, page_size.max(1)).await?;
            report.pages += 1;
            guard += 1;
            first_total.get_or_insert(page.total);
            last_total = page.total;
            let got = page.items.len();
            let mut new_this_pass = 0;
            for item in page.items {
                let k = key(&item);
                if this_pass.insert(k.clone()) {
                    new_this_pass += 1;
                }
                if seen.insert(k) {
                    out.push(item);
                } else {
                    report.duplicates += 1;
                }
            }
            if start > 0 && got > 0 && new_this_pass == 0 && first_total == Some(page.total) {
                report.repeated_pages += 1;
                break;
            }
            start += got;
            if got == 0 || start >= page.total || guard > page.total / page_size.max(1) + 2 * max_passes + 2 {
                break;
            }
        }
        if first_total == Some(last_total) || report.repeated_pages > 0 {
            break;
        }
    }
    Ok((out, report))
}

/// A count or size sent as a number, a numeric string, or a float with no fraction.
pub fn decode_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A timestamp sent as RFC 3339, as a zone-less ISO date-time (read as UTC), or as epoch
/// milliseconds (a number or numeric string).
pub fn decode_timestamp(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => n.as_i64().and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return None;
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return Some(t.with_timezone(&Utc));
            }
            for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                    return Some(Utc.from_utc_datetime(&t));
                }
            }
            s.parse::<i64>().ok().and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        }
        _ => None,
    }
}

/// Text of a scalar (ids sent as strings or numbers).
pub fn decode_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerant_numbers_and_times() {
        assert_eq!(decode_u64(&json!(12)), Some(12));
        assert_eq!(decode_u64(&json!("12")), Some(12));
        assert_eq!(decode_u64(&json!(12.0)), Some(12));
        assert_eq!(decode_u64(&json!(-1)), None);
        let t = Utc.with_ymd_and_hms(2025, 6, 16, 14, 30, 0).single().expect("t");
        for v in [
            json!("2025-06-16T14:30:00Z"),
            json!("2025-06-16T14:30:00"),
            json!("2025-06-16T16:30:00+02:00"),
            json!(t.timestamp_millis()),
            json!(t.timestamp_millis().to_string()),
        ] {
            assert_eq!(decode_timestamp(&v), Some(t), "{v}");
        }
        assert_eq!(decode_timestamp(&json!("")), None);
        assert_eq!(decode_text(&json!(7)), Some("7".into()));
    }

    #[tokio::test]
    async fn a_walk_survives_items_added_at_the_front_between_pages() {
        // Newest first: two items arrive after the first page, shifting everything down.
        let state = std::sync::Mutex::new((0..25).rev().collect::<Vec<u32>>());
        let (items, report) = walk_offsets(
            10,
            3,
            |x: &u32| *x,
            |start, count| {
                let mut v = state.lock().expect("lock");
                let page = OffsetPage { total: v.len(), items: v.iter().skip(start).take(count).copied().collect() };
                if start == 0 && v.len() == 25 {
                    v.insert(0, 25);
                    v.insert(0, 26);
                }
                let r: Result<_, ()> = Ok(page);
                async move { r }
            },
        )
        .await
        .expect("walk");
        let mut sorted = items.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..27).collect::<Vec<u32>>());
        assert!(report.duplicates >= 2 && report.passes == 2, "{report:?}");
    }

    #[tokio::test]
    async fn a_server_that_ignores_the_offset_is_noticed() {
        let (items, report) = walk_offsets(
            2,
            3,
            |x: &u32| *x,
            |_start, _count| {
                let r: Result<_, ()> = Ok(OffsetPage { total: 5, items: vec![1, 2] });
                async move { r }
            },
        )
        .await
        .expect("walk");
        assert_eq!((items, report.repeated_pages, report.pages), (vec![1, 2], 1, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn the_path_limiter_keeps_each_path_to_its_rate() {
        let l = PathLimiter::new(4.0, 4).expect("limiter");
        let start = Instant::now();
        for _ in 0..8 {
            l.acquire("/a").await;
        }
        let a = start.elapsed();
        assert!(a >= Duration::from_millis(1000) && a < Duration::from_millis(1200), "{a:?}");
        let before = Instant::now();
        l.acquire("/b").await;
        assert_eq!(before.elapsed(), Duration::ZERO, "another path has its own bucket");
        assert!(PathLimiter::new(0.0, 1).is_none());
    }
}
