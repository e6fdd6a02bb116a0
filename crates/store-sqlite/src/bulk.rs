//! The SQLite side of [`xiangzhi_store::bulk`]: one prepared single-row INSERT, stepped once
//! per row on the transaction's own connection through the C API. Values are bound
//! `SQLITE_STATIC` (borrowed until the step), so nothing is copied on the way in, and a
//! single-row statement needs no statement journal. Runs inside the caller's transaction:
//! all-or-nothing stays with it.

use std::ffi::{CStr, CString, c_char, c_int};
use std::ptr::{self, NonNull};

use libsqlite3_sys as ffi;
use sqlx::{Sqlite, Transaction};
use xiangzhi_store::bulk::{BulkTable, Packed, Val};
use xiangzhi_store::{StoreError, StoreResult};

use crate::{BUSY_TIMEOUT_MS, CACHE_KIB, SqliteStore};

/// Rows per hold of the connection lock; between holds the task yields, so a long import
/// does not keep a runtime worker from other tasks for seconds.
const ROWS_PER_HOLD: usize = 20_000;

/// Packed parts in flight between the thread that packs them and the writer: one being
/// written, one ready, one being packed.
const PACKED_IN_FLIGHT: usize = 3;

/// How many rows ahead the values are loaded (see [`xiangzhi_store::bulk::prefetch`]); a row
/// takes a few microseconds, several times a cache miss.
const PREFETCH_ROWS: usize = 4;

/// A prepared statement, finalized on drop (also on an early error return).
struct Stmt {
    db: *mut ffi::sqlite3,
    stmt: *mut ffi::sqlite3_stmt,
}

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: `stmt` came from sqlite3_prepare_v2 on `db` and is finalized only here.
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}

impl Stmt {
    /// # Safety
    /// `db` must be an open connection held exclusively by the caller while `Stmt` lives.
    unsafe fn prepare(db: NonNull<ffi::sqlite3>, sql: &str) -> StoreResult<Stmt> {
        let db = db.as_ptr();
        let c = CString::new(sql).map_err(|_| StoreError::Backend("SQL 含有 NUL".into()))?;
        let mut stmt = ptr::null_mut();
        // SAFETY: `db` is open (caller's contract); `c` outlives the call.
        let rc = unsafe { ffi::sqlite3_prepare_v2(db, c.as_ptr(), -1, &mut stmt, ptr::null_mut()) };
        if rc != ffi::SQLITE_OK {
            // SAFETY: as above.
            return Err(unsafe { error(db, rc) });
        }
        Ok(Stmt { db, stmt })
    }

    /// Binds one row and steps it. Values need only live for this call: the statement is
    /// reset and its bindings cleared before returning.
    fn insert(&mut self, row: &[Val<'_>], date_buf: &mut String) -> StoreResult<()> {
        for (i, v) in row.iter().enumerate() {
            let idx = (i + 1) as c_int;
            // SAFETY: `stmt` is a live prepared statement with `row.len()` parameters;
            // text pointers stay valid until the step below returns (SQLITE_STATIC), and
            // the bindings are cleared before this function returns.
            let rc = unsafe {
                match v {
                    Val::Text(s) => bind_text(self.stmt, idx, s),
                    Val::Int(n) => ffi::sqlite3_bind_int64(self.stmt, idx, *n),
                    Val::Real(x) => ffi::sqlite3_bind_double(self.stmt, idx, *x),
                    // as sqlx stores a bool: 0 or 1
                    Val::Bool(b) => ffi::sqlite3_bind_int64(self.stmt, idx, i64::from(*b)),
                    Val::Null => ffi::sqlite3_bind_null(self.stmt, idx),
                    Val::Date(d) => {
                        // as sqlx stores a NaiveDate: `%Y-%m-%d` text
                        date_buf.clear();
                        xiangzhi_store::bulk::push_date(date_buf, *d);
                        bind_text(self.stmt, idx, date_buf)
                    }
                }
            };
            if rc != ffi::SQLITE_OK {
                // SAFETY: `db` is the statement's connection.
                return Err(unsafe { error(self.db, rc) });
            }
        }
        // SAFETY: every parameter is bound; reset and clear before the borrowed values go.
        unsafe {
            let rc = ffi::sqlite3_step(self.stmt);
            let result = if rc == ffi::SQLITE_DONE {
                Ok(())
            } else {
                Err(error(self.db, rc))
            };
            ffi::sqlite3_reset(self.stmt);
            ffi::sqlite3_clear_bindings(self.stmt);
            result
        }
    }
}

/// # Safety
/// `stmt` must be a live statement; `s` must stay valid until the next step/reset.
unsafe fn bind_text(stmt: *mut ffi::sqlite3_stmt, idx: c_int, s: &str) -> c_int {
    // SAFETY: per the caller's contract; the length is passed, so no NUL is needed.
    unsafe {
        ffi::sqlite3_bind_text64(
            stmt,
            idx,
            s.as_ptr() as *const c_char,
            s.len() as u64,
            ffi::SQLITE_STATIC(),
            ffi::SQLITE_UTF8 as u8,
        )
    }
}

/// # Safety
/// `db` must be an open connection.
unsafe fn error(db: *mut ffi::sqlite3, rc: c_int) -> StoreError {
    // SAFETY: sqlite3_errmsg returns a NUL-terminated string owned by `db`.
    let msg = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    if rc & 0xff == ffi::SQLITE_CONSTRAINT && msg.contains("UNIQUE") {
        StoreError::Conflict("记录已存在".into())
    } else {
        StoreError::Backend(format!("批量写入失败：{msg}"))
    }
}

/// How [`SqliteStore::bulk_begin`] left the writer connection, for `bulk_end` to undo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BulkMode {
    /// WAL and foreign keys as always: the file is open elsewhere.
    Shared,
    /// A rollback journal and no foreign-key lookups, the file being ours alone.
    Alone,
}

