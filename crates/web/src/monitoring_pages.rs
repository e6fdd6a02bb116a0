//! Pages of 防返贫监测: a monitored household's record (type, risk causes, measures with
//! dates, the responsible cadre, 回头看 visits, monthly incomes, the 户户清 checklist) with
//! 风险消除; and 村村清, the per-village summary and checklist.
//!
//! Each form changes one part of the record and saves the whole through the store, which
//! validates it (Chinese errors) and audits the change; a refused change leaves it as it was.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use xiangzhi_domain::assistance::MONITORING;
use xiangzhi_domain::assistance_lifecycle::{EnrollmentStatus, ExitReason};
use xiangzhi_domain::assistance_monitoring::{
    ChecklistItem, Measure, MeasureKind, MonitoringDetail, MonitoringType, MonthlyIncome,
    RiskCause, Visit,
};
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::role::Permission;
use xiangzhi_store::StoreError;
use xiangzhi_store::assistance::{Enrollment, Monitored};

use crate::assistance_pages::{OkQuery, parse_date, today};
use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::Chrome;
use crate::state::AppState;

type Choices = Vec<(&'static str, &'static str)>;

fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Choices {
    all.iter().map(|v| (code(*v), label(*v))).collect()
}

#[derive(Template)]
#[template(path = "monitoring.html")]
struct MonitoringPage {
    chrome: Chrome,
    e: Enrollment,
    d: Option<MonitoringDetail>,
    kinds: Choices,
    causes: Choices,
    measures: Choices,
    checklist: Choices,
    /// Codes checked on the form.
    kind: String,
    checked_causes: Vec<&'static str>,
    checked_items: Vec<&'static str>,
    responsible: String,
    /// Why the risk cannot be declared cleared today (empty: it can).
    clear_blockers: Vec<String>,
    income_line: Option<Money>,
    active: bool,
    notice: bool,
    today: String,
}

async fn monitoring_enrollment(
    state: &AppState,
    me: &CurrentUser,
    id: i64,
) -> AppResult<(Enrollment, Option<MonitoringDetail>)> {
    let e = state.store.enrollment(&me.scope(), id).await?;
    if e.program_code != MONITORING {
        return Err(AppError::bad(format!(
            "“{}”不是防返贫监测，没有监测帮扶记录",
            e.program_name
        )));
    }
    let d = match state.store.monitoring(&me.scope(), id).await {
        Ok(d) => Some(d),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    Ok((e, d))
}

pub async fn monitoring(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let (e, d) = monitoring_enrollment(&state, &me, id).await?;
    let program = state.store.program(MONITORING).await?;
    let today = today();
    let clear_blockers = match (&d, program.income_line) {
        (None, _) => vec!["尚未登记监测信息".to_string()],
        (Some(_), None) => vec!["项目配置中尚未设置监测收入标准".to_string()],
        (Some(d), Some(line)) => d.can_clear(line, today).err().unwrap_or_default(),
    };
    let kind = d
        .as_ref()
        .map(|d| d.kind.as_str())
        .or_else(|| MonitoringType::parse(&e.category).map(MonitoringType::as_str))
        .unwrap_or_default()
        .to_string();
    Ok(render(MonitoringPage {
        chrome: Chrome::of(&me),
        checked_causes: d
            .as_ref()
            .map(|d| d.causes.iter().map(|c| c.as_str()).collect())
            .unwrap_or_default(),
        checked_items: d
            .as_ref()
            .map(|d| d.checklist.iter().map(|c| c.as_str()).collect())
            .unwrap_or_default(),
        responsible: d
            .as_ref()
            .map_or_else(|| me.user.username.clone(), |d| d.responsible.clone()),
        active: e.state.status == EnrollmentStatus::Active,
        kind,
        e,
        d,
        kinds: choices(
            MonitoringType::ALL,
            MonitoringType::as_str,
            MonitoringType::label,
        ),
        causes: choices(RiskCause::ALL, RiskCause::as_str, RiskCause::label),
        measures: choices(MeasureKind::ALL, MeasureKind::as_str, MeasureKind::label),
        checklist: choices(
            ChecklistItem::ALL,
            ChecklistItem::as_str,
            ChecklistItem::label,
        ),
        clear_blockers,
        income_line: program.income_line,
        notice: q.ok.is_some(),
        today: today.to_string(),
    }))
}

/// Every value of a repeated form field.
fn all<'a>(form: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
        .collect()
}

fn one<'a>(form: &'a [(String, String)], name: &str) -> &'a str {
    all(form, name).first().copied().unwrap_or("")
}

fn opt_date(s: &str, what: &str) -> AppResult<Option<NaiveDate>> {
    if s.is_empty() {
        Ok(None)
    } else {
        parse_date(s, what).map(Some)
    }
}

