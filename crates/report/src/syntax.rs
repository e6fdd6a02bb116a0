//! The template language: plain Chinese text, one paragraph a line, with figures in braces.
//!
//! A township clerk edits it in a text box, so it borrows nothing from programming languages
//! that a clerk would not recognise, and every mistake is reported in Chinese with the line
//! and the character where it happens.
//!
//! ```text
//! 标题：{单位名称}{年}年工作总结
//! 署名：{单位名称}人民政府
//! // a comment line
//! # {年}年工作总结                       ← heading, numbered 一、 automatically
//! ## 稳定农业产业                         ← （一）; ### 1.; #### （1）
//! 完成粮食种植面积{agri.grain_area|万亩|2位}，{同比 agri.grain_area}。
//! {如果 assist.new_min_living_households > 0}新增城乡低保{assist.new_min_living_households}户。{否则}未新增低保。{结束}
//! 表：主要农产品
//! | 品种 | {年}年 | {上年}年 |
//! | 粮食 | {agri.grain_output|万吨} | {agri.grain_output|万吨|上年} |
//! 图：各品种产量
//! - 粮食：{agri.grain_output|万吨}
//! 公示名单：min_living
//! 分页
//! ```
//!
//! Inside braces: `{CODE|option|…}` is a figure (options: a unit such as `万亩` or
//! `单位=万亩`, a precision `2位`, a period `本年` `上年` `下年` `前年` or a code like `2022`,
//! an org unit `机构=361002201211`, `无单位` to print the number alone); `{同比 CODE}` the year-on-year phrase; `{目标 CODE}` a
//! target; `{年}` `{上年}` `{下年}` `{单位名称}` the report's own values; `{如果 …}` `{否则}`
//! `{结束}` a conditional part of a line. `{{` and `}}` print braces.

use std::fmt;

/// A parse error, located: line and character are 1-based and count characters, not bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "第{}行第{}字：{}", self.line, self.column, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// A parsed template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Template {
    pub title: Vec<Piece>,
    pub subtitle: Option<Vec<Piece>>,
    pub issuer: Option<Vec<Piece>>,
    pub date: Option<Vec<Piece>>,
    pub blocks: Vec<TBlock>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TBlock {
    Heading {
        level: u8,
        text: Vec<Piece>,
    },
    Paragraph(Vec<Piece>),
    /// The first row is the header.
    Table {
        caption: Option<Vec<Piece>>,
        rows: Vec<Vec<Vec<Piece>>>,
    },
    /// A bar chart: one bar per line.
    Chart {
        caption: Vec<Piece>,
        bars: Vec<(String, FigureRef)>,
    },
    /// The names in public notice of one assistance program (公示名单).
    NoticeList {
        program: String,
    },
    PageBreak,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Var(Var),
    Figure(FigureRef),
    /// 同比增长X% / 同比下降X% / 与上年持平.
    Yoy(FigureRef),
    /// The planned value (目标) of an indicator.
    Target(FigureRef),
    If {
        cond: Cond,
        then: Vec<Piece>,
        otherwise: Vec<Piece>,
    },
}

/// The report's own values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Var {
    /// The report's year, e.g. `2023`.
    Year,
    PreviousYear,
    NextYear,
    /// The name of the report's org unit.
    OrgName,
}

/// Which period a figure is for, relative to the report's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeriodSel {
    /// The report's period shifted by this many years (0 = the report's own).
    Years(i32),
    /// A fixed period code such as `2022` or `2023Q4`.
    Fixed(String),
}

/// An indicator reference with its options.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureRef {
    pub code: String,
    /// Another org unit's code; `None` is the report's own unit.
    pub org: Option<String>,
    pub period: PeriodSel,
    /// Display unit; a `万`/`亿` prefix of the indicator's own unit scales the value.
    pub unit: Option<String>,
    pub precision: Option<u8>,
    /// `无单位`: print the number only (the text around it names the unit).
    pub bare: bool,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `CODE > 0`: the figure, in its display unit, compared with a number.
    Compare {
        left: FigureRef,
        yoy: bool,
        op: CmpOp,
        right: f64,
    },
    /// `有数据 CODE`: the figure exists.
    HasData(FigureRef),
}

