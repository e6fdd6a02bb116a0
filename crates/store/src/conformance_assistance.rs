//! Assistance stories for the conformance suite, run on every backend by
//! [`assistance_conformance_tests!`]: the life cycle with its refusals, monitoring, payrolls
//! from generation to reconciliation, payouts, and every cross-check planted and found.

use chrono::NaiveDate;
use xiangzhi_domain::assistance::{
    CHILD_IN_DIFFICULTY, EXTREME_POVERTY, MIN_LIVING, MONITORING, NEAR_MIN_LIVING, TEMPORARY_RELIEF,
};
use xiangzhi_domain::assistance_lifecycle::{
    ApplySource, Decision, EnrollmentStatus, ExitReason, StepAction,
};
use xiangzhi_domain::assistance_monitoring::{
    ChecklistItem, Measure, MeasureKind, MonitoringDetail, MonitoringType, MonthlyIncome,
    RiskCause, Visit,
};
use xiangzhi_domain::citizen_id::{self, CitizenId};
use xiangzhi_domain::credit_code;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::assistance::*;
use crate::audit::AuditFilter;
use crate::conformance::{TestStore, actor_at, seeded};
use crate::error::StoreError;
use crate::model::*;
use crate::registry::*;

pub use crate::conformance_assistance_accounts::*;

const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";
const TOWNSHIP: &str = "361002201";
const COUNTY: &str = "361002";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

pub(crate) fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn yuan(n: i64) -> Money {
    Money::from_yuan(n).unwrap()
}

fn cid(seq: u16) -> CitizenId {
    citizen_id::generate(
        "361002",
        NaiveDate::from_ymd_opt(1950 + i32::from(seq % 60), 5, 1 + u32::from(seq % 27)).unwrap(),
        seq,
        seq.is_multiple_of(2),
    )
}

pub(crate) struct People {
    pub(crate) clerk: Actor,
    pub(crate) leader: Actor,
    pub(crate) cadre: Actor,
    pub(crate) shetou: Actor,
    pub(crate) county: Actor,
}

pub(crate) async fn people(store: &TestStore) -> People {
    seeded(store).await;
    People {
        clerk: actor_at(store, TOWNSHIP, Role::TownshipClerk).await,
        leader: actor_at(store, TOWNSHIP, Role::TownshipLeader).await,
        cadre: actor_at(store, TOUCHANG, Role::VillageCadre).await,
        shetou: actor_at(store, SHETOU, Role::VillageCadre).await,
        county: actor_at(store, COUNTY, Role::CountyApprover).await,
    }
}

