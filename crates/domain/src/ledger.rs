//! Ledgers (台账) as data: a definition read from TOML, validated with Chinese messages, and the
//! rules an entry's values must follow.
//!
//! ```toml
//! code = "fanzha"                 # stable ASCII code
//! name = "反诈宣传台账"
//! department = "综治办"
//! period = "month"                # none, day, week, month, quarter, six_month, year
//! level = "village"               # who fills it: grid, village, township
//! roster = "none"                 # one row per: none, household, village, enterprise, person
//! deadline_days = 10              # entries lock this many days after the period ends (0: never)
//!
//! [[fields]]
//! key = "sessions"
//! label = "宣传场次"
//! type = "integer"                # text integer decimal date bool choice multi_choice
//!                                 # person household enterprise org location attachment
//! unit = "场"
//! required = true
//! min = 0
//!
//! [[rules]]
//! check = "people >= sessions"
//! message = "受众人数不能少于场次"
//! ```
//!
//! Numbers that may be aggregated (integer, decimal, yes/no) get a numeric slot `n1..n16` that
//! keeps its number across versions, so the store can index them (see [`assign_slots`]).

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::normalize::normalize_text;
use crate::period::{Period, PeriodType};

/// Numeric slots per ledger: fields beyond this many numbers are stored but not aggregated.
pub const NUM_SLOTS: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillLevel {
    Grid,
    Village,
    Township,
}

impl FillLevel {
    pub fn label(self) -> &'static str {
        match self {
            FillLevel::Grid => "网格",
            FillLevel::Village => "村/社区",
            FillLevel::Township => "乡镇",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            FillLevel::Grid => "grid",
            FillLevel::Village => "village",
            FillLevel::Township => "township",
        }
    }
}

/// "One row per X": rows pre-created from the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Roster {
    #[default]
    None,
    Household,
    Person,
    Enterprise,
    Village,
}

