//! Mainland phone numbers: mobiles and landlines with area code.
//!
//! A phone number is personal data, treated like a [`crate::citizen_id::CitizenId`]: `Debug`
//! is masked and there is no `Display`; [`Phone::as_str`] is the deliberate way to the full
//! number.
//!
//! The stored form is canonical so the keyed-hash lookup finds a person however the number
//! was typed: `13812345678` for mobiles, `0791-86123456` or `0791-86123456转8001` for
//! landlines (`转` rather than a second dash, which people also use inside the number).

use crate::normalize::normalize_compact;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("电话号码为空")]
    Empty,
    #[error("电话号码中有无效字符“{0}”：只能包含数字、空格、横线、括号和 +86")]
    BadChar(char),
    #[error("手机号应为11位，实为{0}位")]
    MobileBadLength(usize),
    #[error("手机号“{0}”的号段无效：第二位应为3至9")]
    MobileBadPrefix(String),
    #[error("固定电话缺少区号，请按“区号-号码”填写，如 0791-86123456")]
    MissingAreaCode,
    #[error("区号“{0}”无效")]
    BadAreaCode(String),
    #[error("固定电话号码应为7或8位（不含区号），实为{0}位")]
    LandlineBadLength(usize),
    #[error("固定电话号码不能以0或1开头（区号之后）")]
    LandlineBadStart,
    #[error("分机号“{0}”无效：应为1至6位数字")]
    BadExtension(String),
    #[error("无法识别的电话号码，请填写11位手机号或“区号-号码”形式的固定电话")]
    Unrecognized,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneKind {
    Mobile,
    Landline,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Phone, PhoneError> {
        let s = normalize_compact(s);
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        let (intl, rest) = strip_country_code(&s);
        let (main, ext) = split_extension(rest);
        if let Some(c) = main
            .chars()
            .find(|c| !(c.is_ascii_digit() || "-()".contains(*c)))
        {
            return Err(PhoneError::BadChar(c));
        }
        let mut digits: String = main.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(PhoneError::Unrecognized);
        }
        if !intl && digits.len() == 13 && digits.starts_with("861") {
            // "86" without a plus, as some address books export it.
            digits.drain(..2);
        }
        if !intl
            && digits.len() == 12
            && digits.starts_with("01")
            && digits[2..].starts_with(|c| c >= '3')
        {
            // A trunk 0 before a mobile, as dialled from another city on a landline.
            digits.remove(0);
        }
        if digits.starts_with('1') {
            if let Some(ext) = ext {
                return Err(PhoneError::BadExtension(ext.to_string()));
            }
            return mobile(digits);
        }
        if intl && !digits.starts_with('0') {
            // +86 791 86123456: the trunk 0 of the area code is dropped abroad.
            digits.insert(0, '0');
        }
        if digits.starts_with('0') {
            return landline(&digits, main, ext);
        }
        if (7..=8).contains(&digits.len()) {
            return Err(PhoneError::MissingAreaCode);
        }
        Err(PhoneError::Unrecognized)
    }

    /// The canonical number, in full (see the module docs).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> PhoneKind {
        if self.0.starts_with('1') {
            PhoneKind::Mobile
        } else {
            PhoneKind::Landline
        }
    }

    /// `138****5678`; `0791-****3456` for landlines, whose area code says only the city.
    /// The extension is left out: it is not needed to tell two numbers apart on a list.
    pub fn masked(&self) -> String {
        match self.kind() {
            PhoneKind::Mobile => format!("{}****{}", &self.0[..3], &self.0[7..]),
            PhoneKind::Landline => {
                let number = self.0.split('转').next().unwrap_or(&self.0);
                let (area, local) = number.split_once('-').expect("canonical landline");
                let hidden = local.len() - 4;
                format!("{area}-{}{}", "*".repeat(hidden), &local[hidden..])
            }
        }
    }
}

fn strip_country_code(s: &str) -> (bool, &str) {
    for prefix in ["(+86)", "+86", "0086"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            return (true, rest.trim_start_matches('-'));
        }
    }
    (false, s)
}

fn split_extension(s: &str) -> (&str, Option<&str>) {
    // most numbers are digits only: eight substring searches each were a tenth of checking
    // an imported person
    if s.bytes().all(|b| b.is_ascii_digit()) {
        return (s, None);
    }
    for sep in ["转", "分机", "EXT", "ext", "Ext", "#", "x", "X"] {
        if let Some((main, ext)) = s.split_once(sep) {
            return (main, Some(ext.trim_start_matches(['.', ':', '-'])));
        }
    }
    (s, None)
}

fn mobile(digits: String) -> Result<Phone, PhoneError> {
    if digits.len() != 11 {
        return Err(PhoneError::MobileBadLength(digits.len()));
    }
    if !matches!(digits.as_bytes()[1], b'3'..=b'9') {
        return Err(PhoneError::MobileBadPrefix(digits));
    }
    Ok(Phone(digits))
}

