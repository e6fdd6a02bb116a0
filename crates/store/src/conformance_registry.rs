//! Registry stories for the conformance suite, run on every backend by
//! [`registry_conformance_tests!`] (and `personal_data_is_sealed`, which needs a backup path,
//! called by each backend's test file).

use chrono::NaiveDate;
use xiangzhi_domain::citizen_id::{self, CitizenId};
use xiangzhi_domain::credit_code::{self, CreditCode};
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::phone::Phone;
use xiangzhi_domain::role::Role;

use crate::audit::AuditFilter;
use crate::conformance::{TestStore, actor_at, seeded};
use crate::error::StoreError;
use crate::model::*;
use crate::registry::*;

const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

pub fn cid(y: i32, seq: u16, male: bool) -> CitizenId {
    citizen_id::generate("361002", d(y, 3, 1 + u32::from(seq % 27)), seq, male)
}

fn person(name: &str, id: CitizenId, org: &str) -> NewPerson {
    NewPerson {
        name: name.into(),
        citizen_id: id,
        phone: None,
        household_id: None,
        relation: None,
        org_code: Some(code(org)),
        tags: Vec::new(),
    }
}

async fn household(store: &TestStore, actor: &Actor, no: &str, org: &str) -> Household {
    store
        .create_household(
            actor,
            NewHousehold {
                household_no: no.into(),
                address: format!("{no}号"),
                org_code: code(org),
            },
        )
        .await
        .unwrap()
}

pub async fn registry_scope_hides_other_villages(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let a = store
        .create_person(&clerk, person("张三", cid(1980, 1, true), TOUCHANG))
        .await
        .unwrap();
    let b = store
        .create_person(&clerk, person("李四", cid(1981, 2, false), SHETOU))
        .await
        .unwrap();
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    assert!(matches!(
        store.person(&shetou.scope, a.id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.person(&shetou.scope, b.id).await.unwrap().name,
        "李四"
    );
    let all = store
        .person_search(&shetou.scope, &PersonQuery::default())
        .await
        .unwrap();
    assert_eq!(all.iter().map(|p| p.id).collect::<Vec<_>>(), vec![b.id]);
    assert_eq!(
        store
            .person_count(&clerk.scope, &PersonQuery::default())
            .await
            .unwrap(),
        2
    );
    // the same ID, seen from another village: refused without details
    assert_eq!(
        store
            .citizen_id_owner(&shetou.scope, &cid(1980, 1, true))
            .await
            .unwrap(),
        IdOwner::Elsewhere
    );
    let err = store
        .create_person(&shetou, person("张三", cid(1980, 1, true), SHETOU))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("其他地区") && !m.contains("张三")),
        "{err}"
    );
    // a write aimed outside the actor's scope is NotFound
    assert!(matches!(
        store
            .create_person(&shetou, person("王五", cid(1982, 3, true), TOUCHANG))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .update_person(
                &shetou,
                a.id,
                PersonUpdate {
                    name: Some("改名".into()),
                    ..Default::default()
                }
            )
            .await,
        Err(StoreError::NotFound)
    ));
    // an auditor reads but cannot write
    let auditor = actor_at(&store, "361002201", Role::Auditor).await;
    assert!(matches!(
        store
            .create_person(&auditor, person("赵六", cid(1983, 4, true), TOUCHANG))
            .await,
        Err(StoreError::Forbidden(_))
    ));
}

