//! The built-in annual report as files: the DOCX opens in LibreOffice and keeps the GB/T
//! 9704-2012 geometry and fonts, the typst PDF gives back the same Chinese text, and the
//! render times of the full report are printed (not asserted). Figures come from memory here
//! (the seed's values), so these tests need no database.

use std::collections::HashMap;
use std::io::{Cursor, Read};
use std::process::Command;
use std::time::Instant;

use xiangzhi_document::{PdfConfig, PdfRenderer, RenderOptions, docx};
use xiangzhi_domain::period::Period;
use xiangzhi_report::{MemorySource, builtin, parse, plain_text, render};

const TOWNSHIP: &str = "361002201";
const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

fn source() -> MemorySource {
    let s = MemorySource::new();
    s.org(TOWNSHIP, "连城乡");
    for (code, name, unit, v) in [
        ("GRAIN_AREA", "粮食种植面积", "万亩", 3.76),
        ("GRAIN_OUTPUT", "粮食产量", "万吨", 1.65),
        ("VEG_OUTPUT", "蔬菜产量", "万吨", 2.6),
        ("FRUIT_OUTPUT", "水果产量", "万吨", 0.38),
        ("MIN_LIVING_NEW_HOUSEHOLDS", "新增城乡低保户数", "户", 15.0),
        ("TEMP_RELIEF_AMOUNT", "临时救助金", "万元", 2.105),
    ] {
        s.indicator(code, name, unit, 2);
        s.set(code, TOWNSHIP, "2023", v);
        s.set(code, TOWNSHIP, "2022", v * 0.95);
    }
    s
}

