//! The PostgreSQL side of [`xiangzhi_store::bulk`]: `COPY … FROM STDIN` in the text format,
//! streamed in 1 MB messages on the transaction's own connection. COPY skips the per-statement
//! planning and parameter arrays of `INSERT … UNNEST` (which built one `String` per value);
//! the rows are formatted straight into the send buffer. Runs inside the caller's transaction,
//! so a failing row (a duplicate ID) rolls the whole import back.

use std::fmt::Write as _;

use sqlx::{Postgres, Transaction};
use xiangzhi_store::StoreResult;
use xiangzhi_store::bulk::{BulkTable, Packed, Val};

use crate::PgStore;

/// Bytes of COPY data per message.
const SEND_BYTES: usize = 1 << 20;

/// Appends `s` escaped for the COPY text format (backslash, tab, newline, carriage return).
fn push_text(buf: &mut String, s: &str) {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        buf.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\\' => buf.push_str("\\\\"),
            '\t' => buf.push_str("\\t"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            c => buf.push(c),
        }
    }
}

/// One row in the COPY text format: tab-separated, `\N` for NULL, newline-terminated.
fn push_row(buf: &mut String, row: &[Val<'_>], id: Option<i64>) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            buf.push('\t');
        }
        match v {
            Val::Text(s) => push_text(buf, s),
            Val::Int(n) => {
                let _ = write!(buf, "{n}");
            }
            // Rust writes an f64 in full decimal digits (no exponent), which PostgreSQL reads back
            // to the same double.
            Val::Real(x) => {
                let _ = write!(buf, "{x}");
            }
            Val::Bool(b) => buf.push(if *b { 't' } else { 'f' }),
            Val::Date(d) => xiangzhi_store::bulk::push_date(buf, *d),
            Val::Null => buf.push_str("\\N"),
        }
    }
    if let Some(id) = id {
        let _ = write!(buf, "\t{id}");
    }
    buf.push('\n');
}

impl PgStore {
    /// Nothing to ready before a large load: COPY already writes each row once. (SQLite's
    /// counterpart may leave WAL for the load.)
    pub(crate) async fn bulk_begin(&self, _large: bool) -> StoreResult<()> {
        Ok(())
    }

    pub(crate) async fn bulk_end(&self, (): ()) -> StoreResult<()> {
        Ok(())
    }

    /// No page cache to size: PostgreSQL's shared buffers are the server's.
    pub(crate) fn bulk_cache_kib((): ()) -> Option<i64> {
        None
    }

    /// No settings around an index rebuild: a load on PostgreSQL keeps its indexes.
    pub(crate) fn index_rebuild_pragmas((): ()) -> &'static [&'static str] {
        &[]
    }

    /// [`bulk_insert`](Self::bulk_insert) after computing `meanwhile`: a COPY is sent from this
    /// task, so there is nothing to overlap it with here (imports that would overlap plan
    /// first on this backend).
    pub(crate) async fn bulk_insert_while<R: Send>(
        tx: &mut Transaction<'static, Postgres>,
        table: &BulkTable,
        values: &[Val<'_>],
        want_ids: bool,
        meanwhile: impl FnOnce() -> R + Send,
    ) -> StoreResult<(Vec<i64>, R)> {
        let r = meanwhile();
        let ids = Self::bulk_insert(tx, table, values, want_ids).await?;
        Ok((ids, r))
    }

    /// Inserts the rows of parts `0..parts` into `table` inside `tx`, in part order: the
    /// parts are packed by `fill` side by side, then sent in one COPY.
    pub(crate) async fn bulk_insert_packed(
        tx: &mut Transaction<'static, Postgres>,
        table: &BulkTable,
        parts: usize,
        fill: impl Fn(usize, &mut Packed) + Sync,
    ) -> StoreResult<()> {
        let packed = xiangzhi_store::bulk::pack_parts(table.width(), parts, &fill);
        if !packed.iter().all(Packed::is_whole) {
            return Err(xiangzhi_store::StoreError::Backend(
                "批量写入的列数不符".into(),
            ));
        }
        let values: Vec<Val<'_>> = packed.iter().flat_map(Packed::vals).collect();
        Self::bulk_insert(tx, table, &values, false).await?;
        Ok(())
    }

    /// Inserts `values` (row-major, `table.width()` per row) into `table` inside `tx`; with
    /// `want_ids`, returns the new ids in row order (else an empty vector). The ids are
    /// drawn from the table's identity sequence first and copied in explicitly, since COPY
    /// returns none.
    pub(crate) async fn bulk_insert(
        tx: &mut Transaction<'static, Postgres>,
        table: &BulkTable,
        values: &[Val<'_>],
        want_ids: bool,
    ) -> StoreResult<Vec<i64>> {
        let width = table.width();
        if !values.len().is_multiple_of(width) {
            return Err(xiangzhi_store::StoreError::Backend(
                "批量写入的列数不符".into(),
            ));
        }
        let rows = values.len() / width;
        if rows == 0 {
            return Ok(Vec::new());
        }
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
        let mut columns = table.column_list();
        if want_ids {
            columns.push_str(", id");
        }
        let sql = format!("COPY {} ({columns}) FROM STDIN", table.table);
        let mut copy = tx.copy_in_raw(&sql).await.map_err(Self::map_err)?;
        let mut buf = String::with_capacity(SEND_BYTES + 4096);
        let mut failed = None;
        for (i, row) in values.chunks(width).enumerate() {
            push_row(&mut buf, row, ids.get(i).copied());
            if buf.len() >= SEND_BYTES {
                if let Err(e) = copy.send(buf.as_bytes()).await {
                    failed = Some(e);
                    break;
                }
                buf.clear();
            }
        }
        if failed.is_none() && !buf.is_empty() {
            failed = copy.send(buf.as_bytes()).await.err();
        }
        match failed {
            Some(e) => {
                let _ = copy.abort("批量写入中止").await;
                Err(Self::map_err(e))
            }
            None => {
                copy.finish().await.map_err(Self::map_err)?;
                Ok(ids)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn rows_are_escaped_for_copy_text() {
        let mut buf = String::new();
        push_row(
            &mut buf,
            &[
                Val::Text("a\tb\\c\nd"),
                Val::Int(7),
                Val::Null,
                Val::Date(NaiveDate::from_ymd_opt(2023, 1, 2).unwrap()),
            ],
            Some(9),
        );
        assert_eq!(buf, "a\\tb\\\\c\\nd\t7\t\\N\t2023-01-02\t9\n");
    }
}
