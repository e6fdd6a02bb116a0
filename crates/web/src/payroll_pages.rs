//! Payroll pages (发放表): generate a monthly payroll for a program and unit, approve it (not
//! by whoever generated it — the store refuses), download the bank file (XLSX, with the full
//! ID and account: permissioned and audited by the store), mark lines paid or failed as the
//! bank reports, and reconcile.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use xiangzhi_domain::assistance::Frequency;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::assistance::{LineOutcome, LineStatus, Payroll, PayrollLine, PayrollStatus};

use crate::assistance_pages::{OkQuery, given, unit_choices};
use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "payrolls.html")]
struct PayrollsPage {
    chrome: Chrome,
    list: Vec<Payroll>,
    programs: Vec<(String, String)>,
    units: Vec<(String, String)>,
    month: String,
}

pub async fn payrolls(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let list = state.store.payrolls(&me.scope(), None).await?;
    let programs = state
        .store
        .programs()
        .await?
        .into_iter()
        .filter(|p| p.frequency == Frequency::Monthly)
        .map(|p| (p.code, p.name))
        .collect();
    Ok(render(PayrollsPage {
        chrome: Chrome::of(&me),
        list,
        programs,
        units: unit_choices(&state, &me).await?,
        month: chrono::Utc::now().format("%Y%m").to_string(),
    }))
}

#[derive(Deserialize)]
pub struct GenerateForm {
    program: Option<String>,
    org: Option<String>,
    period: Option<String>,
}

pub async fn generate(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<GenerateForm>,
) -> AppResult<Response> {
    let org = given(&f.org).ok_or_else(|| AppError::bad("请选择发放单位"))?;
    let org = DivisionCode::parse(org).map_err(|_| AppError::NotFound)?;
    let program = given(&f.program).ok_or_else(|| AppError::bad("请选择救助项目"))?;
    let period = given(&f.period).ok_or_else(|| AppError::bad("请填写发放月份，如 202305"))?;
    let p = state
        .store
        .generate_payroll(&me.actor(), program, &org, period)
        .await?;
    Ok(Redirect::to(&format!("/assistance/payrolls/{}?ok=1", p.id)).into_response())
}

#[derive(Template)]
#[template(path = "payroll.html")]
struct PayrollPage {
    chrome: Chrome,
    p: Payroll,
    lines: Vec<PayrollLine>,
    pending: usize,
    draft: bool,
    exported: bool,
    can_export: bool,
    notice: bool,
}

pub async fn payroll(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let p = state.store.payroll(&me.scope(), id).await?;
    let lines = state.store.payroll_lines(&me.scope(), id, None, 0).await?;
    Ok(render(PayrollPage {
        chrome: Chrome::of(&me),
        pending: lines
            .iter()
            .filter(|l| l.status == LineStatus::Pending)
            .count(),
        draft: p.status == PayrollStatus::Draft,
        exported: p.status == PayrollStatus::Exported,
        can_export: matches!(p.status, PayrollStatus::Approved | PayrollStatus::Exported),
        p,
        lines,
        notice: q.ok.is_some(),
    }))
}

pub async fn approve(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    state.store.approve_payroll(&me.actor(), id).await?;
    Ok(Redirect::to(&format!("/assistance/payrolls/{id}?ok=1")).into_response())
}

/// The bank file. A POST, since it marks the payroll exported and is audited.
pub async fn bank_file(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let lines = state.store.payroll_bank_lines(&me.actor(), id).await?;
    let p = state.store.payroll(&me.scope(), id).await?;
    let bytes =
        crate::bank_file::bank_xlsx(&p, &lines).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::import_pages::xlsx(
        bytes,
        &format!("{}-{}-代发.xlsx", p.period, p.program_name),
    ))
}

/// Marks lines as the bank reported: `s_<line>` = `paid` | `failed`, `n_<line>` the note.
pub async fn mark(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    state.store.payroll(&me.scope(), id).await?;
    let note = |line: &str| {
        form.iter()
            .find(|(k, _)| k.strip_prefix("n_") == Some(line))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut outcomes = Vec::new();
    for (k, v) in &form {
        let Some(line) = k.strip_prefix("s_") else {
            continue;
        };
        let status = match v.as_str() {
            "" => continue,
            "paid" => LineStatus::Paid,
            "failed" => LineStatus::Failed,
            _ => return Err(AppError::bad("发放结果只能是已发放或发放失败")),
        };
        outcomes.push(LineOutcome {
            line_id: line
                .parse()
                .map_err(|_| AppError::bad("发放明细编号无效"))?,
            status,
            note: note(line),
        });
    }
    if outcomes.is_empty() {
        return Err(AppError::bad("请至少选择一行的发放结果"));
    }
    state.store.mark_lines(&me.actor(), id, &outcomes).await?;
    Ok(Redirect::to(&format!("/assistance/payrolls/{id}?ok=1")).into_response())
}

pub async fn reconcile(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let r = state.store.reconcile_payroll(&me.actor(), id).await?;
    if !r.reconciled {
        return Err(AppError::bad(format!(
            "还有{}行未登记发放结果，不能对账",
            r.pending
        )));
    }
    Ok(Redirect::to(&format!("/assistance/payrolls/{id}?ok=1")).into_response())
}
