//! The org tree: national division codes, levels, and materialized paths.
//!
//! A unit's path is the chain of codes from the root, `/36/3601/360102/360102001/`. A subtree is
//! then a prefix range, so scope checks and roll-ups are index range scans, and a unit that is
//! moved keeps its code while its path changes.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgLevel {
    Province,
    City,
    County,
    Township,
    Village,
    Grid,
}

impl OrgLevel {
    pub const ALL: [OrgLevel; 6] = [
        OrgLevel::Province,
        OrgLevel::City,
        OrgLevel::County,
        OrgLevel::Township,
        OrgLevel::Village,
        OrgLevel::Grid,
    ];

    /// Number of digits of a national code at this level.
    pub fn code_len(self) -> usize {
        match self {
            OrgLevel::Province => 2,
            OrgLevel::City => 4,
            OrgLevel::County => 6,
            OrgLevel::Township => 9,
            OrgLevel::Village => 12,
            OrgLevel::Grid => 15,
        }
    }

    pub fn from_code_len(len: usize) -> Option<OrgLevel> {
        OrgLevel::ALL.into_iter().find(|l| l.code_len() == len)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgLevel::Province => "省",
            OrgLevel::City => "市",
            OrgLevel::County => "县/区",
            OrgLevel::Township => "乡/镇/街道",
            OrgLevel::Village => "村/社区",
            OrgLevel::Grid => "网格",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OrgLevel::Province => "province",
            OrgLevel::City => "city",
            OrgLevel::County => "county",
            OrgLevel::Township => "township",
            OrgLevel::Village => "village",
            OrgLevel::Grid => "grid",
        }
    }

    pub fn parse(s: &str) -> Option<OrgLevel> {
        OrgLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    pub fn child(self) -> Option<OrgLevel> {
        let i = OrgLevel::ALL.iter().position(|l| *l == self)?;
        OrgLevel::ALL.get(i + 1).copied()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionCodeError {
    #[error("区划代码不能为空")]
    Empty,
    #[error("区划代码“{0}”只能由数字组成")]
    NotDigits(String),
    #[error("区划代码“{0}”的位数不对：应为 2、4、6、9、12 位（网格为 15 位）")]
    BadLength(String),
}

/// A national statistical division code (统计用区划代码), or a grid code that extends a
/// village code with three digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

impl DivisionCode {
    /// The code exactly as written: its length says its level. A 12-digit code is a village,
    /// even when it ends in zeros (金门县 appears as village 350527000000 in the national file).
    pub fn parse(s: &str) -> Result<DivisionCode, DivisionCodeError> {
        Self::parse_inner(s, false)
    }

    /// Also reads the 12-digit zero-padded form of a higher level (`360100000000` is 3601), as
    /// other systems print codes.
    pub fn parse_padded(s: &str) -> Result<DivisionCode, DivisionCodeError> {
        Self::parse_inner(s, true)
    }

    fn parse_inner(s: &str, padded: bool) -> Result<DivisionCode, DivisionCodeError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DivisionCodeError::Empty);
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DivisionCodeError::NotDigits(s.to_string()));
        }
        let s = if padded && s.len() == 12 {
            strip_padding(s)
        } else {
            s
        };
        if OrgLevel::from_code_len(s.len()).is_none() {
            return Err(DivisionCodeError::BadLength(s.to_string()));
        }
        Ok(DivisionCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> OrgLevel {
        OrgLevel::from_code_len(self.0.len()).expect("validated on parse")
    }

    /// The code one level up, by truncation. The tree itself may say otherwise after a merge.
    pub fn parent(&self) -> Option<DivisionCode> {
        let level = self.level();
        let i = OrgLevel::ALL.iter().position(|l| *l == level)?;
        let up = OrgLevel::ALL.get(i.checked_sub(1)?)?;
        Some(DivisionCode(self.0[..up.code_len()].to_string()))
    }

    /// Grid code `NNN` under this village.
    pub fn grid(&self, n: u16) -> Option<DivisionCode> {
        (self.level() == OrgLevel::Village && (1..=999).contains(&n))
            .then(|| DivisionCode(format!("{}{n:03}", self.0)))
    }
}

