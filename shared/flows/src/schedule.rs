//! Poll cadences: how often each flow's scheduled poll runs (`30s`, `5m`, `1h`, `1d`).
//! The local scheduler uses them directly; the SAM template turns them into `rate()` expressions.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A poll interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cadence(pub Duration);

impl FromStr for Cadence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
        let n: u64 = num
            .parse()
            .map_err(|_| format!("cadence {s:?} is not a number with a unit (examples: 30s, 5m, 1h, 1d)"))?;
        let secs = match unit.trim() {
            "s" | "sec" | "secs" => n,
            "m" | "min" | "mins" => n * 60,
            "h" | "hour" | "hours" => n * 3600,
            "d" | "day" | "days" => n * 86_400,
            other => return Err(format!("cadence {s:?} has unknown unit {other:?} (use s, m, h or d)")),
        };
        if secs == 0 {
            return Err(format!("cadence {s:?} must be longer than zero"));
        }
        Ok(Cadence(Duration::from_secs(secs)))
    }
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_secs();
        match s {
            s if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            s if s % 3600 == 0 => write!(f, "{}h", s / 3600),
            s if s % 60 == 0 => write!(f, "{}m", s / 60),
            s => write!(f, "{s}s"),
        }
    }
}

impl Cadence {
    /// The EventBridge `rate()` expression for this cadence.
    pub fn rate_expression(&self) -> String {
        let s = self.0.as_secs();
        let (n, unit) = match s {
            s if s % 86_400 == 0 => (s / 86_400, "day"),
            s if s % 3600 == 0 => (s / 3600, "hour"),
            s => (s.div_ceil(60).max(1), "minute"),
        };
        format!("rate({n} {unit}{})", if n == 1 { "" } else { "s" })
    }
}

impl Serialize for Cadence {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cadence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!("30s".parse::<Cadence>().unwrap().0, Duration::from_secs(30));
        assert_eq!("15 m".parse::<Cadence>().unwrap().to_string(), "15m");
        assert_eq!("2h".parse::<Cadence>().unwrap().rate_expression(), "rate(2 hours)");
        assert_eq!("1d".parse::<Cadence>().unwrap().rate_expression(), "rate(1 day)");
        assert_eq!("90s".parse::<Cadence>().unwrap().rate_expression(), "rate(2 minutes)");
        assert!("0m".parse::<Cadence>().is_err());
        assert!("5 weeks".parse::<Cadence>().unwrap_err().contains("weeks"));
        assert!("soon".parse::<Cadence>().is_err());
    }
}
