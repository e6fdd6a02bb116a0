//! The storage trait of xiangzhi.
//!
//! Every read takes the caller's [`Scope`] and every write an [`Actor`] (who, from where, with which
//! scope): scope is enforced here, in the store, so no handler can forget it. Each backend crate
//! implements [`Store`] and runs the [`conformance`] suite.

pub mod assistance;
pub mod audit;
pub mod bulk;
pub mod case;
pub mod case_settings;
pub mod conformance;
pub mod conformance_assistance;
pub mod conformance_assistance_accounts;
pub mod conformance_case;
pub mod conformance_case_settings;
pub mod conformance_concurrency;
pub mod conformance_history;
pub mod conformance_indicator;
pub mod conformance_ledger;
pub mod conformance_registry;
pub mod conformance_report;
pub mod conformance_tallies;
pub mod conformance_upgrade;
pub mod error;
pub mod indicator;
pub mod ledger;
pub mod measure;
pub mod model;
pub mod org_import;
pub mod registry;
mod registry_model;
pub mod registry_plan;
pub mod report;
pub mod sql;
pub mod sql_assistance;
pub mod sql_assistance_import;
pub mod sql_case;
pub mod sql_case_settings;
pub mod sql_indicator;
pub mod sql_ledger;
pub mod sql_registry;
pub mod sql_report;
mod store;
pub mod timing;
pub mod vault;

pub use assistance::AssistanceStore;
pub use audit::{AuditEntry, AuditFilter, AuditHasher, AuditRecord, ChainBreak, VerifyReport};
pub use case::CaseStore;
pub use case_settings::CaseSettingsStore;
pub use error::{StoreError, StoreResult};
pub use indicator::IndicatorStore;
pub use ledger::LedgerStore;
pub use model::*;
pub use registry::RegistryStore;
pub use report::ReportStore;
pub use store::Store;
pub use vault::Vault;
