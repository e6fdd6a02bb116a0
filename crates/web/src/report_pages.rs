//! 工作报告: the template list, the editor with a preview rendered by the server (a plain form
//! posting to `/reports/preview`, no script), a report for a unit and period as HTML with every
//! figure linked to its records and the gaps listed, DOCX and PDF downloads, finalising, and
//! what changed since a finalised version. Scope and permissions are the store's; the handlers
//! check the role first so a village cadre is refused before anything is looked up.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use xiangzhi_document::RenderOptions;
use xiangzhi_domain::role::Permission;
use xiangzhi_report::service::{self, Format, ReportError};
use xiangzhi_report::{FigureChange, Gap, syntax};
use xiangzhi_store::StoreError;
use xiangzhi_store::report::{ReportFinal, ReportTemplate, TemplateVersion};

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::import_pages::attachment;
use crate::pages::{Chrome, parse_code};
use crate::state::AppState;

impl From<ReportError> for AppError {
    fn from(e: ReportError) -> AppError {
        match e {
            ReportError::Store(s) => s.into(),
            ReportError::Source(s) => AppError::Internal(s.to_string()),
            other => AppError::BadRequest(other.to_string()),
        }
    }
}

/// Township staff and administrators edit templates and finalise reports.
fn can_edit(me: &CurrentUser) -> bool {
    me.can(Permission::TownshipReview) || me.can(Permission::ManageOrg)
}

fn require_edit(me: &CurrentUser, what: &str) -> AppResult<()> {
    if can_edit(me) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "只有乡镇业务人员或管理员可以{what}"
        )))
    }
}

/// Reports are usually about last year.
fn default_period() -> String {
    use chrono::Datelike;
    (chrono::Utc::now().year() - 1).to_string()
}

pub struct FinalRow {
    f: ReportFinal,
    org_name: String,
    short_hash: String,
}

async fn final_rows(state: &AppState, me: &CurrentUser, finals: Vec<ReportFinal>) -> Vec<FinalRow> {
    let mut out = Vec::new();
    for f in finals {
        let org_name = state
            .store
            .org_unit(&me.scope(), &f.org_code)
            .await
            .map(|u| u.name)
            .unwrap_or_default();
        let short_hash = f.content_hash.chars().take(12).collect();
        out.push(FinalRow {
            f,
            org_name,
            short_hash,
        });
    }
    out
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    templates: Vec<ReportTemplate>,
    finals: Vec<FinalRow>,
    period: String,
    units: Vec<(String, String)>,
}

pub async fn reports(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let scope = me.scope();
    let templates = service::templates(state.store.as_ref(), &scope).await?;
    let finals = state.store.report_finals(&scope, None, None, None).await?;
    let own = me.user.org_code.clone();
    let mut units = vec![(
        own.to_string(),
        state.store.org_unit(&scope, &own).await?.name,
    )];
    for c in state.store.org_children(&scope, Some(&own)).await? {
        units.push((c.code.to_string(), c.name));
    }
    Ok(render(ReportsPage {
        chrome: Chrome::of(&me),
        templates,
        finals: final_rows(&state, &me, finals).await,
        period: default_period(),
        units,
    }))
}

#[derive(Template)]
#[template(path = "report_editor.html")]
struct EditorPage {
    chrome: Chrome,
    template: ReportTemplate,
    versions: Vec<TemplateVersion>,
    name: String,
    body: String,
    org: String,
    period: String,
    can_edit: bool,
    error: Option<String>,
    notice: Option<String>,
    preview: Option<String>,
    gaps: Vec<Gap>,
}

#[derive(Deserialize, Default)]
pub struct EditorQuery {
    version: Option<i64>,
    saved: Option<i64>,
}

