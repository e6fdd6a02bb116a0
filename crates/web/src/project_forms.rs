//! Forms of 政府效能: a project (重点项目, 招商引资, 衔接资金, 跑项争资) created and edited with
//! its stage, investment, funds won, linked enterprises picked within scope and its 专班; and a
//! supervised task (督查督办) with owner and deadline. The store allows township roles only,
//! checks scope and writes the audit.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, NaiveDate, Utc};
use serde::Deserialize;
use xiangzhi_domain::ledger::FieldType;
use xiangzhi_domain::money::Money;
use xiangzhi_store::case::{NewTask, ProjectInput, ProjectKind, ProjectMember, ProjectStage};

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::{Chrome, parse_code};
use crate::pickers::{self, Pick, UnitChoice};
use crate::state::AppState;

/// The form as typed; amounts in 万元.
#[derive(Default)]
pub struct ProjectForm {
    name: String,
    kind: String,
    stage: String,
    org: String,
    year: String,
    planned_wan: String,
    completed_wan: String,
    funds_won_wan: String,
    note: String,
    enterprises: Vec<String>,
    ent_q: String,
    /// One member a line: `姓名 职务`.
    members: String,
    go: String,
}

#[derive(Template)]
#[template(path = "project_form.html")]
struct ProjectPage {
    chrome: Chrome,
    id: Option<i64>,
    f: ProjectForm,
    kinds: Vec<(&'static str, &'static str)>,
    stages: Vec<(&'static str, &'static str)>,
    units: Vec<UnitChoice>,
    linked: Vec<Pick>,
    candidates: Vec<Pick>,
    errors: Vec<String>,
}

async fn page(
    state: &AppState,
    me: &CurrentUser,
    id: Option<i64>,
    f: ProjectForm,
    linked: Vec<Pick>,
    candidates: Vec<Pick>,
    errors: Vec<String>,
) -> AppResult<Response> {
    Ok(render(ProjectPage {
        chrome: Chrome::of(me),
        id,
        f,
        kinds: ProjectKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        stages: ProjectStage::ALL
            .iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        units: pickers::units(state, me).await?,
        linked,
        candidates,
        errors,
    }))
}

fn wan(yuan: i64) -> String {
    Money::from_yuan(yuan)
        .map(|m| m.to_wan(4))
        .unwrap_or_default()
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

/// 万元 as typed to whole yuan; empty is 0.
fn yuan_of(s: &str, what: &str) -> Result<i64, String> {
    if s.trim().is_empty() {
        return Ok(0);
    }
    let m = Money::parse_yuan(&format!("{}万", s.trim()))
        .map_err(|_| format!("{what}应为万元数，如 2000 或 0.5"))?;
    if m.fen() % 100 != 0 {
        return Err(format!("{what}最多精确到元（万元后四位小数）"));
    }
    Ok(m.fen() / 100)
}

pub async fn new_project(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let f = ProjectForm {
        kind: "key".into(),
        stage: "talks".into(),
        org: me.user.org_code.to_string(),
        year: Utc::now().year().to_string(),
        ..Default::default()
    };
    page(&state, &me, None, f, Vec::new(), Vec::new(), Vec::new()).await
}

pub async fn edit_project(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let p = state.store.project(&me.scope(), id).await?;
    let linked = pickers::picked(
        &state,
        &me,
        FieldType::Enterprise,
        &p.enterprises
            .iter()
            .map(|e| format!("id:{}", e.id))
            .collect::<Vec<_>>(),
    )
    .await?;
    let f = ProjectForm {
        name: p.name,
        kind: p.kind.as_str().into(),
        stage: p.stage.as_str().into(),
        org: p.org_code.to_string(),
        year: p.year.to_string(),
        planned_wan: wan(p.planned_yuan),
        completed_wan: wan(p.completed_yuan),
        funds_won_wan: wan(p.funds_won_yuan),
        note: p.note,
        enterprises: linked.iter().map(|l| l.token.clone()).collect(),
        members: p
            .members
            .iter()
            .map(|m| format!("{} {}", m.name, m.duty))
            .collect::<Vec<_>>()
            .join("\n"),
        ..Default::default()
    };
    page(&state, &me, Some(id), f, linked, Vec::new(), Vec::new()).await
}

fn read(pairs: Vec<(String, String)>) -> ProjectForm {
    let mut f = ProjectForm::default();
    for (k, v) in pairs {
        match k.as_str() {
            "name" => f.name = v,
            "kind" => f.kind = v,
            "stage" => f.stage = v,
            "org" => f.org = v,
            "year" => f.year = v,
            "planned_wan" => f.planned_wan = v,
            "completed_wan" => f.completed_wan = v,
            "funds_won_wan" => f.funds_won_wan = v,
            "note" => f.note = v,
            "enterprise" => f.enterprises.push(v),
            "ent_q" => f.ent_q = v,
            "members" => f.members = v,
            "go" => f.go = v,
            _ => {}
        }
    }
    f
}

fn members_of(text: &str) -> Vec<ProjectMember> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, duty) = l.split_once([' ', '　', '，', ',']).unwrap_or((l, "成员"));
            ProjectMember {
                name: name.trim().to_string(),
                duty: match duty.trim() {
                    "" => "成员".to_string(),
                    d => d.to_string(),
                },
            }
        })
        .collect()
}

