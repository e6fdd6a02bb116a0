//! The indicator (指标) expression language of xiangzhi.
//!
//! Indicators are defined as data, as short expressions over primitive aggregates:
//!
//! ```text
//! count_households(enrollment, program = "min_living", became_active in period)
//! sum(payout.amount, program = "temporary_relief", kind = "cash", paid in period)
//! ratio(value("GRAIN_AREA") - prev_year(value("GRAIN_AREA")), prev_year(value("GRAIN_AREA")))
//! ```
//!
//! [`parse`] turns text into an [`Expr`]; [`check`] resolves names against a
//! caller-supplied [`Schema`] and types the expression, giving a [`Checked`] with the
//! deduplicated [`Primitive`]s a query engine computes and a [`Plan`] that
//! [`evaluate`] runs over their answers. Missing data and division by zero give
//! [`Value::Missing`], never 0. [`Display`] formats results in report units (万亩, 万元).
//!
//! The crate is pure: no I/O, no async. Errors are in Chinese and point at the
//! offending character ([`Error::diagnose`]). Input is limited to [`MAX_LEN`] bytes
//! and [`MAX_NESTING`] levels of nesting, so hostile text cannot exhaust the stack.
//!
//! # Grammar
//!
//! ```text
//! expr      = or
//! or        = and { "or" and }
//! and       = not { "and" not }
//! not       = "not" not | cmp
//! cmp       = sum [ ("=" | "!=" | "<" | "<=" | ">" | ">=") sum ]     (no chaining)
//! sum       = product { ("+" | "-") product }
//! product   = unary { ("*" | "/") unary }
//! unary     = "-" unary | primary
//! primary   = number | "true" | "false" | "(" expr ")" | call | aggregate
//! call      = func "(" [ expr { "," expr } ] ")"
//! func      = if | round | abs | min | max | coalesce | ratio
//!           | prev_year | prev_period | yuan | wan_yuan
//! aggregate = "value" "(" string { "," period } ")"
//!           | agg "(" source [ "." name ] { "," ( filter | period ) } ")"
//! agg       = count | count_persons | count_households | sum | avg | min | max | last
//! source    = name | "ledger" "(" string ")"
//! filter    = name ( "=" | "!=" | "<" | "<=" | ">" | ">=" ) literal
//!           | name [ "not" ] "in" "[" literal { "," literal } "]"
//! period    = [ name ] "in" ( "period" | "ytd" ) | "at" "end"
//! literal   = string | [ "-" ] number | "true" | "false"
//!           | ("yuan" | "wan_yuan") "(" [ "-" ] number ")"
//! ```
//!
//! `min(…)`/`max(…)` are aggregates when their first argument is a source
//! (`min(ledger("X").f)`, `max(payout.amount, …)`), scalar functions otherwise.
//! Names are ASCII (`[A-Za-z_][A-Za-z0-9_]*`, keywords `and or not in at true false`
//! reserved); strings are double-quoted, may hold Chinese, and know `\" \\ \n \t \r`.
//!
//! # Periods
//!
//! An aggregate is computed for the figure's org unit (with its subtree) and period.
//! `d in period` keeps records whose date field `d` falls in the period, `d in ytd`
//! from 1 January to the period's end, `at end` the records valid at the period's end
//! (active enrollments, 期末面积). Without a field, `in period` uses the source's date
//! field; without any clause, the source's default applies (the [`Schema`] says which:
//! e.g. `enrollment` defaults to `at end`, `payout` to `paid in period`; a data
//! element aggregated as `last` defaults to `at end`). The checker writes the resolved
//! period into each [`Primitive`], so `count(case, kind = "dispute")` and
//! `count(case, registered in period, kind in ["dispute"])` are the same query.
//! `prev_year(e)` / `prev_period(e)` move every aggregate inside `e` back.
//!
//! # Types
//!
//! Number (plain quantity), Money (fen), Count, Percent (points), Bool. `+ -` and
//! comparisons need the same type, except that a plain number mixes with a count or a
//! percentage; money never mixes with a plain number (`sum(payout.amount) > 10000`
//! is refused: write `wan_yuan(1)`). `count × money` is money, `money / count` is money
//! per head, `x / x` is a plain number, `ratio(a, b)` is a percentage. Money and counts
//! are never added.
//!
//! # Example
//!
//! ```
//! use xiangzhi_expr::{compile, evaluate, DataAggregation, DataElementDef, Display, Schema, Type};
//!
//! let schema = Schema::new().data_element(DataElementDef::new(
//!     "GRAIN_AREA", "粮食种植面积", Type::Number, DataAggregation::Sum,
//! ));
//! let yoy = compile(
//!     r#"ratio(value("GRAIN_AREA") - prev_year(value("GRAIN_AREA")), prev_year(value("GRAIN_AREA")))"#,
//!     &schema,
//! )
//! .unwrap();
//! assert_eq!(yoy.result_type, Type::Percent);
//! assert_eq!(yoy.primitives.len(), 2); // this year and last year, each queried once
//!
//! let answers = |p: &xiangzhi_expr::Primitive| Some(if p.shift.years_back == 1 { 36_000.0 } else { 37_600.0 });
//! let growth = evaluate(&yoy, &answers);
//! assert_eq!(Display::percent(2).format_with_unit(&growth), "4.44%");
//!
//! // No data last year: the growth is missing, not 0.
//! let growth = evaluate(&yoy, &|p| (p.shift.years_back == 0).then_some(37_600.0));
//! assert!(growth.is_missing());
//!
//! let err = compile(r#"value("GRAIN_AERA")"#, &schema).unwrap_err();
//! assert_eq!(err.message, "未知的统计数据项“GRAIN_AERA”，是否想写“GRAIN_AREA”？");
//! ```

mod ast;
mod check;
mod diag;
mod display;
mod eval;
mod parse;
mod schema;
mod suggest;
mod types;

pub use ast::{
    AggArg, AggFunc, Aggregate, BinOp, Expr, ExprKind, Filter, FilterOp, Func, Literal,
    LiteralValue, MoneyUnit, Name, PeriodClause, PeriodKind, SourceRef, Target, print,
};
pub use check::{
    Checked, FilterValue, PeriodShift, PeriodSpec, Plan, Primitive, PrimitiveFilter,
    PrimitiveSource, check,
};
pub use diag::{Diagnostic, Error, ErrorKind, Span};
pub use display::{Display, MISSING, round_decimal};
pub use eval::{Missing, Value, eval, evaluate};
pub use parse::{KEYWORDS, MAX_LEN, MAX_NESTING, MAX_TREE_DEPTH, parse};
pub use schema::{
    DataAggregation, DataElementDef, FieldDef, FieldType, Schema, SourceDef, SourceKey,
};
pub use suggest::{edit_distance, suggest};
pub use types::Type;

/// Parse and check `src` in one step, with the error as a positioned [`Diagnostic`].
pub fn compile(src: &str, schema: &Schema) -> Result<Checked, Diagnostic> {
    let expr = parse(src).map_err(|e| e.diagnose(src))?;
    check(&expr, schema).map_err(|e| e.diagnose(src))
}
