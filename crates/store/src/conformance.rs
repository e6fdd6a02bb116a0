//! One test story, run against every backend (as atuin and kellnr do).
//!
//! Each backend's `tests/conformance.rs` calls [`conformance_tests!`] with an async expression
//! that yields a fresh, migrated store, or `None` when that backend is not available here.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, Utc};
use xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
use xiangzhi_domain::role::Role;

use crate::Store;
use crate::audit::AuditFilter;
use crate::error::StoreError;
use crate::model::*;

pub type TestStore = Arc<dyn Store>;

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn unit(c: &str, name: &str) -> NewOrgUnit {
    let code = code(c);
    NewOrgUnit {
        parent_code: code.parent(),
        code,
        name: name.into(),
    }
}

/// 江西省 > 抚州市 > 临川区 > 连城乡 (头昌村, 舍头村) and 上顿渡镇 (一个村).
pub fn sample_units() -> Vec<NewOrgUnit> {
    vec![
        unit("36", "江西省"),
        unit("3610", "抚州市"),
        unit("361002", "临川区"),
        unit("361002201", "连城乡"),
        unit("361002201211", "头昌村委会"),
        unit("361002201208", "舍头村委会"),
        unit("361002100", "上顿渡镇"),
        unit("361002100200", "上顿渡村委会"),
    ]
}

pub async fn seeded(store: &TestStore) {
    store
        .import_org_units(&Actor::system("test"), &sample_units())
        .await
        .unwrap();
}

async fn path_of(store: &TestStore, c: &str) -> OrgPath {
    store.org_unit(&Scope::all(), &code(c)).await.unwrap().path
}

pub async fn actor_at(store: &TestStore, c: &str, role: Role) -> Actor {
    Actor {
        user_id: None,
        username: format!("{}@{c}", role.as_str()),
        role: Some(role),
        ip: Some("127.0.0.1".into()),
        scope: Scope::new(path_of(store, c).await),
    }
}

async fn audit_rows(store: &TestStore) -> u64 {
    store.audit_verify().await.unwrap().rows
}

pub async fn migrate_is_idempotent(store: TestStore) {
    let v = store.schema_version().await.unwrap();
    assert!(v >= 1);
    store.migrate().await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), v);
}

pub async fn import_is_idempotent(store: TestStore) {
    let actor = Actor::system("test");
    let s = store
        .import_org_units(&actor, &sample_units())
        .await
        .unwrap();
    assert_eq!(s.inserted, 8);
    let rows = audit_rows(&store).await;
    let again = store
        .import_org_units(&actor, &sample_units())
        .await
        .unwrap();
    assert_eq!(
        again,
        OrgImportSummary {
            inserted: 0,
            renamed: 0,
            moved: 0,
            unchanged: 8
        }
    );
    assert_eq!(
        audit_rows(&store).await,
        rows,
        "a no-op import must write nothing"
    );
    assert_eq!(store.org_count(&Scope::all()).await.unwrap(), 8);

    let mut renamed = sample_units();
    renamed[3].name = "连城镇".into();
    let s = store.import_org_units(&actor, &renamed).await.unwrap();
    assert_eq!(s.renamed, 1);
    let history = store
        .org_history(&Scope::all(), &code("361002201"))
        .await
        .unwrap();
    assert!(
        history
            .iter()
            .any(|e| e.kind == OrgEventKind::Rename && e.detail.contains("连城乡"))
    );
}

pub async fn bad_import_changes_nothing(store: TestStore) {
    seeded(&store).await;
    let rows = audit_rows(&store).await;
    let mut bad = vec![unit("361002202", "新乡")];
    bad.push(NewOrgUnit {
        code: code("361003001"),
        name: "孤儿街道".into(),
        parent_code: Some(code("361003")),
    });
    let err = store
        .import_org_units(&Actor::system("test"), &bad)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref m) if m.contains("不存在")),
        "{err}"
    );
    assert!(
        store
            .org_unit(&Scope::all(), &code("361002202"))
            .await
            .is_err()
    );
    assert_eq!(audit_rows(&store).await, rows);

    let cadre = actor_at(&store, "361002201211", Role::VillageCadre).await;
    let err = store
        .import_org_units(&cadre, &sample_units())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Forbidden(_)));
}

