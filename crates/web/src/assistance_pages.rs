//! Pages of 民生保障: the roster by program, status and village; the application form with
//! the applicant picked from the registry; the enrollment page with a form for its next step
//! (村级评议 with minutes, 公示, 乡镇审核, 县级审批, 复核) and for exit; the payee's bank account;
//! the 公示 notice as HTML and DOCX; the roster as XLSX; and the assistance part of the to-do list.
//!
//! The domain's life cycle decides what is legal and the store decides scope: a skipped step,
//! self-approval or a record outside the scope comes back as the store's Chinese refusal.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use xiangzhi_domain::assistance::{EnrollUnit, MONITORING, Program};
use xiangzhi_domain::assistance_lifecycle::{
    ApplySource, Decision, EnrollmentStatus, ExitReason, Step, StepAction,
};
use xiangzhi_domain::bank_account::BankAccount;
use xiangzhi_domain::disclosure::mask_name;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Permission;
use xiangzhi_store::assistance::{
    Enrollment, EnrollmentQuery, NewEnrollment, NoticeLine, PayeeAccount, StepRecord,
};
use xiangzhi_store::registry::{Person, PersonQuery};

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::state::AppState;

/// `None` for an empty or missing form value.
pub(crate) fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub(crate) fn parse_date(s: &str, what: &str) -> AppResult<NaiveDate> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Utc::now().date_naive());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| AppError::bad(format!("{what}“{s}”应为日期，如 2024-01-05")))
}

pub(crate) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// An enrollment as a list row, with where it stands against its deadline.
pub struct Row {
    pub e: Enrollment,
    pub deadline: String,
    pub overdue: bool,
}

/// Past the deadline of its next step or review.
fn is_overdue(e: &Enrollment, today: NaiveDate) -> bool {
    e.deadline.is_some_and(|d| today > d)
}

pub(crate) fn row(e: Enrollment, today: NaiveDate) -> Row {
    Row {
        deadline: e.deadline.map(|d| d.to_string()).unwrap_or_default(),
        overdue: is_overdue(&e, today),
        e,
    }
}

/// The units a user may narrow a list to: their own and the one level below.
pub(crate) async fn unit_choices(
    state: &AppState,
    me: &CurrentUser,
) -> AppResult<Vec<(String, String)>> {
    let scope = me.scope();
    let own = state.store.org_unit(&scope, &me.user.org_code).await?;
    let mut out = vec![(own.code.to_string(), own.name.clone())];
    for c in state
        .store
        .org_children(&scope, Some(&me.user.org_code))
        .await?
    {
        out.push((c.code.to_string(), c.name));
    }
    Ok(out)
}

fn program_choices(programs: &[Program]) -> Vec<(String, String)> {
    programs
        .iter()
        .map(|p| (p.code.clone(), p.name.clone()))
        .collect()
}

#[derive(Deserialize, Default)]
pub struct RosterFilter {
    program: Option<String>,
    status: Option<String>,
    org: Option<String>,
    overdue: Option<String>,
}

#[derive(Template)]
#[template(path = "assistance_roster.html")]
struct RosterPage {
    chrome: Chrome,
    rows: Vec<Row>,
    programs: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    units: Vec<(String, String)>,
    program: String,
    status: String,
    org: String,
    overdue: bool,
    can_apply: bool,
    /// The query string of the XLSX download of this view.
    download: String,
}

/// The roster's filter as read from the query string.
struct Filter {
    programs: Vec<Program>,
    query: EnrollmentQuery,
    overdue: bool,
}

impl RosterFilter {
    async fn read(&self, state: &AppState) -> AppResult<Filter> {
        let programs = state.store.programs().await?;
        let program = given(&self.program).map(str::to_string);
        if let Some(p) = &program
            && !programs.iter().any(|x| &x.code == p)
        {
            return Err(AppError::bad(format!("没有代码为“{p}”的救助项目")));
        }
        let status = match given(&self.status) {
            None => None,
            Some(s) => {
                Some(EnrollmentStatus::parse(s).ok_or_else(|| AppError::bad("未知的纳入状态"))?)
            }
        };
        let org = match given(&self.org) {
            None => None,
            Some(c) => Some(DivisionCode::parse(c).map_err(|_| AppError::NotFound)?),
        };
        Ok(Filter {
            programs,
            query: EnrollmentQuery {
                program,
                org,
                status,
                limit: 1000,
                ..Default::default()
            },
            overdue: given(&self.overdue).is_some(),
        })
    }
}

