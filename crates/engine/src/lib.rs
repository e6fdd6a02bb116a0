//! Indicators (指标) of xiangzhi, computed live from the records.
//!
//! An indicator is an expression of `xiangzhi-expr` stored as data ([`IndicatorDef`]), over
//! record sources (enrollments, payouts, cases, projects, tasks, persons, enterprises, key
//! persons), ledgers (台账) and data elements (统计数据). Every figure is computed when asked:
//! each primitive aggregate is one grouped SQL statement over the org-path index, so a
//! township's figure is always the aggregation of its villages under the current tree, and a
//! ranking of all villages costs one statement per primitive, not one per village. There is no
//! batch rebuild.
//!
//! # API
//!
//! All functions are async and take the store as `&dyn Store` and the viewer's [`Scope`]:
//!
//! ```text
//! engine::figure(store, &scope, "GRAIN_AREA", "361002201", &period)  -> Result<Figure, EngineError>
//! engine::previous_year(store, &scope, code, org, &period)           -> Result<Figure, EngineError>
//! engine::yoy(store, &scope, code, org, &period)                     -> Result<Change, EngineError>
//! engine::target(store, &scope, code, org, &period)                  -> Result<Option<Target>, EngineError>
//! engine::targets_reached(store, &scope, code, org, &period, level)  -> Result<TargetSummary, EngineError>
//! engine::ranking(store, &scope, code, org, &period, level)          -> Result<Vec<Figure>, EngineError>
//! engine::provenance(store, &scope, code, org, &period, limit)       -> Result<Provenance, EngineError>
//! ```
//!
//! Many figures at once (a dashboard) should share one [`Engine`] (`Engine::load(store,
//! scope)`): it compiles the indicators once and caches primitive answers, so an expression
//! used by several indicators (this year's value inside a YoY and a target) is queried once.
//!
//! A [`Figure`]'s `value` is in the indicator's stored unit (亩, fen, points, persons);
//! `None` means missing, never 0. `text` is the value shown in the display unit (`"3.76"` with
//! `unit` `"万亩"`). `provenance` is the URL path of the page listing the records behind it,
//! within the viewer's scope. A viewer whose scope lies inside the requested unit (a village
//! cadre following a township figure) gets their own unit's part: `org_code` then names their
//! unit and `narrowed` is true.
//!
//! The seed indicator pack ([`pack::builtin`]) holds data elements, indicators, targets and
//! the demo's data values for X乡; `pack::install` writes them through the store.

pub mod cache;
pub mod compute;
pub mod pack;
pub mod quality;
pub mod schema;

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::period::Period;
use xiangzhi_expr::{Checked, Display, Primitive, PrimitiveSource, Type, Value, compile, eval};
use xiangzhi_store::indicator::IndicatorDef;
use xiangzhi_store::measure::{MeasureRow, RecordRef};
use xiangzhi_store::{Scope, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("未知的指标“{0}”")]
    UnknownIndicator(String),
    #[error("指标“{code}”的表达式有误：{message}")]
    Expression { code: String, message: String },
    #[error("单位代码“{0}”无效")]
    BadOrg(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One computed figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub code: String,
    pub name: String,
    pub org_code: String,
    pub org_name: String,
    /// DHIS2 period code.
    pub period: String,
    /// In the stored unit (fen, 亩, points, persons); true/false as 1/0. `None`: missing.
    pub value: Option<f64>,
    /// `number`, `money`, `count`, `percent`, `bool`.
    pub value_type: String,
    /// The value in the display unit, rounded: `"3.76"`; `"—"` when missing.
    pub text: String,
    /// Display unit: `"万亩"`.
    pub unit: String,
    pub precision: u32,
    /// Multiplier from stored to display unit.
    pub scale: f64,
    /// Why the value is missing, in Chinese.
    pub missing: Option<String>,
    /// URL path of the records behind the figure.
    pub provenance: String,
    /// The viewer sees their own part of a larger unit.
    pub narrowed: bool,
}

impl Figure {
    /// `"3.76万亩"`, or `"—"`.
    pub fn with_unit(&self) -> String {
        if self.value.is_some() && self.value_type != "bool" {
            format!("{}{}", self.text, self.unit)
        } else {
            self.text.clone()
        }
    }

