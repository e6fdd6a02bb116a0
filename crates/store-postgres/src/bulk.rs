//! The PostgreSQL side of [`xiangzhi_store::bulk`]: `INSERT … SELECT * FROM UNNEST(…)` with
//! one array per column, so a chunk of rows is one statement with as many parameters as the
//! table has columns (not rows × columns, which also runs into the 65,535-parameter limit).

use chrono::NaiveDate;
use sqlx::{Postgres, Transaction};
use xiangzhi_store::StoreResult;
use xiangzhi_store::bulk::{BulkTable, Col, Val};

use crate::PgStore;

const ROWS_PER_STATEMENT: usize = 20_000;

enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Date(Vec<Option<NaiveDate>>),
}

impl PgStore {
    /// Inserts `values` (row-major, `table.width()` per row) into `table` inside `tx`; with
    /// `want_ids`, returns the new ids in row order (else an empty vector). The ids are
    /// drawn from the table's identity sequence first and inserted explicitly, since the
    /// order of `RETURNING` rows is not promised.
    pub(crate) async fn bulk_insert(
        tx: &mut Transaction<'static, Postgres>,
        table: &BulkTable,
        values: &[Val<'_>],
        want_ids: bool,
    ) -> StoreResult<Vec<i64>> {
        let width = table.width();
        let mut arrays: Vec<String> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, c))| format!("${}::{}", i + 1, c.pg_array()))
            .collect();
        let mut columns = table.column_list();
        if want_ids {
            arrays.push(format!("${}::int8[]", width + 1));
            columns.push_str(", id");
        }
        let sql = format!(
            "INSERT INTO {} ({columns}) SELECT * FROM UNNEST({})",
            table.table,
            arrays.join(", ")
        );
        let mut all_ids = Vec::new();
        for chunk in values.chunks(width * ROWS_PER_STATEMENT) {
            let rows = chunk.len() / width;
            let ids: Vec<i64> = if want_ids {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT nextval(pg_get_serial_sequence('{}', 'id')) FROM generate_series(1, $1)",
                    table.table
                )))
                .bind(rows as i64)
                .fetch_all(&mut **tx)
                .await
                .map_err(Self::map_err)?
            } else {
                Vec::new()
            };
            let mut columns: Vec<Column> = table
                .columns
                .iter()
                .map(|(_, c)| match c {
                    Col::Text => Column::Text(Vec::with_capacity(rows)),
                    Col::Int => Column::Int(Vec::with_capacity(rows)),
                    Col::Date => Column::Date(Vec::with_capacity(rows)),
                })
                .collect();
            for row in chunk.chunks(width) {
                for (col, v) in columns.iter_mut().zip(row) {
                    match (col, v) {
                        (Column::Text(a), Val::Text(s)) => a.push(Some((*s).to_string())),
                        (Column::Text(a), _) => a.push(None),
                        (Column::Int(a), Val::Int(n)) => a.push(Some(*n)),
                        (Column::Int(a), _) => a.push(None),
                        (Column::Date(a), Val::Date(d)) => a.push(Some(*d)),
                        (Column::Date(a), _) => a.push(None),
                    }
                }
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
            for col in columns {
                q = match col {
                    Column::Text(a) => q.bind(a),
                    Column::Int(a) => q.bind(a),
                    Column::Date(a) => q.bind(a),
                };
            }
            if want_ids {
                q = q.bind(ids.clone());
                all_ids.extend(ids);
            }
            q.execute(&mut **tx).await.map_err(Self::map_err)?;
        }
        Ok(all_ids)
    }
}
