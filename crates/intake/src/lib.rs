//! Registry import and export: files in (CSV UTF-8/GBK, XLSX, XLS) matched by Chinese headers,
//! validated outside any transaction, then handed to the store's bulk path (preview or
//! all-or-nothing commit); files out (XLSX streamed in constant memory, or CSV).
//!
//! Used by the CLI (`xiangzhi import|export`) and by the web pages: call
//! [`read_sheet`] and [`import_sheet`] (both sync parsing parts belong in `spawn_blocking` on a
//! server), show [`ImportReport::summary`] as the preview, offer [`error_report`] for download,
//! and [`template`] for the empty form.

pub mod history;
pub mod ledger;

use std::sync::Arc;

use anyhow::{Result, anyhow};
use chrono::NaiveDate;
use serde::Serialize;
use xiangzhi_domain::citizen_id::CitizenId;
use xiangzhi_domain::credit_code::CreditCode;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::phone::Phone;
use xiangzhi_exchange::convert;
use xiangzhi_exchange::write::{TemplateColumn, TemplateSpec};
use xiangzhi_exchange::{Cell, Col, ColumnRef, ColumnSpec, Limits, Row, RowError, Sheet};
use xiangzhi_store::registry::*;
use xiangzhi_store::sql_registry::{FastMap, par_map_split};
use xiangzhi_store::timing::Phases;
use xiangzhi_store::{Actor, Scope, Store};

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Persons,
    Households,
    Enterprises,
    /// 存量名单: assistance enrollments kept before xiangzhi.
    Enrollments,
    /// 历史发放记录: monthly payouts made before xiangzhi.
    Payouts,
    /// 事件台账: cases kept before xiangzhi.
    Cases,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Persons => "人员",
            Kind::Households => "户",
            Kind::Enterprises => "企业",
            Kind::Enrollments => "存量救助名单",
            Kind::Payouts => "历史发放记录",
            Kind::Cases => "事件台账",
        }
    }
}

/// Column specs by kind: canonical Chinese header, common aliases, required or not.
pub fn specs(kind: Kind) -> Vec<ColumnSpec> {
    let org = || {
        [
            ColumnSpec::optional("所属村")
                .alias("村")
                .alias("所属村（社区）")
                .alias("村委会"),
            ColumnSpec::optional("所属网格")
                .alias("网格")
                .alias("所属网格/所属村"),
        ]
    };
    match kind {
        Kind::Persons => {
            let mut v = vec![
                ColumnSpec::required("姓名"),
                ColumnSpec::required("身份证号")
                    .alias("公民身份号码")
                    .alias("身份证号码"),
                ColumnSpec::optional("性别"),
                ColumnSpec::optional("出生日期"),
                ColumnSpec::optional("联系电话")
                    .alias("电话")
                    .alias("手机号")
                    .alias("手机号码"),
                ColumnSpec::optional("户号"),
                ColumnSpec::optional("与户主关系").alias("关系"),
                ColumnSpec::optional("人员状态").alias("状态"),
                ColumnSpec::optional("家庭住址").alias("住址"),
                ColumnSpec::optional("标签"),
            ];
            v.extend(org());
            v
        }
        Kind::Households => {
            let mut v = vec![
                ColumnSpec::required("户号"),
                ColumnSpec::optional("户主身份证号").alias("户主公民身份号码"),
                ColumnSpec::optional("地址").alias("家庭住址"),
            ];
            v.extend(org());
            v
        }
        Kind::Enterprises => vec![
            ColumnSpec::required("企业名称").alias("名称"),
            ColumnSpec::required("统一社会信用代码").alias("信用代码"),
            ColumnSpec::required("企业类型").alias("类型"),
            ColumnSpec::optional("注册资本（万元）")
                .alias("注册资本(万元)")
                .alias("注册资本"),
            ColumnSpec::optional("入驻日期").alias("落户日期"),
            ColumnSpec::required("所属村").alias("村"),
            ColumnSpec::optional("联系人"),
            ColumnSpec::optional("联系电话").alias("电话"),
        ],
        Kind::Enrollments => history::enrollment_specs(),
        Kind::Payouts => history::payout_specs(),
        Kind::Cases => history::case_specs(),
    }
}

