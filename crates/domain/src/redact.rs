//! Masking personal data in what leaves the system in bulk (exports): names keep their first
//! character, and long digit runs in free text (phone numbers, citizen IDs typed into a case's
//! description) keep only their ends, the way [`crate::phone::Phone::masked`] and
//! [`crate::citizen_id::CitizenId::masked`] show them on screen.

/// `王小明` → `王**`; a one-character name still hides something: `王` → `王*`.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

/// Every run of 7 or more digits (an ID may end in `X`) keeps its first 3 and last 4
/// characters: `电话13812345678` → `电话138****5678`.
pub fn mask_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i < chars.len() && matches!(chars[i], 'X' | 'x') && i - start == 17 {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() >= 7 {
                out.extend(&run[..3]);
                out.extend(std::iter::repeat_n('*', run.len() - 7));
                out.extend(&run[run.len() - 4..]);
            } else {
                out.extend(run);
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_keep_the_first_character() {
        assert_eq!(mask_name("王小明"), "王**");
        assert_eq!(mask_name("欧阳"), "欧*");
        assert_eq!(mask_name("王"), "王*");
        assert_eq!(mask_name(" "), "");
    }

    #[test]
    fn long_numbers_keep_their_ends() {
        assert_eq!(
            mask_numbers("电话13812345678，请回电"),
            "电话138****5678，请回电"
        );
        assert_eq!(
            mask_numbers("身份证36100219900307021X"),
            "身份证361***********021X"
        );
        assert_eq!(mask_numbers("3组第12户，2024年"), "3组第12户，2024年");
        assert_eq!(mask_numbers(""), "");
    }
}
