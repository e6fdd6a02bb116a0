//! Writers checked by reading their output back with the readers.

use std::io::Read;

use chrono::NaiveDate;
use xiangzhi_exchange::write::{
    CsvExport, TemplateColumn, TemplateSpec, XlsxExport, error_report_xlsx, template_xlsx,
};
use xiangzhi_exchange::{Cell, ColumnSpec, Limits, RowError, convert, read_table, read_table_with};

fn zip_part(bytes: &[u8], name: &str) -> String {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    z.by_name(name).unwrap().read_to_string(&mut s).unwrap();
    s
}

fn template() -> TemplateSpec {
    let villages: Vec<String> = (1..=60).map(|i| format!("第{i}村民委员会")).collect();
    TemplateSpec {
        sheet_name: "低保名册".into(),
        title: Some("X乡2024年低保名册".into()),
        columns: vec![
            TemplateColumn::new("户号").derived(),
            TemplateColumn::new("姓名").required(),
            TemplateColumn::new("身份证号").required().as_text(),
            TemplateColumn::new("性别").choices(&["男", "女"]),
            TemplateColumn {
                choices: villages,
                ..TemplateColumn::new("所属村").required()
            },
            TemplateColumn::new("备注").note("其他需要说明的情况"),
        ],
        rows: vec![
            vec![
                Cell::from("H001"),
                Cell::from("张三"),
                Cell::from("430102199001011234"),
            ],
            vec![Cell::from("H002")],
        ],
        instructions: vec!["每户一行。".into()],
        input_rows: 200,
    }
}

#[test]
fn template_reads_back_with_same_headers() {
    let spec = template();
    let bytes = template_xlsx(&spec).unwrap();
    let s = read_table(&bytes, "模板.xlsx", &Limits::default()).unwrap();
    assert_eq!(s.name, "低保名册");
    assert_eq!(s.header_row, 2, "title row above the header");
    let expected: Vec<String> = spec.columns.iter().map(TemplateColumn::header).collect();
    assert_eq!(s.headers, expected);
    assert_eq!(s.headers[1], "*姓名");
    // pre-filled rows come back; the ID stays text
    assert_eq!(s.rows.len(), 2);
    assert_eq!(s.rows[0].cells[2], Cell::from("430102199001011234"));
    // and the specs match through the "*" markers
    let specs = [
        ColumnSpec::required("户号"),
        ColumnSpec::required("姓名"),
        ColumnSpec::required("身份证号"),
        ColumnSpec::optional("性别"),
        ColumnSpec::required("所属村"),
        ColumnSpec::optional("备注"),
    ];
    let s = read_table_with(&bytes, "模板.xlsx", &specs, &Limits::default()).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.col("身份证号"), Some(2));
}