/// The empty form to download, with choices and notes.
pub fn template(kind: Kind) -> Result<Vec<u8>> {
    let rel: Vec<&str> = Relation::ALL.iter().map(|r| r.label()).collect();
    let status: Vec<&str> = PersonStatus::ALL.iter().map(|r| r.label()).collect();
    let village = TemplateColumn::new("所属村").note("村委会名称，如“头昌村委会”");
    let grid = TemplateColumn::new("所属网格").note("网格名称（如“第一网格”）或15位网格代码");
    let (name, columns, example) = match kind {
        Kind::Persons => (
            "人员",
            vec![
                TemplateColumn::new("姓名").required(),
                TemplateColumn::new("身份证号")
                    .required()
                    .as_text()
                    .note("18位，请保持“文本”格式"),
                TemplateColumn::new("联系电话").as_text(),
                TemplateColumn::new("户号").as_text(),
                TemplateColumn::new("与户主关系").choices(&rel),
                TemplateColumn::new("人员状态").choices(&status),
                village,
                grid,
                TemplateColumn::new("家庭住址"),
                TemplateColumn::new("标签")
                    .note("多个用分号分隔，如：残疾:肢体:二级;党员;留守:儿童"),
            ],
            vec![
                "张三".into(),
                "361002199001011234".into(),
                "13800000000".into(),
                "3610022012110001".into(),
                "户主".into(),
                "在册".into(),
                "头昌村委会".into(),
                "第一网格".into(),
                "头昌村1号".into(),
                "党员".into(),
            ],
        ),
        Kind::Households => (
            "户",
            vec![
                TemplateColumn::new("户号").required().as_text(),
                TemplateColumn::new("户主身份证号").as_text(),
                TemplateColumn::new("地址"),
                village,
                grid,
            ],
            vec![
                "3610022012110001".into(),
                "361002199001011234".into(),
                "头昌村1号".into(),
                "头昌村委会".into(),
                "第一网格".into(),
            ],
        ),
        Kind::Enterprises => (
            "企业",
            vec![
                TemplateColumn::new("企业名称").required(),
                TemplateColumn::new("统一社会信用代码").required().as_text(),
                TemplateColumn::new("企业类型")
                    .required()
                    .note("物流、建筑、劳务、汽车等（系统配置）"),
                TemplateColumn::new("注册资本（万元）"),
                TemplateColumn::new("入驻日期"),
                TemplateColumn::new("所属村").required(),
                TemplateColumn::new("联系人"),
                TemplateColumn::new("联系电话").as_text(),
            ],
            vec![
                "抚州某物流有限公司".into(),
                "91361002MA35XXXXXX".into(),
                "物流".into(),
                Cell::Int(500),
                "2023-04-01".into(),
                "头昌村委会".into(),
                "周经理".into(),
                "13900000000".into(),
            ],
        ),
        Kind::Enrollments | Kind::Payouts | Kind::Cases => {
            let (name, columns, example) = match kind {
                Kind::Enrollments => history::enrollment_template(),
                Kind::Payouts => history::payout_template(),
                _ => history::case_template(),
            };
            (name, columns, example.into_iter().map(Cell::from).collect())
        }
    };
    let spec = TemplateSpec {
        sheet_name: name.into(),
        title: Some(format!("{name}导入模板")),
        columns,
        rows: vec![example],
        instructions: vec![
            "带 * 的列必须填写；第一行示例请删除后再导入".into(),
            "身份证号、电话、户号列请设为“文本”格式，否则 Excel 会丢失末几位".into(),
        ],
        input_rows: 200,
    };
    xiangzhi_exchange::write::template_xlsx(&spec).map_err(|e| anyhow!("{e}"))
}

/// Generous limits for the operator's CLI (a county roster of 600,000 rows); the web should
/// keep [`Limits::default`].
pub fn cli_limits() -> Limits {
    Limits {
        max_bytes: 512 << 20,
        max_rows: 2_000_000,
        ..Limits::default()
    }
}

pub fn read_sheet(kind: Kind, bytes: &[u8], file_name: &str, limits: &Limits) -> Result<Sheet> {
    xiangzhi_exchange::read_table_with(bytes, file_name, &specs(kind), limits)
        .map_err(|e| anyhow!("{e}"))
}

