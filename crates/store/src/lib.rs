//! The storage trait of xiangzhi.
//!
//! Every read takes the caller's [`Scope`] and every write an [`Actor`] (who, from where, with which
//! scope): scope is enforced here, in the store, so no handler can forget it. Each backend crate
//! implements [`Store`] and runs the [`conformance`] suite.

pub mod audit;
pub mod conformance;
pub mod error;
pub mod model;
pub mod org_import;
pub mod sql;
mod store;

pub use audit::{AuditEntry, AuditFilter, AuditHasher, AuditRecord, ChainBreak, VerifyReport};
pub use error::{StoreError, StoreResult};
pub use model::*;
pub use store::Store;
