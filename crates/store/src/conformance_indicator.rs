//! Conformance stories of indicators, data values, targets and approvals (see
//! [`crate::conformance`]).

use chrono::NaiveDate;
use xiangzhi_domain::ledger::{SubmissionAction, SubmissionStatus};
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::role::Role;

use crate::conformance::{TestStore, actor_at, seeded};
use crate::error::StoreError;
use crate::indicator::*;
use crate::measure::*;
use crate::model::*;

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn element(code: &str, aggregation: &str, period_type: &str) -> DataElement {
    DataElement {
        code: code.into(),
        name: format!("测试{code}"),
        value_type: "number".into(),
        aggregation: aggregation.into(),
        period_type: period_type.into(),
        unit: "亩".into(),
        min: Some(0.0),
        max: None,
        level: "village".into(),
    }
}

fn value(el: &str, org: &str, period: &str, v: f64) -> DataValueInput {
    DataValueInput {
        element_code: el.into(),
        org_code: code(org),
        period: period.into(),
        value: v,
        comment: String::new(),
    }
}

fn year_window(y: i32) -> Window {
    Window::Dates {
        field: None,
        from: NaiveDate::from_ymd_opt(y, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(y, 12, 31).unwrap(),
    }
}

fn de_measure(el: &str, agg: MeasureAgg, window: Window) -> Measure {
    Measure {
        source: MeasureSource::DataElement(el.into()),
        agg,
        field: None,
        filters: vec![],
        window,
    }
}

pub async fn approval_locks_a_village_period(store: TestStore) {
    seeded(&store).await;
    let system = Actor::system("test");
    store
        .define_data_element(&system, &element("AREA", "sum", "year"))
        .await
        .unwrap();
    let cadre = actor_at(&store, "361002201211", Role::VillageCadre).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let before = store.audit_verify().await.unwrap().rows;
    let saved = store
        .save_data_value(&cadre, value("AREA", "361002201211", "2023", 120.5))
        .await
        .unwrap();
    assert_eq!(saved.value, 120.5);
    assert_eq!(store.audit_verify().await.unwrap().rows, before + 1);

    // Another village is outside the cadre's scope.
    let other = store
        .save_data_value(&cadre, value("AREA", "361002201208", "2023", 1.0))
        .await;
    assert!(matches!(other, Err(StoreError::NotFound)), "{other:?}");
    // A monthly period for a yearly element is refused with a clear message.
    let wrong = store
        .save_data_value(&cadre, value("AREA", "361002201211", "202301", 1.0))
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("按年填报"), "{wrong}");

    // The village submits; the cadre may not approve; the township approves; locked.
    let village = code("361002201211");
    let a = store
        .data_approval_action(&cadre, &village, "2023", SubmissionAction::Submit, "")
        .await
        .unwrap();
    assert_eq!(a.status, SubmissionStatus::Submitted);
    let locked = store
        .save_data_value(&cadre, value("AREA", "361002201211", "2023", 99.0))
        .await
        .unwrap_err();
    assert!(locked.to_string().contains("已锁定"), "{locked}");
    assert!(
        store
            .data_approval_action(&cadre, &village, "2023", SubmissionAction::Approve, "")
            .await
            .is_err()
    );
    let a = store
        .data_approval_action(
            &clerk,
            &village,
            "2023",
            SubmissionAction::Approve,
            "核对无误",
        )
        .await
        .unwrap();
    assert_eq!(a.status, SubmissionStatus::Approved);
    assert!(
        store
            .save_data_value(&clerk, value("AREA", "361002201211", "2023", 99.0))
            .await
            .is_err(),
        "approved figures stay locked for the township too"
    );
    let list = store
        .data_approvals(&clerk.scope, &code("361002201"), OrgLevel::Village, "2023")
        .await
        .unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list.iter()
            .find(|a| a.org_code == "361002201211")
            .unwrap()
            .status,
        SubmissionStatus::Approved
    );
    // Unlocking reopens it.
    store
        .data_approval_action(&clerk, &village, "2023", SubmissionAction::Unlock, "更正")
        .await
        .unwrap();
    let v = store
        .save_data_value(&cadre, value("AREA", "361002201211", "2023", 99.0))
        .await
        .unwrap();
    assert_eq!(v.value, 99.0);
    assert!(store.audit_verify().await.unwrap().first_break.is_none());
}