/// The roster: enrollments in scope by program, status and unit; `overdue=1` only those past
/// the deadline of their next step or review.
pub async fn roster(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(f): Query<RosterFilter>,
) -> AppResult<Response> {
    let Filter {
        programs,
        query,
        overdue,
    } = f.read(&state).await?;
    let list = state.store.enrollments(&me.scope(), &query).await?;
    let today = today();
    let rows = list
        .into_iter()
        .map(|e| row(e, today))
        .filter(|r| !overdue || r.overdue)
        .collect();
    let download = [
        ("program", query.program.clone()),
        ("status", query.status.map(|s| s.as_str().to_string())),
        ("org", query.org.as_ref().map(|o| o.to_string())),
        ("overdue", overdue.then(|| "1".to_string())),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)));
    let download: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(download)
        .finish();
    Ok(render(RosterPage {
        chrome: Chrome::of(&me),
        rows,
        programs: program_choices(&programs),
        statuses: EnrollmentStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        units: unit_choices(&state, &me).await?,
        program: query.program.unwrap_or_default(),
        status: query
            .status
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        org: query.org.map(|o| o.to_string()).unwrap_or_default(),
        overdue,
        can_apply: me.can(Permission::Write),
        download,
    }))
}

/// The roster as filtered on its page, as XLSX: every matching enrollment in the viewer's
/// scope, with no citizen ID and no phone (the same workbook as `xiangzhi roster export`).
pub async fn roster_xlsx(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(f): Query<RosterFilter>,
) -> AppResult<Response> {
    let Filter {
        programs,
        query,
        overdue,
    } = f.read(&state).await?;
    let list =
        crate::roster_file::all_enrollments(state.store.as_ref(), &me.scope(), &query).await?;
    let today = today();
    let rows: Vec<Enrollment> = list
        .into_iter()
        .filter(|e| !overdue || is_overdue(e, today))
        .collect();
    let what = query
        .program
        .as_deref()
        .and_then(|c| programs.iter().find(|p| p.code == c))
        .map_or("救助保障", |p| p.name.as_str());
    let name = format!("{what}名单{}.xlsx", today.format("%Y%m%d"));
    // Building the workbook is CPU work: off the async threads.
    let bytes = tokio::task::spawn_blocking(move || crate::roster_file::roster_xlsx(&rows))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::import_pages::xlsx(bytes, &name))
}

#[derive(Deserialize, Default)]
pub struct ApplyQuery {
    program: Option<String>,
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "assistance_apply.html")]
struct ApplyPage {
    chrome: Chrome,
    programs: Vec<(String, String)>,
    program: Option<Program>,
    q: String,
    found: Vec<Person>,
    sources: Vec<(&'static str, &'static str)>,
    today: String,
}

/// The application form: pick the program, find the applicant in the registry (in scope).
pub async fn apply_form(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(f): Query<ApplyQuery>,
) -> AppResult<Response> {
    let programs = state.store.programs().await?;
    let program = given(&f.program)
        .map(|c| {
            programs
                .iter()
                .find(|p| p.code == c)
                .cloned()
                .ok_or_else(|| AppError::bad(format!("没有代码为“{c}”的救助项目")))
        })
        .transpose()?;
    let q = given(&f.q).unwrap_or_default().to_string();
    let found = if q.is_empty() {
        Vec::new()
    } else {
        state
            .store
            .person_search(
                &me.scope(),
                &PersonQuery {
                    q: Some(q.clone()),
                    limit: 30,
                    ..Default::default()
                },
            )
            .await?
    };
    Ok(render(ApplyPage {
        chrome: Chrome::of(&me),
        programs: program_choices(&programs),
        program,
        q,
        found,
        sources: ApplySource::ALL
            .iter()
            .filter(|s| **s != ApplySource::Import)
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        today: today().to_string(),
    }))
}

