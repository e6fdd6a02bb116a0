//! The demo township's registry: about 8,000 households and 26,000 people over the twelve
//! villages of 连城乡 and their grids, plus the enterprises the 2023 summary mentions (2 物流,
//! 8 建筑, 2 劳务, 1 汽车 settled in 2023) and some older ones. Deterministic (a fixed-seed
//! splitmix64), loaded through the bulk import path, once.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Result;
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use xiangzhi_domain::citizen_id::{self, CitizenId};
use xiangzhi_domain::credit_code;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::phone::Phone;
use xiangzhi_store::registry::*;
use xiangzhi_store::{Actor, Scope, Store};

/// splitmix64: tiny, fast, and the same sequence everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Common surnames of 抚州/临川, most frequent first (weights roughly follow local rolls).
const SURNAMES: &[(&str, u64)] = &[
    ("王", 60),
    ("李", 55),
    ("张", 45),
    ("刘", 45),
    ("陈", 50),
    ("黄", 40),
    ("吴", 38),
    ("徐", 30),
    ("周", 28),
    ("胡", 30),
    ("邓", 22),
    ("饶", 20),
    ("曾", 22),
    ("付", 15),
    ("罗", 18),
    ("杨", 18),
    ("章", 12),
    ("朱", 15),
    ("熊", 14),
    ("万", 12),
    ("艾", 10),
    ("危", 8),
    ("揭", 6),
    ("涂", 10),
    ("乐", 6),
    ("聂", 8),
    ("邹", 12),
    ("彭", 12),
    ("江", 10),
    ("何", 12),
    ("游", 8),
    ("谢", 12),
    ("傅", 8),
    ("魏", 8),
    ("龚", 8),
];

const MALE_CHARS: &[&str] = &[
    "建", "国", "华", "明", "伟", "强", "军", "平", "志", "勇", "文", "辉", "斌", "林", "海", "波",
    "春", "金", "水", "根", "发", "荣", "新", "德", "福", "生", "龙", "俊", "杰", "鹏", "涛", "宇",
    "浩", "晨", "轩", "博", "子", "家", "永", "小",
];
const FEMALE_CHARS: &[&str] = &[
    "秀", "英", "华", "兰", "芳", "玉", "梅", "珍", "红", "丽", "娟", "霞", "燕", "萍", "琴", "云",
    "莲", "凤", "桂", "春", "敏", "静", "婷", "雪", "欣", "怡", "琳", "萱", "雨", "佳", "梓", "涵",
    "小", "美", "慧", "晓",
];

pub fn surname(rng: &mut Rng) -> &'static str {
    let total: u64 = SURNAMES.iter().map(|(_, w)| w).sum();
    let mut x = rng.below(total);
    for (s, w) in SURNAMES {
        if x < *w {
            return s;
        }
        x -= w;
    }
    SURNAMES[0].0
}

pub fn given_name(rng: &mut Rng, male: bool) -> String {
    let chars = if male { MALE_CHARS } else { FEMALE_CHARS };
    let a = *rng.pick(chars);
    if rng.chance(25) {
        a.to_string()
    } else {
        format!("{a}{}", rng.pick(chars))
    }
}

const DISABILITY: &[&str] = &["肢体", "视力", "听力", "言语", "智力", "精神", "多重"];
const GRADES: &[&str] = &["一级", "二级", "三级", "四级"];

/// What the demo registry holds once loaded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoRegistry {
    pub households: u64,
    pub persons: u64,
    pub enterprises: u64,
    pub loaded_now: bool,
}

struct Gen {
    rng: Rng,
    seqs: HashMap<NaiveDate, u16>,
    today: NaiveDate,
    region: String,
    seq_base: u16,
}

/// Where generated people get their IDs and 户号, so that two generated registries in one
/// database never collide: the demo takes order sequences 0-249 of region 361002 and plain
/// grid-code 户号; the benchmark county takes 250-499 and a prefix.
#[derive(Debug, Clone)]
pub struct IdSpace {
    /// The six-digit county code the IDs are issued under.
    pub region: String,
    /// 0 or 250: which half of the per-date order sequences.
    pub seq_base: u16,
    /// Put before the grid code of each 户号.
    pub household_prefix: String,
    /// Members per household at most (the demo's own registry is left as it was generated).
    pub max_members: usize,
}

