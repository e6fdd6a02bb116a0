//! The short fuzz pass CI runs: every target over its seed corpus (files already in the repo
//! plus the regression inputs under `corpus/<target>/`), then a seeded mutation loop.
//!
//! `XIANGZHI_FUZZ_ITERS` sets the mutations per target (default 2,000; the long runs recorded
//! in the README use `XIANGZHI_FUZZ_ITERS=200000 cargo test --release -p xiangzhi-fuzzing`),
//! `XIANGZHI_FUZZ_SEED` the seed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use xiangzhi_fuzzing::TARGETS;
use xiangzhi_fuzzing::mutate::{Rng, mutate};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &[&str]) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| ext.is_empty() || p.extension().is_some_and(|x| ext.iter().any(|e| x == *e)))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read(p).expect("read corpus file"))
        .collect()
}

/// The seeds of one target: inline examples, files the repo already has, and the regressions.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let inline: &[&str] = match target {
        "citizen_id" => &[
            "361002199003070239",
            "36100219900307021x",
            "361002900307023",
            "３６１００２１９９００３０７０２３９",
            "3.61002E+17",
            "110101200002290013",
        ],
        "credit_code" => &[
            "91361002MA35XXXX0D",
            "91 3610 02MA35 XXXX 0D",
            "ｇ１３６１００２ＭＡ３５ＸＸＸＸ０Ｄ",
            "51361002MJD123456P",
        ],
        "period" => &[
            "2023",
            "2023Q1",
            "2023W01",
            "2023W5",
            "202301",
            "20230115",
            "2023S2",
            "2020W53",
            "２０２３ｑ４",
        ],
        "expression" => &[
            r#"value("GRAIN_AREA")"#,
            r#"sum(ledger("AGRI_OUTPUT").grain_area, reported in period)"#,
            r#"ratio(value("GRAIN_AREA") - prev_year(value("GRAIN_AREA")), prev_year(value("GRAIN_AREA")))"#,
            r#"count(case, status = "open", registered in period) > 3 and value("GRAIN_AREA") > 1"#,
            r#"sum(case.amount, at end) / 10000"#,
            r#"count(enterprise, kind in ["automotive"], settled in period)"#,
        ],
        "table_import" => &[
            "姓名,身份证号,联系电话,所属村\n张三,361002199003070239,13800000000,头昌村\n",
            "企业名称,统一社会信用代码,行业\n某物流公司,91361002MA35XXXX0D,物流\n",
        ],
        "ledger_definition" => &[],
        "open311_form" => &[
            "jurisdiction_id=361002201211001&service_code=hazard.fire&description=%E7%81%AB",
            "service_code=a&lat=27.9&long=116.3&first_name=%E4%B8%89&last_name=+%E5%BC%A0",
        ],
        other => panic!("no seeds for target {other}"),
    };
    let mut out: Vec<Vec<u8>> = inline.iter().map(|s| s.as_bytes().to_vec()).collect();
    let crates = crate_dir().join("..");
    match target {
        "table_import" => {
            out.extend(files(
                &crates.join("exchange/tests/fixtures"),
                &["xlsx", "xls", "csv"],
            ));
            out.extend(files(
                &crates.join("xiangzhi/tests/fixtures/registry"),
                &["xlsx", "csv"],
            ));
        }
        "ledger_definition" => out.extend(files(&crates.join("xiangzhi/ledgers"), &["toml"])),
        _ => {}
    }
    out.extend(files(&crate_dir().join("corpus").join(target), &[]));
    assert!(!out.is_empty(), "target {target} has an empty corpus");
    out
}

fn run_one(name: &str, body: fn(&[u8]), input: &[u8], seed: u64) {
    if catch_unwind(AssertUnwindSafe(|| body(input))).is_err() {
        panic!(
            "fuzz target {name} panicked (seed {seed}); save this input as \
             crates/fuzzing/corpus/{name}/<name> and fix the bug:\n{input:?}\nas text: {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn every_target_survives_its_corpus_and_mutations() {
    let iters: usize = std::env::var("XIANGZHI_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let seed: u64 = std::env::var("XIANGZHI_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_1234);
    let mut total = 0usize;
    for (name, body) in TARGETS {
        let seeds = corpus(name);
        for input in &seeds {
            run_one(name, *body, input, seed);
            total += 1;
        }
        // Spreadsheets are large; fewer of their mutations keep the CI pass short.
        let n = if *name == "table_import" {
            iters / 10
        } else {
            iters
        };
        let mut rng = Rng::new(seed ^ name.len() as u64);
        for _ in 0..n {
            let a = &seeds[rng.below(seeds.len())];
            let b = &seeds[rng.below(seeds.len())];
            let input = mutate(&mut rng, a, b, 1 << 20);
            run_one(name, *body, &input, seed);
            total += 1;
        }
    }
    println!(
        "fuzz pass: {total} executions over {} targets",
        TARGETS.len()
    );
    assert!(total >= TARGETS.len() * iters / 10);
}

#[test]
fn every_target_has_a_cargo_fuzz_entry() {
    let dir = crate_dir().join("../../fuzz/fuzz_targets");
    for (name, _) in TARGETS {
        let file = dir.join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("{} is missing", file.display()));
        assert!(
            text.contains(&format!("xiangzhi_fuzzing::{name}(")),
            "{} does not call its body",
            file.display()
        );
    }
}
