//! DOCX writer: unzip the produced file and check the XML.

mod common;

use std::collections::HashMap;
use std::io::{Cursor, Read};

use common::{NASTY, sample_document, seed_document, seed_text, squash};
use roxmltree::{Document as Xml, Node};
use xiangzhi_document::{Block, Document, Inline, RenderOptions, docx};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fn unzip(bytes: &[u8]) -> HashMap<String, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("valid zip");
    let mut parts = HashMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        parts.insert(f.name().expect("utf-8 name").into_owned(), s);
    }
    parts
}

fn parts_of(doc: &Document) -> HashMap<String, String> {
    unzip(&docx::render(doc).expect("render docx"))
}

fn attr<'a>(n: Node<'a, '_>, name: &str) -> &'a str {
    n.attribute((W, name))
        .unwrap_or_else(|| panic!("w:{name} missing on {:?}", n.tag_name()))
}

fn find<'a, 'i>(xml: &'a Xml<'i>, name: &str) -> Node<'a, 'i> {
    xml.descendants()
        .find(|n| n.has_tag_name((W, name)))
        .unwrap_or_else(|| panic!("no w:{name}"))
}

/// Text of a paragraph (all w:t, in order).
fn para_text(p: Node) -> String {
    p.descendants()
        .filter(|n| n.has_tag_name((W, "t")))
        .filter_map(|n| n.text())
        .collect()
}

fn para_style<'a>(p: Node<'a, '_>) -> Option<&'a str> {
    p.children()
        .find(|n| n.has_tag_name((W, "pPr")))?
        .children()
        .find(|n| n.has_tag_name((W, "pStyle")))?
        .attribute((W, "val"))
}

fn rels(parts: &HashMap<String, String>) -> HashMap<String, (String, String, Option<String>)> {
    let x = Xml::parse(&parts["word/_rels/document.xml.rels"]).unwrap();
    x.descendants()
        .filter(|n| n.has_tag_name("Relationship"))
        .map(|n| {
            (
                n.attribute("Id").unwrap().to_owned(),
                (
                    n.attribute("Type").unwrap().to_owned(),
                    n.attribute("Target").unwrap().to_owned(),
                    n.attribute("TargetMode").map(str::to_owned),
                ),
            )
        })
        .collect()
}

#[test]
fn all_parts_present_and_well_formed() {
    let parts = parts_of(&sample_document());
    for name in [
        "[Content_Types].xml",
        "_rels/.rels",
        "docProps/core.xml",
        "docProps/app.xml",
        "word/document.xml",
        "word/_rels/document.xml.rels",
        "word/styles.xml",
        "word/settings.xml",
        "word/fontTable.xml",
        "word/footer1.xml",
        "word/footer2.xml",
    ] {
        let xml = parts
            .get(name)
            .unwrap_or_else(|| panic!("part {name} missing"));
        Xml::parse(xml).unwrap_or_else(|e| panic!("{name} is not well-formed: {e}"));
    }
    // Every part is declared in [Content_Types].xml.
    let ct = &parts["[Content_Types].xml"];
    for name in [
        "document",
        "styles",
        "settings",
        "fontTable",
        "footer1",
        "footer2",
    ] {
        assert!(
            ct.contains(&format!("/word/{name}.xml")),
            "{name} not in content types"
        );
    }
}

#[test]
fn page_geometry_follows_gbt_9704() {
    let parts = parts_of(&sample_document());
    let x = Xml::parse(&parts["word/document.xml"]).unwrap();
    let pg = find(&x, "pgSz");
    assert_eq!((attr(pg, "w"), attr(pg, "h")), ("11906", "16838"));
    let m = find(&x, "pgMar");
    // 37 mm, 28 mm, 26 mm, 35 mm in twips (mm × 1440 / 25.4).
    assert_eq!(attr(m, "top"), "2098");
    assert_eq!(attr(m, "left"), "1587");
    assert_eq!(attr(m, "right"), "1474");
    assert_eq!(attr(m, "bottom"), "1984");
    // 版心 156 mm × 225 mm.
    let tw = 11906 - 1587 - 1474;
    let th = 16838 - 2098 - 1984;
    assert!((tw as f64 * 25.4 / 1440.0 - 156.0).abs() < 0.1);
    assert!((th as f64 * 25.4 / 1440.0 - 225.0).abs() < 0.1);
    let g = find(&x, "docGrid");
    assert_eq!(attr(g, "type"), "linesAndChars");
    assert_eq!(attr(g, "linePitch"), "579");
    assert_eq!(attr(g, "charSpace"), "-842");
    // 22 lines fit, 23 do not; 28 characters fit, 29 do not.
    assert!(
        (22 * 579..23 * 579).contains(&th),
        "22 lines fit, 23 do not"
    );
    let pitch_pt = 16.0 + (-842.0 / 4096.0);
    assert!(28.0 * pitch_pt <= tw as f64 / 20.0 && 29.0 * pitch_pt > tw as f64 / 20.0);
}

