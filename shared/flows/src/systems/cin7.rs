//! Cin7 Core as a runtime connection (settings + credentials → `Cin7Client`, its ping, webhook
//! source and API counters), and the polling cursor both Cin7 source flows share.
//!
//! # The cursor
//! Cin7's list endpoints filter by `UpdatedSince`/`ModifiedSince` (strictly after) and page with
//! `Page`/`Limit`; the order of results is undocumented. So one poll pages through *one* query
//! (the same `since` for every page) and only when the last page is read moves `since` forward,
//! to the newest stamp seen minus an overlap window (records committed late with an earlier
//! stamp are re-listed; their already-processed versions are skipped without a read-back). The
//! page number travels in the cursor, so a poller that dies mid-way resumes at its page.

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use mlc_cin7::{Cin7Client, Cin7Settings};
use mlc_core::engine::flow::StepError;
use mlc_core::engine::intake::WebhookSource;
use mlc_core::engine::model::Cursor;
use mlc_core::ping::PingCheck;
use mlc_core::secret::Credentials;
use serde::{Deserialize, Serialize};

use crate::config::ConnectionSettings;
use crate::runtime::{ApiCounters, BuildError, Connection};

pub struct Cin7Connection {
    pub client: Cin7Client,
    webhook: Option<Arc<dyn WebhookSource>>,
}

pub fn build(
    name: &str,
    settings: &ConnectionSettings,
    credentials: Credentials,
) -> Result<Arc<dyn Connection>, BuildError> {
    let s =
        Cin7Settings::from_parts(name, &settings.base_url, &settings.options).map_err(|e| BuildError(e.to_string()))?;
    let client = Cin7Client::new(s, credentials).map_err(|e| BuildError(e.to_string()))?;
    // Without a webhook secret the connection still polls; webhooks for it are refused.
    let webhook = client.webhook_source().ok().map(|w| Arc::new(w) as Arc<dyn WebhookSource>);
    Ok(Arc::new(Cin7Connection { client, webhook }))
}

#[async_trait]
impl Connection for Cin7Connection {
    fn system(&self) -> &str {
        "cin7"
    }

    async fn ping(&self) -> Vec<PingCheck> {
        self.client.ping().await
    }

    fn webhook_source(&self) -> Option<Arc<dyn WebhookSource>> {
        self.webhook.clone()
    }

    fn counters(&self) -> ApiCounters {
        let s = self.client.stats();
        ApiCounters { calls: s.calls, retries: s.retries, throttled: s.throttled, auth_refreshes: s.auth_refreshes }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A poll's position: the `since` every page of this poll uses, the page to read next, and the
/// newest stamp seen so far in this poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    pub since: Option<DateTime<Utc>>,
    pub page: u32,
    #[serde(default)]
    pub newest: Option<DateTime<Utc>>,
}

impl PageCursor {
    /// The stored cursor, or where a first poll starts (`lookback` before now; `None` = everything).
    pub fn load(
        cursor: Option<&Cursor>,
        now: DateTime<Utc>,
        lookback: Option<Duration>,
    ) -> Result<PageCursor, StepError> {
        match cursor {
            Some(c) => serde_json::from_str(&c.value).map_err(|e| {
                StepError::permanent(format!(
                    "the cursor of {} is unreadable ({e}): {:?}; reset it by deleting the flow's cursor",
                    c.flow, c.value
                ))
            }),
            None => Ok(PageCursor { since: lookback.map(|l| now - l), page: 1, newest: None }),
        }
    }

    /// The cursor after reading page `self.page` with `newest_on_page`; `more` = another page follows.
    pub fn advance(&self, newest_on_page: Option<DateTime<Utc>>, more: bool, overlap: Duration) -> PageCursor {
        let newest = match (self.newest, newest_on_page) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if more {
            return PageCursor { since: self.since, page: self.page + 1, newest };
        }
        let next_since = match (self.since, newest) {
            (Some(s), Some(n)) => Some(s.max(n - overlap)),
            (None, Some(n)) => Some(n - overlap),
            (s, None) => s,
        };
        PageCursor { since: next_since, page: 1, newest: None }
    }

    pub fn to_value(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, h, 0, 0).single().unwrap()
    }

    #[test]
    fn pages_keep_since_and_the_last_page_moves_it_to_newest_minus_overlap() {
        let overlap = Duration::minutes(2);
        let c = PageCursor::load(None, t(12), Some(Duration::hours(2))).unwrap();
        assert_eq!(c, PageCursor { since: Some(t(10)), page: 1, newest: None });
        let c = c.advance(Some(t(11)), true, overlap);
        assert_eq!((c.since, c.page, c.newest), (Some(t(10)), 2, Some(t(11))));
        let c = c.advance(Some(t(10)), false, overlap);
        assert_eq!((c.since, c.page, c.newest), (Some(t(11) - overlap), 1, None));
        // Nothing new: since stays; it never moves backwards.
        let c2 = c.advance(None, false, overlap);
        assert_eq!(c2.since, c.since);
        let c3 = c.advance(Some(t(11) - Duration::minutes(1)), false, overlap);
        assert_eq!(c3.since, c.since);
    }

    #[test]
    fn unreadable_cursor_is_a_clear_permanent_error() {
        let bad = Cursor { flow: "f".into(), value: "garbage".into(), updated_at: t(1) };
        let e = PageCursor::load(Some(&bad), t(1), None).unwrap_err();
        assert!(e.message.contains("cursor of f"), "{}", e.message);
    }
}
