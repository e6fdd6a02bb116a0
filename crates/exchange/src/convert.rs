//! Per-column cell conversions. Each helper returns `Ok(None)` for a blank cell and
//! `Err(reason)` with a Chinese reason written as a predicate, so that
//! [`crate::RowError`]'s `第5行「出生日期」不是有效的日期：…` reads naturally.
//! Wrap with [`required`] when the column must be filled.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::model::{Cell, format_float};
use crate::normalize::{compact_text, normalize_text};

/// `Ok(None)` becomes "未填写".
pub fn required<T>(r: Result<Option<T>, String>) -> Result<T, String> {
    r.and_then(|v| v.ok_or_else(|| "未填写".to_string()))
}

fn formula_error(e: &str) -> String {
    format!("是公式错误（{e}）：请改为填写数值本身")
}

/// Normalised text: full-width ASCII to half-width, U+3000/NBSP/zero-width removed, trimmed.
/// Numbers, dates and booleans are rendered the way a spreadsheet shows them.
pub fn text(cell: &Cell) -> Result<Option<String>, String> {
    let s = match cell {
        Cell::Empty => return Ok(None),
        Cell::Text(s) => normalize_text(s),
        Cell::Error(e) => return Err(formula_error(e)),
        other => other.display(),
    };
    Ok(if s.is_empty() { None } else { Some(s) })
}

fn sci_notation_reason(shown: &str) -> String {
    format!("被Excel按科学计数法保存（{shown}），后几位已丢失：请把该列设为文本格式后重新录入")
}

fn is_sci_notation(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let Some((mant, exp)) = s.split_once(['e', 'E']) else {
        return false;
    };
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    let (int, frac) = mant.split_once('.').unwrap_or((mant, "0"));
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
}

/// ID-like columns (citizen IDs, phones, account numbers): the characters as typed, with all
/// spaces removed. A number cell is accepted only when it is an exact integer below 10^15
/// (Excel keeps 15 significant digits); scientific notation or a longer number is refused.
pub fn id_text(cell: &Cell) -> Result<Option<String>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Int(i) => Ok(Some(i.to_string())),
        Cell::Float(f) => {
            if !f.is_finite() {
                Err("不是有效的编号".to_string())
            } else if f.abs() >= 1e15 {
                Err(sci_notation_reason(&format_float(*f)))
            } else if f.fract() != 0.0 {
                Err(format!(
                    "是带小数的数字（{f}），不像编号：请把该列设为文本格式后重新录入"
                ))
            } else {
                Ok(Some(format!("{}", *f as i64)))
            }
        }
        Cell::Text(s) => {
            let s = compact_text(s);
            let s = s.strip_prefix('\'').unwrap_or(&s);
            if s.is_empty() {
                return Ok(None);
            }
            if is_sci_notation(s) {
                return Err(sci_notation_reason(s));
            }
            // "13800138000.0" from tools that write every number as a float
            if let Some(int) = s.strip_suffix(".0")
                && !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
            {
                return Ok(Some(int.to_string()));
            }
            Ok(Some(s.to_string()))
        }
        Cell::Bool(_) => Err("是“是/否”值，不像编号".to_string()),
        Cell::DateTime(d) => Err(format!(
            "被Excel识别成了日期（{}）：请把该列设为文本格式后重新录入",
            Cell::DateTime(*d).display()
        )),
        Cell::Error(e) => Err(formula_error(e)),
    }
}

fn strip_thousands(s: &str) -> String {
    // 1,200 / 1,234,567.5 : commas only between digit groups of three
    if !s.contains(',') {
        return s.to_string();
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let int_body = int.strip_prefix(['+', '-']).unwrap_or(int);
    let groups: Vec<&str> = int_body.split(',').collect();
    let ok = groups.len() > 1
        && !groups[0].is_empty()
        && groups[0].len() <= 3
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return s.to_string();
    }
    let mut out: String = int.replace(',', "");
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Whole numbers: `12`, `1,200`, `12.0`.
pub fn int(cell: &Cell) -> Result<Option<i64>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Int(i) => Ok(Some(*i)),
        Cell::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
                Ok(Some(*f as i64))
            } else {
                Err(format!("不是整数（{}）", format_float(*f)))
            }
        }
        Cell::Text(raw) => {
            let s = compact_text(raw);
            if s.is_empty() {
                return Ok(None);
            }
            let t = strip_thousands(&s);
            let t = t.strip_suffix(".0").unwrap_or(&t);
            t.parse::<i64>()
                .map(Some)
                .map_err(|_| format!("不是整数：「{s}」"))
        }
        Cell::Bool(_) | Cell::DateTime(_) => Err(format!("不是整数：「{}」", cell.display())),
        Cell::Error(e) => Err(formula_error(e)),
    }
}

