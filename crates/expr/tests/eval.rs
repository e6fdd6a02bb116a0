//! Evaluation: Missing propagates, division by zero is Missing, never 0.

mod common;

use std::cell::RefCell;

use xiangzhi_expr::{Missing, Primitive, Value, compile, evaluate};

/// Evaluate with answers looked up by the primitive's data element code or field;
/// records which primitives were asked.
fn run(src: &str, answer: impl Fn(&str) -> Option<f64>) -> (Value, Vec<String>) {
    let checked = compile(src, &common::schema()).unwrap_or_else(|e| panic!("{e}"));
    let asked = RefCell::new(Vec::new());
    let f = |p: &Primitive| {
        let text = p.to_string();
        asked.borrow_mut().push(text.clone());
        answer(&text)
    };
    let v = evaluate(&checked, &f);
    (v, asked.into_inner())
}

fn value(src: &str, answer: impl Fn(&str) -> Option<f64>) -> Value {
    run(src, answer).0
}

fn num(v: f64) -> Value {
    Value::Number { value: v }
}

fn reason(v: Value) -> Missing {
    match v {
        Value::Missing { reason } => reason,
        other => panic!("expected missing, got {other:?}"),
    }
}

fn all(n: f64) -> impl Fn(&str) -> Option<f64> {
    move |_| Some(n)
}

fn none(_: &str) -> Option<f64> {
    None
}

const GRAIN: &str = r#"value("GRAIN_AREA")"#;

#[test]
fn arithmetic_and_functions() {
    assert_eq!(value("1 + 2 * 3 - 4 / 2", none), num(5.0));
    assert_eq!(value("-(1 - 3)", none), num(2.0));
    assert_eq!(value("round(2.675, 2)", none), num(2.68));
    assert_eq!(value("round(-2.5)", none), num(-3.0));
    assert_eq!(value("abs(0 - 3)", none), num(3.0));
    assert_eq!(value("min(3, 1, 2) + max(3, 1, 2)", none), num(4.0));
    assert_eq!(value("ratio(1, 4)", none), num(25.0));
    assert_eq!(value("if(1 < 2, 10, 20)", none), num(10.0));
    assert_eq!(value("yuan(21050)", none), num(2_105_000.0));
    assert_eq!(value("wan_yuan(2.105)", none), num(2_105_000.0));
    assert_eq!(
        value("not (1 = 2) and 2 >= 2", none),
        Value::Bool { value: true }
    );
}

#[test]
fn division_by_zero_is_missing() {
    assert_eq!(reason(value("1 / 0", none)), Missing::DivisionByZero);
    assert_eq!(reason(value("ratio(5, 0)", none)), Missing::DivisionByZero);
    assert_eq!(
        reason(value("ratio(5, 2 - 2) + 1", none)),
        Missing::DivisionByZero
    );
    // A figure divided by a count that is zero this period.
    let per_person = r#"sum(payout.amount, program = "temporary_relief")
                        / count_persons(payout, program = "temporary_relief")"#;
    assert_eq!(reason(value(per_person, all(0.0))), Missing::DivisionByZero);
    // 0 / n is a real zero.
    assert_eq!(value("ratio(0, 5)", none), num(0.0));
}

#[test]
fn missing_inputs_propagate() {
    let yoy = format!("ratio({GRAIN} - prev_year({GRAIN}), prev_year({GRAIN}))");
    let current_only = |p: &str| (!p.starts_with("prev_year")).then_some(37_600.0);
    match reason(value(&yoy, current_only)) {
        Missing::NoData { primitive } => {
            assert_eq!(primitive, r#"prev_year(value("GRAIN_AREA", in period))"#)
        }
        other => panic!("{other:?}"),
    }
    assert!(value(&format!("{GRAIN} * 0"), none).is_missing());
    assert!(value(&format!("round(abs(-{GRAIN}), 1)"), none).is_missing());
    assert!(value(&format!("min({GRAIN}, 1)"), none).is_missing());
    assert!(value(&format!("{GRAIN} > 1"), none).is_missing());
    assert!(value(&format!("if({GRAIN} > 1, 1, 2)"), none).is_missing());
    // A non-finite answer is treated as missing too.
    assert!(value(GRAIN, all(f64::NAN)).is_missing());
    assert!(value(GRAIN, all(f64::INFINITY)).is_missing());
}

#[test]
fn coalesce_if_and_logic_stop_at_what_they_need() {
    assert_eq!(value(&format!("coalesce({GRAIN}, 0)"), none), num(0.0));
    assert_eq!(value(&format!("coalesce({GRAIN}, 0)"), all(5.0)), num(5.0));
    assert_eq!(value(&format!("if(true, 1, {GRAIN})"), none), num(1.0));
    assert!(value(&format!("if(false, 1, {GRAIN})"), none).is_missing());
    // Three-valued logic: false and missing = false, true or missing = true.
    let m = format!("{GRAIN} > 0");
    assert_eq!(
        value(&format!("1 > 2 and {m}"), none),
        Value::Bool { value: false }
    );
    assert_eq!(
        value(&format!("{m} and 1 > 2"), none),
        Value::Bool { value: false }
    );
    assert_eq!(
        value(&format!("1 < 2 or {m}"), none),
        Value::Bool { value: true }
    );
    assert_eq!(
        value(&format!("{m} or 1 < 2"), none),
        Value::Bool { value: true }
    );
    assert!(value(&format!("1 < 2 and {m}"), none).is_missing());
    assert!(value(&format!("1 > 2 or {m}"), none).is_missing());
    assert!(value(&format!("not {m}"), none).is_missing());
}

#[test]
fn each_primitive_is_asked_once() {
    let yoy = format!("ratio({GRAIN} - prev_year({GRAIN}), prev_year({GRAIN})) + 0 * {GRAIN}");
    let (v, asked) = run(&yoy, |p| {
        Some(if p.starts_with("prev_year") {
            37_100.0
        } else {
            37_600.0
        })
    });
    assert_eq!(asked.len(), 2);
    let got = v.as_number().unwrap();
    assert!((got - 500.0 / 371.0).abs() < 1e-12, "{got}");
}

#[test]
fn overflow_is_missing() {
    let big = format!("1{}", "0".repeat(300));
    assert_eq!(
        reason(value(&format!("{big} * {big}"), none)),
        Missing::OutOfRange
    );
}

#[test]
fn values_serialize_with_reasons() {
    let v = value("1 / 0", none);
    assert_eq!(v.to_string(), "缺失（除数为零）");
}
