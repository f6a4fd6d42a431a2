//! Tolerant reading of whatever Vantagepoint sends back.
//!
//! Every answer is turned into [`Row`]s before anything typed is built, so the quirks are handled
//! in one place instead of at every call site:
//!
//! - **shape**: GETs answer a bare array even by key, but `ARReview/*` samples show a bare object,
//!   and `PostTransFile` answers a JSON-encoded *string*; [`rows`] accepts an array, an object, a
//!   string holding either, one level of nested arrays, and `null`/`""` (no rows). Elements that
//!   are not objects are skipped and logged.
//! - **keys**: matched case-insensitively (Deltek's own samples mix `PKey`/`Pkey`, `WBS1`/`wbs1`).
//! - **text**: numbers and booleans read as text; `" "` (the blank WBS2/WBS3 of transaction rows)
//!   and `""` read as absent.
//! - **money**: JSON numbers or numeric strings (`"560.00"`, `"1,275.00"`, `"(12.50)"`), exact
//!   [`Decimal`]s, never floats.
//! - **dates**: `YYYY-MM-DDTHH:MM:SS.mmm` with or without the fraction, with or without a zone
//!   (the zone is dropped: Vantagepoint stores local wall time), date-only and `MM/DD/YYYY`;
//!   `""` is none.
//! - **flags**: `Y`/`N`, `true`/`false`, `1`/`0`.
//!
//! Unknown fields are simply never asked for.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use serde_json::Value;

/// One record of an answer, keys lower-cased.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    fields: BTreeMap<String, Value>,
}

impl Row {
    /// A row from a JSON object; `None` for anything else.
    pub fn from_value(v: Value) -> Option<Row> {
        match v {
            Value::Object(m) => Some(Row { fields: m.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect() }),
            _ => None,
        }
    }

    /// The raw value of a field (key compared case-insensitively).
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.fields.get(&key.to_ascii_lowercase())
    }

    /// Whether the answer carried this field at all (even blank).
    pub fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// The field as trimmed text (`""` when absent, null or blank).
    pub fn text(&self, key: &str) -> String {
        self.raw(key).map(scalar_text).map(|s| s.trim().to_string()).unwrap_or_default()
    }

    /// The field as trimmed text, `None` when absent or blank.
    pub fn opt_text(&self, key: &str) -> Option<String> {
        let t = self.text(key);
        (!t.is_empty()).then_some(t)
    }

    /// The field as an exact amount; `None` when absent, blank or not a number.
    pub fn decimal(&self, key: &str) -> Option<Decimal> {
        self.raw(key).and_then(parse_decimal)
    }

    /// The field as an amount, zero when absent or blank.
    pub fn money(&self, key: &str) -> Decimal {
        self.decimal(key).unwrap_or_default()
    }

    /// The field as an integer (`202506`, `"202506"`, `202506.0`).
    pub fn int(&self, key: &str) -> Option<i64> {
        match self.raw(key)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
            other => {
                let t = scalar_text(other);
                let t = t.trim();
                t.parse::<i64>().ok().or_else(|| {
                    Decimal::from_str(t).ok().filter(|d| d.fract().is_zero()).and_then(|d| d.try_into().ok())
                })
            }
        }
    }

    /// The field as a date-time in any of the spellings Vantagepoint uses.
    pub fn date(&self, key: &str) -> Option<NaiveDateTime> {
        self.raw(key).map(scalar_text).and_then(|s| parse_date(&s))
    }

    /// `Y`, `true`, `1` → true; anything else false.
    pub fn flag(&self, key: &str) -> bool {
        match self.raw(key) {
            Some(Value::Bool(b)) => *b,
            Some(v) => matches!(scalar_text(v).trim().to_ascii_uppercase().as_str(), "Y" | "YES" | "TRUE" | "1"),
            None => false,
        }
    }

    /// A nested list of rows (`apMaster` inside a control echo).
    pub fn rows(&self, key: &str) -> Vec<Row> {
        self.raw(key).cloned().map(rows).unwrap_or_default()
    }

    /// The row's money fields that were present, for the zero-visibility check.
    pub fn money_fields<'a>(&'a self, keys: &'a [&'a str]) -> impl Iterator<Item = Decimal> + 'a {
        keys.iter().filter_map(|k| self.decimal(k))
    }
}

/// Text of a scalar: strings as they are, numbers and booleans written out, null as `""`.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => if *b { "Y" } else { "N" }.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The records of an answer, whatever its shape (see the module docs).
pub fn rows(v: Value) -> Vec<Row> {
    match v {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Object(_) => out.extend(Row::from_value(item)),
                    Value::Array(inner) => out.extend(inner.into_iter().filter_map(Row::from_value)),
                    Value::Null => {}
                    other => {
                        let element = short(&other);
                        tracing::warn!(system = "deltek", %element, "skipped a non-object element in an answer");
                    }
                }
            }
            out
        }
        Value::Object(_) => Row::from_value(v).into_iter().collect(),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Vec::new();
            }
            match serde_json::from_str::<Value>(t) {
                Ok(inner @ (Value::Array(_) | Value::Object(_))) => rows(inner),
                _ => {
                    let answer = short(&Value::String(s.clone()));
                    tracing::warn!(system = "deltek", %answer, "expected records, got a text answer");
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 { format!("{}…", s.chars().take(80).collect::<String>()) } else { s }
}

/// An exact amount from a JSON number or a numeric string.
pub fn parse_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let t = n.to_string();
            Decimal::from_str(&t).ok().or_else(|| Decimal::from_scientific(&t).ok())
        }
        Value::String(s) => parse_decimal_text(s),
        _ => None,
    }
}

/// `"1,275.00"`, `" 12 "`, `"$5"`, `"(12.50)"` (negative), `"1e3"`.
pub fn parse_decimal_text(s: &str) -> Option<Decimal> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let (neg, t) = match t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        Some(inner) => (true, inner.trim()),
        None => (false, t),
    };
    let cleaned: String = t.chars().filter(|c| !matches!(c, ',' | '$' | ' ')).collect();
    let d = Decimal::from_str(&cleaned).ok().or_else(|| Decimal::from_scientific(&cleaned).ok())?;
    Some(if neg { -d } else { d })
}

/// Every date spelling seen from Vantagepoint (see the module docs). `None` for blank or garbage.
pub fn parse_date(s: &str) -> Option<NaiveDateTime> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    for f in
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M"]
    {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d);
        }
    }
    // With a zone: keep the wall time as written.
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Some(d.naive_local());
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(d) = chrono::DateTime::parse_from_str(t, f) {
            return Some(d.naive_local());
        }
    }
    for f in ["%Y-%m-%d", "%m/%d/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Some(d.and_time(NaiveTime::MIN));
        }
    }
    // `2025-06-01T00:00:00.000Z` with odd fractions and a trailing Z.
    if let Some(no_z) = t.strip_suffix('Z').or_else(|| t.strip_suffix('z')) {
        return parse_date(no_z);
    }
    None
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
