//! Report templates with their versions, and finalised reports (figures frozen under a
//! content hash).
//!
//! A template belongs to the unit whose staff created it (built-in ones to the root): units
//! below use it, units above see it, anyone else is told it does not exist. Township staff and
//! administrators change a template whose owner lies in their scope, and every change is a new
//! version, so one township's edit never changes another's reports. Parsing a template is the
//! report crate's business; the store keeps the text. A finalised report belongs to its org
//! unit: reads are scoped, finalising needs the unit in the actor's scope.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use xiangzhi_domain::org::{DivisionCode, OrgPath};

use crate::error::StoreResult;
use crate::model::{Actor, Scope};

/// A template at one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportTemplate {
    pub code: String,
    pub name: String,
    /// The unit owning the template (`/` for built-in ones).
    pub org_path: OrgPath,
    pub version: i64,
    /// The newest version of this template.
    pub current_version: i64,
    pub body: String,
    pub created_at: String,
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateVersion {
    pub version: i64,
    pub name: String,
    pub created_at: String,
    pub created_by: String,
}

/// What saving a template did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SaveOutcome {
    Created,
    NewVersion,
    /// Same name and text as the current version: nothing written.
    Unchanged,
}

/// A report to finalise: the caller renders it and computes the hash.
#[derive(Debug, Clone)]
pub struct NewReportFinal {
    pub template_code: String,
    pub template_version: i64,
    pub org: DivisionCode,
    pub period: String,
    pub content_hash: String,
    /// The frozen figures and text, as JSON.
    pub frozen: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFinal {
    pub id: i64,
    pub template_code: String,
    pub template_version: i64,
    pub org_code: DivisionCode,
    pub org_path: OrgPath,
    pub period: String,
    pub content_hash: String,
    pub frozen: String,
    pub finalised_at: String,
    pub finalised_by: String,
}

/// Whether a template owned by `owner` is visible from `scope`: it is defined at or above the
/// scope's unit, or below it.
pub fn template_visible(scope: &Scope, owner: &OrgPath) -> bool {
    owner.contains(&scope.path) || scope.contains(owner)
}

/// Longest template text accepted (a full annual report is about 10,000 characters).
pub const MAX_TEMPLATE_CHARS: usize = 200_000;

#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Every template visible from `scope` at its current version, by code.
    async fn report_templates(&self, scope: &Scope) -> StoreResult<Vec<ReportTemplate>>;

    /// One template at `version`, or at its current version.
    async fn report_template(
        &self,
        scope: &Scope,
        code: &str,
        version: Option<i64>,
    ) -> StoreResult<ReportTemplate>;

    async fn report_template_versions(
        &self,
        scope: &Scope,
        code: &str,
    ) -> StoreResult<Vec<TemplateVersion>>;

    /// Creates a template (owned by the actor's scope) or adds a version to one whose owner
    /// lies in the actor's scope. Township staff and administrators only; the code is ASCII
    /// (`annual`, `notice_min_living`); audited.
    async fn save_report_template(
        &self,
        actor: &Actor,
        code: &str,
        name: &str,
        body: &str,
    ) -> StoreResult<(ReportTemplate, SaveOutcome)>;

    /// Stores a finalised report. The unit must be in the actor's scope and the actor may
    /// approve at township level (or administer); audited with the hash.
    async fn finalise_report(&self, actor: &Actor, new: NewReportFinal)
    -> StoreResult<ReportFinal>;

    /// Finalised reports in scope, newest first, optionally of one template, unit and period.
    async fn report_finals(
        &self,
        scope: &Scope,
        template_code: Option<&str>,
        org: Option<&DivisionCode>,
        period: Option<&str>,
    ) -> StoreResult<Vec<ReportFinal>>;

    async fn report_final(&self, scope: &Scope, id: i64) -> StoreResult<ReportFinal>;
}
