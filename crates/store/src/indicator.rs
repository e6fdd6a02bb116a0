//! Indicators (指标), their targets (目标), data elements (统计数据项) with values entered per
//! unit and period, and the approval that locks a village's period.
//!
//! Same rules as [`crate::Store`]: reads take a [`Scope`]; writes take an [`Actor`], check
//! scope, refuse locked periods and are audited in the same transaction. Indicator, target and
//! data element definitions are global; data values, targets and approvals belong to a unit.
//!
//! [`IndicatorStore::measure`] computes one primitive aggregate over a unit's subtree (or per
//! unit of a level below it) in one grouped statement; see [`crate::measure`].

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use xiangzhi_domain::ledger::{SubmissionAction, SubmissionStatus};
use xiangzhi_domain::org::{DivisionCode, OrgLevel};

use crate::error::StoreResult;
use crate::measure::{Measure, MeasureRow, RecordRef};
use crate::model::{Actor, Scope};
use crate::registry::ImportIssue;

/// A figure entered directly (统计数据项).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataElement {
    pub code: String,
    pub name: String,
    /// `number`, `money` (values in fen), `count`, `percent`.
    pub value_type: String,
    /// `sum`, `average`, `last`.
    pub aggregation: String,
    /// DHIS2 period type code (`yearly`, `monthly`, …).
    pub period_type: String,
    /// Unit as entered: 亩, 吨, 元.
    pub unit: String,
    /// Plausible range per unit and period, for data-quality checks.
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The level values are entered at (`village` or `township`).
    pub level: String,
}

impl DataElement {
    pub const VALUE_TYPES: [&str; 4] = ["number", "money", "count", "percent"];
    pub const AGGREGATIONS: [&str; 3] = ["sum", "average", "last"];

    /// Every problem, in Chinese.
    pub fn validate(&self) -> Result<(), String> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 50
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if !code_ok {
            return Err(format!(
                "数据项代码“{}”无效：只能用大写字母、数字和下划线，最多50个字符",
                self.code
            ));
        }
        if self.name.trim().is_empty() {
            return Err("数据项名称不能为空".into());
        }
        if !Self::VALUE_TYPES.contains(&self.value_type.as_str()) {
            return Err(format!("数值类型“{}”无效", self.value_type));
        }
        if !Self::AGGREGATIONS.contains(&self.aggregation.as_str()) {
            return Err(format!("汇总方式“{}”无效", self.aggregation));
        }
        if xiangzhi_domain::period::PeriodType::parse(&self.period_type).is_none() {
            return Err(format!("期间类型“{}”无效", self.period_type));
        }
        if OrgLevel::parse(&self.level).is_none() {
            return Err(format!("填报层级“{}”无效", self.level));
        }
        Ok(())
    }
}

/// One entered value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataValue {
    pub id: i64,
    pub element_code: String,
    pub org_code: String,
    pub org_name: String,
    pub period: String,
    pub value: f64,
    pub comment: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// A value to write (replaces the unit's value for the element and period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataValueInput {
    pub element_code: String,
    pub org_code: DivisionCode,
    pub period: String,
    pub value: f64,
    pub comment: String,
}

#[derive(Debug, Clone, Default)]
pub struct DataValueQuery {
    pub element: Option<String>,
    /// The unit or any unit above it.
    pub org: Option<DivisionCode>,
    /// Periods starting with this.
    pub period_prefix: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DataValueImportRow {
    pub line: usize,
    pub value: DataValueInput,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DataImportOutcome {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub committed: bool,
    pub issues: Vec<ImportIssue>,
}

/// An indicator as stored: an expression with display settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndicatorDef {
    pub code: String,
    pub name: String,
    /// In the expression language of `xiangzhi-expr`.
    pub expression: String,
    /// Display: unit shown, scale from stored to shown, decimals, trim zeros.
    pub unit: String,
    pub scale: f64,
    pub precision: u32,
    pub trim: bool,
    /// 农业, 民生, …: dashboards group by it.
    pub category: String,
    pub description: String,
    pub sort: i64,
    /// Whether more is better (rankings, target direction).
    pub higher_is_better: bool,
}

/// A planned value for an indicator, unit and period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetDef {
    pub indicator_code: String,
    pub org_code: DivisionCode,
    pub period: String,
    /// In the indicator's stored unit (fen, 亩, points).
    pub value: f64,
    /// `>=` (reach at least) or `<=` (stay at most).
    pub comparison: String,
    pub note: String,
}

