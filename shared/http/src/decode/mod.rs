//! Tolerant decoding: reading what vendors actually send, at the edge, in one place.
//!
//! Every system bends JSON its own way. The fact sheets (`shared/research/*.md`) list what was
//! seen; these helpers accept all of it so connectors never write a date or number parser again:
//!
//! | quirk | seen at | helper |
//! |---|---|---|
//! | datetimes with or without a zone, 0–7 (up to 9) fraction digits, `T` or a space, no seconds | Cin7 (`2017-12-08T00:00:00`, `…45.9472864Z`), Deltek, Acumatica (`…41.17-04:00`), Coupa (`-07:00`) | [`datetime_utc`], [`datetime_in`], [`wall_time`], [`date`] |
//! | zone-less stamps meaning UTC, or the tenant's own zone | Cin7 (UTC), Coupa/Acumatica (instance zone) | [`datetime_utc`] / [`datetime_in`] with the tenant offset |
//! | date-only and `MM/DD/YYYY` | Deltek, Coupa writes | [`date`] |
//! | numbers as strings (`"560.00"`, `"1,275.00"`, `"(12.50)"`), numbers as numbers | Deltek, Coupa (decimal strings), Cin7 | [`decimal`], [`decimal_text`] (exact [`Decimal`], never `f64`) |
//! | 64-bit ids as numbers or strings (`"202506"`, `202506.0`) | Procore, Coupa (integer ids), Deltek periods | [`int`], [`uint`] |
//! | `" "` and `""` meaning nothing | Deltek's blank WBS2/WBS3, Cin7 | [`text`] (blank → `None`) |
//! | booleans as `"Y"`/`"N"`, `"true"`, `1` | Deltek, Cin7 | [`flag`] |
//! | keys in any case (`PKey`/`Pkey`, `ID`/`id`) | Deltek, Cin7 | [`Fields`], [`Row`], [`lowercase_keys`] |
//! | an array where an object was documented, an object where an array was, JSON inside a string | Cin7 legacy purchases, Deltek `ARReview`, `PostTransFile` | [`Fields::objects`], [`records`] |
//! | HTML with status 200 | Cin7 unknown paths, any proxy login page | the kit's classifier refuses it (naming the `base_url` fix); [`require_json`] for connections built with `DefaultClassifier::any_body` |
//!
//! Three ways to use them:
//! - **functions** on `&str` / `&serde_json::Value` ([`datetime_utc`], [`decimal`] ...);
//! - **[`Fields`]**: a case-insensitive view of one JSON object that reads every field tolerantly
//!   and *notes* what it could not read (a record with an odd field is still a record; the note
//!   goes into its report), and its owned twin [`Row`] for answers kept as rows;
//! - **serde helpers** in [`de`] for `#[serde(deserialize_with = "…")]` on typed models.
//!
//! `/Date(ms)/` (old ASP.NET JSON) is not handled: no fact sheet reports it.
//!
//! ```
//! use mlc_http::decode::{self, Fields};
//! use rust_decimal::Decimal;
//! let v = serde_json::json!({"ID": 7, "amount": "1,275.50", "WBS2": " ", "Posted": "Y",
//!                            "Updated": "2025-06-16T14:30:00.1234567"});
//! let notes = decode::Notes::default();
//! let f = Fields::new(v.as_object().unwrap()).noting("bill 7", &notes);
//! assert_eq!(f.uint("id"), Some(7));
//! assert_eq!(f.decimal("Amount"), Some(Decimal::new(127550, 2)));
//! assert_eq!(f.text("wbs2"), None);
//! assert!(f.is("posted"));
//! assert_eq!(f.datetime("updated").map(|d| d.to_rfc3339()).as_deref(), Some("2025-06-16T14:30:00.123456700+00:00"));
//! assert!(notes.take().is_empty());
//! ```

pub mod de;
mod fields;

use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

pub use fields::{Fields, Notes, Row, records};

use crate::error::HttpError;
use crate::request::Response;

// ---------------------------------------------------------------------------------------------
// Text, numbers, flags

/// A scalar as trimmed text: strings as they are, numbers and booleans written out; `None` for
/// null, blank (`""`, `" "`), arrays and objects.
pub fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// A scalar's text as written (not trimmed): null is `""`, arrays and objects their JSON.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// `Some(trimmed)` unless the text is blank.
pub fn non_blank(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// An exact amount from a JSON number or a numeric string ([`decimal_text`]); `None` otherwise.
///
/// A JSON number went through `f64` inside serde_json unless it was an integer, so vendors that
/// send money as strings (Coupa, Deltek) keep every digit; numbers are read from their shortest
/// decimal spelling, which is what the vendor wrote for any amount with up to 15 digits.
pub fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => {
            let t = n.to_string();
            Decimal::from_str(&t).ok().or_else(|| Decimal::from_scientific(&t).ok())
        }
        Value::String(s) => decimal_text(s),
        _ => None,
    }
}

