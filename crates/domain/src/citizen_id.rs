//! Resident identity card numbers (公民身份号码, GB 11643-1999).
//!
//! Layout of the 18-character form: 6-digit region code where the number was first issued,
//! 8-digit birth date, 3-digit order code (odd for men), and an ISO 7064 MOD 11-2 check
//! character. The check detects every single wrong character and every swap of two adjacent
//! ones, which is why we reject on it instead of warning: a typo in an ID is the usual way two
//! records of one person come apart.
//!
//! A `CitizenId` is personal data. `Debug` prints the masked form so an ID cannot reach a
//! log by accident, and there is no `Display`: showing the full number is a deliberate call
//! to [`CitizenId::as_str`] (audited by the caller), showing it masked is [`CitizenId::masked`].

use crate::normalize::normalize_compact;
use chrono::{Datelike, Local, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";
/// Nobody alive when IDs were first issued (1984) was born earlier; an earlier date is a typo.
const EARLIEST_BIRTH_YEAR: i32 = 1880;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CitizenIdError {
    #[error("身份证号为空")]
    Empty,
    #[error(
        "身份证号“{0}”已被 Excel 变成科学计数法，末几位数字已丢失，无法恢复：请把该列设为“文本”格式后重新录入"
    )]
    ScientificNotation(String),
    #[error("身份证号长度为{0}位，应为18位（或旧版15位）")]
    BadLength(usize),
    #[error("身份证号第{pos}位“{ch}”无效：{rule}")]
    BadChar {
        pos: usize,
        ch: char,
        rule: &'static str,
    },
    #[error("身份证号的地区码“{0}”无效：不能以0开头")]
    BadRegion(String),
    #[error("身份证号中的出生日期“{0}”不是有效日期")]
    BadBirthDate(String),
    #[error("身份证号中的出生日期{0}晚于今天")]
    BirthInFuture(NaiveDate),
    #[error("身份证号中的出生日期{0}早于1880年，请核对")]
    BirthTooEarly(NaiveDate),
    #[error("身份证号校验位错误：应为{expected}，实为{actual}{}", excel_hint(*.trailing_zeros))]
    CheckDigit {
        expected: char,
        actual: char,
        trailing_zeros: bool,
    },
}

/// Excel keeps 15 significant digits: an ID stored as a number ends in `000`, and the
/// clerk needs to be told so or they will retype the same damaged value.
fn excel_hint(trailing_zeros: bool) -> &'static str {
    if trailing_zeros {
        "（末三位为000，可能是 Excel 把身份证号当作数字保存后丢失了末几位，请把该列设为“文本”格式）"
    } else {
        ""
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

impl Sex {
    pub fn label(self) -> &'static str {
        match self {
            Sex::Male => "男",
            Sex::Female => "女",
        }
    }
}

/// A valid 18-character citizen ID; the check character is always upper-case `X`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CitizenId(String);

impl CitizenId {
    /// Parses against today's local date (a birth date must not lie in the future).
    pub fn parse(s: &str) -> Result<CitizenId, CitizenIdError> {
        CitizenId::parse_at(s, Local::now().date_naive())
    }

    /// Accepts full-width characters, spaces, lower-case `x`, and the 15-digit form of the
    /// first-generation card, which is converted to 18 characters.
    pub fn parse_at(s: &str, today: NaiveDate) -> Result<CitizenId, CitizenIdError> {
        let mut s = normalize_compact(s);
        s.make_ascii_uppercase();
        if s.is_empty() {
            return Err(CitizenIdError::Empty);
        }
        if looks_scientific(&s) {
            return Err(CitizenIdError::ScientificNotation(s));
        }
        let len = s.chars().count();
        let full = match len {
            15 => {
                check_chars(&s, 15)?;
                // First-generation cards (1984-2004) were issued to people born in the 1900s.
                format!("{}19{}", &s[..6], &s[6..])
            }
            18 => {
                check_chars(&s, 17)?;
                s
            }
            _ => return Err(CitizenIdError::BadLength(len)),
        };
        if full.starts_with('0') {
            return Err(CitizenIdError::BadRegion(full[..6].to_string()));
        }
        let birth = parse_birth(&full[6..14])?;
        if birth.year() < EARLIEST_BIRTH_YEAR {
            return Err(CitizenIdError::BirthTooEarly(birth));
        }
        if birth > today {
            return Err(CitizenIdError::BirthInFuture(birth));
        }
        let expected = check_char(&full.as_bytes()[..17]);
        if len == 15 {
            return Ok(CitizenId(format!("{full}{expected}")));
        }
        let actual = full.as_bytes()[17] as char;
        if actual != expected {
            return Err(CitizenIdError::CheckDigit {
                expected,
                actual,
                trailing_zeros: full.ends_with("000"),
            });
        }
        Ok(CitizenId(full))
    }

