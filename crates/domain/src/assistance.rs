//! Assistance programs (救助/帮扶项目) as configuration.
//!
//! A [`Program`] is data: who it enrolls (a household or a person), what it pays (per person or
//! per household, monthly or once, by year, area and category), how often an enrollment is
//! reviewed (复核), how long the public notice (公示) runs, how long each step may take, and
//! which programs a person may not be in at the same time. The eight programs of the seed are
//! [`Program::seeded`]; admins change them as data, and [`Program::validate`] says in Chinese
//! what is wrong with a changed one.
//!
//! The enrollment life cycle is in [`crate::assistance_lifecycle`], monitoring (防返贫) details
//! in [`crate::assistance_monitoring`].

use crate::money::Money;
use serde::{Deserialize, Serialize};

/// Stable program codes of the glossary.
pub const MIN_LIVING: &str = "min_living";
pub const NEAR_MIN_LIVING: &str = "near_min_living";
pub const EXTREME_POVERTY: &str = "extreme_poverty";
pub const TEMPORARY_RELIEF: &str = "temporary_relief";
pub const CHILD_IN_DIFFICULTY: &str = "child_in_difficulty";
pub const DISABILITY_SUBSIDY: &str = "disability_subsidy";
pub const ELDERLY_SUBSIDY: &str = "elderly_subsidy";
pub const MONITORING: &str = "monitoring";

/// Who a program enrolls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollUnit {
    Household,
    Person,
}

impl EnrollUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollUnit::Household => "household",
            EnrollUnit::Person => "person",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            EnrollUnit::Household => "按户",
            EnrollUnit::Person => "按人",
        }
    }
    pub fn parse(s: &str) -> Option<EnrollUnit> {
        match s.trim() {
            "household" | "按户" => Some(EnrollUnit::Household),
            "person" | "按人" => Some(EnrollUnit::Person),
            _ => None,
        }
    }
}

/// How a program pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    /// On the monthly payroll.
    Monthly,
    /// Paid once per approval (临时救助), in cash or in kind.
    OneOff,
    /// Pays nothing itself (防返贫监测: help comes through measures).
    None,
}

impl Frequency {
    pub fn label(self) -> &'static str {
        match self {
            Frequency::Monthly => "按月发放",
            Frequency::OneOff => "一次性发放",
            Frequency::None => "不直接发放",
        }
    }
}

/// What a standard's amount is counted per.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayBasis {
    PerPerson,
    PerHousehold,
}

impl PayBasis {
    pub fn label(self) -> &'static str {
        match self {
            PayBasis::PerPerson => "每人",
            PayBasis::PerHousehold => "每户",
        }
    }
}

/// One amount: for a year, an area (a division code prefix; empty is everywhere) and a
/// category of the program (`rural`, `urban`, a care level, a sub-type; empty is any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standard {
    pub year: i32,
    #[serde(default)]
    pub area: String,
    #[serde(default)]
    pub category: String,
    pub amount: Money,
    pub basis: PayBasis,
}

/// A category a program knows: `rural` 农村, `de_facto_orphan` 事实无人抚养儿童, `full_care` 全护理.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    pub label: String,
    /// Counts as "under care" for 特困人员护理率 (persons under care / all).
    #[serde(default)]
    pub under_care: bool,
}

/// Calendar days each step may take, counted from the day the previous step was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLimits {
    pub village_review: u32,
    pub public_notice: u32,
    pub township_review: u32,
    pub county_approval: u32,
}

