//! 乡治 exchange: tabular formats in and out for township clerks who live in Excel/WPS.
//!
//! Parsing here, meaning elsewhere: this crate knows nothing about persons or ledgers.
//! Callers describe the columns they expect ([`ColumnSpec`]) and convert cells with the
//! helpers in [`convert`]; every problem is reported in Chinese with the spreadsheet row
//! number a clerk sees and the header text of the column.
//!
//! - [`read::read_table`] / [`read::read_table_with`]: XLSX, XLS, CSV/TSV (UTF-8, UTF-16, GBK/GB18030)
//!   into a [`Sheet`], with size limits enforced before parsing.
//! - [`convert`]: `text`, `id_text`, `int`, `decimal`, `date`, `bool` per cell.
//! - [`write`]: streaming XLSX and CSV export, error reports and input templates.
//! - [`aggregate`]: DHIS2 dataValueSets JSON and IHE ADX XML for aggregate figures.

pub mod aggregate;
pub mod convert;
mod guard;
mod model;
pub mod normalize;
pub mod read;
pub mod write;

pub use model::{Cell, Col, ColumnRef, ColumnSpec, Field, Row, RowError, Sheet, SourceFormat};
pub use read::{Limits, ReadError, read_table, read_table_with};
