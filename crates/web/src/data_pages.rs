//! Pages of 统计数据: the entry form of a unit's data elements for a period, XLSX import, the
//! approval (a village submits, the township approves and the period locks) and the list of
//! data-quality violations. The store checks scope, periods and locks.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use xiangzhi_domain::ledger::SubmissionAction;
use xiangzhi_domain::period::Period;
use xiangzhi_domain::role::Permission;
use xiangzhi_engine::Engine;
use xiangzhi_engine::quality::{Violation, violations};
use xiangzhi_store::indicator::{
    DataApproval, DataElement, DataValueImportRow, DataValueInput, DataValueQuery,
};
use xiangzhi_store::registry::ImportIssue;

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::indicator_pages::{default_year, ranking_level, unit_of};
use crate::pages::{Chrome, parse_code};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct DataQuery {
    org: Option<String>,
    period: Option<String>,
    year: Option<String>,
    ok: Option<String>,
}

pub struct ElementRow {
    pub e: DataElement,
    pub value: String,
    pub comment: String,
}

#[derive(Template)]
#[template(path = "data.html")]
struct DataPage {
    chrome: Chrome,
    unit_name: String,
    unit_code: String,
    period: String,
    rows: Vec<ElementRow>,
    approval: DataApproval,
    editable: bool,
    can_write: bool,
    can_review: bool,
    below: Vec<DataApproval>,
    ok: String,
    issues: Vec<ImportIssue>,
}

async fn data_page(
    state: &AppState,
    me: &CurrentUser,
    q: &DataQuery,
    issues: Vec<ImportIssue>,
) -> AppResult<Response> {
    let unit = unit_of(state, me, q.org.as_deref()).await?;
    let period = match q.period.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => p.to_string(),
        None => default_year(state, me).await.to_string(),
    };
    let period = Period::parse(&period)
        .map_err(|_| AppError::bad(format!("期间“{period}”无效")))?
        .to_string();
    let scope = me.scope();
    let elements = state.store.data_elements().await?;
    let values = state
        .store
        .data_values(
            &scope,
            &DataValueQuery {
                element: None,
                org: Some(unit.code.clone()),
                period_prefix: Some(period.clone()),
            },
        )
        .await?;
    let rows = elements
        .into_iter()
        .filter(|e| e.level == unit.level.as_str())
        .map(|e| {
            let v = values.iter().find(|v| {
                v.element_code == e.code && v.org_code == unit.code.as_str() && v.period == period
            });
            ElementRow {
                value: v.map(|v| v.value.to_string()).unwrap_or_default(),
                comment: v.map(|v| v.comment.clone()).unwrap_or_default(),
                e,
            }
        })
        .collect();
    let approval = state
        .store
        .data_approval(&scope, &unit.code, &period)
        .await?;
    let below = match ranking_level(unit.level) {
        Some(level) if me.can(Permission::TownshipReview) => {
            state
                .store
                .data_approvals(&scope, &unit.code, level, &period)
                .await?
        }
        _ => Vec::new(),
    };
    Ok(render(DataPage {
        chrome: Chrome::of(me),
        unit_name: unit.name,
        unit_code: unit.code.to_string(),
        editable: approval.status.editable() && me.can(Permission::Write),
        approval,
        period,
        rows,
        can_write: me.can(Permission::Write),
        can_review: me.can(Permission::TownshipReview),
        below,
        ok: q.ok.clone().unwrap_or_default(),
        issues,
    }))
}

pub async fn data(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<DataQuery>,
) -> AppResult<Response> {
    data_page(&state, &me, &q, Vec::new()).await
}

/// `org`, `period`, then `v_CODE` (value) and `c_CODE` (comment) per element.
pub async fn save(
    State(state): State<AppState>,
    me: CurrentUser,
    axum::Form(form): axum::Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let org = parse_code(&get("org"))?;
    // Scope before anything else: a foreign unit is "not found".
    state.store.org_unit(&me.scope(), &org).await?;
    me.require(Permission::Write)?;
    let period = get("period");
    let mut rows = Vec::new();
    for (k, v) in &form {
        let Some(code) = k.strip_prefix("v_") else {
            continue;
        };
        if v.trim().is_empty() {
            continue;
        }
        let value: f64 = v
            .trim()
            .parse()
            .map_err(|_| AppError::bad(format!("“{code}”的数值“{}”不是数字", v.trim())))?;
        rows.push(DataValueImportRow {
            line: rows.len() + 1,
            value: DataValueInput {
                element_code: code.to_string(),
                org_code: org.clone(),
                period: period.clone(),
                value,
                comment: get(&format!("c_{code}")),
            },
        });
    }
    // One transaction for the whole form: a bad value leaves everything as it was.
    let out = state
        .store
        .import_data_values(&me.actor(), &rows, false)
        .await?;
    if !out.issues.is_empty() {
        let q = DataQuery {
            org: Some(org.to_string()),
            period: Some(period),
            ..Default::default()
        };
        let mut res = data_page(&state, &me, &q, out.issues).await?;
        *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
        return Ok(res);
    }
    Ok(Redirect::to(&format!("/data?org={org}&period={period}&ok=saved")).into_response())
}