pub async fn data_import_is_all_or_nothing(store: TestStore) {
    seeded(&store).await;
    let system = Actor::system("test");
    store
        .define_data_element(&system, &element("AREA", "sum", "year"))
        .await
        .unwrap();
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let rows = vec![
        DataValueImportRow {
            line: 2,
            value: value("AREA", "361002201211", "2023", 10.0),
        },
        DataValueImportRow {
            line: 3,
            value: value("NOPE", "361002201208", "2023", 10.0),
        },
        DataValueImportRow {
            line: 4,
            value: value("AREA", "361002100200", "2023", 10.0),
        },
    ];
    let out = store
        .import_data_values(&clerk, &rows, false)
        .await
        .unwrap();
    assert!(!out.committed);
    assert_eq!(
        out.issues.iter().map(|i| i.line).collect::<Vec<_>>(),
        vec![3, 4]
    );
    assert!(out.issues[0].reason.contains("未知的数据项"));
    let none = store
        .data_values(&Scope::all(), &DataValueQuery::default())
        .await
        .unwrap();
    assert!(none.is_empty(), "nothing written");
    let out = store
        .import_data_values(&clerk, &rows[..1], false)
        .await
        .unwrap();
    assert!(out.committed);
    assert_eq!(out.new, 1);
    let again = store
        .import_data_values(&clerk, &rows[..1], false)
        .await
        .unwrap();
    assert_eq!((again.new, again.unchanged), (0, 1));
}

pub async fn indicators_and_targets_are_defined_as_data(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let cadre = actor_at(&store, "361002201211", Role::VillageCadre).await;
    let ind = IndicatorDef {
        code: "AREA".into(),
        name: "面积".into(),
        expression: "value(\"AREA\")".into(),
        unit: "万亩".into(),
        scale: 0.0001,
        precision: 2,
        trim: false,
        category: "农业".into(),
        description: String::new(),
        sort: 1,
        higher_is_better: true,
    };
    assert!(matches!(
        store.define_indicator(&cadre, &ind).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(store.define_indicator(&clerk, &ind).await.unwrap());
    assert!(
        !store.define_indicator(&clerk, &ind).await.unwrap(),
        "unchanged"
    );
    assert_eq!(store.indicator("AREA").await.unwrap(), ind);
    let t = TargetDef {
        indicator_code: "AREA".into(),
        org_code: code("361002201211"),
        period: "2024".into(),
        value: 500.0,
        comparison: ">=".into(),
        note: "目标".into(),
    };
    store.save_target(&clerk, &t).await.unwrap();
    let other = TargetDef {
        org_code: code("361002100200"),
        ..t.clone()
    };
    assert!(matches!(
        store.save_target(&clerk, &other).await,
        Err(StoreError::NotFound)
    ));
    let seen = store
        .targets(&cadre.scope, Some("AREA"), Some("2024"))
        .await
        .unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].target, t);
    let elsewhere = actor_at(&store, "361002201208", Role::VillageCadre).await;
    assert!(
        store
            .targets(&elsewhere.scope, None, None)
            .await
            .unwrap()
            .is_empty()
    );
}

