//! xiangzhi on PostgreSQL: for a city or a province.
//!
//! Concurrent writers are serialised only where they must be: each write locks the audit head
//! row (`FOR UPDATE`) so the hash chain stays linear, and nothing else.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Pool, Postgres, Transaction};
use std::sync::Arc;

use xiangzhi_store::{StoreError, StoreResult, Vault};

mod bulk;

pub struct PgStore {
    pool: PgPool,
    vault: Arc<Vault>,
}

/// Tables are read from the catalog at backup time: a hard-coded list once left the
/// assistance tables (programs, enrollments, payrolls, payouts) out of every backup.
const LIST_TABLES: &str = "SELECT table_name::text FROM information_schema.tables \
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name";

impl PgStore {
    const BACKEND: &'static str = "postgres";
    const LOCK_AUDIT_HEAD: &'static str =
        "SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE";
    const MIGRATIONS: &'static [(i64, &'static str, &'static str)] = &[
        (
            1,
            "foundation",
            include_str!("../migrations/0001_foundation.sql"),
        ),
        (
            2,
            "registry",
            include_str!("../migrations/0002_registry.sql"),
        ),
        (3, "ledgers", include_str!("../migrations/0003_ledgers.sql")),
        (
            4,
            "assistance",
            include_str!("../migrations/0004_assistance.sql"),
        ),
        (5, "cases", include_str!("../migrations/0005_cases.sql")),
        (
            6,
            "person_counts",
            include_str!("../migrations/0006_person_counts.sql"),
        ),
        (
            7,
            "case_settings",
            include_str!("../migrations/0007_case_settings.sql"),
        ),
        (
            8,
            "assistance_accounts_checks",
            include_str!("../migrations/0008_assistance_accounts_checks.sql"),
        ),
        (
            9,
            "indicators",
            include_str!("../migrations/0009_indicators.sql"),
        ),
        (
            10,
            "reports",
            include_str!("../migrations/0010_reports.sql"),
        ),
        (
            12,
            "registry_tallies",
            include_str!("../migrations/0012_registry_tallies.sql"),
        ),
        (
            13,
            "measure_indexes",
            include_str!("../migrations/0013_measure_indexes.sql"),
        ),
        (
            14,
            "short_lookup_hashes",
            include_str!("../migrations/0014_short_lookup_hashes.sql"),
        ),
        (
            15,
            "partial_phone_index",
            include_str!("../migrations/0015_partial_phone_index.sql"),
        ),
    ];

    /// `vault` seals and finds citizen IDs and phones; its key lives outside the database.
    pub async fn open(url: &str, vault: Arc<Vault>) -> StoreResult<PgStore> {
        Self::open_with(
            PgConnectOptions::from_str(url).map_err(Self::map_err)?,
            vault,
        )
        .await
    }

    pub async fn open_with(options: PgConnectOptions, vault: Arc<Vault>) -> StoreResult<PgStore> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(Self::map_err)?;
        Ok(PgStore { pool, vault })
    }

    fn read(&self) -> &Pool<Postgres> {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(Self::map_err)
    }

    async fn check_ours(&self) -> StoreResult<()> {
        let tables: Vec<(String,)> =
            sqlx::query_as("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()")
                .fetch_all(&self.pool)
                .await
                .map_err(Self::map_err)?;
        let ours = tables.iter().any(|(t,)| t == "xiangzhi_meta");
        let only_bookkeeping = tables.iter().all(|(t,)| t == "schema_migrations");
        if ours || only_bookkeeping {
            Ok(())
        } else {
            Err(StoreError::ForeignDatabase(
                "该数据库模式中含有其他程序的数据表".into(),
            ))
        }
    }

    /// One REPEATABLE READ snapshot, every table as CSV into the directory `out`.
    async fn backup_to(&self, out: &Path) -> StoreResult<()> {
        use futures_util::TryStreamExt as _;
        if out.exists() {
            return Err(StoreError::invalid(format!(
                "备份目录 {} 已存在，不会覆盖",
                out.display()
            )));
        }
        std::fs::create_dir_all(out)
            .map_err(|e| StoreError::Backend(format!("无法创建备份目录：{e}")))?;
        let mut conn = self.pool.acquire().await.map_err(Self::map_err)?;
        sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *conn)
            .await
            .map_err(Self::map_err)?;
        let tables: Vec<(String,)> = sqlx::query_as(LIST_TABLES)
            .fetch_all(&mut *conn)
            .await
            .map_err(Self::map_err)?;
        for (table,) in &tables {
            let mut data = Vec::new();
            {
                let mut stream = conn
                    .copy_out_raw(&format!(
                        "COPY \"{table}\" TO STDOUT WITH (FORMAT csv, HEADER)"
                    ))
                    .await
                    .map_err(Self::map_err)?;
                while let Some(chunk) = stream.try_next().await.map_err(Self::map_err)? {
                    data.extend_from_slice(&chunk);
                }
            }
            std::fs::write(out.join(format!("{table}.csv")), data)
                .map_err(|e| StoreError::Backend(format!("无法写入备份：{e}")))?;
        }
        sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .map_err(Self::map_err)?;
        Ok(())
    }

    fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    fn map_err(e: sqlx::Error) -> StoreError {
        if let Some(db) = e.as_database_error()
            && db.is_unique_violation()
        {
            return StoreError::Conflict("记录已存在".into());
        }
        StoreError::Backend(e.to_string())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool's connections, waiting for those in use. `Store::close` is this.
    pub async fn close_pools(&self) -> StoreResult<()> {
        self.pool.close().await;
        Ok(())
    }
}

xiangzhi_store::impl_report_store!(PgStore, sqlx::Postgres);
xiangzhi_store::impl_case_store!(PgStore, sqlx::Postgres);
xiangzhi_store::impl_case_settings_store!(PgStore, sqlx::Postgres);
xiangzhi_store::impl_indicator_store!(PgStore, sqlx::Postgres);
xiangzhi_store::impl_assistance_store!(PgStore, sqlx::Postgres);
xiangzhi_store::impl_assistance_import!(PgStore, sqlx::Postgres);
xiangzhi_store::impl_ledger_store!(PgStore, sqlx::Postgres);
xiangzhi_store::impl_registry_store!(PgStore, sqlx::Postgres);
xiangzhi_store::impl_sql_store!(PgStore, sqlx::Postgres);
