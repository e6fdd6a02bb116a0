//! Display units: how a figure stored in base units (亩, fen, persons) is shown in a
//! report: 37 600 亩 as “3.76” 万亩, 2 105 000 fen (21 050 元) as “2.105” 万元.

use serde::{Deserialize, Serialize};

use crate::eval::Value;

/// How to show a figure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Display {
    /// The unit written after the number: "万亩", "万元", "%", "户", "人".
    pub unit: String,
    /// Multiplier from the stored unit to the shown unit: 0.0001 for 亩 → 万亩,
    /// 0.000001 for fen → 万元.
    pub scale: f64,
    /// Decimals shown.
    pub precision: u32,
    /// Drop trailing zeros (and a trailing point) after rounding: 0.80 → 0.8.
    pub trim: bool,
}

/// What a missing figure shows as. Never "0".
pub const MISSING: &str = "—";

impl Display {
    pub fn new(unit: &str, scale: f64, precision: u32) -> Display {
        Display {
            unit: unit.to_owned(),
            scale,
            precision,
            trim: false,
        }
    }

    /// The same, with trailing zeros dropped.
    pub fn trimmed(mut self) -> Display {
        self.trim = true;
        self
    }

    /// 亩 shown as 万亩 with two decimals.
    pub fn wan_mu() -> Display {
        Display::new("万亩", 0.0001, 2)
    }

    /// Money (fen) shown as 万元.
    pub fn wan_yuan(precision: u32) -> Display {
        Display::new("万元", 0.000_001, precision)
    }

    /// Money (fen) shown as 元 with fen.
    pub fn yuan() -> Display {
        Display::new("元", 0.01, 2)
    }

    /// A plain count or quantity with a unit: 户, 人, 张, 件.
    pub fn whole(unit: &str) -> Display {
        Display::new(unit, 1.0, 0)
    }

    /// Percentage points shown as "100%" (or with `precision` decimals).
    pub fn percent(precision: u32) -> Display {
        Display::new("%", 1.0, precision)
    }

    /// The number alone: `3.76`; missing figures show as "—", truth values as 是/否.
    pub fn format(&self, value: &Value) -> String {
        match value {
            Value::Number { value } => self.format_number(*value),
            Value::Bool { value } => (if *value { "是" } else { "否" }).to_owned(),
            Value::Missing { .. } => MISSING.to_owned(),
        }
    }

    /// The number with its unit: `3.76万亩`; missing figures show as "—" alone.
    pub fn format_with_unit(&self, value: &Value) -> String {
        match value {
            Value::Number { value } => format!("{}{}", self.format_number(*value), self.unit),
            other => self.format(other),
        }
    }

    pub fn format_number(&self, stored: f64) -> String {
        if !stored.is_finite() {
            return MISSING.to_owned();
        }
        // Divide by the inverse when it is a whole number: 37600 / 10000 is exactly the
        // double nearest 3.76, 37600 * 0.0001 is not.
        let inverse = 1.0 / self.scale;
        let shown = if self.scale < 1.0 && (inverse - inverse.round()).abs() < 1e-9 * inverse {
            stored / inverse.round()
        } else {
            stored * self.scale
        };
        let mut text = round_decimal(shown, self.precision);
        if self.trim && text.contains('.') {
            let trimmed = text.trim_end_matches('0').trim_end_matches('.').len();
            text.truncate(trimmed);
        }
        text
    }
}

/// `x` with exactly `digits` decimals, rounded half away from zero on its shortest
/// decimal representation (so 2.675 gives "2.68" and 0.125 gives "0.13").
pub fn round_decimal(x: f64, digits: u32) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let digits = digits as usize;
    let repr = format!("{}", x.abs());
    let (int, frac) = repr.split_once('.').unwrap_or((&repr, ""));
    let mut all: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let keep = int.len() + digits;
    let round_up = frac.len() > digits && all[keep] >= 5;
    all.resize(keep, 0); // truncate or pad with zeros
    if round_up {
        let mut i = keep;
        loop {
            if i == 0 {
                all.insert(0, 1);
                break;
            }
            i -= 1;
            if all[i] == 9 {
                all[i] = 0;
            } else {
                all[i] += 1;
                break;
            }
        }
    }
    let int_len = all.len() - digits;
    let mut out = String::with_capacity(all.len() + 2);
    if x < 0.0 && all.iter().any(|&d| d != 0) {
        out.push('-');
    }
    let int_digits = &all[..int_len];
    // Strip leading zeros of the integer part, keep one.
    let first = int_digits
        .iter()
        .position(|&d| d != 0)
        .unwrap_or(int_len.saturating_sub(1));
    for &d in &int_digits[first.min(int_len)..] {
        out.push((b'0' + d) as char);
    }
    if int_len == 0 || out.is_empty() || out == "-" {
        out.push('0');
    }
    if digits > 0 {
        out.push('.');
        for &d in &all[int_len..] {
            out.push((b'0' + d) as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: f64) -> Value {
        Value::Number { value: v }
    }

    #[test]
    fn seed_figures() {
        assert_eq!(Display::wan_mu().format(&n(37600.0)), "3.76");
        assert_eq!(Display::wan_mu().format(&n(8000.0)), "0.80");
        assert_eq!(Display::wan_mu().trimmed().format(&n(8000.0)), "0.8");
        // 21 050 元 = 2 105 000 fen.
        assert_eq!(Display::wan_yuan(3).format(&n(2_105_000.0)), "2.105");
        assert_eq!(
            Display::wan_yuan(4).trimmed().format(&n(2_105_000.0)),
            "2.105"
        );
        assert_eq!(Display::wan_yuan(4).format(&n(2_105_000.0)), "2.1050");
        assert_eq!(Display::wan_yuan(2).format(&n(2_105_000.0)), "2.11");
        assert_eq!(
            Display::wan_yuan(0).format_with_unit(&n(1_200_000_000.0)),
            "1200万元"
        );
        assert_eq!(
            Display::new("万只", 0.0001, 2).format_with_unit(&n(116_200.0)),
            "11.62万只"
        );
        assert_eq!(Display::percent(0).format_with_unit(&n(100.0)), "100%");
        assert_eq!(Display::whole("户").format_with_unit(&n(15.0)), "15户");
    }

    #[test]
    fn missing_is_not_zero() {
        let m = Value::missing(crate::eval::Missing::DivisionByZero);
        assert_eq!(Display::wan_mu().format(&m), "—");
        assert_eq!(Display::wan_mu().format_with_unit(&m), "—");
    }

    #[test]
    fn rounding() {
        assert_eq!(round_decimal(2.675, 2), "2.68");
        assert_eq!(round_decimal(0.125, 2), "0.13");
        assert_eq!(round_decimal(9.995, 2), "10.00");
        assert_eq!(round_decimal(99.5, 0), "100");
        assert_eq!(round_decimal(-0.004, 2), "0.00");
        assert_eq!(round_decimal(-1.5, 0), "-2");
        assert_eq!(round_decimal(0.0, 3), "0.000");
        assert_eq!(round_decimal(0.0001, 2), "0.00");
        assert_eq!(round_decimal(123.0, 0), "123");
        assert_eq!(round_decimal(0.5, 0), "1");
        assert_eq!(round_decimal(0.05, 1), "0.1");
    }
}
