//! Ledgers (台账): definitions stored as versioned data, entries per filling unit and period,
//! the submission workflow, imports and the aggregate query the indicators build on.
//!
//! Same rules as [`crate::Store`]: reads take a [`Scope`] and answer `NotFound` outside it;
//! writes take an [`Actor`], check scope, refuse locked periods, and are audited in the same
//! transaction. Nothing is deleted: a removed entry is marked void.
//!
//! Definitions are global (every unit fills the same form); the *entries* are scoped by the
//! filling unit's `org_path`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use xiangzhi_domain::ledger::{
    FieldError, LedgerDefinition, SubmissionAction, SubmissionStatus, Values,
};
use xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
use xiangzhi_domain::period::PeriodType;

use crate::error::StoreResult;
use crate::model::{Actor, Scope};
use crate::registry::ImportIssue;

/// A ledger with its current version.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ledger {
    pub id: i64,
    pub code: String,
    pub version: i64,
    pub definition: LedgerDefinition,
    /// Numeric field → slot `1..=16`.
    pub slots: BTreeMap<String, u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerVersionInfo {
    pub version: i64,
    pub created_at: String,
    pub created_by: String,
    pub fields: usize,
}

/// What `define_ledger` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefineOutcome {
    Created,
    NewVersion,
    Unchanged,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub ledger_code: String,
    /// The version the entry was filled against; its values are valid against that one.
    pub version: i64,
    pub org_code: DivisionCode,
    pub org_name: String,
    pub org_path: OrgPath,
    /// DHIS2 code, empty for a ledger without periods.
    pub period: String,
    /// Roster key: `household:12`, `village:361002201211`, …
    pub subject: Option<String>,
    pub subject_label: Option<String>,
    pub values: Values,
    pub filled: bool,
    pub void: bool,
    pub updated_at: String,
    pub updated_by: String,
}

/// An entry to write: a new one, or `id` to change one.
#[derive(Debug, Clone)]
pub struct EntryInput {
    pub id: Option<i64>,
    pub org_code: DivisionCode,
    pub period: String,
    pub subject: Option<String>,
    pub subject_label: Option<String>,
    pub values: Values,
}

#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    /// Filling unit or any unit above it.
    pub org: Option<DivisionCode>,
    pub period: Option<String>,
    pub include_void: bool,
    pub after_id: Option<i64>,
    pub limit: u32,
}