pub async fn editor(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<EditorQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let template = service::template(state.store.as_ref(), &scope, &code, q.version).await?;
    let versions = match state.store.report_template_versions(&scope, &code).await {
        Ok(v) => v,
        Err(StoreError::NotFound) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(render(EditorPage {
        chrome: Chrome::of(&me),
        name: template.name.clone(),
        body: template.body.clone(),
        org: me.user.org_code.to_string(),
        period: default_period(),
        can_edit: can_edit(&me),
        error: None,
        notice: q.saved.map(|v| format!("已保存为第{v}版")),
        preview: None,
        gaps: Vec::new(),
        versions,
        template,
    }))
}

#[derive(Deserialize)]
pub struct EditorForm {
    #[serde(default)]
    template: String,
    name: Option<String>,
    #[serde(default)]
    body: String,
    org: Option<String>,
    period: Option<String>,
    save_as: Option<String>,
}

/// The editor's preview: the text as typed, rendered for a unit and period with real figures.
pub async fn preview(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<EditorForm>,
) -> AppResult<Response> {
    let scope = me.scope();
    let org = parse_code(f.org.as_deref().unwrap_or_default())?;
    // The unit first: a foreign one is "not found" whatever the text says.
    state.store.org_unit(&scope, &org).await?;
    let period_text = f.period.clone().unwrap_or_else(default_period);
    let period = service::parse_period(&period_text)?;
    let template = service::template(state.store.as_ref(), &scope, &f.template, None).await?;
    let (preview, gaps, error) =
        match service::preview(state.store.clone(), &scope, &f.body, &org, &period).await {
            Ok(r) => (
                Some(xiangzhi_document::html::render(&r.document)),
                r.gaps,
                None,
            ),
            Err(ReportError::Template(e)) => (None, Vec::new(), Some(format!("模板有误：{e}"))),
            Err(e) => return Err(e.into()),
        };
    let versions = state
        .store
        .report_template_versions(&scope, &f.template)
        .await
        .unwrap_or_default();
    Ok(render(EditorPage {
        chrome: Chrome::of(&me),
        name: f.name.unwrap_or_else(|| template.name.clone()),
        body: f.body,
        org: org.to_string(),
        period: period_text,
        can_edit: can_edit(&me),
        error,
        notice: None,
        preview,
        gaps,
        versions,
        template,
    }))
}

/// Saves the text as a new version (or under a new code with `save_as`). A text that does not
/// parse is shown again with the error and nothing is saved.
pub async fn save(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<EditorForm>,
) -> AppResult<Response> {
    require_edit(&me, "修改报告模板")?;
    let scope = me.scope();
    let template = service::template(state.store.as_ref(), &scope, &code, None).await?;
    let target = f
        .save_as
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&code)
        .to_owned();
    let name = f.name.clone().unwrap_or_else(|| template.name.clone());
    if let Err(e) = syntax::parse(&f.body) {
        let versions = state
            .store
            .report_template_versions(&scope, &code)
            .await
            .unwrap_or_default();
        let page = render(EditorPage {
            chrome: Chrome::of(&me),
            name,
            body: f.body,
            org: f.org.unwrap_or_else(|| me.user.org_code.to_string()),
            period: f.period.unwrap_or_else(default_period),
            can_edit: true,
            error: Some(format!("模板有误，未保存：{e}")),
            notice: None,
            preview: None,
            gaps: Vec::new(),
            versions,
            template,
        });
        return Ok((axum::http::StatusCode::BAD_REQUEST, page).into_response());
    }
    let (saved, _) = state
        .store
        .save_report_template(&me.actor(), &target, &name, &f.body)
        .await?;
    Ok(Redirect::to(&format!(
        "/reports/templates/{}?saved={}",
        saved.code, saved.version
    ))
    .into_response())
}

#[derive(Deserialize, Default)]
pub struct RenderQuery {
    period: Option<String>,
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    chrome: Chrome,
    template: ReportTemplate,
    org: String,
    org_name: String,
    period: String,
    preview: String,
    gaps: Vec<Gap>,
    finals: Vec<FinalRow>,
    can_edit: bool,
}

/// A report for a unit and period: the HTML page, or a DOCX or PDF download.
pub async fn report(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((code, org)): Path<(String, String)>,
    Query(q): Query<RenderQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let org = parse_code(&org)?;
    let unit = state.store.org_unit(&scope, &org).await?;
    let period_text = q.period.clone().unwrap_or_else(default_period);
    let period = service::parse_period(&period_text)?;
    let format = match q.format.as_deref() {
        None | Some("") => Format::Html,
        Some(f) => Format::parse(f).ok_or_else(|| AppError::bad("格式应为 html、docx 或 pdf"))?,
    };
    let report =
        service::render_report(state.store.clone(), &scope, &code, None, &org, &period).await?;
    if format != Format::Html {
        let doc = report.rendered.document;
        let bytes = tokio::task::spawn_blocking(move || {
            service::write(&doc, format, &RenderOptions::default())
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
        let name = format!(
            "{}-{}-{}.{}",
            report.template.name,
            unit.name,
            period,
            format.extension()
        );
        let fallback = format!("report.{}", format.extension());
        return Ok(attachment(bytes, format.content_type(), &fallback, &name));
    }
    let finals = state
        .store
        .report_finals(&scope, Some(&code), Some(&org), Some(&period.to_string()))
        .await?;
    Ok(render(ReportPage {
        chrome: Chrome::of(&me),
        org: org.to_string(),
        org_name: unit.name,
        period: period.to_string(),
        preview: xiangzhi_document::html::render(&report.rendered.document),
        gaps: report.rendered.gaps,
        finals: final_rows(&state, &me, finals).await,
        can_edit: can_edit(&me),
        template: report.template,
    }))
}

#[derive(Deserialize)]
pub struct FinaliseForm {
    period: Option<String>,
}

/// Freezes the report's figures; the unit is checked before the role, so a foreign unit is
/// "not found" for everyone.
pub async fn finalise(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((code, org)): Path<(String, String)>,
    Form(f): Form<FinaliseForm>,
) -> AppResult<Response> {
    let scope = me.scope();
    let org = parse_code(&org)?;
    state.store.org_unit(&scope, &org).await?;
    service::template(state.store.as_ref(), &scope, &code, None).await?;
    require_edit(&me, "定稿报告")?;
    let period = service::parse_period(f.period.as_deref().unwrap_or_default())?;
    let report =
        service::render_report(state.store.clone(), &scope, &code, None, &org, &period).await?;
    let (saved, _) = service::finalise(state.store.as_ref(), &me.actor(), &report).await?;
    Ok(Redirect::to(&format!("/reports/finals/{}", saved.id)).into_response())
}

#[derive(Template)]
#[template(path = "report_final.html")]
struct FinalPage {
    chrome: Chrome,
    row: FinalRow,
    figure_count: usize,
    changes: Vec<FigureChange>,
}

/// A finalised report and the figures that changed since.
pub async fn final_report(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let scope = me.scope();
    let (f, changes) = service::changes_since(state.store.clone(), &scope, id).await?;
    let figure_count = service::frozen_of(&f)?.figures.len();
    let row = final_rows(&state, &me, vec![f]).await.remove(0);
    Ok(render(FinalPage {
        chrome: Chrome::of(&me),
        row,
        figure_count,
        changes,
    }))
}