/// Villages and grids under the import org, found by code or by name. Looked up for every
/// row of a file, so with foldhash and without building a key.
pub struct OrgResolver {
    codes: FastMap<String, DivisionCode>,
    villages: FastMap<String, DivisionCode>,
    /// village code → grid name → grid
    grids: FastMap<String, FastMap<String, DivisionCode>>,
    /// grid name → grids with that name
    grid_names: FastMap<String, Vec<DivisionCode>>,
}

fn short_village(name: &str) -> String {
    let mut n = name.to_string();
    for suffix in ["村民委员会", "居民委员会", "委会", "社区"] {
        if let Some(s) = n.strip_suffix(suffix) {
            n = s.to_string();
            break;
        }
    }
    n
}

impl OrgResolver {
    pub async fn load(
        store: &Arc<dyn Store>,
        scope: &Scope,
        org: &DivisionCode,
    ) -> Result<OrgResolver> {
        let mut r = OrgResolver {
            codes: FastMap::default(),
            villages: FastMap::default(),
            grids: FastMap::default(),
            grid_names: FastMap::default(),
        };
        // One query for the whole subtree (walking it a unit at a time was 1,100 queries and
        // 0.11 s for a county). Last path first: where two villages or two grids of a village
        // share a name, the one with the smaller code is the one a name finds.
        for u in store.org_subtree(scope, org).await?.into_iter().rev() {
            match u.level {
                OrgLevel::Village => {
                    r.codes.insert(u.code.as_str().into(), u.code.clone());
                    r.villages.insert(u.name.clone(), u.code.clone());
                    r.villages.insert(short_village(&u.name), u.code.clone());
                    r.villages.insert(
                        format!("{}村", short_village(&u.name).trim_end_matches('村')),
                        u.code.clone(),
                    );
                }
                OrgLevel::Grid => {
                    r.codes.insert(u.code.as_str().into(), u.code.clone());
                    if let Some(p) = &u.parent_code {
                        r.grids
                            .entry(p.as_str().into())
                            .or_default()
                            .insert(u.name.clone(), u.code.clone());
                    }
                    r.grid_names
                        .entry(u.name.clone())
                        .or_default()
                        .push(u.code.clone());
                }
                _ => {}
            }
        }
        Ok(r)
    }

    fn village(&self, v: &str) -> Result<DivisionCode, String> {
        if let Some(c) = self.codes.get(v) {
            return Ok(c.clone());
        }
        self.villages
            .get(v)
            .or_else(|| self.villages.get(&short_village(v)))
            .cloned()
            .ok_or_else(|| format!("找不到村“{v}”（须在本次导入的单位之下）"))
    }

    /// `(所属村, 所属网格)` → the unit; `Ok(None)` when both are blank.
    pub fn resolve(
        &self,
        village: Option<&str>,
        grid: Option<&str>,
    ) -> Result<Option<DivisionCode>, (bool, String)> {
        let village = village.map(str::trim).filter(|s| !s.is_empty());
        let grid = grid.map(str::trim).filter(|s| !s.is_empty());
        match (village, grid) {
            (None, None) => Ok(None),
            (Some(v), None) => self.village(v).map(Some).map_err(|e| (false, e)),
            (v, Some(g)) => {
                if let Some(c) = self.codes.get(g) {
                    return Ok(Some(c.clone()));
                }
                let (v, g) = match g.split_once(['/', '／']) {
                    Some((a, b)) => (Some(a.trim()), b.trim()),
                    None => (v, g),
                };
                match v {
                    Some(v) => {
                        let vc = self.village(v).map_err(|e| (false, e))?;
                        self.grids
                            .get(vc.as_str())
                            .and_then(|names| names.get(g))
                            .cloned()
                            .map(Some)
                            .ok_or_else(|| (true, format!("“{v}”下没有网格“{g}”")))
                    }
                    None => match self.grid_names.get(g).map(Vec::as_slice) {
                        Some([one]) => Ok(Some(one.clone())),
                        Some(_) => Err((
                            true,
                            format!("多个村都有“{g}”：请同时填写所属村，或写成“村名/{g}”"),
                        )),
                        None => Err((true, format!("找不到网格“{g}”"))),
                    },
                }
            }
        }
    }
}