#[derive(Deserialize)]
pub struct ApplyForm {
    program: Option<String>,
    person_id: Option<String>,
    #[serde(default)]
    category: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    applied_on: String,
    #[serde(default)]
    note: String,
}

/// Enters an application for the picked person (their household for a household program).
pub async fn apply(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<ApplyForm>,
) -> AppResult<Response> {
    let person_id: i64 = given(&f.person_id)
        .ok_or_else(|| AppError::bad("请从户籍中选择申请人"))?
        .parse()
        .map_err(|_| AppError::bad("申请人编号无效"))?;
    // The person first: someone outside the scope is "not found" whatever else is wrong.
    let person = state.store.person(&me.scope(), person_id).await?;
    let code = given(&f.program).ok_or_else(|| AppError::bad("请选择救助项目"))?;
    let program = state
        .store
        .programs()
        .await?
        .into_iter()
        .find(|p| p.code == code)
        .ok_or_else(|| AppError::bad(format!("没有代码为“{code}”的救助项目")))?;
    let source = ApplySource::parse(&f.source).ok_or_else(|| AppError::bad("请选择申请来源"))?;
    let (household_id, person_id) = match program.unit {
        EnrollUnit::Household => (
            Some(person.household_id.ok_or_else(|| {
                AppError::bad(format!(
                    "{}按户纳入，该居民未登记所在户，请先在户籍中登记",
                    program.name
                ))
            })?),
            None,
        ),
        EnrollUnit::Person => (person.household_id, Some(person.id)),
    };
    let e = state
        .store
        .apply(
            &me.actor(),
            NewEnrollment {
                program: program.code.clone(),
                household_id,
                person_id,
                category: f.category.trim().to_string(),
                source,
                applied_on: parse_date(&f.applied_on, "申请日期")?,
                note: f.note.trim().to_string(),
            },
        )
        .await?;
    Ok(Redirect::to(&format!("/assistance/enrollments/{}?ok=1", e.id)).into_response())
}

/// The form the enrollment page offers for the next step.
pub struct NextStep {
    code: &'static str,
    label: &'static str,
    decision: bool,
    /// What the text field holds (minutes or opinion); empty: no text field.
    text: &'static str,
}

fn next_step(step: Step) -> NextStep {
    let (decision, text) = match step {
        Step::VillageReview => (true, "评议会议记录（时间、参会人员、评议意见）"),
        Step::TownshipReview | Step::CountyApproval => (true, "审核意见"),
        Step::Review => (true, "复核意见"),
        _ => (false, ""),
    };
    NextStep {
        code: step.as_str(),
        label: step.label(),
        decision,
        text,
    }
}

#[derive(Template)]
#[template(path = "assistance_enrollment.html")]
struct EnrollmentPage {
    chrome: Chrome,
    r: Row,
    program: Program,
    steps: Vec<StepRecord>,
    next: Option<NextStep>,
    can_exit: bool,
    exit_reasons: Vec<(&'static str, &'static str)>,
    payee_id: Option<i64>,
    account: Option<PayeeAccount>,
    monitoring: bool,
    notice: bool,
    today: String,
}

#[derive(Deserialize, Default)]
pub struct OkQuery {
    pub(crate) ok: Option<String>,
}

/// The person paid for an enrollment: the person, or the household's head.
async fn payee(state: &AppState, me: &CurrentUser, e: &Enrollment) -> AppResult<Option<i64>> {
    if e.person_id.is_some() {
        return Ok(e.person_id);
    }
    match e.household_id {
        Some(h) => Ok(state.store.household(&me.scope(), h).await?.head_id),
        None => Ok(None),
    }
}

