//! Text normalisation for what clerks type: full-width forms, odd spaces, header markers.

/// Full-width ASCII (U+FF01..U+FF5E) to half-width, U+3000/NBSP to a space, zero-width
/// characters and BOMs removed, surrounding whitespace trimmed. Inner spaces are kept.
pub fn normalize_text(s: &str) -> String {
    // Most cells need nothing but the trim; finding that out is a scan, while mapping pushes
    // char by char (the validation of a 680,000-row roster spent a tenth of its time here).
    if s.is_ascii() || !s.chars().any(is_mapped) {
        return s.trim().to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match mapped(c) {
            Some(Some(m)) => out.push(m),
            Some(None) => {}
            None => out.push(c),
        }
    }
    let trimmed = out.trim();
    if trimmed.len() == out.len() {
        out
    } else {
        trimmed.to_string()
    }
}

/// Whether [`normalize_text`] makes `s` empty, without building the text: every character
/// is whitespace, or becomes a space, or is removed.
pub fn is_blank_text(s: &str) -> bool {
    s.chars().all(|c| match mapped(c) {
        Some(Some(m)) => m.is_whitespace(),
        Some(None) => true,
        None => c.is_whitespace(),
    })
}

/// What [`normalize_text`] makes of `c` besides trimming: `Some(Some(x))` replaced by `x`,
/// `Some(None)` removed, `None` kept as it is.
fn mapped(c: char) -> Option<Option<char>> {
    match c {
        '\u{FF01}'..='\u{FF5E}' => Some(char::from_u32(c as u32 - 0xFEE0).or(Some(c))),
        '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' => {
            Some(Some(' '))
        }
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => Some(None),
        _ => None,
    }
}

fn is_mapped(c: char) -> bool {
    mapped(c).is_some()
}

/// Like [`normalize_text`] but also removes every whitespace character (spaces inside
/// numbers and IDs are typing slips: "4301 0219 ...").
pub fn compact_text(s: &str) -> String {
    if s.bytes().all(|b| b.is_ascii_graphic())
        || !s.chars().any(|c| c.is_whitespace() || is_mapped(c))
    {
        return s.to_string();
    }
    normalize_text(s)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The form header cells and column names are compared in: normalised, all whitespace
/// (including Alt+Enter line breaks) removed, `*` required markers and separators
/// (`/ _ - ·`) removed, ASCII lower-cased, and trailing notes in brackets
/// ("（必填）", "(元)", "【选填】") stripped.
pub fn normalize_header(s: &str) -> String {
    let mut h: String = normalize_text(s)
        .chars()
        .filter(|c| {
            !c.is_whitespace() && !matches!(c, '*' | '/' | '\\' | '_' | '-' | '·' | '※' | '▲')
        })
        .flat_map(|c| c.to_lowercase())
        .collect();
    // strip trailing bracketed notes, possibly several: 金额(元)(必填)
    while let Some(last) = h.chars().last() {
        let open = match last {
            ')' => '(',
            ']' => '[',
            '】' => '【',
            '〕' => '〔',
            '>' => '<',
            _ => break,
        };
        match h.rfind(open) {
            Some(0) | None => break,
            Some(i) => h.truncate(i),
        }
    }
    h.trim_end_matches([':', '：']).to_string()
}

/// Display width for column sizing: CJK and other wide characters count as 2.
pub fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            if (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u)
                || (0x20000..=0x3FFFD).contains(&u)
            {
                2
            } else {
                1
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_is_what_normalises_to_nothing() {
        for s in [
            "",
            " ",
            "\t\r\n",
            "\u{3000}",
            "\u{00A0}\u{200B}\u{FEFF}",
            "\u{2002}\u{205F}\u{00AD}",
            "\u{200B}",
            "a",
            " 张 ",
            "\u{FF01}",
            "\u{3000}x\u{3000}",
            "\u{200B}0",
        ] {
            assert_eq!(is_blank_text(s), normalize_text(s).is_empty(), "{s:?}");
        }
    }

    #[test]
    fn text_normalisation() {
        assert_eq!(normalize_text("\u{3000}张三\u{00A0} "), "张三");
        assert_eq!(normalize_text("ＡＢＣ１２３"), "ABC123");
        assert_eq!(normalize_text("43\u{200B}01"), "4301");
        assert_eq!(compact_text(" 4301 02 "), "430102");
        // cells with nothing to map: trimmed only, or (compact) kept as they are
        assert_eq!(normalize_text(" 张三 "), "张三");
        assert_eq!(normalize_text(" a b\t"), "a b");
        assert_eq!(compact_text("张三"), "张三");
        assert_eq!(compact_text("４３０１"), "4301");
        assert_eq!(compact_text("4301\u{FEFF}"), "4301");
    }

    #[test]
    fn header_normalisation() {
        assert_eq!(normalize_header("*身份证号（必填）"), "身份证号");
        assert_eq!(normalize_header("身份证号*"), "身份证号");
        assert_eq!(normalize_header(" 姓　名 "), "姓名");
        assert_eq!(normalize_header("金额(元)【必填】"), "金额");
        assert_eq!(normalize_header("家庭成员/姓名"), "家庭成员姓名");
        assert_eq!(normalize_header("联系\n电话"), "联系电话");
        assert_eq!(normalize_header("ID"), "id");
        assert_eq!(normalize_header("（备注）"), "(备注)");
    }

    #[test]
    fn widths() {
        assert_eq!(display_width("ab"), 2);
        assert_eq!(display_width("姓名"), 4);
    }
}
