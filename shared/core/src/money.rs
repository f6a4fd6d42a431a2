//! Money: exact decimal amounts that always travel with their currency.
//!
//! Every amount in ml-connector is a `rust_decimal::Decimal` (never a float) and every document carries
//! an ISO 4217 currency. Rounding is explicit: [`Money::rounded`] rounds half away from zero to the
//! currency's minor unit, which is what AP systems do when they store a voucher line.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An ISO 4217 alphabetic currency code, stored upper-case (`USD`, `EUR`, `JPY`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const AUD: Currency = Currency(*b"AUD");
    pub const NZD: Currency = Currency(*b"NZD");
    pub const CAD: Currency = Currency(*b"CAD");

    /// The three-letter code.
    pub fn code(&self) -> &str {
        // The bytes are checked ASCII letters on construction.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Digits after the decimal point in this currency's minor unit (ISO 4217 exponent).
    pub fn minor_units(&self) -> u32 {
        match &self.0 {
            b"JPY" | b"KRW" | b"VND" | b"CLP" | b"ISK" | b"UGX" | b"XAF" | b"XOF" | b"XPF" | b"PYG" | b"RWF"
            | b"KMF" | b"GNF" | b"DJF" | b"VUV" | b"BIF" => 0,
            b"BHD" | b"KWD" | b"JOD" | b"OMR" | b"TND" | b"LYD" | b"IQD" => 3,
            _ => 2,
        }
    }
}

/// A currency code that is not three ASCII letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("currency code {0:?} is not three letters (ISO 4217, e.g. USD)")]
pub struct InvalidCurrency(pub String);

impl FromStr for Currency {
    type Err = InvalidCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() != 3 || !b.iter().all(|c| c.is_ascii_alphabetic()) {
            return Err(InvalidCurrency(s.to_string()));
        }
        Ok(Currency([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase(), b[2].to_ascii_uppercase()]))
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidCurrency;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

/// An amount in a currency.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

/// Arithmetic across two currencies, which is always a bug upstream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot combine {left} with {right}: different currencies")]
pub struct CurrencyMismatch {
    pub left: Currency,
    pub right: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money { amount: Decimal::ZERO, currency }
    }

    /// Sum of two amounts in the same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, CurrencyMismatch> {
        if self.currency != other.currency {
            return Err(CurrencyMismatch { left: self.currency, right: other.currency });
        }
        Ok(Money::new(self.amount + other.amount, self.currency))
    }

    /// Rounded half away from zero to the currency's minor unit (2 places for USD, 0 for JPY).
    pub fn rounded(self) -> Money {
        Money::new(round_to_minor(self.amount, self.currency), self.currency)
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }
}

/// Round half away from zero to the currency's minor unit.
pub fn round_to_minor(amount: Decimal, currency: Currency) -> Decimal {
    amount.round_dp_with_strategy(currency.minor_units(), RoundingStrategy::MidpointAwayFromZero)
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money::new(-self.amount, self.currency)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({} {})", self.amount, self.currency)
    }
}

/// How far a document's lines may drift from its header before it is refused.
///
/// Sources round per line and per header independently, so an exact match is too strict; the default
/// of one minor unit per document (0.01 USD) catches real mismatches and accepts rounding noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolerance(pub Decimal);

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance(Decimal::new(1, 2))
    }
}

impl Tolerance {
    pub fn accepts(&self, a: Decimal, b: Decimal) -> bool {
        (a - b).abs() <= self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal::dec;

    #[test]
    fn currency_parses_and_normalises() {
        assert_eq!("usd".parse::<Currency>().unwrap(), Currency::USD);
        assert_eq!(" EUR ".parse::<Currency>().unwrap().code(), "EUR");
        assert!("US".parse::<Currency>().is_err());
        assert!("US1".parse::<Currency>().is_err());
        assert!("".parse::<Currency>().is_err());
        let err = "dollars".parse::<Currency>().unwrap_err().to_string();
        assert!(err.contains("dollars"), "{err}");
    }

    #[test]
    fn currency_serde_round_trip_and_rejects_bad_codes() {
        let j = serde_json::to_string(&Currency::GBP).unwrap();
        assert_eq!(j, "\"GBP\"");
        assert_eq!(serde_json::from_str::<Currency>(&j).unwrap(), Currency::GBP);
        assert!(serde_json::from_str::<Currency>("\"XXXX\"").is_err());
    }

    #[test]
    fn rounding_is_half_away_from_zero_per_minor_unit() {
        let usd = Currency::USD;
        assert_eq!(round_to_minor(dec!(2.345), usd), dec!(2.35));
        assert_eq!(round_to_minor(dec!(-2.345), usd), dec!(-2.35));
        assert_eq!(round_to_minor(dec!(2.344), usd), dec!(2.34));
        let jpy: Currency = "JPY".parse().unwrap();
        assert_eq!(round_to_minor(dec!(100.5), jpy), dec!(101));
        let kwd: Currency = "KWD".parse().unwrap();
        assert_eq!(round_to_minor(dec!(1.2345), kwd), dec!(1.235));
    }

    #[test]
    fn adding_across_currencies_is_refused() {
        let a = Money::new(dec!(1), Currency::USD);
        let b = Money::new(dec!(1), Currency::EUR);
        assert!(a.checked_add(b).is_err());
        assert_eq!(a.checked_add(a).unwrap().amount, dec!(2));
    }

    #[test]
    fn tolerance_default_is_one_cent() {
        let t = Tolerance::default();
        assert!(t.accepts(dec!(100.00), dec!(100.01)));
        assert!(!t.accepts(dec!(100.00), dec!(100.02)));
    }

    proptest! {
        #[test]
        fn rounding_moves_at_most_half_a_minor_unit(cents in -10_000_000i64..10_000_000, extra in 0u32..1000) {
            let amount = Decimal::new(cents * 1000 + extra as i64, 5);
            let r = round_to_minor(amount, Currency::USD);
            prop_assert!((r - amount).abs() <= Decimal::new(5, 3));
            prop_assert_eq!(r.scale() <= 2, true);
        }
    }
}
