//! The JSON API under `/api/v1`, described by an OpenAPI document that is also rendered as a
//! docs page (no JavaScript, works offline).

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};
use xiangzhi_domain::role::Permission;
use xiangzhi_store::{AuditEntry, OrgEvent, OrgUnit, User};

use crate::auth::{CurrentUser, render};
use crate::error::AppError;
use crate::pages::{AuditQuery, audit_filter, parse_code};
use crate::state::AppState;

/// Errors as `{"error": "中文说明"}` with the matching status.
pub struct ApiError(AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// 中文错误说明
    error: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error (api)");
        }
        let status = self.0.status();
        (
            status,
            Json(ErrorBody {
                error: self.0.message(),
            }),
        )
            .into_response()
    }
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// The API's own extractor: 401 JSON instead of a redirect.
pub struct ApiUser(pub CurrentUser);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ApiUser {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &S,
    ) -> Result<Self, ApiError> {
        CurrentUser::from_request_parts(parts, s)
            .await
            .map(ApiUser)
            .map_err(ApiError)
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrgUnitDto {
    /// 区划代码
    code: String,
    name: String,
    /// province, city, county, township, village, grid
    level: String,
    level_label: String,
    parent_code: Option<String>,
    path: String,
    /// 撤销日期（合并后）
    valid_to: Option<String>,
    successor_code: Option<String>,
    child_count: i64,
}

impl From<OrgUnit> for OrgUnitDto {
    fn from(u: OrgUnit) -> Self {
        OrgUnitDto {
            code: u.code.to_string(),
            name: u.name,
            level: u.level.as_str().into(),
            level_label: u.level.label().into(),
            parent_code: u.parent_code.map(|c| c.to_string()),
            path: u.path.to_string(),
            valid_to: u.valid_to.map(|d| d.to_string()),
            successor_code: u.successor_code.map(|c| c.to_string()),
            child_count: u.child_count,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OrgEventDto {
    kind: String,
    kind_label: String,
    effective: String,
    detail: String,
    other_code: Option<String>,
}

impl From<OrgEvent> for OrgEventDto {
    fn from(e: OrgEvent) -> Self {
        OrgEventDto {
            kind: e.kind.as_str().into(),
            kind_label: e.kind.label().into(),
            effective: e.effective.to_string(),
            detail: e.detail,
            other_code: e.other_code.map(|c| c.to_string()),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UserDto {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    role_label: String,
    org_code: String,
    active: bool,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        UserDto {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role.as_str().into(),
            role_label: u.role.label().into(),
            org_code: u.org_code.to_string(),
            active: u.active,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeDto {
    user: UserDto,
    /// 修改数据的请求须在 X-CSRF-Token 请求头中带上此值
    csrf_token: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntryDto {
    id: i64,
    at: String,
    actor_name: String,
    ip: Option<String>,
    action: String,
    entity: String,
    entity_id: String,
    old_value: Option<String>,
    new_value: Option<String>,
    hash: String,
}

impl From<AuditEntry> for AuditEntryDto {
    fn from(e: AuditEntry) -> Self {
        AuditEntryDto {
            id: e.id,
            at: e.at,
            actor_name: e.actor_name,
            ip: e.ip,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            old_value: e.old_value,
            new_value: e.new_value,
            hash: e.hash,
        }
    }
}

#[utoipa::path(get, path = "/api/v1/me", summary = "当前登录用户及 CSRF 令牌", responses(
    (status = 200, description = "当前用户", body = MeDto), (status = 401, description = "未登录", body = ErrorBody)))]
pub async fn me(ApiUser(me): ApiUser) -> ApiResult<MeDto> {
    Ok(Json(MeDto {
        csrf_token: me.csrf.clone(),
        user: me.user.into(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// 名称片段或代码前缀；为空时返回管辖范围的根单位
    #[serde(default)]
    q: String,
}

#[utoipa::path(get, path = "/api/v1/org", summary = "在管辖范围内查找组织单元", params(SearchQuery), responses(
    (status = 200, description = "匹配的单位（最多 100 个）", body = Vec<OrgUnitDto>)))]
pub async fn org_search(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Vec<OrgUnitDto>> {
    let scope = me.scope();
    let units = if q.q.trim().is_empty() {
        state.store.org_children(&scope, None).await?
    } else {
        state
            .store
            .org_search(&scope, &q.q.chars().take(50).collect::<String>(), 100)
            .await?
    };
    Ok(Json(units.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/org/{code}", summary = "一个组织单元", params(("code" = String, Path, description = "区划代码")),
    responses((status = 200, description = "单位", body = OrgUnitDto), (status = 404, description = "不存在或不在管辖范围内", body = ErrorBody)))]
pub async fn org_unit(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<OrgUnitDto> {
    Ok(Json(
        state
            .store
            .org_unit(&me.scope(), &parse_code(&code)?)
            .await?
            .into(),
    ))
}

#[utoipa::path(get, path = "/api/v1/org/{code}/children", summary = "下级单位", params(("code" = String, Path, description = "区划代码")),
    responses((status = 200, description = "现行的下级单位", body = Vec<OrgUnitDto>), (status = 404, description = "不存在或不在管辖范围内", body = ErrorBody)))]
pub async fn org_children(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<OrgUnitDto>> {
    let units = state
        .store
        .org_children(&me.scope(), Some(&parse_code(&code)?))
        .await?;
    Ok(Json(units.into_iter().map(Into::into).collect()))
}

#[utoipa::path(get, path = "/api/v1/org/{code}/history", summary = "沿革：更名、合并、拆分", params(("code" = String, Path, description = "区划代码")),
    responses((status = 200, description = "按生效日期排列", body = Vec<OrgEventDto>), (status = 404, description = "不存在或不在管辖范围内", body = ErrorBody)))]
pub async fn org_history(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Vec<OrgEventDto>> {
    let events = state
        .store
        .org_history(&me.scope(), &parse_code(&code)?)
        .await?;
    Ok(Json(events.into_iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
pub struct NewGrid {
    /// 网格名称
    name: String,
}

#[utoipa::path(post, path = "/api/v1/org/{code}/grids", summary = "在村/社区下新增网格（需 X-CSRF-Token）",
    params(("code" = String, Path, description = "村/社区代码")), request_body = NewGrid,
    responses((status = 201, description = "新网格", body = OrgUnitDto), (status = 400, description = "输入有误", body = ErrorBody),
        (status = 403, description = "无权限或令牌错误", body = ErrorBody), (status = 404, description = "不存在或不在管辖范围内", body = ErrorBody)))]
pub async fn add_grid(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(code): Path<String>,
    Json(body): Json<NewGrid>,
) -> Result<(StatusCode, Json<OrgUnitDto>), ApiError> {
    me.require(Permission::Write)?;
    let unit = state
        .store
        .add_grid(&me.actor(), &parse_code(&code)?, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(unit.into())))
}

#[utoipa::path(get, path = "/api/v1/users", summary = "管辖范围内的用户（系统管理员）",
    responses((status = 200, description = "用户", body = Vec<UserDto>), (status = 403, description = "无权限", body = ErrorBody)))]
pub async fn users(State(state): State<AppState>, ApiUser(me): ApiUser) -> ApiResult<Vec<UserDto>> {
    me.require(Permission::ManageUsers)?;
    Ok(Json(
        state
            .store
            .list_users(&me.scope())
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/audit", summary = "审计日志（系统管理员、审计员），最新在前",
    params(("entity" = Option<String>, Query, description = "对象类型"), ("entity_id" = Option<String>, Query, description = "对象编号"),
        ("actor" = Option<String>, Query, description = "操作人"), ("since" = Option<String>, Query, description = "起始日期 YYYY-MM-DD"),
        ("until" = Option<String>, Query, description = "截止日期 YYYY-MM-DD"), ("before_id" = Option<i64>, Query, description = "翻页：早于此编号")),
    responses((status = 200, description = "记录", body = Vec<AuditEntryDto>), (status = 403, description = "无权限", body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Vec<AuditEntryDto>> {
    me.require(Permission::ViewAudit)?;
    let entries = state
        .store
        .audit_list(&me.scope(), &audit_filter(&q)?)
        .await?;
    Ok(Json(entries.into_iter().map(Into::into).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct LedgerFieldDto {
    key: String,
    label: String,
    /// text integer decimal date bool choice multi_choice person household enterprise org location attachment
    #[serde(rename = "type")]
    kind: String,
    unit: Option<String>,
    required: bool,
    options: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerDto {
    code: String,
    name: String,
    department: String,
    /// none, day, week, month, quarter, six_month, year
    period: String,
    /// grid, village, township
    level: String,
    /// none, household, person, enterprise, village
    roster: String,
    version: i64,
    fields: Vec<LedgerFieldDto>,
}

impl From<xiangzhi_store::ledger::Ledger> for LedgerDto {
    fn from(l: xiangzhi_store::ledger::Ledger) -> Self {
        let d = l.definition;
        LedgerDto {
            code: l.code,
            name: d.name,
            department: d.department,
            period: d.period,
            level: d.level.as_str().into(),
            roster: d.roster.as_str().into(),
            version: l.version,
            fields: d
                .fields
                .into_iter()
                .map(|f| LedgerFieldDto {
                    key: f.key,
                    label: f.label,
                    kind: serde_json::to_value(f.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    unit: f.unit,
                    required: f.required,
                    options: f.options,
                })
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/ledgers", summary = "全部台账及其当前版本的字段",
    responses((status = 200, description = "台账", body = Vec<LedgerDto>)))]
pub async fn ledgers(
    State(state): State<AppState>,
    ApiUser(_me): ApiUser,
) -> ApiResult<Vec<LedgerDto>> {
    Ok(Json(
        state
            .store
            .ledgers()
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct LedgerEntryDto {
    id: i64,
    version: i64,
    org_code: String,
    org_name: String,
    /// 期间代码（DHIS2 格式），不分期时为空
    period: String,
    subject: Option<String>,
    subject_label: Option<String>,
    /// 字段代码 → 值（数字、文本、是否、多选数组、地点或附件对象；引用为记录编号）
    #[schema(value_type = Object)]
    values: serde_json::Value,
    filled: bool,
    updated_at: String,
    updated_by: String,
}

impl From<xiangzhi_store::ledger::LedgerEntry> for LedgerEntryDto {
    fn from(e: xiangzhi_store::ledger::LedgerEntry) -> Self {
        LedgerEntryDto {
            id: e.id,
            version: e.version,
            org_code: e.org_code.to_string(),
            org_name: e.org_name,
            period: e.period,
            subject: e.subject,
            subject_label: e.subject_label,
            values: serde_json::to_value(&e.values).unwrap_or_default(),
            filled: e.filled,
            updated_at: e.updated_at,
            updated_by: e.updated_by,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LedgerEntriesQuery {
    /// 填报单位或其上级单位的代码
    org: Option<String>,
    /// 期间代码，如 2023、202301
    period: Option<String>,
    /// 翻页：晚于此编号
    after: Option<i64>,
    /// 每页条数（最多 5000，默认 200）
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/ledgers/{ledger}/entries", summary = "管辖范围内的台账记录（按编号翻页）",
    params(("ledger" = String, Path, description = "台账代码"), LedgerEntriesQuery),
    responses((status = 200, description = "记录", body = Vec<LedgerEntryDto>), (status = 404, description = "台账或单位不存在或不在管辖范围内", body = ErrorBody)))]
pub async fn ledger_entries(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(ledger): Path<String>,
    Query(q): Query<LedgerEntriesQuery>,
) -> ApiResult<Vec<LedgerEntryDto>> {
    let org = q
        .org
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_code)
        .transpose()?;
    let entries = state
        .store
        .entries(
            &me.scope(),
            &ledger,
            &xiangzhi_store::ledger::EntryQuery {
                org,
                period: q.period.filter(|p| !p.trim().is_empty()),
                include_void: false,
                after_id: q.after,
                limit: q.limit.unwrap_or(200).min(5000),
            },
        )
        .await?;
    Ok(Json(entries.into_iter().map(Into::into).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct FieldAggDto {
    count: i64,
    sum: Option<f64>,
    avg: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct AggRowDto {
    org_code: Option<String>,
    org_name: Option<String>,
    period: Option<String>,
    entries: i64,
    #[schema(value_type = Object)]
    fields: std::collections::BTreeMap<String, FieldAggDto>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AggregateQuery {
    /// 按此层级的单位分组：province city county township village grid；为空则不按单位分组
    level: Option<String>,
    /// 按期间分组：month quarter six_month year；为空则不按期间分组
    by: Option<String>,
    /// 期间前缀：2023 汇总 2023 年内的各期
    period: Option<String>,
    /// 只汇总此单位（须在管辖范围内）
    org: Option<String>,
    /// 要汇总的数值字段，逗号分隔；为空则全部数值字段
    fields: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/ledgers/{ledger}/aggregate", summary = "台账汇总：计数、合计、平均、最小、最大，按单位层级和期间分组",
    params(("ledger" = String, Path, description = "台账代码"), AggregateQuery),
    responses((status = 200, description = "分组结果", body = Vec<AggRowDto>), (status = 400, description = "参数有误", body = ErrorBody),
        (status = 404, description = "台账或单位不存在或不在管辖范围内", body = ErrorBody)))]
pub async fn ledger_aggregate(
    State(state): State<AppState>,
    ApiUser(me): ApiUser,
    Path(ledger): Path<String>,
    Query(q): Query<AggregateQuery>,
) -> ApiResult<Vec<AggRowDto>> {
    let nonempty = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let group_level = nonempty(&q.level)
        .map(|l| {
            xiangzhi_domain::org::OrgLevel::parse(&l)
                .ok_or_else(|| AppError::bad(format!("未知的层级“{l}”")))
        })
        .transpose()?;
    let group_period = nonempty(&q.by)
        .map(|b| {
            xiangzhi_domain::period::PeriodType::parse(&b)
                .ok_or_else(|| AppError::bad(format!("未知的期间类型“{b}”")))
        })
        .transpose()?;
    let query = xiangzhi_store::ledger::LedgerQuery {
        org: nonempty(&q.org).map(|c| parse_code(&c)).transpose()?,
        period_prefix: nonempty(&q.period),
        group_level,
        group_period,
        fields: nonempty(&q.fields)
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        filters: Vec::new(),
    };
    let rows = state
        .store
        .ledger_aggregate(&me.scope(), &ledger, &query)
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AggRowDto {
                org_code: r.org_code.map(|c| c.to_string()),
                org_name: r.org_name,
                period: r.period,
                entries: r.entries,
                fields: r
                    .fields
                    .into_iter()
                    .map(|(k, a)| {
                        let dto = FieldAggDto {
                            count: a.count,
                            sum: a.sum,
                            avg: a.avg(),
                            min: a.min,
                            max: a.max,
                        };
                        (k, dto)
                    })
                    .collect(),
            })
            .collect(),
    ))
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "乡治 xiangzhi API",
        description = "乡镇治理数据接口。所有数据按登录用户的管辖范围过滤：范围外的记录一律返回 404。"
    ),
    paths(
        me,
        org_search,
        org_unit,
        org_children,
        org_history,
        add_grid,
        users,
        audit,
        ledgers,
        ledger_entries,
        ledger_aggregate,
        crate::case_api::cases,
        crate::case_api::case
    )
)]
pub struct ApiDoc;

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub struct OperationView {
    method: &'static str,
    path: String,
    summary: String,
    params: Vec<(String, String, bool, String)>,
    responses: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    title: String,
    version: String,
    description: String,
    operations: Vec<OperationView>,
}

pub async fn docs() -> Response {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{Deprecated, RefOr, Required};
    let doc = ApiDoc::openapi();
    let mut operations = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("DELETE", &item.delete),
        ] {
            let Some(op) = op else { continue };
            if matches!(op.deprecated, Some(Deprecated::True)) {
                continue;
            }
            let params = op
                .parameters
                .iter()
                .flatten()
                .map(|p| {
                    let place = match p.parameter_in {
                        ParameterIn::Path => "路径",
                        ParameterIn::Query => "查询",
                        ParameterIn::Header => "请求头",
                        ParameterIn::Cookie => "Cookie",
                    };
                    (
                        p.name.clone(),
                        place.to_string(),
                        matches!(p.required, Required::True),
                        p.description.clone().unwrap_or_default(),
                    )
                })
                .collect();
            let responses = op
                .responses
                .responses
                .iter()
                .map(|(code, r)| {
                    let d = match r {
                        RefOr::T(r) => r.description.clone(),
                        RefOr::Ref(r) => r.ref_location.clone(),
                    };
                    (code.clone(), d)
                })
                .collect();
            operations.push(OperationView {
                method,
                path: path.clone(),
                summary: op.summary.clone().unwrap_or_default(),
                params,
                responses,
            });
        }
    }
    render(DocsPage {
        title: doc.info.title.clone(),
        version: doc.info.version.clone(),
        description: doc.info.description.clone().unwrap_or_default(),
        operations,
    })
}
