//! Bulk inserts: one table, many rows, bound value by value by the backend's fastest path
//! (SQLite: one prepared single-row INSERT stepped per row on the raw connection; PostgreSQL:
//! `COPY … FROM STDIN` in the text format). A 600,000-person import spent most
//! of its time building and binding multi-row `VALUES` statements through sqlx; these paths
//! copy nothing and allocate per column, not per value.

use chrono::NaiveDate;

/// How a column is bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Text,
    Int,
    Real,
    Bool,
    Date,
}

/// One value of a row; `Null` in any column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val<'a> {
    Text(&'a str),
    Int(i64),
    /// Finite (a ledger's numeric slots).
    Real(f64),
    Bool(bool),
    Date(NaiveDate),
    Null,
}

impl<'a> From<&'a str> for Val<'a> {
    fn from(s: &'a str) -> Val<'a> {
        Val::Text(s)
    }
}

impl<'a> From<Option<&'a str>> for Val<'a> {
    fn from(s: Option<&'a str>) -> Val<'a> {
        s.map_or(Val::Null, Val::Text)
    }
}

impl From<Option<i64>> for Val<'_> {
    fn from(i: Option<i64>) -> Self {
        i.map_or(Val::Null, Val::Int)
    }
}

impl From<Option<f64>> for Val<'_> {
    fn from(x: Option<f64>) -> Self {
        x.filter(|x| x.is_finite()).map_or(Val::Null, Val::Real)
    }
}

impl From<NaiveDate> for Val<'_> {
    fn from(d: NaiveDate) -> Self {
        Val::Date(d)
    }
}

impl From<Option<NaiveDate>> for Val<'_> {
    fn from(d: Option<NaiveDate>) -> Self {
        d.map_or(Val::Null, Val::Date)
    }
}

/// A table (with an integer `id` key the database assigns) and the columns a bulk insert
/// fills, in binding order.
#[derive(Debug)]
pub struct BulkTable {
    pub table: &'static str,
    pub columns: &'static [(&'static str, Col)],
}

