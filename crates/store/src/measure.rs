//! Measures: the primitive aggregates indicators are built from, computed with one grouped SQL
//! statement over the org-path index.
//!
//! [`RECORD_SOURCES`] is the catalog of built-in record tables an indicator may count or sum:
//! their expression names, Chinese labels, columns and date fields. The engine builds its
//! expression schema from the same catalog, so a field that checks is a field the store can
//! query. SQL is assembled here from the catalog only (never from caller text); caller values
//! are bound parameters.
//!
//! Grouping by a level uses `substr(org_path, 1, n)`: paths have a fixed shape
//! (`/36/3610/361002/361002201/361002201211/`), so the first `n` bytes name the ancestor at
//! that level, and distinct counts stay exact per group.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use xiangzhi_domain::org::{DivisionCode, OrgLevel};

/// What a measure reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum MeasureSource {
    /// A built-in record table of [`RECORD_SOURCES`].
    Record(String),
    /// Values of a data element (统计数据).
    DataElement(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureAgg {
    Count,
    CountPersons,
    CountHouseholds,
    Sum,
    Avg,
    Min,
    Max,
    /// The latest value per unit, summed over units (stocks).
    Last,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum MeasureValue {
    Text(String),
    /// Numbers, counts, percentages; money in fen.
    Number(f64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureFilter {
    pub field: String,
    pub op: MeasureOp,
    pub values: Vec<MeasureValue>,
}

/// Which records count for the figure's period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Window {
    /// Records whose date field (the source's default when `None`) lies in `from..=to`; data
    /// values of periods inside `from..=to`.
    Dates {
        field: Option<String>,
        from: NaiveDate,
        to: NaiveDate,
    },
    /// Records valid on `on` (enrollments on the roll, persons registered); for data values the
    /// latest period ending in `from..=on`.
    AtEnd { from: NaiveDate, on: NaiveDate },
}

impl Window {
    pub fn end(&self) -> NaiveDate {
        match self {
            Window::Dates { to, .. } => *to,
            Window::AtEnd { on, .. } => *on,
        }
    }
    pub fn start(&self) -> NaiveDate {
        match self {
            Window::Dates { from, .. } | Window::AtEnd { from, .. } => *from,
        }
    }
}

/// One primitive aggregate over a unit's subtree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    pub source: MeasureSource,
    pub agg: MeasureAgg,
    pub field: Option<String>,
    pub filters: Vec<MeasureFilter>,
    pub window: Window,
}

/// A measure's answer for one unit (the unit asked for, or one group below it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureRow {
    pub org_code: DivisionCode,
    /// `None`: no record had a value (never 0 for "no data").
    pub value: Option<f64>,
    /// Records (or data values) behind the value.
    pub records: i64,
}

/// One record behind a figure, for the provenance page. No personal data: persons appear by
/// id and birth year only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordRef {
    /// `enrollment`, `payout`, `case`, `project`, `task`, `person`, `enterprise`,
    /// `key_person`, `data_value`.
    pub source: String,
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub date: Option<String>,
    pub label: String,
    /// What the record adds (amount in fen for money, persons for `count_persons`).
    pub value: Option<f64>,
    /// The record's own page, if it has one.
    pub href: Option<String>,
}

