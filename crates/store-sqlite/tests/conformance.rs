use std::sync::Arc;

use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;
use xiangzhi_store::conformance::{self, TestStore};
use xiangzhi_store::{Store, StoreError};
use xiangzhi_store_sqlite::SqliteStore;

/// The file at `path`, opened and migrated.
async fn open_migrated(path: &std::path::Path) -> SqliteStore {
    let store = SqliteStore::open(
        path.to_str().unwrap(),
        Arc::new(xiangzhi_store::Vault::ephemeral()),
    )
    .await
    .unwrap();
    store.migrate().await.unwrap();
    store
}

/// A fresh database file per test; the directory lives as long as the test process.
async fn open() -> (SqliteStore, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    (open_migrated(&dir.join("test.db")).await, dir)
}

async fn make() -> Option<TestStore> {
    Some(Arc::new(open().await.0))
}

xiangzhi_store::conformance_tests!(make());
xiangzhi_store::registry_conformance_tests!(make());
xiangzhi_store::ledger_conformance_tests!(make());
xiangzhi_store::case_conformance_tests!(make());
xiangzhi_store::history_conformance_tests!(make());
xiangzhi_store::case_settings_conformance_tests!(make());
xiangzhi_store::assistance_conformance_tests!(make());
xiangzhi_store::indicator_conformance_tests!(make());
xiangzhi_store::report_conformance_tests!(make());

#[tokio::test]
async fn personal_data_is_sealed() {
    let (store, dir) = open().await;
    let out = dir.join("sealed-check.db");
    xiangzhi_store::conformance_registry::personal_data_is_sealed(Arc::new(store), out).await;
}

/// Three audited writes on a seeded store; returns the concrete store for raw tampering.
async fn with_history() -> (Arc<SqliteStore>, TestStore, std::path::PathBuf) {
    let (store, dir) = open().await;
    let concrete = Arc::new(store);
    let store: TestStore = concrete.clone();
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
    (concrete, store, dir)
}

#[tokio::test]
async fn tampering_with_one_audit_row_is_caught() {
    let (raw, store, _dir) = with_history().await;
    sqlx::query("UPDATE audit_log SET new_value = '{\"name\":\"假\"}' WHERE id = 3")
        .execute(raw.write_pool())
        .await
        .unwrap();
    let report = store.audit_verify().await.unwrap();
    assert_eq!(report.first_break.unwrap().id, 3);
}

#[tokio::test]
async fn deleting_audit_rows_is_caught() {
    let (raw, store, _dir) = with_history().await;
    sqlx::query("DELETE FROM audit_log WHERE id = (SELECT MAX(id) FROM audit_log)")
        .execute(raw.write_pool())
        .await
        .unwrap();
    assert!(
        store
            .audit_verify()
            .await
            .unwrap()
            .first_break
            .unwrap()
            .reason
            .contains("截断")
    );
    sqlx::query("DELETE FROM audit_log WHERE id = 2")
        .execute(raw.write_pool())
        .await
        .unwrap();
    assert_eq!(
        store.audit_verify().await.unwrap().first_break.unwrap().id,
        2
    );
}

#[tokio::test]
async fn a_foreign_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let store = SqliteStore::open(
            path.to_str().unwrap(),
            Arc::new(xiangzhi_store::Vault::ephemeral()),
        )
        .await
        .unwrap();
        sqlx::query("CREATE TABLE invoices (id INTEGER)")
            .execute(store.write_pool())
            .await
            .unwrap();
    }
    let store = SqliteStore::open(
        path.to_str().unwrap(),
        Arc::new(xiangzhi_store::Vault::ephemeral()),
    )
    .await
    .unwrap();
    assert!(matches!(
        store.migrate().await,
        Err(StoreError::ForeignDatabase(_))
    ));

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![b'x'; 8192]).unwrap();
    let err = match SqliteStore::open(
        junk.to_str().unwrap(),
        Arc::new(xiangzhi_store::Vault::ephemeral()),
    )
    .await
    {
        Err(e) => e,
        Ok(s) => s.migrate().await.unwrap_err(),
    };
    assert!(matches!(err, StoreError::ForeignDatabase(_)), "{err}");
}

