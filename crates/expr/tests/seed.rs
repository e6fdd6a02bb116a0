//! Every figure of the reference document (X乡 2023 work summary) written in the
//! language, parsed, checked against the fixture schema, printed back and evaluated
//! with answers that reproduce the document's numbers.

mod common;

use std::collections::HashMap;

use xiangzhi_expr::{
    AggFunc, Display, PeriodKind, Primitive, PrimitiveSource, Type, Value, compile, evaluate, parse,
};

/// (what the document says, the expression, its type)
const SEED: &[(&str, &str, Type)] = &[
    // （一）农业
    (
        "粮食种植面积3.76万亩",
        r#"value("GRAIN_AREA")"#,
        Type::Number,
    ),
    (
        "粮食种植面积（台账口径）",
        r#"sum(ledger("AGRI_OUTPUT").grain_area, reported in period)"#,
        Type::Number,
    ),
    (
        "粮食产量1.65万吨",
        r#"sum(ledger("AGRI_OUTPUT").grain_output)"#,
        Type::Number,
    ),
    ("蔬菜种植面积0.8万亩", r#"value("VEG_AREA")"#, Type::Number),
    ("蔬菜产量2.6万吨", r#"value("VEG_OUTPUT")"#, Type::Number),
    (
        "水果期末面积0.41万亩",
        r#"value("FRUIT_AREA")"#,
        Type::Number,
    ),
    (
        "水果期末面积（台账口径）",
        r#"sum(ledger("AGRI_OUTPUT").fruit_area, at end)"#,
        Type::Number,
    ),
    ("水果产量0.38万吨", r#"value("FRUIT_OUTPUT")"#, Type::Number),
    ("生猪出栏0.74万头", r#"value("HOG_SLAUGHTER")"#, Type::Count),
    (
        "活家禽出栏11.62万只",
        r#"sum(ledger("AGRI_OUTPUT").poultry_out, in period)"#,
        Type::Count,
    ),
    (
        "粮食面积同比",
        r#"ratio(value("GRAIN_AREA") - prev_year(value("GRAIN_AREA")), prev_year(value("GRAIN_AREA")))"#,
        Type::Percent,
    ),
    (
        "同比均实现增长",
        r#"value("GRAIN_AREA") > prev_year(value("GRAIN_AREA"))
           and value("VEG_AREA") > prev_year(value("VEG_AREA"))
           and value("HOG_SLAUGHTER") > prev_year(value("HOG_SLAUGHTER"))"#,
        Type::Bool,
    ),
    // 招商引资
    (
        "引进物流企业2家",
        r#"count(enterprise, kind = "logistics", settled in period)"#,
        Type::Count,
    ),
    (
        "建筑企业8家",
        r#"count(enterprise, kind = "construction", settled in period)"#,
        Type::Count,
    ),
    (
        "劳务公司2家",
        r#"count(enterprise, kind = "labour_service", settled in period)"#,
        Type::Count,
    ),
    (
        "汽车企业1家",
        r#"count(enterprise, kind in ["automotive"], settled in period)"#,
        Type::Count,
    ),
    (
        "完成财税1200万元",
        r#"value("FISCAL_REVENUE")"#,
        Type::Money,
    ),
    (
        "2家2000万元企业入驻",
        r#"count(enterprise, investment >= wan_yuan(2000), settled in period)"#,
        Type::Count,
    ),
    (
        "“跑项争资”800万",
        r#"sum(project.funds_won, won in period)"#,
        Type::Money,
    ),
    // （二）民生
    (
        "实施“衔接资金项目”3个",
        r#"count(project, kind = "link_funds", started in period)"#,
        Type::Count,
    ),
    (
        "新增纳入监测户3户",
        r#"count_households(enrollment, program = "monitoring", became_active in period)"#,
        Type::Count,
    ),
    (
        "新增纳入监测13人",
        r#"count_persons(enrollment, program = "monitoring", became_active in period)"#,
        Type::Count,
    ),
    (
        "整治问题户厕200户",
        r#"count_households(ledger("TOILET_REFORM"), fixed in period)"#,
        Type::Count,
    ),
    (
        "投入资金75万元",
        r#"sum(ledger("TOILET_REFORM").cost)"#,
        Type::Money,
    ),
    (
        "新增城乡低保15户",
        r#"count_households(enrollment, program = "min_living", status = "active", became_active in period)"#,
        Type::Count,
    ),
    (
        "新增城乡低保22人",
        r#"count_persons(enrollment, program = "min_living", status = "active", became_active in period)"#,
        Type::Count,
    ),
    (
        "认定低保边缘家庭8户",
        r#"count_households(enrollment, program = "near_min_living", became_active in period)"#,
        Type::Count,
    ),
    (
        "特困人员护理率达100%",
        r#"ratio(count_persons(enrollment, program = "extreme_poverty", care_arranged = true, at end),
                 count_persons(enrollment, program = "extreme_poverty", at end))"#,
        Type::Percent,
    ),
    (
        "临时救助16户",
        r#"count_households(payout, program = "temporary_relief", paid in period)"#,
        Type::Count,
    ),
    (
        "临时救助16人",
        r#"count_persons(payout, program = "temporary_relief", paid in period)"#,
        Type::Count,
    ),
    (
        "发放临时救助金2.105万元",
        r#"sum(payout.amount, program = "temporary_relief", kind = "cash", paid in period)"#,
        Type::Money,
    ),
    (
        "困境儿童82人",
        r#"count_persons(enrollment, program in ["child_in_difficulty", "de_facto_orphan"], at end)"#,
        Type::Count,
    ),
    (
        "其中事实无人抚养儿童24人",
        r#"count_persons(enrollment, program = "de_facto_orphan")"#,
        Type::Count,
    ),
    (
        "新增办理残疾证人员5人",
        r#"count(person, tag = "disability_certificate", tagged in period)"#,
        Type::Count,
    ),
    (
        "高龄老人补贴发放",
        r#"sum(payout.amount, program = "elderly_subsidy", paid in ytd)"#,
        Type::Money,
    ),
    (
        "防寒保暖棉被84张",
        r#"sum(payout.quantity, kind = "in_kind", item = "quilt", paid in period)"#,
        Type::Count,
    ),
    (
        "大衣24件",
        r#"sum(payout.quantity, kind = "in_kind", item = "coat", paid in period)"#,
        Type::Count,
    ),
    (
        "完成“两癌”筛查86例",
        r#"count(ledger("CANCER_SCREENING"), in period)"#,
        Type::Count,
    ),
    ("发放生育证168份", r#"value("BIRTH_PERMITS")"#, Type::Count),
    (
        "享受独生子女补贴60人",
        r#"count_persons(enrollment, program = "only_child_subsidy", status = "active")"#,
        Type::Count,
    ),
    // （三）生态
    (
        "投入13万安装监控、11万维修农贸市场",
        r#"sum(project.funds_invested, kind in ["public_security", "market_town"], started in period)"#,
        Type::Money,
    ),
    (
        "森林覆盖率稳定在56%以上",
        r#"value("FOREST_COVERAGE") >= 56"#,
        Type::Bool,
    ),
    // （四）治理
    (
        "小事不出村（矛盾纠纷村级化解率）",
        r#"ratio(count(case, kind = "dispute", resolved_tier in ["village", "grid"], closed in period),
                 count(case, kind = "dispute", closed in period))"#,
        Type::Percent,
    ),
    (
        "大事不出乡",
        r#"ratio(count(case, kind = "dispute", resolved_tier not in ["county"], closed in period),
                 count(case, kind = "dispute", closed in period))"#,
        Type::Percent,
    ),
    (
        "重复信访",
        r#"count(case, kind = "petition", repeat = true, in ytd)"#,
        Type::Count,
    ),
    (
        "刑满释放人员（在册）",
        r#"count(person, tag = "released_prisoner", at end)"#,
        Type::Count,
    ),
    // Derived figures
    (
        "人均临时救助金（到分）",
        r#"round(sum(payout.amount, program = "temporary_relief", paid in period)
                 / count_persons(payout, program = "temporary_relief", paid in period))"#,
        Type::Money,
    ),
    (
        "财税收入环比",
        r#"ratio(value("FISCAL_REVENUE") - prev_period(value("FISCAL_REVENUE")), prev_period(value("FISCAL_REVENUE")))"#,
        Type::Percent,
    ),
    (
        "财税收入过15万元（缺数时按0）",
        r#"coalesce(value("FISCAL_REVENUE"), yuan(0)) >= wan_yuan(15)"#,
        Type::Bool,
    ),
];

#[test]
fn every_seed_indicator_checks_and_round_trips() {
    let schema = common::schema();
    for (what, src, ty) in SEED {
        let checked = compile(src, &schema).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(checked.result_type, *ty, "{what}");
        assert!(!checked.primitives.is_empty(), "{what}");

        let printed = checked.ast.to_string();
        let mut again = parse(&printed).unwrap_or_else(|e| panic!("{what}: {printed}: {e}"));
        let mut original = checked.ast.clone();
        again.erase_spans();
        original.erase_spans();
        assert_eq!(again, original, "{what}: {printed}");

        // Every primitive's description is itself a valid, checkable expression that
        // yields the same single primitive.
        for p in &checked.primitives {
            let text = p.to_string();
            let alone = compile(&text, &schema).unwrap_or_else(|e| panic!("{what}: {text}: {e}"));
            assert_eq!(alone.primitives, vec![p.clone()], "{what}: {text}");
        }
    }
}

fn primitives(src: &str) -> Vec<Primitive> {
    compile(src, &common::schema()).unwrap().primitives
}

#[test]
fn yoy_queries_each_figure_once() {
    let ps = primitives(SEED[10].1);
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].to_string(), r#"value("GRAIN_AREA", in period)"#);
    assert_eq!(
        ps[1].to_string(),
        r#"prev_year(value("GRAIN_AREA", in period))"#
    );
    assert_eq!(ps[1].shift.years_back, 1);
    let ps = primitives(SEED[11].1);
    assert_eq!(ps.len(), 6);
}

