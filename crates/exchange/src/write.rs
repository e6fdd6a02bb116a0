//! Writing: streaming XLSX (constant memory) and CSV exports, error reports, input templates.
//!
//! Every text cell that begins with `= + - @`, a tab or a carriage return is neutralised by
//! a leading `'`, so that a value like `=cmd|' /C calc'!A0` is never run as a formula by
//! Excel or WPS, in XLSX and CSV alike.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;

use chrono::{Datelike, Timelike};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, ExcelDateTime, Format, FormatAlign,
    FormatBorder, Formula, ProtectionOptions, Workbook, Worksheet, XlsxError,
};
use thiserror::Error;

use crate::model::{Cell, RowError, Sheet};
use crate::normalize::display_width;

#[derive(Debug, Error)]
pub enum WriteError {
    #[error("生成Excel文件失败：{0}")]
    Xlsx(#[from] XlsxError),
    #[error("生成CSV文件失败：{0}")]
    Csv(#[from] csv::Error),
    #[error("写出文件失败：{0}")]
    Io(#[from] std::io::Error),
}

/// Prefix `'` to text that a spreadsheet would take for a formula (CSV/formula injection).
pub fn neutralize(s: &str) -> Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{s}")),
        _ => Cow::Borrowed(s),
    }
}

const MAX_CELL_CHARS: usize = 32_767;
const MIN_WIDTH: usize = 6;
const MAX_WIDTH: usize = 50;

fn col_width(w: usize) -> f64 {
    (w.clamp(MIN_WIDTH, MAX_WIDTH) + 2) as f64
}

fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
}

fn excel_datetime(dt: &chrono::NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    let d = ExcelDateTime::from_ymd(dt.year() as u16, dt.month() as u8, dt.day() as u8)?;
    if dt.time() == chrono::NaiveTime::MIN {
        Ok(d)
    } else {
        d.and_hms(dt.hour() as u16, dt.minute() as u8, dt.second() as f64)
    }
}

struct Formats {
    date: Format,
    datetime: Format,
}

impl Formats {
    fn new() -> Self {
        Formats {
            date: Format::new().set_num_format("yyyy-mm-dd"),
            datetime: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        }
    }
}

/// Write one cell; `extra` (e.g. a red fill) is merged in when given.
fn write_cell(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    extra: Option<&Format>,
    f: &Formats,
) -> Result<(), XlsxError> {
    let plain = Format::new();
    let base = extra.unwrap_or(&plain);
    match cell {
        Cell::Empty => {
            if let Some(x) = extra {
                ws.write_blank(row, col, x)?;
            }
        }
        Cell::Text(s) | Cell::Error(s) => {
            let s = neutralize(s);
            let s: Cow<str> = if s.chars().count() > MAX_CELL_CHARS {
                Cow::Owned(s.chars().take(MAX_CELL_CHARS).collect())
            } else {
                s
            };
            ws.write_string_with_format(row, col, s.as_ref(), base)?;
        }
        Cell::Int(i) => {
            if i.unsigned_abs() < 1_000_000_000_000_000 {
                ws.write_number_with_format(row, col, *i as f64, base)?;
            } else {
                // Excel keeps 15 digits: long integers (IDs) go out as text
                ws.write_string_with_format(row, col, i.to_string(), base)?;
            }
        }
        Cell::Float(x) => {
            ws.write_number_with_format(row, col, *x, base)?;
        }
        Cell::Bool(b) => {
            ws.write_string_with_format(row, col, if *b { "是" } else { "否" }, base)?;
        }
        Cell::DateTime(dt) => {
            let fmt = if dt.time() == chrono::NaiveTime::MIN {
                &f.date
            } else {
                &f.datetime
            };
            let fmt = match extra {
                Some(x) => fmt.clone().merge(x),
                None => fmt.clone(),
            };
            match excel_datetime(dt) {
                Ok(v) => ws.write_datetime_with_format(row, col, v, &fmt)?,
                Err(_) => ws.write_string_with_format(row, col, cell.display(), base)?,
            };
        }
    }
    Ok(())
}

