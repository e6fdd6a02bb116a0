//! Report stories for the conformance suite, run on every backend by
//! [`report_conformance_tests!`].

use xiangzhi_domain::org::DivisionCode;
use xiangzhi_domain::role::Role;

use crate::conformance::{TestStore, actor_at, seeded};
use crate::error::StoreError;
use crate::model::*;
use crate::report::*;

const TOUCHANG: &str = "361002201211";
const SHETOU: &str = "361002201208";
const TOWNSHIP: &str = "361002201";
const OTHER_TOWNSHIP: &str = "361002100";

fn code(s: &str) -> DivisionCode {
    DivisionCode::parse(s).unwrap()
}

async fn audit_rows(store: &TestStore) -> u64 {
    store.audit_verify().await.unwrap().rows
}

pub async fn report_templates_keep_every_version(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let before = audit_rows(&store).await;

    let (t, outcome) = store
        .save_report_template(&clerk, "annual", "年度总结", "标题：{年}年总结\n正文")
        .await
        .unwrap();
    assert_eq!((t.version, outcome), (1, SaveOutcome::Created));
    let (_, outcome) = store
        .save_report_template(&clerk, "annual", "年度总结", "标题：{年}年总结\n正文")
        .await
        .unwrap();
    assert_eq!(outcome, SaveOutcome::Unchanged);
    let (t, outcome) = store
        .save_report_template(&clerk, "annual", "年度工作总结", "标题：{年}年总结\n新正文")
        .await
        .unwrap();
    assert_eq!((t.version, outcome), (2, SaveOutcome::NewVersion));
    assert_eq!(audit_rows(&store).await, before + 2);

    let current = store
        .report_template(&clerk.scope, "annual", None)
        .await
        .unwrap();
    assert_eq!(
        (current.version, current.name.as_str()),
        (2, "年度工作总结")
    );
    let first = store
        .report_template(&cadre.scope, "annual", Some(1))
        .await
        .unwrap();
    assert_eq!(first.body, "标题：{年}年总结\n正文");
    assert_eq!(first.current_version, 2);
    let versions = store
        .report_template_versions(&clerk.scope, "annual")
        .await
        .unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        [2, 1]
    );
    assert_eq!(versions[0].created_by, clerk.username);
    assert_eq!(store.report_templates(&cadre.scope).await.unwrap().len(), 1);
    assert!(matches!(
        store.report_template(&clerk.scope, "annual", Some(9)).await,
        Err(StoreError::NotFound)
    ));

    // A village cadre may read but not change templates; bad input changes nothing.
    assert!(matches!(
        store
            .save_report_template(&cadre, "annual", "x", "标题：x")
            .await,
        Err(StoreError::Forbidden(_))
    ));
    for (c, n, b) in [
        ("Annual 2", "x", "标题：x"),
        ("annual", " ", "标题：x"),
        ("annual", "x", "  "),
    ] {
        assert!(matches!(
            store.save_report_template(&clerk, c, n, b).await,
            Err(StoreError::Invalid(_))
        ));
    }
    assert_eq!(
        store
            .report_template(&clerk.scope, "annual", None)
            .await
            .unwrap()
            .version,
        2
    );
    assert_eq!(audit_rows(&store).await, before + 2);
}

