//! A small document model for official Chinese government documents (公文),
//! with three writers:
//!
//! * [`docx`]: WordprocessingML written by hand into a zip, laid out after
//!   GB/T 9704-2012 (A4, 版心 156 mm × 225 mm, 仿宋_GB2312 3号, 22 行 × 28 字).
//! * [`pdf`]: the same layout typeset by typst used as a library.
//! * [`html`]: an escaped HTML fragment for the in-app preview.
//!
//! The model knows nothing about where figures come from: a generator turns
//! data into [`Document`]s, and every figure may carry a provenance link
//! ([`Inline::Figure`]). A figure that could not be computed is an
//! [`Inline::Missing`], rendered visibly as `【缺数据：label】` in every output
//! and never as `0`.
//!
//! Headings are numbered automatically per GB/T 9704-2012 §7.3.3:
//! `一、` `（一）` `1.` `（1）`, restarting under each parent heading.

pub mod docx;
pub mod html;
#[cfg(feature = "pdf")]
pub mod pdf;

use std::fmt;

#[cfg(feature = "pdf")]
pub use pdf::{PdfConfig, PdfRenderer};

/// One official document: a title, optional subtitle, issuer (发文机关署名)
/// and date (成文日期), and a flat list of blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// 标题, e.g. `X乡2023年工作总结及2024年工作计划`.
    pub title: String,
    /// Optional line under the title (e.g. `（2024年1月5日在X乡人民代表大会上）`).
    pub subtitle: Option<String>,
    /// 发文机关署名, printed at the end above the date.
    pub issuer: Option<String>,
    /// 成文日期 as it should be printed, e.g. `2024年1月5日`.
    pub date: Option<String>,
    pub blocks: Vec<Block>,
}

/// A block-level element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A structural heading of level 1..=4, numbered automatically
    /// (`一、` `（一）` `1.` `（1）`). Levels outside 1..=4 are clamped.
    /// The text must not contain the number itself.
    Heading { level: u8, text: Vec<Inline> },
    /// A body paragraph (first line indented by two characters).
    Paragraph(Vec<Inline>),
    /// A table with an optional caption, a header row and body rows.
    Table {
        caption: Option<String>,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Forces a new page.
    PageBreak,
}

/// An inline run of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    Text(String),
    /// A computed figure, optionally linked to its provenance (出处): the
    /// records behind it. Links are only emitted for safe schemes, see
    /// [`safe_link`].
    Figure {
        text: String,
        link: Option<String>,
    },
    /// A figure that could not be computed: rendered as `【缺数据：label】`,
    /// highlighted, in every output.
    Missing {
        label: String,
    },
}

impl Inline {
    pub fn text(s: impl Into<String>) -> Self {
        Inline::Text(s.into())
    }

    pub fn figure(text: impl Into<String>, link: Option<&str>) -> Self {
        Inline::Figure {
            text: text.into(),
            link: link.map(str::to_owned),
        }
    }

    pub fn missing(label: impl Into<String>) -> Self {
        Inline::Missing {
            label: label.into(),
        }
    }

    /// The text this inline shows, exactly as every writer prints it.
    pub fn display_text(&self) -> String {
        match self {
            Inline::Text(t) => t.clone(),
            Inline::Figure { text, .. } => text.clone(),
            Inline::Missing { label } => missing_marker(label),
        }
    }
}

impl Block {
    pub fn heading(level: u8, text: impl Into<String>) -> Self {
        Block::Heading {
            level,
            text: vec![Inline::Text(text.into())],
        }
    }

    pub fn paragraph(text: impl Into<String>) -> Self {
        Block::Paragraph(vec![Inline::Text(text.into())])
    }
}

impl Document {
    pub fn new(title: impl Into<String>) -> Self {
        Document {
            title: title.into(),
            ..Document::default()
        }
    }

    /// Labels of every [`Inline::Missing`] in document order (duplicates kept,
    /// so the count equals the number of markers printed).
    pub fn missing(&self) -> Vec<String> {
        let mut out = Vec::new();
        for block in &self.blocks {
            if let Block::Heading { text: inl, .. } | Block::Paragraph(inl) = block {
                for i in inl {
                    if let Inline::Missing { label } = i {
                        out.push(label.clone());
                    }
                }
            }
        }
        out
    }

