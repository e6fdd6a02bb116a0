//! Bulk data for benchmarks: millions of ledger entries written with one SQL statement, so the
//! measured query, not the generator, is what takes time.

use sqlx::Row as _;
use xiangzhi_store::{StoreError, StoreResult};

use crate::SqliteStore;

impl SqliteStore {
    /// Inserts `n` filled entries of ledger `ledger_id` (version `version`), spread round-robin
    /// over `units` (code, path) and `periods`, with slot values n1 = i % 7 and n2 = i % 100 / 10.
    /// Not audited: for benchmark databases only.
    pub async fn bench_fill_ledger(
        &self,
        ledger_id: i64,
        version: i64,
        units: &[(String, String)],
        periods: &[String],
        n: u64,
    ) -> StoreResult<()> {
        if units.is_empty() || periods.is_empty() {
            return Err(StoreError::invalid("没有单位或期间"));
        }
        let mut conn = self.write.acquire().await.map_err(Self::map_err)?;
        let run = |sql: String| sqlx::AssertSqlSafe(sql);
        sqlx::raw_sql(
            "CREATE TEMP TABLE IF NOT EXISTS bench_units (i INTEGER PRIMARY KEY, code TEXT, path TEXT); \
             CREATE TEMP TABLE IF NOT EXISTS bench_periods (i INTEGER PRIMARY KEY, code TEXT); \
             DELETE FROM bench_units; DELETE FROM bench_periods;",
        )
        .execute(&mut *conn)
        .await
        .map_err(Self::map_err)?;
        for (i, (c, p)) in units.iter().enumerate() {
            sqlx::query("INSERT INTO bench_units (i, code, path) VALUES ($1, $2, $3)")
                .bind(i as i64)
                .bind(c)
                .bind(p)
                .execute(&mut *conn)
                .await
                .map_err(Self::map_err)?;
        }
        for (i, p) in periods.iter().enumerate() {
            sqlx::query("INSERT INTO bench_periods (i, code) VALUES ($1, $2)")
                .bind(i as i64)
                .bind(p)
                .execute(&mut *conn)
                .await
                .map_err(Self::map_err)?;
        }
        let (nu, np) = (units.len() as i64, periods.len() as i64);
        sqlx::query(run(format!(
            "WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < {last}) \
             INSERT INTO ledger_entries (ledger_id, version, org_code, org_path, period, vals, filled, void, updated_at, updated_by, n1, n2) \
             SELECT {ledger_id}, {version}, u.code, u.path, p.code, \
                    '{{\"a\":' || (x % 7) || ',\"b\":' || ((x % 100) / 10.0) || '}}', 1, 0, '2024-01-01T00:00:00Z', 'bench', \
                    x % 7, (x % 100) / 10.0 \
             FROM c JOIN bench_units u ON u.i = x % {nu} JOIN bench_periods p ON p.i = (x / {nu}) % {np}",
            last = n.saturating_sub(1)
        )))
        .execute(&mut *conn)
        .await
        .map_err(Self::map_err)?;
        sqlx::query("ANALYZE")
            .execute(&mut *conn)
            .await
            .map_err(Self::map_err)?;
        Ok(())
    }

    /// `EXPLAIN QUERY PLAN` of the aggregate the store runs, for the benchmark report.
    pub async fn bench_plan(&self, ledger_id: i64, lo: &str, hi: &str) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "EXPLAIN QUERY PLAN SELECT org_path, period, COUNT(*), COUNT(n1), SUM(n1), MIN(n1), MAX(n1) \
             FROM ledger_entries WHERE ledger_id = $1 AND void = FALSE AND filled = TRUE \
             AND org_path >= $2 AND org_path < $3 GROUP BY org_path, period",
        )
        .bind(ledger_id)
        .bind(lo)
        .bind(hi)
        .fetch_all(&self.read)
        .await
        .map_err(Self::map_err)?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("detail").map_err(Self::map_err))
            .collect()
    }
}