fn cell_width(c: &Cell) -> usize {
    match c {
        Cell::DateTime(_) => 10,
        other => display_width(&other.display()),
    }
}

/// A streaming XLSX export: rows are written in order to a constant-memory worksheet
/// (rust_xlsxwriter keeps only the current row; the rest goes to a temp file).
/// Header row bold and frozen; column widths from the header and the first 1000 rows,
/// counting CJK characters as 2.
pub struct XlsxExport {
    workbook: Workbook,
    next_row: u32,
    widths: Vec<usize>,
    formats: Formats,
}

impl XlsxExport {
    pub fn new(sheet_name: &str, headers: &[impl AsRef<str>]) -> Result<Self, WriteError> {
        let mut workbook = Workbook::new();
        let ws = workbook.add_worksheet_with_constant_memory()?;
        ws.set_name(sheet_name)?;
        let hf = header_format();
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, neutralize(h.as_ref()).as_ref(), &hf)?;
        }
        ws.set_freeze_panes(1, 0)?;
        Ok(XlsxExport {
            workbook,
            next_row: 1,
            widths: headers.iter().map(|h| display_width(h.as_ref())).collect(),
            formats: Formats::new(),
        })
    }

    /// Append one row.
    pub fn write_row(&mut self, cells: &[Cell]) -> Result<(), WriteError> {
        self.write_row_with(cells, &[])
    }

    fn write_row_with(
        &mut self,
        cells: &[Cell],
        extra: &[Option<&Format>],
    ) -> Result<(), WriteError> {
        let row = self.next_row;
        let ws = self.workbook.worksheet_from_index(0)?;
        for (c, cell) in cells.iter().enumerate() {
            let x = extra.get(c).copied().flatten();
            write_cell(ws, row, c as u16, cell, x, &self.formats)?;
            if row <= 1000 {
                if self.widths.len() <= c {
                    self.widths.resize(c + 1, 0);
                }
                self.widths[c] = self.widths[c].max(cell_width(cell));
            }
        }
        self.next_row += 1;
        Ok(())
    }

    /// Rows written so far, header excluded.
    pub fn rows_written(&self) -> u32 {
        self.next_row - 1
    }

    /// Finish the file and return its bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, WriteError> {
        let ws = self.workbook.worksheet_from_index(0)?;
        for (c, w) in self.widths.iter().enumerate() {
            ws.set_column_width(c as u16, col_width(*w))?;
        }
        Ok(self.workbook.save_to_buffer()?)
    }
}

/// CSV export for Excel: UTF-8 with a BOM (so Excel detects the encoding), CRLF line ends.
/// Note that Excel still turns long digit strings into numbers when it opens a CSV;
/// prefer [`XlsxExport`] for tables with ID columns.
pub struct CsvExport<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvExport<W> {
    pub fn new(mut out: W, headers: &[impl AsRef<str>]) -> Result<Self, WriteError> {
        out.write_all(b"\xEF\xBB\xBF")?;
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        writer.write_record(headers.iter().map(|h| neutralize(h.as_ref()).into_owned()))?;
        Ok(CsvExport { writer })
    }

    pub fn write_row(&mut self, cells: &[Cell]) -> Result<(), WriteError> {
        self.writer.write_record(cells.iter().map(|c| match c {
            Cell::Text(s) | Cell::Error(s) => neutralize(s).into_owned(),
            other => other.display(),
        }))?;
        Ok(())
    }

    pub fn finish(self) -> Result<W, WriteError> {
        self.writer
            .into_inner()
            .map_err(|e| WriteError::Io(std::io::Error::other(e.to_string())))
    }
}

