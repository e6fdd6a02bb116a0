//! Reporting periods (期间) with DHIS2 codes, so data values exchange with DHIS2 and ADX
//! without a translation table: `2023`, `2023S1`, `2023Q1`, `202301`, `2023W05`, `20230105`.
//!
//! Weeks are ISO 8601 weeks (Monday to Sunday, week 1 holds the year's first Thursday), which
//! is what DHIS2 means by "Weekly". A week therefore belongs to its ISO year: 2020W53 runs
//! into January 2021, and 2023's first days may belong to 2022W52.

use crate::normalize::normalize_compact;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Ordered from finest to coarsest, so `a < b` means `a` nests in (or is finer than) `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodType {
    Day,
    Week,
    Month,
    Quarter,
    SixMonth,
    Year,
}

impl PeriodType {
    pub const ALL: [PeriodType; 6] = [
        PeriodType::Day,
        PeriodType::Week,
        PeriodType::Month,
        PeriodType::Quarter,
        PeriodType::SixMonth,
        PeriodType::Year,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PeriodType::Day => "日",
            PeriodType::Week => "周",
            PeriodType::Month => "月",
            PeriodType::Quarter => "季度",
            PeriodType::SixMonth => "半年",
            PeriodType::Year => "年",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PeriodType::Day => "day",
            PeriodType::Week => "week",
            PeriodType::Month => "month",
            PeriodType::Quarter => "quarter",
            PeriodType::SixMonth => "six_month",
            PeriodType::Year => "year",
        }
    }

    pub fn parse(s: &str) -> Option<PeriodType> {
        PeriodType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The name of the period type in DHIS2 metadata (`periodType` of a data set).
    pub fn dhis2_name(self) -> &'static str {
        match self {
            PeriodType::Day => "Daily",
            PeriodType::Week => "Weekly",
            PeriodType::Month => "Monthly",
            PeriodType::Quarter => "Quarterly",
            PeriodType::SixMonth => "SixMonthly",
            PeriodType::Year => "Yearly",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("期间为空")]
    Empty,
    #[error(
        "期间代码“{0}”无法识别：应为 2023（年）、2023S1（半年）、2023Q1（季度）、202301（月）、2023W05（周）或 20230105（日）"
    )]
    Unrecognized(String),
    #[error("期间代码“{0}”中的年份无效：应在1000至9999之间")]
    BadYear(String),
    #[error("期间代码“{0}”无效：半年只有 S1（上半年）和 S2（下半年）")]
    BadHalf(String),
    #[error("期间代码“{0}”无效：季度只能是 Q1 至 Q4")]
    BadQuarter(String),
    #[error("期间代码“{code}”无效：没有{month}月")]
    BadMonth { code: String, month: u32 },
    #[error("期间代码“{code}”无效：{year}年只有{weeks}周，没有第{week}周")]
    BadWeek {
        code: String,
        year: i32,
        weeks: u32,
        week: u32,
    },
    #[error("期间代码“{0}”不是有效日期")]
    BadDay(String),
}

/// Private so that every `Period` is a real one (no month 13, no week 53 in a 52-week year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Day(NaiveDate),
    /// ISO year and week.
    Week(i32, u32),
    Month(i32, u32),
    Quarter(i32, u32),
    SixMonth(i32, u32),
    Year(i32),
}

/// A reporting period. Serialized as its DHIS2 code.
///
/// Arithmetic (`next`, `previous`, ...) panics only beyond chrono's date range
/// (±262 000 years), which no code can reach: `parse` takes four-digit years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period(Kind);

impl Period {
    /// Accepts the codes in the module docs, in any case, full-width, and weeks without the
    /// leading zero (`2023W5`, as DHIS2 itself writes them).
    pub fn parse(s: &str) -> Result<Period, PeriodError> {
        let code = normalize_compact(s).to_ascii_uppercase();
        if code.is_empty() {
            return Err(PeriodError::Empty);
        }
        let unrecognized = || PeriodError::Unrecognized(code.clone());
        if !code.is_ascii() || code.len() < 4 || !all_digits(&code[..4]) {
            return Err(unrecognized());
        }
        let year: i32 = code[..4].parse().map_err(|_| unrecognized())?;
        if year < 1000 {
            return Err(PeriodError::BadYear(code));
        }
        let rest = &code[4..];
        let kind = match rest.as_bytes() {
            [] => Kind::Year(year),
            [b'S', ..] => match &rest[1..] {
                "1" => Kind::SixMonth(year, 1),
                "2" => Kind::SixMonth(year, 2),
                _ => return Err(PeriodError::BadHalf(code)),
            },
            [b'Q', ..] => match rest[1..].parse::<u32>() {
                Ok(q @ 1..=4) if rest.len() == 2 => Kind::Quarter(year, q),
                _ => return Err(PeriodError::BadQuarter(code)),
            },
            [b'W', ..] => {
                let w = &rest[1..];
                if !(1..=2).contains(&w.len()) || !all_digits(w) {
                    return Err(unrecognized());
                }
                let week: u32 = w.parse().map_err(|_| unrecognized())?;
                let weeks = weeks_in_year(year);
                if !(1..=weeks).contains(&week) {
                    return Err(PeriodError::BadWeek {
                        code,
                        year,
                        weeks,
                        week,
                    });
                }
                Kind::Week(year, week)
            }
            [_, _] if all_digits(rest) => {
                let month: u32 = rest.parse().map_err(|_| unrecognized())?;
                if !(1..=12).contains(&month) {
                    return Err(PeriodError::BadMonth { code, month });
                }
                Kind::Month(year, month)
            }
            [_, _, _, _] if all_digits(rest) => match NaiveDate::parse_from_str(&code, "%Y%m%d") {
                Ok(d) => Kind::Day(d),
                Err(_) => return Err(PeriodError::BadDay(code)),
            },
            _ => return Err(unrecognized()),
        };
        Ok(Period(kind))
    }

    pub fn day(date: NaiveDate) -> Period {
        Period(Kind::Day(date))
    }

    /// The period of type `t` that contains `date`.
    pub fn containing(date: NaiveDate, t: PeriodType) -> Period {
        let (y, m) = (date.year(), date.month());
        Period(match t {
            PeriodType::Day => Kind::Day(date),
            PeriodType::Week => {
                let iso = date.iso_week();
                Kind::Week(iso.year(), iso.week())
            }
            PeriodType::Month => Kind::Month(y, m),
            PeriodType::Quarter => Kind::Quarter(y, (m - 1) / 3 + 1),
            PeriodType::SixMonth => Kind::SixMonth(y, (m - 1) / 6 + 1),
            PeriodType::Year => Kind::Year(y),
        })
    }

    pub fn period_type(&self) -> PeriodType {
        match self.0 {
            Kind::Day(_) => PeriodType::Day,
            Kind::Week(..) => PeriodType::Week,
            Kind::Month(..) => PeriodType::Month,
            Kind::Quarter(..) => PeriodType::Quarter,
            Kind::SixMonth(..) => PeriodType::SixMonth,
            Kind::Year(_) => PeriodType::Year,
        }
    }

    /// The year the period is reported under; for weeks the ISO year, which can differ from
    /// the calendar year of its first or last days.
    pub fn year(&self) -> i32 {
        match self.0 {
            Kind::Day(d) => d.year(),
            Kind::Week(y, _)
            | Kind::Month(y, _)
            | Kind::Quarter(y, _)
            | Kind::SixMonth(y, _)
            | Kind::Year(y) => y,
        }
    }

    /// First day, inclusive.
    pub fn start(&self) -> NaiveDate {
        match self.0 {
            Kind::Day(d) => d,
            Kind::Week(y, w) => week_start(y, w),
            Kind::Month(y, m) => ymd(y, m, 1),
            Kind::Quarter(y, q) => ymd(y, q * 3 - 2, 1),
            Kind::SixMonth(y, h) => ymd(y, h * 6 - 5, 1),
            Kind::Year(y) => ymd(y, 1, 1),
        }
    }

    /// Last day, inclusive.
    pub fn end(&self) -> NaiveDate {
        match self.0 {
            Kind::Day(d) => d,
            Kind::Week(y, w) => week_start(y, w) + Days::new(6),
            Kind::Month(y, m) => month_end(y, m),
            Kind::Quarter(y, q) => month_end(y, q * 3),
            Kind::SixMonth(y, h) => month_end(y, h * 6),
            Kind::Year(y) => ymd(y, 12, 31),
        }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.start() <= date && date <= self.end()
    }

    /// The following period of the same type.
    pub fn next(&self) -> Period {
        let after = self.end().succ_opt().expect("within chrono's date range");
        Period::containing(after, self.period_type())
    }

    /// The preceding period of the same type: the base of a period-on-period (环比) change.
    pub fn previous(&self) -> Period {
        let before = self.start().pred_opt().expect("within chrono's date range");
        Period::containing(before, self.period_type())
    }

    /// The base of a year-on-year (同比) change: the same period one year earlier.
    ///
    /// Two periods have no exact counterpart, and are clamped rather than refused, because a
    /// report asking for last year's figure wants the nearest comparable one:
    /// - 29 February compares with 28 February (`20240229` -> `20230228`);
    /// - week 53 compares with week 52 when the previous ISO year has only 52 weeks.
    pub fn same_period_last_year(&self) -> Period {
        Period(match self.0 {
            Kind::Day(d) => {
                let y = d.year() - 1;
                let day = d.day().min(month_end(y, d.month()).day());
                Kind::Day(ymd(y, d.month(), day))
            }
            Kind::Week(y, w) => Kind::Week(y - 1, w.min(weeks_in_year(y - 1))),
            Kind::Month(y, m) => Kind::Month(y - 1, m),
            Kind::Quarter(y, q) => Kind::Quarter(y - 1, q),
            Kind::SixMonth(y, h) => Kind::SixMonth(y - 1, h),
            Kind::Year(y) => Kind::Year(y - 1),
        })
    }

    /// The periods of type `t` that make up this one, in order: the months of 2023Q2, the
    /// days of a week. Empty when `t` is coarser than this period's type.
    ///
    /// Weeks do not nest in months or years, so a week counts where its Thursday falls: the
    /// ISO rule for years, applied alike to months, quarters and half-years. Every week then
    /// belongs to exactly one period of each type, and weekly figures add up without double
    /// counting.
    pub fn periods_in(self, t: PeriodType) -> Vec<Period> {
        let own = self.period_type();
        if t == own {
            return vec![self];
        }
        if t > own {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut p = Period::containing(self.start(), t);
        while p.start() <= self.end() {
            let keep = if t == PeriodType::Week {
                self.contains(p.start() + Days::new(3))
            } else {
                true
            };
            if keep {
                out.push(p);
            }
            p = p.next();
        }
        out
    }

    /// From the start of the reporting year to the end of this period, both inclusive: the
    /// range of a cumulative (累计) figure. For weeks the year starts with ISO week 1, so the
    /// range holds whole weeks.
    pub fn year_to_date(self) -> (NaiveDate, NaiveDate) {
        let start = match self.0 {
            Kind::Week(y, _) => week_start(y, 1),
            _ => ymd(self.year(), 1, 1),
        };
        (start, self.end())
    }

    /// `2023年`, `2023年上半年`, `2023年第1季度`, `2023年1月`, `2023年第5周`, `2023年1月5日`.
    pub fn label(&self) -> String {
        match self.0 {
            Kind::Day(d) => format!("{}年{}月{}日", d.year(), d.month(), d.day()),
            Kind::Week(y, w) => format!("{y}年第{w}周"),
            Kind::Month(y, m) => format!("{y}年{m}月"),
            Kind::Quarter(y, q) => format!("{y}年第{q}季度"),
            Kind::SixMonth(y, 1) => format!("{y}年上半年"),
            Kind::SixMonth(y, _) => format!("{y}年下半年"),
            Kind::Year(y) => format!("{y}年"),
        }
    }
}

/// 53 when the year starts on a Thursday, or is a leap year starting on a Wednesday.
pub fn weeks_in_year(year: i32) -> u32 {
    if NaiveDate::from_isoywd_opt(year, 53, Weekday::Mon).is_some() {
        53
    } else {
        52
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid by construction")
}

fn week_start(y: i32, w: u32) -> NaiveDate {
    NaiveDate::from_isoywd_opt(y, w, Weekday::Mon).expect("valid by construction")
}

fn month_end(y: i32, m: u32) -> NaiveDate {
    let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    ymd(ny, nm, 1)
        .pred_opt()
        .expect("within chrono's date range")
}

impl fmt::Display for Period {
    /// The DHIS2 code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::Day(d) => write!(f, "{}", d.format("%Y%m%d")),
            Kind::Week(y, w) => write!(f, "{y:04}W{w:02}"),
            Kind::Month(y, m) => write!(f, "{y:04}{m:02}"),
            Kind::Quarter(y, q) => write!(f, "{y:04}Q{q}"),
            Kind::SixMonth(y, h) => write!(f, "{y:04}S{h}"),
            Kind::Year(y) => write!(f, "{y:04}"),
        }
    }
}

/// Chronological: by first day, then the shorter period first (a month before the quarter
/// it opens). No two different periods share both first and last day, so this agrees with
/// `Eq`.
impl Ord for Period {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.start(), self.end()).cmp(&(other.start(), other.end()))
    }
}

impl PartialOrd for Period {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Period {
    type Err = PeriodError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Period::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Period::parse(&s)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Period {
        Period::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn codes(v: Vec<Period>) -> Vec<String> {
        v.into_iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn every_type_parses_and_prints_back() {
        let cases = [
            (
                "2023",
                PeriodType::Year,
                d(2023, 1, 1),
                d(2023, 12, 31),
                "2023年",
            ),
            (
                "2023S1",
                PeriodType::SixMonth,
                d(2023, 1, 1),
                d(2023, 6, 30),
                "2023年上半年",
            ),
            (
                "2023S2",
                PeriodType::SixMonth,
                d(2023, 7, 1),
                d(2023, 12, 31),
                "2023年下半年",
            ),
            (
                "2023Q1",
                PeriodType::Quarter,
                d(2023, 1, 1),
                d(2023, 3, 31),
                "2023年第1季度",
            ),
            (
                "2023Q4",
                PeriodType::Quarter,
                d(2023, 10, 1),
                d(2023, 12, 31),
                "2023年第4季度",
            ),
            (
                "202301",
                PeriodType::Month,
                d(2023, 1, 1),
                d(2023, 1, 31),
                "2023年1月",
            ),
            (
                "202402",
                PeriodType::Month,
                d(2024, 2, 1),
                d(2024, 2, 29),
                "2024年2月",
            ),
            (
                "2023W05",
                PeriodType::Week,
                d(2023, 1, 30),
                d(2023, 2, 5),
                "2023年第5周",
            ),
            (
                "20230105",
                PeriodType::Day,
                d(2023, 1, 5),
                d(2023, 1, 5),
                "2023年1月5日",
            ),
        ];
        for (code, t, start, end, label) in cases {
            let period = p(code);
            assert_eq!(period.to_string(), code);
            assert_eq!(period.period_type(), t, "{code}");
            assert_eq!((period.start(), period.end()), (start, end), "{code}");
            assert_eq!(period.label(), label);
            assert_eq!(period.year(), start.year());
        }
    }

    #[test]
    fn sloppy_codes_are_accepted() {
        assert_eq!(p("2023w5").to_string(), "2023W05");
        assert_eq!(p(" ２０２３ｑ１ ").to_string(), "2023Q1");
        assert_eq!(p("2023s2").to_string(), "2023S2");
    }

    #[test]
    fn invalid_codes_are_refused_with_reason() {
        let e = |s: &str| Period::parse(s).unwrap_err();
        assert_eq!(
            e("202313"),
            PeriodError::BadMonth {
                code: "202313".into(),
                month: 13
            }
        );
        assert_eq!(
            e("202300"),
            PeriodError::BadMonth {
                code: "202300".into(),
                month: 0
            }
        );
        assert_eq!(e("2023Q5"), PeriodError::BadQuarter("2023Q5".into()));
        assert_eq!(e("2023Q0"), PeriodError::BadQuarter("2023Q0".into()));
        assert_eq!(e("2023S3"), PeriodError::BadHalf("2023S3".into()));
        // 2023 starts on a Sunday: 52 weeks.
        let w = e("2023W53");
        assert_eq!(
            w,
            PeriodError::BadWeek {
                code: "2023W53".into(),
                year: 2023,
                weeks: 52,
                week: 53
            }
        );
        assert_eq!(
            w.to_string(),
            "期间代码“2023W53”无效：2023年只有52周，没有第53周"
        );
        assert!(matches!(
            e("2023W54"),
            PeriodError::BadWeek { weeks: 52, .. }
        ));
        assert!(matches!(
            e("2020W54"),
            PeriodError::BadWeek { weeks: 53, .. }
        ));
        assert!(matches!(e("2023W00"), PeriodError::BadWeek { .. }));
        assert_eq!(e("20230230"), PeriodError::BadDay("20230230".into()));
        assert_eq!(e("20230229"), PeriodError::BadDay("20230229".into()));
        assert_eq!(e("0999"), PeriodError::BadYear("0999".into()));
        assert_eq!(e("2023Q"), PeriodError::BadQuarter("2023Q".into()));
        for bad in [
            "23",
            "2023-01",
            "2023W",
            "2023W123",
            "2023M1",
            "二〇二三",
            "2023年",
        ] {
            assert!(matches!(e(bad), PeriodError::Unrecognized(_)), "{bad}");
        }
        assert_eq!(e(" "), PeriodError::Empty);
    }

    #[test]
    fn iso_week_53() {
        // 2020 starts on a Wednesday and is a leap year: 53 weeks, the last running into 2021.
        assert_eq!(weeks_in_year(2020), 53);
        assert_eq!(weeks_in_year(2015), 53); // starts on a Thursday
        assert_eq!(weeks_in_year(2021), 52);
        let w53 = p("2020W53");
        assert_eq!((w53.start(), w53.end()), (d(2020, 12, 28), d(2021, 1, 3)));
        assert_eq!(w53.year(), 2020);
        assert_eq!(w53.next().to_string(), "2021W01");
        assert_eq!(p("2021W01").previous().to_string(), "2020W53");
        assert_eq!(Period::containing(d(2021, 1, 1), PeriodType::Week), w53);
        // 2019 has 52 weeks: W53 compares with W52.
        assert_eq!(w53.same_period_last_year().to_string(), "2019W52");
        // 2021W52 -> 2020W52, not W53.
        assert_eq!(p("2021W52").same_period_last_year().to_string(), "2020W52");
        assert_eq!(w53.year_to_date(), (d(2019, 12, 30), d(2021, 1, 3)));
    }

    #[test]
    fn leap_day() {
        let leap = p("20240229");
        assert_eq!(leap.label(), "2024年2月29日");
        // No 29 February in 2023: clamped to the 28th (see same_period_last_year).
        assert_eq!(leap.same_period_last_year().to_string(), "20230228");
        assert_eq!(leap.next().to_string(), "20240301");
        assert_eq!(p("20240301").previous(), leap);
        assert_eq!(p("202402").same_period_last_year().end(), d(2023, 2, 28));
        assert_eq!(p("2024").periods_in(PeriodType::Day).len(), 366);
        assert_eq!(p("202402").periods_in(PeriodType::Day).len(), 29);
    }

    #[test]
    fn previous_and_next_cross_years() {
        for (code, prev, next) in [
            ("2023", "2022", "2024"),
            ("2023S1", "2022S2", "2023S2"),
            ("2023Q1", "2022Q4", "2023Q2"),
            ("202301", "202212", "202302"),
            ("2023W01", "2022W52", "2023W02"),
            ("20230101", "20221231", "20230102"),
        ] {
            assert_eq!(p(code).previous().to_string(), prev);
            assert_eq!(p(code).next().to_string(), next);
        }
        assert_eq!(p("2023Q3").same_period_last_year().to_string(), "2022Q3");
        assert_eq!(p("202307").same_period_last_year().to_string(), "202207");
    }

    #[test]
    fn containing_and_contains() {
        let day = d(2023, 8, 15);
        let want = ["20230815", "2023W33", "202308", "2023Q3", "2023S2", "2023"];
        for (t, code) in PeriodType::ALL.into_iter().zip(want) {
            let period = Period::containing(day, t);
            assert_eq!(period.to_string(), code);
            assert!(period.contains(day));
            assert!(!period.contains(period.start().pred_opt().unwrap()));
            assert!(!period.contains(period.end().succ_opt().unwrap()));
        }
        // 1 January 2023 is a Sunday of the last ISO week of 2022.
        assert_eq!(
            Period::containing(d(2023, 1, 1), PeriodType::Week).to_string(),
            "2022W52"
        );
    }

    #[test]
    fn periods_in_breaks_down() {
        assert_eq!(
            codes(p("2023Q2").periods_in(PeriodType::Month)),
            ["202304", "202305", "202306"]
        );
        assert_eq!(
            codes(p("2023").periods_in(PeriodType::SixMonth)),
            ["2023S1", "2023S2"]
        );
        assert_eq!(
            codes(p("2023S2").periods_in(PeriodType::Quarter)),
            ["2023Q3", "2023Q4"]
        );
        assert_eq!(p("2023").periods_in(PeriodType::Month).len(), 12);
        assert_eq!(
            codes(p("2023Q1").periods_in(PeriodType::Quarter)),
            ["2023Q1"]
        );
        assert!(p("202301").periods_in(PeriodType::Year).is_empty());
        assert!(p("2023W05").periods_in(PeriodType::Month).is_empty());
        assert_eq!(p("2023W05").periods_in(PeriodType::Day).len(), 7);

        // Weeks of a year are its ISO weeks.
        let weeks = codes(p("2020").periods_in(PeriodType::Week));
        assert_eq!(weeks.len(), 53);
        assert_eq!(
            (weeks[0].as_str(), weeks[52].as_str()),
            ("2020W01", "2020W53")
        );
        // 2023W05 (30 Jan - 5 Feb) has its Thursday on 2 February: it counts for February.
        assert_eq!(
            codes(p("202301").periods_in(PeriodType::Week)),
            ["2023W01", "2023W02", "2023W03", "2023W04"]
        );
        assert_eq!(
            codes(p("202302").periods_in(PeriodType::Week))[0],
            "2023W05"
        );
    }

    #[test]
    fn year_to_date() {
        assert_eq!(p("2023Q2").year_to_date(), (d(2023, 1, 1), d(2023, 6, 30)));
        assert_eq!(p("202302").year_to_date(), (d(2023, 1, 1), d(2023, 2, 28)));
        assert_eq!(p("20230105").year_to_date(), (d(2023, 1, 1), d(2023, 1, 5)));
        assert_eq!(p("2023W05").year_to_date(), (d(2023, 1, 2), d(2023, 2, 5)));
    }

    #[test]
    fn ordering_is_chronological() {
        let mut v = vec![
            p("2023Q1"),
            p("2022"),
            p("202301"),
            p("20221231"),
            p("2023"),
        ];
        v.sort();
        assert_eq!(codes(v), ["2022", "20221231", "202301", "2023Q1", "2023"]);
    }

    #[test]
    fn serde_is_the_code() {
        let period = p("2023W05");
        assert_eq!(serde_json::to_string(&period).unwrap(), "\"2023W05\"");
        assert_eq!(
            serde_json::from_str::<Period>("\"2023w5\"").unwrap(),
            period
        );
        assert!(serde_json::from_str::<Period>("\"202313\"").is_err());
        assert_eq!(
            serde_json::to_string(&PeriodType::SixMonth).unwrap(),
            "\"six_month\""
        );
    }

    fn any_period() -> impl Strategy<Value = Period> {
        (
            0i64..=73_000,
            prop::sample::select(PeriodType::ALL.to_vec()),
        )
            .prop_map(|(days, t)| {
                Period::containing(d(1900, 1, 1) + chrono::Duration::days(days), t)
            })
    }

    proptest! {
        #[test]
        fn code_round_trips(period in any_period()) {
            prop_assert_eq!(Period::parse(&period.to_string()).unwrap(), period);
        }

        #[test]
        fn next_and_previous_tile_the_calendar(period in any_period()) {
            let next = period.next();
            prop_assert_eq!(next.start(), period.end().succ_opt().unwrap());
            prop_assert_eq!(next.previous(), period);
            prop_assert_eq!(next.period_type(), period.period_type());
        }

        #[test]
        fn same_period_last_year_is_a_year_back(period in any_period()) {
            let last = period.same_period_last_year();
            prop_assert_eq!(last.period_type(), period.period_type());
            prop_assert_eq!(last.year(), period.year() - 1);
        }

        #[test]
        fn finer_periods_tile_the_coarser(
            period in any_period(),
            pick in any::<prop::sample::Index>(),
        ) {
            // Weeks do not tile; they have their own property below.
            let finer: Vec<PeriodType> = PeriodType::ALL
                .into_iter()
                .filter(|&t| t <= period.period_type() && t != PeriodType::Week)
                .collect();
            let t = *pick.get(&finer);
            let parts = period.periods_in(t);
            prop_assert_eq!(parts[0].start(), period.start());
            prop_assert_eq!(parts.last().unwrap().end(), period.end());
            for pair in parts.windows(2) {
                prop_assert_eq!(pair[0].next(), pair[1]);
            }
        }

        #[test]
        fn every_week_counts_once(
            year in 1900i32..2100,
            t in prop::sample::select(
                vec![PeriodType::Month, PeriodType::Quarter, PeriodType::SixMonth],
            ),
        ) {
            let y = Period::containing(d(year, 1, 1), PeriodType::Year);
            let by_part: Vec<Period> = y
                .periods_in(t)
                .into_iter()
                .flat_map(|part| part.periods_in(PeriodType::Week))
                .collect();
            let whole = y.periods_in(PeriodType::Week);
            prop_assert_eq!(whole.len() as u32, weeks_in_year(year));
            prop_assert_eq!(by_part, whole);
        }
    }
}
