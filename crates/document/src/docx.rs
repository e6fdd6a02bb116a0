//! DOCX writer: minimal, valid WordprocessingML written by hand into a zip.
//!
//! Layout follows GB/T 9704-2012 《党政机关公文格式》:
//! A4 paper, 版心 156 mm × 225 mm with top margin 37 mm and left margin 28 mm,
//! body text 仿宋_GB2312 3号 (16 pt), 22 lines of 28 characters per page,
//! title 方正小标宋简体 2号 (22 pt), headings 黑体 / 楷体_GB2312 / 仿宋_GB2312,
//! page numbers `— 1 —` in 宋体 4号 (14 pt), odd pages right (右空一字),
//! even pages left (左空一字).
//!
//! Parts written: `[Content_Types].xml`, `_rels/.rels`, `docProps/core.xml`,
//! `docProps/app.xml`, `word/document.xml`, `word/_rels/document.xml.rels`,
//! `word/styles.xml`, `word/settings.xml` (with `evenAndOddHeaders`),
//! `word/fontTable.xml` (font fallbacks through `w:altName`),
//! `word/footer1.xml` (odd pages) and `word/footer2.xml` (even pages).

use std::fmt::Write as _;
use std::io::{Cursor, Write as _};

use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

use crate::{Block, Document, Error, Inline, RenderOptions, missing_marker};

// ---------------------------------------------------------------------------
// Page geometry (all in twips: 1 twip = 1/20 pt = 1/1440 inch = 25.4/1440 mm).

/// Millimetres to twips, rounded: mm × 1440 / 25.4 = mm × 14400 / 254.
const fn mm_to_twips(mm: u32) -> u32 {
    (mm * 14400 + 127) / 254
}

/// A4 = 210 mm × 297 mm = 11906 × 16838 twips (Word's own values).
pub const PAGE_WIDTH: u32 = 11906;
pub const PAGE_HEIGHT: u32 = 16838;
/// 天头 37 mm → 2098 twips.
pub const MARGIN_TOP: u32 = mm_to_twips(37);
/// 订口 28 mm → 1587 twips.
pub const MARGIN_LEFT: u32 = mm_to_twips(28);
/// 210 − 28 − 156 = 26 mm → 1474 twips.
pub const MARGIN_RIGHT: u32 = mm_to_twips(26);
/// 297 − 37 − 225 = 35 mm → 1984 twips.
pub const MARGIN_BOTTOM: u32 = mm_to_twips(35);
/// Text block width: 11906 − 1587 − 1474 = 8845 twips (156.03 mm).
pub const TEXT_WIDTH: u32 = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
/// Text block height: 16838 − 2098 − 1984 = 12756 twips (225.0 mm).
pub const TEXT_HEIGHT: u32 = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM;
/// Lines per page and characters per line (GB/T 9704-2012 §5.2.2).
pub const LINES_PER_PAGE: u32 = 22;
pub const CHARS_PER_LINE: u32 = 28;
/// w:linePitch is in twips: 12756 / 22 = 579.8 → 579 (rounded down so that
/// 22 lines always fit).
pub const LINE_PITCH: u32 = TEXT_HEIGHT / LINES_PER_PAGE;
/// Body font size in points (3号).
pub const BODY_PT: u32 = 16;
/// w:charSpace = (desired character pitch − Normal font size) × 4096, in
/// points (ECMA-376 §17.6.5):
///   desired pitch = 8845 twips / 20 / 28 = 442.25 pt / 28 = 15.7946 pt,
///   (15.7946 − 16) × 4096 = −841.1 → −842 (rounded down so that 28
///   characters always fit). Computed exactly in integers as
///   8845 × 4096 / (20 × 28) − 16 × 4096 = 64694 − 65536 = −842.
pub const CHAR_SPACE: i64 =
    (TEXT_WIDTH as i64 * 4096) / (20 * CHARS_PER_LINE as i64) - (BODY_PT as i64) * 4096;
