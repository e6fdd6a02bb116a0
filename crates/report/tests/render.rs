//! Templates rendered against figures held in memory: the wiring of the template language,
//! missing markers, gaps, year-on-year phrases, conditions, tables, charts, notices and
//! freezing. The same built-in template against the demo database (figures from the
//! indicator engine) is checked in `crates/xiangzhi/tests/report_demo.rs`.

use std::collections::BTreeSet;

use xiangzhi_document::{Block, Inline};
use xiangzhi_domain::period::Period;
use xiangzhi_report::{
    Frozen, MemorySource, NoticeName, builtin, changes, parse, plain_text, render,
};

mod seed;

use seed::{absent_from, numbers};

const TOWNSHIP: &str = "361002201";
const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";

/// The seed's 2023 figures as the indicator engine gives them (display unit and precision of
/// the seed pack), with 2022 values a little lower so that every year-on-year phrase says 增长.
fn seed_source() -> MemorySource {
    let s = MemorySource::new();
    s.org(TOWNSHIP, "连城乡")
        .org(TOUCHANG, "头昌村")
        .org(SHETOU, "舍头村");
    let figures: &[(&str, &str, &str, u8, f64)] = &[
        ("GRAIN_AREA", "粮食种植面积", "万亩", 2, 3.76),
        ("GRAIN_OUTPUT", "粮食产量", "万吨", 2, 1.65),
        ("VEG_AREA", "蔬菜种植面积", "万亩", 2, 0.8),
        ("VEG_OUTPUT", "蔬菜产量", "万吨", 2, 2.6),
        ("FRUIT_AREA", "水果期末面积", "万亩", 2, 0.41),
        ("FRUIT_OUTPUT", "水果产量", "万吨", 2, 0.38),
        ("PIGS_OUT", "生猪出栏", "万头", 2, 0.74),
        ("POULTRY_OUT", "活家禽出栏", "万只", 2, 11.62),
        ("NEW_LOGISTICS", "引进物流企业", "家", 0, 2.0),
        ("NEW_CONSTRUCTION", "引进建筑企业", "家", 0, 8.0),
        ("NEW_LABOUR", "引进劳务公司", "家", 0, 2.0),
        ("NEW_AUTOMOTIVE", "引进汽车企业", "家", 0, 1.0),
        ("FISCAL_REVENUE", "财税收入", "万元", 0, 1200.0),
        ("BIG_INVESTMENTS", "2000万元企业入驻", "家", 0, 2.0),
        ("FUNDS_WON", "跑项争资", "万元", 0, 800.0),
        ("LINKED_FUNDS_PROJECTS", "衔接资金项目", "个", 0, 3.0),
        ("MONITORING_NEW_HOUSEHOLDS", "新增纳入监测户", "户", 0, 3.0),
        ("MONITORING_NEW_PERSONS", "新增纳入监测人数", "人", 0, 13.0),
        (
            "COLLECTIVE_OVER_15W",
            "村集体经济过15万元的村",
            "个",
            0,
            12.0,
        ),
        (
            "FARMLAND_INVESTMENT",
            "高标准农田专项整改投入",
            "万元",
            2,
            15.0,
        ),
        ("FARMLAND_CANAL_KM", "解决沟渠问题长度", "公里", 1, 5.0),
        (
            "MIN_LIVING_NEW_HOUSEHOLDS",
            "新增城乡低保户数",
            "户",
            0,
            15.0,
        ),
        ("MIN_LIVING_NEW_PERSONS", "新增城乡低保人数", "人", 0, 22.0),
        ("NEAR_MIN_HOUSEHOLDS", "认定低保边缘家庭户数", "户", 0, 8.0),
        ("NEAR_MIN_PERSONS", "认定低保边缘家庭人数", "人", 0, 14.0),
        ("EXTREME_CARE_RATE", "特困人员护理率", "%", 0, 100.0),
        ("TEMP_RELIEF_HOUSEHOLDS", "临时救助户数", "户", 0, 16.0),
        ("TEMP_RELIEF_PERSONS", "临时救助人数", "人", 0, 16.0),
        ("TEMP_RELIEF_AMOUNT", "临时救助金", "万元", 4, 2.105),
        ("CHILDREN_IN_DIFFICULTY", "困境儿童", "人", 0, 82.0),
        ("DE_FACTO_ORPHANS", "事实无人抚养儿童", "人", 0, 24.0),
        ("NEW_DISABILITY_CERTS", "新增办理残疾证人员", "人", 0, 5.0),
        ("QUILTS", "发放防寒棉被", "张", 0, 84.0),
        ("COATS", "发放防寒大衣", "件", 0, 24.0),
        ("CANCER_SCREENINGS", "“两癌”筛查", "例", 0, 86.0),
        ("BIRTH_PERMITS", "发放生育证", "份", 0, 168.0),
        ("ONLY_CHILD_SUBSIDY", "享受独生子女补贴", "人", 0, 60.0),
        (
            "CAMERA_INVESTMENT",
            "集镇监控摄像头及道路标识投入",
            "万元",
            2,
            13.0,
        ),
        (
            "MARKET_INVESTMENT",
            "农贸市场维修和街道硬化投入",
            "万元",
            2,
            11.0,
        ),
        (
            "SMART_SAFETY_INVESTMENT",
            "智慧平安创建中心投入",
            "万元",
            2,
            15.0,
        ),
        ("AGRI_ALL_GROWING", "农业产量同比均增长", "", 0, 1.0),
    ];
    for (code, name, unit, precision, value) in figures {
        s.indicator(code, name, unit, *precision);
        s.set(code, TOWNSHIP, "2023", *value);
        s.set(code, TOWNSHIP, "2022", value * 0.9);
    }
    let targets: &[(&str, &str, &str, u8, &str, &str, f64)] = &[
        (
            "COLLECTIVE_INCOME",
            "村集体经济收入",
            "万元",
            2,
            SHETOU,
            "2023",
            15.0,
        ),
        (
            "COLLECTIVE_INCOME",
            "村集体经济收入",
            "万元",
            2,
            TOUCHANG,
            "2023",
            50.0,
        ),
        (
            "TOILETS_FIXED",
            "整治问题户厕",
            "户",
            0,
            TOWNSHIP,
            "2023",
            200.0,
        ),
        (
            "TOILET_INVESTMENT",
            "户厕整治投入资金",
            "万元",
            2,
            TOWNSHIP,
            "2023",
            75.0,
        ),
        (
            "WINTER_RAPE",
            "冬种油菜面积",
            "亩",
            0,
            TOWNSHIP,
            "2023",
            5000.0,
        ),
        (
            "WINTER_POTATO",
            "冬种马铃薯面积",
            "亩",
            0,
            TOWNSHIP,
            "2023",
            300.0,
        ),
        (
            "WINTER_VEG",
            "冬种蔬菜面积",
            "亩",
            0,
            TOWNSHIP,
            "2023",
            1000.0,
        ),
        (
            "FOREST_COVERAGE",
            "森林覆盖率",
            "%",
            1,
            TOWNSHIP,
            "2024",
            56.0,
        ),
    ];
    for (code, name, unit, precision, org, period, value) in targets {
        s.indicator(code, name, unit, *precision);
        s.set_target(code, org, period, *value);
    }
    s
}