/// `360102001200` stays a village; `360102000000` is the county 360102.
fn strip_padding(s: &str) -> &str {
    for level in [
        OrgLevel::Province,
        OrgLevel::City,
        OrgLevel::County,
        OrgLevel::Township,
    ] {
        let n = level.code_len();
        if s[n..].bytes().all(|b| b == b'0') {
            return &s[..n];
        }
    }
    s
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = DivisionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        DivisionCode::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(c: DivisionCode) -> String {
        c.0
    }
}

/// A materialized path `/36/3601/360102/`: the scope of a user or a record.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrgPath(String);

impl OrgPath {
    pub fn root() -> OrgPath {
        OrgPath("/".to_string())
    }

    pub fn child(&self, code: &DivisionCode) -> OrgPath {
        OrgPath(format!("{}{}/", self.0, code.as_str()))
    }

    /// Trusts a path read back from the store.
    pub fn from_stored(s: String) -> OrgPath {
        OrgPath(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `other` is this unit or lies below it.
    pub fn contains(&self, other: &OrgPath) -> bool {
        other.0.starts_with(&self.0)
    }

    /// Exclusive upper bound of the subtree's key range: every path in the subtree is
    /// `>= self` and `< upper_bound()` ('/' + 1 == '0').
    pub fn upper_bound(&self) -> String {
        let mut s = self.0.clone();
        s.pop();
        s.push('0');
        s
    }

    pub fn depth(&self) -> usize {
        self.0.matches('/').count().saturating_sub(1)
    }

    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }
}

impl fmt::Display for OrgPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_by_length() {
        assert_eq!(
            DivisionCode::parse("36").unwrap().level(),
            OrgLevel::Province
        );
        assert_eq!(
            DivisionCode::parse("360102").unwrap().level(),
            OrgLevel::County
        );
        assert_eq!(
            DivisionCode::parse("360102001200").unwrap().level(),
            OrgLevel::Village
        );
        assert_eq!(
            DivisionCode::parse_padded("360102000000").unwrap().as_str(),
            "360102"
        );
        assert_eq!(
            DivisionCode::parse_padded("360000000000").unwrap().as_str(),
            "36"
        );
        assert_eq!(
            DivisionCode::parse_padded("360102001200").unwrap().as_str(),
            "360102001200"
        );
        let kinmen = DivisionCode::parse("350527000000").unwrap();
        assert_eq!(kinmen.level(), OrgLevel::Village);
        assert_eq!(kinmen.parent().unwrap().as_str(), "350527000");
        assert!(matches!(
            DivisionCode::parse("3601x"),
            Err(DivisionCodeError::NotDigits(_))
        ));
        assert!(matches!(
            DivisionCode::parse("36010"),
            Err(DivisionCodeError::BadLength(_))
        ));
        assert!(DivisionCode::parse(" ").is_err());
    }

    #[test]
    fn parent_and_grid() {
        let v = DivisionCode::parse("360102001200").unwrap();
        assert_eq!(v.parent().unwrap().as_str(), "360102001");
        let g = v.grid(7).unwrap();
        assert_eq!(g.as_str(), "360102001200007");
        assert_eq!(g.level(), OrgLevel::Grid);
        assert_eq!(g.parent().unwrap(), v);
        assert!(DivisionCode::parse("36").unwrap().parent().is_none());
        assert!(DivisionCode::parse("3601").unwrap().grid(1).is_none());
    }

    #[test]
    fn paths_nest() {
        let p = OrgPath::root().child(&DivisionCode::parse("36").unwrap());
        let c = p.child(&DivisionCode::parse("3601").unwrap());
        assert!(p.contains(&c));
        assert!(!c.contains(&p));
        assert!(c.as_str() >= p.as_str() && c.as_str() < p.upper_bound().as_str());
        let other = OrgPath::root().child(&DivisionCode::parse("37").unwrap());
        assert!(!p.contains(&other));
        assert!(other.as_str() >= p.upper_bound().as_str());
        assert_eq!(c.depth(), 2);
        assert_eq!(c.codes().collect::<Vec<_>>(), ["36", "3601"]);
    }
}
