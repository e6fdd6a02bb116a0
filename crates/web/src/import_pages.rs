//! Registry import through the browser: upload, preview (nothing written), then commit all or
//! nothing; the error report as XLSX with the bad cells marked; empty templates.
//!
//! The uploaded file waits between preview and commit in a small in-memory stash, bound to the
//! user who uploaded it and dropped after 30 minutes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Permission;
use xiangzhi_exchange::{Limits, RowError};
use xiangzhi_intake as intake;
use xiangzhi_store::registry::ImportSummary;

use crate::auth::{CurrentUser, random_token, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::state::AppState;

const TTL: Duration = Duration::from_secs(30 * 60);
/// Errors listed on the page; the XLSX report has them all.
const SHOWN_ERRORS: usize = 200;

struct Upload<K> {
    user_id: i64,
    /// What the file is for: the registry kind and unit, a ledger and its unit and period.
    what: K,
    file_name: String,
    bytes: Vec<u8>,
    at: Instant,
}

/// Uploads between preview and commit, keyed by a random token.
pub struct UploadStash<K>(Arc<Mutex<HashMap<String, Upload<K>>>>);

impl<K> Clone for UploadStash<K> {
    fn clone(&self) -> Self {
        UploadStash(self.0.clone())
    }
}

impl<K> Default for UploadStash<K> {
    fn default() -> Self {
        UploadStash(Default::default())
    }
}

impl<K: Clone> UploadStash<K> {
    pub(crate) fn put(&self, user_id: i64, what: K, file_name: String, bytes: Vec<u8>) -> String {
        let token = random_token();
        let mut map = self.0.lock().expect("stash lock");
        map.retain(|_, v| v.at.elapsed() < TTL);
        map.insert(
            token.clone(),
            Upload {
                user_id,
                what,
                file_name,
                bytes,
                at: Instant::now(),
            },
        );
        token
    }

    /// The upload, if it is this user's and still fresh; anyone else's token is "not found".
    pub(crate) fn get(&self, token: &str, user_id: i64) -> AppResult<(K, String, Vec<u8>)> {
        let map = self.0.lock().expect("stash lock");
        match map.get(token) {
            Some(u) if u.user_id == user_id && u.at.elapsed() < TTL => {
                Ok((u.what.clone(), u.file_name.clone(), u.bytes.clone()))
            }
            _ => Err(AppError::NotFound),
        }
    }

    pub(crate) fn take(&self, token: &str) {
        self.0.lock().expect("stash lock").remove(token);
    }
}

fn kind(s: &str) -> AppResult<intake::Kind> {
    match s {
        "persons" => Ok(intake::Kind::Persons),
        "households" => Ok(intake::Kind::Households),
        "enterprises" => Ok(intake::Kind::Enterprises),
        "enrollments" => Ok(intake::Kind::Enrollments),
        "payouts" => Ok(intake::Kind::Payouts),
        "cases" => Ok(intake::Kind::Cases),
        _ => Err(AppError::NotFound),
    }
}

fn kind_code(k: intake::Kind) -> &'static str {
    match k {
        intake::Kind::Persons => "persons",
        intake::Kind::Households => "households",
        intake::Kind::Enterprises => "enterprises",
        intake::Kind::Enrollments => "enrollments",
        intake::Kind::Payouts => "payouts",
        intake::Kind::Cases => "cases",
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    chrome: Chrome,
    org: String,
    kinds: Vec<(&'static str, &'static str)>,
}

pub async fn import_form(me: CurrentUser) -> AppResult<Response> {
    me.require(Permission::Write)?;
    Ok(render(ImportPage {
        chrome: Chrome::of(&me),
        org: me.user.org_code.to_string(),
        kinds: [
            intake::Kind::Persons,
            intake::Kind::Households,
            intake::Kind::Enterprises,
            intake::Kind::Enrollments,
            intake::Kind::Payouts,
            intake::Kind::Cases,
        ]
        .into_iter()
        .map(|k| (kind_code(k), k.label()))
        .collect(),
    }))
}

pub async fn template(me: CurrentUser, Path(k): Path<String>) -> AppResult<Response> {
    let k = kind(k.trim_end_matches(".xlsx"))?;
    let _ = &me;
    let bytes = tokio::task::spawn_blocking(move || intake::template(k))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(xlsx(bytes, &format!("{}导入模板.xlsx", k.label())))
}

pub(crate) fn xlsx(bytes: Vec<u8>, name: &str) -> Response {
    attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "import.xlsx",
        name,
    )
}

