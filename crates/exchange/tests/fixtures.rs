//! Reading real files made by LibreOffice (see fixtures/make-fixtures.sh).

use std::io::Write;

use chrono::NaiveDate;
use xiangzhi_exchange::convert::{self, Decimal};
use xiangzhi_exchange::{
    Cell, ColumnSpec, Limits, ReadError, Sheet, SourceFormat, read_table, read_table_with,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn roster_specs() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::optional("序号"),
        ColumnSpec::required("户主姓名").alias("户主/姓名"),
        ColumnSpec::required("户主身份证号").alias("户主/身份证号"),
        ColumnSpec::optional("成员姓名").alias("家庭成员/姓名"),
        ColumnSpec::optional("成员身份证号").alias("家庭成员/身份证号"),
        ColumnSpec::required("联系电话").alias("手机号"),
        ColumnSpec::required("纳入日期"),
        ColumnSpec::required("保障金额"),
        ColumnSpec::required("是否残疾"),
    ]
}

fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, dd).unwrap()
}

/// The roster fixture has the same quirks in XLSX and XLS: check both the same way.
fn check_roster(s: &Sheet) {
    // hidden sheet "旧数据" comes first and is skipped
    assert_eq!(s.name, "低保名册");
    // title row 1 (merged A1:I1), group row 2, sub-header row 3
    assert_eq!(s.header_row, 3);
    assert_eq!(
        s.headers,
        [
            "序号",
            "户主/姓名",
            "户主/身份证号",
            "家庭成员/姓名",
            "家庭成员/身份证号",
            "联系电话",
            "纳入日期",
            "保障金额(元)",
            "是否残疾*"
        ]
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // blank row 5 dropped, Excel row numbers kept
    let lines: Vec<usize> = s.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 6, 7]);

    let (r4, r6, r7) = (&s.rows[0], &s.rows[1], &s.rows[2]);
    let id = |r, c: &str| s.field(r, c).parse(convert::id_text);
    // IDs as text
    assert_eq!(
        id(r4, "户主身份证号").unwrap().as_deref(),
        Some("430102199001011234")
    );
    // phone stored as a number: an exact integer, accepted
    assert_eq!(id(r4, "联系电话").unwrap().as_deref(), Some("13800138000"));
    // full-width digits and letters, stray spaces
    assert_eq!(
        id(r6, "户主身份证号").unwrap().as_deref(),
        Some("43010219850202123X")
    );
    assert_eq!(id(r6, "联系电话").unwrap().as_deref(), Some("13900139000"));
    assert_eq!(
        s.field(r6, "户主姓名")
            .parse(convert::text)
            .unwrap()
            .as_deref(),
        Some("李四")
    );
    // ID typed as a number: digits past 15 lost, refused with the reason
    let e = id(r7, "户主身份证号").unwrap_err();
    assert_eq!(e.line, 7);
    assert_eq!(e.column, "户主/身份证号");
    assert_eq!(
        e.to_string(),
        "第7行「户主/身份证号」被Excel按科学计数法保存（4.30102E+17），后几位已丢失：请把该列设为文本格式后重新录入"
    );
    // sci-notation as text (what a CSV round trip through Excel leaves)
    let e = id(r7, "成员身份证号").unwrap_err();
    assert!(e.reason.contains("（4.30102E+17）"), "{e}");
    // dates: a real date cell, a bare serial number, Chinese text
    for r in [r4, r6, r7] {
        assert_eq!(
            s.field(r, "纳入日期").parse(convert::date).unwrap(),
            Some(d(2023, 1, 5))
        );
    }
    // amounts: "1,200" text, 350.5 number, "1.5万" with the wan flag
    let amount = |r| s.field(r, "保障金额").parse(|c| convert::decimal(c, true));
    assert_eq!(amount(r4).unwrap(), Some(Decimal::from(1200)));
    assert_eq!(amount(r6).unwrap(), Some(Decimal::new(3505, 1)));
    assert_eq!(amount(r7).unwrap(), Some(Decimal::from(15000)));
    let flags: Vec<Option<bool>> = [r4, r6, r7]
        .iter()
        .map(|r| s.field(r, "是否残疾").parse(convert::bool).unwrap())
        .collect();
    assert_eq!(flags, [Some(true), Some(false), Some(true)]);
    // merged cells: nothing leaks from the title into data
    assert_eq!(convert::int(r4.get(0)).unwrap(), Some(1));
}