impl Default for StepLimits {
    /// The usual local rule: 10 days to 评议, 3 to post the notice, 10 for the township after
    /// the notice ends, 15 for the county.
    fn default() -> Self {
        StepLimits {
            village_review: 10,
            public_notice: 3,
            township_review: 10,
            county_approval: 15,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub code: String,
    pub name: String,
    pub unit: EnrollUnit,
    pub frequency: Frequency,
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub standards: Vec<Standard>,
    /// Months between 复核 of an active enrollment; 0: no periodic review.
    pub review_months: u32,
    /// Days the public notice (公示) runs.
    pub notice_days: u32,
    #[serde(default)]
    pub limits: StepLimits,
    /// The township approves in the county's stead (县级审批 delegated to 乡镇).
    #[serde(default)]
    pub township_approves: bool,
    /// Programs a person may not be in at the same time as this one.
    #[serde(default)]
    pub incompatible: Vec<String>,
    /// Means-tested: an owned enterprise above the capital threshold is a hit of the cross-check.
    #[serde(default)]
    pub means_tested: bool,
    /// 防返贫监测 line: the per-capita monthly income a monitored household must stay above
    /// for six months before its risk may be declared cleared (风险消除).
    #[serde(default)]
    pub income_line: Option<Money>,
}

/// Why a program configuration cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ProgramError(pub String);

impl Program {
    /// The amount for `year`, at the unit with division code `area_code`, for `category`:
    /// the standard with the longest matching area prefix wins; a standard for the category
    /// beats one for any category.
    pub fn standard_for(&self, year: i32, area_code: &str, category: &str) -> Option<&Standard> {
        self.standards
            .iter()
            .filter(|s| s.year == year && area_code.starts_with(s.area.as_str()))
            .filter(|s| s.category.is_empty() || s.category == category)
            .max_by_key(|s| (s.area.len(), !s.category.is_empty()))
    }

    /// What one enrollment is paid for a month: the standard times the covered persons for a
    /// per-person standard.
    pub fn monthly_amount(
        &self,
        year: i32,
        area_code: &str,
        category: &str,
        persons: i64,
    ) -> Option<Money> {
        let s = self.standard_for(year, area_code, category)?;
        match s.basis {
            PayBasis::PerHousehold => Some(s.amount),
            PayBasis::PerPerson => s.amount.checked_mul(persons.max(0)),
        }
    }

    pub fn category(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }

    pub fn category_label(&self, code: &str) -> String {
        self.category(code)
            .map_or_else(|| code.to_string(), |c| c.label.clone())
    }

    pub fn is_incompatible_with(&self, other: &str) -> bool {
        self.incompatible.iter().any(|c| c == other)
    }

    /// Every problem, the first one reported.
    pub fn validate(&self) -> Result<(), ProgramError> {
        let bad = |m: String| Err(ProgramError(m));
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 32
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !code_ok {
            return bad(format!(
                "项目代码“{}”无效：只能用小写英文字母、数字和下划线，最长32位",
                self.code
            ));
        }
        if self.name.trim().is_empty() {
            return bad("项目名称不能为空".into());
        }
        if self.notice_days == 0 || self.notice_days > 30 {
            return bad(format!(
                "公示天数应在1到30天之间，现为{}天",
                self.notice_days
            ));
        }
        if self.review_months > 36 {
            return bad(format!(
                "复核周期最长36个月，现为{}个月",
                self.review_months
            ));
        }
        let l = self.limits;
        if [
            l.village_review,
            l.public_notice,
            l.township_review,
            l.county_approval,
        ]
        .contains(&0)
        {
            return bad("每个环节的办理时限至少1天".into());
        }
        if self.incompatible.iter().any(|c| c == &self.code) {
            return bad("项目不能与自身互斥".into());
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.categories {
            if c.code.is_empty() || c.label.trim().is_empty() {
                return bad("类别的代码和名称都不能为空".into());
            }
            if !seen.insert(c.code.as_str()) {
                return bad(format!("类别“{}”重复", c.code));
            }
        }
        let mut keys = std::collections::BTreeSet::new();
        for s in &self.standards {
            if !(2000..=2100).contains(&s.year) {
                return bad(format!("标准年度{}不合理", s.year));
            }
            if s.amount.is_negative() || s.amount == Money::ZERO {
                return bad(format!("{}年标准金额必须大于0", s.year));
            }
            if !s.area.bytes().all(|b| b.is_ascii_digit()) {
                return bad(format!("标准适用地区“{}”应为区划代码", s.area));
            }
            if !s.category.is_empty() && self.category(&s.category).is_none() {
                return bad(format!("标准引用了未定义的类别“{}”", s.category));
            }
            if !keys.insert((s.year, s.area.as_str(), s.category.as_str())) {
                return bad(format!(
                    "{}年“{}”地区“{}”类别的标准重复",
                    s.year,
                    if s.area.is_empty() { "全部" } else { &s.area },
                    self.category_label(&s.category)
                ));
            }
        }
        if self
            .income_line
            .is_some_and(|m| m.is_negative() || m == Money::ZERO)
        {
            return bad("监测收入标准必须大于0".into());
        }
        if self.frequency == Frequency::None && !self.standards.is_empty() {
            return bad("不直接发放的项目不应设发放标准".into());
        }
        Ok(())
    }

    /// The programs of the seed, with Jiangxi-style standards for 2021-2024. Amounts are per
    /// month for monthly programs and per case for one-off ones.
    pub fn seeded() -> Vec<Program> {
        fn cat(code: &str, label: &str, under_care: bool) -> Category {
            Category {
                code: code.into(),
                label: label.into(),
                under_care,
            }
        }
        fn yearly(cat: &str, basis: PayBasis, per_year: &[(i32, i64)]) -> Vec<Standard> {
            per_year
                .iter()
                .map(|&(year, yuan)| Standard {
                    year,
                    area: String::new(),
                    category: cat.into(),
                    amount: Money::from_yuan(yuan).expect("small amount"),
                    basis,
                })
                .collect()
        }
        let base = |code: &str, name: &str, unit, frequency| Program {
            code: code.into(),
            name: name.into(),
            unit,
            frequency,
            categories: Vec::new(),
            standards: Vec::new(),
            review_months: 12,
            notice_days: 7,
            limits: StepLimits::default(),
            township_approves: false,
            incompatible: Vec::new(),
            means_tested: false,
            income_line: Option::None,
        };
        use EnrollUnit::*;
        use Frequency::*;
        use PayBasis::*;
        let mut min_living = base(MIN_LIVING, "城乡低保", Household, Monthly);
        min_living.categories = vec![
            cat("rural", "农村低保", false),
            cat("urban", "城市低保", false),
        ];
        min_living.standards = [
            yearly(
                "rural",
                PerPerson,
                &[(2021, 575), (2022, 610), (2023, 640), (2024, 670)],
            ),
            yearly(
                "urban",
                PerPerson,
                &[(2021, 770), (2022, 810), (2023, 850), (2024, 885)],
            ),
        ]
        .concat();
        min_living.incompatible = vec![NEAR_MIN_LIVING.into(), EXTREME_POVERTY.into()];
        min_living.means_tested = true;

        let mut near = base(NEAR_MIN_LIVING, "低保边缘家庭", Household, None);
        near.incompatible = vec![MIN_LIVING.into()];
        near.means_tested = true;

        let mut extreme = base(EXTREME_POVERTY, "特困人员", Person, Monthly);
        extreme.categories = vec![
            cat("self_care", "生活自理", false),
            cat("partial_care", "部分失能（半护理）", true),
            cat("full_care", "完全失能（全护理）", true),
        ];
        extreme.standards = [
            yearly(
                "self_care",
                PerPerson,
                &[(2021, 750), (2022, 795), (2023, 832), (2024, 871)],
            ),
            yearly(
                "partial_care",
                PerPerson,
                &[(2021, 900), (2022, 950), (2023, 994), (2024, 1040)],
            ),
            yearly(
                "full_care",
                PerPerson,
                &[(2021, 1200), (2022, 1270), (2023, 1330), (2024, 1390)],
            ),
        ]
        .concat();
        extreme.incompatible = vec![MIN_LIVING.into()];
        extreme.means_tested = true;

        let mut temp = base(TEMPORARY_RELIEF, "临时救助", Household, OneOff);
        temp.review_months = 0;
        temp.notice_days = 3;
        temp.township_approves = true;
        temp.standards = yearly(
            "",
            PerHousehold,
            &[(2021, 1000), (2022, 1200), (2023, 1315), (2024, 1400)],
        );

        let mut child = base(CHILD_IN_DIFFICULTY, "困境儿童", Person, Monthly);
        child.categories = vec![
            cat("in_difficulty", "困境儿童", false),
            cat("de_facto_orphan", "事实无人抚养儿童", false),
        ];
        child.standards = [
            yearly(
                "in_difficulty",
                PerPerson,
                &[(2021, 200), (2022, 220), (2023, 240), (2024, 250)],
            ),
            yearly(
                "de_facto_orphan",
                PerPerson,
                &[(2021, 1200), (2022, 1300), (2023, 1380), (2024, 1450)],
            ),
        ]
        .concat();

        let mut disability = base(DISABILITY_SUBSIDY, "残疾人两项补贴", Person, Monthly);
        disability.categories = vec![
            cat("living", "困难残疾人生活补贴", false),
            cat("severe_care", "重度残疾人护理补贴", false),
        ];
        disability.standards = [
            yearly(
                "living",
                PerPerson,
                &[(2021, 80), (2022, 90), (2023, 90), (2024, 100)],
            ),
            yearly(
                "severe_care",
                PerPerson,
                &[(2021, 80), (2022, 90), (2023, 90), (2024, 100)],
            ),
        ]
        .concat();

        let mut elderly = base(ELDERLY_SUBSIDY, "高龄津贴", Person, Monthly);
        elderly.categories = vec![
            cat("80_89", "80-89周岁", false),
            cat("90_99", "90-99周岁", false),
            cat("100", "100周岁以上", false),
        ];
        elderly.standards = [
            yearly(
                "80_89",
                PerPerson,
                &[(2021, 50), (2022, 50), (2023, 50), (2024, 50)],
            ),
            yearly(
                "90_99",
                PerPerson,
                &[(2021, 100), (2022, 100), (2023, 100), (2024, 100)],
            ),
            yearly(
                "100",
                PerPerson,
                &[(2021, 500), (2022, 500), (2023, 500), (2024, 500)],
            ),
        ]
        .concat();
        elderly.review_months = 0;
        elderly.township_approves = true;

        let mut monitoring = base(MONITORING, "防返贫监测", Household, None);
        monitoring.categories = vec![
            cat("unstable_after_exit", "脱贫不稳定户", false),
            cat("edge_of_poverty", "边缘易致贫户", false),
            cat("sudden_hardship", "突发严重困难户", false),
        ];
        monitoring.review_months = 3;
        monitoring.notice_days = 5;
        monitoring.township_approves = true;
        // 7,200 yuan a year per person, the province's 2023 monitoring line, by the month.
        monitoring.income_line = Money::from_yuan(600);

        vec![
            min_living, near, extreme, temp, child, disability, elderly, monitoring,
        ]
    }
}

/// Two programs clash if either names the other.
pub fn incompatible(a: &Program, b: &Program) -> bool {
    a.is_incompatible_with(&b.code) || b.is_incompatible_with(&a.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(code: &str) -> Program {
        Program::seeded()
            .into_iter()
            .find(|p| p.code == code)
            .unwrap()
    }

    #[test]
    fn seeded_programs_are_valid_and_distinct() {
        let all = Program::seeded();
        assert_eq!(all.len(), 8);
        for p in &all {
            p.validate().unwrap_or_else(|e| panic!("{}: {e}", p.code));
        }
        let mut codes: Vec<_> = all.iter().map(|p| p.code.as_str()).collect();
        codes.dedup();
        assert_eq!(codes.len(), 8);
    }

    #[test]
    fn most_specific_standard_wins() {
        let mut p = program(MIN_LIVING);
        p.standards.push(Standard {
            year: 2023,
            area: "361002201".into(),
            category: "rural".into(),
            amount: Money::from_yuan(700).unwrap(),
            basis: PayBasis::PerPerson,
        });
        p.validate().unwrap();
        let s = p.standard_for(2023, "361002201211", "rural").unwrap();
        assert_eq!(s.amount, Money::from_yuan(700).unwrap());
        let s = p.standard_for(2023, "361002100200", "rural").unwrap();
        assert_eq!(s.amount, Money::from_yuan(640).unwrap());
        assert_eq!(
            p.monthly_amount(2023, "361002100200", "urban", 3),
            Some(Money::from_yuan(2550).unwrap())
        );
        assert_eq!(p.standard_for(2019, "361002201211", "rural"), None);
        assert_eq!(p.monthly_amount(2023, "361002201211", "unknown", 2), None);
    }

    #[test]
    fn per_household_ignores_size() {
        let p = program(TEMPORARY_RELIEF);
        assert_eq!(
            p.monthly_amount(2023, "361002201211", "", 5),
            Some(Money::from_yuan(1315).unwrap())
        );
    }

    #[test]
    fn incompatibility_is_symmetric() {
        let a = program(MIN_LIVING);
        let b = program(NEAR_MIN_LIVING);
        let c = program(EXTREME_POVERTY);
        let d = program(ELDERLY_SUBSIDY);
        assert!(incompatible(&a, &b) && incompatible(&b, &a));
        assert!(incompatible(&c, &a));
        assert!(!incompatible(&a, &d));
    }

    #[test]
    fn refuses_bad_configurations() {
        let mut p = program(MIN_LIVING);
        p.code = "低保".into();
        assert!(p.validate().unwrap_err().0.contains("项目代码"));
        let mut p = program(MIN_LIVING);
        p.notice_days = 0;
        assert!(p.validate().unwrap_err().0.contains("公示天数"));
        let mut p = program(MIN_LIVING);
        p.standards.push(p.standards[0].clone());
        assert!(p.validate().unwrap_err().0.contains("重复"));
        let mut p = program(MIN_LIVING);
        p.standards[0].category = "nomad".into();
        assert!(p.validate().unwrap_err().0.contains("未定义的类别"));
        let mut p = program(MIN_LIVING);
        p.incompatible.push(MIN_LIVING.into());
        assert!(p.validate().unwrap_err().0.contains("自身"));
        let mut p = program(MONITORING);
        p.standards = program(TEMPORARY_RELIEF).standards;
        assert!(p.validate().unwrap_err().0.contains("不直接发放"));
        let mut p = program(MIN_LIVING);
        p.limits.township_review = 0;
        assert!(p.validate().unwrap_err().0.contains("时限"));
    }

    #[test]
    fn round_trips_as_json() {
        for p in Program::seeded() {
            let s = serde_json::to_string(&p).unwrap();
            let back: Program = serde_json::from_str(&s).unwrap();
            assert_eq!(back, p);
        }
    }
}