/// The record as changed by one form (`op`): `basic` (type, causes, cadre, checklist),
/// `measure`, `visit` (schedule), `visit_done`, `income`.
fn changed(d: Option<MonitoringDetail>, form: &[(String, String)]) -> AppResult<MonitoringDetail> {
    let op = one(form, "op");
    if op == "basic" {
        let kind = MonitoringType::parse(one(form, "kind"))
            .ok_or_else(|| AppError::bad("请选择监测对象类型"))?;
        let causes = all(form, "cause")
            .into_iter()
            .map(|c| {
                RiskCause::parse(c).ok_or_else(|| AppError::bad(format!("未知的风险类型“{c}”")))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let checklist = all(form, "item")
            .into_iter()
            .map(|c| {
                ChecklistItem::parse(c)
                    .ok_or_else(|| AppError::bad(format!("未知的户户清项目“{c}”")))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let responsible = one(form, "responsible").to_string();
        return Ok(match d {
            Some(d) => MonitoringDetail {
                kind,
                causes,
                responsible,
                checklist,
                ..d
            },
            None => MonitoringDetail {
                kind,
                causes,
                measures: Vec::new(),
                responsible,
                visits: Vec::new(),
                incomes: Vec::new(),
                checklist,
            },
        });
    }
    let mut d = d.ok_or_else(|| {
        AppError::bad("请先登记监测对象类型、风险类型和帮扶责任人，再登记帮扶措施、走访和收入")
    })?;
    match op {
        "measure" => d.measures.push(Measure {
            kind: MeasureKind::parse(one(form, "measure_kind"))
                .ok_or_else(|| AppError::bad("请选择帮扶措施类型"))?,
            description: one(form, "description").to_string(),
            start: opt_date(one(form, "start"), "开始日期")?
                .ok_or_else(|| AppError::bad("请填写措施开始日期"))?,
            end: opt_date(one(form, "end"), "结束日期")?,
        }),
        "visit" => {
            let due = opt_date(one(form, "due"), "回头看日期")?
                .ok_or_else(|| AppError::bad("请填写回头看日期"))?;
            d.visits.push(Visit {
                due,
                done_on: None,
                by: String::new(),
                note: String::new(),
            });
            d.visits.sort_by_key(|v| v.due);
        }
        "visit_done" => {
            let i: usize = one(form, "visit")
                .parse()
                .map_err(|_| AppError::bad("请选择要登记的回头看"))?;
            let v = d
                .visits
                .get_mut(i)
                .filter(|v| v.done_on.is_none())
                .ok_or_else(|| AppError::bad("该回头看不存在或已登记"))?;
            let note = one(form, "note");
            if note.is_empty() {
                return Err(AppError::bad("请填写走访情况"));
            }
            v.done_on = Some(parse_date(one(form, "done_on"), "走访日期")?);
            v.by = one(form, "by").to_string();
            v.note = note.to_string();
        }
        "income" => {
            let month = one(form, "month").replace('-', "");
            let amount = Money::parse_yuan(one(form, "per_capita"))
                .map_err(|_| AppError::bad("人均收入应为金额，如 650 或 650.50"))?;
            match d.incomes.iter_mut().find(|i| i.month == month) {
                Some(i) => i.per_capita = amount,
                None => d.incomes.push(MonthlyIncome {
                    month,
                    per_capita: amount,
                }),
            }
            d.incomes.sort_by(|a, b| a.month.cmp(&b.month));
        }
        _ => return Err(AppError::bad("未知的操作")),
    }
    Ok(d)
}

pub async fn save_monitoring(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (_, d) = monitoring_enrollment(&state, &me, id).await?;
    let d = changed(d, &form)?;
    state.store.save_monitoring(&me.actor(), id, &d).await?;
    Ok(Redirect::to(&format!("/assistance/enrollments/{id}/monitoring?ok=1")).into_response())
}

/// 风险消除 at the program's income line; refused with every reason unless six months above
/// the line and the checklist complete. The household stays on record as exited.
pub async fn clear_risk(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    monitoring_enrollment(&state, &me, id).await?;
    // The store does not check the role here: read-only roles must not clear a risk.
    me.require(Permission::Write)?;
    let line = state
        .store
        .program(MONITORING)
        .await?
        .income_line
        .ok_or_else(|| AppError::bad("项目配置中尚未设置监测收入标准，请管理员先设置"))?;
    state
        .store
        .clear_risk(&me.actor(), id, line, today())
        .await?;
    Ok(Redirect::to(&format!("/assistance/enrollments/{id}/monitoring?ok=1")).into_response())
}

/// One village's 村村清 line.
pub struct VillageRow {
    code: String,
    name: String,
    monitored: usize,
    persons: i64,
    cleared: usize,
    without_record: usize,
    checklist_incomplete: usize,
    visits_due: usize,
    without_measures: usize,
}

impl VillageRow {
    /// 村村清: every household monitored now has a record, a full checklist, a measure, and
    /// no visit left undone.
    fn clear(&self) -> bool {
        self.without_record + self.checklist_incomplete + self.visits_due + self.without_measures
            == 0
    }
}

fn village_of(e: &Enrollment) -> String {
    let code = e.org_code.as_str();
    code[..code.len().min(OrgLevel::Village.code_len())].to_string()
}

fn summarize(code: String, name: String, list: &[&Monitored], today: NaiveDate) -> VillageRow {
    let mut r = VillageRow {
        code,
        name,
        monitored: 0,
        persons: 0,
        cleared: 0,
        without_record: 0,
        checklist_incomplete: 0,
        visits_due: 0,
        without_measures: 0,
    };
    for m in list {
        let e = &m.enrollment;
        if e.state.exit_reason == Some(ExitReason::RiskCleared) {
            r.cleared += 1;
        }
        if e.state.status != EnrollmentStatus::Active {
            continue;
        }
        r.monitored += 1;
        r.persons += e.members;
        match &m.detail {
            None => r.without_record += 1,
            Some(d) => {
                r.checklist_incomplete += usize::from(!d.checklist_missing().is_empty());
                r.visits_due += d.visits_due(today).len();
                r.without_measures += usize::from(d.measures.is_empty());
            }
        }
    }
    r
}

#[derive(Template)]
#[template(path = "monitoring_villages.html")]
struct VillagesPage {
    chrome: Chrome,
    rows: Vec<VillageRow>,
    today: String,
}

/// 村村清: per village in scope, the monitored households and what is still open.
pub async fn villages(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let scope = me.scope();
    let all = state.store.monitored(&scope, None).await?;
    let mut by_village: std::collections::BTreeMap<String, Vec<&Monitored>> = Default::default();
    for m in &all {
        by_village
            .entry(village_of(&m.enrollment))
            .or_default()
            .push(m);
    }
    let today = today();
    let mut rows = Vec::new();
    for (code, list) in by_village {
        let unit = DivisionCode::parse(&code).map_err(|_| AppError::NotFound)?;
        let name = match state.store.org_unit(&scope, &unit).await {
            Ok(u) => u.name,
            // A cadre scoped to a grid sees the grid's households, not the village's name.
            Err(StoreError::NotFound) => list[0].enrollment.org_name.clone(),
            Err(e) => return Err(e.into()),
        };
        rows.push(summarize(code, name, &list, today));
    }
    Ok(render(VillagesPage {
        chrome: Chrome::of(&me),
        rows,
        today: today.to_string(),
    }))
}

/// One household on a village's checklist.
pub struct HouseholdCheck {
    e: Enrollment,
    kind: String,
    responsible: String,
    /// Per checklist item, in [`ChecklistItem::ALL`] order: met or not.
    items: Vec<bool>,
    measures: usize,
    visits_due: usize,
    recorded: bool,
}

#[derive(Template)]
#[template(path = "monitoring_village.html")]
struct VillagePage {
    chrome: Chrome,
    summary: VillageRow,
    items: Choices,
    households: Vec<HouseholdCheck>,
}

/// 村村清 of one village: its summary and each household's 户户清.
pub async fn village(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let code = DivisionCode::parse(&code).map_err(|_| AppError::NotFound)?;
    let unit = state.store.org_unit(&me.scope(), &code).await?;
    let list = state.store.monitored(&me.scope(), Some(&code)).await?;
    let refs: Vec<&Monitored> = list.iter().collect();
    let summary = summarize(code.to_string(), unit.name, &refs, today());
    let households = list
        .into_iter()
        .filter(|m| m.enrollment.state.status == EnrollmentStatus::Active)
        .map(|m| {
            let d = m.detail;
            HouseholdCheck {
                kind: d.as_ref().map_or("", |d| d.kind.label()).to_string(),
                responsible: d
                    .as_ref()
                    .map(|d| d.responsible.clone())
                    .unwrap_or_default(),
                items: ChecklistItem::ALL
                    .iter()
                    .map(|i| d.as_ref().is_some_and(|d| d.checklist.contains(i)))
                    .collect(),
                measures: d.as_ref().map_or(0, |d| d.measures.len()),
                visits_due: d.as_ref().map_or(0, |d| d.visits_due(today()).len()),
                recorded: d.is_some(),
                e: m.enrollment,
            }
        })
        .collect();
    Ok(render(VillagePage {
        chrome: Chrome::of(&me),
        summary,
        items: choices(
            ChecklistItem::ALL,
            ChecklistItem::as_str,
            ChecklistItem::label,
        ),
        households,
    }))
}
