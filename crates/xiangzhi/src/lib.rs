//! The xiangzhi program as a library, so integration tests drive exactly what the binary runs.

pub mod bench_county;
pub mod cli_assistance;
pub mod cli_case;
pub mod cli_indicator;
pub mod cli_ledger;
pub mod cli_registry;
pub mod cli_report;
pub mod demo;
pub mod demo_assistance;
pub mod demo_cases;
pub mod demo_indicators;
pub mod demo_ledgers;
pub mod demo_registry;
pub mod divisions;
pub mod heap;
pub mod ledger_pack;
pub mod restore;
/// Registry import and export live in their own crate so the web can use them too.
pub use xiangzhi_intake as import;
/// A ledger's spreadsheet round trip, shared with the web like the registry import.
pub use xiangzhi_intake::ledger as ledger_excel;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use xiangzhi_store::{Store, Vault};

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Where the key file lives unless `--key-file` says otherwise: beside the SQLite file, or
/// `./xiangzhi.key` for PostgreSQL. Never inside the database.
pub fn default_key_path(url: &str) -> PathBuf {
    if is_postgres(url) {
        return PathBuf::from("xiangzhi.key");
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("xiangzhi.key"),
        _ => PathBuf::from("xiangzhi.key"),
    }
}

/// `postgres://…` opens PostgreSQL; anything else is a SQLite file. Migrates before returning.
/// The key file (created on first start) seals citizen IDs and phones; `None` takes
/// [`default_key_path`].
pub async fn open_store(url: &str, key_path: Option<&Path>) -> Result<Arc<dyn Store>> {
    open(url, key_path, false).await
}

/// As [`open_store`], for a one-off command (an import): on SQLite no read connection idles
/// in the pool, so a large load can have the file to itself (see `SqliteStore::open_solo`).
pub async fn open_store_solo(url: &str, key_path: Option<&Path>) -> Result<Arc<dyn Store>> {
    open(url, key_path, true).await
}

async fn open(url: &str, key_path: Option<&Path>, solo: bool) -> Result<Arc<dyn Store>> {
    let key_path = key_path.map_or_else(|| default_key_path(url), Path::to_path_buf);
    let vault = Arc::new(Vault::open_or_create(&key_path)?);
    let store: Arc<dyn Store> = if is_postgres(url) {
        Arc::new(
            xiangzhi_store_postgres::PgStore::open(url, vault)
                .await
                .context("无法连接 PostgreSQL")?,
        )
    } else {
        Arc::new(
            if solo {
                xiangzhi_store_sqlite::SqliteStore::open_solo(url, vault).await
            } else {
                xiangzhi_store_sqlite::SqliteStore::open(url, vault).await
            }
            .context("无法打开 SQLite 数据库")?,
        )
    };
    store.migrate().await?;
    Ok(store)
}
