//! Case settings, attachments, reminders and Open311 keys for the conformance suite, run on
//! every backend by [`case_settings_conformance_tests!`].

use chrono::NaiveDate;
use xiangzhi_domain::case::{CaseKind, DayCount, EventKind, TimeLimit};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::audit::AuditFilter;
use crate::case::*;
use crate::case_settings::*;
use crate::conformance::{TestStore, actor_at, seeded};
use crate::error::StoreError;
use crate::model::*;

const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";
const TOWNSHIP: &str = "361002201";
const OTHER_TOWNSHIP: &str = "361002100";
const COUNTY: &str = "361002";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn dispute(org: &str, on: NaiveDate) -> NewCase {
    NewCase {
        category: "dispute.neighbour".into(),
        title: "邻里排水纠纷".into(),
        description: "两户因排水沟发生争执".into(),
        org_code: code(org),
        location: "头昌村2组".into(),
        urgent: false,
        risk: None,
        source: "window".into(),
        parties: Vec::new(),
        registered_on: on,
    }
}

async fn audit_count(store: &TestStore, entity: &str) -> usize {
    store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                entity: Some(entity.into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len()
}

pub async fn township_limits_drive_deadlines(store: TestStore) {
    seeded(&store).await;
    let rules = CaseRules::default();
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let county = actor_at(&store, COUNTY, Role::Admin).await;

    // Friday 2024-03-01: two working days is Tuesday.
    let before = store
        .register_case(&cadre, &rules, dispute(TOUCHANG, d(2024, 3, 1)))
        .await
        .unwrap();
    assert_eq!(before.state.acceptance_deadline, d(2024, 3, 5));
    let eff = store
        .case_limits(&Scope::all(), &rules, &code(TOUCHANG))
        .await
        .unwrap();
    assert_eq!(eff.set_at, None);

    let mut limits = eff.limits;
    limits.dispute.acceptance = TimeLimit::working(5);
    limits.dispute.closing = TimeLimit::calendar(20);
    // A village cadre may not; nothing changes.
    let e = store
        .set_case_limits(&cadre, &code(TOWNSHIP), limits)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
    // Limits are set per township, not per village.
    let e = store
        .set_case_limits(&clerk, &code(TOUCHANG), limits)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    // Another township is out of the clerk's scope.
    let e = store
        .set_case_limits(&clerk, &code(OTHER_TOWNSHIP), limits)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::NotFound), "{e:?}");
    // Zero days is refused in Chinese and leaves the defaults.
    let mut bad = limits;
    bad.petition.closing.days = 0;
    let e = store
        .set_case_limits(&clerk, &code(TOWNSHIP), bad)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("信访的办结期限"), "{e}");
    assert_eq!(audit_count(&store, "case_time_limits").await, 0);

    // The county sets its own, the township its own: the nearest one counts.
    let mut county_limits = rules.limits;
    county_limits.dispute.acceptance = TimeLimit::working(3);
    store
        .set_case_limits(&county, &code(COUNTY), county_limits)
        .await
        .unwrap();
    store
        .set_case_limits(&clerk, &code(TOWNSHIP), limits)
        .await
        .unwrap();
    assert_eq!(audit_count(&store, "case_time_limits").await, 2);
    let eff = store
        .case_limits(&Scope::all(), &rules, &code(TOUCHANG))
        .await
        .unwrap();
    assert_eq!(eff.set_at, Some(code(TOWNSHIP)));
    assert_eq!(eff.limits.dispute.acceptance.days, 5);
    let other = store
        .case_limits(&Scope::all(), &rules, &code(OTHER_TOWNSHIP))
        .await
        .unwrap();
    assert_eq!(other.set_at, Some(code(COUNTY)));
    assert_eq!(other.limits.dispute.acceptance.days, 3);

    // New cases count with them: five working days from Friday is the next Friday; the
    // closing limit, 20 calendar days from acceptance, too.
    let after = store
        .register_case(&cadre, &rules, dispute(TOUCHANG, d(2024, 3, 1)))
        .await
        .unwrap();
    assert_eq!(after.state.acceptance_deadline, d(2024, 3, 8));
    let accepted = store
        .act_on_case(
            &cadre,
            &rules,
            after.id,
            &xiangzhi_domain::case::CaseAction::Accept,
            d(2024, 3, 4),
            None,
        )
        .await
        .unwrap();
    assert_eq!(accepted.state.closing_deadline, Some(d(2024, 3, 25)));
    assert_eq!(limits.dispute.closing.count, DayCount::Calendar);
    // The old case keeps the deadline it was given.
    let old = store.case(&Scope::all(), before.id).await.unwrap();
    assert_eq!(old.case.state.acceptance_deadline, d(2024, 3, 5));
}

