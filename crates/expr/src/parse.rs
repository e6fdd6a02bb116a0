//! Lexer and recursive-descent (Pratt) parser. Every error points at the offending
//! character; hostile input is refused by length and nesting limits before it can
//! exhaust the stack.

use crate::ast::{
    AggArg, AggFunc, Aggregate, BinOp, Expr, ExprKind, Filter, FilterOp, Func, Literal,
    LiteralValue, MoneyUnit, NEG_PRECEDENCE, NOT_PRECEDENCE, Name, PeriodClause, PeriodKind,
    SourceRef, Target,
};
use crate::diag::{Error, ErrorKind, Span, line_column};
use crate::suggest::suggest;

/// Longest accepted expression, in bytes.
pub const MAX_LEN: usize = 4096;
/// Deepest accepted nesting of parentheses, calls and operators while parsing.
pub const MAX_NESTING: usize = 64;
/// Deepest accepted syntax tree (long `a + b + c …` chains grow the tree without nesting).
pub const MAX_TREE_DEPTH: usize = 256;

/// Words that cannot name a source or a field.
pub const KEYWORDS: [&str; 7] = ["and", "or", "not", "in", "at", "true", "false"];

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Number(f64),
    Str(String),
    Ident(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Plus,
    Minus,
    Star,
    Slash,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    span: Span,
}

fn full_width(c: char) -> Option<char> {
    Some(match c {
        '（' => '(',
        '）' => ')',
        '，' => ',',
        '“' | '”' | '＂' => '"',
        '［' | '【' => '[',
        '］' | '】' => ']',
        '＝' => '=',
        '＋' => '+',
        '－' => '-',
        '＊' | '×' => '*',
        '／' | '÷' => '/',
        '＜' => '<',
        '＞' => '>',
        '．' | '。' => '.',
        '！' => '!',
        _ => return None,
    })
}

fn lex(src: &str) -> Result<Vec<Token>, Error> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < src.len() {
        let c = src[i..].chars().next().unwrap_or('\0');
        let start = i;
        let one = |tok: Tok| Token {
            tok,
            span: Span::new(start, start + 1),
        };
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let token = match c {
            '(' => one(Tok::LParen),
            ')' => one(Tok::RParen),
            '[' => one(Tok::LBracket),
            ']' => one(Tok::RBracket),
            ',' => one(Tok::Comma),
            '.' => one(Tok::Dot),
            '+' => one(Tok::Plus),
            '-' => one(Tok::Minus),
            '*' => one(Tok::Star),
            '/' => one(Tok::Slash),
            '=' | '!' | '<' | '>' => {
                let next = bytes.get(i + 1).copied();
                let (tok, len) = match (c, next) {
                    ('=', Some(b'=')) => (Tok::Eq, 2),
                    ('=', _) => (Tok::Eq, 1),
                    ('!', Some(b'=')) => (Tok::Ne, 2),
                    ('<', Some(b'=')) => (Tok::Le, 2),
                    ('<', Some(b'>')) => (Tok::Ne, 2),
                    ('<', _) => (Tok::Lt, 1),
                    ('>', Some(b'=')) => (Tok::Ge, 2),
                    ('>', _) => (Tok::Gt, 1),
                    _ => {
                        return Err(Error::new(
                            ErrorKind::Expected {
                                expected: "“!=”（不等于）；取反请用 not".into(),
                                found: "“!”".into(),
                            },
                            Span::new(i, i + 1),
                        ));
                    }
                };
                Token {
                    tok,
                    span: Span::new(i, i + len),
                }
            }
            '"' => lex_string(src, i)?,
            '0'..='9' => lex_number(src, i)?,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let end = src[i..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(src.len(), |n| i + n);
                // A name running straight into Chinese: point at the Chinese.
                if let Some(next) = src[end..].chars().next()
                    && next.is_alphabetic()
                    && !next.is_ascii()
                {
                    return Err(Error::new(
                        ErrorKind::NonAsciiName,
                        Span::new(end, end + next.len_utf8()),
                    ));
                }
                Token {
                    tok: Tok::Ident(src[i..end].to_owned()),
                    span: Span::new(i, end),
                }
            }
            c => {
                let span = Span::new(i, i + c.len_utf8());
                let kind = if let Some(ascii) = full_width(c) {
                    ErrorKind::FullWidth { found: c, ascii }
                } else if c.is_alphabetic() && !c.is_ascii() {
                    ErrorKind::NonAsciiName
                } else {
                    ErrorKind::UnexpectedChar { found: c }
                };
                return Err(Error::new(kind, span));
            }
        };
        i = token.span.end;
        out.push(token);
    }
    out.push(Token {
        tok: Tok::Eof,
        span: Span::new(src.len(), src.len()),
    });
    Ok(out)
}