pub async fn report_templates_belong_to_their_unit(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let other = actor_at(&store, OTHER_TOWNSHIP, Role::TownshipClerk).await;
    let county = actor_at(&store, "361002", Role::Admin).await;
    store
        .save_report_template(&clerk, "lianchen", "连城乡简报", "标题：简报")
        .await
        .unwrap();
    store
        .save_report_template(
            &Actor::system("builtin"),
            "annual",
            "年度总结",
            "标题：总结",
        )
        .await
        .unwrap();

    // Another township neither sees nor changes it; the county above sees it.
    assert!(matches!(
        store.report_template(&other.scope, "lianchen", None).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .report_template_versions(&other.scope, "lianchen")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .save_report_template(&other, "lianchen", "改", "标题：改")
            .await,
        Err(StoreError::NotFound)
    ));
    let codes = |v: Vec<ReportTemplate>| v.into_iter().map(|t| t.code).collect::<Vec<_>>();
    assert_eq!(
        codes(store.report_templates(&other.scope).await.unwrap()),
        ["annual"]
    );
    assert_eq!(
        codes(store.report_templates(&county.scope).await.unwrap()),
        ["annual", "lianchen"]
    );
    // A built-in template is everyone's, changed only from the top: a township saves a copy.
    assert!(matches!(
        store
            .save_report_template(&clerk, "annual", "年度总结", "标题：改")
            .await,
        Err(StoreError::Forbidden(_))
    ));
    let (copy, _) = store
        .save_report_template(&clerk, "annual_lianchen", "年度总结", "标题：改")
        .await
        .unwrap();
    assert_eq!(copy.org_path, clerk.scope.path);
}

pub async fn finalised_reports_are_scoped(store: TestStore) {
    seeded(&store).await;
    let clerk = actor_at(&store, TOWNSHIP, Role::TownshipClerk).await;
    let (t, _) = store
        .save_report_template(&clerk, "village_profile", "村情", "标题：村情")
        .await
        .unwrap();
    let hash = "ab".repeat(32);
    let new = |org: &str| NewReportFinal {
        template_code: t.code.clone(),
        template_version: t.version,
        org: code(org),
        period: "2023".into(),
        content_hash: hash.clone(),
        frozen: r#"{"figures":[]}"#.into(),
    };
    let touchang = store.finalise_report(&clerk, new(TOUCHANG)).await.unwrap();
    let shetou = store.finalise_report(&clerk, new(SHETOU)).await.unwrap();
    assert_eq!(touchang.content_hash, hash);
    assert_eq!(touchang.finalised_by, clerk.username);

    let cadre = actor_at(&store, TOUCHANG, Role::VillageCadre).await;
    let seen = store
        .report_finals(&cadre.scope, None, None, None)
        .await
        .unwrap();
    assert_eq!(seen.iter().map(|f| f.id).collect::<Vec<_>>(), [touchang.id]);
    assert!(matches!(
        store.report_final(&cadre.scope, shetou.id).await,
        Err(StoreError::NotFound)
    ));
    let got = store.report_final(&cadre.scope, touchang.id).await.unwrap();
    assert_eq!(got, touchang);
    let all = store
        .report_finals(
            &clerk.scope,
            Some("village_profile"),
            Some(&code(SHETOU)),
            Some("2023"),
        )
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, shetou.id);

    // Outside the scope is "not found"; inside, a cadre may not finalise; bad input is refused.
    assert!(matches!(
        store.finalise_report(&cadre, new(SHETOU)).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.finalise_report(&cadre, new(TOUCHANG)).await,
        Err(StoreError::Forbidden(_))
    ));
    let mut bad = new(TOUCHANG);
    bad.content_hash = "xyz".into();
    assert!(matches!(
        store.finalise_report(&clerk, bad).await,
        Err(StoreError::Invalid(_))
    ));
    let mut bad = new(TOUCHANG);
    bad.template_version = 7;
    assert!(matches!(
        store.finalise_report(&clerk, bad).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        store
            .report_finals(&Scope::all(), None, None, None)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(store.audit_verify().await.unwrap().first_break.is_none());
}

#[macro_export]
macro_rules! report_conformance_tests {
    ($make:expr) => {
        $crate::report_conformance_tests!(@each $make;
            report_templates_keep_every_version,
            report_templates_belong_to_their_unit,
            finalised_reports_are_scoped
        );
    };
    (@each $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let Some(store) = $make.await else { return };
                $crate::conformance_report::$name(store).await;
            }
        )*
    };
}
