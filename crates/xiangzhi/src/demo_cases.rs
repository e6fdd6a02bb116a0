//! Demo cases, key persons, projects and supervised tasks for 连城乡, consistent with the 2023
//! summary: two repeat petitioners under control (重复信访对象在防控范围), petition disputes in
//! two of the 八大重点领域 under control, the 2000万元 projects settled, 跑项争资 800万,
//! 中心粮库 and 搅拌站 under construction, 贡酒 in talks, three 衔接资金项目; plus a year of
//! ordinary cases handled through the state machine by the tier that would handle them, so the
//! share resolved in the village and in the township is a figure computed from records.
//! Loading twice changes nothing (skipped when the township has cases).
//!
//! Every record goes through the store's public writes as a person at the right tier would
//! make them: the demo users where they exist (grid, cadre, clerk, admin), elsewhere one
//! grid worker and one cadre per village named after their unit.

use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate, Utc};
use serde::Serialize;
use xiangzhi_domain::case::{CaseAction, RiskColor, Tier};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;
use xiangzhi_store::case::*;
use xiangzhi_store::registry::{EnterpriseQuery, PersonQuery};
use xiangzhi_store::{Actor, OrgUnit, Scope, Store};

#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoCases {
    pub cases: u64,
    pub key_persons: u64,
    pub projects: u64,
    pub tasks: u64,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

/// A person acting at one unit: a demo user when there is one for it.
async fn actor_for(
    store: &Arc<dyn Store>,
    unit: &OrgUnit,
    role: Role,
    username: Option<&str>,
) -> Result<Actor> {
    if let Some(name) = username
        && let Some(c) = store.credentials(name).await?
    {
        return Ok(Actor {
            user_id: Some(c.user.id),
            username: c.user.username.clone(),
            role: Some(c.user.role),
            ip: None,
            scope: c.user.scope(),
        });
    }
    Ok(Actor {
        user_id: None,
        username: format!("{}{}", unit.name, role.label()),
        role: Some(role),
        ip: None,
        scope: Scope::new(unit.path.clone()),
    })
}

/// The people who handle a village's cases.
struct Village {
    unit: OrgUnit,
    grids: Vec<(OrgUnit, Actor)>,
    cadre: Actor,
}

struct Cast {
    villages: Vec<Village>,
    clerk: Actor,
    county: Actor,
    rules: CaseRules,
}

impl Cast {
    fn at<'a>(&'a self, tier: Tier, v: &'a Village, grid: usize) -> &'a Actor {
        match tier {
            Tier::Grid => &v.grids[grid].1,
            Tier::Village => &v.cadre,
            Tier::Township => &self.clerk,
            Tier::County => &self.county,
        }
    }

    async fn act(
        &self,
        store: &Arc<dyn Store>,
        actor: &Actor,
        id: i64,
        action: CaseAction,
        on: NaiveDate,
    ) -> Result<Case> {
        store
            .act_on_case(actor, &self.rules, id, &action, on, None)
            .await
            .with_context(|| format!("演示事件 {id}"))
    }

