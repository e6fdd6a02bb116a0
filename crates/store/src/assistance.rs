//! Assistance (民生保障): programs as data, enrollments through their steps, monitoring
//! details, monthly payrolls, one-off and in-kind payouts, and the cross-checks (核查).
//!
//! Same rules as [`crate::Store`]: reads take a [`Scope`] and answer `NotFound` outside it;
//! writes take an [`Actor`], check scope, and are audited in the same transaction. Nothing is
//! deleted: an enrollment ends as rejected or exited, a payroll line as paid or failed.
//!
//! An enrollment is scoped by the unit of its household (or person) when it was entered; the
//! payee's *current* unit is what the cross-checks compare against the payer's.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xiangzhi_domain::assistance::{EnrollUnit, Program};
use xiangzhi_domain::assistance_lifecycle::{
    ApplySource, Decision, EnrollmentState, EnrollmentStatus, Step, StepAction,
};
use xiangzhi_domain::assistance_monitoring::{MonitoringDetail, Visit};
use xiangzhi_domain::bank_account::BankAccount;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::{DivisionCode, OrgPath};

use crate::error::StoreResult;
use crate::model::{Actor, Scope};
use crate::registry::ImportOutcome;
use xiangzhi_domain::assistance_lifecycle::ExitReason;
use xiangzhi_domain::citizen_id::CitizenId;

/// An application to enter: a household for a household program, a person for a person one.
#[derive(Debug, Clone)]
pub struct NewEnrollment {
    pub program: String,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    /// One of the program's categories (`rural`, `full_care`, …), empty if it has none.
    pub category: String,
    pub source: ApplySource,
    pub applied_on: NaiveDate,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Enrollment {
    pub id: i64,
    pub program_code: String,
    pub program_name: String,
    pub unit: EnrollUnit,
    pub household_id: Option<i64>,
    pub household_no: Option<String>,
    pub person_id: Option<i64>,
    /// The person, or the household's head.
    pub subject_name: String,
    pub category: String,
    pub category_label: String,
    pub source: ApplySource,
    pub org_code: DivisionCode,
    pub org_name: String,
    pub org_path: OrgPath,
    pub applied_on: NaiveDate,
    pub state: EnrollmentState,
    /// Persons covered: registered members of the household, or 1.
    pub members: i64,
    pub note: String,
    /// The day the next step (or the review) is due.
    pub deadline: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: Step,
    pub decision: Option<Decision>,
    pub opinion: String,
    pub done_on: NaiveDate,
    pub actor: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Default)]
pub struct EnrollmentQuery {
    pub program: Option<String>,
    /// The unit or any unit above it.
    pub org: Option<DivisionCode>,
    pub status: Option<EnrollmentStatus>,
    /// Applied in this year.
    pub applied_year: Option<i32>,
    pub after_id: Option<i64>,
    pub limit: u32,
}

/// One line of a public notice (公示): names and figures only — never an ID, phone, bank
/// account or health detail (so not the category, which can name a disability or care level).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NoticeLine {
    pub enrollment_id: i64,
    pub program_name: String,
    pub village: String,
    pub name: String,
    pub members: i64,
    pub notice_start: NaiveDate,
    pub notice_end: NaiveDate,
}

/// What a user has to do.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Todo {
    /// Pending enrollments whose next step this user may take.
    pub awaiting: Vec<Enrollment>,
    /// Enrollments in scope past the deadline of their next step or review.
    pub overdue: Vec<Enrollment>,
    /// 回头看 visits due, for households this user is responsible for (all in scope for the
    /// township).
    pub visits_due: Vec<(Enrollment, Visit)>,
}

xiangzhi_domain::code_enum!(
    PayrollStatus {
        Draft = "draft" / "待审批",
        Approved = "approved" / "已审批",
        Exported = "exported" / "已导出银行文件",
        Reconciled = "reconciled" / "已对账",
    }
);

xiangzhi_domain::code_enum!(
    LineStatus {
        Pending = "pending" / "待发放",
        Paid = "paid" / "已发放",
        Failed = "failed" / "发放失败",
    }
);

xiangzhi_domain::code_enum!(
    PayoutKind {
        Cash = "cash" / "资金",
        InKind = "in_kind" / "实物",
    }
);

