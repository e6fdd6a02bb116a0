//! The syntax tree and its canonical printer. `parse(&expr.to_string())` gives back the
//! same tree (spans aside, see [`Expr::erase_spans`]).

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::diag::Span;

/// One expression node with the span of its text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum ExprKind {
    /// A non-negative literal; `-3` is `Neg(3)`.
    Number {
        value: f64,
    },
    Bool {
        value: bool,
    },
    Neg {
        expr: Box<Expr>,
    },
    Not {
        expr: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// A scalar function: `round(x, 2)`, `ratio(a, b)`, `prev_year(x)`…
    Call {
        func: Func,
        args: Vec<Expr>,
    },
    /// A primitive aggregate: `count(…)`, `sum(…)`, `value("…")`…
    Aggregate(Aggregate),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    /// Binding strength: or 1, and 2, (not 3), comparisons 4, + - 5, * / 6, (unary - 7).
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div => 6,
        }
    }

    pub fn is_comparison(self) -> bool {
        self.precedence() == 4
    }
}

pub(crate) const NOT_PRECEDENCE: u8 = 3;
pub(crate) const NEG_PRECEDENCE: u8 = 7;

/// Scalar functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Func {
    /// `if(cond, a, b)`
    If,
    /// `round(x, digits)`, half away from zero.
    Round,
    Abs,
    /// `min(a, b, …)` of expressions (with a source as first argument it is an aggregate).
    Min,
    Max,
    /// `coalesce(x, y, …)`: the first argument that is not missing.
    Coalesce,
    /// `ratio(a, b)` = a / b × 100, a percentage; missing when b = 0.
    Ratio,
    /// `prev_year(x)`: `x` for the same period one year earlier.
    PrevYear,
    /// `prev_period(x)`: `x` for the period before (2023Q1 → 2022Q4).
    PrevPeriod,
    /// `yuan(n)`: n 元 as money.
    Yuan,
    /// `wan_yuan(n)`: n 万元 as money.
    WanYuan,
}

impl Func {
    pub const ALL: [Func; 11] = [
        Func::If,
        Func::Round,
        Func::Abs,
        Func::Min,
        Func::Max,
        Func::Coalesce,
        Func::Ratio,
        Func::PrevYear,
        Func::PrevPeriod,
        Func::Yuan,
        Func::WanYuan,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Func::If => "if",
            Func::Round => "round",
            Func::Abs => "abs",
            Func::Min => "min",
            Func::Max => "max",
            Func::Coalesce => "coalesce",
            Func::Ratio => "ratio",
            Func::PrevYear => "prev_year",
            Func::PrevPeriod => "prev_period",
            Func::Yuan => "yuan",
            Func::WanYuan => "wan_yuan",
        }
    }

    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFunc {
    /// `value("CODE")`: a data element, aggregated by its own aggregation type.
    Value,
    /// Number of records.
    Count,
    /// Number of distinct persons behind the records.
    CountPersons,
    /// Number of distinct households behind the records.
    CountHouseholds,
    Sum,
    Avg,
    Min,
    Max,
    /// The latest value (by the source's date) within the period.
    Last,
}

impl AggFunc {
    pub const ALL: [AggFunc; 9] = [
        AggFunc::Value,
        AggFunc::Count,
        AggFunc::CountPersons,
        AggFunc::CountHouseholds,
        AggFunc::Sum,
        AggFunc::Avg,
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::Last,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Value => "value",
            AggFunc::Count => "count",
            AggFunc::CountPersons => "count_persons",
            AggFunc::CountHouseholds => "count_households",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Last => "last",
        }
    }

    pub fn from_name(name: &str) -> Option<AggFunc> {
        AggFunc::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The count family takes a source; the others take a field.
    pub fn counts(self) -> bool {
        matches!(
            self,
            AggFunc::Count | AggFunc::CountPersons | AggFunc::CountHouseholds
        )
    }
}

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub func: AggFunc,
    pub target: Target,
    pub args: Vec<AggArg>,
}

