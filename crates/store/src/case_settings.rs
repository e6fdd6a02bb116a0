//! What a township configures about its cases and what a case carries besides its state: time
//! limits per kind and the township's own categories (data, audited, used by the deadline
//! computation of [`crate::CaseStore`]), attachments, automatic 催办 of soon-due and overdue
//! cases, and the keys Open311 clients post with.
//!
//! Same rules as the rest of the store: reads take a [`Scope`], writes an [`Actor`] and are
//! audited in their transaction.

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use xiangzhi_domain::case::{CaseKind, DayCount, TimeLimits};
use xiangzhi_domain::org::DivisionCode;

use crate::case::{CaseCategory, CaseRules};
use crate::error::StoreResult;
use crate::model::{Actor, Scope};

/// The largest attachment a case takes.
pub const MAX_CASE_FILE_BYTES: usize = 10 << 20;

/// Extensions a case attachment may have: photos, scans, documents, recordings.
pub const CASE_FILE_TYPES: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "pdf", "doc", "docx", "xls", "xlsx", "txt", "mp3", "m4a",
    "amr", "mp4",
];

/// Why a file cannot be attached, in Chinese; `None` when it can.
pub fn case_file_problem(name: &str, size: usize) -> Option<String> {
    if size == 0 {
        return Some("附件是空文件".into());
    }
    if size > MAX_CASE_FILE_BYTES {
        return Some(format!(
            "附件“{name}”超过大小限制（{}MB）",
            MAX_CASE_FILE_BYTES >> 20
        ));
    }
    let ext = name
        .rsplit_once('.')
        .map(|x| x.1.to_ascii_lowercase())
        .unwrap_or_default();
    if !CASE_FILE_TYPES.contains(&ext.as_str()) {
        return Some(format!(
            "附件“{name}”的类型不允许，只接受 {} 文件",
            CASE_FILE_TYPES.join("、")
        ));
    }
    None
}

/// Why a set of time limits cannot be used, in Chinese; empty when it can.
pub fn limits_problems(limits: &TimeLimits) -> Vec<String> {
    let mut out = Vec::new();
    for kind in CaseKind::ALL {
        let k = limits.for_kind(kind);
        for (what, days) in [
            ("受理期限", k.acceptance.days),
            ("办结期限", k.closing.days),
        ] {
            if !(1..=365).contains(&days) {
                out.push(format!("{kind}的{what}须在1至365天之间，填写了{days}天"));
            }
        }
        if k.max_extensions > 5 {
            out.push(format!(
                "{kind}最多延期次数须在0至5之间，填写了{}次",
                k.max_extensions
            ));
        }
        if k.max_extension_days > 365 {
            out.push(format!(
                "{kind}单次延期天数不能超过365天，填写了{}天",
                k.max_extension_days
            ));
        }
    }
    out
}

/// `工作日` or `日`.
pub fn day_count_label(c: DayCount) -> &'static str {
    match c {
        DayCount::Working => "工作日",
        DayCount::Calendar => "自然日",
    }
}

/// The limits in force for a unit, and the unit whose setting they are (`None`: the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EffectiveLimits {
    pub limits: TimeLimits,
    pub set_at: Option<DivisionCode>,
}

/// A category a township adds under an existing one; its kind is the parent's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewCategory {
    pub parent_code: String,
    pub label: String,
    pub key_area: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseAttachment {
    pub id: i64,
    pub case_id: i64,
    pub sha256: String,
    pub name: String,
    pub mime: String,
    pub size: i64,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

#[derive(Debug, Clone)]
pub struct CaseFile {
    pub name: String,
    pub mime: String,
    pub content: Vec<u8>,
}

#[async_trait]
pub trait CaseSettingsStore: Send + Sync {
    /// The limits cases of `org` are counted with: those of the nearest unit above (or at) it
    /// that has its own, else the defaults of `rules`.
    async fn case_limits(
        &self,
        scope: &Scope,
        rules: &CaseRules,
        org: &DivisionCode,
    ) -> StoreResult<EffectiveLimits>;

    /// Sets the limits of a township or county in scope. Township roles and administrators
    /// only; checked by [`limits_problems`]. Audited with old and new.
    async fn set_case_limits(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        limits: TimeLimits,
    ) -> StoreResult<()>;

    /// The built-in tree plus the categories added by a township above or inside `scope`,
    /// parents before children.
    async fn case_categories_in(&self, scope: &Scope) -> StoreResult<Vec<CaseCategory>>;

    /// Adds a category for the township `org`. Township roles and administrators. Audited.
    async fn add_case_category(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        category: NewCategory,
    ) -> StoreResult<CaseCategory>;

    /// Renames a category the township `org` added (built-in ones are shared and stay).
    async fn rename_case_category(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        code: &str,
        label: &str,
    ) -> StoreResult<CaseCategory>;

    /// Attaches a file to a case in the actor's scope, checked by [`case_file_problem`];
    /// the content is stored once per hash. Audited.
    async fn attach_case_file(
        &self,
        actor: &Actor,
        case_id: i64,
        name: &str,
        mime: &str,
        content: &[u8],
    ) -> StoreResult<CaseAttachment>;

    async fn case_attachments(
        &self,
        scope: &Scope,
        case_id: i64,
    ) -> StoreResult<Vec<CaseAttachment>>;

    /// A file attached to some case in scope; `NotFound` otherwise.
    async fn case_file(&self, scope: &Scope, sha256: &str) -> StoreResult<CaseFile>;

    /// 催办 every open case in the actor's scope whose running deadline is past or at most
    /// [`xiangzhi_domain::case::DUE_SOON_DAYS`] away, once a day: through the state machine,
    /// so each lands on the timeline and in the audit log. Leaders, administrators, county
    /// approvers and the system. Returns the ids reminded.
    async fn remind_due_cases(
        &self,
        actor: &Actor,
        rules: &CaseRules,
        today: NaiveDate,
    ) -> StoreResult<Vec<i64>>;

    /// Makes an Open311 API key; only its hash is kept, the key is returned once. Admins.
    async fn add_open311_key(&self, actor: &Actor, label: &str) -> StoreResult<String>;

    /// Whether `key` is an active Open311 key.
    async fn open311_key_valid(&self, key: &str) -> StoreResult<bool>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_are_limited_by_type_and_size() {
        assert_eq!(case_file_problem("现场.JPG", 1000), None);
        assert!(
            case_file_problem("a.exe", 10)
                .unwrap()
                .contains("类型不允许")
        );
        assert!(case_file_problem("noext", 10).is_some());
        assert!(
            case_file_problem("big.pdf", MAX_CASE_FILE_BYTES + 1)
                .unwrap()
                .contains("大小")
        );
        assert!(case_file_problem("empty.pdf", 0).is_some());
    }

    #[test]
    fn default_limits_are_usable_and_zero_days_are_not() {
        assert!(limits_problems(&TimeLimits::default()).is_empty());
        let mut l = TimeLimits::default();
        l.dispute.closing.days = 0;
        l.hazard.max_extensions = 9;
        let p = limits_problems(&l);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("矛盾纠纷的办结期限"));
    }
}