pub fn parse(source: &str) -> Result<Template, TemplateError> {
    let mut t = Template::default();
    let mut lines = source.lines().enumerate().peekable();
    let mut saw_title = false;
    while let Some((i, raw)) = lines.next() {
        let ln = i + 1;
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        let indent = line.chars().count() - trimmed.chars().count();
        let col = |skip: usize| indent + skip + 1;
        if trimmed.is_empty() || trimmed.starts_with("//") {
            continue;
        }
        if let Some((key, rest, skip)) = meta_line(trimmed) {
            let pieces = parse_inline(rest, ln, col(skip))?;
            match key {
                "标题" => {
                    t.title = pieces;
                    saw_title = true;
                }
                "副标题" => t.subtitle = Some(pieces),
                "署名" => t.issuer = Some(pieces),
                "日期" => t.date = Some(pieces),
                "表" => {
                    let rows = table_rows(&mut lines)?;
                    if rows.is_empty() {
                        return Err(err(ln, col(0), "“表：”下面应当是以“|”开头的表格行"));
                    }
                    t.blocks.push(TBlock::Table {
                        caption: Some(pieces).filter(|p| !p.is_empty()),
                        rows,
                    });
                }
                "图" => {
                    let bars = chart_bars(&mut lines)?;
                    if bars.is_empty() {
                        return Err(err(
                            ln,
                            col(0),
                            "“图：”下面应当是以“- ”开头的数据行，例如“- 粮食：{agri.grain_output}”",
                        ));
                    }
                    t.blocks.push(TBlock::Chart {
                        caption: pieces,
                        bars,
                    });
                }
                "公示名单" => {
                    let program = rest.trim();
                    if program.is_empty() || !is_code(program) {
                        return Err(err(
                            ln,
                            col(skip),
                            "“公示名单：”后应写救助项目代码，例如“公示名单：min_living”",
                        ));
                    }
                    t.blocks.push(TBlock::NoticeList {
                        program: program.to_owned(),
                    });
                }
                _ => unreachable!("meta_line only returns known keys"),
            }
            continue;
        }
        if trimmed == "分页" {
            t.blocks.push(TBlock::PageBreak);
            continue;
        }
        if trimmed.starts_with('#') {
            let level = trimmed.chars().take_while(|&c| c == '#').count();
            if level > 4 {
                return Err(err(ln, col(0), "标题最多四级（#### ）"));
            }
            let rest = &trimmed[level..];
            let text_start = rest.len() - rest.trim_start().len();
            let text = parse_inline(rest.trim_start(), ln, col(level + text_start))?;
            if text.is_empty() {
                return Err(err(ln, col(0), "标题不能为空"));
            }
            t.blocks.push(TBlock::Heading {
                level: level as u8,
                text,
            });
            continue;
        }
        if trimmed.starts_with('|') {
            // A table without a caption: give back this line to the row reader.
            let mut rows = vec![table_row(trimmed, ln, indent)?];
            rows.extend(table_rows(&mut lines)?);
            t.blocks.push(TBlock::Table {
                caption: None,
                rows,
            });
            continue;
        }
        if trimmed.starts_with("- ") {
            return Err(err(ln, col(0), "图表数据行前面应有一行“图：标题”"));
        }
        t.blocks
            .push(TBlock::Paragraph(parse_inline(trimmed, ln, col(0))?));
    }
    if !saw_title {
        return Err(err(
            1,
            1,
            "模板缺少标题行，例如“标题：{单位名称}{年}年工作总结”",
        ));
    }
    Ok(t)
}

fn err(line: usize, column: usize, message: impl Into<String>) -> TemplateError {
    TemplateError {
        line,
        column,
        message: message.into(),
    }
}