/// One row of an import: `line` is the spreadsheet row for the error report.
#[derive(Debug, Clone)]
pub struct EntryImportRow {
    pub line: usize,
    pub entry: EntryInput,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EntryImportOutcome {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub invalid: u64,
    pub committed: bool,
    pub issues: Vec<ImportIssue>,
}

/// One unit × period cell of the completion grid.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubmissionCell {
    pub org_code: DivisionCode,
    pub org_name: String,
    pub org_path: String,
    pub period: String,
    pub status: SubmissionStatus,
    pub unlocked: bool,
    /// Filled, non-void entries.
    pub entries: i64,
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AggFn {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

impl AggFn {
    pub fn parse(s: &str) -> Option<AggFn> {
        Some(match s {
            "count" => AggFn::Count,
            "sum" => AggFn::Sum,
            "avg" => AggFn::Avg,
            "min" => AggFn::Min,
            "max" => AggFn::Max,
            _ => return None,
        })
    }
}

/// A numeric filter on a field: `pigs >= 10`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NumFilter {
    pub field: String,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`
    pub op: String,
    pub value: f64,
}

/// Aggregate entries of one ledger in scope.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LedgerQuery {
    pub org: Option<DivisionCode>,
    /// Periods whose code starts with this (`2023` takes 202301..202312 of a monthly ledger).
    pub period_prefix: Option<String>,
    /// Group by the unit at this level (`None`: one group for everything).
    pub group_level: Option<OrgLevel>,
    /// Group by period, rolled up to this type (`None`: all periods together).
    pub group_period: Option<PeriodType>,
    /// Numeric fields to aggregate (every numeric field when empty).
    pub fields: Vec<String>,
    pub filters: Vec<NumFilter>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldAgg {
    /// Entries with a value.
    pub count: i64,
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

impl FieldAgg {
    pub fn avg(&self) -> Option<f64> {
        match (self.sum, self.count) {
            (Some(s), n) if n > 0 => Some(s / n as f64),
            _ => None,
        }
    }
    pub fn get(&self, f: AggFn) -> Option<f64> {
        match f {
            AggFn::Count => Some(self.count as f64),
            AggFn::Sum => self.sum,
            AggFn::Avg => self.avg(),
            AggFn::Min => self.min,
            AggFn::Max => self.max,
        }
    }
    pub fn merge(&mut self, o: &FieldAgg) {
        self.count += o.count;
        self.sum = match (self.sum, o.sum) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.min = match (self.min, o.min) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max = match (self.max, o.max) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggRow {
    pub org_code: Option<DivisionCode>,
    pub org_name: Option<String>,
    pub period: Option<String>,
    /// Non-void entries in the group.
    pub entries: i64,
    pub fields: BTreeMap<String, FieldAgg>,
}

/// A stored attachment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LedgerFile {
    pub sha256: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub content: Vec<u8>,
}

#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Creates the ledger, or a new version when the definition changed; `Unchanged` writes
    /// nothing. Needs an unrestricted actor or a township role. Audited.
    async fn define_ledger(
        &self,
        actor: &Actor,
        def: &LedgerDefinition,
    ) -> StoreResult<(Ledger, DefineOutcome)>;

    async fn ledgers(&self) -> StoreResult<Vec<Ledger>>;

    async fn ledger(&self, code: &str) -> StoreResult<Ledger>;

    async fn ledger_version(&self, code: &str, version: i64) -> StoreResult<Ledger>;

    async fn ledger_versions(&self, code: &str) -> StoreResult<Vec<LedgerVersionInfo>>;

    /// Validates against the current version (every problem, Chinese), checks scope, level and
    /// lock, and writes. `Invalid` carries the problems joined; use
    /// [`LedgerStore::check_entry`] to get them one by one.
    async fn save_entry(
        &self,
        actor: &Actor,
        ledger: &str,
        entry: EntryInput,
    ) -> StoreResult<LedgerEntry>;

    /// `save_entry` for an edit form: refuses with `Conflict` when the entry changed since the
    /// editor read it (`seen_updated_at` is the `updated_at` the form was filled against), so
    /// two clerks editing one entry cannot silently overwrite each other.
    async fn save_entry_if_current(
        &self,
        actor: &Actor,
        ledger: &str,
        entry: EntryInput,
        seen_updated_at: &str,
    ) -> StoreResult<LedgerEntry>;

    /// The problems `save_entry` would report, without writing.
    async fn check_entry(
        &self,
        actor: &Actor,
        ledger: &str,
        entry: &EntryInput,
    ) -> StoreResult<Vec<FieldError>>;

    async fn void_entry(&self, actor: &Actor, id: i64, reason: &str) -> StoreResult<()>;

    async fn entry(&self, scope: &Scope, id: i64) -> StoreResult<LedgerEntry>;

    /// Ordered by id, keyset paged.
    async fn entries(
        &self,
        scope: &Scope,
        ledger: &str,
        query: &EntryQuery,
    ) -> StoreResult<Vec<LedgerEntry>>;

    /// Pre-creates empty rows for a roster ledger ("one row per X") under `org` for `period`,
    /// from the registry; existing rows are kept. Returns how many were created.
    async fn ensure_roster(
        &self,
        actor: &Actor,
        ledger: &str,
        org: &DivisionCode,
        period: &str,
    ) -> StoreResult<u64>;

    /// All-or-nothing: with `dry_run` or any issue nothing is written.
    async fn import_entries(
        &self,
        actor: &Actor,
        ledger: &str,
        rows: &[EntryImportRow],
        dry_run: bool,
    ) -> StoreResult<EntryImportOutcome>;

    /// Units of the ledger's filling level in scope × the given periods, with their entries
    /// counted.
    async fn submission_grid(
        &self,
        scope: &Scope,
        ledger: &str,
        periods: &[String],
    ) -> StoreResult<Vec<SubmissionCell>> {
        self.submission_cells(scope, ledger, periods, true).await
    }

    /// As [`LedgerStore::submission_grid`]; without `count_entries` every `entries` is 0 and
    /// the entries are not read (a county's summary of 2,000,000 rows needs the states only).
    async fn submission_cells(
        &self,
        scope: &Scope,
        ledger: &str,
        periods: &[String],
        count_entries: bool,
    ) -> StoreResult<Vec<SubmissionCell>>;

    /// Submit (a writer in scope), return / approve / unlock (township review roles). Audited.
    async fn submission_action(
        &self,
        actor: &Actor,
        ledger: &str,
        org: &DivisionCode,
        period: &str,
        action: SubmissionAction,
        note: &str,
    ) -> StoreResult<SubmissionCell>;

    async fn ledger_aggregate(
        &self,
        scope: &Scope,
        ledger: &str,
        query: &LedgerQuery,
    ) -> StoreResult<Vec<AggRow>>;

    /// Stores a file by content hash under the actor's unit; returns the hash.
    async fn put_ledger_file(
        &self,
        actor: &Actor,
        name: &str,
        mime: &str,
        content: &[u8],
    ) -> StoreResult<String>;

    /// Only within the scope of the unit that stored it.
    async fn ledger_file(&self, scope: &Scope, sha256: &str) -> StoreResult<LedgerFile>;
}
