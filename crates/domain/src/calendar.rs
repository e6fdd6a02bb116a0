//! The working-day calendar (工作日历): weekends, public holidays (放假日期) and the weekend
//! days that are worked instead (调休上班).
//!
//! The State Council publishes each year's schedule in the preceding autumn or winter, so the
//! calendar is data: [`WorkCalendar::parse`] reads the plain text an administrator can type
//! (or paste from the notice) and load without a release:
//!
//! ```text
//! # 2024年（国办发明电〔2023〕7号）
//! 2024-02-10..2024-02-17 春节
//! 2024-02-04 调休上班
//! ```
//!
//! Time limits are counted as Chinese administrative law counts them: the starting day is not
//! counted, the period starts the next day (民法典 第二百零一条), so a limit of 1 working day
//! given on a Friday ends on the next working day, usually Monday.

use crate::normalize::normalize_text;
use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// A line longer than this is almost certainly a typo (`2024-02-10..2024-12-17`): the longest
/// Chinese public holiday is 8 days.
const MAX_RANGE_DAYS: i64 = 31;

/// The word that marks a line as make-up working days rather than a holiday.
const MAKEUP_WORD: &str = "调休上班";

/// The official schedules of 2023 and 2024, in the same text format administrators load.
///
/// - 2023: 国务院办公厅关于2023年部分节假日安排的通知（国办发明电〔2022〕16号，2022年12月8日）.
/// - 2024: 国务院办公厅关于2024年部分节假日安排的通知（国办发明电〔2023〕7号，2023年10月25日）.
///
/// Checked against both notices line by line; the unit tests also check that every make-up
/// day falls on a weekend and every holiday block has the length the notice states ("共N天").
/// 2024's 春节 make-up days are both Sundays (2月4日、2月18日). 2024's 除夕 (2月9日) is not a
/// holiday: the notice only encourages employers to give the day off.
pub const CHINA_2023_2024: &str = "\
# 2023年：国办发明电〔2022〕16号
2022-12-31..2023-01-02 元旦
2023-01-21..2023-01-27 春节
2023-01-28 调休上班 春节
2023-01-29 调休上班 春节
2023-04-05 清明节
2023-04-29..2023-05-03 劳动节
2023-04-23 调休上班 劳动节
2023-05-06 调休上班 劳动节
2023-06-22..2023-06-24 端午节
2023-06-25 调休上班 端午节
2023-09-29..2023-10-06 中秋节、国庆节
2023-10-07 调休上班 国庆节
2023-10-08 调休上班 国庆节
# 2024年：国办发明电〔2023〕7号
2023-12-30..2024-01-01 元旦
2024-02-10..2024-02-17 春节
2024-02-04 调休上班 春节
2024-02-18 调休上班 春节
2024-04-04..2024-04-06 清明节
2024-04-07 调休上班 清明节
2024-05-01..2024-05-05 劳动节
2024-04-28 调休上班 劳动节
2024-05-11 调休上班 劳动节
2024-06-08..2024-06-10 端午节
2024-09-15..2024-09-17 中秋节
2024-09-14 调休上班 中秋节
2024-10-01..2024-10-07 国庆节
2024-09-29 调休上班 国庆节
2024-10-12 调休上班 国庆节
";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("日期{0}既是放假日又是调休上班日，请只保留一种")]
    Conflict(NaiveDate),
    #[error("第{line}行：日期“{text}”无效，应写成 2024-02-10 这样的格式")]
    BadDate { line: usize, text: String },
    #[error("第{line}行：起始日期{start}晚于结束日期{end}")]
    ReversedRange {
        line: usize,
        start: NaiveDate,
        end: NaiveDate,
    },
    #[error("第{line}行：从{start}到{end}共{days}天，超过{max}天，请检查是否写错")]
    RangeTooLong {
        line: usize,
        start: NaiveDate,
        end: NaiveDate,
        days: i64,
        max: i64,
    },
    #[error(
        "第{line}行：缺少说明：放假日期后面写节日名称（如“2024-02-10..2024-02-17 春节”），调休上班日后面写“调休上班”"
    )]
    MissingName { line: usize },
    #[error("第{line}行：{date}是{weekday}，本来就是工作日，不需要写成调休上班")]
    MakeupOnWeekday {
        line: usize,
        date: NaiveDate,
        weekday: &'static str,
    },
    #[error("第{line}行：{date}已经在第{first}行写过，两行说法不一致")]
    Contradiction {
        line: usize,
        date: NaiveDate,
        first: usize,
    },
}

