//! The demo township's assistance records: the 2023 summary's figures (and 2022's, for
//! year-on-year) computed from them, the one planted cross-check hit, the to-do lists, and the
//! roster and bank files the CLI writes.

use std::sync::Arc;

use chrono::NaiveDate;
use xiangzhi::demo_assistance::figures;
use xiangzhi_domain::money::Money;
use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;
use xiangzhi_exchange::{Cell, Limits};
use xiangzhi_store::assistance::{CheckKind, CheckOptions, EnrollmentQuery};
use xiangzhi_store::{Actor, Scope, Store};

async fn demo() -> (Arc<dyn Store>, Scope) {
    let dir = tempfile::tempdir().unwrap().keep();
    let store = xiangzhi::open_store(dir.join("xz.db").to_str().unwrap(), None)
        .await
        .unwrap();
    xiangzhi::demo::load(&store).await.unwrap();
    let township = DivisionCode::parse("361002201").unwrap();
    let scope = Scope::new(store.org_unit(&Scope::all(), &township).await.unwrap().path);
    (store, scope)
}

#[tokio::test]
async fn demo_makes_the_summary_figures_true() {
    let (store, scope) = demo().await;
    let f = figures(&store, &scope, 2023).await.unwrap();
    assert_eq!(
        (f.monitoring_new_households, f.monitoring_new_persons),
        (3, 13)
    );
    assert_eq!(
        (f.min_living_new_households, f.min_living_new_persons),
        (15, 22)
    );
    assert_eq!((f.near_min_households, f.near_min_persons), (8, 14));
    assert_eq!(f.care_rate(), Some(100.0));
    assert_eq!(
        (f.temporary_relief_households, f.temporary_relief_persons),
        (16, 16)
    );
    assert_eq!(
        f.temporary_relief_amount,
        Money::parse_yuan("2.105万元").unwrap()
    );
    assert_eq!((f.children, f.de_facto_orphans), (82, 24));
    assert_eq!(f.new_disability_certificates, 5);
    assert_eq!((f.quilts, f.coats), (84, 24));

    let last = figures(&store, &scope, 2022).await.unwrap();
    assert_eq!(
        (last.monitoring_new_households, last.monitoring_new_persons),
        (2, 7)
    );
    assert_eq!(
        (last.min_living_new_households, last.min_living_new_persons),
        (12, 18)
    );
    assert_eq!((last.children, last.de_facto_orphans), (76, 20));
    assert_eq!(
        last.temporary_relief_amount,
        Money::from_yuan(15_000).unwrap()
    );
    assert_eq!((last.quilts, last.coats), (60, 20));

    // Loading again adds nothing.
    xiangzhi::demo::load(&store).await.unwrap();
    assert_eq!(figures(&store, &scope, 2023).await.unwrap(), f);

    // The cross-checks find the one forgotten review, linked to its enrollment.
    let options = CheckOptions {
        today: NaiveDate::from_ymd_opt(2023, 12, 31).unwrap(),
        period: None,
        capital_threshold: Money::from_yuan(500_000).unwrap(),
    };
    let hits = store.run_checks(&scope, &options).await.unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].check, CheckKind::ReviewOverdue);
    let e = store
        .enrollment(&scope, hits[0].records[0].id)
        .await
        .unwrap();
    assert_eq!(e.program_code, "min_living");

    // 头昌村's cadre has an application to review; the county has nothing pending.
    let touchang = DivisionCode::parse("361002201211").unwrap();
    let cadre = Actor {
        user_id: None,
        username: "cadre".into(),
        role: Some(Role::VillageCadre),
        ip: None,
        scope: Scope::new(store.org_unit(&Scope::all(), &touchang).await.unwrap().path),
    };
    let todo = store
        .todo(&cadre, NaiveDate::from_ymd_opt(2023, 12, 22).unwrap())
        .await
        .unwrap();
    assert_eq!(todo.awaiting.len(), 1, "{:?}", todo.awaiting);

    // The roster file: no citizen IDs in it.
    let rows = store
        .enrollments(
            &scope,
            &EnrollmentQuery {
                program: Some("min_living".into()),
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let bytes = xiangzhi::cli_assistance::roster_xlsx(&rows).unwrap();
    let sheet = xiangzhi_exchange::read_table(&bytes, "名单.xlsx", &Limits::default()).unwrap();
    assert_eq!(sheet.rows.len(), rows.len());
    let text = format!("{:?}", sheet.rows);
    assert!(
        !text.contains("36100219"),
        "a citizen ID leaked into the roster"
    );

    // The bank file of December's approved 低保 payroll: full IDs, amounts in yuan.
    let payrolls = store.payrolls(&scope, Some("min_living")).await.unwrap();
    let dec = payrolls.iter().find(|p| p.period == "202312").unwrap();
    let lines = store
        .payroll_bank_lines(&Actor::system("test"), dec.id)
        .await
        .unwrap();
    assert_eq!(lines.len() as i64, dec.lines);
    let bytes = xiangzhi::cli_assistance::bank_xlsx(dec, &lines).unwrap();
    let sheet = xiangzhi_exchange::read_table(&bytes, "代发.xlsx", &Limits::default()).unwrap();
    let first = &sheet.rows[0];
    assert!(
        matches!(&first.cells[2], Cell::Text(id) if id.len() == 18),
        "{first:?}"
    );
    let total: f64 = sheet
        .rows
        .iter()
        .map(|r| match &r.cells[3] {
            Cell::Float(f) => *f,
            Cell::Int(i) => *i as f64,
            other => panic!("amount cell {other:?}"),
        })
        .sum();
    assert!((total - dec.total.fen() as f64 / 100.0).abs() < 0.005);
}
