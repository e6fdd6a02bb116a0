//! `xiangzhi ledger …`: define ledgers from TOML, templates, imports, exports, queries and the
//! aggregate benchmark.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use xiangzhi_domain::ledger::LedgerDefinition;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::period::{Period, PeriodType};
use xiangzhi_store::ledger::{EntryQuery, LedgerQuery};
use xiangzhi_store::{Actor, LedgerStore, NewOrgUnit, Scope, Store};

use crate::ledger_excel;

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// 按 TOML 文件定义台账（已有则在定义变化时生成新版本）；--builtin 用内置台账（代码或 all）
    Define {
        #[arg(required_unless_present = "builtin")]
        file: Option<PathBuf>,
        #[arg(long, conflicts_with = "file")]
        builtin: Option<String>,
    },
    /// 列出台账
    List,
    /// 生成某单位某期间的填报模板 XLSX（含已有行和名册行）
    Template {
        ledger: String,
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "")]
        period: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// 导入填好的模板：先校验，全部正确才写入
    Import {
        ledger: String,
        file: PathBuf,
        #[arg(long)]
        org: Option<String>,
        #[arg(long, default_value = "")]
        period: String,
        /// 只预览，不写入
        #[arg(long)]
        dry_run: bool,
        /// 有错误时把错误报告写到这里
        #[arg(long)]
        errors: Option<PathBuf>,
    },
    /// 导出台账记录 XLSX
    Export {
        ledger: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        period: Option<String>,
    },
    /// 汇总：按层级（village/township…）和期间类型（month/quarter/year）分组
    Query {
        ledger: String,
        #[arg(long)]
        level: Option<String>,
        #[arg(long)]
        by: Option<String>,
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        org: Option<String>,
    },
    /// 基准测试：在临时 SQLite 库中生成记录，计时按村、按月汇总
    BenchAggregate {
        #[arg(long, default_value_t = 2_000_000)]
        entries: u64,
        /// 数据库文件（默认临时目录）；已存在则复用其中的数据
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

fn code(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| anyhow::anyhow!("{e}"))
}

