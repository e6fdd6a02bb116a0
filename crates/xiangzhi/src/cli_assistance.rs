//! `xiangzhi roster …`, `xiangzhi payroll …`, `xiangzhi check run`: assistance rosters, monthly
//! payrolls with their bank file, the cross-checks, and the payroll benchmark.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Subcommand;
use xiangzhi_domain::assistance_lifecycle::EnrollmentStatus;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_store::assistance::{BankLine, CheckOptions, Enrollment, EnrollmentQuery, Payroll};
use xiangzhi_store::{Actor, AssistanceStore, NewOrgUnit, Scope, Store};

#[derive(Subcommand)]
pub enum RosterCommand {
    /// 列出某项目的名单
    List {
        /// 项目代码：min_living、near_min_living、extreme_poverty、temporary_relief、
        /// child_in_difficulty、disability_subsidy、elderly_subsidy、monitoring
        program: String,
        #[arg(long)]
        org: Option<String>,
        /// 状态：applied、public_notice、active、exited… 或中文
        #[arg(long)]
        status: Option<String>,
        /// 只列该年申请的
        #[arg(long)]
        year: Option<i32>,
    },
    /// 民生保障年度数字（工作总结用），由记录算出
    Figures {
        #[arg(long, default_value_t = 2023)]
        year: i32,
        #[arg(long, default_value = "361002201")]
        org: String,
    },
    /// 导出某项目的名单 XLSX（不含身份证号、电话）
    Export {
        program: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        status: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum PayrollCommand {
    /// 按在保名单和发放标准生成某单位某月的发放表
    Generate {
        program: String,
        #[arg(long)]
        org: String,
        /// 月份，如 202305
        #[arg(long)]
        period: String,
    },
    /// 列出发放表
    List {
        #[arg(long)]
        program: Option<String>,
    },
    /// 审批发放表
    Approve { id: i64 },
    /// 导出银行代发文件 XLSX（含完整身份证号，记入审计日志）
    Export {
        id: i64,
        #[arg(long)]
        out: PathBuf,
    },
    /// 基准测试：在临时 SQLite 库中生成在保户，计时生成发放表并导出银行文件
    Bench {
        #[arg(long, default_value_t = 30_000)]
        enrollments: u64,
        /// 数据库文件（默认临时目录）；已存在则复用其中的数据
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum CheckCommand {
    /// 运行全部核查：死亡迁出仍发放、互斥项目、重复发放、经营企业、跨辖区领取、超期未复核
    Run {
        /// 只查该单位及以下
        #[arg(long)]
        org: Option<String>,
        /// 只查该月的发放表，如 202305
        #[arg(long)]
        period: Option<String>,
        /// 企业注册资本超过此数（万元）即提示
        #[arg(long, default_value_t = 50)]
        capital_wan: i64,
        /// 以该日判断是否超期复核（默认今天）
        #[arg(long)]
        today: Option<NaiveDate>,
    },
}

fn code(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| anyhow::anyhow!("{e}"))
}

fn status(s: Option<String>) -> Result<Option<EnrollmentStatus>> {
    s.map(|s| {
        EnrollmentStatus::parse(&s).with_context(|| {
            let all: Vec<&str> = EnrollmentStatus::ALL.iter().map(|s| s.as_str()).collect();
            format!("状态“{s}”无效，应为：{}", all.join("、"))
        })
    })
    .transpose()
}

async fn scope_of(store: &Arc<dyn Store>, org: Option<&str>) -> Result<Scope> {
    Ok(match org {
        Some(o) => Scope::new(store.org_unit(&Scope::all(), &code(o)?).await?.path),
        None => Scope::all(),
    })
}

/// Every enrollment matching, paged through the store.
async fn roster(
    store: &Arc<dyn Store>,
    program: &str,
    org: Option<String>,
    status: Option<EnrollmentStatus>,
    year: Option<i32>,
) -> Result<Vec<Enrollment>> {
    store
        .program(program)
        .await
        .with_context(|| format!("没有代码为“{program}”的救助项目"))?;
    let query = EnrollmentQuery {
        program: Some(program.to_string()),
        org: org.map(|o| code(&o)).transpose()?,
        status,
        applied_year: year,
        ..Default::default()
    };
    Ok(xiangzhi_web::roster_file::all_enrollments(store.as_ref(), &Scope::all(), &query).await?)
}

/// The roster as XLSX: no ID, no phone (the roster page downloads the same).
pub fn roster_xlsx(rows: &[Enrollment]) -> Result<Vec<u8>> {
    Ok(xiangzhi_web::roster_file::roster_xlsx(rows)?)
}

/// The bank's payment file, as the payroll page downloads it.
pub fn bank_xlsx(payroll: &Payroll, lines: &[BankLine]) -> Result<Vec<u8>> {
    Ok(xiangzhi_web::bank_file::bank_xlsx(payroll, lines)?)
}

pub async fn roster_cmd(cmd: RosterCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    match cmd {
        RosterCommand::List {
            program,
            org,
            status: s,
            year,
        } => {
            let rows = roster(store, &program, org, status(s)?, year).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for e in &rows {
                    println!(
                        "{}\t{}\t{}\t{}人\t{}\t{}\t{}",
                        e.id,
                        e.subject_name,
                        e.category_label,
                        e.members,
                        e.org_name,
                        e.state.status.label(),
                        e.applied_on
                    );
                }
                println!("共 {} 条", rows.len());
            }
        }
        RosterCommand::Figures { year, org } => {
            let scope = scope_of(store, Some(&org)).await?;
            let f = crate::demo_assistance::figures(store, &scope, year).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                println!(
                    "{year}年：新增纳入监测户{}户{}人；新增城乡低保{}户{}人；低保边缘家庭{}户{}人；特困人员{}人，护理率{}；临时救助{}户{}人，{}万元；困境儿童{}人（事实无人抚养儿童{}人）；新增办理残疾证{}人；棉被{}张、大衣{}件",
                    f.monitoring_new_households,
                    f.monitoring_new_persons,
                    f.min_living_new_households,
                    f.min_living_new_persons,
                    f.near_min_households,
                    f.near_min_persons,
                    f.extreme_poverty_persons,
                    f.care_rate().map_or("—".into(), |r| format!("{r:.0}％")),
                    f.temporary_relief_households,
                    f.temporary_relief_persons,
                    f.temporary_relief_amount.to_wan(3),
                    f.children,
                    f.de_facto_orphans,
                    f.new_disability_certificates,
                    f.quilts,
                    f.coats
                );
            }
        }
        RosterCommand::Export {
            program,
            out,
            org,
            status: s,
        } => {
            let rows = roster(store, &program, org, status(s)?, None).await?;
            std::fs::write(&out, roster_xlsx(&rows)?)
                .with_context(|| format!("写入 {}", out.display()))?;
            if json {
                println!("{}", serde_json::json!({"rows": rows.len(), "out": out}));
            } else {
                println!("已导出 {} 条到 {}", rows.len(), out.display());
            }
        }
    }
    Ok(())
}

fn print_payroll(p: &Payroll, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(p)?);
    } else {
        println!(
            "发放表 {}：{} {} {}，{} 行，合计 {} 元，{}",
            p.id,
            p.org_name,
            p.period,
            p.program_name,
            p.lines,
            p.total,
            p.status.label()
        );
    }
    Ok(())
}

