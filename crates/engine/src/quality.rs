//! Data quality (数据质量): the violations of a unit's figures for a year.
//!
//! Three kinds, each with a link to what to look at:
//! - rules: indicators of the category [`RULE_CATEGORY`] are truth-valued expressions that must
//!   hold for every unit of a level (粮食单产在合理区间); a unit where one is false violates it;
//! - range: a data value outside its element's plausible min-max;
//! - change: a unit's figure moved more than [`MAX_CHANGE`] percent against last year.

use serde::{Deserialize, Serialize};
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::period::Period;
use xiangzhi_store::indicator::DataValueQuery;

use crate::{Engine, EngineError, Figure, provenance_href};

/// Indicators of this category are data-quality rules.
pub const RULE_CATEGORY: &str = "数据质量规则";

/// A year-on-year change beyond this many percent (either way) is flagged.
pub const MAX_CHANGE: f64 = 50.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// `rule`, `range` or `change`.
    pub kind: String,
    pub org_code: String,
    pub org_name: String,
    pub period: String,
    /// The indicator or data element.
    pub code: String,
    pub name: String,
    /// What is wrong, in Chinese.
    pub message: String,
    /// Where to look.
    pub href: String,
}

/// Violations of the units of `level` under `org` for `period`.
pub async fn violations(
    engine: &Engine<'_>,
    org: &str,
    period: &Period,
    level: OrgLevel,
) -> Result<Vec<Violation>, EngineError> {
    let mut out = Vec::new();
    let org_c = crate::compute::effective_org(
        engine.scope(),
        &DivisionCode::parse(org).map_err(|_| EngineError::BadOrg(org.to_string()))?,
    );
    let last_year = period.same_period_last_year();
    for def in engine.indicators() {
        if engine.checked(&def.code).is_err() {
            continue;
        }
        let now = engine
            .ranking(&def.code, org_c.as_str(), period, level)
            .await?;
        if def.category == RULE_CATEGORY {
            for f in now.iter().filter(|f| f.value == Some(0.0)) {
                out.push(violation(
                    "rule",
                    f,
                    &def.name,
                    format!("不符合规则：{}", def.name),
                ));
            }
            continue;
        }
        if !matches!(
            engine.checked(&def.code)?.result_type,
            xiangzhi_expr::Type::Bool
        ) {
            let before = engine
                .ranking(&def.code, org_c.as_str(), &last_year, level)
                .await?;
            for f in &now {
                let Some(b) = before.iter().find(|b| b.org_code == f.org_code) else {
                    continue;
                };
                if let (Some(x), Some(y)) = (f.value, b.value)
                    && y != 0.0
                {
                    let change = (x - y) / y.abs() * 100.0;
                    if change.abs() > MAX_CHANGE {
                        out.push(violation(
                            "change",
                            f,
                            &def.name,
                            format!(
                                "比上年变化 {}%（{} → {}），超过±{MAX_CHANGE}%，请核实",
                                xiangzhi_expr::round_decimal(change, 1),
                                b.with_unit(),
                                f.with_unit()
                            ),
                        ));
                    }
                }
            }
        }
    }
    let elements = engine.store().data_elements().await?;
    let values = engine
        .store()
        .data_values(
            engine.scope(),
            &DataValueQuery {
                element: None,
                org: Some(org_c.clone()),
                period_prefix: Some(period.year().to_string()),
            },
        )
        .await?;
    for v in values {
        let Some(el) = elements.iter().find(|e| e.code == v.element_code) else {
            continue;
        };
        let low = el.min.is_some_and(|m| v.value < m);
        let high = el.max.is_some_and(|m| v.value > m);
        if low || high {
            out.push(Violation {
                kind: "range".into(),
                org_code: v.org_code.clone(),
                org_name: v.org_name.clone(),
                period: v.period.clone(),
                code: el.code.clone(),
                name: el.name.clone(),
                message: format!(
                    "数值 {} 超出合理范围（{} ~ {}）",
                    v.value,
                    el.min.map_or("—".into(), |m| m.to_string()),
                    el.max.map_or("—".into(), |m| m.to_string())
                ),
                href: format!("/data?org={}&period={}", v.org_code, v.period),
            });
        }
    }
    Ok(out)
}

fn violation(kind: &str, f: &Figure, name: &str, message: String) -> Violation {
    Violation {
        kind: kind.into(),
        org_code: f.org_code.clone(),
        org_name: f.org_name.clone(),
        period: f.period.clone(),
        code: f.code.clone(),
        name: name.to_string(),
        message,
        href: provenance_href(&f.code, &f.org_code, &f.period),
    }
}
