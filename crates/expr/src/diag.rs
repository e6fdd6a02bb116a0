//! Positions and errors. Every error carries the byte span of the offending text; a
//! [`Diagnostic`] adds the line, the column and a caret excerpt, all in Chinese.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::types::Type;

/// A byte range `start..end` in the source text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// `“name”，是否想写“x”？` or just `“name”`.
fn with_hint(f: &mut fmt::Formatter<'_>, suggestion: &Option<String>) -> fmt::Result {
    match suggestion {
        Some(s) => write!(f, "，是否想写“{s}”？"),
        None => Ok(()),
    }
}

fn with_list(f: &mut fmt::Formatter<'_>, what: &str, available: &[String]) -> fmt::Result {
    if available.is_empty() {
        return Ok(());
    }
    write!(f, "；{what}有：")?;
    for (i, a) in available.iter().enumerate() {
        if i > 0 {
            f.write_str("、")?;
        }
        f.write_str(a)?;
    }
    Ok(())
}

/// What went wrong. The `Display` text is the Chinese message shown to the user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorKind {
    // ---- input limits ----
    #[error("表达式为空")]
    Empty,
    #[error("表达式过长（{len} 字节），上限为 {max} 字节")]
    TooLong { len: usize, max: usize },
    #[error("表达式嵌套过深，最多允许 {max} 层")]
    TooDeep { max: usize },

    // ---- lexical ----
    #[error("无法识别的字符“{found}”")]
    UnexpectedChar { found: char },
    #[error("请使用半角符号“{ascii}”，而不是全角的“{found}”")]
    FullWidth { found: char, ascii: char },
    #[error("中文只能写在双引号字符串里；名称请使用英文字母、数字和下划线")]
    NonAsciiName,
    #[error("字符串缺少结尾的双引号“\"”")]
    UnclosedString,
    #[error("字符串中无效的转义“\\{found}”，只支持 \\\"、\\\\、\\n、\\t、\\r")]
    BadEscape { found: char },
    #[error("数字“{text}”写法不对，应写作 12 或 3.76")]
    BadNumber { text: String },
    #[error("数字“{text}”超出范围")]
    NumberOutOfRange { text: String },

    // ---- syntax ----
    #[error("此处应为{expected}，实际是{found}")]
    Expected { expected: String, found: String },
    #[error("缺少右括号“)”，与第 {open_line} 行第 {open_column} 列的“(”配对")]
    UnclosedParen {
        open_line: usize,
        open_column: usize,
    },
    #[error("缺少右方括号“]”，与第 {open_line} 行第 {open_column} 列的“[”配对")]
    UnclosedBracket {
        open_line: usize,
        open_column: usize,
    },
    #[error("表达式在此处已结束，多出了{found}")]
    Trailing { found: String },
    #[error("未知的函数“{name}”{}", Hint(.suggestion))]
    UnknownFunction {
        name: String,
        suggestion: Option<String>,
    },
    #[error("“{name}”不能单独出现：来源和字段只能写在 count(…)、sum(…) 等统计函数的第一个参数里")]
    BareName { name: String },
    #[error("比较运算不能连写，请用 and 连接，例如 a < b and b < c")]
    ChainedComparison,

    // ---- names (checker) ----
    #[error("未知的来源“{name}”{}{}", Hint(.suggestion), List("可用的来源", .available, .suggestion))]
    UnknownSource {
        name: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },
    #[error("未知的台账“{code}”{}", Hint(.suggestion))]
    UnknownLedger {
        code: String,
        suggestion: Option<String>,
    },
    #[error("未知的统计数据项“{code}”{}", Hint(.suggestion))]
    UnknownDataElement {
        code: String,
        suggestion: Option<String>,
    },
    #[error("未知的字段“{name}”{}{}", Hint(.suggestion), List(&format!("{source_label}的字段"), .available, .suggestion))]
    UnknownField {
        source_label: String,
        name: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },
    #[error("字段“{field}”没有取值“{value}”{}{}", Hint(.suggestion), List("可用的取值", .available, .suggestion))]
    UnknownValue {
        field: String,
        value: String,
        suggestion: Option<String>,
        available: Vec<String>,
    },

    // ---- aggregates (checker) ----
    #[error("{func}(…) 需要指明要统计的字段，例如 {func}(payout.amount, …)")]
    FieldRequired { func: String },
    #[error("{func}(…) 统计的是记录数，不接受字段；请写 {func}({source_name}, …)")]
    FieldNotAllowed { func: String, source_name: String },
    #[error("字段“{field}”是{field_type}，不能用 {func}(…) 统计")]
    NotAggregatable {
        func: String,
        field: String,
        field_type: String,
    },
    #[error("{source_label}没有关联{what}，不能用 {func}(…)")]
    NoLink {
        func: String,
        source_label: String,
        what: String,
    },
    #[error("value(…) 只接受期间条件（in period、in ytd、at end），不接受筛选条件")]
    FilterOnDataElement,
    #[error("value(…) 的期间条件不写日期字段，直接写 in period 或 in ytd")]
    DateFieldOnDataElement,
    #[error("同一个统计只能有一个期间条件")]
    DuplicatePeriod,
    #[error("{source_label}没有有效期信息，不支持 at end（期末状态）")]
    AtEndUnsupported { source_label: String },
    #[error("{source_label}没有默认的期间，请写明 in period、in ytd 或 at end")]
    PeriodRequired { source_label: String },
    #[error("字段“{field}”不是日期，不能用于 in period / in ytd")]
    NotADate { field: String },
    #[error("日期字段“{field}”只能用 in period 或 in ytd 筛选")]
    DateInFilter { field: String },
    #[error("字段“{field}”是{field_type}，不能与{literal}比较")]
    FilterMismatch {
        field: String,
        field_type: String,
        literal: String,
    },
    #[error("字段“{field}”是{field_type}，只能用 =、!=、in、not in 比较")]
    NotOrdered { field: String, field_type: String },
    #[error("in […] 的列表不能为空")]
    EmptyList,

    // ---- types (checker) ----
    #[error("{func}(…) 需要 {expected} 个参数，实际给了 {found} 个")]
    Arity {
        func: String,
        expected: String,
        found: usize,
    },
    #[error("{what}应为{expected}，实际是{found}")]
    TypeExpected {
        what: String,
        expected: String,
        found: Type,
    },
    #[error("运算“{op}”两边的类型不匹配：左边是{left}，右边是{right}")]
    Mismatch { op: String, left: Type, right: Type },
    #[error("金额不能与无单位的数值做“{op}”运算，请用 yuan(…) 或 wan_yuan(…) 写明金额")]
    MoneyNeedsUnit { op: String },
    #[error("round(…) 的小数位数应为 0 到 10 之间的整数常数")]
    RoundDigits,
}