/// `标题：…` and the other keyword lines, with either colon. Returns the key, the rest and
/// how many characters precede the rest.
fn meta_line(line: &str) -> Option<(&'static str, &str, usize)> {
    for key in ["标题", "副标题", "署名", "日期", "表", "图", "公示名单"] {
        if let Some(rest) = line.strip_prefix(key) {
            for colon in ["：", ":"] {
                if let Some(r) = rest.strip_prefix(colon) {
                    let lead = r.len() - r.trim_start().len();
                    return Some((key, r.trim_start(), key.chars().count() + 1 + lead));
                }
            }
        }
    }
    None
}

type Lines<'a> = std::iter::Peekable<std::iter::Enumerate<std::str::Lines<'a>>>;

fn table_rows(lines: &mut Lines<'_>) -> Result<Vec<Vec<Vec<Piece>>>, TemplateError> {
    let mut rows = Vec::new();
    while let Some((i, raw)) = lines.peek().copied() {
        let trimmed = raw.trim();
        if !trimmed.starts_with('|') {
            break;
        }
        lines.next();
        let indent = raw.chars().count() - raw.trim_start().chars().count();
        rows.push(table_row(trimmed, i + 1, indent)?);
    }
    Ok(rows)
}

/// `| a | {x|万亩} | c |`: cells split at `|` outside braces.
fn table_row(line: &str, ln: usize, indent: usize) -> Result<Vec<Vec<Piece>>, TemplateError> {
    let chars: Vec<char> = line.chars().collect();
    let mut cells = Vec::new();
    let mut depth = 0usize;
    let mut start = 1; // after the leading '|'
    for (i, &c) in chars.iter().enumerate().skip(1) {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => {
                let cell: String = chars[start..i].iter().collect();
                let lead = cell.chars().count() - cell.trim_start().chars().count();
                cells.push(parse_inline(cell.trim(), ln, indent + start + lead + 1)?);
                start = i + 1;
            }
            _ => {}
        }
    }
    let tail: String = chars[start..].iter().collect();
    if !tail.trim().is_empty() {
        let lead = tail.chars().count() - tail.trim_start().chars().count();
        cells.push(parse_inline(tail.trim(), ln, indent + start + lead + 1)?);
    }
    Ok(cells)
}

fn chart_bars(lines: &mut Lines<'_>) -> Result<Vec<(String, FigureRef)>, TemplateError> {
    let mut bars = Vec::new();
    while let Some((i, raw)) = lines.peek().copied() {
        let trimmed = raw.trim();
        let Some(rest) = trimmed.strip_prefix("- ") else {
            break;
        };
        lines.next();
        let ln = i + 1;
        let indent = raw.chars().count() - raw.trim_start().chars().count();
        let sep = rest
            .find(['：', ':'])
            .ok_or_else(|| err(ln, indent + 3, "图表数据行应写成“- 名称：{指标代码}”"))?;
        let label = rest[..sep].trim().to_owned();
        let value = rest[sep..].trim_start_matches(['：', ':']).trim();
        let value_col = indent + 3 + rest[..sep].chars().count() + 1;
        let pieces = parse_inline(value, ln, value_col)?;
        match pieces.as_slice() {
            [Piece::Figure(f)] => bars.push((label, f.clone())),
            _ => {
                return Err(err(
                    ln,
                    value_col,
                    "图表数据行的冒号后只能写一个指标，例如“{agri.grain_output|万吨}”",
                ));
            }
        }
    }
    Ok(bars)
}