pub async fn enrollment(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let e = state.store.enrollment(&scope, id).await?;
    let steps = state.store.enrollment_steps(&scope, id).await?;
    let program = state.store.program(&e.program_code).await?;
    let next = e.state.status.next_step(&program).map(next_step);
    let can_exit = e.state.status == EnrollmentStatus::Active || e.state.status.pending();
    let payee_id = payee(&state, &me, &e).await?;
    let account = match payee_id {
        Some(p) => state.store.payee_account(&scope, p).await?,
        None => None,
    };
    Ok(render(EnrollmentPage {
        chrome: Chrome::of(&me),
        monitoring: e.program_code == MONITORING,
        r: row(e, today()),
        program,
        steps,
        next,
        can_exit,
        exit_reasons: ExitReason::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        payee_id,
        account,
        notice: q.ok.is_some(),
        today: today().to_string(),
    }))
}

#[derive(Deserialize)]
pub struct StepForm {
    action: Option<String>,
    decision: Option<String>,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    on: String,
}

/// Takes one step; the life cycle refuses a skipped step, a wrong role or self-approval.
pub async fn step(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<StepForm>,
) -> AppResult<Response> {
    // Scope first: an enrollment outside it is not found, whatever the form says.
    state.store.enrollment(&me.scope(), id).await?;
    let step = given(&f.action)
        .and_then(Step::parse)
        .ok_or_else(|| AppError::bad("未知的办理环节"))?;
    let decision = || match given(&f.decision) {
        Some("approve") => Ok(Decision::Approve),
        Some("reject") => Ok(Decision::Reject),
        _ => Err(AppError::bad("请选择同意或不同意")),
    };
    let text = f.text.trim().to_string();
    let action = match step {
        Step::Apply => return Err(AppError::bad("申请请从“新增申请”录入")),
        Step::Import => return Err(AppError::bad("存量导入只能通过导入名单文件")),
        Step::VillageReview => StepAction::VillageReview {
            decision: decision()?,
            minutes: text,
        },
        Step::PublicNotice => StepAction::PublicNotice,
        Step::TownshipReview => StepAction::TownshipReview {
            decision: decision()?,
            opinion: text,
        },
        Step::CountyApproval => StepAction::CountyApproval {
            decision: decision()?,
            opinion: text,
        },
        Step::Review => StepAction::Review {
            decision: decision()?,
            opinion: text,
        },
        Step::Exit => StepAction::Exit {
            reason: ExitReason::parse(&f.reason).ok_or_else(|| AppError::bad("请选择退出原因"))?,
            note: text,
        },
    };
    let on = parse_date(&f.on, "办理日期")?;
    state
        .store
        .enrollment_step(&me.actor(), id, &action, on)
        .await?;
    Ok(Redirect::to(&format!("/assistance/enrollments/{id}?ok=1")).into_response())
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    bank_name: String,
    #[serde(default)]
    account: String,
}

/// Sets the bank account the enrollment's payee is paid into.
pub async fn set_account(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(f): Form<AccountForm>,
) -> AppResult<Response> {
    let e = state.store.enrollment(&me.scope(), id).await?;
    let person = payee(&state, &me, &e)
        .await?
        .ok_or_else(|| AppError::bad("该户没有登记户主，无法登记收款账户"))?;
    let account = BankAccount::parse(&f.account).map_err(|e| AppError::bad(e.0))?;
    state
        .store
        .set_payee_account(&me.actor(), person, &f.bank_name, &account)
        .await?;
    Ok(Redirect::to(&format!("/assistance/enrollments/{id}?ok=1")).into_response())
}

