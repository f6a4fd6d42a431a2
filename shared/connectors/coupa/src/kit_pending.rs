//! Belongs in the connector kit (`mlc_http::decode`): tolerant decoding helpers this connector
//! needed before the kit landed in `main`. The names mirror the kit's (`decode::{text, decimal,
//! int, datetime, date}`, `decode::de::{…}` serde helpers), so moving to the kit is a change of
//! `use` lines; nothing here is Coupa-specific.
//!
//! - numbers as JSON numbers or strings (`"1050.00"`, `1050`, `1.05e3`) into `Decimal` (never
//!   through `f64` text loss: numbers go through their JSON text) and 64-bit integers;
//! - blanks (`""`, `" "`, `null`) as absent;
//! - datetimes in any ISO 8601 form: with an offset (`-07:00`, `Z`) or none (taken as UTC),
//!   0–9 fraction digits, or a bare date (midnight UTC); dates from a datetime keep the date *as
//!   written* (Coupa writes dates as midnight in the instance's zone, so converting to UTC first
//!   would move dates east of UTC to the day before).

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::Value;

/// A scalar as trimmed text; blanks and non-scalars are `None`.
pub fn text(v: &Value) -> Option<String> {
    let s = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// A number or numeric string as `Decimal` (scientific notation accepted).
pub fn decimal(v: &Value) -> Option<Decimal> {
    let t = text(v)?;
    t.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(&t).ok())
}

/// A whole number, from a number or a numeric string (`"12"`, `12`, `12.0`).
pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => {
            n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64))
        }
        _ => {
            let t = text(v)?;
            t.parse::<i64>().ok().or_else(|| {
                t.parse::<Decimal>().ok().filter(|d| d.fract().is_zero()).and_then(|d| d.to_string().parse().ok())
            })
        }
    }
}

/// `true`/`false` as a boolean or text (`"true"`, `"1"`, `"Y"`).
pub fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => match text(v)?.to_ascii_lowercase().as_str() {
            "true" | "1" | "y" | "yes" => Some(true),
            "false" | "0" | "n" | "no" => Some(false),
            _ => None,
        },
    }
}

/// An ISO 8601 datetime keeping its offset (none written: UTC; a bare date: midnight UTC).
pub fn datetime(s: &str) -> Option<DateTime<FixedOffset>> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d);
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%:z"] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Some(d);
        }
    }
    let utc = FixedOffset::east_opt(0)?;
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, f) {
            return n.and_local_timezone(utc).single();
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0)?.and_local_timezone(utc).single()
}

/// [`datetime`] in UTC.
pub fn datetime_utc(s: &str) -> Option<DateTime<Utc>> {
    datetime(s).map(|d| d.with_timezone(&Utc))
}

/// The calendar date as written (`2025-06-01T00:00:00-07:00` → 2025-06-01).
pub fn date(s: &str) -> Option<NaiveDate> {
    datetime(s).map(|d| d.date_naive())
}

/// Serde helpers for `#[serde(deserialize_with = "…")]`: each reads any JSON value and is
/// lenient in the way its name says. The `opt_` ones turn blanks and unreadable values into
/// `None`; the others fall back to zero/empty (use them for fields Coupa always sends).
pub mod de {
    use super::*;
    use serde::{Deserialize, Deserializer};