/// Character spacing of every run, in twentieths of a point: −6 = −0.3 pt.
/// Word and WPS lay 16 pt characters on the 15.79 pt grid pitch above.
/// LibreOffice instead puts each character into whole grid cells of
/// 16 pt + charSpace ≈ 15.73 pt, so an unspaced 16 pt character would take
/// two cells (14 characters a line); at 15.7 pt it takes one. In Word the
/// pitch still decides: 442.25 pt / (15.7 − 0.2) pt = 28.5 → 28 a line.
const RUN_SPACING: i32 = -6;
/// Page numbers: 4号 = 14 pt = 280 twips; one character of indent.
const FOOTER_CHAR: u32 = 280;
/// GB/T 9704 §7.5: the 一字线 of the page number sits 7 mm below the text
/// block, i.e. its top is 35 − 7 = 28 mm above the paper's bottom edge. The
/// footer line is exactly 14 pt high, so the footer's bottom (w:footer, the
/// distance from the paper edge) is 28 mm − 14 pt = 1587 − 280 = 1307 twips.
const FOOTER_DISTANCE: u32 = mm_to_twips(28) - FOOTER_CHAR;

// Font sizes in half-points (w:sz).
const SZ_BODY: u32 = BODY_PT * 2; // 3号 16 pt → 32
const SZ_TITLE: u32 = 44; // 2号 22 pt
const SZ_PAGE_NUMBER: u32 = 28; // 4号 14 pt
const SZ_TABLE: u32 = 28; // 4号 in tables so that several columns fit

const FANGSONG: &str = "仿宋_GB2312";
const XIAOBIAOSONG: &str = "方正小标宋简体";
const HEITI: &str = "黑体";
const KAITI: &str = "楷体_GB2312";
const SONGTI: &str = "宋体";

/// Font fallbacks written to fontTable.xml as `w:altName` (Word and
/// LibreOffice use the alternate name when the font is not installed).
const FONT_TABLE: &[(&str, &str, &str)] = &[
    // (name, altName, pitch)
    (FANGSONG, "仿宋", "fixed"),
    ("仿宋", "FangSong", "fixed"),
    (XIAOBIAOSONG, "宋体", "variable"),
    (HEITI, "SimHei", "variable"),
    (KAITI, "楷体", "fixed"),
    ("楷体", "KaiTi", "fixed"),
    (SONGTI, "SimSun", "variable"),
];

const NS_W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const NS_R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// Render a document to DOCX bytes. Relative provenance links are printed
/// as plain figures; use [`render_with`] and a base URL to keep them.
pub fn render(doc: &Document) -> Result<Vec<u8>, Error> {
    render_with(doc, &RenderOptions::default())
}

/// Render a document to DOCX bytes with options.
pub fn render_with(doc: &Document, opts: &RenderOptions) -> Result<Vec<u8>, Error> {
    let mut links = Vec::new();
    let body = document_xml(doc, opts, &mut links);

    let parts: [(&str, String); 11] = [
        ("[Content_Types].xml", content_types()),
        ("_rels/.rels", root_rels()),
        ("docProps/core.xml", core_xml(doc)),
        ("docProps/app.xml", app_xml()),
        ("word/document.xml", body),
        ("word/_rels/document.xml.rels", document_rels(&links)),
        ("word/styles.xml", styles_xml()),
        ("word/settings.xml", settings_xml()),
        ("word/fontTable.xml", font_table_xml()),
        ("word/footer1.xml", footer_xml(true)),
        ("word/footer2.xml", footer_xml(false)),
    ];

    let zip_err = |e: &dyn std::fmt::Display| Error::Zip(e.to_string());
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, xml) in parts {
        zip.start_file(name, options).map_err(|e| zip_err(&e))?;
        zip.write_all(xml.as_bytes()).map_err(|e| zip_err(&e))?;
    }
    let cursor = zip.finish().map_err(|e| zip_err(&e))?;
    Ok(cursor.into_inner())
}

// ---------------------------------------------------------------------------
// Escaping

/// Escape text for XML element content and attribute values, dropping
/// characters that XML 1.0 forbids (C0 controls other than tab/LF/CR).
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Make a link usable as a relationship target: characters that are not
/// allowed in a URI are percent-encoded (non-ASCII is kept, as an IRI).
fn encode_uri(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' | '"' | '<' | '>' | '\\' | '^' | '`' | '{' | '|' | '}' => {
                let _ = write!(out, "%{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Package parts

fn content_types() -> String {
    let ct = "application/vnd.openxmlformats-officedocument.wordprocessingml";
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="{ct}.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="{ct}.styles+xml"/><Override PartName="/word/settings.xml" ContentType="{ct}.settings+xml"/><Override PartName="/word/fontTable.xml" ContentType="{ct}.fontTable+xml"/><Override PartName="/word/footer1.xml" ContentType="{ct}.footer+xml"/><Override PartName="/word/footer2.xml" ContentType="{ct}.footer+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>"#
    )
}

fn root_rels() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/></Relationships>"#
    )
}

