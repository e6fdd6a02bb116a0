//! Pure types and rules. A value of a type from this crate is valid by construction:
//! every constructor is a `parse` that says in Chinese what is wrong.

/// An enum stored as a stable ASCII code and shown with a Chinese label (the glossary's rule:
/// codes are data, labels sit beside them). One definition for every crate that needs one.
#[macro_export]
macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($v:ident = $code:literal / $label:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($v),* }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            /// Stable ASCII code, as stored.
            pub fn as_str(self) -> &'static str { match self { $($name::$v => $code),* } }
            /// Chinese label, as shown and as written in import files.
            pub fn label(self) -> &'static str { match self { $($name::$v => $label),* } }
            /// Accepts the code or the Chinese label.
            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| v.as_str() == s || v.label() == s)
            }
        }
    };
}

pub mod assistance;
pub mod assistance_lifecycle;
pub mod assistance_monitoring;
pub mod bank_account;
pub mod calendar;
pub mod case;
pub mod citizen_id;
pub mod credit_code;
pub mod disclosure;
pub mod ledger;
pub mod money;
pub mod normalize;
pub mod org;
pub mod period;
pub mod phone;
pub mod redact;
pub mod role;
