//! Demo entries of the built-in ledgers for 连城乡 (X乡), chosen so that aggregating them gives
//! the figures of the 2023 work summary, plus 2022 entries so that year-on-year exists.
//!
//! Totals are split over the twelve villages by fixed weights, rounded to whole units, and the
//! rounding remainder goes to the largest village, so every sum is exact. Records that point at
//! people (两癌筛查, 生育证, 独生子女) pick real registry persons of the right sex and age.
//! Loaded through `import_entries`, one audited import per ledger and year; a ledger that has
//! entries already is left alone, so loading twice changes nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Result, bail};
use chrono::{Datelike, NaiveDate};
use xiangzhi_domain::citizen_id::Sex;
use xiangzhi_domain::ledger::{FieldValue, Location, SubmissionAction, Values};
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::ledger::{EntryImportRow, EntryInput, EntryQuery};
use xiangzhi_store::registry::{Household, HouseholdQuery, Person, PersonQuery, PersonStatus};
use xiangzhi_store::{Actor, Scope, Store};

use crate::demo_registry::Rng;
use crate::ledger_pack;

/// The seed's 2023 figures (and the 2022 ones below them), in the ledgers' units.
pub mod figures {
    pub const GRAIN_AREA: [f64; 2] = [37_600.0, 36_900.0];
    pub const GRAIN_OUTPUT: [f64; 2] = [16_500.0, 16_100.0];
    pub const VEG_AREA: [f64; 2] = [8_000.0, 7_800.0];
    pub const VEG_OUTPUT: [f64; 2] = [26_000.0, 25_200.0];
    pub const FRUIT_AREA: [f64; 2] = [4_100.0, 4_000.0];
    pub const FRUIT_OUTPUT: [f64; 2] = [3_800.0, 3_650.0];
    pub const PIGS: [f64; 2] = [7_400.0, 7_100.0];
    pub const POULTRY: [f64; 2] = [116_200.0, 112_500.0];
    pub const RAPE: [f64; 2] = [5_000.0, 4_600.0];
    pub const POTATO: [f64; 2] = [300.0, 260.0];
    pub const WINTER_VEG: [f64; 2] = [1_000.0, 900.0];
    /// 万元; 头昌村 50万, every other village at least 15万.
    pub const TOUCHANG_INCOME: f64 = 50.0;
    pub const MIN_INCOME: f64 = 15.0;
    pub const FARMLAND_INVESTMENT: f64 = 15.0;
    pub const FARMLAND_CANAL_KM: f64 = 5.0;
    pub const FARMLAND_IRRIGATED: f64 = 980.0;
    pub const TOILETS: [usize; 2] = [200, 120];
    /// 元 per household: 200 × 3,750 = 75万元.
    pub const TOILET_COST: [f64; 2] = [3_750.0, 3_500.0];
    pub const SCREENED: [usize; 2] = [86, 72];
    pub const BIRTH_PERMITS: [usize; 2] = [168, 155];
    pub const ONLY_CHILD: [usize; 2] = [60, 58];
    /// 万元
    pub const CAMERAS: f64 = 13.0;
    pub const MARKET: f64 = 11.0;
    pub const SMART_SAFETY: f64 = 15.0;
}

const YEARS: [i32; 2] = [2023, 2022];

/// Village weights for farm figures (bigger villages farm more), by position in code order.
const WEIGHTS: [u64; 12] = [9, 7, 11, 8, 10, 6, 12, 9, 7, 8, 5, 8];

/// Splits `total` into whole parts by `WEIGHTS`; the remainder goes to the heaviest village.
fn split(total: f64, n: usize) -> Vec<f64> {
    let w: Vec<u64> = (0..n).map(|i| WEIGHTS[i % WEIGHTS.len()]).collect();
    let sum: u64 = w.iter().sum();
    let mut parts: Vec<f64> = w
        .iter()
        .map(|x| (total * *x as f64 / sum as f64).floor())
        .collect();
    let rest = total - parts.iter().sum::<f64>();
    let heaviest = (0..n).max_by_key(|i| w[*i]).unwrap_or(0);
    parts[heaviest] += rest;
    parts
}

fn dec(x: f64) -> FieldValue {
    FieldValue::Dec(x)
}

fn int(x: f64) -> FieldValue {
    FieldValue::Int(x as i64)
}

fn text(s: impl Into<String>) -> FieldValue {
    FieldValue::Text(s.into())
}

fn date(y: i32, m: u32, d: u32) -> FieldValue {
    FieldValue::Text(format!("{y:04}-{m:02}-{d:02}"))
}