    /// The blocks with the automatic heading number of each heading
    /// (`None` for non-headings). Shared by all writers.
    pub fn numbered_blocks(&self) -> Vec<(Option<String>, &Block)> {
        let mut numbering = HeadingNumbering::default();
        self.blocks
            .iter()
            .map(|b| match b {
                Block::Heading { level, .. } => (Some(numbering.next(*level)), b),
                _ => (None, b),
            })
            .collect()
    }
}

/// The visible marker of a missing figure.
pub fn missing_marker(label: &str) -> String {
    format!("【缺数据：{label}】")
}

/// Clamp a heading level into 1..=4.
pub fn clamp_level(level: u8) -> u8 {
    level.clamp(1, 4)
}

/// Heading counters: `一、` `（一）` `1.` `（1）`, each level restarting
/// under a new parent.
#[derive(Debug, Default, Clone)]
pub struct HeadingNumbering {
    counters: [u32; 4],
}

impl HeadingNumbering {
    /// Advance the counter of `level` (clamped to 1..=4) and return its label.
    pub fn next(&mut self, level: u8) -> String {
        let idx = usize::from(clamp_level(level) - 1);
        self.counters[idx] += 1;
        for c in &mut self.counters[idx + 1..] {
            *c = 0;
        }
        let n = self.counters[idx];
        match idx {
            0 => format!("{}、", chinese_number(n)),
            1 => format!("（{}）", chinese_number(n)),
            2 => format!("{n}."),
            _ => format!("（{n}）"),
        }
    }
}

/// Chinese numerals as used in 公文 heading numbers: 一 … 十, 十一, 二十一,
/// 一百零一 ….
pub fn chinese_number(n: u32) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    if n < 10 {
        return DIGITS[n as usize].to_owned();
    }
    if n < 20 {
        return format!(
            "十{}",
            if n.is_multiple_of(10) {
                ""
            } else {
                DIGITS[(n % 10) as usize]
            }
        );
    }
    if n < 100 {
        let tail = if n.is_multiple_of(10) {
            ""
        } else {
            DIGITS[(n % 10) as usize]
        };
        return format!("{}十{}", DIGITS[(n / 10) as usize], tail);
    }
    if n < 1000 {
        let rest = n % 100;
        let tail = match rest {
            0 => String::new(),
            1..=9 => format!("零{}", DIGITS[rest as usize]),
            10..=19 => format!("一{}", chinese_number(rest)),
            _ => chinese_number(rest),
        };
        return format!("{}百{}", DIGITS[(n / 100) as usize], tail);
    }
    n.to_string()
}

/// Options shared by the writers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderOptions {
    /// Base URL of the application (e.g. `https://xiangzhi.example.gov.cn/`).
    /// Relative provenance links (`/records/42`) are made absolute with it in
    /// DOCX and PDF; without it they are printed as plain figures there,
    /// since a relative link means nothing inside a file. HTML keeps relative
    /// links as they are.
    pub base_url: Option<String>,
}

impl RenderOptions {
    /// The absolute URL a provenance link should point to in a file, if any.
    pub fn resolve_link(&self, link: &str) -> Option<String> {
        let link = safe_link(link)?;
        let lower = link.to_ascii_lowercase();
        if lower.starts_with("http://")
            || lower.starts_with("https://")
            || lower.starts_with("mailto:")
        {
            return Some(link.to_owned());
        }
        let base = self.base_url.as_deref()?.trim();
        let scheme_end = base.find("://")? + 3;
        if !base[..scheme_end].to_ascii_lowercase().starts_with("http") {
            return None;
        }
        if link.starts_with('/') {
            let origin_end = base[scheme_end..]
                .find('/')
                .map_or(base.len(), |i| scheme_end + i);
            Some(format!("{}{}", &base[..origin_end], link))
        } else if link.starts_with('?') || link.starts_with('#') {
            Some(format!("{base}{link}"))
        } else {
            let dir_end = base
                .rfind('/')
                .filter(|&i| i >= scheme_end)
                .map_or(base.len(), |i| i);
            Some(format!(
                "{}/{}",
                &base[..dir_end],
                link.trim_start_matches("./")
            ))
        }
    }
}

/// Whether a provenance link may be emitted as a hyperlink: only `http(s):`,
/// `mailto:` and relative/absolute paths inside the application. Anything
/// else (`javascript:`, `data:`, `file:` …) is printed as plain text.
pub fn safe_link(url: &str) -> Option<&str> {
    let u = url.trim();
    if u.is_empty() || u.chars().any(char::is_control) {
        return None;
    }
    let lower = u.to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (u.starts_with('/') && !u.starts_with("//"))
        || u.starts_with("./")
        || u.starts_with('?')
        || u.starts_with('#');
    ok.then_some(u)
}

