//! The registry: persons, households, enterprises, life events, bulk import.
//!
//! Same rules as [`crate::Store`]: reads take a [`Scope`] and answer `NotFound` for records
//! outside it; writes take an [`Actor`], check the target lies in its scope, and are audited
//! in the same transaction (audit values carry masked IDs and phones only). Nothing is
//! deleted: deaths and move-outs change a status, merges close a household, and every life
//! event is a dated row of `registry_events` shown by the `*_history` reads.
//!
//! For pages: search first ([`RegistryStore::person_search`] takes a full ID or phone, found
//! by keyed hash, or part of a name), then the record ([`RegistryStore::person`],
//! [`RegistryStore::household_detail`]) with its timeline ([`RegistryStore::person_history`]).
//! Lists and exports page by keyset (`after_id`), so a 600,000-row export runs in constant
//! memory.

use async_trait::async_trait;
use chrono::NaiveDate;
use xiangzhi_domain::citizen_id::CitizenId;
use xiangzhi_domain::org::DivisionCode;

use crate::error::StoreResult;
use crate::model::{Actor, Scope};
pub use crate::registry_model::*;

#[async_trait]
pub trait RegistryStore: Send + Sync {
    // ---- persons ----

    /// Refuses an ID already registered with `Conflict` (the message says where, as far as
    /// the actor may know; call [`RegistryStore::citizen_id_owner`] for the link).
    async fn create_person(&self, actor: &Actor, person: NewPerson) -> StoreResult<Person>;

    async fn person(&self, scope: &Scope, id: i64) -> StoreResult<Person>;

    /// Who holds this ID: in scope (with a link), elsewhere (no details), or nobody.
    async fn citizen_id_owner(&self, scope: &Scope, id: &CitizenId) -> StoreResult<IdOwner>;

    /// Search and keyset paging; see [`PersonQuery`]. Ordered by id.
    async fn person_search(&self, scope: &Scope, query: &PersonQuery) -> StoreResult<Vec<Person>>;

    async fn person_count(&self, scope: &Scope, query: &PersonQuery) -> StoreResult<i64>;

    async fn update_person(
        &self,
        actor: &Actor,
        id: i64,
        update: PersonUpdate,
    ) -> StoreResult<Person>;

    /// The full ID or phone. Needs `Permission::RevealPersonalData`; audited as `reveal`.
    async fn reveal(
        &self,
        actor: &Actor,
        person_id: i64,
        field: RevealField,
    ) -> StoreResult<String>;

    /// Corrects a wrongly entered citizen ID. Needs `Permission::CorrectCitizenId` and a
    /// reason; the new ID must not be registered to anyone (refused like a duplicate). Sex
    /// and birth date follow the new ID. The old value stays in the person's history sealed
    /// (`correct_id` event, `old_id_sealed`), the timeline and the audit entry show both masked.
    async fn correct_citizen_id(
        &self,
        actor: &Actor,
        person_id: i64,
        new_id: &CitizenId,
        reason: &str,
    ) -> StoreResult<Person>;

    /// Events of the person, oldest first.
    async fn person_history(&self, scope: &Scope, id: i64) -> StoreResult<Vec<RegistryEvent>>;

    /// Same name and birth date, different IDs, both registered: for review.
    async fn likely_duplicates(
        &self,
        scope: &Scope,
        limit: u32,
    ) -> StoreResult<Vec<DuplicateGroup>>;

    // ---- households ----

    async fn create_household(
        &self,
        actor: &Actor,
        household: NewHousehold,
    ) -> StoreResult<Household>;

    async fn household(&self, scope: &Scope, id: i64) -> StoreResult<Household>;

    async fn household_by_no(&self, scope: &Scope, household_no: &str) -> StoreResult<Household>;

    /// The household and its members.
    async fn household_detail(&self, scope: &Scope, id: i64) -> StoreResult<HouseholdDetail>;

    async fn household_search(
        &self,
        scope: &Scope,
        query: &HouseholdQuery,
    ) -> StoreResult<Vec<Household>>;

    async fn set_household_address(
        &self,
        actor: &Actor,
        id: i64,
        address: &str,
    ) -> StoreResult<Household>;

    async fn household_history(&self, scope: &Scope, id: i64) -> StoreResult<Vec<RegistryEvent>>;

    // ---- life events ----

    /// Records one life event in one transaction: status/household changes, one
    /// `registry_events` row per record touched, one audit entry. Returns the event ids.
    async fn record_life_event(&self, actor: &Actor, event: LifeEvent) -> StoreResult<Vec<i64>>;

    // ---- enterprises ----

    /// Configured kinds (物流, 建筑, 劳务, 汽车, …), in display order.
    async fn enterprise_kinds(&self) -> StoreResult<Vec<EnterpriseKind>>;

    async fn add_enterprise_kind(
        &self,
        actor: &Actor,
        code: &str,
        label: &str,
    ) -> StoreResult<EnterpriseKind>;

    /// A failing credit-code check is stored (`credit_code_ok = false`), not refused.
    async fn create_enterprise(
        &self,
        actor: &Actor,
        enterprise: NewEnterprise,
    ) -> StoreResult<Enterprise>;

    async fn enterprise(&self, scope: &Scope, id: i64) -> StoreResult<Enterprise>;

    async fn enterprise_search(
        &self,
        scope: &Scope,
        query: &EnterpriseQuery,
    ) -> StoreResult<Vec<Enterprise>>;

    /// Replaces the details (credit code included); audited with old and new values.
    async fn update_enterprise(
        &self,
        actor: &Actor,
        id: i64,
        enterprise: NewEnterprise,
    ) -> StoreResult<Enterprise>;

    /// Marks it closed (注销/迁出) on `date`; it stays on record.
    async fn close_enterprise(
        &self,
        actor: &Actor,
        id: i64,
        date: NaiveDate,
    ) -> StoreResult<Enterprise>;

    async fn enterprise_history(&self, scope: &Scope, id: i64) -> StoreResult<Vec<RegistryEvent>>;

    /// The full contact phone of an enterprise; permission and audit as [`RegistryStore::reveal`].
    async fn reveal_enterprise_phone(&self, actor: &Actor, id: i64) -> StoreResult<String>;

    // ---- bulk ----

    /// Upserts by citizen ID (keyed hash). Everything under `org` (which must lie in the
    /// actor's scope). With `dry_run`, or when any row has an issue, nothing is written and
    /// `committed` is false; otherwise everything is written in one transaction with one
    /// audit entry carrying the counts.
    async fn import_persons(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        rows: &[PersonImportRow],
        dry_run: bool,
    ) -> StoreResult<ImportOutcome>;

    /// Upserts by 户号; the head must be a person already registered in scope.
    async fn import_households(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        rows: &[HouseholdImportRow],
        dry_run: bool,
    ) -> StoreResult<ImportOutcome>;

    /// Upserts by credit code.
    async fn import_enterprises(
        &self,
        actor: &Actor,
        org: &DivisionCode,
        rows: &[EnterpriseImportRow],
        dry_run: bool,
    ) -> StoreResult<ImportOutcome>;

    async fn registry_counts(&self, scope: &Scope) -> StoreResult<RegistryCounts>;

    /// For exports and reveal-all jobs run by the operator: the full ID and phone of persons
    /// in scope, one keyset page at a time. Audited once per call as `export_reveal`.
    async fn person_export_page(
        &self,
        actor: &Actor,
        query: &PersonQuery,
        reveal: bool,
    ) -> StoreResult<Vec<(Person, Option<String>, Option<String>)>>;
}