impl SqliteStore {
    /// Readies the writer connection for one large load, before its transaction begins.
    ///
    /// In WAL every page of a load is written twice, to the log and then by the checkpoint
    /// into the file, and 600,000 people are half a gigabyte of pages. A rollback journal
    /// writes pages beyond the old end of the file once, with the same all-or-nothing
    /// commit: a killed process leaves a hot journal that the next open rolls back. Leaving
    /// WAL needs the file open on this connection only, so it is tried only in a store
    /// opened [`solo`](SqliteStore::open_solo), without waiting: a server holding the file
    /// makes it fail at once and the load stays in WAL. Foreign keys are then off as well:
    /// the plan has resolved every unit and household the rows point at, and the per-row
    /// lookups were half of the insert time.
    pub(crate) async fn bulk_begin(&self, large: bool) -> StoreResult<BulkMode> {
        if !large || !self.solo {
            return Ok(BulkMode::Shared);
        }
        // the single writer connection; it comes back for the transaction with this state
        let mut conn = self.write.acquire().await.map_err(Self::map_err)?;
        sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut *conn)
            .await
            .map_err(Self::map_err)?;
        let mode: Result<String, _> = sqlx::query_scalar("PRAGMA journal_mode = DELETE")
            .fetch_one(&mut *conn)
            .await;
        let alone = matches!(&mode, Ok(m) if m.eq_ignore_ascii_case("delete"));
        let mut setup = vec![format!("PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")];
        if alone {
            setup.push("PRAGMA foreign_keys = OFF".into());
        }
        for sql in setup {
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await
            {
                // never hand the pool a connection in a state nobody expects
                drop(conn.detach());
                return Err(Self::map_err(e));
            }
        }
        Ok(if alone {
            BulkMode::Alone
        } else {
            BulkMode::Shared
        })
    }

    /// The page cache a load's transaction needs, in KiB, or `None` to keep the connection's.
    ///
    /// In WAL every page that leaves the cache is appended to the log, and again each time
    /// it changes: the pages of a large load must all stay in memory until the commit (a
    /// 32 MB cache made 600,000 people 10x slower, and 256 MB still spilled the table before
    /// the index rebuild read it back). With a rollback journal a page past the old end of
    /// the file is simply written into it and read back when needed, so the connection's
    /// 32 MB serves: the county's import ran in 7.7-8.0 s instead of 7.9-8.7 s with 1 GB
    /// (alternating runs), its peak memory 1.4 GB instead of 1.8 and its commit 0.2 s
    /// instead of 0.5-1.5 s.
    pub(crate) fn bulk_cache_kib(mode: BulkMode) -> Option<i64> {
        match mode {
            BulkMode::Shared => Some(1 << 20),
            BulkMode::Alone => None,
        }
    }

    /// Settings a load's transaction takes on before it rebuilds the person indexes.
    ///
    /// CREATE INDEX sorts its keys in runs the size of the page cache and hands each full
    /// run to a helper thread (`PRAGMA threads`), but only when the sorter may write
    /// temporary files: under the writer connection's `temp_store = MEMORY` it sorts every
    /// key on the one thread. That setting stays for the transaction's statement journal,
    /// which is placed when the transaction begins; switching to files here only moves the
    /// sorter. Runs of 4 MB sort inside the processor's caches and keep both cores busy:
    /// the rebuild of a county's four indexes took 2.1-2.9 s instead of 4.5-5.2 (a
    /// `sqlite3` replay of the load on this schema, alternating runs; 2 and 8 MB were no
    /// better, 16 and 32 MB slower). A load that stays in WAL keeps its large cache: there
    /// every page leaving it would be appended to the log, and with its sorter kept in
    /// memory it has no helper threads to set.
    pub(crate) fn index_rebuild_pragmas(mode: BulkMode) -> &'static [&'static str] {
        match mode {
            BulkMode::Alone => &[
                "PRAGMA threads = 2",
                "PRAGMA temp_store = FILE",
                "PRAGMA cache_size = -4000",
            ],
            BulkMode::Shared => &[],
        }
    }

    /// Puts the writer connection back as [`open`](SqliteStore::open) made it, after the
    /// load's transaction ended (committed or not). A connection that cannot be put back is
    /// closed; the pool opens a fresh one.
    pub(crate) async fn bulk_end(&self, mode: BulkMode) -> StoreResult<()> {
        let mut conn = self.write.acquire().await.map_err(Self::map_err)?;
        // a raised cache would otherwise keep a large load's pages for the connection's life
        let mut reset = vec![format!("PRAGMA cache_size = -{CACHE_KIB}")];
        if mode == BulkMode::Alone {
            reset.extend([
                "PRAGMA temp_store = MEMORY".into(),
                "PRAGMA foreign_keys = ON".into(),
                "PRAGMA journal_mode = WAL".into(),
            ]);
        }
        for sql in reset {
            if let Err(e) = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut *conn)
                .await
            {
                drop(conn.detach());
                return Err(Self::map_err(e));
            }
        }
        Ok(())
    }

    /// Inserts `values` (row-major, `table.width()` per row) into `table` inside `tx`; with
    /// `want_ids`, returns the new ids in row order (else an empty vector).
    pub(crate) async fn bulk_insert(
        tx: &mut Transaction<'static, Sqlite>,
        table: &BulkTable,
        values: &[Val<'_>],
        want_ids: bool,
    ) -> StoreResult<Vec<i64>> {
        let sql = insert_sql(table, values)?;
        let width = table.width();
        let mut ids = Vec::with_capacity(if want_ids { values.len() / width } else { 0 });
        for hold in values.chunks(width * ROWS_PER_HOLD) {
            {
                let mut handle = tx.lock_handle().await.map_err(Self::map_err)?;
                // SAFETY: the handle lock gives this thread the connection until it drops.
                unsafe {
                    insert_rows(
                        handle.as_raw_handle(),
                        &sql,
                        width,
                        hold,
                        want_ids,
                        &mut ids,
                    )?
                };
            }
            tokio::task::yield_now().await;
        }
        Ok(ids)
    }

    /// [`bulk_insert`](Self::bulk_insert), computing `meanwhile` on another thread while the
    /// rows go in (a load plans its people while its households are written). The rows go in
    /// under one hold of the connection: this runtime worker is busy until both are done, as
    /// it would be computing `meanwhile` itself.
    pub(crate) async fn bulk_insert_while<R: Send>(
        tx: &mut Transaction<'static, Sqlite>,
        table: &BulkTable,
        values: &[Val<'_>],
        want_ids: bool,
        meanwhile: impl FnOnce() -> R + Send,
    ) -> StoreResult<(Vec<i64>, R)> {
        let sql = insert_sql(table, values)?;
        let width = table.width();
        let mut ids = Vec::with_capacity(if want_ids { values.len() / width } else { 0 });
        let mut handle = tx.lock_handle().await.map_err(Self::map_err)?;
        let db = handle.as_raw_handle();
        std::thread::scope(|s| {
            let job = s.spawn(meanwhile);
            // SAFETY: the handle lock gives this thread the connection until it drops, after
            // the scope; the other thread never touches it.
            let inserted = unsafe { insert_rows(db, &sql, width, values, want_ids, &mut ids) };
            let r = job
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            inserted.map(|()| (ids, r))
        })
    }

    /// Inserts the rows of parts `0..parts` into `table` inside `tx`, in part order, each
    /// part packed by `fill` on another thread while the part before it goes in. The rows
    /// go in under one hold of the connection, as in [`bulk_insert_while`](Self::bulk_insert_while).
    pub(crate) async fn bulk_insert_packed(
        tx: &mut Transaction<'static, Sqlite>,
        table: &BulkTable,
        parts: usize,
        fill: impl Fn(usize, &mut Packed) + Sync,
    ) -> StoreResult<()> {
        let sql = row_insert_sql(table);
        let width = table.width();
        let mut handle = tx.lock_handle().await.map_err(Self::map_err)?;
        let db = handle.as_raw_handle();
        std::thread::scope(|s| {
            let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Packed>(PACKED_IN_FLIGHT);
            let (free_tx, free_rx) = std::sync::mpsc::channel::<Packed>();
            for _ in 0..PACKED_IN_FLIGHT {
                let _ = free_tx.send(Packed::new(width));
            }
            let fill = &fill;
            let packer = s.spawn(move || {
                for k in 0..parts {
                    // the writer hung up: it failed, and nothing more is wanted
                    let Ok(mut part) = free_rx.recv() else { return };
                    part.clear();
                    fill(k, &mut part);
                    if full_tx.send(part).is_err() {
                        return;
                    }
                }
            });
            // SAFETY: the handle lock gives this thread the connection until it drops, after
            // the scope; the packing thread never touches it.
            let written = unsafe { insert_packed(db, &sql, width, full_rx, free_tx) };
            // a packer that panicked hung up early: its panic, not a short load, is the outcome
            packer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            written
        })
    }
}

/// Inserts every part `full` delivers, handing each buffer back on `free`; returns at the
/// first error, dropping both ends so the packer stops.
///
/// # Safety
/// `db` must be an open connection held exclusively by the caller for the call.
unsafe fn insert_packed(
    db: NonNull<ffi::sqlite3>,
    sql: &str,
    width: usize,
    full: std::sync::mpsc::Receiver<Packed>,
    free: std::sync::mpsc::Sender<Packed>,
) -> StoreResult<()> {
    // SAFETY: per the caller's contract; `stmt` is finalized before returning.
    let mut stmt = unsafe { Stmt::prepare(db, sql)? };
    let mut date_buf = String::new();
    for part in full {
        if !part.is_whole() {
            return Err(StoreError::Backend("批量写入的列数不符".into()));
        }
        let mut row: Vec<Val<'_>> = Vec::with_capacity(width);
        for k in 0..part.rows() {
            part.row_into(k, &mut row);
            stmt.insert(&row, &mut date_buf)?;
        }
        drop(row);
        // the packer may have finished: then the buffer is simply freed
        let _ = free.send(part);
    }
    Ok(())
}

/// The single-row INSERT of `table`.
fn row_insert_sql(table: &BulkTable) -> String {
    let params: Vec<String> = (1..=table.width()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        table.table,
        table.column_list(),
        params.join(", ")
    )
}

/// The single-row INSERT of `table`, once `values` are known to fill whole rows.
fn insert_sql(table: &BulkTable, values: &[Val<'_>]) -> StoreResult<String> {
    let width = table.width();
    if !values.len().is_multiple_of(width) {
        return Err(StoreError::Backend("批量写入的列数不符".into()));
    }
    Ok(row_insert_sql(table))
}

/// Steps `sql` once per row of `values`, pushing each new rowid onto `ids` with `want_ids`.
///
/// # Safety
/// `db` must be an open connection held exclusively by the caller for the call.
unsafe fn insert_rows(
    db: NonNull<ffi::sqlite3>,
    sql: &str,
    width: usize,
    values: &[Val<'_>],
    want_ids: bool,
    ids: &mut Vec<i64>,
) -> StoreResult<()> {
    // SAFETY: per the caller's contract; `stmt` is finalized before returning.
    let mut stmt = unsafe { Stmt::prepare(db, sql)? };
    let mut date_buf = String::new();
    for k in 0..values.len() / width {
        if let Some(ahead) =
            values.get((k + PREFETCH_ROWS) * width..(k + PREFETCH_ROWS + 1) * width)
        {
            xiangzhi_store::bulk::prefetch_row(ahead);
        }
        stmt.insert(&values[k * width..(k + 1) * width], &mut date_buf)?;
        if want_ids {
            // SAFETY: the connection is held (see above).
            ids.push(unsafe { ffi::sqlite3_last_insert_rowid(stmt.db) });
        }
    }
    Ok(())
}