/// XLSX/CSV with columns 数据项代码, 单位代码, 期间, 数值, 备注; every row must lie under `org`.
pub async fn import(
    State(state): State<AppState>,
    me: CurrentUser,
    mut form: Multipart,
) -> AppResult<Response> {
    let mut org = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::bad(format!("上传内容无效：{e}")))?
    {
        match field.name().unwrap_or("") {
            "org" => {
                org = field
                    .text()
                    .await
                    .map_err(|e| AppError::bad(e.to_string()))?
            }
            "file" => {
                let name = field.file_name().unwrap_or("data.xlsx").to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|e| AppError::bad(e.to_string()))?;
                file = Some((name, bytes.to_vec()));
            }
            _ => {}
        }
    }
    let unit = parse_code(org.trim())?;
    let unit = state.store.org_unit(&me.scope(), &unit).await?;
    me.require(Permission::Write)?;
    let (name, bytes) = file.ok_or_else(|| AppError::bad("请选择要导入的文件"))?;
    let sheet = tokio::task::spawn_blocking(move || {
        xiangzhi_exchange::read_table(&bytes, &name, &xiangzhi_exchange::Limits::default())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::bad(e.to_string()))?;
    let col = |h: &str| sheet.headers.iter().position(|x| x.trim() == h);
    let (Some(ce), Some(co), Some(cp), Some(cv)) =
        (col("数据项代码"), col("单位代码"), col("期间"), col("数值"))
    else {
        return Err(AppError::bad(
            "表头应包含：数据项代码、单位代码、期间、数值（备注可选）",
        ));
    };
    let cc = col("备注");
    let mut rows = Vec::new();
    let mut issues = Vec::new();
    for r in &sheet.rows {
        let line = r.line;
        let text = |c: usize| r.get(c).display();
        let org_text = text(co);
        let Ok(org_code) = xiangzhi_domain::org::DivisionCode::parse(org_text.trim()) else {
            issues.push(ImportIssue {
                line,
                column: "单位代码".into(),
                reason: format!("单位代码“{org_text}”无效"),
            });
            continue;
        };
        if !org_code.as_str().starts_with(unit.code.as_str()) {
            issues.push(ImportIssue {
                line,
                column: "单位代码".into(),
                reason: format!("{org_code} 不在{}之下", unit.name),
            });
            continue;
        }
        let Ok(value) = text(cv).trim().parse::<f64>() else {
            issues.push(ImportIssue {
                line,
                column: "数值".into(),
                reason: format!("“{}”不是数字", text(cv)),
            });
            continue;
        };
        rows.push(DataValueImportRow {
            line,
            value: DataValueInput {
                element_code: text(ce).trim().to_string(),
                org_code,
                period: text(cp).trim().to_string(),
                value,
                comment: cc.map(text).unwrap_or_default(),
            },
        });
    }
    if issues.is_empty() {
        let out = state
            .store
            .import_data_values(&me.actor(), &rows, false)
            .await?;
        issues = out.issues;
    }
    let q = DataQuery {
        org: Some(unit.code.to_string()),
        ok: issues.is_empty().then(|| "imported".to_string()),
        ..Default::default()
    };
    if issues.is_empty() {
        return Ok(Redirect::to(&format!("/data?org={}&ok=imported", unit.code)).into_response());
    }
    let mut res = data_page(&state, &me, &q, issues).await?;
    *res.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    Ok(res)
}

#[derive(Deserialize)]
pub struct ApprovalForm {
    #[serde(default)]
    org: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
    /// The unit whose page to go back to.
    #[serde(default)]
    back: String,
}

pub async fn approval(
    State(state): State<AppState>,
    me: CurrentUser,
    axum::Form(f): axum::Form<ApprovalForm>,
) -> AppResult<Response> {
    let org = parse_code(f.org.trim())?;
    state.store.org_unit(&me.scope(), &org).await?;
    let action = SubmissionAction::parse(&f.action).ok_or_else(|| AppError::bad("未知的操作"))?;
    me.require(if action == SubmissionAction::Submit {
        Permission::Write
    } else {
        Permission::TownshipReview
    })?;
    let note: String = f.note.trim().chars().take(500).collect();
    let a = state
        .store
        .data_approval_action(&me.actor(), &org, f.period.trim(), action, &note)
        .await?;
    let back = match parse_code(f.back.trim()) {
        Ok(b) => b.to_string(),
        Err(_) => a.org_code.clone(),
    };
    Ok(Redirect::to(&format!(
        "/data?org={back}&period={}&ok={}",
        a.period,
        action.as_str()
    ))
    .into_response())
}

#[derive(Template)]
#[template(path = "data_quality.html")]
struct QualityPage {
    chrome: Chrome,
    unit_name: String,
    unit_code: String,
    year: String,
    list: Vec<Violation>,
}

pub async fn quality(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<DataQuery>,
) -> AppResult<Response> {
    let unit = unit_of(&state, &me, q.org.as_deref()).await?;
    let year = match q.year.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(y) => y.to_string(),
        None => default_year(&state, &me).await.to_string(),
    };
    let period = Period::parse(&year).map_err(|_| AppError::bad(format!("年份“{year}”无效")))?;
    let scope = me.scope();
    let engine = Engine::load_cached(state.store.as_ref(), &scope, &state.figures).await?;
    let level = ranking_level(unit.level).unwrap_or(unit.level);
    let list = violations(&engine, unit.code.as_str(), &period, level).await?;
    Ok(render(QualityPage {
        chrome: Chrome::of(&me),
        unit_name: unit.name,
        unit_code: unit.code.to_string(),
        year: period.to_string(),
        list,
    }))
}
