//! The demo township's assistance records, entered through the store step by step (so every
//! one has its step records and audit entries), chosen so that the 2023 summary's figures are
//! what [`figures`] computes for 连城乡, with 2021-2022 records for year-on-year comparisons:
//!
//! 新增纳入监测户3户13人; 新增城乡低保15户22人; 低保边缘家庭8户14人; 特困人员护理率100％;
//! 临时救助16户16人 2.105万元; 困境儿童82人 (事实无人抚养儿童24人); 新增办理残疾证5人;
//! 棉被84张、大衣24件.
//!
//! Households and persons come from the demo registry, picked deterministically by size and
//! age; no household is in two programs, so the cross-checks find only what is planted: one
//! 低保 household whose 2022 review was forgotten.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;
use xiangzhi_domain::assistance::{
    CHILD_IN_DIFFICULTY, DISABILITY_SUBSIDY, ELDERLY_SUBSIDY, EXTREME_POVERTY, MIN_LIVING,
    MONITORING, NEAR_MIN_LIVING, TEMPORARY_RELIEF,
};
use xiangzhi_domain::assistance_lifecycle::{
    ApplySource, Decision, EnrollmentStatus, ExitReason, StepAction,
};
use xiangzhi_domain::assistance_monitoring::{
    ChecklistItem, Measure, MeasureKind, MonitoringDetail, MonitoringType, MonthlyIncome,
    RiskCause, Visit,
};
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::role::Role;
use xiangzhi_store::assistance::*;
use xiangzhi_store::registry::*;
use xiangzhi_store::{Actor, Scope, Store};

use crate::demo_registry::Rng;

const TOUCHANG: &str = "361002201211";

/// A registered person as the picker needs them.
#[derive(Clone)]
struct Member {
    id: i64,
    birth: NaiveDate,
    tags: Vec<PersonTag>,
    org_code: DivisionCode,
}

/// Who does what: a cadre per village, the township's clerk and leader, the county.
struct Cast {
    township: Scope,
    county: Actor,
    clerk: Actor,
    leader: Actor,
}

impl Cast {
    /// The village cadre of the village above `org` (头昌村's is the demo login `cadre`).
    fn cadre(&self, org: &DivisionCode, village_path: &str) -> Actor {
        let village = &org.as_str()[..12];
        Actor {
            user_id: None,
            username: if village == TOUCHANG {
                "cadre".into()
            } else {
                format!("cadre-{}", &village[9..])
            },
            role: Some(Role::VillageCadre),
            ip: None,
            scope: Scope::new(xiangzhi_domain::org::OrgPath::from_stored(
                village_path.into(),
            )),
        }
    }
}

struct Demo<'a> {
    store: &'a Arc<dyn Store>,
    cast: Cast,
    households: Vec<(i64, Vec<Member>)>,
    used_households: HashSet<i64>,
    used_persons: HashSet<i64>,
    village_paths: BTreeMap<String, String>,
    rng: Rng,
    /// Every enrollment made, for the periodic reviews at the end.
    made: std::sync::Mutex<Vec<i64>>,
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid demo date")
}

fn yuan(n: i64) -> Money {
    Money::from_yuan(n).expect("small amount")
}

fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut a = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