/// How a field is typed in expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A stable code; the listed values are the valid ones (empty: any).
    Code(&'static [&'static str]),
    Text,
    Bool,
    Number,
    /// Money; the column holds fen.
    Money,
    Count,
    /// A JSON text column holding a list; a code is in it when the column contains the
    /// pattern with `{}` replaced by the code (`"{}"` for a list of codes).
    Contains(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub struct SourceField {
    pub name: &'static str,
    pub label: &'static str,
    /// SQL over the source's alias `t`.
    pub sql: &'static str,
    pub kind: FieldKind,
}

#[derive(Debug, Clone, Copy)]
pub struct DateField {
    pub name: &'static str,
    pub label: &'static str,
    pub sql: &'static str,
    /// Stored as text (assistance tables) rather than DATE: bound as text on PostgreSQL.
    pub text: bool,
    /// An integer year instead of a date (projects): a record counts in a window holding the
    /// year's 31 December.
    pub year: bool,
}

/// A built-in record table.
#[derive(Debug, Clone, Copy)]
pub struct RecordSource {
    pub name: &'static str,
    pub label: &'static str,
    pub table: &'static str,
    pub fields: &'static [SourceField],
    pub dates: &'static [DateField],
    /// The date field `in period` uses when none is written.
    pub default_date: &'static str,
    /// `(valid from, valid to)` columns for `at end`, when records are states.
    pub validity: Option<(&'static str, &'static str)>,
    /// Whether `at end` is the default period (enrollments, persons).
    pub at_end_default: bool,
    /// SQL counting persons (summed), if records link to persons.
    pub persons: Option<&'static str>,
    /// SQL naming the household (counted distinct), if records link to households.
    pub households: Option<&'static str>,
    /// Extra condition every query adds (voided records, rejected applications).
    pub always: &'static str,
    /// SQL for the provenance label.
    pub label_sql: &'static str,
    /// Page of one record: `{}` is the id.
    pub href: Option<&'static str>,
}

const PROGRAMS: &[&str] = &[
    "min_living",
    "near_min_living",
    "extreme_poverty",
    "temporary_relief",
    "child_in_difficulty",
    "disability_subsidy",
    "elderly_subsidy",
    "monitoring",
];

/// Persons an enrollment covers: one for a person, the registered members for a household.
const ENROLLMENT_PERSONS: &str = "CASE WHEN t.person_id IS NOT NULL THEN 1 ELSE \
     (SELECT COUNT(*) FROM persons m WHERE m.household_id = t.household_id AND m.status = 'registered') END";

pub const RECORD_SOURCES: &[RecordSource] = &[
    RecordSource {
        name: "enrollment",
        label: "救助纳入记录",
        table: "enrollments",
        fields: &[
            SourceField {
                name: "program",
                label: "项目",
                sql: "t.program_code",
                kind: FieldKind::Code(PROGRAMS),
            },
            SourceField {
                name: "status",
                label: "状态",
                sql: "t.status",
                kind: FieldKind::Code(&[]),
            },
            SourceField {
                name: "category",
                label: "类别",
                sql: "t.category",
                kind: FieldKind::Code(&[]),
            },
            SourceField {
                name: "source",
                label: "来源",
                sql: "t.source",
                kind: FieldKind::Code(&[]),
            },
        ],
        dates: &[
            DateField {
                name: "applied",
                label: "申请日期",
                sql: "t.applied_on",
                text: true,
                year: false,
            },
            DateField {
                name: "became_active",
                label: "纳入日期",
                sql: "t.start_on",
                text: true,
                year: false,
            },
            DateField {
                name: "exited",
                label: "退出日期",
                sql: "t.exit_on",
                text: true,
                year: false,
            },
        ],
        default_date: "became_active",
        validity: Some(("t.start_on", "t.exit_on")),
        at_end_default: true,
        persons: Some(ENROLLMENT_PERSONS),
        households: Some("t.household_id"),
        always: "t.status <> 'rejected'",
        label_sql: "t.program_code || ' ' || t.category || ' ' || t.status",
        href: None,
    },
    RecordSource {
        name: "payout",
        label: "救助发放记录",
        table: "payouts",
        fields: &[
            SourceField {
                name: "program",
                label: "项目",
                sql: "t.program_code",
                kind: FieldKind::Code(PROGRAMS),
            },
            SourceField {
                name: "kind",
                label: "发放方式",
                sql: "t.kind",
                kind: FieldKind::Code(&["cash", "in_kind"]),
            },
            SourceField {
                name: "item",
                label: "物品",
                sql: "t.item",
                kind: FieldKind::Text,
            },
            SourceField {
                name: "amount",
                label: "发放金额",
                sql: "t.amount_fen",
                kind: FieldKind::Money,
            },
            SourceField {
                name: "quantity",
                label: "数量",
                sql: "t.quantity",
                kind: FieldKind::Count,
            },
        ],
        dates: &[DateField {
            name: "paid",
            label: "发放日期",
            sql: "t.paid_on",
            text: true,
            year: false,
        }],
        default_date: "paid",
        validity: None,
        at_end_default: false,
        persons: Some("COALESCE(t.person_id, -t.household_id)"),
        households: Some("t.household_id"),
        always: "",
        label_sql: "t.program_code || ' ' || t.kind || ' ' || COALESCE(t.item, '')",
        href: None,
    },
    RecordSource {
        name: "case",
        label: "事件",
        table: "cases",
        fields: &[
            SourceField {
                name: "kind",
                label: "类型",
                sql: "t.kind",
                kind: FieldKind::Code(&["dispute", "petition", "complaint", "incident", "hazard"]),
            },
            SourceField {
                name: "category",
                label: "类别",
                sql: "t.category_code",
                kind: FieldKind::Code(&[]),
            },
            SourceField {
                name: "status",
                label: "状态",
                sql: "t.status",
                kind: FieldKind::Code(&[]),
            },
            SourceField {
                name: "tier",
                label: "当前层级",
                sql: "t.tier",
                kind: FieldKind::Code(&["grid", "village", "township", "county"]),
            },
            SourceField {
                name: "resolved_tier",
                label: "化解层级",
                sql: "t.resolution_tier",
                kind: FieldKind::Code(&["grid", "village", "township", "county"]),
            },
            SourceField {
                name: "urgent",
                label: "紧急",
                sql: "t.urgent",
                kind: FieldKind::Bool,
            },
            SourceField {
                name: "key_area",
                label: "八大重点领域",
                sql: "(SELECT k.key_area FROM case_categories k WHERE k.code = t.category_code)",
                kind: FieldKind::Bool,
            },
        ],
        dates: &[
            DateField {
                name: "registered",
                label: "登记日期",
                sql: "t.registered_on",
                text: false,
                year: false,
            },
            DateField {
                name: "closed",
                label: "办结日期",
                sql: "t.closed_on",
                text: false,
                year: false,
            },
        ],
        default_date: "registered",
        validity: None,
        at_end_default: false,
        persons: None,
        households: None,
        always: "",
        label_sql: "t.category_code || ' ' || t.status",
        href: Some("/cases/{}"),
    },
    RecordSource {
        name: "project",
        label: "重点项目",
        table: "projects",
        fields: &[
            SourceField {
                name: "kind",
                label: "类型",
                sql: "t.kind",
                kind: FieldKind::Code(&["key", "investment_lead", "funds_won", "linked_funds"]),
            },
            SourceField {
                name: "stage",
                label: "阶段",
                sql: "t.stage",
                kind: FieldKind::Code(&[]),
            },
            SourceField {
                name: "planned",
                label: "计划投资",
                sql: "(t.planned_yuan * 100)",
                kind: FieldKind::Money,
            },
            SourceField {
                name: "invested",
                label: "完成投资",
                sql: "(t.completed_yuan * 100)",
                kind: FieldKind::Money,
            },
            SourceField {
                name: "funds_won",
                label: "争取资金",
                sql: "(t.funds_won_yuan * 100)",
                kind: FieldKind::Money,
            },
        ],
        dates: &[DateField {
            name: "year",
            label: "年度",
            sql: "t.year",
            text: false,
            year: true,
        }],
        default_date: "year",
        validity: None,
        at_end_default: false,
        persons: None,
        households: None,
        always: "",
        label_sql: "t.name",
        href: None,
    },
    RecordSource {
        name: "task",
        label: "督查督办任务",
        table: "tasks",
        fields: &[
            SourceField {
                name: "status",
                label: "状态",
                sql: "t.status",
                kind: FieldKind::Code(&[]),
            },
            SourceField {
                name: "progress",
                label: "进度",
                sql: "t.progress",
                kind: FieldKind::Number,
            },
            SourceField {
                name: "on_time",
                label: "按期完成",
                sql: "(t.completed_on IS NOT NULL AND t.completed_on <= t.deadline)",
                kind: FieldKind::Bool,
            },
            SourceField {
                name: "done",
                label: "已完成",
                sql: "(t.completed_on IS NOT NULL)",
                kind: FieldKind::Bool,
            },
        ],
        dates: &[
            DateField {
                name: "assigned",
                label: "交办日期",
                sql: "t.assigned_on",
                text: false,
                year: false,
            },
            DateField {
                name: "deadline",
                label: "期限",
                sql: "t.deadline",
                text: false,
                year: false,
            },
            DateField {
                name: "completed",
                label: "完成日期",
                sql: "t.completed_on",
                text: false,
                year: false,
            },
        ],
        default_date: "deadline",
        validity: None,
        at_end_default: false,
        persons: None,
        households: None,
        always: "",
        label_sql: "t.title",
        href: None,
    },
    RecordSource {
        name: "enterprise",
        label: "企业",
        table: "enterprises",
        fields: &[
            SourceField {
                name: "kind",
                label: "行业",
                sql: "t.kind",
                kind: FieldKind::Code(&[
                    "logistics",
                    "construction",
                    "labour",
                    "automotive",
                    "manufacturing",
                    "trade",
                    "agriculture",
                    "services",
                    "other",
                ]),
            },
            SourceField {
                name: "capital",
                label: "注册资本",
                sql: "t.registered_capital",
                kind: FieldKind::Money,
            },
            SourceField {
                name: "active",
                label: "在营",
                sql: "t.active",
                kind: FieldKind::Bool,
            },
        ],
        dates: &[
            DateField {
                name: "settled",
                label: "入驻日期",
                sql: "t.settled_on",
                text: false,
                year: false,
            },
            DateField {
                name: "closed",
                label: "注销日期",
                sql: "t.closed_on",
                text: false,
                year: false,
            },
        ],
        default_date: "settled",
        validity: Some(("t.settled_on", "t.closed_on")),
        at_end_default: false,
        persons: None,
        households: None,
        always: "",
        label_sql: "t.name",
        href: Some("/enterprises/{}"),
    },
    RecordSource {
        name: "person",
        label: "居民",
        table: "persons",
        fields: &[
            SourceField {
                name: "sex",
                label: "性别",
                sql: "t.sex",
                kind: FieldKind::Code(&["male", "female"]),
            },
            SourceField {
                name: "status",
                label: "状态",
                sql: "t.status",
                kind: FieldKind::Code(&[]),
            },
            SourceField {
                name: "relation",
                label: "与户主关系",
                sql: "t.relation",
                kind: FieldKind::Code(&[]),
            },
            SourceField {
                name: "tag",
                label: "标签",
                sql: "t.tags",
                kind: FieldKind::Contains("\"tag\":\"{}\""),
            },
        ],
        dates: &[DateField {
            name: "born",
            label: "出生日期",
            sql: "t.birth_date",
            text: false,
            year: false,
        }],
        default_date: "born",
        validity: None,
        at_end_default: false,
        persons: Some("1"),
        households: Some("t.household_id"),
        always: "",
        label_sql: "'居民'",
        href: Some("/persons/{}"),
    },
    RecordSource {
        name: "key_person",
        label: "重点人员",
        table: "key_persons",
        fields: &[
            SourceField {
                name: "active",
                label: "在管",
                sql: "t.active",
                kind: FieldKind::Bool,
            },
            SourceField {
                name: "risk",
                label: "风险等级",
                sql: "t.risk",
                kind: FieldKind::Number,
            },
            SourceField {
                name: "category",
                label: "类别",
                sql: "t.categories",
                kind: FieldKind::Contains("\"{}\""),
            },
        ],
        dates: &[DateField {
            name: "last_visit",
            label: "最近走访",
            sql: "t.last_visit_on",
            text: false,
            year: false,
        }],
        default_date: "last_visit",
        // A roster without history: `at end` counts the units' current roster.
        validity: Some(("", "")),
        at_end_default: true,
        persons: Some("1"),
        households: None,
        always: "",
        label_sql: "t.categories",
        href: None,
    },
];

pub fn record_source(name: &str) -> Option<&'static RecordSource> {
    RECORD_SOURCES.iter().find(|s| s.name == name)
}

