//! xiangzhi on an embedded SQLite file: for a township or a county on one office PC.
//!
//! WAL with synchronous=NORMAL, a busy timeout, one writer connection that opens every
//! transaction with `BEGIN IMMEDIATE` (so writers queue in the pool instead of failing with
//! "database is locked" on upgrade), and a pool of read-only connections beside it.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Pool, Sqlite, Transaction};
use std::sync::Arc;

use xiangzhi_store::{StoreError, StoreResult, Vault};

mod bench;
mod bench_assistance;
mod bulk;
mod integrity;

/// How long a connection waits for another's lock before "database is locked".
const BUSY_TIMEOUT_MS: u64 = 10_000;
/// Page cache of every connection, in KiB (SQLite's negative form): 32 MB.
const CACHE_KIB: i64 = 32_000;
/// Page size of a database this program creates (one made elsewhere keeps its own).
/// SQLite's default is 4 KiB; a person row is about 330 bytes and reports read whole
/// villages, so fewer, larger pages mean fewer b-tree splits and page writes: replaying a
/// county's load in the `sqlite3` shell, the rows went in in 1.3-1.4 s instead of 1.9-2.0
/// and the four indexes in 1.6-2.0 s instead of 2.2 (8 KiB: 1.7 s and 1.8-2.3 s).
const PAGE_SIZE: u32 = 16_384;

pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
    vault: Arc<Vault>,
    /// Opened by a one-off command (an import from the command line): reads share the one
    /// writer connection, so a bulk load can have the file to itself. Such a command reads
    /// nothing while its own transaction is open (it would wait for itself).
    solo: bool,
}

impl SqliteStore {
    const BACKEND: &'static str = "sqlite";
    const LOCK_AUDIT_HEAD: &'static str = "SELECT last_id, last_hash FROM audit_head WHERE id = 1";
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

    /// Opens (creating if missing) `sqlite://path` or a plain path. `vault` seals and finds
    /// citizen IDs and phones; its key lives outside the database.
    pub async fn open(url: &str, vault: Arc<Vault>) -> StoreResult<SqliteStore> {
        Self::open_with(url, vault, false).await
    }

    /// As [`open`](Self::open), for a one-off command such as an import: one connection
    /// for reads and writes. A bulk load then finds the file open nowhere else in the
    /// process and may leave WAL for its one transaction (see `bulk_begin`); a server's
    /// readers keep that from ever happening under it.
    pub async fn open_solo(url: &str, vault: Arc<Vault>) -> StoreResult<SqliteStore> {
        Self::open_with(url, vault, true).await
    }

    async fn open_with(url: &str, vault: Arc<Vault>, solo: bool) -> StoreResult<SqliteStore> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let base = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
            .map_err(Self::map_err)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))
            .foreign_keys(true)
            .page_size(PAGE_SIZE)
            .pragma("cache_size", format!("-{CACHE_KIB}"))
            // Without a limit the WAL keeps the size of the largest transaction (1.5 GB after
            // a county's imports) and the next process to open the file reads all of it to
            // rebuild its index: 0.6 s added to a report render. After a checkpoint it is cut
            // back to 64 MB.
            .pragma("journal_size_limit", "67108864");
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            // A statement that changes pages an earlier statement of its transaction changed
            // keeps their old contents in a statement journal, which otherwise goes to a temp
            // file past 64 KB (rebuilding a county's person indexes wrote 15 MB there). The
            // choice is made when a transaction begins, so it belongs to the connection.
            .connect_with(
                base.clone()
                    .create_if_missing(true)
                    .pragma("temp_store", "memory"),
            )
            .await
            .map_err(Self::map_err)?;
        let read = if solo {
            write.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(base.read_only(true))
                .await
                .map_err(Self::map_err)?
        };
        Ok(SqliteStore {
            read,
            write,
            vault,
            solo,
        })
    }

    fn read(&self) -> &Pool<Sqlite> {
        &self.read
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.write
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Self::map_err)
    }

    /// A database with tables but without our marker is someone else's: never migrate it.
    async fn check_ours(&self) -> StoreResult<()> {
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&self.write)
        .await
        .map_err(Self::map_err)?;
        let ours = tables.iter().any(|(t,)| t == "xiangzhi_meta");
        let only_bookkeeping = tables.iter().all(|(t,)| t == "schema_migrations");
        if ours || only_bookkeeping {
            Ok(())
        } else {
            Err(StoreError::ForeignDatabase(
                "该文件含有其他程序的数据表".into(),
            ))
        }
    }

    /// `VACUUM INTO` reads one snapshot, so the copy is consistent while others write.
    async fn backup_to(&self, out: &Path) -> StoreResult<()> {
        if out.exists() {
            return Err(StoreError::invalid(format!(
                "备份文件 {} 已存在，不会覆盖",
                out.display()
            )));
        }
        let out = out
            .to_str()
            .ok_or_else(|| StoreError::invalid("备份路径含有无法识别的字符"))?;
        sqlx::query("VACUUM INTO $1")
            .bind(out)
            .execute(&self.read)
            .await
            .map_err(Self::map_err)?;
        Ok(())
    }

    fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    fn map_err(e: sqlx::Error) -> StoreError {
        if let Some(db) = e.as_database_error() {
            let msg = db.message();
            if msg.contains("file is not a database") {
                return StoreError::ForeignDatabase("该文件不是 SQLite 数据库".into());
            }
            if db.is_unique_violation() {
                return StoreError::Conflict("记录已存在".into());
            }
            if msg.contains("database is locked") {
                return StoreError::Backend("数据库正忙，请稍后重试".into());
            }
        }
        StoreError::Backend(e.to_string())
    }

    /// Where the writer's file lives, for tests and the `backup` command.
    pub fn write_pool(&self) -> &SqlitePool {
        &self.write
    }
}

xiangzhi_store::impl_report_store!(SqliteStore, sqlx::Sqlite);
xiangzhi_store::impl_case_store!(SqliteStore, sqlx::Sqlite);
xiangzhi_store::impl_case_settings_store!(SqliteStore, sqlx::Sqlite);
xiangzhi_store::impl_indicator_store!(SqliteStore, sqlx::Sqlite);
xiangzhi_store::impl_assistance_store!(SqliteStore, sqlx::Sqlite);
xiangzhi_store::impl_assistance_import!(SqliteStore, sqlx::Sqlite);
xiangzhi_store::impl_ledger_store!(SqliteStore, sqlx::Sqlite);
xiangzhi_store::impl_registry_store!(SqliteStore, sqlx::Sqlite);
xiangzhi_store::impl_sql_store!(SqliteStore, sqlx::Sqlite);
