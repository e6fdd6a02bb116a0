//! `xiangzhi bench-data --county`: a deterministic synthetic county for the benchmark, under
//! a real county code with its real townships and villages from the division files (three
//! grids added under each village). The registry comes from the demo's household generator
//! (households of 1-6 people with valid IDs, names, ages and relations), in another part of
//! the ID and 户号 space so it sits beside the demo township without colliding.
//!
//! Every file is written in an import format, so the benchmark goes through the real import
//! paths: `import persons|enterprises|enrollments|payouts|cases` and `ledger import`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;
use xiangzhi_domain::credit_code;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_exchange::Cell;
use xiangzhi_exchange::write::XlsxExport;
use xiangzhi_store::registry::{PersonImportRow, PersonStatus, PersonTag, Relation};

use crate::demo_registry::{IdSpace, Rng, given_name, person_rows_in, surname};
use crate::divisions;

/// Grid names added under every village (the demo township's names, so its grids are reused).
pub const GRID_NAMES: [&str; 3] = ["第一网格", "第二网格", "第三网格"];

/// People rows per household the generator averages (3.25): 200,000 households give about
/// 650,000 people.
#[derive(clap::Args, Debug, Clone)]
pub struct CountyArgs {
    /// 输出目录（生成 grids.csv、persons.csv、enterprises.xlsx 等）
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// 县级区划代码（6 位），如 361002（临川区）
    #[arg(long)]
    pub county: Option<String>,
    /// 户数
    #[arg(long, default_value_t = 200_000)]
    pub households: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// 区划代码目录（默认向上查找 ../shared/data/divisions-2023）
    #[arg(long)]
    pub divisions: Option<PathBuf>,
}

/// What was written, with row counts.
#[derive(Debug, Default, Serialize)]
pub struct CountySummary {
    pub county: String,
    pub townships: usize,
    pub villages: usize,
    pub grids: usize,
    pub households: u64,
    pub persons: usize,
    pub enterprises: usize,
    pub enrollments: usize,
    pub payouts: usize,
    pub ledger_entries: usize,
    pub cases: usize,
    pub files: Vec<String>,
}

struct Village {
    code: DivisionCode,
    name: String,
}

/// The county's villages (level 4 of the division files), in code order.
fn villages_of(dir: &Path, county: &DivisionCode) -> Result<(usize, Vec<Village>)> {
    let units = divisions::read_dir(dir, Some(county), |_, _| {})?;
    let townships = units
        .iter()
        .filter(|u| u.code.level() == OrgLevel::Township)
        .count();
    let mut villages: Vec<Village> = units
        .into_iter()
        .filter(|u| u.code.level() == OrgLevel::Village)
        .map(|u| Village {
            code: u.code,
            name: u.name,
        })
        .collect();
    villages.sort_by(|a, b| a.code.as_str().cmp(b.code.as_str()));
    Ok((townships, villages))
}

fn csv_file(dir: &Path, name: &str, headers: &[&str]) -> Result<csv::Writer<std::fs::File>> {
    let path = dir.join(name);
    let f = std::fs::File::create(&path).with_context(|| format!("无法创建 {}", path.display()))?;
    let mut w = csv::WriterBuilder::new()
        .buffer_capacity(1 << 20)
        .from_writer(f);
    w.write_record(headers)?;
    Ok(w)
}

/// The persons file in the import format, villages by code and grids by name.
fn write_persons(dir: &Path, rows: &[PersonImportRow]) -> Result<()> {
    let mut w = csv_file(
        dir,
        "persons.csv",
        &[
            "姓名",
            "身份证号",
            "联系电话",
            "户号",
            "与户主关系",
            "人员状态",
            "所属村",
            "所属网格",
            "家庭住址",
            "标签",
        ],
    )?;
    for r in rows {
        let grid = r.org_code.as_ref().expect("generated rows carry a grid");
        let village = &grid.as_str()[..12];
        let n: usize = grid.as_str()[12..].parse().unwrap_or(1);
        w.write_record([
            r.name.as_str(),
            r.citizen_id.as_str(),
            r.phone.as_ref().map_or("", |p| p.as_str()),
            r.household_no.as_deref().unwrap_or(""),
            r.relation.map_or("", Relation::label),
            r.status.map_or("", PersonStatus::label),
            village,
            GRID_NAMES[(n - 1) % GRID_NAMES.len()],
            r.household_address.as_deref().unwrap_or(""),
            &PersonTag::format_list(r.tags.as_deref().unwrap_or_default()),
        ])?;
    }
    w.flush()?;
    Ok(())
}