/// The original rows, each bad cell filled red, plus a final "错误原因" column listing every
/// problem of the row. Rows without problems are kept, so the clerk can fix this file and
/// import it again as a whole.
pub fn error_report_xlsx(original: &Sheet, errors: &[RowError]) -> Result<Vec<u8>, WriteError> {
    let mut headers: Vec<&str> = original.headers.iter().map(String::as_str).collect();
    headers.push("错误原因");
    let mut export = XlsxExport::new(&original.name, &headers)?;
    let red = Format::new()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_font_color(Color::RGB(0x9C0006));
    let reason_fmt = Format::new().set_font_color(Color::RGB(0x9C0006));
    let mut by_line: HashMap<usize, Vec<&RowError>> = HashMap::new();
    for e in errors {
        by_line.entry(e.line).or_default().push(e);
    }
    let mut seen = std::collections::HashSet::new();
    for row in &original.rows {
        let errs = by_line.get(&row.line).map(Vec::as_slice).unwrap_or(&[]);
        seen.insert(row.line);
        let mut cells = row.cells.clone();
        cells.resize(original.headers.len(), Cell::Empty);
        let mut extra: Vec<Option<&Format>> = vec![None; cells.len() + 1];
        for e in errs {
            if let Some(c) = original.headers.iter().position(|h| *h == e.column) {
                extra[c] = Some(&red);
            }
        }
        if !errs.is_empty() {
            let reasons: Vec<String> = errs
                .iter()
                .map(|e| {
                    if e.column.is_empty() {
                        e.reason.clone()
                    } else {
                        format!("「{}」{}", e.column, e.reason)
                    }
                })
                .collect();
            cells.push(Cell::Text(reasons.join("；")));
            extra[original.headers.len()] = Some(&reason_fmt);
        }
        export.write_row_with(&cells, &extra)?;
    }
    // errors about rows that are not in the sheet (e.g. a whole-file problem) go last
    for e in errors.iter().filter(|e| !seen.contains(&e.line)) {
        let mut cells = vec![Cell::Empty; original.headers.len()];
        cells.push(Cell::Text(e.to_string()));
        export.write_row(&cells)?;
    }
    export.finish()
}

/// One column of an input template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateColumn {
    pub name: String,
    /// Marked with a leading `*` in the header and in the instructions.
    pub required: bool,
    /// Allowed values: a drop-down list (kept on a hidden sheet when long).
    pub choices: Vec<String>,
    /// Computed by the system: shown grey and locked (sheet protection).
    pub derived: bool,
    /// Text format ("@") so that Excel keeps IDs and phone numbers as typed.
    pub as_text: bool,
    /// Shown in the instructions sheet and as an input hint.
    pub note: Option<String>,
}