impl Roster {
    pub fn label(self) -> &'static str {
        match self {
            Roster::None => "自由填报",
            Roster::Household => "每户一行",
            Roster::Person => "每人一行",
            Roster::Enterprise => "每企业一行",
            Roster::Village => "每村一行",
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Roster::None => "none",
            Roster::Household => "household",
            Roster::Person => "person",
            Roster::Enterprise => "enterprise",
            Roster::Village => "village",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Integer,
    Decimal,
    Date,
    Bool,
    Choice,
    MultiChoice,
    Person,
    Household,
    Enterprise,
    Org,
    Location,
    Attachment,
}

impl FieldType {
    pub fn label(self) -> &'static str {
        match self {
            FieldType::Text => "文本",
            FieldType::Integer => "整数",
            FieldType::Decimal => "数值",
            FieldType::Date => "日期",
            FieldType::Bool => "是/否",
            FieldType::Choice => "单选",
            FieldType::MultiChoice => "多选",
            FieldType::Person => "人员",
            FieldType::Household => "户",
            FieldType::Enterprise => "企业",
            FieldType::Org => "组织单元",
            FieldType::Location => "地点",
            FieldType::Attachment => "附件",
        }
    }
    /// Numbers that get an aggregation slot.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            FieldType::Integer | FieldType::Decimal | FieldType::Bool
        )
    }
    pub fn is_reference(self) -> bool {
        matches!(
            self,
            FieldType::Person | FieldType::Household | FieldType::Enterprise | FieldType::Org
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub key: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Decimal places kept for `decimal` (default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<u32>,
    /// For text: a small pattern language, see [`pattern_matches`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Attachments: largest size in KiB and accepted extensions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_kb: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl FieldDef {
    /// Label with the unit: `粮食面积（亩）`.
    pub fn header(&self) -> String {
        match &self.unit {
            Some(u) if !u.is_empty() => format!("{}（{}）", self.label, u),
            _ => self.label.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDef {
    /// `a <= b * 2`: see [`Check`].
    pub check: String,
    pub message: String,
}

/// The whole definition, as written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LedgerDefinition {
    pub code: String,
    pub name: String,
    pub department: String,
    /// `none` or a [`PeriodType`] code.
    pub period: String,
    pub level: FillLevel,
    #[serde(default)]
    pub roster: Roster,
    #[serde(default)]
    pub deadline_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub fields: Vec<FieldDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleDef>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DefinitionError(pub String);

impl LedgerDefinition {
    /// Parses and validates TOML; every message is Chinese and says where.
    pub fn from_toml(text: &str) -> Result<LedgerDefinition, DefinitionError> {
        let def: LedgerDefinition = toml::from_str(text)
            .map_err(|e| DefinitionError(format!("台账定义格式错误：{}", e.message().trim())))?;
        def.validate()?;
        Ok(def)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    pub fn period_type(&self) -> Option<PeriodType> {
        PeriodType::parse(&self.period)
    }

    pub fn period_label(&self) -> &'static str {
        self.period_type().map_or("不分期", |t| t.label())
    }

    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    pub fn validate(&self) -> Result<(), DefinitionError> {
        let e = |m: String| Err(DefinitionError(m));
        if !is_key(&self.code) {
            return e(format!(
                "台账代码“{}”无效：只能用小写字母、数字和下划线，以字母开头，最长40个字符",
                self.code
            ));
        }
        if normalize_text(&self.name).is_empty() {
            return e("台账名称不能为空".into());
        }
        if normalize_text(&self.department).is_empty() {
            return e("台账必须注明负责部门".into());
        }
        if self.period != "none" && PeriodType::parse(&self.period).is_none() {
            return e(format!(
                "期间类型“{}”无效：应为 none、day、week、month、quarter、six_month 或 year",
                self.period
            ));
        }
        if self.fields.is_empty() {
            return e("台账至少要有一个字段".into());
        }
        if self.fields.len() > 200 {
            return e("台账字段过多（最多200个）".into());
        }
        let mut seen = std::collections::HashSet::new();
        for (i, f) in self.fields.iter().enumerate() {
            let at = format!("第{}个字段（{}）", i + 1, f.key);
            if !is_key(&f.key) {
                return e(format!(
                    "{at}：字段代码只能用小写字母、数字和下划线，以字母开头"
                ));
            }
            if RESERVED.contains(&f.key.as_str()) {
                return e(format!("{at}：字段代码“{}”是保留字", f.key));
            }
            if !seen.insert(f.key.as_str()) {
                return e(format!("{at}：字段代码重复"));
            }
            if normalize_text(&f.label).is_empty() {
                return e(format!("{at}：字段名称不能为空"));
            }
            match f.kind {
                FieldType::Choice | FieldType::MultiChoice if f.options.is_empty() => {
                    return e(format!("{at}：选择题必须列出选项（options）"));
                }
                FieldType::Choice | FieldType::MultiChoice => {
                    let mut o = std::collections::HashSet::new();
                    if f.options
                        .iter()
                        .any(|x| x.trim().is_empty() || !o.insert(x))
                    {
                        return e(format!("{at}：选项不能为空或重复"));
                    }
                }
                _ if !f.options.is_empty() => {
                    return e(format!("{at}：只有单选、多选字段可以设置选项"));
                }
                _ => {}
            }
            if (f.min.is_some() || f.max.is_some())
                && !matches!(f.kind, FieldType::Integer | FieldType::Decimal)
            {
                return e(format!("{at}：只有整数、数值字段可以设置范围"));
            }
            if let (Some(a), Some(b)) = (f.min, f.max)
                && a > b
            {
                return e(format!("{at}：最小值大于最大值"));
            }
            if f.pattern.is_some() && f.kind != FieldType::Text {
                return e(format!("{at}：只有文本字段可以设置格式（pattern）"));
            }
            if let Some(p) = &f.pattern
                && let Err(m) = Pattern::parse(p)
            {
                return e(format!("{at}：格式（pattern）无效：{m}"));
            }
            if (f.max_kb.is_some() || !f.accept.is_empty()) && f.kind != FieldType::Attachment {
                return e(format!("{at}：只有附件字段可以设置大小和类型限制"));
            }
        }
        let numeric = self.fields.iter().filter(|f| f.kind.is_numeric()).count();
        if numeric > NUM_SLOTS {
            return e(format!(
                "数值字段（整数、数值、是/否）最多{NUM_SLOTS}个，现有{numeric}个"
            ));
        }
        for (i, r) in self.rules.iter().enumerate() {
            let check = Check::parse(&r.check)
                .map_err(|m| DefinitionError(format!("第{}条规则“{}”：{m}", i + 1, r.check)))?;
            for name in check.names() {
                match self.field(name) {
                    Some(f) if f.kind.is_numeric() || f.kind == FieldType::Date => {}
                    Some(_) => {
                        return e(format!(
                            "第{}条规则“{}”：字段“{name}”不是数值或日期，不能比较",
                            i + 1,
                            r.check
                        ));
                    }
                    None => {
                        return e(format!("第{}条规则“{}”：没有字段“{name}”", i + 1, r.check));
                    }
                }
            }
            if r.message.trim().is_empty() {
                return e(format!("第{}条规则缺少提示信息（message）", i + 1));
            }
        }
        Ok(())
    }

    /// Checks a period code against the ledger's type.
    pub fn check_period(&self, code: &str) -> Result<String, String> {
        match self.period_type() {
            None => {
                if code.trim().is_empty() || code.trim() == "-" {
                    Ok(String::new())
                } else {
                    Err("该台账不分期，期间应为空".into())
                }
            }
            Some(t) => {
                let p = Period::parse(code).map_err(|e| e.to_string())?;
                if p.period_type() != t {
                    return Err(format!(
                        "期间“{p}”不是{}，该台账按{}填报",
                        t.label(),
                        t.label()
                    ));
                }
                Ok(p.to_string())
            }
        }
    }
}

/// Columns every entry has; no field may take these names.
const RESERVED: &[&str] = &["id", "org", "period", "subject", "status", "row", "void"];

fn is_key(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 40
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Gives every numeric field a slot `1..=NUM_SLOTS`, keeping the slot a field had in the
/// previous version so that aggregates span versions.
pub fn assign_slots(
    previous: &BTreeMap<String, u8>,
    def: &LedgerDefinition,
) -> Result<BTreeMap<String, u8>, DefinitionError> {
    let mut out = BTreeMap::new();
    let numeric: Vec<&FieldDef> = def.fields.iter().filter(|f| f.kind.is_numeric()).collect();
    for f in &numeric {
        if let Some(s) = previous.get(&f.key) {
            out.insert(f.key.clone(), *s);
        }
    }
    // Slots of removed fields stay reserved, so old entries keep their meaning.
    let mut used: std::collections::BTreeSet<u8> = previous.values().copied().collect();
    for f in &numeric {
        if out.contains_key(&f.key) {
            continue;
        }
        let free = (1..=NUM_SLOTS as u8)
            .find(|s| !used.contains(s))
            .ok_or_else(|| {
                DefinitionError(format!(
                    "数值字段的存储位置已用完（每个台账累计最多{NUM_SLOTS}个数值字段）"
                ))
            })?;
        used.insert(free);
        out.insert(f.key.clone(), free);
    }
    Ok(out)
}

// ---- values ----

/// A place: address and optional WGS-84 coordinates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// A stored file, by content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub sha256: String,
    pub name: String,
    pub size: u64,
}

/// One value of an entry, typed by its field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Bool(bool),
    Int(i64),
    Dec(f64),
    Text(String),
    Many(Vec<String>),
    Location(Location),
    Attachment(AttachmentRef),
}

impl FieldValue {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Int(i) => Some(*i as f64),
            FieldValue::Dec(d) => Some(*d),
            FieldValue::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }

    /// How the value reads in a cell or on a page (references show their id; the store adds names).
    pub fn display(&self, f: &FieldDef) -> String {
        match self {
            FieldValue::Bool(b) => if *b { "是" } else { "否" }.into(),
            FieldValue::Int(i) => i.to_string(),
            FieldValue::Dec(d) => format_decimal(*d, f.scale.unwrap_or(2)),
            FieldValue::Text(s) => s.clone(),
            FieldValue::Many(v) => v.join("、"),
            FieldValue::Location(l) => match (l.lat, l.lon) {
                (Some(a), Some(b)) => format!("{}（{a:.6},{b:.6}）", l.address),
                _ => l.address.clone(),
            },
            FieldValue::Attachment(a) => a.name.clone(),
        }
    }

    /// Reads a stored JSON-ish value back with the field's type (an integer stored as `3.0`
    /// by another tool is still an integer).
    pub fn coerce(self, f: &FieldDef) -> Option<FieldValue> {
        Some(match (f.kind, self) {
            (FieldType::Integer, FieldValue::Dec(d)) if d.fract() == 0.0 => {
                FieldValue::Int(d as i64)
            }
            (FieldType::Decimal, FieldValue::Int(i)) => FieldValue::Dec(i as f64),
            (FieldType::Bool, v @ FieldValue::Bool(_)) => v,
            (FieldType::Bool, _) => return None,
            (_, v) => v,
        })
    }
}

/// Shortest decimal form with at most `scale` places: `37600`, `1.5`, `0.41`.
pub fn format_decimal(d: f64, scale: u32) -> String {
    let s = format!("{:.*}", scale as usize, d);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Parses what a person typed (form, spreadsheet cell) for a field. `Ok(None)` is empty.
/// References are returned as the text typed (an id, 户号, ID number or credit code); the
/// store resolves them.
pub fn parse_input(f: &FieldDef, raw: &str) -> Result<Option<FieldValue>, String> {
    let s = normalize_text(raw);
    if s.is_empty() {
        return Ok(None);
    }
    let v = match f.kind {
        FieldType::Text => FieldValue::Text(s),
        FieldType::Integer => {
            let t = s.replace([',', '，'], "");
            let t = strip_unit(&t, f);
            match t.parse::<i64>() {
                Ok(i) => FieldValue::Int(i),
                Err(_) => match t.parse::<f64>() {
                    Ok(d) if d.fract() == 0.0 && d.abs() < 9.0e15 => FieldValue::Int(d as i64),
                    Ok(_) => return Err(format!("“{s}”不是整数")),
                    Err(_) => return Err(format!("“{s}”不是数字")),
                },
            }
        }
        FieldType::Decimal => {
            let t = s.replace([',', '，'], "");
            let t = strip_unit(&t, f);
            let (t, pct) = match t.strip_suffix('%') {
                Some(x) if f.unit.as_deref() != Some("%") => (x.trim(), true),
                Some(x) => (x.trim(), false),
                None => (t, false),
            };
            match t.parse::<f64>() {
                Ok(d) if d.is_finite() => {
                    let d = if pct { d / 100.0 } else { d };
                    let scale = f.scale.unwrap_or(2);
                    let m = 10f64.powi(scale as i32);
                    FieldValue::Dec((d * m).round() / m)
                }
                _ => return Err(format!("“{s}”不是数字")),
            }
        }
        FieldType::Date => FieldValue::Text(parse_date(&s)?.format("%Y-%m-%d").to_string()),
        FieldType::Bool => match s.as_str() {
            "是" | "有" | "已" | "Y" | "y" | "yes" | "true" | "1" | "√" | "✓" => {
                FieldValue::Bool(true)
            }
            "否" | "无" | "未" | "N" | "n" | "no" | "false" | "0" | "×" => {
                FieldValue::Bool(false)
            }
            _ => return Err(format!("“{s}”应为“是”或“否”")),
        },
        FieldType::Choice => {
            if f.options.contains(&s) {
                FieldValue::Text(s)
            } else {
                return Err(format!("“{s}”不在选项中（{}）", f.options.join("、")));
            }
        }
        FieldType::MultiChoice => {
            let mut out = Vec::new();
            for part in s.split(['、', ',', '，', ';', '；', '|']) {
                let p = part.trim();
                if p.is_empty() {
                    continue;
                }
                if !f.options.iter().any(|o| o == p) {
                    return Err(format!("“{p}”不在选项中（{}）", f.options.join("、")));
                }
                if !out.iter().any(|x: &String| x == p) {
                    out.push(p.to_string());
                }
            }
            FieldValue::Many(out)
        }
        FieldType::Person | FieldType::Household | FieldType::Enterprise | FieldType::Org => {
            FieldValue::Text(s)
        }
        FieldType::Location => {
            // `address` or `address（lat,lon）` / `address @ lat,lon`
            let (addr, coords) = match s.rsplit_once(['（', '(', '@']) {
                Some((a, c)) => (
                    a.trim().to_string(),
                    Some(c.trim_end_matches([')', '）']).trim()),
                ),
                None => (s.clone(), None),
            };
            let mut loc = Location {
                address: addr,
                lat: None,
                lon: None,
            };
            if let Some(c) = coords {
                let parts: Vec<&str> = c.split([',', '，']).map(str::trim).collect();
                match parts.as_slice() {
                    [a, b] => match (a.parse::<f64>(), b.parse::<f64>()) {
                        (Ok(a), Ok(b))
                            if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&b) =>
                        {
                            loc.lat = Some(a);
                            loc.lon = Some(b);
                        }
                        _ => return Err(format!("坐标“{c}”无效：应为“纬度,经度”")),
                    },
                    _ => loc.address = s.clone(),
                }
            }
            if loc.address.is_empty() {
                return Err("地点必须填写地址".into());
            }
            FieldValue::Location(loc)
        }
        FieldType::Attachment => return Err("附件只能在网页上传".into()),
    };
    Ok(Some(v))
}

fn strip_unit<'a>(t: &'a str, f: &FieldDef) -> &'a str {
    match &f.unit {
        Some(u) if !u.is_empty() && u != "%" => t.strip_suffix(u.as_str()).unwrap_or(t).trim(),
        _ => t.trim(),
    }
}

/// `2023-05-01`, `2023/5/1`, `2023年5月1日`, `20230501`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let t = s
        .trim()
        .replace(['年', '月', '/', '.'], "-")
        .replace('日', "");
    let t = t.split([' ', 'T']).next().unwrap_or("");
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%Y%m%d"))
        .map_err(|_| format!("“{s}”不是有效日期（应如 2023-05-01）"))
}

