//! 乡治 xiangzhi: the one binary. Every command takes `--db` (SQLite path or PostgreSQL URL).

use xiangzhi::{demo, divisions, open_store, open_store_solo};

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;
use xiangzhi_store::{Actor, NewUser, Scope, Store};

#[derive(Parser)]
#[command(
    name = "xiangzhi",
    version,
    about = "乡治：乡镇治理一体化平台（台账、名册、报表一次填报）"
)]
struct Cli {
    /// 数据库：SQLite 文件路径（sqlite://./xiangzhi.db）或 postgres://… 连接串
    #[arg(long, global = true, env = "XIANGZHI_DB")]
    db: Option<String>,
    /// 以 JSON 输出结果
    #[arg(long, global = true)]
    json: bool,
    /// 个人信息加密密钥文件（首次启动时创建）；默认为 SQLite 数据库同目录下的 xiangzhi.key，PostgreSQL 为 ./xiangzhi.key
    #[arg(long, global = true, env = "XIANGZHI_KEY_FILE")]
    key_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// 启动网页服务
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// 通过 HTTPS 访问时打开：Cookie 加 Secure 标记
        #[arg(long)]
        secure_cookies: bool,
        /// Open311 提交诉求须带有效的 api_key（用 case open311-key 发放）
        #[arg(long)]
        open311_require_key: bool,
        /// 每个客户端每分钟最多提交几次 Open311 诉求
        #[arg(long, default_value_t = 20)]
        open311_posts_per_minute: u32,
    },
    /// 载入演示乡（抚州市临川区连城乡，即材料中的 X 乡）并启动网页服务
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// 只载入演示数据，不启动网页服务
        #[arg(long)]
        no_serve: bool,
    },
    /// 升级数据库结构
    Migrate,
    /// 组织架构
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// 用户
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// 审计日志
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// 台账：定义（TOML）、模板、导入、导出、汇总、基准测试
    Ledger {
        #[command(subcommand)]
        command: xiangzhi::cli_ledger::LedgerCommand,
    },
    /// 事件（矛盾纠纷、信访、12345、环境事件、安全隐患）：登记、办理、列表、化解层级统计
    Case {
        #[command(subcommand)]
        command: xiangzhi::cli_case::CaseCommand,
    },
    /// 重点人员：名单、应走访、登记走访
    KeyPerson {
        #[command(subcommand)]
        command: xiangzhi::cli_case::KeyPersonCommand,
    },
    /// 重点项目、招商引资、跑项争资
    Project {
        #[command(subcommand)]
        command: xiangzhi::cli_case::ProjectCommand,
    },
    /// 督查督办任务：列表、报送进展、完成情况
    Task {
        #[command(subcommand)]
        command: xiangzhi::cli_case::TaskCommand,
    },
    /// 民生保障名单：列出、导出
    Roster {
        #[command(subcommand)]
        command: xiangzhi::cli_assistance::RosterCommand,
    },
    /// 发放表：生成、审批、导出银行文件、基准测试
    Payroll {
        #[command(subcommand)]
        command: xiangzhi::cli_assistance::PayrollCommand,
    },
    /// 核查（民生保障）
    Check {
        #[command(subcommand)]
        command: xiangzhi::cli_assistance::CheckCommand,
    },
    /// 指标：列表、计算（同比、目标、出处）、定义指标包
    Indicator {
        #[command(subcommand)]
        command: xiangzhi::cli_indicator::IndicatorCommand,
    },
    /// 统计数据：DHIS2 dataValueSets JSON / ADX XML 导出与导入
    Data {
        #[command(subcommand)]
        command: xiangzhi::cli_indicator::DataCommand,
    },
    /// 工作报告：按模板生成 DOCX/PDF/HTML，定稿，比较
    Report {
        #[command(subcommand)]
        command: xiangzhi::cli_report::ReportCommand,
    },
    /// 在服务运行时生成一致的备份（SQLite：一个文件；PostgreSQL：一个 CSV 目录）
    Backup { out: PathBuf },
    /// 从 SQLite 备份恢复到 --db 所指的新文件：先校验文件完整、数据库版本和审计日志哈希链，校验不过不恢复
    Restore { backup: PathBuf },
    /// 导入人员、户或企业（CSV/XLSX/XLS，按中文列名匹配；先校验，全部正确才写入）
    Import(xiangzhi::cli_registry::ImportArgs),
    /// 导出人员、户或企业（XLSX 或 CSV）
    Export(xiangzhi::cli_registry::ExportArgs),
    /// 生成导入模板 XLSX
    Template(xiangzhi::cli_registry::TemplateArgs),
    /// 生成测试数据：`--out DIR --county CODE` 生成一个合成县（导入格式的文件），或子命令
    #[command(args_conflicts_with_subcommands = true)]
    BenchData {
        #[command(subcommand)]
        command: Option<xiangzhi::cli_registry::BenchCommand>,
        #[command(flatten)]
        county: xiangzhi::bench_county::CountyArgs,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// 导入统计用区划代码（provinces.csv … villages.csv.gz 所在目录），可重复执行
    ImportDivisions {
        dir: PathBuf,
        /// 只导入该代码之下的单位（及其上级），如 3601
        #[arg(long)]
        under: Option<String>,
    },
    /// 在村/社区下新增网格
    AddGrid { village_code: String, name: String },
    /// 按 CSV（列：村代码、网格名称）批量新增网格；同名网格已存在的跳过
    AddGrids { file: PathBuf },
    /// 更名（保留沿革）
    Rename {
        code: String,
        name: String,
        /// 生效日期 YYYY-MM-DD
        #[arg(long)]
        effective: chrono::NaiveDate,
    },
    /// 合并：FROM 撤销并入 INTO，其下级单位改隶 INTO，旧代码仍可解析
    Merge {
        from: String,
        into: String,
        #[arg(long)]
        effective: chrono::NaiveDate,
    },
    /// 拆分：自 FROM 析出新单位 NEW_CODE，并带走 --children 所列下级单位
    Split {
        from: String,
        new_code: String,
        name: String,
        #[arg(long, value_delimiter = ',')]
        children: Vec<String>,
        #[arg(long)]
        effective: chrono::NaiveDate,
    },
    /// 显示一个单位及其下级
    Show { code: String },
    /// 按名称或代码查找
    Search { query: String },
}