fn core_xml(doc: &Document) -> String {
    let creator = doc
        .issuer
        .as_deref()
        .map(|i| format!("<dc:creator>{}</dc:creator>", escape_xml(i)))
        .unwrap_or_default();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{}</dc:title>{creator}<dc:language>zh-CN</dc:language></cp:coreProperties>"#,
        escape_xml(&doc.title)
    )
}

fn app_xml() -> String {
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>xiangzhi</Application></Properties>"#
        .to_owned()
}

/// Fixed relationship ids; hyperlinks are numbered after these.
const RID_STYLES: &str = "rId1";
const RID_SETTINGS: &str = "rId2";
const RID_FONTS: &str = "rId3";
const RID_FOOTER_ODD: &str = "rId4";
const RID_FOOTER_EVEN: &str = "rId5";
const FIRST_LINK_RID: usize = 6;

fn document_rels(links: &[String]) -> String {
    let mut x = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for (id, kind, target) in [
        (RID_STYLES, "styles", "styles.xml"),
        (RID_SETTINGS, "settings", "settings.xml"),
        (RID_FONTS, "fontTable", "fontTable.xml"),
        (RID_FOOTER_ODD, "footer", "footer1.xml"),
        (RID_FOOTER_EVEN, "footer", "footer2.xml"),
    ] {
        let _ = write!(
            x,
            r#"<Relationship Id="{id}" Type="{REL}/{kind}" Target="{target}"/>"#
        );
    }
    for (i, url) in links.iter().enumerate() {
        let _ = write!(
            x,
            r#"<Relationship Id="rId{}" Type="{REL}/hyperlink" Target="{}" TargetMode="External"/>"#,
            FIRST_LINK_RID + i,
            escape_xml(&encode_uri(url))
        );
    }
    x.push_str("</Relationships>");
    x
}

fn rfonts(name: &str) -> String {
    format!(
        r#"<w:rFonts w:ascii="{name}" w:eastAsia="{name}" w:hAnsi="{name}" w:cs="{name}" w:hint="eastAsia"/>"#
    )
}

