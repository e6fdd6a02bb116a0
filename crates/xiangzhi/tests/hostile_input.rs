//! Hostile input through the whole program: random Open311 form bodies against the running
//! server (the store-backed half of the `open311_form` fuzz target), and spreadsheet exports
//! that must neutralise values a spreadsheet would run as formulas.

mod common;

use common::*;
use xiangzhi::import::Kind;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_exchange::Cell;
use xiangzhi_fuzzing::mutate::{Rng, mutate};
use xiangzhi_store::{Actor, Scope};

/// Every answer to a mangled request is a clear refusal or a registration; never a 5xx, never
/// a broken audit chain; and every 201 registered exactly one case.
#[tokio::test]
async fn open311_survives_random_form_bodies() {
    let app = spawn_app().await;
    let iters: usize = std::env::var("XIANGZHI_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(|n: usize| n / 10)
        .unwrap_or(200);
    let seeds: [&[u8]; 4] = [
        b"jurisdiction_id=361002201211001&service_code=hazard.fire&description=%E7%81%AB%E6%83%85",
        b"jurisdiction_id=361002201211&service_code=hazard.fire&description=x&lat=27.9&long=116.3&first_name=%E4%B8%89&last_name=%E5%BC%A0",
        b"service_code=&description=",
        b"jurisdiction_id=361002202200001&service_code=hazard.fire&description=%3Cscript%3E&address_string=%E6%9D%91%E5%8F%A3",
    ];
    let count = |app: &TestApp| {
        let store = app.store.clone();
        async move {
            store
                .cases(
                    &Scope::all(),
                    &xiangzhi_store::case::CaseQuery {
                        limit: 100_000,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .len()
        }
    };
    let before = count(&app).await;
    let c = reqwest::Client::new();
    let mut rng = Rng::new(0x0311);
    let mut created = 0;
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..iters {
        let a = seeds[rng.below(seeds.len())];
        let b = seeds[rng.below(seeds.len())];
        let body = mutate(&mut rng, a, b, 4096);
        let path = if i % 2 == 0 { "json" } else { "xml" };
        let res = c
            .post(app.url(&format!("/open311/v2/requests.{path}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = res.status();
        *statuses.entry(status.as_u16()).or_insert(0) += 1;
        assert!(
            !status.is_server_error(),
            "body {:?} answered {status}",
            String::from_utf8_lossy(&body)
        );
        if status == 201 {
            created += 1;
        }
    }
    println!("open311 fuzz: {iters} bodies, statuses {statuses:?}");
    assert_eq!(count(&app).await, before + created);
    app.audit_rows().await; // asserts the chain is whole
}

/// A clerk may type `=`, `+`, `-` or `@` first into a free-text field; the exported file keeps
/// the text but no spreadsheet may take it for a formula.
#[tokio::test]
async fn exports_neutralise_formulas() {
    use xiangzhi_store::registry::{NewEnterprise, NewHousehold};
    let app = spawn_app().await;
    let actor = Actor::system("test");
    let village = DivisionCode::parse(TOUCHANG).unwrap();
    let hostile = [
        "=cmd|' /C calc'!A0",
        "+SUM(1,2)",
        "-2+3",
        "@SUM(A1:A2)",
        "=HYPERLINK(\"http://evil\",\"点我\")",
    ];
    for (i, h) in hostile.iter().enumerate() {
        app.store
            .create_household(
                &actor,
                NewHousehold {
                    household_no: format!("F{i:03}"),
                    address: h.to_string(),
                    org_code: village.clone(),
                },
            )
            .await
            .unwrap();
        app.store
            .create_enterprise(
                &actor,
                NewEnterprise {
                    name: h.to_string(),
                    credit_code: xiangzhi_domain::credit_code::generate(&format!(
                        "91361002MA35FXRM{i}"
                    ))
                    .unwrap(),
                    kind: "物流".into(),
                    registered_capital: None,
                    settled_on: None,
                    org_code: village.clone(),
                    contact_name: None,
                    contact_phone: None,
                },
            )
            .await
            .unwrap();
    }
    let dir = TempDir::new("xiangzhi-export");
    let mut checked = 0;
    for kind in [Kind::Households, Kind::Enterprises] {
        for ext in ["xlsx", "csv"] {
            let out = dir.path().join(format!("{kind:?}.{ext}"));
            xiangzhi::cli_registry::export(
                xiangzhi::cli_registry::ExportArgs {
                    kind,
                    org: Some(TOUCHANG.into()),
                    out: out.clone(),
                    reveal: false,
                },
                &app.store,
                false,
            )
            .await
            .unwrap();
            let bytes = std::fs::read(&out).unwrap();
            let sheet =
                xiangzhi_exchange::read_table(&bytes, out.to_str().unwrap(), &Default::default())
                    .unwrap();
            let texts: Vec<String> = sheet
                .rows
                .iter()
                .flat_map(|r| r.cells.iter())
                .filter_map(|c| match c {
                    Cell::Text(t) => Some(t.clone()),
                    _ => None,
                })
                .collect();
            for h in hostile {
                assert!(
                    texts.contains(&format!("'{h}")),
                    "{kind:?}.{ext}: {h} is not exported neutralised"
                );
                assert!(
                    !texts.contains(&h.to_string()),
                    "{kind:?}.{ext}: {h} exported as it was typed"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, hostile.len() * 4);
}
