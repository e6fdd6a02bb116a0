//! Pages of 社会治理: my to-do list, the case list with filters, and the case page with its
//! timeline and a form for each step the state machine allows next. The store decides scope
//! and legality; these handlers only parse and render.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use xiangzhi_domain::case::{CaseKind, CaseStatus, EventKind, Tier};
use xiangzhi_store::case::{
    Case, CaseDetail, CaseQuery, CaseRules, KeyPerson, KeyPersonQuery, Task, TaskQuery,
    tier_of_scope,
};

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::state::AppState;

/// A case as a row: with where it stands against its deadline.
pub struct CaseRow {
    c: Case,
    due: String,
    overdue: bool,
}

fn rows(cases: Vec<Case>) -> Vec<CaseRow> {
    let today = Utc::now().date_naive();
    cases
        .into_iter()
        .map(|c| {
            let due = c.due_status(today);
            CaseRow {
                overdue: matches!(due, xiangzhi_domain::case::DueStatus::Overdue(_)),
                due: due.label(),
                c,
            }
        })
        .collect()
}

fn pick<T: Copy>(
    s: &Option<String>,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> AppResult<Option<T>> {
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => parse(v)
            .map(Some)
            .ok_or_else(|| AppError::bad(format!("未知的{what}"))),
    }
}

#[derive(Deserialize, Default)]
pub struct CaseFilter {
    kind: Option<String>,
    status: Option<String>,
    tier: Option<String>,
    overdue: Option<String>,
    reminded: Option<usize>,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    chrome: Chrome,
    rows: Vec<CaseRow>,
    kind: String,
    status: String,
    tier: String,
    overdue: bool,
    kinds: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    tiers: Vec<(&'static str, &'static str)>,
    can_write: bool,
    /// Where this user sets time limits and categories: their township (or county).
    settings_code: Option<String>,
    can_remind: bool,
    my_org: String,
    reminded: Option<usize>,
}

/// Leaders send 催办 in bulk.
fn may_remind(me: &CurrentUser) -> bool {
    use xiangzhi_domain::role::Role;
    matches!(
        me.user.role,
        Role::Admin | Role::TownshipLeader | Role::CountyApprover
    )
}

pub async fn cases(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(f): Query<CaseFilter>,
) -> AppResult<Response> {
    let overdue = f.overdue.as_deref().is_some_and(|v| !v.is_empty());
    let query = CaseQuery {
        kind: pick(&f.kind, CaseKind::parse, "事件类型")?,
        status: pick(&f.status, CaseStatus::parse, "状态")?,
        tier: pick(&f.tier, Tier::parse, "层级")?,
        overdue_on: overdue.then(|| Utc::now().date_naive()),
        limit: 500,
        ..Default::default()
    };
    let cases = state.store.cases(&me.scope(), &query).await?;
    Ok(render(CasesPage {
        chrome: Chrome::of(&me),
        rows: rows(cases),
        kind: f.kind.unwrap_or_default(),
        status: f.status.unwrap_or_default(),
        tier: f.tier.unwrap_or_default(),
        overdue,
        kinds: CaseKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        statuses: CaseStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        tiers: Tier::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        can_write: me.can(xiangzhi_domain::role::Permission::Write),
        settings_code: (manages_township(&me)
            && matches!(
                tier_of_scope(&me.user.org_path),
                Tier::Township | Tier::County
            ))
        .then(|| me.user.org_code.to_string()),
        can_remind: may_remind(&me),
        my_org: me.user.org_code.to_string(),
        reminded: f.reminded,
    }))
}

#[derive(Deserialize)]
pub struct RemindForm {
    org: String,
}

/// 一键催办: every soon-due and overdue case under `org`, through the state machine.
pub async fn remind(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<RemindForm>,
) -> AppResult<Response> {
    if !may_remind(&me) {
        return Err(AppError::forbidden("只有领导可以批量催办"));
    }
    let unit = state
        .store
        .org_unit(&me.scope(), &crate::pages::parse_code(&f.org)?)
        .await?;
    let mut actor = me.actor();
    if unit.path != me.user.org_path {
        actor.scope = xiangzhi_store::Scope::new(unit.path);
    }
    let done = state
        .store
        .remind_due_cases(&actor, &CaseRules::default(), Utc::now().date_naive())
        .await?;
    Ok(Redirect::to(&format!("/cases?reminded={}", done.len())).into_response())
}

#[derive(Template)]
#[template(path = "todo.html")]
struct TodoPage {
    chrome: Chrome,
    rows: Vec<CaseRow>,
    /// Of my cases, those reminded (催办) or supervised (督办).
    pressed: Vec<CaseRow>,
    visits: Vec<KeyPerson>,
    tasks: Vec<Task>,
    today: String,
    /// 民生保障's part, rendered by its own module.
    assistance: String,
}

