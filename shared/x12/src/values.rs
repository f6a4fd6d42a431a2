//! Element values: text, the X12 numeric types and dates, read exactly.
//!
//! - **R** (real): optional `-`, digits, at most one explicit decimal point: `5.9`, `-12`, `.5`.
//! - **N2** (implied two decimals): optional `-` and digits, `28566` = 285.66. A decimal point in
//!   an N2 element is a common sender bug; it is read as written and flagged (§8 item 9).
//! - **N0**: integer.
//! - **DT**: `CCYYMMDD`, or `YYMMDD` (ISA09, and some senders in 8-character fields).
//!
//! Money never passes through a float: digits are accumulated into an integer mantissa and handed
//! to `Decimal` with their scale. At most 28 digits are accepted (what `Decimal` holds); longer
//! values are reported, not rounded.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::error::ErrorKind;

/// A value that could not be read, before a location is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub kind: ErrorKind,
    pub expected: &'static str,
    pub found: String,
}

fn bad(kind: ErrorKind, expected: &'static str, raw: &[u8]) -> ValueError {
    ValueError { kind, expected, found: shown(raw) }
}

/// A raw value for an error message, quoted, at most 40 characters.
pub fn shown(raw: &[u8]) -> String {
    let t = String::from_utf8_lossy(&raw[..raw.len().min(40)]).into_owned();
    if raw.len() > 40 { format!("{t:?}…") } else { format!("{t:?}") }
}

/// Trims spaces (fixed-width padding) and ASCII control characters (stray tabs, NULs, CRs) from
/// both ends; they never carry meaning at the edge of an element.
pub fn trim(raw: &[u8]) -> &[u8] {
    let keep = |b: &u8| *b > b' ' && *b != 0x7f;
    let start = raw.iter().position(keep).unwrap_or(raw.len());
    let end = raw.iter().rposition(keep).map_or(start, |p| p + 1);
    &raw[start..end]
}

/// The [`trim`] rule on text: what the reader trims from an element (spaces and ASCII control
/// characters), so the writer trims exactly the same and a rendered value reads back as written.
/// Not `str::trim`, which also strips Unicode spaces such as U+00A0 that the reader keeps.
pub fn trim_str(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ' || c == '\u{7f}')
}

/// Text of an element, trimmed. UTF-8 when it is; otherwise each byte is read as Latin-1 and the
/// second value is `true` so the caller can warn once.
pub fn text(raw: &[u8]) -> (String, bool) {
    let t = trim(raw);
    match std::str::from_utf8(t) {
        Ok(s) => (s.to_string(), false),
        Err(_) => (t.iter().map(|&b| b as char).collect(), true),
    }
}

/// Like [`text`], borrowing from the input when it is UTF-8.
pub fn text_cow(raw: &[u8]) -> (std::borrow::Cow<'_, str>, bool) {
    let t = trim(raw);
    match std::str::from_utf8(t) {
        Ok(s) => (std::borrow::Cow::Borrowed(s), false),
        Err(_) => (std::borrow::Cow::Owned(t.iter().map(|&b| b as char).collect()), true),
    }
}

/// Like [`text_cow`], with the release character (declared by an ISX) removed where it escapes
/// a delimiter: `STAR?*CO` with release `?` reads `STAR*CO`.
pub fn text_escaped(raw: &[u8], release: Option<u8>) -> (std::borrow::Cow<'_, str>, bool) {
    match release {
        Some(r) if raw.contains(&r) => {
            let mut plain = Vec::with_capacity(raw.len());
            let mut bytes = raw.iter();
            while let Some(&b) = bytes.next() {
                if b == r {
                    if let Some(&next) = bytes.next() {
                        plain.push(next);
                    }
                } else {
                    plain.push(b);
                }
            }
            let (t, latin1) = text(&plain);
            (std::borrow::Cow::Owned(t), latin1)
        }
        _ => text_cow(raw),
    }
}

const MAX_DIGITS: usize = 28;

