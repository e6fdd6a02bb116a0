//! The server-rendered pages.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::role::{Permission, Role};
use xiangzhi_store::{AuditEntry, AuditFilter, NewUser, OrgEvent, OrgUnit, User};

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::password;
use crate::state::AppState;

/// What the page frame needs about the viewer.
pub struct Chrome {
    pub display_name: String,
    pub role_label: &'static str,
    pub csrf: String,
    pub can_manage_users: bool,
    pub can_view_audit: bool,
}

impl Chrome {
    pub fn of(me: &CurrentUser) -> Chrome {
        Chrome {
            display_name: me.user.display_name.clone(),
            role_label: me.user.role.label(),
            csrf: me.csrf.clone(),
            can_manage_users: me.can(Permission::ManageUsers),
            can_view_audit: me.can(Permission::ViewAudit),
        }
    }
}

pub fn parse_code(s: &str) -> AppResult<DivisionCode> {
    DivisionCode::parse(s).map_err(|_| AppError::NotFound)
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    chrome: Chrome,
    scope_name: String,
    scope_code: String,
    unit_count: u64,
}

pub async fn home(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let scope = me.scope();
    let unit = state.store.org_unit(&scope, &me.user.org_code).await?;
    let unit_count = state.store.org_count(&scope).await?;
    Ok(render(HomePage {
        chrome: Chrome::of(&me),
        scope_name: unit.name,
        scope_code: unit.code.to_string(),
        unit_count,
    }))
}

#[derive(Template)]
#[template(path = "org.html")]
struct OrgPage {
    chrome: Chrome,
    q: String,
    results: Vec<OrgUnit>,
    unit: Option<OrgUnit>,
    crumbs: Vec<(String, String)>,
    children: Vec<OrgUnit>,
    history: Vec<OrgEvent>,
    can_add_grid: bool,
    can_rename: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct OrgQuery {
    #[serde(default)]
    q: String,
    ok: Option<String>,
}

fn notice(ok: Option<&str>) -> Option<&'static str> {
    match ok? {
        "grid" => Some("已新增网格"),
        "rename" => Some("已更名"),
        "merge" => Some("已合并"),
        "split" => Some("已拆分"),
        "user" => Some("已新增用户"),
        "active" => Some("已更新用户状态"),
        "password" => Some("已重设密码，该用户需重新登录"),
        _ => None,
    }
}

pub async fn org_index(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<OrgQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let query = q.q.trim().chars().take(50).collect::<String>();
    let results = if query.is_empty() {
        Vec::new()
    } else {
        state.store.org_search(&scope, &query, 100).await?
    };
    let children = state.store.org_children(&scope, None).await?;
    Ok(render(OrgPage {
        chrome: Chrome::of(&me),
        q: query,
        results,
        unit: None,
        crumbs: Vec::new(),
        children,
        history: Vec::new(),
        can_add_grid: false,
        can_rename: false,
        notice: None,
    }))
}

pub async fn org_unit(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<OrgQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let code = parse_code(&code)?;
    let unit = state.store.org_unit(&scope, &code).await?;
    let children = state.store.org_children(&scope, Some(&code)).await?;
    let history = state.store.org_history(&scope, &code).await?;
    let mut crumbs = Vec::new();
    for c in unit.path.codes().filter(|c| *c != code.as_str()) {
        // Ancestors above the viewer's scope are simply not shown.
        if let Ok(a) = state.store.org_unit(&scope, &parse_code(c)?).await {
            crumbs.push((a.code.to_string(), a.name));
        }
    }
    Ok(render(OrgPage {
        chrome: Chrome::of(&me),
        q: String::new(),
        results: Vec::new(),
        can_add_grid: unit.level == OrgLevel::Village
            && unit.is_active()
            && me.can(Permission::Write),
        can_rename: me.can(Permission::ManageOrg),
        unit: Some(unit),
        crumbs,
        children,
        history,
        notice: notice(q.ok.as_deref()),
    }))
}

#[derive(Deserialize)]
pub struct NameForm {
    name: String,
}

pub async fn add_grid(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<NameForm>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let code = parse_code(&code)?;
    state.store.add_grid(&me.actor(), &code, &form.name).await?;
    Ok(Redirect::to(&format!("/org/{code}?ok=grid")).into_response())
}

#[derive(Deserialize)]
pub struct RenameForm {
    name: String,
    effective: String,
}

pub async fn rename(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<RenameForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageOrg)?;
    let code = parse_code(&code)?;
    let effective = NaiveDate::parse_from_str(form.effective.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad("生效日期格式应为 2024-01-01"))?;
    state
        .store
        .rename_org_unit(&me.actor(), &code, &form.name, effective)
        .await?;
    Ok(Redirect::to(&format!("/org/{code}?ok=rename")).into_response())
}

fn parse_date(s: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad("生效日期格式应为 2024-01-01"))
}

#[derive(Deserialize)]
pub struct MergeForm {
    into: String,
    effective: String,
}

pub async fn merge(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<MergeForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageOrg)?;
    let from = parse_code(&code)?;
    let into = DivisionCode::parse(&form.into).map_err(|e| AppError::bad(e.to_string()))?;
    state
        .store
        .merge_org_units(&me.actor(), &from, &into, parse_date(&form.effective)?)
        .await?;
    Ok(Redirect::to(&format!("/org/{into}?ok=merge")).into_response())
}