impl IdSpace {
    pub fn demo() -> IdSpace {
        IdSpace {
            region: "361002".into(),
            seq_base: 0,
            household_prefix: String::new(),
            max_members: usize::MAX,
        }
    }
}

impl Gen {
    fn birth(&mut self, min_age: i64, max_age: i64) -> NaiveDate {
        let days = min_age * 365 + self.rng.below(((max_age - min_age) * 365 + 1) as u64) as i64;
        self.today - Duration::days(days)
    }
    /// A valid ID in this generator's region and half of the order codes, unique in this run.
    fn id(&mut self, mut birth: NaiveDate, male: bool) -> CitizenId {
        loop {
            let seq = self.seqs.entry(birth).or_insert(0);
            if *seq < 250 {
                let s = *seq;
                *seq += 1;
                return citizen_id::generate(&self.region, birth, self.seq_base + s, male);
            }
            birth += Duration::days(1);
        }
    }
    fn phone(&mut self) -> Phone {
        let prefix = *self.rng.pick(&[
            "135", "136", "138", "139", "150", "152", "158", "159", "182", "187", "188", "191",
            "199",
        ]);
        Phone::parse(&format!("{prefix}{:08}", self.rng.below(100_000_000))).expect("valid mobile")
    }
}

/// Builds the rows; separate from loading so tests can look at them.
pub fn person_rows(
    grids: &[(DivisionCode, String)],
    target_households: u64,
    seed: u64,
) -> Vec<PersonImportRow> {
    person_rows_in(grids, target_households, seed, &IdSpace::demo())
}

