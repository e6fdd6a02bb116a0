//! Reading XLSX, XLS and CSV/TSV into a [`Sheet`].
//!
//! The format is detected from the bytes, never from the file name. Limits are enforced
//! before anything is parsed into memory: the byte size for every format; for XLSX the zip
//! central directory, the real decompressed size and each worksheet's extent (see `guard`);
//! for CSV while streaming records. The first visible worksheet is taken; merged cells are
//! filled with their top-left value (what the clerk sees); blank rows are dropped; the header
//! row is found by matching the caller's [`ColumnSpec`]s within the first rows.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader, SheetType, SheetVisible, Xls, Xlsx};
use thiserror::Error;

use crate::guard::{ZipKind, inspect_zip};
use crate::model::{Cell, ColumnSpec, Row, Sheet, SourceFormat};
use crate::normalize::{is_blank_text, normalize_header, normalize_text};

/// Size limits checked before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Size of the uploaded file.
    pub max_bytes: usize,
    /// Rows of the sheet (its last used row number).
    pub max_rows: usize,
    /// Columns of the sheet (its last used column, counted from A).
    pub max_columns: usize,
    /// Sum of the decompressed sizes of all parts of an XLSX.
    pub max_uncompressed_bytes: u64,
    /// Cells in the used rectangle (rows × columns) and shared strings.
    pub max_cells: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_rows: 1_000_000,
            max_columns: 200,
            max_uncompressed_bytes: 1 << 30,
            max_cells: 20_000_000,
        }
    }
}

/// Why a file could not be read, in Chinese for the clerk.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ReadError {
    #[error("文件过大（{size_mb} MB），超过上限{max_mb} MB：请拆分成几个文件后分别导入")]
    TooLarge { size_mb: usize, max_mb: usize },
    #[error("表格行数过多（{rows}行），超过上限{max}行：请拆分成几个文件后分别导入")]
    TooManyRows { rows: u64, max: usize },
    #[error("表格列数过多（{columns}列），超过上限{max}列：请删除多余的列后重新导入")]
    TooManyColumns { columns: u64, max: usize },
    #[error("表格范围过大（超过{max}个单元格）：请删除多余的行列或拆分后重新导入")]
    TooManyCells { max: u64 },
    #[error(
        "文件解压后过大（超过{max_mb} MB），可能已损坏或不是正常的表格文件：请用Excel或WPS打开后另存为.xlsx再导入"
    )]
    Uncompressed { max_mb: u64 },
    #[error("文件压缩比异常（疑似“压缩炸弹”），已拒绝读取：请用Excel或WPS打开后另存为.xlsx再导入")]
    Bomb,
    #[error("该文件不是表格文件（看起来是{0}）：请上传Excel（.xlsx、.xls）或CSV文件")]
    NotSpreadsheet(String),
    #[error(
        "该文件实际上是网页（HTML）格式，并不是真正的Excel文件：请用Excel或WPS打开后“另存为”.xlsx再导入"
    )]
    Html,
    #[error("暂不支持{0}格式：请用Excel、WPS或LibreOffice打开后“另存为”.xlsx再导入")]
    Unsupported(String),
    #[error("文件设置了打开密码（已加密），无法读取：请取消密码后重新导入")]
    Encrypted,
    #[error("文件无法读取，可能已损坏：{0}。请用Excel或WPS打开后另存为.xlsx再导入")]
    Corrupt(String),
    #[error(
        "无法识别文件的文字编码（既不是UTF-8也不是GBK）：请在Excel中另存为“CSV UTF-8”格式后重新导入"
    )]
    Encoding,
    #[error("工作簿中没有可见的工作表")]
    NoVisibleSheet,
    #[error("工作表「{0}」是空的，没有任何内容")]
    Empty(String),
    #[error("第{header_row}行表头缺少必填列：{}。找到的列：{}。请核对列名是否与模板一致", missing.join("、"), found.join("、"))]
    MissingColumns {
        header_row: usize,
        missing: Vec<String>,
        found: Vec<String>,
    },
    #[error("第{line}行格式有误：{detail}")]
    Csv { line: usize, detail: String },
}

/// Read the first visible sheet, taking the row with the most distinct non-empty cells
/// among the first rows as the header (a merged title row above it is skipped).
pub fn read_table(bytes: &[u8], file_name: &str, limits: &Limits) -> Result<Sheet, ReadError> {
    read_table_with(bytes, file_name, &[], limits)
}