#[derive(Template)]
#[template(path = "assistance_todo.html")]
struct TodoSection {
    /// Applications awaiting my step, then overdue items: `(heading, rows)`.
    lists: Vec<(&'static str, Vec<Row>)>,
    visits: Vec<(Row, String)>,
}

/// The assistance part of `/todo`: applications awaiting my step, 回头看 visits due, overdue
/// items; rendered here so the to-do page only embeds it.
pub async fn todo_section(state: &AppState, me: &CurrentUser) -> AppResult<String> {
    let today = today();
    let t = state.store.todo(&me.actor(), today).await?;
    let rows = |list: Vec<Enrollment>| list.into_iter().map(|e| row(e, today)).collect();
    let section = TodoSection {
        lists: vec![
            ("待我办理的救助申请", rows(t.awaiting)),
            ("超期的救助事项", rows(t.overdue)),
        ],
        visits: t
            .visits_due
            .into_iter()
            .map(|(e, v)| (row(e, today), v.due.to_string()))
            .collect(),
    };
    section
        .render()
        .map_err(|e| AppError::Internal(e.to_string()))
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    program: Option<String>,
    on: Option<String>,
}

/// A notice line as posted: the name partly masked.
pub struct NoticeRow {
    village: String,
    name: String,
    members: i64,
    program: String,
    period: String,
}

fn notice_rows(lines: Vec<NoticeLine>) -> Vec<NoticeRow> {
    lines
        .into_iter()
        .map(|l| NoticeRow {
            village: l.village,
            name: mask_name(&l.name),
            members: l.members,
            program: l.program_name,
            period: format!("{} 至 {}", l.notice_start, l.notice_end),
        })
        .collect()
}

struct Notice {
    title: String,
    on: NaiveDate,
    program: String,
    rows: Vec<NoticeRow>,
    issuer: String,
}

async fn notice_of(state: &AppState, me: &CurrentUser, q: &NoticeQuery) -> AppResult<Notice> {
    let on = match given(&q.on) {
        Some(s) => parse_date(s, "公示日期")?,
        None => today(),
    };
    let program = match given(&q.program) {
        Some(c) => Some(
            state
                .store
                .program(c)
                .await
                .map_err(|_| AppError::bad(format!("没有代码为“{c}”的救助项目")))?,
        ),
        None => None,
    };
    let lines = state
        .store
        .public_notice(&me.scope(), program.as_ref().map(|p| p.code.as_str()), on)
        .await?;
    let issuer = state
        .store
        .org_unit(&me.scope(), &me.user.org_code)
        .await?
        .name;
    let what = program.as_ref().map_or("救助保障", |p| p.name.as_str());
    Ok(Notice {
        title: format!("{what}拟纳入对象公示"),
        on,
        program: program.map(|p| p.code).unwrap_or_default(),
        rows: notice_rows(lines),
        issuer,
    })
}

const NOTICE_TEXT: &str = "经本人（户）申请、村级民主评议，以下对象拟纳入保障范围，现予公示。\
     公示期内，如有异议，请向村（居）委会或乡镇人民政府反映。";

#[derive(Template)]
#[template(path = "assistance_notice.html")]
struct NoticePage {
    chrome: Chrome,
    n: Notice,
    text: &'static str,
    programs: Vec<(String, String)>,
}

/// The 公示 notice of the enrollments in public notice on a day: names partly masked, no ID,
/// phone, bank account or health detail (the store's notice lines do not carry them).
pub async fn notice(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let n = notice_of(&state, &me, &q).await?;
    let programs = program_choices(&state.store.programs().await?);
    Ok(render(NoticePage {
        chrome: Chrome::of(&me),
        n,
        text: NOTICE_TEXT,
        programs,
    }))
}

/// The same notice as a DOCX laid out as an official document.
pub async fn notice_docx(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    use xiangzhi_document::{Block, Document};
    let n = notice_of(&state, &me, &q).await?;
    let mut doc = Document::new(n.title.clone());
    doc.issuer = Some(n.issuer.clone());
    doc.date = Some(n.on.format("%Y年%-m月%-d日").to_string());
    doc.blocks.push(Block::paragraph(NOTICE_TEXT));
    doc.blocks.push(Block::Table {
        caption: None,
        header: ["序号", "村（社区）", "姓名", "家庭人数", "项目", "公示期"]
            .map(String::from)
            .to_vec(),
        rows: n
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| {
                vec![
                    (i + 1).to_string(),
                    r.village.clone(),
                    r.name.clone(),
                    r.members.to_string(),
                    r.program.clone(),
                    r.period.clone(),
                ]
            })
            .collect(),
    });
    if n.rows.is_empty() {
        doc.blocks
            .push(Block::paragraph("当日没有处于公示期的对象。"));
    }
    let bytes =
        xiangzhi_document::docx::render(&doc).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    );
    let name = format!("notice-{}-{}.docx", n.program, n.on);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}