xiangzhi_domain::code_enum!(
    /// The cross-checks (核查).
    CheckKind {
        DeadOrMovedOnPayroll = "dead_or_moved_on_payroll" / "死亡或迁出人员仍在发放名单",
        IncompatiblePrograms = "incompatible_programs" / "同一人享受互斥项目",
        PaidTwice = "paid_twice" / "同一期重复发放",
        EnterpriseOwner = "enterprise_owner" / "家庭成员经营企业注册资本超标",
        PayeeOutsideArea = "payee_outside_area" / "领取人不在发放单位辖区",
        ReviewOverdue = "review_overdue" / "超过复核日期未复核",
    }
);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payroll {
    pub id: i64,
    pub program_code: String,
    pub program_name: String,
    pub org_code: DivisionCode,
    pub org_name: String,
    pub org_path: OrgPath,
    /// `202305`.
    pub period: String,
    pub status: PayrollStatus,
    pub lines: i64,
    pub total: Money,
    pub paid: i64,
    pub failed: i64,
    pub created_by: String,
    pub approved_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PayrollLine {
    pub id: i64,
    pub payroll_id: i64,
    pub enrollment_id: i64,
    pub person_id: Option<i64>,
    pub payee_name: String,
    pub household_id: Option<i64>,
    pub org_code: DivisionCode,
    pub org_name: String,
    pub persons: i64,
    pub amount: Money,
    pub status: LineStatus,
    pub note: String,
}

/// A line of the bank file: the one place a full citizen ID leaves the store for a payroll,
/// and only through [`AssistanceStore::payroll_bank_lines`], which is permissioned and audited.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BankLine {
    pub line_id: i64,
    pub name: String,
    pub citizen_id: String,
    /// The payee's bank and account number in full; empty when none is on record.
    pub bank_name: String,
    pub account: String,
    pub village: String,
    pub amount: Money,
}

/// A payee's bank account as screens show it: the number masked.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PayeeAccount {
    pub person_id: i64,
    pub bank_name: String,
    pub account_masked: String,
    pub updated_at: String,
    pub updated_by: String,
}

/// A stored run of every cross-check over one scope (`run_by` is `system:…` for the nightly
/// run). Runs are kept per scope path and shown only to users of exactly that scope, so no
/// one reads hits computed over a wider area.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckRun {
    pub id: i64,
    pub scope_path: OrgPath,
    pub run_at: String,
    pub run_by: String,
    pub options: CheckOptions,
    pub hits: Vec<CheckHit>,
}

/// A monitored household (防返贫) with its details, if registered yet: what 村村清 sums up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Monitored {
    pub enrollment: Enrollment,
    pub detail: Option<MonitoringDetail>,
}

/// Registered capital (万元) above which an enrolled household's enterprise is a hit, unless
/// the caller says otherwise.
pub const DEFAULT_CAPITAL_WAN: i64 = 50;