/// Read the first visible sheet and find its header by the caller's column specs.
/// Missing required columns are one error listing all of them; unknown columns are warnings.
pub fn read_table_with(
    bytes: &[u8],
    file_name: &str,
    specs: &[ColumnSpec],
    limits: &Limits,
) -> Result<Sheet, ReadError> {
    if bytes.len() > limits.max_bytes {
        return Err(ReadError::TooLarge {
            size_mb: bytes.len().div_ceil(1 << 20),
            max_mb: limits.max_bytes >> 20,
        });
    }
    let grid = match sniff(bytes)? {
        Kind::Zip => match inspect_zip(bytes, limits)? {
            ZipKind::Xlsx => without_panics(|| load_xlsx(bytes, limits))?,
            ZipKind::Ods => return Err(ReadError::Unsupported("ODS（OpenDocument表格）".into())),
            ZipKind::Word => return Err(ReadError::NotSpreadsheet("Word文档".into())),
            ZipKind::Presentation => {
                return Err(ReadError::NotSpreadsheet("PowerPoint演示文稿".into()));
            }
            ZipKind::Other => return Err(ReadError::NotSpreadsheet("ZIP压缩包".into())),
        },
        Kind::Cfb => without_panics(|| load_xls(bytes, limits))?,
        Kind::Text => load_csv(bytes, file_name, limits)?,
    };
    build_sheet(grid, specs, limits)
}

enum Kind {
    Zip,
    Cfb,
    Text,
}

fn sniff(bytes: &[u8]) -> Result<Kind, ReadError> {
    let starts = |m: &[u8]| bytes.starts_with(m);
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return Ok(Kind::Zip);
    }
    if starts(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Ok(Kind::Cfb);
    }
    let known: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "PNG图片"),
        (b"\xFF\xD8\xFF", "JPEG图片"),
        (b"GIF8", "GIF图片"),
        (b"BM", "BMP图片"),
        (b"%PDF", "PDF文档"),
        (b"Rar!", "RAR压缩包"),
        (b"7z\xBC\xAF\x27\x1C", "7z压缩包"),
        (b"\x1F\x8B", "gzip压缩包"),
        (b"{\\rtf", "RTF文档"),
        (b"RIFF", "音视频或图片文件"),
        (b"\x00\x00\x00", "音视频或二进制文件"),
        (b"MZ", "可执行程序"),
        (b"\x7FELF", "可执行程序"),
    ];
    for (magic, what) in known {
        if starts(magic) {
            return Err(ReadError::NotSpreadsheet((*what).into()));
        }
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    if head.starts_with("<!doctype html")
        || head.starts_with("<html")
        || head.starts_with("<table")
        || (head.starts_with("<?xml") && head.contains("urn:schemas-microsoft-com:office"))
        || head.contains("<html")
    {
        return Err(ReadError::Html);
    }
    if bytes.is_empty() {
        return Err(ReadError::Empty("".into()));
    }
    Ok(Kind::Text)
}

/// Cells by row, before header detection. `merges` are 0-based, inclusive, relative to
/// `rows[0]`'s origin (row index = line - 1).
struct Grid {
    name: String,
    format: SourceFormat,
    /// (line, cells) in line order; may contain blank rows unless `no_blank_rows`.
    rows: Vec<(usize, Vec<Cell>)>,
    /// Blank rows were left out as they were read (a CSV's, on the threads that read it):
    /// looking again touched every row's first cell once more, on one core.
    no_blank_rows: bool,
    merges: Vec<(usize, usize, usize, usize)>,
    warnings: Vec<String>,
}

fn from_data(d: &Data) -> Cell {
    match d {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Int(*i),
        Data::Float(f) => Cell::Float(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(v) if !dt.is_duration() => Cell::DateTime(v),
            _ => Cell::Float(dt.as_f64()),
        },
        Data::DateTimeIso(s) => chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map(|d| d.and_time(chrono::NaiveTime::MIN))
            })
            .map(Cell::DateTime)
            .unwrap_or_else(|_| Cell::Text(s.clone())),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

fn range_to_grid(
    name: String,
    format: SourceFormat,
    range: &calamine::Range<Data>,
    merges: Vec<calamine::Dimensions>,
    limits: &Limits,
) -> Result<Grid, ReadError> {
    let Some((r0, c0)) = range.start() else {
        return Err(ReadError::Empty(name));
    };
    let (r1, c1) = range.end().unwrap_or((r0, c0));
    if r1 as u64 + 1 > limits.max_rows as u64 {
        return Err(ReadError::TooManyRows {
            rows: r1 as u64 + 1,
            max: limits.max_rows,
        });
    }
    if c1 as u64 + 1 > limits.max_columns as u64 {
        return Err(ReadError::TooManyColumns {
            columns: c1 as u64 + 1,
            max: limits.max_columns,
        });
    }
    // Columns are kept absolute (index 0 = column A) so merges and messages line up.
    let c0 = c0 as usize;
    let rows = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let mut v = vec![Cell::Empty; c0];
            v.extend(cells.iter().map(from_data));
            (r0 as usize + i + 1, v)
        })
        .collect();
    let merges = merges
        .iter()
        .map(|d| {
            (
                d.start.0 as usize,
                d.start.1 as usize,
                d.end.0 as usize,
                d.end.1 as usize,
            )
        })
        .collect();
    Ok(Grid {
        name,
        format,
        rows,
        no_blank_rows: false,
        merges,
        warnings: Vec::new(),
    })
}