#[derive(Deserialize)]
pub struct SplitForm {
    new_code: String,
    name: String,
    /// Codes of the children that go to the new unit, separated by commas or spaces.
    #[serde(default)]
    children: String,
    effective: String,
}

pub async fn split(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Form(form): Form<SplitForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageOrg)?;
    let from = parse_code(&code)?;
    let new_code = DivisionCode::parse(&form.new_code).map_err(|e| AppError::bad(e.to_string()))?;
    let children = form
        .children
        .split([',', '，', ' ', '\n'])
        .filter(|c| !c.trim().is_empty())
        .map(|c| DivisionCode::parse(c).map_err(|e| AppError::bad(e.to_string())))
        .collect::<AppResult<Vec<_>>>()?;
    let unit = state
        .store
        .split_org_unit(
            &me.actor(),
            &from,
            &new_code,
            &form.name,
            &children,
            parse_date(&form.effective)?,
        )
        .await?;
    Ok(Redirect::to(&format!("/org/{}?ok=split", unit.code)).into_response())
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<User>,
    roles: Vec<(&'static str, &'static str)>,
    notice: Option<&'static str>,
}

pub async fn users(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<OrgQuery>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    let users = state.store.list_users(&me.scope()).await?;
    Ok(render(UsersPage {
        chrome: Chrome::of(&me),
        users,
        roles: Role::ALL.iter().map(|r| (r.as_str(), r.label())).collect(),
        notice: notice(q.ok.as_deref()),
    }))
}

#[derive(Deserialize)]
pub struct NewUserForm {
    username: String,
    display_name: String,
    role: String,
    org_code: String,
    password: String,
}

pub async fn create_user(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<NewUserForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    let role = Role::parse(&f.role).ok_or_else(|| AppError::bad("未知的角色"))?;
    let org_code = DivisionCode::parse(&f.org_code).map_err(|e| AppError::bad(e.to_string()))?;
    password::check_strength(&f.password).map_err(AppError::BadRequest)?;
    let pw = f.password.clone();
    let password_hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let new = NewUser {
        username: f.username,
        display_name: f.display_name,
        role,
        org_code,
        password_hash,
    };
    state.store.create_user(&me.actor(), new).await?;
    Ok(Redirect::to("/users?ok=user").into_response())
}

#[derive(Deserialize)]
pub struct ActiveForm {
    active: bool,
}

pub async fn set_active(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ActiveForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    state
        .store
        .set_user_active(&me.actor(), id, f.active)
        .await?;
    Ok(Redirect::to("/users?ok=active").into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// An administrator sets a new password; the user's sessions end.
pub async fn reset_password(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<PasswordForm>,
) -> AppResult<Response> {
    me.require(Permission::ManageUsers)?;
    password::check_strength(&f.password).map_err(AppError::BadRequest)?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&f.password))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    state.store.set_password(&me.actor(), id, &hash).await?;
    Ok(Redirect::to("/users?ok=password").into_response())
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditEntry>,
    entities: Vec<(&'static str, &'static str)>,
    filter_entity: String,
    filter_entity_id: String,
    filter_actor: String,
    filter_since: String,
    filter_until: String,
    verify: Option<String>,
    verify_ok: bool,
    next_before: Option<i64>,
    next_link: String,
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    before_id: Option<i64>,
    verify: Option<String>,
}

const PAGE: u32 = 100;

pub fn audit_filter(q: &AuditQuery) -> AppResult<AuditFilter> {
    let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let date = |s: &str| -> AppResult<Option<String>> {
        match some(s) {
            None => Ok(None),
            Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map(|d| Some(d.format("%Y-%m-%d").to_string()))
                .map_err(|_| AppError::bad("日期格式应为 2024-01-01")),
        }
    };
    Ok(AuditFilter {
        entity: some(&q.entity),
        entity_id: some(&q.entity_id),
        actor: some(&q.actor),
        action: None,
        since: date(&q.since)?,
        // `until` is inclusive for people: the whole day.
        until: date(&q.until)?.map(|d| format!("{d}T99")),
        before_id: q.before_id,
        limit: PAGE,
    })
}

pub async fn audit(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<AuditQuery>,
) -> AppResult<Response> {
    me.require(Permission::ViewAudit)?;
    let filter = audit_filter(&q)?;
    let entries = state.store.audit_list(&me.scope(), &filter).await?;
    let (verify, verify_ok) = if q.verify.is_some() {
        let report = state.store.audit_verify().await?;
        match report.first_break {
            None => (
                Some(format!("哈希链完整：共 {} 条记录，未发现篡改", report.rows)),
                true,
            ),
            Some(b) => (Some(format!("发现篡改：{b}")), false),
        }
    } else {
        (None, false)
    };
    let next_before = (entries.len() as u32 == PAGE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let next_link = format!(
        "/audit?entity={}&entity_id={}&actor={}&since={}&until={}",
        enc(&q.entity),
        enc(&q.entity_id),
        enc(&q.actor),
        enc(&q.since),
        enc(&q.until)
    );
    Ok(render(AuditPage {
        chrome: Chrome::of(&me),
        entries,
        entities: vec![("org_unit", "组织单元"), ("user", "用户")],
        filter_entity: q.entity,
        filter_entity_id: q.entity_id,
        filter_actor: q.actor,
        filter_since: q.since,
        filter_until: q.until,
        verify,
        verify_ok,
        next_before,
        next_link,
    }))
}
