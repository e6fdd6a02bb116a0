//! Amounts of renminbi, held as integer fen (分).
//!
//! Floating point cannot hold 0.1 yuan exactly, and assistance payouts are summed over
//! thousands of households and then compared against the county's figure to the fen, so
//! every amount is an `i64` of fen and every operation that could overflow is checked.
//! Reports state large amounts in 万元, which is a rendering ([`Money::to_wan`]), never a
//! stored value.

use crate::normalize::normalize_compact;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额为空")]
    Empty,
    #[error("金额“{0}”格式不对：应为数字，可带千分位逗号、小数点和“元”“万元”“亿元”单位")]
    BadFormat(String),
    #[error("金额“{0}”的千分位逗号位置不对（小数点请用“.”）")]
    BadGrouping(String),
    #[error("金额“{0}”超出了分的精度：最多精确到0.01元")]
    TooPrecise(String),
    #[error("金额“{0}”超出范围")]
    Overflow(String),
}

/// An amount in fen. Serialized as the integer number of fen, so JSON and the database
/// never see a float.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    pub fn from_yuan(yuan: i64) -> Option<Money> {
        yuan.checked_mul(100).map(Money)
    }

    /// Reads an amount as clerks write it: `21050`, `21,050.00元`, `￥21050`, `2.105万`,
    /// `2.105万元`, `0.3亿`, `-120`. The unit is yuan unless a suffix says otherwise.
    /// Refuses, rather than rounds, a value finer than one fen: a rounded payout no longer
    /// matches the bank's list.
    pub fn parse_yuan(s: &str) -> Result<Money, MoneyError> {
        let text = normalize_compact(s);
        if text.is_empty() {
            return Err(MoneyError::Empty);
        }
        let bad = || MoneyError::BadFormat(text.clone());
        let mut rest = text.as_str();
        let mut negative = false;
        let mut signed = false;
        for _ in 0..2 {
            // Sign and currency sign come in either order: `-￥5`, `￥-5`.
            if !signed && let Some(r) = rest.strip_prefix(['-', '−', '+']) {
                negative = !rest.starts_with('+');
                signed = true;
                rest = r;
            }
            rest = rest.trim_start_matches(['¥', '￥']);
        }
        let (number, exponent) = [("万元", 6), ("亿元", 10), ("万", 6), ("亿", 10), ("元", 2)]
            .into_iter()
            .find_map(|(unit, e)| rest.strip_suffix(unit).map(|n| (n, e)))
            .unwrap_or((rest, 2));
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if int.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        let int = ungroup(int).ok_or_else(|| MoneyError::BadGrouping(text.clone()))?;
        if !(int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit())) {
            return Err(bad());
        }
        let (kept, dropped) = frac.split_at(frac.len().min(exponent));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(MoneyError::TooPrecise(text.clone()));
        }
        let overflow = || MoneyError::Overflow(text.clone());
        let scale = |digits: &str, e: usize| -> Option<i128> {
            let mut v: i128 = 0;
            for b in digits.bytes() {
                v = v.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
            }
            v.checked_mul(10i128.checked_pow(u32::try_from(e).ok()?)?)
        };
        let fen = scale(&int, exponent)
            .zip(scale(kept, exponent - kept.len()))
            .and_then(|(a, b)| a.checked_add(b))
            .ok_or_else(overflow)?;
        let fen = if negative { -fen } else { fen };
        i64::try_from(fen).map(Money).map_err(|_| overflow())
    }

    /// The amount in 万元 with `precision` decimals, rounded half away from zero:
    /// 21 050 yuan gives `"2.105"` at precision 3 and `"2.11"` at precision 2.
    pub fn to_wan(self, precision: u32) -> String {
        const FEN_PER_WAN: u32 = 6;
        let exact = precision.min(FEN_PER_WAN);
        let divisor = 10i128.pow(FEN_PER_WAN - exact);
        let abs = i128::from(self.0).abs();
        let q = (abs + divisor / 2) / divisor;
        let unit = 10i128.pow(exact);
        let sign = if self.0 < 0 && q != 0 { "-" } else { "" };
        let mut out = format!("{sign}{}", q / unit);
        if precision > 0 {
            let frac = q % unit;
            out.push_str(&format!(".{frac:0width$}", width = exact as usize));
            out.extend(std::iter::repeat_n('0', (precision - exact) as usize));
        }
        out
    }

    pub fn checked_add(self, rhs: Money) -> Option<Money> {
        self.0.checked_add(rhs.0).map(Money)
    }

    pub fn checked_sub(self, rhs: Money) -> Option<Money> {
        self.0.checked_sub(rhs.0).map(Money)
    }

    /// An amount times a count (a monthly allowance times the months, a standard times the
    /// members of a household).
    pub fn checked_mul(self, n: i64) -> Option<Money> {
        self.0.checked_mul(n).map(Money)
    }

    pub fn checked_neg(self) -> Option<Money> {
        self.0.checked_neg().map(Money)
    }

    /// `None` on overflow, instead of a wrong total.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(items: I) -> Option<Money> {
        items.into_iter().try_fold(Money::ZERO, Money::checked_add)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }
}

