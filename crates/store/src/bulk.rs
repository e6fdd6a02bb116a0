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
    Date,
}

/// One value of a row; `Null` in any column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val<'a> {
    Text(&'a str),
    Int(i64),
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

impl From<NaiveDate> for Val<'_> {
    fn from(d: NaiveDate) -> Self {
        Val::Date(d)
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