pub async fn run(cmd: LedgerCommand, store: Option<&Arc<dyn Store>>, json: bool) -> Result<()> {
    if let LedgerCommand::BenchAggregate { entries, file } = cmd {
        return bench(entries, file, json).await;
    }
    let store = store.context("需要数据库")?;
    let actor = Actor::system("cli");
    let scope = Scope::all();
    match cmd {
        LedgerCommand::Define { file, builtin } => {
            let defs = match (file, builtin.as_deref()) {
                (Some(file), _) => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("读取 {}", file.display()))?;
                    vec![LedgerDefinition::from_toml(&text)?]
                }
                (None, Some("all")) => crate::ledger_pack::definitions()?,
                (None, Some(code)) => {
                    vec![crate::ledger_pack::definition(code).with_context(|| {
                        let codes: Vec<&str> = crate::ledger_pack::BUILTIN
                            .iter()
                            .map(|(c, _)| *c)
                            .collect();
                        format!("没有内置台账“{code}”；可用：{}", codes.join("、"))
                    })??]
                }
                (None, None) => bail!("请给出 TOML 文件或 --builtin"),
            };
            for def in defs {
                let (l, o) = store.define_ledger(&actor, &def).await?;
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"code": l.code, "version": l.version, "outcome": o})
                    );
                } else {
                    let what = match o {
                        xiangzhi_store::ledger::DefineOutcome::Created => "已创建",
                        xiangzhi_store::ledger::DefineOutcome::NewVersion => "已生成新版本",
                        xiangzhi_store::ledger::DefineOutcome::Unchanged => "定义未变化",
                    };
                    println!(
                        "{}（{}）{what}：第{}版，{}个字段",
                        def.name,
                        l.code,
                        l.version,
                        def.fields.len()
                    );
                }
            }
        }
        LedgerCommand::List => {
            let ls = store.ledgers().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&ls)?);
            } else {
                for l in ls {
                    let d = &l.definition;
                    println!(
                        "{}\t{}\t{}\t{}\t第{}版",
                        l.code,
                        d.name,
                        d.department,
                        d.period_label(),
                        l.version
                    );
                }
            }
        }
        LedgerCommand::Template {
            ledger,
            org,
            period,
            out,
        } => {
            let l = ledger_named(store, &ledger).await?;
            let period = l
                .definition
                .check_period(&period)
                .map_err(anyhow::Error::msg)?;
            let org = code(&org)?;
            let unit = store.org_unit(&scope, &org).await?;
            store.ensure_roster(&actor, &ledger, &org, &period).await?;
            let rows = all_entries(store, &ledger, Some(org), Some(period.clone())).await?;
            std::fs::write(
                &out,
                ledger_excel::template(&l, &unit.name, &period, &rows)?,
            )?;
            println!("模板已写入 {}（{}行已有记录）", out.display(), rows.len());
        }
        LedgerCommand::Import {
            ledger,
            file,
            org,
            period,
            dry_run,
            errors,
        } => {
            let l = ledger_named(store, &ledger).await?;
            let bytes = std::fs::read(&file).with_context(|| format!("读取 {}", file.display()))?;
            let org = org.map(|o| code(&o)).transpose()?;
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("upload.xlsx");
            let mut up = ledger_excel::parse_upload(&l, &bytes, name, org.as_ref(), &period)?;
            ledger_excel::resolve_references(store.as_ref(), &actor.scope, &mut up).await?;
            let mut problems = up.errors.clone();
            let out = store
                .import_entries(&actor, &ledger, &up.rows, dry_run || !problems.is_empty())
                .await?;
            problems.extend(out.issues.iter().map(|i| {
                xiangzhi_exchange::RowError::new(i.line, i.column.clone(), i.reason.clone())
            }));
            problems.sort_by_key(|p| p.line);
            if json {
                println!(
                    "{}",
                    serde_json::json!({"new": out.new, "updated": out.updated, "unchanged": out.unchanged, "committed": out.committed, "errors": problems})
                );
            } else {
                println!(
                    "新增 {}，修改 {}，未变 {}，{}",
                    out.new,
                    out.updated,
                    out.unchanged,
                    if out.committed {
                        "已写入"
                    } else {
                        "未写入"
                    }
                );
                for p in &problems {
                    println!("第{}行「{}」{}", p.line, p.column, p.reason);
                }
            }
            if !problems.is_empty() {
                if let Some(path) = errors {
                    std::fs::write(&path, ledger_excel::error_report(&up.sheet, &problems)?)?;
                    println!("错误报告已写入 {}", path.display());
                }
                std::process::exit(2);
            }
        }
        LedgerCommand::Export {
            ledger,
            out,
            org,
            period,
        } => {
            let l = ledger_named(store, &ledger).await?;
            let org = org.map(|o| code(&o)).transpose()?;
            let rows = all_entries(store, &ledger, org, period).await?;
            std::fs::write(&out, ledger_excel::export(&l, &rows)?)?;
            println!("已导出 {} 条记录到 {}", rows.len(), out.display());
        }
        LedgerCommand::Query {
            ledger,
            level,
            by,
            period,
            org,
        } => {
            let q = LedgerQuery {
                org: org.map(|o| code(&o)).transpose()?,
                period_prefix: period,
                group_level: level
                    .map(|l| {
                        OrgLevel::parse(&l)
                            .context("层级应为 province/city/county/township/village/grid")
                    })
                    .transpose()?,
                group_period: by
                    .map(|b| {
                        PeriodType::parse(&b)
                            .context("期间类型应为 day/week/month/quarter/six_month/year")
                    })
                    .transpose()?,
                ..Default::default()
            };
            let rows = store.ledger_aggregate(&scope, &ledger, &q).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for r in rows {
                    let sums: Vec<String> = r
                        .fields
                        .iter()
                        .map(|(k, a)| {
                            format!(
                                "{k}={}",
                                a.sum.map_or("-".into(), |s| {
                                    xiangzhi_domain::ledger::format_decimal(s, 2)
                                })
                            )
                        })
                        .collect();
                    println!(
                        "{}\t{}\t{}条\t{}",
                        r.org_name.unwrap_or_default(),
                        r.period.unwrap_or_default(),
                        r.entries,
                        sums.join(" ")
                    );
                }
            }
        }
        LedgerCommand::BenchAggregate { .. } => unreachable!(),
    }
    Ok(())
}

async fn all_entries(
    store: &Arc<dyn Store>,
    ledger: &str,
    org: Option<DivisionCode>,
    period: Option<String>,
) -> Result<Vec<xiangzhi_store::ledger::LedgerEntry>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .entries(
                &Scope::all(),
                ledger,
                &EntryQuery {
                    org: org.clone(),
                    period: period.clone(),
                    after_id: after,
                    limit: 5000,
                    ..Default::default()
                },
            )
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        out.extend(page);
    }
    Ok(out)
}

