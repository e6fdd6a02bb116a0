//! Many writers at once, on every backend ([`concurrency_conformance_tests!`]): no write fails
//! with "database is locked", none is lost, and concurrent edits of one record are detected by
//! the version check instead of overwriting each other.

use std::sync::Arc;

use xiangzhi_domain::ledger::{FieldValue, LedgerDefinition};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::conformance::{TestStore, actor_at, seeded};
use crate::conformance_ledger::FANZHA;
use crate::error::StoreError;
use crate::ledger::*;
use crate::model::*;

const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";
const TOWNSHIP: &str = "361002201";
/// As the issue asks: fifty clients writing at once.
pub const WRITERS: usize = 50;

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

fn entry(id: Option<i64>, period: String, sessions: i64, audience: i64) -> EntryInput {
    EntryInput {
        id,
        org_code: code(TOUCHANG),
        period,
        subject: None,
        subject_label: None,
        values: [
            ("sessions".to_string(), FieldValue::Int(sessions)),
            ("audience".to_string(), FieldValue::Int(audience)),
        ]
        .into_iter()
        .collect(),
    }
}

async fn ledger_store(store: &TestStore) -> Actor {
    seeded(store).await;
    let def = LedgerDefinition::from_toml(FANZHA).unwrap();
    let clerk = actor_at(store, TOWNSHIP, Role::TownshipClerk).await;
    store.define_ledger(&clerk, &def).await.unwrap();
    actor_at(store, TOUCHANG, Role::VillageCadre).await
}

