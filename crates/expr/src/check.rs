//! Name resolution and type checking: a parsed [`Expr`] and a [`Schema`] give a
//! [`Checked`] expression, i.e. the result type, the deduplicated primitive aggregates
//! the engine has to compute, and a [`Plan`] to combine their answers.

use std::fmt::{self, Write as _};

use serde::{Deserialize, Serialize};

use crate::ast::{
    AggArg, AggFunc, Aggregate, BinOp, Expr, ExprKind, FilterOp, Func, LiteralValue, PeriodClause,
    PeriodKind, SourceRef, Target, write_number, write_string,
};
use crate::diag::{Error, ErrorKind, Span};
use crate::parse::MAX_TREE_DEPTH;
use crate::schema::{DataAggregation, FieldDef, FieldType, Schema, SourceDef, SourceKey};
use crate::suggest::suggest;
use crate::types::Type;

/// A type-checked expression, ready for the engine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checked {
    pub ast: Expr,
    pub result_type: Type,
    /// Every distinct aggregate the expression needs, in order of first use.
    pub primitives: Vec<Primitive>,
    /// How to combine the primitives' answers; `Plan::Primitive(i)` refers to
    /// `primitives[i]`.
    pub plan: Plan,
}

/// What an aggregate reads.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum PrimitiveSource {
    DataElement(String),
    Record(String),
    Ledger(String),
}

impl From<&SourceKey> for PrimitiveSource {
    fn from(key: &SourceKey) -> Self {
        match key {
            SourceKey::Record(n) => PrimitiveSource::Record(n.clone()),
            SourceKey::Ledger(c) => PrimitiveSource::Ledger(c.clone()),
        }
    }
}

/// A constant in a canonical filter. Money is in fen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum FilterValue {
    Text(String),
    Number(f64),
    Bool(bool),
    Money(f64),
}

impl fmt::Display for FilterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterValue::Text(s) => write_string(f, s),
            FilterValue::Number(n) => write_number(f, *n),
            FilterValue::Bool(b) => write!(f, "{b}"),
            FilterValue::Money(fen) => {
                f.write_str("yuan(")?;
                write_number(f, fen / 100.0)?;
                f.write_char(')')
            }
        }
    }
}

/// `field op values` in canonical form: `in [x]` becomes `= x`, lists are sorted and
/// deduplicated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrimitiveFilter {
    pub field: String,
    pub op: FilterOp,
    pub values: Vec<FilterValue>,
}

impl fmt::Display for PrimitiveFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.field, self.op.symbol())?;
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
                None => Ok(()),
            }
        }
    }
}

/// Which records (or which value) count for the figure's period.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeriodSpec {
    pub kind: PeriodKind,
    /// The date field the window applies to (`None` for data elements and `at end`).
    pub date_field: Option<String>,
}

impl fmt::Display for PeriodSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(field) = &self.date_field {
            write!(f, "{field} ")?;
        }
        f.write_str(match self.kind {
            PeriodKind::InPeriod => "in period",
            PeriodKind::InYtd => "in ytd",
            PeriodKind::AtEnd => "at end",
        })
    }
}

/// How far back the figure's period is moved: `prev_year` and `prev_period` commute,
/// so two counters describe any nesting of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PeriodShift {
    pub years_back: u32,
    pub periods_back: u32,
}

/// The canonical description of one aggregate the engine computes. Its `Display` is
/// itself an expression in the language, e.g.
/// `prev_year(sum(payout.amount, program = "temporary_relief", paid in period))`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Primitive {
    pub source: PrimitiveSource,
    pub aggregation: AggFunc,
    pub field: Option<String>,
    pub filters: Vec<PrimitiveFilter>,
    pub period: PeriodSpec,
    pub shift: PeriodShift,
    /// The type of the answer: Money answers are in fen, Percent in points.
    pub value_type: Type,
}

impl fmt::Display for Primitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for _ in 0..self.shift.years_back {
            f.write_str("prev_year(")?;
        }
        for _ in 0..self.shift.periods_back {
            f.write_str("prev_period(")?;
        }
        write!(f, "{}(", self.aggregation.name())?;
        match &self.source {
            PrimitiveSource::DataElement(code) => write_string(f, code)?,
            PrimitiveSource::Record(name) => f.write_str(name)?,
            PrimitiveSource::Ledger(code) => {
                f.write_str("ledger(")?;
                write_string(f, code)?;
                f.write_char(')')?;
            }
        }
        if let Some(field) = &self.field {
            write!(f, ".{field}")?;
        }
        for filter in &self.filters {
            write!(f, ", {filter}")?;
        }
        write!(f, ", {})", self.period)?;
        for _ in 0..self.shift.years_back + self.shift.periods_back {
            f.write_char(')')?;
        }
        Ok(())
    }
}

