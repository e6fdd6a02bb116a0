//! 存量导入, for the conformance suite: a roster, monthly payouts and a case ledger kept
//! before xiangzhi go in whole or not at all; each row is checked against the registry and
//! what is already stored; what goes in reads back like records entered one by one (states,
//! steps, payrolls, case timelines, the 化解 figures) and is audited.

use chrono::NaiveDate;
use xiangzhi_domain::assistance::{ELDERLY_SUBSIDY, EXTREME_POVERTY, MIN_LIVING};
use xiangzhi_domain::assistance_lifecycle::{EnrollmentStatus, ExitReason, Step};
use xiangzhi_domain::case::{CaseStatus, Tier};
use xiangzhi_domain::citizen_id::{self, CitizenId};
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::assistance::*;
use crate::case::*;
use crate::conformance::{TestStore, actor_at, seeded};
use crate::model::*;
use crate::registry::*;
use crate::{AuditFilter, StoreError};

const TOWNSHIP: &str = "361002201";
const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";
const SHANGDUNDU_VILLAGE: &str = "361002100200";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn id(n: u32) -> CitizenId {
    citizen_id::generate("361002", d(1940, 1, 1), n as u16, n.is_multiple_of(2))
}

/// Households of three (head, spouse, child) under the given village: persons `3k..3k+3`.
async fn registry(store: &TestStore) {
    let op = Actor::system("test");
    let mut rows = Vec::new();
    for (k, village) in [TOUCHANG, TOUCHANG, SHETOU, SHANGDUNDU_VILLAGE]
        .iter()
        .enumerate()
    {
        for m in 0..3u32 {
            let n = k as u32 * 3 + m;
            rows.push(PersonImportRow {
                line: n as usize + 2,
                name: format!("存量{n}"),
                citizen_id: id(n),
                phone: None,
                household_no: Some(format!("H{k}")),
                relation: Some(match m {
                    0 => Relation::Head,
                    1 => Relation::Spouse,
                    _ => Relation::Child,
                }),
                status: None,
                org_code: Some(code(village)),
                household_address: None,
                tags: None,
            });
        }
    }
    let out = store
        .import_persons(&op, &code("361002"), &rows, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);
}

fn enrollment(line: usize, program: &str, n: u32, category: &str) -> EnrollmentImportRow {
    EnrollmentImportRow {
        line,
        program: program.into(),
        citizen_id: id(n),
        household_no: None,
        org_code: None,
        category: category.into(),
        start_on: d(2021, 3, 1),
        exit: None,
    }
}

fn payout(line: usize, program: &str, period: &str, n: u32, yuan: i64) -> PayoutImportRow {
    PayoutImportRow {
        line,
        program: program.into(),
        period: period.into(),
        citizen_id: id(n),
        org_code: None,
        amount: Money::from_yuan(yuan).unwrap(),
    }
}

