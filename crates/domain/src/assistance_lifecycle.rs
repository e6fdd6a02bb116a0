//! The enrollment life cycle: apply → village_review → public_notice → township_review →
//! county_approval → active → periodic review → exit.
//!
//! [`apply_step`] is the only way to move an [`EnrollmentState`]. It refuses, in Chinese, a
//! skipped step, a role that may not take it, the applicant approving their own application, a
//! township review before the notice has run its days, and a date before the previous step.
//! [`deadline`] gives the date by which the next step is due, so overdue items can be listed.
//!
//! The checks run in a fixed order (status, role, self-approval, dates, fields), so the first
//! error is the most basic one.

use crate::assistance::Program;
use crate::role::{Permission, Role};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

crate::code_enum!(
    /// Where an enrollment stands.
    EnrollmentStatus {
        Applied = "applied" / "待村级评议",
        VillageReviewed = "village_reviewed" / "待公示",
        PublicNotice = "public_notice" / "公示中",
        TownshipReviewed = "township_reviewed" / "待县级审批",
        Active = "active" / "在保",
        Rejected = "rejected" / "未通过",
        Exited = "exited" / "已退出",
    }
);

crate::code_enum!(
    /// One step, as recorded.
    Step {
        Apply = "apply" / "申请",
        VillageReview = "village_review" / "村级评议",
        PublicNotice = "public_notice" / "公示",
        TownshipReview = "township_review" / "乡镇审核",
        CountyApproval = "county_approval" / "县级审批",
        Review = "review" / "复核",
        Exit = "exit" / "退出",
        // Entered from a roster kept before xiangzhi: stands for the steps taken on paper.
        // Only the roster import records it; no one takes it as a step.
        Import = "import" / "存量导入",
    }
);

crate::code_enum!(
    /// How an application came in.
    ApplySource {
        Household = "household" / "本人（户）申请",
        CadreScreening = "cadre_screening" / "干部排查",
        DepartmentWarning = "department_warning" / "部门预警",
        // On a roster kept before xiangzhi (存量名单); only the roster import sets it.
        Import = "import" / "存量导入",
    }
);

crate::code_enum!(
    /// Why an enrollment ended.
    ExitReason {
        IncomeAboveLine = "income_above_line" / "收入超过标准",
        RiskCleared = "risk_cleared" / "风险消除",
        Deceased = "deceased" / "死亡",
        MovedOut = "moved_out" / "迁出",
        AgedOut = "aged_out" / "超过年龄",
        Voluntary = "voluntary" / "本人申请退出",
        ReviewFailed = "review_failed" / "复核不符合条件",
        Other = "other" / "其他",
    }
);

impl EnrollmentStatus {
    /// The step that comes next, if any (exit is possible besides).
    pub fn next_step(self, program: &Program) -> Option<Step> {
        match self {
            EnrollmentStatus::Applied => Some(Step::VillageReview),
            EnrollmentStatus::VillageReviewed => Some(Step::PublicNotice),
            EnrollmentStatus::PublicNotice => Some(Step::TownshipReview),
            EnrollmentStatus::TownshipReviewed if !program.township_approves => {
                Some(Step::CountyApproval)
            }
            EnrollmentStatus::TownshipReviewed => None,
            EnrollmentStatus::Active if program.review_months > 0 => Some(Step::Review),
            EnrollmentStatus::Active => None,
            EnrollmentStatus::Rejected | EnrollmentStatus::Exited => None,
        }
    }

    /// Still being decided.
    pub fn pending(self) -> bool {
        matches!(
            self,
            EnrollmentStatus::Applied
                | EnrollmentStatus::VillageReviewed
                | EnrollmentStatus::PublicNotice
                | EnrollmentStatus::TownshipReviewed
        )
    }
}

/// What the life cycle needs to know about an enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollmentState {
    pub status: EnrollmentStatus,
    /// Who entered the application: never the one who approves it.
    pub entered_by: String,
    /// The day of the last step.
    pub since: NaiveDate,
    /// Last day of the public notice, once posted.
    pub notice_end: Option<NaiveDate>,
    pub start_on: Option<NaiveDate>,
    pub next_review: Option<NaiveDate>,
    pub exit_on: Option<NaiveDate>,
    pub exit_reason: Option<ExitReason>,
}

