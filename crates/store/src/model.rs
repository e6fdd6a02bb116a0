//! Records as the store hands them out. Validated domain types where a value has rules.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use xiangzhi_domain::org::{DivisionCode, OrgLevel, OrgPath};
use xiangzhi_domain::role::Role;

/// The subtree a caller may see: an org path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub path: OrgPath,
}

impl Scope {
    pub fn new(path: OrgPath) -> Scope {
        Scope { path }
    }

    /// Everything: for the system itself (migrations, CLI imports run by the operator).
    pub fn all() -> Scope {
        Scope {
            path: OrgPath::root(),
        }
    }

    pub fn contains(&self, path: &OrgPath) -> bool {
        self.path.contains(path)
    }
}

/// Who is writing: recorded in every audit entry.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub role: Option<Role>,
    pub ip: Option<String>,
    pub scope: Scope,
}

impl Actor {
    /// The operator at the command line: unrestricted, named by the OS user.
    pub fn system(what: &str) -> Actor {
        Actor {
            user_id: None,
            username: format!("system:{what}"),
            role: None,
            ip: None,
            scope: Scope::all(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrgUnit {
    pub code: DivisionCode,
    pub name: String,
    pub level: OrgLevel,
    pub parent_code: Option<DivisionCode>,
    pub path: OrgPath,
    /// Set when the unit was merged away or abolished; it stays resolvable.
    pub valid_to: Option<NaiveDate>,
    pub successor_code: Option<DivisionCode>,
    pub child_count: i64,
}

impl OrgUnit {
    pub fn is_active(&self) -> bool {
        self.valid_to.is_none()
    }
}

/// One unit of an import file, before it is in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrgUnit {
    pub code: DivisionCode,
    pub name: String,
    pub parent_code: Option<DivisionCode>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrgImportSummary {
    pub inserted: u64,
    pub renamed: u64,
    pub moved: u64,
    pub unchanged: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OrgEventKind {
    Create,
    Rename,
    Merge,
    Split,
    Move,
}

impl OrgEventKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrgEventKind::Create => "create",
            OrgEventKind::Rename => "rename",
            OrgEventKind::Merge => "merge",
            OrgEventKind::Split => "split",
            OrgEventKind::Move => "move",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "create" => OrgEventKind::Create,
            "rename" => OrgEventKind::Rename,
            "merge" => OrgEventKind::Merge,
            "split" => OrgEventKind::Split,
            "move" => OrgEventKind::Move,
            _ => return None,
        })
    }
    pub fn label(&self) -> &'static str {
        match self {
            OrgEventKind::Create => "设立",
            OrgEventKind::Rename => "更名",
            OrgEventKind::Merge => "合并",
            OrgEventKind::Split => "拆分",
            OrgEventKind::Move => "调整隶属",
        }
    }
}

/// A dated change of the tree, kept forever.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OrgEvent {
    pub code: DivisionCode,
    pub kind: OrgEventKind,
    pub effective: NaiveDate,
    pub detail: String,
    pub other_code: Option<DivisionCode>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_code: DivisionCode,
    pub org_path: OrgPath,
    pub active: bool,
}

impl User {
    pub fn scope(&self) -> Scope {
        Scope::new(self.org_path.clone())
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_code: DivisionCode,
    pub password_hash: String,
}

/// What login needs; never leaves the web layer.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    pub failed_logins: i64,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}