impl TemplateColumn {
    pub fn new(name: impl Into<String>) -> Self {
        TemplateColumn {
            name: name.into(),
            ..Default::default()
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn choices(mut self, choices: &[&str]) -> Self {
        self.choices = choices.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn derived(mut self) -> Self {
        self.derived = true;
        self
    }
    pub fn as_text(mut self) -> Self {
        self.as_text = true;
        self
    }
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
    /// The header text written in the template.
    pub fn header(&self) -> String {
        if self.required {
            format!("*{}", self.name)
        } else {
            self.name.clone()
        }
    }
}

/// An input template: what the clerk downloads, fills in and uploads again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateSpec {
    pub sheet_name: String,
    /// Optional merged title row above the header ("X乡2024年低保名册").
    pub title: Option<String>,
    pub columns: Vec<TemplateColumn>,
    /// Pre-filled rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// Extra lines for the "填表说明" sheet.
    pub instructions: Vec<String>,
    /// Rows below the header that get drop-downs and stay editable (default 1000).
    pub input_rows: u32,
}

/// Lists whose comma-joined text is longer than this go to the hidden "选项" sheet
/// (Excel's limit for an inline list is 255 characters).
const INLINE_LIST_MAX: usize = 255;
const OPTIONS_SHEET: &str = "选项";
const INSTRUCTIONS_SHEET: &str = "填表说明";

/// Build an input template (see [`TemplateSpec`]). The data sheet comes first, so
/// [`crate::read_table`] reads it back with the same headers.
pub fn template_xlsx(spec: &TemplateSpec) -> Result<Vec<u8>, WriteError> {
    let mut wb = Workbook::new();
    let header_row: u32 = if spec.title.is_some() { 1 } else { 0 };
    let input_rows = if spec.input_rows == 0 {
        1000
    } else {
        spec.input_rows
    };
    let last_input_row = header_row + input_rows.max(spec.rows.len() as u32);
    let ncols = spec.columns.len() as u16;
    let formats = Formats::new();

    let unlocked = Format::new().set_unlocked();
    let unlocked_text = Format::new().set_unlocked().set_num_format("@");
    let derived_fmt = Format::new().set_background_color(Color::RGB(0xEDEDED));
    let hf = header_format();
    let required_hf = header_format().set_font_color(Color::RGB(0xC00000));

    // long choice lists go to a hidden sheet, one column each
    let mut long_lists: Vec<(usize, &TemplateColumn)> = Vec::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name(if spec.sheet_name.is_empty() {
            "Sheet1"
        } else {
            &spec.sheet_name
        })?;
        if let Some(title) = &spec.title {
            let tf = Format::new()
                .set_bold()
                .set_font_size(14)
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter);
            if ncols > 1 {
                ws.merge_range(0, 0, 0, ncols - 1, title, &tf)?;
            } else {
                ws.write_string_with_format(0, 0, title, &tf)?;
            }
            ws.set_row_height(0, 28)?;
        }
        for (c, col) in spec.columns.iter().enumerate() {
            let c16 = c as u16;
            let fmt = if col.required { &required_hf } else { &hf };
            ws.write_string_with_format(header_row, c16, col.header(), fmt)?;
            let widest_choice = col
                .choices
                .iter()
                .map(|s| display_width(s))
                .max()
                .unwrap_or(0);
            let w = display_width(&col.header())
                .max(widest_choice)
                .max(if col.as_text { 20 } else { 0 });
            ws.set_column_width(c16, col_width(w))?;
            if col.derived {
                ws.set_column_format(c16, &derived_fmt)?;
            } else if col.as_text {
                ws.set_column_format(c16, &unlocked_text)?;
            } else {
                ws.set_column_format(c16, &unlocked)?;
            }
            if !col.choices.is_empty() && !col.derived {
                let joined: usize = col
                    .choices
                    .iter()
                    .map(|s| s.chars().count() + 1)
                    .sum::<usize>();
                let dv = if joined > INLINE_LIST_MAX {
                    let k = long_lists.len();
                    long_lists.push((k, col));
                    let letter = crate_col_letter(k);
                    DataValidation::new().allow_list_formula(Formula::new(format!(
                        "'{OPTIONS_SHEET}'!${letter}$1:${letter}${}",
                        col.choices.len()
                    )))
                } else {
                    DataValidation::new().allow_list_strings(&col.choices)?
                };
                let dv = dv
                    .set_error_style(DataValidationErrorStyle::Stop)
                    .set_error_title("输入有误")?
                    .set_error_message(format!("「{}」请从下拉列表中选择", col.name))?;
                ws.add_data_validation(header_row + 1, c16, last_input_row, c16, &dv)?;
            }
        }
        for (i, row) in spec.rows.iter().enumerate() {
            let r = header_row + 1 + i as u32;
            for (c, cell) in row.iter().enumerate().take(spec.columns.len()) {
                let col = &spec.columns[c];
                let fmt = if col.derived {
                    &derived_fmt
                } else if col.as_text {
                    &unlocked_text
                } else {
                    &unlocked
                };
                let cell = match (col.as_text, cell) {
                    (true, Cell::Int(i)) => Cell::Text(i.to_string()),
                    _ => cell.clone(),
                };
                write_cell(ws, r, c as u16, &cell, Some(fmt), &formats)?;
            }
        }
        ws.set_freeze_panes(header_row + 1, 0)?;
        if spec.columns.iter().any(|c| c.derived) {
            ws.protect_with_options(&ProtectionOptions {
                select_locked_cells: true,
                select_unlocked_cells: true,
                format_columns: true,
                format_rows: true,
                insert_rows: true,
                delete_rows: true,
                sort: true,
                use_autofilter: true,
                ..ProtectionOptions::default()
            });
        }
    }

