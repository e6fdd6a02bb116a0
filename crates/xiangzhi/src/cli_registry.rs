//! CLI commands of the registry: `import`, `export`, `bench-data`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{Duration, NaiveDate};
use serde::Serialize;
use xiangzhi_domain::citizen_id;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_store::timing::Phases;
use xiangzhi_store::{Actor, Scope, Store};

use crate::demo_registry::{Rng, given_name, surname};
use crate::import::{self, ExportSink, Kind};

#[derive(clap::Args)]
pub struct ImportArgs {
    /// persons（人员）、households（户）、enterprises（企业）；存量：enrollments（救助名单）、
    /// payouts（按月发放记录）、cases（事件台账）
    pub kind: Kind,
    /// CSV（UTF-8 或 GBK）、XLSX 或 XLS 文件
    pub file: PathBuf,
    /// 导入到哪个单位（乡镇、村或网格代码）之下
    #[arg(long)]
    pub org: String,
    /// 只预览：统计新增、更新、未变和有误的行，不写入
    #[arg(long)]
    pub dry_run: bool,
    /// 有误的行写入此 XLSX（标红并注明原因）；默认为 文件名-错误报告.xlsx
    #[arg(long)]
    pub error_report: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ExportArgs {
    pub kind: Kind,
    /// 只导出该单位之下
    #[arg(long)]
    pub org: Option<String>,
    /// 输出文件：.xlsx 或 .csv
    #[arg(short, long)]
    pub out: PathBuf,
    /// 导出完整身份证号和电话（记入审计日志）
    #[arg(long)]
    pub reveal: bool,
}

#[derive(clap::Args)]
pub struct TemplateArgs {
    pub kind: Kind,
    #[arg(short, long)]
    pub out: PathBuf,
}

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// 生成确定性的人员 CSV（身份证号有效），用于测量导入速度
    Persons {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 600_000)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// 分布到该单位之下的网格（须已存在，如先运行 demo）
        #[arg(long, default_value = "361002201")]
        org: String,
    },
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}

fn code(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| anyhow!("{e}"))
}

#[derive(Serialize)]
struct ImportJson<'a> {
    file: &'a Path,
    #[serde(flatten)]
    report: &'a import::ImportReport,
    error_report: Option<&'a Path>,
    seconds: f64,
    rows_per_second: f64,
}

/// Exit code 0 on a commit or a clean preview, 2 when rows were invalid (nothing written).
pub async fn import(args: ImportArgs, store: &Arc<dyn Store>, json: bool) -> Result<i32> {
    let started = Instant::now();
    let org = code(&args.org)?;
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("无法读取 {}", args.file.display()))?;
    let name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_string();
    let kind = args.kind;
    let sheet = tokio::task::spawn_blocking(move || {
        let mut t = Phases::start("import (read)");
        let sheet = import::read_sheet(kind, &bytes, &name, &import::cli_limits());
        t.mark("read_sheet");
        t.finish(sheet.as_ref().map_or(0, |s| s.rows.len()));
        sheet
    })
    .await??;
    let actor = Actor::system(&whoami());
    let report = import::import_sheet(store, &actor, kind, &sheet, &org, args.dry_run).await?;
    let mut report_path = None;
    if !report.errors.is_empty() {
        let path = args.error_report.clone().unwrap_or_else(|| {
            let stem = args
                .file
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("import");
            args.file.with_file_name(format!("{stem}-错误报告.xlsx"))
        });
        std::fs::write(&path, import::error_report(&sheet, &report)?)
            .with_context(|| format!("无法写入 {}", path.display()))?;
        report_path = Some(path);
    }
    let secs = started.elapsed().as_secs_f64();
    let rate = report.rows as f64 / secs.max(1e-9);
    if json {
        let out = ImportJson {
            file: &args.file,
            report: &report,
            error_report: report_path.as_deref(),
            seconds: secs,
            rows_per_second: rate,
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        let s = &report.summary;
        let verb = if s.committed {
            "已导入"
        } else if args.dry_run {
            "预览"
        } else {
            "未导入"
        };
        println!(
            "{verb}{}：共 {} 行；新增 {}，更新 {}，未变 {}，有误 {}{}；用时 {secs:.2} 秒（{rate:.0} 行/秒）",
            kind.label(),
            report.rows,
            s.new,
            s.updated,
            s.unchanged,
            s.invalid,
            if s.households_created > 0 {
                format!("；新建户 {}", s.households_created)
            } else {
                String::new()
            },
        );
        for w in &report.warnings {
            println!("提示：{w}");
        }
        for (line, w) in &report.credit_code_warnings {
            println!("提示：第{line}行 {w}");
        }
        for e in report.errors.iter().take(50) {
            println!("  {e}");
        }
        if report.errors.len() > 50 {
            println!("  ……共 {} 处错误", report.errors.len());
        }
        if let Some(p) = &report_path {
            println!(
                "有误的行已标红写入 {}；改正后请重新导入整个文件（全部正确才会写入）",
                p.display()
            );
        }
    }
    // the command ends here: its millions of cells need not be freed one by one first
    xiangzhi_store::bulk::free_in_background(sheet);
    Ok(if report.summary.invalid > 0 { 2 } else { 0 })
}