fn first_visible(sheets: &[calamine::Sheet]) -> Result<String, ReadError> {
    sheets
        .iter()
        .find(|s| s.visible == SheetVisible::Visible && s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or(ReadError::NoVisibleSheet)
}

/// calamine asserts on some malformed files instead of returning an error (found by fuzzing:
/// an .xls whose sector table points past its end); a hostile upload must get the same clear
/// refusal as any other damaged file, not a crashed request.
fn without_panics(load: impl FnOnce() -> Result<Grid, ReadError>) -> Result<Grid, ReadError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(load)).unwrap_or_else(|_| {
        Err(ReadError::Corrupt(
            "文件内部结构有误，解析时出错".to_string(),
        ))
    })
}

fn load_xlsx(bytes: &[u8], limits: &Limits) -> Result<Grid, ReadError> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| ReadError::Corrupt(format!("xlsx结构有误（{e}）")))?;
    let name = first_visible(wb.sheets_metadata())?;
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| ReadError::Corrupt(format!("工作表「{name}」无法读取（{e}）")))?;
    let merges = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
    range_to_grid(name, SourceFormat::Xlsx, &range, merges, limits)
}

fn load_xls(bytes: &[u8], limits: &Limits) -> Result<Grid, ReadError> {
    let mut wb: Xls<_> = Xls::new(Cursor::new(bytes)).map_err(|e| match e {
        calamine::XlsError::Password => ReadError::Encrypted,
        calamine::XlsError::Cfb(_) => ReadError::Corrupt(format!("xls结构有误（{e}）")),
        other => {
            // An OLE container that is not a BIFF workbook: an encrypted .xlsx, a .doc, ...
            let s = other.to_string();
            if bytes
                .windows(32)
                .any(|w| w == utf16("EncryptedPackage").as_slice())
            {
                ReadError::Encrypted
            } else if bytes
                .windows(24)
                .any(|w| w == utf16("WordDocument").as_slice())
            {
                ReadError::NotSpreadsheet("Word文档（.doc）".into())
            } else {
                ReadError::Corrupt(format!("xls结构有误（{s}）"))
            }
        }
    })?;
    let name = first_visible(wb.sheets_metadata())?;
    let range = wb
        .worksheet_range(&name)
        .map_err(|e| ReadError::Corrupt(format!("工作表「{name}」无法读取（{e}）")))?;
    let merges = wb.merge_cells_by_sheet_name(&name).unwrap_or_default();
    range_to_grid(name, SourceFormat::Xls, &range, merges, limits)
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// Decode CSV bytes: BOMs first (UTF-8, UTF-16), then strict UTF-8, then GB18030 (a
/// superset of GBK, what Excel's "CSV" writes on Chinese Windows). UTF-8 without a BOM is
/// borrowed: a county roster is 80 MB, and copying it bought nothing.
fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), ReadError> {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(ReadError::Encoding);
        }
        let label = match enc.name() {
            "UTF-8" => "UTF-8 (BOM)",
            "UTF-16LE" => "UTF-16LE",
            _ => "UTF-16BE",
        };
        return Ok((text, label));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((Cow::Borrowed(s), "UTF-8"));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(ReadError::Encoding);
    }
    Ok((text, "GB18030"))
}

fn looks_binary(text: &str) -> bool {
    let sample: Vec<char> = text.chars().take(4096).collect();
    let control = sample
        .iter()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    control * 20 > sample.len().max(1) || sample.contains(&'\u{FFFD}')
}

/// Pick the delimiter (tab, comma, semicolon) whose count per line is most consistent over
/// the first lines, ignoring quoted parts roughly.
fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(30)
        .collect();
    let mut best = (b',', 0usize, 0usize);
    for d in [b'\t', b',', b';'] {
        let counts: Vec<usize> = lines
            .iter()
            .map(|l| {
                let mut in_q = false;
                l.bytes()
                    .filter(|&b| {
                        if b == b'"' {
                            in_q = !in_q;
                        }
                        b == d && !in_q
                    })
                    .count()
            })
            .collect();
        let mut freq = std::collections::HashMap::new();
        for &c in counts.iter().filter(|&&c| c > 0) {
            *freq.entry(c).or_insert(0usize) += 1;
        }
        let (mode, lines_agreeing) = freq
            .into_iter()
            .max_by_key(|&(c, n)| (n, c))
            .unwrap_or((0, 0));
        if (lines_agreeing, mode) > (best.1, best.2) {
            best = (d, lines_agreeing, mode);
        }
    }
    best.0
}