/// Cases assigned to me and still open, key persons whose visit is due, my overdue tasks.
pub async fn todo(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let scope = me.scope();
    let today = Utc::now().date_naive();
    let name = me.user.username.clone();
    let cases = state
        .store
        .cases(
            &scope,
            &CaseQuery {
                assignee: Some(name.clone()),
                open_only: true,
                ..Default::default()
            },
        )
        .await?;
    let visits = state
        .store
        .key_persons(
            &scope,
            &KeyPersonQuery {
                cadre: Some(name.clone()),
                due_by: Some(today),
                ..Default::default()
            },
        )
        .await?;
    let tasks = state
        .store
        .tasks(
            &scope,
            &TaskQuery {
                owner: Some(name),
                overdue_on: Some(today),
                ..Default::default()
            },
        )
        .await?;
    let pressed = rows(
        cases
            .iter()
            .filter(|c| c.state.reminders > 0 || c.state.supervised)
            .cloned()
            .collect(),
    );
    Ok(render(TodoPage {
        chrome: Chrome::of(&me),
        rows: rows(cases),
        pressed,
        visits,
        tasks,
        today: today.to_string(),
        assistance: crate::assistance_pages::todo_section(&state, &me).await?,
    }))
}

/// A step the page offers, with the fields its form needs.
pub struct Step {
    code: &'static str,
    label: &'static str,
    reason: bool,
    text: bool,
    tier: bool,
    assignee: bool,
    days: bool,
    satisfied: bool,
}