/// `"1,275.00"`, `" 12 "`, `"$5"`, `"(12.50)"` (negative), `"-3"`, `"1e3"`; `None` when blank or not a number.
pub fn decimal_text(s: &str) -> Option<Decimal> {
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

/// A whole number from `202506`, `"202506"`, `202506.0` or `"202506.00"`; `None` for fractions,
/// blanks and anything else. 64-bit: Procore and Coupa ids fit.
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            let d = Decimal::from_str(&n.to_string()).ok()?;
            d.fract().is_zero().then(|| i64::try_from(d).ok()).flatten()
        }),
        Value::String(s) => {
            let t = s.trim();
            t.parse::<i64>()
                .ok()
                .or_else(|| Decimal::from_str(t).ok().filter(|d| d.fract().is_zero()).and_then(|d| d.try_into().ok()))
        }
        _ => None,
    }
}

/// A non-negative whole number (ids, counts, totals), as [`int`] but up to `u64::MAX`.
pub fn uint(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| int(v).and_then(|i| u64::try_from(i).ok())),
        Value::String(s) => s.trim().parse::<u64>().ok().or_else(|| int(v).and_then(|i| u64::try_from(i).ok())),
        _ => None,
    }
}

/// `true`/`false`, `"Y"`/`"N"`, `"yes"`/`"no"`, `"true"`/`"false"`, `1`/`0`, `"1"`/`"0"` (any
/// case); `None` for blanks and anything else.
pub fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => flag_text(s),
        _ => None,
    }
}

/// [`flag`] for text.
pub fn flag_text(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "t" | "1" => Some(true),
        "n" | "no" | "false" | "f" | "0" => Some(false),
        _ => None,
    }
}

/// A copy of `v` with every object key lower-cased, at every depth: lets a serde model with
/// lower-case names read a vendor that varies the case of its keys. (Two keys differing only in
/// case collapse into one; the later wins.)
pub fn lowercase_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), lowercase_keys(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(lowercase_keys).collect()),
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Dates and times

/// The parts of a stamp: the wall date-time as written, and its zone when it had one.
pub fn parse_stamp(s: &str) -> Option<(NaiveDateTime, Option<FixedOffset>)> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    // Split date from time at the first `T` or space after the date.
    let (day, rest) = match t.char_indices().find(|(i, c)| *i >= 8 && matches!(c, 'T' | 't' | ' ')) {
        Some((i, _)) => (&t[..i], Some(t[i + 1..].trim())),
        None => (t, None),
    };
    let day = parse_day(day)?;
    let Some(rest) = rest.filter(|r| !r.is_empty()) else { return Some((day.and_time(NaiveTime::MIN), None)) };
    let (clock, zone) = split_zone(rest)?;
    let time = ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"].iter().find_map(|f| NaiveTime::parse_from_str(clock, f).ok())?;
    Some((day.and_time(time), zone))
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%m/%d/%Y"].iter().find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// `10:11:12.5+02:00` → (`10:11:12.5`, +02:00); `Z` is UTC; `+0200` and `+02` are accepted.
fn split_zone(s: &str) -> Option<(&str, Option<FixedOffset>)> {
    if let Some(c) = s.strip_suffix(['Z', 'z']) {
        return Some((c.trim_end(), FixedOffset::east_opt(0)));
    }
    let Some(at) = s.rfind(['+', '-']) else { return Some((s, None)) };
    let (clock, zone) = (s[..at].trim_end(), &s[at..]);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some((clock, Some(FixedOffset::east_opt(sign * (h * 3600 + m * 60))?)))
}

/// A stamp as an instant, a zone-less one read as UTC (Cin7 documents its stamps as UTC).
/// Accepts everything [`parse_stamp`] does; `None` for blanks and garbage.
pub fn datetime_utc(s: &str) -> Option<DateTime<Utc>> {
    let (naive, zone) = parse_stamp(s)?;
    Some(match zone {
        Some(z) => z.from_local_datetime(&naive).single()?.with_timezone(&Utc),
        None => naive.and_utc(),
    })
}

/// A stamp as an instant, a zone-less one read in the tenant's `zone` (Coupa and Acumatica
/// write local time of the instance); a stamp with its own zone keeps it.
pub fn datetime_in(s: &str, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let (naive, own) = parse_stamp(s)?;
    own.unwrap_or(zone).from_local_datetime(&naive).single()
}

/// The wall date-time as written, zone dropped (Deltek Vantagepoint stores local wall time and
/// its zone suffixes, when present, do not change what a person sees).
pub fn wall_time(s: &str) -> Option<NaiveDateTime> {
    parse_stamp(s).map(|(naive, _)| naive)
}

/// The date as written (the date part of a stamp; the zone does not move it).
pub fn date(s: &str) -> Option<NaiveDate> {
    wall_time(s).map(|d| d.date())
}

// ---------------------------------------------------------------------------------------------
// Bodies

/// The body of an answer as JSON, refusing anything else with an error that names the call, quotes
/// the body (scrubbed) and, for a web page, says to check `base_url`. For connections built with
/// [`crate::DefaultClassifier::any_body`] (file downloads) whose JSON calls want the check back;
/// connections expecting JSON already get it from the classifier.
pub fn require_json(resp: &Response) -> Result<Value, HttpError> {
    if !crate::classify::looks_like_json(resp.headers(), resp.bytes()) {
        return Err(resp.unexpected(&format!(
            "answered {} with {}, not JSON",
            resp.status(),
            crate::classify::describe_bytes(resp.bytes())
        )));
    }
    if resp.bytes().iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    resp.json::<Value>()
}

#[cfg(test)]
mod tests;