    /// The full number. Callers that put it on a screen or in an export must have the
    /// reveal permission and write the audit entry.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Region where the number was issued. It may be a county that has since been merged or
    /// renamed, so check it against the division table including historical codes.
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        parse_birth(&self.0[6..14]).expect("validated on parse")
    }

    pub fn sex(&self) -> Sex {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// Completed years (周岁) on `date`; `None` if `date` is before the birth date.
    /// Someone born on 29 February becomes a year older on 1 March in common years.
    pub fn age_at(&self, date: NaiveDate) -> Option<u32> {
        let birth = self.birth_date();
        if date < birth {
            return None;
        }
        let mut age = date.year() - birth.year();
        if (date.month(), date.day()) < (birth.month(), birth.day()) {
            age -= 1;
        }
        u32::try_from(age).ok()
    }

    /// `110105********002X`: region and last four, enough for a clerk to tell two people
    /// apart on a list without disclosing the birth date.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

/// Builds a valid ID for demo and test data. The order code is `seq` mapped into the range
/// for the given sex: `(seq % 500) * 2`, plus one for men, so `seq` 0..500 gives distinct IDs.
///
/// # Panics
/// If `region` is not six digits starting with 1-9, or the birth year is outside 1880..=9999:
/// both are programming errors in the generator, not user input.
pub fn generate(region: &str, birth: NaiveDate, seq: u16, male: bool) -> CitizenId {
    assert!(
        region.len() == 6 && region.bytes().all(|b| b.is_ascii_digit()) && !region.starts_with('0'),
        "region code must be six digits not starting with 0: {region:?}"
    );
    assert!(
        (EARLIEST_BIRTH_YEAR..=9999).contains(&birth.year()),
        "birth year out of range: {birth}"
    );
    let order = (seq % 500) * 2 + u16::from(male);
    let body = format!("{region}{}{order:03}", birth.format("%Y%m%d"));
    let check = check_char(body.as_bytes());
    CitizenId(format!("{body}{check}"))
}

/// ISO 7064 MOD 11-2 over the first 17 digits (ASCII).
fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize] as char
}

/// The first `digits` characters must be digits; an 18-character ID may end in X.
fn check_chars(s: &str, digits: usize) -> Result<(), CitizenIdError> {
    for (i, ch) in s.chars().enumerate() {
        let ok = if i < digits {
            ch.is_ascii_digit()
        } else {
            ch.is_ascii_digit() || ch == 'X'
        };
        if !ok {
            let rule = if i < digits {
                "这一位只能是数字"
            } else {
                "最后一位只能是数字或X"
            };
            return Err(CitizenIdError::BadChar {
                pos: i + 1,
                ch,
                rule,
            });
        }
    }
    Ok(())
}

// By hand: the stored ID is read again for every person a bulk load writes, and chrono's
// format parser took longer than the rest of building the row.
fn parse_birth(yyyymmdd: &str) -> Result<NaiveDate, CitizenIdError> {
    let bad = || CitizenIdError::BadBirthDate(yyyymmdd.to_string());
    let b = yyyymmdd.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let num =
        |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    NaiveDate::from_ymd_opt(num(0..4) as i32, num(4..6), num(6..8)).ok_or_else(bad)
}

/// `4.30102E+17`, `4.30102199001011E17`: what Excel shows for an 18-digit number.
fn looks_scientific(s: &str) -> bool {
    let Some((mantissa, exp)) = s.split_once('E') else {
        return false;
    };
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && mantissa.bytes().any(|b| b.is_ascii_digit())
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

impl fmt::Debug for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CitizenId({})", self.masked())
    }
}

impl FromStr for CitizenId {
    type Err = CitizenIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CitizenId::parse(s)
    }
}

impl TryFrom<String> for CitizenId {
    type Error = CitizenIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CitizenId::parse(&s)
    }
}