/// A stored target with the unit's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTarget {
    pub target: TargetDef,
    pub org_name: String,
    pub org_path: String,
}

/// A unit's data for one period: submitted by the unit, approved (and locked) above it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataApproval {
    pub org_code: String,
    pub org_name: String,
    pub period: String,
    pub status: SubmissionStatus,
    pub note: String,
    pub updated_at: String,
    pub updated_by: String,
}

#[async_trait]
pub trait IndicatorStore: Send + Sync {
    /// Creates or updates a data element (township or unrestricted actors). Audited; returns
    /// whether anything changed.
    async fn define_data_element(&self, actor: &Actor, element: &DataElement) -> StoreResult<bool>;

    async fn data_elements(&self) -> StoreResult<Vec<DataElement>>;

    async fn data_element(&self, code: &str) -> StoreResult<DataElement>;

    /// Writes one value; refused when the unit's period is submitted or approved.
    async fn save_data_value(&self, actor: &Actor, input: DataValueInput)
    -> StoreResult<DataValue>;

    /// All-or-nothing: with `dry_run` or any issue nothing is written.
    async fn import_data_values(
        &self,
        actor: &Actor,
        rows: &[DataValueImportRow],
        dry_run: bool,
    ) -> StoreResult<DataImportOutcome>;

    /// Values in scope, ordered by element, unit path and period.
    async fn data_values(
        &self,
        scope: &Scope,
        query: &DataValueQuery,
    ) -> StoreResult<Vec<DataValue>>;

    /// Creates or updates an indicator (township or unrestricted actors). Audited; returns
    /// whether anything changed.
    async fn define_indicator(&self, actor: &Actor, indicator: &IndicatorDef) -> StoreResult<bool>;

    /// Ordered by sort, then code.
    async fn indicators(&self) -> StoreResult<Vec<IndicatorDef>>;

    async fn indicator(&self, code: &str) -> StoreResult<IndicatorDef>;

    /// Sets a target for a unit in the actor's scope (township roles). Audited.
    async fn save_target(&self, actor: &Actor, target: &TargetDef) -> StoreResult<()>;

    /// Targets of units in scope, optionally of one indicator and period.
    async fn targets(
        &self,
        scope: &Scope,
        indicator: Option<&str>,
        period: Option<&str>,
    ) -> StoreResult<Vec<StoredTarget>>;

    /// The approval state of a unit's period (`Draft` when nothing happened yet).
    async fn data_approval(
        &self,
        scope: &Scope,
        org: &DivisionCode,
        period: &str,
    ) -> StoreResult<DataApproval>;

    /// Approval states of the units of `level` under `org` for a period.
    async fn data_approvals(
        &self,
        scope: &Scope,
        org: &DivisionCode,
        level: OrgLevel,
        period: &str,
    ) -> StoreResult<Vec<DataApproval>>;

    /// Submit (a writer of the unit), return / approve / unlock (township review roles). Audited.
    async fn data_approval_action(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        period: &str,
        action: SubmissionAction,
        note: &str,
    ) -> StoreResult<DataApproval>;

    /// One primitive over `org`'s subtree, or with `by` per unit of that level below it (units
    /// without records are absent). A viewer whose scope lies inside `org` gets the figure of
    /// their own part of it; an `org` outside the scope is `NotFound`.
    async fn measure(
        &self,
        scope: &Scope,
        org: &DivisionCode,
        measure: &Measure,
        by: Option<OrgLevel>,
    ) -> StoreResult<Vec<MeasureRow>>;

    /// The records behind a measure within scope, newest first, at most `limit`.
    async fn measure_records(
        &self,
        scope: &Scope,
        org: &DivisionCode,
        measure: &Measure,
        limit: u32,
    ) -> StoreResult<Vec<RecordRef>>;
}