pub async fn registry_duplicates_are_refused_and_listed(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let a = store
        .create_person(&clerk, person("刘洋", cid(1990, 5, true), TOUCHANG))
        .await
        .unwrap();
    let err = store
        .create_person(&clerk, person("刘洋", cid(1990, 5, true), SHETOU))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains(&a.id.to_string())),
        "{err}"
    );
    assert_eq!(
        store
            .citizen_id_owner(&clerk.scope, &cid(1990, 5, true))
            .await
            .unwrap(),
        IdOwner::InScope {
            person_id: a.id,
            name: "刘洋".into()
        }
    );
    // same name and birth date, another ID: allowed, and listed for review
    let twin = citizen_id::generate("361002", cid(1990, 5, true).birth_date(), 77, true);
    let b = store
        .create_person(&clerk, person("刘洋", twin, SHETOU))
        .await
        .unwrap();
    store
        .create_person(&clerk, person("刘海", cid(1990, 6, true), SHETOU))
        .await
        .unwrap();
    let groups = store.likely_duplicates(&clerk.scope, 10).await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0].persons.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    assert!(
        store
            .likely_duplicates(&shetou.scope, 10)
            .await
            .unwrap()
            .is_empty(),
        "a village sees only its own half of the pair"
    );
}

/// A wrongly entered ID is corrected by the township (not a village), with a reason; the new
/// ID is refused when someone holds it; the old one stays sealed in the history and can be
/// searched no more, the new one can; sex and birth date follow the new ID.
pub async fn registry_citizen_id_is_corrected_with_history(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let wrong = cid(1985, 3, true);
    let right = cid(1958, 9, false);
    let p = store
        .create_person(&clerk, person("周敏", wrong.clone(), TOUCHANG))
        .await
        .unwrap();
    let other = store
        .create_person(&clerk, person("吴强", cid(1970, 4, true), SHETOU))
        .await
        .unwrap();

    let err = store
        .correct_citizen_id(&cadre, p.id, &right, "录错")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)), "{err}");
    let err = store
        .correct_citizen_id(&clerk, p.id, &right, "  ")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    let err = store
        .correct_citizen_id(&clerk, p.id, &cid(1970, 4, true), "录错")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains(&other.id.to_string())),
        "{err}"
    );
    let err = store
        .correct_citizen_id(&clerk, p.id, &wrong, "录错")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    // a clerk of another township cannot even find the person
    let foreign = actor_at(&store, "361002100", Role::TownshipClerk).await;
    let err = store
        .correct_citizen_id(&foreign, p.id, &right, "录错")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err}");

    let audit_before = store.audit_verify().await.unwrap().rows;
    let fixed = store
        .correct_citizen_id(&clerk, p.id, &right, "依据户口簿更正")
        .await
        .unwrap();
    assert_eq!(fixed.citizen_id_masked, right.masked());
    assert_eq!(fixed.birth_date, right.birth_date());
    assert_eq!(fixed.sex, right.sex());
    assert_eq!(store.audit_verify().await.unwrap().rows, audit_before + 1);
    assert_eq!(
        store.citizen_id_owner(&clerk.scope, &wrong).await.unwrap(),
        IdOwner::Nobody,
        "the old ID is free again"
    );
    assert!(matches!(
        store.citizen_id_owner(&clerk.scope, &right).await.unwrap(),
        IdOwner::InScope { person_id, .. } if person_id == p.id
    ));
    assert_eq!(
        store
            .reveal(&clerk, p.id, RevealField::CitizenId)
            .await
            .unwrap(),
        right.as_str()
    );
    let hist = store.person_history(&clerk.scope, p.id).await.unwrap();
    let ev = hist.last().unwrap();
    assert_eq!(ev.kind, EventKind::CorrectId);
    assert_eq!(ev.detail["old"], wrong.masked());
    assert_eq!(ev.detail["new"], right.masked());
    assert_eq!(ev.detail["reason"], "依据户口簿更正");
    let sealed = ev.detail["old_id_sealed"].as_str().unwrap();
    assert!(!sealed.contains(wrong.as_str()), "kept sealed");
    let audit = store
        .audit_list(
            &clerk.scope,
            &AuditFilter {
                action: Some("correct_citizen_id".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(audit.len(), 1);
    let values = format!("{:?}{:?}", audit[0].old_value, audit[0].new_value);
    assert!(
        values.contains(&wrong.masked()) && !values.contains(wrong.as_str()),
        "{values}"
    );
    assert!(!values.contains(right.as_str()), "{values}");
}

pub async fn registry_life_events_keep_history(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let h = household(&store, &clerk, "3610020001", TOUCHANG).await;
    let mut dad = person("陈建国", cid(1970, 1, true), TOUCHANG);
    dad.household_id = Some(h.id);
    dad.relation = Some(Relation::Head);
    let dad = store.create_person(&clerk, dad).await.unwrap();
    let mum = store
        .create_person(&clerk, person("黄秀英", cid(1972, 2, false), SHETOU))
        .await
        .unwrap();
    store
        .record_life_event(
            &clerk,
            LifeEvent::Marriage {
                person_id: dad.id,
                spouse_id: mum.id,
                date: d(1995, 5, 1),
                join_household: true,
            },
        )
        .await
        .unwrap();
    let mum = store.person(&clerk.scope, mum.id).await.unwrap();
    assert_eq!(mum.household_id, Some(h.id));
    assert_eq!(mum.relation, Some(Relation::Spouse));
    assert_eq!(mum.org_code.as_str(), TOUCHANG, "moves with the household");

    let kid_id = citizen_id::generate("361002", d(2020, 6, 1), 9, true);
    let mut kid = person("陈小明", kid_id, TOUCHANG);
    kid.org_code = None;
    // a birth date that disagrees with the ID is refused
    assert!(matches!(
        store
            .record_life_event(
                &clerk,
                LifeEvent::Birth {
                    household_id: h.id,
                    person: kid.clone(),
                    date: d(2020, 6, 2)
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    store
        .record_life_event(
            &clerk,
            LifeEvent::Birth {
                household_id: h.id,
                person: kid,
                date: d(2020, 6, 1),
            },
        )
        .await
        .unwrap();
    let detail = store.household_detail(&clerk.scope, h.id).await.unwrap();
    assert_eq!(detail.members.len(), 3);
    assert_eq!(detail.household.head_id, Some(dad.id));
    assert_eq!(detail.household.member_count, 3);
    let kid = detail
        .members
        .iter()
        .find(|p| p.name == "陈小明")
        .unwrap()
        .clone();
    assert_eq!(kid.relation, Some(Relation::Child));

    store
        .record_life_event(
            &clerk,
            LifeEvent::ChangeHead {
                household_id: h.id,
                new_head: mum.id,
                old_head_relation: Relation::Spouse,
                date: d(2021, 1, 1),
            },
        )
        .await
        .unwrap();
    let hh = store.household(&clerk.scope, h.id).await.unwrap();
    assert_eq!(hh.head_id, Some(mum.id));

    // split the child off into a new household, then merge it back
    store
        .record_life_event(
            &clerk,
            LifeEvent::Split {
                household_id: h.id,
                members: vec![kid.id],
                new_head: None,
                new_household: NewHousehold {
                    household_no: "3610020002".into(),
                    address: "新屋".into(),
                    org_code: code(TOUCHANG),
                },
                date: d(2022, 1, 1),
            },
        )
        .await
        .unwrap();
    let new_h = store
        .household_by_no(&clerk.scope, "3610020002")
        .await
        .unwrap();
    assert_eq!(new_h.head_id, Some(kid.id));
    store
        .record_life_event(
            &clerk,
            LifeEvent::Merge {
                from_id: new_h.id,
                into_id: h.id,
                date: d(2023, 1, 1),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .household(&clerk.scope, new_h.id)
            .await
            .unwrap()
            .status,
        HouseholdStatus::Merged,
        "a merged household stays on record"
    );

    store
        .record_life_event(
            &clerk,
            LifeEvent::Death {
                person_id: dad.id,
                date: d(2023, 3, 1),
                note: "病故".into(),
            },
        )
        .await
        .unwrap();
    store
        .record_life_event(
            &clerk,
            LifeEvent::MoveOut {
                person_id: kid.id,
                date: d(2023, 9, 1),
                to: "南昌市".into(),
            },
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .record_life_event(
                &clerk,
                LifeEvent::Death {
                    person_id: dad.id,
                    date: d(2023, 4, 1),
                    note: String::new()
                }
            )
            .await,
        Err(StoreError::Invalid(_))
    ));
    let dad = store.person(&clerk.scope, dad.id).await.unwrap();
    assert_eq!(dad.status, PersonStatus::Deceased, "never deleted");
    let counts = store.registry_counts(&clerk.scope).await.unwrap();
    assert_eq!(counts.persons_registered, 1);
    assert_eq!(counts.persons_deceased, 1);
    assert_eq!(counts.persons_moved_out, 1);

    let kinds: Vec<EventKind> = store
        .person_history(&clerk.scope, kid.id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![
            EventKind::Birth,
            EventKind::Split,
            EventKind::Merge,
            EventKind::MoveOut
        ]
    );
    let hist = store.household_history(&clerk.scope, h.id).await.unwrap();
    for k in [
        EventKind::Register,
        EventKind::Birth,
        EventKind::ChangeHead,
        EventKind::Split,
        EventKind::Merge,
        EventKind::Death,
        EventKind::MoveOut,
    ] {
        assert!(hist.iter().any(|e| e.kind == k), "{k:?} missing: {hist:?}");
    }
    let report = store.audit_verify().await.unwrap();
    assert!(report.first_break.is_none());
    let births = store
        .audit_list(
            &clerk.scope,
            &AuditFilter {
                action: Some("birth".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(births.len(), 1);
    // foreign ids are NotFound
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    assert!(matches!(
        store.person_history(&shetou.scope, kid.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .record_life_event(
                &shetou,
                LifeEvent::MoveOut {
                    person_id: mum.id,
                    date: d(2024, 1, 1),
                    to: String::new()
                }
            )
            .await,
        Err(StoreError::NotFound)
    ));
}

fn import_row(line: usize, name: &str, id: CitizenId, hh: &str, rel: Relation) -> PersonImportRow {
    PersonImportRow {
        line,
        name: name.into(),
        citizen_id: id,
        phone: Some(Phone::parse(&format!("1380000{:04}", line)).unwrap()),
        household_no: Some(hh.into()),
        relation: Some(rel),
        status: None,
        org_code: Some(code(TOUCHANG)),
        household_address: Some("头昌村1号".into()),
        tags: Some(vec![]),
    }
}

pub async fn registry_import_is_previewed_then_all_or_nothing(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let township = code("361002201");
    let rows = vec![
        import_row(2, "甲", cid(1960, 1, true), "H1", Relation::Head),
        import_row(3, "乙", cid(1962, 2, false), "H1", Relation::Spouse),
        import_row(4, "丙", cid(1985, 3, true), "H2", Relation::Head),
    ];
    let audit_before = store.audit_verify().await.unwrap().rows;
    let preview = store
        .import_persons(&clerk, &township, &rows, true)
        .await
        .unwrap();
    assert_eq!(
        (
            preview.summary.new,
            preview.summary.households_created,
            preview.summary.committed
        ),
        (3, 2, false)
    );
    assert_eq!(
        store.audit_verify().await.unwrap().rows,
        audit_before,
        "a preview writes nothing"
    );
    let done = store
        .import_persons(&clerk, &township, &rows, false)
        .await
        .unwrap();
    assert!(done.summary.committed);
    assert_eq!(
        store.audit_verify().await.unwrap().rows,
        audit_before + 1,
        "one audit entry per import"
    );
    let h1 = store.household_by_no(&clerk.scope, "H1").await.unwrap();
    assert_eq!(h1.member_count, 2);
    assert_eq!(h1.head_name.as_deref(), Some("甲"));
    assert_eq!(h1.address, "头昌村1号");

    // again: unchanged; one change: updated; the history shows it
    let again = store
        .import_persons(&clerk, &township, &rows, false)
        .await
        .unwrap();
    assert_eq!(
        (again.summary.unchanged, again.summary.committed),
        (3, false)
    );
    let mut changed = rows.clone();
    changed[2].name = "丙丙".into();
    changed[2].tags = Some(vec![
        PersonTag::new("残疾")
            .with("category", "肢体")
            .with("grade", "二级"),
    ]);
    let upd = store
        .import_persons(&clerk, &township, &changed, false)
        .await
        .unwrap();
    assert_eq!((upd.summary.updated, upd.summary.unchanged), (1, 2));
    let found = store
        .person_search(
            &clerk.scope,
            &PersonQuery {
                tag: Some("残疾".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "丙丙");
    assert_eq!(found[0].tags[0].display(), "残疾（肢体，二级）");
    let hist = store
        .person_history(&clerk.scope, found[0].id)
        .await
        .unwrap();
    assert_eq!(hist.last().unwrap().kind, EventKind::Import);

    // a bad row (duplicate in the file, a foreign org) stops the whole import
    let mut bad = changed.clone();
    bad.push(import_row(
        5,
        "丁",
        cid(1990, 4, true),
        "H3",
        Relation::Head,
    ));
    bad.push(import_row(
        6,
        "戊",
        cid(1990, 4, true),
        "H3",
        Relation::Child,
    ));
    let mut foreign = import_row(7, "己", cid(1991, 5, true), "H4", Relation::Head);
    foreign.org_code = Some(code("361002100200"));
    bad.push(foreign);
    let out = store
        .import_persons(&clerk, &township, &bad, false)
        .await
        .unwrap();
    assert!(!out.summary.committed);
    assert_eq!(out.summary.invalid, 2);
    assert_eq!(
        out.issues.iter().map(|i| i.line).collect::<Vec<_>>(),
        vec![6, 7]
    );
    assert!(out.issues[0].reason.contains("第5行"));
    assert_eq!(
        store
            .person_count(&clerk.scope, &PersonQuery::default())
            .await
            .unwrap(),
        3,
        "nothing of the bad file was written"
    );
    // a village cannot import over a person of another village
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    let mut theirs = rows[0].clone();
    theirs.org_code = Some(code(SHETOU));
    theirs.household_no = None;
    let out = store
        .import_persons(&shetou, &code(SHETOU), &[theirs], false)
        .await
        .unwrap();
    assert_eq!(out.summary.invalid, 1);
    assert!(out.issues[0].reason.contains("其他地区"));

    // households: address update by 户号, head must be registered
    let hrows = vec![
        HouseholdImportRow {
            line: 2,
            household_no: "H1".into(),
            head: Some(cid(1962, 2, false)),
            address: "头昌村2号".into(),
            org_code: code(TOUCHANG),
        },
        HouseholdImportRow {
            line: 3,
            household_no: "H9".into(),
            head: None,
            address: "新址".into(),
            org_code: code(TOUCHANG),
        },
    ];
    let out = store
        .import_households(&clerk, &township, &hrows, false)
        .await
        .unwrap();
    assert_eq!(
        (out.summary.new, out.summary.updated, out.summary.committed),
        (1, 1, true)
    );
    let h1 = store.household_by_no(&clerk.scope, "H1").await.unwrap();
    assert_eq!(
        (h1.address.as_str(), h1.head_name.as_deref()),
        ("头昌村2号", Some("乙"))
    );
    let out = store
        .import_households(&clerk, &township, &hrows, true)
        .await
        .unwrap();
    assert_eq!(out.summary.unchanged, 2);

    // stored people and new ones interleaved: each new person gets its own sealed ID and
    // phone (the new rows are packed and sealed apart from the stored ones)
    let mixed = vec![
        changed[0].clone(),
        import_row(8, "庚", cid(1993, 6, false), "H9", Relation::Head),
        changed[2].clone(),
        import_row(9, "辛", cid(1995, 7, true), "H9", Relation::Child),
    ];
    let out = store
        .import_persons(&clerk, &township, &mixed, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);
    assert_eq!(out.summary.new, 2);
    for r in &mixed {
        let found = store
            .person_search(
                &clerk.scope,
                &PersonQuery {
                    q: Some(r.citizen_id.as_str().into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{}", r.name);
        assert_eq!(found[0].name, r.name);
        for (field, want) in [
            (RevealField::CitizenId, r.citizen_id.as_str()),
            (RevealField::Phone, r.phone.as_ref().unwrap().as_str()),
        ] {
            assert_eq!(
                store.reveal(&clerk, found[0].id, field).await.unwrap(),
                want,
                "{} {field:?}",
                r.name
            );
        }
    }
}

fn enterprise(name: &str, code17: &str, kind: &str) -> NewEnterprise {
    NewEnterprise {
        name: name.into(),
        credit_code: credit_code::generate(code17).unwrap(),
        kind: kind.into(),
        registered_capital: Money::from_yuan(5_000_000),
        settled_on: Some(d(2023, 4, 1)),
        org_code: code(TOUCHANG),
        contact_name: Some("周经理".into()),
        contact_phone: Some(Phone::parse("13912345678").unwrap()),
    }
}

pub async fn registry_enterprises(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let kinds = store.enterprise_kinds().await.unwrap();
    for k in ["物流", "建筑", "劳务", "汽车"] {
        assert!(kinds.iter().any(|x| x.label == k));
    }
    let admin = Actor::system("test");
    store
        .add_enterprise_kind(&admin, "new_energy", "新能源")
        .await
        .unwrap();
    assert!(matches!(
        store.add_enterprise_kind(&clerk, "x", "某类").await,
        Err(StoreError::Forbidden(_))
    ));
    let e = store
        .create_enterprise(
            &clerk,
            enterprise("连城物流有限公司", "91361002MA35XXXX0", "物流"),
        )
        .await
        .unwrap();
    assert!(e.credit_code_ok);
    assert_eq!(e.kind, "logistics");
    assert_eq!(e.contact_phone_masked.as_deref(), Some("139****5678"));
    // a failing check is kept with a warning flag
    let good = credit_code::generate("91361002MA35YYYY0").unwrap();
    let wrong = if good.as_str().ends_with('0') {
        '1'
    } else {
        '0'
    };
    let (bad, warning) = CreditCode::parse(&format!("91361002MA35YYYY0{wrong}")).unwrap();
    assert!(warning.is_some());
    let mut ne = enterprise("连城建筑工程有限公司", "91361002MA35YYYY0", "建筑");
    ne.credit_code = bad;
    let b = store.create_enterprise(&clerk, ne).await.unwrap();
    assert!(!b.credit_code_ok);
    assert!(matches!(
        store
            .create_enterprise(&clerk, enterprise("重复", "91361002MA35XXXX0", "物流"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    let found = store
        .enterprise_search(
            &clerk.scope,
            &EnterpriseQuery {
                kind: Some("建筑".into()),
                settled_from: Some(d(2023, 1, 1)),
                settled_to: Some(d(2023, 12, 31)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(found.iter().map(|x| x.id).collect::<Vec<_>>(), vec![b.id]);
    store
        .close_enterprise(&clerk, e.id, d(2024, 1, 1))
        .await
        .unwrap();
    assert!(!store.enterprise(&clerk.scope, e.id).await.unwrap().active);
    let hist = store.enterprise_history(&clerk.scope, e.id).await.unwrap();
    assert_eq!(
        hist.iter().map(|x| x.kind).collect::<Vec<_>>(),
        vec![EventKind::Register, EventKind::Close]
    );
    // import: upsert by credit code
    let rows = vec![
        EnterpriseImportRow {
            line: 2,
            enterprise: enterprise("连城物流有限公司", "91361002MA35XXXX0", "物流"),
        },
        EnterpriseImportRow {
            line: 3,
            enterprise: enterprise("连城劳务有限公司", "91361002MA35WWWW0", "劳务"),
        },
    ];
    let out = store
        .import_enterprises(&clerk, &code("361002201"), &rows, false)
        .await
        .unwrap();
    assert_eq!(
        (
            out.summary.new,
            out.summary.unchanged,
            out.summary.committed
        ),
        (1, 1, true)
    );
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    assert!(matches!(
        store.enterprise(&shetou.scope, e.id).await,
        Err(StoreError::NotFound)
    ));
}

/// Search by full ID and phone works, lists show masks, reveal is permissioned and audited,
/// and no plain ID or phone reaches the database (checked on a backup of it at `out`).
pub async fn personal_data_is_sealed(store: TestStore, out: std::path::PathBuf) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let id = cid(1975, 8, false);
    let mut p = person("吴芳", id.clone(), TOUCHANG);
    p.phone = Some(Phone::parse("138 1234 5678").unwrap());
    let created = store.create_person(&clerk, p).await.unwrap();
    assert_eq!(created.citizen_id_masked, id.masked());
    assert_eq!(created.phone_masked.as_deref(), Some("138****5678"));
    for q in [
        id.as_str().to_lowercase(),
        "13812345678".to_string(),
        "吴".to_string(),
    ] {
        let found = store
            .person_search(
                &clerk.scope,
                &PersonQuery {
                    q: Some(q.clone()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "search by {q}");
    }
    let grid_worker = actor_at(&store, TOUCHANG, Role::GridWorker).await;
    assert!(matches!(
        store
            .reveal(&grid_worker, created.id, RevealField::CitizenId)
            .await,
        Err(StoreError::Forbidden(_))
    ));
    assert_eq!(
        store
            .reveal(&clerk, created.id, RevealField::CitizenId)
            .await
            .unwrap(),
        id.as_str()
    );
    assert_eq!(
        store
            .reveal(&clerk, created.id, RevealField::Phone)
            .await
            .unwrap(),
        "13812345678"
    );
    let reveals = store
        .audit_list(
            &clerk.scope,
            &AuditFilter {
                action: Some("reveal".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(reveals.len(), 2);
    store
        .update_person(
            &clerk,
            created.id,
            PersonUpdate {
                phone: Some(Some(Phone::parse("13987654321").unwrap())),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let all = store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for e in &all {
        let text = format!("{:?}{:?}", e.old_value, e.new_value);
        for secret in [id.as_str(), "13812345678", "13987654321"] {
            assert!(
                !text.contains(secret),
                "audit entry {} holds {secret}",
                e.id
            );
        }
    }
    store.backup(&out).await.unwrap();
    let mut bytes = Vec::new();
    if out.is_dir() {
        for f in std::fs::read_dir(&out).unwrap() {
            bytes.extend(std::fs::read(f.unwrap().path()).unwrap());
        }
    } else {
        bytes = std::fs::read(&out).unwrap();
    }
    for secret in [id.as_str(), "13812345678", "13987654321", "138 1234 5678"] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} found in the database"
        );
    }
}

#[macro_export]
macro_rules! registry_conformance_tests {
    ($make:expr) => {
        $crate::registry_conformance_tests!(@each $make;
            registry_scope_hides_other_villages,
            registry_duplicates_are_refused_and_listed,
            registry_citizen_id_is_corrected_with_history,
            registry_life_events_keep_history,
            registry_import_is_previewed_then_all_or_nothing,
            registry_enterprises
        );
        $crate::registry_conformance_tests!(@tallies $make;
            registry_counts_are_kept,
            registry_name_search_is_a_prefix_in_name_order
        );
    };
    (@tallies $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_tallies::$name(store).await;
            }
        )*
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_registry::$name(store).await;
            }
        )*
    };
}
