//! `xiangzhi restore`: puts a SQLite backup back as a working database, but only after it
//! proves whole: SQLite's own integrity and foreign-key checks, a schema this build knows
//! (older ones are migrated forward), and an unbroken audit chain. The target must not exist;
//! a backup that fails a check leaves nothing behind.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Result, anyhow, bail};
use serde::Serialize;
use xiangzhi_store::{Store, Vault};
use xiangzhi_store_sqlite::SqliteStore;

#[derive(Debug, Serialize)]
pub struct RestoreReport {
    pub target: PathBuf,
    /// The schema the backup was written with.
    pub backup_schema: i64,
    /// The schema after restoring (migrated forward if the backup was older).
    pub schema: i64,
    pub audit_rows: u64,
    pub tables: usize,
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

fn remove_with_sidecars(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Restores the backup file `backup` as the SQLite database `target_url`.
pub async fn restore_sqlite(
    backup: &Path,
    target_url: &str,
    key_path: &Path,
) -> Result<RestoreReport> {
    let target = PathBuf::from(sqlite_path(target_url));
    if target.exists() {
        bail!("目标数据库 {} 已存在，不会覆盖", target.display());
    }
    // A new key would make every sealed citizen ID and phone of the backup unreadable.
    if !key_path.is_file() {
        bail!(
            "找不到密钥文件 {}：恢复需要与备份配套的密钥文件（它不在数据库中，备份时请一并保存），用 --key-file 指定",
            key_path.display()
        );
    }
    if !backup.is_file() {
        bail!("找不到备份文件 {}", backup.display());
    }
    std::fs::copy(backup, &target)
        .map_err(|e| anyhow!("无法复制备份到 {}：{e}", target.display()))?;
    match check_and_upgrade(&target, key_path).await {
        Ok(report) => Ok(report),
        Err(e) => {
            remove_with_sidecars(&target);
            Err(e)
        }
    }
}

async fn check_and_upgrade(target: &Path, key_path: &Path) -> Result<RestoreReport> {
    let vault = Arc::new(Vault::open_or_create(key_path)?);
    let url = target
        .to_str()
        .ok_or_else(|| anyhow!("路径含有无法识别的字符"))?;
    let store = SqliteStore::open(url, vault).await?;
    let problems = store.file_problems().await?;
    if !problems.is_empty() {
        bail!("备份文件不完整，未恢复：{}", problems.join("；"));
    }
    let backup_schema = store
        .schema_version()
        .await
        .map_err(|_| anyhow!("该文件不是乡治的备份（没有数据库版本记录），未恢复"))?;
    let newest = store
        .known_migrations()
        .last()
        .map(|(v, _)| *v)
        .unwrap_or_default();
    if backup_schema > newest {
        bail!(
            "备份来自更新版本的乡治（数据库版本 {backup_schema}，本程序只认识到 {newest}），请先升级乡治"
        );
    }
    store.migrate().await?;
    let audit = store.audit_verify().await?;
    if let Some(b) = audit.first_break {
        bail!("备份中的审计日志哈希链断裂，未恢复：{b}");
    }
    let report = RestoreReport {
        target: target.to_path_buf(),
        backup_schema,
        schema: store.schema_version().await?,
        audit_rows: audit.rows,
        tables: store.table_names().await?.len(),
    };
    store.close().await?;
    Ok(report)
}
