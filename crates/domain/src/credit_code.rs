//! Unified social credit codes (统一社会信用代码, GB 32100-2015).
//!
//! Layout: registration authority (1), organisation type (1), region code (6), organisation
//! code (9, GB 11714), check character (1), over a 31-character alphabet without I O S V Z
//! (too easily confused with 1 0 5 U 2).
//!
//! A wrong check character is only a warning: codes issued during the 2015 pilot and some
//! re-issued codes fail the published check although they are on real business licences, and
//! refusing them would leave real enterprises unregistrable. The clerk sees the warning and
//! compares with the licence.

use crate::normalize::normalize_compact;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("统一社会信用代码为空")]
    Empty,
    #[error("统一社会信用代码长度为{0}位，应为18位")]
    BadLength(usize),
    #[error("统一社会信用代码第{pos}位“{ch}”无效：只能是数字或除 I、O、S、V、Z 以外的大写字母")]
    BadChar { pos: usize, ch: char },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeWarning {
    #[error(
        "统一社会信用代码校验位不符：应为{expected}，实为{actual}。早期试点代码可能如此，请与营业执照核对"
    )]
    CheckMismatch { expected: char, actual: char },
}

/// An 18-character credit code in upper case. It may carry a failed check character (see
/// the module docs); [`CreditCode::check_ok`] tells.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

impl CreditCode {
    /// Accepts lower case, full-width characters and spaces. `Err` for a wrong length or a
    /// character outside the alphabet; `Ok` with a warning when only the check fails.
    pub fn parse(s: &str) -> Result<(CreditCode, Option<CreditCodeWarning>), CreditCodeError> {
        let s = normalize_compact(s).to_ascii_uppercase();
        if s.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let len = s.chars().count();
        if len != 18 {
            return Err(CreditCodeError::BadLength(len));
        }
        if let Some((i, ch)) = s.chars().enumerate().find(|(_, c)| value(*c).is_none()) {
            return Err(CreditCodeError::BadChar { pos: i + 1, ch });
        }
        let expected = check_char(&s[..17]);
        let actual = s.as_bytes()[17] as char;
        let warning =
            (expected != actual).then_some(CreditCodeWarning::CheckMismatch { expected, actual });
        Ok((CreditCode(s), warning))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `9` market regulation (工商), `5` civil affairs (民政), `1` staffing office, ...
    pub fn registration_authority(&self) -> char {
        self.0.as_bytes()[0] as char
    }

    /// Region of registration (6 characters, digits on every code we have seen).
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }

    /// The embedded 9-character organisation code (组织机构代码), which older records hold.
    pub fn org_code(&self) -> &str {
        &self.0[8..17]
    }

    pub fn check_ok(&self) -> bool {
        check_char(&self.0[..17]) == self.0.as_bytes()[17] as char
    }
}

/// Builds a code with a correct check character from its first 17 characters, for demo
/// and test data. `None` if `first17` is not 17 characters of the alphabet.
pub fn generate(first17: &str) -> Option<CreditCode> {
    let first17 = first17.to_ascii_uppercase();
    if first17.len() != 17 || first17.chars().any(|c| value(c).is_none()) {
        return None;
    }
    let check = check_char(&first17);
    Some(CreditCode(format!("{first17}{check}")))
}

fn value(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    ALPHABET.iter().position(|&a| a == b).map(|i| i as u32)
}