/// A value bound into measure SQL.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    Text(String),
    Num(f64),
    Int(i64),
    Date(NaiveDate),
    Bool(bool),
}

/// Bytes of a stored path up to and including the code at `level` and its slash.
pub fn path_prefix_len(level: OrgLevel) -> usize {
    let mut n = 1;
    for l in [
        OrgLevel::Province,
        OrgLevel::City,
        OrgLevel::County,
        OrgLevel::Township,
        OrgLevel::Village,
        OrgLevel::Grid,
    ] {
        n += l.code_len() + 1;
        if l == level {
            break;
        }
    }
    n
}

/// The unit a grouped path key names: its last code.
pub fn key_code(key: &str) -> Option<DivisionCode> {
    key.trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|c| DivisionCode::parse(c).ok())
}

fn bad(msg: String) -> crate::StoreError {
    crate::StoreError::Invalid(msg)
}

/// SQL and binds for a record measure over the path range `lo..hi`. Placeholders are `$n`
/// numbered from 1 in bind order. With `group` the result has a `k` column (the path prefix at
/// that level); otherwise one row. Columns: `n` (records), `v` (value, may be NULL), for
/// merging averages also `s` and `c`.
pub fn record_measure_sql(
    m: &Measure,
    lo: &str,
    hi: &str,
    group: Option<OrgLevel>,
) -> crate::StoreResult<(String, Vec<Bind>)> {
    let MeasureSource::Record(name) = &m.source else {
        return Err(bad("不是记录类指标".into()));
    };
    let src = record_source(name).ok_or_else(|| bad(format!("未知的记录来源“{name}”")))?;
    let mut binds = vec![Bind::Text(lo.to_string()), Bind::Text(hi.to_string())];
    let mut wh = "t.org_path >= $1 AND t.org_path < $2".to_string();
    if !src.always.is_empty() {
        wh.push_str(" AND ");
        wh.push_str(src.always);
    }
    push_window(src, &m.window, &mut wh, &mut binds)?;
    for f in &m.filters {
        push_filter(src, f, &mut wh, &mut binds)?;
    }
    let value = value_sql(src, m)?;
    let key = match group {
        Some(l) => format!("substr(t.org_path, 1, {}) AS k, ", path_prefix_len(l)),
        None => String::new(),
    };
    let mut sql = format!(
        "SELECT {key}COUNT(*) AS n, {value} AS v FROM {} t WHERE {wh}",
        src.table
    );
    if let Some(l) = group {
        sql.push_str(&format!(
            " GROUP BY substr(t.org_path, 1, {})",
            path_prefix_len(l)
        ));
    }
    Ok((sql, binds))
}