fn load_csv(bytes: &[u8], file_name: &str, limits: &Limits) -> Result<Grid, ReadError> {
    let (text, encoding) = decode(bytes)?;
    if looks_binary(&text) {
        return Err(ReadError::NotSpreadsheet("二进制文件".into()));
    }
    let delimiter = sniff_delimiter(&text);
    let rows = csv_rows(&text, delimiter, limits, csv_threads(text.len()))?;
    let stem = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .rsplit_once('.')
        .map_or(file_name, |(s, _)| s);
    Ok(Grid {
        name: stem.to_string(),
        format: SourceFormat::Csv {
            encoding: encoding.to_string(),
            delimiter,
        },
        rows,
        no_blank_rows: true,
        merges: Vec::new(),
        warnings: Vec::new(),
    })
}

/// The records of `text` as `(Excel row, cells)`, read in up to `threads` parts at once.
fn csv_rows(
    text: &str,
    delimiter: u8,
    limits: &Limits,
    threads: usize,
) -> Result<Vec<(usize, Vec<Cell>)>, ReadError> {
    let parts = split_records(text, threads);
    let parsed: Vec<CsvPart> = if parts.len() == 1 {
        vec![parse_csv_part(text, delimiter, limits)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = parts
                .iter()
                .map(|part| s.spawn(move || parse_csv_part(part, delimiter, limits)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        })
    };
    // Each part numbered its rows from 1; in file order they continue one another, and the
    // first problem in file order is the one reported, as a single pass would.
    let mut rows = Vec::with_capacity(parsed.iter().map(|p| p.rows.len()).sum());
    let mut before = 0usize;
    for part in parsed {
        for (line, cells) in part.rows {
            let line = before + line;
            if line > limits.max_rows {
                return Err(ReadError::TooManyRows {
                    rows: line as u64,
                    max: limits.max_rows,
                });
            }
            rows.push((line, cells));
        }
        if let Some(e) = part.error {
            return Err(match e {
                ReadError::Csv { line, detail } => ReadError::Csv {
                    line: before + line,
                    detail,
                },
                ReadError::TooManyRows { rows, max } => ReadError::TooManyRows {
                    rows: before as u64 + rows,
                    max,
                },
                other => other,
            });
        }
        before += part.last_row;
    }
    Ok(rows)
}

/// Below this a CSV is read on the calling thread: starting threads would cost more.
const PARALLEL_CSV_BYTES: usize = 1 << 20;

fn csv_threads(len: usize) -> usize {
    if len < PARALLEL_CSV_BYTES {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// Cuts `text` into at most `n` runs of whole records, to be parsed side by side.
///
/// Only a file without a double quote is cut: there every line break ends a record, while a
/// quoted field may hold line breaks, and whether a given one does can only be known by
/// reading from the start. A cut falls between two non-blank lines, so each part's own row
/// numbering (which counts the blank lines before a record) continues the previous part's.
fn split_records(text: &str, n: usize) -> Vec<&str> {
    if n < 2 || text.contains('"') {
        return vec![text];
    }
    let b = text.as_bytes();
    let is_break = |c: u8| c == b'\n' || c == b'\r';
    let mut parts = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..n {
        let want = (text.len() * k / n).max(start);
        // the first line feed at or after `want` that ends a non-blank line with a single
        // LF or CRLF and is followed by a non-blank line
        let cut = (want..b.len()).find(|&i| {
            b[i] == b'\n'
                && i + 1 < b.len()
                && !is_break(b[i + 1])
                && match i.checked_sub(1).map(|j| b[j]) {
                    Some(b'\r') => i >= 2 && !is_break(b[i - 2]),
                    Some(c) => !is_break(c),
                    None => false,
                }
        });
        let Some(cut) = cut.map(|i| i + 1) else {
            break;
        };
        parts.push(&text[start..cut]);
        start = cut;
    }
    parts.push(&text[start..]);
    parts
}

/// One part of a CSV read on its own: its rows numbered from 1 within the part, the number of
/// its last row, and the problem that stopped it, if any.
struct CsvPart {
    rows: Vec<(usize, Vec<Cell>)>,
    last_row: usize,
    error: Option<ReadError>,
}

fn parse_csv_part(text: &str, delimiter: u8, limits: &Limits) -> CsvPart {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut part = CsvPart {
        rows: Vec::new(),
        last_row: 0,
        error: None,
    };
    // Excel row numbers: one per record, blank lines included (the csv crate skips them
    // and reports a record's position as where the previous one ended).
    let mut excel_row = 0usize;
    let mut record = csv::StringRecord::new();
    let raw = text.as_bytes();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                part.error = Some(ReadError::Csv {
                    line: excel_row + 1,
                    detail: format!("无法解析（{e}）"),
                });
                break;
            }
        }
        let mut at = record
            .position()
            .map_or(0, |p| p.byte() as usize)
            .min(raw.len());
        if at > 0 && raw[at - 1] == b'\r' && raw.get(at) == Some(&b'\n') {
            at += 1; // the rest of the previous record's CRLF
        }
        let blank_lines = raw[at..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .filter(|&&b| b == b'\n')
            .count();
        excel_row += 1 + blank_lines;
        if excel_row > limits.max_rows {
            part.error = Some(ReadError::TooManyRows {
                rows: excel_row as u64,
                max: limits.max_rows,
            });
            break;
        }
        let width = (0..record.len())
            .rev()
            .find(|&i| !record[i].trim().is_empty())
            .map_or(0, |i| i + 1);
        if width > limits.max_columns {
            part.error = Some(ReadError::TooManyColumns {
                columns: width as u64,
                max: limits.max_columns,
            });
            break;
        }
        if width == 0 || record.iter().take(width).all(is_blank_text) {
            continue;
        }
        // The whole record, its blank tail as empty cells: the header's width is usually
        // the record's, and a row as wide as the header is not padded out later on one
        // core. A record with more fields than a sheet may have columns keeps only its
        // cells up to the last one filled (checked against the limit above).
        let fields = if record.len() <= limits.max_columns {
            record.len()
        } else {
            width
        };
        let mut cells = Vec::with_capacity(fields);
        cells.extend(record.iter().take(width).map(|f| {
            if f.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(f.to_string())
            }
        }));
        cells.resize(fields, Cell::Empty);
        part.rows.push((excel_row, cells));
    }
    part.last_row = excel_row;
    part
}

