//! `xiangzhi report …`: render a report from a template as DOCX, PDF or HTML, list, check and
//! save templates, finalise a report and show what changed since.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use serde::Serialize;
use xiangzhi_document::RenderOptions;
use xiangzhi_report::service::{self, Format};
use xiangzhi_report::{Gap, syntax};
use xiangzhi_store::Store;

use crate::cli_case::{AsUser, actor};

#[derive(Subcommand)]
pub enum ReportCommand {
    /// 生成报告：report render --template annual --org 361002201 --period 2023 --format docx -o 总结.docx
    Render {
        /// 模板代码（见 report templates），如 annual、notice_min_living、village_profile
        #[arg(long)]
        template: String,
        /// 模板版本（默认最新）
        #[arg(long)]
        version: Option<i64>,
        /// 单位（区划代码），村情简介用村的代码
        #[arg(long)]
        org: String,
        /// 期间，如 2023
        #[arg(long)]
        period: String,
        /// docx、pdf 或 html
        #[arg(long, default_value = "docx")]
        format: String,
        /// 输出文件
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// 本系统的网址：文件里的数字链接到它的出处（如 https://xz.example.gov.cn/）
        #[arg(long)]
        base_url: Option<String>,
        #[command(flatten)]
        who: AsUser,
    },
    /// 列出报告模板
    Templates,
    /// 检查模板文件的语法（错误指出第几行第几字）
    Check { file: PathBuf },
    /// 保存模板（新建或新增一个版本）
    Save {
        code: String,
        #[arg(long)]
        name: String,
        file: PathBuf,
        #[command(flatten)]
        who: AsUser,
    },
    /// 定稿：冻结报告中的数字并记录校验值
    Finalise {
        #[arg(long)]
        template: String,
        #[arg(long)]
        org: String,
        #[arg(long)]
        period: String,
        #[command(flatten)]
        who: AsUser,
    },
    /// 与定稿相比，哪些数字变了
    Diff {
        id: i64,
        #[command(flatten)]
        who: AsUser,
    },
    /// 把内置模板存入数据库（已存在的不动）
    InstallBuiltins,
}

#[derive(Serialize)]
struct RenderSummary<'a> {
    template: &'a str,
    version: i64,
    org: &'a str,
    period: String,
    out: String,
    bytes: usize,
    render_ms: u128,
    write_ms: u128,
    gaps: &'a [Gap],
}

pub async fn run(cmd: ReportCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    match cmd {
        ReportCommand::Render {
            template,
            version,
            org,
            period,
            format,
            out,
            base_url,
            who,
        } => {
            let format = Format::parse(&format)
                .ok_or_else(|| anyhow!("格式“{format}”无效，应为 docx、pdf 或 html"))?;
            let actor = actor(store, &who).await?;
            let org = service::parse_org(&org)?;
            let period = service::parse_period(&period)?;
            let started = Instant::now();
            let report = service::render_report(
                store.clone(),
                &actor.scope,
                &template,
                version,
                &org,
                &period,
            )
            .await?;
            let render_ms = started.elapsed().as_millis();
            let written = Instant::now();
            let opts = RenderOptions { base_url };
            let bytes = service::write(&report.rendered.document, format, &opts)?;
            let write_ms = written.elapsed().as_millis();
            std::fs::write(&out, &bytes).with_context(|| format!("无法写入 {}", out.display()))?;
            let summary = RenderSummary {
                template: &report.template.code,
                version: report.template.version,
                org: org.as_str(),
                period: period.to_string(),
                out: out.display().to_string(),
                bytes: bytes.len(),
                render_ms,
                write_ms,
                gaps: &report.rendered.gaps,
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                println!(
                    "已生成 {}（{} 字节；取数 {} 毫秒，写出{} {} 毫秒）",
                    summary.out,
                    summary.bytes,
                    render_ms,
                    format.extension().to_uppercase(),
                    write_ms
                );
                print_gaps(&report.rendered.gaps);
            }
        }
        ReportCommand::Templates => {
            let all = service::templates(store.as_ref(), &xiangzhi_store::Scope::all()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                for t in all {
                    let v = if t.version == 0 {
                        "内置".to_owned()
                    } else {
                        format!("第{}版", t.version)
                    };
                    println!("{}\t{}\t{}", t.code, t.name, v);
                }
            }
        }
        ReportCommand::Check { file } => {
            let body = std::fs::read_to_string(&file)
                .with_context(|| format!("无法读取 {}", file.display()))?;
            match syntax::parse(&body) {
                Ok(t) => println!("模板无误：{} 个段落/表格/图", t.blocks.len()),
                Err(e) => bail!("{}：{e}", file.display()),
            }
        }
        ReportCommand::Save {
            code,
            name,
            file,
            who,
        } => {
            let body = std::fs::read_to_string(&file)
                .with_context(|| format!("无法读取 {}", file.display()))?;
            syntax::parse(&body).map_err(|e| anyhow!("{}：{e}", file.display()))?;
            let actor = actor(store, &who).await?;
            let (t, outcome) = store
                .save_report_template(&actor, &code, &name, &body)
                .await?;
            println!("{}：第{}版（{:?}）", t.code, t.version, outcome);
        }
        ReportCommand::Finalise {
            template,
            org,
            period,
            who,
        } => {
            let actor = actor(store, &who).await?;
            let report = service::render_report(
                store.clone(),
                &actor.scope,
                &template,
                None,
                &service::parse_org(&org)?,
                &service::parse_period(&period)?,
            )
            .await?;
            let (saved, frozen) = service::finalise(store.as_ref(), &actor, &report).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&saved)?);
            } else {
                println!(
                    "已定稿：编号 {}，{} 个数字，校验值 {}",
                    saved.id,
                    frozen.figures.len(),
                    saved.content_hash
                );
                print_gaps(&report.rendered.gaps);
            }
        }
        ReportCommand::Diff { id, who } => {
            let actor = actor(store, &who).await?;
            let (f, changes) = service::changes_since(store.clone(), &actor.scope, id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&changes)?);
            } else if changes.is_empty() {
                println!("定稿 {}（{}）以来没有数字变化", f.id, f.finalised_at);
            } else {
                println!("定稿 {}（{}）以来变化的数字：", f.id, f.finalised_at);
                for c in changes {
                    println!(
                        "  {}：{} → {}",
                        c.label,
                        c.before.as_deref().unwrap_or("（无）"),
                        c.after.as_deref().unwrap_or("（已删去）")
                    );
                }
            }
        }
        ReportCommand::InstallBuiltins => {
            let n =
                service::install_builtins(store.as_ref(), &xiangzhi_store::Actor::system("cli"))
                    .await?;
            println!("已存入 {n} 个内置模板");
        }
    }
    Ok(())
}

fn print_gaps(gaps: &[Gap]) {
    if gaps.is_empty() {
        println!("没有缺数据的数字");
        return;
    }
    println!("缺数据 {} 处：", gaps.len());
    for g in gaps {
        println!(
            "  【缺数据：{}】 指标 {}，单位 {}，期间 {}：{}（模板第{}行）",
            g.label, g.indicator, g.org, g.period, g.reason, g.line
        );
    }
}