/// Errors of the writers. Messages are in Chinese: they are shown to users.
#[derive(Debug)]
pub enum Error {
    /// No font with Chinese glyphs was found in the searched directories.
    NoCjkFont { searched: Vec<std::path::PathBuf> },
    /// Some characters have no glyph in any available font.
    MissingGlyphs(String),
    /// typst rejected the generated markup (a bug in this crate).
    Typst(String),
    /// Writing the DOCX zip failed.
    Zip(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoCjkFont { searched } => {
                let dirs: Vec<String> = searched.iter().map(|p| p.display().to_string()).collect();
                write!(
                    f,
                    "未找到可用的中文字体，无法生成 PDF（已查找：{}）。请安装 fonts-noto-cjk 或 fonts-arphic-ukai，或在配置中指定字体目录。",
                    dirs.join("、")
                )
            }
            Error::MissingGlyphs(chars) => write!(
                f,
                "以下字符在已安装的字体中都没有字形，无法正确生成 PDF：{chars}。请安装覆盖这些字符的字体（如 fonts-noto-cjk-extra）。"
            ),
            Error::Typst(msg) => write!(f, "PDF 排版失败：{msg}"),
            Error::Zip(msg) => write!(f, "DOCX 文件写入失败：{msg}"),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numbers() {
        let got: Vec<String> = [1, 2, 9, 10, 11, 19, 20, 21, 99, 100, 101, 110, 115, 120]
            .into_iter()
            .map(chinese_number)
            .collect();
        assert_eq!(
            got,
            [
                "一",
                "二",
                "九",
                "十",
                "十一",
                "十九",
                "二十",
                "二十一",
                "九十九",
                "一百",
                "一百零一",
                "一百一十",
                "一百一十五",
                "一百二十"
            ]
        );
    }

    #[test]
    fn numbering_restarts_under_parent() {
        let mut n = HeadingNumbering::default();
        let seq: Vec<String> = [1, 2, 3, 4, 4, 3, 2, 3, 1, 2, 4]
            .into_iter()
            .map(|l| n.next(l))
            .collect();
        assert_eq!(
            seq,
            [
                "一、",
                "（一）",
                "1.",
                "（1）",
                "（2）",
                "2.",
                "（二）",
                "1.",
                "二、",
                "（一）",
                "（1）"
            ]
        );
        // Out-of-range levels are clamped.
        assert_eq!(n.next(0), "三、");
        assert_eq!(n.next(9), "（1）");
    }

    #[test]
    fn missing_lists_gaps_in_order() {
        let mut d = Document::new("t");
        d.blocks.push(Block::Heading {
            level: 1,
            text: vec![Inline::text("a"), Inline::missing("x")],
        });
        d.blocks.push(Block::Paragraph(vec![
            Inline::missing("y"),
            Inline::figure("3", None),
            Inline::missing("x"),
        ]));
        assert_eq!(d.missing(), ["x", "y", "x"]);
        assert_eq!(
            Inline::missing("低保户数").display_text(),
            "【缺数据：低保户数】"
        );
    }

    #[test]
    fn link_safety() {
        assert!(safe_link("https://example.org/a?b=1").is_some());
        assert!(safe_link("/records/42").is_some());
        assert!(safe_link("javascript:alert(1)").is_none());
        assert!(safe_link("JavaScript:alert(1)").is_none());
        assert!(safe_link("//evil.example/x").is_none());
        assert!(safe_link("data:text/html,x").is_none());
        assert!(safe_link("").is_none());
    }

    #[test]
    fn links_resolve_against_base() {
        let none = RenderOptions::default();
        assert_eq!(none.resolve_link("/records/1"), None);
        assert_eq!(
            none.resolve_link("https://a.example/x").as_deref(),
            Some("https://a.example/x")
        );
        let o = RenderOptions {
            base_url: Some("https://xz.example:8080/app/".into()),
        };
        assert_eq!(
            o.resolve_link("/records/1").as_deref(),
            Some("https://xz.example:8080/records/1")
        );
        assert_eq!(
            o.resolve_link("./r/2").as_deref(),
            Some("https://xz.example:8080/app/r/2")
        );
        assert_eq!(o.resolve_link("javascript:x"), None);
    }
}