#[test]
fn xlsx_from_libreoffice() {
    let s = read_table_with(
        &fixture("roster.xlsx"),
        "名册.xlsx",
        &roster_specs(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(s.format, SourceFormat::Xlsx);
    check_roster(&s);
}

#[test]
fn xls_from_libreoffice() {
    let s = read_table_with(
        &fixture("roster.xls"),
        "名册.xls",
        &roster_specs(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(s.format, SourceFormat::Xls);
    check_roster(&s);
}

#[test]
fn format_detected_by_bytes_not_extension() {
    // an .xlsx named .csv and an .xls named .xlsx still read
    let s = read_table_with(
        &fixture("roster.xlsx"),
        "名册.csv",
        &roster_specs(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(s.format, SourceFormat::Xlsx);
    let s = read_table_with(
        &fixture("roster.xls"),
        "名册.xlsx",
        &roster_specs(),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(s.format, SourceFormat::Xls);
}

#[test]
fn two_row_header_without_specs() {
    let s = read_table(&fixture("roster.xlsx"), "x.xlsx", &Limits::default()).unwrap();
    assert_eq!(s.header_row, 3);
    assert_eq!(s.headers[1], "户主/姓名");
    assert_eq!(s.rows.len(), 3);
}

#[test]
fn missing_required_columns_one_error() {
    let mut specs = roster_specs();
    specs.push(ColumnSpec::required("户号"));
    specs.push(ColumnSpec::required("开户银行"));
    let e = read_table_with(
        &fixture("roster.xlsx"),
        "x.xlsx",
        &specs,
        &Limits::default(),
    )
    .unwrap_err();
    match &e {
        ReadError::MissingColumns {
            missing,
            header_row,
            ..
        } => {
            assert_eq!(missing, &["户号", "开户银行"]);
            assert_eq!(*header_row, 3);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        e.to_string()
            .starts_with("第3行表头缺少必填列：户号、开户银行。"),
        "{e}"
    );
}

#[test]
fn unknown_columns_are_warnings() {
    let specs = vec![
        ColumnSpec::required("户主姓名").alias("户主/姓名"),
        ColumnSpec::required("联系电话"),
    ];
    let s = read_table_with(
        &fixture("roster.xlsx"),
        "x.xlsx",
        &specs,
        &Limits::default(),
    )
    .unwrap();
    assert!(
        s.warnings.iter().any(|w| w.contains("「纳入日期」")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn gbk_csv() {
    let bytes = fixture("roster-gbk.csv");
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "fixture must really be GBK"
    );
    let specs = [
        ColumnSpec::required("姓名"),
        ColumnSpec::required("身份证号"),
        ColumnSpec::required("救助金额"),
        ColumnSpec::required("救助日期"),
        ColumnSpec::optional("是否低保户"),
    ];
    let s = read_table_with(&bytes, "临时救助.csv", &specs, &Limits::default()).unwrap();
    assert_eq!(
        s.format,
        SourceFormat::Csv {
            encoding: "GB18030".into(),
            delimiter: b','
        }
    );
    assert_eq!(s.name, "临时救助");
    assert_eq!(s.header_row, 2);
    let lines: Vec<usize> = s.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 4, 6]);
    let r = &s.rows;
    assert_eq!(
        s.field(&r[1], "姓名")
            .parse(convert::text)
            .unwrap()
            .as_deref(),
        Some("李四")
    );
    let e = s
        .field(&r[1], "身份证号")
        .parse(convert::id_text)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "第4行「身份证号」被Excel按科学计数法保存（4.30102E+17），后几位已丢失：请把该列设为文本格式后重新录入"
    );
    let dates: Vec<_> = r
        .iter()
        .map(|row| {
            s.field(row, "救助日期")
                .parse(convert::date)
                .unwrap()
                .unwrap()
        })
        .collect();
    assert_eq!(dates, [d(2023, 1, 5), d(2023, 1, 6), d(2023, 1, 7)]);
    let amounts: Vec<String> = r
        .iter()
        .map(|row| {
            s.field(row, "救助金额")
                .parse(|c| convert::decimal(c, false))
                .unwrap()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(amounts, ["1200", "500", "0.15"]);
    assert_eq!(
        s.field(&r[2], "是否低保户").parse(convert::bool).unwrap(),
        Some(true)
    );
}

#[test]
fn too_large_file_refused_before_parsing() {
    let limits = Limits {
        max_bytes: 1024,
        ..Limits::default()
    };
    let e = read_table(&fixture("roster.xlsx"), "x.xlsx", &limits).unwrap_err();
    assert!(matches!(e, ReadError::TooLarge { .. }), "{e:?}");
    assert!(e.to_string().starts_with("文件过大"), "{e}");
}

#[test]
fn too_many_rows_refused_from_sheet_extent() {
    let limits = Limits {
        max_rows: 5,
        ..Limits::default()
    };
    for f in ["roster.xlsx", "roster.xls"] {
        let e = read_table(&fixture(f), f, &limits).unwrap_err();
        assert_eq!(e, ReadError::TooManyRows { rows: 7, max: 5 }, "{f}");
    }
    // CSV: counted while streaming
    let e = read_table(
        &fixture("roster-gbk.csv"),
        "x.csv",
        &Limits {
            max_rows: 3,
            ..Limits::default()
        },
    )
    .unwrap_err();
    assert!(matches!(e, ReadError::TooManyRows { .. }), "{e:?}");
}

#[test]
fn too_wide_xlsx_refused_before_parsing() {
    let e = read_table(&fixture("wide.xlsx"), "wide.xlsx", &Limits::default()).unwrap_err();
    assert_eq!(
        e,
        ReadError::TooManyColumns {
            columns: 250,
            max: 200
        }
    );
    assert_eq!(
        e.to_string(),
        "表格列数过多（250列），超过上限200列：请删除多余的列后重新导入"
    );
    // and within a bigger limit it reads
    let s = read_table(
        &fixture("wide.xlsx"),
        "wide.xlsx",
        &Limits {
            max_columns: 300,
            ..Limits::default()
        },
    )
    .unwrap();
    assert_eq!(s.headers.len(), 250);
}

#[test]
fn too_wide_csv_refused() {
    let line: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
    let csv = format!("{}\n", line.join(","));
    let e = read_table(csv.as_bytes(), "x.csv", &Limits::default()).unwrap_err();
    assert!(
        matches!(e, ReadError::TooManyColumns { columns: 300, .. }),
        "{e:?}"
    );
}

fn zip_with(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, data) in entries {
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn zip_bomb_like_xlsx_refused() {
    // 40 MiB of spaces inside a worksheet: compresses about 1000:1
    let huge = vec![b' '; 40 << 20];
    let bytes = zip_with(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", &huge),
    ]);
    assert!(bytes.len() < 1 << 20);
    let e = read_table(&bytes, "bomb.xlsx", &Limits::default()).unwrap_err();
    assert_eq!(e, ReadError::Bomb);
    assert!(e.to_string().contains("压缩炸弹"));
    // below the ratio threshold, the total uncompressed limit still applies
    let limits = Limits {
        max_uncompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let small = vec![b' '; 2 << 20];
    let bytes = zip_with(&[
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", &small),
    ]);
    let e = read_table(&bytes, "bomb.xlsx", &limits).unwrap_err();
    assert!(matches!(e, ReadError::Uncompressed { .. }), "{e:?}");
}

#[test]
fn sparse_sheet_with_far_cell_refused_before_dense_range() {
    // one cell at A1 and one at XFD1048576: calamine would build a dense 17-billion-cell range
    let sheet = br#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>y</t></is></c></row></sheetData></worksheet>"#;
    let bytes = zip_with(&[
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", sheet),
    ]);
    let e = read_table(&bytes, "x.xlsx", &Limits::default()).unwrap_err();
    assert!(
        matches!(
            e,
            ReadError::TooManyRows {
                rows: 1_048_576,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn non_spreadsheets_get_clear_chinese_errors() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let e = read_table(png, "名册.xlsx", &Limits::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "该文件不是表格文件（看起来是PNG图片）：请上传Excel（.xlsx、.xls）或CSV文件"
    );
    let e = read_table(b"%PDF-1.7\n...", "a.xls", &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("PDF文档"), "{e}");
    // pseudo-random bytes
    let mut x: u32 = 12345;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let e = read_table(&noise, "a.csv", &Limits::default()).unwrap_err();
    assert!(
        matches!(e, ReadError::NotSpreadsheet(_) | ReadError::Encoding),
        "{e:?}"
    );
    assert!(e.to_string().contains("请"), "{e}");
    // a Word document (zip) is named as such
    let docx = zip_with(&[("word/document.xml", b"<w:document/>")]);
    let e = read_table(&docx, "a.xlsx", &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("Word文档"), "{e}");
    // an empty file
    let e = read_table(b"", "a.csv", &Limits::default()).unwrap_err();
    assert!(matches!(e, ReadError::Empty(_)), "{e:?}");
}

#[test]
fn cells_keep_their_kind() {
    let s = read_table(&fixture("roster.xlsx"), "x.xlsx", &Limits::default()).unwrap();
    assert!(matches!(s.rows[0].cells[6], Cell::DateTime(_)));
    assert!(matches!(s.rows[2].cells[2], Cell::Float(_)));
}

/// Found by the fuzz pass: calamine panicked on this .xls (a sector table pointing past the
/// end of the file). It is a damaged file like any other now.
#[test]
fn a_malformed_xls_that_panicked_calamine_is_refused_in_chinese() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fuzzing/corpus/table_import/xls-short-sector-panics-calamine"
    ))
    .unwrap();
    let err = xiangzhi_exchange::read_table(&bytes, "名册.xls", &Default::default()).unwrap_err();
    assert!(
        matches!(err, xiangzhi_exchange::ReadError::Corrupt(_)),
        "{err}"
    );
    assert!(err.to_string().contains("可能已损坏"), "{err}");
}
