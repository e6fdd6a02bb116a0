//! The seed indicator pack over the demo township: every figure of the 2023 summary reads as
//! in the document and equals a hand count of the demo's records; a township's figures are
//! the roll-up of its villages'; year-on-year, targets, and provenance within scope; the DHIS2
//! and ADX exports read back identically.

use std::collections::BTreeMap;
use std::sync::Arc;

use xiangzhi::demo_assistance::figures;
use xiangzhi_domain::ledger::FieldValue;
use xiangzhi_domain::org::{DivisionCode, OrgLevel};
use xiangzhi_domain::period::Period;
use xiangzhi_engine::{Engine, pack};
use xiangzhi_store::ledger::EntryQuery;
use xiangzhi_store::registry::EnterpriseQuery;
use xiangzhi_store::{Scope, Store};

const TOWNSHIP: &str = "361002201";
const TOUCHANG: &str = "361002201211";

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

fn y(n: i32) -> Period {
    Period::parse(&n.to_string()).unwrap()
}

/// Sum of a numeric ledger field over the township's 2023 entries, counted entry by entry.
async fn ledger_sum(store: &Arc<dyn Store>, scope: &Scope, ledger: &str, field: &str) -> f64 {
    let mut total = 0.0;
    let mut after = None;
    loop {
        let page = store
            .entries(
                scope,
                ledger,
                &EntryQuery {
                    org: None,
                    period: Some("2023".into()),
                    include_void: false,
                    after_id: after,
                    limit: 500,
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        for e in page.iter().filter(|e| e.filled) {
            match e.values.get(field) {
                Some(FieldValue::Bool(true)) => total += 1.0,
                Some(v) => total += v.as_f64().unwrap_or(0.0),
                None => {}
            }
        }
    }
    total
}

#[tokio::test]
async fn every_seed_figure_reads_as_in_the_document() {
    let (store, scope) = demo().await;
    let engine = Engine::load(store.as_ref(), &scope).await.unwrap();
    let p = pack::builtin();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for ind in &p.indicators {
        let Some(seed) = &ind.seed else { continue };
        let f = engine.figure(&ind.code, TOWNSHIP, &y(2023)).await.unwrap();
        checked += 1;
        if &f.text != seed {
            wrong.push(format!(
                "{} {}: {} ≠ {seed} ({:?})",
                ind.code, ind.name, f.text, f.missing
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 45, "{checked}");
}

#[tokio::test]
async fn seed_figures_equal_hand_counted_records() {
    let (store, scope) = demo().await;
    let engine = Engine::load(store.as_ref(), &scope).await.unwrap();
    let v = |code: &'static str| {
        let engine = &engine;
        async move {
            engine
                .figure(code, TOWNSHIP, &y(2023))
                .await
                .unwrap()
                .value
                .unwrap_or_else(|| panic!("{code} missing"))
        }
    };
    // Assistance: the demo module's own count of its records.
    let f = figures(&store, &scope, 2023).await.unwrap();
    assert_eq!(
        v("MONITORING_NEW_HOUSEHOLDS").await,
        f.monitoring_new_households as f64
    );
    assert_eq!(
        v("MONITORING_NEW_PERSONS").await,
        f.monitoring_new_persons as f64
    );
    assert_eq!(
        v("MIN_LIVING_NEW_HOUSEHOLDS").await,
        f.min_living_new_households as f64
    );
    assert_eq!(
        v("MIN_LIVING_NEW_PERSONS").await,
        f.min_living_new_persons as f64
    );
    assert_eq!(v("NEAR_MIN_HOUSEHOLDS").await, f.near_min_households as f64);
    assert_eq!(v("NEAR_MIN_PERSONS").await, f.near_min_persons as f64);
    assert_eq!(Some(v("EXTREME_CARE_RATE").await), f.care_rate());
    assert_eq!(
        v("TEMP_RELIEF_HOUSEHOLDS").await,
        f.temporary_relief_households as f64
    );
    assert_eq!(
        v("TEMP_RELIEF_PERSONS").await,
        f.temporary_relief_persons as f64
    );
    assert_eq!(
        v("TEMP_RELIEF_AMOUNT").await,
        f.temporary_relief_amount.fen() as f64
    );
    assert_eq!(v("CHILDREN_IN_DIFFICULTY").await, f.children as f64);
    assert_eq!(v("DE_FACTO_ORPHANS").await, f.de_facto_orphans as f64);
    assert_eq!(
        v("NEW_DISABILITY_CERTS").await,
        f.new_disability_certificates as f64
    );
    assert_eq!(v("QUILTS").await, f.quilts as f64);
    assert_eq!(v("COATS").await, f.coats as f64);

    // Ledgers: entries summed one by one.
    for (code, ledger, field, factor) in [
        ("GRAIN_AREA", "agri", "grain_area", 1.0),
        ("POULTRY_OUT", "agri", "poultry", 1.0),
        ("WINTER_RAPE", "winter_crop", "rape_area", 1.0),
        ("TOILETS_FIXED", "toilet", "fixed", 1.0),
        ("TOILET_INVESTMENT", "toilet", "investment", 100.0),
        (
            "FARMLAND_INVESTMENT",
            "farmland_fix",
            "investment",
            1_000_000.0,
        ),
        (
            "COLLECTIVE_INCOME",
            "collective_income",
            "income",
            1_000_000.0,
        ),
    ] {
        let hand = ledger_sum(&store, &scope, ledger, field).await * factor;
        assert!((v(code).await - hand).abs() < 1e-6, "{code}: {hand}");
    }

    // Projects and enterprises, from their lists.
    let projects = store.projects(&scope, Some(2023)).await.unwrap();
    let won: i64 = projects.iter().map(|p| p.funds_won_yuan).sum();
    assert_eq!(v("FUNDS_WON").await, (won * 100) as f64);
    let linked = projects
        .iter()
        .filter(|p| p.kind.as_str() == "linked_funds")
        .count();
    assert_eq!(v("LINKED_FUNDS_PROJECTS").await, linked as f64);
    let ents = store
        .enterprise_search(
            &scope,
            &EnterpriseQuery {
                limit: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let settled_2023 = |kind: &str| {
        ents.iter()
            .filter(|e| {
                e.kind == kind
                    && e.settled_on
                        .is_some_and(|d| d.format("%Y").to_string() == "2023")
            })
            .count() as f64
    };
    assert_eq!(v("NEW_CONSTRUCTION").await, settled_2023("construction"));
    assert_eq!(v("NEW_LOGISTICS").await, settled_2023("logistics"));
}

#[tokio::test]
async fn township_figures_are_the_roll_up_of_their_villages() {
    let (store, scope) = demo().await;
    let engine = Engine::load(store.as_ref(), &scope).await.unwrap();
    for code in [
        "GRAIN_AREA",
        "TOILETS_FIXED",
        "MIN_LIVING_NEW_HOUSEHOLDS",
        "MIN_LIVING_NEW_PERSONS",
        "CHILDREN_IN_DIFFICULTY",
        "TEMP_RELIEF_AMOUNT",
        "NEW_CONSTRUCTION",
        "CANCER_SCREENINGS",
    ] {
        let total = engine.figure(code, TOWNSHIP, &y(2023)).await.unwrap();
        let villages = engine
            .ranking(code, TOWNSHIP, &y(2023), OrgLevel::Village)
            .await
            .unwrap();
        assert_eq!(villages.len(), 12, "{code}");
        let sum: f64 = villages.iter().filter_map(|f| f.value).sum();
        assert!(
            (total.value.unwrap() - sum).abs() < 1e-6,
            "{code}: {:?} vs {sum}",
            total.value
        );
        // Each village's own figure is its ranking row.
        let first = &villages[0];
        let own = engine
            .figure(code, &first.org_code, &y(2023))
            .await
            .unwrap();
        assert_eq!(own.value, first.value, "{code}");
    }
}

#[tokio::test]
async fn year_on_year_and_targets() {
    let (store, scope) = demo().await;
    let engine = Engine::load(store.as_ref(), &scope).await.unwrap();
    let c = engine
        .yoy("FISCAL_REVENUE", TOWNSHIP, &y(2023))
        .await
        .unwrap();
    assert_eq!(c.previous.period, "2022");
    assert_eq!(c.previous.text, "1080");
    assert!((c.rate.unwrap() - 120.0 / 1080.0 * 100.0).abs() < 1e-9);
    assert_eq!(c.rate_text(), "+11.11%");
    // No value for 2021: the change is missing, not -100%.
    let c = engine
        .yoy("FISCAL_REVENUE", TOWNSHIP, &y(2022))
        .await
        .unwrap();
    assert_eq!(c.previous.value, None);
    assert_eq!(c.rate, None);
    assert_eq!(c.previous.text, "—");

    let t = engine
        .target("COLLECTIVE_INCOME", TOUCHANG, &y(2023))
        .await
        .unwrap()
        .expect("头昌村 has its own target");
    assert_eq!(t.text, "50");
    assert_eq!(t.reached, Some(true));
    let s = engine
        .targets_reached("COLLECTIVE_INCOME", TOWNSHIP, &y(2023), OrgLevel::Village)
        .await
        .unwrap();
    assert_eq!((s.reached, s.total), (12, 12));
    let forest = engine
        .target("FOREST_COVERAGE", TOWNSHIP, &y(2024))
        .await
        .unwrap()
        .expect("the 2024 plan's forest target");
    assert_eq!(forest.value, 56.0);
    assert_eq!(
        forest.actual.value, None,
        "no 2024 figure yet: missing, not 0"
    );
    assert_eq!(forest.reached, None);
}

#[tokio::test]
async fn a_village_cadre_following_a_township_figure_sees_only_their_records() {
    let (store, township_scope) = demo().await;
    let touchang = DivisionCode::parse(TOUCHANG).unwrap();
    let cadre = Scope::new(store.org_unit(&Scope::all(), &touchang).await.unwrap().path);
    for code in [
        "MIN_LIVING_NEW_HOUSEHOLDS",
        "CHILDREN_IN_DIFFICULTY",
        "GRAIN_AREA",
    ] {
        let whole =
            xiangzhi_engine::figure(store.as_ref(), &township_scope, code, TOWNSHIP, &y(2023))
                .await
                .unwrap();
        let own = xiangzhi_engine::figure(store.as_ref(), &cadre, code, TOWNSHIP, &y(2023))
            .await
            .unwrap();
        assert!(own.narrowed, "{code}");
        assert_eq!(own.org_code, TOUCHANG);
        assert!(own.value <= whole.value, "{code}");
        let p = xiangzhi_engine::provenance(store.as_ref(), &cadre, code, TOWNSHIP, &y(2023), 1000)
            .await
            .unwrap();
        let records: Vec<_> = p.parts.iter().flat_map(|x| x.records.iter()).collect();
        assert!(!records.is_empty(), "{code}");
        assert!(
            records.iter().all(|r| r.org_code.starts_with(TOUCHANG)),
            "{code}: a record outside 头昌村"
        );
        // The township sees records of other villages too.
        let all = xiangzhi_engine::provenance(
            store.as_ref(),
            &township_scope,
            code,
            TOWNSHIP,
            &y(2023),
            1000,
        )
        .await
        .unwrap();
        assert!(
            all.parts
                .iter()
                .flat_map(|x| x.records.iter())
                .any(|r| !r.org_code.starts_with(TOUCHANG)),
            "{code}"
        );
    }
    // Counting provenance: the records listed are the records counted.
    let p = xiangzhi_engine::provenance(
        store.as_ref(),
        &township_scope,
        "MIN_LIVING_NEW_HOUSEHOLDS",
        TOWNSHIP,
        &y(2023),
        1000,
    )
    .await
    .unwrap();
    assert_eq!(p.parts[0].records.len() as f64, p.figure.value.unwrap());
}

#[tokio::test]
async fn data_values_round_trip_through_dhis2_and_adx() {
    use xiangzhi_exchange::aggregate;
    let (store, scope) = demo().await;
    let records = xiangzhi::cli_indicator::export_records(&store, &scope, None, None)
        .await
        .unwrap();
    assert!(records.len() >= 5);
    let json = aggregate::write_dhis2(None, &records);
    assert_eq!(aggregate::read_dhis2(&json).unwrap(), records);
    let xml = aggregate::write_adx("XIANGZHI", "2026-11-29T00:00:00Z", &records).unwrap();
    // ADX groups values by unit and period: the same records, in group order.
    let key = |r: &aggregate::DataValueRecord| {
        (r.data_element.clone(), r.org_unit.clone(), r.period.clone())
    };
    let mut back = aggregate::read_adx(&xml).unwrap();
    let mut sorted = records.clone();
    back.sort_by_key(key);
    sorted.sort_by_key(key);
    assert_eq!(back, sorted);
    // Importing the export changes nothing.
    let (rows, bad) = xiangzhi::cli_indicator::import_rows(&aggregate::read_adx(&xml).unwrap());
    assert!(bad.is_empty());
    let actor = xiangzhi_store::Actor::system("test");
    let out = store
        .import_data_values(&actor, &rows, false)
        .await
        .unwrap();
    assert!(out.committed, "{:?}", out.issues);
    assert_eq!((out.new, out.updated), (0, 0));
    let by_code: BTreeMap<_, _> = records
        .iter()
        .map(|r| ((r.data_element.clone(), r.period.clone()), r.value.clone()))
        .collect();
    assert_eq!(
        by_code[&("FISCAL_REVENUE".to_string(), "2023".to_string())],
        "1200000000"
    );
}

/// Cash payouts around the leap day of 2024: a day compares with the same day a year earlier
/// (29 February with 28 February), February with February, and period-on-period (环比) with
/// the preceding period of the same type.
#[tokio::test]
async fn year_on_year_and_period_on_period_across_a_leap_day() {
    use chrono::NaiveDate;
    use xiangzhi_domain::money::Money;
    use xiangzhi_store::Actor;
    use xiangzhi_store::assistance::{NewPayout, PayoutKind};
    use xiangzhi_store::registry::HouseholdQuery;

    let (store, scope) = demo().await;
    let p = |s: &str| Period::parse(s).unwrap();
    let code = "TEMP_RELIEF_AMOUNT";
    let fen = |f: &xiangzhi_engine::Figure| f.value.unwrap_or(0.0);
    let periods = [
        "20230228", "20240228", "20240229", "20240301", "202302", "202402", "202403",
    ];
    let engine = Engine::load(store.as_ref(), &scope).await.unwrap();
    let mut before = BTreeMap::new();
    for period in periods {
        let f = engine.figure(code, TOUCHANG, &p(period)).await.unwrap();
        before.insert(period, fen(&f));
    }

    let touchang = DivisionCode::parse(TOUCHANG).unwrap();
    let household = store
        .household_search(
            &scope,
            &HouseholdQuery {
                org_code: Some(touchang),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .remove(0);
    let detail = store.household_detail(&scope, household.id).await.unwrap();
    let pay = |on: (i32, u32, u32), yuan: i64| NewPayout {
        kind: PayoutKind::Cash,
        program: "temporary_relief".into(),
        enrollment_id: None,
        household_id: Some(household.id),
        person_id: Some(detail.members[0].id),
        paid_on: NaiveDate::from_ymd_opt(on.0, on.1, on.2).unwrap(),
        amount: Money::from_yuan(yuan),
        item: None,
        quantity: None,
        note: "闰日测试".into(),
    };
    let system = Actor::system("test");
    for (on, yuan) in [
        ((2023, 2, 28), 300),
        ((2024, 2, 28), 200),
        ((2024, 2, 29), 500),
        ((2024, 3, 1), 100),
    ] {
        store.record_payout(&system, pay(on, yuan)).await.unwrap();
    }

    let engine = Engine::load(store.as_ref(), &scope).await.unwrap();
    let added = |f: &xiangzhi_engine::Figure| (fen(f) - before[f.period.as_str()]) / 100.0;

    let leap = engine.yoy(code, TOUCHANG, &p("20240229")).await.unwrap();
    assert_eq!(leap.previous.period, "20230228");
    assert_eq!(
        (added(&leap.current), added(&leap.previous)),
        (500.0, 300.0)
    );

    let feb = engine.yoy(code, TOUCHANG, &p("202402")).await.unwrap();
    assert_eq!(feb.previous.period, "202302");
    assert_eq!((added(&feb.current), added(&feb.previous)), (700.0, 300.0));

    let after_leap = engine.pop(code, TOUCHANG, &p("20240301")).await.unwrap();
    assert_eq!(after_leap.previous.period, "20240229");
    assert_eq!(
        (added(&after_leap.current), added(&after_leap.previous)),
        (100.0, 500.0)
    );
    let march = engine.pop(code, TOUCHANG, &p("202403")).await.unwrap();
    assert_eq!(march.previous.period, "202402");
    assert_eq!(
        (added(&march.current), added(&march.previous)),
        (100.0, 700.0)
    );
    // With nothing else paid on those days the rates are exact.
    if before["20240229"] == 0.0 && before["20230228"] == 0.0 {
        assert!((leap.rate.unwrap() - 200.0 / 300.0 * 100.0).abs() < 1e-9);
    }
    if before["20240301"] == 0.0 && before["20240229"] == 0.0 {
        assert!((after_leap.rate.unwrap() + 80.0).abs() < 1e-9);
    }
}

/// The server keeps what engines read between requests ([`FigureCache`]): a second request
/// is answered from it, a write is seen by the next request, and a village cadre's figures are
/// never served to the township or the other way round.
#[tokio::test]
async fn a_shared_figure_cache_serves_until_a_write_and_keeps_scopes_apart() {
    use xiangzhi_engine::FigureCache;
    use xiangzhi_store::indicator::DataValueInput;
    let (store, township) = demo().await;
    let touchang = DivisionCode::parse(TOUCHANG).unwrap();
    let cadre = Scope::new(store.org_unit(&Scope::all(), &touchang).await.unwrap().path);
    let cache = Arc::new(FigureCache::new());
    let revenue = |scope: Scope| {
        let (store, cache) = (store.clone(), cache.clone());
        async move {
            Engine::load_cached(store.as_ref(), &scope, &cache)
                .await
                .unwrap()
                .figure("FISCAL_REVENUE", TOWNSHIP, &y(2023))
                .await
                .unwrap()
                .value
        }
    };
    assert_eq!(revenue(township.clone()).await, Some(1_200_000_000.0));
    let filed = cache.rows();
    assert!(filed > 0, "the answer is kept");
    assert_eq!(revenue(township.clone()).await, Some(1_200_000_000.0));
    assert_eq!(
        cache.rows(),
        filed,
        "the second request is answered from the cache"
    );

    store
        .save_data_value(
            &xiangzhi_store::Actor::system("test"),
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
    assert_eq!(
        revenue(township.clone()).await,
        Some(1_250_000_000.0),
        "a write is seen by the next request"
    );

    // Township first, then the cadre, then the township again, through one cache: each gets
    // what a fresh engine of their own scope computes.
    for scope in [township.clone(), cadre.clone(), township.clone()] {
        for code in ["GRAIN_AREA", "MIN_LIVING_NEW_HOUSEHOLDS"] {
            let cached = Engine::load_cached(store.as_ref(), &scope, &cache)
                .await
                .unwrap()
                .figure(code, TOWNSHIP, &y(2023))
                .await
                .unwrap();
            let fresh = xiangzhi_engine::figure(store.as_ref(), &scope, code, TOWNSHIP, &y(2023))
                .await
                .unwrap();
            assert_eq!(cached, fresh, "{code} in {}", scope.path.as_str());
        }
    }
    let whole =
        xiangzhi_engine::figure(store.as_ref(), &township, "GRAIN_AREA", TOWNSHIP, &y(2023))
            .await
            .unwrap();
    let own = xiangzhi_engine::figure(store.as_ref(), &cadre, "GRAIN_AREA", TOWNSHIP, &y(2023))
        .await
        .unwrap();
    assert_ne!(
        whole.value, own.value,
        "the two scopes see different figures"
    );
}
