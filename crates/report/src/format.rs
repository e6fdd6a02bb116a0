//! Numbers as a 公文 prints them: rounded, trailing zeros dropped (`0.8万亩`, `2.105万元`),
//! units scaled by their 万/亿 prefix, and the year-on-year phrases.

/// `value` rounded to `precision` places, without trailing zeros; never `-0`.
pub fn number(value: f64, precision: u8) -> String {
    let mut s = format!("{:.*}", usize::from(precision), value);
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    if s == "-0" { "0".to_owned() } else { s }
}

/// Splits a unit into its magnitude and base: `万亩` → (10⁴, `亩`), `户` → (1, `户`),
/// `万` → (10⁴, ``).
fn magnitude(unit: &str) -> (f64, &str) {
    for (prefix, m) in [("亿", 1e8), ("万", 1e4), ("千", 1e3), ("百", 1e2)] {
        if let Some(base) = unit.strip_prefix(prefix) {
            // `百分比`, `千克`, `百分点` are units of their own, not magnitudes.
            if !matches!(base, "分比" | "克" | "分点" | "米" | "瓦") {
                return (m, base);
            }
        }
    }
    (1.0, unit)
}

/// The factor that turns a value in `from` into `to`, if they measure the same thing:
/// `亩` → `万亩` is 10⁻⁴; a bare magnitude (`万`) takes any base (`元` → `万`, as in
/// “投入13万”).
pub fn unit_factor(from: &str, to: &str) -> Option<f64> {
    if from == to {
        return Some(1.0);
    }
    let (mf, bf) = magnitude(from);
    let (mt, bt) = magnitude(to);
    (bf == bt || bt.is_empty()).then_some(mf / mt)
}

/// The year-on-year phrase for `current` against `previous`, with the change in percent
/// rounded to `precision` places; `None` when there is no base to compare with.
pub fn yoy_phrase(current: f64, previous: f64, precision: u8) -> Option<String> {
    if previous == 0.0 || !previous.is_finite() || !current.is_finite() {
        return None;
    }
    let pct = (current - previous) / previous.abs() * 100.0;
    let shown = number(pct.abs(), precision);
    Some(if number(pct, precision) == "0" {
        "与上年持平".to_owned()
    } else if pct > 0.0 {
        format!("同比增长{shown}%")
    } else {
        format!("同比下降{shown}%")
    })
}

/// The change in percent, as compared in conditions.
pub fn yoy_percent(current: f64, previous: f64) -> Option<f64> {
    (previous != 0.0 && previous.is_finite() && current.is_finite())
        .then(|| (current - previous) / previous.abs() * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_drop_trailing_zeros() {
        assert_eq!(number(3.7600, 2), "3.76");
        assert_eq!(number(0.80, 2), "0.8");
        assert_eq!(number(2.105, 3), "2.105");
        assert_eq!(number(1200.0, 0), "1200");
        assert_eq!(number(-0.001, 2), "0");
        assert_eq!(number(15.0, 2), "15");
    }

    #[test]
    fn units_scale_by_magnitude() {
        assert_eq!(unit_factor("亩", "万亩"), Some(1e-4));
        assert_eq!(unit_factor("万亩", "亩"), Some(1e4));
        assert_eq!(unit_factor("元", "万元"), Some(1e-4));
        assert_eq!(unit_factor("元", "万"), Some(1e-4));
        assert_eq!(unit_factor("万元", "万"), Some(1.0));
        assert_eq!(unit_factor("户", "户"), Some(1.0));
        assert_eq!(unit_factor("户", "人"), None);
        assert_eq!(unit_factor("千克", "吨"), None);
        assert_eq!(unit_factor("%", "百分比"), None);
    }

    #[test]
    fn yoy_phrases() {
        assert_eq!(yoy_phrase(110.0, 100.0, 1).as_deref(), Some("同比增长10%"));
        assert_eq!(yoy_phrase(95.5, 100.0, 1).as_deref(), Some("同比下降4.5%"));
        assert_eq!(yoy_phrase(100.01, 100.0, 1).as_deref(), Some("与上年持平"));
        assert_eq!(yoy_phrase(5.0, 0.0, 1), None);
        assert_eq!(yoy_phrase(3.0, -2.0, 0).as_deref(), Some("同比增长250%"));
    }
}