pub async fn payroll_cmd(
    cmd: PayrollCommand,
    store: Option<&Arc<dyn Store>>,
    json: bool,
) -> Result<()> {
    if let PayrollCommand::Bench { enrollments, file } = cmd {
        return bench(enrollments, file, json).await;
    }
    let store = store.context("需要数据库")?;
    let actor = Actor::system("cli");
    match cmd {
        PayrollCommand::Generate {
            program,
            org,
            period,
        } => {
            let p = store
                .generate_payroll(&actor, &program, &code(&org)?, &period)
                .await?;
            print_payroll(&p, json)?;
        }
        PayrollCommand::List { program } => {
            let ps = store.payrolls(&Scope::all(), program.as_deref()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&ps)?);
            } else {
                for p in &ps {
                    print_payroll(p, false)?;
                }
            }
        }
        PayrollCommand::Approve { id } => {
            let p = store.approve_payroll(&actor, id).await?;
            print_payroll(&p, json)?;
        }
        PayrollCommand::Export { id, out } => {
            let p = store.payroll(&Scope::all(), id).await?;
            let lines = store.payroll_bank_lines(&actor, id).await?;
            std::fs::write(&out, bank_xlsx(&p, &lines)?)
                .with_context(|| format!("写入 {}", out.display()))?;
            if json {
                println!("{}", serde_json::json!({"lines": lines.len(), "out": out}));
            } else {
                println!("已导出 {} 行到 {}", lines.len(), out.display());
            }
        }
        PayrollCommand::Bench { .. } => unreachable!(),
    }
    Ok(())
}