/// SQL and binds listing the records behind a record measure (provenance), newest first.
pub fn record_list_sql(
    m: &Measure,
    lo: &str,
    hi: &str,
    limit: u32,
) -> crate::StoreResult<(String, Vec<Bind>)> {
    let MeasureSource::Record(name) = &m.source else {
        return Err(bad("不是记录类指标".into()));
    };
    let src = record_source(name).ok_or_else(|| bad(format!("未知的记录来源“{name}”")))?;
    let mut binds = vec![Bind::Text(lo.to_string()), Bind::Text(hi.to_string())];
    let mut wh = "t.org_path >= $1 AND t.org_path < $2".to_string();
    if !src.always.is_empty() {
        wh.push_str(" AND ");
        wh.push_str(src.always);
    }
    push_window(src, &m.window, &mut wh, &mut binds)?;
    for f in &m.filters {
        push_filter(src, f, &mut wh, &mut binds)?;
    }
    let date = date_field(src, window_field(&m.window))?;
    let per_record = match (m.agg, &m.field) {
        (MeasureAgg::CountPersons, _) => src.persons.map(|p| {
            if p.starts_with("COALESCE") {
                "1".to_string()
            } else {
                p.to_string()
            }
        }),
        (MeasureAgg::Count | MeasureAgg::CountHouseholds, _) => Some("1".to_string()),
        (_, Some(f)) => Some(field(src, f)?.sql.to_string()),
        _ => None,
    };
    let per_record = per_record.unwrap_or_else(|| "NULL".into());
    let date_sql = format!("CAST({} AS TEXT)", date.sql);
    let sql = format!(
        "SELECT t.id, t.org_code, o.name AS org_name, {date_sql} AS d, {} AS label, \
         CAST({per_record} AS DOUBLE PRECISION) AS v FROM {} t JOIN org_units o ON o.code = t.org_code \
         WHERE {wh} ORDER BY t.id DESC LIMIT {limit}",
        src.label_sql, src.table
    );
    Ok((sql, binds))
}