/// A line outcome from the bank.
#[derive(Debug, Clone)]
pub struct LineOutcome {
    pub line_id: i64,
    pub status: LineStatus,
    pub note: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reconciliation {
    pub lines: i64,
    pub paid: i64,
    pub paid_amount: Money,
    pub failed: i64,
    pub failed_amount: Money,
    pub pending: i64,
    /// True when nothing was pending and the payroll is now reconciled.
    pub reconciled: bool,
}

/// A one-off payment (临时救助) in cash or a distribution in kind (棉被, 大衣).
#[derive(Debug, Clone)]
pub struct NewPayout {
    pub kind: PayoutKind,
    pub program: String,
    pub enrollment_id: Option<i64>,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    pub paid_on: NaiveDate,
    pub amount: Option<Money>,
    pub item: Option<String>,
    pub quantity: Option<i64>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Payout {
    pub id: i64,
    pub kind: PayoutKind,
    pub program_code: String,
    pub enrollment_id: Option<i64>,
    pub household_id: Option<i64>,
    pub person_id: Option<i64>,
    pub recipient: String,
    pub org_code: DivisionCode,
    pub org_path: OrgPath,
    pub paid_on: NaiveDate,
    pub amount: Option<Money>,
    pub item: Option<String>,
    pub quantity: Option<i64>,
    pub note: String,
}

/// Totals of payouts in scope for a year, by program and kind / item.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PayoutTotal {
    pub program_code: String,
    pub kind: PayoutKind,
    pub item: Option<String>,
    pub payouts: i64,
    pub households: i64,
    pub persons: i64,
    pub amount: Money,
    pub quantity: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckOptions {
    /// The day the review-date check compares against.
    pub today: NaiveDate,
    /// Only payrolls of this period (all when `None`).
    pub period: Option<String>,
    /// An owned enterprise with registered capital above this is a hit.
    pub capital_threshold: Money,
}

/// A record behind a hit: `person:12`, `payroll_line:7`, …
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecordRef {
    pub kind: String,
    pub id: i64,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CheckHit {
    pub check: CheckKind,
    pub message: String,
    pub records: Vec<RecordRef>,
}

/// A row of a roster kept before xiangzhi (存量名单), for [`AssistanceStore::import_enrollments`].
#[derive(Debug, Clone)]
pub struct EnrollmentImportRow {
    /// The file's row number, for the report.
    pub line: usize,
    /// The program's code or name.
    pub program: String,
    /// The person; for a household program, any registered member (usually the head).
    pub citizen_id: CitizenId,
    /// 户号 as the file has it: checked against the person's household when given.
    pub household_no: Option<String>,
    /// The grid or village the file puts the person in: the registry must have the person
    /// there (in that village's grids, for a village).
    pub org_code: Option<DivisionCode>,
    /// A category's code or label; empty for a program without categories.
    pub category: String,
    /// The day the assistance started (纳入日期).
    pub start_on: NaiveDate,
    /// When and why it ended, for an enrollment that has.
    pub exit: Option<(NaiveDate, ExitReason)>,
}

/// A line of a monthly payment sheet kept before xiangzhi (历史发放记录), for
/// [`AssistanceStore::import_payouts`].
#[derive(Debug, Clone)]
pub struct PayoutImportRow {
    pub line: usize,
    pub program: String,
    /// `202305`.
    pub period: String,
    /// The payee.
    pub citizen_id: CitizenId,
    /// The grid or village the file puts the payee in: checked against the registry.
    pub org_code: Option<DivisionCode>,
    pub amount: Money,
}

#[async_trait]
pub trait AssistanceStore: Send + Sync {
    /// Enters a roster kept before xiangzhi: each row becomes an enrollment already active
    /// (or already exited) under `org`, with an “存量导入” step instead of the steps it went
    /// through on paper. The person must be in the registry under `org`; the unit and 户号
    /// in the file must agree with it; a subject already in the program is refused. With
    /// `dry_run`, or when any row has an issue, nothing is written; otherwise everything
    /// is, in one transaction with one audit entry. Township reviewers and the operator only.
    async fn import_enrollments(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        rows: &[EnrollmentImportRow],
        dry_run: bool,
    ) -> StoreResult<ImportOutcome>;

    /// Enters monthly payments made before xiangzhi as reconciled payrolls, one per
    /// program, township (or `org` when it lies below one) and month, every line paid.
    /// Each payee must have an enrollment in the program covering the month (import the
    /// roster first); a month that already has a payroll for that unit is refused, as is
    /// the same enrollment twice in a month. All or nothing, like
    /// [`AssistanceStore::import_enrollments`].
    async fn import_payouts(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        rows: &[PayoutImportRow],
        dry_run: bool,
    ) -> StoreResult<ImportOutcome>;

    /// Programs in their configured order.
    async fn programs(&self) -> StoreResult<Vec<Program>>;

    async fn program(&self, code: &str) -> StoreResult<Program>;

    /// Creates or changes a program. Admins only; validated; audited.
    async fn save_program(&self, actor: &Actor, program: &Program) -> StoreResult<()>;

    /// Enters an application (step `apply`). The subject must be in the actor's scope and
    /// registered, and not already in the program. Audited.
    async fn apply(&self, actor: &Actor, new: NewEnrollment) -> StoreResult<Enrollment>;

    /// Takes one step, checked by the domain's life cycle. Audited with the step record.
    async fn enrollment_step(
        &self,
        actor: &Actor,
        id: i64,
        action: &StepAction,
        on: NaiveDate,
    ) -> StoreResult<Enrollment>;

    async fn enrollment(&self, scope: &Scope, id: i64) -> StoreResult<Enrollment>;

    async fn enrollment_steps(&self, scope: &Scope, id: i64) -> StoreResult<Vec<StepRecord>>;

    /// Ordered by id, keyset paged.
    async fn enrollments(
        &self,
        scope: &Scope,
        query: &EnrollmentQuery,
    ) -> StoreResult<Vec<Enrollment>>;

    /// Enrollments in public notice on `on`, in scope: names only.
    async fn public_notice(
        &self,
        scope: &Scope,
        program: Option<&str>,
        on: NaiveDate,
    ) -> StoreResult<Vec<NoticeLine>>;

    async fn todo(&self, actor: &Actor, today: NaiveDate) -> StoreResult<Todo>;

    /// Sets the monitoring details of a `monitoring` enrollment. Validated; audited.
    async fn save_monitoring(
        &self,
        actor: &Actor,
        enrollment_id: i64,
        detail: &MonitoringDetail,
    ) -> StoreResult<()>;

    async fn monitoring(&self, scope: &Scope, enrollment_id: i64) -> StoreResult<MonitoringDetail>;

    /// 风险消除: refused (every reason, Chinese) unless income stayed above `line` for six
    /// months and the checklist is complete. The enrollment exits with `risk_cleared`.
    async fn clear_risk(
        &self,
        actor: &Actor,
        enrollment_id: i64,
        line: Money,
        on: NaiveDate,
    ) -> StoreResult<Enrollment>;

    /// Records that a person owns (or is the legal representative of) an enterprise. Audited.
    async fn add_enterprise_owner(
        &self,
        actor: &Actor,
        enterprise_id: i64,
        person_id: i64,
    ) -> StoreResult<()>;

    /// The monthly payroll of a monthly program for the unit `org` and month `period`
    /// (`202305`): one line per enrollment active that month under `org`, at the program's
    /// standard for its year, area and category. Refused if one exists. Audited once.
    async fn generate_payroll(
        &self,
        actor: &Actor,
        program: &str,
        org: &DivisionCode,
        period: &str,
    ) -> StoreResult<Payroll>;

    async fn payroll(&self, scope: &Scope, id: i64) -> StoreResult<Payroll>;

    async fn payrolls(&self, scope: &Scope, program: Option<&str>) -> StoreResult<Vec<Payroll>>;

    /// Lines in id order, keyset paged (`limit` 0: all).
    async fn payroll_lines(
        &self,
        scope: &Scope,
        id: i64,
        after_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<PayrollLine>>;

    /// Township review roles; not the one who generated it. Audited.
    async fn approve_payroll(&self, actor: &Actor, id: i64) -> StoreResult<Payroll>;

    /// The bank file's lines with full IDs, for an approved payroll; marks it exported.
    /// Needs the permission to reveal personal data; audited.
    async fn payroll_bank_lines(&self, actor: &Actor, id: i64) -> StoreResult<Vec<BankLine>>;

    /// Marks lines paid or failed, as the bank reported. Audited once.
    async fn mark_lines(
        &self,
        actor: &Actor,
        payroll_id: i64,
        outcomes: &[LineOutcome],
    ) -> StoreResult<Reconciliation>;

    /// Totals the lines; when none is pending the payroll becomes reconciled. Audited.
    async fn reconcile_payroll(&self, actor: &Actor, id: i64) -> StoreResult<Reconciliation>;

    /// A one-off cash payout or an in-kind distribution. Audited.
    async fn record_payout(&self, actor: &Actor, payout: NewPayout) -> StoreResult<Payout>;

    async fn payouts(
        &self,
        scope: &Scope,
        program: Option<&str>,
        year: Option<i32>,
    ) -> StoreResult<Vec<Payout>>;

    /// Totals of [`AssistanceStore::payouts`] by program, kind and item.
    async fn payout_totals(&self, scope: &Scope, year: i32) -> StoreResult<Vec<PayoutTotal>>;

    /// Runs every cross-check over the records in scope.
    async fn run_checks(&self, scope: &Scope, options: &CheckOptions)
    -> StoreResult<Vec<CheckHit>>;

    /// Runs every cross-check over the actor's scope and stores the run. Audited.
    async fn record_check_run(
        &self,
        actor: &Actor,
        options: &CheckOptions,
    ) -> StoreResult<CheckRun>;

    /// The latest stored run over exactly this scope.
    async fn latest_check_run(&self, scope: &Scope) -> StoreResult<Option<CheckRun>>;

    /// Sets the bank account a person is paid into (sealed at rest). The person must be in
    /// the actor's scope. Audited with the masked number only.
    async fn set_payee_account(
        &self,
        actor: &Actor,
        person_id: i64,
        bank_name: &str,
        account: &BankAccount,
    ) -> StoreResult<PayeeAccount>;

    /// The person's account, masked; `NotFound` for a person outside the scope.
    async fn payee_account(
        &self,
        scope: &Scope,
        person_id: i64,
    ) -> StoreResult<Option<PayeeAccount>>;

    /// Monitoring enrollments in scope (optionally under one unit), rejected ones left out,
    /// with their details.
    async fn monitored(
        &self,
        scope: &Scope,
        org: Option<&DivisionCode>,
    ) -> StoreResult<Vec<Monitored>>;
}