#[derive(Subcommand)]
enum UserCommand {
    /// 新增用户；密码从标准输入读取一行
    Add {
        #[arg(long)]
        name: String,
        /// 姓名（默认同用户名）
        #[arg(long)]
        display_name: Option<String>,
        /// 角色：admin township_leader township_clerk village_cadre grid_worker county_approver auditor，或中文名
        #[arg(long)]
        role: String,
        /// 所属单位代码（管辖范围）
        #[arg(long)]
        org: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// 列出用户
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// 校验哈希链，报告第一处断裂
    Verify,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("XIANGZHI_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Import(_)
            | Command::Ledger {
                command: xiangzhi::cli_ledger::LedgerCommand::Import { .. }
            }
    ) {
        xiangzhi::heap::hold_for_bulk_work();
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(0) => {}
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("错误：{e:#}");
            std::process::exit(1);
        }
    }
}

/// The stores a command opened, closed when it ends, however it ends: a SQLite store left
/// open leaves its WAL beside the file, and the next opener replays it (an import's switch to
/// a rollback journal paid about a second for the 25 MB `org add-grids` left).
#[derive(Default)]
struct OpenedStores(std::sync::Mutex<Vec<Arc<dyn Store>>>);

impl OpenedStores {
    fn keep(&self, store: Arc<dyn Store>) -> Arc<dyn Store> {
        self.0
            .lock()
            .expect("no panic while holding the list")
            .push(store.clone());
        store
    }

    async fn close_all(&self) -> Result<()> {
        let stores = std::mem::take(&mut *self.0.lock().expect("no panic while holding the list"));
        for store in stores {
            store.close().await.context("关闭数据库时出错")?;
        }
        Ok(())
    }
}

