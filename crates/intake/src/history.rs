//! 存量导入: the rosters, monthly payout sheets and case ledgers a township kept before
//! xiangzhi, read by their Chinese headers and handed to the store, which checks every row
//! against the registry and writes all of them or none.

use std::sync::Arc;

use anyhow::Result;
use chrono::NaiveDate;
use xiangzhi_domain::assistance_lifecycle::ExitReason;
use xiangzhi_domain::case::Tier;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_exchange::convert;
use xiangzhi_exchange::write::TemplateColumn;
use xiangzhi_exchange::{ColumnSpec, Row, RowError, Sheet};
use xiangzhi_store::assistance::{EnrollmentImportRow, PayoutImportRow};
use xiangzhi_store::case::{CaseImportRow, CaseRules};
use xiangzhi_store::registry::ImportOutcome;
use xiangzhi_store::{Actor, Store};

use crate::{Kind, OrgResolver, citizen_id, parse_org, split, text, today};

pub(crate) fn enrollment_specs() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::required("项目")
            .alias("救助项目")
            .alias("项目名称"),
        ColumnSpec::required("身份证号")
            .alias("公民身份号码")
            .alias("身份证号码"),
        ColumnSpec::optional("户号"),
        ColumnSpec::optional("所属村").alias("村"),
        ColumnSpec::optional("所属网格").alias("网格"),
        ColumnSpec::optional("类别").alias("保障类别"),
        ColumnSpec::required("纳入日期")
            .alias("开始日期")
            .alias("享受日期"),
        ColumnSpec::optional("状态"),
        ColumnSpec::optional("退出日期"),
        ColumnSpec::optional("退出原因"),
    ]
}

pub(crate) fn payout_specs() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::required("项目")
            .alias("救助项目")
            .alias("项目名称"),
        ColumnSpec::required("期间").alias("发放月份").alias("月份"),
        ColumnSpec::required("身份证号")
            .alias("公民身份号码")
            .alias("身份证号码"),
        ColumnSpec::optional("所属村").alias("村"),
        ColumnSpec::optional("所属网格").alias("网格"),
        ColumnSpec::required("金额（元）")
            .alias("金额(元)")
            .alias("金额")
            .alias("发放金额"),
    ]
}

pub(crate) fn case_specs() -> Vec<ColumnSpec> {
    vec![
        ColumnSpec::required("类别").alias("事件类别"),
        ColumnSpec::required("事件标题").alias("标题").alias("事由"),
        ColumnSpec::optional("所属村").alias("村"),
        ColumnSpec::optional("所属网格")
            .alias("网格")
            .alias("发生地"),
        ColumnSpec::required("登记日期"),
        ColumnSpec::required("办结层级")
            .alias("化解层级")
            .alias("办理层级"),
        ColumnSpec::optional("办结日期"),
        ColumnSpec::optional("状态"),
        ColumnSpec::optional("回访结果"),
    ]
}

pub(crate) fn enrollment_template() -> (&'static str, Vec<TemplateColumn>, Vec<&'static str>) {
    (
        "救助名单",
        vec![
            TemplateColumn::new("项目")
                .required()
                .note("项目名称或代码，如“最低生活保障”或 min_living"),
            TemplateColumn::new("身份证号")
                .required()
                .note("按户的项目填户主（或任一在册成员）"),
            TemplateColumn::new("户号"),
            TemplateColumn::new("所属网格").note("可不填；填写则须与人口库一致"),
            TemplateColumn::new("类别").note("项目分类别时必填，如“农村低保”"),
            TemplateColumn::new("纳入日期").required(),
            TemplateColumn::new("状态").choices(&["在保", "已退出"]),
            TemplateColumn::new("退出日期").note("已退出的必填"),
            TemplateColumn::new("退出原因"),
        ],
        vec![
            "最低生活保障",
            "36100219800101001X",
            "",
            "",
            "农村低保",
            "2021-03-01",
            "在保",
            "",
            "",
        ],
    )
}

pub(crate) fn payout_template() -> (&'static str, Vec<TemplateColumn>, Vec<&'static str>) {
    (
        "发放记录",
        vec![
            TemplateColumn::new("项目").required(),
            TemplateColumn::new("期间")
                .required()
                .note("发放月份，如 202305"),
            TemplateColumn::new("身份证号").required(),
            TemplateColumn::new("所属网格").note("可不填；填写则须与人口库一致"),
            TemplateColumn::new("金额（元）").required(),
        ],
        vec!["最低生活保障", "202305", "36100219800101001X", "", "705"],
    )
}