/// Which days are worked: Monday to Friday, minus holidays, plus make-up days.
///
/// Dates outside the loaded schedules are treated as ordinary weeks (weekends off), so a
/// deadline in a year whose schedule has not been loaded yet can be a few days early; check
/// [`WorkCalendar::covers_year`] to warn about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkCalendar {
    /// Holiday date and its name (empty when built from bare dates).
    holidays: BTreeMap<NaiveDate, String>,
    makeup_days: BTreeSet<NaiveDate>,
}

impl WorkCalendar {
    /// A calendar from plain dates. A date cannot be both a holiday and a make-up day.
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        makeup_days: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<WorkCalendar, CalendarError> {
        let holidays: BTreeMap<NaiveDate, String> =
            holidays.into_iter().map(|d| (d, String::new())).collect();
        let makeup_days: BTreeSet<NaiveDate> = makeup_days.into_iter().collect();
        if let Some(d) = makeup_days.iter().find(|d| holidays.contains_key(d)) {
            return Err(CalendarError::Conflict(*d));
        }
        Ok(WorkCalendar {
            holidays,
            makeup_days,
        })
    }

    /// Weekends only: for tests, and for years without a published schedule.
    pub fn weekends_only() -> WorkCalendar {
        WorkCalendar::default()
    }

    /// The official schedules of 2023 and 2024, see [`CHINA_2023_2024`].
    pub fn china_2023_2024() -> WorkCalendar {
        WorkCalendar::parse(CHINA_2023_2024).expect("the built-in schedule is valid (tested)")
    }

    /// Reads the text format of the module docs. One entry a line:
    /// - `2024-02-10..2024-02-17 春节` (also `至` or `~` between the dates): holidays;
    /// - `2024-02-10 春节`: one holiday;
    /// - `2024-02-04 调休上班` (anything may follow, e.g. the holiday's name): a worked weekend.
    ///
    /// Blank lines and lines starting with `#` are ignored; full-width digits and spaces
    /// pasted from Word are accepted. Every error names its line.
    pub fn parse(text: &str) -> Result<WorkCalendar, CalendarError> {
        let mut cal = WorkCalendar::default();
        // date -> (line, is_holiday), to report contradictions with the first line.
        let mut seen: BTreeMap<NaiveDate, (usize, bool)> = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let clean = normalize_text(raw);
            if clean.is_empty() || clean.starts_with('#') {
                continue;
            }
            let (dates, rest) = match clean.split_once(' ') {
                Some((d, r)) => (d, r.trim()),
                None => (clean.as_str(), ""),
            };
            if rest.is_empty() {
                return Err(CalendarError::MissingName { line });
            }
            let (start, end) = parse_range(dates, line)?;
            let makeup = rest.starts_with(MAKEUP_WORD) || rest == "上班";
            let mut d = start;
            while d <= end {
                if makeup && !is_weekend(d) {
                    return Err(CalendarError::MakeupOnWeekday {
                        line,
                        date: d,
                        weekday: weekday_label(d.weekday()),
                    });
                }
                match seen.get(&d) {
                    Some(&(first, was_holiday)) if was_holiday == makeup => {
                        return Err(CalendarError::Contradiction {
                            line,
                            date: d,
                            first,
                        });
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(d, (line, !makeup));
                    }
                }
                if makeup {
                    cal.makeup_days.insert(d);
                } else {
                    cal.holidays.insert(d, rest.to_string());
                }
                d = next_day(d);
            }
        }
        Ok(cal)
    }

    /// The calendar in the text format of [`WorkCalendar::parse`]: consecutive holidays with
    /// the same name become one range. Parsing the result gives the same calendar.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let mut iter = self.holidays.iter().peekable();
        while let Some((&start, name)) = iter.next() {
            let mut end = start;
            while let Some(&(&d, n)) = iter.peek() {
                if d == next_day(end) && n == name {
                    end = d;
                    iter.next();
                } else {
                    break;
                }
            }
            let name = if name.is_empty() { "放假" } else { name };
            if start == end {
                let _ = writeln!(out, "{start} {name}");
            } else {
                let _ = writeln!(out, "{start}..{end} {name}");
            }
        }
        for d in &self.makeup_days {
            let _ = writeln!(out, "{d} {MAKEUP_WORD}");
        }
        out
    }

    /// Adds another calendar's days (e.g. next year's schedule) to this one.
    pub fn merge(&mut self, other: &WorkCalendar) -> Result<(), CalendarError> {
        for (d, name) in &other.holidays {
            if self.makeup_days.contains(d) {
                return Err(CalendarError::Conflict(*d));
            }
            self.holidays.insert(*d, name.clone());
        }
        for d in &other.makeup_days {
            if self.holidays.contains_key(d) {
                return Err(CalendarError::Conflict(*d));
            }
            self.makeup_days.insert(*d);
        }
        Ok(())
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains_key(&date)
    }

    /// The holiday's name (`春节`), if `date` is a holiday loaded from text.
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.holidays
            .get(&date)
            .map(String::as_str)
            .filter(|n| !n.is_empty())
    }

    pub fn is_makeup_day(&self, date: NaiveDate) -> bool {
        self.makeup_days.contains(&date)
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.holidays.contains_key(&date) {
            return false;
        }
        !is_weekend(date) || self.makeup_days.contains(&date)
    }

    /// Whether any holiday of `year` is loaded, i.e. whether deadlines in that year can be
    /// trusted.
    pub fn covers_year(&self, year: i32) -> bool {
        let start = NaiveDate::from_ymd_opt(year, 1, 1);
        let end = NaiveDate::from_ymd_opt(year, 12, 31);
        match (start, end) {
            (Some(s), Some(e)) => self.holidays.range(s..=e).next().is_some(),
            _ => false,
        }
    }

    /// The `n`-th working day after `start`; `start` itself is not counted, so a limit of 5
    /// working days given on Monday 2024-01-08 ends on Monday 2024-01-15. `n = 0` gives
    /// `start` (due the same day).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut d = start;
        let mut left = n;
        while left > 0 {
            d = next_day(d);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in `(a, b]`, negative when `b` is before `a`: the inverse of
    /// [`WorkCalendar::add_working_days`], so `working_days_between(a, add_working_days(a, n))`
    /// is `n`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> i64 {
        if b < a {
            return -self.working_days_between(b, a);
        }
        let mut count = 0;
        let mut d = a;
        while d < b {
            d = next_day(d);
            if self.is_working_day(d) {
                count += 1;
            }
        }
        count
    }

    /// `start` plus `n` calendar days, the day itself not counted (`n = 0` gives `start`).
    pub fn add_calendar_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        start
            .checked_add_days(Days::new(u64::from(n)))
            .expect("within chrono's date range")
    }

    /// `date` if it is a working day, else the first working day after it. A period counted
    /// in calendar days whose last day is a rest day ends on the first day after the rest
    /// (民法典 第二百零三条).
    pub fn roll_forward(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date;
        while !self.is_working_day(d) {
            d = next_day(d);
        }
        d
    }

    /// `n` calendar days after `start`, moved to the next working day if that is a rest day:
    /// the end of a limit of "N日".
    pub fn calendar_deadline(&self, start: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return start;
        }
        self.roll_forward(self.add_calendar_days(start, n))
    }
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_day(d: NaiveDate) -> NaiveDate {
    d.succ_opt().expect("within chrono's date range")
}