/// What an aggregate reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum Target {
    /// `value("GRAIN_AREA")`
    DataElement { code: Name },
    /// `enrollment`, `payout.amount`, `ledger("AGRI_OUTPUT").grain_area`
    Source {
        source: SourceRef,
        field: Option<Name>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum SourceRef {
    /// A built-in record source: `enrollment`, `payout`, `case`…
    Named { name: Name },
    /// A ledger defined as data: `ledger("AGRI_OUTPUT")`.
    Ledger { code: Name },
}

impl SourceRef {
    pub fn span(&self) -> Span {
        match self {
            SourceRef::Named { name } => name.span,
            SourceRef::Ledger { code } => code.span,
        }
    }
}

/// An argument of an aggregate after the target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "arg", rename_all = "snake_case")]
pub enum AggArg {
    Filter(Filter),
    Period(PeriodClause),
}

/// `field op value`, or `field in [a, b]` / `field not in [a, b]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    pub field: Name,
    pub op: FilterOp,
    /// Exactly one value, except for `in` / `not in` (one or more).
    pub values: Vec<Literal>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl FilterOp {
    pub fn symbol(self) -> &'static str {
        match self {
            FilterOp::Eq => "=",
            FilterOp::Ne => "!=",
            FilterOp::Lt => "<",
            FilterOp::Le => "<=",
            FilterOp::Gt => ">",
            FilterOp::Ge => ">=",
            FilterOp::In => "in",
            FilterOp::NotIn => "not in",
        }
    }

    pub fn is_list(self) -> bool {
        matches!(self, FilterOp::In | FilterOp::NotIn)
    }

    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            FilterOp::Lt | FilterOp::Le | FilterOp::Gt | FilterOp::Ge
        )
    }
}

/// A constant in a filter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Literal {
    pub value: LiteralValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum LiteralValue {
    Text(String),
    Number(f64),
    Bool(bool),
    /// `yuan(200)` or `wan_yuan(2000)`, as written.
    Money {
        amount: f64,
        unit: MoneyUnit,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoneyUnit {
    Yuan,
    WanYuan,
}

impl MoneyUnit {
    pub fn fen(self) -> f64 {
        match self {
            MoneyUnit::Yuan => 100.0,
            MoneyUnit::WanYuan => 1_000_000.0,
        }
    }

    pub fn func(self) -> Func {
        match self {
            MoneyUnit::Yuan => Func::Yuan,
            MoneyUnit::WanYuan => Func::WanYuan,
        }
    }
}

/// `in period`, `became_active in ytd`, `at end`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeriodClause {
    /// The date field the window applies to; `None` means the source's default.
    pub field: Option<Name>,
    pub kind: PeriodKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// Within the figure's period.
    InPeriod,
    /// From 1 January of the period's year to the period's end.
    InYtd,
    /// The state at the end of the period (stock, not flow).
    AtEnd,
}

// ---------------------------------------------------------------------------------
// Utilities

impl Expr {
    /// Depth of the tree, computed without recursion (the tree may come from anywhere).
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((e, d)) = stack.pop() {
            max = max.max(d);
            match &e.kind {
                ExprKind::Number { .. } | ExprKind::Bool { .. } | ExprKind::Aggregate(_) => {}
                ExprKind::Neg { expr } | ExprKind::Not { expr } => stack.push((expr, d + 1)),
                ExprKind::Binary { lhs, rhs, .. } => {
                    stack.push((lhs, d + 1));
                    stack.push((rhs, d + 1));
                }
                ExprKind::Call { args, .. } => stack.extend(args.iter().map(|a| (a, d + 1))),
            }
        }
        max
    }

    /// Set every span in the tree to `0..0`, so that trees parsed from differently
    /// spaced text compare equal.
    pub fn erase_spans(&mut self) {
        self.span = Span::default();
        match &mut self.kind {
            ExprKind::Number { .. } | ExprKind::Bool { .. } => {}
            ExprKind::Neg { expr } | ExprKind::Not { expr } => expr.erase_spans(),
            ExprKind::Binary { lhs, rhs, .. } => {
                lhs.erase_spans();
                rhs.erase_spans();
            }
            ExprKind::Call { args, .. } => args.iter_mut().for_each(Expr::erase_spans),
            ExprKind::Aggregate(agg) => {
                match &mut agg.target {
                    Target::DataElement { code } => code.span = Span::default(),
                    Target::Source { source, field } => {
                        match source {
                            SourceRef::Named { name } => name.span = Span::default(),
                            SourceRef::Ledger { code } => code.span = Span::default(),
                        }
                        if let Some(f) = field {
                            f.span = Span::default();
                        }
                    }
                }
                for arg in &mut agg.args {
                    match arg {
                        AggArg::Filter(f) => {
                            f.span = Span::default();
                            f.field.span = Span::default();
                            for v in &mut f.values {
                                v.span = Span::default();
                            }
                        }
                        AggArg::Period(p) => {
                            p.span = Span::default();
                            if let Some(f) = &mut p.field {
                                f.span = Span::default();
                            }
                        }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Printing

/// Write a string literal with the escapes the lexer understands.
pub(crate) fn write_string(out: &mut impl fmt::Write, s: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => out.write_str("\\\"")?,
            '\\' => out.write_str("\\\\")?,
            '\n' => out.write_str("\\n")?,
            '\t' => out.write_str("\\t")?,
            '\r' => out.write_str("\\r")?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// Numbers print in the shortest form that reads back to the same `f64`, never with
/// an exponent.
pub(crate) fn write_number(out: &mut impl fmt::Write, n: f64) -> fmt::Result {
    write!(out, "{n}")
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl fmt::Display for LiteralValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiteralValue::Text(s) => write_string(f, s),
            LiteralValue::Number(n) => write_number(f, *n),
            LiteralValue::Bool(b) => write!(f, "{b}"),
            LiteralValue::Money { amount, unit } => {
                write!(f, "{}(", unit.func().name())?;
                write_number(f, *amount)?;
                f.write_char(')')
            }
        }
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceRef::Named { name } => f.write_str(&name.text),
            SourceRef::Ledger { code } => {
                f.write_str("ledger(")?;
                write_string(f, &code.text)?;
                f.write_char(')')
            }
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::DataElement { code } => write_string(f, &code.text),
            Target::Source { source, field } => {
                write!(f, "{source}")?;
                if let Some(field) = field {
                    write!(f, ".{}", field.text)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.field.text, self.op.symbol())?;
        if self.op.is_list() {
            f.write_char('[')?;
            for (i, v) in self.values.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            f.write_char(']')
        } else {
            match self.values.first() {
                Some(v) => write!(f, "{v}"),
                None => f.write_str("[]"),
            }
        }
    }
}

impl fmt::Display for PeriodClause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(field) = &self.field {
            write!(f, "{} ", field.text)?;
        }
        f.write_str(match self.kind {
            PeriodKind::InPeriod => "in period",
            PeriodKind::InYtd => "in ytd",
            PeriodKind::AtEnd => "at end",
        })
    }
}

impl fmt::Display for AggArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AggArg::Filter(x) => x.fmt(f),
            AggArg::Period(x) => x.fmt(f),
        }
    }
}

impl fmt::Display for Aggregate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({}", self.func.name(), self.target)?;
        for arg in &self.args {
            write!(f, ", {arg}")?;
        }
        f.write_char(')')
    }
}