async fn annual() -> xiangzhi_report::Rendered {
    let t = parse(builtin::ANNUAL.body).unwrap();
    render(&t, &source(), TOWNSHIP, &Period::parse("2023").unwrap())
        .await
        .unwrap()
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Drops the page numbers `—12—` that pdftotext prints between paragraphs (after
/// [`squash`]); returns the text and how many it found.
fn without_page_numbers(s: &str) -> (String, usize) {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    let mut found = 0;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '—' {
            let digits = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits > 0 && chars.get(i + 1 + digits) == Some(&'—') {
                found += 1;
                i += digits + 2;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    (out, found)
}

fn unzip(bytes: &[u8]) -> HashMap<String, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            (f.name().unwrap().into_owned(), s)
        })
        .collect()
}

fn tool(bin: &str) -> bool {
    Command::new(bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn docx_keeps_the_official_layout_and_converts_in_libreoffice() {
    let r = annual().await;
    let started = Instant::now();
    let bytes = docx::render_with(&r.document, &RenderOptions::default()).unwrap();
    println!(
        "DOCX of the full annual report: {} bytes in {:?}",
        bytes.len(),
        started.elapsed()
    );
    let parts = unzip(&bytes);
    let body = roxmltree::Document::parse(&parts["word/document.xml"]).unwrap();
    let node = |name: &str| {
        body.descendants()
            .find(|n| n.has_tag_name((W, name)))
            .unwrap_or_else(|| panic!("no w:{name}"))
    };
    let a = |n: roxmltree::Node, k: &str| n.attribute((W, k)).unwrap().to_owned();
    // A4, top 37 mm, left 28 mm, text block 156 × 225 mm (in twips).
    let size = node("pgSz");
    assert_eq!(
        (a(size, "w"), a(size, "h")),
        ("11906".into(), "16838".into())
    );
    let m = node("pgMar");
    assert_eq!(a(m, "top"), "2098");
    assert_eq!(a(m, "left"), "1587");
    assert_eq!(11906 - 1587 - a(m, "right").parse::<i32>().unwrap(), 8845); // 156.0 mm
    assert_eq!(16838 - 2098 - a(m, "bottom").parse::<i32>().unwrap(), 12756); // 225.0 mm
    // 22 lines per page.
    assert_eq!(a(node("docGrid"), "linePitch"), "579");
    // Body 仿宋_GB2312 3号 (16 pt = 32 half-points), title 2号 (44), page numbers 4号 (28).
    let styles = &parts["word/styles.xml"];
    assert!(styles.contains(r#"w:eastAsia="仿宋_GB2312""#));
    assert!(styles.contains(r#"<w:sz w:val="32"/>"#));
    assert!(styles.contains(r#"w:styleId="Title""#) && styles.contains(r#"<w:sz w:val="44"/>"#));
    assert!(
        styles.contains(r#"w:eastAsia="黑体""#) && styles.contains(r#"w:eastAsia="楷体_GB2312""#)
    );
    // Page numbers “— 1 —”: odd pages right, even pages left.
    for (part, jc) in [("word/footer1.xml", "right"), ("word/footer2.xml", "left")] {
        let f = &parts[part];
        assert!(
            f.contains(" PAGE ") && f.contains("— ") && f.contains(" —"),
            "{part}"
        );
        assert!(f.contains(&format!(r#"<w:jc w:val="{jc}"/>"#)), "{part}");
    }
    assert!(parts["word/settings.xml"].contains("evenAndOddHeaders"));
    // The text is the report's.
    let text: String = body
        .descendants()
        .filter(|n| n.has_tag_name((W, "t")))
        .filter_map(|n| n.text())
        .collect();
    assert!(text.contains("粮食种植面积3.76万亩"));

    if !tool("soffice") && !tool("libreoffice") {
        println!("SKIPPED LibreOffice conversion: install libreoffice-writer-nogui");
        return;
    }
    let bin = if tool("soffice") {
        "soffice"
    } else {
        "libreoffice"
    };
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("annual.docx");
    std::fs::write(&input, &bytes).unwrap();
    let out = Command::new(bin)
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("profile").display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&input)
        .output()
        .expect("run LibreOffice");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf_path = dir.path().join("annual.pdf");
    let pdf = std::fs::read(&pdf_path).expect("LibreOffice wrote a PDF");
    assert!(pdf.starts_with(b"%PDF"));
    if let Ok(o) = Command::new("pdftotext").arg(&pdf_path).arg("-").output()
        && o.status.success()
    {
        let (text, pages) = without_page_numbers(&squash(&String::from_utf8_lossy(&o.stdout)));
        assert!(pages >= 3, "page numbers printed: {pages}");
        assert!(text.contains("一、2023年工作总结"));
        assert!(text.contains("粮食种植面积3.76万亩"));
    }
}

#[tokio::test]
async fn pdf_text_extracts_back_to_the_report() {
    let r = annual().await;
    let renderer = PdfRenderer::new(&PdfConfig::default()).unwrap_or_else(|e| {
        panic!("{e}\n(install the fonts: apt-get install -y fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming)")
    });
    let started = Instant::now();
    let pdf = renderer
        .render_with(&r.document, &RenderOptions::default())
        .unwrap();
    println!(
        "PDF of the full annual report: {} bytes in {:?} (fonts already scanned)",
        pdf.len(),
        started.elapsed()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("annual.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let Ok(o) = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
    else {
        println!("SKIPPED text check: pdftotext not found (apt-get install poppler-utils)");
        return;
    };
    assert!(o.status.success());
    let (got, pages) = without_page_numbers(&squash(&String::from_utf8(o.stdout).unwrap()));
    let want = squash(&plain_text(&r.document));
    assert!(pages >= 3, "page numbers: {pages}");
    assert_eq!(got, want, "the PDF's text differs from the report's");
    // Gaps are printed as markers, never as 0.
    assert!(got.contains("【缺数据：") && !r.gaps.is_empty());
}

#[tokio::test]
async fn profile_with_table_and_chart_renders_in_every_format() {
    let s = source();
    s.org("361002201211", "头昌村");
    s.set("GRAIN_OUTPUT", "361002201211", "2023", 0.13)
        .set("GRAIN_OUTPUT", "361002201211", "2022", 0.12)
        .set("VEG_OUTPUT", "361002201211", "2023", 0.21)
        .set("FRUIT_OUTPUT", "361002201211", "2023", 0.03);
    let t = parse(builtin::VILLAGE_PROFILE.body).unwrap();
    let r = render(&t, &s, "361002201211", &Period::parse("2023").unwrap())
        .await
        .unwrap();
    let renderer = PdfRenderer::new(&PdfConfig::default()).unwrap();
    let pdf = renderer.render(&r.document).unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let parts = unzip(&docx::render(&r.document).unwrap());
    assert!(parts["word/document.xml"].contains("■■■■■■■■■■"));
    let html = xiangzhi_document::html::render(&r.document);
    assert!(html.contains("<table>") && html.contains("■■"));
    assert!(
        html.contains(
            "class=\"figure\" href=\"/indicators/GRAIN_OUTPUT?org=361002201211&amp;period=2023\""
        ),
        "{html}"
    );
    assert!(html.contains("<mark class=\"missing\">【缺数据："));
}