/// An exact decimal number (no binary rounding): `units / 10^scale`, kept with no trailing zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub units: i128,
    pub scale: u32,
}

impl Decimal {
    pub fn new(units: i128, scale: u32) -> Self {
        let (mut units, mut scale) = (units, scale);
        while scale > 0 && units % 10 == 0 {
            units /= 10;
            scale -= 1;
        }
        Decimal { units, scale }
    }

    pub fn to_f64(self) -> f64 {
        self.units as f64 / 10f64.powi(self.scale as i32)
    }

    /// Parses `-12.50`, `+3`, `.5`; no exponent, no separators.
    pub fn parse(s: &str) -> Option<Decimal> {
        let (neg, body) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
            || int.len() + frac.len() > 36
        {
            return None;
        }
        let digits = format!("{int}{frac}");
        let units: i128 = digits.parse().ok()?;
        Some(Decimal::new(
            if neg { -units } else { units },
            frac.len() as u32,
        ))
    }

    fn scaled(self, mul: i128, extra_scale: u32) -> Option<Decimal> {
        Some(Decimal::new(
            self.units.checked_mul(mul)?,
            self.scale.checked_add(extra_scale)?,
        ))
    }
}

impl From<i64> for Decimal {
    fn from(i: i64) -> Self {
        Decimal::new(i as i128, 0)
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let neg = self.units < 0;
        let digits = self.units.unsigned_abs().to_string();
        let scale = self.scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits)
        } else {
            digits
        };
        let (i, fr) = padded.split_at(padded.len() - scale);
        write!(f, "{}{}.{}", if neg { "-" } else { "" }, i, fr)
    }
}

/// Numbers with a fractional part: `1,200`, `1200.50元`, `￥35`, `12%` (→ 0.12), and, when
/// `wan` is set, `15万` (→ 150000). Floats from spreadsheet cells are taken at their shortest
/// decimal representation, so `0.1` stays `0.1`.
pub fn decimal(cell: &Cell, wan: bool) -> Result<Option<Decimal>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Int(i) => Ok(Some(Decimal::from(*i))),
        Cell::Float(f) => {
            if !f.is_finite() {
                return Err("不是有效的数字".to_string());
            }
            Decimal::parse(&format!("{f}"))
                .map(Some)
                .ok_or_else(|| format!("数字过大（{}）", format_float(*f)))
        }
        Cell::Text(raw) => {
            let s = compact_text(raw);
            if s.is_empty() {
                return Ok(None);
            }
            let bad = || format!("不是有效的数字：「{s}」");
            let mut t = s.as_str();
            t = t.strip_prefix(['¥', '￥']).unwrap_or(t);
            t = t.strip_suffix('元').unwrap_or(t);
            let mut mul = 1i128;
            let mut extra = 0u32;
            if let Some(rest) = t.strip_suffix('%') {
                t = rest;
                extra = 2;
            } else if let Some(rest) = t.strip_suffix('万') {
                if !wan {
                    return Err(format!(
                        "带有“万”字（「{s}」）：该列请填写完整数字，不要以万为单位"
                    ));
                }
                t = rest;
                mul = 10_000;
            }
            let plain = strip_thousands(t);
            let d = if is_sci_notation(&plain) {
                let f: f64 = plain.parse().map_err(|_| bad())?;
                Decimal::parse(&format!("{f}")).ok_or_else(bad)?
            } else {
                Decimal::parse(&plain).ok_or_else(bad)?
            };
            d.scaled(mul, extra).map(Some).ok_or_else(bad)
        }
        Cell::Bool(_) | Cell::DateTime(_) => Err(format!("不是有效的数字：「{}」", cell.display())),
        Cell::Error(e) => Err(formula_error(e)),
    }
}

/// Excel serial day number to a date, 1900 date system, including Lotus' phantom 1900-02-29
/// (serial 60), which is refused.
pub fn excel_serial_to_date(serial: f64) -> Result<NaiveDate, String> {
    if !serial.is_finite() || !(1.0..2_958_466.0).contains(&serial) {
        return Err(format!("不是有效的日期（{}）", format_float(serial)));
    }
    let n = serial.floor() as i64;
    if n == 60 {
        return Err("是Excel中不存在的日期（1900年2月29日）".to_string());
    }
    let base = if n < 60 {
        NaiveDate::from_ymd_opt(1899, 12, 31)
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)
    }
    .expect("valid base date");
    base.checked_add_signed(chrono::Duration::days(n))
        .ok_or_else(|| format!("不是有效的日期（{n}）"))
}

