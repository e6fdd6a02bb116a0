//! Computing primitives: each [`Primitive`] of a checked expression becomes one grouped query
//! (a [`Measure`] for records and data values, a ledger aggregate for ledgers) over the
//! figure's unit and the period the primitive's clauses and shifts resolve to.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use xiangzhi_domain::ledger::FieldValue;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::period::{Period, PeriodType};
use xiangzhi_expr::{
    AggFunc, FilterOp, FilterValue, PeriodKind, Primitive, PrimitiveFilter, PrimitiveSource,
};
use xiangzhi_store::ledger::{AggFn, EntryQuery, Ledger, LedgerQuery, NumFilter};
use xiangzhi_store::measure::{
    Measure, MeasureAgg, MeasureFilter, MeasureOp, MeasureRow, MeasureSource, MeasureValue,
    RecordRef, Window,
};
use xiangzhi_store::sql_ledger::code_at_level;
use xiangzhi_store::{Scope, Store};

use crate::EngineError;
use crate::schema::{LEDGER_PERIOD, ledger_unit_factor};

/// The period a primitive reads once its `prev_year` / `prev_period` shifts are applied.
pub fn shifted(p: &Primitive, period: &Period) -> Period {
    let mut out = *period;
    for _ in 0..p.shift.years_back {
        out = out.same_period_last_year();
    }
    for _ in 0..p.shift.periods_back {
        out = out.previous();
    }
    out
}

/// The date window of a primitive for the figure's period.
pub fn window(p: &Primitive, period: &Period) -> Window {
    let period = shifted(p, period);
    let field = p.period.date_field.clone().filter(|f| f != LEDGER_PERIOD);
    match p.period.kind {
        PeriodKind::InPeriod => Window::Dates {
            field,
            from: period.start(),
            to: period.end(),
        },
        PeriodKind::InYtd => {
            let (from, to) = period.year_to_date();
            Window::Dates { field, from, to }
        }
        PeriodKind::AtEnd => Window::AtEnd {
            from: period.start(),
            on: period.end(),
        },
    }
}

fn agg(f: AggFunc) -> MeasureAgg {
    match f {
        AggFunc::Value | AggFunc::Sum => MeasureAgg::Sum,
        AggFunc::Count => MeasureAgg::Count,
        AggFunc::CountPersons => MeasureAgg::CountPersons,
        AggFunc::CountHouseholds => MeasureAgg::CountHouseholds,
        AggFunc::Avg => MeasureAgg::Avg,
        AggFunc::Min => MeasureAgg::Min,
        AggFunc::Max => MeasureAgg::Max,
        AggFunc::Last => MeasureAgg::Last,
    }
}

fn op(o: FilterOp) -> MeasureOp {
    match o {
        FilterOp::Eq => MeasureOp::Eq,
        FilterOp::Ne => MeasureOp::Ne,
        FilterOp::Lt => MeasureOp::Lt,
        FilterOp::Le => MeasureOp::Le,
        FilterOp::Gt => MeasureOp::Gt,
        FilterOp::Ge => MeasureOp::Ge,
        FilterOp::In => MeasureOp::In,
        FilterOp::NotIn => MeasureOp::NotIn,
    }
}

fn value(v: &FilterValue) -> MeasureValue {
    match v {
        FilterValue::Text(s) => MeasureValue::Text(s.clone()),
        FilterValue::Number(n) | FilterValue::Money(n) => MeasureValue::Number(*n),
        FilterValue::Bool(b) => MeasureValue::Bool(*b),
    }
}

/// The store measure of a record or data-element primitive.
pub fn measure(p: &Primitive, period: &Period) -> Option<Measure> {
    let source = match &p.source {
        PrimitiveSource::Record(n) => MeasureSource::Record(n.clone()),
        PrimitiveSource::DataElement(c) => MeasureSource::DataElement(c.clone()),
        PrimitiveSource::Ledger(_) => return None,
    };
    Some(Measure {
        source,
        agg: agg(p.aggregation),
        field: p.field.clone(),
        filters: p
            .filters
            .iter()
            .map(|f| MeasureFilter {
                field: f.field.clone(),
                op: op(f.op),
                values: f.values.iter().map(value).collect(),
            })
            .collect(),
        window: window(p, period),
    })
}

/// The unit a viewer gets a figure for: `org` itself, or the viewer's own unit when it lies
/// inside `org` (a village cadre following a township figure sees their village's part).
pub fn effective_org(scope: &Scope, org: &DivisionCode) -> DivisionCode {
    match scope.path.codes().last() {
        Some(own) if own != org.as_str() && own.starts_with(org.as_str()) => {
            DivisionCode::parse(own).unwrap_or_else(|_| org.clone())
        }
        _ => org.clone(),
    }
}