const ENTERPRISE_KINDS: &[(&str, &str, u64)] = &[
    ("物流", "物流有限公司", 10),
    ("建筑", "建筑工程有限公司", 20),
    ("劳务", "劳务服务有限公司", 10),
    ("汽车", "汽车销售服务有限公司", 5),
    ("制造", "制品有限公司", 20),
    ("商贸", "商贸有限公司", 20),
    ("农业", "农业专业合作社", 25),
    ("服务", "酒店管理有限公司", 10),
];

const SHOP_NAMES: &[&str] = &[
    "鑫源", "恒达", "宏盛", "永兴", "华顺", "兴旺", "隆丰", "金鼎", "瑞祥", "昌盛", "赣抚", "临川",
    "汝水", "文昌", "才子", "绿野", "丰禾", "禾润", "正大", "诚信",
];

/// Enterprises in the import format, as XLSX (what offices exchange) and CSV.
fn write_enterprises(dir: &Path, villages: &[Village], count: usize, seed: u64) -> Result<usize> {
    let headers = [
        "企业名称",
        "统一社会信用代码",
        "企业类型",
        "注册资本（万元）",
        "入驻日期",
        "所属村",
        "联系人",
        "联系电话",
    ];
    let mut xlsx = XlsxExport::new("企业", &headers).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut csv = csv_file(dir, "enterprises.csv", &headers)?;
    let mut rng = Rng::new(seed ^ 0xE17E_B00C);
    let total: u64 = ENTERPRISE_KINDS.iter().map(|k| k.2).sum();
    for i in 0..count {
        let v = &villages[rng.below(villages.len() as u64) as usize];
        let mut x = rng.below(total);
        let kind = ENTERPRISE_KINDS
            .iter()
            .find(|k| {
                let hit = x < k.2;
                x = x.saturating_sub(k.2);
                hit
            })
            .unwrap_or(&ENTERPRISE_KINDS[0]);
        let place = ["村民委员会", "居民委员会", "村委会", "居委会", "委会"]
            .iter()
            .find_map(|s| v.name.strip_suffix(s))
            .unwrap_or(&v.name);
        let name = format!("{place}{}{}{}", rng.pick(SHOP_NAMES), kind.1, i + 1);
        // 9 (market regulator) 1 (enterprise), the county, then a nine-digit sequence
        let first17 = format!("91{}{:09}", &v.code.as_str()[..6], 100_000_000 + i);
        let code = credit_code::generate(&first17)
            .with_context(|| format!("无法生成信用代码 {first17}"))?;
        let capital = (10 + rng.below(200) * 10).to_string();
        let settled = NaiveDate::from_ymd_opt(2005, 1, 1).expect("valid")
            + Duration::days(rng.below(6900) as i64);
        let male = rng.chance(70);
        let contact = format!("{}{}", surname(&mut rng), given_name(&mut rng, male));
        let phone = format!("139{:08}", rng.below(100_000_000));
        let settled_text = settled.to_string();
        let row: [&str; 8] = [
            &name,
            code.as_str(),
            kind.0,
            &capital,
            &settled_text,
            v.code.as_str(),
            &contact,
            &phone,
        ];
        csv.write_record(row)?;
        let cells: Vec<Cell> = row.iter().map(|s| Cell::from(*s)).collect();
        xlsx.write_row(&cells).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    csv.flush()?;
    std::fs::write(
        dir.join("enterprises.xlsx"),
        xlsx.finish().map_err(|e| anyhow::anyhow!("{e}"))?,
    )?;
    Ok(count)
}

/// Assistance programs with who they take and at what rate (percent of those eligible), the
/// monthly amount per person in yuan, and whether they pay monthly.
struct Program {
    code: &'static str,
    monthly_yuan: u32,
    monthly: bool,
    /// The category most enrollments have (the elderly subsidy's follows age).
    category: &'static str,
}

const PROGRAMS: &[Program] = &[
    Program {
        code: "min_living",
        monthly_yuan: 705,
        monthly: true,
        category: "农村低保",
    },
    Program {
        code: "near_min_living",
        monthly_yuan: 0,
        monthly: false,
        category: "",
    },
    Program {
        code: "extreme_poverty",
        monthly_yuan: 917,
        monthly: true,
        category: "生活自理",
    },
    Program {
        code: "temporary_relief",
        monthly_yuan: 0,
        monthly: false,
        category: "",
    },
    Program {
        code: "child_in_difficulty",
        monthly_yuan: 1220,
        monthly: true,
        category: "困境儿童",
    },
    Program {
        code: "disability_subsidy",
        monthly_yuan: 90,
        monthly: true,
        category: "困难残疾人生活补贴",
    },
    Program {
        code: "elderly_subsidy",
        monthly_yuan: 50,
        monthly: true,
        category: "80-89周岁",
    },
    Program {
        code: "monitoring",
        monthly_yuan: 0,
        monthly: false,
        category: "边缘易致贫户",
    },
];

/// Which program (index into [`PROGRAMS`]) a person is enrolled in, if any, at rates that
/// give about 0.15 enrollments per household (the 30,000 for 200,000).
fn program_for(rng: &mut Rng, r: &PersonImportRow, age: u32) -> Option<usize> {
    let head = r.relation == Some(Relation::Head);
    let disabled = r
        .tags
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|t| t.tag == "残疾");
    if r.status != Some(PersonStatus::Registered) {
        return None;
    }
    let roll = rng.below(1000);
    if head && roll < 45 {
        Some(0) // 低保, by household
    } else if head && roll < 55 {
        Some(1)
    } else if age >= 60 && roll < 70 {
        Some(2)
    } else if head && roll < 75 {
        Some(3)
    } else if age < 18 && roll < 90 {
        Some(4)
    } else if disabled && roll < 600 {
        Some(5)
    } else if age >= 80 && roll < 400 {
        Some(6)
    } else if head && roll < 85 {
        Some(7)
    } else {
        None
    }
}