fn ymd(y: i64, m: i64, d: i64) -> Option<NaiveDate> {
    if !(1900..=2200).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m as u32, d as u32)
}

fn yyyymmdd(n: i64) -> Option<NaiveDate> {
    if (19000101..=22001231).contains(&n) {
        ymd(n / 10_000, n / 100 % 100, n % 100)
    } else {
        None
    }
}

fn parse_date_text(s: &str) -> Option<NaiveDate> {
    // drop a time part: "2023-01-05 08:30:00", "2023-01-05T08:30"
    let date_part = s.split([' ', 'T']).next().unwrap_or(s);
    if date_part.len() == 8 && date_part.bytes().all(|b| b.is_ascii_digit()) {
        return yyyymmdd(date_part.parse().ok()?);
    }
    if (1..=5).contains(&date_part.len()) && date_part.bytes().all(|b| b.is_ascii_digit()) {
        // a serial number that lost its date format, e.g. in a CSV: 44931
        let n: f64 = date_part.parse().ok()?;
        if n >= 367.0 {
            return excel_serial_to_date(n).ok();
        }
        return None;
    }
    let unified: String = date_part
        .trim_end_matches(['日', '号'])
        .chars()
        .map(|c| match c {
            '年' | '月' | '/' | '.' | '-' => '-',
            c => c,
        })
        .collect();
    let parts: Vec<&str> = unified.split('-').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty() || p.len() > 4) {
        return None;
    }
    let nums: Vec<i64> = parts
        .iter()
        .map(|p| p.parse::<i64>().ok())
        .collect::<Option<_>>()?;
    if parts[0].len() == 4 {
        ymd(nums[0], nums[1], nums[2])
    } else {
        None
    }
}

/// Dates: real date cells, Excel serial numbers (1900 system), `2023-01-05`, `2023/1/5`,
/// `2023.1.5`, `2023年1月5日`, `20230105`; a time part is ignored.
pub fn date(cell: &Cell) -> Result<Option<NaiveDate>, String> {
    let hint = "（可写成2023-01-05、2023/1/5或2023年1月5日）";
    match cell {
        Cell::Empty => Ok(None),
        Cell::DateTime(dt) => Ok(Some(dt.date())),
        Cell::Int(i) => {
            if let Some(d) = yyyymmdd(*i) {
                Ok(Some(d))
            } else {
                excel_serial_to_date(*i as f64).map(Some)
            }
        }
        Cell::Float(f) => {
            if f.fract() == 0.0
                && let Some(d) = yyyymmdd(*f as i64)
            {
                return Ok(Some(d));
            }
            excel_serial_to_date(*f).map(Some)
        }
        Cell::Text(raw) => {
            let s = compact_text(raw);
            if s.is_empty() {
                return Ok(None);
            }
            // keep "2023-01-05 08:30" together for the time split
            let spaced = normalize_text(raw);
            parse_date_text(&spaced)
                .or_else(|| parse_date_text(&s))
                .filter(|d| d.year() >= 1900)
                .map(Some)
                .ok_or_else(|| format!("不是有效的日期：「{s}」{hint}"))
        }
        Cell::Bool(_) => Err(format!("不是有效的日期：「{}」{hint}", cell.display())),
        Cell::Error(e) => Err(formula_error(e)),
    }
}