fn y2023() -> Period {
    Period::parse("2023").unwrap()
}

fn figure_texts(doc: &xiangzhi_document::Document) -> Vec<String> {
    doc.blocks
        .iter()
        .flat_map(|b| match b {
            Block::Heading { text, .. } | Block::Paragraph(text) => text.clone(),
            _ => Vec::new(),
        })
        .filter_map(|i| match i {
            Inline::Figure { text, .. } => Some(text),
            _ => None,
        })
        .collect()
}

/// In-memory figures only: this proves the built-in template prints every number of the
/// seed's 2023 summary where it belongs, with the right unit scaling and precision. That the
/// demo records produce these values is checked against the engine in the xiangzhi tests.
#[tokio::test]
async fn annual_template_prints_every_number_of_the_seed_summary() {
    let t = parse(builtin::ANNUAL.body).unwrap();
    let r = render(&t, &seed_source(), TOWNSHIP, &y2023())
        .await
        .unwrap();
    assert!(r.gaps.is_empty(), "gaps: {:?}", r.gaps);
    let text = plain_text(&r.document);
    let absent = absent_from(&text);
    assert!(
        absent.is_empty(),
        "numbers of the seed not in the report: {absent:?}"
    );

    assert_eq!(r.document.title, "连城乡2023年工作总结及2024年工作计划");
    let figs = figure_texts(&r.document);
    for f in [
        "3.76万亩",
        "1.65万吨",
        "0.8万亩",
        "2.6万吨",
        "0.41万亩",
        "0.38万吨",
        "0.74万头",
        "11.62万只",
        "1200万元",
        "800万",
        "15户",
        "22人",
        "2.105万元",
        "86例",
        "168份",
        "60人",
        "13万",
        "11万元",
        "100%",
        "56%",
        "15万元",
        "50万",
    ] {
        assert!(figs.iter().any(|t| t == f), "{f} is not a figure: {figs:?}");
    }
    assert!(text.contains("同比均实现增长"));
    // Headings numbered 一、（一）… as in the seed.
    assert!(text.contains("\n一、2023年工作总结\n（一）坚持稳中求进基调"));
    assert!(text.contains("\n二、2024年工作计划\n"));
    // Every figure links to its provenance.
    let links = r
        .document
        .blocks
        .iter()
        .flat_map(|b| match b {
            Block::Paragraph(t) => t.clone(),
            _ => Vec::new(),
        })
        .filter(|i| matches!(i, Inline::Figure { link: None, .. }))
        .count();
    assert_eq!(links, 0, "figures without provenance");
}