fn values(pairs: Vec<(&str, FieldValue)>) -> Values {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

struct Village {
    code: DivisionCode,
    name: String,
}

/// Rows being collected for one import.
#[derive(Default)]
struct Batch(Vec<EntryImportRow>);

impl Batch {
    fn add(
        &mut self,
        org: &DivisionCode,
        period: &str,
        subject: Option<(String, String)>,
        v: Values,
    ) {
        let line = self.0.len() + 2;
        let (subject, subject_label) = match subject {
            Some((s, l)) => (Some(s), Some(l)),
            None => (None, None),
        };
        self.0.push(EntryImportRow {
            line,
            entry: EntryInput {
                id: None,
                org_code: org.clone(),
                period: period.to_string(),
                subject,
                subject_label,
                values: v,
            },
        });
    }
}

async fn import(store: &Arc<dyn Store>, actor: &Actor, ledger: &str, batch: Batch) -> Result<()> {
    if batch.0.is_empty() {
        return Ok(());
    }
    let out = store.import_entries(actor, ledger, &batch.0, false).await?;
    if !out.committed {
        let first = out
            .issues
            .first()
            .map(|i| format!("第{}行「{}」{}", i.line, i.column, i.reason))
            .unwrap_or_default();
        bail!("示例台账“{ledger}”导入失败：{first}");
    }
    Ok(())
}

fn village_subject(v: &Village) -> Option<(String, String)> {
    Some((format!("village:{}", v.code), v.name.clone()))
}

fn age_on(birth: NaiveDate, day: NaiveDate) -> i32 {
    let mut a = day.year() - birth.year();
    if (day.month(), day.day()) < (birth.month(), birth.day()) {
        a -= 1;
    }
    a
}

/// The village a record's unit lies in (a grid's first twelve digits).
fn village_of(code: &DivisionCode) -> Option<DivisionCode> {
    DivisionCode::parse(code.as_str().get(..12)?).ok()
}

/// Registered people of a sex whose age at mid-year lies in `ages`, taken round-robin over the
/// villages so that every village has some.
fn pick_people(
    by_village: &[Vec<Person>],
    sex: Sex,
    ages: std::ops::RangeInclusive<i32>,
    year: i32,
    count: usize,
    skip: &mut std::collections::HashSet<i64>,
    rng: &mut Rng,
) -> Vec<Person> {
    let mid = NaiveDate::from_ymd_opt(year, 7, 1).expect("valid");
    let mut pools: Vec<Vec<&Person>> = by_village
        .iter()
        .map(|ps| {
            ps.iter()
                .filter(|p| {
                    p.sex == sex
                        && p.status == PersonStatus::Registered
                        && ages.contains(&age_on(p.birth_date, mid))
                        && !skip.contains(&p.id)
                })
                .collect()
        })
        .collect();
    let mut out = Vec::new();
    let mut i = rng.below(pools.len().max(1) as u64) as usize;
    while out.len() < count && pools.iter().any(|p| !p.is_empty()) {
        let pool = &mut pools[i % by_village.len()];
        if !pool.is_empty() {
            let k = rng.below(pool.len() as u64) as usize;
            let p = pool.swap_remove(k);
            skip.insert(p.id);
            out.push(p.clone());
        }
        i += 1;
    }
    out
}

/// One entry per person, filled by the person's village.
fn person_rows(people: Vec<Person>, year: i32, each: impl Fn(usize, &Person) -> Values) -> Batch {
    let mut b = Batch::default();
    for (k, p) in people.iter().enumerate() {
        if let Some(village) = village_of(&p.org_code) {
            b.add(&village, &year.to_string(), None, each(k, p));
        }
    }
    b
}

/// Defines the built-in pack and loads the demo entries under `township`.
pub async fn load(store: &Arc<dyn Store>, township: &DivisionCode) -> Result<()> {
    let actor = Actor::system("demo");
    for def in ledger_pack::definitions()? {
        store.define_ledger(&actor, &def).await?;
    }
    let all = Scope::all();
    let villages: Vec<Village> = store
        .org_children(&all, Some(township))
        .await?
        .into_iter()
        .filter(|u| u.is_active())
        .map(|u| Village {
            code: u.code,
            name: u.name,
        })
        .collect();
    if villages.is_empty() {
        bail!("{township} 下没有村，无法生成示例台账");
    }
    let has_entries = |code: &'static str| {
        let store = store.clone();
        async move {
            let q = EntryQuery {
                limit: 1,
                ..Default::default()
            };
            store
                .entries(&Scope::all(), code, &q)
                .await
                .map(|e| !e.is_empty())
        }
    };
    let touchang = villages
        .iter()
        .position(|v| v.name.starts_with("头昌"))
        .unwrap_or(0);
    let shetou = villages
        .iter()
        .position(|v| v.name.starts_with("舍头"))
        .unwrap_or(0);
    let n = villages.len();

    if !has_entries("agri").await? {
        for (i, year) in YEARS.into_iter().enumerate() {
            use figures::*;
            let cols = [
                ("grain_area", split(GRAIN_AREA[i], n)),
                ("grain_output", split(GRAIN_OUTPUT[i], n)),
                ("veg_area", split(VEG_AREA[i], n)),
                ("veg_output", split(VEG_OUTPUT[i], n)),
                ("fruit_area", split(FRUIT_AREA[i], n)),
                ("fruit_output", split(FRUIT_OUTPUT[i], n)),
                ("pigs", split(PIGS[i], n)),
                ("poultry", split(POULTRY[i], n)),
            ];
            let mut b = Batch::default();
            for (k, v) in villages.iter().enumerate() {
                let vals: Values = cols
                    .iter()
                    .map(|(key, parts)| {
                        let x = parts[k];
                        let val = if matches!(*key, "pigs" | "poultry") {
                            int(x)
                        } else {
                            dec(x)
                        };
                        (key.to_string(), val)
                    })
                    .collect();
                b.add(&v.code, &year.to_string(), village_subject(v), vals);
            }
            import(store, &actor, "agri", b).await?;
        }
        // The 2023 figures were reported and checked: submitted and approved by the township.
        for v in &villages {
            for a in [SubmissionAction::Submit, SubmissionAction::Approve] {
                store
                    .submission_action(&actor, "agri", &v.code, "2023", a, "")
                    .await?;
            }
        }
    }

    if !has_entries("winter_crop").await? {
        for (i, year) in YEARS.into_iter().enumerate() {
            use figures::*;
            let (rape, potato, veg) = (
                split(RAPE[i], n),
                split(POTATO[i], n),
                split(WINTER_VEG[i], n),
            );
            let mut b = Batch::default();
            for (k, v) in villages.iter().enumerate() {
                b.add(
                    &v.code,
                    &year.to_string(),
                    village_subject(v),
                    values(vec![
                        ("rape_area", dec(rape[k])),
                        ("potato_area", dec(potato[k])),
                        ("veg_area", dec(veg[k])),
                        ("party_contracted", FieldValue::Bool(k % 3 == 0)),
                        ("big_growers", int((2 + k % 4) as f64)),
                    ]),
                );
            }
            import(store, &actor, "winter_crop", b).await?;
        }
    }

    if !has_entries("collective_income").await? {
        for (i, year) in YEARS.into_iter().enumerate() {
            let mut b = Batch::default();
            for (k, v) in villages.iter().enumerate() {
                let income = if k == touchang {
                    if i == 0 {
                        figures::TOUCHANG_INCOME
                    } else {
                        42.0
                    }
                } else if i == 0 {
                    figures::MIN_INCOME + 0.6 + (k * 7 % 11) as f64 * 0.8
                } else {
                    11.5 + (k * 7 % 11) as f64 * 0.7
                };
                let sources = match k % 3 {
                    0 => vec!["土地流转", "引入企业"],
                    1 => vec!["土地出租"],
                    _ => vec!["土地流转", "土地出租", "物业经营"],
                };
                b.add(
                    &v.code,
                    &year.to_string(),
                    village_subject(v),
                    values(vec![
                        ("income", dec((income * 100.0).round() / 100.0)),
                        (
                            "sources",
                            FieldValue::Many(sources.into_iter().map(String::from).collect()),
                        ),
                    ]),
                );
            }
            import(store, &actor, "collective_income", b).await?;
        }
    }

    if !has_entries("farmland_fix").await? {
        let mut b = Batch::default();
        let s = &villages[shetou];
        b.add(
            &s.code,
            "2023",
            None,
            values(vec![
                (
                    "project",
                    text(format!("{}沟渠整改", s.name.trim_end_matches("委会"))),
                ),
                ("investment", dec(figures::FARMLAND_INVESTMENT)),
                ("canal_km", dec(figures::FARMLAND_CANAL_KM)),
                ("irrigated_area", dec(figures::FARMLAND_IRRIGATED)),
                ("completed_on", date(2023, 11, 20)),
            ]),
        );
        import(store, &actor, "farmland_fix", b).await?;
        let mut b = Batch::default();
        let o = &villages[(shetou + 3) % n];
        b.add(
            &o.code,
            "2022",
            None,
            values(vec![
                ("project", text("机耕道及灌溉渠修复")),
                ("investment", dec(8.0)),
                ("canal_km", dec(2.5)),
                ("irrigated_area", dec(500.0)),
                ("completed_on", date(2022, 12, 5)),
            ]),
        );
        import(store, &actor, "farmland_fix", b).await?;
    }

    if !has_entries("town_improvement").await? {
        for (year, items) in [
            (
                "2023",
                vec![
                    (
                        "集镇违法违章监控摄像头及道路标识",
                        "监控摄像头",
                        figures::CAMERAS,
                        (2023, 6, 30),
                    ),
                    (
                        "农贸市场维修和街道场地硬化",
                        "市场维修",
                        figures::MARKET,
                        (2023, 9, 15),
                    ),
                    (
                        "智慧平安创建中心（四室一中心）",
                        "智慧平安中心",
                        figures::SMART_SAFETY,
                        (2023, 12, 10),
                    ),
                ],
            ),
            (
                "2022",
                vec![("集镇道路标识标线", "道路标识", 6.0, (2022, 8, 1))],
            ),
        ] {
            let mut b = Batch::default();
            for (item, cat, inv, (y, m, d)) in items {
                b.add(
                    township,
                    year,
                    None,
                    values(vec![
                        ("item", text(item)),
                        ("category", text(cat)),
                        ("investment", dec(inv)),
                        ("completed_on", date(y, m, d)),
                    ]),
                );
            }
            import(store, &actor, "town_improvement", b).await?;
        }
    }

    // Ledgers about households and people need the registry.
    let mut rng = Rng::new(0x7A1_2023);
    if !has_entries("toilet").await? {
        let mut households: Vec<Vec<Household>> = Vec::new();
        for v in &villages {
            households.push(
                store
                    .household_search(
                        &all,
                        &HouseholdQuery {
                            org_code: Some(v.code.clone()),
                            limit: 5000,
                            ..Default::default()
                        },
                    )
                    .await?,
            );
        }
        let problems = ["化粪池渗漏", "无冲水设施", "厕屋破损", "粪污未处理"];
        let mut used = std::collections::HashSet::new();
        for (i, year) in YEARS.into_iter().enumerate() {
            let mut b = Batch::default();
            let mut k = 0usize;
            while b.0.len() < figures::TOILETS[i] {
                let pool = &households[k % n];
                k += 1;
                if k > figures::TOILETS[i] * n * 4 {
                    bail!("示例户籍中的家庭户不足，无法生成户厕整治台账");
                }
                let Some(h) = pool.get(rng.below(pool.len().max(1) as u64) as usize) else {
                    continue;
                };
                if !used.insert(h.id) {
                    continue;
                }
                let Some(village) = village_of(&h.org_code) else {
                    continue;
                };
                let label = format!(
                    "{}（{}）",
                    h.head_name.clone().unwrap_or_default(),
                    h.household_no
                );
                b.add(
                    &village,
                    &year.to_string(),
                    Some((format!("household:{}", h.id), label)),
                    values(vec![
                        ("problem", text(*rng.pick(&problems))),
                        ("fixed", FieldValue::Bool(true)),
                        ("investment", dec(figures::TOILET_COST[i])),
                        (
                            "fixed_on",
                            date(year, 4 + rng.below(8) as u32, 1 + rng.below(28) as u32),
                        ),
                    ]),
                );
            }
            import(store, &actor, "toilet", b).await?;
        }
    }

    let need_people = !has_entries("cancer_screening").await?
        || !has_entries("birth_permit").await?
        || !has_entries("only_child").await?;
    if need_people {
        let mut by_village: Vec<Vec<Person>> = Vec::new();
        for v in &villages {
            let mut ps = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .person_search(
                        &all,
                        &PersonQuery {
                            org_code: Some(v.code.clone()),
                            after_id: after,
                            limit: 5000,
                            ..Default::default()
                        },
                    )
                    .await?;
                after = page.last().map(|p| p.id);
                let done = page.len() < 5000;
                ps.extend(page);
                if done {
                    break;
                }
            }
            by_village.push(ps);
        }
        let mut skip = std::collections::HashSet::new();
        if !has_entries("cancer_screening").await? {
            for (i, year) in YEARS.into_iter().enumerate() {
                let people = pick_people(
                    &by_village,
                    Sex::Female,
                    35..=64,
                    year,
                    figures::SCREENED[i],
                    &mut skip,
                    &mut rng,
                );
                let b = person_rows(people, year, |k, p| {
                    values(vec![
                        ("person", FieldValue::Int(p.id)),
                        (
                            "screened_on",
                            date(year, 5 + (k % 6) as u32, 1 + (k % 27) as u32),
                        ),
                        ("cervical", FieldValue::Bool(true)),
                        ("breast", FieldValue::Bool(true)),
                        (
                            "result",
                            text(if k % 23 == 5 {
                                "需复查"
                            } else {
                                "未见异常"
                            }),
                        ),
                    ])
                });
                import(store, &actor, "cancer_screening", b).await?;
            }
        }
        if !has_entries("birth_permit").await? {
            for (i, year) in YEARS.into_iter().enumerate() {
                let people = pick_people(
                    &by_village,
                    Sex::Female,
                    20..=40,
                    year,
                    figures::BIRTH_PERMITS[i],
                    &mut skip,
                    &mut rng,
                );
                let b = person_rows(people, year, |k, p| {
                    values(vec![
                        ("person", FieldValue::Int(p.id)),
                        ("permit_no", text(format!("临川{year}{:04}", k + 1))),
                        (
                            "issued_on",
                            date(year, 1 + (k % 12) as u32, 1 + (k % 27) as u32),
                        ),
                        (
                            "child_order",
                            text(["一孩", "二孩", "三孩"][(k + p.id as usize) % 3]),
                        ),
                    ])
                });
                import(store, &actor, "birth_permit", b).await?;
            }
        }
        if !has_entries("only_child").await? {
            // The same parents receive it each year: 2022's are the first of 2023's.
            let parents = pick_people(
                &by_village,
                Sex::Male,
                45..=70,
                2023,
                figures::ONLY_CHILD[0],
                &mut skip,
                &mut rng,
            );
            for (i, year) in YEARS.into_iter().enumerate() {
                let people: Vec<Person> = parents
                    .iter()
                    .take(figures::ONLY_CHILD[i])
                    .cloned()
                    .collect();
                let b = person_rows(people, year, |_, p| {
                    values(vec![
                        ("person", FieldValue::Int(p.id)),
                        ("amount", dec(960.0)),
                        ("paid", FieldValue::Bool(true)),
                    ])
                });
                import(store, &actor, "only_child", b).await?;
            }
        }
    }

    monthly(store, &actor, township, &villages, &mut rng).await
}