/// The date a birth date may not be after.
pub(crate) fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

pub(crate) fn text<'a>(
    sheet: &'a Sheet,
    row: &'a Row,
    col: impl ColumnRef<'a>,
) -> Result<Option<String>, RowError> {
    col.field(sheet, row).parse(convert::text)
}

pub(crate) fn parse_org(
    sheet: &Sheet,
    row: &Row,
    orgs: &OrgResolver,
) -> Result<Option<DivisionCode>, RowError> {
    parse_org_at(sheet, row, orgs, "所属村", "所属网格")
}

/// [`parse_org`] with the columns found beforehand.
fn parse_org_at<'a>(
    sheet: &'a Sheet,
    row: &'a Row,
    orgs: &OrgResolver,
    village: impl ColumnRef<'a>,
    grid: impl ColumnRef<'a>,
) -> Result<Option<DivisionCode>, RowError> {
    let v = text(sheet, row, village)?;
    let g = grid
        .field(sheet, row)
        .parse(convert::id_text)
        .or_else(|_| text(sheet, row, grid))?;
    orgs.resolve(v.as_deref(), g.as_deref())
        .map_err(|(is_grid, reason)| {
            let f = if is_grid {
                grid.field(sheet, row)
            } else {
                village.field(sheet, row)
            };
            RowError::new(row.line, f.column, reason)
        })
}

fn phone<'a>(
    sheet: &'a Sheet,
    row: &'a Row,
    col: impl ColumnRef<'a>,
) -> Result<Option<Phone>, RowError> {
    let f = col.field(sheet, row);
    match f.parse(convert::id_text)? {
        None => Ok(None),
        Some(s) => Phone::parse(&s)
            .map(Some)
            .map_err(|e| RowError::new(row.line, f.column, format!("无效：{e}"))),
    }
}

/// `today` bounds the birth date (taken once per file: the clock per row was 3% of
/// checking a county's).
pub(crate) fn citizen_id<'a>(
    sheet: &'a Sheet,
    row: &'a Row,
    col: impl ColumnRef<'a>,
    required: bool,
    today: NaiveDate,
) -> Result<Option<CitizenId>, RowError> {
    let f = col.field(sheet, row);
    match f.parse(convert::id_text)? {
        None if required => Err(RowError::new(row.line, f.column, "未填写")),
        None => Ok(None),
        Some(s) => CitizenId::parse_at(&s, today)
            .map(Some)
            .map_err(|e| RowError::new(row.line, f.column, format!("无效：{e}"))),
    }
}

/// The columns of a person sheet, found once per file.
struct PersonColumns<'a> {
    name: Col<'a>,
    id: Col<'a>,
    sex: Col<'a>,
    birth: Col<'a>,
    phone: Col<'a>,
    household_no: Col<'a>,
    relation: Col<'a>,
    status: Col<'a>,
    village: Col<'a>,
    grid: Col<'a>,
    address: Col<'a>,
    tags: Col<'a>,
}

