//! Cases (事件/案件) handled by tier: the life cycle as a pure state machine.
//!
//! A case is registered (登记) at some tier, accepted (受理) or rejected (不予受理), assigned
//! (分派) to a handler, handled (办理), answered (反馈), followed up (回访), closed (办结) and
//! archived (归档). Along the way it can be returned (退回), extended (延期), escalated
//! (上报), delegated down (下派), supervised (督办) and reminded (催办).
//!
//! [`apply`] is the only way to change a [`CaseState`]: it refuses every illegal step with a
//! Chinese [`CaseError`] and otherwise returns the new state plus what to record. The tier at
//! which a case is closed is its resolution level (化解层级), the measure behind
//! "小事不出村、大事不出乡、矛盾不上交".
//!
//! The checks run in a fixed order, so the first error is the most basic one: status, then
//! role, then tier, then the action's own fields and time limits.

use crate::calendar::WorkCalendar;
use crate::org::OrgLevel;
use crate::role::Role;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Kinds of case. Codes are stored; labels are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// 矛盾纠纷
    Dispute,
    /// 信访
    Petition,
    /// 投诉、求助、建议、咨询
    Complaint,
    /// 环境事件
    Incident,
    /// 安全隐患
    Hazard,
}

impl CaseKind {
    pub const ALL: [CaseKind; 5] = [
        CaseKind::Dispute,
        CaseKind::Petition,
        CaseKind::Complaint,
        CaseKind::Incident,
        CaseKind::Hazard,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Dispute => "dispute",
            CaseKind::Petition => "petition",
            CaseKind::Complaint => "complaint",
            CaseKind::Incident => "incident",
            CaseKind::Hazard => "hazard",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseKind::Dispute => "矛盾纠纷",
            CaseKind::Petition => "信访",
            CaseKind::Complaint => "投诉/求助/建议/咨询",
            CaseKind::Incident => "环境事件",
            CaseKind::Hazard => "安全隐患",
        }
    }

    /// Accepts the code (`petition`) or the label (`信访`).
    pub fn parse(s: &str) -> Option<CaseKind> {
        let s = s.trim();
        CaseKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.label() == s)
    }

    /// Petitions and complaints are closed only after the person has been asked (回访)
    /// whether the answer satisfied them.
    pub fn requires_follow_up(self) -> bool {
        matches!(self, CaseKind::Petition | CaseKind::Complaint)
    }
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The main line of the life cycle. Extension, supervision and escalation are separate
/// flags on [`CaseState`], since they happen alongside the main line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Registered,
    Accepted,
    Rejected,
    Assigned,
    Handling,
    Replied,
    FollowedUp,
    Closed,
    Archived,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 9] = [
        CaseStatus::Registered,
        CaseStatus::Accepted,
        CaseStatus::Rejected,
        CaseStatus::Assigned,
        CaseStatus::Handling,
        CaseStatus::Replied,
        CaseStatus::FollowedUp,
        CaseStatus::Closed,
        CaseStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Registered => "registered",
            CaseStatus::Accepted => "accepted",
            CaseStatus::Rejected => "rejected",
            CaseStatus::Assigned => "assigned",
            CaseStatus::Handling => "handling",
            CaseStatus::Replied => "replied",
            CaseStatus::FollowedUp => "followed_up",
            CaseStatus::Closed => "closed",
            CaseStatus::Archived => "archived",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CaseStatus::Registered => "登记",
            CaseStatus::Accepted => "受理",
            CaseStatus::Rejected => "不予受理",
            CaseStatus::Assigned => "分派",
            CaseStatus::Handling => "办理",
            CaseStatus::Replied => "反馈",
            CaseStatus::FollowedUp => "回访",
            CaseStatus::Closed => "办结",
            CaseStatus::Archived => "归档",
        }
    }

    pub fn parse(s: &str) -> Option<CaseStatus> {
        let s = s.trim();
        CaseStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s || x.label() == s)
    }

    /// Still being worked on: not rejected, closed or archived.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            CaseStatus::Rejected | CaseStatus::Closed | CaseStatus::Archived
        )
    }

    /// Accepted and not yet finished: the closing deadline runs.
    pub fn is_in_progress(self) -> bool {
        self.is_open() && self != CaseStatus::Registered
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The level a case is handled (and finally resolved) at, lowest first, so `Grid < County`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Grid,
    Village,
    Township,
    County,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Grid, Tier::Village, Tier::Township, Tier::County];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Grid => "grid",
            Tier::Village => "village",
            Tier::Township => "township",
            Tier::County => "county",
        }
    }

    /// `网格`, `村`, `乡镇`, `县`; messages add `级`.
    pub fn label(self) -> &'static str {
        match self {
            Tier::Grid => "网格",
            Tier::Village => "村",
            Tier::Township => "乡镇",
            Tier::County => "县",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        let s = s.trim();
        Tier::ALL
            .into_iter()
            .find(|t| t.as_str() == s || t.label() == s)
    }

    /// One tier up; `None` above the county, which is as high as a case goes here.
    pub fn up(self) -> Option<Tier> {
        match self {
            Tier::Grid => Some(Tier::Village),
            Tier::Village => Some(Tier::Township),
            Tier::Township => Some(Tier::County),
            Tier::County => None,
        }
    }

    pub fn down(self) -> Option<Tier> {
        match self {
            Tier::Grid => None,
            Tier::Village => Some(Tier::Grid),
            Tier::Township => Some(Tier::Village),
            Tier::County => Some(Tier::Township),
        }
    }

    /// The tier of an org unit; provinces and cities do not handle cases.
    pub fn from_org_level(level: OrgLevel) -> Option<Tier> {
        match level {
            OrgLevel::Grid => Some(Tier::Grid),
            OrgLevel::Village => Some(Tier::Village),
            OrgLevel::Township => Some(Tier::Township),
            OrgLevel::County => Some(Tier::County),
            OrgLevel::Province | OrgLevel::City => None,
        }
    }

    pub fn org_level(self) -> OrgLevel {
        match self {
            Tier::Grid => OrgLevel::Grid,
            Tier::Village => OrgLevel::Village,
            Tier::Township => OrgLevel::Township,
            Tier::County => OrgLevel::County,
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Risk level of a case (三色预警): red is the most serious.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskColor {
    Red,
    Yellow,
    Blue,
}

impl RiskColor {
    pub const ALL: [RiskColor; 3] = [RiskColor::Red, RiskColor::Yellow, RiskColor::Blue];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskColor::Red => "red",
            RiskColor::Yellow => "yellow",
            RiskColor::Blue => "blue",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RiskColor::Red => "红",
            RiskColor::Yellow => "黄",
            RiskColor::Blue => "蓝",
        }
    }

    /// Accepts the code, `红`, or `红色`.
    pub fn parse(s: &str) -> Option<RiskColor> {
        let s = s.trim();
        let s = s.strip_suffix('色').unwrap_or(s);
        RiskColor::ALL
            .into_iter()
            .find(|c| c.as_str() == s || c.label() == s)
    }
}

/// The last extension application of a case. How many were granted is
/// [`CaseState::extensions_used`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ExtensionState {
    #[default]
    None,
    Pending {
        days: u32,
        reason: String,
    },
    Approved {
        days: u32,
    },
    Denied,
}

impl ExtensionState {
    pub fn is_pending(&self) -> bool {
        matches!(self, ExtensionState::Pending { .. })
    }
}

/// How the days of a time limit are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Calendar days (日), from the day after the start; a limit ending on a rest day ends
    /// on the next working day (民法典 第二百零一条、第二百零三条).
    Calendar,
    /// Working days (工作日), from the day after the start.
    Working,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    pub days: u32,
    pub count: DayCount,
}

impl TimeLimit {
    pub const fn calendar(days: u32) -> TimeLimit {
        TimeLimit {
            days,
            count: DayCount::Calendar,
        }
    }

    pub const fn working(days: u32) -> TimeLimit {
        TimeLimit {
            days,
            count: DayCount::Working,
        }
    }

    /// The last day of the limit started on `start`.
    pub fn due(self, start: NaiveDate, calendar: &WorkCalendar) -> NaiveDate {
        extend(start, self.days, self.count, calendar)
    }
}

fn extend(start: NaiveDate, days: u32, count: DayCount, calendar: &WorkCalendar) -> NaiveDate {
    match count {
        DayCount::Calendar => calendar.calendar_deadline(start, days),
        DayCount::Working => calendar.add_working_days(start, days),
    }
}

/// Time limits of one kind of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindLimits {
    /// From registration to the decision whether to accept.
    pub acceptance: TimeLimit,
    /// From acceptance to closing.
    pub closing: TimeLimit,
    /// How many extensions may be granted.
    pub max_extensions: u32,
    /// The longest single extension, counted like `closing`.
    pub max_extension_days: u32,
}