    /// The value in the display unit, rounded to the display precision as [`Figure::text`]
    /// shows it, so that a spreadsheet cell reads 3.76 and not 3.7600000000000002.
    pub fn shown(&self) -> Option<f64> {
        let unit = 10f64.powi(self.precision.min(12) as i32);
        self.value.map(|v| (v * self.scale * unit).round() / unit)
    }
}

/// A figure compared with the same period a year earlier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub current: Figure,
    pub previous: Figure,
    /// `current - previous` in the stored unit.
    pub delta: Option<f64>,
    /// Percent change; missing when either side is missing or the base is 0.
    pub rate: Option<f64>,
}

impl Change {
    pub fn new(current: Figure, previous: Figure) -> Change {
        let delta = match (current.value, previous.value) {
            (Some(a), Some(b)) => Some(a - b),
            _ => None,
        };
        let rate = match (delta, previous.value) {
            (Some(d), Some(b)) if b != 0.0 => Some(d / b.abs() * 100.0),
            _ => None,
        };
        Change {
            current,
            previous,
            delta,
            rate,
        }
    }

    /// `"+4.44%"`, `"-1.20%"`, or `"—"`.
    pub fn rate_text(&self) -> String {
        match self.rate {
            Some(r) => {
                let t = xiangzhi_expr::round_decimal(r, 2);
                if r >= 0.0 {
                    format!("+{t}%")
                } else {
                    format!("{t}%")
                }
            }
            None => xiangzhi_expr::MISSING.into(),
        }
    }
}

/// A target with the figure it is measured against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub code: String,
    pub org_code: String,
    pub org_name: String,
    pub period: String,
    /// In the indicator's stored unit.
    pub value: f64,
    /// `>=` or `<=`.
    pub comparison: String,
    /// The target in the display unit: `"50"` (万元).
    pub text: String,
    pub actual: Figure,
    /// Percent of the target done (`>=`: actual / target; `<=`: target / actual).
    pub completion: Option<f64>,
    pub reached: Option<bool>,
    pub note: String,
}

/// "N of 12 villages reached".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSummary {
    pub reached: usize,
    pub total: usize,
    pub targets: Vec<Target>,
}

/// The records behind a figure, per primitive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub figure: Figure,
    pub parts: Vec<ProvenancePart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvenancePart {
    /// The primitive as an expression.
    pub primitive: String,
    /// Its period after shifts.
    pub period: String,
    pub value: Option<f64>,
    pub records: Vec<RecordRef>,
    /// More records exist than listed.
    pub truncated: bool,
}

pub use cache::FigureCache;
use cache::{Defs, Targets};
pub use cache::{Rows, Units};

/// Compiled indicators over one store and scope, with what it has read kept in a
/// [`FigureCache`]: its own ([`Engine::load`]), or one shared between requests and kept while
/// the data version stays the same ([`Engine::load_cached`]). A county dashboard asks for the
/// same 520 villages and the same primitives for many indicators; each is read once.
pub struct Engine<'s> {
    store: &'s dyn Store,
    scope: Scope,
    defs: Arc<Defs>,
    cache: Arc<FigureCache>,
    /// The data version the answers in `cache` are filed under (0 for an engine's own cache).
    version: i64,
}

fn type_code(t: Type) -> &'static str {
    match t {
        Type::Number => "number",
        Type::Money => "money",
        Type::Count => "count",
        Type::Percent => "percent",
        Type::Bool => "bool",
    }
}

pub fn display(def: &IndicatorDef) -> Display {
    let d = Display::new(&def.unit, def.scale, def.precision);
    if def.trim { d.trimmed() } else { d }
}

/// `/indicators/{code}/records?org=…&period=…`
pub fn provenance_href(code: &str, org: &str, period: &str) -> String {
    format!("/indicators/{code}/records?org={org}&period={period}")
}

fn parse_org(org: &str) -> Result<DivisionCode, EngineError> {
    DivisionCode::parse(org).map_err(|_| EngineError::BadOrg(org.to_string()))
}

impl<'s> Engine<'s> {
    /// Reads the ledgers, data elements and indicators and compiles every indicator; what
    /// the engine reads later is kept for its own life (one request or one command).
    pub async fn load(store: &'s dyn Store, scope: &Scope) -> Result<Engine<'s>, EngineError> {
        Engine::with_cache(store, scope, Arc::new(FigureCache::new()), 0).await
    }

    /// An engine whose answers go to, and come from, `cache` for as long as the store's data
    /// version stays the one read here.
    pub async fn load_cached(
        store: &'s dyn Store,
        scope: &Scope,
        cache: &Arc<FigureCache>,
    ) -> Result<Engine<'s>, EngineError> {
        let version = store.data_version().await?;
        Engine::with_cache(store, scope, cache.clone(), version).await
    }

