//! [`Fields`]: one JSON object read tolerantly with case-insensitive keys, noting what it could
//! not read; [`Row`]: an owned record with the same readers; [`records`]: the records of an answer
//! whatever its shape.

use std::cell::RefCell;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

/// What a record's readers could not read, in order: `"purchase 12: RequiredBy 'soon' is not a date"`.
/// A record with an odd field is still a record; its notes go into its report.
#[derive(Debug, Default)]
pub struct Notes(RefCell<Vec<String>>);

impl Notes {
    pub fn push(&self, note: String) {
        self.0.borrow_mut().push(note);
    }
    /// The notes so far, leaving none.
    pub fn take(&self) -> Vec<String> {
        self.0.take()
    }
    pub fn is_empty(&self) -> bool {
        self.0.borrow().is_empty()
    }
}

/// A case-insensitive, tolerant view of one JSON object.
///
/// Keys are matched exactly first, then ignoring ASCII case. Null reads as absent. Every reader
/// returns `None` for absent and blank values; a value that is present but cannot be read (a
/// date that is not a date) is `None` *and* a note, when the view was made [`Fields::noting`].
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    m: &'a Map<String, Value>,
    what: &'a str,
    notes: Option<&'a Notes>,
}

impl std::fmt::Debug for Fields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fields").field("what", &self.what).field("keys", &self.m.len()).finish()
    }
}

impl<'a> Fields<'a> {
    /// A view that notes nothing.
    pub fn new(m: &'a Map<String, Value>) -> Self {
        Fields { m, what: "", notes: None }
    }

    /// A view of `v` when it is an object.
    pub fn of(v: &'a Value) -> Option<Self> {
        v.as_object().map(Self::new)
    }

    /// Note what cannot be read into `notes`, prefixed with `what` (`"purchase 12"`).
    pub fn noting(self, what: &'a str, notes: &'a Notes) -> Self {
        Fields { what, notes: Some(notes), ..self }
    }

    /// A view of a nested object sharing this one's notes.
    pub fn sub(&self, m: &'a Map<String, Value>) -> Fields<'a> {
        Fields { m, ..*self }
    }

    /// The object viewed.
    pub fn map(&self) -> &'a Map<String, Value> {
        self.m
    }

    /// Record a note (also for the connector's own checks).
    pub fn note(&self, msg: impl std::fmt::Display) {
        if let Some(n) = self.notes {
            n.push(if self.what.is_empty() { msg.to_string() } else { format!("{}: {msg}", self.what) });
        }
    }

    /// The raw value (null reads as absent).
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.m
            .get(key)
            .or_else(|| self.m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
            .filter(|v| !v.is_null())
    }

    /// Whether the key is there at all (even null or blank).
    pub fn has(&self, key: &str) -> bool {
        self.m.contains_key(key) || self.m.keys().any(|k| k.eq_ignore_ascii_case(key))
    }

    /// A scalar as trimmed text; blank → `None`; an object or array is noted.
    pub fn text(&self, key: &str) -> Option<String> {
        let v = self.get(key)?;
        if matches!(v, Value::Array(_) | Value::Object(_)) {
            self.note(format_args!("{key} is {}, not text", short(v)));
            return None;
        }
        super::text(v)
    }

    /// [`Fields::text`], `""` when absent.
    pub fn str(&self, key: &str) -> String {
        self.text(key).unwrap_or_default()
    }

    /// An exact amount from a number or a numeric string.
    pub fn decimal(&self, key: &str) -> Option<Decimal> {
        let v = self.get(key)?;
        if matches!(v, Value::String(s) if s.trim().is_empty()) {
            return None;
        }
        let d = super::decimal(v);
        if d.is_none() {
            self.note(format_args!("{key} {} is not a number", short(v)));
        }
        d
    }

    /// A whole number (64-bit), from a number or a string.
    pub fn int(&self, key: &str) -> Option<i64> {
        self.read(key, super::int, "a whole number")
    }

    /// A non-negative whole number (ids, counts).
    pub fn uint(&self, key: &str) -> Option<u64> {
        self.read(key, super::uint, "a non-negative whole number")
    }

    /// A yes/no ([`super::flag`]).
    pub fn flag(&self, key: &str) -> Option<bool> {
        self.read(key, super::flag, "a yes/no value")
    }

    /// [`Fields::flag`], false when absent or unreadable.
    pub fn is(&self, key: &str) -> bool {
        self.flag(key).unwrap_or(false)
    }

    /// An instant; zone-less stamps are UTC ([`super::datetime_utc`]).
    pub fn datetime(&self, key: &str) -> Option<DateTime<Utc>> {
        self.stamp(key, super::datetime_utc)
    }

    /// An instant; zone-less stamps are in the tenant's `zone` ([`super::datetime_in`]).
    pub fn datetime_in(&self, key: &str, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
        self.stamp(key, |s| super::datetime_in(s, zone))
    }

    /// The wall date-time as written, zone dropped ([`super::wall_time`]).
    pub fn wall_time(&self, key: &str) -> Option<NaiveDateTime> {
        self.stamp(key, super::wall_time)
    }

    /// The date as written ([`super::date`]).
    pub fn date(&self, key: &str) -> Option<NaiveDate> {
        self.stamp(key, super::date)
    }