/// Time limits per kind, configurable (e.g. loaded from the township's settings).
///
/// The defaults for petitions follow the 信访工作条例 (中共中央、国务院印发, in force since
/// 2022-05-01): acceptance is decided and the petitioner told "自收到信访事项之日起15日内";
/// a petition is closed "自受理之日起60日内"; a complex one may be extended once, with the
/// approval of the organ's leadership, "延长期限不得超过30日". The regulation says 日, not
/// 工作日, so these are **calendar days**: where Chinese law means working days it says so
/// (行政许可法 第八十二条, 行政处罚法 第八十五条; local 信访 rules write "五个工作日" when
/// they mean it). Counting follows the general rule: start the day after, and a limit that
/// ends on a rest day ends on the next working day.
///
/// The other kinds have no national limit; their defaults are local practice (working days)
/// and are meant to be configured: disputes 2 days to accept and 7 to resolve, complaints
/// 1 and 10, environmental incidents 1 and 5, safety hazards 1 and 10. An urgent case is due
/// the same day whatever its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimits {
    pub dispute: KindLimits,
    pub petition: KindLimits,
    pub complaint: KindLimits,
    pub incident: KindLimits,
    pub hazard: KindLimits,
}

impl Default for TimeLimits {
    fn default() -> TimeLimits {
        TimeLimits {
            dispute: KindLimits {
                acceptance: TimeLimit::working(2),
                closing: TimeLimit::working(7),
                max_extensions: 1,
                max_extension_days: 15,
            },
            petition: KindLimits {
                acceptance: TimeLimit::calendar(15),
                closing: TimeLimit::calendar(60),
                max_extensions: 1,
                max_extension_days: 30,
            },
            complaint: KindLimits {
                acceptance: TimeLimit::working(1),
                closing: TimeLimit::working(10),
                max_extensions: 1,
                max_extension_days: 10,
            },
            incident: KindLimits {
                acceptance: TimeLimit::working(1),
                closing: TimeLimit::working(5),
                max_extensions: 1,
                max_extension_days: 5,
            },
            hazard: KindLimits {
                acceptance: TimeLimit::working(1),
                closing: TimeLimit::working(10),
                max_extensions: 2,
                max_extension_days: 10,
            },
        }
    }
}

impl TimeLimits {
    pub fn for_kind(&self, kind: CaseKind) -> &KindLimits {
        match kind {
            CaseKind::Dispute => &self.dispute,
            CaseKind::Petition => &self.petition,
            CaseKind::Complaint => &self.complaint,
            CaseKind::Incident => &self.incident,
            CaseKind::Hazard => &self.hazard,
        }
    }

    pub fn for_kind_mut(&mut self, kind: CaseKind) -> &mut KindLimits {
        match kind {
            CaseKind::Dispute => &mut self.dispute,
            CaseKind::Petition => &mut self.petition,
            CaseKind::Complaint => &mut self.complaint,
            CaseKind::Incident => &mut self.incident,
            CaseKind::Hazard => &mut self.hazard,
        }
    }
}

/// What happened to a case: registration plus one kind per [`CaseAction`]. Stored as the
/// code of the case's event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Register,
    Accept,
    Reject,
    Assign,
    StartHandling,
    Reply,
    FollowUp,
    Close,
    Archive,
    Return,
    ApplyExtension,
    ApproveExtension,
    DenyExtension,
    Escalate,
    DelegateDown,
    Supervise,
    Remind,
}

impl EventKind {
    pub const ALL: [EventKind; 17] = [
        EventKind::Register,
        EventKind::Accept,
        EventKind::Reject,
        EventKind::Assign,
        EventKind::StartHandling,
        EventKind::Reply,
        EventKind::FollowUp,
        EventKind::Close,
        EventKind::Archive,
        EventKind::Return,
        EventKind::ApplyExtension,
        EventKind::ApproveExtension,
        EventKind::DenyExtension,
        EventKind::Escalate,
        EventKind::DelegateDown,
        EventKind::Supervise,
        EventKind::Remind,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Register => "register",
            EventKind::Accept => "accept",
            EventKind::Reject => "reject",
            EventKind::Assign => "assign",
            EventKind::StartHandling => "start_handling",
            EventKind::Reply => "reply",
            EventKind::FollowUp => "follow_up",
            EventKind::Close => "close",
            EventKind::Archive => "archive",
            EventKind::Return => "return",
            EventKind::ApplyExtension => "apply_extension",
            EventKind::ApproveExtension => "approve_extension",
            EventKind::DenyExtension => "deny_extension",
            EventKind::Escalate => "escalate",
            EventKind::DelegateDown => "delegate_down",
            EventKind::Supervise => "supervise",
            EventKind::Remind => "remind",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            EventKind::Register => "登记",
            EventKind::Accept => "受理",
            EventKind::Reject => "不予受理",
            EventKind::Assign => "分派",
            EventKind::StartHandling => "开始办理",
            EventKind::Reply => "反馈",
            EventKind::FollowUp => "回访",
            EventKind::Close => "办结",
            EventKind::Archive => "归档",
            EventKind::Return => "退回",
            EventKind::ApplyExtension => "申请延期",
            EventKind::ApproveExtension => "批准延期",
            EventKind::DenyExtension => "驳回延期",
            EventKind::Escalate => "上报",
            EventKind::DelegateDown => "下派",
            EventKind::Supervise => "督办",
            EventKind::Remind => "催办",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        let s = s.trim();
        EventKind::ALL
            .into_iter()
            .find(|e| e.as_str() == s || e.label() == s)
    }

    /// Whether the action may be taken on a case in `status`, before any other check: the
    /// machine's transition table. A UI can use it to show only the possible buttons.
    pub fn allowed_from(self, status: CaseStatus) -> bool {
        use CaseStatus as S;
        match self {
            EventKind::Register => false,
            EventKind::Accept | EventKind::Reject => status == S::Registered,
            EventKind::Assign => matches!(status, S::Accepted | S::Assigned),
            EventKind::StartHandling => status == S::Assigned,
            EventKind::Reply => status == S::Handling,
            EventKind::FollowUp => status == S::Replied,
            EventKind::Close => matches!(status, S::Replied | S::FollowedUp),
            EventKind::Archive => status == S::Closed,
            EventKind::Return => matches!(
                status,
                S::Assigned | S::Handling | S::Replied | S::FollowedUp
            ),
            EventKind::ApplyExtension => {
                matches!(status, S::Accepted | S::Assigned | S::Handling)
            }
            EventKind::ApproveExtension | EventKind::DenyExtension => status.is_in_progress(),
            EventKind::Escalate | EventKind::DelegateDown => matches!(
                status,
                S::Registered | S::Accepted | S::Assigned | S::Handling
            ),
            EventKind::Supervise | EventKind::Remind => status.is_open(),
        }
    }

    /// The step a case must have reached first, for error messages.
    fn prerequisite(self) -> Option<&'static str> {
        match self {
            EventKind::Assign => Some("须先受理"),
            EventKind::StartHandling => Some("须先分派"),
            EventKind::Reply => Some("须先开始办理"),
            EventKind::FollowUp => Some("须先反馈"),
            EventKind::Close => Some("须先反馈"),
            EventKind::Archive => Some("须先办结"),
            EventKind::ApplyExtension => Some("只能在受理后、反馈前申请"),
            EventKind::ApproveExtension | EventKind::DenyExtension => Some("须先受理"),
            _ => None,
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Something a person does to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum CaseAction {
    /// 受理: starts the closing time limit.
    Accept,
    /// 不予受理, with the reason the person is told.
    Reject { reason: String },
    /// 分派 to a handler at the dispatcher's tier or below (改派 while still assigned).
    Assign { to_tier: Tier, assignee: String },
    /// The assignee takes the case on (签收).
    StartHandling,
    /// 反馈: the answer given to the person.
    Reply { text: String },
    /// 回访: was the person satisfied?
    FollowUp { satisfied: bool, note: String },
    /// 办结.
    Close,
    /// 归档.
    Archive,
    /// 退回: an assignee gives the case back to whoever dispatched it, or a reviewer sends an
    /// answer back to be redone.
    Return { reason: String },
    /// 申请延期 by the handler.
    ApplyExtension { days: u32, reason: String },
    /// 批准延期 by a higher tier.
    ApproveExtension,
    /// 不批准延期 by a higher tier.
    DenyExtension,
    /// 上报 one tier up.
    Escalate { reason: String },
    /// 下派 to a lower tier.
    DelegateDown { to_tier: Tier },
    /// 督办.
    Supervise { note: String },
    /// 催办.
    Remind,
}

impl CaseAction {
    pub fn kind(&self) -> EventKind {
        match self {
            CaseAction::Accept => EventKind::Accept,
            CaseAction::Reject { .. } => EventKind::Reject,
            CaseAction::Assign { .. } => EventKind::Assign,
            CaseAction::StartHandling => EventKind::StartHandling,
            CaseAction::Reply { .. } => EventKind::Reply,
            CaseAction::FollowUp { .. } => EventKind::FollowUp,
            CaseAction::Close => EventKind::Close,
            CaseAction::Archive => EventKind::Archive,
            CaseAction::Return { .. } => EventKind::Return,
            CaseAction::ApplyExtension { .. } => EventKind::ApplyExtension,
            CaseAction::ApproveExtension => EventKind::ApproveExtension,
            CaseAction::DenyExtension => EventKind::DenyExtension,
            CaseAction::Escalate { .. } => EventKind::Escalate,
            CaseAction::DelegateDown { .. } => EventKind::DelegateDown,
            CaseAction::Supervise { .. } => EventKind::Supervise,
            CaseAction::Remind => EventKind::Remind,
        }
    }
}

/// Everything the rules need to know about a case. The store keeps it beside the case's
/// event log; [`CaseState::invariant_violations`] checks one read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseState {
    pub kind: CaseKind,
    /// 紧急: due the same day.
    pub urgent: bool,
    pub risk: Option<RiskColor>,
    pub status: CaseStatus,
    /// The tier now responsible.
    pub tier: Tier,
    /// The tier the case came in at, to tell 矛盾不上交 from escalated cases.
    pub registered_tier: Tier,
    /// Who dispatched the current assignment, where a 退回 goes back to.
    pub assigned_by: Option<Tier>,
    pub assignee: Option<String>,
    pub registered_on: NaiveDate,
    pub acceptance_deadline: NaiveDate,
    pub accepted_on: Option<NaiveDate>,
    /// Set on acceptance, moved by an approved extension.
    pub closing_deadline: Option<NaiveDate>,
    pub extension: ExtensionState,
    /// Extensions granted so far.
    pub extensions_used: u32,
    /// 督办.
    pub supervised: bool,
    /// Escalated at least once.
    pub escalated: bool,
    /// 催办 count.
    pub reminders: u32,
    /// Answer of the last follow-up (回访).
    pub satisfied: Option<bool>,
    pub closed_on: Option<NaiveDate>,
    /// The tier the case was closed at (化解层级).
    pub resolution_tier: Option<Tier>,
}

/// Who acts, when, and with which calendar and limits.
#[derive(Debug, Clone, Copy)]
pub struct ActionContext<'a> {
    pub today: NaiveDate,
    pub actor_tier: Tier,
    pub role: Role,
    pub calendar: &'a WorkCalendar,
    pub limits: &'a TimeLimits,
}