/// `21,050` -> `21050`; `None` when commas are not at thousands (`21,05` is a decimal comma
/// from a European locale, and must not become 2105 yuan).
fn ungroup(int: &str) -> Option<String> {
    if !int.contains(',') {
        return Some(int.to_string());
    }
    let mut groups = int.split(',');
    let first = groups.next()?;
    if !(1..=3).contains(&first.len()) {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

impl fmt::Display for Money {
    /// Yuan with two decimals, no unit: `21050.00`, `-0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse_yuan(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fen(s: &str) -> i64 {
        Money::parse_yuan(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .fen()
    }

    #[test]
    fn parses_the_usual_spellings() {
        for s in [
            "21050",
            "21050.00",
            "21,050.00元",
            "2.105万",
            "2.105万元",
            "￥21,050",
            "¥21050.0",
            " ２１０５０ 元 ",
            "+21050",
            "0.0002105亿",
        ] {
            assert_eq!(fen(s), 2_105_000, "{s}");
        }
        assert_eq!(fen("0.01"), 1);
        assert_eq!(fen(".5"), 50);
        assert_eq!(fen("5."), 500);
        assert_eq!(fen("-120.5"), -12_050);
        assert_eq!(fen("￥-3"), -300);
        assert_eq!(fen("-￥3"), -300);
        assert_eq!(fen("1,234,567.89"), 123_456_789);
        assert_eq!(fen("0.00000100万"), 1); // trailing zeros beyond the fen are fine
        assert_eq!(fen("1.230000"), 123);
    }

    #[test]
    fn refuses_with_reason() {
        let e = |s: &str| Money::parse_yuan(s).unwrap_err();
        assert_eq!(e(""), MoneyError::Empty);
        assert_eq!(e("1.005"), MoneyError::TooPrecise("1.005".into()));
        assert_eq!(
            e("2.1055555万"),
            MoneyError::TooPrecise("2.1055555万".into())
        );
        assert_eq!(e("21,05"), MoneyError::BadGrouping("21,05".into()));
        assert_eq!(e("2105,0"), MoneyError::BadGrouping("2105,0".into()));
        assert_eq!(e("1,2345"), MoneyError::BadGrouping("1,2345".into()));
        for bad in ["abc", "1.2.3", ".", "元", "1e5", "二十", "--5", "5-"] {
            assert!(matches!(e(bad), MoneyError::BadFormat(_)), "{bad}");
        }
        assert!(matches!(e("99999999999999999999"), MoneyError::Overflow(_)));
        assert!(matches!(e("1000亿亿"), MoneyError::BadFormat(_)));
        assert!(e("1.005").to_string().contains("0.01元"));
    }

    #[test]
    fn limits_are_exact() {
        assert_eq!(
            Money::parse_yuan("92233720368547758.07").unwrap().fen(),
            i64::MAX
        );
        assert!(Money::parse_yuan("92233720368547758.08").is_err());
        assert_eq!(
            Money::parse_yuan("-92233720368547758.08").unwrap().fen(),
            i64::MIN
        );
        assert_eq!(
            Money::from_fen(i64::MIN).to_string(),
            "-92233720368547758.08"
        );
    }

    #[test]
    fn display_and_wan() {
        assert_eq!(Money::from_fen(2_105_000).to_string(), "21050.00");
        assert_eq!(Money::from_fen(-5).to_string(), "-0.05");
        assert_eq!(Money::ZERO.to_string(), "0.00");
        let m = Money::from_fen(2_105_000);
        assert_eq!(m.to_wan(3), "2.105");
        assert_eq!(m.to_wan(2), "2.11");
        assert_eq!(m.to_wan(0), "2");
        assert_eq!(m.to_wan(8), "2.10500000");
        assert_eq!(Money::from_fen(-2_105_000).to_wan(2), "-2.11");
        assert_eq!(Money::from_fen(-4_000).to_wan(2), "0.00");
        assert_eq!(Money::from_fen(12_345_678_900).to_wan(2), "12345.68");
    }

    #[test]
    fn arithmetic_is_checked() {
        let a = Money::from_yuan(100).unwrap();
        assert_eq!(
            a.checked_add(Money::from_fen(1)),
            Some(Money::from_fen(10_001))
        );
        assert_eq!(a.checked_sub(a), Some(Money::ZERO));
        assert_eq!(a.checked_mul(12), Some(Money::from_yuan(1200).unwrap()));
        assert_eq!(
            Money::from_fen(i64::MAX).checked_add(Money::from_fen(1)),
            None
        );
        assert_eq!(Money::from_fen(i64::MIN).checked_neg(), None);
        assert_eq!(Money::from_yuan(i64::MAX), None);
        assert_eq!(
            Money::checked_sum([a, a, a]),
            Some(Money::from_yuan(300).unwrap())
        );
        assert_eq!(Money::checked_sum([Money::from_fen(i64::MAX), a]), None);
        assert!(Money::from_fen(-1).is_negative());
    }

    #[test]
    fn serde_is_fen() {
        let m = Money::parse_yuan("21,050.00元").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "2105000");
        assert_eq!(serde_json::from_str::<Money>("2105000").unwrap(), m);
    }

    proptest! {
        #[test]
        fn display_round_trips(f in any::<i64>()) {
            let m = Money::from_fen(f);
            prop_assert_eq!(Money::parse_yuan(&m.to_string()).unwrap(), m);
        }

        #[test]
        fn wan_at_full_precision_round_trips(f in any::<i64>()) {
            let m = Money::from_fen(f);
            prop_assert_eq!(Money::parse_yuan(&format!("{}万", m.to_wan(6))).unwrap(), m);
        }
    }
}
