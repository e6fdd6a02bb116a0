//! 防返贫监测 (monitoring): the details of a monitored household beyond its enrollment.
//!
//! A monitored household has a type, one or more risk causes, measures with dates, a
//! responsible cadre, scheduled revisits (回头看), monthly per-capita income records and the
//! household checklist (户户清: 两不愁三保障 and drinking water). [`MonitoringDetail::can_clear`]
//! decides whether its risk may be declared cleared (风险消除): income above the line for at
//! least six full months and every checklist item met. A cleared household stays on record.

use crate::money::Money;
use crate::period::{Period, PeriodType};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

crate::code_enum!(
    /// 监测对象类型.
    MonitoringType {
        UnstableAfterExit = "unstable_after_exit" / "脱贫不稳定户",
        EdgeOfPoverty = "edge_of_poverty" / "边缘易致贫户",
        SuddenHardship = "sudden_hardship" / "突发严重困难户",
    }
);

crate::code_enum!(
    /// 风险类型: several may apply.
    RiskCause {
        Illness = "illness" / "因病",
        Education = "education" / "因学",
        Disability = "disability" / "因残",
        Disaster = "disaster" / "因灾",
        Accident = "accident" / "因意外事故",
        BusinessFailure = "business_failure" / "产业项目失败",
        UnstableWork = "unstable_work" / "务工就业不稳",
        LackOfLabour = "lack_of_labour" / "缺劳动力",
        Other = "other" / "其他",
    }
);

crate::code_enum!(
    /// 帮扶措施.
    MeasureKind {
        Industry = "industry" / "产业帮扶",
        Employment = "employment" / "就业帮扶",
        Medical = "medical" / "医疗保障",
        Education = "education" / "教育帮扶",
        Housing = "housing" / "住房安全",
        SafetyNet = "safety_net" / "综合保障（兜底）",
        Microcredit = "microcredit" / "小额信贷",
        Other = "other" / "其他",
    }
);

crate::code_enum!(
    /// The household checklist (户户清): 两不愁三保障 and drinking water.
    ChecklistItem {
        Food = "food" / "不愁吃",
        Clothing = "clothing" / "不愁穿",
        CompulsoryEducation = "compulsory_education" / "义务教育有保障",
        BasicMedical = "basic_medical" / "基本医疗有保障",
        HousingSafety = "housing_safety" / "住房安全有保障",
        DrinkingWater = "drinking_water" / "饮水安全有保障",
    }
);

/// Months of income above the line needed before the risk may be declared cleared.
pub const CLEAR_MONTHS: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    pub kind: MeasureKind,
    pub description: String,
    pub start: NaiveDate,
    #[serde(default)]
    pub end: Option<NaiveDate>,
}

/// A 回头看 visit: scheduled, then done with a note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub due: NaiveDate,
    #[serde(default)]
    pub done_on: Option<NaiveDate>,
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub note: String,
}