/// The outcome of a legal action: the new state and the event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub state: CaseState,
    pub event: EventKind,
    /// Chinese, for the case's history (`上报至乡镇级：涉及多村土地边界`).
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("{}", illegal_message(*.status, *.action))]
    IllegalTransition {
        status: CaseStatus,
        action: EventKind,
    },
    #[error("{role}不能{action}")]
    RoleNotAllowed {
        role: &'static str,
        action: EventKind,
    },
    #[error("事件现由{case}级承办，{actor}级不能{action}")]
    NotTheHandler {
        actor: Tier,
        case: Tier,
        action: EventKind,
    },
    #[error("事件现在{case}级，{actor}级不能{action}：须由本级或上级操作")]
    ActorTierTooLow {
        actor: Tier,
        case: Tier,
        action: EventKind,
    },
    #[error("延期须由上级审批：事件在{case}级办理，审批人在{actor}级")]
    ApproverNotHigher { actor: Tier, case: Tier },
    #[error("{0}必须填写理由")]
    ReasonRequired(EventKind),
    #[error("{0}不能为空")]
    FieldRequired(&'static str),
    #[error("只能分派到{limit}级或以下，不能分派到{to}级；需要上级处理请上报")]
    AssignUpward { limit: Tier, to: Tier },
    #[error("下派只能派往更低层级：事件现在{from}级，不能下派到{to}级")]
    DelegateNotDown { from: Tier, to: Tier },
    #[error("事件已在县级，不能再上报")]
    AboveCounty,
    #[error("{0}事件须先回访，才能办结")]
    FollowUpRequired(CaseKind),
    #[error("延期申请尚未审批，不能办结")]
    ExtensionPendingOnClose,
    #[error("事件尚未受理，没有办结期限")]
    NoClosingDeadline,
    #[error("办结期限（{}）已过，不能再申请延期", date_label(*.0))]
    ExtensionAfterDeadline(NaiveDate),
    #[error("{}", extension_limit_message(*.kind, *.max))]
    ExtensionLimitReached { kind: CaseKind, max: u32 },
    #[error("延期天数须在1至{max}天之间，申请了{days}天")]
    ExtensionDays { days: u32, max: u32 },
    #[error("已有延期申请待审批，不能重复申请")]
    ExtensionAlreadyPending,
    #[error("没有待审批的延期申请")]
    NoPendingExtension,
}

fn illegal_message(status: CaseStatus, action: EventKind) -> String {
    match status {
        CaseStatus::Closed => format!("已办结的事件不能再{action}"),
        CaseStatus::Archived => format!("已归档的事件不能再{action}"),
        CaseStatus::Rejected => format!("不予受理的事件不能再{action}"),
        _ => match action.prerequisite() {
            Some(p) => format!("事件当前为“{status}”状态，不能{action}：{p}"),
            None => format!("事件当前为“{status}”状态，不能{action}"),
        },
    }
}

fn extension_limit_message(kind: CaseKind, max: u32) -> String {
    if max == 0 {
        format!("{kind}事件不允许延期")
    } else {
        format!("{kind}事件最多只能延期{max}次，已经用完")
    }
}