/// As [`person_rows`], with IDs and 户号 from `space`.
pub fn person_rows_in(
    grids: &[(DivisionCode, String)],
    target_households: u64,
    seed: u64,
    space: &IdSpace,
) -> Vec<PersonImportRow> {
    let mut g = Gen {
        rng: Rng::new(seed),
        seqs: HashMap::new(),
        today: NaiveDate::from_ymd_opt(2023, 12, 31).expect("valid"),
        region: space.region.clone(),
        seq_base: space.seq_base,
    };
    let mut rows = Vec::with_capacity(target_households as usize * 4);
    let mut line = 1usize;
    for h in 0..target_households {
        let (grid, village_name) = &grids[(h as usize) % grids.len()];
        let household_no = format!(
            "{}{}{:04}",
            space.household_prefix,
            grid.as_str(),
            h / grids.len() as u64 + 1
        );
        let address = format!(
            "{}{}组{}号",
            village_name.trim_end_matches("委会"),
            1 + g.rng.below(12),
            1 + g.rng.below(80)
        );
        let family = surname(&mut g.rng);
        let head_male = g.rng.chance(88);
        let head_birth = g.birth(28, 82);
        let head_age = (g.today.year() - head_birth.year()) as i64;
        let mut members: Vec<(String, CitizenId, Relation, bool)> = Vec::new();
        let hid = g.id(head_birth, head_male);
        members.push((
            format!("{family}{}", given_name(&mut g.rng, head_male)),
            hid,
            Relation::Head,
            true,
        ));
        // a spouse in most households
        if g.rng.chance(80) {
            let b = head_birth + Duration::days(g.rng.below(6 * 365) as i64 - 3 * 365);
            let b = b.min(g.today - Duration::days(20 * 365));
            let s = surname(&mut g.rng);
            let id = g.id(b, !head_male);
            members.push((
                format!("{s}{}", given_name(&mut g.rng, !head_male)),
                id,
                Relation::Spouse,
                true,
            ));
        }
        // children, born when the head was 22-40
        let kids = if head_age < 30 {
            g.rng.below(2)
        } else {
            g.rng.below(3) + u64::from(g.rng.chance(30))
        };
        for _ in 0..kids {
            let age = head_age - 22 - g.rng.below(18) as i64;
            if age < 0 {
                continue;
            }
            let b = g.today - Duration::days(age * 365 + g.rng.below(364) as i64);
            let male = g.rng.chance(52);
            let id = g.id(b, male);
            members.push((
                format!("{family}{}", given_name(&mut g.rng, male)),
                id,
                Relation::Child,
                false,
            ));
        }
        // an elderly parent in some households of younger heads
        if head_age < 55 && g.rng.chance(25) {
            let b = head_birth - Duration::days((22 + g.rng.below(12) as i64) * 365);
            if b.year() > 1925 {
                let male = g.rng.chance(40);
                let name = if male {
                    format!("{family}{}", given_name(&mut g.rng, true))
                } else {
                    format!("{}{}", surname(&mut g.rng), given_name(&mut g.rng, false))
                };
                let id = g.id(b, male);
                members.push((name, id, Relation::Parent, true));
            }
        }
        // grandchildren in some households of older heads
        if head_age > 55 && g.rng.chance(40) {
            for _ in 0..1 + g.rng.below(2) {
                let b = g.birth(1, 15);
                let male = g.rng.chance(52);
                let id = g.id(b, male);
                members.push((
                    format!("{family}{}", given_name(&mut g.rng, male)),
                    id,
                    Relation::Grandchild,
                    false,
                ));
            }
        }
        members.truncate(space.max_members);
        let parents_away = g.rng.chance(12);
        for (name, id, relation, adult_rel) in members {
            let age = id.age_at(g.today).unwrap_or(0);
            let mut tags = Vec::new();
            if age >= 18 && g.rng.chance(6) {
                tags.push(PersonTag::new("党员"));
            }
            if g.rng.chance(2) {
                let category = *g.rng.pick(DISABILITY);
                let grade = *g.rng.pick(GRADES);
                tags.push(
                    PersonTag::new("残疾")
                        .with("category", category)
                        .with("grade", grade),
                );
            }
            if parents_away && age < 16 {
                tags.push(PersonTag::new("留守").with("kind", "儿童"));
            } else if parents_away && age >= 65 {
                tags.push(PersonTag::new("留守").with("kind", "老人"));
            }
            let status = if age >= 70 && g.rng.chance(3) {
                PersonStatus::Deceased
            } else if (18..40).contains(&age) && relation == Relation::Child && g.rng.chance(4) {
                PersonStatus::MovedOut
            } else {
                PersonStatus::Registered
            };
            let phone = (age >= 16 && (adult_rel || g.rng.chance(60)) && g.rng.chance(85))
                .then(|| g.phone());
            line += 1;
            rows.push(PersonImportRow {
                line,
                name,
                citizen_id: id,
                phone,
                household_no: Some(household_no.clone()),
                relation: Some(relation),
                status: Some(status),
                org_code: Some(grid.clone()),
                household_address: Some(address.clone()),
                tags: Some(tags),
            });
        }
    }
    rows
}

/// `(name, kind label, year, month, capital in 万元)`: the 2023 arrivals the summary counts,
/// then older ones.
const ENTERPRISES: &[(&str, &str, i32, u32, i64)] = &[
    ("抚州连城物流有限公司", "物流", 2023, 3, 500),
    ("江西赣东现代物流有限公司", "物流", 2023, 8, 1200),
    ("抚州临川建工集团有限公司", "建筑", 2023, 1, 5000),
    ("江西连城建筑工程有限公司", "建筑", 2023, 2, 2000),
    ("抚州恒基建设有限公司", "建筑", 2023, 4, 3000),
    ("江西鼎盛建筑劳务有限公司", "建筑", 2023, 5, 800),
    ("抚州宏达路桥工程有限公司", "建筑", 2023, 6, 6000),
    ("江西永安建设工程有限公司", "建筑", 2023, 7, 1500),
    ("抚州华宇装饰工程有限公司", "建筑", 2023, 9, 600),
    ("江西临川城建有限公司", "建筑", 2023, 11, 10000),
    ("抚州连城劳务服务有限公司", "劳务", 2023, 4, 200),
    ("江西才聚人力资源有限公司", "劳务", 2023, 10, 300),
    ("抚州驰远汽车销售服务有限公司", "汽车", 2023, 6, 1000),
    ("抚州连城竹木制品厂", "制造", 2015, 5, 150),
    ("江西绿源生态农业有限公司", "农业", 2018, 3, 500),
    ("抚州连城米业有限公司", "农业", 2012, 9, 300),
    ("临川区连城乡供销商贸有限公司", "商贸", 2010, 1, 100),
    ("江西赣抚电子科技有限公司", "制造", 2020, 7, 2000),
    ("抚州连城农机专业合作社", "农业", 2016, 4, 80),
    ("抚州悦来酒店管理有限公司", "服务", 2021, 12, 200),
];

