//! Checks of a SQLite file beyond the audit chain, for `restore` and the backup tests: the
//! page-level integrity check, dangling foreign keys, and a table-by-table comparison with
//! another file.

use std::path::Path;

use sqlx::Row;
use xiangzhi_store::{StoreError, StoreResult};

use crate::SqliteStore;

impl SqliteStore {
    /// What `PRAGMA integrity_check` and `PRAGMA foreign_key_check` find; empty when whole.
    pub async fn file_problems(&self) -> StoreResult<Vec<String>> {
        let mut problems = Vec::new();
        for r in sqlx::query("PRAGMA integrity_check")
            .fetch_all(self.write_pool())
            .await
            .map_err(Self::map_err)?
        {
            let line: String = r.try_get(0).map_err(Self::map_err)?;
            if line != "ok" {
                problems.push(format!("文件损坏：{line}"));
            }
        }
        for r in sqlx::query("PRAGMA foreign_key_check")
            .fetch_all(self.write_pool())
            .await
            .map_err(Self::map_err)?
        {
            let table: String = r.try_get(0).map_err(Self::map_err)?;
            let parent: String = r.try_get(2).map_err(Self::map_err)?;
            problems.push(format!("{table} 中有记录引用了 {parent} 中不存在的记录"));
        }
        Ok(problems)
    }

    /// Every table of this database, by name.
    pub async fn table_names(&self) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name",
        )
        .fetch_all(self.write_pool())
        .await
        .map_err(Self::map_err)
    }

    /// Tables whose rows differ from the same table in the file `other` (rows missing on
    /// either side, or a table only one side has); empty when the two hold the same data.
    pub async fn differences_from(&self, other: &Path) -> StoreResult<Vec<String>> {
        let other = other
            .to_str()
            .ok_or_else(|| StoreError::invalid("路径含有无法识别的字符"))?;
        let mut conn = self.write_pool().acquire().await.map_err(Self::map_err)?;
        sqlx::query("ATTACH DATABASE $1 AS other")
            .bind(other)
            .execute(&mut *conn)
            .await
            .map_err(Self::map_err)?;
        let result = async {
            // On this connection: the writer pool has only the one we hold.
            let mine: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM main.sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(&mut *conn)
            .await
            .map_err(Self::map_err)?;
            let theirs: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM other.sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(&mut *conn)
            .await
            .map_err(Self::map_err)?;
            let mut out = Vec::new();
            for t in mine.iter().filter(|t| !theirs.contains(t)) {
                out.push(format!("{t}: only here"));
            }
            for t in theirs.iter().filter(|t| !mine.contains(t)) {
                out.push(format!("{t}: only there"));
            }
            for t in mine.iter().filter(|t| theirs.contains(t)) {
                // Table names come from sqlite_master, never from input.
                let sql = format!(
                    "SELECT (SELECT COUNT(*) FROM main.\"{t}\"), (SELECT COUNT(*) FROM other.\"{t}\"), \
                     (SELECT COUNT(*) FROM (SELECT * FROM main.\"{t}\" EXCEPT SELECT * FROM other.\"{t}\")), \
                     (SELECT COUNT(*) FROM (SELECT * FROM other.\"{t}\" EXCEPT SELECT * FROM main.\"{t}\"))"
                );
                let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut *conn)
                    .await
                    .map_err(Self::map_err)?;
                let n: [i64; 4] = [
                    r.try_get(0).map_err(Self::map_err)?,
                    r.try_get(1).map_err(Self::map_err)?,
                    r.try_get(2).map_err(Self::map_err)?,
                    r.try_get(3).map_err(Self::map_err)?,
                ];
                if n[0] != n[1] || n[2] != 0 || n[3] != 0 {
                    out.push(format!(
                        "{t}: {} rows here, {} there, {} only here, {} only there",
                        n[0], n[1], n[2], n[3]
                    ));
                }
            }
            Ok(out)
        }
        .await;
        sqlx::query("DETACH DATABASE other")
            .execute(&mut *conn)
            .await
            .map_err(Self::map_err)?;
        result
    }

    /// Writes the WAL back into the main file and closes every connection. When this process
    /// was the file's only user, closing the last connection also deletes the WAL, so the file
    /// alone is the database (before it is renamed or copied). The checkpoint is PASSIVE: a
    /// command run beside a server neither waits for the server's readers nor holds up its
    /// writers, and the WAL then stays the server's. `Store::close` is this.
    pub async fn close_pools(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(self.write_pool())
            .await
            .map_err(Self::map_err)?;
        self.read.close().await;
        self.write.close().await;
        Ok(())
    }
}
