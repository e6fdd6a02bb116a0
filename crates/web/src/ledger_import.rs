//! A ledger's spreadsheet round trip in the browser: the template of a unit and period (its
//! existing and roster rows filled in), upload with preview, all-or-nothing commit and the XLSX
//! error report — the same steps as the registry import, on the same upload stash.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Permission;
use xiangzhi_exchange::RowError;
use xiangzhi_intake::ledger as excel;
use xiangzhi_store::ledger::{EntryImportOutcome, EntryQuery, Ledger, LedgerEntry};

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::import_pages::xlsx;
use crate::ledger_pages::checked_period;
use crate::pages::{Chrome, parse_code};
use crate::state::AppState;

/// Errors listed on the page; the XLSX report has them all.
const SHOWN_ERRORS: usize = 200;

#[derive(Clone)]
pub struct LedgerUpload {
    ledger: String,
    org: DivisionCode,
    period: String,
}

#[derive(Deserialize, Default)]
pub struct TemplateParams {
    org: Option<String>,
    period: Option<String>,
}

/// Every entry of a unit and period, page by page.
async fn all_entries(
    state: &AppState,
    me: &CurrentUser,
    ledger: &str,
    org: &DivisionCode,
    period: &str,
) -> AppResult<Vec<LedgerEntry>> {
    let mut out: Vec<LedgerEntry> = Vec::new();
    loop {
        let page = state
            .store
            .entries(
                &me.scope(),
                ledger,
                &EntryQuery {
                    org: Some(org.clone()),
                    period: Some(period.to_string()),
                    include_void: false,
                    after_id: out.last().map(|e| e.id),
                    limit: 5000,
                },
            )
            .await?;
        let n = page.len();
        out.extend(page);
        if n < 5000 {
            return Ok(out);
        }
    }
}

pub async fn template(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<TemplateParams>,
) -> AppResult<Response> {
    let l = state.store.ledger(&code).await?;
    let org = match q.org.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => parse_code(c)?,
        None => me.user.org_code.clone(),
    };
    let unit = state.store.org_unit(&me.scope(), &org).await?;
    let period = checked_period(&l.definition, q.period.as_deref())?;
    let rows = all_entries(&state, &me, &code, &org, &period).await?;
    let name = format!("{}{}{}.xlsx", unit.name, period, l.definition.name);
    let bytes =
        tokio::task::spawn_blocking(move || excel::template(&l, &unit.name, &period, &rows))
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(xlsx(bytes, &name))
}

#[derive(Template)]
#[template(path = "ledger_import_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    code: String,
    name: String,
    org: String,
    period: String,
    token: String,
    file_name: String,
    rows: usize,
    outcome: EntryImportOutcome,
    errors: Vec<RowError>,
    more_errors: usize,
}

