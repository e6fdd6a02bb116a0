//! Properties: no input makes the parser, checker or evaluator panic, and printing is
//! the inverse of parsing.

mod common;

use proptest::prelude::*;
use xiangzhi_expr::{
    AggArg, AggFunc, Aggregate, BinOp, Expr, ExprKind, Filter, FilterOp, Func, KEYWORDS, Literal,
    LiteralValue, MoneyUnit, Name, PeriodClause, PeriodKind, SourceRef, Span, Target, check,
    evaluate, parse,
};

/// Text made of the language's own pieces, so that random input gets deep into the
/// parser and checker instead of failing on the first character.
fn soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "(",
        ")",
        "[",
        "]",
        ",",
        ".",
        "+",
        "-",
        "*",
        "/",
        "=",
        "!=",
        "<",
        ">=",
        " ",
        "\n",
        "1",
        "0",
        "3.76",
        "\"",
        "\"min_living\"",
        "\"GRAIN_AREA\"",
        "\"残疾\"",
        "\\",
        "and",
        "or",
        "not",
        "in",
        "at",
        "end",
        "period",
        "ytd",
        "true",
        "count",
        "count_persons",
        "sum",
        "min",
        "max",
        "avg",
        "last",
        "value",
        "ledger",
        "\"AGRI_OUTPUT\"",
        "ratio",
        "round",
        "if",
        "abs",
        "coalesce",
        "prev_year",
        "prev_period",
        "yuan",
        "wan_yuan",
        "enrollment",
        "payout",
        "case",
        "person",
        "program",
        "amount",
        "kind",
        "paid",
        "grain_area",
        "（",
        "，",
        "低保",
        "é",
        "\u{0}",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

fn fuzz(src: &str) {
    let schema = common::schema();
    match parse(src) {
        Ok(expr) => {
            if let Ok(checked) = check(&expr, &schema) {
                let _ = evaluate(&checked, &|_| Some(1.0));
                let _ = evaluate(&checked, &|_| None);
                let _ = evaluate(&checked, &|_| Some(0.0));
            }
            // Printing a parsed tree gives text that parses to the same tree.
            let printed = expr.to_string();
            let mut again = parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
            let mut expr = expr;
            again.erase_spans();
            expr.erase_spans();
            assert_eq!(again, expr, "{printed}");
        }
        Err(e) => {
            let d = e.diagnose(src);
            assert!(!d.message.is_empty());
            let _ = d.to_string();
        }
    }
}

// ---- generator of syntax trees ----

fn name() -> impl Strategy<Value = Name> {
    "[a-z_][a-z0-9_]{0,7}"
        .prop_filter("keyword", |s| !KEYWORDS.contains(&s.as_str()))
        .prop_map(|text| Name {
            text,
            span: Span::default(),
        })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Z_]{1,10}",
        prop::collection::vec(any::<char>(), 0..6).prop_map(String::from_iter),
        Just("低保\"边缘\"\\户".to_owned()),
    ]
}

fn code() -> impl Strategy<Value = Name> {
    text().prop_map(|text| Name {
        text,
        span: Span::default(),
    })
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..1000).prop_map(f64::from),
        (0u32..1_000_000).prop_map(|n| f64::from(n) / 1000.0),
        (0.0f64..1e12),
        Just(0.1 + 0.2),
        Just(1e21),
        Just(5e-324),
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    let signed = || (number(), any::<bool>()).prop_map(|(n, neg)| if neg { -n } else { n });
    prop_oneof![
        text().prop_map(LiteralValue::Text),
        signed().prop_map(LiteralValue::Number),
        any::<bool>().prop_map(LiteralValue::Bool),
        (
            signed(),
            prop_oneof![Just(MoneyUnit::Yuan), Just(MoneyUnit::WanYuan)]
        )
            .prop_map(|(amount, unit)| LiteralValue::Money { amount, unit }),
    ]
    .prop_map(|value| Literal {
        value,
        span: Span::default(),
    })
}