/// Runs the command and returns the process's exit code.
async fn run(cli: Cli) -> Result<i32> {
    let opened = OpenedStores::default();
    let result = run_command(cli, &opened).await;
    let closed = opened.close_all().await;
    let code = result?;
    closed?;
    Ok(code)
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

async fn run_command(cli: Cli, opened: &OpenedStores) -> Result<i32> {
    let db = cli.db.clone();
    let key_file = cli.key_file.clone();
    let open_store = |url: String| {
        let key_file = key_file.clone();
        async move {
            open_store(&url, key_file.as_deref())
                .await
                .map(|s| opened.keep(s))
        }
    };
    let url = || {
        db.clone()
            .unwrap_or_else(|| "sqlite://./xiangzhi.db".into())
    };
    let done = match cli.command {
        Command::Serve {
            listen,
            secure_cookies,
            open311_require_key,
            open311_posts_per_minute,
        } => {
            let store = open_store(url()).await?;
            let config = xiangzhi_web::WebConfig {
                secure_cookies,
                open311_require_key,
                open311_posts_per_minute,
            };
            serve(store, &listen, config, None).await
        }
        Command::Demo { listen, no_serve } => {
            let url = db.unwrap_or_else(|| "sqlite://./xiangzhi-demo.db".into());
            let store = open_store(url).await?;
            let logins = demo::load(&store).await?;
            if no_serve {
                print(cli.json, &logins, || println!("演示数据已载入"));
                return Ok(0);
            }
            serve(store, &listen, Default::default(), Some(logins)).await
        }
        Command::Migrate => {
            let store = open_store(url()).await?;
            let v = store.schema_version().await?;
            print(
                cli.json,
                &serde_json::json!({ "schema_version": v }),
                || println!("数据库结构已是最新（版本 {v}）"),
            );
            Ok(())
        }
        Command::Org { command } => org(command, &open_store(url()).await?, cli.json).await,
        Command::User { command } => user(command, &open_store(url()).await?, cli.json).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let store = open_store(url()).await?;
            let report = store.audit_verify().await?;
            print(cli.json, &report, || match &report.first_break {
                None => println!("审计日志完整：{} 条记录，哈希链无断裂", report.rows),
                Some(b) => println!("审计日志被篡改：{b}"),
            });
            return Ok(if report.first_break.is_some() { 2 } else { 0 });
        }
        Command::Import(args) => {
            let store = opened.keep(open_store_solo(&url(), key_file.as_deref()).await?);
            return xiangzhi::cli_registry::import(args, &store, cli.json).await;
        }
        Command::Export(args) => {
            xiangzhi::cli_registry::export(args, &open_store(url()).await?, cli.json).await
        }
        Command::Template(args) => xiangzhi::cli_registry::template(args),
        Command::BenchData {
            command: Some(command),
            ..
        } => xiangzhi::cli_registry::bench_data(command, &open_store(url()).await?, cli.json).await,
        Command::BenchData {
            command: None,
            county,
        } => xiangzhi::cli_registry::bench_county(county, cli.json),
        Command::Ledger { command } => {
            let store = match command {
                xiangzhi::cli_ledger::LedgerCommand::BenchAggregate { .. } => None,
                _ => Some(open_store(url()).await?),
            };
            xiangzhi::cli_ledger::run(command, store.as_ref(), cli.json).await
        }
        Command::Case { command } => {
            xiangzhi::cli_case::run_case(command, &open_store(url()).await?, cli.json).await
        }
        Command::KeyPerson { command } => {
            xiangzhi::cli_case::run_key_person(command, &open_store(url()).await?, cli.json).await
        }
        Command::Project { command } => {
            xiangzhi::cli_case::run_project(command, &open_store(url()).await?, cli.json).await
        }
        Command::Task { command } => {
            xiangzhi::cli_case::run_task(command, &open_store(url()).await?, cli.json).await
        }
        Command::Report { command } => {
            xiangzhi::cli_report::run(command, &open_store(url()).await?, cli.json).await
        }
        Command::Roster { command } => {
            xiangzhi::cli_assistance::roster_cmd(command, &open_store(url()).await?, cli.json).await
        }
        Command::Payroll { command } => {
            let store = match command {
                xiangzhi::cli_assistance::PayrollCommand::Bench { .. } => None,
                _ => Some(open_store(url()).await?),
            };
            xiangzhi::cli_assistance::payroll_cmd(command, store.as_ref(), cli.json).await
        }
        Command::Check { command } => {
            xiangzhi::cli_assistance::check_cmd(command, &open_store(url()).await?, cli.json).await
        }
        Command::Restore { backup } => {
            let target = url();
            if target.starts_with("postgres://") || target.starts_with("postgresql://") {
                anyhow::bail!(
                    "PostgreSQL 的备份是一个 CSV 目录，请按 README“备份与恢复”一节用 psql 的 \\copy 恢复"
                );
            }
            let key = key_file
                .clone()
                .unwrap_or_else(|| xiangzhi::default_key_path(&target));
            let report = xiangzhi::restore::restore_sqlite(&backup, &target, &key).await?;
            print(cli.json, &report, || {
                println!(
                    "已恢复到 {}：数据库版本 {}（备份时 {}），{} 张表，审计日志 {} 条，哈希链无断裂",
                    report.target.display(),
                    report.schema,
                    report.backup_schema,
                    report.tables,
                    report.audit_rows
                )
            });
            Ok(())
        }
        Command::Indicator { command } => {
            xiangzhi::cli_indicator::run_indicator(command, &open_store(url()).await?, cli.json)
                .await
        }
        Command::Data { command } => {
            return xiangzhi::cli_indicator::run_data(command, &open_store(url()).await?, cli.json)
                .await;
        }
        Command::Backup { out } => {
            let store = open_store(url()).await?;
            store.backup(&out).await?;
            print(cli.json, &serde_json::json!({ "backup": out }), || {
                println!("已备份到 {}", out.display())
            });
            Ok(())
        }
    };
    done.map(|()| 0)
}

