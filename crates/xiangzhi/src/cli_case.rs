//! `xiangzhi case …`, `key-person …`, `project …`, `task …`: what a clerk does with cases,
//! key persons, projects and supervised tasks at the command line.
//!
//! `--as USER` acts and reads as that user (their tier, role and scope), so the command line
//! obeys the same rules as the web; without it the operator reads everything and acts at the
//! county tier.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use serde::Serialize;
use xiangzhi_domain::case::{CaseAction, CaseKind, CaseStatus, DueStatus, RiskColor, Tier};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::case::*;
use xiangzhi_store::{Actor, Store};

#[derive(Args, Clone, Default)]
pub struct AsUser {
    /// 以该用户的身份（层级、角色、管辖范围）操作和查看
    #[arg(long = "as")]
    pub as_user: Option<String>,
    /// 操作日期 YYYY-MM-DD（默认今天）
    #[arg(long)]
    pub date: Option<NaiveDate>,
}

#[derive(Subcommand)]
pub enum CaseCommand {
    /// 列出事件（可按类型、状态、层级、单位、超期筛选）
    List {
        /// 类型：dispute petition complaint incident hazard 或中文
        #[arg(long)]
        kind: Option<String>,
        /// 状态：registered accepted … 或中文（登记、受理……）
        #[arg(long)]
        status: Option<String>,
        /// 现承办层级：grid village township county 或中文
        #[arg(long)]
        tier: Option<String>,
        /// 单位代码（含下级）
        #[arg(long)]
        org: Option<String>,
        /// 类别代码（含下级类别），如 petition
        #[arg(long)]
        category: Option<String>,
        /// 承办人
        #[arg(long)]
        assignee: Option<String>,
        /// 只列未办结的
        #[arg(long)]
        open: bool,
        /// 只列已超期的（按 --date 或今天）
        #[arg(long)]
        overdue: bool,
        #[arg(long, default_value_t = 200)]
        limit: u32,
        #[command(flatten)]
        who: AsUser,
    },
    /// 显示一个事件及其办理过程
    Show {
        id: i64,
        #[command(flatten)]
        who: AsUser,
    },
    /// 列出事件类别
    Categories,
    /// 登记事件
    Register {
        /// 类别代码，如 dispute.neighbour、petition.labour（见 case categories）
        #[arg(long)]
        category: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        description: String,
        /// 发生地：网格、村或乡镇代码
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "")]
        location: String,
        #[arg(long)]
        urgent: bool,
        /// 风险等级：红 黄 蓝
        #[arg(long)]
        risk: Option<String>,
        /// 来源：window（窗口） grid（网格巡查） hotline（12345） …
        #[arg(long, default_value = "window")]
        source: String,
        /// 当事人（人口库人员编号），可多次
        #[arg(long = "person")]
        persons: Vec<i64>,
        /// 当事人姓名（不在人口库的），可多次
        #[arg(long = "party")]
        parties: Vec<String>,
        #[command(flatten)]
        who: AsUser,
    },
    /// 办理：accept reject assign start reply follow-up close archive return extend
    /// approve-extension deny-extension escalate delegate supervise remind
    Act {
        id: i64,
        action: String,
        /// 理由（不予受理、退回、延期、上报）或意见（督办）
        #[arg(long, default_value = "")]
        reason: String,
        /// 答复内容（反馈）或回访记录
        #[arg(long, default_value = "")]
        text: String,
        /// 分派/下派到的层级
        #[arg(long)]
        tier: Option<String>,
        /// 承办人（分派）
        #[arg(long, default_value = "")]
        assignee: String,
        /// 延期天数
        #[arg(long, default_value_t = 0)]
        days: u32,
        /// 回访是否满意
        #[arg(long)]
        satisfied: Option<bool>,
        #[command(flatten)]
        who: AsUser,
    },
    /// 化解层级统计：网格、村、乡镇、县各办结多少，村内、乡内化解率
    Summary {
        #[arg(long)]
        from: NaiveDate,
        #[arg(long)]
        to: NaiveDate,
        #[command(flatten)]
        who: AsUser,
    },
}

#[derive(Subcommand)]
pub enum KeyPersonCommand {
    /// 列出重点人员（--due 只列应走访的）
    List {
        #[arg(long)]
        due: bool,
        #[arg(long)]
        cadre: Option<String>,
        #[command(flatten)]
        who: AsUser,
    },
    /// 登记走访
    Visit {
        id: i64,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        who: AsUser,
    },
}

#[derive(Subcommand)]
pub enum ProjectCommand {
    /// 列出项目及投资、争资合计
    List {
        #[arg(long)]
        year: Option<i32>,
        #[command(flatten)]
        who: AsUser,
    },
}

