//! Ledger (台账) pages: the list, one ledger with its definition, versions and completion grid,
//! the entries of a unit and period, and the entry form generated from the definition.
//!
//! Handlers stay thin: scope, locks and validation are the store's. The form is multipart so
//! attachments travel with it; on any error it is shown again with every value as typed and
//! the Chinese message beside its field.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Datelike, Utc};
use serde::Deserialize;
use xiangzhi_domain::ledger::{
    AttachmentRef, FieldDef, FieldError, FieldType, FieldValue, LedgerDefinition, Roster,
    SubmissionAction, SubmissionStatus, Values, parse_input,
};
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::period::{Period, PeriodType};
use xiangzhi_domain::role::Permission;
use xiangzhi_store::ledger::{
    EntryInput, EntryQuery, Ledger, LedgerEntry, LedgerVersionInfo, SubmissionCell,
};
use xiangzhi_store::registry::{EnterpriseQuery, HouseholdQuery, PersonQuery};
use xiangzhi_store::{Scope, Store};

use crate::auth::{CurrentUser, render};
use crate::error::{AppError, AppResult};
use crate::pages::{Chrome, parse_code};
use crate::state::AppState;

/// Entries shown per page of a unit's list.
const PAGE: u32 = 200;
/// Candidates offered when a reference search finds several records.
const CANDIDATES: u32 = 10;

pub(crate) fn level_of(def: &LedgerDefinition) -> OrgLevel {
    match def.level {
        xiangzhi_domain::ledger::FillLevel::Grid => OrgLevel::Grid,
        xiangzhi_domain::ledger::FillLevel::Village => OrgLevel::Village,
        xiangzhi_domain::ledger::FillLevel::Township => OrgLevel::Township,
    }
}

/// The period a page opens on: the current one of the ledger's type (last year for yearly
/// ledgers early in the year would surprise; the current one is what people fill).
fn current_period(def: &LedgerDefinition) -> String {
    match def.period_type() {
        None => String::new(),
        Some(t) => Period::containing(Utc::now().date_naive(), t).to_string(),
    }
}

fn period_label(p: &str) -> String {
    if p.is_empty() {
        "不分期".into()
    } else {
        Period::parse(p).map_or_else(|_| p.to_string(), |x| x.label())
    }
}

fn some(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A period from a query or form, checked against the ledger.
pub(crate) fn checked_period(def: &LedgerDefinition, raw: Option<&str>) -> AppResult<String> {
    match raw.map(str::trim) {
        None | Some("") => Ok(current_period(def)),
        Some(p) => def.check_period(p).map_err(AppError::BadRequest),
    }
}

/// The unit a page is about: the one asked for (must be in scope), else the user's own.
async fn unit_of(
    state: &AppState,
    me: &CurrentUser,
    raw: Option<&str>,
) -> AppResult<xiangzhi_store::OrgUnit> {
    let code = match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => parse_code(c)?,
        None => me.user.org_code.clone(),
    };
    Ok(state.store.org_unit(&me.scope(), &code).await?)
}

// ---- list ----

pub struct LedgerRow {
    code: String,
    name: String,
    department: String,
    period: &'static str,
    level: &'static str,
    roster: &'static str,
    version: i64,
    fields: usize,
}

#[derive(Template)]
#[template(path = "ledgers.html")]
struct LedgersPage {
    chrome: Chrome,
    ledgers: Vec<LedgerRow>,
}

pub async fn ledgers(State(state): State<AppState>, me: CurrentUser) -> AppResult<Response> {
    let ledgers = state
        .store
        .ledgers()
        .await?
        .into_iter()
        .map(|l| LedgerRow {
            name: l.definition.name.clone(),
            department: l.definition.department.clone(),
            period: l.definition.period_label(),
            level: l.definition.level.label(),
            roster: l.definition.roster.label(),
            fields: l.definition.fields.len(),
            version: l.version,
            code: l.code,
        })
        .collect();
    Ok(render(LedgersPage {
        chrome: Chrome::of(&me),
        ledgers,
    }))
}

// ---- one ledger ----

pub struct FieldRow {
    key: String,
    label: String,
    kind: &'static str,
    unit: String,
    required: bool,
    rule: String,
}

fn field_rows(def: &LedgerDefinition) -> Vec<FieldRow> {
    def.fields
        .iter()
        .map(|f| {
            let mut rule = Vec::new();
            if let Some(m) = f.min {
                rule.push(format!("≥{m}"));
            }
            if let Some(m) = f.max {
                rule.push(format!("≤{m}"));
            }
            if !f.options.is_empty() {
                rule.push(f.options.join("、"));
            }
            if let Some(m) = &f.pattern_message {
                rule.push(m.clone());
            }
            if let Some(kb) = f.max_kb {
                rule.push(format!("≤{kb}KB"));
            }
            if !f.accept.is_empty() {
                rule.push(f.accept.join("、"));
            }
            FieldRow {
                key: f.key.clone(),
                label: f.label.clone(),
                kind: f.kind.label(),
                unit: f.unit.clone().unwrap_or_default(),
                required: f.required,
                rule: rule.join("；"),
            }
        })
        .collect()
}

/// One unit's row of the completion grid.
pub struct GridRow {
    org_code: String,
    org_name: String,
    cells: Vec<GridCell>,
}

/// One unit above the filling units (a township on a county's page): per period, how many of
/// its filling units have reported.
#[derive(Clone)]
pub struct SummaryRow {
    org_code: String,
    org_name: String,
    /// `(reported, filling units)` per period.
    cells: Vec<(usize, usize)>,
}

pub struct GridCell {
    period: String,
    status: &'static str,
    status_code: &'static str,
    entries: i64,
    note: String,
    actions: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "ledger.html")]