impl<'a> PersonColumns<'a> {
    fn of(sheet: &'a Sheet) -> PersonColumns<'a> {
        PersonColumns {
            name: sheet.column("姓名"),
            id: sheet.column("身份证号"),
            sex: sheet.column("性别"),
            birth: sheet.column("出生日期"),
            phone: sheet.column("联系电话"),
            household_no: sheet.column("户号"),
            relation: sheet.column("与户主关系"),
            status: sheet.column("人员状态"),
            village: sheet.column("所属村"),
            grid: sheet.column("所属网格"),
            address: sheet.column("家庭住址"),
            tags: sheet.column("标签"),
        }
    }
}

fn parse_person<'a>(
    sheet: &'a Sheet,
    row: &'a Row,
    cols: &PersonColumns<'a>,
    orgs: &OrgResolver,
    today: NaiveDate,
) -> Result<PersonImportRow, Vec<RowError>> {
    let mut errs = Vec::new();
    macro_rules! take {
        ($e:expr) => {
            match $e {
                Ok(v) => Some(v),
                Err(e) => {
                    errs.push(e);
                    None
                }
            }
        };
    }
    let name = take!(
        sheet
            .field_at(row, cols.name)
            .parse(|c| convert::required(convert::text(c)))
    );
    let id = take!(citizen_id(sheet, row, cols.id, true, today)).flatten();
    if let Some(id) = &id {
        if let Some(sex) = take!(text(sheet, row, cols.sex)).flatten()
            && sex != id.sex().label()
        {
            errs.push(RowError::new(
                row.line,
                sheet.field_at(row, cols.sex).column,
                format!("与身份证号不符：身份证号显示为{}", id.sex().label()),
            ));
        }
        if let Some(b) = take!(sheet.field_at(row, cols.birth).parse(convert::date)).flatten()
            && b != id.birth_date()
        {
            errs.push(RowError::new(
                row.line,
                sheet.field_at(row, cols.birth).column,
                format!("与身份证号不符：身份证号中为{}", id.birth_date()),
            ));
        }
    }
    let phone = take!(phone(sheet, row, cols.phone)).flatten();
    let household_no = take!(
        sheet
            .field_at(row, cols.household_no)
            .parse(convert::id_text)
    )
    .flatten();
    let relation = take!(text(sheet, row, cols.relation).and_then(|v| match v {
        None => Ok(None),
        Some(s) => Relation::parse(&s).map(Some).ok_or_else(|| {
            let all: Vec<&str> = Relation::ALL.iter().map(|r| r.label()).collect();
            RowError::new(
                row.line,
                sheet.field_at(row, cols.relation).column,
                format!("“{s}”无效：应为{}", all.join("、")),
            )
        }),
    }))
    .flatten();
    let status = take!(text(sheet, row, cols.status).and_then(|v| match v {
        None => Ok(None),
        Some(s) => PersonStatus::parse(&s).map(Some).ok_or_else(|| {
            RowError::new(
                row.line,
                sheet.field_at(row, cols.status).column,
                format!("“{s}”无效：应为在册、死亡或迁出"),
            )
        }),
    }))
    .flatten();
    let org = take!(parse_org_at(sheet, row, orgs, cols.village, cols.grid)).flatten();
    let address = take!(text(sheet, row, cols.address)).flatten();
    let tags = if cols.tags.is_present() {
        take!(text(sheet, row, cols.tags).and_then(|v| {
            PersonTag::parse_list(v.as_deref().unwrap_or_default())
                .map_err(|e| RowError::new(row.line, sheet.field_at(row, cols.tags).column, e))
        }))
    } else {
        None
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(PersonImportRow {
        line: row.line,
        name: name.unwrap_or_default(),
        citizen_id: id.expect("checked"),
        phone,
        household_no,
        relation,
        status,
        org_code: org,
        household_address: address,
        tags,
    })
}

fn parse_household(
    sheet: &Sheet,
    row: &Row,
    orgs: &OrgResolver,
    today: NaiveDate,
) -> Result<HouseholdImportRow, Vec<RowError>> {
    let mut errs = Vec::new();
    let no = sheet
        .field(row, "户号")
        .parse(|c| convert::required(convert::id_text(c)))
        .map_err(|e| errs.push(e))
        .ok();
    let head = citizen_id(sheet, row, "户主身份证号", false, today)
        .map_err(|e| errs.push(e))
        .ok()
        .flatten();
    let address = text(sheet, row, "地址")
        .map_err(|e| errs.push(e))
        .ok()
        .flatten();
    let org = match parse_org(sheet, row, orgs) {
        Ok(Some(o)) => Some(o),
        Ok(None) => {
            errs.push(RowError::new(
                row.line,
                "所属网格",
                "未填写：须填写所属网格或所属村",
            ));
            None
        }
        Err(e) => {
            errs.push(e);
            None
        }
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(HouseholdImportRow {
        line: row.line,
        household_no: no.unwrap_or_default(),
        head,
        address: address.unwrap_or_default(),
        org_code: org.expect("checked"),
    })
}

fn capital(cell: &Cell) -> Result<Option<Money>, String> {
    let Some(t) = convert::text(cell)? else {
        return Ok(None);
    };
    capital_text(&t).map(Some)
}

/// Registered capital as offices write it: a bare number is 万元; `万`, `万元`, `元` as written.
pub fn capital_text(t: &str) -> Result<Money, String> {
    let t = if t.ends_with('万') || t.ends_with("万元") || t.ends_with('元') {
        t.to_string()
    } else {
        format!("{t}万")
    };
    Money::parse_yuan(&t).map_err(|e| format!("无效：{e}"))
}

fn parse_enterprise(
    sheet: &Sheet,
    row: &Row,
    orgs: &OrgResolver,
) -> Result<EnterpriseImportRow, Vec<RowError>> {
    let mut errs = Vec::new();
    let name = sheet
        .field(row, "企业名称")
        .parse(|c| convert::required(convert::text(c)))
        .map_err(|e| errs.push(e))
        .ok();
    let f = sheet.field(row, "统一社会信用代码");
    let credit = match f.parse(|c| convert::required(convert::id_text(c))) {
        Ok(s) => match CreditCode::parse(&s) {
            // a failing check character is a warning (kept on the record), not a rejection
            Ok((c, _warning)) => Some(c),
            Err(e) => {
                errs.push(RowError::new(row.line, f.column, format!("无效：{e}")));
                None
            }
        },
        Err(e) => {
            errs.push(e);
            None
        }
    };
    let kind = sheet
        .field(row, "企业类型")
        .parse(|c| convert::required(convert::text(c)))
        .map_err(|e| errs.push(e))
        .ok();
    let cap = sheet
        .field(row, "注册资本（万元）")
        .parse(capital)
        .map_err(|e| errs.push(e))
        .ok()
        .flatten();
    let settled: Option<NaiveDate> = sheet
        .field(row, "入驻日期")
        .parse(convert::date)
        .map_err(|e| errs.push(e))
        .ok()
        .flatten();
    let village = match text(sheet, row, "所属村") {
        Ok(Some(v)) => match orgs.resolve(Some(&v), None) {
            Ok(o) => o,
            Err((_, reason)) => {
                errs.push(RowError::new(
                    row.line,
                    sheet.field(row, "所属村").column,
                    reason,
                ));
                None
            }
        },
        Ok(None) => {
            errs.push(RowError::new(
                row.line,
                sheet.field(row, "所属村").column,
                "未填写",
            ));
            None
        }
        Err(e) => {
            errs.push(e);
            None
        }
    };
    let contact = text(sheet, row, "联系人")
        .map_err(|e| errs.push(e))
        .ok()
        .flatten();
    let ph = phone(sheet, row, "联系电话")
        .map_err(|e| errs.push(e))
        .ok()
        .flatten();
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(EnterpriseImportRow {
        line: row.line,
        enterprise: NewEnterprise {
            name: name.unwrap_or_default(),
            credit_code: credit.expect("checked"),
            kind: kind.unwrap_or_default(),
            registered_capital: cap,
            settled_on: settled,
            org_code: village.expect("checked"),
            contact_name: contact,
            contact_phone: ph,
        },
    })
}

/// A preview or a commit: counts, every problem (row, column, Chinese reason), warnings.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub kind: Kind,
    pub rows: usize,
    pub summary: ImportSummary,
    pub errors: Vec<RowError>,
    pub warnings: Vec<String>,
    /// Credit codes whose check character fails (kept, flagged): `(row, message)`.
    pub credit_code_warnings: Vec<(usize, String)>,
}

/// Parsed rows apart from every row's errors.
pub(crate) fn split<T>(
    results: impl IntoIterator<Item = Result<T, Vec<RowError>>>,
) -> (Vec<T>, Vec<RowError>) {
    let results = results.into_iter();
    let mut ok = Vec::with_capacity(results.size_hint().0);
    let mut errs = Vec::new();
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => errs.extend(e),
        }
    }
    (ok, errs)
}