    /// Registers at the grid, takes it up tier by tier to `tier`, and (when `close`) closes
    /// it there. Returns the case id.
    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        store: &Arc<dyn Store>,
        v: &Village,
        grid: usize,
        category: &str,
        title: &str,
        on: NaiveDate,
        tier: Tier,
        close: bool,
        parties: Vec<PartyInput>,
        risk: Option<RiskColor>,
    ) -> Result<i64> {
        let reg = self.at(Tier::Grid, v, grid);
        let c = store
            .register_case(
                reg,
                &self.rules,
                NewCase {
                    category: category.into(),
                    title: title.into(),
                    description: format!("{}：{title}", v.unit.name),
                    org_code: v.grids[grid].0.code.clone(),
                    location: format!("{}{}", v.unit.name, v.grids[grid].0.name),
                    urgent: false,
                    risk,
                    source: "grid".into(),
                    parties,
                    registered_on: on,
                },
            )
            .await?;
        let id = c.id;
        self.act(store, reg, id, CaseAction::Accept, on).await?;
        let mut day = on;
        let mut at = Tier::Grid;
        while at < tier {
            let reason = match at {
                Tier::Grid => "网格调处未果，涉及村民小组之间",
                Tier::Village => "村级调处未果，涉及多个部门",
                _ => "涉法涉诉，超出乡镇职权",
            };
            day += Duration::days(1);
            self.act(
                store,
                self.at(at, v, grid),
                id,
                CaseAction::Escalate {
                    reason: reason.into(),
                },
                day,
            )
            .await?;
            at = at.up().expect("below the county");
        }
        let handler = self.at(tier, v, grid);
        self.act(
            store,
            handler,
            id,
            CaseAction::Assign {
                to_tier: tier,
                assignee: handler.username.clone(),
            },
            day,
        )
        .await?;
        self.act(store, handler, id, CaseAction::StartHandling, day)
            .await?;
        if !close {
            return Ok(id);
        }
        day += Duration::days(2);
        self.act(
            store,
            handler,
            id,
            CaseAction::Reply {
                text: "经调解，双方达成一致并已落实".into(),
            },
            day,
        )
        .await?;
        if c.kind.requires_follow_up() {
            day += Duration::days(1);
            self.act(
                store,
                handler,
                id,
                CaseAction::FollowUp {
                    satisfied: true,
                    note: "电话回访".into(),
                },
                day,
            )
            .await?;
        }
        self.act(store, handler, id, CaseAction::Close, day).await?;
        Ok(id)
    }
}

/// Ordinary cases of 2023: category, title.
const ROUTINE: &[(&str, &str)] = &[
    ("dispute.neighbour", "邻里通道纠纷"),
    ("dispute.family", "赡养老人纠纷"),
    ("dispute.land", "承包地边界纠纷"),
    ("complaint.help", "12345求助：独居老人房屋漏雨"),
    ("incident.straw_burning", "秸秆焚烧火点"),
    ("hazard.water", "山塘防溺水设施缺失"),
    ("complaint.complaint", "12345投诉：村道路灯不亮"),
    ("dispute.wages", "务工人员工资纠纷"),
    ("incident.illegal_fishing", "河道非法捕捞"),
    ("hazard.fire", "农户电线老化火灾隐患"),
];

/// Where each routine case ends up, by its running number: mostly in the grid or village,
/// some at the township, one in a dozen at the county.
fn routine_tier(i: usize) -> Tier {
    match i % 12 {
        0..=3 => Tier::Grid,
        4..=8 => Tier::Village,
        9 | 10 => Tier::Township,
        _ => Tier::County,
    }
}