fn window_field(w: &Window) -> Option<&str> {
    match w {
        Window::Dates { field, .. } => field.as_deref(),
        Window::AtEnd { .. } => None,
    }
}

fn field(src: &RecordSource, name: &str) -> crate::StoreResult<&'static SourceField> {
    src.fields
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| bad(format!("{}没有字段“{name}”", src.label)))
}

fn date_field(src: &RecordSource, name: Option<&str>) -> crate::StoreResult<&'static DateField> {
    let name = name.unwrap_or(src.default_date);
    src.dates
        .iter()
        .find(|d| d.name == name)
        .ok_or_else(|| bad(format!("{}没有日期字段“{name}”", src.label)))
}

fn push_date(d: &DateField, date: NaiveDate, binds: &mut Vec<Bind>) -> String {
    if d.year {
        binds.push(Bind::Int(i64::from(date.year())));
    } else if d.text {
        binds.push(Bind::Text(date.format("%Y-%m-%d").to_string()));
    } else {
        binds.push(Bind::Date(date));
    }
    format!("${}", binds.len())
}

fn push_window(
    src: &RecordSource,
    w: &Window,
    wh: &mut String,
    binds: &mut Vec<Bind>,
) -> crate::StoreResult<()> {
    match w {
        Window::Dates { field, from, to } => {
            let d = date_field(src, field.as_deref())?;
            if d.year {
                // A year-dated record belongs to a window holding its 31 December.
                let first = from.year();
                let last = if to.month() == 12 && to.day() == 31 {
                    to.year()
                } else {
                    to.year() - 1
                };
                let a = push_date(
                    d,
                    NaiveDate::from_ymd_opt(first, 1, 1).unwrap_or(*from),
                    binds,
                );
                let b = push_date(d, NaiveDate::from_ymd_opt(last, 1, 1).unwrap_or(*to), binds);
                wh.push_str(&format!(" AND {} >= {a} AND {} <= {b}", d.sql, d.sql));
            } else {
                let a = push_date(d, *from, binds);
                let b = push_date(d, *to, binds);
                wh.push_str(&format!(" AND {} >= {a} AND {} <= {b}", d.sql, d.sql));
            }
        }
        Window::AtEnd { on, .. } => {
            let (valid_from, valid_to) = src
                .validity
                .ok_or_else(|| bad(format!("{}没有有效期，不能取期末状态", src.label)))?;
            if valid_from.is_empty() {
                return Ok(());
            }
            let text = src
                .dates
                .iter()
                .find(|d| d.sql == valid_from)
                .is_some_and(|d| d.text);
            let d = DateField {
                name: "",
                label: "",
                sql: valid_from,
                text,
                year: false,
            };
            let a = push_date(&d, *on, binds);
            let b = push_date(&d, *on, binds);
            wh.push_str(&format!(
                " AND {valid_from} IS NOT NULL AND {valid_from} <= {a} AND ({valid_to} IS NULL OR {valid_to} > {b})"
            ));
        }
    }
    Ok(())
}

