//! The xiangzhi program as a library, so integration tests drive exactly what the binary runs.

pub mod demo;
pub mod divisions;

use std::sync::Arc;

use anyhow::{Context, Result};
use xiangzhi_store::Store;

/// `postgres://…` opens PostgreSQL; anything else is a SQLite file. Migrates before returning.
pub async fn open_store(url: &str) -> Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(
                xiangzhi_store_postgres::PgStore::open(url)
                    .await
                    .context("无法连接 PostgreSQL")?,
            )
        } else {
            Arc::new(
                xiangzhi_store_sqlite::SqliteStore::open(url)
                    .await
                    .context("无法打开 SQLite 数据库")?,
            )
        };
    store.migrate().await?;
    Ok(store)
}