impl Demo<'_> {
    fn village_path(&self, org: &DivisionCode) -> Result<&str> {
        self.village_paths
            .get(&org.as_str()[..12])
            .map(String::as_str)
            .context("演示人员不在任何村下")
    }

    /// An unused household with exactly `size` registered members.
    fn household(&mut self, size: usize) -> Result<(i64, Vec<Member>)> {
        let start = self.rng.below(self.households.len() as u64) as usize;
        for k in 0..self.households.len() {
            let (id, members) = &self.households[(start + k) % self.households.len()];
            if members.len() == size
                && !self.used_households.contains(id)
                && members.iter().all(|m| !self.used_persons.contains(&m.id))
            {
                let out = (*id, members.clone());
                self.used_households.insert(*id);
                return Ok(out);
            }
        }
        bail!("演示人口中没有足够的{size}人户")
    }

    /// An unused person, in a household no program uses, aged `ages` on `on`.
    fn person(&mut self, ages: std::ops::Range<i32>, on: NaiveDate) -> Result<(i64, Member)> {
        let start = self.rng.below(self.households.len() as u64) as usize;
        for k in 0..self.households.len() {
            let (hid, members) = &self.households[(start + k) % self.households.len()];
            if self.used_households.contains(hid) {
                continue;
            }
            if let Some(m) = members
                .iter()
                .find(|m| !self.used_persons.contains(&m.id) && ages.contains(&age_on(m.birth, on)))
            {
                let out = (*hid, m.clone());
                self.used_persons.insert(m.id);
                // Person programs share the household with nobody on a household program.
                self.used_households.insert(*hid);
                return Ok(out);
            }
        }
        bail!("演示人口中没有足够的{}-{}岁人员", ages.start, ages.end)
    }

    /// Apply on `on` and take every step to active, the way each program's roles do it.
    async fn enroll(
        &self,
        program: &str,
        household: Option<i64>,
        person: Option<i64>,
        org: &DivisionCode,
        category: &str,
        on: NaiveDate,
    ) -> Result<Enrollment> {
        let s = self.store;
        let p = s.program(program).await?;
        let cadre = self.cast.cadre(org, self.village_path(org)?);
        let e = s
            .apply(
                &cadre,
                NewEnrollment {
                    program: program.into(),
                    household_id: household,
                    person_id: person,
                    category: category.into(),
                    source: if program == MONITORING {
                        ApplySource::CadreScreening
                    } else {
                        ApplySource::Household
                    },
                    applied_on: on,
                    note: String::new(),
                },
            )
            .await?;
        self.made.lock().expect("not poisoned").push(e.id);
        let review = StepAction::VillageReview {
            decision: Decision::Approve,
            minutes: "村民代表评议会议：应到11人，实到10人，一致同意".into(),
        };
        s.enrollment_step(&cadre, e.id, &review, on + Days::new(3))
            .await?;
        let posted = on + Days::new(4);
        s.enrollment_step(&cadre, e.id, &StepAction::PublicNotice, posted)
            .await?;
        let township_day = posted + Days::new(u64::from(p.notice_days));
        let township = StepAction::TownshipReview {
            decision: Decision::Approve,
            opinion: "经入户核查、信息比对，符合条件".into(),
        };
        let e = s
            .enrollment_step(&self.cast.clerk, e.id, &township, township_day)
            .await?;
        if p.township_approves {
            return Ok(e);
        }
        let county = StepAction::CountyApproval {
            decision: Decision::Approve,
            opinion: "同意".into(),
        };
        Ok(s.enrollment_step(
            &self.cast.county,
            e.id,
            &county,
            township_day + Days::new(2),
        )
        .await?)
    }

    async fn enroll_households(
        &mut self,
        program: &str,
        category: &str,
        sizes: &[usize],
        year: i32,
    ) -> Result<Vec<Enrollment>> {
        let mut out = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let (hid, members) = self.household(*size)?;
            let month = 1 + (i as u32 * 7) % 10;
            let org = members[0].org_code.clone();
            out.push(
                self.enroll(program, Some(hid), None, &org, category, d(year, month, 6))
                    .await?,
            );
        }
        Ok(out)
    }

    async fn enroll_persons(
        &mut self,
        program: &str,
        category: &str,
        n: usize,
        ages: std::ops::Range<i32>,
        year: i32,
    ) -> Result<Vec<(Enrollment, Member)>> {
        let mut out = Vec::new();
        for i in 0..n {
            let on = d(year, 1 + (i as u32 * 5) % 10, 8);
            let (hid, m) = self.person(ages.clone(), on)?;
            let e = self
                .enroll(program, Some(hid), Some(m.id), &m.org_code, category, on)
                .await?;
            out.push((e, m));
        }
        Ok(out)
    }

    async fn exit(&self, e: &Enrollment, reason: ExitReason, on: NaiveDate) -> Result<()> {
        let cadre = self
            .cast
            .cadre(&e.org_code, self.village_path(&e.org_code)?);
        let action = StepAction::Exit {
            reason,
            note: String::new(),
        };
        self.store
            .enrollment_step(&cadre, e.id, &action, on)
            .await?;
        Ok(())
    }

    async fn review(&self, e: &Enrollment, on: NaiveDate) -> Result<()> {
        let action = StepAction::Review {
            decision: Decision::Approve,
            opinion: "复核：家庭收入仍低于标准，继续享受".into(),
        };
        self.store
            .enrollment_step(&self.cast.clerk, e.id, &action, on)
            .await?;
        Ok(())
    }

    /// A one-off relief: enrolled, then paid `amount` to one person of the household.
    async fn relief(&mut self, year: i32, amounts: &[i64]) -> Result<()> {
        for (i, a) in amounts.iter().enumerate() {
            let (hid, members) = self.household(1 + i % 3)?;
            let org = members[0].org_code.clone();
            let on = d(year, 1 + (i as u32 * 3) % 11, 12);
            let e = self
                .enroll(TEMPORARY_RELIEF, Some(hid), None, &org, "", on)
                .await?;
            let cadre = self.cast.cadre(&org, self.village_path(&org)?);
            self.store
                .record_payout(
                    &cadre,
                    NewPayout {
                        kind: PayoutKind::Cash,
                        program: TEMPORARY_RELIEF.into(),
                        enrollment_id: Some(e.id),
                        household_id: Some(hid),
                        person_id: Some(members[0].id),
                        paid_on: on + Days::new(20),
                        amount: Some(yuan(*a)),
                        item: None,
                        quantity: None,
                        note: "因病、因灾临时困难".into(),
                    },
                )
                .await?;
        }
        Ok(())
    }

    /// Cold-weather distribution: `quilts` households get a quilt, `coats` persons a coat.
    async fn warmth(&mut self, year: i32, quilts: usize, coats: usize) -> Result<()> {
        let on = d(year, 12, 18);
        for i in 0..quilts + coats {
            let (hid, members) = self.household(1 + i % 4)?;
            let org = members[0].org_code.clone();
            let cadre = self.cast.cadre(&org, self.village_path(&org)?);
            let (item, person) = if i < quilts {
                ("棉被", None)
            } else {
                ("大衣", Some(members[0].id))
            };
            self.store
                .record_payout(
                    &cadre,
                    NewPayout {
                        kind: PayoutKind::InKind,
                        program: TEMPORARY_RELIEF.into(),
                        enrollment_id: None,
                        household_id: Some(hid),
                        person_id: person,
                        paid_on: on,
                        amount: None,
                        item: Some(item.into()),
                        quantity: Some(1),
                        note: "防寒御寒送温暖".into(),
                    },
                )
                .await?;
        }
        Ok(())
    }

    /// New disability certificates: the tag with its issue year, and the living subsidy.
    async fn certificates(&mut self, year: i32, n: usize) -> Result<()> {
        for (e, m) in self
            .enroll_persons(DISABILITY_SUBSIDY, "living", n, 18..70, year)
            .await?
        {
            let mut tags: Vec<PersonTag> = m.tags.into_iter().filter(|t| t.tag != "残疾").collect();
            tags.push(
                PersonTag::new("残疾")
                    .with("category", "肢体")
                    .with("grade", "三级")
                    .with("certified", &e.applied_on.to_string()),
            );
            self.store
                .update_person(
                    &self.cast.clerk,
                    m.id,
                    PersonUpdate {
                        tags: Some(tags),
                        ..Default::default()
                    },
                )
                .await?;
        }
        Ok(())
    }

    async fn monitoring(&mut self, sizes: &[usize], year: i32) -> Result<()> {
        let causes = [
            vec![RiskCause::Illness, RiskCause::LackOfLabour],
            vec![RiskCause::Disaster],
            vec![RiskCause::Education, RiskCause::UnstableWork],
        ];
        let list = self
            .enroll_households(MONITORING, "sudden_hardship", sizes, year)
            .await?;
        for (i, e) in list.iter().enumerate() {
            let cadre = self
                .cast
                .cadre(&e.org_code, self.village_path(&e.org_code)?);
            let start = e.state.since;
            let detail = MonitoringDetail {
                kind: MonitoringType::SuddenHardship,
                causes: causes[i % causes.len()].clone(),
                measures: vec![
                    Measure {
                        kind: MeasureKind::Medical,
                        description: "大病医疗救助、慢病签约服务".into(),
                        start,
                        end: None,
                    },
                    Measure {
                        kind: MeasureKind::Employment,
                        description: "推荐到乡内物流企业务工".into(),
                        start: start + Days::new(30),
                        end: None,
                    },
                ],
                responsible: cadre.username.clone(),
                visits: vec![
                    Visit {
                        due: start + Days::new(90),
                        done_on: Some(start + Days::new(85)),
                        by: cadre.username.clone(),
                        note: "两不愁三保障均已落实".into(),
                    },
                    Visit {
                        due: d(2024, 1, 15),
                        done_on: None,
                        by: String::new(),
                        note: String::new(),
                    },
                ],
                incomes: (1..=12)
                    .map(|m| MonthlyIncome {
                        month: format!("{year}{m:02}"),
                        per_capita: yuan(450 + 30 * i64::from(m)),
                    })
                    .collect(),
                checklist: ChecklistItem::ALL[..5].to_vec(),
            };
            self.store.save_monitoring(&cadre, e.id, &detail).await?;
        }
        Ok(())
    }
}