fn step(e: EventKind) -> Step {
    use EventKind as E;
    Step {
        code: e.as_str(),
        label: e.label(),
        reason: matches!(
            e,
            E::Reject | E::Return | E::ApplyExtension | E::Escalate | E::Supervise
        ),
        text: matches!(e, E::Reply | E::FollowUp),
        tier: matches!(e, E::Assign | E::DelegateDown),
        assignee: e == E::Assign,
        days: e == E::ApplyExtension,
        satisfied: e == E::FollowUp,
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    d: CaseDetail,
    due: String,
    steps: Vec<Step>,
    tiers: Vec<(&'static str, &'static str)>,
    my_tier: &'static str,
    notice: bool,
    attachments: Vec<xiangzhi_store::case_settings::CaseAttachment>,
    can_write: bool,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn case(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let d = state.store.case(&me.scope(), id).await?;
    let attachments = state.store.case_attachments(&me.scope(), id).await?;
    let due = d.case.due_status(Utc::now().date_naive()).label();
    // Only the steps the transition table allows from here; the store checks the rest.
    let steps = EventKind::ALL
        .into_iter()
        .filter(|e| *e != EventKind::Register && e.allowed_from(d.case.state.status))
        .map(step)
        .collect();
    Ok(render(CasePage {
        chrome: Chrome::of(&me),
        d,
        due,
        steps,
        tiers: Tier::ALL.iter().map(|t| (t.as_str(), t.label())).collect(),
        my_tier: tier_of_scope(&me.user.org_path).label(),
        notice: q.ok.is_some(),
        attachments,
        can_write: me.can(xiangzhi_domain::role::Permission::Write),
    }))
}

#[derive(Deserialize)]
pub struct ActForm {
    action: String,
    version: Option<i64>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    tier: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    satisfied: String,
}

pub async fn act(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ActForm>,
) -> AppResult<Response> {
    use xiangzhi_domain::case::CaseAction as A;
    let tier = || Tier::parse(&f.tier).ok_or_else(|| AppError::bad("请选择层级"));
    let action = match EventKind::parse(&f.action).ok_or_else(|| AppError::bad("未知的操作"))?
    {
        EventKind::Accept => A::Accept,
        EventKind::Reject => A::Reject {
            reason: f.reason.clone(),
        },
        EventKind::Assign => A::Assign {
            to_tier: tier()?,
            assignee: f.assignee.clone(),
        },
        EventKind::StartHandling => A::StartHandling,
        EventKind::Reply => A::Reply {
            text: f.text.clone(),
        },
        EventKind::FollowUp => A::FollowUp {
            satisfied: match f.satisfied.as_str() {
                "yes" => true,
                "no" => false,
                _ => return Err(AppError::bad("请选择回访是否满意")),
            },
            note: f.text.clone(),
        },
        EventKind::Close => A::Close,
        EventKind::Archive => A::Archive,
        EventKind::Return => A::Return {
            reason: f.reason.clone(),
        },
        EventKind::ApplyExtension => A::ApplyExtension {
            days: f
                .days
                .trim()
                .parse()
                .map_err(|_| AppError::bad("延期天数应为整数"))?,
            reason: f.reason.clone(),
        },
        EventKind::ApproveExtension => A::ApproveExtension,
        EventKind::DenyExtension => A::DenyExtension,
        EventKind::Escalate => A::Escalate {
            reason: f.reason.clone(),
        },
        EventKind::DelegateDown => A::DelegateDown { to_tier: tier()? },
        EventKind::Supervise => A::Supervise {
            note: f.reason.clone(),
        },
        EventKind::Remind => A::Remind,
        EventKind::Register => return Err(AppError::bad("未知的操作")),
    };
    state
        .store
        .act_on_case(
            &me.actor(),
            &CaseRules::default(),
            id,
            &action,
            Utc::now().date_naive(),
            f.version,
        )
        .await?;
    Ok(Redirect::to(&format!("/cases/{id}?ok=1")).into_response())
}

#[derive(Template)]
#[template(path = "key_persons.html")]
struct KeyPersonsPage {
    chrome: Chrome,
    list: Vec<KeyPerson>,
    due_only: bool,
    today: String,
    can_write: bool,
}

#[derive(Deserialize, Default)]
pub struct DueFilter {
    due: Option<String>,
}

/// Key persons in scope, most overdue visit first; `?due=1` only those due today.
pub async fn key_persons(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(f): Query<DueFilter>,
) -> AppResult<Response> {
    let today = Utc::now().date_naive();
    let due_only = f.due.as_deref().is_some_and(|v| !v.is_empty());
    let list = state
        .store
        .key_persons(
            &me.scope(),
            &KeyPersonQuery {
                due_by: due_only.then_some(today),
                ..Default::default()
            },
        )
        .await?;
    Ok(render(KeyPersonsPage {
        chrome: Chrome::of(&me),
        list,
        due_only,
        today: today.to_string(),
        can_write: me.can(xiangzhi_domain::role::Permission::Write),
    }))
}

#[derive(Deserialize)]
pub struct VisitForm {
    note: String,
}

pub async fn record_visit(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<VisitForm>,
) -> AppResult<Response> {
    state
        .store
        .record_visit(&me.actor(), id, Utc::now().date_naive(), &f.note)
        .await?;
    Ok(Redirect::to("/key-persons").into_response())
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    chrome: Chrome,
    list: Vec<xiangzhi_store::case::Project>,
    funds_won_wan: String,
    can_manage: bool,
}

/// Township roles and administrators: who may enter projects and tasks.
pub(crate) fn manages_township(me: &CurrentUser) -> bool {
    use xiangzhi_domain::role::Permission;
    me.can(Permission::TownshipReview) || me.can(Permission::ManageOrg)
}

pub async fn projects(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let list = state.store.projects(&me.scope(), None).await?;
    let won: i64 = list.iter().map(|p| p.funds_won_yuan).sum();
    Ok(render(ProjectsPage {
        chrome: Chrome::of(&me),
        list,
        funds_won_wan: wan(won),
        can_manage: manages_township(&me),
    }))
}

fn wan(yuan: i64) -> String {
    format!("{:.2}", yuan as f64 / 10_000.0)
}

pub struct TaskRow {
    t: Task,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    chrome: Chrome,
    rows: Vec<TaskRow>,
    completion: Vec<xiangzhi_store::case::CompletionRow>,
    can_write: bool,
    units: Vec<crate::pickers::UnitChoice>,
}

/// Supervised tasks in scope with the per-village completion the 考核 uses.
pub async fn tasks(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let today = Utc::now().date_naive();
    let scope = me.scope();
    let list = state.store.tasks(&scope, &TaskQuery::default()).await?;
    let completion = state
        .store
        .task_completion(&scope, xiangzhi_store::case::CompletionBy::Village, today)
        .await?;
    Ok(render(TasksPage {
        chrome: Chrome::of(&me),
        rows: list
            .into_iter()
            .map(|t| TaskRow {
                overdue: t.is_overdue(today),
                t,
            })
            .collect(),
        completion,
        can_write: me.can(xiangzhi_domain::role::Permission::Write),
        units: if manages_township(&me) {
            crate::pickers::units(&state, &me).await?
        } else {
            Vec::new()
        },
    }))
}

#[derive(Deserialize)]
pub struct ProgressForm {
    progress: String,
    note: String,
}

pub async fn task_progress(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<ProgressForm>,
) -> AppResult<Response> {
    let progress: u8 = f
        .progress
        .trim()
        .parse()
        .map_err(|_| AppError::bad("进度应为0至100的整数"))?;
    state
        .store
        .report_task_progress(&me.actor(), id, Utc::now().date_naive(), progress, &f.note)
        .await?;
    Ok(Redirect::to("/tasks").into_response())
}