fn agg_arg() -> impl Strategy<Value = AggArg> {
    let op = prop::sample::select(vec![
        FilterOp::Eq,
        FilterOp::Ne,
        FilterOp::Lt,
        FilterOp::Le,
        FilterOp::Gt,
        FilterOp::Ge,
        FilterOp::In,
        FilterOp::NotIn,
    ]);
    let filter =
        (name(), op, prop::collection::vec(literal(), 1..4)).prop_map(|(field, op, mut values)| {
            if !op.is_list() {
                values.truncate(1);
            }
            AggArg::Filter(Filter {
                field,
                op,
                values,
                span: Span::default(),
            })
        });
    let period = (
        prop::option::of(name()),
        prop::sample::select(vec![
            PeriodKind::InPeriod,
            PeriodKind::InYtd,
            PeriodKind::AtEnd,
        ]),
    )
        .prop_map(|(field, kind)| {
            AggArg::Period(PeriodClause {
                field: if kind == PeriodKind::AtEnd {
                    None
                } else {
                    field
                },
                kind,
                span: Span::default(),
            })
        });
    prop_oneof![filter, period]
}

fn aggregate() -> impl Strategy<Value = Expr> {
    let source = prop_oneof![
        name().prop_map(|name| SourceRef::Named { name }),
        code().prop_map(|code| SourceRef::Ledger { code }),
    ];
    (
        prop::sample::select(AggFunc::ALL.to_vec()),
        source,
        prop::option::of(name()),
        code(),
        prop::collection::vec(agg_arg(), 0..4),
    )
        .prop_map(|(func, source, field, code, args)| {
            let target = if func == AggFunc::Value {
                Target::DataElement { code }
            } else {
                Target::Source { source, field }
            };
            Expr {
                kind: ExprKind::Aggregate(Aggregate { func, target, args }),
                span: Span::default(),
            }
        })
}

fn expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        number().prop_map(|value| ExprKind::Number { value }),
        any::<bool>().prop_map(|value| ExprKind::Bool { value }),
    ]
    .prop_map(|kind| Expr {
        kind,
        span: Span::default(),
    });
    let leaf = prop_oneof![3 => leaf, 1 => aggregate()];
    leaf.prop_recursive(6, 48, 4, |inner| {
        let op = prop::sample::select(vec![
            BinOp::Or,
            BinOp::And,
            BinOp::Eq,
            BinOp::Ne,
            BinOp::Lt,
            BinOp::Le,
            BinOp::Gt,
            BinOp::Ge,
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
        ]);
        prop_oneof![
            inner
                .clone()
                .prop_map(|e| ExprKind::Neg { expr: Box::new(e) }),
            inner
                .clone()
                .prop_map(|e| ExprKind::Not { expr: Box::new(e) }),
            (op, inner.clone(), inner.clone()).prop_map(|(op, l, r)| ExprKind::Binary {
                op,
                lhs: Box::new(l),
                rhs: Box::new(r),
            }),
            (
                prop::sample::select(Func::ALL.to_vec()),
                prop::collection::vec(inner, 0..4)
            )
                .prop_map(|(func, args)| ExprKind::Call { func, args }),
        ]
        .prop_map(|kind| Expr {
            kind,
            span: Span::default(),
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(src in any::<String>()) {
        fuzz(&src);
    }

    #[test]
    fn token_soup_never_panics(src in soup()) {
        fuzz(&src);
    }

    #[test]
    fn print_then_parse_is_identity(e in expr()) {
        let printed = e.to_string();
        // Comparisons do not chain, so a generated `a < b` under another comparison
        // is printed with parentheses; everything else must come back unchanged.
        let mut parsed = parse(&printed).map_err(|err| {
            TestCaseError::fail(format!("{printed}\n{}", err.diagnose(&printed)))
        })?;
        parsed.erase_spans();
        prop_assert_eq!(&parsed, &e, "{}", printed);
        // And the canonical text is a fixed point.
        prop_assert_eq!(parsed.to_string(), printed);
    }

    #[test]
    fn checking_generated_trees_never_panics(e in expr()) {
        if let Ok(checked) = check(&e, &common::schema()) {
            let _ = evaluate(&checked, &|_| Some(2.0));
        }
    }
}
