//! Records of the registry (人口、户籍、企业) as the store hands them out.
//!
//! Citizen IDs and phones leave the store masked; the full value only comes out of
//! `RegistryStore::reveal`, which checks the permission and writes an audit entry.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xiangzhi_domain::citizen_id::{CitizenId, Sex};
use xiangzhi_domain::credit_code::CreditCode;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::{DivisionCode, OrgPath};
use xiangzhi_domain::phone::Phone;

xiangzhi_domain::code_enum!(
    /// 与户主关系.
    Relation {
        Head = "head" / "户主",
        Spouse = "spouse" / "配偶",
        Child = "child" / "子女",
        Parent = "parent" / "父母",
        Grandchild = "grandchild" / "孙子女",
        Sibling = "sibling" / "兄弟姐妹",
        Other = "other" / "其他",
    }
);

xiangzhi_domain::code_enum!(
    /// 人员状态. Nobody is deleted: a death or a move-out changes the status.
    PersonStatus {
        Registered = "registered" / "在册",
        Deceased = "deceased" / "死亡",
        MovedOut = "moved_out" / "迁出",
    }
);

xiangzhi_domain::code_enum!(
    /// 户状态: a household merged into another or left empty stays on record.
    HouseholdStatus {
        Active = "active" / "在册",
        Merged = "merged" / "已合并",
        Dissolved = "dissolved" / "已注销",
    }
);

xiangzhi_domain::code_enum!(
    /// Life events (and the store's own bookkeeping events), each dated and kept.
    EventKind {
        Register = "register" / "登记",
        Update = "update" / "信息变更",
        Birth = "birth" / "出生",
        Death = "death" / "死亡",
        MoveIn = "move_in" / "迁入",
        MoveOut = "move_out" / "迁出",
        Marriage = "marriage" / "结婚",
        Split = "split" / "分户",
        Merge = "merge" / "合户",
        ChangeHead = "change_head" / "变更户主",
        Import = "import" / "导入更新",
        Close = "close" / "注销",
        CorrectId = "correct_id" / "更正身份证号",
    }
);

xiangzhi_domain::code_enum!(
    /// Which side of a record a registry event belongs to.
    EntityKind {
        Person = "person" / "人员",
        Household = "household" / "户",
        Enterprise = "enterprise" / "企业",
    }
);

/// One tag with details: `残疾 {category: 肢体, grade: 二级}`, `党员`, `留守 {kind: 儿童}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonTag {
    pub tag: String,
    /// Free key/value details, kept in order.
    #[serde(default)]
    pub detail: Vec<(String, String)>,
}

impl PersonTag {
    pub fn new(tag: impl Into<String>) -> PersonTag {
        PersonTag {
            tag: tag.into(),
            detail: Vec::new(),
        }
    }
    pub fn with(mut self, k: &str, v: &str) -> PersonTag {
        self.detail.push((k.to_string(), v.to_string()));
        self
    }
    /// `残疾（肢体，二级）`, `党员`.
    pub fn display(&self) -> String {
        if self.detail.is_empty() {
            self.tag.clone()
        } else {
            let d: Vec<&str> = self.detail.iter().map(|(_, v)| v.as_str()).collect();
            format!("{}（{}）", self.tag, d.join("，"))
        }
    }
    /// Reads the import column format: `残疾:肢体:二级;党员;留守:儿童` (also `；` and `，`).
    /// Known tags give their details names: 残疾 → category, grade; 留守 → kind.
    pub fn parse_list(s: &str) -> Result<Vec<PersonTag>, String> {
        let mut out: Vec<PersonTag> = Vec::new();
        for part in s.split([';', '；', ',', '，', '、']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let mut bits = part.split([':', '：']).map(str::trim);
            let tag = bits.next().unwrap_or_default().to_string();
            if tag.is_empty() || tag.chars().count() > 16 {
                return Err(format!("标签“{part}”无效"));
            }
            let names: &[&str] = match tag.as_str() {
                "残疾" => &["category", "grade"],
                "留守" => &["kind"],
                _ => &[],
            };
            let mut t = PersonTag::new(tag);
            for (i, v) in bits.enumerate() {
                if v.is_empty() {
                    continue;
                }
                let k = names
                    .get(i)
                    .map_or_else(|| format!("detail{}", i + 1), |s| s.to_string());
                t.detail.push((k, v.to_string()));
            }
            if let Some(g) = t
                .detail
                .iter()
                .find(|(k, _)| k == "grade")
                .map(|(_, v)| v.clone())
                && !["一级", "二级", "三级", "四级"].contains(&g.as_str())
            {
                return Err(format!("残疾等级“{g}”无效：应为一级、二级、三级或四级"));
            }
            if out.iter().any(|o| o.tag == t.tag) {
                return Err(format!("标签“{}”重复", t.tag));
            }
            out.push(t);
        }
        Ok(out)
    }
    /// The inverse of [`PersonTag::parse_list`].
    pub fn format_list(tags: &[PersonTag]) -> String {
        tags.iter()
            .map(|t| {
                let mut s = t.tag.clone();
                for (_, v) in &t.detail {
                    s.push(':');
                    s.push_str(v);
                }
                s
            })
            .collect::<Vec<_>>()
            .join(";")
    }
}

