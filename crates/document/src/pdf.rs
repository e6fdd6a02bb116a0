//! PDF writer: typst used as a library.
//!
//! [`typst_markup`] turns a [`Document`] into typst markup (every piece of
//! user text becomes an escaped string literal, so no character can start
//! markup), and a [`PdfRenderer`] compiles it with fonts scanned once from
//! the system font directories plus optional configured ones.
//!
//! Layout is the same as the DOCX writer (GB/T 9704-2012): A4, margins
//! 37/26/35/28 mm, 22 lines × 28 characters, 3号 body text, 2号 title,
//! page numbers `— 1 —` in 4号 宋体, odd pages right, even pages left.
//!
//! Fonts: each role has a list of families, tried in order; families that
//! are not installed are left out of the list, and the fonts that cover
//! rare characters are appended to every list. Without any font that has
//! Chinese glyphs, rendering fails with [`Error::NoCjkFont`] instead of
//! printing boxes, and a character that no font can show fails with
//! [`Error::MissingGlyphs`].

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::layout::{Frame, FrameItem};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook, FontInfo};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

use crate::{Block, Document, Error, Inline, RenderOptions};

/// Where to look for fonts.
#[derive(Debug, Clone)]
pub struct PdfConfig {
    /// Extra font directories (searched before the system ones), e.g. a
    /// directory holding licensed 仿宋_GB2312 / 方正小标宋简体 files.
    pub font_dirs: Vec<PathBuf>,
    /// Also search the system font directories (`/usr/share/fonts`,
    /// `/usr/local/share/fonts`, `~/.local/share/fonts`, `~/.fonts`).
    pub system_fonts: bool,
}

impl Default for PdfConfig {
    fn default() -> Self {
        PdfConfig {
            font_dirs: Vec::new(),
            system_fonts: true,
        }
    }
}

/// Font families per role, most wanted first. typst names a family without
/// the region suffix that fontconfig shows (`AR PL UKai`, not `AR PL UKai
/// CN`), so both spellings are listed.
const FANGSONG: &[&str] = &[
    "FangSong_GB2312",
    "仿宋_GB2312",
    "FangSong",
    "仿宋",
    "STFangsong",
    "华文仿宋",
    // Without a 仿宋 face: Noto Serif CJK SC sets mainland punctuation
    // (、，。 in the lower left) while AR PL UKai centres it, Taiwan style.
    "Noto Serif CJK SC",
    "AR PL UKai",
    "AR PL UKai CN",
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
];
const XIAOBIAOSONG: &[&str] = &[
    "FZXiaoBiaoSong-B05S",
    "方正小标宋简体",
    "FZXiaoBiaoSong-B05",
    "方正小标宋_GBK",
    "SimSun",
    "宋体",
    "Songti SC",
    "STSong",
    "Noto Serif CJK SC",
    "AR PL UMing",
    "AR PL UMing CN",
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
];
const HEITI: &[&str] = &[
    "SimHei",
    "黑体",
    "Heiti SC",
    "STHeiti",
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Noto Serif CJK SC",
];
const KAITI: &[&str] = &[
    "KaiTi_GB2312",
    "楷体_GB2312",
    "KaiTi",
    "楷体",
    "STKaiti",
    "AR PL UKai",
    "AR PL UKai CN",
    "Noto Serif CJK SC",
    "Noto Sans CJK SC",
];
const SONGTI: &[&str] = &[
    "SimSun",
    "宋体",
    "Songti SC",
    "STSong",
    "Noto Serif CJK SC",
    "AR PL UMing",
    "AR PL UMing CN",
    "Noto Sans CJK SC",
    "WenQuanYi Zen Hei",
];
/// Appended to every list: broad coverage for rare characters in names
/// (CJK Extension A/B …). typst also falls back to any covering font.
const RARE: &[&str] = &[
    "Noto Serif CJK SC",
    "Noto Sans CJK SC",
    "AR PL UMing",
    "AR PL UMing CN",
    "AR PL UKai",
    "AR PL UKai CN",
    "HanaMinA",
    "HanaMinB",
    "BabelStone Han",
    "WenQuanYi Zen Hei",
    "Unifont",
];