impl EnrollmentState {
    /// A new application.
    pub fn applied(entered_by: &str, on: NaiveDate) -> EnrollmentState {
        EnrollmentState {
            status: EnrollmentStatus::Applied,
            entered_by: entered_by.to_string(),
            since: on,
            notice_end: None,
            start_on: None,
            next_review: None,
            exit_on: None,
            exit_reason: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    pub fn label(self) -> &'static str {
        match self {
            Decision::Approve => "同意",
            Decision::Reject => "不同意",
        }
    }
}

/// A step someone wants to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepAction {
    /// 村级评议: the minutes (会议记录) are required.
    VillageReview {
        decision: Decision,
        minutes: String,
    },
    /// 公示: posted on `on`, runs the program's notice days.
    PublicNotice,
    TownshipReview {
        decision: Decision,
        opinion: String,
    },
    CountyApproval {
        decision: Decision,
        opinion: String,
    },
    /// 复核: still eligible (the next review is scheduled) or not (the enrollment exits).
    Review {
        decision: Decision,
        opinion: String,
    },
    Exit {
        reason: ExitReason,
        note: String,
    },
}

impl StepAction {
    pub fn step(&self) -> Step {
        match self {
            StepAction::VillageReview { .. } => Step::VillageReview,
            StepAction::PublicNotice => Step::PublicNotice,
            StepAction::TownshipReview { .. } => Step::TownshipReview,
            StepAction::CountyApproval { .. } => Step::CountyApproval,
            StepAction::Review { .. } => Step::Review,
            StepAction::Exit { .. } => Step::Exit,
        }
    }
    pub fn decision(&self) -> Option<Decision> {
        match self {
            StepAction::VillageReview { decision, .. }
            | StepAction::TownshipReview { decision, .. }
            | StepAction::CountyApproval { decision, .. }
            | StepAction::Review { decision, .. } => Some(*decision),
            _ => None,
        }
    }
    /// The opinion or minutes as recorded.
    pub fn opinion(&self) -> String {
        match self {
            StepAction::VillageReview { minutes, .. } => minutes.clone(),
            StepAction::PublicNotice => String::new(),
            StepAction::TownshipReview { opinion, .. }
            | StepAction::CountyApproval { opinion, .. }
            | StepAction::Review { opinion, .. } => opinion.clone(),
            StepAction::Exit { reason, note } if note.trim().is_empty() => {
                reason.label().to_string()
            }
            StepAction::Exit { reason, note } => format!("{}：{}", reason.label(), note.trim()),
        }
    }
}

/// Who takes the step. `None` role is the operator at the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepActor {
    pub username: String,
    pub role: Option<Role>,
}

/// Why a step was refused. `forbidden` when the actor may not take it at all (wrong role,
/// approving their own application), as opposed to a step out of order or a missing field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LifecycleError {
    pub message: String,
    pub forbidden: bool,
}

fn refuse<T>(m: impl Into<String>) -> Result<T, LifecycleError> {
    Err(LifecycleError {
        message: m.into(),
        forbidden: false,
    })
}

fn forbid<T>(m: impl Into<String>) -> Result<T, LifecycleError> {
    Err(LifecycleError {
        message: m.into(),
        forbidden: true,
    })
}

fn may(actor: &StepActor, step: Step, program: &Program) -> bool {
    let Some(role) = actor.role else { return true };
    match step {
        Step::Apply | Step::VillageReview | Step::PublicNotice | Step::Exit => {
            role.can(Permission::Write) && role != Role::GridWorker
                || (step == Step::Apply && role == Role::GridWorker)
        }
        Step::TownshipReview | Step::Review => role.can(Permission::TownshipReview),
        Step::CountyApproval => {
            role.can(Permission::CountyApproval)
                || (program.township_approves && role.can(Permission::TownshipReview))
        }
        Step::Import => false,
    }
}

