//! The seed document's 2023 summary and the numbers written in it, shared by the report
//! tests against memory (`crates/report/tests/render.rs`) and against the demo database
//! (`crates/xiangzhi/tests/report_demo.rs`, which includes this file by path).

use std::collections::BTreeSet;

/// Every number written with digits: `3.76`, `2000`, `10` of `10＋X`.
pub fn numbers(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let digit = c.is_ascii_digit();
        let point =
            c == '.' && !cur.is_empty() && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit());
        if digit || point {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The seed's section 一、2023年工作总结, up to 二、2024年工作计划.
pub fn seed_summary() -> String {
    // Every crate sits at `crates/<name>`, so the shared folder is three levels up.
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/seed/000_dfb12432eec8a521.txt"
    ))
    .expect("the seed document under ../shared");
    let start = seed.find("一、2023年工作总结").expect("summary heading");
    let end = seed.find("二、2024年工作计划").expect("plan heading");
    seed[start..end].to_owned()
}

/// The numbers of the seed's summary that `rendered` does not contain, in the seed's order.
pub fn absent_from(rendered: &str) -> Vec<String> {
    let have: BTreeSet<String> = numbers(rendered).into_iter().collect();
    let wanted = numbers(&seed_summary());
    assert!(
        wanted.len() > 50,
        "the summary has many numbers: {wanted:?}"
    );
    wanted.into_iter().filter(|n| !have.contains(n)).collect()
}