fn push_filter(
    src: &RecordSource,
    f: &MeasureFilter,
    wh: &mut String,
    binds: &mut Vec<Bind>,
) -> crate::StoreResult<()> {
    let fd = field(src, &f.field)?;
    let one = |v: &MeasureValue, binds: &mut Vec<Bind>| -> crate::StoreResult<String> {
        let b = match (fd.kind, v) {
            (FieldKind::Code(_) | FieldKind::Text, MeasureValue::Text(s)) => Bind::Text(s.clone()),
            (FieldKind::Bool, MeasureValue::Bool(b)) => Bind::Bool(*b),
            (FieldKind::Number | FieldKind::Count | FieldKind::Money, MeasureValue::Number(n)) => {
                Bind::Num(*n)
            }
            _ => {
                return Err(bad(format!(
                    "字段“{}”（{}）不能与该值比较",
                    fd.name, fd.label
                )));
            }
        };
        binds.push(b);
        Ok(format!("${}", binds.len()))
    };
    let col = fd.sql;
    if let FieldKind::Contains(pattern) = fd.kind {
        let mut parts = Vec::new();
        for v in &f.values {
            let MeasureValue::Text(code) = v else {
                return Err(bad(format!("字段“{}”只能与代码比较", fd.name)));
            };
            let like = format!(
                "%{}%",
                crate::sql::like_escape(&pattern.replace("{}", code))
            );
            binds.push(Bind::Text(like));
            parts.push(format!("{col} LIKE ${} ESCAPE '\\'", binds.len()));
        }
        let clause = match f.op {
            MeasureOp::Eq | MeasureOp::In => format!("({})", parts.join(" OR ")),
            MeasureOp::Ne | MeasureOp::NotIn => format!("NOT ({})", parts.join(" OR ")),
            _ => return Err(bad(format!("字段“{}”只能用 = 或 in 比较", fd.name))),
        };
        wh.push_str(" AND ");
        wh.push_str(&clause);
        return Ok(());
    }
    let clause = match f.op {
        MeasureOp::In | MeasureOp::NotIn => {
            if f.values.is_empty() {
                return Err(bad(format!("字段“{}”的取值列表为空", fd.name)));
            }
            let mut ps = Vec::new();
            for v in &f.values {
                ps.push(one(v, binds)?);
            }
            let not = if f.op == MeasureOp::NotIn { "NOT " } else { "" };
            // NOT IN keeps records without a value out, like `!=`.
            format!("{col} IS NOT NULL AND {col} {not}IN ({})", ps.join(", "))
        }
        op => {
            let v = f
                .values
                .first()
                .ok_or_else(|| bad(format!("字段“{}”缺少比较值", fd.name)))?;
            let p = one(v, binds)?;
            let sym = match op {
                MeasureOp::Eq => "=",
                MeasureOp::Ne => "<>",
                MeasureOp::Lt => "<",
                MeasureOp::Le => "<=",
                MeasureOp::Gt => ">",
                _ => ">=",
            };
            format!("{col} {sym} {p}")
        }
    };
    wh.push_str(" AND ");
    wh.push_str(&clause);
    Ok(())
}