/// `2024年2月18日`.
pub fn date_label(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

impl CaseState {
    /// 登记 a new case at the actor's tier. Urgent cases must be accepted the same day.
    pub fn register(
        kind: CaseKind,
        urgent: bool,
        ctx: &ActionContext<'_>,
    ) -> Result<Transition, CaseError> {
        check_role(ctx.role, EventKind::Register)?;
        let acceptance = if urgent {
            ctx.today
        } else {
            ctx.limits
                .for_kind(kind)
                .acceptance
                .due(ctx.today, ctx.calendar)
        };
        let state = CaseState {
            kind,
            urgent,
            risk: None,
            status: CaseStatus::Registered,
            tier: ctx.actor_tier,
            registered_tier: ctx.actor_tier,
            assigned_by: None,
            assignee: None,
            registered_on: ctx.today,
            acceptance_deadline: acceptance,
            accepted_on: None,
            closing_deadline: None,
            extension: ExtensionState::None,
            extensions_used: 0,
            supervised: false,
            escalated: false,
            reminders: 0,
            satisfied: None,
            closed_on: None,
            resolution_tier: None,
        };
        let urgent_note = if urgent { "（紧急）" } else { "" };
        Ok(Transition {
            description: format!(
                "在{}级登记{}{}，受理期限{}",
                ctx.actor_tier,
                kind,
                urgent_note,
                date_label(acceptance)
            ),
            state,
            event: EventKind::Register,
        })
    }

    /// The deadline that runs now: acceptance while registered, closing while in progress,
    /// none once finished.
    pub fn active_deadline(&self) -> Option<NaiveDate> {
        match self.status {
            CaseStatus::Registered => Some(self.acceptance_deadline),
            s if s.is_in_progress() => self.closing_deadline,
            _ => None,
        }
    }

    /// For closed cases: whether they were closed by the (possibly extended) deadline.
    pub fn closed_on_time(&self) -> Option<bool> {
        Some(self.closed_on? <= self.closing_deadline?)
    }

    /// Resolved without leaving the village (小事不出村): closed at grid or village tier.
    pub fn resolved_in_village(&self) -> Option<bool> {
        self.resolution_tier.map(|t| t <= Tier::Village)
    }

    /// Everything that is wrong with this state, in Chinese; empty for any state reachable
    /// through [`apply`]. For states read back from storage or built by hand.
    pub fn invariant_violations(&self, limits: &TimeLimits) -> Vec<String> {
        use CaseStatus as S;
        let mut v = Vec::new();
        let finished = matches!(self.status, S::Closed | S::Archived);
        if finished != self.resolution_tier.is_some() {
            v.push("化解层级只能且必须在办结时确定".to_string());
        }
        if finished != self.closed_on.is_some() {
            v.push("办结日期只能且必须在办结时确定".to_string());
        }
        if finished && self.resolution_tier != Some(self.tier) {
            v.push("化解层级应为办结时的承办层级".to_string());
        }
        let accepted = !matches!(self.status, S::Registered | S::Rejected);
        if accepted != self.accepted_on.is_some() || accepted != self.closing_deadline.is_some() {
            v.push("只有已受理的事件才有受理日期和办结期限".to_string());
        }
        if let (Some(a), Some(c)) = (self.accepted_on, self.closing_deadline)
            && c < a
        {
            v.push("办结期限早于受理日期".to_string());
        }
        if self.acceptance_deadline < self.registered_on {
            v.push("受理期限早于登记日期".to_string());
        }
        let dispatched = matches!(
            self.status,
            S::Assigned | S::Handling | S::Replied | S::FollowedUp | S::Closed | S::Archived
        );
        if dispatched && self.assignee.is_none() {
            v.push("已分派的事件缺少承办人".to_string());
        }
        let max = limits.for_kind(self.kind).max_extensions;
        if self.extensions_used > max {
            v.push(format!(
                "{}事件最多延期{}次，记录为{}次",
                self.kind, max, self.extensions_used
            ));
        }
        if self.extension.is_pending() && !self.status.is_in_progress() {
            v.push("只有办理中的事件才能有待审批的延期申请".to_string());
        }
        if matches!(self.extension, ExtensionState::Approved { .. }) && self.extensions_used == 0 {
            v.push("延期已批准但延期次数为0".to_string());
        }
        if self.status == S::FollowedUp && self.satisfied.is_none() {
            v.push("已回访的事件缺少满意度".to_string());
        }
        if finished && self.kind.requires_follow_up() && self.satisfied.is_none() {
            v.push(format!("{}事件未经回访就办结", self.kind));
        }
        v
    }
}

/// Applies `action` to `case`, or says in Chinese why it may not be done.
pub fn apply(
    case: &CaseState,
    action: &CaseAction,
    ctx: &ActionContext<'_>,
) -> Result<Transition, CaseError> {
    use CaseStatus as S;
    let event = action.kind();
    if !event.allowed_from(case.status) {
        return Err(CaseError::IllegalTransition {
            status: case.status,
            action: event,
        });
    }
    check_role(ctx.role, event)?;
    check_tier(case, event, ctx)?;

    let limits = ctx.limits.for_kind(case.kind);
    let today = ctx.today;
    let mut s = case.clone();
    let description = match action {
        CaseAction::Accept => {
            let due = if s.urgent {
                today
            } else {
                limits.closing.due(today, ctx.calendar)
            };
            s.status = S::Accepted;
            s.accepted_on = Some(today);
            s.closing_deadline = Some(due);
            format!("受理，办结期限{}", date_label(due))
        }
        CaseAction::Reject { reason } => {
            let reason = reason_of(reason, event)?;
            s.status = S::Rejected;
            format!("不予受理：{reason}")
        }
        CaseAction::Assign { to_tier, assignee } => {
            // Dispatch goes to the dispatcher's own tier or below: for a re-assignment
            // (改派) the dispatcher is the one who assigned it.
            let base = if case.status == S::Assigned {
                case.assigned_by.unwrap_or(case.tier)
            } else {
                case.tier
            };
            let limit = base.min(ctx.actor_tier);
            if *to_tier > limit {
                return Err(CaseError::AssignUpward {
                    limit,
                    to: *to_tier,
                });
            }
            let who = required(assignee, "承办人")?;
            s.status = S::Assigned;
            s.tier = *to_tier;
            s.assigned_by = Some(limit);
            s.assignee = Some(who.to_string());
            format!("分派至{to_tier}级，承办人：{who}")
        }
        CaseAction::StartHandling => {
            s.status = S::Handling;
            "签收并开始办理".to_string()
        }
        CaseAction::Reply { text } => {
            let text = required(text, "答复内容")?;
            s.status = S::Replied;
            format!("反馈：{text}")
        }
        CaseAction::FollowUp { satisfied, note } => {
            s.status = S::FollowedUp;
            s.satisfied = Some(*satisfied);
            let verdict = if *satisfied { "满意" } else { "不满意" };
            match note.trim() {
                "" => format!("回访：{verdict}"),
                n => format!("回访：{verdict}，{n}"),
            }
        }
        CaseAction::Close => {
            if case.kind.requires_follow_up() && case.status != S::FollowedUp {
                return Err(CaseError::FollowUpRequired(case.kind));
            }
            if case.extension.is_pending() {
                return Err(CaseError::ExtensionPendingOnClose);
            }
            s.status = S::Closed;
            s.closed_on = Some(today);
            s.resolution_tier = Some(case.tier);
            let late = match case.closing_deadline {
                Some(d) if today > d => format!("，超期{}天", (today - d).num_days()),
                _ => String::new(),
            };
            format!("办结，化解层级：{}级{late}", case.tier)
        }
        CaseAction::Archive => {
            s.status = S::Archived;
            "归档".to_string()
        }
        CaseAction::Return { reason } => {
            let reason = reason_of(reason, event)?;
            match case.status {
                S::Assigned | S::Handling => {
                    let back = case.assigned_by.unwrap_or(case.tier);
                    s.status = S::Accepted;
                    s.tier = back;
                    s.assigned_by = None;
                    s.assignee = None;
                    format!("退回{back}级重新分派：{reason}")
                }
                _ => {
                    s.status = S::Handling;
                    s.satisfied = None;
                    format!("退回重新办理：{reason}")
                }
            }
        }
        CaseAction::ApplyExtension { days, reason } => {
            let reason = reason_of(reason, event)?;
            if case.extension.is_pending() {
                return Err(CaseError::ExtensionAlreadyPending);
            }
            let deadline = case.closing_deadline.ok_or(CaseError::NoClosingDeadline)?;
            // On the last day of the limit the limit has not yet passed.
            if today > deadline {
                return Err(CaseError::ExtensionAfterDeadline(deadline));
            }
            if case.extensions_used >= limits.max_extensions {
                return Err(CaseError::ExtensionLimitReached {
                    kind: case.kind,
                    max: limits.max_extensions,
                });
            }
            if *days == 0 || *days > limits.max_extension_days {
                return Err(CaseError::ExtensionDays {
                    days: *days,
                    max: limits.max_extension_days,
                });
            }
            s.extension = ExtensionState::Pending {
                days: *days,
                reason: reason.to_string(),
            };
            format!("申请延期{days}天：{reason}")
        }
        CaseAction::ApproveExtension => {
            let ExtensionState::Pending { days, .. } = case.extension else {
                return Err(CaseError::NoPendingExtension);
            };
            let deadline = case.closing_deadline.ok_or(CaseError::NoClosingDeadline)?;
            let new = extend(deadline, days, limits.closing.count, ctx.calendar);
            s.closing_deadline = Some(new);
            s.extensions_used += 1;
            s.extension = ExtensionState::Approved { days };
            format!("批准延期{days}天，办结期限延至{}", date_label(new))
        }
        CaseAction::DenyExtension => {
            if !case.extension.is_pending() {
                return Err(CaseError::NoPendingExtension);
            }
            s.extension = ExtensionState::Denied;
            match case.closing_deadline {
                Some(d) => format!("不批准延期，办结期限仍为{}", date_label(d)),
                None => "不批准延期".to_string(),
            }
        }
        CaseAction::Escalate { reason } => {
            let reason = reason_of(reason, event)?;
            let up = case.tier.up().ok_or(CaseError::AboveCounty)?;
            move_to(&mut s, up);
            s.escalated = true;
            format!("上报至{up}级：{reason}")
        }
        CaseAction::DelegateDown { to_tier } => {
            if *to_tier >= case.tier {
                return Err(CaseError::DelegateNotDown {
                    from: case.tier,
                    to: *to_tier,
                });
            }
            move_to(&mut s, *to_tier);
            format!("下派至{to_tier}级")
        }
        CaseAction::Supervise { note } => {
            let note = required(note, "督办意见")?;
            s.supervised = true;
            format!("督办：{note}")
        }
        CaseAction::Remind => {
            s.reminders += 1;
            format!("催办（第{}次）", s.reminders)
        }
    };
    Ok(Transition {
        state: s,
        event,
        description,
    })
}

/// Hands the case to another tier: a registered case waits there for acceptance, an
/// accepted one for dispatch.
fn move_to(s: &mut CaseState, tier: Tier) {
    s.tier = tier;
    s.assignee = None;
    s.assigned_by = None;
    if s.status != CaseStatus::Registered {
        s.status = CaseStatus::Accepted;
    }
}

fn check_role(role: Role, event: EventKind) -> Result<(), CaseError> {
    let allowed = match role {
        Role::Auditor => false,
        // County approvers decide and oversee; they do not handle cases themselves.
        Role::CountyApprover => matches!(
            event,
            EventKind::ApproveExtension
                | EventKind::DenyExtension
                | EventKind::Supervise
                | EventKind::Remind
                | EventKind::DelegateDown
        ),
        Role::Admin
        | Role::TownshipLeader
        | Role::TownshipClerk
        | Role::VillageCadre
        | Role::GridWorker => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(CaseError::RoleNotAllowed {
            role: role.label(),
            action: event,
        })
    }
}

fn check_tier(
    case: &CaseState,
    event: EventKind,
    ctx: &ActionContext<'_>,
) -> Result<(), CaseError> {
    let (actor, tier) = (ctx.actor_tier, case.tier);
    match event {
        // The handler's own acts.
        EventKind::StartHandling | EventKind::Reply | EventKind::ApplyExtension => {
            if actor != tier {
                return Err(CaseError::NotTheHandler {
                    actor,
                    case: tier,
                    action: event,
                });
            }
        }
        // A higher tier approves; at the county, the top of this system, its approver.
        EventKind::ApproveExtension | EventKind::DenyExtension => {
            let county_approver =
                tier == Tier::County && actor == Tier::County && ctx.role == Role::CountyApprover;
            if actor <= tier && !county_approver {
                return Err(CaseError::ApproverNotHigher { actor, case: tier });
            }
        }
        _ => {
            if actor < tier {
                return Err(CaseError::ActorTierTooLow {
                    actor,
                    case: tier,
                    action: event,
                });
            }
        }
    }
    Ok(())
}

fn reason_of(s: &str, event: EventKind) -> Result<&str, CaseError> {
    match s.trim() {
        "" => Err(CaseError::ReasonRequired(event)),
        t => Ok(t),
    }
}

fn required<'a>(s: &'a str, what: &'static str) -> Result<&'a str, CaseError> {
    match s.trim() {
        "" => Err(CaseError::FieldRequired(what)),
        t => Ok(t),
    }
}

/// Days left before a deadline shows as due soon (临期).
pub const DUE_SOON_DAYS: u32 = 3;

/// Where a case stands against its running deadline, in calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "days", rename_all = "snake_case")]
pub enum DueStatus {
    /// More than [`DUE_SOON_DAYS`] left, or no deadline runs (finished cases).
    Ok,
    /// Days left; 0 means due today.
    DueSoon(u32),
    /// Days past the deadline.
    Overdue(u32),
}

impl DueStatus {
    pub fn label(self) -> String {
        match self {
            DueStatus::Ok => "正常".to_string(),
            DueStatus::DueSoon(0) => "今日到期".to_string(),
            DueStatus::DueSoon(n) => format!("临期，剩余{n}天"),
            DueStatus::Overdue(n) => format!("超期{n}天"),
        }
    }
}

/// The case's running deadline ([`CaseState::active_deadline`]) against `now`.
pub fn deadline_status(state: &CaseState, now: NaiveDate) -> DueStatus {
    let Some(deadline) = state.active_deadline() else {
        return DueStatus::Ok;
    };
    let diff = (deadline - now).num_days();
    let days = u32::try_from(diff.unsigned_abs()).unwrap_or(u32::MAX);
    if diff < 0 {
        DueStatus::Overdue(days)
    } else if days <= DUE_SOON_DAYS {
        DueStatus::DueSoon(days)
    } else {
        DueStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::sync::LazyLock;

    static CAL: LazyLock<WorkCalendar> = LazyLock::new(WorkCalendar::china_2023_2024);
    static LIMITS: LazyLock<TimeLimits> = LazyLock::new(TimeLimits::default);

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn ctx(today: NaiveDate, tier: Tier, role: Role) -> ActionContext<'static> {
        ActionContext {
            today,
            actor_tier: tier,
            role,
            calendar: &CAL,
            limits: &LIMITS,
        }
    }

    fn role_of(tier: Tier) -> Role {
        match tier {
            Tier::Grid => Role::GridWorker,
            Tier::Village => Role::VillageCadre,
            Tier::Township => Role::TownshipLeader,
            Tier::County => Role::CountyApprover,
        }
    }

    /// Acts as someone at the case's own tier (a county approver for county cases, who may
    /// only decide; tests needing a county handler use `ctx` directly).
    fn by(state: &CaseState, today: NaiveDate, action: CaseAction) -> CaseState {
        by_tier(state, today, state.tier, action)
    }

    fn by_tier(state: &CaseState, today: NaiveDate, tier: Tier, action: CaseAction) -> CaseState {
        let role = if tier == Tier::County && !matches!(action, CaseAction::ApproveExtension) {
            Role::Admin
        } else {
            role_of(tier)
        };
        match apply(state, &action, &ctx(today, tier, role)) {
            Ok(t) => {
                assert!(
                    t.state.invariant_violations(&LIMITS).is_empty(),
                    "{:?}",
                    t.state.invariant_violations(&LIMITS)
                );
                t.state
            }
            Err(e) => panic!("{action:?} refused: {e}"),
        }
    }

    fn register(kind: CaseKind, tier: Tier, today: NaiveDate) -> CaseState {
        CaseState::register(kind, false, &ctx(today, tier, Role::Admin))
            .unwrap()
            .state
    }

    fn reason(s: &str) -> String {
        s.to_string()
    }

    // ---------------------------------------------------------------------------------
    // The transition table.

    /// One valid action of each kind, in the column order of `TABLE`.
    fn sample_actions() -> [CaseAction; 16] {
        [
            CaseAction::Accept,
            CaseAction::Reject {
                reason: reason("不属于受理范围"),
            },
            CaseAction::Assign {
                to_tier: Tier::Village,
                assignee: "张三".into(),
            },
            CaseAction::StartHandling,
            CaseAction::Reply {
                text: "已协调解决".into(),
            },
            CaseAction::FollowUp {
                satisfied: true,
                note: String::new(),
            },
            CaseAction::Close,
            CaseAction::Archive,
            CaseAction::Return {
                reason: reason("不属于本村职责"),
            },
            CaseAction::ApplyExtension {
                days: 5,
                reason: reason("需现场勘查"),
            },
            CaseAction::ApproveExtension,
            CaseAction::DenyExtension,
            CaseAction::Escalate {
                reason: reason("涉及多村"),
            },
            CaseAction::DelegateDown {
                to_tier: Tier::Grid,
            },
            CaseAction::Supervise {
                note: "限期办结".into(),
            },
            CaseAction::Remind,
        ]
    }

    /// The machine: the status after each action from each status, `.` where the action is
    /// refused whatever else holds. (Other checks, e.g. reasons, tiers and deadlines, come
    /// after this one and are tested separately.)
    ///
    /// Rows: the status before. Columns: 受理 不予受理 分派 开始办理 反馈 回访 办结 归档 退回
    /// 申请延期 批准延期 驳回延期 上报 下派 督办 催办. Cells: the status after, as
    /// reg 登记, acc 受理, rej 不予受理, asg 分派, hdl 办理, rep 反馈, fol 回访, clo 办结,
    /// arc 归档.
    #[rustfmt::skip]
    const TABLE: [(CaseStatus, &str); 9] = [
        //                        acc rej asg sta rep fol clo arc ret ape apx dnx esc del sup rem
        (CaseStatus::Registered, "acc rej .   .   .   .   .   .   .   .   .   .   reg reg reg reg"),
        (CaseStatus::Accepted,   ".   .   asg .   .   .   .   .   .   acc acc acc acc acc acc acc"),
        (CaseStatus::Rejected,   ".   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .  "),
        (CaseStatus::Assigned,   ".   .   asg hdl .   .   .   .   acc asg asg asg acc acc asg asg"),
        (CaseStatus::Handling,   ".   .   .   .   rep .   .   .   acc hdl hdl hdl acc acc hdl hdl"),
        (CaseStatus::Replied,    ".   .   .   .   .   fol clo .   hdl .   rep rep .   .   rep rep"),
        (CaseStatus::FollowedUp, ".   .   .   .   .   .   clo .   hdl .   fol fol .   .   fol fol"),
        (CaseStatus::Closed,     ".   .   .   .   .   .   .   arc .   .   .   .   .   .   .   .  "),
        (CaseStatus::Archived,   ".   .   .   .   .   .   .   .   .   .   .   .   .   .   .   .  "),
    ];

    fn short(code: &str) -> Option<CaseStatus> {
        Some(match code {
            "." => return None,
            "reg" => CaseStatus::Registered,
            "acc" => CaseStatus::Accepted,
            "rej" => CaseStatus::Rejected,
            "asg" => CaseStatus::Assigned,
            "hdl" => CaseStatus::Handling,
            "rep" => CaseStatus::Replied,
            "fol" => CaseStatus::FollowedUp,
            "clo" => CaseStatus::Closed,
            "arc" => CaseStatus::Archived,
            other => panic!("bad cell {other}"),
        })
    }

    /// The table's cell for (`from`, `event`).
    fn expected(from: CaseStatus, event: EventKind) -> Option<CaseStatus> {
        let col = sample_actions()
            .iter()
            .position(|a| a.kind() == event)
            .expect("every action kind has a column");
        let (_, row) = TABLE.iter().find(|(s, _)| *s == from).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells.len(), 16, "row {from:?}");
        short(cells[col])
    }

    /// A dispute (no follow-up needed) at village tier in `status`, assigned by the
    /// township, with a pending extension when `pending`.
    fn state_in(status: CaseStatus, pending: bool) -> CaseState {
        use CaseStatus as S;
        let accepted = !matches!(status, S::Registered | S::Rejected);
        let finished = matches!(status, S::Closed | S::Archived);
        let assigned = !matches!(status, S::Registered | S::Accepted | S::Rejected);
        CaseState {
            kind: CaseKind::Dispute,
            urgent: false,
            risk: Some(RiskColor::Yellow),
            status,
            tier: Tier::Village,
            registered_tier: Tier::Village,
            assigned_by: assigned.then_some(Tier::Township),
            assignee: assigned.then(|| "张三".to_string()),
            registered_on: d(2024, 3, 1),
            acceptance_deadline: d(2024, 3, 5),
            accepted_on: accepted.then_some(d(2024, 3, 4)),
            closing_deadline: accepted.then_some(d(2024, 3, 13)),
            extension: if pending && status.is_in_progress() {
                ExtensionState::Pending {
                    days: 5,
                    reason: "需现场勘查".into(),
                }
            } else {
                ExtensionState::None
            },
            extensions_used: 0,
            supervised: false,
            escalated: false,
            reminders: 0,
            satisfied: matches!(status, S::FollowedUp | S::Closed | S::Archived).then_some(true),
            closed_on: finished.then_some(d(2024, 3, 10)),
            resolution_tier: finished.then_some(Tier::Village),
        }
    }

    #[test]
    fn transition_table() {
        let today = d(2024, 3, 6);
        let mut legal = 0;
        for status in CaseStatus::ALL {
            for action in sample_actions() {
                let event = action.kind();
                let approval = matches!(
                    event,
                    EventKind::ApproveExtension | EventKind::DenyExtension
                );
                let state = state_in(status, approval);
                assert!(state.invariant_violations(&LIMITS).is_empty(), "{status:?}");
                let c = if approval {
                    ctx(today, Tier::Township, Role::TownshipLeader)
                } else {
                    ctx(today, Tier::Village, Role::VillageCadre)
                };
                let want = expected(status, event);
                assert_eq!(
                    event.allowed_from(status),
                    want.is_some(),
                    "{status:?} {event:?}"
                );
                match (apply(&state, &action, &c), want) {
                    (Ok(t), Some(to)) => {
                        legal += 1;
                        assert_eq!(t.state.status, to, "{status:?} {event:?}");
                        assert_eq!(t.event, event);
                        assert!(!t.description.is_empty());
                        assert!(
                            t.state.invariant_violations(&LIMITS).is_empty(),
                            "{status:?} {event:?}: {:?}",
                            t.state.invariant_violations(&LIMITS)
                        );
                    }
                    (Err(CaseError::IllegalTransition { .. }), None) => {}
                    (got, want) => panic!("{status:?} {event:?}: got {got:?}, want {want:?}"),
                }
            }
        }
        assert_eq!(legal, 47);
    }

    #[test]
    fn illegal_messages_read_well() {
        let closed = state_in(CaseStatus::Closed, false);
        let c = ctx(d(2024, 3, 11), Tier::Village, Role::VillageCadre);
        let assign = CaseAction::Assign {
            to_tier: Tier::Grid,
            assignee: "李四".into(),
        };
        assert_eq!(
            apply(&closed, &assign, &c).unwrap_err().to_string(),
            "已办结的事件不能再分派"
        );
        let handling = state_in(CaseStatus::Handling, false);
        assert_eq!(
            apply(&handling, &CaseAction::Close, &c)
                .unwrap_err()
                .to_string(),
            "事件当前为“办理”状态，不能办结：须先反馈"
        );
        let replied = state_in(CaseStatus::Replied, false);
        assert_eq!(
            apply(&replied, &CaseAction::Archive, &c)
                .unwrap_err()
                .to_string(),
            "事件当前为“反馈”状态，不能归档：须先办结"
        );
        let rejected = state_in(CaseStatus::Rejected, false);
        assert_eq!(
            apply(&rejected, &CaseAction::Remind, &c)
                .unwrap_err()
                .to_string(),
            "不予受理的事件不能再催办"
        );
    }

    // ---------------------------------------------------------------------------------
    // Guards.

    #[test]
    fn reject_and_return_need_a_reason() {
        let reg = register(CaseKind::Dispute, Tier::Village, d(2024, 3, 1));
        let c = ctx(d(2024, 3, 1), Tier::Village, Role::VillageCadre);
        let err = apply(
            &reg,
            &CaseAction::Reject {
                reason: "  ".into(),
            },
            &c,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "不予受理必须填写理由");
        let t = apply(
            &reg,
            &CaseAction::Reject {
                reason: "已进入诉讼程序".into(),
            },
            &c,
        )
        .unwrap();
        assert_eq!(t.state.status, CaseStatus::Rejected);
        assert_eq!(t.description, "不予受理：已进入诉讼程序");

        let handling = state_in(CaseStatus::Handling, false);
        let err = apply(
            &handling,
            &CaseAction::Return {
                reason: String::new(),
            },
            &c,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "退回必须填写理由");
        let esc = apply(
            &handling,
            &CaseAction::Escalate {
                reason: String::new(),
            },
            &c,
        );
        assert_eq!(
            esc.unwrap_err(),
            CaseError::ReasonRequired(EventKind::Escalate)
        );
        let reply = apply(&handling, &CaseAction::Reply { text: " ".into() }, &c);
        assert_eq!(reply.unwrap_err().to_string(), "答复内容不能为空");
    }

    #[test]
    fn escalation_climbs_one_tier_at_a_time_up_to_the_county() {
        let today = d(2024, 3, 4);
        let mut s = register(CaseKind::Dispute, Tier::Grid, today);
        s = by(&s, today, CaseAction::Accept);
        let up = |s: &CaseState| CaseAction::Escalate {
            reason: format!("{}级无法化解", s.tier),
        };
        for want in [Tier::Village, Tier::Township, Tier::County] {
            s = by_tier(&s, today, s.tier, up(&s));
            assert_eq!(s.tier, want);
            assert!(s.escalated);
            assert_eq!(s.status, CaseStatus::Accepted);
        }
        let c = ctx(today, Tier::County, Role::Admin);
        assert_eq!(
            apply(&s, &up(&s), &c).unwrap_err().to_string(),
            "事件已在县级，不能再上报"
        );
        // The grid cannot act on a case now at the county.
        let g = ctx(today, Tier::Grid, Role::GridWorker);
        assert!(matches!(
            apply(&s, &CaseAction::Remind, &g),
            Err(CaseError::ActorTierTooLow { .. })
        ));
        // Delegating goes strictly down.
        let err = apply(
            &s,
            &CaseAction::DelegateDown {
                to_tier: Tier::County,
            },
            &c,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "下派只能派往更低层级：事件现在县级，不能下派到县级"
        );
        s = by_tier(
            &s,
            today,
            Tier::County,
            CaseAction::DelegateDown {
                to_tier: Tier::Village,
            },
        );
        assert_eq!((s.tier, s.status), (Tier::Village, CaseStatus::Accepted));
        assert_eq!(s.registered_tier, Tier::Grid);
    }

    #[test]
    fn assignment_goes_down_and_returns_to_the_dispatcher() {
        let today = d(2024, 3, 4);
        let mut s = register(CaseKind::Hazard, Tier::Township, today);
        s = by(&s, today, CaseAction::Accept);
        let c = ctx(today, Tier::Village, Role::VillageCadre);
        // A village cadre cannot act on a township case.
        assert!(matches!(
            apply(&s, &CaseAction::Accept, &c),
            Err(CaseError::IllegalTransition { .. })
        ));
        let t = ctx(today, Tier::Township, Role::TownshipClerk);
        let up = CaseAction::Assign {
            to_tier: Tier::County,
            assignee: "县应急局".into(),
        };
        assert_eq!(
            apply(&s, &up, &t).unwrap_err().to_string(),
            "只能分派到乡镇级或以下，不能分派到县级；需要上级处理请上报"
        );
        let assign = CaseAction::Assign {
            to_tier: Tier::Village,
            assignee: "王村长".into(),
        };
        let blank = CaseAction::Assign {
            to_tier: Tier::Village,
            assignee: " ".into(),
        };
        assert_eq!(
            apply(&s, &blank, &t).unwrap_err().to_string(),
            "承办人不能为空"
        );
        s = by_tier(&s, today, Tier::Township, assign.clone());
        assert_eq!(
            (s.tier, s.assigned_by),
            (Tier::Village, Some(Tier::Township))
        );
        // Only the handler's tier starts handling.
        assert!(matches!(
            apply(&s, &CaseAction::StartHandling, &t),
            Err(CaseError::NotTheHandler { .. })
        ));
        s = by(&s, today, CaseAction::StartHandling);
        s = by(
            &s,
            today,
            CaseAction::Return {
                reason: "属于县级职责".into(),
            },
        );
        assert_eq!((s.status, s.tier), (CaseStatus::Accepted, Tier::Township));
        assert_eq!(s.assignee, None);

        // Assigned again, handled and closed at the village: resolved in the village.
        s = by_tier(&s, today, Tier::Township, assign);
        s = by(&s, today, CaseAction::StartHandling);
        s = by(
            &s,
            today,
            CaseAction::Reply {
                text: "已整改".into(),
            },
        );
        let t = apply(
            &s,
            &CaseAction::Close,
            &ctx(today, Tier::Township, Role::TownshipLeader),
        )
        .unwrap();
        assert_eq!(t.state.resolution_tier, Some(Tier::Village));
        assert_eq!(t.state.resolved_in_village(), Some(true));
        assert_eq!(t.state.closed_on_time(), Some(true));
        assert_eq!(t.description, "办结，化解层级：村级");
    }

    #[test]
    fn petitions_and_complaints_close_only_after_follow_up() {
        let today = d(2024, 3, 4);
        for kind in CaseKind::ALL {
            let mut s = register(kind, Tier::Township, today);
            s = by(&s, today, CaseAction::Accept);
            s = by(
                &s,
                today,
                CaseAction::Assign {
                    to_tier: Tier::Township,
                    assignee: "综治中心".into(),
                },
            );
            s = by(&s, today, CaseAction::StartHandling);
            s = by(
                &s,
                today,
                CaseAction::Reply {
                    text: "已答复".into(),
                },
            );
            let c = ctx(today, Tier::Township, Role::TownshipLeader);
            let closed = apply(&s, &CaseAction::Close, &c);
            if kind.requires_follow_up() {
                assert_eq!(
                    closed.unwrap_err().to_string(),
                    format!("{}事件须先回访，才能办结", kind.label())
                );
                // Unsatisfied: sent back to be redone, then followed up again.
                s = by(
                    &s,
                    today,
                    CaseAction::FollowUp {
                        satisfied: false,
                        note: "补偿未到位".into(),
                    },
                );
                s = by(
                    &s,
                    today,
                    CaseAction::Return {
                        reason: "群众不满意".into(),
                    },
                );
                assert_eq!((s.status, s.satisfied), (CaseStatus::Handling, None));
                s = by(
                    &s,
                    today,
                    CaseAction::Reply {
                        text: "补偿已到位".into(),
                    },
                );
                s = by(
                    &s,
                    today,
                    CaseAction::FollowUp {
                        satisfied: true,
                        note: String::new(),
                    },
                );
                s = by(&s, today, CaseAction::Close);
            } else {
                s = closed.unwrap().state;
            }
            assert_eq!(s.status, CaseStatus::Closed);
            s = by(&s, today, CaseAction::Archive);
            assert_eq!(s.status, CaseStatus::Archived);
            assert_eq!(s.resolution_tier, Some(Tier::Township));
        }
    }

    #[test]
    fn roles_that_may_not_act() {
        let s = register(CaseKind::Dispute, Tier::County, d(2024, 3, 4));
        let audit = ctx(d(2024, 3, 4), Tier::County, Role::Auditor);
        assert_eq!(
            apply(&s, &CaseAction::Accept, &audit)
                .unwrap_err()
                .to_string(),
            "审计员不能受理"
        );
        assert!(CaseState::register(CaseKind::Dispute, false, &audit).is_err());
        let approver = ctx(d(2024, 3, 4), Tier::County, Role::CountyApprover);
        assert!(apply(&s, &CaseAction::Accept, &approver).is_err());
        assert!(apply(&s, &CaseAction::Remind, &approver).is_ok());
    }

    #[test]
    fn extension_rules() {
        // A dispute at the village, accepted Monday 2024-03-04, due 7 working days later.
        let mut s = register(CaseKind::Dispute, Tier::Village, d(2024, 3, 4));
        s = by(&s, d(2024, 3, 4), CaseAction::Accept);
        assert_eq!(s.closing_deadline, Some(d(2024, 3, 13)));
        let apply_for = |days: u32| CaseAction::ApplyExtension {
            days,
            reason: "当事人外出务工".into(),
        };
        let village = ctx(d(2024, 3, 13), Tier::Village, Role::VillageCadre);
        assert_eq!(
            apply(&s, &apply_for(16), &village).unwrap_err().to_string(),
            "延期天数须在1至15天之间，申请了16天"
        );
        assert!(matches!(
            apply(&s, &apply_for(0), &village),
            Err(CaseError::ExtensionDays { .. })
        ));
        let empty = CaseAction::ApplyExtension {
            days: 3,
            reason: String::new(),
        };
        assert_eq!(
            apply(&s, &empty, &village).unwrap_err(),
            CaseError::ReasonRequired(EventKind::ApplyExtension)
        );
        // After the deadline: too late.
        let late = ctx(d(2024, 3, 14), Tier::Village, Role::VillageCadre);
        assert_eq!(
            apply(&s, &apply_for(3), &late).unwrap_err().to_string(),
            "办结期限（2024年3月13日）已过，不能再申请延期"
        );
        // On the last day it is still in time.
        s = apply(&s, &apply_for(3), &village).unwrap().state;
        assert!(s.extension.is_pending());
        assert_eq!(
            apply(&s, &apply_for(3), &village).unwrap_err(),
            CaseError::ExtensionAlreadyPending
        );
        // The applicant's own tier cannot approve.
        assert_eq!(
            apply(&s, &CaseAction::ApproveExtension, &village)
                .unwrap_err()
                .to_string(),
            "延期须由上级审批：事件在村级办理，审批人在村级"
        );
        let town = ctx(d(2024, 3, 14), Tier::Township, Role::TownshipLeader);
        let t = apply(&s, &CaseAction::ApproveExtension, &town).unwrap();
        // 3 working days after Wednesday 13th: 14th, 15th, Monday 18th.
        assert_eq!(t.state.closing_deadline, Some(d(2024, 3, 18)));
        assert_eq!(t.description, "批准延期3天，办结期限延至2024年3月18日");
        s = t.state;
        assert_eq!(s.extensions_used, 1);
        assert_eq!(
            apply(&s, &CaseAction::DenyExtension, &town).unwrap_err(),
            CaseError::NoPendingExtension
        );
        let v2 = ctx(d(2024, 3, 15), Tier::Village, Role::VillageCadre);
        assert_eq!(
            apply(&s, &apply_for(2), &v2).unwrap_err().to_string(),
            "矛盾纠纷事件最多只能延期1次，已经用完"
        );
    }

    #[test]
    fn closing_waits_for_a_pending_extension() {
        let mut s = state_in(CaseStatus::Replied, true);
        let c = ctx(d(2024, 3, 6), Tier::Village, Role::VillageCadre);
        assert_eq!(
            apply(&s, &CaseAction::Close, &c).unwrap_err().to_string(),
            "延期申请尚未审批，不能办结"
        );
        s = by_tier(&s, d(2024, 3, 6), Tier::Township, CaseAction::DenyExtension);
        assert_eq!(s.extension, ExtensionState::Denied);
        assert_eq!(s.closing_deadline, Some(d(2024, 3, 13)));
        assert!(apply(&s, &CaseAction::Close, &c).is_ok());
    }

    // ---------------------------------------------------------------------------------
    // Deadlines.

    #[test]
    fn petition_limits_are_calendar_days_rolled_past_the_spring_festival() {
        // Registered Friday 2024-01-26: 15 days is Saturday 2024-02-10, inside the holiday,
        // so the limit ends on the first working day after it, the make-up Sunday 02-18.
        let s = register(CaseKind::Petition, Tier::Township, d(2024, 1, 26));
        assert_eq!(s.acceptance_deadline, d(2024, 2, 18));
        assert_eq!(deadline_status(&s, d(2024, 2, 14)), DueStatus::Ok);
        assert_eq!(deadline_status(&s, d(2024, 2, 15)), DueStatus::DueSoon(3));
        assert_eq!(deadline_status(&s, d(2024, 2, 18)), DueStatus::DueSoon(0));
        assert_eq!(deadline_status(&s, d(2024, 2, 20)), DueStatus::Overdue(2));
        assert_eq!(DueStatus::Overdue(2).label(), "超期2天");
        // Accepted on the make-up Sunday: 60 calendar days is Thursday 2024-04-18.
        let s = by(&s, d(2024, 2, 18), CaseAction::Accept);
        assert_eq!(s.closing_deadline, Some(d(2024, 4, 18)));
        assert_eq!(deadline_status(&s, d(2024, 2, 20)), DueStatus::Ok);
    }

    #[test]
    fn working_day_limits_skip_the_spring_festival() {
        // A dispute registered Thursday 2024-02-08: 2 working days are Friday 9th and the
        // make-up Sunday 18th.
        let s = register(CaseKind::Dispute, Tier::Village, d(2024, 2, 8));
        assert_eq!(s.acceptance_deadline, d(2024, 2, 18));
        // Accepted Friday 9th: 7 working days are 18th (Sunday, make-up), 19th-23rd, 26th.
        let s = by(&s, d(2024, 2, 9), CaseAction::Accept);
        assert_eq!(s.closing_deadline, Some(d(2024, 2, 26)));
    }

    #[test]
    fn weekends_and_urgent_cases() {
        // A complaint registered Friday 2024-03-08 must be accepted by Monday.
        let s = register(CaseKind::Complaint, Tier::Township, d(2024, 3, 8));
        assert_eq!(s.acceptance_deadline, d(2024, 3, 11));
        // Urgent: the same day, even a Saturday.
        let c = ctx(d(2024, 3, 9), Tier::Grid, Role::GridWorker);
        let t = CaseState::register(CaseKind::Incident, true, &c).unwrap();
        assert_eq!(t.state.acceptance_deadline, d(2024, 3, 9));
        assert!(t.description.contains("紧急"));
        let s = by(&t.state, d(2024, 3, 9), CaseAction::Accept);
        assert_eq!(s.closing_deadline, Some(d(2024, 3, 9)));
        assert_eq!(deadline_status(&s, d(2024, 3, 9)), DueStatus::DueSoon(0));
        assert_eq!(deadline_status(&s, d(2024, 3, 11)), DueStatus::Overdue(2));
    }

    #[test]
    fn petition_over_national_day_2024_with_its_one_extension() {
        // Accepted Monday 2024-08-05: 60 days is Friday 2024-10-04, inside the National Day
        // holiday, so Tuesday 2024-10-08.
        let mut s = register(CaseKind::Petition, Tier::Township, d(2024, 8, 1));
        s = by(&s, d(2024, 8, 5), CaseAction::Accept);
        assert_eq!(s.closing_deadline, Some(d(2024, 10, 8)));
        s = by(
            &s,
            d(2024, 8, 6),
            CaseAction::Assign {
                to_tier: Tier::Village,
                assignee: "村调委会".into(),
            },
        );
        s = by(&s, d(2024, 8, 6), CaseAction::StartHandling);
        let too_long = CaseAction::ApplyExtension {
            days: 31,
            reason: "情况复杂".into(),
        };
        let v = ctx(d(2024, 10, 8), Tier::Village, Role::VillageCadre);
        assert_eq!(
            apply(&s, &too_long, &v).unwrap_err().to_string(),
            "延期天数须在1至30天之间，申请了31天"
        );
        s = by(
            &s,
            d(2024, 10, 8),
            CaseAction::ApplyExtension {
                days: 30,
                reason: "情况复杂".into(),
            },
        );
        s = by_tier(
            &s,
            d(2024, 10, 9),
            Tier::Township,
            CaseAction::ApproveExtension,
        );
        // 30 calendar days after 10-08 is Thursday 11-07.
        assert_eq!(s.closing_deadline, Some(d(2024, 11, 7)));
        let again = CaseAction::ApplyExtension {
            days: 5,
            reason: "仍需协调".into(),
        };
        assert_eq!(
            apply(
                &s,
                &again,
                &ctx(d(2024, 10, 10), Tier::Village, Role::VillageCadre)
            )
            .unwrap_err()
            .to_string(),
            "信访事件最多只能延期1次，已经用完"
        );
        // Closed late: recorded, and not on time.
        s = by(
            &s,
            d(2024, 11, 1),
            CaseAction::Reply {
                text: "已答复".into(),
            },
        );
        s = by_tier(
            &s,
            d(2024, 11, 8),
            Tier::Township,
            CaseAction::FollowUp {
                satisfied: true,
                note: String::new(),
            },
        );
        let t = apply(
            &s,
            &CaseAction::Close,
            &ctx(d(2024, 11, 8), Tier::Township, Role::TownshipLeader),
        )
        .unwrap();
        assert_eq!(t.description, "办结，化解层级：村级，超期1天");
        assert_eq!(t.state.closed_on_time(), Some(false));
        assert_eq!(deadline_status(&t.state, d(2024, 12, 1)), DueStatus::Ok);
    }

    #[test]
    fn county_cases_are_approved_by_the_county_approver() {
        let mut s = register(CaseKind::Petition, Tier::County, d(2024, 3, 4));
        s = by_tier(&s, d(2024, 3, 4), Tier::County, CaseAction::Accept);
        s = by_tier(
            &s,
            d(2024, 3, 5),
            Tier::County,
            CaseAction::ApplyExtension {
                days: 10,
                reason: "需多部门会商".into(),
            },
        );
        let clerk = ctx(d(2024, 3, 6), Tier::County, Role::Admin);
        assert!(matches!(
            apply(&s, &CaseAction::ApproveExtension, &clerk),
            Err(CaseError::ApproverNotHigher { .. })
        ));
        let approver = ctx(d(2024, 3, 6), Tier::County, Role::CountyApprover);
        assert!(apply(&s, &CaseAction::ApproveExtension, &approver).is_ok());
    }

    #[test]
    fn codes_and_labels_round_trip() {
        for k in CaseKind::ALL {
            assert_eq!(CaseKind::parse(k.as_str()), Some(k));
            assert_eq!(CaseKind::parse(k.label()), Some(k));
        }
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
            assert_eq!(CaseStatus::parse(s.label()), Some(s));
        }
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.as_str()), Some(t));
            assert_eq!(Tier::from_org_level(t.org_level()), Some(t));
            if let Some(u) = t.up() {
                assert_eq!(u.down(), Some(t));
            }
        }
        for e in EventKind::ALL {
            assert_eq!(EventKind::parse(e.as_str()), Some(e));
        }
        assert_eq!(RiskColor::parse("红色"), Some(RiskColor::Red));
        assert_eq!(RiskColor::parse("blue"), Some(RiskColor::Blue));
        assert_eq!(Tier::from_org_level(OrgLevel::City), None);
        let a = CaseAction::Assign {
            to_tier: Tier::Grid,
            assignee: "网格员甲".into(),
        };
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            json,
            r#"{"action":"assign","to_tier":"grid","assignee":"网格员甲"}"#
        );
        assert_eq!(serde_json::from_str::<CaseAction>(&json).unwrap(), a);
        let limits: TimeLimits =
            serde_json::from_str(&serde_json::to_string(&TimeLimits::default()).unwrap()).unwrap();
        assert_eq!(limits, TimeLimits::default());
    }

    // ---------------------------------------------------------------------------------
    // Random walks through the machine.

    #[derive(Debug, Clone, Copy)]
    enum Actor {
        Same,
        Above,
        Any(Tier),
    }

    fn arb_tier() -> impl Strategy<Value = Tier> {
        prop::sample::select(Tier::ALL.to_vec())
    }

    fn arb_text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => Just("理由".to_string()),
            1 => prop::sample::select(vec!["", " "]).prop_map(String::from),
        ]
    }

    fn arb_action() -> impl Strategy<Value = CaseAction> {
        prop_oneof![
            4 => Just(CaseAction::Accept),
            1 => arb_text().prop_map(|reason| CaseAction::Reject { reason }),
            6 => (arb_tier(), arb_text()).prop_map(|(to_tier, assignee)| CaseAction::Assign { to_tier, assignee }),
            4 => Just(CaseAction::StartHandling),
            4 => arb_text().prop_map(|text| CaseAction::Reply { text }),
            4 => (any::<bool>(), arb_text()).prop_map(|(satisfied, note)| CaseAction::FollowUp { satisfied, note }),
            4 => Just(CaseAction::Close),
            2 => Just(CaseAction::Archive),
            1 => arb_text().prop_map(|reason| CaseAction::Return { reason }),
            3 => (0u32..40, arb_text()).prop_map(|(days, reason)| CaseAction::ApplyExtension { days, reason }),
            3 => Just(CaseAction::ApproveExtension),
            1 => Just(CaseAction::DenyExtension),
            1 => arb_text().prop_map(|reason| CaseAction::Escalate { reason }),
            1 => arb_tier().prop_map(|to_tier| CaseAction::DelegateDown { to_tier }),
            1 => arb_text().prop_map(|note| CaseAction::Supervise { note }),
            1 => Just(CaseAction::Remind),
        ]
    }

    fn arb_step() -> impl Strategy<Value = (CaseAction, Actor, Role, u32)> {
        let actor = prop_oneof![
            6 => Just(Actor::Same),
            3 => Just(Actor::Above),
            1 => arb_tier().prop_map(Actor::Any),
        ];
        let role = prop_oneof![
            8 => Just(Role::TownshipLeader),
            1 => prop::sample::select(Role::ALL.to_vec()),
        ];
        (arb_action(), actor, role, 0u32..4)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn random_walks_stay_consistent(
            kind in prop::sample::select(CaseKind::ALL.to_vec()),
            urgent in any::<bool>(),
            start_tier in arb_tier(),
            start in 0i64..700,
            steps in prop::collection::vec(arb_step(), 0..80),
        ) {
            let mut today = d(2023, 1, 1) + chrono::Duration::days(start);
            let reg = ctx(today, start_tier, Role::Admin);
            let mut s = CaseState::register(kind, urgent, &reg).unwrap().state;
            prop_assert!(s.invariant_violations(&LIMITS).is_empty());
            let max_ext = LIMITS.for_kind(kind).max_extensions;
            for (action, actor, role, advance) in steps {
                today += chrono::Duration::days(i64::from(advance));
                let actor_tier = match actor {
                    Actor::Same => s.tier,
                    Actor::Above => s.tier.up().unwrap_or(Tier::County),
                    Actor::Any(t) => t,
                };
                let c = ctx(today, actor_tier, role);
                let event = action.kind();
                let cell = expected(s.status, event);
                match apply(&s, &action, &c) {
                    Ok(t) => {
                        prop_assert_eq!(Some(t.state.status), cell, "{:?} {:?}", s.status, event);
                        let n = &t.state;
                        prop_assert!(n.invariant_violations(&LIMITS).is_empty(),
                            "{:?} -> {:?}: {:?}", s, n, n.invariant_violations(&LIMITS));
                        match event {
                            EventKind::Escalate => prop_assert_eq!(Some(n.tier), s.tier.up()),
                            EventKind::DelegateDown => prop_assert!(n.tier < s.tier),
                            EventKind::Assign => prop_assert!(n.tier <= s.tier.max(s.assigned_by.unwrap_or(s.tier))),
                            EventKind::Close => prop_assert_eq!(n.resolution_tier, Some(s.tier)),
                            EventKind::Accept | EventKind::ApproveExtension => {}
                            _ => prop_assert_eq!(n.closing_deadline, s.closing_deadline),
                        }
                        if let (Some(old), Some(new)) = (s.closing_deadline, n.closing_deadline) {
                            prop_assert!(new >= old, "a deadline never moves earlier");
                        }
                        s = t.state;
                    }
                    Err(CaseError::IllegalTransition { .. }) => prop_assert_eq!(cell, None),
                    Err(_) => prop_assert!(cell.is_some(), "other checks only after the status check"),
                }
                // The invariants the brief names, spelled out.
                if matches!(s.status, CaseStatus::Closed | CaseStatus::Archived) {
                    prop_assert!(s.resolution_tier.is_some());
                    prop_assert!(s.closed_on.is_some());
                }
                prop_assert!(s.extensions_used <= max_ext);
                if kind == CaseKind::Petition {
                    prop_assert!(s.extensions_used <= 1);
                }
            }
        }
    }
}