struct LedgerPage {
    chrome: Chrome,
    code: String,
    name: String,
    department: String,
    description: String,
    period_label: &'static str,
    level: &'static str,
    roster: &'static str,
    deadline_days: u32,
    version: i64,
    fields: Vec<FieldRow>,
    rules: Vec<String>,
    versions: Vec<LedgerVersionInfo>,
    year: String,
    periods: Vec<(String, String)>,
    grid: Vec<GridRow>,
    /// Instead of `grid` when the unit shown lies two or more levels above the filling units.
    summary: Vec<SummaryRow>,
    /// The unit shown when it is not the viewer's own.
    org: Option<(String, String)>,
    submitted: usize,
    cells: usize,
    notice: Option<&'static str>,
    open_period: String,
    own_unit: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LedgerQueryParams {
    year: Option<String>,
    period: Option<String>,
    ok: Option<String>,
    /// A unit inside the viewer's scope to show instead of the whole scope.
    org: Option<String>,
}

fn notice(ok: Option<&str>) -> Option<&'static str> {
    Some(match ok? {
        "saved" => "已保存",
        "void" => "已作废",
        "submit" => "已报送",
        "return" => "已退回修改",
        "approve" => "已审核通过",
        "unlock" => "已解锁",
        "roster" => "已按名册生成行",
        _ => return None,
    })
}