/// Digits and an optional decimal point into (negative, mantissa, scale).
fn digits(raw: &[u8], allow_point: bool, expected: &'static str) -> Result<(bool, u128, u32), ValueError> {
    let t = trim(raw);
    let (neg, body) = match t {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, t),
    };
    let mut mantissa: u128 = 0;
    let mut n_digits = 0usize;
    let mut scale: Option<u32> = None;
    for &b in body {
        match b {
            b'0'..=b'9' => {
                n_digits += 1;
                if n_digits > MAX_DIGITS {
                    return Err(bad(ErrorKind::InvalidNumber, "at most 28 digits", raw));
                }
                mantissa = mantissa * 10 + u128::from(b - b'0');
                if let Some(s) = scale.as_mut() {
                    *s += 1;
                }
            }
            b'.' if allow_point && scale.is_none() => scale = Some(0),
            _ => return Err(bad(ErrorKind::InvalidNumber, expected, raw)),
        }
    }
    if n_digits == 0 {
        return Err(bad(ErrorKind::InvalidNumber, expected, raw));
    }
    Ok((neg, mantissa, scale.unwrap_or(0)))
}

fn to_decimal(neg: bool, mantissa: u128, scale: u32, raw: &[u8]) -> Result<Decimal, ValueError> {
    let m = i128::try_from(mantissa).map_err(|_| bad(ErrorKind::InvalidNumber, "a smaller number", raw))?;
    let d = Decimal::try_from_i128_with_scale(if neg { -m } else { m }, scale)
        .map_err(|_| bad(ErrorKind::InvalidNumber, "a number Decimal can hold", raw))?;
    Ok(d)
}

/// An R (real) element: explicit decimal point optional.
pub fn real(raw: &[u8]) -> Result<Decimal, ValueError> {
    let (neg, m, scale) = digits(raw, true, "a decimal number such as 12.50 or -3")?;
    to_decimal(neg, m, scale, raw)
}

/// An N2 element: two implied decimals. Returns the value and whether an explicit point was found
/// (then the value is read as written).
pub fn implied2(raw: &[u8]) -> Result<(Decimal, bool), ValueError> {
    let (neg, m, scale) = digits(raw, true, "digits with two implied decimals such as 28566")?;
    if trim(raw).contains(&b'.') {
        return Ok((to_decimal(neg, m, scale, raw)?, true));
    }
    Ok((to_decimal(neg, m, 2, raw)?, false))
}

/// An N0 element (integer, optional sign).
pub fn integer(raw: &[u8]) -> Result<i64, ValueError> {
    let (neg, m, _) = digits(raw, false, "an integer")?;
    let v = i64::try_from(m).map_err(|_| bad(ErrorKind::InvalidNumber, "an integer below 2^63", raw))?;
    Ok(if neg { -v } else { v })
}