/// The executable form of an expression: literals, primitive answers and operators.
/// Period shifts and unit conversions are already resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum Plan {
    Number {
        value: f64,
    },
    Bool {
        value: bool,
    },
    Primitive {
        index: usize,
    },
    Neg {
        expr: Box<Plan>,
    },
    Not {
        expr: Box<Plan>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Plan>,
        rhs: Box<Plan>,
    },
    If {
        cond: Box<Plan>,
        then: Box<Plan>,
        otherwise: Box<Plan>,
    },
    Round {
        expr: Box<Plan>,
        digits: u32,
    },
    Abs {
        expr: Box<Plan>,
    },
    Min {
        args: Vec<Plan>,
    },
    Max {
        args: Vec<Plan>,
    },
    Coalesce {
        args: Vec<Plan>,
    },
    /// a / b × 100
    Ratio {
        num: Box<Plan>,
        den: Box<Plan>,
    },
}

/// Check `expr` against `schema`. The first error found is returned.
pub fn check(expr: &Expr, schema: &Schema) -> Result<Checked, Error> {
    if expr.depth() > MAX_TREE_DEPTH {
        return Err(Error::new(
            ErrorKind::TooDeep {
                max: MAX_TREE_DEPTH,
            },
            expr.span,
        ));
    }
    let mut c = Checker {
        schema,
        primitives: Vec::new(),
        shift: PeriodShift::default(),
    };
    let (plan, result_type) = c.expr(expr)?;
    Ok(Checked {
        ast: expr.clone(),
        result_type,
        primitives: c.primitives,
        plan,
    })
}

struct Checker<'s> {
    schema: &'s Schema,
    primitives: Vec<Primitive>,
    shift: PeriodShift,
}

fn mismatch(op: &str, left: Type, right: Type, span: Span) -> Error {
    Error::new(
        ErrorKind::Mismatch {
            op: op.into(),
            left,
            right,
        },
        span,
    )
}

fn expected(what: &str, expected: &str, found: Type, span: Span) -> Error {
    Error::new(
        ErrorKind::TypeExpected {
            what: what.into(),
            expected: expected.into(),
            found,
        },
        span,
    )
}

/// The common type of two values that are added, compared or chosen between: the same
/// type, or a plain number with a count or a percentage. Money never mixes with a plain
/// number (write `yuan(…)`), Bool only with Bool.
fn unify(op: &str, l: Type, r: Type, span: Span) -> Result<Type, Error> {
    use Type::*;
    match (l, r) {
        _ if l == r => Ok(l),
        (Number, Count | Percent) => Ok(r),
        (Count | Percent, Number) => Ok(l),
        (Money, Number) | (Number, Money) => Err(Error::new(
            ErrorKind::MoneyNeedsUnit { op: op.into() },
            span,
        )),
        _ => Err(mismatch(op, l, r, span)),
    }
}

fn arity(func: &str, expected: &str, found: usize, span: Span) -> Error {
    Error::new(
        ErrorKind::Arity {
            func: func.into(),
            expected: expected.into(),
            found,
        },
        span,
    )
}