#[test]
fn primitives_are_canonical() {
    // Filter order, `in [x]` vs `= x`, duplicated list items and the default period
    // do not make different primitives.
    let a = primitives(r#"count(enterprise, kind = "logistics", settled in period)"#);
    let b =
        primitives(r#"count(enterprise, settled in period, kind in ["logistics", "logistics"])"#);
    let c = primitives(r#"count(enterprise, kind = "logistics")"#);
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(
        a[0].to_string(),
        r#"count(enterprise, kind = "logistics", settled in period)"#
    );

    let p =
        &primitives(r#"count(case, resolved_tier in ["village", "grid"], kind = "dispute")"#)[0];
    assert_eq!(
        p.to_string(),
        r#"count(case, kind = "dispute", resolved_tier in ["grid", "village"], registered in period)"#
    );

    let p = &primitives(r#"count_persons(enrollment, program = "de_facto_orphan")"#)[0];
    assert_eq!(p.aggregation, AggFunc::CountPersons);
    assert_eq!(
        p.period.kind,
        PeriodKind::AtEnd,
        "enrollment defaults to the state at the end"
    );

    let p = &primitives(r#"value("FRUIT_AREA")"#)[0];
    assert_eq!(
        p.period.kind,
        PeriodKind::AtEnd,
        "a stock data element defaults to at end"
    );
    assert_eq!(p.source, PrimitiveSource::DataElement("FRUIT_AREA".into()));

    let p = &primitives(r#"count(enterprise, investment >= wan_yuan(2000))"#)[0];
    assert_eq!(
        p.to_string(),
        "count(enterprise, investment >= yuan(20000000), settled in period)"
    );
}

/// The document's numbers, as the engine would answer them (base units: 亩, 吨, fen).
fn answers(p: &Primitive) -> Option<f64> {
    let text = p.to_string();
    let table: HashMap<&str, f64> = [
        (r#"value("GRAIN_AREA", in period)"#, 37_600.0),
        (r#"prev_year(value("GRAIN_AREA", in period))"#, 37_100.0),
        (r#"value("VEG_AREA", in period)"#, 8_000.0),
        (r#"value("FRUIT_AREA", at end)"#, 4_100.0),
        (r#"value("POULTRY_SLAUGHTER", in period)"#, 116_200.0),
        (r#"value("FISCAL_REVENUE", in period)"#, 1_200_000_000.0),
        (
            r#"sum(payout.amount, kind = "cash", program = "temporary_relief", paid in period)"#,
            2_105_000.0,
        ),
        (
            r#"count_persons(enrollment, care_arranged = true, program = "extreme_poverty", at end)"#,
            37.0,
        ),
        (r#"count_persons(enrollment, program = "extreme_poverty", at end)"#, 37.0),
    ]
    .into_iter()
    .collect();
    table.get(text.as_str()).copied()
}

fn show(src: &str, display: &Display) -> String {
    let checked = compile(src, &common::schema()).unwrap();
    display.format_with_unit(&evaluate(&checked, &answers))
}

#[test]
fn seed_figures_read_as_in_the_document() {
    assert_eq!(
        show(r#"value("GRAIN_AREA")"#, &Display::wan_mu()),
        "3.76万亩"
    );
    assert_eq!(
        show(r#"value("VEG_AREA")"#, &Display::wan_mu().trimmed()),
        "0.8万亩"
    );
    assert_eq!(
        show(r#"value("FRUIT_AREA")"#, &Display::wan_mu()),
        "0.41万亩"
    );
    assert_eq!(
        show(
            r#"sum(payout.amount, program = "temporary_relief", kind = "cash", paid in period)"#,
            &Display::wan_yuan(4).trimmed()
        ),
        "2.105万元"
    );
    assert_eq!(
        show(r#"value("FISCAL_REVENUE")"#, &Display::wan_yuan(0)),
        "1200万元"
    );
    assert_eq!(show(SEED[27].1, &Display::percent(0)), "100%");
    assert_eq!(show(SEED[10].1, &Display::percent(2)), "1.35%");
    // No data for the vegetable area a year ago: the growth rate is missing, not 0 or -100%.
    let yoy_veg =
        r#"ratio(value("VEG_AREA") - prev_year(value("VEG_AREA")), prev_year(value("VEG_AREA")))"#;
    assert_eq!(show(yoy_veg, &Display::percent(1)), "—");
    let checked = compile(yoy_veg, &common::schema()).unwrap();
    match evaluate(&checked, &answers) {
        Value::Missing { reason } => {
            assert_eq!(
                reason.to_string(),
                r#"缺少数据：prev_year(value("VEG_AREA", in period))"#
            )
        }
        other => panic!("{other:?}"),
    }
}
