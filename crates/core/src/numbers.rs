//! Exact numbers: money in integer minor units and fixed-point scores and weights.
//!
//! Scores and weights carry four decimal places (`SCALE` = 10 000). Every division rounds half
//! away from zero to the nearest 0.0001, once, at the step where it happens; nothing uses
//! floating point, so every node of a cluster computes the same ranking bit for bit.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Fixed-point scale of [`Score`] and [`Weight`]: four decimal places.
pub const SCALE: i64 = 10_000;

/// Integer division of `n` by `d` (> 0), rounding half away from zero.
pub(crate) fn div_round(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    let q = n / d;
    let r = n % d;
    if r.abs() * 2 >= d { q + n.signum() } else { q }
}

/// Parses a JSON number with at most four decimals into fixed point.
fn parse_fixed(v: &serde_json::Number) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return i.checked_mul(SCALE);
    }
    // A float: accept it when it is within rounding noise of a multiple of 0.0001 (0.35 is
    // 3499.9999999999995 / 10 000 in binary). IEEE arithmetic makes this the same everywhere.
    let f = v.as_f64()?;
    if !f.is_finite() || f.abs() > 9.0e14 {
        return None;
    }
    let scaled = f * SCALE as f64;
    let rounded = scaled.round();
    // Only binary noise (a few units in the last place) is forgiven: 90.123456 is not a
    // multiple of 0.0001 and is refused, never silently rounded.
    let noise = (scaled.abs() * 8.0 * f64::EPSILON).max(1e-9);
    if (scaled - rounded).abs() > noise {
        return None;
    }
    Some(rounded as i64)
}

fn fmt_fixed(v: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    let scale = SCALE.unsigned_abs();
    write!(f, "{sign}{}.{:04}", a / scale, a % scale)
}

macro_rules! fixed_point {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(i64);

        impl $name {
            /// The value from its fixed-point representation (value × 10 000).
            pub const fn from_raw(raw: i64) -> Self {
                Self(raw)
            }
            /// The fixed-point representation (value × 10 000).
            pub const fn raw(self) -> i64 {
                self.0
            }
            /// Parses a JSON number with at most four decimal places.
            pub fn from_json(v: &serde_json::Value) -> Option<Self> {
                v.as_number().and_then(parse_fixed).map(Self)
            }
            /// The value as a JSON number (exact to four decimals for display).
            pub fn to_json(self) -> serde_json::Value {
                serde_json::Value::from(self.0 as f64 / SCALE as f64)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_fixed(self.0, f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                // A decimal string: exact, and safe for JSON readers that use binary floats.
                s.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = serde_json::Value::deserialize(d)?;
                let parsed = match &v {
                    serde_json::Value::String(s) => s
                        .parse::<serde_json::Number>()
                        .ok()
                        .and_then(|n| parse_fixed(&n)),
                    serde_json::Value::Number(n) => parse_fixed(n),
                    _ => None,
                };
                parsed.map(Self).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "expected a decimal number with at most 4 decimal places, found {v}"
                    ))
                })
            }
        }
    };
}

fixed_point!(
    Score,
    "A score, 0–100 for a criterion, with four decimal places."
);
fixed_point!(
    Weight,
    "A weight in [0, 1] with four decimal places; weights sum to exactly 1."
);

impl Score {
    /// 100.0000, the top of every criterion's scale.
    pub const MAX: Self = Self(100 * SCALE);

    /// `part ÷ whole × 100`, rounded half away from zero (price and ratio scores).
    pub fn ratio(part: i64, whole: i64) -> Self {
        if whole <= 0 {
            return Self(0);
        }
        let n = i128::from(part) * 100 * i128::from(SCALE);
        Self(div_round(n, i128::from(whole)) as i64)
    }

    /// This score times `weight`, rounded.
    pub fn weighted(self, weight: Weight) -> Self {
        let n = i128::from(self.0) * i128::from(weight.0);
        Self(div_round(n, i128::from(SCALE)) as i64)
    }

    /// The rounded mean of `scores` (0 for none).
    pub fn mean(scores: &[Score]) -> Self {
        if scores.is_empty() {
            return Self(0);
        }
        let sum: i128 = scores.iter().map(|s| i128::from(s.0)).sum();
        Self(div_round(sum, scores.len() as i128) as i64)
    }

    /// The mean after dropping one highest and one lowest score (needs at least three).
    pub fn trimmed_mean(scores: &[Score]) -> Self {
        if scores.len() < 3 {
            return Self::mean(scores);
        }
        let mut sorted = scores.to_vec();
        sorted.sort_unstable();
        Self::mean(&sorted[1..sorted.len() - 1])
    }