/// Parses off the async threads and asks the store; commits only when asked and clean.
async fn run(
    state: &AppState,
    me: &CurrentUser,
    l: Ledger,
    up: &LedgerUpload,
    file_name: &str,
    bytes: Vec<u8>,
    commit: bool,
) -> AppResult<(
    EntryImportOutcome,
    Vec<RowError>,
    xiangzhi_exchange::Sheet,
    usize,
)> {
    let name = file_name.to_string();
    let (org, period) = (up.org.clone(), up.period.clone());
    let attachments: Vec<String> = l
        .definition
        .fields
        .iter()
        .filter(|f| f.kind == xiangzhi_domain::ledger::FieldType::Attachment)
        .map(|f| f.key.clone())
        .collect();
    let parsed = tokio::task::spawn_blocking(move || {
        excel::parse_upload(&l, &bytes, &name, Some(&org), &period)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let mut parsed = parsed;
    excel::resolve_references(state.store.as_ref(), &me.scope(), &mut parsed).await?;
    let mut errors = parsed.errors.clone();
    let mut rows = parsed.rows;
    // A spreadsheet cannot carry files: a changed row keeps the attachments it had.
    if !attachments.is_empty() {
        for r in rows.iter_mut() {
            let Some(id) = r.entry.id else { continue };
            if let Ok(e) = state.store.entry(&me.scope(), id).await {
                for k in &attachments {
                    if let Some(v) = e.values.get(k) {
                        r.entry.values.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
    }
    let dry_run = !commit || !errors.is_empty();
    let outcome = state
        .store
        .import_entries(&me.actor(), &up.ledger, &rows, dry_run)
        .await?;
    errors.extend(
        outcome
            .issues
            .iter()
            .map(|i| RowError::new(i.line, i.column.clone(), i.reason.clone())),
    );
    errors.sort_by_key(|e| e.line);
    let rows = parsed.sheet.rows.len();
    Ok((outcome, errors, parsed.sheet, rows))
}

#[allow(clippy::too_many_arguments)]
fn preview(
    me: &CurrentUser,
    l: &Ledger,
    up: &LedgerUpload,
    token: String,
    file_name: String,
    rows: usize,
    mut outcome: EntryImportOutcome,
    errors: Vec<RowError>,
) -> Response {
    let more_errors = errors.len().saturating_sub(SHOWN_ERRORS);
    // Rows refused while reading the file count as invalid too.
    let bad_lines: std::collections::BTreeSet<usize> = errors.iter().map(|e| e.line).collect();
    outcome.invalid = outcome.invalid.max(bad_lines.len() as u64);
    render(PreviewPage {
        chrome: Chrome::of(me),
        code: l.code.clone(),
        name: l.definition.name.clone(),
        org: up.org.to_string(),
        period: up.period.clone(),
        token,
        file_name,
        rows,
        outcome,
        errors: errors.into_iter().take(SHOWN_ERRORS).collect(),
        more_errors,
    })
}

pub async fn upload(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    mut form: Multipart,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let l = state.store.ledger(&code).await?;
    let (mut org, mut period, mut file) = (None, String::new(), None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::bad("上传的表单无法读取"))?
    {
        match field.name().unwrap_or_default() {
            "org" => {
                let text = field.text().await.unwrap_or_default();
                if !text.trim().is_empty() {
                    org = Some(
                        DivisionCode::parse(text.trim())
                            .map_err(|e| AppError::bad(e.to_string()))?,
                    );
                }
            }
            "period" => period = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| AppError::bad("文件上传不完整"))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let org = org.unwrap_or_else(|| me.user.org_code.clone());
    // A unit outside the scope is "not found" before the file is even read.
    state.store.org_unit(&me.scope(), &org).await?;
    let period = checked_period(&l.definition, Some(&period))?;
    let (file_name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| AppError::bad("请选择要导入的文件"))?;
    let up = LedgerUpload {
        ledger: code,
        org,
        period,
    };
    let (outcome, errors, _, rows) = run(
        &state,
        &me,
        l.clone(),
        &up,
        &file_name,
        bytes.clone(),
        false,
    )
    .await?;
    let token = state
        .ledger_uploads
        .put(me.user.id, up.clone(), file_name.clone(), bytes);
    Ok(preview(
        &me, &l, &up, token, file_name, rows, outcome, errors,
    ))
}

pub async fn commit(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((code, token)): Path<(String, String)>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let (up, file_name, bytes) = state.ledger_uploads.get(&token, me.user.id)?;
    if up.ledger != code {
        return Err(AppError::NotFound);
    }
    let l = state.store.ledger(&code).await?;
    let (outcome, errors, _, rows) =
        run(&state, &me, l.clone(), &up, &file_name, bytes, true).await?;
    if outcome.committed {
        state.ledger_uploads.take(&token);
    }
    Ok(preview(
        &me, &l, &up, token, file_name, rows, outcome, errors,
    ))
}

pub async fn error_report(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((code, token)): Path<(String, String)>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let token = token.trim_end_matches(".xlsx").to_string();
    let (up, file_name, bytes) = state.ledger_uploads.get(&token, me.user.id)?;
    if up.ledger != code {
        return Err(AppError::NotFound);
    }
    let l = state.store.ledger(&code).await?;
    let (_, errors, sheet, _) = run(&state, &me, l, &up, &file_name, bytes, false).await?;
    let out = tokio::task::spawn_blocking(move || excel::error_report(&sheet, &errors))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(xlsx(out, &format!("{file_name}-错误报告.xlsx")))
}