fn value_sql(src: &RecordSource, m: &Measure) -> crate::StoreResult<String> {
    let numeric = |name: &Option<String>| -> crate::StoreResult<&'static str> {
        let name = name
            .as_deref()
            .ok_or_else(|| bad("求和、平均、最值需要指明字段".into()))?;
        let f = field(src, name)?;
        match f.kind {
            FieldKind::Number | FieldKind::Count | FieldKind::Money => Ok(f.sql),
            _ => Err(bad(format!(
                "字段“{}”（{}）不是数值，不能汇总",
                f.name, f.label
            ))),
        }
    };
    Ok(match m.agg {
        MeasureAgg::Count => "CAST(COUNT(*) AS DOUBLE PRECISION)".into(),
        MeasureAgg::CountPersons => match src.persons {
            Some(p) if p.starts_with("COALESCE") => {
                format!("CAST(COUNT(DISTINCT {p}) AS DOUBLE PRECISION)")
            }
            Some(p) => format!("CAST(SUM({p}) AS DOUBLE PRECISION)"),
            None => return Err(bad(format!("{}不关联人员，不能按人计数", src.label))),
        },
        MeasureAgg::CountHouseholds => match src.households {
            Some(h) => format!("CAST(COUNT(DISTINCT {h}) AS DOUBLE PRECISION)"),
            None => return Err(bad(format!("{}不关联户，不能按户计数", src.label))),
        },
        MeasureAgg::Sum => format!("CAST(SUM({}) AS DOUBLE PRECISION)", numeric(&m.field)?),
        MeasureAgg::Avg => format!("CAST(AVG({}) AS DOUBLE PRECISION)", numeric(&m.field)?),
        MeasureAgg::Min => format!("CAST(MIN({}) AS DOUBLE PRECISION)", numeric(&m.field)?),
        MeasureAgg::Max | MeasureAgg::Last => {
            format!("CAST(MAX({}) AS DOUBLE PRECISION)", numeric(&m.field)?)
        }
    })
}