fn styles_xml() -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="{NS_W}"><w:docDefaults><w:rPrDefault><w:rPr>{fs}<w:spacing w:val="{RUN_SPACING}"/><w:kern w:val="2"/><w:sz w:val="{SZ_BODY}"/><w:szCs w:val="{SZ_BODY}"/><w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/></w:rPr></w:rPrDefault><w:pPrDefault><w:pPr><w:widowControl w:val="0"/><w:jc w:val="both"/></w:pPr></w:pPrDefault></w:docDefaults>"#,
        fs = rfonts(FANGSONG)
    );
    // Normal: no indent, so that tables, title and footers start clean. Its
    // font size must be explicit: the character grid is computed from the
    // Normal style's size (ECMA-376 §17.6.5), and LibreOffice falls back to
    // 12 pt otherwise, which puts every 16 pt character on two grid cells.
    let _ = write!(
        x,
        r#"<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/><w:rPr><w:sz w:val="{SZ_BODY}"/><w:szCs w:val="{SZ_BODY}"/></w:rPr></w:style>"#
    );
    x.push_str(r#"<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont"><w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/><w:unhideWhenUsed/></w:style>"#);
    // Body text: first line indented by two characters (GB/T 9704 §7.3.3).
    x.push_str(r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="Body"><w:name w:val="公文正文"/><w:basedOn w:val="Normal"/><w:qFormat/><w:pPr><w:ind w:firstLineChars="200" w:firstLine="640"/></w:pPr></w:style>"#);
    let _ = write!(
        x,
        r#"<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Body"/><w:qFormat/><w:pPr><w:jc w:val="center"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr>{}<w:snapToGrid w:val="0"/><w:sz w:val="{SZ_TITLE}"/><w:szCs w:val="{SZ_TITLE}"/></w:rPr></w:style>"#,
        rfonts(XIAOBIAOSONG)
    );
    let _ = write!(
        x,
        r#"<w:style w:type="paragraph" w:styleId="Subtitle"><w:name w:val="Subtitle"/><w:basedOn w:val="Normal"/><w:next w:val="Body"/><w:qFormat/><w:pPr><w:jc w:val="center"/></w:pPr><w:rPr>{}<w:snapToGrid w:val="0"/></w:rPr></w:style>"#,
        rfonts(KAITI)
    );
    // Title, subtitle, tables and page numbers are not body text: their
    // characters keep their natural width (rPr snapToGrid = 0) instead of
    // the 3号 character grid.
    // Headings: level 1 黑体, level 2 楷体_GB2312, level 3 仿宋 bold,
    // level 4 仿宋; all 3号 and indented like body text.
    for (level, font, bold) in [
        (1, HEITI, false),
        (2, KAITI, false),
        (3, FANGSONG, true),
        (4, FANGSONG, false),
    ] {
        let b = if bold { "<w:b/><w:bCs/>" } else { "" };
        let _ = write!(
            x,
            r#"<w:style w:type="paragraph" w:styleId="Heading{level}"><w:name w:val="heading {level}"/><w:basedOn w:val="Body"/><w:next w:val="Body"/><w:qFormat/><w:pPr><w:keepNext/><w:outlineLvl w:val="{}"/></w:pPr><w:rPr>{}{b}<w:sz w:val="{SZ_BODY}"/><w:szCs w:val="{SZ_BODY}"/></w:rPr></w:style>"#,
            level - 1,
            rfonts(font)
        );
    }
    let _ = write!(
        x,
        r#"<w:style w:type="paragraph" w:styleId="Footer"><w:name w:val="footer"/><w:basedOn w:val="Normal"/><w:pPr><w:snapToGrid w:val="0"/><w:spacing w:line="{FOOTER_CHAR}" w:lineRule="exact"/></w:pPr><w:rPr>{}<w:snapToGrid w:val="0"/><w:sz w:val="{SZ_PAGE_NUMBER}"/><w:szCs w:val="{SZ_PAGE_NUMBER}"/></w:rPr></w:style>"#,
        rfonts(SONGTI)
    );
    let _ = write!(
        x,
        r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="TableText"><w:name w:val="表格文字"/><w:basedOn w:val="Normal"/><w:pPr><w:snapToGrid w:val="0"/><w:jc w:val="center"/></w:pPr><w:rPr><w:snapToGrid w:val="0"/><w:sz w:val="{SZ_TABLE}"/><w:szCs w:val="{SZ_TABLE}"/></w:rPr></w:style>"#
    );
    x.push_str(r#"<w:style w:type="paragraph" w:styleId="Caption"><w:name w:val="caption"/><w:basedOn w:val="Normal"/><w:next w:val="Body"/><w:qFormat/><w:pPr><w:keepNext/><w:jc w:val="center"/></w:pPr><w:rPr><w:b/><w:bCs/></w:rPr></w:style>"#);
    x.push_str(r#"<w:style w:type="paragraph" w:customStyle="1" w:styleId="Signature"><w:name w:val="署名"/><w:basedOn w:val="Normal"/><w:pPr><w:keepLines/><w:jc w:val="right"/></w:pPr></w:style>"#);
    x.push_str(r#"<w:style w:type="character" w:styleId="Hyperlink"><w:name w:val="Hyperlink"/><w:basedOn w:val="DefaultParagraphFont"/><w:uiPriority w:val="99"/><w:unhideWhenUsed/><w:rPr><w:u w:val="dotted"/></w:rPr></w:style>"#);
    x.push_str(r#"<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/><w:uiPriority w:val="99"/><w:semiHidden/><w:unhideWhenUsed/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/><w:left w:w="108" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>"#);
    x.push_str("</w:styles>");
    x
}

fn settings_xml() -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings xmlns:w="{NS_W}"><w:zoom w:percent="100"/><w:defaultTabStop w:val="420"/><w:evenAndOddHeaders/><w:characterSpacingControl w:val="compressPunctuation"/><w:compat><w:compatSetting w:name="compatibilityMode" w:uri="http://schemas.microsoft.com/office/word" w:val="15"/></w:compat></w:settings>"#
    )
}

fn font_table_xml() -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:fonts xmlns:w="{NS_W}">"#
    );
    for (name, alt, pitch) in FONT_TABLE {
        let _ = write!(
            x,
            r#"<w:font w:name="{}"><w:altName w:val="{}"/><w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="{pitch}"/></w:font>"#,
            escape_xml(name),
            escape_xml(alt)
        );
    }
    x.push_str("</w:fonts>");
    x
}

/// Page-number footer `— PAGE —`: odd pages right-aligned with one
/// character of right indent, even pages left-aligned with one character of
/// left indent (GB/T 9704-2012 §7.5).
fn footer_xml(odd: bool) -> String {
    let (ind, jc) = if odd {
        (format!(r#"<w:ind w:right="{FOOTER_CHAR}"/>"#), "right")
    } else {
        (format!(r#"<w:ind w:left="{FOOTER_CHAR}"/>"#), "left")
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr xmlns:w="{NS_W}" xmlns:r="{NS_R}"><w:p><w:pPr><w:pStyle w:val="Footer"/>{ind}<w:jc w:val="{jc}"/></w:pPr><w:r><w:t xml:space="preserve">— </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t xml:space="preserve"> —</w:t></w:r></w:p></w:ftr>"#
    )
}

// ---------------------------------------------------------------------------
// Body

fn document_xml(doc: &Document, opts: &RenderOptions, links: &mut Vec<String>) -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{NS_W}" xmlns:r="{NS_R}"><w:body>"#
    );
    // 标题, optional subtitle, then one empty line (标题下空一行).
    para(&mut x, "Title", "", &text_runs(&doc.title, ""));
    if let Some(sub) = &doc.subtitle {
        para(&mut x, "Subtitle", "", &text_runs(sub, ""));
    }
    para(&mut x, "Normal", "", "");

    let mut last_was_table = false;
    for (number, block) in doc.numbered_blocks() {
        last_was_table = false;
        match block {
            Block::Heading { level, text } => {
                let style = format!("Heading{}", crate::clamp_level(*level));
                let mut runs = text_runs(number.as_deref().unwrap_or_default(), "");
                runs.push_str(&inline_runs(text, opts, links));
                para(&mut x, &style, "", &runs);
            }
            Block::Paragraph(text) => {
                para(&mut x, "Body", "", &inline_runs(text, opts, links));
            }
            Block::Table {
                caption,
                header,
                rows,
            } => {
                if let Some(c) = caption {
                    para(&mut x, "Caption", "", &text_runs(c, ""));
                }
                table(&mut x, header, rows);
                last_was_table = true;
            }
            Block::PageBreak => {
                x.push_str(r#"<w:p><w:r><w:br w:type="page"/></w:r></w:p>"#);
            }
        }
    }

    // 发文机关署名 and 成文日期 (GB/T 9704 §7.3.5.2): one empty line after
    // the body; the issuer 右空二字; the date starts two characters to the
    // right of the issuer's first character; a date longer than the issuer
    // keeps 右空二字 and pushes the issuer left.
    if doc.issuer.is_some() || doc.date.is_some() {
        para(&mut x, "Normal", "", "");
        let (issuer_right, date_right) = signature_indents(doc);
        if let Some(i) = &doc.issuer {
            let ppr = format!(r#"<w:ind w:rightChars="{}" w:right="0"/>"#, issuer_right);
            para(&mut x, "Signature", &ppr, &text_runs(i, ""));
        }
        if let Some(d) = &doc.date {
            let ppr = format!(r#"<w:ind w:rightChars="{}" w:right="0"/>"#, date_right);
            para(&mut x, "Signature", &ppr, &text_runs(d, ""));
        }
    } else if last_was_table {
        // A body must not end with a table before the section properties.
        para(&mut x, "Normal", "", "");
    }

    let _ = write!(
        x,
        r#"<w:sectPr><w:footerReference w:type="default" r:id="{RID_FOOTER_ODD}"/><w:footerReference w:type="even" r:id="{RID_FOOTER_EVEN}"/><w:pgSz w:w="{PAGE_WIDTH}" w:h="{PAGE_HEIGHT}"/><w:pgMar w:top="{MARGIN_TOP}" w:right="{MARGIN_RIGHT}" w:bottom="{MARGIN_BOTTOM}" w:left="{MARGIN_LEFT}" w:header="851" w:footer="{FOOTER_DISTANCE}" w:gutter="0"/><w:cols w:space="425"/><w:docGrid w:type="linesAndChars" w:linePitch="{LINE_PITCH}" w:charSpace="{CHAR_SPACE}"/></w:sectPr></w:body></w:document>"#
    );
    x
}

/// Right indents of issuer and date in hundredths of a character
/// (`w:rightChars`).
pub(crate) fn signature_indents(doc: &Document) -> (u32, u32) {
    // Widths in half characters: ASCII digits are half-width.
    let wi = doc.issuer.as_deref().map(half_width).unwrap_or(0);
    let wd = doc.date.as_deref().map(half_width).unwrap_or(0);
    let issuer_start = if doc.date.is_some() {
        (wi + 4).max(wd + 8) // in half characters from the right margin
    } else {
        wi + 4
    };
    let issuer_right = issuer_start - wi;
    let date_right = if doc.issuer.is_some() {
        issuer_start - 4 - wd
    } else {
        4
    };
    (issuer_right * 50, date_right * 50)
}

fn half_width(s: &str) -> u32 {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn para(x: &mut String, style: &str, extra_ppr: &str, runs: &str) {
    let _ = write!(
        x,
        r#"<w:p><w:pPr><w:pStyle w:val="{style}"/>{extra_ppr}</w:pPr>{runs}</w:p>"#
    );
}

/// Runs for a piece of text; newlines become `w:br`, tabs `w:tab`.
fn text_runs(text: &str, rpr: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let mut x = String::from("<w:r>");
    if !rpr.is_empty() {
        let _ = write!(x, "<w:rPr>{rpr}</w:rPr>");
    }
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            x.push_str("<w:br/>");
        }
        for (j, piece) in line.split('\t').enumerate() {
            if j > 0 {
                x.push_str("<w:tab/>");
            }
            if !piece.is_empty() {
                let _ = write!(
                    x,
                    r#"<w:t xml:space="preserve">{}</w:t>"#,
                    escape_xml(piece)
                );
            }
        }
    }
    x.push_str("</w:r>");
    x
}

const MISSING_RPR: &str = r#"<w:b/><w:bCs/><w:color w:val="FF0000"/><w:highlight w:val="yellow"/>"#;

fn inline_runs(items: &[Inline], opts: &RenderOptions, links: &mut Vec<String>) -> String {
    let mut x = String::new();
    for item in items {
        match item {
            Inline::Text(t) => x.push_str(&text_runs(t, "")),
            Inline::Figure { text, link } => {
                match link.as_deref().and_then(|l| opts.resolve_link(l)) {
                    Some(url) => {
                        let rid = FIRST_LINK_RID + links.len();
                        links.push(url);
                        let _ = write!(
                            x,
                            r#"<w:hyperlink r:id="rId{rid}" w:history="1">{}</w:hyperlink>"#,
                            text_runs(text, r#"<w:rStyle w:val="Hyperlink"/>"#)
                        );
                    }
                    None => x.push_str(&text_runs(text, "")),
                }
            }
            Inline::Missing { label } => {
                x.push_str(&text_runs(&missing_marker(label), MISSING_RPR));
            }
        }
    }
    x
}

fn table(x: &mut String, header: &[String], rows: &[Vec<String>]) {
    let ncols = rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(header.len()))
        .max()
        .unwrap_or(0)
        .max(1);
    let col_w = TEXT_WIDTH as usize / ncols;
    let border = r#"w:val="single" w:sz="4" w:space="0" w:color="000000""#;
    let _ = write!(
        x,
        r#"<w:tbl><w:tblPr><w:tblW w:w="5000" w:type="pct"/><w:jc w:val="center"/><w:tblBorders><w:top {border}/><w:left {border}/><w:bottom {border}/><w:right {border}/><w:insideH {border}/><w:insideV {border}/></w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>"#
    );
    for _ in 0..ncols {
        let _ = write!(x, r#"<w:gridCol w:w="{col_w}"/>"#);
    }
    x.push_str("</w:tblGrid>");
    let mut row = |cells: &[String], is_header: bool| {
        x.push_str("<w:tr>");
        if is_header {
            x.push_str("<w:trPr><w:tblHeader/></w:trPr>");
        }
        for i in 0..ncols {
            let text = cells.get(i).map(String::as_str).unwrap_or("");
            let rpr = if is_header { "<w:b/><w:bCs/>" } else { "" };
            let _ = write!(
                x,
                r#"<w:tc><w:tcPr><w:tcW w:w="{col_w}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr><w:p><w:pPr><w:pStyle w:val="TableText"/></w:pPr>{}</w:p></w:tc>"#,
                text_runs(text, rpr)
            );
        }
        x.push_str("</w:tr>");
    };
    if !header.is_empty() {
        row(header, true);
    }
    for r in rows {
        row(r, false);
    }
    x.push_str("</w:tbl>");
}