/// A small deterministic generator: the conformance suite runs without proptest.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random trees (townships with random villages and grids, values entered at villages and
/// grids): a township's measure equals the roll-up of its villages' for every aggregation,
/// and a village cadre asking for the township gets exactly their village's figure.
pub async fn measures_roll_up_over_random_trees(store: TestStore) {
    seeded(&store).await;
    let system = Actor::system("test");
    for (c, agg, pt) in [
        ("S", "sum", "month"),
        ("A", "average", "month"),
        ("L", "last", "month"),
    ] {
        store
            .define_data_element(&system, &element(c, agg, pt))
            .await
            .unwrap();
    }
    for seed in 1..=6u64 {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let township = format!("361002{:03}", 210 + seed);
        let mut units = vec![NewOrgUnit {
            code: code(&township),
            parent_code: Some(code("361002")),
            name: format!("测试乡{seed}"),
        }];
        let mut leaves = Vec::new();
        for v in 0..(1 + rng.below(5)) {
            let village = format!("{township}{:03}", 200 + v);
            units.push(NewOrgUnit {
                code: code(&village),
                parent_code: Some(code(&township)),
                name: format!("村{v}"),
            });
            leaves.push(village.clone());
            for g in 0..rng.below(3) {
                let grid = format!("{village}{:03}", g + 1);
                units.push(NewOrgUnit {
                    code: code(&grid),
                    parent_code: Some(code(&village)),
                    name: format!("网格{g}"),
                });
                leaves.push(grid);
            }
        }
        store.import_org_units(&system, &units).await.unwrap();
        let mut rows = Vec::new();
        for leaf in &leaves {
            for m in 1..=12 {
                if rng.below(3) == 0 {
                    continue;
                }
                for el in ["S", "A", "L"] {
                    rows.push(DataValueImportRow {
                        line: rows.len() + 2,
                        value: value(el, leaf, &format!("2023{m:02}"), rng.below(1000) as f64),
                    });
                }
            }
        }
        let out = store
            .import_data_values(&system, &rows, false)
            .await
            .unwrap();
        assert!(out.committed, "{:?}", out.issues);
        let t = code(&township);
        let scope = Scope::all();
        let whole_year = year_window(2023);
        let q3_end = Window::AtEnd {
            from: NaiveDate::from_ymd_opt(2023, 7, 1).unwrap(),
            on: NaiveDate::from_ymd_opt(2023, 9, 30).unwrap(),
        };
        for (el, agg, w) in [
            ("S", MeasureAgg::Sum, whole_year.clone()),
            ("A", MeasureAgg::Avg, whole_year.clone()),
            ("L", MeasureAgg::Last, q3_end),
        ] {
            let m = de_measure(el, agg, w);
            let total = store.measure(&scope, &t, &m, None).await.unwrap();
            let per = store
                .measure(&scope, &t, &m, Some(OrgLevel::Village))
                .await
                .unwrap();
            let records: i64 = per.iter().map(|r| r.records).sum();
            let total_records = total.first().map_or(0, |r| r.records);
            assert_eq!(records, total_records, "{el} seed {seed}");
            let expect = match agg {
                MeasureAgg::Avg => {
                    let s: f64 = per
                        .iter()
                        .map(|r| r.value.unwrap() * r.records as f64)
                        .sum();
                    (records > 0).then(|| s / records as f64)
                }
                _ => (!per.is_empty()).then(|| per.iter().map(|r| r.value.unwrap()).sum()),
            };
            let got = total.first().and_then(|r| r.value);
            match (got, expect) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{el} seed {seed}: {a} vs {b}"),
                (a, b) => assert_eq!(a, b, "{el} seed {seed}"),
            }
            // A village's own figure equals its row of the grouped answer, and a viewer scoped
            // to that village asking for the township gets the same.
            for row in &per {
                let own = store
                    .measure(&scope, &row.org_code, &m, None)
                    .await
                    .unwrap();
                assert_eq!(own[0].value, row.value, "{el} seed {seed}");
                let path = store.org_unit(&scope, &row.org_code).await.unwrap().path;
                let narrowed = store
                    .measure(&Scope::new(path), &t, &m, None)
                    .await
                    .unwrap();
                assert_eq!(narrowed[0].value, row.value, "{el} seed {seed}");
            }
        }
    }
    // Outside the scope is not found.
    let village = actor_at(&store, "361002201211", Role::VillageCadre).await;
    let m = de_measure("S", MeasureAgg::Sum, year_window(2023));
    assert!(matches!(
        store
            .measure(&village.scope, &code("361002100"), &m, None)
            .await,
        Err(StoreError::NotFound)
    ));
}

#[macro_export]
macro_rules! indicator_conformance_tests {
    ($make:expr) => {
        $crate::indicator_conformance_tests!(@each $make;
            approval_locks_a_village_period,
            data_import_is_all_or_nothing,
            indicators_and_targets_are_defined_as_data,
            measures_roll_up_over_random_trees
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_indicator::$name(store).await;
            }
        )*
    };
}