    async fn with_cache(
        store: &'s dyn Store,
        scope: &Scope,
        cache: Arc<FigureCache>,
        version: i64,
    ) -> Result<Engine<'s>, EngineError> {
        let defs = match cache.defs(version) {
            Some(d) => d,
            None => {
                let d = Arc::new(Engine::read_defs(store).await?);
                cache.file_defs(version, d.clone());
                d
            }
        };
        Ok(Engine {
            store,
            scope: scope.clone(),
            defs,
            cache,
            version,
        })
    }

    async fn read_defs(store: &dyn Store) -> Result<Defs, EngineError> {
        let ledgers = store.ledgers().await?;
        let elements = store.data_elements().await?;
        let indicators = store.indicators().await?;
        let schema = schema::build(&ledgers, &elements);
        let compiled = indicators
            .iter()
            .map(|i| {
                (
                    i.code.clone(),
                    compile(&i.expression, &schema).map_err(|d| d.to_string()),
                )
            })
            .collect();
        Ok(Defs {
            ledgers: ledgers.into_iter().map(|l| (l.code.clone(), l)).collect(),
            indicators,
            compiled,
        })
    }

    fn scope_key(&self) -> &str {
        self.scope.path.as_str()
    }

    pub fn store(&self) -> &'s dyn Store {
        self.store
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn indicators(&self) -> &[IndicatorDef] {
        &self.defs.indicators
    }

    pub fn indicator(&self, code: &str) -> Result<&IndicatorDef, EngineError> {
        self.defs
            .indicators
            .iter()
            .find(|i| i.code == code)
            .ok_or_else(|| EngineError::UnknownIndicator(code.to_string()))
    }

    /// The checked expression of an indicator, or its Chinese error.
    pub fn checked(&self, code: &str) -> Result<&Checked, EngineError> {
        match self.defs.compiled.get(code) {
            Some(Ok(c)) => Ok(c),
            Some(Err(m)) => Err(EngineError::Expression {
                code: code.to_string(),
                message: m.clone(),
            }),
            None => Err(EngineError::UnknownIndicator(code.to_string())),
        }
    }

    /// One primitive for `org` (or per unit of `by` under it), cached.
    pub async fn primitive(
        &self,
        p: &Primitive,
        org: &DivisionCode,
        period: &Period,
        by: Option<OrgLevel>,
    ) -> Result<Arc<Vec<MeasureRow>>, EngineError> {
        let key = (
            p.to_string(),
            org.as_str().to_string(),
            period.to_string(),
            by,
        );
        if let Some(hit) = self.cache.primitive(self.version, self.scope_key(), &key) {
            return Ok(hit);
        }
        let rows = match &p.source {
            PrimitiveSource::Ledger(code) => {
                let ledger = self
                    .defs
                    .ledgers
                    .get(code)
                    .ok_or(EngineError::Store(StoreError::NotFound))?;
                compute::ledger_rows(self.store, &self.scope, ledger, p, period, org, by).await?
            }
            _ => {
                let m = compute::measure(p, period).ok_or(StoreError::NotFound)?;
                self.store.measure(&self.scope, org, &m, by).await?
            }
        };
        let rows: Rows = Arc::new(rows);
        self.cache
            .file_primitive(self.version, self.scope_key(), key, rows.clone());
        Ok(rows)
    }

    // The parts of one figure come from different steps of the computation; a struct for them
    // would only be built here and taken apart below.
    #[allow(clippy::too_many_arguments)]
    fn figure_of(
        &self,
        def: &IndicatorDef,
        checked: &Checked,
        org: &DivisionCode,
        org_name: &str,
        period: &Period,
        value: Value,
        narrowed: bool,
    ) -> Figure {
        let d = display(def);
        let (v, missing) = match &value {
            Value::Number { value } => (Some(*value), None),
            Value::Bool { value } => (Some(if *value { 1.0 } else { 0.0 }), None),
            Value::Missing { reason } => (None, Some(reason.to_string())),
        };
        Figure {
            code: def.code.clone(),
            name: def.name.clone(),
            org_code: org.as_str().to_string(),
            org_name: org_name.to_string(),
            period: period.to_string(),
            value: v,
            value_type: type_code(checked.result_type).to_string(),
            text: d.format(&value),
            unit: def.unit.clone(),
            precision: def.precision,
            scale: def.scale,
            missing,
            provenance: provenance_href(&def.code, org.as_str(), &period.to_string()),
            narrowed,
        }
    }

    async fn org_name(&self, org: &DivisionCode) -> String {
        if let Some(hit) = self
            .cache
            .name(self.version, self.scope_key(), org.as_str())
        {
            return hit;
        }
        let name = match self.store.org_unit(&self.scope, org).await {
            Ok(u) => u.name,
            Err(_) => org.as_str().to_string(),
        };
        self.cache
            .file_name(self.version, self.scope_key(), org.as_str(), name.clone());
        name
    }

    /// The targets of an indicator for a period, within scope.
    async fn stored_targets(&self, code: &str, period: &Period) -> Result<Targets, EngineError> {
        let period = period.to_string();
        if let Some(hit) = self
            .cache
            .targets(self.version, self.scope_key(), code, &period)
        {
            return Ok(hit);
        }
        let targets = Arc::new(
            self.store
                .targets(&self.scope, Some(code), Some(&period))
                .await?,
        );
        self.cache.file_targets(
            self.version,
            self.scope_key(),
            code,
            &period,
            targets.clone(),
        );
        Ok(targets)
    }

    /// An indicator's figure for a unit and period.
    pub async fn figure(
        &self,
        code: &str,
        org: &str,
        period: &Period,
    ) -> Result<Figure, EngineError> {
        let def = self.indicator(code)?;
        let checked = self.checked(code)?;
        let asked = parse_org(org)?;
        let org = compute::effective_org(&self.scope, &asked);
        let mut inputs = Vec::with_capacity(checked.primitives.len());
        for p in &checked.primitives {
            let rows = self.primitive(p, &org, period, None).await?;
            inputs.push(input_of(p, rows.first().and_then(|r| r.value)));
        }
        let value = eval(&checked.plan, &inputs);
        let name = self.org_name(&org).await;
        Ok(self.figure_of(def, checked, &org, &name, period, value, org != asked))
    }

    /// The figure of each unit of `level` under `org`, computed with one grouped query per
    /// primitive, ordered best first (by `higher_is_better`), missing figures last.
    pub async fn ranking(
        &self,
        code: &str,
        org: &str,
        period: &Period,
        level: OrgLevel,
    ) -> Result<Vec<Figure>, EngineError> {
        let def = self.indicator(code)?;
        let checked = self.checked(code)?;
        let org = compute::effective_org(&self.scope, &parse_org(org)?);
        let units = self.units_at(&org, level).await?;
        let mut answers = Vec::with_capacity(checked.primitives.len());
        for p in &checked.primitives {
            answers.push(self.primitive(p, &org, period, Some(level)).await?);
        }
        let per: Vec<HashMap<&str, Option<f64>>> = answers
            .iter()
            .map(|rows| {
                rows.iter()
                    .map(|r| (r.org_code.as_str(), r.value))
                    .collect()
            })
            .collect();
        let mut out = Vec::with_capacity(units.len());
        for (code, name) in units.iter() {
            let inputs: Vec<Value> = checked
                .primitives
                .iter()
                .zip(&per)
                .map(|(p, m)| input_of(p, absent_default(p, m.get(code.as_str()).copied())))
                .collect();
            let value = eval(&checked.plan, &inputs);
            out.push(self.figure_of(def, checked, code, name, period, value, false));
        }
        let sign = if def.higher_is_better { -1.0 } else { 1.0 };
        out.sort_by(|a, b| match (a.value, b.value) {
            (Some(x), Some(y)) => (sign * x)
                .partial_cmp(&(sign * y))
                .unwrap_or(std::cmp::Ordering::Equal),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        Ok(out)
    }

    /// Current units of `level` under `org` within scope, in code order.
    pub async fn units_at(
        &self,
        org: &DivisionCode,
        level: OrgLevel,
    ) -> Result<Units, EngineError> {
        if let Some(hit) = self
            .cache
            .units(self.version, self.scope_key(), org.as_str(), level)
        {
            return Ok(hit);
        }
        let mut frontier = vec![org.clone()];
        let mut out = Vec::new();
        while let Some(u) = frontier.pop() {
            for c in self.store.org_children(&self.scope, Some(&u)).await? {
                if c.level == level {
                    out.push((c.code.clone(), c.name.clone()));
                } else if c.level.code_len() < level.code_len() {
                    frontier.push(c.code.clone());
                }
            }
        }
        out.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
        let out = Arc::new(out);
        self.cache.file_units(
            self.version,
            self.scope_key(),
            org.as_str(),
            level,
            out.clone(),
        );
        Ok(out)
    }

    pub async fn previous_year(
        &self,
        code: &str,
        org: &str,
        period: &Period,
    ) -> Result<Figure, EngineError> {
        self.figure(code, org, &period.same_period_last_year())
            .await
    }

    pub async fn yoy(&self, code: &str, org: &str, period: &Period) -> Result<Change, EngineError> {
        let current = self.figure(code, org, period).await?;
        let previous = self.previous_year(code, org, period).await?;
        Ok(Change::new(current, previous))
    }

    /// Period-on-period (环比): this period against the preceding one of the same type
    /// (202302 against 202301, 2023Q1 against 2022Q4). For a year it is the year-on-year change.
    pub async fn pop(&self, code: &str, org: &str, period: &Period) -> Result<Change, EngineError> {
        let current = self.figure(code, org, period).await?;
        let previous = self.figure(code, org, &period.previous()).await?;
        Ok(Change::new(current, previous))
    }

    /// The target set for exactly this unit and period, with its completion.
    pub async fn target(
        &self,
        code: &str,
        org: &str,
        period: &Period,
    ) -> Result<Option<Target>, EngineError> {
        let def = self.indicator(code)?;
        let targets = self.stored_targets(code, period).await?;
        let Some(t) = targets
            .iter()
            .find(|t| t.target.org_code.as_str() == org)
            .cloned()
        else {
            return Ok(None);
        };
        let actual = self.figure(code, org, period).await?;
        Ok(Some(target_of(def, t, actual)))
    }

    /// Targets of the units of `level` under `org` (and of `org` itself): how many reached.
    pub async fn targets_reached(
        &self,
        code: &str,
        org: &str,
        period: &Period,
        level: OrgLevel,
    ) -> Result<TargetSummary, EngineError> {
        let def = self.indicator(code)?;
        let org_c = compute::effective_org(&self.scope, &parse_org(org)?);
        let targets = self.stored_targets(code, period).await?;
        // Most indicators have no targets: no ranking to compute for them.
        if targets.is_empty() {
            return Ok(TargetSummary {
                reached: 0,
                total: 0,
                targets: Vec::new(),
            });
        }
        let ranking = self.ranking(code, org_c.as_str(), period, level).await?;
        let mut out = Vec::new();
        for t in targets.iter().cloned() {
            let Some(actual) = ranking
                .iter()
                .find(|f| f.org_code == t.target.org_code.as_str())
            else {
                continue;
            };
            out.push(target_of(def, t, actual.clone()));
        }
        Ok(TargetSummary {
            reached: out.iter().filter(|t| t.reached == Some(true)).count(),
            total: out.len(),
            targets: out,
        })
    }

    /// The records behind a figure, per primitive, at most `limit` per primitive.
    pub async fn provenance(
        &self,
        code: &str,
        org: &str,
        period: &Period,
        limit: usize,
    ) -> Result<Provenance, EngineError> {
        let figure = self.figure(code, org, period).await?;
        let checked = self.checked(code)?;
        let org_c = parse_org(&figure.org_code)?;
        let mut parts = Vec::new();
        for p in &checked.primitives {
            let shifted = compute::shifted(p, period);
            let rows = self.primitive(p, &org_c, period, None).await?;
            let mut records = match &p.source {
                PrimitiveSource::Ledger(l) => {
                    let ledger = self
                        .defs
                        .ledgers
                        .get(l)
                        .ok_or(EngineError::Store(StoreError::NotFound))?;
                    compute::ledger_records(
                        self.store,
                        &self.scope,
                        ledger,
                        p,
                        period,
                        &org_c,
                        limit + 1,
                    )
                    .await?
                }
                _ => {
                    let m = compute::measure(p, period).ok_or(StoreError::NotFound)?;
                    let n = u32::try_from(limit + 1).unwrap_or(u32::MAX);
                    self.store
                        .measure_records(&self.scope, &org_c, &m, n)
                        .await?
                }
            };
            let truncated = records.len() > limit;
            records.truncate(limit);
            parts.push(ProvenancePart {
                primitive: p.to_string(),
                period: shifted.to_string(),
                value: rows.first().and_then(|r| r.value),
                records,
                truncated,
            });
        }
        Ok(Provenance { figure, parts })
    }
}

/// A unit absent from a grouped answer had no records: a count of nothing is 0, any other
/// aggregate of nothing is missing.
fn absent_default(p: &Primitive, v: Option<Option<f64>>) -> Option<f64> {
    match v {
        Some(v) => v,
        None => match p.aggregation {
            xiangzhi_expr::AggFunc::Count
            | xiangzhi_expr::AggFunc::CountPersons
            | xiangzhi_expr::AggFunc::CountHouseholds => Some(0.0),
            _ => None,
        },
    }
}

fn input_of(p: &Primitive, v: Option<f64>) -> Value {
    match v {
        Some(x) if x.is_finite() => Value::Number { value: x },
        _ => Value::missing(xiangzhi_expr::Missing::NoData {
            primitive: p.to_string(),
        }),
    }
}

fn target_of(
    def: &IndicatorDef,
    t: xiangzhi_store::indicator::StoredTarget,
    actual: Figure,
) -> Target {
    let d = display(def);
    let goal = t.target.value;
    let at_least = t.target.comparison != "<=";
    let completion = actual.value.and_then(|a| {
        if at_least {
            (goal != 0.0).then(|| a / goal * 100.0)
        } else {
            (a != 0.0).then(|| goal / a * 100.0)
        }
    });
    let reached = actual
        .value
        .map(|a| if at_least { a >= goal } else { a <= goal });
    Target {
        code: def.code.clone(),
        org_code: t.target.org_code.as_str().to_string(),
        org_name: t.org_name,
        period: t.target.period,
        value: goal,
        comparison: t.target.comparison,
        text: d.format_number(goal),
        actual,
        completion,
        reached,
        note: t.target.note,
    }
}

/// An indicator's figure for a unit and period.
pub async fn figure(
    store: &dyn Store,
    scope: &Scope,
    code: &str,
    org: &str,
    period: &Period,
) -> Result<Figure, EngineError> {
    Engine::load(store, scope)
        .await?
        .figure(code, org, period)
        .await
}

/// The same figure a year earlier (leap days compare with 28 February).
pub async fn previous_year(
    store: &dyn Store,
    scope: &Scope,
    code: &str,
    org: &str,
    period: &Period,
) -> Result<Figure, EngineError> {
    Engine::load(store, scope)
        .await?
        .previous_year(code, org, period)
        .await
}

/// Year-on-year change.
pub async fn yoy(
    store: &dyn Store,
    scope: &Scope,
    code: &str,
    org: &str,
    period: &Period,
) -> Result<Change, EngineError> {
    Engine::load(store, scope)
        .await?
        .yoy(code, org, period)
        .await
}

/// The target of exactly this unit and period, with completion; `None` when none is set.
pub async fn target(
    store: &dyn Store,
    scope: &Scope,
    code: &str,
    org: &str,
    period: &Period,
) -> Result<Option<Target>, EngineError> {
    Engine::load(store, scope)
        .await?
        .target(code, org, period)
        .await
}

/// "N of 12 villages reached".
pub async fn targets_reached(
    store: &dyn Store,
    scope: &Scope,
    code: &str,
    org: &str,
    period: &Period,
    level: OrgLevel,
) -> Result<TargetSummary, EngineError> {
    Engine::load(store, scope)
        .await?
        .targets_reached(code, org, period, level)
        .await
}

/// Figures of every unit of `level` under `org`, best first.
pub async fn ranking(
    store: &dyn Store,
    scope: &Scope,
    code: &str,
    org: &str,
    period: &Period,
    level: OrgLevel,
) -> Result<Vec<Figure>, EngineError> {
    Engine::load(store, scope)
        .await?
        .ranking(code, org, period, level)
        .await
}

/// The records behind a figure.
pub async fn provenance(
    store: &dyn Store,
    scope: &Scope,
    code: &str,
    org: &str,
    period: &Period,
    limit: usize,
) -> Result<Provenance, EngineError> {
    Engine::load(store, scope)
        .await?
        .provenance(code, org, period, limit)
        .await
}
