//! 政务公开: what a public notice may show of a person.
//!
//! A notice names people so neighbours can object, but it is posted on walls and web pages:
//! the common practice is to hide part of the name (张*明), and never to show an ID, phone,
//! bank account or health detail, which the notice's types do not even carry.

/// `张*明`, `张*`, `欧**娜`: the first and (for three characters or more) the last character
/// stay, the rest become `*`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => chars[0].to_string(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_name;

    #[test]
    fn keeps_first_and_last_character() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("欧阳丽娜"), "欧**娜");
        assert_eq!(mask_name("王"), "王");
        assert_eq!(mask_name(" "), "");
    }
}
