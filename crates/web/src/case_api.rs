//! Cases out of the system: the JSON API (`/api/v1/cases`, `/api/v1/cases/{id}`, documented in
//! the OpenAPI of [`crate::api`]) and the XLSX export of the list, both within the caller's
//! scope. The export goes through the exchange crate's writer (formulas neutralised) and masks
//! personal data: party names keep their first character, long numbers in free text their ends.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use xiangzhi_domain::case::{CaseKind, CaseStatus, Tier};
use xiangzhi_domain::redact::{mask_name, mask_numbers};
use xiangzhi_exchange::Cell;
use xiangzhi_exchange::write::XlsxExport;
use xiangzhi_store::case::{Case, CaseQuery};

use crate::api::{ApiError, ApiUser, ErrorBody};
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::pages::parse_code;
use crate::state::AppState;

/// Filters of the case list, shared by the API and the export.
#[derive(Deserialize, Default, utoipa::IntoParams)]
pub struct CaseListQuery {
    /// 类型：dispute petition complaint incident hazard
    kind: Option<String>,
    /// 状态：registered accepted rejected assigned handling replied followed_up closed archived
    status: Option<String>,
    /// 当前承办层级：grid village township county
    tier: Option<String>,
    /// 只看此单位（须在管辖范围内）及其下级
    org: Option<String>,
    /// 非空时只看超期未办结的
    overdue: Option<String>,
    /// 翻页：早于此编号（按编号倒序）
    before_id: Option<i64>,
    /// 每页条数（最多 5000，默认 200）
    limit: Option<u32>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parsed<T>(s: &Option<String>, parse: fn(&str) -> Option<T>, what: &str) -> AppResult<Option<T>> {
    nonempty(s)
        .map(|v| parse(v).ok_or_else(|| AppError::bad(format!("未知的{what}“{v}”"))))
        .transpose()
}

impl CaseListQuery {
    fn to_query(&self, default_limit: u32) -> AppResult<CaseQuery> {
        Ok(CaseQuery {
            kind: parsed(&self.kind, CaseKind::parse, "事件类型")?,
            status: parsed(&self.status, CaseStatus::parse, "状态")?,
            tier: parsed(&self.tier, Tier::parse, "层级")?,
            org: nonempty(&self.org).map(parse_code).transpose()?,
            overdue_on: nonempty(&self.overdue).map(|_| Utc::now().date_naive()),
            before_id: self.before_id,
            limit: self.limit.unwrap_or(default_limit).clamp(1, 5000),
            ..Default::default()
        })
    }
}

#[derive(Serialize, ToSchema)]
pub struct CaseDto {
    id: i64,
    /// dispute petition complaint incident hazard
    kind: String,
    kind_label: String,
    category_code: String,
    category_label: String,
    title: String,
    description: String,
    org_code: String,
    org_name: String,
    location: String,
    source: String,
    status: String,
    status_label: String,
    /// 当前承办层级
    tier: String,
    assignee: Option<String>,
    /// red yellow blue
    risk: Option<String>,
    urgent: bool,
    registered_on: String,
    acceptance_deadline: String,
    closing_deadline: Option<String>,
    /// 正常、临期、超期
    due: String,
    reminders: u32,
    supervised: bool,
    /// 化解层级（办结后）
    resolution_tier: Option<String>,
    closed_on: Option<String>,
    version: i64,
}

impl From<&Case> for CaseDto {
    fn from(c: &Case) -> Self {
        let s = &c.state;
        CaseDto {
            id: c.id,
            kind: c.kind.as_str().into(),
            kind_label: c.kind.label().into(),
            category_code: c.category_code.clone(),
            category_label: c.category_label.clone(),
            title: c.title.clone(),
            description: c.description.clone(),
            org_code: c.org_code.to_string(),
            org_name: c.org_name.clone(),
            location: c.location.clone(),
            source: c.source.clone(),
            status: s.status.as_str().into(),
            status_label: s.status.label().into(),
            tier: s.tier.as_str().into(),
            assignee: s.assignee.clone(),
            risk: s.risk.map(|r| r.as_str().into()),
            urgent: s.urgent,
            registered_on: s.registered_on.to_string(),
            acceptance_deadline: s.acceptance_deadline.to_string(),
            closing_deadline: s.closing_deadline.map(|d| d.to_string()),
            due: c.due_status(Utc::now().date_naive()).label(),
            reminders: s.reminders,
            supervised: s.supervised,
            resolution_tier: s.resolution_tier.map(|t| t.as_str().into()),
            closed_on: s.closed_on.map(|d| d.to_string()),
            version: c.version,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CasePartyDto {
    /// 人口库中的人员编号（不在人口库的为空）
    person_id: Option<i64>,
    name: String,
    /// applicant respondent other
    role: String,
}

#[derive(Serialize, ToSchema)]
pub struct CaseEventDto {
    kind: String,
    kind_label: String,
    description: String,
    status_after: String,
    tier_after: String,
    on_date: String,
    at: String,
    actor_name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CaseAttachmentDto {
    name: String,
    size: i64,
    /// 下载地址（需登录，限管辖范围）
    url: String,
}

#[derive(Serialize, ToSchema)]
pub struct CaseDetailDto {
    case: CaseDto,
    parties: Vec<CasePartyDto>,
    /// 办理过程，按时间先后
    events: Vec<CaseEventDto>,
    attachments: Vec<CaseAttachmentDto>,
}

#[utoipa::path(get, path = "/api/v1/cases", summary = "管辖范围内的事件，最新在前", params(CaseListQuery),
    responses((status = 200, description = "事件", body = Vec<CaseDto>), (status = 400, description = "参数有误", body = ErrorBody),
        (status = 404, description = "单位不存在或不在管辖范围内", body = ErrorBody)))]
pub async fn cases(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Query(q): Query<CaseListQuery>,
) -> Result<Json<Vec<CaseDto>>, ApiError> {
    let list = state.store.cases(&me.scope(), &q.to_query(200)?).await?;
    Ok(Json(list.iter().map(CaseDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/cases/{id}", summary = "一件事件：当事人、办理过程和附件",
    params(("id" = i64, Path, description = "事件编号")),
    responses((status = 200, description = "事件", body = CaseDetailDto), (status = 404, description = "不存在或不在管辖范围内", body = ErrorBody)))]
pub async fn case(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(id): Path<i64>,
) -> Result<Json<CaseDetailDto>, ApiError> {
    let scope = me.scope();
    let d = state.store.case(&scope, id).await?;
    let attachments = state.store.case_attachments(&scope, id).await?;
    Ok(Json(CaseDetailDto {
        case: CaseDto::from(&d.case),
        parties: d
            .parties
            .into_iter()
            .map(|p| CasePartyDto {
                person_id: p.person_id,
                name: p.name,
                role: p.role.as_str().into(),
            })
            .collect(),
        events: d
            .events
            .into_iter()
            .map(|e| CaseEventDto {
                kind: e.kind.as_str().into(),
                kind_label: e.kind.label().into(),
                description: e.description,
                status_after: e.status_after.as_str().into(),
                tier_after: e.tier_after.as_str().into(),
                on_date: e.on_date.to_string(),
                at: e.at,
                actor_name: e.actor_name,
            })
            .collect(),
        attachments: attachments
            .into_iter()
            .map(|a| CaseAttachmentDto {
                url: format!("/case-files/{}", a.sha256),
                name: a.name,
                size: a.size,
            })
            .collect(),
    }))
}

const EXPORT_HEADERS: [&str; 20] = [
    "编号",
    "登记日期",
    "类型",
    "类别",
    "标题",
    "事件描述",
    "发生地",
    "具体位置",
    "来源",
    "风险等级",
    "状态",
    "承办层级",
    "承办人",
    "受理期限",
    "办结期限",
    "期限状态",
    "催办次数",
    "化解层级",
    "办结日期",
    "当事人",
];

/// The rows of the export, masked: `(case, party names)`.
fn export_row(c: &Case, parties: &[String]) -> Vec<Cell> {
    let s = &c.state;
    let text = |t: String| Cell::Text(t);
    let date = |d: Option<chrono::NaiveDate>| d.map_or(Cell::Empty, |d| text(d.to_string()));
    vec![
        Cell::Int(c.id),
        text(s.registered_on.to_string()),
        text(c.kind.label().into()),
        text(c.category_label.clone()),
        text(mask_numbers(&c.title)),
        text(mask_numbers(&c.description)),
        text(c.org_name.clone()),
        text(mask_numbers(&c.location)),
        text(c.source.clone()),
        s.risk
            .map_or(Cell::Empty, |r| text(format!("{}色", r.label()))),
        text(s.status.label().into()),
        text(format!("{}级", s.tier.label())),
        s.assignee.clone().map_or(Cell::Empty, text),
        text(s.acceptance_deadline.to_string()),
        date(s.closing_deadline),
        text(c.due_status(Utc::now().date_naive()).label()),
        Cell::Int(i64::from(s.reminders)),
        s.resolution_tier
            .map_or(Cell::Empty, |t| text(format!("{}级", t.label()))),
        date(s.closed_on),
        text(
            parties
                .iter()
                .map(|n| mask_name(n))
                .collect::<Vec<_>>()
                .join("、"),
        ),
    ]
}

/// `GET /cases/export.xlsx`: the filtered list as the user may see it, at most 5000 rows.
pub async fn export(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<CaseListQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let list = state.store.cases(&scope, &q.to_query(5000)?).await?;
    let mut rows = Vec::with_capacity(list.len());
    for c in &list {
        let d = state.store.case(&scope, c.id).await?;
        let names: Vec<String> = d.parties.into_iter().map(|p| p.name).collect();
        rows.push(export_row(c, &names));
    }
    // Building the workbook is CPU work: off the async threads.
    let bytes = tokio::task::spawn_blocking(move || {
        let mut x = XlsxExport::new("事件", &EXPORT_HEADERS[..])?;
        for r in &rows {
            x.write_row(r)?;
        }
        x.finish()
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let name = format!("事件导出{}.xlsx", Utc::now().date_naive().format("%Y%m%d"));
    Ok(crate::import_pages::xlsx(bytes, &name))
}