/// Who may take `step`, for the refusal message.
fn who(step: Step) -> &'static str {
    match step {
        Step::Apply => "村干部、网格员或乡镇业务人员",
        Step::VillageReview | Step::PublicNotice | Step::Exit => "村干部或乡镇业务人员",
        Step::TownshipReview | Step::Review => "乡镇审核人员",
        Step::CountyApproval => "县级审批人员",
        Step::Import => "存量名单导入",
    }
}

/// May `actor` enter an application at all?
pub fn may_apply(actor: &StepActor, program: &Program) -> Result<(), LifecycleError> {
    if may(actor, Step::Apply, program) {
        Ok(())
    } else {
        forbid(format!("只有{}可以录入申请", who(Step::Apply)))
    }
}

/// The next step of a pending enrollment, if `actor` may take it (role and not their own
/// application): what goes on their to-do list.
pub fn awaits(program: &Program, state: &EnrollmentState, actor: &StepActor) -> Option<Step> {
    if !state.status.pending() {
        return None;
    }
    let step = state.status.next_step(program)?;
    let approves = matches!(step, Step::TownshipReview | Step::CountyApproval);
    // Village steps are the village's work: the township may take them but does not list them.
    let village_step = matches!(step, Step::VillageReview | Step::PublicNotice);
    let mine = if village_step {
        actor.role.is_none_or(|r| r == Role::VillageCadre)
    } else {
        may(actor, step, program)
    };
    (mine && !(approves && actor.username == state.entered_by)).then_some(step)
}

/// The state after `action` on `on`, or why not.
pub fn apply_step(
    program: &Program,
    state: &EnrollmentState,
    action: &StepAction,
    actor: &StepActor,
    on: NaiveDate,
) -> Result<EnrollmentState, LifecycleError> {
    use EnrollmentStatus as S;
    let step = action.step();
    let allowed = match step {
        Step::Exit => matches!(state.status, S::Active) || state.status.pending(),
        _ => state.status.next_step(program) == Some(step),
    };
    if !allowed {
        return match state.status.next_step(program) {
            _ if matches!(state.status, S::Rejected | S::Exited) => refuse(format!(
                "该记录状态为“{}”，不能再{}",
                state.status.label(),
                step.label()
            )),
            Some(next) => refuse(format!(
                "当前状态为“{}”，下一步应为“{}”，不能跳到“{}”",
                state.status.label(),
                next.label(),
                step.label()
            )),
            None => refuse(format!(
                "当前状态为“{}”，不能{}",
                state.status.label(),
                step.label()
            )),
        };
    }
    if !may(actor, step, program) {
        return forbid(format!("“{}”只能由{}办理", step.label(), who(step)));
    }
    let approves = matches!(
        step,
        Step::TownshipReview | Step::CountyApproval | Step::Review
    );
    if approves && actor.username == state.entered_by {
        return forbid(format!(
            "录入申请的人（{}）不能审核或审批同一申请",
            state.entered_by
        ));
    }
    if on < state.since {
        return refuse(format!("办理日期 {on} 早于上一环节日期 {}", state.since));
    }
    if step == Step::TownshipReview
        && let Some(end) = state.notice_end
        && on <= end
    {
        return refuse(format!("公示期至 {end} 结束，公示期满后才能乡镇审核"));
    }
    let text_required = |t: &str, what: &str| {
        if t.trim().is_empty() {
            refuse(format!("{}需要填写{what}", step.label()))
        } else {
            Ok(())
        }
    };
    let mut next = state.clone();
    next.since = on;
    match action {
        StepAction::VillageReview { decision, minutes } => {
            text_required(minutes, "评议会议记录")?;
            next.status = match decision {
                Decision::Approve => S::VillageReviewed,
                Decision::Reject => S::Rejected,
            };
        }
        StepAction::PublicNotice => {
            next.status = S::PublicNotice;
            next.notice_end = Some(on + chrono::Days::new(u64::from(program.notice_days) - 1));
        }
        StepAction::TownshipReview { decision, opinion }
        | StepAction::CountyApproval { decision, opinion } => {
            text_required(opinion, "审核意见")?;
            let last = step == Step::CountyApproval || program.township_approves;
            next.status = match (decision, last) {
                (Decision::Reject, _) => S::Rejected,
                (Decision::Approve, false) => S::TownshipReviewed,
                (Decision::Approve, true) => S::Active,
            };
            if next.status == S::Active {
                next.start_on = Some(first_of_month_after(on));
                next.next_review = review_after(program, on);
            }
        }
        StepAction::Review { decision, opinion } => {
            text_required(opinion, "复核意见")?;
            match decision {
                Decision::Approve => next.next_review = review_after(program, on),
                Decision::Reject => {
                    next.status = S::Exited;
                    next.exit_on = Some(on);
                    next.exit_reason = Some(ExitReason::ReviewFailed);
                    next.next_review = None;
                }
            }
        }
        StepAction::Exit { reason, note } => {
            if *reason == ExitReason::Other {
                text_required(note, "退出原因说明")?;
            }
            next.status = if state.status.pending() {
                S::Rejected
            } else {
                S::Exited
            };
            next.exit_on = Some(on);
            next.exit_reason = Some(*reason);
            next.next_review = None;
        }
    }
    Ok(next)
}