/// Whether `s` is an indicator or program code: ASCII letters, digits, `.`, `_` and `-`,
/// starting with a letter.
pub fn is_code(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// One tag of a line: text, or a brace expression with its position.
enum Tag {
    Text(String),
    Expr { body: String, column: usize },
}

/// Parses one line of text with its brace expressions; `column` is where `s` starts.
pub fn parse_inline(s: &str, line: usize, column: usize) -> Result<Vec<Piece>, TemplateError> {
    let tags = tokenize(s, line, column)?;
    let mut stack: Vec<Frame> = vec![Frame::root()];
    for tag in tags {
        match tag {
            Tag::Text(t) => stack.last_mut().expect("root").push(Piece::Text(t)),
            Tag::Expr { body, column } => {
                let body = body.trim();
                let word = if body.starts_with("如果") {
                    "如果"
                } else {
                    body
                };
                match word {
                    "如果" => {
                        let cond = parse_cond(body["如果".len()..].trim(), line, column)?;
                        stack.push(Frame {
                            cond: Some((cond, column)),
                            then: Vec::new(),
                            otherwise: None,
                        });
                    }
                    "否则" => {
                        let top = stack.last_mut().expect("root");
                        if top.cond.is_none() {
                            return Err(err(line, column, "“{否则}”前面没有对应的“{如果 …}”"));
                        }
                        if top.otherwise.is_some() {
                            return Err(err(line, column, "一个“{如果 …}”只能有一个“{否则}”"));
                        }
                        top.otherwise = Some(Vec::new());
                    }
                    "结束" => {
                        if stack.len() == 1 {
                            return Err(err(line, column, "“{结束}”前面没有对应的“{如果 …}”"));
                        }
                        let f = stack.pop().expect("checked");
                        let (cond, _) = f.cond.expect("non-root");
                        stack.last_mut().expect("root").push(Piece::If {
                            cond,
                            then: f.then,
                            otherwise: f.otherwise.unwrap_or_default(),
                        });
                    }
                    _ => {
                        let piece = parse_expr(body, line, column)?;
                        stack.last_mut().expect("root").push(piece);
                    }
                }
            }
        }
    }
    if stack.len() > 1 {
        let (_, col) = stack
            .last()
            .and_then(|f| f.cond.as_ref())
            .expect("non-root");
        return Err(err(line, *col, "“{如果 …}”没有在本行内用“{结束}”结束"));
    }
    Ok(stack.pop().expect("root").then)
}

struct Frame {
    cond: Option<(Cond, usize)>,
    then: Vec<Piece>,
    otherwise: Option<Vec<Piece>>,
}

impl Frame {
    fn root() -> Frame {
        Frame {
            cond: None,
            then: Vec::new(),
            otherwise: None,
        }
    }

    fn push(&mut self, p: Piece) {
        let list = self.otherwise.as_mut().unwrap_or(&mut self.then);
        if let (Piece::Text(t), Some(Piece::Text(last))) = (&p, list.last_mut()) {
            last.push_str(t);
        } else {
            list.push(p);
        }
    }
}

fn tokenize(s: &str, line: usize, column: usize) -> Result<Vec<Tag>, TemplateError> {
    let chars: Vec<char> = s.chars().collect();
    let mut tags = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '{' if chars.get(i + 1) == Some(&'{') => {
                text.push('{');
                i += 2;
            }
            '}' if chars.get(i + 1) == Some(&'}') => {
                text.push('}');
                i += 2;
            }
            '{' | '｛' => {
                let close = chars[i + 1..]
                    .iter()
                    .position(|&d| matches!(d, '}' | '｝'))
                    .ok_or_else(|| err(line, column + i, "花括号“{”没有闭合，缺少“}”"))?;
                if let Some(inner) = chars[i + 1..i + 1 + close]
                    .iter()
                    .position(|&d| matches!(d, '{' | '｛'))
                {
                    return Err(err(
                        line,
                        column + i + 1 + inner,
                        "花括号里不能再有“{”：上一个“{”还没有用“}”闭合",
                    ));
                }
                if !text.is_empty() {
                    tags.push(Tag::Text(std::mem::take(&mut text)));
                }
                let body: String = chars[i + 1..i + 1 + close].iter().collect();
                if body.trim().is_empty() {
                    return Err(err(
                        line,
                        column + i,
                        "花括号里是空的，应写指标代码或关键字",
                    ));
                }
                tags.push(Tag::Expr {
                    body,
                    column: column + i,
                });
                i += close + 2;
            }
            '}' | '｝' => {
                return Err(err(
                    line,
                    column + i,
                    "多余的“}”：前面没有“{”（要印出花括号请写“}}”）",
                ));
            }
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    if !text.is_empty() {
        tags.push(Tag::Text(text));
    }
    Ok(tags)
}

fn parse_expr(body: &str, line: usize, column: usize) -> Result<Piece, TemplateError> {
    match body {
        "年" | "本年" => return Ok(Piece::Var(Var::Year)),
        "上年" => return Ok(Piece::Var(Var::PreviousYear)),
        "下年" => return Ok(Piece::Var(Var::NextYear)),
        "单位名称" => return Ok(Piece::Var(Var::OrgName)),
        _ => {}
    }
    if let Some(rest) = body.strip_prefix("同比") {
        return Ok(Piece::Yoy(parse_figure(rest.trim(), line, column)?));
    }
    if let Some(rest) = body.strip_prefix("目标") {
        return Ok(Piece::Target(parse_figure(rest.trim(), line, column)?));
    }
    Ok(Piece::Figure(parse_figure(body, line, column)?))
}

fn parse_figure(s: &str, line: usize, column: usize) -> Result<FigureRef, TemplateError> {
    let mut parts = s.split(['|', '｜']);
    let code = parts.next().unwrap_or("").trim();
    if code.is_empty() {
        return Err(err(line, column, "缺少指标代码"));
    }
    if !is_code(code) {
        return Err(err(
            line,
            column,
            format!(
                "“{code}”不是指标代码或关键字（指标代码由字母、数字、点和下划线组成，例如 agri.grain_area；关键字有 年、上年、下年、单位名称、同比、目标、如果、否则、结束）"
            ),
        ));
    }
    let mut f = FigureRef {
        code: code.to_owned(),
        org: None,
        period: PeriodSel::Years(0),
        unit: None,
        precision: None,
        bare: false,
        line,
        column,
    };
    for opt in parts {
        let opt = opt.trim();
        if opt.is_empty() {
            return Err(err(
                line,
                column,
                format!("指标 {code} 的选项是空的（两个“|”之间没有内容）"),
            ));
        }
        if opt == "无单位" {
            f.bare = true;
        } else if let Some(n) = opt.strip_suffix('位').or_else(|| opt.strip_prefix("小数=")) {
            let p: u8 = n.trim().parse().ok().filter(|p| *p <= 6).ok_or_else(|| {
                err(
                    line,
                    column,
                    format!("小数位数“{opt}”无效，应为0到6位，例如“2位”"),
                )
            })?;
            f.precision = Some(p);
        } else if let Some(org) = opt.strip_prefix("机构=") {
            let org = org.trim();
            if org.is_empty() || !org.chars().all(|c| c.is_ascii_digit()) {
                return Err(err(
                    line,
                    column,
                    format!("机构代码“{org}”应为区划代码数字，例如 361002201211"),
                ));
            }
            f.org = Some(org.to_owned());
        } else if let Some(unit) = opt.strip_prefix("单位=") {
            f.unit = Some(unit.trim().to_owned());
        } else if let Some(sel) = period_word(opt) {
            f.period = sel;
        } else if let Some(p) = opt.strip_prefix("期间=") {
            f.period = period_word(p.trim()).ok_or_else(|| {
                err(
                    line,
                    column,
                    format!("期间“{p}”无效，应为本年、上年、下年、前年或期间代码如 2022、2023Q4"),
                )
            })?;
        } else if opt.chars().next().is_some_and(|c| c.is_ascii_digit()) {
            return Err(err(
                line,
                column,
                format!("期间“{opt}”无效，应为期间代码如 2022、2023Q4、202312"),
            ));
        } else {
            f.unit = Some(opt.to_owned());
        }
    }
    Ok(f)
}

fn period_word(s: &str) -> Option<PeriodSel> {
    Some(match s {
        "本年" | "当年" => PeriodSel::Years(0),
        "上年" | "去年" => PeriodSel::Years(-1),
        "前年" => PeriodSel::Years(-2),
        "下年" | "明年" => PeriodSel::Years(1),
        code if xiangzhi_domain::period::Period::parse(code).is_ok() => {
            PeriodSel::Fixed(code.to_owned())
        }
        _ => return None,
    })
}

fn parse_cond(s: &str, line: usize, column: usize) -> Result<Cond, TemplateError> {
    if s.is_empty() {
        return Err(err(
            line,
            column,
            "“如果”后面缺少条件，例如“{如果 agri.grain_area > 0}”",
        ));
    }
    if let Some(rest) = s.strip_prefix("有数据") {
        return Ok(Cond::HasData(parse_figure(rest.trim(), line, column)?));
    }
    // `LEFT OP NUMBER`, read from the right: options on the left may contain `=`.
    let t = s.trim_end();
    let num_len: usize = t
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'))
        .map(char::len_utf8)
        .sum();
    let (head, right) = t.split_at(t.len() - num_len);
    let head = head.trim_end();
    const OPS: [(&str, CmpOp); 10] = [
        (">=", CmpOp::Ge),
        ("<=", CmpOp::Le),
        ("!=", CmpOp::Ne),
        ("==", CmpOp::Eq),
        ("≥", CmpOp::Ge),
        ("≤", CmpOp::Le),
        ("≠", CmpOp::Ne),
        (">", CmpOp::Gt),
        ("<", CmpOp::Lt),
        ("=", CmpOp::Eq),
    ];
    let Some((sym, op)) = OPS.iter().find(|(sym, _)| head.ends_with(sym)).copied() else {
        return Err(err(
            line,
            column,
            "条件应写成“指标代码 比较符号 数”，比较符号为 > < >= <= = ≠，例如“{如果 GRAIN_AREA > 0}”",
        ));
    };
    let right: f64 = right.parse().map_err(|_| {
        err(
            line,
            column,
            format!("条件右边“{right}”应是一个数，例如 0 或 2.5"),
        )
    })?;
    let left = head[..head.len() - sym.len()].trim();
    let (yoy, left) = match left.strip_prefix("同比") {
        Some(rest) => (true, rest.trim()),
        None => (false, left),
    };
    Ok(Cond::Compare {
        left: parse_figure(left, line, column)?,
        yoy,
        op,
        right,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(code: &str) -> FigureRef {
        parse_figure(code, 1, 1).unwrap()
    }

    #[test]
    fn headings_paragraphs_and_meta() {
        let t = parse("标题：{单位名称}{年}年工作总结\n署名：X乡人民政府\n\n# 总结\n## 农业\n粮食{agri.grain_area|万亩|2位}。\n分页\n").unwrap();
        assert_eq!(
            t.title,
            vec![
                Piece::Var(Var::OrgName),
                Piece::Var(Var::Year),
                Piece::Text("年工作总结".into())
            ]
        );
        assert_eq!(t.issuer, Some(vec![Piece::Text("X乡人民政府".into())]));
        assert_eq!(t.blocks.len(), 4);
        assert!(matches!(t.blocks[0], TBlock::Heading { level: 1, .. }));
        assert!(matches!(t.blocks[1], TBlock::Heading { level: 2, .. }));
        let TBlock::Paragraph(p) = &t.blocks[2] else {
            panic!()
        };
        let Piece::Figure(f) = &p[1] else { panic!() };
        assert_eq!(f.code, "agri.grain_area");
        assert_eq!(f.unit.as_deref(), Some("万亩"));
        assert_eq!(f.precision, Some(2));
        assert_eq!((f.line, f.column), (6, 3));
        assert_eq!(t.blocks[3], TBlock::PageBreak);
    }

    #[test]
    fn options_periods_and_orgs() {
        let p = parse_inline("{如果 a|机构=361002201211 >= 15}够{结束}", 1, 1).unwrap();
        let Piece::If {
            cond: Cond::Compare {
                left, op, right, ..
            },
            ..
        } = &p[0]
        else {
            panic!()
        };
        assert_eq!(
            (left.org.as_deref(), *op, *right),
            (Some("361002201211"), CmpOp::Ge, 15.0)
        );
        let f = fig("a.b|上年|机构=361002201211|单位=万元|0位");
        assert_eq!(f.period, PeriodSel::Years(-1));
        assert_eq!(f.org.as_deref(), Some("361002201211"));
        assert_eq!(f.unit.as_deref(), Some("万元"));
        assert_eq!(f.precision, Some(0));
        assert_eq!(fig("a|2022Q4").period, PeriodSel::Fixed("2022Q4".into()));
        assert_eq!(fig("a|下年").period, PeriodSel::Years(1));
    }

    #[test]
    fn conditionals_nest_within_a_line() {
        let p = parse_inline(
            "甲{如果 a > 0}有{如果 同比 a >= 5}多{否则}少{结束}{否则}无{结束}乙",
            1,
            1,
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        let Piece::If {
            cond,
            then,
            otherwise,
        } = &p[1]
        else {
            panic!()
        };
        assert!(matches!(
            cond,
            Cond::Compare {
                op: CmpOp::Gt,
                yoy: false,
                ..
            }
        ));
        assert_eq!(then.len(), 2);
        assert!(matches!(
            &then[1],
            Piece::If {
                cond: Cond::Compare {
                    yoy: true,
                    op: CmpOp::Ge,
                    ..
                },
                ..
            }
        ));
        assert_eq!(otherwise, &vec![Piece::Text("无".into())]);
    }

    #[test]
    fn tables_and_charts() {
        let t = parse("标题：t\n表：主要农产品\n| 品种 | {年}年 |\n| 粮食 | {a.b|万吨|上年} |\n图：产量\n- 粮食：{a.b}\n- 蔬菜：{a.c|万吨}\n").unwrap();
        let TBlock::Table { caption, rows } = &t.blocks[0] else {
            panic!()
        };
        assert!(caption.is_some());
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].len(), 2);
        let Piece::Figure(f) = &rows[1][1][0] else {
            panic!()
        };
        assert_eq!(f.period, PeriodSel::Years(-1));
        let TBlock::Chart { bars, .. } = &t.blocks[1] else {
            panic!()
        };
        assert_eq!(bars.len(), 2);
        assert_eq!(bars[1].0, "蔬菜");
    }

    #[test]
    fn braces_escape() {
        assert_eq!(
            parse_inline("{{10+X}}", 1, 1).unwrap(),
            vec![Piece::Text("{10+X}".into())]
        );
    }

    fn error_of(src: &str) -> String {
        parse(src).unwrap_err().to_string()
    }

    #[test]
    fn chinese_errors_point_at_the_place() {
        assert_eq!(
            error_of("标题：t\n粮食{agri.grain_area"),
            "第2行第3字：花括号“{”没有闭合，缺少“}”"
        );
        assert!(
            error_of("标题：t\n产量{粮食}吨").starts_with("第2行第3字：“粮食”不是指标代码或关键字")
        );
        assert_eq!(
            error_of("标题：t\n{如果 a > 0}有"),
            "第2行第1字：“{如果 …}”没有在本行内用“{结束}”结束"
        );
        assert_eq!(
            error_of("标题：t\n有{结束}"),
            "第2行第2字：“{结束}”前面没有对应的“{如果 …}”"
        );
        assert!(error_of("标题：t\n{a|9位}").starts_with("第2行第1字：小数位数“9位”无效"));
        assert!(error_of("标题：t\n{如果 a ~ 0}x{结束}").starts_with("第2行第1字：条件应写成"));
        assert!(error_of("标题：t\n{如果 a > x}x{结束}").starts_with("第2行第1字：条件应写成"));
        assert_eq!(
            error_of("正文"),
            "第1行第1字：模板缺少标题行，例如“标题：{单位名称}{年}年工作总结”"
        );
        assert!(error_of("标题：t\n##### 五级").starts_with("第2行第1字：标题最多四级"));
        assert!(error_of("标题：t\n| a | {粮食} |").starts_with("第2行第7字：“粮食”"));
        assert!(error_of("标题：t\n图：x\n- 粮食 {a}").starts_with("第3行第3字：图表数据行应写成"));
        assert_eq!(
            error_of("标题：t\n多了}"),
            "第2行第3字：多余的“}”：前面没有“{”（要印出花括号请写“}}”）"
        );
    }
}