const BENCH_LEDGER: &str = r#"
code = "bench_patrol"
name = "禁捕巡查记录（基准）"
department = "农业农村办"
period = "day"
level = "village"

[[fields]]
key = "a"
label = "巡查人次"
type = "integer"

[[fields]]
key = "b"
label = "巡查里程"
type = "decimal"
unit = "公里"
"#;

/// 12 villages of 连城乡, one daily ledger, `n` entries over 2023; then the aggregate by
/// village and month, timed through the store (cold, then the best of five).
async fn bench(n: u64, db: Option<PathBuf>, json: bool) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("xiangzhi-bench-{}", std::process::id()));
    let path = match db {
        Some(p) => p,
        None => {
            std::fs::create_dir_all(&dir)?;
            dir.join("bench.db")
        }
    };
    let fresh = !path.exists();
    let store = xiangzhi_store_sqlite::SqliteStore::open(
        path.to_str().context("路径含有无法识别的字符")?,
        Arc::new(xiangzhi_store::Vault::ephemeral()),
    )
    .await?;
    store.migrate().await?;
    let actor = Actor::system("bench");
    let township = code("361002201")?;
    let villages: Vec<DivisionCode> = (200..212)
        .map(|i| code(&format!("361002201{i}")))
        .collect::<Result<_>>()?;
    let def = LedgerDefinition::from_toml(BENCH_LEDGER)?;
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
        for (i, v) in villages.iter().enumerate() {
            units.push(NewOrgUnit {
                parent_code: Some(township.clone()),
                code: v.clone(),
                name: format!("第{}村", i + 1),
            });
        }
        store.import_org_units(&actor, &units).await?;
        let (l, _) = store.define_ledger(&actor, &def).await?;
        let mut paths = Vec::new();
        for v in &villages {
            paths.push((
                v.as_str().to_string(),
                store
                    .org_unit(&Scope::all(), v)
                    .await?
                    .path
                    .as_str()
                    .to_string(),
            ));
        }
        let days: Vec<String> = Period::parse("2023")?
            .periods_in(PeriodType::Day)
            .iter()
            .map(|p| p.to_string())
            .collect();
        store
            .bench_fill_ledger(l.id, l.version, &paths, &days, n)
            .await?;
    }
    let fill = t0.elapsed();
    let l = store.ledger(&def.code).await?;
    let tp = store.org_unit(&Scope::all(), &township).await?.path;
    let plan = store
        .bench_plan(l.id, tp.as_str(), &tp.upper_bound())
        .await?;
    let q = LedgerQuery {
        group_level: Some(OrgLevel::Village),
        group_period: Some(PeriodType::Month),
        period_prefix: Some("2023".into()),
        ..Default::default()
    };
    let scope = Scope::new(tp);
    let t = Instant::now();
    let rows = store.ledger_aggregate(&scope, &def.code, &q).await?;
    let cold = t.elapsed();
    let mut best = cold;
    for _ in 0..5 {
        let t = Instant::now();
        let r = store.ledger_aggregate(&scope, &def.code, &q).await?;
        best = best.min(t.elapsed());
        assert_eq!(r.len(), rows.len());
    }
    let total: i64 = rows.iter().map(|r| r.entries).sum();
    if json {
        println!(
            "{}",
            serde_json::json!({"entries": total, "groups": rows.len(), "fill_s": fill.as_secs_f64(), "cold_s": cold.as_secs_f64(), "best_s": best.as_secs_f64(), "plan": plan, "db": path})
        );
    } else {
        println!("数据库：{}", path.display());
        println!("记录：{total} 条（生成用时 {:.1} 秒）", fill.as_secs_f64());
        println!(
            "按村、按月汇总：{} 组；首次 {:.3} 秒，最快 {:.3} 秒（5次）",
            rows.len(),
            cold.as_secs_f64(),
            best.as_secs_f64()
        );
        println!("查询计划：{}", plan.join(" | "));
    }
    if total as u64 != n && fresh {
        bail!("记录数不符：{total} ≠ {n}");
    }
    Ok(())
}

/// The ledger a command names; an unknown code says so and where to find the codes.
async fn ledger_named(
    store: &Arc<dyn Store>,
    code: &str,
) -> Result<xiangzhi_store::ledger::Ledger> {
    match store.ledger(code).await {
        Err(xiangzhi_store::StoreError::NotFound) => {
            bail!("没有代码为“{code}”的台账（xiangzhi ledger list 列出全部台账）")
        }
        other => Ok(other?),
    }
}
