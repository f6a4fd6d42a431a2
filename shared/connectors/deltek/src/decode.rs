//! Tolerant reading of whatever Vantagepoint sends back.
//!
//! Every answer is turned into [`Row`]s before anything typed is built, so the quirks are handled
//! in one place instead of at every call site. The readers are the HTTP kit's
//! ([`mlc_http::decode`]); this module names the Vantagepoint spellings they must handle, keeps
//! its write format ([`fmt_date`]) and its doubled messages ([`undouble`]):
//!
//! - **shape**: GETs answer a bare array even by key, but `ARReview/*` samples show a bare object,
//!   and `PostTransFile` answers a JSON-encoded *string*; [`rows`] accepts an array, an object, a
//!   string holding either, one level of nested arrays, and `null`/`""` (no rows). Elements that
//!   are not objects are skipped and logged.
//! - **keys**: matched case-insensitively (Deltek's own samples mix `PKey`/`Pkey`, `WBS1`/`wbs1`).
//! - **text**: numbers and booleans read as text; `" "` (the blank WBS2/WBS3 of transaction rows)
//!   and `""` read as absent.
//! - **money**: JSON numbers or numeric strings (`"560.00"`, `"1,275.00"`, `"(12.50)"`), exact
//!   `Decimal`s, never floats.
//! - **dates**: `YYYY-MM-DDTHH:MM:SS.mmm` with or without the fraction, with or without a zone
//!   (the zone is dropped: Vantagepoint stores local wall time), date-only and `MM/DD/YYYY`;
//!   `""` is none.
//! - **flags**: `Y`/`N`, `true`/`false`, `1`/`0`.
//!
//! Unknown fields are simply never asked for.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

pub use mlc_http::decode::{
    Row, decimal as parse_decimal, decimal_text as parse_decimal_text, records as rows, scalar_text,
};

/// Every date spelling seen from Vantagepoint, as the wall time written (see the module docs).
/// `None` for blank or garbage.
pub fn parse_date(s: &str) -> Option<NaiveDateTime> {
    mlc_http::decode::wall_time(s)
}

/// Deltek's date format for writes and filters: `2017-11-22T00:00:00.000`.
pub fn fmt_date(d: &NaiveDateTime) -> String {
    d.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// A date at midnight in Deltek's format.
pub fn fmt_day(d: NaiveDate) -> String {
    fmt_date(&d.and_time(NaiveTime::MIN))
}

/// Remove a doubled message ("X. X." → "X."), which Vantagepoint sometimes sends.
pub fn undouble(text: &str) -> String {
    let t = text.trim();
    let len = t.len();
    if len >= 3 && len % 2 == 1 {
        let mid = len / 2;
        if t.is_char_boundary(mid) && t.is_char_boundary(mid + 1) {
            let (a, rest) = t.split_at(mid);
            if rest.starts_with(' ') && a == &rest[1..] {
                return a.to_string();
            }
        }
    }
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;
    use serde_json::json;

    #[test]
    fn shapes_become_rows() {
        assert_eq!(rows(json!([{"A": 1}, {"A": 2}])).len(), 2);
        assert_eq!(rows(json!({"A": 1})).len(), 1);
        assert_eq!(rows(json!([[{"A": 1}], {"A": 2}, 3, null])).len(), 2);
        assert_eq!(rows(json!("[{\"A\": 1}]")).len(), 1);
        assert!(rows(json!("")).is_empty());
        assert!(rows(json!(null)).is_empty());
        assert!(rows(json!("not json")).is_empty());
    }

    #[test]
    fn fields_are_read_tolerantly() {
        let r = Row::from_value(json!({
            "MasterPKey": "ab", "wbs2": " ", "Amount": "1,275.50", "NetAmount": 1200, "Neg": "(12.50)",
            "Period": "202506", "Seq": 3.0, "Posted": "y", "Flag": true, "InvoiceDate": "2017-11-22T00:00:00.000",
            "D2": "2017-11-22T10:11:12", "D3": "2017-11-22T10:11:12.5+02:00", "D4": "11/22/2017", "D5": "",
            "D6": "2017-11-22T10:11:12.123Z"
        }))
        .unwrap();
        assert_eq!(r.text("MASTERPKEY"), "ab");
        assert_eq!(r.opt_text("WBS2"), None);
        assert_eq!(r.decimal("amount"), Some(dec!(1275.50)));
        assert_eq!(r.decimal("NetAmount"), Some(dec!(1200)));
        assert_eq!(r.decimal("Neg"), Some(dec!(-12.50)));
        assert_eq!(r.decimal("missing"), None);
        assert_eq!(r.int("Period"), Some(202506));
        assert_eq!(r.int("Seq"), Some(3));
        assert!(r.flag("Posted") && r.flag("flag") && !r.flag("missing"));
        let day = NaiveDate::from_ymd_opt(2017, 11, 22).unwrap();
        assert_eq!(r.date("InvoiceDate").map(|d| d.date()), Some(day));
        assert_eq!(r.date("D2").map(|d| d.date()), Some(day));
        assert_eq!(r.date("D3").map(|d| fmt_date(&d)), Some("2017-11-22T10:11:12.500".to_string()));
        assert_eq!(r.date("D4").map(|d| d.date()), Some(day));
        assert_eq!(r.date("D5"), None);
        assert_eq!(r.date("D6").map(|d| fmt_date(&d)), Some("2017-11-22T10:11:12.123".to_string()));
    }

    #[test]
    fn doubled_messages_are_undoubled() {
        assert_eq!(undouble("Vendor X does not exist. Vendor X does not exist."), "Vendor X does not exist.");
        assert_eq!(undouble("Vendor X does not exist."), "Vendor X does not exist.");
    }
}