/// `星期一` .. `星期日`.
pub fn weekday_label(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "星期一",
        Weekday::Tue => "星期二",
        Weekday::Wed => "星期三",
        Weekday::Thu => "星期四",
        Weekday::Fri => "星期五",
        Weekday::Sat => "星期六",
        Weekday::Sun => "星期日",
    }
}

fn parse_date(s: &str, line: usize) -> Result<NaiveDate, CalendarError> {
    let t = s.trim().replace(['/', '.'], "-");
    NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|_| CalendarError::BadDate {
        line,
        text: s.trim().to_string(),
    })
}

fn parse_range(s: &str, line: usize) -> Result<(NaiveDate, NaiveDate), CalendarError> {
    let parts = s
        .split_once("..")
        .or_else(|| s.split_once('至'))
        .or_else(|| s.split_once('~'));
    let (start, end) = match parts {
        Some((a, b)) => (parse_date(a, line)?, parse_date(b, line)?),
        None => {
            let d = parse_date(s, line)?;
            (d, d)
        }
    };
    if end < start {
        return Err(CalendarError::ReversedRange { line, start, end });
    }
    let days = (end - start).num_days() + 1;
    if days > MAX_RANGE_DAYS {
        return Err(CalendarError::RangeTooLong {
            line,
            start,
            end,
            days,
            max: MAX_RANGE_DAYS,
        });
    }
    Ok((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn builtin_schedule_matches_the_notices() {
        let cal = WorkCalendar::china_2023_2024();
        // Every make-up day is a weekend day (the parser enforces it; this guards the table).
        for m in &cal.makeup_days {
            assert!(is_weekend(*m), "{m}");
        }
        // "共N天" of each notice, counted as the consecutive days off around each block.
        let blocks: [(NaiveDate, NaiveDate, i64); 13] = [
            (d(2022, 12, 31), d(2023, 1, 2), 3),
            (d(2023, 1, 21), d(2023, 1, 27), 7),
            (d(2023, 4, 5), d(2023, 4, 5), 1),
            (d(2023, 4, 29), d(2023, 5, 3), 5),
            (d(2023, 6, 22), d(2023, 6, 24), 3),
            (d(2023, 9, 29), d(2023, 10, 6), 8),
            (d(2023, 12, 30), d(2024, 1, 1), 3),
            (d(2024, 2, 10), d(2024, 2, 17), 8),
            (d(2024, 4, 4), d(2024, 4, 6), 3),
            (d(2024, 5, 1), d(2024, 5, 5), 5),
            (d(2024, 6, 8), d(2024, 6, 10), 3),
            (d(2024, 9, 15), d(2024, 9, 17), 3),
            (d(2024, 10, 1), d(2024, 10, 7), 7),
        ];
        for (start, end, n) in blocks {
            assert_eq!((end - start).num_days() + 1, n, "{start}..{end}");
            let mut x = start;
            while x <= end {
                assert!(!cal.is_working_day(x), "{x} should be off");
                x = next_day(x);
            }
            // The days just outside each block are worked.
            assert!(
                cal.is_working_day(start.pred_opt().unwrap()),
                "before {start}"
            );
            assert!(cal.is_working_day(next_day(end)), "after {end}");
        }
        let makeup = [
            d(2023, 1, 28),
            d(2023, 1, 29),
            d(2023, 4, 23),
            d(2023, 5, 6),
            d(2023, 6, 25),
            d(2023, 10, 7),
            d(2023, 10, 8),
            d(2024, 2, 4),
            d(2024, 2, 18),
            d(2024, 4, 7),
            d(2024, 4, 28),
            d(2024, 5, 11),
            d(2024, 9, 14),
            d(2024, 9, 29),
            d(2024, 10, 12),
        ];
        assert_eq!(cal.makeup_days.iter().copied().collect::<Vec<_>>(), {
            let mut v = makeup.to_vec();
            v.sort();
            v
        });
        assert_eq!(d(2024, 2, 4).weekday(), Weekday::Sun);
        assert_eq!(d(2024, 2, 18).weekday(), Weekday::Sun);
        // 除夕 2024 is an ordinary Friday.
        assert!(cal.is_working_day(d(2024, 2, 9)));
        assert_eq!(cal.holiday_name(d(2024, 2, 12)), Some("春节"));
        assert!(cal.covers_year(2023) && cal.covers_year(2024) && !cal.covers_year(2025));
    }

    #[test]
    fn weekends_and_plain_weeks() {
        let cal = WorkCalendar::weekends_only();
        // Friday + 1 working day = Monday.
        assert_eq!(cal.add_working_days(d(2024, 3, 8), 1), d(2024, 3, 11));
        // Saturday + 1 = Monday, Sunday + 1 = Monday.
        assert_eq!(cal.add_working_days(d(2024, 3, 9), 1), d(2024, 3, 11));
        assert_eq!(cal.add_working_days(d(2024, 3, 10), 1), d(2024, 3, 11));
        // Monday + 5 = next Monday.
        assert_eq!(cal.add_working_days(d(2024, 3, 11), 5), d(2024, 3, 18));
        assert_eq!(cal.add_working_days(d(2024, 3, 11), 0), d(2024, 3, 11));
        assert_eq!(cal.working_days_between(d(2024, 3, 8), d(2024, 3, 11)), 1);
        assert_eq!(cal.working_days_between(d(2024, 3, 11), d(2024, 3, 8)), -1);
        assert_eq!(cal.working_days_between(d(2024, 3, 9), d(2024, 3, 10)), 0);
        assert_eq!(cal.add_calendar_days(d(2024, 2, 28), 2), d(2024, 3, 1));
        // A calendar limit ending on Saturday moves to Monday.
        assert_eq!(cal.calendar_deadline(d(2024, 3, 1), 8), d(2024, 3, 11));
    }

    #[test]
    fn spring_festival_2024() {
        let cal = WorkCalendar::china_2023_2024();
        assert!(cal.is_working_day(d(2024, 2, 4)), "make-up Sunday");
        assert!(cal.is_working_day(d(2024, 2, 18)), "make-up Sunday");
        assert!(!cal.is_working_day(d(2024, 2, 10)));
        assert!(!cal.is_working_day(d(2024, 2, 17)));
        // Saturday 2024-02-03 + 1 working day = the make-up Sunday.
        assert_eq!(cal.add_working_days(d(2024, 2, 3), 1), d(2024, 2, 4));
        // Thursday 2024-02-08 + 2: Fri 9th, then the holiday, then make-up Sunday 18th.
        assert_eq!(cal.add_working_days(d(2024, 2, 8), 2), d(2024, 2, 18));
        assert_eq!(cal.add_working_days(d(2024, 2, 8), 3), d(2024, 2, 19));
        // From Monday 2024-02-05 the week has 5 working days (5th-9th), then the holiday.
        assert_eq!(cal.working_days_between(d(2024, 2, 4), d(2024, 2, 19)), 7);
        // A calendar-day limit that ends in the holiday moves to the make-up Sunday.
        assert_eq!(cal.calendar_deadline(d(2024, 2, 1), 10), d(2024, 2, 18));
    }

    #[test]
    fn national_day_2024() {
        let cal = WorkCalendar::china_2023_2024();
        assert!(cal.is_working_day(d(2024, 9, 29)), "make-up Sunday");
        assert!(cal.is_working_day(d(2024, 10, 12)), "make-up Saturday");
        // Friday 2024-09-27 + 2 working days: Sun 29th (make-up), Mon 30th.
        assert_eq!(cal.add_working_days(d(2024, 9, 27), 2), d(2024, 9, 30));
        // Monday 2024-09-30 + 1: the holiday runs to the 7th, so Tuesday the 8th.
        assert_eq!(cal.add_working_days(d(2024, 9, 30), 1), d(2024, 10, 8));
        // 8th-11th and the make-up Saturday 12th.
        assert_eq!(cal.add_working_days(d(2024, 10, 7), 5), d(2024, 10, 12));
        assert_eq!(cal.working_days_between(d(2024, 9, 30), d(2024, 10, 14)), 6);
    }

    #[test]
    fn parse_round_trip_and_errors() {
        let cal = WorkCalendar::china_2023_2024();
        assert_eq!(WorkCalendar::parse(&cal.to_text()).unwrap(), cal);

        // Full-width digits, 至 and a trailing comment word are fine.
        let c = WorkCalendar::parse(
            "２０２５-０１-０１ 元旦\n2025-01-28至2025-02-04 春节\n2025-01-26 调休上班 春节\n",
        )
        .unwrap();
        assert!(c.is_holiday(d(2025, 1, 1)));
        assert!(c.is_holiday(d(2025, 2, 4)));
        assert!(c.is_makeup_day(d(2025, 1, 26)));

        let err = |t: &str| WorkCalendar::parse(t).unwrap_err().to_string();
        assert!(
            err("# x\n2024-13-01 春节").starts_with("第2行：日期“2024-13-01”无效"),
            "{}",
            err("2024-13-01 春节")
        );
        assert!(err("2024-02-17..2024-02-10 春节").contains("晚于"));
        assert!(err("2024-02-10..2024-12-17 春节").contains("超过31天"));
        assert!(err("2024-02-10").contains("缺少说明"));
        assert_eq!(
            err("2024-02-05 调休上班"),
            "第1行：2024-02-05是星期一，本来就是工作日，不需要写成调休上班"
        );
        assert!(
            err("2024-02-04 春节\n2024-02-04 调休上班")
                .contains("第2行：2024-02-04已经在第1行写过")
        );
        assert_eq!(
            WorkCalendar::new([d(2024, 2, 4)], [d(2024, 2, 4)]).unwrap_err(),
            CalendarError::Conflict(d(2024, 2, 4))
        );
    }

    #[test]
    fn merge_next_year() {
        let mut cal = WorkCalendar::china_2023_2024();
        let next = WorkCalendar::parse("2025-01-01 元旦").unwrap();
        cal.merge(&next).unwrap();
        assert!(cal.covers_year(2025));
        let bad = WorkCalendar::new([], [d(2024, 2, 10)]).unwrap();
        assert!(cal.merge(&bad).is_err());
    }

    proptest! {
        #[test]
        fn add_and_count_are_inverse(offset in 0i64..800, n in 0u32..90) {
            let cal = WorkCalendar::china_2023_2024();
            let start = d(2023, 1, 1) + chrono::Duration::days(offset);
            let end = cal.add_working_days(start, n);
            prop_assert_eq!(cal.working_days_between(start, end), i64::from(n));
            if n > 0 {
                prop_assert!(cal.is_working_day(end));
                prop_assert!(end > start);
            }
            let due = cal.calendar_deadline(start, n);
            prop_assert!(due >= cal.add_calendar_days(start, n));
            prop_assert!(n == 0 || cal.is_working_day(due));
        }
    }
}