fn finish(
    kind: Kind,
    sheet: &Sheet,
    parse_errors: Vec<RowError>,
    outcome: ImportOutcome,
) -> ImportReport {
    let mut errors = parse_errors;
    errors.extend(
        outcome
            .issues
            .into_iter()
            .map(|i| RowError::new(i.line, i.column, i.reason)),
    );
    errors.sort_by_key(|e| e.line);
    let mut lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    lines.dedup();
    let mut summary = outcome.summary;
    summary.invalid = lines.len() as u64;
    ImportReport {
        kind,
        rows: sheet.rows.len(),
        summary,
        errors,
        warnings: sheet.warnings.clone(),
        credit_code_warnings: Vec::new(),
    }
}

/// Validates every row, then previews (`dry_run`, or when any row is invalid) or commits all.
pub async fn import_sheet(
    store: &Arc<dyn Store>,
    actor: &Actor,
    kind: Kind,
    sheet: &Sheet,
    org: &DivisionCode,
    dry_run: bool,
) -> Result<ImportReport> {
    let mut t = Phases::start("import persons (validate)");
    let orgs = OrgResolver::load(store, &actor.scope, org).await?;
    t.mark("orgs");
    match kind {
        Kind::Persons => {
            let today = today();
            let cols = PersonColumns::of(sheet);
            let (rows, errs) =
                par_map_split(&sheet.rows, |r| parse_person(sheet, r, &cols, &orgs, today));
            t.mark("parse_rows");
            t.finish(sheet.rows.len());
            let out = store
                .import_persons(actor, org, &rows, dry_run || !errs.is_empty())
                .await?;
            xiangzhi_store::bulk::free_in_background(rows);
            Ok(finish(kind, sheet, errs, out))
        }
        Kind::Households => {
            let today = today();
            let (rows, errs) = split(
                sheet
                    .rows
                    .iter()
                    .map(|r| parse_household(sheet, r, &orgs, today)),
            );
            let out = store
                .import_households(actor, org, &rows, dry_run || !errs.is_empty())
                .await?;
            Ok(finish(kind, sheet, errs, out))
        }
        Kind::Enterprises => {
            let (rows, errs) = split(sheet.rows.iter().map(|r| parse_enterprise(sheet, r, &orgs)));
            let warnings: Vec<(usize, String)> = rows
                .iter()
                .filter(|r| !r.enterprise.credit_code.check_ok())
                .map(|r| {
                    let msg = CreditCode::parse(r.enterprise.credit_code.as_str())
                        .ok()
                        .and_then(|(_, w)| w)
                        .map(|w| w.to_string())
                        .unwrap_or_default();
                    (r.line, msg)
                })
                .collect();
            let out = store
                .import_enterprises(actor, org, &rows, dry_run || !errs.is_empty())
                .await?;
            let mut report = finish(kind, sheet, errs, out);
            report.credit_code_warnings = warnings;
            Ok(report)
        }
        Kind::Enrollments | Kind::Payouts | Kind::Cases => {
            let (errs, out) =
                history::import(store, actor, kind, sheet, &orgs, org, dry_run).await?;
            Ok(finish(kind, sheet, errs, out))
        }
    }
}