/// The periods the completion grid shows: the year's periods of the ledger's type (day and
/// week ledgers: the one asked for).
fn grid_periods(def: &LedgerDefinition, year: &str, period: Option<&str>) -> Vec<String> {
    match def.period_type() {
        None => vec![String::new()],
        Some(t @ (PeriodType::Day | PeriodType::Week)) => vec![
            period
                .and_then(|p| def.check_period(p).ok())
                .unwrap_or_else(|| Period::containing(Utc::now().date_naive(), t).to_string()),
        ],
        Some(t) => Period::parse(year)
            .map(|y| y.periods_in(t).iter().map(|p| p.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// The actions the viewer may take on a cell. `overdue`: past the deadline and not unlocked,
/// so even a draft needs the township to unlock it.
fn actions_for(
    me: &CurrentUser,
    status: SubmissionStatus,
    own: bool,
    overdue: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for a in [
        SubmissionAction::Submit,
        SubmissionAction::Return,
        SubmissionAction::Approve,
        SubmissionAction::Unlock,
    ] {
        let allowed = match a {
            SubmissionAction::Submit => me.can(Permission::Write),
            // Reviewers do not review their own unit (the store refuses it too).
            _ => me.can(Permission::TownshipReview) && !own,
        };
        if allowed && a.apply(status).is_ok() {
            if a == SubmissionAction::Unlock && status.editable() && !overdue {
                continue;
            }
            if a == SubmissionAction::Submit && overdue {
                continue;
            }
            out.push((a.as_str(), a.label()));
        }
    }
    out
}

/// Cells submitted or approved.
fn reported(cells: &[SubmissionCell]) -> usize {
    cells
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                SubmissionStatus::Submitted | SubmissionStatus::Approved
            )
        })
        .count()
}

/// Past the period's deadline and not unlocked by the township.
fn overdue(def: &LedgerDefinition, c: &SubmissionCell) -> bool {
    !c.unlocked
        && c.status.editable()
        && xiangzhi_domain::ledger::deadline(def, &c.period)
            .is_some_and(|d| Utc::now().date_naive() > d)
}

/// Cells counted per child unit (by org path), in the children's order; a period's cells come
/// in the order of `periods` for each filling unit.
fn summary_rows(
    children: &[xiangzhi_store::OrgUnit],
    cells: &[SubmissionCell],
    periods: usize,
) -> Vec<SummaryRow> {
    let mut rows: Vec<SummaryRow> = children
        .iter()
        .map(|c| SummaryRow {
            org_code: c.code.to_string(),
            org_name: c.name.clone(),
            cells: vec![(0, 0); periods],
        })
        .collect();
    // a unit's cells come together, one per period: find its child once
    let mut last: Option<(&str, Option<usize>)> = None;
    for (i, c) in cells.iter().enumerate() {
        let k = match last {
            Some((path, k)) if path == c.org_path => k,
            _ => {
                let k = children
                    .iter()
                    .position(|u| c.org_path.starts_with(u.path.as_str()));
                last = Some((&c.org_path, k));
                k
            }
        };
        let Some(k) = k else {
            continue;
        };
        let slot = &mut rows[k].cells[i % periods.max(1)];
        slot.1 += 1;
        if matches!(
            c.status,
            SubmissionStatus::Submitted | SubmissionStatus::Approved
        ) {
            slot.0 += 1;
        }
    }
    rows.retain(|r| r.cells.iter().any(|c| c.1 > 0));
    rows
}

/// A county's completion of a ledger over some periods, as the page shows it: kept between
/// requests while no write happens (it reads a cell per village and period).
pub struct LedgerSummary {
    rows: Vec<SummaryRow>,
    submitted: usize,
    cells: usize,
}

fn grid_rows(me: &CurrentUser, def: &LedgerDefinition, cells: Vec<SubmissionCell>) -> Vec<GridRow> {
    let mut rows: Vec<GridRow> = Vec::new();
    for c in cells {
        let own = c.org_code == me.user.org_code;
        let late = overdue(def, &c);
        let cell = GridCell {
            actions: actions_for(me, c.status, own, late),
            status: if late { "已逾期" } else { c.status.label() },
            period: c.period,
            status_code: if late { "overdue" } else { c.status.as_str() },
            entries: c.entries,
            note: c.note,
        };
        match rows.last_mut() {
            Some(r) if r.org_code == c.org_code.as_str() => r.cells.push(cell),
            _ => rows.push(GridRow {
                org_code: c.org_code.to_string(),
                org_name: c.org_name,
                cells: vec![cell],
            }),
        }
    }
    rows
}

pub async fn ledger(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<LedgerQueryParams>,
) -> AppResult<Response> {
    let l = state.store.ledger(&code).await?;
    let def = &l.definition;
    let year = some(&q.year)
        .filter(|y| y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| Utc::now().year().to_string());
    let periods = grid_periods(def, &year, q.period.as_deref());
    // Outside the viewer's scope a unit is not found.
    let unit = match some(&q.org) {
        Some(c) => Some(state.store.org_unit(&me.scope(), &parse_code(&c)?).await?),
        None => None,
    };
    let scope = unit
        .as_ref()
        .map_or_else(|| me.scope(), |u| Scope::new(u.path.clone()));
    // A county sees its townships, each with how many villages reported, not 520 villages;
    // a township's link opens its own grid.
    let shown_level = unit.as_ref().map_or(me.user.org_code.level(), |u| u.level);
    let summarise = shown_level
        .child()
        .is_some_and(|c| c.code_len() < level_of(def).code_len());
    let (grid, summary, submitted, n) = if summarise {
        let version = state.store.data_version().await?;
        let key = (
            code.clone(),
            scope.path.as_str().to_string(),
            periods.clone(),
        );
        let kept = state.ledger_summaries.get(version, &key);
        let _filling = match kept {
            Some(_) => None,
            None => Some(state.filling.lock().await),
        };
        let kept = match kept.or_else(|| state.ledger_summaries.get(version, &key)) {
            Some(s) => s,
            None => {
                let cells = state
                    .store
                    .submission_cells(&scope, &code, &periods, false)
                    .await?;
                let parent = unit.as_ref().map_or(&me.user.org_code, |u| &u.code);
                let children = state.store.org_children(&scope, Some(parent)).await?;
                let s = Arc::new(LedgerSummary {
                    rows: summary_rows(&children, &cells, periods.len()),
                    submitted: reported(&cells),
                    cells: cells.len(),
                });
                state.ledger_summaries.file(version, key, s.clone());
                s
            }
        };
        (Vec::new(), kept.rows.clone(), kept.submitted, kept.cells)
    } else {
        let cells = state
            .store
            .submission_cells(&scope, &code, &periods, true)
            .await?;
        let (submitted, n) = (reported(&cells), cells.len());
        (grid_rows(&me, def, cells), Vec::new(), submitted, n)
    };
    let versions = state.store.ledger_versions(&code).await?;
    let own_unit =
        (me.user.org_code.level() == level_of(def)).then(|| me.user.org_code.to_string());
    Ok(render(LedgerPage {
        chrome: Chrome::of(&me),
        name: def.name.clone(),
        department: def.department.clone(),
        description: def.description.clone().unwrap_or_default(),
        period_label: def.period_label(),
        level: def.level.label(),
        roster: def.roster.label(),
        deadline_days: def.deadline_days,
        version: l.version,
        fields: field_rows(def),
        rules: def
            .rules
            .iter()
            .map(|r| format!("{}：{}", r.check, r.message))
            .collect(),
        versions,
        periods: periods
            .iter()
            .map(|p| (p.clone(), period_label(p)))
            .collect(),
        grid,
        summary,
        org: unit.map(|u| (u.code.to_string(), u.name)),
        submitted,
        cells: n,
        notice: notice(q.ok.as_deref()),
        open_period: current_period(def),
        own_unit,
        year,
        code: l.code,
    }))
}

// ---- entries of a unit and period ----

pub struct EntryRow {
    id: i64,
    subject: String,
    org_name: String,
    filled: bool,
    cells: Vec<String>,
    updated: String,
}

#[derive(Template)]
#[template(path = "ledger_entries.html")]
struct EntriesPage {
    chrome: Chrome,
    code: String,
    name: String,
    org_code: String,
    org_name: String,
    period: String,
    period_label: String,
    headers: Vec<String>,
    rows: Vec<EntryRow>,
    roster: bool,
    status: &'static str,
    note: String,
    actions: Vec<(&'static str, &'static str)>,
    can_fill: bool,
    fill_here: bool,
    can_write: bool,
    next: Option<String>,
    notice: Option<&'static str>,
    filled: usize,
}

#[derive(Deserialize, Default)]
pub struct EntriesParams {
    org: Option<String>,
    period: Option<String>,
    after: Option<i64>,
    ok: Option<String>,
}

/// Columns a list shows: the first few fields (a phone screen is narrow).
const LIST_FIELDS: usize = 6;

fn list_cells(def: &LedgerDefinition, e: &LedgerEntry) -> Vec<String> {
    def.fields
        .iter()
        .take(LIST_FIELDS)
        .map(|f| match e.values.get(&f.key) {
            None => String::new(),
            Some(FieldValue::Int(i)) if f.kind.is_reference() => format!("#{i}"),
            Some(v) => {
                let s = v.display(f);
                match &f.unit {
                    Some(u) if f.kind.is_numeric() && f.kind != FieldType::Bool => {
                        format!("{s}{u}")
                    }
                    _ => s,
                }
            }
        })
        .collect()
}

pub async fn entries(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<EntriesParams>,
) -> AppResult<Response> {
    let l = state.store.ledger(&code).await?;
    let def = &l.definition;
    let unit = unit_of(&state, &me, q.org.as_deref()).await?;
    let period = checked_period(def, q.period.as_deref())?;
    let list = state
        .store
        .entries(
            &me.scope(),
            &code,
            &EntryQuery {
                org: Some(unit.code.clone()),
                period: Some(period.clone()),
                include_void: false,
                after_id: q.after,
                limit: PAGE,
            },
        )
        .await?;
    let fill_here = unit.level == level_of(def);
    let (status, note, actions) = if fill_here {
        let cell = state
            .store
            .submission_grid(
                &Scope::new(unit.path.clone()),
                &code,
                std::slice::from_ref(&period),
            )
            .await?
            .into_iter()
            .find(|c| c.org_code == unit.code);
        match cell {
            Some(c) => {
                let late = overdue(def, &c);
                (
                    if late {
                        "已逾期，需乡镇解锁"
                    } else {
                        c.status.label()
                    },
                    c.note.clone(),
                    actions_for(&me, c.status, c.org_code == me.user.org_code, late),
                )
            }
            None => (SubmissionStatus::Draft.label(), String::new(), Vec::new()),
        }
    } else {
        ("", String::new(), Vec::new())
    };
    let next = (list.len() as u32 == PAGE).then(|| {
        format!(
            "/ledgers/{code}/entries?org={}&period={}&after={}",
            unit.code,
            enc(&period),
            list.last().map(|e| e.id).unwrap_or_default()
        )
    });
    let filled = list.iter().filter(|e| e.filled).count();
    let rows = list
        .iter()
        .map(|e| EntryRow {
            id: e.id,
            subject: e.subject_label.clone().unwrap_or_default(),
            org_name: e.org_name.clone(),
            filled: e.filled,
            cells: list_cells(def, e),
            updated: e.updated_at.chars().take(16).collect(),
        })
        .collect();
    Ok(render(EntriesPage {
        chrome: Chrome::of(&me),
        name: def.name.clone(),
        org_code: unit.code.to_string(),
        org_name: unit.name.clone(),
        period_label: period_label(&period),
        headers: def
            .fields
            .iter()
            .take(LIST_FIELDS)
            .map(|f| f.label.clone())
            .collect(),
        rows,
        roster: def.roster != Roster::None,
        status,
        note,
        actions,
        can_fill: me.can(Permission::Write) && fill_here && def.roster == Roster::None,
        fill_here,
        can_write: me.can(Permission::Write),
        next,
        notice: notice(q.ok.as_deref()),
        filled,
        period,
        code: l.code,
    }))
}

// ---- the entry form ----

/// A record a reference field points at, with the fields derived from it (read-only).
pub struct RefView {
    /// What goes back in the hidden input: `id:12` or an org code.
    token: String,
    derived: Vec<(&'static str, String)>,
}

pub struct FieldView {
    key: String,
    label: String,
    unit: String,
    /// `text`, `number`, `date`, `bool`, `choice`, `multi`, `ref`, `location`, `file`, `textarea`
    widget: &'static str,
    kind_label: &'static str,
    required: bool,
    help: String,
    step: String,
    min: String,
    max: String,
    /// The value as typed (or as stored, for display).
    value: String,
    options: Vec<(String, bool)>,
    error: Option<String>,
    reference: Option<RefView>,
    /// Records found by a reference search: `(token, label)`.
    candidates: Vec<(String, String)>,
    /// The search text typed into a reference field.
    query: String,
    attachment: Option<AttachmentRef>,
}

#[derive(Template)]
#[template(path = "ledger_entry.html")]
struct EntryPage {
    chrome: Chrome,
    code: String,
    name: String,
    version: i64,
    id: Option<i64>,
    org_code: String,
    org_name: String,
    period: String,
    period_label: String,
    subject: String,
    subject_label: String,
    fields: Vec<FieldView>,
    errors: Vec<String>,
    locked: Option<String>,
    can_write: bool,
    action: String,
    /// The entry's `updated_at` when the form was read: saving refuses if it moved since.
    seen: String,
}

fn widget(f: &FieldDef) -> &'static str {
    match f.kind {
        FieldType::Text
            if f.pattern.is_none() && f.help.as_deref().is_some_and(|h| h.contains("多行")) =>
        {
            "textarea"
        }
        FieldType::Text => "text",
        FieldType::Integer | FieldType::Decimal => "number",
        FieldType::Date => "date",
        FieldType::Bool => "bool",
        FieldType::Choice => "choice",
        FieldType::MultiChoice => "multi",
        FieldType::Person | FieldType::Household | FieldType::Enterprise | FieldType::Org => "ref",
        FieldType::Location => "location",
        FieldType::Attachment => "file",
    }
}

fn blank_view(f: &FieldDef) -> FieldView {
    FieldView {
        key: f.key.clone(),
        label: f.label.clone(),
        unit: f.unit.clone().unwrap_or_default(),
        widget: widget(f),
        kind_label: f.kind.label(),
        required: f.required,
        help: f.help.clone().unwrap_or_default(),
        step: match f.kind {
            FieldType::Integer => "1".into(),
            FieldType::Decimal => {
                let s = f.scale.unwrap_or(2);
                if s == 0 {
                    "1".into()
                } else {
                    format!("0.{}1", "0".repeat(s as usize - 1))
                }
            }
            _ => String::new(),
        },
        min: f.min.map(|m| m.to_string()).unwrap_or_default(),
        max: f.max.map(|m| m.to_string()).unwrap_or_default(),
        value: String::new(),
        options: match f.kind {
            FieldType::Choice | FieldType::MultiChoice => {
                f.options.iter().map(|o| (o.clone(), false)).collect()
            }
            _ => Vec::new(),
        },
        error: None,
        reference: None,
        candidates: Vec::new(),
        query: String::new(),
        attachment: None,
    }
}

/// What a form field holds before it is checked: text typed, options ticked, a file.
#[derive(Default, Clone)]
struct RawField {
    texts: Vec<String>,
    /// `q_<key>`: a new search for a reference field.
    query: String,
    file: Option<(String, String, Vec<u8>)>,
    /// `a_<key>`: an attachment already stored (`sha|name|size`).
    kept: String,
}

/// The multipart form of an entry.
#[derive(Default)]
struct EntryFormData {
    org: String,
    period: String,
    subject: String,
    seen: String,
    fields: std::collections::HashMap<String, RawField>,
}

async fn read_form(mut form: Multipart) -> AppResult<EntryFormData> {
    let mut out = EntryFormData::default();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|_| AppError::bad("提交的表单无法读取"))?
    {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(key) = name.strip_prefix("f_") {
            let key = key.to_string();
            if field.file_name().is_some() {
                let file_name = field.file_name().unwrap_or("附件").to_string();
                let mime = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let bytes = field
                    .bytes()
                    .await
                    .map_err(|_| AppError::bad("附件上传不完整"))?;
                if !bytes.is_empty() {
                    out.fields.entry(key).or_default().file =
                        Some((file_name, mime, bytes.to_vec()));
                }
            } else {
                let t = field.text().await.unwrap_or_default();
                out.fields.entry(key).or_default().texts.push(t);
            }
            continue;
        }
        let text = field.text().await.unwrap_or_default();
        if let Some(key) = name.strip_prefix("q_") {
            out.fields.entry(key.to_string()).or_default().query = text;
        } else if let Some(key) = name.strip_prefix("a_") {
            out.fields.entry(key.to_string()).or_default().kept = text;
        } else {
            match name.as_str() {
                "org" => out.org = text,
                "period" => out.period = text,
                "subject" => out.subject = text,
                "seen" => out.seen = text,
                _ => {}
            }
        }
    }
    Ok(out)
}