/// A non-negative count or control number (leading zeros allowed: `000000001`).
pub fn unsigned(raw: &[u8]) -> Result<u64, ValueError> {
    let t = trim(raw);
    if t.is_empty() || t.len() > 18 || !t.iter().all(u8::is_ascii_digit) {
        return Err(bad(ErrorKind::InvalidNumber, "digits only", raw));
    }
    Ok(t.iter().fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0')))
}

/// A DT element. Returns the date and whether it was the six-digit `YYMMDD` form (years 00–69 are
/// read as 20xx, 70–99 as 19xx).
pub fn date(raw: &[u8]) -> Result<(NaiveDate, bool), ValueError> {
    let t = trim(raw);
    if !t.iter().all(u8::is_ascii_digit) || !(t.len() == 8 || t.len() == 6) {
        return Err(bad(ErrorKind::InvalidDate, "a date CCYYMMDD", raw));
    }
    let n = |r: &[u8]| r.iter().fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'));
    let (year, rest, short) = if t.len() == 8 {
        (n(&t[..4]) as i32, &t[4..], false)
    } else {
        let yy = n(&t[..2]) as i32;
        (if yy < 70 { 2000 + yy } else { 1900 + yy }, &t[2..], true)
    };
    NaiveDate::from_ymd_opt(year, n(&rest[..2]), n(&rest[2..4]))
        .map(|d| (d, short))
        .ok_or_else(|| bad(ErrorKind::InvalidDate, "a real calendar date CCYYMMDD", raw))
}

/// A TM element: `HHMM`, `HHMMSS`, `HHMMSSD`, `HHMMSSDD`.
pub fn time(raw: &[u8]) -> Result<(), ValueError> {
    let t = trim(raw);
    let ok = (4..=8).contains(&t.len())
        && t.len() != 5
        && t.iter().all(u8::is_ascii_digit)
        && (t[0] - b'0') * 10 + (t[1] - b'0') < 24
        && (t[2] - b'0') * 10 + (t[3] - b'0') < 60
        && (t.len() < 6 || (t[4] - b'0') * 10 + (t[5] - b'0') < 60);
    if ok { Ok(()) } else { Err(bad(ErrorKind::InvalidTime, "a time HHMM[SS[DD]]", raw)) }
}

/// Digits of a numeric value without sign or decimal point, as CTT02's hash rule reads them.
pub fn hash_digits(raw: &[u8]) -> Option<u128> {
    let t = trim(raw);
    let mut v: u128 = 0;
    let mut any = false;
    for &b in t {
        match b {
            b'0'..=b'9' => {
                v = v.checked_mul(10)?.checked_add(u128::from(b - b'0'))?;
                any = true;
            }
            b'-' | b'.' => {}
            _ => return None,
        }
    }
    any.then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    #[test]
    fn real_values() {
        assert_eq!(real(b"5.9").unwrap(), dec!(5.9));
        assert_eq!(real(b"9.0900").unwrap(), dec!(9.0900));
        assert_eq!(real(b"160").unwrap(), dec!(160));
        assert_eq!(real(b"-12.50").unwrap(), dec!(-12.50));
        assert_eq!(real(b".5").unwrap(), dec!(0.5));
        assert_eq!(real(b" 7 ").unwrap(), dec!(7));
        for bad in [&b""[..], b"-", b".", b"1.2.3", b"1,000", b"+5", b"1e5", b"12a", b"--1"] {
            assert!(real(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        assert!(real(&[b'9'; 29]).is_err());
        assert!(real(&[b'9'; 28]).is_ok());
    }

    #[test]
    fn implied_two_decimals() {
        assert_eq!(implied2(b"28566").unwrap(), (dec!(285.66), false));
        assert_eq!(implied2(b"-1500").unwrap(), (dec!(-15.00), false));
        assert_eq!(implied2(b"5").unwrap(), (dec!(0.05), false));
        assert_eq!(implied2(b"285.66").unwrap(), (dec!(285.66), true));
        assert!(implied2(b"12X").is_err());
    }

    #[test]
    fn integers_and_control_numbers() {
        assert_eq!(integer(b"-3").unwrap(), -3);
        assert_eq!(unsigned(b"000003438").unwrap(), 3438);
        assert!(unsigned(b"-1").is_err());
        assert!(unsigned(b"").is_err());
        assert!(unsigned(b"1234567890123456789").is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(date(b"20260301").unwrap(), (NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), false));
        assert_eq!(date(b"260301").unwrap(), (NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(), true));
        assert_eq!(date(b"991231").unwrap().0, NaiveDate::from_ymd_opt(1999, 12, 31).unwrap());
        assert!(date(b"20260230").is_err());
        assert!(date(b"2026031").is_err());
        assert!(time(b"1200").is_ok() && time(b"235959").is_ok() && time(b"12000001").is_ok());
        assert!(time(b"2460").is_err() && time(b"12345").is_err() && time(b"ab12").is_err());
    }

    #[test]
    fn text_decoding() {
        assert_eq!(text(b"  ACME  "), ("ACME".to_string(), false));
        assert_eq!(text(b"M\xfcller"), ("Müller".to_string(), true));
        assert_eq!(text("Müller".as_bytes()), ("Müller".to_string(), false));
    }

    #[test]
    fn release_character_is_removed_from_text() {
        assert_eq!(text_escaped(b"STAR?*ALLIANCE??", Some(b'?')).0, "STAR*ALLIANCE?");
        assert_eq!(text_escaped(b"PLAIN", Some(b'?')).0, "PLAIN");
        assert_eq!(text_escaped(b"A?B", None).0, "A?B");
    }

    #[test]
    fn hash_rule_ignores_sign_and_point() {
        assert_eq!(hash_digits(b"-1.5"), Some(15));
        assert_eq!(hash_digits(b"x"), None);
    }
}