impl Checker<'_> {
    fn numeric(&mut self, e: &Expr, what: &str) -> Result<(Plan, Type), Error> {
        let (p, t) = self.expr(e)?;
        if !t.is_numeric() {
            return Err(expected(what, "数值", t, e.span));
        }
        Ok((p, t))
    }

    fn boolean(&mut self, e: &Expr, what: &str) -> Result<Plan, Error> {
        let (p, t) = self.expr(e)?;
        if t != Type::Bool {
            return Err(expected(what, "真假值（比较的结果）", t, e.span));
        }
        Ok(p)
    }

    fn expr(&mut self, e: &Expr) -> Result<(Plan, Type), Error> {
        match &e.kind {
            ExprKind::Number { value } => Ok((Plan::Number { value: *value }, Type::Number)),
            ExprKind::Bool { value } => Ok((Plan::Bool { value: *value }, Type::Bool)),
            ExprKind::Neg { expr } => {
                let (p, t) = self.numeric(expr, "“-”后面")?;
                Ok((Plan::Neg { expr: Box::new(p) }, t))
            }
            ExprKind::Not { expr } => {
                let p = self.boolean(expr, "“not”后面")?;
                Ok((Plan::Not { expr: Box::new(p) }, Type::Bool))
            }
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span),
            ExprKind::Call { func, args } => self.call(*func, args, e.span),
            ExprKind::Aggregate(agg) => self.aggregate(agg, e.span),
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        span: Span,
    ) -> Result<(Plan, Type), Error> {
        use Type::*;
        let sym = op.symbol();
        let (lp, lt) = self.expr(lhs)?;
        let (rp, rt) = self.expr(rhs)?;
        let ty = match op {
            BinOp::And | BinOp::Or => {
                if lt != Bool {
                    return Err(expected(&format!("“{sym}”的左边"), "真假值", lt, lhs.span));
                }
                if rt != Bool {
                    return Err(expected(&format!("“{sym}”的右边"), "真假值", rt, rhs.span));
                }
                Bool
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let common = unify(sym, lt, rt, span)?;
                if common == Bool && !matches!(op, BinOp::Eq | BinOp::Ne) {
                    return Err(mismatch(sym, lt, rt, span));
                }
                Bool
            }
            BinOp::Add | BinOp::Sub => {
                if lt == Bool || rt == Bool {
                    return Err(mismatch(sym, lt, rt, span));
                }
                unify(sym, lt, rt, span)?
            }
            BinOp::Mul => match (lt, rt) {
                (Number, t) | (t, Number) if t != Bool => t,
                (Count, Count) => Count,
                (Count, Money) | (Money, Count) => Money,
                _ => return Err(mismatch(sym, lt, rt, span)),
            },
            BinOp::Div => match (lt, rt) {
                (t, Number) if t != Bool => t,
                (l, r) if l == r && l != Bool => Number,
                (Money, Count) => Money,
                (Number, Count | Percent) => Number,
                _ => return Err(mismatch(sym, lt, rt, span)),
            },
        };
        Ok((
            Plan::Binary {
                op,
                lhs: Box::new(lp),
                rhs: Box::new(rp),
            },
            ty,
        ))
    }

    fn call(&mut self, func: Func, args: &[Expr], span: Span) -> Result<(Plan, Type), Error> {
        let name = func.name();
        let exactly = |n: usize| -> Result<(), Error> {
            if args.len() == n {
                Ok(())
            } else {
                Err(arity(name, &n.to_string(), args.len(), span))
            }
        };
        match func {
            Func::If => {
                exactly(3)?;
                let cond = self.boolean(&args[0], "if 的条件")?;
                let (a, at) = self.expr(&args[1])?;
                let (b, bt) = self.expr(&args[2])?;
                let t = unify("if", at, bt, args[1].span.to(args[2].span))?;
                Ok((
                    Plan::If {
                        cond: Box::new(cond),
                        then: Box::new(a),
                        otherwise: Box::new(b),
                    },
                    t,
                ))
            }
            Func::Round => {
                if !(1..=2).contains(&args.len()) {
                    return Err(arity(name, "1 或 2", args.len(), span));
                }
                let (x, t) = self.numeric(&args[0], "round 的第一个参数")?;
                let digits = match args.get(1).map(|a| &a.kind) {
                    None => 0,
                    Some(ExprKind::Number { value })
                        if value.fract() == 0.0 && (0.0..=10.0).contains(value) =>
                    {
                        *value as u32
                    }
                    Some(_) => return Err(Error::new(ErrorKind::RoundDigits, args[1].span)),
                };
                Ok((
                    Plan::Round {
                        expr: Box::new(x),
                        digits,
                    },
                    t,
                ))
            }
            Func::Abs => {
                exactly(1)?;
                let (x, t) = self.numeric(&args[0], "abs 的参数")?;
                Ok((Plan::Abs { expr: Box::new(x) }, t))
            }
            Func::Min | Func::Max | Func::Coalesce => {
                if args.len() < 2 {
                    return Err(arity(name, "至少 2", args.len(), span));
                }
                let mut plans = Vec::with_capacity(args.len());
                let mut ty: Option<Type> = None;
                for a in args {
                    let (p, t) = if func == Func::Coalesce {
                        self.expr(a)?
                    } else {
                        self.numeric(a, &format!("{name} 的参数"))?
                    };
                    ty = Some(match ty {
                        None => t,
                        Some(prev) => unify(name, prev, t, a.span)?,
                    });
                    plans.push(p);
                }
                let ty = ty.unwrap_or(Type::Number);
                let plan = match func {
                    Func::Min => Plan::Min { args: plans },
                    Func::Max => Plan::Max { args: plans },
                    _ => Plan::Coalesce { args: plans },
                };
                Ok((plan, ty))
            }
            Func::Ratio => {
                exactly(2)?;
                let (a, at) = self.numeric(&args[0], "ratio 的分子")?;
                let (b, bt) = self.numeric(&args[1], "ratio 的分母")?;
                unify("ratio", at, bt, span)?;
                Ok((
                    Plan::Ratio {
                        num: Box::new(a),
                        den: Box::new(b),
                    },
                    Type::Percent,
                ))
            }
            Func::PrevYear | Func::PrevPeriod => {
                exactly(1)?;
                let saved = self.shift;
                if func == Func::PrevYear {
                    self.shift.years_back += 1;
                } else {
                    self.shift.periods_back += 1;
                }
                let r = self.expr(&args[0]);
                self.shift = saved;
                r
            }
            Func::Yuan | Func::WanYuan => {
                exactly(1)?;
                let (x, t) = self.expr(&args[0])?;
                if t != Type::Number {
                    return Err(expected(
                        &format!("{name} 的参数"),
                        "无单位的数值",
                        t,
                        args[0].span,
                    ));
                }
                let fen = if func == Func::Yuan {
                    100.0
                } else {
                    1_000_000.0
                };
                Ok((
                    Plan::Binary {
                        op: BinOp::Mul,
                        lhs: Box::new(x),
                        rhs: Box::new(Plan::Number { value: fen }),
                    },
                    Type::Money,
                ))
            }
        }
    }

    fn intern(&mut self, p: Primitive) -> Plan {
        let index = match self.primitives.iter().position(|q| *q == p) {
            Some(i) => i,
            None => {
                self.primitives.push(p);
                self.primitives.len() - 1
            }
        };
        Plan::Primitive { index }
    }

    fn aggregate(&mut self, agg: &Aggregate, span: Span) -> Result<(Plan, Type), Error> {
        let primitive = match &agg.target {
            Target::DataElement { code } => self.data_element(agg, &code.text, code.span)?,
            Target::Source { source, field } => {
                self.record_aggregate(agg, source, field.as_ref(), span)?
            }
        };
        let ty = primitive.value_type;
        Ok((self.intern(primitive), ty))
    }

    fn data_element(&self, agg: &Aggregate, code: &str, span: Span) -> Result<Primitive, Error> {
        let Some(de) = self.schema.find_data_element(code) else {
            let suggestion = suggest(
                code,
                self.schema.data_elements.iter().map(|d| d.code.as_str()),
            );
            return Err(Error::new(
                ErrorKind::UnknownDataElement {
                    code: code.into(),
                    suggestion,
                },
                span,
            ));
        };
        let mut period: Option<&PeriodClause> = None;
        for arg in &agg.args {
            match arg {
                AggArg::Filter(f) => {
                    return Err(Error::new(ErrorKind::FilterOnDataElement, f.span));
                }
                AggArg::Period(p) => {
                    if let Some(field) = &p.field {
                        return Err(Error::new(ErrorKind::DateFieldOnDataElement, field.span));
                    }
                    if period.is_some() {
                        return Err(Error::new(ErrorKind::DuplicatePeriod, p.span));
                    }
                    period = Some(p);
                }
            }
        }
        let kind = match period {
            Some(p) => p.kind,
            None if de.aggregation == DataAggregation::Last => PeriodKind::AtEnd,
            None => PeriodKind::InPeriod,
        };
        Ok(Primitive {
            source: PrimitiveSource::DataElement(de.code.clone()),
            aggregation: AggFunc::Value,
            field: None,
            filters: Vec::new(),
            period: PeriodSpec {
                kind,
                date_field: None,
            },
            shift: self.shift,
            value_type: de.ty,
        })
    }

    fn find_source(&self, source: &SourceRef) -> Result<&SourceDef, Error> {
        let (key, text, span) = match source {
            SourceRef::Named { name } => {
                (SourceKey::Record(name.text.clone()), &name.text, name.span)
            }
            SourceRef::Ledger { code } => {
                (SourceKey::Ledger(code.text.clone()), &code.text, code.span)
            }
        };
        if let Some(def) = self.schema.find_source(&key) {
            return Ok(def);
        }
        let ledger = matches!(key, SourceKey::Ledger(_));
        let names: Vec<&str> = self
            .schema
            .sources
            .iter()
            .filter_map(|s| match (&s.key, ledger) {
                (SourceKey::Record(n), false) | (SourceKey::Ledger(n), true) => Some(n.as_str()),
                _ => None,
            })
            .collect();
        let suggestion = suggest(text, names.iter().copied());
        let kind = if ledger {
            ErrorKind::UnknownLedger {
                code: text.clone(),
                suggestion,
            }
        } else {
            ErrorKind::UnknownSource {
                name: text.clone(),
                suggestion,
                available: names.iter().map(|s| (*s).to_owned()).collect(),
            }
        };
        Err(Error::new(kind, span))
    }

    fn find_field<'d>(
        &self,
        def: &'d SourceDef,
        name: &str,
        span: Span,
    ) -> Result<&'d FieldDef, Error> {
        def.find_field(name).ok_or_else(|| {
            let names = def.fields.iter().map(|f| f.name.as_str());
            Error::new(
                ErrorKind::UnknownField {
                    source_label: def.written(),
                    name: name.into(),
                    suggestion: suggest(name, names.clone()),
                    available: names.map(str::to_owned).collect(),
                },
                span,
            )
        })
    }

    fn record_aggregate(
        &self,
        agg: &Aggregate,
        source: &SourceRef,
        field: Option<&crate::ast::Name>,
        span: Span,
    ) -> Result<Primitive, Error> {
        let def = self.find_source(source)?;
        let func = agg.func.name();
        let (field, value_type) = if agg.func.counts() {
            if let Some(f) = field {
                return Err(Error::new(
                    ErrorKind::FieldNotAllowed {
                        func: func.into(),
                        source_name: def.written(),
                    },
                    f.span,
                ));
            }
            let link = match agg.func {
                AggFunc::CountPersons if !def.persons => Some("人员"),
                AggFunc::CountHouseholds if !def.households => Some("户"),
                _ => None,
            };
            if let Some(what) = link {
                return Err(Error::new(
                    ErrorKind::NoLink {
                        func: func.into(),
                        source_label: def.written(),
                        what: what.into(),
                    },
                    source.span(),
                ));
            }
            (None, Type::Count)
        } else {
            let Some(name) = field else {
                return Err(Error::new(
                    ErrorKind::FieldRequired { func: func.into() },
                    source.span(),
                ));
            };
            let fd = self.find_field(def, &name.text, name.span)?;
            let q = fd.ty.quantity();
            let ty = match (agg.func, q) {
                (AggFunc::Sum, Some(Type::Percent)) | (_, None) => None,
                (AggFunc::Avg, Some(Type::Count)) => Some(Type::Number),
                (_, q) => q,
            };
            let Some(ty) = ty else {
                return Err(Error::new(
                    ErrorKind::NotAggregatable {
                        func: func.into(),
                        field: name.text.clone(),
                        field_type: fd.ty.label().into(),
                    },
                    name.span,
                ));
            };
            (Some(name.text.clone()), ty)
        };

        let mut filters = Vec::new();
        let mut period: Option<&PeriodClause> = None;
        for arg in &agg.args {
            match arg {
                AggArg::Filter(f) => {
                    let fd = self.find_field(def, &f.field.text, f.field.span)?;
                    filters.push(self.filter(f, fd)?);
                }
                AggArg::Period(p) => {
                    if period.is_some() {
                        return Err(Error::new(ErrorKind::DuplicatePeriod, p.span));
                    }
                    period = Some(p);
                }
            }
        }
        let period = self.period(def, period, span)?;

        // Canonical order, exact duplicates dropped.
        filters.sort_by_cached_key(|f: &PrimitiveFilter| f.to_string());
        filters.dedup();
        Ok(Primitive {
            source: PrimitiveSource::from(&def.key),
            aggregation: agg.func,
            field,
            filters,
            period,
            shift: self.shift,
            value_type,
        })
    }

    fn period(
        &self,
        def: &SourceDef,
        clause: Option<&PeriodClause>,
        span: Span,
    ) -> Result<PeriodSpec, Error> {
        let (kind, field, at) = match clause {
            Some(p) => (p.kind, p.field.as_ref(), p.span),
            None => match def.default_period {
                Some(kind) => (kind, None, span),
                None => {
                    return Err(Error::new(
                        ErrorKind::PeriodRequired {
                            source_label: def.written(),
                        },
                        span,
                    ));
                }
            },
        };
        if kind == PeriodKind::AtEnd {
            if !def.at_end {
                return Err(Error::new(
                    ErrorKind::AtEndUnsupported {
                        source_label: def.written(),
                    },
                    at,
                ));
            }
            return Ok(PeriodSpec {
                kind,
                date_field: None,
            });
        }
        let date_field = match field {
            Some(name) => {
                let fd = self.find_field(def, &name.text, name.span)?;
                if fd.ty != FieldType::Date {
                    return Err(Error::new(
                        ErrorKind::NotADate {
                            field: name.text.clone(),
                        },
                        name.span,
                    ));
                }
                name.text.clone()
            }
            None => match &def.date_field {
                Some(d) => d.clone(),
                None => {
                    return Err(Error::new(
                        ErrorKind::PeriodRequired {
                            source_label: def.written(),
                        },
                        at,
                    ));
                }
            },
        };
        Ok(PeriodSpec {
            kind,
            date_field: Some(date_field),
        })
    }

    fn filter(&self, f: &crate::ast::Filter, fd: &FieldDef) -> Result<PrimitiveFilter, Error> {
        let field = &f.field.text;
        let mismatch = |lit: &str, span: Span| {
            Error::new(
                ErrorKind::FilterMismatch {
                    field: field.clone(),
                    field_type: fd.ty.label().into(),
                    literal: lit.into(),
                },
                span,
            )
        };
        let ordered = match &fd.ty {
            FieldType::Date => {
                return Err(Error::new(
                    ErrorKind::DateInFilter {
                        field: field.clone(),
                    },
                    f.span,
                ));
            }
            FieldType::Code { .. } | FieldType::Text | FieldType::Bool => false,
            _ => true,
        };
        if f.op.is_ordering() && !ordered {
            return Err(Error::new(
                ErrorKind::NotOrdered {
                    field: field.clone(),
                    field_type: fd.ty.label().into(),
                },
                f.span,
            ));
        }
        if f.values.is_empty() {
            return Err(Error::new(ErrorKind::EmptyList, f.span));
        }
        let mut values = Vec::with_capacity(f.values.len());
        for lit in &f.values {
            let v = match (&fd.ty, &lit.value) {
                (FieldType::Code { values: allowed }, LiteralValue::Text(s)) => {
                    if !allowed.is_empty() && !allowed.contains(s) {
                        return Err(Error::new(
                            ErrorKind::UnknownValue {
                                field: field.clone(),
                                value: s.clone(),
                                suggestion: suggest(s, allowed.iter().map(String::as_str)),
                                available: allowed.clone(),
                            },
                            lit.span,
                        ));
                    }
                    FilterValue::Text(s.clone())
                }
                (FieldType::Text, LiteralValue::Text(s)) => FilterValue::Text(s.clone()),
                (FieldType::Bool, LiteralValue::Bool(b)) => FilterValue::Bool(*b),
                (FieldType::Money, LiteralValue::Money { amount, unit }) => {
                    FilterValue::Money(amount * unit.fen())
                }
                (FieldType::Money, LiteralValue::Number(_)) => {
                    return Err(Error::new(
                        ErrorKind::MoneyNeedsUnit {
                            op: f.op.symbol().into(),
                        },
                        lit.span,
                    ));
                }
                (
                    FieldType::Number | FieldType::Count | FieldType::Percent,
                    LiteralValue::Number(n),
                ) => FilterValue::Number(*n),
                (_, LiteralValue::Text(_)) => return Err(mismatch("文字", lit.span)),
                (_, LiteralValue::Number(_)) => return Err(mismatch("数值", lit.span)),
                (_, LiteralValue::Bool(_)) => return Err(mismatch("真假值", lit.span)),
                (_, LiteralValue::Money { .. }) => return Err(mismatch("金额", lit.span)),
            };
            values.push(v);
        }
        let mut op = f.op;
        if op.is_list() {
            values.sort_by_cached_key(|v| v.to_string());
            values.dedup();
            if values.len() == 1 {
                op = if op == FilterOp::In {
                    FilterOp::Eq
                } else {
                    FilterOp::Ne
                };
            }
        }
        Ok(PrimitiveFilter {
            field: field.clone(),
            op,
            values,
        })
    }
}