pub async fn check_cmd(cmd: CheckCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    let CheckCommand::Run {
        org,
        period,
        capital_wan,
        today,
    } = cmd;
    let scope = scope_of(store, org.as_deref()).await?;
    let options = CheckOptions {
        today: today.unwrap_or_else(|| chrono::Local::now().date_naive()),
        period,
        capital_threshold: capital_wan
            .checked_mul(10_000)
            .and_then(Money::from_yuan)
            .context("注册资本阈值过大")?,
    };
    let hits = store.run_checks(&scope, &options).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
    } else if hits.is_empty() {
        println!("核查完成：未发现问题");
    } else {
        for h in &hits {
            let refs: Vec<String> = h
                .records
                .iter()
                .map(|r| format!("{}:{}", r.kind, r.id))
                .collect();
            println!("[{}] {}（{}）", h.check.label(), h.message, refs.join(" "));
        }
        println!("核查完成：发现 {} 个问题", hits.len());
    }
    Ok(())
}

/// 12 villages of 连城乡, `n` active 低保 households; then generate May's payroll for the
/// township, approve it, and write the bank file, each timed through the store.
async fn bench(n: u64, db: Option<PathBuf>, json: bool) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("xiangzhi-payroll-bench-{}", std::process::id()));
    let path = match db {
        Some(p) => p,
        None => {
            std::fs::create_dir_all(&dir)?;
            dir.join("bench.db")
        }
    };
    let fresh = !path.exists();
    let store = Arc::new(
        xiangzhi_store_sqlite::SqliteStore::open(
            path.to_str().context("路径含有无法识别的字符")?,
            // A key file beside the database, so a reused benchmark file can still be read.
            Arc::new(xiangzhi_store::Vault::open_or_create(
                &path.with_extension("key"),
            )?),
        )
        .await?,
    );
    store.migrate().await?;
    let actor = Actor::system("bench");
    let township = code("361002201")?;
    let t0 = Instant::now();
    if fresh {
        let mut units: Vec<NewOrgUnit> = [
            ("36", "江西省"),
            ("3610", "抚州市"),
            ("361002", "临川区"),
            ("361002201", "连城乡"),
        ]
        .iter()
        .map(|(c, name)| {
            let c = DivisionCode::parse(c).expect("code");
            NewOrgUnit {
                parent_code: c.parent(),
                code: c,
                name: (*name).into(),
            }
        })
        .collect();
        let villages: Vec<DivisionCode> = (200..212)
            .map(|i| code(&format!("361002201{i}")))
            .collect::<Result<_>>()?;
        for (i, v) in villages.iter().enumerate() {
            units.push(NewOrgUnit {
                parent_code: Some(township.clone()),
                code: v.clone(),
                name: format!("第{}村", i + 1),
            });
        }
        store.import_org_units(&actor, &units).await?;
        let mut paths = Vec::new();
        for v in &villages {
            let p = store.org_unit(&Scope::all(), v).await?.path;
            paths.push((v.as_str().to_string(), p.as_str().to_string()));
        }
        store.bench_fill_assistance(&paths, n).await?;
    }
    let fill = t0.elapsed();
    // A fresh month each run so a reused database can be measured again.
    let existing = store
        .payrolls(&Scope::all(), Some("min_living"))
        .await?
        .len();
    if existing >= 12 {
        bail!("该基准库的12个月发放表都已生成，请换一个 --file");
    }
    let period = format!("2023{:02}", existing + 1);
    let t = Instant::now();
    let p = store
        .generate_payroll(&actor, "min_living", &township, &period)
        .await?;
    let generate = t.elapsed();
    let approver = Actor {
        username: "bench-approver".into(),
        ..Actor::system("bench")
    };
    store.approve_payroll(&approver, p.id).await?;
    let t = Instant::now();
    let lines = store.payroll_bank_lines(&actor, p.id).await?;
    let bytes = bank_xlsx(&p, &lines)?;
    let out = path.with_file_name(format!("bank-{period}.xlsx"));
    std::fs::write(&out, &bytes)?;
    let export = t.elapsed();
    if json {
        println!(
            "{}",
            serde_json::json!({"enrollments": p.lines, "total_fen": p.total.fen(), "period": period, "fill_s": fill.as_secs_f64(),
                "generate_s": generate.as_secs_f64(), "export_s": export.as_secs_f64(),
                "total_s": (generate + export).as_secs_f64(), "bank_file": out, "db": path})
        );
    } else {
        println!("数据库：{}", path.display());
        println!(
            "在保户：{} 户（生成用时 {:.1} 秒）",
            p.lines,
            fill.as_secs_f64()
        );
        println!(
            "{period} 发放表：合计 {} 元；生成 {:.3} 秒，导出银行文件 {:.3} 秒（{} 行，{} 字节），共 {:.3} 秒",
            p.total,
            generate.as_secs_f64(),
            export.as_secs_f64(),
            lines.len(),
            bytes.len(),
            (generate + export).as_secs_f64()
        );
    }
    if fresh && p.lines as u64 != n {
        bail!("发放行数不符：{} ≠ {n}", p.lines);
    }
    Ok(())
}