/// SQL reading a data element's values under `lo..hi` for a window: `(org_code, org_path,
/// period, period_end, value)`; the caller aggregates (few rows: units × periods).
pub fn data_value_sql(m: &Measure, lo: &str, hi: &str) -> crate::StoreResult<(String, Vec<Bind>)> {
    let MeasureSource::DataElement(code) = &m.source else {
        return Err(bad("不是统计数据项".into()));
    };
    let binds = vec![
        Bind::Text(code.clone()),
        Bind::Text(lo.to_string()),
        Bind::Text(hi.to_string()),
        Bind::Text(m.window.start().format("%Y-%m-%d").to_string()),
        Bind::Text(m.window.end().format("%Y-%m-%d").to_string()),
    ];
    let sql =
        "SELECT v.id, v.org_code, o.name AS org_name, v.org_path, v.period, v.period_end, v.value \
               FROM data_values v JOIN org_units o ON o.code = v.org_code \
               WHERE v.element_code = $1 AND v.org_path >= $2 AND v.org_path < $3 \
               AND v.period_start >= $4 AND v.period_end <= $5 ORDER BY v.org_path, v.period_end"
            .to_string();
    Ok((sql, binds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lengths_match_the_path_shape() {
        let path = "/36/3610/361002/361002201/361002201211/361002201211001/";
        assert_eq!(
            &path[..path_prefix_len(OrgLevel::Township)],
            "/36/3610/361002/361002201/"
        );
        assert_eq!(
            &path[..path_prefix_len(OrgLevel::Village)],
            "/36/3610/361002/361002201/361002201211/"
        );
        assert_eq!(path_prefix_len(OrgLevel::Grid), path.len());
        assert_eq!(
            key_code("/36/3610/361002/361002201/").map(|c| c.as_str().to_string()),
            Some("361002201".into())
        );
    }

    #[test]
    fn every_source_default_date_exists() {
        for s in RECORD_SOURCES {
            assert!(
                s.dates.iter().any(|d| d.name == s.default_date),
                "{}",
                s.name
            );
        }
    }

    #[test]
    fn filters_are_bound_never_spliced() {
        let m = Measure {
            source: MeasureSource::Record("case".into()),
            agg: MeasureAgg::Count,
            field: None,
            filters: vec![MeasureFilter {
                field: "kind".into(),
                op: MeasureOp::Eq,
                values: vec![MeasureValue::Text("x' OR 1=1 --".into())],
            }],
            window: Window::Dates {
                field: None,
                from: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
                to: NaiveDate::from_ymd_opt(2023, 12, 31).unwrap(),
            },
        };
        let (sql, binds) = record_measure_sql(&m, "/a/", "/a0", None).unwrap();
        assert!(!sql.contains("OR 1=1"));
        assert_eq!(binds.len(), 5);
        let unknown = Measure {
            filters: vec![MeasureFilter {
                field: "nope".into(),
                op: MeasureOp::Eq,
                values: vec![MeasureValue::Text("x".into())],
            }],
            ..m
        };
        assert!(record_measure_sql(&unknown, "/a/", "/a0", None).is_err());
    }
}
