//! SVG charts rendered on the server: horizontal bars for rankings, a line for trends, a
//! sparkline for key figures. No JavaScript. Labels are escaped here, because the templates
//! embed the result unescaped; missing values are drawn as gaps, never as zero.

use std::fmt::Write as _;

/// Escapes text for SVG (XML) content and attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One bar: label, value (for length), text shown beside it, optional link.
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
    pub href: Option<String>,
    /// A target line for this bar, in the same unit as `value`.
    pub target: Option<f64>,
}

/// Horizontal bars, one row each, scaled to the largest value.
pub fn bars(title: &str, items: &[Bar]) -> String {
    let row = 22.0;
    let label_w = 120.0;
    let bar_w = 360.0;
    let width = label_w + bar_w + 110.0;
    let height = row * items.len() as f64 + 8.0;
    let max = items
        .iter()
        .flat_map(|b| [b.value, b.target])
        .flatten()
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title)
    );
    for (i, b) in items.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>"#,
            label_w - 6.0,
            y + 15.0,
            esc(&b.label)
        );
        let len = match (b.value, max > 0.0) {
            (Some(v), true) => (v.abs() / max * bar_w).max(1.0),
            _ => 0.0,
        };
        let bar = format!(
            r##"<rect x="{label_w}" y="{}" width="{len:.1}" height="14" fill="#3b6ea5"/>"##,
            y + 3.0
        );
        match &b.href {
            Some(h) => {
                let _ = write!(s, r#"<a href="{}">{bar}</a>"#, esc(h));
            }
            None => s.push_str(&bar),
        }
        if let (Some(t), true) = (b.target, max > 0.0) {
            let x = label_w + t.abs() / max * bar_w;
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" x2="{x:.1}" y1="{}" y2="{}" stroke="#c0392b" stroke-width="2"><title>目标</title></line>"##,
                y + 1.0,
                y + 19.0
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" font-size="12">{}</text>"#,
            label_w + len + 4.0,
            y + 15.0,
            esc(&b.text)
        );
    }
    s.push_str("</svg>");
    s
}

/// A line over periods; a missing point breaks the line.
pub fn line(title: &str, points: &[(String, Option<f64>, String)]) -> String {
    let (w, h, pad) = (480.0, 180.0, 36.0);
    let vals: Vec<f64> = points.iter().filter_map(|p| p.1).collect();
    let (lo, hi) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let lo = if lo.is_finite() { lo.min(0.0) } else { 0.0 };
    let hi = if hi.is_finite() && hi > lo {
        hi
    } else {
        lo + 1.0
    };
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / n;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - lo) / (hi - lo);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg"><title>{}</title><line x1="{pad}" x2="{}" y1="{}" y2="{}" stroke="#999"/>"##,
        esc(title),
        w - pad,
        h - pad,
        h - pad
    );
    let mut path = String::new();
    let mut pen_down = false;
    for (i, p) in points.iter().enumerate() {
        match p.1 {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1},{:.1} ",
                    if pen_down { "L" } else { "M" },
                    x(i),
                    y(v)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    if !path.is_empty() {
        let _ = write!(
            s,
            r##"<path d="{}" fill="none" stroke="#3b6ea5" stroke-width="2"/>"##,
            path.trim_end()
        );
    }
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" font-size="12">{}</text>"#,
            x(i),
            h - pad + 16.0,
            esc(&p.0)
        );
        if let Some(v) = p.1 {
            let _ = write!(
                s,
                r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="#3b6ea5"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11">{}</text>"##,
                x(i),
                y(v),
                x(i),
                y(v) - 6.0,
                esc(&p.2)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// A small trend line without labels.
pub fn sparkline(values: &[Option<f64>]) -> String {
    let (w, h) = (80.0, 20.0);
    let vals: Vec<f64> = values.iter().flatten().copied().collect();
    if vals.is_empty() {
        return String::new();
    }
    let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let n = values.len().max(2) as f64 - 1.0;
    let mut path = String::new();
    let mut pen = false;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let _ = write!(
                    path,
                    "{}{:.1},{:.1} ",
                    if pen { "L" } else { "M" },
                    2.0 + (w - 4.0) * i as f64 / n,
                    h - 2.0 - (h - 4.0) * (v - lo) / span
                );
                pen = true;
            }
            None => pen = false,
        }
    }
    format!(
        r##"<svg class="spark" viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg" aria-hidden="true"><path d="{}" fill="none" stroke="#3b6ea5" stroke-width="1.5"/></svg>"##,
        path.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_missing_is_a_gap() {
        let svg = bars(
            "排名",
            &[
                Bar {
                    label: "<script>".into(),
                    value: Some(10.0),
                    text: "10".into(),
                    href: Some("/x?a=1&b=2".into()),
                    target: Some(15.0),
                },
                Bar {
                    label: "缺数".into(),
                    value: None,
                    text: "—".into(),
                    href: None,
                    target: None,
                },
            ],
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("a=1&amp;b=2"));
        assert!(
            svg.contains(r#"width="0.0""#),
            "a missing value draws no bar"
        );
        let l = line(
            "趋势",
            &[
                ("2021".into(), Some(1.0), "1".into()),
                ("2022".into(), None, "—".into()),
                ("2023".into(), Some(3.0), "3".into()),
            ],
        );
        assert_eq!(l.matches('M').count(), 2, "the line breaks at the gap: {l}");
    }
}