#[tokio::test]
async fn figures_move_with_the_data() {
    let t = parse(builtin::ANNUAL.body).unwrap();
    let s = seed_source();
    let before = render(&t, &s, TOWNSHIP, &y2023()).await.unwrap();
    s.set("GRAIN_AREA", TOWNSHIP, "2023", 3.8123);
    s.set("GRAIN_OUTPUT", TOWNSHIP, "2023", 1.4);
    s.set("AGRI_ALL_GROWING", TOWNSHIP, "2023", 0.0);
    let after = render(&t, &s, TOWNSHIP, &y2023()).await.unwrap();
    let text = plain_text(&after.document);
    assert!(text.contains("粮食种植面积3.81万亩"), "{text}");
    // Output fell below 2022's 1.485万吨: the sentence changes.
    assert!(!text.contains("同比均实现增长"));
    assert!(text.contains("粮食产量同比下降5.7%"), "{text}");

    let frozen = Frozen::of("annual", 1, TOWNSHIP, "2023", &before);
    assert!(frozen.verify());
    let diff = changes(&frozen.figures, &after.figures);
    let labels: Vec<(&str, Option<&str>, Option<&str>)> = diff
        .iter()
        .map(|c| (c.label.as_str(), c.before.as_deref(), c.after.as_deref()))
        .collect();
    assert!(
        labels.contains(&("粮食种植面积", Some("3.76万亩"), Some("3.81万亩"))),
        "{labels:?}"
    );
    assert!(
        labels.contains(&("粮食产量", Some("1.65万吨"), Some("1.4万吨"))),
        "{labels:?}"
    );
    // The year-on-year phrase only appears in the new version: listed as added.
    assert!(
        labels
            .iter()
            .any(|(l, b, a)| l.contains("同比") && b.is_none() && a.is_some())
    );
    assert_eq!(
        Frozen::of("annual", 1, TOWNSHIP, "2023", &after)
            .content_hash
            .len(),
        64
    );
    assert_ne!(
        Frozen::of("annual", 1, TOWNSHIP, "2023", &after).content_hash,
        frozen.content_hash
    );
    let mut tampered = frozen.clone();
    tampered.figures[0].text = "9.99万亩".into();
    assert!(!tampered.verify());
}

#[tokio::test]
async fn missing_figures_print_markers_and_are_listed() {
    let t = parse(builtin::ANNUAL.body).unwrap();
    let s = seed_source();
    let only_2022 = MemorySource::new();
    // A source that knows the indicator but has no 2023 value, and one unknown code.
    only_2022.org(TOWNSHIP, "连城乡");
    only_2022.indicator("GRAIN_AREA", "粮食种植面积", "万亩", 2);
    only_2022.set("GRAIN_AREA", TOWNSHIP, "2022", 3.0);
    let r = render(&t, &only_2022, TOWNSHIP, &y2023()).await.unwrap();
    let text = plain_text(&r.document);
    assert!(
        text.contains("粮食种植面积【缺数据：粮食种植面积】"),
        "{text}"
    );
    assert!(!text.contains("粮食种植面积0"));
    let gap = r.gaps.iter().find(|g| g.indicator == "GRAIN_AREA").unwrap();
    assert_eq!(gap.reason, "2023年没有数据");
    assert_eq!(gap.line, 11);
    // Unknown codes are listed by code; each gap once, in order of appearance.
    assert!(
        r.gaps
            .iter()
            .any(|g| g.indicator == "PIGS_OUT" && g.reason.contains("未知"))
    );
    let keys: BTreeSet<_> = r
        .gaps
        .iter()
        .map(|g| (&g.indicator, &g.org, &g.period))
        .collect();
    assert_eq!(keys.len(), r.gaps.len());
    // The missing markers in the document are the gaps.
    let markers: BTreeSet<String> = r.document.missing().into_iter().collect();
    let gap_labels: BTreeSet<String> = r.gaps.iter().map(|g| g.label.clone()).collect();
    assert_eq!(markers, gap_labels);
    drop(s);
}

