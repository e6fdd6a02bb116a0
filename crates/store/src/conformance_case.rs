//! Case, key-person, project and task stories for the conformance suite, run on every backend
//! by [`case_conformance_tests!`].

use chrono::NaiveDate;
use xiangzhi_domain::case::{CaseAction, CaseKind, CaseStatus, EventKind, RiskColor, Tier};
use xiangzhi_domain::credit_code;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::audit::AuditFilter;
use crate::case::*;
use crate::conformance::{TestStore, actor_at, seeded};
use crate::conformance_registry::cid;
use crate::error::{StoreError, StoreResult};
use crate::model::*;
use crate::registry::{NewEnterprise, NewPerson};

const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";
const TOWNSHIP: &str = "361002201";
const COUNTY: &str = "361002";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// 头昌村 with two grids, and one actor per tier.
struct World {
    grid1: DivisionCode,
    grid2: DivisionCode,
    grid_worker: Actor,
    cadre: Actor,
    shetou_cadre: Actor,
    clerk: Actor,
    county: Actor,
    rules: CaseRules,
}

async fn world(store: &TestStore) -> World {
    seeded(store).await;
    let clerk = actor_at(store, TOWNSHIP, Role::TownshipClerk).await;
    let grid1 = store
        .add_grid(&clerk, &code(TOUCHANG), "第一网格")
        .await
        .unwrap()
        .code;
    let grid2 = store
        .add_grid(&clerk, &code(TOUCHANG), "第二网格")
        .await
        .unwrap()
        .code;
    World {
        grid_worker: actor_at(store, grid1.as_str(), Role::GridWorker).await,
        cadre: actor_at(store, TOUCHANG, Role::VillageCadre).await,
        shetou_cadre: actor_at(store, SHETOU, Role::VillageCadre).await,
        county: actor_at(store, COUNTY, Role::Admin).await,
        clerk,
        grid1,
        grid2,
        rules: CaseRules::default(),
    }
}

fn new_case(category: &str, org: &DivisionCode, on: NaiveDate) -> NewCase {
    NewCase {
        category: category.into(),
        title: "宅基地边界纠纷".into(),
        description: "两户因宅基地边界发生争执".into(),
        org_code: org.clone(),
        location: "头昌村3组".into(),
        urgent: false,
        risk: Some(RiskColor::Yellow),
        source: "grid".into(),
        parties: Vec::new(),
        registered_on: on,
    }
}

async fn act(
    store: &TestStore,
    w: &World,
    actor: &Actor,
    id: i64,
    action: CaseAction,
    on: NaiveDate,
) -> StoreResult<Case> {
    store
        .act_on_case(actor, &w.rules, id, &action, on, None)
        .await
}

async fn person(store: &TestStore, actor: &Actor, name: &str, seq: u16, org: &str) -> i64 {
    store
        .create_person(
            actor,
            NewPerson {
                name: name.into(),
                citizen_id: cid(1970, seq, seq.is_multiple_of(2)),
                phone: None,
                household_id: None,
                relation: None,
                org_code: Some(code(org)),
                tags: Vec::new(),
            },
        )
        .await
        .unwrap()
        .id
}

