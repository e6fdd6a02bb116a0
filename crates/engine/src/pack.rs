//! Indicator packs: data elements, indicators, targets and (demo) data values as TOML, like the
//! ledger pack. [`builtin`] is the seed pack of X乡's 2023 summary (`pack/seed.toml`).

use serde::Deserialize;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_expr::compile;
use xiangzhi_store::indicator::{DataElement, DataValueInput, IndicatorDef, TargetDef};
use xiangzhi_store::{Actor, Scope, Store};

use crate::EngineError;

const SEED: &str = include_str!("../pack/seed.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pack {
    #[serde(default, rename = "data_element")]
    pub data_elements: Vec<PackElement>,
    #[serde(default, rename = "indicator")]
    pub indicators: Vec<PackIndicator>,
    #[serde(default, rename = "target")]
    pub targets: Vec<PackTarget>,
    #[serde(default, rename = "value")]
    pub values: Vec<PackValue>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackElement {
    pub code: String,
    pub name: String,
    pub value_type: String,
    pub aggregation: String,
    pub period_type: String,
    #[serde(default)]
    pub unit: String,
    pub level: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackIndicator {
    pub code: String,
    pub name: String,
    pub category: String,
    pub expression: String,
    pub unit: String,
    pub scale: f64,
    pub precision: u32,
    #[serde(default)]
    pub trim: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub higher_is_better: bool,
    /// The seed document's figure as printed, in the display unit.
    pub seed: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackTarget {
    pub indicator: String,
    pub period: String,
    /// The unit; the installing township when absent.
    pub org: Option<String>,
    /// Set for every unit of this level under the township instead.
    pub each: Option<String>,
    pub value: f64,
    #[serde(default = "at_least")]
    pub comparison: String,
    #[serde(default)]
    pub note: String,
}

fn at_least() -> String {
    ">=".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackValue {
    pub element: String,
    pub period: String,
    /// The unit; the installing township when absent.
    pub org: Option<String>,
    pub value: f64,
    #[serde(default)]
    pub comment: String,
}

impl Pack {
    pub fn parse(text: &str) -> Result<Pack, String> {
        toml::from_str(text).map_err(|e| format!("指标包格式错误：{e}"))
    }

    pub fn elements(&self) -> Vec<DataElement> {
        self.data_elements
            .iter()
            .map(|e| DataElement {
                code: e.code.clone(),
                name: e.name.clone(),
                value_type: e.value_type.clone(),
                aggregation: e.aggregation.clone(),
                period_type: e.period_type.clone(),
                unit: e.unit.clone(),
                min: e.min,
                max: e.max,
                level: e.level.clone(),
            })
            .collect()
    }

    pub fn indicator_defs(&self) -> Vec<IndicatorDef> {
        self.indicators
            .iter()
            .enumerate()
            .map(|(i, d)| IndicatorDef {
                code: d.code.clone(),
                name: d.name.clone(),
                expression: d.expression.trim().to_string(),
                unit: d.unit.clone(),
                scale: d.scale,
                precision: d.precision,
                trim: d.trim,
                category: d.category.clone(),
                description: d.description.clone(),
                sort: (i as i64 + 1) * 10,
                higher_is_better: d.higher_is_better,
            })
            .collect()
    }
}

/// The seed pack.
pub fn builtin() -> Pack {
    Pack::parse(SEED).expect("the built-in indicator pack parses")
}

/// What [`install`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Installed {
    pub data_elements: usize,
    pub indicators: usize,
    pub targets: usize,
    pub values: usize,
}

/// Defines the pack's data elements and indicators (checking every expression against the
/// store's schema first; nothing is written if one fails), and with `township` also its
/// targets and values for that township. Idempotent.
pub async fn install(
    store: &dyn Store,
    actor: &Actor,
    pack: &Pack,
    township: Option<&DivisionCode>,
) -> Result<Installed, EngineError> {
    let elements = pack.elements();
    let ledgers = store.ledgers().await?;
    let mut all_elements = store.data_elements().await?;
    all_elements.retain(|e| !elements.iter().any(|n| n.code == e.code));
    all_elements.extend(elements.iter().cloned());
    let schema = crate::schema::build(&ledgers, &all_elements);
    let defs = pack.indicator_defs();
    for d in &defs {
        compile(&d.expression, &schema).map_err(|e| EngineError::Expression {
            code: d.code.clone(),
            message: e.to_string(),
        })?;
    }
    let mut out = Installed::default();
    for e in &elements {
        if store.define_data_element(actor, e).await? {
            out.data_elements += 1;
        }
    }
    for d in &defs {
        if store.define_indicator(actor, d).await? {
            out.indicators += 1;
        }
    }
    let Some(township) = township else {
        return Ok(out);
    };
    let scope = Scope::all();
    for t in &pack.targets {
        let orgs: Vec<DivisionCode> = match (&t.each, &t.org) {
            (Some(level), _) => {
                let level = OrgLevel::parse(level)
                    .ok_or_else(|| EngineError::BadOrg(format!("层级 {level}")))?;
                crate::Engine::load(store, &scope)
                    .await?
                    .units_at(township, level)
                    .await?
                    .iter()
                    .map(|(c, _)| c.clone())
                    .collect()
            }
            (None, Some(o)) => {
                vec![DivisionCode::parse(o).map_err(|_| EngineError::BadOrg(o.clone()))?]
            }
            (None, None) => vec![township.clone()],
        };
        for org in orgs {
            // A unit's own target (头昌村 50万) wins over the one set for every village.
            let specific = t.each.is_some()
                && pack.targets.iter().any(|o| {
                    o.each.is_none()
                        && o.indicator == t.indicator
                        && o.period == t.period
                        && o.org.as_deref() == Some(org.as_str())
                });
            if specific {
                continue;
            }
            store
                .save_target(
                    actor,
                    &TargetDef {
                        indicator_code: t.indicator.clone(),
                        org_code: org,
                        period: t.period.clone(),
                        value: t.value,
                        comparison: t.comparison.clone(),
                        note: t.note.clone(),
                    },
                )
                .await?;
            out.targets += 1;
        }
    }
    for v in &pack.values {
        let org = match &v.org {
            Some(o) => DivisionCode::parse(o).map_err(|_| EngineError::BadOrg(o.clone()))?,
            None => township.clone(),
        };
        store
            .save_data_value(
                actor,
                DataValueInput {
                    element_code: v.element.clone(),
                    org_code: org,
                    period: v.period.clone(),
                    value: v.value,
                    comment: v.comment.clone(),
                },
            )
            .await?;
        out.values += 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_pack_parses_with_unique_codes() {
        let p = builtin();
        let mut codes: Vec<_> = p.indicators.iter().map(|i| &i.code).collect();
        let n = codes.len();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), n, "duplicate indicator codes");
        assert!(n >= 40);
        for t in &p.targets {
            assert!(
                p.indicators.iter().any(|i| i.code == t.indicator),
                "{}",
                t.indicator
            );
        }
        for v in &p.values {
            assert!(
                p.data_elements.iter().any(|e| e.code == v.element),
                "{}",
                v.element
            );
        }
    }
}
