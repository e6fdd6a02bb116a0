//! Cases handled by tier (事件), key persons (重点人员), projects (重点项目, 招商引资, 跑项争资)
//! and supervised tasks (督查督办).
//!
//! Same rules as [`crate::Store`]: reads take a [`Scope`] and answer `NotFound` outside it (a
//! grid worker sees the grid's cases, a village cadre the village's); writes take an [`Actor`]
//! and are audited in the same transaction. A case changes only through
//! [`xiangzhi_domain::case::apply`]: the store reads the stored [`CaseState`], applies the action
//! with the actor's tier and role, and writes the new state, a timeline event and an audit row
//! together, or nothing.

use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use xiangzhi_domain::calendar::WorkCalendar;
use xiangzhi_domain::case::{
    CaseAction, CaseKind, CaseState, CaseStatus, DueStatus, EventKind, RiskColor, Tier, TimeLimits,
    deadline_status,
};
use xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};

use crate::error::StoreResult;
use crate::model::{Actor, Scope};

/// The calendar and time limits cases are counted with; configurable per installation.
#[derive(Debug, Clone)]
pub struct CaseRules {
    pub calendar: WorkCalendar,
    pub limits: TimeLimits,
}

impl Default for CaseRules {
    fn default() -> CaseRules {
        CaseRules {
            calendar: WorkCalendar::china_2023_2024(),
            limits: TimeLimits::default(),
        }
    }
}

/// The tier an actor works at: the level of the unit its scope is rooted at. Provinces, cities
/// and the unrestricted operator count as county, the top of case handling.
pub fn tier_of_scope(path: &OrgPath) -> Tier {
    path.codes()
        .last()
        .and_then(|c| OrgLevel::from_code_len(c.len()))
        .and_then(Tier::from_org_level)
        .unwrap_or(Tier::County)
}

/// One node of the category tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseCategory {
    pub code: String,
    pub parent_code: Option<String>,
    pub kind: CaseKind,
    pub label: String,
    /// One of the 八大重点领域 of petitions.
    pub key_area: bool,
    pub sort: i64,
    /// `None` for the built-in tree; else the path of the township that added it.
    #[serde(default)]
    pub owner_path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRole {
    /// 当事人/申请人/信访人
    Applicant,
    /// 被申请人/对方当事人
    Respondent,
    Other,
}

impl PartyRole {
    pub const ALL: [PartyRole; 3] = [
        PartyRole::Applicant,
        PartyRole::Respondent,
        PartyRole::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PartyRole::Applicant => "applicant",
            PartyRole::Respondent => "respondent",
            PartyRole::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PartyRole::Applicant => "申请人",
            PartyRole::Respondent => "被申请人",
            PartyRole::Other => "其他",
        }
    }

    pub fn parse(s: &str) -> Option<PartyRole> {
        let s = s.trim();
        PartyRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s || r.label() == s)
    }
}

/// A party: a registry person when `person_id` is given (the name is taken from the registry),
/// otherwise a name only.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartyInput {
    pub person_id: Option<i64>,
    pub name: String,
    pub role: PartyRole,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewCase {
    /// A leaf (or root) of the category tree; the kind follows from it.
    pub category: String,
    pub title: String,
    pub description: String,
    /// Where it happened: a grid, village or township in the actor's scope.
    pub org_code: DivisionCode,
    pub location: String,
    pub urgent: bool,
    pub risk: Option<RiskColor>,
    /// How it came in: `window` (窗口), `grid` (网格巡查), `hotline` (12345), `open311`, …
    pub source: String,
    pub parties: Vec<PartyInput>,
    /// The registration date (today, except when entering older records).
    pub registered_on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    pub id: i64,
    pub kind: CaseKind,
    pub category_code: String,
    pub category_label: String,
    pub title: String,
    pub description: String,
    pub org_code: DivisionCode,
    pub org_name: String,
    pub org_path: OrgPath,
    pub location: String,
    pub source: String,
    pub state: CaseState,
    /// Optimistic lock: [`CaseStore::act_on_case`] refuses a stale one.
    pub version: i64,
    pub created_by: String,
    pub updated_at: String,
}

