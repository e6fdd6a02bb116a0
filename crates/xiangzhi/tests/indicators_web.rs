//! Indicator pages over the demo: the dashboard with key figures, target progress, rankings
//! and SVG charts; the XLSX export; the records behind a figure within the viewer's scope; the
//! data-entry form with its approval lock.

mod common;

use common::*;

/// Saves a 2023 value of a data element for 连城乡, as its clerk would.
async fn save_township_value(app: &TestApp, element: &str, value: f64) {
    app.store
        .save_data_value(
            &xiangzhi_store::Actor::system("test"),
            xiangzhi_store::indicator::DataValueInput {
                element_code: element.into(),
                org_code: xiangzhi_domain::org::DivisionCode::parse("361002201").unwrap(),
                period: "2023".into(),
                value,
                comment: String::new(),
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn dashboard_shows_figures_targets_rankings_and_charts() {
    let app = spawn_app().await;
    let leader = app.login_as("leader", PASSWORD).await;
    let html = leader
        .page(&app, "/dashboard?org=361002201&year=2023")
        .await;
    assert!(html.contains("连城乡 2023年指标看板"), "{html}");
    assert!(html.contains("3.76万亩"), "grain area");
    assert!(html.contains("2.105万元"), "temporary relief");
    assert!(html.contains("+11.11%"), "fiscal revenue year-on-year");
    assert!(html.contains("<svg class=\"spark\""), "sparklines");
    assert!(html.contains("头昌村委会"), "village rankings");
    assert!(html.contains("头昌村达50万元"), "the village target");
    // The template engine writes `&` in attributes as `&#38;`.
    assert!(html.contains("/indicators/GRAIN_AREA/records?org=361002201&#38;period=2023"));

    let page = leader
        .page(
            &app,
            "/indicators/COLLECTIVE_INCOME?org=361002201&period=2023",
        )
        .await;
    assert!(
        page.contains("<svg class=\"chart\""),
        "trend and ranking charts"
    );
    assert!(page.contains("id=\"ranking\""));

    let res = leader
        .client
        .get(app.url("/dashboard.xlsx?org=361002201&year=2023"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "an XLSX (zip) file");
    let sheet = xiangzhi_exchange::read_table(
        &bytes,
        "dashboard.xlsx",
        &xiangzhi_exchange::Limits::default(),
    )
    .unwrap();
    let grain: Vec<String> = sheet
        .rows
        .iter()
        .filter(|r| r.get(0).display() == "GRAIN_AREA")
        .map(|r| r.get(3).display())
        .collect();
    assert_eq!(grain, ["3.76"]);
}

#[tokio::test]
async fn a_cadre_following_a_township_figure_sees_only_their_village() {
    let app = spawn_app().await;
    let leader = app.login_as("leader", PASSWORD).await;
    let cadre = app.login_as("cadre", PASSWORD).await;
    let url = "/indicators/MIN_LIVING_NEW_HOUSEHOLDS/records?org=361002201&period=2023";
    let all = leader.page(&app, url).await;
    assert!(
        all.contains(SHETOU_NAME) || all.matches("<tr>").count() > 3,
        "{all}"
    );
    let res = cadre.client.get(app.url(url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let own = res.text().await.unwrap();
    assert!(own.contains("只列出您管辖范围内的记录"), "{own}");
    assert!(!own.contains(SHETOU_NAME));
    for name in ["舍头村委会", "连城村委会"] {
        assert!(!own.contains(name), "{name} must not show");
    }
    // Another township's figure is not found for the cadre.
    let res = cadre
        .client
        .get(app.url("/indicators/MIN_LIVING_NEW_HOUSEHOLDS/records?org=361002202&period=2023"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn entered_data_locks_once_the_township_approves() {
    let app = spawn_app().await;
    let clerk = app.login_as("clerk", PASSWORD).await;
    // 财税收入 is entered by the township for itself; the county approves it.
    let form = clerk.page(&app, "/data?org=361002201&period=2024").await;
    assert!(form.contains("name=\"v_FISCAL_REVENUE\""), "{form}");
    let res = clerk
        .client
        .post(app.url("/data"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("org", "361002201"),
            ("period", "2024"),
            ("v_FISCAL_REVENUE", "1300000000"),
            ("v_TASK_FORCES", "abc"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a bad number refuses the whole form");
    assert!(res.text().await.unwrap().contains("不是数字"));
    let res = clerk
        .client
        .post(app.url("/data"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("org", "361002201"),
            ("period", "2024"),
            ("v_FISCAL_REVENUE", "1300000000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let v = app
        .store
        .data_values(
            &xiangzhi_store::Scope::all(),
            &xiangzhi_store::indicator::DataValueQuery {
                element: Some("FISCAL_REVENUE".into()),
                period_prefix: Some("2024".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].value, 1_300_000_000.0);

    // 头昌村's cadre submits the village's 2024 figures; the clerk approves; locked.
    let cadre = app.login_as("cadre", PASSWORD).await;
    let res = cadre
        .client
        .post(app.url("/data/approval"))
        .form(&[
            ("csrf", cadre.csrf.as_str()),
            ("org", TOUCHANG),
            ("period", "2024"),
            ("action", "submit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = cadre
        .client
        .post(app.url("/data/approval"))
        .form(&[
            ("csrf", cadre.csrf.as_str()),
            ("org", TOUCHANG),
            ("period", "2024"),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "a village cannot approve itself");
    let res = clerk
        .client
        .post(app.url("/data/approval"))
        .form(&[
            ("csrf", clerk.csrf.as_str()),
            ("org", TOUCHANG),
            ("period", "2024"),
            ("action", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = cadre
        .page(&app, &format!("/data?org={TOUCHANG}&period=2024"))
        .await;
    assert!(page.contains("已审核"), "{page}");
}

#[tokio::test]
async fn quality_page_lists_violations_with_links() {
    let app = spawn_app().await;
    let leader = app.login_as("leader", PASSWORD).await;
    let before = leader
        .page(&app, "/data/quality?org=361002201&year=2023")
        .await;
    // The page's own explanation names the rule; a violation reads "数值 … 超出合理范围（…）".
    assert!(!before.contains("超出合理范围（"), "{before}");
    // A coverage over 100% is accepted (the clerk may be right) but flagged.
    save_township_value(&app, "FOREST_COVERAGE", 156.2).await;
    let after = leader
        .page(&app, "/data/quality?org=361002201&year=2023")
        .await;
    assert!(
        after.contains("数值 156.2 超出合理范围（0 ~ 100）"),
        "{after}"
    );
    assert!(
        after.contains("href=\"/data?org=361002201&#38;period=2023\""),
        "{after}"
    );
}

/// Dashboards are kept between requests until the next write: the second request is the
/// same page, a saved value shows on the next one, and a village cadre's dashboard is never
/// the township's.
#[tokio::test]
async fn a_kept_dashboard_follows_every_write_and_every_scope() {
    let app = spawn_app().await;
    let leader = app.login_as("leader", PASSWORD).await;
    let url = "/dashboard?org=361002201&year=2023";
    let first = leader.page(&app, url).await;
    assert!(first.contains("1200万元"), "fiscal revenue as seeded");
    assert_eq!(leader.page(&app, url).await, first);
    save_township_value(&app, "FISCAL_REVENUE", 1_250_000_000.0).await;
    let after = leader.page(&app, url).await;
    assert!(after.contains("1250万元"), "the saved value is shown");
    assert!(!after.contains("1200万元"));

    // A village cadre asking for the township's dashboard gets their village's part (or
    // nothing), never the township's kept page.
    let cadre = app.login_as("cadre", PASSWORD).await;
    let res = cadre.client.get(app.url(url)).send().await.unwrap();
    if res.status() == 200 {
        let theirs = res.text().await.unwrap();
        assert!(
            !theirs.contains("1250万元"),
            "a township figure leaked to a village"
        );
        assert!(
            !theirs.contains("舍头村委会"),
            "another village's ranking leaked"
        );
    } else {
        assert_eq!(res.status(), 404);
    }
    assert!(leader.page(&app, url).await.contains("1250万元"));
}