pub async fn townships_add_their_own_categories(store: TestStore) {
    seeded(&store).await;
    let rules = CaseRules::default();
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let other_cadre = actor_at(&store, "361002100200", Role::VillageCadre).await;
    let new = NewCategory {
        parent_code: "dispute".into(),
        label: "水利灌溉纠纷".into(),
        key_area: false,
    };
    let e = store
        .add_case_category(&cadre, &code(TOWNSHIP), new.clone())
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");
    let c = store
        .add_case_category(&clerk, &code(TOWNSHIP), new.clone())
        .await
        .unwrap();
    assert_eq!(c.kind, CaseKind::Dispute);
    assert_eq!(c.parent_code.as_deref(), Some("dispute"));
    let e = store
        .add_case_category(&clerk, &code(TOWNSHIP), new)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict(_)), "{e:?}");

    // Seen in the township, under its parent; not in another township, not in the shared tree.
    let mine = store.case_categories_in(&cadre.scope).await.unwrap();
    let at = mine.iter().position(|x| x.code == c.code).unwrap();
    let parent = mine.iter().position(|x| x.code == "dispute").unwrap();
    assert!(parent < at);
    assert!(
        !store
            .case_categories_in(&other_cadre.scope)
            .await
            .unwrap()
            .iter()
            .any(|x| x.code == c.code)
    );
    assert!(
        !store
            .case_categories()
            .await
            .unwrap()
            .iter()
            .any(|x| x.code == c.code)
    );

    // A case in the township can use it; one in another township cannot.
    let mut nc = dispute(TOUCHANG, d(2024, 3, 1));
    nc.category = c.code.clone();
    let case = store
        .register_case(&cadre, &rules, nc.clone())
        .await
        .unwrap();
    assert_eq!(case.category_label, "水利灌溉纠纷");
    nc.org_code = code("361002100200");
    let e = store
        .register_case(&other_cadre, &rules, nc)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("没有"), "{e}");

    // Renamed by its township; a built-in one is not the township's to rename.
    let r = store
        .rename_case_category(&clerk, &code(TOWNSHIP), &c.code, "农田灌溉纠纷")
        .await
        .unwrap();
    assert_eq!(r.label, "农田灌溉纠纷");
    let e = store
        .rename_case_category(&clerk, &code(TOWNSHIP), "dispute.family", "家事")
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    assert_eq!(audit_count(&store, "case_category").await, 2);
}

pub async fn case_attachments_stay_in_scope(store: TestStore) {
    seeded(&store).await;
    let rules = CaseRules::default();
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    let auditor = actor_at(&store, COUNTY, Role::Auditor).await;
    let case = store
        .register_case(&cadre, &rules, dispute(TOUCHANG, d(2024, 3, 1)))
        .await
        .unwrap();
    let photo = b"\x89PNG fake photo of the ditch".to_vec();
    let a = store
        .attach_case_file(&cadre, case.id, "现场照片.png", "image/png", &photo)
        .await
        .unwrap();
    assert_eq!(a.size, photo.len() as i64);
    // The same content again is the same file.
    let b = store
        .attach_case_file(&cadre, case.id, "C:\\temp\\再拍.PNG", "image/png", &photo)
        .await
        .unwrap();
    assert_eq!(a.sha256, b.sha256);
    assert_eq!(b.name, "再拍.PNG");
    let list = store.case_attachments(&cadre.scope, case.id).await.unwrap();
    assert_eq!(list.len(), 2);
    let f = store.case_file(&cadre.scope, &a.sha256).await.unwrap();
    assert_eq!(f.content, photo);

    // Another village sees neither the list nor the file, and cannot attach.
    assert!(matches!(
        store.case_attachments(&shetou.scope, case.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.case_file(&shetou.scope, &a.sha256).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .attach_case_file(&shetou, case.id, "x.png", "image/png", b"x")
            .await,
        Err(StoreError::NotFound)
    ));
    // Type, size and role are checked; nothing is stored.
    let before = audit_count(&store, "case").await;
    let e = store
        .attach_case_file(
            &cadre,
            case.id,
            "run.exe",
            "application/x-msdownload",
            b"MZ",
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("类型不允许"), "{e}");
    let big = vec![0u8; MAX_CASE_FILE_BYTES + 1];
    let e = store
        .attach_case_file(&cadre, case.id, "big.pdf", "application/pdf", &big)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("大小"), "{e}");
    assert!(matches!(
        store
            .attach_case_file(&auditor, case.id, "a.pdf", "application/pdf", b"%PDF")
            .await,
        Err(StoreError::Forbidden(_))
    ));
    assert_eq!(audit_count(&store, "case").await, before);
    assert_eq!(
        store
            .case_attachments(&cadre.scope, case.id)
            .await
            .unwrap()
            .len(),
        2
    );
}