struct FontFile {
    path: PathBuf,
    data: OnceLock<Option<Bytes>>,
}

struct FontSlot {
    file: usize,
    index: u32,
    font: OnceLock<Option<Font>>,
}

/// A typst setup with fonts scanned once; create it once and reuse it.
/// Font files are read lazily, the first time a face is used.
pub struct PdfRenderer {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    files: Vec<FontFile>,
    slots: Vec<FontSlot>,
    /// Resolved family lists (installed families only) as typst arrays.
    fonts: RoleFonts,
}

struct RoleFonts {
    fangsong: String,
    xiaobiaosong: String,
    heiti: String,
    kaiti: String,
    songti: String,
}

impl PdfRenderer {
    /// Scan the font directories. Fails with [`Error::NoCjkFont`] when no
    /// installed font has Chinese glyphs.
    pub fn new(config: &PdfConfig) -> Result<Self, Error> {
        let mut dirs = config.font_dirs.clone();
        if config.system_fonts {
            dirs.extend(system_font_dirs());
        }
        let mut book = FontBook::new();
        let mut files = Vec::new();
        let mut slots = Vec::new();
        let mut seen = HashSet::new();
        for dir in &dirs {
            let mut paths = Vec::new();
            collect_font_files(dir, 0, &mut paths);
            paths.sort();
            for path in paths {
                let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
                if !seen.insert(canonical) {
                    continue;
                }
                let Ok(data) = std::fs::read(&path) else {
                    continue;
                };
                let file = files.len();
                let mut any = false;
                for index in 0..face_count(&data) {
                    if let Some(info) = FontInfo::new(&data, index) {
                        book.push(info);
                        slots.push(FontSlot {
                            file,
                            index,
                            font: OnceLock::new(),
                        });
                        any = true;
                    }
                }
                if any {
                    files.push(FontFile {
                        path,
                        data: OnceLock::new(),
                    });
                }
            }
        }

        // Families present, and which of them can show Chinese (中文).
        let mut present = Vec::new();
        let mut cjk = Vec::new();
        for (family, mut ids) in book.families() {
            present.push(family.to_lowercase());
            if ids.any(|id| {
                book.info(id).is_some_and(|i| {
                    i.coverage.contains('中' as u32) && i.coverage.contains('文' as u32)
                })
            }) {
                cjk.push(family.to_owned());
            }
        }
        if cjk.is_empty() {
            return Err(Error::NoCjkFont { searched: dirs });
        }
        let resolve = |wanted: &[&str]| -> String {
            let mut list: Vec<String> = Vec::new();
            for f in wanted.iter().chain(RARE) {
                if present.contains(&f.to_lowercase())
                    && !list.iter().any(|l| l.eq_ignore_ascii_case(f))
                {
                    list.push((*f).to_owned());
                }
            }
            if !list
                .iter()
                .any(|l| cjk.iter().any(|c| c.eq_ignore_ascii_case(l)))
            {
                // None of the wanted families is installed: take any font
                // with Chinese glyphs rather than printing boxes.
                list.push(cjk[0].clone());
            }
            let mut s = String::from("(");
            for f in &list {
                let _ = write!(s, "{}, ", typst_string(f));
            }
            s.push(')');
            s
        };
        let fonts = RoleFonts {
            fangsong: resolve(FANGSONG),
            xiaobiaosong: resolve(XIAOBIAOSONG),
            heiti: resolve(HEITI),
            kaiti: resolve(KAITI),
            songti: resolve(SONGTI),
        };
        Ok(PdfRenderer {
            library: LazyHash::new(Library::default()),
            book: LazyHash::new(book),
            files,
            slots,
            fonts,
        })
    }

    /// Font families used for the body text, after removing the ones that
    /// are not installed (a typst array literal).
    pub fn body_fonts(&self) -> &str {
        &self.fonts.fangsong
    }

    /// Render to PDF bytes. Relative provenance links are printed as plain
    /// figures; see [`PdfRenderer::render_with`].
    pub fn render(&self, doc: &Document) -> Result<Vec<u8>, Error> {
        self.render_with(doc, &RenderOptions::default())
    }

