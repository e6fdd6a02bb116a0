use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use xiangzhi_domain::org::DivisionCode;

use crate::audit::{AuditEntry, AuditFilter, VerifyReport};
use crate::error::StoreResult;
use crate::model::*;

/// Everything xiangzhi keeps. Implemented once per backend; the conformance suite holds both to
/// the same behaviour.
///
/// Reads take a [`Scope`] and return `NotFound` (never `Forbidden`) for records outside it, so a
/// caller cannot even learn that a foreign id exists. Writes take an [`Actor`], check the target
/// lies in the actor's scope, and append to the audit log in the same transaction.
#[async_trait]
pub trait Store:
    crate::registry::RegistryStore
    + crate::ledger::LedgerStore
    + crate::case::CaseStore
    + crate::case_settings::CaseSettingsStore
    + crate::assistance::AssistanceStore
    + crate::indicator::IndicatorStore
    + crate::report::ReportStore
    + Send
    + Sync
{
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies pending migrations. Refuses a database that is not ours.
    async fn migrate(&self) -> StoreResult<()>;

    /// Version of the newest migration applied.
    async fn schema_version(&self) -> StoreResult<i64>;

    /// Applies the migrations up to `version` and no further (no seeding): upgrade tests start
    /// from every earlier schema this way.
    async fn migrate_to(&self, version: i64) -> StoreResult<()>;

    /// Every migration this build carries, oldest first: `(version, name)`.
    fn known_migrations(&self) -> Vec<(i64, &'static str)>;

    // ---- org tree ----

    /// Adds and updates units from a division file, all-or-nothing. Parents must precede or
    /// already exist. Idempotent: a second run changes nothing and writes no rows.
    async fn import_org_units(
        &self,
        actor: &Actor,
        units: &[NewOrgUnit],
    ) -> StoreResult<OrgImportSummary>;

    async fn org_unit(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<OrgUnit>;

    /// Follows merges: an old code resolves to the unit that took it over.
    async fn resolve_org_unit(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<OrgUnit>;

    /// Active children of a unit, or the scope's own root units when `parent` is `None`.
    async fn org_children(
        &self,
        scope: &Scope,
        parent: Option<&DivisionCode>,
    ) -> StoreResult<Vec<OrgUnit>>;

    /// A unit in scope and every active unit below it, in path order (a parent before its
    /// children, siblings by code), in one query.
    async fn org_subtree(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<Vec<OrgUnit>>;

    /// Units in scope whose name contains `q` or whose code starts with it.
    async fn org_search(&self, scope: &Scope, q: &str, limit: u32) -> StoreResult<Vec<OrgUnit>>;

    async fn org_count(&self, scope: &Scope) -> StoreResult<u64>;

    async fn org_history(&self, scope: &Scope, code: &DivisionCode) -> StoreResult<Vec<OrgEvent>>;

    /// A new grid under a village, numbered with the next free three digits.
    async fn add_grid(
        &self,
        actor: &Actor,
        village: &DivisionCode,
        name: &str,
    ) -> StoreResult<OrgUnit>;

    async fn rename_org_unit(
        &self,
        actor: &Actor,
        code: &DivisionCode,
        name: &str,
        effective: NaiveDate,
    ) -> StoreResult<OrgUnit>;

    /// `from` ends on `effective`; its children move under `into`; its code keeps resolving to `into`.
    async fn merge_org_units(
        &self,
        actor: &Actor,
        from: &DivisionCode,
        into: &DivisionCode,
        effective: NaiveDate,
    ) -> StoreResult<()>;

    /// A new sibling `new_code` is carved out of `from`, taking the listed children with it.
    async fn split_org_unit(
        &self,
        actor: &Actor,
        from: &DivisionCode,
        new_code: &DivisionCode,
        new_name: &str,
        children: &[DivisionCode],
        effective: NaiveDate,
    ) -> StoreResult<OrgUnit>;

    // ---- users and sessions ----

    async fn create_user(&self, actor: &Actor, user: NewUser) -> StoreResult<User>;
    async fn user(&self, scope: &Scope, id: i64) -> StoreResult<User>;
    async fn list_users(&self, scope: &Scope) -> StoreResult<Vec<User>>;
    async fn set_user_active(&self, actor: &Actor, id: i64, active: bool) -> StoreResult<User>;
    async fn set_password(&self, actor: &Actor, id: i64, password_hash: &str) -> StoreResult<()>;

    /// For login only: not scoped, since nobody is logged in yet.
    async fn credentials(&self, username: &str) -> StoreResult<Option<Credentials>>;

    /// Counts a failed login and locks the account once `max` is reached; audited.
    async fn record_login_failure(
        &self,
        username: &str,
        ip: Option<&str>,
        max: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Opens a session after a good password: resets the failure count; audited.
    async fn create_session(
        &self,
        user_id: i64,
        ip: Option<&str>,
        token_hash: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;

    async fn session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    // ---- audit ----

    /// Entries about records in scope, newest first.
    async fn audit_list(&self, scope: &Scope, filter: &AuditFilter)
    -> StoreResult<Vec<AuditEntry>>;
    async fn audit_verify(&self) -> StoreResult<VerifyReport>;

    /// A number that grows with every committed write: the audit head. Every write appends to
    /// the audit log in its own transaction, under the head's lock, so an answer computed at
    /// one version stays true until the version changes; caches of figures key on it.
    async fn data_version(&self) -> StoreResult<i64>;

    /// A consistent copy of the whole database, taken while others write.
    async fn backup(&self, out: &std::path::Path) -> StoreResult<()>;

    /// Ends the store's use by this process: SQLite writes back what no other process is
    /// reading and, when this process was the file's only user, leaves no WAL, so the next
    /// opener (an import switching to a rollback journal, a copy of the file) has none to
    /// replay; PostgreSQL's connections are closed. Later calls fail.
    async fn close(&self) -> StoreResult<()>;
}
