//! Tolerant JSON helpers for the quirks vendors share: numbers sent as strings, scalars where
//! strings were expected, and field names matched without regard to case.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;
use serde_json::{Map, Value};

/// Look a key up case-insensitively.
pub fn get_ci<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// A scalar as text (`"A"`, `12` → `"12"`, `true` → `"true"`, null → `""`).
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Rename the keys of `obj` to the canonical spelling in `known` (case-insensitive). Returns the
/// first key that is not known.
pub fn canonical_keys<'k>(
    obj: &Map<String, Value>,
    known: impl IntoIterator<Item = &'k str> + Clone,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (k, v) in obj {
        match known.clone().into_iter().find(|c| c.eq_ignore_ascii_case(k)) {
            Some(c) => {
                out.insert(c.to_string(), v.clone());
            }
            None => return Err(k.clone()),
        }
    }
    Ok(out)
}

/// Money/quantity as `Decimal`: serialized as a JSON number, read from a number or a numeric
/// string (`""` and null read as zero).
pub mod flex_decimal {
    use super::*;

    /// Serialize as a JSON number.
    pub fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        if d.fract().is_zero()
            && let Some(i) = d.to_i64()
        {
            return s.serialize_i64(i);
        }
        s.serialize_f64(d.to_f64().unwrap_or(0.0))
    }

    /// Read from a number or a numeric string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(DecVisitor)
    }

    struct DecVisitor;

    impl Visitor<'_> for DecVisitor {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number or a numeric string")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            // Through the shortest decimal text, so 1275.1 stays 1275.1.
            v.to_string().parse::<Decimal>().map_err(E::custom)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            let t = v.trim();
            if t.is_empty() {
                return Ok(Decimal::ZERO);
            }
            t.parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(t))
                .map_err(|_| E::custom(format!("'{v}' is not a number")))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Decimal, E> {
            Ok(Decimal::ZERO)
        }
        fn visit_none<E: de::Error>(self) -> Result<Decimal, E> {
            Ok(Decimal::ZERO)
        }
    }
}

/// `Option<Decimal>` as a JSON number or null, read like [`flex_decimal`] (null → `None`).
pub mod opt_flex_decimal {
    use super::*;

    /// Serialize as a number or null.
    pub fn serialize<S: Serializer>(d: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => flex_decimal::serialize(d, s),
            None => s.serialize_none(),
        }
    }

    /// Read null as `None`, anything else as [`flex_decimal`] does.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        match Value::deserialize_any_value(d)? {
            Value::Null => Ok(None),
            v => flex_decimal::deserialize(v).map(Some).map_err(de::Error::custom),
        }
    }
}

/// A string field that also accepts numbers and booleans (`"Account": 52300`), and null as `""`.
pub mod flex_string {
    use super::*;

    /// Serialize as a string.
    pub fn serialize<S: Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    /// Read any scalar.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        let v = Value::deserialize_any_value(d)?;
        match v {
            Value::Array(_) | Value::Object(_) => Err(de::Error::custom("expected a scalar")),
            other => Ok(scalar_text(&other)),
        }
    }
}

/// An integer field that also accepts numeric strings (`"Period": "201305"`); `""`/null read as 0.
pub mod flex_i64 {
    use super::*;

    /// Serialize as a number.
    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    /// Read a number or numeric string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Value::deserialize_any_value(d)? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| de::Error::custom("expected an integer")),
            Value::String(s) if s.trim().is_empty() => Ok(0),
            Value::String(s) => s.trim().parse().map_err(|_| de::Error::custom(format!("'{s}' is not an integer"))),
            Value::Null => Ok(0),
            _ => Err(de::Error::custom("expected an integer")),
        }
    }
}

/// Deserialize any value as a [`Value`] (helper for the flex modules).
trait AnyValue {
    fn deserialize_any_value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error>;
}

impl AnyValue for Value {
    fn deserialize_any_value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        <Value as serde::Deserialize>::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(with = "flex_decimal")]
        a: Decimal,
        #[serde(with = "flex_string")]
        s: String,
        #[serde(with = "flex_i64")]
        p: i64,
    }

    #[test]
    fn flex_reads_strings_and_numbers() {
        let t: T = serde_json::from_value(serde_json::json!({"a":"560.00","s":52300,"p":"201305"})).expect("t");
        assert_eq!(t, T { a: Decimal::new(56000, 2), s: "52300".into(), p: 201305 });
        let t: T = serde_json::from_value(serde_json::json!({"a":1275.1,"s":null,"p":7})).expect("t");
        assert_eq!(t.a, Decimal::new(12751, 1));
        assert_eq!(serde_json::to_value(&t).expect("v")["a"], serde_json::json!(1275.1));
        let t: T = serde_json::from_value(serde_json::json!({"a":12,"s":"x","p":7})).expect("t");
        assert_eq!(serde_json::to_value(&t).expect("v")["a"], serde_json::json!(12));
    }

    #[test]
    fn canonical_keys_case_insensitive() {
        let m = serde_json::json!({"vendor":"V1","INVOICE":"9"});
        let out = canonical_keys(m.as_object().expect("o"), ["Vendor", "Invoice"]).expect("ok");
        assert_eq!(out.get("Vendor"), Some(&serde_json::json!("V1")));
        assert_eq!(canonical_keys(m.as_object().expect("o"), ["Vendor"]), Err("INVOICE".to_string()));
    }
}