#[tokio::test]
async fn yoy_conditions_tables_and_charts() {
    let s = MemorySource::new();
    s.org(TOWNSHIP, "连城乡");
    s.indicator("a", "甲", "吨", 0)
        .indicator("b", "乙", "吨", 0);
    s.set("a", TOWNSHIP, "2023", 110.0)
        .set("a", TOWNSHIP, "2022", 100.0);
    s.set("b", TOWNSHIP, "2023", 50.0)
        .set("b", TOWNSHIP, "2022", 50.0);
    let src = "标题：{单位名称}{年}年\n\
        甲{a}，{同比 a}；乙{同比 b}。\n\
        {如果 同比 a > 5}甲增长较快。{否则}甲增长平稳。{结束}{如果 b > 100}乙很多。{结束}\n\
        {如果 c > 0}丙。{结束}\n\
        {如果 有数据 c}丙有数据。{否则}丙暂无数据。{结束}\n\
        表：对比\n\
        | 项目 | {年}年 | {上年}年 |\n\
        | 甲 | {a} | {a|上年} |\n\
        图：产量\n\
        - 甲：{a}\n\
        - 乙：{b}\n";
    let t = parse(src).unwrap();
    let r = render(&t, &s, TOWNSHIP, &y2023()).await.unwrap();
    let text = plain_text(&r.document);
    assert!(
        text.contains("甲110吨，同比增长10%；乙与上年持平。"),
        "{text}"
    );
    assert!(text.contains("\n甲增长较快。\n"), "{text}");
    // An unknown figure in a condition shows its marker instead of guessing a branch.
    assert!(text.contains("【缺数据：c】"), "{text}");
    assert!(text.contains("丙暂无数据。"), "{text}");
    assert!(
        text.contains("对比\n项目\t2023年\t2022年\n甲\t110吨\t100吨"),
        "{text}"
    );
    assert!(
        text.contains("产量\n项目\t数值\t图示\n甲\t110吨\t■■■■■■■■■■\n乙\t50吨\t■■■■■"),
        "{text}"
    );
}

#[tokio::test]
async fn notice_lists_names_only_and_profiles_render_per_village() {
    let s = seed_source();
    s.notice(
        "min_living",
        TOUCHANG,
        NoticeName {
            village: "头昌村".into(),
            name: "张三".into(),
            members: 3,
            program_name: "城乡低保".into(),
        },
    );
    let t = parse(builtin::NOTICE_MIN_LIVING.body).unwrap();
    let r = render(&t, &s, TOWNSHIP, &y2023()).await.unwrap();
    let text = plain_text(&r.document);
    assert!(
        text.contains(
            "城乡低保公示名单\n序号\t村（社区）\t姓名（户主）\t保障人数\n1\t头昌村\t张三\t3"
        ),
        "{text}"
    );
    assert!(!text.contains("身份证") && !text.contains("电话"), "{text}");

    s.set("GRAIN_OUTPUT", TOUCHANG, "2023", 0.13);
    s.set("GRAIN_OUTPUT", TOUCHANG, "2022", 0.12);
    s.set("COLLECTIVE_INCOME", TOUCHANG, "2023", 52.0);
    let t = parse(builtin::VILLAGE_PROFILE.body).unwrap();
    let r = render(&t, &s, TOUCHANG, &y2023()).await.unwrap();
    let text = plain_text(&r.document);
    assert!(text.starts_with("头昌村村情简介\n（2023年）"), "{text}");
    assert!(text.contains("产量1300吨，同比增长8.3%"), "{text}");
    assert!(
        text.contains("村集体经济收入52万元，达到全乡每村15万元的目标"),
        "{text}"
    );
    // Figures this village has no data for are gaps, not zeros.
    assert!(
        r.gaps
            .iter()
            .any(|g| g.indicator == "GRAIN_AREA" && g.org == TOUCHANG)
    );
}

#[test]
fn numbers_are_extracted() {
    assert_eq!(
        numbers("3.76万亩，“10＋X”，2.105万元。100％"),
        ["3.76", "10", "2.105", "100"]
    );
}