/// Rows scanned for the header.
const HEADER_SCAN_ROWS: usize = 10;

fn col_letter(mut c: usize) -> String {
    let mut s = Vec::new();
    c += 1;
    while c > 0 {
        s.push(b'A' + ((c - 1) % 26) as u8);
        c = (c - 1) / 26;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn header_text(c: &Cell) -> String {
    match c {
        Cell::Text(s) => normalize_text(s),
        Cell::Empty => String::new(),
        other => other.display(),
    }
}

/// One way to read the header: names per column and the spec assignment it gives.
struct HeaderChoice {
    index: usize,
    score: usize,
    headers: Vec<String>,
    assigned: Vec<(usize, usize)>, // (spec index, column)
}

fn evaluate(
    upper: Option<&[String]>,
    lower: &[String],
    specs: &[ColumnSpec],
    index: usize,
) -> HeaderChoice {
    let width = upper.map_or(0, |u| u.len()).max(lower.len());
    let get = |v: &[String], c: usize| v.get(c).cloned().unwrap_or_default();
    // forward-fill group labels in the upper row (CSV has no merge information)
    let mut up: Vec<String> = (0..width)
        .map(|c| upper.map(|u| get(u, c)).unwrap_or_default())
        .collect();
    if upper.is_some() {
        for c in 1..width {
            if up[c].is_empty()
                && !get(lower, c).is_empty()
                && !up[c - 1].is_empty()
                && !get(lower, c - 1).is_empty()
                && up[c - 1] != get(lower, c - 1)
            {
                up[c] = up[c - 1].clone();
            }
        }
    }
    let sole: Vec<String> = (0..width)
        .map(|c| {
            let l = get(lower, c);
            if l.is_empty() { up[c].clone() } else { l }
        })
        .collect();
    let joined: Vec<Option<String>> = (0..width)
        .map(|c| {
            let l = get(lower, c);
            (!l.is_empty() && !up[c].is_empty() && up[c] != l).then(|| format!("{}/{}", up[c], l))
        })
        .collect();

    let names: Vec<Vec<String>> = specs
        .iter()
        .map(|s| {
            std::iter::once(&s.name)
                .chain(&s.aliases)
                .map(|n| normalize_header(n))
                .collect()
        })
        .collect();
    let sole_n: Vec<String> = sole.iter().map(|s| normalize_header(s)).collect();
    let joined_n: Vec<Option<String>> = joined
        .iter()
        .map(|j| j.as_deref().map(normalize_header))
        .collect();
    let mut taken = vec![false; width];
    let mut assigned = Vec::new();
    let mut via_joined = vec![false; width];
    for pass in 0..2 {
        for (si, ns) in names.iter().enumerate() {
            if assigned.iter().any(|&(s, _)| s == si) {
                continue;
            }
            let hit = (0..width).find(|&c| {
                !taken[c]
                    && match pass {
                        0 => joined_n[c].as_ref().is_some_and(|j| ns.contains(j)),
                        _ => !sole_n[c].is_empty() && ns.contains(&sole_n[c]),
                    }
            });
            if let Some(c) = hit {
                taken[c] = true;
                via_joined[c] = pass == 0;
                assigned.push((si, c));
            }
        }
    }
    let headers: Vec<String> = (0..width)
        .map(|c| {
            let dup = sole.iter().filter(|s| **s == sole[c]).count() > 1;
            match &joined[c] {
                Some(j) if via_joined[c] || dup => j.clone(),
                _ => sole[c].clone(),
            }
        })
        .collect();
    let score = if specs.is_empty() {
        // distinct names that look like names (not numbers or dates: those are data)
        let looks_like_data = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_digit() || " .,:-/+E".contains(c))
        };
        let mut distinct: Vec<&String> = (0..width)
            .map(|c| joined[c].as_ref().unwrap_or(&sole[c]))
            .filter(|s| !s.is_empty() && !looks_like_data(s))
            .collect();
        distinct.sort();
        distinct.dedup();
        distinct.len()
    } else {
        assigned.len()
    };
    HeaderChoice {
        index,
        score,
        headers,
        assigned,
    }
}