    /// A nested object.
    pub fn object(&self, key: &str) -> Option<Fields<'a>> {
        match self.get(key)? {
            Value::Object(m) => Some(self.sub(m)),
            other => {
                self.note(format_args!("{key} is {}, not an object", short(other)));
                None
            }
        }
    }

    /// Objects under a key: an array of objects, one object (answers that drop the array for a
    /// single item), or arrays nested one level; other elements are noted and skipped.
    pub fn objects(&self, key: &str) -> Vec<&'a Map<String, Value>> {
        let mut out = Vec::new();
        match self.get(key) {
            Some(Value::Array(a)) => {
                for item in a {
                    match item {
                        Value::Object(m) => out.push(m),
                        Value::Array(inner) => out.extend(inner.iter().filter_map(Value::as_object)),
                        Value::Null => {}
                        other => self.note(format_args!("{key} holds {}, not an object", short(other))),
                    }
                }
            }
            Some(Value::Object(m)) => out.push(m),
            Some(other) => self.note(format_args!("{key} is {}, not a list", short(other))),
            None => {}
        }
        out
    }

    fn read<T>(&self, key: &str, parse: impl Fn(&Value) -> Option<T>, kind: &str) -> Option<T> {
        let v = self.get(key)?;
        if matches!(v, Value::String(s) if s.trim().is_empty()) {
            return None;
        }
        let r = parse(v);
        if r.is_none() {
            self.note(format_args!("{key} {} is not {kind}", short(v)));
        }
        r
    }

    fn stamp<T>(&self, key: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
        let t = self.text(key)?;
        let r = parse(&t);
        if r.is_none() {
            self.note(format_args!("{key} '{t}' is not a date"));
        }
        r
    }
}

/// A value quoted briefly for a note.
pub(crate) fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    };
    if s.chars().count() > 80 { format!("{}…", s.chars().take(80).collect::<String>()) } else { s }
}

/// One record of an answer, owned, keys lower-cased: the readers of [`Fields`] without notes,
/// plus defaults convenient for rows (`text` is `""` when absent, `money` zero, `flag` false).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    fields: Map<String, Value>,
}

impl Row {
    /// A row from a JSON object; `None` for anything else.
    pub fn from_value(v: Value) -> Option<Row> {
        match v {
            Value::Object(m) => Some(Row { fields: m.into_iter().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect() }),
            _ => None,
        }
    }

    /// The tolerant readers over this row.
    pub fn fields(&self) -> Fields<'_> {
        Fields::new(&self.fields)
    }

    /// The raw value of a field (key compared case-insensitively; null included).
    pub fn raw(&self, key: &str) -> Option<&Value> {
        self.fields.get(&key.to_ascii_lowercase())
    }

    /// Whether the answer carried this field at all (even blank).
    pub fn has(&self, key: &str) -> bool {
        self.raw(key).is_some()
    }

    /// The field as trimmed text (`""` when absent, null or blank).
    pub fn text(&self, key: &str) -> String {
        self.raw(key).map(super::scalar_text).map(|s| s.trim().to_string()).unwrap_or_default()
    }

    /// The field as trimmed text, `None` when absent or blank.
    pub fn opt_text(&self, key: &str) -> Option<String> {
        let t = self.text(key);
        (!t.is_empty()).then_some(t)
    }

    /// The field as an exact amount; `None` when absent, blank or not a number.
    pub fn decimal(&self, key: &str) -> Option<Decimal> {
        self.raw(key).and_then(super::decimal)
    }

    /// The field as an amount, zero when absent or blank.
    pub fn money(&self, key: &str) -> Decimal {
        self.decimal(key).unwrap_or_default()
    }

    /// The field as a whole number (`202506`, `"202506"`, `202506.0`).
    pub fn int(&self, key: &str) -> Option<i64> {
        self.raw(key).and_then(super::int)
    }

    /// The field as an instant (zone-less = UTC).
    pub fn datetime(&self, key: &str) -> Option<DateTime<Utc>> {
        self.raw(key).and_then(super::text).and_then(|s| super::datetime_utc(&s))
    }

    /// The field's wall date-time as written, zone dropped ([`super::wall_time`]).
    pub fn date(&self, key: &str) -> Option<NaiveDateTime> {
        self.raw(key).and_then(super::text).and_then(|s| super::wall_time(&s))
    }

    /// A yes/no; false when absent or unreadable.
    pub fn flag(&self, key: &str) -> bool {
        self.raw(key).and_then(super::flag).unwrap_or(false)
    }

    /// A nested list of rows.
    pub fn rows(&self, key: &str) -> Vec<Row> {
        self.raw(key).cloned().map(records).unwrap_or_default()
    }

    /// The amounts present among `keys`.
    pub fn money_fields<'a>(&'a self, keys: &'a [&'a str]) -> impl Iterator<Item = Decimal> + 'a {
        keys.iter().filter_map(|k| self.decimal(k))
    }
}

/// The records of an answer, whatever its shape: an array of objects, one object, a string holding
/// either (answers that JSON-encode twice), arrays nested one level; `null` and `""` are none.
/// Elements that are not objects are skipped and logged.
pub fn records(v: Value) -> Vec<Row> {
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
                        tracing::warn!(%element, "skipped a non-object element in an answer");
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
                Ok(inner @ (Value::Array(_) | Value::Object(_))) => records(inner),
                _ => {
                    let answer = short(&Value::String(s.clone()));
                    tracing::warn!(%answer, "expected records, got a text answer");
                    Vec::new()
                }
            }
        }
        _ => Vec::new(),
    }
}