#[tokio::test]
async fn backup_copies_everything() {
    let (store, dir) = open().await;
    let store: TestStore = Arc::new(store);
    let out = dir.join("backup.db");
    conformance::backup_is_a_usable_copy(store.clone(), out.clone()).await;
    let copy = SqliteStore::open(
        out.to_str().unwrap(),
        Arc::new(xiangzhi_store::Vault::ephemeral()),
    )
    .await
    .unwrap();
    assert_eq!(
        copy.org_count(&xiangzhi_store::Scope::all()).await.unwrap(),
        8
    );
    assert!(copy.audit_verify().await.unwrap().first_break.is_none());
    assert!(
        store.backup(&out).await.is_err(),
        "an existing file is never overwritten"
    );
}

xiangzhi_store::concurrency_conformance_tests!(make());

#[tokio::test]
async fn upgrades_from_every_schema_version() {
    xiangzhi_store::conformance_upgrade::upgrade_from_every_version(|| async {
        let dir = tempfile::tempdir().unwrap().keep();
        let store = SqliteStore::open(
            dir.join("old.db").to_str().unwrap(),
            Arc::new(xiangzhi_store::Vault::ephemeral()),
        )
        .await
        .unwrap();
        Some(Arc::new(store) as TestStore)
    })
    .await;
}

#[tokio::test]
async fn long_lookup_hashes_still_find() {
    let dir = tempfile::tempdir().unwrap().keep();
    let store = Arc::new(
        SqliteStore::open(
            dir.join("old-hashes.db").to_str().unwrap(),
            Arc::new(xiangzhi_store::Vault::ephemeral()),
        )
        .await
        .unwrap(),
    );
    let raw = store.clone();
    xiangzhi_store::conformance_upgrade::long_lookup_hashes_still_find(
        async { Some(store as TestStore) },
        |sql| {
            let raw = raw.clone();
            async move {
                sqlx::query(sql).execute(raw.write_pool()).await.unwrap();
            }
        },
    )
    .await;
}

/// The indexes and triggers of a database file, by name, with their SQL's whitespace
/// collapsed.
async fn schema_objects(path: &std::path::Path) -> Vec<(String, String)> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') \
         AND sql IS NOT NULL ORDER BY name",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(n, sql)| (n, sql.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect()
}

/// A bulk import drops the person indexes and the tally triggers and recreates them from
/// `PERSON_INDEXES` and `TALLY_INSERT_TRIGGERS`; what it recreates must be what the
/// migrations made, or a loaded county would differ from a new database.
#[tokio::test]
async fn bulk_import_leaves_the_schema_as_migrated() {
    let (_fresh, fresh_dir) = open().await;
    let (loaded, dir) = open().await;
    let loaded: TestStore = Arc::new(loaded);
    // its first import (1,200 people into an empty registry) takes the bulk path
    xiangzhi_store::conformance_tallies::registry_counts_are_kept(loaded.clone()).await;
    let migrated = schema_objects(&fresh_dir.join("test.db")).await;
    assert!(
        migrated.iter().any(|(n, _)| n == "persons_phone"),
        "{migrated:?}"
    );
    let after = schema_objects(&dir.join("test.db")).await;
    let differ: Vec<_> = after
        .iter()
        .filter(|o| !migrated.contains(o))
        .chain(migrated.iter().filter(|o| !after.contains(o)))
        .collect();
    assert!(differ.is_empty(), "differ from the migrations: {differ:#?}");
}

async fn page_size(path: &std::path::Path) -> i64 {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    size
}

/// New files get 16 KiB pages; a file SQLite made with its default 4 KiB keeps them (a page
/// size cannot change once a file has tables, short of rewriting it) and works as before.
#[tokio::test]
async fn new_files_get_16_kib_pages_and_old_ones_keep_theirs() {
    let (_store, dir) = open().await;
    assert_eq!(page_size(&dir.join("test.db")).await, 16_384);

    let old = tempfile::tempdir().unwrap();
    let path = old.path().join("old.db");
    {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
    let store: TestStore = Arc::new(open_migrated(&path).await);
    xiangzhi_store::conformance_tallies::registry_counts_are_kept(store.clone()).await;
    assert_eq!(page_size(&path).await, 4096);
}