    /// Render to PDF bytes with options.
    pub fn render_with(&self, doc: &Document, opts: &RenderOptions) -> Result<Vec<u8>, Error> {
        let markup = self.markup(doc, opts);
        let world = GwWorld {
            renderer: self,
            source: Source::detached(markup),
        };
        let result = typst::compile::<PagedDocument>(&world).output;
        // Keep typst's memoization cache from growing without bound when a
        // long-running server renders many documents.
        typst::comemo::evict(10);
        let paged = result.map_err(|errs| Error::Typst(diagnostics(&errs)))?;

        let mut missing = Vec::new();
        for page in paged.pages() {
            notdef_chars(&page.frame, &mut missing);
        }
        if !missing.is_empty() {
            missing.sort_unstable();
            missing.dedup();
            return Err(Error::MissingGlyphs(missing.into_iter().collect()));
        }

        let options = typst_pdf::PdfOptions {
            creator: Smart::Custom(Some("xiangzhi".into())),
            ..Default::default()
        };
        typst_pdf::pdf(&paged, &options).map_err(|errs| Error::Typst(diagnostics(&errs)))
    }

    /// The typst markup this renderer compiles for `doc` (for debugging).
    pub fn markup(&self, doc: &Document, opts: &RenderOptions) -> String {
        typst_markup(doc, opts, &self.fonts)
    }

    fn font(&self, index: usize) -> Option<Font> {
        let slot = self.slots.get(index)?;
        slot.font
            .get_or_init(|| {
                let file = &self.files[slot.file];
                let data = file
                    .data
                    .get_or_init(|| std::fs::read(&file.path).ok().map(Bytes::new))
                    .clone()?;
                Font::new(data, slot.index)
            })
            .clone()
    }
}

fn diagnostics(errs: &[SourceDiagnostic]) -> String {
    errs.iter()
        .map(|d| d.message.to_string())
        .collect::<Vec<_>>()
        .join("；")
}

/// Characters shaped with glyph 0 (.notdef, a tofu box).
fn notdef_chars(frame: &Frame, out: &mut Vec<char>) {
    for (_, item) in frame.items() {
        match item {
            FrameItem::Group(g) => notdef_chars(&g.frame, out),
            FrameItem::Text(t) => {
                for g in &t.glyphs {
                    if g.id == 0 {
                        let text = t.text.get(g.range()).unwrap_or("");
                        out.extend(text.chars().filter(|c| !c.is_whitespace()));
                    }
                }
            }
            _ => {}
        }
    }
}

fn system_font_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![
        PathBuf::from("/usr/share/fonts"),
        PathBuf::from("/usr/local/share/fonts"),
    ];
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        dirs.push(home.join(".local/share/fonts"));
        dirs.push(home.join(".fonts"));
    }
    dirs
}

fn collect_font_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > 8 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_font_files(&path, depth + 1, out);
        } else {
            let ext = path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if matches!(ext.as_deref(), Some("ttf" | "otf" | "ttc" | "otc")) {
                out.push(path);
            }
        }
    }
}

/// Number of faces in a font file (a TrueType/OpenType collection has a
/// `ttcf` header with the count at offset 8).
fn face_count(data: &[u8]) -> u32 {
    if data.len() >= 12 && &data[..4] == b"ttcf" {
        u32::from_be_bytes([data[8], data[9], data[10], data[11]]).min(256)
    } else {
        1
    }
}

struct GwWorld<'a> {
    renderer: &'a PdfRenderer,
    source: Source,
}

