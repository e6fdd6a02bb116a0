//! Evaluation of a checked expression, given the answers to its primitives. Missing
//! inputs and division by zero give [`Value::Missing`], never 0.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ast::BinOp;
use crate::check::{Checked, Plan, Primitive};

/// A computed figure. Money is in fen, Percent in points (100 = 100%).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Value {
    Number { value: f64 },
    Bool { value: bool },
    Missing { reason: Missing },
}

/// Why a figure could not be computed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Missing {
    /// The engine had no data for this primitive (printed in canonical form).
    #[error("缺少数据：{primitive}")]
    NoData { primitive: String },
    #[error("除数为零")]
    DivisionByZero,
    #[error("结果超出数值范围")]
    OutOfRange,
    /// A plan that was not produced by the checker combined values of the wrong kind.
    #[error("计划中的类型不一致")]
    Invalid,
}

impl Value {
    pub fn number(value: f64) -> Value {
        if value.is_finite() {
            Value::Number { value }
        } else {
            Value::missing(Missing::OutOfRange)
        }
    }

    pub fn missing(reason: Missing) -> Value {
        Value::Missing { reason }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number { value } => Some(*value),
            _ => None,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Value::Missing { .. })
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number { value } => write!(f, "{value}"),
            Value::Bool { value } => f.write_str(if *value { "是" } else { "否" }),
            Value::Missing { reason } => write!(f, "缺失（{reason}）"),
        }
    }
}

/// Evaluate `checked`. `answers` is asked once for each primitive, in order, and returns
/// its value in the primitive's unit (fen for Money), or `None` when there is no data.
/// A non-finite answer counts as missing.
pub fn evaluate(checked: &Checked, answers: &dyn Fn(&Primitive) -> Option<f64>) -> Value {
    let inputs: Vec<Value> = checked
        .primitives
        .iter()
        .map(|p| match answers(p) {
            Some(v) if v.is_finite() => Value::Number { value: v },
            _ => Value::missing(Missing::NoData {
                primitive: p.to_string(),
            }),
        })
        .collect();
    eval(&checked.plan, &inputs)
}

/// Evaluate a plan against the primitives' values (`inputs[i]` answers
/// `Plan::Primitive { index: i }`).
pub fn eval(plan: &Plan, inputs: &[Value]) -> Value {
    match plan {
        Plan::Number { value } => Value::number(*value),
        Plan::Bool { value } => Value::Bool { value: *value },
        Plan::Primitive { index } => inputs
            .get(*index)
            .cloned()
            .unwrap_or(Value::missing(Missing::Invalid)),
        Plan::Neg { expr } => num1(eval(expr, inputs), |x| -x),
        Plan::Abs { expr } => num1(eval(expr, inputs), f64::abs),
        Plan::Round { expr, digits } => num1(eval(expr, inputs), |x| round(x, *digits)),
        Plan::Not { expr } => match eval(expr, inputs) {
            Value::Bool { value } => Value::Bool { value: !value },
            Value::Number { .. } => Value::missing(Missing::Invalid),
            m => m,
        },
        Plan::Binary { op, lhs, rhs } => binary(*op, lhs, rhs, inputs),
        Plan::If {
            cond,
            then,
            otherwise,
        } => match eval(cond, inputs) {
            Value::Bool { value: true } => eval(then, inputs),
            Value::Bool { value: false } => eval(otherwise, inputs),
            Value::Number { .. } => Value::missing(Missing::Invalid),
            m => m,
        },
        Plan::Min { args } => fold(args, inputs, f64::min),
        Plan::Max { args } => fold(args, inputs, f64::max),
        Plan::Coalesce { args } => {
            let mut last = Value::missing(Missing::Invalid);
            for a in args {
                last = eval(a, inputs);
                if !last.is_missing() {
                    break;
                }
            }
            last
        }
        Plan::Ratio { num, den } => num2(eval(num, inputs), eval(den, inputs), |a, b| {
            if b == 0.0 {
                Value::missing(Missing::DivisionByZero)
            } else {
                Value::number(a / b * 100.0)
            }
        }),
    }
}

/// Half away from zero at `digits` decimals, on the decimal reading of `x`
/// (so 2.675 rounds to 2.68, as a person would).
fn round(x: f64, digits: u32) -> f64 {
    let text = crate::display::round_decimal(x, digits);
    text.parse().unwrap_or(x)
}

fn num1(v: Value, f: impl Fn(f64) -> f64) -> Value {
    match v {
        Value::Number { value } => Value::number(f(value)),
        Value::Bool { .. } => Value::missing(Missing::Invalid),
        m => m,
    }
}

fn num2(a: Value, b: Value, f: impl Fn(f64, f64) -> Value) -> Value {
    match (a, b) {
        (Value::Number { value: a }, Value::Number { value: b }) => f(a, b),
        (m @ Value::Missing { .. }, _) | (_, m @ Value::Missing { .. }) => m,
        _ => Value::missing(Missing::Invalid),
    }
}

fn fold(args: &[Plan], inputs: &[Value], f: fn(f64, f64) -> f64) -> Value {
    let mut acc: Option<f64> = None;
    for a in args {
        match eval(a, inputs) {
            Value::Number { value } => acc = Some(acc.map_or(value, |x| f(x, value))),
            Value::Bool { .. } => return Value::missing(Missing::Invalid),
            m => return m,
        }
    }
    acc.map_or(Value::missing(Missing::Invalid), Value::number)
}

fn binary(op: BinOp, lhs: &Plan, rhs: &Plan, inputs: &[Value]) -> Value {
    match op {
        BinOp::And | BinOp::Or => {
            // Three-valued: `false and missing` is false, `true or missing` is true.
            let decisive = op == BinOp::Or;
            let l = eval(lhs, inputs);
            if l == (Value::Bool { value: decisive }) {
                return l;
            }
            let r = eval(rhs, inputs);
            match (l, r) {
                (_, r @ Value::Bool { value }) if value == decisive => r,
                (Value::Bool { .. }, r @ Value::Bool { .. }) => r,
                (m @ Value::Missing { .. }, Value::Bool { .. }) => m,
                (Value::Bool { .. }, m @ Value::Missing { .. }) => m,
                (m @ Value::Missing { .. }, Value::Missing { .. }) => m,
                _ => Value::missing(Missing::Invalid),
            }
        }
        BinOp::Eq | BinOp::Ne => {
            let (l, r) = (eval(lhs, inputs), eval(rhs, inputs));
            let equal = match (&l, &r) {
                (Value::Number { value: a }, Value::Number { value: b }) => a == b,
                (Value::Bool { value: a }, Value::Bool { value: b }) => a == b,
                (Value::Missing { .. }, _) => return l,
                (_, Value::Missing { .. }) => return r,
                _ => return Value::missing(Missing::Invalid),
            };
            Value::Bool {
                value: equal == (op == BinOp::Eq),
            }
        }
        _ => num2(eval(lhs, inputs), eval(rhs, inputs), |a, b| match op {
            BinOp::Add => Value::number(a + b),
            BinOp::Sub => Value::number(a - b),
            BinOp::Mul => Value::number(a * b),
            BinOp::Div if b == 0.0 => Value::missing(Missing::DivisionByZero),
            BinOp::Div => Value::number(a / b),
            BinOp::Lt => Value::Bool { value: a < b },
            BinOp::Le => Value::Bool { value: a <= b },
            BinOp::Gt => Value::Bool { value: a > b },
            BinOp::Ge => Value::Bool { value: a >= b },
            _ => Value::missing(Missing::Invalid),
        }),
    }
}