pub async fn case_lifecycle_through_the_state_machine(store: TestStore) {
    let w = world(&store).await;
    let applicant = person(&store, &w.clerk, "王大明", 11, w.grid1.as_str()).await;
    let foreigner = person(&store, &w.clerk, "舍头人", 12, SHETOU).await;

    // 登记 by the grid worker in the grid, Monday 2024-03-04.
    let mut nc = new_case("dispute.neighbour", &w.grid1, d(2024, 3, 4));
    nc.parties = vec![
        PartyInput {
            person_id: Some(applicant),
            name: String::new(),
            role: PartyRole::Applicant,
        },
        PartyInput {
            person_id: None,
            name: "李四".into(),
            role: PartyRole::Respondent,
        },
    ];
    let c = store
        .register_case(&w.grid_worker, &w.rules, nc.clone())
        .await
        .unwrap();
    assert_eq!(c.kind, CaseKind::Dispute);
    assert_eq!(c.category_label, "邻里纠纷");
    assert_eq!(c.state.status, CaseStatus::Registered);
    assert_eq!(c.state.tier, Tier::Grid);
    assert_eq!(c.state.acceptance_deadline, d(2024, 3, 6), "2 working days");
    assert_eq!(c.state.risk, Some(RiskColor::Yellow));

    // A party outside the actor's scope is refused and nothing is written.
    let before = store
        .cases(&Scope::all(), &CaseQuery::default())
        .await
        .unwrap()
        .len();
    let mut bad = nc.clone();
    bad.parties = vec![PartyInput {
        person_id: Some(foreigner),
        name: String::new(),
        role: PartyRole::Applicant,
    }];
    let e = store
        .register_case(&w.grid_worker, &w.rules, bad)
        .await
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref m) if m.contains("不在本辖区")),
        "{e}"
    );
    let mut bad = nc.clone();
    bad.title = "  ".into();
    assert!(matches!(
        store.register_case(&w.grid_worker, &w.rules, bad).await,
        Err(StoreError::Invalid(_))
    ));
    let mut bad = nc.clone();
    bad.category = "nonsense".into();
    assert!(matches!(
        store.register_case(&w.grid_worker, &w.rules, bad).await,
        Err(StoreError::Invalid(_))
    ));
    let auditor = actor_at(&store, TOWNSHIP, Role::Auditor).await;
    assert!(matches!(
        store.register_case(&auditor, &w.rules, nc.clone()).await,
        Err(StoreError::Forbidden(_))
    ));
    assert_eq!(
        store
            .cases(&Scope::all(), &CaseQuery::default())
            .await
            .unwrap()
            .len(),
        before
    );

    let id = c.id;
    let c = act(
        &store,
        &w,
        &w.grid_worker,
        id,
        CaseAction::Accept,
        d(2024, 3, 4),
    )
    .await
    .unwrap();
    assert_eq!(
        c.state.closing_deadline,
        Some(d(2024, 3, 13)),
        "7 working days"
    );

    // Illegal: close before a reply. Refused in Chinese; nothing changes.
    let e = act(
        &store,
        &w,
        &w.grid_worker,
        id,
        CaseAction::Close,
        d(2024, 3, 5),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, StoreError::Invalid(ref m) if m.contains("不能办结")),
        "{e}"
    );
    let same = store.case(&Scope::all(), id).await.unwrap();
    assert_eq!(same.case.version, c.version);
    assert_eq!(same.events.len(), 2);
    // An auditor may not act; a date before the last step is refused.
    assert!(matches!(
        act(&store, &w, &auditor, id, CaseAction::Remind, d(2024, 3, 5)).await,
        Err(StoreError::Forbidden(_))
    ));
    assert!(matches!(
        act(
            &store,
            &w,
            &w.grid_worker,
            id,
            CaseAction::Remind,
            d(2024, 3, 1)
        )
        .await,
        Err(StoreError::Invalid(_))
    ));

    // 上报 to the village, which dispatches to itself and handles it.
    let c = act(
        &store,
        &w,
        &w.grid_worker,
        id,
        CaseAction::Escalate {
            reason: "涉及两个网格".into(),
        },
        d(2024, 3, 5),
    )
    .await
    .unwrap();
    assert_eq!(
        (c.state.tier, c.state.status),
        (Tier::Village, CaseStatus::Accepted)
    );
    // The grid worker can no longer dispatch it.
    assert!(matches!(
        act(
            &store,
            &w,
            &w.grid_worker,
            id,
            CaseAction::Assign {
                to_tier: Tier::Grid,
                assignee: "grid".into()
            },
            d(2024, 3, 5)
        )
        .await,
        Err(StoreError::Invalid(_))
    ));
    let steps = [
        CaseAction::Assign {
            to_tier: Tier::Village,
            assignee: "cadre".into(),
        },
        CaseAction::StartHandling,
        CaseAction::Reply {
            text: "经调解双方达成协议".into(),
        },
        CaseAction::FollowUp {
            satisfied: true,
            note: String::new(),
        },
        CaseAction::Close,
    ];
    let mut c = c;
    for s in steps {
        c = act(&store, &w, &w.cadre, id, s, d(2024, 3, 7))
            .await
            .unwrap();
    }
    assert_eq!(c.state.status, CaseStatus::Closed);
    assert_eq!(c.state.resolution_tier, Some(Tier::Village));
    assert_eq!(c.state.closed_on_time(), Some(true));

    // A stale version is refused.
    let e = store
        .act_on_case(
            &w.cadre,
            &w.rules,
            id,
            &CaseAction::Archive,
            d(2024, 3, 8),
            Some(c.version - 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e}");

    let detail = store.case(&w.cadre.scope, id).await.unwrap();
    let kinds: Vec<EventKind> = detail.events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::Register,
            EventKind::Accept,
            EventKind::Escalate,
            EventKind::Assign,
            EventKind::StartHandling,
            EventKind::Reply,
            EventKind::FollowUp,
            EventKind::Close
        ]
    );
    assert_eq!(detail.events[2].actor_tier, Tier::Grid);
    assert!(detail.events[2].description.contains("涉及两个网格"));
    assert_eq!(detail.events[7].actor_name, w.cadre.username);
    assert_eq!(detail.parties.len(), 2);
    assert_eq!(detail.parties[0].name, "王大明");
    assert_eq!(detail.parties[0].person_id, Some(applicant));

    // Every step is in the audit log, in the case's scope.
    let audit = store
        .audit_list(
            &w.cadre.scope,
            &AuditFilter {
                entity: Some("case".into()),
                entity_id: Some(id.to_string()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 8);
    assert!(audit.iter().any(|a| a.action == "close"));
    assert!(store.audit_verify().await.unwrap().first_break.is_none());
}

pub async fn case_scope_hides_other_grids_and_villages(store: TestStore) {
    let w = world(&store).await;
    let on = d(2024, 3, 4);
    let a = store
        .register_case(&w.clerk, &w.rules, new_case("dispute.family", &w.grid1, on))
        .await
        .unwrap();
    let b = store
        .register_case(&w.clerk, &w.rules, new_case("hazard.fire", &w.grid2, on))
        .await
        .unwrap();
    let c = store
        .register_case(
            &w.clerk,
            &w.rules,
            new_case("petition.labour", &code(SHETOU), on),
        )
        .await
        .unwrap();
    let ids = |v: Vec<Case>| {
        let mut v: Vec<i64> = v.iter().map(|c| c.id).collect();
        v.sort();
        v
    };
    let all = CaseQuery::default();
    assert_eq!(
        ids(store.cases(&w.grid_worker.scope, &all).await.unwrap()),
        [a.id]
    );
    assert_eq!(
        ids(store.cases(&w.cadre.scope, &all).await.unwrap()),
        [a.id, b.id]
    );
    assert_eq!(
        ids(store.cases(&w.clerk.scope, &all).await.unwrap()),
        [a.id, b.id, c.id]
    );
    // Pages, actions and filters on a foreign case: not found.
    assert!(matches!(
        store.case(&w.grid_worker.scope, b.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.case(&w.cadre.scope, c.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        act(&store, &w, &w.cadre, c.id, CaseAction::Remind, on).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .cases(
                &w.cadre.scope,
                &CaseQuery {
                    org: Some(code(SHETOU)),
                    ..Default::default()
                }
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // Registering a case in another village is the same as a unit that does not exist.
    assert!(matches!(
        store
            .register_case(
                &w.cadre,
                &w.rules,
                new_case("dispute.family", &code(SHETOU), on)
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // Filters.
    let petitions = store
        .cases(
            &w.clerk.scope,
            &CaseQuery {
                kind: Some(CaseKind::Petition),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(petitions), [c.id]);
    let by_cat = store
        .cases(
            &w.clerk.scope,
            &CaseQuery {
                category: Some("dispute".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ids(by_cat), [a.id]);
    // Audit rows follow the case's scope too.
    let foreign_audit = store
        .audit_list(
            &w.cadre.scope,
            &AuditFilter {
                entity: Some("case".into()),
                entity_id: Some(c.id.to_string()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(foreign_audit.is_empty());

    // Key persons, tasks and projects are scoped the same way.
    let p = person(&store, &w.clerk, "舍头重点", 21, SHETOU).await;
    let kp = store
        .add_key_person(
            &w.shetou_cadre,
            NewKeyPerson {
                person_id: p,
                categories: vec!["repeat_petitioner".into()],
                risk: 2,
                cadre: "shetou".into(),
                note: String::new(),
                since: on,
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store.key_person(&w.cadre.scope, kp.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .key_persons(&w.cadre.scope, &KeyPersonQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store.record_visit(&w.cadre, kp.id, on, "走访").await,
        Err(StoreError::NotFound)
    ));
    let t = store
        .add_task(
            &w.clerk,
            NewTask {
                title: "秸秆禁烧巡查".into(),
                description: String::new(),
                org_code: code(SHETOU),
                owner: "shetou".into(),
                assigned_on: on,
                deadline: d(2024, 3, 31),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store.task(&w.cadre.scope, t.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .report_task_progress(&w.cadre, t.id, on, 50, "过半")
            .await,
        Err(StoreError::NotFound)
    ));
    // Only the township gives tasks.
    assert!(matches!(
        store
            .add_task(
                &w.cadre,
                NewTask {
                    title: "x".into(),
                    description: String::new(),
                    org_code: code(TOUCHANG),
                    owner: "cadre".into(),
                    assigned_on: on,
                    deadline: on,
                },
            )
            .await,
        Err(StoreError::Forbidden(_))
    ));
}

pub async fn resolution_levels_deadlines_and_extensions(store: TestStore) {
    let w = world(&store).await;
    let on = d(2024, 3, 4);
    let mut ids = Vec::new();
    // Four disputes registered at the township: two resolved in the village, one in the
    // grid, one at the township.
    for (org, tier, assignee) in [
        (TOUCHANG, Tier::Village, "cadre"),
        (TOUCHANG, Tier::Village, "cadre"),
        (w.grid1.as_str(), Tier::Grid, "grid"),
        (TOWNSHIP, Tier::Township, "clerk"),
    ] {
        let c = store
            .register_case(&w.clerk, &w.rules, new_case("dispute.land", &code(org), on))
            .await
            .unwrap();
        assert_eq!(c.state.tier, Tier::Township);
        act(&store, &w, &w.clerk, c.id, CaseAction::Accept, on)
            .await
            .unwrap();
        act(
            &store,
            &w,
            &w.clerk,
            c.id,
            CaseAction::Assign {
                to_tier: tier,
                assignee: assignee.into(),
            },
            on,
        )
        .await
        .unwrap();
        let handler = match tier {
            Tier::Grid => &w.grid_worker,
            Tier::Village => &w.cadre,
            _ => &w.clerk,
        };
        for s in [
            CaseAction::StartHandling,
            CaseAction::Reply {
                text: "已处理".into(),
            },
            CaseAction::Close,
        ] {
            act(&store, &w, handler, c.id, s, d(2024, 3, 6))
                .await
                .unwrap();
        }
        ids.push(c.id);
    }
    // My to-do list: nothing is open for the cadre any more.
    let mine = store
        .cases(
            &w.cadre.scope,
            &CaseQuery {
                assignee: Some("cadre".into()),
                open_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(mine.is_empty());

    let s = store
        .resolution_summary(&w.clerk.scope, d(2024, 1, 1), d(2024, 12, 31))
        .await
        .unwrap();
    assert_eq!(
        (s.closed, s.grid, s.village, s.township, s.county),
        (4, 1, 2, 1, 0)
    );
    assert_eq!(s.within_village, Some(0.75));
    assert_eq!(s.within_township, Some(1.0));
    assert_eq!(s.on_time, 4);
    let none = store
        .resolution_summary(&w.clerk.scope, d(2023, 1, 1), d(2023, 12, 31))
        .await
        .unwrap();
    assert_eq!(none.within_village, None, "no closed cases: no share");

    // A petition: 15 calendar days to accept, 60 to close, one extension of at most 30 days
    // applied for before the deadline and approved by a higher tier.
    let p = store
        .register_case(
            &w.cadre,
            &w.rules,
            new_case("petition.rural", &code(TOUCHANG), on),
        )
        .await
        .unwrap();
    assert_eq!(p.state.acceptance_deadline, d(2024, 3, 19));
    act(&store, &w, &w.cadre, p.id, CaseAction::Accept, on)
        .await
        .unwrap();
    let p1 = store.case(&Scope::all(), p.id).await.unwrap().case;
    assert_eq!(
        p1.state.closing_deadline,
        Some(d(2024, 5, 6)),
        "60 days, ending after 劳动节"
    );
    // Overdue on 2024-05-07, not before.
    let overdue = |day| CaseQuery {
        overdue_on: Some(day),
        ..Default::default()
    };
    assert!(
        store
            .cases(&w.clerk.scope, &overdue(d(2024, 5, 6)))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .cases(&w.clerk.scope, &overdue(d(2024, 5, 7)))
            .await
            .unwrap()
            .len(),
        1
    );
    act(
        &store,
        &w,
        &w.cadre,
        p.id,
        CaseAction::Assign {
            to_tier: Tier::Village,
            assignee: "cadre".into(),
        },
        on,
    )
    .await
    .unwrap();
    act(&store, &w, &w.cadre, p.id, CaseAction::StartHandling, on)
        .await
        .unwrap();
    let e = act(
        &store,
        &w,
        &w.cadre,
        p.id,
        CaseAction::ApplyExtension {
            days: 31,
            reason: "需要测量".into(),
        },
        d(2024, 4, 1),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("1至30天"), "{e}");
    act(
        &store,
        &w,
        &w.cadre,
        p.id,
        CaseAction::ApplyExtension {
            days: 30,
            reason: "需要测量".into(),
        },
        d(2024, 4, 1),
    )
    .await
    .unwrap();
    // The village cannot approve its own extension; the township can.
    assert!(
        act(
            &store,
            &w,
            &w.cadre,
            p.id,
            CaseAction::ApproveExtension,
            d(2024, 4, 2)
        )
        .await
        .is_err()
    );
    let p2 = act(
        &store,
        &w,
        &w.clerk,
        p.id,
        CaseAction::ApproveExtension,
        d(2024, 4, 2),
    )
    .await
    .unwrap();
    assert_eq!(p2.state.closing_deadline, Some(d(2024, 6, 5)));
    assert!(
        store
            .cases(&w.clerk.scope, &overdue(d(2024, 5, 7)))
            .await
            .unwrap()
            .is_empty(),
        "extended: no longer overdue"
    );
    assert!(matches!(
        p2.due_status(d(2024, 6, 3)),
        xiangzhi_domain::case::DueStatus::DueSoon(2)
    ));
    // A second extension is one too many.
    assert!(
        act(
            &store,
            &w,
            &w.cadre,
            p.id,
            CaseAction::ApplyExtension {
                days: 5,
                reason: "再延".into()
            },
            d(2024, 4, 3)
        )
        .await
        .is_err()
    );
    // County handles what the township escalates.
    let big = store
        .register_case(
            &w.clerk,
            &w.rules,
            new_case("petition.law", &code(TOWNSHIP), on),
        )
        .await
        .unwrap();
    act(&store, &w, &w.clerk, big.id, CaseAction::Accept, on)
        .await
        .unwrap();
    let up = act(
        &store,
        &w,
        &w.clerk,
        big.id,
        CaseAction::Escalate {
            reason: "涉诉".into(),
        },
        on,
    )
    .await
    .unwrap();
    assert_eq!(up.state.tier, Tier::County);
    let at_county = store
        .cases(
            &w.county.scope,
            &CaseQuery {
                tier: Some(Tier::County),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(at_county.len(), 1);
}

pub async fn key_persons_projects_and_tasks(store: TestStore) {
    let w = world(&store).await;
    let on = d(2024, 3, 4);
    let p1 = person(&store, &w.clerk, "重点甲", 31, w.grid1.as_str()).await;
    let p2 = person(&store, &w.clerk, "重点乙", 32, TOUCHANG).await;
    let cats = store.key_person_categories().await.unwrap();
    assert!(cats.iter().any(|c| c.label == "严重精神障碍患者"));
    let kp1 = store
        .add_key_person(
            &w.cadre,
            NewKeyPerson {
                person_id: p1,
                categories: vec!["mental_disorder".into()],
                risk: 4,
                cadre: "cadre".into(),
                note: "按时服药".into(),
                since: on,
            },
        )
        .await
        .unwrap();
    assert_eq!(kp1.visit_days, 7, "risk 4: weekly");
    assert_eq!(kp1.next_visit_on, d(2024, 3, 11));
    assert_eq!(kp1.category_labels, ["严重精神障碍患者"]);
    let kp2 = store
        .add_key_person(
            &w.cadre,
            NewKeyPerson {
                person_id: p2,
                categories: vec!["刑满释放人员".into()],
                risk: 0,
                cadre: "cadre".into(),
                note: String::new(),
                since: on,
            },
        )
        .await
        .unwrap();
    assert_eq!(kp2.visit_days, 30);
    // Bad input: risk out of range, unknown category, the same person twice.
    let bad = |risk, cat: &str, pid| NewKeyPerson {
        person_id: pid,
        categories: vec![cat.to_string()],
        risk,
        cadre: "cadre".into(),
        note: String::new(),
        since: on,
    };
    assert!(matches!(
        store.add_key_person(&w.cadre, bad(6, "drug_user", p1)).await,
        Err(StoreError::Invalid(ref m)) if m.contains("0至5")
    ));
    assert!(matches!(
        store.add_key_person(&w.cadre, bad(1, "外星人", p1)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .add_key_person(&w.cadre, bad(1, "drug_user", p1))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Overdue visits: on 03-12 only the weekly one is due.
    let due = store
        .key_persons(
            &w.cadre.scope,
            &KeyPersonQuery {
                due_by: Some(d(2024, 3, 12)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(due.iter().map(|k| k.id).collect::<Vec<_>>(), [kp1.id]);
    assert_eq!(due[0].overdue_days(d(2024, 3, 12)), 1);
    // The grid worker sees the grid's key person only.
    let mine = store
        .key_persons(&w.grid_worker.scope, &KeyPersonQuery::default())
        .await
        .unwrap();
    assert_eq!(mine.iter().map(|k| k.id).collect::<Vec<_>>(), [kp1.id]);
    let after = store
        .record_visit(&w.grid_worker, kp1.id, d(2024, 3, 12), "情绪稳定")
        .await
        .unwrap();
    assert_eq!(after.last_visit_on, Some(d(2024, 3, 12)));
    assert_eq!(after.next_visit_on, d(2024, 3, 19));
    assert!(matches!(
        store
            .record_visit(&w.grid_worker, kp1.id, d(2024, 3, 10), "补记")
            .await,
        Err(StoreError::Invalid(_))
    ));
    let (_, visits) = store.key_person(&w.cadre.scope, kp1.id).await.unwrap();
    assert_eq!(visits.len(), 1);
    assert_eq!(visits[0].visitor, w.grid_worker.username);

    // Projects with linked enterprises and a task force.
    let ent = store
        .create_enterprise(
            &w.clerk,
            NewEnterprise {
                name: "连城物流有限公司".into(),
                credit_code: credit_code::generate("91361002MA35CAXE0").unwrap(),
                kind: "物流".into(),
                registered_capital: None,
                settled_on: Some(d(2023, 5, 1)),
                org_code: code(TOUCHANG),
                contact_name: None,
                contact_phone: None,
            },
        )
        .await
        .unwrap();
    let input = ProjectInput {
        id: None,
        name: "中心粮库".into(),
        kind: ProjectKind::Key,
        stage: ProjectStage::Signed,
        org_code: code(TOWNSHIP),
        planned_yuan: 20_000_000,
        completed_yuan: 0,
        funds_won_yuan: 0,
        year: 2023,
        note: String::new(),
        enterprise_ids: vec![ent.id],
        members: vec![
            ProjectMember {
                name: "王乡长".into(),
                duty: "组长".into(),
            },
            ProjectMember {
                name: "李办事员".into(),
                duty: "成员".into(),
            },
        ],
    };
    assert!(matches!(
        store.save_project(&w.cadre, input.clone()).await,
        Err(StoreError::Forbidden(_))
    ));
    let mut neg = input.clone();
    neg.planned_yuan = -1;
    assert!(matches!(
        store.save_project(&w.clerk, neg).await,
        Err(StoreError::Invalid(_))
    ));
    let proj = store.save_project(&w.clerk, input.clone()).await.unwrap();
    assert_eq!(proj.enterprises.len(), 1);
    assert_eq!(proj.enterprises[0].kind, "物流");
    assert_eq!(proj.members.len(), 2);
    let mut upd = input.clone();
    upd.id = Some(proj.id);
    upd.stage = ProjectStage::Building;
    upd.completed_yuan = 8_000_000;
    upd.members.pop();
    let proj = store.save_project(&w.clerk, upd).await.unwrap();
    assert_eq!(proj.stage, ProjectStage::Building);
    assert_eq!(proj.members.len(), 1);
    assert_eq!(
        store
            .projects(&w.clerk.scope, Some(2023))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .projects(&w.cadre.scope, None)
            .await
            .unwrap()
            .is_empty(),
        "a township project is outside the village's scope"
    );
    let audit = store
        .audit_list(
            &w.clerk.scope,
            &AuditFilter {
                entity: Some("project".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 2);

    // Supervised tasks: per-village and per-cadre completion.
    let task = |title: &str, org: &str, owner: &str, deadline| NewTask {
        title: title.into(),
        description: String::new(),
        org_code: code(org),
        owner: owner.into(),
        assigned_on: on,
        deadline,
    };
    let t1 = store
        .add_task(
            &w.clerk,
            task("整治问题户厕", TOUCHANG, "cadre", d(2024, 3, 31)),
        )
        .await
        .unwrap();
    let t2 = store
        .add_task(
            &w.clerk,
            task("冬种油菜", TOUCHANG, "cadre", d(2024, 3, 10)),
        )
        .await
        .unwrap();
    let _t3 = store
        .add_task(&w.clerk, task("反诈宣传", SHETOU, "shetou", d(2024, 3, 10)))
        .await
        .unwrap();
    assert!(matches!(
        store
            .add_task(&w.clerk, task("倒序", TOUCHANG, "cadre", d(2024, 3, 1)))
            .await,
        Err(StoreError::Invalid(_))
    ));
    store
        .report_task_progress(&w.cadre, t1.id, d(2024, 3, 20), 60, "已完成120户")
        .await
        .unwrap();
    let done = store
        .report_task_progress(&w.cadre, t1.id, d(2024, 3, 28), 100, "全部完成")
        .await
        .unwrap();
    assert_eq!(done.status, TaskStatus::Done);
    assert_eq!(done.completed_on, Some(d(2024, 3, 28)));
    assert!(matches!(
        store
            .report_task_progress(&w.cadre, t1.id, d(2024, 3, 29), 100, "再报")
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store
            .report_task_progress(&w.cadre, t2.id, d(2024, 3, 29), 101, "超")
            .await,
        Err(StoreError::Invalid(_))
    ));
    let (_, updates) = store.task(&w.cadre.scope, t1.id).await.unwrap();
    assert_eq!(updates.len(), 2);
    let overdue = store
        .tasks(
            &w.clerk.scope,
            &TaskQuery {
                overdue_on: Some(d(2024, 3, 29)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(overdue.len(), 2);
    let by_village = store
        .task_completion(&w.clerk.scope, CompletionBy::Village, d(2024, 3, 29))
        .await
        .unwrap();
    let tc = by_village.iter().find(|r| r.key == TOUCHANG).unwrap();
    assert_eq!(
        (tc.total, tc.done, tc.done_on_time, tc.overdue_open),
        (2, 1, 1, 1)
    );
    assert_eq!(tc.label, "头昌村委会");
    assert_eq!(tc.on_time_rate(), Some(0.5));
    let by_cadre = store
        .task_completion(&w.clerk.scope, CompletionBy::Cadre, d(2024, 3, 29))
        .await
        .unwrap();
    assert_eq!(by_cadre.len(), 2);
    let village_view = store
        .task_completion(&w.cadre.scope, CompletionBy::Village, d(2024, 3, 29))
        .await
        .unwrap();
    assert_eq!(village_view.len(), 1, "the cadre sees the own village only");
}

#[macro_export]
macro_rules! case_conformance_tests {
    ($make:expr) => {
        $crate::case_conformance_tests!(@each $make;
            case_lifecycle_through_the_state_machine,
            case_scope_hides_other_grids_and_villages,
            resolution_levels_deadlines_and_extensions,
            key_persons_projects_and_tasks
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_case::$name(store).await;
            }
        )*
    };
}