async fn all_enrollments(store: &TestStore, scope: &Scope) -> Vec<Enrollment> {
    store
        .enrollments(
            scope,
            &EnrollmentQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
}

fn columns(out: &ImportOutcome) -> Vec<(usize, &str)> {
    out.issues
        .iter()
        .map(|i| (i.line, i.column.as_str()))
        .collect()
}

pub async fn a_roster_enters_active_and_exited_enrollments_once(store: TestStore) {
    seeded(&store).await;
    registry(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipLeader).await;
    let township = code(TOWNSHIP);
    let rows = vec![
        EnrollmentImportRow {
            household_no: Some("H0".into()),
            org_code: Some(code(TOUCHANG)),
            ..enrollment(2, "城乡低保", 0, "农村低保")
        },
        enrollment(3, ELDERLY_SUBSIDY, 4, "80-89周岁"),
        EnrollmentImportRow {
            exit: Some((d(2023, 6, 30), ExitReason::Deceased)),
            ..enrollment(4, EXTREME_POVERTY, 5, "self_care")
        },
    ];
    let preview = store
        .import_enrollments(&clerk, &township, &rows, true)
        .await
        .unwrap();
    assert_eq!((preview.summary.new, preview.summary.committed), (3, false));
    assert!(all_enrollments(&store, &clerk.scope).await.is_empty());

    let audit_before = store.audit_verify().await.unwrap().rows;
    let out = store
        .import_enrollments(&clerk, &township, &rows, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);
    assert_eq!(out.summary.new, 3);
    assert_eq!(store.audit_verify().await.unwrap().rows, audit_before + 1);
    let audit = store
        .audit_list(
            &clerk.scope,
            &AuditFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "enrollment_import"));

    let got = all_enrollments(&store, &clerk.scope).await;
    let low = got.iter().find(|e| e.program_code == MIN_LIVING).unwrap();
    assert_eq!(low.state.status, EnrollmentStatus::Active);
    assert_eq!(low.state.start_on, Some(d(2021, 3, 1)));
    assert!(low.household_id.is_some() && low.person_id.is_none());
    assert_eq!(low.category, "rural");
    assert_eq!(low.members, 3, "a household enrollment covers its members");
    assert!(
        low.state
            .next_review
            .is_some_and(|r| r >= chrono::Local::now().date_naive()),
        "the paper reviews stand: the next one is not in the past"
    );
    let steps = store.enrollment_steps(&clerk.scope, low.id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].step, Step::Import);
    let gone = got
        .iter()
        .find(|e| e.program_code == EXTREME_POVERTY)
        .unwrap();
    assert_eq!(gone.state.status, EnrollmentStatus::Exited);
    assert_eq!(gone.state.exit_reason, Some(ExitReason::Deceased));
    let steps = store.enrollment_steps(&clerk.scope, gone.id).await.unwrap();
    assert_eq!(
        steps.iter().map(|s| s.step).collect::<Vec<_>>(),
        vec![Step::Import, Step::Exit]
    );
    // A village cadre sees only their village's.
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    assert_eq!(all_enrollments(&store, &cadre.scope).await.len(), 3);
    let cadre = actor_at(&store, SHETOU, Role::VillageCadre).await;
    assert!(all_enrollments(&store, &cadre.scope).await.is_empty());

    // The same file again: the ones still active are refused, and nothing is written.
    let again = store
        .import_enrollments(&clerk, &township, &rows, false)
        .await
        .unwrap();
    assert!(!again.summary.committed);
    assert_eq!(columns(&again), vec![(2, "身份证号"), (3, "身份证号")]);
    assert_eq!(all_enrollments(&store, &clerk.scope).await.len(), 3);
}