impl Case {
    pub fn due_status(&self, today: NaiveDate) -> DueStatus {
        deadline_status(&self.state, today)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseParty {
    pub person_id: Option<i64>,
    pub name: String,
    pub role: PartyRole,
}

/// One step of a case's timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseEvent {
    pub id: i64,
    pub kind: EventKind,
    pub description: String,
    pub status_after: CaseStatus,
    pub tier_after: Tier,
    pub on_date: NaiveDate,
    pub at: String,
    pub actor_name: String,
    pub actor_tier: Tier,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseDetail {
    pub case: Case,
    pub parties: Vec<CaseParty>,
    pub events: Vec<CaseEvent>,
}

#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub kind: Option<CaseKind>,
    pub status: Option<CaseStatus>,
    /// The tier handling it now.
    pub tier: Option<Tier>,
    /// Under this unit (within the scope).
    pub org: Option<DivisionCode>,
    /// Category or any category below it.
    pub category: Option<String>,
    pub assignee: Option<String>,
    /// Only open cases (not rejected, closed or archived).
    pub open_only: bool,
    /// Only cases whose running deadline is before this day.
    pub overdue_on: Option<NaiveDate>,
    /// Only cases whose running deadline is on or before this day.
    pub due_by: Option<NaiveDate>,
    pub registered_from: Option<NaiveDate>,
    pub registered_to: Option<NaiveDate>,
    /// Newest first; keyset paging below this id.
    pub before_id: Option<i64>,
    /// 0 means 200.
    pub limit: u32,
}

/// Closed cases by the tier they were resolved at (化解层级).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolutionSummary {
    /// Closed or archived cases in scope and period.
    pub closed: i64,
    pub grid: i64,
    pub village: i64,
    pub township: i64,
    pub county: i64,
    /// Share resolved at grid or village tier (小事不出村); `None` when nothing was closed.
    pub within_village: Option<f64>,
    /// Share resolved at township tier or below (大事不出乡).
    pub within_township: Option<f64>,
    /// Closed by the (possibly extended) deadline.
    pub on_time: i64,
}

impl ResolutionSummary {
    /// Fills the shares from the counts.
    pub fn finish(mut self) -> ResolutionSummary {
        if self.closed > 0 {
            let n = self.closed as f64;
            self.within_village = Some((self.grid + self.village) as f64 / n);
            self.within_township = Some((self.grid + self.village + self.township) as f64 / n);
        }
        self
    }
}

// ---- key persons ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPersonCategory {
    pub code: String,
    pub label: String,
    /// Base interval between visits.
    pub visit_days: u32,
}

/// Days between visits: the shortest base interval among the person's categories, shortened
/// for a high risk level (3: at most 14 days, 4-5: at most 7), so 专人 see the riskiest most.
pub fn visit_interval(base_days: &[u32], risk: u8) -> u32 {
    let base = base_days.iter().copied().min().unwrap_or(30).max(1);
    match risk {
        4.. => base.min(7),
        3 => base.min(14),
        _ => base,
    }
}

