//! PDF writer: render through typst, read the text back with pdftotext.

mod common;

use std::process::Command;
use std::sync::OnceLock;

use common::{NASTY, sample_document, seed_document, seed_text, squash, strip_page_numbers};
use xiangzhi_document::{Block, Document, Error, Inline, PdfConfig, PdfRenderer, RenderOptions};

/// One renderer for all tests: fonts are scanned once.
fn renderer() -> &'static PdfRenderer {
    static R: OnceLock<PdfRenderer> = OnceLock::new();
    R.get_or_init(|| {
        PdfRenderer::new(&PdfConfig::default()).unwrap_or_else(|e| {
            panic!("{e}\n(install the fonts: apt-get install -y fonts-noto-cjk fonts-arphic-ukai fonts-arphic-uming)")
        })
    })
}

/// Text of a PDF via pdftotext, or None (with a message) when it is absent.
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    match Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(o) if o.status.success() => Some(String::from_utf8(o.stdout).expect("utf-8")),
        Ok(o) => panic!("pdftotext failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => {
            println!("SKIPPED text check: pdftotext not found (apt-get install poppler-utils)");
            None
        }
    }
}

fn pdfinfo(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let o = Command::new("pdfinfo").arg(&path).output().ok()?;
    assert!(
        o.status.success(),
        "pdfinfo failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Some(String::from_utf8_lossy(&o.stdout).into_owned())
}

fn page_count(pdf: &[u8]) -> Option<usize> {
    let info = pdfinfo(pdf)?;
    let line = info.lines().find(|l| l.starts_with("Pages:"))?;
    line["Pages:".len()..].trim().parse().ok()
}

#[test]
fn no_cjk_font_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    let err = PdfRenderer::new(&PdfConfig {
        font_dirs: vec![empty.path().to_owned()],
        system_fonts: false,
    })
    .err()
    .expect("no fonts, no renderer");
    assert!(matches!(err, Error::NoCjkFont { .. }));
    let msg = err.to_string();
    assert!(msg.contains("未找到可用的中文字体"), "{msg}");
    assert!(msg.contains(&empty.path().display().to_string()), "{msg}");
}

#[test]
fn seed_text_comes_back_and_page_is_a4() {
    let text = seed_text();
    let mut doc = seed_document(&text);
    doc.blocks.insert(
        1,
        Block::Paragraph(vec![
            Inline::text("全年完成财税"),
            Inline::figure(
                "1200万元",
                Some("https://xz.example/indicators/tax?period=2023"),
            ),
            Inline::text("，新增纳入监测户"),
            Inline::missing("新增监测户数"),
            Inline::text("。"),
        ]),
    );
    let pdf = renderer().render(&doc).expect("render seed");
    assert!(pdf.starts_with(b"%PDF-"));

    // A4 = 595.28 × 841.89 pt.
    match pdfinfo(&pdf) {
        Some(info) => {
            let size = info
                .lines()
                .find(|l| l.starts_with("Page size:"))
                .expect("page size line");
            let nums: Vec<f64> = size
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            assert!(
                (nums[0] - 595.28).abs() < 0.01 && (nums[1] - 841.89).abs() < 0.01,
                "{size}"
            );
            let pages = page_count(&pdf).unwrap();
            assert!(
                pages >= 5,
                "the seed is a multi-page document, got {pages} pages"
            );
        }
        None => {
            println!("SKIPPED page size check: pdfinfo not found (apt-get install poppler-utils)")
        }
    }

    let Some(out) = pdftotext(&pdf) else { return };
    let (got, page_numbers) = strip_page_numbers(&squash(&out));
    let pages = out.split('\u{c}').filter(|p| !p.trim().is_empty()).count();
    assert_eq!(
        page_numbers,
        (1..=pages as u32).collect::<Vec<_>>(),
        "one — n — per page"
    );
    assert!(got.contains(&squash(&doc.title)), "title");
    assert!(got.contains("一、2023年工作总结"), "numbered heading");
    assert!(got.contains("（一）坚持稳中求进基调，开创高质量发展新局面"));
    assert!(got.contains("二、2024年工作计划"));
    assert!(got.contains("全年完成财税1200万元，新增纳入监测户【缺数据：新增监测户数】。"));
    for block in &doc.blocks {
        if let Block::Paragraph(inl) = block {
            let p: String = inl.iter().map(Inline::display_text).collect();
            assert!(got.contains(&squash(&p)), "paragraph lost: {p}");
        }
    }
    assert!(got.contains("X乡人民政府2024年1月5日"));
}