/// A person as lists and pages show them: ID and phone masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
    /// `361002********123X`.
    pub citizen_id_masked: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// `138****5678`.
    pub phone_masked: Option<String>,
    pub household_id: Option<i64>,
    pub household_no: Option<String>,
    pub relation: Option<Relation>,
    pub status: PersonStatus,
    /// The grid (or village) the person belongs to.
    pub org_code: DivisionCode,
    pub org_path: OrgPath,
    pub org_name: String,
    pub tags: Vec<PersonTag>,
}

impl Person {
    /// The birth year: what pages show beside a masked ID, since the full birth date and the
    /// masked ID together give back 14 of its 18 characters.
    pub fn birth_year(&self) -> i32 {
        use chrono::Datelike as _;
        self.birth_date.year()
    }
}

/// A new person; birth date and sex come from the ID.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub name: String,
    pub citizen_id: CitizenId,
    pub phone: Option<Phone>,
    pub household_id: Option<i64>,
    pub relation: Option<Relation>,
    /// Grid or village; defaults to the household's when `None`.
    pub org_code: Option<DivisionCode>,
    pub tags: Vec<PersonTag>,
}

/// Changes to a person's plain details (status, household and relation change only through
/// life events). `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PersonUpdate {
    pub name: Option<String>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<Phone>>,
    pub org_code: Option<DivisionCode>,
    pub tags: Option<Vec<PersonTag>>,
}

/// Who holds a citizen ID, as far as the asking scope may know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IdOwner {
    Nobody,
    /// In the caller's scope: link to `/persons/{person_id}`.
    InScope {
        person_id: i64,
        name: String,
    },
    /// Registered in another area: no details.
    Elsewhere,
}

/// Search, filter and page persons (keyset: pass the last id seen as `after_id`).
#[derive(Debug, Clone, Default)]
pub struct PersonQuery {
    /// A full citizen ID or phone number (exact, via the keyed hash), or part of a name.
    pub q: Option<String>,
    /// Under this grid or village (must lie in the scope).
    pub org_code: Option<DivisionCode>,
    pub status: Option<PersonStatus>,
    pub tag: Option<String>,
    pub household_id: Option<i64>,
    pub after_id: Option<i64>,
    /// 1..=5000; 0 means 50.
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    pub id: i64,
    pub household_no: String,
    pub address: String,
    pub status: HouseholdStatus,
    pub org_code: DivisionCode,
    pub org_path: OrgPath,
    pub org_name: String,
    pub head_id: Option<i64>,
    pub head_name: Option<String>,
    /// Members currently registered (在册).
    pub member_count: i64,
}

#[derive(Debug, Clone)]
pub struct NewHousehold {
    pub household_no: String,
    pub address: String,
    /// Grid or village.
    pub org_code: DivisionCode,
}

#[derive(Debug, Clone, Default)]
pub struct HouseholdQuery {
    /// 户号 prefix, address part, or the head's name part.
    pub q: Option<String>,
    pub org_code: Option<DivisionCode>,
    pub status: Option<HouseholdStatus>,
    pub after_id: Option<i64>,
    pub limit: u32,
}

/// A household page: the household, its members (all statuses, registered first).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HouseholdDetail {
    pub household: Household,
    pub members: Vec<Person>,
}

/// One dated event in a record's history (newest last).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryEvent {
    pub id: i64,
    pub entity: EntityKind,
    pub entity_id: i64,
    pub kind: EventKind,
    pub effective: NaiveDate,
    /// JSON object; personal data in it is masked.
    pub detail: serde_json::Value,
    pub recorded_by: String,
    pub recorded_at: String,
}

/// A life event to record. Dates are when it happened (not when it was entered).
#[derive(Debug, Clone)]
pub enum LifeEvent {
    /// A newborn joins a household.
    Birth {
        household_id: i64,
        person: NewPerson,
        date: NaiveDate,
    },
    Death {
        person_id: i64,
        date: NaiveDate,
        note: String,
    },
    /// Someone from outside joins a household (a new record), or, with `person` naming an
    /// existing record moved out earlier, comes back.
    MoveIn {
        household_id: i64,
        person: NewPerson,
        date: NaiveDate,
        from: String,
    },
    MoveOut {
        person_id: i64,
        date: NaiveDate,
        to: String,
    },
    /// `spouse_id` joins `person_id`'s household as spouse when `join_household` is set.
    Marriage {
        person_id: i64,
        spouse_id: i64,
        date: NaiveDate,
        join_household: bool,
    },
    /// Members leave `household_id` for a new household; the first of `members` becomes head
    /// unless `new_head` says otherwise.
    Split {
        household_id: i64,
        members: Vec<i64>,
        new_head: Option<i64>,
        new_household: NewHousehold,
        date: NaiveDate,
    },
    /// Every member of `from_id` joins `into_id`; `from_id` is closed as merged.
    Merge {
        from_id: i64,
        into_id: i64,
        date: NaiveDate,
    },
    /// `new_head` becomes 户主; the old head takes `old_head_relation`.
    ChangeHead {
        household_id: i64,
        new_head: i64,
        old_head_relation: Relation,
        date: NaiveDate,
    },
}