async fn serve(
    store: Arc<dyn Store>,
    listen: &str,
    config: xiangzhi_web::WebConfig,
    demo: Option<Vec<demo::Login>>,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("无法监听 {listen}"))?;
    let addr = listener.local_addr()?;
    println!("乡治已启动：http://{addr}/ （数据库：{}）", store.backend());
    if let Some(logins) = demo {
        println!("演示账号（密码均为 {}）：", demo::PASSWORD);
        for l in logins {
            println!("  {:<10} {:<8} {}", l.username, l.role.label(), l.org_name);
        }
    }
    tokio::spawn(remind_hourly(store.clone()));
    // The assistance cross-checks run every night, stored as run by the system.
    let nightly = xiangzhi_web::check_pages::spawn_nightly(store.clone());
    let state = xiangzhi_web::AppState::new(store, config);
    let served = xiangzhi_web::serve(listener, state).await;
    nightly.abort();
    served?;
    Ok(())
}

/// 催办 soon-due and overdue cases while the server runs: at most once a case a day (the
/// store skips those already reminded today), checked every hour so a restart loses nothing.
/// The first check waits ten minutes: the day's first pass writes a reminder per open case
/// (2,000 for a county's imported ledger), and right after a start that write would drop
/// every page just computed for the first users.
async fn remind_hourly(store: Arc<dyn Store>) {
    let rules = xiangzhi_store::case::CaseRules::default();
    let actor = Actor::system("催办");
    let first = tokio::time::Instant::now() + std::time::Duration::from_secs(600);
    let mut tick = tokio::time::interval_at(first, std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let today = chrono::Local::now().date_naive();
        match store.remind_due_cases(&actor, &rules, today).await {
            Ok(ids) if !ids.is_empty() => tracing::info!(count = ids.len(), "due cases reminded"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "due-case reminders failed"),
        }
    }
}

fn code(s: &str) -> Result<DivisionCode> {
    DivisionCode::parse(s).map_err(|e| anyhow!("{e}"))
}

