//! A township's case settings: the time limits per kind that deadlines are counted with, and
//! the categories it adds to the shared tree. Everyone in scope may look; township roles and
//! administrators may change them (checked here first, and again by the store, which audits).

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use xiangzhi_domain::case::{CaseKind, DayCount, TimeLimit};
use xiangzhi_store::case::{CaseCategory, CaseRules};
use xiangzhi_store::case_settings::{NewCategory, day_count_label};

use crate::auth::{CurrentUser, render};
use crate::case_pages::manages_township;
use crate::error::{AppError, AppResult};
use crate::pages::{Chrome, parse_code};
use crate::state::AppState;

/// One kind's row of the limits form.
pub struct KindRow {
    code: &'static str,
    label: &'static str,
    acceptance: TimeLimit,
    closing: TimeLimit,
    max_extensions: u32,
    max_extension_days: u32,
}

#[derive(Template)]
#[template(path = "case_settings.html")]
struct SettingsPage {
    chrome: Chrome,
    code: String,
    name: String,
    /// Where the limits in force were set, or `None` for the defaults.
    set_at: Option<String>,
    rows: Vec<KindRow>,
    counts: Vec<(&'static str, &'static str)>,
    categories: Vec<CaseCategory>,
    own_path: String,
    can_edit: bool,
    notice: bool,
}

fn count_code(c: DayCount) -> &'static str {
    match c {
        DayCount::Working => "working",
        DayCount::Calendar => "calendar",
    }
}

impl KindRow {
    fn acc_count(&self) -> &'static str {
        count_code(self.acceptance.count)
    }
    fn close_count(&self) -> &'static str {
        count_code(self.closing.count)
    }
}

#[derive(serde::Deserialize, Default)]
pub struct OkQuery {
    ok: Option<String>,
}

pub async fn settings(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<OkQuery>,
) -> AppResult<Response> {
    let scope = me.scope();
    let unit = state.store.org_unit(&scope, &parse_code(&code)?).await?;
    let eff = state
        .store
        .case_limits(&scope, &CaseRules::default(), &unit.code)
        .await?;
    let rows = CaseKind::ALL
        .into_iter()
        .map(|k| {
            let l = eff.limits.for_kind(k);
            KindRow {
                code: k.as_str(),
                label: k.label(),
                acceptance: l.acceptance,
                closing: l.closing,
                max_extensions: l.max_extensions,
                max_extension_days: l.max_extension_days,
            }
        })
        .collect();
    let categories = state.store.case_categories_in(&scope).await?;
    Ok(render(SettingsPage {
        chrome: Chrome::of(&me),
        code: unit.code.to_string(),
        name: unit.name,
        set_at: eff.set_at.map(|c| c.to_string()),
        rows,
        counts: [DayCount::Working, DayCount::Calendar]
            .into_iter()
            .map(|c| (count_code(c), day_count_label(c)))
            .collect(),
        categories,
        own_path: unit.path.to_string(),
        can_edit: manages_township(&me),
        notice: q.ok.is_some(),
    }))
}

fn require_manager(me: &CurrentUser) -> AppResult<()> {
    if manages_township(me) {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "只有乡镇领导、乡镇业务员和系统管理员可以设置事件时限和类别",
        ))
    }
}

pub async fn save_limits(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    require_manager(&me)?;
    let org = parse_code(&code)?;
    let unit = state.store.org_unit(&me.scope(), &org).await?;
    let form: HashMap<String, String> = pairs.into_iter().collect();
    let mut limits = state
        .store
        .case_limits(&me.scope(), &CaseRules::default(), &unit.code)
        .await?
        .limits;
    for kind in CaseKind::ALL {
        let k = kind.as_str();
        let num = |field: &str, what: &str| -> AppResult<u32> {
            let v = form
                .get(&format!("{k}_{field}"))
                .map(|s| s.trim())
                .unwrap_or("");
            v.parse().map_err(|_| {
                AppError::bad(format!("{}的{what}应为整数，填写了“{v}”", kind.label()))
            })
        };
        let count = |field: &str| -> DayCount {
            match form.get(&format!("{k}_{field}")).map(String::as_str) {
                Some("calendar") => DayCount::Calendar,
                _ => DayCount::Working,
            }
        };
        let l = limits.for_kind_mut(kind);
        l.acceptance = TimeLimit {
            days: num("acc_days", "受理期限")?,
            count: count("acc_count"),
        };
        l.closing = TimeLimit {
            days: num("close_days", "办结期限")?,
            count: count("close_count"),
        };
        l.max_extensions = num("ext_n", "最多延期次数")?;
        l.max_extension_days = num("ext_days", "单次延期天数")?;
    }
    state
        .store
        .set_case_limits(&me.actor(), &unit.code, limits)
        .await?;
    Ok(Redirect::to(&format!("/case-settings/{}?ok=1", unit.code)).into_response())
}

#[derive(serde::Deserialize)]
pub struct CategoryForm {
    /// Set to rename an existing category; empty to add one under `parent`.
    #[serde(default)]
    code: String,
    #[serde(default)]
    parent: String,
    label: String,
    #[serde(default)]
    key_area: String,
}

pub async fn save_category(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Form(f): Form<CategoryForm>,
) -> AppResult<Response> {
    require_manager(&me)?;
    let org = parse_code(&code)?;
    if f.code.trim().is_empty() {
        state
            .store
            .add_case_category(
                &me.actor(),
                &org,
                NewCategory {
                    parent_code: f.parent,
                    label: f.label,
                    key_area: !f.key_area.is_empty(),
                },
            )
            .await?;
    } else {
        state
            .store
            .rename_case_category(&me.actor(), &org, &f.code, &f.label)
            .await?;
    }
    Ok(Redirect::to(&format!("/case-settings/{org}?ok=1")).into_response())
}