struct Streams {
    enrollments: usize,
    payouts: usize,
}

/// Enrollments (one per enrolled person) and, for programs paid monthly, the 2023 payouts.
fn write_assistance(dir: &Path, rows: &[PersonImportRow], seed: u64) -> Result<Streams> {
    let mut e = csv_file(
        dir,
        "enrollments.csv",
        &[
            "项目",
            "身份证号",
            "户号",
            "所属网格",
            "类别",
            "纳入日期",
            "状态",
            "退出日期",
        ],
    )?;
    let mut p = csv_file(
        dir,
        "payouts.csv",
        &["项目", "期间", "身份证号", "所属网格", "金额（元）"],
    )?;
    let mut rng = Rng::new(seed ^ 0x00A5_5157);
    let today = NaiveDate::from_ymd_opt(2023, 12, 31).expect("valid");
    let mut out = Streams {
        enrollments: 0,
        payouts: 0,
    };
    for r in rows {
        let age = r.citizen_id.age_at(today).unwrap_or(0);
        let Some(i) = program_for(&mut rng, r, age) else {
            continue;
        };
        let prog = &PROGRAMS[i];
        let grid = r.org_code.as_ref().map_or("", |g| g.as_str());
        let start = NaiveDate::from_ymd_opt(2016, 1, 1).expect("valid")
            + Duration::days(rng.below(7 * 365) as i64);
        let exited = rng.chance(8);
        let exit_on = if exited {
            let days = (today - start).num_days().max(1) as u64;
            (start + Duration::days(1 + rng.below(days) as i64))
                .min(today)
                .to_string()
        } else {
            String::new()
        };
        let category = match (prog.code, age) {
            ("elderly_subsidy", 100..) => "100周岁以上",
            ("elderly_subsidy", 90..) => "90-99周岁",
            _ => prog.category,
        };
        e.write_record([
            prog.code,
            r.citizen_id.as_str(),
            r.household_no.as_deref().unwrap_or(""),
            grid,
            category,
            &start.to_string(),
            if exited { "已退出" } else { "在保" },
            &exit_on,
        ])?;
        out.enrollments += 1;
        // The demo township (连城乡) pays November and December by its own payrolls, and a
        // month already paid cannot be imported again: its payees are left to the demo.
        if !prog.monthly || exited || grid.starts_with(crate::demo::TOWNSHIP) {
            continue;
        }
        for month in 1..=12u32 {
            let first = NaiveDate::from_ymd_opt(2023, month, 1).expect("valid");
            if first < start.with_day(1).expect("valid") {
                continue;
            }
            p.write_record([
                prog.code,
                &format!("2023{month:02}"),
                r.citizen_id.as_str(),
                grid,
                &prog.monthly_yuan.to_string(),
            ])?;
            out.payouts += 1;
        }
    }
    e.flush()?;
    p.flush()?;
    Ok(out)
}

