//! `xiangzhi indicator …` and `xiangzhi data …`: indicators at the command line, and the
//! exchange of data values with DHIS2 (dataValueSets JSON) and ADX XML.
//!
//! `--as USER` reads and writes as that user (their scope and role), like `case --as`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::period::{Period, PeriodType};
use xiangzhi_engine::{Engine, pack};
use xiangzhi_exchange::aggregate::{self, DataValueRecord};
use xiangzhi_store::Store;
use xiangzhi_store::indicator::{DataValueImportRow, DataValueInput, DataValueQuery};

use crate::cli_case::{AsUser, actor};

#[derive(Subcommand)]
pub enum IndicatorCommand {
    /// 列出全部指标（代码、名称、单位、表达式）
    List,
    /// 计算一个指标的值（实时计算，附同比、目标和出处）
    Value {
        code: String,
        /// 单位代码，如 361002201
        #[arg(long)]
        org: String,
        /// 期间：2023、2023Q1、202301、2023W05、2023S1
        #[arg(long)]
        period: String,
        #[command(flatten)]
        who: AsUser,
    },
    /// 计算全部指标：该单位及其下每一级（乡镇、村）每个单位的值，可写成 CSV；
    /// --passes 2 时在同一进程中再算一遍（冷、热两次计时，供基准测试）
    Table {
        /// 单位代码，如 361002（临川区）
        #[arg(long)]
        org: String,
        #[arg(long)]
        period: String,
        /// 输出 CSV：指标代码,单位代码,单位名称,值（存储单位）
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 1)]
        passes: u32,
        /// 只算这些指标（逗号分隔的代码），默认全部
        #[arg(long, value_delimiter = ',')]
        codes: Vec<String>,
        #[command(flatten)]
        who: AsUser,
    },
    /// 定义指标：--builtin 为材料中的指标包（可加 --township 同时写入该乡的目标和演示数值），或给出 TOML 文件
    Define {
        file: Option<PathBuf>,
        #[arg(long)]
        builtin: bool,
        /// 同时写入该乡镇的目标与数值
        #[arg(long)]
        township: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DataFormat {
    /// DHIS2 dataValueSets JSON（idScheme=CODE）
    Dhis2,
    /// IHE ADX XML
    Adx,
}

#[derive(Subcommand)]
pub enum DataCommand {
    /// 导出统计数据（DHIS2 dataValueSets JSON 或 ADX XML，代码作标识）
    Export {
        #[arg(long, value_enum)]
        format: DataFormat,
        /// 只导出该单位及下级
        #[arg(long)]
        org: Option<String>,
        /// 只导出以此开头的期间，如 2023
        #[arg(long)]
        period: Option<String>,
        /// 输出文件（默认标准输出）
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        who: AsUser,
    },
    /// 导入统计数据（先校验，全部正确才写入）
    Import {
        file: PathBuf,
        /// 默认按扩展名：.json 为 DHIS2，.xml 为 ADX
        #[arg(long, value_enum)]
        format: Option<DataFormat>,
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        who: AsUser,
    },
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

#[derive(Serialize)]
struct ValueOut {
    figure: xiangzhi_engine::Figure,
    previous_year: xiangzhi_engine::Figure,
    yoy_rate: Option<f64>,
    /// The preceding period and the 环比 change, for periods shorter than a year.
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_period: Option<xiangzhi_engine::Figure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pop_rate: Option<f64>,
    target: Option<xiangzhi_engine::Target>,
    expression: String,
}

pub async fn run_indicator(
    cmd: IndicatorCommand,
    store: &Arc<dyn Store>,
    json: bool,
) -> Result<()> {
    match cmd {
        IndicatorCommand::List => {
            let list = store.indicators().await?;
            print(json, &list, || {
                for i in &list {
                    println!(
                        "{}\t{}\t{}\t{}",
                        i.code,
                        i.name,
                        i.unit,
                        i.expression.replace('\n', " ")
                    );
                }
            });
            Ok(())
        }
        IndicatorCommand::Value {
            code,
            org,
            period,
            who,
        } => {
            let actor = actor(store, &who).await?;
            let period = Period::parse(&period).map_err(|e| anyhow!("期间“{period}”无效：{e}"))?;
            let engine = Engine::load(store.as_ref(), &actor.scope).await?;
            let change = engine.yoy(&code, &org, &period).await?;
            let pop = if period.period_type() == PeriodType::Year {
                None
            } else {
                Some(engine.pop(&code, &org, &period).await?)
            };
            let target = engine.target(&code, &org, &period).await?;
            let out = ValueOut {
                expression: engine.indicator(&code)?.expression.clone(),
                yoy_rate: change.rate,
                previous_period: pop.as_ref().map(|p| p.previous.clone()),
                pop_rate: pop.as_ref().and_then(|p| p.rate),
                figure: change.current.clone(),
                previous_year: change.previous.clone(),
                target,
            };
            print(json, &out, || {
                let f = &out.figure;
                println!("{} {} {}：{}", f.org_name, f.period, f.name, f.with_unit());
                println!(
                    "上年同期：{}（同比 {}）",
                    out.previous_year.with_unit(),
                    change.rate_text()
                );
                if let Some(p) = &pop {
                    println!("上期：{}（环比 {}）", p.previous.with_unit(), p.rate_text());
                }
                if let Some(t) = &out.target {
                    println!(
                        "目标：{} {}{}，完成 {}",
                        t.comparison,
                        t.text,
                        f.unit,
                        t.completion.map_or("—".into(), |c| format!("{c:.1}%"))
                    );
                }
                println!("出处：{}", f.provenance);
            });
            Ok(())
        }
        IndicatorCommand::Table {
            org,
            period,
            out,
            passes,
            codes,
            who,
        } => {
            let actor = actor(store, &who).await?;
            let period = Period::parse(&period).map_err(|e| anyhow!("期间“{period}”无效：{e}"))?;
            let code =
                DivisionCode::parse(&org).map_err(|e| anyhow!("单位代码“{org}”无效：{e}"))?;
            let unit = store.org_unit(&actor.scope, &code).await?;
            let store_codes: Vec<String> = store
                .indicators()
                .await?
                .into_iter()
                .map(|i| i.code)
                .collect();
            let levels: Vec<OrgLevel> = OrgLevel::ALL
                .into_iter()
                .filter(|l| {
                    l.code_len() > unit.level.code_len()
                        && l.code_len() <= OrgLevel::Village.code_len()
                })
                .collect();
            if let Some(unknown) = codes.iter().find(|c| !store_codes.iter().any(|s| s == *c)) {
                bail!("没有指标“{unknown}”（xiangzhi indicator list 列出全部指标）");
            }
            let mut seconds = Vec::new();
            let mut figures = Vec::new();
            // Passes after the first are what the server does for a page asked again with no
            // write in between: the same engine cache, checked against the data version.
            let cache = Arc::new(xiangzhi_engine::FigureCache::new());
            for _ in 0..passes.max(1) {
                let started = Instant::now();
                figures.clear();
                let engine = Engine::load_cached(store.as_ref(), &actor.scope, &cache).await?;
                for def in engine.indicators() {
                    if !codes.is_empty() && !codes.contains(&def.code) {
                        continue;
                    }
                    figures.push(engine.figure(&def.code, &org, &period).await?);
                    for level in &levels {
                        figures.extend(engine.ranking(&def.code, &org, &period, *level).await?);
                    }
                }
                seconds.push(started.elapsed().as_secs_f64());
            }
            if let Some(path) = &out {
                let mut w = csv::Writer::from_path(path)
                    .with_context(|| format!("无法写入 {}", path.display()))?;
                w.write_record(["指标代码", "单位代码", "单位名称", "值"])?;
                for f in &figures {
                    let v = f.value.map(|v| v.to_string()).unwrap_or_default();
                    w.write_record([&f.code, &f.org_code, &f.org_name, &v])?;
                }
                w.flush()?;
            }
            let units = figures
                .iter()
                .map(|f| f.org_code.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            let summary = serde_json::json!({
                "org": org,
                "period": period.to_string(),
                "figures": figures.len(),
                "units": units,
                "seconds": seconds,
            });
            print(json, &summary, || {
                println!(
                    "{} 个数字（{} 个单位），用时 {}",
                    figures.len(),
                    units,
                    seconds
                        .iter()
                        .map(|s| format!("{s:.3} 秒"))
                        .collect::<Vec<_>>()
                        .join("，")
                );
            });
            Ok(())
        }
        IndicatorCommand::Define {
            file,
            builtin,
            township,
        } => {
            let p = match (file, builtin) {
                (None, true) => pack::builtin(),
                (Some(f), false) => {
                    let text = std::fs::read_to_string(&f)
                        .with_context(|| format!("读取 {} 失败", f.display()))?;
                    pack::Pack::parse(&text).map_err(|e| anyhow!(e))?
                }
                _ => bail!("请给出指标包 TOML 文件，或使用 --builtin（二者取一）"),
            };
            let township = township
                .map(|t| DivisionCode::parse(&t).map_err(|_| anyhow!("单位代码“{t}”无效")))
                .transpose()?;
            let actor = xiangzhi_store::Actor::system("cli");
            let done = pack::install(store.as_ref(), &actor, &p, township.as_ref()).await?;
            print(json, &done, || {
                println!(
                    "已定义：数据项 {} 个、指标 {} 个（未变的不计）；目标 {} 条、数值 {} 条",
                    done.data_elements, done.indicators, done.targets, done.values
                )
            });
            Ok(())
        }
    }
}

/// Records of the data values in scope, for export.
pub async fn export_records(
    store: &Arc<dyn Store>,
    scope: &xiangzhi_store::Scope,
    org: Option<&str>,
    period: Option<&str>,
) -> Result<Vec<DataValueRecord>> {
    let q = DataValueQuery {
        element: None,
        org: org
            .map(|o| DivisionCode::parse(o).map_err(|_| anyhow!("单位代码“{o}”无效")))
            .transpose()?,
        period_prefix: period.map(str::to_string),
    };
    Ok(store
        .data_values(scope, &q)
        .await?
        .into_iter()
        .map(|v| DataValueRecord {
            data_element: v.element_code,
            period: v.period,
            org_unit: v.org_code,
            value: format_value(v.value),
            comment: (!v.comment.is_empty()).then_some(v.comment),
        })
        .collect())
}

/// Shortest text that reads back as the same number.
pub fn format_value(v: f64) -> String {
    format!("{v}")
}

/// Data value rows of exchange records (line = position in the file, from 1).
pub fn import_rows(records: &[DataValueRecord]) -> (Vec<DataValueImportRow>, Vec<String>) {
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let org = DivisionCode::parse(&r.org_unit);
        let value: Result<f64, _> = r.value.trim().parse();
        match (org, value) {
            (Ok(org), Ok(value)) if value.is_finite() => rows.push(DataValueImportRow {
                line: i + 1,
                value: DataValueInput {
                    element_code: r.data_element.clone(),
                    org_code: org,
                    period: r.period.clone(),
                    value,
                    comment: r.comment.clone().unwrap_or_default(),
                },
            }),
            (Err(_), _) => bad.push(format!("第{}条：单位代码“{}”无效", i + 1, r.org_unit)),
            _ => bad.push(format!("第{}条：数值“{}”不是数字", i + 1, r.value)),
        }
    }
    (rows, bad)
}

pub async fn run_data(cmd: DataCommand, store: &Arc<dyn Store>, json: bool) -> Result<i32> {
    match cmd {
        DataCommand::Export {
            format,
            org,
            period,
            out,
            who,
        } => {
            let actor = actor(store, &who).await?;
            let records =
                export_records(store, &actor.scope, org.as_deref(), period.as_deref()).await?;
            let text = match format {
                DataFormat::Dhis2 => aggregate::write_dhis2(None, &records),
                DataFormat::Adx => {
                    let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
                    aggregate::write_adx("XIANGZHI", &now, &records)?
                }
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("写入 {} 失败", path.display()))?;
                    if !json {
                        eprintln!("已导出 {} 条数据到 {}", records.len(), path.display());
                    }
                }
                None => println!("{text}"),
            }
            Ok(0)
        }
        DataCommand::Import {
            file,
            format,
            dry_run,
            who,
        } => {
            let actor = actor(store, &who).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("读取 {} 失败", file.display()))?;
            let format = format.unwrap_or_else(|| {
                if file
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("xml"))
                {
                    DataFormat::Adx
                } else {
                    DataFormat::Dhis2
                }
            });
            let records = match format {
                DataFormat::Dhis2 => aggregate::read_dhis2(&text)?,
                DataFormat::Adx => aggregate::read_adx(&text)?,
            };
            let (rows, bad) = import_rows(&records);
            if !bad.is_empty() {
                for b in &bad {
                    eprintln!("{b}");
                }
                return Ok(2);
            }
            let outcome = store.import_data_values(&actor, &rows, dry_run).await?;
            print(json, &outcome, || {
                for i in &outcome.issues {
                    eprintln!("第{}条 {}：{}", i.line, i.column, i.reason);
                }
                if outcome.committed {
                    println!(
                        "已导入：新增 {}，更新 {}，未变 {}",
                        outcome.new, outcome.updated, outcome.unchanged
                    );
                } else if outcome.issues.is_empty() {
                    println!("校验通过（{} 条），未写入（--dry-run）", rows.len());
                } else {
                    println!("有 {} 处错误，未写入任何数据", outcome.issues.len());
                }
            });
            Ok(if outcome.issues.is_empty() { 0 } else { 2 })
        }
    }
}