/// The original rows with bad cells marked red and a reason column, for download.
pub fn error_report(sheet: &Sheet, report: &ImportReport) -> Result<Vec<u8>> {
    xiangzhi_exchange::write::error_report_xlsx(sheet, &report.errors).map_err(|e| anyhow!("{e}"))
}

// ---- export ----

/// Export headers by kind. Beside a masked ID a person's birth year stands in for the full
/// date (which would give back 8 of the masked digits); `reveal` exports the full date.
pub fn export_headers(kind: Kind, reveal: bool) -> Vec<&'static str> {
    match kind {
        Kind::Persons => vec![
            "姓名",
            "身份证号",
            "性别",
            if reveal {
                "出生日期"
            } else {
                "出生年份"
            },
            "联系电话",
            "户号",
            "与户主关系",
            "人员状态",
            "所属网格",
            "标签",
        ],
        Kind::Households => vec!["户号", "户主", "成员数", "地址", "状态", "所属网格"],
        Kind::Enterprises => vec![
            "企业名称",
            "统一社会信用代码",
            "企业类型",
            "注册资本（万元）",
            "入驻日期",
            "所属村",
            "联系人",
            "联系电话",
            "状态",
        ],
        // Exported from their own pages (名单, 发放表, 事件) with their own columns.
        Kind::Enrollments | Kind::Payouts | Kind::Cases => Vec::new(),
    }
}

/// Where exported rows go: XLSX (constant memory) or CSV.
pub enum ExportSink<W: std::io::Write> {
    Xlsx(Box<xiangzhi_exchange::write::XlsxExport>),
    Csv(Box<xiangzhi_exchange::write::CsvExport<W>>),
}