/// `digits` starts with the area code. Its length follows from its first digits: 010 and
/// 02x are the only three-digit codes, every other one has four, so no separator is needed.
fn landline(digits: &str, main: &str, ext: Option<&str>) -> Result<Phone, PhoneError> {
    let area_len = if digits.starts_with("010") || digits.starts_with("02") {
        3
    } else {
        4
    };
    if digits.len() < area_len
        || digits[1..].starts_with('0')
        || (digits[1..].starts_with('1') && area_len == 4)
    {
        return Err(PhoneError::BadAreaCode(
            digits[..digits.len().min(4)].to_string(),
        ));
    }
    let area = &digits[..area_len];
    let mut local = &digits[area_len..];
    let mut ext = ext.map(str::to_string);
    // 0791-86123456-8001: a trailing dash group that does not fit the number is the extension.
    let groups: Vec<&str> = main
        .split(['-', '(', ')'])
        .filter(|g| !g.is_empty())
        .collect();
    if ext.is_none()
        && local.len() > 8
        && groups.len() >= 3
        && let Some(last) = groups.last()
        && (7..=8).contains(&(local.len() - last.len()))
    {
        ext = Some(last.to_string());
        local = &local[..local.len() - last.len()];
    }
    if !(7..=8).contains(&local.len()) {
        return Err(PhoneError::LandlineBadLength(local.len()));
    }
    if local.starts_with(['0', '1']) {
        return Err(PhoneError::LandlineBadStart);
    }
    match ext {
        None => Ok(Phone(format!("{area}-{local}"))),
        Some(e) if (1..=6).contains(&e.len()) && e.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(Phone(format!("{area}-{local}转{e}")))
        }
        Some(e) => Err(PhoneError::BadExtension(e)),
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl FromStr for Phone {
    type Err = PhoneError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phone::parse(s)
    }
}

impl TryFrom<String> for Phone {
    type Error = PhoneError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        Phone::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .as_str()
            .to_string()
    }

    #[test]
    fn mobiles_in_every_usual_spelling() {
        for s in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+86-13812345678",
            "(+86)13812345678",
            "8613812345678",
            "008613812345678",
            "013812345678",
            "１３８１２３４５６７８",
            "\u{3000}138\u{00A0}1234\u{200B}5678 ",
        ] {
            assert_eq!(ok(s), "13812345678", "{s}");
        }
        let p = Phone::parse("19912345678").unwrap();
        assert_eq!(p.kind(), PhoneKind::Mobile);
        assert_eq!(p.masked(), "199****5678");
        assert_eq!(format!("{p:?}"), "Phone(199****5678)");
    }

    #[test]
    fn landlines_need_an_area_code() {
        assert_eq!(ok("0791-86123456"), "0791-86123456");
        assert_eq!(ok("079186123456"), "0791-86123456");
        assert_eq!(ok("(0791)86123456"), "0791-86123456");
        assert_eq!(ok("0791 8612 3456"), "0791-86123456");
        assert_eq!(ok("010-62345678"), "010-62345678");
        assert_eq!(ok("021 6234567"), "021-6234567");
        assert_eq!(ok("+86 791 86123456"), "0791-86123456");
        assert_eq!(ok("+86 (0791) 86123456"), "0791-86123456");
        assert_eq!(ok("0791-86123456转8001"), "0791-86123456转8001");
        assert_eq!(ok("0791-86123456-8001"), "0791-86123456转8001");
        assert_eq!(ok("0791-86123456 ext. 12"), "0791-86123456转12");
        assert_eq!(ok("0791-8612-3456"), "0791-86123456");

        let p = Phone::parse("0791-86123456转8001").unwrap();
        assert_eq!(p.kind(), PhoneKind::Landline);
        assert_eq!(p.masked(), "0791-****3456");
        assert_eq!(Phone::parse("021-6234567").unwrap().masked(), "021-***4567");
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let e = |s: &str| Phone::parse(s).unwrap_err();
        assert_eq!(e(""), PhoneError::Empty);
        assert_eq!(e("1381234567"), PhoneError::MobileBadLength(10));
        assert_eq!(e("138123456789"), PhoneError::MobileBadLength(12));
        assert_eq!(
            e("12812345678"),
            PhoneError::MobileBadPrefix("12812345678".into())
        );
        assert_eq!(e("86123456"), PhoneError::MissingAreaCode);
        assert_eq!(e("0791-861234"), PhoneError::LandlineBadLength(6));
        assert_eq!(e("0791-06123456"), PhoneError::LandlineBadStart);
        assert_eq!(e("0011-86123456"), PhoneError::BadAreaCode("0011".into()));
        assert_eq!(e("138-1234-567a"), PhoneError::BadChar('a'));
        assert_eq!(e("13812345678转1"), PhoneError::BadExtension("1".into()));
        assert_eq!(
            e("0791-86123456转12345678"),
            PhoneError::BadExtension("12345678".into())
        );
        assert_eq!(e("张三"), PhoneError::BadChar('张'));
        assert!(e("1381234567").to_string().contains("11位"));
    }

    #[test]
    fn serde_is_the_canonical_string() {
        let p = Phone::parse("138 1234 5678").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"13812345678\"");
        let back: Phone = serde_json::from_str("\"0791-86123456转8001\"").unwrap();
        assert_eq!(back.as_str(), "0791-86123456转8001");
    }
}
