//! Pure types and rules. A value of a type from this crate is valid by construction:
//! every constructor is a `parse` that says in Chinese what is wrong.

pub mod assistance;
pub mod assistance_lifecycle;
pub mod assistance_monitoring;
pub mod calendar;
pub mod case;
pub mod citizen_id;
pub mod credit_code;
pub mod ledger;
pub mod money;
pub mod normalize;
pub mod org;
pub mod period;
pub mod phone;
pub mod role;
