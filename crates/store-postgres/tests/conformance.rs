//! Runs when `XIANGZHI_TEST_PG` names a database (CI sets it); each test gets its own schema.

use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::PgConnectOptions;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;
use xiangzhi_store::Store;
use xiangzhi_store::conformance::{self, TestStore};
use xiangzhi_store_postgres::PgStore;

/// A fresh schema of its own, with no migration applied.
async fn open_empty() -> Option<PgStore> {
    let Ok(url) = std::env::var("XIANGZHI_TEST_PG") else {
        if std::env::var("XIANGZHI_REQUIRE_ALL").is_ok_and(|v| v == "1") {
            panic!("XIANGZHI_REQUIRE_ALL=1 but XIANGZHI_TEST_PG is not set");
        }
        eprintln!(
            "PostgreSQL conformance SKIPPED: set XIANGZHI_TEST_PG=postgres://127.0.0.1/test to run it"
        );
        return None;
    };
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    let schema = format!("xz_test_{}", u64::from_le_bytes(bytes));
    let admin = PgStore::open(&url, Arc::new(xiangzhi_store::Vault::ephemeral()))
        .await
        .expect("XIANGZHI_TEST_PG is set but unreachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(admin.pool())
        .await
        .unwrap();
    let options = PgConnectOptions::from_str(&url)
        .unwrap()
        .options([("search_path", schema.as_str())]);
    let store = PgStore::open_with(options, Arc::new(xiangzhi_store::Vault::ephemeral()))
        .await
        .unwrap();
    Some(store)
}

async fn open() -> Option<PgStore> {
    let store = open_empty().await?;
    store.migrate().await.unwrap();
    Some(store)
}

async fn make() -> Option<TestStore> {
    Some(Arc::new(open().await?))
}

xiangzhi_store::conformance_tests!(make());
xiangzhi_store::registry_conformance_tests!(make());
xiangzhi_store::ledger_conformance_tests!(make());
xiangzhi_store::case_conformance_tests!(make());
xiangzhi_store::history_conformance_tests!(make());
xiangzhi_store::case_settings_conformance_tests!(make());
xiangzhi_store::assistance_conformance_tests!(make());
xiangzhi_store::concurrency_conformance_tests!(make());
xiangzhi_store::indicator_conformance_tests!(make());
xiangzhi_store::report_conformance_tests!(make());

#[tokio::test]
async fn personal_data_is_sealed() {
    let Some(raw) = open().await else { return };
    let dir = std::env::temp_dir().join(format!("xz-pg-sealed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    xiangzhi_store::conformance_registry::personal_data_is_sealed(Arc::new(raw), dir.clone()).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn tampering_with_one_audit_row_is_caught() {
    let Some(raw) = open().await else { return };
    let raw = Arc::new(raw);
    let store: TestStore = raw.clone();
    conformance::seeded(&store).await;
    let actor = conformance::actor_at(&store, "361002201", Role::TownshipClerk).await;
    let village = DivisionCode::parse("361002201211").unwrap();
    for n in 0..3 {
        store
            .add_grid(&actor, &village, &format!("{n}组"))
            .await
            .unwrap();
    }
    assert!(store.audit_verify().await.unwrap().first_break.is_none());
    sqlx::query("UPDATE audit_log SET actor_name = 'someone else' WHERE id = 3")
        .execute(raw.pool())
        .await
        .unwrap();
    assert_eq!(
        store.audit_verify().await.unwrap().first_break.unwrap().id,
        3
    );
}

#[tokio::test]
async fn concurrent_writers_keep_the_chain_linear() {
    let Some(raw) = open().await else { return };
    let store: TestStore = Arc::new(raw);
    conformance::seeded(&store).await;
    let actor = conformance::actor_at(&store, "361002201", Role::TownshipClerk).await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (store, actor) = (store.clone(), actor.clone());
        tasks.push(tokio::spawn(async move {
            let village = DivisionCode::parse(if n % 2 == 0 {
                "361002201211"
            } else {
                "361002201208"
            })
            .unwrap();
            store
                .rename_org_unit(
                    &actor,
                    &village,
                    &format!("村{n}"),
                    chrono::Utc::now().date_naive(),
                )
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = store.audit_verify().await.unwrap();
    assert!(report.first_break.is_none(), "{:?}", report.first_break);
}

#[tokio::test]
async fn backup_writes_every_table() {
    let Some(raw) = open().await else { return };
    let store: TestStore = Arc::new(raw);
    let dir = std::env::temp_dir().join(format!("xz-pg-backup-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    conformance::backup_is_a_usable_copy(store, dir.clone()).await;
    let units = std::fs::read_to_string(dir.join("org_units.csv")).unwrap();
    assert_eq!(units.lines().count(), 9, "header and eight units");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn upgrades_from_every_schema_version() {
    xiangzhi_store::conformance_upgrade::upgrade_from_every_version(|| async {
        Some(Arc::new(open_empty().await?) as TestStore)
    })
    .await;
}

/// The backup holds every table the catalog lists: it once missed the assistance tables.
#[tokio::test]
async fn backup_holds_every_table() {
    let Some(store) = open().await else { return };
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(tables.iter().any(|(t,)| t == "payroll_lines"));
    let dir = std::env::temp_dir().join(format!("xz-pg-backup-all-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    store.backup(&dir).await.unwrap();
    for (t,) in &tables {
        assert!(
            dir.join(format!("{t}.csv")).is_file(),
            "{t} is not in the backup"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn long_lookup_hashes_still_find() {
    let Some(store) = open_empty().await else {
        return;
    };
    let store = Arc::new(store);
    let raw = store.clone();
    xiangzhi_store::conformance_upgrade::long_lookup_hashes_still_find(
        async { Some(store as TestStore) },
        |sql| {
            let raw = raw.clone();
            async move {
                sqlx::query(sql).execute(raw.pool()).await.unwrap();
            }
        },
    )
    .await;
}