pub fn enterprise_rows(villages: &[DivisionCode], seed: u64) -> Vec<EnterpriseImportRow> {
    const ALPHA: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut rng = Rng::new(seed ^ 0xE17E);
    let mut g = Gen {
        rng: Rng::new(seed ^ 0xFACE),
        seqs: HashMap::new(),
        today: NaiveDate::from_ymd_opt(2023, 12, 31).expect("valid"),
        region: "361002".into(),
        seq_base: 0,
    };
    ENTERPRISES
        .iter()
        .enumerate()
        .map(|(i, (name, kind, y, m, wan))| {
            let tail: String = (0..5)
                .map(|_| ALPHA[rng.below(ALPHA.len() as u64) as usize] as char)
                .collect();
            let code =
                credit_code::generate(&format!("91361002MA35{tail}")).expect("valid alphabet");
            let male = rng.chance(70);
            let contact = format!("{}{}", surname(&mut rng), given_name(&mut rng, male));
            EnterpriseImportRow {
                line: i + 2,
                enterprise: NewEnterprise {
                    name: (*name).into(),
                    credit_code: code,
                    kind: (*kind).into(),
                    registered_capital: Money::from_yuan(wan * 10_000),
                    settled_on: NaiveDate::from_ymd_opt(*y, *m, 1 + rng.below(28) as u32),
                    org_code: villages[i % villages.len()].clone(),
                    contact_name: Some(contact),
                    contact_phone: Some(g.phone()),
                },
            }
        })
        .collect()
}

/// Loads the registry once (skipped when persons exist under the township).
pub async fn load(store: &Arc<dyn Store>, township: &DivisionCode) -> Result<DemoRegistry> {
    let all = Scope::all();
    let scope = Scope::new(store.org_unit(&all, township).await?.path);
    let counts = store.registry_counts(&scope).await?;
    if counts.persons_registered > 0 {
        return Ok(DemoRegistry {
            households: counts.households_active as u64,
            persons: counts.persons_registered as u64,
            enterprises: counts.enterprises_active as u64,
            loaded_now: false,
        });
    }
    let mut grids = Vec::new();
    let mut villages = Vec::new();
    for v in store.org_children(&all, Some(township)).await? {
        villages.push(v.code.clone());
        for g in store.org_children(&all, Some(&v.code)).await? {
            grids.push((g.code, v.name.clone()));
        }
    }
    if grids.is_empty() {
        anyhow::bail!("演示乡下没有网格，无法生成人口数据");
    }
    let actor = Actor::system("demo");
    let rows = person_rows(&grids, 8_000, 2023);
    let out = store.import_persons(&actor, township, &rows, false).await?;
    if !out.issues.is_empty() {
        anyhow::bail!(
            "演示人口数据有误：{:?}",
            &out.issues[..out.issues.len().min(5)]
        );
    }
    let ent = enterprise_rows(&villages, 2023);
    let e = store
        .import_enterprises(&actor, township, &ent, false)
        .await?;
    if !e.issues.is_empty() {
        anyhow::bail!("演示企业数据有误：{:?}", e.issues);
    }
    Ok(DemoRegistry {
        households: out.summary.households_created,
        persons: out.summary.new,
        enterprises: e.summary.new,
        loaded_now: true,
    })
}