fn period_in(code: &str, w: &Window) -> bool {
    let Ok(p) = Period::parse(code) else {
        return true; // a ledger without periods: every entry counts
    };
    match w {
        Window::Dates { from, to, .. } => p.start() >= *from && p.end() <= *to,
        Window::AtEnd { on, .. } => p.contains(*on),
    }
}

fn same_year(w: &Window) -> Option<String> {
    let (a, b): (NaiveDate, NaiveDate) = (w.start(), w.end());
    use chrono::Datelike as _;
    (a.year() == b.year()).then(|| a.year().to_string())
}

/// Whether a ledger filter can run in SQL (numeric slots, single comparison).
fn numeric_filter(l: &Ledger, f: &PrimitiveFilter, factor: f64) -> Option<NumFilter> {
    l.slots.get(&f.field)?;
    let v = match f.values.first()? {
        FilterValue::Number(n) => *n,
        FilterValue::Money(fen) => *fen / factor,
        FilterValue::Bool(b) => f64::from(u8::from(*b)),
        FilterValue::Text(_) => return None,
    };
    if f.values.len() != 1 {
        return None;
    }
    let op = match f.op {
        FilterOp::Eq | FilterOp::In => "=",
        FilterOp::Ne | FilterOp::NotIn => "!=",
        FilterOp::Lt => "<",
        FilterOp::Le => "<=",
        FilterOp::Gt => ">",
        FilterOp::Ge => ">=",
    };
    Some(NumFilter {
        field: f.field.clone(),
        op: op.into(),
        value: v,
    })
}

fn field_factor(l: &Ledger, field: &str) -> f64 {
    let unit = l
        .definition
        .fields
        .iter()
        .find(|f| f.key == field)
        .and_then(|f| f.unit.as_deref());
    ledger_unit_factor(unit)
}

fn matches(v: Option<&FieldValue>, f: &PrimitiveFilter, factor: f64) -> bool {
    let one = |c: &FilterValue| -> Option<std::cmp::Ordering> {
        match (v?, c) {
            (FieldValue::Text(a), FilterValue::Text(b)) => Some(a.as_str().cmp(b.as_str())),
            (FieldValue::Many(a), FilterValue::Text(b)) => Some(if a.contains(b) {
                std::cmp::Ordering::Equal
            } else {
                std::cmp::Ordering::Less
            }),
            (FieldValue::Bool(a), FilterValue::Bool(b)) => Some(a.cmp(b)),
            (x, FilterValue::Number(n)) => x.as_f64()?.partial_cmp(n),
            (x, FilterValue::Money(fen)) => x.as_f64()?.partial_cmp(&(fen / factor)),
            _ => None,
        }
    };
    use std::cmp::Ordering::*;
    match f.op {
        FilterOp::In => f.values.iter().any(|c| one(c) == Some(Equal)),
        FilterOp::NotIn => v.is_some() && f.values.iter().all(|c| one(c) != Some(Equal)),
        o => match f.values.first().and_then(one) {
            None => false,
            Some(ord) => match o {
                FilterOp::Eq => ord == Equal,
                FilterOp::Ne => ord != Equal,
                FilterOp::Lt => ord == Less,
                FilterOp::Le => ord != Greater,
                FilterOp::Gt => ord == Greater,
                _ => ord != Less,
            },
        },
    }
}

/// Group key of a unit path: the code at `by`, or the whole figure's unit.
fn group_of(path: &str, by: Option<OrgLevel>, whole: &DivisionCode) -> Option<DivisionCode> {
    match by {
        None => Some(whole.clone()),
        Some(l) => code_at_level(path, l).and_then(|c| DivisionCode::parse(c).ok()),
    }
}

/// Running aggregate of one group.
#[derive(Default)]
struct Acc {
    n: i64,
    count: i64,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
}

impl Acc {
    fn add(&mut self, x: Option<f64>) {
        self.n += 1;
        if let Some(x) = x {
            self.count += 1;
            self.sum = Some(self.sum.unwrap_or(0.0) + x);
            self.min = Some(self.min.map_or(x, |m| m.min(x)));
            self.max = Some(self.max.map_or(x, |m| m.max(x)));
        }
    }
    fn get(&self, f: AggFunc) -> Option<f64> {
        match f {
            AggFunc::Count | AggFunc::CountPersons | AggFunc::CountHouseholds => {
                Some(self.n as f64)
            }
            AggFunc::Sum | AggFunc::Value | AggFunc::Last => self.sum,
            AggFunc::Avg => self.sum.map(|s| s / self.count.max(1) as f64),
            AggFunc::Min => self.min,
            AggFunc::Max => self.max,
        }
    }
}

