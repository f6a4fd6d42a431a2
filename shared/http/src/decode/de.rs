//! Serde helpers for typed models: `#[serde(default, deserialize_with = "mlc_http::decode::de::…")]`.
//!
//! Each accepts every spelling the matching function in [`crate::decode`] does. The `opt_*`
//! helpers read absent (with `#[serde(default)]`), `null`, `""` and `" "` as `None`; the plain
//! ones require a readable value and fail naming what they got.
//!
//! ```
//! use rust_decimal::Decimal;
//! #[derive(serde::Deserialize)]
//! struct Bill {
//!     #[serde(deserialize_with = "mlc_http::decode::de::uint")]
//!     id: u64,
//!     #[serde(default, deserialize_with = "mlc_http::decode::de::opt_decimal")]
//!     total: Option<Decimal>,
//!     #[serde(default, deserialize_with = "mlc_http::decode::de::opt_text")]
//!     memo: Option<String>,
//!     #[serde(default, deserialize_with = "mlc_http::decode::de::opt_datetime_utc")]
//!     updated: Option<chrono::DateTime<chrono::Utc>>,
//! }
//! let b: Bill = serde_json::from_str(r#"{"id":"9007199254740993","total":"1,200.50","memo":" ","updated":"2025-01-02T03:04:05.1234567"}"#).unwrap();
//! assert_eq!(b.id, 9007199254740993);
//! assert_eq!(b.total, Some(Decimal::new(120050, 2)));
//! assert_eq!(b.memo, None);
//! assert!(b.updated.is_some());
//! ```

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{Deserializer, Error};
use serde_json::Value;

fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Value::deserialize(d)
}

fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn required<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: impl Fn(&Value) -> Option<T>,
    what: &str,
) -> Result<T, D::Error> {
    let v = value(d)?;
    parse(&v).ok_or_else(|| D::Error::custom(format!("{} is not {what}", super::fields::short(&v))))
}

fn optional<'de, D: Deserializer<'de>, T>(
    d: D,
    parse: impl Fn(&Value) -> Option<T>,
    what: &str,
) -> Result<Option<T>, D::Error> {
    let v = value(d)?;
    if blank(&v) {
        return Ok(None);
    }
    parse(&v).map(Some).ok_or_else(|| D::Error::custom(format!("{} is not {what}", super::fields::short(&v))))
}

fn stamp<T>(parse: impl Fn(&str) -> Option<T>) -> impl Fn(&Value) -> Option<T> {
    move |v| super::text(v).and_then(|s| parse(&s))
}

/// Text from a string, number or boolean, trimmed; blank is `None`.
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    optional(d, super::text, "text")
}

/// An exact amount from a number or numeric string.
pub fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    required(d, super::decimal, "a number")
}

/// [`decimal`], blank is `None`.
pub fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    optional(d, super::decimal, "a number")
}

/// A 64-bit whole number from a number or string.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    required(d, super::int, "a whole number")
}

/// [`int`], blank is `None`.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    optional(d, super::int, "a whole number")
}

/// A non-negative 64-bit whole number (ids) from a number or string.
pub fn uint<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    required(d, super::uint, "a non-negative whole number")
}

/// [`uint`], blank is `None`.
pub fn opt_uint<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    optional(d, super::uint, "a non-negative whole number")
}

/// A yes/no from `true`, `"Y"`, `"true"`, `1` ...
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    required(d, super::flag, "a yes/no value")
}

/// [`flag`], blank is `None`.
pub fn opt_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    optional(d, super::flag, "a yes/no value")
}

/// An instant; zone-less stamps are UTC.
pub fn datetime_utc<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    required(d, stamp(super::datetime_utc), "a date and time")
}

/// [`datetime_utc`], blank is `None`.
pub fn opt_datetime_utc<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    optional(d, stamp(super::datetime_utc), "a date and time")
}

/// The date as written (the date part of a stamp).
pub fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    required(d, stamp(super::date), "a date")
}

/// [`date`], blank is `None`.
pub fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    optional(d, stamp(super::date), "a date")
}

/// A list that may come as one object, an array, `null` or `""` (a list of one dropped to its
/// item; nothing): always a `Vec`.
pub fn one_or_many<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
    let v = value(d)?;
    match v {
        Value::Array(items) => items
            .into_iter()
            .filter(|i| !i.is_null())
            .map(|i| serde_json::from_value(i).map_err(D::Error::custom))
            .collect(),
        v if blank(&v) => Ok(Vec::new()),
        v => serde_json::from_value(v).map(|one| vec![one]).map_err(D::Error::custom),
    }
}
