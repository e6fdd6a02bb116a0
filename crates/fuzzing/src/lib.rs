//! One body per fuzz target, shared by the two drivers: `fuzz/` (cargo-fuzz, libFuzzer) and
//! `tests/fuzz_pass.rs` (a seeded corpus-and-mutation loop that runs in `cargo test`, so CI
//! fuzzes briefly on stable Rust without libFuzzer).
//!
//! A body must never panic on any input; where a parser accepts, it also checks what the
//! accepted value promises (a printed value parses back to itself), so a fuzz run finds wrong
//! answers as well as crashes.

pub mod mutate;

use chrono::NaiveDate;
use xiangzhi_domain::citizen_id::CitizenId;
use xiangzhi_domain::credit_code::CreditCode;
use xiangzhi_domain::ledger::{LedgerDefinition, parse_input, validate_values};
use xiangzhi_domain::period::Period;
use xiangzhi_exchange::{Cell, Limits, convert};
use xiangzhi_expr::{
    DataAggregation, DataElementDef, FieldDef, FieldType, Schema, SourceDef, Type,
};

/// The targets by name, as `fuzz/fuzz_targets/<name>.rs` and the corpus directories call them.
/// A fuzz target: its name and the body run on each input.
pub type Target = (&'static str, fn(&[u8]));

pub const TARGETS: &[Target] = &[
    ("citizen_id", citizen_id),
    ("credit_code", credit_code),
    ("period", period),
    ("expression", expression),
    ("table_import", table_import),
    ("ledger_definition", ledger_definition),
    ("open311_form", open311_form),
];

/// A fixed "today", so that a birth date's validity does not depend on when the run happens.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date")
}

pub fn citizen_id(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(id) = CitizenId::parse_at(&s, today()) {
        let printed = id.as_str().to_string();
        assert_eq!(printed.len(), 18, "a valid ID has 18 characters: {printed}");
        let again = CitizenId::parse_at(&printed, today()).expect("a valid ID parses again");
        assert_eq!(again, id, "parsing is idempotent");
    }
}

pub fn credit_code(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok((code, warning)) = CreditCode::parse(&s) {
        assert_eq!(code.as_str().len(), 18);
        assert_eq!(warning.is_none(), code.check_ok());
        let _ = (
            code.registration_authority(),
            code.region_code(),
            code.org_code(),
        );
        let (again, _) = CreditCode::parse(code.as_str()).expect("a parsed code parses again");
        assert_eq!(again, code);
    }
}

pub fn period(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(p) = Period::parse(&s) {
        let code = p.to_string();
        assert_eq!(Period::parse(&code), Ok(p), "{code} round-trips");
        let _ = (p.next(), p.previous(), p.start(), p.end());
    }
}

/// A small schema with one record source and one data element, so that the checker has
/// names to resolve and to refuse.
fn schema() -> Schema {
    Schema::new()
        .source(
            SourceDef::record("case", "事件", "registered")
                .field(FieldDef::code("status", "状态", &["open", "closed"]))
                .field(FieldDef::new("amount", "金额", FieldType::Money))
                .field(FieldDef::new("repeat", "重复信访", FieldType::Bool))
                .field(FieldDef::new("registered", "登记日期", FieldType::Date)),
        )
        .data_element(DataElementDef::new(
            "GRAIN_AREA",
            "粮食种植面积",
            Type::Number,
            DataAggregation::Sum,
        ))
}

pub fn expression(data: &[u8]) {
    let src = String::from_utf8_lossy(data);
    let Ok(expr) = xiangzhi_expr::parse(&src) else {
        return;
    };
    let printed = xiangzhi_expr::print(&expr);
    let again = xiangzhi_expr::parse(&printed)
        .unwrap_or_else(|e| panic!("printed form {printed:?} of {src:?} does not parse: {e:?}"));
    assert_eq!(
        xiangzhi_expr::print(&again),
        printed,
        "printing is stable for {src:?}"
    );
    if let Ok(checked) = xiangzhi_expr::check(&expr, &schema()) {
        let _ = xiangzhi_expr::evaluate(&checked, &|_| Some(1.5));
        let _ = xiangzhi_expr::evaluate(&checked, &|_| None);
    }
}

/// Small limits, so a hostile file is refused quickly instead of allocated.
fn import_limits() -> Limits {
    Limits {
        max_bytes: 1 << 20,
        max_rows: 2_000,
        max_columns: 50,
        max_uncompressed_bytes: 8 << 20,
        max_cells: 50_000,
    }
}

/// The registry import as the web runs it: the file read by its bytes whatever its name, then
/// every cell through the converters and the identifier parsers the import applies.
pub fn table_import(data: &[u8]) {
    use xiangzhi_intake::{Kind, read_sheet};
    let name = match data.first().map(|b| b % 3) {
        Some(0) => "名册.xlsx",
        Some(1) => "名册.csv",
        _ => "名册.xls",
    };
    for kind in [Kind::Persons, Kind::Enterprises] {
        let Ok(sheet) = read_sheet(kind, data, name, &import_limits()) else {
            continue;
        };
        for row in &sheet.rows {
            assert_eq!(row.cells.len(), sheet.headers.len(), "rows are padded");
            for cell in &row.cells {
                convert_cell(cell);
            }
        }
    }
}

fn convert_cell(cell: &Cell) {
    let _ = convert::int(cell);
    let _ = convert::decimal(cell, false);
    let _ = convert::decimal(cell, true);
    let _ = convert::date(cell);
    let _ = convert::bool(cell);
    if let Ok(Some(t)) = convert::id_text(cell) {
        citizen_id(t.as_bytes());
        credit_code(t.as_bytes());
    }
    if let Ok(Some(t)) = convert::text(cell) {
        let _ = xiangzhi_domain::phone::Phone::parse(&t);
    }
}

pub fn ledger_definition(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(def) = LedgerDefinition::from_toml(&text) else {
        return;
    };
    let _ = validate_values(&def, &Default::default());
    // Every field against a few typed values, as an entry form or an import would send them.
    for f in &def.fields {
        for raw in ["", "0", "-1", "1.5", "2024-02-30", "是", "=1+1", "９９"] {
            let _ = parse_input(f, raw);
        }
    }
}

/// An Open311 request body (`application/x-www-form-urlencoded`) decoded the way the form
/// extractor does, then every value through the identifiers a request may carry. The full
/// handler, with its store, is fuzzed over HTTP by `crates/xiangzhi/tests/hostile_input.rs`.
pub fn open311_form(data: &[u8]) {
    for (key, value) in form_pairs(data) {
        match key.as_str() {
            "jurisdiction_id" => {
                let _ = xiangzhi_domain::org::DivisionCode::parse(&value);
            }
            "lat" | "long" => {
                let _ = value.trim().parse::<f64>();
            }
            _ => {
                let _ = value.chars().take(30).collect::<String>();
            }
        }
    }
}

/// `k=v&k=v` with `+` and `%XX` decoding, lossy on bad UTF-8 like the form extractor.
fn form_pairs(data: &[u8]) -> Vec<(String, String)> {
    fn decode(s: &[u8]) -> String {
        let mut out = Vec::with_capacity(s.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < s.len() => {
                    let hex = std::str::from_utf8(&s[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    data.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.iter().position(|b| *b == b'=') {
            Some(at) => (decode(&p[..at]), decode(&p[at + 1..])),
            None => (decode(p), String::new()),
        })
        .collect()
}