impl<W: std::io::Write> ExportSink<W> {
    fn row(&mut self, cells: &[Cell]) -> Result<()> {
        match self {
            ExportSink::Xlsx(x) => x.write_row(cells),
            ExportSink::Csv(c) => c.write_row(cells),
        }
        .map_err(|e| anyhow!("{e}"))
    }
}

/// Streams every record of `kind` in the actor's scope (under `org`) into `sink`, page by
/// page. IDs and phones are masked unless `reveal` (permissioned and audited by the store).
pub async fn export<W: std::io::Write>(
    store: &Arc<dyn Store>,
    actor: &Actor,
    kind: Kind,
    org: Option<&DivisionCode>,
    reveal: bool,
    sink: &mut ExportSink<W>,
) -> Result<u64> {
    if matches!(kind, Kind::Enrollments | Kind::Payouts | Kind::Cases) {
        anyhow::bail!(
            "{}请从各自的页面或命令导出（assistance roster export、assistance payroll export、case export）",
            kind.label()
        );
    }
    let mut n = 0u64;
    let mut after = None;
    const PAGE: u32 = 5000;
    loop {
        let got = match kind {
            Kind::Persons => {
                let q = PersonQuery {
                    org_code: org.cloned(),
                    after_id: after,
                    limit: PAGE,
                    ..Default::default()
                };
                let page = store.person_export_page(actor, &q, reveal).await?;
                for (p, id, phone) in &page {
                    sink.row(&[
                        p.name.as_str().into(),
                        id.clone()
                            .unwrap_or_else(|| p.citizen_id_masked.clone())
                            .into(),
                        p.sex.label().into(),
                        if id.is_some() {
                            p.birth_date.into()
                        } else {
                            Cell::Int(p.birth_year().into())
                        },
                        phone
                            .clone()
                            .or_else(|| p.phone_masked.clone())
                            .unwrap_or_default()
                            .into(),
                        p.household_no.clone().unwrap_or_default().into(),
                        p.relation.map(|r| r.label()).unwrap_or_default().into(),
                        p.status.label().into(),
                        p.org_name.as_str().into(),
                        PersonTag::format_list(&p.tags).into(),
                    ])?;
                }
                after = page.last().map(|(p, _, _)| p.id);
                page.len()
            }
            Kind::Households => {
                let q = HouseholdQuery {
                    org_code: org.cloned(),
                    after_id: after,
                    limit: PAGE,
                    ..Default::default()
                };
                let page = store.household_search(&actor.scope, &q).await?;
                for h in &page {
                    sink.row(&[
                        h.household_no.as_str().into(),
                        h.head_name.clone().unwrap_or_default().into(),
                        Cell::Int(h.member_count),
                        h.address.as_str().into(),
                        h.status.label().into(),
                        h.org_name.as_str().into(),
                    ])?;
                }
                after = page.last().map(|h| h.id);
                page.len()
            }
            Kind::Enterprises => {
                let q = EnterpriseQuery {
                    org_code: org.cloned(),
                    after_id: after,
                    limit: PAGE,
                    ..Default::default()
                };
                let page = store.enterprise_search(&actor.scope, &q).await?;
                for e in &page {
                    let phone = if reveal && e.contact_phone_masked.is_some() {
                        Some(store.reveal_enterprise_phone(actor, e.id).await?)
                    } else {
                        e.contact_phone_masked.clone()
                    };
                    sink.row(&[
                        e.name.as_str().into(),
                        e.credit_code.as_str().into(),
                        e.kind_label.as_str().into(),
                        e.registered_capital
                            .map(|m| Cell::Text(m.to_wan(2)))
                            .unwrap_or_default(),
                        e.settled_on.map(Cell::from).unwrap_or_default(),
                        e.org_name.as_str().into(),
                        e.contact_name.clone().unwrap_or_default().into(),
                        phone.unwrap_or_default().into(),
                        if e.active { "在营" } else { "已注销" }.into(),
                    ])?;
                }
                after = page.last().map(|e| e.id);
                page.len()
            }
            Kind::Enrollments | Kind::Payouts | Kind::Cases => 0,
        };
        n += got as u64;
        if got < PAGE as usize {
            return Ok(n);
        }
    }
}