pub async fn load(store: &Arc<dyn Store>, township: &DivisionCode) -> Result<DemoCases> {
    let all = Scope::all();
    let tunit = store.org_unit(&all, township).await?;
    let tscope = Scope::new(tunit.path.clone());
    let existing = store
        .cases(
            &tscope,
            &CaseQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await?;
    if !existing.is_empty() {
        return Ok(DemoCases::default());
    }
    let county_code = township.parent().context("乡镇没有上级")?;
    let county_unit = store.org_unit(&all, &county_code).await?;
    let mut villages = Vec::new();
    for unit in store.org_children(&all, Some(township)).await? {
        let mut grids = Vec::new();
        for g in store.org_children(&all, Some(&unit.code)).await? {
            let user =
                (g.code.as_str() == format!("{}001", crate::demo::TOUCHANG)).then_some("grid");
            let a = actor_for(store, &g, Role::GridWorker, user).await?;
            grids.push((g, a));
        }
        if grids.is_empty() {
            continue;
        }
        let user = (unit.code.as_str() == crate::demo::TOUCHANG).then_some("cadre");
        let cadre = actor_for(store, &unit, Role::VillageCadre, user).await?;
        villages.push(Village { unit, grids, cadre });
    }
    // 头昌村 first: the demo cadre and grid worker get key persons and petitions to follow.
    villages.sort_by_key(|v| v.unit.code.as_str() != crate::demo::TOUCHANG);
    let cast = Cast {
        villages,
        clerk: actor_for(store, &tunit, Role::TownshipClerk, Some("clerk")).await?,
        county: actor_for(store, &county_unit, Role::Admin, Some("admin")).await?,
        rules: CaseRules::default(),
    };
    let mut out = DemoCases::default();

    // A year of routine cases: four per village, spread over the months.
    let mut n = 0usize;
    for (vi, v) in cast.villages.iter().enumerate() {
        for k in 0..4 {
            let (cat, title) = ROUTINE[(vi * 4 + k) % ROUTINE.len()];
            let month = 1 + ((vi * 4 + k) % 11) as u32;
            let on = d(2023, month, 6 + (k as u32) * 5);
            cast.run(
                store,
                v,
                k % v.grids.len(),
                cat,
                title,
                on,
                routine_tier(n),
                true,
                Vec::new(),
                None,
            )
            .await?;
            n += 1;
        }
    }
    out.cases += n as u64;

    // Key persons: the two repeat petitioners and the others the summary names.
    // From the village's first grid, where its first grid worker may name them as parties.
    let pick = |v: usize, k: usize| {
        let store = store.clone();
        let code = cast.villages[v % cast.villages.len()].grids[0]
            .0
            .code
            .clone();
        async move {
            let ps = store
                .person_search(
                    &Scope::all(),
                    &PersonQuery {
                        org_code: Some(code),
                        limit: 40,
                        ..Default::default()
                    },
                )
                .await?;
            ps.get(k * 7 % ps.len().max(1))
                .map(|p| (p.id, p.name.clone()))
                .context("演示村没有人员")
        }
    };
    let today = Utc::now().date_naive();
    let kps: [(usize, usize, &str, u8, i64); 9] = [
        (0, 1, "repeat_petitioner", 3, 20),
        (1, 2, "repeat_petitioner", 3, 12),
        (0, 3, "released_prisoner", 1, 40),
        (2, 1, "released_prisoner", 1, 10),
        (3, 1, "troublemaker", 2, 25),
        (0, 4, "mental_disorder", 4, 9),
        (4, 2, "community_correction", 2, 5),
        (0, 5, "left_behind_child", 0, 35),
        (5, 1, "left_behind_elderly", 0, 3),
    ];
    let mut petitioners = Vec::new();
    for (v, k, cat, risk, ago) in kps {
        let village = &cast.villages[v % cast.villages.len()];
        let (pid, name) = pick(v, k).await?;
        let kp = store
            .add_key_person(
                &village.cadre,
                NewKeyPerson {
                    person_id: pid,
                    categories: vec![cat.into()],
                    risk,
                    cadre: village.cadre.username.clone(),
                    note: "专人对接，做好思想沟通和情绪安抚".into(),
                    since: today - Duration::days(ago + 30),
                },
            )
            .await?;
        // Visited once; some are due again by now.
        let visited = today - Duration::days(ago);
        store
            .record_visit(&village.cadre, kp.id, visited, "上门走访，情绪稳定")
            .await?;
        if cat == "repeat_petitioner" {
            petitioners.push((v, pid, name));
        }
        out.key_persons += 1;
    }

    // Petitions in two of the 八大重点领域, under control at the township (防控): open now,
    // within their time limits, and supervised.
    for (i, (cat, title)) in [
        ("petition.land_acquisition", "集镇道路拓宽征地补偿诉求"),
        ("petition.labour", "工程欠薪信访诉求"),
    ]
    .into_iter()
    .enumerate()
    {
        let (v, pid, _) = &petitioners[i % petitioners.len()];
        let village = &cast.villages[*v % cast.villages.len()];
        let on = today - Duration::days(20 - 6 * i as i64);
        let id = cast
            .run(
                store,
                village,
                0,
                cat,
                title,
                on,
                Tier::Township,
                false,
                vec![PartyInput {
                    person_id: Some(*pid),
                    name: String::new(),
                    role: PartyRole::Applicant,
                }],
                Some(RiskColor::Yellow),
            )
            .await?;
        cast.act(
            store,
            &cast.clerk,
            id,
            CaseAction::Supervise {
                note: "纳入防控范围，包案领导专人跟进".into(),
            },
            on + Duration::days(3),
        )
        .await?;
        out.cases += 1;
    }

    // Open cases of these days, for the to-do lists of the demo users.
    let touchang = cast
        .villages
        .iter()
        .find(|v| v.unit.code.as_str() == crate::demo::TOUCHANG)
        .context("演示乡没有头昌村")?;
    let recent: [(&str, &str, Tier, i64, bool); 3] = [
        ("dispute.neighbour", "宅基地滴水纠纷", Tier::Grid, 2, false),
        (
            "complaint.help",
            "12345求助：低保政策咨询",
            Tier::Village,
            1,
            false,
        ),
        (
            "hazard.building",
            "危房隐患排查发现裂缝",
            Tier::Village,
            20,
            false,
        ),
    ];
    for (cat, title, tier, ago, close) in recent {
        let on = today - Duration::days(ago);
        cast.run(
            store,
            touchang,
            0,
            cat,
            title,
            on,
            tier,
            close,
            Vec::new(),
            Some(RiskColor::Blue),
        )
        .await?;
        out.cases += 1;
    }
    store
        .register_case(
            &touchang.grids[0].1,
            &cast.rules,
            NewCase {
                category: "incident.straw_burning".into(),
                title: "田间秸秆焚烧冒烟".into(),
                description: "巡查发现一处秸秆焚烧".into(),
                org_code: touchang.grids[0].0.code.clone(),
                location: "头昌村北侧农田".into(),
                urgent: true,
                risk: Some(RiskColor::Red),
                source: "grid".into(),
                parties: Vec::new(),
                registered_on: today,
            },
        )
        .await?;
    out.cases += 1;

    // Projects and the two task forces (专班).
    let ents = store
        .enterprise_search(
            &tscope,
            &EnterpriseQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await?;
    let ent = |name: &str| ents.iter().find(|e| e.name == name).map(|e| e.id);
    let key_force = vec![
        ProjectMember {
            name: "王乡长".into(),
            duty: "组长".into(),
        },
        ProjectMember {
            name: "李办事员".into(),
            duty: "成员".into(),
        },
    ];
    let lead_force = vec![
        ProjectMember {
            name: "王乡长".into(),
            duty: "组长".into(),
        },
        ProjectMember {
            name: "招商办主任".into(),
            duty: "副组长".into(),
        },
    ];
    let wan = |w: i64| w * 10_000;
    #[allow(clippy::type_complexity)]
    let projects: Vec<(
        &str,
        ProjectKind,
        ProjectStage,
        i64,
        i64,
        i64,
        Vec<i64>,
        bool,
    )> = vec![
        (
            "连城中心粮库",
            ProjectKind::Key,
            ProjectStage::Building,
            wan(3000),
            wan(1200),
            0,
            vec![],
            true,
        ),
        (
            "商品混凝土搅拌站",
            ProjectKind::Key,
            ProjectStage::Building,
            wan(1500),
            wan(600),
            0,
            ent("江西临川城建有限公司").into_iter().collect(),
            true,
        ),
        (
            "江西连城建筑工程有限公司入驻",
            ProjectKind::InvestmentLead,
            ProjectStage::Operating,
            wan(2000),
            wan(2000),
            0,
            ent("江西连城建筑工程有限公司").into_iter().collect(),
            false,
        ),
        (
            "江西赣东现代物流有限公司入驻",
            ProjectKind::InvestmentLead,
            ProjectStage::Operating,
            wan(2000),
            wan(2000),
            0,
            ent("江西赣东现代物流有限公司").into_iter().collect(),
            false,
        ),
        (
            "贡酒酿造项目",
            ProjectKind::InvestmentLead,
            ProjectStage::Talks,
            wan(5000),
            0,
            0,
            vec![],
            false,
        ),
        (
            "高标准农田配套水利争资",
            ProjectKind::FundsWon,
            ProjectStage::Completed,
            wan(500),
            wan(500),
            wan(500),
            vec![],
            true,
        ),
        (
            "集镇农贸市场改造争资",
            ProjectKind::FundsWon,
            ProjectStage::Completed,
            wan(200),
            wan(200),
            wan(200),
            vec![],
            true,
        ),
        (
            "农村道路安全设施争资",
            ProjectKind::FundsWon,
            ProjectStage::Completed,
            wan(100),
            wan(100),
            wan(100),
            vec![],
            true,
        ),
        (
            "头昌村产业路衔接资金项目",
            ProjectKind::LinkedFunds,
            ProjectStage::Completed,
            wan(60),
            wan(60),
            0,
            vec![],
            true,
        ),
        (
            "舍头村灌溉沟渠衔接资金项目",
            ProjectKind::LinkedFunds,
            ProjectStage::Completed,
            wan(45),
            wan(45),
            0,
            vec![],
            true,
        ),
        (
            "村级光伏衔接资金项目",
            ProjectKind::LinkedFunds,
            ProjectStage::Completed,
            wan(80),
            wan(80),
            0,
            vec![],
            true,
        ),
    ];
    for (name, kind, stage, planned, done, won, enterprises, key) in projects {
        store
            .save_project(
                &cast.clerk,
                ProjectInput {
                    id: None,
                    name: name.into(),
                    kind,
                    stage,
                    org_code: township.clone(),
                    planned_yuan: planned,
                    completed_yuan: done,
                    funds_won_yuan: won,
                    year: 2023,
                    note: String::new(),
                    enterprise_ids: enterprises,
                    members: if key {
                        key_force.clone()
                    } else {
                        lead_force.clone()
                    },
                },
            )
            .await?;
        out.projects += 1;
    }

    // Supervised tasks: three per village in 2023, finished on time, late or not at all
    // depending on the village, and three open ones for 头昌村 now.
    let plans: [(&str, NaiveDate, NaiveDate); 3] = [
        ("整治问题户厕", d(2023, 3, 1), d(2023, 6, 30)),
        ("秸秆禁烧巡查", d(2023, 5, 10), d(2023, 10, 31)),
        ("冬种油菜种植落实", d(2023, 9, 1), d(2023, 11, 30)),
    ];
    for (vi, v) in cast.villages.iter().enumerate() {
        for (k, (title, from, deadline)) in plans.iter().enumerate() {
            let t = store
                .add_task(
                    &cast.clerk,
                    NewTask {
                        title: (*title).into(),
                        description: format!("{}负责落实", v.unit.name),
                        org_code: v.unit.code.clone(),
                        owner: v.cadre.username.clone(),
                        assigned_on: *from,
                        deadline: *deadline,
                    },
                )
                .await?;
            let half = *from + Duration::days(30);
            store
                .report_task_progress(&v.cadre, t.id, half, 50, "已完成一半")
                .await?;
            // Village vi finishes task k on time, late (by 10 days) or not at all.
            match (vi + k) % 5 {
                0..=2 => {
                    store
                        .report_task_progress(
                            &v.cadre,
                            t.id,
                            *deadline - Duration::days(3),
                            100,
                            "全部完成",
                        )
                        .await?;
                }
                3 => {
                    store
                        .report_task_progress(
                            &v.cadre,
                            t.id,
                            *deadline + Duration::days(10),
                            100,
                            "逾期完成",
                        )
                        .await?;
                }
                _ => {}
            }
            out.tasks += 1;
        }
    }
    for (title, due) in [
        ("防溺水隐患排查", 5),
        ("反诈宣传进村入户", 12),
        ("危房安全排查", -3),
    ] {
        store
            .add_task(
                &cast.clerk,
                NewTask {
                    title: title.into(),
                    description: "乡党委交办".into(),
                    org_code: touchang.unit.code.clone(),
                    owner: touchang.cadre.username.clone(),
                    assigned_on: today - Duration::days(20),
                    deadline: today + Duration::days(due),
                },
            )
            .await?;
        out.tasks += 1;
    }
    Ok(out)
}