impl World for GwWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.renderer.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.renderer.book
    }

    fn main(&self) -> FileId {
        self.source.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.source.id() {
            Ok(self.source.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, _id: FileId) -> FileResult<Bytes> {
        Err(FileError::AccessDenied)
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.renderer.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

// ---------------------------------------------------------------------------
// Markup

/// A typst string literal: the only escapes needed are `\\`, `\"` and the
/// control characters. Inside a string nothing is markup, so `# $ * _ [ ]
/// < > @` and backticks print as themselves.
pub fn typst_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text as an embedded string expression, explicitly ended by `;` so that
/// whatever follows can never continue the expression.
fn text_expr(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("#{};", typst_string(s))
    }
}

fn inlines(items: &[Inline], opts: &RenderOptions) -> String {
    let mut m = String::new();
    for i in items {
        match i {
            Inline::Text(t) => m.push_str(&text_expr(t)),
            Inline::Figure { text, link } => {
                match link.as_deref().and_then(|l| opts.resolve_link(l)) {
                    Some(url) => {
                        let _ = write!(m, "#link({}, {});", typst_string(&url), typst_string(text));
                    }
                    None => m.push_str(&text_expr(text)),
                }
            }
            Inline::Missing { label } => {
                let _ = write!(m, "#gw-missing({});", typst_string(label));
            }
        }
    }
    m
}

/// The fixed part of the markup. Geometry per GB/T 9704-2012:
/// * character pitch: 156 mm / 28 characters (a hair less, so that 28
///   always fit), i.e. tracking = pitch − 16 pt ≈ −0.2 pt;
/// * line pitch: 225 mm / 22 lines ≈ 28.99 pt; every line box is exactly
///   1 em = 16 pt high (top-edge 0.88 em, bottom-edge −0.12 em), and the
///   leading and paragraph spacing are pitch − 16 pt, so 22 lines fit and
///   23 do not (21 × pitch + 16 pt = 624.8 pt ≤ 637.8 pt < 653.8 pt).
/// * page numbers 7 mm below the text block (footer-descent).
const PRELUDE: &str = r##"
#let gw-cw = (156mm - 0.5pt) / 28
#let gw-pitch = 225mm / 22
#let gw-lead = gw-pitch - 16pt
#set page(
  width: 210mm, height: 297mm,
  margin: (top: 37mm, bottom: 35mm, left: 28mm, right: 26mm),
  footer-descent: 7mm,
  footer: context {
    let n = counter(page).get().first()
    set par(first-line-indent: 0pt, justify: false)
    let num = text(font: GW_SONG, size: 14pt, tracking: 0pt)[— #n —]
    if calc.odd(n) { align(right, pad(right: 14pt, num)) } else { align(left, pad(left: 14pt, num)) }
  },
)
#set text(font: GW_FANGSONG, size: 16pt, lang: "zh", region: "cn", tracking: gw-cw - 16pt, top-edge: 0.88em, bottom-edge: -0.12em)
#set par(justify: true, leading: gw-lead, spacing: gw-lead, first-line-indent: (amount: 2 * gw-cw, all: true))
#show link: underline.with(stroke: (thickness: 0.5pt, dash: "dotted"), offset: 3pt)
#let gw-missing(label) = highlight(fill: rgb("#fff176"), text(fill: rgb("#d00000"), weight: "bold", "【缺数据：" + label + "】"))
#let gw-center(body) = block(width: 100%, {
  set par(first-line-indent: 0pt, justify: false)
  align(center, body)
})
#let gw-right(indent, body) = block(width: 100%, above: gw-lead, below: gw-lead, {
  set par(first-line-indent: 0pt, justify: false)
  align(right, pad(right: indent * gw-cw, body))
})
#show heading: it => block(width: 100%, above: gw-lead, below: gw-lead, sticky: true, {
  set par(first-line-indent: 0pt)
  h(2 * gw-cw)
  it.body
})
#show heading.where(level: 1): set text(font: GW_HEI, size: 16pt, weight: "regular")
#show heading.where(level: 2): set text(font: GW_KAI, size: 16pt, weight: "regular")
#show heading.where(level: 3): set text(font: GW_FANGSONG, size: 16pt, weight: "bold")
#show heading.where(level: 4): set text(font: GW_FANGSONG, size: 16pt, weight: "regular")
"##;

