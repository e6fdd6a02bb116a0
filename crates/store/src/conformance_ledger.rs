//! Ledger stories for the conformance suite, run on every backend by
//! [`ledger_conformance_tests!`].

use xiangzhi_domain::ledger::{
    FieldValue, LedgerDefinition, SubmissionAction, SubmissionStatus, Values,
};
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::period::PeriodType;
use xiangzhi_domain::role::Role;

use crate::audit::AuditFilter;
use crate::conformance::{TestStore, actor_at, seeded};
use crate::error::StoreError;
use crate::ledger::*;
use crate::model::*;

const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";
const TOWNSHIP: &str = "361002201";

pub const FANZHA: &str = r#"
code = "fanzha"
name = "反诈宣传台账"
department = "综治办"
period = "month"
level = "village"

[[fields]]
key = "sessions"
label = "宣传场次"
type = "integer"
unit = "场"
required = true
min = 0

[[fields]]
key = "audience"
label = "受众人数"
type = "integer"
unit = "人"
min = 0

[[fields]]
key = "form"
label = "宣传形式"
type = "choice"
options = ["入户", "集中宣讲", "微信群"]

[[rules]]
check = "audience >= sessions"
message = "受众人数不能少于宣传场次"
"#;

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn vals(pairs: &[(&str, FieldValue)]) -> Values {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn input(org: &str, period: &str, v: Values) -> EntryInput {
    EntryInput {
        id: None,
        org_code: code(org),
        period: period.into(),
        subject: None,
        subject_label: None,
        values: v,
    }
}

async fn define(store: &TestStore) -> Ledger {
    let def = LedgerDefinition::from_toml(FANZHA).unwrap();
    let clerk = actor_at(store, TOWNSHIP, Role::TownshipClerk).await;
    store.define_ledger(&clerk, &def).await.unwrap().0
}

pub async fn ledger_definitions_are_versioned(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let mut def = LedgerDefinition::from_toml(FANZHA).unwrap();
    assert!(matches!(
        store.define_ledger(&cadre, &def).await,
        Err(StoreError::Forbidden(_))
    ));
    let (l, o) = store.define_ledger(&clerk, &def).await.unwrap();
    assert_eq!((l.version, o), (1, DefineOutcome::Created));
    let (_, o) = store.define_ledger(&clerk, &def).await.unwrap();
    assert_eq!(o, DefineOutcome::Unchanged);

    let e1 = store
        .save_entry(
            &cadre,
            "fanzha",
            input(
                TOUCHANG,
                "202303",
                vals(&[
                    ("sessions", FieldValue::Int(2)),
                    ("audience", FieldValue::Int(80)),
                ]),
            ),
        )
        .await
        .unwrap();
    assert_eq!(e1.version, 1);

    def.fields[1].required = true;
    def.fields.push(xiangzhi_domain::ledger::FieldDef {
        key: "cost".into(),
        label: "经费".into(),
        kind: xiangzhi_domain::ledger::FieldType::Decimal,
        unit: Some("元".into()),
        ..def.fields[0].clone()
    });
    def.fields.last_mut().unwrap().required = false;
    let (l2, o) = store.define_ledger(&clerk, &def).await.unwrap();
    assert_eq!((l2.version, o), (2, DefineOutcome::NewVersion));
    assert_eq!(l2.slots["sessions"], l.slots["sessions"]);
    assert_eq!(store.ledger_versions("fanzha").await.unwrap().len(), 2);
    assert_eq!(
        store
            .ledger_version("fanzha", 1)
            .await
            .unwrap()
            .definition
            .fields
            .len(),
        3
    );
    // the old entry stays as it was, valid against version 1
    let old = store.entry(&cadre.scope, e1.id).await.unwrap();
    assert_eq!(old.version, 1);

    // every problem, in Chinese
    let err = store
        .save_entry(
            &cadre,
            "fanzha",
            input(
                TOUCHANG,
                "202303",
                vals(&[("sessions", FieldValue::Int(5))]),
            ),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("“受众人数”必须填写"), "{err}");
    let problems = store
        .check_entry(
            &cadre,
            "fanzha",
            &input(
                TOUCHANG,
                "2023Q1",
                vals(&[
                    ("sessions", FieldValue::Int(5)),
                    ("audience", FieldValue::Int(1)),
                ]),
            ),
        )
        .await
        .unwrap();
    assert!(problems[0].message.contains("按月填报"), "{problems:?}");
    let problems = store
        .check_entry(
            &cadre,
            "fanzha",
            &input(
                TOUCHANG,
                "202303",
                vals(&[
                    ("sessions", FieldValue::Int(5)),
                    ("audience", FieldValue::Int(1)),
                ]),
            ),
        )
        .await
        .unwrap();
    assert_eq!(problems[0].message, "受众人数不能少于宣传场次");
    // the township is not a filling unit of a village ledger
    let problems = store
        .check_entry(
            &clerk,
            "fanzha",
            &input(
                TOWNSHIP,
                "202303",
                vals(&[
                    ("sessions", FieldValue::Int(1)),
                    ("audience", FieldValue::Int(1)),
                ]),
            ),
        )
        .await
        .unwrap();
    assert!(
        problems[0].message.contains("由村/社区填报"),
        "{problems:?}"
    );
}

pub async fn ledger_scope_hides_other_villages(store: TestStore) {
    seeded(&store).await;
    define(&store).await;
    let touchang = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    let v = vals(&[
        ("sessions", FieldValue::Int(1)),
        ("audience", FieldValue::Int(10)),
    ]);
    let e = store
        .save_entry(&touchang, "fanzha", input(TOUCHANG, "202301", v.clone()))
        .await
        .unwrap();
    // fill
    assert!(matches!(
        store
            .save_entry(&shetou, "fanzha", input(TOUCHANG, "202301", v.clone()))
            .await,
        Err(StoreError::NotFound)
    ));
    // see
    assert!(matches!(
        store.entry(&shetou.scope, e.id).await,
        Err(StoreError::NotFound)
    ));
    let q = EntryQuery::default();
    assert!(
        store
            .entries(&shetou.scope, "fanzha", &q)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .entries(&touchang.scope, "fanzha", &q)
            .await
            .unwrap()
            .len(),
        1
    );
    // change by id, void
    let mut change = input(SHETOU, "202301", v.clone());
    change.id = Some(e.id);
    assert!(matches!(
        store.save_entry(&shetou, "fanzha", change).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.void_entry(&shetou, e.id, "x").await,
        Err(StoreError::NotFound)
    ));
    // import
    let out = store
        .import_entries(
            &shetou,
            "fanzha",
            &[
                EntryImportRow {
                    line: 2,
                    entry: input(SHETOU, "202301", v.clone()),
                },
                EntryImportRow {
                    line: 3,
                    entry: input(TOUCHANG, "202301", v.clone()),
                },
            ],
            false,
        )
        .await
        .unwrap();
    assert!(!out.committed);
    assert_eq!(out.issues[0].line, 3);
    assert!(
        store
            .entries(&shetou.scope, "fanzha", &q)
            .await
            .unwrap()
            .is_empty()
    );
    // aggregate
    let rows = store
        .ledger_aggregate(&shetou.scope, "fanzha", &LedgerQuery::default())
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.entries == 0));
    assert!(matches!(
        store
            .ledger_aggregate(
                &shetou.scope,
                "fanzha",
                &LedgerQuery {
                    org: Some(code(TOUCHANG)),
                    ..Default::default()
                }
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // completion grid
    let grid = store
        .submission_grid(&shetou.scope, "fanzha", &["202301".into()])
        .await
        .unwrap();
    assert_eq!(grid.len(), 1);
    assert_eq!(grid[0].org_code.as_str(), SHETOU);
}

pub async fn ledger_submissions_lock_and_unlock(store: TestStore) {
    seeded(&store).await;
    define(&store).await;
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let v = vals(&[
        ("sessions", FieldValue::Int(1)),
        ("audience", FieldValue::Int(10)),
    ]);
    let e = store
        .save_entry(&cadre, "fanzha", input(TOUCHANG, "202302", v.clone()))
        .await
        .unwrap();
    let t = code(TOUCHANG);
    let cell = store
        .submission_action(&cadre, "fanzha", &t, "202302", SubmissionAction::Submit, "")
        .await
        .unwrap();
    assert_eq!(
        (cell.status, cell.entries),
        (SubmissionStatus::Submitted, 1)
    );
    assert!(matches!(
        store
            .submission_action(
                &cadre,
                "fanzha",
                &t,
                "202302",
                SubmissionAction::Approve,
                ""
            )
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let err = store
        .save_entry(&cadre, "fanzha", input(TOUCHANG, "202302", v.clone()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("已报送"), "{err}");
    store
        .submission_action(
            &clerk,
            "fanzha",
            &t,
            "202302",
            SubmissionAction::Return,
            "场次有误",
        )
        .await
        .unwrap();
    let mut change = input(
        TOUCHANG,
        "202302",
        vals(&[
            ("sessions", FieldValue::Int(3)),
            ("audience", FieldValue::Int(90)),
        ]),
    );
    change.id = Some(e.id);
    store
        .save_entry(&cadre, "fanzha", change.clone())
        .await
        .unwrap();
    store
        .submission_action(&cadre, "fanzha", &t, "202302", SubmissionAction::Submit, "")
        .await
        .unwrap();
    store
        .submission_action(
            &clerk,
            "fanzha",
            &t,
            "202302",
            SubmissionAction::Approve,
            "",
        )
        .await
        .unwrap();
    assert!(store.void_entry(&cadre, e.id, "错填").await.is_err());
    let cell = store
        .submission_action(
            &clerk,
            "fanzha",
            &t,
            "202302",
            SubmissionAction::Unlock,
            "补录",
        )
        .await
        .unwrap();
    assert!(cell.unlocked && cell.status == SubmissionStatus::Returned);
    store.void_entry(&cadre, e.id, "错填").await.unwrap();
    assert!(store.entry(&cadre.scope, e.id).await.unwrap().void);
    let audit = store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for a in [
        "ledger_unlock",
        "ledger_approve",
        "ledger_return",
        "ledger_entry_void",
    ] {
        assert!(audit.iter().any(|e| e.action == a), "{a} audited");
    }
    let grid = store
        .submission_grid(&clerk.scope, "fanzha", &["202301".into(), "202302".into()])
        .await
        .unwrap();
    assert_eq!(grid.len(), 4, "two villages × two months");
}

pub async fn ledger_rosters_and_imports(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let def = LedgerDefinition::from_toml(
        &FANZHA
            .replace("code = \"fanzha\"", "code = \"farm\"")
            .replace("period = \"month\"", "period = \"year\"")
            .replace(
                "level = \"village\"",
                "level = \"village\"\nroster = \"village\"",
            ),
    )
    .unwrap();
    store.define_ledger(&clerk, &def).await.unwrap();
    let n = store
        .ensure_roster(&clerk, "farm", &code(TOWNSHIP), "2023")
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(
        store
            .ensure_roster(&clerk, "farm", &code(TOWNSHIP), "2023")
            .await
            .unwrap(),
        0
    );
    let rows = store
        .entries(
            &clerk.scope,
            "farm",
            &EntryQuery {
                period: Some("2023".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| !r.filled && r.subject_label.is_some()));
    let row = |line: usize, e: &LedgerEntry, s: i64, a: i64| EntryImportRow {
        line,
        entry: EntryInput {
            id: Some(e.id),
            org_code: e.org_code.clone(),
            period: "2023".into(),
            subject: e.subject.clone(),
            subject_label: None,
            values: vals(&[
                ("sessions", FieldValue::Int(s)),
                ("audience", FieldValue::Int(a)),
            ]),
        },
    };
    // a bad row stops everything
    let out = store
        .import_entries(
            &clerk,
            "farm",
            &[row(2, &rows[0], 3, 30), row(3, &rows[1], 5, 1)],
            false,
        )
        .await
        .unwrap();
    assert!(!out.committed);
    assert_eq!((out.issues.len(), out.issues[0].line), (1, 3));
    let preview = store
        .import_entries(
            &clerk,
            "farm",
            &[row(2, &rows[0], 3, 30), row(3, &rows[1], 5, 50)],
            true,
        )
        .await
        .unwrap();
    assert!(!preview.committed && preview.issues.is_empty() && preview.updated == 2);
    let out = store
        .import_entries(
            &clerk,
            "farm",
            &[row(2, &rows[0], 3, 30), row(3, &rows[1], 5, 50)],
            false,
        )
        .await
        .unwrap();
    assert!(out.committed && out.updated == 2);
    let again = store
        .import_entries(
            &clerk,
            "farm",
            &[row(2, &rows[0], 3, 30), row(3, &rows[1], 5, 50)],
            false,
        )
        .await
        .unwrap();
    assert_eq!(again.unchanged, 2);
    let agg = store
        .ledger_aggregate(
            &clerk.scope,
            "farm",
            &LedgerQuery {
                group_level: Some(OrgLevel::Township),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(agg.len(), 1);
    assert_eq!(agg[0].org_name.as_deref(), Some("连城乡"));
    assert_eq!(agg[0].fields["sessions"].sum, Some(8.0));
    assert_eq!(agg[0].fields["audience"].avg(), Some(40.0));
}

pub async fn ledger_aggregates_by_unit_and_period(store: TestStore) {
    seeded(&store).await;
    define(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    for (org, m, s) in [
        (TOUCHANG, 1, 2),
        (TOUCHANG, 2, 3),
        (TOUCHANG, 4, 7),
        (SHETOU, 1, 1),
        (SHETOU, 1, 4),
    ] {
        store
            .save_entry(
                &clerk,
                "fanzha",
                input(
                    org,
                    &format!("2023{m:02}"),
                    vals(&[
                        ("sessions", FieldValue::Int(s)),
                        ("audience", FieldValue::Int(s * 10)),
                    ]),
                ),
            )
            .await
            .unwrap();
    }
    let q = LedgerQuery {
        group_level: Some(OrgLevel::Village),
        group_period: Some(PeriodType::Quarter),
        period_prefix: Some("2023".into()),
        fields: vec!["sessions".into()],
        ..Default::default()
    };
    let rows = store
        .ledger_aggregate(&clerk.scope, "fanzha", &q)
        .await
        .unwrap();
    let find = |c: &str, p: &str| {
        rows.iter()
            .find(|r| {
                r.org_code.as_ref().map(|x| x.as_str()) == Some(c) && r.period.as_deref() == Some(p)
            })
            .unwrap()
    };
    assert_eq!(find(TOUCHANG, "2023Q1").fields["sessions"].sum, Some(5.0));
    assert_eq!(find(TOUCHANG, "2023Q2").fields["sessions"].max, Some(7.0));
    assert_eq!(find(SHETOU, "2023Q1").entries, 2);
    assert_eq!(find(SHETOU, "2023Q1").fields["sessions"].min, Some(1.0));
    assert_eq!(rows.len(), 3);
    let filtered = store
        .ledger_aggregate(
            &clerk.scope,
            "fanzha",
            &LedgerQuery {
                filters: vec![NumFilter {
                    field: "sessions".into(),
                    op: ">=".into(),
                    value: 3.0,
                }],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(filtered[0].entries, 3);
    assert!(
        store
            .ledger_aggregate(
                &clerk.scope,
                "fanzha",
                &LedgerQuery {
                    fields: vec!["form".into()],
                    ..Default::default()
                }
            )
            .await
            .is_err()
    );
    let none = store
        .ledger_aggregate(
            &clerk.scope,
            "fanzha",
            &LedgerQuery {
                period_prefix: Some("2022".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(none.iter().all(|r| r.entries == 0));
}

/// An import's new rows without a subject go in through the backend's bulk path: they must
/// read back, count and sum exactly as rows saved one by one, under the importer's name.
pub async fn an_import_of_free_rows_reads_as_saved_rows(store: TestStore) {
    seeded(&store).await;
    define(&store).await;
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let row = |line: usize, period: &str, s: i64, a: Option<i64>| {
        let mut v = vec![("sessions", FieldValue::Int(s))];
        if let Some(a) = a {
            v.push(("audience", FieldValue::Int(a)));
        }
        EntryImportRow {
            line,
            entry: input(TOUCHANG, period, vals(&v)),
        }
    };
    let rows = [
        row(2, "202301", 2, Some(40)),
        row(3, "202301", 3, None),
        row(4, "202302", 1, Some(15)),
    ];
    let out = store
        .import_entries(&cadre, "fanzha", &rows, false)
        .await
        .unwrap();
    assert!(out.committed && out.new == 3, "{out:?}");
    // The same rows saved one by one, in 2024.
    for r in &rows {
        let mut e = r.entry.clone();
        e.period = e.period.replace("2023", "2024");
        store.save_entry(&cadre, "fanzha", e).await.unwrap();
    }
    let read = |period: &'static str| {
        let (store, scope) = (store.clone(), cadre.scope.clone());
        async move {
            let q = EntryQuery {
                org: None,
                period: Some(period.into()),
                include_void: false,
                after_id: None,
                limit: 100,
            };
            let mut out: Vec<_> = store
                .entries(&scope, "fanzha", &q)
                .await
                .unwrap()
                .into_iter()
                .map(|e| (e.values, e.filled, e.void, e.org_code, e.updated_by))
                .collect();
            out.sort_by_key(|(v, ..)| format!("{v:?}"));
            out
        }
    };
    for (imported, saved) in [("202301", "202401"), ("202302", "202402")] {
        let a = read(imported).await;
        assert_eq!(a.len(), if imported == "202301" { 2 } else { 1 });
        assert_eq!(a, read(saved).await, "{imported}");
        assert!(a.iter().all(|(_, filled, void, ..)| *filled && !*void));
    }
    let sums = |prefix: &'static str| {
        let (store, scope) = (store.clone(), cadre.scope.clone());
        async move {
            let r = store
                .ledger_aggregate(
                    &scope,
                    "fanzha",
                    &LedgerQuery {
                        period_prefix: Some(prefix.into()),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let f = &r[0].fields;
            (
                r[0].entries,
                f["sessions"].sum,
                f["audience"].sum,
                f["audience"].avg(),
            )
        }
    };
    assert_eq!(sums("2023").await, (3, Some(6.0), Some(55.0), Some(27.5)));
    assert_eq!(sums("2023").await, sums("2024").await);
    assert_eq!(store.audit_verify().await.unwrap().first_break, None);
}

#[macro_export]
macro_rules! ledger_conformance_tests {
    ($make:expr) => {
        $crate::ledger_conformance_tests!(@each $make;
            ledger_definitions_are_versioned,
            ledger_scope_hides_other_villages,
            ledger_submissions_lock_and_unlock,
            ledger_rosters_and_imports,
            ledger_aggregates_by_unit_and_period,
            an_import_of_free_rows_reads_as_saved_rows
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_ledger::$name(store).await;
            }
        )*
    };
}