impl BulkTable {
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    pub fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|(c, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub const HOUSEHOLDS: BulkTable = BulkTable {
    table: "households",
    columns: &[
        ("household_no", Col::Text),
        ("address", Col::Text),
        ("status", Col::Text),
        ("org_code", Col::Text),
        ("org_path", Col::Text),
        ("created_at", Col::Text),
    ],
};

pub const PERSONS: BulkTable = BulkTable {
    table: "persons",
    columns: &[
        ("name", Col::Text),
        ("id_hash", Col::Text),
        ("id_sealed", Col::Text),
        ("sex", Col::Text),
        ("birth_date", Col::Date),
        ("phone_hash", Col::Text),
        ("phone_sealed", Col::Text),
        ("household_id", Col::Int),
        ("relation", Col::Text),
        ("status", Col::Text),
        ("org_code", Col::Text),
        ("org_path", Col::Text),
        ("tags", Col::Text),
        ("created_at", Col::Text),
    ],
};

/// Ledger entries as an import writes them; `n1`… are the numeric slots the aggregates read.
pub const LEDGER_ENTRIES: BulkTable = BulkTable {
    table: "ledger_entries",
    columns: &[
        ("ledger_id", Col::Int),
        ("version", Col::Int),
        ("org_code", Col::Text),
        ("org_path", Col::Text),
        ("period", Col::Text),
        ("subject", Col::Text),
        ("subject_label", Col::Text),
        ("vals", Col::Text),
        ("filled", Col::Bool),
        ("void", Col::Bool),
        ("updated_at", Col::Text),
        ("updated_by", Col::Text),
        ("n1", Col::Real),
        ("n2", Col::Real),
        ("n3", Col::Real),
        ("n4", Col::Real),
        ("n5", Col::Real),
        ("n6", Col::Real),
        ("n7", Col::Real),
        ("n8", Col::Real),
        ("n9", Col::Real),
        ("n10", Col::Real),
        ("n11", Col::Real),
        ("n12", Col::Real),
        ("n13", Col::Real),
        ("n14", Col::Real),
        ("n15", Col::Real),
        ("n16", Col::Real),
    ],
};

/// The fixed columns of [`LEDGER_ENTRIES`] before its numeric slots.
pub const LEDGER_ENTRY_FIXED: usize = 12;

/// Enrollments as the roster import (存量名单) writes them.
pub const ENROLLMENTS: BulkTable = BulkTable {
    table: "enrollments",
    columns: &[
        ("program_code", Col::Text),
        ("household_id", Col::Int),
        ("person_id", Col::Int),
        ("category", Col::Text),
        ("source", Col::Text),
        ("org_code", Col::Text),
        ("org_path", Col::Text),
        ("status", Col::Text),
        ("entered_by", Col::Text),
        ("applied_on", Col::Text),
        ("since", Col::Text),
        ("start_on", Col::Text),
        ("next_review", Col::Text),
        ("exit_on", Col::Text),
        ("exit_reason", Col::Text),
        ("note", Col::Text),
        ("created_at", Col::Text),
    ],
};

pub const ENROLLMENT_STEPS: BulkTable = BulkTable {
    table: "enrollment_steps",
    columns: &[
        ("enrollment_id", Col::Int),
        ("step", Col::Text),
        ("decision", Col::Text),
        ("opinion", Col::Text),
        ("done_on", Col::Text),
        ("actor", Col::Text),
        ("recorded_at", Col::Text),
    ],
};

pub const PAYROLL_LINES: BulkTable = BulkTable {
    table: "payroll_lines",
    columns: &[
        ("payroll_id", Col::Int),
        ("enrollment_id", Col::Int),
        ("person_id", Col::Int),
        ("household_id", Col::Int),
        ("org_code", Col::Text),
        ("org_path", Col::Text),
        ("persons", Col::Int),
        ("amount_fen", Col::Int),
        ("status", Col::Text),
        ("note", Col::Text),
    ],
};

/// Cases as the case-ledger import writes them, with their final state.
pub const CASES: BulkTable = BulkTable {
    table: "cases",
    columns: &[
        ("kind", Col::Text),
        ("category_code", Col::Text),
        ("title", Col::Text),
        ("description", Col::Text),
        ("org_code", Col::Text),
        ("org_path", Col::Text),
        ("location", Col::Text),
        ("source", Col::Text),
        ("state", Col::Text),
        ("status", Col::Text),
        ("tier", Col::Text),
        ("risk", Col::Text),
        ("urgent", Col::Bool),
        ("assignee", Col::Text),
        ("registered_on", Col::Date),
        ("due_on", Col::Date),
        ("closed_on", Col::Date),
        ("resolution_tier", Col::Text),
        ("version", Col::Int),
        ("created_by", Col::Text),
        ("updated_at", Col::Text),
    ],
};

pub const CASE_EVENTS: BulkTable = BulkTable {
    table: "case_events",
    columns: &[
        ("case_id", Col::Int),
        ("kind", Col::Text),
        ("description", Col::Text),
        ("status_after", Col::Text),
        ("tier_after", Col::Text),
        ("on_date", Col::Date),
        ("at", Col::Text),
        ("actor_name", Col::Text),
        ("actor_tier", Col::Text),
    ],
};

/// Appends `d` as `%Y-%m-%d`, the text both backends store a `NaiveDate` as. A four-digit
/// year (every date a township records) is written without parsing a format string per
/// value.
pub fn push_date(out: &mut String, d: NaiveDate) {
    use chrono::Datelike as _;
    use std::fmt::Write as _;
    if (0..=9999).contains(&d.year()) {
        let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
    } else {
        let _ = write!(out, "{}", d.format("%Y-%m-%d"));
    }
}

/// Rows of a bulk insert with all their text in one buffer, in row order.
///
/// A load that visits its rows out of file order (the person import goes in id-hash order)
/// gathers each row from a dozen places in memory. Packing the rows on another thread
/// first hands the writer values that sit one after another, and sealed values can be
/// written straight into the buffer instead of one allocation each.
#[derive(Debug)]
pub struct Packed {
    width: usize,
    text: String,
    cells: Vec<Cell>,
}

/// A packed value: text is a byte range of [`Packed::text`].
#[derive(Debug, Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    Text(u32, u32),
}

impl Packed {
    pub fn new(width: usize) -> Packed {
        Packed {
            width,
            text: String::new(),
            cells: Vec::new(),
        }
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cells.clear();
    }

    /// Whole rows packed so far.
    pub fn rows(&self) -> usize {
        self.cells.len() / self.width.max(1)
    }

    /// Every row complete: as many values as the table has columns.
    pub fn is_whole(&self) -> bool {
        self.width > 0 && self.cells.len().is_multiple_of(self.width)
    }

    pub fn text(&mut self, s: &str) {
        self.write(|t| t.push_str(s));
    }

    pub fn opt_text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    /// A text value appended by `f` to the buffer (which it must only append to).
    pub fn write(&mut self, f: impl FnOnce(&mut String)) {
        let start = self.text.len();
        f(&mut self.text);
        // a buffer past 4 GiB would need wider ranges; parts are a few megabytes
        let (start, end) = (
            u32::try_from(start).expect("packed part under 4 GiB"),
            u32::try_from(self.text.len()).expect("packed part under 4 GiB"),
        );
        self.cells.push(Cell::Text(start, end));
    }

