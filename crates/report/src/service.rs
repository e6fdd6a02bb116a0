//! What the command line and the web do with reports, written once: find a template (stored,
//! or built in), render it for a unit and period within the caller's scope, write DOCX, PDF or
//! HTML, finalise, and compare with the finalised version.

use std::fmt;
use std::sync::{Arc, OnceLock};

use xiangzhi_document::{Document, PdfConfig, PdfRenderer, RenderOptions};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::period::Period;
use xiangzhi_store::report::{NewReportFinal, ReportFinal, ReportTemplate};
use xiangzhi_store::{Actor, Scope, Store, StoreError};

use crate::builtin;
use crate::freeze::{FigureChange, Frozen, changes};
use crate::render::{Rendered, render};
use crate::source::{FigureSource, SourceError};
use crate::store_source::StoreSource;
use crate::syntax::{Template, TemplateError, parse};

#[derive(Debug)]
pub enum ReportError {
    Template(TemplateError),
    Store(StoreError),
    Source(SourceError),
    Document(xiangzhi_document::Error),
    Invalid(String),
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Template(e) => write!(f, "模板有误：{e}"),
            ReportError::Store(StoreError::NotFound) => {
                f.write_str("未找到该记录，或不在您的管辖范围内")
            }
            ReportError::Store(e) => write!(f, "{e}"),
            ReportError::Source(e) => write!(f, "取数失败：{e}"),
            ReportError::Document(e) => write!(f, "{e}"),
            ReportError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ReportError {}

impl From<TemplateError> for ReportError {
    fn from(e: TemplateError) -> Self {
        ReportError::Template(e)
    }
}
impl From<StoreError> for ReportError {
    fn from(e: StoreError) -> Self {
        ReportError::Store(e)
    }
}
impl From<SourceError> for ReportError {
    fn from(e: SourceError) -> Self {
        ReportError::Source(e)
    }
}
impl From<xiangzhi_document::Error> for ReportError {
    fn from(e: xiangzhi_document::Error) -> Self {
        ReportError::Document(e)
    }
}

/// A template as offered to users: stored (version ≥ 1) or built in and not yet stored
/// (version 0).
pub type TemplateRow = ReportTemplate;

/// Templates visible from `scope`, then the built-in ones not stored yet (version 0).
pub async fn templates(store: &dyn Store, scope: &Scope) -> Result<Vec<TemplateRow>, ReportError> {
    let mut out = store.report_templates(scope).await?;
    for b in builtin::ALL {
        if !out.iter().any(|t| t.code == b.code) {
            out.push(builtin_row(b));
        }
    }
    Ok(out)
}

fn builtin_row(b: builtin::Builtin) -> TemplateRow {
    ReportTemplate {
        code: b.code.to_owned(),
        name: b.name.to_owned(),
        org_path: xiangzhi_domain::org::OrgPath::root(),
        version: 0,
        current_version: 0,
        body: b.body.to_owned(),
        created_at: String::new(),
        created_by: "内置".to_owned(),
    }
}

/// A template by code (current version unless `version`), falling back to the built-in one.
pub async fn template(
    store: &dyn Store,
    scope: &Scope,
    code: &str,
    version: Option<i64>,
) -> Result<TemplateRow, ReportError> {
    match store.report_template(scope, code, version).await {
        Ok(t) => Ok(t),
        Err(StoreError::NotFound) if version.is_none_or(|v| v == 0) => builtin::find(code)
            .map(builtin_row)
            .ok_or(ReportError::Store(StoreError::NotFound)),
        Err(e) => Err(e.into()),
    }
}

/// Stores every built-in template not stored yet, as version 1 (for the demo and before
/// finalising a built-in one). Returns how many were added.
pub async fn install_builtins(store: &dyn Store, actor: &Actor) -> Result<usize, ReportError> {
    let mut added = 0;
    for b in builtin::ALL {
        if matches!(
            store.report_template(&Scope::all(), b.code, None).await,
            Err(StoreError::NotFound)
        ) {
            store
                .save_report_template(actor, b.code, b.name, b.body)
                .await?;
            added += 1;
        }
    }
    Ok(added)
}

/// A rendered report with the template it came from.
pub struct Report {
    pub template: TemplateRow,
    pub org: DivisionCode,
    pub period: Period,
    pub rendered: Rendered,
}

pub fn parse_period(s: &str) -> Result<Period, ReportError> {
    Period::parse(s.trim()).map_err(|_| {
        ReportError::Invalid(format!(
            "期间“{s}”无效，应为 2023、2023Q4、202312 这样的期间代码"
        ))
    })
}

pub fn parse_org(s: &str) -> Result<DivisionCode, ReportError> {
    DivisionCode::parse(s.trim())
        .map_err(|_| ReportError::Invalid(format!("单位代码“{s}”无效，应为区划代码，如 361002201")))
}

/// Renders template `code` for `org` and `period`, reading only within `scope`: a unit
/// outside it is "not found".
pub async fn render_report(
    store: Arc<dyn Store>,
    scope: &Scope,
    code: &str,
    version: Option<i64>,
    org: &DivisionCode,
    period: &Period,
) -> Result<Report, ReportError> {
    let template = template(store.as_ref(), scope, code, version).await?;
    let parsed = parse(&template.body)?;
    let source = StoreSource::new(store.as_ref(), scope.clone()).await?;
    let rendered = render_with(&parsed, &source, org, period).await?;
    Ok(Report {
        template,
        org: org.clone(),
        period: *period,
        rendered,
    })
}

/// Renders a template text that is not stored (the editor's live preview).
pub async fn preview(
    store: Arc<dyn Store>,
    scope: &Scope,
    body: &str,
    org: &DivisionCode,
    period: &Period,
) -> Result<Rendered, ReportError> {
    let parsed = parse(body)?;
    let source = StoreSource::new(store.as_ref(), scope.clone()).await?;
    render_with(&parsed, &source, org, period).await
}

async fn render_with(
    t: &Template,
    source: &StoreSource<'_>,
    org: &DivisionCode,
    period: &Period,
) -> Result<Rendered, ReportError> {
    // The unit must be in scope: this is the store's check, before any figure is read.
    source.check_org(org).await?;
    Ok(render(t, source as &dyn FigureSource, org.as_str(), period).await?)
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Docx,
    Pdf,
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "docx" | "word" => Some(Format::Docx),
            "pdf" => Some(Format::Pdf),
            "html" | "htm" => Some(Format::Html),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Docx => "docx",
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            Format::Pdf => "application/pdf",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// One typst setup per process: scanning the fonts is the slow part.
fn pdf_renderer() -> Result<&'static PdfRenderer, ReportError> {
    static RENDERER: OnceLock<Result<PdfRenderer, String>> = OnceLock::new();
    RENDERER
        .get_or_init(|| PdfRenderer::new(&PdfConfig::default()).map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| ReportError::Invalid(e.clone()))
}

/// Writes `doc` as `format`. PDF rendering is CPU work: call it off the async threads.
pub fn write(doc: &Document, format: Format, opts: &RenderOptions) -> Result<Vec<u8>, ReportError> {
    Ok(match format {
        Format::Docx => xiangzhi_document::docx::render_with(doc, opts)?,
        Format::Pdf => pdf_renderer()?.render_with(doc, opts)?,
        Format::Html => standalone_html(doc).into_bytes(),
    })
}

/// A whole HTML page around the preview fragment, for saving to a file.
pub fn standalone_html(doc: &Document) -> String {
    format!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{max-width:44em;margin:2em auto;font-family:FangSong,serif;line-height:1.8}}\
         .gongwen p{{text-indent:2em}} mark.missing{{background:#fff176;color:#d00000;font-weight:bold}}\
         table{{border-collapse:collapse}} td,th{{border:1px solid #000;padding:.2em .5em}}</style></head>\
         <body>\n{}</body></html>\n",
        xiangzhi_document::html::escape(&doc.title),
        xiangzhi_document::html::render(doc)
    )
}

/// Freezes `report`'s figures: stores the built-in template first if it is not stored yet.
pub async fn finalise(
    store: &dyn Store,
    actor: &Actor,
    report: &Report,
) -> Result<(ReportFinal, Frozen), ReportError> {
    let mut version = report.template.version;
    if version == 0 {
        install_builtins(store, &Actor::system("builtin-templates")).await?;
        let stored = store
            .report_template(&actor.scope, &report.template.code, None)
            .await?;
        if stored.body != report.template.body {
            return Err(ReportError::Invalid(
                "模板已被修改，请重新生成后再定稿".into(),
            ));
        }
        version = stored.version;
    }
    let frozen = Frozen::of(
        &report.template.code,
        version,
        report.org.as_str(),
        &report.period.to_string(),
        &report.rendered,
    );
    let json = serde_json::to_string(&frozen)
        .map_err(|e| ReportError::Invalid(format!("无法保存定稿：{e}")))?;
    let saved = store
        .finalise_report(
            actor,
            NewReportFinal {
                template_code: report.template.code.clone(),
                template_version: version,
                org: report.org.clone(),
                period: report.period.to_string(),
                content_hash: frozen.content_hash.clone(),
                frozen: json,
            },
        )
        .await?;
    Ok((saved, frozen))
}

/// What a finalised report froze, checked against its stored hash.
pub fn frozen_of(f: &ReportFinal) -> Result<Frozen, ReportError> {
    let frozen: Frozen = serde_json::from_str(&f.frozen)
        .map_err(|_| ReportError::Invalid("定稿内容已损坏".into()))?;
    if frozen.content_hash != f.content_hash || !frozen.verify() {
        return Err(ReportError::Invalid(
            "定稿内容与其校验值不符：定稿后被改动过".into(),
        ));
    }
    Ok(frozen)
}

/// The figures that changed since finalised report `id`, rendering the same template
/// version for the same unit and period with today's data.
pub async fn changes_since(
    store: Arc<dyn Store>,
    scope: &Scope,
    id: i64,
) -> Result<(ReportFinal, Vec<FigureChange>), ReportError> {
    let f = store.report_final(scope, id).await?;
    let frozen = frozen_of(&f)?;
    let now = render_report(
        store,
        scope,
        &f.template_code,
        Some(f.template_version),
        &f.org_code,
        &parse_period(&f.period)?,
    )
    .await?;
    Ok((f, changes(&frozen.figures, &now.rendered.figures)))
}
