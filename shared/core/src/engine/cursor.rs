//! The general "changed since, page by page" cursor that most vendor list endpoints need.
//!
//! Vendors filter lists by a modified-since stamp and page with page numbers, and the order of
//! results is often undocumented. So one poll pages through *one* query (the same `since` for every
//! page) and only when the last page is read moves `since` forward, to the newest stamp seen minus
//! an overlap window (records committed late with an earlier stamp are listed again; their
//! already-processed versions are skipped without a read-back). The page number travels in the
//! cursor, so a poller that dies mid-way resumes at its page. Used by the Cin7, Acumatica, Procore
//! and Coupa sources.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::flow::StepError;
use crate::engine::model::Cursor;

/// A poll's position: the `since` every page of this poll uses, the page to read next, and the
/// newest stamp seen so far in this poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SincePageCursor {
    pub since: Option<DateTime<Utc>>,
    pub page: u32,
    #[serde(default)]
    pub newest: Option<DateTime<Utc>>,
}

impl SincePageCursor {
    /// The stored cursor, or where a first poll starts (`start`; `None` = everything).
    pub fn load(cursor: Option<&Cursor>, start: Option<DateTime<Utc>>) -> Result<SincePageCursor, StepError> {
        match cursor {
            Some(c) => serde_json::from_str(&c.value).map_err(|e| {
                StepError::permanent(format!(
                    "the cursor of {} is unreadable ({e}): {:?}; reset it with `mlc cursor reset {}`",
                    c.flow, c.value, c.flow
                ))
            }),
            None => Ok(SincePageCursor { since: start, page: 1, newest: None }),
        }
    }

    /// The cursor after reading page `self.page` with `newest_on_page`; `more` = another page follows.
    pub fn advance(&self, newest_on_page: Option<DateTime<Utc>>, more: bool, overlap: Duration) -> SincePageCursor {
        let newest = match (self.newest, newest_on_page) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if more {
            return SincePageCursor { since: self.since, page: self.page + 1, newest };
        }
        let next_since = match (self.since, newest) {
            (Some(s), Some(n)) => Some(s.max(n - overlap)),
            (None, Some(n)) => Some(n - overlap),
            (s, None) => s,
        };
        SincePageCursor { since: next_since, page: 1, newest: None }
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
        let c = SincePageCursor::load(None, Some(t(12) - Duration::hours(2))).unwrap();
        assert_eq!(c, SincePageCursor { since: Some(t(10)), page: 1, newest: None });
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
        let e = SincePageCursor::load(Some(&bad), None).unwrap_err();
        assert!(e.message.contains("cursor of f"), "{}", e.message);
    }
}
