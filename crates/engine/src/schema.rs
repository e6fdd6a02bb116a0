//! The expression schema an indicator is checked against: the store's built-in record sources
//! ([`xiangzhi_store::measure::RECORD_SOURCES`]), every ledger defined as data, and every data
//! element. Built from the same catalog the store queries, so what checks can be computed.

use xiangzhi_domain::ledger::FieldType as LedgerFieldType;
use xiangzhi_expr::{
    DataAggregation, DataElementDef, FieldDef, FieldType, Schema, SourceDef, Type,
};
use xiangzhi_store::indicator::DataElement;
use xiangzhi_store::ledger::Ledger;
use xiangzhi_store::measure::{FieldKind, RECORD_SOURCES};

/// The pseudo date field of every ledger: the entry's filling period.
pub const LEDGER_PERIOD: &str = "period";

/// Multiplier from a ledger field's entered unit to the expression's base unit: money fields
/// (元, 万元) become fen.
pub fn ledger_unit_factor(unit: Option<&str>) -> f64 {
    match unit {
        Some("元") => 100.0,
        Some("万元") => 1_000_000.0,
        _ => 1.0,
    }
}

pub fn value_type(code: &str) -> Type {
    match code {
        "money" => Type::Money,
        "count" => Type::Count,
        "percent" => Type::Percent,
        _ => Type::Number,
    }
}

pub fn build(ledgers: &[Ledger], elements: &[DataElement]) -> Schema {
    let mut schema = Schema::new();
    for src in RECORD_SOURCES {
        let mut def = SourceDef::record(src.name, src.label, src.default_date);
        for f in src.fields {
            let ty = match f.kind {
                FieldKind::Code(values) => FieldType::Code {
                    values: values.iter().map(|v| (*v).to_owned()).collect(),
                },
                FieldKind::Text => FieldType::Text,
                FieldKind::Bool => FieldType::Bool,
                FieldKind::Number => FieldType::Number,
                FieldKind::Money => FieldType::Money,
                FieldKind::Count => FieldType::Count,
                FieldKind::Contains(_) => FieldType::Code { values: Vec::new() },
            };
            def = def.field(FieldDef::new(f.name, f.label, ty));
        }
        for d in src.dates {
            def = def.field(FieldDef::new(d.name, d.label, FieldType::Date));
        }
        if src.validity.is_some() {
            def = def.stateful(src.at_end_default);
        }
        if src.persons.is_some() {
            def = def.persons();
        }
        if src.households.is_some() {
            def = def.households();
        }
        schema = schema.source(def);
    }
    for l in ledgers {
        let d = &l.definition;
        let mut def = SourceDef::ledger(&l.code, &format!("台账“{}”", d.name), LEDGER_PERIOD)
            .field(FieldDef::new(LEDGER_PERIOD, "填报期间", FieldType::Date))
            .stateful(false)
            .persons()
            .households();
        for f in &d.fields {
            let ty = match f.kind {
                LedgerFieldType::Integer => FieldType::Count,
                LedgerFieldType::Decimal if ledger_unit_factor(f.unit.as_deref()) != 1.0 => {
                    FieldType::Money
                }
                LedgerFieldType::Decimal => FieldType::Number,
                LedgerFieldType::Bool => FieldType::Bool,
                LedgerFieldType::Date => FieldType::Date,
                LedgerFieldType::Choice | LedgerFieldType::MultiChoice => FieldType::Code {
                    values: f.options.clone(),
                },
                _ => FieldType::Text,
            };
            let mut fd = FieldDef::new(&f.key, &f.label, ty);
            if let Some(u) = &f.unit {
                fd = fd.with_unit(u);
            }
            def = def.field(fd);
        }
        schema = schema.source(def);
    }
    for e in elements {
        let agg = match e.aggregation.as_str() {
            "average" => DataAggregation::Average,
            "last" => DataAggregation::Last,
            _ => DataAggregation::Sum,
        };
        let mut d = DataElementDef::new(&e.code, &e.name, value_type(&e.value_type), agg);
        if !e.unit.is_empty() {
            d = d.with_unit(&e.unit);
        }
        schema = schema.data_element(d);
    }
    schema
}