/// The monthly ledgers of 2023: 反诈宣传 for every village and month, 环境卫生考核 scores, and a
/// few records of each of the others.
async fn monthly(
    store: &Arc<dyn Store>,
    actor: &Actor,
    township: &DivisionCode,
    villages: &[Village],
    rng: &mut Rng,
) -> Result<()> {
    let has = |code: &'static str| {
        let store = store.clone();
        async move {
            let q = EntryQuery {
                limit: 1,
                ..Default::default()
            };
            store
                .entries(&Scope::all(), code, &q)
                .await
                .map(|e| !e.is_empty())
        }
    };
    if !has("anti_fraud").await? {
        let mut b = Batch::default();
        for m in 1..=12u32 {
            for v in villages {
                let sessions = (2 + rng.below(4)) as f64;
                b.add(
                    &v.code,
                    &format!("2023{m:02}"),
                    village_subject(v),
                    values(vec![
                        ("sessions", int(sessions)),
                        ("people", int(sessions * (40 + rng.below(60)) as f64)),
                        ("flyers", int((100 + rng.below(200)) as f64)),
                        ("app_installs", int((10 + rng.below(40)) as f64)),
                        (
                            "forms",
                            FieldValue::Many(vec!["入户宣传".into(), "微信群".into()]),
                        ),
                    ]),
                );
            }
        }
        import(store, actor, "anti_fraud", b).await?;
    }
    if !has("sanitation_score").await? {
        let mut b = Batch::default();
        for m in 1..=12u32 {
            for v in villages {
                let score = 80.0 + rng.below(190) as f64 / 10.0;
                b.add(
                    township,
                    &format!("2023{m:02}"),
                    village_subject(v),
                    values(vec![("score", dec(score))]),
                );
            }
        }
        import(store, actor, "sanitation_score", b).await?;
    }
    if !has("school_safety").await? {
        let mut b = Batch::default();
        for (k, school) in ["中心小学", "中心幼儿园", "初级中学"].iter().enumerate() {
            for m in [3u32, 6, 9, 12] {
                let hazards = (k as u32 + m) % 3;
                b.add(
                    township,
                    &format!("2023{m:02}"),
                    None,
                    values(vec![
                        ("school", text(*school)),
                        ("checked_on", date(2023, m, 10 + k as u32)),
                        (
                            "items",
                            FieldValue::Many(vec![
                                "风险水域".into(),
                                "校舍安全".into(),
                                "防溺水宣传".into(),
                            ]),
                        ),
                        ("hazards", int(f64::from(hazards))),
                        ("fixed", int(f64::from(hazards))),
                    ]),
                );
            }
        }
        import(store, actor, "school_safety", b).await?;
    }
    if !has("straw_fire").await? {
        let mut b = Batch::default();
        for (k, v) in villages.iter().enumerate().filter(|(k, _)| k % 4 == 1) {
            let day = 3 + k as u32;
            b.add(
                &v.code,
                "202310",
                None,
                values(vec![
                    ("found_on", date(2023, 10, day)),
                    (
                        "place",
                        FieldValue::Location(Location {
                            address: format!("{}村北田块", v.name.trim_end_matches("村委会")),
                            lat: None,
                            lon: None,
                        }),
                    ),
                    ("handled", FieldValue::Bool(true)),
                    ("handled_on", date(2023, 10, day)),
                    ("penalty", dec(200.0)),
                ]),
            );
        }
        import(store, actor, "straw_fire", b).await?;
    }
    if !has("fishing_patrol").await? {
        let mut b = Batch::default();
        for (k, v) in villages.iter().enumerate().take(6) {
            for m in [4u32, 7, 10] {
                b.add(
                    &v.code,
                    &format!("2023{m:02}"),
                    None,
                    values(vec![
                        ("patrol_on", date(2023, m, 5 + k as u32)),
                        ("water", text("抚河支流")),
                        ("patrollers", int(3.0)),
                        ("km", dec(6.5)),
                        ("violations", int(0.0)),
                    ]),
                );
            }
        }
        import(store, actor, "fishing_patrol", b).await?;
    }
    if !has("safety_check").await? {
        let mut b = Batch::default();
        let cats = [
            ("食品安全", "集镇餐饮店"),
            ("消防安全", "村级活动中心"),
            ("交通安全", "村道路口"),
        ];
        for (k, v) in villages.iter().enumerate() {
            let (cat, place) = cats[k % 3];
            b.add(
                &v.code,
                "202306",
                None,
                values(vec![
                    ("place", text(place)),
                    ("category", text(cat)),
                    ("checked_on", date(2023, 6, 12)),
                    ("hazards", int((k % 3) as f64)),
                    ("fixed", int((k % 3) as f64)),
                ]),
            );
        }
        import(store, actor, "safety_check", b).await?;
    }
    if !has("elderly_care").await? {
        let mut b = Batch::default();
        for v in villages.iter().take(4) {
            for m in 1..=12u32 {
                b.add(
                    &v.code,
                    &format!("2023{m:02}"),
                    None,
                    values(vec![
                        ("center", text("村居家养老服务站")),
                        ("served", int((60 + rng.below(60)) as f64)),
                        ("meals", int((200 + rng.below(200)) as f64)),
                        ("visits", int((8 + rng.below(10)) as f64)),
                    ]),
                );
            }
        }
        import(store, actor, "elderly_care", b).await?;
    }
    if !has("water_ops").await? {
        let mut b = Batch::default();
        let mut stations: BTreeMap<usize, (&str, &str)> = BTreeMap::new();
        stations.insert(0, ("集镇水厂", "供水站"));
        stations.insert(1, ("集镇污水处理站", "污水处理站"));
        for (k, (name, kind)) in &stations {
            for m in 1..=12u32 {
                b.add(
                    &villages[*k].code,
                    &format!("2023{m:02}"),
                    None,
                    values(vec![
                        ("station", text(*name)),
                        ("kind", text(*kind)),
                        ("inspected_on", date(2023, m, 8)),
                        ("running", FieldValue::Bool(m != 7)),
                        (
                            "issue",
                            text(if m == 7 {
                                "水泵故障，已更换"
                            } else {
                                ""
                            }),
                        ),
                    ])
                    .into_iter()
                    .filter(|(_, v)| *v != text(""))
                    .collect(),
                );
            }
        }
        import(store, actor, "water_ops", b).await?;
    }
    Ok(())
}