#[derive(Subcommand)]
pub enum TaskCommand {
    /// 列出督办任务（--overdue 只列超期未完成的）
    List {
        #[arg(long)]
        overdue: bool,
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        who: AsUser,
    },
    /// 报送进展（100 即完成）
    Progress {
        id: i64,
        #[arg(long)]
        progress: u8,
        #[arg(long)]
        note: String,
        #[command(flatten)]
        who: AsUser,
    },
    /// 按村或按责任人统计完成情况（考核用）
    Completion {
        /// village 或 cadre
        #[arg(long, default_value = "village")]
        by: String,
        #[command(flatten)]
        who: AsUser,
    },
}

fn code(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| anyhow!("{e}"))
}

fn today(who: &AsUser) -> NaiveDate {
    who.date
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// The user named by `--as`, or the operator.
pub async fn actor(store: &Arc<dyn Store>, who: &AsUser) -> Result<Actor> {
    let Some(name) = &who.as_user else {
        return Ok(Actor::system("cli"));
    };
    let c = store
        .credentials(name)
        .await?
        .with_context(|| format!("没有用户“{name}”"))?;
    if !c.user.active {
        bail!("用户“{name}”已停用");
    }
    Ok(Actor {
        user_id: Some(c.user.id),
        username: c.user.username.clone(),
        role: Some(c.user.role),
        ip: None,
        scope: c.user.scope(),
    })
}

fn print<T: Serialize>(json: bool, value: &T, human: impl FnOnce()) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(value).expect("serializable")
        );
    } else {
        human();
    }
}

fn parse_tier(s: &str) -> Result<Tier> {
    Tier::parse(s).ok_or_else(|| anyhow!("没有“{s}”这个层级（grid village township county）"))
}

/// A case as lists show it: with where it stands against its deadline.
#[derive(Serialize)]
pub struct CaseRow {
    #[serde(flatten)]
    pub case: Case,
    pub due: DueStatus,
    pub due_label: String,
}

impl CaseRow {
    pub fn new(case: Case, today: NaiveDate) -> CaseRow {
        let due = case.due_status(today);
        CaseRow {
            due_label: due.label(),
            due,
            case,
        }
    }
}

/// Builds the domain action from the command line's words.
pub fn action_from(
    action: &str,
    reason: &str,
    text: &str,
    tier: Option<&str>,
    assignee: &str,
    days: u32,
    satisfied: Option<bool>,
) -> Result<CaseAction> {
    let reason = reason.to_string();
    Ok(match action.trim() {
        "accept" | "受理" => CaseAction::Accept,
        "reject" | "不予受理" => CaseAction::Reject { reason },
        "assign" | "分派" => CaseAction::Assign {
            to_tier: parse_tier(tier.context("分派须指定 --tier")?)?,
            assignee: assignee.to_string(),
        },
        "start" | "签收" | "开始办理" => CaseAction::StartHandling,
        "reply" | "反馈" => CaseAction::Reply {
            text: text.to_string(),
        },
        "follow-up" | "回访" => CaseAction::FollowUp {
            satisfied: satisfied.context("回访须指定 --satisfied true 或 false")?,
            note: text.to_string(),
        },
        "close" | "办结" => CaseAction::Close,
        "archive" | "归档" => CaseAction::Archive,
        "return" | "退回" => CaseAction::Return { reason },
        "extend" | "申请延期" => CaseAction::ApplyExtension { days, reason },
        "approve-extension" | "批准延期" => CaseAction::ApproveExtension,
        "deny-extension" | "驳回延期" => CaseAction::DenyExtension,
        "escalate" | "上报" => CaseAction::Escalate { reason },
        "delegate" | "下派" => CaseAction::DelegateDown {
            to_tier: parse_tier(tier.context("下派须指定 --tier")?)?,
        },
        "supervise" | "督办" => CaseAction::Supervise { note: reason },
        "remind" | "催办" => CaseAction::Remind,
        other => bail!("没有“{other}”这个操作"),
    })
}