async fn org(command: OrgCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    let actor = Actor::system(&whoami());
    match command {
        OrgCommand::ImportDivisions { dir, under } => {
            let under = under.as_deref().map(code).transpose()?;
            let started = Instant::now();
            let bar = progress(json);
            let units = divisions::read_dir(&dir, under.as_ref(), |stem, n| {
                bar.set_message(format!("读取 {stem}：{n} 条"));
                bar.tick();
            })?;
            bar.set_message(format!("写入数据库：{} 个单位", units.len()));
            let summary = store.import_org_units(&actor, &units).await?;
            bar.finish_and_clear();
            let secs = started.elapsed().as_secs_f64();
            let out =
                serde_json::json!({ "units": units.len(), "summary": summary, "seconds": secs });
            print(json, &out, || {
                println!(
                    "导入完成：文件中 {} 个单位；新增 {}，更名 {}，调整隶属 {}，未变 {}；用时 {secs:.2} 秒",
                    units.len(),
                    summary.inserted,
                    summary.renamed,
                    summary.moved,
                    summary.unchanged
                )
            });
            Ok(())
        }
        OrgCommand::AddGrid { village_code, name } => {
            let grid = store.add_grid(&actor, &code(&village_code)?, &name).await?;
            print(json, &grid, || {
                println!("已新增网格 {} {}", grid.code, grid.name)
            });
            Ok(())
        }
        OrgCommand::AddGrids { file } => {
            let started = Instant::now();
            let (added, kept) = xiangzhi::cli_registry::add_grids(store, &actor, &file).await?;
            let secs = started.elapsed().as_secs_f64();
            let out = serde_json::json!({ "added": added, "existing": kept, "seconds": secs });
            print(json, &out, || {
                println!("已新增网格 {added} 个，已有 {kept} 个；用时 {secs:.2} 秒")
            });
            Ok(())
        }
        OrgCommand::Rename {
            code: c,
            name,
            effective,
        } => {
            let unit = store
                .rename_org_unit(&actor, &code(&c)?, &name, effective)
                .await?;
            print(json, &unit, || {
                println!("已更名：{} {}（{effective} 起）", unit.code, unit.name)
            });
            Ok(())
        }
        OrgCommand::Merge {
            from,
            into,
            effective,
        } => {
            store
                .merge_org_units(&actor, &code(&from)?, &code(&into)?, effective)
                .await?;
            let out = serde_json::json!({ "merged": from, "into": into, "effective": effective });
            print(json, &out, || {
                println!("已合并：{from} 并入 {into}（{effective} 起）")
            });
            Ok(())
        }
        OrgCommand::Split {
            from,
            new_code,
            name,
            children,
            effective,
        } => {
            let children = children
                .iter()
                .map(|c| code(c))
                .collect::<Result<Vec<_>>>()?;
            let unit = store
                .split_org_unit(
                    &actor,
                    &code(&from)?,
                    &code(&new_code)?,
                    &name,
                    &children,
                    effective,
                )
                .await?;
            print(json, &unit, || {
                println!(
                    "已析出 {} {}，带走 {} 个下级单位",
                    unit.code,
                    unit.name,
                    children.len()
                )
            });
            Ok(())
        }
        OrgCommand::Show { code: c } => {
            let c = code(&c)?;
            let unit = store.org_unit(&Scope::all(), &c).await?;
            let children = store.org_children(&Scope::all(), Some(&c)).await?;
            let out = serde_json::json!({ "unit": unit, "children": children });
            print(json, &out, || {
                println!("{} {}（{}）", unit.code, unit.name, unit.level.label());
                for ch in &children {
                    println!("  {} {}", ch.code, ch.name);
                }
            });
            Ok(())
        }
        OrgCommand::Search { query } => {
            let found = store.org_search(&Scope::all(), &query, 100).await?;
            print(json, &found, || {
                for u in &found {
                    println!("{} {}（{}）", u.code, u.name, u.level.label());
                }
            });
            Ok(())
        }
    }
}

async fn user(command: UserCommand, store: &Arc<dyn Store>, json: bool) -> Result<()> {
    match command {
        UserCommand::Add {
            name,
            display_name,
            role,
            org,
            password_stdin: _,
        } => {
            let role = Role::parse(&role).ok_or_else(|| anyhow!("未知的角色“{role}”"))?;
            let org_code = code(&org)?;
            let mut password = String::new();
            if std::io::stdin().is_terminal() {
                eprintln!("请输入密码后回车：");
            }
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("无法从标准输入读取密码")?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            xiangzhi_web::password::check_strength(&password).map_err(|e| anyhow!(e))?;
            let new = NewUser {
                display_name: display_name.unwrap_or_else(|| name.clone()),
                username: name,
                role,
                org_code,
                password_hash: xiangzhi_web::password::hash(&password),
            };
            let u = store.create_user(&Actor::system(&whoami()), new).await?;
            print(json, &u, || {
                println!(
                    "已新增用户 {}（{}，{}）",
                    u.username,
                    u.role.label(),
                    u.org_code
                )
            });
            Ok(())
        }
        UserCommand::List => {
            let users = store.list_users(&Scope::all()).await?;
            print(json, &users, || {
                for u in &users {
                    let state = if u.active { "" } else { "（停用）" };
                    println!(
                        "{:<12} {:<8} {:<8} {}{state}",
                        u.username,
                        u.display_name,
                        u.role.label(),
                        u.org_code
                    );
                }
            });
            Ok(())
        }
    }
}

fn progress(json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {elapsed} {msg}").expect("template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn whoami() -> String {
    std::env::var("USER").unwrap_or_else(|_| "cli".into())
}