/// Yes/no: `是/否`, `有/无`, `Y/N`, `yes/no`, `true/false`, `1/0`, `√/×`.
pub fn bool(cell: &Cell) -> Result<Option<bool>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Bool(b) => Ok(Some(*b)),
        Cell::Int(1) => Ok(Some(true)),
        Cell::Int(0) => Ok(Some(false)),
        Cell::Float(f) if *f == 1.0 => Ok(Some(true)),
        Cell::Float(f) if *f == 0.0 => Ok(Some(false)),
        Cell::Text(raw) => {
            let s = compact_text(raw);
            if s.is_empty() {
                return Ok(None);
            }
            match s.to_lowercase().as_str() {
                "是" | "有" | "y" | "yes" | "true" | "1" | "√" | "✓" | "✔" | "对" => {
                    Ok(Some(true))
                }
                "否" | "无" | "没有" | "不是" | "n" | "no" | "false" | "0" | "×" | "✗" | "✘"
                | "x" | "错" => Ok(Some(false)),
                _ => Err(format!(
                    "不是“是/否”：「{s}」（可填 是/否、有/无、Y/N 或 √）"
                )),
            }
        }
        Cell::Error(e) => Err(formula_error(e)),
        other => Err(format!(
            "不是“是/否”：「{}」（可填 是/否、有/无、Y/N 或 √）",
            other.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn ids() {
        assert_eq!(
            id_text(&Cell::Int(13800138000)).unwrap().as_deref(),
            Some("13800138000")
        );
        assert_eq!(
            id_text(&Cell::Float(13800138000.0)).unwrap().as_deref(),
            Some("13800138000")
        );
        let e = id_text(&Cell::Float(430102199001011234.0)).unwrap_err();
        assert!(e.contains("科学计数法") && e.contains("4.30102E+17"), "{e}");
        let e = id_text(&t("4.30102E+17")).unwrap_err();
        assert_eq!(
            e,
            "被Excel按科学计数法保存（4.30102E+17），后几位已丢失：请把该列设为文本格式后重新录入"
        );
        assert!(id_text(&Cell::Float(12.5)).is_err());
        assert_eq!(
            id_text(&t(" ４３０１０２ 1990\u{3000}"))
                .unwrap()
                .as_deref(),
            Some("4301021990")
        );
        assert_eq!(
            id_text(&t("13800138000.0")).unwrap().as_deref(),
            Some("13800138000")
        );
        assert_eq!(id_text(&t("  ")).unwrap(), None);
    }

    #[test]
    fn texts() {
        assert_eq!(text(&t("\u{3000}张三 ")).unwrap().as_deref(), Some("张三"));
        assert_eq!(text(&Cell::Int(3)).unwrap().as_deref(), Some("3"));
        assert!(text(&Cell::Error("#N/A".into())).is_err());
        assert_eq!(required(text(&Cell::Empty)).unwrap_err(), "未填写");
    }

    #[test]
    fn ints_and_decimals() {
        assert_eq!(int(&t("1,200")).unwrap(), Some(1200));
        assert_eq!(int(&t("１２")).unwrap(), Some(12));
        assert_eq!(int(&Cell::Float(3.0)).unwrap(), Some(3));
        assert!(int(&Cell::Float(3.5)).is_err());
        assert!(int(&t("三")).unwrap_err().contains("不是整数"));
        assert_eq!(
            decimal(&t("15万"), true).unwrap(),
            Some(Decimal::from(150000))
        );
        assert!(decimal(&t("15万"), false).is_err());
        assert_eq!(
            decimal(&t("1.5万"), true).unwrap(),
            Some(Decimal::from(15000))
        );
        assert_eq!(
            decimal(&t("12%"), false).unwrap(),
            Some(Decimal::new(12, 2))
        );
        assert_eq!(
            decimal(&t("1,234.50元"), false)
                .unwrap()
                .unwrap()
                .to_string(),
            "1234.5"
        );
        assert_eq!(
            decimal(&Cell::Float(0.1), false)
                .unwrap()
                .unwrap()
                .to_string(),
            "0.1"
        );
        assert_eq!(Decimal::new(-5, 3).to_string(), "-0.005");
        assert!(decimal(&t("1,2,3"), false).is_err());
    }

    #[test]
    fn dates() {
        assert_eq!(date(&Cell::Float(44931.0)).unwrap(), Some(d(2023, 1, 5)));
        assert_eq!(date(&Cell::Int(1)).unwrap(), Some(d(1900, 1, 1)));
        assert_eq!(date(&Cell::Int(59)).unwrap(), Some(d(1900, 2, 28)));
        assert!(date(&Cell::Int(60)).is_err());
        assert_eq!(date(&Cell::Int(61)).unwrap(), Some(d(1900, 3, 1)));
        for s in [
            "2023-01-05",
            "2023/1/5",
            "2023.1.5",
            "2023年1月5日",
            "20230105",
            "2023-01-05 00:00:00",
            "２０２３－０１－０５",
            "44931",
        ] {
            assert_eq!(date(&t(s)).unwrap(), Some(d(2023, 1, 5)), "{s}");
        }
        assert_eq!(date(&Cell::Int(20230105)).unwrap(), Some(d(2023, 1, 5)));
        assert!(
            date(&t("2023-02-30"))
                .unwrap_err()
                .contains("不是有效的日期")
        );
        assert!(date(&t("明天")).is_err());
    }

    #[test]
    fn bools() {
        for s in ["是", "有", "Y", "y", "√", "yes"] {
            assert_eq!(bool(&t(s)).unwrap(), Some(true), "{s}");
        }
        for s in ["否", "无", "N", "×"] {
            assert_eq!(bool(&t(s)).unwrap(), Some(false), "{s}");
        }
        assert!(bool(&t("也许")).is_err());
        assert_eq!(bool(&Cell::Bool(true)).unwrap(), Some(true));
    }
}