/// Per-capita income of one month (`202305`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyIncome {
    pub month: String,
    pub per_capita: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitoringDetail {
    pub kind: MonitoringType,
    pub causes: Vec<RiskCause>,
    #[serde(default)]
    pub measures: Vec<Measure>,
    /// 帮扶责任人: a cadre's user name.
    pub responsible: String,
    #[serde(default)]
    pub visits: Vec<Visit>,
    #[serde(default)]
    pub incomes: Vec<MonthlyIncome>,
    /// Checklist items met.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MonitoringError(pub String);

impl MonitoringDetail {
    pub fn validate(&self) -> Result<(), MonitoringError> {
        let bad = |m: String| Err(MonitoringError(m));
        if self.causes.is_empty() {
            return bad("至少选择一项风险类型".into());
        }
        for (i, c) in self.causes.iter().enumerate() {
            if self.causes[..i].contains(c) {
                return bad(format!("风险类型“{}”重复", c.label()));
            }
        }
        if self.responsible.trim().is_empty() {
            return bad("必须指定帮扶责任人".into());
        }
        for m in &self.measures {
            if m.description.trim().is_empty() {
                return bad(format!("{}措施需要说明内容", m.kind.label()));
            }
            if m.end.is_some_and(|e| e < m.start) {
                return bad(format!("{}措施的结束日期早于开始日期", m.kind.label()));
            }
        }
        let mut months = std::collections::BTreeSet::new();
        for inc in &self.incomes {
            match Period::parse(&inc.month) {
                Ok(p) if p.period_type() == PeriodType::Month => {}
                _ => return bad(format!("收入月份“{}”应为年月，如 202305", inc.month)),
            }
            if inc.per_capita.is_negative() {
                return bad(format!("{} 的人均收入不能为负数", inc.month));
            }
            if !months.insert(inc.month.as_str()) {
                return bad(format!("{} 的收入重复登记", inc.month));
            }
        }
        for v in &self.visits {
            if v.done_on.is_some() && v.by.trim().is_empty() {
                return bad(format!("{} 的回头看已完成，需填写走访人", v.due));
            }
        }
        Ok(())
    }

    pub fn checklist_missing(&self) -> Vec<ChecklistItem> {
        ChecklistItem::ALL
            .iter()
            .copied()
            .filter(|i| !self.checklist.contains(i))
            .collect()
    }

    /// Visits not yet made whose day has come.
    pub fn visits_due(&self, today: NaiveDate) -> Vec<&Visit> {
        self.visits
            .iter()
            .filter(|v| v.done_on.is_none() && v.due <= today)
            .collect()
    }

    /// Whether the risk may be declared cleared on `on`: each of the six full months before
    /// the month of `on` has a recorded per-capita income above `line`, and the checklist is
    /// complete. Every reason against is listed.
    pub fn can_clear(&self, line: Money, on: NaiveDate) -> Result<(), Vec<String>> {
        let mut why = Vec::new();
        let mut month = Period::containing(on, PeriodType::Month);
        let mut short = Vec::new();
        for _ in 0..CLEAR_MONTHS {
            month = month.previous();
            let code = month.to_string();
            match self.incomes.iter().find(|i| i.month == code) {
                Some(i) if i.per_capita > line => {}
                Some(_) => short.push(format!("{code}（低于{line}元）")),
                None => short.push(format!("{code}（未登记）")),
            }
        }
        if !short.is_empty() {
            short.reverse();
            why.push(format!(
                "近{CLEAR_MONTHS}个月人均收入须持续高于监测标准，以下月份不满足：{}",
                short.join("、")
            ));
        }
        let missing = self.checklist_missing();
        if !missing.is_empty() {
            let m: Vec<&str> = missing.iter().map(|i| i.label()).collect();
            why.push(format!("户户清未完成：{}", m.join("、")));
        }
        if why.is_empty() { Ok(()) } else { Err(why) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn yuan(n: i64) -> Money {
        Money::from_yuan(n).unwrap()
    }

    fn detail() -> MonitoringDetail {
        MonitoringDetail {
            kind: MonitoringType::SuddenHardship,
            causes: vec![RiskCause::Illness, RiskCause::LackOfLabour],
            measures: vec![Measure {
                kind: MeasureKind::Medical,
                description: "大病医疗救助".into(),
                start: d("2023-02-01"),
                end: None,
            }],
            responsible: "cadre".into(),
            visits: vec![
                Visit {
                    due: d("2023-06-30"),
                    done_on: Some(d("2023-06-28")),
                    by: "cadre".into(),
                    note: "已恢复务工".into(),
                },
                Visit {
                    due: d("2023-09-30"),
                    done_on: None,
                    by: String::new(),
                    note: String::new(),
                },
            ],
            incomes: (202303..=202309)
                .map(|m| MonthlyIncome {
                    month: m.to_string(),
                    per_capita: yuan(700),
                })
                .collect(),
            checklist: ChecklistItem::ALL.to_vec(),
        }
    }

    #[test]
    fn clears_with_six_months_above_the_line_and_full_checklist() {
        let m = detail();
        m.validate().unwrap();
        assert_eq!(m.can_clear(yuan(600), d("2023-10-15")), Ok(()));
    }

    #[test]
    fn refuses_clearing_with_a_short_month() {
        let mut m = detail();
        m.incomes[3].per_capita = yuan(500);
        let why = m.can_clear(yuan(600), d("2023-10-15")).unwrap_err();
        assert_eq!(why.len(), 1);
        assert!(why[0].contains("202306（低于600.00元）"), "{why:?}");
    }

    #[test]
    fn refuses_clearing_with_too_few_months() {
        let m = detail();
        // The six months before August start with February, which is not on record.
        let why = m.can_clear(yuan(600), d("2023-08-20")).unwrap_err();
        assert!(why[0].contains("202302（未登记）"), "{why:?}");
    }

    #[test]
    fn refuses_clearing_with_an_incomplete_checklist() {
        let mut m = detail();
        m.checklist.retain(|i| *i != ChecklistItem::DrinkingWater);
        let why = m.can_clear(yuan(600), d("2023-10-15")).unwrap_err();
        assert_eq!(why, vec!["户户清未完成：饮水安全有保障".to_string()]);
    }

    #[test]
    fn lists_visits_due() {
        let m = detail();
        assert!(m.visits_due(d("2023-09-29")).is_empty());
        assert_eq!(m.visits_due(d("2023-09-30")).len(), 1);
    }

    #[test]
    fn refuses_bad_details() {
        let mut m = detail();
        m.causes.clear();
        assert!(m.validate().unwrap_err().0.contains("风险类型"));
        let mut m = detail();
        m.causes.push(RiskCause::Illness);
        assert!(m.validate().unwrap_err().0.contains("重复"));
        let mut m = detail();
        m.responsible = " ".into();
        assert!(m.validate().unwrap_err().0.contains("帮扶责任人"));
        let mut m = detail();
        m.measures[0].end = Some(d("2023-01-01"));
        assert!(m.validate().unwrap_err().0.contains("结束日期"));
        let mut m = detail();
        m.incomes[0].month = "2023".into();
        assert!(m.validate().unwrap_err().0.contains("年月"));
        let mut m = detail();
        m.incomes.push(m.incomes[0].clone());
        assert!(m.validate().unwrap_err().0.contains("重复登记"));
        let mut m = detail();
        m.visits[1].done_on = Some(d("2023-09-01"));
        assert!(m.validate().unwrap_err().0.contains("走访人"));
    }

    #[test]
    fn codes_and_labels_parse() {
        for c in RiskCause::ALL {
            assert_eq!(RiskCause::parse(c.as_str()), Some(*c));
            assert_eq!(RiskCause::parse(c.label()), Some(*c));
        }
        assert_eq!(
            MonitoringType::parse("边缘易致贫户"),
            Some(MonitoringType::EdgeOfPoverty)
        );
    }
}