async fn save(
    state: AppState,
    me: CurrentUser,
    id: Option<i64>,
    pairs: Vec<(String, String)>,
) -> AppResult<Response> {
    let mut f = read(pairs);
    let mut linked = pickers::picked(&state, &me, FieldType::Enterprise, &f.enterprises).await?;
    let mut candidates = Vec::new();
    let mut errors = Vec::new();
    if !f.ent_q.trim().is_empty() {
        let found = pickers::search(&state, &me, FieldType::Enterprise, &f.ent_q).await?;
        match found.len() {
            0 => errors.push(format!("在本辖区内没有找到企业“{}”", f.ent_q.trim())),
            1 if f.go != "search" => {
                let e = found.into_iter().next().expect("one");
                if !linked.iter().any(|l| l.id == e.id) {
                    linked.push(e);
                }
                f.ent_q.clear();
            }
            n => {
                candidates = found
                    .into_iter()
                    .filter(|c| !linked.iter().any(|l| l.id == c.id))
                    .collect();
                if f.go != "search" {
                    errors.push(format!("企业找到{n}家，请勾选后再提交"));
                }
            }
        }
    }
    f.enterprises = linked.iter().map(|l| l.token.clone()).collect();
    let kind = ProjectKind::parse(&f.kind);
    let stage = ProjectStage::parse(&f.stage);
    if kind.is_none() {
        errors.push("请选择项目类型".into());
    }
    if stage.is_none() {
        errors.push("请选择项目阶段".into());
    }
    let year: Option<i32> = f.year.trim().parse().ok();
    if year.is_none() {
        errors.push("年度应为四位数字".into());
    }
    let mut amounts = [0i64; 3];
    for (i, (v, what)) in [
        (&f.planned_wan, "计划投资"),
        (&f.completed_wan, "完成投资"),
        (&f.funds_won_wan, "争取资金"),
    ]
    .into_iter()
    .enumerate()
    {
        match yuan_of(v, what) {
            Ok(y) => amounts[i] = y,
            Err(e) => errors.push(e),
        }
    }
    let ready = errors.is_empty() && f.go != "search";
    let (Some(kind), Some(stage), Some(year), true) = (kind, stage, year, ready) else {
        return page(&state, &me, id, f, linked, candidates, errors).await;
    };
    let input = ProjectInput {
        id,
        name: f.name.clone(),
        kind,
        stage,
        org_code: parse_code(&f.org)?,
        planned_yuan: amounts[0],
        completed_yuan: amounts[1],
        funds_won_yuan: amounts[2],
        year,
        note: f.note.clone(),
        enterprise_ids: linked.iter().map(|l| l.id).collect(),
        members: members_of(&f.members),
    };
    match state.store.save_project(&me.actor(), input).await {
        Ok(_) => Ok(Redirect::to("/projects").into_response()),
        Err(xiangzhi_store::StoreError::Invalid(m)) => {
            page(&state, &me, id, f, linked, candidates, vec![m]).await
        }
        Err(e) => Err(AppError::from(e)),
    }
}

pub async fn create_project(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    save(state, me, None, pairs).await
}

pub async fn update_project(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    save(state, me, Some(id), pairs).await
}

#[derive(Deserialize)]
pub struct TaskForm {
    title: String,
    #[serde(default)]
    description: String,
    org: String,
    owner: String,
    deadline: String,
}

/// 下达督办任务, from the form on the task list.
pub async fn create_task(
    State(state): State<AppState>,
    me: CurrentUser,
    Form(f): Form<TaskForm>,
) -> AppResult<Response> {
    let deadline = NaiveDate::parse_from_str(f.deadline.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::bad("完成时限格式应为 2024-03-01"))?;
    let task = NewTask {
        title: f.title,
        description: f.description,
        org_code: parse_code(&f.org)?,
        owner: f.owner,
        assigned_on: Utc::now().date_naive(),
        deadline,
    };
    state.store.add_task(&me.actor(), task).await?;
    Ok(Redirect::to("/tasks").into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_wan_become_whole_yuan() {
        assert_eq!(yuan_of("2000", "x"), Ok(20_000_000));
        assert_eq!(yuan_of("0.5", "x"), Ok(5_000));
        assert_eq!(yuan_of("", "x"), Ok(0));
        assert!(yuan_of("abc", "计划投资").unwrap_err().contains("计划投资"));
        assert!(yuan_of("0.00001", "x").is_err());
        assert_eq!(wan(20_000_000), "2000");
        assert_eq!(wan(5_000), "0.5");
    }

    #[test]
    fn members_are_name_then_duty() {
        let m = members_of("张三 组长\n李四\n\n王五，副组长");
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].name.as_str(), m[0].duty.as_str()), ("张三", "组长"));
        assert_eq!(m[1].duty, "成员");
        assert_eq!(m[2].duty, "副组长");
    }
}
