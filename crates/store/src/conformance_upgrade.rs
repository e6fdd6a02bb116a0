//! Upgrades, on every backend: a database left at any earlier schema version, holding data
//! written by that version, migrates to the newest and keeps the data, the audit chain and
//! every kind of write working. Version 0 is the empty database.

use std::future::Future;

use chrono::NaiveDate;
use xiangzhi_domain::ledger::{FieldValue, LedgerDefinition};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::conformance::{TestStore, actor_at, seeded};
use crate::conformance_ledger::FANZHA;
use crate::ledger::*;
use crate::model::*;
use crate::registry::*;

const TOUCHANG: &str = "361002201211";
const TOWNSHIP: &str = "361002201";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

/// The first migration each kind of data needs: names, so a renumbering shows up here.
fn introduced(store: &TestStore, name: &str) -> i64 {
    store
        .known_migrations()
        .iter()
        .find(|(_, n)| *n == name)
        .unwrap_or_else(|| panic!("no migration named {name}"))
        .0
}

/// Writes what schema `version` can hold; `n` keeps citizen IDs and periods apart.
async fn write_at(store: &TestStore, version: i64, tag: &str, n: u16) {
    if version >= introduced(store, "foundation") {
        seeded(store).await;
        let clerk = actor_at(store, TOWNSHIP, Role::TownshipClerk).await;
        store
            .add_grid(&clerk, &code(TOUCHANG), &format!("{tag}网格"))
            .await
            .unwrap();
        store
            .create_user(
                &Actor::system("test"),
                NewUser {
                    username: format!("u{tag}"),
                    display_name: format!("{tag}用户"),
                    role: Role::VillageCadre,
                    org_code: code(TOUCHANG),
                    password_hash: "x".into(),
                },
            )
            .await
            .unwrap();
    }
    if version >= introduced(store, "registry") {
        let clerk = actor_at(store, TOWNSHIP, Role::TownshipClerk).await;
        let h = store
            .create_household(
                &clerk,
                NewHousehold {
                    household_no: format!("H{tag}"),
                    address: format!("{tag}地址"),
                    org_code: code(TOUCHANG),
                },
            )
            .await
            .unwrap();
        let birth = NaiveDate::from_ymd_opt(1980, 5, 6).unwrap();
        store
            .create_person(
                &clerk,
                NewPerson {
                    name: format!("{tag}某"),
                    citizen_id: xiangzhi_domain::citizen_id::generate(
                        "361002",
                        birth,
                        100 + n,
                        true,
                    ),
                    phone: None,
                    household_id: Some(h.id),
                    relation: Some(Relation::Head),
                    org_code: None,
                    tags: Vec::new(),
                },
            )
            .await
            .unwrap();
    }
    if version >= introduced(store, "ledgers") {
        let clerk = actor_at(store, TOWNSHIP, Role::TownshipClerk).await;
        store
            .define_ledger(&clerk, &LedgerDefinition::from_toml(FANZHA).unwrap())
            .await
            .unwrap();
        let cadre = actor_at(store, TOUCHANG, Role::VillageCadre).await;
        store
            .save_entry(
                &cadre,
                "fanzha",
                EntryInput {
                    id: None,
                    org_code: code(TOUCHANG),
                    period: format!("{}{:02}", 2001 + n / 12, n % 12 + 1),
                    subject: None,
                    subject_label: None,
                    values: [("sessions".to_string(), FieldValue::Int(4))]
                        .into_iter()
                        .collect(),
                },
            )
            .await
            .unwrap();
    }
}