    // instructions
    {
        let ws = wb.add_worksheet();
        ws.set_name(INSTRUCTIONS_SHEET)?;
        let bold = Format::new().set_bold();
        let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
        ws.set_column_width(0, 20)?;
        ws.set_column_width(1, 70)?;
        ws.write_string_with_format(0, 0, INSTRUCTIONS_SHEET, &bold.clone().set_font_size(14))?;
        let mut r = 1u32;
        let mut general = vec![
            format!(
                "请在“{}”表中填写，不要修改表头，不要插入或删除列。",
                spec.sheet_name
            ),
            "带 * 的列为必填。".to_string(),
            "身份证号、电话等编号请按文本填写，不要让Excel改成科学计数法（如 4.30102E+17）。"
                .to_string(),
            "日期可写成 2024-01-05、2024/1/5 或 2024年1月5日。".to_string(),
        ];
        if spec.columns.iter().any(|c| c.derived) {
            general.push("灰色列由系统生成，已锁定，不能修改。".to_string());
        }
        general.extend(spec.instructions.iter().cloned());
        for line in general {
            ws.write_string_with_format(r, 0, "・", &wrap)?;
            ws.write_string_with_format(r, 1, &line, &wrap)?;
            r += 1;
        }
        r += 1;
        ws.write_string_with_format(r, 0, "列名", &hf)?;
        ws.write_string_with_format(r, 1, "填写要求", &hf)?;
        r += 1;
        for col in &spec.columns {
            let mut req = Vec::new();
            req.push(if col.required { "必填" } else { "选填" }.to_string());
            if col.derived {
                req.push("系统生成，不能修改".to_string());
            }
            if col.as_text {
                req.push("按文本填写".to_string());
            }
            if !col.choices.is_empty() {
                req.push(format!("从下拉列表中选择：{}", col.choices.join("、")));
            }
            if let Some(n) = &col.note {
                req.push(n.clone());
            }
            ws.write_string_with_format(r, 0, col.header(), &wrap)?;
            ws.write_string_with_format(r, 1, req.join("；"), &wrap)?;
            r += 1;
        }
    }

    if !long_lists.is_empty() {
        let ws = wb.add_worksheet();
        ws.set_name(OPTIONS_SHEET)?;
        for (k, col) in &long_lists {
            for (i, choice) in col.choices.iter().enumerate() {
                ws.write_string(i as u32, *k as u16, neutralize(choice).as_ref())?;
            }
        }
        ws.set_hidden(true);
    }
    Ok(wb.save_to_buffer()?)
}

fn crate_col_letter(mut c: usize) -> String {
    let mut s = Vec::new();
    c += 1;
    while c > 0 {
        s.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralises() {
        assert_eq!(neutralize("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(neutralize("+1"), "'+1");
        assert_eq!(neutralize("-1"), "'-1");
        assert_eq!(neutralize("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralize("\tx"), "'\tx");
        assert_eq!(neutralize("张三"), "张三");
    }

    #[test]
    fn csv_has_bom_and_neutralises() {
        let mut e = CsvExport::new(Vec::new(), &["姓名", "备注"]).unwrap();
        e.write_row(&[Cell::from("张三"), Cell::from("=1+1")])
            .unwrap();
        let out = e.finish().unwrap();
        assert!(out.starts_with(b"\xEF\xBB\xBF"));
        let s = String::from_utf8(out[3..].to_vec()).unwrap();
        assert_eq!(s, "姓名,备注\r\n张三,'=1+1\r\n");
    }
}