/// A download: `fallback` is the ASCII file name for old clients, `name` the Chinese one.
pub(crate) fn attachment(
    bytes: Vec<u8>,
    content_type: &'static str,
    fallback: &str,
    name: &str,
) -> Response {
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}

#[derive(Template)]
#[template(path = "import_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    token: String,
    kind_label: &'static str,
    file_name: String,
    rows: usize,
    summary: ImportSummary,
    errors: Vec<RowError>,
    more_errors: usize,
    warnings: Vec<String>,
    committed: bool,
}

/// Parses and validates off the async threads; previews unless `commit`.
async fn run(
    state: &AppState,
    me: &CurrentUser,
    k: intake::Kind,
    org: &DivisionCode,
    file_name: &str,
    bytes: Vec<u8>,
    commit: bool,
) -> AppResult<(intake::ImportReport, usize)> {
    let name = file_name.to_string();
    let sheet = tokio::task::spawn_blocking(move || {
        intake::read_sheet(k, &bytes, &name, &Limits::default())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let rows = sheet.rows.len();
    let report = intake::import_sheet(&state.store, &me.actor(), k, &sheet, org, !commit)
        .await
        .map_err(|e| match e.downcast::<xiangzhi_store::StoreError>() {
            Ok(store) => AppError::from(store),
            Err(other) => AppError::BadRequest(other.to_string()),
        })?;
    Ok((report, rows))
}

pub async fn upload(
    State(state): State<AppState>,
    me: CurrentUser,
    mut form: Multipart,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let (mut k, mut org, mut file) = (None, None, None);
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::bad("上传的表单无法读取"))?
    {
        match field.name().unwrap_or_default() {
            "kind" => {
                k = Some(
                    kind(&field.text().await.unwrap_or_default())
                        .map_err(|_| AppError::bad("请选择导入类型"))?,
                )
            }
            "org" => {
                let text = field.text().await.unwrap_or_default();
                org = Some(DivisionCode::parse(&text).map_err(|e| AppError::bad(e.to_string()))?);
            }
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
    let k = k.ok_or_else(|| AppError::bad("请选择导入类型"))?;
    let org = org.unwrap_or_else(|| me.user.org_code.clone());
    // A unit outside the scope is "not found" before the file is even read.
    state.store.org_unit(&me.scope(), &org).await?;
    let (file_name, bytes) = file
        .filter(|(_, b)| !b.is_empty())
        .ok_or_else(|| AppError::bad("请选择要导入的文件"))?;
    let (report, rows) = run(&state, &me, k, &org, &file_name, bytes.clone(), false).await?;
    let token = state
        .uploads
        .put(me.user.id, (k, org), file_name.clone(), bytes);
    Ok(preview(&me, token, k, file_name, rows, report))
}

fn preview(
    me: &CurrentUser,
    token: String,
    k: intake::Kind,
    file_name: String,
    rows: usize,
    report: intake::ImportReport,
) -> Response {
    let more_errors = report.errors.len().saturating_sub(SHOWN_ERRORS);
    let mut warnings = report.warnings.clone();
    warnings.extend(
        report
            .credit_code_warnings
            .iter()
            .map(|(line, w)| format!("第{line}行：{w}")),
    );
    render(PreviewPage {
        chrome: Chrome::of(me),
        token,
        kind_label: k.label(),
        file_name,
        rows,
        committed: report.summary.committed,
        summary: report.summary,
        errors: report.errors.into_iter().take(SHOWN_ERRORS).collect(),
        more_errors,
        warnings,
    })
}

pub async fn commit(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(token): Path<String>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let ((k, org), file_name, bytes) = state.uploads.get(&token, me.user.id)?;
    let (report, rows) = run(&state, &me, k, &org, &file_name, bytes, true).await?;
    if report.summary.committed {
        state.uploads.take(&token);
    }
    Ok(preview(&me, token, k, file_name, rows, report))
}

pub async fn error_report(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(token): Path<String>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let token = token.trim_end_matches(".xlsx").to_string();
    let ((k, org), file_name, bytes) = state.uploads.get(&token, me.user.id)?;
    let name = file_name.clone();
    let sheet = tokio::task::spawn_blocking(move || {
        intake::read_sheet(k, &bytes, &name, &Limits::default())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let report = intake::import_sheet(&state.store, &me.actor(), k, &sheet, &org, true)
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let out = tokio::task::spawn_blocking(move || intake::error_report(&sheet, &report))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(xlsx(out, &format!("{file_name}-错误报告.xlsx")))
}