fn is_atom(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Number { .. }
            | ExprKind::Bool { .. }
            | ExprKind::Call { .. }
            | ExprKind::Aggregate(_)
    )
}

fn write_paren(f: &mut fmt::Formatter<'_>, e: &Expr, paren: bool) -> fmt::Result {
    if paren {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl fmt::Display for Expr {
    /// The canonical text: single spaces around binary operators, `, ` between
    /// arguments, and only the parentheses the precedence needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Number { value } => write_number(f, *value),
            ExprKind::Bool { value } => write!(f, "{value}"),
            ExprKind::Neg { expr } => {
                f.write_char('-')?;
                let paren = !(is_atom(expr) || matches!(expr.kind, ExprKind::Neg { .. }));
                write_paren(f, expr, paren)
            }
            ExprKind::Not { expr } => {
                f.write_str("not ")?;
                let paren = match &expr.kind {
                    ExprKind::Binary { op, .. } => op.precedence() <= NOT_PRECEDENCE,
                    _ => false,
                };
                write_paren(f, expr, paren)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let p = op.precedence();
                let needs = |child: &Expr, right: bool| match &child.kind {
                    ExprKind::Binary { op: c, .. } => {
                        let cp = c.precedence();
                        // Left-associative; comparisons do not chain at all.
                        cp < p || (cp == p && (right || op.is_comparison()))
                    }
                    // `not` reaches over everything tighter than `and`.
                    ExprKind::Not { .. } => p > NOT_PRECEDENCE,
                    _ => false,
                };
                write_paren(f, lhs, needs(lhs, false))?;
                write!(f, " {} ", op.symbol())?;
                write_paren(f, rhs, needs(rhs, true))
            }
            ExprKind::Call { func, args } => {
                write!(f, "{}(", func.name())?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_char(')')
            }
            ExprKind::Aggregate(agg) => agg.fmt(f),
        }
    }
}

/// The canonical text of an expression (same as `expr.to_string()`).
pub fn print(expr: &Expr) -> String {
    expr.to_string()
}