/// One problem with an entry: which field (empty for the whole entry) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

pub type Values = BTreeMap<String, FieldValue>;

/// Checks typed values against the definition: unknown fields, types, required, range,
/// pattern, options, attachment limits, then the cross-field rules. Returns every problem.
pub fn validate_values(def: &LedgerDefinition, values: &Values) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut push = |field: &str, message: String| {
        errs.push(FieldError {
            field: field.to_string(),
            message,
        })
    };
    for k in values.keys() {
        if def.field(k).is_none() {
            push(k, format!("台账中没有字段“{k}”"));
        }
    }
    for f in &def.fields {
        let Some(v) = values.get(&f.key) else {
            if f.required {
                push(&f.key, format!("“{}”必须填写", f.label));
            }
            continue;
        };
        let label = &f.label;
        let type_ok = matches!(
            (f.kind, v),
            (FieldType::Text, FieldValue::Text(_))
                | (FieldType::Integer, FieldValue::Int(_))
                | (FieldType::Decimal, FieldValue::Dec(_) | FieldValue::Int(_))
                | (FieldType::Date, FieldValue::Text(_))
                | (FieldType::Bool, FieldValue::Bool(_))
                | (FieldType::Choice, FieldValue::Text(_))
                | (FieldType::MultiChoice, FieldValue::Many(_))
                | (
                    FieldType::Person | FieldType::Household | FieldType::Enterprise,
                    FieldValue::Int(_)
                )
                | (FieldType::Org, FieldValue::Text(_))
                | (FieldType::Location, FieldValue::Location(_))
                | (FieldType::Attachment, FieldValue::Attachment(_))
        );
        if !type_ok {
            push(&f.key, format!("“{label}”应为{}", f.kind.label()));
            continue;
        }
        if let Some(x) = v.as_f64()
            && f.kind != FieldType::Bool
        {
            if let Some(min) = f.min
                && x < min
            {
                push(
                    &f.key,
                    format!("“{label}”不能小于{}", format_decimal(min, 6)),
                );
            }
            if let Some(max) = f.max
                && x > max
            {
                push(
                    &f.key,
                    format!("“{label}”不能大于{}", format_decimal(max, 6)),
                );
            }
        }
        match (f.kind, v) {
            (FieldType::Text, FieldValue::Text(s)) => {
                if s.chars().count() > 2000 {
                    push(&f.key, format!("“{label}”过长（最多2000字）"));
                }
                if let Some(p) = &f.pattern
                    && let Ok(p) = Pattern::parse(p)
                    && !p.matches(s)
                {
                    push(
                        &f.key,
                        f.pattern_message
                            .clone()
                            .unwrap_or_else(|| format!("“{label}”格式不对")),
                    );
                }
            }
            (FieldType::Date, FieldValue::Text(s)) if parse_date(s).is_err() => {
                push(&f.key, format!("“{label}”不是有效日期"));
            }
            (FieldType::Choice, FieldValue::Text(s)) if !f.options.contains(s) => {
                push(&f.key, format!("“{label}”的“{s}”不在选项中"));
            }
            (FieldType::MultiChoice, FieldValue::Many(m)) => {
                if let Some(bad) = m.iter().find(|x| !f.options.contains(x)) {
                    push(&f.key, format!("“{label}”的“{bad}”不在选项中"));
                }
                if f.required && m.is_empty() {
                    push(&f.key, format!("“{label}”至少选一项"));
                }
            }
            (FieldType::Attachment, FieldValue::Attachment(a)) => {
                if let Some(kb) = f.max_kb
                    && a.size > kb * 1024
                {
                    push(&f.key, format!("“{label}”超过大小限制（{kb}KB）"));
                }
                if !f.accept.is_empty() {
                    let ext = a.name.rsplit_once('.').map(|x| x.1.to_ascii_lowercase());
                    if !ext.is_some_and(|e| f.accept.iter().any(|a| a.eq_ignore_ascii_case(&e))) {
                        push(
                            &f.key,
                            format!("“{label}”只接受 {} 文件", f.accept.join("、")),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    if errs.is_empty() {
        for r in &def.rules {
            if let Ok(c) = Check::parse(&r.check)
                && c.eval(def, values) == Some(false)
            {
                errs.push(FieldError {
                    field: String::new(),
                    message: r.message.clone(),
                });
            }
        }
    }
    errs
}

// ---- cross-field rules ----

/// A comparison of two arithmetic expressions over numeric and date fields:
/// `output <= area * 2`, `handled_on >= found_on`, `a + b == total`. Dates compare as days.
/// A rule whose fields are empty is not checked (use `required` for presence).
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    left: Expr,
    op: CmpOp,
    right: Expr,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Num(f64),
    Field(String),
    Bin(Box<Expr>, char, Box<Expr>),
    Neg(Box<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(&'static str),
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let st = i;
            while i < cs.len() && (cs[i].is_ascii_digit() || cs[i] == '.') {
                i += 1;
            }
            let t: String = cs[st..i].iter().collect();
            out.push(Tok::Num(t.parse().map_err(|_| format!("“{t}”不是数字"))?));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let st = i;
            while i < cs.len() && (cs[i].is_ascii_alphanumeric() || cs[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(cs[st..i].iter().collect()));
        } else {
            let two: String = cs[i..(i + 2).min(cs.len())].iter().collect();
            let op = match two.as_str() {
                "<=" => Some("<="),
                ">=" => Some(">="),
                "==" => Some("=="),
                "!=" => Some("!="),
                _ => None,
            };
            if let Some(op) = op {
                out.push(Tok::Op(op));
                i += 2;
                continue;
            }
            let op = match c {
                '<' => "<",
                '>' => ">",
                '=' => "==",
                '+' => "+",
                '-' => "-",
                '*' => "*",
                '/' => "/",
                '(' => "(",
                ')' => ")",
                _ => return Err(format!("无法识别的字符“{c}”")),
            };
            out.push(Tok::Op(op));
            i += 1;
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(o)) => Some(o),
            _ => None,
        }
    }
    fn sum(&mut self) -> Result<Expr, String> {
        let mut l = self.product()?;
        while let Some(o @ ("+" | "-")) = self.peek_op() {
            self.pos += 1;
            let r = self.product()?;
            l = Expr::Bin(Box::new(l), o.chars().next().unwrap_or('+'), Box::new(r));
        }
        Ok(l)
    }
    fn product(&mut self) -> Result<Expr, String> {
        let mut l = self.atom()?;
        while let Some(o @ ("*" | "/")) = self.peek_op() {
            self.pos += 1;
            let r = self.atom()?;
            l = Expr::Bin(Box::new(l), o.chars().next().unwrap_or('*'), Box::new(r));
        }
        Ok(l)
    }
    fn atom(&mut self) -> Result<Expr, String> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match t {
            Some(Tok::Num(n)) => Ok(Expr::Num(n)),
            Some(Tok::Ident(s)) => Ok(Expr::Field(s)),
            Some(Tok::Op("-")) => Ok(Expr::Neg(Box::new(self.atom()?))),
            Some(Tok::Op("(")) => {
                let e = self.sum()?;
                if self.peek_op() != Some(")") {
                    return Err("缺少右括号".into());
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Op(o)) => Err(format!("此处不应出现“{o}”")),
            None => Err("表达式不完整".into()),
        }
    }
}

impl Check {
    pub fn parse(s: &str) -> Result<Check, String> {
        if s.len() > 500 {
            return Err("规则过长".into());
        }
        let mut p = Parser {
            toks: lex(s)?,
            pos: 0,
        };
        let left = p.sum()?;
        let op = match p.peek_op() {
            Some("<") => CmpOp::Lt,
            Some("<=") => CmpOp::Le,
            Some(">") => CmpOp::Gt,
            Some(">=") => CmpOp::Ge,
            Some("==") => CmpOp::Eq,
            Some("!=") => CmpOp::Ne,
            _ => return Err("规则应是一个比较，如 output <= area * 2".into()),
        };
        p.pos += 1;
        let right = p.sum()?;
        if p.pos != p.toks.len() {
            return Err("比较之后还有多余内容".into());
        }
        Ok(Check { left, op, right })
    }

    pub fn names(&self) -> Vec<&str> {
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
            match e {
                Expr::Field(f) => out.push(f),
                Expr::Bin(a, _, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Neg(a) => walk(a, out),
                Expr::Num(_) => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.left, &mut out);
        walk(&self.right, &mut out);
        out
    }

    /// `None` when a field is empty or a division by zero happens: the rule is not applied.
    pub fn eval(&self, def: &LedgerDefinition, values: &Values) -> Option<bool> {
        fn num(e: &Expr, def: &LedgerDefinition, v: &Values) -> Option<f64> {
            match e {
                Expr::Num(n) => Some(*n),
                Expr::Field(f) => match (def.field(f)?.kind, v.get(f)?) {
                    (FieldType::Date, FieldValue::Text(s)) => {
                        let d = parse_date(s).ok()?;
                        Some(f64::from(
                            d.signed_duration_since(NaiveDate::default()).num_days() as i32,
                        ))
                    }
                    (_, x) => x.as_f64(),
                },
                Expr::Neg(a) => Some(-num(a, def, v)?),
                Expr::Bin(a, o, b) => {
                    let (a, b) = (num(a, def, v)?, num(b, def, v)?);
                    match o {
                        '+' => Some(a + b),
                        '-' => Some(a - b),
                        '*' => Some(a * b),
                        _ if b == 0.0 => None,
                        _ => Some(a / b),
                    }
                }
            }
        }
        let (a, b) = (
            num(&self.left, def, values)?,
            num(&self.right, def, values)?,
        );
        let eps = 1e-9 * a.abs().max(b.abs()).max(1.0);
        Some(match self.op {
            CmpOp::Lt => a < b - eps,
            CmpOp::Le => a <= b + eps,
            CmpOp::Gt => a > b + eps,
            CmpOp::Ge => a >= b - eps,
            CmpOp::Eq => (a - b).abs() <= eps,
            CmpOp::Ne => (a - b).abs() > eps,
        })
    }
}

// ---- patterns ----

/// A small pattern language for text fields, safe against pathological input (no
/// backtracking): `\d` digit, `\w` letter or digit, `.` any, `[abc]` set, each optionally
/// followed by `{n}` or `{m,n}`; other characters match themselves. The whole text must match.
/// Named shortcuts: `phone` (mobile number), `digits`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(Vec<(Atom, u32, u32)>);

#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Digit,
    Word,
    Any,
    Set(Vec<char>),
    Lit(char),
}

impl Pattern {
    pub fn parse(p: &str) -> Result<Pattern, String> {
        let p = match p {
            "phone" => "1\\d{10}",
            "digits" => "\\d{1,40}",
            x => x,
        };
        let cs: Vec<char> = p.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < cs.len() {
            let atom = match cs[i] {
                '\\' => {
                    i += 1;
                    match cs.get(i) {
                        Some('d') => Atom::Digit,
                        Some('w') => Atom::Word,
                        Some(c) => Atom::Lit(*c),
                        None => return Err("以“\\”结尾".into()),
                    }
                }
                '.' => Atom::Any,
                '[' => {
                    let end = cs[i..].iter().position(|c| *c == ']').ok_or("缺少“]”")?;
                    let set = cs[i + 1..i + end].to_vec();
                    i += end;
                    Atom::Set(set)
                }
                c => Atom::Lit(c),
            };
            i += 1;
            let (mut lo, mut hi) = (1, 1);
            if cs.get(i) == Some(&'{') {
                let end = cs[i..].iter().position(|c| *c == '}').ok_or("缺少“}”")?;
                let inner: String = cs[i + 1..i + end].iter().collect();
                let (a, b) = inner.split_once(',').unwrap_or((&inner, &inner));
                lo = a.trim().parse().map_err(|_| "重复次数无效")?;
                hi = b.trim().parse().map_err(|_| "重复次数无效")?;
                if lo > hi || hi > 200 {
                    return Err("重复次数无效".into());
                }
                i += end + 1;
            }
            out.push((atom, lo, hi));
        }
        Ok(Pattern(out))
    }

    /// Dynamic programming over positions: linear in text length times pattern length.
    pub fn matches(&self, s: &str) -> bool {
        let cs: Vec<char> = s.chars().collect();
        let mut reach = vec![false; cs.len() + 1];
        reach[0] = true;
        for (atom, lo, hi) in &self.0 {
            let mut next = vec![false; cs.len() + 1];
            for (start, _) in reach.iter().enumerate().filter(|(_, r)| **r) {
                let mut n = 0u32;
                let mut pos = start;
                loop {
                    if n >= *lo {
                        next[pos] = true;
                    }
                    if n == *hi || pos == cs.len() || !atom.matches(cs[pos]) {
                        break;
                    }
                    n += 1;
                    pos += 1;
                }
            }
            reach = next;
        }
        reach[cs.len()]
    }
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Digit => c.is_ascii_digit(),
            Atom::Word => c.is_alphanumeric(),
            Atom::Any => true,
            Atom::Set(s) => s.contains(&c),
            Atom::Lit(l) => *l == c,
        }
    }
}

/// Does `s` match the pattern? (A bad pattern matches nothing.)
pub fn pattern_matches(pattern: &str, s: &str) -> bool {
    Pattern::parse(pattern).is_ok_and(|p| p.matches(s))
}

// ---- workflow ----

/// Where a unit's submission for one period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionStatus {
    /// Being filled (or nothing yet).
    Draft,
    Submitted,
    /// Sent back for correction: editable again.
    Returned,
    /// Locked.
    Approved,
}

impl SubmissionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionStatus::Draft => "draft",
            SubmissionStatus::Submitted => "submitted",
            SubmissionStatus::Returned => "returned",
            SubmissionStatus::Approved => "approved",
        }
    }
    pub fn parse(s: &str) -> Option<SubmissionStatus> {
        Some(match s {
            "draft" => SubmissionStatus::Draft,
            "submitted" => SubmissionStatus::Submitted,
            "returned" => SubmissionStatus::Returned,
            "approved" => SubmissionStatus::Approved,
            _ => return None,
        })
    }
    pub fn label(self) -> &'static str {
        match self {
            SubmissionStatus::Draft => "填报中",
            SubmissionStatus::Submitted => "已报送",
            SubmissionStatus::Returned => "已退回",
            SubmissionStatus::Approved => "已审核",
        }
    }
    pub fn editable(self) -> bool {
        matches!(self, SubmissionStatus::Draft | SubmissionStatus::Returned)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionAction {
    Submit,
    Return,
    Approve,
    /// The township reopens an approved or overdue period; audited.
    Unlock,
}

impl SubmissionAction {
    pub fn parse(s: &str) -> Option<SubmissionAction> {
        Some(match s {
            "submit" => SubmissionAction::Submit,
            "return" => SubmissionAction::Return,
            "approve" => SubmissionAction::Approve,
            "unlock" => SubmissionAction::Unlock,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionAction::Submit => "submit",
            SubmissionAction::Return => "return",
            SubmissionAction::Approve => "approve",
            SubmissionAction::Unlock => "unlock",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SubmissionAction::Submit => "报送",
            SubmissionAction::Return => "退回修改",
            SubmissionAction::Approve => "审核通过",
            SubmissionAction::Unlock => "解锁",
        }
    }
    /// The next status, or why not.
    pub fn apply(self, from: SubmissionStatus) -> Result<SubmissionStatus, String> {
        use SubmissionStatus as S;
        match (self, from) {
            (SubmissionAction::Submit, S::Draft | S::Returned) => Ok(S::Submitted),
            (SubmissionAction::Return, S::Submitted | S::Approved) => Ok(S::Returned),
            (SubmissionAction::Approve, S::Submitted) => Ok(S::Approved),
            (SubmissionAction::Unlock, _) => Ok(S::Returned),
            (a, s) => Err(format!("{}状态不能{}", s.label(), a.label())),
        }
    }
}

impl fmt::Display for SubmissionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The day after which a period's entries lock (`None`: never).
pub fn deadline(def: &LedgerDefinition, period: &str) -> Option<NaiveDate> {
    if def.deadline_days == 0 {
        return None;
    }
    let p = Period::parse(period).ok()?;
    p.end()
        .checked_add_days(chrono::Days::new(u64::from(def.deadline_days)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FARM: &str = r#"
code = "farm"
name = "农业生产台账"
department = "农业农村办"
period = "year"
level = "village"
roster = "village"

[[fields]]
key = "grain_area"
label = "粮食种植面积"
type = "decimal"
unit = "亩"
required = true
min = 0

[[fields]]
key = "grain_output"
label = "粮食产量"
type = "decimal"
unit = "吨"
min = 0

[[fields]]
key = "pigs"
label = "生猪出栏"
type = "integer"
unit = "头"

[[fields]]
key = "crop"
label = "主要作物"
type = "multi_choice"
options = ["水稻", "玉米", "油菜"]

[[fields]]
key = "contact"
label = "联系电话"
type = "text"
pattern = "phone"
pattern_message = "联系电话应为11位手机号"

[[rules]]
check = "grain_output <= grain_area * 0.8"
message = "粮食单产超过每亩0.8吨，请核实"
"#;

    fn def() -> LedgerDefinition {
        LedgerDefinition::from_toml(FARM).unwrap()
    }

    fn val(d: &LedgerDefinition, k: &str, s: &str) -> FieldValue {
        parse_input(d.field(k).unwrap(), s).unwrap().unwrap()
    }

    #[test]
    fn parses_and_round_trips() {
        let d = def();
        assert_eq!(d.fields.len(), 5);
        assert_eq!(d.period_type(), Some(PeriodType::Year));
        assert_eq!(d.fields[0].header(), "粮食种植面积（亩）");
        let again = LedgerDefinition::from_toml(&d.to_toml()).unwrap();
        assert_eq!(again, d);
    }

    #[test]
    fn definition_errors_are_chinese_and_say_where() {
        let bad = FARM.replace("key = \"pigs\"", "key = \"grain_area\"");
        let e = LedgerDefinition::from_toml(&bad).unwrap_err().0;
        assert!(e.contains("第3个字段") && e.contains("重复"), "{e}");
        let bad = FARM.replace("period = \"year\"", "period = \"fortnight\"");
        assert!(
            LedgerDefinition::from_toml(&bad)
                .unwrap_err()
                .0
                .contains("期间类型")
        );
        let bad = FARM.replace("grain_area * 0.8", "grain_areas * 0.8");
        let e = LedgerDefinition::from_toml(&bad).unwrap_err().0;
        assert!(e.contains("没有字段“grain_areas”"), "{e}");
        let bad = FARM.replace("grain_output <=", "grain_output <= <=");
        assert!(LedgerDefinition::from_toml(&bad).is_err());
        let bad = FARM.replace(
            "type = \"multi_choice\"",
            "type = \"multi_choice\"\nmin = 1",
        );
        assert!(
            LedgerDefinition::from_toml(&bad)
                .unwrap_err()
                .0
                .contains("范围")
        );
        let e = LedgerDefinition::from_toml("code = 1").unwrap_err().0;
        assert!(e.starts_with("台账定义格式错误"), "{e}");
    }

    #[test]
    fn values_are_checked() {
        let d = def();
        let mut v = Values::new();
        assert_eq!(validate_values(&d, &v)[0].message, "“粮食种植面积”必须填写");
        v.insert("grain_area".into(), val(&d, "grain_area", "3,760 亩"));
        assert_eq!(v["grain_area"], FieldValue::Dec(3760.0));
        v.insert("grain_output".into(), val(&d, "grain_output", "1650"));
        assert!(validate_values(&d, &v).is_empty());
        v.insert("grain_output".into(), val(&d, "grain_output", "4000"));
        let e = validate_values(&d, &v);
        assert_eq!(e[0].message, "粮食单产超过每亩0.8吨，请核实");
        v.insert("grain_output".into(), val(&d, "grain_output", "-1"));
        assert!(validate_values(&d, &v)[0].message.contains("不能小于0"));
        v.insert("grain_output".into(), FieldValue::Dec(1.0));
        v.insert("contact".into(), val(&d, "contact", "1380013800"));
        assert_eq!(validate_values(&d, &v)[0].message, "联系电话应为11位手机号");
        v.insert("contact".into(), val(&d, "contact", "13800138000"));
        assert!(validate_values(&d, &v).is_empty());
        assert!(
            parse_input(d.field("pigs").unwrap(), "1.5")
                .unwrap_err()
                .contains("整数")
        );
        assert_eq!(
            val(&d, "crop", "水稻、油菜"),
            FieldValue::Many(vec!["水稻".into(), "油菜".into()])
        );
        assert!(
            parse_input(d.field("crop").unwrap(), "小麦")
                .unwrap_err()
                .contains("不在选项中")
        );
        v.insert("nope".into(), FieldValue::Int(1));
        assert!(validate_values(&d, &v)[0].message.contains("没有字段"));
    }

    #[test]
    fn slots_survive_versions() {
        let d = def();
        let s1 = assign_slots(&BTreeMap::new(), &d).unwrap();
        assert_eq!(s1.len(), 3);
        let mut d2 = d.clone();
        d2.fields.remove(0);
        d2.fields.push(FieldDef {
            key: "veg".into(),
            label: "蔬菜".into(),
            kind: FieldType::Decimal,
            unit: None,
            required: false,
            min: None,
            max: None,
            scale: None,
            pattern: None,
            pattern_message: None,
            options: vec![],
            max_kb: None,
            accept: vec![],
            help: None,
        });
        d2.rules.clear();
        let s2 = assign_slots(&s1, &d2).unwrap();
        assert_eq!(s2["grain_output"], s1["grain_output"]);
        assert!(
            !s1.values().any(|s| *s == s2["veg"]),
            "a removed field's slot is not reused"
        );
    }

    #[test]
    fn patterns_and_checks() {
        assert!(pattern_matches("\\d{6}", "123456"));
        assert!(!pattern_matches("\\d{6}", "12345"));
        assert!(pattern_matches("[ABC]\\d{2,3}号", "B12号"));
        assert!(pattern_matches(
            "a.{0,200}",
            &format!("a{}", "x".repeat(200))
        ));
        let c = Check::parse("(a + b) * 2 != -c / 4").unwrap();
        assert_eq!(c.names(), vec!["a", "b", "c"]);
        assert!(Check::parse("a +").is_err());
        assert!(Check::parse("a + b").is_err());
    }

    #[test]
    fn dates_and_locations() {
        assert_eq!(
            parse_date("2023年5月1日").unwrap().to_string(),
            "2023-05-01"
        );
        assert_eq!(
            parse_date("2023/05/01 10:30").unwrap().to_string(),
            "2023-05-01"
        );
        let f = FieldDef {
            key: "place".into(),
            label: "地点".into(),
            kind: FieldType::Location,
            ..def().fields[0].clone()
        };
        let v = parse_input(&f, "舍头村3组（27.95,116.36）")
            .unwrap()
            .unwrap();
        assert_eq!(
            v,
            FieldValue::Location(Location {
                address: "舍头村3组".into(),
                lat: Some(27.95),
                lon: Some(116.36)
            })
        );
    }

    #[test]
    fn workflow() {
        use SubmissionAction as A;
        use SubmissionStatus as S;
        assert_eq!(A::Submit.apply(S::Draft), Ok(S::Submitted));
        assert_eq!(A::Approve.apply(S::Submitted), Ok(S::Approved));
        assert!(A::Approve.apply(S::Draft).is_err());
        assert_eq!(A::Unlock.apply(S::Approved), Ok(S::Returned));
        let mut d = def();
        d.deadline_days = 10;
        assert_eq!(deadline(&d, "2023").unwrap().to_string(), "2024-01-10");
        assert_eq!(d.check_period("2023").unwrap(), "2023");
        assert!(d.check_period("202301").unwrap_err().contains("按年填报"));
    }
}