#[test]
fn fonts_and_sizes() {
    let parts = parts_of(&sample_document());
    let s = Xml::parse(&parts["word/styles.xml"]).unwrap();
    let defaults = find(&s, "docDefaults");
    let sz = defaults
        .descendants()
        .find(|n| n.has_tag_name((W, "sz")))
        .unwrap();
    assert_eq!(attr(sz, "val"), "32", "body 3号 = 16 pt = sz 32");
    let fonts = defaults
        .descendants()
        .find(|n| n.has_tag_name((W, "rFonts")))
        .unwrap();
    assert_eq!(attr(fonts, "eastAsia"), "仿宋_GB2312");

    let style = |id: &str| {
        s.descendants()
            .find(|n| n.has_tag_name((W, "style")) && n.attribute((W, "styleId")) == Some(id))
            .unwrap_or_else(|| panic!("style {id}"))
    };
    let child_val = |n: Node, name: &str| {
        n.descendants()
            .find(|c| c.has_tag_name((W, name)))
            .and_then(|c| c.attribute((W, "val")).or(c.attribute((W, "eastAsia"))))
            .map(str::to_owned)
    };
    // The grid is computed from the Normal style's size (LibreOffice reads
    // it there, not from docDefaults).
    assert_eq!(child_val(style("Normal"), "sz").as_deref(), Some("32"));
    let title = style("Title");
    assert_eq!(
        child_val(title, "sz").as_deref(),
        Some("44"),
        "title 2号 = 22 pt"
    );
    assert_eq!(child_val(title, "jc").as_deref(), Some("center"));
    assert_eq!(
        child_val(title, "rFonts").as_deref(),
        Some("方正小标宋简体")
    );
    assert_eq!(
        child_val(style("Heading1"), "rFonts").as_deref(),
        Some("黑体")
    );
    assert_eq!(
        child_val(style("Heading2"), "rFonts").as_deref(),
        Some("楷体_GB2312")
    );
    assert_eq!(
        child_val(style("Heading3"), "rFonts").as_deref(),
        Some("仿宋_GB2312")
    );
    assert!(
        style("Heading3")
            .descendants()
            .any(|n| n.has_tag_name((W, "b")))
    );
    assert!(
        !style("Heading4")
            .descendants()
            .any(|n| n.has_tag_name((W, "b")))
    );
    let ind = style("Body")
        .descendants()
        .find(|n| n.has_tag_name((W, "ind")))
        .unwrap();
    assert_eq!(
        attr(ind, "firstLineChars"),
        "200",
        "first-line indent 2 characters"
    );

    // Fallbacks: 仿宋_GB2312 → 仿宋 → FangSong.
    let ft = Xml::parse(&parts["word/fontTable.xml"]).unwrap();
    let alt = |name: &str| {
        ft.descendants()
            .find(|n| n.has_tag_name((W, "font")) && n.attribute((W, "name")) == Some(name))
            .and_then(|n| n.descendants().find(|c| c.has_tag_name((W, "altName"))))
            .map(|c| attr(c, "val").to_owned())
    };
    assert_eq!(alt("仿宋_GB2312").as_deref(), Some("仿宋"));
    assert_eq!(alt("仿宋").as_deref(), Some("FangSong"));
}

#[test]
fn even_and_odd_page_number_footers() {
    let parts = parts_of(&sample_document());
    assert!(parts["word/settings.xml"].contains("<w:evenAndOddHeaders/>"));
    let x = Xml::parse(&parts["word/document.xml"]).unwrap();
    let rels = rels(&parts);
    let mut seen = HashMap::new();
    for fr in x
        .descendants()
        .filter(|n| n.has_tag_name((W, "footerReference")))
    {
        let rid = fr.attribute((R, "id")).unwrap();
        let (ty, target, _) = &rels[rid];
        assert!(ty.ends_with("/footer"));
        seen.insert(attr(fr, "type").to_owned(), target.clone());
    }
    assert_eq!(seen.len(), 2, "default (odd) and even footers: {seen:?}");
    for (kind, align, indent_attr) in [("default", "right", "right"), ("even", "left", "left")] {
        let footer = &parts[&format!("word/{}", seen[kind])];
        let f = Xml::parse(footer).unwrap();
        assert_eq!(
            attr(find(&f, "jc"), "val"),
            align,
            "{kind} footer alignment"
        );
        assert_eq!(
            attr(find(&f, "ind"), indent_attr),
            "280",
            "one 4号 character indent"
        );
        let instr: String = f
            .descendants()
            .filter(|n| n.has_tag_name((W, "instrText")))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(instr.trim(), "PAGE");
        let text = para_text(find(&f, "p"));
        assert_eq!(text, "— 1 —");
    }
    let st = Xml::parse(&parts["word/styles.xml"]).unwrap();
    let footer_style = st
        .descendants()
        .find(|n| n.attribute((W, "styleId")) == Some("Footer"))
        .unwrap();
    let sz = footer_style
        .descendants()
        .find(|n| n.has_tag_name((W, "sz")))
        .unwrap();
    assert_eq!(attr(sz, "val"), "28", "page numbers 4号 = 14 pt");
    let rf = footer_style
        .descendants()
        .find(|n| n.has_tag_name((W, "rFonts")))
        .unwrap();
    assert_eq!(attr(rf, "eastAsia"), "宋体");
}

