//! The general "changed since, page by page" cursor that most vendor list endpoints need.
//!
//! Vendors filter lists by a modified-since stamp and page with page numbers, and the order of
//! results is often undocumented. So one poll pages through *one* query (the same `since` for every
//! page) and only when the last page is read moves `since` forward, to the newest stamp seen minus
//! an overlap window (records committed late with an earlier stamp are listed again; their
//! already-processed versions are skipped without a read-back). The page number travels in the
//! cursor, so a poller that dies mid-way resumes at its page. Used by the Cin7, Acumatica, Procore
//! and Coupa sources.
//!
//! ## The cursor is a low-water mark: a held cursor
//!
//! A poll lists records and enqueues their hints before it moves the cursor; the detail read
//! happens later, on the queue. When that read fails (code `read_failed`), the cursor must not stay
//! past the record, or a record that never reads would never be listed again. So every polled hint
//! carries its [`Listing`] (the cursor's name, the position the listing poll started from, and when
//! it began), and the engine keeps the cursor **held** at the listing of the earliest-listed record
//! whose read-back failed and is still unsettled:
//!
//! - when the read fails, the engine moves the cursor back to that listing (a compare-and-set;
//!   an earlier hold is kept), remembering the position listing had reached (`resume`);
//! - while a hold is active, each poll enqueues the hints of the source's failed reads again (the
//!   read is retried every run; claims and item keys dedupe), lists on from `resume`, and saves the
//!   hold with the new `resume`, never a plain position past the failed record. (Listing again
//!   from the held position instead would cost a poll more every run and, behind a long-held
//!   record, could stall a budget-limited poller.)
//! - once the item settles (read back and worked — posted, skipped, held for a person —, closed by
//!   a person, or found gone at the source: `gone_at_source` is an outcome of its own and holds
//!   nothing), the next poll lists on from `resume` and saves the plain position it reaches.
//!
//! The held value is a [`CursorHold`] written in place of the source's value (`{"held_by": ...}`,
//! parsed with [`CursorHold::parse`]); it names the item, so `mlc status` shows which record pins
//! the cursor, and a permanently broken record cannot pin it unnoticed: close or replay the item.
//! This works for every cursor kind because the engine never interprets a source's value: it only
//! stores back a value the source produced earlier (the listing poll's starting position), or, for
//! a first poll, no value with the same `start` that poll used. Holding at the *poll's* starting
//! position (not the page's) also survives page drift and expired page tokens.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::flow::StepError;
use crate::engine::model::{Cursor, ItemKey, Listing, WorkItem, codes};

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

/// A cursor held at the listing of a record whose read-back failed (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CursorHold {
    /// The failed work item (version `unread`) that holds the cursor.
    pub held_by: ItemKey,
    /// The source's cursor value the next poll lists from; `None`: as a first poll, from `start`.
    pub from: Option<String>,
    /// Where a poll with no cursor value starts (the listing poll's `start`).
    pub start: Option<DateTime<Utc>>,
    /// When the listing poll began: of two holds, the earlier listing wins.
    pub listed_at: DateTime<Utc>,
    /// Where listing continues (the position polls had reached): everything listed before it was
    /// enqueued already, so a held cursor neither re-lists its whole range every poll nor stalls
    /// behind it; `None`: from `from`.
    #[serde(default)]
    pub resume: Option<String>,
}

impl CursorHold {
    /// The hold a stored cursor value states (`None`: a source's own value).
    pub fn parse(value: &str) -> Option<CursorHold> {
        if !value.starts_with("{\"held_by\"") {
            return None;
        }
        serde_json::from_str(value).ok()
    }

    /// The hold `listing` makes for the item `key`.
    pub fn at(listing: &Listing, key: &ItemKey) -> CursorHold {
        CursorHold {
            held_by: key.clone(),
            from: listing.from.clone(),
            start: listing.start,
            listed_at: listing.at,
            resume: None,
        }
    }

    /// Where the next poll lists from, and the `start` it uses when that is no value.
    pub fn listing_position(&self) -> (Option<String>, Option<DateTime<Utc>>) {
        match &self.resume {
            Some(r) => (Some(r.clone()), None),
            None => (self.from.clone(), self.start),
        }
    }

    /// The hold `item` puts on the cursor `cursor`: an item that stands for a record whose
    /// read-back failed (`read_failed`), is not settled, and was listed under that cursor.
    pub fn of_item(item: &WorkItem, cursor: &str) -> Option<CursorHold> {
        let listing = item.hint.listed.as_ref().filter(|l| l.cursor == cursor)?;
        let failed_read = item.version == crate::engine::UNREAD && item.code.as_deref() == Some(codes::READ_FAILED);
        (failed_read && !item.state.is_terminal()).then(|| CursorHold::at(listing, &item.key))
    }

    pub fn to_value(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// For people: where the cursor is held and by what.
    pub fn describe(&self) -> String {
        let at = match self.from.as_deref().and_then(|v| serde_json::from_str::<SincePageCursor>(v).ok()) {
            Some(SincePageCursor { since: Some(s), .. }) => {
                format!("records changed since {}", s.format("%Y-%m-%d %H:%M:%S UTC"))
            }
            Some(SincePageCursor { since: None, .. }) => "the beginning (everything)".into(),
            None => match (&self.from, self.start) {
                (Some(v), _) => v.clone(),
                (None, Some(s)) => format!("a first poll from {}", s.format("%Y-%m-%d %H:%M:%S UTC")),
                (None, None) => "a first poll (everything)".into(),
            },
        };
        format!(
            "HELD at {at} by {} (its read-back failed; it moves on once that item posts, is closed or replayed, or is gone)",
            self.held_by
        )
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
    fn a_hold_round_trips_and_no_source_value_reads_as_one() {
        let listing = Listing { cursor: "cin7/purchase".into(), from: None, start: Some(t(2)), at: t(3) };
        let hold = CursorHold::at(&listing, &ItemKey::new("cin7-deltek-ap", "cin7", "p1", "unread"));
        assert_eq!(CursorHold::parse(&hold.to_value()), Some(hold.clone()));
        assert!(hold.describe().contains("cin7-deltek-ap#cin7#p1#unread"), "{}", hold.describe());
        assert!(hold.describe().contains("first poll from 2026-11-02 02:00"), "{}", hold.describe());
        let page = SincePageCursor { since: Some(t(1)), page: 3, newest: None }.to_value();
        let held = CursorHold { from: Some(page.clone()), ..hold };
        assert!(held.describe().contains("records changed since 2026-11-02 01:00:00"), "{}", held.describe());
        for v in [page.as_str(), r#"{"folder":0}"#, "", "2026-11-02T01:00:00Z", r#"{"held_by":1}"#] {
            assert_eq!(CursorHold::parse(v), None, "{v}");
        }
    }

    #[test]
    fn unreadable_cursor_is_a_clear_permanent_error() {
        let bad = Cursor { flow: "f".into(), value: "garbage".into(), updated_at: t(1) };
        let e = SincePageCursor::load(Some(&bad), None).unwrap_err();
        assert!(e.message.contains("cursor of f"), "{}", e.message);
    }
}
