//! A realistic schema: the built-in record sources of xiangzhi, three ledgers defined
//! as data, and the data elements behind the seed's agricultural and fiscal figures.
#![allow(dead_code)]

use xiangzhi_expr::{
    DataAggregation, DataElementDef, FieldDef, FieldType, Schema, SourceDef, Type,
};

fn date(name: &str, label: &str) -> FieldDef {
    FieldDef::new(name, label, FieldType::Date)
}

const PROGRAMS: &[&str] = &[
    "min_living",
    "near_min_living",
    "extreme_poverty",
    "temporary_relief",
    "child_in_difficulty",
    "de_facto_orphan",
    "disability_subsidy",
    "elderly_subsidy",
    "monitoring",
    "only_child_subsidy",
];

pub fn schema() -> Schema {
    Schema::new()
        .source(
            SourceDef::record("enrollment", "纳入记录", "became_active")
                .stateful(true)
                .persons()
                .households()
                .field(FieldDef::code("program", "项目", PROGRAMS))
                .field(FieldDef::code(
                    "status",
                    "状态",
                    &[
                        "applied",
                        "village_review",
                        "public_notice",
                        "township_review",
                        "county_approval",
                        "active",
                        "suspended",
                        "exited",
                        "rejected",
                    ],
                ))
                .field(FieldDef::code(
                    "monitoring_type",
                    "监测类型",
                    &["unstable_after_exit", "edge_of_poverty", "sudden_hardship"],
                ))
                .field(FieldDef::code(
                    "risk_cause",
                    "风险类型",
                    &[
                        "illness",
                        "education",
                        "disability",
                        "disaster",
                        "accident",
                        "business_failure",
                        "unstable_work",
                        "lack_of_labour",
                        "other",
                    ],
                ))
                .field(FieldDef::code(
                    "care_level",
                    "护理等级",
                    &["self_care", "partial_care", "full_care"],
                ))
                .field(FieldDef::new(
                    "care_arranged",
                    "已落实护理",
                    FieldType::Bool,
                ))
                .field(FieldDef::new(
                    "monthly_amount",
                    "月保障金",
                    FieldType::Money,
                ))
                .field(FieldDef::new("member_count", "保障人数", FieldType::Count))
                .field(date("applied", "申请日期"))
                .field(date("became_active", "纳入日期"))
                .field(date("exited", "退出日期")),
        )
        .source(
            SourceDef::record("payout", "发放记录", "paid")
                .persons()
                .households()
                .field(FieldDef::code("program", "项目", PROGRAMS))
                .field(FieldDef::code("kind", "发放方式", &["cash", "in_kind"]))
                .field(FieldDef::code(
                    "item",
                    "物品",
                    &["quilt", "coat", "rice", "oil"],
                ))
                .field(FieldDef::new("amount", "金额", FieldType::Money))
                .field(FieldDef::new("quantity", "数量", FieldType::Count))
                .field(date("paid", "发放日期")),
        )
        .source(
            SourceDef::record("case", "事件", "registered")
                .field(FieldDef::code(
                    "kind",
                    "类别",
                    &["dispute", "petition", "complaint", "incident", "hazard"],
                ))
                .field(FieldDef::code(
                    "status",
                    "状态",
                    &[
                        "registered",
                        "accepted",
                        "assigned",
                        "handling",
                        "replied",
                        "follow_up",
                        "closed",
                    ],
                ))
                .field(FieldDef::code(
                    "resolved_tier",
                    "化解层级",
                    &["grid", "village", "township", "county"],
                ))
                .field(FieldDef::new("repeat", "重复信访", FieldType::Bool))
                .field(FieldDef::new("title", "标题", FieldType::Text))
                .field(date("registered", "登记日期"))
                .field(date("closed", "办结日期")),
        )
        .source(
            SourceDef::record("person", "居民", "registered")
                .stateful(true)
                .persons()
                .households()
                .field(FieldDef::code(
                    "tag",
                    "标签",
                    &[
                        "disability_certificate",
                        "released_prisoner",
                        "community_correction",
                        "severe_mental_disorder",
                        "repeat_petitioner",
                        "left_behind_child",
                        "left_behind_elderly",
                    ],
                ))
                .field(FieldDef::code("sex", "性别", &["male", "female"]))
                .field(FieldDef::new("age", "年龄", FieldType::Count))
                .field(date("tagged", "标注日期"))
                .field(date("registered", "登记日期")),
        )
        .source(
            SourceDef::record("enterprise", "企业", "settled")
                .stateful(false)
                .field(FieldDef::code(
                    "kind",
                    "行业",
                    &[
                        "logistics",
                        "construction",
                        "labour_service",
                        "automotive",
                        "electronics",
                        "non_ferrous_metals",
                        "agriculture",
                    ],
                ))
                .field(FieldDef::new(
                    "registered_capital",
                    "注册资本",
                    FieldType::Money,
                ))
                .field(FieldDef::new("investment", "投资额", FieldType::Money))
                .field(FieldDef::new("employees", "从业人数", FieldType::Count))
                .field(date("settled", "入驻日期")),
        )
        .source(
            SourceDef::record("project", "重点项目", "started")
                .stateful(false)
                .field(FieldDef::code(
                    "kind",
                    "类别",
                    &[
                        "key_project",
                        "investment_lead",
                        "link_funds",
                        "toilet_reform",
                        "farmland",
                        "public_security",
                        "market_town",
                    ],
                ))
                .field(FieldDef::code(
                    "status",
                    "状态",
                    &["planned", "under_construction", "completed"],
                ))
                .field(FieldDef::new("funds_won", "争取资金", FieldType::Money))
                .field(FieldDef::new(
                    "funds_invested",
                    "投入资金",
                    FieldType::Money,
                ))
                .field(FieldDef::new("progress", "进度", FieldType::Percent))
                .field(date("started", "开工日期"))
                .field(date("won", "资金到位日期"))
                .field(date("completed", "完工日期")),
        )
        .source(
            SourceDef::ledger("AGRI_OUTPUT", "台账“农业生产情况”", "reported")
                .stateful(false)
                .field(
                    FieldDef::new("grain_area", "粮食种植面积", FieldType::Number).with_unit("亩"),
                )
                .field(FieldDef::new("grain_output", "粮食产量", FieldType::Number).with_unit("吨"))
                .field(FieldDef::new("veg_area", "蔬菜种植面积", FieldType::Number).with_unit("亩"))
                .field(FieldDef::new("veg_output", "蔬菜产量", FieldType::Number).with_unit("吨"))
                .field(FieldDef::new("fruit_area", "水果面积", FieldType::Number).with_unit("亩"))
                .field(FieldDef::new("fruit_output", "水果产量", FieldType::Number).with_unit("吨"))
                .field(FieldDef::new("hogs_out", "生猪出栏", FieldType::Count).with_unit("头"))
                .field(FieldDef::new("poultry_out", "活家禽出栏", FieldType::Count).with_unit("只"))
                .field(date("reported", "填报日期")),
        )
        .source(
            SourceDef::ledger("TOILET_REFORM", "台账“户厕问题整改”", "fixed")
                .households()
                .field(FieldDef::code(
                    "problem",
                    "问题",
                    &["leak", "blocked", "no_cover", "other"],
                ))
                .field(FieldDef::new("cost", "整改费用", FieldType::Money))
                .field(date("found", "发现日期"))
                .field(date("fixed", "整改日期")),
        )
        .source(
            SourceDef::ledger("CANCER_SCREENING", "台账“两癌筛查”", "screened")
                .persons()
                .field(FieldDef::code("kind", "筛查项目", &["cervical", "breast"]))
                .field(FieldDef::code("result", "结果", &[]))
                .field(date("screened", "筛查日期")),
        )
        .data_element(
            DataElementDef::new(
                "GRAIN_AREA",
                "粮食种植面积",
                Type::Number,
                DataAggregation::Sum,
            )
            .with_unit("亩"),
        )
        .data_element(
            DataElementDef::new(
                "GRAIN_OUTPUT",
                "粮食产量",
                Type::Number,
                DataAggregation::Sum,
            )
            .with_unit("吨"),
        )
        .data_element(
            DataElementDef::new(
                "VEG_AREA",
                "蔬菜种植面积",
                Type::Number,
                DataAggregation::Sum,
            )
            .with_unit("亩"),
        )
        .data_element(
            DataElementDef::new("VEG_OUTPUT", "蔬菜产量", Type::Number, DataAggregation::Sum)
                .with_unit("吨"),
        )
        .data_element(
            DataElementDef::new(
                "FRUIT_AREA",
                "水果面积",
                Type::Number,
                DataAggregation::Last,
            )
            .with_unit("亩"),
        )
        .data_element(
            DataElementDef::new(
                "FRUIT_OUTPUT",
                "水果产量",
                Type::Number,
                DataAggregation::Sum,
            )
            .with_unit("吨"),
        )
        .data_element(
            DataElementDef::new(
                "HOG_SLAUGHTER",
                "生猪出栏",
                Type::Count,
                DataAggregation::Sum,
            )
            .with_unit("头"),
        )
        .data_element(
            DataElementDef::new(
                "POULTRY_SLAUGHTER",
                "活家禽出栏",
                Type::Count,
                DataAggregation::Sum,
            )
            .with_unit("只"),
        )
        .data_element(DataElementDef::new(
            "FISCAL_REVENUE",
            "财税收入",
            Type::Money,
            DataAggregation::Sum,
        ))
        .data_element(DataElementDef::new(
            "FOREST_COVERAGE",
            "森林覆盖率",
            Type::Percent,
            DataAggregation::Last,
        ))
        .data_element(
            DataElementDef::new(
                "BIRTH_PERMITS",
                "发放生育证",
                Type::Count,
                DataAggregation::Sum,
            )
            .with_unit("份"),
        )
}
