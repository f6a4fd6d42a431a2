//! Secrets that cannot leak by accident.
//!
//! [`Redacted`] wraps a value so that `Debug`, `Display` and `Serialize` print `[redacted]`. The only
//! way to the value is [`Redacted::expose`], which makes every use greppable. [`Credentials`] is one
//! connection's credential set (a flat map of named fields), as stored in a secret store.
//!
//! Secret stores need the real values on disk/in Secrets Manager: they serialise through
//! [`Credentials::to_plain_json`] / [`Credentials::from_plain_json`], never through `Serialize`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// A value that never prints. Compare with [`Redacted::expose`] when you must.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Redacted<T>(T);

impl<T> Redacted<T> {
    pub fn new(value: T) -> Self {
        Redacted(value)
    }

    /// The secret itself. Every call site is a place a secret is used; keep them few.
    pub fn expose(&self) -> &T {
        &self.0
    }

    pub fn into_inner(self) -> T {
        self.0
    }
}

impl From<String> for Redacted<String> {
    fn from(s: String) -> Self {
        Redacted(s)
    }
}

impl From<&str> for Redacted<String> {
    fn from(s: &str) -> Self {
        Redacted(s.to_string())
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> Serialize for Redacted<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Redacted<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Redacted)
    }
}

/// One connection's credentials: named fields such as `client_id`, `client_secret`, `username`,
/// `password`, `database`, `webhook_secret`. Values are redacted in every print.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    fields: BTreeMap<String, Redacted<String>>,
}

/// Credentials that were asked for a field they do not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("credentials for {connection} have no field {field:?} (set it with `mlc credentials set {connection}`)")]
pub struct MissingCredential {
    pub connection: String,
    pub field: String,
}

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, field: &str, value: impl Into<String>) -> Self {
        self.set(field, value);
        self
    }

    pub fn set(&mut self, field: &str, value: impl Into<String>) {
        self.fields.insert(field.to_string(), Redacted(value.into()));
    }

    pub fn remove(&mut self, field: &str) -> bool {
        self.fields.remove(field).is_some()
    }

    pub fn get(&self, field: &str) -> Option<&Redacted<String>> {
        self.fields.get(field)
    }

    /// The field, or an error naming the connection and the field.
    pub fn require(&self, connection: &str, field: &str) -> Result<&Redacted<String>, MissingCredential> {
        self.fields
            .get(field)
            .ok_or_else(|| MissingCredential { connection: connection.to_string(), field: field.to_string() })
    }

    /// Field names, never values: what `mlc credentials list` shows.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Every value, for scrubbing them out of text that may echo them (error bodies, logs).
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.fields.values().map(|v| v.expose().as_str())
    }

    /// The plaintext JSON object a secret store writes (encrypted locally, Secrets Manager on AWS).
    pub fn to_plain_json(&self) -> String {
        let m: BTreeMap<&str, &str> = self.fields.iter().map(|(k, v)| (k.as_str(), v.expose().as_str())).collect();
        serde_json::to_string(&m).unwrap_or_else(|_| "{}".to_string())
    }

    /// Parse the JSON object a secret store holds. Non-string values are kept as their JSON text.
    pub fn from_plain_json(json: &str) -> Result<Self, serde_json::Error> {
        let m: BTreeMap<String, serde_json::Value> = serde_json::from_str(json)?;
        let fields = m
            .into_iter()
            .map(|(k, v)| {
                let s = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, Redacted(s))
            })
            .collect();
        Ok(Credentials { fields })
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.fields.keys().map(|k| (k, "[redacted]"))).finish()
    }
}

/// Replace every occurrence of any secret value in `text` with `[redacted]`. Used on text that came
/// back from a server and may echo what was sent (error bodies quoting a form, for example).
pub fn scrub<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = text.to_string();
    for s in secrets {
        // Short values (like "Y" or "1") would shred the text and are not secret material.
        if s.len() >= 4 {
            out = out.replace(s, "[redacted]");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_never_prints() {
        let r = Redacted::new("hunter2-password".to_string());
        assert_eq!(format!("{r}"), "[redacted]");
        assert_eq!(format!("{r:?}"), "[redacted]");
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"[redacted]\"");
        assert_eq!(r.expose(), "hunter2-password");
    }

    #[test]
    fn credentials_debug_shows_names_only() {
        let c = Credentials::new().with("password", "s3cr3t-value").with("username", "api");
        let d = format!("{c:?}");
        assert!(d.contains("password") && !d.contains("s3cr3t-value"), "{d}");
        let back = Credentials::from_plain_json(&c.to_plain_json()).unwrap();
        assert_eq!(back.get("password").unwrap().expose(), "s3cr3t-value");
        let e = c.require("deltek", "client_secret").unwrap_err().to_string();
        assert!(e.contains("deltek") && e.contains("client_secret"), "{e}");
    }

    #[test]
    fn scrub_removes_values() {
        let t = scrub("bad password s3cr3t-value for Y", ["s3cr3t-value", "Y"]);
        assert_eq!(t, "bad password [redacted] for Y");
    }
}
