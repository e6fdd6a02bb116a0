//! Cleaning of text typed or pasted by clerks, before any parser looks at it.
//!
//! Values copied from Word, WPS or Excel arrive with full-width digits (`１１０１`), ideographic
//! spaces, non-breaking spaces and invisible zero-width characters. They look right on screen,
//! so a clerk cannot see why "the same" ID is rejected or stored twice. Every parser in this
//! crate runs its input through here first, so one rule decides what counts as the same text.

/// Full-width ASCII becomes half-width, every run of whitespace (including U+3000 and NBSP)
/// becomes one ASCII space, zero-width characters disappear, and the ends are trimmed.
///
/// Zero-width characters are removed everywhere, not only at the ends: inside an ID they are
/// never meant, and removing them cannot merge two words because they carry no width. (This
/// breaks emoji joiner sequences, which have no place in the fields we parse.)
pub fn normalize_text(s: &str) -> String {
    // Most values (IDs, phones, codes) are printable ASCII without a space, which no rule
    // changes; a bulk import passes millions of them.
    if s.bytes().all(|b| b.is_ascii_graphic()) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars().map(to_half_width) {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            // A space is only written once a non-space follows, which trims the end for free.
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    }
    out
}

/// [`normalize_text`] with every space removed: for codes and numbers, where clerks group
/// digits for readability (`110105 19491231 002X`) but the value has no spaces.
pub fn normalize_compact(s: &str) -> String {
    let mut t = normalize_text(s);
    t.retain(|c| c != ' ');
    t
}

fn to_half_width(c: char) -> char {
    match c as u32 {
        // U+FF01..=U+FF5E mirror U+0021..=U+007E at a fixed offset.
        cp @ 0xFF01..=0xFF5E => char::from_u32(cp - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Characters with no width that Word and web pages leave behind. `char::is_whitespace`
/// does not cover them (they are not White_Space in Unicode).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' // zero width space
            | '\u{200C}' // zero width non-joiner
            | '\u{200D}' // zero width joiner
            | '\u{2060}' // word joiner
            | '\u{FEFF}' // byte order mark left at the start of a pasted cell
            | '\u{00AD}' // soft hyphen
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_becomes_half_width() {
        assert_eq!(normalize_text("１１０１０５ｘ"), "110105x");
        assert_eq!(normalize_text("２０２３Ｑ１"), "2023Q1");
        assert_eq!(
            normalize_text("（０７９１）－８６１２３４５６"),
            "(0791)-86123456"
        );
        // Outside the block: untouched.
        assert_eq!(normalize_text("张三￥"), "张三￥");
    }

    #[test]
    fn spaces_are_trimmed_and_collapsed() {
        assert_eq!(normalize_text("\u{3000}张\u{00A0}\u{00A0}三 \t"), "张 三");
        assert_eq!(normalize_text("  a \u{3000} b  "), "a b");
        assert_eq!(normalize_text(""), "");
        assert_eq!(normalize_text(" \u{3000}\u{00A0} "), "");
    }

    #[test]
    fn zero_width_is_removed_everywhere() {
        assert_eq!(normalize_text("\u{FEFF}1101\u{200B}05\u{200D}"), "110105");
        // A zero-width char between two spaces does not split the run.
        assert_eq!(normalize_text("a \u{200B} b"), "a b");
    }

    #[test]
    fn compact_drops_inner_spaces() {
        assert_eq!(
            normalize_compact(" 110105 19491231\u{3000}002X "),
            "11010519491231002X"
        );
    }
}