impl From<CitizenId> for String {
    fn from(id: CitizenId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn today() -> NaiveDate {
        d(2025, 6, 1)
    }

    /// Independent of `check_char`: the MOD 11-2 definition, sum over all 18 positions
    /// with weights 2^(i) mod 11 (X = 10) must be 1 mod 11.
    fn iso7064_ok(id: &str) -> bool {
        let sum: u32 = id
            .bytes()
            .rev()
            .enumerate()
            .map(|(i, b)| {
                let v = if b == b'X' { 10 } else { u32::from(b - b'0') };
                v * ((1u32 << i) % 11)
            })
            .sum();
        sum % 11 == 1
    }

    #[test]
    fn fixed_vectors() {
        // 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167,
        // 167 mod 11 = 2, "10X98765432"[2] = X.
        let id = CitizenId::parse_at("11010519491231002X", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.region_code(), "110105");
        assert_eq!(id.birth_date(), d(1949, 12, 31));
        assert_eq!(id.sex(), Sex::Female);
        assert_eq!(id.masked(), "110105********002X");
        assert!(iso7064_ok(id.as_str()));

        // 15 -> 18: 34052419800101001 sums to 189, 189 mod 11 = 2 -> X.
        let id = CitizenId::parse_at("340524800101001", today()).unwrap();
        assert_eq!(id.as_str(), "34052419800101001X");
        assert_eq!(id.birth_date(), d(1980, 1, 1));
        assert_eq!(id.sex(), Sex::Male);
    }

    #[test]
    fn sloppy_input_is_accepted() {
        let want = "11010519491231002X";
        for s in [
            "11010519491231002x",
            "１１０１０５１９４９１２３１００２ｘ",
            " 110105 19491231 002X\u{3000}",
            "\u{FEFF}11010519491231002X\u{200B}",
        ] {
            assert_eq!(
                CitizenId::parse_at(s, today()).unwrap().as_str(),
                want,
                "{s}"
            );
        }
    }

    #[test]
    fn excel_scientific_notation_is_refused_with_reason() {
        let err = CitizenId::parse_at("4.30102E+17", today()).unwrap_err();
        assert_eq!(
            err,
            CitizenIdError::ScientificNotation("4.30102E+17".into())
        );
        assert!(err.to_string().contains("文本"), "{err}");
        assert!(matches!(
            CitizenId::parse_at("4.30102199001011e17", today()),
            Err(CitizenIdError::ScientificNotation(_))
        ));
    }

    #[test]
    fn excel_truncated_digits_get_a_hint() {
        // 430102199001012345 as a float keeps 15 digits: 430102199001012000 (check: 3).
        let err = CitizenId::parse_at("430102199001012000", today()).unwrap_err();
        assert!(matches!(
            err,
            CitizenIdError::CheckDigit {
                trailing_zeros: true,
                ..
            }
        ));
        assert!(err.to_string().contains("Excel"), "{err}");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = |s: &str| CitizenId::parse_at(s, today()).unwrap_err();
        assert_eq!(e(""), CitizenIdError::Empty);
        assert_eq!(e("  "), CitizenIdError::Empty);
        assert_eq!(e("1101051949123100"), CitizenIdError::BadLength(16));
        assert_eq!(
            e("11010519491231002Y"),
            CitizenIdError::BadChar {
                pos: 18,
                ch: 'Y',
                rule: "最后一位只能是数字或X"
            }
        );
        assert!(matches!(
            e("1101051949123X002X"),
            CitizenIdError::BadChar { pos: 14, .. }
        ));
        for bad_date in [
            "11010519490231002X",
            "11010519491331002X",
            "11010519491200002X",
        ] {
            assert!(
                matches!(e(bad_date), CitizenIdError::BadBirthDate(_)),
                "{bad_date}"
            );
        }
        assert!(matches!(
            e("01010519491231002X"),
            CitizenIdError::BadRegion(_)
        ));
        let wrong = e("110105194912310023");
        assert_eq!(
            wrong,
            CitizenIdError::CheckDigit {
                expected: 'X',
                actual: '3',
                trailing_zeros: false
            }
        );
        assert_eq!(wrong.to_string(), "身份证号校验位错误：应为X，实为3");

        let future = generate("110105", d(2025, 6, 2), 1, true);
        assert!(matches!(
            e(future.as_str()),
            CitizenIdError::BirthInFuture(_)
        ));
        let born_today = generate("110105", today(), 1, true);
        assert!(CitizenId::parse_at(born_today.as_str(), today()).is_ok());
        let mut old = generate("110105", d(1880, 1, 1), 1, true)
            .as_str()
            .to_string();
        assert!(CitizenId::parse_at(&old, today()).is_ok());
        old.replace_range(6..10, "1879");
        assert!(matches!(e(&old), CitizenIdError::BirthTooEarly(_)));
    }

    #[test]
    fn age_counts_completed_years() {
        let id = generate("110105", d(1949, 12, 31), 1, false);
        assert_eq!(id.age_at(d(2023, 12, 30)), Some(73));
        assert_eq!(id.age_at(d(2023, 12, 31)), Some(74));
        assert_eq!(id.age_at(d(1949, 12, 31)), Some(0));
        assert_eq!(id.age_at(d(1949, 12, 30)), None);

        let leap = generate("110105", d(2000, 2, 29), 1, false);
        assert_eq!(leap.age_at(d(2023, 2, 28)), Some(22));
        assert_eq!(leap.age_at(d(2023, 3, 1)), Some(23));
        assert_eq!(leap.age_at(d(2024, 2, 29)), Some(24));
    }

    #[test]
    fn debug_is_masked_and_serde_is_a_string() {
        let id = CitizenId::parse_at("11010519491231002X", today()).unwrap();
        assert_eq!(format!("{id:?}"), "CitizenId(110105********002X)");
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"11010519491231002X\"");
        let back: CitizenId = serde_json::from_str("\"11010519491231002x\"").unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<CitizenId>("\"110105194912310023\"").is_err());
    }

    #[test]
    fn generate_encodes_sex_and_sequence() {
        let m = generate("360102", d(1990, 5, 17), 7, true);
        let f = generate("360102", d(1990, 5, 17), 7, false);
        assert_eq!(&m.as_str()[14..17], "015");
        assert_eq!(&f.as_str()[14..17], "014");
        assert_eq!(m.sex(), Sex::Male);
        assert_eq!(f.sex(), Sex::Female);
        assert_eq!(
            generate("360102", d(1990, 5, 17), 499, true).as_str()[14..17],
            *"999"
        );
    }

    fn valid_id() -> impl Strategy<Value = CitizenId> {
        // Birth dates from 1880-01-01 to 2025-06-01 (53 108 days).
        (
            100_000u32..1_000_000,
            0i64..=53_108,
            0u16..500,
            any::<bool>(),
        )
            .prop_map(|(region, days, seq, male)| {
                let birth = d(1880, 1, 1) + chrono::Duration::days(days);
                generate(&region.to_string(), birth, seq, male)
            })
    }

    proptest! {
        #[test]
        fn every_generated_id_parses(id in valid_id()) {
            let parsed = CitizenId::parse_at(id.as_str(), today()).unwrap();
            prop_assert_eq!(&parsed, &id);
            prop_assert!(iso7064_ok(id.as_str()));
            prop_assert_eq!(parsed.masked().len(), 18);
        }

        #[test]
        fn every_single_character_change_fails(
            id in valid_id(),
            pos in 0usize..18,
            pick in any::<prop::sample::Index>(),
        ) {
            let mut bytes = id.as_str().as_bytes().to_vec();
            let others: Vec<u8> =
                b"0123456789XAOZ*".iter().copied().filter(|&c| c != bytes[pos]).collect();
            bytes[pos] = *pick.get(&others);
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(CitizenId::parse_at(&changed, today()).is_err(), "{} accepted", changed);
        }

        #[test]
        fn fifteen_digit_form_converts_to_valid_id(
            region in 100_000u32..1_000_000,
            days in 0i64..36_524, // 1900-01-01 ..= 1999-12-31
            order in 0u32..1000,
        ) {
            let birth = d(1900, 1, 1) + chrono::Duration::days(days);
            let old = format!("{region}{}{order:03}", birth.format("%y%m%d"));
            let id = CitizenId::parse_at(&old, today()).unwrap();
            prop_assert!(iso7064_ok(id.as_str()));
            prop_assert_eq!(id.birth_date(), birth);
            prop_assert_eq!(id.region_code(), region.to_string());
            prop_assert_eq!(&id.as_str()[14..17], &old[12..15]);
            // The converted form is itself accepted unchanged.
            prop_assert_eq!(CitizenId::parse_at(id.as_str(), today()).unwrap(), id);
        }
    }
}