/// Yearly village ledgers of the built-in pack that the seed indicators read, written in the
/// ledger import format (`ledger import CODE FILE`): one row per village for 2022 and 2023.
/// A field is `(key, bound, per)`: a value below `bound`, or, with `per`, an output of at most
/// `bound` per cent of the field `per` (grain within the ledger's yield rule).
type YearlyField = (&'static str, u64, Option<&'static str>);
const YEARLY_LEDGERS: &[(&str, &[YearlyField])] = &[
    (
        "agri",
        &[
            ("grain_area", 6000, None),
            ("grain_output", 60, Some("grain_area")),
            ("veg_area", 800, None),
            ("veg_output", 400, Some("veg_area")),
            ("fruit_area", 300, None),
            ("fruit_output", 150, Some("fruit_area")),
            ("pigs", 2000, None),
            ("poultry", 20000, None),
        ],
    ),
    (
        "winter_crop",
        &[
            ("rape_area", 900, None),
            ("potato_area", 200, None),
            ("veg_area", 300, None),
        ],
    ),
    ("collective_income", &[("income", 80, None)]),
];

/// The columns of a built-in ledger's import file: `fixed` ones, then the fields `keys`.
fn import_headers(code: &str, fixed: &[&str], keys: &[&str]) -> Result<Vec<String>> {
    let def = crate::ledger_pack::definition(code)
        .expect("a built-in ledger")
        .context("built-in ledger")?;
    let mut headers: Vec<String> = fixed.iter().map(|h| h.to_string()).collect();
    for key in keys {
        let f = def
            .fields
            .iter()
            .find(|f| f.key == *key)
            .with_context(|| format!("{code}.{key}"))?;
        headers.push(f.header());
    }
    Ok(headers)
}

/// The path of a yearly ledger's import file, under the output directory.
pub fn yearly_ledger_file(code: &str) -> String {
    format!("ledgers/{code}.csv")
}

fn write_yearly_ledgers(dir: &Path, villages: &[Village], seed: u64) -> Result<Vec<String>> {
    use xiangzhi_intake::ledger::{COL_ORG, COL_PERIOD, COL_SUBJECT};
    let mut files = Vec::new();
    let mut rng = Rng::new(seed ^ 0x0059_EA21);
    std::fs::create_dir_all(dir.join("ledgers"))?;
    for (code, fields) in YEARLY_LEDGERS {
        let keys: Vec<&str> = fields.iter().map(|(k, _, _)| *k).collect();
        let headers = import_headers(code, &[COL_ORG, COL_PERIOD, COL_SUBJECT], &keys)?;
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let name = yearly_ledger_file(code);
        let mut w = csv_file(dir, &name, &refs)?;
        for v in villages {
            for year in ["2022", "2023"] {
                let mut row = vec![
                    v.code.as_str().to_string(),
                    year.to_string(),
                    format!("village:{}", v.code),
                ];
                let mut values: Vec<(&str, u64)> = Vec::new();
                for (key, bound, per) in *fields {
                    let value = match per.and_then(|p| values.iter().find(|(k, _)| *k == p)) {
                        Some((_, base)) => base * (1 + rng.below(*bound)) / 100,
                        None => 1 + rng.below(*bound),
                    };
                    values.push((key, value));
                    row.push(value.to_string());
                }
                w.write_record(&row)?;
            }
        }
        w.flush()?;
        files.push(name);
    }
    Ok(files)
}