struct Hint<'a>(&'a Option<String>);
impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        with_hint(f, self.0)
    }
}

/// The list of valid names, shown only when there is no single suggestion.
struct List<'a>(&'a str, &'a [String], &'a Option<String>);
impl fmt::Display for List<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.2.is_some() {
            return Ok(());
        }
        with_list(f, self.0, self.1)
    }
}

/// An error with the span it points at. Turn it into a [`Diagnostic`] with the source
/// text to get line, column and excerpt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind}")]
pub struct Error {
    pub kind: ErrorKind,
    pub span: Span,
}

impl Error {
    pub fn new(kind: ErrorKind, span: Span) -> Error {
        Error { kind, span }
    }

    /// Attach line, column and a caret excerpt taken from `src`.
    pub fn diagnose(&self, src: &str) -> Diagnostic {
        let (line, column) = line_column(src, self.span.start);
        let (excerpt, caret) = excerpt(src, self.span);
        Diagnostic {
            message: self.kind.to_string(),
            line,
            column,
            excerpt,
            caret,
            error: Box::new(self.clone()),
        }
    }
}

/// An error as shown to a person:
///
/// ```text
/// 第 1 行第 27 列：ledger("AGRI_OUTPUT")没有字段“grain_aera”，是否想写“grain_area”？
///   sum(ledger("AGRI_OUTPUT").grain_aera)
///                             ^^^^^^^^^^
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("第 {line} 行第 {column} 列：{message}\n  {excerpt}\n  {caret}")]
pub struct Diagnostic {
    /// The Chinese message, without position.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// The source line the error is on (tabs shown as spaces).
    pub excerpt: String,
    /// Spaces and `^` under the offending text, counting CJK characters as two columns.
    pub caret: String,
    /// The structured error (boxed to keep `Result<_, Diagnostic>` small).
    pub error: Box<Error>,
}

/// 1-based line and character column of byte offset `at` (clamped to the text).
pub(crate) fn line_column(src: &str, at: usize) -> (usize, usize) {
    let at = floor_boundary(src, at);
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = src[line_start..at].chars().count() + 1;
    (line, column)
}

fn floor_boundary(src: &str, mut at: usize) -> usize {
    at = at.min(src.len());
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Display width of a character in a monospace terminal: 2 for CJK and full-width forms.
fn width(c: char) -> usize {
    let u = c as u32;
    let wide = matches!(u,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF |
        0x4E00..=0x9FFF | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF |
        0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD);
    if wide {
        2
    } else if c.is_control() {
        0
    } else {
        1
    }
}

fn excerpt(src: &str, span: Span) -> (String, String) {
    let start = floor_boundary(src, span.start);
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let end = floor_boundary(src, span.end.max(start)).min(line_end);
    let line = &src[line_start..line_end];
    let shown = |s: &str| -> String {
        s.chars()
            .map(|c| if c == '\t' || c.is_control() { ' ' } else { c })
            .collect()
    };
    let pad: usize = src[line_start..start]
        .chars()
        .map(|c| if c == '\t' { 1 } else { width(c) })
        .sum();
    let marked: usize = src[start..end].chars().map(|c| width(c).max(1)).sum();
    let caret = format!("{}{}", " ".repeat(pad), "^".repeat(marked.max(1)));
    (shown(line), caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_under_cjk() {
        let src = "count(person, tag = \"残疾证\") +";
        let at = src.len();
        let d = Error::new(ErrorKind::Empty, Span::new(at, at)).diagnose(src);
        assert_eq!(d.line, 1);
        assert_eq!(d.column, src.chars().count() + 1);
        // "残疾证" is three wide characters: the caret sits past six columns for them.
        assert_eq!(d.caret.len(), src.chars().count() + 3 + 1);
    }

    #[test]
    fn second_line() {
        let src = "1 +\n  x";
        let d = Error::new(ErrorKind::Empty, Span::new(6, 7)).diagnose(src);
        assert_eq!((d.line, d.column), (2, 3));
        assert_eq!(d.excerpt, "  x");
        assert_eq!(d.caret, "  ^");
    }
}