pub async fn export(args: ExportArgs, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    let started = Instant::now();
    let org = args.org.as_deref().map(code).transpose()?;
    let actor = Actor::system(&whoami());
    let headers = import::export_headers(args.kind, args.reveal);
    let ext = args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let n = match ext.as_str() {
        "xlsx" => {
            let x = xiangzhi_exchange::write::XlsxExport::new(args.kind.label(), &headers)
                .map_err(|e| anyhow!("{e}"))?;
            let mut sink: ExportSink<std::fs::File> = ExportSink::Xlsx(Box::new(x));
            let n = import::export(
                store,
                &actor,
                args.kind,
                org.as_ref(),
                args.reveal,
                &mut sink,
            )
            .await?;
            let ExportSink::Xlsx(x) = sink else {
                unreachable!()
            };
            std::fs::write(&args.out, x.finish().map_err(|e| anyhow!("{e}"))?)?;
            n
        }
        "csv" => {
            let f = std::io::BufWriter::new(std::fs::File::create(&args.out)?);
            let c = xiangzhi_exchange::write::CsvExport::new(f, &headers)
                .map_err(|e| anyhow!("{e}"))?;
            let mut sink = ExportSink::Csv(Box::new(c));
            let n = import::export(
                store,
                &actor,
                args.kind,
                org.as_ref(),
                args.reveal,
                &mut sink,
            )
            .await?;
            let ExportSink::Csv(c) = sink else {
                unreachable!()
            };
            c.finish().map_err(|e| anyhow!("{e}"))?.flush()?;
            n
        }
        _ => bail!("输出文件须以 .xlsx 或 .csv 结尾"),
    };
    let secs = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({"rows": n, "out": args.out, "seconds": secs})
        );
    } else {
        println!(
            "已导出{} {n} 条到 {}（{secs:.2} 秒）",
            args.kind.label(),
            args.out.display()
        );
    }
    Ok(())
}

pub fn template(args: TemplateArgs) -> Result<()> {
    std::fs::write(&args.out, import::template(args.kind)?)?;
    println!("已生成{}导入模板 {}", args.kind.label(), args.out.display());
    Ok(())
}

/// Grid codes under `org`, in code order.
async fn grids_under(store: &Arc<dyn Store>, org: &DivisionCode) -> Result<Vec<DivisionCode>> {
    let all = Scope::all();
    let mut out = Vec::new();
    let mut queue = vec![store.org_unit(&all, org).await?];
    while let Some(u) = queue.pop() {
        if u.level == OrgLevel::Grid {
            out.push(u.code.clone());
        } else if u.child_count > 0 {
            queue.extend(store.org_children(&all, Some(&u.code)).await?);
        }
    }
    out.sort();
    Ok(out)
}

pub async fn bench_data(command: BenchCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    match command {
        BenchCommand::Persons {
            out,
            count,
            seed,
            org,
        } => {
            let org = code(&org)?;
            let grids = grids_under(store, &org).await?;
            if grids.is_empty() {
                bail!("{org} 之下没有网格：请先运行 `xiangzhi demo --no-serve` 或新增网格");
            }
            let started = Instant::now();
            let f = std::fs::File::create(&out)
                .with_context(|| format!("无法创建 {}", out.display()))?;
            write_bench_persons(
                std::io::BufWriter::with_capacity(1 << 20, f),
                count,
                seed,
                &grids,
            )?;
            let secs = started.elapsed().as_secs_f64();
            if json {
                println!(
                    "{}",
                    serde_json::json!({"rows": count, "out": out, "seconds": secs})
                );
            } else {
                println!(
                    "已生成 {count} 行人员数据到 {}（{secs:.2} 秒）",
                    out.display()
                );
            }
            Ok(())
        }
    }
}