/// Groups of likely duplicates: same name and birth date, different IDs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DuplicateGroup {
    pub name: String,
    pub birth_date: NaiveDate,
    pub persons: Vec<Person>,
}

/// Which personal value to reveal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RevealField {
    CitizenId,
    Phone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnterpriseKind {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    pub id: i64,
    pub name: String,
    pub credit_code: String,
    /// False when the check character fails (kept, shown as a warning).
    pub credit_code_ok: bool,
    pub kind: String,
    pub kind_label: String,
    pub registered_capital: Option<Money>,
    pub settled_on: Option<NaiveDate>,
    pub org_code: DivisionCode,
    pub org_path: OrgPath,
    pub org_name: String,
    pub contact_name: Option<String>,
    pub contact_phone_masked: Option<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct NewEnterprise {
    pub name: String,
    pub credit_code: CreditCode,
    /// Code or label of a configured kind.
    pub kind: String,
    pub registered_capital: Option<Money>,
    pub settled_on: Option<NaiveDate>,
    pub org_code: DivisionCode,
    pub contact_name: Option<String>,
    pub contact_phone: Option<Phone>,
}

#[derive(Debug, Clone, Default)]
pub struct EnterpriseQuery {
    /// Name part or credit code prefix.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub org_code: Option<DivisionCode>,
    pub settled_from: Option<NaiveDate>,
    pub settled_to: Option<NaiveDate>,
    pub after_id: Option<i64>,
    pub limit: u32,
}

// ---- bulk import ----

/// A validated person row of an import file; org and household already resolved to codes.
#[derive(Debug, Clone)]
pub struct PersonImportRow {
    /// Row number as the spreadsheet shows it, for error reports.
    pub line: usize,
    pub name: String,
    pub citizen_id: CitizenId,
    pub phone: Option<Phone>,
    /// 户号: the household is created (at the person's org) when it does not exist.
    pub household_no: Option<String>,
    pub relation: Option<Relation>,
    /// Blank keeps an existing person's status; a new person is 在册.
    pub status: Option<PersonStatus>,
    /// Grid or village; required unless the household exists.
    pub org_code: Option<DivisionCode>,
    /// Used only when the household is created by this import.
    pub household_address: Option<String>,
    /// `None` keeps an existing person's tags.
    pub tags: Option<Vec<PersonTag>>,
}

#[derive(Debug, Clone)]
pub struct HouseholdImportRow {
    pub line: usize,
    pub household_no: String,
    /// Must be a registered person; becomes head (relation 户主).
    pub head: Option<CitizenId>,
    pub address: String,
    pub org_code: DivisionCode,
}

#[derive(Debug, Clone)]
pub struct EnterpriseImportRow {
    pub line: usize,
    pub enterprise: NewEnterprise,
}

/// What an import did (or would do, for a preview).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub invalid: u64,
    /// Households created along with persons.
    pub households_created: u64,
    /// False for a preview, or when invalid rows stopped the commit.
    pub committed: bool,
}

/// A problem the store found with a row (a foreign record, a duplicate in the file, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportIssue {
    pub line: usize,
    pub column: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImportOutcome {
    pub summary: ImportSummary,
    pub issues: Vec<ImportIssue>,
}

impl ImportOutcome {
    /// An import that only adds records: `new` of them when no row has an issue (none
    /// otherwise, since nothing is written), the rows with issues counted once each.
    pub fn of_new(new: usize, issues: Vec<ImportIssue>, committed: bool) -> ImportOutcome {
        let mut lines: Vec<usize> = issues.iter().map(|i| i.line).collect();
        lines.sort_unstable();
        lines.dedup();
        ImportOutcome {
            summary: ImportSummary {
                new: if lines.is_empty() { new as u64 } else { 0 },
                invalid: lines.len() as u64,
                committed,
                ..Default::default()
            },
            issues,
        }
    }
}

/// Counts for a dashboard, in scope.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryCounts {
    pub persons_registered: i64,
    pub persons_deceased: i64,
    pub persons_moved_out: i64,
    pub households_active: i64,
    pub enterprises_active: i64,
}