pub(crate) fn case_template() -> (&'static str, Vec<TemplateColumn>, Vec<&'static str>) {
    (
        "事件台账",
        vec![
            TemplateColumn::new("类别")
                .required()
                .note("类别名称或代码，如“邻里纠纷”"),
            TemplateColumn::new("事件标题").required(),
            TemplateColumn::new("所属村"),
            TemplateColumn::new("所属网格").note("发生地：网格名称或代码；乡镇级事件填乡镇代码"),
            TemplateColumn::new("登记日期").required(),
            TemplateColumn::new("办结层级")
                .required()
                .choices(&["网格", "村", "乡镇", "县"]),
            TemplateColumn::new("办结日期").note("尚未办结的不填"),
            TemplateColumn::new("状态").choices(&["已办结", "办理中"]),
            TemplateColumn::new("回访结果").choices(&["满意", "不满意"]),
        ],
        vec![
            "邻里纠纷",
            "邻里通道纠纷",
            "头昌村委会",
            "第一网格",
            "2023-03-02",
            "网格",
            "2023-03-06",
            "已办结",
            "满意",
        ],
    )
}

/// Collects the errors of one row's fields.
struct Errors(Vec<RowError>);

impl Errors {
    fn take<T>(&mut self, r: Result<T, RowError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }
    fn bad(&mut self, sheet: &Sheet, row: &Row, col: &str, reason: impl Into<String>) {
        self.0.push(RowError::new(
            row.line,
            sheet.field(row, col).column,
            reason,
        ));
    }
}

fn required_text(sheet: &Sheet, row: &Row, col: &str) -> Result<String, RowError> {
    sheet
        .field(row, col)
        .parse(|c| convert::required(convert::text(c)))
}

/// What a 状态 cell says: ended (已退出, 已办结) or not (在保, 办理中); `None` when blank, or
/// when unrecognised (reported).
fn ended(sheet: &Sheet, row: &Row, col: &str, e: &mut Errors) -> Option<bool> {
    match e.take(text(sheet, row, col)).flatten().as_deref() {
        None => None,
        Some("在保" | "active" | "在册" | "享受中" | "办理中" | "in_progress") => {
            Some(false)
        }
        Some("已退出" | "退出" | "exited" | "已办结" | "办结" | "closed") => Some(true),
        Some(other) => {
            e.bad(sheet, row, col, format!("“{other}”无法识别"));
            None
        }
    }
}

fn parse_enrollment(
    sheet: &Sheet,
    row: &Row,
    orgs: &OrgResolver,
    today: NaiveDate,
) -> Result<EnrollmentImportRow, Vec<RowError>> {
    let mut e = Errors(Vec::new());
    let program = e.take(required_text(sheet, row, "项目"));
    let id = e
        .take(citizen_id(sheet, row, "身份证号", true, today))
        .flatten();
    let household_no = e
        .take(sheet.field(row, "户号").parse(convert::id_text))
        .flatten();
    let org = e.take(parse_org(sheet, row, orgs)).flatten();
    let category = e.take(text(sheet, row, "类别")).flatten();
    let start = e.take(
        sheet
            .field(row, "纳入日期")
            .parse(|c| convert::required(convert::date(c))),
    );
    let exited = ended(sheet, row, "状态", &mut e);
    let exit_on = e
        .take(sheet.field(row, "退出日期").parse(convert::date))
        .flatten();
    let reason = match e.take(text(sheet, row, "退出原因")).flatten() {
        None => Some(ExitReason::Other),
        Some(r) => ExitReason::parse(&r)
            .or_else(|| ExitReason::ALL.iter().copied().find(|x| x.label() == r))
            .or_else(|| {
                e.bad(sheet, row, "退出原因", format!("“{r}”无法识别"));
                None
            }),
    };
    let exit = match (exited, exit_on) {
        (Some(true), None) => {
            e.bad(sheet, row, "退出日期", "已退出的须填写退出日期");
            None
        }
        (Some(false), Some(_)) => {
            e.bad(sheet, row, "状态", "在保的不应有退出日期");
            None
        }
        (_, Some(d)) => reason.map(|r| (d, r)),
        _ => None,
    };
    match (program, id, start) {
        (Some(program), Some(citizen_id), Some(start_on)) if e.0.is_empty() => {
            Ok(EnrollmentImportRow {
                line: row.line,
                program,
                citizen_id,
                household_no,
                org_code: org,
                category: category.unwrap_or_default(),
                start_on,
                exit,
            })
        }
        _ => Err(e.0),
    }
}

fn parse_payout(
    sheet: &Sheet,
    row: &Row,
    orgs: &OrgResolver,
    today: NaiveDate,
) -> Result<PayoutImportRow, Vec<RowError>> {
    let mut e = Errors(Vec::new());
    let program = e.take(required_text(sheet, row, "项目"));
    let period = e.take(
        sheet
            .field(row, "期间")
            .parse(|c| convert::required(convert::id_text(c))),
    );
    let id = e
        .take(citizen_id(sheet, row, "身份证号", true, today))
        .flatten();
    let org = e.take(parse_org(sheet, row, orgs)).flatten();
    let amount = e.take(sheet.field(row, "金额（元）").parse(|c| {
        let t = convert::required(convert::text(c))?;
        Money::parse_yuan(t.trim_end_matches('元')).map_err(|err| format!("无效：{err}"))
    }));
    match (program, period, id, amount) {
        (Some(program), Some(period), Some(citizen_id), Some(amount)) if e.0.is_empty() => {
            Ok(PayoutImportRow {
                line: row.line,
                program,
                period,
                citizen_id,
                org_code: org,
                amount,
            })
        }
        _ => Err(e.0),
    }
}