pub async fn fifty_writers_lose_nothing(store: TestStore) {
    let cadre = ledger_store(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let rows_before = store.audit_verify().await.unwrap().rows;
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let store = Arc::clone(&store);
        let (cadre, clerk) = (cadre.clone(), clerk.clone());
        tasks.push(tokio::spawn(async move {
            // Each writer does two kinds of write: a ledger entry of its own month and a grid.
            let period = format!("{}{:02}", 2020 + n / 12, n % 12 + 1);
            let e = store
                .save_entry(&cadre, "fanzha", entry(None, period, 1, n as i64 + 1))
                .await?;
            let village = if n % 2 == 0 { TOUCHANG } else { SHETOU };
            store
                .add_grid(&clerk, &code(village), &format!("并发网格{n}"))
                .await?;
            Ok::<i64, StoreError>(e.id)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(id) => ids.push(id),
            Err(e) => panic!("a concurrent writer failed: {e}"),
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), WRITERS, "every writer got its own entry");
    let all = Scope::all();
    let saved = store
        .entries(
            &all,
            "fanzha",
            &EntryQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(saved.len(), WRITERS);
    let mut audiences: Vec<i64> = saved
        .iter()
        .map(|e| match e.values.get("audience") {
            Some(FieldValue::Int(v)) => *v,
            other => panic!("audience {other:?}"),
        })
        .collect();
    audiences.sort();
    assert_eq!(audiences, (1..=WRITERS as i64).collect::<Vec<_>>());
    let mut grids = 0;
    for v in [TOUCHANG, SHETOU] {
        let children = store.org_children(&all, Some(&code(v))).await.unwrap();
        grids += children
            .iter()
            .filter(|u| u.name.starts_with("并发网格"))
            .count();
    }
    assert_eq!(grids, WRITERS);
    let report = store.audit_verify().await.unwrap();
    assert!(report.first_break.is_none(), "{:?}", report.first_break);
    assert_eq!(
        report.rows,
        rows_before + 2 * WRITERS as u64,
        "one audit row per write"
    );
}

pub async fn concurrent_edits_of_one_entry_are_detected(store: TestStore) {
    let cadre = ledger_store(&store).await;
    let first = store
        .save_entry(&cadre, "fanzha", entry(None, "202401".into(), 1, 10))
        .await
        .unwrap();
    // Everyone opened the form at the same moment and saves a different figure.
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let store = Arc::clone(&store);
        let cadre = cadre.clone();
        let seen = first.updated_at.clone();
        tasks.push(tokio::spawn(async move {
            let audience = 100 + n as i64;
            store
                .save_entry_if_current(
                    &cadre,
                    "fanzha",
                    entry(Some(first.id), "202401".into(), 1, audience),
                    &seen,
                )
                .await
                .map(|_| audience)
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(a) => winners.push(a),
            Err(StoreError::Conflict(m)) => {
                assert!(m.contains("请刷新后重新填写"), "{m}");
                conflicts += 1;
            }
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one edit wins: {winners:?}");
    assert_eq!(conflicts, WRITERS - 1);
    let now = store.entry(&Scope::all(), first.id).await.unwrap();
    assert_eq!(
        now.values.get("audience"),
        Some(&FieldValue::Int(winners[0])),
        "the stored figure is the winner's"
    );
    // A stale form stays refused; a fresh one saves.
    let stale = store
        .save_entry_if_current(
            &cadre,
            "fanzha",
            entry(Some(first.id), "202401".into(), 2, 5),
            &first.updated_at,
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    store
        .save_entry_if_current(
            &cadre,
            "fanzha",
            entry(Some(first.id), "202401".into(), 2, 500),
            &now.updated_at,
        )
        .await
        .unwrap();
    // Outside the scope, a stale version is still "not found", never a conflict that leaks.
    let shetou = actor_at(&store, SHETOU, Role::VillageCadre).await;
    let foreign = store
        .save_entry_if_current(
            &shetou,
            "fanzha",
            entry(Some(first.id), "202401".into(), 2, 7),
            "1970-01-01T00:00:00.000000Z",
        )
        .await;
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
    assert!(store.audit_verify().await.unwrap().first_break.is_none());
}

/// Read, add one, save with the version read; retry on conflict. Fifty such clients must end
/// at exactly fifty more: the version check turns lost updates into retries.
pub async fn read_modify_write_loses_no_update(store: TestStore) {
    let cadre = ledger_store(&store).await;
    let first = store
        .save_entry(&cadre, "fanzha", entry(None, "202402".into(), 1, 1000))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..WRITERS {
        let store = Arc::clone(&store);
        let cadre = cadre.clone();
        tasks.push(tokio::spawn(async move {
            let mut retries = 0u32;
            loop {
                let e = store.entry(&cadre.scope, first.id).await.unwrap();
                let Some(FieldValue::Int(a)) = e.values.get("audience") else {
                    panic!("audience missing");
                };
                match store
                    .save_entry_if_current(
                        &cadre,
                        "fanzha",
                        entry(Some(e.id), "202402".into(), 1, a + 1),
                        &e.updated_at,
                    )
                    .await
                {
                    Ok(_) => return retries,
                    Err(StoreError::Conflict(_)) => retries += 1,
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let now = store.entry(&Scope::all(), first.id).await.unwrap();
    assert_eq!(
        now.values.get("audience"),
        Some(&FieldValue::Int(1000 + WRITERS as i64))
    );
}

/// Caches of figures key on [`Store::data_version`](crate::Store::data_version): it must grow
/// with every committed write, also under concurrent writers, and stay put when a write fails.
pub async fn data_version_grows_with_every_commit(store: TestStore) {
    let cadre = ledger_store(&store).await;
    let v0 = store.data_version().await.unwrap();
    assert!(v0 > 0, "seeding and defining a ledger are writes");
    store
        .save_entry(&cadre, "fanzha", entry(None, "202403".into(), 1, 10))
        .await
        .unwrap();
    let v1 = store.data_version().await.unwrap();
    assert!(v1 > v0, "a saved entry moves the version");
    // A write outside the cadre's village is refused and changes nothing.
    let mut foreign = entry(None, "202403".into(), 1, 10);
    foreign.org_code = code(SHETOU);
    assert!(store.save_entry(&cadre, "fanzha", foreign).await.is_err());
    assert_eq!(store.data_version().await.unwrap(), v1);
    let mut tasks = Vec::new();
    for n in 0..WRITERS {
        let store = Arc::clone(&store);
        let cadre = cadre.clone();
        tasks.push(tokio::spawn(async move {
            let period = format!("{}{:02}", 2030 + n / 12, n % 12 + 1);
            store
                .save_entry(&cadre, "fanzha", entry(None, period, 1, 1))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let v2 = store.data_version().await.unwrap();
    assert_eq!(v2, v1 + WRITERS as i64, "one step per committed write");
    assert_eq!(v2 as u64, store.audit_verify().await.unwrap().rows);
}

#[macro_export]
macro_rules! concurrency_conformance_tests {
    ($make:expr) => {
        $crate::concurrency_conformance_tests!(@each $make;
            fifty_writers_lose_nothing,
            concurrent_edits_of_one_entry_are_detected,
            read_modify_write_loses_no_update,
            data_version_grows_with_every_commit
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_concurrency::$name(store).await;
            }
        )*
    };
}
