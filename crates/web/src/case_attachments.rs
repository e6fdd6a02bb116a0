//! Attachments of a case: uploaded on the case page (type and size checked by the store) and
//! served by content hash only to someone who sees a case that carries the file.

use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

pub async fn upload(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    mut form: Multipart,
) -> AppResult<Response> {
    let mut files = Vec::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::bad("提交的表单无法读取"))?
    {
        if field.name() != Some("files") {
            continue;
        }
        let name = field.file_name().unwrap_or("附件").to_string();
        let mime = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|_| AppError::bad("附件上传不完整"))?;
        if !bytes.is_empty() {
            files.push((name, mime, bytes));
        }
    }
    // The case first: a foreign id answers 404 whatever was sent.
    state.store.case(&me.scope(), id).await?;
    if files.is_empty() {
        return Err(AppError::bad("请选择要上传的附件"));
    }
    // All checked before any is kept, so a bad file leaves the case as it was.
    for (name, _, bytes) in &files {
        if let Some(p) = xiangzhi_store::case_settings::case_file_problem(name, bytes.len()) {
            return Err(AppError::bad(p));
        }
    }
    for (name, mime, bytes) in &files {
        state
            .store
            .attach_case_file(&me.actor(), id, name, mime, bytes)
            .await?;
    }
    Ok(Redirect::to(&format!("/cases/{id}?ok=1")).into_response())
}

pub async fn file(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(sha): Path<String>,
) -> AppResult<Response> {
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let f = state.store.case_file(&me.scope(), &sha).await?;
    Ok(crate::ledger_pages::download(f.content, &f.name))
}
