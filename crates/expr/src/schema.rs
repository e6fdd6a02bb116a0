//! What can be queried: record sources (built in or ledgers defined as data), their
//! fields, and data elements. Supplied by the caller, so a new ledger becomes queryable
//! as soon as it is defined.

use serde::{Deserialize, Serialize};

use crate::ast::PeriodKind;
use crate::types::Type;

/// The set of sources and data elements an expression is checked against.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub sources: Vec<SourceDef>,
    pub data_elements: Vec<DataElementDef>,
}

/// How a source is named in expressions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum SourceKey {
    /// A built-in record table: `enrollment`, `payout`, `case`, `person`…
    Record(String),
    /// A ledger (台账) defined as data, by its code: `ledger("AGRI_OUTPUT")`.
    Ledger(String),
}

/// One queryable source of records.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceDef {
    pub key: SourceKey,
    /// Chinese name for messages: "纳入记录", "台账“农业生产”".
    pub label: String,
    pub fields: Vec<FieldDef>,
    /// The date field `in period` / `in ytd` applies to when none is written.
    pub date_field: Option<String>,
    /// Whether records have a validity interval, so that `at end` (state at the end of the
    /// period) means something.
    pub at_end: bool,
    /// The period semantics when an aggregate has no period clause; `None` makes the
    /// clause mandatory.
    pub default_period: Option<PeriodKind>,
    /// Records link to a person (`count_persons` allowed).
    pub persons: bool,
    /// Records link to a household (`count_households` allowed).
    pub households: bool,
}

/// A field of a source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    /// Chinese name, e.g. "发放金额".
    pub label: String,
    pub ty: FieldType,
    /// Unit of a quantity as entered ("亩", "吨"), for display configuration.
    pub unit: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldType {
    /// A stable ASCII code; `values` lists the valid codes (empty: any code).
    Code {
        values: Vec<String>,
    },
    /// Free text.
    Text,
    Bool,
    Date,
    /// A plain quantity (亩, 吨, 头…).
    Number,
    /// Money in fen.
    Money,
    /// A whole number (persons, items).
    Count,
    Percent,
}

impl FieldType {
    pub fn label(&self) -> &'static str {
        match self {
            FieldType::Code { .. } => "代码",
            FieldType::Text => "文字",
            FieldType::Bool => "真假值",
            FieldType::Date => "日期",
            FieldType::Number => "数值",
            FieldType::Money => "金额",
            FieldType::Count => "计数",
            FieldType::Percent => "百分比",
        }
    }

    /// The expression type of a numeric field.
    pub fn quantity(&self) -> Option<Type> {
        match self {
            FieldType::Number => Some(Type::Number),
            FieldType::Money => Some(Type::Money),
            FieldType::Count => Some(Type::Count),
            FieldType::Percent => Some(Type::Percent),
            _ => None,
        }
    }
}

/// How a data element's values combine over org units and sub-periods (DHIS2's
/// aggregation type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataAggregation {
    /// Flows: 产量, 出栏, 财税收入.
    Sum,
    Average,
    /// Stocks: 期末面积. Defaults to `at end`.
    Last,
}

/// A figure entered per org unit and period (统计数据).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DataElementDef {
    pub code: String,
    pub label: String,
    /// Number, Money, Count or Percent.
    pub ty: Type,
    pub aggregation: DataAggregation,
    pub unit: Option<String>,
}

// ---------------------------------------------------------------------------------
// Builders, so that schemas read well in code and tests.

impl FieldDef {
    pub fn new(name: &str, label: &str, ty: FieldType) -> FieldDef {
        FieldDef {
            name: name.to_owned(),
            label: label.to_owned(),
            ty,
            unit: None,
        }
    }

    pub fn code(name: &str, label: &str, values: &[&str]) -> FieldDef {
        let values = values.iter().map(|v| (*v).to_owned()).collect();
        FieldDef::new(name, label, FieldType::Code { values })
    }

    pub fn with_unit(mut self, unit: &str) -> FieldDef {
        self.unit = Some(unit.to_owned());
        self
    }
}

impl SourceDef {
    /// A built-in record source whose default period is `in period` on `date_field`.
    pub fn record(name: &str, label: &str, date_field: &str) -> SourceDef {
        SourceDef {
            key: SourceKey::Record(name.to_owned()),
            label: label.to_owned(),
            fields: Vec::new(),
            date_field: Some(date_field.to_owned()),
            at_end: false,
            default_period: Some(PeriodKind::InPeriod),
            persons: false,
            households: false,
        }
    }

    /// A ledger defined as data, whose rows are dated by `date_field`.
    pub fn ledger(code: &str, label: &str, date_field: &str) -> SourceDef {
        SourceDef {
            key: SourceKey::Ledger(code.to_owned()),
            ..SourceDef::record(code, label, date_field)
        }
    }

    pub fn field(mut self, field: FieldDef) -> SourceDef {
        self.fields.push(field);
        self
    }

    /// Records have validity intervals; `at end` is allowed and, if `default`, assumed
    /// when no period is written.
    pub fn stateful(mut self, default: bool) -> SourceDef {
        self.at_end = true;
        if default {
            self.default_period = Some(PeriodKind::AtEnd);
        }
        self
    }

    pub fn persons(mut self) -> SourceDef {
        self.persons = true;
        self
    }

    pub fn households(mut self) -> SourceDef {
        self.households = true;
        self
    }

    pub fn find_field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The name as written in expressions: `payout` or `ledger("AGRI_OUTPUT")`.
    pub fn written(&self) -> String {
        match &self.key {
            SourceKey::Record(name) => name.clone(),
            SourceKey::Ledger(code) => format!("ledger(\"{code}\")"),
        }
    }
}

impl DataElementDef {
    pub fn new(code: &str, label: &str, ty: Type, aggregation: DataAggregation) -> DataElementDef {
        DataElementDef {
            code: code.to_owned(),
            label: label.to_owned(),
            ty,
            aggregation,
            unit: None,
        }
    }

    pub fn with_unit(mut self, unit: &str) -> DataElementDef {
        self.unit = Some(unit.to_owned());
        self
    }
}

impl Schema {
    pub fn new() -> Schema {
        Schema::default()
    }

    pub fn source(mut self, source: SourceDef) -> Schema {
        self.sources.push(source);
        self
    }

    pub fn data_element(mut self, element: DataElementDef) -> Schema {
        self.data_elements.push(element);
        self
    }

    pub fn find_source(&self, key: &SourceKey) -> Option<&SourceDef> {
        self.sources.iter().find(|s| &s.key == key)
    }

    pub fn find_data_element(&self, code: &str) -> Option<&DataElementDef> {
        self.data_elements.iter().find(|d| d.code == code)
    }
}