pub async fn a_roster_row_the_registry_does_not_bear_out_stops_the_file(store: TestStore) {
    seeded(&store).await;
    registry(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipLeader).await;
    let township = code(TOWNSHIP);
    let rows = vec![
        enrollment(2, MIN_LIVING, 0, "rural"),
        enrollment(3, "没有的项目", 1, ""),
        enrollment(4, MIN_LIVING, 3, ""),
        enrollment(5, ELDERLY_SUBSIDY, 900, "80_89"),
        enrollment(6, ELDERLY_SUBSIDY, 9, "80_89"),
        EnrollmentImportRow {
            household_no: Some("H9".into()),
            ..enrollment(7, MIN_LIVING, 6, "rural")
        },
        EnrollmentImportRow {
            org_code: Some(code(SHETOU)),
            ..enrollment(8, ELDERLY_SUBSIDY, 1, "80_89")
        },
        enrollment(9, MIN_LIVING, 2, "rural"),
    ];
    let out = store
        .import_enrollments(&clerk, &township, &rows, false)
        .await
        .unwrap();
    assert!(!out.summary.committed);
    assert_eq!(
        columns(&out),
        vec![
            (3, "项目"),
            (4, "类别"),
            (5, "身份证号"),
            (6, "身份证号"),
            (7, "户号"),
            (8, "所属网格"),
            (9, "身份证号"),
        ],
        "unknown program; missing category; not in the registry; in another township; wrong 户号; wrong unit; the same household twice: {:?}",
        out.issues
    );
    assert!(out.issues[6].reason.contains("重复"), "{:?}", out.issues[6]);
    assert_eq!(out.summary.invalid, 7);
    assert!(all_enrollments(&store, &Scope::all()).await.is_empty());

    // Below the township, and by role.
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    assert!(matches!(
        store
            .import_enrollments(&cadre, &code(TOUCHANG), &rows[..1], false)
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let other = actor_at(&store, "361002100", Role::TownshipLeader).await;
    assert!(
        store
            .import_enrollments(&other, &township, &rows[..1], false)
            .await
            .is_err(),
        "another township's unit is not the leader's to import into"
    );
}

pub async fn payouts_become_reconciled_payrolls_per_township_and_month(store: TestStore) {
    seeded(&store).await;
    registry(&store).await;
    let op = Actor::system("test");
    let county = code("361002");
    let roster = vec![
        enrollment(2, MIN_LIVING, 0, "rural"),
        enrollment(3, MIN_LIVING, 9, "rural"),
        enrollment(4, ELDERLY_SUBSIDY, 10, "80_89"),
        EnrollmentImportRow {
            start_on: d(2023, 6, 1),
            ..enrollment(5, EXTREME_POVERTY, 4, "self_care")
        },
    ];
    let out = store
        .import_enrollments(&op, &county, &roster, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);

    let rows = vec![
        payout(2, MIN_LIVING, "202301", 0, 1410),
        payout(3, MIN_LIVING, "202301", 9, 705),
        payout(4, MIN_LIVING, "202302", 0, 1410),
        payout(5, "高龄津贴", "202301", 10, 50),
    ];
    let out = store
        .import_payouts(&op, &county, &rows, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);
    assert_eq!(out.summary.new, 4);
    let payrolls = store.payrolls(&Scope::all(), None).await.unwrap();
    let mut keys: Vec<(String, String, String, i64, i64)> = payrolls
        .iter()
        .map(|p| {
            (
                p.program_code.clone(),
                p.org_code.as_str().to_string(),
                p.period.clone(),
                p.lines,
                p.total.fen(),
            )
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            (
                "elderly_subsidy".into(),
                "361002100".into(),
                "202301".into(),
                1,
                5000
            ),
            (
                "min_living".into(),
                "361002100".into(),
                "202301".into(),
                1,
                70500
            ),
            (
                "min_living".into(),
                "361002201".into(),
                "202301".into(),
                1,
                141000
            ),
            (
                "min_living".into(),
                "361002201".into(),
                "202302".into(),
                1,
                141000
            ),
        ],
        "one payroll per program, township and month"
    );
    for p in &payrolls {
        assert_eq!(p.status, PayrollStatus::Reconciled);
        assert_eq!(p.paid, p.lines);
    }
    let lines = store
        .payroll_lines(&Scope::all(), payrolls[0].id, None, 100)
        .await
        .unwrap();
    assert!(lines.iter().all(|l| l.status == LineStatus::Paid));

    // A township leader of 连城乡 does not see 上顿渡镇's payrolls.
    let leader = actor_at(&store, TOWNSHIP, Role::TownshipLeader).await;
    assert_eq!(store.payrolls(&leader.scope, None).await.unwrap().len(), 2);

    let bad = vec![
        payout(2, MIN_LIVING, "202301", 0, 1410),
        payout(3, EXTREME_POVERTY, "202305", 4, 917),
        payout(4, MIN_LIVING, "202303", 3, 705),
        payout(5, "临时救助", "202303", 0, 500),
        payout(6, MIN_LIVING, "2023Q1", 0, 705),
        payout(7, MIN_LIVING, "202303", 0, 705),
        payout(8, MIN_LIVING, "202303", 1, 705),
    ];
    let out = store
        .import_payouts(&op, &county, &bad, false)
        .await
        .unwrap();
    assert!(!out.summary.committed);
    assert_eq!(
        columns(&out),
        vec![
            (2, "期间"),
            (3, "身份证号"),
            (4, "身份证号"),
            (5, "项目"),
            (6, "期间"),
            (8, "期间"),
        ],
        "a month already paid; before the enrollment started; no enrollment; a one-off program; not a month; the same household twice in a month: {:?}",
        out.issues
    );
    assert_eq!(store.payrolls(&Scope::all(), None).await.unwrap().len(), 4);
}

fn case(line: usize, category: &str, village: &str, tier: Tier) -> CaseImportRow {
    CaseImportRow {
        line,
        category: category.into(),
        title: format!("存量事件{line}"),
        org_code: code(village),
        registered_on: d(2023, 4, 3),
        tier,
        closed_on: Some(d(2023, 4, 10)),
        satisfied: Some(true),
    }
}

pub async fn a_case_ledger_replays_each_case_through_the_state_machine(store: TestStore) {
    seeded(&store).await;
    let op = Actor::system("test");
    let township = code(TOWNSHIP);
    let rows = vec![
        case(2, "dispute.neighbour", TOUCHANG, Tier::Village),
        case(3, "邻里纠纷", SHETOU, Tier::Township),
        CaseImportRow {
            closed_on: None,
            satisfied: None,
            ..case(4, "petition.rural", TOUCHANG, Tier::Village)
        },
        case(5, "complaint.help", TOWNSHIP, Tier::County),
    ];
    let out = store
        .import_cases(&op, &CaseRules::default(), &township, &rows, true)
        .await
        .unwrap();
    assert_eq!(
        (out.summary.new, out.summary.committed),
        (4, false),
        "{:?}",
        out.issues
    );
    let leader = actor_at(&store, TOWNSHIP, Role::TownshipLeader).await;
    let all = CaseQuery::default();
    assert!(store.cases(&leader.scope, &all).await.unwrap().is_empty());

    let out = store
        .import_cases(&op, &CaseRules::default(), &township, &rows, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);
    let mut cases = store.cases(&leader.scope, &all).await.unwrap();
    cases.sort_by_key(|c| c.id);
    assert_eq!(cases.len(), 4);
    let detail = store.case(&leader.scope, cases[1].id).await.unwrap();
    assert_eq!(detail.case.state.status, CaseStatus::Closed);
    assert_eq!(detail.case.state.resolution_tier, Some(Tier::Township));
    assert!(detail.case.state.escalated);
    assert_eq!(detail.case.state.closed_on, Some(d(2023, 4, 10)));
    assert_eq!(detail.case.category_code, "dispute.neighbour");
    assert_eq!(
        detail.events.first().map(|e| e.on_date),
        Some(d(2023, 4, 3)),
        "registered on the ledger's date"
    );
    let open = &cases[2];
    assert!(
        open.state.status.is_in_progress(),
        "{:?}",
        open.state.status
    );
    assert_eq!(open.state.tier, Tier::Village);
    assert_eq!(cases[3].state.resolution_tier, Some(Tier::County));
    assert_eq!(cases[3].state.satisfied, Some(true));

    let s = store
        .resolution_summary(&leader.scope, d(2023, 1, 1), d(2023, 12, 31))
        .await
        .unwrap();
    assert_eq!(
        (s.closed, s.village, s.township, s.county),
        (3, 1, 1, 1),
        "imported cases count in the 化解 figures"
    );

    let bad = vec![
        CaseImportRow {
            satisfied: None,
            ..case(2, "petition.rural", TOUCHANG, Tier::Village)
        },
        case(3, "dispute.neighbour", TOUCHANG, Tier::Grid),
        case(4, "dispute.neighbour", SHANGDUNDU_VILLAGE, Tier::Village),
        case(5, "没有的类别", TOUCHANG, Tier::Village),
        CaseImportRow {
            closed_on: Some(d(2023, 4, 1)),
            ..case(6, "dispute.neighbour", TOUCHANG, Tier::Village)
        },
    ];
    let out = store
        .import_cases(&op, &CaseRules::default(), &township, &bad, false)
        .await
        .unwrap();
    assert!(!out.summary.committed);
    assert_eq!(
        columns(&out),
        vec![
            (2, "回访结果"),
            (3, "办结层级"),
            (4, "发生地"),
            (5, "类别"),
            (6, "办结日期"),
        ],
        "{:?}",
        out.issues
    );
    assert_eq!(store.cases(&leader.scope, &all).await.unwrap().len(), 4);
}

#[macro_export]
macro_rules! history_conformance_tests {
    ($make:expr) => {
        $crate::history_conformance_tests!(@each $make;
            a_roster_enters_active_and_exited_enrollments_once,
            a_roster_row_the_registry_does_not_bear_out_stops_the_file,
            payouts_become_reconciled_payrolls_per_township_and_month,
            a_case_ledger_replays_each_case_through_the_state_machine
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_history::$name(store).await;
            }
        )*
    };
}
