//! The built-in annual report over the demo database, figures from the indicator engine:
//! every number of the seed's 2023 summary is printed, nothing is a gap, and a changed record
//! moves the printed figure.

#[path = "../../report/tests/seed/mod.rs"]
mod seed;

use std::sync::Arc;

use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::period::Period;
use xiangzhi_report::service::{self, Report};
use xiangzhi_report::{changes, plain_text};
use xiangzhi_store::indicator::DataValueInput;
use xiangzhi_store::{Actor, Scope, Store};

const TOWNSHIP: &str = "361002201";

async fn demo() -> (Arc<dyn Store>, Scope) {
    let dir = tempfile::tempdir().unwrap().keep();
    let store = xiangzhi::open_store(dir.join("xz.db").to_str().unwrap(), None)
        .await
        .unwrap();
    xiangzhi::demo::load(&store).await.unwrap();
    let township = DivisionCode::parse(TOWNSHIP).unwrap();
    let scope = Scope::new(store.org_unit(&Scope::all(), &township).await.unwrap().path);
    (store, scope)
}

async fn annual_2023(store: &Arc<dyn Store>, scope: &Scope) -> Report {
    service::render_report(
        store.clone(),
        scope,
        "annual",
        None,
        &DivisionCode::parse(TOWNSHIP).unwrap(),
        &Period::parse("2023").unwrap(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn annual_report_over_the_demo_prints_every_number_of_the_seed_summary() {
    let (store, scope) = demo().await;
    let report = annual_2023(&store, &scope).await;
    let r = &report.rendered;
    let text = plain_text(&r.document);
    let absent = seed::absent_from(&text);
    let gaps: Vec<String> = r
        .gaps
        .iter()
        .map(|g| format!("{} ({}, {}): {}", g.label, g.org, g.period, g.reason))
        .collect();
    assert!(
        absent.is_empty() && gaps.is_empty(),
        "numbers of the seed not in the report: {absent:?}\ngaps: {gaps:#?}"
    );
    assert_eq!(r.document.title, "连城乡2023年工作总结及2024年工作计划");
    assert!(text.contains("完成粮食种植面积3.76万亩"), "{text}");
    // Every figure read from the engine carries the link to its records.
    let without: Vec<&str> = r
        .figures
        .iter()
        .filter(|f| f.provenance.is_none())
        .map(|f| f.label.as_str())
        .collect();
    assert!(
        without.is_empty(),
        "figures without provenance: {without:?}"
    );
}

#[tokio::test]
async fn a_changed_data_value_moves_the_printed_figure() {
    let (store, scope) = demo().await;
    let before = annual_2023(&store, &scope).await;
    assert!(plain_text(&before.rendered.document).contains("年完成财税1200万元"));

    // 财税收入 is entered as a data value, stored in fen: 1250万元.
    store
        .save_data_value(
            &Actor::system("test"),
            DataValueInput {
                element_code: "FISCAL_REVENUE".into(),
                org_code: DivisionCode::parse(TOWNSHIP).unwrap(),
                period: "2023".into(),
                value: 1_250_000_000.0,
                comment: String::new(),
            },
        )
        .await
        .unwrap();

    let after = annual_2023(&store, &scope).await;
    let text = plain_text(&after.rendered.document);
    assert!(text.contains("年完成财税1250万元"), "{text}");
    let moved = changes(&before.rendered.figures, &after.rendered.figures);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0].before.as_deref(), Some("1200万元"));
    assert_eq!(moved[0].after.as_deref(), Some("1250万元"));
}