/// A ledger primitive: one grouped aggregate when every filter is numeric, otherwise a walk
/// over the (few) entries of the unit in Rust.
pub async fn ledger_rows(
    store: &dyn Store,
    scope: &Scope,
    ledger: &Ledger,
    p: &Primitive,
    period: &Period,
    org: &DivisionCode,
    by: Option<OrgLevel>,
) -> Result<Vec<MeasureRow>, EngineError> {
    let w = window(p, period);
    let factor = p.field.as_deref().map_or(1.0, |f| field_factor(ledger, f));
    let numeric: Option<Vec<NumFilter>> = p
        .filters
        .iter()
        .map(|f| numeric_filter(ledger, f, field_factor(ledger, &f.field)))
        .collect();
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    if let Some(filters) = numeric {
        let q = LedgerQuery {
            org: Some(org.clone()),
            period_prefix: same_year(&w),
            group_level: by,
            group_period: Some(PeriodType::Day),
            fields: match &p.field {
                Some(f) => vec![f.clone()],
                None => ledger.slots.keys().take(1).cloned().collect(),
            },
            filters,
        };
        for row in store.ledger_aggregate(scope, &ledger.code, &q).await? {
            if !row.period.as_deref().is_none_or(|c| period_in(c, &w)) {
                continue;
            }
            let code = match (by, &row.org_code) {
                (None, _) => org.clone(),
                (Some(_), Some(c)) => c.clone(),
                (Some(_), None) => continue,
            };
            let g = groups.entry(code.as_str().to_string()).or_default();
            g.n += row.entries;
            if let Some(f) = p.field.as_ref().and_then(|f| row.fields.get(f)) {
                g.count += f.count;
                if let Some(s) = f.get(AggFn::Sum) {
                    g.sum = Some(g.sum.unwrap_or(0.0) + s);
                }
                if let Some(x) = f.min {
                    g.min = Some(g.min.map_or(x, |m| m.min(x)));
                }
                if let Some(x) = f.max {
                    g.max = Some(g.max.map_or(x, |m| m.max(x)));
                }
            }
        }
    } else {
        let mut after = None;
        loop {
            let page = store
                .entries(
                    scope,
                    &ledger.code,
                    &EntryQuery {
                        org: Some(org.clone()),
                        period: None,
                        include_void: false,
                        after_id: after,
                        limit: 1000,
                    },
                )
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            for e in &page {
                if !e.filled || !period_in(&e.period, &w) {
                    continue;
                }
                let keep = p
                    .filters
                    .iter()
                    .all(|f| matches(e.values.get(&f.field), f, field_factor(ledger, &f.field)));
                if !keep {
                    continue;
                }
                let Some(code) = group_of(e.org_path.as_str(), by, org) else {
                    continue;
                };
                let x = p
                    .field
                    .as_ref()
                    .and_then(|f| e.values.get(f))
                    .and_then(FieldValue::as_f64);
                groups.entry(code.as_str().to_string()).or_default().add(x);
            }
        }
    }
    Ok(groups
        .into_iter()
        .filter_map(|(code, acc)| {
            let org_code = DivisionCode::parse(&code).ok()?;
            let value = acc.get(p.aggregation).map(|v| v * factor);
            Some(MeasureRow {
                org_code,
                value,
                records: acc.n,
            })
        })
        .collect())
}

/// The ledger entries behind a ledger primitive, as provenance records.
pub async fn ledger_records(
    store: &dyn Store,
    scope: &Scope,
    ledger: &Ledger,
    p: &Primitive,
    period: &Period,
    org: &DivisionCode,
    limit: usize,
) -> Result<Vec<RecordRef>, EngineError> {
    let w = window(p, period);
    let mut out = Vec::new();
    let mut after = None;
    'pages: loop {
        let page = store
            .entries(
                scope,
                &ledger.code,
                &EntryQuery {
                    org: Some(org.clone()),
                    period: None,
                    include_void: false,
                    after_id: after,
                    limit: 1000,
                },
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for e in page {
            if !e.filled || !period_in(&e.period, &w) {
                continue;
            }
            let keep = p
                .filters
                .iter()
                .all(|f| matches(e.values.get(&f.field), f, field_factor(ledger, &f.field)));
            if !keep {
                continue;
            }
            let v = p
                .field
                .as_ref()
                .and_then(|f| e.values.get(f))
                .and_then(FieldValue::as_f64);
            out.push(RecordRef {
                source: format!("ledger:{}", ledger.code),
                id: e.id,
                org_code: e.org_code.as_str().to_string(),
                org_name: e.org_name.clone(),
                date: Some(e.period.clone()),
                label: ledger.definition.name.clone(),
                value: v.or(Some(1.0)),
                href: Some(format!("/ledgers/{}/entries/{}", ledger.code, e.id)),
            });
            if out.len() >= limit {
                break 'pages;
            }
        }
    }
    Ok(out)
}

/// Answers of a set of primitives keyed by unit code.
pub type Answers = Vec<HashMap<String, Option<f64>>>;