pub async fn run_case(cmd: CaseCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    let rules = CaseRules::default();
    match cmd {
        CaseCommand::List {
            kind,
            status,
            tier,
            org,
            category,
            assignee,
            open,
            overdue,
            limit,
            who,
        } => {
            let a = actor(store, &who).await?;
            let day = today(&who);
            let query = CaseQuery {
                kind: kind
                    .map(|k| CaseKind::parse(&k).ok_or_else(|| anyhow!("没有“{k}”这个事件类型")))
                    .transpose()?,
                status: status
                    .map(|s| CaseStatus::parse(&s).ok_or_else(|| anyhow!("没有“{s}”这个状态")))
                    .transpose()?,
                tier: tier.as_deref().map(parse_tier).transpose()?,
                org: org.as_deref().map(code).transpose()?,
                category,
                assignee,
                open_only: open,
                overdue_on: overdue.then_some(day),
                limit,
                ..Default::default()
            };
            let rows: Vec<CaseRow> = store
                .cases(&a.scope, &query)
                .await?
                .into_iter()
                .map(|c| CaseRow::new(c, day))
                .collect();
            print(json, &rows, || {
                for r in &rows {
                    let c = &r.case;
                    println!(
                        "{:>6}  {}  {:<8} {:<6} {}级  {} {}  {}  {}",
                        c.id,
                        c.state.registered_on,
                        c.category_label,
                        c.state.status.label(),
                        c.state.tier.label(),
                        c.org_code,
                        c.org_name,
                        c.title,
                        r.due_label
                    );
                }
                println!("共 {} 件", rows.len());
            });
        }
        CaseCommand::Show { id, who } => {
            let a = actor(store, &who).await?;
            let d = store.case(&a.scope, id).await?;
            let row = CaseRow::new(d.case.clone(), today(&who));
            let out = serde_json::json!({ "case": row, "parties": d.parties, "events": d.events });
            print(json, &out, || {
                let c = &d.case;
                println!(
                    "{} {}（{}，{}）",
                    c.id, c.title, c.category_label, c.org_name
                );
                println!(
                    "状态：{}，承办：{}级 {}，{}",
                    c.state.status.label(),
                    c.state.tier.label(),
                    c.state.assignee.as_deref().unwrap_or("—"),
                    row.due_label
                );
                for p in &d.parties {
                    println!("当事人：{}（{}）", p.name, p.role.label());
                }
                for e in &d.events {
                    println!(
                        "  {}  {}级 {}：{}",
                        e.on_date,
                        e.actor_tier.label(),
                        e.actor_name,
                        e.description
                    );
                }
            });
        }
        CaseCommand::Categories => {
            let cats = store.case_categories().await?;
            print(json, &cats, || {
                for c in &cats {
                    let indent = if c.parent_code.is_some() { "  " } else { "" };
                    let key = if c.key_area {
                        "（八大重点领域）"
                    } else {
                        ""
                    };
                    println!("{indent}{:<28} {}{key}", c.code, c.label);
                }
            });
        }
        CaseCommand::Register {
            category,
            title,
            description,
            org,
            location,
            urgent,
            risk,
            source,
            persons,
            parties,
            who,
        } => {
            let a = actor(store, &who).await?;
            let risk = risk
                .map(|r| RiskColor::parse(&r).ok_or_else(|| anyhow!("风险等级只能是红、黄、蓝")))
                .transpose()?;
            let mut all = Vec::new();
            for p in persons {
                all.push(PartyInput {
                    person_id: Some(p),
                    name: String::new(),
                    role: PartyRole::Applicant,
                });
            }
            for n in parties {
                all.push(PartyInput {
                    person_id: None,
                    name: n,
                    role: PartyRole::Other,
                });
            }
            let c = store
                .register_case(
                    &a,
                    &rules,
                    NewCase {
                        category,
                        title,
                        description,
                        org_code: code(&org)?,
                        location,
                        urgent,
                        risk,
                        source,
                        parties: all,
                        registered_on: today(&who),
                    },
                )
                .await?;
            print(json, &c, || {
                println!(
                    "已登记第 {} 号事件（{}级），受理期限 {}",
                    c.id,
                    c.state.tier.label(),
                    c.state.acceptance_deadline
                )
            });
        }
        CaseCommand::Act {
            id,
            action,
            reason,
            text,
            tier,
            assignee,
            days,
            satisfied,
            who,
        } => {
            let a = actor(store, &who).await?;
            let act = action_from(
                &action,
                &reason,
                &text,
                tier.as_deref(),
                &assignee,
                days,
                satisfied,
            )?;
            let c = store
                .act_on_case(&a, &rules, id, &act, today(&who), None)
                .await?;
            print(json, &c, || {
                println!(
                    "第 {} 号事件：{}，现由{}级承办",
                    c.id,
                    c.state.status.label(),
                    c.state.tier.label()
                )
            });
        }
        CaseCommand::Summary { from, to, who } => {
            let a = actor(store, &who).await?;
            let s = store.resolution_summary(&a.scope, from, to).await?;
            let pct =
                |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0));
            print(json, &s, || {
                println!(
                    "{from} 至 {to} 登记并办结 {} 件：网格 {}，村 {}，乡镇 {}，县 {}；村内化解 {}，乡内化解 {}；按期办结 {}",
                    s.closed,
                    s.grid,
                    s.village,
                    s.township,
                    s.county,
                    pct(s.within_village),
                    pct(s.within_township),
                    s.on_time
                )
            });
        }
    }
    Ok(())
}