pub async fn scope_hides_other_villages(store: TestStore) {
    seeded(&store).await;
    let cadre = actor_at(&store, "361002201211", Role::VillageCadre).await;
    let scope = &cadre.scope;
    assert_eq!(
        store
            .org_unit(scope, &code("361002201211"))
            .await
            .unwrap()
            .name,
        "头昌村委会"
    );
    for foreign in ["361002201208", "361002100200", "361002201", "36"] {
        assert!(
            matches!(
                store.org_unit(scope, &code(foreign)).await,
                Err(StoreError::NotFound)
            ),
            "{foreign}"
        );
        assert!(matches!(
            store.org_children(scope, Some(&code(foreign))).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.org_subtree(scope, &code(foreign)).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.org_history(scope, &code(foreign)).await,
            Err(StoreError::NotFound)
        ));
    }
    let roots = store.org_children(scope, None).await.unwrap();
    assert_eq!(roots.len(), 1);
    assert_eq!(roots[0].code, code("361002201211"));
    let found = store.org_search(scope, "村", 50).await.unwrap();
    assert_eq!(
        found.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(),
        ["361002201211"]
    );
    assert_eq!(store.org_count(scope).await.unwrap(), 1);
    // Writes outside scope look exactly like a missing record.
    assert!(matches!(
        store.add_grid(&cadre, &code("361002201208"), "一组").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .rename_org_unit(&cadre, &code("361002201208"), "x", Utc::now().date_naive())
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn search_by_name_or_code(store: TestStore) {
    seeded(&store).await;
    let all = Scope::all();
    let by_name = store.org_search(&all, "头昌", 10).await.unwrap();
    assert_eq!(by_name.len(), 1);
    let by_code = store.org_search(&all, "361002201", 10).await.unwrap();
    assert_eq!(by_code[0].code, code("361002201"));
    assert_eq!(by_code.len(), 3);
    assert!(
        store.org_search(&all, "%", 10).await.unwrap().is_empty(),
        "LIKE wildcards are literal"
    );
    assert!(store.org_search(&all, "  ", 10).await.unwrap().is_empty());
    let township = store.org_unit(&all, &code("361002201")).await.unwrap();
    assert_eq!(township.child_count, 2);
    assert_eq!(township.level, OrgLevel::Township);
}

pub async fn grids_are_numbered_under_villages(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let g1 = store
        .add_grid(&clerk, &code("361002201211"), "第一网格")
        .await
        .unwrap();
    let g2 = store
        .add_grid(&clerk, &code("361002201211"), "第二网格")
        .await
        .unwrap();
    assert_eq!(g1.code.as_str(), "361002201211001");
    assert_eq!(g2.code.as_str(), "361002201211002");
    assert_eq!(g2.level, OrgLevel::Grid);
    assert_eq!(
        g2.path.as_str(),
        "/36/3610/361002/361002201/361002201211/361002201211002/"
    );
    assert!(matches!(
        store.add_grid(&clerk, &code("361002201"), "x").await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.add_grid(&clerk, &code("361002201211"), " ").await,
        Err(StoreError::Invalid(_))
    ));
    let grid_worker = Actor {
        scope: Scope::new(g1.path.clone()),
        ..clerk.clone()
    };
    assert_eq!(
        store.org_children(&grid_worker.scope, None).await.unwrap()[0].code,
        g1.code
    );
    assert!(store.org_unit(&grid_worker.scope, &g2.code).await.is_err());
}

pub async fn merge_and_split_keep_history(store: TestStore) {
    seeded(&store).await;
    let admin = Actor::system("test");
    let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let grid = store
        .add_grid(&admin, &code("361002201208"), "舍头一组")
        .await
        .unwrap();
    store
        .merge_org_units(&admin, &code("361002201208"), &code("361002201211"), day)
        .await
        .unwrap();
    let old = store
        .org_unit(&Scope::all(), &code("361002201208"))
        .await
        .unwrap();
    assert_eq!(old.valid_to, Some(day));
    let resolved = store
        .resolve_org_unit(&Scope::all(), &code("361002201208"))
        .await
        .unwrap();
    assert_eq!(resolved.code, code("361002201211"));
    let moved = store.org_unit(&Scope::all(), &grid.code).await.unwrap();
    assert_eq!(moved.parent_code, Some(code("361002201211")));
    assert!(moved.path.as_str().starts_with(resolved.path.as_str()));
    let kids = store
        .org_children(&Scope::all(), Some(&code("361002201")))
        .await
        .unwrap();
    assert_eq!(kids.len(), 1, "the merged village is no longer listed");
    // the subtree in one query is what walking the children finds, parents first
    let subtree = store
        .org_subtree(&Scope::all(), &code("361002201"))
        .await
        .unwrap();
    let mut walked = Vec::new();
    let mut queue = vec![code("361002201")];
    while let Some(c) = queue.pop() {
        for k in store.org_children(&Scope::all(), Some(&c)).await.unwrap() {
            queue.push(k.code);
        }
        walked.push(c.as_str().to_string());
    }
    let mut listed: Vec<String> = subtree.iter().map(|u| u.code.as_str().into()).collect();
    assert_eq!(listed[0], "361002201");
    listed.sort();
    walked.sort();
    assert_eq!(listed, walked);
    assert!(
        subtree
            .windows(2)
            .all(|w| w[0].path.as_str() < w[1].path.as_str())
    );
    assert!(
        subtree.iter().any(|u| u.code == grid.code),
        "the moved grid"
    );
    assert!(
        !subtree.iter().any(|u| u.code == code("361002201208")),
        "the merged village"
    );
    assert!(
        store
            .merge_org_units(&admin, &code("361002201211"), &code("361002201"), day)
            .await
            .is_err()
    );

    let split = store
        .split_org_unit(
            &admin,
            &code("361002201211"),
            &code("361002201212"),
            "新昌村委会",
            std::slice::from_ref(&grid.code),
            day,
        )
        .await
        .unwrap();
    assert_eq!(split.parent_code, Some(code("361002201")));
    let grid_now = store.org_unit(&Scope::all(), &grid.code).await.unwrap();
    assert_eq!(grid_now.parent_code, Some(code("361002201212")));
    assert!(split.path.contains(&grid_now.path));
    let history = store
        .org_history(&Scope::all(), &code("361002201211"))
        .await
        .unwrap();
    let kinds: Vec<_> = history.iter().map(|e| e.kind.clone()).collect();
    assert!(kinds.contains(&OrgEventKind::Merge) && kinds.contains(&OrgEventKind::Split));
    assert!(
        store
            .split_org_unit(
                &admin,
                &code("361002201211"),
                &code("361002201212"),
                "重复",
                &[],
                day
            )
            .await
            .is_err()
    );
}

fn new_user(name: &str, role: Role, org: &str) -> NewUser {
    NewUser {
        username: name.into(),
        display_name: format!("{name}同志"),
        role,
        org_code: code(org),
        password_hash: "$argon2id$fake".into(),
    }
}

pub async fn users_are_scoped(store: TestStore) {
    seeded(&store).await;
    let admin = Actor::system("test");
    let a = store
        .create_user(
            &admin,
            new_user("toucang", Role::VillageCadre, "361002201211"),
        )
        .await
        .unwrap();
    let b = store
        .create_user(
            &admin,
            new_user("shetou", Role::VillageCadre, "361002201208"),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_user(
                &admin,
                new_user("toucang", Role::GridWorker, "361002201211")
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .create_user(&admin, new_user("bad name", Role::Auditor, "361002"))
            .await
            .is_err()
    );
    let cadre = actor_at(&store, "361002201211", Role::VillageCadre).await;
    assert_eq!(store.list_users(&cadre.scope).await.unwrap().len(), 1);
    assert!(matches!(
        store.user(&cadre.scope, b.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.set_user_active(&cadre, b.id, false).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.set_password(&cadre, b.id, "x").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .create_user(&cadre, new_user("intruder", Role::Admin, "361002201208"))
            .await,
        Err(StoreError::NotFound)
    ));
    let township = actor_at(&store, "361002201", Role::TownshipLeader).await;
    assert_eq!(store.list_users(&township.scope).await.unwrap().len(), 2);
    let off = store.set_user_active(&township, a.id, false).await.unwrap();
    assert!(!off.active);
}

pub async fn sessions_and_lockout(store: TestStore) {
    seeded(&store).await;
    let admin = Actor::system("test");
    let u = store
        .create_user(&admin, new_user("clerk", Role::TownshipClerk, "361002201"))
        .await
        .unwrap();
    let until = Utc::now() + Duration::minutes(15);
    for _ in 0..4 {
        store
            .record_login_failure("clerk", Some("10.0.0.1"), 5, until)
            .await
            .unwrap();
    }
    let c = store.credentials("clerk").await.unwrap().unwrap();
    assert_eq!(c.failed_logins, 4);
    assert!(c.locked_until.is_none());
    store
        .record_login_failure("clerk", Some("10.0.0.1"), 5, until)
        .await
        .unwrap();
    let c = store.credentials("clerk").await.unwrap().unwrap();
    assert!(c.locked_until.is_some_and(|t| t > Utc::now()));
    let filter = AuditFilter {
        action: Some("login_locked".into()),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        store
            .audit_list(&Scope::all(), &filter)
            .await
            .unwrap()
            .len(),
        1
    );
    store
        .record_login_failure("nobody", None, 5, until)
        .await
        .unwrap();
    assert!(store.credentials("nobody").await.unwrap().is_none());

    let expires = Utc::now() + Duration::hours(8);
    store
        .create_session(u.id, Some("10.0.0.1"), "tokhash", "csrf", expires)
        .await
        .unwrap();
    let s = store.session("tokhash", Utc::now()).await.unwrap().unwrap();
    assert_eq!(s.user.username, "clerk");
    assert_eq!(s.csrf_token, "csrf");
    assert!(
        store
            .session("tokhash", expires + Duration::seconds(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.session("other", Utc::now()).await.unwrap().is_none());
    let c = store.credentials("clerk").await.unwrap().unwrap();
    assert_eq!(c.failed_logins, 0, "a good login clears failures");
    store.delete_session("tokhash").await.unwrap();
    assert!(
        store
            .session("tokhash", Utc::now())
            .await
            .unwrap()
            .is_none()
    );

    store
        .create_session(u.id, None, "tok2", "csrf2", expires)
        .await
        .unwrap();
    store.set_user_active(&admin, u.id, false).await.unwrap();
    assert!(
        store.session("tok2", Utc::now()).await.unwrap().is_none(),
        "disabling a user ends its sessions"
    );
}

pub async fn every_write_is_audited_and_chained(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, "361002201", Role::TownshipClerk).await;
    let before = audit_rows(&store).await;
    store
        .add_grid(&clerk, &code("361002201211"), "一组")
        .await
        .unwrap();
    store
        .rename_org_unit(
            &clerk,
            &code("361002201211"),
            "头昌村",
            Utc::now().date_naive(),
        )
        .await
        .unwrap();
    let report = store.audit_verify().await.unwrap();
    assert!(report.first_break.is_none(), "{:?}", report.first_break);
    assert_eq!(report.rows, before + 2);
    let rename = store
        .audit_list(
            &clerk.scope,
            &AuditFilter {
                entity_id: Some("361002201211".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(rename.len(), 1);
    assert_eq!(rename[0].actor_name, clerk.username);
    assert!(
        rename[0]
            .old_value
            .as_deref()
            .unwrap()
            .contains("头昌村委会")
    );
    assert!(rename[0].new_value.as_deref().unwrap().contains("头昌村"));
    let other = actor_at(&store, "361002100", Role::Auditor).await;
    let seen = store
        .audit_list(
            &other.scope,
            &AuditFilter {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        seen.is_empty(),
        "an auditor of another township sees none of these"
    );
}

pub async fn backup_is_a_usable_copy(store: TestStore, out: std::path::PathBuf) {
    seeded(&store).await;
    store.backup(&out).await.unwrap();
    assert!(out.exists());
}

/// A command closes its store when it ends; nothing can use it afterwards.
pub async fn close_ends_the_store(store: TestStore) {
    seeded(&store).await;
    assert_eq!(store.org_count(&Scope::all()).await.unwrap(), 8);
    store.close().await.unwrap();
    assert!(store.org_count(&Scope::all()).await.is_err());
    assert!(
        store
            .add_grid(&Actor::system("test"), &code("361002201211"), "关闭后",)
            .await
            .is_err()
    );
}

/// Expands to one `#[tokio::test]` per story. `$make` is an async expression giving
/// `Option<TestStore>`; `None` skips (the factory prints why).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@each $make;
            migrate_is_idempotent,
            import_is_idempotent,
            bad_import_changes_nothing,
            scope_hides_other_villages,
            search_by_name_or_code,
            grids_are_numbered_under_villages,
            merge_and_split_keep_history,
            users_are_scoped,
            sessions_and_lockout,
            every_write_is_audited_and_chained,
            close_ends_the_store
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance::$name(store).await;
            }
        )*
    };
}