#[test]
fn headings_are_numbered() {
    let parts = parts_of(&sample_document());
    let x = Xml::parse(&parts["word/document.xml"]).unwrap();
    let headings: Vec<(String, String)> = x
        .descendants()
        .filter(|n| n.has_tag_name((W, "p")))
        .filter_map(|p| {
            let s = para_style(p)?;
            s.starts_with("Heading")
                .then(|| (s.to_owned(), para_text(p)))
        })
        .collect();
    let expect = [
        ("Heading1", "一、2023年工作总结"),
        ("Heading2", "（一）坚持稳中求进基调，开创高质量发展新局面"),
        ("Heading3", "1.种植业"),
        ("Heading4", "（1）粮食"),
        ("Heading4", "（2）蔬菜"),
        ("Heading3", "2.养殖业"),
        ("Heading2", "（二）坚持惠民生增福祉，民生事业发展新篇章"),
        ("Heading3", "1.低保"),
        ("Heading1", "二、2024年工作计划"),
        ("Heading2", "（一）行富民强民之举，务经济发展之实"),
    ];
    let got: Vec<(&str, &str)> = headings
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(got, expect);
}

#[test]
fn figure_links_become_external_hyperlinks() {
    let parts = parts_of(&sample_document());
    let x = Xml::parse(&parts["word/document.xml"]).unwrap();
    let links: Vec<Node> = x
        .descendants()
        .filter(|n| n.has_tag_name((W, "hyperlink")))
        .collect();
    assert_eq!(links.len(), 1, "only the figure with a link");
    assert_eq!(para_text(links[0]), "3.76万亩");
    let rid = links[0].attribute((R, "id")).unwrap();
    let (ty, target, mode) = &rels(&parts)[rid];
    assert!(ty.ends_with("/hyperlink"));
    assert_eq!(
        target,
        "https://xz.example/indicators/grain_area?period=2023"
    );
    assert_eq!(mode.as_deref(), Some("External"));
}

#[test]
fn relative_and_unsafe_links() {
    let mut doc = Document::new("t");
    doc.blocks.push(Block::Paragraph(vec![
        Inline::figure("12户", Some("/records/household?id=1&x=2")),
        Inline::figure("3人", Some("javascript:alert(1)")),
    ]));
    // Without a base URL a relative link is no hyperlink, and never an unsafe one.
    let parts = parts_of(&doc);
    assert!(!parts["word/document.xml"].contains("w:hyperlink"));
    assert!(!parts["word/_rels/document.xml.rels"].contains("javascript"));
    // With a base URL it becomes absolute, with & escaped in the XML.
    let opts = RenderOptions {
        base_url: Some("https://xz.example/".into()),
    };
    let parts = unzip(&docx::render_with(&doc, &opts).unwrap());
    let rels = rels(&parts);
    let targets: Vec<&String> = rels
        .values()
        .filter(|r| r.0.ends_with("/hyperlink"))
        .map(|r| &r.1)
        .collect();
    assert_eq!(
        targets,
        [&"https://xz.example/records/household?id=1&x=2".to_owned()]
    );
    assert!(parts["word/_rels/document.xml.rels"].contains("id=1&amp;x=2"));
}