pub async fn run_key_person(
    cmd: KeyPersonCommand,
    store: &Arc<dyn Store>,
    json: bool,
) -> Result<()> {
    match cmd {
        KeyPersonCommand::List { due, cadre, who } => {
            let a = actor(store, &who).await?;
            let day = today(&who);
            let list = store
                .key_persons(
                    &a.scope,
                    &KeyPersonQuery {
                        cadre,
                        due_by: due.then_some(day),
                        ..Default::default()
                    },
                )
                .await?;
            print(json, &list, || {
                for k in &list {
                    let late = k.overdue_days(day);
                    let late = if late > 0 {
                        format!("，已超期{late}天")
                    } else {
                        String::new()
                    };
                    println!(
                        "{:>5}  {}  {}  风险{}  专人 {}  下次走访 {}{late}",
                        k.id,
                        k.name,
                        k.category_labels.join("、"),
                        k.risk,
                        k.cadre,
                        k.next_visit_on
                    );
                }
                println!("共 {} 人", list.len());
            });
        }
        KeyPersonCommand::Visit { id, note, who } => {
            let a = actor(store, &who).await?;
            let k = store.record_visit(&a, id, today(&who), &note).await?;
            print(json, &k, || {
                println!("已登记走访，下次走访 {}", k.next_visit_on)
            });
        }
    }
    Ok(())
}

pub async fn run_project(cmd: ProjectCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    let ProjectCommand::List { year, who } = cmd;
    let a = actor(store, &who).await?;
    let list = store.projects(&a.scope, year).await?;
    print(json, &list, || {
        let wan = |y: i64| format!("{:.0}万元", y as f64 / 10_000.0);
        for p in &list {
            println!(
                "{:>4}  {}  {}  {}  计划 {}  完成 {}  争资 {}  企业 {}",
                p.id,
                p.name,
                p.kind.label(),
                p.stage.label(),
                wan(p.planned_yuan),
                wan(p.completed_yuan),
                wan(p.funds_won_yuan),
                p.enterprises.len()
            );
        }
        let won: i64 = list.iter().map(|p| p.funds_won_yuan).sum();
        println!("共 {} 个项目，争取资金合计 {}", list.len(), wan(won));
    });
    Ok(())
}

pub async fn run_task(cmd: TaskCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    match cmd {
        TaskCommand::List {
            overdue,
            owner,
            who,
        } => {
            let a = actor(store, &who).await?;
            let day = today(&who);
            let list = store
                .tasks(
                    &a.scope,
                    &TaskQuery {
                        owner,
                        overdue_on: overdue.then_some(day),
                        ..Default::default()
                    },
                )
                .await?;
            print(json, &list, || {
                for t in &list {
                    let late = if t.is_overdue(day) { "，超期" } else { "" };
                    println!(
                        "{:>4}  {}  {}  责任人 {}  时限 {}  {} {}%{late}",
                        t.id,
                        t.title,
                        t.org_name,
                        t.owner,
                        t.deadline,
                        t.status.label(),
                        t.progress
                    );
                }
                println!("共 {} 项", list.len());
            });
        }
        TaskCommand::Progress {
            id,
            progress,
            note,
            who,
        } => {
            let a = actor(store, &who).await?;
            let t = store
                .report_task_progress(&a, id, today(&who), progress, &note)
                .await?;
            print(json, &t, || {
                println!(
                    "已报送：{} {}%（{}）",
                    t.title,
                    t.progress,
                    t.status.label()
                )
            });
        }
        TaskCommand::Completion { by, who } => {
            let a = actor(store, &who).await?;
            let by = match by.as_str() {
                "village" | "村" => CompletionBy::Village,
                "cadre" | "责任人" => CompletionBy::Cadre,
                other => bail!("只能按 village 或 cadre 统计，不能按“{other}”"),
            };
            let rows = store.task_completion(&a.scope, by, today(&who)).await?;
            print(json, &rows, || {
                for r in &rows {
                    let rate = r
                        .on_time_rate()
                        .map_or("—".into(), |v| format!("{:.0}%", v * 100.0));
                    println!(
                        "{}  共 {} 项，完成 {}，按期 {}，超期未完成 {}，按期完成率 {rate}",
                        r.label, r.total, r.done, r.done_on_time, r.overdue_open
                    );
                }
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_from_words() {
        assert_eq!(
            action_from("assign", "", "", Some("村"), "cadre", 0, None).unwrap(),
            CaseAction::Assign {
                to_tier: Tier::Village,
                assignee: "cadre".into()
            }
        );
        assert_eq!(
            action_from("上报", "跨村", "", None, "", 0, None).unwrap(),
            CaseAction::Escalate {
                reason: "跨村".into()
            }
        );
        assert!(action_from("assign", "", "", None, "cadre", 0, None).is_err());
        assert!(action_from("follow-up", "", "", None, "", 0, None).is_err());
        assert!(action_from("fly", "", "", None, "", 0, None).is_err());
    }
}
