//! The types of figures. Money is counted in fen (分) so that sums are exact; the
//! display layer turns fen into 元 or 万元.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The type of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    /// A plain quantity: areas, tonnes, head of livestock, or a unitless constant.
    Number,
    /// An amount of money in fen.
    Money,
    /// A whole number of records, persons or households.
    Count,
    /// Percentage points: 100 means 100%.
    Percent,
    /// True or false, from comparisons.
    Bool,
}

impl Type {
    /// The Chinese name used in error messages.
    pub fn label(self) -> &'static str {
        match self {
            Type::Number => "数值",
            Type::Money => "金额",
            Type::Count => "计数",
            Type::Percent => "百分比",
            Type::Bool => "真假值",
        }
    }

    pub fn is_numeric(self) -> bool {
        self != Type::Bool
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