/// A household with `size` registered members under `org`; returns (household, member ids).
pub(crate) async fn family(
    store: &TestStore,
    actor: &Actor,
    no: &str,
    org: &str,
    size: u16,
    seq: u16,
) -> (Household, Vec<i64>) {
    let h = store
        .create_household(
            actor,
            NewHousehold {
                household_no: no.into(),
                address: format!("{no}号"),
                org_code: code(org),
            },
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..size {
        let p = store
            .create_person(
                actor,
                NewPerson {
                    name: format!("户{no}成员{i}"),
                    citizen_id: cid(seq + i),
                    phone: None,
                    household_id: Some(h.id),
                    relation: Some(if i == 0 {
                        Relation::Head
                    } else {
                        Relation::Child
                    }),
                    org_code: None,
                    tags: Vec::new(),
                },
            )
            .await
            .unwrap();
        ids.push(p.id);
    }
    (h, ids)
}

pub(crate) fn application(
    program: &str,
    household: Option<i64>,
    person: Option<i64>,
    cat: &str,
) -> NewEnrollment {
    NewEnrollment {
        program: program.into(),
        household_id: household,
        person_id: person,
        category: cat.into(),
        source: ApplySource::Household,
        applied_on: d("2023-03-01"),
        note: String::new(),
    }
}

/// Takes an application through every step to active (approved 2023-03-11, paid from April).
pub(crate) async fn activate(store: &TestStore, p: &People, id: i64) -> Enrollment {
    let e = store
        .enrollment_step(
            &p.cadre,
            id,
            &StepAction::VillageReview {
                decision: Decision::Approve,
                minutes: "村民代表会议评议通过".into(),
            },
            d("2023-03-02"),
        )
        .await
        .unwrap();
    let program = store.program(&e.program_code).await.unwrap();
    store
        .enrollment_step(&p.cadre, id, &StepAction::PublicNotice, d("2023-03-03"))
        .await
        .unwrap();
    let e = store
        .enrollment_step(
            &p.clerk,
            id,
            &StepAction::TownshipReview {
                decision: Decision::Approve,
                opinion: "经核查符合条件".into(),
            },
            d("2023-03-10"),
        )
        .await
        .unwrap();
    if program.township_approves {
        assert_eq!(e.state.status, EnrollmentStatus::Active);
        return e;
    }
    store
        .enrollment_step(
            &p.county,
            id,
            &StepAction::CountyApproval {
                decision: Decision::Approve,
                opinion: "同意".into(),
            },
            d("2023-03-11"),
        )
        .await
        .unwrap()
}

pub async fn assistance_lifecycle_with_refusals(store: TestStore) {
    let p = people(&store).await;
    let programs = store.programs().await.unwrap();
    assert_eq!(programs.len(), 8);
    assert_eq!(programs[0].code, MIN_LIVING);
    let (h, members) = family(&store, &p.clerk, "T001", TOUCHANG, 3, 1).await;

    // Wrong unit, wrong category, wrong scope.
    let e = store
        .apply(
            &p.cadre,
            application(MIN_LIVING, None, Some(members[0]), "rural"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(m) if m.contains("按户纳入")),
        "{e}"
    );
    let e = store
        .apply(&p.cadre, application(MIN_LIVING, Some(h.id), None, "nomad"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(m) if m.contains("农村低保")),
        "{e}"
    );
    assert!(matches!(
        store
            .apply(
                &p.shetou,
                application(MIN_LIVING, Some(h.id), None, "rural")
            )
            .await,
        Err(StoreError::NotFound)
    ));

    let audit_before = store.audit_verify().await.unwrap().rows;
    let e = store
        .apply(&p.cadre, application(MIN_LIVING, Some(h.id), None, "rural"))
        .await
        .unwrap();
    assert_eq!(e.state.status, EnrollmentStatus::Applied);
    assert_eq!(e.members, 3);
    assert_eq!(e.subject_name, "户T001成员0");
    assert_eq!(e.deadline, Some(d("2023-03-11")));
    assert_eq!(store.audit_verify().await.unwrap().rows, audit_before + 1);
    // One household, one open application per program.
    assert!(matches!(
        store
            .apply(&p.clerk, application(MIN_LIVING, Some(h.id), None, "rural"))
            .await,
        Err(StoreError::Conflict(_))
    ));

    // Another village neither sees nor acts on it.
    assert!(matches!(
        store.enrollment(&p.shetou.scope, e.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .enrollment_step(&p.shetou, e.id, &StepAction::PublicNotice, d("2023-03-02"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .enrollments(&p.shetou.scope, &EnrollmentQuery::default())
            .await
            .unwrap()
            .is_empty()
    );

    // Steps cannot be skipped.
    let err = store
        .enrollment_step(
            &p.clerk,
            e.id,
            &StepAction::TownshipReview {
                decision: Decision::Approve,
                opinion: "同意".into(),
            },
            d("2023-03-02"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("村级评议")),
        "{err}"
    );

    // Overdue: the village review was due on 03-11.
    let todo = store.todo(&p.cadre, d("2023-03-12")).await.unwrap();
    assert_eq!(
        todo.overdue.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e.id]
    );
    assert_eq!(
        todo.awaiting.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e.id]
    );
    assert!(
        store
            .todo(&p.clerk, d("2023-03-05"))
            .await
            .unwrap()
            .awaiting
            .is_empty()
    );

    store
        .enrollment_step(
            &p.cadre,
            e.id,
            &StepAction::VillageReview {
                decision: Decision::Approve,
                minutes: "评议通过".into(),
            },
            d("2023-03-02"),
        )
        .await
        .unwrap();
    store
        .enrollment_step(&p.cadre, e.id, &StepAction::PublicNotice, d("2023-03-03"))
        .await
        .unwrap();

    // The notice names, never IDs.
    let notice = store
        .public_notice(&p.cadre.scope, None, d("2023-03-05"))
        .await
        .unwrap();
    assert_eq!(notice.len(), 1);
    assert_eq!(notice[0].name, "户T001成员0");
    assert_eq!(notice[0].village, "头昌村委会");
    assert_eq!(notice[0].notice_end, d("2023-03-09"));
    let text = serde_json::to_string(&notice).unwrap();
    assert!(!text.contains(&cid(1).as_str()[6..14]), "{text}");
    assert!(!text.contains("农村低保"));
    assert!(
        store
            .public_notice(&p.cadre.scope, None, d("2023-03-10"))
            .await
            .unwrap()
            .is_empty()
    );

    // Township review waits for the notice; a village cadre cannot do it.
    let review = StepAction::TownshipReview {
        decision: Decision::Approve,
        opinion: "符合条件".into(),
    };
    let err = store
        .enrollment_step(&p.clerk, e.id, &review, d("2023-03-09"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("公示期满")),
        "{err}"
    );
    assert!(matches!(
        store
            .enrollment_step(&p.cadre, e.id, &review, d("2023-03-10"))
            .await,
        Err(StoreError::Forbidden(_))
    ));
    store
        .enrollment_step(&p.clerk, e.id, &review, d("2023-03-10"))
        .await
        .unwrap();
    let todo = store.todo(&p.county, d("2023-03-11")).await.unwrap();
    assert_eq!(
        todo.awaiting.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![e.id]
    );
    let e = store
        .enrollment_step(
            &p.county,
            e.id,
            &StepAction::CountyApproval {
                decision: Decision::Approve,
                opinion: "同意纳入".into(),
            },
            d("2023-03-11"),
        )
        .await
        .unwrap();
    assert_eq!(e.state.status, EnrollmentStatus::Active);
    assert_eq!(e.state.start_on, Some(d("2023-04-01")));
    assert_eq!(e.state.next_review, Some(d("2024-03-11")));
    let steps = store.enrollment_steps(&p.cadre.scope, e.id).await.unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(
        names,
        [
            "apply",
            "village_review",
            "public_notice",
            "township_review",
            "county_approval"
        ]
    );
    assert_eq!(steps[1].opinion, "评议通过");
    assert_eq!(steps[4].actor, p.county.username);

    // Whoever entered an application cannot approve it.
    let (h2, _) = family(&store, &p.clerk, "T002", TOUCHANG, 1, 10).await;
    let e2 = store
        .apply(
            &p.clerk,
            application(MIN_LIVING, Some(h2.id), None, "rural"),
        )
        .await
        .unwrap();
    for (step, on) in [
        (
            StepAction::VillageReview {
                decision: Decision::Approve,
                minutes: "通过".into(),
            },
            "2023-03-02",
        ),
        (StepAction::PublicNotice, "2023-03-03"),
    ] {
        store
            .enrollment_step(&p.cadre, e2.id, &step, d(on))
            .await
            .unwrap();
    }
    let err = store
        .enrollment_step(&p.clerk, e2.id, &review, d("2023-03-10"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Forbidden(m) if m.contains("不能审核或审批")),
        "{err}"
    );
    store
        .enrollment_step(&p.leader, e2.id, &review, d("2023-03-10"))
        .await
        .unwrap();
    let e2 = store
        .enrollment_step(
            &p.county,
            e2.id,
            &StepAction::CountyApproval {
                decision: Decision::Reject,
                opinion: "家庭财产超标".into(),
            },
            d("2023-03-12"),
        )
        .await
        .unwrap();
    assert_eq!(e2.state.status, EnrollmentStatus::Rejected);

    // Review, then exit with a reason; each step audited.
    let e = store
        .enrollment_step(
            &p.clerk,
            e.id,
            &StepAction::Review {
                decision: Decision::Approve,
                opinion: "收入仍低于标准".into(),
            },
            d("2024-03-01"),
        )
        .await
        .unwrap();
    assert_eq!(e.state.next_review, Some(d("2025-03-01")));
    let e = store
        .enrollment_step(
            &p.cadre,
            e.id,
            &StepAction::Exit {
                reason: ExitReason::IncomeAboveLine,
                note: "子女务工".into(),
            },
            d("2024-06-30"),
        )
        .await
        .unwrap();
    assert_eq!(e.state.status, EnrollmentStatus::Exited);
    let log = store
        .audit_list(
            &p.clerk.scope,
            &AuditFilter {
                entity: Some("enrollment".into()),
                entity_id: Some(e.id.to_string()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // apply, four steps to active, review, exit: refused attempts leave no trace.
    assert_eq!(log.len(), 7);
    assert!(store.audit_verify().await.unwrap().first_break.is_none());
    // Listing by program and status.
    let active = store
        .enrollments(
            &p.clerk.scope,
            &EnrollmentQuery {
                program: Some(MIN_LIVING.into()),
                status: Some(EnrollmentStatus::Rejected),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(active.iter().map(|e| e.id).collect::<Vec<_>>(), vec![e2.id]);
}

pub async fn assistance_programs_are_data(store: TestStore) {
    let p = people(&store).await;
    let mut prog = store.program(MIN_LIVING).await.unwrap();
    prog.notice_days = 5;
    assert!(matches!(
        store.save_program(&p.clerk, &prog).await,
        Err(StoreError::Forbidden(_))
    ));
    let admin = actor_at(&store, COUNTY, Role::Admin).await;
    store.save_program(&admin, &prog).await.unwrap();
    assert_eq!(store.program(MIN_LIVING).await.unwrap().notice_days, 5);
    prog.incompatible.push("nothing_here".into());
    let e = store.save_program(&admin, &prog).await.unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(m) if m.contains("nothing_here")),
        "{e}"
    );
    // Migrating again keeps the edit.
    store.migrate().await.unwrap();
    assert_eq!(store.program(MIN_LIVING).await.unwrap().notice_days, 5);
}

pub async fn assistance_payroll_from_generation_to_reconciliation(store: TestStore) {
    let p = people(&store).await;
    let (h1, _) = family(&store, &p.clerk, "P001", TOUCHANG, 3, 100).await;
    let (h2, _) = family(&store, &p.clerk, "P002", SHETOU, 2, 110).await;
    let (_, single) = family(&store, &p.clerk, "P003", TOUCHANG, 1, 120).await;
    for (h, cat, village) in [(h1.id, "rural", &p.cadre), (h2.id, "urban", &p.shetou)] {
        // Entered by the clerk, so the leader reviews.
        let e = store
            .apply(&p.clerk, application(MIN_LIVING, Some(h), None, cat))
            .await
            .unwrap();
        let review = StepAction::VillageReview {
            decision: Decision::Approve,
            minutes: "通过".into(),
        };
        store
            .enrollment_step(village, e.id, &review, d("2023-03-02"))
            .await
            .unwrap();
        store
            .enrollment_step(village, e.id, &StepAction::PublicNotice, d("2023-03-03"))
            .await
            .unwrap();
        let township = StepAction::TownshipReview {
            decision: Decision::Approve,
            opinion: "同意".into(),
        };
        store
            .enrollment_step(&p.leader, e.id, &township, d("2023-03-10"))
            .await
            .unwrap();
        let county = StepAction::CountyApproval {
            decision: Decision::Approve,
            opinion: "同意".into(),
        };
        store
            .enrollment_step(&p.county, e.id, &county, d("2023-03-11"))
            .await
            .unwrap();
    }
    let orphan = store
        .apply(
            &p.cadre,
            application(
                CHILD_IN_DIFFICULTY,
                None,
                Some(single[0]),
                "de_facto_orphan",
            ),
        )
        .await
        .unwrap();
    activate(&store, &p, orphan.id).await;

    // Bad period, non-monthly program, foreign unit.
    let e = store
        .generate_payroll(&p.clerk, MIN_LIVING, &code(TOWNSHIP), "2023")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(m) if m.contains("月份")),
        "{e}"
    );
    let e = store
        .generate_payroll(&p.clerk, TEMPORARY_RELIEF, &code(TOWNSHIP), "202305")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(m) if m.contains("一次性")),
        "{e}"
    );
    assert!(matches!(
        store
            .generate_payroll(&p.cadre, MIN_LIVING, &code(SHETOU), "202305")
            .await,
        Err(StoreError::NotFound)
    ));
    // March: approved in March, paid from April: nothing yet.
    let march = store
        .generate_payroll(&p.clerk, MIN_LIVING, &code(TOWNSHIP), "202303")
        .await
        .unwrap();
    assert_eq!(march.lines, 0);

    let y = store
        .generate_payroll(&p.clerk, MIN_LIVING, &code(TOWNSHIP), "202305")
        .await
        .unwrap();
    assert_eq!(y.lines, 2);
    // 3 × 640 rural + 2 × 850 urban.
    assert_eq!(y.total, yuan(3 * 640 + 2 * 850));
    assert_eq!(y.status, PayrollStatus::Draft);
    assert!(matches!(
        store
            .generate_payroll(&p.clerk, MIN_LIVING, &code(TOWNSHIP), "202305")
            .await,
        Err(StoreError::Conflict(_))
    ));
    let lines = store
        .payroll_lines(&p.clerk.scope, y.id, None, 0)
        .await
        .unwrap();
    assert_eq!(
        lines.iter().map(|l| l.amount).collect::<Vec<_>>(),
        vec![yuan(1920), yuan(1700)]
    );
    assert_eq!(lines[0].payee_name, "户P001成员0");
    // A village does not see the township's payroll.
    assert!(matches!(
        store.payroll(&p.cadre.scope, y.id).await,
        Err(StoreError::NotFound)
    ));
    let orphans = store
        .generate_payroll(&p.cadre, CHILD_IN_DIFFICULTY, &code(TOUCHANG), "202305")
        .await
        .unwrap();
    assert_eq!(orphans.total, yuan(1380));

    // Approval: not by its maker, not by a village cadre; export needs approval.
    assert!(matches!(
        store.payroll_bank_lines(&p.clerk, y.id).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.approve_payroll(&p.clerk, y.id).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        store.approve_payroll(&p.cadre, orphans.id).await,
        Err(StoreError::Forbidden(_))
    ));
    let y = store.approve_payroll(&p.leader, y.id).await.unwrap();
    assert_eq!(y.status, PayrollStatus::Approved);
    let auditor = actor_at(&store, TOWNSHIP, Role::Auditor).await;
    assert!(matches!(
        store.payroll_bank_lines(&auditor, y.id).await,
        Err(StoreError::Forbidden(_))
    ));
    let bank = store.payroll_bank_lines(&p.clerk, y.id).await.unwrap();
    assert_eq!(bank.len(), 2);
    assert_eq!(bank[0].citizen_id, cid(100).as_str());
    assert_eq!(bank[1].village, "舍头村委会");
    assert_eq!(
        store.payroll(&p.clerk.scope, y.id).await.unwrap().status,
        PayrollStatus::Exported
    );

    // The bank's answer, line by line; a failure needs a reason.
    let e = store
        .mark_lines(
            &p.clerk,
            y.id,
            &[LineOutcome {
                line_id: lines[1].id,
                status: LineStatus::Failed,
                note: " ".into(),
            }],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, StoreError::Invalid(m) if m.contains("原因")),
        "{e}"
    );
    let r = store
        .mark_lines(
            &p.clerk,
            y.id,
            &[LineOutcome {
                line_id: lines[0].id,
                status: LineStatus::Paid,
                note: String::new(),
            }],
        )
        .await
        .unwrap();
    assert_eq!((r.paid, r.pending), (1, 1));
    let r = store.reconcile_payroll(&p.clerk, y.id).await.unwrap();
    assert!(!r.reconciled);
    store
        .mark_lines(
            &p.clerk,
            y.id,
            &[LineOutcome {
                line_id: lines[1].id,
                status: LineStatus::Failed,
                note: "账户已注销".into(),
            }],
        )
        .await
        .unwrap();
    let r = store.reconcile_payroll(&p.clerk, y.id).await.unwrap();
    assert!(r.reconciled);
    assert_eq!(r.paid_amount, yuan(1920));
    assert_eq!(r.failed_amount, yuan(1700));
    assert_eq!(
        store.payroll(&p.clerk.scope, y.id).await.unwrap().status,
        PayrollStatus::Reconciled
    );
    let log = store
        .audit_list(
            &p.clerk.scope,
            &AuditFilter {
                entity: Some("payroll".into()),
                entity_id: Some(y.id.to_string()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // generate, approve, export, mark ×2, reconcile
    assert_eq!(log.len(), 6);
    assert!(log.iter().all(|e| {
        !e.new_value
            .as_ref()
            .is_some_and(|v| v.to_string().contains(cid(100).as_str()))
    }));
}

pub async fn assistance_monitoring_and_payouts(store: TestStore) {
    let p = people(&store).await;
    let (h, members) = family(&store, &p.clerk, "M001", TOUCHANG, 4, 200).await;
    let e = store
        .apply(
            &p.cadre,
            application(MONITORING, Some(h.id), None, "sudden_hardship"),
        )
        .await
        .unwrap();
    let e = activate(&store, &p, e.id).await;
    assert_eq!(e.state.status, EnrollmentStatus::Active);
    let mut detail = MonitoringDetail {
        kind: MonitoringType::SuddenHardship,
        causes: vec![RiskCause::Illness, RiskCause::LackOfLabour],
        measures: vec![Measure {
            kind: MeasureKind::Medical,
            description: "大病救助".into(),
            start: d("2023-03-15"),
            end: None,
        }],
        responsible: p.cadre.username.clone(),
        visits: vec![Visit {
            due: d("2023-06-30"),
            done_on: None,
            by: String::new(),
            note: String::new(),
        }],
        incomes: (202304..=202309)
            .map(|m| MonthlyIncome {
                month: m.to_string(),
                per_capita: yuan(700),
            })
            .collect(),
        checklist: ChecklistItem::ALL[..5].to_vec(),
    };
    assert!(matches!(
        store.save_monitoring(&p.shetou, e.id, &detail).await,
        Err(StoreError::NotFound)
    ));
    store
        .save_monitoring(&p.cadre, e.id, &detail)
        .await
        .unwrap();
    assert_eq!(
        store.monitoring(&p.cadre.scope, e.id).await.unwrap(),
        detail
    );
    let todo = store.todo(&p.cadre, d("2023-07-01")).await.unwrap();
    assert_eq!(todo.visits_due.len(), 1);
    assert!(
        store
            .todo(&p.shetou, d("2023-07-01"))
            .await
            .unwrap()
            .visits_due
            .is_empty()
    );

    let err = store
        .clear_risk(&p.clerk, e.id, yuan(600), d("2023-10-10"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("饮水安全")),
        "{err}"
    );
    detail.checklist = ChecklistItem::ALL.to_vec();
    store
        .save_monitoring(&p.cadre, e.id, &detail)
        .await
        .unwrap();
    let err = store
        .clear_risk(&p.clerk, e.id, yuan(600), d("2023-09-10"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid(m) if m.contains("202303（未登记）")),
        "{err}"
    );
    let e = store
        .clear_risk(&p.clerk, e.id, yuan(600), d("2023-10-10"))
        .await
        .unwrap();
    assert_eq!(e.state.status, EnrollmentStatus::Exited);
    assert_eq!(e.state.exit_reason, Some(ExitReason::RiskCleared));
    // The household stays on record.
    assert_eq!(
        store
            .monitoring(&p.cadre.scope, e.id)
            .await
            .unwrap()
            .causes
            .len(),
        2
    );

    // Temporary relief: one-off cash; in-kind distributions.
    let t = store
        .apply(
            &p.cadre,
            application(TEMPORARY_RELIEF, Some(h.id), None, ""),
        )
        .await
        .unwrap();
    let t = activate(&store, &p, t.id).await;
    let bad = store
        .record_payout(
            &p.cadre,
            NewPayout {
                kind: PayoutKind::Cash,
                program: TEMPORARY_RELIEF.into(),
                enrollment_id: Some(t.id),
                household_id: Some(h.id),
                person_id: None,
                paid_on: d("2023-03-20"),
                amount: None,
                item: None,
                quantity: None,
                note: String::new(),
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&bad, StoreError::Invalid(m) if m.contains("金额")),
        "{bad}"
    );
    store
        .record_payout(
            &p.cadre,
            NewPayout {
                kind: PayoutKind::Cash,
                program: TEMPORARY_RELIEF.into(),
                enrollment_id: Some(t.id),
                household_id: Some(h.id),
                person_id: Some(members[0]),
                paid_on: d("2023-03-20"),
                amount: Some(Money::parse_yuan("1315.50").unwrap()),
                item: None,
                quantity: None,
                note: "因病".into(),
            },
        )
        .await
        .unwrap();
    for (item, n) in [("棉被", 2), ("大衣", 1)] {
        let out = store
            .record_payout(
                &p.cadre,
                NewPayout {
                    kind: PayoutKind::InKind,
                    program: TEMPORARY_RELIEF.into(),
                    enrollment_id: None,
                    household_id: Some(h.id),
                    person_id: None,
                    paid_on: d("2023-12-20"),
                    amount: None,
                    item: Some(item.into()),
                    quantity: Some(n),
                    note: "冬季送温暖".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(out.recipient, "户M001成员0");
    }
    assert!(matches!(
        store
            .record_payout(
                &p.shetou,
                NewPayout {
                    kind: PayoutKind::InKind,
                    program: TEMPORARY_RELIEF.into(),
                    enrollment_id: None,
                    household_id: Some(h.id),
                    person_id: None,
                    paid_on: d("2023-12-20"),
                    amount: None,
                    item: Some("棉被".into()),
                    quantity: Some(1),
                    note: String::new(),
                }
            )
            .await,
        Err(StoreError::NotFound)
    ));
    let totals = store.payout_totals(&p.clerk.scope, 2023).await.unwrap();
    let cash = totals.iter().find(|t| t.kind == PayoutKind::Cash).unwrap();
    assert_eq!(
        (cash.households, cash.persons, cash.amount),
        (1, 1, Money::parse_yuan("1315.50").unwrap())
    );
    let quilts = totals
        .iter()
        .find(|t| t.item.as_deref() == Some("棉被"))
        .unwrap();
    assert_eq!(quilts.quantity, 2);
    assert!(
        store
            .payout_totals(&p.shetou.scope, 2023)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .payout_totals(&p.clerk.scope, 2022)
            .await
            .unwrap()
            .is_empty()
    );
}

fn options() -> CheckOptions {
    CheckOptions {
        today: d("2023-06-15"),
        period: None,
        capital_threshold: yuan(500_000),
    }
}

fn kinds(hits: &[CheckHit]) -> Vec<CheckKind> {
    hits.iter().map(|h| h.check).collect()
}

/// A clean township: two 低保 households and a 特困 person, paid for May.
async fn clean_set(store: &TestStore, p: &People) -> (Vec<i64>, Vec<i64>, i64) {
    let (h1, m1) = family(store, &p.clerk, "C001", TOUCHANG, 2, 300).await;
    let (h2, m2) = family(store, &p.clerk, "C002", TOUCHANG, 1, 310).await;
    let (_, lone) = family(store, &p.clerk, "C003", TOUCHANG, 1, 320).await;
    for h in [h1.id, h2.id] {
        let e = store
            .apply(&p.cadre, application(MIN_LIVING, Some(h), None, "rural"))
            .await
            .unwrap();
        activate(store, p, e.id).await;
    }
    let e = store
        .apply(
            &p.cadre,
            application(EXTREME_POVERTY, None, Some(lone[0]), "full_care"),
        )
        .await
        .unwrap();
    activate(store, p, e.id).await;
    let y = store
        .generate_payroll(&p.clerk, MIN_LIVING, &code(TOWNSHIP), "202305")
        .await
        .unwrap();
    assert_eq!(y.lines, 2);
    let mut members = m1;
    members.extend(m2);
    (members, lone, y.id)
}

pub async fn assistance_checks_find_planted_faults(store: TestStore) {
    let p = people(&store).await;
    let (members, lone, _) = clean_set(&store, &p).await;
    let clean = store.run_checks(&p.clerk.scope, &options()).await.unwrap();
    assert!(clean.is_empty(), "{clean:?}");

    // 1. A dead payee.
    store
        .record_life_event(
            &p.clerk,
            LifeEvent::Death {
                person_id: members[0],
                date: d("2023-05-10"),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let hits = store.run_checks(&p.clerk.scope, &options()).await.unwrap();
    assert_eq!(kinds(&hits), vec![CheckKind::DeadOrMovedOnPayroll]);
    assert!(
        hits[0]
            .records
            .iter()
            .any(|r| r.kind == "person" && r.id == members[0])
    );
    assert!(hits[0].message.contains("已死亡"), "{}", hits[0].message);
    // Not seen from another village.
    assert!(
        store
            .run_checks(&p.shetou.scope, &options())
            .await
            .unwrap()
            .is_empty()
    );

    // 2. Incompatible programs: the 特困 person's household also on 低保.
    let (h4, m4) = family(&store, &p.clerk, "C004", TOUCHANG, 1, 330).await;
    let e = store
        .apply(
            &p.cadre,
            application(EXTREME_POVERTY, None, Some(m4[0]), "self_care"),
        )
        .await
        .unwrap();
    activate(&store, &p, e.id).await;
    let e2 = store
        .apply(
            &p.cadre,
            application(MIN_LIVING, Some(h4.id), None, "rural"),
        )
        .await
        .unwrap();
    activate(&store, &p, e2.id).await;
    let hits = store.run_checks(&p.clerk.scope, &options()).await.unwrap();
    let clash: Vec<_> = hits
        .iter()
        .filter(|h| h.check == CheckKind::IncompatiblePrograms)
        .collect();
    assert_eq!(clash.len(), 1, "{hits:?}");
    assert!(
        clash[0]
            .records
            .iter()
            .any(|r| r.kind == "enrollment" && r.id == e.id)
    );
    assert!(
        clash[0]
            .records
            .iter()
            .any(|r| r.kind == "enrollment" && r.id == e2.id)
    );
    // 低保 with 低保边缘 too.
    let (h5, _) = family(&store, &p.clerk, "C005", TOUCHANG, 1, 340).await;
    for prog in [MIN_LIVING, NEAR_MIN_LIVING] {
        let cat = if prog == MIN_LIVING { "rural" } else { "" };
        let e = store
            .apply(&p.cadre, application(prog, Some(h5.id), None, cat))
            .await
            .unwrap();
        activate(&store, &p, e.id).await;
    }
    let hits = store.run_checks(&p.clerk.scope, &options()).await.unwrap();
    assert_eq!(
        hits.iter()
            .filter(|h| h.check == CheckKind::IncompatiblePrograms)
            .count(),
        2
    );

    // 3. Paid twice: a village payroll for the same month beside the township's.
    store
        .generate_payroll(&p.cadre, MIN_LIVING, &code(TOUCHANG), "202305")
        .await
        .unwrap();
    let hits = store.run_checks(&p.clerk.scope, &options()).await.unwrap();
    let twice: Vec<_> = hits
        .iter()
        .filter(|h| h.check == CheckKind::PaidTwice)
        .collect();
    // The heads of C001 (dead, but still on both) and C002.
    assert_eq!(twice.len(), 2, "{hits:?}");
    assert_eq!(
        twice[0]
            .records
            .iter()
            .filter(|r| r.kind == "payroll_line")
            .count(),
        2
    );
    let june = CheckOptions {
        period: Some("202306".into()),
        ..options()
    };
    assert!(
        store
            .run_checks(&p.clerk.scope, &june)
            .await
            .unwrap()
            .iter()
            .all(|h| h.check != CheckKind::PaidTwice)
    );

    // 4. An enrolled household member owns a large enterprise.
    let ent = store
        .create_enterprise(
            &p.clerk,
            NewEnterprise {
                name: "连城建材有限公司".into(),
                credit_code: credit_code::generate("91361002MA35WXY12").unwrap(),
                kind: "construction".into(),
                registered_capital: Some(yuan(2_000_000)),
                settled_on: None,
                org_code: code(TOUCHANG),
                contact_name: None,
                contact_phone: None,
            },
        )
        .await
        .unwrap();
    store
        .add_enterprise_owner(&p.clerk, ent.id, members[2])
        .await
        .unwrap();
    let hits = store.run_checks(&p.clerk.scope, &options()).await.unwrap();
    let owner: Vec<_> = hits
        .iter()
        .filter(|h| h.check == CheckKind::EnterpriseOwner)
        .collect();
    assert_eq!(owner.len(), 1, "{hits:?}");
    assert!(
        owner[0]
            .records
            .iter()
            .any(|r| r.kind == "enterprise" && r.id == ent.id)
    );
    let high = CheckOptions {
        capital_threshold: yuan(3_000_000),
        ..options()
    };
    assert!(
        store
            .run_checks(&p.clerk.scope, &high)
            .await
            .unwrap()
            .iter()
            .all(|h| h.check != CheckKind::EnterpriseOwner)
    );

    // 5. A payee now living outside the paying unit: 特困 person moved to 舍头村, paid by 头昌村.
    store
        .update_person(
            &p.clerk,
            lone[0],
            PersonUpdate {
                org_code: Some(code(SHETOU)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .generate_payroll(&p.cadre, EXTREME_POVERTY, &code(TOUCHANG), "202305")
        .await
        .unwrap();
    let hits = store.run_checks(&p.clerk.scope, &options()).await.unwrap();
    let outside: Vec<_> = hits
        .iter()
        .filter(|h| h.check == CheckKind::PayeeOutsideArea)
        .collect();
    assert_eq!(outside.len(), 1, "{hits:?}");
    assert!(
        outside[0]
            .records
            .iter()
            .any(|r| r.kind == "person" && r.id == lone[0])
    );
    assert!(
        outside[0].message.contains("舍头村委会"),
        "{}",
        outside[0].message
    );

    // 6. Review overdue: a year after approval.
    assert!(hits.iter().all(|h| h.check != CheckKind::ReviewOverdue));
    let later = CheckOptions {
        today: d("2024-03-12"),
        ..options()
    };
    let hits = store.run_checks(&p.clerk.scope, &later).await.unwrap();
    // Five 低保/特困 enrollments approved 2023-03-11 with a 12-month review (C001 … C005);
    // 低保边缘 too; one more for C004's 特困.
    let overdue = hits
        .iter()
        .filter(|h| h.check == CheckKind::ReviewOverdue)
        .count();
    assert_eq!(overdue, 7, "{hits:?}");
    let links: Vec<&str> = hits
        .iter()
        .flat_map(|h| h.records.iter().map(|r| r.kind.as_str()))
        .collect();
    assert!(links.contains(&"enrollment") && links.contains(&"payroll_line"));
}

#[macro_export]
macro_rules! assistance_conformance_tests {
    ($make:expr) => {
        $crate::assistance_conformance_tests!(@each $make;
            assistance_lifecycle_with_refusals,
            assistance_programs_are_data,
            assistance_payroll_from_generation_to_reconciliation,
            assistance_monitoring_and_payouts,
            assistance_checks_find_planted_faults,
            assistance_payee_accounts_are_sealed_and_in_the_bank_file,
            assistance_check_runs_are_kept_per_scope,
            assistance_monitored_households_by_village,
            assistance_programs_are_county_wide
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_assistance::$name(store).await;
            }
        )*
    };
}
