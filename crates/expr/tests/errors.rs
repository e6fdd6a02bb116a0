//! The messages for typical mistakes: Chinese text, position and caret.

mod common;

use xiangzhi_expr::{Diagnostic, ErrorKind, MAX_LEN, compile};

fn err(src: &str) -> Diagnostic {
    match compile(src, &common::schema()) {
        Ok(c) => panic!("{src} should not compile, got {:?}", c.result_type),
        Err(d) => d,
    }
}

/// Message, line and column.
fn at(src: &str) -> (String, usize, usize) {
    let d = err(src);
    (d.message, d.line, d.column)
}

#[test]
fn unknown_field_suggests_the_nearest_name() {
    let src = r#"sum(ledger("AGRI_OUTPUT").grain_aera)"#;
    let d = err(src);
    assert_eq!(d.message, "未知的字段“grain_aera”，是否想写“grain_area”？");
    assert_eq!((d.line, d.column), (1, 27));
    assert_eq!(
        d.to_string(),
        "第 1 行第 27 列：未知的字段“grain_aera”，是否想写“grain_area”？\n\
         \x20 sum(ledger(\"AGRI_OUTPUT\").grain_aera)\n\
         \x20                           ^^^^^^^^^^"
    );
}

#[test]
fn unknown_field_without_a_close_name_lists_the_fields() {
    let (m, _, _) = at(r#"sum(payout.zzzzzz)"#);
    assert_eq!(
        m,
        "未知的字段“zzzzzz”；payout的字段有：program、kind、item、amount、quantity、paid"
    );
}

#[test]
fn unknown_value_source_ledger_element_function() {
    assert_eq!(
        at(r#"count(enrollment, program = "min_livng")"#),
        (
            "字段“program”没有取值“min_livng”，是否想写“min_living”？".into(),
            1,
            29
        )
    );
    assert_eq!(
        at(r#"count(enrolment, program = "min_living")"#),
        ("未知的来源“enrolment”，是否想写“enrollment”？".into(), 1, 7)
    );
    assert_eq!(
        at(r#"sum(ledger("AGRI_OUTPT").grain_area)"#),
        (
            "未知的台账“AGRI_OUTPT”，是否想写“AGRI_OUTPUT”？".into(),
            1,
            12
        )
    );
    assert_eq!(
        at(r#"value("grain_area")"#),
        (
            "未知的统计数据项“grain_area”，是否想写“GRAIN_AREA”？".into(),
            1,
            7
        )
    );
    assert_eq!(
        at("rato(1, 2)"),
        ("未知的函数“rato”，是否想写“ratio”？".into(), 1, 1)
    );
}

#[test]
fn type_mismatches() {
    assert_eq!(
        at("sum(payout.amount) + count(payout)"),
        (
            "运算“+”两边的类型不匹配：左边是金额，右边是计数".into(),
            1,
            1
        )
    );
    assert_eq!(
        at("sum(payout.amount) > 10000"),
        (
            "金额不能与无单位的数值做“>”运算，请用 yuan(…) 或 wan_yuan(…) 写明金额".into(),
            1,
            1
        )
    );
    assert_eq!(
        at(r#"if(count(case), 1, 2)"#),
        ("if 的条件应为真假值（比较的结果），实际是计数".into(), 1, 4)
    );
    assert_eq!(
        at(r#"ratio(sum(payout.amount), count(payout))"#),
        (
            "运算“ratio”两边的类型不匹配：左边是金额，右边是计数".into(),
            1,
            1
        )
    );
    assert_eq!(
        at(r#"count(payout, amount > 100)"#),
        (
            "金额不能与无单位的数值做“>”运算，请用 yuan(…) 或 wan_yuan(…) 写明金额".into(),
            1,
            24
        )
    );
    assert_eq!(
        at(r#"count(case, kind = 3)"#),
        ("字段“kind”是代码，不能与数值比较".into(), 1, 20)
    );
    assert_eq!(
        at(r#"count(case, kind > "dispute")"#),
        (
            "字段“kind”是代码，只能用 =、!=、in、not in 比较".into(),
            1,
            13
        )
    );
    assert_eq!(
        at("round(value(\"GRAIN_AREA\"), 1.5)"),
        (
            "round(…) 的小数位数应为 0 到 10 之间的整数常数".into(),
            1,
            28
        )
    );
}

#[test]
fn aggregate_shape_mistakes() {
    assert_eq!(
        at("sum(payout, paid in period)"),
        (
            "sum(…) 需要指明要统计的字段，例如 sum(payout.amount, …)".into(),
            1,
            5
        )
    );
    assert_eq!(
        at("count(payout.amount)"),
        (
            "count(…) 统计的是记录数，不接受字段；请写 count(payout, …)".into(),
            1,
            14
        )
    );
    assert_eq!(
        at("count_persons(case)"),
        ("case没有关联人员，不能用 count_persons(…)".into(), 1, 15)
    );
    assert_eq!(
        at("count(case, at end)"),
        (
            "case没有有效期信息，不支持 at end（期末状态）".into(),
            1,
            13
        )
    );
    assert_eq!(
        at(r#"count(case, closed = "2023-12-31")"#),
        (
            "日期字段“closed”只能用 in period 或 in ytd 筛选".into(),
            1,
            13
        )
    );
    assert_eq!(
        at("count(case, kind in period)"),
        (
            "字段“kind”不是日期，不能用于 in period / in ytd".into(),
            1,
            13
        )
    );
    assert_eq!(
        at("count(case, in period, closed in ytd)"),
        ("同一个统计只能有一个期间条件".into(), 1, 24)
    );
    assert_eq!(
        at(r#"value("GRAIN_AREA", kind = "x")"#),
        (
            "value(…) 只接受期间条件（in period、in ytd、at end），不接受筛选条件".into(),
            1,
            21
        )
    );
    assert_eq!(
        at("sum(project.progress)"),
        ("字段“progress”是百分比，不能用 sum(…) 统计".into(), 1, 13)
    );
}

#[test]
fn syntax_mistakes() {
    let (m, l, c) = at(r#"round(ratio(count(case), count(case)), 1"#);
    assert_eq!(m, "缺少右括号“)”，与第 1 行第 6 列的“(”配对");
    assert_eq!((l, c), (1, 41));

    assert_eq!(
        at(r#"count(case, kind = "dispute)"#),
        ("字符串缺少结尾的双引号“\"”".into(), 1, 20)
    );
    assert_eq!(
        at("count（case)"),
        ("请使用半角符号“(”，而不是全角的“（”".into(), 1, 6)
    );
    assert_eq!(
        at(r#"count(case，kind = "dispute")"#),
        ("请使用半角符号“,”，而不是全角的“，”".into(), 1, 11)
    );
    assert_eq!(
        at("count(低保户)"),
        (
            "中文只能写在双引号字符串里；名称请使用英文字母、数字和下划线".into(),
            1,
            7
        )
    );
    assert_eq!(
        at("1 < 2 < 3"),
        (
            "比较运算不能连写，请用 and 连接，例如 a < b and b < c".into(),
            1,
            7
        )
    );
    assert_eq!(
        at("grain_area * 2"),
        (
            "“grain_area”不能单独出现：来源和字段只能写在 count(…)、sum(…) 等统计函数的第一个参数里"
                .into(),
            1,
            1
        )
    );
    assert_eq!(
        at("1 2"),
        ("表达式在此处已结束，多出了数字“2”".into(), 1, 3)
    );
    assert_eq!(
        at("count(case kind = \"x\")"),
        ("此处应为“,”或“)”，实际是名称“kind”".into(), 1, 12)
    );
    assert_eq!(at("1 +"), ("此处应为表达式，实际是表达式结尾".into(), 1, 4));
    assert_eq!(at("   "), ("表达式为空".into(), 1, 1));
    assert_eq!(
        at(r#"count(case, title = "a\qb")"#),
        (
            "字符串中无效的转义“\\q”，只支持 \\\"、\\\\、\\n、\\t、\\r".into(),
            1,
            23
        )
    );
    let huge = format!("1{}", "0".repeat(400));
    assert_eq!(at(&huge).0, format!("数字“{huge}”超出范围"));
    assert_eq!(at("12.x").0, "数字“12.”写法不对，应写作 12 或 3.76");
    assert_eq!(
        at("3.76万"),
        (
            "中文只能写在双引号字符串里；名称请使用英文字母、数字和下划线".into(),
            1,
            5
        )
    );
    assert_eq!(
        at(r#"count(case, kind in ["dispute", "petition")"#),
        ("缺少右方括号“]”，与第 1 行第 21 列的“[”配对".into(), 1, 43)
    );
}

#[test]
fn limits_are_refused_in_chinese() {
    let long = format!("{}1", "1 + ".repeat(MAX_LEN / 4));
    let d = err(&long);
    assert!(matches!(d.error.kind, ErrorKind::TooLong { .. }));
    assert_eq!(
        d.message,
        format!("表达式过长（{} 字节），上限为 4096 字节", long.len())
    );

    let deep = format!("{}1{}", "abs(".repeat(100), ")".repeat(100));
    let d = err(&deep);
    assert_eq!(d.message, "表达式嵌套过深，最多允许 64 层");

    // A hundred thousand parentheses: refused by length before any recursion.
    let hostile = "(".repeat(100_000);
    assert!(matches!(
        err(&hostile).error.kind,
        ErrorKind::TooLong { .. }
    ));
    // Within the length limit, still no stack overflow.
    let hostile = "(".repeat(4000);
    assert!(matches!(
        err(&hostile).error.kind,
        ErrorKind::TooDeep { .. }
    ));
    let hostile = "not ".repeat(1000);
    assert!(matches!(
        err(&hostile).error.kind,
        ErrorKind::TooDeep { .. }
    ));
}

#[test]
fn positions_on_later_lines_with_chinese_before() {
    let src = "count(person, tag = \"disability_certificate\")\n  + count(persn, tag = \"残疾\")";
    let d = err(src);
    assert_eq!(d.message, "未知的来源“persn”，是否想写“person”？");
    assert_eq!((d.line, d.column), (2, 11));
    assert_eq!(d.excerpt, "  + count(persn, tag = \"残疾\")");
    assert_eq!(d.caret, "          ^^^^^");

    // The caret counts Chinese characters as two columns.
    let src = "count(person, tag = \"残疾\") + \"x\"";
    let d = err(src);
    assert_eq!(d.column, 29);
    assert_eq!(d.caret, format!("{}^^^", " ".repeat(30)));
}