#[test]
fn xml_special_characters_are_escaped() {
    let mut doc = Document::new(format!("标题{NASTY}"));
    doc.issuer = Some(NASTY.into());
    doc.blocks.push(Block::heading(1, NASTY));
    doc.blocks.push(Block::Paragraph(vec![
        Inline::text(NASTY),
        Inline::figure(NASTY, Some("https://xz.example/a?b=<1>&c=\"2\"")),
        Inline::missing(NASTY),
        Inline::text("控制字符\u{1}\u{8}被删除"),
    ]));
    doc.blocks.push(Block::Table {
        caption: Some(NASTY.into()),
        header: vec![NASTY.into()],
        rows: vec![vec![NASTY.into()]],
    });
    let parts = parts_of(&doc);
    for (name, xml) in &parts {
        Xml::parse(xml).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let raw = &parts["word/document.xml"];
    assert!(raw.contains("A&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;"));
    let x = Xml::parse(raw).unwrap();
    let texts: Vec<String> = x
        .descendants()
        .filter(|n| n.has_tag_name((W, "p")))
        .map(para_text)
        .collect();
    assert_eq!(texts[0], format!("标题{NASTY}"));
    assert!(texts.contains(&format!("一、{NASTY}")));
    assert!(texts.contains(&format!("{NASTY}{NASTY}【缺数据：{NASTY}】控制字符被删除")));
    assert!(
        texts.iter().filter(|t| *t == NASTY).count() >= 4,
        "caption, header, cell, issuer"
    );
    let core = Xml::parse(&parts["docProps/core.xml"]).unwrap();
    assert!(
        core.descendants()
            .any(|n| n.text() == Some(&format!("标题{NASTY}")))
    );
}

#[test]
fn missing_marker_is_red_bold_and_highlighted() {
    let parts = parts_of(&sample_document());
    let x = Xml::parse(&parts["word/document.xml"]).unwrap();
    let run = x
        .descendants()
        .filter(|n| n.has_tag_name((W, "r")))
        .find(|r| para_text(*r) == "【缺数据：新增监测户数】")
        .expect("missing marker run");
    let rpr = run
        .children()
        .find(|n| n.has_tag_name((W, "rPr")))
        .expect("rPr");
    let has = |name: &str| rpr.children().find(|n| n.has_tag_name((W, name)));
    assert!(has("b").is_some());
    assert_eq!(attr(has("color").unwrap(), "val"), "FF0000");
    assert_eq!(attr(has("highlight").unwrap(), "val"), "yellow");
    assert!(
        !parts["word/document.xml"].contains(">0<"),
        "never printed as 0"
    );
}

#[test]
fn tables_are_padded_and_have_header_rows() {
    let parts = parts_of(&sample_document());
    let x = Xml::parse(&parts["word/document.xml"]).unwrap();
    let tbl = find(&x, "tbl");
    let rows: Vec<Node> = tbl
        .children()
        .filter(|n| n.has_tag_name((W, "tr")))
        .collect();
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(
            r.children().filter(|n| n.has_tag_name((W, "tc"))).count(),
            3
        );
    }
    assert!(
        rows[0]
            .descendants()
            .any(|n| n.has_tag_name((W, "tblHeader")))
    );
    // A section must not end with a table: something follows it.
    assert!(tbl.next_sibling_element().is_some());
}

fn soffice() -> Option<&'static str> {
    ["soffice", "libreoffice"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    })
}

/// Convert the seed document with LibreOffice: the DOCX must open and
/// convert to a non-empty PDF that contains the text.
#[test]
fn libreoffice_converts_docx_to_pdf() {
    let Some(bin) = soffice() else {
        println!("SKIPPED: soffice not found; install libreoffice-writer-nogui to run this test");
        return;
    };
    let mut doc = seed_document(&seed_text());
    doc.blocks.insert(
        2,
        Block::Paragraph(vec![
            Inline::text("缺口："),
            Inline::missing("新增监测户数"),
        ]),
    );
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("seed.docx");
    std::fs::write(&input, docx::render(&doc).unwrap()).unwrap();
    let profile = format!("file://{}", dir.path().join("profile").display());
    let out = std::process::Command::new(bin)
        .arg(format!("-env:UserInstallation={profile}"))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&input)
        .output()
        .expect("run soffice");
    assert!(
        out.status.success(),
        "soffice failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pdf_path = dir.path().join("seed.pdf");
    let pdf = std::fs::read(&pdf_path).unwrap_or_else(|e| {
        panic!(
            "no PDF written ({e}); soffice said: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        pdf.starts_with(b"%PDF") && pdf.len() > 10_000,
        "PDF of {} bytes",
        pdf.len()
    );
    // When pdftotext is there, the Chinese text must come back.
    match std::process::Command::new("pdftotext")
        .arg(&pdf_path)
        .arg("-")
        .output()
    {
        Ok(o) if o.status.success() => {
            let text = squash(&String::from_utf8_lossy(&o.stdout));
            assert!(
                text.contains("一、2023年工作总结"),
                "heading lost: {}",
                &text[..text.len().min(400)]
            );
            assert!(text.contains("【缺数据：新增监测户数】"));
            assert!(text.contains("—2—"), "page numbers");
        }
        _ => println!("pdftotext not found: text of the LibreOffice PDF not checked"),
    }
}