/// `bench-data --out DIR --county CODE`: the synthetic county (see [`crate::bench_county`]).
pub fn bench_county(args: crate::bench_county::CountyArgs, json: bool) -> Result<()> {
    let (Some(out), Some(county)) = (args.out, args.county) else {
        bail!(
            "用法：xiangzhi bench-data --out 目录 --county 县级代码 [--households N] [--seed S]，或 bench-data persons …"
        );
    };
    let county = code(&county)?;
    let dir = args
        .divisions
        .or_else(crate::divisions::find_default_dir)
        .ok_or_else(|| {
            anyhow!("找不到区划数据目录；请用 --divisions 或 XIANGZHI_DIVISIONS 指定")
        })?;
    let started = Instant::now();
    let summary = crate::bench_county::generate(&out, &county, args.households, args.seed, &dir)?;
    let secs = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({"summary": summary, "out": out, "seconds": secs})
        );
    } else {
        println!(
            "已生成合成县 {}（{} 个乡镇、{} 个村、{} 个网格）：{} 户 {} 人，企业 {}，救助对象 {}，发放 {}，台账记录 {}，事件 {}；写入 {}（{secs:.2} 秒）",
            summary.county,
            summary.townships,
            summary.villages,
            summary.grids,
            summary.households,
            summary.persons,
            summary.enterprises,
            summary.enrollments,
            summary.payouts,
            summary.ledger_entries,
            summary.cases,
            out.display()
        );
    }
    Ok(())
}

/// Adds the grids of a CSV (村代码, 网格名称) whose village has no grid of that name yet;
/// returns `(added, already there)`.
pub async fn add_grids(store: &Arc<dyn Store>, actor: &Actor, file: &Path) -> Result<(u64, u64)> {
    let mut rdr =
        csv::Reader::from_path(file).with_context(|| format!("无法读取 {}", file.display()))?;
    let all = Scope::all();
    let mut existing: std::collections::HashMap<String, Vec<String>> = Default::default();
    let (mut added, mut kept) = (0u64, 0u64);
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("第{}行格式错误", i + 2))?;
        let (Some(v), Some(name)) = (rec.get(0), rec.get(1)) else {
            bail!("第{}行：应有 村代码、网格名称 两列", i + 2);
        };
        let village = code(v.trim()).with_context(|| format!("第{}行", i + 2))?;
        if let std::collections::hash_map::Entry::Vacant(slot) =
            existing.entry(village.as_str().to_string())
        {
            let names = store
                .org_children(&all, Some(&village))
                .await?
                .into_iter()
                .map(|u| u.name)
                .collect();
            slot.insert(names);
        }
        let names = existing.get_mut(village.as_str()).expect("inserted above");
        if names.iter().any(|n| n == name.trim()) {
            kept += 1;
            continue;
        }
        store.add_grid(actor, &village, name.trim()).await?;
        names.push(name.trim().to_string());
        added += 1;
    }
    Ok((added, kept))
}

/// Days of birth dates the generator spreads over (1930-01-01 onwards).
const DAYS: u64 = 33_000;

/// A deterministic person CSV: households of 1-6 consecutive rows (the first is 户主), IDs
/// of region 361002 with order codes 500-999 (the demo uses 0-499), so runs never collide
/// with the demo township.
pub fn write_bench_persons<W: std::io::Write>(
    w: W,
    count: u64,
    seed: u64,
    grids: &[DivisionCode],
) -> Result<()> {
    let mut wtr = csv::Writer::from_writer(w);
    wtr.write_record([
        "姓名",
        "身份证号",
        "联系电话",
        "户号",
        "与户主关系",
        "人员状态",
        "所属网格",
        "标签",
    ])?;
    let mut rng = Rng::new(seed);
    let base = NaiveDate::from_ymd_opt(1930, 1, 1).expect("valid");
    let mut household = 0u64;
    let mut left_in_household = 0u64;
    let mut member = 0u64;
    let mut family = "";
    for i in 0..count {
        if left_in_household == 0 {
            household += 1;
            left_in_household = 1 + rng.below(6);
            member = 0;
            family = surname(&mut rng);
        }
        left_in_household -= 1;
        let day = (i * 7919) % DAYS;
        let block = i / DAYS;
        if block >= 250 {
            bail!("最多生成 {} 行", DAYS * 250);
        }
        let male = rng.below(2) == 0;
        let id = citizen_id::generate(
            "361002",
            base + Duration::days(day as i64),
            250 + block as u16,
            male,
        );
        let grid = &grids[(household as usize) % grids.len()];
        let relation = match member {
            0 => "户主",
            1 => "配偶",
            _ => "子女",
        };
        member += 1;
        let phone = format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000));
        let tag = match rng.below(100) {
            0..=4 => "党员",
            5..=6 => "残疾:肢体:二级",
            7 => "留守:老人",
            _ => "",
        };
        let name = format!("{family}{}", given_name(&mut rng, male));
        let hh = format!("B{}{:07}", grid.as_str(), household);
        wtr.write_record([
            name.as_str(),
            id.as_str(),
            &phone,
            &hh,
            relation,
            "在册",
            grid.as_str(),
            tag,
        ])?;
    }
    wtr.flush()?;
    Ok(())
}