#[test]
fn special_characters_are_printed_literally() {
    let mut doc = Document::new(format!("标题{NASTY}"));
    doc.blocks.push(Block::heading(1, NASTY));
    doc.blocks.push(Block::Paragraph(vec![
        Inline::text(NASTY),
        Inline::text("；"),
        Inline::figure(NASTY, Some("https://xz.example/a?b=\"1\"&c=\\")),
        Inline::missing(NASTY),
    ]));
    doc.blocks
        .push(Block::paragraph("= 不是标题\n- 不是列表\n+ 1. 也不是"));
    doc.blocks.push(Block::Table {
        caption: Some(NASTY.into()),
        header: vec![NASTY.into(), "b".into()],
        rows: vec![vec!["#pagebreak()".into(), "]".into()]],
    });
    let markup = renderer().markup(&doc, &RenderOptions::default());
    let pdf = renderer()
        .render(&doc)
        .unwrap_or_else(|e| panic!("{e}\n--- markup ---\n{markup}"));
    if let Some(n) = page_count(&pdf) {
        assert_eq!(n, 1, "#pagebreak() in a cell must not break the page");
    }
    let Some(out) = pdftotext(&pdf) else { return };
    let got = squash(&out);
    let nasty = squash(NASTY);
    assert!(got.contains(&format!("一、{nasty}")), "heading: {got}");
    assert!(
        got.contains(&format!("{nasty}；{nasty}【缺数据：{nasty}】")),
        "paragraph: {got}"
    );
    assert!(got.contains("=不是标题-不是列表+1.也不是"), "{got}");
    assert!(got.contains("#pagebreak()"), "{got}");
}

#[test]
fn missing_marker_and_numbering_in_pdf() {
    let pdf = renderer()
        .render(&sample_document())
        .expect("render sample");
    let Some(out) = pdftotext(&pdf) else { return };
    let got = squash(&out);
    assert!(got.contains("【缺数据：新增监测户数】"));
    for h in [
        "一、2023年工作总结",
        "1.种植业",
        "（1）粮食",
        "（2）蔬菜",
        "2.养殖业",
        "（二）坚持惠民生增福祉",
        "二、2024年工作计划",
    ] {
        assert!(got.contains(h), "{h} missing in {got}");
    }
    assert!(got.contains("低保边缘家庭814"), "table cells: {got}");
}

#[test]
fn characters_without_any_font_are_an_error() {
    let mut doc = Document::new("测试");
    // U+0378 is unassigned: no font has a glyph for it.
    doc.blocks.push(Block::paragraph("户主姓名：张\u{378}"));
    match renderer().render(&doc) {
        Err(Error::MissingGlyphs(chars)) => {
            assert_eq!(chars, "\u{378}");
            assert!(Error::MissingGlyphs(chars).to_string().contains("没有字形"));
        }
        other => panic!("expected MissingGlyphs, got {:?}", other.map(|b| b.len())),
    }
}

#[test]
fn links_are_in_the_pdf() {
    let pdf = renderer().render(&sample_document()).unwrap();
    let raw = String::from_utf8_lossy(&pdf);
    assert!(
        raw.contains("https://xz.example/indicators/grain_area?period=2023"),
        "URI annotation for the figure's provenance"
    );
}