    /// Sum of two scores.
    pub fn plus(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }
}

impl Weight {
    /// Exactly one.
    pub const ONE: Self = Self(SCALE);
}

/// An amount of money in integer minor units (fen, cents). Never a float, never negative:
/// deserialising a negative amount fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

impl TryFrom<i64> for Money {
    type Error = String;
    fn try_from(minor: i64) -> Result<Self, String> {
        Self::from_minor(minor)
            .ok_or_else(|| format!("{minor}: an amount of money is never negative"))
    }
}

impl From<Money> for i64 {
    fn from(m: Money) -> Self {
        m.0
    }
}

impl Money {
    /// An amount of `minor` units; negative amounts are refused.
    pub fn from_minor(minor: i64) -> Option<Self> {
        (minor >= 0).then_some(Self(minor))
    }
    /// The amount in minor units.
    pub fn minor(self) -> i64 {
        self.0
    }

    /// An amount written in major units with at most two decimals (`128452.5`, as OCDS
    /// publishes it), read exactly from its decimal text, never through a float.
    pub fn from_major(number: &serde_json::Number) -> Option<Self> {
        let text = number.to_string();
        let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
        let frac = frac.trim_end_matches('0');
        if frac.len() > 2 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let cents: i64 = format!("{frac:0<2}").parse().ok()?;
        Self::from_minor(whole.checked_mul(100)?.checked_add(cents)?)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", a / 100, a % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_decimals_exactly() {
        assert_eq!(
            Weight::from_json(&json!(0.35)),
            Some(Weight::from_raw(3500))
        );
        assert_eq!(Weight::from_json(&json!(1)), Some(Weight::ONE));
        assert_eq!(
            Score::from_json(&json!(87.125)),
            Some(Score::from_raw(871_250))
        );
        assert_eq!(Score::from_json(&json!(0.00001)), None);
        // Trust #19: more decimals than the fixed point holds are refused, not rounded.
        assert_eq!(Score::from_json(&json!(90.123456)), None);
        assert_eq!(Score::from_json(&json!(20.123456)), None);
        assert_eq!(
            Score::from_json(&json!(123_456_789.123_4)),
            Some(Score::from_raw(1_234_567_891_234))
        );
        assert_eq!(Score::from_json(&json!("x")), None);
    }

    #[test]
    fn ratio_rounds_half_away_from_zero() {
        // 2/3 × 100 = 66.66666… → 66.6667
        assert_eq!(Score::ratio(2, 3), Score::from_raw(666_667));
        assert_eq!(Score::ratio(1, 1), Score::MAX);
        assert_eq!(Score::ratio(1, 0), Score::from_raw(0));
        assert_eq!(
            Score::from_raw(666_667).weighted(Weight::from_raw(2500)),
            Score::from_raw(166_667)
        );
    }

    #[test]
    fn trimmed_mean_drops_extremes() {
        let s = |v: i64| Score::from_raw(v * SCALE);
        assert_eq!(Score::trimmed_mean(&[s(10), s(50), s(60), s(100)]), s(55));
        assert_eq!(Score::mean(&[s(1), s(2)]), Score::from_raw(15_000));
    }

    #[test]
    fn money_in_major_units_is_read_exactly() {
        let n = |v: serde_json::Value| v.as_number().cloned().expect("number");
        assert_eq!(
            Money::from_major(&n(json!(128452.5))).map(Money::minor),
            Some(12_845_250)
        );
        assert_eq!(
            Money::from_major(&n(json!(0.07))).map(Money::minor),
            Some(7)
        );
        assert_eq!(
            Money::from_major(&n(json!(42))).map(Money::minor),
            Some(4200)
        );
        assert_eq!(Money::from_major(&n(json!(1.005))), None);
        assert_eq!(Money::from_major(&n(json!(-3))), None);
    }

    #[test]
    fn money_is_never_negative() {
        assert!(serde_json::from_value::<Money>(json!(-150)).is_err());
        assert_eq!(
            serde_json::from_value::<Money>(json!(150)).ok(),
            Money::from_minor(150)
        );
        assert!(Money::from_minor(-1).is_none());
    }

    #[test]
    fn displays_and_serialises_as_decimal_text() {
        assert_eq!(Score::from_raw(871_250).to_string(), "87.1250");
        assert_eq!(
            serde_json::to_string(&Score::from_raw(-5)).expect("ser"),
            "\"-0.0005\""
        );
        assert_eq!(
            Money::from_minor(123_456).expect("money").to_string(),
            "1234.56"
        );
    }
}