fn typst_markup(doc: &Document, opts: &RenderOptions, fonts: &RoleFonts) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "#set document(title: {}, date: none)",
        typst_string(&doc.title)
    );
    m.push_str(
        &PRELUDE
            .replace("GW_FANGSONG", &fonts.fangsong)
            .replace("GW_SONG", &fonts.songti)
            .replace("GW_HEI", &fonts.heiti)
            .replace("GW_KAI", &fonts.kaiti),
    );

    // Title (2号 方正小标宋简体, centred), subtitle, then one empty line.
    let _ = writeln!(
        m,
        "#gw-center(text(font: {}, size: 22pt, weight: \"bold\", tracking: 0pt, {}))",
        fonts.xiaobiaosong,
        typst_string(&doc.title)
    );
    if let Some(sub) = &doc.subtitle {
        let _ = writeln!(
            m,
            "#gw-center(text(font: {}, {}))",
            fonts.kaiti,
            typst_string(sub)
        );
    }
    m.push_str("#v(16pt)\n\n");

    for (number, block) in doc.numbered_blocks() {
        match block {
            Block::Heading { level, text } => {
                let _ = writeln!(
                    m,
                    "#heading(level: {}, outlined: true)[{}{}]\n",
                    crate::clamp_level(*level),
                    text_expr(number.as_deref().unwrap_or_default()),
                    inlines(text, opts)
                );
            }
            Block::Paragraph(text) => {
                let body = inlines(text, opts);
                if body.is_empty() {
                    m.push_str("#v(gw-pitch)\n\n");
                } else {
                    let _ = writeln!(m, "{body}\n");
                }
            }
            Block::Table {
                caption,
                header,
                rows,
            } => table(&mut m, caption.as_deref(), header, rows),
            Block::PageBreak => m.push_str("#pagebreak()\n\n"),
        }
    }

    if doc.issuer.is_some() || doc.date.is_some() {
        m.push_str("#v(16pt)\n");
        let (issuer_right, date_right) = crate::docx::signature_indents(doc);
        if let Some(i) = &doc.issuer {
            let _ = writeln!(
                m,
                "#gw-right({}, {})",
                f64::from(issuer_right) / 100.0,
                typst_string(i)
            );
        }
        if let Some(d) = &doc.date {
            let _ = writeln!(
                m,
                "#gw-right({}, {})",
                f64::from(date_right) / 100.0,
                typst_string(d)
            );
        }
    }
    m
}

fn table(m: &mut String, caption: Option<&str>, header: &[String], rows: &[Vec<String>]) {
    let ncols = rows
        .iter()
        .map(Vec::len)
        .chain(std::iter::once(header.len()))
        .max()
        .unwrap_or(0)
        .max(1);
    if let Some(c) = caption {
        let _ = writeln!(m, "#gw-center(text(weight: \"bold\", {}))", typst_string(c));
    }
    m.push_str("#block(width: 100%, {\n  set par(first-line-indent: 0pt, justify: false, leading: 0.5em)\n  set text(size: 14pt, tracking: 0pt)\n");
    let _ = writeln!(
        m,
        "  table(columns: (1fr,) * {ncols}, align: center + horizon, inset: (x: 4pt, y: 6pt), stroke: 0.5pt,"
    );
    let cell = |s: &str| format!("[{}]", text_expr(s));
    if !header.is_empty() {
        m.push_str("    table.header(repeat: true, ");
        for i in 0..ncols {
            let s = header.get(i).map(String::as_str).unwrap_or("");
            let _ = write!(m, "text(weight: \"bold\", {}), ", cell(s));
        }
        m.push_str("),\n");
    }
    for r in rows {
        m.push_str("    ");
        for i in 0..ncols {
            let s = r.get(i).map(String::as_str).unwrap_or("");
            let _ = write!(m, "{}, ", cell(s));
        }
        m.push('\n');
    }
    m.push_str("  )\n})\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(typst_string(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(typst_string("x\ny\u{1}"), r#""x\ny\u{1}""#);
        assert_eq!(text_expr("#set"), "#\"#set\";");
        assert_eq!(text_expr(""), "");
    }

    #[test]
    fn ttc_face_count() {
        let mut ttc = b"ttcf\0\x01\0\0\0\0\0\x03".to_vec();
        ttc.extend([0; 16]);
        assert_eq!(face_count(&ttc), 3);
        assert_eq!(face_count(b"\0\x01\0\0rest"), 1);
    }
}