async fn check_after(store: &TestStore, version: i64, tag: &str, n: u16) {
    let all = Scope::all();
    if version >= introduced(store, "foundation") {
        let grids = store
            .org_children(&all, Some(&code(TOUCHANG)))
            .await
            .unwrap();
        assert!(
            grids.iter().any(|g| g.name == format!("{tag}网格")),
            "from v{version}: the grid survived"
        );
        assert!(
            store
                .list_users(&all)
                .await
                .unwrap()
                .iter()
                .any(|u| u.username == format!("u{tag}")),
            "from v{version}: the user survived"
        );
    }
    if version >= introduced(store, "registry") {
        let people = store
            .person_search(
                &all,
                &PersonQuery {
                    q: Some(format!("{tag}某")),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(people.len(), 1, "from v{version}: the person survived");
    }
    if version >= introduced(store, "ledgers") {
        let entries = store
            .entries(
                &all,
                "fanzha",
                &EntryQuery {
                    period: Some(format!("{}{:02}", 2001 + n / 12, n % 12 + 1)),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(entries.len(), 1, "from v{version}: the entry survived");
        assert_eq!(entries[0].values.get("sessions"), Some(&FieldValue::Int(4)));
    }
}

/// `make_empty` yields a fresh database with no migration applied.
pub async fn upgrade_from_every_version<F, Fut>(make_empty: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<TestStore>>,
{
    let Some(probe) = make_empty().await else {
        return;
    };
    let versions: Vec<i64> = probe.known_migrations().iter().map(|(v, _)| *v).collect();
    let newest = *versions.last().expect("at least one migration");
    for (n, start) in std::iter::once(0)
        .chain(versions.iter().copied())
        .enumerate()
    {
        let n = n as u16;
        let store = make_empty().await.expect("a second fresh database");
        store.migrate_to(start).await.unwrap();
        assert_eq!(store.schema_version().await.unwrap(), start);
        let tag = format!("v{start}");
        write_at(&store, start, &tag, 2 * n).await;
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("upgrade from v{start} failed: {e}"));
        assert_eq!(store.schema_version().await.unwrap(), newest);
        check_after(&store, start, &tag, 2 * n).await;
        let report = store.audit_verify().await.unwrap();
        assert!(
            report.first_break.is_none(),
            "from v{start}: {:?}",
            report.first_break
        );
        // The upgraded database takes every kind of write, as a new one would.
        write_at(&store, newest, &format!("{tag}后"), 2 * n + 1).await;
        check_after(&store, newest, &format!("{tag}后"), 2 * n + 1).await;
    }
}

/// Keyed hashes written before migration `short_lookup_hashes` are 64 hex digits. After it,
/// the person is found by citizen ID and by phone, the same ID is still refused as a
/// duplicate, and re-importing the person's row changes nothing. `make_empty` yields a fresh
/// database with no migration applied; `raw` runs one SQL statement on that same database
/// (to give the stored hashes their old length: the old hash starts with the new one).
pub async fn long_lookup_hashes_still_find<R, RFut>(
    make_empty: impl Future<Output = Option<TestStore>>,
    raw: R,
) where
    R: Fn(&'static str) -> RFut,
    RFut: Future<Output = ()>,
{
    let Some(store) = make_empty.await else {
        return;
    };
    store
        .migrate_to(introduced(&store, "short_lookup_hashes") - 1)
        .await
        .unwrap();
    seeded(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let birth = NaiveDate::from_ymd_opt(1979, 3, 4).unwrap();
    let id = xiangzhi_domain::citizen_id::generate("361002", birth, 77, false);
    let phone = xiangzhi_domain::phone::Phone::parse("13912340077").unwrap();
    let new_person = || NewPerson {
        name: "旧哈希".into(),
        citizen_id: id.clone(),
        phone: Some(phone.clone()),
        household_id: None,
        relation: None,
        org_code: Some(code(TOUCHANG)),
        tags: Vec::new(),
    };
    let created = store.create_person(&clerk, new_person()).await.unwrap();
    raw(
        "UPDATE persons SET id_hash = id_hash || '00112233445566778899aabbccddeeff', \
         phone_hash = phone_hash || '00112233445566778899aabbccddeeff'",
    )
    .await;
    let find = |q: String| {
        let store = store.clone();
        let scope = clerk.scope.clone();
        async move {
            store
                .person_search(
                    &scope,
                    &PersonQuery {
                        q: Some(q),
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        }
    };
    assert!(
        find(id.as_str().into()).await.is_empty(),
        "the long form is what the migration must fix"
    );
    store.migrate().await.unwrap();
    assert_eq!(
        find(id.as_str().into()).await,
        vec![created.id],
        "by citizen ID"
    );
    assert_eq!(
        find(phone.as_str().into()).await,
        vec![created.id],
        "by phone"
    );
    assert!(matches!(
        store.create_person(&clerk, new_person()).await,
        Err(crate::error::StoreError::Conflict(_))
    ));
    let row = PersonImportRow {
        line: 2,
        name: "旧哈希".into(),
        citizen_id: id.clone(),
        phone: Some(phone.clone()),
        household_no: None,
        relation: None,
        status: None,
        org_code: Some(code(TOUCHANG)),
        household_address: None,
        tags: None,
    };
    let outcome = store
        .import_persons(&clerk, &code(TOWNSHIP), &[row], false)
        .await
        .unwrap();
    assert!(outcome.issues.is_empty(), "{:?}", outcome.issues);
    assert_eq!(
        (
            outcome.summary.new,
            outcome.summary.updated,
            outcome.summary.unchanged
        ),
        (0, 0, 1)
    );
}