fn parse_case(
    sheet: &Sheet,
    row: &Row,
    orgs: &OrgResolver,
    org: &DivisionCode,
) -> Result<CaseImportRow, Vec<RowError>> {
    let mut e = Errors(Vec::new());
    let category = e.take(required_text(sheet, row, "类别"));
    let title = e.take(required_text(sheet, row, "事件标题"));
    // A township's own case names the township (the import's unit) as where it happened.
    let grid = e.take(text(sheet, row, "所属网格")).flatten();
    let place = if grid.as_deref() == Some(org.as_str()) {
        Some(org.clone())
    } else {
        e.take(parse_org(sheet, row, orgs)).flatten()
    };
    if place.is_none() && e.0.is_empty() {
        e.bad(sheet, row, "所属网格", "未填写发生地（所属村或所属网格）");
    }
    let registered = e.take(
        sheet
            .field(row, "登记日期")
            .parse(|c| convert::required(convert::date(c))),
    );
    let tier = match e.take(required_text(sheet, row, "办结层级")) {
        Some(t) => {
            let t = t.trim_end_matches("级");
            let found = match t {
                "网格" | "grid" => Some(Tier::Grid),
                "村" | "村（社区）" | "社区" | "village" => Some(Tier::Village),
                "乡镇" | "乡" | "镇" | "township" => Some(Tier::Township),
                "县" | "县区" | "区" | "county" => Some(Tier::County),
                _ => None,
            };
            if found.is_none() {
                e.bad(
                    sheet,
                    row,
                    "办结层级",
                    format!("“{t}”无法识别，应为网格、村、乡镇或县"),
                );
            }
            found
        }
        None => None,
    };
    let closed_on = e
        .take(sheet.field(row, "办结日期").parse(convert::date))
        .flatten();
    match ended(sheet, row, "状态", &mut e) {
        Some(true) if closed_on.is_none() => {
            e.bad(sheet, row, "办结日期", "已办结的须填写办结日期")
        }
        Some(false) if closed_on.is_some() => e.bad(sheet, row, "状态", "办理中的不应有办结日期"),
        _ => {}
    }
    let satisfied = match e.take(text(sheet, row, "回访结果")).flatten().as_deref() {
        None => None,
        Some("满意" | "基本满意") => Some(true),
        Some("不满意") => Some(false),
        Some(other) => {
            e.bad(
                sheet,
                row,
                "回访结果",
                format!("“{other}”无法识别，应为满意或不满意"),
            );
            None
        }
    };
    match (category, title, place, registered, tier) {
        (Some(category), Some(title), Some(org_code), Some(registered_on), Some(tier))
            if e.0.is_empty() =>
        {
            Ok(CaseImportRow {
                line: row.line,
                category,
                title,
                org_code,
                registered_on,
                tier,
                closed_on,
                satisfied,
            })
        }
        _ => Err(e.0),
    }
}

/// Parses every row of a 存量 file and hands the good ones to the store: a preview when
/// `dry_run` or when any row failed to parse, else all or nothing.
pub(crate) async fn import(
    store: &Arc<dyn Store>,
    actor: &Actor,
    kind: Kind,
    sheet: &Sheet,
    orgs: &OrgResolver,
    org: &DivisionCode,
    dry_run: bool,
) -> Result<(Vec<RowError>, ImportOutcome)> {
    let rows = sheet.rows.iter();
    let today = today();
    let (errs, out) = match kind {
        Kind::Enrollments => {
            let (ok, errs) = split(rows.map(|r| parse_enrollment(sheet, r, orgs, today)));
            let preview = dry_run || !errs.is_empty();
            (
                errs,
                store.import_enrollments(actor, org, &ok, preview).await?,
            )
        }
        Kind::Payouts => {
            let (ok, errs) = split(rows.map(|r| parse_payout(sheet, r, orgs, today)));
            let preview = dry_run || !errs.is_empty();
            (errs, store.import_payouts(actor, org, &ok, preview).await?)
        }
        Kind::Cases => {
            let (ok, errs) = split(rows.map(|r| parse_case(sheet, r, orgs, org)));
            let preview = dry_run || !errs.is_empty();
            let rules = CaseRules::default();
            (
                errs,
                store.import_cases(actor, &rules, org, &ok, preview).await?,
            )
        }
        Kind::Persons | Kind::Households | Kind::Enterprises => {
            anyhow::bail!("{}不是存量记录", kind.label())
        }
    };
    Ok((errs, out))
}
