//! Pages of 指标看板: the indicator list, one indicator (figure, year-on-year, target, trend
//! and ranking of the units below), the records behind a figure, and the dashboard of a unit
//! and year with its XLSX export. Figures are computed live by `xiangzhi-engine`; scope is the
//! store's: a unit outside the viewer's scope is "not found", except on the records page,
//! where a viewer inside the unit (a village cadre following a township figure) sees their
//! own records only.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use xiangzhi_domain::org::OrgLevel;
use xiangzhi_domain::period::{Period, PeriodType};
use xiangzhi_engine::{Change, Engine, EngineError, Figure, Provenance, Target};
use xiangzhi_store::indicator::DataValueQuery;

use crate::auth::{CurrentUser, render};
use crate::charts::{self, Bar};
use crate::error::{AppError, AppResult};
use crate::pages::{Chrome, parse_code};
use crate::state::AppState;

impl From<EngineError> for AppError {
    fn from(e: EngineError) -> AppError {
        match e {
            EngineError::Store(s) => s.into(),
            EngineError::UnknownIndicator(_) | EngineError::BadOrg(_) => AppError::NotFound,
            other => AppError::BadRequest(other.to_string()),
        }
    }
}

#[derive(Deserialize, Default)]
pub struct FigureQuery {
    org: Option<String>,
    period: Option<String>,
    year: Option<String>,
}

/// The unit asked for (checked against the scope), or the viewer's own.
pub(crate) async fn unit_of(
    state: &AppState,
    me: &CurrentUser,
    org: Option<&str>,
) -> AppResult<xiangzhi_store::OrgUnit> {
    let code = match org.map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => parse_code(c)?,
        None => me.user.org_code.clone(),
    };
    Ok(state.store.org_unit(&me.scope(), &code).await?)
}

/// The year to show by default: the latest with entered data in scope, else last year.
pub(crate) async fn default_year(state: &AppState, me: &CurrentUser) -> i32 {
    let last = chrono::Datelike::year(&chrono::Utc::now().date_naive()) - 1;
    state
        .store
        .data_values(&me.scope(), &DataValueQuery::default())
        .await
        .ok()
        .and_then(|vs| {
            vs.iter()
                .filter_map(|v| v.period.get(..4)?.parse::<i32>().ok())
                .max()
        })
        .map_or(last, |y| y.min(last + 1))
}

async fn period_of(state: &AppState, me: &CurrentUser, q: &FigureQuery) -> AppResult<Period> {
    let text = match (&q.period, &q.year) {
        (Some(p), _) if !p.trim().is_empty() => p.trim().to_string(),
        (_, Some(y)) if !y.trim().is_empty() => y.trim().to_string(),
        _ => default_year(state, me).await.to_string(),
    };
    Period::parse(&text)
        .map_err(|_| AppError::bad(format!("期间“{text}”无效，应如 2023、2023Q1、202301")))
}

/// The level below a unit that rankings compare: villages under a township or county.
/// The units a unit's figures are compared across: a county looks at its townships (37 rows,
/// not 520 villages), a township at its villages, a village at its grids.
pub(crate) fn ranking_level(level: OrgLevel) -> Option<OrgLevel> {
    match level {
        OrgLevel::County => Some(OrgLevel::Township),
        OrgLevel::Township => Some(OrgLevel::Village),
        OrgLevel::Village => Some(OrgLevel::Grid),
        other => other.child(),
    }
}

pub struct IndicatorRow {
    pub figure: Figure,
    pub category: String,
    pub expression: String,
}

#[derive(Template)]
#[template(path = "indicators.html")]
struct IndicatorsPage {
    chrome: Chrome,
    unit_name: String,
    unit_code: String,
    period: String,
    rows: Vec<IndicatorRow>,
}