/// The next visit due after a visit (or registration) on `from`.
pub fn next_visit(from: NaiveDate, interval: u32) -> NaiveDate {
    from + Duration::days(i64::from(interval))
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewKeyPerson {
    pub person_id: i64,
    pub categories: Vec<String>,
    /// 0-5.
    pub risk: u8,
    /// The responsible cadre (专人): a username or a name.
    pub cadre: String,
    pub note: String,
    /// From when visits are counted; the first one is due one interval later.
    pub since: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyPerson {
    pub id: i64,
    pub person_id: i64,
    pub name: String,
    pub org_code: DivisionCode,
    pub org_name: String,
    pub org_path: OrgPath,
    pub categories: Vec<String>,
    pub category_labels: Vec<String>,
    pub risk: u8,
    pub cadre: String,
    pub visit_days: u32,
    pub last_visit_on: Option<NaiveDate>,
    pub next_visit_on: NaiveDate,
    pub note: String,
    pub active: bool,
}

impl KeyPerson {
    /// Days the visit is overdue on `today` (0 when not).
    pub fn overdue_days(&self, today: NaiveDate) -> i64 {
        (today - self.next_visit_on).num_days().max(0)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Visit {
    pub id: i64,
    pub visited_on: NaiveDate,
    pub visitor: String,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct KeyPersonQuery {
    pub category: Option<String>,
    pub cadre: Option<String>,
    /// Only those whose next visit is on or before this day.
    pub due_by: Option<NaiveDate>,
}

// ---- projects ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectKind {
    /// 重点项目
    Key,
    /// 招商引资
    InvestmentLead,
    /// 衔接资金项目
    LinkedFunds,
    /// 跑项争资
    FundsWon,
}

impl ProjectKind {
    pub const ALL: [ProjectKind; 4] = [
        ProjectKind::Key,
        ProjectKind::InvestmentLead,
        ProjectKind::LinkedFunds,
        ProjectKind::FundsWon,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectKind::Key => "key",
            ProjectKind::InvestmentLead => "investment_lead",
            ProjectKind::LinkedFunds => "linked_funds",
            ProjectKind::FundsWon => "funds_won",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ProjectKind::Key => "重点项目",
            ProjectKind::InvestmentLead => "招商引资",
            ProjectKind::LinkedFunds => "衔接资金项目",
            ProjectKind::FundsWon => "跑项争资",
        }
    }
    pub fn parse(s: &str) -> Option<ProjectKind> {
        let s = s.trim();
        ProjectKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.label() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStage {
    Talks,
    Signed,
    Started,
    Building,
    Completed,
    Operating,
}

impl ProjectStage {
    pub const ALL: [ProjectStage; 6] = [
        ProjectStage::Talks,
        ProjectStage::Signed,
        ProjectStage::Started,
        ProjectStage::Building,
        ProjectStage::Completed,
        ProjectStage::Operating,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectStage::Talks => "talks",
            ProjectStage::Signed => "signed",
            ProjectStage::Started => "started",
            ProjectStage::Building => "building",
            ProjectStage::Completed => "completed",
            ProjectStage::Operating => "operating",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ProjectStage::Talks => "洽谈",
            ProjectStage::Signed => "签约",
            ProjectStage::Started => "开工",
            ProjectStage::Building => "在建",
            ProjectStage::Completed => "竣工",
            ProjectStage::Operating => "投产",
        }
    }
    pub fn parse(s: &str) -> Option<ProjectStage> {
        let s = s.trim();
        ProjectStage::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.label() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectMember {
    pub name: String,
    /// 组长, 副组长, 成员, …
    pub duty: String,
}

/// A project to create, or `id` to change one (enterprises and members are replaced).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectInput {
    pub id: Option<i64>,
    pub name: String,
    pub kind: ProjectKind,
    pub stage: ProjectStage,
    pub org_code: DivisionCode,
    pub planned_yuan: i64,
    pub completed_yuan: i64,
    pub funds_won_yuan: i64,
    pub year: i32,
    pub note: String,
    pub enterprise_ids: Vec<i64>,
    pub members: Vec<ProjectMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedEnterprise {
    pub id: i64,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Project {
    pub id: i64,
    pub name: String,
    pub kind: ProjectKind,
    pub stage: ProjectStage,
    pub org_code: DivisionCode,
    pub org_name: String,
    pub org_path: OrgPath,
    pub planned_yuan: i64,
    pub completed_yuan: i64,
    pub funds_won_yuan: i64,
    pub year: i32,
    pub note: String,
    pub enterprises: Vec<LinkedEnterprise>,
    pub members: Vec<ProjectMember>,
    pub updated_at: String,
    pub updated_by: String,
}

// ---- supervised tasks ----

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Open,
    Done,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Done => "done",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            TaskStatus::Open => "办理中",
            TaskStatus::Done => "已完成",
        }
    }
    pub fn parse(s: &str) -> Option<TaskStatus> {
        match s.trim() {
            "open" | "办理中" => Some(TaskStatus::Open),
            "done" | "已完成" => Some(TaskStatus::Done),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTask {
    pub title: String,
    pub description: String,
    /// The unit that owns it (a village or the township).
    pub org_code: DivisionCode,
    /// The responsible cadre: a username or a name.
    pub owner: String,
    pub assigned_on: NaiveDate,
    pub deadline: NaiveDate,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub org_code: DivisionCode,
    pub org_name: String,
    pub org_path: OrgPath,
    pub owner: String,
    pub assigned_on: NaiveDate,
    pub deadline: NaiveDate,
    pub status: TaskStatus,
    /// Percent, 0-100.
    pub progress: u8,
    pub completed_on: Option<NaiveDate>,
    pub created_by: String,
}

impl Task {
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        match self.completed_on {
            Some(done) => done > self.deadline,
            None => today > self.deadline,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskUpdate {
    pub id: i64,
    pub on_date: NaiveDate,
    pub progress: u8,
    pub note: String,
    pub by_name: String,
    pub at: String,
}

#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    pub owner: Option<String>,
    pub org: Option<DivisionCode>,
    pub open_only: bool,
    /// Only open tasks past their deadline on this day.
    pub overdue_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompletionBy {
    /// Per village (tasks of the township itself count under the township).
    Village,
    /// Per responsible cadre.
    Cadre,
}

/// Completion of supervised tasks per village or cadre, for 考核.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionRow {
    /// Unit code or cadre.
    pub key: String,
    pub label: String,
    pub total: i64,
    pub done: i64,
    pub done_on_time: i64,
    /// Open and past the deadline on the day asked.
    pub overdue_open: i64,
}

impl CompletionRow {
    /// Done on time over all tasks; `None` without tasks.
    pub fn on_time_rate(&self) -> Option<f64> {
        (self.total > 0).then(|| self.done_on_time as f64 / self.total as f64)
    }
}

/// A case from a ledger kept before xiangzhi (矛盾纠纷台账), for [`CaseStore::import_cases`].
#[derive(Debug, Clone)]
pub struct CaseImportRow {
    pub line: usize,
    /// A category's code or label.
    pub category: String,
    pub title: String,
    /// Where it happened: a grid, village or township under the import's unit.
    pub org_code: DivisionCode,
    pub registered_on: NaiveDate,
    /// The tier that handled it (化解层级): where it was closed, or where it is still open.
    pub tier: Tier,
    /// 办结日期; `None` for a case still being handled.
    pub closed_on: Option<NaiveDate>,
    /// The follow-up's answer (回访), which kinds that need one must have to be closed.
    pub satisfied: Option<bool>,
}

#[async_trait]
pub trait CaseStore: Send + Sync {
    // ---- cases ----

    /// The category tree, parents before children.
    async fn case_categories(&self) -> StoreResult<Vec<CaseCategory>>;

    /// 登记: at the actor's tier (the operator registers at the tier of the case's unit).
    /// Parties that are registry persons must be in the actor's scope. Audited.
    async fn register_case(
        &self,
        actor: &Actor,
        rules: &CaseRules,
        case: NewCase,
    ) -> StoreResult<Case>;

    async fn case(&self, scope: &Scope, id: i64) -> StoreResult<CaseDetail>;

    /// Enters cases from a ledger kept before xiangzhi under `org`. Each row goes through
    /// the state machine as the case went on paper: registered and accepted where it
    /// happened, escalated up to the tier that handled it, assigned and taken up there, and
    /// with a closing date answered, followed up where its kind needs it, and closed; so
    /// figures read an imported case like any other. The operator is the actor of every
    /// step. With `dry_run`, or when any row has an issue, nothing is written; otherwise
    /// everything is, in one transaction with one audit entry.
    async fn import_cases(
        &self,
        actor: &Actor,
        rules: &CaseRules,
        org: &DivisionCode,
        rows: &[CaseImportRow],
        dry_run: bool,
    ) -> StoreResult<crate::registry::ImportOutcome>;

    async fn cases(&self, scope: &Scope, query: &CaseQuery) -> StoreResult<Vec<Case>>;

    /// Applies one action through the domain's state machine on `today`; an illegal one is
    /// refused with the domain's Chinese message (`Invalid`) and changes nothing. With
    /// `expected_version`, a case changed meanwhile answers `Conflict`. Timeline and audit in
    /// the same transaction.
    async fn act_on_case(
        &self,
        actor: &Actor,
        rules: &CaseRules,
        id: i64,
        action: &CaseAction,
        today: NaiveDate,
        expected_version: Option<i64>,
    ) -> StoreResult<Case>;

    /// Closed cases registered in `[from, to]` by resolution tier.
    async fn resolution_summary(
        &self,
        scope: &Scope,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<ResolutionSummary>;

    // ---- key persons ----

    async fn key_person_categories(&self) -> StoreResult<Vec<KeyPersonCategory>>;

    /// Puts a registry person in scope on the list; one entry per person. Audited.
    async fn add_key_person(&self, actor: &Actor, kp: NewKeyPerson) -> StoreResult<KeyPerson>;

    async fn key_person(&self, scope: &Scope, id: i64) -> StoreResult<(KeyPerson, Vec<Visit>)>;

    /// Most overdue first.
    async fn key_persons(
        &self,
        scope: &Scope,
        query: &KeyPersonQuery,
    ) -> StoreResult<Vec<KeyPerson>>;

    /// A visit by the actor; the next one falls due one interval later. Audited.
    async fn record_visit(
        &self,
        actor: &Actor,
        key_person_id: i64,
        visited_on: NaiveDate,
        note: &str,
    ) -> StoreResult<KeyPerson>;

    // ---- projects ----

    /// Creates or updates; enterprises must be in scope. Township roles only. Audited.
    async fn save_project(&self, actor: &Actor, project: ProjectInput) -> StoreResult<Project>;

    async fn project(&self, scope: &Scope, id: i64) -> StoreResult<Project>;

    async fn projects(&self, scope: &Scope, year: Option<i32>) -> StoreResult<Vec<Project>>;

    // ---- supervised tasks ----

    /// Township roles only. Audited.
    async fn add_task(&self, actor: &Actor, task: NewTask) -> StoreResult<Task>;

    async fn task(&self, scope: &Scope, id: i64) -> StoreResult<(Task, Vec<TaskUpdate>)>;

    /// By deadline.
    async fn tasks(&self, scope: &Scope, query: &TaskQuery) -> StoreResult<Vec<Task>>;

    /// A progress report; 100 completes the task on `on_date`. Audited.
    async fn report_task_progress(
        &self,
        actor: &Actor,
        id: i64,
        on_date: NaiveDate,
        progress: u8,
        note: &str,
    ) -> StoreResult<Task>;

    async fn task_completion(
        &self,
        scope: &Scope,
        by: CompletionBy,
        today: NaiveDate,
    ) -> StoreResult<Vec<CompletionRow>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risk_shortens_the_visit_interval() {
        assert_eq!(visit_interval(&[30], 0), 30);
        assert_eq!(visit_interval(&[30, 15], 1), 15);
        assert_eq!(visit_interval(&[30], 3), 14);
        assert_eq!(visit_interval(&[30], 5), 7);
        assert_eq!(visit_interval(&[10], 3), 10);
        assert_eq!(visit_interval(&[], 0), 30);
    }

    #[test]
    fn tier_follows_the_scope_root() {
        let p = |s: &str| OrgPath::from_stored(s.to_string());
        assert_eq!(tier_of_scope(&p("/")), Tier::County);
        assert_eq!(tier_of_scope(&p("/36/3610/")), Tier::County);
        assert_eq!(
            tier_of_scope(&p("/36/3610/361002/361002201/")),
            Tier::Township
        );
        assert_eq!(
            tier_of_scope(&p(
                "/36/3610/361002/361002201/361002201211/361002201211001/"
            )),
            Tier::Grid
        );
    }

    #[test]
    fn shares_need_closed_cases() {
        assert_eq!(ResolutionSummary::default().finish().within_village, None);
        let s = ResolutionSummary {
            closed: 4,
            grid: 1,
            village: 1,
            township: 1,
            county: 1,
            ..Default::default()
        }
        .finish();
        assert_eq!(s.within_village, Some(0.5));
        assert_eq!(s.within_township, Some(0.75));
    }
}