/// Loads the assistance records once (skipped when enrollments exist under the township).
pub async fn load(store: &Arc<dyn Store>, township: &DivisionCode) -> Result<()> {
    let all = Scope::all();
    let t = store.org_unit(&all, township).await?;
    let scope = Scope::new(t.path.clone());
    let any = store
        .enrollments(
            &scope,
            &EnrollmentQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await?;
    if !any.is_empty() {
        return Ok(());
    }
    let county_code = DivisionCode::parse("361002").expect("valid");
    let county_path = store.org_unit(&all, &county_code).await?.path;
    let mut village_paths = BTreeMap::new();
    for v in store.org_children(&all, Some(township)).await? {
        if v.level == OrgLevel::Village {
            village_paths.insert(v.code.as_str().to_string(), v.path.as_str().to_string());
        }
    }
    // Every registered person, grouped by household (ordered by id: deterministic).
    let mut by_household: BTreeMap<i64, Vec<Member>> = BTreeMap::new();
    let mut after = None;
    loop {
        let page = store
            .person_search(
                &scope,
                &PersonQuery {
                    status: Some(PersonStatus::Registered),
                    after_id: after,
                    limit: 5000,
                    ..Default::default()
                },
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for p in page {
            if let Some(h) = p.household_id {
                by_household.entry(h).or_default().push(Member {
                    id: p.id,
                    birth: p.birth_date,
                    tags: p.tags,
                    org_code: p.org_code,
                });
            }
        }
    }
    let actor = |name: &str, role: Role, scope: Scope| Actor {
        user_id: None,
        username: name.into(),
        role: Some(role),
        ip: None,
        scope,
    };
    let mut demo = Demo {
        store,
        cast: Cast {
            township: scope.clone(),
            county: actor("county", Role::CountyApprover, Scope::new(county_path)),
            clerk: actor("clerk", Role::TownshipClerk, scope.clone()),
            leader: actor("leader", Role::TownshipLeader, scope.clone()),
        },
        households: by_household.into_iter().collect(),
        used_households: HashSet::new(),
        used_persons: HashSet::new(),
        village_paths,
        rng: Rng::new(0x4153_5349_5354),
        made: std::sync::Mutex::new(Vec::new()),
    };

    // 2021: the standing rolls.
    let old_min = demo
        .enroll_households(MIN_LIVING, "rural", &[1, 1, 1, 1, 1, 2, 2, 2, 2, 2], 2021)
        .await?;
    demo.enroll_persons(EXTREME_POVERTY, "partial_care", 6, 60..95, 2021)
        .await?;
    demo.enroll_persons(EXTREME_POVERTY, "full_care", 4, 60..95, 2021)
        .await?;
    demo.enroll_persons(ELDERLY_SUBSIDY, "80_89", 24, 80..90, 2021)
        .await?;

    // 2022.
    demo.monitoring(&[4, 3], 2022).await?;
    demo.enroll_households(
        MIN_LIVING,
        "rural",
        &[1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2],
        2022,
    )
    .await?;
    demo.enroll_households(NEAR_MIN_LIVING, "", &[2, 2, 2, 2, 2, 1], 2022)
        .await?;
    demo.enroll_persons(EXTREME_POVERTY, "partial_care", 3, 60..95, 2022)
        .await?;
    demo.relief(2022, &[1250; 12]).await?;
    let mut children = demo
        .enroll_persons(CHILD_IN_DIFFICULTY, "in_difficulty", 56, 3..17, 2022)
        .await?;
    demo.enroll_persons(CHILD_IN_DIFFICULTY, "de_facto_orphan", 20, 3..17, 2022)
        .await?;
    demo.certificates(2022, 3).await?;
    demo.warmth(2022, 60, 20).await?;

    // 2023: the summary's year.
    demo.monitoring(&[5, 4, 4], 2023).await?;
    demo.enroll_households(
        MIN_LIVING,
        "rural",
        &[1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2],
        2023,
    )
    .await?;
    demo.enroll_households(NEAR_MIN_LIVING, "", &[2, 2, 2, 2, 2, 2, 1, 1], 2023)
        .await?;
    demo.enroll_persons(EXTREME_POVERTY, "full_care", 2, 60..95, 2023)
        .await?;
    let mut relief = vec![1300; 14];
    relief.extend([1425, 1425]);
    demo.relief(2023, &relief).await?;
    // Six children of 2022 aged out or left; twelve new ones.
    for (e, _) in children.drain(..6) {
        demo.exit(&e, ExitReason::AgedOut, d(2023, 3, 1)).await?;
    }
    demo.enroll_persons(CHILD_IN_DIFFICULTY, "in_difficulty", 8, 3..17, 2023)
        .await?;
    demo.enroll_persons(CHILD_IN_DIFFICULTY, "de_facto_orphan", 4, 3..17, 2023)
        .await?;
    demo.certificates(2023, 5).await?;
    demo.warmth(2023, 84, 24).await?;
    // Every active enrollment reviewed when due through 2023, but for one 2021 低保
    // household whose review was forgotten (the checks find it).
    let made = demo.made.lock().expect("not poisoned").clone();
    for id in made {
        if id == old_min[0].id {
            continue;
        }
        loop {
            let e = store.enrollment(&scope, id).await?;
            let Some(due) = e.state.next_review else {
                break;
            };
            if e.state.status != EnrollmentStatus::Active || due > d(2023, 12, 31) {
                break;
            }
            demo.review(&e, due - Days::new(10)).await?;
        }
    }

    // Payrolls: November paid and reconciled, December approved and waiting for the bank.
    let clerk = &demo.cast.clerk;
    let leader = &demo.cast.leader;
    for program in [MIN_LIVING, EXTREME_POVERTY, CHILD_IN_DIFFICULTY] {
        let nov = store
            .generate_payroll(clerk, program, township, "202311")
            .await?;
        store.approve_payroll(leader, nov.id).await?;
        store.payroll_bank_lines(clerk, nov.id).await?;
        let lines = store
            .payroll_lines(&demo.cast.township, nov.id, None, 0)
            .await?;
        let outcomes: Vec<LineOutcome> = lines
            .iter()
            .map(|l| LineOutcome {
                line_id: l.id,
                status: LineStatus::Paid,
                note: String::new(),
            })
            .collect();
        store.mark_lines(clerk, nov.id, &outcomes).await?;
        store.reconcile_payroll(clerk, nov.id).await?;
        let dec = store
            .generate_payroll(clerk, program, township, "202312")
            .await?;
        store.approve_payroll(leader, dec.id).await?;
    }

    // Open work for the to-do lists: two 头昌村 applications at different steps.
    let touchang = DivisionCode::parse(TOUCHANG).expect("valid");
    let mut open = Vec::new();
    for _ in 0..2 {
        let (hid, members) = loop {
            let h = demo.household(2)?;
            if h.1[0].org_code.as_str().starts_with(TOUCHANG) {
                break h;
            }
        };
        let cadre = demo
            .cast
            .cadre(&members[0].org_code, demo.village_path(&touchang)?);
        open.push(
            store
                .apply(
                    &cadre,
                    NewEnrollment {
                        program: MIN_LIVING.into(),
                        household_id: Some(hid),
                        person_id: None,
                        category: "rural".into(),
                        source: ApplySource::Household,
                        applied_on: d(2023, 12, 20),
                        note: "家庭成员因病丧失劳动能力".into(),
                    },
                )
                .await?,
        );
    }
    let cadre = demo.cast.cadre(&touchang, demo.village_path(&touchang)?);
    store
        .enrollment_step(
            &cadre,
            open[1].id,
            &StepAction::VillageReview {
                decision: Decision::Approve,
                minutes: "村民代表评议通过".into(),
            },
            d(2023, 12, 26),
        )
        .await?;
    store
        .enrollment_step(
            &cadre,
            open[1].id,
            &StepAction::PublicNotice,
            d(2023, 12, 27),
        )
        .await?;
    Ok(())
}

/// The summary's assistance figures for `year`, computed from the records in `scope`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub year: i32,
    pub monitoring_new_households: i64,
    pub monitoring_new_persons: i64,
    pub min_living_new_households: i64,
    pub min_living_new_persons: i64,
    pub near_min_households: i64,
    pub near_min_persons: i64,
    pub extreme_poverty_persons: i64,
    pub extreme_poverty_under_care: i64,
    pub temporary_relief_households: i64,
    pub temporary_relief_persons: i64,
    pub temporary_relief_amount: Money,
    pub children: i64,
    pub de_facto_orphans: i64,
    pub new_disability_certificates: i64,
    pub quilts: i64,
    pub coats: i64,
}

impl Figures {
    /// 特困人员护理率 in percent, if there is anyone to count.
    pub fn care_rate(&self) -> Option<f64> {
        (self.extreme_poverty_persons > 0).then(|| {
            100.0 * self.extreme_poverty_under_care as f64 / self.extreme_poverty_persons as f64
        })
    }
}

async fn all_of(store: &Arc<dyn Store>, scope: &Scope, program: &str) -> Result<Vec<Enrollment>> {
    let query = EnrollmentQuery {
        program: Some(program.into()),
        ..Default::default()
    };
    Ok(xiangzhi_web::roster_file::all_enrollments(store.as_ref(), scope, &query).await?)
}

/// Approved in `year` (it has a start): new to the roll that year.
fn approved_in(e: &Enrollment, year: i32) -> bool {
    e.state.start_on.is_some()
        && e.applied_on.year() == year
        && e.state.status != EnrollmentStatus::Rejected
}

/// On the roll at the end of `year`.
fn on_roll_at_end(e: &Enrollment, year: i32) -> bool {
    let end = d(year, 12, 31);
    e.state.start_on.is_some_and(|s| s <= end) && e.state.exit_on.is_none_or(|x| x > end)
}

pub async fn figures(store: &Arc<dyn Store>, scope: &Scope, year: i32) -> Result<Figures> {
    let mut f = Figures {
        year,
        ..Default::default()
    };
    for e in all_of(store, scope, MONITORING).await? {
        if approved_in(&e, year) {
            f.monitoring_new_households += 1;
            f.monitoring_new_persons += e.members;
        }
    }
    for e in all_of(store, scope, MIN_LIVING).await? {
        if approved_in(&e, year) {
            f.min_living_new_households += 1;
            f.min_living_new_persons += e.members;
        }
    }
    for e in all_of(store, scope, NEAR_MIN_LIVING).await? {
        if approved_in(&e, year) {
            f.near_min_households += 1;
            f.near_min_persons += e.members;
        }
    }
    let extreme = store.program(EXTREME_POVERTY).await?;
    for e in all_of(store, scope, EXTREME_POVERTY).await? {
        if on_roll_at_end(&e, year) {
            f.extreme_poverty_persons += 1;
            if extreme.category(&e.category).is_some_and(|c| c.under_care) {
                f.extreme_poverty_under_care += 1;
            }
        }
    }
    for e in all_of(store, scope, CHILD_IN_DIFFICULTY).await? {
        if on_roll_at_end(&e, year) {
            f.children += 1;
            if e.category == "de_facto_orphan" {
                f.de_facto_orphans += 1;
            }
        }
    }
    for t in store.payout_totals(scope, year).await? {
        if t.program_code != TEMPORARY_RELIEF {
            continue;
        }
        match (t.kind, t.item.as_deref()) {
            (PayoutKind::Cash, _) => {
                f.temporary_relief_households += t.households;
                f.temporary_relief_persons += t.persons;
                f.temporary_relief_amount = f
                    .temporary_relief_amount
                    .checked_add(t.amount)
                    .context("金额超出范围")?;
            }
            (PayoutKind::InKind, Some("棉被")) => f.quilts += t.quantity,
            (PayoutKind::InKind, Some("大衣")) => f.coats += t.quantity,
            _ => {}
        }
    }
    let mut after = None;
    let prefix = format!("{year}-");
    loop {
        let page = store
            .person_search(
                scope,
                &PersonQuery {
                    tag: Some("残疾".into()),
                    after_id: after,
                    limit: 5000,
                    ..Default::default()
                },
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for p in page {
            let certified = p.tags.iter().any(|t| {
                t.tag == "残疾"
                    && t.detail
                        .iter()
                        .any(|(k, v)| k == "certified" && v.starts_with(&prefix))
            });
            if certified {
                f.new_disability_certificates += 1;
            }
        }
    }
    Ok(f)
}