    /// A date as `%Y-%m-%d` text, as both backends store a `NaiveDate`.
    pub fn date(&mut self, d: NaiveDate) {
        self.write(|t| push_date(t, d));
    }

    pub fn int(&mut self, n: Option<i64>) {
        self.cells.push(n.map_or(Cell::Null, Cell::Int));
    }

    pub fn null(&mut self) {
        self.cells.push(Cell::Null);
    }

    /// Value `i` of the part (row-major).
    pub fn val(&self, i: usize) -> Val<'_> {
        match self.cells[i] {
            Cell::Null => Val::Null,
            Cell::Int(n) => Val::Int(n),
            // a range `write` recorded: in bounds and on character boundaries, unless `f`
            // cut the buffer short, which this slicing turns into a panic
            Cell::Text(a, b) => Val::Text(&self.text[a as usize..b as usize]),
        }
    }

    /// Row `k`'s values into `out` (cleared first).
    pub fn row_into<'a>(&'a self, k: usize, out: &mut Vec<Val<'a>>) {
        out.clear();
        out.extend((k * self.width..(k + 1) * self.width).map(|i| self.val(i)));
    }

    /// All values, row-major.
    pub fn vals(&self) -> impl Iterator<Item = Val<'_>> + '_ {
        (0..self.cells.len()).map(|i| self.val(i))
    }
}

/// Fills parts `0..parts` with `fill` on up to four threads, and returns them in order.
pub fn pack_parts(
    width: usize,
    parts: usize,
    fill: &(impl Fn(usize, &mut Packed) + Sync),
) -> Vec<Packed> {
    let ks: Vec<usize> = (0..parts).collect();
    crate::sql_registry::par_blocks(&ks, 1, |k| {
        let mut p = Packed::new(width);
        for k in k {
            fill(*k, &mut p);
        }
        p
    })
}

/// Asks the processor to start loading the cache line at `p` (and nothing else: no fault, no
/// effect on the program's meaning). A bulk load visits rows in id-hash order, so every row's
/// values sit somewhere else in memory; loading the values of rows a few ahead overlaps those
/// misses instead of waiting on each in turn.
#[inline(always)]
pub fn prefetch<T: ?Sized>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: SSE, the feature the intrinsic needs, is part of every x86_64 processor; a
        // prefetch neither faults nor reads anything the program sees, whatever `p` is.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// [`prefetch`] of the text of a row's values (first and last cache line of each).
#[inline]
pub fn prefetch_row(row: &[Val<'_>]) {
    for v in row {
        if let Val::Text(s) = v
            && !s.is_empty()
        {
            prefetch(s.as_ptr());
            prefetch(s.as_ptr().wrapping_add(s.len() - 1));
        }
    }
}

/// Frees `value` on a thread of its own. A bulk load's rows are millions of small heap
/// blocks; freeing them one by one took a tenth of a second or more after the work was done,
/// with the caller still waiting.
pub fn free_in_background<T: Send + 'static>(value: T) {
    // when no thread can be started the closure, value and all, is freed here instead
    let _ = std::thread::Builder::new()
        .name("xiangzhi-free".into())
        .spawn(move || drop(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(k: usize, out: &mut Packed) {
        for i in 0..3 {
            out.text(&format!("p{k}r{i}"));
            out.write(|t| t.push_str("写入"));
            out.opt_text(None);
            out.int(Some((k * 10 + i) as i64));
            out.date(NaiveDate::from_ymd_opt(2024, 3, 9).unwrap());
        }
    }

    #[test]
    fn packed_rows_give_back_their_values() {
        let mut p = Packed::new(5);
        fill(2, &mut p);
        assert!(p.is_whole());
        assert_eq!(p.rows(), 3);
        let mut row = Vec::new();
        p.row_into(1, &mut row);
        assert_eq!(
            row,
            vec![
                Val::Text("p2r1"),
                Val::Text("写入"),
                Val::Null,
                Val::Int(21),
                Val::Text("2024-03-09"),
            ]
        );
        p.text("half a row");
        assert!(!p.is_whole());
        p.clear();
        assert_eq!((p.rows(), p.vals().count()), (0, 0));
    }

    #[test]
    fn parts_are_packed_in_order() {
        for parts in [0, 1, 2, 9] {
            let packed = pack_parts(5, parts, &fill);
            let firsts: Vec<Val<'_>> = packed.iter().flat_map(|p| p.vals().step_by(5)).collect();
            let expected: Vec<String> = (0..parts)
                .flat_map(|k| (0..3).map(move |i| format!("p{k}r{i}")))
                .collect();
            let expected: Vec<Val<'_>> = expected.iter().map(|s| Val::Text(s)).collect();
            assert_eq!(firsts, expected, "{parts} parts");
        }
    }
}