    fn any<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    /// A string from any scalar; blanks as `None`.
    pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(text(&any(d)?))
    }

    /// A string from any scalar; null as `""`.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(text(&any(d)?).unwrap_or_default())
    }

    /// A decimal from a number or string; blanks as zero. A value that is not a number is an
    /// error (money must never silently become zero).
    pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let v = any(d)?;
        match (&v, super::decimal(&v)) {
            (_, Some(x)) => Ok(x),
            (Value::Null, None) => Ok(Decimal::ZERO),
            (Value::String(s), None) if s.trim().is_empty() => Ok(Decimal::ZERO),
            (other, None) => Err(serde::de::Error::custom(format!("{other} is not a number"))),
        }
    }

    /// An optional decimal; blanks as `None`, non-numbers an error.
    pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        let v = any(d)?;
        match (&v, super::decimal(&v)) {
            (_, Some(x)) => Ok(Some(x)),
            (Value::Null, None) => Ok(None),
            (Value::String(s), None) if s.trim().is_empty() => Ok(None),
            (other, None) => Err(serde::de::Error::custom(format!("{other} is not a number"))),
        }
    }

    /// A 64-bit integer from a number or string; blanks as 0.
    pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let v = any(d)?;
        match (&v, super::int(&v)) {
            (_, Some(x)) => Ok(x),
            (Value::Null, None) => Ok(0),
            (other, None) => Err(serde::de::Error::custom(format!("{other} is not a whole number"))),
        }
    }

    /// An optional 64-bit integer.
    pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let v = any(d)?;
        match (&v, super::int(&v)) {
            (_, Some(x)) => Ok(Some(x)),
            (Value::Null, None) => Ok(None),
            (Value::String(s), None) if s.trim().is_empty() => Ok(None),
            (other, None) => Err(serde::de::Error::custom(format!("{other} is not a whole number"))),
        }
    }

    /// A boolean from a boolean or text; absent/blank as false.
    pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(super::flag(&any(d)?).unwrap_or(false))
    }

    /// A datetime keeping its offset; blanks as `None`, unreadable text an error.
    pub fn opt_datetime<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
        match text(&any(d)?) {
            None => Ok(None),
            Some(s) => {
                datetime(&s).map(Some).ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not a date and time")))
            }
        }
    }

    /// The date as written; blanks as `None`, unreadable text an error.
    pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
        match text(&any(d)?) {
            None => Ok(None),
            Some(s) => date(&s).map(Some).ok_or_else(|| serde::de::Error::custom(format!("'{s}' is not a date"))),
        }
    }

    /// An object (custom fields), `null` as empty.
    pub fn map<'de, D: Deserializer<'de>>(d: D) -> Result<serde_json::Map<String, Value>, D::Error> {
        match any(d)? {
            Value::Object(m) => Ok(m),
            Value::Null => Ok(serde_json::Map::new()),
            other => Err(serde::de::Error::custom(format!("{other} is not an object"))),
        }
    }

    /// A list, `null` as empty.
    pub fn list<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
        match any(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Array(a) => {
                a.into_iter().map(|x| serde_json::from_value(x).map_err(serde::de::Error::custom)).collect()
            }
            other => serde_json::from_value(other).map(|one| vec![one]).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_as_strings_or_numbers() {
        assert_eq!(decimal(&json!("1050.00")), Some(Decimal::new(105000, 2)));
        assert_eq!(decimal(&json!(1050.5)), Some(Decimal::new(10505, 1)));
        assert_eq!(decimal(&json!("1.05e3")), Some(Decimal::new(1050, 0)));
        assert_eq!(decimal(&json!(" ")), None);
        assert_eq!(int(&json!("9007199254740993")), Some(9_007_199_254_740_993));
        assert_eq!(int(&json!(12.0)), Some(12));
        assert_eq!(int(&json!("12.5")), None);
        assert_eq!(flag(&json!("true")), Some(true));
    }

    #[test]
    fn datetimes_in_any_iso_form_and_dates_as_written() {
        let t = datetime_utc("2016-10-07T06:59:46-07:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2016-10-07T13:59:46+00:00");
        assert_eq!(datetime_utc("2016-10-07T13:59:46.123456Z").unwrap().timestamp_subsec_micros(), 123_456);
        assert_eq!(datetime_utc("2016-10-07T13:59:46").unwrap(), datetime_utc("2016-10-07T13:59:46Z").unwrap());
        assert_eq!(datetime_utc("2016-10-07").unwrap(), datetime_utc("2016-10-07T00:00:00Z").unwrap());
        assert_eq!(datetime("2016-10-07T06:59:46-0700").unwrap().offset().local_minus_utc(), -7 * 3600);
        // Midnight east of UTC stays on its own date.
        assert_eq!(date("2025-06-01T00:00:00+10:00"), NaiveDate::from_ymd_opt(2025, 6, 1));
        assert!(datetime("soon").is_none());
    }
}