/// How a generated field of a monthly ledger gets its value.
enum Gen {
    /// A day of the entry's month.
    Day,
    /// `lo..=hi`.
    Int(u64, u64),
    /// At most the value of an earlier field (整改数 ≤ 隐患数).
    AtMost(&'static str),
    /// One of these.
    Pick(&'static [&'static str]),
    /// The village's name and this.
    Named(&'static str),
}

/// The monthly "10+X" ledgers of the built-in pack whose villages file free rows (a patrol, a
/// check, a station's inspection), with how each column is filled. Only these columns are
/// written; the import leaves the others empty.
const MONTHLY_LEDGERS: &[(&str, &[(&str, Gen)])] = &[
    (
        "fishing_patrol",
        &[
            ("patrol_on", Gen::Day),
            ("water", Gen::Pick(&["东风水库", "长塘", "抚河段", "西港"])),
            ("patrollers", Gen::Int(1, 6)),
            ("km", Gen::Int(1, 30)),
            ("violations", Gen::Int(0, 2)),
        ],
    ),
    (
        "safety_check",
        &[
            (
                "place",
                Gen::Pick(&["农贸市场", "加油站", "学校食堂", "敬老院", "砖厂"]),
            ),
            ("category", Gen::Pick(&["食品安全", "消防安全", "交通安全"])),
            ("checked_on", Gen::Day),
            ("hazards", Gen::Int(0, 4)),
            ("fixed", Gen::AtMost("hazards")),
        ],
    ),
    (
        "elderly_care",
        &[
            ("center", Gen::Named("颐养之家")),
            ("served", Gen::Int(5, 60)),
            ("meals", Gen::Int(0, 1500)),
            ("visits", Gen::Int(0, 30)),
        ],
    ),
    (
        "water_ops",
        &[
            ("station", Gen::Named("供水站")),
            ("kind", Gen::Pick(&["供水站", "污水处理站"])),
            ("inspected_on", Gen::Day),
            ("running", Gen::Pick(&["是", "是", "是", "否"])),
        ],
    ),
];

/// The path of a monthly ledger's import file, under the output directory.
pub fn monthly_ledger_file(code: &str) -> String {
    format!("ledgers/monthly/{code}.csv")
}

/// `count` rows of the monthly ledgers over 2023, in their import format (one file per
/// ledger), spread over the villages, months and ledgers.
fn write_monthly_ledgers(
    dir: &Path,
    villages: &[Village],
    count: usize,
    seed: u64,
) -> Result<Vec<String>> {
    use xiangzhi_intake::ledger::{COL_ORG, COL_PERIOD};
    std::fs::create_dir_all(dir.join("ledgers/monthly"))?;
    let mut writers = Vec::new();
    let mut files = Vec::new();
    for (code, fields) in MONTHLY_LEDGERS {
        let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        let headers = import_headers(code, &[COL_ORG, COL_PERIOD], &keys)?;
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let name = monthly_ledger_file(code);
        writers.push(csv_file(dir, &name, &refs)?);
        files.push(name);
    }
    let mut rng = Rng::new(seed ^ 0x001E_D6E5);
    let mut row: Vec<String> = Vec::new();
    let mut ints: Vec<(&str, u64)> = Vec::new();
    for _ in 0..count {
        let v = &villages[rng.below(villages.len() as u64) as usize];
        let which = rng.below(MONTHLY_LEDGERS.len() as u64) as usize;
        let month = 1 + rng.below(12) as u32;
        let first = NaiveDate::from_ymd_opt(2023, month, 1).expect("valid");
        let days = if month == 12 {
            31
        } else {
            (NaiveDate::from_ymd_opt(2023, month + 1, 1).expect("valid") - first).num_days()
        };
        row.clear();
        ints.clear();
        row.push(v.code.as_str().to_string());
        row.push(format!("2023{month:02}"));
        for (key, g) in MONTHLY_LEDGERS[which].1 {
            row.push(match g {
                Gen::Day => (first + Duration::days(rng.below(days as u64) as i64)).to_string(),
                Gen::Int(lo, hi) => {
                    let n = lo + rng.below(hi - lo + 1);
                    ints.push((key, n));
                    n.to_string()
                }
                Gen::AtMost(of) => {
                    let max = ints.iter().find(|(k, _)| k == of).map_or(0, |(_, n)| *n);
                    rng.below(max + 1).to_string()
                }
                Gen::Pick(items) => rng.pick(items).to_string(),
                Gen::Named(what) => format!("{}{what}", v.name.trim_end_matches("委会")),
            });
        }
        writers[which].write_record(&row)?;
    }
    for w in &mut writers {
        w.flush()?;
    }
    Ok(files)
}

const CASE_CATEGORIES: &[(&str, u64)] = &[
    ("dispute.neighbour", 25),
    ("dispute.family", 15),
    ("dispute.land", 12),
    ("dispute.wages", 6),
    ("dispute.contract", 4),
    ("petition.land_acquisition", 3),
    ("petition.rural", 3),
    ("petition.labour", 2),
    ("complaint.complaint", 8),
    ("complaint.help", 8),
    ("complaint.inquiry", 5),
    ("incident.straw_burning", 4),
    ("incident.pollution", 2),
    ("hazard.fire", 2),
    ("hazard.building", 1),
];

/// Cases over 2023 at grid level, resolved mostly where they arose (小事不出村).
fn write_cases(dir: &Path, villages: &[Village], count: usize, seed: u64) -> Result<()> {
    let mut w = csv_file(
        dir,
        "cases.csv",
        &[
            "类别",
            "事件标题",
            "所属网格",
            "登记日期",
            "办结层级",
            "办结日期",
            "状态",
            "回访结果",
        ],
    )?;
    let mut rng = Rng::new(seed ^ 0xCA5E5);
    let total: u64 = CASE_CATEGORIES.iter().map(|c| c.1).sum();
    let jan1 = NaiveDate::from_ymd_opt(2023, 1, 1).expect("valid");
    for _ in 0..count {
        let v = &villages[rng.below(villages.len() as u64) as usize];
        let grid = v
            .code
            .grid(1 + rng.below(GRID_NAMES.len() as u64) as u16)
            .expect("grid 1-3");
        let mut x = rng.below(total);
        let cat = CASE_CATEGORIES
            .iter()
            .find(|c| {
                let hit = x < c.1;
                x = x.saturating_sub(c.1);
                hit
            })
            .map_or("dispute.other", |c| c.0);
        let opened = jan1 + Duration::days(rng.below(365) as i64);
        let (closed, tier, status) = match rng.below(100) {
            0..=54 => (Some(3), "grid", "closed"),
            55..=84 => (Some(8), "village", "closed"),
            85..=93 => (Some(20), "township", "closed"),
            94..=95 => (Some(45), "county", "closed"),
            _ => (None, "village", "in_progress"),
        };
        let answer = match (closed, rng.below(20)) {
            (None, _) => "",
            (Some(_), 0) => "不满意",
            (Some(_), _) => "满意",
        };
        let closed = closed
            .map(|d| (opened + Duration::days(d + rng.below(d as u64) as i64)).to_string())
            .unwrap_or_default();
        let what = match cat.split('.').next() {
            Some("dispute") => "矛盾纠纷",
            Some("petition") => "信访事项",
            Some("complaint") => "群众诉求",
            Some("incident") => "环境事件",
            _ => "安全隐患",
        };
        w.write_record([
            cat,
            &format!("{}{what}", v.name.trim_end_matches("委会")),
            grid.as_str(),
            &opened.to_string(),
            tier,
            &closed,
            status,
            answer,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Generates the county into `out`. Scales from `households`: enterprises 1 per 100,
/// ledger entries 10 per household, cases 1 per 4.
pub fn generate(
    out: &Path,
    county: &DivisionCode,
    households: u64,
    seed: u64,
    divisions_dir: &Path,
) -> Result<CountySummary> {
    if county.level() != OrgLevel::County {
        bail!("--county 须为 6 位县级区划代码，如 361002");
    }
    let (townships, villages) = villages_of(divisions_dir, county)?;
    if villages.is_empty() {
        bail!(
            "区划代码目录 {} 中没有 {county} 之下的村/社区",
            divisions_dir.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("无法创建 {}", out.display()))?;
    let mut grids_csv = csv_file(out, "grids.csv", &["村代码", "网格名称"])?;
    let mut grids = Vec::with_capacity(villages.len() * GRID_NAMES.len());
    for v in &villages {
        for (i, name) in GRID_NAMES.iter().enumerate() {
            grids_csv.write_record([v.code.as_str(), name])?;
            let code = v.code.grid(i as u16 + 1).expect("grid 1-3");
            grids.push((code, v.name.clone()));
        }
    }
    grids_csv.flush()?;
    let space = IdSpace {
        region: county.as_str().to_string(),
        seq_base: 250,
        household_prefix: "B".into(),
        max_members: 6,
    };
    let rows = person_rows_in(&grids, households, seed, &space);
    write_persons(out, &rows)?;
    let enterprises = (households / 100).max(1) as usize;
    write_enterprises(out, &villages, enterprises, seed)?;
    let streams = write_assistance(out, &rows, seed)?;
    let ledger_entries = households as usize * 10;
    let monthly_files = write_monthly_ledgers(out, &villages, ledger_entries, seed)?;
    let cases = (households / 4).max(1) as usize;
    write_cases(out, &villages, cases, seed)?;
    let ledger_files = write_yearly_ledgers(out, &villages, seed)?;
    let summary = CountySummary {
        county: county.as_str().to_string(),
        townships,
        villages: villages.len(),
        grids: grids.len(),
        households,
        persons: rows.len(),
        enterprises,
        enrollments: streams.enrollments,
        payouts: streams.payouts,
        ledger_entries,
        cases,
        files: [
            "grids.csv",
            "persons.csv",
            "enterprises.xlsx",
            "enterprises.csv",
            "enrollments.csv",
            "payouts.csv",
            "cases.csv",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(ledger_files)
        .chain(monthly_files)
        .collect(),
    };
    let mut f = std::fs::File::create(out.join("summary.json"))?;
    serde_json::to_writer_pretty(&mut f, &summary)?;
    f.write_all(b"\n")?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use xiangzhi_domain::citizen_id::CitizenId;

    /// Same seed, same files; every ID valid and under the county; households of 1-6 with
    /// one head; every person row names a village of the county and one of its grids.
    #[test]
    fn the_county_is_deterministic_and_valid() {
        let Some(dir) = crate::divisions::find_default_dir() else {
            eprintln!("SKIPPED: no division files (set XIANGZHI_DIVISIONS)");
            return;
        };
        let county = DivisionCode::parse("361002").unwrap();
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let s = generate(a.path(), &county, 300, 7, &dir).unwrap();
        generate(b.path(), &county, 300, 7, &dir).unwrap();
        // An XLSX carries its creation time in docProps; its CSV twin holds the same rows.
        for f in s.files.iter().filter(|f| !f.ends_with(".xlsx")) {
            assert_eq!(
                std::fs::read(a.path().join(f)).unwrap(),
                std::fs::read(b.path().join(f)).unwrap(),
                "{f} differs between runs"
            );
        }
        assert_eq!((s.townships, s.villages, s.grids), (37, 520, 1560));
        let mut rdr = csv::Reader::from_path(a.path().join("persons.csv")).unwrap();
        let mut households: HashMap<String, (usize, usize)> = HashMap::new();
        let villages: std::collections::HashSet<String> = villages_of(&dir, &county)
            .unwrap()
            .1
            .into_iter()
            .map(|v| v.code.as_str().to_string())
            .collect();
        for rec in rdr.records() {
            let rec = rec.unwrap();
            let id = CitizenId::parse(&rec[1]).unwrap();
            assert_eq!(id.region_code(), "361002");
            assert!(villages.contains(&rec[6]), "village {}", &rec[6]);
            assert!(GRID_NAMES.contains(&&rec[7]));
            let e = households.entry(rec[3].to_string()).or_default();
            e.0 += 1;
            e.1 += usize::from(&rec[4] == "户主");
        }
        assert_eq!(households.len(), 300);
        assert!(
            households
                .values()
                .all(|(n, heads)| (1..=6).contains(n) && *heads == 1)
        );
    }
}