/// Payments start with the month after approval (the month of approval is already paid up).
pub fn first_of_month_after(d: NaiveDate) -> NaiveDate {
    let first = d.with_day(1).expect("day 1 exists");
    first + Months::new(1)
}

fn review_after(program: &Program, on: NaiveDate) -> Option<NaiveDate> {
    (program.review_months > 0).then(|| on + Months::new(program.review_months))
}

/// The day by which the next step is due (the review date for an active enrollment), if any.
pub fn deadline(program: &Program, state: &EnrollmentState) -> Option<NaiveDate> {
    let l = &program.limits;
    let days = |n: u32| chrono::Days::new(u64::from(n));
    match state.status {
        EnrollmentStatus::Applied => Some(state.since + days(l.village_review)),
        EnrollmentStatus::VillageReviewed => Some(state.since + days(l.public_notice)),
        EnrollmentStatus::PublicNotice => state.notice_end.map(|e| e + days(l.township_review)),
        EnrollmentStatus::TownshipReviewed => Some(state.since + days(l.county_approval)),
        EnrollmentStatus::Active => state.next_review,
        EnrollmentStatus::Rejected | EnrollmentStatus::Exited => None,
    }
}

pub fn is_overdue(program: &Program, state: &EnrollmentState, today: NaiveDate) -> bool {
    deadline(program, state).is_some_and(|d| today > d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assistance::{MIN_LIVING, TEMPORARY_RELIEF};

    fn program(code: &str) -> Program {
        Program::seeded()
            .into_iter()
            .find(|p| p.code == code)
            .unwrap()
    }
    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn actor(name: &str, role: Role) -> StepActor {
        StepActor {
            username: name.into(),
            role: Some(role),
        }
    }
    fn ok(o: &str) -> StepAction {
        StepAction::TownshipReview {
            decision: Decision::Approve,
            opinion: o.into(),
        }
    }

    /// Walks a 低保 application from apply to active, and returns the state.
    fn active() -> EnrollmentState {
        let p = program(MIN_LIVING);
        let cadre = actor("cadre", Role::VillageCadre);
        let s = EnrollmentState::applied("cadre", d("2023-03-01"));
        let s = apply_step(
            &p,
            &s,
            &StepAction::VillageReview {
                decision: Decision::Approve,
                minutes: "村民代表评议通过，11人参加".into(),
            },
            &cadre,
            d("2023-03-05"),
        )
        .unwrap();
        assert_eq!(s.status, EnrollmentStatus::VillageReviewed);
        let s = apply_step(&p, &s, &StepAction::PublicNotice, &cadre, d("2023-03-06")).unwrap();
        assert_eq!(s.notice_end, Some(d("2023-03-12")));
        let s = apply_step(
            &p,
            &s,
            &ok("符合条件"),
            &actor("clerk", Role::TownshipClerk),
            d("2023-03-13"),
        )
        .unwrap();
        assert_eq!(s.status, EnrollmentStatus::TownshipReviewed);
        let s = apply_step(
            &p,
            &s,
            &StepAction::CountyApproval {
                decision: Decision::Approve,
                opinion: "同意纳入".into(),
            },
            &actor("county", Role::CountyApprover),
            d("2023-03-20"),
        )
        .unwrap();
        assert_eq!(s.status, EnrollmentStatus::Active);
        assert_eq!(s.start_on, Some(d("2023-04-01")));
        assert_eq!(s.next_review, Some(d("2024-03-20")));
        s
    }

    #[test]
    fn walks_the_whole_lifecycle_with_review_and_exit() {
        let p = program(MIN_LIVING);
        let s = active();
        let s = apply_step(
            &p,
            &s,
            &StepAction::Review {
                decision: Decision::Approve,
                opinion: "收入仍低于标准".into(),
            },
            &actor("clerk", Role::TownshipClerk),
            d("2024-03-10"),
        )
        .unwrap();
        assert_eq!(s.status, EnrollmentStatus::Active);
        assert_eq!(s.next_review, Some(d("2025-03-10")));
        let s = apply_step(
            &p,
            &s,
            &StepAction::Exit {
                reason: ExitReason::IncomeAboveLine,
                note: String::new(),
            },
            &actor("cadre", Role::VillageCadre),
            d("2024-06-01"),
        )
        .unwrap();
        assert_eq!(s.status, EnrollmentStatus::Exited);
        assert_eq!(s.exit_reason, Some(ExitReason::IncomeAboveLine));
        let again = apply_step(
            &p,
            &s,
            &StepAction::Review {
                decision: Decision::Approve,
                opinion: "x".into(),
            },
            &actor("clerk", Role::TownshipClerk),
            d("2024-07-01"),
        );
        assert!(again.unwrap_err().message.contains("“已退出”，不能再复核"));
    }

    #[test]
    fn refuses_a_skipped_step() {
        let p = program(MIN_LIVING);
        let s = EnrollmentState::applied("cadre", d("2023-03-01"));
        let e = apply_step(
            &p,
            &s,
            &ok("跳过评议"),
            &actor("clerk", Role::TownshipClerk),
            d("2023-03-02"),
        )
        .unwrap_err();
        assert!(e.message.contains("下一步应为“村级评议”"), "{e}");
        let e = apply_step(
            &p,
            &s,
            &StepAction::PublicNotice,
            &actor("cadre", Role::VillageCadre),
            d("2023-03-02"),
        )
        .unwrap_err();
        assert!(e.message.contains("不能跳到“公示”"), "{e}");
    }

    #[test]
    fn refuses_self_approval() {
        let p = program(MIN_LIVING);
        let mut s = EnrollmentState::applied("clerk", d("2023-03-01"));
        s.status = EnrollmentStatus::PublicNotice;
        s.notice_end = Some(d("2023-03-08"));
        let e = apply_step(
            &p,
            &s,
            &ok("自己审自己"),
            &actor("clerk", Role::TownshipClerk),
            d("2023-03-10"),
        )
        .unwrap_err();
        assert!(e.message.contains("不能审核或审批"), "{e}");
        assert!(e.forbidden);
        assert_eq!(awaits(&p, &s, &actor("clerk", Role::TownshipClerk)), None);
        assert_eq!(
            awaits(&p, &s, &actor("leader", Role::TownshipLeader)),
            Some(Step::TownshipReview)
        );
        assert_eq!(awaits(&p, &s, &actor("cadre", Role::VillageCadre)), None);
        assert!(
            apply_step(
                &p,
                &s,
                &ok("同意"),
                &actor("leader", Role::TownshipLeader),
                d("2023-03-10")
            )
            .is_ok()
        );
    }

    #[test]
    fn refuses_wrong_roles() {
        let p = program(MIN_LIVING);
        let mut s = EnrollmentState::applied("cadre", d("2023-03-01"));
        s.status = EnrollmentStatus::PublicNotice;
        s.notice_end = Some(d("2023-03-08"));
        let e = apply_step(
            &p,
            &s,
            &ok("村里直接批"),
            &actor("cadre2", Role::VillageCadre),
            d("2023-03-10"),
        )
        .unwrap_err();
        assert!(e.message.contains("乡镇审核人员"), "{e}");
        s.status = EnrollmentStatus::TownshipReviewed;
        let county = StepAction::CountyApproval {
            decision: Decision::Approve,
            opinion: "同意".into(),
        };
        let e = apply_step(
            &p,
            &s,
            &county,
            &actor("leader", Role::TownshipLeader),
            d("2023-03-10"),
        )
        .unwrap_err();
        assert!(e.message.contains("县级审批人员"), "{e}");
        assert!(
            may_apply(&actor("auditor", Role::Auditor), &p)
                .unwrap_err()
                .message
                .contains("录入申请")
        );
    }

    #[test]
    fn township_approves_where_delegated() {
        let p = program(TEMPORARY_RELIEF);
        let mut s = EnrollmentState::applied("cadre", d("2023-05-01"));
        s.status = EnrollmentStatus::PublicNotice;
        s.notice_end = Some(d("2023-05-04"));
        let s = apply_step(
            &p,
            &s,
            &ok("同意救助"),
            &actor("clerk", Role::TownshipClerk),
            d("2023-05-05"),
        )
        .unwrap();
        assert_eq!(s.status, EnrollmentStatus::Active);
        assert_eq!(s.next_review, None);
        assert_eq!(s.status.next_step(&p), None);
    }

    #[test]
    fn notice_must_run_its_days() {
        let p = program(MIN_LIVING);
        let mut s = EnrollmentState::applied("cadre", d("2023-03-01"));
        s.status = EnrollmentStatus::PublicNotice;
        s.notice_end = Some(d("2023-03-08"));
        let e = apply_step(
            &p,
            &s,
            &ok("同意"),
            &actor("clerk", Role::TownshipClerk),
            d("2023-03-08"),
        )
        .unwrap_err();
        assert!(e.message.contains("公示期满"), "{e}");
    }

    #[test]
    fn refuses_missing_minutes_and_backdating() {
        let p = program(MIN_LIVING);
        let s = EnrollmentState::applied("cadre", d("2023-03-01"));
        let cadre = actor("cadre", Role::VillageCadre);
        let review = StepAction::VillageReview {
            decision: Decision::Approve,
            minutes: "  ".into(),
        };
        let e = apply_step(&p, &s, &review, &cadre, d("2023-03-02")).unwrap_err();
        assert!(e.message.contains("评议会议记录"), "{e}");
        let review = StepAction::VillageReview {
            decision: Decision::Approve,
            minutes: "通过".into(),
        };
        let e = apply_step(&p, &s, &review, &cadre, d("2023-02-28")).unwrap_err();
        assert!(e.message.contains("早于上一环节"), "{e}");
    }

    #[test]
    fn rejection_ends_the_application() {
        let p = program(MIN_LIVING);
        let s = EnrollmentState::applied("cadre", d("2023-03-01"));
        let cadre = actor("cadre", Role::VillageCadre);
        let s = apply_step(
            &p,
            &s,
            &StepAction::VillageReview {
                decision: Decision::Reject,
                minutes: "家庭有车辆，不符合".into(),
            },
            &cadre,
            d("2023-03-03"),
        )
        .unwrap();
        assert_eq!(s.status, EnrollmentStatus::Rejected);
        let e = apply_step(&p, &s, &StepAction::PublicNotice, &cadre, d("2023-03-04")).unwrap_err();
        assert!(e.message.contains("“未通过”，不能再公示"), "{e}");
    }

    #[test]
    fn overdue_by_step_limit_and_review_date() {
        let p = program(MIN_LIVING);
        let s = EnrollmentState::applied("cadre", d("2023-03-01"));
        assert_eq!(deadline(&p, &s), Some(d("2023-03-11")));
        assert!(!is_overdue(&p, &s, d("2023-03-11")));
        assert!(is_overdue(&p, &s, d("2023-03-12")));
        let a = active();
        assert!(!is_overdue(&p, &a, d("2024-03-20")));
        assert!(is_overdue(&p, &a, d("2024-03-21")));
    }

    #[test]
    fn exit_needs_a_note_for_other() {
        let p = program(MIN_LIVING);
        let e = apply_step(
            &p,
            &active(),
            &StepAction::Exit {
                reason: ExitReason::Other,
                note: String::new(),
            },
            &actor("cadre", Role::VillageCadre),
            d("2023-06-01"),
        )
        .unwrap_err();
        assert!(e.message.contains("退出原因说明"), "{e}");
    }
}