pub async fn indicators(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<FigureQuery>,
) -> AppResult<Response> {
    let unit = unit_of(&state, &me, q.org.as_deref()).await?;
    let period = period_of(&state, &me, &q).await?;
    let scope = me.scope();
    let engine = Engine::load_cached(state.store.as_ref(), &scope, &state.figures).await?;
    let mut rows = Vec::new();
    for def in engine.indicators() {
        let figure = match engine.figure(&def.code, unit.code.as_str(), &period).await {
            Ok(f) => f,
            Err(EngineError::Expression { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        rows.push(IndicatorRow {
            figure,
            category: def.category.clone(),
            expression: def.expression.clone(),
        });
    }
    Ok(render(IndicatorsPage {
        chrome: Chrome::of(&me),
        unit_name: unit.name,
        unit_code: unit.code.to_string(),
        period: period.to_string(),
        rows,
    }))
}

#[derive(Template)]
#[template(path = "indicator.html")]
struct IndicatorPage {
    chrome: Chrome,
    name: String,
    code: String,
    category: String,
    expression: String,
    unit_name: String,
    unit_code: String,
    period: String,
    change: Change,
    /// 环比, for periods shorter than a year.
    pop: Option<Change>,
    target: Option<Target>,
    trend_svg: String,
    ranking_svg: String,
    ranking: Vec<Figure>,
    ranking_targets: Vec<Target>,
}

/// Five years up to the period's, as (label, value, text).
async fn trend(
    engine: &Engine<'_>,
    code: &str,
    org: &str,
    period: &Period,
) -> AppResult<Vec<(String, Option<f64>, String)>> {
    let mut ps = vec![*period];
    for _ in 0..4 {
        let prev = ps[0].same_period_last_year();
        ps.insert(0, prev);
    }
    let mut out = Vec::new();
    for p in ps {
        let f = engine.figure(code, org, &p).await?;
        out.push((p.to_string(), f.shown(), f.text.clone()));
    }
    Ok(out)
}

pub async fn indicator(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<FigureQuery>,
) -> AppResult<Response> {
    let unit = unit_of(&state, &me, q.org.as_deref()).await?;
    let period = period_of(&state, &me, &q).await?;
    let scope = me.scope();
    let engine = Engine::load_cached(state.store.as_ref(), &scope, &state.figures).await?;
    let def = engine.indicator(&code)?.clone();
    let org = unit.code.as_str();
    let change = engine.yoy(&code, org, &period).await?;
    let pop = if period.period_type() == PeriodType::Year {
        None
    } else {
        Some(engine.pop(&code, org, &period).await?)
    };
    let target = engine.target(&code, org, &period).await?;
    let trend = trend(&engine, &code, org, &period).await?;
    let (ranking, ranking_targets) = match ranking_level(unit.level) {
        Some(level) => {
            let r = engine.ranking(&code, org, &period, level).await?;
            let t = engine
                .targets_reached(&code, org, &period, level)
                .await?
                .targets;
            (r, t)
        }
        None => (Vec::new(), Vec::new()),
    };
    let bars: Vec<Bar> = ranking
        .iter()
        .map(|f| Bar {
            label: f.org_name.clone(),
            value: f.shown(),
            text: f.with_unit(),
            href: Some(f.provenance.clone()),
            target: ranking_targets
                .iter()
                .find(|t| t.org_code == f.org_code)
                .map(|t| t.value * f.scale),
        })
        .collect();
    Ok(render(IndicatorPage {
        chrome: Chrome::of(&me),
        name: def.name.clone(),
        code: def.code.clone(),
        category: def.category.clone(),
        expression: def.expression.clone(),
        unit_name: unit.name,
        unit_code: unit.code.to_string(),
        period: period.to_string(),
        trend_svg: charts::line(&format!("{}趋势", def.name), &trend),
        ranking_svg: if bars.is_empty() {
            String::new()
        } else {
            charts::bars(&format!("{}排名", def.name), &bars)
        },
        change,
        pop,
        target,
        ranking,
        ranking_targets,
    }))
}

#[derive(Template)]
#[template(path = "indicator_records.html")]
struct RecordsPage {
    chrome: Chrome,
    p: Provenance,
}

/// The records behind a figure. A viewer whose scope lies inside the unit sees their part.
pub async fn records(
    State(state): State<AppState>,
    me: CurrentUser,
    Path(code): Path<String>,
    Query(q): Query<FigureQuery>,
) -> AppResult<Response> {
    let period = period_of(&state, &me, &q).await?;
    let asked = match q.org.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => parse_code(c)?,
        None => me.user.org_code.clone(),
    };
    let scope = me.scope();
    // Inside the scope, or an ancestor of the viewer's own unit; anything else is not found.
    if !me.user.org_code.as_str().starts_with(asked.as_str()) {
        state.store.org_unit(&scope, &asked).await?;
    }
    let engine = Engine::load_cached(state.store.as_ref(), &scope, &state.figures).await?;
    let p = engine
        .provenance(&code, asked.as_str(), &period, 500)
        .await?;
    Ok(render(RecordsPage {
        chrome: Chrome::of(&me),
        p,
    }))
}

pub struct KeyFigure {
    pub change: Change,
    pub spark: String,
    pub category: String,
    pub up: bool,
    pub down: bool,
}

pub struct RankColumn {
    pub code: String,
    pub name: String,
}

pub struct RankRow {
    pub unit: String,
    pub cells: Vec<(String, String, usize)>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage<'a> {
    chrome: Chrome,
    unit_name: &'a str,
    unit_code: String,
    year: String,
    figures: &'a [KeyFigure],
    targets: &'a [Target],
    columns: &'a [RankColumn],
    ranks: &'a [RankRow],
}

/// Everything a dashboard shows, computed once for the page and the XLSX export.
pub(crate) struct Dashboard {
    pub unit: xiangzhi_store::OrgUnit,
    pub year: Period,
    pub figures: Vec<KeyFigure>,
    pub targets: Vec<Target>,
    pub columns: Vec<RankColumn>,
    pub ranks: Vec<RankRow>,
}

/// How many indicators the ranking matrix compares.
const RANK_COLUMNS: usize = 8;

/// A dashboard as the viewer's scope sees it, from the dashboards kept since the last write
/// (a county leader's page is asked for all day and changes only when data does).
pub(crate) async fn dashboard_data(
    state: &AppState,
    me: &CurrentUser,
    q: &FigureQuery,
) -> AppResult<Arc<Dashboard>> {
    let unit = unit_of(state, me, q.org.as_deref()).await?;
    let year = match period_of(state, me, q).await? {
        p if p.period_type() == PeriodType::Year => p,
        p => Period::parse(&p.year().to_string()).map_err(|_| AppError::bad("年份无效"))?,
    };
    let scope = me.scope();
    let version = state.store.data_version().await?;
    let key = (
        scope.path.as_str().to_string(),
        unit.code.as_str().to_string(),
        year.to_string(),
    );
    if let Some(d) = state.dashboards.get(version, &key) {
        return Ok(d);
    }
    let _filling = state.filling.lock().await;
    if let Some(d) = state.dashboards.get(version, &key) {
        return Ok(d);
    }
    let d = Arc::new(compute_dashboard(state, &scope, unit, year).await?);
    state.dashboards.file(version, key, d.clone());
    Ok(d)
}

async fn compute_dashboard(
    state: &AppState,
    scope: &xiangzhi_store::Scope,
    unit: xiangzhi_store::OrgUnit,
    year: Period,
) -> AppResult<Dashboard> {
    let engine = Engine::load_cached(state.store.as_ref(), scope, &state.figures).await?;
    let org = unit.code.as_str();
    let mut figures = Vec::new();
    let mut targets = Vec::new();
    let rank_level = ranking_level(unit.level);
    let mut columns = Vec::new();
    #[allow(clippy::type_complexity)] // (unit, [(code, name, count)]), built and read here only
    let mut per_unit: Vec<(String, Vec<(String, String, usize)>)> = Vec::new();
    for def in engine.indicators() {
        if def.category == xiangzhi_engine::quality::RULE_CATEGORY
            || engine.checked(&def.code).is_err()
        {
            continue;
        }
        let change = engine.yoy(&def.code, org, &year).await?;
        let two_back = year.same_period_last_year().same_period_last_year();
        let spark = [
            engine.figure(&def.code, org, &two_back).await?.value,
            change.previous.value,
            change.current.value,
        ];
        let (up, down) = match change.delta {
            Some(d) if d > 0.0 => (true, false),
            Some(d) if d < 0.0 => (false, true),
            _ => (false, false),
        };
        if let Some(t) = engine.target(&def.code, org, &year).await? {
            targets.push(t);
        }
        if let Some(level) = rank_level {
            let s = engine.targets_reached(&def.code, org, &year, level).await?;
            targets.extend(s.targets);
            let numeric = change.current.value_type != "bool";
            if numeric && columns.len() < RANK_COLUMNS && change.current.value.is_some() {
                let ranking = engine.ranking(&def.code, org, &year, level).await?;
                if ranking.iter().filter(|f| f.value.is_some()).count() > 1 {
                    columns.push(RankColumn {
                        code: def.code.clone(),
                        name: def.name.clone(),
                    });
                    for (i, f) in ranking.iter().enumerate() {
                        let cell = (
                            f.with_unit(),
                            f.provenance.clone(),
                            if f.value.is_some() { i + 1 } else { 0 },
                        );
                        match per_unit.iter_mut().find(|(u, _)| *u == f.org_name) {
                            Some((_, cells)) => cells.push(cell),
                            None => per_unit.push((f.org_name.clone(), vec![cell])),
                        }
                    }
                }
            }
        }
        figures.push(KeyFigure {
            spark: charts::sparkline(&spark),
            category: def.category.clone(),
            change,
            up,
            down,
        });
    }
    per_unit.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Dashboard {
        unit,
        year,
        figures,
        targets,
        columns,
        ranks: per_unit
            .into_iter()
            .map(|(unit, cells)| RankRow { unit, cells })
            .collect(),
    })
}

pub async fn dashboard(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<FigureQuery>,
) -> AppResult<Response> {
    let d = dashboard_data(&state, &me, &q).await?;
    Ok(render(DashboardPage {
        chrome: Chrome::of(&me),
        unit_name: &d.unit.name,
        unit_code: d.unit.code.to_string(),
        year: d.year.to_string(),
        figures: &d.figures,
        targets: &d.targets,
        columns: &d.columns,
        ranks: &d.ranks,
    }))
}

pub async fn dashboard_xlsx(
    State(state): State<AppState>,
    me: CurrentUser,
    Query(q): Query<FigureQuery>,
) -> AppResult<Response> {
    use xiangzhi_exchange::Cell;
    let d = dashboard_data(&state, &me, &q).await?;
    let headers = [
        "指标代码",
        "指标",
        "单位",
        "本年",
        "上年",
        "同比",
        "目标",
        "完成率",
        "出处",
    ];
    let name = format!("{}{}年指标看板.xlsx", d.unit.name, d.year);
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
        let mut x = xiangzhi_exchange::write::XlsxExport::new("指标看板", &headers)
            .map_err(|e| e.to_string())?;
        for k in &d.figures {
            let f = &k.change.current;
            let t = d
                .targets
                .iter()
                .find(|t| t.code == f.code && t.org_code == f.org_code);
            let num = |v: Option<f64>| v.map_or(Cell::Empty, Cell::Float);
            x.write_row(&[
                Cell::Text(f.code.clone()),
                Cell::Text(f.name.clone()),
                Cell::Text(f.unit.clone()),
                num(f.shown()),
                num(k.change.previous.shown()),
                Cell::Text(k.change.rate_text()),
                t.map_or(Cell::Empty, |t| {
                    Cell::Text(format!("{} {}", t.comparison, t.text))
                }),
                t.and_then(|t| t.completion)
                    .map_or(Cell::Empty, |c| Cell::Text(format!("{c:.1}%"))),
                Cell::Text(f.provenance.clone()),
            ])
            .map_err(|e| e.to_string())?;
        }
        x.finish().map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(AppError::Internal)?;
    Ok(crate::import_pages::xlsx(bytes, &name))
}
