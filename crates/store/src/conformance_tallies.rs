//! Kept registry counts and the name search, for the conformance suite: whatever writes the
//! registry (single creates, a bulk import, life events, enterprise closing), the counts a
//! list page shows equal a fresh count of the records; a name search is a prefix search
//! read in name order that pages without repeating or skipping anyone.

use chrono::NaiveDate;
use xiangzhi_domain::citizen_id::{self, CitizenId};
use xiangzhi_domain::credit_code;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::conformance::{TestStore, actor_at, seeded};
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

fn id(n: u32) -> CitizenId {
    let birth = d(1950, 1, 1) + chrono::Duration::days(i64::from(n / 200));
    citizen_id::generate("361002", birth, (n % 200) as u16, n.is_multiple_of(2))
}

/// The counts recomputed from the records, the way the list page computed them before.
async fn recounted(store: &TestStore, scope: &Scope) -> RegistryCounts {
    let mut c = RegistryCounts::default();
    let mut after = None;
    loop {
        let page = store
            .person_search(
                scope,
                &PersonQuery {
                    after_id: after,
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        for p in &page {
            match p.status {
                PersonStatus::Registered => c.persons_registered += 1,
                PersonStatus::Deceased => c.persons_deceased += 1,
                PersonStatus::MovedOut => c.persons_moved_out += 1,
            }
        }
        match page.last() {
            Some(p) if page.len() == 1000 => after = Some(p.id),
            _ => break,
        }
    }
    c.households_active = store
        .household_search(
            scope,
            &HouseholdQuery {
                limit: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .filter(|h| h.status == HouseholdStatus::Active)
        .count() as i64;
    c.enterprises_active = store
        .enterprise_search(
            scope,
            &EnterpriseQuery {
                limit: 5000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .iter()
        .filter(|e| e.active)
        .count() as i64;
    c
}

async fn assert_counts(store: &TestStore, scope: &Scope, what: &str) {
    let kept = store.registry_counts(scope).await.unwrap();
    let fresh = recounted(store, scope).await;
    assert_eq!(
        (
            kept.persons_registered,
            kept.persons_deceased,
            kept.persons_moved_out,
            kept.households_active,
            kept.enterprises_active
        ),
        (
            fresh.persons_registered,
            fresh.persons_deceased,
            fresh.persons_moved_out,
            fresh.households_active,
            fresh.enterprises_active
        ),
        "kept counts after {what}"
    );
}

fn row(line: usize, n: u32, org: &str) -> PersonImportRow {
    let surnames = ["张", "王", "李", "章"];
    PersonImportRow {
        line,
        name: format!("{}{}", surnames[n as usize % 4], n),
        citizen_id: id(n),
        phone: None,
        household_no: Some(format!("T{}", n / 3)),
        relation: Some(if n.is_multiple_of(3) {
            Relation::Head
        } else {
            Relation::Child
        }),
        status: (n % 50 == 7).then_some(PersonStatus::MovedOut),
        org_code: Some(code(org)),
        household_address: Some("测试地址".into()),
        tags: None,
    }
}

pub async fn registry_counts_are_kept(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let township = code("361002201");
    assert_counts(&store, &clerk.scope, "nothing").await;

    // a bulk import (1,200 rows into an empty registry takes the bulk path) over two villages
    let rows: Vec<PersonImportRow> = (0..1200)
        .map(|n| {
            row(
                n as usize + 2,
                n,
                if (n / 3) % 4 == 0 { SHETOU } else { TOUCHANG },
            )
        })
        .collect();
    let out = store
        .import_persons(&clerk, &township, &rows, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);
    assert_counts(&store, &clerk.scope, "a bulk import").await;
    assert_counts(&store, &cadre.scope, "a bulk import (one village)").await;
    let kept = store.registry_counts(&clerk.scope).await.unwrap();
    assert_eq!(
        kept.persons_registered + kept.persons_moved_out,
        1200,
        "every imported person counted once"
    );

    // a small import after it (row by row, triggers) and an update by import
    let mut more: Vec<PersonImportRow> =
        (1200..1210).map(|n| row(n as usize, n, TOUCHANG)).collect();
    more.push(PersonImportRow {
        status: Some(PersonStatus::Deceased),
        ..row(5000, 1, SHETOU)
    });
    let out = store
        .import_persons(&clerk, &township, &more, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);
    assert_eq!((out.summary.new, out.summary.updated), (10, 1));
    assert_counts(&store, &clerk.scope, "a small import with an update").await;

    // life events: a death, a move out, a birth
    let found = store
        .person_search(
            &cadre.scope,
            &PersonQuery {
                status: Some(PersonStatus::Registered),
                limit: 2,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    store
        .record_life_event(
            &cadre,
            LifeEvent::Death {
                person_id: found[0].id,
                date: d(2023, 5, 1),
                note: String::new(),
            },
        )
        .await
        .unwrap();
    store
        .record_life_event(
            &cadre,
            LifeEvent::MoveOut {
                person_id: found[1].id,
                date: d(2023, 6, 1),
                to: "南昌市".into(),
            },
        )
        .await
        .unwrap();
    store
        .create_person(
            &cadre,
            NewPerson {
                name: "新生".into(),
                citizen_id: citizen_id::generate("361002", d(2023, 3, 3), 1, true),
                phone: None,
                household_id: None,
                relation: None,
                org_code: Some(code(TOUCHANG)),
                tags: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_counts(&store, &clerk.scope, "life events").await;
    assert_counts(&store, &cadre.scope, "life events (one village)").await;

    // enterprises: created active, then closed
    let e = store
        .create_enterprise(
            &clerk,
            NewEnterprise {
                name: "计数测试有限公司".into(),
                credit_code: credit_code::generate("91361002MA35ABCDE").unwrap(),
                kind: "物流".into(),
                registered_capital: None,
                settled_on: None,
                org_code: code(TOUCHANG),
                contact_name: None,
                contact_phone: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .registry_counts(&clerk.scope)
            .await
            .unwrap()
            .enterprises_active,
        1
    );
    store
        .close_enterprise(&clerk, e.id, d(2023, 12, 1))
        .await
        .unwrap();
    assert_counts(&store, &clerk.scope, "closing an enterprise").await;
}

pub async fn registry_name_search_is_a_prefix_in_name_order(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let cadre = actor_at(&store, SHETOU, Role::VillageCadre).await;
    let township = code("361002201");
    let rows: Vec<PersonImportRow> = (0..40)
        .map(|n| {
            row(
                n as usize + 2,
                n,
                if n % 8 == 0 { SHETOU } else { TOUCHANG },
            )
        })
        .collect();
    let out = store
        .import_persons(&clerk, &township, &rows, false)
        .await
        .unwrap();
    assert!(out.summary.committed, "{:?}", out.issues);
    let search = |scope: Scope, q: &'static str, after: Option<i64>, limit: u32| {
        let store = store.clone();
        async move {
            store
                .person_search(
                    &scope,
                    &PersonQuery {
                        q: Some(q.into()),
                        after_id: after,
                        limit,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
        }
    };
    // 张 matches 张0, 张4, … (every fourth row) from the start of the name, not 章
    let all = search(clerk.scope.clone(), "张", None, 100).await;
    assert_eq!(all.len(), 10);
    assert!(all.iter().all(|p| p.name.starts_with('张')));
    let names: Vec<&str> = all.iter().map(|p| p.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "in name order");
    // the name from its start: 张12 and 张16, not 张1 plus anything inside a name
    assert_eq!(search(clerk.scope.clone(), "张1", None, 100).await.len(), 2);
    assert!(search(clerk.scope.clone(), "2", None, 100).await.is_empty());
    // paging by the last person's id continues in name order, without repeats or gaps
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = search(clerk.scope.clone(), "张", after, 3).await;
        paged.extend(page.iter().map(|p| p.id));
        match page.last() {
            Some(p) if page.len() == 3 => after = Some(p.id),
            _ => break,
        }
    }
    assert_eq!(paged, all.iter().map(|p| p.id).collect::<Vec<_>>());
    // scope still holds: the cadre of 舍头村 sees only its own 张 (张0, 张8, … 张32)
    let own = search(cadre.scope.clone(), "张", None, 100).await;
    assert_eq!(own.len(), 5);
    assert!(own.iter().all(|p| p.org_code.as_str() == SHETOU));
}