pub async fn due_cases_are_reminded_once_a_day(store: TestStore) {
    seeded(&store).await;
    let rules = CaseRules::default();
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    let leader = actor_at(&store, TOWNSHIP, Role::TownshipLeader).await;
    // Due 2024-03-05; on 03-20 it is overdue. The other is registered on 03-19, due 03-21:
    // soon due. The third, in 舍头村, is due too but the leader of the township sees it.
    let overdue = store
        .register_case(&cadre, &rules, dispute(TOUCHANG, d(2024, 3, 1)))
        .await
        .unwrap();
    let soon = store
        .register_case(&cadre, &rules, dispute(TOUCHANG, d(2024, 3, 19)))
        .await
        .unwrap();
    let far = {
        let mut c = dispute(TOUCHANG, d(2024, 3, 19));
        c.category = "petition.rural".into();
        store.register_case(&cadre, &rules, c).await.unwrap()
    };
    let other = store
        .register_case(&shetou, &rules, dispute(SHETOU, d(2024, 3, 19)))
        .await
        .unwrap();

    let e = store
        .remind_due_cases(&cadre, &rules, d(2024, 3, 20))
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Forbidden(_)), "{e:?}");

    let mut done = store
        .remind_due_cases(&leader, &rules, d(2024, 3, 20))
        .await
        .unwrap();
    done.sort_unstable();
    let mut want = vec![overdue.id, soon.id, other.id];
    want.sort_unstable();
    assert_eq!(done, want, "a petition due in 15 days is not reminded");
    let d1 = store.case(&Scope::all(), overdue.id).await.unwrap();
    let last = d1.events.last().unwrap();
    assert_eq!(last.kind, EventKind::Remind);
    assert!(
        last.description.contains("超期15天"),
        "{}",
        last.description
    );
    assert_eq!(d1.case.state.reminders, 1);
    let d2 = store.case(&Scope::all(), soon.id).await.unwrap();
    assert!(d2.events.last().unwrap().description.contains("临期"));
    let d3 = store.case(&Scope::all(), far.id).await.unwrap();
    assert_eq!(d3.case.state.reminders, 0);

    // Once a day.
    assert!(
        store
            .remind_due_cases(&leader, &rules, d(2024, 3, 20))
            .await
            .unwrap()
            .is_empty()
    );
    let next = store
        .remind_due_cases(&leader, &rules, d(2024, 3, 21))
        .await
        .unwrap();
    assert_eq!(next.len(), 3);
    assert_eq!(
        store
            .case(&Scope::all(), overdue.id)
            .await
            .unwrap()
            .case
            .state
            .reminders,
        2
    );
}

pub async fn open311_keys_are_kept_hashed(store: TestStore) {
    seeded(&store).await;
    let admin = actor_at(&store, COUNTY, Role::Admin).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    assert!(matches!(
        store.add_open311_key(&clerk, "12345热线").await,
        Err(StoreError::Forbidden(_))
    ));
    let key = store.add_open311_key(&admin, "12345热线").await.unwrap();
    assert!(key.len() > 40);
    assert!(store.open311_key_valid(&key).await.unwrap());
    assert!(!store.open311_key_valid("x311_guess").await.unwrap());
    // What is kept is the hash: presenting the hash is not the key.
    let hash = crate::sql_case_settings::open311_key_hash(&key);
    assert!(!store.open311_key_valid(&hash).await.unwrap());
    let other = store.add_open311_key(&admin, "微信小程序").await.unwrap();
    assert_ne!(key, other);
    let entries = store
        .audit_list(
            &Scope::all(),
            &AuditFilter {
                entity: Some("open311_key".into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|e| !e.new_value.clone().unwrap_or_default().contains(&key))
    );
}

#[macro_export]
macro_rules! case_settings_conformance_tests {
    ($make:expr) => {
        $crate::case_settings_conformance_tests!(@each $make;
            township_limits_drive_deadlines,
            townships_add_their_own_categories,
            case_attachments_stay_in_scope,
            due_cases_are_reminded_once_a_day,
            open311_keys_are_kept_hashed
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_case_settings::$name(store).await;
            }
        )*
    };
}