#[test]
fn template_structure() {
    let bytes = template_xlsx(&template()).unwrap();
    let wb = zip_part(&bytes, "xl/workbook.xml");
    // data sheet, instructions, hidden options sheet for the long list
    assert!(wb.contains(r#"name="低保名册""#));
    assert!(wb.contains(r#"name="填表说明""#));
    assert!(
        wb.contains(r#"name="选项" sheetId="3" state="hidden""#),
        "{wb}"
    );
    let sheet = zip_part(&bytes, "xl/worksheets/sheet1.xml");
    // short list inline, long list on the hidden sheet
    assert!(sheet.contains("<formula1>\"男,女\"</formula1>"), "{sheet}");
    assert!(sheet.contains("'选项'!$A$1:$A$60"), "{sheet}");
    // protection on, because of the derived column
    assert!(sheet.contains("<sheetProtection"), "{sheet}");
    assert!(sheet.contains("<mergeCell ref=\"A1:F1\"/>"));
    assert!(sheet.contains("state=\"frozen\""));
    // input cells are unlocked, the derived column is not
    let styles = zip_part(&bytes, "xl/styles.xml");
    assert!(styles.contains("locked=\"0\""), "{styles}");
    let opts = zip_part(&bytes, "xl/worksheets/sheet3.xml");
    assert!(
        opts.contains("第60村民委员会")
            || zip_part(&bytes, "xl/sharedStrings.xml").contains("第60村民委员会")
    );
    let _ = opts;
}

#[test]
fn xlsx_export_reads_back_and_neutralises() {
    let mut x = XlsxExport::new(
        "导出",
        &["姓名", "身份证号", "人数", "金额", "日期", "备注"],
    )
    .unwrap();
    let date = NaiveDate::from_ymd_opt(2023, 1, 5).unwrap();
    x.write_row(&[
        Cell::from("张三"),
        Cell::from("430102199001011234"),
        Cell::Int(3),
        Cell::Float(1200.5),
        Cell::from(date),
        Cell::from("=cmd|' /C calc'!A0"),
    ])
    .unwrap();
    for i in 0..500 {
        x.write_row(&[
            Cell::from(format!("居民{i}")),
            Cell::Int(430102199001011234),
            Cell::Int(i),
            Cell::Empty,
            Cell::Empty,
            Cell::from("-1+2"),
        ])
        .unwrap();
    }
    assert_eq!(x.rows_written(), 501);
    let bytes = x.finish().unwrap();
    let s = read_table(&bytes, "导出.xlsx", &Limits::default()).unwrap();
    assert_eq!(
        s.headers,
        ["姓名", "身份证号", "人数", "金额", "日期", "备注"]
    );
    assert_eq!(s.rows.len(), 501);
    let r = &s.rows[0];
    assert_eq!(r.line, 2);
    assert_eq!(
        convert::id_text(&r.cells[1]).unwrap().as_deref(),
        Some("430102199001011234")
    );
    assert_eq!(convert::int(&r.cells[2]).unwrap(), Some(3));
    assert_eq!(convert::date(&r.cells[4]).unwrap(), Some(date));
    // the formula is text with a leading quote, never a formula
    assert_eq!(r.cells[5], Cell::from("'=cmd|' /C calc'!A0"));
    assert_eq!(s.rows[1].cells[5], Cell::from("'-1+2"));
    // long integers are written as text, so no digit is lost
    assert_eq!(
        convert::id_text(&s.rows[1].cells[1]).unwrap().as_deref(),
        Some("430102199001011234")
    );
    let sheet = zip_part(&bytes, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>"), "no formulas written");
    assert!(sheet.contains("state=\"frozen\""));
    // CJK header width counted double: "身份证号" is 8, the ID 18
    assert!(
        sheet.contains("<cols>"),
        "{}",
        &sheet[..400.min(sheet.len())]
    );
}

#[test]
fn csv_export_reads_back() {
    let mut c = CsvExport::new(Vec::new(), &["姓名", "备注", "金额"]).unwrap();
    c.write_row(&[
        Cell::from("张三"),
        Cell::from("@SUM(1+1)*cmd|' /C calc'!A0"),
        Cell::Float(12.5),
    ])
    .unwrap();
    c.write_row(&[Cell::from("李,四"), Cell::from("多\n行"), Cell::Int(3)])
        .unwrap();
    let bytes = c.finish().unwrap();
    let s = read_table(&bytes, "导出.csv", &Limits::default()).unwrap();
    assert_eq!(
        s.format,
        xiangzhi_exchange::SourceFormat::Csv {
            encoding: "UTF-8 (BOM)".into(),
            delimiter: b','
        }
    );
    assert_eq!(s.headers, ["姓名", "备注", "金额"]);
    assert_eq!(
        s.rows[0].cells[1],
        Cell::from("'@SUM(1+1)*cmd|' /C calc'!A0")
    );
    assert_eq!(s.rows[1].cells[0], Cell::from("李,四"));
    assert_eq!(
        s.rows[1].line, 3,
        "a quoted newline does not add an Excel row"
    );
}

#[test]
fn error_report_marks_bad_cells() {
    let csv =
        "姓名,身份证号,出生日期\n张三,4.30102E+17,2023-13-01\n李四,430102199001011234,2023-01-05\n";
    let s = read_table(csv.as_bytes(), "名册.csv", &Limits::default()).unwrap();
    let mut errors = Vec::new();
    for row in &s.rows {
        if let Err(e) = s.field(row, "身份证号").parse(convert::id_text) {
            errors.push(e);
        }
        if let Err(e) = s.field(row, "出生日期").parse(convert::date) {
            errors.push(e);
        }
    }
    errors.push(RowError::new(99, "", "文件中缺少户主"));
    assert_eq!(errors.len(), 3);
    let bytes = error_report_xlsx(&s, &errors).unwrap();
    let back = read_table(&bytes, "错误.xlsx", &Limits::default()).unwrap();
    assert_eq!(back.headers, ["姓名", "身份证号", "出生日期", "错误原因"]);
    assert_eq!(back.rows.len(), 3);
    let Cell::Text(reason) = &back.rows[0].cells[3] else {
        panic!("{:?}", back.rows[0].cells)
    };
    assert!(
        reason.starts_with("「身份证号」被Excel按科学计数法保存"),
        "{reason}"
    );
    assert!(
        reason.contains("；「出生日期」不是有效的日期：「2023-13-01」"),
        "{reason}"
    );
    assert_eq!(back.rows[1].cells.get(3), Some(&Cell::Empty));
    assert_eq!(back.rows[2].cells[3], Cell::from("第99行：文件中缺少户主"));
    // the bad cells carry a red fill
    let styles = zip_part(&bytes, "xl/styles.xml");
    assert!(styles.contains("FFFFC7CE"), "{styles}");
}