fn age(birth: chrono::NaiveDate) -> u32 {
    let today = Utc::now().date_naive();
    let mut a = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a.max(0) as u32
}

/// The village name above a record's unit, for the derived "所属村" column.
async fn village_name(
    store: &std::sync::Arc<dyn Store>,
    scope: &Scope,
    code: &DivisionCode,
) -> String {
    let s = code.as_str();
    let village = if s.len() >= 12 { &s[..12] } else { s };
    match DivisionCode::parse(village) {
        Ok(c) => store
            .org_unit(scope, &c)
            .await
            .map(|u| u.name)
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The referenced record as the form shows it; `NotFound` outside the scope.
async fn ref_view(
    store: &std::sync::Arc<dyn Store>,
    scope: &Scope,
    kind: FieldType,
    v: &FieldValue,
) -> AppResult<RefView> {
    Ok(match (kind, v) {
        (FieldType::Person, FieldValue::Int(id)) => {
            let p = store.person(scope, *id).await?;
            RefView {
                token: format!("id:{}", p.id),
                derived: vec![
                    ("姓名", p.name.clone()),
                    ("身份证号", p.citizen_id_masked.clone()),
                    ("年龄", format!("{}岁", age(p.birth_date))),
                    ("所属村", village_name(store, scope, &p.org_code).await),
                ],
            }
        }
        (FieldType::Household, FieldValue::Int(id)) => {
            let h = store.household(scope, *id).await?;
            RefView {
                token: format!("id:{}", h.id),
                derived: vec![
                    ("户号", h.household_no.clone()),
                    ("户主", h.head_name.clone().unwrap_or_default()),
                    ("人数", h.member_count.to_string()),
                    ("所属村", village_name(store, scope, &h.org_code).await),
                ],
            }
        }
        (FieldType::Enterprise, FieldValue::Int(id)) => {
            let e = store.enterprise(scope, *id).await?;
            RefView {
                token: format!("id:{}", e.id),
                derived: vec![
                    ("名称", e.name.clone()),
                    ("信用代码", e.credit_code.clone()),
                    ("所属村", village_name(store, scope, &e.org_code).await),
                ],
            }
        }
        (FieldType::Org, FieldValue::Text(c)) => {
            let u = store.org_unit(scope, &parse_code(c)?).await?;
            RefView {
                token: u.code.to_string(),
                derived: vec![("名称", u.name.clone()), ("代码", u.code.to_string())],
            }
        }
        _ => return Err(AppError::NotFound),
    })
}

/// Searches the registry within scope for what was typed into a reference field.
pub(crate) async fn ref_search(
    store: &std::sync::Arc<dyn Store>,
    scope: &Scope,
    kind: FieldType,
    q: &str,
) -> AppResult<Vec<(FieldValue, String)>> {
    let q: String = q.trim().chars().take(50).collect();
    Ok(match kind {
        FieldType::Person => store
            .person_search(
                scope,
                &PersonQuery {
                    q: Some(q),
                    limit: CANDIDATES,
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(|p| {
                let label = format!("{}（{}，{}）", p.name, p.citizen_id_masked, p.org_name);
                (FieldValue::Int(p.id), label)
            })
            .collect(),
        FieldType::Household => store
            .household_search(
                scope,
                &HouseholdQuery {
                    q: Some(q),
                    limit: CANDIDATES,
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(|h| {
                let label = format!(
                    "{}（户主{}，{}）",
                    h.household_no,
                    h.head_name.clone().unwrap_or_default(),
                    h.org_name
                );
                (FieldValue::Int(h.id), label)
            })
            .collect(),
        FieldType::Enterprise => store
            .enterprise_search(
                scope,
                &EnterpriseQuery {
                    q: Some(q),
                    limit: CANDIDATES,
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(|e| {
                let label = format!("{}（{}）", e.name, e.credit_code);
                (FieldValue::Int(e.id), label)
            })
            .collect(),
        FieldType::Org => store
            .org_search(scope, &q, CANDIDATES)
            .await?
            .into_iter()
            .map(|u| {
                let label = format!("{}（{}）", u.name, u.code);
                (FieldValue::Text(u.code.to_string()), label)
            })
            .collect(),
        _ => Vec::new(),
    })
}

fn ref_token(v: &FieldValue) -> String {
    match v {
        FieldValue::Int(i) => format!("id:{i}"),
        FieldValue::Text(s) => s.clone(),
        _ => String::new(),
    }
}

fn parse_ref_token(kind: FieldType, s: &str) -> Option<FieldValue> {
    let s = s.trim();
    match kind {
        FieldType::Org => DivisionCode::parse(s)
            .ok()
            .map(|c| FieldValue::Text(c.to_string())),
        _ => s
            .strip_prefix("id:")
            .and_then(|x| x.parse::<i64>().ok())
            .map(FieldValue::Int),
    }
}

/// The form, read into typed values and a view that keeps everything typed. Problems found
/// here (unparsable text, references not found) are put beside their fields.
async fn read_values(
    state: &AppState,
    me: &CurrentUser,
    def: &LedgerDefinition,
    data: &EntryFormData,
    previous: Option<&Values>,
) -> AppResult<(Values, Vec<FieldView>, bool)> {
    let scope = me.scope();
    let mut values = Values::new();
    let mut views = Vec::new();
    let mut bad = false;
    for f in &def.fields {
        let mut view = blank_view(f);
        let raw = data.fields.get(&f.key).cloned().unwrap_or_default();
        let text = raw.texts.first().cloned().unwrap_or_default();
        let mut parsed: Result<Option<FieldValue>, String> = Ok(None);
        match f.kind {
            FieldType::MultiChoice => {
                let chosen: Vec<String> = raw
                    .texts
                    .iter()
                    .filter(|t| !t.is_empty())
                    .cloned()
                    .collect();
                for o in &mut view.options {
                    o.1 = chosen.contains(&o.0);
                }
                parsed = parse_input(f, &chosen.join("、"));
            }
            FieldType::Choice => {
                for o in &mut view.options {
                    o.1 = o.0 == text;
                }
                parsed = parse_input(f, &text);
            }
            FieldType::Person | FieldType::Household | FieldType::Enterprise | FieldType::Org => {
                view.query = raw.query.clone();
                if !raw.query.trim().is_empty() {
                    let found = ref_search(&state.store, &scope, f.kind, &raw.query).await?;
                    match found.len() {
                        0 => {
                            parsed = Err(format!(
                                "在本辖区内没有找到“{}”的{}",
                                raw.query.trim(),
                                f.kind.label()
                            ))
                        }
                        1 => parsed = Ok(Some(found[0].0.clone())),
                        _ => {
                            view.candidates = found
                                .iter()
                                .map(|(v, l)| (ref_token(v), l.clone()))
                                .collect();
                            parsed = Err(format!("找到{}条，请从下面选择一条", found.len()));
                        }
                    }
                } else if !text.trim().is_empty() {
                    parsed = parse_ref_token(f.kind, &text)
                        .map(Some)
                        .ok_or_else(|| format!("“{}”不是有效的{}", text.trim(), f.kind.label()));
                }
                if let Ok(Some(v)) = &parsed {
                    match ref_view(&state.store, &scope, f.kind, v).await {
                        Ok(r) => view.reference = Some(r),
                        Err(AppError::NotFound) => {
                            parsed = Err(format!(
                                "“{}”引用的{}不存在或不在本辖区",
                                f.label,
                                f.kind.label()
                            ))
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            FieldType::Attachment => {
                if let Some((name, mime, bytes)) = &raw.file {
                    let r = AttachmentRef {
                        sha256: String::new(),
                        name: name.clone(),
                        size: bytes.len() as u64,
                    };
                    // Checked before storing, so a refused file is not kept at all.
                    let mut probe = Values::new();
                    probe.insert(f.key.clone(), FieldValue::Attachment(r.clone()));
                    let problems: Vec<FieldError> =
                        xiangzhi_domain::ledger::validate_values(def, &probe)
                            .into_iter()
                            .filter(|p| p.field == f.key)
                            .collect();
                    if let Some(p) = problems.first() {
                        parsed = Err(p.message.clone());
                    } else {
                        let sha = state
                            .store
                            .put_ledger_file(&me.actor(), name, mime, bytes)
                            .await?;
                        parsed = Ok(Some(FieldValue::Attachment(AttachmentRef {
                            sha256: sha,
                            ..r
                        })));
                    }
                } else if let Some((sha, rest)) = raw.kept.split_once('|') {
                    let (name, size) = rest.rsplit_once('|').unwrap_or((rest, "0"));
                    // A kept file must be one the user can see; anything else is dropped.
                    if state.store.ledger_file(&scope, sha).await.is_ok() {
                        parsed = Ok(Some(FieldValue::Attachment(AttachmentRef {
                            sha256: sha.to_string(),
                            name: name.to_string(),
                            size: size.parse().unwrap_or(0),
                        })));
                    }
                } else if let Some(FieldValue::Attachment(a)) = previous.and_then(|p| p.get(&f.key))
                {
                    parsed = Ok(Some(FieldValue::Attachment(a.clone())));
                }
                if let Ok(Some(FieldValue::Attachment(a))) = &parsed {
                    view.attachment = Some(a.clone());
                }
            }
            _ => {
                view.value = text.clone();
                parsed = parse_input(f, &text);
            }
        }
        match parsed {
            Ok(Some(v)) => {
                values.insert(f.key.clone(), v);
            }
            Ok(None) => {}
            Err(m) => {
                view.error = Some(m);
                bad = true;
            }
        }
        views.push(view);
    }
    Ok((values, views, bad))
}

/// The view of stored values, for opening an entry.
async fn stored_views(
    state: &AppState,
    me: &CurrentUser,
    def: &LedgerDefinition,
    values: &Values,
) -> AppResult<Vec<FieldView>> {
    let scope = me.scope();
    let mut out = Vec::new();
    for f in &def.fields {
        let mut view = blank_view(f);
        if let Some(v) = values.get(&f.key) {
            match (f.kind, v) {
                (FieldType::MultiChoice, FieldValue::Many(m)) => {
                    for o in &mut view.options {
                        o.1 = m.contains(&o.0);
                    }
                }
                (FieldType::Choice, FieldValue::Text(s)) => {
                    for o in &mut view.options {
                        o.1 = &o.0 == s;
                    }
                }
                (k, v) if k.is_reference() => match ref_view(&state.store, &scope, k, v).await {
                    Ok(r) => view.reference = Some(r),
                    // A record moved out of the scope since: shown as gone, not named.
                    Err(AppError::NotFound) => {
                        view.error = Some(format!("原引用的{}已不在本辖区，请重新选择", k.label()))
                    }
                    Err(e) => return Err(e),
                },
                (FieldType::Attachment, FieldValue::Attachment(a)) => {
                    view.attachment = Some(a.clone())
                }
                (FieldType::Bool, FieldValue::Bool(b)) => {
                    view.value = if *b { "是" } else { "否" }.into()
                }
                (FieldType::Decimal | FieldType::Integer, v) => {
                    view.value = v
                        .as_f64()
                        .map(|x| xiangzhi_domain::ledger::format_decimal(x, f.scale.unwrap_or(6)))
                        .unwrap_or_default()
                }
                (_, v) => view.value = v.display(f),
            }
        }
        out.push(view);
    }
    Ok(out)
}

#[derive(Deserialize, Default)]
pub struct NewEntryParams {
    org: Option<String>,
    period: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn entry_page(
    me: &CurrentUser,
    l: &Ledger,
    id: Option<i64>,
    org_code: String,
    org_name: String,
    period: String,
    subject: (String, String),
    fields: Vec<FieldView>,
    errors: Vec<String>,
    locked: Option<String>,
) -> EntryPage {
    let action = match id {
        Some(i) => format!("/ledgers/{}/entries/{i}", l.code),
        None => format!("/ledgers/{}/entries", l.code),
    };
    EntryPage {
        chrome: Chrome::of(me),
        code: l.code.clone(),
        name: l.definition.name.clone(),
        version: l.version,
        id,
        org_code,
        org_name,
        period_label: period_label(&period),
        period,
        subject: subject.0,
        subject_label: subject.1,
        fields,
        errors,
        locked,
        can_write: me.can(Permission::Write),
        action,
        seen: String::new(),
    }
}

#[derive(Template)]
#[template(path = "ledger_choose.html")]
struct ChoosePage {
    chrome: Chrome,
    code: String,
    name: String,
    level: &'static str,
    period: String,
    /// `(code, name, status)` of the units that fill the ledger.
    units: Vec<(String, String, &'static str)>,
}

pub async fn new_entry(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<NewEntryParams>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let l = state.store.ledger(&code).await?;
    let unit = unit_of(&state, &me, q.org.as_deref()).await?;
    let period = checked_period(&l.definition, q.period.as_deref())?;
    if unit.level != level_of(&l.definition) {
        // Above the filling level: choose one of the units below (in scope) first.
        let units = state
            .store
            .submission_grid(
                &Scope::new(unit.path.clone()),
                &code,
                std::slice::from_ref(&period),
            )
            .await?
            .into_iter()
            .map(|c| (c.org_code.to_string(), c.org_name, c.status.label()))
            .collect();
        return Ok(render(ChoosePage {
            chrome: Chrome::of(&me),
            code: l.code.clone(),
            name: l.definition.name.clone(),
            level: l.definition.level.label(),
            period,
            units,
        }));
    }
    let fields = l.definition.fields.iter().map(blank_view).collect();
    Ok(render(entry_page(
        &me,
        &l,
        None,
        unit.code.to_string(),
        unit.name,
        period,
        (String::new(), String::new()),
        fields,
        Vec::new(),
        None,
    )))
}

pub async fn entry(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((code, id)): Path<(String, i64)>,
) -> AppResult<Response> {
    let e = state.store.entry(&me.scope(), id).await?;
    if e.ledger_code != code {
        return Err(AppError::NotFound);
    }
    // Old entries are shown against the version they were filled in; saving moves them on.
    let l = state.store.ledger(&code).await?;
    let fields = stored_views(&state, &me, &l.definition, &e.values).await?;
    let locked = if e.void {
        Some("该记录已作废".to_string())
    } else {
        lock_note(&state, &l, &e).await?
    };
    let mut page = entry_page(
        &me,
        &l,
        Some(e.id),
        e.org_code.to_string(),
        e.org_name.clone(),
        e.period.clone(),
        (
            e.subject.clone().unwrap_or_default(),
            e.subject_label.clone().unwrap_or_default(),
        ),
        fields,
        Vec::new(),
        locked,
    );
    page.seen = e.updated_at.clone();
    Ok(render(page))
}

/// Why the entry's period is closed, as the completion grid sees it.
async fn lock_note(state: &AppState, l: &Ledger, e: &LedgerEntry) -> AppResult<Option<String>> {
    let cells = state
        .store
        .submission_grid(
            &Scope::new(e.org_path.clone()),
            &l.code,
            std::slice::from_ref(&e.period),
        )
        .await?;
    Ok(cells
        .into_iter()
        .find(|c| c.org_code == e.org_code)
        .filter(|c| !c.status.editable())
        .map(|c| format!("本期台账{}，不能修改（需乡镇退回或解锁）", c.status.label())))
}

/// Saves a new entry (`id` None) or changes one; on any problem the form comes back whole.
async fn save(
    state: AppState,
    me: CurrentUser,
    code: String,
    id: Option<i64>,
    form: Multipart,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let l = state.store.ledger(&code).await?;
    let scope = me.scope();
    // Scope first: a foreign entry or unit is "not found" before anything is read or stored.
    let existing = match id {
        Some(i) => {
            let e = state.store.entry(&scope, i).await?;
            if e.ledger_code != code {
                return Err(AppError::NotFound);
            }
            Some(e)
        }
        None => None,
    };
    let data = read_form(form).await?;
    let unit = match &existing {
        Some(e) => state.store.org_unit(&scope, &e.org_code).await?,
        None => unit_of(&state, &me, Some(data.org.as_str())).await?,
    };
    let period = match &existing {
        Some(e) => e.period.clone(),
        None => data.period.trim().to_string(),
    };
    let (values, mut views, bad) = read_values(
        &state,
        &me,
        &l.definition,
        &data,
        existing.as_ref().map(|e| &e.values),
    )
    .await?;
    let subject = existing
        .as_ref()
        .map(|e| {
            (
                e.subject.clone().unwrap_or_default(),
                e.subject_label.clone().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let input = EntryInput {
        id,
        org_code: unit.code.clone(),
        period: period.clone(),
        subject: Some(subject.0.clone()).filter(|s| !s.is_empty()),
        subject_label: Some(subject.1.clone()).filter(|s| !s.is_empty()),
        values,
    };
    let mut errors = Vec::new();
    if !bad {
        let problems = state.store.check_entry(&me.actor(), &code, &input).await?;
        if problems.is_empty() {
            let saved = match (id, data.seen.as_str()) {
                (Some(_), seen) if !seen.is_empty() => {
                    state
                        .store
                        .save_entry_if_current(&me.actor(), &code, input, seen)
                        .await?
                }
                _ => state.store.save_entry(&me.actor(), &code, input).await?,
            };
            return Ok(Redirect::to(&format!(
                "/ledgers/{code}/entries?org={}&period={}&ok=saved#e{}",
                saved.org_code,
                enc(&saved.period),
                saved.id
            ))
            .into_response());
        }
        for p in problems {
            match views.iter_mut().find(|v| v.key == p.field) {
                Some(v) if v.error.is_none() => v.error = Some(p.message),
                Some(_) => {}
                None => errors.push(p.message),
            }
        }
    }
    errors.insert(0, "有内容需要修改，尚未保存。".into());
    let mut page = entry_page(
        &me,
        &l,
        id,
        unit.code.to_string(),
        unit.name,
        period,
        subject,
        views,
        errors,
        None,
    );
    page.seen = data.seen.clone();
    let mut res = render(page);
    *res.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

pub async fn create_entry(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    form: Multipart,
) -> AppResult<Response> {
    save(state, me, code, None, form).await
}

pub async fn update_entry(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((code, id)): Path<(String, i64)>,
    form: Multipart,
) -> AppResult<Response> {
    save(state, me, code, Some(id), form).await
}

#[derive(Deserialize)]
pub struct VoidForm {
    #[serde(default)]
    reason: String,
}

pub async fn void_entry(
    State(state): State<AppState>,
    me: CurrentUser,
    Path((code, id)): Path<(String, i64)>,
    axum::Form(f): axum::Form<VoidForm>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let e = state.store.entry(&me.scope(), id).await?;
    if e.ledger_code != code {
        return Err(AppError::NotFound);
    }
    let reason = f.reason.trim().chars().take(200).collect::<String>();
    state.store.void_entry(&me.actor(), id, &reason).await?;
    Ok(Redirect::to(&format!(
        "/ledgers/{code}/entries?org={}&period={}&ok=void",
        e.org_code,
        enc(&e.period)
    ))
    .into_response())
}

// ---- workflow, roster ----

#[derive(Deserialize)]
pub struct SubmissionForm {
    org: String,
    #[serde(default)]
    period: String,
    action: String,
    #[serde(default)]
    note: String,
    /// Where to go back to: `grid` (the ledger page) or the unit's entries.
    #[serde(default)]
    back: String,
}

pub async fn submission(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<SubmissionForm>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let action = SubmissionAction::parse(&f.action).ok_or_else(|| AppError::bad("未知的操作"))?;
    if action != SubmissionAction::Submit {
        me.require(Permission::TownshipReview)?;
    }
    let org = parse_code(f.org.trim())?;
    // Scope before anything else: a foreign unit is "not found".
    state.store.org_unit(&me.scope(), &org).await?;
    let note = f.note.trim().chars().take(500).collect::<String>();
    let cell = state
        .store
        .submission_action(&me.actor(), &code, &org, &f.period, action, &note)
        .await?;
    let to = if f.back == "grid" {
        let year = cell.period.get(..4).unwrap_or_default().to_string();
        format!("/ledgers/{code}?year={year}&ok={}", action.as_str())
    } else {
        format!(
            "/ledgers/{code}/entries?org={}&period={}&ok={}",
            cell.org_code,
            enc(&cell.period),
            action.as_str()
        )
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Deserialize)]
pub struct RosterForm {
    org: String,
    #[serde(default)]
    period: String,
}

pub async fn roster(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    axum::Form(f): axum::Form<RosterForm>,
) -> AppResult<Response> {
    me.require(Permission::Write)?;
    let org = parse_code(f.org.trim())?;
    state.store.org_unit(&me.scope(), &org).await?;
    state
        .store
        .ensure_roster(&me.actor(), &code, &org, &f.period)
        .await?;
    let l = state.store.ledger(&code).await?;
    let period = l
        .definition
        .check_period(&f.period)
        .map_err(AppError::BadRequest)?;
    Ok(Redirect::to(&format!(
        "/ledgers/{code}/entries?org={org}&period={}&ok=roster",
        enc(&period)
    ))
    .into_response())
}

// ---- attachments ----

pub async fn file(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(sha): Path<String>,
) -> AppResult<Response> {
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::NotFound);
    }
    let f = state.store.ledger_file(&me.scope(), &sha).await?;
    Ok(download(f.content, &f.name))
}

/// A stored file as a download, never rendered inline: an uploaded HTML file cannot run here.
pub(crate) fn download(content: Vec<u8>, name: &str) -> Response {
    let mut res = content.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"file\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
