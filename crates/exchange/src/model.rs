//! The in-memory table shape shared by readers and writers.

use std::fmt;

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// One cell as the spreadsheet stored it. Text is kept raw; normalise it with [`crate::convert`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub enum Cell {
    #[default]
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    DateTime(NaiveDateTime),
    /// A formula error such as `#DIV/0!` or `#N/A`.
    Error(String),
}

impl Cell {
    /// Empty, or text made only of blanks (spaces, U+3000, NBSP, zero-width).
    pub fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => crate::normalize::is_blank_text(s),
            _ => false,
        }
    }

    /// What a clerk would see in the cell, roughly: used in messages and CSV output.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Float(f) => format_float(*f),
            Cell::Bool(b) => if *b { "是" } else { "否" }.to_string(),
            Cell::DateTime(dt) => {
                if dt.time() == chrono::NaiveTime::MIN {
                    dt.format("%Y-%m-%d").to_string()
                } else {
                    dt.format("%Y-%m-%d %H:%M:%S").to_string()
                }
            }
            Cell::Error(e) => e.clone(),
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}
impl From<i64> for Cell {
    fn from(i: i64) -> Self {
        Cell::Int(i)
    }
}
impl From<f64> for Cell {
    fn from(f: f64) -> Self {
        Cell::Float(f)
    }
}
impl From<bool> for Cell {
    fn from(b: bool) -> Self {
        Cell::Bool(b)
    }
}
impl From<NaiveDateTime> for Cell {
    fn from(d: NaiveDateTime) -> Self {
        Cell::DateTime(d)
    }
}
impl From<chrono::NaiveDate> for Cell {
    fn from(d: chrono::NaiveDate) -> Self {
        Cell::DateTime(d.and_time(chrono::NaiveTime::MIN))
    }
}

/// Floats the way a spreadsheet shows them: integral values without ".0", large values in
/// Excel's scientific form (`4.30102E+17`).
pub(crate) fn format_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else if f.is_finite() && f.abs() >= 1e11 {
        // Excel's General format shows 6 significant digits for big numbers.
        let s = format!("{:.5E}", f); // e.g. 4.30102E17
        let (mant, exp) = s.split_once('E').unwrap_or((&s, "0"));
        let mant = mant.trim_end_matches('0').trim_end_matches('.');
        let exp: i32 = exp.parse().unwrap_or(0);
        format!("{mant}E{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        format!("{f}")
    }
}

/// One non-blank data row. `line` is the 1-based row number shown by Excel/WPS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub line: usize,
    /// One cell per header column (padded with [`Cell::Empty`]).
    pub cells: Vec<Cell>,
}

impl Row {
    pub fn get(&self, col: usize) -> &Cell {
        static EMPTY: Cell = Cell::Empty;
        self.cells.get(col).unwrap_or(&EMPTY)
    }
}

/// Where a sheet came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceFormat {
    Xlsx,
    Xls,
    /// Delimited text, with the encoding that was used to decode it and the delimiter.
    Csv {
        encoding: String,
        delimiter: u8,
    },
}

/// A column the caller expects: a canonical name, aliases, and whether it must be present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    pub aliases: Vec<String>,
    pub required: bool,
}

impl ColumnSpec {
    pub fn required(name: impl Into<String>) -> Self {
        ColumnSpec {
            name: name.into(),
            aliases: Vec::new(),
            required: true,
        }
    }
    pub fn optional(name: impl Into<String>) -> Self {
        ColumnSpec {
            name: name.into(),
            aliases: Vec::new(),
            required: false,
        }
    }
    pub fn alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }
}

/// The first visible sheet of a workbook (or the whole CSV), header found, blank rows dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sheet {
    pub name: String,
    /// 1-based row number of the (last) header row, as Excel shows it.
    pub header_row: usize,
    /// Header text per column as the clerk wrote it (two-row headers joined as "上/下"
    /// when the lower row alone is not what matched; a blank lower cell takes the upper one).
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
    /// `(spec name, column index)` for every [`ColumnSpec`] that was found.
    pub columns: Vec<(String, usize)>,
    /// Non-fatal findings in Chinese (unknown columns, content right of the header, ...).
    pub warnings: Vec<String>,
    pub format: SourceFormat,
}

impl Sheet {
    /// Column index of a spec (by its canonical name), or of a header with exactly this text.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| *i)
            .or_else(|| self.headers.iter().position(|h| h == name))
    }

    /// The cell of `row` under column `name`, with what is needed to report a problem with it.
    pub fn field<'a>(&'a self, row: &'a Row, name: &'a str) -> Field<'a> {
        self.field_at(row, self.column(name))
    }

    /// Column `name` found once, for reading it from every row: finding it by name for each
    /// cell was a tenth of checking a county's people.
    pub fn column<'a>(&'a self, name: &'a str) -> Col<'a> {
        Col {
            name,
            index: self.col(name),
        }
    }

    /// [`field`](Sheet::field) of a column found with [`column`](Sheet::column).
    pub fn field_at<'a>(&'a self, row: &'a Row, col: Col<'a>) -> Field<'a> {
        match col.index {
            Some(i) => Field {
                line: row.line,
                column: self.headers.get(i).map_or(col.name, |h| h.as_str()),
                cell: row.get(i),
            },
            None => Field {
                line: row.line,
                column: col.name,
                cell: &Cell::Empty,
            },
        }
    }
}

/// A column of a [`Sheet`] (or its absence), from [`Sheet::column`].
#[derive(Debug, Clone, Copy)]
pub struct Col<'a> {
    name: &'a str,
    index: Option<usize>,
}

impl Col<'_> {
    pub fn is_present(&self) -> bool {
        self.index.is_some()
    }
}

/// A column by name or found beforehand: what the row readers take.
pub trait ColumnRef<'a>: Copy {
    fn field(self, sheet: &'a Sheet, row: &'a Row) -> Field<'a>;
}

impl<'a> ColumnRef<'a> for &'a str {
    fn field(self, sheet: &'a Sheet, row: &'a Row) -> Field<'a> {
        sheet.field(row, self)
    }
}

impl<'a> ColumnRef<'a> for Col<'a> {
    fn field(self, sheet: &'a Sheet, row: &'a Row) -> Field<'a> {
        sheet.field_at(row, self)
    }
}

/// A cell with its row number and column header, ready to be converted.
#[derive(Debug, Clone)]
pub struct Field<'a> {
    pub line: usize,
    /// Borrowed: a row's dozen fields are looked at, and only a bad one is reported.
    pub column: &'a str,
    pub cell: &'a Cell,
}

impl Field<'_> {
    /// Apply one of the [`crate::convert`] helpers; a failure becomes a [`RowError`].
    pub fn parse<T>(&self, f: impl FnOnce(&Cell) -> Result<T, String>) -> Result<T, RowError> {
        f(self.cell).map_err(|reason| RowError {
            line: self.line,
            column: self.column.to_string(),
            reason,
        })
    }
}

/// One problem in one cell: row number as Excel shows it, header text, reason in Chinese.
/// Reasons are predicates ("未填写", "不是有效的日期：…") so that
/// `第5行「出生日期」不是有效的日期：…` reads naturally.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub line: usize,
    pub column: String,
    pub reason: String,
}

impl RowError {
    pub fn new(line: usize, column: impl Into<String>, reason: impl Into<String>) -> Self {
        RowError {
            line,
            column: column.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "第{}行：{}", self.line, self.reason)
        } else {
            write!(f, "第{}行「{}」{}", self.line, self.column, self.reason)
        }
    }
}

impl std::error::Error for RowError {}
