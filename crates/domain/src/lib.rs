//! Pure types and rules. A value of a type from this crate is valid by construction:
//! every constructor is a `parse` that says in Chinese what is wrong.

pub mod org;
pub mod role;
