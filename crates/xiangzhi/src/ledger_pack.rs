//! The built-in ledger pack: the ledgers of the 2023 work summary as TOML files under
//! `crates/xiangzhi/ledgers/`, compiled into the binary. `demo` defines them all;
//! `ledger define --builtin CODE|all` defines them on any database. They are plain definitions:
//! the same as a file a clerk would write, with no code of their own.

use xiangzhi_domain::ledger::{DefinitionError, LedgerDefinition};

/// `(code, TOML)` of every built-in ledger.
pub const BUILTIN: &[(&str, &str)] = &[
    ("agri", include_str!("../ledgers/agri.toml")),
    ("winter_crop", include_str!("../ledgers/winter_crop.toml")),
    (
        "collective_income",
        include_str!("../ledgers/collective_income.toml"),
    ),
    ("farmland_fix", include_str!("../ledgers/farmland_fix.toml")),
    ("toilet", include_str!("../ledgers/toilet.toml")),
    (
        "cancer_screening",
        include_str!("../ledgers/cancer_screening.toml"),
    ),
    ("birth_permit", include_str!("../ledgers/birth_permit.toml")),
    ("only_child", include_str!("../ledgers/only_child.toml")),
    (
        "school_safety",
        include_str!("../ledgers/school_safety.toml"),
    ),
    ("straw_fire", include_str!("../ledgers/straw_fire.toml")),
    (
        "fishing_patrol",
        include_str!("../ledgers/fishing_patrol.toml"),
    ),
    (
        "sanitation_score",
        include_str!("../ledgers/sanitation_score.toml"),
    ),
    ("safety_check", include_str!("../ledgers/safety_check.toml")),
    ("anti_fraud", include_str!("../ledgers/anti_fraud.toml")),
    ("elderly_care", include_str!("../ledgers/elderly_care.toml")),
    ("water_ops", include_str!("../ledgers/water_ops.toml")),
    (
        "town_improvement",
        include_str!("../ledgers/town_improvement.toml"),
    ),
];

/// Every built-in definition, parsed and validated.
pub fn definitions() -> Result<Vec<LedgerDefinition>, DefinitionError> {
    BUILTIN
        .iter()
        .map(|(_, text)| LedgerDefinition::from_toml(text))
        .collect()
}

/// One built-in definition by code.
pub fn definition(code: &str) -> Option<Result<LedgerDefinition, DefinitionError>> {
    BUILTIN
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, text)| LedgerDefinition::from_toml(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_its_code_matches() {
        for (code, text) in BUILTIN {
            let def = LedgerDefinition::from_toml(text).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(&def.code, code);
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ledgers");
        let files = std::fs::read_dir(dir).unwrap().count();
        assert_eq!(
            files,
            BUILTIN.len(),
            "every file under ledgers/ is embedded"
        );
    }
}