/// `first17` must be validated against the alphabet.
fn check_char(first17: &str) -> char {
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| value(c).expect("validated") * w)
        .sum();
    // 31 - 0 would be 31, which is not a character: it stands for 0.
    ALPHABET[((31 - sum % 31) % 31) as usize] as char
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Drops the warning: for values read back from the store, where it was shown at entry.
impl FromStr for CreditCode {
    type Err = CreditCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CreditCode::parse(s).map(|(c, _)| c)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fixed_vectors() {
        // 91350100M000100Y43, values 9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4:
        // 9*1 + 1*3 + 3*9 + 5*27 + 1*26 + 21*20 + 1*8 + 30*30 + 4*28 = 1640,
        // 1640 mod 31 = 28, 31 - 28 = 3.
        let (c, w) = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(w, None);
        assert!(c.check_ok());
        assert_eq!(c.registration_authority(), '9');
        assert_eq!(c.region_code(), "350100");
        assert_eq!(c.org_code(), "M000100Y4");

        // 91360102000000000?: 9*1 + 1*3 + 3*9 + 6*27 + 1*26 + 2*17 = 261,
        // 261 mod 31 = 13, 31 - 13 = 18 = J.
        assert_eq!(CreditCode::parse("91360102000000000J").unwrap().1, None);
        assert_eq!(
            generate("91360102000000000").unwrap().as_str(),
            "91360102000000000J"
        );

        // Sum 0: 31 - 0 = 31 maps to 0.
        assert_eq!(
            generate("00000000000000000").unwrap().as_str(),
            "000000000000000000"
        );
    }

    #[test]
    fn sloppy_input_is_accepted() {
        for s in [
            "91350100m000100y43",
            " 9135 0100 M000 100Y 43 ",
            "９１３５０１００Ｍ０００１００Ｙ４３",
        ] {
            let (c, w) = CreditCode::parse(s).unwrap();
            assert_eq!((c.as_str(), w), ("91350100M000100Y43", None), "{s}");
        }
    }

    #[test]
    fn failed_check_is_a_warning() {
        let (c, w) = CreditCode::parse("91350100M000100Y44").unwrap();
        assert_eq!(c.as_str(), "91350100M000100Y44");
        assert!(!c.check_ok());
        let w = w.unwrap();
        assert_eq!(
            w,
            CreditCodeWarning::CheckMismatch {
                expected: '3',
                actual: '4'
            }
        );
        assert!(
            w.to_string()
                .starts_with("统一社会信用代码校验位不符：应为3，实为4")
        );
        // Stored codes read back without a fuss.
        assert_eq!("91350100M000100Y44".parse::<CreditCode>().unwrap(), c);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(CreditCode::parse(""), Err(CreditCodeError::Empty));
        assert_eq!(
            CreditCode::parse("91350100M000100Y4"),
            Err(CreditCodeError::BadLength(17))
        );
        assert_eq!(
            CreditCode::parse("91350100M000100O43"),
            Err(CreditCodeError::BadChar { pos: 16, ch: 'O' })
        );
        assert_eq!(
            CreditCode::parse("9135010０M000100I43"),
            Err(CreditCodeError::BadChar { pos: 16, ch: 'I' })
        );
        assert!(CreditCode::parse("91350100M000100Y4中").is_err());
    }

    #[test]
    fn serde_is_a_string() {
        let (c, _) = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"91350100M000100Y43\"");
        let back: CreditCode = serde_json::from_str("\"91350100m000100y43\"").unwrap();
        assert_eq!(back, c);
    }

    fn valid_code() -> impl Strategy<Value = CreditCode> {
        prop::collection::vec(prop::sample::select(ALPHABET.to_vec()), 17)
            .prop_map(|v| generate(&String::from_utf8(v).unwrap()).unwrap())
    }

    proptest! {
        #[test]
        fn every_generated_code_passes(c in valid_code()) {
            let (parsed, warning) = CreditCode::parse(c.as_str()).unwrap();
            prop_assert_eq!(parsed, c);
            prop_assert_eq!(warning, None);
        }

        #[test]
        fn every_single_character_change_is_caught(
            c in valid_code(),
            pos in 0usize..18,
            pick in any::<prop::sample::Index>(),
        ) {
            let mut bytes = c.as_str().as_bytes().to_vec();
            let others: Vec<u8> = b"0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZ*"
                .iter()
                .copied()
                .filter(|&c| c != bytes[pos])
                .collect();
            let ch = *pick.get(&others);
            bytes[pos] = ch;
            let changed = String::from_utf8(bytes).unwrap();
            // 31 is prime and no weight is a multiple of it, so every substitution moves
            // the sum: either a warning or (outside the alphabet) an error.
            match CreditCode::parse(&changed) {
                Ok((_, warning)) => prop_assert!(warning.is_some(), "{} passed", changed),
                Err(_) => prop_assert!(!ALPHABET.contains(&ch)),
            }
        }
    }
}