fn lex_string(src: &str, start: usize) -> Result<Token, Error> {
    let mut value = String::new();
    let mut chars = src[start + 1..].char_indices();
    while let Some((off, c)) = chars.next() {
        let at = start + 1 + off;
        match c {
            '"' => {
                return Ok(Token {
                    tok: Tok::Str(value),
                    span: Span::new(start, at + 1),
                });
            }
            '\\' => match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, other)) => {
                    return Err(Error::new(
                        ErrorKind::BadEscape { found: other },
                        Span::new(at, at + 1 + other.len_utf8()),
                    ));
                }
                None => break,
            },
            c => value.push(c),
        }
    }
    Err(Error::new(
        ErrorKind::UnclosedString,
        Span::new(start, start + 1),
    ))
}

fn lex_number(src: &str, start: usize) -> Result<Token, Error> {
    let b = src.as_bytes();
    let mut end = start;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    if end < b.len() && b[end] == b'.' {
        let frac = end + 1;
        let mut e = frac;
        while e < b.len() && b[e].is_ascii_digit() {
            e += 1;
        }
        if e == frac {
            // `12.` or `12.x`: a number cannot end with a point.
            return Err(Error::new(
                ErrorKind::BadNumber {
                    text: src[start..frac].to_owned(),
                },
                Span::new(start, frac),
            ));
        }
        end = e;
    }
    if let Some(next) = src[end..].chars().next()
        && (next.is_alphanumeric() || next == '_' || next == '.')
    {
        if next.is_alphabetic() && !next.is_ascii() {
            return Err(Error::new(
                ErrorKind::NonAsciiName,
                Span::new(end, end + next.len_utf8()),
            ));
        }
        let stop = src[end..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .map_or(src.len(), |n| end + n);
        return Err(Error::new(
            ErrorKind::BadNumber {
                text: src[start..stop].to_owned(),
            },
            Span::new(start, stop),
        ));
    }
    let text = &src[start..end];
    let value: f64 = text.parse().map_err(|_| {
        Error::new(
            ErrorKind::BadNumber { text: text.into() },
            Span::new(start, end),
        )
    })?;
    if !value.is_finite() {
        return Err(Error::new(
            ErrorKind::NumberOutOfRange { text: text.into() },
            Span::new(start, end),
        ));
    }
    Ok(Token {
        tok: Tok::Number(value),
        span: Span::new(start, end),
    })
}

/// Parse an expression. Errors carry the span of the offending text; use
/// [`Error::diagnose`] for line, column and excerpt.
pub fn parse(src: &str) -> Result<Expr, Error> {
    if src.len() > MAX_LEN {
        let mut at = MAX_LEN;
        while !src.is_char_boundary(at) {
            at -= 1;
        }
        return Err(Error::new(
            ErrorKind::TooLong {
                len: src.len(),
                max: MAX_LEN,
            },
            Span::new(at, src.len()),
        ));
    }
    let tokens = lex(src)?;
    if tokens.len() == 1 {
        return Err(Error::new(ErrorKind::Empty, Span::new(0, src.len())));
    }
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        nesting: 0,
    };
    let expr = p.expr(0)?;
    let next = p.peek();
    if next.tok != Tok::Eof {
        let kind = match &next.tok {
            Tok::RParen => ErrorKind::Expected {
                expected: "运算符或表达式结尾（这个“)”没有配对的“(”）".into(),
                found: "“)”".into(),
            },
            _ => ErrorKind::Trailing {
                found: describe(&next.tok),
            },
        };
        return Err(Error::new(kind, next.span));
    }
    if expr.depth() > MAX_TREE_DEPTH {
        return Err(Error::new(
            ErrorKind::TooDeep {
                max: MAX_TREE_DEPTH,
            },
            expr.span,
        ));
    }
    Ok(expr)
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Number(n) => format!("数字“{n}”"),
        Tok::Str(s) => {
            let short: String = s.chars().take(20).collect();
            format!("字符串“{short}”")
        }
        Tok::Ident(s) if KEYWORDS.contains(&s.as_str()) => format!("关键字“{s}”"),
        Tok::Ident(s) => format!("名称“{s}”"),
        Tok::LParen => "“(”".into(),
        Tok::RParen => "“)”".into(),
        Tok::LBracket => "“[”".into(),
        Tok::RBracket => "“]”".into(),
        Tok::Comma => "“,”".into(),
        Tok::Dot => "“.”".into(),
        Tok::Plus => "“+”".into(),
        Tok::Minus => "“-”".into(),
        Tok::Star => "“*”".into(),
        Tok::Slash => "“/”".into(),
        Tok::Eq => "“=”".into(),
        Tok::Ne => "“!=”".into(),
        Tok::Lt => "“<”".into(),
        Tok::Le => "“<=”".into(),
        Tok::Gt => "“>”".into(),
        Tok::Ge => "“>=”".into(),
        Tok::Eof => "表达式结尾".into(),
    }
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_ident(&self, word: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(s) if s == word)
    }

    fn expected(&self, expected: &str) -> Error {
        let t = self.peek();
        Error::new(
            ErrorKind::Expected {
                expected: expected.into(),
                found: describe(&t.tok),
            },
            t.span,
        )
    }

    fn expect(&mut self, tok: Tok, expected: &str) -> Result<Token, Error> {
        if self.peek().tok == tok {
            Ok(self.bump())
        } else {
            Err(self.expected(expected))
        }
    }

    /// The closing `)` of the `(` at `open`.
    fn close_paren(&mut self, open: Span) -> Result<Token, Error> {
        if self.peek().tok == Tok::RParen {
            return Ok(self.bump());
        }
        let t = self.peek();
        let kind = if matches!(t.tok, Tok::Eof | Tok::RBracket) {
            let (open_line, open_column) = line_column(self.src, open.start);
            ErrorKind::UnclosedParen {
                open_line,
                open_column,
            }
        } else {
            ErrorKind::Expected {
                expected: "“,”或“)”".into(),
                found: describe(&t.tok),
            }
        };
        Err(Error::new(kind, t.span))
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(Error::new(
                ErrorKind::TooDeep { max: MAX_NESTING },
                self.peek().span,
            ));
        }
        Ok(())
    }

    fn infix(&self) -> Option<BinOp> {
        Some(match &self.peek().tok {
            Tok::Plus => BinOp::Add,
            Tok::Minus => BinOp::Sub,
            Tok::Star => BinOp::Mul,
            Tok::Slash => BinOp::Div,
            Tok::Eq => BinOp::Eq,
            Tok::Ne => BinOp::Ne,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::Ident(s) if s == "and" => BinOp::And,
            Tok::Ident(s) if s == "or" => BinOp::Or,
            _ => return None,
        })
    }

    /// Pratt loop: operators binding at least `min_bp` (binary operator of precedence
    /// p binds 2p on the left and 2p + 1 on the right, so all are left-associative).
    fn expr(&mut self, min_bp: u8) -> Result<Expr, Error> {
        self.enter()?;
        let start = self.peek().span;
        let mut lhs = match &self.peek().tok {
            Tok::Minus => {
                self.bump();
                let e = self.expr(2 * NEG_PRECEDENCE)?;
                Expr {
                    span: start.to(e.span),
                    kind: ExprKind::Neg { expr: Box::new(e) },
                }
            }
            Tok::Ident(s) if s == "not" => {
                self.bump();
                let e = self.expr(2 * NOT_PRECEDENCE)?;
                Expr {
                    span: start.to(e.span),
                    kind: ExprKind::Not { expr: Box::new(e) },
                }
            }
            _ => self.primary()?,
        };
        let mut comparison = false;
        while let Some(op) = self.infix() {
            let bp = 2 * op.precedence();
            if bp < min_bp {
                break;
            }
            let op_span = self.peek().span;
            if op.is_comparison() && comparison {
                return Err(Error::new(ErrorKind::ChainedComparison, op_span));
            }
            self.bump();
            let rhs = self.expr(bp + 1)?;
            comparison = op.is_comparison();
            lhs = Expr {
                span: lhs.span.to(rhs.span),
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
            };
        }
        self.nesting -= 1;
        Ok(lhs)
    }

    fn primary(&mut self) -> Result<Expr, Error> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Number(value) => {
                self.bump();
                Ok(Expr {
                    kind: ExprKind::Number { value },
                    span: t.span,
                })
            }
            Tok::LParen => {
                self.bump();
                let inner = self.expr(0)?;
                let close = self.close_paren(t.span)?;
                Ok(Expr {
                    span: t.span.to(close.span),
                    ..inner
                })
            }
            Tok::Ident(name) => {
                if name == "true" || name == "false" {
                    self.bump();
                    return Ok(Expr {
                        kind: ExprKind::Bool {
                            value: name == "true",
                        },
                        span: t.span,
                    });
                }
                if KEYWORDS.contains(&name.as_str()) {
                    return Err(self.expected("数值、函数或“(”"));
                }
                if *self.peek_at(1) != Tok::LParen {
                    return Err(Error::new(ErrorKind::BareName { name }, t.span));
                }
                self.call(name, t.span)
            }
            Tok::Str(_) => Err(Error::new(
                ErrorKind::Expected {
                    expected: "数值或表达式（字符串只能写在筛选条件、value(…) 和 ledger(…) 里）"
                        .into(),
                    found: describe(&t.tok),
                },
                t.span,
            )),
            Tok::Eof => Err(self.expected("表达式")),
            _ => Err(self.expected("数值、函数或“(”")),
        }
    }

    /// `name(` has been seen (name not yet consumed).
    fn call(&mut self, name: String, name_span: Span) -> Result<Expr, Error> {
        let agg = AggFunc::from_name(&name);
        let func = Func::from_name(&name);
        let aggregate = match (agg, func) {
            (Some(_), None) => true,
            (Some(_), Some(_)) => self.source_follows(),
            (None, Some(_)) => false,
            (None, None) => {
                let names = AggFunc::ALL
                    .iter()
                    .map(|f| f.name())
                    .chain(Func::ALL.iter().map(|f| f.name()));
                let suggestion = suggest(&name, names);
                return Err(Error::new(
                    ErrorKind::UnknownFunction { name, suggestion },
                    name_span,
                ));
            }
        };
        self.bump(); // name
        let open = self.bump(); // (
        if let (true, Some(agg)) = (aggregate, agg) {
            return self.aggregate(agg, name_span, open.span);
        }
        let Some(func) = func else {
            unreachable!("aggregate is false only when func is Some");
        };
        let mut args = Vec::new();
        if self.peek().tok != Tok::RParen {
            loop {
                args.push(self.expr(0)?);
                if self.peek().tok == Tok::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let close = self.close_paren(open.span)?;
        Ok(Expr {
            kind: ExprKind::Call { func, args },
            span: name_span.to(close.span),
        })
    }

    /// After `min(` / `max(`: does a source (rather than an expression) follow?
    fn source_follows(&self) -> bool {
        // peek() is the function name, peek_at(1) the `(`.
        match self.peek_at(2) {
            Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => match self.peek_at(3) {
                Tok::Dot | Tok::Comma | Tok::RParen => true,
                Tok::LParen => s == "ledger",
                _ => false,
            },
            _ => false,
        }
    }

    fn name(&mut self, expected: &str) -> Result<Name, Error> {
        match &self.peek().tok {
            Tok::Ident(s) if !KEYWORDS.contains(&s.as_str()) => {
                let t = self.bump();
                let Tok::Ident(text) = t.tok else {
                    unreachable!()
                };
                Ok(Name { text, span: t.span })
            }
            _ => Err(self.expected(expected)),
        }
    }

    fn string(&mut self, expected: &str) -> Result<Name, Error> {
        if let Tok::Str(_) = &self.peek().tok {
            let t = self.bump();
            let Tok::Str(text) = t.tok else {
                unreachable!()
            };
            Ok(Name { text, span: t.span })
        } else {
            Err(self.expected(expected))
        }
    }

    fn aggregate(&mut self, func: AggFunc, name_span: Span, open: Span) -> Result<Expr, Error> {
        let target = if func == AggFunc::Value {
            let code = self.string("数据项代码字符串，例如 value(\"GRAIN_AREA\")")?;
            Target::DataElement { code }
        } else {
            let source = if self.is_ident("ledger") && *self.peek_at(1) == Tok::LParen {
                self.bump();
                let lopen = self.bump();
                let code = self.string("台账代码字符串，例如 ledger(\"AGRI_OUTPUT\")")?;
                self.close_paren(lopen.span)?;
                SourceRef::Ledger { code }
            } else {
                let name = self.name("来源，例如 enrollment、payout 或 ledger(\"AGRI_OUTPUT\")")?;
                SourceRef::Named { name }
            };
            let field = if self.peek().tok == Tok::Dot {
                self.bump();
                Some(self.name("字段名")?)
            } else {
                None
            };
            Target::Source { source, field }
        };
        let mut args = Vec::new();
        while self.peek().tok == Tok::Comma {
            self.bump();
            args.push(self.agg_arg()?);
        }
        let close = self.close_paren(open)?;
        Ok(Expr {
            kind: ExprKind::Aggregate(Aggregate { func, target, args }),
            span: name_span.to(close.span),
        })
    }

    fn agg_arg(&mut self) -> Result<AggArg, Error> {
        const WHAT: &str =
            "筛选条件（例如 program = \"min_living\"）或期间（in period、in ytd、at end）";
        let start = self.peek().span;
        if self.is_ident("in") {
            self.bump();
            let kind = self.window()?;
            return Ok(AggArg::Period(PeriodClause {
                field: None,
                kind,
                span: start.to(self.tokens[self.pos - 1].span),
            }));
        }
        if self.is_ident("at") {
            self.bump();
            if !self.is_ident("end") {
                return Err(self.expected("“end”（at end 表示期末状态）"));
            }
            let end = self.bump();
            return Ok(AggArg::Period(PeriodClause {
                field: None,
                kind: PeriodKind::AtEnd,
                span: start.to(end.span),
            }));
        }
        let field = self.name(WHAT)?;
        let op = match &self.peek().tok {
            Tok::Eq => FilterOp::Eq,
            Tok::Ne => FilterOp::Ne,
            Tok::Lt => FilterOp::Lt,
            Tok::Le => FilterOp::Le,
            Tok::Gt => FilterOp::Gt,
            Tok::Ge => FilterOp::Ge,
            Tok::Ident(s) if s == "in" => {
                self.bump();
                if self.peek().tok != Tok::LBracket {
                    let kind = self.window()?;
                    return Ok(AggArg::Period(PeriodClause {
                        span: field.span.to(self.tokens[self.pos - 1].span),
                        field: Some(field),
                        kind,
                    }));
                }
                let values = self.list()?;
                return Ok(AggArg::Filter(Filter {
                    span: field.span.to(self.tokens[self.pos - 1].span),
                    field,
                    op: FilterOp::In,
                    values,
                }));
            }
            Tok::Ident(s) if s == "not" => {
                self.bump();
                if !self.is_ident("in") {
                    return Err(self.expected("“in”（not in [列表]）"));
                }
                self.bump();
                let values = self.list()?;
                return Ok(AggArg::Filter(Filter {
                    span: field.span.to(self.tokens[self.pos - 1].span),
                    field,
                    op: FilterOp::NotIn,
                    values,
                }));
            }
            _ => return Err(self.expected("比较符号（=、!=、<、<=、>、>=、in、not in）")),
        };
        self.bump();
        let value = self.literal()?;
        Ok(AggArg::Filter(Filter {
            span: field.span.to(value.span),
            field,
            op,
            values: vec![value],
        }))
    }

    /// After `in`: `period` or `ytd`.
    fn window(&mut self) -> Result<PeriodKind, Error> {
        let kind = if self.is_ident("period") {
            PeriodKind::InPeriod
        } else if self.is_ident("ytd") {
            PeriodKind::InYtd
        } else {
            return Err(self.expected("“period”、“ytd”或“[”列表"));
        };
        self.bump();
        Ok(kind)
    }

    fn list(&mut self) -> Result<Vec<Literal>, Error> {
        let open = self.expect(Tok::LBracket, "“[”")?;
        if self.peek().tok == Tok::RBracket {
            return Err(Error::new(
                ErrorKind::EmptyList,
                open.span.to(self.peek().span),
            ));
        }
        let mut values = vec![self.literal()?];
        while self.peek().tok == Tok::Comma {
            self.bump();
            values.push(self.literal()?);
        }
        match self.peek().tok {
            Tok::RBracket => {
                self.bump();
                Ok(values)
            }
            Tok::Eof | Tok::RParen => {
                let (open_line, open_column) = line_column(self.src, open.span.start);
                Err(Error::new(
                    ErrorKind::UnclosedBracket {
                        open_line,
                        open_column,
                    },
                    self.peek().span,
                ))
            }
            _ => Err(self.expected("“,”或“]”")),
        }
    }

    fn literal(&mut self) -> Result<Literal, Error> {
        const WHAT: &str = "常量：\"文字\"、数字、true、false 或 yuan(…)、wan_yuan(…)";
        let t = self.peek().clone();
        let value = match &t.tok {
            Tok::Str(s) => LiteralValue::Text(s.clone()),
            Tok::Number(n) => LiteralValue::Number(*n),
            Tok::Minus => {
                self.bump();
                let n = self.number(WHAT)?;
                return Ok(Literal {
                    value: LiteralValue::Number(-n.0),
                    span: t.span.to(n.1),
                });
            }
            Tok::Ident(s) if s == "true" || s == "false" => LiteralValue::Bool(s == "true"),
            Tok::Ident(s) if s == "yuan" || s == "wan_yuan" => {
                let unit = if s == "yuan" {
                    MoneyUnit::Yuan
                } else {
                    MoneyUnit::WanYuan
                };
                self.bump();
                let open = self.expect(Tok::LParen, "“(”")?;
                let negative = self.peek().tok == Tok::Minus;
                if negative {
                    self.bump();
                }
                let (n, _) = self.number("数字")?;
                let close = self.close_paren(open.span)?;
                return Ok(Literal {
                    value: LiteralValue::Money {
                        amount: if negative { -n } else { n },
                        unit,
                    },
                    span: t.span.to(close.span),
                });
            }
            _ => return Err(self.expected(WHAT)),
        };
        self.bump();
        Ok(Literal {
            value,
            span: t.span,
        })
    }

    fn number(&mut self, expected: &str) -> Result<(f64, Span), Error> {
        if let Tok::Number(n) = self.peek().tok {
            let t = self.bump();
            Ok((n, t.span))
        } else {
            Err(self.expected(expected))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(src: &str) -> ErrorKind {
        parse(src).unwrap_err().kind
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(parse("1 - 2 - 3").unwrap().to_string(), "1 - 2 - 3");
        assert_eq!(parse("1 - (2 - 3)").unwrap().to_string(), "1 - (2 - 3)");
        assert_eq!(parse("(1 + 2) * 3").unwrap().to_string(), "(1 + 2) * 3");
        assert_eq!(parse("1 + 2 * 3").unwrap().to_string(), "1 + 2 * 3");
        assert_eq!(
            parse("not 1 < 2 and true or false").unwrap().to_string(),
            "not 1 < 2 and true or false"
        );
        assert_eq!(parse("-(-1)").unwrap().to_string(), "--1");
    }

    #[test]
    fn min_is_scalar_or_aggregate() {
        let e = parse("min(1, 2)").unwrap();
        assert!(matches!(
            e.kind,
            ExprKind::Call {
                func: Func::Min,
                ..
            }
        ));
        let e = parse("min(ledger(\"A\").x, in ytd)").unwrap();
        assert!(matches!(e.kind, ExprKind::Aggregate(_)));
        let e = parse("max(abs(1), 2)").unwrap();
        assert!(matches!(
            e.kind,
            ExprKind::Call {
                func: Func::Max,
                ..
            }
        ));
    }

    #[test]
    fn limits() {
        assert!(matches!(
            kind(&"1+".repeat(3000)),
            ErrorKind::TooLong { .. }
        ));
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert!(matches!(kind(&deep), ErrorKind::TooDeep { max: 64 }));
        let chain = vec!["1"; 300].join("+");
        assert!(matches!(kind(&chain), ErrorKind::TooDeep { max: 256 }));
        assert!(parse(&vec!["1"; 200].join("+")).is_ok());
        assert!(matches!(kind(&"-".repeat(500)), ErrorKind::TooDeep { .. }));
    }
}