fn build_sheet(mut grid: Grid, specs: &[ColumnSpec], limits: &Limits) -> Result<Sheet, ReadError> {
    // Fill merged regions with their top-left value, within the cells that exist.
    if !grid.merges.is_empty() {
        let first_line = grid.rows.first().map_or(1, |r| r.0);
        let idx = |line: usize| line.checked_sub(first_line);
        for &(r0, c0, r1, c1) in grid.merges.iter().take(100_000) {
            let Some(top) = idx(r0 + 1).and_then(|i| grid.rows.get(i)) else {
                continue;
            };
            let value = top.1.get(c0).cloned().unwrap_or(Cell::Empty);
            if value.is_blank() {
                continue;
            }
            for line in (r0 + 1)..=(r1 + 1) {
                let Some(row) = idx(line).and_then(|i| grid.rows.get_mut(i)) else {
                    break;
                };
                let last = c1.min(limits.max_columns.saturating_sub(1));
                if row.1.len() <= last {
                    row.1.resize(last + 1, Cell::Empty);
                }
                for cell in &mut row.1[c0..=last] {
                    if cell.is_blank() {
                        *cell = value.clone();
                    }
                }
            }
        }
    }
    let rows: Vec<(usize, Vec<Cell>)> = if grid.no_blank_rows {
        grid.rows
    } else {
        grid.rows
            .into_iter()
            .filter(|(_, cells)| !cells.iter().all(Cell::is_blank))
            .collect()
    };
    if rows.is_empty() {
        return Err(ReadError::Empty(grid.name));
    }

    let texts: Vec<Vec<String>> = rows
        .iter()
        .take(HEADER_SCAN_ROWS)
        .map(|(_, cells)| {
            let mut v: Vec<String> = cells.iter().map(header_text).collect();
            while v.last().is_some_and(String::is_empty) {
                v.pop();
            }
            v
        })
        .collect();
    let mut best: Option<HeaderChoice> = None;
    for i in 0..texts.len() {
        let mut consider = |choice: HeaderChoice| {
            if best.as_ref().is_none_or(|b| choice.score > b.score) {
                best = Some(choice);
            }
        };
        consider(evaluate(None, &texts[i], specs, i));
        if i > 0 && rows[i].0 == rows[i - 1].0 + 1 {
            consider(evaluate(Some(&texts[i - 1]), &texts[i], specs, i));
        }
    }
    let best = best.expect("at least one row");
    let header_row = rows[best.index].0;
    let width = best.headers.len();
    let headers: Vec<String> = best
        .headers
        .iter()
        .enumerate()
        .map(|(c, h)| {
            if h.is_empty() {
                format!("{}列", col_letter(c))
            } else {
                h.clone()
            }
        })
        .collect();

    let mut warnings = grid.warnings;
    let missing: Vec<String> = specs
        .iter()
        .enumerate()
        .filter(|(si, s)| s.required && !best.assigned.iter().any(|(a, _)| a == si))
        .map(|(_, s)| s.name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(ReadError::MissingColumns {
            header_row,
            missing,
            found: best
                .headers
                .iter()
                .filter(|h| !h.is_empty())
                .cloned()
                .collect(),
        });
    }
    if !specs.is_empty() {
        for (c, h) in best.headers.iter().enumerate() {
            if !h.is_empty() && !best.assigned.iter().any(|&(_, col)| col == c) {
                warnings.push(format!(
                    "第{header_row}行{}列「{h}」不是本表需要的列，已忽略",
                    col_letter(c)
                ));
            }
        }
    }

    let mut outside = 0usize;
    let data: Vec<Row> = rows
        .into_iter()
        .skip(best.index + 1)
        .map(|(line, mut cells)| {
            if cells.iter().skip(width).any(|c| !c.is_blank()) {
                outside += 1;
                if outside <= 5 {
                    warnings.push(format!("第{line}行在表头范围以外还有内容，已忽略"));
                }
            }
            cells.resize(width, Cell::Empty);
            Row { line, cells }
        })
        .collect();
    if outside > 5 {
        warnings.push(format!("共{outside}行在表头范围以外还有内容，已忽略"));
    }
    let columns = best
        .assigned
        .iter()
        .map(|&(si, c)| (specs[si].name.clone(), c))
        .collect();
    Ok(Sheet {
        name: grid.name,
        header_row,
        headers,
        rows: data,
        columns,
        warnings,
        format: grid.format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(s: &str, specs: &[ColumnSpec]) -> Result<Sheet, ReadError> {
        read_table_with(s.as_bytes(), "t.csv", specs, &Limits::default())
    }

    /// Blank rows (empty fields, spaces, full-width spaces, zero-width characters) are left
    /// out while reading, the rest keep their Excel row numbers, and every row is as wide
    /// as the header whether its last fields are blank, missing or beyond the header.
    #[test]
    fn blank_rows_are_left_out_and_rows_padded_to_the_header() {
        let text = "姓名,身份证号,备注\n张三,1,\n,,\n\u{3000}, ,\u{200B}\n李四,2,x,,\n王五\n";
        let sheet = csv(text, &[]).unwrap();
        let rows: Vec<(usize, Vec<String>)> = sheet
            .rows
            .iter()
            .map(|r| (r.line, r.cells.iter().map(Cell::display).collect()))
            .collect();
        let row = |line: usize, cells: [&str; 3]| (line, cells.map(String::from).to_vec());
        assert_eq!(
            rows,
            vec![
                row(2, ["张三", "1", ""]),
                row(5, ["李四", "2", "x"]),
                row(6, ["王五", "", ""]),
            ]
        );
        assert!(sheet.warnings.is_empty(), "{:?}", sheet.warnings);
    }

    /// A CSV read in parts gives the same rows, numbered the same, as one read straight
    /// through: blank lines (LF and CRLF) next to the cuts, a blank run at the end, short rows.
    #[test]
    fn parts_read_like_one_pass() {
        let mut text = String::from("姓名,身份证号,备注\n");
        for i in 0..300 {
            let end = if i % 7 == 0 { "\r\n" } else { "\n" };
            text.push_str(&format!(
                "人{i},{i:018},{}{end}",
                if i % 3 == 0 { "" } else { "x" }
            ));
            if i % 11 == 0 {
                text.push_str(if i % 2 == 0 { "\n\n" } else { "\r\n" });
            }
            if i % 13 == 0 {
                text.push_str(",,\n");
            }
        }
        text.push_str("\n\n");
        let limits = Limits::default();
        let whole = csv_rows(&text, b',', &limits, 1).unwrap();
        for threads in [2, 3, 4, 7, 50] {
            let parts = split_records(&text, threads);
            assert!(parts.len() > 1, "{threads} threads");
            assert_eq!(parts.concat(), text);
            assert_eq!(
                csv_rows(&text, b',', &limits, threads).unwrap(),
                whole,
                "{threads} threads"
            );
        }
        // the counted rows still end where the file's lines end: the last row kept is the
        // one before the blank ",," row (299 is a multiple of 13) and the two blank lines
        let last = whole.last().unwrap().0;
        assert_eq!(last, text.matches('\n').count() - 3);
        assert!(whole.iter().all(|(_, cells)| !cells.is_empty()));

        // mostly blank lines: wherever a part would start, one is near
        let blanks: String = (0..200)
            .map(|i| format!("r{i},x\n{}", if i % 2 == 0 { "\n\n\n" } else { "\r\n\r\n" }))
            .collect();
        let whole = csv_rows(&blanks, b',', &limits, 1).unwrap();
        let before_last = &blanks[..blanks.find("r199").unwrap()];
        assert_eq!(whole[199].0, before_last.matches('\n').count() + 1);
        for threads in [2, 5, 9, 40] {
            assert_eq!(
                csv_rows(&blanks, b',', &limits, threads).unwrap(),
                whole,
                "{threads} threads"
            );
        }
    }

    #[test]
    fn parts_report_the_first_problem_in_file_order() {
        let mut text = String::new();
        for i in 0..100 {
            text.push_str(&format!("a{i},b\n"));
        }
        let limits = Limits {
            max_rows: 60,
            ..Limits::default()
        };
        for threads in [1, 2, 4] {
            assert_eq!(
                csv_rows(&text, b',', &limits, threads).unwrap_err(),
                ReadError::TooManyRows { rows: 61, max: 60 },
                "{threads} threads"
            );
        }
        let mut wide = text.clone();
        wide.push_str(&",".repeat(300));
        wide.push_str("x\n");
        let limits = Limits::default();
        for threads in [1, 2, 4] {
            assert!(
                matches!(
                    csv_rows(&wide, b',', &limits, threads),
                    Err(ReadError::TooManyColumns { columns: 301, .. })
                ),
                "{threads} threads"
            );
        }
    }

    /// A quoted field may hold a line break, so a file with quotes is never cut.
    #[test]
    fn quoted_files_are_read_in_one_part() {
        let text = "a,\"line\nbreak\"\nb,c\nd,e\n".repeat(50);
        assert_eq!(split_records(&text, 4), [text.as_str()]);
        let rows = csv_rows(&text, b',', &Limits::default(), 4).unwrap();
        assert_eq!(rows.len(), 150);
        assert_eq!(rows[0].1[1], Cell::Text("line\nbreak".into()));
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n"), b'\t');
        assert_eq!(sniff_delimiter("a;b;c\n1;2,5;3\n"), b';');
        assert_eq!(sniff_delimiter("a,b\n\"x,y\",2\n"), b',');
    }

    #[test]
    fn title_and_header_with_specs() {
        let specs = [
            ColumnSpec::required("姓名"),
            ColumnSpec::required("身份证号").alias("公民身份号码"),
            ColumnSpec::optional("备注"),
        ];
        let s = csv(
            "X乡2023年低保名册,,\n\n*姓名,公民身份号码（必填）,联系 电话\n张三,430102199001011234,\n\n李四,430102199001011235,1\n",
            &specs,
        )
        .unwrap();
        assert_eq!(s.header_row, 3);
        assert_eq!(s.col("身份证号"), Some(1));
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[1].line, 6);
        assert!(
            s.warnings.iter().any(|w| w.contains("联系 电话")),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn missing_required_listed_once() {
        let specs = [
            ColumnSpec::required("姓名"),
            ColumnSpec::required("身份证号"),
            ColumnSpec::required("户号"),
        ];
        let e = csv("姓名,电话\n张三,1\n", &specs).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("第1行表头缺少必填列：身份证号、户号"), "{msg}");
    }

    #[test]
    fn two_row_header_csv() {
        let specs = [
            ColumnSpec::required("序号"),
            ColumnSpec::required("户主姓名").alias("户主/姓名"),
            ColumnSpec::required("成员姓名").alias("家庭成员/姓名"),
            ColumnSpec::required("成员身份证号").alias("家庭成员/身份证号"),
        ];
        let s = csv(
            "序号,户主,家庭成员,\n,姓名,姓名,身份证号\n1,张三,张小三,430102201001011234\n",
            &specs,
        )
        .unwrap();
        assert_eq!(s.header_row, 2);
        assert_eq!(
            s.headers,
            ["序号", "户主/姓名", "家庭成员/姓名", "家庭成员/身份证号"]
        );
        assert_eq!(s.col("成员身份证号"), Some(3));
    }

    #[test]
    fn no_specs_heuristic() {
        let s = csv("花名册\n姓名,年龄\n张三,3\n", &[]).unwrap();
        assert_eq!(s.headers, ["姓名", "年龄"]);
        assert_eq!(s.header_row, 2);
    }

    #[test]
    fn utf16_and_binary() {
        let mut b = vec![0xFF, 0xFE];
        b.extend(utf16("姓名\t年龄\r\n张三\t3\r\n"));
        let s = read_table(&b, "x.txt", &Limits::default()).unwrap();
        assert_eq!(s.headers, ["姓名", "年龄"]);
        let e = read_table(
            &[1, 2, 3, 0, 0, 5, 6, 7, 200, 201],
            "x.csv",
            &Limits::default(),
        );
        assert!(matches!(
            e,
            Err(ReadError::NotSpreadsheet(_)) | Err(ReadError::Encoding)
        ));
    }

    #[test]
    fn html_disguised_as_xls() {
        let e = read_table(
            b"<html><table><tr><td>1</td></tr></table></html>",
            "a.xls",
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!(e, ReadError::Html);
    }
}
